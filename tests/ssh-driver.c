/* Test driver for the SSH transport (tests/ssh-local.sh): runs one
 * operation on one or more hosts in parallel through the shared loop and
 * prints machine-readable result lines on stderr:
 *   result HOST code=ID exit=N signal=SIG ms=T
 *   error HOST: message
 * Secrets come from files (never argv/env), as a UI would supply them. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/shquote.h"
#include "base/xmalloc.h"
#include "ssh/ssh.h"

static const char *const err_ids[] = {
#define ERR_ID(id, msg) #id,
	WIZ_ERR_INFO(ERR_ID)
#undef ERR_ID
};

struct opt {
	const char *password_file, *sudo_password_file, *passphrase_file;
	const char *answer;
};

static struct opt opt;

struct job {
	struct ssh_session *s;
	struct ssh_op *op;
	bool done;
	enum wiz_err code;
	bool print_out;
	struct ssh_stream *stream;
	const char *send;
	size_t sent;
	char *got;
	size_t got_len;
	bool tunnel_done;
};

static char *read_secret(const char *path)
{
	char buf[512];
	FILE *f;
	size_t n;

	if (path == NULL)
		return NULL;
	f = fopen(path, "re");
	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

static void on_secret(struct ssh_session *s, const struct ssh_secret_request *req,
		      void *ud)
{
	static const char *const kinds[] = { "passphrase", "password", "sudo" };
	const char *file = req->kind == SSH_SECRET_PASSPHRASE ? opt.passphrase_file
			   : req->kind == SSH_SECRET_PASSWORD ? opt.password_file
							      : opt.sudo_password_file;

	(void)ud;
	fprintf(stderr, "asked %s %s attempt %u\n", ssh_session_name(s),
		kinds[req->kind], req->attempt);
	ssh_session_secret_answer(s, read_secret(file));
}

static void on_hostkey(struct ssh_session *s, const struct ssh_hostkey_info *i,
		       void *ud)
{
	(void)ud;
	fprintf(stderr, "hostkey-prompt %s %s %s\n", i->name, i->key_type,
		i->fingerprint);
	if (strcmp(opt.answer, "save") == 0)
		ssh_session_hostkey_answer(s, SSH_HOSTKEY_ACCEPT_SAVE);
	else if (strcmp(opt.answer, "once") == 0)
		ssh_session_hostkey_answer(s, SSH_HOSTKEY_ACCEPT_ONCE);
	else
		ssh_session_hostkey_answer(s, SSH_HOSTKEY_REJECT);
}

static void report(struct job *j, struct ssh_result *r)
{
	const char *name = ssh_session_name(j->s);

	j->done = true;
	j->code = r->code;
	if (j->print_out) {
		fwrite(r->out, 1, r->out_len, stdout);
		fflush(stdout);
		fwrite(r->errout, 1, r->err_len, stderr);
	}
	fprintf(stderr, "result %s code=%s exit=%d signal=%s ms=%llu\n", name,
		err_ids[r->code], r->exit_status,
		r->exit_signal[0] ? r->exit_signal : "-",
		(unsigned long long)r->elapsed_ms);
	if (r->code != WIZ_ERR_OK)
		fprintf(stderr, "error %s: %s\n", name, r->err.msg);
}

static void on_done(struct ssh_op *op, struct ssh_result *r, void *ud)
{
	struct job *j = ud;

	(void)op;
	if (r->stream != NULL) {
		j->stream = r->stream;
		return;
	}
	report(j, r);
}

static void stream_pump(struct ssh_stream *st, void *ud)
{
	struct job *j = ud;
	char buf[4096];
	ssize_t n;

	while (j->send != NULL && j->sent < strlen(j->send)) {
		n = ssh_stream_write(st, j->send + j->sent, strlen(j->send) - j->sent);
		if (n < 0)
			break;
		j->sent += (size_t)n;
	}
	while ((n = ssh_stream_read(st, buf, sizeof buf)) > 0) {
		j->got = xreallocarray(j->got, j->got_len + (size_t)n + 1, 1);
		memcpy(j->got + j->got_len, buf, (size_t)n);
		j->got_len += (size_t)n;
		j->got[j->got_len] = '\0';
	}
	if (n == 0 || (n < 0 && errno != EAGAIN))
		j->tunnel_done = true;
}

static bool all_done(void *ud)
{
	struct job **jobs = ud;

	for (size_t i = 0; jobs[i] != NULL; i++)
		if (!jobs[i]->done)
			return false;
	return true;
}

static bool tunnel_open_done(void *ud)
{
	struct job *j = ud;

	return j->done || j->stream != NULL;
}

static bool tunnel_done(void *ud)
{
	struct job *j = ud;

	return j->tunnel_done || j->done;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *data;
	struct stat st;

	if (f == NULL || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "ssh-driver: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	data = xmalloc((size_t)st.st_size + 1);
	*len = fread(data, 1, (size_t)st.st_size, f);
	fclose(f);
	return data;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ssh-driver [-H addr:port]... [-u user] [-i identity] [-k known_hosts]\n"
		"  [-P SHA256:pin] [-A] [-s] [-a] [-t op_ms] [-c connect_ms] [-K keepalive_s] [-v]\n"
		"  [--password-file F] [--sudo-password-file F] [--passphrase-file F]\n"
		"  [--answer reject|once|save] [-n sessions-per-host]\n"
		"  exec CMD | exec-root CMD | upload LOCAL REMOTE MODE [OWNER] |\n"
		"  upload-root LOCAL REMOTE MODE [OWNER] | read PATH | read-root PATH |\n"
		"  tunnel HOST PORT LINE | connect | exec-argv ARG... | exec-argv-root ARG...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "password-file", required_argument, NULL, 1 },
		{ "sudo-password-file", required_argument, NULL, 2 },
		{ "passphrase-file", required_argument, NULL, 3 },
		{ "answer", required_argument, NULL, 4 },
		{ NULL, 0, NULL, 0 },
	};
	struct ssh_host_config base = { 0 };
	const char *hosts[16];
	size_t n_hosts = 0, per_host = 1, n_jobs;
	struct loop *loop;
	struct ssh_ctx *ctx;
	struct ssh_callbacks cb = { .secret_needed = on_secret };
	struct job **jobs;
	const char *cmd;
	char *data = NULL, *send_line = NULL;
	size_t data_len = 0;
	int c, status = 0;
	uint64_t t0;

	while ((c = getopt_long(argc, argv, "+H:u:i:k:P:Asat:c:K:vn:", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'H': if (n_hosts < 16) hosts[n_hosts++] = optarg; break;
		case 'u': base.user = optarg; break;
		case 'i': base.identity_file = optarg; break;
		case 'k': base.known_hosts = optarg; break;
		case 'P': base.pinned_fingerprint = optarg; break;
		case 'A': base.accept_new_host_keys = true; break;
		case 's': base.sudo = true; break;
		case 'a': base.no_agent = true; break;
		case 't': base.op_timeout_ms = (unsigned)atoi(optarg); break;
		case 'c': base.connect_timeout_ms = (unsigned)atoi(optarg); break;
		case 'K': base.keepalive_interval_s = (unsigned)atoi(optarg); break;
		case 'v': wiz_log_set_level(WIZ_LOG_DEBUG); break;
		case 'n': per_host = (size_t)atoi(optarg); break;
		case 1: opt.password_file = optarg; break;
		case 2: opt.sudo_password_file = optarg; break;
		case 3: opt.passphrase_file = optarg; break;
		case 4: opt.answer = optarg; break;
		default: usage();
		}
	}
	if (optind >= argc || n_hosts == 0 || per_host == 0 || per_host > 64)
		usage();
	cmd = argv[optind];
	if (opt.answer != NULL)
		cb.hostkey_unknown = on_hostkey;

	loop = loop_new();
	ctx = ssh_ctx_new(loop, &cb);
	n_jobs = n_hosts * per_host;
	jobs = xcalloc(n_jobs + 1, sizeof *jobs);
	if (strncmp(cmd, "upload", 6) == 0) {
		if (argc - optind < 4)
			usage();
		data = slurp(argv[optind + 1], &data_len);
	}
	t0 = loop_now();
	for (size_t i = 0; i < n_jobs; i++) {
		struct ssh_host_config cfg = base;
		char *addr = xstrdup(hosts[i / per_host]), *colon = strrchr(addr, ':');
		char name[64];
		struct job *j = xcalloc(1, sizeof *j);

		if (colon != NULL) {
			*colon = '\0';
			cfg.port = atoi(colon + 1);
		}
		if (addr[0] == '[') {
			memmove(addr, addr + 1, strlen(addr));
			addr[strcspn(addr, "]")] = '\0';
		}
		cfg.address = addr;
		snprintf(name, sizeof name, "h%zu", i + 1);
		cfg.name = name;
		j->s = ssh_session_new(ctx, &cfg);
		j->print_out = n_jobs == 1;
		jobs[i] = j;
		free(addr);

		if (strcmp(cmd, "exec") == 0 || strcmp(cmd, "exec-root") == 0) {
			struct ssh_exec_opts eo = { .as_root = cmd[4] == '-' };

			if (argc - optind < 2)
				usage();
			j->op = ssh_exec(j->s, argv[optind + 1], &eo, on_done, j);
		} else if (strcmp(cmd, "exec-argv") == 0 ||
			   strcmp(cmd, "exec-argv-root") == 0) {
			/* printf '[%s]\n' ARGS... built with sh_join: the
			 * quoting round trip through the remote shell(s). */
			struct ssh_exec_opts eo = { .as_root = cmd[9] == '-' };
			size_t na = (size_t)(argc - optind - 1);
			const char **av = xcalloc(na + 3, sizeof *av);
			char *line;

			av[0] = "printf";
			av[1] = "[%s]\n";
			for (size_t k = 0; k < na; k++)
				av[k + 2] = argv[optind + 1 + (int)k];
			line = sh_join(av);
			j->op = ssh_exec(j->s, line, &eo, on_done, j);
			free(line);
			free(av);
		} else if (strcmp(cmd, "upload") == 0 ||
			   strcmp(cmd, "upload-root") == 0) {
			struct ssh_upload_opts uo = {
				.path = argv[optind + 2], .data = data,
				.len = data_len,
				.mode = (mode_t)strtoul(argv[optind + 3], NULL, 8),
				.owner = argc - optind > 4 ? argv[optind + 4] : NULL,
				.as_root = cmd[6] == '-',
			};

			j->op = ssh_upload(j->s, &uo, on_done, j);
		} else if (strcmp(cmd, "read") == 0 || strcmp(cmd, "read-root") == 0) {
			if (argc - optind < 2)
				usage();
			j->op = ssh_read_file(j->s, argv[optind + 1], cmd[4] == '-',
					      0, on_done, j);
		} else if (strcmp(cmd, "tunnel") == 0) {
			if (argc - optind < 4)
				usage();
			j->send = send_line = xasprintf("%s\n", argv[optind + 3]);
			j->op = ssh_tunnel_open(j->s, argv[optind + 1],
						atoi(argv[optind + 2]), on_done, j);
		} else if (strcmp(cmd, "connect") == 0) {
			struct wiz_error e;
			enum wiz_err rc = ssh_session_connect_sync(j->s, &e);

			j->done = true;
			j->code = rc;
			fprintf(stderr, "result %s code=%s hostkey=%s %s\n",
				ssh_session_name(j->s), err_ids[rc],
				ssh_session_hostkey_type(j->s) ? ssh_session_hostkey_type(j->s) : "-",
				ssh_session_hostkey_fingerprint(j->s) ? ssh_session_hostkey_fingerprint(j->s) : "-");
			if (rc != WIZ_ERR_OK)
				fprintf(stderr, "error %s: %s\n",
					ssh_session_name(j->s), e.msg);
		} else {
			usage();
		}
	}
	if (strcmp(cmd, "tunnel") == 0) {
		struct job *j = jobs[0];

		loop_run_until(loop, tunnel_open_done, j, loop_now() + 60000);
		if (j->stream != NULL) {
			ssh_stream_set_notify(j->stream, stream_pump, j);
			stream_pump(j->stream, j);
			loop_run_until(loop, tunnel_done, j, loop_now() + 30000);
			if (j->got != NULL)
				fwrite(j->got, 1, j->got_len, stdout);
			fprintf(stderr, "result %s code=OK tunnel-bytes=%zu\n",
				ssh_session_name(j->s), j->got_len);
			ssh_stream_close(j->stream);
			j->code = j->tunnel_done ? WIZ_ERR_OK : WIZ_ERR_TIMEOUT;
		}
	} else if (loop_run_until(loop, all_done, jobs, loop_now() + 600000) !=
		   WIZ_ERR_OK) {
		fprintf(stderr, "ssh-driver: loop did not finish\n");
		status = 3;
	}
	fprintf(stderr, "elapsed-ms %llu\n", (unsigned long long)(loop_now() - t0));
	for (size_t i = 0; i < n_jobs; i++) {
		if (jobs[i]->code != WIZ_ERR_OK && status == 0)
			status = 1;
		free(jobs[i]->got);
		free(jobs[i]);
	}
	free(jobs);
	free(data);
	free(send_line);
	ssh_ctx_free(ctx);
	loop_free(loop);
	return status;
}
