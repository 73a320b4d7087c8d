#include "config.h"

#include "pki/pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/strutil.h"
#include "base/xmalloc.h"

/* Certificates and keys are small; anything larger is not one. */
#define PKI_FILE_MAX (256 * 1024)

static const char *const profile_names[] = {
#define PKI_PROFILE_NAME(id, name, base) name,
	PKI_PROFILE_INFO(PKI_PROFILE_NAME)
#undef PKI_PROFILE_NAME
};

static const char *const profile_bases[] = {
#define PKI_PROFILE_BASE(id, name, base) base,
	PKI_PROFILE_INFO(PKI_PROFILE_BASE)
#undef PKI_PROFILE_BASE
};

const char *pki_profile_name(enum pki_profile p)
{
	return (unsigned)p < PKI_PROFILE_COUNT ? profile_names[p] : "?";
}

const char *pki_profile_file_base(enum pki_profile p)
{
	return (unsigned)p < PKI_PROFILE_COUNT ? profile_bases[p] : "?";
}

bool pki_profile_parse(const char *name, enum pki_profile *p)
{
	for (size_t i = 0; i < PKI_PROFILE_COUNT; i++)
		if (strcmp(name, profile_names[i]) == 0) {
			*p = (enum pki_profile)i;
			return true;
		}
	return false;
}

/* --- subject alternative names ----------------------------------------- */

void pki_sans_free(struct pki_sans *s)
{
	strlist_free(&s->dns);
	strlist_free(&s->ips);
}

static void dns_insert_sorted(struct strlist *l, const char *name)
{
	size_t i = 0;
	char *item;

	while (i < l->n && strcmp(l->items[i], name) < 0)
		i++;
	if (i < l->n && strcmp(l->items[i], name) == 0)
		return;
	strlist_push(l, name);
	item = l->items[l->n - 1];
	memmove(&l->items[i + 1], &l->items[i], (l->n - 1 - i) * sizeof *l->items);
	l->items[i] = item;
}

void pki_sans_add(struct pki_sans *s, const char *name)
{
	char ip[INET6_ADDRSTRLEN];

	if (str_ip_canonical(name, ip, sizeof ip)) {
		if (!strlist_contains(&s->ips, ip))
			strlist_push(&s->ips, ip);
		return;
	}
	dns_insert_sorted(&s->dns, name);
}

void pki_member_sans(const struct host *h, struct pki_sans *out)
{
	memset(out, 0, sizeof *out);
	pki_sans_add(out, h->name);
	pki_sans_add(out, "localhost");
	pki_sans_add(out, h->address);
	pki_sans_add(out, "127.0.0.1");
	pki_sans_add(out, "::1");
	for (size_t i = 0; i < h->extra_sans.n; i++)
		pki_sans_add(out, h->extra_sans.items[i]);
}

static bool strlist_same_set(const struct strlist *a, const struct strlist *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!strlist_contains(b, a->items[i]))
			return false;
	return true;
}

bool pki_sans_equal(const struct pki_sans *a, const struct pki_sans *b)
{
	return strlist_same_set(&a->dns, &b->dns) &&
	       strlist_same_set(&a->ips, &b->ips);
}

char *pki_sans_format(const struct pki_sans *s)
{
	char *out = xstrdup("");

	for (size_t i = 0; i < s->dns.n + s->ips.n; i++) {
		bool dns = i < s->dns.n;
		const char *v = dns ? s->dns.items[i] : s->ips.items[i - s->dns.n];
		char *next = xasprintf("%s%s%s:%s", out, i ? ", " : "",
				       dns ? "DNS" : "IP", v);

		free(out);
		out = next;
	}
	return out;
}

/* --- keys, serials, certificates ---------------------------------------- */

void pki_pair_free(struct pki_pair *p)
{
	if (p->crt)
		gnutls_x509_crt_deinit(p->crt);
	/* GnuTLS zeroes the key's parameters when it releases them. */
	if (p->key)
		gnutls_x509_privkey_deinit(p->key);
	p->crt = NULL;
	p->key = NULL;
}

