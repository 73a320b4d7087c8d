/* Certificates: the algorithm, validity, every member's SANs and where the
 * CA key will live; generate (the local PKI store of src/pki/pki-store.c, as
 * `etcdwiz certs generate` does); the expiry table; then the certificates
 * step uploads them to the hosts after the confirmation.
 *
 * On a running cluster: h reads what the hosts have and serve (the table
 * of `certs check-expiration --hosts`); n renews and rolls the
 * certificates out (`certs rotate`); c runs the next phase of a new CA
 * (`certs rotate-ca`); each with the plan and confirmation of every other
 * change, and the same records, so the CLI and the wizard resume each
 * other's work. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "etcd/etcd-ask.h"
#include "etcd/http-tls.h"
#include "install/cert-survey.h"
#include "install/fleet.h"
#include "pki/pki-rotate.h"
#include "pki/pki.h"
#include "ui/tui/run.h"

static struct wz_run run;
static struct {
	bool generated;
	unsigned gen;
	struct pki_status_list status;
	bool have_status;
	/* The hosts' certificates (h), read over the wizard's sessions. */
	struct cert_survey hosts;
	bool have_hosts, reading;
	struct cert_survey_opts so;
	struct http_tls_creds *creds;
	/* A rotation planned or applying: which, and its phase (rotate-ca). */
	enum { ROT_NONE, ROT_LEAVES, ROT_CA } rot;
	int phase;
	bool applying, checking_peers;
} S;

static unsigned act_generate(void *ud, int key);
static unsigned act_diffs(void *ud, int key);
static unsigned act_hosts(void *ud, int key);
static unsigned act_rotate(void *ud, int key);
static unsigned act_rotate_ca(void *ud, int key);
static void refresh_status(struct wizard *w);

static const struct term_action actions[] = {
	{ 'g', 0, N_("Generate"), N_("make the missing certificates in the local store (nothing on the hosts)"),
	  act_generate, true },
	{ 'h', 0, N_("Hosts"), N_("read the certificates the hosts have and the ones each member serves"),
	  act_hosts, true },
	{ 'n', 0, N_("Renew"), N_("renew every certificate and install it, one member at a time (plan first)"),
	  act_rotate, true },
	{ 'c', 0, N_("New CA"), N_("the next phase of a new etcd CA without downtime (plan first)"),
	  act_rotate_ca, true },
	{ 'd', 0, N_("Diffs"), N_("show or hide details of the selected host"), act_diffs, true },
	{ 0, 0, NULL, NULL, NULL, false },
};

/* Creds for asking the members from here (the store's bundle and
 * healthcheck-client pair); NULL with a message when there are none. */
static bool load_creds(struct wizard *w)
{
	struct wiz_error err = { 0 };

	http_tls_creds_free(S.creds);
	S.creds = NULL;
	if (etcd_creds_from_store(&w->store, &S.creds, &err) != WIZ_ERR_OK) {
		wz_message(w, true, "%s", err.msg);
		return false;
	}
	return true;
}

static void survey_opts(struct wizard *w)
{
	S.so = (struct cert_survey_opts){ .loop = w->loop, .t = fleet_transport(w->fleet), .c = &w->c,
					  .store = &w->store, .creds = S.creds, .timeout_ms = 30000 };
}

static void hosts_read(struct cert_survey *s, void *ud)
{
	struct wizard *w = ud;
	size_t differ = 0, bad = 0;
	time_t now = time(NULL);

	if (S.have_hosts)
		cert_survey_free(&S.hosts);
	S.hosts = *s;
	free(s);
	S.have_hosts = true;
	S.reading = false;
	for (size_t i = 0; i < S.hosts.n; i++) {
		const struct cert_row *r = &S.hosts.rows[i];

		differ += r->match == CERT_MATCH_NO;
		bad += r->missing || r->problem || (r->serial[0] && r->not_after - now < PKI_WARN_SECONDS);
	}
	if (differ || bad)
		wz_message(w, true, _("On the hosts: %zu certificates differ from the local store, %zu missing, unreadable or expiring within 30 days; n renews and installs them."),
			   differ, bad);
	else
		wz_message(w, false, _("On the hosts: every certificate matches the local store and none expires within 30 days."));
}

static unsigned act_hosts(void *ud, int key)
{
	struct wizard *w = ud;

	(void)key;
	if (S.reading || wz_run_busy(&run) || !load_creds(w))
		return WZ_HANDLED;
	S.reading = true;
	survey_opts(w);
	wz_message(w, false, _("Reading the certificates on the hosts..."));
	cert_survey_start(&S.so, hosts_read, w);
	return WZ_HANDLED;
}

