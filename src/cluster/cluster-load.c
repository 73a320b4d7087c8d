/* Loading the cluster file: libyaml's document API walked by static schema
 * tables (as netplan does). Every problem is recorded with file:line:col and
 * loading goes on, so the admin sees all of them at once. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"

#define CLUSTER_FILE_MAX (1024 * 1024)

struct pos_entry {
	char *path;
	struct diag_pos pos;
};

struct loader {
	yaml_document_t doc;
	struct diag_list *diags;
	struct pos_entry *positions;
	size_t n_positions;
	struct diag_pos root_pos;
};

struct schema_field;
typedef void (*field_handler)(struct loader *ld, yaml_node_t *node, void *base,
			      const struct schema_field *f, const char *path);

struct schema_field {
	const char *key;
	yaml_node_type_t type;
	field_handler handle;
	size_t offset;
	const struct schema_field *children;	/* for nested mappings */
	const char *fixed;			/* required exact value */
	bool required;
};

static struct diag_pos node_pos(const yaml_node_t *node)
{
	struct diag_pos p = { (unsigned)node->start_mark.line + 1,
			      (unsigned)node->start_mark.column + 1 };
	return p;
}

static void remember_pos(struct loader *ld, const char *path, const yaml_node_t *node)
{
	ld->positions = xreallocarray(ld->positions, ld->n_positions + 1,
				      sizeof *ld->positions);
	ld->positions[ld->n_positions].path = xstrdup(path);
	ld->positions[ld->n_positions].pos = node_pos(node);
	ld->n_positions++;
}

