/* The built-in lab (see lab.h for the layout). Local tools run through
 * fork/execvp with an argv, never through a shell: ip, systemd-nspawn,
 * debootstrap, chroot and ssh-keygen. Mounts use mount(2) directly. */
#include "config.h"

#include "lab/lab.h"
#include "lab/lab-internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/strutil.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"

#ifndef PKGLIBEXECDIR
#define PKGLIBEXECDIR "/usr/local/libexec/etcdwiz"
#endif

/* What debootstrap puts into the base tree (the same names in Debian 12
 * and 13). */
#define LAB_PACKAGES                                                        \
	"systemd,systemd-sysv,dbus,openssh-server,sudo,etcd-server,"        \
	"etcd-client,iproute2,iputils-ping,kmod,procps,ca-certificates,"    \
	"curl,libyaml-0-2,less"
#define LAB_DEFAULT_MIRROR "http://deb.debian.org/debian"
#define LAB_BASE_STAMP "/etc/etcdwiz-lab-base"
#define LAB_MAX_HOSTS (LAB_MAX_MEMBERS + 1)
#define LAB_STOP_TIMEOUT 20	/* seconds for a container to power off */

struct lab_host {
	char name[16];		/* etcd-1 .. etcd-7, cp-1 */
	char addr[24];
	char netns[48];
	char veth[32];		/* at most 15 in practice (IFNAMSIZ) */
	char *dir;		/* LAB_DIR/hosts/NAME */
	char *root;		/* .../root, the mounted overlay */
	pid_t started;		/* nspawn we forked in this run, else 0 */
};

/* The Debian releases a lab host can run: each has its own base tree,
 * debootstrapped once from this machine's mirror. */
struct lab_release {
	const char *suite;	/* bookworm */
	const char *debian;	/* "12" */
	const char *base;	/* its base tree */
	const char *log;	/* debootstrap's log */
};

static const struct lab_release lab_releases[] = {
	{ "bookworm", "12", LAB_DIR "/base", LAB_DIR "/base-build.log" },
	{ "trixie", "13", LAB_DIR "/base-trixie", LAB_DIR "/base-trixie-build.log" },
};

static const struct lab_release *release_find(const char *suite)
{
	for (size_t i = 0; i < sizeof lab_releases / sizeof lab_releases[0]; i++)
		if (strcmp(lab_releases[i].suite, suite) == 0)
			return &lab_releases[i];
	return NULL;
}

struct lab_state {
	bool present;
	int members;
	bool control_plane;
	char release[16];	/* bookworm, trixie */
	bool netns_dir_was_mounted;
	bool nspawn_dir_existed;
	char etcd[32];		/* the etcd version in the cluster file */
};

struct lab_run {
	const struct lab_options *opt;
	struct lab_state st;
	const struct lab_release *rel;
	struct lab_host hosts[LAB_MAX_HOSTS];
	size_t n_hosts;
};

static const char *const tool_packages[][2] = {
	{ "ip", "iproute2" },
	{ "systemd-nspawn", "systemd-container" },
	{ "ssh-keygen", "openssh-client" },
	{ "chroot", "coreutils" },
	{ "debootstrap", "debootstrap" },
	{ "apt-get", "apt" },
	{ "dpkg-deb", "dpkg" },
};

static void progress(const struct lab_options *opt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void progress(const struct lab_options *opt, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (opt != NULL && opt->progress != NULL) {
		fprintf(opt->progress, "lab: %s\n", msg);
		fflush(opt->progress);
	}
	free(msg);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- running local tools ------------------------------------------------ */

static char *find_in_path(const char *tool)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL;

	if (path == NULL || path[0] == '\0')
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *cand = xasprintf("%s/%s", dir, tool);

		if (access(cand, X_OK) == 0) {
			found = cand;
			break;
		}
		free(cand);
	}
	free(copy);
	/* Root's tools live in sbin, which a sudo'd PATH may lack. */
	if (found == NULL) {
		static const char *const sbins[] = { "/usr/sbin", "/sbin" };

		for (size_t i = 0; i < 2 && found == NULL; i++) {
			char *cand = xasprintf("%s/%s", sbins[i], tool);

			if (access(cand, X_OK) == 0)
				found = cand;
			else
				free(cand);
		}
	}
	return found;
}

static void close_fds_from(int lowfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
		return;
#endif
	for (long fd = lowfd, max = sysconf(_SC_OPEN_MAX); fd < (max > 0 ? max : 1024); fd++)
		close((int)fd);
}

static char *argv_join(const char *const argv[])
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; argv[i]; i++)
		len += strlen(argv[i]) + 1;
	s = xmalloc(len);
	s[0] = '\0';
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* Run argv without a shell. Output (stdout and stderr together) goes to
 * out_fd when >= 0, else is captured into *out (when out != NULL) or
 * dropped. Returns the exit status, 128+signal, or -1 when it cannot run. */
int lab_run_argv(const char *const argv[], const char *cwd, int out_fd, char **out)
{
	int pipefd[2] = { -1, -1 };
	int status = 0;
	size_t len = 0, cap = 0;
	char *buf = NULL;
	pid_t pid;

	if (out)
		*out = NULL;
	if (out_fd < 0 && pipe2(pipefd, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		if (pipefd[0] >= 0) {
			close(pipefd[0]);
			close(pipefd[1]);
		}
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		int to = out_fd >= 0 ? out_fd : pipefd[1];

		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(to, 1);
		dup2(to, 2);
		close_fds_from(3);
		if (cwd != NULL && chdir(cwd) != 0) {
			dprintf(2, "%s: %s\n", cwd, strerror(errno));
			_exit(127);
		}
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (out_fd < 0) {
		close(pipefd[1]);
		for (;;) {
			ssize_t r;

			if (cap - len < 4096) {
				cap = cap ? cap * 2 : 8192;
				buf = xreallocarray(buf, cap, 1);
			}
			r = read(pipefd[0], buf + len, cap - len - 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			len += (size_t)r;
		}
		close(pipefd[0]);
		if (buf)
			buf[len] = '\0';
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			free(buf);
			return -1;
		}
	}
	if (out)
		*out = buf ? buf : xstrdup("");
	else
		free(buf);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* run_argv that turns a non-zero exit into an error naming the command
 * and quoting (the end of) its output. */
enum wiz_err lab_run_checked(const char *const argv[], const char *cwd, int out_fd,
			     struct wiz_error *err)
{
	char *out = NULL;
	int rc = lab_run_argv(argv, cwd, out_fd, out_fd >= 0 ? NULL : &out);
	enum wiz_err ret = WIZ_ERR_OK;

	if (rc != 0) {
		char *cmd = argv_join(argv);
		const char *tail = out ? out : "";
		size_t n = strlen(tail);

		while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == ' '))
			n--;
		if (n > 600) {
			tail += n - 600;
			n = 600;
		}
		if (rc < 0)
			ret = wiz_error_set(err, WIZ_ERR_IO, _("cannot run %s: %s"), cmd,
					    strerror(errno));
		else
			ret = wiz_error_set(err, WIZ_ERR_IO, _("'%s' failed (exit status %d)%s%.*s"),
					    cmd, rc, n ? ": " : "", (int)n, tail);
		free(cmd);
	}
	free(out);
	return ret;
}

static int run_argv(const char *const argv[], int out_fd, char **out)
{
	return lab_run_argv(argv, NULL, out_fd, out);
}

static enum wiz_err run_checked(const char *const argv[], int out_fd, struct wiz_error *err)
{
	return lab_run_checked(argv, NULL, out_fd, err);
}

#define RUN(err, ...)                                                       \
	run_checked((const char *const[]){ __VA_ARGS__, NULL }, -1, (err))
#define RUN_QUIET(...) run_argv((const char *const[]){ __VA_ARGS__, NULL }, -1, NULL)

/* ---- small file-system helpers ------------------------------------------- */

bool lab_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The mount points in /proc/self/mountinfo, decoded ("\040" escapes). */
static size_t mount_points(char ***out)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	char **list = NULL;
	size_t n = 0;

	*out = NULL;
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f)) {
		char *save = NULL, *tok = strtok_r(line, " ", &save);
		char *mp = NULL;

		for (int i = 0; tok && i < 4; i++)
			tok = strtok_r(NULL, " ", &save);
		mp = tok;
		if (mp == NULL)
			continue;
		for (char *r = mp, *w = mp;; r++, w++) {
			if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] && r[3]) {
				*w = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
				r += 3;
			} else {
				*w = *r;
			}
			if (*r == '\0')
				break;
		}
		list = xreallocarray(list, n + 1, sizeof *list);
		list[n++] = xstrdup(mp);
	}
	fclose(f);
	*out = list;
	return n;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool is_mount_point(const char *path)
{
	char **mps;
	size_t n = mount_points(&mps);
	bool found = false;

	for (size_t i = 0; i < n && !found; i++)
		found = strcmp(mps[i], path) == 0;
	strv_free(mps, n);
	return found;
}

