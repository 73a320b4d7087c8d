/* Kubernetes: the control-plane host(s), the files they get (kubeadm's
 * etcd.external client files and kubeadm-config.yaml, previewed in the
 * plan's diffs), copy, the /version proof, and kubeadm init only when the
 * admin asks for it (i). Without a control-plane host there is nothing to
 * do here. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "ui/tui/run.h"

static struct wz_run run;
WZ_RUN_SCREEN_CALLBACKS(run, "kubernetes")

static unsigned act_init(void *ud, int key);
static unsigned act_diffs(void *ud, int key);
static unsigned act_recheck(void *ud, int key);

static const struct term_action actions[] = {
	{ 'i', 0, N_("kubeadm init"), N_("also run kubeadm init on the first control-plane host (toggle)"),
	  act_init, true },
	{ 'd', 0, N_("Diffs"), N_("show or hide the files, kubeadm-config.yaml included"), act_diffs, true },
	{ 'r', 0, N_("Re-check"), N_("check the hosts again (read-only)"), act_recheck, true },
	{ 0, 0, NULL, NULL, NULL, false },
};

static bool has_cp(const struct wizard *w)
{
	return w->c.control_plane.present && w->c.control_plane.n_hosts > 0;
}

static unsigned act_init(void *ud, int key)
{
	struct wizard *w = ud;

	(void)key;
	if (!has_cp(w) || wz_run_busy(&run))
		return WZ_HANDLED;
	run.kubeadm_init = !run.kubeadm_init;
	wz_run_start(w, &run, false);
	return WZ_HANDLED;
}

static unsigned act_diffs(void *ud, int key)
{
	(void)ud;
	(void)key;
	run.diffs = !run.diffs;
	return WZ_HANDLED;
}

static unsigned act_recheck(void *ud, int key)
{
	struct wizard *w = ud;

	(void)key;
	if (has_cp(w) && !wz_run_busy(&run))
		wz_run_start(w, &run, false);
	return WZ_HANDLED;
}

static void enter(struct wizard *w)
{
	if (has_cp(w))
		run_enter(w);
}

static void draw(struct wizard *w, int top, int rows)
{
	int cols = term_cols(), y = top;

	if (!has_cp(w)) {
		term_put(y++, 1, cols - 2, TERM_NORMAL,
			 _("The cluster file names no control-plane host (controlPlane.hosts): nothing to copy."));
		term_put(y++, 1, cols - 2, TERM_DIM,
			 _("Add one to the cluster file to get kubeadm-config.yaml and the etcd client files there."));
		return;
	}
	for (size_t i = 0; i < w->c.control_plane.n_hosts; i++)
		term_putf(y++, 1, cols - 2, TERM_NORMAL, _("Control plane: %s (%s)"), w->c.control_plane.hosts[i].name,
			  w->c.control_plane.hosts[i].address);
	term_put(y++, 1, cols - 2, TERM_DIM,
		 _("Files: etcd/ca.crt, apiserver-etcd-client.crt/.key, kubeadm-config.yaml; then the /version proof."));
	term_putf(y++, 1, cols - 2, run.kubeadm_init ? TERM_WARN : TERM_DIM, "%s",
		  run.kubeadm_init ? _("kubeadm init WILL run on the first control-plane host (i turns it off).")
				   : _("kubeadm init will not run (i asks for it)."));
	wz_run_draw(w, &run, y, rows - (y - top));
}

static unsigned key(struct wizard *w, int k)
{
	return has_cp(w) ? run_key(w, k) : WZ_IGNORED;
}

static const char *validate(struct wizard *w)
{
	return has_cp(w) ? run_validate(w) : NULL;
}

static unsigned next(struct wizard *w)
{
	return has_cp(w) ? run_next(w) : WZ_NEXT;
}

const struct screen_ops screen_kubernetes = {
	.name = "kubernetes",
	.title = N_("Kubernetes"),
	.actions = actions,
	.enter = enter,
	.draw = draw,
	.key = key,
	.validate = validate,
	.next = next,
	.busy = run_busy,
	.destroy = run_destroy,
};
