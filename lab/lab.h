/* The built-in lab: N Debian 12 (or 13) hosts on this machine, each a
 * systemd-nspawn container (systemd as PID 1, a real sshd) in its own
 * network namespace on a lab bridge, with its own overlay root over one
 * cached debootstrap tree. `etcdwiz lab up|status|down`; root only.
 *
 * Everything the lab makes is found again by name, so `lab down` works
 * without (or with a stale) state file:
 *   /var/lib/etcdwiz-lab/            LAB_DIR
 *     base/                          Debian 12's debootstrap tree, the shared
 *                                    lower layer (base-trixie/: Debian 13's)
 *     base.tmp/, base-build.log      while (and after) building it
 *     id_ed25519, id_ed25519.pub     the lab's SSH client key pair
 *     hostkeys/HOST/ssh_host_ed25519_key{,.pub}
 *                                    per-host SSH host keys, kept across
 *                                    down/up so fingerprints stay stable
 *     known_hosts, cluster.yaml      written by `lab up`
 *     state                          what `lab up` made (key=value lines)
 *     lock                           serialises up/down/status
 *     hosts/HOST/{upper,work,root}   overlay layers and the mounted root
 *     hosts/HOST/nspawn.{log,pid}    the detached systemd-nspawn
 *   network namespaces  etcdwiz-lab-HOST  (/run/netns)
 *   links               ewlab0 (bridge, 198.51.100.1/24), ewlab-HOST (veth)
 *   route               unreachable 198.51.100.0/24 metric 4242
 *   cgroups             etcdwiz-lab/HOST in the name=systemd and unified
 *                       hierarchies (each nspawn gets its own)
 */
#ifndef WIZ_LAB_H
#define WIZ_LAB_H

#include <stdbool.h>
#include <stdio.h>

#include "base/error.h"

#define LAB_DIR "/var/lib/etcdwiz-lab"
#define LAB_BRIDGE "ewlab0"
#define LAB_LINK_PREFIX "ewlab-"
#define LAB_NETNS_PREFIX "etcdwiz-lab-"
#define LAB_NET_PREFIX "198.51.100."
#define LAB_SUBNET "198.51.100.0/24"
#define LAB_GATEWAY "198.51.100.1"
#define LAB_ROUTE_METRIC "4242"
#define LAB_FIRST_HOST_OCTET 11
#define LAB_CLUSTER_NAME "lab"
/* The cache of etcd versions (etcd-cache.c), and where each host sees it
 * (read-only): the kubelet stand-in runs the version a pod's image names. */
#define LAB_ETCD_DIR LAB_DIR "/etcd"
#define LAB_ETCD_HOST_DIR "/opt/etcdwiz-lab/etcd"
#define LAB_KUBERNETES_VERSION "1.33"
#define LAB_SUITE "bookworm"
#define LAB_MAX_MEMBERS 7

struct lab_options {
	int members;		/* 3, 5 or 7 (1 is allowed for experiments) */
	bool control_plane;	/* one more host, cp-1 */
	int timeout;		/* seconds to wait for every sshd */
	FILE *progress;		/* progress lines; NULL = quiet */
	const char *etcd_version;	/* for the cluster file; NULL: as before, or the newest 3.5 */
	const char *release;	/* bookworm or trixie; NULL: as before, or bookworm */
};

/* The checks every subcommand starts with: root, and the tools it runs.
 * need_debootstrap: only when the base tree must be built. */
enum wiz_err lab_check_prerequisites(bool need_debootstrap,
				     struct wiz_error *err);

/* Create (or complete) the lab, wait for every sshd, write known_hosts and
 * the cluster file, print the hosts to out. A second run with the lab up
 * changes nothing. On failure everything it made is removed again. */
enum wiz_err lab_up(const struct lab_options *opt, FILE *out,
		    struct wiz_error *err);

/* Remove every container, process, mount, namespace, link, route and
 * cgroup of the lab, whatever state it is in. purge: also the cached base
 * tree, the key pairs and LAB_DIR itself. */
enum wiz_err lab_down(bool purge, FILE *out, struct wiz_error *err);

/* One line per host with its state. Returns WIZ_ERR_OK when a lab exists
 * and every host answers, WIZ_ERR_NOTFOUND when there is no lab,
 * WIZ_ERR_UNREACHABLE when some host is down. */
enum wiz_err lab_status(FILE *out, struct wiz_error *err);

/* The etcd versions of the lab: Debian's packages, fetched once with apt
 * into LAB_ETCD_DIR/<version>/ (etcd, etcdctl, etcdutl). */
enum wiz_err lab_etcd_cache_fill(FILE *progress, struct wiz_error *err);
bool lab_etcd_cached(const char *version);
/* The newest cached 3.5, or NULL. Caller frees. */
char *lab_etcd_default_version(void);
/* "3.4.23, 3.5.16, 3.5.30": the cached ones. Caller frees. */
char *lab_etcd_cached_list(void);

/* The path of the cluster file `lab up` writes. */
const char *lab_cluster_file(void);

#endif
