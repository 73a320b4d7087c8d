/* Hosts: every host of the cluster file in one table (the etcd members,
 * then the control-plane hosts, then a row for the cluster itself with the
 * cluster-wide ssh: defaults), and under it a form for the selected row,
 * as nmtui shows a connection under its list: a host's name, address,
 * sshHost, SSH user, port, identity file and sudo, or the cluster's name,
 * versions, key algorithm, control-plane endpoint and SSH defaults.
 *
 * A host's SSH value that the host does not set itself is the cluster's
 * (dim in the table, "(default)" in the form); an empty input or Del gives
 * a value back to the default. Columns are laid out by display width and
 * text wider than its place ends in an ellipsis (term_put). The form edits
 * the in-memory cluster; every check is cluster_validate's, the same as
 * `etcdwiz validate`, and each invalid field is marked where it is, by the
 * key path the validator names ("members[0].sshHost",
 * "controlPlane.hosts[0].ssh.port"), with its reason. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "ui/tui/wizard-internal.h"

enum row_kind { ROW_MEMBER, ROW_CP, ROW_CLUSTER };
enum field_kind { F_TEXT, F_PORT, F_CHOICE };

/* A host's fields, in Tab order (the form's rows left to right, top down). */
enum { HF_NAME, HF_ADDRESS, HF_SSH_HOST, HF_USER, HF_PORT, HF_SUDO, HF_IDENTITY, HF_COUNT };
/* The cluster row's fields. */
enum { CF_NAME, CF_K8S, CF_ETCD, CF_ALG, CF_ENDPOINT, CF_USER, CF_PORT, CF_SUDO, CF_IDENTITY, CF_COUNT };

struct field_def {
	const char *label;	/* N_() */
	const char *path;	/* after "members[i]." etc., as cluster_validate names it */
	/* Its place in the form: the row, and where in the row it starts
	 * and how wide it is, in tenths of the width (paths and host names
	 * get whole rows). */
	int row, at, tenths;
	enum field_kind kind;
	bool has_default;	/* empty input or Del gives it back to a default */
};

static const struct field_def host_fields[HF_COUNT] = {
	{ N_("Name"), "name", 0, 0, 5, F_TEXT, false },
	{ N_("Address"), "address", 0, 5, 5, F_TEXT, false },
	{ N_("SSH host"), "sshHost", 1, 0, 6, F_TEXT, true },
	{ N_("SSH user"), "ssh.user", 1, 6, 4, F_TEXT, true },
	{ N_("Port"), "ssh.port", 2, 0, 5, F_PORT, true },
	{ N_("Sudo"), "ssh.sudo", 2, 5, 5, F_CHOICE, true },
	{ N_("Identity file"), "ssh.identityFile", 3, 0, 10, F_TEXT, true },
};

static const struct field_def cluster_fields[CF_COUNT] = {
	{ N_("Cluster name"), "name", 0, 0, 5, F_TEXT, false },
	{ N_("Kubernetes version"), "kubernetesVersion", 0, 5, 5, F_TEXT, false },
	{ N_("etcd version"), "etcd.version", 1, 0, 5, F_TEXT, false },
	{ N_("Key algorithm"), "pki.algorithm", 1, 5, 5, F_CHOICE, false },
	{ N_("API endpoint"), "controlPlane.endpoint", 2, 0, 7, F_TEXT, true },
	{ N_("SSH user"), "ssh.user", 2, 7, 3, F_TEXT, true },
	{ N_("Port"), "ssh.port", 3, 0, 5, F_PORT, true },
	{ N_("Sudo"), "ssh.sudo", 3, 5, 5, F_CHOICE, false },
	{ N_("Identity file"), "ssh.identityFile", 4, 0, 10, F_TEXT, true },
};

/* The table's columns and the field each shows (-1: none). */
enum { TC_ROLE, TC_NAME, TC_ADDRESS, TC_SSH_HOST, TC_USER, TC_PORT, TC_SUDO, TC_AUTH, TC_COUNT };
static const char *const tc_heads[TC_COUNT] = { N_("Role"), N_("Name"), N_("Address"), N_("SSH host"),
						 N_("SSH user"), N_("Port"), N_("Sudo"), N_("Auth") };
static const int tc_host_field[TC_COUNT] = { -1, HF_NAME, HF_ADDRESS, HF_SSH_HOST, HF_USER, HF_PORT, HF_SUDO,
					      HF_IDENTITY };
static const int tc_cluster_field[TC_COUNT] = { -1, CF_NAME, -1, -1, CF_USER, CF_PORT, CF_SUDO, CF_IDENTITY };
/* Narrowest a column gets when the table does not fit. */
static const int tc_min[TC_COUNT] = { 4, 6, 9, 8, 5, 4, 3, 6 };

/* Rows below the table: members guidance, blank, form heading, the form
 * (at most 5 rows), the edit line. */
#define FIXED_ROWS 10
#define FORM_ROWS 5