/* Unmount everything at or below prefix, deepest first. Returns how many. */
static int unmount_under(const char *prefix)
{
	size_t plen = strlen(prefix);
	int count = 0;

	/* Each pass takes the last (most recently stacked) match. */
	for (int guard = 0; guard < 256; guard++) {
		char **mps;
		size_t n = mount_points(&mps);
		const char *victim = NULL;

		for (size_t i = 0; i < n; i++) {
			if (strncmp(mps[i], prefix, plen) == 0 &&
			    (mps[i][plen] == '\0' || mps[i][plen] == '/'))
				victim = mps[i];
		}
		if (victim == NULL) {
			strv_free(mps, n);
			break;
		}
		if (umount2(victim, 0) != 0)
			umount2(victim, MNT_DETACH);
		count++;
		strv_free(mps, n);
	}
	return count;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* rm -rf that never crosses into another file system. */
void lab_rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	unmount_under(path);
	nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static enum wiz_err copy_file(const char *from, const char *to, mode_t mode,
			      struct wiz_error *err)
{
	char *data = NULL;
	size_t len = 0;
	enum wiz_err rc = wiz_read_file(from, 256u << 20, &data, &len, err);

	if (rc == WIZ_ERR_OK)
		rc = wiz_write_file_atomic(to, data, len, mode, err);
	free(data);
	return rc;
}

static enum wiz_err write_string(const char *path, const char *s, mode_t mode,
				 struct wiz_error *err)
{
	return wiz_write_file_atomic(path, s, strlen(s), mode, err);
}

/* ---- lab files: the stand-in, its unit, the base setup script ------------ */

/* Searched in $ETCDWIZ_LAB_PATH (colon-separated), next to the running
 * binary (build tree: ./lab/), then in pkglibexecdir. */
static char *lab_find_file(const char *name)
{
	const char *env = getenv("ETCDWIZ_LAB_PATH");
	char exe[4096];
	ssize_t n;

	if (env && env[0]) {
		char *copy = xstrdup(env), *save = NULL;

		for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			char *cand = xasprintf("%s/%s", d, name);

			if (access(cand, R_OK) == 0) {
				free(copy);
				return cand;
			}
			free(cand);
		}
		free(copy);
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		char *slash, *cand;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			cand = xasprintf("%s/lab/%s", exe, name);
			if (access(cand, R_OK) == 0)
				return cand;
			free(cand);
		}
	}
	{
		char *cand = xasprintf("%s/%s", PKGLIBEXECDIR, name);

		if (access(cand, R_OK) == 0)
			return cand;
		free(cand);
	}
	return NULL;
}

static const char *const lab_files[] = { "kubelet-standin", "kubelet.service",
					 "base-setup.sh" };

enum wiz_err lab_check_prerequisites(bool need_debootstrap, struct wiz_error *err)
{
	if (geteuid() != 0)
		return wiz_error_set(err, WIZ_ERR_USAGE,
				     _("the lab needs root: it creates network namespaces, "
				       "a bridge, overlay mounts and containers (try sudo)"));
	for (size_t i = 0; i < sizeof tool_packages / sizeof tool_packages[0]; i++) {
		char *p;

		if (!need_debootstrap && strcmp(tool_packages[i][0], "debootstrap") == 0)
			continue;
		p = find_in_path(tool_packages[i][0]);
		if (p == NULL)
			return wiz_error_set(err, WIZ_ERR_NOTFOUND,
					     _("%s not found: install the Debian package %s "
					       "(apt-get install %s)"),
					     tool_packages[i][0], tool_packages[i][1],
					     tool_packages[i][1]);
		free(p);
	}
	return WIZ_ERR_OK;
}

/* ---- state --------------------------------------------------------------- */

#define STATE_FILE LAB_DIR "/state"

static void state_load(struct lab_state *st)
{
	char *data = NULL;
	size_t len;

	memset(st, 0, sizeof *st);
	if (wiz_read_file(STATE_FILE, 65536, &data, &len, NULL) != WIZ_ERR_OK)
		return;
	st->present = true;
	for (char *save = NULL, *line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		int v;

		if (line[0] == '#' || eq == NULL)
			continue;
		*eq = '\0';
		v = (int)strtol(eq + 1, NULL, 10);
		if (strcmp(line, "etcd") == 0)
			snprintf(st->etcd, sizeof st->etcd, "%s", eq + 1);
		else if (strcmp(line, "release") == 0)
			snprintf(st->release, sizeof st->release, "%s", eq + 1);
		else if (strcmp(line, "members") == 0)
			st->members = v;
		else if (strcmp(line, "control_plane") == 0)
			st->control_plane = v != 0;
		else if (strcmp(line, "netns_dir_was_mounted") == 0)
			st->netns_dir_was_mounted = v != 0;
		else if (strcmp(line, "nspawn_dir_existed") == 0)
			st->nspawn_dir_existed = v != 0;
	}
	free(data);
}

/* Write path only when its content changes, so a second `lab up` leaves
 * every file (and its mtime) alone. */
static enum wiz_err write_if_changed(const char *path, const char *data, size_t len,
				     mode_t mode, struct wiz_error *err)
{
	char *old = NULL;
	size_t oldlen = 0;
	bool same = wiz_read_file(path, 1 << 20, &old, &oldlen, NULL) == WIZ_ERR_OK &&
		    oldlen == len && memcmp(old, data, len) == 0;

	free(old);
	return same ? WIZ_ERR_OK : wiz_write_file_atomic(path, data, len, mode, err);
}

static enum wiz_err state_save(const struct lab_state *st, struct wiz_error *err)
{
	char *s = xasprintf("# etcdwiz lab state: what `etcdwiz lab up` made\n"
			    "members=%d\ncontrol_plane=%d\n"
			    "netns_dir_was_mounted=%d\nnspawn_dir_existed=%d\netcd=%s\nrelease=%s\n",
			    st->members, st->control_plane ? 1 : 0,
			    st->netns_dir_was_mounted ? 1 : 0,
			    st->nspawn_dir_existed ? 1 : 0, st->etcd, st->release);
	/* Unchanged, it is not rewritten: a second `lab up` touches nothing. */
	enum wiz_err rc = write_if_changed(STATE_FILE, s, strlen(s), 0644, err);

	free(s);
	return rc;
}

