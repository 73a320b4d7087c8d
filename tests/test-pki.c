/* Unit tests of the PKI: the profiles field by field, serials, SANs, key
 * encodings, CA checks, the store (modes, idempotence, renew, renamed
 * members), and a TLS handshake between a GnuTLS client and server over an
 * in-memory transport with our certificates. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tests/unit.h"

#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "pki/pki-rotate.h"
#include "pki/pki-store.h"
#include "pki/pki.h"

static const time_t NOW = 1767225600;	/* 2026-01-01 00:00:00 UTC */

static void make_host(struct host *h, const char *name, const char *address)
{
	memset(h, 0, sizeof *h);
	h->name = xstrdup(name);
	h->address = xstrdup(address);
}

static void free_host(struct host *h)
{
	free(h->name);
	free(h->address);
	strlist_free(&h->extra_sans);
}

static void make_ca(enum pki_algorithm alg, uint64_t validity, struct pki_pair *ca)
{
	struct wiz_error e = { WIZ_ERR_OK, "" };

	assert_int_equal(pki_ca_create(alg, validity, NOW, ca, &e), WIZ_ERR_OK);
}

static void make_leaf(const struct pki_pair *ca, enum pki_profile p,
		      const char *cn, const struct pki_sans *sans,
		      uint64_t validity, struct pki_pair *out, bool *clamped)
{
	struct pki_leaf_spec spec = { p, cn, sans, validity };
	struct wiz_error e = { WIZ_ERR_OK, "" };

	assert_int_equal(pki_leaf_issue(&spec, PKI_ALG_ECDSA_P256, ca, NOW, out,
					clamped, &e), WIZ_ERR_OK);
}

/* --- serials and names --------------------------------------------------- */

static void test_serial_positive_nonzero(void **state)
{
	unsigned char prev[8] = { 0 };
	int same = 0;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		unsigned char s[8];
		size_t len, nz = 0;

		pki_serial_random(s, &len);
		assert_true(len >= 1 && len <= 8);
		assert_int_equal(s[0] & 0x80, 0);	/* positive */
		for (size_t j = 0; j < len; j++)
			nz |= s[j];
		assert_true(nz != 0);			/* non-zero */
		/* minimal DER: no redundant leading zero */
		if (len > 1 && s[0] == 0)
			assert_true((s[1] & 0x80) != 0);
		if (len == 8 && memcmp(s, prev, 8) == 0)
			same++;
		memcpy(prev, s, len);
	}
	assert_int_equal(same, 0);
}

static void test_member_sans(void **state)
{
	struct host h;
	struct pki_sans s;
	char *text;

	(void)state;
	make_host(&h, "etcd02", "2001:DB8::2");
	strlist_push(&h.extra_sans, "etcd02.example.com");
	strlist_push(&h.extra_sans, "192.0.2.7");
	strlist_push(&h.extra_sans, "localhost");	/* duplicate */
	strlist_push(&h.extra_sans, "::1");		/* duplicate */
	strlist_push(&h.extra_sans, "a.example.com");
	pki_member_sans(&h, &s);
	text = pki_sans_format(&s);
	/* DNS sorted and unique (kubeadm's sets.List); IPs canonical, in order. */
	assert_string_equal(text, "DNS:a.example.com, DNS:etcd02, DNS:etcd02.example.com, "
				  "DNS:localhost, IP:2001:db8::2, IP:127.0.0.1, IP:::1, "
				  "IP:192.0.2.7");
	free(text);
	pki_sans_free(&s);
	free_host(&h);
}

/* --- profiles ------------------------------------------------------------ */

static bool has_kp(gnutls_x509_crt_t crt, const char *oid)
{
	for (unsigned i = 0;; i++) {
		char buf[128];
		size_t len = sizeof buf;

		if (gnutls_x509_crt_get_key_purpose_oid(crt, i, buf, &len, NULL) < 0)
			return false;
		if (strcmp(buf, oid) == 0)
			return true;
	}
}

static unsigned count_kp(gnutls_x509_crt_t crt)
{
	unsigned i = 0;

	for (;; i++) {
		char buf[128];
		size_t len = sizeof buf;

		if (gnutls_x509_crt_get_key_purpose_oid(crt, i, buf, &len, NULL) < 0)
			return i;
	}
}

static bool has_org(gnutls_x509_crt_t crt)
{
	char buf[256];
	size_t len = sizeof buf;

	return gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME,
					     0, 0, buf, &len) >= 0;
}

