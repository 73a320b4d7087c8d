/* verify: wait (bounded) until every member is healthy and the member list
 * holds every name; report the leader. Read-only. When only planning, it
 * looks once and does not wait. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "step.h"
#include "steps/steps.h"
#include "xmalloc.h"

#define VERIFY_TRIES 90		/* x 2 s: three minutes for images and elections */

static char *verify_check(const struct step_env *env)
{
	return xasprintf(
		"i=0; while [ $i -lt %d ] && ! /usr/local/bin/etcdctl endpoint health --cluster >/dev/null 2>&1; do "
		"sleep 2; i=$((i+1)); done; echo '@@waited'; echo $((i*2)); "
		PROBE_SECTION("health") "/usr/local/bin/etcdctl endpoint health --cluster 2>&1; "
		PROBE_SECTION("members") "/usr/local/bin/etcdctl member list 2>&1; "
		PROBE_SECTION("status") "/usr/local/bin/etcdctl endpoint status --cluster 2>&1; ",
		env->applying ? VERIFY_TRIES : 1);
}

static void verify_plan(const struct step_env *env, struct plan *plan)
{
	char *health = probe_section(env->probe, "health");
	char *members = probe_section(env->probe, "members");
	char *status = probe_section(env->probe, "status");
	size_t healthy = 0;

	for (const char *p = health; p && (p = strstr(p, " is healthy")) != NULL; p++)
		healthy++;
	/* Before apply a cluster that is not up yet is expected: only a warning. */
	if (healthy < env->cluster->n_members)
		plan_finding(plan, env->applying, "Health", _("%zu of %zu members are healthy: %s"), healthy,
			     env->cluster->n_members, health ? health : "");
	for (size_t i = 0; i < env->cluster->n_members; i++) {
		char *needle = xasprintf(", %s, ", env->cluster->members[i].name);

		if (members == NULL || strstr(members, needle) == NULL)
			plan_finding(plan, env->applying, "MemberList", _("member %s is not in the member list"),
				     env->cluster->members[i].name);
		free(needle);
	}
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
};
