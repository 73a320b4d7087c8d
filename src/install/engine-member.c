/* The engine's view of the running cluster, and members joining it
 * (engine-internal.h).
 *
 * The live read: before the first host plans a step that reads the
 * cluster (the manifest), once every selected member's host is connected
 * or gone, each member is asked from here at once for its member list and
 * its health; the list of the first member (in file order) that answers
 * is the cluster as etcd knows it. No answer from anyone: not running.
 *
 * A join (a member the running cluster does not list, picked by the roll
 * in engine.c, so one at a time and only while every voting member is
 * healthy): MemberAdd as a learner through a healthy voting member; the
 * bundle writes its manifest (state "existing", the initial cluster etcd
 * has); then MemberPromote, again every 0.5 s while etcd says the learner
 * is not in sync yet, within the health bound; then the roll's own check
 * (healthy, started under its name, on the cluster's version). A learner
 * found by its peer URL (a run killed after MemberAdd) is not added
 * again. A learner that does not catch up is removed again, and its
 * manifest and data directory are moved aside, never deleted. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/loop.h"
#include "base/shquote.h"
#include "base/xmalloc.h"
#include "install/engine-internal.h"
#include "install/step.h"
#include "install/upgrade.h"

#define JOIN_RETRY_MS 500


/* What etcd answered instead of 200 (its error's message, or the HTTP
 * status), or why no answer came. */
char *eng_answer_text(enum wiz_err code, int status, const char *body, size_t len, const char *msg)
{
	struct etcd_error er = { 0 };
	struct wiz_error perr = { 0 };
	char *out;

	if (status > 0 && body != NULL && etcd_json_parse_error(body, len, &er, &perr) == WIZ_ERR_OK &&
	    er.message[0])
		out = xstrdup(er.message);
	else if (status > 0)
		out = xasprintf(_("HTTP %d"), status);
	else
		out = xstrdup(msg && msg[0] ? msg : wiz_err_name(code));
	etcd_error_free(&er);
	return out;
}

/* ---- the live read ---- */

#define LIVE_SETTLE_MS 2000

static void live_start(struct engine *e);

static void live_again(struct loop_timer *t, void *ud)
{
	(void)t;
	live_start(ud);
}

/* An upgrade refuses while a member is not healthy. One that is listed
 * and asked but not healthy may be restarting from a manifest an earlier
 * run wrote before it was stopped; the read is made again every 2 s,
 * within the health bound, before the plan refuses (also the plan pass
 * that `apply` and `upgrade` show first). True: it will be. */
static bool live_settle_wait(struct engine *e)
{
	unsigned bound = e->opts.health_timeout_s ? e->opts.health_timeout_s : VERIFY_DEFAULT_TIMEOUT_S;
	const char *name = NULL, *said = "";
	char *what;

	if (!e->live.running || !upgrade_pending(e->c, &e->live) ||
	    (uint64_t)e->live_reads * LIVE_SETTLE_MS >= (uint64_t)bound * 1000)
		return false;
	for (size_t i = 0; i < e->n_hosts && name == NULL; i++) {
		const struct engine_host *g = &e->hosts[i];

		if (!g->is_member || !g->selected || g->dead || !g->connected || !live_find_name(&e->live, g->host->name))
			continue;
		if (!(g->live_viewed && g->live_view.answered && g->live_view.healthy)) {
			name = g->host->name;
			said = g->live_viewed && g->live_view.detail[0] ? g->live_view.detail : g->live_msg;
		}
	}
	if (name == NULL)
		return false;
	e->live_reads++;
	what = xasprintf(_("%s is not healthy yet (%s): an upgrade needs every member healthy; asked again in 2 s (%u s at most)"),
			 name, said[0] ? said : _("no answer"), bound);
	eng_journal(e, "cluster: %s", what);
	if (e->sink.waiting && e->live_reads == 1)
		e->sink.waiting(what, e->sink.ud);
	free(what);
	for (size_t i = 0; i < e->n_hosts; i++) {
		struct engine_host *g = &e->hosts[i];

		g->live_status = 0;
		g->live_msg[0] = '\0';
		g->live_viewed = false;
		g->live_tries = 0;
		memset(&g->live_view, 0, sizeof g->live_view);
	}
	live_cluster_free(&e->live);
	strlist_free(&e->joinable);
	if (e->live_timer == NULL)
		e->live_timer = loop_timer_add(e->loop, live_again, e);
	loop_timer_arm_in(e->live_timer, LIVE_SETTLE_MS);
	return true;
}

