/* One member asked over its SSH session (etcd-ask.h): channel, TLS,
 * GET /health, POST member/list, POST maintenance/status, GET /version,
 * POST maintenance/alarm, all on one connection, bounded by one deadline. A step that fails ends the try with what it knew. */
#include "config.h"

#include "etcd/etcd-ask.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/loop.h"
#include "base/xmalloc.h"
#include "etcd/etcd-json.h"
#include "pki/pki.h"

enum ask_req { ASK_HEALTH, ASK_MEMBERS, ASK_STATUS, ASK_VERSION, ASK_ALARMS, ASK_DONE };

static const char *const ask_paths[] = { "/health", "/v3/cluster/member/list",
					 "/v3/maintenance/status", "/version",
					 "/v3/maintenance/alarm" };

/* The GETs; the rest are POSTs of {} (an alarm request of {} is GET). */
static bool ask_is_get(enum ask_req r)
{
	return r == ASK_HEALTH || r == ASK_VERSION;
}


struct etcd_ask {
	struct etcd_ask_opts o;
	char *address, *name;
	etcd_ask_fn cb;
	void *ud;
	struct loop_timer *timer;	/* the deadline, then the delivery */
	struct ssh_op *opening;		/* the channel being opened */
	struct ssh_stream *stream;
	struct http_conn *http;
	enum ask_req req;
	bool starting;			/* inside ssh_tunnel_open */
	bool finished;			/* result set, delivery pending */
	bool cancelled;			/* freed once the channel's callback ran */
	bool cancel_sent;		/* ssh_op_cancel called on opening */
	enum wiz_err code;
	char msg[400];
	struct etcd_member_view v;
	/* etcd_call: the one request, and its answer. */
	char *call_path, *call_body;
	etcd_call_fn call_cb;
	int call_status;
	char *call_resp;
	size_t call_len;
	/* etcd_served: the certificate seen. */
	etcd_served_fn served_cb;
	struct etcd_served_cert served;
	/* etcd_call_stream: where a 200's body goes. */
	http_body_fn stream_fn;
	void *stream_ud;
};

static void ask_free(struct etcd_ask *a)
{
	if (a->http != NULL)
		http_conn_free(a->http);
	if (a->stream != NULL)
		ssh_stream_close(a->stream);
	loop_timer_del(a->timer);
	free(a->address);
	free(a->name);
	free(a->call_path);
	free(a->call_body);
	free(a->call_resp);
	free(a);
}

/* Ends the try; the callback runs from the loop. */
static void finish(struct etcd_ask *a, enum wiz_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void finish(struct etcd_ask *a, enum wiz_err code, const char *fmt, ...)
{
	if (a->finished)
		return;
	a->finished = true;
	a->code = code;
	if (fmt != NULL) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(code == WIZ_ERR_OK ? a->v.detail : a->msg,
			  code == WIZ_ERR_OK ? sizeof a->v.detail : sizeof a->msg, fmt, ap);
		va_end(ap);
	}
	/* A channel still opening is cancelled; its callback (now or soon)
	 * clears a->opening, and only then is the result delivered. */
	if (a->opening != NULL && !a->cancel_sent) {
		a->cancel_sent = true;
		ssh_op_cancel(a->opening);
	}
	loop_timer_arm_in(a->timer, 0);
}

static void on_timer(struct loop_timer *t, void *ud)
{
	struct etcd_ask *a = ud;

	(void)t;
	if (!a->finished) {
		finish(a, WIZ_ERR_OK, _("no answer within %u s"), (a->o.timeout_ms + 999) / 1000);
		return;
	}
	if (a->opening != NULL)
		return;		/* delivered once the channel's callback ran */
	if (a->served_cb != NULL)
		a->served_cb(a->code, &a->served, a->code != WIZ_ERR_OK ? a->msg : a->v.detail, a->ud);
	else if (a->call_cb != NULL)
		a->call_cb(a->code, a->call_status, a->call_resp, a->call_len,
			   a->code != WIZ_ERR_OK ? a->msg : a->v.detail, a->ud);
	else
		a->cb(a->code, &a->v, a->msg, a->ud);
	ask_free(a);
}

static void send_next(struct etcd_ask *a);