static void error_at(struct loader *ld, const yaml_node_t *node,
		     const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void error_at(struct loader *ld, const yaml_node_t *node,
		     const char *path, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_add(ld->diags, DIAG_ERROR, node_pos(node), path, "%s", msg);
	free(msg);
}

static const char *node_type_name(yaml_node_type_t t)
{
	switch (t) {
	case YAML_SCALAR_NODE: return _("a scalar");
	case YAML_SEQUENCE_NODE: return _("a list");
	case YAML_MAPPING_NODE: return _("a mapping");
	default: return _("nothing");
	}
}

static bool expect_type(struct loader *ld, yaml_node_t *node, yaml_node_type_t t,
			const char *path)
{
	if (node->type == t)
		return true;
	error_at(ld, node, path, _("%s must be %s, not %s"), path,
		 node_type_name(t), node_type_name(node->type));
	return false;
}

static const char *scalar(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

/* A plain empty, "~" or "null" scalar means "not set". */
static bool scalar_is_null(const yaml_node_t *node)
{
	const char *s = scalar(node);

	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static void *field_ptr(void *base, const struct schema_field *f)
{
	return (char *)base + f->offset;
}

static void handle_string(struct loader *ld, yaml_node_t *node, void *base,
			  const struct schema_field *f, const char *path)
{
	char **dst = field_ptr(base, f);

	(void)ld;
	(void)path;
	free(*dst);
	*dst = scalar_is_null(node) ? NULL : xstrdup(scalar(node));
}

static void handle_fixed(struct loader *ld, yaml_node_t *node, void *base,
			 const struct schema_field *f, const char *path)
{
	(void)base;
	if (strcmp(scalar(node), f->fixed) != 0)
		error_at(ld, node, path, _("%s must be \"%s\", not \"%s\""), path,
			 f->fixed, scalar(node));
}

static bool parse_bool(const char *s, bool *out)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
		*out = false;
		return true;
	}
	return false;
}

static void handle_bool(struct loader *ld, yaml_node_t *node, void *base,
			const struct schema_field *f, const char *path)
{
	if (!parse_bool(scalar(node), field_ptr(base, f)))
		error_at(ld, node, path, _("%s must be true or false, not \"%s\""),
			 path, scalar(node));
}

/* sudo is a tri-state int in host overrides (-1 = inherit). */
static void handle_tribool(struct loader *ld, yaml_node_t *node, void *base,
			   const struct schema_field *f, const char *path)
{
	bool b;

	if (!parse_bool(scalar(node), &b)) {
		error_at(ld, node, path, _("%s must be true or false, not \"%s\""),
			 path, scalar(node));
		return;
	}
	*(int *)field_ptr(base, f) = b;
}

/* s is a whole decimal number from lo to hi. */
static bool parse_in_range(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static void handle_port(struct loader *ld, yaml_node_t *node, void *base,
			const struct schema_field *f, const char *path)
{
	long v;

	if (!parse_in_range(scalar(node), 1, 65535, &v)) {
		error_at(ld, node, path,
			 _("%s must be a port number from 1 to 65535, not \"%s\""),
			 path, scalar(node));
		return;
	}
	*(int *)field_ptr(base, f) = (int)v;
}

static void handle_count(struct loader *ld, yaml_node_t *node, void *base,
			 const struct schema_field *f, const char *path)
{
	long v;

	if (!parse_in_range(scalar(node), 1, 1000, &v)) {
		error_at(ld, node, path, _("%s must be a number from 1 to 1000, not \"%s\""), path, scalar(node));
		return;
	}
	*(unsigned *)field_ptr(base, f) = (unsigned)v;
}

static void handle_duration(struct loader *ld, yaml_node_t *node, void *base,
			    const struct schema_field *f, const char *path)
{
	uint64_t v;

	if (!duration_parse(scalar(node), &v) || v == 0) {
		error_at(ld, node, path,
			 _("%s must be a positive duration such as 8760h or 365d, not \"%s\""),
			 path, scalar(node));
		return;
	}
	*(uint64_t *)field_ptr(base, f) = v;
}

static void handle_algorithm(struct loader *ld, yaml_node_t *node, void *base,
			     const struct schema_field *f, const char *path)
{
	if (!pki_algorithm_parse(scalar(node), field_ptr(base, f)))
		error_at(ld, node, path,
			 _("%s must be one of RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384, not \"%s\""),
			 path, scalar(node));
}

static void handle_strlist(struct loader *ld, yaml_node_t *node, void *base,
			   const struct schema_field *f, const char *path)
{
	struct strlist *dst = field_ptr(base, f);
	yaml_node_item_t *it;
	size_t i = 0;

	strlist_free(dst);
	for (it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++, i++) {
		yaml_node_t *item = yaml_document_get_node(&ld->doc, *it);
		char *ipath = xasprintf("%s[%zu]", path, i);

		remember_pos(ld, ipath, item);
		if (expect_type(ld, item, YAML_SCALAR_NODE, ipath))
			strlist_push(dst, scalar(item));
		free(ipath);
	}
}

static bool check_duplicate_key(struct loader *ld, yaml_node_t *map,
				 yaml_node_pair_t *pair, const char *path)
{
	yaml_node_t *key = yaml_document_get_node(&ld->doc, pair->key);

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair; p++) {
		yaml_node_t *other = yaml_document_get_node(&ld->doc, p->key);

		if (other->type == YAML_SCALAR_NODE &&
		    strcmp(scalar(other), scalar(key)) == 0) {
			error_at(ld, key, path,
				 _("duplicate key \"%s\" (first at line %lu)"),
				 scalar(key), (unsigned long)other->start_mark.line + 1);
			return true;
		}
	}
	return false;
}

/* A map of string to string (etcd.extraArgs, ssh.hostKeys). */
static void handle_kvlist(struct loader *ld, yaml_node_t *node, void *base,
			  const struct schema_field *f, const char *path)
{
	struct kvlist *dst = field_ptr(base, f);

	kvlist_free(dst);
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
	     p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&ld->doc, p->value);
		char *kpath;

		if (!expect_type(ld, k, YAML_SCALAR_NODE, path))
			continue;
		kpath = xasprintf("%s.%s", path, scalar(k));
		remember_pos(ld, kpath, k);
		if (!check_duplicate_key(ld, node, p, kpath) &&
		    expect_type(ld, v, YAML_SCALAR_NODE, kpath))
			kvlist_set(dst, scalar(k), scalar(v));
		free(kpath);
	}
}

