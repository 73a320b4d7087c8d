/* Members: the running cluster's members as etcd lists them (the engine's
 * read over each member's session, as `etcdwiz member list`: id, role,
 * health, version), and the changes of `etcdwiz member add|remove|replace`
 * made here: a adds a member, d removes the selected one, r moves it to a
 * new host. A change edits the cluster in memory, then gets the install
 * screens' plan, confirmation and progress (every step on a new host, then
 * its join: learner added, started, catching up, promoted). The cluster
 * file is written, the old one kept as FILE.bak, only once the admin said
 * yes; u undoes a change not applied yet. On a cluster that does not run
 * yet the screen says so and Next goes on to install it. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/xmalloc.h"
#include "etcd/etcd-ask.h"
#include "install/backup.h"
#include "install/fleet.h"
#include "install/membership.h"
#include "ui/tui/run.h"

enum edit { EDIT_NONE, EDIT_ADD, EDIT_REMOVE, EDIT_REPLACE };

struct row {
	char *name;		/* "" for a member etcd lists that has not started */
	uint64_t id;		/* 0: not in etcd's list (a member to add) */
	bool learner, leader, viewed, answered, healthy, in_file;
	char version[32];
	char *detail;		/* why not healthy */
};

static struct {
	struct wz_run run;
	bool reading;		/* the pass running is the read */
	bool running;
	char *why;		/* not running: why */
	char *listed_by;
	struct row *rows;
	size_t n_rows, sel;
	enum edit edit;
	char *edit_name;	/* the member changed */
	char *new_name;		/* add: the name typed, the address next */
	char *summary;		/* the change, one line */
	const char *phase;	/* its join's phase (untranslated), or NULL */
	char trail[200];	/* every phase so far, translated, in order */
	struct host gone;	/* remove, replace: the old host */
	struct strlist only;	/* remove: prune only this one */
	bool saved;		/* the file holds the change: no undo */
	bool applying;
	bool member_failed;	/* etcd refused the membership change */
	char *done;		/* what the last change did */
	unsigned gen;
} M;

static void rows_free(void)
{
	for (size_t i = 0; i < M.n_rows; i++) {
		free(M.rows[i].name);
		free(M.rows[i].detail);
	}
	free(M.rows);
	M.rows = NULL;
	M.n_rows = 0;
}

static void edit_clear(void)
{
	M.edit = EDIT_NONE;
	free(M.edit_name);
	M.edit_name = NULL;
	free(M.summary);
	M.summary = NULL;
	M.phase = NULL;
	M.trail[0] = '\0';
	cluster_host_free(&M.gone);
	strlist_free(&M.only);
	M.saved = M.applying = M.member_failed = false;
	wz_run_forget_snapshot(&M.run);
	M.run.prune_members = false;
	M.run.prune_only = NULL;
	M.run.leaving = NULL;
	M.run.n_leaving = 0;
	strlist_free(&M.run.confirm_head);
}

/* ---- what the engine said ---- */

static void on_cluster_read(struct wizard *w, const struct live_cluster *l)
{
	rows_free();
	free(M.why);
	M.why = NULL;
	free(M.listed_by);
	M.listed_by = NULL;
	M.running = l->running;
	if (!l->running) {
		M.why = xstrdup(l->why);
		return;
	}
	M.listed_by = xstrdup(l->asked ? l->asked : "");
	M.rows = xcalloc(l->n + w->c.n_members + 1, sizeof *M.rows);
	for (size_t k = 0; k < l->n; k++) {
		const struct live_member *lm = &l->members[k];
		struct row *r = &M.rows[M.n_rows++];

		r->name = xstrdup(lm->name);
		r->id = lm->id;
		r->learner = lm->learner;
		r->viewed = lm->viewed;
		r->leader = lm->viewed && lm->view.leader;
		r->answered = lm->viewed && lm->view.answered;
		r->healthy = r->answered && lm->view.healthy;
		snprintf(r->version, sizeof r->version, "%s", lm->viewed ? lm->view.version : "");
		r->detail = xstrdup(lm->viewed ? lm->view.detail : "");
		r->in_file = lm->name[0] && cluster_find_member(&w->c, lm->name) != NULL;
	}
	/* The file's members etcd does not list yet. */
	for (size_t i = 0; i < w->c.n_members; i++) {
		if (live_find_name(l, w->c.members[i].name) != NULL)
			continue;
		M.rows[M.n_rows].name = xstrdup(w->c.members[i].name);
		M.rows[M.n_rows].detail = xstrdup("");
		M.rows[M.n_rows++].in_file = true;
	}
	if (M.sel >= M.n_rows)
		M.sel = M.n_rows ? M.n_rows - 1 : 0;
}

