/* Health: the live dashboard of `etcdwiz status` (ui/tui/dashboard.c) on the
 * cluster the wizard just deployed, refreshed every 2 s through the
 * wizard's own SSH context (so a host key accepted once is not asked for
 * again), with the healthcheck-client certificate of the local PKI store.
 * Read-only. Next is refused until every member has answered once. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "etcd/etcd-ask.h"
#include "etcd/http-tls.h"
#include "health/health-poll.h"
#include "health/health.h"
#include "install/fleet.h"
#include "ssh/ssh.h"
#include "ui/tui/dashboard.h"
#include "ui/tui/wizard-internal.h"

static struct {
	struct health_cluster hc;
	struct health_poll *poll;
	struct http_tls_creds *creds;
	struct dashboard *dash;
	char *error;		/* why there is no dashboard */
	unsigned gen;
} hs;

static void stop(void)
{
	dashboard_free(hs.dash);
	hs.dash = NULL;
	health_poll_free(hs.poll);
	hs.poll = NULL;
	if (hs.creds != NULL) {
		health_cluster_free(&hs.hc);
		http_tls_creds_free(hs.creds);
		hs.creds = NULL;
	}
	free(hs.error);
	hs.error = NULL;
}

static void updated(struct health_poll *p, size_t member, void *ud)
{
	(void)p;
	(void)member;
	(void)ud;
	term_request_draw();
}

static void reconnected(void *ud, enum wiz_err code, const char *msg)
{
	(void)ud;
	(void)code;
	(void)msg;
	term_request_draw();	/* the next refresh sees the session */
}

/* A member's session failed: the fleet connects it again (one connect
 * for every one waiting), so the Connect screen and the next plan see it
 * too. */
static void reconnect(void *ud, size_t member)
{
	struct wizard *w = ud;

	fleet_connect(w->fleet, member, reconnected, w);
}

static void start(struct wizard *w)
{
	struct wiz_error err = { 0 };
	struct health_poll_opts o = { 0 };
	struct dashboard_opts d = { 0 };

	if (!w->have_store || w->c.n_members == 0) {
		hs.error = xstrdup(_("no cluster yet: go back to Hosts"));
		return;
	}
	if (etcd_creds_from_store(&w->store, &hs.creds, &err) != WIZ_ERR_OK) {
		hs.error = xasprintf(_("cannot read the healthcheck-client certificate: %s"), err.msg);
		return;
	}
	health_cluster_init(&hs.hc);
	o.loop = w->loop;
	o.ssh = w->ssh;
	o.creds = hs.creds;
	o.data_dir = w->c.etcd.data_dir;
	o.backup_dir = w->c.backup.dir;
	o.updated = updated;
	hs.poll = health_poll_new(&o, &hs.hc);
	health_poll_add_cluster(hs.poll, &w->c, false, false, &w->accepted);
	/* The members' sessions are the fleet's (Connect made them): no new
	 * handshake, no password asked again. Nothing edits the hosts while
	 * this screen shows, so they outlive the poller (freed on leave). */
	wz_fleet_sync(w);
	for (size_t i = 0; i < w->c.n_members; i++)
		health_poll_borrow_session(hs.poll, i, fleet_session(w->fleet, i), reconnect, w);
	health_poll_start(hs.poll);
	d.loop = w->loop;
	d.poll = hs.poll;
	d.cluster = &hs.hc;
	d.title = w->c.name;
	hs.dash = dashboard_new(&d);
	hs.gen = w->gen;
}

static void enter(struct wizard *w)
{
	/* A changed cluster gets a new dashboard. */
	if (hs.gen != w->gen || (hs.dash == NULL && hs.error == NULL)) {
		stop();
		start(w);
	}
}

static void leave(struct wizard *w)
{
	(void)w;
	/* Nothing polls behind the other screens. */
	stop();
	hs.gen = 0;
}

static void draw(struct wizard *w, int top, int rows)
{
	(void)w;
	if (hs.dash == NULL) {
		term_put(top + 1, 2, term_cols() - 4, TERM_ERROR, hs.error ? hs.error : "");
		return;
	}
	dashboard_draw(hs.dash, top, 0, rows, term_cols());
}

static unsigned key(struct wizard *w, int k)
{
	(void)w;
	/* The dashboard's own q/Esc/F1 stay the wizard's. */
	if (k == 'q' || k == TK_ESC || k == TK_F1 || k == '?')
		return WZ_IGNORED;
	return hs.dash != NULL && dashboard_key(hs.dash, k) ? WZ_HANDLED : WZ_IGNORED;
}

static const char *validate(struct wizard *w)
{
	(void)w;
	if (hs.dash == NULL)
		return hs.error;
	if (health_poll_rounds(hs.poll) < 1)
		return _("waiting for every member to answer once");
	return NULL;
}

static bool busy(struct wizard *w)
{
	(void)w;
	return hs.poll != NULL && health_poll_rounds(hs.poll) < 1;
}

static void destroy(struct wizard *w)
{
	(void)w;
	stop();
}

static const struct term_action actions[] = {
	{ TK_ENTER, 'd', N_("Detail"), N_("show or hide the selected member's detail"), NULL, true },
	{ '-', '+', N_("Refresh rate"), N_("refresh more (-) or less (+) often"), NULL, true },
	{ 0, 0, NULL, NULL, NULL, false },
};

const struct screen_ops screen_health = {
	.name = "health",
	.title = N_("Health"),
	.actions = actions,
	.enter = enter,
	.leave = leave,
	.draw = draw,
	.key = key,
	.validate = validate,
	.busy = busy,
	.destroy = destroy,
};
