/* verify: every member's etcd read from here (the engine asks each one
 * over its host's SSH session with our GnuTLS client: /health, its member
 * list, its status), all at once: healthy and started under its own name.
 * Across the members that is the whole cluster, and a dead member ends only
 * its own wait (its host is unreachable at once) instead of every member's.
 * When applying the engine asks again until healthy, bounded in wall time
 * by one value (--health-timeout, shown in the plan); when planning it asks
 * once. The shell check gives only the pod's log, for a member that is not
 * healthy. Read-only. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "install/membership.h"
#include "install/step.h"
#include "install/steps/steps.h"

#define POD_LOG_LINES 6

static unsigned health_timeout(const struct step_env *env)
{
	return env->health_timeout_s ? env->health_timeout_s : VERIFY_DEFAULT_TIMEOUT_S;
}

static void verify_reads(const struct step_env *env, struct probe_request *out)
{
	(void)env;
	/* What etcd cannot say from here: the last lines of its pod's log. */
	/* The pod's state as kubelet reports it (the lab's stand-in writes
	 * it to a file; absent elsewhere): a pod that never started, an image
	 * that cannot be had, leaves no log to read. */
	probe_read_item(out, PROBE_SHELL, "podstatus",
			"for f in /run/kubelet-standin/status/kube-system_etcd*_etcd; do "
			"[ -f \"$f\" ] && cat -- \"$f\"; break; done");
	/* Is etcd deployed at all? Before the first deploy there is no
	 * manifest, and "does not answer" would read like a fault. */
	probe_read_item(out, PROBE_SHELL, "deployed",
			"test -f " ETCD_MANIFEST_PATH " && echo manifest=yes || echo manifest=no");
	probe_read_item(out, PROBE_SHELL, "podlog",
			"f=$(ls -t /var/log/pods/kube-system_etcd*_*/etcd/*.log 2>/dev/null | head -n 1)\n"
			"[ -n \"$f\" ] && { echo \"$f\"; tail -n " PROBE_STR(POD_LOG_LINES) " \"$f\" | cut -c1-240; }");
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
	const struct etcd_member_view *v = env->etcd;
	const char *found = probe_section(env->probe, "podlog");
	char *podlog = found ? xstrdup(found) : NULL;
	char *bound = duration_format(health_timeout(env));
	const char *log_file, *log = pod_log_summary(podlog, &log_file);
	const char *manifest = probe_value(env->probe, "deployed", "manifest");
	char *why;

	/* Nothing deployed yet (no manifest, no pod, no log, not a member
	 * etcd lists): say so, not that a member does not answer. Still a
	 * warning: the cluster is not healthy until it is deployed. A member
	 * etcd lists whose manifest was moved away is a member that does not
	 * answer (below). */
	if (!env->applying && v != NULL && !v->answered && manifest != NULL && strcmp(manifest, "no") == 0 &&
	    log[0] == '\0' && probe_value(env->probe, "podstatus", "state") == NULL &&
	    !(env->live != NULL && env->live->running && live_find_name(env->live, env->host->name) != NULL)) {
		plan_finding(plan, false, "Health",
			     _("etcd is not deployed on %s yet (no %s): the manifest step writes it; apply then waits up to %s (--health-timeout) for it to be healthy"),
			     env->host->name, ETCD_MANIFEST_PATH, bound);
		goto out;
	}
	if (!env->applying)
		plan_note(plan, _("apply waits up to %s (--health-timeout) for etcd on %s to be healthy"),
			  bound, env->host->name);
	if (v == NULL) {
		/* Not asked (a host that is not a member). */
		goto out;
	}
	if (v->answered && v->healthy && v->listed) {
		if (v->leader)
			plan_note(plan, _("leader: %s (etcd %s); healthy after %u s of waiting"),
				  env->host->name, v->version, env->etcd_waited_s);
		else if (env->applying)
			plan_note(plan, _("%s (etcd %s) healthy after %u s of waiting"), env->host->name,
				  v->version, env->etcd_waited_s);
		goto out;
	}
	if (!v->answered && env->applying)
		why = xasprintf(_("etcd on %s did not answer within %s (%s)"), env->host->name, bound,
				v->detail);
	else if (!v->answered)
		why = xasprintf(_("etcd on %s does not answer yet (%s)"), env->host->name, v->detail);
	else if (!v->healthy && env->applying)
		why = xasprintf(_("etcd on %s answers but is unhealthy after %s: %s"), env->host->name,
				bound, v->detail);
	else if (!v->healthy)
		why = xasprintf(_("etcd on %s answers but is not healthy yet: %s"), env->host->name,
				v->detail);
	else
		why = xasprintf(_("etcd on %s is healthy but is not started under that name in its member list"),
				env->host->name);
	{
		const char *state = probe_value(env->probe, "podstatus", "state");
		const char *reason = probe_value(env->probe, "podstatus", "reason");
		const char *message = probe_value(env->probe, "podstatus", "message");

		if (state != NULL && strcmp(state, "running") != 0 && reason != NULL && reason[0]) {
			char *more = xasprintf(_("%s; its pod is %s: %s%s%s"), why, state, reason,
					       message && message[0] ? ": " : "", message ? message : "");

			free(why);
			why = more;
		}
	}
	/* Before apply a cluster that is not up yet is expected: only a warning. */
	if (log[0] != '\0')
		plan_finding(plan, env->applying, "Health", _("%s; the last lines of its pod's log (%s): %s"),
			     why, log_file, log);
	else
		plan_finding(plan, env->applying, "Health", "%s", why);
	free(why);
out:
	free(bound);
	free(podlog);
}

const struct step step_verify = {
	.name = "verify",
	.title = N_("Cluster health"),
	.hosts = STEP_MEMBERS,
	.reads = verify_reads,
	.plan = verify_plan,
	.barrier = true,
	.health_gate = true,
	.asks_etcd = true,
};
