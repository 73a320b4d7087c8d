/* libFuzzer target: every reader of etcd's v3 JSON gateway answers
 * (status, member list, member add, promote/remove, errors, alarms,
 * /version, /health, a snapshot line). The first byte picks the reader. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "etcd/etcd-json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	struct wiz_error err;

	if (size == 0)
		return 0;
	switch (data[0] % 9) {
	case 0: {
		struct etcd_status s;

		etcd_json_parse_status(buf, len, &s, &err);
		etcd_status_free(&s);
		break;
	}
	case 1: {
		struct etcd_member_list l;

		etcd_json_parse_member_list(buf, len, &l, &err);
		etcd_member_list_free(&l);
		break;
	}
	case 2: {
		struct etcd_member_add a;

		etcd_json_parse_member_add(buf, len, &a, &err);
		etcd_member_add_free(&a);
		break;
	}
	case 3: {
		struct etcd_member_list l;

		etcd_json_parse_members_after("promote", buf, len, &l, &err);
		etcd_member_list_free(&l);
		break;
	}
	case 4: {
		struct etcd_error e;

		etcd_json_parse_error(buf, len, &e, &err);
		etcd_error_free(&e);
		break;
	}
	case 5: {
		struct etcd_alarm_list a;

		etcd_json_parse_alarms(buf, len, &a, &err);
		etcd_alarm_list_free(&a);
		break;
	}
	case 6: {
		struct etcd_version v;

		etcd_json_parse_version(buf, len, &v, &err);
		etcd_version_free(&v);
		break;
	}
	case 7: {
		struct etcd_health h;

		etcd_json_parse_health(buf, len, &h, &err);
		etcd_health_free(&h);
		break;
	}
	default: {
		struct etcd_snapshot_line l;

		etcd_json_parse_snapshot_line(buf, len, &l, &err);
		etcd_snapshot_line_free(&l);
		break;
	}
	}
	return 0;
}
