/* etcdwiz backup -f FILE [--member NAME] [-o PATH] | backup list -f FILE |
 * backup prune --keep N -f FILE: a snapshot of the cluster streamed from
 * one healthy voting member (src/install/backup.c) into the cluster's
 * local state, and the list and pruning of what is kept there. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/i18n.h"
#include "base/loop.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "etcd/etcd-ask.h"
#include "etcd/http-tls.h"
#include "install/backup.h"
#include "install/fleet.h"
#include "pki/pki-store.h"
#include "ssh/secret-cache.h"
#include "ssh/ssh.h"
#include "ui/cli/cmd.h"

const struct cmd_entry cmd_backup_entry;

struct backup_run {
	const char *file, *member, *out;
	bool accept_new, quiet;
	long keep;
	struct cluster c;
	bool tty;
	uint64_t started_ms, shown_ms;
};

static void human_size(uint64_t n, char *buf, size_t size)
{
	if (n >= 1024 * 1024)
		snprintf(buf, size, "%.1f MiB", (double)n / (1024.0 * 1024.0));
	else if (n >= 1024)
		snprintf(buf, size, "%.1f KiB", (double)n / 1024.0);
	else
		snprintf(buf, size, "%" PRIu64 " B", n);
}

static void on_chosen(const char *member, const char *address, void *ud)
{
	struct backup_run *r = ud;

	if (!r->quiet)
		printf(_("Taking a snapshot from %s (%s)...\n"), member, address);
	fflush(stdout);
}

/* Bytes and rate, on a terminal, at most 5 times a second. */
static void on_progress(uint64_t bytes, uint64_t remaining, void *ud)
{
	struct backup_run *r = ud;
	uint64_t now = loop_now();
	char got[32], rate[32];
	double s;

	if (!r->tty || now - r->shown_ms < 200)
		return;
	r->shown_ms = now;
	s = (double)(now - r->started_ms) / 1000.0;
	human_size(bytes, got, sizeof got);
	human_size(s > 0 ? (uint64_t)((double)bytes / s) : 0, rate, sizeof rate);
	fputc('\r', stderr);
	fprintf(stderr, _("  %s received, %s/s, %" PRIu64 " bytes to come   "), got, rate, remaining);
}

static int take(struct backup_run *r)
{
	struct ssh_callbacks cb = { NULL, isatty(STDIN_FILENO) ? secret_cache_on_secret : NULL, NULL };
	struct loop *loop = loop_new();
	struct ssh_ctx *ssh = ssh_ctx_new(loop, &cb);
	struct fleet *fleet = fleet_new(ssh, &r->c, r->accept_new);
	struct http_tls_creds *creds = NULL;
	struct pki_store store;
	struct backup_opts o = { 0 };
	struct backup_record rec;
	struct wiz_error err = { 0 };
	enum wiz_err rc;
	int status = EXIT_FAIL;
	char size[32];

	pki_store_init(&store, &r->c);
	if (etcd_creds_from_store(&store, &creds, &err) != WIZ_ERR_OK) {
		fprintf(stderr, "%s backup: %s\n", PACKAGE, err.msg);
		memset(&rec, 0, sizeof rec);
		goto out;
	}
	r->tty = isatty(STDERR_FILENO) && !r->quiet;
	r->started_ms = loop_now();
	o.loop = loop;
	o.fleet = fleet;
	o.c = &r->c;
	o.creds = creds;
	o.member = r->member;
	o.out_path = r->out;
	o.chosen = on_chosen;
	o.progress = on_progress;
	o.ud = r;
	rc = backup_take(&o, &rec, &err);
	if (r->tty && r->shown_ms)
		fputc('\n', stderr);
	if (rc != WIZ_ERR_OK) {
		fprintf(stderr, _("%s backup: %s; no file was kept\n"), PACKAGE, err.msg);
		goto out;
	}
	human_size(rec.size, size, sizeof size);
	printf(_("Wrote %s: %s (%" PRIu64 " bytes) from %s, revision %" PRIu64 ", etcd %s, in %.1f s\n"),
	       rec.path, size, rec.size, rec.member, rec.revision, rec.version,
	       (double)(loop_now() - r->started_ms) / 1000.0);
	printf(_("SHA-256 %s (sidecar %s.meta)\n"), rec.sha256, rec.path);
	status = EXIT_OK;
out:
	backup_record_free(&rec);
	http_tls_creds_free(creds);
	pki_store_free(&store);
	fleet_free(fleet);
	ssh_ctx_free(ssh);
	loop_free(loop);
	return status;
}

static int list(struct backup_run *r)
{
	char *dir = backup_dir(&r->c);
	struct backup_record *l;
	size_t n;
	struct wiz_error err;

	if (backup_list(dir, &l, &n, &err) != WIZ_ERR_OK) {
		fprintf(stderr, "%s backup list: %s\n", PACKAGE, err.msg);
		free(dir);
		return EXIT_FAIL;
	}
	if (n == 0) {
		printf(_("No backups of cluster %s in %s yet: 'etcdwiz backup -f %s' takes one.\n"), r->c.name, dir,
		       r->file);
	} else {
		printf("%-20s  %-12s  %10s  %-8s  %10s  %-12s  %s\n", _("TAKEN (UTC)"), _("MEMBER"), _("REVISION"),
		       _("ETCD"), _("SIZE"), "SHA-256", _("FILE"));
		for (size_t i = 0; i < n; i++) {
			char when[32], size[32];
			struct tm tm;
			const char *base = strrchr(l[i].path, '/');

			gmtime_r(&l[i].taken, &tm);
			strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
			human_size(l[i].size, size, sizeof size);
			printf("%-20s  %-12s  %10" PRIu64 "  %-8s  %10s  %-12.12s  %s%s\n", when,
			       l[i].member[0] ? l[i].member : "?", l[i].revision, l[i].version[0] ? l[i].version : "?",
			       size, l[i].sha256[0] ? l[i].sha256 : "?", base ? base + 1 : l[i].path,
			       l[i].sidecar_ok ? "" : _("  (no sidecar, or it disagrees: not taken by etcdwiz, or damaged)"));
		}
	}
	backup_list_free(l, n);
	free(dir);
	return EXIT_OK;
}

