/* Whole-cluster disaster recovery from a snapshot (../shared/DAY2.md §3):
 * every member of the cluster file restored from the same snapshot into a
 * new logical cluster, guarded and resumable.
 *
 *  1. the snapshot checked here (size, its trailing SHA-256); every host
 *     connected; refused while a member is healthy (the cluster still has
 *     quorum) unless force;
 *  2. the plan and the question (confirm);
 *  3. the snapshot uploaded to every member and its SHA-256 checked there,
 *     before anything stops;
 *  4. kube-apiserver's manifest moved aside on the control-plane hosts;
 *     every member's etcd manifest moved out of kubelet's directory and
 *     etcd waited for until gone; each data directory renamed with a date
 *     suffix (never deleted); the snapshot restored (etcdutl, or etcdctl
 *     on 3.4) with the member's name and peer URL, the full initial
 *     cluster, a new token and --bump-revision/--mark-compacted where the
 *     tool has them;
 *  5. the members' manifests written again and every member waited for
 *     until healthy (the engine's certificates, manifest, etcdctl and
 *     verify steps); kube-apiserver's manifests put back.
 * Each host's phase is recorded on the host (templates/etcd-restore.sh),
 * so a restore killed half-way, run again with the same snapshot, goes on
 * where it stopped. */
#ifndef WIZ_RESTORE_H
#define WIZ_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "cluster/cluster.h"

struct loop;
struct fleet;
struct http_tls_creds;
struct pki_store;

/* What the local check of a snapshot file found. */
struct restore_snapshot {
	uint64_t size;
	char sha256[65];	/* of the whole file */
	uint64_t revision;	/* from its sidecar, 0 when none */
	char member[64];	/* from its sidecar, "" when none */
};

/* Reads path: the file etcd's snapshot is (a database and its 32-byte
 * SHA-256); WIZ_ERR_CRYPTO when the hash does not match. */
enum wiz_err restore_check_snapshot(const char *path, struct restore_snapshot *out,
				    struct wiz_error *err);

struct restore_opts {
	struct loop *loop;
	struct fleet *fleet;		/* every host of c (members, then control plane) */
	const struct cluster *c;
	struct pki_store *store;	/* certificates for the members, and the creds */
	struct http_tls_creds *creds;
	const char *snapshot;		/* the local file */
	bool force;			/* restore over a cluster that has quorum */
	unsigned health_timeout_s;	/* the final wait; 0: the default */
	const char *journal_path;
	/* One line of the plan or of progress. */
	void (*say)(const char *line, void *ud);
	/* After the plan: go on? (the question, or --yes). */
	bool (*confirm)(void *ud);
	void *ud;
};

/* WIZ_ERR_USAGE only for the refusal of a cluster that still has quorum
 * (nothing changed); WIZ_ERR_CANCELLED when confirm said no. */
enum wiz_err restore_run(const struct restore_opts *o, struct wiz_error *err);

#endif