static struct {
	size_t row;		/* members, control-plane hosts, then the cluster */
	int field;		/* in the selected row's form */
	size_t top;		/* first table row shown */
	bool editing;
	char buf[256];
	size_t len;
	struct diag_list diags;
	bool have_diags;
} S;

static unsigned act_edit(void *ud, int key);
static unsigned act_add(void *ud, int key);
static unsigned act_add_cp(void *ud, int key);
static unsigned act_del(void *ud, int key);
static unsigned act_clear(void *ud, int key);

static const struct term_action actions[] = {
	{ TK_ENTER, 0, N_("Edit"),
	  N_("edit the selected field (Enter keeps it, Esc cancels; left empty, an SSH value is the default), or change a choice (sudo, key algorithm)"),
	  act_edit, true },
	{ 'a', TK_F(5), N_("Add"), N_("add a member"), act_add, true },
	{ 'c', TK_F(6), N_("Add CP"), N_("add a control-plane host (the file gets a controlPlane section)"),
	  act_add_cp, true },
	{ 'd', TK_F(8), N_("Delete"), N_("remove the selected member or control-plane host"), act_del, true },
	{ TK_DEL, 0, N_("Default"), N_("give the selected SSH value back to the cluster-wide default"), act_clear,
	  false },
	{ TK_CTRL('u'), 0, N_("Clear"), N_("while a field is edited: empty it"), NULL, false },
	{ TK_TAB, TK_BTAB, N_("Field"), N_("next field, Shift-Tab the one before (Left and Right move too)"), NULL,
	  false },
	{ TK_UP, TK_DOWN, N_("Host"), N_("the row above or below; its form is shown under the table"), NULL, false },
	{ 0, 0, NULL, NULL, NULL, false },
};

/* ---- rows and fields ---- */

static size_t n_rows(const struct wizard *w)
{
	return w->c.n_members + w->c.control_plane.n_hosts + 1;
}

static enum row_kind kind_of(const struct wizard *w, size_t row)
{
	if (row < w->c.n_members)
		return ROW_MEMBER;
	if (row < w->c.n_members + w->c.control_plane.n_hosts)
		return ROW_CP;
	return ROW_CLUSTER;
}

static struct host *host_of(struct wizard *w, size_t row)
{
	switch (kind_of(w, row)) {
	case ROW_MEMBER: return &w->c.members[row];
	case ROW_CP: return &w->c.control_plane.hosts[row - w->c.n_members];
	default: return NULL;
	}
}

static const struct field_def *fields_of(const struct wizard *w, size_t row, int *n)
{
	if (kind_of(w, row) == ROW_CLUSTER) {
		*n = CF_COUNT;
		return cluster_fields;
	}
	*n = HF_COUNT;
	return host_fields;
}

/* "members[1]", "controlPlane.hosts[0]", or "" for the cluster row. */
static char *row_prefix(const struct wizard *w, size_t row)
{
	switch (kind_of(w, row)) {
	case ROW_MEMBER: return xasprintf("members[%zu]", row);
	case ROW_CP: return xasprintf("controlPlane.hosts[%zu]", row - w->c.n_members);
	default: return xstrdup("");
	}
}

static char *field_path(const struct wizard *w, size_t row, int f)
{
	int n;
	const struct field_def *defs = fields_of(w, row, &n);
	char *pre = row_prefix(w, row), *p;

	p = pre[0] ? xasprintf("%s.%s", pre, defs[f].path) : xstrdup(defs[f].path);
	free(pre);
	return p;
}

/* What the row is called in the form's heading and the edit line. */
static char *row_title(struct wizard *w, size_t row)
{
	struct host *h = host_of(w, row);

	if (h)
		return xstrdup(h->name && h->name[0] ? h->name : "?");
	return xstrdup(_("the cluster"));
}

static const char *yes_no(int v)
{
	return v > 0 ? _("yes") : _("no");
}

/* The text of field f of row as it applies (a host's inherited SSH values
 * are the cluster's); *inherited says it is not the row's own. Caller
 * frees. */
