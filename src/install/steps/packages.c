/* packages: iproute, CRI-O and kubelet/kubeadm/kubectl of the cluster's
 * Kubernetes minor from today's repositories (pkgs.k8s.io, CRI-O's
 * isv:cri-o project; or the cluster's mirrors), signed, pinned and held.
 * With runtime.install: false it installs nothing and verifies instead. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/shquote.h"
#include "base/xmalloc.h"
#include "install/step.h"
#include "install/steps/steps.h"
#include "install/template.h"

#define K8S_KEYRING "/etc/apt/keyrings/kubernetes-apt-keyring.gpg"
#define CRIO_KEYRING "/etc/apt/keyrings/cri-o-apt-keyring.gpg"
#define APT_K8S_LIST "/etc/apt/sources.list.d/kubernetes.list"
#define APT_CRIO_LIST "/etc/apt/sources.list.d/cri-o.list"
#define YUM_K8S_REPO "/etc/yum.repos.d/kubernetes.repo"
#define YUM_CRIO_REPO "/etc/yum.repos.d/cri-o.repo"
#define CRIO_DROPIN "/etc/crio/crio.conf.d/02-cgroup-manager.conf"

/* "v1.33.2" -> "1.33" */
char *k8s_minor(const char *version);
char *k8s_minor(const char *version)
{
	const char *v = version[0] == 'v' ? version + 1 : version;
	const char *dot = strchr(v, '.');
	size_t len = dot ? strcspn(dot + 1, ".") + (size_t)(dot + 1 - v) : strlen(v);

	return xstrndup(v, len);
}

/* The repository URL for this family, ending in '/'. */
char *packages_repo_url(const struct cluster *c, bool crio, enum os_family fam);
char *packages_repo_url(const struct cluster *c, bool crio, enum os_family fam)
{
	const char *mirror = crio ? c->repositories.crio : c->repositories.kubernetes;
	const char *kind = fam == OS_RHEL ? "rpm" : "deb";
	char *minor = k8s_minor(crio && c->runtime.version ? c->runtime.version
						 : c->kubernetes_version);
	char *url;

	if (mirror != NULL)
		url = xasprintf("%s%s", mirror, mirror[strlen(mirror) - 1] == '/' ? "" : "/");
	else if (crio)
		url = xasprintf("https://download.opensuse.org/repositories/isv:/cri-o:/stable:/v%s/%s/",
				minor, kind);
	else
		url = xasprintf("https://pkgs.k8s.io/core:/stable:/v%s/%s/", minor, kind);
	free(minor);
	return url;
}

static const char *const k8s_packages[] = { "kubelet", "kubeadm", "kubectl", NULL };

static void packages_reads(const struct step_env *env, struct probe_request *out)
{
	static const char *const files[] = { APT_K8S_LIST, APT_CRIO_LIST, YUM_K8S_REPO,
					     YUM_CRIO_REPO, CRIO_DROPIN, NULL };

	(void)env;
	for (size_t i = 0; files[i]; i++)
		probe_read_file(out, files[i], false);
	/* dpkg's status abbreviation is the wanted action, then the state:
	 * "ii" installed, "hi" installed and held (apt-mark hold), so one
	 * dpkg-query (kept in $q for "held", the next item) gives both
	 * sections; apt-mark would load the whole package cache. */
	probe_read_item(out, PROBE_SHELL, "installed",
			"q=''; if command -v dpkg-query >/dev/null; then "
			"q=$(dpkg-query -W -f='${Package}=${Version} ${db:Status-Abbrev}\\n' iproute2 cri-o kubelet kubeadm kubectl 2>/dev/null); fi\n"
			"if [ -n \"$q\" ]; then printf '%s\\n' \"$q\" | awk '$2 ~ /^.i/ {print $1}'; "
			"elif command -v rpm >/dev/null; then "
			"rpm -q --qf '%{NAME}=%{VERSION}-%{RELEASE}\\n' iproute-tc cri-o kubelet kubeadm kubectl 2>/dev/null | grep -v 'not installed'; fi");
	probe_read_item(out, PROBE_SHELL, "held",
			"printf '%s\\n' \"$q\" | awk '$2 ~ /^h/ {sub(/=.*/, \"\", $1); print $1}'");
	probe_read_item(out, PROBE_SHELL, "binaries",
			"echo kubelet=$(command -v kubelet); echo crio=$(command -v crio)\n"
			"if command -v kubelet >/dev/null; then kv=$(" PROBE_BOUNDED "kubelet --version 2>/dev/null)\n"
			"rc=$?; { [ $rc -eq 124 ] || [ $rc -eq 137 ]; } && echo kubelet_version_timeout=yes\n"
			"read -r _ v _ <<EOF\n$kv\nEOF\necho kubelet_version=$v; fi");
	probe_item_arg(probe_read_item(out, PROBE_UNIT, "crio", NULL), "crio");
	probe_item_args(probe_read_item(out, PROBE_SHELL, "keyrings",
					"test -s \"$1\" && echo kubernetes=yes; test -s \"$2\" && echo crio=yes"),
			(const char *const[]){ K8S_KEYRING, CRIO_KEYRING, NULL });
}

