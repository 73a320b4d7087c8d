/* `etcdwiz status`: the live health of any kubeadm-style etcd cluster
 * (issue #7). Full-screen on a terminal (ui/tui/dashboard.c); --once prints one
 * table (or -o json) and exits 0 healthy, 1 degraded, 2 no quorum, 3 when
 * it could not run at all or could not observe enough members for a
 * verdict. Without --once and without a terminal it prints a snapshot every
 * interval (JSON: one object a line). On a terminal, passwords are asked
 * once for all hosts, before the first refresh (and before the screen).
 * Read-only: nothing here changes the cluster. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/i18n.h"
#include "base/strutil.h"
#include "base/loop.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "etcd/etcd-ask.h"
#include "etcd/http-tls.h"
#include "health/health-poll.h"
#include "health/health.h"
#include "health/status-format.h"
#include "pki/pki-store.h"
#include "ssh/secret-cache.h"
#include "ssh/ssh.h"
#include "ui/cli/cmd.h"
#include "ui/tui/dashboard.h"

#define STATUS_EXIT_ERROR 3

extern const struct cmd_entry cmd_status_entry;

struct endpoint {
	char *host;
	int port;
};

struct status_run {
	const char *file;
	bool once, json, direct, accept_new, watch;
	double interval_s, timeout_s;
	int metrics_port;
	struct strlist endpoints, ssh_specs;
	const char *cacert, *cert, *key, *identity, *known_hosts;
	struct cluster c;
	bool have_cluster;
};

static void split_into(struct strlist *l, const char *arg)
{
	char *copy = xstrdup(arg), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (*t)
			strlist_push(l, t);
	free(copy);
}

/* USER, USER@HOST or USER@HOST:PORT. */
static bool ssh_spec_parse(const char *spec, char **user, char **host, int *port)
{
	const char *at = strchr(spec, '@');
	char *end;

	*user = xstrndup(spec, at ? (size_t)(at - spec) : strlen(spec));
	*host = NULL;
	*port = 0;
	if (at != NULL) {
		const char *colon = strrchr(at + 1, ':');

		*host = xstrndup(at + 1, colon ? (size_t)(colon - at - 1) : strlen(at + 1));
		if (colon != NULL) {
			long p = strtol(colon + 1, &end, 10);

			if (*end != '\0' || p < 1 || p > 65535)
				return false;
			*port = (int)p;
		}
		if ((*host)[0] == '\0')
			return false;
	}
	return (*user)[0] != '\0';
}

/* The certificates: flags first, else the local PKI store of the cluster
 * file (the CA and the first member's healthcheck-client pair). */
static enum wiz_err load_creds(struct status_run *r, struct http_tls_creds **creds,
			       struct wiz_error *err)
{
	struct pki_store store;
	enum wiz_err rc;

	if (r->cacert || !r->have_cluster) {
		if (!r->cacert || !r->cert || !r->key)
			return wiz_error_set(err, WIZ_ERR_USAGE,
					     _("--cacert, --cert and --key are needed together (for a kubeadm cluster: /etc/kubernetes/pki/etcd/ca.crt, healthcheck-client.crt and healthcheck-client.key)"));
		return http_tls_creds_load(r->cacert, r->cert, r->key, creds, err);
	}
	pki_store_init(&store, &r->c);
	rc = etcd_creds_from_store(&store, creds, err);
	pki_store_free(&store);
	return rc;
}

/* The members to watch: the cluster file's, or --endpoints with --ssh. */
static enum wiz_err add_members(struct status_run *r, struct health_poll *p, struct wiz_error *err)
{
	if (r->have_cluster && r->endpoints.n == 0) {
		health_poll_add_cluster(p, &r->c, r->direct, r->accept_new, NULL);
		return WIZ_ERR_OK;
	}
	if (!r->direct && r->ssh_specs.n != 1 && r->ssh_specs.n != r->endpoints.n)
		return wiz_error_set(err, WIZ_ERR_USAGE,
				     _("--ssh takes one USER[@HOST[:PORT]] for every endpoint, or one USER for all (%zu endpoints, %zu --ssh entries)"),
				     r->endpoints.n, r->ssh_specs.n);
	for (size_t i = 0; i < r->endpoints.n; i++) {
		struct endpoint e = { 0 };
		struct ssh_host_config cfg = { 0 };
		char *user = NULL, *host = NULL;
		int port = 0;
		enum wiz_err rc = WIZ_ERR_OK;

		if (!url_parse(r->endpoints.items[i], 2379, &e.host, &e.port))
			return wiz_error_set(err, WIZ_ERR_USAGE,
					     _("endpoint '%s' is not https://HOST:PORT"),
					     r->endpoints.items[i]);
		if (!r->direct) {
			const char *spec = r->ssh_specs.items[r->ssh_specs.n == 1 ? 0 : i];

			if (!ssh_spec_parse(spec, &user, &host, &port)) {
				rc = wiz_error_set(err, WIZ_ERR_USAGE,
						   _("--ssh '%s' is not USER, USER@HOST or USER@HOST:PORT"),
						   spec);
			} else {
				cfg.name = e.host;
				cfg.address = host ? host : e.host;
				cfg.port = port;
				cfg.user = user;
				cfg.sudo = strcmp(user, "root") != 0;
				cfg.identity_file = r->identity;
				cfg.known_hosts = r->known_hosts;
				cfg.accept_new_host_keys = r->accept_new;
			}
		}
		if (rc == WIZ_ERR_OK)
			health_poll_add(p, e.host, e.host, e.port, r->direct ? NULL : &cfg);
		free(user);
		free(host);
		free(e.host);
		if (rc != WIZ_ERR_OK)
			return rc;
	}
	return WIZ_ERR_OK;
}

