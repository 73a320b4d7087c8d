#include "config.h"

#include "tests/unit.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "base/fsutil.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "install/plan.h"
#include "install/plan-listing.h"
#include "install/membership.h"
#include "install/step.h"
#include "install/steps/steps.h"
#include "install/upgrade.h"
#include "pki/pki.h"

static char *fixture_text(const char *rel)
{
	char *data = NULL;
	struct wiz_error err;

	if (wiz_read_file(unit_fixture(rel), 1 << 20, &data, NULL, &err) != WIZ_ERR_OK)
		fail_msg("%s", err.msg);
	return data;
}

/* The probe a test gives a plan, parsed as the engine parses it. */
static struct probe *test_probe;

static void free_test_probe(void)
{
	probe_free(test_probe);
	test_probe = NULL;
}

static void use_probe(struct step_env *env, const char *text)
{
	if (test_probe == NULL)
		atexit(free_test_probe);
	probe_free(test_probe);
	test_probe = probe_parse(text);
	env->probe = test_probe;
}

/* A step's reads as the engine runs them on a host: its files block,
 * then its items. Caller frees. */
static char *reads_cmd(const struct step *s, const struct step_env *env)
{
	struct probe_request r = { 0 };
	char *files, *items, *cmd;

	s->reads(env, &r);
	files = probe_files_cmd(&r);
	items = probe_items_cmd(&r);
	cmd = xasprintf("%s%s", files, items);
	free(items);
	free(files);
	probe_request_free(&r);
	return cmd;
}

static void load_cluster(const char *rel, struct cluster *c)
{
	struct diag_list d;

	diag_list_init(&d, rel);
	assert_int_equal(cluster_load(unit_fixture(rel), c, &d), WIZ_ERR_OK);
	diag_list_free(&d);
}

/* Compare with a golden file; UPDATE_GOLDEN=1 rewrites it (then review!). */
static void assert_golden(const char *text, const char *rel)
{
	char *want;

	if (getenv("UPDATE_GOLDEN")) {
		struct wiz_error err;

		assert_int_equal(wiz_write_file_atomic(unit_fixture(rel), text, strlen(text), 0644, &err),
				 WIZ_ERR_OK);
	}
	want = fixture_text(rel);
	if (strcmp(want, text) != 0) {
		char *diff = text_diff(want, text, rel, "actual");

		fprintf(stderr, "%s", diff);
		free(diff);
		free(want);
		fail_msg("%s differs", rel);
	}
	free(want);
}

static char *plan_text(const struct step *s, const struct step_env *env)
{
	struct plan plan;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	plan_init(&plan);
	s->plan(env, &plan);
	plan_print(&plan, env->host->name, s->name, f);
	fclose(f);
	plan_free(&plan);
	return buf;
}

static void test_os_release(void **state)
{
	struct os_info os;
	char *t;

	(void)state;
	t = fixture_text("os-release/debian-12");
	os_info_parse(t, &os);
	free(t);
	assert_int_equal(os.family, OS_DEBIAN);
	assert_true(os.supported);
	t = fixture_text("os-release/ubuntu-24.04");
	os_info_parse(t, &os);
	free(t);
	assert_true(os.supported);
	assert_string_equal(os.id, "ubuntu");
	t = fixture_text("os-release/rhel-9");
	os_info_parse(t, &os);
	free(t);
	assert_int_equal(os.family, OS_RHEL);
	assert_true(os.supported);
	t = fixture_text("os-release/rocky-8");
	os_info_parse(t, &os);
	free(t);
	assert_true(os.supported);
	t = fixture_text("os-release/debian-13");
	os_info_parse(t, &os);
	free(t);
	assert_int_equal(os.family, OS_DEBIAN);
	assert_string_equal(os.version_id, "13");
	assert_true(os.supported);
	t = fixture_text("os-release/debian-11");
	os_info_parse(t, &os);
	free(t);
	assert_false(os.supported);
	t = fixture_text("os-release/alpine");
	os_info_parse(t, &os);
	free(t);
	assert_int_equal(os.family, OS_UNKNOWN);
	assert_false(os.supported);
}

static void test_probe_sections(void **state)
{
	const char *text = "before any section\n"
			   "@@a\nx=1\ny=2\nx=3\n/var/lib/e=tc=700 root:root\n@@stat:/etc/f\n644 root:root\n"
			   "@@file:/etc/f\nline1\nx=9\n\n@@b\n@@a\nx=4\n";
	struct probe *p = probe_parse(text);
	struct remote_file f;

	(void)state;
	assert_int_equal(p->n, 5);
	assert_string_equal(probe_section(p, "a"), "x=1\ny=2\nx=3\n/var/lib/e=tc=700 root:root\n");
	assert_string_equal(probe_value(p, "a", "y"), "2");
	assert_string_equal(probe_value(p, "a", "x"), "1");	/* the first wins */
	/* A key may hold '=' (a path). */
	assert_string_equal(probe_value(p, "a", "/var/lib/e=tc"), "700 root:root");
	assert_null(probe_value(p, "a", "z"));
	assert_null(probe_value(p, "file:/etc/f", "x"));	/* contents are not values */
	assert_true(probe_has_line(p, "a", "y=2"));
	assert_false(probe_has_line(p, "a", "y"));
	assert_string_equal(probe_section(p, "b"), "");
	assert_null(probe_section(p, "missing"));
	assert_null(probe_value(p, "missing", "x"));
	probe_file(p, "/etc/f", &f);
	assert_true(f.exists);
	assert_int_equal(f.mode, 0644);
	assert_string_equal(f.owner, "root:root");
	assert_string_equal(f.content, "line1\nx=9\n");
	remote_file_free(&f);
	probe_free(p);
	p = probe_parse("@@stat:/etc/g\nabsent\n");
	probe_file(p, "/etc/g", &f);
	assert_false(f.exists);
	probe_free(p);
	/* No text: an empty probe. */
	p = probe_parse(NULL);
	assert_int_equal(p->n, 0);
	assert_null(probe_section(p, "a"));
	probe_free(p);
	assert_null(probe_section(NULL, "a"));
}

static void test_swap_fstab(void **state)
{
	const char *fstab = "UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n# /old none swap sw 0 0\nUUID=2\tnone\tswap\tsw\t0\t0\n";
	char *out;

	(void)state;
	out = swap_fstab_disabled(fstab);
	assert_string_equal(out, "UUID=1 / ext4 defaults 0 1\n#/swap.img none swap sw 0 0\n# /old none swap sw 0 0\n#UUID=2\tnone\tswap\tsw\t0\t0\n");
	assert_null(swap_fstab_disabled(out));
	free(out);
}

static void test_text_diff(void **state)
{
	char *d;

	(void)state;
	d = text_diff("a\nb\nc\n", "a\nB\nc\nd\n", "old", "new");
	assert_string_equal(d, "--- old\n+++ new\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n");
	free(d);
	d = text_diff("", "x\n", "/dev/null", "f");
	assert_string_equal(d, "--- /dev/null\n+++ f\n@@ -0,0 +1,1 @@\n+x\n");
	free(d);
}

/* A fresh host of each family: the packages plan, as golden files. */
static void packages_golden(const char *os_file, const char *golden)
{
	struct cluster c;
	struct os_info os;
	struct step_env env = { 0 };
	char *osr = fixture_text(os_file);
	char *text;

	load_cluster("cluster/valid-seed.yaml", &c);
	os_info_parse(osr, &os);
	env.cluster = &c;
	env.host = &c.members[0];
	env.is_member = true;
	env.os = &os;
	use_probe(&env, "@@installed\n@@held\n@@binaries\n@@keyrings\n");
	text = plan_text(step_find("packages"), &env);
	assert_golden(text, golden);
	free(text);
	free(osr);
	cluster_free(&c);
}

static void test_packages_debian12(void **state)
{
	(void)state;
	packages_golden("os-release/debian-12", "plan/packages-debian-12.golden");
}

/* The manifest step's reads on a member with data whose manifest is
 * manifest, with that mode. */
static void use_member_probe(struct step_env *env, const struct cluster *c, const char *manifest,
			     const char *mode)
{
	char *probe = xasprintf("@@etcd\ndata=yes\n@@dirs\n/etc/kubernetes/manifests=700 root:root\n%s=700 root:root\n"
				"@@stat:/etc/kubernetes/manifests/etcd.yaml\n%s root:root\n@@file:/etc/kubernetes/manifests/etcd.yaml\n%s\n"
				"@@stat:/etc/kubernetes/etcdwiz-cluster\n644 root:root\n@@file:/etc/kubernetes/etcdwiz-cluster\n%s\n\n",
				c->etcd.data_dir, mode, manifest, c->name);

	use_probe(env, probe);
	free(probe);
}

/* The running cluster lists members 1 and 2 (voters, started): member 3
 * joins with state "existing" and exactly etcd's members and itself;
 * with data of its own it is refused; under another URL it is a replace
 * (joining without its old entry); a learner already added joins without
 * being added again; nobody answering while --limit left members out
 * refuses a bootstrap. */
