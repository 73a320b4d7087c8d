/* etcdwiz plan | apply -f FILE: the install engine from the command line.
 * plan checks every host and prints what each step would change, changing
 * nothing; apply does the same, shows the summary, asks, then applies. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/loop.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "install/apply-support.h"
#include "install/backup.h"
#include "install/engine.h"
#include "install/fleet.h"
#include "install/membership.h"
#include "install/plan-listing.h"
#include "install/upgrade.h"
#include "pki/pki-store.h"
#include "ssh/secret-cache.h"
#include "ssh/ssh.h"
#include "ui/cli/cmd.h"
#include "ui/cli/cmd-apply.h"

const struct cmd_entry cmd_plan_entry;
const struct cmd_entry cmd_apply_entry;

/* ---- progress lines (the CLI's engine sink) ---- */

static void sink_step(const struct step *s, void *ud)
{
	struct run *r = ud;

	char *heading = xasprintf("\n== %s (%s)\n", _(s->title), s->name);

	if (r->listing)
		plan_listing_step(r->listing, s->name, heading);
	else
		fputs(heading, r->out);
	free(heading);
}

static void sink_planned(const struct engine_host *h, const struct step *s, const struct plan *p,
			 void *ud)
{
	struct run *r = ud;

	if (!plan_is_empty(p) || p->joins_cluster)
		r->n_changes++;
	if (r->list_members)
		return;
	r->n_errors += plan_errors(p);
	if (apply_plan_unhealthy(s, p))
		r->n_unhealthy++;
	if (r->listing)
		plan_listing_plan(r->listing, engine_host_name(h), s->name, p,
				  r->verbose || r->entry == &cmd_plan_entry);
	else if (r->verbose || r->entry == &cmd_plan_entry)
		plan_print(p, engine_host_name(h), s->name, r->out);
	else {
		for (size_t i = 0; i < p->n_notes; i++)
			fprintf(r->out, "%s %s: %s\n", engine_host_name(h), s->name, p->notes[i]);
		for (size_t i = 0; i < p->n_findings; i++)
			fprintf(r->out, "%s %s: [%s %s]: %s\n", engine_host_name(h), s->name,
				p->findings[i].error ? "ERROR" : "WARNING", p->findings[i].name,
				p->findings[i].msg);
	}
}

static void sink_action(const struct engine_host *h, const struct step *s, const struct action *a,
			size_t i, size_t n, void *ud)
{
	struct run *r = ud;

	fprintf(r->out, "%s %s: [%zu/%zu] %s\n", engine_host_name(h), s->name, i + 1, n, a->summary);
}

static void sink_done(const struct engine_host *h, const struct step *s, enum host_result res,
		      const char *msg, void *ud)
{
	struct run *r = ud;
	/* The grouped plan changes nothing: its "changed" is what would. */
	char *line = xasprintf("%s%s%s", r->listing && res == HOST_CHANGED ? _("would change") : _(host_result_text(res)),
			       msg ? ": " : "", msg ? msg : "");

	if (r->listing)
		plan_listing_add(r->listing, engine_host_name(h), s->name, line, NULL);
	else
		fprintf(r->out, "%s %s: %s\n", engine_host_name(h), s->name, line);
	free(line);
}

static void cluster_section(struct run *r, const struct live_cluster *l);

/* `plan`'s "cluster" section, as soon as the member list is in; kept in
 * its place among the grouped lines. */
static void sink_cluster(const struct live_cluster *l, void *ud)
{
	struct run *r = ud;
	FILE *out = r->out, *mem;
	char *text = NULL;
	size_t len = 0;

	if (r->listing == NULL || (mem = open_memstream(&text, &len)) == NULL) {
		cluster_section(r, l);
		return;
	}
	r->out = mem;
	cluster_section(r, l);
	fclose(mem);
	r->out = out;
	plan_listing_text(r->listing, text);
	free(text);
}

static void cluster_section(struct run *r, const struct live_cluster *l)
{

	if (r->list_members) {
		member_table_print(r, l);
		return;
	}
	membership_print(&r->c, l, !r->no_snapshot, r->out);
	r->member_changes = membership_changes(&r->c, l);
	r->upgrading = upgrade_pending(&r->c, l);
	upgrade_print(&r->c, l, !r->no_snapshot, r->allow_downgrade, r->out);
	if (r->cluster_read != NULL)
		r->cluster_read(r, l);
	{
		char *no = membership_refusal(&r->c, l);

		r->refused |= no != NULL;
		free(no);
	}
	for (size_t k = 0; k < l->n; k++)
		if (membership_leaves(&r->c, l, &l->members[k]) != LEAVE_NO)
			r->n_changes++;
}

