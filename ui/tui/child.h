/* A command of etcdwiz's own (`etcdwiz lab up`, `etcdwiz restore`) run as a
 * child process watched by the wizard's loop: its output lines go to the
 * log pane as they come, so the screen stays responsive; done runs once
 * with its wait status. Only ui/tui includes this. */
#ifndef WIZ_UI_TUI_CHILD_H
#define WIZ_UI_TUI_CHILD_H

#include <stdbool.h>

#include "ui/tui/wizard-internal.h"

struct wz_child;
typedef void (*wz_child_done_fn)(struct wizard *w, int status, void *ud);

/* argv[0] is shown as "etcdwiz"; the binary is this one. NULL (and a
 * message) when it cannot start. */
struct wz_child *wz_child_start(struct wizard *w, char *const argv[], wz_child_done_fn done, void *ud);
/* Stops it (SIGTERM, then waited for) without calling done. */
void wz_child_stop(struct wz_child *c);

#endif