static void test_manifest_joins_running_cluster(void **state)
{
	struct cluster c;
	struct step_env env = { 0 };
	struct plan plan;
	struct live_cluster live = { 0 };
	struct etcd_member_list l;
	struct wiz_error err;
	char *json, *p1, *p2, *p3, *old_address;
	const char *line;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	p1 = member_peer_url(&c.members[0]);
	p2 = member_peer_url(&c.members[1]);
	p3 = member_peer_url(&c.members[2]);
	json = xasprintf("{\"members\":[{\"ID\":\"11\",\"name\":\"%s\",\"peerURLs\":[\"%s\"]},"
			 "{\"ID\":\"12\",\"name\":\"%s\",\"peerURLs\":[\"%s\"]}]}",
			 c.members[0].name, p1, c.members[1].name, p2);
	assert_int_equal(etcd_json_parse_member_list(json, strlen(json), &l, &err), WIZ_ERR_OK);
	live_cluster_set(&live, &l, c.members[0].name);
	etcd_member_list_free(&l);
	free(json);
	assert_int_equal(membership_change(&c, &live, 0, NULL), MEMBER_KEEP);
	assert_int_equal(membership_change(&c, &live, 2, NULL), MEMBER_ADD);
	env.cluster = &c;
	env.host = &c.members[2];
	env.member_index = 2;
	env.is_member = true;
	env.cluster_token = "tok";
	env.live = &live;
	use_probe(&env, "@@etcd\n@@dirs\n");
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_int_equal(plan_errors(&plan), 0);
	assert_true(plan.joins_cluster);
	assert_false(plan.restarts_etcd);
	line = strstr(plan.actions[plan.n_actions - 1].content, "--initial-cluster=");
	assert_non_null(line);
	{
		char *want = xasprintf("--initial-cluster=%s=%s,%s=%s,%s=%s\n", c.members[0].name, p1,
				       c.members[1].name, p2, c.members[2].name, p3);

		assert_memory_equal(line, want, strlen(want));
		free(want);
	}
	assert_non_null(strstr(plan.actions[plan.n_actions - 1].content, "--initial-cluster-state=existing"));
	plan_free(&plan);
	/* With data of its own (another cluster's, or removed before). */
	use_probe(&env, "@@etcd\ndata=yes\n@@dirs\n");
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_int_equal(plan_errors(&plan), 1);
	assert_non_null(strstr(plan.findings[0].msg, "does not list it"));
	assert_int_equal(plan.n_actions, 0);
	plan_free(&plan);
	/* Member 2's address changed in the file: a replace, refused. */
	env.host = &c.members[1];
	env.member_index = 1;
	old_address = c.members[1].address;
	c.members[1].address = xstrdup("10.0.0.99");
	assert_int_equal(membership_change(&c, &live, 1, NULL), MEMBER_REPLACE);
	use_probe(&env, "@@etcd\n@@dirs\n");
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_int_equal(plan_errors(&plan), 0);
	assert_true(plan.joins_cluster);
	assert_non_null(strstr(plan.notes[0], "replaces the member of that name"));
	/* It joins the members that stay, without its old entry. */
	{
		char *p2new = member_peer_url(&c.members[1]);
		char *want = xasprintf("--initial-cluster=%s=%s,%s=%s\n", c.members[0].name, p1,
				       c.members[1].name, p2new);

		assert_non_null(strstr(plan.actions[plan.n_actions - 1].content, want));
		free(want);
		free(p2new);
	}
	plan_free(&plan);
	live_cluster_free(&live);
	free(c.members[1].address);
	c.members[1].address = old_address;
	/* Member 3 added as a learner already (never started: no name). */
	json = xasprintf("{\"members\":[{\"ID\":\"11\",\"name\":\"%s\",\"peerURLs\":[\"%s\"]},"
			 "{\"ID\":\"12\",\"name\":\"%s\",\"peerURLs\":[\"%s\"]},"
			 "{\"ID\":\"13\",\"peerURLs\":[\"%s\"],\"isLearner\":true}]}",
			 c.members[0].name, p1, c.members[1].name, p2, p3);
	assert_int_equal(etcd_json_parse_member_list(json, strlen(json), &l, &err), WIZ_ERR_OK);
	live_cluster_set(&live, &l, c.members[0].name);
	etcd_member_list_free(&l);
	free(json);
	env.host = &c.members[2];
	env.member_index = 2;
	assert_int_equal(membership_change(&c, &live, 2, NULL), MEMBER_PROMOTE);
	use_probe(&env, "@@etcd\n@@dirs\n");
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_true(plan.joins_cluster);
	{
		char *want = xasprintf("--initial-cluster=%s=%s,%s=%s,%s=%s\n", c.members[0].name, p1,
				       c.members[1].name, p2, c.members[2].name, p3);

		assert_non_null(strstr(plan.actions[plan.n_actions - 1].content, want));
		free(want);
	}
	plan_free(&plan);
	live_cluster_free(&live);
	/* Nobody answered, but etcd01 and etcd02 were left out by --limit: a
	 * member without data must not bootstrap; with data it keeps going. */
	live.known = true;
	snprintf(live.unasked, sizeof live.unasked, "%s, %s", c.members[0].name, c.members[1].name);
	use_probe(&env, "@@etcd\n@@dirs\n");
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_true(plan_has_finding(&plan, "Membership"));
	assert_non_null(strstr(plan.findings[0].msg, "cannot tell whether cluster"));
	assert_int_equal(plan.n_actions, 0);
	plan_free(&plan);
	live.unasked[0] = '\0';
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_int_equal(plan_errors(&plan), 0);
	assert_false(plan.joins_cluster);
	plan_free(&plan);
	free(p1);
	free(p2);
	free(p3);
	cluster_free(&c);
}

/* A member with data keeps its manifest's bootstrap flags; new content
 * there restarts etcd (restarts_etcd, the wait on the host); a mode fix
 * alone or a member without data does not. */
static void test_manifest_running_member(void **state)
{
	struct cluster c;
	struct step_env env = { 0 };
	struct wiz_error err;
	struct plan plan;
	char *old, *yaml;
	const char *kept = "    - --initial-cluster=etcd01=https://10.0.0.1:2380\n";

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	env.cluster = &c;
	env.host = &c.members[0];
	env.is_member = true;
	env.cluster_token = "tok";
	old = manifest_render(&c, &c.members[0], "tok", NULL, NULL, &err);
	assert_non_null(old);
	/* The running member's file: another --initial-cluster, state new. */
	{
		char *at = strstr(old, "    - --initial-cluster=");
		char *end = strchr(at, '\n') + 1;
		char *edited = xasprintf("%.*s%s%s", (int)(at - old), old, kept, end);

		free(old);
		old = edited;
	}
	yaml = manifest_render(&c, &c.members[0], "tok", old, NULL, &err);
	assert_non_null(strstr(yaml, kept));
	assert_non_null(strstr(yaml, "--initial-cluster-state=new"));
	free(yaml);
	/* Same file, with data: nothing to do. */
	use_member_probe(&env, &c, old, "600");
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_int_equal(plan.n_actions, 0);
	assert_false(plan.restarts_etcd);
	plan_free(&plan);
	/* Mode 0644: a fix that restarts nothing. */
	use_member_probe(&env, &c, old, "644");
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_int_equal(plan.n_actions, 1);
	assert_false(plan.restarts_etcd);
	plan_free(&plan);
	/* New content (an extra flag) on the member with data: a restart. */
	kvlist_set(&c.etcd.extra_args, "heartbeat-interval", "150");
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_true(plan.restarts_etcd);
	assert_int_equal(plan.n_actions, 2);	/* the file, then the wait for the new etcd */
	assert_non_null(strstr(plan.actions[0].content, kept));
	assert_non_null(strstr(plan.actions[1].command, "pgrep -xo etcd"));
	plan_free(&plan);
	/* The same without data (a fresh member): no restart, no wait. */
	use_probe(&env, "@@etcd\n@@dirs\n");
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_false(plan.restarts_etcd);
	plan_free(&plan);
	free(old);
	cluster_free(&c);
}

static void test_packages_debian13(void **state)
{
	(void)state;
	packages_golden("os-release/debian-13", "plan/packages-debian-13.golden");
}

static void test_packages_ubuntu2404(void **state)
{
	(void)state;
	packages_golden("os-release/ubuntu-24.04", "plan/packages-ubuntu-24.04.golden");
}

static void test_packages_rhel9(void **state)
{
	(void)state;
	packages_golden("os-release/rhel-9", "plan/packages-rhel-9.golden");
}

static void test_packages_mirror_and_verify_only(void **state)
{
	struct cluster c;
	struct os_info os;
	char *url, *text;
	struct step_env env = { 0 };

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	url = packages_repo_url(&c, false, OS_RHEL);
	assert_string_equal(url, "https://pkgs.k8s.io/core:/stable:/v1.33/rpm/");
	free(url);
	url = packages_repo_url(&c, true, OS_DEBIAN);
	assert_string_equal(url, "https://download.opensuse.org/repositories/isv:/cri-o:/stable:/v1.33/deb/");
	free(url);
	c.repositories.kubernetes = xstrdup("https://mirror.example/k8s");
	url = packages_repo_url(&c, false, OS_DEBIAN);
	assert_string_equal(url, "https://mirror.example/k8s/");
	free(url);

	/* runtime.install: false installs nothing, and wants kubelet. */
	c.runtime.install = false;
	os_info_parse("ID=debian\nVERSION_ID=12\n", &os);
	env.cluster = &c;
	env.host = &c.members[0];
	env.os = &os;
	use_probe(&env, "@@binaries\nkubelet=\ncrio=\n");
	text = plan_text(step_find("packages"), &env);
	assert_non_null(strstr(text, "[ERROR KubeletInstalled]"));
	assert_null(strstr(text, "apt-get"));
	free(text);
	use_probe(&env, "@@binaries\nkubelet=/usr/bin/kubelet\nkubelet_version=v1.33.0\ncrio=\n");
	text = plan_text(step_find("packages"), &env);
	assert_null(strstr(text, "ERROR"));
	assert_null(strstr(text, "apt-get"));
	free(text);
	cluster_free(&c);
}

