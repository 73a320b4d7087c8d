/* etcdwiz: the entry point. Global options, then one command from the table. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/i18n.h"
#include "ui/cli/cmd.h"

static void print_version(void)
{
	printf("%s %s\n", PACKAGE, VERSION);
	printf(_("Built with libssh2, GnuTLS, libyaml and ncursesw.\n"));
}

static void print_help(FILE *out)
{
	fprintf(out, _("Usage: %s [COMMAND] [OPTIONS]\n"), PACKAGE);
	fprintf(out, _("Build a TLS-secured external etcd cluster for Kubernetes, run by kubelet as static pods,\n"
		       "and watch its health.\n\n"));
	fprintf(out, _("Commands:\n"));
	for (size_t i = 0; cmd_table[i]; i++)
		fprintf(out, "  %-18s %s\n", cmd_table[i]->name, _(cmd_table[i]->summary));
	fprintf(out, _("\nOptions:\n"
		       "  -h, --help         show this help and exit\n"
		       "  -V, --version      show the version and exit\n\n"
		       "Run '%s COMMAND --help' for the options of a command.\n"), PACKAGE);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd_entry *cmd;
	int c;

	wiz_i18n_init();
	/* Progress read from a file or a pipe (CI logs, scripts, a tail -f)
	 * arrives line by line, as on a terminal, not in 4 KiB blocks. */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOLBF, 0);
	/* Stop at the first non-option: what follows belongs to the command. */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_help(stdout);
			return EXIT_OK;
		case 'V':
			print_version();
			return EXIT_OK;
		default:
			fprintf(stderr, _("Try '%s --help' for more information.\n"), PACKAGE);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		/* On a terminal, no command opens the wizard. */
		if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && cmd_find("wizard")) {
			char *wargv[] = { (char *)"wizard", NULL };

			optind = 0;
			return cmd_find("wizard")->exec(1, wargv);
		}
		print_help(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[optind], "__complete") == 0)
		return cmd_complete(argc - optind, argv + optind);
	cmd = cmd_find(argv[optind]);
	if (cmd == NULL) {
		fprintf(stderr, _("%s: unknown command '%s'\n"), PACKAGE, argv[optind]);
		fprintf(stderr, _("Try '%s --help' for more information.\n"), PACKAGE);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0;	/* a full getopt reset for the command's own parsing */
	return cmd->exec(argc, argv);
}
