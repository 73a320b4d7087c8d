#include "config.h"

#include "pki/pki-store.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/xmalloc.h"
#include "pki/pki-rotate.h"

#define DIR_MODE 0700
#define KEY_MODE 0600
#define CRT_MODE 0644

/* The files of one member, in the order they are written. */
static const enum pki_profile member_profiles[] = {
	PKI_PROFILE_CA, PKI_PROFILE_SERVER, PKI_PROFILE_PEER,
	PKI_PROFILE_HEALTHCHECK, PKI_PROFILE_APISERVER_CLIENT,
};
#define N_MEMBER_PROFILES (sizeof member_profiles / sizeof member_profiles[0])

void pki_report_add(struct strlist *l, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	strlist_push(l, s);
	free(s);
}

void pki_report_free(struct pki_report *r)
{
	strlist_free(&r->written);
	strlist_free(&r->notes);
	strlist_free(&r->warnings);
	strlist_free(&r->errors);
}

char *pki_store_default_dir(const struct cluster *c)
{
	char *data, *dir;

	if (c->pki.dir != NULL && c->pki.dir[0] != '\0') {
		const char *home = getenv("HOME");

		if (strncmp(c->pki.dir, "~/", 2) == 0 && home != NULL)
			return xasprintf("%s/%s", home, c->pki.dir + 2);
		return xstrdup(c->pki.dir);
	}
	data = wiz_data_dir();
	dir = xasprintf("%s/%s/pki", data, c->name);
	free(data);
	return dir;
}

void pki_store_init(struct pki_store *s, const struct cluster *c)
{
	s->c = c;
	s->dir = pki_store_default_dir(c);
}

void pki_store_free(struct pki_store *s)
{
	free(s->dir);
	s->dir = NULL;
}

char *pki_store_path(const struct pki_store *s, const char *member,
		     enum pki_profile p, bool key)
{
	const char *ext = key ? "key" : "crt";

	if (member == NULL)
		return xasprintf("%s/ca/etcd/ca.%s", s->dir, ext);
	return xasprintf("%s/members/%s/%s.%s", s->dir, member,
			 pki_profile_file_base(p), ext);
}

static char *slot_name(const char *member, enum pki_profile p)
{
	return member ? xasprintf("%s/%s", member, pki_profile_name(p))
		      : xstrdup(pki_profile_name(p));
}

/* --- loading and checking what is there --------------------------------- */

/* One certificate file (with its key) of the store. */
struct slot {
	const struct host *member;	/* NULL = the CA */
	enum pki_profile profile;
	char *name;
	char *crt_path;
	char *key_path;			/* NULL for a member's ca.crt copy */
	bool crt_exists;
	bool key_exists;
	struct pki_pair have;
	struct pki_pair made;
	bool wanted;			/* to be (re)made */
};

static void slot_init(struct slot *sl, const struct pki_store *s,
		      const struct host *m, enum pki_profile p)
{
	memset(sl, 0, sizeof *sl);
	sl->member = m;
	sl->profile = p;
	sl->name = slot_name(m ? m->name : NULL, p);
	sl->crt_path = pki_store_path(s, m ? m->name : NULL, p, false);
	if (!(m != NULL && p == PKI_PROFILE_CA))
		sl->key_path = pki_store_path(s, m ? m->name : NULL, p, true);
	sl->crt_exists = wiz_file_exists(sl->crt_path);
	sl->key_exists = sl->key_path && wiz_file_exists(sl->key_path);
}

static void slot_free(struct slot *sl)
{
	free(sl->name);
	free(sl->crt_path);
	free(sl->key_path);
	pki_pair_free(&sl->have);
	pki_pair_free(&sl->made);
}

/* Read what exists of a slot; problems go to r->errors. */
static bool slot_read(struct slot *sl, struct pki_report *r)
{
	struct wiz_error e = { WIZ_ERR_OK, "" };
	bool ok = true;

	if (sl->crt_exists && pki_crt_read(sl->crt_path, &sl->have.crt, &e) != WIZ_ERR_OK) {
		strlist_push(&r->errors, e.msg);
		ok = false;
	}
	if (sl->key_exists && pki_key_read(sl->key_path, &sl->have.key, &e) != WIZ_ERR_OK) {
		strlist_push(&r->errors, e.msg);
		ok = false;
	}
	return ok;
}

/* The checks every existing leaf passes before anything is written: its key
 * is there and matches, the store's CA signed it, and its subject and SANs
 * are still what the cluster file says (a renamed member fails here). */