static void load_mapping(struct loader *ld, yaml_node_t *node, void *base,
			 const struct schema_field *fields, const char *path);

static void handle_mapping(struct loader *ld, yaml_node_t *node, void *base,
			   const struct schema_field *f, const char *path)
{
	load_mapping(ld, node, field_ptr(base, f), f->children, path);
}

static const struct schema_field ssh_fields[] = {
	{ "user", YAML_SCALAR_NODE, handle_string, offsetof(struct ssh_settings, user), NULL, NULL, false },
	{ "port", YAML_SCALAR_NODE, handle_port, offsetof(struct ssh_settings, port), NULL, NULL, false },
	{ "identityFile", YAML_SCALAR_NODE, handle_string, offsetof(struct ssh_settings, identity_file), NULL, NULL, false },
	{ "knownHosts", YAML_SCALAR_NODE, handle_string, offsetof(struct ssh_settings, known_hosts), NULL, NULL, false },
	{ "sudo", YAML_SCALAR_NODE, handle_tribool, offsetof(struct ssh_settings, sudo), NULL, NULL, false },
	{ NULL, YAML_NO_NODE, NULL, 0, NULL, NULL, false },
};

/* The cluster-wide ssh block also pins host keys; hostKeys lives in struct
 * cluster, so it is handled with a cluster-relative offset below. */
static const struct schema_field member_fields[] = {
	{ "name", YAML_SCALAR_NODE, handle_string, offsetof(struct host, name), NULL, NULL, false },
	{ "address", YAML_SCALAR_NODE, handle_string, offsetof(struct host, address), NULL, NULL, false },
	{ "sshHost", YAML_SCALAR_NODE, handle_string, offsetof(struct host, ssh_host), NULL, NULL, false },
	{ "ssh", YAML_MAPPING_NODE, handle_mapping, offsetof(struct host, ssh), ssh_fields, NULL, false },
	{ "extraSANs", YAML_SEQUENCE_NODE, handle_strlist, offsetof(struct host, extra_sans), NULL, NULL, false },
	{ NULL, YAML_NO_NODE, NULL, 0, NULL, NULL, false },
};

/* Control-plane hosts have the same shape, without extraSANs. */
static const struct schema_field cp_host_fields[] = {
	{ "name", YAML_SCALAR_NODE, handle_string, offsetof(struct host, name), NULL, NULL, false },
	{ "address", YAML_SCALAR_NODE, handle_string, offsetof(struct host, address), NULL, NULL, false },
	{ "sshHost", YAML_SCALAR_NODE, handle_string, offsetof(struct host, ssh_host), NULL, NULL, false },
	{ "ssh", YAML_MAPPING_NODE, handle_mapping, offsetof(struct host, ssh), ssh_fields, NULL, false },
	{ NULL, YAML_NO_NODE, NULL, 0, NULL, NULL, false },
};

static void load_hosts(struct loader *ld, yaml_node_t *node, struct host **hosts,
		       size_t *n, const struct schema_field *fields, const char *path)
{
	size_t count = (size_t)(node->data.sequence.items.top -
				node->data.sequence.items.start);
	size_t i = 0;

	*hosts = xcalloc(count, sizeof **hosts);
	*n = 0;
	for (yaml_node_item_t *it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++, i++) {
		yaml_node_t *item = yaml_document_get_node(&ld->doc, *it);
		char *ipath = xasprintf("%s[%zu]", path, i);
		struct host *h = &(*hosts)[*n];

		remember_pos(ld, ipath, item);
		if (expect_type(ld, item, YAML_MAPPING_NODE, ipath)) {
			h->ssh.sudo = -1;
			h->pos = node_pos(item);
			load_mapping(ld, item, h, fields, ipath);
			(*n)++;
		}
		free(ipath);
	}
}

