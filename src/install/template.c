#include "config.h"

#include "install/template.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "base/yaml-emit.h"

struct embedded_template {
	const char *name;
	const unsigned char *data;
	size_t len;
};
extern const struct embedded_template embedded_templates[];

void template_vars_init(struct template_vars *v)
{
	memset(v, 0, sizeof *v);
}

void template_vars_free(struct template_vars *v)
{
	kvlist_free(&v->values);
	for (size_t i = 0; i < v->n_lists; i++) {
		free(v->lists[i].name);
		strlist_free(&v->lists[i].items);
	}
	free(v->lists);
	template_vars_init(v);
}

void template_set(struct template_vars *v, const char *name, const char *value)
{
	kvlist_set(&v->values, name, value);
}

static const struct strlist *list_get(const struct template_vars *v, const char *name)
{
	for (size_t i = 0; i < v->n_lists; i++)
		if (strcmp(v->lists[i].name, name) == 0)
			return &v->lists[i].items;
	return NULL;
}

void template_list_add(struct template_vars *v, const char *name, const char *item)
{
	for (size_t i = 0; i < v->n_lists; i++) {
		if (strcmp(v->lists[i].name, name) == 0) {
			strlist_push(&v->lists[i].items, item);
			return;
		}
	}
	v->lists = xreallocarray(v->lists, v->n_lists + 1, sizeof *v->lists);
	v->lists[v->n_lists].name = xstrdup(name);
	memset(&v->lists[v->n_lists].items, 0, sizeof v->lists[v->n_lists].items);
	strlist_push(&v->lists[v->n_lists].items, item);
	v->n_lists++;
}

const char *template_source(const char *name, size_t *len)
{
	for (size_t i = 0; embedded_templates[i].name; i++) {
		if (strcmp(embedded_templates[i].name, name) == 0) {
			if (len)
				*len = embedded_templates[i].len;
			return (const char *)embedded_templates[i].data;
		}
	}
	return NULL;
}

/* Replace every {{name}} in s; NULL (and err set) on an unknown name. */
static char *substitute(const char *tmpl, const char *s, const struct template_vars *v,
			bool single_line, struct wiz_error *err)
{
	size_t cap = strlen(s) + 64, len = 0;
	char *out = xmalloc(cap);

	while (*s) {
		const char *open = strstr(s, "{{");
		const char *close;
		const char *value;
		size_t chunk, vlen;
		char *name;

		chunk = open ? (size_t)(open - s) : strlen(s);
		if (len + chunk + 1 > cap) {
			cap = (len + chunk + 1) * 2;
			out = xreallocarray(out, cap, 1);
		}
		memcpy(out + len, s, chunk);
		len += chunk;
		if (open == NULL)
			break;
		close = strstr(open, "}}");
		if (close == NULL) {
			wiz_error_set(err, WIZ_ERR_INVALID, _("template %s: unclosed {{"), tmpl);
			goto fail;
		}
		name = xstrndup(open + 2, (size_t)(close - open - 2));
		value = kvlist_get(&v->values, name);
		if (value == NULL) {
			wiz_error_set(err, WIZ_ERR_INVALID, _("template %s: no value for {{%s}}"),
				      tmpl, name);
			free(name);
			goto fail;
		}
		if (single_line && strchr(value, '\n') != NULL) {
			wiz_error_set(err, WIZ_ERR_INVALID,
				      _("template %s: the value of {{%s}} contains a line break"),
				      tmpl, name);
			free(name);
			goto fail;
		}
		free(name);
		vlen = strlen(value);
		if (len + vlen + 1 > cap) {
			cap = (len + vlen + 1) * 2;
			out = xreallocarray(out, cap, 1);
		}
		memcpy(out + len, value, vlen);
		len += vlen;
		s = close + 2;
	}
	out[len] = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

enum wiz_err template_render_text(const char *name, const struct template_vars *v,
				  char **out, struct wiz_error *err)
{
	const char *src = template_source(name, NULL);

	*out = NULL;
	if (src == NULL)
		return wiz_error_set(err, WIZ_ERR_NOTFOUND, _("no template named %s"), name);
	*out = substitute(name, src, v, true, err);
	return *out ? WIZ_ERR_OK : WIZ_ERR_INVALID;
}

/* "{{x}}" exactly -> "x" (caller frees), else NULL. */
static char *whole_var(const char *s, char sigil)
{
	size_t len = strlen(s);
	size_t skip = sigil ? 3 : 2;

	if (len < skip + 3 || strncmp(s, "{{", 2) != 0 || strcmp(s + len - 2, "}}") != 0)
		return NULL;
	if (sigil && s[2] != sigil)
		return NULL;
	if (!sigil && (s[2] == '@' || s[2] == '?'))
		return NULL;
	if (strstr(s + 2, "{{") != NULL)
		return NULL;
	return xstrndup(s + skip, len - skip - 2);
}

struct yaml_render {
	const char *name;
	const struct template_vars *v;
	yaml_document_t doc;
	yaml_emitter_t *em;
	struct wiz_error *err;
	bool failed;
};

static bool emit_node(struct yaml_render *r, yaml_node_t *node);

static bool emit_scalar_text(struct yaml_render *r, const char *text, yaml_scalar_style_t style)
{
	yaml_emitter_t *em = r->em;
	yaml_event_t ev;

	Y_EMIT(yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text,
					    (int)strlen(text), 1, 1, style));
	return true;
err:
	return false;
}

