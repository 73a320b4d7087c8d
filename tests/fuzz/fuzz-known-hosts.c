/* libFuzzer target: known_hosts lines as etcdwiz reads them (our scan,
 * one line at a time through libssh2's parser: plain and hashed entries,
 * markers, ports), for a host on port 22 and one on another port. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include <libssh2.h>

#include "ssh/ssh-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char offered[] = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialised;

	if (!initialised) {
		libssh2_init(0);
		initialised = true;
	}
	(void)ssh_known_hosts_scan_text((const char *)data, size, "10.0.0.1", offered);
	(void)ssh_known_hosts_scan_text((const char *)data, size, "[etcd-1.example]:2222", offered);
	return 0;
}
