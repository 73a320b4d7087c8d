/* The local store's side of a CA rotation (pki-rotate.h). */
#include "config.h"

#include "pki/pki-rotate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/xmalloc.h"
#include "pki/pki.h"

#define RECORD_MAX 4096

static char *store_file(const struct pki_store *s, const char *rel)
{
	return xasprintf("%s/%s", s->dir, rel);
}

static bool record_parse(const char *data, struct pki_rotation *out, char *state, size_t size)
{
	char *end;
	long n;
	size_t len;
	const char *when;

	if (strncmp(data, "phase ", 6) != 0)
		return false;
	n = strtol(data + 6, &end, 10);
	if (end == data + 6 || *end != ' ' || n < 1 || n > PKI_ROTATION_PHASES)
		return false;
	out->phase = (int)n;
	len = strcspn(end + 1, "\n");
	if (len == 0 || len >= size)
		return false;
	memcpy(state, end + 1, len);
	state[len] = '\0';
	when = strstr(end, "\nstarted ");
	if (when != NULL)
		snprintf(out->started, sizeof out->started, "%.*s", (int)strcspn(when + 9, "\n"), when + 9);
	return true;
}

enum wiz_err pki_rotation_read(const struct pki_store *s, struct pki_rotation *out,
			       struct wiz_error *err)
{
	char *path = store_file(s, "rotation");
	char *data = NULL, state[16] = "";
	enum wiz_err rc = WIZ_ERR_OK;

	memset(out, 0, sizeof *out);
	if (!wiz_file_exists(path))
		goto out;
	rc = wiz_read_file(path, RECORD_MAX, &data, NULL, err);
	if (rc != WIZ_ERR_OK)
		goto out;
	/* "phase 2 done\nstarted 2026-12-02T20:00:00Z\n" */
	if (!record_parse(data, out, state, sizeof state) || out->phase < 1 || out->phase > PKI_ROTATION_PHASES ||
	    (strcmp(state, "started") != 0 && strcmp(state, "done") != 0)) {
		memset(out, 0, sizeof *out);
		rc = wiz_error_set(err, WIZ_ERR_INVALID,
				   _("%s: not a rotation record etcdwiz wrote; look at it, and remove it only if no CA rotation is under way"),
				   path);
		goto out;
	}
	out->done = strcmp(state, "done") == 0;
out:
	free(data);
	free(path);
	return rc;
}

static enum wiz_err record_write(const struct pki_store *s, int phase, bool done,
				 const char *started, struct wiz_error *err)
{
	char *path = store_file(s, "rotation");
	char *text = xasprintf("phase %d %s\nstarted %s\n", phase, done ? "done" : "started", started);
	enum wiz_err rc = wiz_write_file_atomic(path, text, strlen(text), 0600, err);

	free(text);
	free(path);
	return rc;
}

char *pki_rotation_trust_extra(const struct pki_store *s, size_t *len)
{
	struct pki_rotation rot;
	char *path = NULL, *data = NULL;

	*len = 0;
	if (pki_rotation_read(s, &rot, NULL) != WIZ_ERR_OK || rot.phase == 0 || rot.phase == 3)
		return NULL;
	path = store_file(s, rot.phase == 1 ? "ca-next/etcd/ca.crt" : "ca-previous/etcd/ca.crt");
	if (wiz_read_file(path, RECORD_MAX * 4, &data, len, NULL) != WIZ_ERR_OK) {
		free(data);
		data = NULL;
		*len = 0;
	}
	free(path);
	return data;
}

int pki_rotation_next_phase(const struct pki_rotation *r)
{
	if (r->phase == 0)
		return 1;
	if (!r->done)
		return r->phase;
	return r->phase < PKI_ROTATION_PHASES ? r->phase + 1 : 0;
}

/* The new CA, key first as ca.key.new, then ca.crt, then the key renamed:
 * a stop at any point leaves no key without its certificate. What a
 * stopped run left is settled first. */
