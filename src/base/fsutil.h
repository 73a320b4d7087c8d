/* Local file helpers: every file etcdwiz writes goes through
 * wiz_write_file_atomic, so a crash leaves the old file or the new one. */
#ifndef WIZ_FSUTIL_H
#define WIZ_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"

/* Write data to path through a dot-named temp file in the same directory,
 * fsync it, rename it over path and fsync the directory. The file gets
 * exactly `mode` (umask does not apply). */
enum wiz_err wiz_write_file_atomic(const char *path, const void *data,
				   size_t len, mode_t mode,
				   struct wiz_error *err);

/* rename(2), then the directory synced: the new name survives a crash. */
enum wiz_err wiz_rename_durable(const char *from, const char *to, struct wiz_error *err);

/* mkdir -p with `mode` for every directory created; existing ones are kept. */
enum wiz_err wiz_mkdir_p(const char *path, mode_t mode, struct wiz_error *err);

/* Read a whole file (at most max bytes) into a NUL-terminated buffer. */
enum wiz_err wiz_read_file(const char *path, size_t max, char **data,
			   size_t *len, struct wiz_error *err);

bool wiz_file_exists(const char *path);

/* $XDG_DATA_HOME/etcdwiz or ~/.local/share/etcdwiz (or $XDG_STATE_HOME...). */
char *wiz_data_dir(void);

#endif
