/* Runtime and kubelet: versions and repositories (official or mirror) with the repository files in the plan's diffs, then install with per-host progress and the live log. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "ui/tui/run.h"

static struct wz_run run;
WZ_RUN_SCREEN_CALLBACKS(run, "packages,kubelet")

static void draw(struct wizard *w, int top, int rows)
{
	int y = top, cols = term_cols();

	term_putf(y++, 1, cols - 2, TERM_NORMAL, _("Kubernetes %s, runtime %s %s; packages %s"), w->c.kubernetes_version,
		  w->c.runtime.kind, w->c.runtime.version ? w->c.runtime.version : w->c.kubernetes_version,
		  w->c.runtime.install ? _("installed") : _("only verified (runtime.install: false)"));
	term_putf(y++, 1, cols - 2, TERM_DIM, _("Repositories: Kubernetes %s, CRI-O %s"),
		  w->c.repositories.kubernetes ? w->c.repositories.kubernetes : _("official"),
		  w->c.repositories.crio ? w->c.repositories.crio : _("official"));
	wz_run_draw(w, &run, y, rows - (y - top));
}

const struct screen_ops screen_runtime = {
	.name = "runtime",
	.title = N_("Runtime and kubelet"),
	.actions = wz_run_actions,
	.draw = draw,
	WZ_RUN_SCREEN_OPS,
};
