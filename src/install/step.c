#include "config.h"

#include "install/step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "base/i18n.h"
#include "base/shquote.h"
#include "base/xmalloc.h"

extern const struct step step_preflight, step_swap, step_modules, step_sysctl,
	step_packages, step_kubelet, step_certificates, step_manifest,
	step_etcdctl, step_verify, step_kubernetes;

/* In the seed's order. */
const struct step *const step_table[] = {
	&step_preflight, &step_swap, &step_modules, &step_sysctl, &step_packages,
	&step_kubelet, &step_certificates, &step_manifest, &step_etcdctl,
	&step_verify, &step_kubernetes, NULL,
};

const struct step *step_find(const char *name)
{
	for (size_t i = 0; step_table[i]; i++)
		if (strcmp(step_table[i]->name, name) == 0)
			return step_table[i];
	return NULL;
}

char *probe_section(const char *probe, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = probe;

	if (probe == NULL)
		return NULL;
	while ((p = strstr(p, "@@")) != NULL) {
		if ((p == probe || p[-1] == '\n') && strncmp(p + 2, name, nlen) == 0 &&
		    (p[2 + nlen] == '\n' || p[2 + nlen] == '\0')) {
			const char *start = p + 2 + nlen, *end;

			if (*start == '\n')
				start++;
			end = start;
			while (*end && !(strncmp(end, "@@", 2) == 0 && (end == probe || end[-1] == '\n')))
				end++;
			return xstrndup(start, (size_t)(end - start));
		}
		p += 2;
	}
	return NULL;
}

char *probe_value(const char *probe, const char *section, const char *key)
{
	char *text = probe_section(probe, section);
	size_t klen = strlen(key);
	char *value = NULL;

	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			value = xstrdup(line + klen + 1);
			break;
		}
		line = nl ? nl + 1 : line + strlen(line);
	}
	free(text);
	return value;
}

static void unquote_into(const char *v, char *dst, size_t cap)
{
	size_t len = strlen(v);

	if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
		v++;
		len -= 2;
	}
	snprintf(dst, cap, "%.*s", (int)len, v);
}

void os_info_parse(const char *os_release, struct os_info *os)
{
	char *copy = xstrdup(os_release ? os_release : "");
	char id_like[96] = "";
	char *save = NULL;

	memset(os, 0, sizeof *os);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "ID=", 3) == 0)
			unquote_into(line + 3, os->id, sizeof os->id);
		else if (strncmp(line, "VERSION_ID=", 11) == 0)
			unquote_into(line + 11, os->version_id, sizeof os->version_id);
		else if (strncmp(line, "PRETTY_NAME=", 12) == 0)
			unquote_into(line + 12, os->pretty, sizeof os->pretty);
		else if (strncmp(line, "ID_LIKE=", 8) == 0)
			unquote_into(line + 8, id_like, sizeof id_like);
	}
	free(copy);
	if (os->pretty[0] == '\0')
		snprintf(os->pretty, sizeof os->pretty, "%s %s", os->id[0] ? os->id : "unknown",
			 os->version_id);

	if (strcmp(os->id, "debian") == 0) {
		os->family = OS_DEBIAN;
		os->supported = strcmp(os->version_id, "12") == 0;
	} else if (strcmp(os->id, "ubuntu") == 0) {
		os->family = OS_DEBIAN;
		os->supported = strcmp(os->version_id, "22.04") == 0 ||
				strcmp(os->version_id, "24.04") == 0;
	} else if (strcmp(os->id, "rhel") == 0 || strcmp(os->id, "rocky") == 0 ||
		   strcmp(os->id, "almalinux") == 0 || strcmp(os->id, "centos") == 0 ||
		   strcmp(os->id, "ol") == 0 || strstr(id_like, "rhel") != NULL) {
		os->family = OS_RHEL;
		os->supported = strncmp(os->version_id, "8", 1) == 0 ||
				strncmp(os->version_id, "9", 1) == 0;
		if (os->version_id[0] && os->version_id[1] && os->version_id[1] != '.')
			os->supported = false;	/* "80", "90" are not 8 or 9 */
	}
}

char *parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