static void leaf_check(const struct pki_store *s, struct slot *sl,
		       const struct slot *ca, bool strict_sans,
		       time_t now, struct pki_report *r)
{
	const struct host *m = sl->member;
	struct pki_crt_info info;
	struct wiz_error e = { WIZ_ERR_OK, "" };
	bool server = sl->profile == PKI_PROFILE_SERVER || sl->profile == PKI_PROFILE_PEER;
	const char *want_cn = server ? m->name
			      : sl->profile == PKI_PROFILE_HEALTHCHECK ? PKI_HEALTHCHECK_CN
								       : PKI_APISERVER_CLIENT_CN;

	if (sl->have.crt == NULL)
		return;
	if (!sl->key_exists)
		pki_report_add(&r->errors,
			   _("%s: the private key is missing for %s; restore it, or run 'etcdwiz certs renew %s -f %s' to make a new key and certificate"),
			   sl->key_path, sl->crt_path, sl->name, s->c->file ? s->c->file : "FILE");
	else if (sl->have.key && !pki_key_matches(sl->have.crt, sl->have.key))
		pki_report_add(&r->errors,
			   _("%s: the private key does not match the certificate %s; restore the matching key, or run 'etcdwiz certs renew %s -f %s' to make a new pair"),
			   sl->key_path, sl->crt_path, sl->name, s->c->file ? s->c->file : "FILE");
	if (ca->have.crt && !pki_crt_signed_by(sl->have.crt, ca->have.crt))
		pki_report_add(&r->errors,
			   _("%s: not signed by the store's CA %s; remove it and run 'etcdwiz certs generate' to make it again from this CA"),
			   sl->crt_path, ca->crt_path);
	if (pki_crt_info(sl->have.crt, &info, &e) != WIZ_ERR_OK) {
		pki_report_add(&r->errors, "%s: %s", sl->crt_path, e.msg);
		return;
	}
	if (strcmp(info.cn, want_cn) != 0) {
		if (server)
			pki_report_add(&r->errors,
				   _("%s: made for member '%s' but the cluster file calls this member '%s': the member was renamed since its certificates were made; rename it back in %s, or remove %s/members/%s and run 'etcdwiz certs generate'"),
				   sl->crt_path, info.cn, m->name, s->c->file ? s->c->file : "the cluster file",
				   s->dir, m->name);
		else
			pki_report_add(&r->errors,
				   _("%s: the subject is CN=%s, not CN=%s; remove it and run 'etcdwiz certs generate'"),
				   sl->crt_path, info.cn, want_cn);
	} else if (server) {
		struct pki_sans want;

		pki_member_sans(m, &want);
		if (!pki_sans_equal(&want, &info.sans)) {
			char *have_s = pki_sans_format(&info.sans);
			char *want_s = pki_sans_format(&want);

			if (strict_sans)
				pki_report_add(&r->errors,
					   _("%s: its names (%s) no longer match member '%s' in the cluster file (%s): the member's address or extraSANs changed since the certificate was made; undo that change, or remove %s and %s and run 'etcdwiz certs generate'"),
					   sl->crt_path, have_s, m->name, want_s,
					   sl->crt_path, sl->key_path);
			else
				pki_report_add(&r->warnings,
					   _("%s: renewed with its old names (%s), which differ from the cluster file (%s); remove it and run 'etcdwiz certs generate' to make it with the new ones"),
					   sl->crt_path, have_s, want_s);
			free(have_s);
			free(want_s);
		}
		pki_sans_free(&want);
	}
	if (strict_sans && info.not_after <= now)
		pki_report_add(&r->warnings,
			   _("%s has expired; run 'etcdwiz certs renew %s -f %s'"),
			   sl->crt_path, sl->name, s->c->file ? s->c->file : "FILE");
	pki_crt_info_free(&info);
}

/* A new CA is written key to ca.key.new, then ca.crt, then ca.key.new
 * renamed to ca.key (ca_write_new): a run stopped at any point leaves no
 * CA key without its certificate. What such a run left is settled here:
 * a pending key whose certificate is in place (and matches) becomes
 * ca.key; one without it never signed anything anybody has, and goes. */
static char *ca_pending_path(const struct slot *ca)
{
	return xasprintf("%s.new", ca->key_path);
}

static void ca_settle_pending(struct slot *ca, struct pki_report *r)
{
	char *pending = ca_pending_path(ca);
	struct wiz_error e = { WIZ_ERR_OK, "" };
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;

	if (!wiz_file_exists(pending))
		goto out;
	if (ca->crt_exists && !ca->key_exists && pki_crt_read(ca->crt_path, &crt, &e) == WIZ_ERR_OK &&
	    pki_key_read(pending, &key, &e) == WIZ_ERR_OK && pki_key_matches(crt, key)) {
		if (wiz_rename_durable(pending, ca->key_path, &e) == WIZ_ERR_OK) {
			ca->key_exists = true;
			pki_report_add(&r->notes, _("%s: the CA key a stopped run had written is in place now"),
				   ca->key_path);
		} else {
			strlist_push(&r->errors, e.msg);
		}
	} else if (!ca->crt_exists) {
		unlink(pending);	/* no certificate carries it */
	}
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	free(pending);
}

/* The CA of the store: both files read and checked. */
static bool ca_load(const struct pki_store *s, struct slot *ca, time_t now,
		    struct pki_report *r)
{
	struct wiz_error e = { WIZ_ERR_OK, "" };

