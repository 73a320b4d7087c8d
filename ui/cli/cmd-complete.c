/* `etcdwiz __complete WHAT [ARG]`: the words ui/cli/bash-completion/etcdwiz
 * offers, one a line, from the same tables the commands use (so the
 * completion cannot drift from the binary). Hidden: not in --help.
 *
 *   commands            every command
 *   subcommands CMD     CMD's subcommands (certs, member, backup, lab)
 *   flags CMD           CMD's long options, read from its help text
 *   steps               the step names --steps takes
 *   hosts FILE          the member and control-plane host names of FILE
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "cluster/cluster.h"
#include "install/step.h"
#include "ui/cli/cmd.h"

static void print_flags(const char *help)
{
	char seen[4096] = " ";

	if (help == NULL)
		help = "";
	for (const char *p = strstr(help, "--"); p != NULL; p = strstr(p, "--")) {
		const char *q = p + 2;
		char word[64];
		size_t n;

		while (*q && (islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '-'))
			q++;
		n = (size_t)(q - p);
		if (n > 3 && n < sizeof word - 2 && (p == help || isspace((unsigned char)p[-1]) || p[-1] == '[' ||
						      p[-1] == '(' || p[-1] == '|' || p[-1] == ',')) {
			snprintf(word, sizeof word, " %.*s ", (int)n, p);
			if (strstr(seen, word) == NULL && strlen(seen) + n + 2 < sizeof seen) {
				strcat(seen, word + 1);
				printf("%.*s\n", (int)n, p);
			}
		}
		p = q;
	}
	if (strstr(seen, " --help ") == NULL)
		printf("--help\n");
}

int cmd_complete(int argc, char **argv)
{
	const struct cmd_entry *e = argc > 2 ? cmd_find(argv[2]) : NULL;

	if (argc < 2)
		return EXIT_USAGE;
	if (strcmp(argv[1], "commands") == 0) {
		for (size_t i = 0; cmd_table[i]; i++)
			printf("%s\n", cmd_table[i]->name);
	} else if (strcmp(argv[1], "subcommands") == 0) {
		const char *s = e && e->subcommands ? e->subcommands : "";

		for (const char *p = s; *p;) {
			size_t n = strcspn(p, " ");

			printf("%.*s\n", (int)n, p);
			p += n;
			p += strspn(p, " ");
		}
	} else if (strcmp(argv[1], "flags") == 0) {
		if (e != NULL)
			print_flags(e->help);
	} else if (strcmp(argv[1], "steps") == 0) {
		for (size_t i = 0; step_table[i]; i++)
			printf("%s\n", step_table[i]->name);
	} else if (strcmp(argv[1], "hosts") == 0 && argc > 2) {
		struct cluster c;
		struct diag_list d;

		diag_list_init(&d, argv[2]);
		/* A file with errors offers nothing rather than a guess. */
		if (cluster_load(argv[2], &c, &d) == WIZ_ERR_OK) {
			for (size_t i = 0; i < c.n_members; i++)
				printf("%s\n", c.members[i].name);
			for (size_t i = 0; i < c.control_plane.n_hosts; i++)
				printf("%s\n", c.control_plane.hosts[i].name);
		}
		cluster_free(&c);	/* set up even when loading failed */
		diag_list_free(&d);
	} else {
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
