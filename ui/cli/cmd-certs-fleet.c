/* etcdwiz certs check-expiration --hosts | rotate | rotate-ca: the
 * certificates on the hosts (cert-survey.h), a rolling renewal, and a new
 * CA in three resumable phases (pki-rotate.h), each through the plan,
 * question and rolling apply of `apply` (cmd-apply.h). */
#include "config.h"

#include <getopt.h>
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
#include "etcd/etcd-ask.h"
#include "etcd/http-tls.h"
#include "install/cert-survey.h"
#include "install/fleet.h"
#include "pki/pki-rotate.h"
#include "pki/pki-store.h"
#include "pki/pki.h"
#include "ssh/secret-cache.h"
#include "ssh/ssh.h"
#include "ui/cli/cmd-apply.h"
#include "ui/cli/cmd-certs.h"
#include "ui/cli/cmd.h"

/* ---- one connection per host, for the reads outside run_flow ---- */

struct conn {
	struct loop *loop;
	struct ssh_ctx *ssh;
	struct fleet *fleet;
};

static void conn_open(struct conn *k, const struct cluster *c, bool accept_new)
{
	struct ssh_callbacks cb = { NULL, isatty(STDIN_FILENO) ? secret_cache_on_secret : NULL, NULL };

	k->loop = loop_new();
	k->ssh = ssh_ctx_new(k->loop, &cb);
	k->fleet = fleet_new(k->ssh, c, accept_new);
}

static void conn_close(struct conn *k)
{
	fleet_free(k->fleet);
	ssh_ctx_free(k->ssh);
	loop_free(k->loop);
}

/* ---- check-expiration --hosts ---- */

static const char *match_text(const struct cert_row *r)
{
	if (r->match == CERT_MATCH_YES)
		return _("yes");
	if (r->match == CERT_MATCH_NO)
		return _("NO");
	return "-";
}

int certs_check_hosts(const char *file, uint64_t warn_s, bool accept_new)
{
	struct cluster c;
	struct pki_store store;
	struct conn k;
	struct cert_survey s = { NULL, 0 };
	struct cert_survey_opts o = { 0 };
	struct http_tls_creds *creds = NULL;
	struct wiz_error err = { 0 };
	time_t now = time(NULL);
	size_t bad = 0, mismatched = 0, n_cells;
	char **cells;
	struct strlist notes = { NULL, 0 };
	char *warn = duration_format(warn_s);

	if (!certs_load_cluster(file, &c)) {
		fprintf(stderr, _("%s certs: fix %s first ('%s validate -f %s')\n"), PACKAGE, file, PACKAGE, file);
		cluster_free(&c);
		free(warn);
		return EXIT_FAIL;
	}
	pki_store_init(&store, &c);
	if (etcd_creds_from_store(&store, &creds, &err) != WIZ_ERR_OK)
		strlist_push(&notes, err.msg);	/* the files are still read */
	conn_open(&k, &c, accept_new);
	o.loop = k.loop;
	o.t = fleet_transport(k.fleet);
	o.c = &c;
	o.store = &store;
	o.creds = creds;
	cert_survey_take(&o, &s);
	n_cells = (s.n + 1) * 6;
	cells = xcalloc(n_cells, sizeof *cells);
	cells[0] = xstrdup(_("HOST"));
	cells[1] = xstrdup(_("CERTIFICATE"));
	cells[2] = xstrdup(_("EXPIRES"));
	cells[3] = xstrdup(_("RESIDUAL TIME"));
	cells[4] = xstrdup(_("CERTIFICATE AUTHORITY"));
	cells[5] = xstrdup(_("MATCHES STORE"));
	for (size_t i = 0; i < s.n; i++) {
		const struct cert_row *r = &s.rows[i];
		char **row = &cells[(i + 1) * 6];
		int64_t left = (int64_t)(r->not_after - now);

		row[0] = xstrdup(r->host);
		row[1] = xstrdup(r->name);
		if (r->missing || (r->problem && r->serial[0] == '\0')) {
			row[2] = xstrdup(r->missing ? _("!MISSING!") : _("!UNREADABLE!"));
			row[3] = xstrdup("-");
			row[4] = xstrdup("-");
			row[5] = xstrdup("-");
			bad++;
			if (r->problem) {
				char *line = xasprintf("%s %s (%s): %s", r->host, r->name, r->where, r->problem);

				strlist_push(&notes, line);
				free(line);
			}
			continue;
		}
		row[2] = pki_time_format(r->not_after);
		row[3] = left <= 0 ? xstrdup(_("EXPIRED")) : pki_residual_format(left);
		row[4] = xstrdup(r->issuer[0] ? r->issuer : "-");
		row[5] = xstrdup(match_text(r));
		if (left <= 0 || (uint64_t)left < warn_s) {
			char *line = left <= 0
				? xasprintf(_("!EXPIRED! %s on %s expired on %s; run '%s certs rotate -f %s'"),
					    r->name, r->host, row[2], PACKAGE, file)
				: xasprintf(_("!WARNING! %s on %s expires in %s (under %s); run '%s certs rotate -f %s'"),
					    r->name, r->host, row[3], warn, PACKAGE, file);

			strlist_push(&notes, line);
			free(line);
			bad++;
		}
		if (r->problem) {
			char *line = xasprintf("%s %s: %s", r->host, r->name, r->problem);

			strlist_push(&notes, line);
			free(line);
		}
		if (r->match == CERT_MATCH_NO) {
			char *line = r->served
				? xasprintf(_("%s serves serial %s on %s, not the store's: run '%s certs rotate -f %s' (or '%s apply')"),
					    r->host, r->serial, r->where, PACKAGE, file, PACKAGE)
				: xasprintf(_("%s:%s is not the local store's (serial %s): replaced by hand, or the store changed since; '%s apply -f %s' installs the store's"),
					    r->host, r->where, r->serial, PACKAGE, file);

			strlist_push(&notes, line);
			free(line);
			mismatched++;
		}
	}
	certs_print_table(cells, s.n + 1, 6);
	if (notes.n)
		printf("\n");
	for (size_t i = 0; i < notes.n; i++)
		printf("%s\n", notes.items[i]);
	for (size_t i = 0; i < n_cells; i++)
		free(cells[i]);
	free(cells);
	strlist_free(&notes);
	cert_survey_free(&s);
	conn_close(&k);
	http_tls_creds_free(creds);
	pki_store_free(&store);
	cluster_free(&c);
	free(warn);
	(void)mismatched;
	return bad ? EXIT_FAIL : EXIT_OK;
}

