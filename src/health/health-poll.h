/* The fetchers behind `etcdwiz status` and the wizard's Health screen
 * (issue #7): every member is refreshed on its own timer, in parallel, on
 * the one event loop, each with its own deadline, so a slow or dead member
 * never holds up the others.
 *
 * One refresh of one member: on the client port, over one kept-alive TLS
 * connection (the healthcheck-client certificate), POST
 * /v3/maintenance/status (its round trip is the member's latency), GET
 * /health and /version, and on the member that answered first the cluster's
 * member list and alarms; at the same time, every few seconds, plain HTTP
 * GET /metrics from the host's 127.0.0.1:2381; and now and then one SSH
 * command that reports
 * free space under the data directory, kubelet's state, whether etcd runs,
 * and the certificate files of /etc/kubernetes/pki.
 *
 * Transport: a direct-tcpip channel of the member's SSH session, or with
 * `direct` a TCP connection of this machine straight to the endpoint (then
 * /metrics only when the endpoint is this machine, since kubeadm binds the
 * metrics port to loopback, and no host check). Connections and TLS
 * sessions stay open between refreshes; a connection that fails or times
 * out is dropped and made again on the next refresh. Read-only: nothing
 * here writes to etcd or to a host.
 *
 * A member whose SSH session cannot be used (connection, host key or login
 * refused, or no answer) is reported as not observed (TRANSPORT_UNREACHABLE
 * or TRANSPORT_LOGIN), not as down: etcd there was never seen. A refused
 * login or host key is tried again at most every
 * HEALTH_POLL_LOGIN_RETRY_MS, not on every refresh. */
#ifndef WIZ_HEALTH_POLL_H
#define WIZ_HEALTH_POLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "etcd/http-tls.h"
#include "health/health.h"

struct cluster;
struct kvlist;
struct loop;
struct pki_store;
struct ssh_ctx;
struct ssh_host_config;
struct ssh_session;
struct health_poll;

#define HEALTH_POLL_INTERVAL_MS 2000
#define HEALTH_POLL_MIN_INTERVAL_MS 500
#define HEALTH_POLL_HOST_CHECK_MS 10000	/* the SSH host check, at most this often */
/* /metrics is 100-200 KiB a scrape and its p99s are over minutes (the
 * mixin's 5 m rate window), so it is read at most this often: most of the
 * dashboard's CPU time went into carrying and parsing it every second. */
#define HEALTH_POLL_METRICS_MS 5000
#define HEALTH_POLL_VERSION_MS 60000	/* /version, at most this often */
#define HEALTH_POLL_LOGIN_RETRY_MS 30000	/* after a refused login */

typedef void (*health_poll_updated_fn)(struct health_poll *p, size_t member, void *ud);

struct health_poll_opts {
	struct loop *loop;
	struct ssh_ctx *ssh;		/* NULL with direct */
	struct http_tls_creds *creds;	/* not owned */
	bool direct;
	unsigned interval_ms;		/* 0 = HEALTH_POLL_INTERVAL_MS */
	unsigned timeout_ms;		/* per member refresh; 0 = max(interval, 2 s) */
	const char *data_dir;		/* for the free-space check; NULL = /var/lib/etcd */
	const char *backup_dir;		/* backup.dir: the newest scheduled snapshot; NULL = none */
	int metrics_port;		/* on the member's loopback; 0 = 2381, -1 = none */
	/* Runs after every member refresh (the view redraws). */
	health_poll_updated_fn updated;
	void *ud;
};

/* The poller fills c (members are added with health_poll_add). */
struct health_poll *health_poll_new(const struct health_poll_opts *o, struct health_cluster *c);
void health_poll_free(struct health_poll *p);

/* One member: its display name, the client endpoint host (IP or DNS name,
 * also the name its server certificate must carry) and port, and with SSH
 * the session config (copied; NULL with direct). */
void health_poll_add(struct health_poll *p, const char *name, const char *host, int port,
		     const struct ssh_host_config *ssh);

/* Poll member i through a session someone else owns and keeps (the
 * wizard's fleet, whose sessions Connect made): no new handshake and no
 * question asked again. The poller never frees or disconnects it; when it
 * has failed, reconnect(ud, i) asks the owner to connect it again (after a
 * refused login not more often than HEALTH_POLL_LOGIN_RETRY_MS). The
 * session must outlive the poller. Before health_poll_start; not with
 * health_poll_login. */
void health_poll_borrow_session(struct health_poll *p, size_t i, struct ssh_session *s,
				void (*reconnect)(void *ud, size_t member), void *ud);

/* Replace the callback after every member refresh. */
void health_poll_set_updated(struct health_poll *p, health_poll_updated_fn fn, void *ud);

/* Every member of a cluster file, through SSH as the file says (NULL
 * ssh_ok = --direct); accepted maps a member name to a host key accepted
 * for this run only (the wizard's "accept once"; may be NULL). */
void health_poll_add_cluster(struct health_poll *p, const struct cluster *c, bool direct,
			     bool accept_new, const struct kvlist *accepted);

/* Log in to every member's host before the first refresh, so that any
 * question (password, sudo password, passphrase) is asked now, while the
 * caller still owns the terminal: each SSH session is connected and, when
 * it uses sudo, runs one command through sudo (again, up to 3 times, when
 * sudo refused the password). Run the loop while health_poll_logging_in();
 * then health_poll_start. No more members can be added. Nothing with
 * direct. */
void health_poll_login(struct health_poll *p);
bool health_poll_logging_in(const struct health_poll *p);

/* Start refreshing every member now, then every interval. */
void health_poll_start(struct health_poll *p);
void health_poll_set_interval(struct health_poll *p, unsigned interval_ms);
unsigned health_poll_interval(const struct health_poll *p);
/* The deadline of one member's refresh, in milliseconds. */
unsigned health_poll_timeout(const struct health_poll *p);
/* Completed refreshes of the member that has the fewest. */
uint64_t health_poll_rounds(const struct health_poll *p);
/* Refreshes still running. */
size_t health_poll_busy(const struct health_poll *p);

#endif
