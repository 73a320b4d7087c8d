#!/bin/bash
# A real etcd (Debian's etcd-server) on 127.0.0.1, random free high ports
# and a temporary data dir, serving with our server and peer certificates
# and --client-cert-auth. Debian's etcdctl reaches it with our
# healthcheck-client (endpoint health) and apiserver-etcd-client (put/get)
# certificates; a client certificate from another CA, and no certificate,
# are refused. Once per key algorithm family (RSA-2048, ECDSA-P256).
. "$TOP_SRCDIR/tests/tap.sh"

ETCD=$(command -v etcd) || tap_skip_all "etcd not installed (apt-get install etcd-server)"
ETCDCTL=$(command -v etcdctl) || tap_skip_all "etcdctl not installed (apt-get install etcd-client)"
command -v openssl >/dev/null || tap_skip_all "openssl not installed"
export ETCDCTL_API=3

fx="$TOP_SRCDIR/tests/fixtures/pki"

. "${TOP_SRCDIR:-.}/tests/loopback-lib.sh"

for alg in RSA-2048 ECDSA-P256; do
	d="$TAP_TMP/$alg"
	mkdir -p "$d"
	sed "s|@STORE@|$d/store|; s|@ALG@|$alg|" "$fx/single.yaml" >"$d/cluster.yaml"
	sed "s|@STORE@|$d/other-store|; s|@ALG@|$alg|; s|name: pki-etcd|name: pki-other|" \
		"$fx/single.yaml" >"$d/other.yaml"
	"$ETCDWIZ" certs generate -f "$d/cluster.yaml" >"$d/gen.out" 2>&1
	tap_is "$alg: certs generate exits 0" 0 $?
	"$ETCDWIZ" certs generate -f "$d/other.yaml" >"$d/gen-other.out" 2>&1
	tap_is "$alg: a second store with another CA" 0 $?
	p="$d/store/members/etcd01/etcd"
	op="$d/other-store/members/etcd01/etcd"

	cport=$(free_port) && pport=$(free_port "$cport") && mport=$(free_port "$cport" "$pport") ||
		{ tap_not_ok "$alg: no free ports"; continue; }
	"$ETCD" --name etcd01 --data-dir "$d/data" \
		--listen-client-urls "https://127.0.0.1:$cport" \
		--advertise-client-urls "https://127.0.0.1:$cport" \
		--listen-peer-urls "https://127.0.0.1:$pport" \
		--initial-advertise-peer-urls "https://127.0.0.1:$pport" \
		--initial-cluster "etcd01=https://127.0.0.1:$pport" --initial-cluster-state new \
		--listen-metrics-urls "http://127.0.0.1:$mport" \
		--cert-file "$p/server.crt" --key-file "$p/server.key" \
		--trusted-ca-file "$p/ca.crt" --client-cert-auth=true \
		--peer-cert-file "$p/peer.crt" --peer-key-file "$p/peer.key" \
		--peer-trusted-ca-file "$p/ca.crt" --peer-client-cert-auth=true \
		--snapshot-count 10000 >"$d/etcd.log" 2>&1 &
	etcd_pids=$!

	ctl() { timeout 20 "$ETCDCTL" --endpoints "https://127.0.0.1:$cport" --dial-timeout 3s \
		--command-timeout 3s --cacert "$p/ca.crt" "$@"; }
	health() { ctl --cert "$p/healthcheck-client.crt" --key "$p/healthcheck-client.key" endpoint health; }

	if wait_for 30 health; then
		tap_ok "$alg: etcd started with our server certificate and --client-cert-auth"
	else
		tap_not_ok "$alg: etcd started with our server certificate and --client-cert-auth"
		sed 's/^/# /' "$d/etcd.log" | tail -20
	fi
	health >"$d/health.out" 2>&1
	tap_grep "$alg: etcdctl endpoint health with our healthcheck-client certificate" \
		"127\.0\.0\.1:$cport is healthy" "$d/health.out"
	ctl --cert "$p/../apiserver-etcd-client.crt" --key "$p/../apiserver-etcd-client.key" \
		put /etcdwiz/test "$alg" >"$d/put.out" 2>&1
	tap_grep "$alg: put with our apiserver-etcd-client certificate" '^OK$' "$d/put.out"
	ctl --cert "$p/../apiserver-etcd-client.crt" --key "$p/../apiserver-etcd-client.key" \
		get --print-value-only /etcdwiz/test >"$d/get.out" 2>&1
	tap_is "$alg: get returns it" "$alg" "$(cat "$d/get.out")"

	ctl --cert "$op/healthcheck-client.crt" --key "$op/healthcheck-client.key" \
		endpoint health >"$d/foreign.out" 2>&1
	tap_is "$alg: a client certificate from another CA is refused" 1 $?
	tap_grep "$alg: ... as unhealthy, not as healthy" "is unhealthy" "$d/foreign.out"
	tap_grep "$alg: etcd logs that it rejected the foreign certificate" \
		"rejected connection.*(unknown authority|bad certificate|certificate signed by)" "$d/etcd.log"
	ctl endpoint health >"$d/nocert.out" 2>&1
	tap_is "$alg: no client certificate is refused" 1 $?
	"$ETCDCTL" --endpoints "https://127.0.0.1:$cport" --dial-timeout 3s --command-timeout 3s \
		--cacert "$op/ca.crt" --cert "$p/healthcheck-client.crt" --key "$p/healthcheck-client.key" \
		endpoint health >"$d/wrongca.out" 2>&1
	tap_is "$alg: a client trusting another CA refuses our server" 1 $?

	# The peer listener presents our peer certificate and wants one back.
	timeout 10 openssl s_client -connect "127.0.0.1:$pport" -CAfile "$p/ca.crt" \
		-cert "$p/peer.crt" -key "$p/peer.key" -verify_return_error -verify_ip 127.0.0.1 \
		</dev/null >"$d/peer.out" 2>&1
	tap_grep "$alg: the peer port serves our peer certificate, verified for 127.0.0.1" \
		'Verify return code: 0 \(ok\)' "$d/peer.out"
	stop_etcd
done

tap_plan "$tap_n"