static char *value_of(struct wizard *w, size_t row, int f, bool *inherited)
{
	const struct cluster *c = &w->c;
	struct host *h = host_of(w, row);

	*inherited = false;
	if (h) {
		struct ssh_settings eff;

		cluster_host_ssh(c, h, &eff);
		switch (f) {
		case HF_NAME: return xstrdup(h->name ? h->name : "");
		case HF_ADDRESS: return xstrdup(h->address ? h->address : "");
		case HF_SSH_HOST:
			*inherited = h->ssh_host == NULL;
			return xstrdup(cluster_host_ssh_target(h) ? cluster_host_ssh_target(h) : "");
		case HF_USER: *inherited = h->ssh.user == NULL; return xstrdup(eff.user);
		case HF_PORT: *inherited = h->ssh.port == 0; return xasprintf("%d", eff.port);
		case HF_IDENTITY:
			*inherited = h->ssh.identity_file == NULL;
			return xstrdup(eff.identity_file ? eff.identity_file : _("agent or password"));
		default: *inherited = h->ssh.sudo < 0; return xstrdup(yes_no(eff.sudo));
		}
	}
	switch (f) {
	case CF_NAME: return xstrdup(c->name ? c->name : "");
	case CF_K8S: return xstrdup(c->kubernetes_version ? c->kubernetes_version : "");
	case CF_ETCD: return xstrdup(c->etcd.version ? c->etcd.version : "");
	case CF_ALG: return xstrdup(pki_algorithm_name(c->pki.algorithm));
	case CF_ENDPOINT:
		*inherited = c->control_plane.endpoint == NULL;
		return xstrdup(c->control_plane.endpoint ? c->control_plane.endpoint : _("none"));
	case CF_USER:
		*inherited = c->ssh.user == NULL;
		return xstrdup(c->ssh.user ? c->ssh.user : CLUSTER_DEFAULT_SSH_USER);
	case CF_PORT:
		*inherited = c->ssh.port == 0;
		return xasprintf("%d", c->ssh.port ? c->ssh.port : CLUSTER_DEFAULT_SSH_PORT);
	case CF_IDENTITY:
		*inherited = c->ssh.identity_file == NULL;
		return xstrdup(c->ssh.identity_file ? c->ssh.identity_file : _("agent or password"));
	default: return xstrdup(yes_no(c->ssh.sudo));
	}
}

/* What field f of row is when the row leaves it empty. Caller frees. */
static char *default_of(struct wizard *w, size_t row, int f)
{
	const struct cluster *c = &w->c;
	struct host *h = host_of(w, row);

	if (h) {
		switch (f) {
		case HF_SSH_HOST: return xasprintf(_("the address, %s"), h->address ? h->address : "");
		case HF_USER: return xstrdup(c->ssh.user ? c->ssh.user : CLUSTER_DEFAULT_SSH_USER);
		case HF_PORT: return xasprintf("%d", c->ssh.port ? c->ssh.port : CLUSTER_DEFAULT_SSH_PORT);
		case HF_IDENTITY: return xstrdup(c->ssh.identity_file ? c->ssh.identity_file : _("agent or password"));
		default: return xstrdup(yes_no(c->ssh.sudo));
		}
	}
	switch (f) {
	case CF_USER: return xstrdup(CLUSTER_DEFAULT_SSH_USER);
	case CF_PORT: return xasprintf("%d", CLUSTER_DEFAULT_SSH_PORT);
	case CF_IDENTITY: return xstrdup(_("agent or password"));
	default: return xstrdup(_("none"));
	}
}

/* The value the row sets itself, as an edit starts from ("" when it
 * inherits). */
static char *own_value(struct wizard *w, size_t row, int f)
{
	bool inherited;
	char *v = value_of(w, row, f, &inherited);

	if (inherited) {
		free(v);
		return xstrdup("");
	}
	return v;
}

/* ---- validation ---- */

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

/* An error about the row anywhere ("members[0]" itself or under it). */
static bool row_has_error(const struct wizard *w, size_t row)
{
	char *pre = row_prefix(w, row);
	size_t n = strlen(pre);
	bool found = false;

	for (size_t i = 0; S.have_diags && i < S.diags.n && !found; i++) {
		const struct diag *d = &S.diags.items[i];

		if (d->severity != DIAG_ERROR || d->path == NULL)
			continue;
		if (n > 0)
			found = strncmp(d->path, pre, n) == 0 && (d->path[n] == '\0' || d->path[n] == '.');
		else
			for (int f = 0; f < CF_COUNT && !found; f++)
				found = strcmp(d->path, cluster_fields[f].path) == 0;
	}
	free(pre);
	return found;
}

/* ---- edits ---- */

static void set_str(char **dst, const char *v, bool null_when_empty)
{
	free(*dst);
	*dst = null_when_empty && v[0] == '\0' ? NULL : xstrdup(v);
}

static void changed(struct wizard *w)
{
	w->gen++;
	revalidate(w);
}

static void commit(struct wizard *w)
{
	struct cluster *c = &w->c;
	struct host *h = host_of(w, S.row);
	const char *v = S.buf;
	int port = v[0] ? (int)strtol(v, NULL, 10) : 0;

	if (h) {
		switch (S.field) {
		case HF_NAME: set_str(&h->name, v, false); break;
		case HF_ADDRESS: set_str(&h->address, v, false); break;
		case HF_SSH_HOST: set_str(&h->ssh_host, v, true); break;
		case HF_USER: set_str(&h->ssh.user, v, true); break;
		case HF_PORT: h->ssh.port = port; break;
		case HF_IDENTITY: set_str(&h->ssh.identity_file, v, true); break;
		default: break;
		}
	} else {
		switch (S.field) {
		case CF_NAME: set_str(&c->name, v, false); break;
		case CF_K8S: set_str(&c->kubernetes_version, v, false); break;
		case CF_ETCD: set_str(&c->etcd.version, v, false); break;
		case CF_ENDPOINT: set_str(&c->control_plane.endpoint, v, true); break;
		case CF_USER: set_str(&c->ssh.user, v, true); break;
		case CF_PORT: c->ssh.port = port; break;
		case CF_IDENTITY: set_str(&c->ssh.identity_file, v, true); break;
		default: break;
		}
	}
	changed(w);
}

