#include "config.h"

#include "install/engine.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/i18n.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/xmalloc.h"
#include "etcd/http-tls.h"
#include "install/bundle.h"
#include "install/engine-internal.h"
#include "install/fleet.h"
#include "ssh/ssh.h"

static const char *const host_result_names[] = {
#define HOST_RESULT_NAME(id, name) name,
	HOST_RESULT_INFO(HOST_RESULT_NAME)
#undef HOST_RESULT_NAME
};

const char *host_result_name(enum host_result r)
{
	return (unsigned)r < HOST_RESULT_COUNT ? host_result_names[r] : "?";
}

const char *host_result_text(enum host_result r)
{
	switch (r) {
	case HOST_OK: return N_("ok");
	case HOST_CHANGED: return N_("changed");
	case HOST_FAILED: return N_("failed");
	case HOST_SKIPPED: return N_("skipped");
	case HOST_UNREACHABLE: return N_("unreachable");
	default: return "?";
	}
}

void eng_journal(struct engine *e, const char *fmt, ...)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	if (e->journal == NULL)
		return;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(e->journal, "%s ", stamp);
	va_start(ap, fmt);
	vfprintf(e->journal, fmt, ap);
	va_end(ap);
	fputc('\n', e->journal);
	fflush(e->journal);
}

static bool in_list(const struct strlist *l, const char *name)
{
	return l == NULL || l->n == 0 || strlist_contains(l, name);
}

/* ---- the check cache ---- */

struct cached_check {
	char *host, *step, *text;
};

struct check_cache {
	struct cached_check *items;
	size_t n;
};

struct check_cache *check_cache_new(void)
{
	return xcalloc(1, sizeof(struct check_cache));
}

void check_cache_clear(struct check_cache *cc)
{
	for (size_t i = 0; i < cc->n; i++) {
		free(cc->items[i].host);
		free(cc->items[i].step);
		free(cc->items[i].text);
	}
	free(cc->items);
	cc->items = NULL;
	cc->n = 0;
}

void check_cache_free(struct check_cache *cc)
{
	if (cc == NULL)
		return;
	check_cache_clear(cc);
	free(cc);
}

static struct cached_check *cache_find(struct check_cache *cc, const char *host, const char *step)
{
	for (size_t i = 0; i < cc->n; i++)
		if (strcmp(cc->items[i].host, host) == 0 && strcmp(cc->items[i].step, step) == 0)
			return &cc->items[i];
	return NULL;
}

static void cache_put(struct check_cache *cc, const char *host, const char *step, const char *text)
{
	struct cached_check *c = cache_find(cc, host, step);

	if (c == NULL) {
		cc->items = xreallocarray(cc->items, cc->n + 1, sizeof *cc->items);
		c = &cc->items[cc->n++];
		c->host = xstrdup(host);
		c->step = xstrdup(step);
	} else {
		free(c->text);
	}
	c->text = xstrdup(text);
}

/* Takes the host's recorded checks out of the cache. */
static void cache_drop_host(struct check_cache *cc, const char *host)
{
	size_t k = 0;

	for (size_t i = 0; i < cc->n; i++) {
		if (strcmp(cc->items[i].host, host) == 0) {
			free(cc->items[i].host);
			free(cc->items[i].step);
			free(cc->items[i].text);
		} else {
			cc->items[k++] = cc->items[i];
		}
	}
	cc->n = k;
}

static bool step_selected(const struct engine *e, size_t k)
{
	return in_list(e->opts.steps, e->steps[k]->name);
}

static bool host_takes(const struct engine_host *h, size_t k)
{
	const struct step *s = h->engine->steps[k];

	return h->selected && step_selected(h->engine, k) &&
	       (h->is_member ? (s->hosts & STEP_MEMBERS) : (s->hosts & STEP_CONTROL_PLANE));
}

/* The first step at or after k that h takes, or n_steps. */
static size_t next_taken(const struct engine_host *h, size_t k)
{
	while (k < h->engine->n_steps && !host_takes(h, k))
		k++;
	return k;
}

static char *read_local_thunk(const struct step_env *env, const char *rel, size_t *len)
{
	const struct engine_host *h = env->ud;
	const struct engine *e = h->engine;

	if (e->opts.read_local == NULL)
		return NULL;
	return e->opts.read_local(h->host, h->is_member, rel, len, e->opts.read_local_ud);
}

/* Step k's findings on h become text (owned), parsed once. */
static void set_probe(struct engine_host *h, size_t k, char *text)
{
	free(h->probes[k].text);
	probe_free(h->probes[k].parsed);
	h->probes[k].text = text;
	h->probes[k].parsed = text ? probe_parse(text) : NULL;
}

static void fill_env(struct engine_host *h, size_t k, struct step_env *env)
{
	struct engine *e = h->engine;

	memset(env, 0, sizeof *env);
	env->cluster = e->c;
	env->host = h->host;
	env->is_member = h->is_member;
	env->member_index = h->index;
	env->probe = h->probes[k].parsed;
	env->os = &h->os;
	env->cluster_token = e->opts.cluster_token ? e->opts.cluster_token : "";
	env->ignore_preflight = e->opts.ignore_preflight;
	env->applying = e->opts.apply;
	env->kubeadm_init = e->opts.kubeadm_init;
	env->health_timeout_s = e->opts.health_timeout_s;
	env->allow_downgrade = e->opts.allow_downgrade;
	env->live = e->live.known ? &e->live : NULL;
	env->read_local = read_local_thunk;
	env->ud = h;
	if (k == h->ask_step && h->ask_finished) {
		env->etcd = &h->view;
		env->etcd_waited_s = (unsigned)((loop_now() - h->ask_start) / 1000);
	}
}

/* Step headers go out in the table's order, once, as the first host gets
 * to a step (hosts run ahead of each other: each line names its step). */
static void announce(struct engine *e, size_t k)
{
	for (; e->announced <= k; e->announced++) {
		size_t j = e->announced;
		bool anyone = false;

		for (size_t i = 0; i < e->n_hosts && !anyone; i++)
			anyone = host_takes(&e->hosts[i], j);
		if (!anyone)
			continue;
		eng_journal(e, "step %s", e->steps[j]->name);
		if (e->sink.step_started)
			e->sink.step_started(e->steps[j], e->sink.ud);
	}
}

static struct request *request_new(struct engine_host *h)
{
	struct request *q = xcalloc(1, sizeof *q);

	q->h = h;
	h->req = q;
	return q;
}

/* The host of a finished request, or NULL when the engine is gone. */
struct engine_host *eng_request_end(struct request *q)
{
	struct engine_host *h = q->h;

	if (h != NULL)
		h->req = NULL;
	if (q->starting) {
		q->ended = true;	/* exec_on frees it once the call returns */
		return h;
	}
	bundle_free(&q->bundle);
	free(q);
	return h;
}

/* Unreachable is what the transport saw: the host gone, or a session that
 * timed out. A command that ran out of time on a live session failed. */
enum host_result eng_result_for_error(const struct engine_host *h, enum wiz_err code)
{
	const struct engine *e = h->engine;