/* Walk a YAML mapping path like "spec.containers" in a loaded document. */
static yaml_node_t *yaml_get(yaml_document_t *doc, yaml_node_t *node, const char *key)
{
	if (node == NULL || node->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static void load_yaml(const char *text, yaml_document_t *doc)
{
	yaml_parser_t parser;

	assert_true(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	assert_true(yaml_parser_load(&parser, doc));
	assert_non_null(yaml_document_get_root_node(doc));
	yaml_parser_delete(&parser);
}

static void test_manifest(void **state)
{
	struct cluster c;
	struct wiz_error err;
	yaml_document_t doc;
	yaml_node_t *root, *container, *cmd, *probe;
	char *yaml;
	const char *args[64];
	size_t n = 0;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	yaml = manifest_render(&c, &c.members[1], "tok-123", NULL, NULL, &err);
	assert_non_null(yaml);
	load_yaml(yaml, &doc);
	root = yaml_document_get_root_node(&doc);
	assert_string_equal((char *)yaml_get(&doc, yaml_get(&doc, root, "metadata"), "name")->data.scalar.value, "etcd");
	container = yaml_document_get_node(&doc, *yaml_get(&doc, yaml_get(&doc, root, "spec"), "containers")->data.sequence.items.start);
	assert_string_equal((char *)yaml_get(&doc, container, "image")->data.scalar.value, "registry.k8s.io/etcd:3.5.21-0");
	cmd = yaml_get(&doc, container, "command");
	for (yaml_node_item_t *it = cmd->data.sequence.items.start; it < cmd->data.sequence.items.top; it++)
		args[n++] = (char *)yaml_document_get_node(&doc, *it)->data.scalar.value;
	assert_string_equal(args[0], "etcd");
	for (size_t i = 2; i < n; i++) {	/* sorted by flag name, like kubeadm's */
		size_t a = strcspn(args[i - 1], "="), b = strcspn(args[i], "=");
		char *x = xstrndup(args[i - 1], a), *y = xstrndup(args[i], b);

		assert_true(strcmp(x, y) < 0);
		free(x);
		free(y);
	}
	{
		bool seen_initial = false, seen_token = false, seen_name = false, seen_quota = false;

		for (size_t i = 1; i < n; i++) {
			seen_initial |= strcmp(args[i], "--initial-cluster=etcd01=https://10.107.88.15:2380,etcd02=https://10.107.88.16:2380,etcd03=https://10.107.88.17:2380") == 0;
			seen_token |= strcmp(args[i], "--initial-cluster-token=tok-123") == 0;
			seen_name |= strcmp(args[i], "--name=etcd02") == 0;
			seen_quota |= strcmp(args[i], "--quota-backend-bytes=8589934592") == 0;
		}
		assert_true(seen_initial && seen_token && seen_name && seen_quota);
	}
	/* etcd 3.5.21: /livez and /readyz with a readiness probe. */
	probe = yaml_get(&doc, yaml_get(&doc, container, "livenessProbe"), "httpGet");
	assert_string_equal((char *)yaml_get(&doc, probe, "path")->data.scalar.value, "/livez");
	assert_non_null(yaml_get(&doc, container, "readinessProbe"));
	assert_string_equal((char *)yaml_get(&doc, yaml_get(&doc, root, "spec"), "priorityClassName")->data.scalar.value,
			    "system-node-critical");
	yaml_document_delete(&doc);
	free(yaml);

	/* etcd 3.4.23 (the lab's): plain /health, no readiness probe. */
	free(c.etcd.version);
	c.etcd.version = xstrdup("3.4.23");
	yaml = manifest_render(&c, &c.members[0], "tok", NULL, NULL, &err);
	load_yaml(yaml, &doc);
	root = yaml_document_get_root_node(&doc);
	container = yaml_document_get_node(&doc, *yaml_get(&doc, yaml_get(&doc, root, "spec"), "containers")->data.sequence.items.start);
	assert_null(yaml_get(&doc, container, "readinessProbe"));
	probe = yaml_get(&doc, yaml_get(&doc, container, "livenessProbe"), "httpGet");
	assert_string_equal((char *)yaml_get(&doc, probe, "path")->data.scalar.value, "/health");
	assert_non_null(strstr(yaml, "--experimental-initial-corrupt-check=true"));
	yaml_document_delete(&doc);
	free(yaml);

	/* etcd 3.6: the feature gate and the new flag name. */
	free(c.etcd.version);
	c.etcd.version = xstrdup("3.6.5");
	yaml = manifest_render(&c, &c.members[0], "tok", NULL, NULL, &err);
	assert_non_null(strstr(yaml, "--feature-gates=InitialCorruptCheck=true"));
	assert_non_null(strstr(yaml, "--watch-progress-notify-interval=5s"));
	assert_null(strstr(yaml, "experimental"));
	free(yaml);
	cluster_free(&c);
}

static void test_manifest_golden(void **state)
{
	struct cluster c;
	struct wiz_error err;
	char *yaml;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	yaml = manifest_render(&c, &c.members[0], "etcdwiz-golden-token", NULL, NULL, &err);
	assert_golden(yaml, "plan/etcd-manifest.golden");
	free(yaml);
	cluster_free(&c);
}

/* etcd's upgrade paths: a patch, or the next minor from etcd's minimum
 * patch; skips, cross-minor downgrades and major changes refused with the
 * path to take; a patch downgrade only when allowed. */
static void test_upgrade_paths(void **state)
{
	static const struct {
		const char *from, *to;
		bool allow;
		enum upgrade_kind want;
		const char *says;	/* in the refusal */
	} cases[] = {
		{ "3.4.23", "3.5.16", false, UPGRADE_MINOR, NULL },
		{ "3.5.16", "3.5.30", false, UPGRADE_PATCH, NULL },
		{ "v3.5.16", "3.5.16", false, UPGRADE_SAME, NULL },
		{ "3.5.30", "3.5.16", false, UPGRADE_REFUSED, "--allow-downgrade" },
		{ "3.5.30", "3.5.16", true, UPGRADE_DOWNGRADE, NULL },
		{ "3.4.23", "3.6.0", false, UPGRADE_REFUSED, "upgrade to 3.5 (at least 3.5.32) first, then to 3.6.0" },
		{ "3.5.16", "3.6.0", false, UPGRADE_REFUSED, "at least 3.5.32" },
		{ "3.5.31", "3.6.1", false, UPGRADE_REFUSED, "upgrade to 3.5.32 or later first" },
		{ "3.5.32", "3.6.0", false, UPGRADE_MINOR, NULL },
		{ "3.5.16", "3.4.23", true, UPGRADE_REFUSED, "downgrade across a minor" },
		{ "3.5.16", "4.0.0", false, UPGRADE_REFUSED, "major" },
		{ "3.5.16", "3.5", false, UPGRADE_REFUSED, "not an etcd version" },
		{ "3.5.16", "3.5.16x", false, UPGRADE_REFUSED, "not an etcd version" },
		{ "3.4.23", "3.5.16-0", false, UPGRADE_MINOR, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *why = NULL;
		enum upgrade_kind k = upgrade_path(cases[i].from, cases[i].to, cases[i].allow, &why);

		if (k != cases[i].want)
			fail_msg("%s -> %s: kind %d, want %d (%s)", cases[i].from, cases[i].to, k, cases[i].want,
				 why ? why : "");
		if (cases[i].says != NULL && (why == NULL || strstr(why, cases[i].says) == NULL))
			fail_msg("%s -> %s: \"%s\" lacks \"%s\"", cases[i].from, cases[i].to, why ? why : "",
				 cases[i].says);
		if (cases[i].says == NULL)
			assert_null(why);
		free(why);
	}
	{
		char *t = upgrade_allowed_text("3.5.16");

		assert_string_equal(t, "a later 3.5 patch; 3.6 once every member runs 3.5.32 or later");
		free(t);
		t = upgrade_allowed_text("3.4.23");
		assert_string_equal(t, "a later 3.4 patch, or 3.5");
		free(t);
		t = upgrade_allowed_text("3.6.1");
		assert_string_equal(t, "a later 3.6 patch");
		free(t);
	}
	/* One table holds the minimum, with its source. */
	for (size_t i = 0; upgrade_minimums[i].min_from; i++)
		if (upgrade_minimums[i].to_minor == 6)
			assert_string_equal(upgrade_minimums[i].min_from, "3.5.32");
}

/* The seed's three members running: each viewed healthy on `version`,
 * cluster version cv. */
static void live_running(struct live_cluster *live, const struct cluster *c, const char *version,
			 const char *cv)
{
	struct etcd_member_list l;
	struct wiz_error err;
	char *json = xstrdup("{\"members\":[");

	for (size_t i = 0; i < c->n_members; i++) {
		char *p = member_peer_url(&c->members[i]);
		char *next = xasprintf("%s%s{\"ID\":\"%zu\",\"name\":\"%s\",\"peerURLs\":[\"%s\"],\"clientURLs\":[\"https://%s:2379\"]}",
				       json, i ? "," : "", 11 + i, c->members[i].name, p, c->members[i].address);

		free(p);
		free(json);
		json = next;
	}
	{
		char *next = xasprintf("%s]}", json);

		free(json);
		json = next;
	}
	assert_int_equal(etcd_json_parse_member_list(json, strlen(json), &l, &err), WIZ_ERR_OK);
	live_cluster_set(live, &l, c->members[0].name);
	etcd_member_list_free(&l);
	free(json);
	for (size_t k = 0; k < live->n; k++) {
		struct live_member *m = &live->members[k];

		m->viewed = m->in_file = true;
		m->view.answered = m->view.healthy = m->view.listed = true;
		m->view.leader = k == 0;
		snprintf(m->view.version, sizeof m->view.version, "%s", version);
		snprintf(m->view.cluster_version, sizeof m->view.cluster_version, "%s", cv);
	}
}

/* Fit for an upgrade only when every member is healthy, on one cluster
 * version, without alarm or learner; the plan's section lists the order,
 * the leader last. */
static void test_upgrade_refusal(void **state)
{
	struct cluster c;
	struct live_cluster live = { 0 };
	char *no, *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	free(c.etcd.version);
	c.etcd.version = xstrdup("3.5.16");
	live_running(&live, &c, "3.4.23", "3.4.0");
	assert_true(upgrade_pending(&c, &live));
	assert_string_equal(upgrade_member_version(&c, &live, 1), "3.4.23");
	assert_null(upgrade_refusal(&c, &live, false));
	f = open_memstream(&text, &len);
	upgrade_print(&c, &live, true, false, f);
	fclose(f);
	/* etcd01 leads: it goes last. */
	assert_non_null(strstr(text, "1. etcd02: etcd 3.4.23 -> 3.5.16\n"));
	assert_non_null(strstr(text, "2. etcd03: etcd 3.4.23 -> 3.5.16\n"));
	assert_non_null(strstr(text, "3. etcd01: etcd 3.4.23 -> 3.5.16 (the leader, last"));
	assert_non_null(strstr(text, "a snapshot is taken"));
	assert_null(strstr(text, "refused"));
	free(text);

	live.members[1].view.healthy = false;
	snprintf(live.members[1].view.detail, sizeof live.members[1].view.detail, "%s", "NOSPACE");
	no = upgrade_refusal(&c, &live, false);
	assert_non_null(strstr(no, "etcd02 is not healthy (NOSPACE)"));
	free(no);
	live.members[1].view.healthy = true;

	snprintf(live.members[2].view.alarms, sizeof live.members[2].view.alarms, "%s", "NOSPACE");
	no = upgrade_refusal(&c, &live, false);
	assert_non_null(strstr(no, "alarm raised (NOSPACE"));
	free(no);
	live.members[2].view.alarms[0] = '\0';

	snprintf(live.members[2].view.cluster_version, sizeof live.members[2].view.cluster_version, "%s", "3.3.0");
	no = upgrade_refusal(&c, &live, false);
	assert_non_null(strstr(no, "disagree on the cluster version"));
	free(no);
	snprintf(live.members[2].view.cluster_version, sizeof live.members[2].view.cluster_version, "%s", "3.4.0");

	/* A member healthy but whose status did not come: not guessed. */
	live.members[2].view.version[0] = '\0';
	no = upgrade_refusal(&c, &live, false);
	assert_non_null(strstr(no, "etcd03 did not say which etcd it runs"));
	free(no);
	snprintf(live.members[2].view.version, sizeof live.members[2].view.version, "%s", "3.4.23");

	live.members[2].learner = true;
	no = upgrade_refusal(&c, &live, false);
	assert_non_null(strstr(no, "is a learner"));
	free(no);
	live.members[2].learner = false;

	/* Half done (a run killed): etcd02 on the new version already. */
	snprintf(live.members[1].view.version, sizeof live.members[1].view.version, "%s", "3.5.16");
	assert_null(upgrade_refusal(&c, &live, false));
	f = open_memstream(&text, &len);
	upgrade_print(&c, &live, false, false, f);
	fclose(f);
	assert_non_null(strstr(text, "etcd02: runs it already"));
	assert_non_null(strstr(text, "1. etcd03:"));
	assert_non_null(strstr(text, "2. etcd01:"));
	free(text);

	/* A skip: refused with the path. */
	free(c.etcd.version);
	c.etcd.version = xstrdup("3.6.0");
	no = upgrade_refusal(&c, &live, false);
	assert_non_null(strstr(no, "etcd01: etcd 3.4.23 to 3.6.0 skips a minor version"));
	free(no);
	live_cluster_free(&live);
	cluster_free(&c);
}

/* The manifest step on a running member of an older version: an upgrade
 * note and a restart; a path etcd forbids: an Upgrade error, nothing to
 * write. The new manifest names the new image. */
static void test_manifest_upgrade_plan(void **state)
{
	struct cluster c;
	struct step_env env = { 0 };
	struct live_cluster live = { 0 };
	struct wiz_error err;
	struct plan plan;
	char *old;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	free(c.etcd.version);
	c.etcd.version = xstrdup("3.4.23");
	old = manifest_render(&c, &c.members[1], "tok", NULL, NULL, &err);
	live_running(&live, &c, "3.4.23", "3.4.0");
	free(c.etcd.version);
	c.etcd.version = xstrdup("3.5.16");
	env.cluster = &c;
	env.host = &c.members[1];
	env.member_index = 1;
	env.is_member = true;
	env.cluster_token = "tok";
	env.live = &live;
	use_member_probe(&env, &c, old, "600");
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_int_equal(plan_errors(&plan), 0);
	assert_true(plan.restarts_etcd);
	assert_non_null(strstr(plan.actions[0].content, "image: registry.k8s.io/etcd:3.5.16-0\n"));
	assert_non_null(strstr(plan.notes[0], "etcd02 is upgraded from etcd 3.4.23 to 3.5.16"));
	plan_free(&plan);

	free(c.etcd.version);
	c.etcd.version = xstrdup("3.6.0");
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_int_equal(plan_errors(&plan), 1);
	assert_true(plan_has_finding(&plan, "Upgrade"));
	assert_int_equal(plan.n_actions, 0);
	assert_false(plan.restarts_etcd);
	plan_free(&plan);

	/* A patch downgrade: refused, then allowed. */
	free(c.etcd.version);
	c.etcd.version = xstrdup("3.4.20");
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_true(plan_has_finding(&plan, "Upgrade"));
	plan_free(&plan);
	env.allow_downgrade = true;
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_int_equal(plan_errors(&plan), 0);
	assert_non_null(strstr(plan.notes[0], "goes back from etcd 3.4.23 to 3.4.20"));
	plan_free(&plan);

	{
		char v[32];

		assert_true(manifest_image_version(old, v, sizeof v));
		assert_string_equal(v, "3.4.23");
		assert_false(manifest_image_version("kind: Pod\n", v, sizeof v));
	}
	free(old);
	live_cluster_free(&live);
	cluster_free(&c);
}

/* The flags each version needs, as golden files: 3.4 with capnslog and
 * experimental flags; the same file on 3.5 (capnslog and its flags gone)
 * and on 3.6 (renamed flags, boolean ones as feature gates, v2 gone). No
 * 3.6 binary exists in Debian: these goldens are that path's check. */
static void test_manifest_flags_by_version(void **state)
{
	static const struct {
		const char *version, *golden;
	} cases[] = {
		{ "3.4.23", "plan/etcd-manifest-3.4-extra.golden" },
		{ "3.5.30", "plan/etcd-manifest-3.5-extra.golden" },
		{ "3.6.0", "plan/etcd-manifest-3.6-extra.golden" },
	};
	struct cluster c;
	struct wiz_error err;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	kvlist_set(&c.etcd.extra_args, "logger", "capnslog");
	kvlist_set(&c.etcd.extra_args, "log-package-levels", "etcdserver=DEBUG");
	kvlist_set(&c.etcd.extra_args, "debug", "true");
	kvlist_set(&c.etcd.extra_args, "experimental-compaction-batch-limit", "1000");
	kvlist_set(&c.etcd.extra_args, "experimental-enable-lease-checkpoint", "true");
	kvlist_set(&c.etcd.extra_args, "experimental-peer-skip-client-san-verification", "true");
	kvlist_set(&c.etcd.extra_args, "enable-v2", "false");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *yaml;

		free(c.etcd.version);
		c.etcd.version = xstrdup(cases[i].version);
		yaml = manifest_render(&c, &c.members[0], "etcdwiz-golden-token", NULL, NULL, &err);
		assert_non_null(yaml);
		assert_golden(yaml, cases[i].golden);
		free(yaml);
	}
	cluster_free(&c);
}

static void test_kubeadm_config(void **state)
{
	struct cluster c;
	struct wiz_error err;
	yaml_document_t doc;
	yaml_node_t *root, *ext, *eps;
	char *yaml;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	yaml = kubeadm_config_render(&c, &err);
	assert_non_null(yaml);
	load_yaml(yaml, &doc);
	root = yaml_document_get_root_node(&doc);
	assert_string_equal((char *)yaml_get(&doc, root, "apiVersion")->data.scalar.value, "kubeadm.k8s.io/v1beta4");
	assert_string_equal((char *)yaml_get(&doc, root, "controlPlaneEndpoint")->data.scalar.value,
			    "k8s-api.example.internal:6443");
	ext = yaml_get(&doc, yaml_get(&doc, root, "etcd"), "external");
	eps = yaml_get(&doc, ext, "endpoints");
	assert_int_equal(eps->data.sequence.items.top - eps->data.sequence.items.start, 3);
	assert_string_equal((char *)yaml_get(&doc, ext, "certFile")->data.scalar.value,
			    "/etc/kubernetes/pki/apiserver-etcd-client.crt");
	yaml_document_delete(&doc);
	free(yaml);
	/* Without endpoint, subnet and SANs those keys are left out. */
	free(c.control_plane.endpoint);
	c.control_plane.endpoint = NULL;
	free(c.control_plane.pod_subnet);
	c.control_plane.pod_subnet = NULL;
	strlist_free(&c.control_plane.cert_sans);
	yaml = kubeadm_config_render(&c, &err);
	assert_null(strstr(yaml, "controlPlaneEndpoint"));
	assert_null(strstr(yaml, "networking"));
	assert_null(strstr(yaml, "certSANs"));
	free(yaml);
	cluster_free(&c);
}

static void test_kubelet_config(void **state)
{
	struct cluster c;
	struct step_env env = { 0 };
	struct plan plan;
	yaml_document_t doc;
	yaml_node_t *root;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	env.cluster = &c;
	env.host = &c.members[0];
	use_probe(&env, "@@kubelet\n");
	plan_init(&plan);
	step_find("kubelet")->plan(&env, &plan);
	assert_int_equal(plan.actions[0].kind, ACTION_FILE);
	assert_string_equal(plan.actions[0].path, "/etc/kubernetes/kubelet-etcd.yaml");
	load_yaml(plan.actions[0].content, &doc);
	root = yaml_document_get_root_node(&doc);
	assert_string_equal((char *)yaml_get(&doc, root, "kind")->data.scalar.value, "KubeletConfiguration");
	assert_string_equal((char *)yaml_get(&doc, root, "cgroupDriver")->data.scalar.value, "systemd");
	assert_string_equal((char *)yaml_get(&doc, root, "staticPodPath")->data.scalar.value, "/etc/kubernetes/manifests");
	assert_string_equal((char *)yaml_get(&doc, root, "containerRuntimeEndpoint")->data.scalar.value,
			    "unix:///var/run/crio/crio.sock");
	assert_string_equal((char *)yaml_get(&doc, yaml_get(&doc, root, "authorization"), "mode")->data.scalar.value,
			    "AlwaysAllow");
	yaml_document_delete(&doc);
	assert_non_null(strstr(plan.actions[1].content, "ExecStart=/usr/bin/kubelet --config=/etc/kubernetes/kubelet-etcd.yaml"));
	plan_free(&plan);
	cluster_free(&c);
}

static char *fake_local(const struct step_env *env, const char *rel, size_t *len)
{
	(void)env;
	if (strcmp(rel, "/opt/etcd/etcdctl") != 0)
		return NULL;
	*len = 4;
	return xstrdup("\177ELF");
}

static void test_etcdctl_binary_upload(void **state)
{
	struct cluster c;
	struct step_env env = { 0 };
	struct plan plan;
	struct os_info os;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	os_info_parse("ID=rhel\nVERSION_ID=9.4\n", &os);
	env.cluster = &c;
	env.host = &c.members[0];
	env.os = &os;
	use_probe(&env, "@@etcdctl\n");
	/* RHEL without a binary to upload: a clear error. */
	plan_init(&plan);
	step_find("etcdctl")->plan(&env, &plan);
	assert_int_equal(plan_errors(&plan), 1);
	assert_non_null(strstr(plan.findings[0].msg, "etcd.etcdctlBinary"));
	plan_free(&plan);
	/* With etcd.etcdctlBinary: uploaded 0755, hashed not shown, and the wrapper uses it. */
	c.etcd.etcdctl_binary = xstrdup("/opt/etcd/etcdctl");
	env.read_local = fake_local;
	plan_init(&plan);
	step_find("etcdctl")->plan(&env, &plan);
	assert_int_equal(plan_errors(&plan), 0);
	{
		bool uploaded = false, wrapper = false;

		for (size_t i = 0; i < plan.n_actions; i++) {
			const struct action *a = &plan.actions[i];

			if (a->kind == ACTION_FILE && strcmp(a->path, "/usr/local/lib/etcdwiz/etcdctl") == 0)
				uploaded = a->mode == 0755 && a->secret && a->len == 4;
			if (a->kind == ACTION_FILE && strcmp(a->path, "/usr/local/bin/etcdctl") == 0)
				wrapper = strstr(a->content, "exec /usr/local/lib/etcdwiz/etcdctl") != NULL;
		}
		assert_true(uploaded);
		assert_true(wrapper);
	}
	plan_free(&plan);
	cluster_free(&c);
}

static void test_preflight(void **state)
{
	struct cluster c;
	struct step_env env = { 0 };
	struct strlist ignore = { 0 };
	char *text;
	char *probe;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	env.cluster = &c;
	env.host = &c.members[0];
	probe = xasprintf("@@os-release\n%s@@facts\narch=x86_64\ncpus=2\nmem_kib=4000000\nntp=yes\nsystemd=yes\n"
			  "datadir=absent\nowner=\n@@ports\n2379=free\n2380=busy\n2381=free\n@@addresses\n127.0.0.1\n10.107.88.15\n",
			  "ID=debian\nVERSION_ID=12\n");
	use_probe(&env, probe);
	text = plan_text(step_find("preflight"), &env);
	assert_non_null(strstr(text, "[ERROR Port-2380]"));
	assert_null(strstr(text, "Port-2379"));
	assert_null(strstr(text, "AdvertiseAddress"));
	free(text);
	strlist_push(&ignore, "port-2380");
	env.ignore_preflight = &ignore;
	text = plan_text(step_find("preflight"), &env);
	assert_non_null(strstr(text, "[WARNING Port-2380]"));
	free(text);
	env.host = &c.members[1];	/* 10.107.88.16 is not on this host */
	text = plan_text(step_find("preflight"), &env);
	assert_non_null(strstr(text, "[ERROR AdvertiseAddress]"));
	free(text);
	free(probe);
	probe = xasprintf("@@os-release\nID=alpine\nVERSION_ID=3.20\n@@facts\narch=riscv64\ncpus=1\nmem_kib=500000\n"
			  "systemd=no\ndatadir=3\nowner=other\n@@ports\n");
	use_probe(&env, probe);
	env.host = &c.members[0];
	env.ignore_preflight = NULL;
	text = plan_text(step_find("preflight"), &env);
	assert_non_null(strstr(text, "[ERROR OS]"));
	assert_non_null(strstr(text, "[ERROR Arch]"));
	assert_non_null(strstr(text, "[WARNING NumCPU]"));
	assert_non_null(strstr(text, "[ERROR Mem]"));
	assert_non_null(strstr(text, "[ERROR Systemd]"));
	assert_non_null(strstr(text, "[ERROR DirAvailable--var-lib-etcd]"));
	free(text);
	free(probe);
	/* The host's clock against this machine's: an hour ahead or behind is
	 * refused by name; a few seconds (the check's own delay) are not. */
	{
		static const struct {
			const char *skew;
			const char *want;
		} clocks[] = {
			{ "3600", "[ERROR ClockSkew]: the clock of etcd01 is 3600 s ahead of this machine's" },
			{ "-4000", "[ERROR ClockSkew]: the clock of etcd01 is 4000 s behind this machine's" },
			{ "2", NULL },
			{ "-299", NULL },
		};

		for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
			probe = xasprintf("@@os-release\nID=debian\nVERSION_ID=12\n@@facts\narch=x86_64\ncpus=2\nmem_kib=4000000\n"
					  "systemd=yes\ndatadir=absent\nclock_skew=%s\n", clocks[i].skew);
			use_probe(&env, probe);
			text = plan_text(step_find("preflight"), &env);
			if (clocks[i].want != NULL)
				assert_non_null(strstr(text, clocks[i].want));
			else
				assert_null(strstr(text, "ClockSkew"));
			free(text);
			free(probe);
		}
	}
	strlist_free(&ignore);
	cluster_free(&c);
}

/* A converged host plans nothing: the same files, modes and values. */
static void test_converged_is_empty(void **state)
{
	struct cluster c;
	struct step_env env = { 0 };
	struct plan plan;
	size_t len;
	const char *mods = NULL;
	char *probe;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	env.cluster = &c;
	env.host = &c.members[0];
	{
		extern const char *template_source(const char *name, size_t *len);

		mods = template_source("k8s-modules.conf", &len);
	}
	probe = xasprintf("@@effect\noverlay=yes\nbr_netfilter=yes\n@@stat:/etc/modules-load.d/k8s.conf\n644 root:root\n"
			  "@@file:/etc/modules-load.d/k8s.conf\n%s\n", mods);
	use_probe(&env, probe);
	plan_init(&plan);
	step_find("modules")->plan(&env, &plan);
	assert_int_equal(plan.n_actions, 0);
	plan_free(&plan);
	free(probe);
	/* Wrong mode: one file action. */
	probe = xasprintf("@@effect\noverlay=yes\nbr_netfilter=yes\n@@stat:/etc/modules-load.d/k8s.conf\n600 root:root\n"
			  "@@file:/etc/modules-load.d/k8s.conf\n%s\n", mods);
	use_probe(&env, probe);
	plan_init(&plan);
	step_find("modules")->plan(&env, &plan);
	assert_int_equal(plan.n_actions, 1);
	assert_int_equal(plan.actions[0].kind, ACTION_FILE);
	plan_free(&plan);
	free(probe);
	cluster_free(&c);
}

static void test_kubeadm_init_only_when_asked(void **state)
{
	struct cluster c;
	struct step_env env = { 0 };
	char *text;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	env.cluster = &c;
	env.host = &c.control_plane.hosts[0];
	use_probe(&env, "@@kubeadm\nkubeadm=/usr/bin/kubeadm\n");
	text = plan_text(step_find("kubernetes"), &env);
	assert_null(strstr(text, "kubeadm init"));
	free(text);
	env.kubeadm_init = true;
	text = plan_text(step_find("kubernetes"), &env);
	assert_non_null(strstr(text, "$ kubeadm init --config /etc/kubernetes/kubeadm-config.yaml --upload-certs"));
	free(text);
	use_probe(&env, "@@kubeadm\ninitialized=yes\nkubeadm=/usr/bin/kubeadm\n");
	text = plan_text(step_find("kubernetes"), &env);
	assert_null(strstr(text, "kubeadm init"));
	free(text);
	use_probe(&env, "@@kubeadm\nkubeadm=\n");
	text = plan_text(step_find("kubernetes"), &env);
	assert_non_null(strstr(text, "[ERROR Kubeadm]"));
	free(text);
	cluster_free(&c);
}

/* Index of the first action running cmd, or of the file action for path. */
static size_t action_index(const struct plan *p, const char *cmd, const char *path)
{
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct action *a = &p->actions[i];

		if (cmd && a->kind == ACTION_COMMAND && strcmp(a->command, cmd) == 0)
			return i;
		if (path && a->kind == ACTION_FILE && strcmp(a->path, path) == 0)
			return i;
	}
	return (size_t)-1;
}

/* A host as the packages leave it (a tarball kubelet: no /etc/kubernetes,
 * no drop-in directory): each directory is a planned action before the
 * first file written into it, once, with kubeadm's mode. */
static void test_missing_directories(void **state)
{
	struct cluster c;
	struct step_env env = { 0 };
	struct plan plan;
	char *check;
	size_t dir, file;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	env.cluster = &c;
	env.host = &c.members[0];
	env.is_member = true;
	check = reads_cmd(step_find("kubelet"), &env);
	assert_non_null(strstr(check, "@@dir:/etc/systemd/system/kubelet.service.d/20-etcd-service-manager.conf"));
	free(check);
	use_probe(&env, "@@kubelet\nactive=inactive\nenabled=disabled\ndropins=\n"
		    "@@stat:/etc/kubernetes/kubelet-etcd.yaml\nabsent\n"
		    "@@dir:/etc/kubernetes/kubelet-etcd.yaml\nabsent\n"
		    "@@stat:/etc/systemd/system/kubelet.service.d/20-etcd-service-manager.conf\nabsent\n"
		    "@@dir:/etc/systemd/system/kubelet.service.d/20-etcd-service-manager.conf\nabsent\n");
	plan_init(&plan);
	step_find("kubelet")->plan(&env, &plan);
	dir = action_index(&plan, "install -d -m 0755 -o root -g root /etc/kubernetes", NULL);
	file = action_index(&plan, NULL, "/etc/kubernetes/kubelet-etcd.yaml");
	assert_true(dir < file && file != (size_t)-1);
	dir = action_index(&plan, "install -d -m 0755 -o root -g root /etc/systemd/system/kubelet.service.d", NULL);
	file = action_index(&plan, NULL, "/etc/systemd/system/kubelet.service.d/20-etcd-service-manager.conf");
	assert_true(dir < file && file != (size_t)-1);
	assert_non_null(strstr(plan.actions[dir].summary, "/etc/systemd/system/kubelet.service.d"));
	plan_free(&plan);

	/* The directory is there: no directory action. */
	use_probe(&env, "@@kubelet\nactive=inactive\nenabled=disabled\ndropins=\n"
		    "@@stat:/etc/kubernetes/kubelet-etcd.yaml\nabsent\n"
		    "@@dir:/etc/kubernetes/kubelet-etcd.yaml\npresent\n");
	plan_init(&plan);
	step_find("kubelet")->plan(&env, &plan);
	assert_int_equal(action_index(&plan, "install -d -m 0755 -o root -g root /etc/kubernetes", NULL),
			 (size_t)-1);
	plan_free(&plan);

	/* The manifests directory the step makes 0700 itself is not made twice. */
	use_probe(&env, "@@dirs\n/var/lib/etcd=700 root:root\n"
		    "@@stat:/etc/kubernetes/manifests/etcd.yaml\nabsent\n"
		    "@@dir:/etc/kubernetes/manifests/etcd.yaml\nabsent\n");
	env.cluster_token = "t";
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	{
		size_t n = 0;

		for (size_t i = 0; i < plan.n_actions; i++)
			n += plan.actions[i].kind == ACTION_COMMAND &&
			     strstr(plan.actions[i].command, "/etc/kubernetes/manifests") != NULL;
		assert_int_equal(n, 1);
		assert_int_equal(action_index(&plan, "install -d -m 0700 -o root -g root /etc/kubernetes/manifests",
					      NULL), 0);
	}
	plan_free(&plan);
	cluster_free(&c);
}

static const char *first_finding(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_findings; i++)
		if (strcmp(p->findings[i].name, name) == 0)
			return p->findings[i].msg;
	return NULL;
}

