/* The runner (run.c): one engine run (plan or apply) for a step screen,
 * drawn as a host table with progress and the selected host's plan. A
 * step screen owns a `struct wz_run` and gives the shell its callbacks
 * (WZ_RUN_SCREEN_CALLBACKS below); the shell (wizard.c) knows nothing of
 * runners: it calls a screen's ops, and the runner reports through the
 * shell's log, message and recap functions. */
#ifndef WIZ_UI_TUI_RUN_H
#define WIZ_UI_TUI_RUN_H

#include "ui/tui/wizard-internal.h"

enum wz_run_state { RUN_IDLE, RUN_PLANNING, RUN_PLANNED, RUN_APPLYING, RUN_DONE, RUN_FAILED };

struct wz_run_host {
	char *name;
	char *step;		/* current step */
	size_t action, n_actions;
	size_t steps_done;
	enum host_result last;
	bool failed;
	enum host_result failure;	/* how it failed (later steps are only skipped) */
	char *msg;		/* failure */
	size_t n_changes;	/* actions planned */
	char *change_step;	/* the first step that will change */
	size_t n_change_steps;	/* steps that will change */
	size_t n_errors;
	struct strlist detail;	/* plan lines (findings, actions, diffs) */
};

struct wz_run {
	const char *steps_csv;	/* "preflight,swap,..." */
	struct strlist steps;
	enum wz_run_state state;
	bool applied;
	struct engine *e;
	struct loop_timer *check;
	struct wz_run_host *hosts;
	size_t n_hosts;
	size_t n_steps;
	size_t n_changes;	/* host x step pairs that would change */
	size_t n_errors;
	size_t n_unhealthy;	/* members a health gate found not healthy */
	bool kubeadm_init;
	char *journal;
	char *token;		/* the cluster token the engine borrows */
	struct check_cache *checks;	/* the plan's checks, for the apply after it */
	size_t sel;		/* selected host */
	size_t scroll;		/* detail scroll */
	bool diffs;		/* show diffs in the detail pane */
	unsigned gen;		/* w->gen it was made for */

	/* For a membership change (the Members screen); zero for the install
	 * screens. */
	bool prune_members;
	const struct strlist *prune_only;
	const struct host *leaving;
	size_t n_leaving;
	struct strlist confirm_head;	/* first lines of the confirmation */
	bool allow_downgrade;	/* the Upgrade screen's patch downgrade */
	/* A snapshot into the local backups after the Yes and before the
	 * apply (a membership change, an upgrade): snapshot is its path once
	 * kept; without one nothing is applied. */
	bool snapshot_first;
	char *snapshot;
	struct backup_op *backup;
	struct http_tls_creds *backup_creds;
	/* The engine's membership events, forwarded. */
	void (*cluster_read)(struct wizard *w, const struct live_cluster *l);
	void (*cluster_change)(struct wizard *w, const char *what, const char *removed, bool failed);
	void (*join_phase)(struct wizard *w, const char *member, enum engine_join_phase p);
	/* Yes to the confirmation: false keeps it from applying (it said why). */
	bool (*before_apply)(struct wizard *w, struct wz_run *r);
	/* A plan or apply pass ended (state and message set). */
	void (*finished)(struct wizard *w, struct wz_run *r);
};

/* The snapshot of a change is for that change only. */
void wz_run_forget_snapshot(struct wz_run *r);
/* steps_csv "" runs every step. */
void wz_run_init(struct wz_run *r, const char *steps_csv);
/* The steps of the next pass (a run at rest). */
void wz_run_set_steps(struct wz_run *r, const char *steps_csv);
void wz_run_reset(struct wz_run *r);
/* A step screen's enter: (re)initialise for the current cluster and start
 * the read-only check when nothing was checked yet. */
void wz_run_enter(struct wizard *w, struct wz_run *r, const char *steps_csv);
void wz_run_free(struct wz_run *r);
/* Start a plan (apply false) or apply pass. */
void wz_run_start(struct wizard *w, struct wz_run *r, bool apply);
bool wz_run_busy(const struct wz_run *r);
/* The confirmation that lists what will change, then applies. */
void wz_run_confirm_apply(struct wizard *w, struct wz_run *r);
/* Next for a step screen: refuse, confirm and apply, or move on. */
const char *wz_run_validate(struct wizard *w, struct wz_run *r);
unsigned wz_run_next(struct wizard *w, struct wz_run *r);
/* Host table with progress, then the selected host's plan. */
void wz_run_draw(struct wizard *w, struct wz_run *r, int top, int rows);
unsigned wz_run_key(struct wizard *w, struct wz_run *r, int key);
extern const struct term_action wz_run_actions[];
/* The 'd'/'v' action of a screen with a runner: the active run's diffs
 * shown or hidden. */
unsigned wz_run_toggle_diffs(void *ud, int key);


/* A step screen's enter, key, validate, next, busy and destroy, all the
 * runner's: `static struct wz_run run; WZ_RUN_SCREEN_CALLBACKS(run, "a,b")`
 * defines run_enter, run_key, run_validate, run_next, run_busy and
 * run_destroy for the screen's ops. */
#define WZ_RUN_SCREEN_CALLBACKS(RUN, STEPS)                                            \
	static void run_enter(struct wizard *w) { wz_run_enter(w, &RUN, STEPS); }      \
	static unsigned run_key(struct wizard *w, int k) { return wz_run_key(w, &RUN, k); } \
	static const char *run_validate(struct wizard *w) { return wz_run_validate(w, &RUN); } \
	static unsigned run_next(struct wizard *w) { return wz_run_next(w, &RUN); }    \
	static bool run_busy(struct wizard *w) { (void)w; return wz_run_busy(&RUN); }  \
	static void run_destroy(struct wizard *w) { (void)w; wz_run_free(&RUN); }

/* The ops fields of a screen that is only its runner. */
#define WZ_RUN_SCREEN_OPS                                                              \
	.enter = run_enter, .key = run_key, .validate = run_validate, .next = run_next, \
	.busy = run_busy, .destroy = run_destroy

#endif
