/* The whole-cluster restore (restore.h): checks here, then one phase at a
 * time on every host at once (templates/etcd-restore.sh, run with the
 * phase as its argument), then the engine's certificates, manifest,
 * etcdctl and verify steps bring the restored members up. */
#include "config.h"

#include "install/restore.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/loop.h"
#include "base/shquote.h"
#include "base/xmalloc.h"
#include "cluster/kvfile.h"
#include "etcd/etcd-ask.h"
#include "install/apply-support.h"
#include "install/engine.h"
#include "install/fleet.h"
#include "install/membership.h"
#include "install/template.h"
#include "pki/pki-store.h"

#define RESTORE_DIR "/var/lib/etcdwiz-restore"
#define RESTORE_STATE RESTORE_DIR "/state"
#define SNAPSHOT_MAX (UINT64_C(8) * 1024 * 1024 * 1024)

/* ---- the snapshot, here ---- */

enum wiz_err restore_check_snapshot(const char *path, struct restore_snapshot *out,
				    struct wiz_error *err)
{
	unsigned char buf[1 << 16], tail[32], db[32], file[32];
	size_t tail_len = 0;
	gnutls_hash_hd_t hdb, hfile;
	struct kvlist kv = { 0 };
	char *meta;
	const char *v;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	memset(out, 0, sizeof *out);
	if (fd < 0)
		return wiz_error_set(err, WIZ_ERR_IO, _("cannot read %s: %s"), path, strerror(errno));
	if (gnutls_hash_init(&hdb, GNUTLS_DIG_SHA256) < 0 || gnutls_hash_init(&hfile, GNUTLS_DIG_SHA256) < 0)
		abort();	/* only when out of memory */
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		size_t got = (size_t)n;

		gnutls_hash(hfile, buf, got);
		out->size += got;
		/* The last 32 bytes are the hash: held back from the database's. */
		if (got >= sizeof tail) {
			gnutls_hash(hdb, tail, tail_len);
			gnutls_hash(hdb, buf, got - sizeof tail);
			memcpy(tail, buf + got - sizeof tail, sizeof tail);
			tail_len = sizeof tail;
		} else {
			size_t over = tail_len + got > sizeof tail ? tail_len + got - sizeof tail : 0;

			gnutls_hash(hdb, tail, over);
			memmove(tail, tail + over, tail_len - over);
			memcpy(tail + tail_len - over, buf, got);
			tail_len += got - over;
		}
	}
	close(fd);
	gnutls_hash_deinit(hdb, db);
	gnutls_hash_deinit(hfile, file);
	if (n < 0)
		return wiz_error_set(err, WIZ_ERR_IO, _("cannot read %s: %s"), path, strerror(errno));
	if (out->size < 512 + 32 || out->size % 512 != 32 || out->size > SNAPSHOT_MAX)
		return wiz_error_set(err, WIZ_ERR_PARSE,
				     _("%s is not an etcd snapshot: %" PRIu64 " bytes is not a database and its 32-byte SHA-256"),
				     path, out->size);
	if (memcmp(db, tail, sizeof db) != 0)
		return wiz_error_set(err, WIZ_ERR_CRYPTO,
				     _("%s is damaged: its trailing SHA-256 does not match its database; nothing was changed"),
				     path);
	for (size_t i = 0; i < sizeof file; i++)
		snprintf(out->sha256 + 2 * i, 3, "%02x", file[i]);
	meta = xasprintf("%s.meta", path);
	kvfile_load(meta, &kv);
	free(meta);
	if ((v = kvlist_get(&kv, "revision")) != NULL)
		out->revision = strtoull(v, NULL, 10);
	if ((v = kvlist_get(&kv, "member")) != NULL)
		snprintf(out->member, sizeof out->member, "%s", v);
	kvlist_free(&kv);
	return WIZ_ERR_OK;
}

/* ---- one operation on many hosts ---- */

struct rs;

struct job {
	struct rs *rs;
	size_t i;
	bool busy;
	enum wiz_err code;
	int exit_status;
	char *out, *errout;
	struct etcd_member_view v;	/* asks */
	struct etcd_ask *ask;
};