static void errors_dialog(struct wizard *w, const char *title, const struct pki_report *rep)
{
	struct wz_dialog *d = wz_dialog_push(w, DLG_MESSAGE, title, NULL, NULL);

	for (size_t i = 0; i < rep->errors.n; i++)
		wz_dialog_line(d, "%s", rep->errors.items[i]);
}

static unsigned act_rotate(void *ud, int key)
{
	struct wizard *w = ud;
	struct pki_report rep = { 0 };
	char *was = NULL;

	(void)key;
	if (wz_run_busy(&run) || S.checking_peers)
		return WZ_HANDLED;
	if (pki_rotate_leaves_prepare(&w->store, "all", time(NULL), &was, &rep) != WIZ_ERR_OK) {
		errors_dialog(w, _("The certificates could not be renewed"), &rep);
		pki_report_free(&rep);
		return WZ_HANDLED;
	}
	for (size_t i = 0; i < rep.notes.n; i++)
		wz_log(w, "%s", rep.notes.items[i]);
	pki_report_free(&rep);
	S.rot = ROT_LEAVES;
	wz_message(w, false, was ? _("Installing the certificates renewed earlier (not renewed again): review the plan, then F3.")
				 : _("Every certificate renewed in the local store: review the plan, then F3 installs them one member at a time."));
	free(was);
	refresh_status(w);
	wz_run_set_steps(&run, "certificates,verify,kubernetes");
	wz_run_start(w, &run, false);
	return WZ_HANDLED;
}

static unsigned act_rotate_ca(void *ud, int key)
{
	struct wizard *w = ud;
	struct pki_rotation rot;
	struct pki_report rep = { 0 };
	struct wiz_error err = { 0 };
	int n;

	(void)key;
	if (wz_run_busy(&run) || S.checking_peers)
		return WZ_HANDLED;
	if (pki_rotation_read(&w->store, &rot, &err) != WIZ_ERR_OK) {
		wz_message(w, true, "%s", err.msg);
		return WZ_HANDLED;
	}
	n = pki_rotation_next_phase(&rot);
	if (n == 0)
		n = 1;
	if (pki_rotation_begin(&w->store, n, time(NULL), &rep) != WIZ_ERR_OK) {
		errors_dialog(w, _("The new CA cannot go on"), &rep);
		pki_report_free(&rep);
		return WZ_HANDLED;
	}
	for (size_t i = 0; i < rep.notes.n; i++)
		wz_log(w, "%s", rep.notes.items[i]);
	pki_report_free(&rep);
	S.rot = ROT_CA;
	S.phase = n;
	wz_message(w, false, n == 1 ? _("New CA, phase 1 of 3: the old and the new CA trusted everywhere (restarts one at a time). Review the plan, then F3.")
			     : n == 2 ? _("New CA, phase 2 of 3: every certificate re-issued from the new CA (no restart). Review the plan, then F3.")
				      : _("New CA, phase 3 of 3: the old CA no longer trusted (restarts one at a time). Review the plan, then F3."));
	refresh_status(w);
	wz_run_set_steps(&run, "certificates,manifest,verify,kubernetes");
	wz_run_start(w, &run, false);
	return WZ_HANDLED;
}

static void peers_checked(const char *why, void *ud)
{
	struct wizard *w = ud;
	struct pki_report rep = { 0 };
	char *archived = NULL;

	S.checking_peers = false;
	if (why != NULL) {
		wz_message(w, true, _("Phase %d is on every host, but the members do not all see each other: %s. It is not recorded as done; c checks again."),
			   S.phase, why);
		return;
	}
	if (pki_rotation_end(&w->store, S.phase, time(NULL), &archived, &rep) != WIZ_ERR_OK) {
		wz_message(w, true, "%s", rep.errors.n ? rep.errors.items[0] : "?");
	} else if (archived != NULL) {
		wz_message(w, false, _("The new CA is in place everywhere; the old CA and its key are kept in %s."), archived);
		wz_log(w, _("CA rotation done; the old CA is archived in %s"), archived);
		wz_run_set_steps(&run, "certificates");
		S.rot = ROT_NONE;
	} else {
		wz_message(w, false, _("Phase %d of 3 is done: every member lists every other as started. c goes on with phase %d."),
			   S.phase, S.phase + 1);
		wz_log(w, _("CA rotation: phase %d done"), S.phase);
	}
	free(archived);
	pki_report_free(&rep);
	refresh_status(w);
}

static bool before_apply(struct wizard *w, struct wz_run *r)
{
	(void)w;
	(void)r;
	S.applying = S.rot != ROT_NONE;
	return true;
}