static void test_ca_profile(void **state)
{
	struct pki_pair ca;
	struct pki_crt_info info;
	struct wiz_error e;
	unsigned usage = 0, critical = 0;
	unsigned char ski[64];
	size_t ski_len = sizeof ski;

	(void)state;
	make_ca(PKI_ALG_RSA_2048, UINT64_C(87600) * 3600, &ca);
	assert_int_equal(pki_crt_info(ca.crt, &info, &e), WIZ_ERR_OK);
	assert_string_equal(info.cn, "etcd-ca");
	assert_string_equal(info.issuer_cn, "etcd-ca");
	assert_true(info.is_ca);
	assert_int_equal(info.not_before, NOW - 300);
	assert_int_equal(info.not_after, NOW + (time_t)87600 * 3600);
	assert_int_equal(info.sans.dns.n, 1);
	assert_string_equal(info.sans.dns.items[0], "etcd-ca");
	assert_int_equal(info.sans.ips.n, 0);
	assert_int_equal(gnutls_x509_crt_get_version(ca.crt), 3);
	assert_int_equal(gnutls_x509_crt_get_key_usage(ca.crt, &usage, &critical), 0);
	assert_int_equal(usage, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT |
					GNUTLS_KEY_KEY_CERT_SIGN);
	assert_int_equal(critical, 1);
	assert_int_equal(gnutls_x509_crt_get_subject_key_id(ca.crt, ski, &ski_len, NULL), 0);
	assert_int_equal(gnutls_x509_crt_get_signature_algorithm(ca.crt), GNUTLS_SIGN_RSA_SHA256);
	assert_false(has_org(ca.crt));
	assert_true(pki_crt_is_ca(ca.crt));
	assert_true(pki_crt_signed_by(ca.crt, ca.crt));
	assert_true(pki_key_matches(ca.crt, ca.key));
	pki_crt_info_free(&info);
	pki_pair_free(&ca);
}

static void check_leaf(const struct pki_pair *ca, enum pki_profile p)
{
	struct host h;
	struct pki_sans sans;
	struct pki_pair leaf;
	struct pki_crt_info info;
	struct wiz_error e;
	bool server = p == PKI_PROFILE_SERVER || p == PKI_PROFILE_PEER;
	const char *cn = server ? "etcd01"
			 : p == PKI_PROFILE_HEALTHCHECK ? PKI_HEALTHCHECK_CN
							: PKI_APISERVER_CLIENT_CN;
	unsigned usage = 0, critical = 0;
	unsigned char aki[64], ski[64];
	size_t aki_len = sizeof aki, ski_len = sizeof ski;

	make_host(&h, "etcd01", "10.0.0.1");
	pki_member_sans(&h, &sans);
	make_leaf(ca, p, cn, server ? &sans : NULL, UINT64_C(8760) * 3600, &leaf, NULL);
	assert_int_equal(pki_crt_info(leaf.crt, &info, &e), WIZ_ERR_OK);
	assert_string_equal(info.cn, cn);
	assert_string_equal(info.issuer_cn, "etcd-ca");
	assert_false(info.is_ca);
	assert_false(has_org(leaf.crt));	/* no O since kubeadm 1.29 */
	assert_int_equal(info.not_before, NOW - 300);
	assert_int_equal(info.not_after, NOW + (time_t)8760 * 3600);
	assert_true(has_kp(leaf.crt, GNUTLS_KP_TLS_WWW_CLIENT));
	assert_int_equal(has_kp(leaf.crt, GNUTLS_KP_TLS_WWW_SERVER), server);
	assert_int_equal(count_kp(leaf.crt), server ? 2 : 1);
	assert_int_equal(gnutls_x509_crt_get_key_usage(leaf.crt, &usage, &critical), 0);
	assert_int_equal(usage, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT);
	if (server) {
		assert_true(pki_sans_equal(&info.sans, &sans));
	} else {
		assert_int_equal(info.sans.dns.n + info.sans.ips.n, 0);
	}
	assert_int_equal(gnutls_x509_crt_get_authority_key_id(leaf.crt, aki, &aki_len, NULL), 0);
	assert_int_equal(gnutls_x509_crt_get_subject_key_id(ca->crt, ski, &ski_len, NULL), 0);
	assert_memory_equal(aki, ski, ski_len);
	assert_int_equal(aki_len, ski_len);
	assert_true(pki_crt_signed_by(leaf.crt, ca->crt));
	assert_true(pki_key_matches(leaf.crt, leaf.key));
	assert_false(pki_key_matches(leaf.crt, ca->key));
	pki_crt_info_free(&info);
	pki_pair_free(&leaf);
	pki_sans_free(&sans);
	free_host(&h);
}

static void test_leaf_profiles(void **state)
{
	struct pki_pair ca;

	(void)state;
	make_ca(PKI_ALG_ECDSA_P256, UINT64_C(87600) * 3600, &ca);
	check_leaf(&ca, PKI_PROFILE_SERVER);
	check_leaf(&ca, PKI_PROFILE_PEER);
	check_leaf(&ca, PKI_PROFILE_HEALTHCHECK);
	check_leaf(&ca, PKI_PROFILE_APISERVER_CLIENT);
	pki_pair_free(&ca);
}

static void test_leaf_clamped_to_ca(void **state)
{
	struct pki_pair ca, leaf;
	bool clamped = false;

	(void)state;
	make_ca(PKI_ALG_ECDSA_P256, 86400, &ca);
	make_leaf(&ca, PKI_PROFILE_HEALTHCHECK, PKI_HEALTHCHECK_CN, NULL,
		  UINT64_C(8760) * 3600, &leaf, &clamped);
	assert_true(clamped);
	assert_int_equal(gnutls_x509_crt_get_expiration_time(leaf.crt),
			 gnutls_x509_crt_get_expiration_time(ca.crt));
	pki_pair_free(&leaf);
	pki_pair_free(&ca);
}

