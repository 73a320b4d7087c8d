/* What a step would change on one host: files with their old and new
 * contents, and commands. Built by a step's pure plan function from what its
 * read-only check found, printed by `etcdwiz plan`, shown by the wizard, and
 * carried out by the engine. */
#ifndef WIZ_PLAN_H
#define WIZ_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

enum action_kind {
	ACTION_FILE,		/* write path atomically with content, mode, owner */
	ACTION_COMMAND,		/* run a shell command as root */
};

struct action {
	enum action_kind kind;
	char *summary;		/* one translated line */
	/* ACTION_FILE */
	char *path;
	char *content;
	size_t len;
	mode_t mode;
	char *owner;		/* "root:root" */
	bool old_exists;
	char *old_content;	/* NULL when absent or unknown */
	bool secret;		/* key material: never shown, never diffed */
	/* SHA-256 (hex) of the file the check saw, "" when absent or unknown:
	 * applying refuses when the host's file is no longer that one. */
	char old_sha256[65];
	/* ACTION_COMMAND */
	char *command;
};

/* Preflight-style findings: [ERROR Name] / [WARNING Name] as kubeadm prints. */
struct finding {
	bool error;
	char *name;
	char *msg;
};

struct plan {
	struct action *actions;
	size_t n_actions;
	struct finding *findings;
	size_t n_findings;
	char **notes;		/* what a check found worth telling (leader, timings) */
	size_t n_notes;
	/* Applying it restarts a running etcd member: the engine applies
	 * such plans one member at a time, with health gates (engine.c). */
	bool restarts_etcd;
	/* 1 + the index of the file action whose change restarts etcd (the
	 * manifest), and 1 + the command's that waits for the new process;
	 * 0: none. A failed restart puts that file's old content back and
	 * runs the wait again (engine-rollback.c). */
	size_t restart_file, restart_wait;
	/* The member joins the running cluster (a learner added, started,
	 * promoted: engine.c), one at a time, even with nothing to write. */
	bool joins_cluster;
	/* Applied in the roll too, one host at a time after the health gate,
	 * though nothing restarts etcd: a running member's certificates
	 * (checked from here afterwards: served_serial) or a control-plane
	 * host's kube-apiserver restarted for new etcd client files. */
	bool takes_turn;
	/* The serials the member must serve on 2379 and 2380 once the plan
	 * is applied (pki_crt_serial_hex of its new server and peer
	 * certificates); "" when not checked. */
	char served_serial[2][48];
};

void plan_init(struct plan *p);
void plan_free(struct plan *p);

/* File action; old may be NULL (absent). Nothing is added when the file is
 * already exactly so (same content, mode and owner known equal). */
void plan_file(struct plan *p, const char *path, const char *content, size_t len,
	       mode_t mode, const char *owner, const char *old, bool old_exists,
	       bool secret, const char *summary);
void plan_command(struct plan *p, const char *command, const char *summary);
void plan_finding(struct plan *p, bool error, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void plan_note(struct plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, unless the plan has that note already. */
void plan_note_once(struct plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool plan_has_finding(const struct plan *p, const char *name);
size_t plan_errors(const struct plan *p);
bool plan_is_empty(const struct plan *p);

/* Unified diff (3 lines of context) of two texts; labels as in diff -u. */
char *text_diff(const char *old, const char *new_text, const char *old_label,
		const char *new_label);

/* Human-readable plan for one host of one step, with diffs. */
void plan_print(const struct plan *p, const char *host, const char *step, FILE *out);

#endif
