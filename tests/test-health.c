/* The health core of issue #7: etcd's JSON and /metrics readers on bodies
 * captured from etcd 3.4.23 (tests/fixtures/etcd/README), histogram
 * quantiles against hand-computed values, the quorum badge, the one-leader
 * check, the alerts and the JSON snapshot. */
#include "config.h"

#include "tests/unit.h"

#include <math.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/xmalloc.h"
#include "etcd/etcd-json.h"
#include "health/etcd-metrics.h"
#include "health/health.h"
#include "health/status-format.h"
#include "pki/pki.h"
#include "ssh/secret-cache.h"

#include <locale.h>
#include <stdio.h>
#include <time.h>

static char *fixture_text(const char *rel, size_t *len)
{
	char *data = NULL;
	struct wiz_error err;

	if (wiz_read_file(unit_fixture(rel), 1 << 22, &data, len, &err) != WIZ_ERR_OK)
		fail_msg("%s", err.msg);
	return data;
}

#define CLOSE(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* ---- JSON ------------------------------------------------------------------ */

static void test_status(void **state)
{
	struct etcd_status s;
	struct wiz_error err;
	size_t len;
	char *t = fixture_text("etcd/status-3.4.json", &len);

	(void)state;
	assert_int_equal(etcd_json_parse_status(t, len, &s, &err), WIZ_ERR_OK);
	assert_true(s.header.member_id == 8258189955957733330ULL);
	assert_true(s.header.cluster_id == 8394150984282092903ULL);
	assert_true(s.header.revision == 11);
	assert_true(s.leader == s.header.member_id);
	assert_true(s.raft_term == 2);
	assert_true(s.raft_index == 16);
	assert_true(s.raft_applied_index == 16);
	assert_true(s.db_size == 20480);
	assert_true(s.db_size_in_use == 16384);
	assert_string_equal(s.version, "3.4.23");
	assert_false(s.is_learner);	/* omitted when false */
	assert_int_equal(s.errors.n, 0);
	etcd_status_free(&s);
	free(t);

	t = fixture_text("etcd/status-nospace-3.4.json", &len);
	assert_int_equal(etcd_json_parse_status(t, len, &s, &err), WIZ_ERR_OK);
	assert_int_equal(s.errors.n, 1);
	assert_string_equal(s.errors.items[0], "memberID:8258189955957733330 alarm:NOSPACE ");
	etcd_status_free(&s);
	free(t);

	/* a 3.6-style answer: unknown fields skipped, isLearner true, no leader */
	{
		const char *j = "{\"header\":{\"member_id\":\"42\"},\"version\":\"3.6.0\","
				"\"storageVersion\":\"3.6.0\",\"dbSizeQuota\":\"2147483648\","
				"\"downgradeInfo\":{\"enabled\":false},\"isLearner\":true,"
				"\"raftTerm\":\"18446744073709551615\"}";

		assert_int_equal(etcd_json_parse_status(j, strlen(j), &s, &err), WIZ_ERR_OK);
		assert_true(s.is_learner);
		assert_true(s.leader == 0);
		assert_true(s.header.member_id == 42);
		assert_true(s.raft_term == UINT64_MAX);
		etcd_status_free(&s);
	}
	/* errors name the field */
	{
		const char *j = "{\"dbSize\":\"-5\"}";

		assert_int_equal(etcd_json_parse_status(j, strlen(j), &s, &err), WIZ_ERR_PARSE);
		assert_non_null(strstr(err.msg, "dbSize"));
		etcd_status_free(&s);
		j = "{\"dbSize\":\"18446744073709551616\"}";	/* 2^64 */
		assert_int_equal(etcd_json_parse_status(j, strlen(j), &s, &err), WIZ_ERR_PARSE);
		etcd_status_free(&s);
		j = "{\"header\":[1]}";
		assert_int_equal(etcd_json_parse_status(j, strlen(j), &s, &err), WIZ_ERR_PARSE);
		etcd_status_free(&s);
		j = "[1,2]";
		assert_int_equal(etcd_json_parse_status(j, strlen(j), &s, &err), WIZ_ERR_PARSE);
		etcd_status_free(&s);
		j = "{\"version\": \"3.4";
		assert_int_equal(etcd_json_parse_status(j, strlen(j), &s, &err), WIZ_ERR_PARSE);
		assert_non_null(strstr(err.msg, "malformed JSON"));
		etcd_status_free(&s);
	}
}

static void test_v3beta_same_shape(void **state)
{
	struct etcd_status s;
	struct wiz_error err;
	size_t len;
	char *t = fixture_text("etcd/status-3.4-v3beta.json", &len);

	(void)state;
	assert_int_equal(etcd_json_parse_status(t, len, &s, &err), WIZ_ERR_OK);
	assert_true(s.raft_index == 17);
	etcd_status_free(&s);
	free(t);
}

static void test_member_list(void **state)
{
	struct etcd_member_list l;
	struct wiz_error err;
	size_t len;
	char *t = fixture_text("etcd/member-list-3.json", &len);

	(void)state;
	assert_int_equal(etcd_json_parse_member_list(t, len, &l, &err), WIZ_ERR_OK);
	assert_int_equal(l.n_members, 3);
	assert_true(l.header.member_id == 13203046883121268189ULL);
	assert_true(l.members[0].id == 612357073174640431ULL);
	assert_string_equal(l.members[0].name, "m3");
	assert_string_equal(l.members[1].name, "m1");
	assert_int_equal(l.members[2].peer_urls.n, 1);
	assert_string_equal(l.members[2].peer_urls.items[0], "http://127.0.0.1:38309");
	assert_string_equal(l.members[2].client_urls.items[0], "http://127.0.0.1:34055");
	assert_false(l.members[2].is_learner);
	etcd_member_list_free(&l);
	free(t);

	/* an unstarted learner: no name, no client URLs */
	{
		const char *j = "{\"members\":[{\"ID\":\"7\",\"peerURLs\":[\"https://10.0.0.4:2380\"],"
				"\"isLearner\":true}]}";

		assert_int_equal(etcd_json_parse_member_list(j, strlen(j), &l, &err), WIZ_ERR_OK);
		assert_int_equal(l.n_members, 1);
		assert_string_equal(l.members[0].name, "");
		assert_int_equal(l.members[0].client_urls.n, 0);
		assert_true(l.members[0].is_learner);
		etcd_member_list_free(&l);
		j = "{\"members\":[{\"peerURLs\":\"x\"}]}";
		assert_int_equal(etcd_json_parse_member_list(j, strlen(j), &l, &err), WIZ_ERR_PARSE);
		assert_non_null(strstr(err.msg, "peerURLs"));
		etcd_member_list_free(&l);
	}
}

/* MemberAdd's answer (real captures, 3.4.23 and 3.5.30: the new member
 * has no name, every member is listed with it) and the gateway's errors
 * (3.5 writes code and message; 3.4 adds "error"). */
static void test_member_add_and_errors(void **state)
{
	static const char *const files[] = { "etcd/member-add-3.4.json", "etcd/member-add-3.5.json" };
	static const uint64_t ids[] = { 14373902709469804531ULL, 6630613343268621815ULL };
	struct etcd_member_add a;
	struct etcd_error e;
	struct wiz_error err;
	size_t len;
	char *t;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		t = fixture_text(files[i], &len);
		assert_int_equal(etcd_json_parse_member_add(t, len, &a, &err), WIZ_ERR_OK);
		assert_true(a.member.id == ids[i]);
		assert_string_equal(a.member.name, "");
		assert_true(a.member.is_learner);
		assert_string_equal(a.member.peer_urls.items[0], "http://127.0.0.1:23801");
		assert_int_equal(a.list.n_members, 2);
		assert_string_equal(a.list.members[0].name, "a");
		assert_true(a.list.members[1].id == ids[i] && a.list.members[1].is_learner);
		assert_true(a.header.member_id == 3319814642761637952ULL);
		etcd_member_add_free(&a);
		free(t);
	}
	{
		const char *j = "{\"members\":[]}";

		assert_int_equal(etcd_json_parse_member_add(j, strlen(j), &a, &err), WIZ_ERR_PARSE);
		assert_non_null(strstr(err.msg, "member"));
		etcd_member_add_free(&a);
	}
	t = fixture_text("etcd/error-promote-3.4.json", &len);
	assert_int_equal(etcd_json_parse_error(t, len, &e, &err), WIZ_ERR_OK);
	assert_int_equal(e.code, 9);
	assert_string_equal(e.message, "etcdserver: can only promote a learner member which is in sync with leader");
	etcd_error_free(&e);
	free(t);
	{
		const char *j = "{\"code\":5, \"message\":\"etcdserver: member not found\"}";

		assert_int_equal(etcd_json_parse_error(j, strlen(j), &e, &err), WIZ_ERR_OK);
		assert_int_equal(e.code, 5);
		assert_string_equal(e.message, "etcdserver: member not found");
		etcd_error_free(&e);
		j = "not json {";
		assert_int_equal(etcd_json_parse_error(j, strlen(j), &e, &err), WIZ_ERR_PARSE);
		assert_string_equal(e.message, "");
		etcd_error_free(&e);
	}
}

