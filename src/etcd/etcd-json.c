/* etcd's JSON responses through libyaml's document API, walked by static
 * schema tables with offsetof (as cluster-load.c walks the cluster file). */
#include "config.h"

#include "etcd/etcd-json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/i18n.h"
#include "base/xmalloc.h"

enum field_kind { F_U64, F_STR, F_BOOL, F_STRLIST, F_HEADER };

struct json_field {
	const char *key;
	enum field_kind kind;
	size_t offset;
};

struct json_ctx {
	yaml_document_t doc;
	const char *what;	/* "/v3/maintenance/status" for messages */
	struct wiz_error *err;
};

static const char *const alarm_names[] = {
#define ETCD_ALARM_NAME(id, name) name,
	ETCD_ALARM_INFO(ETCD_ALARM_NAME)
#undef ETCD_ALARM_NAME
};

const char *etcd_alarm_name(enum etcd_alarm_type t)
{
	return (unsigned)t < ETCD_ALARM_COUNT ? alarm_names[t] : "?";
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static enum wiz_err bad(struct json_ctx *c, const char *key, const char *want)
{
	return wiz_error_set(c->err, WIZ_ERR_PARSE,
			     _("%s: field \"%s\" is not %s"), c->what, key, want);
}

/* uint64 arrives as a JSON string ("8258189955957733330"); a plain number
 * is accepted too (what a proxy that re-encodes JSON would send). */
static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

static enum wiz_err walk(struct json_ctx *c, yaml_node_t *map,
			 const struct json_field *fields, void *base);

static const struct json_field header_fields[] = {
	{ "cluster_id", F_U64, offsetof(struct etcd_header, cluster_id) },
	{ "member_id", F_U64, offsetof(struct etcd_header, member_id) },
	{ "revision", F_U64, offsetof(struct etcd_header, revision) },
	{ "raft_term", F_U64, offsetof(struct etcd_header, raft_term) },
	{ NULL, F_U64, 0 },
};

static enum wiz_err set_field(struct json_ctx *c, const struct json_field *f,
			      yaml_node_t *v, void *base)
{
	void *dst = (char *)base + f->offset;

	switch (f->kind) {
	case F_U64:
		if (v->type != YAML_SCALAR_NODE || !parse_u64(scalar(v), dst))
			return bad(c, f->key, _("an unsigned 64-bit number"));
		return WIZ_ERR_OK;
	case F_STR:
		if (v->type != YAML_SCALAR_NODE)
			return bad(c, f->key, _("a string"));
		free(*(char **)dst);
		*(char **)dst = xstrdup(scalar(v));
		return WIZ_ERR_OK;
	case F_BOOL:
		/* A JSON true/false is a plain scalar; "true" quoted is a
		 * string in JSON, but /health sends exactly that. */
		if (v->type != YAML_SCALAR_NODE)
			return bad(c, f->key, _("true or false"));
		if (strcmp(scalar(v), "true") == 0)
			*(bool *)dst = true;
		else if (strcmp(scalar(v), "false") == 0)
			*(bool *)dst = false;
		else
			return bad(c, f->key, _("true or false"));
		return WIZ_ERR_OK;
	case F_STRLIST:
		if (v->type != YAML_SEQUENCE_NODE)
			return bad(c, f->key, _("a list of strings"));
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *item = yaml_document_get_node(&c->doc, *it);

			if (item == NULL || item->type != YAML_SCALAR_NODE)
				return bad(c, f->key, _("a list of strings"));
			strlist_push(dst, scalar(item));
		}
		return WIZ_ERR_OK;
	case F_HEADER:
		if (v->type != YAML_MAPPING_NODE)
			return bad(c, f->key, _("an object"));
		return walk(c, v, header_fields, dst);
	}
	return WIZ_ERR_OK;
}

/* Fill base from the mapping by the table; unknown keys are skipped. */
static enum wiz_err walk(struct json_ctx *c, yaml_node_t *map,
			 const struct json_field *fields, void *base)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&c->doc, p->value);

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
			continue;
		for (const struct json_field *f = fields; f->key != NULL; f++) {
			if (strcmp(f->key, scalar(k)) == 0) {
				enum wiz_err rc = set_field(c, f, v, base);

				if (rc != WIZ_ERR_OK)
					return rc;
				break;
			}
		}
	}
	return WIZ_ERR_OK;
}

