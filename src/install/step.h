/* A step of the install is a table entry (src/install/steps/<name>.c): a read-only
 * check that runs on a host and prints what it finds in named sections, and
 * a pure plan function that turns those findings into the exact files and
 * commands the step would apply there. The engine runs checks on all hosts
 * at once, plans, shows or applies the plan, then checks again: a step is
 * done on a host when its plan there is empty. */
#ifndef WIZ_STEP_H
#define WIZ_STEP_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster/cluster.h"
#include "install/plan.h"

/* What /etc/os-release says, and the package family that follows. */
enum os_family { OS_UNKNOWN, OS_DEBIAN, OS_RHEL };

struct os_info {
	enum os_family family;
	char id[32];		/* debian, ubuntu, rhel, rocky, almalinux, centos */
	char version_id[16];	/* 12, 24.04, 9.4 */
	char pretty[96];
	bool supported;
};

/* Parse /etc/os-release text. Supported: Debian 12, Ubuntu 22.04 and 24.04,
 * RHEL-family 8 and 9 (rhel, rocky, almalinux, centos stream, ol). */
void os_info_parse(const char *os_release, struct os_info *os);

struct step_env {
	const struct cluster *cluster;
	const struct host *host;
	bool is_member;
	size_t member_index;
	const char *probe;	/* the check's output (NULL before the check ran) */
	int probe_status;	/* the check's exit status */
	const struct os_info *os;	/* from the preflight probe */
	const char *cluster_token;	/* etcd.clusterToken or the generated one */
	const struct strlist *ignore_preflight;	/* names, lower-case; "all" */
	bool applying;		/* checks may wait (bounded) for results only when applying */
	bool kubeadm_init;	/* apply --kubeadm-init: run kubeadm init on the first control-plane host */
	unsigned health_timeout_s;	/* verify's wait when applying; 0: the default */
	/* Local files the step uploads (the PKI store), read by the engine. */
	char *(*read_local)(const struct step_env *env, const char *rel, size_t *len);
	void *ud;
};

enum step_hosts { STEP_MEMBERS = 1, STEP_CONTROL_PLANE = 2 };

struct step {
	const char *name;	/* for --steps and the journal */
	const char *title;	/* N_() */
	unsigned hosts;		/* STEP_MEMBERS | STEP_CONTROL_PLANE */
	/* Shell text of a read-only probe printing "@@section" lines followed by
	 * that section's content. Caller frees. */
	char *(*check)(const struct step_env *env);
	/* Pure: findings and actions from env->probe. */
	void (*plan)(const struct step_env *env, struct plan *plan);
	/* Optional shell text run after the actions (e.g. a bounded wait for
	 * health); its failure fails the step on that host. Caller frees. */
	char *(*after_apply)(const struct step_env *env);
	/* Optional: the whole check's bound in seconds, for checks that wait
	 * (default PROBE_EXEC_TIMEOUT_S). */
	unsigned (*check_timeout_s)(const struct step_env *env);
};

/* verify's wait for health when applying (apply --health-timeout). */
#define VERIFY_DEFAULT_TIMEOUT_S 180
/* A whole check, every command in it bounded on its own (PROBE_TIMEOUT_S). */
#define PROBE_EXEC_TIMEOUT_S 120
/* One command in a check that runs a program which may hang (a broken
 * kubelet, a busy systemd): `timeout` ends it and the check says so. */
#define PROBE_TIMEOUT_S 10
#define PROBE_STR_(x) #x
#define PROBE_STR(x) PROBE_STR_(x)
#define PROBE_BOUNDED "timeout -k 2 " PROBE_STR(PROBE_TIMEOUT_S) " "


extern const struct step *const step_table[];
const struct step *step_find(const char *name);

/* The text of "@@name" in a probe's output (without the marker line), or
 * NULL when the section is absent. Caller frees. */
char *probe_section(const char *probe, const char *name);
/* The value of "key=value" lines in a section (first match), or NULL. */
char *probe_value(const char *probe, const char *section, const char *key);

/* "3.5.21" >= "3.5.11"? (missing parts count as 0) */
bool version_at_least(const char *version, int major, int minor, int patch);
/* "https://<address>:<port>", with brackets around an IPv6 address. */
char *url_for(const char *scheme, const char *address, int port);

/* Shared shell fragments for checks. */
#define PROBE_SECTION(name) "echo '@@" name "'; "


/* ---- files on a host, as a check sees them ---- */
struct remote_file {
	bool exists;
	char *content;		/* NULL for secrets (only the hash is read) */
	size_t len;
	unsigned mode;		/* permission bits */
	char owner[64];		/* "root:root" */
	char sha256[65];	/* hex, for secrets */
	bool parent_exists;	/* its directory is there (false: create it first) */
};

/* "/a/b/c" -> "/a/b". Caller frees. */
char *parent_dir(const char *path);
/* The mode etcdwiz gives a directory it creates (0755 unless the table says). */
mode_t dir_mode_for(const char *dir);
/* Adds "install -d -m MODE -o root -g root DIR" unless the plan has it. */
void plan_directory(struct plan *p, const char *dir, mode_t mode);

/* Shell text that prints a file's mode, owner and content (or, for a
 * secret, only its SHA-256) in sections a later probe_file finds. */
char *probe_file_cmd(const char *path, bool secret);
void probe_file(const char *probe, const char *path, struct remote_file *f);
void remote_file_free(struct remote_file *f);
/* Adds a file action unless the host already has exactly that file. */
void plan_ensure_file(struct plan *p, const struct remote_file *have, const char *path,
		      const char *content, size_t len, mode_t mode, const char *owner,
		      bool secret, const char *summary);
/* Probe text for files under /etc/kubernetes/pki (rels NULL-terminated),
 * read by hash only: they include keys. */
char *probe_pki_files_cmd(const char *const rels[]);
/* Install the local PKI store's file rel at /etc/kubernetes/pki/rel,
 * root:root 0600, unless the host has it already; a file missing from the
 * store is a warning while planning and an error when applying. */
void plan_pki_file(const struct step_env *env, struct plan *plan, const char *rel);

/* Hex SHA-256 of data (65 bytes with the NUL). */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
