/* etcd's /metrics (Prometheus text exposition format 0.0.4), reduced to the
 * series the health view needs (REFERENCE.md §7.5, UX-AND-SECURITY.md §A2).
 * Histograms are kept as their cumulative _bucket counters so that a
 * quantile can be taken over the difference of two scrapes, the way
 * histogram_quantile(0.99, rate(x_bucket[w])) does. */
#ifndef WIZ_ETCD_METRICS_H
#define WIZ_ETCD_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define METRICS_MAX_BUCKETS 32
#define METRICS_MAX_PEERS 16

/* Cumulative buckets sorted by upper bound; the last one is +Inf when the
 * exposition was complete. */
struct metrics_histogram {
	size_t n;
	double le[METRICS_MAX_BUCKETS];
	double count[METRICS_MAX_BUCKETS];
};

/* The scalar series: id, metric name. */
#define METRICS_GAUGE_INFO(_)                                                     \
	_(HAS_LEADER, "etcd_server_has_leader")                                   \
	_(IS_LEADER, "etcd_server_is_leader")                                     \
	_(LEADER_CHANGES, "etcd_server_leader_changes_seen_total")                \
	_(DB_TOTAL, "etcd_mvcc_db_total_size_in_bytes")                           \
	_(DB_IN_USE, "etcd_mvcc_db_total_size_in_use_in_bytes")                   \
	_(QUOTA, "etcd_server_quota_backend_bytes")                               \
	_(PROPOSALS_FAILED, "etcd_server_proposals_failed_total")                 \
	_(PROPOSALS_PENDING, "etcd_server_proposals_pending")                     \
	_(FD_USED, "os_fd_used")                                                  \
	_(FD_LIMIT, "os_fd_limit")

enum metrics_gauge {
#define METRICS_GAUGE_ENUM(id, name) METRICS_##id,
	METRICS_GAUGE_INFO(METRICS_GAUGE_ENUM)
#undef METRICS_GAUGE_ENUM
	METRICS_GAUGE_COUNT
};

struct metrics_peer {
	char to[24];		/* the To label: a member ID in hex */
	struct metrics_histogram rtt;
};

struct etcd_metrics {
	double value[METRICS_GAUGE_COUNT];
	bool have[METRICS_GAUGE_COUNT];
	struct metrics_histogram wal_fsync;	/* etcd_disk_wal_fsync_duration_seconds */
	struct metrics_histogram backend_commit; /* etcd_disk_backend_commit_duration_seconds */
	struct metrics_peer peers[METRICS_MAX_PEERS]; /* etcd_network_peer_round_trip_time_seconds */
	size_t n_peers;
	size_t samples;		/* sample lines read (all series) */
};

const char *metrics_gauge_name(enum metrics_gauge g);

/* Parse a whole exposition. Lines of other series are skipped; a malformed
 * sample line of a wanted series is an error naming its line. */
enum wiz_err etcd_metrics_parse(const char *text, size_t len,
				struct etcd_metrics *out, struct wiz_error *err);

/* Prometheus' histogram_quantile (promql/quantile.go bucketQuantile):
 * linear interpolation inside the bucket that holds rank q*count, the lower
 * bound of the first bucket being 0; the +Inf bucket answers with the
 * highest finite bound. NaN when there are no observations, no +Inf bucket
 * or fewer than two buckets. */
double metrics_histogram_quantile(double q, const struct metrics_histogram *h);

/* out = now - before, bucket by bucket (a rate window). When the buckets
 * differ or a counter went down (the server restarted), out = now. */
void metrics_histogram_delta(const struct metrics_histogram *now,
			     const struct metrics_histogram *before,
			     struct metrics_histogram *out);

/* The highest p-quantile over every peer's round-trip histogram, each taken
 * over the window from `before` (may be NULL: since the server started). */
double metrics_peer_rtt_quantile(double q, const struct etcd_metrics *now,
				 const struct etcd_metrics *before);

/* Locale-independent strtod for the exposition's numbers ("1.5e+09",
 * "+Inf", "NaN"): the program runs under setlocale(LC_ALL, ""). */
bool metrics_parse_double(const char *s, const char *end, double *out);

#endif
