/* The runner shared by the screens that change hosts: it drives the same
 * engine as `etcdwiz plan|apply` (engine_opts.steps narrowed to the
 * screen's steps) through the one loop, with a sink that records per-host
 * progress and plans for drawing. Plan first (read-only), then apply only
 * after a confirmation that lists what will change on every host. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/loop.h"
#include "base/strutil.h"
#include "base/xmalloc.h"
#include "etcd/etcd-ask.h"
#include "install/apply-support.h"
#include "install/backup.h"
#include "install/fleet.h"
#include "install/plan.h"
#include "ui/tui/run.h"

static unsigned act_replan(void *ud, int key);

const struct term_action wz_run_actions[] = {
	{ 'd', 0, N_("Diffs"), N_("show or hide the file diffs of the selected host"), wz_run_toggle_diffs, true },
	{ 'r', 0, N_("Re-check"), N_("check the hosts again (read-only)"), act_replan, true },
	{ TK_UP, 0, N_("Host"), N_("select the previous host"), NULL, false },
	{ TK_DOWN, 0, N_("Host"), N_("select the next host"), NULL, false },
	{ TK_PGUP, TK_PGDN, N_("Scroll"), N_("scroll the selected host's plan"), NULL, false },
	{ 0, 0, NULL, NULL, NULL, false },
};

unsigned wz_run_toggle_diffs(void *ud, int key)
{
	struct wizard *w = ud;

	(void)key;
	if (w->active)
		w->active->diffs = !w->active->diffs;
	return WZ_HANDLED;
}

static unsigned act_replan(void *ud, int key)
{
	struct wizard *w = ud;

	(void)key;
	if (w->active && !wz_run_busy(w->active))
		wz_run_start(w, w->active, false);
	return WZ_HANDLED;
}

void wz_run_init(struct wz_run *r, const char *steps_csv)
{
	memset(r, 0, sizeof *r);
	r->steps_csv = steps_csv;
	apply_split_csv(&r->steps, steps_csv, false);
	r->checks = check_cache_new();
}

void wz_run_set_steps(struct wz_run *r, const char *steps_csv)
{
	r->steps_csv = steps_csv;
	strlist_free(&r->steps);
	apply_split_csv(&r->steps, steps_csv, false);
}

static void hosts_free(struct wz_run *r)
{
	for (size_t i = 0; i < r->n_hosts; i++) {
		free(r->hosts[i].name);
		free(r->hosts[i].step);
		free(r->hosts[i].change_step);
		free(r->hosts[i].msg);
		strlist_free(&r->hosts[i].detail);
	}
	free(r->hosts);
	r->hosts = NULL;
	r->n_hosts = 0;
}

static void engine_stop(struct wz_run *r)
{
	if (r->check) {
		loop_timer_del(r->check);
		r->check = NULL;
	}
	if (r->e) {
		engine_free(r->e);
		r->e = NULL;
	}
	/* The engine borrowed the token: free it only with the engine. */
	free(r->token);
	r->token = NULL;
}

void wz_run_reset(struct wz_run *r)
{
	engine_stop(r);
	hosts_free(r);
	r->state = RUN_IDLE;
	r->applied = false;
	r->n_changes = r->n_errors = r->n_unhealthy = 0;
}

void wz_run_forget_snapshot(struct wz_run *r)
{
	backup_cancel(r->backup);
	r->backup = NULL;
	http_tls_creds_free(r->backup_creds);
	r->backup_creds = NULL;
	free(r->snapshot);
	r->snapshot = NULL;
}

void wz_run_free(struct wz_run *r)
{
	wz_run_forget_snapshot(r);
	wz_run_reset(r);
	strlist_free(&r->steps);
	strlist_free(&r->confirm_head);
	free(r->journal);
	r->journal = NULL;
	check_cache_free(r->checks);
	r->checks = NULL;
}

