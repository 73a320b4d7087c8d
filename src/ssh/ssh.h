/* The SSH transport: one non-blocking libssh2 session per host, each an
 * explicit state machine driven by the shared event loop (loop.h), the way
 * curl drives libssh2: every state runs until libssh2 says EAGAIN, then the
 * session's poll interest becomes libssh2_session_block_directions() and it
 * returns to the loop. Every transition is traced at debug level as
 * "host: [OLD] -> [NEW]".
 *
 * Work is asynchronous: start an operation with a completion callback and
 * keep running the loop; or use the *_sync wrappers, which run the loop
 * until that one operation is done (other sessions keep progressing).
 * Operations queued on a session that is not connected yet start the
 * connection; many sessions run in parallel in one loop.
 *
 * Questions for the user (unknown host key, passphrase, password, sudo
 * password) go to callbacks that may answer at once (CLI) or later from the
 * UI (ssh_session_hostkey_answer / ssh_session_secret_answer); meanwhile the
 * session waits without blocking the loop.
 *
 * Secrets are never logged, never put on a command line or in the
 * environment, and are overwritten before their memory is freed (libssh2's
 * own buffers included: its allocator zeroes every block it frees). */
#ifndef WIZ_SSH_H
#define WIZ_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

struct loop;
struct cluster;
struct host;

struct ssh_ctx;
struct ssh_session;
struct ssh_op;
struct ssh_stream;

/* ---- Session states (named; see ssh_state_name) ---- */
#define SSH_STATE_INFO(_)                 \
	_(IDLE, "idle")                   \
	_(CONNECT, "connect")             \
	_(HANDSHAKE, "handshake")         \
	_(HOSTKEY, "hostkey")             \
	_(HOSTKEY_ASK, "hostkey-ask")     \
	_(AUTH_LIST, "auth-list")         \
	_(AUTH_AGENT, "auth-agent")       \
	_(AUTH_KEY, "auth-key")           \
	_(AUTH_PASSPHRASE_ASK, "auth-passphrase-ask") \
	_(AUTH_PASSWORD_ASK, "auth-password-ask") \
	_(AUTH_PASSWORD, "auth-password") \
	_(AUTH_KBDINT, "auth-kbdint")     \
	_(READY, "ready")                 \
	_(DISCONNECT, "disconnect")       \
	_(FAILED, "failed")               \
	_(CLOSED, "closed")

enum ssh_state {
#define SSH_STATE_ENUM(id, name) SSH_S_##id,
	SSH_STATE_INFO(SSH_STATE_ENUM)
#undef SSH_STATE_ENUM
	SSH_S_COUNT
};

const char *ssh_state_name(enum ssh_state st);

/* ---- Host keys ---- */
enum ssh_hostkey_answer {
	SSH_HOSTKEY_REJECT,
	SSH_HOSTKEY_ACCEPT_ONCE,
	SSH_HOSTKEY_ACCEPT_SAVE,	/* append a hashed line to known_hosts */
};

struct ssh_hostkey_info {
	const char *name;	/* host's display name */
	const char *address;
	int port;
	const char *key_type;	/* "ssh-ed25519", "ecdsa-sha2-nistp256", ... */
	const char *fingerprint;	/* "SHA256:" + 43 base64 characters */
	const char *known_hosts;	/* the file ACCEPT_SAVE writes */
};

/* ---- Secrets ---- */
enum ssh_secret_kind {
	SSH_SECRET_PASSPHRASE,	/* prompt: the identity file's path */
	SSH_SECRET_PASSWORD,	/* login password (password/keyboard-interactive) */
	SSH_SECRET_SUDO,	/* sudo password of the login user */
};

struct ssh_secret_request {
	enum ssh_secret_kind kind;
	const char *name;	/* host's display name */
	const char *user;
	const char *prompt;	/* identity file for PASSPHRASE, else NULL */
	unsigned attempt;	/* 1 on the first ask; >1 after a wrong one */
};

struct ssh_callbacks {
	/* An unknown host key (not in known_hosts, not pinned, and
	 * accept_new_host_keys not set). Answer with ssh_session_hostkey_answer,
	 * now or later. NULL = refuse (the non-interactive policy). */
	void (*hostkey_unknown)(struct ssh_session *s,
				const struct ssh_hostkey_info *info, void *ud);
	/* A secret is needed. Answer with ssh_session_secret_answer, now or
	 * later. NULL = no secrets available (that method is skipped). */
	void (*secret_needed)(struct ssh_session *s,
			      const struct ssh_secret_request *req, void *ud);
	void *ud;
};