static void finished(struct wizard *w, struct wz_run *r)
{
	if (!S.applying)
		return;	/* a plan: shown, F3 confirms */
	S.applying = false;
	if (!r->applied) {
		wz_message(w, true, S.rot == ROT_CA
			   ? _("Phase %d stopped (see the hosts and the log): the members done keep it. Fix the cause, then c goes on where it stopped.")
			   : _("The rotation stopped (see the hosts and the log); the hosts not reached keep their valid old certificates. n installs the rest without renewing again."),
			   S.phase);
		return;
	}
	if (S.rot == ROT_LEAVES) {
		pki_rotate_leaves_done(&w->store);
		wz_message(w, false, _("Rotated: every host has the new certificates, and each member serves them (checked from here)."));
		wz_log(w, "%s", _("certificates rotated on every host"));
		wz_run_set_steps(&run, "certificates");
		S.rot = ROT_NONE;
		return;
	}
	if (!load_creds(w))
		return;
	S.checking_peers = true;
	survey_opts(w);
	cert_peers_check(&S.so, peers_checked, w);
}


static void refresh_status(struct wizard *w)
{
	if (S.have_status)
		pki_status_list_free(&S.status);
	pki_store_status(&w->store, &S.status);
	S.have_status = true;
}

static unsigned act_generate(void *ud, int key)
{
	struct wizard *w = ud;
	struct pki_report rep;

	(void)key;
	if (wz_run_busy(&run))
		return WZ_HANDLED;
	memset(&rep, 0, sizeof rep);
	if (pki_store_generate(&w->store, time(NULL), &rep) != WIZ_ERR_OK) {
		errors_dialog(w, _("The certificates could not be made"), &rep);
	} else {
		for (size_t i = 0; i < rep.notes.n; i++)
			wz_log(w, "%s", rep.notes.items[i]);
		S.generated = true;
		wz_message(w, false, _("Certificates ready in %s. Checking the hosts..."), w->store.dir);
		wz_run_start(w, &run, false);
	}
	pki_report_free(&rep);
	refresh_status(w);
	return WZ_HANDLED;
}

static unsigned act_diffs(void *ud, int key)
{
	(void)ud;
	(void)key;
	run.diffs = !run.diffs;
	return WZ_HANDLED;
}

static void enter(struct wizard *w)
{
	if (run.steps_csv == NULL) {
		wz_run_init(&run, "certificates");
		run.before_apply = before_apply;
		run.finished = finished;
	}
	if (S.gen != w->gen) {
		wz_run_reset(&run);
		S.gen = run.gen = w->gen;
		S.generated = false;
	}
	w->active = &run;
	refresh_status(w);
	/* A complete store (from an earlier run) counts as generated. */
	if (!S.generated && S.have_status && S.status.n > 0) {
		bool complete = true;

		for (size_t i = 0; i < S.status.n; i++)
			complete &= !S.status.items[i].missing && S.status.items[i].problem == NULL;
		S.generated = complete;
	}
	if (S.generated && run.state == RUN_IDLE)
		wz_run_start(w, &run, false);
}

/* The hosts' table: HOST CERTIFICATE EXPIRES RESIDUAL MATCHES, by display width. */
static int draw_hosts(int y, int bottom, int cols, time_t now)
{
	static const char *const head[] = { N_("HOST"), N_("CERTIFICATE"), N_("EXPIRES"), N_("RESIDUAL TIME"),
					    N_("MATCHES STORE") };
	int width[5] = { 0 }, x;

	for (size_t j = 0; j < 5; j++)
		width[j] = term_width(_(head[j]));
	for (size_t i = 0; i < S.hosts.n; i++) {
		int w0 = term_width(S.hosts.rows[i].host), w1 = term_width(S.hosts.rows[i].name);

		width[0] = w0 > width[0] ? w0 : width[0];
		width[1] = w1 > width[1] ? w1 : width[1];
	}
	width[2] = width[2] < 22 ? 22 : width[2];
	x = 1;
	for (size_t j = 0; j < 5; j++) {
		term_put(y, x, cols - 1 - x, TERM_HEADING, _(head[j]));
		x += width[j] + 2;
	}
	y++;
	for (size_t i = 0; i < S.hosts.n && y < bottom; i++, y++) {
		const struct cert_row *r = &S.hosts.rows[i];
		int64_t left = (int64_t)(r->not_after - now);
		bool bad = r->missing || (r->problem && !r->serial[0]) || left <= 0;
		char *when = r->serial[0] ? pki_time_format(r->not_after) : xstrdup(r->missing ? _("missing") : _("unreadable"));
		char *res = r->serial[0] ? (left <= 0 ? xstrdup(_("EXPIRED")) : pki_residual_format(left)) : xstrdup("-");
		const char *cells[5] = { r->host, r->name, when, res,
					 r->match == CERT_MATCH_YES ? _("yes") : r->match == CERT_MATCH_NO ? _("NO") : "-" };
		enum term_role a = bad ? TERM_ERROR : r->match == CERT_MATCH_NO || left < PKI_WARN_SECONDS ? TERM_WARN
										  : TERM_NORMAL;

		x = 1;
		for (size_t j = 0; j < 5 && x < cols - 1; j++) {
			term_put(y, x, cols - 1 - x, a, cells[j]);
			x += width[j] + 2;
		}
		free(when);
		free(res);
	}
	return y + 1;
}

