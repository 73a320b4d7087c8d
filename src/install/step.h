/* A step of the install is a table entry (src/install/steps/<name>.c): what
 * it reads on a host, declared (files and named items: probe.h), and a pure
 * plan function that turns the parsed findings into the exact files and
 * commands the step would apply there. The engine reads for all steps of a
 * host in one exec, plans, shows or applies the plan, then reads again: a
 * step is done on a host when its plan there is empty. */
#ifndef WIZ_STEP_H
#define WIZ_STEP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/strutil.h"
#include "cluster/cluster.h"
#include "etcd/etcd-ask.h"
#include "install/os-release.h"
#include "install/plan.h"
#include "install/probe.h"

struct live_cluster;

struct step_env {
	const struct cluster *cluster;
	const struct host *host;
	bool is_member;
	size_t member_index;
	const struct probe *probe;	/* what its reads found (NULL before they ran) */
	int probe_status;	/* the check's exit status */
	const struct os_info *os;	/* from the preflight probe */
	const char *cluster_token;	/* etcd.clusterToken or the generated one */
	const struct strlist *ignore_preflight;	/* names, lower-case; "all" */
	bool applying;		/* checks may wait (bounded) for results only when applying */
	bool kubeadm_init;	/* apply --kubeadm-init: run kubeadm init on the first control-plane host */
	unsigned health_timeout_s;	/* verify's wait when applying; 0: the default */
	bool allow_downgrade;	/* a patch downgrade of etcd is wanted (upgrade.h) */
	/* A step that asks etcd: what the member said from here (NULL when
	 * not asked), and how long the engine waited for it. */
	const struct etcd_member_view *etcd;
	unsigned etcd_waited_s;
	/* The cluster as etcd lists it, read before the steps that need it
	 * (membership.h); NULL or not running before a first bootstrap. */
	const struct live_cluster *live;
	/* Local files the step uploads (the PKI store), read by the engine. */
	char *(*read_local)(const struct step_env *env, const char *rel, size_t *len);
	void *ud;
};

enum step_hosts { STEP_MEMBERS = 1, STEP_CONTROL_PLANE = 2 };

struct step {
	const char *name;	/* for --steps and the journal */
	const char *title;	/* N_() */
	unsigned hosts;		/* STEP_MEMBERS | STEP_CONTROL_PLANE */
	/* What its plan reads on the host: files (probe_read_file, read with
	 * every other step's in one block) and named items (probe_read_item),
	 * all read-only. */
	void (*reads)(const struct step_env *env, struct probe_request *out);
	/* Pure: findings and actions from env->probe. */
	void (*plan)(const struct step_env *env, struct plan *plan);
	/* Optional: the whole check's bound in seconds, for checks that wait
	 * (default PROBE_EXEC_TIMEOUT_S). */
	unsigned (*check_timeout_s)(const struct step_env *env);
	/* Starts on a host only when every live host has finished the steps
	 * before it (its check may wait for the others' results). When
	 * applying, its check runs on its own at that point. */
	bool barrier;
	/* Its findings say the cluster is not healthy yet (verify): a plan
	 * with nothing to change but such a finding still needs an apply
	 * that waits for health. */
	bool health_gate;
	/* Its plan reads the member's etcd from here (env->etcd): the engine
	 * asks each member over its session, and when applying asks again
	 * every 0.25 s until the member is healthy and started under its name
	 * or the --health-timeout bound passes; only then, and only if not,
	 * does the shell check run (for what etcd cannot say: the pod's log). */
	bool asks_etcd;
	/* Its plan reads the cluster's member list (env->live): the engine
	 * reads it from a running member before the first host plans it. */
	bool reads_cluster;
};

/* The wait between two asks of a member while applying, and one try's bound. */
#define ETCD_ASK_INTERVAL_MS 250
#define ETCD_ASK_TRY_MS 5000

/* verify's wait for health when applying (apply --health-timeout). */
#define VERIFY_DEFAULT_TIMEOUT_S 180

extern const struct step *const step_table[];
const struct step *step_find(const char *name);

/* The mode etcdwiz gives a directory it creates (0755 unless the table says). */
mode_t dir_mode_for(const char *dir);
/* Adds "install -d -m MODE -o root -g root DIR" unless the plan has it. */
void plan_directory(struct plan *p, const char *dir, mode_t mode);

/* Adds a file action unless the host already has exactly that file. */
void plan_ensure_file(struct plan *p, const struct remote_file *have, const char *path,
		      const char *content, size_t len, mode_t mode, const char *owner,
		      bool secret, const char *summary);
/* Install the local PKI store's file rel at /etc/kubernetes/pki/rel,
 * root:root 0600, unless the host has it already; a file missing from the
 * store is a warning while planning and an error when applying. */
void plan_pki_file(const struct step_env *env, struct plan *plan, const char *rel);

#endif