	if (code == WIZ_ERR_UNREACHABLE)
		return HOST_UNREACHABLE;
	if (code == WIZ_ERR_TIMEOUT && e->t.ops->lost(e->t.self, h->conn))
		return HOST_UNREACHABLE;
	return HOST_FAILED;
}

void eng_exec_on(struct engine_host *h, enum host_phase phase, const char *cmd,
		    struct ssh_exec_opts *xo, struct bundle *b, ssh_done_fn cb)
{
	struct engine *e = h->engine;
	struct request *q = request_new(h);
	struct ssh_op *op;

	if (b != NULL) {
		q->bundle = *b;
		xo->input = q->bundle.input;
		xo->input_len = q->bundle.input_len;
		cmd = q->bundle.script;
	}

	h->phase = phase;
	h->execs++;
	xo->as_root = true;
	if (xo->on_output != NULL)
		xo->on_output_ud = q;
	q->starting = true;
	op = e->t.ops->exec(e->t.self, h->conn, cmd, xo, cb, q);
	q->starting = false;
	if (q->ended) {
		bundle_free(&q->bundle);
		free(q);
	} else {
		q->op = op;
	}
}

static void host_goto(struct engine_host *h, size_t from);
static void check_barriers(struct engine *e);
static void roll_next(struct engine *e);

static void report(struct engine_host *h, size_t k, enum host_result r, const char *msg)
{
	struct engine *e = h->engine;
	const struct step *s = e->steps[k];

	h->counts[r]++;
	eng_journal(e, "%s %s %s%s%s", h->host->name, s->name, host_result_name(r), msg ? ": " : "",
		msg ? msg : "");
	if (e->sink.host_done)
		e->sink.host_done(h, s, r, msg, e->sink.ud);
}

static void maybe_done(struct engine *e)
{
	if (e->done)
		return;
	for (size_t i = 0; i < e->n_hosts; i++)
		if (e->hosts[i].selected && e->hosts[i].phase != PH_DONE)
			return;
	e->done = true;
	for (size_t i = 0; i < e->n_hosts; i++)
		if (e->hosts[i].selected)
			eng_journal(e, "%s remote commands: %u", e->hosts[i].host->name, e->hosts[i].execs);
	eng_journal(e, "done");
}

void eng_finish_step(struct engine_host *h, enum host_result r, const char *fmt, ...)
{
	struct engine *e = h->engine;
	size_t k = h->step;
	char *msg = NULL;

	if (fmt != NULL) {
		va_list ap;

		va_start(ap, fmt);
		msg = xvasprintf(fmt, ap);
		va_end(ap);
	}
	bool joined = h->plan.joins_cluster;

	plan_free(&h->plan);
	report(h, k, r, msg);
	if (e->roller == h) {
		e->roller = NULL;
		if ((r == HOST_FAILED || r == HOST_UNREACHABLE) && e->roll_stop == NULL)
			e->roll_stop = xasprintf(joined ? _("%s did not join: %s")
						 : _("%s did not finish its restart: %s"), h->host->name,
						 msg ? msg : host_result_name(r));
	}
	free(msg);
	if (r == HOST_FAILED || r == HOST_UNREACHABLE) {
		h->dead = true;
		for (size_t j = next_taken(h, k + 1); j < e->n_steps; j = next_taken(h, j + 1))
			report(h, j, HOST_SKIPPED, NULL);
		h->step = e->n_steps;
		h->phase = PH_DONE;
		check_barriers(e);
		roll_next(e);
		eng_live_poke(e);
		maybe_done(e);
		return;
	}
	host_goto(h, k + 1);
}

static void bundle_progress(const char *out, size_t len, void *ud);
static void roll_after(struct engine_host *h);

/* ---- checks ---- */

/* The block of the files every step in scope declared (not a step name). */
#define FILES_SLICE "@files"

/* Which checks one exec runs, from the host's step k on. */
enum checks_scope {
	CHECKS_ALL,	/* k and every later step (when applying: not the barriers) */
	CHECKS_OWN,	/* k alone (a barrier's check when it opens) */
	CHECKS_NEXT,	/* k (its proof) and the next step, for its plan: after a bundle */
};

static bool in_scope(const struct engine_host *h, size_t k, size_t j, enum checks_scope scope)
{
	const struct engine *e = h->engine;

	if (j == k)
		return true;
	if (scope == CHECKS_OWN || (e->steps[j]->barrier && e->opts.apply))
		return false;
	return scope == CHECKS_ALL || j == next_taken(h, k + 1);
}

/* Shell text running the checks in scope. os-release comes first: steps
 * depend on the OS family. A later step's check after a bundle is only the
 * next one's: the steps after it keep their findings from before (a file
 * they would write that changed meanwhile is refused, never overwritten). */
static char *checks_command(struct engine_host *h, size_t k, enum checks_scope scope,
			    unsigned *timeout_s)
{
	struct engine *e = h->engine;
	/* The echo ends os-release's last line even without a newline. */
	char *cmd = xstrdup("echo '@@os-release'; cat /etc/os-release 2>/dev/null; echo\n");

	struct probe_request files = { 0 };
	char *steps = xstrdup("");

	*timeout_s = PROBE_EXEC_TIMEOUT_S;
	/* The files of every step in scope first, in one block; then each
	 * step's items in its own slice. */
	for (size_t j = k; j < e->n_steps; j = next_taken(h, j + 1)) {
		const struct step *s = e->steps[j];
		struct probe_request req = { 0 };
		struct step_env env;
		char *body;

		if (!in_scope(h, k, j, scope))
			continue;
		fill_env(h, j, &env);
		s->reads(&env, &req);
		probe_request_take_files(&files, &req);
		body = probe_items_cmd(&req);
		probe_batch_add(&steps, e->token, s->name, body);
		free(body);
		probe_request_free(&req);
		if (s->check_timeout_s)
			*timeout_s += s->check_timeout_s(&env);
	}
	if (files.n_files > 0) {
		char *body = probe_files_cmd(&files);

		probe_batch_add(&cmd, e->token, FILES_SLICE, body);
		free(body);
	}
	probe_request_free(&files);
	xasprintf_append(&cmd, "%s", steps);
	free(steps);
	return cmd;
}

/* The text of the "@@os-release" block of a checks_command's output (up
 * to the next marker), or NULL. */
static char *os_release_of(const char *out)
{
	static const char marker[] = "@@os-release\n";
	const char *end, *at = out;

	/* At the start of a line (a noisy shell profile may print first). */
	while (at != NULL && strncmp(at, marker, sizeof marker - 1) != 0) {
		at = strstr(at, "\n@@os-release\n");
		at = at ? at + 1 : NULL;
	}
	if (at == NULL)
		return NULL;
	out = at + sizeof marker - 1;
	end = strstr(out, "\n@@");
	return xstrndup(out, end ? (size_t)(end + 1 - out) : strlen(out));
}

