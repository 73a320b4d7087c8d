#include "config.h"

#include "install/engine.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/i18n.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/xmalloc.h"
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

enum host_phase { PH_IDLE, PH_CONNECT, PH_CHECK, PH_APPLY, PH_RECHECK, PH_AFTER, PH_DONE };

struct engine_host {
	struct engine *engine;
	const struct host *host;
	bool is_member;
	size_t index;
	struct ssh_session *ssh;
	enum host_phase phase;
	bool dead;		/* failed or unreachable: later steps skip it */
	bool selected;		/* in --limit */
	struct os_info os;
	char *probe;
	int probe_status;
	struct plan plan;
	size_t next_action;
	bool changed;
	unsigned counts[HOST_RESULT_COUNT];
};

struct engine {
	struct loop *loop;
	struct ssh_ctx *ssh;
	const struct cluster *c;
	struct engine_opts opts;
	struct engine_sink sink;
	struct engine_host *hosts;
	size_t n_hosts;
	size_t cur_step;
	size_t pending;
	bool started, done;
	FILE *journal;
};

static void journal(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void journal(struct engine *e, const char *fmt, ...)
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

static const struct step *current_step(const struct engine *e)
{
	return step_table[e->cur_step];
}

static bool step_selected(const struct engine *e, const struct step *s)
{
	return in_list(e->opts.steps, s->name);
}

static bool host_takes_step(const struct engine_host *h, const struct step *s)
{
	return h->selected && (h->is_member ? (s->hosts & STEP_MEMBERS) : (s->hosts & STEP_CONTROL_PLANE));
}

static char *read_local_thunk(const struct step_env *env, const char *rel, size_t *len)
{
	const struct engine_host *h = env->ud;
	const struct engine *e = h->engine;

	if (e->opts.read_local == NULL)
		return NULL;
	return e->opts.read_local(h->host, h->is_member, rel, len, e->opts.read_local_ud);
}

static void fill_env(struct engine_host *h, struct step_env *env)
{
	struct engine *e = h->engine;

	memset(env, 0, sizeof *env);
	env->cluster = e->c;
	env->host = h->host;
	env->is_member = h->is_member;
	env->member_index = h->index;
	env->probe = h->probe;
	env->probe_status = h->probe_status;
	env->os = &h->os;
	env->cluster_token = e->opts.cluster_token ? e->opts.cluster_token : "";
	env->ignore_preflight = e->opts.ignore_preflight;
	env->applying = e->opts.apply;
	env->kubeadm_init = e->opts.kubeadm_init;
	env->health_timeout_s = e->opts.health_timeout_s;
	env->read_local = read_local_thunk;
	env->ud = h;
}

static void next_step(struct engine *e);

static void host_finish_step(struct engine_host *h, enum host_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void host_finish_step(struct engine_host *h, enum host_result r, const char *fmt, ...)
{
	struct engine *e = h->engine;
	const struct step *s = current_step(e);
	char *msg = NULL;

	if (fmt != NULL) {
		va_list ap;

		va_start(ap, fmt);
		msg = xvasprintf(fmt, ap);
		va_end(ap);
	}
	h->counts[r]++;
	if (r == HOST_FAILED || r == HOST_UNREACHABLE)
		h->dead = true;
	h->phase = PH_DONE;
	journal(e, "%s %s %s%s%s", h->host->name, s->name, host_result_name(r),
		msg ? ": " : "", msg ? msg : "");
	if (e->sink.host_done)
		e->sink.host_done(h, s, r, msg, e->sink.ud);
	free(msg);
	plan_free(&h->plan);
	free(h->probe);
	h->probe = NULL;
	if (--e->pending == 0)
		next_step(e);
}

/* Unreachable is what the transport saw: the host gone, or a session that
 * timed out. A command that ran out of time on a live session failed. */
static enum host_result result_for_error(const struct engine_host *h, enum wiz_err code)
{
	if (code == WIZ_ERR_UNREACHABLE)
		return HOST_UNREACHABLE;
	if (code == WIZ_ERR_TIMEOUT && ssh_session_state(h->ssh) == SSH_S_FAILED)
		return HOST_UNREACHABLE;
	return HOST_FAILED;
}

static void run_check(struct engine_host *h, enum host_phase phase);
static void run_next_action(struct engine_host *h);

/* The probe of every step starts with os-release, so steps that depend on
 * the OS family work even when run alone (--steps). */
static char *check_command(struct engine_host *h)
{
	struct step_env env;
	char *body, *cmd;

	fill_env(h, &env);
	body = current_step(h->engine)->check(&env);
	cmd = xasprintf("echo '@@os-release'; cat /etc/os-release 2>/dev/null; %s", body);
	free(body);
	return cmd;
}

static void after_done(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct engine_host *h = ud;

	(void)op;
	if (r->code != WIZ_ERR_OK)
		host_finish_step(h, result_for_error(h, r->code), "%s", r->err.msg);
	else
		host_finish_step(h, h->changed ? HOST_CHANGED : HOST_OK, NULL);
}

static void step_complete(struct engine_host *h)
{
	struct engine *e = h->engine;
	const struct step *s = current_step(e);

	if (s->after_apply && e->opts.apply) {
		struct step_env env;
		struct ssh_exec_opts xo = { .as_root = true, .check = true };
		char *cmd;

		fill_env(h, &env);
		cmd = s->after_apply(&env);
		h->phase = PH_AFTER;
		journal(e, "%s %s run: %s", h->host->name, s->name, cmd);
		ssh_exec(h->ssh, cmd, &xo, after_done, h);
		free(cmd);
		return;
	}
	host_finish_step(h, h->changed ? HOST_CHANGED : HOST_OK, NULL);
}

static void check_done(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct engine_host *h = ud;
	struct engine *e = h->engine;
	const struct step *s = current_step(e);
	struct step_env env;
	char *osr;

	(void)op;
	if (r->code != WIZ_ERR_OK) {
		host_finish_step(h, result_for_error(h, r->code), _("check failed: %s"), r->err.msg);
		return;
	}
	h->probe = r->out;
	r->out = NULL;
	h->probe_status = r->exit_status;
	osr = probe_section(h->probe, "os-release");
	os_info_parse(osr, &h->os);
	free(osr);
	plan_free(&h->plan);
	fill_env(h, &env);
	s->plan(&env, &h->plan);
	if (h->phase == PH_CHECK && e->sink.planned)
		e->sink.planned(h, s, &h->plan, e->sink.ud);
	if (plan_errors(&h->plan) > 0) {
		const struct finding *f = NULL;

		for (size_t i = 0; i < h->plan.n_findings; i++) {
			if (h->plan.findings[i].error) {
				f = &h->plan.findings[i];
				break;
			}
		}
		host_finish_step(h, HOST_FAILED, "[ERROR %s]: %s", f ? f->name : "?", f ? f->msg : "");
		return;
	}
	if (plan_is_empty(&h->plan)) {
		step_complete(h);
		return;
	}
	if (h->phase == PH_RECHECK) {
		/* Applied, yet the host still differs: say what. */
		host_finish_step(h, HOST_FAILED, _("did not converge: %s is still pending"),
				 h->plan.actions[0].summary);
		return;
	}
	if (!e->opts.apply) {
		host_finish_step(h, HOST_CHANGED, NULL);	/* would change */
		return;
	}
	h->phase = PH_APPLY;
	h->next_action = 0;
	h->changed = true;
	run_next_action(h);
}

static void action_done(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct engine_host *h = ud;
	const struct action *a = &h->plan.actions[h->next_action];

	(void)op;
	if (r->code != WIZ_ERR_OK) {
		char *why = r->errout && r->errout[0] ? r->errout : r->err.msg;

		journal(h->engine, "%s %s failed: %s", h->host->name, current_step(h->engine)->name, why);
		host_finish_step(h, result_for_error(h, r->code), "%s: %s", a->summary, why);
		return;
	}
	h->next_action++;
	run_next_action(h);
}

static void run_next_action(struct engine_host *h)
{
	struct engine *e = h->engine;
	const struct step *s = current_step(e);
	const struct action *a;

	if (h->next_action == h->plan.n_actions) {
		run_check(h, PH_RECHECK);
		return;
	}
	a = &h->plan.actions[h->next_action];
	if (e->sink.action)
		e->sink.action(h, s, a, h->next_action, h->plan.n_actions, e->sink.ud);
	if (a->kind == ACTION_COMMAND) {
		struct ssh_exec_opts xo = { .as_root = true, .check = true, .timeout_ms = 20 * 60 * 1000 };

		journal(e, "%s %s run: %s", h->host->name, s->name, a->command);
		ssh_exec(h->ssh, a->command, &xo, action_done, h);
	} else {
		struct ssh_upload_opts uo = {
			.path = a->path, .data = a->content, .len = a->len, .mode = a->mode,
			.owner = a->owner, .as_root = true,
		};

		journal(e, "%s %s write: %s (mode %04o, %s, %zu bytes%s)", h->host->name, s->name,
			a->path, (unsigned)a->mode, a->owner, a->len, a->secret ? ", secret" : "");
		ssh_upload(h->ssh, &uo, action_done, h);
	}
}

static void run_check(struct engine_host *h, enum host_phase phase)
{
	const struct step *s = current_step(h->engine);
	struct ssh_exec_opts xo = { .as_root = true, .timeout_ms = PROBE_EXEC_TIMEOUT_S * 1000 };
	char *cmd = check_command(h);

	if (s->check_timeout_s) {
		struct step_env env;

		fill_env(h, &env);
		xo.timeout_ms = s->check_timeout_s(&env) * 1000;
	}

	h->phase = phase;
	free(h->probe);
	h->probe = NULL;
	ssh_exec(h->ssh, cmd, &xo, check_done, h);
	free(cmd);
}

static void next_step(struct engine *e)
{
	for (;;) {
		const struct step *s;

		if (e->started)
			e->cur_step++;
		e->started = true;
		s = step_table[e->cur_step];
		if (s == NULL) {
			e->done = true;
			journal(e, "done");
			return;
		}
		if (!step_selected(e, s))
			continue;
		if (e->sink.step_started)
			e->sink.step_started(s, e->sink.ud);
		journal(e, "step %s", s->name);
		e->pending = 0;
		for (size_t i = 0; i < e->n_hosts; i++) {
			struct engine_host *h = &e->hosts[i];

			if (!host_takes_step(h, s))
				continue;
			e->pending++;
		}
		if (e->pending == 0)
			continue;
		/* Count first, then start: a callback may finish synchronously. */
		{
			size_t todo = e->pending;

			for (size_t i = 0; i < e->n_hosts && todo > 0; i++) {
				struct engine_host *h = &e->hosts[i];

				if (!host_takes_step(h, s))
					continue;
				todo--;
				h->changed = false;
				if (h->dead) {
					h->counts[HOST_SKIPPED]++;
					if (e->sink.host_done)
						e->sink.host_done(h, s, HOST_SKIPPED, NULL, e->sink.ud);
					if (--e->pending == 0)
						break;
					continue;
				}
				run_check(h, PH_CHECK);
			}
		}
		if (e->pending > 0)
			return;
	}
}

static void connected(struct ssh_session *s, enum wiz_err code, const struct wiz_error *err, void *ud)
{
	struct engine_host *h = ud;
	struct engine *e = h->engine;

	(void)s;
	if (code != WIZ_ERR_OK) {
		h->dead = true;
		h->counts[code == WIZ_ERR_HOSTKEY || code == WIZ_ERR_AUTH ? HOST_FAILED : HOST_UNREACHABLE]++;
		journal(e, "%s connect failed: %s", h->host->name, err ? err->msg : "");
		if (e->sink.host_done)
			e->sink.host_done(h, step_table[0], code == WIZ_ERR_HOSTKEY || code == WIZ_ERR_AUTH
						     ? HOST_FAILED : HOST_UNREACHABLE,
					  err ? err->msg : NULL, e->sink.ud);
	} else {
		journal(e, "%s connected (%s %s)", h->host->name, ssh_session_hostkey_type(h->ssh),
			ssh_session_hostkey_fingerprint(h->ssh));
	}
	if (--e->pending == 0)
		next_step(e);
}

struct engine *engine_new(struct loop *loop, struct ssh_ctx *ssh, const struct cluster *c,
			  const struct engine_opts *opts, const struct engine_sink *sink)
{
	struct engine *e = xcalloc(1, sizeof *e);
	size_t n = c->n_members + c->control_plane.n_hosts;

	e->loop = loop;
	e->ssh = ssh;
	e->c = c;
	e->opts = *opts;
	if (sink)
		e->sink = *sink;
	e->hosts = xcalloc(n ? n : 1, sizeof *e->hosts);
	for (size_t i = 0; i < n; i++) {
		struct engine_host *h = &e->hosts[e->n_hosts++];
		struct ssh_host_config cfg;

		h->engine = e;
		h->is_member = i < c->n_members;
		h->index = h->is_member ? i : i - c->n_members;
		h->host = h->is_member ? &c->members[i] : &c->control_plane.hosts[i - c->n_members];
		h->selected = in_list(opts->limit, h->host->name);
		plan_init(&h->plan);
		ssh_host_config_from_cluster(c, h->host, &cfg);
		cfg.accept_new_host_keys = opts->accept_new_host_keys;
		h->ssh = ssh_session_new(ssh, &cfg);
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
		ssh_session_free(e->hosts[i].ssh);
		plan_free(&e->hosts[i].plan);
		free(e->hosts[i].probe);
	}
	free(e->hosts);
	if (e->journal)
		fclose(e->journal);
	free(e);
}

void engine_start(struct engine *e)
{
	journal(e, "start %s cluster %s", e->opts.apply ? "apply" : "plan", e->c->name);
	e->pending = 0;
	for (size_t i = 0; i < e->n_hosts; i++)
		if (e->hosts[i].selected)
			e->pending++;
	if (e->pending == 0) {
		e->done = true;
		return;
	}
	for (size_t i = 0, todo = e->pending; i < e->n_hosts && todo > 0; i++) {
		if (!e->hosts[i].selected)
			continue;
		todo--;
		e->hosts[i].phase = PH_CONNECT;
		ssh_session_connect(e->hosts[i].ssh, connected, &e->hosts[i]);
	}
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
	for (size_t i = 0; i < e->n_hosts; i++)
		if (e->hosts[i].selected && e->hosts[i].dead)
			return false;
	return e->done;
}
