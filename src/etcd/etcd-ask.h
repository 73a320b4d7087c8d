/* One etcd member asked from here how it is, over its host's SSH session:
 * a direct-tcpip channel to the member's client port, TLS with the
 * healthcheck-client certificate (our GnuTLS client, http-tls.h), then
 * /health, the member list and the member's status from the v3 JSON
 * gateway. apply's verify and the day-two commands read members this way;
 * nothing parses etcdctl's output.
 *
 * One ask is one try, bounded in wall time; the caller decides whether to
 * ask again. Nothing blocks: everything runs from the loop. */
#ifndef WIZ_ETCD_ASK_H
#define WIZ_ETCD_ASK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "etcd/http-tls.h"
#include "pki/pki-store.h"
#include "ssh/ssh.h"

struct loop;

/* What a member said (or why it said nothing). */
struct etcd_member_view {
	bool answered;		/* its /health replied */
	bool healthy;		/* ... with "health":"true" */
	bool listed;		/* started under the asked name in its member list */
	bool leader;		/* it is the leader (its status) */
	bool learner;
	char version[32];	/* its server version, "" when unknown */
	char cluster_version[32];	/* /version's etcdcluster ("3.5.0"), "" when unknown */
	char alarms[64];	/* the cluster's alarms ("NOSPACE,CORRUPT"), "" when none */
	uint64_t raft_index;	/* its raft log's index (its status) */
	/* Not answered: why ("no answer within 5 s", "connection refused");
	 * answered but unhealthy: etcd's reason; otherwise "". */
	char detail[400];
};

/* code is OK when the member was asked (v says what it said), otherwise
 * the SSH session's failure (UNREACHABLE, TIMEOUT, ...) with msg, and v is
 * all "not answered". Runs once, from the loop, never inside
 * etcd_ask_member. */
typedef void (*etcd_ask_fn)(enum wiz_err code, const struct etcd_member_view *v,
			    const char *msg, void *ud);

struct etcd_ask_opts {
	struct loop *loop;
	struct ssh_session *session;	/* the member's host */
	const char *address;		/* the member's address: where the channel goes, the name its certificate carries */
	int port;			/* 0: 2379 */
	const char *name;		/* the member name to find in the member list */
	struct http_tls_creds *creds;	/* not owned */
	unsigned timeout_ms;		/* the whole try; 0: 5000 */
};

struct etcd_ask;

struct etcd_ask *etcd_ask_member(const struct etcd_ask_opts *o, etcd_ask_fn cb, void *ud);

/* One call of the member's v3 JSON gateway (POST path with the JSON body),
 * the same way: status and body are etcd's answer (body valid during the
 * callback), status 0 when none came (msg says why: "connection refused",
 * "no answer within 5 s"); code is not OK only when the session failed.
 * Cancel it with etcd_ask_cancel. */
typedef void (*etcd_call_fn)(enum wiz_err code, int status, const char *body, size_t len,
			     const char *msg, void *ud);
struct etcd_ask *etcd_call(const struct etcd_ask_opts *o, const char *path, const char *body,
			   etcd_call_fn cb, void *ud);
/* The same for a large answer (a snapshot): a 200's body goes to on_data
 * as it comes (the callback's body is then empty), and timeout_ms bounds
 * each silence instead of the whole call; on_data returning false ends
 * the call. Any other status comes to the callback with its body. */
struct etcd_ask *etcd_call_stream(const struct etcd_ask_opts *o, const char *path, const char *body,
				  http_body_fn on_data, etcd_call_fn cb, void *ud);
/* The certificate a member serves on a port (2379 or 2380), as a TLS
 * handshake from here sees it: what is in use, which can differ from the
 * file on its disk. */
struct etcd_served_cert {
	bool got;		/* a certificate came (even one not accepted) */
	char serial[48];	/* pki_crt_serial_hex */
	char issuer[128];	/* the issuer's CN */
	time_t not_after;
};
/* msg says why nothing came, or why the certificate was not accepted
 * (then got is true too); code is not OK only when the session failed. */
typedef void (*etcd_served_fn)(enum wiz_err code, const struct etcd_served_cert *sc,
			       const char *msg, void *ud);
struct etcd_ask *etcd_served(const struct etcd_ask_opts *o, etcd_served_fn cb, void *ud);

/* The callback will not run. */
void etcd_ask_cancel(struct etcd_ask *a);

/* The CA and the healthcheck-client pair of the local PKI store. */
enum wiz_err etcd_creds_from_store(const struct pki_store *s, struct http_tls_creds **out,
				   struct wiz_error *err);

#endif