static void check_key_pem(enum pki_algorithm alg, const char *header,
			  gnutls_sign_algorithm_t sig)
{
	struct pki_pair ca;
	gnutls_datum_t d = { NULL, 0 };
	struct wiz_error e;

	make_ca(alg, 86400, &ca);
	assert_int_equal(pki_key_export(ca.key, &d, &e), WIZ_ERR_OK);
	assert_true(d.size > strlen(header));
	assert_memory_equal(d.data, header, strlen(header));
	assert_int_equal(gnutls_x509_crt_get_signature_algorithm(ca.crt), sig);
	pki_datum_free_secret(&d);
	assert_null(d.data);
	pki_pair_free(&ca);
}

static void test_key_encodings(void **state)
{
	(void)state;
	check_key_pem(PKI_ALG_RSA_2048, "-----BEGIN RSA PRIVATE KEY-----\n", GNUTLS_SIGN_RSA_SHA256);
	check_key_pem(PKI_ALG_ECDSA_P256, "-----BEGIN EC PRIVATE KEY-----\n", GNUTLS_SIGN_ECDSA_SHA256);
	check_key_pem(PKI_ALG_ECDSA_P384, "-----BEGIN EC PRIVATE KEY-----\n", GNUTLS_SIGN_ECDSA_SHA384);
}

static void test_key_sizes(void **state)
{
	static const struct { enum pki_algorithm alg; int pk; unsigned bits; } want[] = {
		{ PKI_ALG_RSA_2048, GNUTLS_PK_RSA, 2048 },
		{ PKI_ALG_RSA_3072, GNUTLS_PK_RSA, 3072 },
		{ PKI_ALG_ECDSA_P256, GNUTLS_PK_ECDSA, 256 },
		{ PKI_ALG_ECDSA_P384, GNUTLS_PK_ECDSA, 384 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		gnutls_x509_privkey_t key;
		struct wiz_error e;
		unsigned bits = 0;

		assert_int_equal(pki_key_generate(want[i].alg, &key, &e), WIZ_ERR_OK);
		assert_int_equal(gnutls_x509_privkey_get_pk_algorithm2(key, &bits), want[i].pk);
		assert_int_equal(bits, want[i].bits);
		gnutls_x509_privkey_deinit(key);
	}
}

/* --- CA checks ----------------------------------------------------------- */

static void test_ca_check(void **state)
{
	struct pki_pair ca, other, leaf, mixed;
	struct wiz_error e;

	(void)state;
	make_ca(PKI_ALG_ECDSA_P256, 10 * 86400, &ca);
	make_ca(PKI_ALG_ECDSA_P256, 10 * 86400, &other);
	make_leaf(&ca, PKI_PROFILE_HEALTHCHECK, PKI_HEALTHCHECK_CN, NULL, 86400, &leaf, NULL);

	assert_int_equal(pki_ca_check(&ca, "ca.crt", "ca.key", NOW, 86400, &e), WIZ_ERR_OK);
	/* not a CA */
	assert_int_equal(pki_ca_check(&leaf, "x.crt", "x.key", NOW, 0, &e), WIZ_ERR_INVALID);
	assert_non_null(strstr(e.msg, "x.crt: not a CA certificate"));
	/* key of another CA */
	mixed.crt = ca.crt;
	mixed.key = other.key;
	assert_int_equal(pki_ca_check(&mixed, "ca.crt", "other.key", NOW, 0, &e), WIZ_ERR_INVALID);
	assert_non_null(strstr(e.msg, "other.key: the private key does not match"));
	/* expired */
	assert_int_equal(pki_ca_check(&ca, "ca.crt", "ca.key", NOW + 11 * 86400, 0, &e),
			 WIZ_ERR_INVALID);
	assert_non_null(strstr(e.msg, "ca.crt: the CA expired on"));
	/* not valid long enough for a one-year leaf */
	assert_int_equal(pki_ca_check(&ca, "ca.crt", "ca.key", NOW, UINT64_C(8760) * 3600, &e),
			 WIZ_ERR_INVALID);
	assert_non_null(strstr(e.msg, "lower pki.certValidity"));
	pki_pair_free(&leaf);
	pki_pair_free(&other);
	pki_pair_free(&ca);
}

static void test_residual_format(void **state)
{
	char *s;

	(void)state;
	s = pki_residual_format(364 * 86400 + 5); assert_string_equal(s, "364d"); free(s);
	s = pki_residual_format(9 * 365 * 86400 + 100); assert_string_equal(s, "9y"); free(s);
	s = pki_residual_format(7200); assert_string_equal(s, "2h"); free(s);
	s = pki_residual_format(-100); assert_string_equal(s, "<invalid>"); free(s);
}

/* --- TLS over an in-memory transport ------------------------------------- */

struct pipe_buf {
	unsigned char data[65536];
	size_t len;
};

struct tls_end {
	gnutls_session_t session;
	struct pipe_buf *in, *out;
};

static ssize_t mem_push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	struct tls_end *end = p;

	if (end->out->len + len > sizeof end->out->data) {
		gnutls_transport_set_errno(end->session, EAGAIN);
		return -1;
	}
	memcpy(end->out->data + end->out->len, data, len);
	end->out->len += len;
	return (ssize_t)len;
}

