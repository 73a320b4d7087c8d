/* Upgrade: etcd's version on a running cluster, as `etcdwiz upgrade`
 * does it. The members' versions as they report them (the engine's read
 * over each member's session), the cluster version, what etcd's path
 * allows from there; u asks for the version to go to, which gets the
 * install screens' plan (each manifest's diff, the order, an [ERROR
 * Upgrade] where the path or the cluster refuses), confirmation, a
 * snapshot first, and progress member by member, followers first and the
 * leader last. The cluster file gets the new version only once every
 * member runs it; x undoes a version not applied. On a cluster that does
 * not run yet, F3 goes on. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "install/membership.h"
#include "install/upgrade.h"
#include "ui/tui/run.h"

struct row {
	char *name;
	bool leader, healthy, answered;
	char version[32], cluster_version[32];
};

static struct {
	struct wz_run run;
	bool reading, running;
	char *why;		/* not running: why */
	char *asked;
	struct row *rows;
	size_t n_rows;
	char *from;		/* the file's etcd.version before the change */
	char *to;		/* the version asked for (NULL: no change) */
	bool applying, saved;
	char *done;		/* what the last upgrade did */
} U;

static void rows_free(void)
{
	for (size_t i = 0; i < U.n_rows; i++)
		free(U.rows[i].name);
	free(U.rows);
	U.rows = NULL;
	U.n_rows = 0;
}

static void on_cluster_read(struct wizard *w, const struct live_cluster *l)
{
	if (!U.reading)
		return;	/* the change's own plan read it again */
	rows_free();
	free(U.why);
	free(U.asked);
	U.why = U.asked = NULL;
	U.running = l->running;
	if (!l->running) {
		U.why = xstrdup(l->why);
		return;
	}
	U.asked = xstrdup(l->asked ? l->asked : "");
	U.rows = xcalloc(w->c.n_members + 1, sizeof *U.rows);
	for (size_t i = 0; i < w->c.n_members; i++) {
		const struct live_member *lm = NULL;
		struct row *r = &U.rows[U.n_rows++];

		r->name = xstrdup(w->c.members[i].name);
		if (membership_change(&w->c, l, i, &lm) != MEMBER_KEEP || !lm->viewed)
			continue;
		r->leader = lm->view.leader;
		r->answered = lm->view.answered;
		r->healthy = lm->view.answered && lm->view.healthy;
		snprintf(r->version, sizeof r->version, "%s", lm->view.version);
		snprintf(r->cluster_version, sizeof r->cluster_version, "%s", lm->view.cluster_version);
	}
}

static void read_start(struct wizard *w)
{
	U.reading = true;
	U.run.gen = w->gen;
	wz_run_set_steps(&U.run, "manifest");
	wz_run_start(w, &U.run, false);
}

/* The lowest version a member reports ("" when none answered). */
static const char *lowest_version(void)
{
	const char *low = "";
	struct etcd_semver a, b;

	for (size_t i = 0; i < U.n_rows; i++)
		if (etcd_semver_parse(U.rows[i].version, &a) &&
		    (!low[0] || (etcd_semver_parse(low, &b) && etcd_semver_cmp(&a, &b) < 0)))
			low = U.rows[i].version;
	return low;
}

static void say_read(struct wizard *w)
{
	if (!U.running) {
		wz_message(w, U.run.state == RUN_FAILED,
			   _("Cluster %s is not running: there is nothing to upgrade yet. F3 goes on."), w->c.name);
		return;
	}
	wz_message(w, false, _("Cluster %s runs etcd %s (the file says %s). u upgrades; F3 goes on."), w->c.name,
		   lowest_version()[0] ? lowest_version() : "?", w->c.etcd.version);
}

/* Back to the file's version (a change not applied, or one that stopped). */
static void change_clear(struct wizard *w, bool reread)
{
	if (U.to != NULL && !U.saved) {
		free(w->c.etcd.version);
		w->c.etcd.version = xstrdup(U.from);
		w->gen++;
	}
	free(U.to);
	U.to = NULL;
	U.applying = U.saved = false;
	wz_run_forget_snapshot(&U.run);
	strlist_free(&U.run.confirm_head);
	if (reread)
		read_start(w);
}

