#!/bin/bash
# Benchmark (not a test): time `etcdwiz certs generate` for a 3-member set
# (the CA + 4 leaves per member, as in the seed) against the openssl command
# line making the same set (pki-openssl-set.sh), both in one run, for
# RSA-2048 and ECDSA-P256. Prints the median of ROUNDS runs and the ratio.
# Usage: bench/pki-bench.sh [ROUNDS]   (ETCDWIZ=path/to/etcdwiz; build
# without --enable-sanitizers for meaningful numbers)
set -eu
rounds=${1:-5}
here=$(cd "$(dirname "$0")" && pwd)
etcdwiz=${ETCDWIZ:-$here/../etcdwiz}
[ -x "$etcdwiz" ] || { echo "pki-bench: no etcdwiz binary at $etcdwiz; set ETCDWIZ" >&2; exit 2; }
command -v openssl >/dev/null || { echo "pki-bench: openssl not installed" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pki-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

echo "pki-bench: 3 members, CA + 3 x (ca.crt + 4 key pairs), median of $rounds runs"
echo "$(openssl version); $("$etcdwiz" --version | head -1); $(nproc) CPU(s)"
printf '%-11s %12s %12s %8s\n' algorithm "etcdwiz ms" "openssl ms" ratio
for alg in RSA-2048 ECDSA-P256; do
	cat >"$tmp/cluster.yaml" <<YAML
apiVersion: etcdwiz/v1
kind: Cluster
name: bench
pki:
  algorithm: $alg
  dir: $tmp/store
members:
  - name: etcd01
    address: 10.0.0.1
  - name: etcd02
    address: 10.0.0.2
  - name: etcd03
    address: 10.0.0.3
YAML
	: >"$tmp/w" && : >"$tmp/o"
	for _ in $(seq "$rounds"); do
		rm -rf "$tmp/store" "$tmp/ossl"
		t0=$(now_ms)
		"$etcdwiz" certs generate -f "$tmp/cluster.yaml" >/dev/null
		t1=$(now_ms)
		"$here/pki-openssl-set.sh" "$alg" "$tmp/ossl" etcd01=10.0.0.1 etcd02=10.0.0.2 etcd03=10.0.0.3
		t2=$(now_ms)
		echo $((t1 - t0)) >>"$tmp/w"
		echo $((t2 - t1)) >>"$tmp/o"
	done
	[ "$(find "$tmp/store" -type f | wc -l)" = "$(find "$tmp/ossl" -type f | wc -l)" ] ||
		{ echo "pki-bench: the two sets differ in size" >&2; exit 1; }
	w=$(median <"$tmp/w") o=$(median <"$tmp/o")
	printf '%-11s %12d %12d %7.1fx\n' "$alg" "$w" "$o" "$(echo "$o $w" | awk '{ print ($2 > 0) ? $1 / $2 : 0 }')"
done
echo "ratio = openssl time / etcdwiz time (higher: etcdwiz faster)"