/* What sh prints running script (through the environment, not argv),
 * with path_first (may be NULL) ahead of PATH; *status (may be NULL) is
 * pclose's. Caller frees. */
static char *run_script(const char *path_first, const char *script, int *status)
{
	char *cmd = path_first ? xasprintf("PATH=%s:$PATH sh -c \"$SCRIPT\"", path_first)
			       : xstrdup("sh -c \"$SCRIPT\"");
	char *out = xmalloc(65536);
	size_t n;
	FILE *p;
	int rc;

	setenv("SCRIPT", script, 1);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, 65535, p);
	out[n] = '\0';
	rc = pclose(p);
	if (status != NULL)
		*status = rc;
	unsetenv("SCRIPT");
	free(cmd);
	return out;
}

static size_t count_of(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

/* The files steps declare are read in one block: one stat, one sha256sum;
 * probe_file reads what it prints as it read a file probed on its own
 * (mode, owner, content without the added newline, a secret's hash only,
 * a missing file, a missing directory). */
static void test_declared_files_block(void **state)
{
	char dir[] = "/tmp/etcdwiz-test-files.XXXXXX";
	struct probe_request files = { 0 };
	struct remote_file f;
	struct probe *p;
	char *plain, *secret, *missing, *nodir, *cmd, *out;
	FILE *fp;
	int status;

	(void)state;
	assert_non_null(mkdtemp(dir));
	plain = xasprintf("%s/plain.conf", dir);
	secret = xasprintf("%s/key.pem", dir);
	missing = xasprintf("%s/missing.conf", dir);
	nodir = xasprintf("%s/nodir/x.conf", dir);
	fp = fopen(plain, "w");
	fputs("a=1\nno final newline", fp);
	fclose(fp);
	fp = fopen(secret, "w");
	fputs("secret\n", fp);
	fclose(fp);
	assert_int_equal(chmod(plain, 0640), 0);
	assert_int_equal(chmod(secret, 0600), 0);
	probe_read_file(&files, plain, false);
	probe_read_file(&files, secret, false);
	probe_read_file(&files, secret, true);	/* a secret wins */
	probe_read_file(&files, missing, false);
	probe_read_file(&files, nodir, true);
	assert_int_equal(files.n_files, 4);
	cmd = probe_files_cmd(&files);
	/* One stat, one sha256sum and one awk for all of them; a cat for
	 * each file whose content is read, run only when it exists. */
	assert_int_equal(count_of(cmd, "stat -c"), 1);
	assert_int_equal(count_of(cmd, "sha256sum"), 1);
	assert_int_equal(count_of(cmd, "| awk"), 1);
	assert_int_equal(count_of(cmd, "cat -- "), 2);
	out = run_script(NULL, cmd, &status);
	assert_int_equal(status, 0);
	p = probe_parse(out);

	probe_file(p, plain, &f);
	assert_true(f.exists && f.parent_exists);
	assert_int_equal(f.mode, 0640);
	assert_string_equal(f.content, "a=1\nno final newline");
	remote_file_free(&f);
	probe_file(p, secret, &f);
	assert_true(f.exists);
	assert_int_equal(f.mode, 0600);
	assert_null(f.content);		/* only its hash */
	assert_string_equal(f.sha256, "b37e50cedcd3e3f1ff64f4afc0422084ae694253cf399326868e07a35f4a45fb");
	remote_file_free(&f);
	probe_file(p, missing, &f);
	assert_false(f.exists);
	assert_true(f.parent_exists);
	remote_file_free(&f);
	probe_file(p, nodir, &f);
	assert_false(f.exists);
	assert_false(f.parent_exists);
	remote_file_free(&f);

	probe_free(p);
	free(out);
	free(cmd);
	probe_request_free(&files);
	unlink(plain);
	unlink(secret);
	rmdir(dir);
	free(plain);
	free(secret);
	free(missing);
	free(nodir);
}

/* verify plans from what the member said when asked from here; its shell
 * check is only the pod's log. It says which of no answer / unhealthy /
 * not started, bounded by one value, with the pod's log. */
static void test_verify_reports(void **state)
{
	struct cluster c;
	struct step_env env = { 0 };
	struct etcd_member_view v = { 0 };
	struct plan plan;
	char *check;
	const char *msg;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	env.cluster = &c;
	env.host = &c.members[1];
	env.is_member = true;
	env.applying = true;
	env.health_timeout_s = 45;
	assert_true(step_find("verify")->asks_etcd);
	check = reads_cmd(step_find("verify"), &env);
	assert_non_null(strstr(check, "/var/log/pods/kube-system_etcd"));
	assert_null(strstr(check, "etcdctl"));	/* etcd is asked from here */
	free(check);

	/* No answer within the bound: says why, with the pod's last lines. */
	env.etcd = &v;
	env.etcd_waited_s = 45;
	snprintf(v.detail, sizeof v.detail, "cannot reach 10.107.88.16:2379 on its host: connection refused");
	use_probe(&env, "@@podlog\n/var/log/pods/kube-system_etcd_1/etcd/3.log\nfirst\netcd: cannot start\n");
	plan_init(&plan);
	step_find("verify")->plan(&env, &plan);
	assert_int_equal(plan_errors(&plan), 1);
	msg = first_finding(&plan, "Health");
	assert_non_null(msg);
	assert_non_null(strstr(msg, "did not answer within 45s (cannot reach 10.107.88.16:2379"));
	assert_non_null(strstr(msg, "/var/log/pods/kube-system_etcd_1/etcd/3.log"));
	assert_non_null(strstr(msg, "first|etcd: cannot start"));
	plan_free(&plan);

	/* A pod that never started (its image cannot be had) says so. */
	use_probe(&env, "@@podstatus\nstate=waiting\nreason=ErrImagePull\nrestarts=0\n"
			"message=Failed to pull image \"registry.k8s.io/etcd:3.5.21-0\"\n@@podlog\n");
	plan_init(&plan);
	step_find("verify")->plan(&env, &plan);
	msg = first_finding(&plan, "Health");
	assert_non_null(msg);
	assert_non_null(strstr(msg, "its pod is waiting: ErrImagePull: Failed to pull image \"registry.k8s.io/etcd:3.5.21-0\""));
	plan_free(&plan);

	/* Before the first deploy (no manifest, no pod, no log) the plan says
	 * so, not that a member does not answer; still a warning (not healthy
	 * yet), not an error. */
	env.applying = false;
	use_probe(&env, "@@deployed\nmanifest=no\n@@podstatus\n@@podlog\n");
	plan_init(&plan);
	step_find("verify")->plan(&env, &plan);
	assert_int_equal(plan_errors(&plan), 0);
	msg = first_finding(&plan, "Health");
	assert_non_null(msg);
	assert_non_null(strstr(msg, "is not deployed on"));
	assert_non_null(strstr(msg, "yet (no /etc/kubernetes/manifests/etcd.yaml): the manifest step writes it; apply then waits up to 45s"));
	assert_null(strstr(msg, "does not answer"));
	plan_free(&plan);
	/* A member etcd lists whose manifest was moved away is not "not
	 * deployed": it is a member that does not answer. */
	{
		struct live_cluster live = { .known = true, .running = true };
		struct live_member lm = { 0 };

		lm.name = (char *)env.host->name;
		live.members = &lm;
		live.n = 1;
		env.live = &live;
		plan_init(&plan);
		step_find("verify")->plan(&env, &plan);
		msg = first_finding(&plan, "Health");
		assert_non_null(msg);
		assert_non_null(strstr(msg, "does not answer yet"));
		plan_free(&plan);
		env.live = NULL;
	}
	/* With a manifest it is a member that does not answer yet (a warning). */
	use_probe(&env, "@@deployed\nmanifest=yes\n@@podstatus\n@@podlog\n");
	plan_init(&plan);
	step_find("verify")->plan(&env, &plan);
	msg = first_finding(&plan, "Health");
	assert_non_null(msg);
	assert_non_null(strstr(msg, "does not answer yet (cannot reach 10.107.88.16:2379"));
	assert_int_equal(plan_errors(&plan), 0);
	plan_free(&plan);
	env.applying = true;

	/* It answers but is unhealthy (no quorum): etcd's reason. */
	v.answered = true;
	snprintf(v.detail, sizeof v.detail, "RAFT NO LEADER");
	use_probe(&env, "@@podlog\n");
	plan_init(&plan);
	step_find("verify")->plan(&env, &plan);
	msg = first_finding(&plan, "Health");
	assert_non_null(msg);
	assert_non_null(strstr(msg, "answers but is unhealthy after 45s: RAFT NO LEADER"));
	plan_free(&plan);

	/* Planning: only a warning, and the bound is shown. */
	env.applying = false;
	plan_init(&plan);
	step_find("verify")->plan(&env, &plan);
	assert_int_equal(plan_errors(&plan), 0);
	assert_int_equal(plan.n_findings, 1);
	assert_non_null(strstr(plan.notes[0], "45s (--health-timeout)"));
	plan_free(&plan);

	/* Healthy and started under its name: the leader is named, no finding. */
	env.applying = true;
	env.etcd_waited_s = 3;
	v.healthy = v.listed = v.leader = true;
	v.detail[0] = '\0';
	snprintf(v.version, sizeof v.version, "3.5.16");
	plan_init(&plan);
	step_find("verify")->plan(&env, &plan);
	assert_int_equal(plan.n_findings, 0);
	assert_non_null(strstr(plan.notes[0], "leader: etcd02 (etcd 3.5.16); healthy after 3 s"));
	plan_free(&plan);

	/* Healthy, but not started under its own name. */
	v.listed = v.leader = false;
	plan_init(&plan);
	step_find("verify")->plan(&env, &plan);
	msg = first_finding(&plan, "Health");
	assert_non_null(msg);
	assert_non_null(strstr(msg, "not started under that name"));
	plan_free(&plan);
	cluster_free(&c);
}

/* A kubelet that does not exit on --version is bounded and reported. */
static void test_probe_bounds(void **state)
{
	struct cluster c;
	struct step_env env = { 0 };
	struct os_info os;
	char *check, *text;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	os_info_parse("ID=debian\nVERSION_ID=12\n", &os);
	env.cluster = &c;
	env.host = &c.members[0];
	env.os = &os;
	check = reads_cmd(step_find("packages"), &env);
	assert_non_null(strstr(check, "timeout -k 2 10 kubelet --version"));
	assert_non_null(strstr(check, "timeout -k 2 10 systemctl show -p ActiveState -p UnitFileState -p DropInPaths -- \"$1\""));
	assert_null(strstr(check, "$(systemctl"));	/* every systemctl is bounded */
	free(check);
	check = reads_cmd(step_find("kubelet"), &env);
	assert_null(strstr(check, "$(systemctl"));	/* every systemctl is bounded */
	free(check);
	c.runtime.install = false;
	use_probe(&env, "@@binaries\nkubelet=/opt/bin/kubelet\nkubelet_version_timeout=yes\nkubelet_version=\ncrio=/usr/bin/crio\n");
	text = plan_text(step_find("packages"), &env);
	assert_non_null(strstr(text, "[WARNING KubeletVersion]: `/opt/bin/kubelet --version` did not finish within 10 s"));
	free(text);
	cluster_free(&c);
}

static char *no_local(const struct step_env *env, const char *rel, size_t *len)
{
	(void)env;
	(void)rel;
	(void)len;
	return NULL;
}

/* Certificates missing from the local store: on a fresh host one note;
 * on a host that has them, an error (new ones would replace the CA). */
static void test_pki_store_missing(void **state)
{
	struct cluster c;
	struct step_env env = { 0 };
	struct plan plan;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	env.cluster = &c;
	env.host = &c.members[0];
	env.is_member = true;
	env.read_local = no_local;
	use_probe(&env, "@@dirs\n");
	plan_init(&plan);
	step_find("certificates")->plan(&env, &plan);
	assert_int_equal(plan.n_findings, 0);
	assert_int_equal(plan.n_notes, 1);
	assert_non_null(strstr(plan.notes[0], "not in the local certificate store yet"));
	plan_free(&plan);
	use_probe(&env, "@@dirs\n@@stat:/etc/kubernetes/pki/etcd/ca.crt\n644 root:root\n@@sha256:/etc/kubernetes/pki/etcd/ca.crt\n"
		    "0000000000000000000000000000000000000000000000000000000000000000\n"
		    "@@stat:/etc/kubernetes/pki/etcd/server.key\n600 root:root\n");
	plan_init(&plan);
	step_find("certificates")->plan(&env, &plan);
	assert_int_equal(plan_errors(&plan), 1);
	assert_non_null(strstr(first_finding(&plan, "CertificatesElsewhere"), "/etc/kubernetes/pki/etcd/ca.crt"));
	plan_free(&plan);
	cluster_free(&c);
}

/* A step's declared reads, run here (stand-ins for systemctl and sysctl
 * first in PATH), parse into what its plan reads: a unit's three answers,
 * kernel parameters, and the modes of directories whose paths are passed
 * as arguments, quotes and spaces intact. */
static void write_tool(const char *dir, const char *name, const char *body)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	free(path);
}