char *probe_file_cmd(const char *path, bool secret)
{
	char *q = sh_quote(path);
	char *parent = parent_dir(path);
	char *qp = sh_quote(parent);
	char *cmd;

	/* The echo after cat ends a last line without a newline; probe_file
	 * takes exactly that one newline off again. The parent directory is
	 * probed too: a host as the packages leave it may not have it. */
	if (secret)
		cmd = xasprintf("echo '@@stat:%s'; stat -c '%%a %%U:%%G' -- %s 2>/dev/null || echo absent; "
				"echo '@@dir:%s'; test -d %s && echo present || echo absent; "
				"echo '@@sha256:%s'; sha256sum < %s 2>/dev/null | cut -c1-64; ",
				path, q, path, qp, path, q);
	else
		cmd = xasprintf("echo '@@stat:%s'; stat -c '%%a %%U:%%G' -- %s 2>/dev/null || echo absent; "
				"echo '@@dir:%s'; test -d %s && echo present || echo absent; "
				"echo '@@file:%s'; cat -- %s 2>/dev/null; echo; ",
				path, q, path, qp, path, q);
	free(qp);
	free(parent);
	free(q);
	return cmd;
}

void probe_file(const char *probe, const char *path, struct remote_file *f)
{
	char *name = xasprintf("stat:%s", path);
	char *st = probe_section(probe, name);
	char *dir;

	memset(f, 0, sizeof *f);
	free(name);
	/* No @@dir section (a probe that did not ask) claims nothing. */
	name = xasprintf("dir:%s", path);
	dir = probe_section(probe, name);
	free(name);
	f->parent_exists = dir == NULL || strncmp(dir, "absent", 6) != 0;
	free(dir);
	if (st != NULL && strncmp(st, "absent", 6) != 0 && st[0] != '\0') {
		char *end;
		unsigned long mode = strtoul(st, &end, 8);

		if (end != st && *end == ' ') {
			f->exists = true;
			f->mode = (unsigned)mode;
			snprintf(f->owner, sizeof f->owner, "%.*s", (int)strcspn(end + 1, " \n"), end + 1);
		}
	}
	free(st);
	if (!f->exists)
		return;
	name = xasprintf("file:%s", path);
	f->content = probe_section(probe, name);
	free(name);
	if (f->content != NULL) {
		f->len = strlen(f->content);
		if (f->len > 0 && f->content[f->len - 1] == '\n')
			f->content[--f->len] = '\0';
	}
	name = xasprintf("sha256:%s", path);
	st = probe_section(probe, name);
	free(name);
	if (st != NULL)
		snprintf(f->sha256, sizeof f->sha256, "%.64s", st);
	free(st);
}

void remote_file_free(struct remote_file *f)
{
	free(f->content);
	memset(f, 0, sizeof *f);
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char digest[32];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest);
	for (size_t i = 0; i < sizeof digest; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

void plan_ensure_file(struct plan *p, const struct remote_file *have, const char *path,
		      const char *content, size_t len, mode_t mode, const char *owner,
		      bool secret, const char *summary)
{
	bool same_content = false;

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
	plan_file(p, path, content, len, mode, owner, secret ? NULL : have->content,
		  have->exists, secret, summary);
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

bool version_at_least(const char *version, int major, int minor, int patch)
{
	long v[3] = { 0, 0, 0 };
	const char *p = version[0] == 'v' ? version + 1 : version;

	for (int i = 0; i < 3 && *p; i++) {
		char *end;

		v[i] = strtol(p, &end, 10);
		if (*end != '.')
			break;
		p = end + 1;
	}
	if (v[0] != major)
		return v[0] > major;
	if (v[1] != minor)
		return v[1] > minor;
	return v[2] >= patch;
}

char *url_for(const char *scheme, const char *address, int port)
{
	if (strchr(address, ':') != NULL)
		return xasprintf("%s://[%s]:%d", scheme, address, port);
	return xasprintf("%s://%s:%d", scheme, address, port);
}

char *probe_pki_files_cmd(const char *const rels[])
{
	char *cmd = xstrdup("");

	for (size_t i = 0; rels[i]; i++) {
		char *path = xasprintf("/etc/kubernetes/pki/%s", rels[i]);
		char *part = probe_file_cmd(path, true);
		char *next = xasprintf("%s%s", cmd, part);

		free(cmd);
		free(part);
		free(path);
		cmd = next;
	}
	return cmd;
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