static void live_finish(struct engine *e)
{
	char why[sizeof e->live.why] = "";

	/* The leader's list first, then a healthy member's, then any. */
	for (int pass = 0; pass < 3; pass++)
	for (size_t i = 0; i < e->n_hosts && !e->live.running; i++) {
		struct engine_host *g = &e->hosts[i];
		struct etcd_member_list l;
		struct wiz_error perr = { 0 };

		if (!g->is_member || g->live_status != 200 ||
		    (pass == 0 && !(g->live_viewed && g->live_view.leader)) ||
		    (pass == 1 && !(g->live_viewed && g->live_view.healthy)))
			continue;
		if (etcd_json_parse_member_list(g->live_body, g->live_len, &l, &perr) == WIZ_ERR_OK)
			live_cluster_set(&e->live, &l, g->host->name);
		else
			snprintf(g->live_msg, sizeof g->live_msg, "%.199s", perr.msg);
		etcd_member_list_free(&l);
	}
	for (size_t i = 0; i < e->n_hosts; i++) {
		struct engine_host *g = &e->hosts[i];
		char *peer;

		if (!g->is_member)
			continue;
		if (!e->live.running) {
			char *said = g->live_status > 0 && g->live_status != 200
					     ? eng_answer_text(WIZ_ERR_OK, g->live_status, g->live_body, g->live_len, NULL)
					     : xstrdup(g->live_msg[0] ? g->live_msg : _("not asked"));
			size_t used = strlen(why);

			snprintf(why + used, sizeof why - used, "%s%s: %s", used ? "; " : "",
				 g->host->name, said);
			free(said);
		}
		peer = member_peer_url(g->host);
		for (size_t k = 0; k < e->live.n; k++)
			if (strcmp(e->live.members[k].peer_url, peer) == 0) {
				e->live.members[k].in_file = true;
				e->live.members[k].viewed = g->live_viewed;
				e->live.members[k].view = g->live_view;
			}
		free(peer);
		free(g->live_body);
		g->live_body = NULL;
	}
	if (!e->live.running)
		snprintf(e->live.why, sizeof e->live.why, "%s", why);
	if (live_settle_wait(e))
		return;
	e->live.known = true;
	e->live_reading = false;
	if (e->live.running)
		eng_journal(e, "cluster: running, %zu members (%zu voting), listed by %s", e->live.n,
			    live_voters(&e->live), e->live.asked);
	else
		eng_journal(e, "cluster: not running (%s)", e->live.why);
	if (e->sink.cluster_read)
		e->sink.cluster_read(&e->live, e->sink.ud);
	if (e->opts.apply && eng_remove_needed(e)) {
		eng_remove_start(e);
		return;
	}
	eng_live_release(e);
}

void eng_live_release(struct engine *e)
{
	for (size_t i = 0; i < e->n_hosts; i++)
		if (e->hosts[i].phase == PH_LIVE)
			eng_plan_step(&e->hosts[i], true);
}

static void live_one_done(struct engine *e)
{
	if (--e->live_pending == 0)
		live_finish(e);
}

static void live_listed(enum wiz_err code, int status, const char *body, size_t len, const char *msg,
			void *ud)
{
	struct engine_host *g = ud;

	g->live_call = NULL;
	g->live_status = code == WIZ_ERR_OK ? status : 0;
	if (body != NULL && status > 0) {
		g->live_body = xmalloc(len + 1);
		memcpy(g->live_body, body, len);
		g->live_body[len] = '\0';
		g->live_len = len;
	}
	if (status == 0 || code != WIZ_ERR_OK)
		snprintf(g->live_msg, sizeof g->live_msg, "%s",
			 msg && msg[0] ? msg : wiz_err_name(code));
	live_one_done(g->engine);
}

static void live_viewed(enum wiz_err code, const struct etcd_member_view *v, const char *msg, void *ud)
{
	struct engine_host *g = ud;

	(void)msg;
	g->live_ask = NULL;
	if (code == WIZ_ERR_OK) {
		g->live_viewed = true;
		g->live_view = *v;
	}
	/* Healthy, but the try ended before its status came (a member just
	 * restarted answers slowly): asked again, twice at most, since a
	 * plan that changes versions must know each member's. */
	if (code == WIZ_ERR_OK && v->answered && v->healthy && !v->version[0] && ++g->live_tries < 3) {
		struct engine *e = g->engine;
		struct transport_ask q = eng_ask_of(e, g);

		g->live_ask = e->t.ops->ask_etcd(e->t.self, g->conn, &q, live_viewed, g);
		return;
	}
	live_one_done(g->engine);
}

