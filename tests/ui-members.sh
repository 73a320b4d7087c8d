#!/bin/bash
# The wizard's Members screen on a running 3-member lab cluster (real etcd;
# the kubelet stand-in is the only pretend part), driven in tmux as an
# admin would, while a client writes a key every 100 ms (every write
# counted) and 100 keys written first are read back at the end with
# Debian's etcdctl:
#   the table: every member with its id, role, version and health;
#   a adds etcd-4 (its join's phases on its row), r moves it to another
#   host, d removes it again; u undoes a change not applied (the file and
#   etcd unchanged); each change takes a snapshot first;
# then the Backups screen: the snapshots here; b takes one; s sets the
# schedule (a timer on every member); r restores the cluster from the
# newest once its name is typed.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v tmux >/dev/null || tap_skip_all "tmux missing: apt-get install tmux"
command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"

tap_plan 30
export XDG_DATA_HOME="$TAP_TMP/xdg" XDG_STATE_HOME="$TAP_TMP/state"
SOCK="etcdwiz-members-$$"
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"
tap_on_exit "tmux -L '$SOCK' kill-server >/dev/null 2>&1"
tap_on_exit "touch '$TAP_TMP/stop-writer'"

"$ETCDWIZ" lab up -n 5 -q >"$TAP_TMP/up" 2>&1
tap_is "lab up -n 5" 0 $?
FILE="$TAP_TMP/cluster.yaml"
# The lab's file with its first 3 members (every host key stays pinned).
awk '/^members:/ { m = 1; print; next } m && /^- name:/ { k++ } m && k > 3 { next } { print }' \
	"$LAB/cluster.yaml" >"$FILE"
"$ETCDWIZ" apply --yes -f "$FILE" >"$TAP_TMP/apply" 2>&1
tap_is "apply makes the 3-member cluster" 0 $?

ETCDCTL=$(etcdctl35_path)
PKI="$XDG_DATA_HOME/etcdwiz/lab/pki/members/etcd-1"
ctl() {
	ETCDCTL_API=3 timeout 30 "$ETCDCTL" --cacert "$PKI/etcd/ca.crt" --cert "$PKI/etcd/healthcheck-client.crt" \
		--key "$PKI/etcd/healthcheck-client.key" \
		--endpoints https://198.51.100.11:2379,https://198.51.100.12:2379,https://198.51.100.13:2379 "$@"
}
# Started voters as etcd lists them: "NAME@ADDRESS ...", sorted.
members() {
	ctl member list 2>/dev/null | awk -F', ' '$2 == "started" && $6 == "false" { sub("https://", "", $4); sub(":2380", "", $4); print $3 "@" $4 }' |
		sort | tr '\n' ' ' | sed 's/ $//'
}
for i in $(seq 100); do ctl put "/before/$i" "v$i" >/dev/null 2>&1; done
lab_writer 6000 ctl &
WRITER=$!

. "${TOP_SRCDIR:-.}/tests/tmux-lib.sh"
# change NAME: F3 on a change checked, Yes, and until it is done; the
# screen during the apply sampled into $TAP_TMP/NAME.during, the end in
# NAME.done.
change() {
	local name=$1 i s
	wait_screen 120 "Review, then F3 to apply." || return 1
	keys F3
	wait_screen 10 "Apply these changes?" || return 1
	screen >"$TAP_TMP/$name.confirm"
	keys y
	: >"$TAP_TMP/$name.during"
	for i in $(seq 1200); do # at most 10 minutes
		s=$(screen)
		echo "$s" >>"$TAP_TMP/$name.during"
		case $s in
		*"Done: "*"a adds, d removes, r replaces"*) echo "$s" >"$TAP_TMP/$name.done"; return 0 ;;
		*"The change stopped"* | *"etcd refused the change"*) echo "# $name failed:"; echo "$s" | sed 's/^/# /'; return 1 ;;
		esac
		sleep 0.5
	done
	return 1
}
# joined FILE: a screen dump as one line, wrapped text joined again.
# dialog FILE: the same for the text inside the dialog's frame only.
joined() { tr '\n' ' ' <"$1" | tr -s ' '; }
dialog() { LC_ALL=C.UTF-8 grep -o '│[^│]*│' "$1" | LC_ALL=C.UTF-8 sed 's/│//g' | tr '\n' ' ' | tr -s ' '; }
# select_row NAME: the Members table's row of NAME selected (the rows
# are in etcd's order: to the top, then down to it).
select_row() {
	local pos i
	pos=$(screen | grep -E '^ etcd-[0-9]+ +([0-9a-f]{16}|-) ' | awk -v n="$1" '$1 == n { print NR; exit }')
	[ -n "$pos" ] || return 1
	for i in $(seq 8); do keys Up; done
	for i in $(seq $((pos - 1))); do keys Down; done
	sleep 0.5
}