/* ---- Configuration of one host ---- */
struct ssh_host_config {
	const char *name;	/* display name; also the ssh.hostKeys lookup key */
	const char *address;	/* where to connect (IP literal or DNS name) */
	int port;		/* 0 = 22 */
	const char *user;	/* NULL = $USER */
	const char *identity_file;	/* NULL = ~/.ssh/id_ed25519, id_ecdsa, id_rsa */
	const char *known_hosts;	/* NULL = ~/.ssh/known_hosts */
	const char *pinned_fingerprint;	/* "SHA256:..." or NULL */
	bool sudo;		/* root work goes through sudo */
	bool accept_new_host_keys;	/* unknown keys are accepted and saved */
	bool no_agent;		/* skip ssh-agent */
	/* Milliseconds; 0 = default (10 s connect, 15 s handshake + host key,
	 * 30 s auth, 120 s per operation). */
	unsigned connect_timeout_ms;
	unsigned handshake_timeout_ms;
	unsigned auth_timeout_ms;
	unsigned op_timeout_ms;
	/* Keepalive every interval (default 5 s, 0 = default); a peer silent
	 * for interval * count_max (default 3) while work runs is unreachable. */
	unsigned keepalive_interval_s;
	unsigned keepalive_count_max;
};

/* Fill cfg for one member/control-plane host of a cluster. The strings
 * point into c and h. The pinned fingerprint is ssh.hostKeys[h->name], or
 * ssh.hostKeys[<ssh target>]. */
void ssh_host_config_from_cluster(const struct cluster *c, const struct host *h,
				  struct ssh_host_config *cfg);

/* ---- Context and sessions ---- */
/* libssh2_init happens once, here. cb may be NULL (non-interactive). */
struct ssh_ctx *ssh_ctx_new(struct loop *loop, const struct ssh_callbacks *cb);
/* Frees every session still open (disconnecting them without waiting). */
void ssh_ctx_free(struct ssh_ctx *ctx);
struct loop *ssh_ctx_loop(const struct ssh_ctx *ctx);

/* The config is copied. The session starts IDLE. */
struct ssh_session *ssh_session_new(struct ssh_ctx *ctx,
				    const struct ssh_host_config *cfg);
/* Fails pending operations with CANCELLED and frees everything at once.
 * Safe to call from any callback of this session. */
void ssh_session_free(struct ssh_session *s);

typedef void (*ssh_connect_fn)(struct ssh_session *s, enum wiz_err code,
			       const struct wiz_error *err, void *ud);
/* Connect, check the host key and authenticate; cb (may be NULL) runs
 * when READY or FAILED. A FAILED session may be connected again. */
void ssh_session_connect(struct ssh_session *s, ssh_connect_fn cb, void *ud);
enum wiz_err ssh_session_connect_sync(struct ssh_session *s,
				      struct wiz_error *err);
/* Graceful SSH disconnect (bounded by 2 s), then CLOSED. A session still
 * connecting fails at once instead (CANCELLED: its operations and connect
 * callback are told), and may be connected again. */
void ssh_session_disconnect(struct ssh_session *s);

enum ssh_state ssh_session_state(const struct ssh_session *s);
const char *ssh_session_name(const struct ssh_session *s);
/* The error that made the session FAILED (code OK otherwise). */
const struct wiz_error *ssh_session_error(const struct ssh_session *s);
/* Of the host key accepted for this session, once past HOSTKEY. */
const char *ssh_session_hostkey_fingerprint(const struct ssh_session *s);
const char *ssh_session_hostkey_type(const struct ssh_session *s);
void ssh_session_set_userdata(struct ssh_session *s, void *ud);
void *ssh_session_userdata(const struct ssh_session *s);

void ssh_session_hostkey_answer(struct ssh_session *s,
				enum ssh_hostkey_answer answer);
/* Takes ownership of secret (NUL-terminated, from malloc); it is zeroed and
 * freed by the session. NULL = the user declined. */
void ssh_session_secret_answer(struct ssh_session *s, char *secret);

/* ---- Operations ---- */
struct ssh_result {
	enum wiz_err code;	/* OK, or why the operation failed */
	struct wiz_error err;
	int exit_status;	/* -1 when killed by a signal or unknown */
	char exit_signal[32];	/* "TERM", "KILL", ... or "" */
	char *out;		/* stdout, NUL-terminated (may hold NULs) */
	size_t out_len;
	char *errout;		/* stderr, NUL-terminated */
	size_t err_len;
	bool truncated;		/* output beyond max_output was dropped */
	/* Failed before the command was sent (the channel never opened): it
	 * did not run there, so running it again is safe. */
	bool not_sent;
	uint64_t elapsed_ms;
	struct ssh_stream *stream;	/* ssh_tunnel_open only; caller owns */
};

/* Called once per operation. r and its buffers belong to the operation and
 * are freed after the callback returns; take a buffer by setting its
 * pointer to NULL (then free() it yourself). */