/* Files the output of a checks_command under each step's name. */
static void store_checks(struct engine_host *h, size_t k, enum checks_scope scope, const char *out)
{
	struct engine *e = h->engine;
	char *osr = os_release_of(out);
	char *files;

	os_info_parse(osr, &h->os);
	if (e->opts.checks && h->phase == PH_PROBE) {
		char *text = xasprintf("@@os-release\n%s", osr ? osr : "");

		cache_put(e->opts.checks, h->host->name, "@os-release", text);
		free(text);
	}
	free(osr);
	files = probe_batch_slice(out, e->token, FILES_SLICE);
	for (size_t j = k; j < e->n_steps; j = next_taken(h, j + 1)) {
		const struct step *s = e->steps[j];
		char *text;

		if (!in_scope(h, k, j, scope))
			continue;
		text = probe_batch_slice(out, e->token, s->name);
		/* Each step sees the files block beside its own items (the block
		 * holds every step's files; a plan reads its own). */
		if (text != NULL && files != NULL) {
			size_t n = strlen(text);

			xasprintf_append(&text, "%s%s", n > 0 && text[n - 1] != '\n' ? "\n" : "", files);
		}
		set_probe(h, j, text);
		if (e->opts.checks && h->phase == PH_PROBE && h->probes[j].text && !s->barrier)
			cache_put(e->opts.checks, h->host->name, s->name, h->probes[j].text);
	}
	free(files);
}

/* Starts from a plan pass's checks when every one is recorded. */
static bool reuse_checks(struct engine_host *h)
{
	struct engine *e = h->engine;
	struct check_cache *cc = e->opts.checks;
	struct cached_check *osr;

	if (cc == NULL || !e->opts.reuse_checks ||
	    (osr = cache_find(cc, h->host->name, "@os-release")) == NULL)
		return false;
	for (size_t j = h->step; j < e->n_steps; j = next_taken(h, j + 1))
		if (!e->steps[j]->barrier && cache_find(cc, h->host->name, e->steps[j]->name) == NULL)
			return false;
	{
		char *text = os_release_of(osr->text);

		os_info_parse(text, &h->os);
		free(text);
	}
	for (size_t j = h->step; j < e->n_steps; j = next_taken(h, j + 1)) {
		if (e->steps[j]->barrier)
			continue;
		set_probe(h, j, xstrdup(cache_find(cc, h->host->name, e->steps[j]->name)->text));
	}
	cache_drop_host(cc, h->host->name);
	eng_journal(e, "%s starts from the plan's checks", h->host->name);
	return true;
}

static void run_checks(struct engine_host *h, bool all);
static void ask_etcd(struct engine_host *h);
static void ask_early(struct engine_host *h);
static void ask_again(struct loop_timer *t, void *ud);

static void reconnected(void *ud, enum wiz_err code, const char *msg)
{
	struct engine_host *h = eng_request_end(ud);

	if (h == NULL)
		return;
	if (code != WIZ_ERR_OK) {
		eng_finish_step(h, code == WIZ_ERR_UNREACHABLE || code == WIZ_ERR_TIMEOUT ? HOST_UNREACHABLE
										: HOST_FAILED,
			    "%s", msg ? msg : "");
		return;
	}
	eng_journal(h->engine, "%s connected again", h->host->name);
	if (h->retry_phase == PH_BUNDLE)
		eng_run_bundle(h);
	else
		run_checks(h, h->retry_phase == PH_PROBE);
}

/* A session kept open between passes (or screens) may have died while
 * idle; the first command then finds it gone. Connect again and repeat
 * that command once: a check, which only reads, whenever its connection
 * was lost; a bundle only when it was never sent (markers lost in transit
 * or a remote script still running would make a second run unsafe). */
static bool retry_lost(struct engine_host *h, const struct ssh_result *r)
{
	struct engine *e = h->engine;

	if (h->retried || eng_result_for_error(h, r->code) != HOST_UNREACHABLE ||
	    (h->phase == PH_BUNDLE && !r->not_sent))
		return false;
	h->retried = true;
	h->retry_phase = h->phase;
	/* An ask started beside the checks went with the lost session:
	 * the step asks again once the host is there. */
	if (h->ask != NULL) {
		e->t.ops->cancel_ask(e->t.self, h->ask);
		h->ask = NULL;
	}
	if (h->ask_timer != NULL)
		loop_timer_disarm(h->ask_timer);
	h->ask_step = SIZE_MAX;
	eng_journal(e, "%s: the connection was lost; connecting again", h->host->name);
	h->phase = PH_CONNECT;
	e->t.ops->connect(e->t.self, h->conn, reconnected, request_new(h));
	return true;
}

static void checks_done(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct engine_host *h = eng_request_end(ud);
	bool all = h != NULL && h->phase == PH_PROBE;

	(void)op;
	if (h == NULL)
		return;
	if (r->code != WIZ_ERR_OK) {
		if (!retry_lost(h, r))
			eng_finish_step(h, eng_result_for_error(h, r->code), _("check failed: %s"), r->err.msg);
		return;
	}
	store_checks(h, h->step, all ? CHECKS_ALL : CHECKS_OWN, r->out ? r->out : "");
	if (all)
		host_goto(h, h->step);
	else
		eng_plan_step(h, true);
}

static void run_checks(struct engine_host *h, bool all)
{
	struct ssh_exec_opts xo = { 0 };
	unsigned timeout_s;
	char *cmd = checks_command(h, h->step, all ? CHECKS_ALL : CHECKS_OWN, &timeout_s);

	xo.timeout_ms = timeout_s * 1000;
	eng_exec_on(h, all ? PH_PROBE : PH_CHECK, cmd, &xo, NULL, checks_done);
	free(cmd);
}

/* ---- bundles ---- */

static void journal_action(struct engine_host *h, const struct action *a)
{
	struct engine *e = h->engine;
	const char *step = e->steps[h->step]->name;

	if (a->kind == ACTION_COMMAND)
		eng_journal(e, "%s %s run: %s", h->host->name, step, a->command);
	else
		eng_journal(e, "%s %s write: %s (mode %04o, %s, %zu bytes%s)", h->host->name, step,
			a->path, (unsigned)a->mode, a->owner, a->len, a->secret ? ", secret" : "");
}

static void announce_actions(struct engine_host *h, size_t started)
{
	struct engine *e = h->engine;

	if (started > h->plan.n_actions)
		started = h->plan.n_actions;
	while (h->reported < started) {
		const struct action *a = &h->plan.actions[h->reported];

		journal_action(h, a);
		if (e->sink.action)
			e->sink.action(h, e->steps[h->step], a, h->reported, h->plan.n_actions,
				       e->sink.ud);
		h->reported++;
	}
}

static void bundle_progress(const char *out, size_t len, void *ud)
{
	struct request *q = ud;

	if (q->h != NULL)
		announce_actions(q->h, bundle_actions_started(out, len, q->h->engine->token));
}

static char *first_line_of(const char *s)
{
	return xstrndup(s, strcspn(s, "\n"));
}

/* The bundle got past writing the file that restarts etcd (an action
 * after it started: the wait for the new process). */
static bool restart_file_written(const struct engine_host *h, size_t started)
{
	return h->plan.restart_file > 0 && h->plan.restart_file < started;
}