static void test_alarms_version_health(void **state)
{
	struct etcd_alarm_list a;
	struct etcd_version v;
	struct etcd_health h;
	struct wiz_error err;
	size_t len;
	char *t;

	(void)state;
	t = fixture_text("etcd/alarm-none-3.4.json", &len);
	assert_int_equal(etcd_json_parse_alarms(t, len, &a, &err), WIZ_ERR_OK);
	assert_int_equal(a.n_alarms, 0);
	etcd_alarm_list_free(&a);
	free(t);
	t = fixture_text("etcd/alarm-nospace-3.4.json", &len);
	assert_int_equal(etcd_json_parse_alarms(t, len, &a, &err), WIZ_ERR_OK);
	assert_int_equal(a.n_alarms, 1);
	assert_true(a.alarms[0].member_id == 8258189955957733330ULL);
	assert_int_equal(a.alarms[0].type, ETCD_ALARM_NOSPACE);
	etcd_alarm_list_free(&a);
	free(t);
	{
		const char *j = "{\"alarms\":[{\"memberID\":\"1\",\"alarm\":\"CORRUPT\"},"
				"{\"memberID\":\"2\",\"alarm\":\"SOMETHING_NEW\"}]}";

		assert_int_equal(etcd_json_parse_alarms(j, strlen(j), &a, &err), WIZ_ERR_OK);
		assert_int_equal(a.n_alarms, 2);
		assert_int_equal(a.alarms[0].type, ETCD_ALARM_CORRUPT);
		assert_int_equal(a.alarms[1].type, ETCD_ALARM_UNKNOWN);
		etcd_alarm_list_free(&a);
	}

	t = fixture_text("etcd/version.json", &len);
	assert_int_equal(etcd_json_parse_version(t, len, &v, &err), WIZ_ERR_OK);
	assert_string_equal(v.server, "3.4.23");
	assert_string_equal(v.cluster, "3.4.0");
	etcd_version_free(&v);
	free(t);
	assert_int_equal(etcd_json_parse_version("{}", 2, &v, &err), WIZ_ERR_PARSE);
	etcd_version_free(&v);

	t = fixture_text("etcd/health.json", &len);
	assert_int_equal(etcd_json_parse_health(t, len, &h, &err), WIZ_ERR_OK);
	assert_true(h.healthy);
	assert_string_equal(h.reason, "");
	etcd_health_free(&h);
	free(t);
	t = fixture_text("etcd/health-nospace.json", &len);
	assert_int_equal(etcd_json_parse_health(t, len, &h, &err), WIZ_ERR_OK);
	assert_false(h.healthy);
	etcd_health_free(&h);
	free(t);
	{
		/* 3.5's form with a reason, escapes decoded by the parser */
		const char *j = "{\"health\":\"false\",\"reason\":\"RAFT NO LEADER \\u00e9\\\"\"}";

		assert_int_equal(etcd_json_parse_health(j, strlen(j), &h, &err), WIZ_ERR_OK);
		assert_false(h.healthy);
		assert_string_equal(h.reason, "RAFT NO LEADER \xc3\xa9\"");
		etcd_health_free(&h);
		assert_int_equal(etcd_json_parse_health("{\"health\":\"maybe\"}", 18, &h, &err),
				 WIZ_ERR_PARSE);
		etcd_health_free(&h);
		assert_int_equal(etcd_json_parse_health("{}", 2, &h, &err), WIZ_ERR_PARSE);
		etcd_health_free(&h);
	}
}

/* ---- metrics ------------------------------------------------------------- */

static void parse_metrics(const char *rel, struct etcd_metrics *m)
{
	struct wiz_error err;
	size_t len;
	char *t = fixture_text(rel, &len);

	assert_int_equal(etcd_metrics_parse(t, len, m, &err), WIZ_ERR_OK);
	free(t);
}

static void test_metrics_fixture(void **state)
{
	struct etcd_metrics *m = xcalloc(1, sizeof *m);

	(void)state;
	parse_metrics("etcd/metrics-3.4.txt", m);
	assert_true(m->samples > 1000);
	for (int g = 0; g < METRICS_GAUGE_COUNT; g++)
		assert_true(m->have[g]);
	CLOSE(m->value[METRICS_HAS_LEADER], 1);
	CLOSE(m->value[METRICS_LEADER_CHANGES], 1);
	CLOSE(m->value[METRICS_DB_TOTAL], 20480);
	CLOSE(m->value[METRICS_DB_IN_USE], 16384);
	CLOSE(m->value[METRICS_QUOTA], 2147483648.0);	/* written 2.147483648e+09 */
	CLOSE(m->value[METRICS_PROPOSALS_FAILED], 0);
	CLOSE(m->value[METRICS_PROPOSALS_PENDING], 0);
	CLOSE(m->value[METRICS_FD_USED], 16);
	CLOSE(m->value[METRICS_FD_LIMIT], 20000);
	assert_int_equal(m->wal_fsync.n, 15);
	assert_true(isinf(m->wal_fsync.le[14]));
	CLOSE(m->wal_fsync.count[14], 18);
	/* Hand-computed: 18 observations, rank 0.99*18 = 17.82 falls in
	 * (0.004, 0.008] which holds 18-16 = 2: 0.004 + 0.004 * 1.82/2. */
	CLOSE(metrics_histogram_quantile(0.99, &m->wal_fsync), 0.00764);
	/* 13 commits, rank 12.87 in (0.008, 0.016] holding 1: 0.008 + 0.008 * 0.87 */
	CLOSE(metrics_histogram_quantile(0.99, &m->backend_commit), 0.01496);
	/* p50: rank 6.5 in (0.001, 0.002] holding 9-3 = 6: 0.001 + 0.001 * 3.5/6 */
	CLOSE(metrics_histogram_quantile(0.5, &m->backend_commit), 0.001 + 0.001 * 3.5 / 6);
	assert_int_equal(m->n_peers, 0);	/* single member */
	free(m);

	m = xcalloc(1, sizeof *m);
	parse_metrics("etcd/metrics-3-m3.txt", m);
	CLOSE(m->value[METRICS_IS_LEADER], 1);
	assert_int_equal(m->n_peers, 2);
	assert_string_equal(m->peers[0].to, "b73aa52ffd4585dd");
	/* peer b73a…: 2 in (0.0004, 0.0008]: 0.0004 + 0.0004 * 1.98/2 = 0.000796;
	 * peer d726…: rank 1.98 in (0.0002, 0.0004] holding 1: 0.000396.
	 * The member's value is the worst peer. */
	CLOSE(metrics_histogram_quantile(0.99, &m->peers[1].rtt), 0.000396);
	CLOSE(metrics_peer_rtt_quantile(0.99, m, NULL), 0.000796);
	free(m);
}

