/* SSH sessions: connect, handshake, host key, authentication, keepalives,
 * all as one non-blocking state machine per host on the shared loop. */
#include "config.h"

#include "ssh/ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/i18n.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "ssh/ssh-internal.h"

#define DEF_CONNECT_MS 10000u
#define DEF_HANDSHAKE_MS 15000u
#define DEF_AUTH_MS 30000u
#define DEF_OP_MS 120000u
#define DEF_KA_INTERVAL 5u
#define DEF_KA_COUNT 3u
#define DISCONNECT_MS 2000u
#define MAX_SECRET_ATTEMPTS 3u

static const char *const state_names[] = {
#define SSH_STATE_NAME(id, name) name,
	SSH_STATE_INFO(SSH_STATE_NAME)
#undef SSH_STATE_NAME
};

static unsigned ssh_init_refs;

const char *ssh_state_name(enum ssh_state st)
{
	if ((unsigned)st >= SSH_S_COUNT)
		return "?";
	return state_names[st];
}

/* ---- libssh2 glue: an allocator that wipes, and I/O that timestamps ---- */

static LIBSSH2_ALLOC_FUNC(wipe_alloc)
{
	(void)abstract;
	return malloc(count ? count : 1);
}

static LIBSSH2_FREE_FUNC(wipe_free)
{
	(void)abstract;
	if (ptr == NULL)
		return;
	explicit_bzero(ptr, malloc_usable_size(ptr));
	free(ptr);
}

static LIBSSH2_REALLOC_FUNC(wipe_realloc)
{
	size_t old = ptr ? malloc_usable_size(ptr) : 0;
	void *p = malloc(count ? count : 1);

	(void)abstract;
	if (p == NULL)
		return NULL;
	if (ptr != NULL) {
		memcpy(p, ptr, old < count ? old : count);
		explicit_bzero(ptr, old);
		free(ptr);
	}
	return p;
}

static LIBSSH2_RECV_FUNC(session_recv)
{
	struct ssh_session *s = *abstract;
	ssize_t n = recv(socket, buffer, length, flags);

	if (n < 0)
		return -errno;
	if (n > 0)
		s->last_rx = loop_now();
	return n;
}