static void bundle_done(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct engine_host *h = eng_request_end(ud);
	struct engine *e;
	size_t started;
	const char *probe;

	(void)op;
	if (h == NULL)
		return;
	e = h->engine;
	started = bundle_actions_started(r->out ? r->out : "", r->out_len, e->token);
	announce_actions(h, started);
	if (r->code != WIZ_ERR_OK) {
		const struct action *a = started > 0 && started <= h->plan.n_actions
						 ? &h->plan.actions[started - 1] : NULL;
		const char *why = r->errout && r->errout[0] ? r->errout : r->err.msg;
		enum host_result res = eng_result_for_error(h, r->code);

		eng_journal(e, "%s %s failed: %s", h->host->name, e->steps[h->step]->name, why);
		if (retry_lost(h, r))
			return;
		/* The new manifest was written but its etcd did not start
		 * (a missing image, a flag it refuses): back to the old one. */
		if (e->roller == h && h->plan.restarts_etcd && res == HOST_FAILED &&
		    restart_file_written(h, started) &&
		    eng_rollback_start(h, _("etcd on %s did not start from its new manifest (etcd %s): %s"),
				       h->host->name, e->c->etcd.version, why))
			return;
		/* The refusal comes before the first action: a command that
		 * exits 4 is only a failed command. */
		if (r->code == WIZ_ERR_REMOTE && r->exit_status == BUNDLE_STATUS_CHANGED && started == 0) {
			char *path = first_line_of(why);

			eng_finish_step(h, HOST_FAILED,
				    _("%s changed on %s since the plan was made; nothing was changed: look at it, then plan again"),
				    path, h->host->name);
			free(path);
		} else if (r->code == WIZ_ERR_REMOTE && r->exit_status == BUNDLE_STATUS_NO_DIR && a &&
			   a->kind == ACTION_FILE) {
			char *dir = parent_dir(a->path);

			eng_finish_step(h, HOST_FAILED, _("cannot write %s: the directory %s does not exist there"),
				    a->path, dir);
			free(dir);
		} else if (a != NULL) {
			eng_finish_step(h, res, "%s: %s", a->summary, why);
		} else {
			eng_finish_step(h, res, "%s", why);
		}
		return;
	}
	probe = bundle_probe_output(r->out, e->token);
	store_checks(h, h->step, CHECKS_NEXT, probe ? probe : "");
	if (e->roller == h) {
		roll_after(h);
		return;
	}
	eng_plan_step(h, false);
}

void eng_run_bundle(struct engine_host *h)
{
	struct engine *e = h->engine;
	struct ssh_exec_opts xo = { 0 };
	struct bundle b;
	unsigned timeout_s;
	char *tail = checks_command(h, h->step, CHECKS_NEXT, &timeout_s);

	bundle_build(&h->plan, e->token, tail, &b);
	free(tail);
	h->reported = 0;
	h->changed = true;
	xo.check = true;
	/* Package installs are the slow part: 20 minutes, then the checks. */
	xo.timeout_ms = (20 * 60 + timeout_s) * 1000;
	xo.on_output = bundle_progress;
	eng_exec_on(h, PH_BUNDLE, NULL, &xo, &b, bundle_done);
}

/* ---- asking etcd ---- */

/* The answer is in and the host is at the step: journal it, then plan
 * (after the shell check, for a member not healthy when applying). */
static void ask_finished(struct engine_host *h)
{
	struct engine *e = h->engine;
	const struct etcd_member_view *v = &h->view;
	bool ok = v->answered && v->healthy && v->listed;
	size_t k = h->step;

	h->ask_finished = true;
	if (h->ask_code != WIZ_ERR_OK) {
		eng_journal(e, "%s etcd: the session failed: %s", h->host->name, h->ask_msg);
		eng_finish_step(h, eng_result_for_error(h, h->ask_code), "%s",
			    h->ask_msg[0] ? h->ask_msg : wiz_err_name(h->ask_code));
		return;
	}
	eng_journal(e, "%s etcd: %s%s%s%s%s (asked %u times in %.1f s)", h->host->name,
		!v->answered ? "no answer" : v->healthy ? "healthy" : "unhealthy",
		v->answered && !v->listed ? ", not started under its name" : "",
		v->leader ? ", leader" : "", v->version[0] ? ", " : "", v->version, h->asks,
		(double)(loop_now() - h->ask_start) / 1000.0);
	if (!ok && e->opts.apply && h->probes[k].text == NULL) {
		/* The shell check only now: what etcd cannot say (its pod's log). */
		run_checks(h, false);
		return;
	}
	if (h->probes[k].text == NULL)
		set_probe(h, k, xstrdup(""));
	eng_plan_step(h, true);
}

static void ask_answered(enum wiz_err code, const struct etcd_member_view *v, const char *msg, void *ud)
{
	struct engine_host *h = ud;
	struct engine *e = h->engine;

	h->ask = NULL;
	if (code != WIZ_ERR_OK) {
		h->ask_code = code;
		snprintf(h->ask_msg, sizeof h->ask_msg, "%s", msg ? msg : "");
	} else {
		h->view = *v;
		if (!(v->answered && v->healthy && v->listed) && e->opts.apply &&
		    loop_now() + ETCD_ASK_INTERVAL_MS < h->ask_deadline) {
			if (h->ask_timer == NULL)
				h->ask_timer = loop_timer_add(e->loop, ask_again, h);
			loop_timer_arm_in(h->ask_timer, ETCD_ASK_INTERVAL_MS);
			return;
		}
	}
	h->ask_answered = true;
	/* A prefetched answer waits for the host to get to the step. */
	if (h->phase == PH_ASK && h->step == h->ask_step)
		ask_finished(h);
}

struct transport_ask eng_ask_of(const struct engine *e, const struct engine_host *g)
{
	return (struct transport_ask){ .name = g->host->name, .address = g->host->address,
				       .creds = e->creds, .timeout_ms = ETCD_ASK_TRY_MS };
}

/* The client certificate asks use, loaded once; false when there is none. */
bool eng_load_creds(struct engine *e)
{
	if (!e->creds_loaded && e->opts.etcd_creds != NULL) {
		e->creds_loaded = true;
		if (e->opts.etcd_creds(e->opts.etcd_creds_ud, &e->creds, &e->creds_err) != WIZ_ERR_OK)
			eng_journal(e, "cannot load the etcd client certificate: %s", e->creds_err.msg);
	}
	return e->opts.etcd_creds == NULL || e->creds != NULL;
}

/* One try. */
static void ask_try(struct engine_host *h)
{
	struct engine *e = h->engine;
	struct transport_ask q = { .name = h->host->name, .address = h->host->address };
	uint64_t now = loop_now(), left;

	if (!eng_load_creds(e)) {
		memset(&h->view, 0, sizeof h->view);
		/* Before the first apply the store has no certificates yet, and
		 * apply makes them before anything else. */
		if (!e->opts.apply && e->creds_err.code == WIZ_ERR_NOTFOUND)
			snprintf(h->view.detail, sizeof h->view.detail, "%s",
				 _("not asked: the local PKI store has no healthcheck-client certificate yet; apply makes the certificates first"));
		else	/* cut to the view's size on purpose */
			memcpy(h->view.detail, e->creds_err.msg, sizeof h->view.detail - 1);
		h->ask_answered = true;
		if (h->phase == PH_ASK && h->step == h->ask_step)
			ask_finished(h);
		return;
	}
	left = h->ask_deadline > now ? h->ask_deadline - now : 0;
	q.creds = e->creds;
	/* Planning asks once, for one try's bound; applying never past the
	 * health bound, but at least a second. */
	q.timeout_ms = !e->opts.apply || left > ETCD_ASK_TRY_MS ? ETCD_ASK_TRY_MS
		       : left < 1000 ? 1000 : (unsigned)left;
	h->asks++;
	h->ask = e->t.ops->ask_etcd(e->t.self, h->conn, &q, ask_answered, h);
}

