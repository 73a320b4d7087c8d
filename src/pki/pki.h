/* The etcd PKI as kubeadm makes it (REFERENCE.md §1): the etcd-ca, and per
 * member the server, peer, healthcheck-client and apiserver-etcd-client
 * certificates. GnuTLS does the work in certtool's order (STYLE.md §3):
 * key, serial, validity, basic constraints, key usage, EKU, SANs, SKID,
 * AKID, version, sign, export.
 *
 * Everything here works in memory; pki-store.c owns the files. */
#ifndef WIZ_PKI_H
#define WIZ_PKI_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "base/error.h"
#include "cluster/cluster.h"

/* kubeadm's constants. */
#define PKI_CA_CN "etcd-ca"
#define PKI_HEALTHCHECK_CN "kube-etcd-healthcheck-client"
#define PKI_APISERVER_CLIENT_CN "kube-apiserver-etcd-client"
#define PKI_BACKDATE_SECONDS (5 * 60)
/* check-expiration warns below this residual time. */
#define PKI_WARN_SECONDS (30 * 24 * 3600)

/* id, kubeadm's certificate name, file base under /etc/kubernetes/pki. */
#define PKI_PROFILE_INFO(_)                                                   \
	_(CA, "etcd-ca", "etcd/ca")                                           \
	_(SERVER, "etcd-server", "etcd/server")                               \
	_(PEER, "etcd-peer", "etcd/peer")                                     \
	_(HEALTHCHECK, "etcd-healthcheck-client", "etcd/healthcheck-client") \
	_(APISERVER_CLIENT, "apiserver-etcd-client", "apiserver-etcd-client")

enum pki_profile {
#define PKI_PROFILE_ENUM(id, name, base) PKI_PROFILE_##id,
	PKI_PROFILE_INFO(PKI_PROFILE_ENUM)
#undef PKI_PROFILE_ENUM
	PKI_PROFILE_COUNT
};

const char *pki_profile_name(enum pki_profile p);
const char *pki_profile_file_base(enum pki_profile p);
bool pki_profile_parse(const char *name, enum pki_profile *p);

/* Subject alternative names: DNS names sorted and unique (kubeadm's
 * RemoveDuplicateAltNames), IP addresses in order, unique, canonical text. */
struct pki_sans {
	struct strlist dns;
	struct strlist ips;
};

void pki_sans_free(struct pki_sans *s);
/* Adds s as an IP when it parses as one, else as a DNS name. */
void pki_sans_add(struct pki_sans *s, const char *name);
/* kubeadm's getAltNames: DNS {name, localhost}, IP {address, 127.0.0.1,
 * ::1}, then the member's extraSANs. */
void pki_member_sans(const struct host *h, struct pki_sans *out);
bool pki_sans_equal(const struct pki_sans *a, const struct pki_sans *b);
/* "DNS:a, DNS:b, IP:1.2.3.4" (caller frees). */
char *pki_sans_format(const struct pki_sans *s);

/* What to put in a new leaf. */
struct pki_leaf_spec {
	enum pki_profile profile;
	const char *cn;
	const struct pki_sans *sans;	/* server/peer only; NULL otherwise */
	uint64_t validity;		/* seconds from now */
};

/* A certificate with its private key. */
struct pki_pair {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;	/* NULL when the key is absent */
};

void pki_pair_free(struct pki_pair *p);

/* Key of the given algorithm (gnutls_x509_privkey_verify_params checked). */
enum wiz_err pki_key_generate(enum pki_algorithm alg,
			      gnutls_x509_privkey_t *out,
			      struct wiz_error *err);
/* A random serial in [1, 2^63-1), as kubeadm draws it; 8 bytes big-endian
 * with the leading zero bytes of a minimal DER INTEGER removed. */
void pki_serial_random(unsigned char buf[8], size_t *len);

/* The self-signed etcd-ca valid from now-5m to now+validity. */
enum wiz_err pki_ca_create(enum pki_algorithm alg, uint64_t validity,
			   time_t now, struct pki_pair *out,
			   struct wiz_error *err);
/* A leaf signed by ca, with a new key of alg. NotAfter is clamped to the
 * CA's; *clamped tells (may be NULL). */
enum wiz_err pki_leaf_issue(const struct pki_leaf_spec *spec,
			    enum pki_algorithm alg, const struct pki_pair *ca,
			    time_t now, struct pki_pair *out, bool *clamped,
			    struct wiz_error *err);

/* PEM export. The key's datum holds a secret: release it with
 * pki_datum_free_secret. */
enum wiz_err pki_crt_export(gnutls_x509_crt_t crt, gnutls_datum_t *out,
			    struct wiz_error *err);
enum wiz_err pki_key_export(gnutls_x509_privkey_t key, gnutls_datum_t *out,
			    struct wiz_error *err);
void pki_datum_free_secret(gnutls_datum_t *d);

/* Read one PEM certificate / private key. Messages name path and say how to
 * fix it (unreadable, malformed, not a key). */
enum wiz_err pki_crt_read(const char *path, gnutls_x509_crt_t *out,
			  struct wiz_error *err);
enum wiz_err pki_key_read(const char *path, gnutls_x509_privkey_t *out,
			  struct wiz_error *err);

/* Does key belong to crt (same public key)? */
bool pki_key_matches(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key);
/* Was crt signed by ca (signature only, times not checked)? */
bool pki_crt_signed_by(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca);
bool pki_crt_is_ca(gnutls_x509_crt_t crt);
bool pki_crt_equal(gnutls_x509_crt_t a, gnutls_x509_crt_t b);

/* What we read back from a certificate. */
struct pki_crt_info {
	char *cn;
	char *issuer_cn;
	time_t not_before;
	time_t not_after;
	bool is_ca;
	struct pki_sans sans;
};

enum wiz_err pki_crt_info(gnutls_x509_crt_t crt, struct pki_crt_info *out,
			  struct wiz_error *err);
void pki_crt_info_free(struct pki_crt_info *info);

/* The checks a CA passes before it is used or imported: it is a CA, the key
 * (if given) matches, it is valid now, and it stays valid at least
 * min_remaining seconds. Names crt_path / key_path in the message. */
enum wiz_err pki_ca_check(const struct pki_pair *ca, const char *crt_path,
			  const char *key_path, time_t now,
			  uint64_t min_remaining, struct wiz_error *err);

/* The serial as lower-case hex without leading zeros ("" when unreadable). */
void pki_crt_serial_hex(gnutls_x509_crt_t crt, char *out, size_t size);

/* The certificates of a PEM trust file (a CA, or a bundle of CAs while the
 * CA changes), in file order: *n of them (caller frees each with
 * gnutls_x509_crt_deinit, then the array). WIZ_ERR_INVALID when a block
 * does not parse or there is none. */
enum wiz_err pki_crt_list_parse(const char *pem, size_t len, gnutls_x509_crt_t **out, size_t *n,
				struct wiz_error *err);
void pki_crt_list_free(gnutls_x509_crt_t *l, size_t n);
/* What a trust file trusts, whatever the order of its certificates: the
 * first 16 hex digits of SHA-256 over the certificates' sorted SHA-256
 * fingerprints; *n_certs (may be NULL) counts them. "" when it does not
 * parse. */
void pki_trust_id(const char *pem, size_t len, char out[17], size_t *n_certs);

/* "9y", "364d", "23h", "5m", "12s" like kubeadm's ShortHumanDuration;
 * "<invalid>" when negative. Caller frees. */
char *pki_residual_format(int64_t seconds);
/* "Jan 02, 2006 15:04 MST" in local time (caller frees). */
char *pki_time_format(time_t t);

#endif