void wz_run_enter(struct wizard *w, struct wz_run *r, const char *steps_csv)
{
	if (r->steps_csv == NULL)
		wz_run_init(r, steps_csv);
	if (r->gen != w->gen) {
		wz_run_reset(r);
		check_cache_clear(r->checks);	/* made for another cluster */
		r->gen = w->gen;
	}
	w->active = r;
	if (r->state == RUN_IDLE)
		wz_run_start(w, r, false);
}

bool wz_run_busy(const struct wz_run *r)
{
	return r->state == RUN_PLANNING || r->state == RUN_APPLYING || r->backup != NULL;
}

static struct wz_run_host *run_host(struct wizard *w, const struct engine_host *h)
{
	struct wz_run *r = w->active;
	const char *name = engine_host_name(h);

	for (size_t i = 0; i < r->n_hosts; i++)
		if (strcmp(r->hosts[i].name, name) == 0)
			return &r->hosts[i];
	return &r->hosts[0];
}

/* ---- the sink ---- */

static void sink_step(const struct step *s, void *ud)
{
	struct wizard *w = ud;

	wz_log(w, "== %s (%s)", _(s->title), s->name);
}

static void add_detail(struct wz_run_host *rh, const char *text)
{
	char *copy = xstrdup(text), *save = NULL;

	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		strlist_push(&rh->detail, l);
	free(copy);
}

static void sink_planned(const struct engine_host *h, const struct step *s, const struct plan *p,
			 void *ud)
{
	struct wizard *w = ud;
	struct wz_run *r = w->active;
	struct wz_run_host *rh = run_host(w, h);
	char *line;

	if (r->state != RUN_PLANNING)
		return;
	free(rh->step);
	rh->step = xstrdup(s->name);
	rh->n_changes += p->n_actions;
	rh->n_errors += plan_errors(p);
	if (!plan_is_empty(p)) {
		r->n_changes++;
		if (rh->n_change_steps++ == 0)
			rh->change_step = xstrdup(s->name);
	}
	r->n_errors += plan_errors(p);
	if (apply_plan_unhealthy(s, p))
		r->n_unhealthy++;
	line = xasprintf("== %s: %s", s->name, plan_is_empty(p) ? _("nothing to change") : _("changes"));
	strlist_push(&rh->detail, line);
	free(line);
	for (size_t i = 0; i < p->n_notes; i++)
		add_detail(rh, p->notes[i]);
	for (size_t i = 0; i < p->n_findings; i++) {
		line = xasprintf("[%s %s]: %s", p->findings[i].error ? "ERROR" : "WARNING",
				 p->findings[i].name, p->findings[i].msg);
		add_detail(rh, line);
		free(line);
	}
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct action *a = &p->actions[i];

		line = xasprintf("%s %s", term_glyph(TERM_G_ARROW), a->summary);
		strlist_push(&rh->detail, line);
		free(line);
		if (a->kind == ACTION_COMMAND) {
			line = xasprintf("    $ %s", a->command);
			add_detail(rh, line);
			free(line);
		} else if (a->secret) {
			line = xasprintf("    %s (%s)", a->path,
					 str_has_suffix(a->path, ".crt") ? _("a certificate, its PEM not shown")
									      : _("key material, not shown"));
			strlist_push(&rh->detail, line);
			free(line);
		} else {
			char *d = text_diff(a->old_content ? a->old_content : "", a->content ? a->content : "",
					    a->path, a->path);

			/* Diff lines are marked so that 'd' can hide them. */
			if (d) {
				char *copy = d, *save = NULL;

				for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
					line = xasprintf("\001%s", l);
					strlist_push(&rh->detail, line);
					free(line);
				}
			}
			free(d);
		}
	}
	term_request_draw();
}

static void sink_action(const struct engine_host *h, const struct step *s, const struct action *a,
			size_t i, size_t n, void *ud)
{
	struct wizard *w = ud;
	struct wz_run_host *rh = run_host(w, h);

	free(rh->step);
	rh->step = xstrdup(s->name);
	rh->action = i + 1;
	rh->n_actions = n;
	wz_log(w, "%s %s: [%zu/%zu] %s", engine_host_name(h), s->name, i + 1, n, a->summary);
}