static int lock_lab(struct wiz_error *err)
{
	int fd;

	if (wiz_mkdir_p(LAB_DIR, 0755, err) != WIZ_ERR_OK)
		return -1;
	fd = open(LAB_DIR "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		wiz_error_set(err, WIZ_ERR_IO, _("cannot open %s: %s"), LAB_DIR "/lock",
			      strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr, _("etcdwiz lab: waiting for another lab command to finish...\n"));
		if (flock(fd, LOCK_EX) != 0) {
			wiz_error_set(err, WIZ_ERR_IO, _("cannot lock %s: %s"),
				      LAB_DIR "/lock", strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

static void hosts_init(struct lab_run *r, int members, bool control_plane)
{
	r->n_hosts = 0;
	for (int i = 0; i < members + (control_plane ? 1 : 0); i++) {
		struct lab_host *h = &r->hosts[r->n_hosts++];

		char name[16];

		memset(h, 0, sizeof *h);
		if (i < members)
			snprintf(name, sizeof name, "etcd-%d", i + 1);
		else
			snprintf(name, sizeof name, "cp-1");
		memcpy(h->name, name, sizeof name);
		snprintf(h->addr, sizeof h->addr, LAB_NET_PREFIX "%d",
			 LAB_FIRST_HOST_OCTET + i);
		snprintf(h->netns, sizeof h->netns, LAB_NETNS_PREFIX "%s", name);
		snprintf(h->veth, sizeof h->veth, LAB_LINK_PREFIX "%s", name);
		h->dir = xasprintf(LAB_DIR "/hosts/%s", name);
		h->root = xasprintf("%s/root", h->dir);
	}
}

static void hosts_free(struct lab_run *r)
{
	for (size_t i = 0; i < r->n_hosts; i++) {
		free(r->hosts[i].dir);
		free(r->hosts[i].root);
	}
	r->n_hosts = 0;
}

/* ---- the base tree ------------------------------------------------------- */

/* The stamp names the packages and the SHA-256 of base-setup.sh, so a base
 * built by an older setup script is built again rather than reused. */
static char *base_stamp_text(const struct lab_release *rel)
{
	char *setup = lab_find_file("base-setup.sh");
	char *data = NULL, hex[65] = "none";
	size_t len = 0;

	if (setup != NULL && wiz_read_file(setup, 1 << 20, &data, &len, NULL) == WIZ_ERR_OK)
		sha256_hex(data, len, hex);
	free(data);
	free(setup);
	return xasprintf("# etcdwiz lab base tree; Debian %s (%s); packages:\n" LAB_PACKAGES
			 "\nsetup %s\n", rel->debian, rel->suite, hex);
}

static bool base_ready(const struct lab_release *rel)
{
	char *want = base_stamp_text(rel), *have = NULL;
	char *stamp = xasprintf("%s" LAB_BASE_STAMP, rel->base);
	size_t len = 0;
	bool same = wiz_read_file(stamp, 1 << 16, &have, &len, NULL) == WIZ_ERR_OK &&
		    strcmp(have, want) == 0;

	free(stamp);
	free(want);
	free(have);
	return same;
}

static bool word_in(const char *list, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += wl) {
		bool start = p == list || p[-1] == ' ' || p[-1] == '\t';
		bool end = p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\t' || p[wl] == '\n';

		if (start && end)
			return true;
	}
	return false;
}

/* The Debian archive this machine already uses: the first http(s) URI of a
 * `deb` entry for bookworm in /etc/apt/sources.list{,.d/}; one-line and
 * deb822 formats. $ETCDWIZ_LAB_MIRROR overrides. */
char *lab_mirror(void)
{
	const char *env = getenv("ETCDWIZ_LAB_MIRROR");
	char *found = NULL;
	char **files = NULL;
	size_t nfiles = 0;
	DIR *d;

	if (env && env[0])
		return xstrdup(env);
	files = xreallocarray(files, nfiles + 1, sizeof *files);
	files[nfiles++] = xstrdup("/etc/apt/sources.list");
	d = opendir("/etc/apt/sources.list.d");
	if (d) {
		struct dirent *e;

		while ((e = readdir(d)) != NULL) {
			size_t l = strlen(e->d_name);

			if ((l > 5 && strcmp(e->d_name + l - 5, ".list") == 0) ||
			    (l > 8 && strcmp(e->d_name + l - 8, ".sources") == 0)) {
				files = xreallocarray(files, nfiles + 1, sizeof *files);
				files[nfiles++] = xasprintf("/etc/apt/sources.list.d/%s", e->d_name);
			}
		}
		closedir(d);
	}
	for (size_t i = 0; i < nfiles && found == NULL; i++) {
		char *data = NULL;
		size_t len;
		bool deb822 = strstr(files[i], ".sources") != NULL;

		if (wiz_read_file(files[i], 1 << 20, &data, &len, NULL) != WIZ_ERR_OK)
			continue;
		if (deb822) {
			/* Stanzas separated by blank lines. */
			char *stanza = data;

			while (stanza && *stanza && found == NULL) {
				char *next = strstr(stanza, "\n\n");
				char *types = NULL, *uris = NULL, *suites = NULL;

				if (next)
					*next = '\0';
				for (char *save = NULL, *l = strtok_r(stanza, "\n", &save); l;
				     l = strtok_r(NULL, "\n", &save)) {
					if (strncasecmp(l, "Types:", 6) == 0)
						types = l + 6;
					else if (strncasecmp(l, "URIs:", 5) == 0)
						uris = l + 5;
					else if (strncasecmp(l, "Suites:", 7) == 0)
						suites = l + 7;
				}
				if (types && uris && suites && word_in(types, "deb") &&
				    word_in(suites, LAB_SUITE)) {
					char *save = NULL, *u = strtok_r(uris, " \t", &save);

					if (u && (strncmp(u, "http://", 7) == 0 ||
						  strncmp(u, "https://", 8) == 0))
						found = xstrdup(u);
				}
				stanza = next ? next + 2 : NULL;
			}
		} else {
			for (char *save = NULL, *l = strtok_r(data, "\n", &save);
			     l && found == NULL; l = strtok_r(NULL, "\n", &save)) {
				char *s2 = NULL, *w[4] = { NULL, NULL, NULL, NULL };
				int k = 0;

				for (char *t = strtok_r(l, " \t", &s2); t && k < 4;
				     t = strtok_r(NULL, " \t", &s2)) {
					if (k == 1 && t[0] == '[') {
						/* [options]: skip up to the closing bracket */
						while (t && strchr(t, ']') == NULL)
							t = strtok_r(NULL, " \t", &s2);
						continue;
					}
					w[k++] = t;
				}
				if (w[0] && strcmp(w[0], "deb") == 0 && w[1] && w[2] &&
				    strcmp(w[2], LAB_SUITE) == 0 &&
				    (strncmp(w[1], "http://", 7) == 0 ||
				     strncmp(w[1], "https://", 8) == 0))
					found = xstrdup(w[1]);
			}
		}
		free(data);
	}
	strv_free(files, nfiles);
	return found ? found : xstrdup(LAB_DEFAULT_MIRROR);
}

static enum wiz_err base_build(const struct lab_options *opt, const struct lab_release *rel,
				struct wiz_error *err)
{
	char *tmp = xasprintf("%s.tmp", rel->base);
	char *tmp_setup = xasprintf("%s/base-setup.sh", tmp);
	char *tmp_stamp = xasprintf("%s" LAB_BASE_STAMP, tmp);
	const char *include = "--include=" LAB_PACKAGES;
	char *mirror = lab_mirror();
	char *setup = lab_find_file("base-setup.sh");
	char *stamp;
	double t0 = now_seconds();
	enum wiz_err rc = WIZ_ERR_OK;
	int logfd = -1;

	if (setup == NULL) {
		rc = wiz_error_set(err, WIZ_ERR_NOTFOUND,
				   _("lab file base-setup.sh not found (searched $ETCDWIZ_LAB_PATH, "
				     "./lab next to etcdwiz and %s)"), PKGLIBEXECDIR);
		goto out;
	}
	lab_rm_rf(tmp);
	logfd = open(rel->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot create %s: %s"), rel->log,
				   strerror(errno));
		goto out;
	}
	progress(opt, _("building the Debian %s base tree once with debootstrap from %s "
			"(a few minutes; log: %s)"), rel->debian, mirror, rel->log);
	rc = run_checked((const char *const[]){ "debootstrap", "--variant=minbase", include,
						rel->suite, tmp, mirror, NULL },
			 logfd, err);
	if (rc != WIZ_ERR_OK) {
		wiz_error_prefix(err, _("building the lab base tree (see %s)"), rel->log);
		goto out;
	}
	rc = copy_file(setup, tmp_setup, 0755, err);
	if (rc == WIZ_ERR_OK)
		rc = run_checked((const char *const[]){ "chroot", tmp, "/bin/sh",
						  "/base-setup.sh", NULL },
				 logfd, err);
	unlink(tmp_setup);
	if (rc != WIZ_ERR_OK) {
		wiz_error_prefix(err, _("setting up the lab base tree (see %s)"), rel->log);
		goto out;
	}
	stamp = base_stamp_text(rel);
	rc = write_string(tmp_stamp, stamp, 0644, err);
	free(stamp);
	if (rc != WIZ_ERR_OK)
		goto out;
	lab_rm_rf(rel->base);
	if (rename(tmp, rel->base) != 0) {
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot rename %s: %s"), tmp,
				   strerror(errno));
		goto out;
	}
	progress(opt, _("base tree ready in %.0f s"), now_seconds() - t0);
out:
	if (rc != WIZ_ERR_OK)
		lab_rm_rf(tmp);
	if (logfd >= 0)
		close(logfd);
	free(setup);
	free(mirror);
	free(tmp_stamp);
	free(tmp_setup);
	free(tmp);
	return rc;
}

/* ---- keys ---------------------------------------------------------------- */

static enum wiz_err keygen(const char *path, const char *comment, struct wiz_error *err)
{
	char *pub = xasprintf("%s.pub", path);
	enum wiz_err rc = WIZ_ERR_OK;