static void test_reads_run_and_parse(void **state)
{
	char dir[] = "/tmp/etcdwiz-test-reads.XXXXXX";
	struct cluster c;
	struct step_env env = { 0 };
	struct probe *p;
	char *cmd, *out, *data, *text;
	const char *v;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_tool(dir, "systemctl",
		   "[ \"$1\" = show ] || exit 1\n"
		   "printf 'ActiveState=active\\nUnitFileState=enabled\\n"
		   "DropInPaths=/etc/systemd/system/kubelet.service.d/20-etcd-service-manager.conf /x.conf\\n'\n");
	write_tool(dir, "sysctl", "case $2 in net.ipv4.ip_forward) echo 0;; *) echo 1;; esac\n");
	load_cluster("cluster/valid-seed.yaml", &c);
	env.cluster = &c;
	env.host = &c.members[0];
	env.is_member = true;

	/* kubelet: one systemctl, read into three values. */
	cmd = reads_cmd(step_find("kubelet"), &env);
	out = run_script(dir, cmd, NULL);
	p = probe_parse(out);
	assert_string_equal(probe_value(p, "kubelet", "active"), "active");
	assert_string_equal(probe_value(p, "kubelet", "enabled"), "enabled");
	assert_non_null(strstr(probe_value(p, "kubelet", "dropins"), "20-etcd-service-manager.conf"));
	env.probe = p;
	text = plan_text(step_find("kubelet"), &env);
	assert_null(strstr(text, "systemctl enable kubelet"));	/* it is enabled */
	free(text);
	probe_free(p);
	free(out);
	free(cmd);

	/* sysctl: every key read; one not set makes the plan apply the file. */
	cmd = reads_cmd(step_find("sysctl"), &env);
	out = run_script(dir, cmd, NULL);
	p = probe_parse(out);
	assert_string_equal(probe_value(p, "values", "net.bridge.bridge-nf-call-iptables"), "1");
	assert_string_equal(probe_value(p, "values", "net.ipv4.ip_forward"), "0");
	env.probe = p;
	text = plan_text(step_find("sysctl"), &env);
	assert_non_null(strstr(text, "sysctl -p /etc/sysctl.d/k8s.conf"));
	free(text);
	probe_free(p);
	free(out);
	free(cmd);

	/* manifest: the data directory's path is an argument, not shell. */
	data = xasprintf("%s/it's a $(dir)", dir);
	assert_int_equal(mkdir(data, 0700), 0);
	free(c.etcd.data_dir);
	c.etcd.data_dir = xstrdup(data);
	cmd = reads_cmd(step_find("manifest"), &env);
	assert_null(strstr(cmd, "it's"));	/* quoted, never raw */
	out = run_script(dir, cmd, NULL);
	p = probe_parse(out);
	v = probe_value(p, "dirs", data);
	assert_non_null(v);
	assert_int_equal(strncmp(v, "700 ", 4), 0);
	env.probe = p;
	env.cluster_token = "t";
	text = plan_text(step_find("manifest"), &env);
	assert_null(strstr(text, "create the etcd data directory"));
	free(text);
	probe_free(p);
	free(out);
	free(cmd);
	rmdir(data);
	free(data);

	cluster_free(&c);
	text = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(text), 0);
	free(text);
}

