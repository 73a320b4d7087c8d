/* /etc/os-release, and the package family that follows. */
#include "config.h"

#include "install/os-release.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

static void unquote_into(const char *v, char *dst, size_t cap)
{
	size_t len = strlen(v);

	if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
		v++;
		len -= 2;
	}
	snprintf(dst, cap, "%.*s", (int)len, v);
}

void os_info_parse(const char *os_release, struct os_info *os)
{
	char *copy = xstrdup(os_release ? os_release : "");
	char id_like[96] = "";
	char *save = NULL;

	memset(os, 0, sizeof *os);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "ID=", 3) == 0)
			unquote_into(line + 3, os->id, sizeof os->id);
		else if (strncmp(line, "VERSION_ID=", 11) == 0)
			unquote_into(line + 11, os->version_id, sizeof os->version_id);
		else if (strncmp(line, "PRETTY_NAME=", 12) == 0)
			unquote_into(line + 12, os->pretty, sizeof os->pretty);
		else if (strncmp(line, "ID_LIKE=", 8) == 0)
			unquote_into(line + 8, id_like, sizeof id_like);
	}
	free(copy);
	if (os->pretty[0] == '\0')
		snprintf(os->pretty, sizeof os->pretty, "%s %s", os->id[0] ? os->id : "unknown",
			 os->version_id);

	if (strcmp(os->id, "debian") == 0) {
		os->family = OS_DEBIAN;
		os->supported = strcmp(os->version_id, "12") == 0 ||
				strcmp(os->version_id, "13") == 0;
	} else if (strcmp(os->id, "ubuntu") == 0) {
		os->family = OS_DEBIAN;
		os->supported = strcmp(os->version_id, "22.04") == 0 ||
				strcmp(os->version_id, "24.04") == 0;
	} else if (strcmp(os->id, "rhel") == 0 || strcmp(os->id, "rocky") == 0 ||
		   strcmp(os->id, "almalinux") == 0 || strcmp(os->id, "centos") == 0 ||
		   strcmp(os->id, "ol") == 0 || strstr(id_like, "rhel") != NULL) {
		os->family = OS_RHEL;
		os->supported = strncmp(os->version_id, "8", 1) == 0 ||
				strncmp(os->version_id, "9", 1) == 0;
		if (os->version_id[0] && os->version_id[1] && os->version_id[1] != '.')
			os->supported = false;	/* "80", "90" are not 8 or 9 */
	}
}
