/* certificates: each member's tree from the local PKI store uploaded to
 * /etc/kubernetes/pki, root:root, files 0600 (CIS 1.1.20/1.1.21), and
 * etcd/ca.key only to the members named in pki.caKeyOn. Keys are compared by
 * SHA-256 and never read back. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "install/step.h"
#include "install/steps/steps.h"

#define PKI_DIR "/etc/kubernetes/pki"

static const char *const member_files[] = {
	"etcd/ca.crt",
	"etcd/server.crt", "etcd/server.key",
	"etcd/peer.crt", "etcd/peer.key",
	"etcd/healthcheck-client.crt", "etcd/healthcheck-client.key",
	"apiserver-etcd-client.crt", "apiserver-etcd-client.key",
	"etcd/ca.key",		/* probed on every member: a stray one is removed */
	NULL,
};
#define N_MEMBER_FILES 9	/* without etcd/ca.key */

static bool gets_ca_key(const struct step_env *env)
{
	return env->is_member && strlist_contains(&env->cluster->pki.ca_key_on, env->host->name);
}

static char *certificates_check(const struct step_env *env)
{
	(void)env;
	return xstrdup(PROBE_SECTION("dirs") "stat -c '%n %a %U:%G' " PKI_DIR " " PKI_DIR "/etcd 2>/dev/null; ");
}

static void certificates_files(const struct step_env *env, struct probe_files *out)
{
	(void)env;
	probe_files_add_pki(out, member_files);
}

static void certificates_plan(const struct step_env *env, struct plan *plan)
{
	char *dirs = probe_section(env->probe, "dirs");
	struct remote_file stray;

	if (dirs == NULL || strstr(dirs, PKI_DIR " 755 root:root") == NULL ||
	    strstr(dirs, PKI_DIR "/etcd 755 root:root") == NULL) {
		plan_directory(plan, PKI_DIR, 0755);
		plan_directory(plan, PKI_DIR "/etcd", 0755);
	}
	for (size_t i = 0; i < N_MEMBER_FILES; i++)
		plan_pki_file(env, plan, member_files[i]);
	if (gets_ca_key(env)) {
		plan_pki_file(env, plan, "etcd/ca.key");
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
	.files = certificates_files,
};
