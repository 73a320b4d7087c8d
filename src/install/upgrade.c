/* etcd's upgrade rules (upgrade.h). The paths are etcd's own: a patch at
 * a time or the next minor, never two minors at once, and before some
 * minors a minimum patch of the one before. */
#include "config.h"

#include "install/upgrade.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"

/* etcd's upgrade guides (etcd-io/website, content/en/docs/<minor>/upgrades/).
 * 3.5 needs a running 3.4 cluster (upgrade_3_5.md). 3.6 asks for 3.5.32
 * first: the guide raised it from 3.5.20 (learners, March 2025) through
 * 3.5.24 and 3.5.26 (zombie members) to 3.5.32 (August 2026). */
const struct upgrade_minimum upgrade_minimums[] = {
	{ 3, 5, "3.4.0", "etcd's v3.5 upgrade guide (upgrade_3_5.md)" },
	{ 3, 6, "3.5.32", "etcd's v3.6 upgrade guide (upgrade_3_6.md, as of August 2026)" },
	{ 0, 0, NULL, NULL },
};

bool etcd_semver_parse(const char *s, struct etcd_semver *out)
{
	int *part[3] = { &out->major, &out->minor, &out->patch };
	const char *p;

	memset(out, 0, sizeof *out);
	if (s == NULL)
		return false;
	p = s[0] == 'v' ? s + 1 : s;
	for (int i = 0; i < 3; i++) {
		long v = 0;
		int digits = 0;

		while (*p >= '0' && *p <= '9' && digits < 6) {
			v = v * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0 || (*p >= '0' && *p <= '9'))
			return false;
		*part[i] = (int)v;
		if (i < 2 && *p++ != '.')
			return false;
	}
	return *p == '\0' || *p == '-';
}

int etcd_semver_cmp(const struct etcd_semver *a, const struct etcd_semver *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	return 0;
}

static const struct upgrade_minimum *minimum_for(int major, int minor)
{
	for (size_t i = 0; upgrade_minimums[i].min_from; i++)
		if (upgrade_minimums[i].to_major == major && upgrade_minimums[i].to_minor == minor)
			return &upgrade_minimums[i];
	return NULL;
}

/* The version a member of minor `minor` must reach before the next
 * minor ("" when etcd names none: its latest patch). */
static const char *minimum_before(int major, int minor)
{
	const struct upgrade_minimum *m = minimum_for(major, minor + 1);

	return m ? m->min_from : "";
}

enum upgrade_kind upgrade_path(const char *from, const char *to, bool allow_downgrade, char **why)
{
	struct etcd_semver f, t, min;
	const struct upgrade_minimum *need;

	*why = NULL;
	if (!etcd_semver_parse(from, &f)) {
		*why = xasprintf(_("the running version \"%s\" is not an etcd version"), from ? from : "");
		return UPGRADE_REFUSED;
	}
	if (!etcd_semver_parse(to, &t)) {
		*why = xasprintf(_("\"%s\" is not an etcd version such as 3.5.21"), to ? to : "");
		return UPGRADE_REFUSED;
	}
	if (f.major != t.major) {
		*why = xasprintf(_("etcd %s to %s changes the major version; etcd has no rolling path for that"),
				 from, to);
		return UPGRADE_REFUSED;
	}
	if (f.minor == t.minor) {
		if (f.patch == t.patch)
			return UPGRADE_SAME;
		if (t.patch > f.patch)
			return UPGRADE_PATCH;
		if (!allow_downgrade) {
			*why = xasprintf(_("etcd %s to %s is a downgrade; a patch downgrade is allowed with --allow-downgrade"),
					 from, to);
			return UPGRADE_REFUSED;
		}
		return UPGRADE_DOWNGRADE;
	}
	if (t.minor < f.minor) {
		*why = xasprintf(_("etcd %s to %s is a downgrade across a minor version: etcd allows it only through its downgrade API, which etcdwiz does not run; go back with a snapshot taken before the upgrade (etcdwiz restore), see docs/operations.md"),
				 from, to);
		return UPGRADE_REFUSED;
	}
	if (t.minor > f.minor + 1) {
		const char *m = minimum_before(f.major, f.minor + 1);

		if (m[0])
			*why = xasprintf(_("etcd %s to %s skips a minor version, which etcd does not support: upgrade to %d.%d (at least %s) first, then to %s"),
					 from, to, f.major, f.minor + 1, m, to);
		else
			*why = xasprintf(_("etcd %s to %s skips a minor version, which etcd does not support: upgrade to %d.%d (its latest patch) first, then to %s"),
					 from, to, f.major, f.minor + 1, to);
		return UPGRADE_REFUSED;
	}
	need = minimum_for(t.major, t.minor);
	if (need != NULL && etcd_semver_parse(need->min_from, &min) && etcd_semver_cmp(&f, &min) < 0) {
		*why = xasprintf(_("etcd %s to %s: every member must run at least %s before %d.%d (%s); upgrade to %s or later first, then to %s"),
				 from, to, need->min_from, t.major, t.minor, need->source, need->min_from, to);
		return UPGRADE_REFUSED;
	}
	return UPGRADE_MINOR;
}