static void version_chosen(struct wizard *w, int button, const char *input, void *ud)
{
	const char *to = input[0] == 'v' ? input + 1 : input;
	const char *from = lowest_version();
	char *why = NULL;
	enum upgrade_kind kind;

	(void)ud;
	if (button != 0 || input[0] == '\0')
		return;
	kind = upgrade_path(from[0] ? from : w->c.etcd.version, to, U.run.allow_downgrade, &why);
	if (kind == UPGRADE_REFUSED) {
		wz_message(w, true, _("Refused, nothing was changed: %s"), why);
		free(why);
		return;
	}
	if (kind == UPGRADE_SAME && strcmp(to, w->c.etcd.version) == 0) {
		wz_message(w, false, _("Every member runs etcd %s already."), to);
		return;
	}
	free(U.from);
	U.from = xstrdup(w->c.etcd.version);
	U.to = xstrdup(to);
	free(w->c.etcd.version);
	w->c.etcd.version = xstrdup(to);
	w->gen++;	/* every screen's plan is for another version now */
	strlist_free(&U.run.confirm_head);
	{
		char *head = xasprintf(_("Upgrade etcd from %s to %s: one member at a time, followers first, the leader last, each healthy on %s before the next."),
				       from[0] ? from : U.from, to, to);

		strlist_push(&U.run.confirm_head, head);
		free(head);
	}
	strlist_push(&U.run.confirm_head, _("A snapshot is taken first, into the local backups (as 'etcdwiz backup' does)."));
	strlist_push(&U.run.confirm_head, "");
	U.reading = false;
	U.run.gen = w->gen;
	wz_run_set_steps(&U.run, "manifest,verify");
	wz_run_start(w, &U.run, false);
}

static unsigned act_upgrade(void *ud, int key)
{
	struct wizard *w = ud;
	struct wz_dialog *d;
	char *allowed;

	(void)key;
	if (U.to != NULL) {
		wz_message(w, true, "%s", _("One upgrade at a time: F3 applies this one, x undoes it."));
		return WZ_HANDLED;
	}
	if (wz_run_busy(&U.run)) {
		wz_message(w, true, "%s", _("Wait until the cluster has been read."));
		return WZ_HANDLED;
	}
	if (!U.running) {
		wz_message(w, true, "%s", _("The cluster is not running: its etcd version is set on the Hosts screen's file before it is installed."));
		return WZ_HANDLED;
	}
	if (w->file == NULL) {
		wz_message(w, true, "%s", _("The cluster has no file yet: save it on the Hosts screen first."));
		return WZ_HANDLED;
	}
	if (w->c.etcd.image != NULL) {
		wz_message(w, true, _("The cluster file sets etcd.image (%s): set the image and etcd.version together there."),
			   w->c.etcd.image);
		return WZ_HANDLED;
	}
	allowed = upgrade_allowed_text(lowest_version());
	d = wz_dialog_push(w, DLG_INPUT, _("Upgrade etcd"), version_chosen, NULL);
	wz_dialog_line(d, _("The members run etcd %s. etcd's path allows from there: %s."), lowest_version(), allowed);
	wz_dialog_line(d, "%s", _("Version to go to (its image must be in your registry):"));
	snprintf(d->input, sizeof d->input, "%s", w->c.etcd.version);
	d->input_len = strlen(d->input);
	free(allowed);
	return WZ_HANDLED;
}

static unsigned act_undo(void *ud, int key)
{
	struct wizard *w = ud;

	(void)key;
	if (U.to == NULL || wz_run_busy(&U.run))
		return WZ_HANDLED;
	change_clear(w, true);
	wz_message(w, false, "%s", _("The upgrade was undone; nothing was applied."));
	return WZ_HANDLED;
}

