/* The snapshot stream's decoder (etcd-snapshot.h). The last 32 bytes seen
 * are held back from the database's hash until the next bytes come: at
 * the end they are the trailing hash, and everything before them was
 * hashed. */
#include "config.h"

#include "etcd/etcd-snapshot.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "etcd/etcd-json.h"

#define HASH_LEN 32

struct etcd_snapshot_decoder {
	etcd_snapshot_write_fn write;
	void *ud;
	char *line;		/* an incomplete line */
	size_t line_len, line_cap;
	gnutls_hash_hd_t db_hash;	/* the database: all but the tail */
	gnutls_hash_hd_t file_hash;	/* every byte */
	unsigned char tail[HASH_LEN];
	size_t tail_len;
	uint64_t bytes, remaining;
	size_t blobs;
	bool failed;
	/* The database's blobs, until one says nothing remains; then the one
	 * message with the 32-byte hash; then nothing. */
	enum { SNAP_DATA, SNAP_HASH_NEXT, SNAP_END } at;
};

struct etcd_snapshot_decoder *etcd_snapshot_decoder_new(etcd_snapshot_write_fn write, void *ud)
{
	struct etcd_snapshot_decoder *d = xcalloc(1, sizeof *d);

	d->write = write;
	d->ud = ud;
	if (gnutls_hash_init(&d->db_hash, GNUTLS_DIG_SHA256) < 0 ||
	    gnutls_hash_init(&d->file_hash, GNUTLS_DIG_SHA256) < 0)
		abort();	/* only when out of memory */
	return d;
}

void etcd_snapshot_decoder_free(struct etcd_snapshot_decoder *d)
{
	if (d == NULL)
		return;
	gnutls_hash_deinit(d->db_hash, NULL);
	gnutls_hash_deinit(d->file_hash, NULL);
	free(d->line);
	free(d);
}

uint64_t etcd_snapshot_bytes(const struct etcd_snapshot_decoder *d)
{
	return d->bytes;
}

uint64_t etcd_snapshot_remaining(const struct etcd_snapshot_decoder *d)
{
	return d->remaining;
}

/* The file's next bytes: the tail keeps the last HASH_LEN. */
static void account(struct etcd_snapshot_decoder *d, const unsigned char *p, size_t n)
{
	gnutls_hash(d->file_hash, p, n);
	d->bytes += n;
	if (d->tail_len + n <= HASH_LEN) {
		memcpy(d->tail + d->tail_len, p, n);
		d->tail_len += n;
		return;
	}
	/* Whatever falls out of the tail is the database's. */
	if (n >= HASH_LEN) {
		gnutls_hash(d->db_hash, d->tail, d->tail_len);
		gnutls_hash(d->db_hash, p, n - HASH_LEN);
		memcpy(d->tail, p + n - HASH_LEN, HASH_LEN);
	} else {
		size_t out = d->tail_len + n - HASH_LEN;

		gnutls_hash(d->db_hash, d->tail, out);
		memmove(d->tail, d->tail + out, d->tail_len - out);
		memcpy(d->tail + d->tail_len - out, p, n);
	}
	d->tail_len = HASH_LEN;
}

static enum wiz_err fail(struct etcd_snapshot_decoder *d, struct wiz_error *err, enum wiz_err code,
			 const char *fmt, const char *arg)
{
	d->failed = true;
	return wiz_error_set(err, code, fmt, arg);
}

static enum wiz_err one_line(struct etcd_snapshot_decoder *d, const char *text, size_t len,
			     struct wiz_error *err)
{
	struct etcd_snapshot_line l;
	gnutls_datum_t in, out = { NULL, 0 };
	enum wiz_err rc;

