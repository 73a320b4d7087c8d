/* The install engine: runs the steps of step_table on every host through
 * the one event loop and a transport (fleet.h), about one remote exec per
 * step that changes something:
 *  - one exec per host runs the read-only checks of all its steps at once;
 *  - each step's plan is a pure function of its check's output; when
 *    applying, a plan that is not empty is carried out as one bundle
 *    (bundle.h) that refuses if a file changed since the plan, and ends
 *    with the checks of the host's remaining steps, so the step proves it
 *    converged (its plan is empty now) and the next step plans from fresh
 *    findings;
 *  - hosts run ahead of each other, except at barrier steps (verify,
 *    kubernetes), which start on a host only once every live host has
 *    finished the steps before them;
 *  - a step that asks etcd (verify) reads each member from here over its
 *    session (etcd-ask.h), all members at once, asking again while
 *    applying until healthy or the bound passes; a member whose host is
 *    gone ends at once.
 * A failed or unreachable host stops while the others go on. Progress goes
 * to a sink (the CLI prints lines, the wizard draws), and every event to a
 * journal file (never a secret). */
#ifndef WIZ_ENGINE_H
#define WIZ_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/error.h"
#include "cluster/cluster.h"
#include "install/plan.h"
#include "install/step.h"

struct http_tls_creds;
struct live_cluster;
struct loop;
struct transport;
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
/* The same words for people, marked for translation: pass them to _(). */
const char *host_result_text(enum host_result r);

/* The phases of a member joining a running cluster, in their order; a
 * join that fails after the learner was added ends in JOIN_UNDONE. */
#define ENGINE_JOIN_PHASE_INFO(_)                         \
	_(LEARNER_ADDED, N_("learner added"))             \
	_(STARTED, N_("started"))                         \
	_(CATCHING_UP, N_("catching up"))                 \
	_(PROMOTED, N_("promoted"))                       \
	_(UNDONE, N_("join undone"))

enum engine_join_phase {
#define ENGINE_JOIN_PHASE_ENUM(id, text) JOIN_##id,
	ENGINE_JOIN_PHASE_INFO(ENGINE_JOIN_PHASE_ENUM)
#undef ENGINE_JOIN_PHASE_ENUM
};
/* Untranslated (N_): callers show _(text). */
const char *engine_join_phase_text(enum engine_join_phase p);

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
	/* The cluster's member list was read (running or not), before the
	 * first step that plans from it: `plan`'s "cluster" section. */
	void (*cluster_read)(const struct live_cluster *l, void *ud);
	/* A membership change done or refused: what (one line); removed:
	 * the member etcd no longer has, when one went. */
	void (*cluster_change)(const char *what, const char *removed, bool failed, void *ud);
	/* A joining member reached the next phase of its join. */
	void (*join_phase)(const char *member, enum engine_join_phase p, void *ud);
	/* The engine waits for something before it goes on (one line, so a
	 * terminal does not look stuck). */
	void (*waiting)(const char *what, void *ud);
	void *ud;
};

/* What a plan pass's checks printed, per host and step, for the apply
 * pass that follows to start from (one exec less per host). Safe because
 * a bundle refuses a file that changed since its plan; used once. */
struct check_cache;
struct check_cache *check_cache_new(void);
void check_cache_free(struct check_cache *cc);
void check_cache_clear(struct check_cache *cc);

struct engine_opts {
	bool apply;			/* false: plan only, change nothing */
	const struct strlist *limit;	/* host names, or NULL for all */
	const struct strlist *steps;	/* step names, or NULL for all */
	const struct strlist *ignore_preflight;
	const char *cluster_token;
	bool kubeadm_init;		/* --kubeadm-init */
	unsigned health_timeout_s;	/* --health-timeout; 0: VERIFY_DEFAULT_TIMEOUT_S */
	bool allow_downgrade;		/* --allow-downgrade: an etcd patch downgrade */
	const char *journal_path;	/* NULL: no journal */
	/* Reads a file of the local PKI store for a host, by its path under
	 * /etc/kubernetes/pki (e.g. "etcd/server.crt"). */
	char *(*read_local)(const struct host *h, bool is_member, const char *rel,
			    size_t *len, void *ud);
	void *read_local_ud;
	/* When set, the checks before any change are recorded here; with
	 * reuse_checks, a host whose every check is recorded starts from them
	 * (barrier steps are always checked afresh when applying). */
	struct check_cache *checks;
	bool reuse_checks;
	/* Loads the TLS client credentials asks to etcd use (the local
	 * store's CA and healthcheck-client pair: apply_etcd_creds), once per
	 * run when a step first asks; NULL: asks go without (tests). */
	enum wiz_err (*etcd_creds)(void *ud, struct http_tls_creds **out, struct wiz_error *err);
	void *etcd_creds_ud;
	/* Remove the members etcd lists that the file does not name (one at a
	 * time, quorum kept, before anything else changes). */
	bool prune_members;
	const struct strlist *prune_only;	/* NULL: every member not named */
	/* Hosts of members leaving (`member remove`): their SSH settings,
	 * where their manifests and data are moved aside; a leaving member
	 * not here is reached at its peer URL's address. */
	const struct host *leaving_hosts;
	size_t n_leaving_hosts;
	/* NULL: step_table. Tests run their own steps. */
	const struct step *const *step_table;
};

/* The transport is copied; what it points to (a fleet) must outlive the
 * engine. Connections stay open after the engine is freed. */
struct engine *engine_new(struct loop *loop, const struct transport *t,
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
/* Remote commands run on the host so far (checks and bundles). */
unsigned engine_host_execs(const struct engine_host *h);
/* The cluster as etcd listed it (NULL before it was read). */
const struct live_cluster *engine_live(const struct engine *e);
/* Prints "name : ok=N changed=N unreachable=N failed=N skipped=N". */
void engine_print_recap(const struct engine *e, FILE *out);
/* True when every host finished every step without failure. */
bool engine_succeeded(const struct engine *e);

#endif
