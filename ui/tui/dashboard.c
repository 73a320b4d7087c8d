/* The live health dashboard; see dashboard.h. Layout, top to bottom: title
 * bar, quorum badge with its reason, the member table, the alerts panel,
 * three history graphs of the selected member (latency, WAL fsync p99, DB
 * size), and the key footer. Enter swaps the lower half for the selected
 * member's detail. Everything is redrawn from the health model after every
 * member refresh; nothing is kept on screen that the model does not say. */
#include "config.h"

#include "ui/tui/dashboard.h"

#include <curses.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/i18n.h"
#include "base/loop.h"
#include "base/xmalloc.h"
#include "health/health-poll.h"
#include "health/health.h"
#include "health/status-format.h"
#include "ui/tui/term.h"

struct dashboard {
	struct dashboard_opts o;
	size_t selected;
	bool detail;
	bool help;
	bool quit;
	size_t alert_scroll;
};

/* ---- keys ---------------------------------------------------------------- */

static unsigned act_quit(void *ud, int key)
{
	struct dashboard *d = ud;

	(void)key;
	d->quit = true;
	return 0;
}

static unsigned act_up(void *ud, int key)
{
	struct dashboard *d = ud;

	(void)key;
	if (d->selected > 0)
		d->selected--;
	return 0;
}

static unsigned act_down(void *ud, int key)
{
	struct dashboard *d = ud;

	(void)key;
	if (d->selected + 1 < d->o.cluster->n_members)
		d->selected++;
	return 0;
}

static unsigned act_detail(void *ud, int key)
{
	struct dashboard *d = ud;

	(void)key;
	d->detail = !d->detail;
	return 0;
}

/* Interval steps: 0.5 1 2 5 10 30 60 s. */
static const unsigned interval_steps[] = { 500, 1000, 2000, 5000, 10000, 30000, 60000 };
#define N_STEPS (sizeof interval_steps / sizeof interval_steps[0])

static unsigned act_faster(void *ud, int key)
{
	struct dashboard *d = ud;
	unsigned cur = health_poll_interval(d->o.poll);
	size_t i = N_STEPS;

	(void)key;
	while (i > 0 && interval_steps[i - 1] >= cur)
		i--;
	if (i > 0)
		health_poll_set_interval(d->o.poll, interval_steps[i - 1]);
	return 0;
}

static unsigned act_slower(void *ud, int key)
{
	struct dashboard *d = ud;
	unsigned cur = health_poll_interval(d->o.poll);
	size_t i = 0;

	(void)key;
	while (i < N_STEPS && interval_steps[i] <= cur)
		i++;
	if (i < N_STEPS)
		health_poll_set_interval(d->o.poll, interval_steps[i]);
	return 0;
}

static unsigned act_help(void *ud, int key)
{
	struct dashboard *d = ud;

	(void)key;
	d->help = !d->help;
	return 0;
}

static const struct term_action dashboard_actions[] = {
	{ TK_UP, 'k', N_("Up"), N_("select the member above"), act_up, false },
	{ TK_DOWN, 'j', N_("Down"), N_("select the member below"), act_down, false },
	{ TK_ENTER, 'd', N_("Detail"), N_("show or hide the selected member's detail"),
	  act_detail, true },
	{ '-', 0, N_("Faster"), N_("refresh more often (down to every 0.5 s)"), act_faster, true },
	{ '+', '=', N_("Slower"), N_("refresh less often (up to every 60 s)"), act_slower, true },
	{ TK_F1, '?', N_("Help"), N_("show or hide this help"), act_help, true },
	{ 'q', TK_ESC, N_("Quit"), N_("leave the dashboard (the cluster is not touched)"),
	  act_quit, true },
	{ 0, 0, NULL, NULL, NULL, false },
};

static const struct term_action *const dashboard_tables[] = { dashboard_actions, NULL };

bool dashboard_key(struct dashboard *d, int key)
{
	const struct term_action *a = term_action_find(dashboard_actions, key);

	/* Esc closes the help, as everywhere in the wizard; it quits only
	 * from the dashboard itself. */
	if (d->help && key == TK_ESC) {
		d->help = false;
		return true;
	}
	if (a == NULL)
		return false;
	a->handler(d, key);
	return true;
}

/* ---- drawing ------------------------------------------------------------------ */

