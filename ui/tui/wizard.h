/* The ncurses wizard's entry point, for ui/cli/cmd-wizard.c and ui/cli/main.c.
 * Curses-free on purpose: the command-line front end (ui/cli/)
 * includes it and dashboard.h, and never curses. */
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