static void test_quantile_rules(void **state)
{
	struct metrics_histogram h = { 0 }, before = { 0 }, d;

	(void)state;
	/* rank in the +Inf bucket: the highest finite bound */
	h.n = 3;
	h.le[0] = 0.1; h.le[1] = 0.2; h.le[2] = INFINITY;
	h.count[0] = 0; h.count[1] = 10; h.count[2] = 100;
	CLOSE(metrics_histogram_quantile(0.99, &h), 0.2);
	/* rank in the first bucket: interpolated from 0 */
	h.count[0] = 100; h.count[1] = 100; h.count[2] = 100;
	CLOSE(metrics_histogram_quantile(0.5, &h), 0.05);
	/* non-monotonic counts are evened out (ensureMonotonic): {10,5,20,20}
	 * reads as {10,10,20,20}; rank 12 lies in (0.2, 0.3] holding 10, 2 in */
	h.n = 4;
	h.le[2] = 0.3; h.le[3] = INFINITY;
	h.count[0] = 10; h.count[1] = 5; h.count[2] = 20; h.count[3] = 20;
	CLOSE(metrics_histogram_quantile(0.6, &h), 0.2 + 0.1 * 2 / 10);
	h.n = 3;
	h.le[2] = INFINITY;
	/* no observations, no +Inf, one bucket: NaN; q out of range: ±Inf */
	h.count[0] = h.count[1] = h.count[2] = 0;
	assert_true(isnan(metrics_histogram_quantile(0.99, &h)));
	h.count[2] = 5;
	h.le[2] = 0.4;
	assert_true(isnan(metrics_histogram_quantile(0.99, &h)));
	h.le[2] = INFINITY;
	h.n = 1;
	assert_true(isnan(metrics_histogram_quantile(0.99, &h)));
	h.n = 3;
	assert_true(isinf(metrics_histogram_quantile(1.5, &h)));
	assert_true(metrics_histogram_quantile(-1, &h) < 0);

	/* the window: only what happened since `before` counts */
	h.count[0] = 1000; h.count[1] = 1000; h.count[2] = 1010;
	before = h;
	before.count[0] = 1000; before.count[1] = 1000; before.count[2] = 1000;
	metrics_histogram_delta(&h, &before, &d);
	CLOSE(d.count[2], 10);
	/* all 10 new ones are above 0.2 s: the +Inf bucket answers 0.2 */
	CLOSE(metrics_histogram_quantile(0.99, &d), 0.2);
	/* the cumulative view hides them: rank 999.9 of 1010 is in the first bucket */
	CLOSE(metrics_histogram_quantile(0.99, &h), 0.1 * 999.9 / 1000);
	/* a restart (counters went down): the new counters alone */
	before.count[2] = 5000;
	metrics_histogram_delta(&h, &before, &d);
	CLOSE(d.count[2], 1010);
}

static void test_metrics_text_format(void **state)
{
	const char *t = "# HELP etcd_server_has_leader Whether or not a leader exists.\n"
			"# TYPE etcd_server_has_leader gauge\n"
			"etcd_server_has_leader 0\n"
			"etcd_server_has_leader_other 5\n"	/* a longer name is another series */
			"etcd_mvcc_db_total_size_in_bytes 1.5e+06 1700000000000\n"	/* timestamp */
			"etcd_network_peer_round_trip_time_seconds_bucket{To=\"a\\\"b\",le=\"0.1\"} 3\r\n"
			"etcd_network_peer_round_trip_time_seconds_bucket{To=\"a\\\"b\",le=\"+Inf\"} 4\n"
			"os_fd_used NaN\n";
	struct etcd_metrics *m = xcalloc(1, sizeof *m);
	struct wiz_error err;

	(void)state;
	assert_int_equal(etcd_metrics_parse(t, strlen(t), m, &err), WIZ_ERR_OK);
	CLOSE(m->value[METRICS_HAS_LEADER], 0);
	assert_true(m->have[METRICS_HAS_LEADER]);
	CLOSE(m->value[METRICS_DB_TOTAL], 1500000);
	assert_int_equal(m->n_peers, 1);
	assert_string_equal(m->peers[0].to, "a\"b");
	assert_int_equal(m->peers[0].rtt.n, 2);
	assert_true(isnan(m->value[METRICS_FD_USED]));
	assert_false(m->have[METRICS_QUOTA]);
	free(m);

	m = xcalloc(1, sizeof *m);
	t = "etcd_server_has_leader 1\netcd_server_proposals_pending one\n";
	assert_int_equal(etcd_metrics_parse(t, strlen(t), m, &err), WIZ_ERR_PARSE);
	assert_non_null(strstr(err.msg, "line 2"));
	t = "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.1} 1\n";
	assert_int_equal(etcd_metrics_parse(t, strlen(t), m, &err), WIZ_ERR_PARSE);
	free(m);
}

/* ---- the model ------------------------------------------------------------- */

/* n members m1..mn with IDs 1..n, leader `leader`; those in `down` (bit
 * mask) do not answer; of those, the ones in `nologin` were not reached:
 * their SSH login failed. */
static void cluster_make_login(struct health_cluster *c, size_t n, uint64_t leader, unsigned down,
			       unsigned nologin, uint64_t t)
{
	struct etcd_metrics *mx = xcalloc(1, sizeof *mx);

	health_cluster_init(c);
	mx->have[METRICS_HAS_LEADER] = true;
	mx->value[METRICS_HAS_LEADER] = leader ? 1 : 0;
	for (size_t i = 0; i < n; i++) {
		char name[32], ep[64];
		struct health_member *m;
		struct etcd_status st;
		struct health_observation o;

		snprintf(name, sizeof name, "m%zu", i + 1);
		snprintf(ep, sizeof ep, "https://10.0.0.%zu:2379", i + 1);
		m = health_cluster_add(c, name, ep);
		memset(&st, 0, sizeof st);
		st.header.member_id = i + 1;
		st.leader = leader;
		st.version = (char *)"3.5.21";
		st.raft_term = 7;
		memset(&o, 0, sizeof o);
		o.t_ms = t;
		if (nologin & (1u << i)) {
			o.error = "ssh: authentication as wizpw failed";
			o.transport = TRANSPORT_LOGIN;
			o.transport_host = ep + 8;	/* "10.0.0.N:2379" */
		} else if (down & (1u << i)) {
			o.error = "connection refused";
		} else {
			o.status = &st;
			o.metrics = mx;
			o.latency_ms = 1.5;
		}
		health_member_update(m, &o);
	}
	free(mx);
}

static void cluster_make(struct health_cluster *c, size_t n, uint64_t leader, unsigned down,
			 uint64_t t)
{
	cluster_make_login(c, n, leader, down, 0, t);
}

static enum health_badge badge_of(size_t n, uint64_t leader, unsigned down)
{
	struct health_cluster c;
	struct health_eval e;
	enum health_badge b;

	cluster_make(&c, n, leader, down, 1000);
	health_evaluate(&c, 1000, &e);
	b = e.badge;
	health_eval_free(&e);
	health_cluster_free(&c);
	return b;
}

static bool has_alert(const struct health_eval *e, const char *name, const char *member)
{
	for (size_t i = 0; i < e->n_alerts; i++)
		if (strcmp(e->alerts[i].name, name) == 0 &&
		    (member == NULL || (e->alerts[i].member && strcmp(e->alerts[i].member, member) == 0)))
			return true;
	return false;
}

static void test_badge(void **state)
{
	(void)state;
	assert_int_equal(badge_of(3, 1, 0), HEALTH_HEALTHY);
	assert_int_equal(badge_of(3, 1, 0x4), HEALTH_DEGRADED);	/* one follower down */
	assert_int_equal(badge_of(3, 1, 0x6), HEALTH_NO_QUORUM);	/* two down */
	assert_int_equal(badge_of(3, 1, 0x7), HEALTH_NO_QUORUM);
	assert_int_equal(badge_of(5, 2, 0), HEALTH_HEALTHY);
	assert_int_equal(badge_of(5, 2, 0x1), HEALTH_DEGRADED);
	assert_int_equal(badge_of(5, 2, 0x11), HEALTH_DEGRADED);	/* 3 of 5 is quorum */
	assert_int_equal(badge_of(5, 2, 0x13), HEALTH_NO_QUORUM);	/* 2 of 5 */
	assert_int_equal(badge_of(3, 0, 0), HEALTH_NO_QUORUM);		/* nobody has a leader */
	assert_int_equal(badge_of(1, 1, 0), HEALTH_HEALTHY);
	{
		struct health_cluster c;
		struct health_eval e;

		health_cluster_init(&c);
		health_cluster_add(&c, "m1", "https://10.0.0.1:2379");
		health_evaluate(&c, 0, &e);
		assert_int_equal(e.badge, HEALTH_UNKNOWN);	/* not polled yet */
		assert_int_equal(e.n_alerts, 0);
		health_eval_free(&e);
		health_cluster_free(&c);
	}
}