static int exit_of(enum health_badge b)
{
	switch (b) {
	case HEALTH_HEALTHY: return 0;
	case HEALTH_DEGRADED: return 1;
	case HEALTH_NO_QUORUM: return 2;
	default: return STATUS_EXIT_ERROR;	/* nothing seen to judge by */
	}
}

struct login_wait {
	struct health_poll *p;
	struct secret_cache *sc;
	unsigned asked;
};

static bool login_done(void *ud)
{
	const struct login_wait *w = ud;

	return !health_poll_logging_in(w->p) || secret_cache_asked(w->sc) != w->asked;
}

/* Every host logs in before the first refresh, so that each question is
 * asked now, on the terminal, once for all hosts. The wait ends when all
 * have, or after one refresh timeout without a question (a host that does
 * not answer is left to the refreshes). A question holds the loop while it
 * waits for the user, so each one starts the timeout again. */
static void login_all(struct loop *loop, struct health_poll *p, struct secret_cache *sc)
{
	struct login_wait w = { p, sc, 0 };
	unsigned rounds = 0;

	health_poll_login(p);
	do {
		w.asked = secret_cache_asked(sc);
		loop_run_until(loop, login_done, &w, loop_now() + health_poll_timeout(p));
	} while (health_poll_logging_in(p) && secret_cache_asked(sc) != w.asked && ++rounds < 100);
	/* The refreshes ask nobody: the screen may own the terminal. */
	secret_cache_set_asking(sc, false);
}

struct wait_once {
	struct health_poll *p;
};

static bool once_done(void *ud)
{
	const struct wait_once *w = ud;

	return health_poll_rounds(w->p) >= 1;
}

static void print_snapshot(struct status_run *r, struct health_cluster *hc, FILE *out)
{
	struct health_eval ev;
	struct wiz_error err = { 0 };

	health_evaluate(hc, loop_now(), &ev);
	if (r->json)
		health_write_json(out, hc, &ev, &err);
	else
		status_print_table(out, r->have_cluster ? r->c.name : NULL, hc, &ev, time(NULL));
	fflush(out);
	health_eval_free(&ev);
}

struct watch_state {
	struct status_run *r;
	struct health_poll *p;
	struct health_cluster *hc;
	uint64_t printed_round;
};

/* Without a terminal: one snapshot each time every member has refreshed. */
static void watch_updated(struct health_poll *p, size_t member, void *ud)
{
	struct watch_state *w = ud;
	uint64_t rounds = health_poll_rounds(p);

	(void)member;
	if (rounds > w->printed_round) {
		w->printed_round = rounds;
		if (!w->r->json)
			fputc('\n', stdout);
		print_snapshot(w->r, w->hc, stdout);
	}
}

