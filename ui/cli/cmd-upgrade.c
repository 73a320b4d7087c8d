/* etcdwiz upgrade --to VERSION -f FILE: a rolling etcd upgrade. The path
 * is checked here first (upgrade.h); then the plan and apply flow with
 * the new version in memory and only the manifest and verify steps: the
 * engine refuses a member whose path or cluster is not fit, takes a
 * snapshot first, restarts one member at a time (followers first, the
 * leader last), checks each on the new version, and puts a member that
 * does not come back on its old manifest. The file gets the new version
 * only when every member runs it. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/loop.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "etcd/etcd-ask.h"
#include "etcd/http-tls.h"
#include "install/fleet.h"
#include "install/upgrade.h"
#include "ui/cli/cmd.h"
#include "ui/cli/cmd-apply.h"

const struct cmd_entry cmd_upgrade_entry;

#define UPGRADE_SETTLE_TRIES 20	/* /version asked once a second, at most */

struct upgrade {
	char *to;
	char *file_version;	/* etcd.version before */
	char **before;		/* each member's version as the plan read it */
	size_t n;
	bool refused;
};

static void keep_versions(struct run *r, const struct live_cluster *l)
{
	struct upgrade *u = r->ud;

	for (size_t i = 0; i < u->n && i < r->c.n_members; i++) {
		free(u->before[i]);
		u->before[i] = xstrdup(upgrade_member_version(&r->c, l, i));
	}
}

struct asked_all {
	struct etcd_member_view *views;
	enum wiz_err *codes;
	size_t pending;
};

struct asked_one {
	struct asked_all *all;
	size_t i;
};

static void one_answered(enum wiz_err code, const struct etcd_member_view *v, const char *msg, void *ud)
{
	struct asked_one *o = ud;

	(void)msg;
	o->all->views[o->i] = *v;
	o->all->codes[o->i] = code;
	o->all->pending--;
}

static bool all_in(void *ud)
{
	return ((struct asked_all *)ud)->pending == 0;
}

static void woke(struct loop_timer *t, void *ud)
{
	(void)t;
	*(bool *)ud = true;
}

static bool is_set(void *ud)
{
	return *(bool *)ud;
}

/* A second of the loop (the sessions stay served meanwhile). */
static void pause_a_second(struct loop *l)
{
	bool up = false;
	struct loop_timer *t = loop_timer_add(l, woke, &up);

	loop_timer_arm_in(t, 1000);
	loop_run_until(l, is_set, &up, loop_now() + 2000);
	loop_timer_del(t);
}

/* Every member asked once, at once, over the run's sessions. */
static void ask_members(struct run *r, struct http_tls_creds *creds, struct asked_all *a)
{
	struct asked_one *ones = xcalloc(r->c.n_members, sizeof *ones);

	for (size_t i = 0; i < r->c.n_members; i++) {
		struct etcd_ask_opts ao = { 0 };

		memset(&a->views[i], 0, sizeof a->views[i]);
		ao.loop = r->loop;
		ao.session = fleet_session(r->fleet, i);
		ao.address = r->c.members[i].address;
		ao.name = r->c.members[i].name;
		ao.creds = creds;
		ao.timeout_ms = 5000;
		ones[i].all = a;
		ones[i].i = i;
		a->pending++;
		etcd_ask_member(&ao, one_answered, &ones[i]);
	}
	/* Each ask is bounded (5 s); should the loop fail first, the asks
	 * still out keep their memory (they call back into it). */
	if (loop_run_until(r->loop, all_in, a, 0) == WIZ_ERR_OK && a->pending == 0)
		free(ones);
}

/* The minor of a version ("3.5" of "3.5.0"), compared. */
static bool same_minor(const char *a, const char *b)
{
	struct etcd_semver x, y;

	return etcd_semver_parse(a, &x) && etcd_semver_parse(b, &y) && x.major == y.major && x.minor == y.minor;
}

/* The apply is over: on success, each member's version read back and the
 * cluster version once it settled, the recap, then the file. */
