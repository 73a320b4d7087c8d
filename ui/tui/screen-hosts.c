/* Hosts: the members as an editable table (name, address, SSH user, port,
 * auth) and the cluster settings that matter (name, Kubernetes and etcd
 * versions, key algorithm). The form edits the in-memory cluster; every
 * check is cluster_validate's, the same as `etcdwiz validate`, and each
 * invalid field is marked where it is, with its reason. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "ui/tui/wizard-internal.h"

enum { COL_NAME, COL_ADDRESS, COL_USER, COL_PORT, COL_AUTH, COL_COUNT };
enum { SET_NAME, SET_K8S, SET_ETCD, SET_ALG, SET_COUNT };

static const char *const col_paths[COL_COUNT] = { "name", "address", "ssh.user", "ssh.port",
						   "ssh.identityFile" };
static const char *const set_paths[SET_COUNT] = { "name", "kubernetesVersion", "etcd.version",
						   "pki.algorithm" };

static struct {
	size_t row;		/* members first, then settings */
	int col;
	bool editing;
	char buf[256];
	size_t len;
	struct diag_list diags;
	bool have_diags;
} S;

static unsigned act_edit(void *ud, int key);
static unsigned act_add(void *ud, int key);
static unsigned act_del(void *ud, int key);

static const struct term_action actions[] = {
	{ TK_ENTER, 0, N_("Edit"), N_("edit the selected field (Enter keeps it, Esc cancels)"), act_edit, true },
	{ 'a', TK_F(5), N_("Add"), N_("add a member"), act_add, true },
	{ 'd', TK_F(8), N_("Delete"), N_("remove the selected member"), act_del, true },
	{ TK_TAB, 0, N_("Field"), N_("next field (arrows move too)"), NULL, false },
	{ 0, 0, NULL, NULL, NULL, false },
};

static size_t n_rows(const struct wizard *w)
{
	return w->c.n_members + SET_COUNT;
}

static void revalidate(struct wizard *w)
{
	if (S.have_diags)
		diag_list_free(&S.diags);
	diag_list_init(&S.diags, w->file ? w->file : "");
	cluster_validate(&w->c, &S.diags);
	S.have_diags = true;
}

/* The first error (or warning) for a key path, or NULL. */
static const struct diag *diag_for(const char *path, bool errors_only)
{
	for (size_t i = 0; S.have_diags && i < S.diags.n; i++) {
		const struct diag *d = &S.diags.items[i];

		if (d->path && strcmp(d->path, path) == 0 && (!errors_only || d->severity == DIAG_ERROR))
			return d;
	}
	return NULL;
}

static char *cell_path(size_t row, int col, size_t n_members)
{
	if (row < n_members)
		return xasprintf("members[%zu].%s", row, col_paths[col]);
	return xstrdup(set_paths[row - n_members]);
}

static char *cell_text(const struct wizard *w, size_t row, int col)
{
	const struct cluster *c = &w->c;

	if (row < c->n_members) {
		const struct host *h = &c->members[row];
		struct ssh_settings eff;

		cluster_host_ssh(c, h, &eff);
		switch (col) {
		case COL_NAME: return xstrdup(h->name ? h->name : "");
		case COL_ADDRESS: return xstrdup(h->address ? h->address : "");
		case COL_USER: return xstrdup(eff.user);
		case COL_PORT: return xasprintf("%d", eff.port);
		default:
			if (h->ssh.identity_file || c->ssh.identity_file)
				return xasprintf(_("key %s"), h->ssh.identity_file ? h->ssh.identity_file
										  : c->ssh.identity_file);
			return xstrdup(_("agent or password"));
		}
	}
	switch (row - c->n_members) {
	case SET_NAME: return xstrdup(c->name ? c->name : "");
	case SET_K8S: return xstrdup(c->kubernetes_version ? c->kubernetes_version : "");
	case SET_ETCD: return xstrdup(c->etcd.version ? c->etcd.version : "");
	default: return xstrdup(pki_algorithm_name(c->pki.algorithm));
	}
}

