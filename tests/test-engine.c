/* The engine's sequencing against a fake transport: each "host" is a
 * directory here, and the scripts the engine sends (batched checks,
 * bundles) really run in /bin/sh against it, so the counts are of the
 * real protocol: one exec for all checks, one per step that changes, one
 * for a barrier's own check. Steps are the test's own (file, command,
 * secret file, barrier), not the install's. */
#include "config.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/loop.h"
#include "base/shquote.h"
#include "base/fsutil.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "install/bundle.h"
#include "install/engine.h"
#include "install/fleet.h"
#include "install/membership.h"
#include "install/probe.h"
#include "unit.h"

#define N_HOSTS 3

static char root[256];		/* hosts live in root/<name>/ */
static struct cluster cluster;
static char owner[128];		/* user:group as stat prints it */
static size_t gate_seen[N_HOSTS];	/* markers the barrier's check saw */
static bool gate_ran[N_HOSTS];

static char *host_path(const struct step_env *env, const char *rel)
{
	return xasprintf("%s/%s/%s", root, env->host->name, rel);
}

/* ---- the test's steps ---- */

/* The file and secret steps declare files (the engine reads them in one
 * block); the others declare named items. */

static void file_reads(const struct step_env *env, struct probe_request *out)
{
	char *p = host_path(env, "etc/app.conf");

	probe_read_file(out, p, false);
	free(p);
}

static void file_plan(const struct step_env *env, struct plan *plan)
{
	char *p = host_path(env, "etc/app.conf");
	char *text = xasprintf("name=%s\n", env->host->name);
	struct remote_file have;

	probe_file(env->probe, p, &have);
	plan_ensure_file(plan, &have, p, text, strlen(text), 0644, owner, false, "write app.conf");
	remote_file_free(&have);
	free(text);
	free(p);
}

static void cmd_reads(const struct step_env *env, struct probe_request *out)
{
	char *p = host_path(env, "marker");

	probe_item_arg(probe_read_item(out, PROBE_SHELL, "marker", "cat \"$1\" 2>/dev/null"), p);
	free(p);
}

static void cmd_plan(const struct step_env *env, struct plan *plan)
{
	const char *marker = probe_section(env->probe, "marker");

	if (marker == NULL || strstr(marker, "done") == NULL) {
		char *p = host_path(env, "marker"), *q = sh_quote(p);
		/* A host named in fail_host fails here. */
		const char *fail = getenv("TEST_ENGINE_FAIL_HOST");
		const char *status = getenv("TEST_ENGINE_FAIL_STATUS");
		char *cmd = fail && strcmp(fail, env->host->name) == 0
				    ? xasprintf("echo 'disk full' >&2; exit %s", status ? status : "7")
				    : xasprintf("echo done > %s", q);

		plan_command(plan, cmd, "make the marker");
		free(cmd);
		free(q);
		free(p);
	}
}


static void secret_reads(const struct step_env *env, struct probe_request *out)
{
	char *p = host_path(env, "etc/key.pem");

	probe_read_file(out, p, true);
	free(p);
}

static void secret_plan(const struct step_env *env, struct plan *plan)
{
	char *p = host_path(env, "etc/key.pem");
	static const char key[] = "-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----\n";
	struct remote_file have;

	probe_file(env->probe, p, &have);
	plan_ensure_file(plan, &have, p, key, strlen(key), 0600, owner, true, "install the key");
	remote_file_free(&have);
	free(p);
}

static void gate_reads(const struct step_env *env, struct probe_request *out)
{
	(void)env;
	probe_item_arg(probe_read_item(out, PROBE_SHELL, "seen",
				       "cat \"$1\"/*/marker 2>/dev/null | grep -c done"), root);
}

static void gate_plan(const struct step_env *env, struct plan *plan)
{
	const char *seen = probe_section(env->probe, "seen");

	(void)plan;
	if (env->applying) {
		gate_ran[env->member_index] = true;
		gate_seen[env->member_index] = seen ? strtoul(seen, NULL, 10) : 0;
	}
}

static const struct step s_file = { .name = "file", .title = "file", .hosts = STEP_MEMBERS,
				    .reads = file_reads, .plan = file_plan };
static const struct step s_cmd = { .name = "cmd", .title = "cmd", .hosts = STEP_MEMBERS,
				   .reads = cmd_reads, .plan = cmd_plan };
static const struct step s_secret = { .name = "secret", .title = "secret", .hosts = STEP_MEMBERS,
				      .reads = secret_reads, .plan = secret_plan };
static const struct step s_gate = { .name = "gate", .title = "gate", .hosts = STEP_MEMBERS,
				    .reads = gate_reads, .plan = gate_plan, .barrier = true };
static const struct step *const test_steps[] = { &s_file, &s_cmd, &s_secret, &s_gate, NULL };

/* A step that asks etcd, as verify does: its plan reads env->etcd and its
 * shell check is the fallback for a member that is not healthy. */
static struct etcd_member_view ask_seen[N_HOSTS];
static bool ask_planned[N_HOSTS];
static bool ask_had_probe_log[N_HOSTS];

static void ask_reads(const struct step_env *env, struct probe_request *out)
{
	probe_item_arg(probe_read_item(out, PROBE_SHELL, "podlog", "echo \"log of $1\""),
		       env->host->name);
}

static void ask_plan(const struct step_env *env, struct plan *plan)
{
	const char *log = probe_section(env->probe, "podlog");
	size_t i = env->member_index;

	ask_planned[i] = true;
	ask_had_probe_log[i] = log != NULL && strstr(log, "log of host") != NULL;
	if (env->etcd != NULL)
		ask_seen[i] = *env->etcd;
	if (env->etcd == NULL || !env->etcd->healthy)
		plan_finding(plan, env->applying, "Health", "etcd on %s: %s", env->host->name,
			     env->etcd ? env->etcd->detail : "not asked");
}

static const struct step s_ask = { .name = "ask", .title = "ask", .hosts = STEP_MEMBERS,
				   .reads = ask_reads, .plan = ask_plan, .barrier = true,
				   .health_gate = true, .asks_etcd = true };
static const struct step *const ask_steps[] = { &s_file, &s_ask, NULL };
/* A step whose change restarts a running etcd (as the manifest's does on a
 * member with data): etc/etcd.yaml present means "running". */
static void roll_reads(const struct step_env *env, struct probe_request *out)
{
	char *p = host_path(env, "etc/etcd.yaml");

	probe_read_file(out, p, false);
	free(p);
}

static char roll_want[32] = "v2";
/* The roll's file is the one a failed restart goes back to; with
 * roll_wait, a wait after it, failing on host2 (etcd never started). */
static bool roll_back, roll_wait_fails;

static void roll_plan(const struct step_env *env, struct plan *plan)
{
	char *p = host_path(env, "etc/etcd.yaml");
	char *text = xasprintf("%s %s\n", env->host->name, roll_want);
	struct remote_file have;
	size_t before = plan->n_actions;

	probe_file(env->probe, p, &have);
	plan_ensure_file(plan, &have, p, text, strlen(text), 0644, owner, false, "write etcd.yaml");
	plan->restarts_etcd = plan->n_actions > before && have.exists;
	if (plan->restarts_etcd && roll_back) {
		plan->restart_file = before + 1;
		plan_command(plan, roll_wait_fails && strcmp(env->host->name, "host2") == 0
				   ? "grep -qs v1 \"$1\" || { echo 'etcd did not start' >&2; exit 1; }" : "true",
			     "wait for the new etcd");
		plan->restart_wait = plan->n_actions;
	}
	remote_file_free(&have);
	free(text);
	free(p);
}

static const struct step s_roll = { .name = "roll", .title = "roll", .hosts = STEP_MEMBERS,
				    .reads = roll_reads, .plan = roll_plan, .reads_cluster = true };
static const struct step *const roll_steps[] = { &s_file, &s_roll, NULL };

/* New certificates on running members (as the certificates step): they
 * take turns and must be served afterwards (the fake serves what the
 * bundle wrote, unless told to keep the old one). */
static char cert_want[32] = "s1";

static void cert_reads(const struct step_env *env, struct probe_request *out)
{
	char *p = host_path(env, "etc/tls.crt");

	probe_read_file(out, p, false);
	free(p);
}