/* The packages check's own shell, run here against a stand-in dpkg-query:
 * a package held with apt-mark hold ("hi") is installed and held; one
 * only known to dpkg ("un") is neither. */
static void test_packages_check_dpkg_states(void **state)
{
	char dir[] = "/tmp/etcdwiz-test-dpkg-XXXXXX";
	struct cluster c;
	struct step_env env = { 0 };
	char *check, *fake, *out;
	const char *installed, *held;
	struct probe *p;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	fake = xasprintf("%s/dpkg-query", dir);
	f = fopen(fake, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\nprintf 'iproute2=6.1.0-3 ii \\nkubelet=1.33.1-1.1 hi \\nkubeadm=1.33.1-1.1 ii \\n"
	      "kubectl=1.33.1-1.1 un \\n'\n", f);
	fclose(f);
	assert_int_equal(chmod(fake, 0755), 0);
	load_cluster("cluster/valid-seed.yaml", &c);
	env.cluster = &c;
	env.host = &c.members[0];
	check = reads_cmd(step_find("packages"), &env);
	out = run_script(dir, check, NULL);
	p = probe_parse(out);
	installed = probe_section(p, "installed");
	held = probe_section(p, "held");
	assert_non_null(installed);
	assert_non_null(held);
	assert_string_equal(installed, "iproute2=6.1.0-3\nkubelet=1.33.1-1.1\nkubeadm=1.33.1-1.1\n");
	assert_string_equal(held, "kubelet\n");
	probe_free(p);
	free(out);
	free(check);
	unlink(fake);
	rmdir(dir);
	free(fake);
	cluster_free(&c);
}