static void after_upgrade(struct run *r, int status)
{
	struct upgrade *u = r->ud;
	struct http_tls_creds *creds = NULL;
	struct wiz_error err = { 0 };
	struct asked_all a = { 0 };
	bool all_new = false, settled = false;

	if (status != EXIT_OK) {
		fprintf(r->out, _("\nThe upgrade stopped: %s still says etcd %s. Run the same command again once the cause is fixed: the members on %s already are left as they are.\n"),
			r->file, u->file_version, u->to);
		return;
	}
	if (etcd_creds_from_store(&r->store, &creds, &err) != WIZ_ERR_OK) {
		fprintf(stderr, "%s: %s\n", PACKAGE, err.msg);
		return;
	}
	a.views = xcalloc(r->c.n_members, sizeof *a.views);
	a.codes = xcalloc(r->c.n_members, sizeof *a.codes);
	/* The cluster version moves to the new minor a few seconds after the
	 * last member (the leader checks every few seconds). */
	for (unsigned t = 0; t < UPGRADE_SETTLE_TRIES && !settled; t++) {
		if (t > 0)
			pause_a_second(r->loop);
		ask_members(r, creds, &a);
		all_new = settled = true;
		for (size_t i = 0; i < r->c.n_members; i++) {
			all_new &= a.codes[i] == WIZ_ERR_OK && strcmp(a.views[i].version, u->to) == 0;
			settled &= a.codes[i] == WIZ_ERR_OK && same_minor(a.views[i].cluster_version, u->to);
		}
		settled &= all_new;
	}
	fprintf(r->out, "\n%s\n", _("Upgrade recap:"));
	for (size_t i = 0; i < r->c.n_members; i++)
		fprintf(r->out, "  %-14s %s -> %s  (%s %s)\n", r->c.members[i].name,
			u->before[i] && u->before[i][0] ? u->before[i] : "?",
			a.views[i].version[0] ? a.views[i].version : "?", _("cluster version"),
			a.views[i].cluster_version[0] ? a.views[i].cluster_version : "?");
	if (!all_new) {
		fprintf(r->out, _("Not every member answered on etcd %s: %s is left at etcd %s; run the command again.\n"),
			u->to, r->file, u->file_version);
	} else {
		if (!settled)
			fprintf(r->out, _("Every member runs etcd %s; the cluster version has not moved to %s yet (etcd moves it within seconds; `etcdwiz status` shows it).\n"),
				u->to, u->to);
		free(r->c.etcd.version);
		r->c.etcd.version = xstrdup(u->to);
		if (cluster_keep_backup(r->file, &err) != WIZ_ERR_OK ||
		    cluster_save(&r->c, r->file, &err) != WIZ_ERR_OK)
			fprintf(stderr, _("%s: every member runs etcd %s, but %s could not be written (%s): set etcd.version: %s there by hand\n"),
				PACKAGE, u->to, r->file, err.msg, u->to);
		else
			fprintf(r->out, _("Every member runs etcd %s: %s says so now (the previous file is %s.bak).\n"),
				u->to, r->file, r->file);
	}
	free(a.views);
	free(a.codes);
	http_tls_creds_free(creds);
}

