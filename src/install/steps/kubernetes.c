/* kubernetes: on each control-plane host, the three files kubeadm needs for
 * etcd.external (etcd/ca.crt, apiserver-etcd-client.crt/.key) and a
 * kubeadm-config.yaml; then proof that they work: every endpoint's /version
 * read from that host with them, as kubeadm's ExternalEtcdVersion preflight
 * does. `kubeadm init` runs only on request (apply --kubeadm-init). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "install/step.h"
#include "install/steps/steps.h"
#include "install/template.h"

#define PKI_DIR "/etc/kubernetes/pki"
#define KUBEADM_CONFIG "/etc/kubernetes/kubeadm-config.yaml"

static const char *const cp_files[] = { "etcd/ca.crt", "apiserver-etcd-client.crt",
					"apiserver-etcd-client.key", NULL };

#define APISERVER_POD "/etc/kubernetes/manifests/kube-apiserver.yaml"
#define APISERVER_ASIDE "/etc/kubernetes/kube-apiserver.yaml.etcdwiz-restart"

/* kube-apiserver reads its etcd CA file once and its client pair only
 * when it connects, so new files need a restart: kubeadm's way for a
 * static pod, the manifest taken away until kubelet stopped it, then put
 * back, then a new process awaited (bounded). A stop in between leaves
 * the manifest aside, which the next check finds (kubernetes_plan). */
static const char apiserver_restart[] =
	"m=" APISERVER_POD "; a=" APISERVER_ASIDE "\n"
	"old=$(pgrep -x kube-apiserver | tr '\\n' ' ')\n"
	"mv -f \"$m\" \"$a\"\n"
	"i=0; while [ $i -lt 60 ]; do still=; for p in $old; do kill -0 \"$p\" 2>/dev/null && still=1; done\n"
	"  [ -z \"$still\" ] && break; sleep 1; i=$((i+1)); done\n"
	"mv -f \"$a\" \"$m\"\n"
	"if [ -n \"$still\" ]; then echo \"kubelet did not stop kube-apiserver within 60 s of its manifest going away; its manifest is back and it runs with the old files\" >&2; exit 1; fi\n"
	"i=0; while [ $i -lt 120 ]; do for p in $(pgrep -x kube-apiserver); do case \" $old \" in *\" $p \"*) ;; *) exit 0;; esac; done\n"
	"  sleep 1; i=$((i+1)); done\n"
	"echo \"kube-apiserver did not start again within 120 s of its manifest's return\" >&2; exit 1";

/* kubeadm-config.yaml for the cluster; NULL and err on failure. */
char *kubeadm_config_render(const struct cluster *c, struct wiz_error *err);
char *kubeadm_config_render(const struct cluster *c, struct wiz_error *err)
{
	struct template_vars v;
	char *out = NULL;
	char *version = c->kubernetes_version[0] == 'v' ? xstrdup(c->kubernetes_version)
							 : xasprintf("v%s", c->kubernetes_version);

	template_vars_init(&v);
	template_set(&v, "kubernetes_version", version);
	if (c->control_plane.endpoint)
		template_set(&v, "control_plane_endpoint", c->control_plane.endpoint);
	if (c->control_plane.pod_subnet)
		template_set(&v, "pod_subnet", c->control_plane.pod_subnet);
	if (c->control_plane.cert_sans.n)
		template_set(&v, "have_cert_sans", "yes");
	for (size_t i = 0; i < c->control_plane.cert_sans.n; i++)
		template_list_add(&v, "cert_sans", c->control_plane.cert_sans.items[i]);
	for (size_t i = 0; i < c->n_members; i++) {
		char *u = url_for("https", c->members[i].address, 2379);

		template_list_add(&v, "endpoints", u);
		free(u);
	}
	template_set(&v, "pki_dir", PKI_DIR);
	template_render_yaml("kubeadm-config.yaml", &v, &out, err);
	template_vars_free(&v);
	free(version);
	return out;
}