static void on_cluster_change(struct wizard *w, const char *what, const char *removed, bool failed)
{
	struct wiz_error err;
	char *to = NULL;

	(void)what;
	M.member_failed |= failed;
	if (removed == NULL)
		return;
	/* Its certificates leave the store's members/ as `member remove`
	 * does it. */
	if (pki_store_set_aside(&w->store, removed, "removed", time(NULL), &to, &err) != WIZ_ERR_OK)
		wz_log(w, "%s", err.msg);
	else if (to != NULL)
		wz_log(w, _("The certificates of %s in the local store are now in %s."), removed, to);
	free(to);
}

static void on_join_phase(struct wizard *w, const char *member, enum engine_join_phase p)
{
	size_t n = strlen(M.trail);

	(void)w;
	if (M.edit_name == NULL || strcmp(member, M.edit_name) != 0)
		return;
	M.phase = engine_join_phase_text(p);
	snprintf(M.trail + n, sizeof M.trail - n, "%s%s", n ? ", " : "", _(M.phase));
}

/* ---- reading ---- */

static void read_start(struct wizard *w)
{
	M.reading = true;
	M.gen = M.run.gen = w->gen;
	/* The step that reads the cluster, and only it. */
	wz_run_set_steps(&M.run, "manifest");
	wz_run_start(w, &M.run, false);
}

static void say_read(struct wizard *w)
{
	size_t healthy = 0, voters = 0;
	const char *leader = "";

	if (M.run.state == RUN_FAILED && !M.running && M.why == NULL) {
		wz_message(w, true, "%s", _("The cluster could not be read: some hosts could not be checked; see the log. c reads it again."));
		return;
	}
	if (!M.running) {
		wz_message(w, false, _("Cluster %s is not running yet: the next screens install it. F3 goes on."),
			   w->c.name);
		return;
	}
	for (size_t i = 0; i < M.n_rows; i++) {
		healthy += M.rows[i].healthy;
		voters += M.rows[i].id != 0 && !M.rows[i].learner;
		if (M.rows[i].leader)
			leader = M.rows[i].name;
	}
	wz_message(w, healthy < voters,
		   _("Cluster %s: %zu voting members, %zu healthy, leader %s. a adds, d removes, r replaces; F3 goes on."),
		   w->c.name, voters, healthy, leader[0] ? leader : "-");
}

/* ---- a change ---- */

static bool file_ready(struct wizard *w)
{
	if (M.edit != EDIT_NONE) {
		wz_message(w, true, "%s", _("One change at a time: apply this one with F3, or u undoes it."));
		return false;
	}
	if (wz_run_busy(&M.run)) {
		wz_message(w, true, "%s", _("Wait until the cluster has been read."));
		return false;
	}
	if (!M.running) {
		wz_message(w, true, "%s", _("The cluster is not running: its members are changed on the Hosts screen before it is installed."));
		return false;
	}
	if (w->file == NULL) {
		wz_message(w, true, "%s", _("The cluster has no file yet: save it on the Hosts screen first."));
		return false;
	}
	return true;
}

/* The cluster as the file has it again; read anew when reread (not when
 * leaving the screen: nothing runs behind the other screens). */
static void undo_edit(struct wizard *w, const char *why, bool reread)
{
	char *file = xstrdup(w->file);

	edit_clear();
	if (wz_load_cluster(w, file))
		wz_message(w, false, "%s", why);
	free(file);
	if (reread)
		read_start(w);
}

static void plan_edit(struct wizard *w)
{
	struct diag_list d;
	size_t errors;

	diag_list_init(&d, w->file);
	cluster_validate(&w->c, &d);
	errors = diag_count(&d, DIAG_ERROR);
	if (errors > 0) {
		for (size_t i = 0; i < d.n; i++)
			if (d.items[i].severity == DIAG_ERROR) {
				char *msg = xasprintf(_("Not changed: %s"), d.items[i].msg);

				diag_list_free(&d);
				undo_edit(w, msg, true);
				wz_message(w, true, "%s", msg);
				free(msg);
				return;
			}
	}
	diag_list_free(&d);
	strlist_push(&M.run.confirm_head, M.summary);
	strlist_push(&M.run.confirm_head, _("A snapshot is taken first, into the local backups (as 'etcdwiz backup' does)."));
	strlist_push(&M.run.confirm_head, "");
	w->gen++;	/* every screen's plan is for another cluster now */
	M.gen = M.run.gen = w->gen;
	M.reading = false;
	wz_run_set_steps(&M.run, "");	/* every step: a new host gets them all */
	wz_run_start(w, &M.run, false);
}

