#!/bin/bash
# `etcdwiz status` without the lab: its usage errors, and a real etcd
# (Debian's etcd-server) on 127.0.0.1 with our certificates, read with
# --direct: HEALTHY with one leader and its /metrics, the table, a dead
# endpoint beside it, a foreign CA refused, etcd stopped, and the
# one-JSON-object-a-line stream for scripts.
. "$TOP_SRCDIR/tests/tap.sh"

tap_plan 16

st() { timeout 60 "$ETCDWIZ" status "$@"; }

# --- usage: exit 3 with a message that says what to give ---
st >"$TAP_TMP/u1" 2>&1
tap_is "no cluster named: exit 3" 3 $?
tap_grep "... and it says how to name one" 'say which cluster: -f FILE, or --endpoints' "$TAP_TMP/u1"
st --endpoints https://127.0.0.1:1 --direct --once >"$TAP_TMP/u2" 2>&1
tap_grep "--endpoints without certificates names the three files" \
	'--cacert, --cert and --key are needed together.*healthcheck-client' "$TAP_TMP/u2"
st --endpoints ftp://x:1 --direct --cacert a --cert b --key c --once >"$TAP_TMP/u3" 2>&1
tap_grep "an endpoint that is not https is refused" 'status: .*(endpoint|CA).*' "$TAP_TMP/u3"
st --endpoints https://127.0.0.1:1 --direct --interval 0.1 >"$TAP_TMP/u4" 2>&1
tap_is "--interval below 0.5 s is refused" "3 1" "$? $(grep -c 'at least 0.5' "$TAP_TMP/u4")"
st --endpoints https://127.0.0.1:1 --cacert a --cert b --key c --once >"$TAP_TMP/u5" 2>&1
tap_grep "without a cluster file, --ssh or --direct is asked for" 'give --ssh USER' "$TAP_TMP/u5"

# --- a real etcd on loopback ---
ETCD=$(command -v etcd) || { for _ in $(seq 10); do tap_skip "etcd not installed (apt-get install etcd-server)"; done; exit 0; }
command -v jq >/dev/null || { for _ in $(seq 10); do tap_skip "jq not installed"; done; exit 0; }
. "${TOP_SRCDIR:-.}/tests/loopback-lib.sh"

fx="$TOP_SRCDIR/tests/fixtures/pki"
d=$TAP_TMP
sed "s|@STORE@|$d/store|; s|@ALG@|ECDSA-P256|" "$fx/single.yaml" >"$d/cluster.yaml"
sed "s|@STORE@|$d/other|; s|@ALG@|ECDSA-P256|; s|name: pki-etcd|name: pki-other|" "$fx/single.yaml" >"$d/other.yaml"
"$ETCDWIZ" certs generate -f "$d/cluster.yaml" >/dev/null 2>&1 &&
	"$ETCDWIZ" certs generate -f "$d/other.yaml" >/dev/null 2>&1 || echo "# certs generate failed"
p="$d/store/members/etcd01/etcd"
cport=$(free_port) && pport=$(free_port "$cport") && mport=$(free_port "$cport" "$pport") &&
	dead=$(free_port "$cport" "$pport" "$mport") || echo "# no free ports"
"$ETCD" --name etcd01 --data-dir "$d/data" \
	--listen-client-urls "https://127.0.0.1:$cport" --advertise-client-urls "https://127.0.0.1:$cport" \
	--listen-peer-urls "https://127.0.0.1:$pport" --initial-advertise-peer-urls "https://127.0.0.1:$pport" \
	--initial-cluster "etcd01=https://127.0.0.1:$pport" --initial-cluster-state new \
	--listen-metrics-urls "http://127.0.0.1:$mport" \
	--cert-file "$p/server.crt" --key-file "$p/server.key" --trusted-ca-file "$p/ca.crt" --client-cert-auth=true \
	--peer-cert-file "$p/peer.crt" --peer-key-file "$p/peer.key" --peer-trusted-ca-file "$p/ca.crt" \
	--peer-client-cert-auth=true >"$d/etcd.log" 2>&1 &
etcd_pids=$!
EP="https://127.0.0.1:$cport"
CERTS=(--cacert "$p/ca.crt" --cert "$p/healthcheck-client.crt" --key "$p/healthcheck-client.key")
# Up, and its metrics already saw the election.
healthy() {
	st --direct --endpoints "$EP" "${CERTS[@]}" --metrics-port "$mport" --once -o json >"$d/s.json" 2>"$d/s.err" &&
		[ "$(jq '.members[0].metrics.etcd_server_has_leader' "$d/s.json")" = 1 ]
}
wait_for 30 healthy
tap_is "a real etcd with our certificates: --once exits 0" 0 $?
tap_is "HEALTHY, one member up, it is the leader" "HEALTHY 1 leader" \
	"$(jq -r '"\(.badge) \(.members_up) \(.members[0].role)"' "$d/s.json")"
tap_is "the version is the server's own" "$("$ETCD" --version | sed -n 's/^etcd Version: //p')" \
	"$(jq -r '.members[0].version' "$d/s.json")"
tap_is "/metrics read on loopback: has_leader 1, a quota, fsync p99 a number" "1 true true" \
	"$(jq -r '.members[0].metrics | "\(.etcd_server_has_leader) \(.etcd_server_quota_backend_bytes > 0) \(.wal_fsync_p99_seconds | type == "number")"' "$d/s.json")"

st --direct --endpoints "$EP" "${CERTS[@]}" --metrics-port "$mport" --once >"$d/table" 2>&1
tap_grep "the table: badge line and the member's row" 'etcd cluster: HEALTHY' "$d/table"

# A dead endpoint beside it (nothing listens there): that member is down.
st --direct --endpoints "$EP,https://127.0.0.1:$dead" "${CERTS[@]}" --metrics-port 0 --once -o json >"$d/dead.json" 2>&1
tap_is "a dead endpoint listed too: NO QUORUM (1 of 2 up), exit 2" "2 NO_QUORUM 1" \
	"$? $(jq -r '"\(.badge) \(.members_up)"' "$d/dead.json")"
tap_grep "its error says the connection was refused" '"error":"[^"]*[Rr]efused' "$d/dead.json"

# The other store's CA did not sign this server.
st --direct --endpoints "$EP" --cacert "$d/other/ca/etcd/ca.crt" --cert "$p/healthcheck-client.crt" \
	--key "$p/healthcheck-client.key" --metrics-port 0 --once >"$d/foreign" 2>&1
tap_is "a CA that did not sign the server: the member is down, exit 2" 2 $?

# One JSON object a line, for scripts: three snapshots, each valid JSON.
timeout 30 "$ETCDWIZ" status --direct --endpoints "$EP" "${CERTS[@]}" --metrics-port "$mport" -o json \
	--interval 0.5 2>/dev/null | head -n 3 >"$d/stream"
tap_is "without a terminal: a snapshot per refresh, each one JSON object" 3 \
	"$(jq -c .badge "$d/stream" 2>/dev/null | grep -c HEALTHY)"

stop_etcd
st --direct --endpoints "$EP" "${CERTS[@]}" --metrics-port "$mport" --once -o json >"$d/down.json" 2>&1
tap_is "etcd stopped: NO QUORUM, exit 2" "2 NO_QUORUM" "$? $(jq -r .badge "$d/down.json")"