static void sink_cluster_read(const struct live_cluster *l, void *ud)
{
	struct wizard *w = ud;

	if (w->active && w->active->cluster_read)
		w->active->cluster_read(w, l);
	term_request_draw();
}

static void sink_cluster_change(const char *what, const char *removed, bool failed, void *ud)
{
	struct wizard *w = ud;

	wz_log(w, "%s: %s%s", _("cluster"), failed ? _("failed: ") : "", what);
	if (w->active && w->active->cluster_change)
		w->active->cluster_change(w, what, removed, failed);
	term_request_draw();
}

static void sink_join_phase(const char *member, enum engine_join_phase p, void *ud)
{
	struct wizard *w = ud;

	wz_log(w, "%s: %s: %s", _("cluster"), member, _(engine_join_phase_text(p)));
	if (w->active && w->active->join_phase)
		w->active->join_phase(w, member, p);
	term_request_draw();
}

static void sink_waiting(const char *what, void *ud)
{
	struct wizard *w = ud;

	wz_log(w, "%s: %s", _("cluster"), what);
	term_request_draw();
}

static void on_check(struct loop_timer *t, void *ud);

static void sink_done(const struct engine_host *h, const struct step *s, enum host_result res,
		      const char *msg, void *ud)
{
	struct wizard *w = ud;
	struct wz_run *r = w->active;
	struct wz_run_host *rh = run_host(w, h);

	rh->steps_done++;
	rh->last = res;
	rh->action = rh->n_actions = 0;
	if ((res == HOST_FAILED || res == HOST_UNREACHABLE) && !rh->failed) {
		rh->failed = true;
		rh->failure = res;
		free(rh->msg);
		rh->msg = msg ? xstrdup(msg) : NULL;
	}
	if (r->state == RUN_APPLYING)
		wz_recap_add(w, engine_host_name(h), res);
	/* A check changes nothing: its "changed" is what would change. */
	wz_log(w, "%s %s: %s%s%s", engine_host_name(h), s->name,
	       r->state == RUN_PLANNING && res == HOST_CHANGED ? _("would change")
	       : r->state == RUN_PLANNING && res == HOST_OK   ? _("nothing to change")
							      : _(host_result_text(res)),
	       msg ? ": " : "", msg ? msg : "");
	/* The engine may be done after this callback returns. */
	if (r->check)
		loop_timer_arm_in(r->check, 0);
}

static void finish(struct wizard *w, struct wz_run *r)
{
	bool ok = engine_succeeded(r->e);

	engine_stop(r);
	if (r->state == RUN_PLANNING) {
		r->state = ok ? RUN_PLANNED : RUN_FAILED;
		if (ok && r->n_errors == 0 && r->n_changes == 0 && r->n_unhealthy == 0)
			wz_message(w, false, "%s", _("Checked: every host is as it should be, nothing to change. F3 goes on."));
		else if (ok && r->n_errors == 0)
			wz_message(w, false,
				   P_("Checked: %zu step would change a host. Review, then F3 to apply.",
				      "Checked: %zu host steps would change. Review, then F3 to apply.",
				      r->n_changes), r->n_changes);
		else if (ok)
			wz_message(w, true, P_("%zu error found; see [ERROR ...] in the plans.",
					       "%zu errors found; see [ERROR ...] in the plans.", r->n_errors),
				   r->n_errors);
		else
			wz_message(w, true, "%s", _("Some hosts could not be checked; see their state and the log."));
	} else {
		r->state = ok ? RUN_DONE : RUN_FAILED;
		r->applied = ok;
		wz_message(w, !ok, "%s", ok ? _("Applied on every host.") : _("Some hosts failed; see their state and the log. r checks again."));
	}
	if (r->finished)
		r->finished(w, r);
	term_request_draw();
}

