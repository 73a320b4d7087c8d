/* HTTP/1.1 over GnuTLS over a pluggable non-blocking byte stream. */
#include "config.h"

#include "etcd/http-tls.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "base/i18n.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xmalloc.h"
#include "ssh/ssh.h"

#define HTTP_MAX_HEADER (32 * 1024)
#define HTTP_DEFAULT_MAX_BODY (8 * 1024 * 1024)

/* ---- streams --------------------------------------------------------------- */

static ssize_t fd_read(void *ctx, void *buf, size_t len)
{
	return read((int)(intptr_t)ctx, buf, len);
}

static ssize_t fd_write(void *ctx, const void *buf, size_t len)
{
	return write((int)(intptr_t)ctx, buf, len);
}

const struct byte_stream_ops byte_stream_fd_ops = { fd_read, fd_write };

static ssize_t ssh_read(void *ctx, void *buf, size_t len)
{
	return ssh_stream_read(ctx, buf, len);
}

static ssize_t ssh_write(void *ctx, const void *buf, size_t len)
{
	return ssh_stream_write(ctx, buf, len);
}

const struct byte_stream_ops byte_stream_ssh_ops = { ssh_read, ssh_write };

/* ---- credentials ------------------------------------------------------------ */

struct http_tls_creds {
	gnutls_certificate_credentials_t x509;
	/* The client certificate, given whatever the server asks: GnuTLS
	 * picks none by itself when a TLS 1.3 server (etcd 3.5 built with a
	 * newer Go) lists only RSA-PSS signatures, though an RSA key signs
	 * those; Go's and curl's clients send theirs regardless too. */
	gnutls_pcert_st pcert[16];	/* the certificate and its chain */
	unsigned n_pcert;
	gnutls_privkey_t key;
};

/* GnuTLS asks for our certificate (the server sent CertificateRequest). */
static int retrieve_client_cert(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn,
				int nreqs, const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
				gnutls_pcert_st **pcert, unsigned int *pcert_length,
				gnutls_privkey_t *privkey)
{
	const struct http_tls_creds *c = gnutls_session_get_ptr(session);

	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (c == NULL || c->key == NULL) {
		*pcert_length = 0;
		return 0;
	}
	*pcert = (gnutls_pcert_st *)c->pcert;
	*pcert_length = c->n_pcert;
	*privkey = c->key;
	return 0;
}

