/* The event loop: timers in deadline order, descriptor callbacks, changes
 * from inside callbacks, run_until's predicate and deadline, and no busy
 * waiting (poll() is called a handful of times, not thousands). */
#include "config.h"

#include "tests/unit.h"

#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "base/loop.h"

struct rec {
	char order[16];
	size_t n;
	struct loop_timer *victim;
	int fired;
};

static void rec_timer(struct loop_timer *t, void *ud)
{
	struct rec *r = ud;

	(void)t;
	r->fired++;
}

static char tag_of(struct loop_timer *t, struct loop_timer **ts)
{
	for (int i = 0; i < 3; i++)
		if (ts[i] == t)
			return (char)('a' + i);
	return '?';
}

static struct loop_timer *order_ts[3];

static void order_timer(struct loop_timer *t, void *ud)
{
	struct rec *r = ud;

	r->order[r->n++] = tag_of(t, order_ts);
}

static bool rec_done3(void *ud)
{
	return ((struct rec *)ud)->n == 3;
}

static void test_timer_order(void **state)
{
	struct loop *l = loop_new();
	struct rec r = { .n = 0 };

	(void)state;
	for (int i = 0; i < 3; i++)
		order_ts[i] = loop_timer_add(l, order_timer, &r);
	loop_timer_arm_in(order_ts[0], 30);
	loop_timer_arm_in(order_ts[1], 10);
	loop_timer_arm_in(order_ts[2], 20);
	assert_int_equal(loop_run_until(l, rec_done3, &r, loop_now() + 2000),
			 WIZ_ERR_OK);
	assert_memory_equal(r.order, "bca", 3);
	loop_free(l);
}

static void killer_timer(struct loop_timer *t, void *ud)
{
	struct rec *r = ud;

	(void)t;
	loop_timer_del(r->victim);
	r->victim = NULL;
}

static void test_delete_inside_callback(void **state)
{
	struct loop *l = loop_new();
	struct rec r = { .fired = 0 };
	struct loop_timer *killer = loop_timer_add(l, killer_timer, &r);

	(void)state;
	r.victim = loop_timer_add(l, rec_timer, &r);
	loop_timer_arm_in(killer, 5);
	loop_timer_arm_in(r.victim, 5);
	usleep(20000);
	/* Both are due in the same round; the first deletes the second. */
	assert_int_equal(loop_run_once(l, 0), WIZ_ERR_OK);
	assert_int_equal(r.fired, 0);
	loop_timer_del(killer);
	loop_free(l);
}

struct io_rec {
	int reads;
	short revents;
	char buf[16];
};

static void io_cb(struct loop_io *io, int fd, short revents, void *ud)
{
	struct io_rec *r = ud;
	ssize_t n = read(fd, r->buf, sizeof r->buf - 1);

	(void)io;
	r->revents = revents;
	if (n > 0) {
		r->buf[n] = '\0';
		r->reads++;
	}
}

static bool io_read_once(void *ud)
{
	return ((struct io_rec *)ud)->reads > 0;
}

static void test_io_readable(void **state)
{
	struct loop *l = loop_new();
	struct io_rec r = { 0 };
	int p[2];
	struct loop_io *io;

	(void)state;
	assert_int_equal(pipe(p), 0);
	io = loop_io_add(l, p[0], POLLIN, io_cb, &r);
	/* nothing to read: times out */
	assert_int_equal(loop_run_until(l, io_read_once, &r, loop_now() + 50),
			 WIZ_ERR_TIMEOUT);
	assert_int_equal(write(p[1], "hello", 5), 5);
	assert_int_equal(loop_run_until(l, io_read_once, &r, loop_now() + 2000),
			 WIZ_ERR_OK);
	assert_string_equal(r.buf, "hello");
	assert_true(r.revents & POLLIN);
	/* interest 0: not polled even though readable */
	assert_int_equal(write(p[1], "x", 1), 1);
	loop_io_set_events(io, 0);
	r.reads = 0;
	assert_int_equal(loop_run_until(l, io_read_once, &r, loop_now() + 50),
			 WIZ_ERR_TIMEOUT);
	assert_int_equal(r.reads, 0);
	loop_io_del(io);
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

static bool never(void *ud)
{
	(void)ud;
	return false;
}

static void test_no_busy_wait(void **state)
{
	struct loop *l = loop_new();
	struct rec r = { .fired = 0 };
	struct loop_timer *t = loop_timer_add(l, rec_timer, &r);
	struct loop_stats st;
	uint64_t t0 = loop_now();

	(void)state;
	loop_timer_arm_in(t, 100);
	assert_int_equal(loop_run_until(l, never, NULL, t0 + 250),
			 WIZ_ERR_TIMEOUT);
	loop_get_stats(l, &st);
	assert_int_equal(r.fired, 1);
	assert_true(loop_now() - t0 >= 250);
	assert_true(loop_now() - t0 < 1000);
	/* one wait to the timer, one to the deadline (+ rounding) */
	assert_true(st.iterations <= 6);
	loop_free(l);
}

static void test_nothing_to_wait_for(void **state)
{
	struct loop *l = loop_new();

	(void)state;
	assert_int_equal(loop_run_once(l, -1), WIZ_ERR_AGAIN);
	assert_int_equal(loop_run_until(l, never, NULL, 0), WIZ_ERR_AGAIN);
	loop_free(l);
}

static void rearm_zero(struct loop_timer *t, void *ud)
{
	struct rec *r = ud;

	r->fired++;
	loop_timer_arm_in(t, 0);
}

/* A timer re-arming itself for "now" runs once per round and does not
 * starve descriptors. */
static void test_zero_timer_fair(void **state)
{
	struct loop *l = loop_new();
	struct rec r = { .fired = 0 };
	struct io_rec ir = { 0 };
	struct loop_timer *t = loop_timer_add(l, rearm_zero, &r);
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	loop_io_add(l, p[0], POLLIN, io_cb, &ir);
	assert_int_equal(write(p[1], "y", 1), 1);
	loop_timer_arm_in(t, 0);
	assert_int_equal(loop_run_once(l, 1000), WIZ_ERR_OK);
	assert_int_equal(r.fired, 1);
	assert_int_equal(ir.reads, 1);
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

WIZ_UNIT_TESTS(cmocka_unit_test(test_timer_order),
	       cmocka_unit_test(test_delete_inside_callback),
	       cmocka_unit_test(test_io_readable),
	       cmocka_unit_test(test_no_busy_wait),
	       cmocka_unit_test(test_nothing_to_wait_for),
	       cmocka_unit_test(test_zero_timer_fair))