/* Starts asking for step k (the host need not be there yet). */
static void ask_begin(struct engine_host *h, size_t k)
{
	struct engine *e = h->engine;
	unsigned bound = e->opts.health_timeout_s ? e->opts.health_timeout_s : VERIFY_DEFAULT_TIMEOUT_S;

	h->ask_step = k;
	h->ask_answered = h->ask_finished = false;
	h->ask_code = WIZ_ERR_OK;
	h->ask_msg[0] = '\0';
	memset(&h->view, 0, sizeof h->view);
	h->asks = 0;
	h->ask_start = loop_now();
	h->ask_deadline = h->ask_start + (e->opts.apply ? (uint64_t)bound * 1000 : 0);
	ask_try(h);
}

/* The host is at step k, which asks etcd: wait for the answer, asking
 * first unless a try for k is out already. */
static void ask_etcd(struct engine_host *h)
{
	h->phase = PH_ASK;
	if (h->ask_step != h->step)
		ask_begin(h, h->step);
	else if (h->ask_answered && !h->ask_finished)
		ask_finished(h);
}

static void ask_again(struct loop_timer *t, void *ud)
{
	(void)t;
	ask_try(ud);
}

/* When planning, a member's first asking step starts at once, beside its
 * checks: the answer does not depend on them. */
static void ask_early(struct engine_host *h)
{
	struct engine *e = h->engine;

	if (e->opts.apply || !h->is_member)
		return;
	for (size_t k = h->step; k < e->n_steps; k = next_taken(h, k + 1))
		if (host_takes(h, k) && e->steps[k]->asks_etcd) {
			ask_begin(h, k);
			return;
		}
}

/* ---- rolling: a running member's restart, one member at a time ----
 *
 * A plan that restarts a running etcd (restarts_etcd: a manifest change
 * on a member with data) waits for its turn. A turn starts with the gate:
 * every member is asked from here at once; the next member is a follower
 * while one waits, the leader last; it goes only when every other member
 * is healthy, so quorum holds while it restarts. Its bundle writes the
 * manifest and waits on the host for the new etcd process; then it is
 * asked until healthy again on the cluster's version, within the health
 * bound. A gate that fails stops the roll there: the members not yet
 * restarted are left as they were, each told why. */

bool eng_view_ok(const struct etcd_member_view *v)
{
	return v->answered && v->healthy && v->listed;
}

const char *eng_view_why(const struct engine_host *g)
{
	const struct etcd_member_view *v = &g->roll_view;

	if (g->roll_msg[0])
		return g->roll_msg;
	if (!v->answered)
		return v->detail[0] ? v->detail : _("no answer");
	if (!v->healthy)
		return v->detail[0] ? v->detail : _("not healthy");
	if (!v->listed)
		return _("not started under its name in the member list");
	return "";
}

/* A member the running cluster counts as a voter (all members when the
 * cluster was not read): the ones that must be healthy for a turn. */
static bool roll_voter(const struct engine_host *g)
{
	const struct engine *e = g->engine;

	return !e->live.running || membership_change(e->c, &e->live, g->index, NULL) == MEMBER_KEEP;
}

/* The roll's order: joins first (in file order, each adds a voter before
 * anything restarts), then followers, the leader last. */
static bool roll_before(const struct engine_host *g, const struct engine_host *pick)
{
	if (g->plan.joins_cluster != pick->plan.joins_cluster)
		return g->plan.joins_cluster;
	if (g->plan.joins_cluster)
		return false;	/* the first one found: file order */
	return pick->roll_view.leader && !g->roll_view.leader;
}

void eng_roll_stop_all(struct engine *e)
{
	for (size_t i = 0; i < e->n_hosts; i++) {
		struct engine_host *g = &e->hosts[i];

		if (g->phase == PH_ROLL)
			eng_finish_step(g, HOST_FAILED,
				    _("not restarted, nothing changed here: the rolling change stopped: %s"),
				    e->roll_stop);
	}
}

/* The leader restarts last, and hands its leadership to a healthy
 * follower first, so the cluster does not wait out an election timeout
 * while its etcd is down. A transfer that fails is only journalled: the
 * restart itself still keeps quorum. */
static void roll_moved(enum wiz_err code, int status, const char *body, size_t len, const char *msg,
		       void *ud)
{
	struct engine_host *h = ud;
	struct engine *e = h->engine;

	(void)body;
	(void)len;
	e->roll_move = NULL;
	if (code == WIZ_ERR_OK && status == 200)
		eng_journal(e, "roll: the leadership moved away from %s before its restart", h->host->name);
	else
		eng_journal(e, "roll: the leadership could not be moved away from %s (%s); it restarts as the leader",
			    h->host->name, status ? "etcd refused" : msg && msg[0] ? msg : wiz_err_name(code));
	eng_run_bundle(h);
}

static bool roll_move_leader(struct engine_host *pick)
{
	struct engine *e = pick->engine;
	struct transport_ask q = eng_ask_of(e, pick);
	uint64_t target = 0;
	char *body;

	for (size_t i = 0; i < e->n_hosts && target == 0; i++) {
		struct engine_host *g = &e->hosts[i];
		char *peer;
		const struct live_member *lm;

		if (g == pick || !g->is_member || !roll_voter(g) || !eng_view_ok(&g->roll_view) ||
		    g->roll_view.learner)
			continue;
		peer = member_peer_url(g->host);
		lm = live_find_peer(&e->live, peer);
		free(peer);
		if (lm != NULL && !lm->learner)
			target = lm->id;
	}
	if (target == 0 || e->t.ops->call_etcd == NULL)
		return false;
	body = xasprintf("{\"targetID\":\"%" PRIu64 "\"}", target);
	e->roll_move = e->t.ops->call_etcd(e->t.self, pick->conn, &q, "/v3/maintenance/transfer-leadership",
					   body, roll_moved, pick);
	free(body);
	return true;
}