static enum wiz_err gnutls_fail(struct wiz_error *err, const char *what, int ret)
{
	return wiz_error_set(err, WIZ_ERR_CRYPTO, "%s: %s", what,
			     gnutls_strerror(ret));
}

enum wiz_err pki_key_generate(enum pki_algorithm alg,
			      gnutls_x509_privkey_t *out,
			      struct wiz_error *err)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_pk_algorithm_t pk = GNUTLS_PK_RSA;
	unsigned bits = 2048;
	enum wiz_err rc = WIZ_ERR_OK;
	int ret;

	*out = NULL;
	switch (alg) {
	case PKI_ALG_RSA_2048:
		break;
	case PKI_ALG_RSA_3072:
		bits = 3072;
		break;
	case PKI_ALG_RSA_4096:
		bits = 4096;
		break;
	case PKI_ALG_ECDSA_P256:
		pk = GNUTLS_PK_ECDSA;
		bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);
		break;
	case PKI_ALG_ECDSA_P384:
		pk = GNUTLS_PK_ECDSA;
		bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1);
		break;
	default:
		return wiz_error_set(err, WIZ_ERR_INVALID,
				     _("unknown key algorithm %d"), (int)alg);
	}
	ret = gnutls_x509_privkey_init(&key);
	if (ret < 0)
		return gnutls_fail(err, _("cannot make a private key"), ret);
	ret = gnutls_x509_privkey_generate2(key, pk, bits, 0, NULL, 0);
	if (ret < 0) {
		rc = gnutls_fail(err, _("cannot make a private key"), ret);
		goto out;
	}
	ret = gnutls_x509_privkey_verify_params(key);
	if (ret < 0) {
		rc = gnutls_fail(err, _("the new private key failed its self-test"), ret);
		goto out;
	}
	*out = key;
	key = NULL;
out:
	if (key)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

void pki_serial_random(unsigned char buf[8], size_t *len)
{
	uint64_t v;
	size_t skip = 0;

	do {
		if (gnutls_rnd(GNUTLS_RND_NONCE, buf, 8) < 0)
			abort();	/* the RNG failing is a broken invariant */
		buf[0] &= 0x7f;	/* positive, < 2^63 (RFC 5280 §4.1.2.2) */
		v = 0;
		for (int i = 0; i < 8; i++)
			v = (v << 8) | buf[i];
	} while (v == 0 || v == UINT64_C(0x7fffffffffffffff));
	/* Minimal DER: drop a leading zero byte unless the next byte's top
	 * bit is set (then the zero keeps the number positive). */
	while (skip < 7 && buf[skip] == 0 && (buf[skip + 1] & 0x80) == 0)
		skip++;
	if (skip)
		memmove(buf, buf + skip, 8 - skip);
	*len = 8 - skip;
}

/* kubeadm (Go's crypto/x509) signs with SHA-256, except SHA-384 for a P-384
 * key and SHA-512 for P-521. */
static gnutls_digest_algorithm_t sign_digest(gnutls_x509_privkey_t key)
{
	unsigned bits = 0;
	int pk = gnutls_x509_privkey_get_pk_algorithm2(key, &bits);

	if (pk == GNUTLS_PK_ECDSA && bits >= 521)
		return GNUTLS_DIG_SHA512;
	if (pk == GNUTLS_PK_ECDSA && bits >= 384)
		return GNUTLS_DIG_SHA384;
	return GNUTLS_DIG_SHA256;
}

/* Encode and parse again, so that the caller holds exactly what the file
 * will hold (GnuTLS reads some fields of a certificate only once parsed). */
