#include "config.h"

#include "cluster/kvfile.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/xmalloc.h"
#include "base/yaml-emit.h"

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

/* One flat mapping: emitted as the cluster file is (yaml-emit.h). */
static bool emit_kv(yaml_emitter_t *em, const struct kvlist *kv)
{
	yaml_event_t ev;

	Y_EMIT(yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	Y_EMIT(yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	Y_MAP_OPEN();
	for (size_t i = 0; i < kv->n; i++)
		Y_KV(kv->items[i].key, kv->items[i].value);
	Y_MAP_CLOSE();
	Y_EMIT(yaml_document_end_event_initialize(&ev, 1));
	Y_EMIT(yaml_stream_end_event_initialize(&ev));
	return true;
err:
	return false;
}

enum wiz_err kvfile_save(const char *path, const struct kvlist *kv, struct wiz_error *err)
{
	yaml_emitter_t em;
	struct yaml_membuf buf;
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	enum wiz_err rc = WIZ_ERR_OK;
	bool ok;

	if (!yaml_emitter_to_membuf(&em, &buf)) {
		free(dir);
		return wiz_error_set(err, WIZ_ERR_IO, _("cannot start the YAML emitter"));
	}
	ok = emit_kv(&em, kv);
	yaml_emitter_delete(&em);
	if (!ok || buf.data == NULL)
		rc = wiz_error_set(err, WIZ_ERR_INVALID, _("%s: cannot write these values as YAML"), path);
	if (rc == WIZ_ERR_OK && slash != NULL && slash != dir) {
		*slash = '\0';
		rc = wiz_mkdir_p(dir, 0700, err);
	}
	if (rc == WIZ_ERR_OK)
		rc = wiz_write_file_atomic(path, buf.data, buf.len, 0600, err);
	free(buf.data);
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