static enum term_role badge_role(enum health_badge b)
{
	switch (b) {
	case HEALTH_HEALTHY: return TERM_OK;
	case HEALTH_DEGRADED: return TERM_WARN;
	case HEALTH_NO_QUORUM: return TERM_ERROR;
	default: return TERM_DIM;
	}
}

static enum term_role role_role(enum health_role r)
{
	switch (r) {
	case ROLE_LEADER: return TERM_OK;
	case ROLE_DOWN: return TERM_ERROR;
	case ROLE_UNKNOWN: return TERM_DIM;
	default: return TERM_NORMAL;
	}
}

/* Columns shown at a width, most important first; ENDPOINT only when wide. */
static const enum status_column narrow_cols[] = {
	STATUS_COL_NAME, STATUS_COL_ROLE, STATUS_COL_VERSION, STATUS_COL_DB, STATUS_COL_IN_USE,
	STATUS_COL_TERM, STATUS_COL_INDEX, STATUS_COL_LATENCY, STATUS_COL_ERRORS,
};
static const enum status_column wide_cols[] = {
	STATUS_COL_NAME, STATUS_COL_ENDPOINT, STATUS_COL_ROLE, STATUS_COL_VERSION, STATUS_COL_DB,
	STATUS_COL_IN_USE, STATUS_COL_TERM, STATUS_COL_INDEX, STATUS_COL_APPLIED,
	STATUS_COL_LATENCY, STATUS_COL_ERRORS,
};

static int draw_table(struct dashboard *d, const struct health_eval *e, int y, int x, int h,
		      int w)
{
	const struct health_cluster *c = d->o.cluster;
	bool wide = w >= 130;
	const enum status_column *cols = wide ? wide_cols : narrow_cols;
	size_t ncols = wide ? sizeof wide_cols / sizeof wide_cols[0]
			    : sizeof narrow_cols / sizeof narrow_cols[0];
	int cw[STATUS_COL_COUNT];
	char cell[256];
	int rows = 0;

	/* Each column as wide as its widest cell; ERRORS takes what is left. */
	for (size_t k = 0; k < ncols; k++) {
		cw[k] = term_width(status_column_title(cols[k]));
		for (size_t i = 0; i < c->n_members && cols[k] != STATUS_COL_ERRORS; i++) {
			int cwid;

			status_cell(c, e, i, cols[k], cell, sizeof cell);
			cwid = term_width(cell);
			if (cwid > cw[k])
				cw[k] = cwid;
		}
		if (cols[k] == STATUS_COL_NAME && cw[k] > 16)
			cw[k] = 16;
	}
	{
		int cx = x;

		term_fill(y, x, w, TERM_HEADING);
		for (size_t k = 0; k < ncols && cx < x + w; k++) {
			term_put(y, cx, x + w - cx, TERM_HEADING, status_column_title(cols[k]));
			cx += cw[k] + 1;
		}
	}
	rows++;
	for (size_t i = 0; i < c->n_members && rows < h; i++, rows++) {
		int cx = x;
		bool sel = i == d->selected;

		if (sel)
			term_fill(y + rows, x, w, TERM_SELECTED);
		for (size_t k = 0; k < ncols && cx < x + w; k++) {
			enum term_role r = sel ? TERM_SELECTED : TERM_NORMAL;
			int maxw = cols[k] == STATUS_COL_ERRORS ? x + w - cx : cw[k];

			if (!sel && cols[k] == STATUS_COL_ROLE)
				r = role_role(e->roles[i]);
			status_cell(c, e, i, cols[k], cell, sizeof cell);
			/* Red only for an error: a healthy row's "-" is plain. */
			if (!sel && cols[k] == STATUS_COL_ERRORS)
				r = cell[0] == '\0' || strcmp(cell, "-") == 0 ? TERM_DIM
				    : health_member_observed(&c->members[i]) ? TERM_ERROR : TERM_WARN;
			if (maxw > x + w - cx)
				maxw = x + w - cx;
			term_put(y + rows, cx, maxw, r, cell);
			cx += cw[k] + 1;
		}
	}
	return rows;
}

