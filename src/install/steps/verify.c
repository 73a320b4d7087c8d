/* verify: each member checks its own etcd: healthy (/health through
 * etcdctl) and started under its own name in the member list. Across the
 * members that is the whole cluster, and a dead member ends only its own
 * wait (its host is unreachable at once) instead of every member's. When
 * applying it waits, bounded in wall time by one value (--health-timeout,
 * shown in the plan); when planning it looks once. Each try asks only the
 * member's own endpoint with short dial and command timeouts, so no try
 * waits on a dead peer. Read-only. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/shquote.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "install/step.h"
#include "install/steps/steps.h"

#define POD_LOG_LINES 6

static unsigned health_timeout(const struct step_env *env)
{
	return env->health_timeout_s ? env->health_timeout_s : VERIFY_DEFAULT_TIMEOUT_S;
}

static char *verify_check(const struct step_env *env)
{
	char *url = url_for("https", env->host->address, 2379);
	char *qurl = sh_quote(url);
	char *needle = xasprintf(", started, %s, ", env->host->name);
	char *qneedle = sh_quote(needle);
	char *cmd;

	/* The wrapper's own variables lose to these (set ones win), so every
	 * call reaches only this member, with bounded dial and command times.
	 * JSON log lines of etcdctl's client ("{...}") are dropped. */
	cmd = xasprintf(
		"e() { ETCDCTL_ENDPOINTS=%s ETCDCTL_DIAL_TIMEOUT=2s ETCDCTL_COMMAND_TIMEOUT=4s "
		"timeout -k 2 15 /usr/local/bin/etcdctl \"$@\" 2>&1 | grep -v '^{'; }; "
		"start=$(date +%%s); bound=%u; "
		"while :; do h=$(e endpoint health); ml=''; "
		"case \"$h\" in *' is healthy'*) ml=$(e member list); "
		"printf '%%s\\n' \"$ml\" | grep -qF -- %s && break;; esac; "
		"[ $(( $(date +%%s) - start )) -ge \"$bound\" ] && break; sleep 0.25; done; "
		PROBE_SECTION("waited") "echo $(( $(date +%%s) - start )); "
		PROBE_SECTION("health") "printf '%%s\\n' \"$h\"; "
		PROBE_SECTION("members") "printf '%%s\\n' \"$ml\"; "
		PROBE_SECTION("status") "e -w simple endpoint status; "
		PROBE_SECTION("podlog")
		"case \"$h\" in *' is healthy'*) ;; *) "
		"f=$(ls -t /var/log/pods/kube-system_etcd*_*/etcd/*.log 2>/dev/null | head -n 1); "
		"[ -n \"$f\" ] && { echo \"$f\"; tail -n %d \"$f\" | cut -c1-240; };; esac; ",
		qurl, env->applying ? health_timeout(env) : 0, qneedle, POD_LOG_LINES);
	free(qneedle);
	free(needle);
	free(qurl);
	free(url);
	return cmd;
}

static unsigned verify_check_timeout(const struct step_env *env)
{
	/* The bound, one last try of three bounded calls, and the transport. */
	return health_timeout(env) + 60;
}

/* The first line of text, at most 200 bytes, or "" (in place). */
static const char *first_line(char *text)
{
	if (text == NULL)
		return "";
	text[strcspn(text, "\n")] = '\0';
	if (strlen(text) > 200)
		text[200] = '\0';
	return text;
}

/* "FILE\nline\nline\n" -> "line | line" (in place), "" without a log. */
static const char *pod_log_summary(char *log, const char **file)
{
	char *nl;

	*file = "";
	if (log == NULL || (nl = strchr(log, '\n')) == NULL)
		return "";
	*nl = '\0';
	*file = log;
	for (char *p = nl + 1; *p; p++)
		if (*p == '\n' && p[1] != '\0')
			*p = '|';
		else if (*p == '\n')
			*p = '\0';
	return nl + 1;
}

static void verify_plan(const struct step_env *env, struct plan *plan)
{
	char *health = probe_section(env->probe, "health");
	char *members = probe_section(env->probe, "members");
	char *status = probe_section(env->probe, "status");
	char *waited = probe_section(env->probe, "waited");
	char *podlog = probe_section(env->probe, "podlog");
	char *needle = xasprintf(", started, %s, ", env->host->name);
	char *bound = duration_format(health_timeout(env));
	bool healthy = health != NULL && strstr(health, " is healthy") != NULL;
	bool started = members != NULL && strstr(members, needle) != NULL;
	/* An endpoint that gave no status did not answer at all. */
	bool answered = status != NULL && strstr(status, ", ") != NULL;
	const char *log_file, *log = pod_log_summary(podlog, &log_file);
	char *why;

	if (waited != NULL)
		waited[strcspn(waited, "\n")] = '\0';
	if (!env->applying)
		plan_note(plan, _("apply waits up to %s (--health-timeout) for etcd on %s to be healthy"),
			  bound, env->host->name);
	if (healthy && started) {
		/* etcdctl's simple status: endpoint, ID, version, DB size, is leader, ... */
		if (status != NULL && strstr(status, ", true, ") != NULL)
			plan_note(plan, _("leader: %s; healthy after %s s of waiting"), env->host->name,
				  waited ? waited : "?");
		else if (env->applying)
			plan_note(plan, _("%s healthy after %s s of waiting"), env->host->name,
				  waited ? waited : "?");
		goto out;
	}
	if (!answered && env->applying)
		why = xasprintf(_("etcd on %s did not answer within %s (timed out)"), env->host->name,
				bound);
	else if (!answered)
		why = xasprintf(_("etcd on %s does not answer yet"), env->host->name);
	else if (!healthy && env->applying)
		why = xasprintf(_("etcd on %s answers but is unhealthy after %s: %s"), env->host->name,
				bound, first_line(health));
	else if (!healthy)
		why = xasprintf(_("etcd on %s answers but is not healthy yet: %s"), env->host->name,
				first_line(health));
	else
		why = xasprintf(_("etcd on %s is healthy but is not started under that name in its member list"),
				env->host->name);
	/* Before apply a cluster that is not up yet is expected: only a warning. */
	if (log[0] != '\0')
		plan_finding(plan, env->applying, "Health", _("%s; the last lines of its pod's log (%s): %s"),
			     why, log_file, log);
	else
		plan_finding(plan, env->applying, "Health", "%s", why);
	free(why);
out:
	free(bound);
	free(needle);
	free(podlog);
	free(waited);
	free(health);
	free(members);
	free(status);
}

const struct step step_verify = {
	.name = "verify",
	.title = N_("Cluster health"),
	.hosts = STEP_MEMBERS,
	.check = verify_check,
	.plan = verify_plan,
	.barrier = true,
	.health_gate = true,
	.check_timeout_s = verify_check_timeout,
};
