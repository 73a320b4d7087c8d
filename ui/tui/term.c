/* The terminal layer: curses setup and restore, keys from the tty or from a
 * script, resize and signals through a self-pipe on the one loop, and the
 * small drawing helpers every screen shares. See term.h. */
#include "config.h"

#include "ui/tui/term.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <poll.h>
#include <unistd.h>
#include <wchar.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/loop.h"
#include "base/xmalloc.h"

#define TERM_MAX_SIZE 500
#define SCRIPT_IDLE_POLL_MS 50
#define TTY_KEYS_PER_TURN 256

enum script_kind { SC_KEY, SC_TEXT, SC_DUMP, SC_WAIT_IDLE, SC_SLEEP, SC_RESIZE };

struct script_tok {
	enum script_kind kind;
	int key;
	char *arg;		/* text, dump name */
	int a, b;		/* sleep ms; resize cols, rows */
	unsigned line;
};

static struct {
	bool open;
	bool scripted;
	bool colour;
	bool unicode;
	struct loop *loop;
	struct term_callbacks cb;
	SCREEN *screen;
	FILE *in, *out;
	int tty_fd;		/* where keys come from (-1 in scripted mode) */
	int out_fd;		/* where the reset strings go (-1 in scripted mode) */
	struct termios saved;
	bool have_saved;
	WINDOW *inwin;
	struct loop_io *tty_io, *pipe_io;
	struct loop_timer *draw_timer, *script_timer, *tty_timer;
	bool draw_pending;
	int cols, rows;
	/* scripted mode */
	struct script_tok *toks;
	size_t n_toks, next_tok;
	uint64_t idle_deadline;
	char *script_error;
	bool script_ended;
} T = { .tty_fd = -1, .out_fd = -1 };

/* Async-signal-safe state: the self-pipe and the reset strings. */
static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t sig_pending_term;
static char reset_seq[256];
static size_t reset_len;
static volatile sig_atomic_t restore_fd = -1;

static const char *const glyph_utf8[TERM_G_COUNT] = {
	"\u2500", "\u2502", "\u250c", "\u2510", "\u2514", "\u2518",
	"\u2588", "\u2591", "\u2713", "\u2717", "!", "\u25b8", "\u2022", "\u2026",
};
static const char *const glyph_ascii[TERM_G_COUNT] = {
	"-", "|", "+", "+", "+", "+", "#", ".", "+", "x", "!", ">", "*", "~",
};

/* ---- restore: the async-signal-safe part ---- */

static void restore_raw(void)
{
	int fd = restore_fd;

	if (fd < 0)
		return;
	if (T.have_saved)
		(void)tcsetattr(fd, TCSANOW, &T.saved);
	if (reset_len > 0)
		(void)!write(fd, reset_seq, reset_len);
	restore_fd = -1;
}

static void on_crash(int sig)
{
	restore_raw();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_async_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	if (sig != SIGWINCH) {
		if (sig_pending_term) {
			/* The loop did not get to the first one: restore now. */
			restore_raw();
			signal(sig, SIG_DFL);
			raise(sig);
			return;
		}
		sig_pending_term = 1;
	}
	if (sig_pipe[1] >= 0)
		(void)!write(sig_pipe[1], &b, 1);
	errno = saved;
}

static void add_reset(const char *cap)
{
	char *s = tigetstr(cap);
	size_t n;

	if (s == NULL || s == (char *)-1)
		return;
	n = strlen(s);
	if (reset_len + n < sizeof reset_seq) {
		memcpy(reset_seq + reset_len, s, n);
		reset_len += n;
	}
}