static void live_start(struct engine *e)
{
	e->live_reading = true;
	e->live.prune = e->opts.prune_members;
	e->live.prune_only = e->opts.prune_only;
	e->live.joinable = &e->joinable;
	if (!eng_load_creds(e)) {
		e->live_pending = 1;
		for (size_t i = 0; i < e->n_hosts; i++)
			if (e->hosts[i].is_member)
				snprintf(e->hosts[i].live_msg, sizeof e->hosts[i].live_msg, "%.199s",
					 e->creds_err.code == WIZ_ERR_NOTFOUND
						 ? _("not asked: no client certificate in the local PKI store yet")
						 : e->creds_err.msg);
		live_one_done(e);
		return;
	}
	e->live_pending = 1;	/* held until every question is out */
	for (size_t i = 0; i < e->n_hosts; i++) {
		struct engine_host *g = &e->hosts[i];
		struct transport_ask q = eng_ask_of(e, g);

		if (!g->is_member)
			continue;
		if (!g->selected || g->dead || !g->connected) {
			snprintf(g->live_msg, sizeof g->live_msg, "%s",
				 !g->selected ? _("not asked: not in --limit") : _("not asked: its host is not connected"));
			if (!g->selected) {
				size_t used = strlen(e->live.unasked);

				snprintf(e->live.unasked + used, sizeof e->live.unasked - used, "%s%s",
					 used ? ", " : "", g->host->name);
			}
			continue;
		}
		strlist_push(&e->joinable, g->host->name);
		e->live_pending += 2;
		g->live_call = e->t.ops->call_etcd(e->t.self, g->conn, &q, "/v3/cluster/member/list", "{}",
						   live_listed, g);
		g->live_ask = e->t.ops->ask_etcd(e->t.self, g->conn, &q, live_viewed, g);
	}
	live_one_done(e);
}

void eng_live_poke(struct engine *e)
{
	bool wanted = false;

	if (e->live.known || e->live_reading)
		return;
	for (size_t i = 0; i < e->n_hosts && !wanted; i++)
		wanted = e->hosts[i].phase == PH_LIVE;
	if (!wanted)
		return;
	/* Every member that will be asked is connected first: a joining
	 * member must not take a cluster for absent because its peers were
	 * slower to connect. */
	for (size_t i = 0; i < e->n_hosts; i++) {
		const struct engine_host *g = &e->hosts[i];

		if (g->is_member && g->selected && !g->dead && !g->connected && g->phase != PH_DONE)
			return;
	}
	live_start(e);
}

bool eng_live_ready(struct engine_host *h)
{
	struct engine *e = h->engine;

	if (e->member_stop != NULL) {
		eng_finish_step(h, HOST_FAILED, _("not changed: %s"), e->member_stop);
		return false;
	}
	if (e->live.known && e->leave_at >= e->n_leaving)
		return true;
	h->phase = PH_LIVE;
	eng_live_poke(e);
	return false;
}

/* ---- joining ---- */

/* A healthy voting member other than h to send membership calls to (the
 * gate asked each just now), the leader first. */
static struct engine_host *join_voter(struct engine *e, const struct engine_host *h)
{
	struct engine_host *pick = NULL;

	for (size_t i = 0; i < e->n_hosts; i++) {
		struct engine_host *g = &e->hosts[i];

		if (g == h || !g->is_member || g->dead || !g->connected || !eng_view_ok(&g->roll_view) ||
		    g->roll_view.learner || membership_change(e->c, &e->live, g->index, NULL) != MEMBER_KEEP)
			continue;
		if (pick == NULL || (g->roll_view.leader && !pick->roll_view.leader))
			pick = g;
	}
	return pick;
}

void eng_call(struct engine *e, struct engine_host *via, void **slot, const char *path,
	      const char *body, etcd_call_fn cb, void *ud)
{
	struct transport_ask q = eng_ask_of(e, via);

	*slot = e->t.ops->call_etcd(e->t.self, via->conn, &q, path, body, cb, ud);
}

