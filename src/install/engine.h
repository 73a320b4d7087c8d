/* The install engine: runs the steps of step_table on every host through
 * the one event loop. For each step, all hosts run the step's read-only
 * check at once; each host's plan is computed, shown, and (when applying)
 * carried out action by action, then checked again: a step is done on a
 * host only when its plan there is empty. Hosts move through the steps
 * together (a barrier per step); a failed or unreachable host stops while
 * the others go on. Progress goes to a sink (the CLI prints lines, the
 * wizard draws), and every event to a journal file (never a secret). */
#ifndef WIZ_ENGINE_H
#define WIZ_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/error.h"
#include "cluster/cluster.h"
#include "install/plan.h"
#include "install/step.h"

struct loop;
struct ssh_ctx;
struct engine;
struct engine_host;

#define HOST_RESULT_INFO(_)             \
	_(OK, "ok")                     \
	_(CHANGED, "changed")           \
	_(FAILED, "failed")             \
	_(SKIPPED, "skipped")           \
	_(UNREACHABLE, "unreachable")

enum host_result {
#define HOST_RESULT_ENUM(id, name) HOST_##id,
	HOST_RESULT_INFO(HOST_RESULT_ENUM)
#undef HOST_RESULT_ENUM
	HOST_RESULT_COUNT
};
const char *host_result_name(enum host_result r);

struct engine_sink {
	void (*step_started)(const struct step *s, void *ud);
	/* A host's plan for a step (after its check). */
	void (*planned)(const struct engine_host *h, const struct step *s,
			const struct plan *p, void *ud);
	/* About to carry out action i of n. */
	void (*action)(const struct engine_host *h, const struct step *s,
		       const struct action *a, size_t i, size_t n, void *ud);
	/* The host's result for the step; msg explains a failure. */
	void (*host_done)(const struct engine_host *h, const struct step *s,
			  enum host_result r, const char *msg, void *ud);
	void *ud;
};

struct engine_opts {
	bool apply;			/* false: plan only, change nothing */
	const struct strlist *limit;	/* host names, or NULL for all */
	const struct strlist *steps;	/* step names, or NULL for all */
	const struct strlist *ignore_preflight;
	const char *cluster_token;
	bool accept_new_host_keys;	/* --accept-new-host-keys */
	bool kubeadm_init;		/* --kubeadm-init */
	unsigned health_timeout_s;	/* --health-timeout; 0: VERIFY_DEFAULT_TIMEOUT_S */
	const char *journal_path;	/* NULL: no journal */
	/* Reads a file of the local PKI store for a host, by its path under
	 * /etc/kubernetes/pki (e.g. "etcd/server.crt"). */
	char *(*read_local)(const struct host *h, bool is_member, const char *rel,
			    size_t *len, void *ud);
	void *read_local_ud;
};

struct engine *engine_new(struct loop *loop, struct ssh_ctx *ssh,
			  const struct cluster *c, const struct engine_opts *opts,
			  const struct engine_sink *sink);
void engine_free(struct engine *e);
/* Connects to every host and starts the first step. */
void engine_start(struct engine *e);
bool engine_done(const struct engine *e);
/* Run the loop until the engine is done (CLI use). */
enum wiz_err engine_run(struct engine *e);

size_t engine_host_count(const struct engine *e);
const struct engine_host *engine_host_at(const struct engine *e, size_t i);
const char *engine_host_name(const struct engine_host *h);
/* Per-host recap counters (PLAY RECAP style). */
unsigned engine_host_count_of(const struct engine_host *h, enum host_result r);
bool engine_host_failed(const struct engine_host *h);
/* Prints "name : ok=N changed=N unreachable=N failed=N skipped=N". */
void engine_print_recap(const struct engine *e, FILE *out);
/* True when every host finished every step without failure. */
bool engine_succeeded(const struct engine *e);

#endif