	if (access(path, R_OK) != 0 || access(pub, R_OK) != 0) {
		unlink(path);
		unlink(pub);
		rc = RUN(err, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
			 comment, "-f", path);
	}
	free(pub);
	return rc;
}

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_decode(const char *in, unsigned char *out, size_t max)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; *in && *in != '='; in++) {
		const char *p = strchr(b64chars, *in);

		if (p == NULL || *in == '\0')
			return 0;
		acc = (acc << 6) | (uint32_t)(p - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == max)
				return 0;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

static void b64_encode_nopad(const unsigned char *in, size_t len, char *out)
{
	size_t i = 0;
	char *o = out;

	for (; i + 2 < len; i += 3) {
		*o++ = b64chars[in[i] >> 2];
		*o++ = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = b64chars[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = b64chars[in[i + 2] & 63];
	}
	if (len - i == 1) {
		*o++ = b64chars[in[i] >> 2];
		*o++ = b64chars[(in[i] & 3) << 4];
	} else if (len - i == 2) {
		*o++ = b64chars[in[i] >> 2];
		*o++ = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = b64chars[(in[i + 1] & 15) << 2];
	}
	*o = '\0';
}

/* "ssh-ed25519 AAAA... comment" -> type, base64 blob and SHA256:... */
static enum wiz_err host_pubkey(const char *pubfile, char **type, char **blob,
				char **fingerprint, struct wiz_error *err)
{
	char *data = NULL, *save = NULL, *t, *b;
	unsigned char raw[1024], digest[32];
	char enc[64];
	size_t len, n;
	enum wiz_err rc = wiz_read_file(pubfile, 16384, &data, &len, err);

	if (rc != WIZ_ERR_OK)
		return rc;
	t = strtok_r(data, " \t\n", &save);
	b = strtok_r(NULL, " \t\n", &save);
	n = b ? b64_decode(b, raw, sizeof raw) : 0;
	if (t == NULL || n == 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, raw, n, digest) != 0) {
		free(data);
		return wiz_error_set(err, WIZ_ERR_PARSE, _("%s: not an OpenSSH public key"),
				     pubfile);
	}
	b64_encode_nopad(digest, sizeof digest, enc);
	*type = xstrdup(t);
	*blob = xstrdup(b);
	*fingerprint = xasprintf("SHA256:%s", enc);
	free(data);
	return WIZ_ERR_OK;
}

/* ---- network ------------------------------------------------------------- */

static bool link_exists(const char *name)
{
	char *p = xasprintf("/sys/class/net/%s", name);
	bool ok = access(p, F_OK) == 0;

	free(p);
	return ok;
}

static bool netns_exists(const char *name)
{
	char *p = xasprintf("/run/netns/%s", name);
	bool ok = access(p, F_OK) == 0;

	free(p);
	return ok;
}

static enum wiz_err net_bridge_up(struct wiz_error *err)
{
	static const char gateway_cidr[] = LAB_GATEWAY "/24";
	enum wiz_err rc = WIZ_ERR_OK;

	if (!link_exists(LAB_BRIDGE)) {
		rc = RUN(err, "ip", "link", "add", LAB_BRIDGE, "type", "bridge");
		if (rc == WIZ_ERR_OK)
			rc = RUN(err, "ip", "addr", "add", gateway_cidr, "dev", LAB_BRIDGE);
		if (rc == WIZ_ERR_OK)
			rc = RUN(err, "ip", "link", "set", LAB_BRIDGE, "up");
	}
	/* The whole subnet stays routed here, also when no host answers:
	 * traffic to a stopped host dies on this machine. */
	if (rc == WIZ_ERR_OK)
		rc = RUN(err, "ip", "route", "replace", "unreachable", LAB_SUBNET,
			 "metric", LAB_ROUTE_METRIC);
	return rc;
}

static enum wiz_err net_host_up(const struct lab_host *h, struct wiz_error *err)
{
	char *cidr = xasprintf("%s/24", h->addr);
	char *nsarg = xstrdup(h->netns);
	char *veth = xstrdup(h->veth);
	enum wiz_err rc = WIZ_ERR_OK;
	bool fresh = false;

	if (!netns_exists(h->netns)) {
		rc = RUN(err, "ip", "netns", "add", nsarg);
		fresh = true;
	}
	if (rc == WIZ_ERR_OK && !link_exists(h->veth)) {
		rc = RUN(err, "ip", "link", "add", veth, "type", "veth", "peer", "name",
			 "eth0", "netns", nsarg);
		fresh = true;
	}
	if (rc == WIZ_ERR_OK && fresh) {
		rc = RUN(err, "ip", "link", "set", veth, "master", LAB_BRIDGE, "up");
		if (rc == WIZ_ERR_OK)
			rc = RUN(err, "ip", "-n", nsarg, "addr", "replace", cidr, "dev", "eth0");
		if (rc == WIZ_ERR_OK)
			rc = RUN(err, "ip", "-n", nsarg, "link", "set", "lo", "up");
		if (rc == WIZ_ERR_OK)
			rc = RUN(err, "ip", "-n", nsarg, "link", "set", "eth0", "up");
		if (rc == WIZ_ERR_OK)
			rc = RUN(err, "ip", "-n", nsarg, "route", "replace", "default", "via",
				 LAB_GATEWAY);
	}
	if (rc != WIZ_ERR_OK)
		wiz_error_prefix(err, _("network for %s"), h->name);
	free(cidr);
	free(nsarg);
	free(veth);
	return rc;
}

/* Is sshd answering on addr:22? Connect and read the "SSH-" banner, each
 * step bounded by timeout_ms. */
static bool ssh_answers(const char *addr, int timeout_ms)
{
	struct sockaddr_in sa;
	struct pollfd pfd;
	char banner[8];
	size_t got = 0;
	bool ok = false;
	int fd, soerr = 0;
	socklen_t sl = sizeof soerr;
	double deadline = now_seconds() + timeout_ms / 1000.0;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(22);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return false;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS)
		goto out;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, timeout_ms) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0)
		goto out;
	while (got < 4) {
		int left = (int)((deadline - now_seconds()) * 1000);
		ssize_t r;

		pfd.events = POLLIN;
		if (left <= 0 || poll(&pfd, 1, left) != 1)
			goto out;
		r = read(fd, banner + got, 4 - got);
		if (r <= 0)
			goto out;
		got += (size_t)r;
	}
	ok = memcmp(banner, "SSH-", 4) == 0;
out:
	close(fd);
	return ok;
}

/* ---- containers ---------------------------------------------------------- */

static char *proc_cmdline(pid_t pid, size_t *len)
{
	char *path = xasprintf("/proc/%d/cmdline", (int)pid);
	char *data = NULL;

	if (wiz_read_file(path, 65536, &data, len, NULL) != WIZ_ERR_OK)
		data = NULL;
	free(path);
	return data;
}

static bool proc_alive(pid_t pid)
{
	char *path = xasprintf("/proc/%d/stat", (int)pid);
	char *data = NULL, *rp;
	size_t len;
	bool alive = false;

	if (wiz_read_file(path, 4096, &data, &len, NULL) == WIZ_ERR_OK) {
		rp = strrchr(data, ')');
		alive = rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
	}
	free(data);
	free(path);
	return alive;
}

/* A systemd-nspawn whose arguments point into LAB_DIR/hosts/ (and, when
 * root is given, at that root). */
static bool is_lab_nspawn(pid_t pid, const char *root)
{
	size_t len = 0;
	char *cl = proc_cmdline(pid, &len);
	bool nspawn = false, ours = false;

	if (cl == NULL)
		return false;
	for (size_t off = 0; off < len; off += strlen(cl + off) + 1) {
		const char *a = cl + off;
		const char *base = strrchr(a, '/');

		if (off == 0)
			nspawn = strcmp(base ? base + 1 : a, "systemd-nspawn") == 0;
		else if (root ? strcmp(a, root) == 0
			      : strncmp(a, LAB_DIR "/hosts/", strlen(LAB_DIR "/hosts/")) == 0)
			ours = true;
	}
	free(cl);
	return nspawn && ours && proc_alive(pid);
}

static pid_t host_nspawn_pid(const struct lab_host *h)
{
	char *pidfile = xasprintf("%s/nspawn.pid", h->dir);
	char *data = NULL;
	size_t len;
	pid_t pid = 0;

	if (wiz_read_file(pidfile, 64, &data, &len, NULL) == WIZ_ERR_OK) {
		pid = (pid_t)strtol(data, NULL, 10);
		if (pid <= 0 || !is_lab_nspawn(pid, h->root))
			pid = 0;
	}
	free(data);
	free(pidfile);
	return pid;
}

/* cgroup hierarchies nspawn uses: the unified one and, on hybrid hosts,
 * name=systemd. Each lab container gets its own cgroup in each, because
 * without a host systemd nspawn would put every container's payload into
 * the same /payload cgroup. */
