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

static const char *const pki_dirs[] = { PKI_DIR, PKI_DIR "/etcd", NULL };

static void certificates_reads(const struct step_env *env, struct probe_request *out)
{
	(void)env;
	probe_read_pki(out, member_files);
	probe_item_args(probe_read_item(out, PROBE_MODES, "dirs", NULL), pki_dirs);
}

static bool dir_is_755_root(const struct step_env *env, const char *dir)
{
	const char *mode = probe_value(env->probe, "dirs", dir);

	return mode != NULL && strcmp(mode, "755 root:root") == 0;
}

static void certificates_plan(const struct step_env *env, struct plan *plan)
{
	struct remote_file stray;

	if (!dir_is_755_root(env, PKI_DIR) || !dir_is_755_root(env, PKI_DIR "/etcd")) {
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
}

const struct step step_certificates = {
	.name = "certificates",
	.title = N_("Certificates"),
	.hosts = STEP_MEMBERS,
	.reads = certificates_reads,
	.plan = certificates_plan,
};