static void test_roles_and_leader(void **state)
{
	struct health_cluster c;
	struct health_eval e;

	(void)state;
	cluster_make(&c, 3, 2, 0x4, 1000);
	health_evaluate(&c, 1000, &e);
	assert_int_equal(e.voting, 3);
	assert_int_equal(e.up, 2);
	assert_int_equal(e.quorum, 2);
	assert_int_equal(e.roles[0], ROLE_FOLLOWER);
	assert_int_equal(e.roles[1], ROLE_LEADER);
	assert_int_equal(e.roles[2], ROLE_DOWN);
	assert_true(e.one_leader);
	assert_true(e.leader_id == 2);
	assert_true(has_alert(&e, "etcdMembersDown", "m3"));
	assert_false(has_alert(&e, "etcdInsufficientMembers", NULL));
	health_eval_free(&e);

	/* m1 (a stale partition) still thinks it leads: two leaders reported */
	c.members[0].status.leader = 1;
	c.members[2].reachable = true;
	c.members[2].status.leader = 2;
	health_evaluate(&c, 1000, &e);
	assert_false(e.one_leader);
	assert_int_equal(e.n_leaders, 2);
	assert_int_equal(e.badge, HEALTH_DEGRADED);
	health_eval_free(&e);
	health_cluster_free(&c);

	/* quorum lost: etcdInsufficientMembers and etcdNoLeader */
	cluster_make(&c, 3, 0, 0x6, 1000);
	health_evaluate(&c, 1000, &e);
	assert_true(has_alert(&e, "etcdInsufficientMembers", NULL));
	assert_true(has_alert(&e, "etcdNoLeader", "m1"));
	assert_true(has_alert(&e, "etcdMembersDown", "m2"));
	health_eval_free(&e);
	health_cluster_free(&c);

	/* A member list with a member we do not poll counts it as not up. */
	{
		struct etcd_member_list l;
		struct wiz_error err;
		const char *j = "{\"members\":[{\"ID\":\"1\",\"name\":\"m1\"},{\"ID\":\"2\",\"name\":\"m2\"},"
				"{\"ID\":\"3\",\"name\":\"m3\"},{\"ID\":\"9\",\"name\":\"l\",\"isLearner\":true}]}";

		cluster_make(&c, 2, 1, 0, 1000);
		assert_int_equal(etcd_json_parse_member_list(j, strlen(j), &l, &err), WIZ_ERR_OK);
		health_cluster_set_member_list(&c, &l);
		etcd_member_list_free(&l);
		health_evaluate(&c, 1000, &e);
		assert_int_equal(e.voting, 3);	/* the learner does not vote */
		assert_int_equal(e.up, 2);
		assert_int_equal(e.badge, HEALTH_DEGRADED);
		health_eval_free(&e);
		health_cluster_free(&c);
	}
}

static void feed_changes(struct health_member *m, const double *values, size_t n, uint64_t t0)
{
	struct etcd_metrics *mx = xcalloc(1, sizeof *mx);
	struct etcd_status st;

	memset(&st, 0, sizeof st);
	st.header.member_id = 1;
	st.leader = 1;
	st.version = (char *)"3.5.21";
	for (size_t i = 0; i < n; i++) {
		struct health_observation o = { 0 };

		mx->have[METRICS_LEADER_CHANGES] = true;
		mx->value[METRICS_LEADER_CHANGES] = values[i];
		mx->have[METRICS_PROPOSALS_FAILED] = true;
		mx->value[METRICS_PROPOSALS_FAILED] = 0;
		o.t_ms = t0 + i * 60000;
		o.status = &st;
		o.metrics = mx;
		health_member_update(m, &o);
	}
	free(mx);
}

static void test_leader_changes(void **state)
{
	static const double three[] = { 1, 2, 3, 4 };
	static const double four[] = { 1, 2, 3, 4, 5 };
	static const double reset[] = { 7, 8, 1, 2, 3 };	/* restart after 8 */
	static const double old[] = { 1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5 };
	struct health_cluster c;
	struct health_eval e;
	uint64_t t0 = 10000000;

	(void)state;
	health_cluster_init(&c);
	feed_changes(health_cluster_add(&c, "m1", "e1"), three, 4, t0);
	health_evaluate(&c, t0 + 3 * 60000, &e);
	assert_false(has_alert(&e, "etcdHighNumberOfLeaderChanges", NULL));
	health_eval_free(&e);
	health_cluster_free(&c);

	health_cluster_init(&c);
	feed_changes(health_cluster_add(&c, "m1", "e1"), four, 5, t0);
	health_evaluate(&c, t0 + 4 * 60000, &e);
	assert_true(has_alert(&e, "etcdHighNumberOfLeaderChanges", NULL));
	CLOSE(health_member_increase(&c.members[0], 0, t0 + 4 * 60000, HEALTH_CHANGES_WINDOW_MS, NULL), 4);
	health_eval_free(&e);
	health_cluster_free(&c);

	/* a counter reset counts from zero: 1 + 1 + 1 + 1 */
	health_cluster_init(&c);
	feed_changes(health_cluster_add(&c, "m1", "e1"), reset, 5, t0);
	CLOSE(health_member_increase(&c.members[0], 0, t0 + 4 * 60000, HEALTH_CHANGES_WINDOW_MS, NULL), 4);
	health_cluster_free(&c);

	/* changes older than 15 minutes have left the window */
	health_cluster_init(&c);
	feed_changes(health_cluster_add(&c, "m1", "e1"), old, 20, t0);
	health_evaluate(&c, t0 + 19 * 60000, &e);
	assert_false(has_alert(&e, "etcdHighNumberOfLeaderChanges", NULL));
	health_eval_free(&e);
	health_cluster_free(&c);
}

static void set_hist(struct metrics_histogram *h, double slow_le)
{
	/* 100 observations, all in the bucket ending at slow_le (after 0.1) */
	h->n = 3;
	h->le[0] = 0.1;
	h->le[1] = slow_le;
	h->le[2] = INFINITY;
	h->count[0] = 0;
	h->count[1] = 100;
	h->count[2] = 100;
}

static void test_metric_alerts(void **state)
{
	struct health_cluster c;
	struct health_eval e;
	struct etcd_metrics *mx = xcalloc(1, sizeof *mx);
	struct etcd_status st;
	struct health_observation o = { 0 };
	struct health_member *m;

	(void)state;
	memset(&st, 0, sizeof st);
	st.header.member_id = 1;
	st.leader = 1;
	st.version = (char *)"3.5.21";
	/* p99 = 0.1 + (0.7-0.1)*0.99 = 0.694: warning; commit 0.3; RTT 0.2 */
	set_hist(&mx->wal_fsync, 0.7);
	set_hist(&mx->backend_commit, 0.3);
	mx->n_peers = 1;
	snprintf(mx->peers[0].to, sizeof mx->peers[0].to, "2");
	set_hist(&mx->peers[0].rtt, 0.2);
	mx->have[METRICS_DB_TOTAL] = mx->have[METRICS_DB_IN_USE] = mx->have[METRICS_QUOTA] = true;
	mx->value[METRICS_QUOTA] = 2147483648.0;
	mx->value[METRICS_DB_TOTAL] = 2147483648.0 * 0.96;
	mx->value[METRICS_DB_IN_USE] = 2147483648.0 * 0.40;	/* fragmented, > 100 MiB */
	health_cluster_init(&c);
	m = health_cluster_add(&c, "m1", "e1");
	o.t_ms = 1000;
	o.status = &st;
	o.metrics = mx;
	health_member_update(m, &o);
	CLOSE(m->fsync_p99, 0.1 + 0.6 * 0.99);
	health_evaluate(&c, 1000, &e);
	assert_int_equal(e.badge, HEALTH_HEALTHY);	/* alerts do not move the badge */
	assert_true(has_alert(&e, "etcdHighFsyncDurations", "m1"));
	for (size_t i = 0; i < e.n_alerts; i++)
		if (strcmp(e.alerts[i].name, "etcdHighFsyncDurations") == 0)
			assert_int_equal(e.alerts[i].severity, SEVERITY_WARNING);
	assert_true(has_alert(&e, "etcdHighCommitDurations", "m1"));
	assert_true(has_alert(&e, "etcdMemberCommunicationSlow", "m1"));
	assert_true(has_alert(&e, "etcdDatabaseQuotaLowSpace", "m1"));
	assert_true(has_alert(&e, "etcdDatabaseHighFragmentationRatio", "m1"));
	health_eval_free(&e);
	health_cluster_free(&c);

	/* below every threshold: no alert; fsync over 1 s: critical */
	set_hist(&mx->wal_fsync, 0.4);
	set_hist(&mx->backend_commit, 0.2);
	set_hist(&mx->peers[0].rtt, 0.15);
	mx->value[METRICS_DB_TOTAL] = 2147483648.0 * 0.94;
	mx->value[METRICS_DB_IN_USE] = 2147483648.0 * 0.48;
	health_cluster_init(&c);
	m = health_cluster_add(&c, "m1", "e1");
	health_member_update(m, &o);
	health_evaluate(&c, 1000, &e);
	assert_int_equal(e.n_alerts, 0);
	health_eval_free(&e);
	health_cluster_free(&c);

	set_hist(&mx->wal_fsync, 2.0);
	mx->value[METRICS_DB_TOTAL] = 300.0 * 1048576;
	mx->value[METRICS_DB_IN_USE] = 90.0 * 1048576;	/* < 0.5 but under 100 MiB */
	health_cluster_init(&c);
	m = health_cluster_add(&c, "m1", "e1");
	health_member_update(m, &o);
	health_evaluate(&c, 1000, &e);
	assert_int_equal(e.n_alerts, 1);
	assert_string_equal(e.alerts[0].name, "etcdHighFsyncDurations");
	assert_int_equal(e.alerts[0].severity, SEVERITY_CRITICAL);
	health_eval_free(&e);

	/* failed proposals: 6/s over 10 minutes */
	for (int i = 1; i <= 10; i++) {
		mx->have[METRICS_PROPOSALS_FAILED] = true;
		mx->value[METRICS_PROPOSALS_FAILED] = 6.0 * 60 * i;
		o.t_ms = 1000 + (uint64_t)i * 60000;
		health_member_update(m, &o);
	}
	health_evaluate(&c, o.t_ms, &e);
	assert_true(has_alert(&e, "etcdHighNumberOfFailedProposals", "m1"));
	health_eval_free(&e);
	health_cluster_free(&c);
	free(mx);
}

