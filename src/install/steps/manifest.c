/* manifest: /etc/kubernetes/manifests/etcd.yaml exactly as kubeadm writes
 * it (flags sorted, probes by etcd version, volumes, priority, seccomp,
 * requests, annotation), with the full initial cluster, state "new" and the
 * cluster token. 0600 in a 0700 directory (CIS 1.1.7); the upload's temp
 * file starts with a dot, so kubelet never runs half a manifest. The data
 * directory is created 0700 (CIS 1.1.11).
 *
 * On a member whose etcd has data already, the bootstrap flags
 * (--initial-cluster, -state, -token) are what its manifest says: etcd
 * reads them only when it bootstraps, so rewriting them would only restart
 * it. A change to such a member's manifest restarts its etcd: the plan
 * says so (restarts_etcd), the engine rolls those members one at a time
 * (engine.c, "rolling"), and the plan waits on the host until kubelet runs the
 * new manifest, so the health asked afterwards is the new process's. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/shquote.h"
#include "base/xmalloc.h"
#include "install/membership.h"
#include "install/step.h"
#include "install/steps/steps.h"
#include "install/template.h"
#include "install/upgrade.h"
#include "pki/pki.h"

#define MANIFEST_DIR "/etc/kubernetes/manifests"
#define MANIFEST MANIFEST_DIR "/etcd.yaml"
#define OWNER_MARKER "/etc/kubernetes/etcdwiz-cluster"
#define PKI_ETCD "/etc/kubernetes/pki/etcd"

struct flag {
	char *name;
	char *value;
};

static int flag_cmp(const void *a, const void *b)
{
	return strcmp(((const struct flag *)a)->name, ((const struct flag *)b)->name);
}

static void flag_set(struct flag **flags, size_t *n, const char *name, const char *value)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*flags)[i].name, name) == 0) {
			free((*flags)[i].value);
			(*flags)[i].value = xstrdup(value);
			return;
		}
	}
	*flags = xreallocarray(*flags, *n + 1, sizeof **flags);
	(*flags)[*n].name = xstrdup(name);
	(*flags)[*n].value = xstrdup(value);
	(*n)++;
}

static void flag_drop(struct flag *flags, size_t *n, size_t i)
{
	free(flags[i].name);
	free(flags[i].value);
	memmove(&flags[i], &flags[i + 1], (*n - i - 1) * sizeof *flags);
	(*n)--;
}

/* etcd.extraArgs as the version needs them (docs/operations.md, "Flags by
 * version"). 3.5 removed the capnslog logger and its flags. 3.6 removed
 * the v2 and proxy flags, renamed --experimental-X to --X, and made the
 * boolean experimental flags feature gates; the old names still start a
 * 3.6 but go in 3.7, so an upgrade rewrites them. */
static const char *const renamed_in_3_6[] = {
	"compaction-batch-limit", "compact-hash-check-time", "corrupt-check-time",
	"watch-progress-notify-interval", "warning-apply-duration", "snapshot-catchup-entries",
	"bootstrap-defrag-threshold-megabytes", "memory-mlock", "downgrade-check-time",
	"distributed-tracing-address", "distributed-tracing-instance-id",
	"distributed-tracing-sampling-rate", "distributed-tracing-service-name",
	"enable-distributed-tracing", "max-learners", "peer-skip-client-san-verification", NULL,
};
static const struct { const char *flag, *gate; } gates_in_3_6[] = {
	{ "initial-corrupt-check", "InitialCorruptCheck" },
	{ "compact-hash-check-enabled", "CompactHashCheck" },
	{ "enable-lease-checkpoint", "LeaseCheckpoint" },
	{ "enable-lease-checkpoint-persist", "LeaseCheckpointPersist" },
	{ "stop-grpc-service-on-defrag", "StopGRPCServiceOnDefrag" },
	{ "txn-mode-write-with-shared-buffer", "TxnModeWriteWithSharedBuffer" },
	{ NULL, NULL },
};
static const char *const removed_in_3_5[] = { "log-output", "log-package-levels", NULL };
static const char *const removed_in_3_6[] = { "enable-v2", "experimental-enable-v2v3", NULL };

