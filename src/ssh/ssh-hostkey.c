/* Host key trust: known_hosts files (plain and hashed entries, one line at a
 * time so that each verdict has a file and line), pinned SHA256
 * fingerprints from the cluster file, and the unknown-key policy.
 *
 * libssh2 traps avoided here (UX-AND-SECURITY.md B3):
 * - libssh2_knownhost_readfile stops at the first line it cannot parse
 *   (@cert-authority, unknown key types), silently dropping the rest of the
 *   file: we read the file ourselves and parse each line on its own;
 * - checkp with a port also tries the bare host name, unlike OpenSSH: we
 *   pass "[host]:port" ourselves with port -1;
 * - a key-type mask that does not match the entry's type reads as a
 *   mismatch or a miss: we let libssh2 match only the host name and compare
 *   type and key ourselves;
 * - a server with several host keys may offer a type that known_hosts does
 *   not hold: we prefer the known types before the handshake. */
#include "config.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "ssh/ssh-internal.h"

#define GLOBAL_KNOWN_HOSTS "/etc/ssh/ssh_known_hosts"

struct key_type {
	int hostkey_type;	/* LIBSSH2_HOSTKEY_TYPE_* */
	int kh_bit;		/* LIBSSH2_KNOWNHOST_KEY_* */
	const char *name;	/* as in known_hosts */
	const char *methods;	/* host key algorithms that yield it */
	const char *file;	/* /etc/ssh/ssh_host_<file>_key.pub */
};

static const struct key_type key_types[] = {
	{ LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519,
	  "ssh-ed25519", "ssh-ed25519", "ed25519" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
	  "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", "ecdsa" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
	  "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384", "ecdsa" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
	  "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521", "ecdsa" },
	{ LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA,
	  "ssh-rsa", "rsa-sha2-512,rsa-sha2-256,ssh-rsa", "rsa" },
};
#define N_KEY_TYPES (sizeof key_types / sizeof key_types[0])

static const struct key_type *type_by_hostkey(int t)
{
	for (size_t i = 0; i < N_KEY_TYPES; i++)
		if (key_types[i].hostkey_type == t)
			return &key_types[i];
	return NULL;
}

static const struct key_type *type_by_bit(int bit)
{
	for (size_t i = 0; i < N_KEY_TYPES; i++)
		if (key_types[i].kh_bit == bit)
			return &key_types[i];
	return NULL;
}

/* ---- base64, fingerprints, randomness ---- */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t ssh_base64_encode(const unsigned char *in, size_t len, char *out,
			 bool pad)
{
	size_t o = 0, i;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = b64chars[v >> 6 & 63];
		out[o++] = b64chars[v & 63];
	}
	if (i < len) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		if (i + 1 < len)
			out[o++] = b64chars[v >> 6 & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

size_t ssh_base64_decode(const char *in, size_t len, unsigned char *out)
{
	unsigned v = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		const char *p;

		if (in[i] == '=')
			break;
		p = in[i] ? strchr(b64chars, in[i]) : NULL;
		if (p == NULL)
			return (size_t)-1;
		v = v << 6 | (unsigned)(p - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits & 0xff);
		}
	}
	return o;
}

char *ssh_fingerprint_sha256(const void *blob, size_t len)
{
	unsigned char digest[32];
	char b64[48];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, blob, len, digest);
	ssh_base64_encode(digest, sizeof digest, b64, false);
	return xasprintf("SHA256:%s", b64);
}

