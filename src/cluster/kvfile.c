#include "config.h"

#include "cluster/kvfile.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/xmalloc.h"

char *kvfile_state_path(const char *name)
{
	const char *state = getenv("XDG_STATE_HOME");
	char *dir, *path;

	if (state && state[0] == '/')
		dir = xasprintf("%s/etcdwiz", state);
	else
		dir = wiz_data_dir();
	path = xasprintf("%s/%s", dir, name);
	free(dir);
	return path;
}

static bool emit_scalar(yaml_emitter_t *em, const char *text, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	return yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, -1, 1, 1, style) &&
	       yaml_emitter_emit(em, &ev);
}

struct out_buf {
	char *p;
	size_t n;
};

static int buf_writer(void *data, unsigned char *buffer, size_t size)
{
	struct out_buf *b = data;

	b->p = xreallocarray(b->p, b->n + size + 1, 1);
	memcpy(b->p + b->n, buffer, size);
	b->n += size;
	b->p[b->n] = '\0';
	return 1;
}

enum wiz_err kvfile_save(const char *path, const struct kvlist *kv, struct wiz_error *err)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	struct out_buf buf = { NULL, 0 };
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	enum wiz_err rc = WIZ_ERR_OK;
	bool ok;

	if (!yaml_emitter_initialize(&em)) {
		rc = wiz_error_set(err, WIZ_ERR_INVALID, _("%s: cannot start the YAML emitter"), path);
		goto out;
	}
	yaml_emitter_set_output(&em, buf_writer, &buf);
	yaml_emitter_set_unicode(&em, 1);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&em, &ev);
	ok = ok && yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	     yaml_emitter_emit(&em, &ev);
	ok = ok && yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) &&
	     yaml_emitter_emit(&em, &ev);
	for (size_t i = 0; ok && i < kv->n; i++)
		ok = emit_scalar(&em, kv->items[i].key, YAML_PLAIN_SCALAR_STYLE) &&
		     emit_scalar(&em, kv->items[i].value, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	ok = ok && yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev);
	ok = ok && yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev);
	ok = ok && yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev);
	yaml_emitter_delete(&em);
	if (!ok || buf.p == NULL) {
		rc = wiz_error_set(err, WIZ_ERR_INVALID, _("%s: cannot write these values as YAML"), path);
		goto out;
	}
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		rc = wiz_mkdir_p(dir, 0700, err);
	}
	if (rc == WIZ_ERR_OK)
		rc = wiz_write_file_atomic(path, buf.p, buf.n, 0600, err);
out:
	free(buf.p);
	free(dir);
	return rc;
}

void kvfile_load(const char *path, struct kvlist *kv)
{
	char *data = NULL;
	size_t len = 0;
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_node_t *root;

	if (wiz_read_file(path, 65536, &data, &len, NULL) != WIZ_ERR_OK)
		goto out;
	if (!yaml_parser_initialize(&p))
		goto out;
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	if (yaml_parser_load(&p, &doc)) {
		root = yaml_document_get_root_node(&doc);
		if (root && root->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
			     pr < root->data.mapping.pairs.top; pr++) {
				yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
				yaml_node_t *v = yaml_document_get_node(&doc, pr->value);

				if (k && v && k->type == YAML_SCALAR_NODE && v->type == YAML_SCALAR_NODE)
					kvlist_set(kv, (const char *)k->data.scalar.value,
						   (const char *)v->data.scalar.value);
			}
		}
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&p);
out:
	free(data);
}