static bool in_names(const char *const *names, const char *name)
{
	for (size_t i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

static void feature_gate_add(struct flag **flags, size_t *n, const char *gate, const char *value)
{
	const char *v = strcmp(value, "false") == 0 ? "false" : "true";

	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*flags)[i].name, "feature-gates") == 0) {
			char *joined;

			if (strstr((*flags)[i].value, gate) != NULL)
				return;	/* set there already: that one wins */
			joined = xasprintf("%s,%s=%s", (*flags)[i].value, gate, v);
			free((*flags)[i].value);
			(*flags)[i].value = joined;
			return;
		}
	}
	{
		char *one = xasprintf("%s=%s", gate, v);

		flag_set(flags, n, "feature-gates", one);
		free(one);
	}
}

static void manifest_flags_for_version(struct flag **flags, size_t *n, const char *ver)
{
	bool v35 = version_at_least(ver, 3, 5, 0), v36 = version_at_least(ver, 3, 6, 0);

	for (size_t i = 0; i < *n;) {
		const char *name = (*flags)[i].name;
		const char *rest = strncmp(name, "experimental-", 13) == 0 ? name + 13 : NULL;

		if ((v35 && (in_names(removed_in_3_5, name) ||
			     (strcmp(name, "logger") == 0 && strcmp((*flags)[i].value, "capnslog") == 0))) ||
		    (v36 && (in_names(removed_in_3_6, name) || strncmp(name, "proxy", 5) == 0))) {
			flag_drop(*flags, n, i);
			continue;
		}
		if (v35 && strcmp(name, "debug") == 0) {
			bool on = strcmp((*flags)[i].value, "false") != 0;

			flag_drop(*flags, n, i);
			if (on)
				flag_set(flags, n, "log-level", "debug");
			continue;
		}
		if (v36 && rest != NULL) {
			char *value = xstrdup((*flags)[i].value);
			const char *gate = NULL;

			for (size_t g = 0; gates_in_3_6[g].flag; g++)
				if (strcmp(gates_in_3_6[g].flag, rest) == 0)
					gate = gates_in_3_6[g].gate;
			if (gate != NULL || in_names(renamed_in_3_6, rest)) {
				char *to = xstrdup(rest);

				flag_drop(*flags, n, i);
				if (gate != NULL)
					feature_gate_add(flags, n, gate, value);
				else
					flag_set(flags, n, to, value);
				free(to);
				free(value);
				continue;
			}
			free(value);
		}
		i++;
	}
}

bool manifest_image_version(const char *yaml, char *buf, size_t n)
{
	const char *p = yaml ? strstr(yaml, "\n    image: ") : NULL;
	const char *tag, *end;

	if (p == NULL || n == 0)
		return false;
	p += strlen("\n    image: ");
	end = p + strcspn(p, "\r\n");
	tag = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == ':')
			tag = q + 1;
	if (tag == NULL)
		return false;
	snprintf(buf, n, "%.*s", (int)strcspn(tag, "-\"\r\n"), tag);
	return buf[0] != '\0';
}

/* The value of "    - --NAME=VALUE" in a manifest's command, or NULL. */
static char *manifest_flag(const char *yaml, const char *name)
{
	char *needle = xasprintf("- --%s=", name);
	const char *p = yaml;
	char *found = NULL;

	while (p != NULL && (p = strstr(p, needle)) != NULL) {
		const char *line = p;

		while (line > yaml && line[-1] == ' ')
			line--;
		if (line == yaml || line[-1] == '\n') {
			const char *v = p + strlen(needle);

			found = xstrndup(v, strcspn(v, "\r\n"));
			break;
		}
		p += strlen(needle);
	}
	free(needle);
	return found;
}

/* Render the manifest for one member; NULL and err on failure. existing:
 * the member's manifest when its etcd has data (its bootstrap flags are
 * kept), else NULL. join: the --initial-cluster of a member joining a
 * running cluster (state "existing"), else NULL. */
char *manifest_render(const struct cluster *c, const struct host *h, const char *token,
		      const char *existing, const char *join, struct wiz_error *err)
{
	return manifest_render_trusted(c, h, token, existing, join, NULL, err);
}

