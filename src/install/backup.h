/* Backups of a cluster in its local state ($XDG_DATA_HOME/etcdwiz/<cluster>/
 * backups/, 0600 files in a 0700 directory): a snapshot streamed from one
 * healthy voting member through the maintenance Snapshot call of its v3
 * JSON gateway, over the member's SSH session, with the local store's
 * healthcheck-client pair (etcd-ask.h, etcd-snapshot.h); and the list and
 * pruning of what is kept.
 *
 * A snapshot is written where nobody sees it until it is whole: an
 * unnamed file in the target directory (O_TMPFILE), its trailing SHA-256
 * checked, fsynced, linked as NAME.part and renamed to NAME, the directory
 * fsynced; then its sidecar NAME.meta (kvfile: cluster, member, revision,
 * etcd version, time, size, SHA-256 of the file). A backup that fails,
 * or is killed, leaves no file. */
#ifndef WIZ_BACKUP_H
#define WIZ_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/error.h"
#include "cluster/cluster.h"

struct loop;
struct fleet;
struct http_tls_creds;

struct backup_record {
	char *path;		/* the snapshot file */
	char *cluster;
	char *member;
	uint64_t revision;	/* the member's revision when the snapshot began */
	char version[32];	/* the member's etcd */
	time_t taken;
	uint64_t size;
	char sha256[65];
	bool sidecar_ok;	/* list: the sidecar was read and agrees on the size */
};

struct backup_opts {
	struct loop *loop;
	struct fleet *fleet;	/* the cluster's hosts (members first) */
	const struct cluster *c;
	struct http_tls_creds *creds;
	const char *member;	/* NULL: a healthy voting member, a follower first */
	const char *out_path;	/* NULL: a new file in backup_dir() */
	unsigned silence_ms;	/* the longest silence of the stream; 0: 30 s */
	/* Which member, and how much has come (bytes, and what etcd says is
	 * left), as the snapshot streams in. */
	void (*chosen)(const char *member, const char *address, void *ud);
	void (*progress)(uint64_t bytes, uint64_t remaining, void *ud);
	void *ud;
};

/* $XDG_DATA_HOME/etcdwiz/<cluster>/backups (not made). Caller frees. */
char *backup_dir(const struct cluster *c);

/* Connects the members, asks each, streams the snapshot; done runs once,
 * from the loop, with the record (rc OK) or the error. What o points to
 * must live until then. backup_cancel stops it (done does not run; a
 * file not yet kept is dropped). */
typedef void (*backup_done_fn)(enum wiz_err rc, const struct backup_record *rec,
			       const struct wiz_error *err, void *ud);
struct backup_op;
struct backup_op *backup_start(const struct backup_opts *o, backup_done_fn done, void *ud);
void backup_cancel(struct backup_op *op);
/* The same, running the loop until it is done (the CLI). On success rec
 * says what was written (free it with backup_record_free). */
enum wiz_err backup_take(const struct backup_opts *o, struct backup_record *rec,
			 struct wiz_error *err);
void backup_record_free(struct backup_record *r);

/* The snapshots in dir with their sidecars, newest first. A missing
 * directory is an empty list. */
enum wiz_err backup_list(const char *dir, struct backup_record **out, size_t *n,
			 struct wiz_error *err);
void backup_list_free(struct backup_record *l, size_t n);
/* Removes all but the newest keep (>= 1) snapshots and their sidecars;
 * removed gets their paths. */
enum wiz_err backup_prune(const char *dir, size_t keep, struct strlist *removed,
			  struct wiz_error *err);

#endif