static void roll_choose(struct engine *e)
{
	struct engine_host *pick = NULL;
	size_t members = 0;

	for (size_t i = 0; i < e->n_hosts; i++) {
		struct engine_host *g = &e->hosts[i];

		if (g->is_member)
			members++;
		if (g->phase == PH_ROLL && (pick == NULL || roll_before(g, pick)))
			pick = g;
	}
	if (pick == NULL)
		return;
	for (size_t i = 0; i < e->n_hosts && members > 1; i++) {
		struct engine_host *g = &e->hosts[i];

		if (g == pick || !g->is_member || !roll_voter(g) || eng_view_ok(&g->roll_view))
			continue;
		e->roll_stop = xasprintf(pick->plan.joins_cluster
					 ? _("%s is not healthy (%s); every voting member must be healthy before %s joins, so that quorum holds")
					 : _("%s is not healthy (%s); every other member must be healthy before %s restarts, so that quorum holds"),
					 g->host->name, eng_view_why(g), pick->host->name);
		eng_journal(e, "roll: stopped before %s: %s", pick->host->name, e->roll_stop);
		eng_roll_stop_all(e);
		return;
	}
	e->roller = pick;
	e->roll_index = 0;
	for (size_t i = 0; i < e->n_hosts; i++)
		if (e->hosts[i].is_member && eng_view_ok(&e->hosts[i].roll_view) &&
		    e->hosts[i].roll_view.raft_index > e->roll_index)
			e->roll_index = e->hosts[i].roll_view.raft_index;
	if (pick->plan.joins_cluster) {
		eng_journal(e, "roll: %s joins the cluster", pick->host->name);
		eng_join_start(pick);
		return;
	}
	if (!pick->plan.restarts_etcd) {
		/* New certificates, or a control-plane host's apiserver: the
		 * leadership stays where it is. */
		eng_journal(e, "roll: %s takes its turn (%s)", pick->host->name,
			    pick->is_member ? "new certificates, no restart" : "kube-apiserver restart");
		eng_run_bundle(pick);
		return;
	}
	eng_journal(e, "roll: restarting etcd on %s%s", pick->host->name,
		pick->roll_view.leader ? " (the leader, last)" : "");
	if (pick->roll_view.leader && roll_move_leader(pick))
		return;	/* the bundle runs once the leadership moved */
	eng_run_bundle(pick);
}

static void roll_gate_answered(enum wiz_err code, const struct etcd_member_view *v, const char *msg, void *ud)
{
	struct engine_host *g = ud;
	struct engine *e = g->engine;

	g->roll_ask = NULL;
	if (code != WIZ_ERR_OK)
		snprintf(g->roll_msg, sizeof g->roll_msg, "%s", msg && msg[0] ? msg : wiz_err_name(code));
	else
		g->roll_view = *v;
	if (--e->roll_asking == 0 && e->roller == NULL)
		roll_choose(e);
}

/* The gate: once every live member has reached the step (so that the
 * leader can go last), ask every member once. Called whenever a host moves
 * on, arrives or ends. */
static void roll_next(struct engine *e)
{
	size_t k = SIZE_MAX;

	if (e->roller != NULL || e->roll_asking > 0)
		return;
	for (size_t i = 0; i < e->n_hosts; i++)
		if (e->hosts[i].phase == PH_ROLL && e->hosts[i].step < k)
			k = e->hosts[i].step;
	if (k == SIZE_MAX)
		return;
	for (size_t i = 0; i < e->n_hosts && e->roll_stop == NULL; i++) {
		const struct engine_host *g = &e->hosts[i];

		/* Still before the step, or at it and not yet waiting. */
		if (g->is_member && g->selected && !g->dead && g->phase != PH_DONE &&
		    (g->step < k || (g->step == k && g->phase != PH_ROLL)))
			return;
	}
	if (e->roll_stop != NULL) {
		eng_roll_stop_all(e);
		return;
	}
	if (!eng_load_creds(e)) {
		e->roll_stop = xasprintf(_("its members cannot be asked from here: %s"), e->creds_err.msg);
		eng_roll_stop_all(e);
		return;
	}
	e->roll_asking = 1;	/* held until every ask is out */
	for (size_t i = 0; i < e->n_hosts; i++) {
		struct engine_host *g = &e->hosts[i];
		struct transport_ask q = eng_ask_of(e, g);

		if (!g->is_member)
			continue;
		memset(&g->roll_view, 0, sizeof g->roll_view);
		g->roll_msg[0] = '\0';
		if (!g->selected)
			snprintf(g->roll_msg, sizeof g->roll_msg, "%s",
				 _("not in --limit, so not connected: its health is unknown"));
		else if (g->dead || !g->connected)
			snprintf(g->roll_msg, sizeof g->roll_msg, "%s", _("its host is not connected"));
		if (g->roll_msg[0])
			continue;
		e->roll_asking++;
		g->roll_ask = e->t.ops->ask_etcd(e->t.self, g->conn, &q, roll_gate_answered, g);
	}
	if (--e->roll_asking == 0 && e->roller == NULL)
		roll_choose(e);
}


static void roll_after_again(struct loop_timer *t, void *ud)
{
	(void)t;
	eng_roll_after_try(ud);
}

/* The member is asked again (health, then what it serves) in a moment. */
static void roll_ask_again(struct engine_host *h)
{
	if (h->roll_timer == NULL)
		h->roll_timer = loop_timer_add(h->engine->loop, roll_after_again, h);
	loop_timer_arm_in(h->roll_timer, ETCD_ASK_INTERVAL_MS);
}

/* After new certificates: the member serves them (a handshake from here
 * on 2379, then 2380), or asks again within the health bound. */
static bool served_wanted(const struct engine_host *h)
{
	return h->engine->t.ops->served_cert != NULL && !h->plan.restarts_etcd &&
	       (h->plan.served_serial[0][0] || h->plan.served_serial[1][0]);
}

static void served_check(struct engine_host *h, int which);

static void served_answered(enum wiz_err code, const struct etcd_served_cert *sc, const char *msg, void *ud)
{
	struct engine_host *h = ud;
	struct engine *e = h->engine;
	int which = h->served_which;
	const char *want = h->plan.served_serial[which];
	int port = which ? 2380 : 2379;

	h->roll_ask = NULL;
	if (code != WIZ_ERR_OK) {
		eng_finish_step(h, eng_result_for_error(h, code), _("reading the certificate etcd serves on port %d: %s"),
			    port, msg && msg[0] ? msg : wiz_err_name(code));
		return;
	}
	if (want[0] == '\0' || (sc->got && strcmp(sc->serial, want) == 0)) {
		if (want[0])
			eng_journal(e, "roll: %s serves certificate %s on port %d", h->host->name, want, port);
		if (which == 0) {
			served_check(h, 1);
			return;
		}
		eng_journal(e, "roll: %s healthy with its new certificates after %.1f s", h->host->name,
			    (double)(loop_now() - h->roll_start) / 1000.0);
		eng_plan_step(h, false);	/* the proof; its end lets the next member go */
		return;
	}
	if (loop_now() + ETCD_ASK_INTERVAL_MS < h->roll_deadline) {
		roll_ask_again(h);
		return;
	}
	eng_finish_step(h, HOST_FAILED,
			_("etcd on %s serves %s on port %d, not its new certificate (serial %s), %.0f s after it was installed; the members not yet changed were left as they were"),
			h->host->name, sc->got ? sc->serial : (msg && msg[0] ? msg : _("nothing")), port, want,
			(double)(loop_now() - h->roll_start) / 1000.0);
}

static void served_check(struct engine_host *h, int which)
{
	struct engine *e = h->engine;
	struct transport_ask q = eng_ask_of(e, h);

	q.port = which ? 2380 : 2379;
	h->served_which = which;
	h->roll_ask = e->t.ops->served_cert(e->t.self, h->conn, &q, served_answered, h);
}

