/* The command table: every `etcdwiz COMMAND` is one const struct cmd_entry
 * exported from its own cmd-*.c file and listed once in cmd.c. */
#ifndef WIZ_CMD_H
#define WIZ_CMD_H

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses, GNU style. */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_REFUSED 3	/* a change refused before anything changed (quorum, an upgrade path) */

struct cmd_entry {
	const char *name;
	const char *args;	/* synopsis after the name, untranslated option syntax */
	const char *summary;	/* N_(): one line for `etcdwiz --help` */
	const char *help;	/* N_(): options block for `etcdwiz NAME --help` */
	const char *subcommands;	/* space-separated, for shell completion; NULL: none */
	/* argv[0] is the command name; getopt_long state is reset before. */
	int (*exec)(int argc, char **argv);
};

extern const struct cmd_entry *const cmd_table[];

const struct cmd_entry *cmd_find(const char *name);
/* `etcdwiz __complete WHAT [ARG]`: the words the shell completion offers
 * (ui/cli/etcdwiz.bash); not listed in --help. */
int cmd_complete(int argc, char **argv);
/* Prints "Usage: etcdwiz NAME ARGS\nSUMMARY\n\nHELP" translated. */
void cmd_print_help(const struct cmd_entry *e, FILE *out);
/* "Try 'etcdwiz NAME --help'." on stderr; returns EXIT_USAGE. */
/* Asks on /dev/tty: the answer's line without its newline in buf; false
 * when there is no terminal (the message says to give --yes). */
bool cmd_ask_tty(const char *prompt, char *buf, size_t size);
int cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