static void cert_plan(const struct step_env *env, struct plan *plan)
{
	char *p = host_path(env, "etc/tls.crt");
	char *text = xasprintf("%s\n", cert_want);
	struct remote_file have;
	size_t before = plan->n_actions;

	probe_file(env->probe, p, &have);
	plan_ensure_file(plan, &have, p, text, strlen(text), 0644, owner, false, "install tls.crt");
	if (plan->n_actions > before && have.exists) {
		plan->takes_turn = true;
		snprintf(plan->served_serial[0], sizeof plan->served_serial[0], "%s", cert_want);
		snprintf(plan->served_serial[1], sizeof plan->served_serial[1], "%s", cert_want);
	}
	remote_file_free(&have);
	free(text);
	free(p);
}

static const struct step s_cert = { .name = "cert", .title = "cert", .hosts = STEP_MEMBERS,
				    .reads = cert_reads, .plan = cert_plan };
static const struct step *const cert_steps[] = { &s_file, &s_cert, NULL };

/* A step that reads the cluster, as the manifest does: a member the live
 * cluster lacks writes etc/etcd.yaml with the initial cluster it joins. */
static void join_plan(const struct step_env *env, struct plan *plan)
{
	char *p = host_path(env, "etc/etcd.yaml");
	enum member_change ch = membership_change(env->cluster, env->live, env->member_index, NULL);
	char *initial = membership_initial_cluster(env->cluster, env->live, env->member_index);
	char *text = ch == MEMBER_ADD || ch == MEMBER_PROMOTE ? xasprintf("existing %s\n", initial)
		     : ch == MEMBER_BOOTSTRAP ? xasprintf("new\n") : NULL;
	struct remote_file have;

	probe_file(env->probe, p, &have);
	if (text != NULL && !have.exists)
		plan_ensure_file(plan, &have, p, text, strlen(text), 0644, owner, false, "write etcd.yaml");
	plan->joins_cluster = ch == MEMBER_ADD || ch == MEMBER_PROMOTE;
	remote_file_free(&have);
	free(initial);
	free(text);
	free(p);
}

static const struct step s_join = { .name = "join", .title = "join", .hosts = STEP_MEMBERS,
				    .reads = roll_reads, .plan = join_plan, .reads_cluster = true };
static const struct step *const join_steps[] = { &s_file, &s_join, NULL };
static const struct step *const *steps_in_use = test_steps;
static unsigned health_timeout_s;

/* ---- the fake transport ---- */

struct fake_reply {
	struct fake *f;
	struct loop_timer *t;
	ssh_done_fn cb;
	transport_connect_fn ccb;
	etcd_ask_fn acb;
	etcd_call_fn ccall;
	etcd_served_fn scb;
	struct etcd_served_cert served;
	int status;
	char *body;
	struct etcd_member_view view;
	void *ud;
	size_t host;
	struct ssh_result r;
	struct fake_reply *next;
};

struct fake {
	struct loop *loop;
	/* What each member serves (cert steps); a stale one keeps it. */
	char serving[N_HOSTS][32];
	bool serving_stale[N_HOSTS];
	bool down[N_HOSTS];
	unsigned execs[N_HOSTS];
	unsigned connects[N_HOSTS];
	/* Run before a bundle on that host (an admin editing a file). */
	const char *before_bundle[N_HOSTS];
	/* The next exec finds the connection gone (it died while idle). */
	bool drop_next_exec[N_HOSTS];
	/* The connection goes while the next bundle runs: it ran, the answer
	 * is lost. */
	bool drop_during_bundle[N_HOSTS];
	bool lost[N_HOSTS];
	/* Asking etcd: the member answers unhealthy this many times first
	 * (~0u: never healthy); ask_gone: the session fails instead. */
	unsigned unhealthy_for[N_HOSTS];
	/* Set as unhealthy_for once its bundle runs (its etcd restarted and
	 * does not come up); the rollback commands run on each host. */
	unsigned unhealthy_after_bundle[N_HOSTS];
	unsigned rollbacks[N_HOSTS];
	bool ask_gone[N_HOSTS];
	bool ask_gone_once[N_HOSTS];	/* the next ask finds the session gone */
	unsigned asks[N_HOSTS];
	unsigned execs_at_first_ask[N_HOSTS];
	unsigned cancels;
	struct fake_reply *pending;
	/* Every bundle and ask in order ("b2" bundle on host2, "a1" ask of
	 * host1), and how many asks each host had when its bundle ran. */
	char events[512];
	unsigned asks_at_bundle[N_HOSTS];
	/* A fake etcd cluster (fake_call_etcd), when `cluster` is set: who is
	 * a member (in_cluster), a learner, started; the next ids; promote
	 * refused "not in sync" this many times first (~0u: always). */
	bool cluster;
	bool in_cluster[N_HOSTS], learner[N_HOSTS], started[N_HOSTS];
	uint64_t id[N_HOSTS];
	unsigned not_in_sync_for;
	unsigned adds, promotes, removes, moves;
	size_t leader;
	bool raft_behind[N_HOSTS];	/* its raft index lags the others' */
	bool extra_member;	/* etcd lists one more member (added behind our back) */
	bool extra_on_add;	/* ... from the next MemberAdd on */
};

static void reply_fire(struct loop_timer *t, void *ud)
{
	struct fake_reply *rep = ud;
	struct fake *f = rep->f;

	for (struct fake_reply **pp = &f->pending; *pp; pp = &(*pp)->next)
		if (*pp == rep) {
			*pp = rep->next;
			break;
		}
	loop_timer_del(t);
	if (rep->cb)
		rep->cb(NULL, &rep->r, rep->ud);
	else if (rep->acb)
		rep->acb(rep->r.code, &rep->view, rep->r.err.msg, rep->ud);
	else if (rep->scb)
		rep->scb(rep->r.code, &rep->served, rep->r.err.msg, rep->ud);
	else if (rep->ccall)
		rep->ccall(rep->r.code, rep->status, rep->body, rep->body ? strlen(rep->body) : 0,
			   rep->r.err.msg, rep->ud);
	else if (rep->ccb)
		rep->ccb(rep->ud, rep->r.code, rep->r.code == WIZ_ERR_OK ? NULL : rep->r.err.msg);
	free(rep->body);
	ssh_result_free(&rep->r);
	free(rep);
}

static struct fake_reply *reply_later(struct fake *f, size_t host, void *ud)
{
	struct fake_reply *rep = xcalloc(1, sizeof *rep);

	rep->f = f;
	rep->host = host;
	rep->ud = ud;
	rep->t = loop_timer_add(f->loop, reply_fire, rep);
	rep->next = f->pending;
	f->pending = rep;
	loop_timer_arm_in(rep->t, 0);
	return rep;
}

static void fake_connect(void *self, size_t i, transport_connect_fn cb, void *ud)
{
	struct fake *f = self;
	struct fake_reply *rep = reply_later(f, i, ud);

	f->connects[i]++;
	f->lost[i] = false;
	rep->ccb = cb;
	if (f->down[i]) {
		rep->r.code = WIZ_ERR_UNREACHABLE;
		snprintf(rep->r.err.msg, sizeof rep->r.err.msg, "connection refused");
	}
}

static void fake_forget(void *self, size_t i, void *ud)
{
	struct fake *f = self;

	for (struct fake_reply *r = f->pending; r; r = r->next)
		if (r->host == i && r->ud == ud && r->ccb)
			r->ccb = NULL, r->cb = NULL;
}

