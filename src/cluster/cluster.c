#include "config.h"

#include "cluster/cluster.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

static const char *const pki_algorithm_names[] = {
#define PKI_ALG_NAME(id, name) name,
	PKI_ALGORITHM_INFO(PKI_ALG_NAME)
#undef PKI_ALG_NAME
};

const char *pki_algorithm_name(enum pki_algorithm alg)
{
	return (unsigned)alg < PKI_ALG_COUNT ? pki_algorithm_names[alg] : "?";
}

bool pki_algorithm_parse(const char *s, enum pki_algorithm *alg)
{
	for (unsigned i = 0; i < PKI_ALG_COUNT; i++) {
		if (strcmp(s, pki_algorithm_names[i]) == 0) {
			*alg = (enum pki_algorithm)i;
			return true;
		}
	}
	return false;
}

void cluster_init(struct cluster *c, const char *name)
{
	memset(c, 0, sizeof *c);
	c->name = name ? xstrdup(name) : NULL;
	c->kubernetes_version = xstrdup("1.33");
	c->etcd.version = xstrdup("3.5.21");
	c->etcd.data_dir = xstrdup("/var/lib/etcd");
	c->backup.keep = CLUSTER_DEFAULT_BACKUP_KEEP;
	c->backup.dir = xstrdup(CLUSTER_DEFAULT_BACKUP_DIR);
	c->runtime.kind = xstrdup("cri-o");
	c->runtime.install = true;
	c->pki.algorithm = PKI_ALG_RSA_2048;
	c->pki.ca_validity = UINT64_C(87600) * 3600;
	c->pki.cert_validity = UINT64_C(8760) * 3600;
	c->ssh.user = xstrdup(CLUSTER_DEFAULT_SSH_USER);
	c->ssh.port = CLUSTER_DEFAULT_SSH_PORT;
	c->ssh.sudo = 0;
}

static void ssh_settings_free(struct ssh_settings *s)
{
	free(s->user);
	free(s->identity_file);
	free(s->known_hosts);
}

void cluster_host_free(struct host *h)
{
	free(h->name);
	free(h->address);
	free(h->ssh_host);
	ssh_settings_free(&h->ssh);
	strlist_free(&h->extra_sans);
	memset(h, 0, sizeof *h);
}

static void hosts_free(struct host *hosts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cluster_host_free(&hosts[i]);
	free(hosts);
}

void cluster_free(struct cluster *c)
{
	free(c->file);
	free(c->name);
	free(c->kubernetes_version);
	free(c->etcd.version);
	free(c->etcd.image);
	free(c->etcd.data_dir);
	free(c->backup.schedule);
	free(c->backup.dir);
	free(c->etcd.cluster_token);
	free(c->etcd.etcdctl_binary);
	kvlist_free(&c->etcd.extra_args);
	free(c->runtime.kind);
	free(c->runtime.version);
	free(c->repositories.kubernetes);
	free(c->repositories.crio);
	strlist_free(&c->pki.ca_key_on);
	free(c->pki.dir);
	ssh_settings_free(&c->ssh);
	kvlist_free(&c->host_keys);
	hosts_free(c->members, c->n_members);
	free(c->control_plane.endpoint);
	free(c->control_plane.pod_subnet);
	strlist_free(&c->control_plane.cert_sans);
	hosts_free(c->control_plane.hosts, c->control_plane.n_hosts);
	memset(c, 0, sizeof *c);
}

void cluster_host_ssh(const struct cluster *c, const struct host *h,
		      struct ssh_settings *out)
{
	/* out borrows; nothing frees through it, so the literal is safe. */
	out->user = h->ssh.user ? h->ssh.user : c->ssh.user ? c->ssh.user : (char *)CLUSTER_DEFAULT_SSH_USER;
	out->port = h->ssh.port ? h->ssh.port : c->ssh.port ? c->ssh.port : CLUSTER_DEFAULT_SSH_PORT;
	out->identity_file = h->ssh.identity_file ? h->ssh.identity_file
						  : c->ssh.identity_file;
	out->known_hosts = h->ssh.known_hosts ? h->ssh.known_hosts
					      : c->ssh.known_hosts;
	out->sudo = h->ssh.sudo >= 0 ? h->ssh.sudo : c->ssh.sudo;
}

const char *cluster_host_ssh_target(const struct host *h)
{
	return h->ssh_host ? h->ssh_host : h->address;
}

char *cluster_etcd_image(const struct cluster *c)
{
	if (c->etcd.image)
		return xstrdup(c->etcd.image);
	return xasprintf("registry.k8s.io/etcd:%s-0", c->etcd.version);
}

const struct host *cluster_find_member(const struct cluster *c,
				       const char *name)
{
	/* A member the file gave no name is found by none (validate says so). */
	for (size_t i = 0; i < c->n_members && name != NULL; i++)
		if (c->members[i].name != NULL && strcmp(c->members[i].name, name) == 0)
			return &c->members[i];
	return NULL;
}

bool duration_parse(const char *s, uint64_t *seconds)
{
	uint64_t total = 0;
	const char *p = s;

	if (*p == '\0')
		return false;
	while (*p) {
		uint64_t n = 0, unit;
		const char *start = p;

		while (isdigit((unsigned char)*p)) {
			if (n > UINT64_MAX / 10)
				return false;
			n = n * 10 + (uint64_t)(*p - '0');
			p++;
		}
		if (p == start)
			return false;
		switch (*p) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		default: return false;
		}
		p++;
		if (n > (UINT64_MAX - total) / unit)
			return false;
		total += n * unit;
	}
	*seconds = total;
	return true;
}

char *duration_format(uint64_t seconds)
{
	uint64_t h = seconds / 3600, m = seconds % 3600 / 60, s = seconds % 60;
	char buf[64];
	size_t off = 0;

	if (seconds == 0)
		return xstrdup("0s");
	if (h)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%" PRIu64 "h", h);
	if (m)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%" PRIu64 "m", m);
	if (s)
		snprintf(buf + off, sizeof buf - off, "%" PRIu64 "s", s);
	return xstrdup(buf);
}

void strlist_push(struct strlist *l, const char *s)
{
	l->items = xreallocarray(l->items, l->n + 1, sizeof *l->items);
	l->items[l->n++] = xstrdup(s);
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

bool strlist_contains(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

void kvlist_set(struct kvlist *l, const char *key, const char *value)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].key, key) == 0) {
			free(l->items[i].value);
			l->items[i].value = xstrdup(value);
			return;
		}
	}
	l->items = xreallocarray(l->items, l->n + 1, sizeof *l->items);
	l->items[l->n].key = xstrdup(key);
	l->items[l->n].value = xstrdup(value);
	l->n++;
}

void kvlist_unset(struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].key, key) == 0) {
			free(l->items[i].key);
			free(l->items[i].value);
			memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof *l->items);
			l->n--;
			return;
		}
	}
}

const char *kvlist_get(const struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].key, key) == 0)
			return l->items[i].value;
	return NULL;
}

void kvlist_free(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}