static yaml_node_t *lookup(struct json_ctx *c, yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&c->doc, p->key);

		if (k != NULL && k->type == YAML_SCALAR_NODE && strcmp(scalar(k), key) == 0)
			return yaml_document_get_node(&c->doc, p->value);
	}
	return NULL;
}

/* Load the document; its root must be an object. */
static enum wiz_err load(struct json_ctx *c, const char *what, const char *buf,
			 size_t len, struct wiz_error *err, yaml_node_t **root)
{
	yaml_parser_t parser;
	bool ok;

	*root = NULL;
	c->what = what;
	c->err = err;
	if (len > ETCD_JSON_MAX) {
		wiz_error_set(err, WIZ_ERR_PARSE, _("%s: response too large (%zu bytes)"), what, len);
		return WIZ_ERR_PARSE;
	}
	if (!yaml_parser_initialize(&parser)) {
		wiz_error_set(err, WIZ_ERR_PARSE, _("%s: cannot start the JSON parser"), what);
		return WIZ_ERR_PARSE;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	ok = yaml_parser_load(&parser, &c->doc) != 0;
	if (!ok) {
		wiz_error_set(err, WIZ_ERR_PARSE, _("%s: malformed JSON at line %zu column %zu: %s"),
			      what, parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			      parser.problem ? parser.problem : "?");
		yaml_parser_delete(&parser);
		return WIZ_ERR_PARSE;
	}
	yaml_parser_delete(&parser);
	*root = yaml_document_get_root_node(&c->doc);
	if (*root == NULL || (*root)->type != YAML_MAPPING_NODE) {
		yaml_document_delete(&c->doc);
		*root = NULL;
		wiz_error_set(err, WIZ_ERR_PARSE, _("%s: the response is not a JSON object"), what);
		return WIZ_ERR_PARSE;
	}
	return WIZ_ERR_OK;
}

static const struct json_field status_fields[] = {
	{ "header", F_HEADER, offsetof(struct etcd_status, header) },
	{ "version", F_STR, offsetof(struct etcd_status, version) },
	{ "dbSize", F_U64, offsetof(struct etcd_status, db_size) },
	{ "dbSizeInUse", F_U64, offsetof(struct etcd_status, db_size_in_use) },
	{ "leader", F_U64, offsetof(struct etcd_status, leader) },
	{ "raftIndex", F_U64, offsetof(struct etcd_status, raft_index) },
	{ "raftTerm", F_U64, offsetof(struct etcd_status, raft_term) },
	{ "raftAppliedIndex", F_U64, offsetof(struct etcd_status, raft_applied_index) },
	{ "isLearner", F_BOOL, offsetof(struct etcd_status, is_learner) },
	{ "errors", F_STRLIST, offsetof(struct etcd_status, errors) },
	{ NULL, F_U64, 0 },
};

enum wiz_err etcd_json_parse_status(const char *buf, size_t len,
				    struct etcd_status *out,
				    struct wiz_error *err)
{
	struct json_ctx c;
	yaml_node_t *root = NULL;
	enum wiz_err rc;

	memset(out, 0, sizeof *out);
	rc = load(&c, "/v3/maintenance/status", buf, len, err, &root);
	if (rc != WIZ_ERR_OK)
		goto out;
	rc = walk(&c, root, status_fields, out);
	yaml_document_delete(&c.doc);
out:
	if (out->version == NULL)
		out->version = xstrdup("");
	return rc;
}

static const struct json_field member_fields[] = {
	{ "ID", F_U64, offsetof(struct etcd_member, id) },
	{ "name", F_STR, offsetof(struct etcd_member, name) },
	{ "peerURLs", F_STRLIST, offsetof(struct etcd_member, peer_urls) },
	{ "clientURLs", F_STRLIST, offsetof(struct etcd_member, client_urls) },
	{ "isLearner", F_BOOL, offsetof(struct etcd_member, is_learner) },
	{ NULL, F_U64, 0 },
};

static const struct json_field list_header_fields[] = {
	{ "header", F_HEADER, 0 },
	{ NULL, F_U64, 0 },
};

/* Each object of root[key] through fields into a new array element. */
static enum wiz_err walk_array(struct json_ctx *c, yaml_node_t *root, const char *key,
			       const struct json_field *fields, size_t elem_size,
			       void **array, size_t *n)
{
	yaml_node_t *seq = lookup(c, root, key);

	if (seq == NULL)
		return WIZ_ERR_OK;	/* omitted: empty */
	if (seq->type != YAML_SEQUENCE_NODE)
		return bad(c, key, _("a list"));
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(&c->doc, *it);
		void *elem;
		enum wiz_err rc;

		if (item == NULL || item->type != YAML_MAPPING_NODE)
			return bad(c, key, _("a list of objects"));
		*array = xreallocarray(*array, *n + 1, elem_size);
		elem = (char *)*array + *n * elem_size;
		memset(elem, 0, elem_size);
		(*n)++;
		rc = walk(c, item, fields, elem);
		if (rc != WIZ_ERR_OK)
			return rc;
	}
	return WIZ_ERR_OK;
}