static enum wiz_err load_client_pair(struct http_tls_creds *c, const char *cert_file,
				     const char *key_file, struct wiz_error *err)
{
	gnutls_datum_t key = { NULL, 0 };
	int rc;

	c->n_pcert = sizeof c->pcert / sizeof c->pcert[0];
	rc = gnutls_pcert_list_import_x509_file(c->pcert, &c->n_pcert, cert_file, GNUTLS_X509_FMT_PEM,
						NULL, NULL, 0);
	if (rc < 0) {
		c->n_pcert = 0;
		return wiz_error_set(err, WIZ_ERR_TLS, _("client certificate %s: %s"), cert_file,
				     gnutls_strerror(rc));
	}
	rc = gnutls_load_file(key_file, &key);
	if (rc == 0)
		rc = gnutls_privkey_init(&c->key);
	if (rc == 0)
		rc = gnutls_privkey_import_x509_raw(c->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (key.data != NULL) {
		gnutls_memset(key.data, 0, key.size);
		gnutls_free(key.data);
	}
	if (rc < 0) {
		if (c->key != NULL)
			gnutls_privkey_deinit(c->key);
		c->key = NULL;
		return wiz_error_set(err, WIZ_ERR_TLS, _("client key %s: %s"), key_file,
				     gnutls_strerror(rc));
	}
	return WIZ_ERR_OK;
}

enum wiz_err http_tls_creds_load(const char *ca_file, const char *cert_file,
				 const char *key_file, struct http_tls_creds **out,
				 struct wiz_error *err)
{
	struct http_tls_creds *c = xcalloc(1, sizeof *c);
	int rc;

	*out = NULL;
	rc = gnutls_certificate_allocate_credentials(&c->x509);
	if (rc < 0) {
		free(c);
		return wiz_error_set(err, WIZ_ERR_TLS, "%s", gnutls_strerror(rc));
	}
	rc = gnutls_certificate_set_x509_trust_file(c->x509, ca_file, GNUTLS_X509_FMT_PEM);
	if (rc <= 0) {
		http_tls_creds_free(c);
		return wiz_error_set(err, WIZ_ERR_TLS,
				     _("%s: no CA certificate could be read (%s)"), ca_file,
				     rc < 0 ? gnutls_strerror(rc) : _("no certificate in the file"));
	}
	if (cert_file != NULL) {
		/* Loaded once the ordinary way too: that checks the pair matches. */
		rc = gnutls_certificate_set_x509_key_file(c->x509, cert_file, key_file,
							  GNUTLS_X509_FMT_PEM);
		if (rc < 0) {
			http_tls_creds_free(c);
			return wiz_error_set(err, WIZ_ERR_TLS,
					     _("client certificate %s with key %s: %s"), cert_file,
					     key_file, gnutls_strerror(rc));
		}
		if (load_client_pair(c, cert_file, key_file, err) != WIZ_ERR_OK) {
			http_tls_creds_free(c);
			return err->code;
		}
		gnutls_certificate_set_retrieve_function2(c->x509, retrieve_client_cert);
	}
	*out = c;
	return WIZ_ERR_OK;
}

void http_tls_creds_free(struct http_tls_creds *c)
{
	if (c == NULL)
		return;
	gnutls_certificate_free_credentials(c->x509);
	for (unsigned i = 0; i < c->n_pcert; i++)
		gnutls_pcert_deinit(&c->pcert[i]);
	if (c->key != NULL)
		gnutls_privkey_deinit(c->key);
	free(c);
}

/* ---- the connection -------------------------------------------------------------- */

static const char *const state_names[] = {
#define HTTP_STATE_NAME(id, name) name,
	HTTP_STATE_INFO(HTTP_STATE_NAME)
#undef HTTP_STATE_NAME
};

const char *http_state_name(enum http_state st)
{
	return (unsigned)st < HTTP_STATE_COUNT ? state_names[st] : "?";
}

enum body_mode { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };

struct buf {
	char *data;
	size_t len, cap;
};

struct http_conn {
	struct byte_stream stream;
	gnutls_session_t tls;		/* NULL = plain */
	char *name;
	char *host_header;
	size_t max_body;
	char why_buf[96];	/* a failure's reason that names a number */
	enum http_state state;
	bool peer_eof;
	bool in_progress, free_pending;
	bool pull_blocked;		/* the last TLS read ended on the stream's EAGAIN */
	unsigned tls_rereads;		/* TLS said "again" with bytes at hand, in a row */

	/* The request. */
	bool pending;			/* a request waits to be sent or answered */
	http_done_fn cb;
	void *ud;
	struct buf out;
	size_t out_off;

	/* The response. */
	struct buf in;
	size_t hdr_end;			/* 0 = headers not complete */
	int status;
	enum body_mode mode;
	size_t content_length;
	bool close_after;
	size_t chunk_pos;		/* next chunk-size line in in */
	struct buf body;
	bool chunk_done;
	/* http_conn_request_stream: a 200's body goes here as it comes. */
	http_body_fn on_body;
	void *body_ud;
};

static void buf_append(struct buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + len + 1)
			cap *= 2;
		b->data = xreallocarray(b->data, cap, 1);
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static void set_state(struct http_conn *c, enum http_state st)
{
	if (c->state == st)
		return;
	log_debug("http", "%s: [%s] -> [%s]", c->name, http_state_name(c->state),
		  http_state_name(st));
	c->state = st;
}

static ssize_t tls_push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	struct http_conn *c = p;
	ssize_t n = c->stream.ops->write(c->stream.ctx, data, len);

	if (n < 0)
		gnutls_transport_set_errno(c->tls, errno);
	return n;
}

