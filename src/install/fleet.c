#include "config.h"

#include "install/fleet.h"

#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

struct connect_waiter {
	transport_connect_fn cb;
	void *ud;
};

struct fleet_host {
	struct fleet *f;
	struct ssh_session *s;
	char *signature;	/* the SSH settings the session was made with */
	/* Everyone waiting for the connection now (an engine stopped and a
	 * new one started while a host was still connecting). */
	struct connect_waiter *waiters;
	size_t n_waiters;
};

struct fleet {
	struct ssh_ctx *ssh;
	bool accept_new;
	struct fleet_host **hosts;	/* each its own block: SSH keeps a pointer to it */
	size_t n;
	unsigned connects;
};

static const struct host *host_at(const struct cluster *c, size_t i)
{
	return i < c->n_members ? &c->members[i] : &c->control_plane.hosts[i - c->n_members];
}

static char *signature_of(const struct ssh_host_config *cfg)
{
	return xasprintf("%s\n%s\n%d\n%s\n%s\n%s\n%s\n%d", cfg->name, cfg->address, cfg->port,
			 cfg->user ? cfg->user : "", cfg->identity_file ? cfg->identity_file : "",
			 cfg->known_hosts ? cfg->known_hosts : "",
			 cfg->pinned_fingerprint ? cfg->pinned_fingerprint : "", cfg->sudo);
}

/* Waiters are told the session is gone before it is freed. */
static void tell_waiters(struct fleet_host *fh, enum wiz_err code, const char *msg)
{
	/* One at a time from the list itself: a callback may make another
	 * waiter forget (an engine it frees). */
	while (fh->n_waiters > 0) {
		struct connect_waiter w = fh->waiters[0];

		memmove(fh->waiters, fh->waiters + 1, (fh->n_waiters - 1) * sizeof *fh->waiters);
		fh->n_waiters--;
		w.cb(w.ud, code, msg);
	}
	free(fh->waiters);
	fh->waiters = NULL;
}

static void host_clear(struct fleet_host *fh)
{
	tell_waiters(fh, WIZ_ERR_CANCELLED, "the host's settings changed");
	ssh_session_free(fh->s);
	free(fh->signature);
	memset(fh, 0, sizeof *fh);
}

void fleet_update(struct fleet *f, const struct cluster *c,
		  void (*dropping)(struct ssh_session *s, void *ud), void *ud)
{
	size_t n = c->n_members + c->control_plane.n_hosts;

	for (size_t i = n; i < f->n; i++) {
		if (dropping)
			dropping(f->hosts[i]->s, ud);
		host_clear(f->hosts[i]);
		free(f->hosts[i]);
	}
	if (n > f->n) {
		f->hosts = xreallocarray(f->hosts, n, sizeof(struct fleet_host *));
		for (size_t i = f->n; i < n; i++)
			f->hosts[i] = xcalloc(1, sizeof(struct fleet_host));
	}
	f->n = n;
	for (size_t i = 0; i < n; i++) {
		struct fleet_host *fh = f->hosts[i];
		struct ssh_host_config cfg;
		char *sig;

		ssh_host_config_from_cluster(c, host_at(c, i), &cfg);
		cfg.accept_new_host_keys = f->accept_new;
		sig = signature_of(&cfg);
		if (fh->s != NULL && strcmp(sig, fh->signature) == 0) {
			free(sig);
			continue;
		}
		if (fh->s != NULL && dropping)
			dropping(fh->s, ud);
		host_clear(fh);
		fh->f = f;
		fh->s = ssh_session_new(f->ssh, &cfg);
		fh->signature = sig;
	}
}

struct fleet *fleet_new(struct ssh_ctx *ssh, const struct cluster *c, bool accept_new_host_keys)
{
	struct fleet *f = xcalloc(1, sizeof *f);

	f->ssh = ssh;
	f->accept_new = accept_new_host_keys;
	fleet_update(f, c, NULL, NULL);
	return f;
}

void fleet_free(struct fleet *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++) {
		host_clear(f->hosts[i]);
		free(f->hosts[i]);
	}
	free(f->hosts);
	free(f);
}

size_t fleet_count(const struct fleet *f)
{
	return f->n;
}

struct ssh_session *fleet_session(const struct fleet *f, size_t i)
{
	return i < f->n ? f->hosts[i]->s : NULL;
}

unsigned fleet_connects(const struct fleet *f)
{
	return f->connects;
}

/* ---- the transport over SSH ---- */

static void connected(struct ssh_session *s, enum wiz_err code, const struct wiz_error *err, void *ud)
{
	struct fleet_host *fh = ud;
	char *msg = code == WIZ_ERR_OK ? NULL : xstrdup(err ? err->msg : "");

	(void)s;
	tell_waiters(fh, code, msg);
	free(msg);
}

