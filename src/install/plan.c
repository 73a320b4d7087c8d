#include "config.h"

#include "install/plan.h"
#include "install/plan-listing.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/strutil.h"
#include "base/xmalloc.h"

void plan_init(struct plan *p)
{
	memset(p, 0, sizeof *p);
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n_actions; i++) {
		struct action *a = &p->actions[i];

		free(a->summary);
		free(a->path);
		if (a->secret && a->content)
			wiz_free_secret(a->content, a->len);
		else
			free(a->content);
		free(a->owner);
		free(a->old_content);
		free(a->command);
	}
	free(p->actions);
	for (size_t i = 0; i < p->n_findings; i++) {
		free(p->findings[i].name);
		free(p->findings[i].msg);
	}
	free(p->findings);
	for (size_t i = 0; i < p->n_notes; i++)
		free(p->notes[i]);
	free(p->notes);
	plan_init(p);
}

static struct action *plan_add(struct plan *p, enum action_kind kind,
			       const char *summary)
{
	struct action *a;

	p->actions = xreallocarray(p->actions, p->n_actions + 1, sizeof *p->actions);
	a = &p->actions[p->n_actions++];
	memset(a, 0, sizeof *a);
	a->kind = kind;
	a->summary = xstrdup(summary);
	return a;
}

void plan_file(struct plan *p, const char *path, const char *content, size_t len,
	       mode_t mode, const char *owner, const char *old, bool old_exists,
	       bool secret, const char *summary)
{
	struct action *a = plan_add(p, ACTION_FILE, summary);

	a->path = xstrdup(path);
	a->content = xmalloc(len + 1);
	memcpy(a->content, content, len);
	a->content[len] = '\0';
	a->len = len;
	a->mode = mode;
	a->owner = xstrdup(owner ? owner : "root:root");
	a->old_exists = old_exists;
	a->old_content = old && !secret ? xstrdup(old) : NULL;
	a->secret = secret;
	if (old_exists && old != NULL)
		sha256_hex(old, strlen(old), a->old_sha256);
}

void plan_command(struct plan *p, const char *command, const char *summary)
{
	struct action *a = plan_add(p, ACTION_COMMAND, summary);

	a->command = xstrdup(command);
}

void plan_finding(struct plan *p, bool error, const char *name, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	p->findings = xreallocarray(p->findings, p->n_findings + 1, sizeof *p->findings);
	f = &p->findings[p->n_findings++];
	f->error = error;
	f->name = xstrdup(name);
	va_start(ap, fmt);
	f->msg = xvasprintf(fmt, ap);
	va_end(ap);
}

/* Takes note; once: not when the plan says it already. */
static void add_note(struct plan *p, char *note, bool once)
{
	for (size_t i = 0; once && i < p->n_notes; i++) {
		if (strcmp(p->notes[i], note) == 0) {
			free(note);
			return;
		}
	}
	p->notes = xreallocarray(p->notes, p->n_notes + 1, sizeof *p->notes);
	p->notes[p->n_notes++] = note;
}

void plan_note(struct plan *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_note(p, xvasprintf(fmt, ap), false);
	va_end(ap);
}

void plan_note_once(struct plan *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_note(p, xvasprintf(fmt, ap), true);
	va_end(ap);
}

bool plan_has_finding(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_findings; i++)
		if (strcmp(p->findings[i].name, name) == 0)
			return true;
	return false;
}

size_t plan_errors(const struct plan *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_findings; i++)
		n += p->findings[i].error;
	return n;
}

bool plan_is_empty(const struct plan *p)
{
	return p->n_actions == 0;
}

/* ---- unified diff over lines (LCS table; our files are small) ---- */

struct lines {
	const char **start;
	size_t *len;
	size_t n;
};

static void split_lines(const char *s, struct lines *l)
{
	size_t cap = 16;

	l->start = xcalloc(cap, sizeof *l->start);
	l->len = xcalloc(cap, sizeof *l->len);
	l->n = 0;
	while (s && *s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		if (l->n == cap) {
			cap *= 2;
			l->start = xreallocarray(l->start, cap, sizeof *l->start);
			l->len = xreallocarray(l->len, cap, sizeof *l->len);
		}
		l->start[l->n] = s;
		l->len[l->n] = len;
		l->n++;
		s += len + (nl ? 1 : 0);
	}
}

static bool line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->start[i], b->start[j], a->len[i]) == 0;
}

struct diff_buf {
	char *s;
	size_t len, cap;
};

