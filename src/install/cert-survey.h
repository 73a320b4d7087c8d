/* The certificates in use across a cluster, read from its hosts: each
 * member's and control-plane host's files under /etc/kubernetes/pki
 * (certificates only, never a key), parsed here with GnuTLS, and what each
 * member actually serves on 2379 and 2380 (a TLS handshake from here over
 * its SSH session). Each row says whether it matches the local store. */
#ifndef WIZ_CERT_SURVEY_H
#define WIZ_CERT_SURVEY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/error.h"
#include "cluster/cluster.h"
#include "install/fleet.h"
#include "pki/pki-store.h"

struct loop;
struct http_tls_creds;

enum cert_match { CERT_MATCH_UNKNOWN, CERT_MATCH_YES, CERT_MATCH_NO };

struct cert_row {
	char *host;
	char *name;		/* etcd-ca, etcd-server, ..., or "served :2379" */
	char *where;		/* the file on the host, or host:port */
	bool served;		/* from a handshake, not a file */
	bool missing;		/* no such file there */
	char *problem;		/* unreadable, host not reachable: why */
	time_t not_after;
	char serial[48];
	char issuer[128];
	enum cert_match match;	/* same serial (a CA file: same trust) as the store */
};

struct cert_survey {
	struct cert_row *rows;
	size_t n;
};

struct cert_survey_opts {
	struct loop *loop;
	struct transport t;		/* hosts as fleet.h numbers them */
	const struct cluster *c;
	const struct pki_store *store;
	struct http_tls_creds *creds;	/* for the handshakes; NULL: none made */
	unsigned timeout_ms;		/* the whole survey; 0: 60 s */
};

/* Every host at once; a host that cannot be read gets one row with its
 * problem. cb runs once, from the loop, when every host answered or the
 * bound passed; s is the caller's to free (cert_survey_free). o and what
 * it points to must live until then. */
typedef void (*cert_survey_fn)(struct cert_survey *s, void *ud);
void cert_survey_start(const struct cert_survey_opts *o, cert_survey_fn cb, void *ud);
/* The same, running the loop until it is done (the CLI). */
void cert_survey_take(const struct cert_survey_opts *o, struct cert_survey *out);

/* After a change of the cluster's certificates: every member asked for
 * its member list, which must show every member of the file started and
 * voting (peer connections work both ways). cb gets NULL, or why not (a
 * sentence), once, from the loop. Uses o->t, o->c, o->creds, o->loop. */
typedef void (*cert_peers_fn)(const char *why, void *ud);
void cert_peers_check(const struct cert_survey_opts *o, cert_peers_fn cb, void *ud);
void cert_survey_free(struct cert_survey *s);

/* Parses "== REL\n<PEM>" sections (the survey's remote output) into rows
 * for host; store_member names the store's tree they compare with. Pure:
 * for the unit tests. */
void cert_survey_parse(const struct pki_store *store, const char *host, const char *store_member,
		       const char *out, size_t len, const char *const *rels, struct cert_survey *s);

#endif
