/* Secrets asked once for many hosts; see secret-cache.h. */
#include "config.h"

#include "ssh/secret-cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

#include "base/i18n.h"
#include "base/xmalloc.h"

/* One host's record under one (kind, user). */
struct sc_host {
	char *name;
	bool *refused;		/* per answer: this host did not accept it */
	size_t n_refused;	/* entries of refused (grows with the answers) */
	size_t given;		/* the answer given last, + 1 (0 = none) */
	bool none;		/* its own question got no answer */
};

/* Everything asked under one (kind, user) (a passphrase: one file). */
struct sc_entry {
	enum ssh_secret_kind kind;
	char *who;
	char **answers;		/* in the order they were typed */
	char **only;		/* per answer: the one host it is for, or NULL */
	size_t n_answers;
	bool none;		/* the first question got no answer */
	struct sc_host *hosts;
	size_t n_hosts;
};

struct secret_cache {
	secret_prompt_fn prompt;
	void *ud;
	bool asking;
	unsigned asked;
	struct sc_entry *entries;
	size_t n_entries;
};

struct secret_cache *secret_cache_new(secret_prompt_fn prompt, void *ud)
{
	struct secret_cache *sc = xcalloc(1, sizeof *sc);

	sc->prompt = prompt;
	sc->ud = ud;
	sc->asking = true;
	return sc;
}

void secret_cache_free(struct secret_cache *sc)
{
	if (sc == NULL)
		return;
	for (size_t i = 0; i < sc->n_entries; i++) {
		struct sc_entry *e = &sc->entries[i];

		for (size_t k = 0; k < e->n_answers; k++) {
			wiz_free_secret(e->answers[k], strlen(e->answers[k]));
			free(e->only[k]);
		}
		free(e->answers);
		free(e->only);
		for (size_t k = 0; k < e->n_hosts; k++) {
			free(e->hosts[k].name);
			free(e->hosts[k].refused);
		}
		free(e->hosts);
		free(e->who);
	}
	free(sc->entries);
	free(sc);
}

void secret_cache_set_asking(struct secret_cache *sc, bool on)
{
	sc->asking = on;
}

unsigned secret_cache_asked(const struct secret_cache *sc)
{
	return sc->asked;
}