static void add_address(struct wizard *w, int button, const char *input, void *ud)
{
	struct wiz_error err;
	char *name = M.new_name;

	(void)ud;
	M.new_name = NULL;
	if (button != 0 || name == NULL) {
		free(name);
		return;
	}
	if (cluster_member_add(&w->c, name, input, &err) != WIZ_ERR_OK) {
		wz_message(w, true, "%s", err.msg);
		free(name);
		return;
	}
	M.edit = EDIT_ADD;
	M.edit_name = name;
	M.summary = xasprintf(_("add %s (%s) as a learner, wait until it has caught up, promote it"), name,
			      input);
	plan_edit(w);
}

static void add_name(struct wizard *w, int button, const char *input, void *ud)
{
	struct wz_dialog *d;

	(void)ud;
	if (button != 0 || input[0] == '\0')
		return;
	if (cluster_find_member(&w->c, input) != NULL) {
		wz_message(w, true, _("%s is a member already; r moves it to another host."), input);
		return;
	}
	free(M.new_name);
	M.new_name = xstrdup(input);
	d = wz_dialog_push(w, DLG_INPUT, _("Add a member"), add_address, NULL);
	wz_dialog_line(d, _("Address of %s: the IP address it advertises to etcd (and where SSH goes):"), input);
}

static unsigned act_add(void *ud, int key)
{
	struct wizard *w = ud;
	struct wz_dialog *d;
	char name[32];

	(void)key;
	if (!file_ready(w))
		return WZ_HANDLED;
	d = wz_dialog_push(w, DLG_INPUT, _("Add a member"), add_name, NULL);
	wz_dialog_line(d, "%s", _("Name of the new member (etcd's member name, and its certificates'):"));
	for (size_t n = w->c.n_members + 1; n < 100; n++) {
		snprintf(name, sizeof name, "etcd-%zu", n);
		if (cluster_find_member(&w->c, name) == NULL)
			break;
	}
	snprintf(d->input, sizeof d->input, "%s", name);
	d->input_len = strlen(d->input);
	return WZ_HANDLED;
}

/* The selected row, when it is a member of the file; else says why not. */
static const struct row *selected_member(struct wizard *w)
{
	const struct row *r = M.sel < M.n_rows ? &M.rows[M.sel] : NULL;

	if (r == NULL)
		return NULL;
	if (!r->in_file) {
		wz_message(w, true, _("That member is not in the cluster file; 'etcdwiz apply --prune-members -f %s' removes it."),
			   w->file);
		return NULL;
	}
	return r;
}

static unsigned act_remove(void *ud, int key)
{
	struct wizard *w = ud;
	const struct row *r;
	struct wiz_error err;
	char id[17];

	(void)key;
	if (!file_ready(w) || (r = selected_member(w)) == NULL)
		return WZ_HANDLED;
	if (cluster_member_take(&w->c, r->name, &M.gone, &err) != WIZ_ERR_OK) {
		wz_message(w, true, "%s", err.msg);
		return WZ_HANDLED;
	}
	M.edit = EDIT_REMOVE;
	M.edit_name = xstrdup(r->name);
	strlist_push(&M.only, r->name);
	M.run.prune_members = true;
	M.run.prune_only = &M.only;
	M.run.leaving = &M.gone;
	M.run.n_leaving = 1;
	M.summary = r->id ? xasprintf(_("remove %s (id %s) from etcd, then move its manifest and data aside on its host"),
				      r->name, member_hex_id(id, r->id))
			  : xasprintf(_("take %s out of the cluster file (etcd does not list it)"), r->name);
	plan_edit(w);
	return WZ_HANDLED;
}

