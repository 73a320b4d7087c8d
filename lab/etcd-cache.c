/* The lab's etcd versions: Debian's own packages of etcd from several
 * suites, unpacked once into LAB_ETCD_DIR/<version>/ (etcd, etcdctl and,
 * from 3.5, etcdutl). apt fetches them with a sources list and state of its
 * own under LAB_DIR/apt, so this machine's apt configuration and package
 * lists are never changed; nothing comes from a web download. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/i18n.h"
#include "base/strutil.h"
#include "base/xmalloc.h"
#include "lab/lab-internal.h"
#include "lab/lab.h"

#define APT_DIR LAB_DIR "/apt"

/* Which suite carries which version (the upgrade and restore work needs
 * two 3.5 patches and the 3.4 that Debian 12 ships). A suite that has
 * moved on gives its new version (said while fetching); LAB_ETCD_DIR/SUITE
 * links to the version fetched from it. */
static const struct {
	const char *suite;
	const char *version;
} etcd_sources[] = {
	{ "bookworm", "3.4.23" },	/* Debian 12 */
	{ "trixie", "3.5.16" },		/* Debian 13 */
	{ "sid", "3.5.30" },		/* unstable */
};
#define N_SOURCES (sizeof etcd_sources / sizeof etcd_sources[0])

static bool cached(const char *version)
{
	char *path = xasprintf(LAB_ETCD_DIR "/%s/etcd", version);
	struct stat st;
	bool ok = stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;

	free(path);
	return ok;
}

/* The version fetched from suite k (its link), or NULL. Caller frees. */
static char *suite_version(size_t k)
{
	char *link = xasprintf(LAB_ETCD_DIR "/%s", etcd_sources[k].suite);
	char buf[64];
	ssize_t n = readlink(link, buf, sizeof buf - 1);

	free(link);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return cached(buf) ? xstrdup(buf) : NULL;
}

bool lab_etcd_cached(const char *version)
{
	return version != NULL && version[0] != '\0' && strchr(version, '/') == NULL &&
	       strspn(version, "0123456789.") == strlen(version) && version[0] != '.' &&
	       cached(version);
}

/* "3.5.16" > "3.5.9": numeric per part. */
static int version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);

		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
		if ((*a && (*a < '0' || *a > '9')) || (*b && (*b < '0' || *b > '9')))
			break;
	}
	return 0;
}

char *lab_etcd_cached_list(void)
{
	char *list = xstrdup("");

	for (size_t i = 0; i < N_SOURCES; i++) {
		char *v = suite_version(i);

		if (v != NULL)
			xasprintf_append(&list, "%s%s", list[0] ? ", " : "", v);
		free(v);
	}
	return list;
}

char *lab_etcd_default_version(void)
{
	char *best = NULL;

	for (size_t i = 0; i < N_SOURCES; i++) {
		char *v = suite_version(i);

		if (v != NULL && version_at_least(v, 3, 5, 0) && !version_at_least(v, 3, 6, 0) &&
		    (best == NULL || version_cmp(v, best) > 0)) {
			free(best);
			best = v;
			v = NULL;
		}
		free(v);
	}
	return best;
}

/* The apt options that point apt at the lab's own files only. */
static const char *const apt_opts[] = {
	"-o", "Dir::Etc::SourceList=" APT_DIR "/sources.list",
	"-o", "Dir::Etc::SourceParts=" APT_DIR "/none",
	"-o", "Dir::Etc::Preferences=" APT_DIR "/none/preferences",
	"-o", "Dir::Etc::PreferencesParts=" APT_DIR "/none",
	"-o", "Dir::State=" APT_DIR "/state",
	"-o", "Dir::State::status=" APT_DIR "/status",
	"-o", "Dir::Cache=" APT_DIR "/cache",
	"-o", "Debug::NoLocking=1",
	"-o", "APT::Sandbox::User=root",
	"-o", "Acquire::Languages=none",
	"-q",
};
#define N_APT_OPTS (sizeof apt_opts / sizeof apt_opts[0])

static enum wiz_err apt(const char *cwd, const char *const args[], int logfd, struct wiz_error *err)
{
	const char *argv[N_APT_OPTS + 8];
	size_t n = 0;

