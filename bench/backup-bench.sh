#!/bin/bash
# Benchmark (not a test; issue #15): a snapshot of a 64 MiB database on a
# lab of 3 members, `etcdwiz backup` (streamed through the member's v3
# JSON gateway over its SSH session, the trailing SHA-256 checked, written
# atomically here) against the by-hand way: `etcdctl snapshot save` run on
# the member over ssh, then the file copied back with scp. Both take it
# from the same member (etcd-2); rounds alternate which goes first; the
# medians, their ratio and the load average are reported. After each
# etcdwiz run, untimed, sha256sum of the file is checked against its
# sidecar and the two files' sizes compared.
#
# Usage: bench/backup-bench.sh [ROUNDS]    (default 5)
#   ETCDWIZ=path/to/etcdwiz of a build without --enable-sanitizers. Root
#   only: it brings a lab up and down.
export LC_ALL=C
BENCH_NAME=backup-bench BENCH_DEFAULT_ROUNDS=5
. "$(dirname "$0")/lab-bench-lib.sh"
for t in ssh scp etcdctl sha256sum; do
	command -v $t >/dev/null || die "$t missing (apt-get install openssh-client etcd-client)"
done
unset SSH_AUTH_SOCK
export XDG_DATA_HOME="$tmp/xdg"

"$etcdwiz" lab up -n 3 -q >"$tmp/up" 2>&1 || die "lab up failed: $(tail -3 "$tmp/up")"
cp "$LAB/cluster.yaml" "$tmp/cluster.yaml"
"$etcdwiz" apply --yes -f "$tmp/cluster.yaml" >"$tmp/apply" 2>&1 || die "apply failed: $(tail -3 "$tmp/apply")"
ETCDCTL=$(ls -d "$LAB"/etcd/3.5.*/etcdctl | sort -V | tail -n 1)
PKI="$XDG_DATA_HOME/etcdwiz/lab/pki/members/etcd-1/etcd"
ctl() {
	ETCDCTL_API=3 "$ETCDCTL" --cacert "$PKI/ca.crt" --cert "$PKI/healthcheck-client.crt" \
		--key "$PKI/healthcheck-client.key" --endpoints https://198.51.100.11:2379 "$@"
}
# 64 MiB: 53 values of 1.2 MB (etcd takes at most 1.5 MiB a request).
head -c 900000 /dev/urandom | base64 -w0 >"$tmp/value"
for i in $(seq 53); do ctl put "/bench/$i" <"$tmp/value" >/dev/null || die "put failed"; done
SSH="ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$LAB/known_hosts -o LogLevel=ERROR -i $LAB/id_ed25519"
SCP="scp -q -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$LAB/known_hosts -o LogLevel=ERROR -i $LAB/id_ed25519"
M=198.51.100.12

run_etcdwiz() {
	local t0 t1
	rm -rf "$XDG_DATA_HOME/etcdwiz/lab/backups"
	t0=$(now_ms)
	"$etcdwiz" backup -q --member etcd-2 -f "$tmp/cluster.yaml" >"$tmp/etcdwiz.out" 2>&1 || die "etcdwiz backup failed: $(cat "$tmp/etcdwiz.out")"
	t1=$(now_ms)
	echo $((t1 - t0)) >>"$tmp/etcdwiz.ms"
	f=$(ls "$XDG_DATA_HOME"/etcdwiz/lab/backups/*.db)
	[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(sed -n 's/^sha256: "\{0,1\}\([0-9a-f]*\)"\{0,1\}$/\1/p' "$f.meta")" ] || die "sidecar hash differs"
	stat -c %s "$f" >"$tmp/etcdwiz.size"
}
run_by_hand() {
	local t0 t1
	rm -f "$tmp/hand.db"
	t0=$(now_ms)
	$SSH root@$M 'ETCDCTL_ENDPOINTS=https://198.51.100.12:2379 etcdctl snapshot save /root/bench.db >/dev/null 2>&1' ||
		die "etcdctl snapshot save failed"
	$SCP root@$M:/root/bench.db "$tmp/hand.db" || die "scp failed"
	t1=$(now_ms)
	echo $((t1 - t0)) >>"$tmp/hand.ms"
	$SSH root@$M 'rm -f /root/bench.db'
	stat -c %s "$tmp/hand.db" >"$tmp/hand.size"
}
: >"$tmp/etcdwiz.ms"
: >"$tmp/hand.ms"
for r in $(seq "$rounds"); do
	if [ $((r % 2)) -eq 1 ]; then run_etcdwiz; run_by_hand; else run_by_hand; run_etcdwiz; fi
done
load=$(cut -d' ' -f1-3 /proc/loadavg)
w=$(median <"$tmp/etcdwiz.ms")
h=$(median <"$tmp/hand.ms")
echo "backup-bench: $rounds rounds, database $(cat "$tmp/etcdwiz.size") bytes (by hand: $(cat "$tmp/hand.size")), load average $load"
echo "  etcdwiz backup:                         median ${w} ms  ($(tr '\n' ' ' <"$tmp/etcdwiz.ms"))"
echo "  etcdctl snapshot save on the member + scp: median ${h} ms  ($(tr '\n' ' ' <"$tmp/hand.ms"))"
echo "  ratio etcdwiz / by hand: $(ratio "$w" "$h")"
