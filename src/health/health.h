/* The health model behind `etcdwiz status` and the wizard's Health screen
 * (issue #7): per member the last answers of /health, /version,
 * /v3/maintenance/status and /metrics with reachability and latency, short
 * histories for the graphs and the counter alerts, and the evaluation of
 * the whole cluster: the quorum badge, the one-leader check and the
 * etcd-mixin alerts (UX-AND-SECURITY.md §A2).
 *
 * Pure: the fetchers hand in what they read with the time it was read;
 * nothing here does I/O except writing the JSON snapshot to a FILE. The
 * mixin's `for:` durations are not applied: the view shows a condition as
 * soon as one sample shows it, which is what a live dashboard wants. */
#ifndef WIZ_HEALTH_H
#define WIZ_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"
#include "etcd/etcd-json.h"
#include "health/etcd-metrics.h"

#define HEALTH_HISTORY 120			/* graph points per member */
#define HEALTH_COUNTER_SLOTS 17			/* 16 minutes at one a minute */
#define HEALTH_COUNTER_STEP_MS (60 * 1000)	/* the mixin's [15m:1m] */
#define HEALTH_CHANGES_WINDOW_MS (15 * 60 * 1000)
#define HEALTH_RATE_WINDOW_MS (5 * 60 * 1000)	/* histogram quantile window */

/* The mixin's thresholds. */
#define HEALTH_FSYNC_WARN 0.5
#define HEALTH_FSYNC_CRIT 1.0
#define HEALTH_COMMIT_WARN 0.25
#define HEALTH_PEER_RTT_WARN 0.15
#define HEALTH_QUOTA_CRIT 0.95
#define HEALTH_FRAG_RATIO 0.5
#define HEALTH_FRAG_MIN_IN_USE (100.0 * 1024 * 1024)
#define HEALTH_LEADER_CHANGES 4
#define HEALTH_FAILED_PROPOSALS_RATE 5.0

#define HEALTH_BADGE_INFO(_)                   \
	_(UNKNOWN, N_("UNKNOWN"), "UNKNOWN")   \
	_(HEALTHY, N_("HEALTHY"), "HEALTHY")   \
	_(DEGRADED, N_("DEGRADED"), "DEGRADED") \
	_(NO_QUORUM, N_("NO QUORUM"), "NO_QUORUM")

enum health_badge {
#define HEALTH_BADGE_ENUM(id, label, json) HEALTH_##id,
	HEALTH_BADGE_INFO(HEALTH_BADGE_ENUM)
#undef HEALTH_BADGE_ENUM
	HEALTH_BADGE_COUNT
};

#define HEALTH_ROLE_INFO(_)                         \
	_(UNKNOWN, N_("unknown"), "unknown")        \
	_(DOWN, N_("down"), "down")                 \
	_(LEADER, N_("leader"), "leader")           \
	_(FOLLOWER, N_("follower"), "follower")     \
	_(LEARNER, N_("learner"), "learner")

enum health_role {
#define HEALTH_ROLE_ENUM(id, label, json) ROLE_##id,
	HEALTH_ROLE_INFO(HEALTH_ROLE_ENUM)
#undef HEALTH_ROLE_ENUM
	ROLE_COUNT
};

enum health_severity { SEVERITY_WARNING, SEVERITY_CRITICAL };

/* One graph point; NaN = no data at that time. */
struct health_point {
	uint64_t t_ms;
	double latency_ms;
	double fsync_p99;	/* seconds */
	double commit_p99;	/* seconds */
	double db_size;		/* bytes */
};

/* One counter point a minute, for increase()/rate() over 15 minutes. */
struct health_counter_point {
	uint64_t t_ms;
	double leader_changes;
	double proposals_failed;
	bool have_leader_changes;
	bool have_proposals_failed;
};

/* What SSH shows of a member's host (not from etcd itself): free space
 * under the data directory, the earliest expiry of the certificate files,
 * kubelet's state and whether etcd runs. */
#define HEALTH_HOST_POD_INFO(_)                       \
	_(UNKNOWN, N_("unknown"), "unknown")          \
	_(RUNNING, N_("running"), "running")          \
	_(NOT_RUNNING, N_("not running"), "not-running")