static int draw_alerts(const struct health_eval *e, int y, int x, int h, int w)
{
	int rows = 0;

	if (h <= 0)
		return 0;
	if (e->n_alerts == 0 && rows < h) {
		term_put(y + rows, x + 1, w - 1, TERM_DIM, _("none"));
		rows++;
	}
	for (size_t i = 0; i < e->n_alerts && rows < h; i++, rows++) {
		const struct health_alert *a = &e->alerts[i];
		enum term_role r = a->severity == SEVERITY_CRITICAL ? TERM_ERROR : TERM_WARN;
		int used = term_putf(y + rows, x + 1, w - 1, r, "%s %s",
				     term_glyph(a->severity == SEVERITY_CRITICAL ? TERM_G_FAIL
										: TERM_G_WARN),
				     a->name);

		term_putf(y + rows, x + 2 + used, w - 2 - used, TERM_NORMAL, "%s", a->summary);
	}
	return rows;
}

static double series_value(const struct health_point *p, int which)
{
	return which == 0 ? p->latency_ms : which == 1 ? p->fsync_p99 * 1000 : p->db_size;
}

/* One history series as a graph rows high, newest at the right: the label
 * and the last value on its top row, the bars in eighths of a cell (a
 * one-row graph is a sparkline). */
static void draw_graph(const struct health_member *m, int which, int y, int x, int w, int rows,
		       const char *label, bool bytes)
{
	static const char *const uni[] = { " ", "\u2581", "\u2582", "\u2583", "\u2584",
					   "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = " _.-:=+*#";
	int lw = 16, gw = w - lw - 11, pad, steps = rows * 8;
	double lo = INFINITY, hi = -INFINITY, last = NAN;
	size_t n = m->hist_n, first = 0;
	char val[32];

	if (rows < 1)
		return;
	term_put(y, x + 1, lw - 1 < w - 1 ? lw - 1 : w - 1, TERM_DIM, label);
	if (gw < 4)
		return;
	if (n > (size_t)gw)
		first = n - (size_t)gw;
	for (size_t i = first; i < n; i++) {
		double v = series_value(health_member_point(m, i), which);

		if (isnan(v))
			continue;
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		last = v;
	}
	/* The graph spans its whole width from the first refresh on: the
	 * history not seen yet is a dim baseline at the left. */
	pad = gw - (int)(n - first);
	for (int i = 0; i < pad; i++)
		term_put(y + rows - 1, x + lw + i, 1, TERM_DIM, term_unicode() ? "\u00b7" : ".");
	for (size_t i = first; i < n; i++) {
		double v = series_value(health_member_point(m, i), which);
		int col = x + lw + pad + (int)(i - first), level;

		if (isnan(v)) {
			term_put(y + rows - 1, col, 1, TERM_DIM, " ");
			continue;
		}
		/* The lowest value seen still shows (one eighth). */
		level = hi > lo ? 1 + (int)((v - lo) / (hi - lo) * (steps - 1) + 0.5) : 1;
		level = level < 1 ? 1 : level > steps ? steps : level;
		for (int r = 0; r < rows; r++) {
			int cell = level - (rows - 1 - r) * 8;

			cell = cell < 0 ? 0 : cell > 8 ? 8 : cell;
			if (term_unicode())
				term_put(y + r, col, 1, TERM_OK, uni[cell]);
			else {
				char c[2] = { ascii[cell], 0 };

				term_put(y + r, col, 1, TERM_OK, c);
			}
		}
	}
	if (bytes)
		fmt_bytes(last, val, sizeof val);
	else
		fmt_ms(last, val, sizeof val);
	term_put(y, x + w - 10, 10, TERM_NORMAL, val);
}

/* "etcd/server.crt" for "/etc/kubernetes/pki/etcd/server.crt". */
static const char *cert_short_name(const char *path)
{
	static const char pki[] = "/etc/kubernetes/pki/";

	return strncmp(path, pki, sizeof pki - 1) == 0 ? path + sizeof pki - 1 : path;
}

/* What SSH saw on each member's host, one line each. */
static int draw_hosts(const struct health_cluster *c, int y, int x, int h, int w)
{
	int rows = 0;
	time_t now = time(NULL);
	bool any = false;

	for (size_t i = 0; i < c->n_members; i++)
		any = any || c->members[i].have_host;
	if (h < 1 || !any)
		return 0;
	for (size_t i = 0; i < c->n_members && rows < h; i++) {
		const struct health_member *m = &c->members[i];
		char avail[32], left[32], pod[96];
		bool bad;

		if (!m->have_host)
			continue;
		fmt_bytes(m->host.disk_avail, avail, sizeof avail);
		if (m->host.cert_expiry != 0)
			fmt_left((double)(m->host.cert_expiry - (int64_t)now), left, sizeof left);
		else
			snprintf(left, sizeof left, "-");
		bad = strcmp(m->host.kubelet, "active") != 0 || m->host.pod != POD_RUNNING ||
		      m->host.pod_ready == 0 || m->host.pod_reason[0] != '\0';
		term_putf(y + rows++, x + 1, w - 1, bad ? TERM_WARN : TERM_NORMAL,
			  _("%-12s kubelet %-9s etcd %-12s %s free  certificates expire in %s"),
			  status_member_name(c, m), m->host.kubelet[0] ? m->host.kubelet : "?",
			  health_pod_text(&m->host, pod, sizeof pod), avail, left);
		if (m->host.backup_timer && rows < h) {
			char snap[96];

			term_putf(y + rows++, x + 14, w - 14, m->host.backup_newest ? TERM_DIM : TERM_WARN, "%s",
				  status_backup_text(&m->host, (int64_t)now, snap, sizeof snap));
		}
	}
	return rows;
}

/* The rows draw_hosts would use: a line per member seen over SSH, one
 * more for its snapshots. */
static int hosts_rows(const struct health_cluster *c)
{
	int rows = 0;

	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].have_host)
			rows += 1 + (c->members[i].host.backup_timer ? 1 : 0);
	return rows;
}

