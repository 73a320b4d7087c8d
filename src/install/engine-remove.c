/* Members leaving the cluster (engine-internal.h): the ones etcd lists
 * that the file no longer names (with --prune-members), and the old entry
 * of a member whose address changed (a replace: etcd's order is remove
 * first, then add).
 *
 * Before anything else changes, and only when the removals one after the
 * other keep a quorum of healthy voters (membership_refusal), each goes in
 * turn: its host (from `member remove`, or reached at its peer URL's
 * address with the file's SSH settings) is connected if it can be; if its
 * etcd is the leader, the leadership moves to a healthy member that
 * stays; MemberRemove through a healthy member that stays; then its
 * manifest leaves kubelet's directory and its data directory is renamed,
 * both dated, never deleted. A dead member's host is not reachable: it is
 * removed all the same, and the message says what is left on it. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/loop.h"
#include "base/xmalloc.h"
#include "install/engine-internal.h"
#include "install/step.h"

#define REMOVE_TRIES 10
#define REMOVE_RETRY_MS 500

struct leaving {
	struct engine *e;	/* NULL: the engine is gone, a callback frees this */
	struct host host;	/* name, address; SSH settings copied, not owned */
	char *name, *address, *peer_url;
	uint64_t id;
	bool voter;
	enum member_leave why;
	size_t conn;
	bool reached;
	char unreached[256];
	void *call;		/* an ask or a call in flight */
	struct ssh_op *op;	/* the set-aside exec in flight */
	bool connecting;
	struct loop_timer *timer;
	unsigned tries;
	struct etcd_member_view view;
};

static void remove_next(struct engine *e);

static void leaving_free(struct leaving *l)
{
	loop_timer_del(l->timer);
	free(l->name);
	free(l->address);
	free(l->peer_url);
	free(l);
}

bool eng_remove_needed(const struct engine *e)
{
	for (size_t k = 0; k < e->live.n; k++)
		if (membership_leaves(e->c, &e->live, &e->live.members[k]) != LEAVE_NO)
			return true;
	return false;
}