	slot_init(ca, s, NULL, PKI_PROFILE_CA);
	ca_settle_pending(ca, r);
	if (!ca->crt_exists && ca->key_exists) {
		pki_report_add(&r->errors,
			   _("%s: a CA key without its certificate %s; restore ca.crt, or remove ca.key to start a new CA"),
			   ca->key_path, ca->crt_path);
		return false;
	}
	if (!slot_read(ca, r))
		return false;
	if (ca->have.crt && pki_ca_check(&ca->have, ca->crt_path, ca->key_path, now,
					 0, &e) != WIZ_ERR_OK) {
		strlist_push(&r->errors, e.msg);
		return false;
	}
	return true;
}

/* Directories under members/ that the cluster file does not name. One whose
 * server certificate carries a current member's address is that member
 * under its old name. */
static void check_orphans(const struct pki_store *s, struct pki_report *r)
{
	char *members = xasprintf("%s/members", s->dir);
	DIR *d = opendir(members);
	struct dirent *de;

	if (d == NULL) {
		free(members);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *crt_path;
		gnutls_x509_crt_t crt = NULL;
		struct pki_crt_info info;
		struct wiz_error e = { WIZ_ERR_OK, "" };
		const struct host *renamed = NULL;

		if (de->d_name[0] == '.' || cluster_find_member(s->c, de->d_name))
			continue;
		crt_path = pki_store_path(s, de->d_name, PKI_PROFILE_SERVER, false);
		if (pki_crt_read(crt_path, &crt, &e) == WIZ_ERR_OK &&
		    pki_crt_info(crt, &info, &e) == WIZ_ERR_OK) {
			for (size_t i = 0; i < s->c->n_members && !renamed; i++) {
				struct pki_sans want;

				pki_member_sans(&s->c->members[i], &want);
				if (strlist_contains(&info.sans.ips, want.ips.items[0]))
					renamed = &s->c->members[i];
				pki_sans_free(&want);
			}
			pki_crt_info_free(&info);
		}
		if (renamed)
			pki_report_add(&r->errors,
				   _("%s/members/%s: certificates of member '%s' at %s, which the cluster file now calls '%s': the member was renamed since its certificates were made; rename it back to '%s' in %s, or remove %s/members/%s and run 'etcdwiz certs generate'"),
				   s->dir, de->d_name, de->d_name, renamed->address,
				   renamed->name, de->d_name,
				   s->c->file ? s->c->file : "the cluster file", s->dir,
				   de->d_name);
		else
			pki_report_add(&r->warnings,
				   _("%s/members/%s: not a member in the cluster file; left alone"),
				   s->dir, de->d_name);
		if (crt)
			gnutls_x509_crt_deinit(crt);
		free(crt_path);
	}
	closedir(d);
	free(members);
}

/* --- writing ------------------------------------------------------------ */

/* mkdir -p the parent of path with 0700 for every directory from the store
 * down, whatever the umask. */
static enum wiz_err ensure_parent(const struct pki_store *s, const char *path,
				  struct wiz_error *err)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	size_t root = strlen(s->dir);
	enum wiz_err rc;

	if (slash)
		*slash = '\0';
	rc = wiz_mkdir_p(dir, DIR_MODE, err);
	/* chmod the store and everything below it, deepest first. */
	while (rc == WIZ_ERR_OK && strlen(dir) >= root) {
		if (chmod(dir, DIR_MODE) != 0)
			rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot set mode of %s: %s"),
					   dir, strerror(errno));
		slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir)
			break;
		*slash = '\0';
	}
	free(dir);
	return rc;
}

static enum wiz_err write_crt(const struct pki_store *s, const char *path,
			      gnutls_x509_crt_t crt, struct pki_report *r,
			      struct wiz_error *err)
{
	gnutls_datum_t d = { NULL, 0 };
	enum wiz_err rc = ensure_parent(s, path, err);

	if (rc == WIZ_ERR_OK)
		rc = pki_crt_export(crt, &d, err);
	if (rc == WIZ_ERR_OK)
		rc = wiz_write_file_atomic(path, d.data, d.size, CRT_MODE, err);
	if (rc == WIZ_ERR_OK)
		strlist_push(&r->written, path);
	gnutls_free(d.data);
	return rc;
}

static enum wiz_err write_key(const struct pki_store *s, const char *path,
			      gnutls_x509_privkey_t key, struct pki_report *r,
			      struct wiz_error *err)
{
	gnutls_datum_t d = { NULL, 0 };
	enum wiz_err rc = ensure_parent(s, path, err);

	if (rc == WIZ_ERR_OK)
		rc = pki_key_export(key, &d, err);
	if (rc == WIZ_ERR_OK)
		rc = wiz_write_file_atomic(path, d.data, d.size, KEY_MODE, err);
	if (rc == WIZ_ERR_OK)
		strlist_push(&r->written, path);
	pki_datum_free_secret(&d);
	return rc;
}

