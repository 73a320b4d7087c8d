/* A rolling restart that failed: the member is put back on the manifest
 * it ran before, as an operator would, so that one bad version, image or
 * flag costs one member for a bounded time and never two. Its last log
 * lines are read first (the new container's log under /var/log/pods, or
 * kubelet's journal when no container started: a missing image), then the
 * old manifest is written back, kubelet runs it, and the member is asked
 * until healthy again. The step fails either way, and the roll stops:
 * the members not yet restarted stay as they were. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/loop.h"
#include "base/shquote.h"
#include "base/strutil.h"
#include "base/xmalloc.h"
#include "install/engine-internal.h"
#include "install/steps/steps.h"

/* Prints the last lines ("log: ...") of what failed since the file was
 * written ($1): the log of the pod started from it (a new manifest is a
 * new pod, under a new directory), else what kubelet said of etcd since
 * (no container started: a missing image); then puts its old content (stdin) back atomically, from a
 * temp file beside its directory (kubelet reads every file in the
 * manifests directory), then runs the plan's own wait for the new
 * process. */
static const char rollback_script[] =
	"m=$1 t=$(dirname \"$(dirname \"$1\")\")/.$(basename \"$1\").etcdwiz-rollback\n"
	"d=$(find /var/log/pods -mindepth 1 -maxdepth 1 -type d -name '*_etcd*' -newer \"$m\" 2>/dev/null)\n"
	"l=$(for x in $d; do find \"$x\" -name '*.log'; done 2>/dev/null | xargs -r ls -t 2>/dev/null | head -n 1)\n"
	"if [ -n \"$l\" ]; then tail -n 5 \"$l\"\n"
	"else journalctl -u kubelet --since \"@$(stat -c %Y \"$m\")\" --no-pager -o cat 2>/dev/null | grep -i etcd | grep -iE 'fail|error|back-off' | tail -n 5\n"
	"fi | cut -c1-300 | sed 's/^/log: /'\n"
	"umask 077\n"
	"cat >\"$t\" && chmod 0600 \"$t\" && mv -f \"$t\" \"$m\" || { rm -f \"$t\"; echo \"cannot write $m\" >&2; exit 1; }\n";

static const struct action *old_file(const struct engine_host *h)
{
	const struct action *a;

	if (h->plan.restart_file == 0 || h->plan.restart_file > h->plan.n_actions)
		return NULL;
	a = &h->plan.actions[h->plan.restart_file - 1];
	return a->kind == ACTION_FILE && a->old_exists && a->old_content != NULL ? a : NULL;
}

/* The step fails with why, what the rollback did and the log lines. */
static void rollback_end(struct engine_host *h, const char *outcome)
{
	struct engine *e = h->engine;

	if (e->roll_stop == NULL)
		e->roll_stop = xasprintf(_("%s did not come back after its restart and was put back on its old manifest"),
					 h->host->name);
	eng_journal(e, "roll: %s rolled back: %s", h->host->name, outcome);
	eng_finish_step(h, HOST_FAILED, "%s. %s%s%s", h->rollback_why, outcome,
			h->rollback_log && h->rollback_log[0] ? _("\n  Its last log lines:") : "",
			h->rollback_log ? h->rollback_log : "");
}

static void rollback_ask(struct engine_host *h);

static void rollback_again(struct loop_timer *t, void *ud)
{
	(void)t;
	rollback_ask(ud);
}

static void rollback_answered(enum wiz_err code, const struct etcd_member_view *v, const char *msg, void *ud)
{
	struct engine_host *h = ud;
	struct engine *e = h->engine;
	char *outcome;

	h->roll_ask = NULL;
	if (code == WIZ_ERR_OK && eng_view_ok(v)) {
		outcome = xasprintf(_("It is back on its old manifest (etcd %s) and healthy again; the members not yet changed were left as they were"),
				    v->version[0] ? v->version : h->rollback_from);
		rollback_end(h, outcome);
		free(outcome);
		return;
	}
	if (code == WIZ_ERR_OK)
		h->roll_view = *v;
	if (loop_now() + ETCD_ASK_INTERVAL_MS >= h->roll_deadline || code != WIZ_ERR_OK) {
		outcome = xasprintf(_("Its old manifest (etcd %s) was written back, but it is not healthy on it either (%s): look at it now (docs/operations.md, \"When an upgrade stops\"); the members not yet changed were left as they were"),
				    h->rollback_from, code != WIZ_ERR_OK ? (msg && msg[0] ? msg : wiz_err_name(code))
									 : eng_view_why(h));
		rollback_end(h, outcome);
		free(outcome);
		return;
	}
	if (h->roll_timer == NULL)
		h->roll_timer = loop_timer_add(e->loop, rollback_again, h);
	loop_timer_arm_in(h->roll_timer, ETCD_ASK_INTERVAL_MS);
}

