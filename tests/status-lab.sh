#!/bin/bash
# `etcdwiz status` against a real 3-member etcd on the lab (issue #7):
# HEALTHY with one leader; a member's manifest moved away shows DEGRADED
# within two refreshes and HEALTHY when it is back; two away is NO QUORUM;
# the leader's etcd killed gives a new leader and a higher leader-change
# count; a frozen host does not hold up the others; a small quota filled
# raises NOSPACE. Checked in JSON with jq, the table, --direct and --ssh
# without a cluster file, and the full-screen dashboard in scripted mode.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
command -v jq >/dev/null || tap_skip_all "jq missing: apt-get install jq"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"
export XDG_DATA_HOME="$TAP_TMP/xdg"

tap_plan 39
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"
CG=/sys/fs/cgroup/unified/etcdwiz-lab
tap_on_exit "echo 0 > $CG/etcd-3/cgroup.freeze 2>/dev/null"

"$ETCDWIZ" lab up -n 3 >"$TAP_TMP/up" 2>&1
tap_is "lab up -n 3" 0 $?
# A 16 MiB quota, so that the NOSPACE check can fill it.
CF="$TAP_TMP/cluster.yaml"
sed 's/^etcd:$/etcd:\n  extraArgs:\n    quota-backend-bytes: "16777216"/' "$LAB/cluster.yaml" >"$CF"
grep -q 'quota-backend-bytes' "$CF" || echo "# could not add the quota to the cluster file"
"$ETCDWIZ" apply --yes -f "$CF" >"$TAP_TMP/apply" 2>&1
rc=$?
tap_is "apply makes a 3-member cluster" 0 $rc
[ $rc -eq 0 ] || tail -30 "$TAP_TMP/apply" | sed 's/^/# /'

PKI="$XDG_DATA_HOME/etcdwiz/lab/pki"
CACERT="$PKI/ca/etcd/ca.crt"
CERT="$PKI/members/etcd-1/etcd/healthcheck-client.crt"
KEY="$PKI/members/etcd-1/etcd/healthcheck-client.key"
EPS=https://198.51.100.11:2379,https://198.51.100.12:2379,https://198.51.100.13:2379

once_json() { timeout 60 "$ETCDWIZ" status -f "$CF" --once -o json "$@" >"$TAP_TMP/s.json" 2>"$TAP_TMP/s.err"; }
badge() { jq -r .badge "$TAP_TMP/s.json"; }
leader_name() { jq -r '[.members[] | select(.role == "leader") | .name] | join(",")' "$TAP_TMP/s.json"; }
is_badge() { once_json; [ "$(badge)" = "$1" ]; }

# --- healthy ---
# Right after apply a member may still be settling: HEALTHY within a few
# refreshes (what a member not up said is printed when it is not).
if ! wait_for 45 is_badge HEALTHY; then
	jq -r '.members[] | select(.reachable != true) | "# not up: \(.name): \(.error // "no error")"' "$TAP_TMP/s.json"
	sed 's/^/# status stderr: /' "$TAP_TMP/s.err"
fi
once_json
tap_is "status --once on a healthy cluster exits 0" 0 $?
tap_is "the badge is HEALTHY" HEALTHY "$(badge)"
tap_is "exactly one member is the leader" 1 "$(jq '[.members[] | select(.role == "leader")] | length' "$TAP_TMP/s.json")"
tap_is "all three members up, quorum 2" "3 3 2" "$(jq -r '"\(.members_up) \(.members_voting) \(.quorum)"' "$TAP_TMP/s.json")"
tap_is "every member answered /metrics through SSH (has_leader = 1)" 3 \
	"$(jq '[.members[] | select(.metrics.etcd_server_has_leader == 1)] | length' "$TAP_TMP/s.json")"
tap_is "every member's host check saw kubelet active, etcd running, the certificates" 3 \
	"$(jq '[.members[] | select(.host.kubelet == "active" and .host.etcd_pod == "running" and .host.cert_expiry_unix > 0)] | length' "$TAP_TMP/s.json")"
