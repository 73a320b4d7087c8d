/* Private to ssh.c, ssh-hostkey.c and ssh-ops.c. */
#ifndef WIZ_SSH_INTERNAL_H
#define WIZ_SSH_INTERNAL_H

#include <libssh2.h>
#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "ssh/ssh.h"

struct loop_io;
struct loop_timer;

/* A DNS lookup running in glibc's resolver thread (getaddrinfo_a); the
 * session polls it from the loop, so a slow DNS server never blocks. */
struct ssh_resolve {
	struct gaicb req;
	struct addrinfo hints;
	char *name;
	char port[16];
	struct ssh_resolve *next;	/* on the context's list of abandoned lookups */
};

struct ssh_ctx {
	struct loop *loop;
	struct ssh_callbacks cb;
	struct ssh_session **sessions;
	size_t n_sessions;
	unsigned next_op_id;
	/* Lookups given up on (deadline, free) that could not be cancelled:
	 * their memory belongs to the resolver until they end. */
	struct ssh_resolve *abandoned;
};

enum ssh_ask { ASK_NONE, ASK_HOSTKEY, ASK_PASSPHRASE, ASK_PASSWORD, ASK_SUDO };

/* A session with data queued but nothing moved drives again after this. */
#define SSH_REDRIVE_IDLE_MS 50

struct ssh_session {
	struct ssh_ctx *ctx;
	/* Configuration (owned copies). */
	char *name, *address, *user, *identity_file, *known_hosts, *pinned;
	int port;
	bool sudo, accept_new, no_agent;
	unsigned t_connect, t_handshake, t_auth, t_op;
	unsigned ka_interval, ka_count;

	enum ssh_state state;
	struct wiz_error error;
	int fd;
	struct addrinfo *ai_list, *ai_next;
	struct ssh_resolve *resolve;	/* a DNS name being looked up */
	int connect_errno;
	LIBSSH2_SESSION *ssh;
	struct loop_io *io;
	struct loop_timer *timer;	/* deadlines, keepalives */
	struct loop_timer *kick;	/* "drive me soon" (0 ms) */
	uint64_t phase_deadline;	/* 0 = none (e.g. while asking) */
	uint64_t last_rx;		/* last byte received (ms) */
	uint64_t busy_since;		/* work started after an idle time */
	bool busy;
	uint64_t next_keepalive;
	int block;			/* LIBSSH2_SESSION_BLOCK_* after EAGAIN */
	unsigned in_drive;
	bool redrive, free_pending;
	/* Bytes moved by operations and streams: a drive that moved none
	 * drives again only after SSH_REDRIVE_IDLE_MS (see session_drive). */
	uint64_t io_count;
	/* Calls into a stream's channel (read or write). Each reads the socket
	 * for every channel, so an operation's reply (a channel opened, an
	 * exit status, a close) may sit in libssh2 after one, unannounced. */
	uint64_t stream_calls;

	/* Host key. */
	char *hk_type, *hk_fp;
	enum ssh_ask ask;
	int hk_answer;			/* -1 = none yet */
	bool answered;
	char *answer_secret;

	/* Authentication. */
	char *methods;
	LIBSSH2_AGENT *agent;
	struct libssh2_agent_publickey *agent_id;
	bool agent_started;
	char **idfiles;
	size_t n_idfiles, idfile_idx;
	char *pubfile;			/* .pub beside the current identity */
	char *passphrase;
	unsigned passphrase_attempt;
	bool key_encrypted;
	char *password;
	unsigned password_attempt;
	bool pw_method_tried, kbd_method_tried;
	char tried[256];		/* "agent, key ~/.ssh/id_ed25519, ..." */

	/* sudo */
	char *sudo_password;
	unsigned sudo_attempt;
	bool sudo_asking;

	ssh_connect_fn connect_cb;
	void *connect_ud;

	struct ssh_op *ops;		/* queued and running, FIFO */
	struct ssh_op *done;		/* completed, callbacks pending */
	struct ssh_stream *streams;
	LIBSSH2_CHANNEL **reap;		/* killed channels still to free */
	size_t n_reap;
	/* libssh2 keeps one channel open in progress per session (the
	 * request sent, the reply it waits for, matched at an offset of the
	 * channel type): another open called meanwhile takes that one over
	 * or fails on its reply. So one at a time: the operation in the
	 * middle of an open, and an open whose operation ended first
	 * (cancelled, timed out), which is finished and its channel freed
	 * before the next one starts. */
	struct ssh_op *opener;
	bool orphan_open, orphan_tunnel;
	char *orphan_host;
	int orphan_port;
	void *userdata;
};

enum ssh_op_kind { OP_EXEC, OP_TUNNEL };

