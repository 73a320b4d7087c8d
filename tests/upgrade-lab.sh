#!/bin/bash
# Rolling etcd upgrades on a running 3-member lab cluster with the real
# binaries of the lab's cache: 3.4.23 -> 3.5.16 -> 3.5.30 while a client
# writes a key every 100 ms (every write counted; 100 keys written first
# read back at the end). A path etcd forbids is refused with nothing
# changed; an upgrade killed after its first member goes on where it
# stopped when run again; a version the lab has no binary for (the
# stand-in fails it as a missing image) stops after the first member,
# which is put back on its old manifest and is healthy, the others never
# touched. /version is read with openssl s_client, not with etcdwiz.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
command -v jq >/dev/null || tap_skip_all "jq missing: apt-get install jq"
command -v openssl >/dev/null || tap_skip_all "openssl missing: apt-get install openssl"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"
export XDG_DATA_HOME="$TAP_TMP/xdg"

tap_plan 39
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"
tap_on_exit "touch '$TAP_TMP/stop-writer'"

"$ETCDWIZ" lab up -n 3 --etcd 3.4.23 -q >"$TAP_TMP/up" 2>&1
tap_is "lab up -n 3 --etcd 3.4.23" 0 $?
FILE="$TAP_TMP/cluster.yaml"
cp "$LAB/cluster.yaml" "$FILE"
"$ETCDWIZ" apply --yes -f "$FILE" >"$TAP_TMP/apply0" 2>&1
tap_is "apply makes a 3-member cluster of etcd 3.4.23" 0 $?
ETCDCTL=$(etcdctl35_path)
for i in $(seq 100); do lab_etcdctl "$ETCDCTL" put "/before/$i" "v$i" >/dev/null 2>&1; done
keys_back() { lab_etcdctl "$ETCDCTL" get /before/ --prefix --print-value-only 2>/dev/null | grep -c '^v[0-9]*$'; }
tap_is "100 keys written before the upgrades" 100 "$(keys_back)"

