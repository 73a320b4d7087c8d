/* Emitter helpers: code that writes YAML reads like the YAML it writes.
 * Each macro emits one event and jumps to `err` on failure (netplan style).
 * The enclosing function must declare `yaml_emitter_t *em; yaml_event_t ev;`
 * and a label `err:`. Values are scalars given to libyaml, never pasted text. */
#ifndef WIZ_YAML_EMIT_H
#define WIZ_YAML_EMIT_H

#include <stdbool.h>
#include <string.h>
#include <yaml.h>

#define Y_EMIT(init)                                                       \
	do {                                                               \
		if (!(init) || !yaml_emitter_emit(em, &ev))                \
			goto err;                                          \
	} while (0)

#define Y_MAP_OPEN()                                                       \
	Y_EMIT(yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,     \
						   YAML_BLOCK_MAPPING_STYLE))
#define Y_FLOW_MAP_OPEN()                                                  \
	Y_EMIT(yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,     \
						   YAML_FLOW_MAPPING_STYLE))
#define Y_MAP_CLOSE() Y_EMIT(yaml_mapping_end_event_initialize(&ev))
#define Y_SEQ_OPEN()                                                       \
	Y_EMIT(yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,    \
						    YAML_BLOCK_SEQUENCE_STYLE))
#define Y_SEQ_CLOSE() Y_EMIT(yaml_sequence_end_event_initialize(&ev))

/* A scalar in the style yaml_scalar_style_for() picks: strings that a YAML
 * 1.1 reader would take for a number, bool or null are double-quoted. */
#define Y_STR(s)                                                           \
	Y_EMIT(yaml_scalar_event_initialize(                               \
		&ev, NULL, NULL, (yaml_char_t *)(s), (int)strlen(s), 1, 1, \
		yaml_scalar_style_for(s)))
/* A scalar that is meant as a number or bool (plain). */
#define Y_PLAIN(s)                                                         \
	Y_EMIT(yaml_scalar_event_initialize(                               \
		&ev, NULL, NULL, (yaml_char_t *)(s), (int)strlen(s), 1, 1, \
		YAML_PLAIN_SCALAR_STYLE))
#define Y_KV(k, v)                                                         \
	do {                                                               \
		Y_PLAIN(k);                                                \
		Y_STR(v);                                                  \
	} while (0)
#define Y_KV_OPT(k, v)                                                     \
	do {                                                               \
		if ((v) != NULL)                                           \
			Y_KV(k, v);                                        \
	} while (0)
#define Y_KV_PLAIN(k, v)                                                   \
	do {                                                               \
		Y_PLAIN(k);                                                \
		Y_PLAIN(v);                                                \
	} while (0)

yaml_scalar_style_t yaml_scalar_style_for(const char *s);

/* Emit into a growing memory buffer. */
struct yaml_membuf {
	char *data;
	size_t len;
	size_t cap;
};
bool yaml_emitter_to_membuf(yaml_emitter_t *em, struct yaml_membuf *buf);

#endif