static LIBSSH2_SEND_FUNC(session_send)
{
	ssize_t n;

	(void)abstract;
	n = send(socket, buffer, length, flags | MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return n;
}

/* ---- small helpers ---- */

char *ssh_home_path(const char *rel)
{
	const char *home = getenv("HOME");

	if (home == NULL || *home == '\0') {
		struct passwd *pw = getpwuid(getuid());

		home = pw ? pw->pw_dir : "/";
	}
	return xasprintf("%s/%s", home, rel);
}

char *ssh_known_hosts_path(const char *configured)
{
	if (configured != NULL && *configured != '\0') {
		if (configured[0] == '~' && configured[1] == '/')
			return ssh_home_path(configured + 2);
		return xstrdup(configured);
	}
	return ssh_home_path(".ssh/known_hosts");
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void secret_free(char **p)
{
	if (*p != NULL) {
		wiz_free_secret(*p, strlen(*p));
		*p = NULL;
	}
}

static void set_state(struct ssh_session *s, enum ssh_state st)
{
	if (s->state == st)
		return;
	log_debug("ssh", "%s: [%s] -> [%s]", s->name, ssh_state_name(s->state),
		  ssh_state_name(st));
	s->state = st;
}

static void set_phase_deadline(struct ssh_session *s, unsigned ms)
{
	s->phase_deadline = ms ? loop_now() + ms : 0;
}

void ssh_session_note_block(struct ssh_session *s)
{
	s->block = s->ssh ? libssh2_session_block_directions(s->ssh) : 0;
}

enum wiz_err ssh_lib_error(struct ssh_session *s, int rc, const char *what,
			   struct wiz_error *err)
{
	char *msg = NULL;
	enum wiz_err code;

	if (s->ssh != NULL)
		libssh2_session_last_error(s->ssh, &msg, NULL, 0);
	switch (rc) {
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_BANNER_RECV:
		code = WIZ_ERR_UNREACHABLE;
		return wiz_error_set(err, code,
				     _("%s: %s: connection lost (%s)"), s->name,
				     what, msg && *msg ? msg : "?");
	case LIBSSH2_ERROR_TIMEOUT:
		code = WIZ_ERR_TIMEOUT;
		break;
	case LIBSSH2_ERROR_AUTHENTICATION_FAILED:
	case LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
		code = WIZ_ERR_AUTH;
		break;
	default:
		code = WIZ_ERR_SSH;
		break;
	}
	return wiz_error_set(err, code, "%s: %s: %s", s->name, what,
			     msg && *msg ? msg : _("SSH error"));
}

/* ---- the socket watch and the timers ---- */

static void session_drive(struct ssh_session *s);

static void session_io_cb(struct loop_io *io, int fd, short revents, void *ud)
{
	(void)io;
	(void)fd;
	(void)revents;
	session_drive(ud);
}

static void session_timer_cb(struct loop_timer *t, void *ud)
{
	(void)t;
	session_drive(ud);
}

void ssh_session_kick(struct ssh_session *s)
{
	if (!loop_timer_armed(s->kick))
		loop_timer_arm_in(s->kick, 0);
}

void ssh_session_update_interest(struct ssh_session *s)
{
	short ev = 0;

	switch (s->state) {
	case SSH_S_CONNECT:
		ev = POLLOUT;
		break;
	case SSH_S_HANDSHAKE:
	case SSH_S_AUTH_LIST:
	case SSH_S_AUTH_AGENT:
	case SSH_S_AUTH_KEY:
	case SSH_S_AUTH_PASSWORD:
	case SSH_S_AUTH_KBDINT:
	case SSH_S_DISCONNECT:
		if (s->block & LIBSSH2_SESSION_BLOCK_INBOUND)
			ev |= POLLIN;
		if (s->block & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			ev |= POLLOUT;
		if (ev == 0)
			ev = POLLIN;
		break;
	case SSH_S_READY:
		/* With work running, every byte that arrives is read at once
		 * (keepalive replies, data for any channel); idle sessions are
		 * not polled, or unread keepalive replies would spin us. */
		if (ssh_ops_active(s)) {
			ev = POLLIN;
			if (s->block & LIBSSH2_SESSION_BLOCK_OUTBOUND)
				ev |= POLLOUT;
		}
		break;
	default:
		break;
	}
	if (s->io != NULL)
		loop_io_set_events(s->io, ev);
}

static void session_arm_timer(struct ssh_session *s)
{
	uint64_t when = 0, t;

#define EARLIER(x) do { t = (x); if (t && (!when || t < when)) when = t; } while (0)
	if (s->ask == ASK_NONE)
		EARLIER(s->phase_deadline);
	if (s->state == SSH_S_READY) {
		EARLIER(ssh_ops_next_deadline(s));
		EARLIER(s->next_keepalive);
		if (s->busy) {
			uint64_t ref = s->last_rx > s->busy_since ? s->last_rx
								  : s->busy_since;
			EARLIER(ref + (uint64_t)s->ka_interval * s->ka_count * 1000u + 1);
		}
	}
#undef EARLIER
	if (when)
		loop_timer_arm_at(s->timer, when);
	else
		loop_timer_disarm(s->timer);
}

/* ---- teardown ---- */

/* ---- DNS names, looked up without blocking the loop ---- */

static void resolve_free(struct ssh_resolve *r)
{
	if (r->req.ar_result != NULL)
		freeaddrinfo(r->req.ar_result);
	free(r->name);
	free(r);
}

/* Frees the abandoned lookups that have ended since. */
static void resolve_reap(struct ssh_ctx *ctx)
{
	for (struct ssh_resolve **pp = &ctx->abandoned; *pp;) {
		struct ssh_resolve *r = *pp;

		if (gai_error(&r->req) == EAI_INPROGRESS) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		resolve_free(r);
	}
}

static void resolve_abandon(struct ssh_session *s)
{
	struct ssh_resolve *r = s->resolve;
	int rc;

	if (r == NULL)
		return;
	s->resolve = NULL;
	rc = gai_cancel(&r->req);
	if (rc == EAI_CANCELED || rc == EAI_ALLDONE) {
		resolve_free(r);
	} else {
		r->next = s->ctx->abandoned;
		s->ctx->abandoned = r;
	}
	resolve_reap(s->ctx);
}

/* 0, or a getaddrinfo error code. */
static int resolve_start(struct ssh_session *s, const char *port)
{
	struct ssh_resolve *r = xcalloc(1, sizeof *r);
	struct gaicb *list[1] = { &r->req };
	int rc;

	r->name = xstrdup(s->address);
	snprintf(r->port, sizeof r->port, "%s", port);
	r->hints.ai_socktype = SOCK_STREAM;
	r->hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	r->req.ar_name = r->name;
	r->req.ar_service = r->port;
	r->req.ar_request = &r->hints;
	rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (rc != 0) {
		resolve_free(r);
		return rc;
	}
	s->resolve = r;
	return 0;
}

static void session_close_transport(struct ssh_session *s, bool graceful)
{
	if (s->agent != NULL) {
		libssh2_agent_disconnect(s->agent);
		libssh2_agent_free(s->agent);
		s->agent = NULL;
	}
	/* libssh2_session_free frees the channels still open. */
	free(s->reap);
	s->reap = NULL;
	s->n_reap = 0;
	s->opener = NULL;
	s->orphan_open = false;
	free(s->orphan_host);
	s->orphan_host = NULL;
	if (s->ssh != NULL) {
		if (graceful && s->fd >= 0)
			libssh2_session_disconnect(s->ssh, "bye");
		/* Nothing may block now: with the socket shut down every send
		 * and receive fails at once, so freeing cannot wait. */
		if (s->fd >= 0)
			shutdown(s->fd, SHUT_RDWR);
		libssh2_session_free(s->ssh);
		s->ssh = NULL;
	}
	if (s->io != NULL) {
		loop_io_del(s->io);
		s->io = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->ai_list != NULL) {
		freeaddrinfo(s->ai_list);
		s->ai_list = s->ai_next = NULL;
	}
	resolve_abandon(s);
	free(s->methods);
	s->methods = NULL;
	s->agent_id = NULL;
	s->agent_started = false;
	s->block = 0;
}

static void session_clear_auth(struct ssh_session *s)
{
	for (size_t i = 0; i < s->n_idfiles; i++)
		free(s->idfiles[i]);
	free(s->idfiles);
	s->idfiles = NULL;
	s->n_idfiles = s->idfile_idx = 0;
	free(s->pubfile);
	s->pubfile = NULL;
	secret_free(&s->passphrase);
	secret_free(&s->password);
	secret_free(&s->answer_secret);
	s->passphrase_attempt = s->password_attempt = 0;
	s->pw_method_tried = s->kbd_method_tried = false;
	s->tried[0] = '\0';
}

static void session_finish_connect(struct ssh_session *s)
{
	ssh_connect_fn cb = s->connect_cb;

	s->connect_cb = NULL;
	if (cb != NULL)
		cb(s, s->error.code, &s->error, s->connect_ud);
}

void ssh_session_fail(struct ssh_session *s, enum wiz_err code,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s->error.code = code;
	vsnprintf(s->error.msg, sizeof s->error.msg, fmt, ap);
	va_end(ap);
	log_debug("ssh", "%s: failed: %s", s->name, s->error.msg);
	set_state(s, SSH_S_FAILED);
	s->ask = ASK_NONE;
	s->phase_deadline = 0;
	session_close_transport(s, false);
	session_clear_auth(s);
	ssh_ops_fail_all(s, s->error.code, &s->error);
	session_finish_connect(s);
}

/* ---- states ---- */

enum step { STEP_NEXT, STEP_BLOCK, STEP_WAIT };

#define RESOLVE_POLL_MS 20

static enum step st_connect_start(struct ssh_session *s)
{
	if (s->resolve != NULL) {
		struct ssh_resolve *r = s->resolve;
		int rc = gai_error(&r->req);

		if (rc == EAI_INPROGRESS) {
			if (!loop_timer_armed(s->kick))
				loop_timer_arm_in(s->kick, RESOLVE_POLL_MS);
			return STEP_BLOCK;
		}
		s->resolve = NULL;
		if (rc != 0) {
			resolve_free(r);
			ssh_session_fail(s, WIZ_ERR_UNREACHABLE, _("%s: cannot resolve %s: %s"), s->name,
					 s->address, gai_strerror(rc));
			return STEP_WAIT;
		}
		s->ai_list = s->ai_next = r->req.ar_result;
		r->req.ar_result = NULL;
		resolve_free(r);
		log_debug("ssh", "%s: resolved %s", s->name, s->address);
	}
	while (s->ai_next != NULL) {
		struct addrinfo *ai = s->ai_next;
		int one = 1;

		s->ai_next = ai->ai_next;
		s->fd = socket(ai->ai_family,
			       ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       ai->ai_protocol);
		if (s->fd < 0) {
			s->connect_errno = errno;
			continue;
		}
		setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			s->io = loop_io_add(s->ctx->loop, s->fd, POLLOUT,
					    session_io_cb, s);
			return STEP_BLOCK;
		}
		s->connect_errno = errno;
		close(s->fd);
		s->fd = -1;
	}
	ssh_session_fail(s, WIZ_ERR_UNREACHABLE,
			 _("%s: cannot connect to %s port %d: %s"), s->name,
			 s->address, s->port, strerror(s->connect_errno));
	return STEP_WAIT;
}

static enum step st_connect(struct ssh_session *s)
{
	int soerr = 0;
	socklen_t len = sizeof soerr;
	struct pollfd pfd = { .fd = s->fd, .events = POLLOUT };

	/* Not yet writable: keep waiting (no blocking: timeout 0). */
	if (poll(&pfd, 1, 0) <= 0 || pfd.revents == 0)
		return STEP_BLOCK;
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
		soerr = errno;
	if (soerr != 0) {
		log_debug("ssh", "%s: connect: %s", s->name, strerror(soerr));
		s->connect_errno = soerr;
		loop_io_del(s->io);
		s->io = NULL;
		close(s->fd);
		s->fd = -1;
		return st_connect_start(s);
	}
	s->ssh = libssh2_session_init_ex(wipe_alloc, wipe_free, wipe_realloc, s);
	if (s->ssh == NULL) {
		ssh_session_fail(s, WIZ_ERR_SSH, _("%s: cannot create an SSH session"),
				 s->name);
		return STEP_WAIT;
	}
	libssh2_session_callback_set(s->ssh, LIBSSH2_CALLBACK_RECV,
				     (void *)session_recv);
	libssh2_session_callback_set(s->ssh, LIBSSH2_CALLBACK_SEND,
				     (void *)session_send);
	libssh2_session_set_blocking(s->ssh, 0);
	libssh2_session_flag(s->ssh, LIBSSH2_FLAG_COMPRESS, 0);
	libssh2_session_banner_set(s->ssh, "SSH-2.0-etcdwiz_" VERSION);
	ssh_hostkey_prefer_known(s);
	s->last_rx = loop_now();
	set_state(s, SSH_S_HANDSHAKE);
	set_phase_deadline(s, s->t_handshake);
	return STEP_NEXT;
}

static enum step st_handshake(struct ssh_session *s)
{
	int rc = libssh2_session_handshake(s->ssh, s->fd);
	struct wiz_error e;

	if (rc == LIBSSH2_ERROR_EAGAIN)
		return STEP_BLOCK;
	if (rc != 0) {
		ssh_lib_error(s, rc, _("SSH handshake"), &e);
		ssh_session_fail(s, e.code, "%s", e.msg);
		return STEP_WAIT;
	}
	set_state(s, SSH_S_HOSTKEY);
	return STEP_NEXT;
}

static void tried_add(struct ssh_session *s, const char *what)
{
	size_t n = strlen(s->tried);

	snprintf(s->tried + n, sizeof s->tried - n, "%s%s", n ? ", " : "", what);
}

static bool method_offered(const struct ssh_session *s, const char *m)
{
	size_t ml = strlen(m);

	for (const char *p = s->methods; p != NULL && *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);

		if (l == ml && strncmp(p, m, l) == 0)
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

static void ready(struct ssh_session *s)
{
	set_state(s, SSH_S_READY);
	s->phase_deadline = 0;
	session_clear_auth(s);
	if (s->agent != NULL) {
		libssh2_agent_disconnect(s->agent);
		libssh2_agent_free(s->agent);
		s->agent = NULL;
	}
	libssh2_keepalive_config(s->ssh, 1, s->ka_interval);
	s->next_keepalive = loop_now() + s->ka_interval * 1000u;
	s->error.code = WIZ_ERR_OK;
	s->error.msg[0] = '\0';
	session_finish_connect(s);
}

static void collect_identities(struct ssh_session *s)
{
	static const char *const defaults[] = {
		".ssh/id_ed25519", ".ssh/id_ecdsa", ".ssh/id_rsa",
	};

	if (s->identity_file != NULL) {
		s->idfiles = xcalloc(1, sizeof *s->idfiles);
		s->idfiles[s->n_idfiles++] = ssh_known_hosts_path(s->identity_file);
		return;
	}
	s->idfiles = xcalloc(3, sizeof *s->idfiles);
	for (size_t i = 0; i < 3; i++) {
		char *p = ssh_home_path(defaults[i]);

		if (access(p, R_OK) == 0)
			s->idfiles[s->n_idfiles++] = p;
		else
			free(p);
	}
}

/* An encrypted private key: PEM with "ENCRYPTED", or the OpenSSH format
 * with a cipher other than "none". */
static bool key_is_encrypted(const char *path)
{
	static const char magic[] = "openssh-key-v1";
	char buf[8192];
	unsigned char raw[128];
	FILE *f = fopen(path, "re");
	size_t n;
	const char *b;
	char b64[160];
	size_t bl = 0;

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (strstr(buf, "ENCRYPTED") != NULL)
		return true;
	b = strstr(buf, "-----BEGIN OPENSSH PRIVATE KEY-----");
	if (b == NULL)
		return false;
	b = strchr(b, '\n');
	for (; b != NULL && *b && bl < sizeof b64 - 1; b++)
		if (*b != '\n' && *b != '\r')
			b64[bl++] = *b;
	bl -= bl % 4;
	n = ssh_base64_decode(b64, bl, raw);
	explicit_bzero(buf, sizeof buf);
	if (n == (size_t)-1 || n < sizeof magic + 4 + 4)
		return false;
	if (memcmp(raw, magic, sizeof magic) != 0)
		return false;
	/* string ciphername */
	return !(raw[sizeof magic] == 0 && raw[sizeof magic + 1] == 0 &&
		 raw[sizeof magic + 2] == 0 && raw[sizeof magic + 3] == 4 &&
		 memcmp(raw + sizeof magic + 4, "none", 4) == 0);
}

static void ask_secret(struct ssh_session *s, enum ssh_ask ask,
		       enum ssh_secret_kind kind, const char *prompt,
		       unsigned attempt)
{
	struct ssh_secret_request req = {
		.kind = kind, .name = s->name, .user = s->user,
		.prompt = prompt, .attempt = attempt,
	};

	s->ask = ask;
	s->answered = false;
	secret_free(&s->answer_secret);
	log_debug("ssh", "%s: asking for a %s", s->name,
		  kind == SSH_SECRET_PASSPHRASE ? "passphrase" : "password");
	s->ctx->cb.secret_needed(s, &req, s->ctx->cb.ud);
}

static enum step auth_next_key(struct ssh_session *s);
static enum step auth_password_start(struct ssh_session *s);

static enum step st_auth_list(struct ssh_session *s)
{
	char *list = libssh2_userauth_list(s->ssh, s->user,
					   (unsigned)strlen(s->user));
	struct wiz_error e;

	if (list == NULL) {
		int rc = libssh2_session_last_errno(s->ssh);

		if (libssh2_userauth_authenticated(s->ssh)) {
			ready(s);
			return STEP_WAIT;
		}
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return STEP_BLOCK;
		ssh_lib_error(s, rc, _("listing authentication methods"), &e);
		ssh_session_fail(s, e.code, "%s", e.msg);
		return STEP_WAIT;
	}
	s->methods = xstrdup(list);
	log_debug("ssh", "%s: server offers %s", s->name, s->methods);
	collect_identities(s);
	if (method_offered(s, "publickey") && !s->no_agent &&
	    getenv("SSH_AUTH_SOCK") != NULL) {
		s->agent = libssh2_agent_init(s->ssh);
		if (s->agent != NULL && libssh2_agent_connect(s->agent) == 0 &&
		    libssh2_agent_list_identities(s->agent) == 0) {
			s->agent_id = NULL;
			if (libssh2_agent_get_identity(s->agent, &s->agent_id,
						       NULL) == 0) {
				tried_add(s, "agent");
				set_state(s, SSH_S_AUTH_AGENT);
				return STEP_NEXT;
			}
		}
		log_debug("ssh", "%s: ssh-agent not usable", s->name);
	}
	return auth_next_key(s);
}

static enum step st_auth_agent(struct ssh_session *s)
{
	int rc = libssh2_agent_userauth(s->agent, s->user, s->agent_id);

	if (rc == LIBSSH2_ERROR_EAGAIN)
		return STEP_BLOCK;
	if (rc == 0) {
		log_debug("ssh", "%s: authenticated with an agent key", s->name);
		ready(s);
		return STEP_WAIT;
	}
	if (rc == LIBSSH2_ERROR_SOCKET_SEND || rc == LIBSSH2_ERROR_SOCKET_RECV ||
	    rc == LIBSSH2_ERROR_SOCKET_DISCONNECT) {
		struct wiz_error e;

		ssh_lib_error(s, rc, _("authentication"), &e);
		ssh_session_fail(s, e.code, "%s", e.msg);
		return STEP_WAIT;
	}
	if (libssh2_agent_get_identity(s->agent, &s->agent_id, s->agent_id) == 0)
		return STEP_NEXT;
	return auth_next_key(s);
}

static enum step auth_next_key(struct ssh_session *s)
{
	const char *path;

	secret_free(&s->passphrase);
	s->passphrase_attempt = 0;
	if (!method_offered(s, "publickey") || s->idfile_idx >= s->n_idfiles)
		return auth_password_start(s);
	path = s->idfiles[s->idfile_idx];
	if (access(path, R_OK) != 0) {
		log_debug("ssh", "%s: identity %s: %s", s->name, path,
			  strerror(errno));
		s->idfile_idx++;
		return auth_next_key(s);
	}
	free(s->pubfile);
	s->pubfile = xasprintf("%s.pub", path);
	if (access(s->pubfile, R_OK) != 0) {
		free(s->pubfile);
		s->pubfile = NULL;
	}
	tried_add(s, path);
	s->key_encrypted = key_is_encrypted(path);
	if (s->key_encrypted) {
		if (s->ctx->cb.secret_needed == NULL) {
			log_debug("ssh", "%s: %s is encrypted and nobody can type its passphrase",
				  s->name, path);
			s->idfile_idx++;
			return auth_next_key(s);
		}
		set_state(s, SSH_S_AUTH_PASSPHRASE_ASK);
		ask_secret(s, ASK_PASSPHRASE, SSH_SECRET_PASSPHRASE, path,
			   ++s->passphrase_attempt);
		return STEP_NEXT;
	}
	set_state(s, SSH_S_AUTH_KEY);
	return STEP_NEXT;
}

static enum step st_passphrase_ask(struct ssh_session *s)
{
	if (!s->answered)
		return STEP_WAIT;
	s->ask = ASK_NONE;
	if (s->answer_secret == NULL) {
		s->idfile_idx++;
		return auth_next_key(s);
	}
	s->passphrase = s->answer_secret;
	s->answer_secret = NULL;
	set_state(s, SSH_S_AUTH_KEY);
	return STEP_NEXT;
}

static enum step st_auth_key(struct ssh_session *s)
{
	const char *path = s->idfiles[s->idfile_idx];
	int rc = libssh2_userauth_publickey_fromfile_ex(
		s->ssh, s->user, (unsigned)strlen(s->user), s->pubfile, path,
		s->passphrase ? s->passphrase : "");
	struct wiz_error e;

	if (rc == LIBSSH2_ERROR_EAGAIN)
		return STEP_BLOCK;
	if (rc == 0) {
		log_debug("ssh", "%s: authenticated with %s", s->name, path);
		ready(s);
		return STEP_WAIT;
	}
	if (rc == LIBSSH2_ERROR_FILE && s->key_encrypted &&
	    s->passphrase_attempt < MAX_SECRET_ATTEMPTS) {
		/* Most likely a wrong passphrase: ask again. */
		log_debug("ssh", "%s: %s: cannot use the key (wrong passphrase?)",
			  s->name, path);
		secret_free(&s->passphrase);
		set_state(s, SSH_S_AUTH_PASSPHRASE_ASK);
		ask_secret(s, ASK_PASSPHRASE, SSH_SECRET_PASSPHRASE, path,
			   ++s->passphrase_attempt);
		return STEP_NEXT;
	}
	ssh_lib_error(s, rc, path, &e);
	if (e.code == WIZ_ERR_UNREACHABLE) {
		ssh_session_fail(s, e.code, "%s", e.msg);
		return STEP_WAIT;
	}
	log_debug("ssh", "%s", e.msg);
	s->idfile_idx++;
	return auth_next_key(s);
}

static enum step auth_fail(struct ssh_session *s)
{
	ssh_session_fail(s, WIZ_ERR_AUTH,
			 _("%s: authentication as %s failed (tried: %s; server accepts: %s)"),
			 s->name, s->user, s->tried[0] ? s->tried : _("nothing"),
			 s->methods ? s->methods : "?");
	return STEP_WAIT;
}

static enum step auth_password_start(struct ssh_session *s)
{
	bool pw = method_offered(s, "password") && !s->pw_method_tried;
	bool kbd = method_offered(s, "keyboard-interactive") &&
		   !s->kbd_method_tried;

	if (!pw && !kbd)
		return auth_fail(s);
	if (s->ctx->cb.secret_needed == NULL)
		return auth_fail(s);
	if (s->password == NULL) {
		if (s->password_attempt >= MAX_SECRET_ATTEMPTS)
			return auth_fail(s);
		set_state(s, SSH_S_AUTH_PASSWORD_ASK);
		ask_secret(s, ASK_PASSWORD, SSH_SECRET_PASSWORD, NULL,
			   ++s->password_attempt);
		return STEP_NEXT;
	}
	if (pw) {
		if (s->password_attempt == 1)
			tried_add(s, "password");
		set_state(s, SSH_S_AUTH_PASSWORD);
	} else {
		if (s->password_attempt == 1)
			tried_add(s, "keyboard-interactive");
		set_state(s, SSH_S_AUTH_KBDINT);
	}
	return STEP_NEXT;
}

static enum step st_password_ask(struct ssh_session *s)
{
	if (!s->answered)
		return STEP_WAIT;
	s->ask = ASK_NONE;
	if (s->answer_secret == NULL)
		return auth_fail(s);
	s->password = s->answer_secret;
	s->answer_secret = NULL;
	return auth_password_start(s);
}

static enum step auth_password_result(struct ssh_session *s, int rc,
				      bool *method_tried)
{
	struct wiz_error e;

	if (rc == LIBSSH2_ERROR_EAGAIN)
		return STEP_BLOCK;
	if (rc == 0) {
		log_debug("ssh", "%s: authenticated with a password", s->name);
		ready(s);
		return STEP_WAIT;
	}
	secret_free(&s->password);
	ssh_lib_error(s, rc, _("password authentication"), &e);
	if (e.code == WIZ_ERR_UNREACHABLE) {
		ssh_session_fail(s, e.code, "%s", e.msg);
		return STEP_WAIT;
	}
	log_debug("ssh", "%s", e.msg);
	if (rc != LIBSSH2_ERROR_AUTHENTICATION_FAILED)
		*method_tried = true;	/* method itself unusable */
	return auth_password_start(s);
}

static enum step st_auth_password(struct ssh_session *s)
{
	int rc = libssh2_userauth_password_ex(s->ssh, s->user,
					      (unsigned)strlen(s->user),
					      s->password,
					      (unsigned)strlen(s->password),
					      NULL);

	return auth_password_result(s, rc, &s->pw_method_tried);
}

static LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC(kbdint_respond)
{
	struct ssh_session *s = *abstract;

	(void)name;
	(void)name_len;
	(void)instruction;
	(void)instruction_len;
	/* Every hidden prompt gets the password (PAM's "Password: "); echoed
	 * prompts get an empty answer. libssh2 frees (and our allocator
	 * wipes) the copies. */
	for (int i = 0; i < num_prompts; i++) {
		const char *ans = prompts[i].echo || s->password == NULL
					  ? "" : s->password;

		responses[i].text = strdup(ans);
		responses[i].length = responses[i].text ? (unsigned)strlen(ans) : 0;
	}
}

static enum step st_auth_kbdint(struct ssh_session *s)
{
	int rc = libssh2_userauth_keyboard_interactive_ex(
		s->ssh, s->user, (unsigned)strlen(s->user), kbdint_respond);

	return auth_password_result(s, rc, &s->kbd_method_tried);
}

static enum step st_hostkey(struct ssh_session *s)
{
	enum wiz_err rc = ssh_hostkey_check(s);

	if (rc == WIZ_ERR_AGAIN) {
		set_state(s, SSH_S_HOSTKEY_ASK);
		return STEP_WAIT;
	}
	if (rc != WIZ_ERR_OK)
		return STEP_WAIT;	/* failed inside */
	set_state(s, SSH_S_AUTH_LIST);
	set_phase_deadline(s, s->t_auth);
	return STEP_NEXT;
}

static enum step st_hostkey_ask(struct ssh_session *s)
{
	if (!s->answered)
		return STEP_WAIT;
	s->ask = ASK_NONE;
	if (ssh_hostkey_finish(s, (enum ssh_hostkey_answer)s->hk_answer) !=
	    WIZ_ERR_OK)
		return STEP_WAIT;
	set_state(s, SSH_S_AUTH_LIST);
	set_phase_deadline(s, s->t_auth);
	return STEP_NEXT;
}

static enum step st_disconnect(struct ssh_session *s)
{
	int rc = libssh2_session_disconnect(s->ssh, "done");

	if (rc == LIBSSH2_ERROR_EAGAIN && loop_now() < s->phase_deadline)
		return STEP_BLOCK;
	session_close_transport(s, false);
	set_state(s, SSH_S_CLOSED);
	s->phase_deadline = 0;
	return STEP_WAIT;
}

static void keepalive(struct ssh_session *s, uint64_t now)
{
	int next = 0, rc;

	if (now < s->next_keepalive)
		return;
	libssh2_keepalive_config(s->ssh, s->busy ? 1 : 0, s->ka_interval);
	rc = libssh2_keepalive_send(s->ssh, &next);
	/* BAD_USE: a packet of a channel write is half sent; try later. */
	if (rc != 0 && rc != LIBSSH2_ERROR_EAGAIN && rc != LIBSSH2_ERROR_BAD_USE) {
		struct wiz_error e;

		ssh_lib_error(s, rc, _("keepalive"), &e);
		ssh_session_fail(s, WIZ_ERR_UNREACHABLE, "%s", e.msg);
		return;
	}
	if (rc == 0)
		log_trace("ssh", "%s: keepalive", s->name);
	s->next_keepalive = now + (uint64_t)(next > 0 ? (unsigned)next : s->ka_interval) * 1000u;
}

static enum step session_step(struct ssh_session *s)
{
	switch (s->state) {
	case SSH_S_CONNECT:
		return s->fd < 0 ? st_connect_start(s) : st_connect(s);
	case SSH_S_HANDSHAKE:
		return st_handshake(s);
	case SSH_S_HOSTKEY:
		return st_hostkey(s);
	case SSH_S_HOSTKEY_ASK:
		return st_hostkey_ask(s);
	case SSH_S_AUTH_LIST:
		return st_auth_list(s);
	case SSH_S_AUTH_AGENT:
		return st_auth_agent(s);
	case SSH_S_AUTH_KEY:
		return st_auth_key(s);
	case SSH_S_AUTH_PASSPHRASE_ASK:
		return st_passphrase_ask(s);
	case SSH_S_AUTH_PASSWORD_ASK:
		return st_password_ask(s);
	case SSH_S_AUTH_PASSWORD:
		return st_auth_password(s);
	case SSH_S_AUTH_KBDINT:
		return st_auth_kbdint(s);
	case SSH_S_DISCONNECT:
		return st_disconnect(s);
	default:
		return STEP_WAIT;
	}
}

static void session_really_free(struct ssh_session *s);

static void check_deadlines(struct ssh_session *s, uint64_t now)
{
	if (s->ask == ASK_NONE && s->phase_deadline && now >= s->phase_deadline) {
		switch (s->state) {
		case SSH_S_CONNECT:
			if (s->resolve != NULL) {
				ssh_session_fail(s, WIZ_ERR_UNREACHABLE,
						 _("%s: cannot resolve %s: no answer from DNS within %u s; check the name or use its address"),
						 s->name, s->address, (s->t_connect + 999) / 1000);
				return;
			}
			ssh_session_fail(s, WIZ_ERR_UNREACHABLE,
					 _("%s: cannot connect to %s port %d: no answer within %u s"),
					 s->name, s->address, s->port,
					 (s->t_connect + 999) / 1000);
			return;
		case SSH_S_DISCONNECT:
			return;	/* st_disconnect handles it */
		default:
			ssh_session_fail(s, WIZ_ERR_TIMEOUT,
					 _("%s: timed out in state %s after %u s"),
					 s->name, ssh_state_name(s->state),
					 ((s->state == SSH_S_HANDSHAKE ||
					   s->state == SSH_S_HOSTKEY)
						  ? s->t_handshake : s->t_auth) / 1000);
			return;
		}
	}
	if (s->state == SSH_S_READY && s->busy) {
		uint64_t ref = s->last_rx > s->busy_since ? s->last_rx : s->busy_since;
		uint64_t dead = (uint64_t)s->ka_interval * s->ka_count * 1000u;

		if (now > ref + dead) {
			ssh_session_fail(s, WIZ_ERR_UNREACHABLE,
					 _("%s: host unreachable: no answer for %u s (keepalive every %u s)"),
					 s->name, (unsigned)((now - ref) / 1000),
					 s->ka_interval);
		}
	}
}

static void session_drive(struct ssh_session *s)
{
	uint64_t now, io_before = s->io_count;

	if (s->in_drive > 0) {
		s->redrive = true;
		return;
	}
	s->in_drive++;
	do {
		enum step st;

		s->redrive = false;
		do {
			st = session_step(s);
			if (st == STEP_BLOCK)
				ssh_session_note_block(s);
		} while (st == STEP_NEXT);

		if (s->state == SSH_S_READY) {
			bool was_busy = s->busy;

			while (ssh_ops_drive(s) && s->state == SSH_S_READY)
				s->io_count++;
			s->busy = s->state == SSH_S_READY && ssh_ops_active(s);
			if (s->busy && !was_busy)
				s->busy_since = loop_now();
		}
		now = loop_now();
		check_deadlines(s, now);
		if (s->state == SSH_S_READY)
			keepalive(s, now);
		if (s->state == SSH_S_READY) {
			uint64_t calls = s->stream_calls;

			ssh_streams_notify(s);
			/* The streams read the socket for every channel: an
			 * operation's reply may be queued now, and only a drive of
			 * the operations sees it (once: no loop on idle streams). */
			if (s->ops != NULL && s->stream_calls != calls && !s->free_pending)
				while (s->state == SSH_S_READY && ssh_ops_drive(s))
					s->io_count++;
		}
		ssh_ops_run_callbacks(s);
	} while (s->redrive && !s->free_pending);
	s->in_drive--;
	if (s->free_pending) {
		session_really_free(s);
		return;
	}
	ssh_session_update_interest(s);
	session_arm_timer(s);
	/* Data libssh2 has queued for a channel is not seen by poll(), so
	 * the session drives itself again: at once after a drive that moved
	 * bytes, else after SSH_REDRIVE_IDLE_MS. Not at once every time: a
	 * channel can hold bytes its reader does not want yet, and that spun
	 * the loop (700 polls a second per idle dashboard); not never: a
	 * drive can decode packets that are not data (exit status, EOF)
	 * while more wait behind them. */
	if (s->state == SSH_S_READY && ssh_ops_data_queued(s)) {
		if (s->io_count != io_before)
			ssh_session_kick(s);
		else if (!loop_timer_armed(s->kick))
			loop_timer_arm_in(s->kick, SSH_REDRIVE_IDLE_MS);
	}
}

/* ---- public API ---- */

struct ssh_ctx *ssh_ctx_new(struct loop *loop, const struct ssh_callbacks *cb)
{
	struct ssh_ctx *ctx = xcalloc(1, sizeof *ctx);

	if (ssh_init_refs++ == 0)
		libssh2_init(0);
	ctx->loop = loop;
	if (cb != NULL)
		ctx->cb = *cb;
	return ctx;
}

void ssh_ctx_free(struct ssh_ctx *ctx)
{
	if (ctx == NULL)
		return;
	while (ctx->n_sessions > 0) {
		struct ssh_session *s = ctx->sessions[ctx->n_sessions - 1];

		s->in_drive = 0;
		s->free_pending = false;
		ssh_session_free(s);
	}
	free(ctx->sessions);
	/* Lookups still running own their memory: wait for them a little
	 * (they are bounded by the resolver's own timeouts), then let go. */
	for (int i = 0; i < 20 && ctx->abandoned != NULL; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		const struct gaicb *one[1] = { &ctx->abandoned->req };

		gai_suspend(one, 1, &ts);
		resolve_reap(ctx);
	}
	free(ctx);
	if (--ssh_init_refs == 0)
		libssh2_exit();
}

struct loop *ssh_ctx_loop(const struct ssh_ctx *ctx)
{
	return ctx->loop;
}

struct ssh_session *ssh_session_new(struct ssh_ctx *ctx,
				    const struct ssh_host_config *cfg)
{
	struct ssh_session *s = xcalloc(1, sizeof *s);
	const char *user = cfg->user;

	if (user == NULL || *user == '\0') {
		struct passwd *pw = getpwuid(getuid());

		user = getenv("USER");
		if (user == NULL)
			user = pw ? pw->pw_name : "root";
	}
	s->ctx = ctx;
	s->address = xstrdup(cfg->address);
	s->name = xstrdup(cfg->name && *cfg->name ? cfg->name : cfg->address);
	s->port = cfg->port > 0 ? cfg->port : 22;
	s->user = xstrdup(user);
	s->identity_file = dup_or_null(cfg->identity_file);
	s->known_hosts = ssh_known_hosts_path(cfg->known_hosts);
	s->pinned = dup_or_null(cfg->pinned_fingerprint);
	s->sudo = cfg->sudo && strcmp(s->user, "root") != 0;
	s->accept_new = cfg->accept_new_host_keys;
	s->no_agent = cfg->no_agent;
	s->t_connect = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : DEF_CONNECT_MS;
	s->t_handshake = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms : DEF_HANDSHAKE_MS;
	s->t_auth = cfg->auth_timeout_ms ? cfg->auth_timeout_ms : DEF_AUTH_MS;
	s->t_op = cfg->op_timeout_ms ? cfg->op_timeout_ms : DEF_OP_MS;
	s->ka_interval = cfg->keepalive_interval_s ? cfg->keepalive_interval_s : DEF_KA_INTERVAL;
	s->ka_count = cfg->keepalive_count_max ? cfg->keepalive_count_max : DEF_KA_COUNT;
	s->fd = -1;
	s->hk_answer = -1;
	s->state = SSH_S_IDLE;
	s->timer = loop_timer_add(ctx->loop, session_timer_cb, s);
	s->kick = loop_timer_add(ctx->loop, session_timer_cb, s);
	ctx->sessions = xreallocarray(ctx->sessions, ctx->n_sessions + 1,
				      sizeof(void *));
	ctx->sessions[ctx->n_sessions++] = s;
	log_debug("ssh", "%s: new session %s@%s port %d", s->name, s->user,
		  s->address, s->port);
	return s;
}

static void session_really_free(struct ssh_session *s)
{
	struct ssh_ctx *ctx = s->ctx;

	s->free_pending = false;
	s->in_drive++;
	if (s->state != SSH_S_FAILED && s->state != SSH_S_CLOSED)
		set_state(s, SSH_S_CLOSED);
	wiz_error_set(&s->error, WIZ_ERR_CANCELLED, _("%s: session closed"),
		      s->name);
	ssh_ops_fail_all(s, WIZ_ERR_CANCELLED, &s->error);
	ssh_ops_run_callbacks(s);
	session_close_transport(s, s->state == SSH_S_READY);
	session_clear_auth(s);
	secret_free(&s->sudo_password);
	loop_timer_del(s->timer);
	loop_timer_del(s->kick);
	for (size_t i = 0; i < ctx->n_sessions; i++) {
		if (ctx->sessions[i] == s) {
			ctx->sessions[i] = ctx->sessions[--ctx->n_sessions];
			break;
		}
	}
	free(s->name);
	free(s->address);
	free(s->user);
	free(s->identity_file);
	free(s->known_hosts);
	free(s->pinned);
	free(s->hk_type);
	free(s->hk_fp);
	free(s);
}

void ssh_session_free(struct ssh_session *s)
{
	if (s == NULL)
		return;
	if (s->in_drive > 0) {
		s->free_pending = true;
		return;
	}
	session_really_free(s);
}

void ssh_session_connect(struct ssh_session *s, ssh_connect_fn cb, void *ud)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	char port[16];
	int rc;

	if (s->state != SSH_S_IDLE && s->state != SSH_S_FAILED &&
	    s->state != SSH_S_CLOSED) {
		if (cb != NULL) {
			if (s->connect_cb == NULL) {
				s->connect_cb = cb;
				s->connect_ud = ud;
			}
			if (s->state == SSH_S_READY)
				session_finish_connect(s);
		}
		return;
	}
	s->connect_cb = cb;
	s->connect_ud = ud;
	wiz_error_clear(&s->error);
	free(s->hk_type);
	free(s->hk_fp);
	s->hk_type = s->hk_fp = NULL;
	snprintf(port, sizeof port, "%d", s->port);
	rc = getaddrinfo(s->address, port, &hints, &s->ai_list);
	if (rc == EAI_NONAME) {
		/* A DNS name: looked up in the background, polled from the loop
		 * and bounded by the connect timeout. */
		log_debug("ssh", "%s: resolving %s", s->name, s->address);
		s->ai_list = NULL;
		rc = resolve_start(s, port);
	}
	set_state(s, SSH_S_CONNECT);
	set_phase_deadline(s, s->t_connect);
	if (rc != 0) {
		s->ai_list = NULL;
		ssh_session_fail(s, WIZ_ERR_UNREACHABLE,
				 _("%s: cannot resolve %s: %s"), s->name,
				 s->address, gai_strerror(rc));
		return;
	}
	s->ai_next = s->ai_list;
	s->connect_errno = ECONNREFUSED;
	ssh_session_kick(s);
}

static void connect_sync_cb(struct ssh_session *s, enum wiz_err code,
			    const struct wiz_error *err, void *ud)
{
	(void)s;
	(void)err;
	*(int *)ud = (int)code;
}

static bool int_set(void *ud)
{
	return *(int *)ud >= 0;
}

enum wiz_err ssh_session_connect_sync(struct ssh_session *s,
				      struct wiz_error *err)
{
	int code = -1;
	enum wiz_err rc;

	if (s->state == SSH_S_READY)
		return WIZ_ERR_OK;
	ssh_session_connect(s, connect_sync_cb, &code);
	rc = loop_run_until(s->ctx->loop, int_set, &code, 0);
	if (rc != WIZ_ERR_OK)
		return wiz_error_set(err, rc, _("%s: event loop stopped"), s->name);
	if (code != WIZ_ERR_OK && err != NULL)
		*err = s->error;
	return (enum wiz_err)code;
}

void ssh_session_disconnect(struct ssh_session *s)
{
	if (s->state != SSH_S_READY) {
		/* Still connecting: the operations queued behind the connect
		 * and whoever waits for it are told, and a question pending is
		 * withdrawn (ssh_session_fail), so nothing waits forever. */
		if (s->state != SSH_S_IDLE && s->state != SSH_S_FAILED && s->state != SSH_S_CLOSED &&
		    s->state != SSH_S_DISCONNECT)
			ssh_session_fail(s, WIZ_ERR_CANCELLED, _("%s: disconnected"), s->name);
		return;
	}
	wiz_error_set(&s->error, WIZ_ERR_CANCELLED, _("%s: disconnected"), s->name);
	ssh_ops_fail_all(s, WIZ_ERR_CANCELLED, &s->error);
	set_state(s, SSH_S_DISCONNECT);
	set_phase_deadline(s, DISCONNECT_MS);
	ssh_session_kick(s);
}

enum ssh_state ssh_session_state(const struct ssh_session *s)
{
	return s->state;
}

const char *ssh_session_name(const struct ssh_session *s)
{
	return s->name;
}

const struct wiz_error *ssh_session_error(const struct ssh_session *s)
{
	return &s->error;
}

const char *ssh_session_hostkey_fingerprint(const struct ssh_session *s)
{
	return s->hk_fp;
}

const char *ssh_session_hostkey_type(const struct ssh_session *s)
{
	return s->hk_type;
}

void ssh_session_set_userdata(struct ssh_session *s, void *ud)
{
	s->userdata = ud;
}

void *ssh_session_userdata(const struct ssh_session *s)
{
	return s->userdata;
}

void ssh_session_hostkey_answer(struct ssh_session *s,
				enum ssh_hostkey_answer answer)
{
	if (s->ask != ASK_HOSTKEY)
		return;
	s->hk_answer = (int)answer;
	s->answered = true;
	ssh_session_kick(s);
}

void ssh_session_secret_answer(struct ssh_session *s, char *secret)
{
	if (s->ask == ASK_SUDO) {
		s->ask = ASK_NONE;
		s->sudo_asking = false;
		secret_free(&s->sudo_password);
		s->sudo_password = secret;
		ssh_ops_sudo_answered(s);
		ssh_session_kick(s);
		return;
	}
	if (s->ask != ASK_PASSPHRASE && s->ask != ASK_PASSWORD) {
		if (secret != NULL)
			wiz_free_secret(secret, strlen(secret));
		return;
	}
	secret_free(&s->answer_secret);
	s->answer_secret = secret;
	s->answered = true;
	ssh_session_kick(s);
}

void ssh_host_config_from_cluster(const struct cluster *c, const struct host *h,
				  struct ssh_host_config *cfg)
{
	struct ssh_settings eff;
	const char *target = cluster_host_ssh_target(h);
	const char *pin = kvlist_get(&c->host_keys, h->name);

	cluster_host_ssh(c, h, &eff);
	if (pin == NULL)
		pin = kvlist_get(&c->host_keys, target);
	memset(cfg, 0, sizeof *cfg);
	cfg->name = h->name;
	cfg->address = target;
	cfg->port = eff.port;
	cfg->user = eff.user;
	cfg->identity_file = eff.identity_file;
	cfg->known_hosts = eff.known_hosts;
	cfg->sudo = eff.sudo > 0;
	cfg->pinned_fingerprint = pin;
}
