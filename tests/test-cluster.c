#include "config.h"

#include "tests/unit.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "cluster/kvfile.h"

/* Load a fixture; return its diagnostics (caller frees both). */
static enum wiz_err load_fixture(const char *name, struct cluster *c,
				 struct diag_list *d)
{
	char *path = unit_fixture(name);

	diag_list_init(d, path);
	return cluster_load(path, c, d);
}

/* Is there a diagnostic at line:col whose message contains `needle`? */
static bool has_diag(const struct diag_list *d, enum diag_severity sev,
		     unsigned line, unsigned col, const char *needle)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *x = &d->items[i];

		if (x->severity == sev && x->pos.line == line && x->pos.col == col &&
		    strstr(x->msg, needle) != NULL)
			return true;
	}
	diag_print(d, stderr);
	fprintf(stderr, "# missing %u:%u %s\n", line, col, needle);
	return false;
}

static void test_load_seed_example(void **state)
{
	struct cluster c;
	struct diag_list d;
	struct ssh_settings eff;

	(void)state;
	assert_int_equal(load_fixture("cluster/valid-seed.yaml", &c, &d), WIZ_ERR_OK);
	assert_int_equal(diag_count(&d, DIAG_ERROR), 0);
	assert_string_equal(c.name, "prod-etcd");
	assert_string_equal(c.kubernetes_version, "1.33");
	assert_string_equal(c.etcd.version, "3.5.21");
	assert_null(c.etcd.image);
	assert_string_equal(kvlist_get(&c.etcd.extra_args, "quota-backend-bytes"), "8589934592");
	assert_int_equal(c.pki.algorithm, PKI_ALG_RSA_2048);
	assert_int_equal(c.pki.cert_validity, UINT64_C(365) * 86400);
	assert_int_equal(c.pki.ca_validity, UINT64_C(87600) * 3600);
	assert_int_equal(c.pki.ca_key_on.n, 1);
	assert_string_equal(c.pki.ca_key_on.items[0], "etcd01");
	assert_int_equal(c.n_members, 3);
	assert_string_equal(c.members[2].name, "etcd03");
	assert_string_equal(c.members[2].address, "10.107.88.17");
	assert_string_equal(c.members[2].ssh_host, "etcd03.example.internal");
	assert_int_equal(c.members[2].pos.line, 29);
	cluster_host_ssh(&c, &c.members[2], &eff);
	assert_int_equal(eff.port, 2222);
	assert_string_equal(eff.user, "admin");
	assert_int_equal(eff.sudo, 1);
	cluster_host_ssh(&c, &c.members[0], &eff);
	assert_int_equal(eff.port, 22);
	assert_true(c.control_plane.present);
	assert_string_equal(c.control_plane.endpoint, "k8s-api.example.internal:6443");
	assert_int_equal(c.control_plane.n_hosts, 1);
	assert_string_equal(c.control_plane.hosts[0].name, "cp01");
	{
		char *img = cluster_etcd_image(&c);

		assert_string_equal(img, "registry.k8s.io/etcd:3.5.21-0");
		free(img);
	}
	cluster_free(&c);
	diag_list_free(&d);
}

static void test_defaults(void **state)
{
	struct cluster c;
	struct diag_list d;

	(void)state;
	assert_int_equal(load_fixture("cluster/valid-minimal.yaml", &c, &d), WIZ_ERR_OK);
	assert_int_equal(d.n, 0);
	assert_string_equal(c.etcd.data_dir, "/var/lib/etcd");
	assert_string_equal(c.runtime.kind, "cri-o");
	assert_true(c.runtime.install);
	assert_string_equal(c.ssh.user, "root");
	assert_int_equal(c.ssh.port, 22);
	assert_int_equal(c.ssh.sudo, 0);
	assert_int_equal(c.members[0].ssh.sudo, -1);
	assert_false(c.control_plane.present);
	assert_string_equal(c.members[2].address, "2001:db8::13");
	cluster_free(&c);
	diag_list_free(&d);
}