static int crt_reload(gnutls_x509_crt_t *crt)
{
	gnutls_datum_t der = { NULL, 0 };
	gnutls_x509_crt_t fresh = NULL;
	int ret = gnutls_x509_crt_export2(*crt, GNUTLS_X509_FMT_DER, &der);

	if (ret >= 0)
		ret = gnutls_x509_crt_init(&fresh);
	if (ret >= 0)
		ret = gnutls_x509_crt_import(fresh, &der, GNUTLS_X509_FMT_DER);
	gnutls_free(der.data);
	if (ret < 0) {
		if (fresh)
			gnutls_x509_crt_deinit(fresh);
		return ret;
	}
	gnutls_x509_crt_deinit(*crt);
	*crt = fresh;
	return 0;
}

static enum wiz_err crt_sign(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer,
			     gnutls_x509_privkey_t issuer_key,
			     struct wiz_error *err)
{
	gnutls_privkey_t pk = NULL;
	enum wiz_err rc = WIZ_ERR_OK;
	int ret;

	ret = gnutls_privkey_init(&pk);
	if (ret >= 0)
		ret = gnutls_privkey_import_x509(pk, issuer_key, 0);
	if (ret >= 0)
		ret = gnutls_x509_crt_privkey_sign(crt, issuer, pk,
						   sign_digest(issuer_key), 0);
	if (ret < 0)
		rc = gnutls_fail(err, _("cannot sign the certificate"), ret);
	if (pk)
		gnutls_privkey_deinit(pk);
	return rc;
}

static int set_san(gnutls_x509_crt_t crt, const struct pki_sans *s)
{
	int ret = 0;

	for (size_t i = 0; i < s->dns.n && ret >= 0; i++)
		ret = gnutls_x509_crt_set_subject_alt_name(
			crt, GNUTLS_SAN_DNSNAME, s->dns.items[i],
			(unsigned)strlen(s->dns.items[i]), GNUTLS_FSAN_APPEND);
	for (size_t i = 0; i < s->ips.n && ret >= 0; i++) {
		unsigned char raw[16];
		unsigned rawlen = 4;

		if (inet_pton(AF_INET, s->ips.items[i], raw) != 1) {
			if (inet_pton(AF_INET6, s->ips.items[i], raw) != 1)
				return GNUTLS_E_INVALID_REQUEST;
			rawlen = 16;
		}
		ret = gnutls_x509_crt_set_subject_alt_name(
			crt, GNUTLS_SAN_IPADDRESS, raw, rawlen, GNUTLS_FSAN_APPEND);
	}
	return ret;
}

/* Everything a certificate gets before its extensions, in certtool's
 * order: key, serial, validity, subject. */
static int crt_begin(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key,
		     time_t not_before, time_t not_after, const char *cn)
{
	unsigned char serial[8];
	size_t serial_len;
	int ret;

	ret = gnutls_x509_crt_set_key(crt, key);
	if (ret < 0)
		return ret;
	pki_serial_random(serial, &serial_len);
	ret = gnutls_x509_crt_set_serial(crt, serial, serial_len);
	if (ret < 0)
		return ret;
	ret = gnutls_x509_crt_set_activation_time(crt, not_before);
	if (ret < 0)
		return ret;
	ret = gnutls_x509_crt_set_expiration_time(crt, not_after);
	if (ret < 0)
		return ret;
	return gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					     cn, (unsigned)strlen(cn));
}

/* SKID from our public key (SHA-1, RFC 5280 method 1 as certtool does),
 * AKID = the issuer's SKID. */
static int crt_key_ids(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer)
{
	unsigned char id[64];
	size_t len = sizeof id;
	int ret;

	ret = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &len);
	if (ret < 0)
		return ret;
	ret = gnutls_x509_crt_set_subject_key_id(crt, id, len);
	if (ret < 0)
		return ret;
	if (issuer != crt) {
		len = sizeof id;
		ret = gnutls_x509_crt_get_subject_key_id(issuer, id, &len, NULL);
		if (ret < 0) {
			/* An imported CA without SKID: use its key id. */
			len = sizeof id;
			ret = gnutls_x509_crt_get_key_id(issuer, GNUTLS_KEYID_USE_SHA1,
							 id, &len);
			if (ret < 0)
				return ret;
		}
	}
	return gnutls_x509_crt_set_authority_key_id(crt, id, len);
}

