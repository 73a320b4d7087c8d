/* etcdwiz lab up|status|down: the built-in lab of Debian 12 or 13 hosts in
 * systemd-nspawn containers (see lab.h). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/i18n.h"
#include "lab/lab.h"
#include "ui/cli/cmd.h"

const struct cmd_entry cmd_lab_entry;

static int lab_fail(const struct wiz_error *err)
{
	fprintf(stderr, "%s lab: %s\n", PACKAGE, err->msg);
	return EXIT_FAIL;
}

static int lab_up_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "members", required_argument, NULL, 'n' },
		{ "control-plane", no_argument, NULL, 'c' },
		{ "etcd", required_argument, NULL, 'e' },
		{ "release", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lab_options o = { .members = 3, .timeout = 120, .progress = stderr };
	struct wiz_error err;
	char *end;
	long v;
	int c;

	wiz_error_clear(&err);
	while ((c = getopt_long(argc, argv, "+n:ce:r:t:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			o.etcd_version = optarg;
			break;
		case 'r':
			if (strcmp(optarg, "bookworm") != 0 && strcmp(optarg, "trixie") != 0)
				return cmd_usage_error(&cmd_lab_entry,
						       _("--release wants bookworm (Debian 12) or trixie (Debian 13), not '%s'"),
						       optarg);
			o.release = optarg;
			break;
		case 'n':
			v = strtol(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > LAB_MAX_MEMBERS)
				return cmd_usage_error(&cmd_lab_entry,
						       _("-n wants a member count from 1 to %d (3, 5 or 7 "
							 "for a real quorum), not '%s'"),
						       LAB_MAX_MEMBERS, optarg);
			o.members = (int)v;
			break;
		case 'c':
			o.control_plane = true;
			break;
		case 't':
			v = strtol(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > 3600)
				return cmd_usage_error(&cmd_lab_entry,
						       _("--timeout wants seconds from 1 to 3600, not '%s'"),
						       optarg);
			o.timeout = (int)v;
			break;
		case 'q':
			o.progress = NULL;
			break;
		case 'h':
			cmd_print_help(&cmd_lab_entry, stdout);
			return EXIT_OK;
		default:
			return cmd_usage_error(&cmd_lab_entry, _("invalid option"));
		}
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_lab_entry, _("unexpected argument '%s'"), argv[optind]);
	if (lab_up(&o, stdout, &err) != WIZ_ERR_OK)
		return lab_fail(&err);
	return EXIT_OK;
}

static int lab_down_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "purge", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct wiz_error err;
	bool purge = false;
	int c;

	wiz_error_clear(&err);
	while ((c = getopt_long(argc, argv, "+ph", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			purge = true;
			break;
		case 'h':
			cmd_print_help(&cmd_lab_entry, stdout);
			return EXIT_OK;
		default:
			return cmd_usage_error(&cmd_lab_entry, _("invalid option"));
		}
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_lab_entry, _("unexpected argument '%s'"), argv[optind]);
	if (lab_down(purge, stdout, &err) != WIZ_ERR_OK)
		return lab_fail(&err);
	return EXIT_OK;
}

static int lab_status_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct wiz_error err;
	enum wiz_err rc;
	int c;

	wiz_error_clear(&err);
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			cmd_print_help(&cmd_lab_entry, stdout);
			return EXIT_OK;
		}
		return cmd_usage_error(&cmd_lab_entry, _("invalid option"));
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_lab_entry, _("unexpected argument '%s'"), argv[optind]);
	rc = lab_status(stdout, &err);
	if (rc == WIZ_ERR_OK)
		return EXIT_OK;
	if (rc == WIZ_ERR_NOTFOUND || rc == WIZ_ERR_UNREACHABLE)
		return EXIT_FAIL;
	return lab_fail(&err);
}

static int cmd_lab_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *name;
		int (*exec)(int, char **);
	} subs[] = {
		{ "up", lab_up_exec },
		{ "down", lab_down_exec },
		{ "status", lab_status_exec },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			cmd_print_help(&cmd_lab_entry, stdout);
			return EXIT_OK;
		}
		return cmd_usage_error(&cmd_lab_entry, _("invalid option"));
	}
	if (optind >= argc)
		return cmd_usage_error(&cmd_lab_entry, _("say what to do: up, status or down"));
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		if (strcmp(argv[optind], subs[i].name) == 0) {
			char **sub_argv = argv + optind;
			int sub_argc = argc - optind;

			optind = 0;	/* a full getopt reset for the subcommand */
			return subs[i].exec(sub_argc, sub_argv);
		}
	}
	return cmd_usage_error(&cmd_lab_entry, _("unknown lab command '%s' (up, status or down)"),
			       argv[optind]);
}

