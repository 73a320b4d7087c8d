/* libFuzzer target: the /metrics reader (Prometheus text exposition). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "health/etcd-metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etcd_metrics m;
	struct wiz_error err;

	if (etcd_metrics_parse((const char *)data, size, &m, &err) == WIZ_ERR_OK) {
		(void)metrics_histogram_quantile(0.99, &m.wal_fsync);
		(void)metrics_histogram_quantile(0.5, &m.backend_commit);
	}
	return 0;
}
