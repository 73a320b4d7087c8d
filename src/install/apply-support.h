/* What every front end that drives the engine needs besides the engine
 * itself (moved out of cmd-apply.c so the CLI and the wizard share it): the
 * cluster token, the journal's path, the reader of the local PKI store and
 * the credentials for asking etcd. */
#ifndef WIZ_APPLY_SUPPORT_H
#define WIZ_APPLY_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "cluster/cluster.h"
#include "pki/pki-store.h"

/* etcd.clusterToken, else the one saved for this cluster under
 * $XDG_DATA_HOME/etcdwiz/<name>/cluster-token, else (create) a new random
 * one saved for the next runs, else the placeholder "<generated-at-apply>".
 * NULL only when creating failed (err says why). Caller frees. */
char *apply_cluster_token(const struct cluster *c, bool create, struct wiz_error *err);

/* A new journal file's path under $XDG_DATA_HOME/etcdwiz/<name>/journal
 * (the directory is made), or NULL. Caller frees. */
char *apply_journal_path(const struct cluster *c, bool apply);

/* engine_opts.read_local for a local PKI store (ud: the struct pki_store). */
char *apply_read_local(const struct host *h, bool is_member, const char *rel, size_t *len,
		       void *ud);

/* engine_opts.etcd_creds for a local PKI store (ud: the struct pki_store):
 * its CA and healthcheck-client pair, for asking etcd from here. */
struct http_tls_creds;
enum wiz_err apply_etcd_creds(void *ud, struct http_tls_creds **out, struct wiz_error *err);

/* A plan that says the cluster is not healthy yet: a health-gate step's
 * (verify's) finding. When every plan has nothing to change but one says
 * this, a front end still runs the apply, which waits (bounded) for
 * health instead of reporting "nothing to change". */
struct plan;
struct step;
bool apply_plan_unhealthy(const struct step *s, const struct plan *p);

/* Split "a,b,c" into l (lower: ASCII lower-case). */
void apply_split_csv(struct strlist *l, const char *csv, bool lower);

#endif