static int prune(struct backup_run *r)
{
	char *dir = backup_dir(&r->c);
	struct strlist removed = { 0 };
	struct wiz_error err;
	enum wiz_err rc = backup_prune(dir, (size_t)r->keep, &removed, &err);

	for (size_t i = 0; i < removed.n; i++)
		printf(_("Removed %s\n"), removed.items[i]);
	if (rc != WIZ_ERR_OK)
		fprintf(stderr, "%s backup prune: %s\n", PACKAGE, err.msg);
	else
		printf(P_("Kept the newest %ld backup in %s.\n", "Kept the newest %ld backups in %s.\n",
			  (unsigned long)r->keep), r->keep, dir);
	strlist_free(&removed);
	free(dir);
	return rc == WIZ_ERR_OK ? EXIT_OK : EXIT_FAIL;
}

static int cmd_backup_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "member", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "keep", required_argument, NULL, 'k' },
		{ "accept-new-host-keys", no_argument, NULL, 'A' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct backup_run r;
	struct diag_list diags;
	const char *sub = "take";
	int c, status;
	char *end;

	memset(&r, 0, sizeof r);
	r.keep = -1;
	if (argc >= 2 && (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "prune") == 0)) {
		sub = argv[1];
		argc--;
		argv++;
	}
	optind = 0;
	while ((c = getopt_long(argc, argv, "+f:m:o:k:Aqh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': r.file = optarg; break;
		case 'm': r.member = optarg; break;
		case 'o': r.out = optarg; break;
		case 'A': r.accept_new = true; break;
		case 'q': r.quiet = true; break;
		case 'k':
			r.keep = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || r.keep < 1 || r.keep > 100000)
				return cmd_usage_error(&cmd_backup_entry, _("--keep takes a number of backups, 1 or more"));
			break;
		case 'h':
			cmd_print_help(&cmd_backup_entry, stdout);
			return EXIT_OK;
		default:
			return cmd_usage_error(&cmd_backup_entry, _("invalid option"));
		}
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_backup_entry, _("unexpected argument '%s' (backup, backup list or backup prune)"),
				       argv[optind]);
	if (r.file == NULL)
		return cmd_usage_error(&cmd_backup_entry, _("a cluster file is needed: -f FILE"));
	if (strcmp(sub, "prune") == 0 && r.keep < 0)
		return cmd_usage_error(&cmd_backup_entry, _("backup prune needs --keep N"));
	if (strcmp(sub, "prune") != 0 && r.keep >= 0)
		return cmd_usage_error(&cmd_backup_entry, _("--keep is for backup prune"));
	if (strcmp(sub, "take") != 0 && (r.member || r.out))
		return cmd_usage_error(&cmd_backup_entry, _("--member and --output are for taking a backup"));
	diag_list_init(&diags, r.file);
	if (cluster_load(r.file, &r.c, &diags) != WIZ_ERR_OK) {
		diag_print(&diags, stderr);
		diag_list_free(&diags);
		cluster_free(&r.c);
		return EXIT_FAIL;
	}
	diag_list_free(&diags);
	if (strcmp(sub, "list") == 0)
		status = list(&r);
	else if (strcmp(sub, "prune") == 0)
		status = prune(&r);
	else
		status = take(&r);
	cluster_free(&r.c);
	return status;
}

const struct cmd_entry cmd_backup_entry = {
	.name = "backup",
	.args = "[list | prune --keep N] -f FILE [--member NAME] [-o PATH]",
	.summary = N_("take a snapshot of the cluster into its local state, list or prune them"),
	.subcommands = "list prune",
	.help = N_(
		"Commands:\n"
		"  (none)                a snapshot streamed from one healthy voting member\n"
		"                        (a follower first) through etcd's maintenance Snapshot\n"
		"                        call, over the member's SSH session; its trailing\n"
		"                        SHA-256 is checked before the file is kept\n"
		"  list                  the snapshots kept, newest first\n"
		"  prune --keep N        remove all but the newest N\n\n"
		"Snapshots go to $XDG_DATA_HOME/etcdwiz/CLUSTER/backups/ (0600 files in a\n"
		"0700 directory), each with a sidecar NAME.meta: member, revision, etcd\n"
		"version, time, size and SHA-256. A backup that fails, or is killed, leaves\n"
		"no file.\n\n"
		"Options:\n"
		"  -f, --file FILE       the cluster file\n"
		"  -m, --member NAME     take it from this member (it must be a healthy voter)\n"
		"  -o, --output PATH     write it here instead (and PATH.meta)\n"
		"  -k, --keep N          for prune: how many to keep (1 or more)\n"
		"  -A, --accept-new-host-keys  trust and save unknown SSH host keys\n"
		"  -q, --quiet           no progress\n"
		"  -h, --help            show this help and exit\n\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n"),
	.exec = cmd_backup_exec,
};