void ssh_random_hex(char *out, size_t n)
{
	unsigned char buf[64];
	static const char hex[] = "0123456789abcdef";

	if (n > sizeof buf)
		n = sizeof buf;
	gnutls_rnd(GNUTLS_RND_NONCE, buf, n);
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[buf[i] >> 4];
		out[2 * i + 1] = hex[buf[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- known_hosts scanning ---- */

struct kh_verdict {
	unsigned types;		/* bitmask over key_types[] known for the host */
	bool match;
	char *match_file;
	unsigned match_line;
	bool revoked;
	char *revoked_file;
	unsigned revoked_line;
	bool mismatch;		/* same type, other key */
	char *mm_file;
	unsigned mm_line;
	char *mm_fp;
	bool other_type;	/* a key of another type is known */
	char *ot_file;
	unsigned ot_line;
	char *ot_type;
};

static void kh_verdict_free(struct kh_verdict *v)
{
	free(v->match_file);
	free(v->revoked_file);
	free(v->mm_file);
	free(v->mm_fp);
	free(v->ot_file);
	free(v->ot_type);
}

static char *hostspec(const struct ssh_session *s)
{
	if (s->port == 22)
		return xstrdup(s->address);
	return xasprintf("[%s]:%d", s->address, s->port);
}

/* A hashed entry's host field ("|1|SALT|HASH", each the base64 of 20
 * bytes, as OpenSSH writes them), or a plain one. libssh2 leaks its HMAC
 * context on a hashed field whose parts do not decode so (found by
 * fuzzing): such a line is skipped here as malformed, before libssh2. */
static bool kh_host_field_ok(const char *p)
{
	const char *salt, *bar, *end;
	unsigned char raw[64];

	if (*p != '|')
		return true;
	if (strncmp(p, "|1|", 3) != 0)
		return false;
	salt = p + 3;
	bar = strchr(salt, '|');
	if (bar == NULL)
		return false;
	end = bar + 1 + strcspn(bar + 1, " \t\n");
	if (bar - salt != 28 || end - (bar + 1) != 28)
		return false;
	return ssh_base64_decode(salt, 28, raw) == 20 && ssh_base64_decode(bar + 1, 28, raw) == 20;
}

/* The lines of f (known_hosts file path) about spec, into v;
 * offered_b64/offered_bit may be NULL/0 (before the handshake: only the
 * types are collected). */
static void kh_scan_stream(LIBSSH2_SESSION *ssh, FILE *f, const char *path,
			   const char *spec, const char *offered_b64,
			   int offered_bit, struct kh_verdict *v)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;

	while (getline(&line, &cap, f) >= 0) {
		char *p = line;
		bool revoked = false;
		LIBSSH2_KNOWNHOSTS *kh;
		struct libssh2_knownhost *ext = NULL;
		int rc;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (*p == '@') {
			if (strncmp(p, "@revoked", 8) != 0 || (p[8] != ' ' && p[8] != '\t')) {
				log_debug("ssh", "%s:%u: marker not supported, line skipped",
					  path, lineno);
				continue;
			}
			revoked = true;
			p += 8;
			while (*p == ' ' || *p == '\t')
				p++;
		}
		if (!kh_host_field_ok(p)) {
			log_debug("ssh", "%s:%u: malformed hashed host, line skipped", path, lineno);
			continue;
		}
		kh = libssh2_knownhost_init(ssh);
		if (kh == NULL)
			break;
		if (libssh2_knownhost_readline(kh, p, strlen(p),
					       LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) {
			log_debug("ssh", "%s:%u: cannot parse, line skipped", path,
				  lineno);
			libssh2_knownhost_free(kh);
			continue;
		}
		/* Any key type (no KEY_ bits) and a key that never matches: a
		 * MISMATCH answer means "this line is about this host". */
		rc = libssh2_knownhost_checkp(kh, spec, -1, "x", 1,
					      LIBSSH2_KNOWNHOST_TYPE_PLAIN |
					      LIBSSH2_KNOWNHOST_KEYENC_RAW,
					      &ext);
		if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH && ext != NULL) {
			int bit = ext->typemask & LIBSSH2_KNOWNHOST_KEY_MASK;
			const struct key_type *kt = type_by_bit(bit);
			bool same_key = offered_b64 && ext->key &&
					strcmp(ext->key, offered_b64) == 0;

			if (kt != NULL && !revoked)
				v->types |= 1u << (kt - key_types);
			if (revoked) {
				if (same_key && !v->revoked) {
					v->revoked = true;
					v->revoked_file = xstrdup(path);
					v->revoked_line = lineno;
				}
			} else if (offered_b64 == NULL) {
				/* only collecting types */
			} else if (bit == offered_bit && same_key) {
				if (!v->match) {
					v->match = true;
					v->match_file = xstrdup(path);
					v->match_line = lineno;
				}
			} else if (bit == offered_bit) {
				if (!v->mismatch && ext->key != NULL) {
					size_t kl = strlen(ext->key);
					unsigned char *raw = xmalloc(kl);
					size_t rl = ssh_base64_decode(ext->key, kl, raw);

					v->mismatch = true;
					v->mm_file = xstrdup(path);
					v->mm_line = lineno;
					v->mm_fp = rl == (size_t)-1
							   ? xstrdup("?")
							   : ssh_fingerprint_sha256(raw, rl);
					free(raw);
				}
			} else if (!v->other_type) {
				v->other_type = true;
				v->ot_file = xstrdup(path);
				v->ot_line = lineno;
				v->ot_type = xstrdup(kt ? kt->name : "?");
			}
		}
		libssh2_knownhost_free(kh);
	}
	free(line);
}

static void kh_scan_file(struct ssh_session *s, const char *path,
			 const char *spec, const char *offered_b64,
			 int offered_bit, struct kh_verdict *v)
{
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		if (errno != ENOENT)
			log_warn("ssh", "%s: %s", path, strerror(errno));
		return;
	}
	kh_scan_stream(s->ssh, f, path, spec, offered_b64, offered_bit, v);
	fclose(f);
}

unsigned ssh_known_hosts_scan_text(const char *text, size_t len, const char *spec,
				   const char *offered_b64)
{
	LIBSSH2_SESSION *ssh = libssh2_session_init();
	FILE *f = len ? fmemopen((void *)text, len, "r") : NULL;
	struct kh_verdict v;
	unsigned seen = 0;

	memset(&v, 0, sizeof v);
	if (ssh != NULL && f != NULL) {
		kh_scan_stream(ssh, f, "known_hosts", spec, offered_b64,
			       LIBSSH2_KNOWNHOST_KEY_ED25519, &v);
		seen = v.types | (v.match ? 1u << 16 : 0) | (v.mismatch ? 1u << 17 : 0) |
		       (v.revoked ? 1u << 18 : 0) | (v.other_type ? 1u << 19 : 0);
	}
	kh_verdict_free(&v);
	if (f != NULL)
		fclose(f);
	if (ssh != NULL)
		libssh2_session_free(ssh);
	return seen;
}

static void kh_scan(struct ssh_session *s, const char *offered_b64,
		    int offered_bit, struct kh_verdict *v)
{
	char *spec = hostspec(s);

	memset(v, 0, sizeof *v);
	kh_scan_file(s, s->known_hosts, spec, offered_b64, offered_bit, v);
	if (strcmp(s->known_hosts, GLOBAL_KNOWN_HOSTS) != 0)
		kh_scan_file(s, GLOBAL_KNOWN_HOSTS, spec, offered_b64,
			     offered_bit, v);
	free(spec);
}

static bool lib_supports(const char **algs, int n, const char *m, size_t ml)
{
	for (int i = 0; i < n; i++)
		if (strlen(algs[i]) == ml && strncmp(algs[i], m, ml) == 0)
			return true;
	return false;
}

void ssh_hostkey_prefer_known(struct ssh_session *s)
{
	struct kh_verdict v;
	char pref[512] = "";
	size_t n = 0;
	const char **algs = NULL;
	int n_algs;

	kh_scan(s, NULL, 0, &v);
	kh_verdict_free(&v);
	if (v.types == 0)
		return;
	/* libssh2 1.10 removes names it does not support with an overlapping
	 * memcpy: hand it only names it lists as supported. */
	n_algs = libssh2_session_supported_algs(s->ssh, LIBSSH2_METHOD_HOSTKEY,
						&algs);
	if (n_algs <= 0)
		return;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < N_KEY_TYPES; i++) {
			bool known = (v.types >> i) & 1u;
			const char *m = key_types[i].methods;

			if (known != (pass == 0))
				continue;
			while (*m) {
				size_t ml = strcspn(m, ",");

				if (lib_supports(algs, n_algs, m, ml) &&
				    n + ml + 2 < sizeof pref)
					n += (size_t)snprintf(pref + n, sizeof pref - n,
							      "%s%.*s", n ? "," : "",
							      (int)ml, m);
				m += ml + (m[ml] == ',');
			}
		}
	}
	libssh2_free(s->ssh, algs);
	if (n == 0)
		return;
	log_debug("ssh", "%s: host key preference %s", s->name, pref);
	if (libssh2_session_method_pref(s->ssh, LIBSSH2_METHOD_HOSTKEY, pref) != 0)
		log_debug("ssh", "%s: cannot set the host key preference", s->name);
}