/* ---- the peers after a phase (cert_peers_check) ---- */

struct peers_wait {
	bool done;
	char *why;
};

static void peers_done(const char *why, void *ud)
{
	struct peers_wait *pw = ud;

	pw->why = why ? xstrdup(why) : NULL;
	pw->done = true;
}

static bool peers_in(void *ud)
{
	return ((struct peers_wait *)ud)->done;
}

/* NULL when every member answers and lists all as started; else why. */
static char *peers_check(const struct cluster *c, const struct pki_store *store, bool accept_new)
{
	struct conn k;
	struct cert_survey_opts o = { 0 };
	struct peers_wait pw = { false, NULL };
	struct http_tls_creds *creds = NULL;
	struct wiz_error err = { 0 };

	if (etcd_creds_from_store(store, &creds, &err) != WIZ_ERR_OK)
		return xstrdup(err.msg);
	conn_open(&k, c, accept_new);
	o.loop = k.loop;
	o.t = fleet_transport(k.fleet);
	o.c = c;
	o.store = store;
	o.creds = creds;
	cert_peers_check(&o, peers_done, &pw);
	/* Each call is bounded (10 s), and so is every connect. */
	loop_run_until(k.loop, peers_in, &pw, 0);
	conn_close(&k);
	http_tls_creds_free(creds);
	return pw.done ? pw.why : xstrdup(_("not every member answered"));
}

/* ---- rotate ---- */

static const struct cmd_entry certs_rotate_entry = {
	.name = "certs rotate",
	.args = "[NAME|all] -f FILE [OPTIONS]",
	.summary = N_("renew certificates and install them on the running cluster, one member at a time"),
	.help = N_("NAME is as for 'certs renew' (default: all). The certificates are renewed in the\n"
		   "local store first, then installed as 'apply' does, with its plan and question:\n"
		   "one member at a time, every member healthy before the next, and each member\n"
		   "checked from here to serve its new certificates on 2379 and 2380 (etcd reads\n"
		   "them at each new connection: nothing restarts). The apiserver-etcd-client pair\n"
		   "goes to every control-plane host; where kube-apiserver runs as a static pod it\n"
		   "is restarted, one host at a time. Stopped half-way (a 'no', a host down,\n"
		   "etcdwiz killed), the same command installs what was renewed, without renewing\n"
		   "again.\n\n"
		   "Options:\n"
		   "  -f, --file FILE                 the cluster file\n"
		   "  -y, --yes                       apply without asking\n"
		   "  -A, --accept-new-host-keys      trust and save host keys seen for the first time\n"
		   "  -T, --health-timeout DURATION   each member's bound to be healthy again (default 3m)\n"
		   "  -v, --verbose                   show every action\n"
		   "  -h, --help                      show this help and exit\n\n"
		   "Exit status: 0 rotated; 1 failed, stopped or not confirmed; 2 usage.\n"),
};

