#!/bin/bash
# Benchmark (not a test; issue #7). On lab clusters of 3, 5 and 7 members:
#  1. one full refresh, cold: `etcdwiz status --once --direct` (one process:
#     TLS to every member at once; status, health, version, member list,
#     alarms) against what an admin runs for the same endpoints,
#     `etcdctl endpoint status` then `etcdctl endpoint health`; rounds
#     alternate which goes first; medians and the ratio;
#  2. one full refresh, warm, as the dashboard does it every interval
#     (connections and TLS sessions kept, through SSH, /metrics included):
#     the median over 20 refreshes of the slowest member's refresh time
#     (refresh_ms in `status -o json`), against the same etcdctl pair;
#  3. with 7 members: the dashboard itself (full screen, scripted, 1 s
#     refresh) for 60 s: its CPU time as a share of one core and its peak
#     resident memory (goal: under 1% of a core).
# Usage: bench/status-bench.sh [ROUNDS [SIZES...]]   (default 5; 3 5 7)
#   ETCDWIZ=path/to/etcdwiz of a build without --enable-sanitizers. Root
#   only: it brings labs up and down (and refuses to touch one that is up).
export LC_ALL=C
BENCH_NAME=status-bench
. "$(dirname "$0")/lab-bench-lib.sh"
for t in etcdctl jq; do command -v $t >/dev/null || die "$t missing (apt-get install etcd-client jq)"; done
export XDG_DATA_HOME=$tmp/xdg ETCDCTL_API=3

printf '%-8s %14s %14s %8s %16s %8s\n' members "etcdctl pair" "status cold" ratio "dashboard warm" ratio
for n in $sizes; do
	"$etcdwiz" lab down >/dev/null 2>&1 || true
	"$etcdwiz" lab up -n "$n" -q >/dev/null 2>&1 || die "lab up -n $n failed"
	"$etcdwiz" apply --yes -f "$LAB/cluster.yaml" >"$tmp/apply" 2>&1 || { tail "$tmp/apply"; die "apply on $n members failed"; }
	pki=$XDG_DATA_HOME/etcdwiz/lab/pki
	ca=$pki/ca/etcd/ca.crt crt=$pki/members/etcd-1/etcd/healthcheck-client.crt key=$pki/members/etcd-1/etcd/healthcheck-client.key
	eps=$(for i in $(seq "$n"); do printf 'https://198.51.100.%d:2379,' $((10 + i)); done)
	eps=${eps%,}
	: >"$tmp/ctl" ; : >"$tmp/wiz"
	for r in $(seq "$rounds"); do
		ctl() {
			local t0; t0=$(now_ms)
			etcdctl --endpoints="$eps" --cacert="$ca" --cert="$crt" --key="$key" endpoint status >/dev/null 2>&1
			etcdctl --endpoints="$eps" --cacert="$ca" --cert="$crt" --key="$key" endpoint health >/dev/null 2>&1
			echo $(($(now_ms) - t0)) >>"$tmp/ctl"
		}
		wiz() {
			local t0; t0=$(now_ms)
			"$etcdwiz" status --direct --endpoints "$eps" --cacert "$ca" --cert "$crt" --key "$key" --once -o json >"$tmp/once.json"
			echo $(($(now_ms) - t0)) >>"$tmp/wiz"
			[ "$(jq -r .badge "$tmp/once.json")" = HEALTHY ] || die "status --once did not see a healthy cluster"
		}
		if [ $((r % 2)) -eq 1 ]; then ctl; wiz; else wiz; ctl; fi
	done
	# Warm: 22 snapshots at 1 s; the first two (connecting) are dropped.
	timeout 60 "$etcdwiz" status -f "$LAB/cluster.yaml" -o json --interval 1 2>/dev/null |
		head -n 22 | tail -n 20 | jq '[.members[].refresh_ms] | max' >"$tmp/warm" || true
	c=$(median <"$tmp/ctl") w=$(median <"$tmp/wiz") h=$(median <"$tmp/warm")
	printf '%-8s %11s ms %11s ms %8s %13s ms %8s\n' "$n" "$c" "$w" "$(ratio "$c" "$w")" "$h" "$(ratio "$c" "$h")"
done

# The dashboard at 1 s for 60 s on the last (largest) cluster: its CPU time
# over the whole run (start-up included: 2 SSH handshakes and TLS handshakes
# per member) and over the steady part (from 10 s to 58 s).
printf '%s\n' ':sleep 60000' 'q' >"$tmp/keys"
ETCDWIZ_UI_SCRIPT=$tmp/keys ETCDWIZ_UI_DUMP_DIR=$tmp "$etcdwiz" status -f "$LAB/cluster.yaml" --interval 1 >/dev/null 2>&1 &
pid=$!
hz=$(getconf CLK_TCK)
cpu_s() { awk -v hz="$hz" '{ printf "%.3f\n", ($14 + $15) / hz }' "/proc/$pid/stat"; }
sleep 10
c10=$(cpu_s) t10=$(now_ms)
sleep 48
c58=$(cpu_s) t58=$(now_ms)
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
wait $pid || true
awk -v c10="$c10" -v c58="$c58" -v t10="$t10" -v t58="$t58" -v kb="$hwm" -v n="${sizes##* }" 'BEGIN {
	printf "dashboard, %s members, 1 s refresh: %.2f s CPU in the first 58 s (%.2f%% of one core); steady (10-58 s): %.2f s in %.1f s = %.2f%% of one core; peak RSS %.1f MiB\n",
		n, c58, 100 * c58 / 58, c58 - c10, (t58 - t10) / 1000, 100 * (c58 - c10) / ((t58 - t10) / 1000), kb / 1024 }'