static time_t add_seconds(time_t t, uint64_t s)
{
	/* Stay far from time_t overflow: 9999-12-31 is GeneralizedTime's end. */
	const time_t limit = (time_t)253402300799LL;

	if (s > (uint64_t)(limit - t))
		return limit;
	return t + (time_t)s;
}

enum wiz_err pki_ca_create(enum pki_algorithm alg, uint64_t validity,
			   time_t now, struct pki_pair *out,
			   struct wiz_error *err)
{
	struct pki_pair p = { NULL, NULL };
	struct pki_sans sans = { { NULL, 0 }, { NULL, 0 } };
	enum wiz_err rc;
	int ret;

	out->crt = NULL;
	out->key = NULL;
	rc = pki_key_generate(alg, &p.key, err);
	if (rc != WIZ_ERR_OK)
		goto out;
	ret = gnutls_x509_crt_init(&p.crt);
	if (ret < 0) {
		rc = gnutls_fail(err, _("cannot make the CA certificate"), ret);
		goto out;
	}
	/* kubeadm's NewSelfSignedCACert copies the CN into the DNS names. */
	pki_sans_add(&sans, PKI_CA_CN);
	ret = crt_begin(p.crt, p.key, now - PKI_BACKDATE_SECONDS,
			add_seconds(now, validity), PKI_CA_CN);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_basic_constraints(p.crt, 1, -1);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_key_usage(
			p.crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
				       GNUTLS_KEY_KEY_ENCIPHERMENT |
				       GNUTLS_KEY_KEY_CERT_SIGN);
	if (ret >= 0)
		ret = set_san(p.crt, &sans);
	if (ret >= 0)
		ret = crt_key_ids(p.crt, p.crt);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_version(p.crt, 3);
	if (ret < 0) {
		rc = gnutls_fail(err, _("cannot make the CA certificate"), ret);
		goto out;
	}
	rc = crt_sign(p.crt, p.crt, p.key, err);
	if (rc != WIZ_ERR_OK)
		goto out;
	ret = crt_reload(&p.crt);
	if (ret < 0) {
		rc = gnutls_fail(err, _("cannot encode the certificate"), ret);
		goto out;
	}
	*out = p;
	p.crt = NULL;
	p.key = NULL;
out:
	pki_sans_free(&sans);
	pki_pair_free(&p);
	return rc;
}

enum wiz_err pki_leaf_issue(const struct pki_leaf_spec *spec,
			    enum pki_algorithm alg, const struct pki_pair *ca,
			    time_t now, struct pki_pair *out, bool *clamped,
			    struct wiz_error *err)
{
	struct pki_pair p = { NULL, NULL };
	time_t not_after, ca_not_after;
	bool server = spec->profile == PKI_PROFILE_SERVER ||
		      spec->profile == PKI_PROFILE_PEER;
	enum wiz_err rc;
	int ret;

