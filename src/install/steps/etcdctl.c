/* etcdctl: the client on every member (Debian/Ubuntu: the etcd-client
 * package), plus /etc/etcdwiz/etcdctl.env and a /usr/local/bin/etcdctl
 * wrapper so that `etcdctl endpoint health --cluster` works with no flags. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "install/step.h"
#include "install/steps/steps.h"
#include "install/template.h"

#define ENV_FILE "/etc/etcdwiz/etcdctl.env"
#define WRAPPER "/usr/local/bin/etcdctl"
#define UPLOADED "/usr/local/lib/etcdwiz/etcdctl"

static void etcdctl_reads(const struct step_env *env, struct probe_request *out)
{
	static const char *const candidates[] = { UPLOADED, "/usr/bin/etcdctl", NULL };

	probe_read_file(out, ENV_FILE, false);
	probe_read_file(out, WRAPPER, false);
	/* An uploaded binary is compared by hash, never read back as text. */
	if (env->cluster->etcd.etcdctl_binary)
		probe_read_file(out, UPLOADED, true);
	probe_item_args(probe_read_item(out, PROBE_SHELL, "etcdctl",
					"for p; do test -x \"$p\" && { echo real=$p; break; }; done"),
			candidates);
}

static void etcdctl_plan(const struct step_env *env, struct plan *plan)
{
	const char *found = probe_value(env->probe, "etcdctl", "real");
	char *real = found ? xstrdup(found) : NULL;
	struct template_vars v;
	struct remote_file have_env, have_wrapper;
	struct wiz_error err;
	char *endpoints = xstrdup("");
	char *env_text = NULL, *wrapper = NULL;

	if (env->cluster->etcd.etcdctl_binary != NULL) {
		struct remote_file have;
		size_t len = 0;
		char *bin = env->read_local ? env->read_local(env, env->cluster->etcd.etcdctl_binary, &len) : NULL;

		probe_file(env->probe, UPLOADED, &have);
		if (bin == NULL) {
			plan_finding(plan, true, "Etcdctl", _("cannot read etcd.etcdctlBinary %s on this machine"),
				     env->cluster->etcd.etcdctl_binary);
		} else {
			/* Hashed like a secret: a binary is not shown as a diff. */
			plan_ensure_file(plan, &have, UPLOADED, bin, len, 0755, "root:root", true,
					 _("upload the etcdctl binary from etcd.etcdctlBinary"));
		}
		free(bin);
		remote_file_free(&have);
		free(real);
		real = xstrdup(UPLOADED);
	} else if (real == NULL || real[0] == '\0') {
		if (env->os && env->os->family == OS_DEBIAN) {
			plan_command(plan, "DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-client",
				     _("install etcdctl (etcd-client)"));
		} else {
			plan_finding(plan, true, "Etcdctl",
				     _("etcdctl is not installed on %s and RHEL has no package for it; set etcd.etcdctlBinary to an etcdctl release binary on this machine"),
				     env->host->name);
		}
		free(real);
		real = xstrdup("/usr/bin/etcdctl");
	}
	for (size_t i = 0; i < env->cluster->n_members; i++) {
		char *u = url_for("https", env->cluster->members[i].address, 2379);
		char *next = xasprintf("%s%s%s", endpoints, i ? "," : "", u);

		free(u);
		free(endpoints);
		endpoints = next;
	}
	template_vars_init(&v);
	template_set(&v, "endpoints", endpoints);
	template_set(&v, "pki_dir", "/etc/kubernetes/pki");
	template_set(&v, "env_file", ENV_FILE);
	template_set(&v, "etcdctl", real);
	probe_file(env->probe, ENV_FILE, &have_env);
	probe_file(env->probe, WRAPPER, &have_wrapper);
	if (template_render_text("etcdctl.env", &v, &env_text, &err) != WIZ_ERR_OK ||
	    template_render_text("etcdctl-wrapper.sh", &v, &wrapper, &err) != WIZ_ERR_OK) {
		plan_finding(plan, true, "Template", "%s", err.msg);
	} else {
		plan_ensure_file(plan, &have_env, ENV_FILE, env_text, strlen(env_text), 0644,
				 "root:root", false, _("write etcdctl's endpoints and client certificate"));
		plan_ensure_file(plan, &have_wrapper, WRAPPER, wrapper, strlen(wrapper), 0755,
				 "root:root", false, _("install the etcdctl wrapper"));
	}
	free(env_text);
	free(wrapper);
	free(endpoints);
	free(real);
	remote_file_free(&have_env);
	remote_file_free(&have_wrapper);
	template_vars_free(&v);
}

const struct step step_etcdctl = {
	.name = "etcdctl",
	.title = N_("etcdctl"),
	.hosts = STEP_MEMBERS,
	.reads = etcdctl_reads,
	.plan = etcdctl_plan,
};