static unsigned act_downgrade(void *ud, int key)
{
	struct wizard *w = ud;

	(void)key;
	if (U.to != NULL || wz_run_busy(&U.run))
		return WZ_HANDLED;
	U.run.allow_downgrade = !U.run.allow_downgrade;
	wz_message(w, false, "%s", U.run.allow_downgrade ? _("A patch downgrade is allowed for the next upgrade.")
							 : _("Downgrades are refused again."));
	return WZ_HANDLED;
}

static unsigned act_recheck(void *ud, int key)
{
	struct wizard *w = ud;

	(void)key;
	if (wz_run_busy(&U.run))
		return WZ_HANDLED;
	if (U.to == NULL)
		read_start(w);
	else
		wz_run_start(w, &U.run, false);
	return WZ_HANDLED;
}

/* Yes, the snapshot kept (the runner takes it). */
static bool before_apply(struct wizard *w, struct wz_run *r)
{
	(void)w;
	(void)r;
	U.applying = true;
	return true;
}

static void finished(struct wizard *w, struct wz_run *r)
{
	if (U.reading) {
		U.reading = false;
		say_read(w);
		return;
	}
	if (!U.applying)
		return;	/* the upgrade's plan: shown, F3 confirms */
	U.applying = false;
	if (!r->applied) {
		char *to = xstrdup(U.to);

		change_clear(w, true);
		wz_message(w, true, _("The upgrade to %s stopped (see the hosts' state and the log): the member that did not come back was put back on its old manifest, and %s still says etcd %s. Fix the cause, then u again."),
			   to, w->file, w->c.etcd.version);
		free(to);
		return;
	}
	/* Every member healthy on the new version: the file says so now. */
	{
		struct wiz_error err;

		if (cluster_keep_backup(w->file, &err) != WIZ_ERR_OK || !wz_save_cluster(w)) {
			wz_message(w, true, _("Every member runs etcd %s, but %s could not be written: set etcd.version there by hand."),
				   U.to, w->file);
			return;
		}
	}
	U.saved = true;
	free(U.done);
	U.done = xasprintf(_("Done: every member runs etcd %s (was %s); %s says so now (the previous file is %s.bak)."),
			   U.to, U.from, w->file, w->file);
	if (U.run.snapshot != NULL)
		xasprintf_append(&U.done, _(" The snapshot taken first: %s."), U.run.snapshot);
	wz_log(w, "%s", U.done);
	change_clear(w, true);
}

static void enter(struct wizard *w)
{
	if (U.run.steps_csv == NULL) {
		wz_run_init(&U.run, "manifest");
		U.run.cluster_read = on_cluster_read;
		U.run.before_apply = before_apply;
		U.run.finished = finished;
		U.run.snapshot_first = true;
	}
	w->active = &U.run;
	if (U.to == NULL && !wz_run_busy(&U.run)) {
		check_cache_clear(U.run.checks);
		read_start(w);
	}
}

static void leave(struct wizard *w)
{
	if (U.to != NULL && !wz_run_busy(&U.run))
		change_clear(w, false);
}

static void cells(int y, int cols, enum term_role role, const char *const text[5])
{
	static const int at[] = { 1, 16, 28, 42, 60 };	/* two spaces after the widest title */

	for (int i = 0; i < 5; i++) {
		int width = i < 4 ? at[i + 1] - at[i] - 1 : cols - at[i] - 1;

		if (width > 0 && at[i] < cols)
			term_put(y, at[i], width, role, text[i]);
	}
}

