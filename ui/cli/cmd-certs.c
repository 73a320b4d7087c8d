/* etcdwiz certs generate|check-expiration|renew|import: the local PKI store
 * of a cluster (pki-store.h), from the command line. */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "pki/pki-store.h"
#include "pki/pki.h"
#include "ui/cli/cmd-certs.h"
#include "ui/cli/cmd.h"

const struct cmd_entry cmd_certs_entry;

struct certs_sub {
	const char *name;
	const char *args;
	const char *summary;	/* N_() */
	const char *help;	/* N_() */
};

enum { SUB_GENERATE, SUB_CHECK, SUB_RENEW, SUB_IMPORT, SUB_ROTATE, SUB_ROTATE_CA, SUB_COUNT };

static const struct certs_sub subs[SUB_COUNT] = {
	[SUB_GENERATE] = {
		"generate", "-f FILE",
		N_("make the etcd CA and every member's certificates that are missing"),
		N_("Makes what is missing in the local store: the etcd CA, then for each member\n"
		   "etcd/ca.crt, etcd/server, etcd/peer, etcd/healthcheck-client and\n"
		   "apiserver-etcd-client. Existing files are checked and never overwritten;\n"
		   "a second run changes nothing and says so.\n\n"
		   "Options:\n"
		   "  -f, --file FILE    the cluster file\n"
		   "  -h, --help         show this help and exit\n\n"
		   "Exit status: 0 done or nothing to do, 1 broken input (nothing written),\n"
		   "2 usage error.\n"),
	},
	[SUB_CHECK] = {
		"check-expiration", "-f FILE [--hosts [--warn DURATION]]",
		N_("show when the certificates of the local store, or of the hosts, expire"),
		N_("Prints a table like kubeadm's: CERTIFICATE, EXPIRES, RESIDUAL TIME,\n"
		   "CERTIFICATE AUTHORITY, EXTERNALLY MANAGED, then the CA. Certificates that\n"
		   "expire within 30 days get a warning; expired ones are marked EXPIRED.\n\n"
		   "With --hosts, the certificates installed on every member and control-plane\n"
		   "host instead (read over SSH, parsed here; no key is read), with a HOST\n"
		   "column and whether each matches the local store, and the certificate each\n"
		   "member actually serves on 2379 and 2380 (a TLS handshake from here).\n\n"
		   "Options:\n"
		   "  -f, --file FILE          the cluster file\n"
		   "      --hosts              read the hosts, not the local store\n"
		   "      --warn DURATION      with --hosts: warn (and exit 1) below this residual\n"
		   "                           time (default 30d)\n"
		   "  -A, --accept-new-host-keys  trust and save host keys seen for the first time\n"
		   "  -h, --help               show this help and exit\n\n"
		   "Exit status: 0 all valid, 1 something expired (or within --warn), missing or\n"
		   "unreadable, 2 usage error.\n"),
	},
	[SUB_RENEW] = {
		"renew", "NAME|all -f FILE",
		N_("issue new keys and certificates with the same subject and names"),
		N_("NAME is all, a member name, a certificate name (etcd-server, etcd-peer,\n"
		   "etcd-healthcheck-client, apiserver-etcd-client) for every member, or\n"
		   "MEMBER/CERTIFICATE as check-expiration prints it. Each certificate gets a\n"
		   "new key and is signed by the store's CA, which needs its key. The CA itself\n"
		   "is not renewed.\n\n"
		   "Options:\n"
		   "  -f, --file FILE    the cluster file\n"
		   "  -h, --help         show this help and exit\n\n"
		   "Exit status: 0 renewed, 1 broken input or no CA key (nothing written),\n"
		   "2 usage error.\n"),
	},
	[SUB_IMPORT] = {
		"import", "-f FILE --ca-cert CRT --ca-key KEY",
		N_("use an existing etcd CA (for example kubeadm's etcd/ca.crt and ca.key)"),
		N_("Checks the CA first: it is a CA, the key matches, it has not expired and\n"
		   "it stays valid for at least pki.certValidity. Then it becomes the store's\n"
		   "CA; run 'generate' next.\n\n"
		   "Options:\n"
		   "  -f, --file FILE      the cluster file\n"
		   "      --ca-cert CRT    the CA certificate (PEM)\n"
		   "      --ca-key KEY     its private key (PEM, unencrypted)\n"
		   "  -h, --help           show this help and exit\n\n"
		   "Exit status: 0 imported or already there, 1 broken input (nothing written),\n"
		   "2 usage error.\n"),
	},
	[SUB_ROTATE] = {
		"rotate", "[NAME|all] -f FILE [OPTIONS]",
		N_("renew certificates and install them on the running cluster, one member at a time"),
		NULL,
	},
	[SUB_ROTATE_CA] = {
		"rotate-ca", "-f FILE [--phase 1|2|3] [OPTIONS]",
		N_("a new etcd CA on the running cluster, without downtime, in three phases"),
		NULL,
	},
};