struct rs {
	const struct restore_opts *o;
	struct transport t;
	size_t n_hosts, n_members;
	struct job *jobs;
	size_t pending;
	char *token;
	char (*phase)[16];	/* each host's recorded phase, "" = none */
	unsigned engine_failed;
};

static const struct host *host_at(const struct rs *rs, size_t i)
{
	const struct cluster *c = rs->o->c;

	return i < c->n_members ? &c->members[i] : &c->control_plane.hosts[i - c->n_members];
}

static void say(const struct rs *rs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const struct rs *rs, const char *fmt, ...)
{
	va_list ap;
	char *line;

	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	if (rs->o->say)
		rs->o->say(line, rs->o->ud);
	free(line);
}

static bool none_pending(void *ud)
{
	return ((struct rs *)ud)->pending == 0;
}

static void job_reset(struct job *j)
{
	free(j->out);
	free(j->errout);
	j->out = j->errout = NULL;
	j->code = WIZ_ERR_OK;
	j->exit_status = 0;
}

static void connected(void *ud, enum wiz_err code, const char *msg)
{
	struct job *j = ud;

	j->busy = false;
	j->code = code;
	j->errout = xstrdup(msg ? msg : "");
	j->rs->pending--;
}

static void exec_done(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct job *j = ud;

	(void)op;
	j->busy = false;
	j->code = r->code;
	j->exit_status = r->exit_status;
	j->out = xstrdup(r->out ? r->out : "");
	j->errout = xstrdup(r->code != WIZ_ERR_OK && r->err.msg[0] ? r->err.msg : r->errout ? r->errout : "");
	j->rs->pending--;
}

static void asked(enum wiz_err code, const struct etcd_member_view *v, const char *msg, void *ud)
{
	struct job *j = ud;

	j->ask = NULL;
	j->busy = false;
	j->code = code;
	j->v = *v;
	if (code != WIZ_ERR_OK)
		j->errout = xstrdup(msg ? msg : "");
	j->rs->pending--;
}

static enum wiz_err wait_all(struct rs *rs, struct wiz_error *err)
{
	enum wiz_err rc = loop_run_until(rs->o->loop, none_pending, rs, 0);

	if (rc != WIZ_ERR_OK)
		return wiz_error_set(err, rc, "%s", _("the event loop failed"));
	return WIZ_ERR_OK;
}

/* The first host whose job failed: err says which and why. */
static enum wiz_err first_failure(struct rs *rs, const bool *ran, const char *what, struct wiz_error *err)
{
	for (size_t i = 0; i < rs->n_hosts; i++) {
		struct job *j = &rs->jobs[i];
		char *msg;
		size_t n;

		if (!ran[i] || (j->code == WIZ_ERR_OK && j->exit_status == 0))
			continue;
		msg = xstrdup(j->errout && j->errout[0] ? j->errout : j->out ? j->out : "");
		n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		wiz_error_set(err, j->code != WIZ_ERR_OK ? j->code : WIZ_ERR_REMOTE, _("%s on %s failed: %s"), what,
			      host_at(rs, i)->name, msg[0] ? msg : wiz_err_name(j->code));
		free(msg);
		return err->code;
	}
	return WIZ_ERR_OK;
}

