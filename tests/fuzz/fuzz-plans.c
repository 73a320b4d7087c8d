/* libFuzzer target: each step's plan over arbitrary probe output (what a
 * compromised or unusual host prints for the checks), on the seed's
 * cluster, for a member and for a control-plane host, with the live
 * cluster unknown. A plan may refuse or find anything; it must not crash,
 * leak or read out of bounds. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "install/os-release.h"
#include "install/plan.h"
#include "install/probe.h"
#include "install/step.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char seed_cluster[] =
	"apiVersion: etcdwiz/v1\nkind: Cluster\nname: fuzz\nkubernetesVersion: \"1.33\"\n"
	"etcd:\n  version: 3.5.21\n  extraArgs:\n    quota-backend-bytes: \"8589934592\"\n"
	"backup:\n  schedule: daily\n"
	"members:\n  - name: etcd01\n    address: 10.0.0.1\n  - name: etcd02\n    address: 10.0.0.2\n"
	"  - name: etcd03\n    address: 10.0.0.3\n"
	"controlPlane:\n  endpoint: k8s.example.internal:6443\n  hosts:\n    - name: cp01\n      address: 10.0.0.10\n";

static struct cluster cluster;
static struct os_info os;
static bool loaded;

static char *no_local(const struct step_env *env, const char *rel, size_t *len)
{
	(void)env;
	(void)rel;
	*len = 0;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	struct probe *p;

	if (!loaded) {
		struct diag_list d;

		diag_list_init(&d, "seed");
		if (cluster_load_string("seed", seed_cluster, strlen(seed_cluster), &cluster, &d) != WIZ_ERR_OK)
			abort();
		diag_list_free(&d);
		os_info_parse("ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n", &os);
		loaded = true;
	}
	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	p = probe_parse(text);
	for (size_t k = 0; step_table[k]; k++) {
		for (int cp = 0; cp < 2; cp++) {
			const struct step *s = step_table[k];
			struct step_env env;
			struct plan plan;

			if (!(s->hosts & (cp ? STEP_CONTROL_PLANE : STEP_MEMBERS)))
				continue;
			memset(&env, 0, sizeof env);
			env.cluster = &cluster;
			env.host = cp ? &cluster.control_plane.hosts[0] : &cluster.members[1];
			env.is_member = !cp;
			env.member_index = cp ? 0 : 1;
			env.probe = p;
			env.os = &os;
			env.cluster_token = "fuzz-token";
			env.applying = size % 2 == 1;
			env.read_local = no_local;
			plan_init(&plan);
			s->plan(&env, &plan);
			plan_free(&plan);
		}
	}
	probe_free(p);
	free(text);
	return 0;
}