static void handle_members(struct loader *ld, yaml_node_t *node, void *base,
			   const struct schema_field *f, const char *path)
{
	struct cluster *c = base;

	(void)f;
	load_hosts(ld, node, &c->members, &c->n_members, member_fields, path);
}

static void handle_cp_hosts(struct loader *ld, yaml_node_t *node, void *base,
			    const struct schema_field *f, const char *path)
{
	struct cluster *c = base;

	(void)f;
	load_hosts(ld, node, &c->control_plane.hosts, &c->control_plane.n_hosts,
		   cp_host_fields, path);
}

static void handle_control_plane(struct loader *ld, yaml_node_t *node, void *base,
				 const struct schema_field *f, const char *path);

#define C_OFF(field) offsetof(struct cluster, field)

static const struct schema_field etcd_fields[] = {
	{ "version", YAML_SCALAR_NODE, handle_string, C_OFF(etcd.version), NULL, NULL, false },
	{ "image", YAML_SCALAR_NODE, handle_string, C_OFF(etcd.image), NULL, NULL, false },
	{ "dataDir", YAML_SCALAR_NODE, handle_string, C_OFF(etcd.data_dir), NULL, NULL, false },
	{ "clusterToken", YAML_SCALAR_NODE, handle_string, C_OFF(etcd.cluster_token), NULL, NULL, false },
	{ "etcdctlBinary", YAML_SCALAR_NODE, handle_string, C_OFF(etcd.etcdctl_binary), NULL, NULL, false },
	{ "extraArgs", YAML_MAPPING_NODE, handle_kvlist, C_OFF(etcd.extra_args), NULL, NULL, false },
	{ NULL, YAML_NO_NODE, NULL, 0, NULL, NULL, false },
};

static const struct schema_field backup_fields[] = {
	{ "schedule", YAML_SCALAR_NODE, handle_string, C_OFF(backup.schedule), NULL, NULL, false },
	{ "keep", YAML_SCALAR_NODE, handle_count, C_OFF(backup.keep), NULL, NULL, false },
	{ "dir", YAML_SCALAR_NODE, handle_string, C_OFF(backup.dir), NULL, NULL, false },
	{ NULL, YAML_NO_NODE, NULL, 0, NULL, NULL, false },
};

static const struct schema_field runtime_fields[] = {
	{ "kind", YAML_SCALAR_NODE, handle_string, C_OFF(runtime.kind), NULL, NULL, false },
	{ "version", YAML_SCALAR_NODE, handle_string, C_OFF(runtime.version), NULL, NULL, false },
	{ "install", YAML_SCALAR_NODE, handle_bool, C_OFF(runtime.install), NULL, NULL, false },
	{ NULL, YAML_NO_NODE, NULL, 0, NULL, NULL, false },
};

static const struct schema_field repositories_fields[] = {
	{ "kubernetes", YAML_SCALAR_NODE, handle_string, C_OFF(repositories.kubernetes), NULL, NULL, false },
	{ "crio", YAML_SCALAR_NODE, handle_string, C_OFF(repositories.crio), NULL, NULL, false },
	{ NULL, YAML_NO_NODE, NULL, 0, NULL, NULL, false },
};

static const struct schema_field pki_fields[] = {
	{ "algorithm", YAML_SCALAR_NODE, handle_algorithm, C_OFF(pki.algorithm), NULL, NULL, false },
	{ "caValidity", YAML_SCALAR_NODE, handle_duration, C_OFF(pki.ca_validity), NULL, NULL, false },
	{ "certValidity", YAML_SCALAR_NODE, handle_duration, C_OFF(pki.cert_validity), NULL, NULL, false },
	{ "caKeyOn", YAML_SEQUENCE_NODE, handle_strlist, C_OFF(pki.ca_key_on), NULL, NULL, false },
	{ "dir", YAML_SCALAR_NODE, handle_string, C_OFF(pki.dir), NULL, NULL, false },
	{ NULL, YAML_NO_NODE, NULL, 0, NULL, NULL, false },
};

