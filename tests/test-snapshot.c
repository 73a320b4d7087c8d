/* The snapshot stream's decoder (src/etcd/etcd-snapshot.c) on a real
 * capture: Debian's etcd 3.4.23 answering POST /v3/maintenance/snapshot
 * through its gateway, 200 keys written first (the decoded file is the
 * one `etcdctl snapshot status` read: 90144 bytes, revision 201). */
#include "config.h"

#include "tests/unit.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xmalloc.h"
#include "etcd/etcd-snapshot.h"
#include "install/restore.h"

#define CAPTURE_SHA256 "1c70dda66bae7f3ab536ab24c309fbf11c60850f0d77d39d97e39ff2c03203fa"

struct sink {
	size_t len;
	size_t stop_at;		/* 0: never */
	unsigned char first[16];
};

static bool sink_write(const void *data, size_t len, void *ud)
{
	struct sink *s = ud;

	if (s->len < sizeof s->first)
		memcpy(s->first + s->len, data, len < sizeof s->first - s->len ? len : sizeof s->first - s->len);
	s->len += len;
	return s->stop_at == 0 || s->len < s->stop_at;
}

static char *capture(size_t *len)
{
	char *path = unit_fixture("etcd/snapshot-3.4.jsonl"), *data = NULL;
	struct wiz_error err;

	assert_int_equal(wiz_read_file(path, 1 << 20, &data, len, &err), WIZ_ERR_OK);
	return data;
}

/* Feed in pieces of 1 to 5003 bytes, varying: lines split anywhere. */
static enum wiz_err feed_pieces(struct etcd_snapshot_decoder *d, const char *data, size_t len,
				struct wiz_error *err)
{
	size_t off = 0, piece = 1;

	while (off < len) {
		size_t n = piece < len - off ? piece : len - off;
		enum wiz_err rc = etcd_snapshot_feed(d, data + off, n, err);

		if (rc != WIZ_ERR_OK)
			return rc;
		off += n;
		piece = (piece * 31 + 7) % 5003 + 1;
	}
	return WIZ_ERR_OK;
}

