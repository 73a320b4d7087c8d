/* The wizard's shared state and the screen interface (ui/tui/ only).
 *
 * Every screen is one file (ui/tui/screen-<name>.c) exporting one
 * `const struct screen_ops screen_<name>`. Key handlers return WZ_* bits
 * and never switch screens or touch the terminal: the shell (wizard.c)
 * acts on the bits. Screens that change hosts drive the engine through the
 * shared runner (ui/tui/run.c): a read-only plan pass first, shown per host,
 * then apply only after the admin confirmed the list of changes. */
#ifndef WIZ_UI_WIZARD_INTERNAL_H
#define WIZ_UI_WIZARD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cluster/cluster.h"
#include "install/engine.h"
#include "pki/pki-store.h"
#include "ssh/secret-cache.h"
#include "ui/tui/term.h"

struct loop;
struct loop_timer;
struct loop_io;
struct ssh_ctx;
struct fleet;
struct check_cache;
struct ssh_session;
struct wizard;

/* What a key did (bits). */
#define WZ_IGNORED 0u
#define WZ_HANDLED 1u
#define WZ_NEXT 2u
#define WZ_BACK 4u
#define WZ_ABORT 8u
#define WZ_HELP 16u

struct screen_ops {
	const char *name;	/* in the session file */
	const char *title;	/* N_() */
	const struct term_action *actions;	/* the screen's keys, or NULL */
	void (*enter)(struct wizard *w);
	void (*leave)(struct wizard *w);
	void (*draw)(struct wizard *w, int top, int rows);
	/* Keys the actions table does not take (text entry); WZ_IGNORED lets
	 * the global keys have them. */
	unsigned (*key)(struct wizard *w, int key);
	/* NULL when Next may go on, else the reason (translated). */
	const char *(*validate)(struct wizard *w);
	/* Next on a valid screen: WZ_NEXT to move on, WZ_HANDLED when the
	 * screen started something first (a confirmation, an apply). NULL =
	 * WZ_NEXT. */
	unsigned (*next)(struct wizard *w);
	bool (*busy)(struct wizard *w);	/* remote or local work in flight */
	void (*destroy)(struct wizard *w);	/* at exit: free what the screen kept */
};

struct wz_run;

extern const struct screen_ops screen_welcome, screen_hosts, screen_connect, screen_members, screen_backups, screen_upgrade,
	screen_prereq, screen_runtime, screen_certs, screen_deploy, screen_health,
	screen_kubernetes, screen_summary;

/* ---- dialogs ---- */
enum wz_dialog_kind { DLG_MESSAGE, DLG_CONFIRM, DLG_CHOICE, DLG_INPUT, DLG_SECRET, DLG_HELP };

typedef void (*wz_dialog_fn)(struct wizard *w, int button, const char *input, void *ud);

struct wz_dialog {
	enum wz_dialog_kind kind;
	char *title;
	struct strlist lines;
	const char *buttons[4];	/* translated labels */
	int n_buttons;
	int sel;
	int cancel;		/* the button Esc picks */
	char input[512];
	size_t input_len;
	size_t scroll;
	size_t shown_lines;	/* lines after wrapping, as last drawn */
	wz_dialog_fn done;
	void *ud;
	void (*ud_free)(void *ud);	/* when dropped unanswered */
	struct ssh_session *session;	/* the question belongs to it */
};

/* A secret request kept while its question is open (the session's own
 * request is gone once its callback returns). */
struct wz_secret_wait {
	struct ssh_session *s;
	enum ssh_secret_kind kind;
	char *name, *user, *prompt;
	unsigned attempt;
};

/* ---- per-host recap across every apply of the wizard ---- */
struct wz_recap {
	char *host;
	unsigned counts[HOST_RESULT_COUNT];
};

struct wizard {
	struct loop *loop;
	struct ssh_ctx *ssh;
	/* The hosts' sessions, shared by Connect and every plan and apply. */
	struct fleet *fleet;
	const struct screen_ops *const *screens;
	size_t n_screens, cur;
	bool quit;
	bool aborted;	/* left with Abort: say what was kept */
	int status;

	struct cluster c;
	bool have_cluster;
	char *file;		/* where the cluster file is saved */
	bool lab;
	bool want_lab;		/* --lab: Welcome brings the lab up at once */
	char *lang;		/* "" (environment) or "zh_TW" */

	char *message;		/* status line (refusals, results) */
	bool message_error;

	struct wz_dialog *dlgs;	/* queue; dlgs[0] is shown */
	size_t n_dlgs;

	struct strlist log;	/* the log pane, newest last */
	struct kvlist accepted;	/* host -> fingerprint accepted once */
	/* Passwords, sudo passwords and passphrases typed (memory only): one
	 * question per user, its answer tried on every host (secret-cache.h);
	 * the hosts waiting while that question is open; the hosts that did
	 * not accept what they were given and are being asked again. */
	struct secret_cache *secrets;
	struct wz_secret_wait *secret_waits;
	size_t n_secret_waits;
	struct strlist secret_refused;
	struct pki_store store;
	bool have_store;
	struct wz_recap *recap;
	size_t n_recap;
	struct strlist journals;
	struct wz_run *active;	/* the run in flight, if any */
	unsigned gen;		/* bumped whenever the cluster changes */
};

/* ---- wizard.c ---- */
void wz_message(struct wizard *w, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void wz_log(struct wizard *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct wz_dialog *wz_dialog_push(struct wizard *w, enum wz_dialog_kind kind, const char *title,
				 wz_dialog_fn done, void *ud);
void wz_dialog_line(struct wz_dialog *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Three buttons (the third, Esc's, is the refusal), sel preselected. */
void wz_dialog_three_buttons(struct wz_dialog *d, const char *b0, const char *b1, const char *b2, int sel);
void wz_dialog_drop_session(struct wizard *w, struct ssh_session *s);
/* The host did not accept the password it was given and is asked again. */
bool wz_secret_refused(const struct wizard *w, const char *host);
/* Make w->fleet follow the cluster as edited (a host whose SSH settings
 * changed gets a new session). */
void wz_fleet_sync(struct wizard *w);
/* The cluster is (re)loaded: replaces w->c. */
bool wz_load_cluster(struct wizard *w, const char *path);
void wz_use_cluster(struct wizard *w, struct cluster *c, const char *save_path);
bool wz_save_cluster(struct wizard *w);
void wz_set_language(struct wizard *w, const char *lang);
void wz_recap_add(struct wizard *w, const char *host, enum host_result r);
/* Draw the log pane's newest lines in rows [top, top+rows). */
void wz_draw_log(struct wizard *w, int top, int rows);
/* The log lines of one host only, in order, under a line saying so. */
void wz_draw_log_of(struct wizard *w, const char *host, int top, int rows);
/* Word-wrap lines to width display columns (a word wider is cut). */
void wz_wrap_lines(const struct strlist *in, int width, struct strlist *out);
void wz_draw_lines(const struct strlist *l, size_t scroll, int top, int rows, int x, int width);

#endif
