/* The cluster as etcd knows it (its member list, read from a running
 * member before planning) against the cluster file (the wanted state):
 * which file member is a voter already, which is a learner to promote,
 * which must be added, and which live members the file no longer names.
 * Pure: the engine reads the list (engine.c), steps and `plan` use this. */
#ifndef WIZ_MEMBERSHIP_H
#define WIZ_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cluster/cluster.h"
#include "etcd/etcd-ask.h"
#include "etcd/etcd-json.h"

struct live_member {
	uint64_t id;
	char *name;		/* "" until the member has started */
	char *peer_url;		/* its first peer URL */
	char *client_url;	/* its first client URL, "" before it started */
	bool learner;
	/* What it said when asked from here (file members only). */
	bool viewed;
	struct etcd_member_view view;
	bool in_file;		/* the file names it (set with the views) */
};

struct live_cluster {
	bool known;		/* the read is over (it may have found nothing) */
	bool running;		/* a member answered with its member list */
	char *asked;		/* that member's name */
	struct live_member *members;
	size_t n;
	char why[400];		/* not running: what the members said */
	/* Members of the file that were not asked because --limit left them
	 * out ("etcd-1, etcd-2"; "" when none): nobody answering then does not
	 * prove the cluster is not running. */
	char unasked[200];
	/* The file's members that can join in this run (selected, connected);
	 * an earlier joiner not among them is not in a later one's
	 * --initial-cluster. NULL: all. */
	const struct strlist *joinable;
	bool prune;		/* members the file does not name are removed */
	const struct strlist *prune_only;	/* ... only these (NULL: all) */
};

void live_cluster_set(struct live_cluster *l, const struct etcd_member_list *list,
		      const char *asked);
void live_cluster_free(struct live_cluster *l);
const struct live_member *live_find_peer(const struct live_cluster *l, const char *peer_url);
const struct live_member *live_find_name(const struct live_cluster *l, const char *name);
size_t live_voters(const struct live_cluster *l);

#define MEMBER_CHANGE_INFO(_)                                              \
	_(BOOTSTRAP, "bootstrap")	/* no running cluster: starts it */ \
	_(KEEP, "keep")			/* a voting member already */      \
	_(PROMOTE, "promote")		/* added as a learner: promote */  \
	_(ADD, "add")			/* not in the cluster: join */      \
	_(REPLACE, "replace")		/* its name is there, another URL */

enum member_change {
#define MEMBER_CHANGE_ENUM(id, name) MEMBER_##id,
	MEMBER_CHANGE_INFO(MEMBER_CHANGE_ENUM)
#undef MEMBER_CHANGE_ENUM
};

/* What file member i needs; *found (may be NULL) is its live entry. */
enum member_change membership_change(const struct cluster *c, const struct live_cluster *l,
				     size_t i, const struct live_member **found);
/* A file member's peer URL (https://ADDRESS:2380). */
char *member_peer_url(const struct host *m);
/* --initial-cluster for file member i joining the running cluster: every
 * live member (a member that never started under the file's name for its
 * URL), then the file's members before i that join too (they join first,
 * one at a time), then i. NULL when the cluster is not running. */
char *membership_initial_cluster(const struct cluster *c, const struct live_cluster *l, size_t i);
/* True when the file names a member with this peer URL or name. */
bool membership_in_file(const struct cluster *c, const struct live_member *m);

/* Why a live member leaves the cluster: not named by the file (only with
 * --prune-members), or its name is in the file at another address (a
 * replace: removed first, then the file's member is added). */
enum member_leave { LEAVE_NO, LEAVE_PRUNE, LEAVE_REPLACED };
enum member_leave membership_leaves(const struct cluster *c, const struct live_cluster *l,
				    const struct live_member *m);
/* NULL when every leaving member can be removed one after the other with
 * the remaining healthy voters still a quorum; else why not (owned). */
char *membership_refusal(const struct cluster *c, const struct live_cluster *l);

/* The hex id etcdctl prints; buf has 17 bytes. */
const char *member_hex_id(char *buf, uint64_t id);

/* The "cluster" section of `plan`: running or not, each member with id
 * and role, each membership change as its own line, and (snapshot_first)
 * that a snapshot is taken before them. */
void membership_print(const struct cluster *c, const struct live_cluster *l, bool snapshot_first,
		      FILE *out);
/* Members to add, replace, promote or remove: the changes a snapshot is
 * taken before (0 when the cluster does not run). */
size_t membership_changes(const struct cluster *c, const struct live_cluster *l);

#endif