static void on_check(struct loop_timer *t, void *ud)
{
	struct wizard *w = ud;
	struct wz_run *r = w->active;

	if (r == NULL || r->e == NULL)
		return;
	if (engine_done(r->e))
		finish(w, r);
	else
		loop_timer_arm_in(t, 1000);
}

void wz_run_start(struct wizard *w, struct wz_run *r, bool apply)
{
	struct engine_sink sink = { .step_started = sink_step, .planned = sink_planned,
				    .action = sink_action, .host_done = sink_done,
				    .cluster_read = sink_cluster_read, .cluster_change = sink_cluster_change,
				    .join_phase = sink_join_phase, .waiting = sink_waiting, .ud = w };
	struct engine_opts o;
	struct wiz_error err;
	struct transport t;
	wz_run_reset(r);
	w->active = r;
	memset(&o, 0, sizeof o);
	o.apply = apply;
	o.steps = r->steps.n ? &r->steps : NULL;
	o.prune_members = r->prune_members;
	o.prune_only = r->prune_only;
	o.leaving_hosts = r->leaving;
	o.n_leaving_hosts = r->n_leaving;
	o.kubeadm_init = r->kubeadm_init;
	o.allow_downgrade = r->allow_downgrade;
	o.read_local = apply_read_local;
	o.read_local_ud = &w->store;
	o.etcd_creds = apply_etcd_creds;
	o.etcd_creds_ud = &w->store;
	o.checks = r->checks;
	o.reuse_checks = apply;
	r->token = apply_cluster_token(&w->c, apply, &err);
	if (r->token == NULL) {
		wz_message(w, true, "%s", err.msg);
		r->state = RUN_FAILED;
		return;
	}
	o.cluster_token = r->token;
	free(r->journal);
	r->journal = apply_journal_path(&w->c, apply);
	o.journal_path = r->journal;
	if (r->journal && apply)
		strlist_push(&w->journals, r->journal);
	r->n_steps = 0;
	for (size_t i = 0; step_table[i]; i++)
		if (r->steps.n == 0 || strlist_contains(&r->steps, step_table[i]->name))
			r->n_steps++;
	r->state = apply ? RUN_APPLYING : RUN_PLANNING;
	wz_fleet_sync(w);
	t = fleet_transport(w->fleet);
	r->e = engine_new(w->loop, &t, &w->c, &o, &sink);
	r->n_hosts = engine_host_count(r->e);
	r->hosts = xcalloc(r->n_hosts ? r->n_hosts : 1, sizeof *r->hosts);
	for (size_t i = 0; i < r->n_hosts; i++)
		r->hosts[i].name = xstrdup(engine_host_name(engine_host_at(r->e, i)));
	r->check = loop_timer_add(w->loop, on_check, w);
	wz_message(w, false, "%s", apply ? _("Applying on every host...") : _("Checking every host (read-only)..."));
	engine_start(r->e);
	loop_timer_arm_in(r->check, 0);
}

/* ---- confirm and apply ---- */

static void apply_now(struct wizard *w, struct wz_run *r)
{
	if (r->before_apply == NULL || r->before_apply(w, r))
		wz_run_start(w, r, true);
}

static void snapshot_done(enum wiz_err rc, const struct backup_record *rec, const struct wiz_error *err,
			  void *ud)
{
	struct wizard *w = ud;
	struct wz_run *r = w->active;

	r->backup = NULL;
	http_tls_creds_free(r->backup_creds);
	r->backup_creds = NULL;
	if (rc != WIZ_ERR_OK) {
		wz_message(w, true, _("No snapshot could be taken before the change (%s): nothing was changed."),
			   err->msg);
		wz_log(w, _("No snapshot could be taken before the change: %s"), err->msg);
	} else {
		r->snapshot = xstrdup(rec->path);
		wz_log(w, _("Snapshot before the change: %s (from %s)."), rec->path, rec->member);
		apply_now(w, r);
	}
	term_request_draw();
}