static struct sc_entry *entry_get(struct secret_cache *sc, enum ssh_secret_kind kind,
				  const char *who)
{
	struct sc_entry *e;

	for (size_t i = 0; i < sc->n_entries; i++)
		if (sc->entries[i].kind == kind && strcmp(sc->entries[i].who, who) == 0)
			return &sc->entries[i];
	sc->entries = xreallocarray(sc->entries, sc->n_entries + 1, sizeof *sc->entries);
	e = &sc->entries[sc->n_entries++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->who = xstrdup(who);
	return e;
}

static struct sc_host *host_get(struct sc_entry *e, const char *name)
{
	struct sc_host *h;

	for (size_t i = 0; i < e->n_hosts; i++)
		if (strcmp(e->hosts[i].name, name) == 0)
			return &e->hosts[i];
	e->hosts = xreallocarray(e->hosts, e->n_hosts + 1, sizeof *e->hosts);
	h = &e->hosts[e->n_hosts++];
	memset(h, 0, sizeof *h);
	h->name = xstrdup(name);
	return h;
}

static bool host_refused(const struct sc_host *h, size_t i)
{
	return i < h->n_refused && h->refused[i];
}

static void host_refuse(struct sc_host *h, size_t i)
{
	if (i >= h->n_refused) {
		h->refused = xreallocarray(h->refused, i + 1, sizeof *h->refused);
		memset(h->refused + h->n_refused, 0, (i + 1 - h->n_refused) * sizeof *h->refused);
		h->n_refused = i + 1;
	}
	h->refused[i] = true;
}

/* The question: the first one of a (kind, user) says its answer is tried
 * on every host; a host's own one says why it is asked again. */
static char *question(const struct ssh_secret_request *req, bool first)
{
	const char *user = req->user ? req->user : "";
	char *q, *full;

	switch (req->kind) {
	case SSH_SECRET_PASSPHRASE:
		q = xasprintf(_("Passphrase for %s: "), req->prompt ? req->prompt : "");
		break;
	case SSH_SECRET_PASSWORD:
		q = first ? xasprintf(_("Password for %s@%s (tried on every host that logs in as %s): "),
				      user, req->name, user)
			  : xasprintf(_("Password for %s@%s: "), user, req->name);
		break;
	default:
		q = first ? xasprintf(_("sudo password for %s on %s (tried on every host where %s uses sudo): "),
				      user, req->name, user)
			  : xasprintf(_("sudo password for %s on %s: "), user, req->name);
		break;
	}
	if (first)
		return q;
	full = xasprintf("%s\n%s", secret_cache_refused_text(req), q);
	free(q);
	return full;
}

const char *secret_cache_refused_text(const struct ssh_secret_request *req)
{
	static char text[512];

	if (req->attempt <= 1)
		return "";
	if (req->kind == SSH_SECRET_PASSPHRASE)
		snprintf(text, sizeof text, _("That was not accepted for %s; try again."),
			 req->prompt ? req->prompt : "");
	else if (req->kind == SSH_SECRET_PASSWORD)
		snprintf(text, sizeof text, _("That was not accepted for %s@%s; try again."),
			 req->user ? req->user : "", req->name ? req->name : "");
	else
		snprintf(text, sizeof text, _("That sudo password was not accepted for %s on %s; try again."),
			 req->user ? req->user : "", req->name ? req->name : "");
	return text;
}

static struct sc_entry *entry_of(struct secret_cache *sc, const struct ssh_secret_request *req)
{
	bool pass = req->kind == SSH_SECRET_PASSPHRASE;

	return entry_get(sc, req->kind, pass ? (req->prompt ? req->prompt : "") : (req->user ? req->user : ""));
}

/* A passphrase belongs to a local file: refused by one host means refused
 * by all, so they share one record. */
static struct sc_host *host_of(struct sc_entry *e, const struct ssh_secret_request *req)
{
	return host_get(e, req->kind == SSH_SECRET_PASSPHRASE ? "" : (req->name ? req->name : ""));
}

char *secret_cache_lookup(struct secret_cache *sc, const struct ssh_secret_request *req, bool *ask)
{
	struct sc_entry *e = entry_of(sc, req);
	struct sc_host *h = host_of(e, req);

	*ask = false;
	/* Asked again: what this host was given last was not accepted. */
	if (req->attempt > 1 && h->given > 0)
		host_refuse(h, h->given - 1);
	h->given = 0;
	for (size_t i = 0; i < e->n_answers; i++) {
		if (!host_refused(h, i) && (e->only[i] == NULL || strcmp(e->only[i], h->name) == 0)) {
			h->given = i + 1;
			return xstrdup(e->answers[i]);
		}
	}
	*ask = !(e->none || h->none);
	return NULL;
}

bool secret_cache_first(struct secret_cache *sc, const struct ssh_secret_request *req)
{
	struct sc_entry *e = entry_of(sc, req);

	for (size_t i = 0; i < e->n_answers; i++)
		if (e->only[i] == NULL)
			return false;
	return true;
}

void secret_cache_typed(struct secret_cache *sc, const struct ssh_secret_request *req, char *answer,
			bool every_host)
{
	struct sc_entry *e = entry_of(sc, req);
	struct sc_host *h = host_of(e, req);

	sc->asked++;
	if (answer == NULL) {
		if (every_host)
			e->none = true;
		else
			h->none = true;
		return;
	}
	e->answers = xreallocarray(e->answers, e->n_answers + 1, sizeof *e->answers);
	e->only = xreallocarray(e->only, e->n_answers + 1, sizeof *e->only);
	e->answers[e->n_answers] = answer;
	e->only[e->n_answers] = every_host || req->kind == SSH_SECRET_PASSPHRASE ? NULL : xstrdup(h->name);
	e->n_answers++;
	h->given = e->n_answers;	/* req's host is given it now */
}

char *secret_cache_answer(struct secret_cache *sc, const struct ssh_secret_request *req)
{
	bool ask, first;
	char *q, *answer;

	answer = secret_cache_lookup(sc, req, &ask);
	if (answer != NULL || !ask || !sc->asking || sc->prompt == NULL)
		return answer;
	first = secret_cache_first(sc, req);
	q = question(req, first);
	answer = sc->prompt(q, sc->ud);
	free(q);
	/* Every answer is tried on every host; no answer to the first
	 * question means none for every host, to a host's own, for it. */
	secret_cache_typed(sc, req, answer, answer != NULL || first);
	return answer ? xstrdup(answer) : NULL;
}

/* ---- the process's own cache, on /dev/tty -------------------------------- */

static struct secret_cache *process_cache;

static void process_cache_free(void)
{
	secret_cache_free(process_cache);
	process_cache = NULL;
}

void secret_cache_on_secret(struct ssh_session *s, const struct ssh_secret_request *req,
			    void *ud)
{
	struct secret_cache *sc = ud;

	if (sc == NULL) {
		if (process_cache == NULL) {
			process_cache = secret_cache_new(secret_prompt_tty, NULL);
			atexit(process_cache_free);
		}
		sc = process_cache;
	}
	ssh_session_secret_answer(s, secret_cache_answer(sc, req));
}

char *secret_prompt_tty(const char *prompt, void *ud)
{
	struct termios old, quiet;
	char buf[512];
	FILE *tty = fopen("/dev/tty", "r+");
	char *answer = NULL;
	bool restore = false;

	(void)ud;
	if (tty == NULL)
		return NULL;
	/* Echo off before the prompt shows: what is typed after it counts. */
	if (tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		restore = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
	}
	fprintf(tty, "%s", prompt);
	fflush(tty);
	if (fgets(buf, sizeof buf, tty) != NULL) {
		buf[strcspn(buf, "\r\n")] = '\0';
		answer = xstrdup(buf);
	}
	if (restore)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fprintf(tty, "\n");
	explicit_bzero(buf, sizeof buf);
	fclose(tty);
	return answer;
}