	out->crt = NULL;
	out->key = NULL;
	if (clamped)
		*clamped = false;
	if (spec->profile == PKI_PROFILE_CA || ca->key == NULL)
		return wiz_error_set(err, WIZ_ERR_INVALID,
				     _("a leaf certificate needs a CA with its key"));
	rc = pki_key_generate(alg, &p.key, err);
	if (rc != WIZ_ERR_OK)
		goto out;
	ret = gnutls_x509_crt_init(&p.crt);
	if (ret < 0) {
		rc = gnutls_fail(err, _("cannot make the certificate"), ret);
		goto out;
	}
	/* A leaf never outlives its CA. */
	not_after = add_seconds(now, spec->validity);
	ca_not_after = gnutls_x509_crt_get_expiration_time(ca->crt);
	if (ca_not_after != (time_t)-1 && not_after > ca_not_after) {
		not_after = ca_not_after;
		if (clamped)
			*clamped = true;
	}
	ret = crt_begin(p.crt, p.key, now - PKI_BACKDATE_SECONDS, not_after,
			spec->cn);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_basic_constraints(p.crt, 0, -1);
	/* kubeadm sets keyEncipherment even for ECDSA keys. */
	if (ret >= 0)
		ret = gnutls_x509_crt_set_key_usage(
			p.crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
				       GNUTLS_KEY_KEY_ENCIPHERMENT);
	if (ret >= 0 && server)
		ret = gnutls_x509_crt_set_key_purpose_oid(p.crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_key_purpose_oid(p.crt, GNUTLS_KP_TLS_WWW_CLIENT, 0);
	if (ret >= 0 && server && spec->sans)
		ret = set_san(p.crt, spec->sans);
	if (ret >= 0)
		ret = crt_key_ids(p.crt, ca->crt);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_version(p.crt, 3);
	if (ret < 0) {
		rc = gnutls_fail(err, _("cannot make the certificate"), ret);
		goto out;
	}
	rc = crt_sign(p.crt, ca->crt, ca->key, err);
	if (rc != WIZ_ERR_OK)
		goto out;
	ret = crt_reload(&p.crt);
	if (ret < 0) {
		rc = gnutls_fail(err, _("cannot encode the certificate"), ret);
		goto out;
	}
	*out = p;
	p.crt = NULL;
	p.key = NULL;
out:
	pki_pair_free(&p);
	return rc;
}

/* --- PEM in and out ----------------------------------------------------- */

enum wiz_err pki_crt_export(gnutls_x509_crt_t crt, gnutls_datum_t *out,
			    struct wiz_error *err)
{
	int ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, out);

	if (ret < 0)
		return gnutls_fail(err, _("cannot encode the certificate"), ret);
	return WIZ_ERR_OK;
}

/* gnutls_x509_privkey_export2 writes PKCS#1 "RSA PRIVATE KEY" and SEC1
 * "EC PRIVATE KEY", the encodings kubeadm's keyutil writes. */
enum wiz_err pki_key_export(gnutls_x509_privkey_t key, gnutls_datum_t *out,
			    struct wiz_error *err)
{
	int ret = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, out);

	if (ret < 0)
		return gnutls_fail(err, _("cannot encode the private key"), ret);
	return WIZ_ERR_OK;
}

