/* The wizard shell: the screen list, Back/Next/Abort/help, the footer and
 * status line, dialogs (host keys, secrets, confirmations), the log pane,
 * and the session file that lets a wizard started again resume where it
 * stopped. Screens live in ui/tui/screen-*.c; see wizard-internal.h. */
#include "config.h"

#include "ui/tui/wizard.h"

#include <curses.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/xmalloc.h"
#include "cluster/kvfile.h"
#include "install/fleet.h"
#include "ssh/ssh.h"
#include "ui/tui/wizard-internal.h"

#define LOG_KEEP 500

static const struct screen_ops *const screen_list[] = {
	&screen_welcome, &screen_hosts, &screen_connect, &screen_members, &screen_backups, &screen_upgrade, &screen_prereq,
	&screen_runtime,
	&screen_certs, &screen_deploy, &screen_health, &screen_kubernetes, &screen_summary,
};

static struct wizard W;

static unsigned act_help(void *ud, int key);
static unsigned act_back(void *ud, int key);
static unsigned act_next(void *ud, int key);
static unsigned act_abort(void *ud, int key);

/* The keys of every screen (F1-F4 exist even on a vt100). */
static const struct term_action global_actions[] = {
	{ TK_F1, '?', N_("Help"), N_("show the keys of this screen"), act_help, true },
	{ TK_F2, TK_CTRL('b'), N_("Back"), N_("previous screen (every value is kept)"), act_back, true },
	{ TK_F3, TK_CTRL('n'), N_("Next"), N_("next screen, when this one is complete"), act_next, true },
	{ TK_F4, TK_CTRL('x'), N_("Abort"), N_("leave the wizard (asks first; the session is kept)"),
	  act_abort, true },
	{ 0, 0, NULL, NULL, NULL, false },
};

static unsigned act_help(void *ud, int key) { (void)ud; (void)key; return WZ_HELP; }
static unsigned act_back(void *ud, int key) { (void)ud; (void)key; return WZ_BACK; }
static unsigned act_next(void *ud, int key) { (void)ud; (void)key; return WZ_NEXT; }
static unsigned act_abort(void *ud, int key) { (void)ud; (void)key; return WZ_ABORT; }

/* ---- messages and the log ---- */

void wz_message(struct wizard *w, bool error, const char *fmt, ...)
{
	va_list ap;

	free(w->message);
	w->message = NULL;
	w->message_error = error;
	if (fmt) {
		va_start(ap, fmt);
		w->message = xvasprintf(fmt, ap);
		va_end(ap);
	}
	term_request_draw();
}

void wz_log(struct wizard *w, const char *fmt, ...)
{
	va_list ap;
	char *line;

	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	if (w->log.n >= LOG_KEEP) {
		free(w->log.items[0]);
		memmove(w->log.items, w->log.items + 1, (w->log.n - 1) * sizeof *w->log.items);
		w->log.n--;
	}
	strlist_push(&w->log, line);
	free(line);
	term_request_draw();
}

static void log_sink(enum wiz_log_level level, const char *module, const char *msg, void *ud)
{
	wz_log(ud, "%s: %s: %s", module, wiz_log_level_name(level), msg);
}

void wz_draw_lines(const struct strlist *l, size_t scroll, int top, int rows, int x, int width)
{
	for (int i = 0; i < rows && scroll + (size_t)i < l->n; i++) {
		const char *s = l->items[scroll + (size_t)i];
		enum term_role role = TERM_NORMAL;

		if (s[0] == '+' && s[1] != '+')
			role = TERM_OK;
		else if ((s[0] == '-' && s[1] != '-') || strstr(s, "[ERROR"))
			role = TERM_ERROR;
		else if (strstr(s, "[WARNING"))
			role = TERM_WARN;
		else if (s[0] == '=' && s[1] == '=')
			role = TERM_HEADING;
		term_put(top + i, x, width, role, s);
	}
}

void wz_draw_log(struct wizard *w, int top, int rows)
{
	size_t start = w->log.n > (size_t)rows ? w->log.n - (size_t)rows : 0;

	if (rows <= 0)
		return;
	for (int i = 0; i < rows && start + (size_t)i < w->log.n; i++)
		term_put(top + i, 1, term_cols() - 2, TERM_DIM, w->log.items[start + (size_t)i]);
}

static bool log_line_of(const char *line, const char *host, size_t n)
{
	return strncmp(line, host, n) == 0 && (line[n] == ' ' || line[n] == ':');
}

void wz_draw_log_of(struct wizard *w, const char *host, int top, int rows)
{
	size_t n = strlen(host), count = 0, skip;
	int y = top + 1;

	if (rows <= 0)
		return;
	term_putf(top, 1, term_cols() - 2, TERM_HEADING, _("Log of %s (newest last):"), host);
	for (size_t i = 0; i < w->log.n; i++)
		count += log_line_of(w->log.items[i], host, n);
	skip = count > (size_t)(rows - 1) ? count - (size_t)(rows - 1) : 0;
	for (size_t i = 0; i < w->log.n && y < top + rows; i++) {
		if (!log_line_of(w->log.items[i], host, n))
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		term_put(y++, 1, term_cols() - 2, TERM_DIM, w->log.items[i]);
	}
}

/* ---- dialogs ---- */

