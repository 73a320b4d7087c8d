/* Saving the cluster file in one canonical order, through libyaml's emitter,
 * so that values are always quoted correctly and save->load is lossless. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/xmalloc.h"
#include "base/yaml-emit.h"
#include "cluster/cluster.h"

/* Would a YAML 1.1 reader take s for an int or a float? ("1.33" yes,
 * "3.5.21" and "198.51.100.11" no.) */
static bool looks_like_number(const char *s)
{
	const char *p = s;
	bool digit = false;
	int dots = 0;

	if (*p == '+' || *p == '-')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o'))
		return true;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digit = true;
		else if (*p == '.')
			dots++;
		else if ((*p == 'e' || *p == 'E') && digit)
			return dots <= 1;
		else if (*p != '_' && *p != ':')
			return false;
	}
	return digit && dots <= 1;
}

yaml_scalar_style_t yaml_scalar_style_for(const char *s)
{
	static const char *const special[] = {
		"", "~", "null", "Null", "NULL", "true", "True", "TRUE",
		"false", "False", "FALSE", "yes", "Yes", "YES", "no", "No",
		"NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n",
		"N", ".inf", ".Inf", ".nan", ".NaN", NULL
	};

	for (size_t i = 0; special[i]; i++)
		if (strcmp(s, special[i]) == 0)
			return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (looks_like_number(s))
		return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	return YAML_ANY_SCALAR_STYLE;
}

static int membuf_write(void *data, unsigned char *buffer, size_t size)
{
	struct yaml_membuf *b = data;

	if (b->len + size + 1 > b->cap) {
		b->cap = (b->len + size + 1) * 2;
		b->data = xreallocarray(b->data, b->cap, 1);
	}
	memcpy(b->data + b->len, buffer, size);
	b->len += size;
	b->data[b->len] = '\0';
	return 1;
}

