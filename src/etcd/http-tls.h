/* A minimal HTTP/1.1 client (GET, POST with a JSON body; Content-Length,
 * chunked and read-until-close responses; keep-alive) over GnuTLS or plain,
 * on an abstract non-blocking byte stream (STYLE.md §3, §7.20). GnuTLS's
 * push/pull callbacks map EAGAIN to gnutls_transport_set_errno, so the same
 * code runs over an SSH direct-tcpip channel (struct ssh_stream), a
 * non-blocking socket (--direct) or an in-memory pipe in the unit tests.
 *
 * Nothing blocks: http_conn_progress() runs the state machine until the
 * stream says EAGAIN; the owner calls it again when the stream may have
 * moved (ssh_stream_set_notify, a loop_io callback, the test's pump) and
 * enforces deadlines by calling http_conn_abort() from a loop timer.
 * States: handshake -> idle -> sending -> receiving -> idle ... closed. */
#ifndef WIZ_HTTP_TLS_H
#define WIZ_HTTP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"

/* read()/write() semantics: >0 bytes, 0 = EOF (read only), -1 with errno
 * EAGAIN when it would block, any other errno on failure. */
struct byte_stream_ops {
	ssize_t (*read)(void *ctx, void *buf, size_t len);
	ssize_t (*write)(void *ctx, const void *buf, size_t len);
};

struct byte_stream {
	const struct byte_stream_ops *ops;
	void *ctx;
};

/* ctx = (void *)(intptr_t)fd of a non-blocking socket. */
extern const struct byte_stream_ops byte_stream_fd_ops;
/* ctx = struct ssh_stream * (src/ssh/ssh.h). */
extern const struct byte_stream_ops byte_stream_ssh_ops;

/* The CA to trust and the client certificate (healthcheck-client), loaded
 * once from PEM files and shared by every connection. */
struct http_tls_creds;

enum wiz_err http_tls_creds_load(const char *ca_file, const char *cert_file,
				 const char *key_file, struct http_tls_creds **out,
				 struct wiz_error *err);
void http_tls_creds_free(struct http_tls_creds *c);

#define HTTP_STATE_INFO(_)            \
	_(HANDSHAKE, "handshake")     \
	_(IDLE, "idle")               \
	_(SENDING, "sending")         \
	_(RECEIVING, "receiving")     \
	_(CLOSED, "closed")

enum http_state {
#define HTTP_STATE_ENUM(id, name) HTTP_##id,
	HTTP_STATE_INFO(HTTP_STATE_ENUM)
#undef HTTP_STATE_ENUM
	HTTP_STATE_COUNT
};

const char *http_state_name(enum http_state st);

struct http_response {
	int status;		/* 200, 503, ... */
	char *body;		/* NUL-terminated for convenience */
	size_t body_len;
	bool chunked;		/* the body came chunked */
};

struct http_conn;

/* Exactly one call per request. r is valid only during the call (NULL on
 * error); err explains the error. The callback may start the next request
 * or free the connection. */
typedef void (*http_done_fn)(struct http_conn *c, enum wiz_err rc,
			     const struct http_response *r,
			     const struct wiz_error *err, void *ud);

struct http_conn_opts {
	struct byte_stream stream;	/* not owned */
	struct http_tls_creds *creds;	/* NULL = plain HTTP (the metrics port) */
	const char *server_name;	/* the name (or IP) the certificate must carry */
	const char *host_header;	/* "10.0.0.1:2379"; NULL = server_name */
	size_t max_body;		/* 0 = 8 MiB */
	const char *log_name;		/* for the debug log; NULL = server_name */
};

/* Starts the TLS handshake (first progress happens here). */
struct http_conn *http_conn_new(const struct http_conn_opts *o);
/* Queue one request; only one may be outstanding (USAGE otherwise),
 * CANCELLED if the connection is closed. body may be NULL (GET). */
enum wiz_err http_conn_request(struct http_conn *c, const char *method,
			       const char *path, const char *body,
			       http_done_fn cb, void *ud);
/* The same, for a large answer (a snapshot): when the status is 200 and
 * the body is chunked, each chunk goes to on_body as it arrives (the
 * answer's r->body is then empty, and max_body does not apply); returning
 * false ends the request with an error. Any other status or body framing
 * is kept in r->body as for http_conn_request. ud is passed to both. */
typedef bool (*http_body_fn)(const char *data, size_t len, void *ud);
#define HTTP_STREAM_MAX_CHUNK (16u * 1024 * 1024)
enum wiz_err http_conn_request_stream(struct http_conn *c, const char *method, const char *path,
				      const char *body, http_body_fn on_body, http_done_fn cb,
				      void *ud);
/* Run until the stream would block. */
void http_conn_progress(struct http_conn *c);
/* Give up: the outstanding request (if any) completes with code; the
 * connection is closed. */
void http_conn_abort(struct http_conn *c, enum wiz_err code, const char *msg);
enum http_state http_conn_state(const struct http_conn *c);
/* The direction GnuTLS/HTTP waits for: true = writing (for POLLOUT). */
bool http_conn_wants_write(const struct http_conn *c);
/* The certificate the server presented (its leaf, DER), once the
 * handshake is done: a copy the caller frees, or NULL (plain HTTP, no
 * handshake yet). */
unsigned char *http_conn_peer_cert(const struct http_conn *c, size_t *len);
/* Safe inside the callback. Sends nothing (no close_notify): the stream
 * belongs to the caller. */
void http_conn_free(struct http_conn *c);

#endif
