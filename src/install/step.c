#include "config.h"

#include "install/step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/shquote.h"
#include "base/xmalloc.h"

extern const struct step step_preflight, step_swap, step_modules, step_sysctl,
	step_packages, step_kubelet, step_certificates, step_manifest,
	step_etcdctl, step_backups, step_verify, step_kubernetes;

/* In the seed's order. */
const struct step *const step_table[] = {
	&step_preflight, &step_swap, &step_modules, &step_sysctl, &step_packages,
	&step_kubelet, &step_certificates, &step_manifest, &step_etcdctl,
	&step_backups, &step_verify, &step_kubernetes, NULL,
};

const struct step *step_find(const char *name)
{
	for (size_t i = 0; step_table[i]; i++)
		if (strcmp(step_table[i]->name, name) == 0)
			return step_table[i];
	return NULL;
}

void plan_ensure_file(struct plan *p, const struct remote_file *have, const char *path,
		      const char *content, size_t len, mode_t mode, const char *owner,
		      bool secret, const char *summary)
{
	bool same_content = false;
	struct action *added;
	size_t n_before;

	if (have->exists && secret) {
		char hex[65];

		sha256_hex(content, len, hex);
		same_content = strcmp(hex, have->sha256) == 0;
	} else if (have->exists && have->content != NULL) {
		same_content = have->len == len && memcmp(have->content, content, len) == 0;
	}
	if (same_content && have->mode == (unsigned)(mode & 07777) &&
	    strcmp(have->owner, owner ? owner : "root:root") == 0)
		return;
	if (!have->parent_exists) {
		char *parent = parent_dir(path);

		plan_directory(p, parent, dir_mode_for(parent));
		free(parent);
	}
	n_before = p->n_actions;
	plan_file(p, path, content, len, mode, owner, secret ? NULL : have->content,
		  have->exists, secret, summary);
	if (p->n_actions == n_before)
		return;
	/* The exact file the check saw (its content may hold a NUL). */
	added = &p->actions[p->n_actions - 1];
	if (have->exists && secret && strlen(have->sha256) == 64 &&
	    strspn(have->sha256, "0123456789abcdef") == 64)	/* it goes into the bundle's script */
		snprintf(added->old_sha256, sizeof added->old_sha256, "%s", have->sha256);
	else if (have->exists && have->content != NULL)
		sha256_hex(have->content, have->len, added->old_sha256);
}

/* The modes kubeadm and the packages give the directories etcdwiz writes
 * into; 0700 for the manifests is etcdwiz's stricter CIS 1.1.7 choice. */
static const struct {
	const char *path;
	mode_t mode;
} dir_modes[] = {
	{ "/etc/kubernetes/manifests", 0700 },
};

mode_t dir_mode_for(const char *dir)
{
	for (size_t i = 0; i < sizeof dir_modes / sizeof dir_modes[0]; i++)
		if (strcmp(dir_modes[i].path, dir) == 0)
			return dir_modes[i].mode;
	return 0755;
}

void plan_directory(struct plan *p, const char *dir, mode_t mode)
{
	char *q = sh_quote(dir);
	char *cmd = xasprintf("install -d -m %04o -o root -g root %s", (unsigned)(mode & 07777), q);
	bool planned = false;

	for (size_t i = 0; i < p->n_actions && !planned; i++)
		planned = p->actions[i].kind == ACTION_COMMAND && strcmp(p->actions[i].command, cmd) == 0;
	if (!planned) {
		char *summary = xasprintf(_("create the directory %s (%04o)"), dir,
					  (unsigned)(mode & 07777));

		plan_command(p, cmd, summary);
		free(summary);
	}
	free(cmd);
	free(q);
}

void plan_pki_file(const struct step_env *env, struct plan *plan, const char *rel)
{
	char *path = xasprintf("/etc/kubernetes/pki/%s", rel);
	char *summary = xasprintf(_("install %s"), path);
	struct remote_file have;
	size_t len = 0;
	char *data = env->read_local ? env->read_local(env, rel, &len) : NULL;

	probe_file(env->probe, path, &have);
	if (data == NULL && have.exists) {
		/* Generating a new one would replace what the running cluster
		 * trusts: refuse, planning or not; once per host. */
		if (!plan_has_finding(plan, "CertificatesElsewhere"))
			plan_finding(plan, true, "CertificatesElsewhere",
				     _("%s already has %s (and maybe more under /etc/kubernetes/pki) but the local certificate store has none for it; new ones would replace what the running cluster trusts. Point pki.dir (or XDG_DATA_HOME) at the store that made them, or import the cluster's CA with 'etcdwiz certs import'"),
				     env->host->name, path);
	} else if (data == NULL && !env->applying)
		plan_note_once(plan, _("the certificates for %s are not in the local certificate store yet; apply generates them first"),
			       env->host->name);
	else if (data == NULL)
		plan_finding(plan, true, "Certificates",
			     _("%s for %s is not in the local certificate store; run 'etcdwiz certs generate -f %s' first"),
			     rel, env->host->name, env->cluster->file ? env->cluster->file : "FILE");
	else
		plan_ensure_file(plan, &have, path, data, len, 0600, "root:root", true, summary);
	if (data != NULL)
		wiz_free_secret(data, len);
	remote_file_free(&have);
	free(summary);
	free(path);
}