struct wz_dialog *wz_dialog_push(struct wizard *w, enum wz_dialog_kind kind, const char *title,
				 wz_dialog_fn done, void *ud)
{
	struct wz_dialog *d;

	w->dlgs = xreallocarray(w->dlgs, w->n_dlgs + 1, sizeof *w->dlgs);
	d = &w->dlgs[w->n_dlgs++];
	memset(d, 0, sizeof *d);
	d->kind = kind;
	d->title = xstrdup(title);
	d->done = done;
	d->ud = ud;
	switch (kind) {
	case DLG_CONFIRM:
		d->buttons[0] = _("Yes");
		d->buttons[1] = _("No");
		d->n_buttons = 2;
		d->sel = 1;
		d->cancel = 1;
		break;
	case DLG_INPUT:
	case DLG_SECRET:
		d->buttons[0] = _("OK");
		d->buttons[1] = _("Cancel");
		d->n_buttons = 2;
		d->cancel = 1;
		break;
	default:
		d->buttons[0] = _("OK");
		d->n_buttons = 1;
		break;
	}
	term_request_draw();
	return d;
}

void wz_dialog_line(struct wz_dialog *d, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	strlist_push(&d->lines, s);
	free(s);
}

static void dialog_free(struct wz_dialog *d)
{
	free(d->title);
	strlist_free(&d->lines);
	explicit_bzero(d->input, sizeof d->input);
}

static void dialog_pop(struct wizard *w, size_t i)
{
	if (w->dlgs[i].ud_free)
		w->dlgs[i].ud_free(w->dlgs[i].ud);
	dialog_free(&w->dlgs[i]);
	memmove(w->dlgs + i, w->dlgs + i + 1, (w->n_dlgs - i - 1) * sizeof *w->dlgs);
	w->n_dlgs--;
}

/* Questions about a session the fleet replaces go with it. */
static void drop_questions(struct ssh_session *s, void *ud)
{
	wz_dialog_drop_session(ud, s);
}

void wz_fleet_sync(struct wizard *w)
{
	if (w->fleet == NULL) {
		w->fleet = fleet_new(w->ssh, &w->c, false);
		return;
	}
	fleet_update(w->fleet, &w->c, drop_questions, w);
}

static void secret_waits_settle(struct wizard *w);
static void secret_wait_clear(struct wz_secret_wait *q);

void wz_dialog_three_buttons(struct wz_dialog *d, const char *b0, const char *b1, const char *b2, int sel)
{
	d->buttons[0] = b0;
	d->buttons[1] = b1;
	d->buttons[2] = b2;
	d->n_buttons = 3;
	d->sel = sel;
	d->cancel = 2;
}

void wz_dialog_drop_session(struct wizard *w, struct ssh_session *s)
{
	for (size_t i = w->n_dlgs; i-- > 0;)
		if (w->dlgs[i].session == s)
			dialog_pop(w, i);
	for (size_t i = w->n_secret_waits; i-- > 0;)
		if (w->secret_waits[i].s == s) {
			secret_wait_clear(&w->secret_waits[i]);
			memmove(w->secret_waits + i, w->secret_waits + i + 1,
				(w->n_secret_waits - i - 1) * sizeof *w->secret_waits);
			w->n_secret_waits--;
		}
	/* A question that went with s: the hosts waiting on it are asked. */
	secret_waits_settle(w);
}

static void dialog_finish(struct wizard *w, int button)
{
	struct wz_dialog d = w->dlgs[0];

	/* Take it off the queue first: the callback may push another. */
	memmove(w->dlgs, w->dlgs + 1, (w->n_dlgs - 1) * sizeof *w->dlgs);
	w->n_dlgs--;
	if (d.done)
		d.done(w, button, d.input, d.ud);
	dialog_free(&d);
	term_request_draw();
}

static void dialog_key(struct wizard *w, int key)
{
	struct wz_dialog *d = &w->dlgs[0];
	bool text = d->kind == DLG_INPUT || d->kind == DLG_SECRET;

	switch (key) {
	case TK_ESC:
		dialog_finish(w, d->cancel);
		return;
	case TK_ENTER:
		dialog_finish(w, d->sel);
		return;
	case TK_TAB:
	case TK_RIGHT:
		d->sel = (d->sel + 1) % d->n_buttons;
		break;
	case TK_BTAB:
	case TK_LEFT:
		d->sel = (d->sel + d->n_buttons - 1) % d->n_buttons;
		break;
	case TK_UP:
		if (d->scroll > 0)
			d->scroll--;
		break;
	case TK_DOWN:
		if (d->scroll + 1 < d->shown_lines)
			d->scroll++;
		break;
	case TK_BS:
		if (text && d->input_len > 0) {
			/* Remove one UTF-8 character. */
			do
				d->input_len--;
			while (d->input_len > 0 && (d->input[d->input_len] & 0xc0) == 0x80);
			d->input[d->input_len] = '\0';
		}
		break;
	default:
		if (text && key >= 32 && key < TK_BASE && d->input_len + 5 < sizeof d->input) {
			char buf[8];
			mbstate_t st;
			size_t n;

			memset(&st, 0, sizeof st);
			n = wcrtomb(buf, (wchar_t)key, &st);
			if (n != (size_t)-1) {
				memcpy(d->input + d->input_len, buf, n);
				d->input_len += n;
				d->input[d->input_len] = '\0';
			}
		} else if (!text && d->kind != DLG_HELP) {
			/* A button's first letter picks it (y/n, a/s/r). */
			for (int i = 0; i < d->n_buttons; i++)
				if (key < 128 && d->buttons[i][0] && (key | 0x20) == (d->buttons[i][0] | 0x20)) {
					dialog_finish(w, i);
					return;
				}
		} else if (d->kind == DLG_HELP && key == 'q') {
			dialog_finish(w, 0);
			return;
		}
		break;
	}
	term_request_draw();
}

