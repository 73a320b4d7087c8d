/* A step's changes on one host as one remote exec: a shell script and one
 * stdin stream holding every file's bytes. The script first makes sure
 * each file is still the one the plan was made from (so a plan shown
 * earlier is safe to carry out), then does the actions in order (files
 * dot-temp, checked by SHA-256, renamed; commands with stdin closed),
 * one `sync`, and ends with the probe text the caller gives (the step's
 * own check, to prove it converged). Progress comes back as marker lines
 * "@@=TOKEN action N" on stdout; TOKEN is random per run, so no file's
 * content read by a probe can pass for a marker. Pure: no I/O here. */
#ifndef WIZ_BUNDLE_H
#define WIZ_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>

#include "install/plan.h"

/* Exit statuses the script uses besides a command's own. */
#define BUNDLE_STATUS_NO_DIR 3	/* a file's directory is missing; stderr: the path */
#define BUNDLE_STATUS_CHANGED 4	/* a file changed since the plan; stderr: the path */

#define BUNDLE_TOKEN_LEN 24	/* hex characters */

struct bundle {
	char *script;
	char *input;		/* the files' bytes, in order */
	size_t input_len;
};

/* probe_tail may be NULL (nothing is probed after the actions). */
void bundle_build(const struct plan *p, const char *token, const char *probe_tail,
		  struct bundle *b);
void bundle_free(struct bundle *b);

/* A fresh random token for marker lines. */
void bundle_token(char out[BUNDLE_TOKEN_LEN + 1]);

/* How many actions the script has started, from its stdout so far. */
size_t bundle_actions_started(const char *out, size_t len, const char *token);
/* Where the probe after the actions starts in out, or NULL when the
 * script did not get there. */
const char *bundle_probe_output(const char *out, const char *token);

/* ---- several checks in one exec ---- */
/* Appends to *cmd the text running one step's check body so that its
 * output can be told from the others' (a subshell, stdin closed). */
void probe_batch_add(char **cmd, const char *token, const char *step, const char *body);
/* The output of one step's check in a batch, or NULL when absent.
 * Caller frees. */
char *probe_batch_slice(const char *out, const char *token, const char *step);

#endif