/* ---- certificates on a running cluster ---- */

struct tls_files {
	char *server, *peer, *ca, *bundle;
	bool use_bundle;
};
static struct tls_files tls;

static char *pem_of(gnutls_x509_crt_t crt)
{
	gnutls_datum_t d = { NULL, 0 };
	struct wiz_error err;
	char *s;

	assert_int_equal(pki_crt_export(crt, &d, &err), WIZ_ERR_OK);
	s = xstrndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	return s;
}

static char *tls_local(const struct step_env *env, const char *rel, size_t *len)
{
	const char *v = strcmp(rel, "etcd/server.crt") == 0 ? tls.server
			: strcmp(rel, "etcd/peer.crt") == 0 ? tls.peer
			: strcmp(rel, "etcd/ca.crt") == 0 ? (tls.use_bundle ? tls.bundle : tls.ca)
			: "not a certificate\n";

	(void)env;
	*len = strlen(v);
	return xstrdup(v);
}

static void tls_files_make(const struct host *h)
{
	struct pki_pair ca = { 0 }, ca2 = { 0 }, server = { 0 }, peer = { 0 };
	struct pki_sans sans = { 0 };
	struct pki_leaf_spec spec = { .cn = h->name, .sans = &sans, .validity = 86400 };
	struct wiz_error err;
	char *ca2_pem;

	pki_member_sans(h, &sans);
	assert_int_equal(pki_ca_create(PKI_ALG_ECDSA_P256, 864000, 1700000000, &ca, &err), WIZ_ERR_OK);
	assert_int_equal(pki_ca_create(PKI_ALG_ECDSA_P256, 864000, 1700000000, &ca2, &err), WIZ_ERR_OK);
	spec.profile = PKI_PROFILE_SERVER;
	assert_int_equal(pki_leaf_issue(&spec, PKI_ALG_ECDSA_P256, &ca, 1700000000, &server, NULL, &err), WIZ_ERR_OK);
	spec.profile = PKI_PROFILE_PEER;
	assert_int_equal(pki_leaf_issue(&spec, PKI_ALG_ECDSA_P256, &ca, 1700000000, &peer, NULL, &err), WIZ_ERR_OK);
	tls.server = pem_of(server.crt);
	tls.peer = pem_of(peer.crt);
	tls.ca = pem_of(ca.crt);
	ca2_pem = pem_of(ca2.crt);
	tls.bundle = xasprintf("%s%s", tls.ca, ca2_pem);
	free(ca2_pem);
	pki_pair_free(&ca);
	pki_pair_free(&ca2);
	pki_pair_free(&server);
	pki_pair_free(&peer);
	pki_sans_free(&sans);
}

static void tls_files_free(void)
{
	free(tls.server);
	free(tls.peer);
	free(tls.ca);
	free(tls.bundle);
	memset(&tls, 0, sizeof tls);
}

#define ZERO_SHA "0000000000000000000000000000000000000000000000000000000000000000"

/* New server and peer certificates on a member with data take turns and
 * carry the serials to check; on a fresh member (no data) they do not;
 * a new trust bundle puts the trust annotation in the manifest (a
 * restart), the same bundle in another order does not change it, and a
 * cluster that never rotated has none. */
static void test_certificates_take_turn(void **state)
{
	struct cluster c;
	struct step_env env = { 0 };
	struct plan plan;
	struct wiz_error err;
	char *old, *again;
	gnutls_x509_crt_t *l = NULL;
	size_t n = 0;
	char serial[48], id_a[17], id_b[17];

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	tls_files_make(&c.members[0]);
	env.cluster = &c;
	env.host = &c.members[0];
	env.is_member = true;
	env.cluster_token = "tok";
	env.read_local = tls_local;
	use_probe(&env, "@@etcd\ndata=yes\n@@dirs\n/etc/kubernetes/pki=755 root:root\n/etc/kubernetes/pki/etcd=755 root:root\n"
		  "@@stat:/etc/kubernetes/pki/etcd/server.crt\n600 root:root\n@@sha256:/etc/kubernetes/pki/etcd/server.crt\n" ZERO_SHA "\n"
		  "@@stat:/etc/kubernetes/pki/etcd/peer.crt\n600 root:root\n@@sha256:/etc/kubernetes/pki/etcd/peer.crt\n" ZERO_SHA "\n");
	plan_init(&plan);
	step_find("certificates")->plan(&env, &plan);
	assert_true(plan.takes_turn);
	assert_false(plan.restarts_etcd);
	assert_int_equal(pki_crt_list_parse(tls.server, strlen(tls.server), &l, &n, &err), WIZ_ERR_OK);
	pki_crt_serial_hex(l[0], serial, sizeof serial);
	pki_crt_list_free(l, n);
	assert_string_equal(plan.served_serial[0], serial);
	assert_true(plan.served_serial[1][0] != '\0');
	assert_string_not_equal(plan.served_serial[0], plan.served_serial[1]);
	plan_free(&plan);
	/* No data there: a first install, nothing to check from here. */
	use_probe(&env, "@@etcd\n@@dirs\n@@stat:/etc/kubernetes/pki/etcd/server.crt\n600 root:root\n"
		  "@@sha256:/etc/kubernetes/pki/etcd/server.crt\n" ZERO_SHA "\n");
	plan_init(&plan);
	step_find("certificates")->plan(&env, &plan);
	assert_false(plan.takes_turn);
	plan_free(&plan);

	/* The trust annotation. */
	old = manifest_render(&c, &c.members[0], "tok", NULL, NULL, &err);
	assert_null(strstr(old, "etcdwiz.io/trusted-ca"));
	use_member_probe(&env, &c, old, "600");
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_int_equal(plan.n_actions, 0);	/* one CA, never rotated: as before */
	plan_free(&plan);
	tls.use_bundle = true;
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_true(plan.restarts_etcd);
	pki_trust_id(tls.bundle, strlen(tls.bundle), id_a, &n);
	assert_int_equal(n, 2);
	/* The id is quoted when it reads as a number (yaml_scalar_style_for). */
	assert_non_null(strstr(plan.actions[0].content, "etcdwiz.io/trusted-ca: "));
	assert_non_null(strstr(plan.actions[0].content, id_a));
	again = xstrdup(plan.actions[0].content);
	plan_free(&plan);
	/* The same two CAs the other way round: the same trust, no restart. */
	{
		const char *second = strstr(tls.bundle + 10, "-----BEGIN");
		char *swapped = xasprintf("%s%.*s", second, (int)(second - tls.bundle), tls.bundle);

		pki_trust_id(swapped, strlen(swapped), id_b, NULL);
		assert_string_equal(id_a, id_b);
		free(tls.bundle);
		tls.bundle = swapped;
	}
	use_member_probe(&env, &c, again, "600");
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_int_equal(plan.n_actions, 0);
	plan_free(&plan);
	/* Back to one CA (phase 3): the annotation is kept and changes. */
	tls.use_bundle = false;
	plan_init(&plan);
	step_find("manifest")->plan(&env, &plan);
	assert_true(plan.restarts_etcd);
	pki_trust_id(tls.ca, strlen(tls.ca), id_b, NULL);
	assert_non_null(strstr(plan.actions[0].content, "etcdwiz.io/trusted-ca: "));
	assert_non_null(strstr(plan.actions[0].content, id_b));
	plan_free(&plan);
	free(again);
	free(old);
	tls_files_free();
	cluster_free(&c);
}

