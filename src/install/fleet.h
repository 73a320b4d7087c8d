/* The hosts of a cluster as connected sessions that outlive one engine
 * run: the CLI's plan and apply passes and every wizard screen share one
 * fleet, so each host costs one SSH handshake (and one sudo password) per
 * program run, not one per pass.
 *
 * The engine does not talk to SSH itself but to a transport (connect a
 * host, run a command there): the fleet is the real one; tests give the
 * engine a fake one that counts what it is asked to do. */
#ifndef WIZ_FLEET_H
#define WIZ_FLEET_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "cluster/cluster.h"
#include "etcd/etcd-ask.h"
#include "ssh/ssh.h"

/* Host i is c->members[i] for i < n_members, then the control-plane hosts. */
typedef void (*transport_connect_fn)(void *ud, enum wiz_err code, const char *msg);

/* One question to a member's etcd (etcd-ask.h) on its connected host. */
struct transport_ask {
	const char *name;		/* the member's name */
	const char *address;		/* its client address */
	struct http_tls_creds *creds;
	unsigned timeout_ms;
	int port;			/* 0: the client port, 2379 */
};

struct transport_ops {
	/* Connect host i (at once when it is connected already); cb runs once. */
	void (*connect)(void *self, size_t i, transport_connect_fn cb, void *ud);
	/* Drop a connect callback not run yet (its ud is going away). */
	void (*forget)(void *self, size_t i, void *ud);
	/* Run shell text on host i; returns the operation to cancel, or NULL.
	 * The callback's op argument may be NULL; it runs from the loop. */
	struct ssh_op *(*exec)(void *self, size_t i, const char *cmd, const struct ssh_exec_opts *o,
			       ssh_done_fn cb, void *ud);
	/* True when host i's connection itself failed (a timeout then means
	 * the host is unreachable, not that a command hung). */
	bool (*lost)(void *self, size_t i);
	/* The host key's type and fingerprint for the journal (NULL: none). */
	const char *(*hostkey)(void *self, size_t i, const char **type);
	/* Ask the etcd member on host i how it is, from here (one try; cb
	 * runs once from the loop unless cancelled). Returns the handle. */
	void *(*ask_etcd)(void *self, size_t i, const struct transport_ask *q, etcd_ask_fn cb,
			  void *ud);
	void (*cancel_ask)(void *self, void *handle);
	/* One call of the member's v3 JSON gateway on host i (etcd_call);
	 * cancelled with cancel_ask. */
	void *(*call_etcd)(void *self, size_t i, const struct transport_ask *q, const char *path,
			   const char *body, etcd_call_fn cb, void *ud);
	/* The certificate the member on host i serves on q->port, from a
	 * TLS handshake from here (etcd_served); cancelled with cancel_ask.
	 * NULL: the transport cannot tell (then nothing is checked). */
	void *(*served_cert)(void *self, size_t i, const struct transport_ask *q, etcd_served_fn cb,
			     void *ud);
	/* A host the cluster file no longer names (a member leaving), with
	 * the file's SSH settings: its number from now on. */
	size_t (*add_host)(void *self, const struct cluster *c, const struct host *h);
};

struct transport {
	const struct transport_ops *ops;
	void *self;
};

struct fleet;

struct fleet *fleet_new(struct ssh_ctx *ssh, const struct cluster *c, bool accept_new_host_keys);
/* Disconnects (bounded) and frees every session. */
void fleet_free(struct fleet *f);
/* Follow an edited cluster: a host whose SSH settings changed (address,
 * port, user, identity, sudo, pinned key) gets a new session; the others
 * keep theirs; dropping (may be NULL) hears of each session about to be
 * freed. c must outlive the fleet's use of it. */
void fleet_update(struct fleet *f, const struct cluster *c,
		  void (*dropping)(struct ssh_session *s, void *ud), void *ud);
size_t fleet_count(const struct fleet *f);
struct ssh_session *fleet_session(const struct fleet *f, size_t i);
/* SSH connections the fleet has started (for tests and benchmarks). */
unsigned fleet_connects(const struct fleet *f);
struct transport fleet_transport(struct fleet *f);
/* Connect host i (cb at once when it is connected); every caller waiting
 * is told. fleet_forget drops a callback not run yet. */
void fleet_connect(struct fleet *f, size_t i, transport_connect_fn cb, void *ud);
void fleet_forget(struct fleet *f, size_t i, void *ud);

#endif
