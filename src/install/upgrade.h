/* etcd's upgrade rules (docs/operations.md, "Upgrading etcd"): which
 * version a running member may go to, and whether the cluster is fit for
 * a rolling upgrade. Pure: the manifest step refuses a plan with these,
 * `etcdwiz upgrade` and the wizard's Upgrade screen show them. */
#ifndef WIZ_UPGRADE_H
#define WIZ_UPGRADE_H

#include <stdbool.h>
#include <stdio.h>

#include "cluster/cluster.h"
#include "install/membership.h"

struct etcd_semver {
	int major, minor, patch;
};

/* "3.5.16" or "v3.5.16" (a "-0" image suffix is ignored). */
bool etcd_semver_parse(const char *s, struct etcd_semver *out);
int etcd_semver_cmp(const struct etcd_semver *a, const struct etcd_semver *b);

/* A minor upgrade's condition: to go to to_major.to_minor, every member
 * must run at least min_from first; source is where etcd says so. The
 * one place these numbers live. */
struct upgrade_minimum {
	int to_major, to_minor;
	const char *min_from;
	const char *source;
};
extern const struct upgrade_minimum upgrade_minimums[];

enum upgrade_kind {
	UPGRADE_SAME,		/* nothing to do */
	UPGRADE_PATCH,		/* a newer patch of the same minor */
	UPGRADE_MINOR,		/* the next minor */
	UPGRADE_DOWNGRADE,	/* an older patch of the same minor (--allow-downgrade) */
	UPGRADE_REFUSED,
};

/* What going from one member's version to another is; when refused, or a
 * downgrade without allow_downgrade, *why (owned) says why and the path
 * to take. *why is NULL otherwise. */
enum upgrade_kind upgrade_path(const char *from, const char *to, bool allow_downgrade, char **why);

/* What etcd's path allows from a version, in words ("a later 3.5
 * patch, or 3.6 once every member runs 3.5.32 or later"; owned). */
char *upgrade_allowed_text(const char *from);

/* The version a running member reports (live view), or "" when unknown. */
const char *upgrade_member_version(const struct cluster *c, const struct live_cluster *l, size_t i);

/* True when some file member of the running cluster reports a version
 * other than etcd.version. */
bool upgrade_pending(const struct cluster *c, const struct live_cluster *l);

/* The checks before a rolling upgrade: every file member healthy and
 * viewed, the same cluster version (/version etcdcluster) on all, no
 * alarm, no learner, and each member's path allowed. NULL when fit; else
 * why not (owned). */
char *upgrade_refusal(const struct cluster *c, const struct live_cluster *l, bool allow_downgrade);

/* The "upgrade" section of `plan`: from which versions to which, the
 * order (followers first, the leader last), the snapshot first. Nothing
 * when no member changes version. */
void upgrade_print(const struct cluster *c, const struct live_cluster *l, bool snapshot_first,
		   bool allow_downgrade, FILE *out);

#endif