static void install_signals(void)
{
	static const int crash[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	static const int async[] = { SIGWINCH, SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_crash;
	sa.sa_flags = (int)SA_RESETHAND;
	for (size_t i = 0; i < sizeof crash / sizeof crash[0]; i++)
		sigaction(crash[i], &sa, NULL);
	sa.sa_handler = on_async_signal;
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof async / sizeof async[0]; i++)
		sigaction(async[i], &sa, NULL);
}

static void reset_signals(void)
{
	static const int all[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
				   SIGWINCH, SIGINT, SIGTERM, SIGHUP };

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		signal(all[i], SIG_DFL);
}

static void term_atexit(void)
{
	term_close();
}

/* ---- keys ---- */

static int map_curses_key(int code)
{
	switch (code) {
	case KEY_ENTER: return TK_ENTER;
	case KEY_BTAB: return TK_BTAB;
	case KEY_BACKSPACE: return TK_BS;
	case KEY_DC: return TK_DEL;
	case KEY_UP: return TK_UP;
	case KEY_DOWN: return TK_DOWN;
	case KEY_LEFT: return TK_LEFT;
	case KEY_RIGHT: return TK_RIGHT;
	case KEY_HOME: return TK_HOME;
	case KEY_END: return TK_END;
	case KEY_PPAGE: return TK_PGUP;
	case KEY_NPAGE: return TK_PGDN;
	default:
		if (code >= KEY_F(1) && code <= KEY_F(12))
			return TK_F(code - KEY_F0);
		return TK_UNKNOWN;
	}
}

static int map_char(wint_t c)
{
	switch (c) {
	case '\r':
	case '\n': return TK_ENTER;
	case '\t': return TK_TAB;
	case 27: return TK_ESC;
	case 8:
	case 127: return TK_BS;
	default: return (int)c;
	}
}

const char *term_key_name(int key, char buf[16])
{
	static const char *const names[] = {
		[TK_ENTER - TK_BASE] = "Enter", [TK_TAB - TK_BASE] = "Tab",
		[TK_BTAB - TK_BASE] = "S-Tab", [TK_ESC - TK_BASE] = "Esc",
		[TK_BS - TK_BASE] = "BS", [TK_DEL - TK_BASE] = "Del",
		[TK_UP - TK_BASE] = "Up", [TK_DOWN - TK_BASE] = "Down",
		[TK_LEFT - TK_BASE] = "Left", [TK_RIGHT - TK_BASE] = "Right",
		[TK_HOME - TK_BASE] = "Home", [TK_END - TK_BASE] = "End",
		[TK_PGUP - TK_BASE] = "PgUp", [TK_PGDN - TK_BASE] = "PgDn",
	};

	if (key >= TK_F1 && key <= TK_F12) {
		snprintf(buf, 16, "F%d", key - TK_F1 + 1);
		return buf;
	}
	if (key > TK_BASE && key - TK_BASE < (int)(sizeof names / sizeof names[0]) &&
	    names[key - TK_BASE])
		return names[key - TK_BASE];
	if (key == ' ')
		return "Space";
	if (key > 0 && key < 32) {
		snprintf(buf, 16, "Ctrl-%c", key + 'A' - 1);
		return buf;
	}
	if (key > 0 && key < TK_BASE) {
		mbstate_t st;
		size_t n;

		memset(&st, 0, sizeof st);
		n = wcrtomb(buf, (wchar_t)key, &st);
		if (n == (size_t)-1)
			n = 0;
		buf[n] = '\0';
		return buf;
	}
	return "?";
}

static void deliver_key(int key)
{
	if (T.cb.key)
		T.cb.key(key, T.cb.ud);
}

/* Lays the screens out for curses' size (COLS x LINES) unless it is the
 * size already laid out: one relayout and one full repaint per new size. */
static void adopt_size(void)
{
	if (COLS == T.cols && LINES == T.rows)
		return;
	T.cols = COLS;
	T.rows = LINES;
	if (T.cb.resize)
		T.cb.resize(T.cols, T.rows, T.cb.ud);
	clearok(curscr, TRUE);
	term_request_draw();
}

/* A new size from the tty (SIGWINCH) or the script (:resize). curses is
 * resized with resize_term(), never resizeterm(): ncurses' resizeterm()
 * also pushes KEY_RESIZE into curses' own input queue, every time, even
 * when the size did not change. poll() cannot see that queue; the next
 * key read would return the KEY_RESIZE, and resizing again for it pushed
 * another one, forever (issue 11 item 8). We tell the screens ourselves. */
static void set_size(int cols, int rows)
{
	if (cols < 1 || rows < 1)
		return;
	if ((cols != COLS || rows != LINES) && resize_term(rows, cols) == ERR)
		return;
	adopt_size();
}

/* Reads what the tty has, at most TTY_KEYS_PER_TURN keys, so that a flood
 * of input (or anything curses keeps queued) cannot hold the loop; when
 * the bound is hit, the rest is read on the next loop turn. */
static void read_keys(void)
{
	wint_t wc;
	int rc;

	for (int n = 0; T.open; n++) {
		if (n == TTY_KEYS_PER_TURN) {
			if (!loop_timer_armed(T.tty_timer))
				loop_timer_arm_in(T.tty_timer, 0);
			return;
		}
		untouchwin(T.inwin);
		rc = wget_wch(T.inwin, &wc);
		if (rc == ERR)
			return;
		if (rc == KEY_CODE_YES) {
			/* A resize curses has already made (its own SIGWINCH
			 * handling, if it ever has one): take the size, never
			 * resize again for it. */
			if (wc == KEY_RESIZE)
				adopt_size();
			else
				deliver_key(map_curses_key((int)wc));
		} else
			deliver_key(map_char(wc));
	}
}

static void on_tty_timer(struct loop_timer *t, void *ud)
{
	(void)t;
	(void)ud;
	if (T.open && T.tty_io)
		read_keys();
}

static void on_tty(struct loop_io *io, int fd, short revents, void *ud)
{
	(void)io;
	(void)fd;
	(void)ud;
	if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
		/* The terminal went away: treat it as a hangup. */
		loop_io_del(T.tty_io);
		T.tty_io = NULL;
		if (T.cb.signal)
			T.cb.signal(SIGHUP, T.cb.ud);
		return;
	}
	read_keys();
}

