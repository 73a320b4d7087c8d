/* The engine's state, shared by its parts (engine.c: steps, checks,
 * bundles, rolling; engine-member.c: the live cluster and joins). Nothing
 * outside src/install/engine*.c includes this. */
#ifndef WIZ_ENGINE_INTERNAL_H
#define WIZ_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "etcd/etcd-ask.h"
#include "install/bundle.h"
#include "install/engine.h"
#include "install/membership.h"
#include "install/os-release.h"
#include "install/probe.h"
#include "install/fleet.h"

enum host_phase {
	PH_IDLE,
	PH_CONNECT,
	PH_PROBE,	/* the checks of all its steps, in one exec */
	PH_WAIT,	/* at a barrier step, for the other hosts */
	PH_CHECK,	/* a barrier step's own check */
	PH_BUNDLE,	/* a step's changes, in one exec */
	PH_ASK,		/* asking its etcd member from here */
	PH_ROLL,	/* its plan restarts a running etcd: waiting for its turn */
	PH_ROLL_AFTER,	/* restarted: asking its etcd until healthy again */
	PH_LIVE,	/* waiting for the cluster's member list (engine-member.c) */
	PH_JOIN,	/* joining: MemberAdd, or MemberPromote until caught up */
	PH_ROLL_BACK,	/* its restart failed: its old manifest back (engine-rollback.c) */
	PH_DONE,
};

/* One request in flight for a host; orphaned (h NULL) when the engine is
 * freed first, then its callback only frees it. */
struct request {
	struct engine_host *h;
	struct ssh_op *op;
	struct bundle bundle;	/* the op reads its stdin from here */
	bool starting, ended;	/* the callback ran inside the exec call */
};

struct engine_host {
	struct engine *engine;
	const struct host *host;
	bool is_member;
	size_t index;		/* among the members, or among the control-plane hosts */
	size_t conn;		/* the transport's host number */
	enum host_phase phase;
	bool selected;		/* in --limit */
	bool dead;		/* failed or unreachable: later steps skip it */
	size_t step;		/* the step it is at (or about to start) */
	/* Per step: what its reads printed (NULL: not read yet), and the same
	 * parsed once (what its plan reads). */
	struct step_probe {
		char *text;
		struct probe *parsed;
	} *probes;
	struct os_info os;
	struct plan plan;
	size_t reported;	/* bundle actions announced to the sink */
	bool changed;
	struct request *req;
	bool connected;		/* its session is up (it may have failed since) */
	bool retried;		/* connected again once after a lost session */
	enum host_phase retry_phase;
	unsigned execs;
	unsigned counts[HOST_RESULT_COUNT];
	/* Asking etcd, for the step ask_step (asks_etcd). When planning the
	 * ask starts as soon as the host is connected, beside its checks. */
	size_t ask_step;	/* SIZE_MAX: none yet */
	struct etcd_member_view view;
	enum wiz_err ask_code;	/* the session failed while asking */
	char ask_msg[256];
	bool ask_answered;	/* the last try is in: view is final */
	bool ask_finished;	/* ask_finished ran: the plan may read view */
	void *ask;		/* the try in flight (the transport's handle) */
	struct loop_timer *ask_timer;	/* the next try */
	uint64_t ask_start, ask_deadline;
	unsigned asks;
	/* Rolling (a restart of a running member, one at a time): the gate's
	 * own ask of this member, apart from the step's. */
	void *roll_ask;
	struct loop_timer *roll_timer;
	struct etcd_member_view roll_view;
	char roll_msg[256];
	int served_which;	/* the port served_check reads: 0 2379, 1 2380 */	/* why it was not asked (session, --limit) */
	uint64_t roll_start, roll_deadline;
	/* The live read's two questions to this member, and their answers. */
	void *live_call, *live_ask;
	int live_status;
	char *live_body;
	size_t live_len;
	char live_msg[200];
	bool live_viewed;
	unsigned live_tries;	/* asks of the view (again when incomplete) */
	struct etcd_member_view live_view;
	/* Joining: its id once added, the voting member asked, the call in
	 * flight, the retry timer. */
	uint64_t join_id;
	bool joining;
	struct engine_host *join_via;
	void *join_call;
	struct loop_timer *join_timer;
	uint64_t join_start, join_deadline;
	char *join_why;		/* a join being undone: why */
	/* A failed restart being rolled back: why it failed, the old
	 * manifest's etcd version, the log lines read before. */
	char *rollback_why, *rollback_log;
	char rollback_from[32];
	bool join_behind;	/* etcd said the learner is not in sync yet */
};