/* The leaf the handshake saw, parsed here (never trusted for more). */
static void keep_served(struct etcd_ask *a, struct http_conn *c)
{
	size_t len = 0;
	unsigned char *der = http_conn_peer_cert(c, &len);
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = { der, (unsigned)len };
	size_t n = sizeof a->served.issuer;

	if (der == NULL)
		return;
	if (gnutls_x509_crt_init(&crt) == 0 && gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) == 0) {
		a->served.got = true;
		pki_crt_serial_hex(crt, a->served.serial, sizeof a->served.serial);
		a->served.not_after = gnutls_x509_crt_get_expiration_time(crt);
		if (gnutls_x509_crt_get_issuer_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
							 a->served.issuer, &n) != 0)
			a->served.issuer[0] = '\0';
	}
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	free(der);
}

static void on_http(struct http_conn *c, enum wiz_err rc, const struct http_response *r,
		    const struct wiz_error *err, void *ud)
{
	struct etcd_ask *a = ud;
	struct wiz_error perr = { 0 };

	if (a->finished)
		return;
	if (a->served_cb != NULL) {
		keep_served(a, c);
		if (rc != WIZ_ERR_OK)
			finish(a, WIZ_ERR_OK, "%s", err && err->msg[0] ? err->msg : wiz_err_name(rc));
		else if (!a->served.got)
			finish(a, WIZ_ERR_OK, "%s", _("no certificate was presented"));
		else
			finish(a, WIZ_ERR_OK, NULL);
		return;
	}
	if (rc != WIZ_ERR_OK) {
		finish(a, WIZ_ERR_OK, "%s", err && err->msg[0] ? err->msg : wiz_err_name(rc));
		return;
	}
	if (a->call_cb != NULL) {
		a->call_status = r->status;
		a->call_len = r->body_len;
		a->call_resp = xmalloc(r->body_len + 1);
		memcpy(a->call_resp, r->body, r->body_len);
		a->call_resp[r->body_len] = '\0';
		finish(a, WIZ_ERR_OK, NULL);
		return;
	}
	/* /health answers 503 with its JSON when the member is unhealthy. */
	if (r->status != 200 && !(a->req == ASK_HEALTH && r->status == 503)) {
		finish(a, WIZ_ERR_OK, _("HTTP %d from %s"), r->status, ask_paths[a->req]);
		return;
	}
	switch (a->req) {
	case ASK_HEALTH: {
		struct etcd_health h;

		if (etcd_json_parse_health(r->body, r->body_len, &h, &perr) != WIZ_ERR_OK) {
			etcd_health_free(&h);
			finish(a, WIZ_ERR_OK, "%s", perr.msg);
			return;
		}
		a->v.answered = true;
		a->v.healthy = h.healthy;
		if (!h.healthy)
			snprintf(a->v.detail, sizeof a->v.detail, "%s",
				 h.reason && h.reason[0] ? h.reason : _("/health says false"));
		etcd_health_free(&h);
		break;
	}
	case ASK_MEMBERS: {
		struct etcd_member_list l;

		if (etcd_json_parse_member_list(r->body, r->body_len, &l, &perr) != WIZ_ERR_OK) {
			etcd_member_list_free(&l);
			finish(a, WIZ_ERR_OK, "%s", perr.msg);
			return;
		}
		/* An unstarted member has no name yet. */
		for (size_t i = 0; i < l.n_members; i++)
			if (strcmp(l.members[i].name, a->name) == 0)
				a->v.listed = true;
		etcd_member_list_free(&l);
		break;
	}
	case ASK_STATUS: {
		struct etcd_status s;

		if (etcd_json_parse_status(r->body, r->body_len, &s, &perr) != WIZ_ERR_OK) {
			etcd_status_free(&s);
			finish(a, WIZ_ERR_OK, "%s", perr.msg);
			return;
		}
		a->v.leader = s.leader != 0 && s.leader == s.header.member_id;
		a->v.learner = s.is_learner;
		a->v.raft_index = s.raft_index;
		snprintf(a->v.version, sizeof a->v.version, "%s", s.version);
		etcd_status_free(&s);
		break;
	}
	case ASK_VERSION: {
		struct etcd_version ver;

		if (etcd_json_parse_version(r->body, r->body_len, &ver, &perr) != WIZ_ERR_OK) {
			etcd_version_free(&ver);
			finish(a, WIZ_ERR_OK, "%s", perr.msg);
			return;
		}
		snprintf(a->v.cluster_version, sizeof a->v.cluster_version, "%s", ver.cluster);
		etcd_version_free(&ver);
		break;
	}
	case ASK_ALARMS: {
		struct etcd_alarm_list al;
		size_t used = 0;

		if (etcd_json_parse_alarms(r->body, r->body_len, &al, &perr) != WIZ_ERR_OK) {
			etcd_alarm_list_free(&al);
			finish(a, WIZ_ERR_OK, "%s", perr.msg);
			return;
		}
		a->v.alarms[0] = '\0';
		for (size_t i = 0; i < al.n_alarms && used + 1 < sizeof a->v.alarms; i++) {
			int w = snprintf(a->v.alarms + used, sizeof a->v.alarms - used, "%s%s",
					 used ? "," : "", etcd_alarm_name(al.alarms[i].type));

			if (w < 0)
				break;
			used += (size_t)w < sizeof a->v.alarms - used ? (size_t)w : sizeof a->v.alarms - used - 1;
		}
		etcd_alarm_list_free(&al);
		break;
	}
	case ASK_DONE:
		break;
	}
	a->req++;
	if (a->req == ASK_DONE) {
		finish(a, WIZ_ERR_OK, NULL);
		return;
	}
	send_next(a);
}