static void t_connect(void *self, size_t i, transport_connect_fn cb, void *ud)
{
	struct fleet *f = self;
	struct fleet_host *fh = f->hosts[i];
	bool first = fh->n_waiters == 0;

	if (ssh_session_state(fh->s) == SSH_S_READY) {
		cb(ud, WIZ_ERR_OK, NULL);
		return;
	}
	fh->waiters = xreallocarray(fh->waiters, fh->n_waiters + 1, sizeof *fh->waiters);
	fh->waiters[fh->n_waiters++] = (struct connect_waiter){ cb, ud };
	if (first) {
		f->connects++;
		ssh_session_connect(fh->s, connected, fh);
	}
}

/* An engine that stops no longer waits (its ud is about to be freed). */
static void t_forget(void *self, size_t i, void *ud)
{
	struct fleet_host *fh = ((struct fleet *)self)->hosts[i];

	for (size_t k = 0; k < fh->n_waiters; k++)
		if (fh->waiters[k].ud == ud) {
			memmove(&fh->waiters[k], &fh->waiters[k + 1],
				(fh->n_waiters - k - 1) * sizeof *fh->waiters);
			fh->n_waiters--;
			return;
		}
}

static struct ssh_op *t_exec(void *self, size_t i, const char *cmd, const struct ssh_exec_opts *o,
			     ssh_done_fn cb, void *ud)
{
	return ssh_exec(fleet_session(self, i), cmd, o, cb, ud);
}

static bool t_lost(void *self, size_t i)
{
	return ssh_session_state(fleet_session(self, i)) == SSH_S_FAILED;
}

static const char *t_hostkey(void *self, size_t i, const char **type)
{
	struct ssh_session *s = fleet_session(self, i);

	*type = ssh_session_hostkey_type(s);
	return ssh_session_hostkey_fingerprint(s);
}

static struct etcd_ask_opts ask_opts(struct fleet *f, size_t i, const struct transport_ask *q)
{
	return (struct etcd_ask_opts){
		.loop = ssh_ctx_loop(f->ssh),
		.session = f->hosts[i]->s,
		.address = q->address,
		.name = q->name,
		.creds = q->creds,
		.timeout_ms = q->timeout_ms,
		.port = q->port,
	};
}

static void *t_served_cert(void *self, size_t i, const struct transport_ask *q, etcd_served_fn cb,
			   void *ud)
{
	struct etcd_ask_opts o = ask_opts(self, i, q);

	return etcd_served(&o, cb, ud);
}

static void *t_ask_etcd(void *self, size_t i, const struct transport_ask *q, etcd_ask_fn cb, void *ud)
{
	struct etcd_ask_opts o = ask_opts(self, i, q);

	return etcd_ask_member(&o, cb, ud);
}

static void *t_call_etcd(void *self, size_t i, const struct transport_ask *q, const char *path,
			 const char *body, etcd_call_fn cb, void *ud)
{
	struct etcd_ask_opts o = ask_opts(self, i, q);

	return etcd_call(&o, path, body, cb, ud);
}

static size_t t_add_host(void *self, const struct cluster *c, const struct host *h)
{
	struct fleet *f = self;
	struct fleet_host *fh = xcalloc(1, sizeof *fh);
	struct ssh_host_config cfg;

	ssh_host_config_from_cluster(c, h, &cfg);
	cfg.accept_new_host_keys = f->accept_new;
	fh->f = f;
	fh->s = ssh_session_new(f->ssh, &cfg);
	fh->signature = signature_of(&cfg);
	f->hosts = xreallocarray(f->hosts, f->n + 1, sizeof(struct fleet_host *));
	f->hosts[f->n] = fh;
	return f->n++;
}

static void t_cancel_ask(void *self, void *handle)
{
	(void)self;
	etcd_ask_cancel(handle);
}

void fleet_connect(struct fleet *f, size_t i, transport_connect_fn cb, void *ud)
{
	t_connect(f, i, cb, ud);
}

void fleet_forget(struct fleet *f, size_t i, void *ud)
{
	t_forget(f, i, ud);
}

static const struct transport_ops fleet_ops = {
	.connect = t_connect,
	.forget = t_forget,
	.exec = t_exec,
	.lost = t_lost,
	.hostkey = t_hostkey,
	.ask_etcd = t_ask_etcd,
	.cancel_ask = t_cancel_ask,
	.call_etcd = t_call_etcd,
	.served_cert = t_served_cert,
	.add_host = t_add_host,
};

struct transport fleet_transport(struct fleet *f)
{
	return (struct transport){ &fleet_ops, f };
}
