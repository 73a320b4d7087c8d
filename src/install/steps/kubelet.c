/* kubelet: the standalone configuration of kubeadm's HA-etcd guide, so that
 * kubelet runs the etcd static pod with no control plane. The guide puts the
 * KubeletConfiguration at kubelet.service.d/kubelet.conf, where systemd also
 * reads it as a unit drop-in and logs every YAML line as an error; etcdwiz
 * keeps it in /etc/kubernetes instead (same content, same effect). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "install/step.h"
#include "install/steps/steps.h"
#include "install/template.h"

#define KUBELET_CONFIG "/etc/kubernetes/kubelet-etcd.yaml"
#define KUBELET_DROPIN "/etc/systemd/system/kubelet.service.d/20-etcd-service-manager.conf"
#define STATIC_POD_PATH "/etc/kubernetes/manifests"
#define CRIO_SOCKET "unix:///var/run/crio/crio.sock"

static void kubelet_reads(const struct step_env *env, struct probe_request *out)
{
	(void)env;
	probe_read_file(out, KUBELET_CONFIG, false);
	probe_read_file(out, KUBELET_DROPIN, false);
	probe_item_arg(probe_read_item(out, PROBE_UNIT, "kubelet", NULL), "kubelet");
}

static void kubelet_plan(const struct step_env *env, struct plan *plan)
{
	struct template_vars v;
	struct remote_file cfg, dropin;
	struct wiz_error err;
	char *yaml = NULL, *unit = NULL;
	const char *active = probe_value(env->probe, "kubelet", "active");
	const char *enabled = probe_value(env->probe, "kubelet", "enabled");
	const char *dropins = probe_value(env->probe, "kubelet", "dropins");
	/* systemd has read our drop-in (a daemon-reload after writing it). */
	bool loaded = dropins != NULL && strstr(dropins, "20-etcd-service-manager") != NULL;

	template_vars_init(&v);
	template_set(&v, "cgroup_driver", "systemd");
	template_set(&v, "runtime_endpoint", CRIO_SOCKET);
	template_set(&v, "static_pod_path", STATIC_POD_PATH);
	template_set(&v, "kubelet_config", KUBELET_CONFIG);
	probe_file(env->probe, KUBELET_CONFIG, &cfg);
	probe_file(env->probe, KUBELET_DROPIN, &dropin);
	if (template_render_yaml("kubelet-config.yaml", &v, &yaml, &err) != WIZ_ERR_OK ||
	    template_render_text("kubelet-etcd-service-manager.conf", &v, &unit, &err) != WIZ_ERR_OK) {
		plan_finding(plan, true, "Template", "%s", err.msg);
		goto out;
	}
	plan_ensure_file(plan, &cfg, KUBELET_CONFIG, yaml, strlen(yaml), 0644, "root:root", false,
			 _("write kubelet's standalone configuration"));
	plan_ensure_file(plan, &dropin, KUBELET_DROPIN, unit, strlen(unit), 0644, "root:root", false,
			 _("make kubelet a static-pod manager for etcd (systemd drop-in)"));
	if (plan->n_actions > 0 || !loaded)
		plan_command(plan, "systemctl daemon-reload", _("reload systemd units"));
	if (enabled == NULL || strcmp(enabled, "enabled") != 0)
		plan_command(plan, "systemctl enable kubelet", _("enable kubelet at boot"));
	if (plan->n_actions > 0 || active == NULL || strcmp(active, "active") != 0)
		plan_command(plan, "systemctl restart kubelet", _("restart kubelet"));
out:
	free(yaml);
	free(unit);
	remote_file_free(&cfg);
	remote_file_free(&dropin);
	template_vars_free(&v);
}

const struct step step_kubelet = {
	.name = "kubelet",
	.title = N_("kubelet as etcd's manager"),
	.hosts = STEP_MEMBERS,
	.reads = kubelet_reads,
	.plan = kubelet_plan,
};