static bool emit_scalar(struct yaml_render *r, yaml_node_t *node)
{
	const char *s = (const char *)node->data.scalar.value;
	char *var = whole_var(s, 0);
	bool ok;

	if (var != NULL) {
		const char *value = kvlist_get(&r->v->values, var);

		if (value == NULL) {
			wiz_error_set(r->err, WIZ_ERR_INVALID, _("template %s: no value for {{%s}}"),
				      r->name, var);
			free(var);
			r->failed = true;
			return false;
		}
		free(var);
		return emit_scalar_text(r, value, yaml_scalar_style_for(value));
	}
	if (strstr(s, "{{") != NULL) {
		char *text = substitute(r->name, s, r->v, false, r->err);

		if (text == NULL) {
			r->failed = true;
			return false;
		}
		ok = emit_scalar_text(r, text, yaml_scalar_style_for(text));
		free(text);
		return ok;
	}
	return emit_scalar_text(r, s, node->data.scalar.style);
}

static bool emit_node(struct yaml_render *r, yaml_node_t *node)
{
	yaml_emitter_t *em = r->em;
	yaml_event_t ev;

	switch (node->type) {
	case YAML_SCALAR_NODE:
		return emit_scalar(r, node);
	case YAML_SEQUENCE_NODE:
		Y_EMIT(yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							    node->data.sequence.style));
		for (yaml_node_item_t *it = node->data.sequence.items.start;
		     it < node->data.sequence.items.top; it++) {
			yaml_node_t *item = yaml_document_get_node(&r->doc, *it);
			char *list = item->type == YAML_SCALAR_NODE
				? whole_var((const char *)item->data.scalar.value, '@') : NULL;

			if (list != NULL) {
				const struct strlist *l = list_get(r->v, list);

				free(list);
				for (size_t i = 0; l && i < l->n; i++)
					if (!emit_scalar_text(r, l->items[i],
							      yaml_scalar_style_for(l->items[i])))
						goto err;
				continue;
			}
			if (!emit_node(r, item))
				goto err;
		}
		Y_EMIT(yaml_sequence_end_event_initialize(&ev));
		return true;
	case YAML_MAPPING_NODE:
		Y_EMIT(yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							   node->data.mapping.style));
		for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
		     p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(&r->doc, p->key);
			yaml_node_t *val = yaml_document_get_node(&r->doc, p->value);
			const char *key = (const char *)k->data.scalar.value;
			const char *cond = strstr(key, "{{?");

			if (cond != NULL) {
				char *flag = xstrndup(cond + 3, strcspn(cond + 3, "}"));
				const char *set = kvlist_get(&r->v->values, flag);
				char *bare = xstrndup(key, (size_t)(cond - key));
				bool ok = true;

				free(flag);
				if (set != NULL && set[0] != '\0')
					ok = emit_scalar_text(r, bare, YAML_PLAIN_SCALAR_STYLE) &&
					     emit_node(r, val);
				free(bare);
				if (!ok)
					goto err;
				continue;
			}
			if (!emit_node(r, k) || !emit_node(r, val))
				goto err;
		}
		Y_EMIT(yaml_mapping_end_event_initialize(&ev));
		return true;
	default:
		return true;
	}
err:
	if (!r->failed)
		wiz_error_set(r->err, WIZ_ERR_INVALID, _("template %s: cannot emit YAML: %s"),
			      r->name, em->problem ? em->problem : _("emitter error"));
	r->failed = true;
	return false;
}

enum wiz_err template_render_yaml(const char *name, const struct template_vars *v,
				  char **out, struct wiz_error *err)
{
	size_t len;
	const char *src = template_source(name, &len);
	yaml_parser_t parser;
	yaml_emitter_t emitter;
	struct yaml_membuf buf = { NULL, 0, 0 };
	struct yaml_render r = { .name = name, .v = v, .em = &emitter, .err = err };
	yaml_emitter_t *em = &emitter;
	yaml_event_t ev;
	enum wiz_err rc = WIZ_ERR_INVALID;
	bool have_doc = false, have_emitter = false;

	*out = NULL;
	if (src == NULL)
		return wiz_error_set(err, WIZ_ERR_NOTFOUND, _("no template named %s"), name);
	if (!yaml_parser_initialize(&parser))
		return wiz_error_set(err, WIZ_ERR_IO, _("out of memory"));
	yaml_parser_set_input_string(&parser, (const unsigned char *)src, len);
	if (!yaml_parser_load(&parser, &r.doc) || yaml_document_get_root_node(&r.doc) == NULL) {
		wiz_error_set(err, WIZ_ERR_PARSE, _("template %s: %s at line %lu"), name,
			      parser.problem ? parser.problem : _("empty document"),
			      (unsigned long)parser.problem_mark.line + 1);
		goto out;
	}
	have_doc = true;
	if (!yaml_emitter_to_membuf(&emitter, &buf)) {
		wiz_error_set(err, WIZ_ERR_IO, _("cannot start the YAML emitter"));
		goto out;
	}
	have_emitter = true;
	Y_EMIT(yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	Y_EMIT(yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	if (!emit_node(&r, yaml_document_get_root_node(&r.doc)))
		goto out;
	Y_EMIT(yaml_document_end_event_initialize(&ev, 1));
	Y_EMIT(yaml_stream_end_event_initialize(&ev));
	*out = buf.data;
	buf.data = NULL;
	rc = WIZ_ERR_OK;
	goto out;
err:
	wiz_error_set(err, WIZ_ERR_INVALID, _("template %s: cannot emit YAML: %s"), name,
		      emitter.problem ? emitter.problem : _("emitter error"));
out:
	free(buf.data);
	if (have_emitter)
		yaml_emitter_delete(&emitter);
	if (have_doc)
		yaml_document_delete(&r.doc);
	yaml_parser_delete(&parser);
	return rc;
}