static void test_histogram_window(void **state)
{
	struct health_cluster c;
	struct etcd_metrics *mx = xcalloc(1, sizeof *mx);
	struct etcd_status st;
	struct health_observation o = { 0 };
	struct health_member *m;

	(void)state;
	memset(&st, 0, sizeof st);
	st.version = (char *)"";
	/* A long fast past: 10000 fsyncs under 1 ms. */
	mx->wal_fsync.n = 3;
	mx->wal_fsync.le[0] = 0.001;
	mx->wal_fsync.le[1] = 2.0;
	mx->wal_fsync.le[2] = INFINITY;
	mx->wal_fsync.count[0] = mx->wal_fsync.count[1] = mx->wal_fsync.count[2] = 10000;
	health_cluster_init(&c);
	m = health_cluster_add(&c, "m1", "e1");
	o.status = &st;
	o.metrics = mx;
	o.t_ms = 1000;
	health_member_update(m, &o);
	/* no baseline yet: since the server started */
	CLOSE(m->fsync_p99, 0.001 * 0.99);
	for (int i = 1; i <= 6; i++) {
		o.t_ms = 1000 + (uint64_t)i * 60000;
		health_member_update(m, &o);
	}
	/* nothing happened inside the window: no data, like rate() 0/0 */
	assert_true(isnan(m->fsync_p99));
	/* Now the disk stalls: 200 slow fsyncs. Since-start it would still
	 * look fast (p99 in the first bucket); the window shows it. */
	mx->wal_fsync.count[1] = mx->wal_fsync.count[2] = 10200;
	o.t_ms += 2000;
	health_member_update(m, &o);
	assert_true(m->fsync_p99 > 1.0);
	CLOSE(metrics_histogram_quantile(0.5, &mx->wal_fsync), 0.001 * 5100 / 10000);
	/* the graph ring has every point, oldest first */
	assert_int_equal(m->hist_n, 8);
	assert_true(health_member_point(m, 0)->t_ms == 1000);
	assert_true(health_member_point(m, 7)->fsync_p99 > 1.0);
	assert_null(health_member_point(m, 8));
	health_cluster_free(&c);
	free(mx);
}

static void test_alarm_alerts_and_json(void **state)
{
	struct health_cluster c;
	struct health_eval e;
	struct etcd_alarm_list a;
	struct wiz_error err;
	size_t len;
	char *t = fixture_text("etcd/alarm-nospace-3.4.json", &len);
	char *buf = NULL;
	size_t blen = 0;
	FILE *f;

	(void)state;
	cluster_make(&c, 3, 1, 0, 1000);
	c.members[1].status.header.member_id = 8258189955957733330ULL;
	assert_int_equal(etcd_json_parse_alarms(t, len, &a, &err), WIZ_ERR_OK);
	health_cluster_set_alarms(&c, &a);
	etcd_alarm_list_free(&a);
	free(t);
	health_evaluate(&c, 1000, &e);
	assert_int_equal(e.badge, HEALTH_DEGRADED);
	assert_int_equal(e.n_alarms, 1);
	assert_true(has_alert(&e, "NOSPACE", "m2"));

	f = open_memstream(&buf, &blen);
	assert_int_equal(health_write_json(f, &c, &e, &err), WIZ_ERR_OK);
	fclose(f);
	assert_non_null(strstr(buf, "{\"badge\":\"DEGRADED\","));
	assert_non_null(strstr(buf, "\"alarms\":[{\"member_id\":\"729afc02dc8f37d2\",\"alarm\":\"NOSPACE\"}]"));
	assert_non_null(strstr(buf, "\"name\":\"m2\",\"endpoint\":\"https://10.0.0.2:2379\",\"id\":\"729afc02dc8f37d2\",\"role\":\"follower\""));
	assert_non_null(strstr(buf, "\"latency_ms\":1.5,"));
	assert_non_null(strstr(buf, "\"wal_fsync_p99_seconds\":null"));
	/* what we wrote is JSON the same reader takes back */
	{
		struct etcd_version v;

		assert_int_equal(etcd_json_parse_version(buf, strlen(buf), &v, &err), WIZ_ERR_PARSE);
		assert_non_null(strstr(err.msg, "etcdserver"));	/* parsed, only the field is missing */
		etcd_version_free(&v);
	}
	free(buf);
	health_eval_free(&e);
	health_cluster_free(&c);
}

static void test_json_string(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	health_json_string(f, "a\"b\\c\n\t\x01\x7f \xc3\xa9 \xff \xed\xa0\x80 \xf0\x9f\x98\x80");
	fclose(f);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f \xc3\xa9 \\ufffd \\ufffd\\ufffd\\ufffd "
				 "\xf0\x9f\x98\x80\"");
	free(buf);
}

/* ---- the SSH host check and the text table ---------------------------------- */

static char *pem_with_validity(uint64_t validity, time_t now)
{
	struct pki_pair ca = { 0 };
	struct wiz_error err;
	gnutls_datum_t d = { 0 };
	char *s;

	assert_int_equal(pki_ca_create(PKI_ALG_ECDSA_P256, validity, now, &ca, &err), WIZ_ERR_OK);
	assert_int_equal(pki_crt_export(ca.crt, &d, &err), WIZ_ERR_OK);
	s = xstrndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	pki_pair_free(&ca);
	return s;
}

/* kubelet's view of the etcd container (the stand-in's status file, read
 * by the host check): restarts, the last exit, why it waits, readiness. */
static void parse_str(const char *out, struct health_host *h)
{
	health_host_parse(out, strlen(out), h);
}

static void test_host_pod_status(void **state)
{
	static const char restarting[] = "kubelet active\npod not-running\npodstatus state=waiting\n"
					 "podstatus ready=false\npodstatus reason=CrashLoopBackOff\n"
					 "podstatus restarts=5\npodstatus last_exit=1\npodstatus image=x\n";
	struct health_host h;
	char buf[96];

	(void)state;
	parse_str(restarting, &h);
	assert_int_equal(h.pod_restarts, 5);
	assert_int_equal(h.pod_last_exit, 1);
	assert_int_equal(h.pod_ready, 0);
	assert_string_equal(h.pod_reason, "CrashLoopBackOff");
	assert_string_equal(health_pod_text(&h, buf, sizeof buf), "restarting (5 restarts, exit 1)");
	parse_str("pod not-running\npodstatus state=waiting\npodstatus reason=ErrImagePull\n"
			  "podstatus restarts=0\n", &h);
	assert_string_equal(health_pod_text(&h, buf, sizeof buf), "not running (ErrImagePull)");
	parse_str("pod running\npodstatus state=running\npodstatus ready=false\n"
			  "podstatus restarts=0\npodstatus last_exit=-1\n", &h);
	assert_string_equal(health_pod_text(&h, buf, sizeof buf), "running, not ready");
	parse_str("pod running\npodstatus state=running\npodstatus ready=true\n"
			  "podstatus restarts=2\npodstatus last_exit=137\n", &h);
	assert_string_equal(health_pod_text(&h, buf, sizeof buf), "running (2 restarts, last exit 137)");
	/* No status file (a real node without it): as before. */
	parse_str("pod running\n", &h);
	assert_int_equal(h.pod_restarts, -1);
	assert_string_equal(health_pod_text(&h, buf, sizeof buf), "running");
}