/* The restore script of host i, rendered for it. */
static char *script_for(struct rs *rs, size_t i, const struct restore_snapshot *snap)
{
	const struct cluster *c = rs->o->c;
	const struct host *h = host_at(rs, i);
	struct template_vars v;
	struct wiz_error err;
	char *text = NULL, *q, *cluster = xstrdup(""), *path;

	for (size_t k = 0; k < c->n_members; k++) {
		char *peer = member_peer_url(&c->members[k]);
		char *next = xasprintf("%s%s%s=%s", cluster, k ? "," : "", c->members[k].name, peer);

		free(peer);
		free(cluster);
		cluster = next;
	}
	template_vars_init(&v);
#define SETQ(name, value)                              \
	do {                                           \
		q = sh_quote(value);                   \
		template_set(&v, name, q);             \
		free(q);                               \
	} while (0)
	template_set(&v, "host", h->name);
	template_set(&v, "cluster", c->name);
	SETQ("sha", snap->sha256);
	SETQ("token", rs->token);
	SETQ("state", RESTORE_STATE);
	path = xasprintf("%s/%s.db", RESTORE_DIR, snap->sha256);
	SETQ("snapshot", path);
	free(path);
	SETQ("data_dir", c->etcd.data_dir);
	SETQ("member", h->name);
	SETQ("initial_cluster", cluster);
	path = member_peer_url(h);
	SETQ("peer_url", path);
	free(path);
	template_set(&v, "version", c->etcd.version);
#undef SETQ
	if (template_render_text("etcd-restore.sh", &v, &text, &err) != WIZ_ERR_OK) {
		say(rs, "%s", err.msg);
		text = NULL;
	}
	template_vars_free(&v);
	free(cluster);
	return text;
}

/* Phase on the hosts where want[i]: each runs the script with it. */
static enum wiz_err phase(struct rs *rs, const char *name, const bool *want, const struct restore_snapshot *snap,
			  unsigned timeout_ms, const char *what, struct wiz_error *err)
{
	char **scripts = xcalloc(rs->n_hosts, sizeof *scripts);
	char *cmd = xasprintf("sh -s -- %s", name);
	enum wiz_err rc;

	for (size_t i = 0; i < rs->n_hosts; i++) {
		struct ssh_exec_opts xo = { 0 };
		struct job *j = &rs->jobs[i];

		job_reset(j);
		if (!want[i])
			continue;
		scripts[i] = script_for(rs, i, snap);
		if (scripts[i] == NULL) {
			j->code = WIZ_ERR_INVALID;
			j->errout = xstrdup(_("the restore script could not be rendered"));
			continue;
		}
		xo.as_root = true;
		xo.input = scripts[i];
		xo.input_len = strlen(scripts[i]);
		xo.timeout_ms = timeout_ms;
		j->busy = true;
		rs->pending++;
		rs->t.ops->exec(rs->t.self, i, cmd, &xo, exec_done, j);
	}
	rc = wait_all(rs, err);
	if (rc == WIZ_ERR_OK)
		rc = first_failure(rs, want, what, err);
	for (size_t i = 0; i < rs->n_hosts; i++)
		free(scripts[i]);
	free(scripts);
	free(cmd);
	return rc;
}

/* ---- the engine's steps, for the restored members ---- */

static void restored_step_done(const struct engine_host *h, const struct step *s, enum host_result r,
			const char *msg, void *ud)
{
	struct rs *rs = ud;

	if (r == HOST_FAILED || r == HOST_UNREACHABLE) {
		rs->engine_failed++;
		say(rs, "%s %s: %s%s%s", engine_host_name(h), s->name, _(host_result_text(r)), msg ? ": " : "",
		    msg ? msg : "");
	} else if (strcmp(s->name, "verify") == 0) {
		say(rs, _("%s: healthy"), engine_host_name(h));
	}
}

/* The engine's steps on the members: install (a member on a new host gets
 * what it needs, restore's tool among it) or start (manifests, health). */
static enum wiz_err engine_steps(struct rs *rs, bool install, struct wiz_error *err)
{
	static const char *const install_steps[] = { "preflight", "swap", "modules", "sysctl", "packages",
						     "kubelet", "certificates", "etcdctl", NULL };
	static const char *const start_steps[] = { "certificates", "manifest", "etcdctl", "verify", NULL };
	const char *const *names = install ? install_steps : start_steps;
	struct strlist steps = { 0 }, limit = { 0 };
	struct engine_opts eo = { 0 };
	struct engine_sink sink = { .host_done = restored_step_done, .ud = rs };
	struct engine *e;
	enum wiz_err rc;
	bool ok;