tmux -L "$SOCK" -f /dev/null new-session -d -s wiz -x 120 -y 36 \
	"env TERM=xterm-256color LC_ALL=C.UTF-8 ASAN_OPTIONS=log_path=$TAP_TMP/asan UBSAN_OPTIONS=log_path=$TAP_TMP/ubsan XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' ETCDWIZ_LAB_PATH='$ETCDWIZ_LAB_PATH' '$ETCDWIZ' wizard -f '$FILE'; echo WIZARD-EXIT=\$?; sleep 600"
to_members() {
	wait_screen 20 "etcdwiz 1/13: Welcome" || return 1
	keys F3
	wait_screen 30 "etcdwiz 2/13: Hosts" || return 1
	keys F3
	wait_screen 60 "etcdwiz 3/13: Connect" || return 1
	wait_screen 120 "3 of 3 hosts connected." || return 1
	keys F3
	wait_screen 30 "etcdwiz 4/13: Members" || return 1
	wait_screen 60 "a adds, d removes, r replaces; F3 goes on." || return 1
}
to_members
tap_is "the wizard opened on the file reaches Members once Connect is done" 0 $?
screen >"$TAP_TMP/table"
tap_is "Members: the 3 members with their id, role, etcd version and health" 3 \
	"$(grep -cE '^ etcd-[123] +[0-9a-f]{16} +(leader|voter) +3\.5\.[0-9]+ +healthy' "$TAP_TMP/table")"
tap_is "... one of them the leader" 1 "$(grep -cE '^ etcd-[123] +[0-9a-f]{16} +leader ' "$TAP_TMP/table")"
tap_grep "... and the summary: 3 voting members, 3 healthy" 'Cluster lab: 3 voting members, 3 healthy, leader etcd-[123]' \
	"$TAP_TMP/table"

# a: etcd-4 at 198.51.100.14.
keys a
wait_screen 10 "Name of the new member" || true
keys Enter
wait_screen 10 "Address of etcd-4" || true
keys 198.51.100.14 Enter
change add
tap_is "a, etcd-4, its address: checked, confirmed, applied" 0 $?
tap_grep "... the confirmation names the change first" \
	'add etcd-4 \(198\.51\.100\.14\) as a learner, wait until it has caught up, promote it .*These hosts will change' \
	<(dialog "$TAP_TMP/add.confirm")
tap_grep "... etcd-4's row showed its join as it went" '^ etcd-4 .*(learner added|started|catching up|promoted)' \
	"$TAP_TMP/add.during"
tap_grep "... the phases in order when done" 'Done: add etcd-4 .* \(learner added, started, (catching up, )?promoted\)' \
	<(joined "$TAP_TMP/add.done")
tap_is "... etcd lists 4 started voters" \
	"etcd-1@198.51.100.11 etcd-2@198.51.100.12 etcd-3@198.51.100.13 etcd-4@198.51.100.14" "$(members)"
tap_is "... the file names etcd-4, the old one is FILE.bak" "4 3" \
	"$(grep -c '^- name:' "$FILE") $(grep -c '^- name:' "$FILE.bak")"

# u: a change checked, then undone: nothing changes.
cp "$FILE" "$TAP_TMP/before-undo"
keys a
wait_screen 10 "Name of the new member" || true
keys Enter
wait_screen 10 "Address of etcd-5" || true
keys 198.51.100.15 Enter
wait_screen 120 "Review, then F3 to apply." >/dev/null
keys u
wait_screen 30 "The change was undone; nothing was applied." >/dev/null
tap_is "u undoes a change checked but not applied: the file is as it was" 0 "$(cmp -s "$FILE" "$TAP_TMP/before-undo"; echo $?)"
wait_screen 60 "a adds, d removes, r replaces; F3 goes on." >/dev/null
tap_is "... and etcd still lists the 4" 4 "$(members | wc -w)"

# r: etcd-4 moves to 198.51.100.15.
select_row etcd-4
keys r
wait_screen 10 "New address of etcd-4" || true
keys 198.51.100.15 Enter
change replace
tap_is "r on etcd-4, a new address: applied" 0 $?
tap_is "... etcd lists etcd-4 at its new address" \
	"etcd-1@198.51.100.11 etcd-2@198.51.100.12 etcd-3@198.51.100.13 etcd-4@198.51.100.15" "$(members)"
tap_check "... the old host's manifest is set aside, dated" \
	lab_ssh 198.51.100.14 'ls /etc/kubernetes/etcd.yaml.removed-* && ! test -e /etc/kubernetes/manifests/etcd.yaml'

