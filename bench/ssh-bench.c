/* Benchmark helper (not a test, not installed): etcdwiz's side of
 * bench/ssh-bench.sh. Loads a cluster file and, on every member at once
 * through the one event loop (one process, no threads):
 *
 *   A. connects, authenticates and runs `true`            (connect+exec)
 *   B. uploads FILE to REMOTE over the sessions of A       (upload)
 *   C. on new sessions: connects and uploads FILE again    (connect+upload)
 *
 * and, to show where B's time goes, on the sessions of A:
 *
 *   D. an atomic upload of 1 byte: the fixed cost          (upload_1b)
 *   E. FILE's bytes into `cat >/dev/null`: the raw stream  (stream)
 *
 * then removes REMOTE (untimed) and disconnects. A is timed from the start
 * of main, so it includes loading the cluster file and initialising
 * libssh2/GnuTLS, as an admin's command would. Uploads are etcdwiz's atomic
 * ones (dot-named temp file, size and SHA-256 checked, fsync, rename, fsync
 * of the directory). Output, one line, milliseconds:
 *
 *   hosts=N connect_exec_ms=A upload_ms=B connect_upload_ms=C upload_1b_ms=D
 *   stream_ms=E slowest_connect_ms=K bytes=SIZE
 *
 * Usage: ssh-bench [-v] [-r REMOTE_PATH] CLUSTER_FILE FILE
 * Exit 0 when every host did everything, 1 when one failed, 2 on usage. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/error.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/shquote.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "ssh/ssh.h"

#define PHASE_MS 120000u	/* a bound per phase, far above any expected time */

struct job {
	struct ssh_session *s;
	bool done;
	bool connected;
	enum wiz_err code;
	uint64_t t_connected;
};

struct phase {
	struct job *jobs;
	size_t n;
	const char *what;
	int failures;
};

static void on_connect(struct ssh_session *s, enum wiz_err code,
		       const struct wiz_error *err, void *ud)
{
	struct job *j = ud;

	(void)s;
	j->connected = code == WIZ_ERR_OK;
	j->t_connected = loop_now();
	(void)err;	/* a failed connect also fails the queued operation */
}

static void on_done(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct job *j = ud;

	j->done = true;
	j->code = r->code;
	if (r->code != WIZ_ERR_OK)
		fprintf(stderr, "ssh-bench: %s: %s\n",
			ssh_session_name(ssh_op_session(op)), r->err.msg);
}

static bool phase_done(void *ud)
{
	const struct phase *p = ud;

	for (size_t i = 0; i < p->n; i++)
		if (!p->jobs[i].done)
			return false;
	return true;
}

static bool all_closed(void *ud)
{
	const struct phase *p = ud;

	for (size_t i = 0; i < p->n; i++) {
		enum ssh_state st = ssh_session_state(p->jobs[i].s);

		if (st != SSH_S_CLOSED && st != SSH_S_FAILED && st != SSH_S_IDLE)
			return false;
	}
	return true;
}

/* Runs the loop until every job of p is done; returns the elapsed ms. */
static uint64_t run_phase(struct loop *loop, struct phase *p, uint64_t t0)
{
	enum wiz_err rc = loop_run_until(loop, phase_done, p, loop_now() + PHASE_MS);

	if (rc != WIZ_ERR_OK) {
		fprintf(stderr, "ssh-bench: %s: the loop stopped: %s\n", p->what,
			wiz_err_name(rc));
		p->failures++;
	}
	for (size_t i = 0; i < p->n; i++)
		if (!p->jobs[i].done || p->jobs[i].code != WIZ_ERR_OK)
			p->failures++;
	return loop_now() - t0;
}

static void new_sessions(struct ssh_ctx *ctx, const struct cluster *c,
			 struct phase *p, const char *what)
{
	p->n = c->n_members;
	p->what = what;
	p->failures = 0;
	p->jobs = xcalloc(p->n, sizeof *p->jobs);
	for (size_t i = 0; i < p->n; i++) {
		struct ssh_host_config cfg;

		ssh_host_config_from_cluster(c, &c->members[i], &cfg);
		p->jobs[i].s = ssh_session_new(ctx, &cfg);
	}
}

static void reset_jobs(struct phase *p)
{
	for (size_t i = 0; i < p->n; i++) {
		p->jobs[i].done = false;
		p->jobs[i].code = WIZ_ERR_OK;
	}
}

static void start_uploads(struct phase *p, const char *remote, const char *data,
			  size_t len)
{
	const struct ssh_upload_opts uo = {
		.path = remote, .data = data, .len = len, .mode = 0644,
	};

	reset_jobs(p);
	for (size_t i = 0; i < p->n; i++)
		ssh_upload(p->jobs[i].s, &uo, on_done, &p->jobs[i]);
}

static void start_streams(struct phase *p, const char *data, size_t len)
{
	const struct ssh_exec_opts eo = { .input = data, .input_len = len, .check = true };

	reset_jobs(p);
	for (size_t i = 0; i < p->n; i++)
		ssh_exec(p->jobs[i].s, "cat >/dev/null", &eo, on_done, &p->jobs[i]);
}

