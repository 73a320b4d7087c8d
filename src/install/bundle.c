#include "config.h"

#include "install/bundle.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "base/shquote.h"
#include "base/strutil.h"
#include "base/xmalloc.h"
#include "install/probe.h"


void bundle_token(char out[BUNDLE_TOKEN_LEN + 1])
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char raw[BUNDLE_TOKEN_LEN / 2];

	if (gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof raw) != 0)
		abort();	/* no randomness: nothing else here would be safe either */
	for (size_t i = 0; i < sizeof raw; i++) {
		out[2 * i] = hexd[raw[i] >> 4];
		out[2 * i + 1] = hexd[raw[i] & 15];
	}
	out[BUNDLE_TOKEN_LEN] = '\0';
}

/* Refuse before anything changes: every file must still be what the
 * check saw (absent, or that SHA-256). A file whose old bytes were not
 * known (old_exists without a hash) is not compared. */
static void add_unchanged_checks(char **s, const struct plan *p)
{
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct action *a = &p->actions[i];
		char *q;

		if (a->kind != ACTION_FILE)
			continue;
		q = sh_quote(a->path);
		if (!a->old_exists)
			xasprintf_append(s, "[ ! -e %s ] || fail %d %s\n", q, BUNDLE_STATUS_CHANGED, q);
		else if (a->old_sha256[0] != '\0')
			xasprintf_append(s, "[ \"$(sha256sum 2>/dev/null < %s | cut -c1-64)\" = %s ] || fail %d %s\n",
			       q, a->old_sha256, BUNDLE_STATUS_CHANGED, q);
		free(q);
	}
}

static void add_file(char **s, const struct action *a)
{
	char *dir = parent_dir(a->path);
	const char *slash = strrchr(a->path, '/');
	char *qpath = sh_quote(a->path), *qdir = sh_quote(dir);
	char *qtemp = sh_quote(slash ? slash + 1 : a->path);
	char *qowner = sh_quote(a->owner ? a->owner : "root:root");
	char hex[65];

	sha256_hex(a->content, a->len, hex);
	/* The temp file starts with a dot (kubelet and most watchers skip
	 * those) and replaces the target only once its bytes are checked:
	 * a stream cut short never lands. */
	xasprintf_append(s,
	       "[ -d %s ] || fail %d %s\n"
	       "t=$(mktemp %s/.%s.XXXXXX) || exit 1\n"
	       "head -c %zu > \"$t\"\n"
	       "[ \"$(sha256sum < \"$t\" | cut -c1-64)\" = %s ] || fail 1 \"short or damaged upload of \"%s\n"
	       "chown %s -- \"$t\" && chmod %04o -- \"$t\" && mv -f -- \"$t\" %s || exit 1\n"
	       "t=\n",
	       qdir, BUNDLE_STATUS_NO_DIR, qpath, qdir, qtemp, a->len, hex, qpath, qowner,
	       (unsigned)(a->mode & 07777), qpath);
	free(qowner);
	free(qtemp);
	free(qdir);
	free(qpath);
	free(dir);
}

void bundle_build(const struct plan *p, const char *token, const char *probe_tail,
		  struct bundle *b)
{
	char *s = NULL;
	size_t total = 0;

	memset(b, 0, sizeof *b);
	xasprintf_append(&s,
	       "umask 077\n"
	       "t=\n"
	       "trap 'rm -f -- \"$t\"' EXIT\n"
	       "trap 'exit 1' HUP INT TERM PIPE\n"
	       "fail() { s=$1; shift; printf '%%s\\n' \"$*\" >&2; exit \"$s\"; }\n");
	add_unchanged_checks(&s, p);
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct action *a = &p->actions[i];

		xasprintf_append(&s, "echo '@@=%s action %zu'\n", token, i + 1);
		if (a->kind == ACTION_FILE) {
			add_file(&s, a);
			total += a->len;
		} else {
			/* Stdin closed: a command must not eat the next file's bytes. */
			xasprintf_append(&s, "( %s\n) < /dev/null || exit $?\n", a->command);
		}
	}
	/* The checks after it only report: their statuses are not the bundle's. */
	xasprintf_append(&s, "sync\necho '@@=%s probe'\n%s\nexit 0\n", token, probe_tail ? probe_tail : "");
	b->script = s;
	b->input = xmalloc(total + 1);
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct action *a = &p->actions[i];

		if (a->kind == ACTION_FILE) {
			memcpy(b->input + b->input_len, a->content, a->len);
			b->input_len += a->len;
		}
	}
}

void bundle_free(struct bundle *b)
{
	free(b->script);
	if (b->input != NULL)
		wiz_free_secret(b->input, b->input_len);	/* may hold keys */
	memset(b, 0, sizeof *b);
}

/* Markers are found anywhere, not only at a line's start: a check or a
 * command whose output does not end in a newline puts the next marker
 * mid-line. The random token makes a false match as unlikely as a guess.
 * Returns where "@@=TOKEN what" starts and sets *after past its newline;
 * NULL when it is not there (whole, with its newline). */
static const char *find_marker(const char *out, size_t len, const char *token, const char *what,
			       const char **after)
{
	char *needle = xasprintf("@@=%s %s\n", token, what);
	const char *hit = memmem(out, len, needle, strlen(needle));

	if (hit != NULL && after != NULL)
		*after = hit + strlen(needle);
	free(needle);
	return hit;
}

size_t bundle_actions_started(const char *out, size_t len, const char *token)
{
	char *needle = xasprintf("@@=%s action ", token);
	size_t nl = strlen(needle), n = 0;
	const char *p = out, *end = out + len, *hit;

	/* Only whole markers count: the last one may still be arriving. */
	while (p < end && (hit = memmem(p, (size_t)(end - p), needle, nl)) != NULL) {
		const char *num = hit + nl, *q = num;

		while (q < end && *q >= '0' && *q <= '9')
			q++;
		if (q == end || *q != '\n' || q == num)
			break;
		n = strtoul(num, NULL, 10);
		p = q + 1;
	}
	free(needle);
	return n;
}

const char *bundle_probe_output(const char *out, const char *token)
{
	const char *after = NULL;

	if (out == NULL || find_marker(out, strlen(out), token, "probe", &after) == NULL)
		return NULL;
	return after;
}

void probe_batch_add(char **cmd, const char *token, const char *step, const char *body)
{
	xasprintf_append(cmd, "echo '@@=%s step %s'\n(\n%s\n) < /dev/null\n", token, step, body);
}

char *probe_batch_slice(const char *out, const char *token, const char *step)
{
	size_t len = out ? strlen(out) : 0;
	char *what = xasprintf("step %s", step);
	char *any = xasprintf("@@=%s step ", token);
	const char *start = NULL, *next;
	char *slice = NULL;

	if (out != NULL && find_marker(out, len, token, what, &start) != NULL) {
		/* Up to the next step's marker (any step), wherever it starts. */
		next = memmem(start, (size_t)(out + len - start), any, strlen(any));
		slice = xstrndup(start, (size_t)((next ? next : out + len) - start));
	}
	free(any);
	free(what);
	return slice;
}