/* A snapshot first, from a healthy voter, as `etcdwiz backup` takes it;
 * the apply starts once it is kept (snapshot_done). */
static void snapshot_first(struct wizard *w, struct wz_run *r)
{
	struct backup_opts o = { 0 };
	struct wiz_error err;

	if (etcd_creds_from_store(&w->store, &r->backup_creds, &err) != WIZ_ERR_OK) {
		wz_message(w, true, _("No snapshot could be taken before the change (%s): nothing was changed."),
			   err.msg);
		return;
	}
	wz_fleet_sync(w);
	o.loop = w->loop;
	o.fleet = w->fleet;
	o.c = &w->c;
	o.creds = r->backup_creds;
	wz_message(w, false, "%s", _("Taking a snapshot before the change..."));
	w->active = r;
	r->backup = backup_start(&o, snapshot_done, w);
}

static void confirm_answer(struct wizard *w, int button, const char *input, void *ud)
{
	struct wz_run *r = ud;

	(void)input;
	if (button != 0) {
		wz_message(w, false, "%s", _("Nothing was changed."));
		return;
	}
	if (r->snapshot_first && r->snapshot == NULL)
		snapshot_first(w, r);
	else
		apply_now(w, r);
}

/* The action lines of a host's plan (its detail's arrow lines). */
static bool is_action_line(const char *l)
{
	const char *arrow = term_glyph(TERM_G_ARROW);

	return strncmp(l, arrow, strlen(arrow)) == 0;
}

/* Do a and b list the same changes (the same action lines, in order)? */
static bool same_changes(const struct wz_run_host *a, const struct wz_run_host *b)
{
	size_t i = 0, k = 0;

	if (a->n_changes != b->n_changes)
		return false;
	for (;;) {
		while (i < a->detail.n && !is_action_line(a->detail.items[i]))
			i++;
		while (k < b->detail.n && !is_action_line(b->detail.items[k]))
			k++;
		if (i == a->detail.n || k == b->detail.n)
			return i == a->detail.n && k == b->detail.n;
		if (strcmp(a->detail.items[i++], b->detail.items[k++]) != 0)
			return false;
	}
}

/* Hosts whose changes read the same are listed once, as a group ("etcd-1,
 * etcd-2, etcd-3: 6 changes each"); a host that differs gets lines of its
 * own. */
void wz_run_confirm_apply(struct wizard *w, struct wz_run *r)
{
	struct wz_dialog *d = wz_dialog_push(w, DLG_CONFIRM, _("Apply these changes?"), confirm_answer, r);
	bool *listed = xcalloc(r->n_hosts ? r->n_hosts : 1, sizeof *listed);

	for (size_t i = 0; i < r->confirm_head.n; i++)
		wz_dialog_line(d, "%s", r->confirm_head.items[i]);
	wz_dialog_line(d, "%s", r->n_changes ? _("These hosts will change:") : _("No host's files change."));
	for (size_t i = 0; i < r->n_hosts; i++) {
		const struct wz_run_host *h = &r->hosts[i];
		char *names;
		size_t n = 1;

		if (h->n_changes == 0 || listed[i])
			continue;
		names = xstrdup(h->name);
		for (size_t j = i + 1; j < r->n_hosts; j++)
			if (!listed[j] && same_changes(h, &r->hosts[j])) {
				listed[j] = true;
				xasprintf_append(&names, ", %s", r->hosts[j].name);
				n++;
			}
		if (n == 1)
			wz_dialog_line(d, P_("  %s: %zu change", "  %s: %zu changes", h->n_changes), names,
				       h->n_changes);
		else
			wz_dialog_line(d, P_("  %s: %zu change each", "  %s: %zu changes each", h->n_changes),
				       names, h->n_changes);
		free(names);
		for (size_t k = 0; k < h->detail.n; k++)
			if (is_action_line(h->detail.items[k]))
				wz_dialog_line(d, "    %s", h->detail.items[k]);
	}
	free(listed);
	wz_dialog_line(d, "%s", _("Nothing has changed on any host yet."));
}

