#include "config.h"

#include "base/i18n.h"

#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/xmalloc.h"

#ifdef ENABLE_NLS
/* Run from its build tree (config.status beside the program), the
 * program reads the catalogues `make` compiled there (locale/), so that
 * LANGUAGE=zh_TW works before `make install`; NULL otherwise. */
static char *build_tree_localedir(void)
{
	char exe[PATH_MAX], *slash, *dir;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	struct stat st;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	dir = xasprintf("%s/config.status", exe);
	if (stat(dir, &st) != 0) {
		free(dir);
		return NULL;
	}
	free(dir);
	dir = xasprintf("%s/locale", exe);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		free(dir);
		return NULL;
	}
	return dir;
}
#endif

void wiz_i18n_init(void)
{
	setlocale(LC_ALL, "");
#ifdef ENABLE_NLS
	/* ETCDWIZ_LOCALEDIR: catalogues elsewhere (the tests build their
	 * own from po/). */
	const char *dir = getenv("ETCDWIZ_LOCALEDIR");
	char *built = dir && *dir ? NULL : build_tree_localedir();

	bindtextdomain(PACKAGE, dir && *dir ? dir : built ? built : LOCALEDIR);
	free(built);
	bind_textdomain_codeset(PACKAGE, "UTF-8");
	textdomain(PACKAGE);
#endif
}