timeout 60 "$ETCDWIZ" status -f "$CF" --once >"$TAP_TMP/table" 2>&1
tap_is "the table form exits 0 too" 0 $?
tap_grep "the table names the cluster, the badge and a leader row" 'etcd cluster lab: HEALTHY' "$TAP_TMP/table"
tap_grep "each member has its row" '^etcd-3 .* (leader|follower) ' "$TAP_TMP/table"
# Then every read of it says so: an answer left unread until the deadline
# (TLS 1.3's session ticket before it, or an SSH command's reply queued by
# a stream's read) showed a member down in about one read in 20 on a busy
# machine.
misses=0
for i in $(seq 20); do
	once_json
	[ "$(badge)" = HEALTHY ] && [ "$(jq '[.members[] | select(.host.kubelet == "active")] | length' "$TAP_TMP/s.json")" = 3 ] ||
		{ misses=$((misses + 1)); jq -r '.members[] | select(.reachable != true or .host.kubelet != "active") | "# read \('"$i"'): \(.name): \(.error // "host check missing")"' "$TAP_TMP/s.json"; }
done
tap_is "20 reads in a row: HEALTHY with every host check each time" 0 "$misses"

# Without a cluster file: straight to the endpoints, and through SSH.
timeout 60 "$ETCDWIZ" status --direct --endpoints "$EPS" --cacert "$CACERT" --cert "$CERT" --key "$KEY" \
	--once -o json >"$TAP_TMP/direct.json" 2>"$TAP_TMP/direct.err"
tap_is "--direct --endpoints with certificate flags exits 0" 0 $?
tap_is "--direct sees three members up" 3 "$(jq .members_up "$TAP_TMP/direct.json")"
timeout 60 "$ETCDWIZ" status --endpoints "$EPS" --cacert "$CACERT" --cert "$CERT" --key "$KEY" \
	--ssh root --identity "$LAB/id_ed25519" --known-hosts "$LAB/known_hosts" --once -o json \
	>"$TAP_TMP/ssh.json" 2>"$TAP_TMP/ssh.err"
tap_is "--ssh root with --endpoints exits 0 and reads /metrics" "0 3" \
	"$? $(jq '[.members[] | select(.metrics.etcd_server_has_leader == 1)] | length' "$TAP_TMP/ssh.json")"
timeout 20 "$ETCDWIZ" status --direct --endpoints "$EPS" --cacert "$CERT" --cert "$CERT" --key "$KEY" \
	--once >"$TAP_TMP/wrongca" 2>&1
tap_is "a CA that did not sign the servers: no member is up (exit 2)" 2 $?
tap_grep "and the error says why" 'certificate|verif|signer|issuer' "$TAP_TMP/wrongca"

# --- the dashboard, full screen in scripted mode ---
printf '%s\n' ':sleep 4000' ':dump main' '<Down>' '<Enter>' ':dump detail' '<F1>' ':dump help' '<F1>' 'q' \
	>"$TAP_TMP/keys"
ETCDWIZ_UI_SCRIPT="$TAP_TMP/keys" ETCDWIZ_UI_DUMP_DIR="$TAP_TMP" timeout 60 \
	"$ETCDWIZ" status -f "$CF" --interval 1 >"$TAP_TMP/dash.out" 2>&1
tap_is "the dashboard runs and quits on q" 0 $?
tap_grep "the dashboard shows the badge" 'HEALTHY' "$TAP_TMP/main.txt"
tap_grep "... a row per member with its role" 'etcd-2 +(leader|follower)' "$TAP_TMP/main.txt"
tap_grep "... the alerts panel and the history graphs" 'History of etcd-1' "$TAP_TMP/main.txt"
tap_grep "Enter on etcd-2 opens its detail with the metrics" 'WAL fsync p99' "$TAP_TMP/detail.txt"
tap_grep "F1 shows help built from the key table" 'refresh more often' "$TAP_TMP/help.txt"