/* A member removed, or why not. A removed member's certificates leave
 * the local store's members/ (run_store_set_aside). */
static void sink_cluster_change(const char *what, const char *removed, bool failed, void *ud)
{
	struct run *r = ud;

	fprintf(r->out, "%s: %s%s\n", _("cluster"), failed ? _("failed: ") : "", what);
	r->member_failed |= failed;
	if (removed != NULL)
		run_store_set_aside(r, removed, "removed");
}

static void sink_join_phase(const char *member, enum engine_join_phase p, void *ud)
{
	struct run *r = ud;

	fprintf(r->out, "%s: %s: %s\n", _("cluster"), member, _(engine_join_phase_text(p)));
}

static void sink_waiting(const char *what, void *ud)
{
	struct run *r = ud;

	fprintf(r->out, "%s: %s\n", _("cluster"), what);
	fflush(r->out);
}

int run_store_set_aside(struct run *r, const char *name, const char *why)
{
	struct wiz_error err;
	char *to = NULL;

	if (pki_store_set_aside(&r->store, name, why, time(NULL), &to, &err) != WIZ_ERR_OK) {
		fprintf(stderr, "%s: %s\n", PACKAGE, err.msg);
		return EXIT_FAIL;
	}
	if (to != NULL)
		fprintf(r->out, _("The certificates of %s in the local store are now in %s.\n"), name, to);
	free(to);
	return EXIT_OK;
}

/* `member list`: only what failed, on stderr. */
static void sink_done_quiet(const struct engine_host *h, const struct step *s, enum host_result res,
			    const char *msg, void *ud)
{
	(void)ud;
	if (res == HOST_FAILED || res == HOST_UNREACHABLE)
		fprintf(stderr, "%s: %s %s: %s%s%s\n", PACKAGE, engine_host_name(h), s->name,
			_(host_result_text(res)), msg ? ": " : "", msg ? msg : "");
}

static void fleet_open(struct run *r)
{
	/* Each secret is asked once for every host (and for plan, then apply). */
	struct ssh_callbacks cb = { NULL, isatty(STDIN_FILENO) ? secret_cache_on_secret : NULL, NULL };

	r->loop = loop_new();
	r->ssh = ssh_ctx_new(r->loop, &cb);
	r->fleet = fleet_new(r->ssh, &r->c, r->accept_new);
	r->checks = check_cache_new();
}

static void fleet_close(struct run *r)
{
	if (r->loop == NULL)
		return;
	check_cache_free(r->checks);
	fleet_free(r->fleet);
	ssh_ctx_free(r->ssh);
	loop_free(r->loop);
	r->loop = NULL;
}

static int run_engine(struct run *r, bool apply, char **journal)
{
	struct transport t = fleet_transport(r->fleet);
	struct engine_opts o = {
		.apply = apply,
		.limit = &r->limit,
		.steps = &r->steps,
		.ignore_preflight = &r->ignore,
		.cluster_token = r->token,
		.read_local = apply_read_local,
		.read_local_ud = &r->store,
		.etcd_creds = apply_etcd_creds,
		.etcd_creds_ud = &r->store,
		.checks = r->checks,
		.reuse_checks = apply,
	};
	struct engine_sink sink = { .step_started = sink_step, .planned = sink_planned,
				    .action = sink_action, .host_done = sink_done,
				    .cluster_read = apply ? NULL : sink_cluster,
				    .cluster_change = sink_cluster_change,
				    .join_phase = sink_join_phase, .waiting = sink_waiting, .ud = r };
	struct engine *e;
	int status;

	if (r->list_members)
		sink = (struct engine_sink){ .cluster_read = sink_cluster, .host_done = sink_done_quiet,
					     .ud = r };
	*journal = apply_journal_path(&r->c, apply);
	o.journal_path = *journal;
	o.kubeadm_init = r->kubeadm_init;
	o.prune_members = r->prune_members;
	o.prune_only = r->prune_only;
	o.leaving_hosts = r->leaving;
	o.n_leaving_hosts = r->n_leaving;
	o.health_timeout_s = r->health_timeout_s;
	o.allow_downgrade = r->allow_downgrade;
	e = engine_new(r->loop, &t, &r->c, &o, &sink);
	if (!apply && !r->per_host && !r->list_members) {
		r->listing = plan_listing_new();
		for (size_t i = 0; i < engine_host_count(e); i++)
			plan_listing_order(r->listing, engine_host_name(engine_host_at(e, i)));
	}
	engine_run(e);
	if (r->listing) {
		plan_listing_print(r->listing, r->out);
		plan_listing_free(r->listing);
		r->listing = NULL;
	}
	if (!r->list_members) {
		fprintf(r->out, "\n");
		engine_print_recap(e, r->out);
	}
	status = engine_succeeded(e) ? EXIT_OK : EXIT_FAIL;
	engine_free(e);
	return status;
}

