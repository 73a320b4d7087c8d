/* The terminal layer shared by the wizard (ui/tui/wizard.c) and the health
 * dashboard (ui/tui/dashboard.c): the one module that owns curses' terminal.
 *
 * - term_open() starts curses (newterm on the tty; keypad, noecho, cbreak,
 *   cursor hidden), decides colour (has_colors() and NO_COLOR unset or
 *   empty) and line drawing (UTF-8 glyphs only when the locale's codeset is
 *   UTF-8 and TERM is not vt100* or linux; ETCDWIZ_UI_ASCII=1 forces ASCII),
 *   and registers with the one event loop: the tty's descriptor (keys are
 *   read without blocking and delivered to cb->key) and a self-pipe fed by
 *   the SIGWINCH/SIGINT/SIGTERM/SIGHUP handlers (no busy waits). A new
 *   size (SIGWINCH, or :resize in a script) resizes curses with
 *   resize_term() and reaches cb->resize once; a KEY_RESIZE from curses
 *   only takes the size curses already has. At most 256 keys are read per
 *   loop turn; the rest come on the next turn.
 * - The terminal is restored by term_close(), at exit (atexit), on
 *   SIGINT/SIGTERM/SIGHUP (handed to cb->signal from the loop; without one,
 *   term_close() and the signal is raised again), and on crash signals
 *   (SEGV, BUS, FPE, ILL, ABRT: the handler restores the saved termios and
 *   writes the terminal's reset strings, both async-signal-safe, then
 *   re-raises). A second terminating signal before the loop handled the
 *   first restores and re-raises at once.
 * - Drawing is owned by the caller through cb->draw, which term calls with
 *   stdscr erased and follows with one doupdate(). Call term_request_draw()
 *   when the model changed: draws are coalesced into one per loop turn.
 *
 * SCRIPTED MODE (tests, as tig's TIG_SCRIPT): with ETCDWIZ_UI_SCRIPT=FILE,
 * keys come from FILE instead of the tty, and curses draws a virtual screen
 * of ETCDWIZ_UI_SIZE (COLSxROWS, default 80x24) into /dev/null, so no
 * terminal is needed. One token per line (leading blanks ignored; empty
 * lines and lines starting with "# " are skipped):
 *   x              a literal key (one character, UTF-8)
 *   <Enter> <Tab> <BTab> <Esc> <BS> <Del> <Space> <Up> <Down> <Left> <Right>
 *   <Home> <End> <PgUp> <PgDn> <F1>..<F12> <C-a>..<C-z>
 *   text:"..."     types the string, one key per character (\" and \\ escape)
 *   :dump NAME     draws if needed and writes the screen as plain text to
 *                  $ETCDWIZ_UI_DUMP_DIR/NAME.txt (default "."): UTF-8, one
 *                  line per row, trailing spaces trimmed
 *   :wait-idle     waits until cb->busy() is false (at most
 *                  $ETCDWIZ_UI_IDLE_TIMEOUT seconds, default 600; a timeout
 *                  is a script failure)
 *   :sleep MS      lets the loop run MS milliseconds (at most 60000)
 *   :resize CxR    resizes the virtual screen, as SIGWINCH does on a tty
 * One token is processed per loop turn, so remote work keeps progressing.
 * After the last token (or a bad one) cb->script_end runs; term_script_error
 * then says what went wrong, or NULL.
 *
 * Keys are ints: a character is its Unicode code point; special keys are
 * the TK_* values below (never valid code points). */
#ifndef WIZ_UI_TERM_H
#define WIZ_UI_TERM_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

struct loop;

/* ---- keys ---- */
#define TK_BASE 0x200000
enum term_key {
	TK_ENTER = TK_BASE + 1,
	TK_TAB, TK_BTAB, TK_ESC, TK_BS, TK_DEL,
	TK_UP, TK_DOWN, TK_LEFT, TK_RIGHT,
	TK_HOME, TK_END, TK_PGUP, TK_PGDN,
	TK_F1, TK_F2, TK_F3, TK_F4, TK_F5, TK_F6,
	TK_F7, TK_F8, TK_F9, TK_F10, TK_F11, TK_F12,
	TK_UNKNOWN,
};
#define TK_F(n) (TK_F1 + (n) - 1)
/* Ctrl+letter, as the terminal sends it (Ctrl-C arrives as SIGINT). */
#define TK_CTRL(c) ((c) & 0x1f)

/* "Enter", "F1", "x", "Ctrl-X": a key's name for footers and help
 * (untranslated; key names are the same in every language). */
const char *term_key_name(int key, char buf[16]);