static void set_str(char **dst, const char *v, bool null_when_empty)
{
	free(*dst);
	*dst = null_when_empty && v[0] == '\0' ? NULL : xstrdup(v);
}

static void commit(struct wizard *w)
{
	struct cluster *c = &w->c;
	const char *v = S.buf;

	if (S.row < c->n_members) {
		struct host *h = &c->members[S.row];

		switch (S.col) {
		case COL_NAME: set_str(&h->name, v, false); break;
		case COL_ADDRESS: set_str(&h->address, v, false); break;
		case COL_USER: set_str(&h->ssh.user, v, true); break;
		case COL_PORT: h->ssh.port = v[0] ? (int)strtol(v, NULL, 10) : 0; break;
		default:
			if (strcmp(v, _("agent or password")) == 0 || v[0] == '\0')
				set_str(&h->ssh.identity_file, "", true);
			else
				set_str(&h->ssh.identity_file, strncmp(v, "key ", 4) == 0 ? v + 4 : v, true);
			break;
		}
	} else {
		switch (S.row - c->n_members) {
		case SET_NAME: set_str(&c->name, v, false); break;
		case SET_K8S: set_str(&c->kubernetes_version, v, false); break;
		case SET_ETCD: set_str(&c->etcd.version, v, false); break;
		default: break;
		}
	}
	w->gen++;
	revalidate(w);
}

static unsigned act_edit(void *ud, int key)
{
	struct wizard *w = ud;
	char *t;

	(void)key;
	if (S.row >= w->c.n_members && S.row - w->c.n_members == SET_ALG) {
		w->c.pki.algorithm = (enum pki_algorithm)((w->c.pki.algorithm + 1) % PKI_ALG_COUNT);
		w->gen++;
		revalidate(w);
		return WZ_HANDLED;
	}
	t = cell_text(w, S.row, S.col);
	snprintf(S.buf, sizeof S.buf, "%s", S.row < w->c.n_members && S.col == COL_AUTH &&
		 w->c.members[S.row].ssh.identity_file == NULL ? "" : t);
	S.len = strlen(S.buf);
	free(t);
	S.editing = true;
	return WZ_HANDLED;
}

static unsigned act_add(void *ud, int key)
{
	struct wizard *w = ud;
	struct cluster *c = &w->c;
	struct host *h;

	(void)key;
	if (c->n_members >= CLUSTER_MAX_MEMBERS) {
		wz_message(w, true, _("At most %d members."), CLUSTER_MAX_MEMBERS);
		return WZ_HANDLED;
	}
	c->members = xreallocarray(c->members, c->n_members + 1, sizeof *c->members);
	h = &c->members[c->n_members];
	memset(h, 0, sizeof *h);
	h->name = xasprintf("etcd-%zu", c->n_members + 1);
	h->address = xstrdup("");
	h->ssh.sudo = -1;
	S.row = c->n_members++;
	S.col = COL_ADDRESS;
	w->gen++;
	revalidate(w);
	return WZ_HANDLED;
}

static unsigned act_del(void *ud, int key)
{
	struct wizard *w = ud;
	struct cluster *c = &w->c;
	struct host *h;

	(void)key;
	if (S.row >= c->n_members)
		return WZ_HANDLED;
	h = &c->members[S.row];
	free(h->name);
	free(h->address);
	free(h->ssh_host);
	free(h->ssh.user);
	free(h->ssh.identity_file);
	free(h->ssh.known_hosts);
	strlist_free(&h->extra_sans);
	memmove(h, h + 1, (c->n_members - S.row - 1) * sizeof *h);
	c->n_members--;
	if (S.row > 0 && S.row >= c->n_members)
		S.row--;
	w->gen++;
	revalidate(w);
	return WZ_HANDLED;
}