static void test_host_check(void **state)
{
	time_t now = time(NULL);
	char *long_pem = pem_with_validity(400 * 86400ull, now);
	char *short_pem = pem_with_validity(5 * 86400ull, now);
	char *out = xasprintf("disk 1000000000 50000000\nkubelet inactive\npod not-running\n"
			      "cert /etc/kubernetes/pki/etcd/ca.crt\n%s"
			      "cert /etc/kubernetes/pki/etcd/server.crt\n%s"
			      "cert /etc/kubernetes/pki/etcd/broken.crt\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
			      "something new\n",
			      long_pem, short_pem);
	struct health_host h;
	struct health_cluster c;
	struct health_observation o = { .t_ms = 1000, .latency_ms = NAN };
	struct health_eval e;
	char *json = NULL;
	size_t jlen = 0;
	FILE *f;
	struct wiz_error err;

	(void)state;
	health_host_parse(out, strlen(out), &h);
	CLOSE(h.disk_total, 1e9);
	CLOSE(h.disk_avail, 5e7);
	assert_string_equal(h.kubelet, "inactive");
	assert_int_equal(h.pod, POD_NOT_RUNNING);
	/* The earliest expiry of the certificates that parse, and its file. */
	assert_string_equal(h.cert_file, "/etc/kubernetes/pki/etcd/server.crt");
	assert_true(h.cert_expiry > now + 4 * 86400 && h.cert_expiry <= now + 5 * 86400);

	/* Host alerts come even when etcd does not answer. */
	health_cluster_init(&c);
	health_cluster_add(&c, "m1", "https://10.0.0.1:2379");
	o.host = &h;
	o.error = "connection refused";
	health_member_update(&c.members[0], &o);
	health_evaluate(&c, 1000, &e);
	assert_true(has_alert(&e, "CertificateExpiresSoon", "m1"));
	assert_true(has_alert(&e, "DataDirLowSpace", "m1"));
	assert_true(has_alert(&e, "KubeletNotActive", "m1"));
	for (size_t i = 0; i < e.n_alerts; i++)
		if (strcmp(e.alerts[i].name, "CertificateExpiresSoon") == 0) {
			assert_int_equal(e.alerts[i].severity, SEVERITY_CRITICAL);	/* < 7 days */
			/* It names the command that fixes it on the hosts. */
			assert_non_null(strstr(e.alerts[i].summary, "etcdwiz certs rotate -f"));
		}
	f = open_memstream(&json, &jlen);
	assert_int_equal(health_write_json(f, &c, &e, &err), WIZ_ERR_OK);
	fclose(f);
	assert_non_null(strstr(json, "\"host\":{\"disk_total_bytes\":1000000000,"));
	assert_non_null(strstr(json, "\"kubelet\":\"inactive\",\"etcd_pod\":\"not-running\""));
	free(json);
	health_eval_free(&e);
	health_cluster_free(&c);

	/* Nothing known: no alert, unknown values. */
	health_host_parse("", 0, &h);
	assert_true(isnan(h.disk_total));
	assert_int_equal(h.pod, POD_UNKNOWN);
	assert_int_equal(h.cert_expiry, 0);
	free(out);
	free(long_pem);
	free(short_pem);
}

/* The BackupTooOld alert a host with h raises: its summary, or NULL. */
static char *backup_alert(const struct health_host *h)
{
	struct health_cluster c;
	struct health_observation o = { .t_ms = 1000, .latency_ms = NAN, .error = "connection refused" };
	struct health_eval e;
	char *summary = NULL;

	health_cluster_init(&c);
	health_cluster_add(&c, "m1", "https://10.0.0.1:2379");
	o.host = h;
	health_member_update(&c.members[0], &o);
	health_evaluate(&c, 1000, &e);
	for (size_t i = 0; i < e.n_alerts; i++)
		if (strcmp(e.alerts[i].name, "BackupTooOld") == 0 && summary == NULL)
			summary = xstrdup(e.alerts[i].summary);
	health_eval_free(&e);
	health_cluster_free(&c);
	return summary;
}

/* The scheduled snapshots' part of the host check: the timer's last run
 * and next two runs make the period; a newest snapshot older than twice
 * that, or a run that left none, raises BackupTooOld. */
static void test_host_backups(void **state)
{
	time_t now = time(NULL);
	char next[64], next2[64], *out, *alert;
	struct tm tm;
	struct health_host h;
	time_t t1 = now + 1800, t2 = now + 1800 + 3600;

	(void)state;
	gmtime_r(&t1, &tm);
	strftime(next, sizeof next, "%a %Y-%m-%d %H:%M:%S UTC", &tm);
	gmtime_r(&t2, &tm);
	strftime(next2, sizeof next2, "%a %Y-%m-%d %H:%M:%S UTC", &tm);
	/* hourly; the newest 3 h old: too old */
	out = xasprintf("kubelet active\nbackuptimer\nbackupnext %s\nbackupnext2 %s\nbackup %lld 4\n", next, next2,
			(long long)(now - 3 * 3600));
	health_host_parse(out, strlen(out), &h);
	assert_true(h.backup_timer);
	assert_int_equal(h.backup_next2 - h.backup_next, 3600);
	assert_int_equal(h.backup_count, 4);
	alert = backup_alert(&h);
	assert_non_null(alert);
	assert_non_null(strstr(alert, "3.0 h old, more than twice its schedule's 60 min"));
	free(alert);
	free(out);

	/* 90 minutes old: within twice the hour, no alert. */
	out = xasprintf("backuptimer\nbackupnext %s\nbackupnext2 %s\nbackup %lld 1\n", next, next2,
			(long long)(now - 90 * 60));
	health_host_parse(out, strlen(out), &h);
	assert_null(backup_alert(&h));
	free(out);

	/* Its timer ran 2 h ago and left nothing: a schedule that never worked. */
	out = xasprintf("backuptimer\nbackupnext %s\nbackupnext2 %s\nbackuplast @%lld\n", next, next2,
			(long long)(now - 2 * 3600));
	health_host_parse(out, strlen(out), &h);
	assert_int_equal(h.backup_last, now - 2 * 3600);
	alert = backup_alert(&h);
	assert_non_null(alert);
	assert_non_null(strstr(alert, "no scheduled snapshot although its timer ran 2.0 h ago"));
	free(alert);
	free(out);

	/* Mon..Fri on a Sunday: last run 2 days ago, the next tomorrow: the
	 * period is 3 days, a 2-day-old snapshot is not late. */
	out = xasprintf("backuptimer\nbackupnext %s\nbackupnext2 %s\nbackuplast @%lld\nbackup %lld 5\n", next, next2,
			(long long)(now - 2 * 86400), (long long)(now - 2 * 86400 + 60));
	health_host_parse(out, strlen(out), &h);
	h.backup_next = now + 86400;
	assert_null(backup_alert(&h));
	free(out);

	/* No timer: nothing about snapshots; a malformed line is ignored. */
	parse_str("backup x y\nbackupnext never\n", &h);
	assert_false(h.backup_timer);
	assert_int_equal(h.backup_newest, 0);
	assert_int_equal(h.backup_next, 0);
}