enum health_pod {
#define HEALTH_POD_ENUM(id, label, json) POD_##id,
	HEALTH_HOST_POD_INFO(HEALTH_POD_ENUM)
#undef HEALTH_POD_ENUM
	POD_COUNT
};

struct health_host {
	double disk_total, disk_avail;	/* bytes; NaN = unknown */
	char kubelet[24];		/* `systemctl is-active kubelet`, "" = unknown */
	enum health_pod pod;
	/* What kubelet reports of the etcd container (the lab's stand-in's
	 * status file): restarts and last exit code (-1 = unknown), the
	 * reason it waits (CrashLoopBackOff, ErrImagePull), readiness. */
	int pod_restarts, pod_last_exit;
	char pod_state[16], pod_reason[32];
	int pod_ready;			/* 1, 0, -1 = unknown */
	int64_t cert_expiry;		/* earliest notAfter (Unix time); 0 = none read */
	char cert_file[128];		/* the file that expires first */
	/* Scheduled snapshots (backup.schedule): the timer is installed; its
	 * last run and next two runs as systemd has them (the period: from the
	 * last run to the next, else between the next two);
	 * the newest snapshot's time (0 = none) and how many are kept. */
	bool backup_timer;
	int64_t backup_last;		/* its last run (0 = never, or unknown) */
	int64_t backup_next, backup_next2;
	int64_t backup_newest;
	int backup_count;
};

/* etcdwiz's own host alerts (the mixin has none for these). */
#define HEALTH_CERT_WARN_S (30 * 24 * 3600)
#define HEALTH_CERT_CRIT_S (7 * 24 * 3600)
#define HEALTH_DISK_FREE_WARN 0.10

/* Why a member that did not answer is not known to be down: its own
 * transport (the SSH session to its host) failed, so nothing was seen of
 * etcd there. Such a member is "unknown", never counted as down, and no
 * verdict is drawn from it. (etcd refusing the connection on its own host,
 * or answering unhealthy, is an observation: that member is down.) */
#define HEALTH_TRANSPORT_INFO(_)         \
	_(OK, "ok")                      \
	_(UNREACHABLE, "unreachable")    \
	_(LOGIN, "login")

enum health_transport {
#define HEALTH_TRANSPORT_ENUM(id, json) TRANSPORT_##id,
	HEALTH_TRANSPORT_INFO(HEALTH_TRANSPORT_ENUM)
#undef HEALTH_TRANSPORT_ENUM
	TRANSPORT_COUNT
};

/* What one refresh of one member brought; NULL = that call failed. */
struct health_observation {
	uint64_t t_ms;			/* loop_now() when it completed */
	double latency_ms;		/* status round trip; NaN if none */
	double refresh_ms;		/* the whole refresh took; NaN if unknown */
	const char *error;		/* first error of this refresh, or NULL */
	const struct etcd_status *status;
	const struct etcd_health *health;
	const struct etcd_version *version;
	const struct etcd_metrics *metrics;
	const struct health_host *host;
	/* Without a status: whether the transport itself failed, and the
	 * host it goes to ("cannot log in to HOST"). */
	enum health_transport transport;
	const char *transport_host;
};

struct health_member {
	char *name;			/* configured or from the member list */
	char *endpoint;			/* "https://10.0.0.1:2379" */

	bool polled;			/* one refresh has completed */
	bool reachable;			/* the last status call answered */
	/* Not reachable because the transport failed: not observed. */
	enum health_transport transport;
	char *transport_host;
	uint64_t t_ms;			/* time of the last refresh */
	double latency_ms;
	double refresh_ms;		/* the last refresh, start to end */
	char *error;			/* last refresh's error, NULL = none */

	bool have_status, have_health, have_version, have_metrics;
	struct etcd_status status;	/* last good answers */
	struct etcd_health health;
	struct etcd_version version;
	struct etcd_metrics metrics;
	bool have_host;
	struct health_host host;	/* last SSH check of the host */

	/* Baselines for the histogram windows, rotated every half window. */
	struct etcd_metrics base[2];
	uint64_t base_t[2];
	bool have_base[2];
	double fsync_p99, commit_p99, peer_rtt_p99;	/* NaN = no data */

	struct health_point hist[HEALTH_HISTORY];
	size_t hist_n, hist_head;	/* ring: next write at hist_head */
	struct health_counter_point counters[HEALTH_COUNTER_SLOTS];
	size_t counters_n, counters_head;
};