static unsigned edit_key(struct wizard *w, int k)
{
	switch (k) {
	case TK_ENTER:
	case TK_TAB:
		S.editing = false;
		commit(w);
		if (k == TK_TAB && S.row < w->c.n_members && S.col + 1 < COL_COUNT)
			S.col++;
		return WZ_HANDLED;
	case TK_ESC:
		S.editing = false;
		return WZ_HANDLED;
	case TK_BS:
		while (S.len > 0) {
			S.len--;
			if ((S.buf[S.len] & 0xc0) != 0x80)
				break;
		}
		S.buf[S.len] = '\0';
		return WZ_HANDLED;
	default:
		if (k >= 32 && k < 127 && S.len + 1 < sizeof S.buf) {
			if (S.row < w->c.n_members && S.col == COL_PORT && (k < '0' || k > '9'))
				return WZ_HANDLED;
			S.buf[S.len++] = (char)k;
			S.buf[S.len] = '\0';
		}
		return WZ_HANDLED;	/* nothing else while a field is edited */
	}
}

static unsigned key(struct wizard *w, int k)
{
	size_t rows = n_rows(w);

	if (S.editing)
		return edit_key(w, k);
	switch (k) {
	case TK_UP:
		if (S.row > 0)
			S.row--;
		return WZ_HANDLED;
	case TK_DOWN:
		if (S.row + 1 < rows)
			S.row++;
		return WZ_HANDLED;
	case TK_LEFT:
		if (S.col > 0)
			S.col--;
		return WZ_HANDLED;
	case TK_RIGHT:
		if (S.col + 1 < COL_COUNT)
			S.col++;
		return WZ_HANDLED;
	case TK_TAB:
		if (S.row < w->c.n_members && S.col + 1 < COL_COUNT)
			S.col++;
		else if (S.row + 1 < rows) {
			S.row++;
			S.col = 0;
		}
		return WZ_HANDLED;
	default:
		return WZ_IGNORED;
	}
}

static void enter(struct wizard *w)
{
	if (S.row >= n_rows(w))
		S.row = 0;
	revalidate(w);
}

static const int col_x[COL_COUNT + 1] = { 1, 14, 32, 44, 51, 80 };

static void draw_cell(struct wizard *w, int y, int x, int width, size_t row, int col)
{
	bool sel = S.row == row && (row >= w->c.n_members || S.col == col);
	char *path = cell_path(row, col, w->c.n_members);
	const struct diag *d = diag_for(path, true);
	char *text = sel && S.editing ? xstrdup(S.buf) : cell_text(w, row, col);
	enum term_role role = sel ? (S.editing ? TERM_INPUT : TERM_SELECTED) : d ? TERM_ERROR : TERM_NORMAL;
	int used;

	term_fill(y, x, width - 1, role);
	if (d)
		term_put(y, x, 1, TERM_ERROR, "!");
	used = term_put(y, x + 1, width - 2, role, text);
	if (sel && S.editing)
		term_put(y, x + 1 + used, 1, TERM_SELECTED, " ");
	free(text);
	free(path);
}

