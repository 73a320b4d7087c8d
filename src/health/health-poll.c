/* Per-member refresh state machines for the health view; see health-poll.h. */
#include "config.h"

#include "health/health-poll.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/shquote.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "etcd/etcd-json.h"
#include "health/etcd-metrics.h"
#include "pki/pki-store.h"
#include "ssh/ssh.h"

/* What one HTTP connection is waiting for. */
enum poll_req { REQ_NONE, REQ_STATUS, REQ_HEALTH, REQ_VERSION, REQ_MEMBERS, REQ_ALARMS, REQ_METRICS };

struct poll_member;

/* One kept-alive HTTP connection: the client port (TLS) or the metrics
 * port (plain), over an SSH channel or a socket of this machine. */
struct poll_chan {
	struct poll_member *m;
	bool tls;
	const char *connect_host;	/* as the connecting side sees it */
	int port;
	bool busy;			/* part of the running refresh */

	struct ssh_op *opening;		/* the channel being opened */
	struct ssh_stream *stream;
	int fd;
	struct loop_io *io;
	bool connecting;		/* direct connect() in progress */
	struct http_conn *http;

	enum poll_req req;		/* outstanding, or queued until connected */
	uint64_t t_sent;
};

struct poll_member {
	struct health_poll *p;
	size_t idx;
	char *name, *host;
	int port;
	bool has_ssh;
	struct ssh_host_config ssh_cfg;	/* strings owned below */
	char *cfg_strings[7];
	struct ssh_session *session;
	/* Borrowed: someone else's session (the wizard's fleet), never freed
	 * or disconnected here; a failed one is handed back to its owner to
	 * connect again (reconnect), a refused login not more often than
	 * HEALTH_POLL_LOGIN_RETRY_MS. */
	bool borrowed;
	void (*reconnect)(void *ud, size_t member);
	void *reconnect_ud;
	uint64_t reconnect_t;		/* when reconnect was last asked for */
	struct addrinfo *addr;		/* direct */

	struct poll_chan client, metrics;
	struct ssh_op *host_op;
	uint64_t host_checked;		/* when the last host check was started */
	uint64_t metrics_read;		/* when the last /metrics read was started */
	uint64_t version_read;		/* when /version last answered */
	bool want_version;		/* this refresh reads /version */

	struct loop_timer *next;	/* the next refresh */
	struct loop_timer *deadline;
	/* The last time the session failed, and why: a login that was
	 * refused is not tried again before HEALTH_POLL_LOGIN_RETRY_MS. */
	struct wiz_error ssh_fail;
	uint64_t ssh_fail_t;
	/* health_poll_login: connect, then a command through sudo. */
	bool logging_in;
	unsigned login_tries;
	struct loop_timer *login_retry;
	bool running;
	unsigned pending;		/* parts of the refresh still running */
	uint64_t t_start;
	uint64_t rounds;
	bool fetching_cluster;		/* this refresh also reads the member list */

	/* This refresh's answers. */
	char *error;
	enum health_transport transport;	/* the SSH session failed */
	double latency_ms;
	struct etcd_status status;
	struct etcd_health health;
	struct etcd_version version;
	struct etcd_member_list members;
	struct etcd_alarm_list alarms;
	struct etcd_metrics *metrics_data;
	struct health_host hostinfo;
	bool got_status, got_health, got_version, got_members, got_alarms, got_metrics, got_host;
};

struct health_poll {
	struct health_poll_opts o;
	struct health_cluster *c;
	struct poll_member *members;
	size_t n;
	uint64_t cluster_t;		/* when the member list was last read */
	bool cluster_fetching;
	bool fixed;			/* no more members (pointers handed out) */
	bool login_over;
	bool started;
};

static void chan_send(struct poll_chan *ch);
static void part_done(struct poll_member *m);

/* ---- errors of one refresh ------------------------------------------------ */

static void member_error(struct poll_member *m, const char *what, const char *msg)
{
	if (m->error == NULL)
		m->error = xasprintf("%s: %s", what, msg);
}

/* The member's SSH session failed or never came up, so this refresh saw
 * nothing of etcd there: its state is unknown, not down. A refused login
 * or host key says more than a timeout, so it wins. */
static void member_transport_failed(struct poll_member *m, enum wiz_err code, const char *msg)
{
	enum health_transport t = code == WIZ_ERR_AUTH || code == WIZ_ERR_HOSTKEY
					  ? TRANSPORT_LOGIN : TRANSPORT_UNREACHABLE;

	if (m->transport == TRANSPORT_OK || t == TRANSPORT_LOGIN)
		m->transport = t;
	member_error(m, "ssh", msg && msg[0] ? msg : wiz_err_name(code));
}

