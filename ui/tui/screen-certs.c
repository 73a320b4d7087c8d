/* Certificates: the algorithm, validity, every member's SANs and where the
 * CA key will live; generate (the local PKI store of src/pki/pki-store.c, as
 * `etcdwiz certs generate` does); the expiry table; then the certificates
 * step uploads them to the hosts after the confirmation. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "pki/pki.h"
#include "ui/tui/run.h"

static struct wz_run run;
static struct {
	bool generated;
	unsigned gen;
	struct pki_status_list status;
	bool have_status;
} S;

static unsigned act_generate(void *ud, int key);
static unsigned act_diffs(void *ud, int key);

static const struct term_action actions[] = {
	{ 'g', 0, N_("Generate"), N_("make the missing certificates in the local store (nothing on the hosts)"),
	  act_generate, true },
	{ 'd', 0, N_("Diffs"), N_("show or hide details of the selected host"), act_diffs, true },
	{ 0, 0, NULL, NULL, NULL, false },
};

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
		struct wz_dialog *d = wz_dialog_push(w, DLG_MESSAGE, _("The certificates could not be made"), NULL, NULL);

		for (size_t i = 0; i < rep.errors.n; i++)
			wz_dialog_line(d, "%s", rep.errors.items[i]);
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
	if (run.steps_csv == NULL)
		wz_run_init(&run, "certificates");
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
