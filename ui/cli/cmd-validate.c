/* etcdwiz validate -f FILE: load and check a cluster file, print every
 * problem with its position, or one "ok" line. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/i18n.h"
#include "cluster/cluster.h"
#include "ui/cli/cmd.h"

const struct cmd_entry cmd_validate_entry;

static int cmd_validate_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL;
	bool quiet = false;
	struct cluster cluster;
	struct diag_list diags;
	size_t errors;
	int c;

	while ((c = getopt_long(argc, argv, "+f:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			cmd_print_help(&cmd_validate_entry, stdout);
			return EXIT_OK;
		default:
			return cmd_usage_error(&cmd_validate_entry, _("invalid option"));
		}
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_validate_entry, _("unexpected argument '%s'"),
				       argv[optind]);
	if (file == NULL)
		return cmd_usage_error(&cmd_validate_entry, _("a cluster file is needed: -f FILE"));

	diag_list_init(&diags, file);
	cluster_load(file, &cluster, &diags);
	errors = diag_count(&diags, DIAG_ERROR);
	if (!(quiet && errors == 0))
		diag_print(&diags, errors ? stderr : stdout);
	if (errors == 0)
		printf(P_("ok: cluster %s, %zu member\n", "ok: cluster %s, %zu members\n",
			  cluster.n_members),
		       cluster.name, cluster.n_members);
	else
		fprintf(stderr, P_("%s: %zu error\n", "%s: %zu errors\n", errors), file, errors);
	cluster_free(&cluster);
	diag_list_free(&diags);
	return errors ? EXIT_FAIL : EXIT_OK;
}

const struct cmd_entry cmd_validate_entry = {
	.name = "validate",
	.args = "-f FILE",
	.summary = N_("check a cluster file and report every problem with its line and column"),
	.help = N_("Options:\n"
		   "  -f, --file FILE    the cluster file to check\n"
		   "  -q, --quiet        print nothing but errors and the final line\n"
		   "  -h, --help         show this help and exit\n\n"
		   "Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage error.\n"),
	.exec = cmd_validate_exec,
};
