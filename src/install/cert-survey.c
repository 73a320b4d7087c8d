/* The certificates in use across a cluster (cert-survey.h). */
#include "config.h"

#include "install/cert-survey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/loop.h"
#include "base/xmalloc.h"
#include "etcd/etcd-ask.h"
#include "pki/pki.h"

#define PKI_DIR "/etc/kubernetes/pki"
#define SURVEY_EXEC_MS 20000

static const char *const member_rels[] = { "etcd/ca.crt", "etcd/server.crt", "etcd/peer.crt",
					   "etcd/healthcheck-client.crt", "apiserver-etcd-client.crt",
					   NULL };
static const char *const cp_rels[] = { "etcd/ca.crt", "apiserver-etcd-client.crt", NULL };

/* kubeadm's name of the certificate at rel. */
static const char *rel_name(const char *rel)
{
	static const struct { const char *rel, *name; } names[] = {
		{ "etcd/ca.crt", "etcd-ca" },
		{ "etcd/server.crt", "etcd-server" },
		{ "etcd/peer.crt", "etcd-peer" },
		{ "etcd/healthcheck-client.crt", "etcd-healthcheck-client" },
		{ "apiserver-etcd-client.crt", "apiserver-etcd-client" },
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(names[i].rel, rel) == 0)
			return names[i].name;
	return rel;
}

static struct cert_row *row_add(struct cert_survey *s, const char *host, const char *name,
				const char *where)
{
	struct cert_row *r;

	s->rows = xreallocarray(s->rows, s->n + 1, sizeof *s->rows);
	r = &s->rows[s->n++];
	memset(r, 0, sizeof *r);
	r->host = xstrdup(host);
	r->name = xstrdup(name);
	r->where = xstrdup(where);
	return r;
}

void cert_survey_free(struct cert_survey *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->rows[i].host);
		free(s->rows[i].name);
		free(s->rows[i].where);
		free(s->rows[i].problem);
	}
	free(s->rows);
	memset(s, 0, sizeof *s);
}

static void first_cert_facts(gnutls_x509_crt_t crt, struct cert_row *r)
{
	size_t n = sizeof r->issuer;

	r->not_after = gnutls_x509_crt_get_expiration_time(crt);
	pki_crt_serial_hex(crt, r->serial, sizeof r->serial);
	if (gnutls_x509_crt_get_issuer_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, r->issuer, &n) != 0)
		r->issuer[0] = '\0';
}

/* The store's copy of rel for store_member: its serial, or for a CA file
 * its trust; "" when the store has none. */
static void store_id(const struct pki_store *store, const char *store_member, const char *rel,
		     char *out, size_t size)
{
	char *path = xasprintf("%s/members/%s/%s", store->dir, store_member, rel);
	char *pem = NULL;
	size_t len = 0;
	gnutls_x509_crt_t *l = NULL;
	size_t n = 0;

	out[0] = '\0';
	if (wiz_read_file(path, 1u << 20, &pem, &len, NULL) == WIZ_ERR_OK) {
		if (strcmp(rel, "etcd/ca.crt") == 0) {
			char id[17];

			pki_trust_id(pem, len, id, NULL);
			snprintf(out, size, "%s", id);
		} else if (pki_crt_list_parse(pem, len, &l, &n, NULL) == WIZ_ERR_OK) {
			pki_crt_serial_hex(l[0], out, size);
			pki_crt_list_free(l, n);
		}
	}
	free(pem);
	free(path);
}