static const struct schema_field cluster_ssh_fields[] = {
	{ "user", YAML_SCALAR_NODE, handle_string, C_OFF(ssh.user), NULL, NULL, false },
	{ "port", YAML_SCALAR_NODE, handle_port, C_OFF(ssh.port), NULL, NULL, false },
	{ "identityFile", YAML_SCALAR_NODE, handle_string, C_OFF(ssh.identity_file), NULL, NULL, false },
	{ "knownHosts", YAML_SCALAR_NODE, handle_string, C_OFF(ssh.known_hosts), NULL, NULL, false },
	{ "sudo", YAML_SCALAR_NODE, handle_tribool, C_OFF(ssh.sudo), NULL, NULL, false },
	{ "hostKeys", YAML_MAPPING_NODE, handle_kvlist, C_OFF(host_keys), NULL, NULL, false },
	{ NULL, YAML_NO_NODE, NULL, 0, NULL, NULL, false },
};

static const struct schema_field control_plane_fields[] = {
	{ "endpoint", YAML_SCALAR_NODE, handle_string, C_OFF(control_plane.endpoint), NULL, NULL, false },
	{ "podSubnet", YAML_SCALAR_NODE, handle_string, C_OFF(control_plane.pod_subnet), NULL, NULL, false },
	{ "certSANs", YAML_SEQUENCE_NODE, handle_strlist, C_OFF(control_plane.cert_sans), NULL, NULL, false },
	{ "hosts", YAML_SEQUENCE_NODE, handle_cp_hosts, 0, NULL, NULL, false },
	{ NULL, YAML_NO_NODE, NULL, 0, NULL, NULL, false },
};

/* Nested blocks of struct cluster use offsets from the cluster itself, so
 * their handler is given the cluster as base (offset 0). */
static const struct schema_field cluster_fields[] = {
	{ "apiVersion", YAML_SCALAR_NODE, handle_fixed, 0, NULL, CLUSTER_API_VERSION, true },
	{ "kind", YAML_SCALAR_NODE, handle_fixed, 0, NULL, CLUSTER_KIND, true },
	{ "name", YAML_SCALAR_NODE, handle_string, C_OFF(name), NULL, NULL, false },
	{ "kubernetesVersion", YAML_SCALAR_NODE, handle_string, C_OFF(kubernetes_version), NULL, NULL, false },
	{ "etcd", YAML_MAPPING_NODE, handle_mapping, 0, etcd_fields, NULL, false },
	{ "backup", YAML_MAPPING_NODE, handle_mapping, 0, backup_fields, NULL, false },
	{ "runtime", YAML_MAPPING_NODE, handle_mapping, 0, runtime_fields, NULL, false },
	{ "repositories", YAML_MAPPING_NODE, handle_mapping, 0, repositories_fields, NULL, false },
	{ "pki", YAML_MAPPING_NODE, handle_mapping, 0, pki_fields, NULL, false },
	{ "ssh", YAML_MAPPING_NODE, handle_mapping, 0, cluster_ssh_fields, NULL, false },
	{ "members", YAML_SEQUENCE_NODE, handle_members, 0, NULL, NULL, false },
	{ "controlPlane", YAML_MAPPING_NODE, handle_control_plane, 0, control_plane_fields, NULL, false },
	{ NULL, YAML_NO_NODE, NULL, 0, NULL, NULL, false },
};

static void handle_control_plane(struct loader *ld, yaml_node_t *node, void *base,
				 const struct schema_field *f, const char *path)
{
	struct cluster *c = base;

	c->control_plane.present = true;
	load_mapping(ld, node, base, f->children, path);
}

