/* Semantic checks of a cluster, shared by the loader and the wizard's forms.
 * Messages name the key path; the loader adds file:line:col. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/strutil.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"

static const struct diag_pos NOPOS = { 0, 0 };

#define ERR(path, ...) diag_add(diags, DIAG_ERROR, NOPOS, (path), __VA_ARGS__)
#define WARN(path, ...) diag_add(diags, DIAG_WARNING, NOPOS, (path), __VA_ARGS__)

/* Digits separated by single dots; returns the number of dots, or -1. */
static int dotted_numbers(const char *s)
{
	int dots = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; *s; s++) {
		if (*s == '.') {
			if (!isdigit((unsigned char)s[1]))
				return -1;
			dots++;
		} else if (!isdigit((unsigned char)*s)) {
			return -1;
		}
	}
	return dots;
}

/* "1.33", "v1.33" or "1.33.2" */
static bool is_k8s_version(const char *s)
{
	int dots = dotted_numbers(*s == 'v' ? s + 1 : s);

	return dots == 1 || dots == 2;
}

/* "3.5.21" */
static bool is_semver3(const char *s)
{
	return dotted_numbers(s) == 2;
}

static bool is_flag_name(const char *s)
{
	if (!islower((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
			return false;
	return true;
}

static bool has_space(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return true;
	return false;
}

/* A systemd calendar expression as far as it can be told here: the
 * characters systemd.time(7) uses, no quote or shell character (it goes
 * into a unit file); the host's systemd reads the rest. */
static bool is_calendar(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 120)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr(" *,:./~-+", *s) == NULL)
			return false;
	return true;
}

/* A directory the system needs as it is (snapshots get a directory of
 * their own, made 0700). */
static bool is_system_dir(const char *dir)
{
	static const char *const system[] = { "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64",
					       "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp",
					       "/usr", "/var", "/var/lib", "/var/tmp", "/etc/kubernetes", NULL };
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	for (size_t i = 0; system[i]; i++)
		if (strlen(system[i]) == n && strncmp(dir, system[i], n) == 0)
			return true;
	return false;
}

/* dir is base or under it. */
static bool path_within(const char *dir, const char *base)
{
	size_t n = strlen(base);

	while (n > 1 && base[n - 1] == '/')
		n--;
	return strncmp(dir, base, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

/* An OpenSSH-style "SHA256:" + 43 characters of unpadded base64. */
static bool is_sha256_fingerprint(const char *s)
{
	if (!str_has_prefix(s, "SHA256:") || strlen(s) != 7 + 43)
		return false;
	for (s += 7; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '+' || *s == '/'))
			return false;
	return true;
}

static bool is_san(const char *s)
{
	if (str_is_ip(s) || str_is_dns_name(s))
		return true;
	return str_has_prefix(s, "*.") && str_is_dns_name(s + 2);
}

static void check_ssh(const struct ssh_settings *s, const char *path,
		      struct diag_list *diags)
{
	char *p;

	if (s->user != NULL && (s->user[0] == '\0' || has_space(s->user) || s->user[0] == '-')) {
		p = xasprintf("%s.user", path);
		ERR(p, _("%s: \"%s\" is not a valid user name"), p, s->user);
		free(p);
	}
	/* 0 is "not set" (a host's: the cluster's ssh.port; the cluster's:
	 * 22); the loader takes only 1-65535, but the wizard's forms fill the
	 * model directly. */
	if (s->port < 0 || s->port > 65535) {
		p = xasprintf("%s.port", path);
		ERR(p, _("%s: %d is not a TCP port (1-65535)"), p, s->port);
		free(p);
	}
	if (s->identity_file != NULL && s->identity_file[0] == '\0') {
		p = xasprintf("%s.identityFile", path);
		ERR(p, _("%s is empty; remove it to use ssh-agent and ~/.ssh keys"), p);
		free(p);
	}
}

struct name_seen {
	const char *name;
	const char *path;
};

static void check_host(const struct host *h, const char *path, bool member,
		       struct name_seen *names, size_t *n_names,
		       struct name_seen *addrs, size_t *n_addrs,
		       struct diag_list *diags)
{
	char *p;

	if (h->name == NULL) {
		ERR(path, _("%s: \"name\" is required"), path);
	} else if (!str_is_rfc1123_label(h->name)) {
		p = xasprintf("%s.name", path);
		ERR(p, _("%s: \"%s\" is not a valid host name: use 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit (RFC 1123)"),
		    p, h->name);
		free(p);
	} else {
		p = xasprintf("%s.name", path);
		for (size_t i = 0; i < *n_names; i++) {
			if (strcmp(names[i].name, h->name) == 0) {
				ERR(p, _("%s: name \"%s\" is already used by %s; every member and control-plane host needs its own name"),
				    p, h->name, names[i].path);
				break;
			}
		}
		names[*n_names].name = h->name;
		names[*n_names].path = path;
		(*n_names)++;
		free(p);
	}

	if (h->address == NULL) {
		ERR(path, _("%s: \"address\" (the IP address other hosts reach it at) is required"), path);
	} else if (!str_is_ip(h->address)) {
		p = xasprintf("%s.address", path);
		ERR(p, _("%s: \"%s\" is not an IPv4 or IPv6 address; etcd advertises this address, so give an IP literal here and put a DNS name in sshHost or extraSANs"),
		    p, h->address);
		free(p);
	} else {
		char canon[64];

		p = xasprintf("%s.address", path);
		str_ip_canonical(h->address, canon, sizeof canon);
		for (size_t i = 0; i < *n_addrs; i++) {
			char other[64];

			str_ip_canonical(addrs[i].name, other, sizeof other);
			if (strcmp(canon, other) == 0) {
				ERR(p, _("%s: address %s is already used by %s"), p,
				    h->address, addrs[i].path);
				break;
			}
		}
		addrs[*n_addrs].name = h->address;
		addrs[*n_addrs].path = path;
		(*n_addrs)++;
		free(p);
	}

	if (h->ssh_host != NULL && !str_is_ip(h->ssh_host) && !str_is_dns_name(h->ssh_host)) {
		p = xasprintf("%s.sshHost", path);
		ERR(p, _("%s: \"%s\" is neither an IP address nor a DNS name"), p, h->ssh_host);
		free(p);
	}
	p = xasprintf("%s.ssh", path);
	check_ssh(&h->ssh, p, diags);
	free(p);
	if (member) {
		for (size_t i = 0; i < h->extra_sans.n; i++) {
			if (!is_san(h->extra_sans.items[i])) {
				p = xasprintf("%s.extraSANs[%zu]", path, i);
				ERR(p, _("%s: \"%s\" is not an IP address or DNS name"), p,
				    h->extra_sans.items[i]);
				free(p);
			}
		}
	}
}

static void check_url(const char *url, const char *path, struct diag_list *diags)
{
	if (url == NULL)
		return;
	if (str_has_prefix(url, "https://"))
		return;
	if (str_has_prefix(url, "http://"))
		WARN(path, _("%s: %s is plain HTTP; packages are still checked against the repository key, but prefer https"),
		     path, url);
	else
		ERR(path, _("%s: \"%s\" is not an http:// or https:// URL"), path, url);
}

void cluster_validate(const struct cluster *c, struct diag_list *diags)
{
	size_t n_hosts = c->n_members + c->control_plane.n_hosts;
	struct name_seen *names = xcalloc(n_hosts, sizeof *names);
	struct name_seen *addrs = xcalloc(n_hosts, sizeof *addrs);
	char **paths = xcalloc(n_hosts, sizeof *paths);
	size_t n_names = 0, n_addrs = 0;

	if (c->name == NULL)
		ERR("name", _("\"name\" (the cluster's name) is required"));
	else if (!str_is_rfc1123_label(c->name))
		ERR("name", _("name: \"%s\" is not a valid cluster name: use lower-case letters, digits and '-' (RFC 1123 label)"),
		    c->name);

	if (c->kubernetes_version == NULL || !is_k8s_version(c->kubernetes_version))
		ERR("kubernetesVersion", _("kubernetesVersion: \"%s\" is not a Kubernetes version such as \"1.33\""),
		    c->kubernetes_version ? c->kubernetes_version : "");

	if (c->etcd.version == NULL || !is_semver3(c->etcd.version))
		ERR("etcd.version", _("etcd.version: \"%s\" is not an etcd version such as 3.5.21"),
		    c->etcd.version ? c->etcd.version : "");
	if (c->etcd.data_dir == NULL || c->etcd.data_dir[0] != '/')
		ERR("etcd.dataDir", _("etcd.dataDir: \"%s\" must be an absolute path"),
		    c->etcd.data_dir ? c->etcd.data_dir : "");
	if (c->backup.schedule != NULL && !is_calendar(c->backup.schedule))
		ERR("backup.schedule", _("backup.schedule: \"%s\" is not a systemd calendar expression such as \"daily\" or \"*-*-* 00,12:00:00\" (see systemd.time(7))"),
		    c->backup.schedule);
	if (c->backup.dir == NULL || c->backup.dir[0] != '/' || strstr(c->backup.dir, "/../") != NULL ||
	    has_space(c->backup.dir))
		ERR("backup.dir", _("backup.dir: \"%s\" must be an absolute path without spaces"),
		    c->backup.dir ? c->backup.dir : "");
	else if (is_system_dir(c->backup.dir))
		ERR("backup.dir", _("backup.dir: \"%s\" is a system directory: give a directory of its own, such as /var/lib/etcd-backups"),
		    c->backup.dir);
	else if (c->etcd.data_dir != NULL && path_within(c->backup.dir, c->etcd.data_dir))
		ERR("backup.dir", _("backup.dir: \"%s\" is inside etcd.dataDir (%s): a restore moves that aside; keep snapshots outside it"),
		    c->backup.dir, c->etcd.data_dir);
	if (c->etcd.cluster_token != NULL && has_space(c->etcd.cluster_token))
		ERR("etcd.clusterToken", _("etcd.clusterToken must not contain spaces"));
	if (c->etcd.etcdctl_binary != NULL && c->etcd.etcdctl_binary[0] == '\0')
		ERR("etcd.etcdctlBinary", _("etcd.etcdctlBinary is empty; remove it to use the host's etcdctl package"));
	if (c->etcd.image != NULL && (c->etcd.image[0] == '\0' || has_space(c->etcd.image)))
		ERR("etcd.image", _("etcd.image: \"%s\" is not an image reference"), c->etcd.image);
	for (size_t i = 0; i < c->etcd.extra_args.n; i++) {
		const char *k = c->etcd.extra_args.items[i].key;
		char *p = xasprintf("etcd.extraArgs.%s", k);

		if (!is_flag_name(k))
			ERR(p, _("%s: \"%s\" is not an etcd flag name (write it without the leading --)"), p, k);
		free(p);
	}

	if (c->runtime.kind == NULL || strcmp(c->runtime.kind, "cri-o") != 0)
		ERR("runtime.kind", _("runtime.kind: \"%s\" is not supported; the supported runtime is cri-o"),
		    c->runtime.kind ? c->runtime.kind : "");
	if (c->runtime.version != NULL && !is_k8s_version(c->runtime.version))
		ERR("runtime.version", _("runtime.version: \"%s\" is not a version such as \"1.33\""),
		    c->runtime.version);

	check_url(c->repositories.kubernetes, "repositories.kubernetes", diags);
	check_url(c->repositories.crio, "repositories.crio", diags);

	if (c->pki.cert_validity > c->pki.ca_validity)
		WARN("pki.certValidity", _("pki.certValidity is longer than pki.caValidity; certificates will be cut to the CA's lifetime"));
	for (size_t i = 0; i < c->pki.ca_key_on.n; i++) {
		if (cluster_find_member(c, c->pki.ca_key_on.items[i]) == NULL) {
			char *p = xasprintf("pki.caKeyOn[%zu]", i);

			ERR(p, _("%s: \"%s\" is not the name of a member"), p,
			    c->pki.ca_key_on.items[i]);
			free(p);
		}
	}
	if (c->pki.dir != NULL && c->pki.dir[0] == '\0')
		ERR("pki.dir", _("pki.dir is empty; remove it to use the default store"));

	check_ssh(&c->ssh, "ssh", diags);
	for (size_t i = 0; i < c->host_keys.n; i++) {
		char *p = xasprintf("ssh.hostKeys.%s", c->host_keys.items[i].key);

		if (!is_sha256_fingerprint(c->host_keys.items[i].value))
			ERR(p, _("%s: \"%s\" is not a SHA256 fingerprint as ssh-keygen -l prints it (SHA256: and 43 characters)"),
			    p, c->host_keys.items[i].value);
		free(p);
	}

	if (c->n_members == 0)
		ERR("members", _("members: at least one etcd member is needed (3 or 5 for a production cluster)"));
	else if (c->n_members > CLUSTER_MAX_MEMBERS)
		ERR("members", _("members: %zu members is more than %d; etcd recommends at most 7"),
		    c->n_members, CLUSTER_MAX_MEMBERS);
	else if (c->n_members == 1)
		WARN("members", _("members: a single member has no fault tolerance; use 3 or 5 for production"));
	else if (c->n_members % 2 == 0)
		WARN("members", _("members: %zu members tolerate no more failures than %zu would; use an odd number (3, 5 or 7)"),
		     c->n_members, c->n_members - 1);

	for (size_t i = 0; i < c->n_members; i++) {
		paths[i] = xasprintf("members[%zu]", i);
		check_host(&c->members[i], paths[i], true, names, &n_names, addrs,
			   &n_addrs, diags);
	}

	if (c->control_plane.present) {
		if (c->control_plane.endpoint != NULL && !str_is_host_port(c->control_plane.endpoint))
			ERR("controlPlane.endpoint", _("controlPlane.endpoint: \"%s\" is not host:port"),
			    c->control_plane.endpoint);
		if (c->control_plane.pod_subnet != NULL && !str_is_cidr(c->control_plane.pod_subnet))
			ERR("controlPlane.podSubnet", _("controlPlane.podSubnet: \"%s\" is not a CIDR such as 10.244.0.0/16"),
			    c->control_plane.pod_subnet);
		for (size_t i = 0; i < c->control_plane.cert_sans.n; i++) {
			if (!is_san(c->control_plane.cert_sans.items[i])) {
				char *p = xasprintf("controlPlane.certSANs[%zu]", i);

				ERR(p, _("%s: \"%s\" is not an IP address or DNS name"), p,
				    c->control_plane.cert_sans.items[i]);
				free(p);
			}
		}
		if (c->control_plane.n_hosts == 0)
			ERR("controlPlane", _("controlPlane: \"hosts\" needs at least one control-plane host"));
		for (size_t i = 0; i < c->control_plane.n_hosts; i++) {
			size_t k = c->n_members + i;

			paths[k] = xasprintf("controlPlane.hosts[%zu]", i);
			check_host(&c->control_plane.hosts[i], paths[k], false, names,
				   &n_names, addrs, &n_addrs, diags);
		}
	}

	for (size_t i = 0; i < n_hosts; i++)
		free(paths[i]);
	free(paths);
	free(names);
	free(addrs);
}