static void parse_one(const struct pki_store *store, const char *host, const char *store_member,
		      const char *rel, const char *body, size_t len, struct cert_survey *s)
{
	char *where = xasprintf(PKI_DIR "/%s", rel);
	struct cert_row *r = row_add(s, host, rel_name(rel), where);
	gnutls_x509_crt_t *l = NULL;
	size_t n = 0;
	char want[48], have[48] = "";

	free(where);
	if (len >= 8 && strncmp(body, "!missing", 8) == 0) {
		r->missing = true;
		return;
	}
	if (pki_crt_list_parse(body, len, &l, &n, NULL) != WIZ_ERR_OK) {
		r->problem = xstrdup(_("not a PEM certificate"));
		return;
	}
	first_cert_facts(l[0], r);
	if (strcmp(rel, "etcd/ca.crt") == 0) {
		char id[17];

		pki_trust_id(body, len, id, NULL);
		snprintf(have, sizeof have, "%s", id);
		if (n > 1)
			snprintf(r->issuer, sizeof r->issuer, P_("%zu CA", "a bundle of %zu CAs", n), n);
	} else {
		snprintf(have, sizeof have, "%s", r->serial);
	}
	pki_crt_list_free(l, n);
	store_id(store, store_member, rel, want, sizeof want);
	r->match = want[0] == '\0' ? CERT_MATCH_UNKNOWN : strcmp(want, have) == 0 ? CERT_MATCH_YES : CERT_MATCH_NO;
}

void cert_survey_parse(const struct pki_store *store, const char *host, const char *store_member,
		       const char *out, size_t len, const char *const *rels, struct cert_survey *s)
{
	const char *end = out + len;

	for (size_t k = 0; rels[k]; k++) {
		char *mark = xasprintf("== %s\n", rels[k]);
		const char *at = out, *body, *next;

		while (at && at < end && (strncmp(at, mark, strlen(mark)) != 0))
			at = (at = memchr(at, '\n', (size_t)(end - at))) ? at + 1 : NULL;
		if (at == NULL || at >= end) {
			struct cert_row *r = row_add(s, host, rel_name(rels[k]), rels[k]);

			r->problem = xstrdup(_("not in the host's answer"));
			free(mark);
			continue;
		}
		body = at + strlen(mark);
		for (next = body; next < end; next++)
			if ((next == body || next[-1] == '\n') && end - next >= 3 && strncmp(next, "== ", 3) == 0)
				break;
		parse_one(store, host, store_member, rels[k], body, (size_t)(next - body), s);
		free(mark);
	}
}

/* ---- asking every host at once ---- */

struct survey_host {
	struct survey *sv;
	size_t i;
	bool is_member;
	const struct host *h;
	struct cert_survey rows;
	char *served_problem;
	int served_port;
	int pending;
};

struct survey {
	const struct cert_survey_opts *o;
	struct survey_host *hosts;
	size_t n;
	int pending;
};

static void host_end(struct survey_host *sh)
{
	sh->sv->pending--;
}

static void served_next(struct survey_host *sh);

static void on_served(enum wiz_err code, const struct etcd_served_cert *sc, const char *msg, void *ud)
{
	struct survey_host *sh = ud;
	char where[300], name[32], want[48];
	struct cert_row *r;

	snprintf(where, sizeof where, "%s:%d", sh->h->address, sh->served_port);
	snprintf(name, sizeof name, "served :%d", sh->served_port);
	r = row_add(&sh->rows, sh->h->name, name, where);
	r->served = true;
	if (sc != NULL && sc->got) {
		snprintf(r->serial, sizeof r->serial, "%s", sc->serial);
		snprintf(r->issuer, sizeof r->issuer, "%s", sc->issuer);
		r->not_after = sc->not_after;
		store_id(sh->sv->o->store, sh->h->name, sh->served_port == 2379 ? "etcd/server.crt" : "etcd/peer.crt",
			 want, sizeof want);
		r->match = want[0] == '\0' ? CERT_MATCH_UNKNOWN
			   : strcmp(want, sc->serial) == 0 ? CERT_MATCH_YES : CERT_MATCH_NO;
	}
	if (code != WIZ_ERR_OK || (msg && msg[0]))
		r->problem = xstrdup(msg && msg[0] ? msg : wiz_err_name(code));
	if (sh->served_port == 2379) {
		sh->served_port = 2380;
		served_next(sh);
		return;
	}
	host_end(sh);
}

static void served_next(struct survey_host *sh)
{
	const struct cert_survey_opts *o = sh->sv->o;
	struct transport_ask q = { .name = sh->h->name, .address = sh->h->address, .creds = o->creds,
				   .timeout_ms = 5000, .port = sh->served_port };

	o->t.ops->served_cert(o->t.self, sh->i, &q, on_served, sh);
}

