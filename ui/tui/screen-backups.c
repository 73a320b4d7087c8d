/* Backups: the cluster's snapshots kept here (as `etcdwiz backup list`)
 * and on the members (backup.schedule's timer, read over each member's
 * session), and what `backup`, the schedule and `restore` do:
 *   b  takes a snapshot now (src/install/backup.c, through the wizard's
 *      own sessions);
 *   s  sets backup.schedule and backup.keep: the cluster file is written
 *      and the backups step gets the install screens' plan, confirmation
 *      and progress;
 *   r  restores the selected snapshot, after the cluster's name is typed:
 *      `etcdwiz restore` runs as a child process (its progress in the log
 *      pane), because it stops every member and waits on them for
 *      minutes, with its own question answered by that typed name. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "base/i18n.h"
#include "base/shquote.h"
#include "base/xmalloc.h"
#include "etcd/etcd-ask.h"
#include "health/status-format.h"
#include "install/backup.h"
#include "install/fleet.h"
#include "ui/tui/child.h"
#include "ui/tui/run.h"

/* One member's read: its connect, then one exec; owned by B.members so
 * that leaving the screen drops what is in flight (forget, detach). */
struct member_snaps {
	struct wizard *w;
	size_t i;
	bool connecting;
	struct ssh_op *op;
	bool read, timer;
	int count;
	int64_t newest;
	char why[200];		/* not read: why */
};

static struct {
	struct backup_record *local;
	size_t n_local, sel;
	struct member_snaps *members;
	size_t n_members;
	struct backup_op *backup;
	struct http_tls_creds *creds;
	struct wz_child *restore;
	char *restoring;	/* the snapshot being restored */
	/* A schedule change waiting for its plan, confirmation, apply. */
	bool editing;
	bool saved;		/* the file holds the change: no undo */
	bool forced;		/* the restore running is the --force one */
	struct wz_run run;
	char *new_schedule;	/* the schedule typed, its keep next */
} B;

/* ---- what there is ---- */

static void local_read(struct wizard *w)
{
	char *dir = backup_dir(&w->c);
	struct wiz_error err;

	backup_list_free(B.local, B.n_local);
	B.local = NULL;
	B.n_local = 0;
	if (backup_list(dir, &B.local, &B.n_local, &err) != WIZ_ERR_OK)
		wz_log(w, "%s", err.msg);
	if (B.sel >= B.n_local)
		B.sel = B.n_local ? B.n_local - 1 : 0;
	free(dir);
}

static void member_listed(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct member_snaps *m = ud;

	(void)op;
	m->op = NULL;
	if (r->code != WIZ_ERR_OK) {
		snprintf(m->why, sizeof m->why, "%.150s", r->err.msg[0] ? r->err.msg : wiz_err_name(r->code));
	} else {
		const char *snaps = strstr(r->out, "snaps ");
		char *end = NULL;

		m->read = true;
		m->timer = strstr(r->out, "timer\n") != NULL;
		if (snaps != NULL) {
			long n = strtol(snaps + 6, &end, 10);

			m->count = n > 0 && n < 100000 ? (int)n : 0;
			if (m->count > 0)
				m->newest = strtoll(end, NULL, 10);
		}
	}
	term_request_draw();
}

static void member_connected(void *ud, enum wiz_err code, const char *msg)
{
	struct member_snaps *m = ud;
	struct wizard *w = m->w;
	struct transport t;
	struct ssh_exec_opts xo = { .as_root = true, .timeout_ms = 30000 };
	char *q, *cmd;

	m->connecting = false;
	if (code != WIZ_ERR_OK) {
		snprintf(m->why, sizeof m->why, "%s", msg ? msg : wiz_err_name(code));
		term_request_draw();
		return;
	}
	q = sh_quote(w->c.backup.dir);
	cmd = xasprintf("[ -f /etc/systemd/system/etcdwiz-backup.timer ] && echo timer; "
			"set -- $(ls -1t %s/*.db 2>/dev/null); "
			"if [ $# -gt 0 ]; then echo \"snaps $# $(stat -c %%Y \"$1\")\"; else echo 'snaps 0'; fi", q);
	t = fleet_transport(w->fleet);
	m->op = t.ops->exec(t.self, m->i, cmd, &xo, member_listed, m);
	free(cmd);
	free(q);
}