/* The gateway's error body, as read; "error" is 3.4's copy of message. */
struct etcd_error_raw {
	uint64_t code;
	char *message;
	char *error;
};

/* root's header and members[] (names never NULL after). */
static enum wiz_err walk_members(struct json_ctx *c, yaml_node_t *root, struct etcd_member_list *out)
{
	void *arr = NULL;
	enum wiz_err rc = walk(c, root, list_header_fields, &out->header);

	if (rc == WIZ_ERR_OK)
		rc = walk_array(c, root, "members", member_fields, sizeof(struct etcd_member),
				&arr, &out->n_members);
	out->members = arr;
	for (size_t i = 0; out->members != NULL && i < out->n_members; i++)
		if (out->members[i].name == NULL)
			out->members[i].name = xstrdup("");
	return rc;
}

enum wiz_err etcd_json_parse_members_after(const char *what, const char *buf, size_t len,
					   struct etcd_member_list *out,
					   struct wiz_error *err)
{
	struct json_ctx c;
	yaml_node_t *root = NULL;
	enum wiz_err rc;

	memset(out, 0, sizeof *out);
	rc = load(&c, what, buf, len, err, &root);
	if (rc != WIZ_ERR_OK)
		return rc;
	rc = walk_members(&c, root, out);
	yaml_document_delete(&c.doc);
	return rc;
}

enum wiz_err etcd_json_parse_member_list(const char *buf, size_t len,
					 struct etcd_member_list *out,
					 struct wiz_error *err)
{
	return etcd_json_parse_members_after("/v3/cluster/member/list", buf, len, out, err);
}

enum wiz_err etcd_json_parse_member_add(const char *buf, size_t len,
					struct etcd_member_add *out,
					struct wiz_error *err)
{
	static const char what[] = "/v3/cluster/member/add";
	struct json_ctx c;
	yaml_node_t *root = NULL, *m;
	enum wiz_err rc;

	memset(out, 0, sizeof *out);
	rc = load(&c, what, buf, len, err, &root);
	if (rc != WIZ_ERR_OK)
		goto out;
	m = lookup(&c, root, "member");
	if (m == NULL)
		rc = wiz_error_set(err, WIZ_ERR_PARSE, _("%s: field \"%s\" is missing"), what, "member");
	else if (m->type != YAML_MAPPING_NODE)
		rc = bad(&c, "member", _("an object"));
	else
		rc = walk(&c, m, member_fields, &out->member);
	if (rc == WIZ_ERR_OK)
		rc = walk_members(&c, root, &out->list);
	if (rc == WIZ_ERR_OK && out->member.id == 0)
		rc = wiz_error_set(err, WIZ_ERR_PARSE, _("%s: field \"%s\" is missing"), what, "member.ID");
	out->header = out->list.header;
	yaml_document_delete(&c.doc);
out:
	if (out->member.name == NULL)
		out->member.name = xstrdup("");
	return rc;
}

enum wiz_err etcd_json_parse_error(const char *buf, size_t len, struct etcd_error *out,
				   struct wiz_error *err)
{
	static const struct json_field error_fields[] = {
		{ "code", F_U64, offsetof(struct etcd_error_raw, code) },
		{ "message", F_STR, offsetof(struct etcd_error_raw, message) },
		{ "error", F_STR, offsetof(struct etcd_error_raw, error) },
		{ NULL, F_U64, 0 },
	};
	struct etcd_error_raw raw = { 0 };
	struct json_ctx c;
	yaml_node_t *root = NULL;
	enum wiz_err rc;