static void draw(struct wizard *w, int top, int rows)
{
	int cols = term_cols(), y = top, bottom = top + rows;
	char *ca = duration_format(w->c.pki.ca_validity), *leaf = duration_format(w->c.pki.cert_validity);
	time_t now = time(NULL);

	term_putf(y++, 1, cols - 2, TERM_NORMAL, _("Algorithm %s; CA valid %s, certificates %s"),
		  pki_algorithm_name(w->c.pki.algorithm), ca, leaf);
	free(ca);
	free(leaf);
	term_putf(y++, 1, cols - 2, TERM_DIM, _("Local store: %s"), w->store.dir);
	{
		char *on = NULL;

		for (size_t i = 0; i < w->c.pki.ca_key_on.n; i++) {
			char *t = xasprintf("%s%s%s", on ? on : "", on ? ", " : "", w->c.pki.ca_key_on.items[i]);

			free(on);
			on = t;
		}
		term_putf(y++, 1, cols - 2, TERM_DIM, _("CA key: in the local store%s%s"),
			  on ? _(" and on ") : _(" only"), on ? on : "");
		free(on);
	}
	{
		struct pki_rotation rot;

		if (pki_rotation_read(&w->store, &rot, NULL) == WIZ_ERR_OK && rot.phase > 0)
			term_putf(y++, 1, cols - 2, TERM_WARN, rot.done
				  ? _("New CA under way since %s: phase %d of 3 done; c goes on with phase %d.")
				  : _("New CA under way since %s: phase %d of 3 not finished; c goes on with it."),
				  rot.started, rot.phase, rot.phase + 1);
	}
	if (S.have_hosts && !(S.rot != ROT_NONE && run.state != RUN_IDLE)) {
		y = draw_hosts(y, bottom - 4, cols, now);
		wz_run_draw(w, &run, y, bottom - y);
		return;
	}
	for (size_t i = 0; i < w->c.n_members && y < bottom - 6; i++) {
		struct pki_sans sans;
		char *f;

		memset(&sans, 0, sizeof sans);
		pki_member_sans(&w->c.members[i], &sans);
		f = pki_sans_format(&sans);
		term_putf(y++, 1, cols - 2, TERM_NORMAL, _("%-10s SANs: %s"), w->c.members[i].name, f);
		free(f);
		pki_sans_free(&sans);
	}
	if (!S.generated) {
		y++;
		term_put(y++, 1, cols - 2, TERM_WARN, _("Not generated yet: g makes them (locally; no host changes)."));
		return;
	}
	{
		size_t shown = 0, expired = 0;
		time_t first = 0;

		for (size_t i = 0; S.have_status && i < S.status.n; i++) {
			const struct pki_status *s = &S.status.items[i];

			if (s->missing || s->problem)
				continue;
			shown++;
			if (s->not_after < now)
				expired++;
			if (first == 0 || s->not_after < first)
				first = s->not_after;
		}
		if (shown) {
			char when[32];
			struct tm tm;

			gmtime_r(&first, &tm);
			strftime(when, sizeof when, "%Y-%m-%d", &tm);
			term_putf(y++, 1, cols - 2, expired ? TERM_ERROR : TERM_OK,
				  _("%zu certificates in the store, %zu expired; the first expires %s (UTC)"), shown,
				  expired, when);
		}
	}
	wz_run_draw(w, &run, y, bottom - y);
}

static unsigned key(struct wizard *w, int k)
{
	return wz_run_key(w, &run, k);
}

static const char *validate(struct wizard *w)
{
	if (!S.generated)
		return _("the certificates are not generated yet (g)");
	return wz_run_validate(w, &run);
}

static unsigned next(struct wizard *w)
{
	return wz_run_next(w, &run);
}

static bool busy(struct wizard *w)
{
	(void)w;
	return wz_run_busy(&run);
}

static void destroy(struct wizard *w)
{
	(void)w;
	wz_run_free(&run);
	if (S.have_hosts)
		cert_survey_free(&S.hosts);
	S.have_hosts = false;
	http_tls_creds_free(S.creds);
	S.creds = NULL;
	if (S.have_status)
		pki_status_list_free(&S.status);
	S.have_status = false;
}

const struct screen_ops screen_certs = {
	.name = "certificates",
	.title = N_("Certificates"),
	.actions = actions,
	.enter = enter,
	.draw = draw,
	.key = key,
	.validate = validate,
	.next = next,
	.busy = busy,
	.destroy = destroy,
};