static void tell(struct engine *e, const char *removed, bool failed, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void tell(struct engine *e, const char *removed, bool failed, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	eng_journal(e, "cluster: %s", msg);
	if (e->sink.cluster_change)
		e->sink.cluster_change(msg, removed, failed, e->sink.ud);
	free(msg);
}

/* No member changes after this: every member's step fails with why. */
static void remove_stop(struct engine *e, char *why)
{
	e->cluster_failed = true;
	free(e->member_stop);
	e->member_stop = why;
	tell(e, NULL, true, "%s", why);
	e->leave_at = e->n_leaving;
	eng_live_release(e);
}

/* A member that stays, healthy when asked just now, connected: where
 * membership calls go. */
static struct engine_host *staying_voter(struct engine *e)
{
	struct engine_host *pick = NULL;

	for (size_t i = 0; i < e->n_hosts; i++) {
		struct engine_host *g = &e->hosts[i];

		if (!g->is_member || g->dead || !g->connected || !g->live_viewed || !g->live_view.healthy ||
		    g->live_view.learner || membership_change(e->c, &e->live, g->index, NULL) != MEMBER_KEEP)
			continue;
		if (pick == NULL || (g->live_view.leader && !pick->live_view.leader))
			pick = g;
	}
	return pick;
}

static uint64_t live_id_of(const struct engine *e, const struct host *h)
{
	char *peer = member_peer_url(h);
	const struct live_member *lm = live_find_peer(&e->live, peer);

	free(peer);
	return lm ? lm->id : 0;
}


/* ---- one member, step by step ---- */

static void set_aside_done(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct leaving *l = ud;
	struct engine *e = l->e;
	char stamp[32] = "", id[17];

	(void)op;
	l->op = NULL;
	if (e == NULL) {
		leaving_free(l);
		return;
	}
	if (r->code != WIZ_ERR_OK)
		tell(e, l->why == LEAVE_PRUNE ? l->name : NULL, false, _("removed %s (id %s) from the cluster, but moving its manifest and data directory aside on %s failed (%s): move /etc/kubernetes/manifests/etcd.yaml out there by hand, or kubelet keeps restarting an etcd the cluster refuses"),
		     l->name, member_hex_id(id, l->id), l->address,
		     r->errout && r->errout[0] ? r->errout : r->err.msg);
	else {
		eng_set_aside_stamp(r, stamp, sizeof stamp);
		tell(e, l->why == LEAVE_PRUNE ? l->name : NULL, false, _("removed %s (id %s); on its host its manifest is now /etc/kubernetes/etcd.yaml.removed-%s, its data directory %s.removed-%s and its certificates /etc/kubernetes/pki/etcd.removed-%s"),
		     l->name, member_hex_id(id, l->id), stamp, e->c->etcd.data_dir, stamp, stamp);
	}
	e->leave_at++;
	remove_next(e);
}

static void removed(enum wiz_err code, int status, const char *body, size_t len, const char *msg, void *ud);

/* The removal is itself a write: the voters now must have a healthy
 * quorum to commit it. The leaving member counts as what it said when
 * asked just now (nothing when its host is gone); the others leaving
 * later count as healthy (they were not asked), so this refuses only
 * what etcd could not commit anyway. */
static char *quorum_now(const struct engine *e, const struct leaving *l)
{
	size_t voters = live_voters(&e->live), healthy = 0;

	for (size_t k = 0; k < e->live.n; k++) {
		const struct live_member *lm = &e->live.members[k];

		if (lm->learner)
			continue;
		if (lm->id == l->id)
			healthy += l->reached && l->view.answered && l->view.healthy;
		else if (membership_leaves(e->c, &e->live, lm) != LEAVE_NO)
			healthy++;
		else
			healthy += lm->viewed && lm->view.answered && lm->view.healthy;
	}
	if (!l->voter || healthy >= voters / 2 + 1)
		return NULL;
	return xasprintf(_("removing %s needs a quorum of the %zu voting members now, but only %zu are healthy: etcd could not commit it; nothing more was removed%s"),
			 l->name, voters, healthy,
			 l->why == LEAVE_REPLACED
				 ? _(": with quorum lost the way back is a restore from a snapshot (docs/operations.md, \"Restoring\")")
				 : "");
}

static void remove_try(struct leaving *l)
{
	struct engine *e = l->e;
	struct engine_host *via = staying_voter(e);
	char *body, *no;

	if (via == NULL) {
		remove_stop(e, xasprintf(_("no healthy member that stays is left to remove %s through; nothing more was removed"),
					 l->name));
		return;
	}
	if (l->tries == 0 && (no = quorum_now(e, l)) != NULL) {
		remove_stop(e, no);
		return;
	}
	body = xasprintf("{\"ID\":\"%" PRIu64 "\"}", l->id);
	l->tries++;
	eng_call(e, via, &l->call, "/v3/cluster/member/remove", body, removed, l);
	free(body);
}

static void remove_again(struct loop_timer *t, void *ud)
{
	(void)t;
	remove_try(ud);
}

/* It is out of the cluster: its files next, or on to the next member. */
static void gone(struct leaving *l, const struct etcd_member_list *after)
{
	struct engine *e = l->e;
	struct ssh_exec_opts xo = { .timeout_ms = 60000, .as_root = true };
	bool certs = true;
	char id[17], *cmd;

	if (after != NULL) {
		/* The views of the members that stay are kept. */
		struct live_cluster fresh = { .prune = e->live.prune, .prune_only = e->live.prune_only };

		live_cluster_set(&fresh, after, e->live.asked);
		for (size_t a = 0; a < fresh.n; a++)
			for (size_t b = 0; b < e->live.n; b++)
				if (fresh.members[a].id == e->live.members[b].id) {
					fresh.members[a].viewed = e->live.members[b].viewed;
					fresh.members[a].view = e->live.members[b].view;
				}
		live_cluster_free(&e->live);
		e->live = fresh;
	} else {
		for (size_t b = 0; b < e->live.n; b++)
			if (e->live.members[b].id == l->id) {
				struct live_member *lm = &e->live.members[b];

				free(lm->name);
				free(lm->peer_url);
				free(lm->client_url);
				memmove(lm, lm + 1, (e->live.n - b - 1) * sizeof *lm);
				e->live.n--;
				break;
			}
	}
	eng_journal(e, "remove: %s (id %016" PRIx64 ") removed", l->name, l->id);
	if (!l->reached) {
		tell(e, l->why == LEAVE_PRUNE ? l->name : NULL, false, _("removed %s (id %s); its host %s could not be reached (%s): before it comes back, move /etc/kubernetes/manifests/etcd.yaml out there and rename %s"),
		     l->name, member_hex_id(id, l->id), l->address, l->unreached, e->c->etcd.data_dir);
		e->leave_at++;
		remove_next(e);
		return;
	}
	/* A control-plane host keeps its apiserver's etcd client files. */
	for (size_t i = 0; i < e->c->control_plane.n_hosts; i++)
		if (strcmp(e->c->control_plane.hosts[i].address, l->address) == 0)
			certs = false;
	cmd = eng_set_aside_cmd(e->c->etcd.data_dir, "removed", certs);
	l->op = e->t.ops->exec(e->t.self, l->conn, cmd, &xo, set_aside_done, l);
	free(cmd);
}

static void removed(enum wiz_err code, int status, const char *body, size_t len, const char *msg, void *ud)
{
	struct leaving *l = ud;
	struct engine *e = l->e;
	char id[17], *said;

	l->call = NULL;
	if (code == WIZ_ERR_OK && status == 200) {
		struct etcd_member_list after;
		struct wiz_error perr = { 0 };
		bool ok = etcd_json_parse_members_after("/v3/cluster/member/remove", body, len, &after, &perr) ==
			  WIZ_ERR_OK;

		gone(l, ok ? &after : NULL);
		etcd_member_list_free(&after);
		return;
	}
	said = eng_answer_text(code, status, body, len, msg);
	/* Gone already (an earlier run removed it, its answer lost). */
	if (status > 0 && strstr(said, "member not found") != NULL) {
		free(said);
		eng_journal(e, "remove: %s (id %016" PRIx64 ") was not in the cluster any more", l->name, l->id);
		gone(l, NULL);
		return;
	}
	/* Right after a leader change etcd may say the cluster is unhealthy
	 * for a moment: asked again, a bounded number of times. */
	if (l->tries < REMOVE_TRIES) {
		free(said);
		if (l->timer == NULL)
			l->timer = loop_timer_add(e->loop, remove_again, l);
		loop_timer_arm_in(l->timer, REMOVE_RETRY_MS);
		return;
	}
	remove_stop(e, xasprintf(_("etcd refused to remove %s (id %s): %s; nothing more was removed"),
				 l->name, member_hex_id(id, l->id), said));
	free(said);
}

static void moved(enum wiz_err code, int status, const char *body, size_t len, const char *msg, void *ud)
{
	struct leaving *l = ud;
	struct engine *e = l->e;

	l->call = NULL;
	if (code == WIZ_ERR_OK && status == 200) {
		eng_journal(e, "remove: the leadership moved away from %s", l->name);
		remove_try(l);
		return;
	}
	{
		char *said = eng_answer_text(code, status, body, len, msg);

		remove_stop(e, xasprintf(_("%s is the leader and the leadership could not be moved away from it (%s); nothing more was removed"),
					 l->name, said));
		free(said);
	}
}

static void asked(enum wiz_err code, const struct etcd_member_view *v, const char *msg, void *ud)
{
	struct leaving *l = ud;
	struct engine *e = l->e;
	struct engine_host *to;

	(void)msg;
	l->call = NULL;
	if (code == WIZ_ERR_OK)
		l->view = *v;
	to = staying_voter(e);
	if (l->view.leader && to != NULL) {
		struct transport_ask q = { .name = l->name, .address = l->address, .creds = e->creds,
					   .timeout_ms = ETCD_ASK_TRY_MS };
		char *body = xasprintf("{\"targetID\":\"%" PRIu64 "\"}", live_id_of(e, to->host));

		eng_journal(e, "remove: %s is the leader: moving the leadership to %s", l->name, to->host->name);
		l->call = e->t.ops->call_etcd(e->t.self, l->conn, &q, "/v3/maintenance/transfer-leadership", body,
					      moved, l);
		free(body);
		return;
	}
	remove_try(l);
}

static void reached(void *ud, enum wiz_err code, const char *msg)
{
	struct leaving *l = ud;
	struct engine *e = l->e;
	struct transport_ask q;

	l->connecting = false;
	if (code != WIZ_ERR_OK) {
		snprintf(l->unreached, sizeof l->unreached, "%.250s", msg && msg[0] ? msg : wiz_err_name(code));
		remove_try(l);
		return;
	}
	l->reached = true;
	q = (struct transport_ask){ .name = l->name, .address = l->address, .creds = e->creds,
				    .timeout_ms = ETCD_ASK_TRY_MS };
	l->call = e->t.ops->ask_etcd(e->t.self, l->conn, &q, asked, l);
}

static void remove_next(struct engine *e)
{
	struct leaving *l;
	char *no;

	if (e->leave_at >= e->n_leaving) {
		eng_live_release(e);
		return;
	}
	l = e->leaving[e->leave_at];
	/* Checked again before each, on the health the read found and the
	 * members removed so far (members are not asked again between). */
	no = membership_refusal(e->c, &e->live);
	if (no != NULL) {
		remove_stop(e, no);
		return;
	}
	eng_journal(e, "remove: %s (id %016" PRIx64 ", %s)", l->name, l->id,
		    l->why == LEAVE_REPLACED ? "replaced at a new address" : "not in the cluster file");
	l->connecting = true;
	e->t.ops->connect(e->t.self, l->conn, reached, l);
}

void eng_remove_start(struct engine *e)
{
	char *no = membership_refusal(e->c, &e->live);

	if (no != NULL) {
		remove_stop(e, no);
		return;
	}
	for (size_t k = 0; k < e->live.n; k++) {
		const struct live_member *lm = &e->live.members[k];
		enum member_leave why = membership_leaves(e->c, &e->live, lm);
		struct leaving *l;
		char id[17];
		int port;

		if (why == LEAVE_NO)
			continue;
		l = xcalloc(1, sizeof *l);
		l->e = e;
		l->id = lm->id;
		l->voter = !lm->learner;
		l->why = why;
		l->peer_url = xstrdup(lm->peer_url);
		l->name = xstrdup(lm->name[0] ? lm->name : member_hex_id(id, lm->id));
		if (!url_parse(lm->peer_url, 2380, &l->address, &port))
			l->address = xstrdup(lm->peer_url);	/* reached nowhere: said so */
		for (size_t i = 0; i < e->opts.n_leaving_hosts; i++)
			if (strcmp(e->opts.leaving_hosts[i].name, l->name) == 0)
				l->host = e->opts.leaving_hosts[i];
		/* The SSH settings of `member remove`'s host, else the file's. */
		l->host.name = l->name;
		l->host.address = l->address;
		l->conn = e->t.ops->add_host(e->t.self, e->c, &l->host);
		e->leaving = xreallocarray(e->leaving, e->n_leaving + 1, sizeof(struct leaving *));
		e->leaving[e->n_leaving++] = l;
	}
	e->leave_at = 0;
	remove_next(e);
}

void eng_remove_free(struct engine *e)
{
	for (size_t i = 0; i < e->n_leaving; i++) {
		struct leaving *l = e->leaving[i];

		if (l->call != NULL)
			e->t.ops->cancel_ask(e->t.self, l->call);
		if (l->connecting)
			e->t.ops->forget(e->t.self, l->conn, l);
		if (l->op != NULL) {
			l->e = NULL;	/* set_aside_done frees it */
			ssh_op_cancel(l->op);
			continue;
		}
		leaving_free(l);
	}
	free(e->leaving);
	e->leaving = NULL;
	e->n_leaving = 0;
}
