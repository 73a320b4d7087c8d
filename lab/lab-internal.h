/* What the lab's own files share (lab.c, etcd-cache.c); not for src/ or ui/. */
#ifndef WIZ_LAB_INTERNAL_H
#define WIZ_LAB_INTERNAL_H

#include <stdbool.h>

#include "base/error.h"

/* Run argv without a shell, in cwd when not NULL. Output (stdout and
 * stderr together) goes to out_fd when >= 0, else is captured into *out
 * (when out != NULL) or dropped. Returns the exit status, 128+signal, or -1
 * when it cannot run. */
int lab_run_argv(const char *const argv[], const char *cwd, int out_fd, char **out);
/* lab_run_argv that turns a non-zero exit into an error naming the
 * command and quoting (the end of) its output. */
enum wiz_err lab_run_checked(const char *const argv[], const char *cwd, int out_fd,
			     struct wiz_error *err);
/* The Debian archive this machine already uses ($ETCDWIZ_LAB_MIRROR first). */
char *lab_mirror(void);
/* Remove path and everything under it (unmounting what is mounted there). */
void lab_rm_rf(const char *path);
bool lab_is_dir(const char *path);

#endif