static size_t cgroup_roots(char *roots[2])
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	size_t n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) && n < 2) {
		char *sep = strstr(line, " - ");
		char mp[1024], fstype[64], src[256], opts[1024];
		int f1;

		if (sep == NULL || sscanf(line, "%*s %*s %*s %*s %1023s", mp) != 1)
			continue;
		f1 = sscanf(sep + 3, "%63s %255s %1023s", fstype, src, opts);
		if (f1 < 1)
			continue;
		if (strcmp(fstype, "cgroup2") == 0 ||
		    (strcmp(fstype, "cgroup") == 0 && f1 == 3 && strstr(opts, "name=systemd")))
			roots[n++] = xstrdup(mp);
	}
	fclose(f);
	return n;
}

static void cgroups_remove(void)
{
	char *roots[2];
	size_t n = cgroup_roots(roots);

	for (size_t i = 0; i < n; i++) {
		char *top = xasprintf("%s/etcdwiz-lab", roots[i]);

		/* cgroup directories go with rmdir alone, depth first. */
		if (lab_is_dir(top))
			nftw(top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(top);
		free(roots[i]);
	}
}

static enum wiz_err container_start(struct lab_host *h, struct wiz_error *err)
{
	char *logpath = xasprintf("%s/nspawn.log", h->dir);
	char *pidpath = xasprintf("%s/nspawn.pid", h->dir);
	char *nsopt = xasprintf("--network-namespace-path=/run/netns/%s", h->netns);
	char *machine = xasprintf("--machine=%s", h->name);
	const char *etcd_bind = "--bind-ro=" LAB_ETCD_DIR ":" LAB_ETCD_HOST_DIR;
	char *roots[2], *procs[2] = { NULL, NULL };
	size_t nroots = cgroup_roots(roots);
	char pidtxt[32];
	enum wiz_err rc = WIZ_ERR_OK;
	int logfd;
	pid_t pid;

	for (size_t i = 0; i < nroots; i++) {
		char *dir = xasprintf("%s/etcdwiz-lab/%s", roots[i], h->name);

		if (wiz_mkdir_p(dir, 0755, NULL) == WIZ_ERR_OK)
			procs[i] = xasprintf("%s/cgroup.procs", dir);
		free(dir);
	}
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot create %s: %s"), logpath,
				   strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot fork: %s"), strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* Detached: own session, stdio to the log, no inherited fds,
		 * so it outlives etcdwiz and holds nothing of the caller's. */
		const char *const argv[] = { "systemd-nspawn", "--boot", "--register=no",
				       "--keep-unit", "--capability=CAP_NET_ADMIN", nsopt,
				       machine, "--link-journal=no", "--console=read-only",
				       "--resolv-conf=off", "--timezone=off", etcd_bind,
				       "-D", h->root, NULL };
		int devnull = open("/dev/null", O_RDONLY);

		setsid();
		for (size_t i = 0; i < 2; i++) {
			int fd = procs[i] ? open(procs[i], O_WRONLY | O_CLOEXEC) : -1;

			if (fd >= 0) {
				if (write(fd, "0", 1) != 1)
					dprintf(logfd, "etcdwiz: cannot join %s\n", procs[i]);
				close(fd);
			}
		}
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		close_fds_from(3);
		setenv("SYSTEMD_NSPAWN_API_VFS_WRITABLE", "network", 1);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "etcdwiz: systemd-nspawn: %s\n", strerror(errno));
		_exit(127);
	}
	h->started = pid;
	snprintf(pidtxt, sizeof pidtxt, "%d\n", (int)pid);
	rc = write_string(pidpath, pidtxt, 0644, err);
out:
	if (logfd >= 0)
		close(logfd);
	for (size_t i = 0; i < nroots; i++) {
		free(roots[i]);
		free(procs[i]);
	}
	free(logpath);
	free(pidpath);
	free(nsopt);
	free(machine);
	return rc;
}

/* Did a container we started exit already? Reaps it when it did. */
static bool container_died(struct lab_host *h)
{
	int status;

	if (h->started > 0) {
		pid_t r = waitpid(h->started, &status, WNOHANG);

		if (r == h->started) {
			h->started = 0;
			return true;
		}
		return false;
	}
	return host_nspawn_pid(h) == 0;
}

/* ---- per-host files ------------------------------------------------------ */

static bool passwd_ids(const char *root, const char *user, uid_t *uid, gid_t *gid)
{
	char *path = xasprintf("%s/etc/passwd", root);
	char *data = NULL;
	size_t len, ul = strlen(user);
	bool found = false;

	if (wiz_read_file(path, 1 << 20, &data, &len, NULL) == WIZ_ERR_OK) {
		for (char *save = NULL, *l = strtok_r(data, "\n", &save); l && !found;
		     l = strtok_r(NULL, "\n", &save)) {
			/* name:password:uid:gid:... */
			char *pw = l[ul] == ':' ? strchr(l + ul + 1, ':') : NULL;
			char *end1 = NULL, *end2 = NULL;
			unsigned long u = pw ? strtoul(pw + 1, &end1, 10) : 0;
			unsigned long g = end1 && *end1 == ':' ? strtoul(end1 + 1, &end2, 10) : 0;

			if (strncmp(l, user, ul) == 0 && end2 && *end2 == ':') {
				*uid = (uid_t)u;
				*gid = (gid_t)g;
				found = true;
			}
		}
	}
	free(data);
	free(path);
	return found;
}

static enum wiz_err install_authorized_keys(const char *root, const char *user,
					    const char *home, const char *pubkey,
					    struct wiz_error *err)
{
	char *sshdir = xasprintf("%s%s/.ssh", root, home);
	char *ak = xasprintf("%s/authorized_keys", sshdir);
	uid_t uid = 0;
	gid_t gid = 0;
	enum wiz_err rc;

	if (strcmp(user, "root") != 0 && !passwd_ids(root, user, &uid, &gid)) {
		rc = wiz_error_set(err, WIZ_ERR_NOTFOUND, _("user %s missing from the base tree"),
				   user);
		goto out;
	}
	rc = wiz_mkdir_p(sshdir, 0700, err);
	if (rc == WIZ_ERR_OK)
		rc = write_string(ak, pubkey, 0600, err);
	if (rc == WIZ_ERR_OK && (chown(sshdir, uid, gid) != 0 || chown(ak, uid, gid) != 0))
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot chown %s: %s"), ak, strerror(errno));
out:
	free(sshdir);
	free(ak);
	return rc;
}

static enum wiz_err host_files(const struct lab_run *r, const struct lab_host *h,
			       struct wiz_error *err)
{
	char *path = NULL, *text = NULL, *pub = NULL, *standin = NULL, *unit = NULL;
	char *keydir = xasprintf(LAB_DIR "/hostkeys/%s", h->name);
	char *key = xasprintf("%s/ssh_host_ed25519_key", keydir);
	char *comment = xasprintf("root@%s", h->name);
	unsigned char id[16];
	char hex[33];
	size_t len;
	enum wiz_err rc;

#define ROOTED(rel) (free(path), path = xasprintf("%s%s", h->root, (rel)))
	/* Identity: hostname, machine-id, the pinned SSH host key. */
	text = xasprintf("%s\n", h->name);
	rc = write_string(ROOTED("/etc/hostname"), text, 0644, err);
	if (rc != WIZ_ERR_OK)
		goto out;
	if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id) {
		rc = wiz_error_set(err, WIZ_ERR_IO, _("getrandom: %s"), strerror(errno));
		goto out;
	}
	id[6] = (unsigned char)((id[6] & 0x0f) | 0x40);	/* a v4 UUID, as systemd makes */
	id[8] = (unsigned char)((id[8] & 0x3f) | 0x80);
	for (size_t i = 0; i < sizeof id; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	free(text);
	text = xasprintf("%s\n", hex);
	rc = write_string(ROOTED("/etc/machine-id"), text, 0444, err);
	if (rc != WIZ_ERR_OK)
		goto out;

	free(text);
	text = xstrdup("127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n"
		       LAB_GATEWAY "\tlab-gateway\n");
	for (size_t i = 0; i < r->n_hosts; i++) {
		char *t = xasprintf("%s%s\t%s\n", text, r->hosts[i].addr, r->hosts[i].name);

		free(text);
		text = t;
	}
	rc = write_string(ROOTED("/etc/hosts"), text, 0644, err);
	if (rc != WIZ_ERR_OK)
		goto out;

	rc = wiz_mkdir_p(keydir, 0700, err);
	if (rc == WIZ_ERR_OK)
		rc = keygen(key, comment, err);
	if (rc == WIZ_ERR_OK)
		rc = copy_file(key, ROOTED("/etc/ssh/ssh_host_ed25519_key"), 0600, err);
	free(text);
	text = xasprintf("%s.pub", key);
	if (rc == WIZ_ERR_OK)
		rc = copy_file(text, ROOTED("/etc/ssh/ssh_host_ed25519_key.pub"), 0644, err);
	if (rc != WIZ_ERR_OK)
		goto out;

	/* The lab key opens root and both sudo users. */
	rc = wiz_read_file(LAB_DIR "/id_ed25519.pub", 16384, &pub, &len, err);
	if (rc == WIZ_ERR_OK)
		rc = install_authorized_keys(h->root, "root", "/root", pub, err);
	if (rc == WIZ_ERR_OK)
		rc = install_authorized_keys(h->root, "wiz", "/home/wiz", pub, err);
	if (rc == WIZ_ERR_OK)
		rc = install_authorized_keys(h->root, "wizpw", "/home/wizpw", pub, err);
	if (rc != WIZ_ERR_OK)
		goto out;

	/* The kubelet stand-in, where kubeadm's packages put kubelet. */
	standin = lab_find_file("kubelet-standin");
	unit = lab_find_file("kubelet.service");
	if (standin == NULL || unit == NULL) {
		rc = wiz_error_set(err, WIZ_ERR_NOTFOUND,
				   _("lab file %s not found (searched $ETCDWIZ_LAB_PATH, "
				     "./lab next to etcdwiz and %s)"),
				   standin ? "kubelet.service" : "kubelet-standin", PKGLIBEXECDIR);
		goto out;
	}
	rc = copy_file(standin, ROOTED("/usr/bin/kubelet"), 0755, err);
	if (rc == WIZ_ERR_OK)
		rc = copy_file(unit, ROOTED("/lib/systemd/system/kubelet.service"), 0644, err);
	if (rc != WIZ_ERR_OK)
		goto out;
	ROOTED("/etc/systemd/system/multi-user.target.wants/kubelet.service");
	unlink(path);
	if (symlink("/lib/systemd/system/kubelet.service", path) != 0) {
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot create %s: %s"), path,
				   strerror(errno));
		goto out;
	}