static ssize_t tls_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct http_conn *c = p;
	ssize_t n = c->stream.ops->read(c->stream.ctx, data, len);

	if (n < 0) {
		c->pull_blocked = errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		gnutls_transport_set_errno(c->tls, errno);
	}
	return n;
}

static bool step(struct http_conn *c);

/* Only called when GnuTLS runs with a timeout; the handshake and record
 * timeouts are off (the owner's loop timer is the deadline), so this just
 * answers "nothing yet" instead of blocking. */
static int tls_pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	(void)p;
	(void)ms;
	return 0;
}

struct http_conn *http_conn_new(const struct http_conn_opts *o)
{
	struct http_conn *c = xcalloc(1, sizeof *c);
	const char *sn = o->server_name ? o->server_name : "localhost";

	c->stream = o->stream;
	c->name = xstrdup(o->log_name ? o->log_name : sn);
	c->host_header = xstrdup(o->host_header ? o->host_header : sn);
	c->max_body = o->max_body ? o->max_body : HTTP_DEFAULT_MAX_BODY;
	c->state = HTTP_IDLE;
	if (o->creds != NULL) {
		int rc = gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK);

		if (rc == 0)
			rc = gnutls_set_default_priority(c->tls);
		if (rc == 0)
			rc = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, o->creds->x509);
		if (rc == 0)
			gnutls_session_set_ptr(c->tls, (void *)o->creds);
		/* SNI carries DNS names only (RFC 6066 §3); the check below
		 * accepts an IP against the certificate's IP SANs. */
		if (rc == 0 && !str_is_ip(sn))
			rc = gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, sn, strlen(sn));
		if (rc != 0) {
			/* Requests on it complete with CANCELLED. */
			log_debug("http", "%s: TLS setup: %s", c->name, gnutls_strerror(rc));
			set_state(c, HTTP_CLOSED);
			return c;
		}
		gnutls_session_set_verify_cert(c->tls, sn, 0);
		gnutls_handshake_set_timeout(c->tls, 0);
		gnutls_transport_set_ptr(c->tls, c);
		gnutls_transport_set_push_function(c->tls, tls_push);
		gnutls_transport_set_pull_function(c->tls, tls_pull);
		gnutls_transport_set_pull_timeout_function(c->tls, tls_pull_timeout);
		c->state = HTTP_HANDSHAKE;
		log_debug("http", "%s: [%s]", c->name, http_state_name(c->state));
		/* Start the handshake; no request yet, so no callback runs. */
		while (step(c))
			;
	}
	return c;
}

static void really_free(struct http_conn *c)
{
	if (c->tls)
		gnutls_deinit(c->tls);
	free(c->out.data);
	free(c->in.data);
	free(c->body.data);
	free(c->name);
	free(c->host_header);
	free(c);
}

void http_conn_free(struct http_conn *c)
{
	if (c == NULL)
		return;
	if (c->in_progress) {
		c->free_pending = true;
		return;
	}
	really_free(c);
}

enum http_state http_conn_state(const struct http_conn *c)
{
	return c->state;
}

bool http_conn_wants_write(const struct http_conn *c)
{
	if (c->state == HTTP_SENDING)
		return true;
	if (c->tls && c->state == HTTP_HANDSHAKE)
		return gnutls_record_get_direction(c->tls) == 1;
	return false;
}

/* Finish the outstanding request: callback, then idle or closed. */
static void complete(struct http_conn *c, enum wiz_err rc, const struct wiz_error *err)
{
	http_done_fn cb = c->cb;
	void *ud = c->ud;
	struct http_response r;
	bool had = c->pending;

	c->pending = false;
	c->cb = NULL;
	if (rc != WIZ_ERR_OK || c->close_after || c->peer_eof)
		set_state(c, HTTP_CLOSED);
	else
		set_state(c, HTTP_IDLE);
	memset(&r, 0, sizeof r);
	r.status = c->status;
	r.body = c->body.data ? c->body.data : (char *)"";
	r.body_len = c->body.len;
	r.chunked = c->mode == BODY_CHUNKED;
	if (had && cb != NULL)
		cb(c, rc, rc == WIZ_ERR_OK ? &r : NULL, err, ud);
}