static void test_text_format(void **state)
{
	char buf[64], *text = NULL;
	size_t len = 0;
	struct health_cluster c;
	struct health_eval e;
	FILE *f;

	(void)state;
	fmt_bytes(512, buf, sizeof buf);
	assert_string_equal(buf, "512 B");
	fmt_bytes(20.5 * 1024 * 1024, buf, sizeof buf);
	assert_string_equal(buf, "20.5 MiB");
	fmt_bytes(NAN, buf, sizeof buf);
	assert_string_equal(buf, "-");
	fmt_ms(3.14, buf, sizeof buf);
	assert_string_equal(buf, "3.1 ms");
	fmt_ms(1200, buf, sizeof buf);
	assert_string_equal(buf, "1.20 s");
	fmt_left(40 * 86400 + 5, buf, sizeof buf);
	assert_string_equal(buf, "40d");
	fmt_left(90, buf, sizeof buf);
	assert_string_equal(buf, "2m");
	fmt_left(-1, buf, sizeof buf);
	assert_string_equal(buf, "expired");

	/* Wide characters take two columns: padding and cutting by display
	 * width keeps translated tables aligned. */
	if (setlocale(LC_CTYPE, "C.UTF-8") != NULL) {
		assert_int_equal(str_display_width("\u5065\u5eb7"), 4);	/* two CJK */
		f = open_memstream(&text, &len);
		fput_padded(f, "\u5065\u5eb7", 6);
		fput_padded(f, "\u5065\u5eb7", 3);	/* the second would cross 3 */
		fclose(f);
		assert_string_equal(text, "\u5065\u5eb7  \u5065 ");
		free(text);
		text = NULL;
		setlocale(LC_CTYPE, "C");
	}

	/* The --once table of a cluster with one member down. */
	cluster_make(&c, 3, 2, 0x4, 1000);
	health_evaluate(&c, 1000, &e);
	f = open_memstream(&text, &len);
	status_print_table(f, "prod", &c, &e, time(NULL));
	fclose(f);
	assert_non_null(strstr(text, "etcd cluster prod: DEGRADED (2 of 3 members up)\n"));
	assert_non_null(strstr(text, "NAME  ENDPOINT"));
	assert_non_null(strstr(text, "\nm2    https://"));
	assert_non_null(strstr(text, "leader"));
	assert_non_null(strstr(text, "Alerts:\n  critical etcdMembersDown: member m3 is down"));
	free(text);
	health_eval_free(&e);
	health_cluster_free(&c);
}

/* ---- members not observed: their transport failed --------------------------- */

static size_t count_alerts(const struct health_eval *e, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n_alerts; i++)
		n += strcmp(e->alerts[i].name, name) == 0;
	return n;
}

static void test_unknown_members(void **state)
{
	struct health_cluster c;
	struct health_eval e;
	char cell[512], *json = NULL;
	size_t jlen = 0;
	struct wiz_error err;
	FILE *f;

	(void)state;
	/* The bug of issue 11: a healthy cluster whose logins failed. Every
	 * member is unknown, not down; no verdict, no down alerts. */
	cluster_make_login(&c, 3, 1, 0x7, 0x7, 1000);
	health_evaluate(&c, 1000, &e);
	assert_int_equal(e.badge, HEALTH_UNKNOWN);
	assert_string_equal(e.reason, "0 of 3 members observed");
	assert_int_equal(e.up, 0);
	assert_int_equal(e.unknown, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(e.roles[i], ROLE_UNKNOWN);
	assert_int_equal(count_alerts(&e, "etcdMembersDown"), 0);
	assert_int_equal(count_alerts(&e, "etcdInsufficientMembers"), 0);
	status_cell(&c, &e, 1, STATUS_COL_ERRORS, cell, sizeof cell);
	assert_string_equal(cell, "cannot log in to 10.0.0.2:2379: ssh: authentication as wizpw failed");
	status_cell(&c, &e, 1, STATUS_COL_ROLE, cell, sizeof cell);
	assert_string_equal(cell, "unknown");
	f = open_memstream(&json, &jlen);
	assert_int_equal(health_write_json(f, &c, &e, &err), WIZ_ERR_OK);
	fclose(f);
	assert_non_null(strstr(json, "{\"badge\":\"UNKNOWN\",\"reason\":\"0 of 3 members observed\""));
	assert_non_null(strstr(json, "\"members_up\":0,\"members_unknown\":3,"));
	assert_non_null(strstr(json, "\"role\":\"unknown\",\"reachable\":false,\"observed\":false,"
				     "\"transport\":\"login\",\"unknown_reason\":\"cannot log in to 10.0.0.3:2379\""));
	free(json);
	health_eval_free(&e);
	health_cluster_free(&c);

	/* One up, two unknown: they could make quorum, so there is no verdict. */
	cluster_make_login(&c, 3, 1, 0x6, 0x6, 1000);
	health_evaluate(&c, 1000, &e);
	assert_int_equal(e.badge, HEALTH_UNKNOWN);
	assert_string_equal(e.reason, "1 of 3 members observed");
	assert_int_equal(e.roles[0], ROLE_LEADER);
	assert_int_equal(count_alerts(&e, "etcdMembersDown"), 0);
	assert_int_equal(count_alerts(&e, "etcdInsufficientMembers"), 0);
	health_eval_free(&e);
	health_cluster_free(&c);

	/* One up, one seen down, one unknown: still no verdict. The one down
	 * alerts, the unknown one does not. */
	cluster_make_login(&c, 3, 1, 0x6, 0x4, 1000);
	health_evaluate(&c, 1000, &e);
	assert_int_equal(e.badge, HEALTH_UNKNOWN);
	assert_string_equal(e.reason, "2 of 3 members observed");
	assert_int_equal(e.roles[1], ROLE_DOWN);
	assert_int_equal(e.roles[2], ROLE_UNKNOWN);
	assert_true(has_alert(&e, "etcdMembersDown", "m2"));
	assert_false(has_alert(&e, "etcdMembersDown", "m3"));
	health_eval_free(&e);
	health_cluster_free(&c);

	/* Two seen down: quorum is lost whatever the unknown one is. */
	cluster_make_login(&c, 3, 1, 0x7, 0x4, 1000);
	health_evaluate(&c, 1000, &e);
	assert_int_equal(e.badge, HEALTH_NO_QUORUM);
	assert_true(has_alert(&e, "etcdInsufficientMembers", NULL));
	assert_int_equal(count_alerts(&e, "etcdMembersDown"), 2);
	assert_false(has_alert(&e, "etcdMembersDown", "m3"));
	health_eval_free(&e);
	health_cluster_free(&c);

	/* Two up, one unknown: quorum is seen; degraded, and it says why. */
	cluster_make_login(&c, 3, 1, 0x4, 0x4, 1000);
	health_evaluate(&c, 1000, &e);
	assert_int_equal(e.badge, HEALTH_DEGRADED);
	assert_string_equal(e.reason, "2 of 3 members up, 1 not observed");
	assert_int_equal(count_alerts(&e, "etcdMembersDown"), 0);
	health_eval_free(&e);
	health_cluster_free(&c);

	/* A member that answers again is observed again. */
	cluster_make_login(&c, 1, 1, 0x1, 0x1, 1000);
	{
		struct etcd_status st = { .header.member_id = 1, .leader = 1 };
		struct health_observation o = { .t_ms = 2000, .latency_ms = 1, .status = &st,
						.transport = TRANSPORT_LOGIN };

		health_member_update(&c.members[0], &o);
	}
	assert_true(health_member_observed(&c.members[0]));
	assert_null(health_member_unknown_reason(&c.members[0]));
	health_evaluate(&c, 2000, &e);
	assert_int_equal(e.badge, HEALTH_HEALTHY);
	health_eval_free(&e);
	health_cluster_free(&c);

	/* Members not polled yet are unknown too: no NO QUORUM while the
	 * first answers come in. */
	cluster_make(&c, 1, 1, 0, 1000);
	health_cluster_add(&c, "m2", "https://10.0.0.2:2379");
	health_cluster_add(&c, "m3", "https://10.0.0.3:2379");
	health_evaluate(&c, 1000, &e);
	assert_int_equal(e.badge, HEALTH_UNKNOWN);
	assert_int_equal(e.unknown, 2);
	assert_int_equal(e.n_alerts, 0);
	health_eval_free(&e);
	health_cluster_free(&c);
}

/* ---- secrets asked once for every host ------------------------------------------ */

struct script {
	const char *answers[8];		/* NULL = no answer */
	size_t n;
	unsigned calls;
	char last[512];
};

static char *scripted(const char *prompt, void *ud)
{
	struct script *s = ud;
	const char *a = s->calls < s->n ? s->answers[s->calls] : NULL;

	snprintf(s->last, sizeof s->last, "%s", prompt);
	s->calls++;
	return a ? xstrdup(a) : NULL;
}

/* Ask as a session would; returns what it was given (static copy). */
static const char *ask(struct secret_cache *sc, enum ssh_secret_kind kind, const char *host,
		       const char *user, unsigned attempt)
{
	static char got[64];
	struct ssh_secret_request req = {
		.kind = kind, .name = host, .user = user, .attempt = attempt,
		.prompt = kind == SSH_SECRET_PASSPHRASE ? "/root/.ssh/id_ed25519" : NULL,
	};
	char *a = secret_cache_answer(sc, &req);

	snprintf(got, sizeof got, "%s", a ? a : "(none)");
	if (a != NULL)
		wiz_free_secret(a, strlen(a));
	return got;
}

static void test_secret_cache_once(void **state)
{
	struct script s = { { "pw", "sudo-pw", "other-pw", "phrase" }, 4, 0, "" };
	struct secret_cache *sc = secret_cache_new(scripted, &s);
	static const char *const hosts[] = { "etcd01", "etcd02", "etcd03", "etcd04", "etcd05" };

	(void)state;
	/* One question for five hosts with the same user. */
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, hosts[i], "wizpw", 1), "pw");
	assert_int_equal(s.calls, 1);
	assert_string_equal(s.last, "Password for wizpw@etcd01 (tried on every host that logs in as wizpw): ");
	/* Their sudo password is another question, also asked once. */
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(ask(sc, SSH_SECRET_SUDO, hosts[i], "wizpw", 1), "sudo-pw");
	assert_int_equal(s.calls, 2);
	assert_string_equal(s.last, "sudo password for wizpw on etcd01 (tried on every host where wizpw uses sudo): ");
	/* Another user is another question. */
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd02", "admin", 1), "other-pw");
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd03", "admin", 1), "other-pw");
	assert_int_equal(s.calls, 3);
	/* A new session of a host that took it gets it again, unasked. */
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd03", "wizpw", 1), "pw");
	/* A passphrase is the identity file's, whatever the host or user. */
	assert_string_equal(ask(sc, SSH_SECRET_PASSPHRASE, "etcd01", "wizpw", 1), "phrase");
	assert_string_equal(ask(sc, SSH_SECRET_PASSPHRASE, "etcd02", "root", 1), "phrase");
	assert_int_equal(s.calls, 4);
	assert_string_equal(s.last, "Passphrase for /root/.ssh/id_ed25519: ");
	assert_int_equal(secret_cache_asked(sc), 4);
	secret_cache_free(sc);
}

