#!/bin/bash
# The wizard's Upgrade screen on a running 3-member lab cluster of etcd
# 3.5.16 (real etcd; the kubelet stand-in is the only pretend part),
# driven in tmux as an admin would while a client writes a key every
# 100 ms (every write counted): the members' versions and what etcd's
# path allows; u with a skip is refused with nothing changed; u 3.5.30:
# the plan (each manifest's diff), the confirmation, a snapshot, the
# members one at a time; at the end /version (read with openssl) says
# 3.5.30 on every member and the cluster file says so too.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v tmux >/dev/null || tap_skip_all "tmux missing: apt-get install tmux"
command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
command -v openssl >/dev/null || tap_skip_all "openssl missing: apt-get install openssl"
command -v jq >/dev/null || tap_skip_all "jq missing: apt-get install jq"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"

tap_plan 16
export XDG_DATA_HOME="$TAP_TMP/xdg" XDG_STATE_HOME="$TAP_TMP/state"
SOCK="etcdwiz-upgrade-$$"
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"
tap_on_exit "tmux -L '$SOCK' kill-server >/dev/null 2>&1"
tap_on_exit "touch '$TAP_TMP/stop-writer'"

"$ETCDWIZ" lab up -n 3 --etcd 3.5.16 -q >"$TAP_TMP/up" 2>&1
tap_is "lab up -n 3 --etcd 3.5.16" 0 $?
FILE="$TAP_TMP/cluster.yaml"
cp "$LAB/cluster.yaml" "$FILE"
"$ETCDWIZ" apply --yes -f "$FILE" >"$TAP_TMP/apply" 2>&1
tap_is "apply makes the 3-member cluster of etcd 3.5.16" 0 $?
ETCDCTL=$(etcdctl35_path)
lab_writer 6000 lab_etcdctl "$ETCDCTL" &
WRITER=$!

. "${TOP_SRCDIR:-.}/tests/tmux-lib.sh"
joined() { tr '\n' ' ' <"$1" | tr -s ' '; }
dialog() { LC_ALL=C.UTF-8 grep -o '│[^│]*│' "$1" | LC_ALL=C.UTF-8 sed 's/│//g' | tr '\n' ' ' | tr -s ' '; }
clear_input() { local i; for i in $(seq 12); do keys BSpace; done; }
tmux -L "$SOCK" -f /dev/null new-session -d -s wiz -x 120 -y 36 \
	"env TERM=xterm-256color LC_ALL=C.UTF-8 ASAN_OPTIONS=log_path=$TAP_TMP/asan UBSAN_OPTIONS=log_path=$TAP_TMP/ubsan XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' ETCDWIZ_LAB_PATH='$ETCDWIZ_LAB_PATH' '$ETCDWIZ' wizard -f '$FILE'; echo WIZARD-EXIT=\$?; sleep 600"
to_upgrade() {
	wait_screen 20 "etcdwiz 1/13: Welcome" || return 1
	keys F3
	wait_screen 30 "etcdwiz 2/13: Hosts" || return 1
	keys F3
	wait_screen 60 "etcdwiz 3/13: Connect" || return 1
	wait_screen 120 "3 of 3 hosts connected." || return 1
	keys F3
	wait_screen 60 "a adds, d removes, r replaces; F3 goes on." || return 1
	keys F3
	wait_screen 30 "etcdwiz 5/13: Backups" || return 1
	sleep 2
	keys F3
	wait_screen 30 "etcdwiz 6/13: Upgrade" || return 1
	wait_screen 60 "u upgrades; F3 goes on." || return 1
}
to_upgrade
tap_is "the wizard reaches the Upgrade screen through Members and Backups" 0 $?
screen >"$TAP_TMP/table"
tap_is "Upgrade: the 3 members with their role, etcd 3.5.16 and cluster version 3.5.0" 3 \
	"$(grep -cE '^ etcd-[123] +(leader|follower) +3\.5\.16 +3\.5\.0' "$TAP_TMP/table")"
