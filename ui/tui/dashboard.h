/* The live health dashboard (issue #7): `etcdwiz status` on a terminal, and
 * the wizard's Health screen. Read-only: its keys change what is shown and
 * how often it refreshes, never the cluster. This header has no curses in
 * it, so the command-line front end (ui/cli/cmd-status.c) can call it. */
#ifndef WIZ_UI_DASHBOARD_H
#define WIZ_UI_DASHBOARD_H

#include <stdbool.h>

#include "base/error.h"

struct loop;
struct health_poll;
struct health_cluster;
struct dashboard;

struct dashboard_opts {
	struct loop *loop;
	struct health_poll *poll;	/* started by the caller */
	struct health_cluster *cluster;	/* what poll fills */
	const char *title;		/* cluster name, or NULL */
};

/* Full screen until the user quits (q) or a terminating signal. */
enum wiz_err dashboard_run(const struct dashboard_opts *o, struct wiz_error *err);

/* Embedding (the wizard's Health screen): the caller owns the terminal,
 * draws the view into a rectangle of stdscr and forwards keys. */
struct dashboard *dashboard_new(const struct dashboard_opts *o);
void dashboard_free(struct dashboard *d);
void dashboard_draw(struct dashboard *d, int y, int x, int h, int w);
/* True when the dashboard used the key (selection, detail, interval). */
bool dashboard_key(struct dashboard *d, int key);

#endif
