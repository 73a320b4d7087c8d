/* Secrets asked once for many hosts, for the command-line front ends
 * (`etcdwiz plan|apply|status`; the wizard asks in its own dialogs).
 *
 * A login password or a sudo password is asked once per (kind, user), a
 * key passphrase once per identity file, and that answer is tried on every
 * host that needs it. A host that did not accept what it was given asks
 * again (its request has attempt > 1); it is then given the next answer
 * typed for that user that it has not refused yet, and only when there is
 * none is the user asked again, for that host. So typing a wrong password
 * once costs one more question, not one per host.
 *
 * No answer (end of input, or no terminal) for the first question of a
 * (kind, user) means "none" for every host; for a host's own question it
 * means none for that host. Nobody is asked while asking is off (the
 * dashboard owns the terminal then): the hosts get what is cached.
 *
 * Answers live in memory for the run only and are overwritten when the
 * cache is freed; they are never logged. */
#ifndef WIZ_SECRET_CACHE_H
#define WIZ_SECRET_CACHE_H

#include <stdbool.h>

#include "ssh/ssh.h"

struct secret_cache;

/* Show prompt and read one answer: malloc'd, or NULL for no answer. */
typedef char *(*secret_prompt_fn)(const char *prompt, void *ud);

struct secret_cache *secret_cache_new(secret_prompt_fn prompt, void *ud);
/* Wipes and frees every answer. NULL is fine. */
void secret_cache_free(struct secret_cache *sc);

/* What to answer req with: a malloc'd copy for ssh_session_secret_answer,
 * or NULL (none). Asks through the prompt function when needed. */
char *secret_cache_answer(struct secret_cache *sc, const struct ssh_secret_request *req);

/* For a front end that asks in its own dialogs, later (the wizard):
 * what to give req from what is cached (malloc'd), or NULL; then *ask says
 * whether someone should be asked for it (false: none for this host). */
char *secret_cache_lookup(struct secret_cache *sc, const struct ssh_secret_request *req, bool *ask);
/* Nothing typed for req's (kind, user) for every host yet: its question
 * is the first one. */
bool secret_cache_first(struct secret_cache *sc, const struct ssh_secret_request *req);
/* What was typed for req (the cache takes answer; NULL: none). every_host:
 * tried on every host of its (kind, user), else on req's host only (a
 * passphrase is always the file's). A lookup after it gives it. */
void secret_cache_typed(struct secret_cache *sc, const struct ssh_secret_request *req, char *answer,
			bool every_host);
/* "That was not accepted for USER@HOST; try again." for a request asked
 * again (attempt > 1), else "". A static buffer. */
const char *secret_cache_refused_text(const struct ssh_secret_request *req);

/* Off: never ask again, answer only from what is cached. On by default. */
void secret_cache_set_asking(struct secret_cache *sc, bool on);
/* Questions asked so far. */
unsigned secret_cache_asked(const struct secret_cache *sc);

/* An ssh_callbacks.secret_needed that answers with secret_cache_answer at
 * once. ud is the cache; NULL means the process's own one, which asks on
 * /dev/tty and lives until exit (so plan and then apply ask once). */
void secret_cache_on_secret(struct ssh_session *s, const struct ssh_secret_request *req,
			    void *ud);

/* A secret_prompt_fn: prompt on /dev/tty, read a line with echo off. NULL
 * without a terminal or at end of input. ud is unused. */
char *secret_prompt_tty(const char *prompt, void *ud);

#endif