	for (size_t i = 0; names[i] != NULL; i++)
		strlist_push(&steps, names[i]);
	for (size_t i = 0; i < rs->n_members; i++)
		strlist_push(&limit, rs->o->c->members[i].name);
	eo.apply = true;
	eo.steps = &steps;
	eo.limit = &limit;
	eo.cluster_token = rs->token;
	eo.health_timeout_s = rs->o->health_timeout_s;
	eo.journal_path = rs->o->journal_path;
	eo.read_local = apply_read_local;
	eo.read_local_ud = rs->o->store;
	eo.etcd_creds = apply_etcd_creds;
	eo.etcd_creds_ud = rs->o->store;
	rs->engine_failed = 0;
	e = engine_new(rs->o->loop, &rs->t, rs->o->c, &eo, &sink);
	rc = engine_run(e);
	ok = rc == WIZ_ERR_OK && engine_succeeded(e) && rs->engine_failed == 0;
	engine_free(e);
	strlist_free(&steps);
	strlist_free(&limit);
	if (!ok)
		return wiz_error_set(err, WIZ_ERR_REMOTE, "%s",
				     install ? _("the members could not all be installed (see above); nothing was stopped yet: fix that, then run the same restore again")
					     : _("the restored members did not all come up healthy (see above); run the same restore again to go on"));
	return WIZ_ERR_OK;
}

/* ---- the whole ---- */

static enum wiz_err connect_all(struct rs *rs, struct wiz_error *err)
{
	bool *all = xcalloc(rs->n_hosts, sizeof *all);
	enum wiz_err rc;

	for (size_t i = 0; i < rs->n_hosts; i++) {
		job_reset(&rs->jobs[i]);
		all[i] = true;
		rs->jobs[i].busy = true;
		rs->pending++;
	}
	for (size_t i = 0; i < rs->n_hosts; i++)
		fleet_connect(rs->o->fleet, i, connected, &rs->jobs[i]);
	rc = wait_all(rs, err);
	for (size_t i = 0; i < rs->n_hosts && rc == WIZ_ERR_OK; i++)
		if (rs->jobs[i].code != WIZ_ERR_OK)
			rc = wiz_error_set(err, rs->jobs[i].code,
					   _("%s is not reachable (%s): a restore needs every host of the cluster file, whose members are the new cluster; bring it back, or replace it in the file first"),
					   host_at(rs, i)->name, rs->jobs[i].errout);
	free(all);
	return rc;
}

/* Does any member answer healthy? (Then the cluster has quorum.) */
static size_t healthy_members(struct rs *rs, struct wiz_error *err, char *who, size_t who_len)
{
	size_t healthy = 0;

	who[0] = '\0';
	for (size_t i = 0; i < rs->n_members; i++) {
		struct etcd_ask_opts ao = { 0 };
		struct job *j = &rs->jobs[i];

		job_reset(j);
		memset(&j->v, 0, sizeof j->v);
		ao.loop = rs->o->loop;
		ao.session = fleet_session(rs->o->fleet, i);
		ao.address = host_at(rs, i)->address;
		ao.name = host_at(rs, i)->name;
		ao.creds = rs->o->creds;
		ao.timeout_ms = 5000;
		j->busy = true;
		rs->pending++;
		j->ask = etcd_ask_member(&ao, asked, j);
	}
	if (wait_all(rs, err) != WIZ_ERR_OK)
		return 0;
	for (size_t i = 0; i < rs->n_members; i++)
		if (rs->jobs[i].v.answered && rs->jobs[i].v.healthy) {
			size_t used = strlen(who);

			snprintf(who + used, who_len - used, "%s%s", healthy ? ", " : "", host_at(rs, i)->name);
			healthy++;
		}
	return healthy;
}

/* Each host's recorded phase; a restore from another snapshot begun on
 * any of them stops this one. */
static enum wiz_err read_states(struct rs *rs, const struct restore_snapshot *snap, bool *resuming,
				struct wiz_error *err)
{
	bool *all = xcalloc(rs->n_hosts, sizeof *all);
	enum wiz_err rc;

