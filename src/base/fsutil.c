#include "config.h"

#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/i18n.h"
#include "base/xmalloc.h"

static enum wiz_err fsync_parent(const char *path, struct wiz_error *err)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	enum wiz_err rc = WIZ_ERR_OK;
	int fd;

	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot sync directory %s: %s"),
				   dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

enum wiz_err wiz_rename_durable(const char *from, const char *to, struct wiz_error *err)
{
	if (rename(from, to) != 0)
		return wiz_error_set(err, WIZ_ERR_IO, _("cannot rename %s to %s: %s"), from, to, strerror(errno));
	return fsync_parent(to, err);
}

enum wiz_err wiz_write_file_atomic(const char *path, const void *data,
				   size_t len, mode_t mode,
				   struct wiz_error *err)
{
	const char *base = strrchr(path, '/');
	char *tmp;
	const char *p = data;
	size_t done = 0;
	enum wiz_err rc = WIZ_ERR_OK;
	int fd;

	base = base ? base + 1 : path;
	/* Leading dot: watchers such as kubelet's staticPodPath skip it. */
	tmp = xasprintf("%.*s.%s.XXXXXX", (int)(base - path), path, base);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot create %s: %s"),
				   tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	if (fchmod(fd, mode) != 0) {
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot set mode of %s: %s"),
				   tmp, strerror(errno));
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot write %s: %s"),
					   tmp, strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0) {
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot sync %s: %s"), tmp,
				   strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot write %s: %s"), tmp,
				   strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot replace %s: %s"),
				   path, strerror(errno));
		goto out;
	}
	rc = fsync_parent(path, err);
out:
	if (fd >= 0)
		close(fd);
	if (rc != WIZ_ERR_OK)
		unlink(tmp);
	free(tmp);
	return rc;
}

enum wiz_err wiz_mkdir_p(const char *path, mode_t mode, struct wiz_error *err)
{
	char *copy = xstrdup(path);
	enum wiz_err rc = WIZ_ERR_OK;
	char *p;

	for (p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		{
			char saved = *p;

			*p = '\0';
			if (mkdir(copy, mode) != 0 && errno != EEXIST) {
				rc = wiz_error_set(err, WIZ_ERR_IO,
						   _("cannot create directory %s: %s"),
						   copy, strerror(errno));
				break;
			}
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	free(copy);
	return rc;
}

enum wiz_err wiz_read_file(const char *path, size_t max, char **data,
			   size_t *len, struct wiz_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	enum wiz_err rc = WIZ_ERR_OK;

	*data = NULL;
	if (len)
		*len = 0;
	if (f == NULL)
		return wiz_error_set(err, errno == ENOENT ? WIZ_ERR_NOTFOUND : WIZ_ERR_IO,
				     _("cannot read %s: %s"), path, strerror(errno));
	for (;;) {
		size_t got;

		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = xreallocarray(buf, cap, 1);
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n > max) {
			rc = wiz_error_set(err, WIZ_ERR_IO,
					   _("%s is larger than %zu bytes"), path, max);
			goto out;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = wiz_error_set(err, WIZ_ERR_IO, _("cannot read %s: %s"), path,
				   strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	*data = buf;
	buf = NULL;
	if (len)
		*len = n;
out:
	/* The buffer may hold key material: wipe it on the error paths too. */
	if (buf != NULL)
		wiz_free_secret(buf, cap);
	fclose(f);
	return rc;
}

bool wiz_file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

char *wiz_data_dir(void)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");

	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/etcdwiz", xdg);
	if (home == NULL || home[0] == '\0')
		home = "/root";
	return xasprintf("%s/.local/share/etcdwiz", home);
}
