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
	/* Done when every configured endpoint (the wrapper's ETCDCTL_ENDPOINTS,
	 * not --cluster, which skips members that have not published their
	 * URLs yet) is healthy and every member has started. The health output
	 * shown is the one of the run that ended the wait. */
	return xasprintf(
		"i=0; while :; do out=$(/usr/local/bin/etcdctl endpoint health 2>&1) && "
		"[ \"$(/usr/local/bin/etcdctl member list 2>/dev/null | grep -c ', started, ')\" -ge %zu ] && break; "
		"i=$((i+1)); [ $i -ge %d ] && break; sleep 2; done; echo '@@waited'; echo $((i*2)); "
		PROBE_SECTION("health") "printf '%%s\\n' \"$out\"; "
		PROBE_SECTION("members") "/usr/local/bin/etcdctl member list 2>&1; "
		PROBE_SECTION("status") "/usr/local/bin/etcdctl endpoint status 2>&1; ",
		env->cluster->n_members,
		env->applying ? VERIFY_TRIES : 1);
}

static void verify_plan(const struct step_env *env, struct plan *plan)
{
	char *health = probe_section(env->probe, "health");
	char *members = probe_section(env->probe, "members");
	char *status = probe_section(env->probe, "status");
	char *waited = probe_section(env->probe, "waited");
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
	if (waited != NULL)
		waited[strcspn(waited, "\n")] = '\0';
	/* etcdctl's simple status lines: endpoint, ID, version, DB size, is leader, ... */
	for (char *line = status, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strstr(line, ", true, ") != NULL) {
			const char *leader = NULL;

			for (size_t i = 0; i < env->cluster->n_members && leader == NULL; i++) {
				char *u = url_for("https", env->cluster->members[i].address, 2379);

				if (strncmp(line, u, strlen(u)) == 0 && line[strlen(u)] == ',')
					leader = env->cluster->members[i].name;
				free(u);
			}
			if (leader != NULL)
				plan_note(plan, _("leader: %s; healthy after %s s of waiting"), leader,
					  waited ? waited : "?");
			break;
		}
	}
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
};
