/* etcdwiz restore SNAPSHOT -f FILE [--yes] [--force]: the whole-cluster
 * disaster recovery of src/install/restore.c, with its plan printed and
 * the cluster's name typed to confirm (or --yes). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/loop.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "etcd/etcd-ask.h"
#include "etcd/http-tls.h"
#include "install/apply-support.h"
#include "install/fleet.h"
#include "install/restore.h"
#include "pki/pki-store.h"
#include "ssh/secret-cache.h"
#include "ssh/ssh.h"
#include "ui/cli/cmd.h"

const struct cmd_entry cmd_restore_entry;

/* Refused: the cluster still has quorum (nothing changed). */
#define EXIT_REFUSED_QUORUM EXIT_REFUSED

struct restore_cli {
	const char *name;
	bool yes;
};

static void print_line(const char *line, void *ud)
{
	(void)ud;
	printf("%s\n", line);
	fflush(stdout);
}

/* Stopping every member is not a y/N question: the cluster's name. */
static bool ask(void *ud)
{
	struct restore_cli *r = ud;
	char buf[128], *prompt;
	bool yes;

	if (r->yes)
		return true;
	prompt = xasprintf(_("This stops etcd on every member and replaces its data with the snapshot's. Type the cluster's name (%s) to go on: "),
			   r->name);
	yes = cmd_ask_tty(prompt, buf, sizeof buf) && strcmp(buf, r->name) == 0;
	free(prompt);
	return yes;
}

static int cmd_restore_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "yes", no_argument, NULL, 'y' },
		{ "force", no_argument, NULL, 'F' },
		{ "accept-new-host-keys", no_argument, NULL, 'A' },
		{ "health-timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct restore_cli cli = { 0 };
	struct restore_opts o = { 0 };
	struct cluster c;
	struct diag_list diags;
	struct pki_store store;
	struct http_tls_creds *creds = NULL;
	struct wiz_error err = { 0 };
	const char *file = NULL;
	bool accept_new = false, force = false;
	uint64_t timeout = 0;
	int ch, status = EXIT_FAIL;
	char *journal;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "f:yFAT:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': file = optarg; break;
		case 'y': cli.yes = true; break;
		case 'F': force = true; break;
		case 'A': accept_new = true; break;
		case 'T':
			if (!duration_parse(optarg, &timeout) || timeout == 0 || timeout > 86400)
				return cmd_usage_error(&cmd_restore_entry, _("--health-timeout takes a duration such as 3m"));
			break;
		case 'h':
			cmd_print_help(&cmd_restore_entry, stdout);
			return EXIT_OK;
		default:
			return cmd_usage_error(&cmd_restore_entry, _("invalid option"));
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error(&cmd_restore_entry, _("say which snapshot: etcdwiz restore SNAPSHOT -f FILE"));
	if (file == NULL)
		return cmd_usage_error(&cmd_restore_entry, _("a cluster file is needed: -f FILE"));
	diag_list_init(&diags, file);
	if (cluster_load(file, &c, &diags) != WIZ_ERR_OK) {
		diag_print(&diags, stderr);
		diag_list_free(&diags);
		cluster_free(&c);
		return EXIT_FAIL;
	}
	diag_list_free(&diags);
	pki_store_init(&store, &c);
	if (etcd_creds_from_store(&store, &creds, &err) != WIZ_ERR_OK) {
		fprintf(stderr, "%s restore: %s\n", PACKAGE, err.msg);
	} else {
		struct ssh_callbacks cb = { NULL, isatty(STDIN_FILENO) ? secret_cache_on_secret : NULL, NULL };
		struct loop *loop = loop_new();
		struct ssh_ctx *ssh = ssh_ctx_new(loop, &cb);
		struct fleet *fleet = fleet_new(ssh, &c, accept_new);

		cli.name = c.name;
		journal = apply_journal_path(&c, true);
		o.loop = loop;
		o.fleet = fleet;
		o.c = &c;
		o.store = &store;
		o.creds = creds;
		o.snapshot = argv[optind];
		o.force = force;
		o.health_timeout_s = (unsigned)timeout;
		o.journal_path = journal;
		o.say = print_line;
		o.confirm = ask;
		o.ud = &cli;
		if (restore_run(&o, &err) == WIZ_ERR_OK) {
			printf(_("Cluster %s is restored from %s: every member is healthy.\n"), c.name, argv[optind]);
			status = EXIT_OK;
		} else if (err.code == WIZ_ERR_CANCELLED) {
			printf("%s\n", err.msg);
		} else if (err.code == WIZ_ERR_USAGE) {
			fprintf(stderr, "%s restore: %s\n", PACKAGE, err.msg);
			status = EXIT_REFUSED_QUORUM;
		} else {
			fprintf(stderr, "%s restore: %s\n", PACKAGE, err.msg);
		}
		if (journal && wiz_file_exists(journal))
			printf(_("Journal: %s\n"), journal);
		free(journal);
		fleet_free(fleet);
		ssh_ctx_free(ssh);
		loop_free(loop);
	}
	http_tls_creds_free(creds);
	pki_store_free(&store);
	cluster_free(&c);
	return status;
}

const struct cmd_entry cmd_restore_entry = {
	.name = "restore",
	.args = "SNAPSHOT -f FILE [--yes] [--force]",
	.summary = N_("bring the whole cluster back from a snapshot after losing quorum"),
	.help = N_(
		"Every member of the cluster file is restored from the same snapshot into a\n"
		"new cluster: the snapshot's hash checked here and again on each member,\n"
		"kube-apiserver's manifests moved aside on the control-plane hosts, etcd\n"
		"stopped everywhere, each data directory moved aside with a date (never\n"
		"deleted), the snapshot restored with a new cluster token, the members\n"
		"started and waited for until healthy, kube-apiserver put back. Refused\n"
		"while the cluster still has quorum, unless --force. Killed half-way, the\n"
		"same command goes on where each host stopped.\n\n"
		"Options:\n"
		"  -f, --file FILE             the cluster file (its members are the new cluster)\n"
		"  -y, --yes                   do not ask (the question asks for the cluster's name)\n"
		"  -F, --force                 restore although members are healthy: every write\n"
		"                              after the snapshot is lost\n"
		"  -A, --accept-new-host-keys  trust and save unknown SSH host keys\n"
		"  -T, --health-timeout DURATION  the wait for the restored members (default 3m)\n"
		"  -h, --help                  show this help and exit\n\n"
		"Exit status: 0 restored and healthy, 1 failure, 2 usage error, 3 refused\n"
		"because the cluster still has quorum (nothing was changed).\n"),
	.exec = cmd_restore_exec,
};