static void replace_address(struct wizard *w, int button, const char *input, void *ud)
{
	struct wiz_error err;
	char *name = M.new_name;
	bool pin_dropped;

	(void)ud;
	M.new_name = NULL;
	if (button != 0 || name == NULL) {
		free(name);
		return;
	}
	if (cluster_member_move(&w->c, name, input, &M.gone, &pin_dropped, &err) != WIZ_ERR_OK) {
		wz_message(w, true, "%s", err.msg);
		free(name);
		return;
	}
	M.edit = EDIT_REPLACE;
	M.edit_name = name;
	M.run.leaving = &M.gone;
	M.run.n_leaving = 1;
	M.summary = xasprintf(_("replace %s: remove it at %s, then add it at %s as a learner and promote it"), name,
			      M.gone.address, input);
	if (pin_dropped)
		strlist_push(&M.run.confirm_head,
			     _("The host key pinned for it (ssh.hostKeys) is dropped: the new host's key is checked against known_hosts."));
	plan_edit(w);
}

static unsigned act_replace(void *ud, int key)
{
	struct wizard *w = ud;
	const struct row *r;
	struct wz_dialog *d;

	(void)key;
	if (!file_ready(w) || (r = selected_member(w)) == NULL)
		return WZ_HANDLED;
	free(M.new_name);
	M.new_name = xstrdup(r->name);
	d = wz_dialog_push(w, DLG_INPUT, _("Replace a member"), replace_address, NULL);
	wz_dialog_line(d, _("New address of %s: the new host's IP address (its etcd starts empty and joins as a learner):"),
		       r->name);
	return WZ_HANDLED;
}

static unsigned act_undo(void *ud, int key)
{
	struct wizard *w = ud;

	(void)key;
	if (M.edit == EDIT_NONE || wz_run_busy(&M.run))
		return WZ_HANDLED;
	if (M.saved) {
		wz_message(w, true, _("%s holds this change already: F3 finishes it."), w->file);
		return WZ_HANDLED;
	}
	undo_edit(w, _("The change was undone; nothing was applied."), true);
	return WZ_HANDLED;
}

static unsigned act_recheck(void *ud, int key)
{
	struct wizard *w = ud;

	(void)key;
	if (wz_run_busy(&M.run))
		return WZ_HANDLED;
	if (M.edit == EDIT_NONE)
		read_start(w);
	else
		wz_run_start(w, &M.run, false);
	return WZ_HANDLED;
}

/* Yes to the confirmation, the snapshot kept (the runner takes it): the
 * store and the file, as `member` does. */
static bool before_apply(struct wizard *w, struct wz_run *r)
{
	struct wiz_error err;
	struct pki_report rep = { 0 };
	char *to = NULL;

	(void)r;
	if (M.edit == EDIT_REPLACE && !M.saved) {
		/* Its certificates name the old address: made anew. */
		if (pki_store_set_aside(&w->store, M.edit_name, "replaced", time(NULL), &to, &err) != WIZ_ERR_OK) {
			wz_message(w, true, "%s", err.msg);
			return false;
		}
		if (to != NULL)
			wz_log(w, _("The certificates of %s in the local store are now in %s."), M.edit_name, to);
		free(to);
	}
	if (pki_store_generate(&w->store, time(NULL), &rep) != WIZ_ERR_OK) {
		wz_message(w, true, "%s", rep.errors.n ? rep.errors.items[0] : _("cannot make the certificates"));
		pki_report_free(&rep);
		return false;
	}
	pki_report_free(&rep);
	if (!M.saved) {
		if (cluster_keep_backup(w->file, &err) != WIZ_ERR_OK) {
			wz_message(w, true, _("%s was not changed and nothing was applied: %s"), w->file, err.msg);
			return false;
		}
		if (!wz_save_cluster(w))
			return false;
		M.saved = true;
		wz_log(w, _("Wrote %s (the previous file is %s.bak)."), w->file, w->file);
	}
	M.applying = true;
	M.member_failed = false;
	M.phase = NULL;
	M.trail[0] = '\0';
	return true;
}

static void finished(struct wizard *w, struct wz_run *r)
{
	if (M.reading) {
		M.reading = false;
		say_read(w);
		return;
	}
	if (!M.applying)
		return;	/* a change's plan: shown, F3 confirms */
	M.applying = false;
	if (r->applied) {
		free(M.done);
		M.done = M.trail[0] ? xasprintf(_("Done: %s (%s)."), M.summary, M.trail)
				    : xasprintf(_("Done: %s."), M.summary);
		if (M.run.snapshot != NULL)
			xasprintf_append(&M.done, _(" The snapshot taken first: %s."), M.run.snapshot);
		edit_clear();
		read_start(w);
		return;
	}
	if (M.member_failed && M.edit == EDIT_REMOVE) {
		/* etcd kept the member: the file goes back to what it was. */
		char *bak = xasprintf("%s.bak", w->file);

		if (rename(bak, w->file) == 0) {
			free(bak);
			undo_edit(w, _("etcd refused the change (see the log): the cluster file is back as it was."), true);
			return;
		}
		wz_message(w, true, _("etcd refused the change, and %s could not be put back from %s: %s"), w->file, bak,
			   strerror(errno));
		free(bak);
		return;
	}
	wz_message(w, true, "%s", _("The change stopped; see the hosts' state and the log. Fix the cause, c checks again and F3 finishes it (the file holds the change)."));
}

