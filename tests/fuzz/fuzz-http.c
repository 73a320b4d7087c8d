/* libFuzzer target: the HTTP/1.1 response parser (status line, headers,
 * Content-Length, chunked and read-until-close bodies, the streamed form
 * a snapshot uses), over plain HTTP as the metrics port speaks it. The
 * first byte picks the request kind and the size of each read, so that
 * an answer arrives in pieces as it does from an SSH channel. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etcd/http-tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct feed {
	const uint8_t *data;
	size_t len, at, piece;
	bool stalled;		/* one EAGAIN between pieces */
};

static ssize_t feed_read(void *ctx, void *buf, size_t len)
{
	struct feed *f = ctx;
	size_t n;

	if (f->at >= f->len)
		return 0;
	if (f->stalled) {
		f->stalled = false;
		errno = EAGAIN;
		return -1;
	}
	n = f->len - f->at;
	if (n > f->piece)
		n = f->piece;
	if (n > len)
		n = len;
	memcpy(buf, f->data + f->at, n);
	f->at += n;
	f->stalled = true;
	return (ssize_t)n;
}

static ssize_t feed_write(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	return (ssize_t)len;
}

static const struct byte_stream_ops feed_ops = { feed_read, feed_write };

static void done(struct http_conn *c, enum wiz_err rc, const struct http_response *r,
		 const struct wiz_error *err, void *ud)
{
	(void)c;
	(void)rc;
	(void)r;
	(void)err;
	*(bool *)ud = true;
}

static bool body(const char *d, size_t len, void *ud)
{
	(void)d;
	(void)ud;
	return len < 1000000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed f = { 0 };
	struct http_conn_opts o = { 0 };
	struct http_conn *c;
	bool finished = false;

	if (size < 1)
		return 0;
	f.data = data + 1;
	f.len = size - 1;
	f.piece = (size_t)(data[0] & 0x7f) + 1;
	o.stream = (struct byte_stream){ &feed_ops, &f };
	o.server_name = "127.0.0.1";
	o.max_body = 64 * 1024;
	c = http_conn_new(&o);
	if ((data[0] & 0x80) != 0)
		http_conn_request_stream(c, "POST", "/v3/maintenance/snapshot", "{}", body, done, &finished);
	else
		http_conn_request(c, "GET", "/metrics", NULL, done, &finished);
	/* Each call reads until EAGAIN: bounded by the input's pieces. */
	for (size_t i = 0; i <= f.len + 2 && !finished && http_conn_state(c) != HTTP_CLOSED; i++)
		http_conn_progress(c);
	if (!finished)
		http_conn_abort(c, WIZ_ERR_TIMEOUT, "fuzz: the input ended");
	http_conn_free(c);
	return 0;
}