static void fail(struct http_conn *c, enum wiz_err code, const char *fmt, const char *arg)
{
	struct wiz_error e;

	wiz_error_set(&e, code, fmt, c->name, arg);
	log_debug("http", "%s", e.msg);
	if (c->pending)
		complete(c, code, &e);
	set_state(c, HTTP_CLOSED);
}

void http_conn_abort(struct http_conn *c, enum wiz_err code, const char *msg)
{
	bool outer = !c->in_progress;

	c->in_progress = true;
	fail(c, code, "%s: %s", msg ? msg : wiz_err_name(code));
	c->in_progress = !outer;
	if (outer && c->free_pending)
		really_free(c);
}

static enum wiz_err request(struct http_conn *c, const char *method, const char *path,
			    const char *body, http_body_fn on_body, http_done_fn cb, void *ud)
{
	char head[1024];
	int n;

	if (c->state == HTTP_CLOSED)
		return WIZ_ERR_CANCELLED;
	if (c->pending)
		return WIZ_ERR_USAGE;
	n = snprintf(head, sizeof head,
		     "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: " PACKAGE_NAME "/" PACKAGE_VERSION
		     "\r\nAccept: application/json, text/plain\r\n",
		     method, path, c->host_header);
	if (n < 0 || (size_t)n >= sizeof head)
		return WIZ_ERR_INVALID;
	buf_reset(&c->out);
	buf_append(&c->out, head, (size_t)n);
	if (body != NULL) {
		n = snprintf(head, sizeof head,
			     "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			     strlen(body));
		buf_append(&c->out, head, (size_t)n);
	}
	buf_append(&c->out, "\r\n", 2);
	if (body != NULL)
		buf_append(&c->out, body, strlen(body));
	c->out_off = 0;
	c->pending = true;
	c->cb = cb;
	c->ud = ud;
	c->on_body = on_body;
	c->body_ud = ud;
	if (c->state == HTTP_IDLE)
		set_state(c, HTTP_SENDING);
	if (!c->in_progress)
		http_conn_progress(c);
	return WIZ_ERR_OK;
}

enum wiz_err http_conn_request(struct http_conn *c, const char *method, const char *path,
			       const char *body, http_done_fn cb, void *ud)
{
	return request(c, method, path, body, NULL, cb, ud);
}

enum wiz_err http_conn_request_stream(struct http_conn *c, const char *method, const char *path,
				      const char *body, http_body_fn on_body, http_done_fn cb, void *ud)
{
	return request(c, method, path, body, on_body, cb, ud);
}

static void start_response(struct http_conn *c)
{
	buf_reset(&c->in);
	buf_reset(&c->body);
	c->hdr_end = 0;
	c->status = 0;
	c->mode = BODY_NONE;
	c->content_length = 0;
	c->close_after = false;
	c->chunk_pos = 0;
	c->chunk_done = false;
}

/* Parse the status line and headers once "\r\n\r\n" arrived.
 * Returns 1 done, 0 need more, -1 error (message set in *why). */

/* The size limit in the reason, so a cut-off answer says what was allowed. */
static const char *too_large(struct http_conn *c)
{
	snprintf(c->why_buf, sizeof c->why_buf, _("response body too large (the limit is %zu KiB)"),
		 c->max_body / 1024);
	return c->why_buf;
}

static int parse_headers(struct http_conn *c, const char **why)
{
	/* Nothing read yet (the server closed at once): no buffer either. */
	char *end = c->in.data ? strstr(c->in.data, "\r\n\r\n") : NULL;
	char *line, *next;
	bool chunked = false, have_length = false;

	if (end == NULL) {
		if (c->in.len > HTTP_MAX_HEADER) {
			*why = _("response headers too long");
			return -1;
		}
		return 0;
	}
	*end = '\0';
	c->hdr_end = (size_t)(end - c->in.data) + 4;
	/* "HTTP/1.x NNN reason" */
	{
		const char *l = c->in.data;

		if (strncmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
		    l[9] < '1' || l[9] > '5' || l[10] < '0' || l[10] > '9' || l[11] < '0' ||
		    l[11] > '9' || (l[12] != ' ' && l[12] != '\r')) {
			*why = _("malformed HTTP status line");
			return -1;
		}
		c->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
		c->close_after = l[7] == '0';
	}
	line = strstr(c->in.data, "\r\n");
	for (; line != NULL; line = next) {
		char *colon, *v;

		line += 2;
		next = strstr(line, "\r\n");
		if (next)
			*next = '\0';
		colon = strchr(line, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (char *t = v + strlen(v); t > v && (t[-1] == ' ' || t[-1] == '\t'); t--)
			t[-1] = '\0';
		if (strcasecmp(line, "Content-Length") == 0) {
			char *stop;
			unsigned long long cl;

			errno = 0;
			cl = strtoull(v, &stop, 10);
			if (errno != 0 || stop == v || *stop != '\0' || *v == '-') {
				*why = _("malformed Content-Length");
				return -1;
			}
			c->content_length = (size_t)cl;
			have_length = true;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			chunked = strcasestr(v, "chunked") != NULL;
		} else if (strcasecmp(line, "Connection") == 0) {
			if (strcasestr(v, "close"))
				c->close_after = true;
			else if (strcasestr(v, "keep-alive"))
				c->close_after = false;
		}
		if (next)
			*next = '\r';
		*colon = ':';
	}
	if (c->status == 204 || c->status == 304 || c->status < 200)
		c->mode = BODY_NONE;
	else if (chunked)
		c->mode = BODY_CHUNKED;	/* wins over Content-Length (RFC 9112 §6.3) */
	else if (have_length)
		c->mode = BODY_LENGTH;
	else {
		c->mode = BODY_CLOSE;
		c->close_after = true;
	}
	if (c->mode == BODY_LENGTH && c->content_length > c->max_body) {
		*why = too_large(c);
		return -1;
	}
	c->chunk_pos = c->hdr_end;
	return 1;
}

/* A streamed request's 200 hands its body to on_body; any other status
 * keeps it in r->body (etcd's error JSON). */
static bool streaming(const struct http_conn *c)
{
	return c->on_body != NULL && c->status == 200;
}

/* Decode what is complete of a chunked body. 1 done, 0 more, -1 error. */
static int parse_chunks(struct http_conn *c, const char **why)
{
	for (;;) {
		char *p = c->in.data + c->chunk_pos;
		char *eol, *stop;
		unsigned long long size;

		if (c->chunk_done) {
			/* Trailers end with an empty line. */
			if (c->in.len - c->chunk_pos >= 2 && p[0] == '\r' && p[1] == '\n')
				return 1;
			return strstr(p, "\r\n\r\n") ? 1 : 0;
		}
		eol = strstr(p, "\r\n");
		if (eol == NULL)
			return c->in.len - c->chunk_pos > 1024 ? (*why = _("malformed chunk"), -1) : 0;
		errno = 0;
		size = strtoull(p, &stop, 16);
		if (errno != 0 || stop == p || (*stop != ';' && *stop != '\r' && *stop != ' ')) {
			*why = _("malformed chunk size");
			return -1;
		}
		if (!streaming(c) && (size > c->max_body || c->body.len + size > c->max_body)) {
			*why = too_large(c);
			return -1;
		}
		if (streaming(c) && size > HTTP_STREAM_MAX_CHUNK) {
			*why = _("response chunk too large");
			return -1;
		}
		if (size == 0) {
			c->chunk_done = true;
			c->chunk_pos = (size_t)(eol - c->in.data) + 2;
			continue;
		}
		if ((size_t)(c->in.data + c->in.len - (eol + 2)) < size + 2)
			return 0;
		if (eol[2 + size] != '\r' || eol[3 + size] != '\n') {
			*why = _("malformed chunk");
			return -1;
		}
		if (streaming(c)) {
			if (!c->on_body(eol + 2, (size_t)size, c->body_ud)) {
				*why = _("the receiver stopped reading");
				return -1;
			}
			/* Consumed: keep only the headers and what follows. */
			c->chunk_pos = (size_t)(eol + 2 + size + 2 - c->in.data);
			memmove(c->in.data + c->hdr_end, c->in.data + c->chunk_pos, c->in.len - c->chunk_pos);
			c->in.len = c->hdr_end + (c->in.len - c->chunk_pos);
			c->in.data[c->in.len] = '\0';
			c->chunk_pos = c->hdr_end;
			continue;
		}
		buf_append(&c->body, eol + 2, (size_t)size);
		c->chunk_pos = (size_t)(eol + 2 + size + 2 - c->in.data);
	}
}

/* 1 the response is complete, 0 more needed, -1 error. */
static int parse_response(struct http_conn *c, const char **why)
{
	int rc;

	for (;;) {
		if (c->hdr_end == 0) {
			rc = parse_headers(c, why);
			if (rc <= 0)
				return rc;
			if (c->status < 200) {
				/* 1xx: drop it and read the real one. */
				size_t rest = c->in.len - c->hdr_end;

				memmove(c->in.data, c->in.data + c->hdr_end, rest);
				c->in.len = rest;
				c->in.data[rest] = '\0';
				c->hdr_end = 0;
				continue;
			}
		}
		break;
	}
	switch (c->mode) {
	case BODY_NONE:
		return 1;
	case BODY_LENGTH:
		if (c->in.len - c->hdr_end < c->content_length)
			return 0;
		buf_reset(&c->body);
		buf_append(&c->body, c->in.data + c->hdr_end, c->content_length);
		return 1;
	case BODY_CHUNKED:
		return parse_chunks(c, why);
	case BODY_CLOSE:
		if (c->in.len - c->hdr_end > c->max_body) {
			*why = too_large(c);
			return -1;
		}
		if (!c->peer_eof)
			return 0;
		buf_reset(&c->body);
		buf_append(&c->body, c->in.data + c->hdr_end, c->in.len - c->hdr_end);
		return 1;
	}
	return -1;
}

unsigned char *http_conn_peer_cert(const struct http_conn *c, size_t *len)
{
	const gnutls_datum_t *list;
	unsigned n = 0;
	unsigned char *der;

	*len = 0;
	if (c->tls == NULL || (list = gnutls_certificate_get_peers(c->tls, &n)) == NULL || n == 0)
		return NULL;
	der = xmalloc(list[0].size ? list[0].size : 1);
	memcpy(der, list[0].data, list[0].size);
	*len = list[0].size;
	return der;
}

static void tls_failed(struct http_conn *c, int rc)
{
	if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		gnutls_datum_t out = { NULL, 0 };
		unsigned status = gnutls_session_get_verify_cert_status(c->tls);

		gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0);
		fail(c, WIZ_ERR_TLS, _("%s: the server's certificate is not accepted: %s"),
		     out.data ? (const char *)out.data : gnutls_strerror(rc));
		gnutls_free(out.data);
	} else if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED || rc == GNUTLS_E_CERTIFICATE_REQUIRED) {
		fail(c, WIZ_ERR_TLS,
		     _("%s: the server refused the TLS connection (%s); is the client certificate signed by the cluster's etcd-ca?"),
		     rc == GNUTLS_E_FATAL_ALERT_RECEIVED
			     ? gnutls_alert_get_name(gnutls_alert_get(c->tls))
			     : gnutls_strerror(rc));
	} else {
		fail(c, WIZ_ERR_TLS, _("%s: TLS: %s"), gnutls_strerror(rc));
	}
}