#undef ROOTED
out:
	if (rc != WIZ_ERR_OK)
		wiz_error_prefix(err, _("preparing %s"), h->name);
	free(path);
	free(text);
	free(pub);
	free(standin);
	free(unit);
	free(keydir);
	free(key);
	free(comment);
	return rc;
}

static enum wiz_err host_root_mount(const struct lab_host *h, const struct lab_release *rel,
				     struct wiz_error *err)
{
	char *upper = xasprintf("%s/upper", h->dir);
	char *work = xasprintf("%s/work", h->dir);
	char *opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", rel->base, upper, work);
	enum wiz_err rc = WIZ_ERR_OK;

	if (wiz_mkdir_p(upper, 0755, err) != WIZ_ERR_OK ||
	    wiz_mkdir_p(work, 0755, err) != WIZ_ERR_OK ||
	    wiz_mkdir_p(h->root, 0755, err) != WIZ_ERR_OK) {
		rc = WIZ_ERR_IO;
		goto out;
	}
	if (!is_mount_point(h->root) &&
	    mount("overlay", h->root, "overlay", 0, opts) != 0)
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot mount the overlay root of %s on %s: %s"),
				   h->name, h->root, strerror(errno));
out:
	free(upper);
	free(work);
	free(opts);
	return rc;
}

/* ---- known_hosts and the cluster file ------------------------------------ */

const char *lab_cluster_file(void)
{
	return LAB_DIR "/cluster.yaml";
}

static void host_set(struct host *dst, const struct lab_host *h)
{
	memset(dst, 0, sizeof *dst);
	dst->name = xstrdup(h->name);
	dst->address = xstrdup(h->addr);
	dst->ssh.sudo = -1;
}

static enum wiz_err write_cluster_files(const struct lab_run *r, struct wiz_error *err)
{
	struct cluster c;
	char *kh = xstrdup("");
	char *yaml = NULL;
	size_t yaml_len = 0, nm = 0;
	enum wiz_err rc = WIZ_ERR_OK;

	cluster_init(&c, LAB_CLUSTER_NAME);
	free(c.kubernetes_version);
	c.kubernetes_version = xstrdup(LAB_KUBERNETES_VERSION);
	free(c.etcd.version);
	c.etcd.version = xstrdup(r->st.etcd);
	c.runtime.install = false;
	free(c.ssh.user);
	c.ssh.user = xstrdup("root");
	c.ssh.port = 22;
	c.ssh.identity_file = xstrdup(LAB_DIR "/id_ed25519");
	c.ssh.known_hosts = xstrdup(LAB_DIR "/known_hosts");
	c.members = xcalloc(r->n_hosts, sizeof *c.members);

	for (size_t i = 0; i < r->n_hosts; i++) {
		const struct lab_host *h = &r->hosts[i];
		char *pubfile = xasprintf(LAB_DIR "/hostkeys/%s/ssh_host_ed25519_key.pub", h->name);
		char *type = NULL, *blob = NULL, *fp = NULL, *line;

		rc = host_pubkey(pubfile, &type, &blob, &fp, err);
		free(pubfile);
		if (rc != WIZ_ERR_OK)
			goto out;
		line = xasprintf("%s%s %s %s\n", kh, h->addr, type, blob);
		free(kh);
		kh = line;
		kvlist_set(&c.host_keys, h->name, fp);
		if (strncmp(h->name, "cp-", 3) == 0) {
			c.control_plane.present = true;
			c.control_plane.endpoint = xasprintf("%s:6443", h->addr);
			c.control_plane.hosts = xcalloc(1, sizeof *c.control_plane.hosts);
			host_set(&c.control_plane.hosts[0], h);
			c.control_plane.n_hosts = 1;
		} else {
			host_set(&c.members[nm++], h);
		}
		free(type);
		free(blob);
		free(fp);
	}
	c.n_members = nm;
	rc = write_if_changed(LAB_DIR "/known_hosts", kh, strlen(kh), 0644, err);
	if (rc == WIZ_ERR_OK)
		rc = cluster_emit(&c, &yaml, &yaml_len, err);
	if (rc == WIZ_ERR_OK)
		rc = write_if_changed(lab_cluster_file(), yaml, yaml_len, 0600, err);
out:
	free(yaml);
	free(kh);
	cluster_free(&c);
	return rc;
}

/* ---- down ---------------------------------------------------------------- */

struct down_counts {
	int containers, processes, mounts, netns, links, routes;
};

static size_t lab_nspawn_pids(pid_t *pids, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end == '\0' && pid > 1 && pid != getpid() && is_lab_nspawn((pid_t)pid, NULL))
			pids[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

/* Every process in one of the lab's network namespaces. */
static size_t lab_netns_pids(pid_t *pids, size_t max)
{
	struct stat nss[64];
	size_t nns = 0, n = 0;
	DIR *d = opendir("/run/netns");
	struct dirent *e;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && nns < 64) {
		char *p;

		if (strncmp(e->d_name, LAB_NETNS_PREFIX, strlen(LAB_NETNS_PREFIX)) != 0)
			continue;
		p = xasprintf("/run/netns/%s", e->d_name);
		if (stat(p, &nss[nns]) == 0)
			nns++;
		free(p);
	}
	closedir(d);
	if (nns == 0)
		return 0;
	d = opendir("/proc");
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		char *end, *p;
		long pid = strtol(e->d_name, &end, 10);
		struct stat st;

		if (*end != '\0' || pid <= 1 || pid == getpid())
			continue;
		p = xasprintf("/proc/%ld/ns/net", pid);
		if (stat(p, &st) == 0) {
			for (size_t i = 0; i < nns; i++) {
				if (st.st_dev == nss[i].st_dev && st.st_ino == nss[i].st_ino &&
				    proc_alive((pid_t)pid)) {
					pids[n++] = (pid_t)pid;
					break;
				}
			}
		}
		free(p);
	}
	closedir(d);
	return n;
}

static bool any_alive(const pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (proc_alive(pids[i]))
			return true;
	return false;
}

