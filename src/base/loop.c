#include "config.h"

#include "base/loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/xmalloc.h"

struct loop_io {
	struct loop *loop;
	int fd;
	short events;
	bool dead;
	loop_io_fn fn;
	void *ud;
};

struct loop_timer {
	struct loop *loop;
	uint64_t deadline;
	bool armed;
	bool dead;
	loop_timer_fn fn;
	void *ud;
};

struct loop {
	struct loop_io **ios;
	size_t n_ios, cap_ios;
	struct loop_timer **timers;
	size_t n_timers, cap_timers;
	struct pollfd *pfds;
	struct loop_io **pfd_io;
	size_t cap_pfds;
	unsigned dispatching;	/* >0 while callbacks run: defer frees */
	bool garbage;
	struct loop_stats stats;
};

uint64_t loop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct loop *loop_new(void)
{
	return xcalloc(1, sizeof(struct loop));
}

void loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n_ios; i++)
		free(l->ios[i]);
	for (size_t i = 0; i < l->n_timers; i++)
		free(l->timers[i]);
	free(l->ios);
	free(l->timers);
	free(l->pfds);
	free(l->pfd_io);
	free(l);
}

/* Drop the watches and timers deleted during a dispatch. */
static void loop_collect(struct loop *l)
{
	size_t j = 0;

	if (!l->garbage || l->dispatching > 0)
		return;
	for (size_t i = 0; i < l->n_ios; i++) {
		if (l->ios[i]->dead)
			free(l->ios[i]);
		else
			l->ios[j++] = l->ios[i];
	}
	l->n_ios = j;
	j = 0;
	for (size_t i = 0; i < l->n_timers; i++) {
		if (l->timers[i]->dead)
			free(l->timers[i]);
		else
			l->timers[j++] = l->timers[i];
	}
	l->n_timers = j;
	l->garbage = false;
}

struct loop_io *loop_io_add(struct loop *l, int fd, short events,
			    loop_io_fn fn, void *ud)
{
	struct loop_io *io = xcalloc(1, sizeof *io);

	io->loop = l;
	io->fd = fd;
	io->events = events;
	io->fn = fn;
	io->ud = ud;
	if (l->n_ios == l->cap_ios) {
		l->cap_ios = l->cap_ios ? 2 * l->cap_ios : 8;
		l->ios = xreallocarray(l->ios, l->cap_ios, sizeof(void *));
	}
	l->ios[l->n_ios++] = io;
	return io;
}

void loop_io_set_events(struct loop_io *io, short events)
{
	io->events = events;
}

short loop_io_events(const struct loop_io *io)
{
	return io->events;
}

void loop_io_del(struct loop_io *io)
{
	if (io == NULL)
		return;
	io->dead = true;
	io->events = 0;
	io->loop->garbage = true;
	loop_collect(io->loop);
}

struct loop_timer *loop_timer_add(struct loop *l, loop_timer_fn fn, void *ud)
{
	struct loop_timer *t = xcalloc(1, sizeof *t);

	t->loop = l;
	t->fn = fn;
	t->ud = ud;
	if (l->n_timers == l->cap_timers) {
		l->cap_timers = l->cap_timers ? 2 * l->cap_timers : 8;
		l->timers = xreallocarray(l->timers, l->cap_timers,
					  sizeof(void *));
	}
	l->timers[l->n_timers++] = t;
	return t;
}

void loop_timer_arm_at(struct loop_timer *t, uint64_t deadline_ms)
{
	t->deadline = deadline_ms;
	t->armed = true;
}

void loop_timer_arm_in(struct loop_timer *t, uint64_t delay_ms)
{
	loop_timer_arm_at(t, loop_now() + delay_ms);
}

void loop_timer_disarm(struct loop_timer *t)
{
	t->armed = false;
}

bool loop_timer_armed(const struct loop_timer *t)
{
	return t->armed && !t->dead;
}

void loop_timer_del(struct loop_timer *t)
{
	if (t == NULL)
		return;
	t->dead = true;
	t->armed = false;
	t->loop->garbage = true;
	loop_collect(t->loop);
}