/* emit(load(emit(c))) == emit(c), and the reloaded cluster has no errors. */
static void assert_roundtrip(const struct cluster *c)
{
	char *first, *second;
	struct cluster back;
	struct diag_list d;
	struct wiz_error err;

	assert_int_equal(cluster_emit(c, &first, NULL, &err), WIZ_ERR_OK);
	diag_list_init(&d, "roundtrip");
	assert_int_equal(cluster_load_string("roundtrip", first, strlen(first), &back, &d),
			 WIZ_ERR_OK);
	assert_int_equal(cluster_emit(&back, &second, NULL, &err), WIZ_ERR_OK);
	assert_string_equal(first, second);
	free(first);
	free(second);
	cluster_free(&back);
	diag_list_free(&d);
}

static void test_roundtrip_seed(void **state)
{
	struct cluster c;
	struct diag_list d;

	(void)state;
	load_fixture("cluster/valid-seed.yaml", &c, &d);
	assert_roundtrip(&c);
	cluster_free(&c);
	diag_list_free(&d);
}

/* Values a YAML reader could misread (numbers, bools, quotes, colons) keep
 * their exact text through save and load. */
static void test_roundtrip_tricky_values(void **state)
{
	struct cluster c, back;
	struct diag_list d;
	struct wiz_error err;
	char *yaml;

	(void)state;
	cluster_init(&c, "tricky");
	free(c.kubernetes_version);
	c.kubernetes_version = xstrdup("1.30");
	c.etcd.cluster_token = xstrdup("yes");
	c.etcd.image = xstrdup("mirror.example:5000/etcd:3.5.21-0");
	kvlist_set(&c.etcd.extra_args, "quota-backend-bytes", "2147483648");
	kvlist_set(&c.etcd.extra_args, "auto-compaction-mode", "periodic");
	kvlist_set(&c.etcd.extra_args, "log-outputs", "'quoted' \"and\" #hash: colon");
	c.ssh.identity_file = xstrdup("/home/admin/keys/id ed25519 (lab)");
	kvlist_set(&c.host_keys, "198.51.100.11",
		   "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU");
	c.members = xcalloc(1, sizeof *c.members);
	c.n_members = 1;
	c.members[0].name = xstrdup("n1");
	c.members[0].address = xstrdup("198.51.100.11");
	c.members[0].ssh.sudo = -1;
	strlist_push(&c.members[0].extra_sans, "*.etcd.example");
	c.pki.cert_validity = 5415;

	assert_roundtrip(&c);
	assert_int_equal(cluster_emit(&c, &yaml, NULL, &err), WIZ_ERR_OK);
	diag_list_init(&d, "tricky");
	assert_int_equal(cluster_load_string("tricky", yaml, strlen(yaml), &back, &d), WIZ_ERR_OK);
	assert_string_equal(back.kubernetes_version, "1.30");
	assert_string_equal(back.etcd.cluster_token, "yes");
	assert_string_equal(kvlist_get(&back.etcd.extra_args, "log-outputs"),
			    "'quoted' \"and\" #hash: colon");
	assert_string_equal(back.ssh.identity_file, "/home/admin/keys/id ed25519 (lab)");
	assert_int_equal(back.pki.cert_validity, 5415);
	/* Numbers-as-strings are quoted so other YAML readers agree. */
	assert_non_null(strstr(yaml, "kubernetesVersion: \"1.30\""));
	assert_non_null(strstr(yaml, "clusterToken: \"yes\""));
	free(yaml);
	cluster_free(&back);
	cluster_free(&c);
	diag_list_free(&d);
}

