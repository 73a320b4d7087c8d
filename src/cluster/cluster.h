/* The cluster file: one YAML document (apiVersion etcdwiz/v1, kind Cluster)
 * that the wizard saves and `etcdwiz apply` replays. */
#ifndef WIZ_CLUSTER_H
#define WIZ_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "base/error.h"

#define CLUSTER_API_VERSION "etcdwiz/v1"
#define CLUSTER_KIND "Cluster"
#define CLUSTER_MAX_MEMBERS 9

struct strlist {
	char **items;
	size_t n;
};

struct kv {
	char *key;
	char *value;
};

struct kvlist {
	struct kv *items;
	size_t n;
};

/* Key algorithms, spelled as kubeadm's v1beta4 encryptionAlgorithm. */
#define PKI_ALGORITHM_INFO(_)              \
	_(RSA_2048, "RSA-2048")            \
	_(RSA_3072, "RSA-3072")            \
	_(RSA_4096, "RSA-4096")            \
	_(ECDSA_P256, "ECDSA-P256")        \
	_(ECDSA_P384, "ECDSA-P384")

enum pki_algorithm {
#define PKI_ALG_ENUM(id, name) PKI_ALG_##id,
	PKI_ALGORITHM_INFO(PKI_ALG_ENUM)
#undef PKI_ALG_ENUM
	PKI_ALG_COUNT
};

const char *pki_algorithm_name(enum pki_algorithm alg);
bool pki_algorithm_parse(const char *s, enum pki_algorithm *alg);

/* SSH settings. In a member's override, NULL / 0 / -1 mean "inherit". */
struct ssh_settings {
	char *user;
	int port;		/* 0 = inherit */
	char *identity_file;
	char *known_hosts;
	int sudo;		/* -1 = inherit, 0 = no, 1 = yes */
};

struct host {
	char *name;
	char *address;		/* advertise IP literal */
	char *ssh_host;		/* where SSH goes; NULL = address */
	struct ssh_settings ssh;
	struct strlist extra_sans;	/* members only */
	struct diag_pos pos;	/* where the entry starts in the file */
};

struct cluster {
	char *file;		/* path it was loaded from, for messages */
	char *name;
	char *kubernetes_version;

	struct {
		char *version;
		char *image;	/* NULL = registry.k8s.io/etcd:<version>-0 */
		char *data_dir;
		char *cluster_token;	/* NULL = generated at apply time */
		char *etcdctl_binary;	/* local etcdctl to upload; NULL = the host's package */
		struct kvlist extra_args;
	} etcd;

	struct {
		char *kind;
		char *version;	/* NULL = same minor as kubernetesVersion */
		bool install;
	} runtime;

	struct {
		char *kubernetes;	/* NULL = official */
		char *crio;
	} repositories;

	/* Scheduled snapshots on every member (a systemd timer); none when
	 * schedule is NULL. */
	struct {
		char *schedule;	/* systemd OnCalendar ("daily", "*-*-* 00,12:00:00") */
		unsigned keep;	/* newest snapshots kept on each member */
		char *dir;	/* on each member, outside the data directory */
	} backup;

	struct {
		enum pki_algorithm algorithm;
		uint64_t ca_validity;	/* seconds */
		uint64_t cert_validity;	/* seconds */
		struct strlist ca_key_on;
		char *dir;		/* local store; NULL = default */
	} pki;

	struct ssh_settings ssh;
	struct kvlist host_keys;	/* host -> "SHA256:..." */

	struct host *members;
	size_t n_members;

	struct {
		bool present;
		char *endpoint;
		char *pod_subnet;
		struct strlist cert_sans;
		struct host *hosts;
		size_t n_hosts;
	} control_plane;
};

/* Defaults for everything, no members; name may be NULL. */
void cluster_init(struct cluster *c, const char *name);
void cluster_free(struct cluster *c);

/* Parse and validate. Every problem goes to diags as file:line:col; the
 * return value is WIZ_ERR_PARSE/INVALID when any error was recorded. */
enum wiz_err cluster_load(const char *path, struct cluster *c,
			  struct diag_list *diags);
enum wiz_err cluster_load_string(const char *name, const char *yaml,
				 size_t len, struct cluster *c,
				 struct diag_list *diags);
/* Frees what a host entry owns (one taken out of a cluster's array). */
void cluster_host_free(struct host *h);
/* Semantic checks on an in-memory cluster (used by load and by the wizard). */
void cluster_validate(const struct cluster *c, struct diag_list *diags);

/* Canonical YAML, written atomically with mode 0600. */
enum wiz_err cluster_save(const struct cluster *c, const char *path,
			  struct wiz_error *err);
/* Copies the file at path to path.bak (0600, atomically) before it is
 * rewritten: the admin's previous file is always there to go back to. */
enum wiz_err cluster_keep_backup(const char *path, struct wiz_error *err);
enum wiz_err cluster_emit(const struct cluster *c, char **out, size_t *len,
			  struct wiz_error *err);

#define CLUSTER_DEFAULT_BACKUP_KEEP 5
#define CLUSTER_DEFAULT_BACKUP_DIR "/var/lib/etcd-backups"

/* ssh.user and ssh.port when neither the host nor the cluster says. */
#define CLUSTER_DEFAULT_SSH_USER "root"
#define CLUSTER_DEFAULT_SSH_PORT 22

/* Effective per-host values after inheritance from the cluster's ssh block,
 * with the defaults above: every front end shows and uses these. */
void cluster_host_ssh(const struct cluster *c, const struct host *h,
		      struct ssh_settings *out);
const char *cluster_host_ssh_target(const struct host *h);
/* registry.k8s.io/etcd:<version>-0 unless etcd.image is set; caller frees. */
char *cluster_etcd_image(const struct cluster *c);
const struct host *cluster_find_member(const struct cluster *c,
				       const char *name);

/* Membership edits (cluster-members.c), shared by `member` and the
 * wizard; each refuses with a message and changes nothing then. take:
 * the member leaves the array into *gone (free it with
 * cluster_host_free). move: the member gets a new address; *old is its
 * old host (own strings: cluster_host_free), and its pinned host key is
 * dropped (*pin_dropped) since a new host has a new key. */
enum wiz_err cluster_member_add(struct cluster *c, const char *name, const char *address,
				struct wiz_error *err);
enum wiz_err cluster_member_take(struct cluster *c, const char *name, struct host *gone,
				 struct wiz_error *err);
enum wiz_err cluster_member_move(struct cluster *c, const char *name, const char *address,
				 struct host *old, bool *pin_dropped, struct wiz_error *err);

/* "8760h", "365d", "90m", "1h30m" -> seconds. */
bool duration_parse(const char *s, uint64_t *seconds);
/* Canonical form: "<n>h" when whole hours, else Go-like "1h2m3s". */
char *duration_format(uint64_t seconds);

void strlist_push(struct strlist *l, const char *s);
void strlist_free(struct strlist *l);
bool strlist_contains(const struct strlist *l, const char *s);
void kvlist_set(struct kvlist *l, const char *key, const char *value);
const char *kvlist_get(const struct kvlist *l, const char *key);
void kvlist_unset(struct kvlist *l, const char *key);
void kvlist_free(struct kvlist *l);

#endif