/* Reads in flight are dropped: their callbacks will not run. */
static void members_drop(struct wizard *w)
{
	for (size_t i = 0; i < B.n_members; i++) {
		if (B.members[i].connecting)
			fleet_forget(w->fleet, i, &B.members[i]);
		if (B.members[i].op != NULL)
			ssh_op_detach(B.members[i].op);
	}
	free(B.members);
	B.members = NULL;
	B.n_members = 0;
}

static void members_read(struct wizard *w)
{
	members_drop(w);
	B.n_members = w->c.n_members;
	B.members = xcalloc(B.n_members ? B.n_members : 1, sizeof *B.members);
	wz_fleet_sync(w);
	for (size_t i = 0; i < B.n_members; i++) {
		B.members[i].w = w;
		B.members[i].i = i;
		B.members[i].connecting = true;
		fleet_connect(w->fleet, i, member_connected, &B.members[i]);
	}
}

static void refresh(struct wizard *w)
{
	local_read(w);
	members_read(w);
}

/* ---- b: a snapshot now ---- */

static void backup_done(enum wiz_err rc, const struct backup_record *rec, const struct wiz_error *err, void *ud)
{
	struct wizard *w = ud;

	B.backup = NULL;
	http_tls_creds_free(B.creds);
	B.creds = NULL;
	if (rc != WIZ_ERR_OK)
		wz_message(w, true, _("No snapshot was taken: %s"), err->msg);
	else
		wz_message(w, false, _("Snapshot taken from %s: %s (revision %" PRIu64 ")."), rec->member, rec->path,
			   rec->revision);
	local_read(w);
	term_request_draw();
}

static bool idle(struct wizard *w)
{
	if (B.backup != NULL || B.restore != NULL || wz_run_busy(&B.run)) {
		wz_message(w, true, "%s", _("Wait until the work in progress has finished."));
		return false;
	}
	if (B.editing) {
		wz_message(w, true, "%s", _("Apply the schedule change first (F3), or u undoes it."));
		return false;
	}
	return true;
}

static unsigned act_backup(void *ud, int key)
{
	struct wizard *w = ud;
	struct backup_opts o = { 0 };
	struct wiz_error err;

	(void)key;
	if (!idle(w))
		return WZ_HANDLED;
	if (etcd_creds_from_store(&w->store, &B.creds, &err) != WIZ_ERR_OK) {
		wz_message(w, true, "%s", err.msg);
		return WZ_HANDLED;
	}
	wz_fleet_sync(w);
	o.loop = w->loop;
	o.fleet = w->fleet;
	o.c = &w->c;
	o.creds = B.creds;
	wz_message(w, false, "%s", _("Taking a snapshot from a healthy voting member..."));
	B.backup = backup_start(&o, backup_done, w);
	return WZ_HANDLED;
}

/* ---- s: the schedule ---- */

static void schedule_plan(struct wizard *w)
{
	B.editing = true;
	w->gen++;
	B.run.gen = w->gen;
	w->active = &B.run;
	wz_run_start(w, &B.run, false);
}

/* The file as it was (the change not applied). */
static void schedule_undo(struct wizard *w, const char *why)
{
	char *file = w->file ? xstrdup(w->file) : NULL;

	B.editing = false;
	B.saved = false;
	if (file != NULL && wz_load_cluster(w, file))
		wz_message(w, false, "%s", why);
	free(file);
}

static void keep_answer(struct wizard *w, int button, const char *input, void *ud)
{
	char *schedule = B.new_schedule, *end;
	long keep;
	struct diag_list d;
	size_t errors;

	(void)ud;
	B.new_schedule = NULL;
	if (button != 0) {
		free(schedule);
		return;
	}
	keep = strtol(input, &end, 10);
	if (input[0] == '\0' || *end != '\0' || keep < 1 || keep > 1000) {
		wz_message(w, true, _("backup.keep must be a number from 1 to 1000, not \"%s\""), input);
		free(schedule);
		return;
	}
	free(w->c.backup.schedule);
	w->c.backup.schedule = schedule && schedule[0] ? schedule : NULL;
	if (w->c.backup.schedule == NULL)
		free(schedule);
	w->c.backup.keep = (unsigned)keep;
	diag_list_init(&d, w->file);
	cluster_validate(&w->c, &d);
	errors = diag_count(&d, DIAG_ERROR);
	if (errors > 0) {
		for (size_t i = 0; i < d.n; i++)
			if (d.items[i].severity == DIAG_ERROR) {
				char *msg = xasprintf(_("Not changed: %s"), d.items[i].msg);

				diag_list_free(&d);
				schedule_undo(w, msg);
				wz_message(w, true, "%s", msg);
				free(msg);
				return;
			}
	}
	diag_list_free(&d);
	strlist_free(&B.run.confirm_head);
	strlist_push(&B.run.confirm_head,
		     w->c.backup.schedule ? _("Scheduled snapshots on every member, as backup.schedule says:")
					  : _("No scheduled snapshots: the timers are removed (the snapshots taken stay)."));
	if (w->c.backup.schedule) {
		char *line = xasprintf(_("  schedule %s, keep %u, in %s"), w->c.backup.schedule, w->c.backup.keep,
				       w->c.backup.dir);

		strlist_push(&B.run.confirm_head, line);
		free(line);
	}
	strlist_push(&B.run.confirm_head, "");
	schedule_plan(w);
}