static void rollback_ask(struct engine_host *h)
{
	struct engine *e = h->engine;
	struct transport_ask q = eng_ask_of(e, h);

	h->roll_msg[0] = '\0';
	h->roll_ask = e->t.ops->ask_etcd(e->t.self, h->conn, &q, rollback_answered, h);
}

/* "log: " lines of the script's output, each on its own indented line. */
static char *log_lines_of(const char *out, size_t len)
{
	char *text = xstrndup(out ? out : "", out ? len : 0);
	char *lines = xstrdup("");
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *next;

		if (strncmp(l, "log: ", 5) != 0)
			continue;
		next = xasprintf("%s\n    %s", lines, l + 5);
		free(lines);
		lines = next;
	}
	free(text);
	return lines;
}

static void rollback_written(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct engine_host *h = eng_request_end(ud);
	struct engine *e;
	unsigned bound;

	(void)op;
	if (h == NULL)
		return;
	e = h->engine;
	free(h->rollback_log);
	h->rollback_log = log_lines_of(r->out, r->out_len);
	if (r->code != WIZ_ERR_OK) {
		char *outcome = xasprintf(_("Putting its old manifest back failed too (%s): put %s back by hand (docs/operations.md, \"When an upgrade stops\")"),
					  r->errout && r->errout[0] ? r->errout : r->err.msg,
					  h->plan.actions[h->plan.restart_file - 1].path);

		rollback_end(h, outcome);
		free(outcome);
		return;
	}
	bound = e->opts.health_timeout_s ? e->opts.health_timeout_s : VERIFY_DEFAULT_TIMEOUT_S;
	/* The restart's own asks may have made the retry timer (it calls
	 * them again): the rollback's asks get one of their own. */
	loop_timer_del(h->roll_timer);
	h->roll_timer = NULL;
	h->phase = PH_ROLL_BACK;
	h->roll_start = loop_now();
	h->roll_deadline = h->roll_start + (uint64_t)bound * 1000;
	rollback_ask(h);
}

bool eng_rollback_start(struct engine_host *h, const char *fmt, ...)
{
	struct engine *e = h->engine;
	const struct action *a = old_file(h);
	const struct action *wait = h->plan.restart_wait > 0 && h->plan.restart_wait <= h->plan.n_actions
					    ? &h->plan.actions[h->plan.restart_wait - 1] : NULL;
	char *q;
	struct ssh_exec_opts xo = { 0 };
	struct bundle b;
	va_list ap;

	if (a == NULL || h->plan.joins_cluster || e->t.ops->ask_etcd == NULL)
		return false;
	free(h->rollback_why);
	va_start(ap, fmt);
	h->rollback_why = xvasprintf(fmt, ap);
	va_end(ap);
	/* A command's stderr: its lines joined, the last newline gone. */
	for (size_t n = strlen(h->rollback_why); n > 0 && (h->rollback_why[n - 1] == '\n' || h->rollback_why[n - 1] == ' '); n--)
		h->rollback_why[n - 1] = '\0';
	for (char *p = h->rollback_why; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (!manifest_image_version(a->old_content, h->rollback_from, sizeof h->rollback_from))
		snprintf(h->rollback_from, sizeof h->rollback_from, "%s", "?");
	eng_journal(e, "roll: %s failed (%s); putting back its old manifest (etcd %s)", h->host->name,
		    h->rollback_why, h->rollback_from);
	if (e->sink.action != NULL) {
		struct action shown = { .kind = ACTION_COMMAND };

		shown.summary = xasprintf(_("put back the manifest it ran before (etcd %s)"), h->rollback_from);
		e->sink.action(h, e->steps[h->step], &shown, 0, 1, e->sink.ud);
		free(shown.summary);
	}
	/* The request owns its script and input (a bundle of its own). */
	q = sh_quote(a->path);
	b.script = xasprintf("set -- %s\n%s%s\n", q, rollback_script,
			     wait != NULL && wait->kind == ACTION_COMMAND ? wait->command : "");
	free(q);
	b.input_len = strlen(a->old_content);
	b.input = xstrndup(a->old_content, b.input_len);
	xo.timeout_ms = 150 * 1000;
	eng_exec_on(h, PH_ROLL_BACK, NULL, &xo, &b, rollback_written);
	return true;
}

void eng_rollback_free(struct engine_host *h)
{
	free(h->rollback_why);
	free(h->rollback_log);
	h->rollback_why = h->rollback_log = NULL;
}
