/* libFuzzer target: the cluster file loader and validator (what
 * `etcdwiz validate` and every command read first). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "cluster/cluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cluster c;
	struct diag_list d;
	char *out = NULL;
	size_t len = 0;
	struct wiz_error err;

	diag_list_init(&d, "fuzz.yaml");
	/* The loader takes any bytes: NULs and all. */
	if (cluster_load_string("fuzz.yaml", (const char *)data, size, &c, &d) == WIZ_ERR_OK &&
	    cluster_emit(&c, &out, &len, &err) == WIZ_ERR_OK)
		free(out);	/* a valid file is written back as well */
	cluster_free(&c);
	diag_list_free(&d);
	return 0;
}