static bool loop_next_deadline(const struct loop *l, uint64_t *when)
{
	bool any = false;

	for (size_t i = 0; i < l->n_timers; i++) {
		const struct loop_timer *t = l->timers[i];

		if (!t->armed || t->dead)
			continue;
		if (!any || t->deadline < *when)
			*when = t->deadline;
		any = true;
	}
	return any;
}

enum wiz_err loop_run_once(struct loop *l, int max_wait_ms)
{
	struct loop_timer **due = NULL;
	size_t n_due = 0, n_pfds = 0;
	uint64_t now, when;
	int timeout = max_wait_ms, rc;
	enum wiz_err ret = WIZ_ERR_OK;

	if (l->cap_pfds < l->n_ios) {
		l->cap_pfds = l->n_ios;
		l->pfds = xreallocarray(l->pfds, l->cap_pfds, sizeof *l->pfds);
		l->pfd_io = xreallocarray(l->pfd_io, l->cap_pfds,
					  sizeof(void *));
	}
	for (size_t i = 0; i < l->n_ios; i++) {
		struct loop_io *io = l->ios[i];

		if (io->dead || io->events == 0 || io->fd < 0)
			continue;
		l->pfds[n_pfds].fd = io->fd;
		l->pfds[n_pfds].events = io->events;
		l->pfds[n_pfds].revents = 0;
		l->pfd_io[n_pfds++] = io;
	}
	now = loop_now();
	if (loop_next_deadline(l, &when)) {
		uint64_t delta = when > now ? when - now : 0;

		if (timeout < 0 || delta < (uint64_t)timeout)
			timeout = delta > INT32_MAX ? INT32_MAX : (int)delta;
	} else if (n_pfds == 0 && timeout < 0) {
		return WIZ_ERR_AGAIN;
	}

	l->stats.iterations++;
	rc = poll(l->pfds, n_pfds, timeout);
	if (rc < 0) {
		if (errno == EINTR)
			return WIZ_ERR_OK;
		log_error("loop", "poll: %s", strerror(errno));
		return WIZ_ERR_IO;
	}

	l->dispatching++;
	for (size_t i = 0; rc > 0 && i < n_pfds; i++) {
		struct loop_io *io = l->pfd_io[i];
		short rev = l->pfds[i].revents;

		if (rev == 0)
			continue;
		rc--;
		/* Skip watches deleted or made idle by an earlier callback. */
		if (io->dead || io->events == 0)
			continue;
		l->stats.io_calls++;
		io->fn(io, io->fd, rev, io->ud);
	}

	now = loop_now();
	for (size_t i = 0; i < l->n_timers; i++) {
		struct loop_timer *t = l->timers[i];

		if (t->armed && !t->dead && t->deadline <= now) {
			if (n_due % 8 == 0)
				due = xreallocarray(due, n_due + 8, sizeof(void *));
			due[n_due++] = t;
		}
	}
	/* Timers armed by these callbacks wait for the next round, so a timer
	 * re-arming itself for "now" cannot starve the descriptors. */
	for (size_t i = 0; i < n_due; i++) {
		struct loop_timer *t = due[i];

		/* An earlier timer callback may have disarmed or re-armed it. */
		if (!t->armed || t->dead || t->deadline > now)
			continue;
		t->armed = false;
		l->stats.timer_calls++;
		t->fn(t, t->ud);
	}
	free(due);
	l->dispatching--;
	loop_collect(l);
	return ret;
}

enum wiz_err loop_run_until(struct loop *l, loop_pred_fn pred, void *ud,
			    uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now;
		int wait = -1;
		enum wiz_err rc;

		if (pred != NULL && pred(ud))
			return WIZ_ERR_OK;
		now = loop_now();
		if (deadline_ms != 0) {
			if (now >= deadline_ms)
				return WIZ_ERR_TIMEOUT;
			wait = deadline_ms - now > INT32_MAX
				       ? INT32_MAX
				       : (int)(deadline_ms - now);
		}
		rc = loop_run_once(l, wait);
		if (rc != WIZ_ERR_OK)
			return rc;
	}
}

void loop_get_stats(const struct loop *l, struct loop_stats *out)
{
	*out = l->stats;
}