static void reap_children(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void stop_processes(struct down_counts *dc, const struct lab_options *opt)
{
	pid_t pids[256];
	size_t n = lab_nspawn_pids(pids, 256);
	double deadline;

	/* nspawn turns SIGTERM into SIGRTMIN+3 for the container's systemd:
	 * a clean poweroff, after which nspawn exits. */
	if (n)
		progress(opt, P_("stopping %zu container", "stopping %zu containers", n), n);
	for (size_t i = 0; i < n; i++)
		kill(pids[i], SIGTERM);
	dc->containers += (int)n;
	deadline = now_seconds() + LAB_STOP_TIMEOUT;
	while (any_alive(pids, n) && now_seconds() < deadline) {
		reap_children();
		sleep_ms(100);
	}
	for (size_t i = 0; i < n; i++)
		if (proc_alive(pids[i]))
			kill(pids[i], SIGKILL);
	/* Whatever still lives in a lab namespace goes too. */
	for (int round = 0; round < 50; round++) {
		size_t m = lab_netns_pids(pids, 256);

		reap_children();
		if (m == 0)
			break;
		if (round == 0)
			dc->processes += (int)m;
		for (size_t i = 0; i < m; i++)
			kill(pids[i], SIGKILL);
		sleep_ms(100);
	}
}

static void remove_netns_and_links(struct down_counts *dc)
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *e;
	char **links = NULL;
	size_t nlinks = 0;

	/* The links first: a veth pair dies with its namespace, but it
	 * was still ours to count. */
	if (d) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, LAB_BRIDGE) != 0 &&
			    strncmp(e->d_name, LAB_LINK_PREFIX, strlen(LAB_LINK_PREFIX)) != 0)
				continue;
			links = xreallocarray(links, nlinks + 1, sizeof *links);
			links[nlinks++] = xstrdup(e->d_name);
		}
		closedir(d);
	}
	d = opendir("/run/netns");
	if (d) {
		while ((e = readdir(d)) != NULL) {
			char *p;

			if (strncmp(e->d_name, LAB_NETNS_PREFIX, strlen(LAB_NETNS_PREFIX)) != 0)
				continue;
			/* What `ip netns del` does: unmount the nsfs bind, unlink. */
			p = xasprintf("/run/netns/%s", e->d_name);
			if (umount2(p, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
				fprintf(stderr, "etcdwiz lab: umount %s: %s\n", p, strerror(errno));
			if (unlink(p) == 0)
				dc->netns++;
			free(p);
		}
		closedir(d);
	}
	for (size_t i = 0; i < nlinks; i++) {
		/* veths go with their namespace, asynchronously: allow a moment */
		for (int tries = 0; tries < 20 && link_exists(links[i]); tries++) {
			if (tries == 0 || strcmp(links[i], LAB_BRIDGE) == 0)
				RUN_QUIET("ip", "link", "del", links[i]);
			if (link_exists(links[i]))
				sleep_ms(50);
		}
	}
	dc->links += (int)nlinks;
	strv_free(links, nlinks);
	if (RUN_QUIET("ip", "route", "del", "unreachable", LAB_SUBNET, "metric",
		      LAB_ROUTE_METRIC) == 0)
		dc->routes++;
}

static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (d == NULL)
		return false;
	while ((e = readdir(d)) != NULL && empty)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = false;
	closedir(d);
	return empty;
}

static void remove_run_leftovers(const struct lab_state *st)
{
	if (!st->present)
		return;
	/* iproute2 bind-mounts /run/netns on itself the first time. */
	if (!st->netns_dir_was_mounted && dir_is_empty("/run/netns")) {
		umount2("/run/netns", MNT_DETACH);
		rmdir("/run/netns");
	}
	if (!st->nspawn_dir_existed && lab_is_dir("/run/systemd/nspawn"))
		lab_rm_rf("/run/systemd/nspawn");
}

static void teardown(const struct lab_state *st, bool purge, struct down_counts *dc,
		     const struct lab_options *opt)
{
	stop_processes(dc, opt);
	dc->mounts += unmount_under(LAB_DIR);
	remove_netns_and_links(dc);
	cgroups_remove();
	remove_run_leftovers(st);
	if (purge) {
		lab_rm_rf(LAB_DIR);
		return;
	}
	lab_rm_rf(LAB_DIR "/hosts");
	for (size_t i = 0; i < sizeof lab_releases / sizeof lab_releases[0]; i++) {
		char *tmp = xasprintf("%s.tmp", lab_releases[i].base);

		lab_rm_rf(tmp);
		free(tmp);
	}
	unlink(LAB_DIR "/known_hosts");
	unlink(lab_cluster_file());
	unlink(STATE_FILE);
}

enum wiz_err lab_down(bool purge, FILE *out, struct wiz_error *err)
{
	struct lab_state st;
	struct down_counts dc = { 0, 0, 0, 0, 0, 0 };
	struct lab_options opt = { .progress = out };
	int lockfd = -1;
	enum wiz_err rc = lab_check_prerequisites(false, err);

	if (rc != WIZ_ERR_OK)
		return rc;
	if (lab_is_dir(LAB_DIR)) {
		lockfd = lock_lab(err);
		if (lockfd < 0)
			return WIZ_ERR_IO;
	}
	state_load(&st);
	teardown(&st, purge, &dc, &opt);
	if (out) {
		if (dc.containers + dc.processes + dc.mounts + dc.netns + dc.links + dc.routes == 0)
			fprintf(out, _("No lab was running; nothing left to remove.\n"));
		else
			fprintf(out, _("Lab removed: %d containers, %d stray processes, %d mounts, "
				       "%d network namespaces, %d links, %d routes.\n"),
				dc.containers, dc.processes, dc.mounts, dc.netns, dc.links,
				dc.routes);
		if (purge)
			fprintf(out, _("Purged %s (base trees, etcd cache and keys).\n"), LAB_DIR);
	}
	if (lockfd >= 0)
		close(lockfd);
	return WIZ_ERR_OK;
}

/* ---- up ------------------------------------------------------------------ */

static void print_hosts(const struct lab_run *r, FILE *out, bool check_ssh)
{
	int w = 0;

	for (size_t i = 0; i < r->n_hosts; i++)
		if ((int)strlen(r->hosts[i].name) > w)
			w = (int)strlen(r->hosts[i].name);
	for (size_t i = 0; i < r->n_hosts; i++) {
		const struct lab_host *h = &r->hosts[i];
		bool running = host_nspawn_pid(h) != 0;
		const char *state;

		if (!running)
			state = _("stopped");
		else if (!check_ssh || ssh_answers(h->addr, 1000))
			state = _("up");
		else
			state = _("booting (sshd not answering)");
		fprintf(out, "  %-*s  %-15s  %s%s\n", w, h->name, h->addr, state,
			strncmp(h->name, "cp-", 3) == 0 ? _("  (control plane)") : "");
	}
}

static enum wiz_err wait_for_sshd(struct lab_run *r, struct wiz_error *err)
{
	bool ready[LAB_MAX_HOSTS] = { false };
	size_t left = r->n_hosts;
	double t0 = now_seconds(), deadline = t0 + r->opt->timeout;

	while (left > 0) {
		for (size_t i = 0; i < r->n_hosts; i++) {
			struct lab_host *h = &r->hosts[i];

			if (ready[i])
				continue;
			if (container_died(h))
				return wiz_error_set(err, WIZ_ERR_UNREACHABLE,
						     _("the container of %s stopped while booting; "
						       "see %s/nspawn.log"), h->name, h->dir);
			if (ssh_answers(h->addr, 500)) {
				ready[i] = true;
				left--;
				if (h->started > 0)
					progress(r->opt, _("%s: sshd answers after %.1f s"),
						 h->name, now_seconds() - t0);
			}
		}
		if (left == 0)
			break;
		if (now_seconds() > deadline) {
			for (size_t i = 0; i < r->n_hosts; i++)
				if (!ready[i])
					return wiz_error_set(err, WIZ_ERR_TIMEOUT,
							     _("sshd on %s (%s) did not answer within %d s; "
							       "see %s/nspawn.log"),
							     r->hosts[i].name, r->hosts[i].addr,
							     r->opt->timeout, r->hosts[i].dir);
		}
		sleep_ms(250);
	}
	return WIZ_ERR_OK;
}

static enum wiz_err up_steps(struct lab_run *r, struct wiz_error *err)
{
	enum wiz_err rc;
	size_t started = 0;

	rc = wiz_mkdir_p(LAB_DIR "/hosts", 0755, err);
	if (rc == WIZ_ERR_OK)
		rc = keygen(LAB_DIR "/id_ed25519", "etcdwiz-lab", err);
	if (rc == WIZ_ERR_OK)
		rc = net_bridge_up(err);
	if (rc != WIZ_ERR_OK)
		return rc;
	for (size_t i = 0; i < r->n_hosts; i++) {
		struct lab_host *h = &r->hosts[i];

		rc = net_host_up(h, err);
		if (rc == WIZ_ERR_OK)
			rc = host_root_mount(h, r->rel, err);
		if (rc != WIZ_ERR_OK)
			return rc;
		if (host_nspawn_pid(h) != 0)
			continue;
		rc = host_files(r, h, err);
		if (rc == WIZ_ERR_OK)
			rc = container_start(h, err);
		if (rc != WIZ_ERR_OK)
			return rc;
		started++;
	}
	if (started)
		progress(r->opt, P_("started %zu container, waiting for sshd",
				    "started %zu containers, waiting for sshd", started), started);
	rc = wait_for_sshd(r, err);
	if (rc == WIZ_ERR_OK)
		rc = write_cluster_files(r, err);
	return rc;
}