char *manifest_render_trusted(const struct cluster *c, const struct host *h, const char *token,
			      const char *existing, const char *join, const char *trusted_ca,
			      struct wiz_error *err)
{
	static const char *const bootstrap[] = { "initial-cluster", "initial-cluster-state",
						 "initial-cluster-token", NULL };
	struct template_vars v;
	struct flag *flags = NULL;
	size_t n = 0;
	char *client = url_for("https", h->address, 2379);
	char *peer = url_for("https", h->address, 2380);
	bool v6 = strchr(h->address, ':') != NULL;
	char *local = url_for("https", v6 ? "::1" : "127.0.0.1", 2379);
	char *listen_client = xasprintf("%s,%s", local, client);
	char *initial = xstrdup("");
	char *image = cluster_etcd_image(c);
	const char *ver = c->etcd.version;
	char *out = NULL;

	for (size_t i = 0; i < c->n_members; i++) {
		char *u = url_for("https", c->members[i].address, 2380);
		char *next = xasprintf("%s%s%s=%s", initial, i ? "," : "", c->members[i].name, u);

		free(initial);
		free(u);
		initial = next;
	}
	flag_set(&flags, &n, "advertise-client-urls", client);
	flag_set(&flags, &n, "cert-file", PKI_ETCD "/server.crt");
	flag_set(&flags, &n, "client-cert-auth", "true");
	flag_set(&flags, &n, "data-dir", c->etcd.data_dir);
	if (version_at_least(ver, 3, 6, 0)) {
		flag_set(&flags, &n, "feature-gates", "InitialCorruptCheck=true");
		flag_set(&flags, &n, "watch-progress-notify-interval", "5s");
	} else {
		flag_set(&flags, &n, "experimental-initial-corrupt-check", "true");
		flag_set(&flags, &n, "experimental-watch-progress-notify-interval", "5s");
	}
	flag_set(&flags, &n, "initial-advertise-peer-urls", peer);
	flag_set(&flags, &n, "initial-cluster", join ? join : initial);
	flag_set(&flags, &n, "initial-cluster-state", join ? "existing" : "new");
	flag_set(&flags, &n, "initial-cluster-token", token);
	flag_set(&flags, &n, "key-file", PKI_ETCD "/server.key");
	flag_set(&flags, &n, "listen-client-urls", listen_client);
	flag_set(&flags, &n, "listen-metrics-urls",
		 v6 ? "http://[::1]:2381" : "http://127.0.0.1:2381");
	flag_set(&flags, &n, "listen-peer-urls", peer);
	flag_set(&flags, &n, "name", h->name);
	flag_set(&flags, &n, "peer-cert-file", PKI_ETCD "/peer.crt");
	flag_set(&flags, &n, "peer-client-cert-auth", "true");
	flag_set(&flags, &n, "peer-key-file", PKI_ETCD "/peer.key");
	flag_set(&flags, &n, "peer-trusted-ca-file", PKI_ETCD "/ca.crt");
	flag_set(&flags, &n, "snapshot-count", "10000");
	flag_set(&flags, &n, "trusted-ca-file", PKI_ETCD "/ca.crt");
	for (size_t i = 0; i < c->etcd.extra_args.n; i++)
		flag_set(&flags, &n, c->etcd.extra_args.items[i].key, c->etcd.extra_args.items[i].value);
	manifest_flags_for_version(&flags, &n, ver);
	for (size_t i = 0; existing != NULL && bootstrap[i]; i++) {
		char *kept = manifest_flag(existing, bootstrap[i]);

		if (kept != NULL)
			flag_set(&flags, &n, bootstrap[i], kept);
		free(kept);
	}
	qsort(flags, n, sizeof *flags, flag_cmp);