static enum wiz_err ca_write_new(const struct pki_store *s, struct slot *ca, struct pki_report *r,
				 struct wiz_error *err)
{
	char *pending = ca_pending_path(ca);
	enum wiz_err rc = write_key(s, pending, ca->made.key, r, err);

	if (rc == WIZ_ERR_OK)
		rc = write_crt(s, ca->crt_path, ca->made.crt, r, err);
	if (rc == WIZ_ERR_OK)
		rc = wiz_rename_durable(pending, ca->key_path, err);
	if (rc == WIZ_ERR_OK && r->written.n > 0) {
		/* Reported under its own name, not the pending one. */
		for (size_t i = 0; i < r->written.n; i++)
			if (strcmp(r->written.items[i], pending) == 0) {
				free(r->written.items[i]);
				r->written.items[i] = xstrdup(ca->key_path);
			}
	}
	free(pending);
	return rc;
}

/* A member's etcd/ca.crt: the CA, then what a rotation trusts beside it. */
static enum wiz_err write_trust(const struct pki_store *s, const char *path,
				gnutls_x509_crt_t ca_crt, struct pki_report *r,
				struct wiz_error *err)
{
	gnutls_datum_t d = { NULL, 0 };
	size_t extra_len = 0;
	char *extra = pki_rotation_trust_extra(s, &extra_len);
	char *have = NULL, *bundle = NULL;
	size_t have_len = 0, len = 0;
	enum wiz_err rc = ensure_parent(s, path, err);

	if (rc == WIZ_ERR_OK)
		rc = pki_crt_export(ca_crt, &d, err);
	if (rc == WIZ_ERR_OK) {
		len = d.size + extra_len;
		bundle = xmalloc(len + 1);
		memcpy(bundle, d.data, d.size);
		if (extra_len)
			memcpy(bundle + d.size, extra, extra_len);
		if (wiz_read_file(path, 1u << 20, &have, &have_len, NULL) == WIZ_ERR_OK &&
		    have_len == len && memcmp(have, bundle, len) == 0)
			goto out;	/* already so */
		rc = wiz_write_file_atomic(path, bundle, len, CRT_MODE, err);
	}
	if (rc == WIZ_ERR_OK)
		strlist_push(&r->written, path);
out:
	gnutls_free(d.data);
	free(extra);
	free(have);
	free(bundle);
	return rc;
}

enum wiz_err pki_store_write_trust(const struct pki_store *s, struct pki_report *r)
{
	struct slot ca;
	struct wiz_error e = { WIZ_ERR_OK, "" };
	enum wiz_err rc = WIZ_ERR_OK;

	slot_init(&ca, s, NULL, PKI_PROFILE_CA);
	if (!ca.crt_exists || pki_crt_read(ca.crt_path, &ca.have.crt, &e) != WIZ_ERR_OK) {
		strlist_push(&r->errors, e.msg[0] ? e.msg : ca.crt_path);
		rc = WIZ_ERR_INVALID;
		goto out;
	}
	for (size_t i = 0; i < s->c->n_members && rc == WIZ_ERR_OK; i++) {
		char *path = pki_store_path(s, s->c->members[i].name, PKI_PROFILE_CA, false);

		rc = write_trust(s, path, ca.have.crt, r, &e);
		free(path);
	}
	if (rc != WIZ_ERR_OK)
		strlist_push(&r->errors, e.msg);
out:
	slot_free(&ca);
	return rc;
}

/* Key first, certificate last: a key without its certificate is the only
 * thing an interrupted run can leave, and generate replaces it. */
static enum wiz_err slot_write(const struct pki_store *s, struct slot *sl,
			       gnutls_x509_crt_t ca_crt, struct pki_report *r,
			       struct wiz_error *err)
{
	enum wiz_err rc = WIZ_ERR_OK;

	if (sl->member && sl->profile == PKI_PROFILE_CA)
		return write_trust(s, sl->crt_path, ca_crt, r, err);
	if (sl->made.key)
		rc = write_key(s, sl->key_path, sl->made.key, r, err);
	if (rc == WIZ_ERR_OK)
		rc = write_crt(s, sl->crt_path, sl->made.crt, r, err);
	return rc;
}

static enum wiz_err slot_issue(const struct pki_store *s, struct slot *sl,
			       const struct pki_pair *ca, const char *cn,
			       const struct pki_sans *sans, time_t now,
			       struct pki_report *r, struct wiz_error *err)
{
	struct pki_leaf_spec spec = {
		.profile = sl->profile,
		.cn = cn,
		.sans = sans,
		.validity = s->c->pki.cert_validity,
	};
	bool clamped = false;
	enum wiz_err rc = pki_leaf_issue(&spec, s->c->pki.algorithm, ca, now,
					 &sl->made, &clamped, err);

	if (rc == WIZ_ERR_OK && clamped) {
		char *when = pki_time_format(gnutls_x509_crt_get_expiration_time(ca->crt));

		pki_report_add(&r->warnings,
			   _("%s: valid only until the CA expires (%s), less than pki.certValidity"),
			   sl->crt_path, when);
		free(when);
	}
	return rc;
}