#define SSH_OP_STATE_INFO(_)         \
	_(QUEUED, "queued")          \
	_(OPEN, "open")              \
	_(EXEC, "exec")              \
	_(IO, "io")                  \
	_(SUDO_ASK, "sudo-ask")      \
	_(CLOSE, "close")            \
	_(WAIT_CLOSED, "wait-closed") \
	_(FREE, "free")              \
	_(DONE, "done")

enum ssh_op_state {
#define SSH_OP_STATE_ENUM(id, name) OPS_##id,
	SSH_OP_STATE_INFO(SSH_OP_STATE_ENUM)
#undef SSH_OP_STATE_ENUM
};

struct ssh_buf {
	char *data;
	size_t len, cap, max;
	bool truncated;
};

struct ssh_op {
	struct ssh_session *s;
	struct ssh_op *next;
	unsigned id;
	enum ssh_op_kind kind;
	enum ssh_op_state state;
	char *label;			/* for logs: never holds secrets */
	char *cmd;			/* the exec request */
	LIBSSH2_CHANNEL *ch;
	const unsigned char *in;	/* caller's stdin bytes */
	size_t in_len, in_off;
	bool eof_sent;
	bool check;
	bool is_read, is_upload;
	void (*on_output)(const char *out, size_t len, void *ud);
	void *on_output_ud;
	size_t out_reported;		/* stdout length on_output last saw */
	/* sudo handshake */
	bool sudo;
	char prompt_marker[48];
	char ok_marker[48];
	bool ok_seen;
	unsigned prompts;
	size_t err_scan;
	char *pw_out;			/* password + "\n" being written */
	size_t pw_len, pw_off;
	struct ssh_buf out, err;
	uint64_t start, deadline;
	unsigned timeout_ms;
	bool cancelled;
	/* tunnel */
	char *thost;
	int tport;
	ssh_done_fn cb;
	void *ud;
	struct ssh_result r;
};

struct ssh_stream {
	struct ssh_session *s;
	struct ssh_stream *next;
	LIBSSH2_CHANNEL *ch;
	bool eof, closed;
	bool want_read;			/* last read said EAGAIN */
	void (*notify)(struct ssh_stream *st, void *ud);
	void *notify_ud;
};

/* ssh.c */
void ssh_session_kick(struct ssh_session *s);
void ssh_session_fail(struct ssh_session *s, enum wiz_err code,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Turn a libssh2 error into a wiz_err and message ("what: libssh2 says"). */
enum wiz_err ssh_lib_error(struct ssh_session *s, int rc, const char *what,
			   struct wiz_error *err);
void ssh_session_note_block(struct ssh_session *s);
void ssh_session_update_interest(struct ssh_session *s);
char *ssh_home_path(const char *rel);

/* ssh-hostkey.c */
/* Sets the host key algorithm preference from known_hosts (before the
 * handshake), so that a server with several keys offers a known one. */
void ssh_hostkey_prefer_known(struct ssh_session *s);
/* HOSTKEY state: returns OK (accepted), AGAIN (asking the user) or an
 * error (session error filled). */
enum wiz_err ssh_hostkey_check(struct ssh_session *s);
/* After the user's answer. */
enum wiz_err ssh_hostkey_finish(struct ssh_session *s,
				enum ssh_hostkey_answer answer);
size_t ssh_base64_encode(const unsigned char *in, size_t len, char *out,
			 bool pad);
/* Returns decoded length, or (size_t)-1 on bad input. out >= 3*len/4. */
size_t ssh_base64_decode(const char *in, size_t len, unsigned char *out);
/* Random lowercase hex of 2*n characters. */
void ssh_random_hex(char *out, size_t n);

/* ssh-ops.c */
/* Run queued and active operations; returns true if anything progressed. */
bool ssh_ops_drive(struct ssh_session *s);
/* Fail every operation and close every stream (session gone). */
void ssh_ops_fail_all(struct ssh_session *s, enum wiz_err code,
		      const struct wiz_error *err);
/* Earliest op deadline, 0 if none. */
uint64_t ssh_ops_next_deadline(const struct ssh_session *s);
bool ssh_ops_active(const struct ssh_session *s);
void ssh_ops_run_callbacks(struct ssh_session *s);
void ssh_ops_sudo_answered(struct ssh_session *s);
void ssh_streams_notify(struct ssh_session *s);
/* Data already queued inside libssh2 for a channel that waits for it (so
 * the socket will not say so): the session must run again soon. */
bool ssh_ops_data_queued(struct ssh_session *s);

extern const char *const ssh_op_state_names[];

/* known_hosts text scanned for spec ("host" or "[host]:port") as a file
 * of the user's would be, line by line through libssh2, against an
 * offered ed25519 key (base64): the verdict's bits (types known, then
 * match, mismatch, revoked, other type from bit 16). For tests and
 * tests/fuzz/fuzz-known-hosts.c. */
unsigned ssh_known_hosts_scan_text(const char *text, size_t len, const char *spec,
				   const char *offered_b64);

#endif
