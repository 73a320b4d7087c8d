#!/bin/bash
# A change that restarts etcd on a running cluster (an etcd.extraArgs edit)
# is rolled one member at a time: followers first, the leader last, each
# healthy again before the next, while a client writes a key every 100 ms
# (every write counted), the leader handing its leadership over before its
# restart; the bootstrap flags of the running members are
# kept; 100 keys written before are read back after. A member that is not
# healthy stops the roll before any other member restarts.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
command -v jq >/dev/null || tap_skip_all "jq missing: apt-get install jq"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"
export XDG_DATA_HOME="$TAP_TMP/xdg"

tap_plan 18
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"
tap_on_exit "touch '$TAP_TMP/stop-writer'"

"$ETCDWIZ" lab up -n 3 -q >"$TAP_TMP/up" 2>&1
tap_is "lab up -n 3" 0 $?
FILE="$TAP_TMP/cluster.yaml"
cp "$LAB/cluster.yaml" "$FILE"
"$ETCDWIZ" apply --yes -f "$FILE" >"$TAP_TMP/apply0" 2>&1
tap_is "apply makes the 3-member cluster" 0 $?
ETCDCTL=$(etcdctl35_path)
for i in $(seq 100); do lab_etcdctl "$ETCDCTL" put "/before/$i" "v$i" >/dev/null 2>&1; done
keys_back() { lab_etcdctl "$ETCDCTL" get /before/ --prefix --print-value-only 2>/dev/null | grep -c '^v[0-9]*$'; }
tap_is "100 keys written before the change" 100 "$(keys_back)"

# set_extra KEY VALUE: etcd.extraArgs in the cluster file, as an admin edits it.
set_extra() {
	awk -v k="$1" -v v="$2" '
		/^  extraArgs:$/ { skip = 1; next }
		skip && /^    / { next }
		{ skip = 0; print }
		/^etcd:$/ { print "  extraArgs:"; print "    " k ": \"" v "\"" }' "$FILE" >"$FILE.new" && mv "$FILE.new" "$FILE"
}
manifest_flags() {
	for a in 11 12 13; do
		lab_ssh "198.51.100.$a" 'grep -E -- "--(initial-cluster|initial-cluster-state|heartbeat-interval)=" /etc/kubernetes/manifests/etcd.yaml'
	done
}
pids() { for a in 11 12 13; do lab_ssh "198.51.100.$a" 'pgrep -xo etcd'; done | tr '\n' ' '; }
leader() {
	lab_etcdctl "$ETCDCTL" endpoint status -w json 2>/dev/null | jq -r '.[] | select(.Status.leader == .Status.header.member_id) | .Endpoint' |
		sed 's|https://198.51.100.11:2379|etcd-1|; s|https://198.51.100.12:2379|etcd-2|; s|https://198.51.100.13:2379|etcd-3|'
}