static void schedule_answer(struct wizard *w, int button, const char *input, void *ud)
{
	struct wz_dialog *d;

	(void)ud;
	if (button != 0)
		return;
	free(B.new_schedule);
	B.new_schedule = xstrdup(input);
	d = wz_dialog_push(w, DLG_INPUT, _("Scheduled snapshots"), keep_answer, NULL);
	wz_dialog_line(d, "%s", _("How many snapshots each member keeps (backup.keep, 1 to 1000):"));
	snprintf(d->input, sizeof d->input, "%u", w->c.backup.keep);
	d->input_len = strlen(d->input);
}

static unsigned act_schedule(void *ud, int key)
{
	struct wizard *w = ud;
	struct wz_dialog *d;

	(void)key;
	if (!idle(w))
		return WZ_HANDLED;
	if (w->file == NULL) {
		wz_message(w, true, "%s", _("The cluster has no file yet: save it on the Hosts screen first."));
		return WZ_HANDLED;
	}
	d = wz_dialog_push(w, DLG_INPUT, _("Scheduled snapshots"), schedule_answer, NULL);
	wz_dialog_line(d, "%s", _("When each member takes a snapshot of itself: a systemd calendar expression such as daily, hourly or *-*-* 00,12:00:00 (systemd.time(7)); empty for none:"));
	snprintf(d->input, sizeof d->input, "%s", w->c.backup.schedule ? w->c.backup.schedule : "daily");
	d->input_len = strlen(d->input);
	return WZ_HANDLED;
}

/* Yes to the schedule's confirmation: the file first. */
static bool schedule_save(struct wizard *w, struct wz_run *r)
{
	(void)r;
	if (!B.saved && !wz_save_cluster(w))
		return false;
	B.saved = true;
	return true;
}

static void schedule_finished(struct wizard *w, struct wz_run *r)
{
	if (r->state == RUN_DONE) {
		B.editing = false;
		B.saved = false;
		wz_message(w, false, "%s", w->c.backup.schedule ? _("The snapshot timers are installed on every member.")
								: _("The snapshot timers are removed."));
		members_read(w);
	}
}

static unsigned act_undo(void *ud, int key)
{
	struct wizard *w = ud;

	(void)key;
	if (!B.editing || wz_run_busy(&B.run))
		return WZ_HANDLED;
	if (B.saved) {
		wz_message(w, true, _("%s holds this change already: F3 finishes it."), w->file);
		return WZ_HANDLED;
	}
	schedule_undo(w, _("The schedule change was undone; nothing was applied."));
	return WZ_HANDLED;
}

/* ---- r: restore ---- */

static void restore_start(struct wizard *w, bool force);

/* The dialog's answer is OK and the cluster's name, else says so. */
static bool name_typed(struct wizard *w, int button, const char *input)
{
	if (button != 0)
		return false;
	if (strcmp(input, w->c.name) != 0) {
		wz_message(w, false, _("\"%s\" is not the cluster's name: nothing was restored."), input);
		return false;
	}
	return true;
}

static void force_answer(struct wizard *w, int button, const char *input, void *ud)
{
	(void)ud;
	if (name_typed(w, button, input))
		restore_start(w, true);
}