static ssize_t mem_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct tls_end *end = p;

	if (end->in->len == 0) {
		gnutls_transport_set_errno(end->session, EAGAIN);
		return -1;
	}
	if (len > end->in->len)
		len = end->in->len;
	memcpy(data, end->in->data, len);
	memmove(end->in->data, end->in->data + len, end->in->len - len);
	end->in->len -= len;
	return (ssize_t)len;
}

static int mem_pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	struct tls_end *end = p;

	(void)ms;
	return end->in->len > 0 ? 1 : 0;
}

static gnutls_certificate_credentials_t creds(const struct pki_pair *trust,
					      const struct pki_pair *own)
{
	gnutls_certificate_credentials_t c;
	gnutls_x509_crt_t chain[1];

	assert_int_equal(gnutls_certificate_allocate_credentials(&c), 0);
	chain[0] = own->crt;
	assert_int_equal(gnutls_certificate_set_x509_key(c, chain, 1, own->key), 0);
	assert_true(gnutls_certificate_set_x509_trust(c, (gnutls_x509_crt_t *)&trust->crt, 1) == 1);
	return c;
}

static void tls_end_init(struct tls_end *end, unsigned flags,
			 gnutls_certificate_credentials_t c, struct pipe_buf *in,
			 struct pipe_buf *out)
{
	end->in = in;
	end->out = out;
	assert_int_equal(gnutls_init(&end->session, flags | GNUTLS_NONBLOCK), 0);
	assert_int_equal(gnutls_set_default_priority(end->session), 0);
	assert_int_equal(gnutls_credentials_set(end->session, GNUTLS_CRD_CERTIFICATE, c), 0);
	gnutls_transport_set_ptr(end->session, end);
	gnutls_transport_set_push_function(end->session, mem_push);
	gnutls_transport_set_pull_function(end->session, mem_pull);
	gnutls_transport_set_pull_timeout_function(end->session, mem_pull_timeout);
}

/* Returns true when both handshakes complete; server_ret and client_ret get
 * the final codes. The server requires and verifies a client certificate;
 * the client verifies the server for the name "etcd01". */
static bool handshake(const struct pki_pair *srv_trust, const struct pki_pair *srv_own,
		      const struct pki_pair *cli_trust, const struct pki_pair *cli_own,
		      int *server_ret, int *client_ret)
{
	struct pipe_buf *to_server = xcalloc(1, sizeof *to_server);
	struct pipe_buf *to_client = xcalloc(1, sizeof *to_client);
	gnutls_certificate_credentials_t sc = creds(srv_trust, srv_own);
	gnutls_certificate_credentials_t cc = creds(cli_trust, cli_own);
	struct tls_end server, client;
	int sret = GNUTLS_E_AGAIN, cret = GNUTLS_E_AGAIN;
	bool ok;

	tls_end_init(&server, GNUTLS_SERVER, sc, to_server, to_client);
	tls_end_init(&client, GNUTLS_CLIENT, cc, to_client, to_server);
	gnutls_certificate_server_set_request(server.session, GNUTLS_CERT_REQUIRE);
	gnutls_session_set_verify_cert(server.session, NULL, 0);
	gnutls_session_set_verify_cert(client.session, "etcd01", 0);
	for (int round = 0; round < 100; round++) {
		if (cret == GNUTLS_E_AGAIN || cret == GNUTLS_E_INTERRUPTED)
			cret = gnutls_handshake(client.session);
		if (sret == GNUTLS_E_AGAIN || sret == GNUTLS_E_INTERRUPTED)
			sret = gnutls_handshake(server.session);
		if ((cret != GNUTLS_E_AGAIN && sret != GNUTLS_E_AGAIN) ||
		    (cret < 0 && cret != GNUTLS_E_AGAIN) ||
		    (sret < 0 && sret != GNUTLS_E_AGAIN))
			break;
	}
	ok = sret == 0 && cret == 0;
	if (ok) {
		char buf[16] = { 0 };
		ssize_t n;

		assert_int_equal(gnutls_record_send(client.session, "ping", 4), 4);
		n = gnutls_record_recv(server.session, buf, sizeof buf);
		assert_int_equal(n, 4);
		assert_memory_equal(buf, "ping", 4);
	}
	*server_ret = sret;
	*client_ret = cret;
	gnutls_deinit(client.session);
	gnutls_deinit(server.session);
	gnutls_certificate_free_credentials(cc);
	gnutls_certificate_free_credentials(sc);
	free(to_server);
	free(to_client);
	return ok;
}