const struct cmd_entry cmd_lab_entry = {
	.name = "lab",
	.args = "up [-n 3|5|7] [--control-plane] [--etcd VERSION] [--release bookworm|trixie] | status | down [--purge]",
	.summary = N_("run a lab of Debian 12 or 13 hosts (systemd-nspawn containers) on this machine"),
	.subcommands = "up status down",
	.help = N_(
		"Commands (root only):\n"
		"  up      create the lab, or complete it; a second run changes nothing.\n"
		"          Waits until every sshd answers, then writes the cluster file\n"
		"          /var/lib/etcdwiz-lab/cluster.yaml and prints the hosts.\n"
		"  status  list the hosts and their state (exit 1 when a host is down\n"
		"          or there is no lab)\n"
		"  down    remove every container, process, mount, namespace, link,\n"
		"          route and cgroup the lab made, whatever state it is in\n\n"
		"Options:\n"
		"  -n, --members N     etcd hosts for up: 3, 5 or 7 (default 3)\n"
		"  -c, --control-plane one more host, cp-1, for the Kubernetes step\n"
		"  -e, --etcd VERSION  the etcd the cluster file names: 3.4.23, 3.5.16 or\n"
		"                      3.5.30 (default: as before, else the newest 3.5)\n"
		"  -r, --release NAME  the hosts' Debian: bookworm (12) or trixie (13)\n"
		"                      (default: as before, else bookworm); each has its\n"
		"                      own base tree, debootstrapped once\n"
		"  -t, --timeout SECS  wait this long for every sshd (default 120)\n"
		"  -q, --quiet         no progress lines from up\n"
		"      --purge         down: also delete the cached base trees, the etcd\n"
		"                      cache and the keys\n"
		"  -h, --help          show this help and exit\n\n"
		"Hosts: etcd-1 .. etcd-N at 198.51.100.11 and up, cp-1 after them, on\n"
		"bridge ewlab0 (198.51.100.1/24). Each host is Debian 12 (or 13) booted by\n"
		"systemd-nspawn: systemd, sshd, sudo, with its own network namespace\n"
		"and overlay root. kubelet is a stand-in that runs each static pod in\n"
		"its own mount namespace (the image's files and the pod's volumes\n"
		"only); there is no container runtime. It runs the etcd a pod's\n"
		"image names (registry.k8s.io/etcd:3.5.16-0: 3.5.16) from the lab's\n"
		"cache of Debian's etcd packages: 3.4.23 (Debian 12), 3.5.16 (Debian\n"
		"13) and 3.5.30 (unstable), fetched once with apt into\n"
		"/var/lib/etcdwiz-lab/etcd (own sources list and state; this machine's\n"
		"apt configuration is not changed). An image not there fails its pod.\n\n"
		"Accounts on every host (SSH key: /var/lib/etcdwiz-lab/id_ed25519):\n"
		"  root    the lab key only\n"
		"  wiz     the lab key or password etcdwiz-lab; sudo without a password\n"
		"  wizpw   the lab key or password etcdwiz-lab; sudo asks for it\n\n"
		"The first `up` of a release builds its base tree with debootstrap from\n"
		"this machine's Debian archive (a few minutes; needs debootstrap and\n"
		"systemd-container).\n"
		"Files live in /var/lib/etcdwiz-lab; $ETCDWIZ_LAB_MIRROR overrides the\n"
		"archive, $ETCDWIZ_LAB_PATH where the kubelet stand-in is looked for.\n\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n"),
	.exec = cmd_lab_exec,
};
