/* Welcome: the language, then where the cluster comes from: an existing
 * cluster file, a new cluster, or the built-in lab (brought up with its
 * progress in the log pane when it is down; `etcdwiz lab up` runs as a
 * child process watched by the loop, so the screen stays responsive). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base/i18n.h"
#include "base/loop.h"
#include "base/xmalloc.h"
#include "lab/lab.h"
#include "ui/tui/child.h"
#include "ui/tui/wizard-internal.h"

enum { ITEM_LANG, ITEM_OPEN, ITEM_NEW, ITEM_LAB, ITEM_COUNT };

/* The language the screens are in: the one chosen here, else what the
 * environment asks for (LANGUAGE first, as gettext reads it). */
static bool shows_zh_tw(const struct wizard *w)
{
	static const char *const vars[] = { "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", NULL };

	if (w->lang != NULL && w->lang[0])
		return strcmp(w->lang, "zh_TW") == 0;
	for (size_t i = 0; vars[i]; i++) {
		const char *v = getenv(vars[i]);

		if (v != NULL && v[0])
			return strncmp(v, "zh_TW", 5) == 0 || strncmp(v, "zh_Hant", 7) == 0;
	}
	return false;
}

static struct {
	int sel;
	struct wz_child *lab;	/* `etcdwiz lab up` while it runs */
} S;

static unsigned act_choose(void *ud, int key);

static const struct term_action actions[] = {
	{ TK_ENTER, ' ', N_("Choose"), N_("choose the selected line"), act_choose, true },
	{ TK_UP, TK_DOWN, N_("Move"), N_("select a line"), NULL, false },
	{ 0, 0, NULL, NULL, NULL, false },
};

static void open_answer(struct wizard *w, int button, const char *input, void *ud)
{
	(void)ud;
	if (button != 0 || input[0] == '\0')
		return;
	w->lab = false;
	if (wz_load_cluster(w, input))
		wz_message(w, false, _("Loaded %s: cluster %s, %zu members. F3 goes on."), input, w->c.name,
			   w->c.n_members);
}

static void new_cluster(struct wizard *w)
{
	struct cluster c;

	cluster_init(&c, "etcd");
	c.members = xcalloc(3, sizeof *c.members);
	c.n_members = 3;
	for (size_t i = 0; i < 3; i++) {
		c.members[i].name = xasprintf("etcd-%zu", i + 1);
		c.members[i].address = xstrdup("");
		c.members[i].ssh.sudo = -1;
	}
	w->lab = false;
	wz_use_cluster(w, &c, NULL);
}

static void lab_finished(struct wizard *w, int status, void *ud)
{
	(void)ud;
	S.lab = NULL;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (wz_load_cluster(w, lab_cluster_file())) {
			w->lab = true;
			wz_message(w, false, _("The lab is up: cluster %s, %zu members. F3 goes on."), w->c.name,
				   w->c.n_members);
		}
	} else
		wz_message(w, true, "%s", _("The lab could not be brought up; see the log above."));
}

static void start_lab(struct wizard *w)
{
	/* Three members and a control-plane host: the seed's whole procedure,
	 * the kubeadm files and their /version proof included. */
	char *argv[] = { (char *)PACKAGE, (char *)"lab", (char *)"up", (char *)"-n", (char *)"3",
			 (char *)"--control-plane", NULL };

	if (S.lab != NULL)
		return;
	S.lab = wz_child_start(w, argv, lab_finished, NULL);
	if (S.lab != NULL)
		wz_message(w, false, "%s", _("Bringing the lab up (the first time takes a few minutes)..."));
}

