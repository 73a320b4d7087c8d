#ifndef WIZ_OS_RELEASE_H
#define WIZ_OS_RELEASE_H

#include <stdbool.h>

/* What /etc/os-release says, and the package family that follows. */
enum os_family { OS_UNKNOWN, OS_DEBIAN, OS_RHEL };

struct os_info {
	enum os_family family;
	char id[32];		/* debian, ubuntu, rhel, rocky, almalinux, centos */
	char version_id[16];	/* 12, 24.04, 9.4 */
	char pretty[96];
	bool supported;
};

/* Parse /etc/os-release text. Supported: Debian 12 and 13, Ubuntu 22.04 and 24.04,
 * RHEL-family 8 and 9 (rhel, rocky, almalinux, centos stream, ol). */
void os_info_parse(const char *os_release, struct os_info *os);

#endif