static void test_capture_decodes(void **state)
{
	struct sink s = { 0 };
	struct etcd_snapshot_decoder *d = etcd_snapshot_decoder_new(sink_write, &s);
	struct etcd_snapshot_info info;
	struct wiz_error err;
	size_t len;
	char *data = capture(&len);

	(void)state;
	if (feed_pieces(d, data, len, &err) != WIZ_ERR_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(etcd_snapshot_finish(d, &info, &err), WIZ_ERR_OK);
	assert_int_equal(info.size, 90144);
	assert_int_equal(s.len, 90144);
	assert_string_equal(info.sha256, CAPTURE_SHA256);
	/* A bolt database begins with its meta page: page id 0, flags 0x04. */
	assert_int_equal(s.first[8], 0x04);
	etcd_snapshot_decoder_free(d);
	free(data);
}

/* What is refused, with what. */
static void expect(const char *data, size_t len, size_t stop_at, enum wiz_err want_feed,
		   enum wiz_err want_finish, const char *needle)
{
	struct sink s = { .stop_at = stop_at };
	struct etcd_snapshot_decoder *d = etcd_snapshot_decoder_new(sink_write, &s);
	struct etcd_snapshot_info info;
	struct wiz_error err = { 0 };
	enum wiz_err rc = feed_pieces(d, data, len, &err);

	assert_int_equal(rc, want_feed);
	if (rc == WIZ_ERR_OK)
		assert_int_equal(etcd_snapshot_finish(d, &info, &err), want_finish);
	if (strstr(err.msg, needle) == NULL)
		fail_msg("'%s' does not say '%s'", err.msg, needle);
	etcd_snapshot_decoder_free(d);
}

static void test_refusals(void **state)
{
	size_t len;
	char *data = capture(&len), *copy, *nl;

	(void)state;
	/* One character of the first blob changed: the hash says so. */
	copy = xstrndup(data, len);
	copy[400] = copy[400] == 'A' ? 'B' : 'A';
	expect(copy, len, 0, WIZ_ERR_OK, WIZ_ERR_CRYPTO, "does not match its database");
	free(copy);
	/* The last line (the hash) missing: ended early. */
	copy = xstrndup(data, len);
	nl = strrchr(copy, '\n');
	*nl = '\0';
	nl = strrchr(copy, '\n');
	nl[1] = '\0';
	expect(copy, strlen(copy), 0, WIZ_ERR_OK, WIZ_ERR_PARSE, "ended early");
	free(copy);
	/* Cut in the middle of a line. */
	expect(data, len / 2, 0, WIZ_ERR_OK, WIZ_ERR_PARSE, "malformed JSON");
	/* The writer fails. */
	expect(data, len, 1000, WIZ_ERR_IO, WIZ_ERR_OK, "could not be written");
	/* etcd's error line. */
	{
		static const char e[] = "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"etcdserver: leader changed\",\"http_status\":\"Service Unavailable\"}}\n";

		expect(e, strlen(e), 0, WIZ_ERR_REMOTE, WIZ_ERR_OK, "etcd stopped the snapshot: etcdserver: leader changed");
	}
	/* Not base64; not JSON; a small "database". */
	{
		static const char b[] = "{\"result\":{\"remaining_bytes\":\"5\",\"blob\":\"@@@@\"}}\n";
		static const char j[] = "this is not json\n";
		/* a database of 3 bytes, then a "hash" of 32 */
		static const char small[] = "{\"result\":{\"blob\":\"AAAA\"}}\n"
			"{\"result\":{\"blob\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}}\n";
		static const char after[] = "{\"result\":{\"blob\":\"AAAA\"}}\n{\"result\":{\"blob\":\"AAAA\"}}\n";
		static const char more[] = "{\"result\":{\"blob\":\"AAAA\"}}\n"
			"{\"result\":{\"blob\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}}\n{\"result\":{\"blob\":\"AAAA\"}}\n";

		expect(b, strlen(b), 0, WIZ_ERR_PARSE, WIZ_ERR_OK, "not base64");
		expect(j, strlen(j), 0, WIZ_ERR_PARSE, WIZ_ERR_OK, "/v3/maintenance/snapshot");
		expect(small, strlen(small), 0, WIZ_ERR_OK, WIZ_ERR_PARSE, "not a database and its 32-byte hash");
		expect(after, strlen(after), 0, WIZ_ERR_PARSE, WIZ_ERR_OK, "is not its 32-byte hash");
		expect(more, strlen(more), 0, WIZ_ERR_PARSE, WIZ_ERR_OK, "more came after the hash");
	}
	free(data);
}

/* restore's own check of a snapshot file: the capture decoded into a
 * file passes; one byte changed, or cut short, it is refused. */
static bool to_file(const void *data, size_t len, void *ud)
{
	return fwrite(data, 1, len, ud) == len;
}

static void test_restore_check(void **state)
{
	char dir[] = "/tmp/etcdwiz-snap-XXXXXX", *path, *data;
	struct etcd_snapshot_decoder *d;
	struct etcd_snapshot_info info;
	struct restore_snapshot snap;
	struct wiz_error err;
	size_t len;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/s.db", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	d = etcd_snapshot_decoder_new(to_file, f);
	data = capture(&len);
	assert_int_equal(etcd_snapshot_feed(d, data, len, &err), WIZ_ERR_OK);
	assert_int_equal(etcd_snapshot_finish(d, &info, &err), WIZ_ERR_OK);
	etcd_snapshot_decoder_free(d);
	free(data);
	fclose(f);
	assert_int_equal(restore_check_snapshot(path, &snap, &err), WIZ_ERR_OK);
	assert_int_equal(snap.size, 90144);
	assert_string_equal(snap.sha256, CAPTURE_SHA256);
	assert_int_equal(snap.revision, 0);	/* no sidecar */

	f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 5000, SEEK_SET), 0);
	assert_int_equal(fputc(0x5a, f), 0x5a);
	fclose(f);
	assert_int_equal(restore_check_snapshot(path, &snap, &err), WIZ_ERR_CRYPTO);
	assert_non_null(strstr(err.msg, "is damaged: its trailing SHA-256 does not match"));
	assert_int_equal(truncate(path, 4096), 0);
	assert_int_equal(restore_check_snapshot(path, &snap, &err), WIZ_ERR_PARSE);
	assert_non_null(strstr(err.msg, "is not an etcd snapshot"));
	assert_int_equal(restore_check_snapshot("/nonexistent/s.db", &snap, &err), WIZ_ERR_IO);
	unlink(path);
	rmdir(dir);
	free(path);
}

WIZ_UNIT_TESTS(cmocka_unit_test(test_capture_decodes), cmocka_unit_test(test_refusals),
	       cmocka_unit_test(test_restore_check))