static const struct option upgrade_long_opts[] = {
	{ "to", required_argument, NULL, 't' },
	{ "plan", no_argument, NULL, 'P' },
	{ "allow-downgrade", no_argument, NULL, 'D' },
	{ "file", required_argument, NULL, 'f' },
	{ "yes", no_argument, NULL, 'y' },
	{ "accept-new-host-keys", no_argument, NULL, 'A' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "health-timeout", required_argument, NULL, 'T' },
	{ "no-snapshot", no_argument, NULL, 'N' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_upgrade_exec(int argc, char **argv)
{
	struct run r;
	struct upgrade u = { 0 };
	const char *to = NULL;
	char *why = NULL;
	int c, status = EXIT_FAIL;
	bool stop, plan_only = false;

	memset(&r, 0, sizeof r);
	r.entry = &cmd_upgrade_entry;
	r.out = stdout;
	r.ud = &u;
	while ((c = getopt_long(argc, argv, "+t:Df:yAvT:NPh", upgrade_long_opts, NULL)) != -1) {
		if (c == 't') {
			to = optarg;
			continue;
		}
		if (c == 'D') {
			r.allow_downgrade = true;
			continue;
		}
		if (c == 'P') {
			plan_only = true;
			continue;
		}
		if (!run_option(&r, c, optarg, &status, &stop)) {
			status = cmd_usage_error(&cmd_upgrade_entry, _("invalid option"));
			goto out;
		}
		if (stop)
			goto out;
	}
	if (r.file == NULL || to == NULL || optind < argc) {
		status = cmd_usage_error(&cmd_upgrade_entry, optind < argc ? _("unexpected argument")
					 : r.file == NULL ? _("a cluster file is needed: -f FILE")
							  : _("say which version: --to VERSION (e.g. 3.5.30)"));
		goto out;
	}
	if (!run_load(&r))
		goto out;
	u.to = xstrdup(to[0] == 'v' ? to + 1 : to);
	u.file_version = xstrdup(r.c.etcd.version[0] == 'v' ? r.c.etcd.version + 1 : r.c.etcd.version);
	if (r.c.etcd.image != NULL) {
		fprintf(stderr, _("%s: %s sets etcd.image (%s): etcdwiz does not know which tag of it holds etcd %s; set the image and etcd.version together there, then apply\n"),
			PACKAGE, r.file, r.c.etcd.image, u.to);
		status = EXIT_REFUSED;
		goto out;
	}
	/* The file's version first: a path etcd forbids is refused before
	 * any host is asked. The engine checks each member's own version. */
	if (upgrade_path(u.file_version, u.to, r.allow_downgrade, &why) == UPGRADE_REFUSED) {
		fprintf(stderr, _("%s: refused, nothing was changed: %s\n"), PACKAGE, why);
		status = EXIT_REFUSED;
		goto out;
	}
	free(r.c.etcd.version);
	r.c.etcd.version = xstrdup(u.to);
	u.n = r.c.n_members;
	u.before = xcalloc(u.n ? u.n : 1, sizeof *u.before);
	strlist_push(&r.steps, "manifest");
	strlist_push(&r.steps, "verify");
	r.cluster_read = keep_versions;
	r.after = after_upgrade;
	r.verbose |= plan_only;	/* the plan in full: each manifest's diff */
	status = run_flow(&r, !plan_only);
	if (plan_only && status == EXIT_OK && r.n_errors > 0)
		status = EXIT_FAIL;
out:
	free(why);
	for (size_t i = 0; i < u.n; i++)
		free(u.before[i]);
	free(u.before);
	free(u.to);
	free(u.file_version);
	run_free(&r);
	return status;
}

const struct cmd_entry cmd_upgrade_entry = {
	.name = "upgrade",
	.args = "--to VERSION -f FILE [OPTIONS]",
	.summary = N_("upgrade etcd on a running cluster, one member at a time"),
	.help = N_("Options:\n"
		   "  -t, --to VERSION                the etcd version to go to (e.g. 3.5.30): a newer\n"
		   "                                  patch, or the next minor version\n"
		   "  -f, --file FILE                 the cluster file\n"
		   "  -P, --plan                      show the upgrade, member by member, and change nothing\n"
		   "  -y, --yes                       upgrade without asking\n"
		   "  -D, --allow-downgrade           allow an older patch of the same minor version\n"
		   "  -A, --accept-new-host-keys      trust and save host keys seen for the first time\n"
		   "  -T, --health-timeout DURATION   how long each member has to be healthy on the new\n"
		   "                                  version (default 3m)\n"
		   "  -N, --no-snapshot               upgrade without a snapshot first\n"
		   "  -v, --verbose                   show every file's diff\n"
		   "  -h, --help                      show this help and exit\n\n"
		   "Before anything changes: every member healthy, one cluster version, no alarm, no\n"
		   "learner, and etcd's path (a patch, or one minor at a time, from the minimum patch\n"
		   "etcd names). Then a snapshot, and one member at a time, followers first, the leader\n"
		   "last. A member that is not healthy on the new version in time is put back on its\n"
		   "old manifest and the upgrade stops. The cluster file gets the new etcd.version only\n"
		   "when every member runs it; running the command again goes on where it stopped.\n\n"
		   "Exit status: 0 upgraded; 1 failed or stopped; 2 usage; 3 refused (nothing changed).\n"),
	.exec = cmd_upgrade_exec,
};
