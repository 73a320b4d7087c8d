/* Backups (backup.h): one snapshot taken from a member over its session,
 * written where nobody sees it until it is whole, and the list and pruning
 * of the local backups directory. */
#include "config.h"

#include "install/backup.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/loop.h"
#include "base/xmalloc.h"
#include "cluster/kvfile.h"
#include "etcd/etcd-ask.h"
#include "etcd/etcd-json.h"
#include "etcd/etcd-snapshot.h"
#include "install/fleet.h"

#define ASK_TIMEOUT_MS 5000
#define SILENCE_DEFAULT_MS 30000

char *backup_dir(const struct cluster *c)
{
	char *base = wiz_data_dir();
	char *dir = xasprintf("%s/%s/backups", base, c->name);

	free(base);
	return dir;
}

void backup_record_free(struct backup_record *r)
{
	free(r->path);
	free(r->cluster);
	free(r->member);
	memset(r, 0, sizeof *r);
}

/* ---- taking one ---- */

struct take;

struct try_member {
	struct take *t;
	size_t i;
	bool connected, asked;
	struct etcd_member_view v;
	char why[400];		/* not asked: why */
	struct etcd_ask *ask;
};

struct take {
	struct backup_opts opts;	/* a copy; what it points to is the caller's */
	const struct backup_opts *o;	/* &opts */
	struct backup_record record;
	struct backup_record *rec;	/* &record */
	struct wiz_error error;
	struct wiz_error *err;		/* &error */
	enum wiz_err rc;
	bool done;
	backup_done_fn on_done;
	void *done_ud;
	struct loop_timer *deliver;	/* the result goes out from the loop */
	struct try_member *m;
	size_t n, waiting;
	size_t chosen;
	struct etcd_ask *call;
	struct etcd_snapshot_decoder *dec;
	struct wiz_error feed_err;	/* the decoder's, when it stopped the stream */
	bool feed_failed;
	int fd;
	char *dir, *final, *part;
	bool tmpfile, linked;
	int write_errno;
};

