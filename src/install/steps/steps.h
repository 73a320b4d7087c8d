/* Pure helpers of the step modules, shared with the engine and the tests. */
#ifndef WIZ_STEPS_H
#define WIZ_STEPS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "cluster/cluster.h"
#include "install/step.h"

/* fstab with every active swap line commented out; NULL when none is. */
char *swap_fstab_disabled(const char *fstab);
/* "v1.33.2" -> "1.33" */
char *k8s_minor(const char *version);
/* The Kubernetes (crio false) or CRI-O repository URL for a family, '/'-ended. */
char *packages_repo_url(const struct cluster *c, bool crio, enum os_family fam);
/* The shell text that waits (bounded) until kubelet runs etcd from a
 * manifest written just before. */
extern const char manifest_restart_wait[];
#define ETCD_MANIFEST_PATH "/etc/kubernetes/manifests/etcd.yaml"
/* The etcd version a manifest's image tag names ("3.5.16" of
 * registry.k8s.io/etcd:3.5.16-0); false when none. */
bool manifest_image_version(const char *yaml, char *buf, size_t n);
/* The etcd static pod for one member; NULL and err on failure. existing:
 * the member's manifest when its etcd has data (bootstrap flags kept). */
char *manifest_render(const struct cluster *c, const struct host *h, const char *token,
		      const char *existing, const char *join, struct wiz_error *err);
/* The same, with the etcdwiz.io/trusted-ca annotation (NULL: none): what
 * the member's etcd/ca.crt trusts (pki_trust_id). etcd reads its CA pool
 * only when it starts, so a new trust bundle must restart it; the changed
 * annotation makes kubelet do that, one member at a time in the roll. */
char *manifest_render_trusted(const struct cluster *c, const struct host *h, const char *token,
			      const char *existing, const char *join, const char *trusted_ca,
			      struct wiz_error *err);
/* kubeadm-config.yaml for the control plane; NULL and err on failure. */
char *kubeadm_config_render(const struct cluster *c, struct wiz_error *err);

#endif