static void test_tls_handshake(void **state)
{
	struct pki_pair ca, other_ca, server, client, foreign_client;
	struct host h;
	struct pki_sans sans;
	int sret, cret;

	(void)state;
	make_host(&h, "etcd01", "10.0.0.1");
	pki_member_sans(&h, &sans);
	{
		/* Real time here: the TLS stacks check validity against now. */
		struct pki_leaf_spec s1 = { PKI_PROFILE_SERVER, "etcd01", &sans, 86400 };
		struct pki_leaf_spec s2 = { PKI_PROFILE_HEALTHCHECK, PKI_HEALTHCHECK_CN, NULL, 86400 };
		struct wiz_error e;
		time_t now = time(NULL);

		assert_int_equal(pki_ca_create(PKI_ALG_ECDSA_P256, 86400 * 30, now, &ca, &e), 0);
		assert_int_equal(pki_ca_create(PKI_ALG_RSA_2048, 86400 * 30, now, &other_ca, &e), 0);
		assert_int_equal(pki_leaf_issue(&s1, PKI_ALG_RSA_2048, &ca, now, &server, NULL, &e), 0);
		assert_int_equal(pki_leaf_issue(&s2, PKI_ALG_ECDSA_P256, &ca, now, &client, NULL, &e), 0);
		assert_int_equal(pki_leaf_issue(&s2, PKI_ALG_ECDSA_P256, &other_ca, now,
						&foreign_client, NULL, &e), 0);
	}
	/* our server cert + our healthcheck-client cert: both sides verify */
	assert_true(handshake(&ca, &server, &ca, &client, &sret, &cret));
	/* a client certificate from another CA is refused by the server */
	assert_false(handshake(&ca, &server, &ca, &foreign_client, &sret, &cret));
	assert_int_equal(sret, GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
	/* a client that trusts another CA refuses our server */
	assert_false(handshake(&ca, &server, &other_ca, &client, &sret, &cret));
	assert_int_equal(cret, GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
	pki_pair_free(&foreign_client);
	pki_pair_free(&client);
	pki_pair_free(&server);
	pki_pair_free(&other_ca);
	pki_pair_free(&ca);
	pki_sans_free(&sans);
	free_host(&h);
}

/* --- the store ----------------------------------------------------------- */

static char tmpdir[256];

static int store_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/test-pki.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int store_teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int rc;

	(void)state;
	rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

static void load(struct cluster *c, const char *member0)
{
	struct diag_list d;
	char *yaml = xasprintf("apiVersion: etcdwiz/v1\nkind: Cluster\nname: t\n"
			       "pki:\n  algorithm: ECDSA-P256\n  dir: %s/store\n"
			       "members:\n  - name: %s\n    address: 10.0.0.1\n"
			       "  - name: b\n    address: 10.0.0.2\n",
			       tmpdir, member0);

	diag_list_init(&d, "mem.yaml");
	assert_int_equal(cluster_load_string("mem.yaml", yaml, strlen(yaml), c, &d), WIZ_ERR_OK);
	diag_list_free(&d);
	free(yaml);
}

static mode_t mode_of(const char *rel)
{
	struct stat st;
	char *p = xasprintf("%s/store/%s", tmpdir, rel);

	assert_int_equal(stat(p, &st), 0);
	free(p);
	return st.st_mode & 07777;
}

static char *read_all(const char *rel)
{
	char *p = xasprintf("%s/store/%s", tmpdir, rel), *data = NULL;
	FILE *f = fopen(p, "rb");
	size_t n;

	assert_non_null(f);
	data = xcalloc(1, 65536);
	n = fread(data, 1, 65535, f);
	data[n] = '\0';
	fclose(f);
	free(p);
	return data;
}

static void test_store_generate(void **state)
{
	struct cluster c;
	struct pki_store s;
	struct pki_report r;
	char *before, *after;

	(void)state;
	load(&c, "a");
	pki_store_init(&s, &c);
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_store_generate(&s, NOW, &r), WIZ_ERR_OK);
	assert_int_equal(r.errors.n, 0);
	assert_int_equal(r.written.n, 2 + 2 * 9);	/* CA pair + 2 x (ca.crt + 4 pairs) */
	assert_int_equal(mode_of(""), 0700);
	assert_int_equal(mode_of("ca/etcd"), 0700);
	assert_int_equal(mode_of("members/a/etcd"), 0700);
	assert_int_equal(mode_of("ca/etcd/ca.key"), 0600);
	assert_int_equal(mode_of("ca/etcd/ca.crt"), 0644);
	assert_int_equal(mode_of("members/b/etcd/server.key"), 0600);
	assert_int_equal(mode_of("members/b/etcd/peer.crt"), 0644);
	assert_int_equal(mode_of("members/b/apiserver-etcd-client.key"), 0600);
	assert_int_equal(mode_of("members/b/etcd/ca.crt"), 0644);
	pki_report_free(&r);

	/* Second run: nothing written, and it says so. */
	memset(&r, 0, sizeof r);
	before = read_all("members/a/etcd/server.key");
	assert_int_equal(pki_store_generate(&s, NOW, &r), WIZ_ERR_OK);
	assert_int_equal(r.written.n, 0);
	assert_int_equal(r.notes.n, 1);
	assert_non_null(strstr(r.notes.items[0], "nothing changed"));
	pki_report_free(&r);

	/* A removed leaf is made again, and only that one. */
	{
		char *p = xasprintf("%s/store/members/b/etcd/peer.crt", tmpdir);

		assert_int_equal(unlink(p), 0);
		free(p);
	}
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_store_generate(&s, NOW, &r), WIZ_ERR_OK);
	assert_int_equal(r.written.n, 2);
	pki_report_free(&r);

	/* renew: new key, same subject and names. */
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_store_renew(&s, "a/etcd-server", NOW + 60, &r), WIZ_ERR_OK);
	assert_int_equal(r.written.n, 2);
	after = read_all("members/a/etcd/server.key");
	assert_string_not_equal(before, after);
	pki_report_free(&r);
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_store_generate(&s, NOW + 60, &r), WIZ_ERR_OK);
	assert_int_equal(r.errors.n, 0);	/* still matches the cluster file */
	assert_int_equal(r.written.n, 0);
	pki_report_free(&r);
	free(before);
	free(after);

	/* Unknown target: a usage error. */
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_store_renew(&s, "nope", NOW, &r), WIZ_ERR_USAGE);
	pki_report_free(&r);

	/* Without the CA key renew refuses, and writes nothing. */
	{
		char *key = xasprintf("%s/store/ca/etcd/ca.key", tmpdir);
		char *aside = xasprintf("%s/ca.key", tmpdir);

		assert_int_equal(rename(key, aside), 0);
		memset(&r, 0, sizeof r);
		assert_int_equal(pki_store_renew(&s, "all", NOW, &r), WIZ_ERR_INVALID);
		assert_int_equal(r.written.n, 0);
		assert_non_null(strstr(r.errors.items[0], "the CA key is not in the store"));
		pki_report_free(&r);
		assert_int_equal(rename(aside, key), 0);
		free(key);
		free(aside);
	}
	pki_store_free(&s);
	cluster_free(&c);

	/* Member "a" renamed to "z" (same address): refused, nothing written. */
	load(&c, "z");
	pki_store_init(&s, &c);
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_store_generate(&s, NOW, &r), WIZ_ERR_INVALID);
	assert_int_equal(r.written.n, 0);
	assert_true(r.errors.n >= 1);
	assert_non_null(strstr(r.errors.items[0], "renamed"));
	pki_report_free(&r);
	pki_store_free(&s);
	cluster_free(&c);
}