static void close_sessions(struct loop *loop, struct phase *p)
{
	for (size_t i = 0; i < p->n; i++)
		ssh_session_disconnect(p->jobs[i].s);
	loop_run_until(loop, all_closed, p, loop_now() + 3000);
	for (size_t i = 0; i < p->n; i++)
		ssh_session_free(p->jobs[i].s);
	free(p->jobs);
	p->jobs = NULL;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	char *data;

	if (f == NULL || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "ssh-bench: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	data = xmalloc((size_t)st.st_size + 1);
	*len = fread(data, 1, (size_t)st.st_size, f);
	fclose(f);
	return data;
}

static void usage(void)
{
	fprintf(stderr, "usage: ssh-bench [-v] [-r REMOTE_PATH] CLUSTER_FILE FILE\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t t0 = loop_now(), t_exec, t_upload = 0, t_fresh = 0, t_small = 0,
		 t_stream = 0, slowest = 0;
	const char *remote = "/tmp/etcdwiz-ssh-bench.bin";
	struct cluster c;
	struct diag_list diags;
	struct loop *loop;
	struct ssh_ctx *ctx;
	struct phase a = { 0 }, b = { 0 };
	char *data, *rm_cmd, *q;
	size_t len;
	int opt, failures;

	while ((opt = getopt(argc, argv, "vr:")) != -1) {
		switch (opt) {
		case 'v':
			wiz_log_set_level(WIZ_LOG_DEBUG);
			break;
		case 'r':
			remote = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || remote[0] != '/')
		usage();

	diag_list_init(&diags, argv[optind]);
	if (cluster_load(argv[optind], &c, &diags) != WIZ_ERR_OK) {
		diag_print(&diags, stderr);
		diag_list_free(&diags);
		cluster_free(&c);
		return 2;
	}
	diag_list_free(&diags);
	loop = loop_new();
	ctx = ssh_ctx_new(loop, NULL);	/* non-interactive: pinned keys only */

	/* A: connect + `true` on every member at once. */
	new_sessions(ctx, &c, &a, "connect+exec");
	reset_jobs(&a);
	for (size_t i = 0; i < a.n; i++) {
		const struct ssh_exec_opts eo = { .check = true };

		ssh_session_connect(a.jobs[i].s, on_connect, &a.jobs[i]);
		ssh_exec(a.jobs[i].s, "true", &eo, on_done, &a.jobs[i]);
	}
	t_exec = run_phase(loop, &a, t0);
	for (size_t i = 0; i < a.n; i++)
		if (a.jobs[i].connected && a.jobs[i].t_connected - t0 > slowest)
			slowest = a.jobs[i].t_connected - t0;

	/* B: the file over the open sessions. */
	data = slurp(argv[optind + 1], &len);
	if (a.failures == 0) {
		uint64_t t1 = loop_now();

		start_uploads(&a, remote, data, len);
		t_upload = run_phase(loop, &a, t1);
	}

	/* C: new sessions, connect + upload. */
	new_sessions(ctx, &c, &b, "connect+upload");
	if (a.failures == 0) {
		uint64_t t2 = loop_now();

		start_uploads(&b, remote, data, len);	/* queued: starts the connect */
		t_fresh = run_phase(loop, &b, t2);
	}

	/* D and E, on the sessions of A. */
	if (a.failures == 0) {
		uint64_t t3 = loop_now(), t4;

		start_uploads(&a, remote, data, len > 0 ? 1 : 0);
		t_small = run_phase(loop, &a, t3);
		t4 = loop_now();
		start_streams(&a, data, len);
		t_stream = run_phase(loop, &a, t4);
	}

	/* Untimed: remove the file, then leave. */
	q = sh_quote(remote);
	rm_cmd = xasprintf("rm -f -- %s", q);
	free(q);
	if (a.failures == 0) {
		reset_jobs(&a);
		for (size_t i = 0; i < a.n; i++) {
			const struct ssh_exec_opts eo = { .check = true };

			ssh_exec(a.jobs[i].s, rm_cmd, &eo, on_done, &a.jobs[i]);
		}
		run_phase(loop, &a, loop_now());
	}
	free(rm_cmd);
	failures = a.failures + b.failures;
	close_sessions(loop, &b);
	close_sessions(loop, &a);
	ssh_ctx_free(ctx);
	loop_free(loop);

	printf("hosts=%zu connect_exec_ms=%llu upload_ms=%llu connect_upload_ms=%llu "
	       "upload_1b_ms=%llu stream_ms=%llu slowest_connect_ms=%llu bytes=%zu\n",
	       c.n_members, (unsigned long long)t_exec, (unsigned long long)t_upload,
	       (unsigned long long)t_fresh, (unsigned long long)t_small,
	       (unsigned long long)t_stream, (unsigned long long)slowest, len);
	free(data);
	cluster_free(&c);
	return failures == 0 ? 0 : 1;
}
