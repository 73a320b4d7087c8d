/* etcd's snapshot as the v3 JSON gateway streams it (POST
 * /v3/maintenance/snapshot, ../shared/DAY2.md §3): one JSON object per
 * line, each with a base64 blob; the blobs in order are the file
 * `etcdctl snapshot save` writes, the database followed by its 32-byte
 * SHA-256. The decoder takes the answer's bytes as they come (a line may
 * span any number of reads), hands each decoded blob to a writer, and at
 * the end checks the trailing hash against the bytes before it. Pure: no
 * I/O of its own, so the tests and the fuzzer feed it directly. */
#ifndef WIZ_ETCD_SNAPSHOT_H
#define WIZ_ETCD_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* false: stop (the writer failed; it keeps its own reason). */
typedef bool (*etcd_snapshot_write_fn)(const void *data, size_t len, void *ud);

struct etcd_snapshot_decoder;

struct etcd_snapshot_decoder *etcd_snapshot_decoder_new(etcd_snapshot_write_fn write, void *ud);
void etcd_snapshot_decoder_free(struct etcd_snapshot_decoder *d);
/* WIZ_ERR_PARSE for a malformed line, WIZ_ERR_REMOTE for etcd's error
 * line, WIZ_ERR_IO when the writer said stop; the decoder is then done. */
enum wiz_err etcd_snapshot_feed(struct etcd_snapshot_decoder *d, const char *data, size_t len,
				struct wiz_error *err);
/* Bytes of the file so far, and what etcd said was left (progress). */
uint64_t etcd_snapshot_bytes(const struct etcd_snapshot_decoder *d);
uint64_t etcd_snapshot_remaining(const struct etcd_snapshot_decoder *d);

struct etcd_snapshot_info {
	uint64_t size;		/* of the file, the trailing hash included */
	char sha256[65];	/* of the whole file, hex (what sha256sum prints) */
};
/* The stream ended: OK only when it ended on a whole line, the last blob
 * said nothing remains, the size is a database plus 32 bytes (a multiple
 * of 512, plus 32) and the trailing 32 bytes are the SHA-256 of the
 * rest. */
enum wiz_err etcd_snapshot_finish(struct etcd_snapshot_decoder *d, struct etcd_snapshot_info *out,
				  struct wiz_error *err);

#endif
