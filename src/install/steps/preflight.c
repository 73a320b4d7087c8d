/* preflight: read-only checks with kubeadm-style names ([ERROR Name] /
 * [WARNING Name]); --ignore-preflight-errors=Name,... turns an error into a
 * warning. It changes nothing. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "base/i18n.h"
#include "base/xmalloc.h"
#include "install/step.h"
#include "install/steps/steps.h"

/* The marker the manifest step leaves: which cluster owns this host's etcd. */
#define OWNER_MARKER "/etc/kubernetes/etcdwiz-cluster"

static void preflight_reads(const struct step_env *env, struct probe_request *out)
{
	/* This machine's clock, for the host to subtract from its own (the
	 * check starts within a second or two of being built). */
	char now[24];

	snprintf(now, sizeof now, "%lld", (long long)time(NULL));
	probe_read_item(out, PROBE_SHELL, "os-release", "cat /etc/os-release 2>/dev/null");
	probe_item_args(probe_read_item(out, PROBE_SHELL, "facts",
		"echo arch=$(uname -m); echo cpus=$(nproc 2>/dev/null || echo 0)\n"
		"echo mem_kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)\n"
		"echo ntp=$(" PROBE_BOUNDED "timedatectl show -p NTPSynchronized --value 2>/dev/null || echo unknown)\n"
		"echo systemd=$(test -d /run/systemd/system && echo yes || echo no)\n"
		"if [ -d \"$1\" ]; then echo datadir=$(ls -A \"$1\" | wc -l); else echo datadir=absent; fi\n"
		"echo owner=$(cat \"$2\" 2>/dev/null)\n"
		"echo clock_skew=$(($(date +%s) - $3))"),
		(const char *const[]){ env->cluster->etcd.data_dir, OWNER_MARKER, now, NULL });
	/* One ss for the three ports: -p walks every process's fds. */
	probe_item_args(probe_read_item(out, PROBE_SHELL, "ports",
		"ls=$(ss -Htlnp 2>/dev/null); for p; do "
		"l=$(printf '%s\\n' \"$ls\" | awk -v p=\":$p\" 'substr($4, length($4) - length(p) + 1) == p' | head -n 1); "
		"case \"$l\" in '') echo \"$p=free\";; *'\"etcd\"'*) echo \"$p=etcd\";; *) echo \"$p=busy\";; esac; done"),
		(const char *const[]){ "2379", "2380", "2381", NULL });
	probe_read_item(out, PROBE_SHELL, "addresses",
			"ip -o addr show 2>/dev/null | awk '{print $4}' | cut -d/ -f1");
}

static bool ignored(const struct step_env *env, const char *name)
{
	if (env->ignore_preflight == NULL)
		return false;
	for (size_t i = 0; i < env->ignore_preflight->n; i++) {
		const char *s = env->ignore_preflight->items[i];

		if (strcasecmp(s, "all") == 0 || strcasecmp(s, name) == 0)
			return true;
	}
	return false;
}

#define CHECK_ERROR(name, ...) plan_finding(plan, !ignored(env, name), name, __VA_ARGS__)
#define CHECK_WARNING(name, ...) plan_finding(plan, false, name, __VA_ARGS__)

/* A number from a probe value; 0 when absent or malformed. */
static long probe_number(const char *s)
{
	char *end;
	long v;

	if (s == NULL)
		return 0;
	v = strtol(s, &end, 10);
	return end != s ? v : 0;
}

#define CLOCK_SKEW_MAX_S 300

static const char *const supported_arches[] = { "x86_64", "aarch64", "ppc64le", "s390x", NULL };

