/* Shared by `etcdwiz plan|apply` and the wizard; see apply-support.h. */
#include "config.h"

#include "install/apply-support.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fsutil.h"
#include "base/xmalloc.h"
#include "etcd/etcd-ask.h"
#include "install/plan.h"
#include "install/step.h"

void apply_split_csv(struct strlist *l, const char *csv, bool lower)
{
	char *copy = xstrdup(csv), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (lower)
			for (char *p = t; *p; p++)
				*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		if (*t)
			strlist_push(l, t);
	}
	free(copy);
}

char *apply_read_local(const struct host *h, bool is_member, const char *rel, size_t *len, void *ud)
{
	const struct pki_store *store = ud;
	const char *member = is_member ? h->name : store->c->members[0].name;
	char *path = rel[0] == '/' ? xstrdup(rel)	/* etcd.etcdctlBinary */
		: strcmp(rel, "etcd/ca.key") == 0
		? xasprintf("%s/ca/etcd/ca.key", store->dir)
		: xasprintf("%s/members/%s/%s", store->dir, member, rel);
	char *data = NULL;
	struct wiz_error err;

	if (wiz_read_file(path, 256u << 20, &data, len, &err) != WIZ_ERR_OK)
		data = NULL;
	free(path);
	return data;
}

bool apply_plan_unhealthy(const struct step *s, const struct plan *p)
{
	return s->health_gate && p->n_findings > 0;
}

enum wiz_err apply_etcd_creds(void *ud, struct http_tls_creds **out, struct wiz_error *err)
{
	return etcd_creds_from_store(ud, out, err);
}

char *apply_cluster_token(const struct cluster *c, bool create, struct wiz_error *err)
{
	char *dir, *path, *data = NULL;
	unsigned char rnd[12];
	char hex[sizeof rnd * 2 + 1];

	if (c->etcd.cluster_token)
		return xstrdup(c->etcd.cluster_token);
	dir = wiz_data_dir();
	path = xasprintf("%s/%s/cluster-token", dir, c->name);
	if (wiz_read_file(path, 256, &data, NULL, err) == WIZ_ERR_OK) {
		data[strcspn(data, "\n")] = '\0';
		goto out;
	}
	free(data);
	data = NULL;
	if (!create) {
		data = xstrdup("<generated-at-apply>");
		goto out;
	}
	gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof rnd);
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	data = xasprintf("etcdwiz-%s-%s", c->name, hex);
	{
		char *sub = xasprintf("%s/%s", dir, c->name);
		char *line = xasprintf("%s\n", data);

		if (wiz_mkdir_p(sub, 0700, err) != WIZ_ERR_OK ||
		    wiz_write_file_atomic(path, line, strlen(line), 0600, err) != WIZ_ERR_OK) {
			free(data);
			data = NULL;
		}
		free(sub);
		free(line);
	}
out:
	free(dir);
	free(path);
	return data;
}

char *apply_journal_path(const struct cluster *c, bool apply)
{
	char *dir = wiz_data_dir();
	char *jdir = xasprintf("%s/%s/journal", dir, c->name);
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	char *path = NULL;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	if (wiz_mkdir_p(jdir, 0700, NULL) == WIZ_ERR_OK)
		path = xasprintf("%s/%s-%s.log", jdir, stamp, apply ? "apply" : "plan");
	free(dir);
	free(jdir);
	return path;
}