const char *wz_run_validate(struct wizard *w, struct wz_run *r)
{
	(void)w;
	switch (r->state) {
	case RUN_IDLE:
		return _("the hosts have not been checked yet (r checks them)");
	case RUN_PLANNING:
		return _("the hosts are still being checked");
	case RUN_APPLYING:
		return _("the changes are still being applied");
	case RUN_FAILED:
		return _("some hosts failed; fix the cause and press r to check again");
	case RUN_PLANNED:
		if (r->n_errors > 0)
			return _("the check found errors ([ERROR ...] in the plans)");
		return NULL;
	case RUN_DONE:
		return NULL;
	}
	return NULL;
}

unsigned wz_run_next(struct wizard *w, struct wz_run *r)
{
	if (r->state == RUN_PLANNED && r->n_changes > 0) {
		wz_run_confirm_apply(w, r);
		return WZ_HANDLED;
	}
	if (r->state == RUN_PLANNED && r->n_unhealthy > 0) {
		/* Nothing to change, but not healthy yet: the apply changes
		 * nothing and waits (bounded) for health, as `apply` does. */
		char *bound = duration_format(VERIFY_DEFAULT_TIMEOUT_S);
		size_t n = r->n_unhealthy;

		wz_run_start(w, r, true);
		if (r->state == RUN_APPLYING)	/* else its error stays shown */
			wz_message(w, false,
				   P_("Nothing to change, but %zu member is not healthy: waiting up to %s for it.",
				      "Nothing to change, but %zu members are not healthy: waiting up to %s for them.", n),
				   n, bound);
		free(bound);
		return WZ_HANDLED;
	}
	if (r->state == RUN_PLANNED)
		for (size_t i = 0; i < r->n_hosts; i++)
			wz_recap_add(w, r->hosts[i].name, HOST_OK);
	return WZ_NEXT;
}

/* ---- drawing ---- */

static const char *run_state_label(const struct wz_run *r, const struct wz_run_host *h)
{
	if (h->failed)
		return _(host_result_text(h->failure));
	switch (r->state) {
	case RUN_PLANNING: return _("checking");
	case RUN_APPLYING: return _("applying");
	case RUN_PLANNED: return h->n_errors ? _("errors") : h->n_changes ? _("will change") : _("up to date");
	case RUN_DONE: return _("done");
	case RUN_FAILED: return _("stopped");
	default: return _("not checked");
	}
}