# /version of each member ("server/cluster ..."), through openssl.
file_version() { sed -n 's/^  version: "\{0,1\}\([0-9.]*\)"\{0,1\}$/\1/p' "$FILE" | head -n 1; }
restarted() { grep -oE 'roll: restarting etcd on etcd-[0-9]' "$1" | awk '{print $NF}' | tr '\n' ' ' | sed 's/ $//'; }
journal_of_last_run() { ls -t "$XDG_DATA_HOME"/etcdwiz/lab/journal/*-apply.log | head -n 1; }
start_writer() { rm -f "$TAP_TMP/stop-writer"; lab_writer 6000 lab_etcdctl "$ETCDCTL" & WRITER=$!; sleep 1; }
stop_writer() { sleep 1; touch "$TAP_TMP/stop-writer"; wait "$WRITER"; }

tap_is "/version before: 3.4.23 everywhere, cluster 3.4.0" "3.4.23/3.4.0 3.4.23/3.4.0 3.4.23/3.4.0" "$(lab_versions)"

# --- paths etcd forbids: refused before any host is asked ---
SUM0=$(lab_manifests_sum)
cp "$FILE" "$TAP_TMP/file-before"
"$ETCDWIZ" upgrade --to 3.6.0 -f "$FILE" --yes >"$TAP_TMP/skip" 2>&1
tap_is "3.4.23 -> 3.6.0 (a skipped minor) is refused: exit 3" 3 $?
tap_grep "... with the path to take" 'skips a minor version.*upgrade to 3\.5 \(at least 3\.5\.32\) first, then to 3\.6\.0' "$TAP_TMP/skip"
"$ETCDWIZ" upgrade --to 3.4.20 -f "$FILE" --yes >"$TAP_TMP/down" 2>&1
tap_is "3.4.23 -> 3.4.20 (a downgrade) without --allow-downgrade: exit 3" 3 $?
tap_is "nothing changed: the manifests and the cluster file" "$SUM0" "$(lab_manifests_sum)"
tap_check "... the cluster file is as it was" cmp -s "$TAP_TMP/file-before" "$FILE"

# --- the plan: member by member, the manifest's flag diff ---
"$ETCDWIZ" upgrade --to 3.5.16 -f "$FILE" --plan >"$TAP_TMP/plan" 2>&1
tap_is "upgrade --plan exits 0" 0 $?
tap_grep "the plan has an upgrade section: three members, the leader last" \
	'^  3\. etcd-[123]: etcd 3\.4\.23 -> 3\.5\.16 \(the leader, last' "$TAP_TMP/plan"
tap_grep "... and each manifest's diff (the image)" '^ +\+ +image: registry\.k8s\.io/etcd:3\.5\.16-0' "$TAP_TMP/plan"
tap_grep "... and the probes 3.5.16 has (/readyz)" '^ +\+ +path: /readyz' "$TAP_TMP/plan"
tap_is "the plan changed nothing" "$SUM0" "$(lab_manifests_sum)"

# --- 3.4.23 -> 3.5.16, the minor upgrade, under the writer ---
start_writer
"$ETCDWIZ" upgrade --to 3.5.16 -f "$FILE" --yes >"$TAP_TMP/up1" 2>&1
rc=$?
stop_writer
tap_is "upgrade --to 3.5.16 exits 0" 0 $rc
[ $rc -eq 0 ] || tail -30 "$TAP_TMP/up1" | sed 's/^/# /'
tap_grep "a snapshot was taken first" '^Snapshot before the upgrade: .*/backups/lab-' "$TAP_TMP/up1"
J=$(journal_of_last_run)
R=$(restarted "$J")
tap_is "one member at a time, the leader last ($R)" 3 "$(echo "$R" | wc -w)"
LEADER_LINE=$(grep -oE 'roll: restarting etcd on etcd-[0-9] \(the leader, last\)' "$J" | head -n 1)
tap_check "... the last one restarted was the leader" test -n "$LEADER_LINE"
tap_grep "the recap lists each member's old and new version" '^  etcd-2 +3\.4\.23 -> 3\.5\.16' "$TAP_TMP/up1"
tap_is "/version after: 3.5.16 everywhere, cluster 3.5.0" "3.5.16/3.5.0 3.5.16/3.5.0 3.5.16/3.5.0" "$(lab_versions)"
tap_is "the cluster file says 3.5.16 now" 3.5.16 "$(file_version)"
tap_is "no write failed through the minor upgrade ($(wc -l <"$TAP_TMP/w-ok") succeeded, $(wc -l <"$TAP_TMP/w-retried") of them sent again after a stopping member cut them off)" 0 "$(wc -l <"$TAP_TMP/w-fail")"
[ -s "$TAP_TMP/w-errors" ] && sed 's/^/# writer: /' "$TAP_TMP/w-errors" | head -5

# --- 3.5.16 -> 3.5.30 killed after its first member, then run again ---
J_PREV=$(journal_of_last_run)
start_writer
"$ETCDWIZ" upgrade --to 3.5.30 -f "$FILE" --yes >"$TAP_TMP/up2" 2>&1 &
UP=$!
killed=no
for i in $(seq 1200); do
	J=$(journal_of_last_run)
	if [ "$J" != "$J_PREV" ] && grep -q 'roll: etcd-[0-9] healthy again' "$J" 2>/dev/null; then
		kill -KILL "$UP" && killed=yes
		break
	fi
	kill -0 "$UP" 2>/dev/null || break
	sleep 0.1
done
wait "$UP" 2>/dev/null
tap_is "etcdwiz killed (SIGKILL) once the first member was healthy on 3.5.30" yes "$killed"
# The kill may land after the next member's manifest was written: that one
# restarts on its own. Once all three answer (bounded), one or two run
# 3.5.30 and the others 3.5.16.
for i in $(seq 60); do
	V=$(lab_versions)
	[ "$(echo "$V" | wc -w)" = 3 ] && break
	sleep 1
done
N30=$(echo "$V" | tr ' ' '\n' | grep -c '^3\.5\.30/')
tap_check "one or two members on 3.5.30, the others on 3.5.16 ($V)" \
	test "$N30" -ge 1 -a "$N30" -le 2 -a "$((N30 + $(echo "$V" | tr ' ' '\n' | grep -c '^3\.5\.16/')))" = 3
tap_is "the cluster file still says 3.5.16" 3.5.16 "$(file_version)"
# The member whose restart the killed run had begun may still be coming
# up: the upgrade refuses while a member is not healthy, so wait for all
# three (bounded), as an admin looking at `etcdwiz status` would.
for i in $(seq 60); do
	[ "$(lab_etcdctl "$ETCDCTL" endpoint health 2>&1 | grep -c 'is healthy')" = 3 ] && break
	sleep 1
done
J_PREV=$(journal_of_last_run)
"$ETCDWIZ" upgrade --to 3.5.30 -f "$FILE" --yes >"$TAP_TMP/up3" 2>&1
rc=$?
stop_writer
tap_is "run again, it finishes: exit 0" 0 $rc
[ $rc -eq 0 ] || tail -30 "$TAP_TMP/up3" | sed 's/^/# /'
J=$(journal_of_last_run)
[ "$J" != "$J_PREV" ] || J=/dev/null
N=$(restarted "$J" | wc -w)
tap_check "... restarting only the members not upgraded ($N: one or two, as the kill left them)" test "$N" -ge 1 -a "$N" -le 2
tap_is "/version: 3.5.30 everywhere" "3.5.30/3.5.0 3.5.30/3.5.0 3.5.30/3.5.0" "$(lab_versions)"
tap_is "the cluster file says 3.5.30" 3.5.30 "$(file_version)"
tap_is "no write failed through the killed upgrade and its re-run ($(wc -l <"$TAP_TMP/w-ok") succeeded, $(wc -l <"$TAP_TMP/w-retried") of them sent again after a stopping member cut them off)" 0 \
	"$(wc -l <"$TAP_TMP/w-fail")"

# --- a version with no binary in the lab's cache: stops after one member ---
SUM1=$(lab_manifests_sum)
start_writer
"$ETCDWIZ" upgrade --to 3.5.31 -f "$FILE" --yes --health-timeout 30s >"$TAP_TMP/up4" 2>&1
rc=$?
stop_writer
tap_is "upgrade --to 3.5.31 (no such image) exits 1" 1 $rc
grep -A7 'did not start from its new manifest' "$TAP_TMP/up4" | head -n 8 | sed 's/^/# what the admin sees: /'
tap_grep "... naming the member, the version and its last log lines" \
	'etcd on etcd-[123] did not start from its new manifest \(etcd 3\.5\.31\)' "$TAP_TMP/up4"
tap_grep "... the log line says the image could not be pulled" 'Failed to pull image .*3\.5\.31' "$TAP_TMP/up4"
tap_grep "... and that it is back on its old manifest and healthy" 'back on its old manifest \(etcd 3\.5\.30\) and healthy again' "$TAP_TMP/up4"
tap_is "every member is on 3.5.30 and answers (the first one put back)" "3.5.30/3.5.0 3.5.30/3.5.0 3.5.30/3.5.0" "$(lab_versions)"
tap_is "every manifest is as before (the first one written back, the others never touched)" "$SUM1" "$(lab_manifests_sum)"
tap_is "the cluster file still says 3.5.30" 3.5.30 "$(file_version)"
tap_is "no write failed while one member was away ($(wc -l <"$TAP_TMP/w-ok") succeeded, $(wc -l <"$TAP_TMP/w-retried") of them sent again after a stopping member cut them off)" 0 "$(wc -l <"$TAP_TMP/w-fail")"
tap_is "the 100 keys written before read back after" 100 "$(keys_back)"
tap_finish