/* A choice field: sudo (a host's: default, yes, no), the key algorithm. */
static void cycle(struct wizard *w)
{
	struct host *h = host_of(w, S.row);

	if (h)
		h->ssh.sudo = h->ssh.sudo < 0 ? 1 : h->ssh.sudo == 1 ? 0 : -1;
	else if (S.field == CF_SUDO)
		w->c.ssh.sudo = !(w->c.ssh.sudo > 0);
	else
		w->c.pki.algorithm = (enum pki_algorithm)((w->c.pki.algorithm + 1) % PKI_ALG_COUNT);
	changed(w);
}

static unsigned act_edit(void *ud, int key)
{
	struct wizard *w = ud;
	int n;
	const struct field_def *defs = fields_of(w, S.row, &n);
	char *t;

	(void)key;
	if (defs[S.field].kind == F_CHOICE) {
		cycle(w);
		return WZ_HANDLED;
	}
	/* The endpoint is saved only with a controlPlane section. */
	if (kind_of(w, S.row) == ROW_CLUSTER && S.field == CF_ENDPOINT && !w->c.control_plane.present) {
		wz_message(w, true, "%s", _("The API endpoint belongs to the control plane: c adds a control-plane host first."));
		return WZ_HANDLED;
	}
	t = own_value(w, S.row, S.field);
	/* A value longer than the field's buffer is not cut and saved. */
	if (strlen(t) >= sizeof S.buf) {
		wz_message(w, true, _("%s is too long to edit here (%zu bytes); change it in the cluster file."),
			   _(defs[S.field].label), strlen(t));
		free(t);
		return WZ_HANDLED;
	}
	snprintf(S.buf, sizeof S.buf, "%s", t);
	S.len = strlen(S.buf);
	free(t);
	S.editing = true;
	return WZ_HANDLED;
}

static unsigned act_clear(void *ud, int key)
{
	struct wizard *w = ud;
	struct host *h = host_of(w, S.row);
	struct cluster *c = &w->c;
	int n;
	const struct field_def *defs = fields_of(w, S.row, &n);

	(void)key;
	if (!defs[S.field].has_default) {
		wz_message(w, true, _("%s has no default; Enter edits it."), _(defs[S.field].label));
		return WZ_HANDLED;
	}
	if (h) {
		switch (S.field) {
		case HF_SSH_HOST: set_str(&h->ssh_host, "", true); break;
		case HF_USER: set_str(&h->ssh.user, "", true); break;
		case HF_PORT: h->ssh.port = 0; break;
		case HF_IDENTITY: set_str(&h->ssh.identity_file, "", true); break;
		default: h->ssh.sudo = -1; break;
		}
	} else {
		switch (S.field) {
		case CF_ENDPOINT: set_str(&c->control_plane.endpoint, "", true); break;
		case CF_USER: set_str(&c->ssh.user, "", true); break;
		case CF_PORT: c->ssh.port = 0; break;
		default: set_str(&c->ssh.identity_file, "", true); break;
		}
	}
	changed(w);
	return WZ_HANDLED;
}

static bool name_used(const struct cluster *c, const char *name)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].name && strcmp(c->members[i].name, name) == 0)
			return true;
	for (size_t i = 0; i < c->control_plane.n_hosts; i++)
		if (c->control_plane.hosts[i].name && strcmp(c->control_plane.hosts[i].name, name) == 0)
			return true;
	return false;
}

/* stem1, stem2, ...: the first no host has. */
static char *fresh_name(const struct cluster *c, const char *stem, size_t from)
{
	for (size_t i = from;; i++) {
		char *n = xasprintf("%s%zu", stem, i);

		if (!name_used(c, n))
			return n;
		free(n);
	}
}

static void host_blank(struct host *h, char *name)
{
	memset(h, 0, sizeof *h);
	h->name = name;
	h->address = xstrdup("");
	h->ssh.sudo = -1;
}

static unsigned act_add(void *ud, int key)
{
	struct wizard *w = ud;
	struct cluster *c = &w->c;

	(void)key;
	if (c->n_members >= CLUSTER_MAX_MEMBERS) {
		wz_message(w, true, _("At most %d members."), CLUSTER_MAX_MEMBERS);
		return WZ_HANDLED;
	}
	c->members = xreallocarray(c->members, c->n_members + 1, sizeof *c->members);
	host_blank(&c->members[c->n_members], fresh_name(c, "etcd-", c->n_members + 1));
	S.row = c->n_members++;
	S.field = HF_ADDRESS;
	changed(w);
	return WZ_HANDLED;
}