/* ---- the screen ---- */

static void enter(struct wizard *w)
{
	if (M.run.steps_csv == NULL) {
		wz_run_init(&M.run, "manifest");
		M.run.cluster_read = on_cluster_read;
		M.run.cluster_change = on_cluster_change;
		M.run.join_phase = on_join_phase;
		M.run.before_apply = before_apply;
		M.run.snapshot_first = true;
		M.run.finished = finished;
	}
	w->active = &M.run;
	/* Read every time: the cluster may have changed behind the screen. */
	if (M.edit == EDIT_NONE && !wz_run_busy(&M.run)) {
		free(M.done);
		M.done = NULL;
		check_cache_clear(M.run.checks);
		read_start(w);
	}
}

static void leave(struct wizard *w)
{
	/* A change not confirmed does not go on to the other screens. */
	if (M.edit != EDIT_NONE && !M.saved && !wz_run_busy(&M.run))
		undo_edit(w, _("The membership change was not applied and is undone."), false);
}

static const char *role_text(const struct row *r)
{
	if (r->id == 0)
		return M.edit == EDIT_ADD || M.edit == EDIT_REPLACE ? _("to join") : _("not a member");
	if (r->learner)
		return _("learner");
	return r->leader ? _("leader") : _("voter");
}

static void health_text(const struct row *r, char *out, size_t size)
{
	if (r->id == 0)
		snprintf(out, size, "%s", "-");
	else if (!r->name[0])
		snprintf(out, size, "%s", _("never started"));
	else if (!r->viewed)
		snprintf(out, size, "%s", _("not asked: not in the cluster file"));
	else if (!r->answered)
		snprintf(out, size, _("no answer: %s"), r->detail);
	else if (!r->healthy)
		snprintf(out, size, _("not healthy: %s"), r->detail);
	else
		snprintf(out, size, "%s", _("healthy"));
}

/* The edit's mark on a row: what will happen to it, or its join's phase. */
static const char *change_text(const struct row *r)
{
	if (M.edit_name == NULL || strcmp(r->name, M.edit_name) != 0)
		return "";
	if (M.phase != NULL)
		return _(M.phase);
	switch (M.edit) {
	case EDIT_ADD: return _("to add");
	case EDIT_REMOVE: return _("to remove");
	case EDIT_REPLACE: return _("to replace");
	default: return "";
	}
}

/* One row of the table, each cell at its column, cut by display width
 * (a translated word may be wide characters). */
static void cells(int y, int cols, enum term_role role, const char *const text[6])
{
	static const int at[] = { 1, 14, 31, 41, 50, 65 };

	for (int i = 0; i < 6; i++) {
		int width = i < 5 ? at[i + 1] - at[i] - 1 : cols - at[i] - 1;

		if (width > 0 && at[i] < cols)
			term_put(y, at[i], width, role, text[i]);
	}
}