	template_vars_init(&v);
	for (size_t i = 0; i < n; i++) {
		char *arg = xasprintf("--%s=%s", flags[i].name, flags[i].value);

		template_list_add(&v, "etcd_args", arg);
		free(arg);
	}
	template_set(&v, "advertise_client_url", client);
	template_set(&v, "trusted_ca", trusted_ca ? trusted_ca : "");
	template_set(&v, "image", image);
	template_set(&v, "probe_host", v6 ? "::1" : "127.0.0.1");
	/* kubeadm >= 1.31 with etcd >= 3.5.11 (3.4.29 on 3.4): /livez and /readyz
	 * and a readiness probe; etcd >= 3.5.3: /health with serializable reads;
	 * older: plain /health. */
	if (version_at_least(ver, 3, 5, 11) || (version_at_least(ver, 3, 4, 29) && !version_at_least(ver, 3, 5, 0))) {
		template_set(&v, "liveness_path", "/livez");
		template_set(&v, "readiness_path", "/readyz");
		template_set(&v, "startup_path", "/readyz");
		template_set(&v, "readiness", "yes");
	} else if (version_at_least(ver, 3, 5, 3)) {
		template_set(&v, "liveness_path", "/health?exclude=NOSPACE&serializable=true");
		template_set(&v, "startup_path", "/health?serializable=false");
		template_set(&v, "readiness_path", "");
		template_set(&v, "readiness", "");
	} else {
		template_set(&v, "liveness_path", "/health");
		template_set(&v, "startup_path", "/health");
		template_set(&v, "readiness_path", "");
		template_set(&v, "readiness", "");
	}
	template_set(&v, "data_dir", c->etcd.data_dir);
	template_set(&v, "pki_etcd_dir", PKI_ETCD);
	template_render_yaml("etcd.yaml", &v, &out, err);

	template_vars_free(&v);
	for (size_t i = 0; i < n; i++) {
		free(flags[i].name);
		free(flags[i].value);
	}
	free(flags);
	free(client);
	free(peer);
	free(local);
	free(listen_client);
	free(initial);
	free(image);
	return out;
}

static void manifest_reads(const struct step_env *env, struct probe_request *out)
{
	struct probe_item *dirs = probe_read_item(out, PROBE_MODES, "dirs", NULL);

	probe_read_file(out, MANIFEST, false);
	probe_read_file(out, OWNER_MARKER, false);
	probe_item_arg(dirs, MANIFEST_DIR);
	probe_item_arg(dirs, env->cluster->etcd.data_dir);
	/* Has this member's etcd data (it bootstrapped)? */
	probe_item_arg(probe_read_item(out, PROBE_SHELL, "etcd", "test -d \"$1/member\" && echo data=yes"),
		       env->cluster->etcd.data_dir);
}

/* After the new manifest is written: wait on the host (bounded) until
 * kubelet runs etcd again from a process started after the write, so that
 * the member's health is asked of the new etcd, not of the old one that
 * kubelet has not stopped yet. */
const char manifest_restart_wait[] =
	"m=$(stat -c %Y " MANIFEST ") i=0\n"
	"while [ $i -lt 180 ]; do\n"
	"  p=$(pgrep -xo etcd) && e=$(ps -o etimes= -p \"$p\") &&\n"
	"    [ $(($(date +%s) - e)) -ge \"$m\" ] && exit 0\n"
	"  sleep 0.5; i=$((i + 1))\n"
	"done\n"
	"echo \"kubelet did not start etcd from the new manifest within 90 s\" >&2; exit 1";

/* What the running cluster (env->live) says of this member: false when it
 * must not be written (a finding says why); *join is the initial cluster
 * when it joins. A member added as a learner but not promoted is joined
 * again (a run killed after MemberAdd), with its data or without. */
static bool join_decide(const struct step_env *env, bool has_data, bool has_manifest,
			struct plan *plan, char **join)
{
	const struct cluster *c = env->cluster;
	const struct live_member *lm = NULL;
	enum member_change ch = membership_change(c, env->live, env->member_index, &lm);
	const char *dir = c->etcd.data_dir;

