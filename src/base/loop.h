/* The one event loop: a single poll() over every registered descriptor
 * (SSH sockets, the tty, pipes) plus monotonic one-shot timers. The CLI, the
 * install engine and the ncurses UI all run on it; nothing else blocks and
 * nothing spins on EAGAIN: a state machine that would block sets its poll
 * interest and returns to the loop. No threads. */
#ifndef WIZ_LOOP_H
#define WIZ_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

struct loop;
struct loop_io;
struct loop_timer;

/* revents are poll() bits (POLLIN, POLLOUT, POLLERR, POLLHUP, POLLNVAL). */
typedef void (*loop_io_fn)(struct loop_io *io, int fd, short revents,
			   void *ud);
typedef void (*loop_timer_fn)(struct loop_timer *t, void *ud);
typedef bool (*loop_pred_fn)(void *ud);

struct loop_stats {
	uint64_t iterations;	/* poll() calls */
	uint64_t io_calls;	/* descriptor callbacks run */
	uint64_t timer_calls;	/* timer callbacks run */
};

struct loop *loop_new(void);
/* Frees every watch and timer still registered. */
void loop_free(struct loop *l);

/* Milliseconds on CLOCK_MONOTONIC (the same clock for every loop). */
uint64_t loop_now(void);

/* Watch fd for `events` (POLLIN|POLLOUT; 0 = registered but not polled).
 * Callbacks may add, change or delete any watch or timer, including their
 * own; deleted ones are freed after the current dispatch. */
struct loop_io *loop_io_add(struct loop *l, int fd, short events,
			    loop_io_fn fn, void *ud);
void loop_io_set_events(struct loop_io *io, short events);
short loop_io_events(const struct loop_io *io);
void loop_io_del(struct loop_io *io);

/* Timers are created disarmed and fire once per arming. */
struct loop_timer *loop_timer_add(struct loop *l, loop_timer_fn fn, void *ud);
void loop_timer_arm_at(struct loop_timer *t, uint64_t deadline_ms);
void loop_timer_arm_in(struct loop_timer *t, uint64_t delay_ms);
void loop_timer_disarm(struct loop_timer *t);
bool loop_timer_armed(const struct loop_timer *t);
void loop_timer_del(struct loop_timer *t);

/* Wait at most max_wait_ms (-1: until something happens) for descriptors
 * or timers, then run the callbacks that are due. Returns OK (also on EINTR),
 * or IO when poll() fails; with nothing to wait for and max_wait_ms -1 it
 * returns AGAIN instead of sleeping forever. */
enum wiz_err loop_run_once(struct loop *l, int max_wait_ms);

/* Run until pred(ud) is true (checked before every wait) or until the
 * absolute deadline (loop_now() time base; 0 = none). Returns OK, TIMEOUT,
 * AGAIN (nothing left that could make pred true) or IO. */
enum wiz_err loop_run_until(struct loop *l, loop_pred_fn pred, void *ud,
			    uint64_t deadline_ms);

void loop_get_stats(const struct loop *l, struct loop_stats *out);

#endif