static unsigned act_choose(void *ud, int key)
{
	struct wizard *w = ud;
	struct wz_dialog *d;

	(void)key;
	if (S.lab != NULL) {
		wz_message(w, true, "%s", _("Wait until the lab is up."));
		return WZ_HANDLED;
	}
	switch (S.sel) {
	case ITEM_LANG:
		wz_set_language(w, shows_zh_tw(w) ? "en" : "zh_TW");
		return WZ_HANDLED;
	case ITEM_OPEN:
		d = wz_dialog_push(w, DLG_INPUT, _("Open a cluster file"), open_answer, NULL);
		wz_dialog_line(d, "%s", _("Path of the cluster file (YAML, as etcdwiz apply reads it):"));
		if (w->file)
			snprintf(d->input, sizeof d->input, "%s", w->file);
		d->input_len = strlen(d->input);
		return WZ_HANDLED;
	case ITEM_NEW:
		new_cluster(w);
		return WZ_NEXT;
	default:
		start_lab(w);
		return WZ_HANDLED;
	}
}

static unsigned key(struct wizard *w, int k)
{
	(void)w;
	if (k == TK_UP && S.sel > 0)
		S.sel--;
	else if (k == TK_DOWN && S.sel + 1 < ITEM_COUNT)
		S.sel++;
	else if (k >= '1' && k <= '4')
		S.sel = k - '1';
	else
		return WZ_IGNORED;
	return WZ_HANDLED;
}

static void draw(struct wizard *w, int top, int rows)
{
	int cols = term_cols(), y = top;
	const char *items[ITEM_COUNT];
	char *lang = xasprintf(_("Language: %s"), shows_zh_tw(w)
				       ? "\xe7\xb9\x81\xe9\xab\x94\xe4\xb8\xad\xe6\x96\x87 (zh_TW)" : "English");

	items[ITEM_LANG] = lang;
	items[ITEM_OPEN] = _("Open an existing cluster file");
	items[ITEM_NEW] = _("Start a new cluster");
	items[ITEM_LAB] = _("Use the built-in lab (3 etcd hosts, 1 control plane, on this machine)");
	term_put(y++, 2, cols - 4, TERM_HEADING, _("Welcome to etcdwiz"));
	term_put(y++, 2, cols - 4, TERM_NORMAL,
		 _("This wizard builds a TLS-secured external etcd cluster for Kubernetes,"));
	term_put(y++, 2, cols - 4, TERM_NORMAL,
		 _("run by kubelet as static pods. Nothing changes on a host before you confirm."));
	y++;
	for (int i = 0; i < ITEM_COUNT; i++) {
		term_fill(y, 2, cols - 4, i == S.sel ? TERM_SELECTED : TERM_NORMAL);
		term_putf(y, 3, cols - 6, i == S.sel ? TERM_SELECTED : TERM_NORMAL, "%d  %s", i + 1, items[i]);
		y++;
	}
	y++;
	if (w->have_cluster)
		term_putf(y++, 2, cols - 4, TERM_OK, _("Current: cluster %s, %zu members, file %s"), w->c.name,
			  w->c.n_members, w->file ? w->file : _("(not saved yet)"));
	if (S.lab != NULL)
		term_put(y++, 2, cols - 4, TERM_WARN, _("The lab is coming up..."));
	if (w->log.n > 0 && top + rows - y > 1) {
		term_hline(y++, 0, cols, TERM_DIM);
		wz_draw_log(w, y, top + rows - y);
	}
	free(lang);
}

static const char *validate(struct wizard *w)
{
	if (S.lab != NULL)
		return _("the lab is still coming up");
	if (!w->have_cluster)
		return _("choose a cluster first: open a file, start a new cluster or use the lab");
	return NULL;
}

static bool busy(struct wizard *w)
{
	(void)w;
	return S.lab != NULL;
}

static void destroy(struct wizard *w)
{
	(void)w;
	/* lab up cleans up after itself when interrupted. */
	wz_child_stop(S.lab);
	S.lab = NULL;
}

static void enter(struct wizard *w)
{
	if (w->want_lab) {
		w->want_lab = false;
		S.sel = ITEM_LAB;
		start_lab(w);
	}
}

const struct screen_ops screen_welcome = {
	.name = "welcome",
	.title = N_("Welcome"),
	.actions = actions,
	.enter = enter,
	.draw = draw,
	.key = key,
	.validate = validate,
	.busy = busy,
	.destroy = destroy,
};