	*join = NULL;
	switch (ch) {
	case MEMBER_BOOTSTRAP:
		/* Nobody answered, but not everyone was asked: a member
		 * without data must not start a second cluster beside one
		 * that runs on the members left out. */
		if (!has_data && env->live != NULL && env->live->unasked[0]) {
			plan_finding(plan, true, "Membership",
				     _("cannot tell whether cluster %s runs: no member asked answered, and %s were not asked (--limit); %s has no etcd data and must not start a cluster of its own: run with the running members in --limit (or without it)"),
				     c->name, env->live->unasked, env->host->name);
			return false;
		}
		return true;
	case MEMBER_KEEP:
		/* Its host lost its etcd (rebuilt, or killed before its data
		 * reached the disk): it starts empty under its own id, with
		 * the bootstrap flags, and the leader sends it the data. */
		if (!has_data && !has_manifest && lm->name[0])
			plan_finding(plan, false, "Membership",
				     _("%s is a started voting member of the running cluster, but its host has no etcd data in %s and no manifest: it starts empty under its own id and catches up from the leader; if it does not, replace it (docs/operations.md, \"Replacing a member\")"),
				     env->host->name, dir);
		return true;
	case MEMBER_ADD:
	case MEMBER_REPLACE:	/* the old entry is removed first (engine-remove.c) */
		if (has_data) {
			plan_finding(plan, true, "Membership",
				     _("%s has etcd data in %s, but the running cluster does not list it: it was removed or belongs to another cluster; move that directory aside on the host (it is never deleted for you), then apply again to join it"),
				     env->host->name, dir);
			return false;
		}
		break;
	case MEMBER_PROMOTE:
		break;
	}
	plan->joins_cluster = true;
	if (!has_data)
		*join = membership_initial_cluster(c, env->live, env->member_index);
	if (ch == MEMBER_REPLACE)
		plan_note(plan, _("%s replaces the member of that name at %s: that one is removed first, then %s joins as a learner and is promoted once it has caught up"),
			  env->host->name, lm->peer_url, env->host->name);
	else if (ch == MEMBER_ADD)
		plan_note(plan, _("%s joins the running cluster: added as a learner, started with --initial-cluster-state=existing, promoted to a voting member once it has caught up; one member at a time"),
			  env->host->name);
	else
		plan_note(plan, _("%s was added to the cluster as a learner already: it is started if needed and promoted once it has caught up"),
			  env->host->name);
	return true;
}

/* A running member on another etcd version than the file's: an upgrade
 * (or a patch downgrade). Refused, as a finding, unless etcd's path
 * allows it and the whole cluster is fit for it (upgrade.h). */
static bool upgrade_decide(const struct step_env *env, struct plan *plan)
{
	const struct cluster *c = env->cluster;
	const char *from = upgrade_member_version(c, env->live, env->member_index);
	const char *to = c->etcd.version[0] == 'v' ? c->etcd.version + 1 : c->etcd.version;
	char *why = NULL;
	enum upgrade_kind kind;

	if (!env->is_member)
		return true;
	/* Its own version unknown while others change: refused too (its
	 * path cannot be checked). */
	if (!from[0] && env->live != NULL && env->live->running &&
	    membership_change(c, env->live, env->member_index, NULL) == MEMBER_KEEP &&
	    upgrade_pending(c, env->live)) {
		why = upgrade_refusal(c, env->live, env->allow_downgrade);
		plan_finding(plan, true, "Upgrade", _("%s: nothing is changed: %s"), env->host->name,
			     why ? why : _("its etcd version is not known"));
		free(why);
		return false;
	}
	if (!from[0] || strcmp(from, to) == 0)
		return true;
	kind = upgrade_path(from, to, env->allow_downgrade, &why);
	if (why == NULL)
		why = upgrade_refusal(c, env->live, env->allow_downgrade);
	if (why != NULL) {
		plan_finding(plan, true, "Upgrade", _("%s: nothing is changed: %s"), env->host->name, why);
		free(why);
		return false;
	}
	plan_note(plan, kind == UPGRADE_DOWNGRADE ? _("%s goes back from etcd %s to %s (a patch downgrade)")
						    : _("%s is upgraded from etcd %s to %s"),
		  env->host->name, from, to);
	return true;
}

/* The trust annotation: only once a CA rotation made the member's
 * etcd/ca.crt a bundle, and kept from then on (phase 3 goes back to one
 * CA and must restart too); a cluster that never rotated has none, so
 * its manifests stay as they were. */