static void on_exec(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct survey_host *sh = ud;
	const struct cert_survey_opts *o = sh->sv->o;

	(void)op;
	if (r->code != WIZ_ERR_OK) {
		struct cert_row *row = row_add(&sh->rows, sh->h->name, "-", "-");

		row->problem = xasprintf(_("cannot read its certificates: %s"),
					 r->errout && r->errout[0] ? r->errout : r->err.msg);
		host_end(sh);
		return;
	}
	cert_survey_parse(o->store, sh->h->name, sh->is_member ? sh->h->name : o->c->members[0].name,
			  r->out ? r->out : "", r->out_len, sh->is_member ? member_rels : cp_rels, &sh->rows);
	if (sh->is_member && o->creds != NULL && o->t.ops->served_cert != NULL) {
		sh->served_port = 2379;
		served_next(sh);
		return;
	}
	host_end(sh);
}

static char *survey_command(const char *const *rels)
{
	char *cmd = xstrdup("");

	for (size_t k = 0; rels[k]; k++) {
		char *next = xasprintf("%secho '== %s'; cat " PKI_DIR "/%s 2>/dev/null || echo '!missing'\n",
				       cmd, rels[k], rels[k]);

		free(cmd);
		cmd = next;
	}
	return cmd;
}

static void on_connected(void *ud, enum wiz_err code, const char *msg)
{
	struct survey_host *sh = ud;
	const struct cert_survey_opts *o = sh->sv->o;
	struct ssh_exec_opts xo = { .as_root = true, .timeout_ms = SURVEY_EXEC_MS };
	char *cmd;

	if (code != WIZ_ERR_OK) {
		struct cert_row *row = row_add(&sh->rows, sh->h->name, "-", "-");

		row->problem = xasprintf(_("not reachable: %s"), msg && msg[0] ? msg : wiz_err_name(code));
		host_end(sh);
		return;
	}
	cmd = survey_command(sh->is_member ? member_rels : cp_rels);
	o->t.ops->exec(o->t.self, sh->i, cmd, &xo, on_exec, sh);
	free(cmd);
}

static bool survey_done(void *ud)
{
	return ((struct survey *)ud)->pending == 0;
}

void cert_survey_take(const struct cert_survey_opts *o, struct cert_survey *out)
{
	struct survey *sv = xcalloc(1, sizeof *sv);
	size_t n_cp = o->c->control_plane.n_hosts;

	sv->o = o;
	memset(out, 0, sizeof *out);
	sv->n = o->c->n_members + n_cp;
	sv->hosts = xcalloc(sv->n ? sv->n : 1, sizeof *sv->hosts);
	for (size_t i = 0; i < sv->n; i++) {
		struct survey_host *sh = &sv->hosts[i];

		sh->sv = sv;
		sh->i = i;
		sh->is_member = i < o->c->n_members;
		sh->h = sh->is_member ? &o->c->members[i] : &o->c->control_plane.hosts[i - o->c->n_members];
		sv->pending++;
	}
	for (size_t i = 0; i < sv->n; i++)
		o->t.ops->connect(o->t.self, i, on_connected, &sv->hosts[i]);
	loop_run_until(o->loop, survey_done, sv, loop_now() + (o->timeout_ms ? o->timeout_ms : 60000));
	for (size_t i = 0; i < sv->n; i++) {
		struct survey_host *sh = &sv->hosts[i];

		if (sh->rows.n == 0 && sv->pending > 0) {
			struct cert_row *row = row_add(&sh->rows, sh->h->name, "-", "-");

			row->problem = xstrdup(_("no answer in time"));
		}
		for (size_t k = 0; k < sh->rows.n; k++) {
			out->rows = xreallocarray(out->rows, out->n + 1, sizeof *out->rows);
			out->rows[out->n++] = sh->rows.rows[k];
		}
		free(sh->rows.rows);
		sh->rows.rows = NULL;
		sh->rows.n = 0;
	}
	/* Should the bound pass first, the operations still out keep sv's
	 * memory: they call back into it. */
	if (sv->pending == 0) {
		free(sv->hosts);
		free(sv);
	}
}