static unsigned act_add_cp(void *ud, int key)
{
	struct wizard *w = ud;
	struct cluster *c = &w->c;
	size_t n = c->control_plane.n_hosts;

	(void)key;
	c->control_plane.hosts = xreallocarray(c->control_plane.hosts, n + 1, sizeof *c->control_plane.hosts);
	host_blank(&c->control_plane.hosts[n], fresh_name(c, "cp-", n + 1));
	c->control_plane.n_hosts++;
	if (!c->control_plane.present)
		wz_message(w, false, "%s",
			   _("The cluster file gets a controlPlane section (API endpoint: the cluster row)."));
	c->control_plane.present = true;
	S.row = c->n_members + n;
	S.field = HF_ADDRESS;
	changed(w);
	return WZ_HANDLED;
}

static unsigned act_del(void *ud, int key)
{
	struct wizard *w = ud;
	struct cluster *c = &w->c;
	struct host *hosts;
	size_t *n, i;
	char *name;

	(void)key;
	switch (kind_of(w, S.row)) {
	case ROW_MEMBER:
		hosts = c->members;
		n = &c->n_members;
		i = S.row;
		break;
	case ROW_CP:
		hosts = c->control_plane.hosts;
		n = &c->control_plane.n_hosts;
		i = S.row - c->n_members;
		break;
	default:
		wz_message(w, true, "%s", _("d removes a member or a control-plane host, not the cluster row."));
		return WZ_HANDLED;
	}
	name = xstrdup(hosts[i].name ? hosts[i].name : "");
	cluster_host_free(&hosts[i]);
	memmove(&hosts[i], &hosts[i + 1], (*n - i - 1) * sizeof *hosts);
	(*n)--;
	if (i == *n && i > 0)
		S.row--;	/* it was the last of its list: the one before it */
	if (hosts == c->control_plane.hosts && *n == 0) {
		/* No control-plane host is no controlPlane section; the
		 * endpoint is kept in memory for a host added again. */
		c->control_plane.present = false;
		wz_message(w, false, _("Removed %s, the last control-plane host: no controlPlane section now."),
			   name);
	} else {
		wz_message(w, false, _("Removed %s (F3 saves the cluster file)."), name);
	}
	free(name);
	changed(w);
	return WZ_HANDLED;
}

/* ---- keys ---- */

/* The field of the new row with the same key path as the old one (a
 * host's "ssh.user" and the cluster's), else the first. */
static void move_row(struct wizard *w, size_t to)
{
	int n_old, n_new;
	const struct field_def *old = fields_of(w, S.row, &n_old), *nu = fields_of(w, to, &n_new);
	const char *path = old[S.field].path;

	S.row = to;
	if (old == nu)
		return;
	S.field = 0;
	for (int f = 0; f < n_new; f++)
		if (strcmp(nu[f].path, path) == 0)
			S.field = f;
}

static unsigned edit_key(struct wizard *w, int k)
{
	int n;
	const struct field_def *defs = fields_of(w, S.row, &n);

	switch (k) {
	case TK_ENTER:
	case TK_TAB:
		S.editing = false;
		wz_message(w, false, NULL);	/* a refusal while editing is over */
		commit(w);
		if (k == TK_TAB && S.field + 1 < n)
			S.field++;
		return WZ_HANDLED;
	case TK_ESC:
		S.editing = false;
		wz_message(w, false, NULL);
		return WZ_HANDLED;
	case TK_CTRL('u'):
		S.len = 0;
		S.buf[0] = '\0';
		return WZ_HANDLED;
	case TK_BS:
		while (S.len > 0) {
			S.len--;
			if ((S.buf[S.len] & 0xc0) != 0x80)
				break;
		}
		S.buf[S.len] = '\0';
		return WZ_HANDLED;
	/* Help, Next (refused, with the reason) and Abort (asks first) go
	 * on; nothing else while a field is edited. */
	case TK_F1:
	case TK_F3:
	case TK_CTRL('n'):
	case TK_F4:
	case TK_CTRL('x'):
		return WZ_IGNORED;
	case TK_F2:
	case TK_CTRL('b'):
		wz_message(w, true, "%s", _("A field is being edited: Enter keeps it, Esc cancels."));
		return WZ_HANDLED;
	default:
		if (k >= 32 && k < 127 && S.len + 1 < sizeof S.buf) {
			if (defs[S.field].kind == F_PORT && (k < '0' || k > '9' || S.len >= 5))
				return WZ_HANDLED;
			S.buf[S.len++] = (char)k;
			S.buf[S.len] = '\0';
		}
		return WZ_HANDLED;
	}
}