static bool is_secret_key(const char *key)
{
	static const char *const secrets[] = { "password", "passphrase",
					       "sudoPassword", "privateKey", NULL };

	for (size_t i = 0; secrets[i]; i++)
		if (strcasecmp(key, secrets[i]) == 0)
			return true;
	return false;
}

static void load_mapping(struct loader *ld, yaml_node_t *node, void *base,
			 const struct schema_field *fields, const char *path)
{
	bool *seen;
	size_t nfields = 0;

	while (fields[nfields].key)
		nfields++;
	seen = xcalloc(nfields, sizeof *seen);

	for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
	     p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&ld->doc, p->value);
		const struct schema_field *f = NULL;
		char *kpath;

		if (k->type != YAML_SCALAR_NODE) {
			error_at(ld, k, path, _("keys in %s must be plain names"),
				 path[0] ? path : _("the cluster file"));
			continue;
		}
		kpath = path[0] ? xasprintf("%s.%s", path, scalar(k))
				: xstrdup(scalar(k));
		if (check_duplicate_key(ld, node, p, kpath))
			goto next;
		for (size_t i = 0; i < nfields; i++) {
			if (strcmp(fields[i].key, scalar(k)) == 0) {
				f = &fields[i];
				seen[i] = true;
				break;
			}
		}
		if (f == NULL) {
			if (is_secret_key(scalar(k)))
				error_at(ld, k, kpath,
					 _("\"%s\" is not allowed: passwords and passphrases never go into the cluster file; etcdwiz asks for them when it connects"),
					 scalar(k));
			else
				error_at(ld, k, kpath, _("unknown key \"%s\" in %s"),
					 scalar(k), path[0] ? path : _("the cluster file"));
			goto next;
		}
		remember_pos(ld, kpath, v);
		/* An empty value for an optional scalar simply leaves the default. */
		if (v->type == YAML_SCALAR_NODE && f->type != YAML_SCALAR_NODE &&
		    scalar_is_null(v))
			goto next;
		if (v->type == YAML_SCALAR_NODE && f->type == YAML_SCALAR_NODE &&
		    scalar_is_null(v) && f->handle != handle_string) {
			error_at(ld, v, kpath, _("%s needs a value"), kpath);
			goto next;
		}
		if (expect_type(ld, v, f->type, kpath))
			f->handle(ld, v, base, f, kpath);
next:
		free(kpath);
	}
	for (size_t i = 0; i < nfields; i++) {
		if (fields[i].required && !seen[i])
			error_at(ld, node, path,
				 _("missing required key \"%s\"%s%s"), fields[i].key,
				 path[0] ? _(" in ") : "", path);
	}
	free(seen);
}

static void report_parser_error(struct loader *ld, const yaml_parser_t *parser)
{
	struct diag_pos pos = { (unsigned)parser->problem_mark.line + 1,
				(unsigned)parser->problem_mark.column + 1 };

	if (parser->error == YAML_MEMORY_ERROR)
		diag_add(ld->diags, DIAG_ERROR, pos, NULL, _("out of memory"));
	else if (parser->context)
		diag_add(ld->diags, DIAG_ERROR, pos, NULL, _("YAML syntax: %s %s"),
			 parser->problem ? parser->problem : "", parser->context);
	else
		diag_add(ld->diags, DIAG_ERROR, pos, NULL, _("YAML syntax: %s"),
			 parser->problem ? parser->problem : _("unknown error"));
}

/* Validation messages carry a key path; give them the position of that key
 * (or of the nearest enclosing one). */