/* A framed panel, its title in the top border; content goes inside
 * (y + 1, x + 1, h - 2, w - 2). */
static void panel(int y, int x, int h, int w, const char *title)
{
	term_box(y, x, h, w, TERM_DIM, NULL);
	if (title && w > 6) {
		int used = term_put(y, x + 2, w - 4, TERM_HEADING, " ");

		used += term_put(y, x + 2 + used, w - 5 - used, TERM_HEADING, title);
		term_put(y, x + 2 + used, 1, TERM_HEADING, " ");
	}
}

static void draw_detail(struct dashboard *d, const struct health_eval *e, int y, int x, int h,
			int w)
{
	const struct health_cluster *c = d->o.cluster;
	const struct health_member *m = &c->members[d->selected];
	const struct etcd_metrics *mx = &m->metrics;
	char a[32], b[32], pod[96];
	int r = 0;

#define LINE(...)                                                                    \
	do {                                                                         \
		if (r < h)                                                           \
			term_putf(y + r, x + 1, w - 1, TERM_NORMAL, __VA_ARGS__);    \
		r++;                                                                 \
	} while (0)
	LINE(_("role %s, version %s"), health_role_label(e->roles[d->selected]),
	     m->have_version && m->version.server ? m->version.server : "-");
	if (m->have_status) {
		fmt_bytes((double)m->status.db_size, a, sizeof a);
		fmt_bytes((double)m->status.db_size_in_use, b, sizeof b);
		LINE(_("member ID %016llx, raft term %llu, index %llu, applied %llu"),
		     (unsigned long long)m->status.header.member_id,
		     (unsigned long long)m->status.raft_term,
		     (unsigned long long)m->status.raft_index,
		     (unsigned long long)m->status.raft_applied_index);
		LINE(_("database %s, in use %s"), a, b);
	}
	if (m->have_metrics) {
		fmt_ms(m->fsync_p99 * 1000, a, sizeof a);
		fmt_ms(m->commit_p99 * 1000, b, sizeof b);
		LINE(_("WAL fsync p99 %s, backend commit p99 %s"), a, b);
		fmt_ms(m->peer_rtt_p99 * 1000, a, sizeof a);
		LINE(_("peer round trip p99 %s, leader changes %.0f, proposals failed %.0f, pending %.0f"),
		     a, mx->value[METRICS_LEADER_CHANGES], mx->value[METRICS_PROPOSALS_FAILED],
		     mx->value[METRICS_PROPOSALS_PENDING]);
		fmt_bytes(mx->value[METRICS_QUOTA], a, sizeof a);
		LINE(_("quota %s, open files %.0f of %.0f"), a, mx->value[METRICS_FD_USED],
		     mx->value[METRICS_FD_LIMIT]);
	}
	if (m->have_host) {
		char left[32];

		fmt_bytes(m->host.disk_avail, a, sizeof a);
		fmt_bytes(m->host.disk_total, b, sizeof b);
		if (m->host.cert_expiry != 0)
			fmt_left((double)(m->host.cert_expiry - (int64_t)time(NULL)), left,
				 sizeof left);
		else
			snprintf(left, sizeof left, "-");
		LINE(_("host: kubelet %s, etcd %s, %s free of %s"),
		     m->host.kubelet[0] ? m->host.kubelet : "?", health_pod_text(&m->host, pod, sizeof pod), a, b);
		LINE(_("first certificate to expire: %s in %s"),
		     m->host.cert_file[0] ? cert_short_name(m->host.cert_file) : "-", left);
		if (m->host.backup_timer) {
			char snap[96];

			LINE("%s", status_backup_text(&m->host, (int64_t)time(NULL), snap, sizeof snap));
		}
	}
	if (m->error)
		LINE(_("last error: %s"), m->error);
#undef LINE
}