void pki_datum_free_secret(gnutls_datum_t *d)
{
	if (d->data) {
		gnutls_memset(d->data, 0, d->size);
		gnutls_free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

enum wiz_err pki_crt_read(const char *path, gnutls_x509_crt_t *out,
			  struct wiz_error *err)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;
	char *buf = NULL;
	size_t len = 0;
	enum wiz_err rc;
	int ret;

	*out = NULL;
	rc = wiz_read_file(path, PKI_FILE_MAX, &buf, &len, err);
	if (rc != WIZ_ERR_OK) {
		wiz_error_prefix(err, _("%s: the certificate cannot be read; check that the file exists and that you may read it"),
				 path);
		return rc;
	}
	if (strstr(buf, "-----BEGIN CERTIFICATE-----") == NULL) {
		rc = wiz_error_set(err, WIZ_ERR_PARSE,
				   _("%s: not a PEM certificate (no \"-----BEGIN CERTIFICATE-----\" line); replace it with the PEM certificate file"),
				   path);
		goto out;
	}
	ret = gnutls_x509_crt_init(&crt);
	if (ret >= 0) {
		d.data = (unsigned char *)buf;
		d.size = (unsigned)len;
		ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	}
	if (ret < 0) {
		rc = wiz_error_set(err, WIZ_ERR_PARSE,
				   _("%s: malformed PEM certificate (%s); replace it with an intact copy"),
				   path, gnutls_strerror(ret));
		goto out;
	}
	*out = crt;
	crt = NULL;
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	free(buf);
	return rc;
}

enum wiz_err pki_key_read(const char *path, gnutls_x509_privkey_t *out,
			  struct wiz_error *err)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t d;
	char *buf = NULL;
	size_t len = 0;
	enum wiz_err rc;
	int ret;

	*out = NULL;
	rc = wiz_read_file(path, PKI_FILE_MAX, &buf, &len, err);
	if (rc != WIZ_ERR_OK) {
		wiz_error_prefix(err, _("%s: the private key cannot be read; check that the file exists and that you may read it"),
				 path);
		return rc;
	}
	if (strstr(buf, "PRIVATE KEY-----") == NULL) {
		rc = wiz_error_set(err, WIZ_ERR_PARSE,
				   _("%s: not a PEM private key (no \"-----BEGIN ... PRIVATE KEY-----\" line); replace it with the PEM key file"),
				   path);
		goto out;
	}
	if (strstr(buf, "ENCRYPTED") != NULL) {
		rc = wiz_error_set(err, WIZ_ERR_PARSE,
				   _("%s: the private key is encrypted, and etcd needs it unencrypted; decrypt it first (openssl pkey -in KEY -out KEY.plain)"),
				   path);
		goto out;
	}
	ret = gnutls_x509_privkey_init(&key);
	if (ret >= 0) {
		d.data = (unsigned char *)buf;
		d.size = (unsigned)len;
		ret = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM,
						  NULL, GNUTLS_PKCS_PLAIN);
	}
	if (ret < 0) {
		rc = wiz_error_set(err, WIZ_ERR_PARSE,
				   _("%s: malformed PEM private key (%s); replace it with an intact copy"),
				   path, gnutls_strerror(ret));
		goto out;
	}
	*out = key;
	key = NULL;
out:
	if (key)
		gnutls_x509_privkey_deinit(key);
	if (buf)
		wiz_free_secret(buf, len);
	return rc;
}

/* --- checks ------------------------------------------------------------- */

bool pki_key_matches(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	unsigned char a[64], b[64];
	size_t alen = sizeof a, blen = sizeof b;

	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a, &alen) < 0 ||
	    gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b, &blen) < 0)
		return false;
	return alen == blen && memcmp(a, b, alen) == 0;
}

bool pki_crt_signed_by(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca)
{
	unsigned status = 0;
	int ret = gnutls_x509_crt_verify(crt, &ca, 1,
					 GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
						 GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
					 &status);

	return ret >= 0 && status == 0;
}

bool pki_crt_is_ca(gnutls_x509_crt_t crt)
{
	unsigned usage = 0, critical = 0;

	if (gnutls_x509_crt_get_ca_status(crt, &critical) <= 0)
		return false;
	/* With a key usage extension, it must allow signing certificates. */
	if (gnutls_x509_crt_get_key_usage(crt, &usage, &critical) >= 0 &&
	    !(usage & GNUTLS_KEY_KEY_CERT_SIGN))
		return false;
	return true;
}

bool pki_crt_equal(gnutls_x509_crt_t a, gnutls_x509_crt_t b)
{
	return gnutls_x509_crt_equals(a, b) != 0;
}

static char *get_cn(gnutls_x509_crt_t crt, bool issuer)
{
	char buf[1024];
	size_t len = sizeof buf;
	int ret = issuer ? gnutls_x509_crt_get_issuer_dn_by_oid(
				   crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &len)
			 : gnutls_x509_crt_get_dn_by_oid(
				   crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &len);

	return ret < 0 ? xstrdup("") : xstrndup(buf, len);
}

enum wiz_err pki_crt_info(gnutls_x509_crt_t crt, struct pki_crt_info *out,
			  struct wiz_error *err)
{
	unsigned critical = 0;