	*resuming = false;
	for (size_t i = 0; i < rs->n_hosts; i++) {
		struct ssh_exec_opts xo = { .as_root = true, .timeout_ms = 30000 };

		job_reset(&rs->jobs[i]);
		all[i] = true;
		rs->jobs[i].busy = true;
		rs->pending++;
		rs->t.ops->exec(rs->t.self, i, "cat " RESTORE_STATE " 2>/dev/null; true", &xo, exec_done, &rs->jobs[i]);
	}
	rc = wait_all(rs, err);
	if (rc == WIZ_ERR_OK)
		rc = first_failure(rs, all, _("reading the restore's state"), err);
	for (size_t i = 0; i < rs->n_hosts && rc == WIZ_ERR_OK; i++) {
		const char *out = rs->jobs[i].out, *sha = strstr(out, "sha="), *tok = strstr(out, "token="),
			   *ph = strstr(out, "phase=");

		rs->phase[i][0] = '\0';
		if (sha == NULL)
			continue;
		if (strncmp(sha + 4, snap->sha256, 64) != 0) {
			rc = wiz_error_set(err, WIZ_ERR_EXISTS,
					   _("%s has a restore from another snapshot begun (%s): finish that one by running it again with its snapshot, or remove %s there if it was given up"),
					   host_at(rs, i)->name, RESTORE_STATE, RESTORE_STATE);
			break;
		}
		/* Resumed only once a member stopped: before that, nothing that
		 * quorum protects has changed, and the question is asked again. */
		if (ph != NULL && i < rs->n_members &&
		    (strncmp(ph + 6, "stopped", 7) == 0 || strncmp(ph + 6, "restored", 8) == 0))
			*resuming = true;
		if (tok != NULL) {
			size_t n = strcspn(tok + 6, "\n");

			free(rs->token);
			rs->token = xstrndup(tok + 6, n);
		}
		if (ph != NULL)
			snprintf(rs->phase[i], sizeof rs->phase[i], "%.*s", (int)strcspn(ph + 6, "\n"), ph + 6);
	}
	free(all);
	return rc;
}

static enum wiz_err upload_all(struct rs *rs, const struct restore_snapshot *snap, const bool *want,
			       struct wiz_error *err)
{
	char *data = NULL, *target = xasprintf("%s/%s.db", RESTORE_DIR, snap->sha256);
	size_t len = 0;
	enum wiz_err rc;
	bool any = false;

	for (size_t i = 0; i < rs->n_hosts; i++)
		any |= want[i];
	if (!any) {
		free(target);
		return WIZ_ERR_OK;
	}
	rc = wiz_read_file(rs->o->snapshot, (size_t)SNAPSHOT_MAX, &data, &len, err);
	for (size_t i = 0; i < rs->n_hosts && rc == WIZ_ERR_OK; i++) {
		struct ssh_exec_opts xo = { .as_root = true, .timeout_ms = 30000 };

		job_reset(&rs->jobs[i]);
		if (!want[i])
			continue;
		rs->jobs[i].busy = true;
		rs->pending++;
		rs->t.ops->exec(rs->t.self, i, "install -d -m 0700 " RESTORE_DIR, &xo, exec_done, &rs->jobs[i]);
	}
	if (rc == WIZ_ERR_OK)
		rc = wait_all(rs, err);
	if (rc == WIZ_ERR_OK)
		rc = first_failure(rs, want, _("making the restore's directory"), err);
	for (size_t i = 0; i < rs->n_hosts && rc == WIZ_ERR_OK; i++) {
		struct ssh_upload_opts uo = { 0 };

		job_reset(&rs->jobs[i]);
		if (!want[i])
			continue;
		uo.path = target;
		uo.data = data;
		uo.len = len;
		uo.mode = 0600;
		uo.owner = "root:root";
		uo.as_root = true;
		uo.timeout_ms = 600000;
		rs->jobs[i].busy = true;
		rs->pending++;
		ssh_upload(fleet_session(rs->o->fleet, i), &uo, exec_done, &rs->jobs[i]);
	}
	if (rc == WIZ_ERR_OK)
		rc = wait_all(rs, err);
	if (rc == WIZ_ERR_OK)
		rc = first_failure(rs, want, _("uploading the snapshot"), err);
	free(data);
	free(target);
	return rc;
}