/* --- generate ------------------------------------------------------------ */

enum wiz_err pki_store_generate(const struct pki_store *s, time_t now,
				struct pki_report *r)
{
	const struct cluster *c = s->c;
	size_t n_slots = c->n_members * N_MEMBER_PROFILES;
	struct slot ca, *slots = xcalloc(n_slots ? n_slots : 1, sizeof *slots);
	struct pki_pair *ca_pair = &ca.have;
	struct wiz_error e = { WIZ_ERR_OK, "" };
	enum wiz_err rc = WIZ_ERR_OK;
	size_t wanted = 0, present = 0;
	bool new_ca = false;

	ca_load(s, &ca, now, r);
	check_orphans(s, r);
	for (size_t i = 0; i < c->n_members; i++)
		for (size_t j = 0; j < N_MEMBER_PROFILES; j++)
			slot_init(&slots[i * N_MEMBER_PROFILES + j], s,
				  &c->members[i], member_profiles[j]);

	/* 1. Read and check everything that exists. */
	for (size_t k = 0; k < n_slots; k++) {
		struct slot *sl = &slots[k];

		if (sl->crt_exists && ca.have.crt == NULL && ca.crt_exists == false) {
			pki_report_add(&r->errors,
				   _("%s exists but the store has no CA (%s); import the CA that signed it with 'etcdwiz certs import', or remove %s/members to start over"),
				   sl->crt_path, ca.crt_path, s->dir);
			continue;
		}
		if (!slot_read(sl, r))
			continue;
		if (sl->profile == PKI_PROFILE_CA) {
			if (sl->have.crt && ca.have.crt &&
			    !pki_crt_equal(sl->have.crt, ca.have.crt))
				pki_report_add(&r->errors,
					   _("%s: not the store's CA certificate %s; remove it and run 'etcdwiz certs generate' to copy the CA again"),
					   sl->crt_path, ca.crt_path);
		} else {
			leaf_check(s, sl, &ca, true, now, r);
		}
		if (sl->crt_exists) {
			present++;
		} else {
			sl->wanted = true;
			wanted++;
			if (sl->key_exists)
				pki_report_add(&r->notes,
					   _("%s: a key without its certificate (left by an interrupted run); replacing it"),
					   sl->key_path);
		}
	}
	if (r->errors.n == 0 && wanted > 0 && ca.have.crt != NULL && ca.have.key == NULL) {
		const char *first = "?";

		for (size_t k = n_slots; k-- > 0;)
			if (slots[k].wanted)
				first = slots[k].crt_path;
		pki_report_add(&r->errors,
			   _("%s: the CA key is not in the store, and %zu file(s) are missing, starting with %s; import the CA with its key ('etcdwiz certs import -f %s --ca-cert CRT --ca-key KEY') or put the missing files in place"),
			   ca.key_path, wanted, first, c->file ? c->file : "FILE");
	}
	if (r->errors.n > 0) {
		rc = WIZ_ERR_INVALID;
		goto out;
	}

	/* 2. Make everything in memory. */
	if (ca.have.crt == NULL && (wanted > 0 || c->n_members == 0)) {
		rc = pki_ca_create(c->pki.algorithm, c->pki.ca_validity, now,
				   &ca.made, &e);
		if (rc != WIZ_ERR_OK)
			goto fail;
		ca_pair = &ca.made;
		new_ca = true;
	}
	for (size_t k = 0; k < n_slots; k++) {
		struct slot *sl = &slots[k];
		struct pki_sans sans;
		const char *cn;

		if (!sl->wanted || sl->profile == PKI_PROFILE_CA)
			continue;
		pki_member_sans(sl->member, &sans);
		cn = sl->profile == PKI_PROFILE_HEALTHCHECK ? PKI_HEALTHCHECK_CN
		     : sl->profile == PKI_PROFILE_APISERVER_CLIENT ? PKI_APISERVER_CLIENT_CN
								    : sl->member->name;
		rc = slot_issue(s, sl, ca_pair, cn, &sans, now, r, &e);
		pki_sans_free(&sans);
		if (rc != WIZ_ERR_OK)
			goto fail;
	}

	/* 3. Write. */
	if (new_ca) {
		rc = ca_write_new(s, &ca, r, &e);
		if (rc != WIZ_ERR_OK)
			goto fail;
		pki_report_add(&r->notes, _("made the etcd CA %s (%s)"), ca.crt_path,
			   pki_algorithm_name(c->pki.algorithm));
	}
	for (size_t k = 0; k < n_slots; k++) {
		struct slot *sl = &slots[k];

		if (!sl->wanted)
			continue;
		rc = slot_write(s, sl, ca_pair->crt, r, &e);
		if (rc != WIZ_ERR_OK)
			goto fail;
		if (sl->profile == PKI_PROFILE_CA)
			pki_report_add(&r->notes, _("copied the CA to %s"), sl->crt_path);
		else
			pki_report_add(&r->notes, _("made %s and its key (%s)"), sl->crt_path, sl->name);
	}
	if (!new_ca && wanted == 0)
		pki_report_add(&r->notes,
			   _("nothing changed: the CA and all %zu member files are in place in %s"),
			   present, s->dir);
	goto out;
fail:
	strlist_push(&r->errors, e.msg);
out:
	slot_free(&ca);
	for (size_t k = 0; k < n_slots; k++)
		slot_free(&slots[k]);
	free(slots);
	return rc;
}

