/* sysctl: bridge netfilter and IPv4 forwarding, from /etc/sysctl.d/k8s.conf
 * only (not `sysctl --system`, which would re-apply every other file too),
 * with the values read back by the next check. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "install/step.h"
#include "install/steps/steps.h"
#include "install/template.h"

#define SYSCTL_CONF "/etc/sysctl.d/k8s.conf"

static const char *const sysctl_keys[] = {
	"net.bridge.bridge-nf-call-iptables",
	"net.bridge.bridge-nf-call-ip6tables",
	"net.ipv4.ip_forward",
	NULL,
};

static void sysctl_reads(const struct step_env *env, struct probe_request *out)
{
	(void)env;
	probe_read_file(out, SYSCTL_CONF, false);
	probe_item_args(probe_read_item(out, PROBE_SYSCTL, "values", NULL), sysctl_keys);
}

static void sysctl_plan(const struct step_env *env, struct plan *plan)
{
	struct remote_file conf;
	size_t len;
	const char *content = template_source("k8s-sysctl.conf", &len);
	bool all_set = true;

	probe_file(env->probe, SYSCTL_CONF, &conf);
	plan_ensure_file(plan, &conf, SYSCTL_CONF, content, len, 0644, "root:root", false,
			 _("set bridge netfilter and IP forwarding at boot"));
	for (size_t i = 0; sysctl_keys[i]; i++) {
		const char *v = probe_value(env->probe, "values", sysctl_keys[i]);

		if (v == NULL || strcmp(v, "1") != 0)
			all_set = false;
	}
	if (!all_set || plan->n_actions > 0)
		plan_command(plan, "sysctl -p " SYSCTL_CONF,
			     _("apply /etc/sysctl.d/k8s.conf now"));
	remote_file_free(&conf);
}

const struct step step_sysctl = {
	.name = "sysctl",
	.title = N_("Kernel parameters"),
	.hosts = STEP_MEMBERS,
	.reads = sysctl_reads,
	.plan = sysctl_plan,
};