static void print_report_lines(const struct pki_report *rep)
{
	for (size_t i = 0; i < rep->notes.n; i++)
		printf("%s\n", rep->notes.items[i]);
	for (size_t i = 0; i < rep->warnings.n; i++)
		fprintf(stderr, _("%s: warning: %s\n"), PACKAGE, rep->warnings.items[i]);
	for (size_t i = 0; i < rep->errors.n; i++)
		fprintf(stderr, _("%s: error: %s\n"), PACKAGE, rep->errors.items[i]);
}

static int run_options(struct run *r, int argc, char **argv, const char **target)
{
	int c, status = EXIT_FAIL;
	bool stop;

	optind = 0;
	while ((c = getopt_long(argc, argv, "f:yAvT:h", run_long_opts, NULL)) != -1) {
		if (!run_option(r, c, optarg, &status, &stop) || c == 'l' || c == 's' || c == 'K' || c == 'P') {
			return cmd_usage_error(r->entry, _("invalid option"));
		}
		if (stop)
			return status;
	}
	if (target != NULL && optind < argc)
		*target = argv[optind++];
	if (optind < argc)
		return cmd_usage_error(r->entry, _("unexpected argument '%s'"), argv[optind]);
	if (r->file == NULL)
		return cmd_usage_error(r->entry, "%s", _("a cluster file is needed: -f FILE"));
	return -1;
}

int certs_rotate_exec(int argc, char **argv)
{
	struct run r;
	struct pki_store store;
	struct pki_report rep = { 0 };
	const char *target = "all";
	char *was = NULL;
	enum wiz_err rc;
	int status;

	memset(&r, 0, sizeof r);
	r.entry = &certs_rotate_entry;
	r.out = stdout;
	if ((status = run_options(&r, argc, argv, &target)) >= 0)
		goto out_run;
	status = EXIT_FAIL;
	if (!run_load(&r))
		goto out_run;
	gnutls_global_init();
	pki_store_init(&store, &r.c);
	rc = pki_rotate_leaves_prepare(&store, target, time(NULL), &was, &rep);
	print_report_lines(&rep);
	if (rc != WIZ_ERR_OK) {
		status = rc == WIZ_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL;
		goto out;
	}
	if (was != NULL)
		printf(_("The certificates an earlier 'certs rotate %s' renewed are not on every host yet: installing those (nothing is renewed again).\n"),
		       was);
	strlist_push(&r.steps, "certificates");
	strlist_push(&r.steps, "verify");
	strlist_push(&r.steps, "kubernetes");
	status = run_flow(&r, true);
	if (status == EXIT_OK) {
		pki_rotate_leaves_done(&store);
		printf(_("Rotated: every host has the store's certificates, and each member serves its new ones.\n"));
	} else {
		printf(_("The renewed certificates stay in the local store (%s); the hosts not reached keep their old, still valid ones. Run the same command again to install them: it does not renew again.\n"),
		       store.dir);
	}
out:
	pki_report_free(&rep);
	free(was);
	pki_store_free(&store);
	gnutls_global_deinit();
out_run:
	run_free(&r);
	return status;
}

/* ---- rotate-ca ---- */

static const struct cmd_entry certs_rotate_ca_entry = {
	.name = "certs rotate-ca",
	.args = "-f FILE [--phase 1|2|3] [OPTIONS]",
	.summary = N_("a new etcd CA on the running cluster, without downtime, in three phases"),
	.help = N_("Each phase moves the local store first, then rolls it out as 'apply' does (plan,\n"
		   "question, one member at a time with health gates), then checks that every\n"
		   "member lists every other as started:\n"
		   "  1  a new CA; every etcd/ca.crt (members and control-plane hosts) trusts the\n"
		   "     old and the new CA; etcd and kube-apiserver restart one at a time, as they\n"
		   "     read their CA only when they start\n"
		   "  2  every certificate re-issued from the new CA and installed (no restart)\n"
		   "  3  the old CA dropped from etcd/ca.crt (restarts one at a time); the old CA\n"
		   "     and its key are archived in the store, never deleted\n"
		   "Phases already done are skipped; an interrupted phase continues where it\n"
		   "stopped when the command runs again.\n\n"
		   "Options:\n"
		   "  -f, --file FILE                 the cluster file\n"
		   "      --phase N                   stop after phase N (default 3: all of them)\n"
		   "  -y, --yes                       apply without asking\n"
		   "  -A, --accept-new-host-keys      trust and save host keys seen for the first time\n"
		   "  -T, --health-timeout DURATION   each member's bound to be healthy again (default 3m)\n"
		   "  -v, --verbose                   show every action\n"
		   "  -h, --help                      show this help and exit\n\n"
		   "Exit status: 0 the phases asked for are done; 1 failed, stopped or not\n"
		   "confirmed (run it again to go on); 2 usage.\n"),
};