/* Reads fd to the end into a NUL-terminated buffer. */
static char *slurp(int fd, size_t *len)
{
	size_t n = 0, cap = 4096;
	char *buf = xmalloc(cap);
	ssize_t got;

	while ((got = read(fd, buf + n, cap - n - 1)) > 0) {
		n += (size_t)got;
		if (cap - n < 2)
			buf = xreallocarray(buf, cap *= 2, 1);
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void run_sh(const char *cmd, const void *in, size_t in_len, struct ssh_result *r)
{
	char inpath[] = "/tmp/etcdwiz-test-engine-in.XXXXXX";
	int infd = mkstemp(inpath), out[2], err[2], status;
	pid_t pid;

	assert_true(infd >= 0);
	unlink(inpath);
	if (in_len > 0)
		assert_int_equal(write(infd, in, in_len), (ssize_t)in_len);
	lseek(infd, 0, SEEK_SET);
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(infd, 0);
		dup2(out[1], 1);
		/* stderr to a file: both pipes read one after the other could block */
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(infd);
	close(out[1]);
	close(err[1]);
	r->out = slurp(out[0], &r->out_len);
	r->errout = slurp(err[0], &r->err_len);
	close(out[0]);
	close(err[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	r->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static struct ssh_op *fake_exec(void *self, size_t i, const char *cmd, const struct ssh_exec_opts *o,
				ssh_done_fn cb, void *ud)
{
	struct fake *f = self;
	struct fake_reply *rep = reply_later(f, i, ud);

	f->execs[i]++;
	rep->cb = cb;
	if (f->drop_next_exec[i]) {
		f->drop_next_exec[i] = false;
		f->lost[i] = true;
		rep->r.code = WIZ_ERR_UNREACHABLE;
		rep->r.not_sent = true;
		snprintf(rep->r.err.msg, sizeof rep->r.err.msg, "host%zu: connection reset", i + 1);
		return NULL;
	}
	if (f->before_bundle[i] && strstr(cmd, " action 1'") != NULL) {
		struct ssh_result ignored = { 0 };

		run_sh(f->before_bundle[i], NULL, 0, &ignored);
		ssh_result_free(&ignored);
	}
	if (strstr(cmd, " action 1'") != NULL) {
		snprintf(f->events + strlen(f->events), sizeof f->events - strlen(f->events), "b%zu ", i + 1);
		if (!f->serving_stale[i])
			snprintf(f->serving[i], sizeof f->serving[i], "%s", cert_want);
		f->asks_at_bundle[i] = f->asks[i];
		if (f->unhealthy_after_bundle[i]) {
			f->unhealthy_for[i] = f->unhealthy_after_bundle[i];
			f->unhealthy_after_bundle[i] = 0;
		}
		if (f->cluster && f->in_cluster[i])
			f->started[i] = true;	/* kubelet started the learner */
	}
	/* Setting a failed learner aside moves /etc/kubernetes files: never
	 * run here, only noted. */
	if (strstr(cmd, "set-aside=") != NULL) {
		snprintf(f->events + strlen(f->events), sizeof f->events - strlen(f->events), "S%zu ", i + 1);
		rep->r.out = xstrdup("set-aside=20261201-000000\n");
		rep->r.out_len = strlen(rep->r.out);
		return NULL;
	}
	if (strstr(cmd, "etcdwiz-rollback") != NULL)
		f->rollbacks[i]++;
	run_sh(cmd, o->input, o->input_len, &rep->r);
	if (f->drop_during_bundle[i] && strstr(cmd, " action 1'") != NULL) {
		f->drop_during_bundle[i] = false;
		f->lost[i] = true;
		free(rep->r.out);
		rep->r.out = xstrdup("");	/* nothing came back */
		rep->r.out_len = 0;
		rep->r.code = WIZ_ERR_UNREACHABLE;
		snprintf(rep->r.err.msg, sizeof rep->r.err.msg, "host%zu: connection reset", i + 1);
		return NULL;
	}
	if (o->on_output && rep->r.out_len > 0)
		o->on_output(rep->r.out, rep->r.out_len, o->on_output_ud);
	if (o->check && rep->r.exit_status != 0) {
		rep->r.code = WIZ_ERR_REMOTE;
		snprintf(rep->r.err.msg, sizeof rep->r.err.msg, "exit status %d", rep->r.exit_status);
	}
	return NULL;
}

static bool fake_lost(void *self, size_t i)
{
	return ((struct fake *)self)->down[i] || ((struct fake *)self)->lost[i];
}

static const char *fake_hostkey(void *self, size_t i, const char **type)
{
	(void)self;
	(void)i;
	*type = "ssh-ed25519";
	return "SHA256:fake";
}

static void *fake_ask_etcd(void *self, size_t i, const struct transport_ask *q, etcd_ask_fn cb,
			   void *ud)
{
	struct fake *f = self;
	struct fake_reply *rep = reply_later(f, i, ud);

	assert_true(strncmp(q->name, "host", 4) == 0 && (size_t)(q->name[4] - '1') == i);
	assert_true(q->timeout_ms >= 1000 && q->timeout_ms <= ETCD_ASK_TRY_MS);
	if (f->asks[i]++ == 0)
		f->execs_at_first_ask[i] = f->execs[i];
	snprintf(f->events + strlen(f->events), sizeof f->events - strlen(f->events), "a%zu ", i + 1);
	rep->acb = cb;
	if (f->ask_gone[i] || f->ask_gone_once[i]) {
		f->ask_gone_once[i] = false;
		f->lost[i] = true;
		rep->r.code = WIZ_ERR_UNREACHABLE;
		snprintf(rep->r.err.msg, sizeof rep->r.err.msg, "host%zu: connection reset", i + 1);
		return rep;
	}
	if (f->cluster && !(f->in_cluster[i] && f->started[i])) {
		snprintf(rep->view.detail, sizeof rep->view.detail, "connection refused");
		return rep;
	}
	rep->view.answered = true;
	if (f->unhealthy_for[i] > 0) {
		if (f->unhealthy_for[i] != ~0u)
			f->unhealthy_for[i]--;
		snprintf(rep->view.detail, sizeof rep->view.detail, "no leader");
		return rep;
	}
	rep->view.healthy = rep->view.listed = true;
	rep->view.leader = i == f->leader;
	rep->view.raft_index = f->raft_behind[i] ? 5 : 100;
	snprintf(rep->view.version, sizeof rep->view.version, "3.5.16");
	return rep;
}


/* The member list of the fake cluster as the gateway writes it. */
static char *fake_members_json(const struct fake *f)
{
	char *out = xstrdup("{\"header\":{\"cluster_id\":\"1\"},\"members\":[");

	for (size_t i = 0, n = 0; i < N_HOSTS; i++) {
		char *peer, *next;

		if (!f->in_cluster[i])
			continue;
		peer = member_peer_url(&cluster.members[i]);
		{
			char name[64] = "";

			if (f->started[i])
				snprintf(name, sizeof name, "\"name\":\"%s\",", cluster.members[i].name);
			next = xasprintf("%s%s{\"ID\":\"%llu\",%s\"peerURLs\":[\"%s\"]%s}", out,
					 n++ ? "," : "", (unsigned long long)f->id[i], name, peer,
					 f->learner[i] ? ",\"isLearner\":true" : "");
		}
		free(out);
		free(peer);
		out = next;
	}
	{
		char *next = xasprintf("%s%s]}", out, f->extra_member
				       ? ",{\"ID\":\"999\",\"name\":\"other\",\"peerURLs\":[\"https://10.9.9.9:2380\"]}"
				       : "");

		free(out);
		out = next;
	}
	return out;
}

static size_t fake_host_of_peer(const char *body)
{
	for (size_t i = 0; i < N_HOSTS; i++) {
		char *peer = member_peer_url(&cluster.members[i]);
		bool in = strstr(body, peer) != NULL;

		free(peer);
		if (in)
			return i;
	}
	return SIZE_MAX;
}

static size_t fake_host_of_id(const char *body)
{
	for (size_t i = 0; i < N_HOSTS; i++) {
		char want[40];

		snprintf(want, sizeof want, "\"%llu\"", (unsigned long long)i + 101);
		if (strstr(body, want) != NULL)
			return i;
	}
	return SIZE_MAX;
}

/* etcd's gateway on host i, as far as membership goes. Events: "l1" a
 * list from host1, "A3" host3 added, "P3"/"p3" promoted/refused, "R3". */
static void *fake_call_etcd(void *self, size_t i, const struct transport_ask *q, const char *path,
			    const char *body, etcd_call_fn cb, void *ud)
{
	struct fake *f = self;
	struct fake_reply *rep = reply_later(f, i, ud);
	char *ev = f->events + strlen(f->events);
	size_t room = sizeof f->events - strlen(f->events);
	size_t k;

	(void)q;
	rep->ccall = cb;
	if (!f->cluster || !f->in_cluster[i] || !f->started[i]) {
		snprintf(rep->r.err.msg, sizeof rep->r.err.msg, "connection refused");
		return rep;
	}
	rep->status = 200;
	if (strcmp(path, "/v3/cluster/member/list") == 0) {
		snprintf(ev, room, "l%zu ", i + 1);
	} else if (strcmp(path, "/v3/cluster/member/add") == 0) {
		k = fake_host_of_peer(body);
		assert_true(k < N_HOSTS);
		assert_non_null(strstr(body, "\"isLearner\":true"));
		snprintf(ev, room, "A%zu ", k + 1);
		f->adds++;
		if (f->in_cluster[k]) {
			rep->status = 400;
			rep->body = xstrdup("{\"code\":9,\"message\":\"etcdserver: Peer URLs already exists\"}");
			return rep;
		}
		f->in_cluster[k] = f->learner[k] = true;
		f->id[k] = k + 101;
		f->extra_member = f->extra_on_add;
		{
			char *list = fake_members_json(f), *peer = member_peer_url(&cluster.members[k]);

			rep->body = xasprintf("{\"member\":{\"ID\":\"%zu\",\"peerURLs\":[\"%s\"],\"isLearner\":true},%s",
					      k + 101, peer, list + 1);
			free(list);
			free(peer);
		}
		return rep;
	} else if (strcmp(path, "/v3/cluster/member/promote") == 0) {
		k = fake_host_of_id(body);
		assert_true(k < N_HOSTS);
		f->promotes++;
		if (f->not_in_sync_for > 0 || !f->started[k]) {
			if (f->not_in_sync_for != ~0u && f->started[k])
				f->not_in_sync_for--;
			snprintf(ev, room, "p%zu ", k + 1);
			rep->status = 400;
			rep->body = xstrdup("{\"code\":9,\"message\":\"etcdserver: can only promote a learner member which is in sync with leader\"}");
			return rep;
		}
		snprintf(ev, room, "P%zu ", k + 1);
		f->learner[k] = false;
	} else if (strcmp(path, "/v3/maintenance/transfer-leadership") == 0) {
		assert_int_equal(i, f->leader);	/* sent to the leader */
		snprintf(ev, room, "M%zu ", i + 1);
		f->moves++;
		f->leader = fake_host_of_id(body);
		assert_true(f->leader < N_HOSTS);
		free(rep->body);
		rep->body = xstrdup("{}");
		return rep;
	} else if (strcmp(path, "/v3/cluster/member/remove") == 0) {
		k = fake_host_of_id(body);
		assert_true(k < N_HOSTS);
		snprintf(ev, room, "R%zu ", k + 1);
		f->removes++;
		f->in_cluster[k] = f->learner[k] = f->started[k] = false;
	} else {
		fail_msg("unexpected call %s", path);
	}
	rep->body = fake_members_json(f);
	return rep;
}

/* A leaving member's host: the test's hosts are host1..3, so it is the
 * one of that name. */
static size_t fake_add_host(void *self, const struct cluster *c, const struct host *h)
{
	(void)self;
	(void)c;
	assert_true(strncmp(h->name, "host", 4) == 0);
	return (size_t)(h->name[4] - '1');
}

static void fake_cancel_ask(void *self, void *handle)
{
	struct fake *f = self;
	struct fake_reply *rep = handle;

	f->cancels++;
	rep->acb = NULL;	/* fires, calls nobody */
	rep->ccall = NULL;
	rep->scb = NULL;
}

static void *fake_served_cert(void *self, size_t i, const struct transport_ask *q, etcd_served_fn cb,
			      void *ud)
{
	struct fake *f = self;
	struct fake_reply *rep = reply_later(f, i, ud);

	snprintf(f->events + strlen(f->events), sizeof f->events - strlen(f->events), "c%zu:%d ", i + 1,
		 q->port);
	rep->scb = cb;
	rep->served.got = true;
	snprintf(rep->served.serial, sizeof rep->served.serial, "%s", f->serving[i]);
	return rep;
}

static const struct transport_ops fake_ops = {
	.connect = fake_connect,
	.forget = fake_forget,
	.exec = fake_exec,
	.lost = fake_lost,
	.hostkey = fake_hostkey,
	.ask_etcd = fake_ask_etcd,
	.cancel_ask = fake_cancel_ask,
	.call_etcd = fake_call_etcd,
	.served_cert = fake_served_cert,
	.add_host = fake_add_host,
};

/* ---- running the engine ---- */

struct outcome {
	unsigned results[N_HOSTS][HOST_RESULT_COUNT];
	char msg[N_HOSTS][512];
	unsigned engine_execs[N_HOSTS];
	bool ok;
	char phases[256];	/* "host3 learner added, host3 started, ..." */
	unsigned waits;		/* sink.waiting calls */
	char waited[512];	/* the first one's text */
};

static void on_waiting(const char *what, void *ud)
{
	struct outcome *o = ud;

	if (o->waits++ == 0)
		snprintf(o->waited, sizeof o->waited, "%s", what);
}

static void on_join_phase(const char *member, enum engine_join_phase p, void *ud)
{
	struct outcome *o = ud;
	size_t n = strlen(o->phases);

	snprintf(o->phases + n, sizeof o->phases - n, "%s%s %s", n ? ", " : "", member,
		 engine_join_phase_text(p));
}

static void on_done(const struct engine_host *h, const struct step *s, enum host_result r, const char *msg,
		    void *ud)
{
	struct outcome *o = ud;
	const char *name = engine_host_name(h);
	size_t i = (size_t)(name[strlen(name) - 1] - '1');

	(void)s;
	assert_true(i < N_HOSTS);
	o->results[i][r]++;
	if (msg && o->msg[i][0] == '\0')
		snprintf(o->msg[i], sizeof o->msg[i], "%s", msg);
}

static struct check_cache *checks;	/* NULL: no cache */
static bool prune_members;

static void run_engine(struct fake *f, bool apply, struct outcome *out)
{
	struct engine_opts o = { .apply = apply, .step_table = steps_in_use, .checks = checks,
				 .reuse_checks = apply, .health_timeout_s = health_timeout_s,
				 .prune_members = prune_members };
	struct engine_sink sink = { .host_done = on_done, .join_phase = on_join_phase,
				    .waiting = on_waiting, .ud = out };
	struct transport t = { &fake_ops, f };
	struct engine *e;

	memset(out, 0, sizeof *out);
	memset(f->execs, 0, sizeof f->execs);
	memset(f->connects, 0, sizeof f->connects);
	memset(gate_ran, 0, sizeof gate_ran);
	memset(f->asks, 0, sizeof f->asks);
	f->events[0] = '\0';
	memset(ask_seen, 0, sizeof ask_seen);
	memset(ask_planned, 0, sizeof ask_planned);
	memset(ask_had_probe_log, 0, sizeof ask_had_probe_log);
	e = engine_new(f->loop, &t, &cluster, &o, &sink);
	assert_int_equal(engine_run(e), WIZ_ERR_OK);
	out->ok = engine_succeeded(e);
	if (getenv("TEST_ENGINE_DEBUG"))
		for (size_t i = 0; i < N_HOSTS; i++)
			fprintf(stderr, "# host%zu: %s\n", i + 1, out->msg[i]);
	for (size_t i = 0; i < N_HOSTS && i < engine_host_count(e); i++)
		out->engine_execs[i] = engine_host_execs(engine_host_at(e, i));
	engine_free(e);
}

static char *read_host_file(const char *host, const char *rel)
{
	char *p = xasprintf("%s/%s/%s", root, host, rel);
	FILE *fp = fopen(p, "r");
	char buf[256] = "";
	size_t n = 0;

	free(p);
	if (fp == NULL)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return xstrdup(buf);
}

static int setup(void **state)
{
	struct diag_list d;
	struct passwd *pw = getpwuid(getuid());
	struct group *gr = getgrgid(getgid());
	struct fake *f = xcalloc(1, sizeof *f);

	snprintf(root, sizeof root, "/tmp/etcdwiz-test-engine.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(owner, sizeof owner, "%s:%s", pw ? pw->pw_name : "root", gr ? gr->gr_name : "root");
	diag_list_init(&d, "valid-seed.yaml");
	assert_int_equal(cluster_load(unit_fixture("cluster/valid-seed.yaml"), &cluster, &d), WIZ_ERR_OK);
	diag_list_free(&d);
	/* The test's hosts are named host1..host3. */
	for (size_t i = 0; i < N_HOSTS; i++) {
		free(cluster.members[i].name);
		cluster.members[i].name = xasprintf("host%zu", i + 1);
	}
	f->loop = loop_new();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	char *cmd = xasprintf("rm -rf %s", root);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	loop_free(f->loop);
	free(f);
	cluster_free(&cluster);
	return 0;
}

static void make_hosts(void)
{
	char *cmd = xasprintf("rm -rf %s/host*; for i in 1 2 3; do mkdir -p %s/host$i/etc; done", root, root);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* Fresh hosts: one exec checks every step; each of the three changing
 * steps is one bundle; the barrier's check is one more. */
static void test_fresh_then_converged(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	make_hosts();
	run_engine(f, true, &out);
	assert_true(out.ok);
	for (size_t i = 0; i < N_HOSTS; i++) {
		char name[16], *conf, *marker;

		snprintf(name, sizeof name, "host%zu", i + 1);
		assert_int_equal(f->execs[i], 5);
		assert_int_equal(out.engine_execs[i], 5);
		assert_int_equal(out.results[i][HOST_CHANGED], 3);
		assert_int_equal(out.results[i][HOST_OK], 1);
		conf = read_host_file(name, "etc/app.conf");
		marker = read_host_file(name, "marker");
		assert_non_null(conf);
		assert_non_null(marker);
		assert_true(strncmp(conf, "name=host", 9) == 0);
		assert_string_equal(marker, "done\n");
		free(conf);
		free(marker);
		/* The barrier's check ran after every host had made its marker. */
		assert_true(gate_ran[i]);
		assert_int_equal(gate_seen[i], N_HOSTS);
	}
	/* Converged: the batched check, then the barrier's own check. */
	run_engine(f, true, &out);
	assert_true(out.ok);
	for (size_t i = 0; i < N_HOSTS; i++) {
		assert_int_equal(f->execs[i], 2);
		assert_int_equal(out.results[i][HOST_OK], 4);
		assert_int_equal(out.results[i][HOST_CHANGED], 0);
	}
}

/* plan: one exec per host, and nothing written. */
static void test_plan_is_one_exec(void **state)
{
	struct fake *f = *state;
	struct outcome out;
	char *conf;

	make_hosts();
	run_engine(f, false, &out);
	assert_true(out.ok);
	for (size_t i = 0; i < N_HOSTS; i++) {
		assert_int_equal(f->execs[i], 1);
		assert_int_equal(out.results[i][HOST_CHANGED], 3);
	}
	conf = read_host_file("host1", "etc/app.conf");
	assert_null(conf);
}

/* A file edited between the check and the bundle: refused, nothing of
 * that bundle done, the edit kept. */
static void test_changed_since_the_plan(void **state)
{
	struct fake *f = *state;
	struct outcome out;
	char *edit = xasprintf("echo 'edited by hand' > %s/host2/etc/app.conf", root);
	char *conf;

	make_hosts();
	f->before_bundle[1] = edit;
	run_engine(f, true, &out);
	f->before_bundle[1] = NULL;
	assert_false(out.ok);
	assert_int_equal(out.results[1][HOST_FAILED], 1);
	assert_non_null(strstr(out.msg[1], "app.conf changed on host2 since the plan"));
	conf = read_host_file("host2", "etc/app.conf");
	assert_string_equal(conf, "edited by hand\n");
	free(conf);
	/* Its later steps were skipped; the other hosts finished. */
	assert_int_equal(out.results[1][HOST_SKIPPED], 3);
	assert_int_equal(out.results[0][HOST_CHANGED], 3);
	assert_int_equal(out.results[2][HOST_CHANGED], 3);
	free(edit);
}

/* apply after plan starts from the plan's checks: the plan is one exec,
 * the apply one per changing step and the barrier's. A file edited in
 * between is still refused. */
static void test_apply_reuses_the_plan(void **state)
{
	struct fake *f = *state;
	struct outcome out;
	char *edit = xasprintf("echo 'edited by hand' > %s/host3/etc/app.conf", root);

	make_hosts();
	checks = check_cache_new();
	run_engine(f, false, &out);
	for (size_t i = 0; i < N_HOSTS; i++)
		assert_int_equal(f->execs[i], 1);
	assert_int_equal(system(edit), 0);
	run_engine(f, true, &out);
	assert_false(out.ok);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(f->execs[i], 4);
		assert_int_equal(out.results[i][HOST_CHANGED], 3);
	}
	assert_non_null(strstr(out.msg[2], "app.conf changed on host3 since the plan"));
	/* Used once: the next apply checks again. */
	run_engine(f, true, &out);
	assert_int_equal(f->execs[0], 2);
	check_cache_free(checks);
	checks = NULL;
	free(edit);
}

/* An unreachable host is reported; the others go on, and the barrier
 * does not wait for it. */
static void test_unreachable_host(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	make_hosts();
	f->down[2] = true;
	run_engine(f, true, &out);
	f->down[2] = false;
	assert_false(out.ok);
	assert_int_equal(out.results[2][HOST_UNREACHABLE], 1);
	assert_int_equal(out.results[2][HOST_SKIPPED], 3);
	assert_int_equal(f->execs[2], 0);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(f->execs[i], 5);
		assert_true(gate_ran[i]);
		assert_int_equal(gate_seen[i], 2);
	}
}

/* A failing command names its action and what it printed; the host
 * stops there. */
static void test_failed_command(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	make_hosts();
	setenv("TEST_ENGINE_FAIL_HOST", "host1", 1);
	run_engine(f, true, &out);
	unsetenv("TEST_ENGINE_FAIL_HOST");
	assert_false(out.ok);
	assert_int_equal(out.results[0][HOST_FAILED], 1);
	assert_non_null(strstr(out.msg[0], "make the marker: disk full"));
	assert_int_equal(out.results[0][HOST_SKIPPED], 2);
	assert_int_equal(f->execs[0], 3);	/* checks, file bundle, the failed bundle */
	assert_true(gate_ran[1] && gate_ran[2]);
}

/* A command that happens to exit 4 (curl, systemctl do) is a failed
 * command, not the bundle's "changed since the plan". */
static void test_command_exit_4(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	make_hosts();
	setenv("TEST_ENGINE_FAIL_HOST", "host2", 1);
	setenv("TEST_ENGINE_FAIL_STATUS", "4", 1);
	run_engine(f, true, &out);
	unsetenv("TEST_ENGINE_FAIL_HOST");
	unsetenv("TEST_ENGINE_FAIL_STATUS");
	assert_int_equal(out.results[1][HOST_FAILED], 1);
	assert_non_null(strstr(out.msg[1], "make the marker: disk full"));
	assert_null(strstr(out.msg[1], "since the plan"));
}

/* A session kept from an earlier pass that died while idle: the first
 * exec finds it gone; the engine connects again and repeats it once. */
static void test_lost_session_reconnects_once(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	make_hosts();
	f->drop_next_exec[0] = true;
	run_engine(f, true, &out);
	assert_true(out.ok);
	assert_int_equal(f->connects[0], 2);
	assert_int_equal(f->execs[0], 6);	/* the lost one, then the usual five */
	assert_int_equal(out.results[0][HOST_CHANGED], 3);
	assert_int_equal(f->connects[1], 1);
}

/* The connection lost while a bundle ran (its answer lost with it): not
 * run again, the host is unreachable; what it did is not repeated. */
static void test_lost_during_bundle_not_repeated(void **state)
{
	struct fake *f = *state;
	struct outcome out;
	char *conf;

	make_hosts();
	f->drop_during_bundle[0] = true;
	run_engine(f, true, &out);
	assert_false(out.ok);
	assert_int_equal(out.results[0][HOST_UNREACHABLE], 1);
	assert_int_equal(f->connects[0], 1);
	assert_int_equal(f->execs[0], 2);	/* the checks, the bundle: no second run */
	conf = read_host_file("host1", "etc/app.conf");
	assert_non_null(conf);	/* it did run there */
	free(conf);
	assert_int_equal(out.results[1][HOST_CHANGED], 3);
}

/* Markers are found where they are, also after output with no final
 * newline, and only whole. */
static void test_markers_mid_line(void **state)
{
	static const char out[] = "@@os-release\nID=debian@@=T step a\nfirst\nno newline@@=T step b\nsecond\n";
	static const char acts[] = "x@@=T action 1\nyy@@=T action 2\n@@=T action 3";
	char *a = probe_batch_slice(out, "T", "a"), *b = probe_batch_slice(out, "T", "b");

	(void)state;
	assert_string_equal(a, "first\nno newline");
	assert_string_equal(b, "second\n");
	assert_null(probe_batch_slice(out, "T", "c"));
	assert_int_equal(bundle_actions_started(acts, strlen(acts), "T"), 2);
	assert_string_equal(bundle_probe_output("cmd output@@=T probe\nrest", "T"), "rest");
	assert_null(bundle_probe_output("@@=T probe", "T"));
	free(a);
	free(b);
}

/* plan asks every member once, from here, and reads what it said; the
 * shell fallback is in the one batched exec. */
static void test_ask_when_planning(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	make_hosts();
	steps_in_use = ask_steps;
	f->unhealthy_for[1] = ~0u;
	run_engine(f, false, &out);
	f->unhealthy_for[1] = 0;
	steps_in_use = test_steps;
	for (size_t i = 0; i < N_HOSTS; i++) {
		assert_int_equal(f->asks[i], 1);
		assert_int_equal(f->execs[i], 1);
		assert_true(ask_planned[i]);
		assert_true(ask_seen[i].answered);
	}
	assert_true(ask_seen[0].healthy && ask_seen[0].leader);
	assert_string_equal(ask_seen[0].version, "3.5.16");
	assert_false(ask_seen[1].healthy);
	assert_string_equal(ask_seen[1].detail, "no leader");
	/* Asked beside the checks, not after them. */
	for (size_t i = 0; i < N_HOSTS; i++)
		assert_int_equal(f->execs_at_first_ask[i], 0);
	/* Planning: a warning only. */
	assert_true(out.ok);
}

/* apply asks again until healthy; a healthy member costs no shell check. */
static void test_ask_waits_until_healthy(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	make_hosts();
	steps_in_use = ask_steps;
	f->unhealthy_for[2] = 3;
	run_engine(f, true, &out);
	steps_in_use = test_steps;
	assert_true(out.ok);
	assert_int_equal(f->asks[0], 1);
	assert_int_equal(f->asks[2], 4);
	for (size_t i = 0; i < N_HOSTS; i++) {
		/* The batched check, the file's bundle: nothing for the ask step,
		 * which asks only after them (a barrier when applying). */
		assert_int_equal(f->execs[i], 2);
		assert_int_equal(f->execs_at_first_ask[i], 2);
		assert_true(ask_seen[i].healthy);
		assert_false(ask_had_probe_log[i]);
	}
}

/* A member never healthy: the asks stop at the bound (one value), then the
 * shell check gives its log, and the step fails there alone; a member
 * whose session fails ends at once as unreachable. */
static void test_ask_bounded_and_unreachable(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	make_hosts();
	steps_in_use = ask_steps;
	health_timeout_s = 1;
	f->unhealthy_for[1] = ~0u;
	f->ask_gone[2] = true;
	run_engine(f, true, &out);
	f->unhealthy_for[1] = 0;
	f->ask_gone[2] = false;
	health_timeout_s = 0;
	steps_in_use = test_steps;
	assert_false(out.ok);
	assert_int_equal(out.results[0][HOST_OK] + out.results[0][HOST_CHANGED], 2);
	/* 1 s at 0.25 s apart: at most 5 asks, and more than one. */
	assert_true(f->asks[1] >= 2 && f->asks[1] <= 5);
	assert_int_equal(out.results[1][HOST_FAILED], 1);
	assert_non_null(strstr(out.msg[1], "no leader"));
	assert_true(ask_had_probe_log[1]);
	assert_int_equal(f->execs[1], 3);	/* checks, bundle, then the log */
	assert_int_equal(f->asks[2], 1);
	assert_int_equal(out.results[2][HOST_UNREACHABLE], 1);
	assert_non_null(strstr(out.msg[2], "connection reset"));
}

/* A session that died while idle takes the ask started beside the checks
 * with it: the engine connects again, and the step asks again rather than
 * reporting the old failure. */
static void test_ask_after_reconnect(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	make_hosts();
	steps_in_use = ask_steps;
	f->drop_next_exec[1] = true;
	f->ask_gone_once[1] = true;
	run_engine(f, false, &out);
	steps_in_use = test_steps;
	assert_true(out.ok);
	assert_int_equal(f->connects[1], 2);
	assert_int_equal(f->asks[1], 2);
	assert_int_equal(out.results[1][HOST_UNREACHABLE], 0);
	assert_true(ask_seen[1].healthy);
}

/* An engine freed while it asks cancels the ask: nothing calls back. */
static void test_ask_cancelled_with_the_engine(void **state)
{
	struct fake *f = *state;
	struct engine_opts o = { .apply = true, .step_table = ask_steps };
	struct transport t = { &fake_ops, f };
	struct engine *e;
	uint64_t until;

	make_hosts();
	f->unhealthy_for[0] = ~0u;
	f->cancels = 0;
	e = engine_new(f->loop, &t, &cluster, &o, NULL);
	engine_start(e);
	until = loop_now() + 5000;
	while (f->asks[0] < 2 && loop_now() < until)
		loop_run_once(f->loop, 100);
	assert_true(f->asks[0] >= 2);
	engine_free(e);
	f->unhealthy_for[0] = 0;
	/* The fired replies find no callback (ASan would see a freed host). */
	for (int n = 0; n < 10 && f->pending != NULL; n++)
		loop_run_once(f->loop, 10);
	assert_null(f->pending);
	assert_true(f->cancels <= 1);
}

/* Running members whose change restarts etcd: one at a time, followers
 * first (host1 is the leader), every member asked before each restart and
 * the restarted one asked until healthy before the next goes. */
static void test_rolling_one_at_a_time(void **state)
{
	struct fake *f = *state;
	struct outcome out;
	char *cmd;

	make_hosts();
	free(cluster.etcd.version);
	cluster.etcd.version = xstrdup("3.5.16");	/* what the fake member reports */
	steps_in_use = roll_steps;
	snprintf(roll_want, sizeof roll_want, "v1");
	run_engine(f, true, &out);	/* fresh: nothing runs, all at once */
	assert_true(out.ok);
	assert_string_equal(f->events, "b1 b2 b3 a1 a2 a3 b1 b2 b3 ");	/* file, the live read, then roll */
	snprintf(roll_want, sizeof roll_want, "v2");
	f->unhealthy_for[1] = 3;	/* host2 takes a while to be healthy again */
	f->cluster = true;		/* etcd lists the three (the leadership moves) */
	for (size_t i = 0; i < N_HOSTS; i++) {
		f->in_cluster[i] = f->started[i] = true;
		f->id[i] = i + 101;
	}
	run_engine(f, true, &out);
	assert_true(out.ok);
	/* The member list and each member first (the live read); the gate
	 * asks all three (host2's answer is an unhealthy one: a member may
	 * restart itself, only the others must be healthy), host2 restarts
	 * and is asked until healthy, then the gate again, host3, then host1,
	 * the leader, which hands its leadership over (M1) first. */
	assert_string_equal(f->events, "l1 a1 l2 a2 l3 a3 a1 a2 a3 b2 a2 a2 a1 a2 a3 b3 a3 a1 a2 a3 M1 b1 a1 ");
	for (size_t i = 0; i < N_HOSTS; i++) {
		char *text = read_host_file(cluster.members[i].name, "etc/etcd.yaml");
		char *want = xasprintf("host%zu v2\n", i + 1);

		assert_string_equal(text, want);
		free(text);
		free(want);
	}
	/* host3 is not healthy: the roll stops before anything restarts. */
	snprintf(roll_want, sizeof roll_want, "v3");
	f->unhealthy_for[1] = 0;
	f->unhealthy_for[2] = ~0u;
	run_engine(f, true, &out);
	assert_false(out.ok);
	assert_null(strchr(f->events, 'b'));
	for (size_t i = 0; i < N_HOSTS; i++)
		assert_int_equal(out.results[i][HOST_FAILED], 1);
	assert_non_null(strstr(out.msg[0], "host3 is not healthy (no leader)"));
	cmd = read_host_file("host1", "etc/etcd.yaml");
	assert_string_equal(cmd, "host1 v2\n");
	free(cmd);
	f->unhealthy_for[2] = 0;
	steps_in_use = test_steps;
}

/* A member that comes back on another version stops the roll there. */
static void test_rolling_wrong_version(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	make_hosts();
	steps_in_use = roll_steps;
	snprintf(roll_want, sizeof roll_want, "v1");
	run_engine(f, true, &out);
	snprintf(roll_want, sizeof roll_want, "v2");
	health_timeout_s = 1;
	run_engine(f, true, &out);	/* the file wants 3.5.21, the fake runs 3.5.16 */
	health_timeout_s = 0;
	steps_in_use = test_steps;
	assert_false(out.ok);
	assert_non_null(strstr(out.msg[1], "came back as version 3.5.16, not 3.5.21"));
	assert_int_equal(out.results[1][HOST_FAILED], 1);
	/* host3 and host1 were not restarted. */
	assert_non_null(strstr(out.msg[2], "not restarted, nothing changed here"));
	assert_non_null(strstr(out.msg[0], "not restarted, nothing changed here"));
}


/* New certificates on running members: one member at a time after the
 * gate, each asked until healthy, then its served certificate read on
 * 2379 and 2380 before the next; no leadership moves. A member that keeps
 * serving the old one fails within the bound and the rest are left. */
static void test_certs_take_turns(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	make_hosts();
	steps_in_use = cert_steps;
	snprintf(cert_want, sizeof cert_want, "s1");
	run_engine(f, true, &out);	/* fresh: nothing to take turns for */
	assert_true(out.ok);
	assert_string_equal(f->events, "b1 b2 b3 b1 b2 b3 ");
	snprintf(cert_want, sizeof cert_want, "s2");
	run_engine(f, true, &out);
	assert_true(out.ok);
	/* host1 leads: it goes last, and without a transfer (no M1). */
	assert_string_equal(f->events, "a1 a2 a3 b2 a2 c2:2379 c2:2380 a1 a2 a3 b3 a3 c3:2379 c3:2380 a1 a2 a3 b1 a1 c1:2379 c1:2380 ");
	/* host3 keeps serving s2 after s3 is installed. */
	snprintf(cert_want, sizeof cert_want, "s3");
	f->serving_stale[2] = true;
	health_timeout_s = 1;
	run_engine(f, true, &out);
	health_timeout_s = 0;
	f->serving_stale[2] = false;
	assert_false(out.ok);
	assert_non_null(strstr(out.msg[2], "etcd on host3 serves s2 on port 2379, not its new certificate (serial s3)"));
	assert_non_null(strstr(out.msg[0], "nothing changed here"));
	assert_int_equal(out.results[1][HOST_CHANGED], 1);	/* host2 went first and is done */
	steps_in_use = test_steps;
}

static char *host_file(size_t i)
{
	char *p = xasprintf("%s/host%zu/etc/etcd.yaml", root, i + 1);
	char *text = NULL;
	struct wiz_error err;

	assert_int_equal(wiz_read_file(p, 4096, &text, NULL, &err), WIZ_ERR_OK);
	free(p);
	return text;
}

/* A member that comes back on another version, or whose new etcd never
 * starts, is put back on its old file (and its wait run again), then
 * asked until healthy; the roll stops there, the others untouched. */
static void test_rolling_rolls_back(void **state)
{
	struct fake *f = *state;
	struct outcome out;
	char *text;

	make_hosts();
	steps_in_use = roll_steps;
	snprintf(roll_want, sizeof roll_want, "v1");
	run_engine(f, true, &out);
	roll_back = true;
	snprintf(roll_want, sizeof roll_want, "v2");
	health_timeout_s = 1;
	run_engine(f, true, &out);	/* the file wants 3.5.21, the fake runs 3.5.16 */
	assert_false(out.ok);
	assert_non_null(strstr(out.msg[1], "came back as version 3.5.16, not 3.5.21. It is back on its old manifest (etcd 3.5.16) and healthy again"));
	text = host_file(1);
	assert_string_equal(text, "host2 v1\n");
	free(text);
	assert_non_null(strstr(out.msg[0], "not restarted, nothing changed here"));
	assert_non_null(strstr(out.msg[2], "not restarted, nothing changed here"));
	text = host_file(0);
	assert_string_equal(text, "host1 v1\n");
	free(text);

	/* The wait fails (a missing image): the same, from the bundle. */
	free(cluster.etcd.version);
	cluster.etcd.version = xstrdup("3.5.16");
	roll_wait_fails = true;
	run_engine(f, true, &out);
	assert_false(out.ok);
	assert_non_null(strstr(out.msg[1], "did not start from its new manifest (etcd 3.5.16): etcd did not start. It is back"));
	assert_non_null(strstr(out.msg[1], "It is back on its old manifest"));
	text = host_file(1);
	assert_string_equal(text, "host2 v1\n");
	free(text);
	assert_non_null(strstr(out.msg[2], "not restarted, nothing changed here"));
	assert_int_equal(f->rollbacks[1], 2);
	roll_wait_fails = false;

	/* Restarted but never healthy within the bound (asked again and again
	 * meanwhile), then healthy on the old file: one rollback, the step
	 * failed, the roll stopped. */
	f->unhealthy_after_bundle[1] = 10;
	health_timeout_s = 2;
	run_engine(f, true, &out);
	assert_false(out.ok);
	assert_int_equal(f->rollbacks[1], 3);
	assert_int_equal(out.results[1][HOST_FAILED], 1);
	assert_non_null(strstr(out.msg[1], "was not healthy within"));
	assert_non_null(strstr(out.msg[1], "It is back on its old manifest"));
	text = host_file(1);
	assert_string_equal(text, "host2 v1\n");
	free(text);
	assert_non_null(strstr(out.msg[2], "not restarted, nothing changed here"));
	f->unhealthy_for[1] = 0;
	roll_back = false;
	health_timeout_s = 0;
	steps_in_use = test_steps;
	free(cluster.etcd.version);
	cluster.etcd.version = xstrdup("3.5.21");
}

/* A version change whose live read finds a listed member not healthy
 * (its restart, begun by a run that was stopped, still under way): the
 * read is made again, within the health bound, before anything plans
 * (a plan too); a change of no version does not wait. */
static void join_teardown(struct fake *f);

static void test_upgrade_read_waits_for_a_member(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	make_hosts();
	steps_in_use = roll_steps;
	snprintf(roll_want, sizeof roll_want, "v1");
	free(cluster.etcd.version);
	cluster.etcd.version = xstrdup("3.5.16");
	run_engine(f, true, &out);
	assert_true(out.ok);
	f->cluster = true;	/* all three run, as voters */
	for (size_t i = 0; i < N_HOSTS; i++) {
		f->in_cluster[i] = f->started[i] = true;
		f->id[i] = i + 101;
	}
	snprintf(roll_want, sizeof roll_want, "v2");
	free(cluster.etcd.version);
	cluster.etcd.version = xstrdup("3.5.21");	/* the fake runs 3.5.16 */

	/* Not healthy for one read, then healthy: one wait, then planned. */
	f->unhealthy_for[1] = 1;
	health_timeout_s = 1;
	run_engine(f, false, &out);
	assert_int_equal(out.waits, 1);	/* the plan, which apply shows first, too */
	f->unhealthy_for[1] = 1;
	run_engine(f, true, &out);
	assert_int_equal(out.waits, 1);
	assert_non_null(strstr(out.waited, "host2 is not healthy yet (no leader)"));
	assert_non_null(strstr(out.waited, "1 s at most"));
	/* It went on: the roll reached a restart (refused there, since the
	 * fake stays on 3.5.16). */
	assert_non_null(strstr(out.msg[1], "came back as version 3.5.16, not 3.5.21"));

	/* Never healthy: the wait ends at the bound, and the plan goes on
	 * with what it saw. */
	f->unhealthy_for[1] = ~0u;
	run_engine(f, true, &out);
	assert_int_equal(out.waits, 1);
	assert_false(out.ok);
	f->unhealthy_for[1] = 0;

	/* The same version everywhere: nobody waits. */
	free(cluster.etcd.version);
	cluster.etcd.version = xstrdup("3.5.16");
	f->unhealthy_for[1] = 1;
	run_engine(f, true, &out);
	assert_int_equal(out.waits, 0);
	f->unhealthy_for[1] = 0;
	join_teardown(f);
	free(cluster.etcd.version);
	cluster.etcd.version = xstrdup("3.5.21");
}

/* The fake cluster: host1 and host2 run as voters, host3 is not in it. */
static void join_setup(struct fake *f)
{
	make_hosts();
	for (size_t i = 0; i < 2; i++) {
		char *p = xasprintf("%s/host%zu/etc/etcd.yaml", root, i + 1);
		FILE *fp = fopen(p, "w");

		assert_non_null(fp);
		fputs("new\n", fp);
		fclose(fp);
		free(p);
		f->in_cluster[i] = f->started[i] = true;
		f->id[i] = i + 101;
	}
	f->cluster = true;
	free(cluster.etcd.version);
	cluster.etcd.version = xstrdup("3.5.16");
	steps_in_use = join_steps;
}

static void join_teardown(struct fake *f)
{
	f->cluster = false;
	memset(f->in_cluster, 0, sizeof f->in_cluster);
	memset(f->learner, 0, sizeof f->learner);
	memset(f->started, 0, sizeof f->started);
	f->not_in_sync_for = 0;
	f->adds = f->promotes = f->removes = f->moves = 0;
	health_timeout_s = 0;
	steps_in_use = test_steps;
}

/* A member the cluster lacks: added as a learner through a voter, its
 * manifest names etcd's members and itself, promoted once in sync (etcd
 * says "not in sync" twice first); a second apply adds nobody. */
static void test_join_adds_a_learner(void **state)
{
	struct fake *f = *state;
	struct outcome out;
	char *text;

	join_setup(f);
	f->not_in_sync_for = 2;
	run_engine(f, true, &out);
	assert_true(out.ok);
	text = read_host_file("host3", "etc/etcd.yaml");
	assert_string_equal(text, "existing host1=https://10.107.88.15:2380,host2=https://10.107.88.16:2380,"
				  "host3=https://10.107.88.17:2380\n");
	free(text);
	assert_int_equal(f->adds, 1);
	assert_int_equal(f->promotes, 3);
	assert_true(f->in_cluster[2] && f->started[2] && !f->learner[2]);
	/* Listed from here first, added, written, promoted after two "not in
	 * sync", then asked until healthy. */
	assert_non_null(strstr(f->events, "A3 b3 p3 p3 P3 a3 "));
	assert_string_equal(out.phases, "host3 learner added, host3 started, host3 catching up, host3 promoted");
	assert_int_equal(out.results[2][HOST_FAILED], 0);
	run_engine(f, true, &out);
	assert_true(out.ok);
	assert_int_equal(f->adds, 1);
	assert_null(strchr(f->events, 'A'));
	assert_null(strchr(f->events, 'P'));
	join_teardown(f);
}

/* A run killed after MemberAdd left host3 a learner: found by its peer
 * URL, not added again; written, promoted. With its etcd running as a
 * learner already, only the promotion is left. */
static void test_join_resumes_a_learner(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	join_setup(f);
	f->in_cluster[2] = f->learner[2] = true;
	f->id[2] = 103;
	run_engine(f, true, &out);
	assert_true(out.ok);
	assert_int_equal(f->adds, 0);
	if (getenv("TEST_ENGINE_DEBUG")) fprintf(stderr, "# events: %s\n", f->events);
	assert_non_null(strstr(f->events, "b3 P3 "));
	assert_string_equal(out.phases, "host3 learner added, host3 started, host3 promoted");
	assert_true(!f->learner[2]);

	f->learner[2] = true;	/* killed after its start, before the promotion */
	f->promotes = 0;
	run_engine(f, true, &out);
	assert_true(out.ok);
	assert_int_equal(f->adds, 0);
	assert_int_equal(f->promotes, 1);
	assert_true(!f->learner[2]);
	join_teardown(f);
}

/* A learner that never catches up is removed again and set aside. */
static void test_join_not_caught_up(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	join_setup(f);
	f->not_in_sync_for = ~0u;
	health_timeout_s = 1;
	run_engine(f, true, &out);
	assert_false(out.ok);
	assert_int_equal(out.results[2][HOST_FAILED], 1);
	assert_non_null(strstr(out.msg[2], "host3 did not catch up with the leader within"));
	assert_non_null(strstr(out.msg[2], "in sync with leader"));
	assert_non_null(strstr(out.msg[2], "removed from the cluster again"));
	assert_non_null(strstr(out.msg[2], "etcd.yaml.failed-join-20261201-000000"));
	assert_int_equal(f->removes, 1);
	assert_false(f->in_cluster[2]);
	assert_non_null(strstr(f->events, "R3 S3 "));
	assert_string_equal(out.phases, "host3 learner added, host3 started, host3 catching up, host3 join undone");
	join_teardown(f);
}

/* Between the plan and MemberAdd another member appeared: the manifest
 * planned would not match, so the learner is removed again, its files set
 * aside, and the step says why. */
static void test_join_cluster_changed(void **state)
{
	struct fake *f = *state;
	struct outcome out;
	char *text;

	join_setup(f);
	f->extra_on_add = true;
	run_engine(f, true, &out);
	assert_false(out.ok);
	assert_non_null(strstr(out.msg[2], "the cluster's members changed since the plan (etcd lists 4 members with host3"));
	assert_non_null(strstr(out.msg[2], "removed from the cluster again"));
	assert_non_null(strstr(f->events, "A3 R3 S3 "));
	text = read_host_file("host3", "etc/etcd.yaml");
	assert_null(text);	/* never written */
	f->extra_on_add = f->extra_member = false;
	join_teardown(f);
}

/* A voter that is not healthy: nobody joins, nothing is added. */
static void test_join_needs_healthy_voters(void **state)
{
	struct fake *f = *state;
	struct outcome out;
	char *text;

	join_setup(f);
	f->unhealthy_for[1] = ~0u;
	run_engine(f, true, &out);
	f->unhealthy_for[1] = 0;
	assert_false(out.ok);
	assert_int_equal(f->adds, 0);
	text = read_host_file("host3", "etc/etcd.yaml");
	assert_null(text);
	assert_non_null(strstr(out.msg[2], "host2 is not healthy (no leader); every voting member must be healthy before host3 joins"));
	join_teardown(f);
}

/* The file names host1 and host2; etcd lists host3 too (the leader).
 * With --prune-members host3 is removed: the leadership moved away
 * first, MemberRemove through a member that stays, its files set aside;
 * a second run removes nobody. */
static void test_prune_removes_a_member(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	join_setup(f);
	f->in_cluster[2] = f->started[2] = true;
	f->id[2] = 103;
	f->leader = 2;
	cluster.n_members = 2;
	prune_members = true;
	run_engine(f, true, &out);
	assert_true(out.ok);
	assert_int_equal(f->removes, 1);
	assert_int_equal(f->moves, 1);
	assert_false(f->in_cluster[2]);
	/* Connected, asked (the leader), leadership moved, removed, set aside. */
	assert_non_null(strstr(f->events, "a3 M3 R3 S3 "));
	run_engine(f, true, &out);
	assert_true(out.ok);
	assert_int_equal(f->removes, 1);
	prune_members = false;
	cluster.n_members = 3;
	f->leader = 0;
	join_teardown(f);
}

/* Two voters, the file keeps host1: removing host2 (its host is gone)
 * would need both to commit: refused before MemberRemove. */
static void test_prune_needs_quorum_now(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	join_setup(f);
	cluster.n_members = 1;
	prune_members = true;
	f->down[1] = true;
	run_engine(f, true, &out);
	f->down[1] = false;
	prune_members = false;
	cluster.n_members = 3;
	assert_false(out.ok);
	assert_int_equal(f->removes, 0);
	assert_non_null(strstr(out.msg[0], "removing host2 needs a quorum of the 2 voting members now, but only 1 are healthy"));
	join_teardown(f);
}

/* Removing host3 would leave host1 alone healthy of two voters: refused,
 * nothing removed, every member's step says why. Without --prune-members
 * host3 is only kept. */
static void test_prune_keeps_quorum(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	join_setup(f);
	f->in_cluster[2] = f->started[2] = true;
	f->id[2] = 103;
	f->unhealthy_for[1] = ~0u;
	cluster.n_members = 2;
	prune_members = true;
	run_engine(f, true, &out);
	assert_false(out.ok);
	assert_int_equal(f->removes, 0);
	assert_true(f->in_cluster[2]);
	assert_non_null(strstr(out.msg[0], "removing host3 would leave 1 of 2 voting members healthy, fewer than the quorum of 2; nothing was removed"));
	assert_non_null(strstr(out.msg[1], "nothing was removed"));
	prune_members = false;
	f->unhealthy_for[1] = 0;
	run_engine(f, true, &out);
	assert_true(out.ok);
	assert_int_equal(f->removes, 0);
	cluster.n_members = 3;
	join_teardown(f);
}

/* A member healthy again after its restart, but whose raft index stays
 * below where the cluster was before it: the roll stops there. */
static void test_rolling_not_caught_up(void **state)
{
	struct fake *f = *state;
	struct outcome out;

	make_hosts();
	free(cluster.etcd.version);
	cluster.etcd.version = xstrdup("3.5.16");
	steps_in_use = roll_steps;
	snprintf(roll_want, sizeof roll_want, "v1");
	run_engine(f, true, &out);
	snprintf(roll_want, sizeof roll_want, "v2");
	f->raft_behind[1] = true;
	health_timeout_s = 1;
	run_engine(f, true, &out);
	health_timeout_s = 0;
	f->raft_behind[1] = false;
	steps_in_use = test_steps;
	assert_false(out.ok);
	assert_non_null(strstr(out.msg[1], "did not catch up within"));
	assert_non_null(strstr(out.msg[1], "raft index 5, the cluster was at 100 before"));
	assert_non_null(strstr(out.msg[2], "not restarted, nothing changed here"));
}

WIZ_UNIT_TESTS(cmocka_unit_test_setup_teardown(test_rolling_one_at_a_time, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_rolling_not_caught_up, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_prune_removes_a_member, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_prune_keeps_quorum, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_prune_needs_quorum_now, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_join_adds_a_learner, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_join_resumes_a_learner, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_join_not_caught_up, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_join_needs_healthy_voters, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_join_cluster_changed, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_certs_take_turns, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_rolling_wrong_version, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_rolling_rolls_back, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_upgrade_read_waits_for_a_member, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_ask_when_planning, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_ask_waits_until_healthy, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_ask_bounded_and_unreachable, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_ask_cancelled_with_the_engine, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_ask_after_reconnect, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_command_exit_4, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_lost_session_reconnects_once, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_lost_during_bundle_not_repeated, setup, teardown),
	       cmocka_unit_test(test_markers_mid_line),
	       cmocka_unit_test_setup_teardown(test_fresh_then_converged, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_plan_is_one_exec, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_changed_since_the_plan, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_apply_reuses_the_plan, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_unreachable_host, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_failed_command, setup, teardown))