	argv[n++] = "apt-get";
	for (size_t i = 0; i < N_APT_OPTS; i++)
		argv[n++] = apt_opts[i];
	for (size_t i = 0; args[i] && n + 1 < sizeof argv / sizeof argv[0]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return lab_run_checked(argv, cwd, logfd, err);
}

static enum wiz_err apt_setup(const char *mirror, struct wiz_error *err)
{
	static const char *const dirs[] = {
		APT_DIR "/none", APT_DIR "/state/lists/partial", APT_DIR "/cache/archives/partial",
	};
	char *list = xstrdup("# the etcdwiz lab's own: only for fetching etcd (see lab/etcd-cache.c)\n");
	enum wiz_err rc = WIZ_ERR_OK;

	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && rc == WIZ_ERR_OK; i++)
		rc = wiz_mkdir_p(dirs[i], 0755, err);
	for (size_t i = 0; i < N_SOURCES; i++)
		xasprintf_append(&list, "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n",
				 mirror, etcd_sources[i].suite);
	if (rc == WIZ_ERR_OK)
		rc = wiz_write_file_atomic(APT_DIR "/sources.list", list, strlen(list), 0644, err);
	if (rc == WIZ_ERR_OK)
		rc = wiz_write_file_atomic(APT_DIR "/status", "", 0, 0644, err);
	free(list);
	return rc;
}

/* "3.5.16-4+b1" (or "1:3.5.16-4") -> "3.5.16". */
static char *upstream_version(const char *debian)
{
	const char *colon = strchr(debian, ':');
	const char *v = colon ? colon + 1 : debian;

	return xstrndup(v, strcspn(v, "-+~ \n"));
}

/* The PACKAGE_VERSION_ARCH.deb apt downloaded into dir, or NULL. */
static char *find_deb(const char *dir, const char *package)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = strlen(package);
	char *found = NULL;

	while (d && found == NULL && (e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);

		if (strncmp(e->d_name, package, n) == 0 && e->d_name[n] == '_' && l > 4 &&
		    strcmp(e->d_name + l - 4, ".deb") == 0)
			found = xasprintf("%s/%s", dir, e->d_name);
	}
	if (d)
		closedir(d);
	return found;
}

/* Fetch and unpack one suite's etcd into LAB_ETCD_DIR/<version>. */
static enum wiz_err fetch_one(size_t k, int logfd, struct wiz_error *err)
{
	const char *suite = etcd_sources[k].suite;
	char *work = xasprintf(LAB_ETCD_DIR "/.fetch-%s", suite);
	char *server = xasprintf("etcd-server/%s", suite), *client = xasprintf("etcd-client/%s", suite);
	char *tmp = NULL, *dest = NULL, *found = NULL, *debver = NULL, *source = NULL;
	static const char *const bins[] = { "etcd", "etcdctl", "etcdutl" };
	enum wiz_err rc;

	lab_rm_rf(work);
	rc = wiz_mkdir_p(work, 0755, err);
	if (rc == WIZ_ERR_OK)
		rc = apt(work, (const char *const[]){ "download", server, client, NULL }, logfd, err);
	if (rc != WIZ_ERR_OK)
		goto out;
	/* Unpack each .deb apt left here into work/root. */
	{
		static const char *const pkgs[] = { "etcd-server", "etcd-client" };

		for (size_t i = 0; i < 2 && rc == WIZ_ERR_OK; i++) {
			char *out = NULL, *deb = find_deb(work, pkgs[i]);

			if (deb == NULL) {
				rc = wiz_error_set(err, WIZ_ERR_NOTFOUND,
						   _("apt fetched no %s package from %s"), pkgs[i], suite);
				break;
			}
			if (i == 0) {
				out = NULL;
				if (lab_run_argv((const char *const[]){ "dpkg-deb", "-f", deb, "Version", NULL },
						 NULL, -1, &out) == 0 && out != NULL) {
					out[strcspn(out, "\n")] = '\0';
					debver = out;
				} else {
					free(out);
				}
			}
			rc = lab_run_checked((const char *const[]){ "dpkg-deb", "-x", deb, "root", NULL },
					     work, logfd, err);
			free(deb);
		}
	}
	if (rc != WIZ_ERR_OK)
		goto out;
	if (debver == NULL) {
		rc = wiz_error_set(err, WIZ_ERR_INVALID, _("cannot read the version of Debian %s's etcd-server package"),
				   suite);
		goto out;
	}
	found = upstream_version(debver);
	if (strspn(found, "0123456789.") != strlen(found) || found[0] == '\0' || found[0] == '.') {
		rc = wiz_error_set(err, WIZ_ERR_INVALID, _("Debian %s's etcd-server has an unexpected version %s"),
				   suite, debver);
		goto out;
	}
	if (strcmp(found, etcd_sources[k].version) != 0 && logfd >= 0)
		dprintf(logfd, "etcdwiz: Debian %s now has etcd %s (the lab expected %s)\n", suite, found,
			etcd_sources[k].version);
	tmp = xasprintf(LAB_ETCD_DIR "/.%s.tmp", found);
	dest = xasprintf(LAB_ETCD_DIR "/%s", found);
	lab_rm_rf(tmp);
	rc = wiz_mkdir_p(tmp, 0755, err);
	for (size_t i = 0; i < sizeof bins / sizeof bins[0] && rc == WIZ_ERR_OK; i++) {
		char *from = xasprintf("%s/root/usr/bin/%s", work, bins[i]);
		char *to = xasprintf("%s/%s", tmp, bins[i]);

		/* 3.4 has no etcdutl; etcd and etcdctl must be there. */
		if (access(from, X_OK) == 0) {
			if (rename(from, to) != 0)
				rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot move %s: %s"), from,
						   strerror(errno));
		} else if (i < 2) {
			rc = wiz_error_set(err, WIZ_ERR_NOTFOUND,
					   _("the etcd %s packages of %s have no /usr/bin/%s"), found,
					   suite, bins[i]);
		}
		free(from);
		free(to);
	}
	source = xasprintf("etcd-server and etcd-client %s from Debian %s (apt, %s)\n",
			   debver ? debver : found, suite, APT_DIR "/sources.list");
	if (rc == WIZ_ERR_OK)
		rc = wiz_write_file_atomic(LAB_ETCD_DIR "/.source-tmp", source, strlen(source), 0644, err);
	if (rc == WIZ_ERR_OK) {
		char *src = xasprintf("%s/SOURCE", tmp);

		lab_rm_rf(dest);
		if (rename(LAB_ETCD_DIR "/.source-tmp", src) != 0 || rename(tmp, dest) != 0)
			rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot put etcd %s in place: %s"),
					   found, strerror(errno));
		free(src);
	}
	if (rc == WIZ_ERR_OK) {
		char *link = xasprintf(LAB_ETCD_DIR "/%s", suite);
		char *tmplink = xasprintf(LAB_ETCD_DIR "/.%s.link", suite);

		unlink(tmplink);
		if (symlink(found, tmplink) != 0 || rename(tmplink, link) != 0)
			rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot put etcd %s in place: %s"),
					   found, strerror(errno));
		unlink(tmplink);
		free(tmplink);
		free(link);
	}
