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
#include "etcd/etcd-json.h"
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

struct survey;

struct survey_host {
	struct survey *sv;
	size_t i;
	bool is_member;
	const struct host *h;
	struct cert_survey rows;
	int served_port;
};

struct survey {
	const struct cert_survey_opts *o;
	struct survey_host *hosts;
	size_t n;
	int pending;
	bool delivered;
	struct loop_timer *bound;
	cert_survey_fn cb;
	void *ud;
};

/* Rows in host order to the caller; the survey itself goes once no
 * operation is out any more (a late one still writes into it). */
static void deliver(struct survey *sv)
{
	struct cert_survey *out = xcalloc(1, sizeof *out);

	sv->delivered = true;
	loop_timer_disarm(sv->bound);
	for (size_t i = 0; i < sv->n; i++) {
		struct survey_host *sh = &sv->hosts[i];

		if (sh->rows.n == 0) {
			struct cert_row *row = row_add(&sh->rows, sh->h->name, "-", "-");

			row->problem = xstrdup(_("no answer in time"));
		}
		for (size_t k = 0; k < sh->rows.n; k++) {
			out->rows = xreallocarray(out->rows, out->n + 1, sizeof *out->rows);
			out->rows[out->n++] = sh->rows.rows[k];
		}
		free(sh->rows.rows);
		memset(&sh->rows, 0, sizeof sh->rows);
	}
	sv->cb(out, sv->ud);
}

static void survey_release(struct survey *sv)
{
	if (sv->pending > 0 || !sv->delivered)
		return;
	for (size_t i = 0; i < sv->n; i++)
		cert_survey_free(&sv->hosts[i].rows);
	loop_timer_del(sv->bound);
	free(sv->hosts);
	free(sv);
}

static void host_end(struct survey_host *sh)
{
	struct survey *sv = sh->sv;

	if (--sv->pending == 0 && !sv->delivered)
		deliver(sv);
	survey_release(sv);
}

static void on_bound(struct loop_timer *t, void *ud)
{
	struct survey *sv = ud;

	(void)t;
	if (!sv->delivered)
		deliver(sv);
	survey_release(sv);
}

static void served_next(struct survey_host *sh);

static void on_served(enum wiz_err code, const struct etcd_served_cert *sc, const char *msg, void *ud)
{
	struct survey_host *sh = ud;
	char where[300], name[32], want[48];
	struct cert_row *r;

	if (sh->sv->delivered) {
		host_end(sh);
		return;
	}
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
	if (sh->sv->delivered) {
		host_end(sh);
		return;
	}
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

	if (code != WIZ_ERR_OK || sh->sv->delivered) {
		if (!sh->sv->delivered) {
			struct cert_row *row = row_add(&sh->rows, sh->h->name, "-", "-");

			row->problem = xasprintf(_("not reachable: %s"), msg && msg[0] ? msg : wiz_err_name(code));
		}
		host_end(sh);
		return;
	}
	cmd = survey_command(sh->is_member ? member_rels : cp_rels);
	o->t.ops->exec(o->t.self, sh->i, cmd, &xo, on_exec, sh);
	free(cmd);
}

void cert_survey_start(const struct cert_survey_opts *o, cert_survey_fn cb, void *ud)
{
	struct survey *sv = xcalloc(1, sizeof *sv);

	sv->o = o;
	sv->cb = cb;
	sv->ud = ud;
	sv->n = o->c->n_members + o->c->control_plane.n_hosts;
	sv->hosts = xcalloc(sv->n ? sv->n : 1, sizeof *sv->hosts);
	sv->bound = loop_timer_add(o->loop, on_bound, sv);
	loop_timer_arm_in(sv->bound, o->timeout_ms ? o->timeout_ms : 60000);
	for (size_t i = 0; i < sv->n; i++) {
		struct survey_host *sh = &sv->hosts[i];

		sh->sv = sv;
		sh->i = i;
		sh->is_member = i < o->c->n_members;
		sh->h = sh->is_member ? &o->c->members[i] : &o->c->control_plane.hosts[i - o->c->n_members];
		sv->pending++;
	}
	sv->pending++;	/* held while the connects go out (one may answer at once) */
	for (size_t i = 0; i < sv->n; i++)
		o->t.ops->connect(o->t.self, i, on_connected, &sv->hosts[i]);
	if (--sv->pending == 0 && !sv->delivered)
		deliver(sv);
	survey_release(sv);
}