/* --- renew --------------------------------------------------------------- */

/* Does target select the slot of member m, profile p? */
static bool target_selects(const char *target, const struct host *m,
			   enum pki_profile p)
{
	const char *slash = strchr(target, '/');
	enum pki_profile want;

	if (strcmp(target, "all") == 0)
		return true;
	if (slash) {
		size_t n = strlen(m->name);

		return (size_t)(slash - target) == n &&
		       strncmp(target, m->name, n) == 0 &&
		       pki_profile_parse(slash + 1, &want) && want == p;
	}
	if (strcmp(target, m->name) == 0)
		return true;
	return pki_profile_parse(target, &want) && want == p;
}

static bool target_valid(const struct cluster *c, const char *target)
{
	const char *slash = strchr(target, '/');
	enum pki_profile p;
	bool ok = false;

	if (strcmp(target, "all") == 0)
		return true;
	if (slash) {
		char *m = xstrndup(target, (size_t)(slash - target));

		ok = cluster_find_member(c, m) && pki_profile_parse(slash + 1, &p) &&
		     p != PKI_PROFILE_CA;
		free(m);
		return ok;
	}
	if (cluster_find_member(c, target))
		return true;
	return pki_profile_parse(target, &p) && p != PKI_PROFILE_CA;
}

enum wiz_err pki_store_renew(const struct pki_store *s, const char *target,
			     time_t now, struct pki_report *r)
{
	const struct cluster *c = s->c;
	size_t n_slots = c->n_members * N_MEMBER_PROFILES;
	struct slot ca, *slots;
	struct wiz_error e = { WIZ_ERR_OK, "" };
	enum wiz_err rc = WIZ_ERR_OK;

	if (strcmp(target, PKI_CA_CN) == 0) {
		pki_report_add(&r->errors,
			   _("the CA is not renewed (nor by kubeadm): a new CA needs new certificates everywhere; remove %s and run 'etcdwiz certs generate' to start over"),
			   s->dir);
		return WIZ_ERR_INVALID;
	}
	if (!target_valid(c, target)) {
		pki_report_add(&r->errors,
			   _("'%s' is not a certificate: give all, a member name, one of etcd-server, etcd-peer, etcd-healthcheck-client, apiserver-etcd-client, or MEMBER/CERTIFICATE"),
			   target);
		return WIZ_ERR_USAGE;
	}
	slots = xcalloc(n_slots ? n_slots : 1, sizeof *slots);
	ca_load(s, &ca, now, r);
	for (size_t i = 0; i < c->n_members; i++)
		for (size_t j = 0; j < N_MEMBER_PROFILES; j++)
			slot_init(&slots[i * N_MEMBER_PROFILES + j], s,
				  &c->members[i], member_profiles[j]);
	if (r->errors.n == 0 && !ca.crt_exists)
		pki_report_add(&r->errors,
			   _("%s: there is no CA in the store; run 'etcdwiz certs generate' first"),
			   ca.crt_path);
	else if (r->errors.n == 0 && !ca.key_exists)
		pki_report_add(&r->errors,
			   _("%s: the CA key is not in the store, so nothing can be renewed here (the certificates are externally managed); import the CA key with 'etcdwiz certs import -f %s --ca-cert %s --ca-key KEY', or renew where the key is"),
			   ca.key_path, c->file ? c->file : "FILE", ca.crt_path);
	if (r->errors.n > 0) {
		rc = WIZ_ERR_INVALID;
		goto out;
	}
	for (size_t k = 0; k < n_slots; k++) {
		struct slot *sl = &slots[k];

		if (sl->profile == PKI_PROFILE_CA ||
		    !target_selects(target, sl->member, sl->profile))
			continue;
		sl->wanted = true;
		if (!sl->crt_exists) {
			pki_report_add(&r->errors,
				   _("%s is missing; run 'etcdwiz certs generate -f %s' to make it"),
				   sl->crt_path, c->file ? c->file : "FILE");
			continue;
		}
		/* The old key is replaced, so it need not be there or match. */
		sl->key_exists = true;
		if (pki_crt_read(sl->crt_path, &sl->have.crt, &e) != WIZ_ERR_OK) {
			strlist_push(&r->errors, e.msg);
			continue;
		}
		leaf_check(s, sl, &ca, false, now, r);
	}
	if (r->errors.n > 0) {
		rc = WIZ_ERR_INVALID;
		goto out;
	}
	/* Same subject and SANs as the old certificate, as kubeadm's renew. */
	for (size_t k = 0; k < n_slots; k++) {
		struct slot *sl = &slots[k];
		struct pki_crt_info info;

		if (!sl->wanted || sl->have.crt == NULL)
			continue;
		rc = pki_crt_info(sl->have.crt, &info, &e);
		if (rc == WIZ_ERR_OK) {
			rc = slot_issue(s, sl, &ca.have, info.cn, &info.sans, now, r, &e);
			pki_crt_info_free(&info);
		}
		if (rc != WIZ_ERR_OK)
			goto fail;
	}
	for (size_t k = 0; k < n_slots; k++) {
		struct slot *sl = &slots[k];

		if (!sl->wanted || sl->made.crt == NULL)
			continue;
		rc = slot_write(s, sl, ca.have.crt, r, &e);
		if (rc != WIZ_ERR_OK)
			goto fail;
		pki_report_add(&r->notes, _("renewed %s (%s), with a new key"),
			   sl->crt_path, sl->name);
	}
	goto out;
fail:
	strlist_push(&r->errors, e.msg);
out:
	slot_free(&ca);
	for (size_t k = 0; k < n_slots; k++)
		slot_free(&slots[k]);
	free(slots);
	return rc;
}

