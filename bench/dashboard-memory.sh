#!/bin/bash
# Benchmark (not a test; issue #18 item 4): the full-screen dashboard
# (`etcdwiz status --direct`, 1 s refresh, in a detached tmux) on 7 real etcd
# members (Debian's etcd-server, our certificates, on 127.0.0.2-8) for
# MINUTES minutes (default 10), its resident memory (VmRSS) read from /proc
# every 10 s. Prints the samples, then RSS after the first minute, at the
# end, and the growth between them (goal: none beyond noise). Through
# --direct, so no SSH sessions or host checks are in the figure.
# Usage: bench/dashboard-memory.sh [MINUTES]
#   ETCDWIZ=path/to/etcdwiz of a build without --enable-sanitizers (ASan's
#   quarantine would look like growth).
set -u
export LC_ALL=C
MIN=${1:-10}
ETCDWIZ=${ETCDWIZ:-./etcdwiz}
for t in etcd tmux; do command -v $t >/dev/null || { echo "$t missing" >&2; exit 2; }; done
tmp=$(mktemp -d /tmp/etcdwiz-bench.XXXXXX)
SOCK=etcdwiz-memory-$$
pids=""
cleanup() {
	tmux -L "$SOCK" kill-server >/dev/null 2>&1
	[ -z "$pids" ] || kill $pids 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
export XDG_DATA_HOME=$tmp/xdg XDG_STATE_HOME=$tmp/state
{
	printf 'apiVersion: etcdwiz/v1\nkind: Cluster\nname: memory\npki:\n  dir: %s/store\nmembers:\n' "$tmp"
	for i in $(seq 7); do printf '  - {name: m%d, address: 127.0.0.%d}\n' "$i" $((i + 1)); done
} >"$tmp/cluster.yaml"
"$ETCDWIZ" certs generate -f "$tmp/cluster.yaml" >/dev/null || exit 1
initial=$(for i in $(seq 7); do printf 'm%d=https://127.0.0.%d:2380,' "$i" $((i + 1)); done)
initial=${initial%,}
for i in $(seq 7); do
	ip=127.0.0.$((i + 1)) p=$tmp/store/members/m$i/etcd
	etcd --name "m$i" --data-dir "$tmp/data$i" --listen-client-urls "https://$ip:2379" \
		--advertise-client-urls "https://$ip:2379" --listen-peer-urls "https://$ip:2380" \
		--initial-advertise-peer-urls "https://$ip:2380" --initial-cluster "$initial" \
		--initial-cluster-state new --initial-cluster-token "memory-$$" \
		--listen-metrics-urls "http://$ip:2381" \
		--cert-file "$p/server.crt" --key-file "$p/server.key" --trusted-ca-file "$p/ca.crt" \
		--client-cert-auth=true --peer-cert-file "$p/peer.crt" --peer-key-file "$p/peer.key" \
		--peer-trusted-ca-file "$p/ca.crt" --peer-client-cert-auth=true >"$tmp/etcd$i.log" 2>&1 &
	pids="$pids $!"
done
p=$tmp/store/members/m1/etcd
eps=$(for i in $(seq 7); do printf 'https://127.0.0.%d:2379,' $((i + 1)); done)
tmux -L "$SOCK" -f /dev/null new-session -d -s st -x 160 -y 45 \
	"env TERM=xterm-256color '$ETCDWIZ' status --endpoints '${eps%,}' --cacert '$p/ca.crt' --cert '$p/healthcheck-client.crt' --key '$p/healthcheck-client.key' --direct --interval 1"
sleep 3
pid=$(pgrep -f -n "etcdwiz status --endpoints ${eps%,}")
[ -n "$pid" ] || { echo "the dashboard did not start" >&2; exit 1; }
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%6s %10s\n' seconds rss_kib
samples=$((MIN * 6))
for s in $(seq 0 "$samples"); do
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null) || break
	[ -n "$rss" ] || { echo "the dashboard ended" >&2; exit 1; }
	printf '%6d %10d\n' $((s * 10)) "$rss" | tee -a "$tmp/rss"
	[ "$s" -lt "$samples" ] && sleep 10
done
healthy=$(tmux -L "$SOCK" capture-pane -p -t st | grep -c 'HEALTHY')
at1=$(awk '$1 == 60 {print $2}' "$tmp/rss") end=$(tail -n 1 "$tmp/rss" | awk '{print $2}')
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# screen says HEALTHY: $healthy"
echo "rss after 1 min: $at1 KiB; at $MIN min: $end KiB; growth: $((end - at1)) KiB"