static void kubernetes_reads(const struct step_env *env, struct probe_request *out)
{
	struct probe_item *versions;

	probe_read_pki(out, cp_files);
	probe_read_file(out, KUBEADM_CONFIG, false);
	probe_read_item(out, PROBE_SHELL, "apiserver",
			"test -f " APISERVER_POD " && echo pod=yes\n"
			"test -f " APISERVER_ASIDE " && echo aside=yes");
	probe_read_item(out, PROBE_SHELL, "kubeadm",
			"test -e /etc/kubernetes/admin.conf && echo initialized=yes\n"
			"echo kubeadm=$(command -v kubeadm)");
	/* Pairs of member name and /version URL. */
	versions = probe_read_item(out, PROBE_SHELL, "version",
				   "while [ $# -ge 2 ]; do echo \"$1=$(curl -sS --max-time 10 --cacert " PKI_DIR "/etcd/ca.crt "
				   "--cert " PKI_DIR "/apiserver-etcd-client.crt --key " PKI_DIR "/apiserver-etcd-client.key "
				   "\"$2\" 2>&1 | tr -d '\\n')\"; shift 2; done");
	for (size_t i = 0; i < env->cluster->n_members; i++) {
		char *u = url_for("https", env->cluster->members[i].address, 2379);
		char *url = xasprintf("%s/version", u);

		probe_item_arg(versions, env->cluster->members[i].name);
		probe_item_arg(versions, url);
		free(url);
		free(u);
	}
}

static void kubernetes_plan(const struct step_env *env, struct plan *plan)
{
	struct wiz_error err;
	struct remote_file have;
	char *yaml = kubeadm_config_render(env->cluster, &err);

	const char *pod = probe_value(env->probe, "apiserver", "pod");
	const char *aside = probe_value(env->probe, "apiserver", "aside");
	bool runs = pod != NULL && strcmp(pod, "yes") == 0;
	bool replaced = false;

	/* A restart stopped half-way: its manifest back first. */
	if (!runs && aside != NULL && strcmp(aside, "yes") == 0) {
		plan_command(plan, "mv -f " APISERVER_ASIDE " " APISERVER_POD,
			     _("put kube-apiserver's manifest back (a restart was stopped half-way)"));
		runs = true;
	}
	/* The directories come with the files (plan_ensure_file). */
	for (size_t i = 0; cp_files[i]; i++) {
		size_t before = plan->n_actions;

		plan_pki_file(env, plan, cp_files[i]);
		if (plan->n_actions > before && plan->actions[before].old_exists)
			replaced = true;
	}
	probe_file(env->probe, KUBEADM_CONFIG, &have);
	if (yaml == NULL)
		plan_finding(plan, true, "Template", "%s", err.msg);
	else
		plan_ensure_file(plan, &have, KUBEADM_CONFIG, yaml, strlen(yaml), 0600, "root:root",
				 false, _("write kubeadm-config.yaml (etcd.external)"));
	remote_file_free(&have);
	/* kubeadm init only when asked, once, on the first control-plane host. */
	if (env->kubeadm_init && env->member_index == 0) {
		const char *done = probe_value(env->probe, "kubeadm", "initialized");
		const char *bin = probe_value(env->probe, "kubeadm", "kubeadm");

		if (done == NULL && (bin == NULL || bin[0] == '\0'))
			plan_finding(plan, true, "Kubeadm", _("kubeadm is not installed on %s; install it or run without --kubeadm-init"),
				     env->host->name);
		else if (done == NULL)
			plan_command(plan, "kubeadm init --config " KUBEADM_CONFIG " --upload-certs",
				     _("initialise the control plane (kubeadm init)"));
	}
	/* Last: it reads the files above. */
	if (runs && replaced) {
		plan_command(plan, apiserver_restart,
			     _("restart kube-apiserver (its static pod) so that it uses the new etcd files (at most 3 min)"));
		plan->takes_turn = true;
		plan_note(plan, _("this restarts kube-apiserver: one control-plane host at a time, every etcd member healthy first"));
	}
	/* The proof only means something once the files are in place. */
	if (env->applying && (plan->n_actions == 0 ||
			      (plan->n_actions == 1 && plan->actions[0].kind == ACTION_COMMAND &&
			       strstr(plan->actions[0].command, "kubeadm init") != NULL))) {
		for (size_t i = 0; i < env->cluster->n_members; i++) {
			const char *v = probe_value(env->probe, "version", env->cluster->members[i].name);

			if (v == NULL || strstr(v, "\"etcdserver\"") == NULL)
				plan_finding(plan, true, "ExternalEtcdVersion",
					     _("cannot read /version of %s from this host with the client certificate: %s"),
					     env->cluster->members[i].name, v ? v : "");
		}
	}
	free(yaml);
}

const struct step step_kubernetes = {
	.name = "kubernetes",
	.title = N_("Kubernetes control plane files"),
	.hosts = STEP_CONTROL_PLANE,
	.reads = kubernetes_reads,
	.plan = kubernetes_plan,
	.barrier = true,
};
