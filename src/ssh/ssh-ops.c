/* Operations on a READY session: exec channels (commands, uploads, file
 * reads, with the sudo password handshake) and direct-tcpip streams. Each
 * operation is a small state machine advanced by the session's drive. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/shquote.h"
#include "base/xmalloc.h"
#include "ssh/ssh-internal.h"

#define MAX_CHANNELS 8		/* below sshd's MaxSessions (10) */
#define DEF_MAX_OUTPUT (16u << 20)
#define WRITE_CHUNK (256u << 10)
#define KILL_GRACE_S 5u

const char *const ssh_op_state_names[] = {
#define SSH_OP_STATE_NAME(id, name) name,
	SSH_OP_STATE_INFO(SSH_OP_STATE_NAME)
#undef SSH_OP_STATE_NAME
};

enum opstep { OP_PROGRESS, OP_BLOCKED };

static void op_set_state(struct ssh_op *op, enum ssh_op_state st)
{
	if (op->state == st)
		return;
	log_debug("ssh", "%s: op %u %s: [%s] -> [%s]", op->s->name, op->id,
		  op->label, ssh_op_state_names[op->state],
		  ssh_op_state_names[st]);
	op->state = st;
}

static void buf_append(struct ssh_buf *b, const char *data, size_t n)
{
	if (b->len + n > b->max) {
		b->truncated = true;
		n = b->max > b->len ? b->max - b->len : 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xreallocarray(b->data, cap, 1);
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void buf_cut(struct ssh_buf *b, size_t off, size_t n)
{
	memmove(b->data + off, b->data + off + n, b->len - off - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

static void reap_channel(struct ssh_session *s, LIBSSH2_CHANNEL *ch)
{
	if (ch == NULL || s->ssh == NULL)
		return;
	if (libssh2_channel_free(ch) == LIBSSH2_ERROR_EAGAIN) {
		s->reap = xreallocarray(s->reap, s->n_reap + 1, sizeof(void *));
		s->reap[s->n_reap++] = ch;
	}
}

static void reap_pending(struct ssh_session *s)
{
	size_t j = 0;

	for (size_t i = 0; i < s->n_reap; i++)
		if (libssh2_channel_free(s->reap[i]) == LIBSSH2_ERROR_EAGAIN)
			s->reap[j++] = s->reap[i];
	s->n_reap = j;
}

/* ---- lifecycle ---- */

static void op_unlink(struct ssh_op *op)
{
	struct ssh_op **pp = &op->s->ops;

	while (*pp != NULL && *pp != op)
		pp = &(*pp)->next;
	if (*pp == op)
		*pp = op->next;
	op->next = NULL;
}

/* Move op to the done list with code (when not already failed). The
 * callback runs at the end of the session's drive. */
static void op_finish(struct ssh_op *op, enum wiz_err code)
{
	struct ssh_session *s = op->s;
	struct ssh_op **tail = &s->done;

	if (op->r.code == WIZ_ERR_OK && code != WIZ_ERR_OK)
		op->r.code = code;
	if (code != WIZ_ERR_OK && (op->state == OPS_QUEUED || op->state == OPS_OPEN))
		op->r.not_sent = true;
	if (s->opener == op) {
		/* Ended while libssh2 waits for its channel: the session
		 * finishes that open (open_orphan) before another starts. */
		s->opener = NULL;
		s->orphan_open = true;
		s->orphan_tunnel = op->kind == OP_TUNNEL;
		free(s->orphan_host);
		s->orphan_host = op->thost ? xstrdup(op->thost) : NULL;
		s->orphan_port = op->tport;
	}
	if (op->ch != NULL) {
		reap_channel(s, op->ch);
		op->ch = NULL;
	}
	if (op->pw_out != NULL) {
		wiz_free_secret(op->pw_out, op->pw_len);
		op->pw_out = NULL;
	}
	op->r.elapsed_ms = op->start ? loop_now() - op->start : 0;
	op_set_state(op, OPS_DONE);
	op_unlink(op);
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = op;
	ssh_session_kick(s);
}

static enum wiz_err op_error(struct ssh_op *op, enum wiz_err code,
			     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum wiz_err op_error(struct ssh_op *op, enum wiz_err code,
			     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	op->r.code = code;
	op->r.err.code = code;
	vsnprintf(op->r.err.msg, sizeof op->r.err.msg, fmt, ap);
	va_end(ap);
	op_finish(op, code);
	return code;
}

/* A libssh2 failure inside an operation: connection-level ones take the
 * whole session down (and with it every operation). */
static enum opstep op_lib_fail(struct ssh_op *op, int rc, const char *what)
{
	struct ssh_session *s = op->s;
	struct wiz_error e;

	ssh_lib_error(s, rc, what, &e);
	if (e.code == WIZ_ERR_UNREACHABLE || rc == LIBSSH2_ERROR_KEX_FAILURE) {
		ssh_session_fail(s, e.code, "%s", e.msg);
		return OP_PROGRESS;
	}
	op_error(op, e.code, "%s", e.msg);
	return OP_PROGRESS;
}

void ssh_ops_run_callbacks(struct ssh_session *s)
{
	while (s->done != NULL) {
		struct ssh_op *op = s->done;

		s->done = op->next;
		if (op->r.code != WIZ_ERR_OK && op->r.err.code == WIZ_ERR_OK)
			wiz_error_set(&op->r.err, op->r.code, "%s: %s", s->name,
				      wiz_err_name(op->r.code));
		log_debug("ssh", "%s: op %u %s: %s (%s) exit %d%s%s in %llu ms",
			  s->name, op->id, op->label, wiz_err_name(op->r.code),
			  op->r.code ? op->r.err.msg : "ok", op->r.exit_status,
			  op->r.exit_signal[0] ? " signal " : "", op->r.exit_signal,
			  (unsigned long long)op->r.elapsed_ms);
		op->r.out = op->out.data;
		op->r.out_len = op->out.len;
		op->r.errout = op->err.data;
		op->r.err_len = op->err.len;
		op->r.truncated = op->out.truncated || op->err.truncated;
		if (op->r.out == NULL)
			op->r.out = xcalloc(1, 1);
		if (op->r.errout == NULL)
			op->r.errout = xcalloc(1, 1);
		op->out.data = op->err.data = NULL;
		if (op->cb != NULL)
			op->cb(op, &op->r, op->ud);
		else if (op->r.stream != NULL)
			ssh_stream_close(op->r.stream);	/* detached: nobody takes it */
		free(op->r.out);
		free(op->r.errout);
		free(op->label);
		free(op->cmd);
		free(op->thost);
		free(op);
	}
}

void ssh_ops_fail_all(struct ssh_session *s, enum wiz_err code,
		      const struct wiz_error *err)
{
	/* The transport is gone or going: libssh2 frees the channels, and
	 * no open is to be finished. */
	s->opener = NULL;
	while (s->ops != NULL) {
		struct ssh_op *op = s->ops;

		op->ch = NULL;
		op->r.code = code;
		op->r.err = *err;
		op->r.err.code = code;
		op_finish(op, code);
	}
	while (s->streams != NULL) {
		struct ssh_stream *st = s->streams;

		s->streams = st->next;
		st->next = NULL;
		st->ch = NULL;
		st->s = NULL;
		st->closed = true;
	}
}

bool ssh_ops_active(const struct ssh_session *s)
{
	return s->ops != NULL || s->streams != NULL;
}

uint64_t ssh_ops_next_deadline(const struct ssh_session *s)
{
	uint64_t when = 0;

	for (const struct ssh_op *op = s->ops; op != NULL; op = op->next)
		if (op->state != OPS_QUEUED && op->state != OPS_SUDO_ASK &&
		    op->deadline && (!when || op->deadline < when))
			when = op->deadline;
	return when;
}

/* ---- sudo ---- */

static void sudo_ask(struct ssh_op *op)
{
	struct ssh_session *s = op->s;
	struct ssh_secret_request req = {
		.kind = SSH_SECRET_SUDO, .name = s->name, .user = s->user,
	};

	op_set_state(op, OPS_SUDO_ASK);
	if (s->sudo_asking)
		return;
	s->sudo_asking = true;
	s->ask = ASK_SUDO;
	req.attempt = ++s->sudo_attempt;
	log_debug("ssh", "%s: asking for the sudo password", s->name);
	s->ctx->cb.secret_needed(s, &req, s->ctx->cb.ud);
}

static void sudo_queue_password(struct ssh_op *op)
{
	const char *pw = op->s->sudo_password;

	op->pw_len = strlen(pw) + 1;
	op->pw_out = xmalloc(op->pw_len + 1);
	memcpy(op->pw_out, pw, op->pw_len - 1);
	op->pw_out[op->pw_len - 1] = '\n';
	op->pw_out[op->pw_len] = '\0';
	op->pw_off = 0;
}

void ssh_ops_sudo_answered(struct ssh_session *s)
{
	for (struct ssh_op *op = s->ops, *next; op != NULL; op = next) {
		next = op->next;
		if (op->state != OPS_SUDO_ASK)
			continue;
		if (s->sudo_password == NULL) {
			op_error(op, WIZ_ERR_AUTH,
				 _("%s: sudo needs the password of %s, and none was given"),
				 s->name, s->user);
			continue;
		}
		sudo_queue_password(op);
		op->deadline = loop_now() + op->timeout_ms;
		op_set_state(op, OPS_IO);
	}
}

static void sudo_wrong_password(struct ssh_op *op)
{
	struct ssh_session *s = op->s;

	if (s->sudo_password != NULL) {
		wiz_free_secret(s->sudo_password, strlen(s->sudo_password));
		s->sudo_password = NULL;
	}
	op_error(op, WIZ_ERR_AUTH, _("%s: sudo: wrong password for %s"), s->name,
		 s->user);
}

/* Look at what sudo printed so far; returns false when op finished. */
static bool sudo_scan(struct ssh_op *op)
{
	size_t ml = strlen(op->ok_marker), pl = strlen(op->prompt_marker);
	char *hit;

	if (!op->ok_seen && op->out.len >= ml + 1) {
		if (memcmp(op->out.data, op->ok_marker, ml) == 0 &&
		    op->out.data[ml] == '\n') {
			op->ok_seen = true;
			buf_cut(&op->out, 0, ml + 1);
			log_debug("ssh", "%s: op %u: sudo accepted", op->s->name,
				  op->id);
		}
	}
	while (op->err.data != NULL &&
	       (hit = memmem(op->err.data + op->err_scan,
			     op->err.len - op->err_scan, op->prompt_marker,
			     pl)) != NULL) {
		size_t off = (size_t)(hit - op->err.data);

		buf_cut(&op->err, off, pl);
		op->err_scan = off;
		op->prompts++;
		if (op->prompts > 1) {
			sudo_wrong_password(op);
			return false;
		}
		if (op->s->sudo_password != NULL) {
			sudo_queue_password(op);
		} else if (op->s->ctx->cb.secret_needed != NULL) {
			sudo_ask(op);
			return true;
		} else {
			op_error(op, WIZ_ERR_AUTH,
				 _("%s: sudo needs the password of %s; run interactively or give the sudo password"),
				 op->s->name, op->s->user);
			return false;
		}
	}
	if (op->err.data != NULL &&
	    memmem(op->err.data, op->err.len, "Sorry, try again.", 17) != NULL) {
		sudo_wrong_password(op);
		return false;
	}
	return true;
}

/* ---- exec channel steps ---- */

static enum opstep op_read(struct ssh_op *op, int stream, struct ssh_buf *b,
			   bool *eof, bool *progress)
{
	char buf[32768];

	for (;;) {
		ssize_t n = libssh2_channel_read_ex(op->ch, stream, buf, sizeof buf);

		if (n > 0) {
			buf_append(b, buf, (size_t)n);
			*progress = true;
			continue;
		}
		if (n == 0) {
			*eof = true;
			return OP_BLOCKED;
		}
		if (n == LIBSSH2_ERROR_EAGAIN)
			return OP_BLOCKED;
		return op_lib_fail(op, (int)n, _("reading from the channel"));
	}
}

static bool op_write_all(struct ssh_op *op, bool *progress, bool *failed)
{
	/* The sudo password first (it never goes anywhere but here). */
	while (op->pw_out != NULL && op->pw_off < op->pw_len) {
		ssize_t n = libssh2_channel_write_ex(op->ch, 0, op->pw_out + op->pw_off,
						     op->pw_len - op->pw_off);

		if (n == LIBSSH2_ERROR_EAGAIN)
			return false;
		if (n < 0) {
			op_lib_fail(op, (int)n, _("writing to the channel"));
			*failed = true;
			return false;
		}
		op->pw_off += (size_t)n;
		*progress = true;
		if (op->pw_off == op->pw_len) {
			wiz_free_secret(op->pw_out, op->pw_len);
			op->pw_out = NULL;
		}
	}
	if (op->sudo && !op->ok_seen)
		return false;	/* stdin belongs to sudo until it said yes */
	while (op->in_off < op->in_len) {
		size_t chunk = op->in_len - op->in_off;
		ssize_t n;

		if (chunk > WRITE_CHUNK)
			chunk = WRITE_CHUNK;
		n = libssh2_channel_write_ex(op->ch, 0,
					     (const char *)op->in + op->in_off, chunk);
		if (n == LIBSSH2_ERROR_EAGAIN)
			return false;
		if (n < 0) {
			op_lib_fail(op, (int)n, _("writing to the channel"));
			*failed = true;
			return false;
		}
		op->in_off += (size_t)n;
		*progress = true;
	}
	if (!op->eof_sent) {
		int rc = libssh2_channel_send_eof(op->ch);

		if (rc == LIBSSH2_ERROR_EAGAIN)
			return false;
		if (rc < 0) {
			op_lib_fail(op, rc, _("closing stdin"));
			*failed = true;
			return false;
		}
		op->eof_sent = true;
		*progress = true;
	}
	return true;
}

static void op_collect_exit(struct ssh_op *op)
{
	char *sig = NULL;
	size_t siglen = 0;

	op->r.exit_status = libssh2_channel_get_exit_status(op->ch);
	if (libssh2_channel_get_exit_signal(op->ch, &sig, &siglen, NULL, NULL,
					    NULL, NULL) == 0 &&
	    sig != NULL) {
		snprintf(op->r.exit_signal, sizeof op->r.exit_signal, "%.*s",
			 (int)siglen, sig);
		op->r.exit_status = -1;
	}
	if (sig != NULL)
		libssh2_free(op->s->ssh, sig);
}

static void tail_of(const struct ssh_buf *b, char *out, size_t outlen)
{
	size_t len = b->len;
	const char *p = b->data ? b->data : "";

	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (len > outlen - 1) {
		p += len - (outlen - 1);
		len = outlen - 1;
	}
	memcpy(out, p, len);
	out[len] = '\0';
}

/* The upload script's exit status when the target's directory is missing. */
#define UPLOAD_NO_DIR_STATUS 3

static void op_complete(struct ssh_op *op)
{
	struct ssh_session *s = op->s;
	char tail[400];
	bool failed = op->r.exit_status != 0 || op->r.exit_signal[0];

	tail_of(&op->err, tail, sizeof tail);
	if (op->sudo && !op->ok_seen) {
		op_error(op, WIZ_ERR_AUTH, _("%s: sudo as %s failed: %s"), s->name,
			 s->user, tail[0] ? tail : _("no reason given"));
		return;
	}
	if (op->is_upload && op->r.exit_status == UPLOAD_NO_DIR_STATUS) {
		const char *path = op->label + 7;
		const char *slash = strrchr(path, '/');

		op_error(op, WIZ_ERR_NOTFOUND,
			 _("%s: cannot write %s: the directory %.*s does not exist there"),
			 s->name, path, (int)(slash > path ? slash - path : 1), path);
		return;
	}
	if (op->is_upload && failed) {
		op_error(op, WIZ_ERR_REMOTE, _("%s: upload of %s failed: %s"),
			 s->name, op->label + 7, tail[0] ? tail : "?");
		return;
	}
	if (op->is_read) {
		if (failed) {
			op_error(op, WIZ_ERR_REMOTE, _("%s: cannot read %s: %s"),
				 s->name, op->label + 5, tail[0] ? tail : "?");
			return;
		}
		if (op->out.truncated) {
			op_error(op, WIZ_ERR_INVALID,
				 _("%s: %s is larger than %zu bytes"), s->name,
				 op->label + 5, op->out.max);
			return;
		}
	}
	if (op->check && failed) {
		if (op->r.exit_signal[0])
			op_error(op, WIZ_ERR_REMOTE,
				 _("%s: `%s` was killed by signal %s: %s"), s->name,
				 op->label, op->r.exit_signal, tail);
		else
			op_error(op, WIZ_ERR_REMOTE,
				 _("%s: `%s` exited with status %d: %s"), s->name,
				 op->label, op->r.exit_status, tail);
		return;
	}
	op_finish(op, WIZ_ERR_OK);
}

/* Whether op may call libssh2's channel open now (see s->opener); it is
 * the opener from now until that call stops saying EAGAIN. */
static bool open_turn(struct ssh_op *op)
{
	struct ssh_session *s = op->s;

	if (s->orphan_open || (s->opener != NULL && s->opener != op))
		return false;
	s->opener = op;
	return true;
}

/* The open an ended operation left in libssh2: call it again until it is
 * done, then free its channel. True when it moved on. */
static bool open_orphan(struct ssh_session *s)
{
	LIBSSH2_CHANNEL *ch;

	if (!s->orphan_open)
		return false;
	ch = s->orphan_tunnel
		? libssh2_channel_direct_tcpip_ex(s->ssh, s->orphan_host ? s->orphan_host : "",
						  s->orphan_port, "127.0.0.1", 0)
		: libssh2_channel_open_session(s->ssh);
	if (ch == NULL && libssh2_session_last_errno(s->ssh) == LIBSSH2_ERROR_EAGAIN)
		return false;
	reap_channel(s, ch);
	s->orphan_open = false;
	free(s->orphan_host);
	s->orphan_host = NULL;
	return true;
}

static enum opstep op_step_exec(struct ssh_op *op)
{
	struct ssh_session *s = op->s;
	int rc;

	switch (op->state) {
	case OPS_OPEN:
		if (!open_turn(op))
			return OP_BLOCKED;
		op->ch = libssh2_channel_open_session(s->ssh);
		if (op->ch == NULL) {
			rc = libssh2_session_last_errno(s->ssh);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return OP_BLOCKED;
			s->opener = NULL;
			return op_lib_fail(op, rc, _("opening a channel"));
		}
		s->opener = NULL;
		op_set_state(op, OPS_EXEC);
		return OP_PROGRESS;
	case OPS_EXEC:
		rc = libssh2_channel_exec(op->ch, op->cmd);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return OP_BLOCKED;
		if (rc != 0)
			return op_lib_fail(op, rc, _("starting the command"));
		op_set_state(op, OPS_IO);
		return OP_PROGRESS;
	case OPS_IO: {
		bool progress = false, eof_out = false, eof_err = false;
		bool failed = false, wrote;

		if (op_read(op, 0, &op->out, &eof_out, &progress) == OP_PROGRESS)
			return OP_PROGRESS;
		if (op_read(op, SSH_EXTENDED_DATA_STDERR, &op->err, &eof_err,
			    &progress) == OP_PROGRESS)
			return OP_PROGRESS;
		if (op->sudo && !sudo_scan(op))
			return OP_PROGRESS;
		if (op->state != OPS_IO)
			return OP_PROGRESS;	/* asking for the password */
		if (op->on_output != NULL && (!op->sudo || op->ok_seen) &&
		    op->out.len > op->out_reported) {
			op->out_reported = op->out.len;
			op->on_output(op->out.data, op->out.len, op->on_output_ud);
		}
		wrote = op_write_all(op, &progress, &failed);
		if (failed)
			return OP_PROGRESS;
		(void)wrote;
		if (eof_out && eof_err && libssh2_channel_eof(op->ch)) {
			op_set_state(op, OPS_CLOSE);
			return OP_PROGRESS;
		}
		return progress ? OP_PROGRESS : OP_BLOCKED;
	}
	case OPS_CLOSE:
		rc = libssh2_channel_close(op->ch);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return OP_BLOCKED;
		if (rc != 0)
			return op_lib_fail(op, rc, _("closing the channel"));
		op_set_state(op, OPS_WAIT_CLOSED);
		return OP_PROGRESS;
	case OPS_WAIT_CLOSED:
		rc = libssh2_channel_wait_closed(op->ch);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return OP_BLOCKED;
		op_collect_exit(op);
		op_set_state(op, OPS_FREE);
		return OP_PROGRESS;
	case OPS_FREE:
		rc = libssh2_channel_free(op->ch);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return OP_BLOCKED;
		op->ch = NULL;
		op_complete(op);
		return OP_PROGRESS;
	default:
		return OP_BLOCKED;
	}
}

static enum opstep op_step_tunnel(struct ssh_op *op)
{
	struct ssh_session *s = op->s;
	LIBSSH2_CHANNEL *ch;
	struct ssh_stream *st;

	if (!open_turn(op))
		return OP_BLOCKED;
	ch = libssh2_channel_direct_tcpip_ex(s->ssh, op->thost, op->tport,
					     "127.0.0.1", 0);
	if (ch == NULL) {
		int rc = libssh2_session_last_errno(s->ssh);

		if (rc == LIBSSH2_ERROR_EAGAIN)
			return OP_BLOCKED;
		s->opener = NULL;
		return op_lib_fail(op, rc, op->label);
	}
	s->opener = NULL;
	st = xcalloc(1, sizeof *st);
	st->s = s;
	st->ch = ch;
	st->next = s->streams;
	s->streams = st;
	op->r.stream = st;
	op_finish(op, WIZ_ERR_OK);
	return OP_PROGRESS;
}

static unsigned ops_running(const struct ssh_session *s)
{
	unsigned n = 0;

	for (const struct ssh_op *op = s->ops; op != NULL; op = op->next)
		if (op->state != OPS_QUEUED)
			n++;
	return n;
}

bool ssh_ops_drive(struct ssh_session *s)
{
	bool progress = false;
	uint64_t now = loop_now();
	struct ssh_op *op, *next;

	reap_pending(s);
	/* A stream whose reader is idle must not leave bytes unread on the
	 * socket (the loop would wake up for them forever): pump libssh2's
	 * transport, which queues whatever arrived per channel. */
	if (s->streams != NULL && s->streams->ch != NULL) {
		char dummy;
		ssize_t n = libssh2_channel_read_ex(s->streams->ch, 0, &dummy, 0);

		if (n < 0 && n != LIBSSH2_ERROR_EAGAIN &&
		    n != LIBSSH2_ERROR_CHANNEL_CLOSED && n != LIBSSH2_ERROR_CHANNEL_EOF_SENT) {
			struct wiz_error e;

			if (ssh_lib_error(s, (int)n, _("reading"), &e) == WIZ_ERR_UNREACHABLE) {
				ssh_session_fail(s, e.code, "%s", e.msg);
				return false;
			}
		}
	}
	if (open_orphan(s))
		progress = true;
	for (op = s->ops; op != NULL && s->state == SSH_S_READY; op = next) {
		enum opstep st;

		next = op->next;
		if (op->cancelled) {
			op_error(op, WIZ_ERR_CANCELLED, _("%s: %s: cancelled"),
				 s->name, op->label);
			progress = true;
			continue;
		}
		if (op->state == OPS_QUEUED) {
			if (ops_running(s) >= MAX_CHANNELS)
				continue;
			op->start = now;
			op->deadline = now + op->timeout_ms;
			op_set_state(op, OPS_OPEN);
		}
		if (op->state == OPS_SUDO_ASK)
			continue;
		if (now >= op->deadline) {
			op_error(op, WIZ_ERR_TIMEOUT,
				 _("%s: `%s` timed out after %u s"), s->name,
				 op->label, (op->timeout_ms + 999) / 1000);
			progress = true;
			continue;
		}
		st = op->kind == OP_TUNNEL ? op_step_tunnel(op) : op_step_exec(op);
		if (st == OP_PROGRESS)
			progress = true;
		else
			ssh_session_note_block(s);
		/* A failure of the session empties the list under us. */
		if (s->state != SSH_S_READY)
			return false;
	}
	return progress && s->state == SSH_S_READY;
}

bool ssh_ops_data_queued(struct ssh_session *s)
{
	for (struct ssh_op *op = s->ops; op != NULL; op = op->next)
		if (op->state == OPS_IO && op->ch != NULL &&
		    (libssh2_poll_channel_read(op->ch, 0) ||
		     libssh2_poll_channel_read(op->ch, 1)))
			return true;
	for (struct ssh_stream *st = s->streams; st != NULL; st = st->next)
		if (st->want_read && st->ch != NULL &&
		    (libssh2_poll_channel_read(st->ch, 0) || libssh2_channel_eof(st->ch)))
			return true;
	return false;
}

void ssh_streams_notify(struct ssh_session *s)
{
	for (struct ssh_stream *st = s->streams, *next; st != NULL; st = next) {
		next = st->next;
		if (st->notify != NULL)
			st->notify(st, st->notify_ud);
		if (s->state != SSH_S_READY)
			return;
	}
}

/* ---- starting operations ---- */

static struct ssh_op *op_new(struct ssh_session *s, enum ssh_op_kind kind,
			     char *label, unsigned timeout_ms, ssh_done_fn cb,
			     void *ud)
{
	struct ssh_op *op = xcalloc(1, sizeof *op);
	struct ssh_op **tail = &s->ops;

	op->s = s;
	op->id = ++s->ctx->next_op_id;
	op->kind = kind;
	op->label = label;
	op->timeout_ms = timeout_ms ? timeout_ms : s->t_op;
	op->cb = cb;
	op->ud = ud;
	op->r.exit_status = -1;
	op->out.max = op->err.max = DEF_MAX_OUTPUT;
	op->state = OPS_QUEUED;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = op;
	log_debug("ssh", "%s: op %u %s: queued", s->name, op->id, op->label);
	return op;
}

static void op_start(struct ssh_op *op)
{
	struct ssh_session *s = op->s;

	switch (s->state) {
	case SSH_S_READY:
		ssh_session_kick(s);
		break;
	case SSH_S_IDLE:
	case SSH_S_CLOSED:
		ssh_session_connect(s, NULL, NULL);
		break;
	case SSH_S_FAILED:
	case SSH_S_DISCONNECT:
		op->r.err = s->error;
		op_finish(op, s->error.code ? s->error.code : WIZ_ERR_SSH);
		break;
	default:
		break;	/* connecting: starts when READY */
	}
}

static char *label_of(const char *cmd)
{
	size_t n = strcspn(cmd, "\n");

	if (n > 60)
		return xasprintf("%.57s...", cmd);
	if (cmd[n] != '\0')
		return xasprintf("%.*s...", (int)n, cmd);
	return xstrdup(cmd);
}

/* The command line sent: `timeout` guard (the remote side dies even when
 * the channel is just dropped), sh -c for POSIX semantics whatever the
 * login shell, and for root work sudo with a random prompt marker. */
static void op_build_cmd(struct ssh_op *op, const char *script, bool as_root)
{
	struct ssh_session *s = op->s;
	unsigned secs = (op->timeout_ms + 999) / 1000 + 2;
	char *inner, *q, *guard;

	op->sudo = as_root && s->sudo;
	if (op->sudo) {
		char hex[33];

		ssh_random_hex(hex, 16);
		snprintf(op->prompt_marker, sizeof op->prompt_marker,
			 "[etcdwiz-sudo-%s]", hex);
		ssh_random_hex(hex, 16);
		snprintf(op->ok_marker, sizeof op->ok_marker, "etcdwiz-ok-%s", hex);
		inner = xasprintf("echo %s\n%s", op->ok_marker, script);
	} else {
		inner = xstrdup(script);
	}
	q = sh_quote(inner);
	guard = xasprintf("timeout -k %u %u sh -c %s", KILL_GRACE_S, secs, q);
	if (op->sudo) {
		char *pm = sh_quote(op->prompt_marker);

		op->cmd = xasprintf("sudo -S -p %s -- %s", pm, guard);
		free(pm);
		free(guard);
	} else {
		op->cmd = guard;
	}
	free(q);
	free(inner);
}

struct ssh_op *ssh_exec(struct ssh_session *s, const char *cmd,
			const struct ssh_exec_opts *opts, ssh_done_fn cb,
			void *ud)
{
	static const struct ssh_exec_opts none;
	struct ssh_op *op;

	if (opts == NULL)
		opts = &none;
	op = op_new(s, OP_EXEC, label_of(cmd), opts->timeout_ms, cb, ud);
	op->in = opts->input;
	op->in_len = opts->input ? opts->input_len : 0;
	op->check = opts->check;
	op->on_output = opts->on_output;
	op->on_output_ud = opts->on_output_ud;
	if (opts->max_output)
		op->out.max = op->err.max = opts->max_output;
	op_build_cmd(op, cmd, opts->as_root);
	op_start(op);
	return op;
}

struct ssh_op *ssh_upload(struct ssh_session *s,
			  const struct ssh_upload_opts *o, ssh_done_fn cb,
			  void *ud)
{
	unsigned char digest[32];
	char hex[65], *dir, *base, *script, *qdir, *qbase, *qpath, *chown_cmd;
	const char *slash = strrchr(o->path, '/');
	struct ssh_op *op;
	static const char hexd[] = "0123456789abcdef";

	op = op_new(s, OP_EXEC, xasprintf("upload %s", o->path), o->timeout_ms,
		    cb, ud);
	op->is_upload = true;
	if (o->path[0] != '/' || slash == NULL || slash[1] == '\0') {
		op_error(op, WIZ_ERR_INVALID,
			 _("%s: upload target %s is not an absolute file path"),
			 s->name, o->path);
		return op;
	}
	gnutls_hash_fast(GNUTLS_DIG_SHA256, o->data, o->len, digest);
	for (size_t i = 0; i < 32; i++) {
		hex[2 * i] = hexd[digest[i] >> 4];
		hex[2 * i + 1] = hexd[digest[i] & 15];
	}
	hex[64] = '\0';
	dir = slash == o->path ? xstrdup("/") : xstrndup(o->path, (size_t)(slash - o->path));
	base = xstrdup(slash + 1);
	qdir = sh_quote(dir);
	qbase = sh_quote(base);
	qpath = sh_quote(o->path);
	if (o->owner != NULL) {
		char *qo = sh_quote(o->owner);

		chown_cmd = xasprintf("chown %s -- \"$t\"\n", qo);
		free(qo);
	} else {
		chown_cmd = xstrdup("");
	}
	/* The temp file starts with a dot (kubelet and most watchers skip
	 * those); it is checked for size and SHA-256 before it can replace
	 * the target, so an upload cut short (sender killed: cat sees EOF)
	 * never lands, and the EXIT trap removes it. */
	script = xasprintf(
		"set -e\n"
		"umask 077\n"
		"d=%s\n"
		"[ -d \"$d\" ] || exit %d\n"
		"t=$(mktemp \"$d/.\"%s\".XXXXXX\")\n"
		"trap 'rm -f -- \"$t\"' EXIT\n"
		"trap 'exit 1' HUP INT TERM PIPE\n"
		"cat > \"$t\"\n"
		"n=$(wc -c < \"$t\")\n"
		"[ \"$n\" -eq %zu ] || { echo \"short upload: $n of %zu bytes\" >&2; exit 1; }\n"
		"[ \"$(sha256sum < \"$t\" | cut -c1-64)\" = %s ] || { echo 'checksum mismatch' >&2; exit 1; }\n"
		"%s"
		"chmod %04o -- \"$t\"\n"
		"sync -- \"$t\" 2>/dev/null || sync\n"
		"mv -f -- \"$t\" %s\n"
		"trap - EXIT\n"
		"sync -- \"$d\" 2>/dev/null || sync\n",
		qdir, UPLOAD_NO_DIR_STATUS, qbase, o->len, o->len, hex, chown_cmd,
		(unsigned)(o->mode & 07777), qpath);
	op->in = o->data;
	op->in_len = o->len;
	op->out.max = op->err.max = 1u << 20;
	op_build_cmd(op, script, o->as_root);
	free(script);
	free(chown_cmd);
	free(qpath);
	free(qbase);
	free(qdir);
	free(base);
	free(dir);
	op_start(op);
	return op;
}

struct ssh_op *ssh_read_file(struct ssh_session *s, const char *path,
			     bool as_root, size_t max, ssh_done_fn cb, void *ud)
{
	struct ssh_op *op = op_new(s, OP_EXEC, xasprintf("read %s", path), 0,
				   cb, ud);
	char *q = sh_quote(path), *script = xasprintf("exec cat -- %s", q);

	op->is_read = true;
	op->out.max = max ? max : DEF_MAX_OUTPUT;
	op->err.max = 1u << 20;
	op_build_cmd(op, script, as_root);
	free(script);
	free(q);
	op_start(op);
	return op;
}

struct ssh_op *ssh_tunnel_open(struct ssh_session *s, const char *host,
			       int port, ssh_done_fn cb, void *ud)
{
	struct ssh_op *op = op_new(s, OP_TUNNEL,
				   xasprintf("direct-tcpip %s:%d", host, port),
				   0, cb, ud);

	op->thost = xstrdup(host);
	op->tport = port;
	op_start(op);
	return op;
}

void ssh_op_cancel(struct ssh_op *op)
{
	op->cancelled = true;
	ssh_session_kick(op->s);
}

void ssh_op_detach(struct ssh_op *op)
{
	op->cb = NULL;
	ssh_op_cancel(op);
}

struct ssh_session *ssh_op_session(const struct ssh_op *op)
{
	return op->s;
}

/* ---- synchronous wrappers ---- */

struct sync_wait {
	bool done;
	struct ssh_result *r;
};

static void sync_done(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct sync_wait *w = ud;

	(void)op;
	*w->r = *r;
	r->out = NULL;
	r->errout = NULL;
	w->done = true;
}

static bool sync_pred(void *ud)
{
	return ((struct sync_wait *)ud)->done;
}

static enum wiz_err sync_run(struct ssh_session *s, struct sync_wait *w)
{
	enum wiz_err rc = loop_run_until(s->ctx->loop, sync_pred, w, 0);

	if (rc != WIZ_ERR_OK && !w->done) {
		w->r->code = rc;
		wiz_error_set(&w->r->err, rc, _("%s: event loop stopped"), s->name);
	}
	return w->r->code;
}

enum wiz_err ssh_exec_sync(struct ssh_session *s, const char *cmd,
			   const struct ssh_exec_opts *opts,
			   struct ssh_result *r)
{
	struct sync_wait w = { .r = r };

	memset(r, 0, sizeof *r);
	ssh_exec(s, cmd, opts, sync_done, &w);
	return sync_run(s, &w);
}

enum wiz_err ssh_upload_sync(struct ssh_session *s,
			     const struct ssh_upload_opts *opts,
			     struct ssh_result *r)
{
	struct sync_wait w = { .r = r };

	memset(r, 0, sizeof *r);
	ssh_upload(s, opts, sync_done, &w);
	return sync_run(s, &w);
}

enum wiz_err ssh_read_file_sync(struct ssh_session *s, const char *path,
				bool as_root, size_t max, struct ssh_result *r)
{
	struct sync_wait w = { .r = r };

	memset(r, 0, sizeof *r);
	ssh_read_file(s, path, as_root, max, sync_done, &w);
	return sync_run(s, &w);
}

enum wiz_err ssh_tunnel_open_sync(struct ssh_session *s, const char *host,
				  int port, struct ssh_result *r)
{
	struct sync_wait w = { .r = r };

	memset(r, 0, sizeof *r);
	ssh_tunnel_open(s, host, port, sync_done, &w);
	return sync_run(s, &w);
}

void ssh_result_free(struct ssh_result *r)
{
	free(r->out);
	free(r->errout);
	r->out = r->errout = NULL;
}

/* ---- streams ---- */

ssize_t ssh_stream_read(struct ssh_stream *st, void *buf, size_t len)
{
	ssize_t n;

	if (st->s == NULL || st->ch == NULL) {
		errno = EPIPE;
		return -1;
	}
	n = libssh2_channel_read_ex(st->ch, 0, buf, len);
	st->s->stream_calls++;
	st->want_read = n == LIBSSH2_ERROR_EAGAIN;
	if (n > 0)
		st->s->io_count++;
	/* Whatever else arrived is queued in libssh2 now: let the session's
	 * operations see it without waiting for the socket. */
	if (st->s->ops != NULL && st->s->in_drive == 0)
		ssh_session_kick(st->s);
	if (n >= 0) {
		if (n == 0)
			st->eof = true;
		return n;
	}
	if (n == LIBSSH2_ERROR_EAGAIN) {
		if (libssh2_channel_eof(st->ch)) {
			st->eof = true;
			return 0;
		}
		ssh_session_note_block(st->s);
		ssh_session_update_interest(st->s);
		errno = EAGAIN;
		return -1;
	}
	errno = n == LIBSSH2_ERROR_CHANNEL_CLOSED ? EPIPE : ECONNRESET;
	return -1;
}

ssize_t ssh_stream_write(struct ssh_stream *st, const void *buf, size_t len)
{
	ssize_t n;

	if (st->s == NULL || st->ch == NULL) {
		errno = EPIPE;
		return -1;
	}
	n = libssh2_channel_write_ex(st->ch, 0, buf, len);
	st->s->stream_calls++;
	if (st->s->ops != NULL && st->s->in_drive == 0)
		ssh_session_kick(st->s);
	if (n > 0)
		st->s->io_count++;
	if (n >= 0)
		return n;
	if (n == LIBSSH2_ERROR_EAGAIN) {
		ssh_session_note_block(st->s);
		ssh_session_update_interest(st->s);
		errno = EAGAIN;
		return -1;
	}
	errno = n == LIBSSH2_ERROR_CHANNEL_CLOSED ||
			n == LIBSSH2_ERROR_CHANNEL_EOF_SENT
		? EPIPE : ECONNRESET;
	return -1;
}

void ssh_stream_set_notify(struct ssh_stream *st,
			   void (*fn)(struct ssh_stream *st, void *ud),
			   void *ud)
{
	st->notify = fn;
	st->notify_ud = ud;
}

bool ssh_stream_eof(const struct ssh_stream *st)
{
	return st->eof || st->s == NULL;
}

struct ssh_session *ssh_stream_session(const struct ssh_stream *st)
{
	return st->s;
}

void ssh_stream_close(struct ssh_stream *st)
{
	struct ssh_session *s;

	if (st == NULL)
		return;
	s = st->s;
	if (s != NULL) {
		struct ssh_stream **pp = &s->streams;

		while (*pp != NULL && *pp != st)
			pp = &(*pp)->next;
		if (*pp == st)
			*pp = st->next;
		reap_channel(s, st->ch);
		ssh_session_update_interest(s);
	}
	free(st);
}