/* After an operation of the session failed: was it the session itself? */
static void member_check_session(struct poll_member *m, enum wiz_err code)
{
	if (code == WIZ_ERR_CANCELLED || m->session == NULL ||
	    ssh_session_state(m->session) != SSH_S_FAILED)
		return;
	member_transport_failed(m, ssh_session_error(m->session)->code,
				ssh_session_error(m->session)->msg);
}

/* ---- connections ------------------------------------------------------------ */

static void chan_drop(struct poll_chan *ch)
{
	if (ch->http != NULL) {
		struct http_conn *h = ch->http;

		ch->http = NULL;
		http_conn_free(h);
	}
	if (ch->stream != NULL) {
		ssh_stream_close(ch->stream);
		ch->stream = NULL;
	}
	if (ch->io != NULL) {
		loop_io_del(ch->io);
		ch->io = NULL;
	}
	if (ch->fd >= 0) {
		close(ch->fd);
		ch->fd = -1;
	}
	ch->connecting = false;
}

/* For messages: which call failed, briefly (the table's ERRORS column). */
static const char *req_name(enum poll_req r)
{
	switch (r) {
	case REQ_STATUS: return "status";
	case REQ_HEALTH: return "health";
	case REQ_VERSION: return "version";
	case REQ_MEMBERS: return "member list";
	case REQ_ALARMS: return "alarms";
	case REQ_METRICS: return "metrics";
	case REQ_NONE: break;
	}
	return "";
}

static const char *req_path(enum poll_req r)
{
	switch (r) {
	case REQ_STATUS: return "/v3/maintenance/status";
	case REQ_HEALTH: return "/health";
	case REQ_VERSION: return "/version";
	case REQ_MEMBERS: return "/v3/cluster/member/list";
	case REQ_ALARMS: return "/v3/maintenance/alarm";
	case REQ_METRICS: return "/metrics";
	case REQ_NONE: break;
	}
	return "";
}

/* The chain ends: this connection's part of the refresh is done. */
static void chan_finish(struct poll_chan *ch)
{
	ch->req = REQ_NONE;
	if (ch->busy) {
		ch->busy = false;
		part_done(ch->m);
	}
}

static void chan_fail(struct poll_chan *ch, const char *msg)
{
	member_error(ch->m, req_name(ch->req), msg);
	chan_drop(ch);
	chan_finish(ch);
}

/* The next request of a connection's chain after `done`. */
static enum poll_req next_req(const struct poll_member *m, enum poll_req done)
{
	switch (done) {
	case REQ_STATUS: return REQ_HEALTH;
	case REQ_HEALTH:
		if (m->want_version)
			return REQ_VERSION;
		return m->fetching_cluster ? REQ_MEMBERS : REQ_NONE;
	case REQ_VERSION: return m->fetching_cluster ? REQ_MEMBERS : REQ_NONE;
	case REQ_MEMBERS: return REQ_ALARMS;
	default: return REQ_NONE;
	}
}

static void on_http(struct http_conn *c, enum wiz_err rc, const struct http_response *r,
		    const struct wiz_error *err, void *ud)
{
	struct poll_chan *ch = ud;
	struct poll_member *m = ch->m;
	struct wiz_error perr = { 0 };
	enum wiz_err prc = WIZ_ERR_OK;
	enum poll_req done = ch->req;

	(void)c;
	if (rc != WIZ_ERR_OK) {
		chan_fail(ch, err && err->msg[0] ? err->msg : wiz_err_name(rc));
		return;
	}
	/* /health answers 503 with a JSON body when the member is unhealthy. */
	if (r->status != 200 && !(done == REQ_HEALTH && r->status == 503)) {
		char msg[64];

		snprintf(msg, sizeof msg, "HTTP %d", r->status);
		chan_fail(ch, msg);
		return;
	}
	switch (done) {
	case REQ_STATUS:
		m->latency_ms = (double)(loop_now() - ch->t_sent);
		prc = etcd_json_parse_status(r->body, r->body_len, &m->status, &perr);
		m->got_status = prc == WIZ_ERR_OK;
		break;
	case REQ_HEALTH:
		prc = etcd_json_parse_health(r->body, r->body_len, &m->health, &perr);
		m->got_health = prc == WIZ_ERR_OK;
		break;
	case REQ_VERSION:
		prc = etcd_json_parse_version(r->body, r->body_len, &m->version, &perr);
		m->got_version = prc == WIZ_ERR_OK;
		if (m->got_version)
			m->version_read = loop_now();
		break;
	case REQ_MEMBERS:
		prc = etcd_json_parse_member_list(r->body, r->body_len, &m->members, &perr);
		m->got_members = prc == WIZ_ERR_OK;
		break;
	case REQ_ALARMS:
		prc = etcd_json_parse_alarms(r->body, r->body_len, &m->alarms, &perr);
		m->got_alarms = prc == WIZ_ERR_OK;
		break;
	case REQ_METRICS:
		m->metrics_data = xcalloc(1, sizeof *m->metrics_data);
		prc = etcd_metrics_parse(r->body, r->body_len, m->metrics_data, &perr);
		m->got_metrics = prc == WIZ_ERR_OK;
		break;
	case REQ_NONE:
		break;
	}
	if (prc != WIZ_ERR_OK)
		member_error(m, req_name(done), perr.msg);
	ch->req = next_req(m, done);
	if (ch->req == REQ_NONE || (done == REQ_STATUS && !m->got_status)) {
		ch->req = REQ_NONE;
		chan_finish(ch);
		return;
	}
	chan_send(ch);
}