static const char *trusted_ca_of(const struct step_env *env, const struct remote_file *have,
				 char id[17])
{
	size_t len = 0, n = 0;
	char *pem = env->read_local ? env->read_local(env, "etcd/ca.crt", &len) : NULL;

	id[0] = '\0';
	if (pem != NULL)
		pki_trust_id(pem, len, id, &n);
	free(pem);
	if (n < 2 && !(have->exists && have->content && strstr(have->content, "etcdwiz.io/trusted-ca") != NULL))
		id[0] = '\0';
	return id;
}

static void manifest_plan(const struct step_env *env, struct plan *plan)
{
	struct wiz_error err;
	struct remote_file have, owner;
	const char *data_yes = probe_value(env->probe, "etcd", "data");
	bool has_data = data_yes != NULL && strcmp(data_yes, "yes") == 0;
	char *yaml = NULL, *join = NULL;
	enum member_change in_cluster;
	bool keep;
	const char *dirs = probe_value(env->probe, "dirs", MANIFEST_DIR);
	/* Its mode only: etcd may run as another owner. */
	const char *data = probe_value(env->probe, "dirs", env->cluster->etcd.data_dir);
	char *marker = xasprintf("%s\n", env->cluster->name);
	char trusted_buf[17];
	const char *trusted;

	probe_file(env->probe, MANIFEST, &have);
	probe_file(env->probe, OWNER_MARKER, &owner);
	if (!join_decide(env, has_data, have.exists, plan, &join))
		goto out;
	if (!upgrade_decide(env, plan))
		goto out;
	/* A member of the running cluster keeps the bootstrap flags its
	 * manifest has, even before its etcd wrote data (just joined). */
	in_cluster = membership_change(env->cluster, env->live, env->member_index, NULL);
	keep = have.exists && (has_data || in_cluster == MEMBER_KEEP || in_cluster == MEMBER_PROMOTE);
	trusted = trusted_ca_of(env, &have, trusted_buf);
	yaml = manifest_render_trusted(env->cluster, env->host, env->cluster_token,
				       keep ? have.content : NULL, keep ? NULL : join,
				       trusted[0] ? trusted : NULL, &err);
	if (yaml == NULL) {
		plan_finding(plan, true, "Manifest", "%s", err.msg);
		goto out;
	}
	if (dirs == NULL || strcmp(dirs, "700 root:root") != 0)
		plan_directory(plan, MANIFEST_DIR, dir_mode_for(MANIFEST_DIR));
	if (data == NULL || strncmp(data, "700 ", 4) != 0) {
		char *q = sh_quote(env->cluster->etcd.data_dir);
		char *cmd = xasprintf("install -d -m 0700 %s && chmod 0700 %s", q, q);

		plan_command(plan, cmd, _("create the etcd data directory (0700)"));
		free(cmd);
		free(q);
	}
	plan_ensure_file(plan, &owner, OWNER_MARKER, marker, strlen(marker), 0644, "root:root",
			 false, _("record which cluster owns this etcd"));
	{
		size_t before = plan->n_actions;

		plan_ensure_file(plan, &have, MANIFEST, yaml, strlen(yaml), 0600, "root:root", false,
				 _("write the etcd static pod manifest"));
		/* New content on a member with data: kubelet restarts its etcd
		 * (whether it runs at this moment or is between two restarts).
		 * A mode or owner fix alone restarts nothing. */
		if (plan->n_actions > before && has_data && have.exists &&
		    (have.content == NULL || strcmp(have.content, yaml) != 0)) {
			plan->restarts_etcd = true;
			plan->restart_file = before + 1;
			plan_command(plan, manifest_restart_wait,
				     _("wait until kubelet runs etcd from the new manifest (at most 90 s)"));
			plan->restart_wait = plan->n_actions;
			plan_note(plan, _("this restarts a running etcd member: applied one member at a time, followers first, the leader last, each healthy again before the next"));
		}
	}
out:
	free(yaml);
	free(join);
	free(marker);
	remote_file_free(&have);
	remote_file_free(&owner);
}

const struct step step_manifest = {
	.name = "manifest",
	.title = N_("etcd static pod"),
	.hosts = STEP_MEMBERS,
	.reads = manifest_reads,
	.plan = manifest_plan,
	.reads_cluster = true,
};
