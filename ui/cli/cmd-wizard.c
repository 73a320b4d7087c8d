/* etcdwiz wizard [-f FILE]: the ncurses wizard (ui/tui/wizard.c). `etcdwiz`
 * with no command on a terminal opens it too (main.c). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/i18n.h"
#include "ui/cli/cmd.h"
#include "ui/tui/wizard.h"

const struct cmd_entry cmd_wizard_entry;

static int cmd_wizard_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "lab", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct wizard_opts o = { NULL };
	int c;

	while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.file = optarg;
			break;
		case 'L':
			o.lab = 1;
			break;
		case 'h':
			cmd_print_help(&cmd_wizard_entry, stdout);
			return EXIT_OK;
		default:
			return cmd_usage_error(&cmd_wizard_entry, _("invalid option"));
		}
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_wizard_entry, _("unexpected argument '%s'"), argv[optind]);
	return wizard_run(&o);
}

const struct cmd_entry cmd_wizard_entry = {
	.name = "wizard",
	.args = "[-f FILE | --lab]",
	.summary = N_("the ncurses wizard: every step of the install as a screen"),
	.help = N_("Options:\n"
		   "  -f, --file FILE   open this cluster file (otherwise resume the last session)\n"
		   "      --lab         start on the built-in lab, bringing it up if it is down\n"
		   "  -h, --help        show this help and exit\n\n"
		   "Keys: F1 or ? help, F2 back, F3 next, F4 abort. Nothing changes on a host before\n"
		   "a screen has listed what will change and you confirmed. The session is kept in\n"
		   "$XDG_STATE_HOME/etcdwiz/wizard-session.yaml (else under $XDG_DATA_HOME/etcdwiz).\n"
		   "ETCDWIZ_UI_SCRIPT=FILE reads keys from FILE (see docs/wizard.md).\n"),
	.exec = cmd_wizard_exec,
};