# d: etcd-4 removed again.
select_row etcd-4
keys d
change remove
tap_is "d on etcd-4: applied" 0 $?
tap_is "... etcd lists the 3 again" "etcd-1@198.51.100.11 etcd-2@198.51.100.12 etcd-3@198.51.100.13" "$(members)"

touch "$TAP_TMP/stop-writer"
wait "$WRITER"
tap_is "each change took a snapshot first, into the local backups (3 there)" 3 \
	"$(ls "$XDG_DATA_HOME"/etcdwiz/lab/backups/*.db 2>/dev/null | wc -l)"
tap_grep "... and the Done line names it" 'The snapshot taken first: .*/backups/lab-' <(joined "$TAP_TMP/add.done")
tap_is "the writer saw no failed write through the three changes ($(wc -l <"$TAP_TMP/w-ok") written, $(wc -l <"$TAP_TMP/w-retried") sent again after a stopping member cut them off)" 0 \
	"$(wc -l <"$TAP_TMP/w-fail")"
[ -s "$TAP_TMP/w-errors" ] && head -5 "$TAP_TMP/w-errors" | sed 's/^/# /'
tap_is "the 100 keys written first read back" 100 \
	"$(ctl get /before/ --prefix --print-value-only 2>/dev/null | grep -c '^v[0-9]*$')"

# The Backups screen, next: the snapshots here, b, s, r.
keys F3
wait_screen 30 "etcdwiz 5/13: Backups" || true
wait_screen 30 "lab-" >/dev/null
screen >"$TAP_TMP/backups"
tap_is "Backups lists the 3 snapshots here, each with member and revision" 3 \
	"$(grep -cE '^   [0-9-]+ [0-9:]+ UTC  etcd-[0-9] +rev [0-9]+ +3\.5\.[0-9]+ ' "$TAP_TMP/backups")"
keys b
wait_screen 60 "Snapshot taken from" >/dev/null
tap_is "b takes one more: 4 in the local backups" 4 "$(ls "$XDG_DATA_HOME"/etcdwiz/lab/backups/*.db 2>/dev/null | wc -l)"
keys s
wait_screen 10 "a systemd calendar expression" >/dev/null
keys BSpace BSpace BSpace BSpace BSpace hourly Enter
wait_screen 10 "How many snapshots each member keeps" >/dev/null
keys BSpace 2 Enter
wait_screen 120 "Review, then F3 to apply." >/dev/null
keys F3
wait_screen 10 "Apply these changes?" >/dev/null
screen >"$TAP_TMP/schedule.confirm"
keys y
wait_screen 180 "The snapshot timers are installed on every member." >/dev/null
tap_is "s sets backup.schedule hourly, keep 2: the file says so, the timer runs on the 3 members" "hourly 2 3" \
	"$(sed -n 's/^  schedule: //p' "$FILE") $(sed -n 's/^  keep: //p' "$FILE") $(for a in 11 12 13; do lab_ssh "198.51.100.$a" systemctl is-active etcdwiz-backup.timer; done | grep -c '^active$')"
ctl put /after-the-backup x >/dev/null 2>&1
keys Up Up Up Up Up Up
keys r
wait_screen 10 "Type the cluster's name" >/dev/null
screen >"$TAP_TMP/restore.confirm"
keys l a b Enter
# The cluster is healthy: restore refuses first, then a second, explicit yes.
wait_screen 120 "again to restore anyway (--force)" >/dev/null
screen >"$TAP_TMP/restore.force"
keys l a b Enter
wait_screen 600 "Cluster lab is restored: every member is healthy" >/dev/null
screen >"$TAP_TMP/restore.done"
tap_grep "r on a healthy cluster: refused first, the name asked again for --force" \
	'Members of cluster lab answer healthy: it still has quorum' <(dialog "$TAP_TMP/restore.force")
tap_grep "r, the cluster's name typed: the whole cluster is restored" 'Cluster lab is restored: every member is healthy \(from lab-' \
	<(joined "$TAP_TMP/restore.done")
tap_is "... three healthy members with the 100 keys, and not the write made after the snapshot" "3 100 0" \
	"$(ctl endpoint health 2>&1 | grep -c 'is healthy') $(ctl get /before/ --prefix --print-value-only 2>/dev/null | grep -c '^v[0-9]*$') $(ctl get /after-the-backup --print-value-only 2>/dev/null | grep -c x)"
keys F4
wait_screen 10 "Leave the wizard now?" >/dev/null && keys y
wait_screen 30 "WIZARD-EXIT=" >/dev/null
cat "$TAP_TMP"/asan.* "$TAP_TMP"/ubsan.* 2>/dev/null | head -40 | sed 's/^/# /'
tap_is "no sanitizer report from the wizard" 0 "$(cat "$TAP_TMP"/asan.* "$TAP_TMP"/ubsan.* 2>/dev/null | wc -l)"