char *upgrade_allowed_text(const char *from)
{
	struct etcd_semver f, min;
	const struct upgrade_minimum *next;

	if (!etcd_semver_parse(from, &f))
		return xstrdup(_("unknown: the version is not known"));
	next = minimum_for(f.major, f.minor + 1);
	if (next == NULL)
		return xasprintf(_("a later %d.%d patch"), f.major, f.minor);
	if (etcd_semver_parse(next->min_from, &min) && etcd_semver_cmp(&f, &min) < 0)
		return xasprintf(_("a later %d.%d patch; %d.%d once every member runs %s or later"), f.major,
				 f.minor, f.major, f.minor + 1, next->min_from);
	return xasprintf(_("a later %d.%d patch, or %d.%d"), f.major, f.minor, f.major, f.minor + 1);
}

const char *upgrade_member_version(const struct cluster *c, const struct live_cluster *l, size_t i)
{
	const struct live_member *lm = NULL;

	if (l == NULL || !l->running || i >= c->n_members)
		return "";
	if (membership_change(c, l, i, &lm) != MEMBER_KEEP || lm == NULL || !lm->viewed)
		return "";
	return lm->view.version;
}

static const char *target_of(const struct cluster *c)
{
	const char *v = c->etcd.version ? c->etcd.version : "";

	return v[0] == 'v' ? v + 1 : v;
}

bool upgrade_pending(const struct cluster *c, const struct live_cluster *l)
{
	for (size_t i = 0; i < c->n_members; i++) {
		const char *v = upgrade_member_version(c, l, i);

		if (v[0] && strcmp(v, target_of(c)) != 0)
			return true;
	}
	return false;
}

char *upgrade_refusal(const struct cluster *c, const struct live_cluster *l, bool allow_downgrade)
{
	const char *cluster_version = NULL, *cv_member = NULL;

	if (l == NULL || !l->running)
		return NULL;
	for (size_t k = 0; k < l->n; k++)
		if (l->members[k].learner)
			return xasprintf(_("%s is a learner: promote it (apply) or remove it (etcdwiz member remove) before an upgrade"),
					 l->members[k].name[0] ? l->members[k].name : l->members[k].peer_url);
	for (size_t i = 0; i < c->n_members; i++) {
		const struct live_member *lm = NULL;
		enum member_change ch = membership_change(c, l, i, &lm);
		const char *name = c->members[i].name;
		char *why = NULL;

		if (ch != MEMBER_KEEP)
			return xasprintf(_("%s is not a member of the running cluster yet: add it first (apply), then upgrade"),
					 name);
		if (!lm->viewed || !lm->view.answered || !lm->view.healthy)
			return xasprintf(_("%s is not healthy (%s): every member must be healthy before an upgrade"),
					 name, lm->viewed && lm->view.detail[0] ? lm->view.detail : _("no answer"));
		if (!lm->view.version[0])
			return xasprintf(_("%s did not say which etcd it runs (%s): run the same command again in a moment"),
					 name, lm->view.detail[0] ? lm->view.detail : _("no status"));
		if (lm->view.alarms[0])
			return xasprintf(_("the cluster has an alarm raised (%s, seen by %s): clear it first (docs/operations.md, \"Alarms\")"),
					 lm->view.alarms, name);
		if (lm->view.cluster_version[0]) {
			if (cluster_version == NULL) {
				cluster_version = lm->view.cluster_version;
				cv_member = name;
			} else if (strcmp(cluster_version, lm->view.cluster_version) != 0) {
				return xasprintf(_("the members disagree on the cluster version (%s says %s, %s says %s): wait until they agree"),
						 cv_member, cluster_version, name, lm->view.cluster_version);
			}
		}
		if (upgrade_path(lm->view.version, target_of(c), allow_downgrade, &why) == UPGRADE_REFUSED) {
			char *no = xasprintf("%s: %s", name, why ? why : "");

			free(why);
			return no;
		}
		free(why);
	}
	return NULL;
}

void upgrade_print(const struct cluster *c, const struct live_cluster *l, bool snapshot_first,
		   bool allow_downgrade, FILE *out)
{
	size_t leader = SIZE_MAX, n = 0;
	char *no;

	if (!upgrade_pending(c, l))
		return;
	fprintf(out, "== %s ==\n", _("upgrade"));
	no = upgrade_refusal(c, l, allow_downgrade);
	for (size_t i = 0; i < c->n_members; i++) {
		const struct live_member *lm = NULL;

		if (membership_change(c, l, i, &lm) == MEMBER_KEEP && lm->viewed && lm->view.leader)
			leader = i;
	}
	/* Followers in file order, the leader last: the engine's order. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < c->n_members; i++) {
			const char *v = upgrade_member_version(c, l, i);

			if ((pass == 0) == (i == leader))
				continue;
			if (!v[0] || strcmp(v, target_of(c)) == 0) {
				fprintf(out, "  %s: %s\n", c->members[i].name,
					v[0] ? _("runs it already") : _("version unknown"));
				continue;
			}
			fprintf(out, "  %zu. %s: etcd %s -> %s%s\n", ++n, c->members[i].name, v, target_of(c),
				i == leader ? _(" (the leader, last; its leadership is moved away first)") : "");
		}
	fprintf(out, "  %s\n", _("one member at a time: its new manifest, then healthy on the new version before the next; a member that does not come back is put back on its old manifest and the upgrade stops"));
	if (snapshot_first)
		fprintf(out, "  %s\n", _("a snapshot is taken into the local backups first"));
	if (no != NULL)
		fprintf(out, "  %s %s\n", _("refused:"), no);
	free(no);
}