/* One UTF-8 character's length at s (1 for a stray byte). */
static size_t utf8_len(const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

	for (size_t i = 1; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

/* Word-wrap lines to width display columns: a dialog shows every word of
 * its message (a changed host key's two fingerprints and the known_hosts
 * line are at the end of a long one). Words wider than a line are cut. */
void wz_wrap_lines(const struct strlist *in, int width, struct strlist *out)
{
	for (size_t i = 0; i < in->n; i++) {
		const char *p = in->items[i], *gap_at = " ";
		size_t gap = 1;
		char *line;

		/* A line that fits keeps its spaces (help's columns). */
		if (term_width(p) <= width) {
			strlist_push(out, p);
			continue;
		}
		line = xstrdup("");
		do {
			size_t wlen = strcspn(p, " ");
			char *word = xstrndup(p, wlen);
			/* Within a line, the spaces of the text are kept (columns). */
			char *cand = line[0] ? xasprintf("%s%.*s%s", line, (int)gap, gap_at, word) : xstrdup(word);

			if (term_width(cand) <= width) {
				free(line);
				line = cand;
			} else {
				free(cand);
				if (line[0])
					strlist_push(out, line);
				free(line);
				line = xstrdup("");
				/* A word wider than the line: cut it by characters. */
				while (term_width(word) > width) {
					size_t cut = 0;
					char *head = NULL;

					for (;;) {
						size_t next = cut + utf8_len(word + cut);
						char *t = xstrndup(word, next);
						bool fits = term_width(t) <= width;

						free(t);
						if (!fits || word[next] == '\0')
							break;
						cut = next;
					}
					if (cut == 0)
						cut = utf8_len(word);
					head = xstrndup(word, cut);
					strlist_push(out, head);
					free(head);
					memmove(word, word + cut, strlen(word + cut) + 1);
				}
				free(line);
				line = xstrdup(word);
			}
			free(word);
			p += wlen;
			gap_at = p;
			while (*p == ' ')
				p++;
			gap = (size_t)(p - gap_at);
		} while (*p);
		strlist_push(out, line);
		free(line);
	}
}

static void dialog_draw(struct wizard *w)
{
	struct wz_dialog *d = &w->dlgs[0];
	int cols = term_cols(), rows = term_rows();
	int width = cols - 8 < 72 ? cols - 8 : 72, inner = width - 4;
	struct strlist shown_lines = { NULL, 0 };
	int body, h, y, x, by;
	bool text = d->kind == DLG_INPUT || d->kind == DLG_SECRET;

	wz_wrap_lines(&d->lines, inner, &shown_lines);
	d->shown_lines = shown_lines.n;
	if (d->scroll >= shown_lines.n && shown_lines.n > 0)
		d->scroll = shown_lines.n - 1;
	body = (int)shown_lines.n;

	if (body > rows - 8 - (text ? 2 : 0))
		body = rows - 8 - (text ? 2 : 0);
	if (body < 1)
		body = 1;
	h = body + 4 + (text ? 2 : 0);
	y = (rows - h) / 2;
	x = (cols - width) / 2;
	term_box(y, x, h, width, TERM_DIALOG, d->title);
	for (int i = 0; i < body && d->scroll + (size_t)i < shown_lines.n; i++)
		term_put(y + 1 + i, x + 2, inner, TERM_DIALOG, shown_lines.items[d->scroll + (size_t)i]);
	if (text) {
		char shown[sizeof d->input];
		int iy = y + 2 + body;

		if (d->kind == DLG_SECRET) {
			size_t n = 0;

			for (size_t i = 0; i < d->input_len && n + 1 < sizeof shown; i++)
				if ((d->input[i] & 0xc0) != 0x80)
					shown[n++] = '*';
			shown[n] = '\0';
		} else
			snprintf(shown, sizeof shown, "%s", d->input);
		term_fill(iy, x + 2, inner, TERM_INPUT);
		{
			int used = term_width(shown), off = 0;

			/* Keep the end of a long entry visible. */
			while (used - off > inner - 1 && shown[off])
				off++;
			used = term_put(iy, x + 2, inner - 1, TERM_INPUT, shown + off);
			term_put(iy, x + 2 + used, 1, TERM_SELECTED, " ");
		}
	}
	by = y + h - 2;
	{
		int bx = x + 2;

		for (int i = 0; i < d->n_buttons; i++) {
			char *b = xasprintf("< %s >", d->buttons[i]);

			bx += term_put(by, bx, width - (bx - x) - 1, i == d->sel ? TERM_SELECTED : TERM_DIALOG, b) + 2;
			free(b);
		}
	}
	if (shown_lines.n > (size_t)body)
		term_putf(y + h - 1, x + width - 12, 10, TERM_DIALOG, " %zu/%zu ", d->scroll + 1,
			  shown_lines.n);
	strlist_free(&shown_lines);
}

static void open_help(struct wizard *w)
{
	const struct screen_ops *s = w->screens[w->cur];
	const struct term_action *tables[] = { s->actions ? s->actions : global_actions,
					       s->actions ? global_actions : NULL, NULL };
	char **lines;
	size_t n = term_help_lines(tables, &lines);
	struct wz_dialog *d = wz_dialog_push(w, DLG_HELP, _("Help"), NULL, NULL);

	wz_dialog_line(d, _("Screen %zu of %zu: %s"), w->cur + 1, w->n_screens, _(s->title));
	wz_dialog_line(d, "%s", "");
	for (size_t i = 0; i < n; i++) {
		strlist_push(&d->lines, lines[i]);
		free(lines[i]);
	}
	free(lines);
	wz_dialog_line(d, "%s", "");
	wz_dialog_line(d, "%s", _("Enter, Esc or q closes this help."));
}

/* ---- the cluster ---- */

void wz_use_cluster(struct wizard *w, struct cluster *c, const char *save_path)
{
	if (w->have_store)
		pki_store_free(&w->store);
	if (w->have_cluster)
		cluster_free(&w->c);
	w->c = *c;
	memset(c, 0, sizeof *c);
	w->have_cluster = true;
	pki_store_init(&w->store, &w->c);
	w->have_store = true;
	free(w->file);
	w->file = save_path ? xstrdup(save_path) : NULL;
	w->gen++;
}

bool wz_load_cluster(struct wizard *w, const char *path)
{
	struct cluster c;
	struct diag_list diags;
	bool ok;

	diag_list_init(&diags, path);
	ok = cluster_load(path, &c, &diags) == WIZ_ERR_OK;
	if (!ok) {
		struct wz_dialog *d = wz_dialog_push(w, DLG_MESSAGE, _("The cluster file has errors"), NULL, NULL);

		for (size_t i = 0; i < diags.n; i++)
			wz_dialog_line(d, "%s:%u:%u: %s", path, diags.items[i].pos.line, diags.items[i].pos.col,
				       diags.items[i].msg);
		if (diags.n == 0)
			wz_dialog_line(d, _("%s cannot be read"), path);
		cluster_free(&c);
	} else
		wz_use_cluster(w, &c, path);
	diag_list_free(&diags);
	return ok;
}

bool wz_save_cluster(struct wizard *w)
{
	struct wiz_error err;
	char *dir;

	if (!w->have_cluster)
		return false;
	if (w->file == NULL) {
		char *base = wiz_data_dir();

		w->file = xasprintf("%s/%s/cluster.yaml", base, w->c.name ? w->c.name : "cluster");
		free(base);
	}
	dir = xstrdup(w->file);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	if ((strcmp(dir, w->file) != 0 && wiz_mkdir_p(dir, 0700, &err) != WIZ_ERR_OK) ||
	    cluster_save(&w->c, w->file, &err) != WIZ_ERR_OK) {
		wz_message(w, true, _("cannot save the cluster file: %s"), err.msg);
		free(dir);
		return false;
	}
	free(dir);
	return true;
}

/* A host's place in the cluster file (members, then control-plane hosts);
 * one it does not name goes last. */
static size_t file_order(const struct wizard *w, const char *host)
{
	for (size_t i = 0; w->have_cluster && i < w->c.n_members; i++)
		if (strcmp(w->c.members[i].name, host) == 0)
			return i;
	for (size_t i = 0; w->have_cluster && i < w->c.control_plane.n_hosts; i++)
		if (strcmp(w->c.control_plane.hosts[i].name, host) == 0)
			return w->c.n_members + i;
	return SIZE_MAX;
}

/* The recap lists hosts in the file's order, not as they finished. */
void wz_recap_add(struct wizard *w, const char *host, enum host_result r)
{
	size_t at = 0, order = file_order(w, host);

	for (size_t i = 0; i < w->n_recap; i++)
		if (strcmp(w->recap[i].host, host) == 0) {
			w->recap[i].counts[r]++;
			return;
		}
	while (at < w->n_recap && file_order(w, w->recap[at].host) <= order)
		at++;
	w->recap = xreallocarray(w->recap, w->n_recap + 1, sizeof *w->recap);
	memmove(w->recap + at + 1, w->recap + at, (w->n_recap - at) * sizeof *w->recap);
	memset(&w->recap[at], 0, sizeof *w->recap);
	w->recap[at].host = xstrdup(host);
	w->recap[at].counts[r] = 1;
	w->n_recap++;
}

/* ---- the session file ---- */

static void session_save(struct wizard *w)
{
	struct kvlist kv = { 0 };
	char *path = kvfile_state_path("wizard-session.yaml");
	struct wiz_error err;

	kvlist_set(&kv, "screen", w->screens[w->cur]->name);
	kvlist_set(&kv, "clusterFile", w->file && w->have_cluster ? w->file : "");
	kvlist_set(&kv, "language", w->lang ? w->lang : "");
	kvlist_set(&kv, "lab", w->lab ? "true" : "false");
	if (kvfile_save(path, &kv, &err) != WIZ_ERR_OK)
		wz_log(w, _("cannot save the session: %s"), err.msg);
	kvlist_free(&kv);
	free(path);
}

/* Reads the session's keys into kv (empty when there is none). */
static void session_load(struct kvlist *kv)
{
	char *path = kvfile_state_path("wizard-session.yaml");

	kvfile_load(path, kv);
	free(path);
}

/* ---- language ---- */

#ifdef ENABLE_NLS
extern int _nl_msg_cat_cntr;
#endif

void wz_set_language(struct wizard *w, const char *lang)
{
	free(w->lang);
	w->lang = xstrdup(lang ? lang : "");
	if (*w->lang)
		setenv("LANGUAGE", w->lang, 1);
	else
		unsetenv("LANGUAGE");
#ifdef ENABLE_NLS
	++_nl_msg_cat_cntr;	/* gettext looks the catalogues up again */
#endif
	term_request_draw();
}

/* ---- screens: every callback is optional ---- */

static void screen_enter(struct wizard *w, const struct screen_ops *s)
{
	if (s->enter)
		s->enter(w);
}

static unsigned screen_key(struct wizard *w, const struct screen_ops *s, int key)
{
	return s->key ? s->key(w, key) : WZ_IGNORED;
}

static const char *screen_validate(struct wizard *w, const struct screen_ops *s)
{
	return s->validate ? s->validate(w) : NULL;
}

static unsigned screen_next(struct wizard *w, const struct screen_ops *s)
{
	return s->next ? s->next(w) : WZ_NEXT;
}

static bool screen_busy(struct wizard *w, const struct screen_ops *s)
{
	return s->busy != NULL && s->busy(w);
}

static void screen_destroy(struct wizard *w, const struct screen_ops *s)
{
	if (s->destroy)
		s->destroy(w);
}

static void go_to(struct wizard *w, size_t idx)
{
	const struct screen_ops *s = w->screens[w->cur];

	if (s->leave)
		s->leave(w);
	w->cur = idx;
	wz_message(w, false, NULL);
	s = w->screens[w->cur];
	screen_enter(w, s);
	session_save(w);
	term_request_draw();
}

static void abort_answer(struct wizard *w, int button, const char *input, void *ud)
{
	(void)input;
	(void)ud;
	if (button == 0) {
		w->quit = true;
		w->status = EXIT_FAILURE;
		w->aborted = true;
	}
}

static void handle_bits(struct wizard *w, unsigned bits)
{
	const struct screen_ops *s = w->screens[w->cur];

	if (bits & WZ_HELP)
		open_help(w);
	if (bits & WZ_ABORT) {
		struct wz_dialog *d = wz_dialog_push(w, DLG_CONFIRM, _("Abort"), abort_answer, NULL);

		wz_dialog_line(d, "%s", _("Leave the wizard now?"));
		if (screen_busy(w, s))
			wz_dialog_line(d, "%s", _("Work is running on the hosts; it will be stopped where it is."));
		wz_dialog_line(d, "%s", _("Every value is kept: run etcdwiz again to resume here."));
	}
	if (bits & WZ_BACK) {
		if (screen_busy(w, s))
			wz_message(w, true, "%s", _("Wait until the work on the hosts has finished."));
		else if (w->cur > 0)
			go_to(w, w->cur - 1);
	}
	if (bits & WZ_NEXT) {
		const char *why = screen_validate(w, s);

		if (why) {
			wz_message(w, true, _("Next is not possible yet: %s"), why);
			return;
		}
		bits = screen_next(w, s);
		if (bits & WZ_NEXT) {
			if (w->cur + 1 < w->n_screens)
				go_to(w, w->cur + 1);
			else {
				w->quit = true;
				w->status = EXIT_SUCCESS;
			}
		}
	}
}

static void on_key(int key, void *ud)
{
	struct wizard *w = ud;
	const struct screen_ops *s = w->screens[w->cur];
	const struct term_action *a;
	unsigned bits = WZ_IGNORED;

	if (w->n_dlgs > 0) {
		dialog_key(w, key);
		return;
	}
	bits = screen_key(w, s, key);
	if (bits == WZ_IGNORED && s->actions && (a = term_action_find(s->actions, key)) != NULL &&
	    a->handler)
		bits = a->handler(w, key) | WZ_HANDLED;
	if (bits == WZ_IGNORED && (a = term_action_find(global_actions, key)) != NULL)
		bits = a->handler(w, key) | WZ_HANDLED;
	handle_bits(w, bits);
	term_request_draw();
}

static void on_draw(void *ud)
{
	struct wizard *w = ud;
	const struct screen_ops *s = w->screens[w->cur];
	const struct term_action *tables[] = { global_actions, s->actions, NULL };
	int cols = term_cols(), rows = term_rows();
	char *title;

	term_fill(0, 0, cols, TERM_TITLE);
	title = xasprintf(_("etcdwiz %zu/%zu: %s"), w->cur + 1, w->n_screens, _(s->title));
	term_put(0, 1, cols - 2, TERM_TITLE, title);
	free(title);
	if (w->have_cluster && w->c.name) {
		char *right = xasprintf(_("cluster %s%s"), w->c.name, w->lab ? _(" (lab)") : "");
		int rw = term_width(right);

		if (rw + 40 < cols)
			term_put(0, cols - rw - 1, rw, TERM_TITLE, right);
		free(right);
	}
	if (rows > 4 && s->draw)
		s->draw(w, 2, rows - 4);
	if (w->message)
		term_put(rows - 2, 1, cols - 2, w->message_error ? TERM_ERROR : TERM_OK, w->message);
	term_draw_footer(rows - 1, tables);
	if (w->n_dlgs > 0)
		dialog_draw(w);
}

static void on_signal(int signo, void *ud)
{
	struct wizard *w = ud;

	/* Ctrl-C, TERM, HUP: save and leave; the terminal is restored, and
	 * the exit status says which signal, as a shell would. */
	w->quit = true;
	w->status = 128 + signo;
}

static bool on_busy(void *ud)
{
	struct wizard *w = ud;
	const struct screen_ops *s = w->screens[w->cur];

	/* A question waiting for the user is not "busy": the script answers. */
	if (w->n_dlgs > 0)
		return false;
	return screen_busy(w, s);
}

static void on_script_end(void *ud)
{
	struct wizard *w = ud;

	w->quit = true;
	if (term_script_error())
		w->status = EXIT_FAILURE;
}

static bool quit_pred(void *ud)
{
	return ((struct wizard *)ud)->quit;
}

/* ---- SSH questions ---- */

struct hostkey_ask {
	struct ssh_session *s;
	char *name;
	char *fp;
};

static void hostkey_ask_free(void *ud)
{
	struct hostkey_ask *a = ud;

	free(a->name);
	free(a->fp);
	free(a);
}

static void hostkey_answer(struct wizard *w, int button, const char *input, void *ud)
{
	struct hostkey_ask *a = ud;
	static const enum ssh_hostkey_answer answers[] = {
		SSH_HOSTKEY_ACCEPT_ONCE, SSH_HOSTKEY_ACCEPT_SAVE, SSH_HOSTKEY_REJECT
	};

	(void)input;
	if (button < 0 || button > 2)
		button = 2;
	/* Later sessions to the same host (the engine's) get the same answer
	 * for the same key, without asking again. */
	if (button == 0)
		kvlist_set(&w->accepted, a->name, a->fp);
	wz_log(w, _("%s: host key %s"), a->name,
	       button == 0 ? _("accepted once") : button == 1 ? _("accepted and saved") : _("rejected"));
	ssh_session_hostkey_answer(a->s, answers[button]);
	hostkey_ask_free(a);
}

static void on_hostkey(struct ssh_session *s, const struct ssh_hostkey_info *info, void *ud)
{
	struct wizard *w = ud;
	const char *once = kvlist_get(&w->accepted, info->name);
	struct hostkey_ask *a;
	struct wz_dialog *d;

	if (once && strcmp(once, info->fingerprint) == 0) {
		ssh_session_hostkey_answer(s, SSH_HOSTKEY_ACCEPT_ONCE);
		return;
	}
	a = xcalloc(1, sizeof *a);
	a->s = s;
	a->name = xstrdup(info->name);
	a->fp = xstrdup(info->fingerprint);
	d = wz_dialog_push(w, DLG_CHOICE, _("Unknown host key"), hostkey_answer, a);
	d->session = s;
	d->ud_free = hostkey_ask_free;
	wz_dialog_three_buttons(d, _("Accept once"), _("Accept and save"), _("Reject"), 2);
	wz_dialog_line(d, _("The authenticity of host %s (%s port %d) can't be established."),
		       info->name, info->address, info->port ? info->port : 22);
	wz_dialog_line(d, _("Key type:    %s"), info->key_type);
	wz_dialog_line(d, _("Fingerprint: %s"), info->fingerprint);
	wz_dialog_line(d, "%s", _("Compare it with 'ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub' on the host."));
	wz_dialog_line(d, _("Accept and save writes it to %s."), info->known_hosts);
}

static void secret_wait_set(struct wz_secret_wait *q, struct ssh_session *s, const struct ssh_secret_request *req)
{
	q->s = s;
	q->kind = req->kind;
	q->name = xstrdup(req->name ? req->name : "");
	q->user = xstrdup(req->user ? req->user : "");
	q->prompt = req->prompt ? xstrdup(req->prompt) : NULL;
	q->attempt = req->attempt;
}

static void secret_wait_clear(struct wz_secret_wait *q)
{
	free(q->name);
	free(q->user);
	free(q->prompt);
	memset(q, 0, sizeof *q);
}

static struct ssh_secret_request secret_wait_req(const struct wz_secret_wait *q)
{
	return (struct ssh_secret_request){ .kind = q->kind, .name = q->name, .user = q->user,
					    .prompt = q->prompt, .attempt = q->attempt };
}

/* One question per user (per identity file for a passphrase). */
static bool secret_same_group(const struct wz_secret_wait *a, const struct wz_secret_wait *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == SSH_SECRET_PASSPHRASE)
		return strcmp(a->prompt ? a->prompt : "", b->prompt ? b->prompt : "") == 0;
	return strcmp(a->user, b->user) == 0;
}

static size_t refused_at(const struct wizard *w, const char *host)
{
	for (size_t i = 0; i < w->secret_refused.n; i++)
		if (strcmp(w->secret_refused.items[i], host) == 0)
			return i;
	return SIZE_MAX;
}

bool wz_secret_refused(const struct wizard *w, const char *host)
{
	return refused_at(w, host) != SIZE_MAX;
}

static void secret_refused_set(struct wizard *w, const char *host, bool on)
{
	size_t at = refused_at(w, host);
	struct strlist *l = &w->secret_refused;

	if (on && at == SIZE_MAX) {
		strlist_push(l, host);
	} else if (!on && at != SIZE_MAX) {
		free(l->items[at]);
		memmove(l->items + at, l->items + at + 1, (l->n - at - 1) * sizeof *l->items);
		l->n--;
	}
}

static void secret_ask_free(void *ud)
{
	struct wz_secret_wait *a = ud;

	secret_wait_clear(a);
	free(a);
}

static bool secret_question_open(const struct wizard *w, const struct wz_secret_wait *q);
static void secret_ask(struct wizard *w, struct wz_secret_wait *a);

/* The hosts of a's question waiting meanwhile: given what is typed now,
 * and the first one still without an answer is asked next. */
static void secret_waits_settle(struct wizard *w)
{
	for (size_t i = 0; i < w->n_secret_waits;) {
		struct wz_secret_wait *q = &w->secret_waits[i];
		struct ssh_secret_request req = secret_wait_req(q);
		bool ask;
		char *answer;

		if (secret_question_open(w, q)) {
			i++;
			continue;
		}
		answer = secret_cache_lookup(w->secrets, &req, &ask);
		if (answer == NULL && ask) {
			struct wz_secret_wait *a = xmalloc(sizeof *a);

			*a = *q;	/* it owns q's strings now */
			memmove(q, q + 1, (w->n_secret_waits - i - 1) * sizeof *q);
			w->n_secret_waits--;
			secret_ask(w, a);
			continue;	/* the others of its question wait again */
		}
		ssh_session_secret_answer(q->s, answer);
		secret_wait_clear(q);
		memmove(q, q + 1, (w->n_secret_waits - i - 1) * sizeof *q);
		w->n_secret_waits--;
	}
}

static void secret_answer(struct wizard *w, int button, const char *input, void *ud)
{
	struct wz_secret_wait *a = ud;
	struct ssh_secret_request req = secret_wait_req(a);
	bool two = a->kind == SSH_SECRET_PASSPHRASE;
	bool every = button == 0;	/* "Every host" (a passphrase: OK) */
	bool typed = two ? button == 0 : button <= 1;

	if (typed) {
		secret_cache_typed(w->secrets, &req, xstrdup(input), every);
		ssh_session_secret_answer(a->s, xstrdup(input));
	} else {
		secret_cache_typed(w->secrets, &req, NULL, false);
		ssh_session_secret_answer(a->s, NULL);
	}
	secret_refused_set(w, a->name, false);
	secret_ask_free(a);
	secret_waits_settle(w);
}

static bool secret_question_open(const struct wizard *w, const struct wz_secret_wait *q)
{
	for (size_t i = 0; i < w->n_dlgs; i++)
		if (w->dlgs[i].kind == DLG_SECRET && w->dlgs[i].done == secret_answer &&
		    secret_same_group(w->dlgs[i].ud, q))
			return true;
	return false;
}

/* The question for a (the dialog owns it). */
static void secret_ask(struct wizard *w, struct wz_secret_wait *a)
{
	struct ssh_secret_request req = secret_wait_req(a);
	struct wz_dialog *d;

	switch (a->kind) {
	case SSH_SECRET_PASSPHRASE:
		d = wz_dialog_push(w, DLG_SECRET, _("Passphrase"), secret_answer, a);
		wz_dialog_line(d, _("Passphrase for %s:"), a->prompt ? a->prompt : "");
		break;
	case SSH_SECRET_PASSWORD:
		d = wz_dialog_push(w, DLG_SECRET, _("Password"), secret_answer, a);
		wz_dialog_line(d, _("Password for %s@%s:"), a->user, a->name);
		break;
	default:
		d = wz_dialog_push(w, DLG_SECRET, _("sudo password"), secret_answer, a);
		wz_dialog_line(d, _("sudo password for %s on %s:"), a->user, a->name);
		break;
	}
	if (a->attempt > 1)
		wz_dialog_line(d, "%s", secret_cache_refused_text(&req));
	if (a->kind != SSH_SECRET_PASSPHRASE) {
		wz_dialog_three_buttons(d, _("Every host"), _("This host"), _("Cancel"), 0);
		wz_dialog_line(d, a->kind == SSH_SECRET_PASSWORD
					  ? _("Every host: tried on each host that logs in as %s, asked again only where it is not accepted.")
					  : _("Every host: tried on each host where %s uses sudo, asked again only where it is not accepted."),
			       a->user);
	}
	d->session = a->s;
	d->ud_free = secret_ask_free;
}

static void on_secret(struct ssh_session *s, const struct ssh_secret_request *req, void *ud)
{
	struct wizard *w = ud;
	struct wz_secret_wait q;
	bool ask;
	char *answer = secret_cache_lookup(w->secrets, req, &ask);

	if (answer != NULL || !ask) {
		ssh_session_secret_answer(s, answer);
		return;
	}
	secret_wait_set(&q, s, req);
	/* Said at once, on the host's row and in the log, not after every
	 * other host was asked. */
	if (req->attempt > 1 && req->kind != SSH_SECRET_PASSPHRASE) {
		secret_refused_set(w, q.name, true);
		wz_log(w, "%s: %s", q.name, secret_cache_refused_text(req));
	}
	if (secret_question_open(w, &q)) {
		w->secret_waits = xreallocarray(w->secret_waits, w->n_secret_waits + 1, sizeof *w->secret_waits);
		w->secret_waits[w->n_secret_waits++] = q;
		return;
	}
	{
		struct wz_secret_wait *a = xmalloc(sizeof *a);

		*a = q;
		secret_ask(w, a);
	}
	term_request_draw();
}

/* ---- run ---- */

static void wizard_free(struct wizard *w)
{
	while (w->n_dlgs > 0)
		dialog_pop(w, w->n_dlgs - 1);
	free(w->dlgs);
	free(w->message);
	strlist_free(&w->log);
	kvlist_free(&w->accepted);
	for (size_t i = 0; i < w->n_secret_waits; i++)
		secret_wait_clear(&w->secret_waits[i]);
	free(w->secret_waits);
	secret_cache_free(w->secrets);
	strlist_free(&w->secret_refused);
	if (w->have_store)
		pki_store_free(&w->store);
	if (w->have_cluster)
		cluster_free(&w->c);
	for (size_t i = 0; i < w->n_recap; i++)
		free(w->recap[i].host);
	free(w->recap);
	strlist_free(&w->journals);
	free(w->file);
	free(w->lang);
}

int wizard_run(const struct wizard_opts *o)
{
	struct wizard *w = &W;
	struct term_callbacks tcb = { on_key, on_draw, NULL, on_signal, on_busy, on_script_end, w };
	struct ssh_callbacks scb = { on_hostkey, on_secret, w };
	struct wiz_error err;
	struct kvlist sess = { NULL, 0 };
	const char *resume = NULL;
	int status;

	memset(w, 0, sizeof *w);
	w->secrets = secret_cache_new(NULL, NULL);	/* asked in dialogs */
	w->screens = screen_list;
	w->n_screens = sizeof screen_list / sizeof screen_list[0];
	w->loop = loop_new();
	w->ssh = ssh_ctx_new(w->loop, &scb);
	session_load(&sess);
	if (kvlist_get(&sess, "language") && *kvlist_get(&sess, "language"))
		wz_set_language(w, kvlist_get(&sess, "language"));
	if (o && o->lab) {
		w->want_lab = true;	/* a fresh start on the lab, not a resume */
	} else if (o && o->file) {
		if (!wz_load_cluster(w, o->file))
			wz_message(w, true, _("%s has errors; fix them or choose another file"), o->file);
	} else if (kvlist_get(&sess, "clusterFile") && *kvlist_get(&sess, "clusterFile") &&
		   wiz_file_exists(kvlist_get(&sess, "clusterFile"))) {
		if (wz_load_cluster(w, kvlist_get(&sess, "clusterFile"))) {
			resume = kvlist_get(&sess, "screen");
			w->lab = kvlist_get(&sess, "lab") && strcmp(kvlist_get(&sess, "lab"), "true") == 0;
		}
	}
	wiz_log_set_sink(log_sink, w);
	if (term_open(w->loop, &tcb, &err) != WIZ_ERR_OK) {
		wiz_log_set_sink(NULL, NULL);
		fprintf(stderr, "%s: %s\n", PACKAGE, err.msg);
		status = EXIT_FAILURE;
		goto out;
	}
	if (resume) {
		for (size_t i = 0; i < w->n_screens; i++)
			if (strcmp(w->screens[i]->name, resume) == 0)
				w->cur = i;
		if (w->cur > 0)
			wz_message(w, false, _("Resumed at %s, where the last session stopped."),
				   _(w->screens[w->cur]->title));
	}
	screen_enter(w, w->screens[w->cur]);
	w->status = EXIT_SUCCESS;
	loop_run_until(w->loop, quit_pred, w, 0);
	if (w->screens[w->cur]->leave)
		w->screens[w->cur]->leave(w);
	session_save(w);
	term_close();
	for (size_t i = 0; i < w->n_screens; i++)
		screen_destroy(w, w->screens[i]);
	wiz_log_set_sink(NULL, NULL);
	status = w->status;
	if (term_script_error()) {
		fprintf(stderr, "%s: %s\n", PACKAGE, term_script_error());
		status = EXIT_FAILURE;
	}
	if (status == 0 && w->have_cluster && w->file)
		printf(_("Cluster file: %s (replay it with: etcdwiz apply -f %s)\n"), w->file, w->file);
	/* Said on the terminal the wizard gave back: what was kept, and the
	 * way back in. */
	if (w->aborted) {
		printf(_("Left the wizard at %s; nothing more was changed on any host.\n"), _(w->screens[w->cur]->title));
		if (w->have_cluster && w->file)
			printf(_("Kept: the cluster file %s and the session: 'etcdwiz wizard' resumes at %s.\n"), w->file,
			       _(w->screens[w->cur]->title));
		else
			printf(_("Kept: the session: 'etcdwiz wizard' resumes at %s.\n"), _(w->screens[w->cur]->title));
	}
out:
	kvlist_free(&sess);
	fleet_free(w->fleet);
	ssh_ctx_free(w->ssh);
	loop_free(w->loop);
	wizard_free(w);
	return status;	/* 128 + the signal that ended it, as a shell reports it */
}