static int run(struct status_run *r)
{
	struct loop *loop = loop_new();
	struct ssh_ctx *ssh = NULL;
	struct secret_cache *secrets = NULL;
	struct health_cluster hc;
	struct http_tls_creds *creds = NULL;
	struct health_poll *p = NULL;
	struct wiz_error err = { 0 };
	struct watch_state w = { r, NULL, &hc, 0 };
	struct health_poll_opts o = { 0 };
	int status = STATUS_EXIT_ERROR;
	/* The dashboard's scripted mode (tests) needs no terminal. */
	const char *script = getenv("ETCDWIZ_UI_SCRIPT");
	bool tty = (isatty(STDOUT_FILENO) && isatty(STDIN_FILENO)) || (script && *script);

	health_cluster_init(&hc);
	if (load_creds(r, &creds, &err) != WIZ_ERR_OK) {
		fprintf(stderr, "%s status: %s\n", PACKAGE, err.msg);
		goto out;
	}
	/* Questions only with someone at a terminal to answer them. */
	if (!r->direct && isatty(STDIN_FILENO))
		secrets = secret_cache_new(secret_prompt_tty, NULL);
	if (!r->direct) {
		struct ssh_callbacks cb = { NULL, secret_cache_on_secret, secrets };

		ssh = ssh_ctx_new(loop, secrets ? &cb : NULL);
	}
	o.loop = loop;
	o.ssh = ssh;
	o.creds = creds;
	o.direct = r->direct;
	o.interval_ms = (unsigned)(r->interval_s * 1000.0);
	o.timeout_ms = r->timeout_s > 0 ? (unsigned)(r->timeout_s * 1000.0) : r->once ? 5000 : 0;
	o.data_dir = r->have_cluster ? r->c.etcd.data_dir : NULL;
	o.backup_dir = r->have_cluster ? r->c.backup.dir : NULL;
	o.metrics_port = r->metrics_port;
	if (!r->once && !tty) {
		o.updated = watch_updated;
		o.ud = &w;
	}
	p = health_poll_new(&o, &hc);
	w.p = p;
	if (add_members(r, p, &err) != WIZ_ERR_OK) {
		fprintf(stderr, "%s status: %s\n", PACKAGE, err.msg);
		goto out;
	}
	if (secrets != NULL)
		login_all(loop, p, secrets);
	health_poll_start(p);
	if (r->once) {
		struct wait_once wo = { p };
		struct health_eval ev;

		/* Every member has its own deadline; this one only guards. */
		loop_run_until(loop, once_done, &wo, loop_now() + 4ull * o.timeout_ms + 30000);
		print_snapshot(r, &hc, stdout);
		health_evaluate(&hc, loop_now(), &ev);
		status = exit_of(ev.badge);
		health_eval_free(&ev);
	} else if (tty) {
		struct dashboard_opts d = {
			.loop = loop,
			.poll = p,
			.cluster = &hc,
			.title = r->have_cluster ? r->c.name : NULL,
		};

		status = dashboard_run(&d, &err) == WIZ_ERR_OK ? 0 : STATUS_EXIT_ERROR;
		if (status != 0)
			fprintf(stderr, "%s status: %s\n", PACKAGE, err.msg);
	} else {
		/* Until interrupted. */
		while (loop_run_once(loop, -1) == WIZ_ERR_OK)
			;
		status = 0;
	}
out:
	health_poll_free(p);
	health_cluster_free(&hc);
	http_tls_creds_free(creds);
	ssh_ctx_free(ssh);
	secret_cache_free(secrets);
	loop_free(loop);
	return status;
}