static void draw(struct wizard *w, int top, int rows)
{
	static const char *const heads[COL_COUNT] = { N_("Name"), N_("Address"), N_("SSH user"), N_("Port"),
						       N_("Auth") };
	static const char *const set_labels[SET_COUNT] = { N_("Cluster name"), N_("Kubernetes version"),
							   N_("etcd version"), N_("Key algorithm") };
	int cols = term_cols(), y = top, bottom = top + rows;
	size_t n = w->c.n_members, errors = 0;
	char *path;
	const struct diag *d;

	if (!S.have_diags)
		revalidate(w);
	for (int c = 0; c < COL_COUNT; c++)
		term_put(y, col_x[c] + 1, col_x[c + 1] - col_x[c] - 1, TERM_HEADING, _(heads[c]));
	y++;
	for (size_t i = 0; i < n && y < bottom - SET_COUNT - 4; i++, y++)
		for (int c = 0; c < COL_COUNT; c++)
			draw_cell(w, y, col_x[c], (c == COL_COUNT - 1 ? cols : col_x[c + 1]) - col_x[c], i, c);
	{
		size_t tolerate = n ? (n - 1) / 2 : 0;

		enum term_role role = n == 3 || n == 5 || n == 7 ? TERM_DIM : TERM_WARN;

		/* Each number gets its own plural: "3 members: tolerate 1 failure". */
		if (n <= 1)
			term_putf(y++, 2, cols - 4, role,
				  P_("%zu member: tolerates no failure. Use 3, 5 or 7 members (odd numbers).",
				     "%zu members: tolerate no failure. Use 3, 5 or 7 members (odd numbers).", n), n);
		else
			term_putf(y++, 2, cols - 4, role,
				  P_("%zu members: tolerate %zu failure. Use 3, 5 or 7 members (odd numbers).",
				     "%zu members: tolerate %zu failures. Use 3, 5 or 7 members (odd numbers).", tolerate),
				  n, tolerate);
	}
	y++;
	for (int s = 0; s < SET_COUNT && y < bottom; s++, y++) {
		term_put(y, 2, 22, TERM_NORMAL, _(set_labels[s]));
		draw_cell(w, y, 24, 26, n + (size_t)s, 0);
		if (s == SET_ALG)
			term_put(y, 51, cols - 52, TERM_DIM, _("(Enter changes it)"));
	}
	/* The reason for the selected field, then every other problem. */
	path = cell_path(S.row, S.col, n);
	d = diag_for(path, false);
	free(path);
	for (size_t i = 0; S.have_diags && i < S.diags.n; i++)
		errors += S.diags.items[i].severity == DIAG_ERROR;
	y++;
	if (d && y < bottom)
		term_put(y++, 2, cols - 4, d->severity == DIAG_ERROR ? TERM_ERROR : TERM_WARN, d->msg);
	for (size_t i = 0; S.have_diags && i < S.diags.n && y < bottom; i++) {
		const struct diag *e = &S.diags.items[i];

		if (e == d)
			continue;
		term_putf(y++, 2, cols - 4, e->severity == DIAG_ERROR ? TERM_ERROR : TERM_WARN, "%s %s",
			  term_glyph(e->severity == DIAG_ERROR ? TERM_G_FAIL : TERM_G_WARN), e->msg);
	}
	if (errors == 0 && y < bottom)
		term_putf(y, 2, cols - 4, TERM_OK, "%s %s", term_glyph(TERM_G_OK),
			  _("Every field is valid. F3 saves the cluster file and goes on."));
}

static const char *validate(struct wizard *w)
{
	static char why[160];
	size_t errors = 0;

	if (S.editing)
		return _("a field is being edited: Enter keeps it, Esc cancels");
	revalidate(w);
	for (size_t i = 0; i < S.diags.n; i++)
		errors += S.diags.items[i].severity == DIAG_ERROR;
	if (errors == 0)
		return NULL;
	snprintf(why, sizeof why, P_("%zu field is invalid (marked !)", "%zu fields are invalid (marked !)", errors),
		 errors);
	return why;
}

static unsigned next(struct wizard *w)
{
	if (!wz_save_cluster(w))
		return WZ_HANDLED;
	wz_message(w, false, _("Saved %s."), w->file);
	return WZ_NEXT;
}

static void destroy(struct wizard *w)
{
	(void)w;
	if (S.have_diags)
		diag_list_free(&S.diags);
	S.have_diags = false;
}

const struct screen_ops screen_hosts = {
	.name = "hosts",
	.title = N_("Hosts"),
	.actions = actions,
	.enter = enter,
	.draw = draw,
	.key = key,
	.validate = validate,
	.next = next,
	.destroy = destroy,
};