bool yaml_emitter_to_membuf(yaml_emitter_t *em, struct yaml_membuf *buf)
{
	memset(buf, 0, sizeof *buf);
	if (!yaml_emitter_initialize(em))
		return false;
	yaml_emitter_set_output(em, membuf_write, buf);
	yaml_emitter_set_unicode(em, 1);
	yaml_emitter_set_width(em, 100);
	yaml_emitter_set_indent(em, 2);
	return true;
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

/* Sorted copy, so maps come out in one order whatever order they were set in. */
static struct kv *sorted_kv(const struct kvlist *l)
{
	struct kv *copy = xcalloc(l->n, sizeof *copy);

	if (l->n)
		memcpy(copy, l->items, l->n * sizeof *copy);
	qsort(copy, l->n, sizeof *copy, kv_cmp);
	return copy;
}

static bool emit_kvmap(yaml_emitter_t *em, const char *key, const struct kvlist *l)
{
	yaml_event_t ev;
	struct kv *sorted;

	if (l->n == 0)
		return true;
	sorted = sorted_kv(l);
	Y_PLAIN(key);
	Y_MAP_OPEN();
	for (size_t i = 0; i < l->n; i++)
		Y_KV(sorted[i].key, sorted[i].value);
	Y_MAP_CLOSE();
	free(sorted);
	return true;
err:
	free(sorted);
	return false;
}

static bool emit_strlist(yaml_emitter_t *em, const char *key, const struct strlist *l)
{
	yaml_event_t ev;

	if (l->n == 0)
		return true;
	Y_PLAIN(key);
	Y_SEQ_OPEN();
	for (size_t i = 0; i < l->n; i++)
		Y_STR(l->items[i]);
	Y_SEQ_CLOSE();
	return true;
err:
	return false;
}

static bool ssh_is_empty(const struct ssh_settings *s)
{
	return !s->user && !s->port && !s->identity_file && !s->known_hosts && s->sudo < 0;
}

/* full: the cluster-wide block (every key); otherwise only overrides. */
static bool emit_ssh(yaml_emitter_t *em, const struct ssh_settings *s,
		     const struct kvlist *host_keys, bool full)
{
	yaml_event_t ev;
	char port[16];

	if (!full && ssh_is_empty(s))
		return true;
	Y_PLAIN("ssh");
	Y_MAP_OPEN();
	Y_KV_OPT("user", s->user);
	if (s->port) {
		snprintf(port, sizeof port, "%d", s->port);
		Y_KV_PLAIN("port", port);
	}
	Y_KV_OPT("identityFile", s->identity_file);
	Y_KV_OPT("knownHosts", s->known_hosts);
	if (s->sudo >= 0)
		Y_KV_PLAIN("sudo", s->sudo ? "true" : "false");
	if (host_keys && !emit_kvmap(em, "hostKeys", host_keys))
		goto err;
	Y_MAP_CLOSE();
	return true;
err:
	return false;
}

static bool emit_hosts(yaml_emitter_t *em, const char *key, const struct host *hosts,
		       size_t n, bool member)
{
	yaml_event_t ev;

	Y_PLAIN(key);
	Y_SEQ_OPEN();
	for (size_t i = 0; i < n; i++) {
		const struct host *h = &hosts[i];

		Y_MAP_OPEN();
		Y_KV_OPT("name", h->name);
		Y_KV_OPT("address", h->address);
		Y_KV_OPT("sshHost", h->ssh_host);
		if (!emit_ssh(em, &h->ssh, NULL, false))
			goto err;
		if (member && !emit_strlist(em, "extraSANs", &h->extra_sans))
			goto err;
		Y_MAP_CLOSE();
	}
	Y_SEQ_CLOSE();
	return true;
err:
	return false;
}

static bool emit_cluster(yaml_emitter_t *em, const struct cluster *c)
{
	yaml_event_t ev;
	char *ca = duration_format(c->pki.ca_validity);
	char *leaf = duration_format(c->pki.cert_validity);
	bool ok = false;

	Y_EMIT(yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	Y_EMIT(yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	Y_MAP_OPEN();
	Y_KV("apiVersion", CLUSTER_API_VERSION);
	Y_KV("kind", CLUSTER_KIND);
	Y_KV_OPT("name", c->name);
	Y_KV_OPT("kubernetesVersion", c->kubernetes_version);

	Y_PLAIN("etcd");
	Y_MAP_OPEN();
	Y_KV_OPT("version", c->etcd.version);
	Y_KV_OPT("image", c->etcd.image);
	Y_KV_OPT("dataDir", c->etcd.data_dir);
	Y_KV_OPT("clusterToken", c->etcd.cluster_token);
	Y_KV_OPT("etcdctlBinary", c->etcd.etcdctl_binary);
	if (!emit_kvmap(em, "extraArgs", &c->etcd.extra_args))
		goto err;
	Y_MAP_CLOSE();

	if (c->backup.schedule != NULL || c->backup.keep != CLUSTER_DEFAULT_BACKUP_KEEP ||
	    (c->backup.dir != NULL && strcmp(c->backup.dir, CLUSTER_DEFAULT_BACKUP_DIR) != 0)) {
		char keep[16];

		snprintf(keep, sizeof keep, "%u", c->backup.keep);
		Y_PLAIN("backup");
		Y_MAP_OPEN();
		Y_KV_OPT("schedule", c->backup.schedule);
		Y_KV_PLAIN("keep", keep);
		Y_KV_OPT("dir", c->backup.dir);
		Y_MAP_CLOSE();
	}

	Y_PLAIN("runtime");
	Y_MAP_OPEN();
	Y_KV_OPT("kind", c->runtime.kind);
	Y_KV_OPT("version", c->runtime.version);
	Y_KV_PLAIN("install", c->runtime.install ? "true" : "false");
	Y_MAP_CLOSE();

	if (c->repositories.kubernetes || c->repositories.crio) {
		Y_PLAIN("repositories");
		Y_MAP_OPEN();
		Y_KV_OPT("kubernetes", c->repositories.kubernetes);
		Y_KV_OPT("crio", c->repositories.crio);
		Y_MAP_CLOSE();
	}

	Y_PLAIN("pki");
	Y_MAP_OPEN();
	Y_KV("algorithm", pki_algorithm_name(c->pki.algorithm));
	Y_KV("caValidity", ca);
	Y_KV("certValidity", leaf);
	if (!emit_strlist(em, "caKeyOn", &c->pki.ca_key_on))
		goto err;
	Y_KV_OPT("dir", c->pki.dir);
	Y_MAP_CLOSE();

	if (!emit_ssh(em, &c->ssh, &c->host_keys, true))
		goto err;
	if (!emit_hosts(em, "members", c->members, c->n_members, true))
		goto err;

	if (c->control_plane.present) {
		Y_PLAIN("controlPlane");
		Y_MAP_OPEN();
		Y_KV_OPT("endpoint", c->control_plane.endpoint);
		Y_KV_OPT("podSubnet", c->control_plane.pod_subnet);
		if (!emit_strlist(em, "certSANs", &c->control_plane.cert_sans))
			goto err;
		if (!emit_hosts(em, "hosts", c->control_plane.hosts,
				c->control_plane.n_hosts, false))
			goto err;
		Y_MAP_CLOSE();
	}

	Y_MAP_CLOSE();
	Y_EMIT(yaml_document_end_event_initialize(&ev, 1));
	Y_EMIT(yaml_stream_end_event_initialize(&ev));
	ok = true;
err:
	free(ca);
	free(leaf);
	return ok;
}

enum wiz_err cluster_emit(const struct cluster *c, char **out, size_t *len,
			  struct wiz_error *err)
{
	yaml_emitter_t emitter;
	struct yaml_membuf buf;
	bool ok;

	*out = NULL;
	if (!yaml_emitter_to_membuf(&emitter, &buf))
		return wiz_error_set(err, WIZ_ERR_IO, _("cannot start the YAML emitter"));
	ok = emit_cluster(&emitter, c);
	if (!ok) {
		wiz_error_set(err, WIZ_ERR_INVALID, _("cannot write the cluster file: %s"),
			      emitter.problem ? emitter.problem : _("emitter error"));
		yaml_emitter_delete(&emitter);
		free(buf.data);
		return WIZ_ERR_INVALID;
	}
	yaml_emitter_delete(&emitter);
	*out = buf.data;
	if (len)
		*len = buf.len;
	return WIZ_ERR_OK;
}

enum wiz_err cluster_keep_backup(const char *path, struct wiz_error *err)
{
	char *bak = xasprintf("%s.bak", path);
	char *old = NULL;
	size_t len = 0;
	enum wiz_err rc = wiz_read_file(path, 1 << 20, &old, &len, err);

	if (rc == WIZ_ERR_OK)
		rc = wiz_write_file_atomic(bak, old, len, 0600, err);
	free(old);
	free(bak);
	return rc;
}

enum wiz_err cluster_save(const struct cluster *c, const char *path,
			  struct wiz_error *err)
{
	static const char header[] =
		"# etcdwiz cluster file: `etcdwiz apply -f` replays it.\n"
		"# Reference: docs/cluster-file.md. Passwords never go here.\n";
	char *yaml, *all;
	size_t len;
	enum wiz_err rc;

	rc = cluster_emit(c, &yaml, &len, err);
	if (rc != WIZ_ERR_OK)
		return rc;
	all = xasprintf("%s%s", header, yaml);
	rc = wiz_write_file_atomic(path, all, strlen(all), 0600, err);
	free(all);
	free(yaml);
	return rc;
}