struct health_cluster {
	struct health_member *members;
	size_t n_members;
	struct etcd_member_list member_list;	/* the last good one */
	bool have_member_list;
	struct etcd_alarm_list alarms;
	bool have_alarms;
};

struct health_alert {
	const char *name;		/* etcd-mixin name, or NOSPACE/CORRUPT */
	enum health_severity severity;
	char *member;			/* NULL = the whole cluster */
	char *summary;			/* translated */
};

struct health_eval {
	enum health_badge badge;
	char *reason;			/* one translated line: why this badge */
	size_t voting;			/* voting members (learners excluded) */
	size_t up;			/* voting members that answered */
	size_t unknown;			/* voting members not observed (not yet
					 * polled, transport failed, or only in
					 * the member list): neither up nor down */
	size_t quorum;			/* voting/2 + 1 */
	size_t n_leaders;		/* distinct leaders reported */
	uint64_t leader_id;		/* when n_leaders == 1 */
	bool one_leader;		/* exactly one, and nobody else claims */
	size_t n_alarms;
	enum health_role *roles;	/* per cluster member */
	struct health_alert *alerts;
	size_t n_alerts;
};

const char *health_badge_label(enum health_badge b);	/* translated */
const char *health_badge_json(enum health_badge b);
const char *health_role_label(enum health_role r);	/* translated */
const char *health_role_json(enum health_role r);
const char *health_pod_label(enum health_pod p);	/* translated */
const char *health_transport_json(enum health_transport t);
/* "cannot log in to HOST" or "cannot reach HOST" for a member whose
 * transport failed, else NULL (translated; the caller frees). */
char *health_member_unknown_reason(const struct health_member *m);
/* The member was seen: it answered, or its failure was etcd's own. */
bool health_member_observed(const struct health_member *m);
const char *health_pod_json(enum health_pod p);
/* The etcd pod in words, as `crictl ps` and the pod status would say it:
 * "running", "running, not ready", "restarting (5 restarts, exit 1)",
 * "not running (ErrImagePull)". Translated; into buf. */
const char *health_pod_text(const struct health_host *h, char *buf, size_t size);
/* Parse the output of the host check (health-poll.c): "disk TOTAL AVAIL",
 * "kubelet STATE", "pod running|not-running", "podstatus KEY=VALUE" lines
 * (state, ready, reason, restarts, last_exit), then "cert PATH" lines each
 * followed by that file's PEM. Lines it does not know are skipped. */
void health_host_parse(const char *out, size_t len, struct health_host *h);
void health_host_init(struct health_host *h);

void health_cluster_init(struct health_cluster *c);
/* Adds a member record to be polled; returns it. */
struct health_member *health_cluster_add(struct health_cluster *c, const char *name,
					 const char *endpoint);
void health_cluster_free(struct health_cluster *c);
/* Keep the newest good member list / alarm list (copied). */
void health_cluster_set_member_list(struct health_cluster *c,
				    const struct etcd_member_list *l);
void health_cluster_set_alarms(struct health_cluster *c, const struct etcd_alarm_list *l);

/* Record one refresh: copies what it needs, recomputes the p99s over the
 * rate window and appends to the histories. */
void health_member_update(struct health_member *m, const struct health_observation *o);

/* Graph points oldest first: i in [0, hist_n). */
const struct health_point *health_member_point(const struct health_member *m, size_t i);
/* increase() of a counter over the last window_ms, counter resets handled;
 * NaN when there is no point old enough. which: 0 leader changes,
 * 1 failed proposals. *span_ms gets the time covered (may be NULL). */
double health_member_increase(const struct health_member *m, int which, uint64_t now_ms,
			      uint64_t window_ms, uint64_t *span_ms);

void health_evaluate(const struct health_cluster *c, uint64_t now_ms, struct health_eval *out);
void health_eval_free(struct health_eval *e);

/* The whole snapshot as one JSON object (for `status -o json`). */
enum wiz_err health_write_json(FILE *f, const struct health_cluster *c,
			       const struct health_eval *e, struct wiz_error *err);

/* JSON string with escaping (exposed for the tests). */
void health_json_string(FILE *f, const char *s);

#endif