static void db_add(struct diff_buf *d, char tag, const char *line, size_t len)
{
	if (d->len + len + 3 > d->cap) {
		d->cap = (d->len + len + 3) * 2;
		d->s = xreallocarray(d->s, d->cap, 1);
	}
	d->s[d->len++] = tag;
	memcpy(d->s + d->len, line, len);
	d->len += len;
	d->s[d->len++] = '\n';
	d->s[d->len] = '\0';
}

char *text_diff(const char *old, const char *new_text, const char *old_label,
		const char *new_label)
{
	struct lines a, b;
	unsigned *lcs;
	char *ops;		/* per edit script step: ' ', '-', '+' */
	size_t *ai, *bi, nops = 0;
	struct diff_buf d = { NULL, 0, 0 };
	size_t i, j, w;

	split_lines(old, &a);
	split_lines(new_text, &b);
	w = b.n + 1;
	lcs = xcalloc((a.n + 1) * w, sizeof *lcs);
	for (i = a.n; i-- > 0;)
		for (j = b.n; j-- > 0;)
			lcs[i * w + j] = line_eq(&a, i, &b, j)
				? lcs[(i + 1) * w + j + 1] + 1
				: (lcs[(i + 1) * w + j] > lcs[i * w + j + 1]
					   ? lcs[(i + 1) * w + j] : lcs[i * w + j + 1]);
	ops = xmalloc(a.n + b.n + 1);
	ai = xcalloc(a.n + b.n + 1, sizeof *ai);
	bi = xcalloc(a.n + b.n + 1, sizeof *bi);
	for (i = 0, j = 0; i < a.n || j < b.n;) {
		ai[nops] = i;
		bi[nops] = j;
		if (i < a.n && j < b.n && line_eq(&a, i, &b, j)) {
			ops[nops++] = ' ';
			i++, j++;
		} else if (i < a.n && (j == b.n || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
			ops[nops++] = '-';	/* removals before additions, as diff -u */
			i++;
		} else {
			ops[nops++] = '+';
			j++;
		}
	}
	{
		/* "--- old" and "+++ new": the tag makes the third character. */
		char *h = xasprintf("-- %s", old_label);

		db_add(&d, '-', h, strlen(h));
		free(h);
		h = xasprintf("++ %s", new_label);
		db_add(&d, '+', h, strlen(h));
		free(h);
	}
	for (size_t k = 0; k < nops;) {
		size_t start, end, ca = 0, cb = 0;
		char *hdr;

		if (ops[k] == ' ') {
			k++;
			continue;
		}
		/* A hunk: changes plus up to 3 lines of context, merging close ones. */
		start = k >= 3 ? k - 3 : 0;
		while (start < k && ops[start] != ' ')
			start++;
		end = k;
		for (;;) {
			size_t gap = 0;

			while (end < nops && ops[end] != ' ')
				end++;
			while (end + gap < nops && ops[end + gap] == ' ')
				gap++;
			if (end + gap < nops && gap <= 6) {
				end += gap;
				continue;
			}
			end += gap < 3 ? gap : 3;
			break;
		}
		for (size_t m = start; m < end; m++) {
			ca += ops[m] != '+';
			cb += ops[m] != '-';
		}
		hdr = xasprintf("@@ -%zu,%zu +%zu,%zu @@", ca ? ai[start] + 1 : ai[start], ca,
				cb ? bi[start] + 1 : bi[start], cb);
		db_add(&d, '@', hdr + 1, strlen(hdr + 1));
		free(hdr);
		for (size_t m = start; m < end; m++) {
			if (ops[m] == '+')
				db_add(&d, '+', b.start[bi[m]], b.len[bi[m]]);
			else
				db_add(&d, ops[m], a.start[ai[m]], a.len[ai[m]]);
		}
		k = end;
	}
	free(lcs);
	free(ops);
	free(ai);
	free(bi);
	free(a.start);
	free(a.len);
	free(b.start);
	free(b.len);
	return d.s;
}

struct print_ctx {
	const char *host, *step;
	FILE *out;
};

static void print_unit(const char *line, const char *detail, void *ud)
{
	struct print_ctx *c = ud;

	fprintf(c->out, "%s %s: %s\n", c->host, c->step, line);
	if (detail)
		fputs(detail, c->out);
}

void plan_print(const struct plan *p, const char *host, const char *step, FILE *out)
{
	struct print_ctx c = { host, step, out };

	plan_units(p, true, print_unit, &c);
}