static unsigned key(struct wizard *w, int k)
{
	size_t rows = n_rows(w);
	int n;

	if (S.editing)
		return edit_key(w, k);
	fields_of(w, S.row, &n);
	switch (k) {
	case TK_UP:
		if (S.row > 0)
			move_row(w, S.row - 1);
		return WZ_HANDLED;
	case TK_DOWN:
		if (S.row + 1 < rows)
			move_row(w, S.row + 1);
		return WZ_HANDLED;
	case TK_LEFT:
		if (S.field > 0)
			S.field--;
		return WZ_HANDLED;
	case TK_RIGHT:
		if (S.field + 1 < n)
			S.field++;
		return WZ_HANDLED;
	case TK_TAB:
		if (S.field + 1 < n) {
			S.field++;
		} else if (S.row + 1 < rows) {
			S.row++;
			S.field = 0;
		}
		return WZ_HANDLED;
	case TK_BTAB:
		if (S.field > 0) {
			S.field--;
		} else if (S.row > 0) {
			S.row--;
			fields_of(w, S.row, &n);
			S.field = n - 1;
		}
		return WZ_HANDLED;
	default:
		return WZ_IGNORED;
	}
}

static void clamp(struct wizard *w)
{
	int n;

	if (S.row >= n_rows(w))
		S.row = n_rows(w) - 1;
	fields_of(w, S.row, &n);
	if (S.field >= n || S.field < 0)
		S.field = 0;
}

static void enter(struct wizard *w)
{
	clamp(w);
	revalidate(w);
}

static void leave(struct wizard *w)
{
	(void)w;
	S.editing = false;
}

/* ---- drawing ---- */

/* The end of s that fits in maxw columns. */
static const char *tail_fitting(const char *s, int maxw)
{
	while (*s && term_width(s) > maxw) {
		s++;
		while ((*s & 0xc0) == 0x80)
			s++;
	}
	return s;
}

/* The field being edited: "[text█]" in inverse, the end of a long text
 * shown behind an ellipsis. */
static void draw_input(int y, int x, int width)
{
	int avail = width - 3, used = 0;
	const char *t = S.buf;

	term_put(y, x, 1, TERM_NORMAL, "[");
	x++;
	if (term_width(S.buf) > avail) {
		used += term_put(y, x, 1, TERM_SELECTED, term_glyph(TERM_G_ELLIPSIS));
		t = tail_fitting(S.buf, avail - 1);
	}
	used += term_put(y, x + used, avail - used, TERM_SELECTED, t);
	used += term_put(y, x + used, 1, TERM_SELECTED, term_unicode() ? "\u2588" : "_");
	term_put(y, x + used, 1, TERM_NORMAL, "]");
}

/* A value at (y, x) in width columns: a mark ("!" when invalid), then the
 * text; an inherited value is dim and followed by suffix when given. */
static void draw_value(struct wizard *w, int y, int x, int width, size_t row, int f, const char *suffix)
{
	bool sel = S.row == row && S.field == f, inherited;
	char *path = field_path(w, row, f);
	const struct diag *d = diag_for(path, true);
	char *text;
	enum term_role role;
	int used, tw, sw;

	free(path);
	if (d)
		term_put(y, x, 1, TERM_ERROR, "!");
	if (sel && S.editing) {
		draw_input(y, x + 1, width - 1);
		return;
	}
	text = value_of(w, row, f, &inherited);
	role = sel ? TERM_SELECTED : d ? TERM_ERROR : inherited ? TERM_DIM : TERM_NORMAL;
	tw = width - 2;
	sw = inherited && suffix ? term_width(suffix) + 1 : 0;
	/* Keep room for the suffix unless the value would get too little. */
	if (sw > 0 && term_width(text) + sw > tw && tw - sw >= 8)
		tw -= sw;
	used = term_put(y, x + 1, tw, role, text);
	if (sw > 0 && width - 2 - used > 1)
		term_put(y, x + 2 + used, width - 3 - used, TERM_DIM, suffix);
	free(text);
}

/* Column widths by display width: each the widest of its heading and its
 * cells; while the table is wider than avail, the Auth column (the form
 * shows the identity file too) is left out, then the widest column is cut
 * (to its minimum; an address keeps up to 15 columns). The last column
 * shown takes what is left; a left-out one gets width 0. */
static void layout_columns(struct wizard *w, int avail, int *wd)
{
	size_t rows = n_rows(w);
	int total = 0, min[TC_COUNT];

	for (int c = 0; c < TC_COUNT; c++)
		wd[c] = term_width(_(tc_heads[c]));
	for (size_t r = 0; r < rows; r++) {
		enum row_kind k = kind_of(w, r);
		const char *role = k == ROW_MEMBER ? _("member") : k == ROW_CP ? _("control") : _("cluster");

		if (term_width(role) > wd[TC_ROLE])
			wd[TC_ROLE] = term_width(role);
		for (int c = 1; c < TC_COUNT; c++) {
			int f = k == ROW_CLUSTER ? tc_cluster_field[c] : tc_host_field[c];
			bool inh;
			char *t;

			if (f < 0)
				continue;
			t = value_of(w, r, f, &inh);
			if (term_width(t) > wd[c])
				wd[c] = term_width(t);
			free(t);
		}
	}
	memcpy(min, tc_min, sizeof min);
	min[TC_ADDRESS] = wd[TC_ADDRESS] < 15 ? wd[TC_ADDRESS] : 15;
	for (int c = 0; c < TC_COUNT; c++)
		total += wd[c] + 2;	/* a mark and a gap */
	if (total > avail) {
		total -= wd[TC_AUTH] + 2;
		wd[TC_AUTH] = 0;
	}
	while (total > avail) {
		int widest = -1;

		for (int c = 0; c < TC_COUNT; c++)
			if (wd[c] > min[c] && (widest < 0 || wd[c] > wd[widest]))
				widest = c;
		if (widest < 0)
			break;
		wd[widest]--;
		total--;
	}
	if (total < avail)
		wd[wd[TC_AUTH] ? TC_AUTH : TC_SUDO] += avail - total;
}

