/* Text for the health view shared by `status --once` and the dashboard:
 * sizes, durations, per-member cells and the plain-text table. Column
 * widths are display widths (wide characters count two), so translated
 * headers line up. */
#ifndef WIZ_STATUS_FORMAT_H
#define WIZ_STATUS_FORMAT_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "health/health.h"

/* "512 B", "20.1 KiB", "2.0 GiB"; "-" for NaN or negative. */
void fmt_bytes(double v, char *buf, size_t len);
/* "3.1 ms", "1.20 s"; "-" for NaN. */
void fmt_ms(double ms, char *buf, size_t len);
/* "12d", "5h", "30m": a coarse time left; "expired" when <= 0. */
void fmt_left(double seconds, char *buf, size_t len);
/* The host's scheduled snapshots in a few words ("newest snapshot 5m ago,
 * 3 kept", "no scheduled snapshot yet"); "" when it has no timer. */
const char *status_backup_text(const struct health_host *h, int64_t now, char *buf, size_t len);

/* The name the cluster knows a member by (its member-list name when the
 * record was named after the endpoint). */
const char *status_member_name(const struct health_cluster *c, const struct health_member *m);

/* Columns of the member table. */
#define STATUS_COLUMN_INFO(_)          \
	_(NAME, N_("NAME"))            \
	_(ENDPOINT, N_("ENDPOINT"))    \
	_(ROLE, N_("ROLE"))            \
	_(VERSION, N_("VERSION"))      \
	_(DB, N_("DB SIZE"))           \
	_(IN_USE, N_("IN USE"))        \
	_(TERM, N_("TERM"))            \
	_(INDEX, N_("INDEX"))          \
	_(APPLIED, N_("APPLIED"))      \
	_(LATENCY, N_("LATENCY"))      \
	_(ERRORS, N_("ERRORS"))

enum status_column {
#define STATUS_COLUMN_ENUM(id, title) STATUS_COL_##id,
	STATUS_COLUMN_INFO(STATUS_COLUMN_ENUM)
#undef STATUS_COLUMN_ENUM
	STATUS_COL_COUNT
};

const char *status_column_title(enum status_column col);	/* translated */
/* One cell's text (the member at index i of c). */
void status_cell(const struct health_cluster *c, const struct health_eval *e, size_t i,
		 enum status_column col, char *buf, size_t len);

/* Display width of a UTF-8 string (invalid bytes count one). */
size_t str_display_width(const char *s);
/* Write s padded with spaces to width display columns (cut when longer). */
void fput_padded(FILE *f, const char *s, size_t width);

/* The --once table: badge line, member table, alerts. */
void status_print_table(FILE *f, const char *cluster_name, const struct health_cluster *c,
			const struct health_eval *e, time_t now);

#endif