/* A control-plane host with kube-apiserver as a static pod: new etcd
 * client files restart it, after every file, taking turns; without the
 * pod nothing restarts; a restart stopped half-way is finished by putting
 * the manifest back. */
static void test_kubernetes_apiserver_restart(void **state)
{
	struct cluster c;
	struct step_env env = { 0 };
	struct plan plan;
	const struct action *last;

	(void)state;
	load_cluster("cluster/valid-seed.yaml", &c);
	tls_files_make(&c.members[0]);
	env.cluster = &c;
	env.host = c.control_plane.n_hosts ? &c.control_plane.hosts[0] : &c.members[0];
	env.read_local = tls_local;
	use_probe(&env, "@@apiserver\npod=yes\n@@stat:/etc/kubernetes/pki/apiserver-etcd-client.crt\n600 root:root\n"
		  "@@sha256:/etc/kubernetes/pki/apiserver-etcd-client.crt\n" ZERO_SHA "\n");
	plan_init(&plan);
	step_find("kubernetes")->plan(&env, &plan);
	assert_true(plan.takes_turn);
	last = &plan.actions[plan.n_actions - 1];
	assert_int_equal(last->kind, ACTION_COMMAND);
	assert_non_null(strstr(last->command, "kube-apiserver.yaml.etcdwiz-restart"));
	assert_non_null(strstr(last->command, "pgrep -x kube-apiserver"));
	plan_free(&plan);
	/* No static pod there: files only. */
	use_probe(&env, "@@apiserver\n@@stat:/etc/kubernetes/pki/apiserver-etcd-client.crt\n600 root:root\n"
		  "@@sha256:/etc/kubernetes/pki/apiserver-etcd-client.crt\n" ZERO_SHA "\n");
	plan_init(&plan);
	step_find("kubernetes")->plan(&env, &plan);
	assert_false(plan.takes_turn);
	plan_free(&plan);
	/* A restart that stopped with the manifest aside: put back first. */
	use_probe(&env, "@@apiserver\naside=yes\n");
	plan_init(&plan);
	step_find("kubernetes")->plan(&env, &plan);
	assert_int_equal(plan.actions[0].kind, ACTION_COMMAND);
	assert_string_equal(plan.actions[0].command,
			    "mv -f /etc/kubernetes/kube-apiserver.yaml.etcdwiz-restart /etc/kubernetes/manifests/kube-apiserver.yaml");
	assert_false(plan.takes_turn);	/* files new there: nothing ran on old ones */
	plan_free(&plan);
	tls_files_free();
	cluster_free(&c);
}

/* plan's text output: hosts whose lines are the same are listed once, a
 * host's own lines under its name in its order, steps in their order even
 * when a host runs ahead, the cluster's text kept in its place. */
static void test_plan_listing(void **state)
{
	struct plan_listing *l = plan_listing_new();
	struct plan p1, p2;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	const char *want =
		"\n== Certificates (certificates)\n"
		"etcd-1, etcd-2, etcd-3 certificates: install ca.crt\n"
		"    /etc/kubernetes/pki/etcd/ca.crt (mode 0644, root:root): a certificate, its PEM not shown\n"
		"etcd-1, etcd-2, etcd-3 certificates: changed\n"
		"cluster: 3 members\n"
		"\n== Manifest (manifest)\n"
		"etcd-1, etcd-2 manifest: [WARNING Version]: old\n"
		"etcd-1 manifest: write etcd.yaml\n"
		"    /etc/kubernetes/manifests/etcd.yaml (mode 0600, root:root)\n"
		"    --- /dev/null\n"
		"    +++ /etc/kubernetes/manifests/etcd.yaml\n"
		"    @@ -0,0 +1,1 @@\n"
		"    +ip: 198.51.100.11\n"
		"etcd-2 manifest: write etcd.yaml\n"
		"    /etc/kubernetes/manifests/etcd.yaml (mode 0600, root:root)\n"
		"    --- /dev/null\n"
		"    +++ /etc/kubernetes/manifests/etcd.yaml\n"
		"    @@ -0,0 +1,1 @@\n"
		"    +ip: 198.51.100.12\n"
		"etcd-1, etcd-2 manifest: changed\n"
		"etcd-3 manifest: ok\n";

	(void)state;
	plan_init(&p1);
	plan_file(&p1, "/etc/kubernetes/pki/etcd/ca.crt", "PEM", 3, 0644, "root:root", NULL, false, true,
		  "install ca.crt");
	plan_listing_step(l, "certificates", "\n== Certificates (certificates)\n");
	plan_listing_plan(l, "etcd-1", "certificates", &p1, true);
	plan_listing_add(l, "etcd-1", "certificates", "changed", NULL);
	plan_listing_text(l, "cluster: 3 members\n");
	plan_listing_step(l, "manifest", "\n== Manifest (manifest)\n");
	/* etcd-1 runs ahead into the manifest step. */
	plan_init(&p2);
	plan_finding(&p2, false, "Version", "old");
	plan_file(&p2, "/etc/kubernetes/manifests/etcd.yaml", "ip: 198.51.100.11\n", 18, 0600, "root:root", NULL,
		  false, false, "write etcd.yaml");
	plan_listing_plan(l, "etcd-1", "manifest", &p2, true);
	plan_listing_add(l, "etcd-1", "manifest", "changed", NULL);
	plan_free(&p2);
	plan_listing_plan(l, "etcd-2", "certificates", &p1, true);
	plan_listing_add(l, "etcd-2", "certificates", "changed", NULL);
	plan_listing_plan(l, "etcd-3", "certificates", &p1, true);
	plan_listing_add(l, "etcd-3", "certificates", "changed", NULL);
	plan_init(&p2);
	plan_finding(&p2, false, "Version", "old");
	plan_file(&p2, "/etc/kubernetes/manifests/etcd.yaml", "ip: 198.51.100.12\n", 18, 0600, "root:root", NULL,
		  false, false, "write etcd.yaml");
	plan_listing_plan(l, "etcd-2", "manifest", &p2, true);
	plan_listing_add(l, "etcd-2", "manifest", "changed", NULL);
	plan_free(&p2);
	plan_listing_add(l, "etcd-3", "manifest", "ok", NULL);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	plan_listing_print(l, f);
	fclose(f);
	assert_string_equal(want, text);
	free(text);
	/* Printed means forgotten: a second print is empty. */
	text = NULL;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	plan_listing_print(l, f);
	fclose(f);
	assert_string_equal("", text);
	free(text);
	plan_free(&p1);
	plan_listing_free(l);

	/* A failed host's later steps come in (skipped) before their heading:
	 * they go under it; groups name their hosts in the file's order. */
	l = plan_listing_new();
	plan_listing_order(l, "etcd-1");
	plan_listing_order(l, "etcd-2");
	plan_listing_step(l, "preflight", "== preflight\n");
	plan_listing_add(l, "etcd-2", "preflight", "unreachable: no route", NULL);
	plan_listing_add(l, "etcd-2", "swap", "skipped", NULL);
	plan_listing_add(l, "etcd-2", "manifest", "skipped", NULL);
	plan_listing_add(l, "etcd-1", "preflight", "ok", NULL);
	plan_listing_step(l, "swap", "== swap\n");
	plan_listing_add(l, "etcd-1", "swap", "ok", NULL);
	plan_listing_step(l, "manifest", "== manifest\n");
	plan_listing_add(l, "etcd-2", "manifest", "the same line", NULL);
	plan_listing_add(l, "etcd-1", "manifest", "the same line", NULL);
	text = NULL;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	plan_listing_print(l, f);
	fclose(f);
	assert_string_equal("== preflight\n"
			    "etcd-2 preflight: unreachable: no route\n"
			    "etcd-1 preflight: ok\n"
			    "== swap\n"
			    "etcd-2 swap: skipped\n"
			    "etcd-1 swap: ok\n"
			    "== manifest\n"
			    "etcd-2 manifest: skipped\n"
			    "etcd-1, etcd-2 manifest: the same line\n",
			    text);
	free(text);
	plan_listing_free(l);
}

WIZ_UNIT_TESTS(cmocka_unit_test(test_os_release),
	       cmocka_unit_test(test_packages_check_dpkg_states),
	       cmocka_unit_test(test_reads_run_and_parse),
	       cmocka_unit_test(test_probe_sections),
	       cmocka_unit_test(test_swap_fstab),
	       cmocka_unit_test(test_text_diff),
	       cmocka_unit_test(test_packages_debian12),
	       cmocka_unit_test(test_packages_debian13),
	       cmocka_unit_test(test_manifest_running_member),
	       cmocka_unit_test(test_certificates_take_turn),
	       cmocka_unit_test(test_kubernetes_apiserver_restart),
	       cmocka_unit_test(test_manifest_joins_running_cluster),
	       cmocka_unit_test(test_packages_ubuntu2404),
	       cmocka_unit_test(test_packages_rhel9),
	       cmocka_unit_test(test_packages_mirror_and_verify_only),
	       cmocka_unit_test(test_manifest),
	       cmocka_unit_test(test_manifest_golden),
	       cmocka_unit_test(test_upgrade_paths),
	       cmocka_unit_test(test_upgrade_refusal),
	       cmocka_unit_test(test_manifest_upgrade_plan),
	       cmocka_unit_test(test_manifest_flags_by_version),
	       cmocka_unit_test(test_kubeadm_config),
	       cmocka_unit_test(test_kubelet_config),
	       cmocka_unit_test(test_etcdctl_binary_upload),
	       cmocka_unit_test(test_preflight),
	       cmocka_unit_test(test_converged_is_empty),
	       cmocka_unit_test(test_kubeadm_init_only_when_asked),
	       cmocka_unit_test(test_missing_directories),
	       cmocka_unit_test(test_verify_reports),
	       cmocka_unit_test(test_declared_files_block),
	       cmocka_unit_test(test_probe_bounds),
	       cmocka_unit_test(test_pki_store_missing),
	       cmocka_unit_test(test_plan_listing))
