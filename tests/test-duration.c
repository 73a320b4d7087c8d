#include "config.h"

#include "tests/unit.h"

#include <string.h>

#include "base/strutil.h"
#include "cluster/cluster.h"

static void test_duration_parse_units(void **state)
{
	uint64_t v;

	(void)state;
	assert_true(duration_parse("8760h", &v));
	assert_int_equal(v, UINT64_C(8760) * 3600);
	assert_true(duration_parse("365d", &v));
	assert_int_equal(v, UINT64_C(365) * 86400);
	assert_true(duration_parse("90m", &v));
	assert_int_equal(v, 5400);
	assert_true(duration_parse("1h30m15s", &v));
	assert_int_equal(v, 5415);
}

static void test_duration_parse_rejects(void **state)
{
	uint64_t v = 42;

	(void)state;
	assert_false(duration_parse("", &v));
	assert_false(duration_parse("h", &v));
	assert_false(duration_parse("10", &v));
	assert_false(duration_parse("10y", &v));
	assert_false(duration_parse("-1h", &v));
	assert_false(duration_parse("1.5h", &v));
	assert_false(duration_parse("99999999999999999999h", &v));
	assert_int_equal(v, 42);
}

static void test_duration_format_roundtrip(void **state)
{
	static const uint64_t values[] = { 1, 59, 60, 3600, 5415, 86400,
					   UINT64_C(87600) * 3600 };

	(void)state;
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		char *s = duration_format(values[i]);
		uint64_t back;

		assert_true(duration_parse(s, &back));
		assert_int_equal(back, values[i]);
		free(s);
	}
	{
		char *s = duration_format(UINT64_C(365) * 86400);

		assert_string_equal(s, "8760h");
		free(s);
	}
}

static void test_strutil_names(void **state)
{
	(void)state;
	assert_true(str_is_rfc1123_label("etcd01"));
	assert_true(str_is_rfc1123_label("a"));
	assert_false(str_is_rfc1123_label("Etcd01"));
	assert_false(str_is_rfc1123_label("-a"));
	assert_false(str_is_rfc1123_label("a-"));
	assert_false(str_is_rfc1123_label("a_b"));
	assert_false(str_is_rfc1123_label(""));
	assert_false(str_is_rfc1123_label("a234567890123456789012345678901234567890123456789012345678901234"));
	assert_true(str_is_dns_name("etcd03.example.internal"));
	assert_false(str_is_dns_name("a..b"));
	assert_false(str_is_dns_name(".a"));
	assert_true(str_is_ip("198.51.100.11"));
	assert_true(str_is_ip("2001:db8::1"));
	assert_false(str_is_ip("198.51.100.011"));
	assert_false(str_is_ip("[::1]"));
	assert_true(str_is_host_port("api.example:6443"));
	assert_true(str_is_host_port("[2001:db8::1]:6443"));
	assert_false(str_is_host_port("api.example"));
	assert_false(str_is_host_port("api.example:0"));
	assert_true(str_is_cidr("10.244.0.0/16"));
	assert_false(str_is_cidr("10.244.0.0/33"));
	assert_true(str_is_cidr("fd00::/64"));
}

WIZ_UNIT_TESTS(cmocka_unit_test(test_duration_parse_units),
	       cmocka_unit_test(test_duration_parse_rejects),
	       cmocka_unit_test(test_duration_format_roundtrip),
	       cmocka_unit_test(test_strutil_names))
