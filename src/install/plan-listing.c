#include "config.h"

#include "install/plan-listing.h"

#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/strutil.h"
#include "base/xmalloc.h"

enum unit_kind { UNIT_HEADING, UNIT_LINE, UNIT_TEXT };

struct unit {
	enum unit_kind kind;
	char *step;		/* NULL for UNIT_TEXT */
	char *line;		/* the heading, the line, or the text */
	char *detail;		/* NULL: none */
	char **hosts;
	size_t n_hosts;
};

/* Where each host's last unit of its current step is, so its next unit
 * that differs from the others' follows it. */
struct host_pos {
	char *host;
	char *step;
	size_t at;
};

struct plan_listing {
	struct unit *units;
	size_t n;
	struct host_pos *pos;
	size_t n_pos;
	char **order;		/* the hosts in the cluster file's order */
	size_t n_order;
};

struct plan_listing *plan_listing_new(void)
{
	return xcalloc(1, sizeof(struct plan_listing));
}

static void units_clear(struct plan_listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct unit *u = &l->units[i];

		free(u->step);
		free(u->line);
		free(u->detail);
		for (size_t k = 0; k < u->n_hosts; k++)
			free(u->hosts[k]);
		free(u->hosts);
	}
	free(l->units);
	l->units = NULL;
	l->n = 0;
	for (size_t i = 0; i < l->n_pos; i++) {
		free(l->pos[i].host);
		free(l->pos[i].step);
	}
	free(l->pos);
	l->pos = NULL;
	l->n_pos = 0;
}

void plan_listing_free(struct plan_listing *l)
{
	if (l == NULL)
		return;
	units_clear(l);
	for (size_t i = 0; i < l->n_order; i++)
		free(l->order[i]);
	free(l->order);
	free(l);
}

void plan_listing_order(struct plan_listing *l, const char *host)
{
	l->order = xreallocarray(l->order, l->n_order + 1, sizeof *l->order);
	l->order[l->n_order++] = xstrdup(host);
}

static size_t rank(const struct plan_listing *l, const char *host)
{
	for (size_t i = 0; i < l->n_order; i++)
		if (strcmp(l->order[i], host) == 0)
			return i;
	return l->n_order;
}

/* A group's hosts in the file's order (they arrive in any order). */
static void sort_hosts(const struct plan_listing *l, struct unit *u)
{
	for (size_t i = 1; i < u->n_hosts; i++) {
		char *h = u->hosts[i];
		size_t k = i;

		for (; k > 0 && rank(l, u->hosts[k - 1]) > rank(l, h); k--)
			u->hosts[k] = u->hosts[k - 1];
		u->hosts[k] = h;
	}
}

static bool same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static struct unit *insert(struct plan_listing *l, size_t at)
{
	l->units = xreallocarray(l->units, l->n + 1, sizeof *l->units);
	memmove(&l->units[at + 1], &l->units[at], (l->n - at) * sizeof *l->units);
	l->n++;
	memset(&l->units[at], 0, sizeof l->units[at]);
	for (size_t i = 0; i < l->n_pos; i++)
		if (l->pos[i].at >= at)
			l->pos[i].at++;
	return &l->units[at];
}

/* After the step's last unit, or at the end for a step not seen yet. */
static size_t end_of_step(const struct plan_listing *l, const char *step)
{
	size_t at = l->n;

	for (size_t i = 0; i < l->n; i++)
		if (same(l->units[i].step, step))
			at = i + 1;
	return at;
}

void plan_listing_step(struct plan_listing *l, const char *step, const char *heading)
{
	size_t at = l->n;
	struct unit *u;

	/* A failed host's later steps are reported skipped before they are
	 * announced: the heading goes over them. */
	for (size_t i = 0; i < l->n && at == l->n; i++)
		if (same(l->units[i].step, step))
			at = i;
	u = insert(l, at);

	u->kind = UNIT_HEADING;
	u->step = xstrdup(step);
	u->line = xstrdup(heading);
}

void plan_listing_text(struct plan_listing *l, const char *text)
{
	struct unit *u = insert(l, l->n);

	u->kind = UNIT_TEXT;
	u->line = xstrdup(text);
}

static struct host_pos *host_pos(struct plan_listing *l, const char *host)
{
	for (size_t i = 0; i < l->n_pos; i++)
		if (strcmp(l->pos[i].host, host) == 0)
			return &l->pos[i];
	l->pos = xreallocarray(l->pos, l->n_pos + 1, sizeof *l->pos);
	l->pos[l->n_pos] = (struct host_pos){ .host = xstrdup(host) };
	return &l->pos[l->n_pos++];
}