static void draw_table(struct wizard *w, int y, int height)
{
	int cols = term_cols(), wd[TC_COUNT], x;
	size_t rows = n_rows(w);

	layout_columns(w, cols - 2, wd);
	x = 1;
	for (int c = 0; c < TC_COUNT && wd[c] > 0; c++) {
		term_put(y, x + 1, wd[c], TERM_HEADING, _(tc_heads[c]));
		x += wd[c] + 2;
	}
	y++;
	for (size_t r = S.top; r < rows && r < S.top + (size_t)height; r++, y++) {
		enum row_kind k = kind_of(w, r);
		bool sel = r == S.row;

		if (sel) {
			term_put(y, 0, 1, TERM_SELECTED, term_glyph(TERM_G_ARROW));
			term_fill(y, 1, cols - 2, TERM_SELECTED);
		}
		x = 1;
		for (int c = 0; c < TC_COUNT && wd[c] > 0; c++) {
			int f = k == ROW_CLUSTER ? tc_cluster_field[c] : tc_host_field[c];

			if (c == TC_ROLE) {
				if (row_has_error(w, r))
					term_put(y, x, 1, TERM_ERROR, "!");
				term_put(y, x + 1, wd[c], sel ? TERM_SELECTED : TERM_NORMAL,
					 k == ROW_MEMBER ? _("member") : k == ROW_CP ? _("control") : _("cluster"));
			} else if (f >= 0) {
				char *path = field_path(w, r, f), *t;
				const struct diag *d = diag_for(path, true);
				bool inh;

				t = value_of(w, r, f, &inh);
				if (d)
					term_put(y, x, 1, TERM_ERROR, "!");
				term_put(y, x + 1, wd[c], sel ? TERM_SELECTED : d ? TERM_ERROR : inh ? TERM_DIM : TERM_NORMAL,
					 t);
				free(t);
				free(path);
			}
			x += wd[c] + 2;
		}
	}
}

/* The selected row's form: rows of "label value" cells; cells that start
 * at the same place share one label width, so their values line up. */
static void draw_form(struct wizard *w, int y, int rows)
{
	int cols = term_cols(), n, total = cols - 4;
	const struct field_def *defs = fields_of(w, S.row, &n);
	bool host = kind_of(w, S.row) != ROW_CLUSTER;

	for (int f = 0; f < n; f++) {
		const struct field_def *d = &defs[f];
		int x = 2 + total * d->at / 10, width = total * d->tenths / 10 - (d->at + d->tenths < 10 ? 2 : 0);
		int lw = 0;
		const char *suffix = NULL;

		if (d->row >= rows)
			continue;
		for (int g = 0; g < n; g++)
			if (defs[g].at == d->at && term_width(_(defs[g].label)) > lw)
				lw = term_width(_(defs[g].label));
		if (lw > width / 2)
			lw = width / 2;
		if (d->has_default)
			suffix = host && f == HF_SSH_HOST ? _("(the address)") : _("(default)");
		term_put(y + d->row, x, lw, S.field == f ? TERM_HEADING : TERM_NORMAL, _(d->label));
		draw_value(w, y + d->row, x + lw + 1, width - lw - 1, S.row, f, suffix);
	}
}

/* Under the form: what is being edited, else the selected field's
 * problem, else what its keys do. */
static int draw_edit_line(struct wizard *w, int y, const struct diag **shown)
{
	int cols = term_cols(), n, used = 1;
	const struct field_def *defs = fields_of(w, S.row, &n);
	const char *label = _(defs[S.field].label);
	char *title = row_title(w, S.row), *path = field_path(w, S.row, S.field);
	const struct diag *d = diag_for(path, false);

	*shown = NULL;
	if (S.editing) {
		term_putf(y, 2, cols - 4, TERM_WARN, _("Editing %s of %s: Enter keeps it, Esc cancels."), label, title);
		if (defs[S.field].has_default) {
			char *dflt = default_of(w, S.row, S.field);

			term_putf(y + 1, 2, cols - 4, TERM_DIM, _("Left empty, it is the default: %s."), dflt);
			free(dflt);
			used = 2;
		}
	} else if (d) {
		term_put(y, 2, cols - 4, d->severity == DIAG_ERROR ? TERM_ERROR : TERM_WARN, d->msg);
		*shown = d;
	} else if (defs[S.field].kind == F_CHOICE) {
		term_putf(y, 2, cols - 4, TERM_DIM, _("Enter changes %s of %s."), label, title);
	} else if (defs[S.field].has_default) {
		term_putf(y, 2, cols - 4, TERM_DIM, _("Enter edits %s of %s; Del gives it back to the default."), label,
			  title);
	} else {
		term_putf(y, 2, cols - 4, TERM_DIM, _("Enter edits %s of %s."), label, title);
	}
	free(path);
	free(title);
	return used;
}