/* A streamed answer's next bytes: the bound is on silence, not on the
 * whole answer (a snapshot takes as long as it takes). */
static bool on_body(const char *data, size_t len, void *ud)
{
	struct etcd_ask *a = ud;

	if (a->finished)
		return false;
	loop_timer_arm_in(a->timer, a->o.timeout_ms);
	return a->stream_fn(data, len, a->stream_ud);
}

static void send_next(struct etcd_ask *a)
{
	enum wiz_err rc;

	if (a->served_cb != NULL) {
		rc = http_conn_request(a->http, "GET", "/version", NULL, on_http, a);
		if (rc != WIZ_ERR_OK)
			finish(a, WIZ_ERR_OK, "%s", wiz_err_name(rc));
		return;
	}
	if (a->call_cb != NULL) {
		rc = a->stream_fn != NULL
			     ? http_conn_request_stream(a->http, "POST", a->call_path, a->call_body, on_body, on_http, a)
			     : http_conn_request(a->http, "POST", a->call_path, a->call_body, on_http, a);
		if (rc != WIZ_ERR_OK)
			finish(a, WIZ_ERR_OK, "%s", wiz_err_name(rc));
		return;
	}
	if (a->req >= ASK_DONE)
		return;
	rc = http_conn_request(a->http, ask_is_get(a->req) ? "GET" : "POST", ask_paths[a->req],
			       ask_is_get(a->req) ? NULL : "{}", on_http, a);
	if (rc != WIZ_ERR_OK)
		finish(a, WIZ_ERR_OK, "%s", wiz_err_name(rc));
}

static void on_stream(struct ssh_stream *st, void *ud)
{
	struct etcd_ask *a = ud;

	(void)st;
	if (a->http != NULL && !a->finished)
		http_conn_progress(a->http);
}

static void on_channel(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct etcd_ask *a = ud;
	char hostport[300];
	struct http_conn_opts ho = { 0 };

	(void)op;
	a->opening = NULL;
	a->starting = false;	/* ran inside ssh_tunnel_open: nothing to keep */
	if ((a->cancelled || a->finished) && r->stream != NULL) {
		/* Opened after all (the cancel came too late): not wanted. */
		ssh_stream_close(r->stream);
		r->stream = NULL;
	}
	if (a->cancelled) {
		ask_free(a);
		return;
	}
	if (a->finished) {
		loop_timer_arm_in(a->timer, 0);
		return;
	}
	if (r->code != WIZ_ERR_OK) {
		/* The session itself gone is the host's failure; a refused
		 * channel is etcd not listening there. */
		if (r->code == WIZ_ERR_UNREACHABLE || r->code == WIZ_ERR_TIMEOUT ||
		    ssh_session_state(a->o.session) != SSH_S_READY)
			finish(a, r->code, "%s", r->err.msg[0] ? r->err.msg : wiz_err_name(r->code));
		else
			finish(a, WIZ_ERR_OK, _("cannot reach %s:%d on its host: %s"), a->address,
			       a->o.port, r->err.msg[0] ? r->err.msg : wiz_err_name(r->code));
		return;
	}
	a->stream = r->stream;
	r->stream = NULL;
	ssh_stream_set_notify(a->stream, on_stream, a);
	snprintf(hostport, sizeof hostport, "%s:%d", a->address, a->o.port);
	ho.stream = (struct byte_stream){ &byte_stream_ssh_ops, a->stream };
	ho.creds = a->o.creds;
	ho.server_name = a->address;
	ho.host_header = hostport;
	ho.max_body = ETCD_JSON_MAX;
	ho.log_name = a->name;
	a->http = http_conn_new(&ho);
	send_next(a);
}