/* A bound on reading again at once (each such read consumes a record). */
#define TLS_REREADS_MAX 64

/* One read from TLS or the stream: >0, 0 EOF, -1 would block, -2 failed
 * (already reported), -3 read again now. */
static ssize_t conn_read(struct http_conn *c, char *buf, size_t len)
{
	ssize_t n;

	if (c->tls) {
		c->pull_blocked = false;
		n = gnutls_record_recv(c->tls, buf, len);
		if (n >= 0) {
			c->tls_rereads = 0;
			return n;
		}
		/* After a post-handshake message (TLS 1.3's session ticket)
		 * GnuTLS says "again" although the bytes behind it may be here
		 * already, read from the stream with it: no more will come to
		 * wake us for them, so read on now, unless the stream itself
		 * had nothing. */
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			if (!c->pull_blocked && c->tls_rereads < TLS_REREADS_MAX) {
				c->tls_rereads++;
				return -3;
			}
			c->tls_rereads = 0;
			return -1;
		}
		if (n == GNUTLS_E_PREMATURE_TERMINATION)
			return 0;
		tls_failed(c, (int)n);
		return -2;
	}
	n = c->stream.ops->read(c->stream.ctx, buf, len);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return -1;
	fail(c, WIZ_ERR_IO, _("%s: read: %s"), strerror(errno));
	return -2;
}

