/* Every file etcdwiz writes on a host comes from templates/, embedded in the
 * binary at build time. Text templates substitute {{name}}; YAML templates
 * are loaded with libyaml and re-emitted with values set as scalars, so no
 * value is ever pasted into YAML text. */
#ifndef WIZ_TEMPLATE_H
#define WIZ_TEMPLATE_H

#include <stddef.h>

#include "base/error.h"
#include "cluster/cluster.h"

struct template_vars {
	struct kvlist values;		/* {{name}} */
	struct {
		char *name;
		struct strlist items;
	} *lists;			/* {{@name}} in a sequence */
	size_t n_lists;
};

void template_vars_init(struct template_vars *v);
void template_vars_free(struct template_vars *v);
void template_set(struct template_vars *v, const char *name, const char *value);
/* Appends to the list `name`, creating it. */
void template_list_add(struct template_vars *v, const char *name, const char *item);

/* The embedded template, or NULL. */
const char *template_source(const char *name, size_t *len);

/* {{name}} substitution; an unknown name, or a value with a newline or NUL,
 * is an error (values must not add lines to config files). */
enum wiz_err template_render_text(const char *name, const struct template_vars *v,
				  char **out, struct wiz_error *err);

/* Scalars that are exactly "{{name}}" get the value (quoted as needed);
 * sequence items "{{@name}}" expand to the list's items; a mapping key that
 * ends in "{{?name}}" is kept only when name is set and not empty. Comments
 * are dropped. */
enum wiz_err template_render_yaml(const char *name, const struct template_vars *v,
				  char **out, struct wiz_error *err);

#endif