static void chan_stream_notify(struct ssh_stream *st, void *ud)
{
	struct poll_chan *ch = ud;

	(void)st;
	if (ch->http != NULL)
		http_conn_progress(ch->http);
}

static void chan_fd_watch(struct poll_chan *ch)
{
	if (ch->io != NULL)
		loop_io_set_events(ch->io, (short)(ch->connecting ? POLLOUT
					: POLLIN | (ch->http && http_conn_wants_write(ch->http)
						    ? POLLOUT : 0)));
}

static void chan_http_new(struct poll_chan *ch, struct byte_stream bs)
{
	struct poll_member *m = ch->m;
	char hostport[300];
	struct http_conn_opts ho = {
		.stream = bs,
		.creds = ch->tls ? m->p->o.creds : NULL,
		.server_name = m->host,
		.log_name = m->name,
	};

	snprintf(hostport, sizeof hostport, "%s:%d", ch->tls ? m->host : "127.0.0.1", ch->port);
	ho.host_header = hostport;
	ch->http = http_conn_new(&ho);
}

static void on_fd(struct loop_io *io, int fd, short revents, void *ud)
{
	struct poll_chan *ch = ud;

	(void)io;
	if (ch->connecting) {
		int soerr = 0;
		socklen_t sl = sizeof soerr;

		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
			soerr = errno;
		if (soerr != 0) {
			chan_fail(ch, strerror(soerr));
			return;
		}
		ch->connecting = false;
		chan_http_new(ch, (struct byte_stream){ &byte_stream_fd_ops, (void *)(intptr_t)fd });
		chan_send(ch);
		return;
	}
	if (ch->http != NULL)
		http_conn_progress(ch->http);
	chan_fd_watch(ch);
}

static void on_tunnel(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct poll_chan *ch = ud;

	(void)op;
	ch->opening = NULL;
	if (r->code != WIZ_ERR_OK) {
		member_check_session(ch->m, r->code);
		chan_fail(ch, r->err.msg[0] ? r->err.msg : wiz_err_name(r->code));
		return;
	}
	ch->stream = r->stream;
	r->stream = NULL;
	ssh_stream_set_notify(ch->stream, chan_stream_notify, ch);
	chan_http_new(ch, (struct byte_stream){ &byte_stream_ssh_ops, ch->stream });
	chan_send(ch);
}