static void preflight_plan(const struct step_env *env, struct plan *plan)
{
	const char *osr = probe_section(env->probe, "os-release");
	const char *arch = probe_value(env->probe, "facts", "arch");
	const char *cpus = probe_value(env->probe, "facts", "cpus");
	const char *mem = probe_value(env->probe, "facts", "mem_kib");
	const char *ntp = probe_value(env->probe, "facts", "ntp");
	const char *systemd = probe_value(env->probe, "facts", "systemd");
	const char *datadir = probe_value(env->probe, "facts", "datadir");
	const char *owner = probe_value(env->probe, "facts", "owner");
	const char *skew = probe_value(env->probe, "facts", "clock_skew");
	struct os_info os;
	bool arch_ok = false;
	bool ours = owner != NULL && env->cluster->name != NULL &&
		    strcmp(owner, env->cluster->name) == 0;

	os_info_parse(osr, &os);
	if (!os.supported)
		CHECK_ERROR("OS", _("%s is not supported; etcdwiz supports Debian 12 and 13, Ubuntu 22.04 and 24.04, and RHEL-family 8 and 9"),
			    os.pretty);
	for (size_t i = 0; arch && supported_arches[i]; i++)
		arch_ok |= strcmp(arch, supported_arches[i]) == 0;
	if (!arch_ok)
		CHECK_ERROR("Arch", _("architecture %s has no Kubernetes packages"), arch ? arch : "?");
	if (probe_number(cpus) < 2)
		CHECK_WARNING("NumCPU", _("%s CPU(s); etcd wants at least 2"), cpus ? cpus : "?");
	if (probe_number(mem) < 1024L * 1024)
		CHECK_ERROR("Mem", _("%ld MiB of memory; etcd needs at least 1 GiB (2 GiB or more is better)"),
			    probe_number(mem) / 1024);
	else if (probe_number(mem) < 2L * 1024 * 1024)
		CHECK_WARNING("Mem", _("%ld MiB of memory; 2 GiB or more is better for etcd"),
			      probe_number(mem) / 1024);
	if (systemd == NULL || strcmp(systemd, "yes") != 0)
		CHECK_ERROR("Systemd", _("systemd is not running; kubelet runs as a systemd service"));
	/* Certificates made here start now: on a host an hour behind they
	 * are not valid yet, and etcd's leases and elections assume agreeing
	 * clocks. A few seconds are the check's own delay. */
	if (skew != NULL && (probe_number(skew) > CLOCK_SKEW_MAX_S || probe_number(skew) < -CLOCK_SKEW_MAX_S)) {
		long d = probe_number(skew);

		if (d > 0)
			CHECK_ERROR("ClockSkew", _("the clock of %s is %ld s ahead of this machine's (more than %d s): set it right (NTP: timedatectl set-ntp true); etcd members need agreeing clocks"),
				    env->host->name, d, CLOCK_SKEW_MAX_S);
		else
			CHECK_ERROR("ClockSkew", _("the clock of %s is %ld s behind this machine's (more than %d s): set it right (NTP: timedatectl set-ntp true), or certificates made here are not valid there yet"),
				    env->host->name, -d, CLOCK_SKEW_MAX_S);
	}
	if (ntp != NULL && strcmp(ntp, "no") == 0)
		CHECK_WARNING("ClockSync", _("the clock is not synchronised (timedatectl); etcd members and certificates need agreeing clocks"));
	for (int port = 2379; port <= 2381; port++) {
		char key[8], name[16];
		const char *state;

		snprintf(key, sizeof key, "%d", port);
		snprintf(name, sizeof name, "Port-%d", port);
		state = probe_value(env->probe, "ports", key);
		if (state != NULL && strcmp(state, "busy") == 0)
			CHECK_ERROR(name, _("port %d is in use by another program"), port);
		else if (state != NULL && strcmp(state, "etcd") == 0 && !ours)
			CHECK_ERROR(name, _("port %d is in use by an etcd that etcdwiz did not set up for cluster %s"),
				    port, env->cluster->name);
	}
	if (datadir != NULL && strcmp(datadir, "absent") != 0 && strcmp(datadir, "0") != 0 && !ours) {
		char name[256];
		const char *p = env->cluster->etcd.data_dir;
		size_t n = 0;

		/* kubeadm's naming: DirAvailable--var-lib-etcd */
		n += (size_t)snprintf(name, sizeof name, "DirAvailable-");
		for (; *p && n + 1 < sizeof name; p++)
			name[n++] = *p == '/' ? '-' : *p;
		name[n] = '\0';
		CHECK_ERROR(name, _("%s is not empty and does not belong to cluster %s; move its contents away or pick another etcd.dataDir"),
			    env->cluster->etcd.data_dir, env->cluster->name);
	}
	if (probe_section(env->probe, "addresses") != NULL && env->host->address != NULL) {
		if (!probe_has_line(env->probe, "addresses", env->host->address))
			CHECK_ERROR("AdvertiseAddress",
				    _("%s is not an address of this host; check members[].address of %s in the cluster file (it must be an IP of the host itself)"),
				    env->host->address, env->host->name);
	}
}

const struct step step_preflight = {
	.name = "preflight",
	.title = N_("Preflight checks"),
	.hosts = STEP_MEMBERS,
	.reads = preflight_reads,
	.plan = preflight_plan,
};
