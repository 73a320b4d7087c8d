/* Deploy: the static pod manifest with a diff against what is on the host, etcdctl, then the bounded wait for health with per-member state. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "ui/tui/run.h"

static struct wz_run run;
WZ_RUN_SCREEN_CALLBACKS(run, "manifest,etcdctl,backups,verify")

static void draw(struct wizard *w, int top, int rows)
{
	int y = top, cols = term_cols();

	term_putf(y++, 1, cols - 2, TERM_DIM, _("etcd %s as a static pod on %zu members; d shows the manifest diff."),
		  w->c.etcd.version, w->c.n_members);
	wz_run_draw(w, &run, y, rows - (y - top));
}

const struct screen_ops screen_deploy = {
	.name = "deploy",
	.title = N_("Deploy"),
	.actions = wz_run_actions,
	.draw = draw,
	WZ_RUN_SCREEN_OPS,
};