static ssize_t conn_write(struct http_conn *c, const char *buf, size_t len)
{
	ssize_t n;

	if (c->tls) {
		n = gnutls_record_send(c->tls, buf, len);
		if (n >= 0)
			return n;
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			return -1;
		tls_failed(c, (int)n);
		return -2;
	}
	n = c->stream.ops->write(c->stream.ctx, buf, len);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return -1;
	fail(c, WIZ_ERR_IO, _("%s: write: %s"), strerror(errno));
	return -2;
}

/* One step; false when it would block or nothing is left to do. */
static bool step(struct http_conn *c)
{
	char tmp[16384];
	ssize_t n;

	switch (c->state) {
	case HTTP_HANDSHAKE: {
		int rc = gnutls_handshake(c->tls);

		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
			return false;
		if (rc < 0) {
			tls_failed(c, rc);
			return false;
		}
		log_debug("http", "%s: %s", c->name, gnutls_protocol_get_name(gnutls_protocol_get_version(c->tls)));
		set_state(c, c->pending ? HTTP_SENDING : HTTP_IDLE);
		return true;
	}
	case HTTP_IDLE:
		if (c->pending) {
			set_state(c, HTTP_SENDING);
			return true;
		}
		return false;
	case HTTP_SENDING:
		n = conn_write(c, c->out.data + c->out_off, c->out.len - c->out_off);
		if (n < 0)
			return false;
		c->out_off += (size_t)n;
		if (c->out_off == c->out.len) {
			start_response(c);
			set_state(c, HTTP_RECEIVING);
		}
		return true;
	case HTTP_RECEIVING: {
		const char *why = NULL;
		int rc;

		n = conn_read(c, tmp, sizeof tmp);
		if (n == -3)
			return true;
		if (n == -1 || n == -2)
			return false;
		if (n == 0)
			c->peer_eof = true;
		else
			buf_append(&c->in, tmp, (size_t)n);
		rc = parse_response(c, &why);
		if (rc < 0) {
			fail(c, WIZ_ERR_PARSE, "%s: %s", why);
			return false;
		}
		if (rc == 1) {
			complete(c, WIZ_ERR_OK, NULL);
			return true;
		}
		if (c->peer_eof) {
			fail(c, WIZ_ERR_IO, "%s: %s",
			     _("the connection closed before the response was complete"));
			return false;
		}
		return true;
	}
	case HTTP_CLOSED:
	case HTTP_STATE_COUNT:
		break;
	}
	return false;
}

void http_conn_progress(struct http_conn *c)
{
	if (c->in_progress)
		return;
	c->in_progress = true;
	while (!c->free_pending && step(c))
		;
	c->in_progress = false;
	if (c->free_pending)
		really_free(c);
}