static void test_save_atomic_mode(void **state)
{
	char dir[] = "/tmp/etcdwiz-save-XXXXXX";
	struct cluster c, back;
	struct diag_list d;
	struct wiz_error err;
	struct stat st;
	char *path;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/cluster.yaml", dir);
	load_fixture("cluster/valid-seed.yaml", &c, &d);
	diag_list_free(&d);
	assert_int_equal(cluster_save(&c, path, &err), WIZ_ERR_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	diag_list_init(&d, path);
	assert_int_equal(cluster_load(path, &back, &d), WIZ_ERR_OK);
	assert_string_equal(back.members[1].address, "10.107.88.16");
	/* Saving again over the file leaves no temp files behind. */
	assert_int_equal(cluster_save(&back, path, &err), WIZ_ERR_OK);
	{
		char *cmd = xasprintf("test $(ls -A %s | wc -l) -eq 1", dir);

		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	unlink(path);
	rmdir(dir);
	free(path);
	cluster_free(&c);
	cluster_free(&back);
	diag_list_free(&d);
}

static void test_error_syntax(void **state)
{
	struct cluster c;
	struct diag_list d;

	(void)state;
	assert_int_equal(load_fixture("cluster/bad-syntax.yaml", &c, &d), WIZ_ERR_INVALID);
	assert_true(has_diag(&d, DIAG_ERROR, 7, 1, "YAML syntax"));
	cluster_free(&c);
	diag_list_free(&d);
}

static void test_error_unknown_keys(void **state)
{
	struct cluster c;
	struct diag_list d;

	(void)state;
	assert_int_equal(load_fixture("cluster/bad-unknown-key.yaml", &c, &d), WIZ_ERR_INVALID);
	assert_int_equal(diag_count(&d, DIAG_ERROR), 2);
	assert_true(has_diag(&d, DIAG_ERROR, 5, 3, "unknown key \"versoin\" in etcd"));
	assert_true(has_diag(&d, DIAG_ERROR, 9, 5, "unknown key \"colour\" in members[0]"));
	cluster_free(&c);
	diag_list_free(&d);
}

static void test_error_types(void **state)
{
	struct cluster c;
	struct diag_list d;

	(void)state;
	assert_int_equal(load_fixture("cluster/bad-types.yaml", &c, &d), WIZ_ERR_INVALID);
	assert_true(has_diag(&d, DIAG_ERROR, 4, 7, "etcd must be a mapping"));
	assert_true(has_diag(&d, DIAG_ERROR, 6, 12, "true or false"));
	assert_true(has_diag(&d, DIAG_ERROR, 8, 9, "ssh.port must be a scalar"));
	assert_true(has_diag(&d, DIAG_ERROR, 10, 3, "members must be a list"));
	cluster_free(&c);
	diag_list_free(&d);
}

static void test_error_values(void **state)
{
	struct cluster c;
	struct diag_list d;

	(void)state;
	assert_int_equal(load_fixture("cluster/bad-values.yaml", &c, &d), WIZ_ERR_INVALID);
	assert_true(has_diag(&d, DIAG_ERROR, 1, 13, "must be \"etcdwiz/v1\""));
	assert_true(has_diag(&d, DIAG_ERROR, 3, 7, "RFC 1123"));
	assert_true(has_diag(&d, DIAG_ERROR, 4, 20, "Kubernetes version"));
	assert_true(has_diag(&d, DIAG_ERROR, 6, 12, "etcd version"));
	assert_true(has_diag(&d, DIAG_ERROR, 7, 12, "absolute path"));
	assert_true(has_diag(&d, DIAG_ERROR, 9, 5, "leading --"));
	assert_true(has_diag(&d, DIAG_ERROR, 11, 9, "cri-o"));
	assert_true(has_diag(&d, DIAG_ERROR, 13, 14, "RSA-2048"));
	assert_true(has_diag(&d, DIAG_ERROR, 14, 15, "duration"));
	assert_true(has_diag(&d, DIAG_ERROR, 15, 17, "duration"));
	assert_true(has_diag(&d, DIAG_ERROR, 16, 13, "not the name of a member"));
	assert_true(has_diag(&d, DIAG_ERROR, 18, 9, "port number"));
	assert_true(has_diag(&d, DIAG_ERROR, 20, 5, "SHA256"));
	assert_true(has_diag(&d, DIAG_ERROR, 24, 11, "already used by members[0]"));
	assert_true(has_diag(&d, DIAG_ERROR, 25, 14, "already used by members[0]"));
	assert_true(has_diag(&d, DIAG_ERROR, 27, 14, "not an IPv4 or IPv6"));
	assert_true(has_diag(&d, DIAG_ERROR, 28, 17, "not an IP address or DNS name"));
	assert_true(has_diag(&d, DIAG_ERROR, 30, 13, "host:port"));
	assert_true(has_diag(&d, DIAG_ERROR, 31, 14, "CIDR"));
	assert_true(has_diag(&d, DIAG_ERROR, 30, 3, "at least one control-plane host"));
	assert_int_equal(diag_count(&d, DIAG_ERROR), 20);
	cluster_free(&c);
	diag_list_free(&d);
}

static void test_error_secret(void **state)
{
	struct cluster c;
	struct diag_list d;

	(void)state;
	assert_int_equal(load_fixture("cluster/bad-secret.yaml", &c, &d), WIZ_ERR_INVALID);
	assert_true(has_diag(&d, DIAG_ERROR, 6, 3, "passwords and passphrases never go into the cluster file"));
	cluster_free(&c);
	diag_list_free(&d);
}

static void test_error_duplicate_key(void **state)
{
	struct cluster c;
	struct diag_list d;

	(void)state;
	assert_int_equal(load_fixture("cluster/bad-duplicate-key.yaml", &c, &d), WIZ_ERR_INVALID);
	assert_true(has_diag(&d, DIAG_ERROR, 4, 1, "duplicate key \"name\" (first at line 3)"));
	cluster_free(&c);
	diag_list_free(&d);
}

static void test_error_counts_and_missing(void **state)
{
	struct cluster c;
	struct diag_list d;

	(void)state;
	assert_int_equal(load_fixture("cluster/bad-count.yaml", &c, &d), WIZ_ERR_INVALID);
	assert_true(has_diag(&d, DIAG_ERROR, 5, 3, "more than 9"));
	cluster_free(&c);
	diag_list_free(&d);

	assert_int_equal(load_fixture("cluster/bad-missing.yaml", &c, &d), WIZ_ERR_INVALID);
	assert_true(has_diag(&d, DIAG_ERROR, 1, 1, "missing required key \"apiVersion\""));
	assert_true(has_diag(&d, DIAG_ERROR, 1, 1, "\"name\" (the cluster's name) is required"));
	assert_true(has_diag(&d, DIAG_ERROR, 2, 10, "at least one etcd member"));
	cluster_free(&c);
	diag_list_free(&d);

	assert_int_equal(load_fixture("cluster/bad-empty.yaml", &c, &d), WIZ_ERR_INVALID);
	assert_true(has_diag(&d, DIAG_ERROR, 1, 1, "empty"));
	cluster_free(&c);
	diag_list_free(&d);

	assert_int_equal(load_fixture("cluster/bad-cross-dup.yaml", &c, &d), WIZ_ERR_INVALID);
	assert_true(has_diag(&d, DIAG_ERROR, 8, 14, "already used by members[0]"));
	cluster_free(&c);
	diag_list_free(&d);

	/* 34 bytes that made `etcdwiz validate` crash: a member without a
	 * name, looked up by caKeyOn (found by fuzzing). */
	assert_int_equal(load_fixture("cluster/bad-unnamed-member.yaml", &c, &d), WIZ_ERR_INVALID);
	assert_true(has_diag(&d, DIAG_ERROR, 4, 3, "members[0]: \"name\" is required"));
	assert_true(has_diag(&d, DIAG_ERROR, 2, 13, "is not the name of a member"));
	cluster_free(&c);
	diag_list_free(&d);

	assert_int_equal(load_fixture("cluster/no-such-file.yaml", &c, &d), WIZ_ERR_NOTFOUND);
	assert_int_equal(diag_count(&d, DIAG_ERROR), 1);
	assert_non_null(strstr(d.items[0].msg, "no-such-file.yaml"));
	cluster_free(&c);
	diag_list_free(&d);
}

static void test_warnings(void **state)
{
	struct cluster c;
	struct diag_list d;

	(void)state;
	assert_int_equal(load_fixture("cluster/warn-even.yaml", &c, &d), WIZ_ERR_OK);
	assert_int_equal(diag_count(&d, DIAG_ERROR), 0);
	assert_true(has_diag(&d, DIAG_WARNING, 5, 3, "odd number"));
	cluster_free(&c);
	diag_list_free(&d);
}

/* The wizard's forms fill the model directly: cluster_validate checks a
 * port's range itself (the loader never lets one through). */
static void test_validate_port_range(void **state)
{
	struct cluster c;
	struct diag_list d;
	bool found = false;

	(void)state;
	load_fixture("cluster/valid-seed.yaml", &c, &d);
	diag_list_free(&d);
	c.members[1].ssh.port = 70000;
	diag_list_init(&d, "form");
	cluster_validate(&c, &d);
	for (size_t i = 0; i < d.n; i++)
		found |= d.items[i].path && strcmp(d.items[i].path, "members[1].ssh.port") == 0 &&
			 strstr(d.items[i].msg, "70000 is not a TCP port") != NULL;
	assert_true(found);
	diag_list_free(&d);
	c.members[1].ssh.port = 0;	/* unset: the default */
	diag_list_init(&d, "form");
	cluster_validate(&c, &d);
	assert_int_equal(diag_count(&d, DIAG_ERROR), 0);
	diag_list_free(&d);
	cluster_free(&c);
}

/* Every per-host value the wizard's Hosts screen edits (sshHost, the ssh
 * overrides, sudo both ways) on members and control-plane hosts, and the
 * cluster-wide ssh block, survive save and load; unset ones stay unset. */
static void test_roundtrip_host_overrides(void **state)
{
	struct cluster c, back;
	struct diag_list d;
	struct wiz_error err;
	char *yaml;

	(void)state;
	load_fixture("cluster/valid-seed.yaml", &c, &d);
	diag_list_free(&d);
	c.members[0].ssh_host = xstrdup("etcd01.example.internal");
	c.members[0].ssh.user = xstrdup("ops");
	c.members[0].ssh.port = 2200;
	c.members[0].ssh.identity_file = xstrdup("/keys/etcd01");
	c.members[0].ssh.sudo = 0;
	c.members[1].ssh.sudo = 1;
	c.control_plane.hosts = xreallocarray(c.control_plane.hosts, 2, sizeof *c.control_plane.hosts);
	memset(&c.control_plane.hosts[1], 0, sizeof c.control_plane.hosts[1]);
	c.control_plane.hosts[1].name = xstrdup("cp02");
	c.control_plane.hosts[1].address = xstrdup("10.107.88.21");
	c.control_plane.hosts[1].ssh_host = xstrdup("10.0.0.21");
	c.control_plane.hosts[1].ssh.user = xstrdup("kube");
	c.control_plane.hosts[1].ssh.port = 2022;
	c.control_plane.hosts[1].ssh.sudo = 0;
	c.control_plane.n_hosts = 2;
	c.ssh.sudo = 0;
	c.ssh.port = 2201;
	free(c.ssh.identity_file);
	c.ssh.identity_file = NULL;

	assert_roundtrip(&c);
	assert_int_equal(cluster_emit(&c, &yaml, NULL, &err), WIZ_ERR_OK);
	diag_list_init(&d, "overrides");
	assert_int_equal(cluster_load_string("overrides", yaml, strlen(yaml), &back, &d), WIZ_ERR_OK);
	assert_string_equal(back.members[0].ssh_host, "etcd01.example.internal");
	assert_string_equal(back.members[0].ssh.user, "ops");
	assert_int_equal(back.members[0].ssh.port, 2200);
	assert_string_equal(back.members[0].ssh.identity_file, "/keys/etcd01");
	assert_int_equal(back.members[0].ssh.sudo, 0);
	assert_int_equal(back.members[1].ssh.sudo, 1);
	assert_null(back.members[1].ssh_host);
	assert_null(back.members[1].ssh.user);
	assert_int_equal(back.members[1].ssh.port, 0);
	assert_null(back.members[1].ssh.identity_file);
	assert_int_equal(back.members[2].ssh.sudo, -1);
	assert_true(back.control_plane.present);
	assert_int_equal(back.control_plane.n_hosts, 2);
	assert_string_equal(back.control_plane.hosts[1].name, "cp02");
	assert_string_equal(back.control_plane.hosts[1].ssh_host, "10.0.0.21");
	assert_string_equal(back.control_plane.hosts[1].ssh.user, "kube");
	assert_int_equal(back.control_plane.hosts[1].ssh.port, 2022);
	assert_int_equal(back.control_plane.hosts[1].ssh.sudo, 0);
	assert_int_equal(back.control_plane.hosts[0].ssh.sudo, -1);
	assert_int_equal(back.ssh.sudo, 0);
	assert_int_equal(back.ssh.port, 2201);
	assert_null(back.ssh.identity_file);
	assert_int_equal(diag_count(&d, DIAG_ERROR), 0);
	free(yaml);
	cluster_free(&back);
	diag_list_free(&d);

	/* The cluster-wide port is checked as a host's is (the form fills
	 * the model directly). */
	c.ssh.port = 70000;
	diag_list_init(&d, "form");
	cluster_validate(&c, &d);
	{
		bool found = false;

		for (size_t i = 0; i < d.n; i++)
			found |= d.items[i].path && strcmp(d.items[i].path, "ssh.port") == 0;
		assert_true(found);
	}
	diag_list_free(&d);
	cluster_free(&c);
}

/* The session file: a flat mapping written 0600, read back; a damaged
 * one reads as empty. */
static void test_kvfile_roundtrip(void **state)
{
	char dir[] = "/tmp/etcdwiz-kvfile-XXXXXX";
	struct kvlist kv = { 0 }, back = { 0 };
	struct wiz_error err;
	struct stat st;
	char *path, *bad;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/sub/session.yaml", dir);
	kvlist_set(&kv, "screen", "hosts");
	kvlist_set(&kv, "clusterFile", "/tmp/a \"quoted\": file.yaml");
	assert_int_equal(kvfile_save(path, &kv, &err), WIZ_ERR_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	kvfile_load(path, &back);
	assert_int_equal(back.n, 2);
	assert_string_equal(kvlist_get(&back, "clusterFile"), "/tmp/a \"quoted\": file.yaml");
	kvlist_free(&back);
	bad = xasprintf("%s/bad.yaml", dir);
	f = fopen(bad, "w");
	assert_non_null(f);
	fputs("screen: [unclosed\n", f);
	fclose(f);
	kvfile_load(bad, &back);
	assert_int_equal(back.n, 0);
	{
		char *cmd = xasprintf("rm -rf %s", dir);

		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	kvlist_free(&kv);
	free(bad);
	free(path);
}

/* The membership edits of `member` and the wizard's Members screen:
 * each refusal changes nothing; a move keeps the old host's own copy and
 * drops the pinned key. */
static void test_member_edits(void **state)
{
	static const char yaml[] =
		"apiVersion: etcdwiz/v1\nkind: Cluster\nname: edits\n"
		"ssh:\n  user: admin\n  hostKeys:\n    etcd-2: SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s\n"
		"members:\n"
		"- name: etcd-1\n  address: 10.0.0.1\n"
		"- name: etcd-2\n  address: 10.0.0.2\n  ssh:\n    user: other\n";
	struct cluster c;
	struct diag_list d;
	struct wiz_error err;
	struct host gone = { 0 }, old = { 0 };
	bool pin;

	(void)state;
	diag_list_init(&d, "edits");
	if (cluster_load_string("edits", yaml, strlen(yaml), &c, &d) != WIZ_ERR_OK)
		diag_print(&d, stderr);
	assert_int_equal(diag_count(&d, DIAG_ERROR), 0);
	diag_list_free(&d);

	assert_int_equal(cluster_member_add(&c, "etcd-2", "10.0.0.9", &err), WIZ_ERR_INVALID);
	assert_non_null(strstr(err.msg, "etcd-2 is a member of cluster edits already"));
	assert_int_equal(cluster_member_add(&c, "etcd-3", "10.0.0.1", &err), WIZ_ERR_INVALID);
	assert_non_null(strstr(err.msg, "10.0.0.1 is the address of member etcd-1"));
	assert_int_equal(c.n_members, 2);
	assert_int_equal(cluster_member_add(&c, "etcd-3", "10.0.0.3", &err), WIZ_ERR_OK);
	assert_int_equal(c.n_members, 3);
	assert_string_equal(c.members[2].address, "10.0.0.3");
	assert_int_equal(c.members[2].ssh.sudo, -1);	/* inherits ssh.sudo */

	assert_int_equal(cluster_member_take(&c, "etcd-9", &gone, &err), WIZ_ERR_NOTFOUND);
	assert_int_equal(cluster_member_take(&c, "etcd-1", &gone, &err), WIZ_ERR_OK);
	assert_string_equal(gone.name, "etcd-1");
	assert_int_equal(c.n_members, 2);
	assert_string_equal(c.members[0].name, "etcd-2");
	cluster_host_free(&gone);

	assert_int_equal(cluster_member_move(&c, "etcd-2", "10.0.0.2", &old, &pin, &err), WIZ_ERR_INVALID);
	assert_non_null(strstr(err.msg, "etcd-2 is at 10.0.0.2 already"));
	assert_int_equal(cluster_member_move(&c, "etcd-2", "10.0.0.3", &old, &pin, &err), WIZ_ERR_INVALID);
	assert_int_equal(cluster_member_move(&c, "etcd-2", "10.0.0.7", &old, &pin, &err), WIZ_ERR_OK);
	assert_true(pin);
	assert_null(kvlist_get(&c.host_keys, "etcd-2"));
	assert_string_equal(old.address, "10.0.0.2");
	assert_string_equal(old.ssh.user, "other");
	assert_string_equal(c.members[0].address, "10.0.0.7");
	assert_string_equal(c.members[0].ssh.user, "other");
	cluster_host_free(&old);

	assert_int_equal(cluster_member_take(&c, "etcd-3", &gone, &err), WIZ_ERR_OK);
	cluster_host_free(&gone);
	assert_int_equal(cluster_member_take(&c, "etcd-2", &gone, &err), WIZ_ERR_INVALID);
	assert_non_null(strstr(err.msg, "the only member of cluster edits"));
	assert_int_equal(c.n_members, 1);
	cluster_free(&c);
}

/* backup: defaults, the values read and written back, the refusals. */
static void test_backup_block(void **state)
{
	static const char head[] = "apiVersion: etcdwiz/v1\nkind: Cluster\nname: b\n"
				   "members:\n- name: etcd-1\n  address: 10.0.0.1\n";
	struct cluster c, back;
	struct diag_list d;
	struct wiz_error err;
	char *yaml, *out = NULL;
	size_t len;

	(void)state;
	diag_list_init(&d, "b");
	assert_int_equal(cluster_load_string("b", head, strlen(head), &c, &d), WIZ_ERR_OK);
	assert_null(c.backup.schedule);
	assert_int_equal(c.backup.keep, 5);
	assert_string_equal(c.backup.dir, "/var/lib/etcd-backups");
	assert_int_equal(cluster_emit(&c, &out, &len, &err), WIZ_ERR_OK);
	assert_null(strstr(out, "backup:"));	/* defaults are not written */
	free(out);
	cluster_free(&c);
	diag_list_free(&d);

	yaml = xasprintf("%sbackup:\n  schedule: \"*-*-* 00,12:00:00\"\n  keep: 2\n  dir: /srv/etcd-snapshots\n", head);
	diag_list_init(&d, "b");
	assert_int_equal(cluster_load_string("b", yaml, strlen(yaml), &c, &d), WIZ_ERR_OK);
	assert_string_equal(c.backup.schedule, "*-*-* 00,12:00:00");
	assert_int_equal(c.backup.keep, 2);
	assert_int_equal(cluster_emit(&c, &out, &len, &err), WIZ_ERR_OK);
	diag_list_free(&d);
	diag_list_init(&d, "back");
	assert_int_equal(cluster_load_string("back", out, len, &back, &d), WIZ_ERR_OK);
	assert_string_equal(back.backup.schedule, c.backup.schedule);
	assert_int_equal(back.backup.keep, 2);
	assert_string_equal(back.backup.dir, "/srv/etcd-snapshots");
	free(out);
	free(yaml);
	cluster_free(&c);
	cluster_free(&back);
	diag_list_free(&d);

	yaml = xasprintf("%sbackup:\n  schedule: \"daily; rm -rf /\"\n  keep: 0\n  dir: /var/lib/etcd/snap\n", head);
	diag_list_init(&d, "b");
	assert_int_not_equal(cluster_load_string("b", yaml, strlen(yaml), &c, &d), WIZ_ERR_OK);
	assert_true(has_diag(&d, DIAG_ERROR, 9, 9, "backup.keep must be a number from 1 to 1000"));
	assert_true(has_diag(&d, DIAG_ERROR, 8, 13, "is not a systemd calendar expression"));
	assert_true(has_diag(&d, DIAG_ERROR, 10, 8, "is inside etcd.dataDir"));
	free(yaml);
	cluster_free(&c);
	diag_list_free(&d);

	yaml = xasprintf("%sbackup:\n  dir: /var/\n", head);
	diag_list_init(&d, "b");
	assert_int_not_equal(cluster_load_string("b", yaml, strlen(yaml), &c, &d), WIZ_ERR_OK);
	assert_true(has_diag(&d, DIAG_ERROR, 8, 8, "is a system directory"));
	free(yaml);
	cluster_free(&c);
	diag_list_free(&d);
}

WIZ_UNIT_TESTS(cmocka_unit_test(test_load_seed_example),
	       cmocka_unit_test(test_backup_block),
	       cmocka_unit_test(test_member_edits),
	       cmocka_unit_test(test_validate_port_range),
	       cmocka_unit_test(test_kvfile_roundtrip),
	       cmocka_unit_test(test_defaults),
	       cmocka_unit_test(test_roundtrip_seed),
	       cmocka_unit_test(test_roundtrip_tricky_values),
	       cmocka_unit_test(test_roundtrip_host_overrides),
	       cmocka_unit_test(test_save_atomic_mode),
	       cmocka_unit_test(test_error_syntax),
	       cmocka_unit_test(test_error_unknown_keys),
	       cmocka_unit_test(test_error_types),
	       cmocka_unit_test(test_error_values),
	       cmocka_unit_test(test_error_secret),
	       cmocka_unit_test(test_error_duplicate_key),
	       cmocka_unit_test(test_error_counts_and_missing),
	       cmocka_unit_test(test_warnings))