static void sub_help(const struct certs_sub *sub, FILE *out)
{
	fprintf(out, _("Usage: %s certs %s %s\n"), PACKAGE, sub->name, sub->args);
	fprintf(out, "%s\n\n%s", _(sub->summary), _(sub->help));
}

static int sub_usage_error(const struct certs_sub *sub, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int sub_usage_error(const struct certs_sub *sub, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s certs %s: ", PACKAGE, sub->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized): as in cmd.c */
	va_end(ap);
	fputc('\n', stderr);
	fprintf(stderr, _("Try '%s certs %s --help' for more information.\n"),
		PACKAGE, sub->name);
	return EXIT_USAGE;
}

bool certs_load_cluster(const char *file, struct cluster *c)
{
	struct diag_list diags;
	size_t errors;

	diag_list_init(&diags, file);
	cluster_load(file, c, &diags);
	errors = diag_count(&diags, DIAG_ERROR);
	if (errors)
		diag_print(&diags, stderr);
	diag_list_free(&diags);
	return errors == 0;
}

static void print_report(const struct certs_sub *sub, const struct pki_report *r)
{
	for (size_t i = 0; i < r->notes.n; i++)
		printf("%s\n", r->notes.items[i]);
	for (size_t i = 0; i < r->warnings.n; i++)
		fprintf(stderr, _("%s certs %s: warning: %s\n"), PACKAGE, sub->name,
			r->warnings.items[i]);
	for (size_t i = 0; i < r->errors.n; i++)
		fprintf(stderr, _("%s certs %s: error: %s\n"), PACKAGE, sub->name,
			r->errors.items[i]);
	if (r->errors.n)
		fprintf(stderr, P_("%s certs %s: %zu problem; nothing was written\n",
				   "%s certs %s: %zu problems; nothing was written\n",
				   r->errors.n),
			PACKAGE, sub->name, r->errors.n);
}

/* Display width of a (possibly translated) UTF-8 string. */
static size_t text_width(const char *s)
{
	size_t n = mbstowcs(NULL, s, 0);
	wchar_t *w;
	int width;

	if (n == (size_t)-1)
		return strlen(s);
	w = xcalloc(n + 1, sizeof *w);
	mbstowcs(w, s, n + 1);
	width = wcswidth(w, n);
	free(w);
	return width < 0 ? n : (size_t)width;
}

static void print_cell(const char *s, size_t width, bool last)
{
	size_t w = text_width(s);

	fputs(s, stdout);
	if (last) {
		fputc('\n', stdout);
		return;
	}
	for (; w < width + 3; w++)
		fputc(' ', stdout);
}

#define N_COLS 5
#define MAX_COLS 8

void certs_print_table(char *const *cells, size_t n_rows, size_t n_cols)
{
	size_t width[MAX_COLS] = { 0 };

	for (size_t i = 0; i < n_rows; i++)
		for (size_t j = 0; j < n_cols && j < MAX_COLS; j++)
			if (cells[i * n_cols + j] && text_width(cells[i * n_cols + j]) > width[j])
				width[j] = text_width(cells[i * n_cols + j]);
	for (size_t i = 0; i < n_rows; i++) {
		if (cells[i * n_cols + 1] == NULL) {	/* a !MISSING! line */
			printf("%s\n", cells[i * n_cols]);
			continue;
		}
		for (size_t j = 0; j < n_cols && j < MAX_COLS; j++)
			print_cell(cells[i * n_cols + j] ? cells[i * n_cols + j] : "", width[j], j + 1 == n_cols);
	}
}

/* The store's table: rows of N_COLS cells, n_cols of them shown. */
static void print_table(char *const (*rows)[N_COLS], size_t n_rows, size_t n_cols)
{
	char **flat = xcalloc(n_rows * n_cols + 1, sizeof *flat);

	for (size_t i = 0; i < n_rows; i++)
		for (size_t j = 0; j < n_cols; j++)
			flat[i * n_cols + j] = rows[i][j];
	certs_print_table(flat, n_rows, n_cols);
	free(flat);
}

static int certs_check(const struct pki_store *s, const struct cluster *c,
		       time_t now)
{
	struct pki_status_list l;
	char *(*rows)[N_COLS];
	size_t n_leaf = 1, n_ca = 1, expired = 0, missing = 0;
	struct strlist notes = { NULL, 0 };
	const char *file = c->file ? c->file : "FILE";

	pki_store_status(s, &l);
	rows = xcalloc(l.n + 2, sizeof *rows);
	rows[0][0] = xstrdup(_("CERTIFICATE"));
	rows[0][1] = xstrdup(_("EXPIRES"));
	rows[0][2] = xstrdup(_("RESIDUAL TIME"));
	rows[0][3] = xstrdup(_("CERTIFICATE AUTHORITY"));
	rows[0][4] = xstrdup(_("EXTERNALLY MANAGED"));
	for (size_t i = 0; i < l.n; i++) {
		const struct pki_status *st = &l.items[i];
		/* The CA goes in a second table, after the leaves. */
		size_t row = st->is_ca ? l.n + 1 : n_leaf++;
		char **r = rows[row];
		int64_t left = (int64_t)(st->not_after - now);

		if (st->missing) {
			r[0] = xasprintf("!MISSING! %s", st->name);
			missing++;
			continue;
		}
		if (st->problem) {
			r[0] = xasprintf("!UNREADABLE! %s", st->name);
			strlist_push(&notes, st->problem);
			missing++;
			continue;
		}
		r[0] = xstrdup(st->name);
		r[1] = pki_time_format(st->not_after);
		if (left <= 0) {
			char *msg = xasprintf(_("!EXPIRED! %s expired on %s; run '%s certs renew %s -f %s'"),
					      st->name, r[1], PACKAGE, st->name, file);

			r[2] = xstrdup(_("EXPIRED"));
			strlist_push(&notes, msg);
			free(msg);
			expired++;
		} else {
			r[2] = pki_residual_format(left);
			if (left < PKI_WARN_SECONDS) {
				char *msg = st->is_ca
					? xasprintf(_("!WARNING! %s expires in %s (under 30 days); a new CA needs new certificates everywhere"),
						    st->name, r[2])
					: xasprintf(_("!WARNING! %s expires in %s (under 30 days); run '%s certs renew %s -f %s'"),
						    st->name, r[2], PACKAGE, st->name, file);

				strlist_push(&notes, msg);
				free(msg);
			}
		}
		if (st->is_ca) {
			r[3] = xstrdup(st->externally_managed ? _("yes") : _("no"));
		} else {
			r[3] = xstrdup(PKI_CA_CN);
			r[4] = xstrdup(st->externally_managed ? _("yes") : _("no"));
		}
	}
	print_table((char *const (*)[N_COLS])rows, n_leaf, 5);
	printf("\n");
	rows[l.n][0] = xstrdup(_("CERTIFICATE AUTHORITY"));
	rows[l.n][1] = xstrdup(_("EXPIRES"));
	rows[l.n][2] = xstrdup(_("RESIDUAL TIME"));
	rows[l.n][3] = xstrdup(_("EXTERNALLY MANAGED"));
	print_table((char *const (*)[N_COLS])&rows[l.n], n_ca + 1, 4);
	if (notes.n)
		printf("\n");
	for (size_t i = 0; i < notes.n; i++)
		printf("%s\n", notes.items[i]);
	if (missing)
		fprintf(stderr, _("%s certs check-expiration: %zu certificate(s) missing or unreadable in %s; run '%s certs generate -f %s'\n"),
			PACKAGE, missing, s->dir, PACKAGE, file);
	for (size_t i = 0; i < l.n + 2; i++)
		for (size_t j = 0; j < N_COLS; j++)
			free(rows[i][j]);
	free(rows);
	strlist_free(&notes);
	pki_status_list_free(&l);
	return expired || missing ? EXIT_FAIL : EXIT_OK;
}

static int cmd_certs_exec(int argc, char **argv)
{
	enum { OPT_CA_CERT = 256, OPT_CA_KEY, OPT_HOSTS, OPT_WARN };
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "hosts", no_argument, NULL, OPT_HOSTS },
		{ "warn", required_argument, NULL, OPT_WARN },
		{ "accept-new-host-keys", no_argument, NULL, 'A' },
		{ "ca-cert", required_argument, NULL, OPT_CA_CERT },
		{ "ca-key", required_argument, NULL, OPT_CA_KEY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct certs_sub *sub = NULL;
	const char *file = NULL, *ca_cert = NULL, *ca_key = NULL, *target = NULL;
	struct cluster cluster;
	struct pki_store store;
	struct pki_report report;
	enum wiz_err rc;
	int c, status;
	time_t now;
	bool hosts = false, accept_new = false, warn_set = false;
	uint64_t warn_s = PKI_WARN_SECONDS;

	if (argc < 2) {
		cmd_print_help(&cmd_certs_entry, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		cmd_print_help(&cmd_certs_entry, stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < SUB_COUNT; i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			sub = &subs[i];
	if (sub == NULL)
		return cmd_usage_error(&cmd_certs_entry, _("unknown certs command '%s'"),
				       argv[1]);
	argc--;
	argv++;
	if (sub == &subs[SUB_ROTATE])
		return certs_rotate_exec(argc, argv);
	if (sub == &subs[SUB_ROTATE_CA])
		return certs_rotate_ca_exec(argc, argv);
	optind = 0;
	while ((c = getopt_long(argc, argv, "f:hA", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case OPT_HOSTS:
			hosts = true;
			break;
		case 'A':
			accept_new = true;
			break;
		case OPT_WARN:
			if (!duration_parse(optarg, &warn_s) || warn_s == 0)
				return sub_usage_error(sub, _("--warn: '%s' is not a duration (e.g. 30d, 720h)"), optarg);
			warn_set = true;
			break;
		case OPT_CA_CERT:
			ca_cert = optarg;
			break;
		case OPT_CA_KEY:
			ca_key = optarg;
			break;
		case 'h':
			sub_help(sub, stdout);
			return EXIT_OK;
		default:
			return sub_usage_error(sub, "%s", _("invalid option"));
		}
	}
	if (sub == &subs[SUB_RENEW] && optind < argc)
		target = argv[optind++];
	if (optind < argc)
		return sub_usage_error(sub, _("unexpected argument '%s'"), argv[optind]);
	if (file == NULL)
		return sub_usage_error(sub, "%s", _("a cluster file is needed: -f FILE"));
	if (sub == &subs[SUB_RENEW] && target == NULL)
		return sub_usage_error(sub, "%s", _("say what to renew: NAME or all"));
	if ((warn_set || accept_new) && !hosts)
		return sub_usage_error(sub, "%s", _("--warn and --accept-new-host-keys go with 'check-expiration --hosts'"));
	if (hosts && sub != &subs[SUB_CHECK])
		return sub_usage_error(sub, "%s", _("--hosts belongs to 'certs check-expiration'"));
	if (hosts) {
		gnutls_global_init();
		status = certs_check_hosts(file, warn_s, accept_new);
		gnutls_global_deinit();
		return status;
	}
	if (sub != &subs[SUB_IMPORT] && (ca_cert || ca_key))
		return sub_usage_error(sub, "%s", _("--ca-cert and --ca-key belong to 'certs import'"));
	if (sub == &subs[SUB_IMPORT] && (ca_cert == NULL || ca_key == NULL))
		return sub_usage_error(sub, "%s", _("both --ca-cert CRT and --ca-key KEY are needed"));

	if (!certs_load_cluster(file, &cluster)) {
		fprintf(stderr, _("%s certs %s: fix %s first ('%s validate -f %s')\n"),
			PACKAGE, sub->name, file, PACKAGE, file);
		cluster_free(&cluster);
		return EXIT_FAIL;
	}
	gnutls_global_init();
	pki_store_init(&store, &cluster);
	memset(&report, 0, sizeof report);
	now = time(NULL);
	switch (sub - subs) {
	case SUB_GENERATE:
		rc = pki_store_generate(&store, now, &report);
		print_report(sub, &report);
		status = rc == WIZ_ERR_OK ? EXIT_OK : EXIT_FAIL;
		break;
	case SUB_RENEW:
		rc = pki_store_renew(&store, target, now, &report);
		print_report(sub, &report);
		if (rc == WIZ_ERR_USAGE)
			fprintf(stderr, _("Try '%s certs %s --help' for more information.\n"),
				PACKAGE, sub->name);
		status = rc == WIZ_ERR_OK ? EXIT_OK
			 : rc == WIZ_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL;
		break;
	case SUB_IMPORT:
		rc = pki_store_import(&store, ca_cert, ca_key, now, &report);
		print_report(sub, &report);
		if (rc == WIZ_ERR_OK && report.written.n)
			printf(_("next: '%s certs generate -f %s' makes the members' certificates\n"),
			       PACKAGE, file);
		status = rc == WIZ_ERR_OK ? EXIT_OK : EXIT_FAIL;
		break;
	default:
		status = certs_check(&store, &cluster, now);
		break;
	}
	pki_report_free(&report);
	pki_store_free(&store);
	cluster_free(&cluster);
	gnutls_global_deinit();
	return status;
}

const struct cmd_entry cmd_certs_entry = {
	.name = "certs",
	.args = "generate|check-expiration|renew|import|rotate|rotate-ca -f FILE",
	.summary = N_("make, check and renew the etcd certificates in the local store"),
	.subcommands = "generate check-expiration renew import rotate rotate-ca",
	.help = N_("Commands:\n"
		   "  generate -f FILE           make the etcd CA and member certificates that are missing\n"
		   "  check-expiration -f FILE   show when each certificate expires\n"
		   "  renew NAME|all -f FILE     new key and certificate, same subject and names\n"
		   "  import -f FILE --ca-cert CRT --ca-key KEY\n"
		   "                             use an existing etcd CA\n"
		   "  check-expiration --hosts -f FILE\n"
		   "                             the certificates on the hosts, and the ones served\n"
		   "  rotate [NAME|all] -f FILE  renew and install on the running cluster, one member\n"
		   "                             at a time\n"
		   "  rotate-ca -f FILE          a new etcd CA without downtime, in three phases\n\n"
		   "The store is pki.dir, or $XDG_DATA_HOME/etcdwiz/<cluster>/pki; it holds\n"
		   "ca/etcd/ca.{crt,key} and, per member, members/<name>/ laid out as\n"
		   "/etc/kubernetes/pki on that member.\n\n"
		   "Run 'etcdwiz certs COMMAND --help' for the options of each.\n"),
	.exec = cmd_certs_exec,
};