static void on_sig_pipe(struct loop_io *io, int fd, short revents, void *ud)
{
	unsigned char buf[32];
	ssize_t n;

	(void)io;
	(void)revents;
	(void)ud;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			int sig = buf[i];

			if (sig == SIGWINCH) {
				struct winsize ws;

				if (T.tty_fd >= 0 && ioctl(T.tty_fd, TIOCGWINSZ, &ws) == 0)
					set_size(ws.ws_col, ws.ws_row);
				continue;
			}
			sig_pending_term = 0;
			if (T.cb.signal)
				T.cb.signal(sig, T.cb.ud);
			else {
				term_close();
				signal(sig, SIG_DFL);
				raise(sig);
			}
			if (!T.open)
				return;
		}
	}
}

/* ---- drawing ---- */

static void draw_now(void)
{
	T.draw_pending = false;
	if (T.draw_timer)
		loop_timer_disarm(T.draw_timer);
	werase(stdscr);
	if (T.cb.draw)
		T.cb.draw(T.cb.ud);
	wnoutrefresh(stdscr);
	doupdate();
}

static void on_draw_timer(struct loop_timer *t, void *ud)
{
	(void)t;
	(void)ud;
	if (T.open && T.draw_pending)
		draw_now();
}

void term_request_draw(void)
{
	if (!T.open)
		return;
	T.draw_pending = true;
	if (!loop_timer_armed(T.draw_timer))
		loop_timer_arm_in(T.draw_timer, 0);
}

void term_flush(void)
{
	if (T.open && T.draw_pending)
		draw_now();
}

/* ---- the script ---- */

static const struct { const char *name; int key; } key_names[] = {
	{ "Enter", TK_ENTER }, { "Tab", TK_TAB }, { "BTab", TK_BTAB },
	{ "Esc", TK_ESC }, { "BS", TK_BS }, { "Del", TK_DEL }, { "Space", ' ' },
	{ "Up", TK_UP }, { "Down", TK_DOWN }, { "Left", TK_LEFT },
	{ "Right", TK_RIGHT }, { "Home", TK_HOME }, { "End", TK_END },
	{ "PgUp", TK_PGUP }, { "PgDn", TK_PGDN },
};

/* A decimal int, or -1 when s is not one. */
static int to_int(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return end == s || *end != '\0' || v < 0 || v > 1000000 ? -1 : (int)v;
}

static bool utf8_decode(const char *s, size_t *used, int *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	int n, c;

	if (u[0] < 0x80) {
		n = 1;
		c = u[0];
	} else if ((u[0] & 0xe0) == 0xc0) {
		n = 2;
		c = u[0] & 0x1f;
	} else if ((u[0] & 0xf0) == 0xe0) {
		n = 3;
		c = u[0] & 0x0f;
	} else if ((u[0] & 0xf8) == 0xf0) {
		n = 4;
		c = u[0] & 0x07;
	} else
		return false;
	for (int i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return false;
		c = (c << 6) | (u[i] & 0x3f);
	}
	*used = (size_t)n;
	*cp = c;
	return true;
}

