/* A new etcd CA without downtime (docs/certificates.md, "rotate-ca"): the
 * local store's side of the three phases. The hosts' side (rolling the
 * files out, restarting members one at a time) is the install engine's;
 * the front end begins a phase here, applies it, and ends it here only
 * when every host has it.
 *
 *   <store>/rotation        "phase N started|done" and when it began
 *   <store>/ca-next/etcd/   phase 1: the new CA, trusted, not signing yet
 *   <store>/ca/etcd/        the CA that signs (the old one until phase 2)
 *   <store>/ca-previous/    phases 2-3: the old CA, trusted, no longer signing
 *   <store>/archive/etcd-ca-STAMP/   the old CA once phase 3 is done
 *
 * Every member's etcd/ca.crt (what --trusted-ca-file, --peer-trusted-ca-file
 * and the apiserver's --etcd-cafile point to) is the trust bundle: phase 1
 * old + new, phase 2 new + old, phase 3 new. The signing CA comes first,
 * so a tool that reads only the first certificate (kubeadm beside
 * etcd/ca.key) still sees the CA that matches the key.
 *
 * Each call finishes what an interrupted one left, so a re-run resumes. */
#ifndef WIZ_PKI_ROTATE_H
#define WIZ_PKI_ROTATE_H

#include <stdbool.h>
#include <time.h>

#include "base/error.h"
#include "pki/pki-store.h"

#define PKI_ROTATION_PHASES 3

struct pki_rotation {
	int phase;		/* 0: no rotation under way; else 1..3 */
	bool done;		/* every host has that phase */
	char started[32];	/* when phase 1 began (UTC, ISO 8601) */
};

/* 0 and false when there is no rotation (or its record is unreadable:
 * err then says why; err may be NULL). */
enum wiz_err pki_rotation_read(const struct pki_store *s, struct pki_rotation *out,
			       struct wiz_error *err);

/* PEM of the CAs trusted beside the signing one in the current phase (to
 * follow it in each member's etcd/ca.crt); NULL when none. */
char *pki_rotation_trust_extra(const struct pki_store *s, size_t *len);

/* The phase that comes next: 1 with no rotation, the current one when it
 * is not done, the one after when it is; 0 when there is nothing (an
 * unreadable record: err). */
int pki_rotation_next_phase(const struct pki_rotation *r);

/* Moves the store into phase n (refused unless it is the next one):
 * 1: a new CA in ca-next, every trust bundle old + new;
 * 2: the new CA signs (ca <-> ca-previous), every leaf signed by the old
 *    CA re-issued with a new key (same subject and names), bundles new + old;
 * 3: bundles hold the new CA only.
 * Needs the CA key in the store. Writes nothing when a check fails. */
enum wiz_err pki_rotation_begin(const struct pki_store *s, int n, time_t now,
				struct pki_report *r);
/* Every host has phase n: recorded. After 3 the old CA is moved to
 * archive/ (never deleted; *archived, caller frees) and the record goes. */
enum wiz_err pki_rotation_end(const struct pki_store *s, int n, time_t now, char **archived,
			      struct pki_report *r);

/* `certs rotate`: renew target in the store, unless an earlier rotate
 * renewed and did not install everything (*resumed then names its target,
 * caller frees; nothing is renewed again). A record says so until
 * pki_rotate_leaves_done. */
enum wiz_err pki_rotate_leaves_prepare(const struct pki_store *s, const char *target, time_t now,
				       char **resumed, struct pki_report *r);
void pki_rotate_leaves_done(const struct pki_store *s);

#endif
