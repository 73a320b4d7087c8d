/* etcd's grpc-gateway and HTTP JSON responses (REFERENCE.md §7), read with
 * libyaml's document API: JSON is YAML, so the parser that already reads
 * the cluster file reads these too, and nothing here searches strings.
 *
 * The gateway writes proto field names, int64/uint64 as JSON strings, and
 * omits zero/false fields (EmitUnpopulated false): every field here has a
 * zero default, and unknown fields (3.6's storageVersion, dbSizeQuota, ...)
 * are skipped so newer servers still parse. A field present with the wrong
 * type is an error that names the field. */
#ifndef WIZ_ETCD_JSON_H
#define WIZ_ETCD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "cluster/cluster.h"

/* Responses larger than this are refused (a status is ~300 bytes). */
#define ETCD_JSON_MAX (1024 * 1024)

/* ResponseHeader. */
struct etcd_header {
	uint64_t cluster_id;
	uint64_t member_id;
	uint64_t revision;
	uint64_t raft_term;
};

/* POST /v3/maintenance/status */
struct etcd_status {
	struct etcd_header header;
	char *version;			/* "3.4.23"; never NULL after parsing */
	uint64_t db_size;
	uint64_t db_size_in_use;
	uint64_t leader;		/* member ID; 0 = no leader */
	uint64_t raft_index;
	uint64_t raft_term;
	uint64_t raft_applied_index;
	bool is_learner;
	struct strlist errors;		/* "memberID:… alarm:NOSPACE " */
};

/* POST /v3/cluster/member/list */
struct etcd_member {
	uint64_t id;
	char *name;			/* "" for an unstarted member */
	struct strlist peer_urls;
	struct strlist client_urls;
	bool is_learner;
};

struct etcd_member_list {
	struct etcd_header header;
	struct etcd_member *members;
	size_t n_members;
};

/* POST /v3/cluster/member/add: the new member (no name yet) and every
 * member with it. Promote and remove answer a member list. */
struct etcd_member_add {
	struct etcd_header header;
	struct etcd_member member;
	struct etcd_member_list list;
};

/* An error the gateway answers instead ({"code":9,"message":"etcdserver:
 * ..."}; 3.4 adds "error"): the gRPC code and etcd's message. The HTTP
 * status of a code changed between gateway versions: branch on these. */
struct etcd_error {
	int code;
	char *message;			/* "" when absent */
};

/* POST /v3/maintenance/alarm {"action":"GET"} */
#define ETCD_ALARM_INFO(_)      \
	_(NONE, "NONE")         \
	_(NOSPACE, "NOSPACE")   \
	_(CORRUPT, "CORRUPT")   \
	_(UNKNOWN, "UNKNOWN")

enum etcd_alarm_type {
#define ETCD_ALARM_ENUM(id, name) ETCD_ALARM_##id,
	ETCD_ALARM_INFO(ETCD_ALARM_ENUM)
#undef ETCD_ALARM_ENUM
	ETCD_ALARM_COUNT
};

struct etcd_alarm {
	uint64_t member_id;
	enum etcd_alarm_type type;
};

struct etcd_alarm_list {
	struct etcd_header header;
	struct etcd_alarm *alarms;
	size_t n_alarms;
};

/* GET /version */
struct etcd_version {
	char *server;			/* "3.4.23" */
	char *cluster;			/* "3.4.0" or "not_decided" */
};

/* GET /health: {"health":"true","reason":""} (3.4 omits reason). */
struct etcd_health {
	bool healthy;
	char *reason;			/* "" when absent */
};

const char *etcd_alarm_name(enum etcd_alarm_type t);

/* Each parser fills *out (zeroed first; free it with the matching _free
 * even after an error) and returns OK or PARSE with a message naming the
 * endpoint and the field. */
enum wiz_err etcd_json_parse_status(const char *buf, size_t len,
				    struct etcd_status *out,
				    struct wiz_error *err);
enum wiz_err etcd_json_parse_member_list(const char *buf, size_t len,
					 struct etcd_member_list *out,
					 struct wiz_error *err);
enum wiz_err etcd_json_parse_member_add(const char *buf, size_t len,
					struct etcd_member_add *out,
					struct wiz_error *err);
/* A promote's or a remove's answer: the members after it. */
enum wiz_err etcd_json_parse_members_after(const char *what, const char *buf, size_t len,
					   struct etcd_member_list *out,
					   struct wiz_error *err);
enum wiz_err etcd_json_parse_error(const char *buf, size_t len, struct etcd_error *out,
				   struct wiz_error *err);
enum wiz_err etcd_json_parse_alarms(const char *buf, size_t len,
				    struct etcd_alarm_list *out,
				    struct wiz_error *err);
enum wiz_err etcd_json_parse_version(const char *buf, size_t len,
				     struct etcd_version *out,
				     struct wiz_error *err);
enum wiz_err etcd_json_parse_health(const char *buf, size_t len,
				    struct etcd_health *out,
				    struct wiz_error *err);

void etcd_status_free(struct etcd_status *s);
void etcd_member_list_free(struct etcd_member_list *l);
void etcd_member_add_free(struct etcd_member_add *a);
void etcd_error_free(struct etcd_error *e);

/* One line of POST /v3/maintenance/snapshot's stream:
 * {"result":{"remaining_bytes":"N","blob":"<base64>"}} (both omitted when
 * zero or empty), or {"error":{"message":...}} when etcd stopped. */
struct etcd_snapshot_line {
	uint64_t remaining_bytes;
	char *blob;			/* base64; "" when absent */
	bool is_error;
	struct etcd_error error;	/* when is_error */
};
/* A line may be a little over ETCD_SNAPSHOT_LINE_MAX (a 32 KiB blob in
 * base64 is 43.7 KB); longer is refused. */
#define ETCD_SNAPSHOT_LINE_MAX (256 * 1024)
enum wiz_err etcd_json_parse_snapshot_line(const char *buf, size_t len,
					   struct etcd_snapshot_line *out,
					   struct wiz_error *err);
void etcd_snapshot_line_free(struct etcd_snapshot_line *l);
void etcd_alarm_list_free(struct etcd_alarm_list *l);
void etcd_version_free(struct etcd_version *v);
void etcd_health_free(struct etcd_health *h);

/* Deep copies (the health model keeps the last good answer). */
void etcd_status_copy(struct etcd_status *dst, const struct etcd_status *src);

#endif