static void join_call(struct engine_host *h, const char *path, const char *body, etcd_call_fn cb)
{
	eng_call(h->engine, h->join_via, &h->join_call, path, body, cb, h);
}

static void join_undo(struct engine_host *h, char *why);
static void join_retry(struct engine_host *h);

static void join_fail(struct engine_host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void join_fail(struct engine_host *h, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	h->joining = false;
	eng_finish_step(h, HOST_FAILED, "%s", msg);
	free(msg);
}

/* The bundle (its manifest), or straight to the promotion when the host
 * has it already (a learner whose etcd runs). */
static void join_bundle(struct engine_host *h)
{
	if (plan_is_empty(&h->plan))
		eng_join_after(h);
	else
		eng_run_bundle(h);
}

/* Every peer URL etcd now lists is one the manifest's --initial-cluster
 * names, and as many: else etcd would refuse to start the member. */
static bool same_members(const struct engine_host *h, const struct etcd_member_list *l)
{
	struct engine *e = h->engine;
	char *want = membership_initial_cluster(e->c, &e->live, h->index);
	size_t entries = 1;
	bool ok = want != NULL;

	for (const char *p = want; ok && *p; p++)
		entries += *p == ',';
	for (size_t i = 0; ok && i < l->n_members; i++) {
		const char *u = l->members[i].peer_urls.n ? l->members[i].peer_urls.items[0] : "";
		char *needle = xasprintf("=%s", u);
		const char *at = strstr(want, needle);
		size_t n = strlen(needle);

		ok = at != NULL && (at[n] == ',' || at[n] == '\0');
		free(needle);
	}
	ok = ok && entries == l->n_members;
	free(want);
	return ok;
}

const char *engine_join_phase_text(enum engine_join_phase p)
{
	static const char *const text[] = {
#define ENGINE_JOIN_PHASE_TEXT(id, t) t,
		ENGINE_JOIN_PHASE_INFO(ENGINE_JOIN_PHASE_TEXT)
#undef ENGINE_JOIN_PHASE_TEXT
	};

	return (size_t)p < sizeof text / sizeof text[0] ? text[p] : "?";
}

static void join_phase(struct engine_host *h, enum engine_join_phase p)
{
	struct engine *e = h->engine;

	if (e->sink.join_phase)
		e->sink.join_phase(h->host->name, p, e->sink.ud);
}

static void join_added(enum wiz_err code, int status, const char *body, size_t len, const char *msg,
		       void *ud)
{
	struct engine_host *h = ud;
	struct engine *e = h->engine;
	struct etcd_member_add add;
	struct wiz_error perr = { 0 };
	bool same;

	h->join_call = NULL;
	if (h->phase != PH_JOIN)
		return;
	if (code != WIZ_ERR_OK || status != 200) {
		char *t = eng_answer_text(code, status, body, len, msg);
		/* Right after a promotion etcd counts the new voter as not yet
		 * active for a few seconds ("unhealthy cluster"): asked again
		 * within the bound. A refusal for a reason is final. */
		bool again = code == WIZ_ERR_OK && (status == 0 || strstr(t, "unhealthy cluster") != NULL);

		if (again && loop_now() + JOIN_RETRY_MS < h->join_deadline) {
			free(t);
			join_retry(h);
			return;
		}
		if (strstr(t, "already exist") != NULL)	/* "member ID already exist", "Peer URLs already exists" */
			join_fail(h, _("etcd has a member at %s's peer URL already (%s), perhaps added by a try whose answer was lost: apply again, and a learner found there is promoted, not added twice"),
				  h->host->name, t);
		else if (status == 0)
			join_fail(h, _("cannot ask %s to add %s: %s; if the question reached etcd, the next apply finds the learner and goes on"),
				  h->join_via->host->name, h->host->name, t);
		else
			join_fail(h, _("etcd refused to add %s as a learner: %s; nothing was changed"), h->host->name, t);
		free(t);
		return;
	}
	if (etcd_json_parse_member_add(body, len, &add, &perr) != WIZ_ERR_OK) {
		etcd_member_add_free(&add);
		join_fail(h, _("%s was perhaps added as a learner, but etcd's answer cannot be read (%s): run 'etcdwiz member list -f FILE', then apply again (a learner already added is found again, not added twice)"),
			  h->host->name, perr.msg);
		return;
	}
	h->join_id = add.member.id;
	same = same_members(h, &add.list);
	eng_journal(e, "join: %s added as a learner (id %016" PRIx64 ") through %s", h->host->name,
		    h->join_id, h->join_via->host->name);
	if (!same) {
		size_t n = add.list.n_members;

		etcd_member_add_free(&add);
		join_undo(h, xasprintf(_("the cluster's members changed since the plan (etcd lists %zu members with %s, not the ones its manifest names)"),
				       n, h->host->name));
		return;
	}
	live_cluster_set(&e->live, &add.list, h->join_via->host->name);
	etcd_member_add_free(&add);
	join_phase(h, JOIN_LEARNER_ADDED);
	join_bundle(h);
}

static unsigned join_bound_s(const struct engine *e)
{
	return e->opts.health_timeout_s ? e->opts.health_timeout_s : VERIFY_DEFAULT_TIMEOUT_S;
}

static void add_try(struct engine_host *h)
{
	char *peer = member_peer_url(h->host);
	char *body = xasprintf("{\"peerURLs\":[\"%s\"],\"isLearner\":true}", peer);

	join_call(h, "/v3/cluster/member/add", body, join_added);
	free(body);
	free(peer);
}

static void promote_try(struct engine_host *h);

/* The one retry timer of a join: the add until etcd answered it, then the
 * promotion. */
static void join_again(struct loop_timer *t, void *ud)
{
	struct engine_host *h = ud;

	(void)t;
	if (h->phase != PH_JOIN || !h->joining)
		return;
	if (h->join_id == 0)
		add_try(h);
	else
		promote_try(h);
}

static void join_retry(struct engine_host *h)
{
	if (h->join_timer == NULL)
		h->join_timer = loop_timer_add(h->engine->loop, join_again, h);
	loop_timer_arm_in(h->join_timer, JOIN_RETRY_MS);
}

void eng_join_start(struct engine_host *h)
{
	struct engine *e = h->engine;
	char *peer = member_peer_url(h->host);
	const struct live_member *lm = live_find_peer(&e->live, peer);

	h->phase = PH_JOIN;
	h->joining = true;
	h->join_id = 0;
	h->join_via = join_voter(e, h);
	if (h->join_via == NULL) {
		free(peer);
		join_fail(h, _("no healthy voting member to add %s through; nothing was changed"), h->host->name);
		return;
	}
	if (lm != NULL) {
		h->join_id = lm->id;
		eng_journal(e, "join: %s is a learner already (id %016" PRIx64 "): not added again",
			    h->host->name, h->join_id);
		free(peer);
		join_phase(h, JOIN_LEARNER_ADDED);
		join_bundle(h);
		return;
	}
	eng_journal(e, "join: adding %s as a learner through %s", h->host->name, h->join_via->host->name);
	h->join_start = loop_now();
	h->join_deadline = h->join_start + (uint64_t)join_bound_s(e) * 1000;
	free(peer);
	add_try(h);
}

/* The learner is a voting member now: the roll's own check follows. */
static void promoted_now(struct engine_host *h, const struct etcd_member_list *after)
{
	struct engine *e = h->engine;

	if (after != NULL) {
		live_cluster_set(&e->live, after, h->join_via->host->name);
	} else {
		for (size_t k = 0; k < e->live.n; k++)
			if (e->live.members[k].id == h->join_id)
				e->live.members[k].learner = false;
	}
	eng_journal(e, "join: %s promoted to a voting member after %.1f s", h->host->name,
		    (double)(loop_now() - h->join_start) / 1000.0);
	h->joining = false;
	join_phase(h, JOIN_PROMOTED);
	h->phase = PH_ROLL_AFTER;
	h->roll_start = loop_now();
	h->roll_deadline = h->roll_start + (uint64_t)join_bound_s(e) * 1000;
	eng_roll_after_try(h);
}

static void promote_answered(enum wiz_err code, int status, const char *body, size_t len,
			     const char *msg, void *ud)
{
	struct engine_host *h = ud;
	char *said;

	h->join_call = NULL;
	if (h->phase != PH_JOIN || !h->joining)
		return;
	if (code == WIZ_ERR_OK && status == 200) {
		struct etcd_member_list l;
		struct wiz_error perr = { 0 };
		bool ok = etcd_json_parse_members_after("/v3/cluster/member/promote", body, len, &l, &perr) ==
			  WIZ_ERR_OK;

		promoted_now(h, ok ? &l : NULL);
		etcd_member_list_free(&l);
		return;
	}
	said = eng_answer_text(code, status, body, len, msg);
	/* Promoted by an earlier try whose answer was lost. */
	if (status > 0 && strstr(said, "can only promote a learner member") != NULL &&
	    strstr(said, "in sync") == NULL) {
		free(said);
		promoted_now(h, NULL);
		return;
	}
	if (status > 0 && strstr(said, "member not found") != NULL) {
		join_fail(h, _("%s (id %016" PRIx64 ") is no longer in the cluster: something else removed it; apply again to add it anew"),
			  h->host->name, h->join_id);
		free(said);
		return;
	}
	if (!h->join_behind && status > 0 && strstr(said, "in sync") != NULL) {
		h->join_behind = true;
		join_phase(h, JOIN_CATCHING_UP);
	}
	if (loop_now() + JOIN_RETRY_MS >= h->join_deadline) {
		join_undo(h, xasprintf(_("%s did not catch up with the leader within %.0f s (etcd said: %s)"),
				       h->host->name, (double)(loop_now() - h->join_start) / 1000.0, said));
		free(said);
		return;
	}
	free(said);
	join_retry(h);
}

static void promote_try(struct engine_host *h)
{
	char *body = xasprintf("{\"ID\":\"%" PRIu64 "\"}", h->join_id);

	if (h->join_via->dead || !h->join_via->connected) {
		struct engine_host *via = join_voter(h->engine, h);

		if (via == NULL) {
			free(body);
			join_fail(h, _("no healthy voting member is left to promote %s through; it stays a learner: apply again once the cluster is healthy"),
				  h->host->name);
			return;
		}
		h->join_via = via;
	}
	join_call(h, "/v3/cluster/member/promote", body, promote_answered);
	free(body);
}

void eng_join_after(struct engine_host *h)
{
	struct engine *e = h->engine;
	unsigned bound = join_bound_s(e);

	h->phase = PH_JOIN;
	h->join_start = loop_now();
	h->join_deadline = h->join_start + (uint64_t)bound * 1000;
	eng_journal(e, "join: %s started as a learner; promoting it once it has caught up", h->host->name);
	h->join_behind = false;
	join_phase(h, JOIN_STARTED);
	promote_try(h);
}

/* ---- undoing a join ---- */

/* On the host: the manifest out of kubelet's directory first (so kubelet
 * stops etcd), then, once no etcd runs, the data directory renamed, and
 * with $3 "certs" (a member removed for good, on a host that is no
 * control-plane host) its etcd certificates; all dated with the suffix
 * ($2: "failed-join", "removed"), never deleted. Prints the date. */
static const char set_aside[] =
	"d=$(date +%Y%m%d-%H%M%S)\n"
	"if [ -f /etc/kubernetes/manifests/etcd.yaml ]; then\n"
	"  mv /etc/kubernetes/manifests/etcd.yaml \"/etc/kubernetes/etcd.yaml.$2-$d\" || exit 1\n"
	"fi\n"
	/* kubelet may be starting etcd again from the old manifest: the data
	 * directory moves once no etcd runs (at most 30 s). */
	"i=0; while pgrep -x etcd >/dev/null && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done\n"
	"if pgrep -x etcd >/dev/null; then\n"
	"  echo \"etcd still runs 30 s after its manifest was moved; its data directory $1 was left in place\" >&2; exit 1\n"
	"fi\n"
	"if [ -e \"$1\" ]; then mv \"$1\" \"$1.$2-$d\" || exit 1; fi\n"
	/* A member removed for good: its etcd certificates too (a later
	 * member on this host gets new ones, not these). */
	"if [ \"$3\" = certs ]; then\n"
	"  for f in /etc/kubernetes/pki/etcd /etc/kubernetes/pki/apiserver-etcd-client.crt \\\n"
	"           /etc/kubernetes/pki/apiserver-etcd-client.key; do\n"
	"    if [ -e \"$f\" ]; then mv \"$f\" \"$f.$2-$d\" || exit 1; fi\n"
	"  done\n"
	"fi\n"
	"echo \"set-aside=$d\"";

void eng_set_aside_stamp(const struct ssh_result *r, char *stamp, size_t n)
{
	const char *at = r->out ? strstr(r->out, "set-aside=") : NULL;

	snprintf(stamp, n, "%s", "?");
	if (at != NULL)
		snprintf(stamp, n, "%.*s", (int)strcspn(at + 10, "\n"), at + 10);
}

char *eng_set_aside_cmd(const char *data_dir, const char *suffix, bool certs)
{
	char *q = sh_quote(data_dir), *qs = sh_quote(suffix);
	char *cmd = xasprintf("set -- %s %s %s\n%s", q, qs, certs ? "certs" : "keep", set_aside);

	free(q);
	free(qs);
	return cmd;
}

static void set_aside_done(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct engine_host *h = eng_request_end(ud);
	const char *dir;
	char stamp[32] = "";

	(void)op;
	if (h == NULL)
		return;
	dir = h->engine->c->etcd.data_dir;
	if (r->code != WIZ_ERR_OK) {
		join_fail(h, _("%s; it was removed from the cluster again, but moving its manifest and data directory aside failed (%s): move /etc/kubernetes/manifests/etcd.yaml and %s aside by hand before the next apply"),
			  h->join_why, r->errout && r->errout[0] ? r->errout : r->err.msg, dir);
		return;
	}
	eng_set_aside_stamp(r, stamp, sizeof stamp);
	join_fail(h, _("%s; it was removed from the cluster again, its manifest moved to /etc/kubernetes/etcd.yaml.failed-join-%s and its data directory to %s.failed-join-%s; find the cause there (its pod log), then apply again"),
		  h->join_why, stamp, dir, stamp);
}

static void removed_again(enum wiz_err code, int status, const char *body, size_t len,
			  const char *msg, void *ud)
{
	struct engine_host *h = ud;
	struct ssh_exec_opts xo = { 0 };
	char *cmd;

	h->join_call = NULL;
	if (h->phase != PH_JOIN)
		return;
	if (code != WIZ_ERR_OK || status != 200) {
		char *t = eng_answer_text(code, status, body, len, msg);

		join_fail(h, _("%s; removing the learner again failed too (%s): remove it by hand (etcdctl member remove %016" PRIx64 ") before the next apply"),
			  h->join_why, t, h->join_id);
		free(t);
		return;
	}
	eng_journal(h->engine, "join: %s removed from the cluster again (id %016" PRIx64 ")", h->host->name,
		    h->join_id);
	join_phase(h, JOIN_UNDONE);
	cmd = eng_set_aside_cmd(h->engine->c->etcd.data_dir, "failed-join", false);
	xo.timeout_ms = 60000;
	eng_exec_on(h, PH_JOIN, cmd, &xo, NULL, set_aside_done);
	free(cmd);
}

/* Removes the learner again (a learner's removal needs no quorum check),
 * then sets its files aside; the step fails with why. Takes why. */
static void join_undo(struct engine_host *h, char *why)
{
	struct engine_host *via = h->join_via->dead || !h->join_via->connected ? join_voter(h->engine, h) : h->join_via;
	char *body = xasprintf("{\"ID\":\"%" PRIu64 "\"}", h->join_id);

	free(h->join_why);
	h->join_why = why;
	eng_journal(h->engine, "join: undoing %s: %s", h->host->name, why);
	if (via == NULL) {
		free(body);
		join_fail(h, _("%s; no healthy voting member is left to remove the learner through: remove it by hand (etcdctl member remove %016" PRIx64 ") before the next apply"),
			  why, h->join_id);
		return;
	}
	h->join_via = via;
	join_call(h, "/v3/cluster/member/remove", body, removed_again);
	free(body);
}

void eng_member_free(struct engine *e)
{
	for (size_t i = 0; i < e->n_hosts; i++) {
		struct engine_host *h = &e->hosts[i];

		if (h->live_call != NULL)
			e->t.ops->cancel_ask(e->t.self, h->live_call);
		if (h->live_ask != NULL)
			e->t.ops->cancel_ask(e->t.self, h->live_ask);
		if (h->join_call != NULL)
			e->t.ops->cancel_ask(e->t.self, h->join_call);
		loop_timer_del(h->join_timer);
		free(h->live_body);
		free(h->join_why);
	}
	loop_timer_del(e->live_timer);
	eng_remove_free(e);
	live_cluster_free(&e->live);
	strlist_free(&e->joinable);
	free(e->member_stop);
}
