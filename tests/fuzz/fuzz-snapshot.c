/* libFuzzer target: the snapshot stream decoder (the maintenance Snapshot
 * call's JSON lines, base64 blobs, the trailing SHA-256), fed in pieces
 * whose sizes come from the input's first byte. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "etcd/etcd-snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool discard(const void *p, size_t len, void *ud)
{
	(void)p;
	(void)len;
	(void)ud;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etcd_snapshot_decoder *d;
	struct etcd_snapshot_info info;
	struct wiz_error err;
	size_t piece, at = 1;

	if (size == 0)
		return 0;
	piece = (size_t)data[0] + 1;
	d = etcd_snapshot_decoder_new(discard, NULL);
	while (at < size) {
		size_t n = size - at < piece ? size - at : piece;

		if (etcd_snapshot_feed(d, (const char *)data + at, n, &err) != WIZ_ERR_OK)
			break;
		at += n;
	}
	if (at >= size)
		(void)etcd_snapshot_finish(d, &info, &err);
	etcd_snapshot_decoder_free(d);
	return 0;
}
