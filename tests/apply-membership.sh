#!/bin/bash
# Membership on a running cluster with real etcd (the kubelet stand-in is
# the only pretend part), while a client writes a key every 100 ms (every
# write counted) and 100 keys written first are read back after each
# change with Debian's etcdctl:
#   grow 1 -> 3 by editing the file; 3 -> 4 by editing the file; 4 -> 5 with
#   'member add'; shrink 5 -> 3 with --prune-members (the leaving leader
#   hands its leadership over first); a removal that would lose quorum is
#   refused with nothing changed; a member whose host died is replaced by a
#   new host ('member replace'); etcdwiz killed between MemberAdd and
#   MemberPromote, then run again: one learner, promoted, no duplicate.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"
export XDG_DATA_HOME="$TAP_TMP/xdg"

tap_plan 40
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"
tap_on_exit "touch '$TAP_TMP/stop-writer'"

"$ETCDWIZ" lab up -n 5 -q >"$TAP_TMP/up" 2>&1
tap_is "lab up -n 5" 0 $?
FILE="$TAP_TMP/cluster.yaml"
ETCDCTL=$(etcdctl35_path)
PKI="$XDG_DATA_HOME/etcdwiz/lab/pki/members/etcd-1"
ENDPOINTS=https://198.51.100.11:2379
ctl() {
	ETCDCTL_API=3 timeout 30 "$ETCDCTL" --cacert "$PKI/etcd/ca.crt" --cert "$PKI/etcd/healthcheck-client.crt" \
		--key "$PKI/etcd/healthcheck-client.key" --endpoints "$ENDPOINTS" "$@"
}
# members_are "etcd-1 etcd-2": etcd's member list (Debian's etcdctl), names
# sorted, every one started and a voter.
members() { ctl member list -w simple 2>/dev/null | awk -F', ' '$2 == "started" && $6 == "false" {print $3}' | sort | tr '\n' ' ' | sed 's/ $//'; }
learners() { ctl member list 2>/dev/null | awk -F', ' '$6 == "true"' | wc -l; }
entries() { ctl member list 2>/dev/null | wc -l; }
keys_back() { ctl get /before/ --prefix --print-value-only 2>/dev/null | grep -c '^v[0-9]*$'; }
journal() { ls -t "$XDG_DATA_HOME"/etcdwiz/lab/journal/*-apply.log | head -n 1; }
# The lab's file with the first N members (and each host key pinned).
file_with() {
	awk -v n="$1" '/^members:/ { m = 1; print; next }
		m && /^- name:/ { k++ } m && k > n { next } { print }' "$LAB/cluster.yaml" >"$FILE"
}


# 1 -> 3: the single member bootstraps, then two join (an even count in
# between, warned).
file_with 1
"$ETCDWIZ" apply --yes -f "$FILE" >"$TAP_TMP/apply1" 2>&1
tap_is "apply makes a 1-member cluster" 0 $?
for i in $(seq 100); do ctl put "/before/$i" "v$i" >/dev/null 2>&1; done
tap_is "100 keys written on it" 100 "$(keys_back)"
ENDPOINTS=https://198.51.100.11:2379,https://198.51.100.12:2379,https://198.51.100.13:2379
lab_writer 6000 ctl &
WRITER=$!
file_with 3
"$ETCDWIZ" apply --yes -f "$FILE" >"$TAP_TMP/grow13" 2>&1
rc=$?
tap_is "1 -> 3 by editing the file: apply exits 0" 0 $rc
[ $rc -eq 0 ] || tail -20 "$TAP_TMP/grow13" | sed 's/^/# /'
tap_is "... etcd lists etcd-1, etcd-2, etcd-3, all started voters" "etcd-1 etcd-2 etcd-3" "$(members)"
tap_is "... joined one at a time: added, promoted, then the next" \
	"etcd-2 added etcd-2 promoted etcd-3 added etcd-3 promoted" \
	"$(grep -oE 'join: etcd-[0-9] (added|promoted)' "$(journal)" | awk '{print $2, $3}' | tr '\n' ' ' | sed 's/ $//')"
tap_grep "... a snapshot was taken first, into the local backups" \
	"^Snapshot before the membership change: $XDG_DATA_HOME/etcdwiz/lab/backups/lab-[0-9-]*-etcd-1\\.db " "$TAP_TMP/grow13"
tap_grep "... the joining member's manifest says state existing" '--initial-cluster-state=existing' \
	<(lab_ssh 198.51.100.13 cat /etc/kubernetes/manifests/etcd.yaml)
tap_is "... the 100 keys read back" 100 "$(keys_back)"

# 3 -> 4 by editing the file.
ENDPOINTS=$ENDPOINTS,https://198.51.100.14:2379,https://198.51.100.15:2379
"$ETCDWIZ" plan -f "$(file_with 4; echo "$FILE")" >"$TAP_TMP/plan4" 2>&1
tap_grep "plan shows the cluster and the join as its own action" \
	'add etcd-4 as a learner, wait until it has caught up, promote it' "$TAP_TMP/plan4"
tap_grep "... with each member's id and role" '^  etcd-[123] +[0-9a-f]{16}  (leader|voter) +healthy, etcd 3\.5' "$TAP_TMP/plan4"
"$ETCDWIZ" apply --yes -f "$FILE" >"$TAP_TMP/grow4" 2>&1
rc=$?
tap_is "3 -> 4 by editing the file: apply exits 0" 0 $rc
[ $rc -eq 0 ] || tail -20 "$TAP_TMP/grow4" | sed 's/^/# /'
tap_is "... 4 started voters" "etcd-1 etcd-2 etcd-3 etcd-4" "$(members)"

# 4 -> 5 with 'member add'.
"$ETCDWIZ" member add etcd-5 198.51.100.15 -f "$FILE" --yes >"$TAP_TMP/add5" 2>&1
rc=$?
tap_is "member add etcd-5: exits 0" 0 $rc
[ $rc -eq 0 ] || tail -20 "$TAP_TMP/add5" | sed 's/^/# /'
tap_is "... 5 started voters" "etcd-1 etcd-2 etcd-3 etcd-4 etcd-5" "$(members)"
tap_grep "... the file names etcd-5 now (written after the plan)" '^- name: etcd-5$' "$FILE"
tap_check "... the previous file kept as FILE.bak" grep -q '^- name: etcd-4$' "$FILE.bak"
"$ETCDWIZ" member list -f "$FILE" >"$TAP_TMP/list5" 2>&1
tap_is "member list: 5 rows, healthy, from etcd's member list" 5 \
	"$(grep -cE '^[0-9a-f]{16}  etcd-[1-5] .* no +(yes|no) +healthy, etcd 3\.5' "$TAP_TMP/list5")"
"$ETCDWIZ" apply --yes -f "$FILE" >"$TAP_TMP/again5" 2>&1
tap_grep "... a second apply changes nothing (nobody added)" '^Nothing to change: every host already matches' "$TAP_TMP/again5"

# 5 -> 3 with --prune-members; etcd-5 leads, so it hands over first.
ID5=$(ctl member list 2>/dev/null | awk -F', ' '$3 == "etcd-5" {print $1}')
ctl move-leader "$ID5" >/dev/null 2>&1
file_with 3
"$ETCDWIZ" plan -f "$FILE" >"$TAP_TMP/plan3" 2>&1
tap_grep "without --prune-members the extra members are only listed, kept" \
	"etcd-4 \(id [0-9a-f]{16}\) is in the cluster but not in the cluster file: kept" "$TAP_TMP/plan3"
"$ETCDWIZ" apply --yes --prune-members -f "$FILE" >"$TAP_TMP/shrink" 2>&1
tap_is "5 -> 3 with --prune-members: apply exits 0" 0 $?
tap_is "... etcd lists etcd-1, etcd-2, etcd-3" "etcd-1 etcd-2 etcd-3" "$(members)"
tap_grep "... the leaving leader handed its leadership over first" \
	'remove: etcd-5 is the leader: moving the leadership to etcd-[123]' "$(journal)"
tap_is "... on etcd-4 and etcd-5 the manifest left kubelet's directory, the data and certificates were renamed, no etcd runs" \
	"1 1 1 0 1 1 1 0" "$(for a in 14 15; do lab_ssh 198.51.100.$a 'ls /etc/kubernetes/etcd.yaml.removed-* | wc -l;
		ls -d /var/lib/etcd.removed-* | wc -l; ls -d /etc/kubernetes/pki/etcd.removed-* | wc -l; pgrep -xc etcd'; done | tr '\n' ' ' | sed 's/ $//')"
tap_is "... the 100 keys read back" 100 "$(keys_back)"

# A removal that would lose quorum: etcd-3 broken, etcd-2 asked to go.
ENDPOINTS=https://198.51.100.11:2379,https://198.51.100.12:2379,https://198.51.100.13:2379
break_etcd 198.51.100.13
cp "$FILE" "$TAP_TMP/before-refusal"
"$ETCDWIZ" member remove etcd-2 -f "$FILE" --yes >"$TAP_TMP/refused" 2>&1
tap_is "member remove etcd-2 with etcd-3 down: refused, exit 1" 1 $?
tap_grep "... saying why: the quorum that would be left" \
	'removing etcd-2 would leave 1 of 2 voting members healthy, fewer than the quorum of 2; nothing was removed' "$TAP_TMP/refused"
tap_check "... the cluster file is unchanged" cmp -s "$FILE" "$TAP_TMP/before-refusal"
tap_is "... etcd still lists the 3 members" 3 "$(entries)"
mend_etcd 198.51.100.13

# etcd-3's host dies; a new host (etcd-4's, its old data set aside) takes
# its place.
lab_ssh 198.51.100.13 'systemctl stop kubelet; pkill -x etcd; systemctl stop ssh.socket ssh' >/dev/null 2>&1
"$ETCDWIZ" member replace etcd-3 198.51.100.14 -f "$FILE" --yes --accept-new-host-keys >"$TAP_TMP/replace" 2>&1
rc=$?
tap_is "member replace etcd-3 198.51.100.14 (its old host down): exits 0" 0 $rc
[ $rc -eq 0 ] || tail -20 "$TAP_TMP/replace" | sed 's/^/# /'
ENDPOINTS=https://198.51.100.11:2379,https://198.51.100.12:2379,https://198.51.100.14:2379
tap_is "... etcd lists etcd-3 at the new address, 3 members" "3 https://198.51.100.14:2380" \
	"$(entries) $(ctl member list 2>/dev/null | awk -F', ' '$3 == "etcd-3" {print $4}')"
tap_grep "... saying what was left on the dead host" \
	'removed etcd-3 \(id [0-9a-f]{16}\); its host 198.51.100.13 could not be reached' "$TAP_TMP/replace"
tap_is "... the 100 keys read back" 100 "$(keys_back)"

# Killed between MemberAdd and MemberPromote: etcd-5's etcd cannot start
# (its data directory's member/ is a file), so the promotion waits; the
# run is killed there.
lab_ssh 198.51.100.15 'mkdir -p /var/lib/etcd && echo "broken for this test" >/var/lib/etcd/member' >/dev/null 2>&1
"$ETCDWIZ" member add etcd-5 198.51.100.15 -f "$FILE" --yes --health-timeout 120s >"$TAP_TMP/killed" 2>&1 &
KILLED=$!
for i in $(seq 120); do
	grep -q 'join: etcd-5 started as a learner' "$(journal)" 2>/dev/null && break
	sleep 0.5
done
kill -9 $KILLED
wait $KILLED 2>/dev/null
got="$(ctl member list 2>/dev/null | grep -c 198.51.100.15:2380) $(learners)"
tap_is "killed while promoting: etcd lists etcd-5 once, as a learner" "1 1" "$got"
[ "$got" = "1 1" ] || { grep -E 'etcd-5 [a-z]+: (failed|\[ERROR)' "$TAP_TMP/killed"; grep join: "$(journal)"; } | sed 's/^/# /'
lab_ssh 198.51.100.15 'rm -f /var/lib/etcd/member; systemctl restart kubelet' >/dev/null 2>&1
"$ETCDWIZ" apply -f "$FILE" --yes >"$TAP_TMP/resumed" 2>&1
tap_is "apply again picks it up: exits 0" 0 $?
tap_grep "... the learner found by its peer URL, not added twice" 'join: etcd-5 is a learner already' "$(journal)"
tap_is "... one etcd-5, promoted: 4 started voters, no learner" "etcd-1 etcd-2 etcd-3 etcd-5 0 4" \
	"$(ENDPOINTS=$ENDPOINTS,https://198.51.100.15:2379 members) $(learners) $(entries)"

touch "$TAP_TMP/stop-writer"
wait "$WRITER"
tap_check "the client wrote through every change (more than 100 puts)" test "$(wc -l <"$TAP_TMP/w-ok")" -gt 100
tap_is "no write failed through the changes ($(wc -l <"$TAP_TMP/w-ok") succeeded, $(wc -l <"$TAP_TMP/w-retried") of them sent again after a stopping member cut them off)" 0 "$(wc -l <"$TAP_TMP/w-fail")"
[ -s "$TAP_TMP/w-errors" ] && sed 's/^/# writer: /' "$TAP_TMP/w-errors" | head -5
tap_is "the 100 keys written first read back at the end" 100 "$(keys_back)"