struct taken {
	struct cert_survey *out;
	bool done;
};

static void taken(struct cert_survey *s, void *ud)
{
	struct taken *t = ud;

	*t->out = *s;
	free(s);
	t->done = true;
}

static bool taken_done(void *ud)
{
	return ((struct taken *)ud)->done;
}

void cert_survey_take(const struct cert_survey_opts *o, struct cert_survey *out)
{
	struct taken t = { out, false };

	memset(out, 0, sizeof *out);
	cert_survey_start(o, taken, &t);
	loop_run_until(o->loop, taken_done, &t, 0);
}

/* ---- the peers: every member lists every other as started ---- */

struct peers {
	const struct cert_survey_opts *o;
	size_t pending, ok;
	char why[512];
	cert_peers_fn cb;
	void *ud;
	struct peer_one {
		struct peers *p;
		size_t i;
	} *ones;
};

static void peers_end(struct peers *p)
{
	if (--p->pending > 0)
		return;
	p->cb(p->ok == p->o->c->n_members ? NULL : p->why[0] ? p->why : _("not every member answered"), p->ud);
	free(p->ones);
	free(p);
}

static void peers_answered(enum wiz_err code, int status, const char *body, size_t len, const char *msg,
			   void *ud)
{
	struct peer_one *one = ud;
	struct peers *p = one->p;
	const struct cluster *c = p->o->c;
	const char *name = c->members[one->i].name;
	struct etcd_member_list l;
	struct wiz_error err = { 0 };
	size_t started = 0;

	memset(&l, 0, sizeof l);
	if (code != WIZ_ERR_OK || status != 200 ||
	    etcd_json_parse_member_list(body, len, &l, &err) != WIZ_ERR_OK) {
		snprintf(p->why, sizeof p->why, _("%s: cannot list the members: %s"), name,
			 status ? err.msg : msg && msg[0] ? msg : wiz_err_name(code));
	} else {
		for (size_t i = 0; i < l.n_members; i++)
			if (l.members[i].name[0] && !l.members[i].is_learner)
				started++;
		if (started == c->n_members && l.n_members == c->n_members)
			p->ok++;
		else
			snprintf(p->why, sizeof p->why, _("%s lists %zu started voting members of %zu, not %zu"), name,
				 started, l.n_members, c->n_members);
	}
	etcd_member_list_free(&l);
	peers_end(p);
}

static void peers_connected(void *ud, enum wiz_err code, const char *msg)
{
	struct peer_one *one = ud;
	struct peers *p = one->p;
	const struct host *h = &p->o->c->members[one->i];
	struct transport_ask q = { .name = h->name, .address = h->address, .creds = p->o->creds,
				   .timeout_ms = 10000 };

	if (code != WIZ_ERR_OK || p->o->t.ops->call_etcd == NULL) {
		snprintf(p->why, sizeof p->why, _("%s: not reachable: %s"), h->name,
			 msg && msg[0] ? msg : wiz_err_name(code));
		peers_end(p);
		return;
	}
	p->o->t.ops->call_etcd(p->o->t.self, one->i, &q, "/v3/cluster/member/list", "{}", peers_answered, one);
}

void cert_peers_check(const struct cert_survey_opts *o, cert_peers_fn cb, void *ud)
{
	struct peers *p = xcalloc(1, sizeof *p);

	p->o = o;
	p->cb = cb;
	p->ud = ud;
	p->ones = xcalloc(o->c->n_members ? o->c->n_members : 1, sizeof *p->ones);
	p->pending = o->c->n_members + 1;
	for (size_t i = 0; i < o->c->n_members; i++) {
		p->ones[i] = (struct peer_one){ p, i };
		o->t.ops->connect(o->t.self, i, peers_connected, &p->ones[i]);
	}
	peers_end(p);
}