static void roll_after_answered(enum wiz_err code, const struct etcd_member_view *v, const char *msg, void *ud)
{
	struct engine_host *h = ud;
	struct engine *e = h->engine;
	const char *want = e->c->etcd.version;
	bool on_version;

	h->roll_ask = NULL;
	if (code != WIZ_ERR_OK) {
		eng_finish_step(h, eng_result_for_error(h, code), _("asking etcd after its restart: %s"),
			    msg && msg[0] ? msg : wiz_err_name(code));
		return;
	}
	h->roll_view = *v;
	/* Only a restart can change the version (a turn for new certificates
	 * leaves it as it runs). */
	on_version = !h->plan.restarts_etcd || want == NULL || want[0] == '\0' || v->version[0] == '\0' ||
		     strcmp(v->version, want[0] == 'v' ? want + 1 : want) == 0;
	/* Caught up: at least the index the cluster had before the restart. */
	if (eng_view_ok(v) && on_version && v->raft_index < e->roll_index && !h->plan.joins_cluster) {
		if (loop_now() + ETCD_ASK_INTERVAL_MS < h->roll_deadline) {
			roll_ask_again(h);
			return;
		}
		eng_finish_step(h, HOST_FAILED,
				_("etcd on %s is healthy but did not catch up within %.0f s of its restart (raft index %" PRIu64 ", the cluster was at %" PRIu64 " before); the members not yet restarted were left as they were"),
				h->host->name, (double)(loop_now() - h->roll_start) / 1000.0, v->raft_index,
				e->roll_index);
		return;
	}
	if (eng_view_ok(v) && on_version && served_wanted(h)) {
		served_check(h, 0);
		return;
	}
	if (eng_view_ok(v) && on_version) {
		eng_journal(e, "roll: %s healthy again%s%s after %.1f s", h->host->name,
			v->version[0] ? " on etcd " : "", v->version,
			(double)(loop_now() - h->roll_start) / 1000.0);
		eng_plan_step(h, false);	/* the proof; its end lets the next member go */
		return;
	}
	if (loop_now() + ETCD_ASK_INTERVAL_MS >= h->roll_deadline) {
		if (eng_view_ok(v)) {
			if (!eng_rollback_start(h, _("etcd on %s came back as version %s, not %s"), h->host->name,
						v->version, want))
				eng_finish_step(h, HOST_FAILED,
					    _("etcd on %s came back as version %s, not %s; the members not yet restarted were left as they were"),
					    h->host->name, v->version, want);
		} else if (!eng_rollback_start(h, _("etcd on %s (etcd %s) was not healthy within %.0f s of its restart (%s)"),
					       h->host->name, want, (double)(loop_now() - h->roll_start) / 1000.0,
					       eng_view_why(h))) {
			eng_finish_step(h, HOST_FAILED,
				    _("etcd on %s was not healthy again within %.0f s of its restart (%s); the members not yet restarted were left as they were"),
				    h->host->name, (double)(loop_now() - h->roll_start) / 1000.0, eng_view_why(h));
		}
		return;
	}
	roll_ask_again(h);
}

void eng_roll_after_try(struct engine_host *h)
{
	struct engine *e = h->engine;
	struct transport_ask q = eng_ask_of(e, h);

	h->roll_msg[0] = '\0';
	h->roll_ask = e->t.ops->ask_etcd(e->t.self, h->conn, &q, roll_after_answered, h);
}

/* The roller's bundle is done (etcd runs from the new manifest): ask it
 * until healthy again, within the health bound. */
static void roll_after(struct engine_host *h)
{
	struct engine *e = h->engine;
	unsigned bound = e->opts.health_timeout_s ? e->opts.health_timeout_s : VERIFY_DEFAULT_TIMEOUT_S;

	if (h->joining) {
		eng_join_after(h);
		return;
	}
	if (!h->is_member) {
		eng_plan_step(h, false);	/* its own proof (kubernetes: /version with the new files) */
		return;
	}
	h->phase = PH_ROLL_AFTER;
	h->roll_start = loop_now();
	h->roll_deadline = h->roll_start + (uint64_t)bound * 1000;
	eng_roll_after_try(h);
}

/* ---- planning a step ---- */

/* first: the plan from the check before any change (shown to the sink);
 * otherwise the proof after the bundle, which must be empty. */
void eng_plan_step(struct engine_host *h, bool first)
{
	struct engine *e = h->engine;
	const struct step *s = e->steps[h->step];
	struct step_env env;

	if (first && s->reads_cluster && h->is_member && !eng_live_ready(h))
		return;	/* planned once the member list is in */
	if (first && s->asks_etcd && h->is_member && !(h->ask_step == h->step && h->ask_finished)) {
		ask_etcd(h);
		return;
	}
	if (h->probes[h->step].text == NULL) {
		eng_finish_step(h, HOST_FAILED, _("check failed: the %s check printed nothing"), s->name);
		return;
	}
	plan_free(&h->plan);
	fill_env(h, h->step, &env);
	s->plan(&env, &h->plan);
	if (first && e->sink.planned)
		e->sink.planned(h, s, &h->plan, e->sink.ud);
	if (plan_errors(&h->plan) > 0) {
		const struct finding *f = NULL;

		for (size_t i = 0; i < h->plan.n_findings && f == NULL; i++)
			if (h->plan.findings[i].error)
				f = &h->plan.findings[i];
		eng_finish_step(h, HOST_FAILED, "[ERROR %s]: %s", f ? f->name : "?", f ? f->msg : "");
		return;
	}
	/* A learner to promote may have nothing to write. */
	if (plan_is_empty(&h->plan) && !(first && h->plan.joins_cluster && h->is_member)) {
		eng_finish_step(h, h->changed ? HOST_CHANGED : HOST_OK, NULL);
		return;
	}
	if (!first) {
		/* Applied, yet the host still differs: say what. */
		eng_finish_step(h, HOST_FAILED, _("did not converge: %s is still pending"),
			    h->plan.actions[0].summary);
		return;
	}
	if (!e->opts.apply) {
		eng_finish_step(h, HOST_CHANGED, NULL);	/* would change */
		return;
	}
	if (((h->plan.restarts_etcd || h->plan.joins_cluster) && h->is_member) || h->plan.takes_turn) {
		h->phase = PH_ROLL;
		roll_next(e);
		return;
	}
	eng_run_bundle(h);
}

/* ---- moving through the steps ---- */

static void host_goto(struct engine_host *h, size_t from)
{
	struct engine *e = h->engine;
	size_t k = next_taken(h, from);

	h->step = k;
	h->changed = false;
	roll_next(e);	/* a member waiting for its restart may go now */
	if (k == e->n_steps) {
		h->phase = PH_DONE;
		check_barriers(e);
		maybe_done(e);
		return;
	}
	announce(e, k);
	if (e->steps[k]->barrier && e->opts.apply) {
		h->phase = PH_WAIT;
		check_barriers(e);
		return;
	}
	eng_plan_step(h, true);
}

/* A host waiting at barrier step k goes on once no live host is still
 * before k (connecting, checking, or at an earlier step). */
static bool barrier_open(const struct engine *e, size_t k)
{
	for (size_t i = 0; i < e->n_hosts; i++) {
		const struct engine_host *g = &e->hosts[i];

		if (g->selected && g->phase != PH_DONE && g->step < k)
			return false;
	}
	return true;
}