/* pkg is installed ("pkg=VERSION" in "installed"). */
static bool installed(const struct step_env *env, const char *pkg)
{
	return probe_value(env->probe, "installed", pkg) != NULL;
}

/* Verify-only mode: report what is missing, change nothing. */
static void packages_verify(const struct step_env *env, struct plan *plan)
{
	const char *kubelet = probe_value(env->probe, "binaries", "kubelet");
	const char *crio = probe_value(env->probe, "binaries", "crio");
	const char *version = probe_value(env->probe, "binaries", "kubelet_version");
	char *minor = k8s_minor(env->cluster->kubernetes_version);

	if (kubelet == NULL || kubelet[0] == '\0')
		plan_finding(plan, true, "KubeletInstalled",
			     _("runtime.install is false but kubelet is not installed on %s; install kubelet %s or set runtime.install: true"),
			     env->host->name, minor);
	else if (version != NULL && version[0] != '\0') {
		char *have = k8s_minor(version);

		if (strcmp(have, minor) != 0)
			plan_finding(plan, false, "KubeletVersion",
				     _("kubelet is %s but kubernetesVersion is %s"), version, minor);
		free(have);
	}
	if (crio == NULL || crio[0] == '\0')
		plan_finding(plan, false, "CRIOInstalled",
			     _("CRI-O is not installed on %s; kubelet needs a container runtime to run etcd"),
			     env->host->name);
	free(minor);
}

static void add_repo_file(const struct step_env *env, struct plan *plan, bool crio,
			  const char *path, const char *tmpl, const char *keyring)
{
	struct template_vars v;
	struct remote_file have;
	struct wiz_error err;
	char *url = packages_repo_url(env->cluster, crio, env->os->family);
	char *minor = k8s_minor(crio && env->cluster->runtime.version
					? env->cluster->runtime.version
					: env->cluster->kubernetes_version);
	char *text = NULL;

	template_vars_init(&v);
	template_set(&v, "url", url);
	template_set(&v, "minor", minor);
	template_set(&v, "keyring", keyring ? keyring : "");
	probe_file(env->probe, path, &have);
	if (template_render_text(tmpl, &v, &text, &err) == WIZ_ERR_OK)
		plan_ensure_file(plan, &have, path, text, strlen(text), 0644, "root:root", false,
				 crio ? _("add the CRI-O package repository")
				      : _("add the Kubernetes package repository"));
	else
		plan_finding(plan, true, "Template", "%s", err.msg);
	free(text);
	remote_file_free(&have);
	template_vars_free(&v);
	free(url);
	free(minor);
}

/* apt's signed-by keyring, from the repository's own Release.key. */
static void add_keyring_fetch(const struct cluster *c, struct plan *plan, bool crio,
			      const char *keyring, const char *summary)
{
	char *url = packages_repo_url(c, crio, OS_DEBIAN);
	char *key = xasprintf("%sRelease.key", url);
	char *q = sh_quote(key);
	char *cmd = xasprintf("mkdir -p -m 755 /etc/apt/keyrings && curl -fsSL %s | "
			      "gpg --batch --yes --dearmor -o %s && chmod 644 %s", q, keyring, keyring);

	plan_command(plan, cmd, summary);
	free(cmd);
	free(q);
	free(key);
	free(url);
}