enum wiz_err pki_store_reissue(const struct pki_store *s, time_t now, struct pki_report *r)
{
	const struct cluster *c = s->c;
	size_t n_slots = c->n_members * N_MEMBER_PROFILES;
	struct slot ca, *slots = xcalloc(n_slots ? n_slots : 1, sizeof *slots);
	struct wiz_error e = { WIZ_ERR_OK, "" };
	enum wiz_err rc = WIZ_ERR_OK;
	size_t made = 0;

	if (!ca_load(s, &ca, now, r) || ca.have.crt == NULL || ca.have.key == NULL) {
		if (r->errors.n == 0)
			pki_report_add(&r->errors, _("%s: the CA and its key must be in the store to issue certificates"),
				   ca.crt_path);
		rc = WIZ_ERR_INVALID;
		goto out;
	}
	for (size_t k = 0; k < n_slots && rc == WIZ_ERR_OK; k++) {
		struct slot *sl = &slots[k];
		struct pki_crt_info info;

		slot_init(sl, s, &c->members[k / N_MEMBER_PROFILES], member_profiles[k % N_MEMBER_PROFILES]);
		if (sl->profile == PKI_PROFILE_CA || !sl->crt_exists)
			continue;
		if (pki_crt_read(sl->crt_path, &sl->have.crt, &e) != WIZ_ERR_OK) {
			rc = WIZ_ERR_INVALID;
			break;
		}
		if (pki_crt_signed_by(sl->have.crt, ca.have.crt))
			continue;	/* re-issued already (a resumed run) */
		rc = pki_crt_info(sl->have.crt, &info, &e);
		if (rc == WIZ_ERR_OK) {
			rc = slot_issue(s, sl, &ca.have, info.cn, &info.sans, now, r, &e);
			pki_crt_info_free(&info);
		}
		if (rc == WIZ_ERR_OK)
			rc = slot_write(s, sl, ca.have.crt, r, &e);
		if (rc == WIZ_ERR_OK)
			made++;
	}
	if (rc != WIZ_ERR_OK)
		strlist_push(&r->errors, e.msg);
	else if (made)
		pki_report_add(&r->notes, P_("re-issued %zu certificate from the new CA, each with a new key",
					 "re-issued %zu certificates from the new CA, each with a new key", made),
			   made);
out:
	slot_free(&ca);
	for (size_t k = 0; k < n_slots; k++)
		slot_free(&slots[k]);
	free(slots);
	return rc;
}

/* --- import -------------------------------------------------------------- */

enum wiz_err pki_store_import(const struct pki_store *s, const char *crt_path,
			      const char *key_path, time_t now,
			      struct pki_report *r)
{
	struct pki_pair in = { NULL, NULL };
	struct slot ca;
	struct wiz_error e = { WIZ_ERR_OK, "" };
	enum wiz_err rc = WIZ_ERR_OK;

