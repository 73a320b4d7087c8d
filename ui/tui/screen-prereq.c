/* Prerequisites: per-host preflight, swap, modules and sysctl checks and what would change (with diffs), then apply with per-host progress after confirmation. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "ui/tui/run.h"

static struct wz_run run;
WZ_RUN_SCREEN_CALLBACKS(run, "preflight,swap,modules,sysctl")

static void draw(struct wizard *w, int top, int rows)
{
	int y = top, cols = term_cols();

	term_put(y++, 1, cols - 2, TERM_DIM, _("Preflight, swap off, kernel modules and sysctl on every host. d shows the diffs."));
	wz_run_draw(w, &run, y, rows - (y - top));
}

const struct screen_ops screen_prereq = {
	.name = "prereq",
	.title = N_("Prerequisites"),
	.actions = wz_run_actions,
	.draw = draw,
	WZ_RUN_SCREEN_OPS,
};