static bool chan_connect_direct(struct poll_chan *ch)
{
	struct poll_member *m = ch->m;
	struct addrinfo *ai;
	int fd = -1;

	for (ai = m->addr; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (ai->ai_family == AF_INET)
			((struct sockaddr_in *)(void *)ai->ai_addr)->sin_port = htons((uint16_t)ch->port);
		else if (ai->ai_family == AF_INET6)
			((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_port =
				htons((uint16_t)ch->port);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		chan_fail(ch, m->addr ? strerror(errno) : _("the address does not resolve"));
		return false;
	}
	ch->fd = fd;
	ch->connecting = true;
	ch->io = loop_io_add(m->p->o.loop, fd, POLLOUT, on_fd, ch);
	return true;
}

/* Send ch->req, connecting first when needed. */
static void chan_send(struct poll_chan *ch)
{
	static const char empty[] = "{}";
	static const char alarm_get[] = "{\"action\":\"GET\"}";
	struct poll_member *m = ch->m;
	const char *body = NULL;
	enum wiz_err rc;

	if (ch->http == NULL) {
		if (ch->opening != NULL || ch->connecting)
			return;		/* the request goes when connected */
		if (m->p->o.direct)
			chan_connect_direct(ch);
		else if (m->session != NULL)
			ch->opening = ssh_tunnel_open(m->session, ch->connect_host, ch->port,
						      on_tunnel, ch);
		else
			chan_fail(ch, _("no SSH session"));
		return;
	}
	switch (ch->req) {
	case REQ_STATUS: case REQ_MEMBERS: body = empty; break;
	case REQ_ALARMS: body = alarm_get; break;
	default: break;
	}
	ch->t_sent = loop_now();
	rc = http_conn_request(ch->http, body ? "POST" : "GET", req_path(ch->req), body, on_http,
			       ch);
	if (rc != WIZ_ERR_OK) {
		/* The connection closed while idle (keep-alive ended): once more
		 * on a new one. */
		chan_drop(ch);
		if (rc == WIZ_ERR_CANCELLED) {
			chan_send(ch);
			return;
		}
		chan_fail(ch, wiz_err_name(rc));
		return;
	}
	if (ch->io != NULL)
		chan_fd_watch(ch);
}

/* ---- the host check ------------------------------------------------------------ */

static char *host_check_cmd(const char *data_dir, const char *backup_dir)
{
	char *q = sh_quote(data_dir);
	char *bq = sh_quote(backup_dir ? backup_dir : "");
	/* One command, plain POSIX tools; its output is read by
	 * health_host_parse(). crictl is there on a real node, the process
	 * check covers the lab's stand-in and hosts without crictl. */
	char *cmd = xasprintf(
		"df -P -B1 %s 2>/dev/null | awk 'NR==2 {print \"disk\", $2, $4}'; "
		"printf 'kubelet %%s\\n' \"$(systemctl is-active kubelet 2>/dev/null)\"; "
		"if command -v crictl >/dev/null 2>&1 && "
		"crictl ps -q --name '^etcd$' --state running 2>/dev/null | grep -q .; "
		"then echo 'pod running'; elif pgrep -x etcd >/dev/null 2>&1; then echo 'pod running'; "
		"else echo 'pod not-running'; fi; "
		/* kubelet's view of the container, where the host keeps it (the
		 * lab's stand-in writes a status file per container). */
		"for f in /run/kubelet-standin/status/kube-system_etcd*_etcd; do "
		"[ -f \"$f\" ] && sed 's/^/podstatus /' \"$f\"; break; done; "
		"for f in /etc/kubernetes/pki/etcd/*.crt /etc/kubernetes/pki/apiserver-etcd-client.crt; do "
		"[ -r \"$f\" ] && printf 'cert %%s\\n' \"$f\" && cat \"$f\"; done; "
		/* Scheduled snapshots: the timer's next two runs (their
		 * distance is the period) and the newest snapshot. */
		"t=/etc/systemd/system/etcdwiz-backup.timer; d=%s; "
		"if [ -n \"$d\" ] && [ -f \"$t\" ]; then echo backuptimer; "
		"TZ=UTC systemd-analyze calendar --iterations=2 \"$(sed -n 's/^OnCalendar=//p' \"$t\")\" 2>/dev/null | "
		"sed -n 's/^ *Next elapse: /backupnext /p; s/^ *Iter\\. #2: /backupnext2 /p'; "
		"printf 'backuplast %%s\\n' \"$(systemctl show --timestamp=unix -P LastTriggerUSec etcdwiz-backup.timer 2>/dev/null)\"; "
		"set -- $(ls -1t \"$d\"/*.db 2>/dev/null); "
		"[ $# -gt 0 ] && printf 'backup %%s %%s\\n' \"$(stat -c %%Y \"$1\")\" \"$#\"; fi; true",
		q, bq);

	free(q);
	free(bq);
	return cmd;
}

static void on_host_check(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct poll_member *m = ud;

	(void)op;
	m->host_op = NULL;
	if (r->code == WIZ_ERR_OK) {
		health_host_parse(r->out, r->out_len, &m->hostinfo);
		m->got_host = true;
	} else if (r->code != WIZ_ERR_CANCELLED) {
		member_check_session(m, r->code);
		member_error(m, _("host check"), r->err.msg[0] ? r->err.msg : wiz_err_name(r->code));
	}
	part_done(m);
}

/* ---- one refresh ----------------------------------------------------------------- */

static void answers_free(struct poll_member *m)
{
	etcd_status_free(&m->status);
	etcd_health_free(&m->health);
	etcd_version_free(&m->version);
	etcd_member_list_free(&m->members);
	etcd_alarm_list_free(&m->alarms);
	free(m->metrics_data);
	m->metrics_data = NULL;
	free(m->error);
	m->error = NULL;
	m->got_status = m->got_health = m->got_version = false;
	m->got_members = m->got_alarms = m->got_metrics = m->got_host = false;
	m->transport = TRANSPORT_OK;
	m->latency_ms = NAN;
}

static void schedule_next(struct poll_member *m)
{
	uint64_t at = m->t_start + m->p->o.interval_ms, now = loop_now();

	loop_timer_arm_at(m->next, at > now ? at : now);
}

static void member_finish(struct poll_member *m)
{
	struct health_poll *p = m->p;
	struct health_observation o = {
		.t_ms = loop_now(),
		.latency_ms = m->latency_ms,
		.refresh_ms = (double)(loop_now() - m->t_start),
		.error = m->error,
		.status = m->got_status ? &m->status : NULL,
		.health = m->got_health ? &m->health : NULL,
		.version = m->got_version ? &m->version : NULL,
		.metrics = m->got_metrics ? m->metrics_data : NULL,
		.host = m->got_host ? &m->hostinfo : NULL,
		.transport = m->got_status ? TRANSPORT_OK : m->transport,
		.transport_host = m->ssh_cfg.address,
	};

	m->running = false;
	loop_timer_disarm(m->deadline);
	if (!m->got_status)
		m->version_read = 0;	/* back from down: maybe another version */
	if (!m->got_status && m->error == NULL)
		m->error = xstrdup(_("no answer"));
	o.error = m->error;
	health_member_update(&p->c->members[m->idx], &o);
	if (m->fetching_cluster) {
		p->cluster_fetching = false;
		m->fetching_cluster = false;
		if (m->got_members) {
			health_cluster_set_member_list(p->c, &m->members);
			p->cluster_t = o.t_ms;
		}
		if (m->got_alarms)
			health_cluster_set_alarms(p->c, &m->alarms);
	}
	m->rounds++;
	answers_free(m);
	schedule_next(m);
	if (p->o.updated != NULL)
		p->o.updated(p, m->idx, p->o.ud);
}

static void part_done(struct poll_member *m)
{
	if (m->pending > 0 && --m->pending == 0 && m->running)
		member_finish(m);
}

static void on_deadline(struct loop_timer *t, void *ud)
{
	struct poll_member *m = ud;
	char msg[96];
	bool ssh_stuck = m->client.opening != NULL || m->metrics.opening != NULL;

	(void)t;
	snprintf(msg, sizeof msg, _("no answer within %u ms"), m->p->o.timeout_ms);
	/* Nothing from etcd, and the SSH session is not up or did not answer
	 * either: this member was not seen. */
	if (!m->got_status && m->session != NULL) {
		enum ssh_state st = ssh_session_state(m->session);

		switch (st) {
		case SSH_S_HOSTKEY_ASK:
		case SSH_S_AUTH_LIST:
		case SSH_S_AUTH_AGENT:
		case SSH_S_AUTH_KEY:
		case SSH_S_AUTH_PASSPHRASE_ASK:
		case SSH_S_AUTH_PASSWORD_ASK:
		case SSH_S_AUTH_PASSWORD:
		case SSH_S_AUTH_KBDINT:
			member_transport_failed(m, WIZ_ERR_AUTH, msg);
			break;
		case SSH_S_READY:
			if (ssh_stuck)	/* the host stopped answering */
				member_transport_failed(m, WIZ_ERR_UNREACHABLE, msg);
			break;
		default:
			member_transport_failed(m, WIZ_ERR_UNREACHABLE, msg);
			break;
		}
	}
	if (m->error == NULL)
		m->error = xstrdup(msg);
	/* Each cancellation ends its part; the last one finishes the refresh.
	 * Hold one part so that does not happen halfway through. */
	m->pending++;
	if (m->client.http != NULL && m->client.busy)
		http_conn_abort(m->client.http, WIZ_ERR_TIMEOUT, msg);
	if (m->metrics.http != NULL && m->metrics.busy)
		http_conn_abort(m->metrics.http, WIZ_ERR_TIMEOUT, msg);
	if (m->client.opening != NULL)
		ssh_op_cancel(m->client.opening);
	if (m->metrics.opening != NULL)
		ssh_op_cancel(m->metrics.opening);
	if (m->host_op != NULL)
		ssh_op_cancel(m->host_op);
	if (m->client.busy && m->client.connecting)
		chan_fail(&m->client, msg);
	if (m->metrics.busy && m->metrics.connecting)
		chan_fail(&m->metrics, msg);
	/* A session that could not even open a channel in time is stuck
	 * (a host that stopped answering): start a new one next time. */
	if (ssh_stuck && m->session != NULL) {
		chan_drop(&m->client);
		chan_drop(&m->metrics);
		/* A borrowed one is its owner's: its own deadlines end it. */
		if (!m->borrowed) {
			ssh_session_free(m->session);
			m->session = NULL;
		}
	}
	part_done(m);
}

static void chan_start(struct poll_chan *ch, enum poll_req first)
{
	ch->m->pending++;
	ch->busy = true;
	ch->req = first;
	chan_send(ch);
}

static bool metrics_reachable(const struct poll_member *m)
{
	if (m->p->o.metrics_port < 0)
		return false;
	if (!m->p->o.direct)
		return true;
	return strcmp(m->host, "localhost") == 0 || strncmp(m->host, "127.", 4) == 0 ||
	       strcmp(m->host, "::1") == 0;
}

static void member_refresh(struct loop_timer *t, void *ud)
{
	struct poll_member *m = ud;
	struct health_poll *p = m->p;
	uint64_t now = loop_now();

	(void)t;
	if (m->running)
		return;
	answers_free(m);
	m->running = true;
	m->t_start = now;
	m->pending = 1;		/* held until every part is started */
	loop_timer_arm_in(m->deadline, p->o.timeout_ms);
	if (!p->o.direct && m->has_ssh && m->session != NULL) {
		enum ssh_state st = ssh_session_state(m->session);

		/* A borrowed session never connected (Connect was skipped):
		 * its owner connects it; the request waits for it. */
		if (m->borrowed && st == SSH_S_IDLE && m->reconnect != NULL && m->reconnect_t == 0) {
			m->reconnect_t = now;
			m->reconnect(m->reconnect_ud, m->idx);
		}
		if (st == SSH_S_FAILED || st == SSH_S_CLOSED) {
			m->ssh_fail = *ssh_session_error(m->session);
			m->ssh_fail_t = now;
			member_transport_failed(m, m->ssh_fail.code, m->ssh_fail.msg);
			chan_drop(&m->client);
			chan_drop(&m->metrics);
			if (m->borrowed) {
				bool refused = m->ssh_fail.code == WIZ_ERR_AUTH ||
					       m->ssh_fail.code == WIZ_ERR_HOSTKEY;

				/* Against the last request, not the failure seen
				 * now (seen again at every refresh). */
				if (m->reconnect != NULL &&
				    (!refused || m->reconnect_t == 0 ||
				     now - m->reconnect_t >= HEALTH_POLL_LOGIN_RETRY_MS)) {
					m->reconnect_t = now;
					m->reconnect(m->reconnect_ud, m->idx);
				}
			} else {
				ssh_session_free(m->session);
				m->session = NULL;
			}
		}
	}
	if (!p->o.direct && m->has_ssh && m->session == NULL) {
		bool refused = m->ssh_fail.code == WIZ_ERR_AUTH || m->ssh_fail.code == WIZ_ERR_HOSTKEY;

		if (refused && now - m->ssh_fail_t < HEALTH_POLL_LOGIN_RETRY_MS) {
			/* Not every refresh: each try is a failed login on the host. */
			member_transport_failed(m, m->ssh_fail.code, m->ssh_fail.msg);
		} else {
			m->ssh_fail.code = WIZ_ERR_OK;
			m->session = ssh_session_new(p->o.ssh, &m->ssh_cfg);
			ssh_session_connect(m->session, NULL, NULL);
		}
	}
	if (!p->cluster_fetching && (p->cluster_t == 0 || now - p->cluster_t >= p->o.interval_ms)) {
		p->cluster_fetching = true;
		m->fetching_cluster = true;
	}
	/* The server version rarely changes (an upgrade restarts the member,
	 * which the status shows at once): read it now and then. */
	m->want_version = m->version_read == 0 || now - m->version_read >= HEALTH_POLL_VERSION_MS;
	chan_start(&m->client, REQ_STATUS);
	if (metrics_reachable(m) &&
	    (m->metrics_read == 0 || now - m->metrics_read >= HEALTH_POLL_METRICS_MS)) {
		m->metrics_read = now;
		chan_start(&m->metrics, REQ_METRICS);
	}
	if (!p->o.direct && m->session != NULL &&
	    (m->host_checked == 0 || now - m->host_checked >= HEALTH_POLL_HOST_CHECK_MS)) {
		char *cmd = host_check_cmd(p->o.data_dir ? p->o.data_dir : "/var/lib/etcd", p->o.backup_dir);
		struct ssh_exec_opts eo = {
			.as_root = true,
			.timeout_ms = p->o.timeout_ms,
			.max_output = 256 * 1024,
		};

		m->host_checked = now;
		m->pending++;
		m->host_op = ssh_exec(m->session, cmd, &eo, on_host_check, m);
		free(cmd);
	}
	part_done(m);
}

/* ---- the poller ------------------------------------------------------------------------ */

struct health_poll *health_poll_new(const struct health_poll_opts *o, struct health_cluster *c)
{
	struct health_poll *p = xcalloc(1, sizeof *p);

	p->o = *o;
	if (p->o.interval_ms == 0)
		p->o.interval_ms = HEALTH_POLL_INTERVAL_MS;
	if (p->o.interval_ms < HEALTH_POLL_MIN_INTERVAL_MS)
		p->o.interval_ms = HEALTH_POLL_MIN_INTERVAL_MS;
	if (p->o.timeout_ms == 0)
		p->o.timeout_ms = p->o.interval_ms > 2000 ? p->o.interval_ms : 2000;
	p->c = c;
	return p;
}

static void chan_init(struct poll_chan *ch, struct poll_member *m, bool tls, const char *host,
		      int port)
{
	memset(ch, 0, sizeof *ch);
	ch->m = m;
	ch->tls = tls;
	ch->connect_host = host;
	ch->port = port;
	ch->fd = -1;
}

void health_poll_add(struct health_poll *p, const char *name, const char *host, int port,
		     const struct ssh_host_config *ssh)
{
	struct poll_member *m;
	char endpoint[320];

	if (p->fixed)
		return;
	p->members = xreallocarray(p->members, p->n + 1, sizeof *p->members);
	m = &p->members[p->n];
	memset(m, 0, sizeof *m);
	m->p = p;
	m->idx = p->n++;
	m->name = xstrdup(name);
	m->host = xstrdup(host);
	m->port = port;
	health_host_init(&m->hostinfo);
	m->latency_ms = NAN;
	if (ssh != NULL) {
		const char *src[7] = { ssh->name, ssh->address, ssh->user, ssh->identity_file,
				       ssh->known_hosts, ssh->pinned_fingerprint, NULL };

		m->has_ssh = true;
		m->ssh_cfg = *ssh;
		for (size_t i = 0; i < 6; i++)
			m->cfg_strings[i] = src[i] ? xstrdup(src[i]) : NULL;
		m->ssh_cfg.name = m->cfg_strings[0];
		m->ssh_cfg.address = m->cfg_strings[1];
		m->ssh_cfg.user = m->cfg_strings[2];
		m->ssh_cfg.identity_file = m->cfg_strings[3];
		m->ssh_cfg.known_hosts = m->cfg_strings[4];
		m->ssh_cfg.pinned_fingerprint = m->cfg_strings[5];
	}
	if (p->o.direct) {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };

		/* Once, here: a name is resolved before the loop starts. */
		if (getaddrinfo(host, NULL, &hints, &m->addr) != 0)
			m->addr = NULL;
	}
	snprintf(endpoint, sizeof endpoint, strchr(host, ':') ? "https://[%s]:%d" : "https://%s:%d",
		 host, port);
	health_cluster_add(p->c, name, endpoint);
}

void health_poll_add_cluster(struct health_poll *p, const struct cluster *c, bool direct,
			     bool accept_new, const struct kvlist *accepted)
{
	for (size_t i = 0; i < c->n_members; i++) {
		const struct host *h = &c->members[i];
		struct ssh_host_config cfg;
		const char *once = accepted ? kvlist_get(accepted, h->name) : NULL;

		ssh_host_config_from_cluster(c, h, &cfg);
		cfg.accept_new_host_keys = accept_new;
		if (cfg.pinned_fingerprint == NULL && once != NULL)
			cfg.pinned_fingerprint = once;
		health_poll_add(p, h->name, h->address, 2379, direct ? NULL : &cfg);
	}
}

/* ---- logging in before the first refresh ------------------------------------------- */

#define LOGIN_TRIES 3	/* sudo probes, and connects after a timeout */
#define LOGIN_PROBE_MS 10000

static void login_probe(struct poll_member *m);

static void on_login_probe(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct poll_member *m = ud;

	(void)op;
	/* sudo did not take the password: once more, and only this host is
	 * asked again (or given another answer it has not refused). */
	if (r->code == WIZ_ERR_AUTH && !m->p->login_over && m->login_tries < LOGIN_TRIES &&
	    m->session != NULL && ssh_session_state(m->session) == SSH_S_READY) {
		login_probe(m);
		return;
	}
	m->logging_in = false;
}

static void login_probe(struct poll_member *m)
{
	struct ssh_exec_opts eo = {
		.as_root = true,
		.timeout_ms = m->p->o.timeout_ms > LOGIN_PROBE_MS ? m->p->o.timeout_ms
								   : LOGIN_PROBE_MS,
	};

	m->login_tries++;
	ssh_exec(m->session, "true", &eo, on_login_probe, m);
}

static void on_login(struct ssh_session *s, enum wiz_err code, const struct wiz_error *err,
		     void *ud)
{
	struct poll_member *m = ud;

	(void)s;
	(void)err;
	if (m->p->login_over || !m->logging_in)
		return;
	/* A question answered slowly holds the loop, and the other sessions'
	 * deadlines pass meanwhile: connect those again (from the loop, not
	 * from inside the session's own callback). */
	if (code == WIZ_ERR_TIMEOUT && m->login_tries < LOGIN_TRIES) {
		m->login_tries++;
		loop_timer_arm_in(m->login_retry, 0);
		return;
	}
	m->login_tries = 0;
	if (code != WIZ_ERR_OK || !m->ssh_cfg.sudo) {
		m->logging_in = false;
		return;
	}
	login_probe(m);
}

static void login_connect(struct loop_timer *t, void *ud)
{
	struct poll_member *m = ud;

	(void)t;
	if (!m->p->login_over && m->logging_in && m->session != NULL)
		ssh_session_connect(m->session, on_login, m);
}

void health_poll_borrow_session(struct health_poll *p, size_t i, struct ssh_session *s,
				void (*reconnect)(void *ud, size_t member), void *ud)
{
	struct poll_member *m;

	if (i >= p->n || p->o.direct || s == NULL)
		return;
	m = &p->members[i];
	if (m->session != NULL && !m->borrowed)
		ssh_session_free(m->session);
	m->session = s;
	m->borrowed = true;
	m->reconnect = reconnect;
	m->reconnect_ud = ud;
}

void health_poll_login(struct health_poll *p)
{
	if (p->fixed || p->o.direct)
		return;
	p->fixed = true;
	for (size_t i = 0; i < p->n; i++) {
		struct poll_member *m = &p->members[i];

		if (!m->has_ssh || m->borrowed)
			continue;
		m->login_retry = loop_timer_add(p->o.loop, login_connect, m);
		m->session = ssh_session_new(p->o.ssh, &m->ssh_cfg);
		m->logging_in = true;
		ssh_session_connect(m->session, on_login, m);
	}
}

bool health_poll_logging_in(const struct health_poll *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->members[i].logging_in)
			return true;
	return false;
}