static bool confirm(struct run *r)
{
	char buf[16];

	if (r->yes)
		return true;
	return cmd_ask_tty(_("Apply these changes? [y/N] "), buf, sizeof buf) && (buf[0] == 'y' || buf[0] == 'Y');
}

const struct option run_long_opts[] = {
	{ "file", required_argument, NULL, 'f' },
	{ "yes", no_argument, NULL, 'y' },
	{ "limit", required_argument, NULL, 'l' },
	{ "steps", required_argument, NULL, 's' },
	{ "ignore-preflight-errors", required_argument, NULL, 'i' },
	{ "accept-new-host-keys", no_argument, NULL, 'A' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "kubeadm-init", no_argument, NULL, 'K' },
	{ "health-timeout", required_argument, NULL, 'T' },
	{ "prune-members", no_argument, NULL, 'P' },
	{ "no-snapshot", no_argument, NULL, 'N' },
	{ "per-host", no_argument, NULL, RUN_OPT_PER_HOST },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

bool run_option(struct run *r, int c, const char *arg, int *status, bool *stop)
{
	uint64_t secs;

	*stop = false;
	switch (c) {
	case 'f': r->file = arg; return true;
	case 'y': r->yes = true; return true;
	case 'l': apply_split_csv(&r->limit, arg, false); return true;
	case 's': apply_split_csv(&r->steps, arg, false); return true;
	case 'i': apply_split_csv(&r->ignore, arg, true); return true;
	case 'A': r->accept_new = true; return true;
	case 'v': r->verbose = true; return true;
	case 'K': r->kubeadm_init = true; return true;
	case 'P': r->prune_members = true; return true;
	case 'N': r->no_snapshot = true; return true;
	case RUN_OPT_PER_HOST: r->per_host = true; return true;
	case 'T':
		if (!duration_parse(arg, &secs) || secs == 0 || secs > 24 * 3600) {
			*status = cmd_usage_error(r->entry, _("--health-timeout: '%s' is not a duration from 1s to 24h (e.g. 90s, 5m)"),
						  arg);
			*stop = true;
			return true;
		}
		r->health_timeout_s = (unsigned)secs;
		return true;
	case 'h':
		cmd_print_help(r->entry, stdout);
		*status = EXIT_OK;
		*stop = true;
		return true;
	default:
		return false;
	}
}

bool run_load(struct run *r)
{
	struct diag_list diags;
	bool ok;

	diag_list_init(&diags, r->file);
	ok = cluster_load(r->file, &r->c, &diags) == WIZ_ERR_OK;
	diag_print(&diags, stderr);
	diag_list_free(&diags);
	return ok;
}

void run_free(struct run *r)
{
	cluster_free(&r->c);
	strlist_free(&r->limit);
	strlist_free(&r->steps);
	strlist_free(&r->ignore);
}

static int snapshot_first(struct run *r);

int run_flow(struct run *r, bool apply)
{
	struct wiz_error err;
	char *journal = NULL;
	int status = EXIT_FAIL;

	for (size_t i = 0; i < r->steps.n; i++)
		if (step_find(r->steps.items[i]) == NULL)
			return cmd_usage_error(r->entry, _("unknown step '%s'"), r->steps.items[i]);
	for (size_t i = 0; i < r->limit.n; i++) {
		bool found = cluster_find_member(&r->c, r->limit.items[i]) != NULL;

		for (size_t k = 0; k < r->c.control_plane.n_hosts; k++)
			found |= strcmp(r->c.control_plane.hosts[k].name, r->limit.items[i]) == 0;
		if (!found)
			return cmd_usage_error(r->entry, _("--limit: '%s' is not a host of cluster %s"),
					       r->limit.items[i], r->c.name);
	}
	pki_store_init(&r->store, &r->c);
	r->token = apply_cluster_token(&r->c, false, &err);

	/* Look first: the plan is computed on every host, read-only. */
	fleet_open(r);
	status = run_engine(r, false, &journal);
	if (!apply || status != EXIT_OK)
		goto out;
	if (r->refused) {
		fprintf(stdout, _("\nThe membership change above is refused: nothing was changed.\n"));
		status = EXIT_FAIL;
		goto out;
	}
	if (r->n_changes == 0 && r->n_unhealthy > 0) {
		/* Converged files are not a healthy cluster: wait for it (the
		 * bounded verify) and fail with what each member shows. */
		struct strlist all_steps = r->steps;
		char *bound = duration_format(r->health_timeout_s ? r->health_timeout_s
								  : VERIFY_DEFAULT_TIMEOUT_S);

		fprintf(stdout, P_("\nNothing to change on the hosts, but %zu member is not healthy: waiting up to %s for it.\n",
				   "\nNothing to change on the hosts, but %zu members are not healthy: waiting up to %s for them.\n",
				   r->n_unhealthy), r->n_unhealthy, bound);
		free(bound);
		memset(&r->steps, 0, sizeof r->steps);
		for (size_t i = 0; step_table[i]; i++)
			if (step_table[i]->health_gate)
				strlist_push(&r->steps, step_table[i]->name);
		free(journal);
		status = run_engine(r, true, &journal);
		strlist_free(&r->steps);
		r->steps = all_steps;
		goto out;
	}
	if (r->n_changes == 0) {
		fprintf(stdout, _("Nothing to change: every host already matches %s.\n"), r->file);
		goto out;
	}
	fprintf(stdout, P_("\n%zu step on the hosts above will change.\n",
			   "\n%zu host steps above will change.\n", r->n_changes), r->n_changes);
	if (!confirm(r)) {
		fprintf(stdout, _("Nothing was changed.\n"));
		status = EXIT_FAIL;
		goto out;
	}
	if ((r->member_changes > 0 || r->upgrading) && !r->no_snapshot && (status = snapshot_first(r)) != EXIT_OK)
		goto out;
	if (r->prepare != NULL && (status = r->prepare(r)) != EXIT_OK)
		goto out;
	if (r->steps.n == 0 || strlist_contains(&r->steps, "certificates") ||
	    strlist_contains(&r->steps, "kubernetes")) {
		struct pki_report rep = { 0 };

		if (pki_store_generate(&r->store, time(NULL), &rep) != WIZ_ERR_OK) {
			for (size_t i = 0; i < rep.errors.n; i++)
				fprintf(stderr, "%s: %s\n", PACKAGE, rep.errors.items[i]);
			pki_report_free(&rep);
			status = EXIT_FAIL;
			goto out;
		}
		pki_report_free(&rep);
	}
	free(r->token);
	r->token = apply_cluster_token(&r->c, true, &err);
	if (r->token == NULL) {
		fprintf(stderr, "%s: %s\n", PACKAGE, err.msg);
		status = EXIT_FAIL;
		goto out;
	}
	if (r->commit != NULL && (status = r->commit(r)) != EXIT_OK)
		goto out;
	free(journal);
	status = run_engine(r, true, &journal);
	if (r->after != NULL)
		r->after(r, status);
out:
	fleet_close(r);
	if (journal && !r->list_members)
		fprintf(stdout, _("Journal: %s\n"), journal);
	free(journal);
	free(r->token);
	r->token = NULL;
	pki_store_free(&r->store);
	return status;
}

/* Before a membership change or an upgrade: a snapshot, as `etcdwiz backup` takes it,
 * through the run's own sessions. None, no change. */
static int snapshot_first(struct run *r)
{
	struct http_tls_creds *creds = NULL;
	struct backup_opts o = { 0 };
	struct backup_record rec;
	struct wiz_error err = { 0 };
	int status = EXIT_FAIL;

	memset(&rec, 0, sizeof rec);
	if (etcd_creds_from_store(&r->store, &creds, &err) == WIZ_ERR_OK) {
		o.loop = r->loop;
		o.fleet = r->fleet;
		o.c = &r->c;
		o.creds = creds;
		if (backup_take(&o, &rec, &err) == WIZ_ERR_OK) {
			fprintf(r->out, r->upgrading && r->member_changes == 0
					? _("Snapshot before the upgrade: %s (from %s, revision %" PRIu64 ").\n")
					: _("Snapshot before the membership change: %s (from %s, revision %" PRIu64 ").\n"),
				rec.path, rec.member, rec.revision);
			status = EXIT_OK;
		}
	}
	if (status != EXIT_OK)
		fprintf(stderr, _("%s: no snapshot could be taken before the change (%s): nothing was changed; give --no-snapshot to change the cluster without one\n"),
			PACKAGE, err.msg);
	backup_record_free(&rec);
	http_tls_creds_free(creds);
	return status;
}

static int plan_or_apply(const struct cmd_entry *entry, int argc, char **argv)
{
	struct run r;
	bool apply = entry == &cmd_apply_entry;
	int c, status = EXIT_FAIL;
	bool stop;

	memset(&r, 0, sizeof r);
	r.entry = entry;
	r.out = stdout;
	while ((c = getopt_long(argc, argv, "+" RUN_SHORT_OPTS "h", run_long_opts, NULL)) != -1) {
		if (!run_option(&r, c, optarg, &status, &stop)) {
			status = cmd_usage_error(entry, _("invalid option"));
			goto out;
		}
		if (stop)
			goto out;
	}
	if (r.file == NULL || optind < argc) {
		status = cmd_usage_error(entry, optind < argc ? _("unexpected argument") :
					 _("a cluster file is needed: -f FILE"));
		goto out;
	}
	if (run_load(&r))
		status = run_flow(&r, apply);
out:
	run_free(&r);
	return status;
}

static int cmd_plan_exec(int argc, char **argv)
{
	return plan_or_apply(&cmd_plan_entry, argc, argv);
}

static int cmd_apply_exec(int argc, char **argv)
{
	return plan_or_apply(&cmd_apply_entry, argc, argv);
}

/* The help below says "default 3m". */
_Static_assert(VERIFY_DEFAULT_TIMEOUT_S == 180, "update --health-timeout's help");

#define COMMON_HELP \
	"  -f, --file FILE                 the cluster file\n" \
	"  -l, --limit NAME,...            only these hosts\n" \
	"  -s, --steps NAME,...            only these steps: preflight, swap, modules, sysctl,\n" \
	"                                  packages, kubelet, certificates, manifest, etcdctl,\n" \
	"                                  backups, verify, kubernetes\n" \
	"  -i, --ignore-preflight-errors NAME,...\n" \
	"                                  make these preflight errors warnings ('all' for all)\n" \
	"  -A, --accept-new-host-keys      trust and save host keys seen for the first time\n" \
	"  -T, --health-timeout DURATION   how long apply's verify waits for each member to be\n" \
	"                                  healthy (default 3m; a member whose host is gone ends\n" \
	"                                  at once); also the bound of a joining member's catch-up\n" \
	"  -P, --prune-members             remove from etcd the members the file no longer names\n" \
	"                                  (one at a time, refused when quorum would not hold)\n" \
	"  -N, --no-snapshot               change the members without a snapshot first (by\n" \
	"                                  default one is taken into the local backups)\n" \
	"      --per-host                  the plan host by host, each line naming one host, as\n" \
	"                                  each host is checked (for scripts; by default hosts\n" \
	"                                  with the same lines are listed once, step by step)\n"

const struct cmd_entry cmd_plan_entry = {
	.name = "plan",
	.args = "-f FILE [OPTIONS]",
	.summary = N_("show what apply would change on every host, changing nothing"),
	.help = N_("Options:\n" COMMON_HELP
		   "  -h, --help                      show this help and exit\n\n"
		   "Exit status: 0 when every host could be checked and no preflight error was found.\n"),
	.exec = cmd_plan_exec,
};

const struct cmd_entry cmd_apply_entry = {
	.name = "apply",
	.args = "-f FILE [OPTIONS]",
	.summary = N_("build or converge the cluster: check, show the plan, ask, apply"),
	.help = N_("Options:\n" COMMON_HELP
		   "  -y, --yes                       apply without asking\n"
		   "  -K, --kubeadm-init              then run 'kubeadm init --upload-certs' on the first\n"
		   "                                  control-plane host (only when it is not initialised)\n"
		   "  -v, --verbose                   show every file's diff, not only findings\n"

		   "  -h, --help                      show this help and exit\n\n"
		   "A second apply on a converged cluster changes nothing. Exit status: 0 when every\n"
		   "host finished every step, 1 otherwise (see the recap and the journal).\n"),
	.exec = cmd_apply_exec,
};