/* The etcd version the cluster file names: --etcd, else the lab's own
 * from before, else the newest 3.5; always one in the cache. */
static enum wiz_err choose_etcd(const struct lab_options *opt, struct lab_state *st,
				struct wiz_error *err)
{
	const char *want = opt->etcd_version ? opt->etcd_version : st->present && st->etcd[0] ? st->etcd : NULL;
	char *pick = want ? xstrdup(want) : lab_etcd_default_version();
	enum wiz_err rc = WIZ_ERR_OK;

	if (pick == NULL || !lab_etcd_cached(pick)) {
		char *have = lab_etcd_cached_list();

		rc = wiz_error_set(err, WIZ_ERR_NOTFOUND,
				   _("the lab has no etcd %s; it has: %s (from Debian's packages, in %s)"),
				   pick ? pick : "3.5", have[0] ? have : _("none"), LAB_ETCD_DIR);
		free(have);
	} else {
		snprintf(st->etcd, sizeof st->etcd, "%s", pick);
	}
	free(pick);
	return rc;
}

enum wiz_err lab_up(const struct lab_options *opt, FILE *out, struct wiz_error *err)
{
	struct lab_run r;
	int lockfd;
	enum wiz_err rc;
	double t0 = now_seconds();

	memset(&r, 0, sizeof r);
	r.opt = opt;
	if (opt->members < 1 || opt->members > LAB_MAX_MEMBERS)
		return wiz_error_set(err, WIZ_ERR_USAGE, _("a lab has 1 to %d members, not %d"),
				     LAB_MAX_MEMBERS, opt->members);
	state_load(&r.st);	/* again under the lock below */
	r.rel = release_find(opt->release ? opt->release
			     : r.st.present && r.st.release[0] ? r.st.release : LAB_SUITE);
	if (r.rel == NULL)
		return wiz_error_set(err, WIZ_ERR_USAGE,
				     _("the lab has no Debian release '%s'; it has bookworm (12) and trixie (13)"),
				     opt->release ? opt->release : r.st.release);
	rc = lab_check_prerequisites(!base_ready(r.rel), err);
	if (rc != WIZ_ERR_OK)
		return rc;
	for (size_t i = 0; i < sizeof lab_files / sizeof lab_files[0]; i++) {
		char *p = lab_find_file(lab_files[i]);

		if (p == NULL)
			return wiz_error_set(err, WIZ_ERR_NOTFOUND,
					     _("lab file %s not found (searched $ETCDWIZ_LAB_PATH, "
					       "./lab next to etcdwiz and %s)"),
					     lab_files[i], PKGLIBEXECDIR);
		free(p);
	}
	lockfd = lock_lab(err);
	if (lockfd < 0)
		return WIZ_ERR_IO;

	state_load(&r.st);
	if (r.st.present && r.st.release[0] == '\0')
		snprintf(r.st.release, sizeof r.st.release, "%s", LAB_SUITE);	/* older state */
	if (r.st.present && strcmp(r.st.release, r.rel->suite) != 0) {
		rc = wiz_error_set(err, WIZ_ERR_EXISTS,
				   _("a lab of %s hosts already exists; run 'etcdwiz lab down' "
				     "first to make one of %s hosts"), r.st.release, r.rel->suite);
		goto out;
	}
	if (r.st.present && (r.st.members != opt->members ||
			     r.st.control_plane != opt->control_plane)) {
		rc = wiz_error_set(err, WIZ_ERR_EXISTS,
				   _("a lab with %d members%s already exists; run 'etcdwiz lab down' "
				     "first to make one with %d members%s"),
				   r.st.members, r.st.control_plane ? _(" and a control-plane host") : "",
				   opt->members, opt->control_plane ? _(" and a control-plane host") : "");
		goto out;
	}
	if (!base_ready(r.rel) && r.st.present) {
		/* Its hosts' roots are overlays over that tree: never rebuilt under them. */
		rc = wiz_error_set(err, WIZ_ERR_EXISTS,
				   _("the lab's base tree %s is out of date (an older etcdwiz or base-setup.sh made it); run 'etcdwiz lab down', then 'lab up' again"),
				   r.rel->base);
		goto out;
	}
	if (!base_ready(r.rel)) {
		rc = base_build(opt, r.rel, err);
		if (rc != WIZ_ERR_OK)
			goto out;
	}
	rc = lab_etcd_cache_fill(opt->progress, err);
	if (rc != WIZ_ERR_OK)
		goto out;
	rc = choose_etcd(opt, &r.st, err);
	if (rc != WIZ_ERR_OK)
		goto out;
	if (!r.st.present) {
		/* Before anything is made: remember what existed, so `down`
		 * removes only what the lab added. */
		r.st.present = true;
		r.st.members = opt->members;
		r.st.control_plane = opt->control_plane;
		snprintf(r.st.release, sizeof r.st.release, "%s", r.rel->suite);
		r.st.netns_dir_was_mounted = is_mount_point("/run/netns");
		r.st.nspawn_dir_existed = lab_is_dir("/run/systemd/nspawn");
	}
	rc = state_save(&r.st, err);
	if (rc != WIZ_ERR_OK)
		goto out;
	hosts_init(&r, opt->members, opt->control_plane);
	rc = up_steps(&r, err);
	if (rc != WIZ_ERR_OK) {
		struct down_counts dc = { 0, 0, 0, 0, 0, 0 };

		fprintf(stderr, _("etcdwiz lab: up failed, removing the partial lab...\n"));
		teardown(&r.st, false, &dc, opt);
		goto out;
	}
	if (out) {
		fprintf(out, P_("Lab up: %zu host (Debian %s, systemd-nspawn) on %s, ready in %.0f s\n",
				"Lab up: %zu hosts (Debian %s, systemd-nspawn) on %s, ready in %.0f s\n",
				r.n_hosts),
			r.n_hosts, r.rel->debian, LAB_SUBNET, now_seconds() - t0);
		print_hosts(&r, out, false);
		fprintf(out, _("Cluster file: %s (etcd %s)\n"), lab_cluster_file(), r.st.etcd);
		fprintf(out, _("Log in:       ssh -i %s -o UserKnownHostsFile=%s root@%s\n"),
			LAB_DIR "/id_ed25519", LAB_DIR "/known_hosts", r.hosts[0].addr);
	}
out:
	hosts_free(&r);
	close(lockfd);
	return rc;
}

/* ---- status -------------------------------------------------------------- */

enum wiz_err lab_status(FILE *out, struct wiz_error *err)
{
	struct lab_run r;
	pid_t pids[64];
	enum wiz_err rc = lab_check_prerequisites(false, err);
	size_t down = 0;

	if (rc != WIZ_ERR_OK)
		return rc;
	memset(&r, 0, sizeof r);
	state_load(&r.st);
	if (!r.st.present) {
		if (lab_nspawn_pids(pids, 64) > 0 || link_exists(LAB_BRIDGE)) {
			fprintf(out, _("No lab state file, but lab containers or links exist: "
				       "run 'etcdwiz lab down' to remove them.\n"));
			return WIZ_ERR_UNREACHABLE;
		}
		fprintf(out, _("No lab. Create one with 'etcdwiz lab up'.\n"));
		return WIZ_ERR_NOTFOUND;
	}
	hosts_init(&r, r.st.members, r.st.control_plane);
	r.rel = release_find(r.st.release[0] ? r.st.release : LAB_SUITE);
	fprintf(out, P_("Lab: %zu host on %s (bridge %s); Debian %s, base tree %s\n",
			"Lab: %zu hosts on %s (bridge %s); Debian %s, base tree %s\n", r.n_hosts),
		r.n_hosts, LAB_SUBNET, LAB_BRIDGE, r.rel ? r.rel->debian : "?",
		r.rel ? r.rel->base : "?");
	print_hosts(&r, out, true);
	for (size_t i = 0; i < r.n_hosts; i++)
		if (host_nspawn_pid(&r.hosts[i]) == 0 || !ssh_answers(r.hosts[i].addr, 1000))
			down++;
	if (access(lab_cluster_file(), R_OK) == 0)
		fprintf(out, _("Cluster file: %s\n"), lab_cluster_file());
	hosts_free(&r);
	return down ? WIZ_ERR_UNREACHABLE : WIZ_ERR_OK;
}
