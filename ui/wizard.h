/* The ncurses wizard's entry point, for src/cmd-wizard.c and src/main.c.
 * Curses-free on purpose: src/ may include this header and nothing else
 * from ui/. */
#ifndef WIZ_UI_WIZARD_H
#define WIZ_UI_WIZARD_H

struct wizard_opts {
	const char *file;	/* -f FILE: open this cluster file; NULL = resume or start */
	int lab;		/* --lab: start on the built-in lab (brought up if down) */
};

/* Runs the wizard on the terminal (or on the virtual screen of
 * ETCDWIZ_UI_SCRIPT) until the admin leaves it; returns an exit status
 * (0 done or left on purpose, 1 failure). */
int wizard_run(const struct wizard_opts *o);

#endif