	memset(out, 0, sizeof *out);
	rc = load(&c, "etcd's error", buf, len, err, &root);
	if (rc == WIZ_ERR_OK) {
		rc = walk(&c, root, error_fields, &raw);
		yaml_document_delete(&c.doc);
	}
	out->code = raw.code <= 64 ? (int)raw.code : -1;
	out->message = xstrdup(raw.message && raw.message[0] ? raw.message : raw.error ? raw.error : "");
	free(raw.message);
	free(raw.error);
	return rc;
}

static const struct json_field snapshot_result_fields[] = {
	{ "remaining_bytes", F_U64, offsetof(struct etcd_snapshot_line, remaining_bytes) },
	{ "blob", F_STR, offsetof(struct etcd_snapshot_line, blob) },
	{ NULL, F_U64, 0 },
};

enum wiz_err etcd_json_parse_snapshot_line(const char *buf, size_t len,
					   struct etcd_snapshot_line *out,
					   struct wiz_error *err)
{
	static const char what[] = "/v3/maintenance/snapshot";
	static const struct json_field error_fields[] = {
		{ "code", F_U64, offsetof(struct etcd_error_raw, code) },
		{ "grpc_code", F_U64, offsetof(struct etcd_error_raw, code) },
		{ "message", F_STR, offsetof(struct etcd_error_raw, message) },
		{ "error", F_STR, offsetof(struct etcd_error_raw, error) },
		{ NULL, F_U64, 0 },
	};
	struct etcd_error_raw raw = { 0 };
	struct json_ctx c;
	yaml_node_t *root = NULL, *n;
	enum wiz_err rc;

	memset(out, 0, sizeof *out);
	if (len > ETCD_SNAPSHOT_LINE_MAX) {
		rc = wiz_error_set(err, WIZ_ERR_PARSE, _("%s: a line of %zu bytes is too long"), what, len);
		goto out;
	}
	rc = load(&c, what, buf, len, err, &root);
	if (rc != WIZ_ERR_OK)
		goto out;
	if ((n = lookup(&c, root, "result")) != NULL) {
		rc = n->type == YAML_MAPPING_NODE ? walk(&c, n, snapshot_result_fields, out)
						  : bad(&c, "result", _("an object"));
	} else if ((n = lookup(&c, root, "error")) != NULL) {
		out->is_error = true;
		rc = n->type == YAML_MAPPING_NODE ? walk(&c, n, error_fields, &raw)
						  : bad(&c, "error", _("an object"));
	} else {
		rc = wiz_error_set(err, WIZ_ERR_PARSE, _("%s: a line with neither result nor error"), what);
	}
	yaml_document_delete(&c.doc);
out:
	if (out->blob == NULL)
		out->blob = xstrdup("");
	out->error.code = raw.code <= 64 ? (int)raw.code : -1;
	out->error.message = xstrdup(raw.message && raw.message[0] ? raw.message : raw.error ? raw.error : "");
	free(raw.message);
	free(raw.error);
	return rc;
}

void etcd_snapshot_line_free(struct etcd_snapshot_line *l)
{
	free(l->blob);
	etcd_error_free(&l->error);
	memset(l, 0, sizeof *l);
}

/* The alarm is an enum name in JSON ("NOSPACE"); NONE is omitted. */
struct alarm_raw {
	uint64_t member_id;
	char *alarm;
};

static const struct json_field alarm_fields[] = {
	{ "memberID", F_U64, offsetof(struct alarm_raw, member_id) },
	{ "alarm", F_STR, offsetof(struct alarm_raw, alarm) },
	{ NULL, F_U64, 0 },
};

enum wiz_err etcd_json_parse_alarms(const char *buf, size_t len,
				    struct etcd_alarm_list *out,
				    struct wiz_error *err)
{
	struct json_ctx c;
	yaml_node_t *root = NULL;
	void *arr = NULL;
	size_t n = 0;
	struct alarm_raw *raw;
	enum wiz_err rc;

	memset(out, 0, sizeof *out);
	rc = load(&c, "/v3/maintenance/alarm", buf, len, err, &root);
	if (rc != WIZ_ERR_OK)
		return rc;
	rc = walk(&c, root, list_header_fields, &out->header);
	if (rc == WIZ_ERR_OK)
		rc = walk_array(&c, root, "alarms", alarm_fields, sizeof(struct alarm_raw), &arr, &n);
	raw = arr;
	out->alarms = xcalloc(n ? n : 1, sizeof *out->alarms);
	for (size_t i = 0; i < n; i++) {
		enum etcd_alarm_type t = ETCD_ALARM_UNKNOWN;

		if (raw[i].alarm == NULL)
			t = ETCD_ALARM_NONE;
		else
			for (int k = 0; k < ETCD_ALARM_COUNT; k++)
				if (strcmp(raw[i].alarm, alarm_names[k]) == 0)
					t = (enum etcd_alarm_type)k;
		out->alarms[i].member_id = raw[i].member_id;
		out->alarms[i].type = t;
		free(raw[i].alarm);
	}
	out->n_alarms = n;
	free(raw);
	yaml_document_delete(&c.doc);
	return rc;
}