static void packages_plan(const struct step_env *env, struct plan *plan)
{
	const char *crio_active = probe_value(env->probe, "crio", "active");
	const char *crio_enabled = probe_value(env->probe, "crio", "enabled");
	const struct cluster *c = env->cluster;
	bool debian = env->os && env->os->family == OS_DEBIAN;
	const char *full = c->kubernetes_version[0] == 'v' ? c->kubernetes_version + 1
							   : c->kubernetes_version;
	bool patch = strchr(strchr(full, '.') + 1, '.') != NULL;
	const char *hung = probe_value(env->probe, "binaries", "kubelet_version_timeout");

	if (hung != NULL && strcmp(hung, "yes") == 0) {
		const char *path = probe_value(env->probe, "binaries", "kubelet");

		plan_finding(plan, false, "KubeletVersion",
			     _("`%s --version` did not finish within %d s on %s, so kubelet's version is unknown; check that binary (a wrapper that waits, or a broken build?)"),
			     path ? path : "kubelet", PROBE_TIMEOUT_S, env->host->name);
	}
	if (!c->runtime.install) {
		packages_verify(env, plan);
		return;
	}
	if (env->os == NULL || env->os->family == OS_UNKNOWN) {
		plan_finding(plan, true, "OS", _("unknown OS family; run the preflight step first"));
		return;
	}
	if (debian) {
		bool need = false;

		if (!installed(env, "iproute2"))
			plan_command(plan, "DEBIAN_FRONTEND=noninteractive apt-get install -y iproute2",
				     _("install iproute2 (tc)"));
		if (probe_value(env->probe, "keyrings", "kubernetes") == NULL)
			add_keyring_fetch(c, plan, false, K8S_KEYRING,
					  _("fetch the Kubernetes repository signing key"));
		if (probe_value(env->probe, "keyrings", "crio") == NULL)
			add_keyring_fetch(c, plan, true, CRIO_KEYRING,
					  _("fetch the CRI-O repository signing key"));
		add_repo_file(env, plan, false, APT_K8S_LIST, "apt-kubernetes.list", K8S_KEYRING);
		add_repo_file(env, plan, true, APT_CRIO_LIST, "apt-crio.list", CRIO_KEYRING);
		need = !installed(env, "cri-o");
		for (size_t i = 0; k8s_packages[i]; i++)
			need |= !installed(env, k8s_packages[i]);
		if (need) {
			char *cmd = patch
				? xasprintf("apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
					    "--allow-change-held-packages cri-o kubelet=%s-* kubeadm=%s-* kubectl=%s-*",
					    full, full, full)
				: xstrdup("apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
					  "--allow-change-held-packages cri-o kubelet kubeadm kubectl");

			plan_command(plan, cmd, _("install CRI-O, kubelet, kubeadm and kubectl"));
			free(cmd);
		}
		if (need || !probe_has_line(env->probe, "held", "kubelet") || !probe_has_line(env->probe, "held", "kubeadm") ||
		    !probe_has_line(env->probe, "held", "kubectl") || !probe_has_line(env->probe, "held", "cri-o"))
			plan_command(plan, "apt-mark hold cri-o kubelet kubeadm kubectl",
				     _("hold the versions (apt-mark hold)"));
	} else {
		bool need = !installed(env, "cri-o");

		if (!installed(env, "iproute-tc"))
			plan_command(plan, "dnf install -y iproute-tc", _("install iproute-tc"));
		add_repo_file(env, plan, false, YUM_K8S_REPO, "yum-kubernetes.repo", NULL);
		add_repo_file(env, plan, true, YUM_CRIO_REPO, "yum-crio.repo", NULL);
		for (size_t i = 0; k8s_packages[i]; i++)
			need |= !installed(env, k8s_packages[i]);
		if (need) {
			/* The repo's exclude= line is the hold; this install lifts it once. */
			char *cmd = patch
				? xasprintf("dnf install -y container-selinux cri-o kubelet-%s kubeadm-%s kubectl-%s "
					    "--disableexcludes=kubernetes", full, full, full)
				: xstrdup("dnf install -y container-selinux cri-o kubelet kubeadm kubectl "
					  "--disableexcludes=kubernetes");

			plan_command(plan, cmd, _("install CRI-O, kubelet, kubeadm and kubectl"));
			free(cmd);
		}
	}
	{
		struct remote_file dropin;
		size_t len;
		const char *text = template_source("crio-cgroup-manager.conf", &len);

		probe_file(env->probe, CRIO_DROPIN, &dropin);
		plan_ensure_file(plan, &dropin, CRIO_DROPIN, text, len, 0644, "root:root", false,
				 _("set CRI-O's cgroup manager to systemd"));
		if (plan->n_actions > 0 || crio_active == NULL || strcmp(crio_active, "active") != 0 ||
		    crio_enabled == NULL || strcmp(crio_enabled, "enabled") != 0)
			plan_command(plan, "systemctl enable crio && systemctl restart crio",
				     _("enable and start CRI-O"));
		remote_file_free(&dropin);
	}
}

const struct step step_packages = {
	.name = "packages",
	.title = N_("Runtime and Kubernetes packages"),
	.hosts = STEP_MEMBERS,
	.reads = packages_reads,
	.plan = packages_plan,
};
