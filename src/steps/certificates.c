/* certificates: each member's tree from the local PKI store uploaded to
 * /etc/kubernetes/pki, root:root, files 0600 (CIS 1.1.20/1.1.21), and
 * etcd/ca.key only to the members named in pki.caKeyOn. Keys are compared by
 * SHA-256 and never read back. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "step.h"
#include "steps/steps.h"
#include "xmalloc.h"

#define PKI_DIR "/etc/kubernetes/pki"

struct cert_file {
	const char *rel;
	bool secret;
};

static const struct cert_file member_files[] = {
	{ "etcd/ca.crt", false },
	{ "etcd/server.crt", false },
	{ "etcd/server.key", true },
	{ "etcd/peer.crt", false },
	{ "etcd/peer.key", true },
	{ "etcd/healthcheck-client.crt", false },
	{ "etcd/healthcheck-client.key", true },
	{ "apiserver-etcd-client.crt", false },
	{ "apiserver-etcd-client.key", true },
	{ NULL, false },
};

static const struct cert_file ca_key = { "etcd/ca.key", true };

static bool gets_ca_key(const struct step_env *env)
{
	return env->is_member && strlist_contains(&env->cluster->pki.ca_key_on, env->host->name);
}

static char *certificates_check(const struct step_env *env)
{
	char *cmd = xstrdup(PROBE_SECTION("dirs")
			    "stat -c '%n %a %U:%G' " PKI_DIR " " PKI_DIR "/etcd 2>/dev/null; ");

	for (size_t i = 0; member_files[i].rel; i++) {
		char *path = xasprintf(PKI_DIR "/%s", member_files[i].rel);
		char *part = probe_file_cmd(path, true);
		char *next = xasprintf("%s%s", cmd, part);

		free(cmd);
		free(part);
		free(path);
		cmd = next;
	}
	{
		/* Checked on every member: a stray ca.key is removed. */
		char *part = probe_file_cmd(PKI_DIR "/etcd/ca.key", true);
		char *next = xasprintf("%s%s", cmd, part);

		free(cmd);
		free(part);
		cmd = next;
	}
	(void)env;
	return cmd;
}

static void upload(const struct step_env *env, struct plan *plan, const struct cert_file *f)
{
	char *path = xasprintf(PKI_DIR "/%s", f->rel);
	char *summary = xasprintf(_("install %s"), path);
	struct remote_file have;
	size_t len = 0;
	char *data = env->read_local ? env->read_local(env, f->rel, &len) : NULL;

	probe_file(env->probe, path, &have);
	if (data == NULL && !env->applying)
		plan_finding(plan, false, "Certificates",
			     _("%s for %s is not in the local certificate store yet; apply generates it"),
			     f->rel, env->host->name);
	else if (data == NULL)
		plan_finding(plan, true, "Certificates",
			     _("%s for %s is not in the local certificate store; run 'etcdwiz certs generate -f %s' first"),
			     f->rel, env->host->name, env->cluster->file ? env->cluster->file : "FILE");
	else
		plan_ensure_file(plan, &have, path, data, len, 0600, "root:root", true, summary);
	if (data != NULL)
		wiz_free_secret(data, len);
	remote_file_free(&have);
	free(summary);
	free(path);
}

static void certificates_plan(const struct step_env *env, struct plan *plan)
{
	char *dirs = probe_section(env->probe, "dirs");
	struct remote_file stray;

	if (dirs == NULL || strstr(dirs, PKI_DIR " 755 root:root") == NULL ||
	    strstr(dirs, PKI_DIR "/etcd 755 root:root") == NULL)
		plan_command(plan, "install -d -m 0755 -o root -g root " PKI_DIR " " PKI_DIR "/etcd",
			     _("create /etc/kubernetes/pki/etcd"));
	for (size_t i = 0; member_files[i].rel; i++)
		upload(env, plan, &member_files[i]);
	if (gets_ca_key(env)) {
		upload(env, plan, &ca_key);
	} else {
		probe_file(env->probe, PKI_DIR "/etcd/ca.key", &stray);
		if (stray.exists)
			plan_command(plan, "rm -f " PKI_DIR "/etcd/ca.key",
				     _("remove etcd/ca.key (this host is not in pki.caKeyOn)"));
		remote_file_free(&stray);
	}
	free(dirs);
}

const struct step step_certificates = {
	.name = "certificates",
	.title = N_("Certificates"),
	.hosts = STEP_MEMBERS,
	.check = certificates_check,
	.plan = certificates_plan,
};