	memset(out, 0, sizeof *out);
	out->cn = get_cn(crt, false);
	out->issuer_cn = get_cn(crt, true);
	out->not_before = gnutls_x509_crt_get_activation_time(crt);
	out->not_after = gnutls_x509_crt_get_expiration_time(crt);
	out->is_ca = gnutls_x509_crt_get_ca_status(crt, &critical) > 0;
	for (unsigned seq = 0;; seq++) {
		unsigned char buf[1024];
		size_t len = sizeof buf - 1;
		unsigned type = 0;
		int ret = gnutls_x509_crt_get_subject_alt_name2(crt, seq, buf, &len,
								&type, &critical);
		char ip[INET6_ADDRSTRLEN];

		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0) {
			pki_crt_info_free(out);
			return gnutls_fail(err, _("cannot read the subject alternative names"), ret);
		}
		if (type == GNUTLS_SAN_DNSNAME) {
			buf[len] = '\0';
			dns_insert_sorted(&out->sans.dns, (char *)buf);
		} else if (type == GNUTLS_SAN_IPADDRESS &&
			   inet_ntop(len == 4 ? AF_INET : AF_INET6, buf, ip,
				     sizeof ip) != NULL &&
			   (len == 4 || len == 16)) {
			if (!strlist_contains(&out->sans.ips, ip))
				strlist_push(&out->sans.ips, ip);
		}
	}
	return WIZ_ERR_OK;
}

void pki_crt_info_free(struct pki_crt_info *info)
{
	free(info->cn);
	free(info->issuer_cn);
	pki_sans_free(&info->sans);
	memset(info, 0, sizeof *info);
}

enum wiz_err pki_ca_check(const struct pki_pair *ca, const char *crt_path,
			  const char *key_path, time_t now,
			  uint64_t min_remaining, struct wiz_error *err)
{
	time_t not_before = gnutls_x509_crt_get_activation_time(ca->crt);
	time_t not_after = gnutls_x509_crt_get_expiration_time(ca->crt);
	char *when;
	enum wiz_err rc = WIZ_ERR_OK;

	if (!pki_crt_is_ca(ca->crt))
		return wiz_error_set(err, WIZ_ERR_INVALID,
				     _("%s: not a CA certificate (no basicConstraints CA:TRUE with keyCertSign); give the etcd CA's ca.crt, not a server or client certificate"),
				     crt_path);
	if (!pki_crt_signed_by(ca->crt, ca->crt))
		return wiz_error_set(err, WIZ_ERR_INVALID,
				     _("%s: the CA certificate is not self-signed or its signature is broken; give the root etcd CA (etcd/ca.crt)"),
				     crt_path);
	if (ca->key && !pki_key_matches(ca->crt, ca->key))
		return wiz_error_set(err, WIZ_ERR_INVALID,
				     _("%s: the private key does not match the certificate %s; give the ca.key made together with that ca.crt"),
				     key_path, crt_path);
	if (not_after <= now) {
		when = pki_time_format(not_after);
		rc = wiz_error_set(err, WIZ_ERR_INVALID,
				   _("%s: the CA expired on %s; a new CA means new certificates on every member: remove the store and run 'etcdwiz certs generate', or import a valid CA"),
				   crt_path, when);
		free(when);
		return rc;
	}
	if (not_before > now + PKI_BACKDATE_SECONDS) {
		when = pki_time_format(not_before);
		rc = wiz_error_set(err, WIZ_ERR_INVALID,
				   _("%s: the CA is not valid before %s; check this machine's clock"),
				   crt_path, when);
		free(when);
		return rc;
	}
	if ((uint64_t)(not_after - now) < min_remaining) {
		char *left = pki_residual_format((int64_t)(not_after - now));
		char *need = pki_residual_format((int64_t)min_remaining);

		when = pki_time_format(not_after);
		rc = wiz_error_set(err, WIZ_ERR_INVALID,
				   _("%s: the CA expires on %s (in %s), before leaf certificates valid for %s would; use a CA with a longer lifetime, or lower pki.certValidity in the cluster file"),
				   crt_path, when, left, need);
		free(when);
		free(left);
		free(need);
	}
	return rc;
}

