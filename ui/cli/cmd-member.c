/* etcdwiz member list|add|remove|replace -f FILE: the cluster's members
 * as etcd lists them, and membership changes made by editing the cluster
 * file and applying just that. list reads the member list from a running
 * member (the engine's read, over SSH, through the v3 JSON gateway); add,
 * remove and replace change the cluster in memory, show the plan and ask
 * as apply does, and only then (once the certificates are made) write the
 * file, atomically, the old one kept as FILE.bak, and apply it. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "install/membership.h"
#include "ui/cli/cmd-apply.h"
#include "ui/cli/cmd.h"

const struct cmd_entry cmd_member_entry;

/* ---- list ---- */

void member_table_print(struct run *r, const struct live_cluster *l)
{
	char id[17];

	if (!l->running) {
		fprintf(stderr, _("%s: cluster %s is not running: %s\n"), PACKAGE, r->c.name, l->why);
		r->n_errors++;
		return;
	}
	fprintf(r->out, "%-16s  %-12s  %-28s  %-28s  %-7s  %-6s  %s\n", "ID", _("NAME"), _("PEER URL"),
		_("CLIENT URL"), _("LEARNER"), _("LEADER"), _("HEALTH"));
	for (size_t k = 0; k < l->n; k++) {
		const struct live_member *lm = &l->members[k];
		char health[240];

		if (!lm->viewed)
			snprintf(health, sizeof health, "%s",
				 lm->name[0] ? _("not asked: not in the cluster file") : _("never started"));
		else if (!lm->view.answered)
			snprintf(health, sizeof health, _("no answer: %s"), lm->view.detail);
		else if (!lm->view.healthy)
			snprintf(health, sizeof health, _("not healthy: %s"), lm->view.detail);
		else
			snprintf(health, sizeof health, _("healthy, etcd %s"), lm->view.version);
		fprintf(r->out, "%-16s  %-12s  %-28s  %-28s  %-7s  %-6s  %s\n", member_hex_id(id, lm->id),
			lm->name[0] ? lm->name : "-", lm->peer_url, lm->client_url[0] ? lm->client_url : "-",
			lm->learner ? _("yes") : _("no"), lm->viewed && lm->view.leader ? _("yes") : _("no"),
			health);
	}
}

/* ---- editing the cluster ---- */

/* Writes the edited cluster once the admin said yes: the file as it was
 * stays beside it as FILE.bak. */
static int save_cluster(struct run *r)
{
	struct wiz_error err;
	char *bak = xasprintf("%s.bak", r->file);
	int status = EXIT_OK;

	if (cluster_keep_backup(r->file, &err) != WIZ_ERR_OK ||
	    cluster_save(&r->c, r->file, &err) != WIZ_ERR_OK) {
		fprintf(stderr, _("%s: %s was not changed and nothing was applied: %s\n"), PACKAGE, r->file,
			err.msg);
		status = EXIT_FAIL;
	} else {
		fprintf(r->out, _("Wrote %s (the previous file is %s).\n"), r->file, bak);
	}
	free(bak);
	return status;
}

/* A removal refused in the apply pass (a member went down since the
 * plan): the cluster file goes back to what it was, as etcd is. */
static void undo_if_refused(struct run *r, int status)
{
	char *bak;

	if (!r->member_failed || status == EXIT_OK)
		return;
	bak = xasprintf("%s.bak", r->file);
	if (rename(bak, r->file) == 0)
		fprintf(r->out, _("The membership change was refused: %s is back as it was.\n"), r->file);
	else
		fprintf(stderr, _("%s: the membership change was refused, and %s could not be put back from %s: %s\n"),
			PACKAGE, r->file, bak, strerror(errno));
	free(bak);
}

static int replace_prepare(struct run *r)
{
	/* Its certificates name the old address: made anew. */
	return run_store_set_aside(r, r->ud, "replaced");
}

static bool valid_after_edit(struct run *r)
{
	struct diag_list d;
	bool ok;

	diag_list_init(&d, r->file);
	cluster_validate(&r->c, &d);
	ok = diag_count(&d, DIAG_ERROR) == 0;
	if (!ok)
		diag_print(&d, stderr);
	diag_list_free(&d);
	return ok;
}

static int do_add(struct run *r, const char *name, const char *address)
{
	struct wiz_error err;

	if (cluster_member_add(&r->c, name, address, &err) != WIZ_ERR_OK)
		return cmd_usage_error(&cmd_member_entry, "%s", err.msg);
	return valid_after_edit(r) ? run_flow(r, true) : EXIT_USAGE;
}

static int do_remove(struct run *r, const char *name, struct host *gone, struct strlist *only)
{
	struct wiz_error err;

	/* gone keeps its SSH settings, to set its files aside. */
	if (cluster_member_take(&r->c, name, gone, &err) != WIZ_ERR_OK)
		return cmd_usage_error(&cmd_member_entry, "%s", err.msg);
	strlist_push(only, name);
	r->leaving = gone;
	r->n_leaving = 1;
	r->prune_members = true;
	r->prune_only = only;
	return valid_after_edit(r) ? run_flow(r, true) : EXIT_USAGE;
}