enum wiz_err restore_run(const struct restore_opts *o, struct wiz_error *err)
{
	const struct cluster *c = o->c;
	struct restore_snapshot snap;
	struct rs rs;
	bool resuming = false, *members = NULL, *cp = NULL, *todo = NULL;
	char who[300], stamp[32];
	size_t healthy;
	enum wiz_err rc;
	time_t now = time(NULL);
	struct tm tm;

	memset(&rs, 0, sizeof rs);
	rs.o = o;
	rc = restore_check_snapshot(o->snapshot, &snap, err);
	if (rc != WIZ_ERR_OK)
		return rc;
	say(&rs, _("Snapshot %s: %" PRIu64 " bytes, SHA-256 %s, its trailing hash checked%s"), o->snapshot, snap.size,
	    snap.sha256, snap.revision ? "" : _(" (no sidecar: its revision is not known here)"));
	rs.t = fleet_transport(o->fleet);
	rs.n_members = c->n_members;
	rs.n_hosts = c->n_members + c->control_plane.n_hosts;
	rs.jobs = xcalloc(rs.n_hosts, sizeof *rs.jobs);
	rs.phase = xcalloc(rs.n_hosts, sizeof *rs.phase);
	members = xcalloc(rs.n_hosts, sizeof *members);
	cp = xcalloc(rs.n_hosts, sizeof *cp);
	todo = xcalloc(rs.n_hosts, sizeof *todo);
	for (size_t i = 0; i < rs.n_hosts; i++) {
		rs.jobs[i].rs = &rs;
		rs.jobs[i].i = i;
		members[i] = i < rs.n_members;
		cp[i] = i >= rs.n_members;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
	rs.token = xasprintf("%s-restore-%s", c->name, stamp);

	if ((rc = connect_all(&rs, err)) != WIZ_ERR_OK || (rc = read_states(&rs, &snap, &resuming, err)) != WIZ_ERR_OK)
		goto out;
	healthy = healthy_members(&rs, err, who, sizeof who);
	if (resuming) {
		say(&rs, _("A restore from this snapshot was begun already: it goes on where each host stopped."));
	} else if (healthy > 0 && !o->force) {
		/* An earlier run stopped after moving kube-apiserver aside and
		 * before any member: the cluster it left runs, so it goes back. */
		bool any = false;

		for (size_t i = 0; i < rs.n_hosts; i++) {
			todo[i] = cp[i] && rs.phase[i][0] != '\0';
			any |= todo[i];
		}
		if (any && phase(&rs, "apiserver-back", todo, &snap, 60000, _("putting kube-apiserver's manifest back"),
				 err) == WIZ_ERR_OK)
			say(&rs, "%s", _("kube-apiserver's manifest is back where an earlier restore had moved it aside."));
		rc = wiz_error_set(err, WIZ_ERR_USAGE,
				   _("cluster %s still has quorum (%s answer healthy): a restore replaces it with the snapshot and loses every write made since; nothing was changed (give --force to restore anyway)"),
				   c->name, who);
		goto out;
	}
	/* The plan. */
	say(&rs, _("Restore of cluster %s from it, as a new cluster (token %s):"), c->name, rs.token);
	if (healthy > 0 && !resuming && snap.revision)
		say(&rs, _("  ! %s answer healthy now (--force): every write after revision %" PRIu64 " is lost"), who,
		    snap.revision);
	else if (healthy > 0 && !resuming)
		say(&rs, _("  ! %s answer healthy now (--force): every write made after the snapshot was taken is lost"),
		    who);
	if (snap.revision)
		say(&rs, _("  the snapshot is at revision %" PRIu64 " (taken from %s)"), snap.revision,
		    snap.member[0] ? snap.member : "?");
	for (size_t i = 0; i < c->control_plane.n_hosts; i++)
		say(&rs, _("  %s: kube-apiserver's manifest (if there) moved aside during the restore, put back after"),
		    c->control_plane.hosts[i].name);
	for (size_t i = 0; i < rs.n_members; i++)
		say(&rs, _("  %s: the snapshot uploaded and checked; etcd stopped (its manifest moved out of %s); %s moved aside to %s.restore-DATE (never deleted); restored as %s; started again%s%s"),
		    c->members[i].name, "/etc/kubernetes/manifests", c->etcd.data_dir, c->etcd.data_dir,
		    c->members[i].name, rs.phase[i][0] ? _("; recorded there so far: ") : "", rs.phase[i]);
	if (o->confirm != NULL && !o->confirm(o->ud)) {
		rc = wiz_error_set(err, WIZ_ERR_CANCELLED, "%s", _("Nothing was changed."));
		goto out;
	}
	{
		struct pki_report rep = { 0 };

		rc = pki_store_generate(o->store, time(NULL), &rep);
		if (rc != WIZ_ERR_OK)
			wiz_error_set(err, rc, "%s", rep.errors.n ? rep.errors.items[0]
							 : _("the certificates of the local store could not be made"));
		pki_report_free(&rep);
		if (rc != WIZ_ERR_OK)
			goto out;
	}
	/* A member on a new host gets what apply gives it before etcd runs
	 * (packages, kubelet, certificates, etcdctl); on the others this
	 * changes nothing. Nothing stops before this. */
	say(&rs, "%s", _("Checking what every member needs (apply's steps up to etcdctl)..."));
	if ((rc = engine_steps(&rs, true, err)) != WIZ_ERR_OK)
		goto out;
	/* 3: the snapshot on every member not restored yet, checked there. */
	for (size_t i = 0; i < rs.n_hosts; i++)
		todo[i] = members[i] && strcmp(rs.phase[i], "restored") != 0;
	say(&rs, "%s", _("Uploading the snapshot to the members..."));
	if ((rc = upload_all(&rs, &snap, todo, err)) != WIZ_ERR_OK ||
	    (rc = phase(&rs, "check", todo, &snap, 120000, _("checking the snapshot"), err)) != WIZ_ERR_OK)
		goto out;
	/* 4: stop what uses etcd, then etcd, then restore. */
	if ((rc = phase(&rs, "apiserver-aside", cp, &snap, 60000, _("moving kube-apiserver's manifest aside"), err)) !=
	    WIZ_ERR_OK)
		goto out;
	say(&rs, "%s", _("Stopping etcd on every member..."));
	if ((rc = phase(&rs, "stop", members, &snap, 180000, _("stopping etcd"), err)) != WIZ_ERR_OK)
		goto out;
	say(&rs, "%s", _("Restoring every member's data directory from the snapshot..."));
	if ((rc = phase(&rs, "restore", members, &snap, 600000, _("restoring the data directory"), err)) != WIZ_ERR_OK)
		goto out;
	for (size_t i = 0; i < rs.n_members; i++)
		if (rs.jobs[i].out && rs.jobs[i].out[0])
			say(&rs, "  %s: %.*s", c->members[i].name, (int)strcspn(rs.jobs[i].out, "\n"), rs.jobs[i].out);
	/* 5: the members up again, healthy; then kube-apiserver. */
	say(&rs, "%s", _("Starting the restored members and waiting until every one is healthy..."));
	if ((rc = engine_steps(&rs, false, err)) != WIZ_ERR_OK)
		goto out;
	if ((rc = phase(&rs, "apiserver-back", cp, &snap, 60000, _("putting kube-apiserver's manifest back"), err)) !=
	    WIZ_ERR_OK)
		goto out;
	rc = phase(&rs, "done", members, &snap, 60000, _("removing the uploaded snapshot"), err);
out:
	for (size_t i = 0; i < rs.n_hosts; i++) {
		if (rs.jobs[i].ask != NULL)
			etcd_ask_cancel(rs.jobs[i].ask);
		fleet_forget(o->fleet, i, &rs.jobs[i]);
		job_reset(&rs.jobs[i]);
	}
	free(rs.jobs);
	free(rs.phase);
	free(rs.token);
	free(members);
	free(cp);
	free(todo);
	return rc;
}