/* --- formatting --------------------------------------------------------- */

char *pki_residual_format(int64_t s)
{
	if (s < -1)
		return xstrdup("<invalid>");
	if (s < 0)
		return xstrdup("0s");
	if (s < 60)
		return xasprintf("%llds", (long long)s);
	if (s < 3600)
		return xasprintf("%lldm", (long long)(s / 60));
	if (s < 86400)
		return xasprintf("%lldh", (long long)(s / 3600));
	if (s < 365LL * 86400)
		return xasprintf("%lldd", (long long)(s / 86400));
	return xasprintf("%lldy", (long long)(s / (365LL * 86400)));
}

char *pki_time_format(time_t t)
{
	char buf[128];
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof buf, "%b %d, %Y %H:%M %Z", &tm) == 0)
		return xasprintf("@%lld", (long long)t);
	return xstrdup(buf);
}

/* --- serials and trust files -------------------------------------------- */

void pki_crt_serial_hex(gnutls_x509_crt_t crt, char *out, size_t size)
{
	unsigned char buf[40];
	size_t n = sizeof buf, i = 0, used = 0;

	out[0] = '\0';
	if (gnutls_x509_crt_get_serial(crt, buf, &n) != 0)
		return;
	while (i + 1 < n && buf[i] == 0)
		i++;
	for (; i < n && used + 3 <= size; i++)
		used += (size_t)snprintf(out + used, size - used, used == 0 ? "%x" : "%02x", buf[i]);
}

void pki_crt_list_free(gnutls_x509_crt_t *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gnutls_x509_crt_deinit(l[i]);
	gnutls_free(l);
}

enum wiz_err pki_crt_list_parse(const char *pem, size_t len, gnutls_x509_crt_t **out, size_t *n,
				struct wiz_error *err)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)pem, (unsigned)len };
	unsigned count = 0;
	int ret;

	*out = NULL;
	*n = 0;
	ret = gnutls_x509_crt_list_import2(out, &count, &d, GNUTLS_X509_FMT_PEM, 0);
	if (ret < 0 || count == 0) {
		if (ret >= 0)
			pki_crt_list_free(*out, count);
		*out = NULL;
		return wiz_error_set(err, WIZ_ERR_INVALID, _("no PEM certificate could be read (%s)"),
				     ret < 0 ? gnutls_strerror(ret) : _("none found"));
	}
	*n = count;
	return WIZ_ERR_OK;
}

static int fingerprint_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

void pki_trust_id(const char *pem, size_t len, char out[17], size_t *n_certs)
{
	gnutls_x509_crt_t *l = NULL;
	size_t n = 0;
	unsigned char (*fp)[32];
	unsigned char sum[32];

	out[0] = '\0';
	if (n_certs)
		*n_certs = 0;
	if (pem == NULL || pki_crt_list_parse(pem, len, &l, &n, NULL) != WIZ_ERR_OK)
		return;
	fp = xcalloc(n, sizeof *fp);
	for (size_t i = 0; i < n; i++) {
		size_t fl = sizeof fp[i];

		if (gnutls_x509_crt_get_fingerprint(l[i], GNUTLS_DIG_SHA256, fp[i], &fl) != 0)
			memset(fp[i], 0, sizeof fp[i]);
	}
	qsort(fp, n, sizeof *fp, fingerprint_cmp);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, fp, n * sizeof *fp, sum) == 0) {
		for (size_t i = 0; i < 8; i++)
			snprintf(out + 2 * i, 3, "%02x", sum[i]);
		if (n_certs)
			*n_certs = n;
	}
	free(fp);
	pki_crt_list_free(l, n);
}