/* The panels under the badge, framed, top to bottom: the members, then
 * (or the selected member's detail) the alerts, the hosts as SSH sees
 * them and the selected member's history; each gets the rows it needs
 * while there are rows, the alerts first, so a short terminal loses the
 * hosts panel before anything else. */
static void draw_panels(struct dashboard *d, const struct health_eval *e, int y, int x, int h, int w)
{
	const struct health_cluster *c = d->o.cluster;
	const struct health_member *m = c->n_members > 0 ? &c->members[d->selected] : NULL;
	int members_h = 3 + (int)c->n_members, rest, alerts_h, hosts_h, hist_h;
	char *title;

	if (h < 3 || w < 8)
		return;
	if (members_h > h)
		members_h = h;
	panel(y, x, members_h, w, _("Members"));
	draw_table(d, e, y + 1, x + 2, members_h - 2, w - 3);
	y += members_h;
	rest = h - members_h;
	if (d->detail && m != NULL) {
		if (rest < 3)
			return;
		title = xasprintf(_("Member %s (%s)"), status_member_name(c, m), m->endpoint);
		panel(y, x, rest, w, title);
		free(title);
		draw_detail(d, e, y + 1, x + 1, rest - 2, w - 2);
		return;
	}
	hist_h = m != NULL && rest >= 3 + 5 ? 5 : 0;
	alerts_h = 2 + (e->n_alerts > 0 ? (int)e->n_alerts : 1);
	if (alerts_h > rest - hist_h)
		alerts_h = rest - hist_h;
	if (alerts_h >= 3) {
		title = xasprintf(_("Alerts (%zu)"), e->n_alerts);
		panel(y, x, alerts_h, w, title);
		free(title);
		draw_alerts(e, y + 1, x + 1, alerts_h - 2, w - 2);
		y += alerts_h;
		rest -= alerts_h;
	}
	hosts_h = 2 + hosts_rows(c);
	if (hosts_h > rest - hist_h)
		hosts_h = rest - hist_h;
	if (hosts_rows(c) > 0 && hosts_h >= 3) {
		panel(y, x, hosts_h, w, _("Hosts (through SSH)"));
		draw_hosts(c, y + 1, x + 1, hosts_h - 2, w - 2);
		y += hosts_h;
		rest -= hosts_h;
	}
	if (hist_h > 0) {
		/* The history takes the rest of the screen: taller graphs. */
		int band = (rest - 2) / 3;

		if (band > 6)
			band = 6;
		title = xasprintf(_("History of %s"), status_member_name(c, m));
		panel(y, x, 2 + 3 * band, w, title);
		free(title);
		draw_graph(m, 0, y + 1, x + 1, w - 2, band, _("latency"), false);
		draw_graph(m, 1, y + 1 + band, x + 1, w - 2, band, _("WAL fsync p99"), false);
		draw_graph(m, 2, y + 1 + 2 * band, x + 1, w - 2, band, _("DB size"), true);
	}
}