	if (len == 0 || (len == 1 && text[0] == '\r'))
		return WIZ_ERR_OK;
	if (d->at == SNAP_END)
		return fail(d, err, WIZ_ERR_PARSE, _("%s: more came after the hash"), "/v3/maintenance/snapshot");
	rc = etcd_json_parse_snapshot_line(text, len, &l, err);
	if (rc != WIZ_ERR_OK) {
		etcd_snapshot_line_free(&l);
		d->failed = true;
		return rc;
	}
	if (l.is_error) {
		rc = fail(d, err, WIZ_ERR_REMOTE, _("etcd stopped the snapshot: %s"),
			  l.error.message[0] ? l.error.message : _("(no message)"));
		etcd_snapshot_line_free(&l);
		return rc;
	}
	in.data = (unsigned char *)l.blob;
	in.size = (unsigned)strlen(l.blob);
	if (in.size > 0 && gnutls_base64_decode2(&in, &out) < 0) {
		etcd_snapshot_line_free(&l);
		return fail(d, err, WIZ_ERR_PARSE, _("%s: a blob is not base64"), "/v3/maintenance/snapshot");
	}
	d->blobs++;
	d->remaining = l.remaining_bytes;
	etcd_snapshot_line_free(&l);
	if (d->at == SNAP_HASH_NEXT) {
		if (out.size != HASH_LEN) {
			gnutls_free(out.data);
			return fail(d, err, WIZ_ERR_PARSE, _("%s: the message after the database is not its 32-byte hash"),
				    "/v3/maintenance/snapshot");
		}
		d->at = SNAP_END;
	} else if (d->remaining == 0) {
		d->at = SNAP_HASH_NEXT;	/* remaining_bytes is omitted when 0 */
	}
	if (out.size > 0) {
		account(d, out.data, out.size);
		if (!d->write(out.data, out.size, d->ud)) {
			gnutls_free(out.data);
			d->failed = true;
			return wiz_error_set(err, WIZ_ERR_IO, "%s", _("the snapshot could not be written"));
		}
	}
	gnutls_free(out.data);
	return WIZ_ERR_OK;
}

enum wiz_err etcd_snapshot_feed(struct etcd_snapshot_decoder *d, const char *data, size_t len,
				struct wiz_error *err)
{
	if (d->failed)
		return wiz_error_set(err, WIZ_ERR_USAGE, "%s", _("the snapshot stream failed already"));
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;
		enum wiz_err rc;

		if (d->line_len + take > ETCD_SNAPSHOT_LINE_MAX)
			return fail(d, err, WIZ_ERR_PARSE, _("%s: a line is too long"), "/v3/maintenance/snapshot");
		if (nl != NULL && d->line_len == 0) {
			rc = one_line(d, data, take, err);	/* whole in this read */
		} else {
			if (d->line_len + take + 1 > d->line_cap) {
				d->line_cap = d->line_len + take + 1 < 65536 ? 65536 : d->line_len + take + 1;
				d->line = xreallocarray(d->line, d->line_cap, 1);
			}
			memcpy(d->line + d->line_len, data, take);
			d->line_len += take;
			rc = WIZ_ERR_OK;
			if (nl != NULL) {
				rc = one_line(d, d->line, d->line_len, err);
				d->line_len = 0;
			}
		}
		if (rc != WIZ_ERR_OK)
			return rc;
		if (nl == NULL)
			break;
		data = nl + 1;
		len -= take + 1;
	}
	return WIZ_ERR_OK;
}

enum wiz_err etcd_snapshot_finish(struct etcd_snapshot_decoder *d, struct etcd_snapshot_info *out,
				  struct wiz_error *err)
{
	unsigned char db[HASH_LEN], file[HASH_LEN];
	static const char hex[] = "0123456789abcdef";

	memset(out, 0, sizeof *out);
	if (d->failed)
		return wiz_error_set(err, WIZ_ERR_USAGE, "%s", _("the snapshot stream failed already"));
	if (d->line_len > 0) {
		enum wiz_err rc = one_line(d, d->line, d->line_len, err);

		d->line_len = 0;
		if (rc != WIZ_ERR_OK)
			return rc;
	}
	d->failed = true;	/* finished: no more feeding */
	if (d->at != SNAP_END)
		return wiz_error_set(err, WIZ_ERR_PARSE,
				     _("the snapshot ended early: %llu bytes came, etcd said %llu more were to come"),
				     (unsigned long long)d->bytes, (unsigned long long)d->remaining);
	if (d->bytes < 512 + HASH_LEN || d->bytes % 512 != HASH_LEN)
		return wiz_error_set(err, WIZ_ERR_PARSE,
				     _("the snapshot is %llu bytes: not a database and its 32-byte hash"),
				     (unsigned long long)d->bytes);
	gnutls_hash_output(d->db_hash, db);
	if (memcmp(db, d->tail, HASH_LEN) != 0)
		return wiz_error_set(err, WIZ_ERR_CRYPTO, "%s",
				     _("the snapshot's trailing SHA-256 does not match its database: it was damaged on the way"));
	gnutls_hash_output(d->file_hash, file);
	for (size_t i = 0; i < HASH_LEN; i++) {
		out->sha256[2 * i] = hex[file[i] >> 4];
		out->sha256[2 * i + 1] = hex[file[i] & 15];
	}
	out->sha256[64] = '\0';
	out->size = d->bytes;
	return WIZ_ERR_OK;
}