# The leader is etcd-1 (moved there by Debian's etcdctl), so that "leader
# last" is not the host order.
ID1=$(lab_etcdctl "$ETCDCTL" member list 2>/dev/null | awk -F', ' '$3 == "etcd-1" {print $1}')
lab_etcdctl "$ETCDCTL" move-leader "$ID1" >/dev/null 2>&1
LEADER_BEFORE=$(leader)
tap_is "the leader is etcd-1 before the change" etcd-1 "$LEADER_BEFORE"
manifest_flags | grep -v heartbeat >"$TAP_TMP/bootstrap-before"
PIDS_BEFORE=$(pids)
set_extra heartbeat-interval 100
lab_writer 3000 lab_etcdctl "$ETCDCTL" &
WRITER=$!
sleep 1
"$ETCDWIZ" apply --yes -f "$FILE" >"$TAP_TMP/apply1" 2>&1
rc=$?
sleep 1
touch "$TAP_TMP/stop-writer"
wait "$WRITER"
rm -f "$TAP_TMP/stop-writer"
tap_is "apply rolls the extraArgs change and exits 0" 0 $rc
[ $rc -eq 0 ] || tail -30 "$TAP_TMP/apply1" | sed 's/^/# /'
J=$(ls -t "$XDG_DATA_HOME"/etcdwiz/lab/journal/*-apply.log | head -n 1)
grep -oE 'roll: (restarting etcd on etcd-[0-9]|etcd-[0-9] healthy again)' "$J" >"$TAP_TMP/roll"
sed 's/^/# /' "$TAP_TMP/roll"
tap_is "one member at a time: each restarted, then healthy again, before the next" \
	"restarting etcd on A
A healthy again
restarting etcd on B
B healthy again
restarting etcd on C
C healthy again" "$(awk '{ for (f = 1; f <= NF; f++) if ($f ~ /^etcd-[0-9]$/) {
			if (!($f in name)) name[$f] = sprintf("%c", 65 + k++); $f = name[$f] } print }' \
		"$TAP_TMP/roll" | sed 's/roll: //')"
tap_is "the followers first (etcd-2, etcd-3), the leader etcd-1 last" "etcd-2 etcd-3 etcd-1" \
	"$(grep -oE 'restarting etcd on etcd-[0-9]' "$TAP_TMP/roll" | awk '{print $NF}' | tr '\n' ' ' | sed 's/ $//')"
tap_grep "the leader etcd-1 handed its leadership over before its restart" \
	'roll: the leadership moved away from etcd-1 before its restart' "$J"
tap_is "every member has the new flag" 3 "$(manifest_flags | grep -c -- '--heartbeat-interval=100')"
tap_check "the bootstrap flags of the running members were kept (--initial-cluster, state new)" \
	diff "$TAP_TMP/bootstrap-before" <(manifest_flags | grep -v heartbeat)
PIDS_AFTER=$(pids)
tap_is "every member's etcd was restarted (3 new processes)" 3 \
	"$(comm -13 <(echo "$PIDS_BEFORE" | tr ' ' '\n' | sort) <(echo "$PIDS_AFTER" | tr ' ' '\n' | sort) | grep -c .)"
tap_check "the client wrote through the whole change (more than 20 puts)" test "$(wc -l <"$TAP_TMP/w-ok")" -gt 20
tap_is "no write failed during the roll ($(wc -l <"$TAP_TMP/w-ok") succeeded, $(wc -l <"$TAP_TMP/w-retried") of them sent again after a stopping member cut them off)" 0 "$(wc -l <"$TAP_TMP/w-fail")"
[ -s "$TAP_TMP/w-errors" ] && sed 's/^/# writer: /' "$TAP_TMP/w-errors" | head -5
tap_is "the 100 keys written before read back after" 100 "$(keys_back)"

# A member not healthy: the roll stops before any member restarts.
break_etcd 198.51.100.13
PIDS_BEFORE=$(pids)
set_extra heartbeat-interval 120
"$ETCDWIZ" apply --yes -f "$FILE" --health-timeout 20s >"$TAP_TMP/apply2" 2>&1
tap_is "with etcd-3 broken, apply exits 1" 1 $?
tap_grep "... naming the member that is not healthy and why the roll stopped" \
	'etcd-3 is not healthy .*every other member must be healthy before etcd-[12] restarts' "$TAP_TMP/apply2"
tap_is "etcd-1 and etcd-2 kept their manifests (no new flag)" 0 \
	"$(for a in 11 12; do lab_ssh "198.51.100.$a" 'grep -c -- "--heartbeat-interval=120" /etc/kubernetes/manifests/etcd.yaml'; done | awk '{s += $1} END {print s + 0}')"
tap_is "... and their etcd processes" "$(echo "$PIDS_BEFORE" | cut -d' ' -f1-2)" "$(pids | cut -d' ' -f1-2)"
mend_etcd 198.51.100.13