# --- one member away: DEGRADED within two refreshes, then HEALTHY ---
timeout 300 "$ETCDWIZ" status -f "$CF" -o json --interval 1 >"$TAP_TMP/stream" 2>/dev/null &
spid=$!
tap_on_exit "kill $spid 2>/dev/null"
wait_for 20 test -s "$TAP_TMP/stream"
lab_ssh 198.51.100.12 'mv /etc/kubernetes/manifests/etcd.yaml /root/etcd.yaml.away'
etcd_gone() { ! lab_ssh 198.51.100.12 'pgrep -x etcd'; }
wait_for 60 etcd_gone || echo "# etcd on etcd-2 still runs a minute after its manifest went"
n0=$(wc -l <"$TAP_TMP/stream")
degraded_seen() { tail -n +$((n0 + 1)) "$TAP_TMP/stream" | jq -r .badge 2>/dev/null | grep -q DEGRADED; }
wait_for 30 degraded_seen
first=$(tail -n +$((n0 + 1)) "$TAP_TMP/stream" | jq -r .badge 2>/dev/null | grep -n -m1 DEGRADED | cut -d: -f1)
tap_check "DEGRADED within two refreshes of etcd stopping (refresh ${first:-never})" \
	test -n "$first" -a "${first:-99}" -le 2
lab_ssh 198.51.100.12 'mv /root/etcd.yaml.away /etc/kubernetes/manifests/etcd.yaml'
n1=$(wc -l <"$TAP_TMP/stream")
healthy_again() { tail -n +$((n1 + 1)) "$TAP_TMP/stream" | jq -r .badge 2>/dev/null | grep -q HEALTHY; }
tap_check "HEALTHY again once the manifest is back" wait_for 120 healthy_again
kill $spid 2>/dev/null
wait $spid 2>/dev/null

# --- two away: NO QUORUM ---
for h in 198.51.100.12 198.51.100.13; do
	lab_ssh $h 'mv /etc/kubernetes/manifests/etcd.yaml /root/etcd.yaml.away'
done
wait_for 60 is_badge NO_QUORUM
once_json
tap_is "two members away: NO QUORUM, exit 2" "2 NO_QUORUM" "$? $(badge)"
# The member left has no quorum: the manifest's /readyz readiness probe
# (3.5.11+) fails, and the stand-in reports its pod not ready, as kubelet
# would; it is not restarted for it.
ready_is() { lab_ssh 198.51.100.11 'grep -q "^ready='"$1"'$" /run/kubelet-standin/status/kube-system_etcd_etcd'; }
tap_check "without quorum, the member left is reported not ready (its /readyz probe)" wait_for 90 ready_is false
tap_is "... and not restarted for it" 0 \
	"$(lab_ssh 198.51.100.11 'sed -n "s/^restarts=//p" /run/kubelet-standin/status/kube-system_etcd_etcd')"
for h in 198.51.100.12 198.51.100.13; do
	lab_ssh $h 'mv /root/etcd.yaml.away /etc/kubernetes/manifests/etcd.yaml'
done
tap_check "HEALTHY again with all three back" wait_for 120 is_badge HEALTHY
tap_check "... and the member is ready again" wait_for 60 ready_is true