typedef void (*ssh_done_fn)(struct ssh_op *op, struct ssh_result *r, void *ud);

struct ssh_exec_opts {
	bool as_root;		/* through sudo when the host uses sudo */
	const void *input;	/* sent on stdin, then EOF; may be NULL */
	size_t input_len;
	unsigned timeout_ms;	/* 0 = the host's op timeout */
	size_t max_output;	/* per stream; 0 = 16 MiB */
	bool check;		/* a non-zero exit makes code REMOTE */
	/* Called whenever stdout grew, with everything read so far (after
	 * sudo's own lines): for progress markers of a long script. */
	void (*on_output)(const char *out, size_t len, void *ud);
	void *on_output_ud;
};

/* Run cmd through the login shell (cmd is shell text: build it with
 * sh_quote/sh_join). On timeout the channel is closed and the remote
 * command is killed by a remote `timeout` guard. */
struct ssh_op *ssh_exec(struct ssh_session *s, const char *cmd,
			const struct ssh_exec_opts *opts, ssh_done_fn cb,
			void *ud);

struct ssh_upload_opts {
	const char *path;	/* absolute target path */
	const void *data;
	size_t len;
	mode_t mode;
	const char *owner;	/* "user", "user:group" or NULL (login user) */
	bool as_root;		/* write through sudo (root-owned targets) */
	unsigned timeout_ms;
};

/* Atomic upload: the bytes go over the channel's stdin into a dot-named
 * temp file in the target directory, whose size and SHA-256 are checked,
 * then chown/chmod, fsync, rename over the target and fsync of the
 * directory. An interrupted upload leaves the old file (and at most a
 * dot-named temp file). */
struct ssh_op *ssh_upload(struct ssh_session *s,
			  const struct ssh_upload_opts *opts, ssh_done_fn cb,
			  void *ud);

/* Contents into r->out (at most max bytes; 0 = 16 MiB). */
struct ssh_op *ssh_read_file(struct ssh_session *s, const char *path,
			     bool as_root, size_t max, ssh_done_fn cb,
			     void *ud);

/* A direct-tcpip channel to host:port as seen from the remote host; on
 * success r->stream is the caller's. */
struct ssh_op *ssh_tunnel_open(struct ssh_session *s, const char *host,
			       int port, ssh_done_fn cb, void *ud);

/* The callback runs (now or soon) with code CANCELLED. */
void ssh_op_cancel(struct ssh_op *op);
/* Cancel and never call back: for an owner going away while the session
 * stays (a shared one). A stream the operation would have handed over is
 * closed. */
void ssh_op_detach(struct ssh_op *op);
struct ssh_session *ssh_op_session(const struct ssh_op *op);

/* Synchronous wrappers: run the loop until the operation completes. r is
 * filled (free with ssh_result_free); the return value is r->code. */
enum wiz_err ssh_exec_sync(struct ssh_session *s, const char *cmd,
			   const struct ssh_exec_opts *opts,
			   struct ssh_result *r);
enum wiz_err ssh_upload_sync(struct ssh_session *s,
			     const struct ssh_upload_opts *opts,
			     struct ssh_result *r);
enum wiz_err ssh_read_file_sync(struct ssh_session *s, const char *path,
				bool as_root, size_t max, struct ssh_result *r);
enum wiz_err ssh_tunnel_open_sync(struct ssh_session *s, const char *host,
				  int port, struct ssh_result *r);
void ssh_result_free(struct ssh_result *r);

/* ---- Byte stream over a direct-tcpip channel ---- */
/* read()/write() semantics: >0 bytes, 0 = EOF (read), -1 with errno
 * EAGAIN (try again when notified), EPIPE/ECONNRESET/EIO otherwise. */
ssize_t ssh_stream_read(struct ssh_stream *st, void *buf, size_t len);
ssize_t ssh_stream_write(struct ssh_stream *st, const void *buf, size_t len);
/* fn runs after every round of I/O on the session: retry what returned
 * EAGAIN. A stream keeps its session's socket polled while it is open. */
void ssh_stream_set_notify(struct ssh_stream *st,
			   void (*fn)(struct ssh_stream *st, void *ud),
			   void *ud);
bool ssh_stream_eof(const struct ssh_stream *st);
struct ssh_session *ssh_stream_session(const struct ssh_stream *st);
void ssh_stream_close(struct ssh_stream *st);

/* ---- Helpers (exposed for tests and the UI) ---- */
/* "SHA256:" + unpadded base64 of SHA-256(blob), as ssh-keygen -l prints. */
char *ssh_fingerprint_sha256(const void *blob, size_t len);
/* Where known_hosts is for cfg (cfg->known_hosts or ~/.ssh/known_hosts). */
char *ssh_known_hosts_path(const char *configured);

#endif
