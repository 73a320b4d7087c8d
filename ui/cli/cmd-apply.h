/* The plan, confirm, apply flow `plan` and `apply` run (cmd-apply.c),
 * shared with `member` (cmd-member.c), which edits the cluster in memory
 * first. Only ui/cli includes this. */
#ifndef WIZ_CMD_APPLY_H
#define WIZ_CMD_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <getopt.h>
#include <stdio.h>

#include "cluster/cluster.h"
#include "pki/pki-store.h"
#include "ui/cli/cmd.h"

struct loop;
struct ssh_ctx;
struct fleet;
struct check_cache;
struct live_cluster;
struct plan_listing;

struct run {
	const struct cmd_entry *entry;
	const char *file;
	bool yes, verbose, accept_new, kubeadm_init, prune_members;
	bool no_snapshot;	/* --no-snapshot: membership changes without one */
	bool per_host;		/* --per-host: the plan host by host, as it comes */
	struct plan_listing *listing;	/* the plan pass's lines, grouped at its end */
	size_t member_changes;	/* the plan's membership changes (a snapshot first) */
	bool upgrading;		/* the plan changes a running member's etcd version (a snapshot first) */
	bool allow_downgrade;	/* `upgrade --allow-downgrade` */
	/* Called with the cluster as the plan pass read it (`upgrade` keeps
	 * each member's version before the change). */
	void (*cluster_read)(struct run *r, const struct live_cluster *l);
	struct strlist limit, steps, ignore;
	struct cluster c;
	struct pki_store store;
	char *token;
	size_t n_changes;	/* hosts x steps that would change, in plan mode */
	size_t n_errors;
	size_t n_unhealthy;	/* members verify found not healthy (a Health finding) */
	unsigned health_timeout_s;
	FILE *out;
	/* One connection per host for every pass of the run. */
	struct loop *loop;
	struct ssh_ctx *ssh;
	struct fleet *fleet;
	struct check_cache *checks;	/* the plan pass's, for the apply pass */
	/* `member`: what it lists or changes. list_members prints the member
	 * table instead of the plan. Once the admin said yes: prepare (before
	 * the certificates are made), commit (they are: the member commands
	 * write the cluster file here), then the apply, then after (with its
	 * status). leaving: the host of a member being removed; prune_only:
	 * only these go. refused: the plan found a membership change that
	 * would lose quorum (nothing is asked, nothing applied). */
	bool list_members;
	int (*prepare)(struct run *r);
	int (*commit)(struct run *r);
	void (*after)(struct run *r, int status);
	bool refused;
	bool member_failed;	/* the apply pass refused or failed a removal */
	const struct host *leaving;
	size_t n_leaving;
	const struct strlist *prune_only;
	void *ud;
};

/* The options both take (-f -y -l -s -i -A -v -K -T -P -N --per-host): true when c
 * was one (*status set on a usage error: then stop with it). */
#define RUN_SHORT_OPTS "f:yl:s:i:AvKT:PN"
#define RUN_OPT_PER_HOST 1000
bool run_option(struct run *r, int c, const char *arg, int *status, bool *stop);
extern const struct option run_long_opts[];
/* Loads r->file into r->c, printing every problem; false when invalid. */
bool run_load(struct run *r);
/* r->c loaded: checks --limit and --steps, then plan, and (apply) ask,
 * before_apply, certificates, apply. Frees nothing of r's own. */
int run_flow(struct run *r, bool apply);
void run_free(struct run *r);
/* Moves a member's certificates out of the local store's members/ (a
 * member removed or replaced: never reused, never deleted). */
int run_store_set_aside(struct run *r, const char *name, const char *why);
/* `member list`'s table (cmd-member.c). */
struct live_cluster;
void member_table_print(struct run *r, const struct live_cluster *l);

#endif