/* A run stopped while it made the CA (SIGKILL in `make faults` found the
 * old order could leave ca.key without ca.crt, which every later run then
 * refused). The key goes to ca.key.new, then ca.crt, then ca.key: stopped
 * after ca.crt, the next run puts the pending key in place (the same CA);
 * stopped before, the pending key goes and a CA is made. */
static void test_store_ca_interrupted(void **state)
{
	struct cluster c;
	struct pki_store s;
	struct pki_report r;
	char *dir = xasprintf("%s/store2", tmpdir);
	char *key = xasprintf("%s/ca/etcd/ca.key", dir), *pending = xasprintf("%s.new", key);
	char *crt = xasprintf("%s/ca/etcd/ca.crt", dir);
	struct stat st;
	gnutls_x509_crt_t before = NULL, after = NULL;
	struct wiz_error e;

	(void)state;
	load(&c, "a");
	free(c.pki.dir);
	c.pki.dir = xstrdup(dir);
	pki_store_init(&s, &c);
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_store_generate(&s, NOW, &r), WIZ_ERR_OK);
	assert_int_not_equal(stat(pending, &st), 0);	/* no pending key after a whole run */
	pki_report_free(&r);
	assert_int_equal(pki_crt_read(crt, &before, &e), WIZ_ERR_OK);

	/* Stopped after ca.crt, before the rename. */
	assert_int_equal(rename(key, pending), 0);
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_store_generate(&s, NOW, &r), WIZ_ERR_OK);
	assert_int_equal(r.errors.n, 0);
	assert_int_equal(r.written.n, 0);
	assert_non_null(strstr(r.notes.items[0], "the CA key a stopped run had written is in place now"));
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_not_equal(stat(pending, &st), 0);
	assert_int_equal(pki_crt_read(crt, &after, &e), WIZ_ERR_OK);
	assert_true(pki_crt_equal(before, after));	/* the same CA */
	pki_report_free(&r);
	pki_store_free(&s);

	/* Stopped before ca.crt: only the pending key, nothing else. */
	assert_int_equal(rename(key, pending), 0);
	assert_int_equal(unlink(crt), 0);
	free(c.pki.dir);
	c.pki.dir = xasprintf("%s/store3", tmpdir);
	{
		char *d3 = xasprintf("%s/store3/ca/etcd", tmpdir), *p3 = xasprintf("%s/ca.key.new", d3);

		assert_int_equal(mkdir(c.pki.dir, 0700), 0);
		{
			char *ca = xasprintf("%s/ca", c.pki.dir);

			assert_int_equal(mkdir(ca, 0700), 0);
			free(ca);
		}
		assert_int_equal(mkdir(d3, 0700), 0);
		assert_int_equal(rename(pending, p3), 0);
		pki_store_init(&s, &c);
		memset(&r, 0, sizeof r);
		assert_int_equal(pki_store_generate(&s, NOW, &r), WIZ_ERR_OK);
		assert_int_equal(r.errors.n, 0);
		assert_int_not_equal(stat(p3, &st), 0);
		assert_non_null(strstr(r.notes.items[0], "made the etcd CA"));
		pki_report_free(&r);
		pki_store_free(&s);
		free(d3);
		free(p3);
	}
	gnutls_x509_crt_deinit(before);
	gnutls_x509_crt_deinit(after);
	cluster_free(&c);
	free(dir);
	free(key);
	free(pending);
	free(crt);
}