void plan_listing_add(struct plan_listing *l, const char *host, const char *step,
		      const char *line, const char *detail)
{
	struct host_pos *hp = host_pos(l, host);
	bool in_step = same(hp->step, step);
	size_t at = l->n;
	struct unit *u = NULL;

	/* The same unit of another host that this host has not had yet. */
	for (size_t i = 0; i < l->n && u == NULL; i++) {
		struct unit *c = &l->units[i];
		bool has = false;

		if (c->kind != UNIT_LINE || !same(c->step, step) || !same(c->line, line) ||
		    !same(c->detail, detail))
			continue;
		for (size_t k = 0; k < c->n_hosts && !has; k++)
			has = strcmp(c->hosts[k], host) == 0;
		if (!has && (!in_step || i > hp->at))
			u = c, at = i;
	}
	if (u == NULL) {
		/* After the other hosts' forms of the same line (their own
		 * manifests), so hosts stay in their order. */
		at = in_step ? hp->at + 1 : end_of_step(l, step);
		for (size_t i = at; i < l->n; i++)
			if (l->units[i].kind == UNIT_LINE && same(l->units[i].step, step) &&
			    same(l->units[i].line, line))
				at = i + 1;
		u = insert(l, at);
		u->kind = UNIT_LINE;
		u->step = xstrdup(step);
		u->line = xstrdup(line);
		u->detail = detail ? xstrdup(detail) : NULL;
	}
	u->hosts = xreallocarray(u->hosts, u->n_hosts + 1, sizeof *u->hosts);
	u->hosts[u->n_hosts++] = xstrdup(host);
	if (!in_step) {
		free(hp->step);
		hp->step = xstrdup(step);
	}
	hp->at = at;
}

void plan_units(const struct plan *p, bool details,
		void (*unit)(const char *line, const char *detail, void *ud), void *ud)
{
	for (size_t i = 0; i < p->n_notes; i++)
		unit(p->notes[i], NULL, ud);
	for (size_t i = 0; i < p->n_findings; i++) {
		char *line = xasprintf("[%s %s]: %s", p->findings[i].error ? "ERROR" : "WARNING",
				       p->findings[i].name, p->findings[i].msg);

		unit(line, NULL, ud);
		free(line);
	}
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct action *a = &p->actions[i];
		char *detail = NULL;

		if (!details) {
		} else if (a->kind == ACTION_COMMAND) {
			detail = xasprintf("    $ %s\n", a->command);
		} else if (a->secret && str_has_suffix(a->path, ".crt")) {
			detail = xasprintf(_("    %s (mode %04o, %s): a certificate, its PEM not shown\n"),
					   a->path, (unsigned)a->mode, a->owner);
		} else if (a->secret) {
			detail = xasprintf(_("    %s (mode %04o, %s): secret content not shown\n"),
					   a->path, (unsigned)a->mode, a->owner);
		} else {
			char *old_label = a->old_exists ? xstrdup(a->path) : xstrdup("/dev/null");
			char *diff = text_diff(a->old_content ? a->old_content : "", a->content,
					       old_label, a->path);
			char *line, *save = NULL;

			detail = xasprintf(_("    %s (mode %04o, %s)\n"), a->path, (unsigned)a->mode,
					   a->owner);
			for (line = strtok_r(diff, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
				xasprintf_append(&detail, "    %s\n", line);
			free(diff);
			free(old_label);
		}
		unit(a->summary, detail, ud);
		free(detail);
	}
}

struct add_ctx {
	struct plan_listing *l;
	const char *host, *step;
};

static void add_unit(const char *line, const char *detail, void *ud)
{
	struct add_ctx *c = ud;

	plan_listing_add(c->l, c->host, c->step, line, detail);
}

void plan_listing_plan(struct plan_listing *l, const char *host, const char *step,
		       const struct plan *p, bool details)
{
	struct add_ctx c = { l, host, step };

	plan_units(p, details, add_unit, &c);
}

void plan_listing_print(struct plan_listing *l, FILE *out)
{
	for (size_t i = 0; i < l->n; i++) {
		struct unit *u = &l->units[i];

		if (u->kind != UNIT_LINE) {
			fputs(u->line, out);
			continue;
		}
		sort_hosts(l, u);
		for (size_t k = 0; k < u->n_hosts; k++)
			fprintf(out, "%s%s", k ? ", " : "", u->hosts[k]);
		fprintf(out, " %s: %s\n", u->step, u->line);
		if (u->detail)
			fputs(u->detail, out);
	}
	units_clear(l);
}