static int status_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "once", no_argument, NULL, '1' },
		{ "output", required_argument, NULL, 'o' },
		{ "interval", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "direct", no_argument, NULL, 'D' },
		{ "endpoints", required_argument, NULL, 'e' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "ssh", required_argument, NULL, 's' },
		{ "identity", required_argument, NULL, 'i' },
		{ "known-hosts", required_argument, NULL, 'K' },
		{ "accept-new-host-keys", no_argument, NULL, 'A' },
		{ "metrics-port", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd_entry *entry = &cmd_status_entry;
	struct status_run r;
	struct diag_list diags;
	int c, status = STATUS_EXIT_ERROR;
	char *end;

	memset(&r, 0, sizeof r);
	r.interval_s = HEALTH_POLL_INTERVAL_MS / 1000.0;
	while ((c = getopt_long(argc, argv, "+f:o:n:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': r.file = optarg; break;
		case '1': r.once = true; break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				r.json = true;
			else if (strcmp(optarg, "table") != 0)
				goto usage_output;
			break;
		case 'n':
		case 't': {
			double v = strtod(optarg, &end);

			if (end == optarg || *end != '\0' || !(v > 0) || v > 3600) {
				cmd_usage_error(entry, _("%s wants a number of seconds, not '%s'"),
						c == 'n' ? "--interval" : "--timeout", optarg);
				goto out;
			}
			if (c == 'n' && v < HEALTH_POLL_MIN_INTERVAL_MS / 1000.0) {
				cmd_usage_error(entry, _("--interval is at least %.1f seconds"),
						HEALTH_POLL_MIN_INTERVAL_MS / 1000.0);
				goto out;
			}
			*(c == 'n' ? &r.interval_s : &r.timeout_s) = v;
			break;
		}
		case 'D': r.direct = true; break;
		case 'e': split_into(&r.endpoints, optarg); break;
		case 'C': r.cacert = optarg; break;
		case 'c': r.cert = optarg; break;
		case 'k': r.key = optarg; break;
		case 's': split_into(&r.ssh_specs, optarg); break;
		case 'i': r.identity = optarg; break;
		case 'K': r.known_hosts = optarg; break;
		case 'A': r.accept_new = true; break;
		case 'M': {
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end != '\0' || v < 0 || v > 65535) {
				cmd_usage_error(entry, _("--metrics-port wants a port number (0 = do not read /metrics), not '%s'"),
						optarg);
				goto out;
			}
			r.metrics_port = v == 0 ? -1 : (int)v;
			break;
		}
		case 'h':
			cmd_print_help(entry, stdout);
			status = EXIT_OK;
			goto out;
		default:
			cmd_usage_error(entry, _("invalid option"));
			goto out;
		}
	}
	if (optind < argc) {
		cmd_usage_error(entry, _("unexpected argument"));
		goto out;
	}
	if (r.file == NULL && r.endpoints.n == 0) {
		cmd_usage_error(entry, _("say which cluster: -f FILE, or --endpoints with --cacert, --cert, --key (and --ssh or --direct)"));
		goto out;
	}
	if (r.file == NULL && !r.direct && r.ssh_specs.n == 0) {
		cmd_usage_error(entry, _("without a cluster file, give --ssh USER (etcd's metrics port only listens on the host itself) or --direct"));
		goto out;
	}
	if (r.file != NULL) {
		diag_list_init(&diags, r.file);
		if (cluster_load(r.file, &r.c, &diags) != WIZ_ERR_OK) {
			diag_print(&diags, stderr);
			diag_list_free(&diags);
			cluster_free(&r.c);
			goto out;
		}
		diag_list_free(&diags);
		r.have_cluster = true;
	}
	status = run(&r);
	if (r.have_cluster)
		cluster_free(&r.c);
out:
	strlist_free(&r.endpoints);
	strlist_free(&r.ssh_specs);
	return status;
usage_output:
	cmd_usage_error(entry, _("-o takes 'table' or 'json'"));
	goto out;
}

const struct cmd_entry cmd_status_entry = {
	"status",
	"[-f FILE | --endpoints URL,... --cacert F --cert F --key F (--ssh USER[@HOST[:PORT]],... | --direct)] [--once] [-o table|json] [--interval S]",
	N_("Show the live health of an etcd cluster (read-only)"),
	N_("  -f, --file FILE        the cluster file; certificates from its PKI store\n"
	   "      --once             print the status once and exit: 0 healthy, 1 degraded,\n"
	   "                         2 no quorum, 3 could not run or not enough members\n"
	   "                         observed for a verdict (SSH login or connection failed)\n"
	   "  -o, --output FORMAT    table (default) or json\n"
	   "  -n, --interval S       refresh every S seconds (default 2, at least 0.5)\n"
	   "  -t, --timeout S        give up on a member's refresh after S seconds\n"
	   "                         (default: the interval, at least 2; 5 with --once)\n"
	   "      --endpoints URLS   client URLs (https://HOST:2379,...) instead of a file\n"
	   "      --cacert FILE      the etcd CA certificate\n"
	   "      --cert FILE        a client certificate (healthcheck-client.crt)\n"
	   "      --key FILE         its key\n"
	   "      --ssh SPEC,...     reach each member through SSH: USER for all, or\n"
	   "                         USER@HOST[:PORT] per endpoint (non-root uses sudo)\n"
	   "      --identity FILE    SSH identity file\n"
	   "      --known-hosts FILE SSH known_hosts file\n"
	   "      --accept-new-host-keys  trust and save unknown SSH host keys\n"
	   "      --metrics-port N   etcd's metrics port on each member's loopback\n"
	   "                         (default 2381 as kubeadm sets it; 0 = none)\n"
	   "      --direct           connect from here to the endpoints, not through SSH\n"
	   "                         (then no /metrics unless the endpoint is this machine,\n"
	   "                         and no host checks)\n"
	   "On a terminal it runs full-screen; otherwise it prints a snapshot on every\n"
	   "refresh (with -o json one JSON object a line) until interrupted. On a\n"
	   "terminal a password or sudo password is asked once for every host with the\n"
	   "same user, before the first refresh. A member whose SSH login or connection\n"
	   "fails is unknown, not down.\n"),
	NULL,
	status_exec,
};