void health_poll_start(struct health_poll *p)
{
	if (p->started)
		return;
	p->started = true;
	p->fixed = true;
	/* From here on the refreshes own the sessions; a login still running
	 * goes on (and any question is answered without the terminal). */
	p->login_over = true;
	for (size_t i = 0; i < p->n; i++) {
		struct poll_member *m = &p->members[i];

		m->logging_in = false;
		if (m->login_retry != NULL)
			loop_timer_disarm(m->login_retry);

		/* Pointers into members are stable from here on. */
		chan_init(&m->client, m, true, m->host, m->port);
		chan_init(&m->metrics, m, false, p->o.direct ? m->host : "127.0.0.1",
			  p->o.metrics_port > 0 ? p->o.metrics_port : 2381);
		m->next = loop_timer_add(p->o.loop, member_refresh, m);
		m->deadline = loop_timer_add(p->o.loop, on_deadline, m);
		loop_timer_arm_in(m->next, 0);
	}
}

void health_poll_set_updated(struct health_poll *p, health_poll_updated_fn fn, void *ud)
{
	p->o.updated = fn;
	p->o.ud = ud;
}

void health_poll_set_interval(struct health_poll *p, unsigned interval_ms)
{
	if (interval_ms < HEALTH_POLL_MIN_INTERVAL_MS)
		interval_ms = HEALTH_POLL_MIN_INTERVAL_MS;
	p->o.interval_ms = interval_ms;
	for (size_t i = 0; p->started && i < p->n; i++)
		if (!p->members[i].running)
			schedule_next(&p->members[i]);
}

