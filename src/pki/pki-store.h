/* The local PKI store of one cluster: the CA, and per member a tree laid out
 * exactly as /etc/kubernetes/pki on that member, ready for upload:
 *
 *   <store>/ca/etcd/ca.crt, ca.key                      the etcd CA
 *   <store>/members/<name>/etcd/ca.crt                  copy of the CA cert
 *   <store>/members/<name>/etcd/server.{crt,key}
 *   <store>/members/<name>/etcd/peer.{crt,key}
 *   <store>/members/<name>/etcd/healthcheck-client.{crt,key}
 *   <store>/members/<name>/apiserver-etcd-client.{crt,key}
 *
 * Directories 0700, keys 0600, certificates 0644, every file written
 * atomically. Each operation checks all its inputs first and writes nothing
 * when any of them is broken. */
#ifndef WIZ_PKI_STORE_H
#define WIZ_PKI_STORE_H

#include <stdbool.h>
#include <time.h>

#include "base/error.h"
#include "cluster/cluster.h"
#include "pki/pki.h"

struct pki_store {
	const struct cluster *c;
	char *dir;
};

/* What an operation did and found. Every error names a file and the fix;
 * when errors is non-empty nothing was written. */
struct pki_report {
	struct strlist written;		/* paths, in write order */
	struct strlist notes;		/* what was made or kept, one line each */
	struct strlist warnings;
	struct strlist errors;
};

void pki_report_free(struct pki_report *r);
/* Adds a formatted line to one of a report's lists. */
void pki_report_add(struct strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* pki.dir (a leading ~/ is $HOME) or $XDG_DATA_HOME/etcdwiz/<name>/pki. */
char *pki_store_default_dir(const struct cluster *c);
void pki_store_init(struct pki_store *s, const struct cluster *c);
void pki_store_free(struct pki_store *s);

/* Store paths. member NULL = the CA itself; with a member and
 * PKI_PROFILE_CA, that member's etcd/ca.crt copy. Caller frees. */
char *pki_store_path(const struct pki_store *s, const char *member,
		     enum pki_profile p, bool key);

/* Make what is missing (the CA first when there is none). */
enum wiz_err pki_store_generate(const struct pki_store *s, time_t now,
				struct pki_report *r);
/* target: "all", a member name, a certificate name (etcd-server, etcd-peer,
 * etcd-healthcheck-client, apiserver-etcd-client) or MEMBER/CERTIFICATE.
 * New key, same subject and SANs, signed by the store's CA (its key is
 * required). WIZ_ERR_USAGE for an unknown target. */
enum wiz_err pki_store_renew(const struct pki_store *s, const char *target,
			     time_t now, struct pki_report *r);
/* Bring your own CA: checked (CA, key matches, valid now and for at least
 * pki.certValidity), then written as the store's CA. */
enum wiz_err pki_store_import(const struct pki_store *s, const char *crt_path,
			      const char *key_path, time_t now,
			      struct pki_report *r);

/* Every member's etcd/ca.crt made the trust bundle (the CA, then what a
 * CA rotation trusts beside it: pki-rotate.h), where it differs. */
enum wiz_err pki_store_write_trust(const struct pki_store *s, struct pki_report *r);
/* Every leaf not signed by the store's CA re-issued by it, with a new key
 * and the same subject and names (a CA rotation's phase 2). */
enum wiz_err pki_store_reissue(const struct pki_store *s, time_t now, struct pki_report *r);

/* Moves a member's tree out of members/ to set-aside/<member>.<why>-DATE
 * (a member removed, or replaced at a new address, whose certificates
 * must not be reused): the next generate makes it anew, nothing is
 * deleted. *moved_to (caller frees) is NULL when there was no tree. */
enum wiz_err pki_store_set_aside(const struct pki_store *s, const char *member, const char *why,
				 time_t now, char **moved_to, struct wiz_error *err);

/* One row of check-expiration. */
struct pki_status {
	char *name;		/* "etcd-ca" or "<member>/<certificate>" */
	char *path;
	bool is_ca;
	bool missing;
	char *problem;		/* unreadable or malformed: the message */
	time_t not_after;
	bool externally_managed;	/* the signing CA's key is not in the store */
};

struct pki_status_list {
	struct pki_status *items;
	size_t n;
};

void pki_store_status(const struct pki_store *s,
		      struct pki_status_list *out);
void pki_status_list_free(struct pki_status_list *l);

#endif