static enum wiz_err stop(struct take *t, enum wiz_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum wiz_err stop(struct take *t, enum wiz_err code, const char *fmt, ...)
{
	va_list ap;

	if (t->done)
		return t->rc;
	va_start(ap, fmt);
	t->err->code = code;
	vsnprintf(t->err->msg, sizeof t->err->msg, fmt, ap);
	va_end(ap);
	t->rc = code;
	t->done = true;
	loop_timer_arm_in(t->deliver, 0);
	return code;
}

static void choose(struct take *t);

static void member_ready(struct take *t)
{
	if (t->waiting > 0 && --t->waiting == 0)
		choose(t);
}

static void on_asked(enum wiz_err code, const struct etcd_member_view *v, const char *msg, void *ud)
{
	struct try_member *m = ud;

	m->ask = NULL;
	if (code == WIZ_ERR_OK) {
		m->asked = true;
		m->v = *v;
	} else {
		snprintf(m->why, sizeof m->why, "%s", msg);
	}
	member_ready(m->t);
}

static void on_connected(void *ud, enum wiz_err code, const char *msg)
{
	struct try_member *m = ud;
	struct take *t = m->t;
	const struct host *h = &t->o->c->members[m->i];
	struct etcd_ask_opts ao = { 0 };

	if (code != WIZ_ERR_OK) {
		snprintf(m->why, sizeof m->why, "%s", msg ? msg : wiz_err_name(code));
		member_ready(t);
		return;
	}
	m->connected = true;
	ao.loop = t->o->loop;
	ao.session = fleet_session(t->o->fleet, m->i);
	ao.address = h->address;
	ao.name = h->name;
	ao.creds = t->o->creds;
	ao.timeout_ms = ASK_TIMEOUT_MS;
	m->ask = etcd_ask_member(&ao, on_asked, m);
}

/* Why member m cannot give the snapshot, or NULL. */
static const char *unfit(const struct try_member *m, char *buf, size_t size)
{
	if (!m->connected)
		snprintf(buf, size, _("not reachable: %s"), m->why);
	else if (!m->asked)
		snprintf(buf, size, "%s", m->why);
	else if (!m->v.answered)
		snprintf(buf, size, _("no answer: %s"), m->v.detail);
	else if (!m->v.healthy)
		snprintf(buf, size, _("not healthy: %s"), m->v.detail);
	else if (m->v.learner)
		snprintf(buf, size, "%s", _("a learner (it may not have every write yet)"));
	else
		return NULL;
	return buf;
}

static void start_stream(struct take *t);

static void on_status(enum wiz_err code, int status, const char *body, size_t len, const char *msg,
		      void *ud)
{
	struct take *t = ud;
	const struct host *h = &t->o->c->members[t->chosen];
	struct etcd_status st;
	struct wiz_error perr = { 0 };

	t->call = NULL;
	if (code != WIZ_ERR_OK || status != 200) {
		stop(t, WIZ_ERR_REMOTE, _("cannot read %s's status before the snapshot: %s"), h->name,
		     status ? body : msg);
		return;
	}
	if (etcd_json_parse_status(body, len, &st, &perr) != WIZ_ERR_OK) {
		etcd_status_free(&st);
		stop(t, WIZ_ERR_PARSE, "%s", perr.msg);
		return;
	}
	t->rec->revision = st.header.revision;
	snprintf(t->rec->version, sizeof t->rec->version, "%s", st.version);
	etcd_status_free(&st);
	start_stream(t);
}

static void choose(struct take *t)
{
	const struct backup_opts *o = t->o;
	char why[400], all[1200] = "";
	struct etcd_ask_opts ao = { 0 };
	size_t pick = t->n;

	if (t->done)
		return;
	if (o->member != NULL) {
		for (size_t i = 0; i < t->n; i++)
			if (strcmp(o->c->members[i].name, o->member) == 0)
				pick = i;
		if (pick == t->n) {
			stop(t, WIZ_ERR_USAGE, _("%s is not a member of cluster %s"), o->member, o->c->name);
			return;
		}
		if (unfit(&t->m[pick], why, sizeof why) != NULL) {
			stop(t, WIZ_ERR_UNREACHABLE, _("%s cannot give the snapshot: %s; leave out --member and a healthy voting member is chosen"),
			     o->member, why);
			return;
		}
	} else {
		/* A follower first: the leader has the most to do. */
		for (int pass = 0; pass < 2 && pick == t->n; pass++)
			for (size_t i = 0; i < t->n && pick == t->n; i++)
				if (unfit(&t->m[i], why, sizeof why) == NULL && (pass == 1 || !t->m[i].v.leader))
					pick = i;
		if (pick == t->n) {
			for (size_t i = 0; i < t->n; i++) {
				size_t used = strlen(all);

				snprintf(all + used, sizeof all - used, "%s%s: %s", i ? "; " : "", o->c->members[i].name,
					 unfit(&t->m[i], why, sizeof why));
			}
			stop(t, WIZ_ERR_UNREACHABLE, _("no healthy voting member to take the snapshot from (%s)"), all);
			return;
		}
	}
	t->chosen = pick;
	free(t->rec->member);
	t->rec->member = xstrdup(o->c->members[pick].name);
	if (o->chosen)
		o->chosen(o->c->members[pick].name, o->c->members[pick].address, o->ud);
	ao.loop = o->loop;
	ao.session = fleet_session(o->fleet, pick);
	ao.address = o->c->members[pick].address;
	ao.name = o->c->members[pick].name;
	ao.creds = o->creds;
	ao.timeout_ms = ASK_TIMEOUT_MS;
	t->call = etcd_call(&ao, "/v3/maintenance/status", "{}", on_status, t);
}

/* ---- the file ---- */

static bool write_all(int fd, const void *data, size_t len, int *saved_errno)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*saved_errno = n < 0 ? errno : EIO;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool snapshot_write(const void *data, size_t len, void *ud)
{
	struct take *t = ud;

	return write_all(t->fd, data, len, &t->write_errno);
}

static bool on_data(const char *data, size_t len, void *ud)
{
	struct take *t = ud;

	if (etcd_snapshot_feed(t->dec, data, len, &t->feed_err) != WIZ_ERR_OK) {
		t->feed_failed = true;
		return false;
	}
	if (t->o->progress)
		t->o->progress(etcd_snapshot_bytes(t->dec), etcd_snapshot_remaining(t->dec), t->o->ud);
	return true;
}

static char *stamp(time_t when)
{
	struct tm tm;
	char buf[32];

	gmtime_r(&when, &tm);
	strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
	return xstrdup(buf);
}

/* An unnamed file in dir (nothing to leave behind if we die), else
 * NAME.part made exclusively. */
static enum wiz_err open_output(struct take *t)
{
	t->fd = open(t->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	t->tmpfile = t->fd >= 0;
	if (t->fd < 0)
		t->fd = open(t->part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (t->fd < 0)
		return stop(t, WIZ_ERR_IO, _("cannot write a snapshot in %s: %s"), t->dir, strerror(errno));
	return WIZ_ERR_OK;
}

static void discard_output(struct take *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (!t->tmpfile || t->linked)
		unlink(t->part);
}

static enum wiz_err write_sidecar(struct take *t, struct wiz_error *err)
{
	struct kvlist kv = { 0 };
	char num[32], when[40];
	char *meta = xasprintf("%s.meta", t->final);
	struct tm tm;
	enum wiz_err rc;

	gmtime_r(&t->rec->taken, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	kvlist_set(&kv, "cluster", t->o->c->name);
	kvlist_set(&kv, "member", t->rec->member);
	snprintf(num, sizeof num, "%" PRIu64, t->rec->revision);
	kvlist_set(&kv, "revision", num);
	kvlist_set(&kv, "etcdVersion", t->rec->version);
	kvlist_set(&kv, "taken", when);
	snprintf(num, sizeof num, "%" PRIu64, t->rec->size);
	kvlist_set(&kv, "size", num);
	kvlist_set(&kv, "sha256", t->rec->sha256);
	rc = kvfile_save(meta, &kv, err);
	kvlist_free(&kv);
	free(meta);
	return rc;
}

/* The stream ended well: the whole file is checked, then made visible. */
static void keep(struct take *t)
{
	struct etcd_snapshot_info info;
	struct wiz_error why = { 0 };
	char proc[64];

	if (etcd_snapshot_finish(t->dec, &info, &why) != WIZ_ERR_OK) {
		stop(t, why.code, "%s", why.msg);
		return;
	}
	t->rec->size = info.size;
	memcpy(t->rec->sha256, info.sha256, sizeof t->rec->sha256);
	if (fsync(t->fd) != 0) {
		stop(t, WIZ_ERR_IO, _("cannot write %s: %s"), t->final, strerror(errno));
		return;
	}
	if (t->tmpfile) {
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", t->fd);
		unlink(t->part);	/* a stale one of an older, killed run */
		if (linkat(AT_FDCWD, proc, AT_FDCWD, t->part, AT_SYMLINK_FOLLOW) != 0) {
			stop(t, WIZ_ERR_IO, _("cannot write %s: %s"), t->part, strerror(errno));
			return;
		}
		t->linked = true;
	}
	if (rename(t->part, t->final) != 0) {
		stop(t, WIZ_ERR_IO, _("cannot write %s: %s"), t->final, strerror(errno));
		return;
	}
	t->linked = false;	/* nothing to unlink now */
	close(t->fd);
	t->fd = -1;
	{
		int dfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	free(t->rec->path);
	t->rec->path = xstrdup(t->final);
	if (write_sidecar(t, &why) != WIZ_ERR_OK) {
		/* A snapshot without its sidecar is not kept: no half backup. */
		unlink(t->final);
		stop(t, why.code, _("the sidecar of %s could not be written (%s); the snapshot was removed again"),
		     t->final, why.msg);
		return;
	}
	t->rc = WIZ_ERR_OK;
	t->done = true;
	loop_timer_arm_in(t->deliver, 0);
}

static void on_snapshot(enum wiz_err code, int status, const char *body, size_t len, const char *msg,
			void *ud)
{
	struct take *t = ud;
	const char *name = t->o->c->members[t->chosen].name;

	t->call = NULL;
	if (t->feed_failed) {
		if (t->feed_err.code == WIZ_ERR_IO)
			stop(t, WIZ_ERR_IO, _("cannot write the snapshot in %s: %s"), t->dir, strerror(t->write_errno));
		else
			stop(t, t->feed_err.code, _("the snapshot from %s is refused: %s"), name, t->feed_err.msg);
	} else if (code != WIZ_ERR_OK) {
		stop(t, code, _("the connection to %s failed during the snapshot: %s"), name, msg);
	} else if (status == 0) {
		stop(t, WIZ_ERR_REMOTE, _("the snapshot from %s stopped: %s"), name, msg);
	} else if (status != 200) {
		struct etcd_error e;
		struct wiz_error perr;

		etcd_json_parse_error(body, len, &e, &perr);
		stop(t, WIZ_ERR_REMOTE, _("%s refused the snapshot (HTTP %d): %s"), name, status,
		     e.message[0] ? e.message : body);
		etcd_error_free(&e);
	} else {
		keep(t);
	}
}

static void start_stream(struct take *t)
{
	const struct backup_opts *o = t->o;
	const struct host *h = &o->c->members[t->chosen];
	struct etcd_ask_opts ao = { 0 };
	char *when;

	t->rec->taken = time(NULL);
	if (o->out_path != NULL) {
		char *slash;

		t->final = xstrdup(o->out_path);
		t->dir = xstrdup(o->out_path);
		slash = strrchr(t->dir, '/');
		if (slash == NULL) {
			free(t->dir);
			t->dir = xstrdup(".");
		} else {
			slash[slash == t->dir] = '\0';
		}
	} else {
		when = stamp(t->rec->taken);
		t->dir = backup_dir(o->c);
		t->final = xasprintf("%s/%s-%s-%s.db", t->dir, o->c->name, when, h->name);
		free(when);
		struct wiz_error why = { 0 };

		if (wiz_mkdir_p(t->dir, 0700, &why) != WIZ_ERR_OK) {
			stop(t, why.code, "%s", why.msg);
			return;
		}
	}
	if (access(t->final, F_OK) == 0) {
		stop(t, WIZ_ERR_EXISTS, _("%s exists already: nothing was written"), t->final);
		return;
	}
	t->part = xasprintf("%s.part", t->final);
	if (open_output(t) != WIZ_ERR_OK)
		return;
	t->dec = etcd_snapshot_decoder_new(snapshot_write, t);
	ao.loop = o->loop;
	ao.session = fleet_session(o->fleet, t->chosen);
	ao.address = h->address;
	ao.name = h->name;
	ao.creds = o->creds;
	ao.timeout_ms = o->silence_ms ? o->silence_ms : SILENCE_DEFAULT_MS;
	t->call = etcd_call_stream(&ao, "/v3/maintenance/snapshot", "{}", on_data, on_snapshot, t);
}

/* Whatever is still in flight is dropped; a file not kept goes. */
static void take_free(struct take *t)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->m[i].ask != NULL)
			etcd_ask_cancel(t->m[i].ask);
		fleet_forget(t->o->fleet, i, &t->m[i]);
	}
	if (t->call != NULL)
		etcd_ask_cancel(t->call);
	if (t->fd >= 0)
		discard_output(t);
	loop_timer_del(t->deliver);
	etcd_snapshot_decoder_free(t->dec);
	backup_record_free(&t->record);
	free(t->m);
	free(t->dir);
	free(t->final);
	free(t->part);
	free(t);
}

static void deliver(struct loop_timer *timer, void *ud)
{
	struct take *t = ud;

	(void)timer;
	if (t->rc != WIZ_ERR_OK && t->fd >= 0)
		discard_output(t);
	t->on_done(t->rc, t->rc == WIZ_ERR_OK ? &t->record : NULL, t->rc == WIZ_ERR_OK ? NULL : &t->error,
		   t->done_ud);
	take_free(t);
}

struct backup_op *backup_start(const struct backup_opts *o, backup_done_fn done, void *ud)
{
	struct take *t = xcalloc(1, sizeof *t);

	t->opts = *o;
	t->o = &t->opts;
	t->rec = &t->record;
	t->err = &t->error;
	t->fd = -1;
	t->rc = WIZ_ERR_OK;
	t->on_done = done;
	t->done_ud = ud;
	t->deliver = loop_timer_add(o->loop, deliver, t);
	t->record.cluster = xstrdup(o->c->name);
	t->n = o->c->n_members;
	t->waiting = t->n;
	t->m = xcalloc(t->n ? t->n : 1, sizeof *t->m);
	for (size_t i = 0; i < t->n; i++) {
		t->m[i].t = t;
		t->m[i].i = i;
	}
	if (t->n == 0)
		stop(t, WIZ_ERR_USAGE, _("cluster %s has no members"), o->c->name);
	/* A connect that answers at once may finish the choice: each member
	 * is counted before any is connected. */
	for (size_t i = 0; i < t->n && !t->done; i++)
		fleet_connect(o->fleet, i, on_connected, &t->m[i]);
	return (struct backup_op *)t;
}

void backup_cancel(struct backup_op *op)
{
	if (op != NULL)
		take_free((struct take *)op);
}

/* backup_take's wait. */
struct take_sync {
	bool done;
	enum wiz_err rc;
	struct backup_record *rec;
	struct wiz_error *err;
};

static void take_sync_done(enum wiz_err rc, const struct backup_record *rec, const struct wiz_error *err,
			   void *ud)
{
	struct take_sync *s = ud;

	s->done = true;
	s->rc = rc;
	if (rec != NULL) {
		*s->rec = *rec;
		s->rec->path = rec->path ? xstrdup(rec->path) : NULL;
		s->rec->cluster = rec->cluster ? xstrdup(rec->cluster) : NULL;
		s->rec->member = rec->member ? xstrdup(rec->member) : NULL;
	}
	if (err != NULL)
		*s->err = *err;
}

static bool take_sync_over(void *ud)
{
	return ((struct take_sync *)ud)->done;
}

enum wiz_err backup_take(const struct backup_opts *o, struct backup_record *rec,
			 struct wiz_error *err)
{
	struct take_sync s = { false, WIZ_ERR_OK, rec, err };
	struct backup_op *op;
	enum wiz_err lrc;

	memset(rec, 0, sizeof *rec);
	op = backup_start(o, take_sync_done, &s);
	lrc = loop_run_until(o->loop, take_sync_over, &s, 0);
	if (!s.done) {
		backup_cancel(op);
		return wiz_error_set(err, lrc != WIZ_ERR_OK ? lrc : WIZ_ERR_CANCELLED, "%s",
				     _("the event loop failed"));
	}
	return s.rc;
}

/* ---- the directory ---- */

static int newest_first(const void *a, const void *b)
{
	const struct backup_record *x = a, *y = b;

	if (x->taken != y->taken)
		return x->taken < y->taken ? 1 : -1;
	return strcmp(y->path, x->path);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

enum wiz_err backup_list(const char *dir, struct backup_record **out, size_t *n,
			 struct wiz_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct backup_record *l = NULL;
	size_t count = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL)
		return errno == ENOENT ? WIZ_ERR_OK
				       : wiz_error_set(err, WIZ_ERR_IO, _("cannot read %s: %s"), dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		struct backup_record *r;
		struct kvlist kv = { 0 };
		struct stat st;
		char *meta;
		const char *v;

		if (de->d_name[0] == '.' || !ends_with(de->d_name, ".db"))
			continue;
		l = xreallocarray(l, count + 1, sizeof *l);
		r = &l[count++];
		memset(r, 0, sizeof *r);
		r->path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(r->path, &st) == 0) {
			r->size = (uint64_t)st.st_size;
			r->taken = st.st_mtime;
		}
		meta = xasprintf("%s.meta", r->path);
		kvfile_load(meta, &kv);
		free(meta);
		r->cluster = xstrdup((v = kvlist_get(&kv, "cluster")) ? v : "");
		r->member = xstrdup((v = kvlist_get(&kv, "member")) ? v : "");
		if ((v = kvlist_get(&kv, "revision")) != NULL)
			r->revision = strtoull(v, NULL, 10);
		snprintf(r->version, sizeof r->version, "%s", (v = kvlist_get(&kv, "etcdVersion")) ? v : "");
		snprintf(r->sha256, sizeof r->sha256, "%s", (v = kvlist_get(&kv, "sha256")) ? v : "");
		if ((v = kvlist_get(&kv, "taken")) != NULL) {
			struct tm tm = { 0 };

			if (strptime(v, "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL)
				r->taken = timegm(&tm);
		}
		v = kvlist_get(&kv, "size");
		r->sidecar_ok = v != NULL && strtoull(v, NULL, 10) == r->size && r->sha256[0];
		kvlist_free(&kv);
	}
	closedir(d);
	if (count > 1)
		qsort(l, count, sizeof *l, newest_first);
	*out = l;
	*n = count;
	return WIZ_ERR_OK;
}

void backup_list_free(struct backup_record *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		backup_record_free(&l[i]);
	free(l);
}

enum wiz_err backup_prune(const char *dir, size_t keep, struct strlist *removed,
			  struct wiz_error *err)
{
	struct backup_record *l;
	size_t n;
	enum wiz_err rc;

	if (keep < 1)
		return wiz_error_set(err, WIZ_ERR_USAGE, "%s", _("--keep must be 1 or more: prune never removes every backup"));
	rc = backup_list(dir, &l, &n, err);
	if (rc != WIZ_ERR_OK)
		return rc;
	for (size_t i = keep; i < n && rc == WIZ_ERR_OK; i++) {
		char *meta = xasprintf("%s.meta", l[i].path);

		if (unlink(l[i].path) != 0 && errno != ENOENT)
			rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot remove %s: %s"), l[i].path, strerror(errno));
		else {
			unlink(meta);
			strlist_push(removed, l[i].path);
		}
		free(meta);
	}
	backup_list_free(l, n);
	return rc;
}