static void draw(struct wizard *w, int top, int rows)
{
	int y = top, cols = term_cols();
	char *allowed;

	if (U.reading && U.n_rows == 0) {
		term_put(y++, 1, cols - 2, TERM_DIM, _("Reading the members' versions..."));
		wz_draw_log(w, y + 1, rows - 2);
		return;
	}
	if (!U.running) {
		term_putf(y++, 1, cols - 2, TERM_NORMAL, _("Cluster %s is not running yet: %s"), w->c.name,
			  U.why ? U.why : "");
		term_put(y++, 1, cols - 2, TERM_DIM, _("Nothing to upgrade: the next screens install etcd at the file's version."));
		wz_draw_log(w, y + 1, rows - (y + 1 - top));
		return;
	}
	term_putf(y++, 1, cols - 2, TERM_DIM, _("As the members report it (asked from %s). u upgrades etcd, one member at a time, the leader last."),
		  U.asked ? U.asked : "");
	cells(y++, cols, TERM_HEADING, (const char *const[]){ _("Member"), _("Role"), _("Version"), _("Cluster version"),
							    _("Goes to") });
	for (size_t i = 0; i < U.n_rows && y < top + rows / 2; i++) {
		const struct row *r = &U.rows[i];
		const char *goes = U.to == NULL ? "" : strcmp(r->version, U.to) == 0 ? _("runs it already") : U.to;

		cells(y++, cols, !r->healthy ? TERM_WARN : TERM_NORMAL,
		      (const char *const[]){ r->name, !r->answered ? _("no answer") : r->leader ? _("leader") : _("follower"),
					     r->version[0] ? r->version : "-",
					     r->cluster_version[0] ? r->cluster_version : "-", goes });
	}
	allowed = upgrade_allowed_text(lowest_version());
	term_putf(y++, 1, cols - 2, TERM_NORMAL, _("etcd's path allows from %s: %s."), lowest_version(), allowed);
	free(allowed);
	y++;
	if (U.to == NULL) {
		if (U.done != NULL) {
			struct strlist in = { NULL, 0 }, out = { NULL, 0 };

			strlist_push(&in, U.done);
			wz_wrap_lines(&in, cols - 2, &out);
			for (size_t i = 0; i < out.n && i < 4; i++)
				term_put(y++, 1, cols - 2, TERM_OK, out.items[i]);
			strlist_free(&in);
			strlist_free(&out);
		}
		wz_draw_log(w, y, rows - (y - top));
		return;
	}
	term_hline(y++, 0, cols, TERM_DIM);
	term_putf(y++, 1, cols - 2, TERM_HEADING, _("Upgrade to etcd %s"), U.to);
	wz_run_draw(w, &U.run, y, rows - (y - top));
}

static unsigned key(struct wizard *w, int k)
{
	if (U.to != NULL)
		return wz_run_key(w, &U.run, k);
	return WZ_IGNORED;
}

static const char *validate(struct wizard *w)
{
	if (U.run.backup != NULL)
		return _("the snapshot before the change is still being taken");
	if (U.to != NULL)
		return wz_run_validate(w, &U.run);
	if (U.reading)
		return _("the cluster is still being read");
	return NULL;
}

static unsigned next(struct wizard *w)
{
	if (U.to != NULL) {
		wz_run_confirm_apply(w, &U.run);
		return WZ_HANDLED;
	}
	return WZ_NEXT;
}

static bool busy(struct wizard *w)
{
	(void)w;
	return wz_run_busy(&U.run);
}

static void destroy(struct wizard *w)
{
	(void)w;
	wz_run_free(&U.run);
	rows_free();
	free(U.why);
	free(U.asked);
	free(U.from);
	free(U.to);
	free(U.done);
	memset(&U, 0, sizeof U);
}

static const struct term_action actions[] = {
	{ 'u', 0, N_("Upgrade"), N_("upgrade etcd to a version etcd's path allows, one member at a time"), act_upgrade, true },
	{ 'x', 0, N_("Undo"), N_("undo the upgrade not applied yet"), act_undo, true },
	{ 'D', 0, N_("Downgrade"), N_("allow (or refuse again) a patch downgrade"), act_downgrade, false },
	{ 'c', 0, N_("Check"), N_("read the versions, or check the upgrade's hosts, again (read-only)"), act_recheck, false },
	{ 'v', 0, N_("Diffs"), N_("show or hide the manifest diffs of the selected host"), wz_run_toggle_diffs, false },
	{ 0, 0, NULL, NULL, NULL, false },
};

const struct screen_ops screen_upgrade = {
	.name = "upgrade",
	.title = N_("Upgrade"),
	.actions = actions,
	.enter = enter,
	.leave = leave,
	.draw = draw,
	.key = key,
	.validate = validate,
	.next = next,
	.busy = busy,
	.destroy = destroy,
};