static void resolve_positions(struct loader *ld, size_t from)
{
	for (size_t i = from; i < ld->diags->n; i++) {
		struct diag *d = &ld->diags->items[i];
		char *path;

		if (d->pos.line != 0 || d->path == NULL)
			continue;
		path = xstrdup(d->path);
		while (path[0] && d->pos.line == 0) {
			char *cut;

			for (size_t j = 0; j < ld->n_positions; j++) {
				if (strcmp(ld->positions[j].path, path) == 0) {
					d->pos = ld->positions[j].pos;
					break;
				}
			}
			cut = strrchr(path, '.');
			if (strrchr(path, '[') > cut)
				cut = strrchr(path, '[');
			if (cut == NULL)
				break;
			*cut = '\0';
		}
		if (d->pos.line == 0)
			d->pos = ld->root_pos;
		free(path);
	}
}

static int diag_cmp(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;
	unsigned xl = x->pos.line ? x->pos.line : ~0u;
	unsigned yl = y->pos.line ? y->pos.line : ~0u;

	if (xl != yl)
		return xl < yl ? -1 : 1;
	if (x->pos.col != y->pos.col)
		return x->pos.col < y->pos.col ? -1 : 1;
	return 0;
}

enum wiz_err cluster_load_string(const char *name, const char *yaml, size_t len,
				 struct cluster *c, struct diag_list *diags)
{
	yaml_parser_t parser;
	struct loader ld = { .diags = diags };
	yaml_node_t *root;
	size_t before = diags->n, validate_from;
	bool have_doc = false;

	cluster_init(c, NULL);
	c->file = xstrdup(name);
	if (!yaml_parser_initialize(&parser)) {
		struct diag_pos none = { 0, 0 };

		diag_add(diags, DIAG_ERROR, none, NULL, _("out of memory"));
		return WIZ_ERR_PARSE;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &ld.doc)) {
		report_parser_error(&ld, &parser);
		goto out;
	}
	have_doc = true;
	root = yaml_document_get_root_node(&ld.doc);
	if (root == NULL) {
		struct diag_pos first = { 1, 1 };

		diag_add(diags, DIAG_ERROR, first, NULL,
			 _("the file is empty; a cluster file starts with \"apiVersion: %s\""),
			 CLUSTER_API_VERSION);
		goto out;
	}
	if (!expect_type(&ld, root, YAML_MAPPING_NODE, _("the cluster file")))
		goto out;
	{
		/* A second document would be silently ignored: refuse it. */
		yaml_document_t extra;

		if (yaml_parser_load(&parser, &extra)) {
			yaml_node_t *r2 = yaml_document_get_root_node(&extra);

			if (r2 != NULL)
				error_at(&ld, r2, NULL,
					 _("only one YAML document is allowed in a cluster file"));
			yaml_document_delete(&extra);
		}
	}
	ld.root_pos = node_pos(root);
	load_mapping(&ld, root, c, cluster_fields, "");
	validate_from = diags->n;
	cluster_validate(c, diags);
	resolve_positions(&ld, validate_from);
out:
	if (diags->n > before)
		qsort(diags->items + before, diags->n - before, sizeof *diags->items, diag_cmp);
	if (have_doc)
		yaml_document_delete(&ld.doc);
	yaml_parser_delete(&parser);
	for (size_t i = 0; i < ld.n_positions; i++)
		free(ld.positions[i].path);
	free(ld.positions);
	for (size_t i = before; i < diags->n; i++)
		if (diags->items[i].severity == DIAG_ERROR)
			return WIZ_ERR_INVALID;
	return WIZ_ERR_OK;
}

enum wiz_err cluster_load(const char *path, struct cluster *c,
			  struct diag_list *diags)
{
	struct wiz_error err;
	char *data;
	size_t len;
	enum wiz_err rc;

	rc = wiz_read_file(path, CLUSTER_FILE_MAX, &data, &len, &err);
	if (rc != WIZ_ERR_OK) {
		struct diag_pos none = { 0, 0 };

		cluster_init(c, NULL);
		c->file = xstrdup(path);
		diag_add(diags, DIAG_ERROR, none, NULL, "%s", err.msg);
		return rc;
	}
	rc = cluster_load_string(path, data, len, c, diags);
	free(data);
	return rc;
}