static enum wiz_err next_ca_make(const struct pki_store *s, time_t now, struct pki_report *r,
				 struct wiz_error *err)
{
	char *dir = store_file(s, "ca-next/etcd");
	char *crt_path = xasprintf("%s/ca.crt", dir), *key_path = xasprintf("%s/ca.key", dir);
	char *pending = xasprintf("%s/ca.key.new", dir);
	struct pki_pair ca = { NULL, NULL };
	gnutls_datum_t crt = { NULL, 0 }, key = { NULL, 0 };
	enum wiz_err rc = WIZ_ERR_OK;

	if (wiz_file_exists(crt_path) && wiz_file_exists(key_path))
		goto out;	/* made by an earlier run */
	if (wiz_file_exists(pending) && wiz_file_exists(crt_path)) {
		rc = wiz_rename_durable(pending, key_path, err);
		goto out;
	}
	unlink(pending);
	unlink(crt_path);
	rc = wiz_mkdir_p(dir, 0700, err);
	if (rc == WIZ_ERR_OK)
		rc = pki_ca_create(s->c->pki.algorithm, s->c->pki.ca_validity, now, &ca, err);
	if (rc == WIZ_ERR_OK)
		rc = pki_key_export(ca.key, &key, err);
	if (rc == WIZ_ERR_OK)
		rc = pki_crt_export(ca.crt, &crt, err);
	if (rc == WIZ_ERR_OK)
		rc = wiz_write_file_atomic(pending, key.data, key.size, 0600, err);
	if (rc == WIZ_ERR_OK)
		rc = wiz_write_file_atomic(crt_path, crt.data, crt.size, 0644, err);
	if (rc == WIZ_ERR_OK)
		rc = wiz_rename_durable(pending, key_path, err);
	if (rc == WIZ_ERR_OK) {
		strlist_push(&r->written, crt_path);
		strlist_push(&r->written, key_path);
		strlist_push(&r->notes, _("made the new etcd CA (ca-next/etcd/ca.crt); it is trusted everywhere before it signs anything"));
	}
out:
	pki_pair_free(&ca);
	gnutls_free(crt.data);
	pki_datum_free_secret(&key);
	free(dir);
	free(crt_path);
	free(key_path);
	free(pending);
	return rc;
}

/* The new CA starts signing: ca -> ca-previous, ca-next -> ca. A stop
 * between the two renames leaves ca-previous and ca-next: finished here. */
static enum wiz_err swap_cas(const struct pki_store *s, struct pki_report *r, struct wiz_error *err)
{
	char *ca = store_file(s, "ca"), *next = store_file(s, "ca-next"), *prev = store_file(s, "ca-previous");
	enum wiz_err rc = WIZ_ERR_OK;

	if (!wiz_file_exists(next))
		goto out;	/* swapped already */
	if (!wiz_file_exists(prev))
		rc = wiz_rename_durable(ca, prev, err);
	if (rc == WIZ_ERR_OK)
		rc = wiz_rename_durable(next, ca, err);
	if (rc == WIZ_ERR_OK)
		strlist_push(&r->notes, _("the new CA signs from now on; the old one (ca-previous/) is still trusted"));
out:
	free(ca);
	free(next);
	free(prev);
	return rc;
}

static bool store_has_ca_key(const struct pki_store *s)
{
	char *key = pki_store_path(s, NULL, PKI_PROFILE_CA, true);
	bool yes = wiz_file_exists(key);

	free(key);
	return yes;
}

enum wiz_err pki_rotation_begin(const struct pki_store *s, int n, time_t now,
				struct pki_report *r)
{
	struct pki_rotation rot;
	struct wiz_error e = { WIZ_ERR_OK, "" };
	const char *file = s->c->file ? s->c->file : "FILE";
	enum wiz_err rc;
	int next;