void wz_run_draw(struct wizard *w, struct wz_run *r, int top, int rows)
{
	int cols = term_cols(), y = top, table, detail;
	struct strlist shown = { NULL, 0 };
	const struct wz_run_host *sel;

	(void)w;
	/* Each column at its place, cut by display width (translated headers
	 * may be wide characters), as the rows below. */
	term_put(y, 1, 14, TERM_HEADING, _("Host"));
	term_put(y, 16, 14, TERM_HEADING, _("State"));
	term_put(y, 31, 12, TERM_HEADING, _("Step"));
	term_put(y++, 44, cols - 45, TERM_HEADING, _("Progress"));
	table = (int)r->n_hosts;
	if (table > rows / 2)
		table = rows / 2;
	/* One meaning per column. Step: the step running now; once checked,
	 * the first step that will change (and how many more). Progress: the
	 * steps checked, or applied, of those to run; once checked, what
	 * will change, in words, since nothing ran yet. */
	for (int i = 0; i < table; i++) {
		const struct wz_run_host *h = &r->hosts[i];
		size_t total = r->n_steps ? r->n_steps : 1;
		enum term_role role = h->failed ? TERM_ERROR : (size_t)i == r->sel ? TERM_SELECTED : TERM_NORMAL;
		char step[64], *words = NULL;

		if (r->state == RUN_PLANNED && h->n_change_steps > 1)
			snprintf(step, sizeof step, "%s +%zu", h->change_step, h->n_change_steps - 1);
		else if (r->state == RUN_PLANNED)
			snprintf(step, sizeof step, "%s", h->change_step ? h->change_step : "");
		else if (h->n_actions)
			snprintf(step, sizeof step, "%s %zu/%zu", h->step ? h->step : "", h->action, h->n_actions);
		else
			snprintf(step, sizeof step, "%s", h->step ? h->step : "");
		if (r->state == RUN_PLANNED && h->n_errors)
			words = xasprintf(P_("%zu error: nothing runs", "%zu errors: nothing runs", h->n_errors), h->n_errors);
		else if (r->state == RUN_PLANNED && h->n_change_steps)
			words = xasprintf(P_("%zu step to change, nothing ran yet", "%zu steps to change, nothing ran yet",
					     h->n_change_steps), h->n_change_steps);
		else if (r->state == RUN_PLANNED || (r->state == RUN_DONE && h->steps_done == 0))
			words = xstrdup(_("nothing to change"));
		term_fill(y, 0, cols, (size_t)i == r->sel ? TERM_SELECTED : TERM_NORMAL);
		term_put(y, 1, 14, role, h->name);
		term_put(y, 16, 14, role, run_state_label(r, h));
		term_put(y, 31, 12, role, step);
		if (words != NULL)
			term_put(y, 44, cols - 45, role, words);
		else if (cols - 45 > 10)
			term_bar(y, 44, cols - 45, h->steps_done, total, TERM_NORMAL);
		free(words);
		y++;
	}
	if (r->n_hosts == 0) {
		term_put(y++, 1, cols - 2, TERM_DIM, _("Not checked yet: r checks every host (read-only)."));
	}
	detail = rows - (y - top) - 1;
	if (detail < 1 || r->n_hosts == 0)
		return;
	sel = &r->hosts[r->sel < r->n_hosts ? r->sel : 0];
	term_hline(y, 0, cols, TERM_DIM);
	term_putf(y++, 2, cols - 4, TERM_HEADING, " %s%s%s ", sel->name,
		  sel->msg ? ": " : "", sel->msg ? sel->msg : "");
	for (size_t i = 0; i < sel->detail.n; i++) {
		const char *l = sel->detail.items[i];

		if (l[0] == '\001') {
			if (r->diffs)
				strlist_push(&shown, l + 1);
		} else
			strlist_push(&shown, l);
	}
	if (shown.n == 0 && (r->state == RUN_APPLYING || r->state == RUN_DONE || r->state == RUN_FAILED))
		wz_draw_log_of(w, sel->name, y, detail);
	else {
		if (r->scroll >= shown.n)
			r->scroll = shown.n ? shown.n - 1 : 0;
		if (r->state == RUN_APPLYING) {
			int half = detail / 2;

			wz_draw_lines(&shown, r->scroll, y, detail - half, 1, cols - 2);
			wz_draw_log_of(w, sel->name, y + detail - half, half);
		} else
			wz_draw_lines(&shown, r->scroll, y, detail, 1, cols - 2);
	}
	strlist_free(&shown);
}

unsigned wz_run_key(struct wizard *w, struct wz_run *r, int key)
{
	int page = term_rows() / 2;

	w->active = r;
	switch (key) {
	case TK_UP:
		if (r->sel > 0) {
			r->sel--;
			r->scroll = 0;
		}
		return WZ_HANDLED;
	case TK_DOWN:
		if (r->sel + 1 < r->n_hosts) {
			r->sel++;
			r->scroll = 0;
		}
		return WZ_HANDLED;
	case TK_PGDN:
		r->scroll += (size_t)page;
		return WZ_HANDLED;
	case TK_PGUP:
		r->scroll = r->scroll > (size_t)page ? r->scroll - (size_t)page : 0;
		return WZ_HANDLED;
	default:
		return WZ_IGNORED;
	}
}