static void test_store_status(void **state)
{
	struct cluster c;
	struct pki_store s;
	struct pki_status_list l;

	(void)state;
	load(&c, "a");
	pki_store_init(&s, &c);
	pki_store_status(&s, &l);
	assert_int_equal(l.n, 1 + 2 * 4);
	assert_string_equal(l.items[0].name, "etcd-ca");
	assert_true(l.items[0].is_ca);
	assert_string_equal(l.items[1].name, "a/etcd-server");
	assert_string_equal(l.items[8].name, "b/apiserver-etcd-client");
	for (size_t i = 0; i < l.n; i++) {
		assert_false(l.items[i].missing);
		assert_null(l.items[i].problem);
		assert_true(l.items[i].not_after > NOW);
	}
	pki_status_list_free(&l);
	pki_store_free(&s);
	cluster_free(&c);
}

/* A CA rotation in the store: each phase's trust bundle, the swap, the
 * re-issue, a resumed phase 2 (the swap interrupted half-way), order-free
 * trust ids, and the archive; phases out of order are refused. */
static size_t certs_in(const char *rel, char id[17])
{
	char *pem = read_all(rel);
	size_t n = 0;

	pki_trust_id(pem, strlen(pem), id, &n);
	free(pem);
	return n;
}

static bool leaf_signed_by_current(const char *rel)
{
	char *leaf = xasprintf("%s/store4/%s", tmpdir, rel), *ca = xasprintf("%s/store4/ca/etcd/ca.crt", tmpdir);
	gnutls_x509_crt_t l = NULL, c = NULL;
	struct wiz_error e;
	bool yes;

	assert_int_equal(pki_crt_read(leaf, &l, &e), WIZ_ERR_OK);
	assert_int_equal(pki_crt_read(ca, &c, &e), WIZ_ERR_OK);
	yes = pki_crt_signed_by(l, c);
	gnutls_x509_crt_deinit(l);
	gnutls_x509_crt_deinit(c);
	free(leaf);
	free(ca);
	return yes;
}