	slot_init(&ca, s, NULL, PKI_PROFILE_CA);
	if (pki_crt_read(crt_path, &in.crt, &e) != WIZ_ERR_OK)
		strlist_push(&r->errors, e.msg);
	if (pki_key_read(key_path, &in.key, &e) != WIZ_ERR_OK)
		strlist_push(&r->errors, e.msg);
	if (r->errors.n == 0 &&
	    pki_ca_check(&in, crt_path, key_path, now, s->c->pki.cert_validity,
			 &e) != WIZ_ERR_OK)
		strlist_push(&r->errors, e.msg);
	if (r->errors.n == 0 && ca.crt_exists) {
		if (pki_crt_read(ca.crt_path, &ca.have.crt, &e) != WIZ_ERR_OK)
			strlist_push(&r->errors, e.msg);
		else if (!pki_crt_equal(ca.have.crt, in.crt))
			pki_report_add(&r->errors,
				   _("%s: the store already has another CA; to replace it, remove %s (the certificates made with the old CA go with it) and import again"),
				   ca.crt_path, s->dir);
	}
	/* Leaves already in the store must have been signed by this CA. */
	for (size_t i = 0; r->errors.n == 0 && i < s->c->n_members; i++) {
		for (size_t j = 1; j < N_MEMBER_PROFILES; j++) {
			char *p = pki_store_path(s, s->c->members[i].name,
						 member_profiles[j], false);
			gnutls_x509_crt_t leaf = NULL;

			if (wiz_file_exists(p)) {
				if (pki_crt_read(p, &leaf, &e) != WIZ_ERR_OK)
					strlist_push(&r->errors, e.msg);
				else if (!pki_crt_signed_by(leaf, in.crt))
					pki_report_add(&r->errors,
						   _("%s was not signed by the CA in %s; import the CA that signed it, or remove %s/members to start over"),
						   p, crt_path, s->dir);
			}
			if (leaf)
				gnutls_x509_crt_deinit(leaf);
			free(p);
		}
	}
	if (r->errors.n > 0) {
		rc = WIZ_ERR_INVALID;
		goto out;
	}
	if (ca.crt_exists && ca.key_exists) {
		pki_report_add(&r->notes, _("nothing changed: %s is already the store's CA"),
			   crt_path);
		goto out;
	}
	rc = write_key(s, ca.key_path, in.key, r, &e);
	if (rc == WIZ_ERR_OK && !ca.crt_exists)
		rc = write_crt(s, ca.crt_path, in.crt, r, &e);
	if (rc != WIZ_ERR_OK) {
		strlist_push(&r->errors, e.msg);
		goto out;
	}
	pki_report_add(&r->notes, _("imported the CA %s into %s"), crt_path, ca.crt_path);
out:
	pki_pair_free(&in);
	slot_free(&ca);
	return rc;
}

/* --- status -------------------------------------------------------------- */

static void status_add(struct pki_status_list *l, const char *name,
		       const char *path, bool is_ca, bool ext)
{
	struct pki_status *st;
	gnutls_x509_crt_t crt = NULL;
	struct wiz_error e = { WIZ_ERR_OK, "" };

	l->items = xreallocarray(l->items, l->n + 1, sizeof *l->items);
	st = &l->items[l->n++];
	memset(st, 0, sizeof *st);
	st->name = xstrdup(name);
	st->path = xstrdup(path);
	st->is_ca = is_ca;
	st->externally_managed = ext;
	if (!wiz_file_exists(path)) {
		st->missing = true;
		return;
	}
	if (pki_crt_read(path, &crt, &e) != WIZ_ERR_OK) {
		st->problem = xstrdup(e.msg);
		return;
	}
	st->not_after = gnutls_x509_crt_get_expiration_time(crt);
	gnutls_x509_crt_deinit(crt);
}

void pki_store_status(const struct pki_store *s, struct pki_status_list *out)
{
	char *ca_crt = pki_store_path(s, NULL, PKI_PROFILE_CA, false);
	char *ca_key = pki_store_path(s, NULL, PKI_PROFILE_CA, true);
	bool ext = !wiz_file_exists(ca_key);

	out->items = NULL;
	out->n = 0;
	status_add(out, PKI_CA_CN, ca_crt, true, ext);
	for (size_t i = 0; i < s->c->n_members; i++) {
		for (size_t j = 1; j < N_MEMBER_PROFILES; j++) {
			const char *m = s->c->members[i].name;
			char *name = slot_name(m, member_profiles[j]);
			char *path = pki_store_path(s, m, member_profiles[j], false);

			status_add(out, name, path, false, ext);
			free(name);
			free(path);
		}
	}
	free(ca_crt);
	free(ca_key);
}

void pki_status_list_free(struct pki_status_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].name);
		free(l->items[i].path);
		free(l->items[i].problem);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

enum wiz_err pki_store_set_aside(const struct pki_store *s, const char *member, const char *why,
				 time_t now, char **moved_to, struct wiz_error *err)
{
	char *from = xasprintf("%s/members/%s", s->dir, member);
	char *dir = xasprintf("%s/set-aside", s->dir);
	char stamp[32], *to = NULL;
	struct tm tm;
	enum wiz_err rc = WIZ_ERR_OK;

	*moved_to = NULL;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	if (!wiz_file_exists(from))
		goto out;
	rc = wiz_mkdir_p(dir, 0700, err);
	if (rc != WIZ_ERR_OK)
		goto out;
	to = xasprintf("%s/%s.%s-%s", dir, member, why, stamp);
	if (rename(from, to) != 0) {
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot move %s to %s: %s"), from, to, strerror(errno));
		goto out;
	}
	*moved_to = to;
	to = NULL;
out:
	free(to);
	free(from);
	free(dir);
	return rc;
}
