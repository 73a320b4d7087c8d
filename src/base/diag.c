#include "config.h"

#include "base/diag.h"

#include <stdarg.h>
#include <stdlib.h>

#include "base/i18n.h"
#include "base/xmalloc.h"

void diag_list_init(struct diag_list *l, const char *file)
{
	l->file = xstrdup(file ? file : "-");
	l->items = NULL;
	l->n = 0;
}

void diag_list_free(struct diag_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].path);
		free(l->items[i].msg);
	}
	free(l->items);
	free(l->file);
	l->items = NULL;
	l->file = NULL;
	l->n = 0;
}

void diag_add(struct diag_list *l, enum diag_severity sev, struct diag_pos pos,
	      const char *path, const char *fmt, ...)
{
	struct diag *d;
	va_list ap;

	l->items = xreallocarray(l->items, l->n + 1, sizeof *l->items);
	d = &l->items[l->n++];
	d->severity = sev;
	d->pos = pos;
	d->path = path ? xstrdup(path) : NULL;
	va_start(ap, fmt);
	d->msg = xvasprintf(fmt, ap);
	va_end(ap);
}

size_t diag_count(const struct diag_list *l, enum diag_severity sev)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->items[i].severity == sev;
	return n;
}

void diag_print(const struct diag_list *l, FILE *out)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct diag *d = &l->items[i];
		const char *sev = d->severity == DIAG_ERROR ? _("error") : _("warning");

		if (d->pos.line > 0)
			fprintf(out, "%s:%u:%u: %s: %s\n", l->file, d->pos.line,
				d->pos.col, sev, d->msg);
		else
			fprintf(out, "%s: %s: %s\n", l->file, sev, d->msg);
	}
}