static void draw(struct wizard *w, int top, int rows)
{
	int y = top, cols = term_cols(), table;
	char id[17], health[200];
	bool show_run = M.edit != EDIT_NONE || (!M.reading && M.run.state == RUN_FAILED);

	if (M.reading && M.n_rows == 0) {
		term_put(y++, 1, cols - 2, TERM_DIM, _("Reading the cluster's member list from its members..."));
		wz_draw_log(w, y + 1, rows - 2);
		return;
	}
	if (!M.running) {
		term_putf(y++, 1, cols - 2, TERM_NORMAL, _("Cluster %s is not running yet: %s"), w->c.name,
			  M.why ? M.why : "");
		term_put(y++, 1, cols - 2, TERM_DIM, _("Its members are set on the Hosts screen; the next screens install it."));
		wz_draw_log(w, y + 1, rows - (y + 1 - top));
		return;
	}
	term_putf(y++, 1, cols - 2, TERM_DIM, _("As etcd lists them (asked %s). a adds a member, d removes the selected one, r moves it to a new host."),
		  M.listed_by ? M.listed_by : "");
	cells(y++, cols, TERM_HEADING, (const char *const[]){ _("Member"), "ID", _("Role"), _("Version"), _("Change"),
							    _("Health") });
	table = (int)M.n_rows;
	if (table > rows / 2 - 2)
		table = rows / 2 - 2;
	for (int i = 0; i < table; i++) {
		const struct row *r = &M.rows[i];
		bool sel = (size_t)i == M.sel;
		enum term_role role = sel ? TERM_SELECTED : r->id && !r->healthy ? TERM_WARN : TERM_NORMAL;

		health_text(r, health, sizeof health);
		term_fill(y, 0, cols, sel ? TERM_SELECTED : TERM_NORMAL);
		cells(y++, cols, role, (const char *const[]){ r->name[0] ? r->name : "-", r->id ? member_hex_id(id, r->id) : "-",
							      role_text(r), r->version[0] ? r->version : "-",
							      change_text(r), health });
	}
	y++;
	if (!show_run) {
		/* What the last change did stays shown until the next one. */
		if (M.done != NULL) {
			struct strlist in = { NULL, 0 }, out = { NULL, 0 };

			strlist_push(&in, M.done);
			wz_wrap_lines(&in, cols - 2, &out);
			for (size_t i = 0; i < out.n && i < 3; i++)
				term_put(y++, 1, cols - 2, TERM_OK, out.items[i]);
			strlist_free(&in);
			strlist_free(&out);
		}
		wz_draw_log(w, y, rows - (y - top));
		return;
	}
	term_hline(y++, 0, cols, TERM_DIM);
	term_putf(y++, 1, cols - 2, TERM_HEADING, "%s", M.summary ? M.summary : "");
	wz_run_draw(w, &M.run, y, rows - (y - top));
}

static unsigned key(struct wizard *w, int k)
{
	if (M.edit != EDIT_NONE)
		return wz_run_key(w, &M.run, k);
	switch (k) {
	case TK_UP:
		if (M.sel > 0)
			M.sel--;
		return WZ_HANDLED;
	case TK_DOWN:
		if (M.sel + 1 < M.n_rows)
			M.sel++;
		return WZ_HANDLED;
	default:
		return WZ_IGNORED;
	}
}

static const char *validate(struct wizard *w)
{
	if (M.run.backup != NULL)
		return _("the snapshot before the change is still being taken");
	if (M.edit != EDIT_NONE) {
		if (M.run.state == RUN_FAILED)
			return _("the change stopped; c checks again, then F3 tries again (u undoes a change not applied)");
		return wz_run_validate(w, &M.run);
	}
	if (M.reading)
		return _("the cluster is still being read");
	return NULL;
}

static unsigned next(struct wizard *w)
{
	if (M.edit != EDIT_NONE) {
		wz_run_confirm_apply(w, &M.run);
		return WZ_HANDLED;
	}
	return WZ_NEXT;
}

static bool busy(struct wizard *w)
{
	(void)w;
	return wz_run_busy(&M.run);
}

static void destroy(struct wizard *w)
{
	(void)w;
	edit_clear();
	wz_run_free(&M.run);
	rows_free();
	free(M.why);
	free(M.listed_by);
	free(M.new_name);
	free(M.done);
	memset(&M, 0, sizeof M);
}

static const struct term_action actions[] = {
	{ 'a', 0, N_("Add"), N_("add a member: every step on its host, then it joins as a learner and is promoted"), act_add, true },
	{ 'd', 0, N_("Remove"), N_("remove the selected member from etcd, then set its files aside on its host"), act_remove, true },
	{ 'r', 0, N_("Replace"), N_("move the selected member to a new host (removed, then added there)"), act_replace, true },
	{ 'u', 0, N_("Undo"), N_("undo the change not applied yet"), act_undo, true },
	{ 'c', 0, N_("Check"), N_("read the cluster, or check the change's hosts, again (read-only)"), act_recheck, false },
	{ 'v', 0, N_("Diffs"), N_("show or hide the file diffs of the selected host"), wz_run_toggle_diffs, false },
	{ TK_UP, TK_DOWN, N_("Select"), N_("select a member (or, during a change, a host)"), NULL, false },
	{ 0, 0, NULL, NULL, NULL, false },
};

const struct screen_ops screen_members = {
	.name = "members",
	.title = N_("Members"),
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