/* Append one hashed line (|1|salt|hmac type key), as HashKnownHosts does. */
static enum wiz_err save_known_host(struct ssh_session *s, const char *type,
				    const unsigned char *key, size_t keylen,
				    struct wiz_error *err)
{
	unsigned char salt[20], mac[20];
	char salt64[32], mac64[32];
	char *spec = hostspec(s), *key64 = xmalloc(keylen * 4 / 3 + 8);
	char *old = NULL, *data, *dir, *slash;
	size_t oldlen = 0;
	struct stat st;
	mode_t mode = 0600;
	enum wiz_err rc;

	gnutls_rnd(GNUTLS_RND_NONCE, salt, sizeof salt);
	gnutls_hmac_fast(GNUTLS_MAC_SHA1, salt, sizeof salt, spec, strlen(spec),
			 mac);
	ssh_base64_encode(salt, sizeof salt, salt64, true);
	ssh_base64_encode(mac, sizeof mac, mac64, true);
	ssh_base64_encode(key, keylen, key64, true);
	dir = xstrdup(s->known_hosts);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		wiz_mkdir_p(dir, 0700, NULL);
	}
	free(dir);
	if (stat(s->known_hosts, &st) == 0) {
		mode = st.st_mode & 07777;
		rc = wiz_read_file(s->known_hosts, 64u << 20, &old, &oldlen, err);
		if (rc != WIZ_ERR_OK)
			goto out;
	}
	if (old == NULL || oldlen == 0)
		data = xasprintf("|1|%s|%s %s %s\n", salt64, mac64, type, key64);
	else
		data = xasprintf("%.*s%s|1|%s|%s %s %s\n", (int)oldlen, old,
				 old[oldlen - 1] != '\n' ? "\n" : "", salt64,
				 mac64, type, key64);
	rc = wiz_write_file_atomic(s->known_hosts, data, strlen(data), mode, err);
	free(data);
	if (rc == WIZ_ERR_OK)
		log_info("ssh", "%s: added %s key for %s to %s", s->name, type,
			 spec, s->known_hosts);