static int do_replace(struct run *r, const char *name, const char *address, struct host *old)
{
	struct wiz_error err;
	bool pin_dropped;

	/* old: the old host, its files set aside if it answers. */
	if (cluster_member_move(&r->c, name, address, old, &pin_dropped, &err) != WIZ_ERR_OK)
		return cmd_usage_error(&cmd_member_entry, "%s", err.msg);
	r->leaving = old;
	r->n_leaving = 1;
	r->ud = old->name;
	r->prepare = replace_prepare;
	if (pin_dropped)
		fprintf(r->out, _("The host key pinned for %s (ssh.hostKeys) is dropped: the new host's key is checked against known_hosts (give --accept-new-host-keys to trust a new one).\n"),
			name);
	return valid_after_edit(r) ? run_flow(r, true) : EXIT_USAGE;
}

static int cmd_member_exec(int argc, char **argv)
{
	static const struct {
		const char *name;
		int args;	/* positional arguments after the subcommand */
	} subs[] = { { "list", 0 }, { "add", 2 }, { "remove", 1 }, { "replace", 2 } };
	struct run r;
	struct host gone = { 0 };
	struct strlist only = { 0 };
	const char *sub = "";
	int c, status = EXIT_FAIL, want = -1;
	bool stop;

	memset(&r, 0, sizeof r);
	r.entry = &cmd_member_entry;
	r.out = stdout;
	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
			cmd_print_help(&cmd_member_entry, stdout);
			return EXIT_OK;
		}
		return cmd_usage_error(&cmd_member_entry, _("say what to do: list, add, remove or replace"));
	}
	sub = argv[1];
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		if (strcmp(sub, subs[i].name) == 0)
			want = subs[i].args;
	if (want < 0)
		return cmd_usage_error(&cmd_member_entry, _("unknown member command '%s' (list, add, remove or replace)"),
				       sub);
	optind = 0;
	while ((c = getopt_long(argc - 1, argv + 1, RUN_SHORT_OPTS "h", run_long_opts, NULL)) != -1) {
		if (!run_option(&r, c, optarg, &status, &stop)) {
			status = cmd_usage_error(&cmd_member_entry, _("invalid option"));
			goto out;
		}
		if (stop)
			goto out;
	}
	if (r.file == NULL) {
		status = cmd_usage_error(&cmd_member_entry, _("a cluster file is needed: -f FILE"));
		goto out;
	}
	if (argc - 1 - optind != want) {
		status = cmd_usage_error(&cmd_member_entry, want == 0 ? _("member list takes no argument")
					 : want == 1 ? _("member %s needs NAME") : _("member %s needs NAME ADDRESS"),
					 sub);
		goto out;
	}
	if (!run_load(&r))
		goto out;
	if (strcmp(sub, "list") == 0) {
		r.list_members = true;
		strlist_push(&r.steps, "manifest");	/* the step that reads the cluster */
		status = run_flow(&r, false);
		if (status == EXIT_OK && r.n_errors > 0)
			status = EXIT_FAIL;
		goto out;
	}
	r.commit = save_cluster;
	r.after = undo_if_refused;
	if (strcmp(sub, "add") == 0)
		status = do_add(&r, argv[1 + optind], argv[2 + optind]);
	else if (strcmp(sub, "remove") == 0)
		status = do_remove(&r, argv[1 + optind], &gone, &only);
	else
		status = do_replace(&r, argv[1 + optind], argv[2 + optind], &gone);
out:
	cluster_host_free(&gone);	/* out of r.c's array: not freed with it */
	strlist_free(&only);
	run_free(&r);
	return status;
}

const struct cmd_entry cmd_member_entry = {
	.name = "member",
	.args = "list|add NAME ADDRESS|remove NAME|replace NAME ADDRESS -f FILE [OPTIONS]",
	.summary = N_("list the cluster's members as etcd has them, or add, remove or replace one"),
	.subcommands = "list add remove replace",
	.help = N_(
		"Commands:\n"
		"  list                  id, name, peer and client URLs, learner, leader,\n"
		"                        health and version of every member etcd lists,\n"
		"                        read from a running member (exit 1 when none runs)\n"
		"  add NAME ADDRESS      a new member: every step on its host, then added to\n"
		"                        etcd as a learner, started, promoted once caught up\n"
		"  remove NAME           removed from etcd (refused when the members left\n"
		"                        would not be a healthy quorum; the leadership moves\n"
		"                        away first), then its manifest and data directory\n"
		"                        are moved aside on its host (dated, never deleted)\n"
		"  replace NAME ADDRESS  the member moves to a new host: the old one is\n"
		"                        removed first, then the new one joins (etcd's order)\n\n"
		"add, remove and replace show the plan and ask as apply does, and only\n"
		"then write the cluster file (atomically; the previous one is kept as\n"
		"FILE.bak, and the file is rewritten in canonical form) and apply it.\n"
		"A run that stops half-way is finished by running it, or apply, again.\n\n"
		"Options: those of apply (-f FILE, -y, -A, -T DURATION, -v, -i, -l, -s).\n"
		"  -h, --help            show this help and exit\n\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n"),
	.exec = cmd_member_exec,
};
