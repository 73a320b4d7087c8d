/* kernel modules: overlay and br_netfilter loaded now and at boot, verified
 * by effect so that modules built into the kernel pass too. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "install/step.h"
#include "install/steps/steps.h"
#include "install/template.h"

#define MODULES_CONF "/etc/modules-load.d/k8s.conf"

static void modules_reads(const struct step_env *env, struct probe_request *out)
{
	(void)env;
	probe_read_file(out, MODULES_CONF, false);
	/* What the modules do, whether built in or loaded. */
	probe_read_item(out, PROBE_SHELL, "effect",
			"grep -qw overlay /proc/filesystems && echo overlay=yes || echo overlay=no\n"
			"test -d /proc/sys/net/bridge && echo br_netfilter=yes || echo br_netfilter=no");
}

static void modules_plan(const struct step_env *env, struct plan *plan)
{
	struct remote_file conf;
	const char *overlay = probe_value(env->probe, "effect", "overlay");
	const char *bridge = probe_value(env->probe, "effect", "br_netfilter");
	size_t len;
	const char *content = template_source("k8s-modules.conf", &len);

	probe_file(env->probe, MODULES_CONF, &conf);
	plan_ensure_file(plan, &conf, MODULES_CONF, content, len, 0644, "root:root", false,
			 _("load overlay and br_netfilter at boot"));
	if (overlay == NULL || strcmp(overlay, "yes") != 0)
		plan_command(plan, "modprobe overlay", _("load the overlay module"));
	if (bridge == NULL || strcmp(bridge, "yes") != 0)
		plan_command(plan, "modprobe br_netfilter", _("load the br_netfilter module"));
	remote_file_free(&conf);
}

const struct step step_modules = {
	.name = "modules",
	.title = N_("Kernel modules"),
	.hosts = STEP_MEMBERS,
	.reads = modules_reads,
	.plan = modules_plan,
};