static const struct json_field version_fields[] = {
	{ "etcdserver", F_STR, offsetof(struct etcd_version, server) },
	{ "etcdcluster", F_STR, offsetof(struct etcd_version, cluster) },
	{ NULL, F_U64, 0 },
};

enum wiz_err etcd_json_parse_version(const char *buf, size_t len,
				     struct etcd_version *out,
				     struct wiz_error *err)
{
	struct json_ctx c;
	yaml_node_t *root = NULL;
	enum wiz_err rc;

	memset(out, 0, sizeof *out);
	rc = load(&c, "/version", buf, len, err, &root);
	if (rc == WIZ_ERR_OK) {
		rc = walk(&c, root, version_fields, out);
		yaml_document_delete(&c.doc);
	}
	if (rc == WIZ_ERR_OK && out->server == NULL)
		rc = wiz_error_set(err, WIZ_ERR_PARSE, _("%s: field \"%s\" is missing"),
				   "/version", "etcdserver");
	if (out->server == NULL)
		out->server = xstrdup("");
	if (out->cluster == NULL)
		out->cluster = xstrdup("");
	return rc;
}

static const struct json_field health_fields[] = {
	{ "health", F_BOOL, offsetof(struct etcd_health, healthy) },
	{ "reason", F_STR, offsetof(struct etcd_health, reason) },
	{ NULL, F_U64, 0 },
};

enum wiz_err etcd_json_parse_health(const char *buf, size_t len,
				    struct etcd_health *out,
				    struct wiz_error *err)
{
	struct json_ctx c;
	yaml_node_t *root = NULL;
	enum wiz_err rc;

	memset(out, 0, sizeof *out);
	rc = load(&c, "/health", buf, len, err, &root);
	if (rc == WIZ_ERR_OK) {
		if (lookup(&c, root, "health") == NULL)
			rc = wiz_error_set(err, WIZ_ERR_PARSE, _("%s: field \"%s\" is missing"),
					   "/health", "health");
		else
			rc = walk(&c, root, health_fields, out);
		yaml_document_delete(&c.doc);
	}
	if (out->reason == NULL)
		out->reason = xstrdup("");
	return rc;
}

void etcd_status_free(struct etcd_status *s)
{
	free(s->version);
	strlist_free(&s->errors);
	memset(s, 0, sizeof *s);
}

void etcd_status_copy(struct etcd_status *dst, const struct etcd_status *src)
{
	*dst = *src;
	dst->version = xstrdup(src->version ? src->version : "");
	memset(&dst->errors, 0, sizeof dst->errors);
	for (size_t i = 0; i < src->errors.n; i++)
		strlist_push(&dst->errors, src->errors.items[i]);
}

void etcd_member_list_free(struct etcd_member_list *l)
{
	for (size_t i = 0; i < l->n_members; i++) {
		free(l->members[i].name);
		strlist_free(&l->members[i].peer_urls);
		strlist_free(&l->members[i].client_urls);
	}
	free(l->members);
	memset(l, 0, sizeof *l);
}

void etcd_member_add_free(struct etcd_member_add *a)
{
	free(a->member.name);
	strlist_free(&a->member.peer_urls);
	strlist_free(&a->member.client_urls);
	etcd_member_list_free(&a->list);
	memset(a, 0, sizeof *a);
}

void etcd_error_free(struct etcd_error *e)
{
	free(e->message);
	memset(e, 0, sizeof *e);
}

void etcd_alarm_list_free(struct etcd_alarm_list *l)
{
	free(l->alarms);
	memset(l, 0, sizeof *l);
}

void etcd_version_free(struct etcd_version *v)
{
	free(v->server);
	free(v->cluster);
	memset(v, 0, sizeof *v);
}

void etcd_health_free(struct etcd_health *h)
{
	free(h->reason);
	memset(h, 0, sizeof *h);
}