static void restore_done(struct wizard *w, int status, void *ud)
{
	const char *base = strrchr(B.restoring, '/') ? strrchr(B.restoring, '/') + 1 : B.restoring;
	bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	(void)ud;
	B.restore = NULL;
	/* Exit status 3: refused, the cluster still has quorum. */
	if (!B.forced && WIFEXITED(status) && WEXITSTATUS(status) == 3) {
		/* Members answer healthy: a second, explicit yes. */
		struct wz_dialog *d = wz_dialog_push(w, DLG_INPUT, _("The cluster still has quorum"), force_answer, NULL);

		wz_dialog_line(d, _("Members of cluster %s answer healthy: it still has quorum. Restoring it anyway from %s loses every write made after that snapshot."),
			       w->c.name, base);
		wz_dialog_line(d, _("Type the cluster's name (%s) again to restore anyway (--force):"), w->c.name);
		wz_message(w, false, "%s", _("Nothing was changed: the cluster still has quorum."));
		return;
	}
	if (ok)
		wz_message(w, false, _("Cluster %s is restored: every member is healthy (from %s)."), w->c.name, base);
	else
		wz_message(w, true, _("The restore from %s did not finish; see the log. r on the same snapshot goes on where it stopped."),
			   base);
	w->gen++;	/* every screen sees the new cluster */
	refresh(w);
	term_request_draw();
}

static void restore_start(struct wizard *w, bool force)
{
	char *argv[] = { (char *)PACKAGE, (char *)"restore", NULL, (char *)"-f", NULL, (char *)"--yes",
			 force ? (char *)"--force" : NULL, NULL };

	argv[2] = B.restoring;
	argv[4] = w->file;
	B.forced = force;
	B.restore = wz_child_start(w, argv, restore_done, NULL);
	if (B.restore != NULL)
		wz_message(w, false, _("Restoring cluster %s from %s (progress in the log)..."), w->c.name, B.restoring);
}

static void restore_answer(struct wizard *w, int button, const char *input, void *ud)
{
	(void)ud;
	/* First as `restore` guards it: refused while the cluster has quorum. */
	if (name_typed(w, button, input))
		restore_start(w, false);
}

static unsigned act_restore(void *ud, int key)
{
	struct wizard *w = ud;
	struct wz_dialog *d;

	(void)key;
	if (!idle(w))
		return WZ_HANDLED;
	if (B.n_local == 0 || w->file == NULL) {
		wz_message(w, true, "%s", _("There is no snapshot here to restore from: b takes one."));
		return WZ_HANDLED;
	}
	free(B.restoring);
	B.restoring = xstrdup(B.local[B.sel].path);
	d = wz_dialog_push(w, DLG_INPUT, _("Restore the cluster"), restore_answer, NULL);
	wz_dialog_line(d, _("Restore cluster %s from %s?"), w->c.name, B.restoring);
	wz_dialog_line(d, "%s", _("Every member's etcd stops and its data is replaced by the snapshot's (the old data is moved aside, never deleted); every write made after the snapshot is lost; kube-apiserver stops meanwhile."));
	wz_dialog_line(d, _("Type the cluster's name (%s) to restore:"), w->c.name);
	return WZ_HANDLED;
}

/* ---- the screen ---- */

static void enter(struct wizard *w)
{
	if (B.run.steps_csv == NULL) {
		wz_run_init(&B.run, "backups");
		B.run.before_apply = schedule_save;
		B.run.finished = schedule_finished;
	}
	w->active = &B.run;
	if (!B.editing && B.backup == NULL && B.restore == NULL)
		refresh(w);
}

static void leave(struct wizard *w)
{
	if (B.editing && !B.saved && !wz_run_busy(&B.run))
		schedule_undo(w, _("The schedule change was not applied and is undone."));
	members_drop(w);	/* nothing reads behind the other screens */
}