out:
	if (tmp)
		lab_rm_rf(tmp);
	lab_rm_rf(work);
	free(source);
	free(dest);
	free(tmp);
	free(found);
	free(debver);
	free(server);
	free(client);
	free(work);
	return rc;
}

/* Says a fetch that failed; the first failure is kept for the caller. */
static void fetch_failed(FILE *progress, const char *what, const struct wiz_error *e,
			 struct wiz_error *first, bool *have_first)
{
	if (progress)
		fprintf(progress, _("etcdwiz lab: no etcd from %s: %s\n"), what, e->msg);
	if (!*have_first) {
		*first = *e;
		*have_first = true;
	}
}

enum wiz_err lab_etcd_cache_fill(FILE *progress, struct wiz_error *err)
{
	char *mirror = NULL, *have;
	size_t missing = 0;
	struct wiz_error e, first;
	bool have_first = false;
	int logfd = -1;

	for (size_t i = 0; i < N_SOURCES; i++) {
		char *v = suite_version(i);

		missing += v == NULL;
		free(v);
	}
	if (missing == 0)
		return WIZ_ERR_OK;
	mirror = lab_mirror();
	if (wiz_mkdir_p(LAB_ETCD_DIR, 0755, &e) != WIZ_ERR_OK || apt_setup(mirror, &e) != WIZ_ERR_OK) {
		fetch_failed(progress, mirror, &e, &first, &have_first);
		goto out;
	}
	logfd = open(LAB_DIR "/etcd-fetch.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (progress)
		fprintf(progress, _("etcdwiz lab: fetching etcd %zu version(s) from Debian's packages "
				    "once (%s; log: %s)\n"), missing, mirror, LAB_DIR "/etcd-fetch.log");
	if (apt(NULL, (const char *const[]){ "update", NULL }, logfd, &e) != WIZ_ERR_OK) {
		fetch_failed(progress, mirror, &e, &first, &have_first);
		goto out;
	}
	/* A suite that cannot be had is said and skipped: the lab runs with
	 * the versions it has (choosing one it lacks is refused). */
	for (size_t i = 0; i < N_SOURCES; i++) {
		char *v = suite_version(i);

		if (v == NULL && fetch_one(i, logfd, &e) != WIZ_ERR_OK) {
			char *what = xasprintf("Debian %s", etcd_sources[i].suite);

			fetch_failed(progress, what, &e, &first, &have_first);
			free(what);
		}
		free(v);
	}
out:
	if (logfd >= 0)
		close(logfd);
	have = lab_etcd_cached_list();
	/* Only a lab left with no etcd at all is an error here. */
	if (have[0] == '\0' && have_first) {
		*err = first;
		wiz_error_prefix(err, _("fetching etcd for the lab from %s (see %s)"), mirror,
				 LAB_DIR "/etcd-fetch.log");
		free(have);
		free(mirror);
		return err->code;
	}
	free(have);
	free(mirror);
	return WIZ_ERR_OK;
}