/* ---- colour roles ---- */
enum term_role {
	TERM_NORMAL,
	TERM_TITLE,	/* title bar */
	TERM_HEADING,	/* section and table headings */
	TERM_SELECTED,	/* the focused row or field */
	TERM_INPUT,	/* an editable field */
	TERM_OK,
	TERM_WARN,
	TERM_ERROR,
	TERM_DIM,	/* secondary text */
	TERM_FOOTER,	/* key bar */
	TERM_DIALOG,	/* dialog body */
	TERM_ROLE_COUNT
};

/* ---- glyphs (UTF-8 or ASCII; see term_unicode) ---- */
enum term_glyph {
	TERM_G_HLINE, TERM_G_VLINE,
	TERM_G_ULCORNER, TERM_G_URCORNER, TERM_G_LLCORNER, TERM_G_LRCORNER,
	TERM_G_BAR_FULL, TERM_G_BAR_EMPTY,
	TERM_G_OK, TERM_G_FAIL, TERM_G_WARN, TERM_G_ARROW, TERM_G_BULLET,
	TERM_G_ELLIPSIS,	/* the sign of text cut at its width */
	TERM_G_COUNT
};

/* ---- the key action table (footer and help are generated from it) ---- */
struct term_action {
	int key;		/* the key, 0 ends a table */
	int alt_key;		/* a second key for the same action, or 0 */
	const char *label;	/* N_(): short name for the footer ("Next") */
	const char *help;	/* N_(): one line for the help screen */
	/* What the key does; the return value is the caller's own result
	 * bits (the wizard's WZ_* bits), term never looks at it. */
	unsigned (*handler)(void *ud, int key);
	bool footer;		/* shown in the footer, not only in help */
};

/* The entry for key in a table ending with key 0, or NULL. */
const struct term_action *term_action_find(const struct term_action *t, int key);
/* Draws "F1 Help  Enter Next ..." on row y from the footer entries of the
 * tables (NULL-terminated), clipped to the width, in TERM_FOOTER. */
void term_draw_footer(int y, const struct term_action *const tables[]);
/* Lines of the help screen for the tables: "  Enter, n   Next: go on ..."
 * (translated; caller frees the array and each line). Returns the count. */
size_t term_help_lines(const struct term_action *const tables[], char ***lines);

/* ---- opening and the loop ---- */
struct term_callbacks {
	void (*key)(int key, void *ud);		/* one key */
	void (*draw)(void *ud);			/* paint stdscr (already erased) */
	void (*resize)(int cols, int rows, void *ud);	/* optional; a draw follows */
	/* SIGINT, SIGTERM or SIGHUP arrived (run from the loop, not from the
	 * handler). NULL: term_close() and the signal is raised again. */
	void (*signal)(int signo, void *ud);
	bool (*busy)(void *ud);			/* remote work in flight (for :wait-idle) */
	void (*script_end)(void *ud);		/* scripted mode: no keys left */
	void *ud;
};

/* Opens the terminal (or the virtual one in scripted mode). One terminal
 * per process; the callbacks are copied. */
enum wiz_err term_open(struct loop *loop, const struct term_callbacks *cb,
		       struct wiz_error *err);
/* Restores the terminal and unregisters from the loop; safe to call twice. */
void term_close(void);
bool term_is_open(void);
bool term_scripted(void);
/* The message of a failed script (bad token, dump error, idle timeout). */
const char *term_script_error(void);

/* Schedule cb->draw for this loop turn (coalesced). */
void term_request_draw(void);
/* Draw now if a draw is pending (e.g. before a blocking action). */
void term_flush(void);

int term_cols(void);
int term_rows(void);
bool term_colour(void);
bool term_unicode(void);

/* ---- drawing helpers (on stdscr; all clip to the screen) ---- */
int term_attr(enum term_role role);	/* curses attributes of a role */
const char *term_glyph(enum term_glyph g);
/* Display columns of a UTF-8 string (wide characters count 2). */
int term_width(const char *s);
/* Prints s at (y, x) in at most maxw columns (a wide character that does
 * not fit is left out); returns the columns used. */
int term_put(int y, int x, int maxw, enum term_role role, const char *s);
int term_putf(int y, int x, int maxw, enum term_role role, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Blanks w columns at (y, x) in the role's attributes. */
void term_fill(int y, int x, int w, enum term_role role);
void term_hline(int y, int x, int w, enum term_role role);
void term_box(int y, int x, int h, int w, enum term_role role, const char *title);
/* "[#####.....]  50%" style bar of w columns for done/total. */
void term_bar(int y, int x, int w, size_t done, size_t total, enum term_role role);

/* The screen as plain UTF-8 text (rows lines, trailing spaces trimmed),
 * as :dump writes it. Caller frees. */
char *term_screen_text(void);

#endif