static void draw(struct wizard *w, int top, int rows)
{
	int y = top, cols = term_cols(), shown;
	int64_t now = (int64_t)time(NULL);
	char *dir = backup_dir(&w->c);

	term_putf(y++, 1, cols - 2, TERM_DIM, _("b takes a snapshot now, s sets the schedule, r restores the selected one (the cluster's name is asked)."));
	term_putf(y++, 1, cols - 2, TERM_HEADING, _("Here, in %s:"), dir);
	free(dir);
	if (B.n_local == 0)
		term_put(y++, 3, cols - 4, TERM_DIM, _("no snapshot yet"));
	shown = (int)B.n_local;
	if (shown > rows / 3)
		shown = rows / 3;
	for (int i = 0; i < shown; i++) {
		const struct backup_record *r = &B.local[i];
		char when[32], size[32];
		struct tm tm;
		const char *base = strrchr(r->path, '/');
		bool sel = (size_t)i == B.sel;

		gmtime_r(&r->taken, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		fmt_bytes((double)r->size, size, sizeof size);
		term_fill(y, 0, cols, sel ? TERM_SELECTED : TERM_NORMAL);
		term_putf(y++, 3, cols - 4, sel ? TERM_SELECTED : r->sidecar_ok ? TERM_NORMAL : TERM_WARN,
			  "%s UTC  %-10s  rev %-10" PRIu64 " %-8s %10s  %s", when, r->member[0] ? r->member : "?",
			  r->revision, r->version[0] ? r->version : "?", size, base ? base + 1 : r->path);
	}
	y++;
	term_putf(y++, 1, cols - 2, TERM_HEADING, _("On the members, in %s (schedule: %s, keep %u):"), w->c.backup.dir,
		  w->c.backup.schedule ? w->c.backup.schedule : _("none"), w->c.backup.keep);
	for (size_t i = 0; i < B.n_members && i < w->c.n_members; i++) {
		const struct member_snaps *m = &B.members[i];
		char line[300], age[32];

		if (!m->read)
			snprintf(line, sizeof line, "%s", m->why[0] ? m->why : _("reading..."));
		else if (m->count == 0)
			snprintf(line, sizeof line, _("timer %s, no snapshot"), m->timer ? _("on") : _("off"));
		else {
			fmt_left((double)(now - m->newest), age, sizeof age);
			snprintf(line, sizeof line, _("timer %s, %d snapshots, the newest %s ago"), m->timer ? _("on") : _("off"),
				 m->count, age);
		}
		term_putf(y++, 3, cols - 4, m->read ? TERM_NORMAL : TERM_DIM, "%-12s %s", w->c.members[i].name, line);
	}
	y++;
	if (B.editing) {
		term_hline(y++, 0, cols, TERM_DIM);
		wz_run_draw(w, &B.run, y, rows - (y - top));
	} else {
		wz_draw_log(w, y, rows - (y - top));
	}
}

static unsigned key(struct wizard *w, int k)
{
	if (B.editing)
		return wz_run_key(w, &B.run, k);
	if (k == TK_UP && B.sel > 0)
		B.sel--;
	else if (k == TK_DOWN && B.sel + 1 < B.n_local)
		B.sel++;
	else
		return WZ_IGNORED;
	return WZ_HANDLED;
}

static const char *validate(struct wizard *w)
{
	if (B.backup != NULL)
		return _("a snapshot is being taken");
	if (B.restore != NULL)
		return _("the restore is still running");
	if (B.editing)
		return wz_run_validate(w, &B.run);
	return NULL;
}

static unsigned next(struct wizard *w)
{
	if (B.editing && B.run.state == RUN_PLANNED) {
		wz_run_confirm_apply(w, &B.run);
		return WZ_HANDLED;
	}
	return WZ_NEXT;
}

static bool busy(struct wizard *w)
{
	(void)w;
	return B.backup != NULL || B.restore != NULL || wz_run_busy(&B.run);
}

static void destroy(struct wizard *w)
{
	backup_cancel(B.backup);
	http_tls_creds_free(B.creds);
	wz_child_stop(B.restore);
	wz_run_free(&B.run);
	backup_list_free(B.local, B.n_local);
	members_drop(w);
	free(B.restoring);
	free(B.new_schedule);
	memset(&B, 0, sizeof B);
}

static const struct term_action actions[] = {
	{ 'b', 0, N_("Backup"), N_("take a snapshot now, from a healthy voting member, into the local backups"), act_backup, true },
	{ 's', 0, N_("Schedule"), N_("set backup.schedule and backup.keep: a snapshot timer on every member"), act_schedule, true },
	{ 'r', 0, N_("Restore"), N_("restore the whole cluster from the selected snapshot (asks for the cluster's name)"), act_restore, true },
	{ 'u', 0, N_("Undo"), N_("undo the schedule change not applied yet"), act_undo, false },
	{ TK_UP, TK_DOWN, N_("Select"), N_("select a snapshot (or, during a change, a host)"), NULL, false },
	{ 0, 0, NULL, NULL, NULL, false },
};

const struct screen_ops screen_backups = {
	.name = "backups",
	.title = N_("Backups"),
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