void dashboard_draw(struct dashboard *d, int y, int x, int h, int w)
{
	const struct health_cluster *c = d->o.cluster;
	struct health_eval e;
	int row = y;

	if (d->selected >= c->n_members && c->n_members > 0)
		d->selected = c->n_members - 1;
	health_evaluate(c, loop_now(), &e);
	if (d->help) {
		char **lines = NULL;
		size_t n = term_help_lines(dashboard_tables, &lines);

		int box_h = (int)n + 2 < h ? (int)n + 2 : h;

		panel(row++, x, box_h, w, _("Keys of the dashboard (read-only)"));
		for (size_t i = 0; i < n; i++) {
			if (row < y + box_h - 1)
				term_put(row++, x + 2, w - 3, TERM_NORMAL, lines[i]);
			free(lines[i]);
		}
		free(lines);
		health_eval_free(&e);
		return;
	}
	{
		int used = term_putf(row, x, w, badge_role(e.badge), " %s ",
				     health_badge_label(e.badge));

		term_putf(row, x + used + 1, w - used - 1, TERM_NORMAL, "%s", e.reason ? e.reason : "");
		row++;
	}
	draw_panels(d, &e, row, x, y + h - row, w);
	health_eval_free(&e);
}

struct dashboard *dashboard_new(const struct dashboard_opts *o)
{
	struct dashboard *d = xcalloc(1, sizeof *d);

	d->o = *o;
	return d;
}

void dashboard_free(struct dashboard *d)
{
	free(d);
}

/* ---- full screen ---------------------------------------------------------------------- */

struct run_state {
	struct dashboard *d;
	struct loop_timer *redraw;	/* coalesces member refreshes */
	bool done;
};

/* Members refresh one by one; the screen follows at most this often. */
#define DASHBOARD_REDRAW_MS 250

static void run_draw(void *ud)
{
	struct run_state *s = ud;
	struct dashboard *d = s->d;
	int cols = term_cols(), rows = term_rows();
	char clock[16];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(clock, sizeof clock, "%H:%M:%S", &tm);
	term_fill(0, 0, cols, TERM_TITLE);
	term_putf(0, 1, cols - 2, TERM_TITLE, _("etcdwiz status  %s  every %.1f s  %s  (read-only)"),
		  d->o.title ? d->o.title : "", health_poll_interval(d->o.poll) / 1000.0, clock);
	dashboard_draw(d, 1, 0, rows - 2, cols);
	term_draw_footer(rows - 1, dashboard_tables);
}

static void run_key(int key, void *ud)
{
	struct run_state *s = ud;

	if (dashboard_key(s->d, key))
		term_request_draw();
	if (s->d->quit)
		s->done = true;
}

static void run_signal(int signo, void *ud)
{
	struct run_state *s = ud;

	(void)signo;
	s->done = true;
}

static bool run_busy(void *ud)
{
	struct run_state *s = ud;

	return health_poll_busy(s->d->o.poll) > 0;
}

static void run_script_end(void *ud)
{
	struct run_state *s = ud;

	s->done = true;
}

static bool run_done(void *ud)
{
	const struct run_state *s = ud;

	return s->done;
}

static void run_redraw(struct loop_timer *t, void *ud)
{
	(void)t;
	(void)ud;
	term_request_draw();
}

static void run_updated(struct health_poll *p, size_t member, void *ud)
{
	struct run_state *s = ud;

	(void)p;
	(void)member;
	if (!loop_timer_armed(s->redraw))
		loop_timer_arm_in(s->redraw, DASHBOARD_REDRAW_MS);
}

enum wiz_err dashboard_run(const struct dashboard_opts *o, struct wiz_error *err)
{
	struct run_state s = { 0 };
	struct term_callbacks cb = {
		.key = run_key,
		.draw = run_draw,
		.signal = run_signal,
		.busy = run_busy,
		.script_end = run_script_end,
		.ud = &s,
	};
	enum wiz_err rc;

	s.d = dashboard_new(o);
	rc = term_open(o->loop, &cb, err);
	if (rc != WIZ_ERR_OK)
		goto out;
	s.redraw = loop_timer_add(o->loop, run_redraw, &s);
	health_poll_set_updated(o->poll, run_updated, &s);
	term_request_draw();
	loop_run_until(o->loop, run_done, &s, 0);
	health_poll_set_updated(o->poll, NULL, NULL);
	loop_timer_del(s.redraw);
	term_close();
	if (term_scripted() && term_script_error() != NULL)
		rc = wiz_error_set(err, WIZ_ERR_INVALID, "%s", term_script_error());
out:
	dashboard_free(s.d);
	return rc;
}