unsigned health_poll_interval(const struct health_poll *p)
{
	return p->o.interval_ms;
}

unsigned health_poll_timeout(const struct health_poll *p)
{
	return p->o.timeout_ms;
}

uint64_t health_poll_rounds(const struct health_poll *p)
{
	uint64_t min = UINT64_MAX;

	for (size_t i = 0; i < p->n; i++)
		if (p->members[i].rounds < min)
			min = p->members[i].rounds;
	return p->n ? min : 0;
}

size_t health_poll_busy(const struct health_poll *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->members[i].running;
	return n;
}

void health_poll_free(struct health_poll *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		struct poll_member *m = &p->members[i];

		/* Nothing may finish a refresh now. Freeing the session runs the
		 * callbacks of its pending operations at once (CANCELLED), while
		 * the member is still here; ssh_op_cancel would run them later. */
		m->running = false;
		m->client.busy = m->metrics.busy = false;
		if (m->borrowed) {
			/* The session stays: its operations must not call back. */
			if (m->host_op)
				ssh_op_detach(m->host_op);
			if (m->client.opening)
				ssh_op_detach(m->client.opening);
			if (m->metrics.opening)
				ssh_op_detach(m->metrics.opening);
		}
		chan_drop(&m->client);
		chan_drop(&m->metrics);
		if (m->session != NULL && !m->borrowed)
			ssh_session_free(m->session);
		if (m->next)
			loop_timer_del(m->next);
		if (m->deadline)
			loop_timer_del(m->deadline);
		if (m->login_retry)
			loop_timer_del(m->login_retry);
		answers_free(m);
		if (m->addr)
			freeaddrinfo(m->addr);
		for (size_t k = 0; k < 7; k++)
			free(m->cfg_strings[k]);
		free(m->name);
		free(m->host);
	}
	free(p->members);
	free(p);
}
