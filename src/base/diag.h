/* Diagnostics with positions: the loader reports every problem it finds as
 * `file:line:col: error: message`, not only the first. */
#ifndef WIZ_DIAG_H
#define WIZ_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct diag_pos {
	unsigned line;		/* 1-based; 0 = unknown */
	unsigned col;		/* 1-based */
};

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diag {
	enum diag_severity severity;
	struct diag_pos pos;
	char *path;		/* dotted key path, e.g. members[1].address; may be NULL */
	char *msg;
};

struct diag_list {
	char *file;
	struct diag *items;
	size_t n;
};

void diag_list_init(struct diag_list *l, const char *file);
void diag_list_free(struct diag_list *l);
void diag_add(struct diag_list *l, enum diag_severity sev, struct diag_pos pos,
	      const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
size_t diag_count(const struct diag_list *l, enum diag_severity sev);
/* One line per diagnostic: file:line:col: error|warning: message */
void diag_print(const struct diag_list *l, FILE *out);

#endif