	if (pki_rotation_read(s, &rot, &e) != WIZ_ERR_OK) {
		strlist_push(&r->errors, e.msg);
		return WIZ_ERR_INVALID;
	}
	next = pki_rotation_next_phase(&rot);
	if (n != next) {
		if (rot.phase == 0)
			pki_report_add(&r->errors, _("no CA rotation is under way: it starts with phase 1"));
		else if (next == 0)
			pki_report_add(&r->errors, _("the CA rotation is done already"));
		else
			pki_report_add(&r->errors, _("phase %d comes next (phase %d %s on every host); run '%s certs rotate-ca -f %s --phase %d'"),
				      next, rot.phase, rot.done ? _("is done") : _("is not done yet"), PACKAGE, file, next);
		return WIZ_ERR_INVALID;
	}
	if (!store_has_ca_key(s) && n == 1) {
		pki_report_add(&r->errors, _("the CA key is not in the store (the certificates are externally managed): a new CA has to come from where the key is"));
		return WIZ_ERR_INVALID;
	}
	if (rot.phase == 0) {
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(rot.started, sizeof rot.started, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	rc = record_write(s, n, false, rot.started, &e);
	if (rc == WIZ_ERR_OK && n == 1)
		rc = next_ca_make(s, now, r, &e);
	if (rc == WIZ_ERR_OK && n == 2)
		rc = swap_cas(s, r, &e);
	if (rc != WIZ_ERR_OK) {
		strlist_push(&r->errors, e.msg);
		return rc;
	}
	if (n == 2 && (rc = pki_store_reissue(s, now, r)) != WIZ_ERR_OK)
		return rc;
	return pki_store_write_trust(s, r);
}

enum wiz_err pki_rotation_end(const struct pki_store *s, int n, time_t now, char **archived,
			      struct pki_report *r)
{
	struct pki_rotation rot;
	struct wiz_error e = { WIZ_ERR_OK, "" };
	enum wiz_err rc;

	*archived = NULL;
	if (pki_rotation_read(s, &rot, &e) != WIZ_ERR_OK || rot.phase != n) {
		strlist_push(&r->errors, e.msg[0] ? e.msg : _("the rotation record does not say this phase"));
		return WIZ_ERR_INVALID;
	}
	if (n < PKI_ROTATION_PHASES)
		rc = record_write(s, n, true, rot.started, &e);
	else {
		char *prev = store_file(s, "ca-previous"), *dir = store_file(s, "archive");
		char stamp[32];
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
		*archived = xasprintf("%s/etcd-ca-%s", dir, stamp);
		rc = wiz_mkdir_p(dir, 0700, &e);
		if (rc == WIZ_ERR_OK && wiz_file_exists(prev))
			rc = wiz_rename_durable(prev, *archived, &e);
		if (rc == WIZ_ERR_OK) {
			char *rec = store_file(s, "rotation");

			if (unlink(rec) != 0 && errno != ENOENT)
				rc = wiz_error_set(&e, WIZ_ERR_IO, _("cannot remove %s: %s"), rec, strerror(errno));
			free(rec);
		}
		free(prev);
		free(dir);
	}
	if (rc != WIZ_ERR_OK) {
		strlist_push(&r->errors, e.msg);
		free(*archived);
		*archived = NULL;
	}
	return rc;
}

/* ---- certs rotate: renewed leaves until every host has them ---- */

enum wiz_err pki_rotate_leaves_prepare(const struct pki_store *s, const char *target, time_t now,
				       char **resumed, struct pki_report *r)
{
	char *path = store_file(s, "rotate-pending");
	char *was = NULL, *line;
	struct wiz_error e = { WIZ_ERR_OK, "" };
	enum wiz_err rc = WIZ_ERR_OK;

	*resumed = NULL;
	if (wiz_read_file(path, RECORD_MAX, &was, NULL, NULL) == WIZ_ERR_OK) {
		was[strcspn(was, "\n")] = '\0';
		*resumed = was;
		free(path);
		return WIZ_ERR_OK;
	}
	free(was);
	rc = pki_store_renew(s, target, now, r);
	line = xasprintf("%s\n", target);
	if (rc == WIZ_ERR_OK && (rc = wiz_write_file_atomic(path, line, strlen(line), 0600, &e)) != WIZ_ERR_OK)
		strlist_push(&r->errors, e.msg);
	free(line);
	free(path);
	return rc;
}

void pki_rotate_leaves_done(const struct pki_store *s)
{
	char *path = store_file(s, "rotate-pending");

	unlink(path);
	free(path);
}