out:
	free(old);
	free(key64);
	free(spec);
	return rc;
}

enum wiz_err ssh_hostkey_check(struct ssh_session *s)
{
	size_t len = 0;
	int type = 0;
	const char *key = libssh2_session_hostkey(s->ssh, &len, &type);
	const struct key_type *kt = type_by_hostkey(type);
	struct kh_verdict v;
	char *key64, *spec;
	enum wiz_err rc = WIZ_ERR_OK;

	if (key == NULL || kt == NULL) {
		ssh_session_fail(s, WIZ_ERR_HOSTKEY,
				 _("%s: the server's host key type is not supported"),
				 s->name);
		return WIZ_ERR_HOSTKEY;
	}
	free(s->hk_type);
	free(s->hk_fp);
	s->hk_type = xstrdup(kt->name);
	s->hk_fp = ssh_fingerprint_sha256(key, len);
	log_debug("ssh", "%s: host key %s %s", s->name, s->hk_type, s->hk_fp);
	key64 = xmalloc(len * 4 / 3 + 8);
	ssh_base64_encode((const unsigned char *)key, len, key64, true);
	kh_scan(s, key64, kt->kh_bit, &v);
	free(key64);
	spec = hostspec(s);

	if (v.revoked) {
		ssh_session_fail(s, WIZ_ERR_HOSTKEY,
				 _("%s: the %s host key %s of %s is marked @revoked in %s line %u"),
				 s->name, s->hk_type, s->hk_fp, spec,
				 v.revoked_file, v.revoked_line);
		rc = WIZ_ERR_HOSTKEY;
	} else if (v.mismatch) {
		/* The hard stop: no option, pin or answer gets past this. */
		ssh_session_fail(s, WIZ_ERR_HOSTKEY,
				 _("%s: HOST KEY CHANGED for %s: the server offers %s key %s, "
				   "but %s line %u records %s key %s. This can be a "
				   "man-in-the-middle attack, or the host was reinstalled. "
				   "If you know why, remove the old line (ssh-keygen -R '%s' -f %s) "
				   "and connect again."),
				 s->name, spec, s->hk_type, s->hk_fp, v.mm_file,
				 v.mm_line, s->hk_type, v.mm_fp, spec, v.mm_file);
		rc = WIZ_ERR_HOSTKEY;
	} else if (s->pinned != NULL && strcmp(s->pinned, s->hk_fp) != 0) {
		ssh_session_fail(s, WIZ_ERR_HOSTKEY,
				 _("%s: HOST KEY CHANGED for %s: the server offers %s key %s, "
				   "but the cluster file pins %s (ssh.hostKeys). This can be a "
				   "man-in-the-middle attack, or the host was reinstalled."),
				 s->name, spec, s->hk_type, s->hk_fp, s->pinned);
		rc = WIZ_ERR_HOSTKEY;
	} else if (v.match) {
		log_debug("ssh", "%s: host key found in %s line %u", s->name,
			  v.match_file, v.match_line);
	} else if (s->pinned != NULL) {
		log_debug("ssh", "%s: host key matches the pinned fingerprint",
			  s->name);
	} else if (s->accept_new) {
		struct wiz_error e;

		log_warn("ssh", "%s: accepting new %s host key %s for %s",
			 s->name, s->hk_type, s->hk_fp, spec);
		if (save_known_host(s, kt->name, (const unsigned char *)key, len,
				    &e) != WIZ_ERR_OK)
			log_warn("ssh", "%s", e.msg);
	} else if (s->ctx->cb.hostkey_unknown != NULL) {
		struct ssh_hostkey_info info = {
			.name = s->name, .address = s->address, .port = s->port,
			.key_type = s->hk_type, .fingerprint = s->hk_fp,
			.known_hosts = s->known_hosts,
		};

		if (v.other_type)
			log_info("ssh", "%s: %s line %u has a %s key for %s, the server offers %s",
				 s->name, v.ot_file, v.ot_line, v.ot_type, spec,
				 s->hk_type);
		s->ask = ASK_HOSTKEY;
		s->answered = false;
		s->hk_answer = -1;
		rc = WIZ_ERR_AGAIN;
		s->ctx->cb.hostkey_unknown(s, &info, s->ctx->cb.ud);
	} else {
		char other[512] = "";

		if (v.other_type)
			snprintf(other, sizeof other,
				 _(" (%s line %u has a %s key for it)"), v.ot_file,
				 v.ot_line, v.ot_type);
		ssh_session_fail(s, WIZ_ERR_HOSTKEY,
				 _("%s: unknown %s host key %s for %s: not in %s%s and not pinned. "
				   "Compare it with `ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub` "
				   "on the host, then pin it in the cluster file (ssh.hostKeys) "
				   "or run with --accept-new-host-keys."),
				 s->name, s->hk_type, s->hk_fp, spec, s->known_hosts,
				 other, kt->file);
		rc = WIZ_ERR_HOSTKEY;
	}
	kh_verdict_free(&v);
	free(spec);
	return rc;
}

enum wiz_err ssh_hostkey_finish(struct ssh_session *s,
				enum ssh_hostkey_answer answer)
{
	size_t len = 0;
	int type = 0;
	const char *key;
	const struct key_type *kt;
	struct wiz_error e;

	switch (answer) {
	case SSH_HOSTKEY_ACCEPT_ONCE:
		log_info("ssh", "%s: host key %s accepted for this run", s->name,
			 s->hk_fp);
		return WIZ_ERR_OK;
	case SSH_HOSTKEY_ACCEPT_SAVE:
		key = libssh2_session_hostkey(s->ssh, &len, &type);
		kt = type_by_hostkey(type);
		if (key == NULL || kt == NULL)
			break;
		if (save_known_host(s, kt->name, (const unsigned char *)key, len,
				    &e) != WIZ_ERR_OK)
			log_warn("ssh", "%s", e.msg);
		return WIZ_ERR_OK;
	default:
		break;
	}
	ssh_session_fail(s, WIZ_ERR_HOSTKEY,
			 _("%s: host key %s %s was not accepted"), s->name,
			 s->hk_type ? s->hk_type : "?", s->hk_fp ? s->hk_fp : "?");
	return WIZ_ERR_HOSTKEY;
}