static void utf8_append(char **buf, size_t *len, size_t *cap, unsigned cp)
{
	char tmp[4];
	size_t n;

	if (cp < 0x80) {
		tmp[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		tmp[0] = (char)(0xc0 | (cp >> 6));
		tmp[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		tmp[0] = (char)(0xe0 | (cp >> 12));
		tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		tmp[0] = (char)(0xf0 | (cp >> 18));
		tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (*len + n + 2 > *cap) {
		*cap = (*cap + n + 2) * 2;
		*buf = xreallocarray(*buf, *cap, 1);
	}
	memcpy(*buf + *len, tmp, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static bool parse_key_token(const char *t, int *key)
{
	size_t n = strlen(t), used;
	int cp;

	if (n >= 3 && t[0] == '<' && t[n - 1] == '>') {
		char name[16];

		if (n - 2 >= sizeof name)
			return false;
		memcpy(name, t + 1, n - 2);
		name[n - 2] = '\0';
		for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++)
			if (strcmp(key_names[i].name, name) == 0) {
				*key = key_names[i].key;
				return true;
			}
		if (name[0] == 'F' && name[1] >= '1' && name[1] <= '9') {
			int f = to_int(name + 1);

			if (f >= 1 && f <= 12) {
				*key = TK_F(f);
				return true;
			}
		}
		if (strncmp(name, "C-", 2) == 0 && name[2] >= 'a' && name[2] <= 'z' && !name[3]) {
			*key = TK_CTRL(name[2]);
			return true;
		}
		return false;
	}
	if (utf8_decode(t, &used, &cp) && used == n) {
		*key = cp;
		return true;
	}
	return false;
}

static char *parse_quoted(const char *s)
{
	size_t n = strlen(s);
	char *out, *o;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return NULL;
	out = o = xmalloc(n);
	for (size_t i = 1; i < n - 1; i++) {
		if (s[i] == '\\' && i + 1 < n - 1)
			i++;
		*o++ = s[i];
	}
	*o = '\0';
	return out;
}

static bool parse_size(const char *s, int *cols, int *rows)
{
	char *end;
	long c = strtol(s, &end, 10), r;

	if (*end != 'x')
		return false;
	r = strtol(end + 1, &end, 10);
	if (*end != '\0' || c < 20 || r < 5 || c > TERM_MAX_SIZE || r > TERM_MAX_SIZE)
		return false;
	*cols = (int)c;
	*rows = (int)r;
	return true;
}

static enum wiz_err script_load(const char *path, struct wiz_error *err)
{
	char *data = NULL, *save = NULL;
	size_t cap = 0;
	unsigned line = 0;
	enum wiz_err rc = wiz_read_file(path, 1u << 20, &data, NULL, err);

	if (rc != WIZ_ERR_OK)
		goto out;
	/* strtok_r skips empty lines, so count lines by hand. */
	for (char *p = data; p && *p;) {
		char *nl = strchr(p, '\n'), *t = p;
		struct script_tok tok;

		if (nl)
			*nl = '\0';
		line++;
		p = nl ? nl + 1 : NULL;
		while (*t == ' ' || *t == '\t')
			t++;
		t[strcspn(t, "\r")] = '\0';
		if (*t == '\0' || strncmp(t, "# ", 2) == 0)
			continue;
		memset(&tok, 0, sizeof tok);
		tok.line = line;
		if (strncmp(t, "text:", 5) == 0) {
			tok.kind = SC_TEXT;
			tok.arg = parse_quoted(t + 5);
		} else if (strncmp(t, ":dump ", 6) == 0) {
			tok.kind = SC_DUMP;
			tok.arg = xstrdup(t + 6);
			if (strchr(tok.arg, '/') || tok.arg[0] == '.' || tok.arg[0] == '\0') {
				free(tok.arg);
				tok.arg = NULL;
			}
		} else if (strcmp(t, ":wait-idle") == 0) {
			tok.kind = SC_WAIT_IDLE;
			tok.arg = xstrdup("");
		} else if (strncmp(t, ":sleep ", 7) == 0) {
			tok.kind = SC_SLEEP;
			tok.a = to_int(t + 7);
			tok.arg = tok.a >= 0 && tok.a <= 60000 ? xstrdup("") : NULL;
		} else if (strncmp(t, ":resize ", 8) == 0) {
			tok.kind = SC_RESIZE;
			tok.arg = parse_size(t + 8, &tok.a, &tok.b) ? xstrdup("") : NULL;
		} else if (parse_key_token(t, &tok.key)) {
			tok.kind = SC_KEY;
			tok.arg = xstrdup("");
		}
		if (tok.arg == NULL) {
			rc = wiz_error_set(err, WIZ_ERR_PARSE, _("%s:%u: not a script token: %s"),
					   path, line, t);
			goto out;
		}
		if (T.n_toks == cap) {
			cap = cap ? cap * 2 : 32;
			T.toks = xreallocarray(T.toks, cap, sizeof *T.toks);
		}
		T.toks[T.n_toks++] = tok;
	}
out:
	free(data);
	(void)save;
	return rc;
}

static void script_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void script_fail(const char *fmt, ...)
{
	va_list ap;

	if (T.script_error == NULL) {
		va_start(ap, fmt);
		T.script_error = xvasprintf(fmt, ap);
		va_end(ap);
	}
	T.next_tok = T.n_toks;
}

static void script_dump(const struct script_tok *tok)
{
	const char *dir = getenv("ETCDWIZ_UI_DUMP_DIR");
	char *path, *text;
	struct wiz_error err;

	draw_now();	/* dumps always show a fresh paint */
	text = term_screen_text();
	path = xasprintf("%s/%s.txt", dir && *dir ? dir : ".", tok->arg);
	if (wiz_write_file_atomic(path, text, strlen(text), 0644, &err) != WIZ_ERR_OK)
		script_fail("%s", err.msg);
	free(path);
	free(text);
}

static void on_script_timer(struct loop_timer *t, void *ud)
{
	struct script_tok *tok;
	int lim = 600;
	const char *env;

	(void)ud;
	if (!T.open)
		return;
	if (T.next_tok >= T.n_toks) {
		if (!T.script_ended) {
			T.script_ended = true;
			term_flush();
			if (T.cb.script_end)
				T.cb.script_end(T.cb.ud);
		}
		return;
	}
	tok = &T.toks[T.next_tok];
	switch (tok->kind) {
	case SC_KEY:
		T.next_tok++;
		deliver_key(tok->key);
		break;
	case SC_TEXT:
		T.next_tok++;
		for (size_t i = 0, used; tok->arg[i]; i += used) {
			int cp;

			if (!utf8_decode(tok->arg + i, &used, &cp))
				break;
			deliver_key(cp);
		}
		break;
	case SC_DUMP:
		T.next_tok++;
		script_dump(tok);
		break;
	case SC_WAIT_IDLE:
		if (T.cb.busy == NULL || !T.cb.busy(T.cb.ud)) {
			T.idle_deadline = 0;
			T.next_tok++;
			break;
		}
		env = getenv("ETCDWIZ_UI_IDLE_TIMEOUT");
		if (env && to_int(env) > 0)
			lim = to_int(env);
		if (T.idle_deadline == 0)
			T.idle_deadline = loop_now() + (uint64_t)lim * 1000u;
		if (loop_now() >= T.idle_deadline) {
			script_fail(_("script line %u: still busy after %d s"), tok->line, lim);
			break;
		}
		term_flush();
		loop_timer_arm_in(t, SCRIPT_IDLE_POLL_MS);
		return;
	case SC_SLEEP:
		T.next_tok++;
		term_flush();
		loop_timer_arm_in(t, (uint64_t)tok->a);
		return;
	case SC_RESIZE:
		T.next_tok++;
		set_size(tok->a, tok->b);
		break;
	}
	if (T.open)
		loop_timer_arm_in(t, 0);
}

/* ---- open and close ---- */

static bool env_is(const char *name, const char *prefix)
{
	const char *v = getenv(name);

	return v && strncmp(v, prefix, strlen(prefix)) == 0;
}

static bool choose_unicode(void)
{
	const char *ascii = getenv("ETCDWIZ_UI_ASCII");

	if (ascii && *ascii && strcmp(ascii, "0") != 0)
		return false;
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		return false;
	if (env_is("TERM", "vt100") || env_is("TERM", "vt220") || env_is("TERM", "linux"))
		return false;
	return true;
}

static void init_roles(void)
{
	const char *nc = getenv("NO_COLOR");

	T.colour = has_colors() && (nc == NULL || *nc == '\0');
	if (!T.colour)
		return;
	start_color();
	use_default_colors();
	init_pair(1, COLOR_WHITE, COLOR_BLUE);		/* title, footer */
	init_pair(2, COLOR_BLACK, COLOR_CYAN);		/* selected */
	init_pair(3, COLOR_GREEN, -1);			/* ok */
	init_pair(4, COLOR_YELLOW, -1);			/* warn */
	init_pair(5, COLOR_RED, -1);			/* error */
	init_pair(6, COLOR_BLACK, COLOR_WHITE);		/* dialog */
	init_pair(7, COLOR_CYAN, -1);			/* heading */
}

int term_attr(enum term_role role)
{
	if (T.colour) {
		switch (role) {
		case TERM_TITLE: return (int)(COLOR_PAIR(1) | A_BOLD);
		case TERM_FOOTER: return (int)COLOR_PAIR(1);
		case TERM_HEADING: return (int)(COLOR_PAIR(7) | A_BOLD);
		case TERM_SELECTED: return (int)COLOR_PAIR(2);
		case TERM_INPUT: return (int)A_UNDERLINE;
		case TERM_OK: return (int)COLOR_PAIR(3);
		case TERM_WARN: return (int)(COLOR_PAIR(4) | A_BOLD);
		case TERM_ERROR: return (int)(COLOR_PAIR(5) | A_BOLD);
		case TERM_DIM: return (int)A_DIM;
		case TERM_DIALOG: return (int)COLOR_PAIR(6);
		default: return (int)A_NORMAL;
		}
	}
	switch (role) {
	case TERM_TITLE:
	case TERM_FOOTER:
	case TERM_SELECTED: return (int)A_REVERSE;
	case TERM_HEADING:
	case TERM_WARN:
	case TERM_ERROR: return (int)A_BOLD;
	case TERM_INPUT: return (int)A_UNDERLINE;
	default: return (int)A_NORMAL;
	}
}

static enum wiz_err open_screen(struct wiz_error *err)
{
	const char *script = getenv("ETCDWIZ_UI_SCRIPT");
	const char *term = getenv("TERM");

	if (script && *script) {
		static const char *const fallbacks[] = { "xterm", "vt100", "ansi" };
		const char *size = getenv("ETCDWIZ_UI_SIZE");
		int cols = 80, rows = 24;

		if (size && *size && !parse_size(size, &cols, &rows))
			return wiz_error_set(err, WIZ_ERR_USAGE,
					     _("ETCDWIZ_UI_SIZE wants COLSxROWS (at least 20x5), not '%s'"),
					     size);
		if (script_load(script, err) != WIZ_ERR_OK)
			return err ? err->code : WIZ_ERR_PARSE;
		T.scripted = true;
		T.out = fopen("/dev/null", "r+");
		T.in = T.out ? fdopen(dup(fileno(T.out)), "r") : NULL;
		if (T.out == NULL || T.in == NULL)
			return wiz_error_set(err, WIZ_ERR_IO, "/dev/null: %s", strerror(errno));
		if (term && *term && strcmp(term, "dumb") != 0)
			T.screen = newterm(term, T.out, T.in);
		for (size_t i = 0; T.screen == NULL && i < sizeof fallbacks / sizeof fallbacks[0]; i++)
			T.screen = newterm(fallbacks[i], T.out, T.in);
		if (T.screen == NULL)
			return wiz_error_set(err, WIZ_ERR_IO, _("no usable terminal description for the virtual screen"));
		resize_term(rows, cols);	/* not resizeterm: see set_size */
		return WIZ_ERR_OK;
	}
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		T.in = fdopen(dup(STDIN_FILENO), "r");
		T.out = fdopen(dup(STDOUT_FILENO), "w");
	} else {
		T.in = fopen("/dev/tty", "r");
		T.out = fopen("/dev/tty", "w");
	}
	if (T.in == NULL || T.out == NULL)
		return wiz_error_set(err, WIZ_ERR_IO, _("the wizard needs a terminal (no /dev/tty: %s)"),
				     strerror(errno));
	T.tty_fd = fileno(T.in);
	T.out_fd = fileno(T.out);
	if (tcgetattr(T.tty_fd, &T.saved) == 0)
		T.have_saved = true;
	if (term == NULL || *term == '\0' || strcmp(term, "dumb") == 0)
		return wiz_error_set(err, WIZ_ERR_USAGE,
				     _("the wizard needs a terminal that can address the cursor (TERM is '%s'); "
				       "use 'etcdwiz apply -f FILE' instead"), term ? term : "");
	T.screen = newterm(NULL, T.out, T.in);
	if (T.screen == NULL)
		return wiz_error_set(err, WIZ_ERR_IO, _("cannot start curses for TERM '%s'"), term);
	return WIZ_ERR_OK;
}

enum wiz_err term_open(struct loop *loop, const struct term_callbacks *cb, struct wiz_error *err)
{
	static bool atexit_done;
	enum wiz_err rc;

	if (T.open)
		return wiz_error_set(err, WIZ_ERR_USAGE, "terminal already open");
	T.loop = loop;
	T.cb = *cb;
	T.unicode = choose_unicode();
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return wiz_error_set(err, WIZ_ERR_IO, "pipe: %s", strerror(errno));
	/* Our handlers go in first, so curses does not install its own. */
	install_signals();
	rc = open_screen(err);
	if (rc != WIZ_ERR_OK)
		goto fail;
	set_escdelay(25);
	T.open = true;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	init_roles();
	T.inwin = newwin(1, 1, 0, 0);
	keypad(T.inwin, TRUE);
	nodelay(T.inwin, TRUE);
	T.cols = COLS;
	T.rows = LINES;
	reset_len = 0;
	if (!T.scripted) {
		add_reset("sgr0");
		add_reset("cnorm");
		add_reset("rmkx");
		add_reset("rmcup");
		restore_fd = T.out_fd;
		T.tty_io = loop_io_add(loop, T.tty_fd, POLLIN, on_tty, NULL);
		T.tty_timer = loop_timer_add(loop, on_tty_timer, NULL);
	}
	T.pipe_io = loop_io_add(loop, sig_pipe[0], POLLIN, on_sig_pipe, NULL);
	T.draw_timer = loop_timer_add(loop, on_draw_timer, NULL);
	if (T.scripted) {
		T.script_timer = loop_timer_add(loop, on_script_timer, NULL);
		loop_timer_arm_in(T.script_timer, 0);
	}
	if (!atexit_done) {
		atexit(term_atexit);
		atexit_done = true;
	}
	term_request_draw();
	return WIZ_ERR_OK;
fail:
	T.open = true;
	term_close();
	return rc;
}

void term_close(void)
{
	if (!T.open)
		return;
	T.open = false;
	restore_fd = -1;
	if (T.tty_io)
		loop_io_del(T.tty_io);
	if (T.pipe_io)
		loop_io_del(T.pipe_io);
	if (T.draw_timer)
		loop_timer_del(T.draw_timer);
	if (T.script_timer)
		loop_timer_del(T.script_timer);
	if (T.tty_timer)
		loop_timer_del(T.tty_timer);
	T.tty_io = T.pipe_io = NULL;
	T.draw_timer = T.script_timer = T.tty_timer = NULL;
	if (T.screen) {
		if (T.inwin)
			delwin(T.inwin);
		T.inwin = NULL;
		endwin();
		delscreen(T.screen);
		T.screen = NULL;
	}
	if (T.have_saved && T.tty_fd >= 0)
		tcsetattr(T.tty_fd, TCSANOW, &T.saved);
	reset_signals();
	if (T.in)
		fclose(T.in);
	if (T.out)
		fclose(T.out);
	T.in = T.out = NULL;
	T.tty_fd = T.out_fd = -1;
	for (int i = 0; i < 2; i++) {
		if (sig_pipe[i] >= 0)
			close(sig_pipe[i]);
		sig_pipe[i] = -1;
	}
	for (size_t i = 0; i < T.n_toks; i++)
		free(T.toks[i].arg);
	free(T.toks);
	T.toks = NULL;
	T.n_toks = T.next_tok = 0;
}

bool term_is_open(void) { return T.open; }
bool term_scripted(void) { return T.scripted; }
const char *term_script_error(void) { return T.script_error; }
int term_cols(void) { return T.cols; }
int term_rows(void) { return T.rows; }
bool term_colour(void) { return T.colour; }
bool term_unicode(void) { return T.unicode; }

const char *term_glyph(enum term_glyph g)
{
	if (g < 0 || g >= TERM_G_COUNT)
		return "?";
	return T.unicode ? glyph_utf8[g] : glyph_ascii[g];
}

/* ---- text ---- */

/* Next character of s: its code point, byte length and display width. */
static int next_char(const char *s, size_t *used, int *cp)
{
	int w;

	if (!utf8_decode(s, used, cp)) {
		*used = 1;
		*cp = '?';
		return 1;
	}
	if (!T.unicode && *cp >= 0x80 && strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		*cp = '?';
	w = wcwidth((wchar_t)*cp);
	if (w < 0)
		w = *cp < 32 ? 0 : 1;
	return w;
}

int term_width(const char *s)
{
	int w = 0, cp;
	size_t used;

	for (size_t i = 0; s && s[i]; i += used)
		w += next_char(s + i, &used, &cp);
	return w;
}

int term_put(int y, int x, int maxw, enum term_role role, const char *s)
{
	int w = 0, cp, cw;
	size_t used;

	if (!T.open || s == NULL || y < 0 || y >= T.rows || x >= T.cols)
		return 0;
	if (x + maxw > T.cols)
		maxw = T.cols - x;
	/* Text wider than its place ends in an ellipsis, never cut without
	 * a sign (the last cell holds it). */
	{
		int total = 0, upto = 0;	/* up to the last non-blank */

		for (size_t i = 0; s[i] && total <= maxw; i += used) {
			cw = next_char(s + i, &used, &cp);
			if (cw > 0 && cp != '\n' && cp != '\t') {
				upto += cw;
				if (cp != ' ')
					total = upto;
			}
		}
		if (total > maxw && maxw >= 2)
			maxw--;
		else
			total = 0;
		attrset(term_attr(role));
		for (size_t i = 0; s[i] && w < maxw; i += used) {
			wchar_t wc[2];

			cw = next_char(s + i, &used, &cp);
			if (cw == 0 || cp == '\n' || cp == '\t')
				continue;
			if (w + cw > maxw)
				break;
			wc[0] = (wchar_t)cp;
			wc[1] = L'\0';
			mvaddnwstr(y, x + w, wc, 1);
			w += cw;
		}
		if (total > 0) {
			wchar_t e[2] = { T.unicode ? (wchar_t)0x2026 : L'~', L'\0' };

			mvaddnwstr(y, x + w, e, 1);
			w++;
		}
	}
	attrset(A_NORMAL);
	return w;
}

int term_putf(int y, int x, int maxw, enum term_role role, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int w;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	w = term_put(y, x, maxw, role, s);
	free(s);
	return w;
}

void term_fill(int y, int x, int w, enum term_role role)
{
	if (!T.open || y < 0 || y >= T.rows)
		return;
	attrset(term_attr(role));
	for (int i = 0; i < w && x + i < T.cols; i++)
		mvaddch(y, x + i, ' ');
	attrset(A_NORMAL);
}

void term_hline(int y, int x, int w, enum term_role role)
{
	for (int i = 0; i < w; i++)
		term_put(y, x + i, 1, role, term_glyph(TERM_G_HLINE));
}

void term_box(int y, int x, int h, int w, enum term_role role, const char *title)
{
	if (h < 2 || w < 2)
		return;
	for (int r = y + 1; r < y + h - 1; r++) {
		term_fill(r, x + 1, w - 2, role);
		term_put(r, x, 1, role, term_glyph(TERM_G_VLINE));
		term_put(r, x + w - 1, 1, role, term_glyph(TERM_G_VLINE));
	}
	term_put(y, x, 1, role, term_glyph(TERM_G_ULCORNER));
	term_hline(y, x + 1, w - 2, role);
	term_put(y, x + w - 1, 1, role, term_glyph(TERM_G_URCORNER));
	term_put(y + h - 1, x, 1, role, term_glyph(TERM_G_LLCORNER));
	term_hline(y + h - 1, x + 1, w - 2, role);
	term_put(y + h - 1, x + w - 1, 1, role, term_glyph(TERM_G_LRCORNER));
	if (title && *title) {
		int tw = term_put(y, x + 2, w - 4, role, " ");

		tw += term_put(y, x + 2 + tw, w - 5 - tw, role, title);
		term_put(y, x + 2 + tw, 1, role, " ");
	}
}

void term_bar(int y, int x, int w, size_t done, size_t total, enum term_role role)
{
	int inner = w - 7, fill;
	unsigned pct;

	if (inner < 1)
		return;
	pct = total ? (unsigned)(done * 100 / total) : 0;
	if (pct > 100)
		pct = 100;
	fill = (int)((long)inner * (long)pct / 100);
	term_put(y, x, 1, role, "[");
	for (int i = 0; i < inner; i++)
		term_put(y, x + 1 + i, 1, role, term_glyph(i < fill ? TERM_G_BAR_FULL : TERM_G_BAR_EMPTY));
	term_putf(y, x + 1 + inner, 6, role, "]%4u%%", pct);
}

/* ---- dumps ---- */

char *term_screen_text(void)
{
	size_t len = 0, cap = 256;
	char *buf = xmalloc(cap);

	buf[0] = '\0';
	if (!T.open)
		return buf;
	for (int y = 0; y < T.rows; y++) {
		size_t line_start = len, last_nonblank = len;

		for (int x = 0; x < T.cols;) {
			cchar_t cc;
			wchar_t wch[CCHARW_MAX + 1];
			attr_t a;
			short pair;
			int w = 1;

			if (mvwin_wch(curscr, y, x, &cc) == ERR ||
			    getcchar(&cc, wch, &a, &pair, NULL) == ERR || wch[0] == L'\0') {
				utf8_append(&buf, &len, &cap, ' ');
				x++;
				continue;
			}
			utf8_append(&buf, &len, &cap, (unsigned)wch[0]);
			if (wch[0] != L' ')
				last_nonblank = len;
			w = wcwidth(wch[0]);
			x += w > 1 ? w : 1;
		}
		len = last_nonblank > line_start ? last_nonblank : line_start;
		utf8_append(&buf, &len, &cap, '\n');
	}
	return buf;
}

/* ---- the action table ---- */

const struct term_action *term_action_find(const struct term_action *t, int key)
{
	for (; t && t->key; t++)
		if (t->key == key || (t->alt_key && t->alt_key == key))
			return t;
	return NULL;
}

void term_draw_footer(int y, const struct term_action *const tables[])
{
	int x = 0;
	char kb[16];

	term_fill(y, 0, T.cols, TERM_FOOTER);
	for (size_t i = 0; tables && tables[i]; i++) {
		for (const struct term_action *a = tables[i]; a->key; a++) {
			const char *k;
			const char *label;
			int need;

			if (!a->footer)
				continue;
			k = term_key_name(a->key, kb);
			label = _(a->label);
			need = term_width(k) + 1 + term_width(label) + 2;
			if (x + need > T.cols)
				return;
			x += term_put(y, x, T.cols - x, TERM_FOOTER, k);
			x += term_put(y, x, 1, TERM_FOOTER, " ");
			x += term_put(y, x, T.cols - x, TERM_FOOTER, label);
			x += 2;
		}
	}
}

/* One line per action in three columns: keys, label, what it does; each
 * padded by display width (a translated label may be wide characters). */
size_t term_help_lines(const struct term_action *const tables[], char ***lines)
{
	size_t n = 0, total = 0;
	char kb1[16], kb2[16];
	int key_w = 0, label_w = 0;
	char **keys;

	*lines = NULL;
	for (size_t i = 0; tables && tables[i]; i++)
		for (const struct term_action *a = tables[i]; a->key; a++)
			total++;
	if (total == 0)
		return 0;
	keys = xcalloc(total, sizeof *keys);
	for (size_t i = 0, k = 0; tables && tables[i]; i++) {
		for (const struct term_action *a = tables[i]; a->key; a++, k++) {
			keys[k] = a->alt_key ? xasprintf("%s, %s", term_key_name(a->key, kb1), term_key_name(a->alt_key, kb2))
					     : xstrdup(term_key_name(a->key, kb1));
			if (term_width(keys[k]) > key_w)
				key_w = term_width(keys[k]);
			if (term_width(_(a->label)) > label_w)
				label_w = term_width(_(a->label));
		}
	}
	*lines = xreallocarray(NULL, total, sizeof **lines);
	for (size_t i = 0; tables && tables[i]; i++) {
		for (const struct term_action *a = tables[i]; a->key; a++, n++) {
			const char *label = _(a->label);

			(*lines)[n] = xasprintf("%s%*s  %s:%*s %s", keys[n], key_w - term_width(keys[n]), "", label,
						label_w - term_width(label), "", _(a->help));
			free(keys[n]);
		}
	}
	free(keys);
	return n;
}