# --- the leader killed: a new leader, more leader changes ---
once_json
old=$(leader_name)
addr_of() { jq -r --arg n "$1" '.members[] | select(.name == $n) | .endpoint' "$TAP_TMP/s.json" | sed 's|https://||; s|:2379||'; }
follower=$(jq -r '[.members[] | select(.role == "follower") | .name][0]' "$TAP_TMP/s.json")
changes() { jq -r --arg n "$1" '.members[] | select(.name == $n) | .metrics.etcd_server_leader_changes_seen_total // 0' "$TAP_TMP/s.json"; }
before=$(changes "$follower")
lab_ssh "$(addr_of "$old")" 'pkill -9 -x etcd'
new_leader() { once_json; l=$(leader_name); [ -n "$l" ] && [ "$l" != "$old" ]; }
tap_check "the leader's etcd killed: a new leader is shown (was $old)" wait_for 60 new_leader
# One refresh reads /metrics and the status at slightly different times: the
# snapshot that first shows the new leader may hold the count from just
# before the election. A later one must show it gone up.
count_up() { once_json; after=$(changes "$follower"); [ "${after%.*}" -gt "${before%.*}" ]; }
wait_for 20 count_up
tap_check "the follower's leader-change count went up ($before -> $after)" test "${after%.*}" -gt "${before%.*}"
wait_for 120 is_badge HEALTHY || echo "# not HEALTHY again after the leader kill"
# The host check shows what kubelet says of the killed member's container.
restarted() { once_json; [ "$(jq -r --arg n "$old" '.members[] | select(.name == $n) | .host.etcd_pod_restarts // 0' "$TAP_TMP/s.json")" -ge 1 ]; }
tap_check "the killed member's pod: 1 restart, last exit 137 (SIGKILL), in JSON" wait_for 30 restarted
tap_is "... the exit code" 137 "$(jq -r --arg n "$old" '.members[] | select(.name == $n) | .host.etcd_pod_last_exit' "$TAP_TMP/s.json")"
# (Not ready until its startup and readiness probes pass again.)
table_says() { timeout 60 "$ETCDWIZ" status -f "$CF" --once >"$TAP_TMP/table2" 2>&1; grep -qE "$1" "$TAP_TMP/table2"; }
tap_check "... and in the table's host line, once ready again" \
	wait_for 60 table_says "^  $old: kubelet active, etcd running \\(1 restarts, last exit 137\\)"

# --- a frozen host does not hold up the others ---
echo 1 >"$CG/etcd-3/cgroup.freeze"
start=$(date +%s)
timeout 60 "$ETCDWIZ" status -f "$CF" --once -o json --timeout 3 >"$TAP_TMP/s.json" 2>/dev/null
rc=$?
took=$(( $(date +%s) - start ))
echo 0 >"$CG/etcd-3/cgroup.freeze"
tap_is "a frozen member: DEGRADED (exit 1), the other two up" "1 DEGRADED 2" "$rc $(badge) $(jq .members_up "$TAP_TMP/s.json")"
tap_check "the frozen member ends its refresh at its own deadline (${took} s for --timeout 3)" test "$took" -le 15
wait_for 120 is_badge HEALTHY || echo "# not HEALTHY again after the thaw"

# Keep the dashboard's screens for the record (CI artifacts, by hand).
[ -n "${ETCDWIZ_KEEP_DUMPS:-}" ] && cp "$TAP_TMP"/main.txt "$TAP_TMP"/detail.txt "$ETCDWIZ_KEEP_DUMPS"/ 2>/dev/null

# --- NOSPACE ---
export ETCDCTL_API=3
ectl() { timeout 30 etcdctl --endpoints="$EPS" --cacert="$CACERT" --cert="$CERT" --key="$KEY" "$@"; }
# 768 KiB values (etcd takes requests up to 1.5 MiB) from stdin (an
# argument that long is over the kernel's limit).
head -c 786432 /dev/urandom | base64 -w0 >"$TAP_TMP/blob"
for i in $(seq 60); do
	ectl put "fill-$i" <"$TAP_TMP/blob" >"$TAP_TMP/put" 2>&1 || break
done
grep -q 'database space exceeded' "$TAP_TMP/put" || echo "# no 'database space exceeded' after $i puts"
wait_for 30 is_badge DEGRADED
once_json
tap_is "a filled quota: DEGRADED, exit 1" "1 DEGRADED" "$? $(badge)"
tap_is "the NOSPACE alarm is shown as an alert" NOSPACE \
	"$(jq -r '[.alerts[] | select(.name == "NOSPACE")][0].name' "$TAP_TMP/s.json")"