static void check_barriers(struct engine *e)
{
	if (e->in_barriers) {
		e->barriers_again = true;
		return;
	}
	e->in_barriers = true;
	do {
		e->barriers_again = false;
		for (size_t i = 0; i < e->n_hosts; i++) {
			struct engine_host *h = &e->hosts[i];

			if (h->phase == PH_WAIT && barrier_open(e, h->step)) {
				if (e->steps[h->step]->asks_etcd && h->is_member)
					eng_plan_step(h, true);
				else
					run_checks(h, false);
			}
		}
	} while (e->barriers_again);
	e->in_barriers = false;
}

static void connected(void *ud, enum wiz_err code, const char *msg)
{
	struct engine_host *h = eng_request_end(ud);
	struct engine *e;

	if (h == NULL)
		return;
	e = h->engine;
	if (code != WIZ_ERR_OK) {
		enum host_result r = code == WIZ_ERR_UNREACHABLE || code == WIZ_ERR_TIMEOUT
					     ? HOST_UNREACHABLE : HOST_FAILED;

		eng_journal(e, "%s connect failed: %s", h->host->name, msg ? msg : "");
		announce(e, h->step);
		eng_finish_step(h, r, "%s", msg ? msg : "");
		return;
	}
	h->connected = true;
	eng_live_poke(e);	/* a member may be waiting for its peers to connect */
	{
		const char *type = NULL, *fp = e->t.ops->hostkey(e->t.self, h->conn, &type);

		eng_journal(e, "%s connected (%s %s)", h->host->name, type ? type : "?", fp ? fp : "?");
	}
	if (reuse_checks(h)) {
		host_goto(h, h->step);
		return;
	}
	ask_early(h);	/* its answer comes from the loop, never inside */
	run_checks(h, true);
}

struct engine *engine_new(struct loop *loop, const struct transport *t, const struct cluster *c,
			  const struct engine_opts *opts, const struct engine_sink *sink)
{
	struct engine *e = xcalloc(1, sizeof *e);
	size_t n = c->n_members + c->control_plane.n_hosts;

	e->loop = loop;
	e->t = *t;
	e->c = c;
	e->opts = *opts;
	e->steps = opts->step_table ? opts->step_table : step_table;
	while (e->steps[e->n_steps] != NULL)
		e->n_steps++;
	if (sink)
		e->sink = *sink;
	bundle_token(e->token);
	e->hosts = xcalloc(n ? n : 1, sizeof *e->hosts);
	for (size_t i = 0; i < n; i++) {
		struct engine_host *h = &e->hosts[e->n_hosts++];

		h->engine = e;
		h->conn = i;
		h->is_member = i < c->n_members;
		h->index = h->is_member ? i : i - c->n_members;
		h->host = h->is_member ? &c->members[i] : &c->control_plane.hosts[i - c->n_members];
		h->selected = in_list(opts->limit, h->host->name);
		h->probes = xcalloc(e->n_steps + 1, sizeof *h->probes);
		h->ask_step = SIZE_MAX;
		plan_init(&h->plan);
	}
	if (opts->journal_path) {
		e->journal = fopen(opts->journal_path, "a");
		if (e->journal == NULL)
			log_warn("engine", "cannot open the journal %s", opts->journal_path);
	}
	return e;
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n_hosts; i++) {
		struct engine_host *h = &e->hosts[i];

		if (h->req != NULL) {
			struct request *q = h->req;

			q->h = NULL;
			if (h->phase == PH_CONNECT) {
				e->t.ops->forget(e->t.self, h->conn, q);
				eng_request_end(q);
			} else if (q->op != NULL) {
				ssh_op_cancel(q->op);	/* its callback frees q */
			}
		}
		if (h->ask != NULL)
			e->t.ops->cancel_ask(e->t.self, h->ask);
		if (h->roll_ask != NULL)
			e->t.ops->cancel_ask(e->t.self, h->roll_ask);
		if (e->roller == h && e->roll_move != NULL)
			e->t.ops->cancel_ask(e->t.self, e->roll_move);
		loop_timer_del(h->ask_timer);
		loop_timer_del(h->roll_timer);
		eng_rollback_free(h);
		plan_free(&h->plan);
		for (size_t k = 0; k < e->n_steps; k++)
			set_probe(h, k, NULL);
		free(h->probes);
	}
	eng_member_free(e);
	free(e->hosts);
	free(e->roll_stop);
	http_tls_creds_free(e->creds);
	if (e->journal)
		fclose(e->journal);
	free(e);
}

void engine_start(struct engine *e)
{
	eng_journal(e, "start %s cluster %s", e->opts.apply ? "apply" : "plan", e->c->name);
	for (size_t i = 0; i < e->n_hosts; i++) {
		struct engine_host *h = &e->hosts[i];

		h->step = next_taken(h, 0);
		h->phase = h->selected && h->step < e->n_steps ? PH_CONNECT : PH_DONE;
	}
	/* Set every phase first: a callback may run at once. */
	for (size_t i = 0; i < e->n_hosts; i++) {
		struct engine_host *h = &e->hosts[i];

		if (h->phase == PH_CONNECT)
			e->t.ops->connect(e->t.self, h->conn, connected, request_new(h));
	}
	maybe_done(e);
}

bool engine_done(const struct engine *e)
{
	return e->done;
}

static bool engine_done_pred(void *ud)
{
	return ((struct engine *)ud)->done;
}

enum wiz_err engine_run(struct engine *e)
{
	engine_start(e);
	return loop_run_until(e->loop, engine_done_pred, e, 0);
}

const struct live_cluster *engine_live(const struct engine *e)
{
	return e->live.known ? &e->live : NULL;
}

size_t engine_host_count(const struct engine *e)
{
	return e->n_hosts;
}

const struct engine_host *engine_host_at(const struct engine *e, size_t i)
{
	return i < e->n_hosts ? &e->hosts[i] : NULL;
}

const char *engine_host_name(const struct engine_host *h)
{
	return h->host->name;
}

unsigned engine_host_count_of(const struct engine_host *h, enum host_result r)
{
	return h->counts[r];
}

bool engine_host_failed(const struct engine_host *h)
{
	return h->dead;
}

unsigned engine_host_execs(const struct engine_host *h)
{
	return h->execs;
}

void engine_print_recap(const struct engine *e, FILE *out)
{
	size_t width = 0;

	for (size_t i = 0; i < e->n_hosts; i++)
		if (strlen(e->hosts[i].host->name) > width)
			width = strlen(e->hosts[i].host->name);
	fprintf(out, _("RECAP\n"));
	for (size_t i = 0; i < e->n_hosts; i++) {
		const struct engine_host *h = &e->hosts[i];

		if (!h->selected)
			continue;
		fprintf(out, "%-*s : ok=%u changed=%u unreachable=%u failed=%u skipped=%u\n",
			(int)width, h->host->name, h->counts[HOST_OK], h->counts[HOST_CHANGED],
			h->counts[HOST_UNREACHABLE], h->counts[HOST_FAILED], h->counts[HOST_SKIPPED]);
	}
}

bool engine_succeeded(const struct engine *e)
{
	if (e->cluster_failed)
		return false;
	for (size_t i = 0; i < e->n_hosts; i++)
		if (e->hosts[i].selected && e->hosts[i].dead)
			return false;
	return e->done;
}