/* The wizard's way: looked up, asked in a dialog later, typed for every
 * host or for one host only. */
static void test_secret_cache_typed(void **state)
{
	struct secret_cache *sc = secret_cache_new(NULL, NULL);
	struct ssh_secret_request r1 = { .kind = SSH_SECRET_PASSWORD, .name = "m1", .user = "u", .attempt = 1 };
	struct ssh_secret_request r2 = r1, r3 = r1;
	bool ask;
	char *a;

	(void)state;
	r2.name = "m2";
	r3.name = "m3";
	assert_null(secret_cache_lookup(sc, &r1, &ask));
	assert_true(ask);
	assert_true(secret_cache_first(sc, &r1));
	secret_cache_typed(sc, &r1, xstrdup("only-m1"), false);	/* This host */
	assert_null(secret_cache_lookup(sc, &r2, &ask));		/* not for m2 */
	assert_true(ask);
	assert_true(secret_cache_first(sc, &r2));
	secret_cache_typed(sc, &r2, xstrdup("all"), true);		/* Every host */
	a = secret_cache_lookup(sc, &r3, &ask);
	assert_string_equal(a, "all");
	free(a);
	a = secret_cache_lookup(sc, &r1, &ask);			/* m1 keeps its own */
	assert_string_equal(a, "only-m1");
	free(a);
	/* m3 refused "all": asked again, said by name. */
	r3.attempt = 2;
	assert_null(secret_cache_lookup(sc, &r3, &ask));
	assert_true(ask);
	assert_string_equal(secret_cache_refused_text(&r3), "That was not accepted for u@m3; try again.");
	r1.attempt = 1;
	assert_string_equal(secret_cache_refused_text(&r1), "");
	/* Cancel for one host: none for it, the others unchanged. */
	secret_cache_typed(sc, &r3, NULL, false);
	r3.attempt = 3;
	assert_null(secret_cache_lookup(sc, &r3, &ask));
	assert_false(ask);
	assert_int_equal(secret_cache_asked(sc), 3);
	secret_cache_free(sc);
}

static void test_secret_cache_refused(void **state)
{
	struct script s = { { "typo", "pw", "etcd03-pw" }, 3, 0, "" };
	struct secret_cache *sc = secret_cache_new(scripted, &s);

	(void)state;
	/* The first answer goes to all three hosts. */
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd01", "wizpw", 1), "typo");
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd02", "wizpw", 1), "typo");
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd03", "wizpw", 1), "typo");
	assert_int_equal(s.calls, 1);
	/* etcd01 did not accept it: only etcd01 is asked again. */
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd01", "wizpw", 2), "pw");
	assert_int_equal(s.calls, 2);
	assert_string_equal(s.last, "That was not accepted for wizpw@etcd01; try again.\nPassword for wizpw@etcd01: ");
	/* etcd02 did not either: it tries the newer answer before anyone is
	 * asked. */
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd02", "wizpw", 2), "pw");
	assert_int_equal(s.calls, 2);
	/* etcd03 takes neither: asked for its own. */
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd03", "wizpw", 2), "pw");
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd03", "wizpw", 3), "etcd03-pw");
	assert_int_equal(s.calls, 3);
	assert_string_equal(s.last, "That was not accepted for wizpw@etcd03; try again.\nPassword for wizpw@etcd03: ");
	/* New sessions skip what their host refused. */
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd01", "wizpw", 1), "pw");
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd03", "wizpw", 1), "etcd03-pw");
	/* With asking off: from the cache only, never a question. */
	secret_cache_set_asking(sc, false);
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd04", "wizpw", 1), "typo");
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd03", "wizpw", 2), "(none)");
	assert_string_equal(ask(sc, SSH_SECRET_SUDO, "etcd01", "wizpw", 1), "(none)");
	assert_int_equal(s.calls, 3);
	secret_cache_free(sc);

	/* No answer to the first question: none for every host, asked once. */
	memset(&s, 0, sizeof s);
	sc = secret_cache_new(scripted, &s);
	for (unsigned i = 1; i <= 3; i++) {
		assert_string_equal(ask(sc, SSH_SECRET_SUDO, "etcd01", "wizpw", i), "(none)");
		assert_string_equal(ask(sc, SSH_SECRET_SUDO, "etcd02", "wizpw", i), "(none)");
	}
	assert_int_equal(s.calls, 1);
	secret_cache_free(sc);

	/* No prompt at all (no terminal): nothing is asked, none given. */
	sc = secret_cache_new(NULL, NULL);
	assert_string_equal(ask(sc, SSH_SECRET_PASSWORD, "etcd01", "wizpw", 1), "(none)");
	assert_int_equal(secret_cache_asked(sc), 0);
	secret_cache_free(sc);
}

WIZ_UNIT_TESTS(cmocka_unit_test(test_status),
	       cmocka_unit_test(test_v3beta_same_shape),
	       cmocka_unit_test(test_member_list),
	       cmocka_unit_test(test_member_add_and_errors),
	       cmocka_unit_test(test_alarms_version_health),
	       cmocka_unit_test(test_metrics_fixture),
	       cmocka_unit_test(test_quantile_rules),
	       cmocka_unit_test(test_metrics_text_format),
	       cmocka_unit_test(test_badge),
	       cmocka_unit_test(test_roles_and_leader),
	       cmocka_unit_test(test_leader_changes),
	       cmocka_unit_test(test_metric_alerts),
	       cmocka_unit_test(test_histogram_window),
	       cmocka_unit_test(test_alarm_alerts_and_json),
	       cmocka_unit_test(test_json_string),
	       cmocka_unit_test(test_host_check),
	       cmocka_unit_test(test_host_backups),
	       cmocka_unit_test(test_host_pod_status),
	       cmocka_unit_test(test_text_format),
	       cmocka_unit_test(test_unknown_members),
	       cmocka_unit_test(test_secret_cache_once),
	       cmocka_unit_test(test_secret_cache_refused),
	       cmocka_unit_test(test_secret_cache_typed))