static struct etcd_ask *ask_start(struct etcd_ask *a, const struct etcd_ask_opts *o);

struct etcd_ask *etcd_ask_member(const struct etcd_ask_opts *o, etcd_ask_fn cb, void *ud)
{
	struct etcd_ask *a = xcalloc(1, sizeof *a);

	a->cb = cb;
	a->ud = ud;
	return ask_start(a, o);
}

struct etcd_ask *etcd_call(const struct etcd_ask_opts *o, const char *path, const char *body,
			   etcd_call_fn cb, void *ud)
{
	struct etcd_ask *a = xcalloc(1, sizeof *a);

	a->call_cb = cb;
	a->call_path = xstrdup(path);
	a->call_body = xstrdup(body ? body : "{}");
	a->ud = ud;
	return ask_start(a, o);
}

struct etcd_ask *etcd_call_stream(const struct etcd_ask_opts *o, const char *path, const char *body,
				  http_body_fn on_data, etcd_call_fn cb, void *ud)
{
	struct etcd_ask *a = xcalloc(1, sizeof *a);

	a->call_cb = cb;
	a->call_path = xstrdup(path);
	a->call_body = xstrdup(body ? body : "{}");
	a->stream_fn = on_data;
	a->stream_ud = ud;
	a->ud = ud;
	return ask_start(a, o);
}

struct etcd_ask *etcd_served(const struct etcd_ask_opts *o, etcd_served_fn cb, void *ud)
{
	struct etcd_ask *a = xcalloc(1, sizeof *a);

	a->served_cb = cb;
	a->ud = ud;
	return ask_start(a, o);
}

static struct etcd_ask *ask_start(struct etcd_ask *a, const struct etcd_ask_opts *o)
{
	struct ssh_op *op;

	a->o = *o;
	if (a->o.port == 0)
		a->o.port = 2379;
	if (a->o.timeout_ms == 0)
		a->o.timeout_ms = 5000;
	a->address = xstrdup(o->address);
	a->name = xstrdup(o->name ? o->name : "");
	a->o.address = a->address;
	a->o.name = a->name;
	a->timer = loop_timer_add(o->loop, on_timer, a);
	loop_timer_arm_in(a->timer, a->o.timeout_ms);
	a->starting = true;
	op = ssh_tunnel_open(o->session, a->address, a->o.port, on_channel, a);
	if (a->starting)
		a->opening = op;
	a->starting = false;
	return a;
}

void etcd_ask_cancel(struct etcd_ask *a)
{
	if (a == NULL)
		return;
	if (a->opening != NULL) {
		struct ssh_op *op = a->opening;

		a->cancelled = true;
		loop_timer_disarm(a->timer);
		if (!a->cancel_sent) {
			a->cancel_sent = true;
			ssh_op_cancel(op);	/* on_channel frees it */
		}
		return;
	}
	ask_free(a);
}

enum wiz_err etcd_creds_from_store(const struct pki_store *s, struct http_tls_creds **out,
				   struct wiz_error *err)
{
	const char *first = s->c->n_members ? s->c->members[0].name : "";
	/* A member's etcd/ca.crt: the CA, or while the CA changes the bundle
	 * the members trust (pki-rotate.h), so both old and new answer. */
	char *ca = pki_store_path(s, first, PKI_PROFILE_CA, false);
	char *crt = pki_store_path(s, first, PKI_PROFILE_HEALTHCHECK, false);
	char *key = pki_store_path(s, first, PKI_PROFILE_HEALTHCHECK, true);
	enum wiz_err rc;

	*out = NULL;
	if (!wiz_file_exists(ca)) {
		free(ca);
		ca = pki_store_path(s, NULL, PKI_PROFILE_CA, false);
	}
	if (!wiz_file_exists(ca) || !wiz_file_exists(crt) || !wiz_file_exists(key))
		rc = wiz_error_set(err, WIZ_ERR_NOTFOUND,
				   _("no healthcheck-client certificate in the PKI store (%s); run 'etcdwiz certs generate -f %s', or give --cacert, --cert and --key"),
				   crt, s->c->file ? s->c->file : "FILE");
	else
		rc = http_tls_creds_load(ca, crt, key, out, err);
	free(ca);
	free(crt);
	free(key);
	return rc;
}