struct engine {
	struct loop *loop;
	struct transport t;
	const struct cluster *c;
	struct engine_opts opts;
	struct engine_sink sink;
	const struct step *const *steps;
	size_t n_steps;
	struct engine_host *hosts;
	size_t n_hosts;
	size_t announced;	/* steps up to here had step_started */
	bool done;
	bool in_barriers, barriers_again;
	char token[BUNDLE_TOKEN_LEN + 1];
	FILE *journal;
	struct http_tls_creds *creds;
	bool creds_loaded;
	struct wiz_error creds_err;
	/* Rolling: the member restarting now, the gate's answers still out,
	 * and, once a gate failed, why no member restarts after it. */
	struct engine_host *roller;
	size_t roll_asking;
	uint64_t roll_index;	/* the highest raft index the gate saw */
	void *roll_move;	/* the leadership transfer in flight */
	char *roll_stop;
	/* The cluster as etcd lists it (membership.h), read once per run
	 * before the first step that needs it. */
	struct live_cluster live;
	bool live_reading;
	size_t live_pending;
	/* An upgrade's read asked again while a listed member is not
	 * healthy yet (a restart an earlier run began): the retry timer and
	 * the reads so far. */
	struct loop_timer *live_timer;
	unsigned live_reads;
	/* Removing members (engine-remove.c); member_stop: why no member
	 * changes (a refused removal), failing the step on every member. */
	struct leaving **leaving;
	size_t n_leaving, leave_at;
	char *member_stop;
	bool cluster_failed;
	struct strlist joinable;	/* live.joinable */
};

void eng_journal(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends the host's current step; a failure skips the rest of its steps. */
void eng_finish_step(struct engine_host *h, enum host_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void eng_run_bundle(struct engine_host *h);
/* first: the plan from the check before any change; else the proof. */
void eng_plan_step(struct engine_host *h, bool first);
bool eng_load_creds(struct engine *e);
/* The question to g's etcd: its name, address, the loaded client pair,
 * one try's bound. */
struct transport_ask eng_ask_of(const struct engine *e, const struct engine_host *g);
enum host_result eng_result_for_error(const struct engine_host *h, enum wiz_err code);
void eng_exec_on(struct engine_host *h, enum host_phase phase, const char *cmd,
		 struct ssh_exec_opts *xo, struct bundle *b, ssh_done_fn cb);
struct engine_host *eng_request_end(struct request *q);
void eng_roll_after_try(struct engine_host *h);
bool eng_view_ok(const struct etcd_member_view *v);
const char *eng_view_why(const struct engine_host *g);
void eng_roll_stop_all(struct engine *e);

/* engine-rollback.c: h (the roller) failed its restart; when it has an
 * old manifest to go back to, puts it back and ends the step (failed)
 * once healthy or bounded, and returns true; false: nothing to go back
 * to (the caller fails the step itself). */
bool eng_rollback_start(struct engine_host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void eng_rollback_free(struct engine_host *h);

/* engine-member.c */
/* Before a step that reads the cluster (reads_cluster) plans: false while
 * the member list is being read (the host waits in PH_LIVE). */
bool eng_live_ready(struct engine_host *h);
/* Something moved (a host connected, ended): the read may start. */
void eng_live_poke(struct engine *e);
/* The roll picked h, whose plan joins the cluster: add, bundle, promote. */
void eng_join_start(struct engine_host *h);
/* h's bundle ran (its etcd is starting): promote it once caught up. */
void eng_join_after(struct engine_host *h);
void eng_member_free(struct engine *e);
/* The shell text that moves the manifest and the data directory aside
 * with a dated suffix (owned). */
char *eng_set_aside_cmd(const char *data_dir, const char *suffix, bool certs);
/* The date suffix that command printed ("?" when none). */
void eng_set_aside_stamp(const struct ssh_result *r, char *stamp, size_t n);
/* One call of via's etcd gateway (transport call_etcd), its handle in *slot. */
void eng_call(struct engine *e, struct engine_host *via, void **slot, const char *path,
	      const char *body, etcd_call_fn cb, void *ud);
/* What etcd answered instead of 200 (its error's message, or "HTTP N"),
 * or why no answer came (owned). */
char *eng_answer_text(enum wiz_err code, int status, const char *body, size_t len, const char *msg);
/* The member list is in: the hosts waiting for it plan now. */
void eng_live_release(struct engine *e);

/* engine-remove.c: members leaving the cluster (--prune-members, or the
 * old entry of a member replaced), removed one at a time before anything
 * else changes, the hosts waiting in PH_LIVE meanwhile. */
struct leaving;
bool eng_remove_needed(const struct engine *e);
void eng_remove_start(struct engine *e);
void eng_remove_free(struct engine *e);

#endif