/* The 3/5/7 advice; when the table scrolls, which rows it shows. */
static void draw_guidance(struct wizard *w, int y, int height)
{
	int cols = term_cols();
	size_t n = w->c.n_members, tolerate = n ? (n - 1) / 2 : 0, rows = n_rows(w);
	enum term_role role = n == 3 || n == 5 || n == 7 ? TERM_DIM : TERM_WARN;

	if (rows > (size_t)height) {
		char *where = xasprintf(_("rows %zu-%zu of %zu"), S.top + 1, S.top + (size_t)height, rows);
		int ww = term_width(where);

		term_put(y, cols - 2 - ww, ww, TERM_HEADING, where);
		cols -= ww + 1;
		free(where);
	}

	/* Each number gets its own plural: "3 members: tolerate 1 failure". */
	if (n <= 1)
		term_putf(y, 2, cols - 4, role,
			  P_("%zu member: tolerates no failure. Use 3, 5 or 7 members (odd numbers).",
			     "%zu members: tolerate no failure. Use 3, 5 or 7 members (odd numbers).", n), n);
	else
		term_putf(y, 2, cols - 4, role,
			  P_("%zu members: tolerate %zu failure. Use 3, 5 or 7 members (odd numbers).",
			     "%zu members: tolerate %zu failures. Use 3, 5 or 7 members (odd numbers).", tolerate),
			  n, tolerate);
}

static void draw_heading(struct wizard *w, int y)
{
	int cols = term_cols();
	struct host *h = host_of(w, S.row);
	const char *name = h && h->name && h->name[0] ? h->name : "?";

	term_hline(y, 1, cols - 2, TERM_DIM);
	switch (kind_of(w, S.row)) {
	case ROW_MEMBER:
		term_putf(y, 2, cols - 4, TERM_HEADING, _(" Member %s (%zu of %zu) "), name, S.row + 1, w->c.n_members);
		break;
	case ROW_CP:
		term_putf(y, 2, cols - 4, TERM_HEADING, _(" Control-plane host %s (%zu of %zu) "), name,
			  S.row - w->c.n_members + 1, w->c.control_plane.n_hosts);
		break;
	default:
		term_put(y, 2, cols - 4, TERM_HEADING, _(" The cluster: its settings and every host's SSH defaults "));
		break;
	}
}

static void draw(struct wizard *w, int top, int rows)
{
	int cols = term_cols(), y = top, bottom = top + rows, height, form_rows, n;
	size_t total = n_rows(w), errors = 0;
	const struct diag *shown;
	const struct field_def *defs;

	if (!S.have_diags)
		revalidate(w);
	clamp(w);
	/* The table gets what the form and two problem lines leave. */
	height = rows - FIXED_ROWS - 2;
	if (height < 1)
		height = 1;
	if ((size_t)height > total)
		height = (int)total;
	if (S.row < S.top)
		S.top = S.row;
	if (S.row >= S.top + (size_t)height)
		S.top = S.row + 1 - (size_t)height;
	if (S.top + (size_t)height > total)
		S.top = total - (size_t)height;
	draw_table(w, y, height);
	y += 1 + height;
	if (y < bottom)
		draw_guidance(w, y, height);
	y += 2;
	defs = fields_of(w, S.row, &n);
	form_rows = 0;
	for (int f = 0; f < n; f++)
		if (defs[f].row + 1 > form_rows)
			form_rows = defs[f].row + 1;
	if (form_rows > FORM_ROWS)
		form_rows = FORM_ROWS;
	/* The heading, the form and the edit line, or a word on why not. */
	if (y + 1 + form_rows + 2 > bottom) {
		if (y - 1 < bottom)
			term_put(y - 1, 2, cols - 4, TERM_WARN, _("The form needs a taller terminal."));
		return;
	}
	draw_heading(w, y++);
	draw_form(w, y, form_rows);
	y += form_rows;
	y += draw_edit_line(w, y, &shown);
	/* Every other problem. */
	for (size_t i = 0; S.have_diags && i < S.diags.n; i++)
		errors += S.diags.items[i].severity == DIAG_ERROR;
	for (size_t i = 0; S.have_diags && i < S.diags.n && y < bottom; i++) {
		const struct diag *e = &S.diags.items[i];

		if (e == shown)
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
	.leave = leave,
	.draw = draw,
	.key = key,
	.validate = validate,
	.next = next,
	.destroy = destroy,
};