tap_grep "... and what etcd's path allows from there" \
	"etcd's path allows from 3.5.16: a later 3.5 patch; 3.6 once every member runs 3.5.32 or later" "$TAP_TMP/table"

# u, 3.6.0: refused, nothing changed.
SUM0=$(lab_manifests_sum)
keys u
wait_screen 10 "Version to go to" >/dev/null || true
clear_input; keys 3.6.0 Enter
wait_screen 10 "Refused, nothing was changed" >/dev/null
screen >"$TAP_TMP/refused"
tap_grep "u 3.6.0 is refused with the path" 'Refused, nothing was changed: etcd 3.5.16 to 3.6.0: every member must run at least 3.5.32' \
	<(joined "$TAP_TMP/refused")
tap_is "... and no manifest changed" "$SUM0" "$(lab_manifests_sum)"

# u, 3.5.30: the plan, F3, yes, until done.
keys u
wait_screen 10 "Version to go to" >/dev/null || true
clear_input; keys 3.5.30 Enter
wait_screen 120 "Review, then F3 to apply." >/dev/null
screen >"$TAP_TMP/plan"
keys v
sleep 1
screen >"$TAP_TMP/diff"
keys v
tap_grep "the plan shows the new image in the selected host's manifest diff" '\+ *image: registry\.k8s\.io/etcd:3\.5\.30-0' "$TAP_TMP/diff"
keys F3
wait_screen 10 "Apply these changes?" >/dev/null
screen >"$TAP_TMP/confirm"
tap_grep "the confirmation names the upgrade and the order" 'Upgrade etcd from 3\.5\.16 to 3\.5\.30: one member at a time, followers first, the leader last' \
	<(dialog "$TAP_TMP/confirm")
keys y
done_text=""
for i in $(seq 900); do # at most 7.5 minutes
	s=$(screen)
	case $s in
	*"Done: every member runs etcd 3.5.30"*) done_text=$s; break ;;
	*"The upgrade to 3.5.30 stopped"*) echo "$s" | sed 's/^/# /'; break ;;
	esac
	sleep 0.5
done
echo "$done_text" >"$TAP_TMP/done"
tap_grep "u 3.5.30, F3, y: done, every member on 3.5.30" 'Done: every member runs etcd 3\.5\.30 \(was 3\.5\.16\)' <(joined "$TAP_TMP/done")
tap_grep "... a snapshot was taken first" 'The snapshot taken first: .*/backups/lab-' <(joined "$TAP_TMP/done")
tap_is "/version: 3.5.30 on every member" "3.5.30/3.5.0 3.5.30/3.5.0 3.5.30/3.5.0" "$(lab_versions)"
tap_grep "the cluster file says 3.5.30 now" '^  version: "?3\.5\.30"?$' "$FILE"
J=$(ls -t "$XDG_DATA_HOME"/etcdwiz/lab/journal/*-apply.log | head -n 1)
tap_is "one member at a time, the leader last" "3 1" \
	"$(grep -c 'roll: restarting etcd on etcd-' "$J") $(grep -c 'roll: restarting etcd on etcd-[0-9] (the leader, last)' "$J")"
touch "$TAP_TMP/stop-writer"
wait "$WRITER"
tap_is "no write failed through the upgrade ($(wc -l <"$TAP_TMP/w-ok") succeeded, $(wc -l <"$TAP_TMP/w-retried") of them sent again after a stopping member cut them off)" 0 "$(wc -l <"$TAP_TMP/w-fail")"
keys F4
sleep 1
keys y
wait_screen 30 "WIZARD-EXIT=" >/dev/null
tap_is "no sanitizer report from the wizard" "" "$(cat "$TAP_TMP"/asan.* "$TAP_TMP"/ubsan.* 2>/dev/null | head -20)"
tap_finish
