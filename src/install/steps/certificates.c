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
#include "pki/pki.h"

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
	probe_read_pki(out, member_files);
	probe_item_args(probe_read_item(out, PROBE_MODES, "dirs", NULL), pki_dirs);
	/* A member with data runs (or is about to run) etcd: new certificates
	 * there take turns (certificates_take_turn). */
	probe_item_arg(probe_read_item(out, PROBE_SHELL, "etcd", "test -d \"$1/member\" && echo data=yes"),
		       env->cluster->etcd.data_dir);
}

/* The serial of the store's certificate rel for this member ("" when
 * it is not there or does not parse). */
static void local_serial(const struct step_env *env, const char *rel, char *out, size_t size)
{
	size_t len = 0;
	char *pem = env->read_local ? env->read_local(env, rel, &len) : NULL;
	gnutls_x509_crt_t *l = NULL;
	size_t n = 0;

	out[0] = '\0';
	if (pem != NULL && pki_crt_list_parse(pem, len, &l, &n, NULL) == WIZ_ERR_OK) {
		pki_crt_serial_hex(l[0], out, size);
		pki_crt_list_free(l, n);
	}
	free(pem);
}

/* New server or peer certificates on a member whose etcd runs: etcd
 * takes them at its next TLS handshake, without a restart, so a wrong
 * pair would break that member's connections at once. They go one member
 * at a time, after the health gate, and the engine checks from here that
 * the member serves the new serials before the next one goes. */
static void certificates_take_turn(const struct step_env *env, struct plan *plan, size_t first)
{
	const char *data = probe_value(env->probe, "etcd", "data");
	bool leaves = false;

	if (data == NULL || strcmp(data, "yes") != 0)
		return;
	for (size_t i = first; i < plan->n_actions; i++) {
		const struct action *a = &plan->actions[i];

		if (a->kind == ACTION_FILE && a->old_exists &&
		    (strstr(a->path, "/etcd/server.") != NULL || strstr(a->path, "/etcd/peer.") != NULL))
			leaves = true;
	}
	if (!leaves)
		return;
	plan->takes_turn = true;
	local_serial(env, "etcd/server.crt", plan->served_serial[0], sizeof plan->served_serial[0]);
	local_serial(env, "etcd/peer.crt", plan->served_serial[1], sizeof plan->served_serial[1]);
	plan_note(plan, _("new certificates for a running member: one member at a time, each checked from here (it must serve the new ones on 2379 and 2380) before the next; etcd reads them at each new connection, so nothing restarts"));
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
	size_t first = plan->n_actions;

	for (size_t i = 0; i < N_MEMBER_FILES; i++)
		plan_pki_file(env, plan, member_files[i]);
	certificates_take_turn(env, plan, first);
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