static const char *phase_text(int n)
{
	switch (n) {
	case 1:
		return _("Phase 1 of 3: a new CA, trusted beside the old one everywhere (members and kube-apiserver restart one at a time)");
	case 2:
		return _("Phase 2 of 3: every certificate re-issued from the new CA (installed one member at a time, no restart)");
	default:
		return _("Phase 3 of 3: the old CA no longer trusted (members and kube-apiserver restart one at a time)");
	}
}

int certs_rotate_ca_exec(int argc, char **argv)
{
	struct run r;
	struct pki_store store;
	struct pki_rotation rot;
	struct wiz_error err = { 0 };
	int last = PKI_ROTATION_PHASES, first, status;
	char **args = xcalloc((size_t)argc + 1, sizeof *args);
	int n_args = 0;

	memset(&r, 0, sizeof r);
	r.entry = &certs_rotate_ca_entry;
	r.out = stdout;
	/* --phase N is ours; the rest are run options. */
	for (int i = 0; i < argc; i++) {
		const char *v = NULL;

		if (strcmp(argv[i], "--phase") == 0 && i + 1 < argc)
			v = argv[++i];
		else if (strncmp(argv[i], "--phase=", 8) == 0)
			v = argv[i] + 8;
		else {
			args[n_args++] = argv[i];
			continue;
		}
		if (strlen(v) != 1 || v[0] < '1' || v[0] > '3') {
			status = cmd_usage_error(r.entry, _("--phase: '%s' is not 1, 2 or 3"), v);
			goto out_run;
		}
		last = v[0] - '0';
	}
	if ((status = run_options(&r, n_args, args, NULL)) >= 0)
		goto out_run;
	status = EXIT_FAIL;
	if (!run_load(&r))
		goto out_run;
	gnutls_global_init();
	pki_store_init(&store, &r.c);
	if (pki_rotation_read(&store, &rot, &err) != WIZ_ERR_OK) {
		fprintf(stderr, "%s: %s\n", PACKAGE, err.msg);
		goto out;
	}
	first = pki_rotation_next_phase(&rot);
	if (rot.phase > 0)
		printf(_("A CA rotation is under way since %s: phase %d %s.\n"), rot.started, rot.phase,
		       rot.done ? _("is done") : _("was not finished"));
	if (first > last) {
		printf(_("Phase %d is done already; nothing to do (give --phase %d to go on).\n"), last, first);
		status = EXIT_OK;
		goto out;
	}
	strlist_push(&r.steps, "certificates");
	strlist_push(&r.steps, "manifest");
	strlist_push(&r.steps, "verify");
	strlist_push(&r.steps, "kubernetes");
	for (int n = first; n <= last; n++) {
		struct pki_report rep = { 0 };
		char *why, *archived = NULL;

		printf("\n%s\n", phase_text(n));
		if (pki_rotation_begin(&store, n, time(NULL), &rep) != WIZ_ERR_OK) {
			print_report_lines(&rep);
			pki_report_free(&rep);
			status = EXIT_FAIL;
			goto out;
		}
		print_report_lines(&rep);
		pki_report_free(&rep);
		r.n_changes = r.n_errors = r.n_unhealthy = 0;
		status = run_flow(&r, true);
		if (status != EXIT_OK) {
			printf(_("\nPhase %d stopped: the local store is in phase %d, and the hosts done keep it. Run the same command again once the cause is fixed: it goes on with phase %d where it stopped.\n"),
			       n, n, n);
			goto out;
		}
		why = peers_check(&r.c, &store, r.accept_new);
		if (why != NULL) {
			fprintf(stderr, _("%s: phase %d is on every host, but the members do not all see each other: %s; it is not recorded as done: look at 'etcdwiz status -f %s', then run the command again\n"),
				PACKAGE, n, why, r.file);
			free(why);
			status = EXIT_FAIL;
			goto out;
		}
		memset(&rep, 0, sizeof rep);
		if (pki_rotation_end(&store, n, time(NULL), &archived, &rep) != WIZ_ERR_OK) {
			print_report_lines(&rep);
			pki_report_free(&rep);
			status = EXIT_FAIL;
			goto out;
		}
		pki_report_free(&rep);
		printf(_("Phase %d is done: on every host, every member lists every other as started.\n"), n);
		if (archived != NULL)
			printf(_("The CA rotation is done. The old CA and its key are kept in %s.\n"), archived);
		free(archived);
	}
	if (last < PKI_ROTATION_PHASES)
		printf(_("Stopped after phase %d as asked; '%s certs rotate-ca -f %s' goes on with phase %d.\n"), last,
		       PACKAGE, r.file, last + 1);
out:
	pki_store_free(&store);
	gnutls_global_deinit();
out_run:
	free(args);
	run_free(&r);
	return status;
}