static void test_store_rotation(void **state)
{
	struct cluster c;
	struct pki_store s;
	struct pki_report r;
	struct pki_rotation rot;
	char id0[17], id1[17], id2[17], id3[17], old_serial[48], *archived = NULL;
	char *prev, *next;
	gnutls_x509_crt_t crt = NULL;
	struct wiz_error e;
	struct stat st;
	char *path;

	(void)state;
	load(&c, "a");
	free(c.pki.dir);
	c.pki.dir = xasprintf("%s/store4", tmpdir);
	pki_store_init(&s, &c);
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_store_generate(&s, NOW, &r), WIZ_ERR_OK);
	pki_report_free(&r);
	/* rel paths of read_all are under store/: point it at store4 */
	{
		char *from = xasprintf("%s/store", tmpdir), *to = xasprintf("%s/store.keep", tmpdir);

		assert_int_equal(rename(from, to), 0);
		assert_int_equal(symlink(c.pki.dir, from), 0);
		free(from);
		free(to);
	}
	assert_int_equal(certs_in("members/a/etcd/ca.crt", id0), 1);
	path = xasprintf("%s/members/b/etcd/server.crt", c.pki.dir);
	assert_int_equal(pki_crt_read(path, &crt, &e), WIZ_ERR_OK);
	pki_crt_serial_hex(crt, old_serial, sizeof old_serial);
	gnutls_x509_crt_deinit(crt);
	assert_true(old_serial[0] != '\0');

	assert_int_equal(pki_rotation_read(&s, &rot, NULL), WIZ_ERR_OK);
	assert_int_equal(rot.phase, 0);
	assert_int_equal(pki_rotation_next_phase(&rot), 1);
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_rotation_begin(&s, 2, NOW, &r), WIZ_ERR_INVALID);	/* out of order */
	assert_non_null(strstr(r.errors.items[0], "starts with phase 1"));
	pki_report_free(&r);

	/* Phase 1: old + new trusted, the old one still signs. */
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_rotation_begin(&s, 1, NOW, &r), WIZ_ERR_OK);
	assert_int_equal(r.errors.n, 0);
	pki_report_free(&r);
	assert_int_equal(certs_in("members/a/etcd/ca.crt", id1), 2);
	assert_int_equal(certs_in("members/b/etcd/ca.crt", id2), 2);
	assert_string_equal(id1, id2);
	assert_string_not_equal(id0, id1);
	assert_true(leaf_signed_by_current("members/b/etcd/server.crt"));
	assert_int_equal(stat(c.pki.dir, &st), 0);
	next = xasprintf("%s/ca-next/etcd/ca.key", c.pki.dir);
	assert_int_equal(stat(next, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(next);
	/* Again: the same new CA, nothing else. */
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_rotation_begin(&s, 1, NOW, &r), WIZ_ERR_OK);
	assert_int_equal(r.written.n, 0);
	pki_report_free(&r);
	/* generate accepts the bundle (its first certificate is the CA). */
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_store_generate(&s, NOW, &r), WIZ_ERR_OK);
	assert_int_equal(r.errors.n, 0);
	pki_report_free(&r);
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_rotation_begin(&s, 2, NOW, &r), WIZ_ERR_INVALID);	/* 1 not done */
	assert_non_null(strstr(r.errors.items[0], "is not done yet"));
	pki_report_free(&r);
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_rotation_end(&s, 1, NOW, &archived, &r), WIZ_ERR_OK);
	pki_report_free(&r);
	assert_null(archived);

	/* Phase 2, stopped between the two renames, then resumed. */
	prev = xasprintf("%s/ca-previous", c.pki.dir);
	path = (free(path), xasprintf("%s/ca", c.pki.dir));
	assert_int_equal(rename(path, prev), 0);
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_rotation_begin(&s, 2, NOW, &r), WIZ_ERR_OK);
	assert_int_equal(r.errors.n, 0);
	assert_int_equal(certs_in("members/a/etcd/ca.crt", id3), 2);
	assert_string_equal(id1, id3);	/* new + old: the same trust as old + new */
	assert_true(leaf_signed_by_current("members/b/etcd/server.crt"));
	assert_true(leaf_signed_by_current("members/a/apiserver-etcd-client.crt"));
	pki_report_free(&r);
	path = (free(path), xasprintf("%s/members/b/etcd/server.crt", c.pki.dir));
	assert_int_equal(pki_crt_read(path, &crt, &e), WIZ_ERR_OK);
	{
		char serial[48];

		pki_crt_serial_hex(crt, serial, sizeof serial);
		assert_string_not_equal(serial, old_serial);
	}
	gnutls_x509_crt_deinit(crt);
	/* Re-running phase 2 re-issues nothing more. */
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_rotation_begin(&s, 2, NOW, &r), WIZ_ERR_OK);
	assert_int_equal(r.written.n, 0);
	pki_report_free(&r);
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_store_generate(&s, NOW, &r), WIZ_ERR_OK);
	assert_int_equal(r.errors.n, 0);
	pki_report_free(&r);
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_rotation_end(&s, 2, NOW, &archived, &r), WIZ_ERR_OK);
	pki_report_free(&r);

	/* Phase 3: the new CA alone; the old one archived. */
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_rotation_begin(&s, 3, NOW, &r), WIZ_ERR_OK);
	pki_report_free(&r);
	assert_int_equal(certs_in("members/b/etcd/ca.crt", id3), 1);
	assert_string_not_equal(id3, id0);
	memset(&r, 0, sizeof r);
	assert_int_equal(pki_rotation_end(&s, 3, NOW, &archived, &r), WIZ_ERR_OK);
	pki_report_free(&r);
	assert_non_null(archived);
	next = xasprintf("%s/etcd/ca.key", archived);
	assert_int_equal(stat(next, &st), 0);	/* kept, not deleted */
	free(next);
	assert_int_not_equal(stat(prev, &st), 0);
	assert_int_equal(pki_rotation_read(&s, &rot, NULL), WIZ_ERR_OK);
	assert_int_equal(rot.phase, 0);
	{
		char *from = xasprintf("%s/store", tmpdir), *to = xasprintf("%s/store.keep", tmpdir);

		assert_int_equal(unlink(from), 0);
		assert_int_equal(rename(to, from), 0);
		free(from);
		free(to);
	}
	free(archived);
	free(prev);
	free(path);
	pki_store_free(&s);
	cluster_free(&c);
}

int main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_serial_positive_nonzero),
		cmocka_unit_test(test_member_sans),
		cmocka_unit_test(test_ca_profile),
		cmocka_unit_test(test_leaf_profiles),
		cmocka_unit_test(test_leaf_clamped_to_ca),
		cmocka_unit_test(test_key_encodings),
		cmocka_unit_test(test_key_sizes),
		cmocka_unit_test(test_ca_check),
		cmocka_unit_test(test_residual_format),
		cmocka_unit_test(test_tls_handshake),
		/* in order: status reads what generate made */
		cmocka_unit_test(test_store_generate),
		cmocka_unit_test(test_store_status),
		cmocka_unit_test(test_store_ca_interrupted),
		cmocka_unit_test(test_store_rotation),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(unit, store_setup, store_teardown);
}
