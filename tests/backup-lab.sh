#!/bin/bash
# Backups on the lab with real etcd (the kubelet stand-in is the only
# pretend part), checked with clients we did not write (Debian's etcdctl,
# etcdutl from the etcd release, sha256sum):
#   1000 keys written; `backup` streams a snapshot from a healthy voter
#   through the gateway: its SHA-256 matches the sidecar, etcdutl reads it
#   (revision and keys); --member of a stopped member is refused; a backup
#   killed half-way leaves no file; list and prune --keep 1;
#   backup.schedule with keep 1: the timer's service started by hand twice
#   leaves one snapshot per member; `status` shows it, and raises
#   BackupTooOld once the newest is older than twice the schedule;
#   restore: refused on a healthy cluster (nothing changed) and for a
#   snapshot with one byte flipped (before any host changes); two of three
#   members' data wiped and etcd stopped there (quorum lost), then restore:
#   three healthy members, a new cluster ID, the 1000 keys back and the
#   write made after the snapshot gone; a restore killed half-way goes on
#   when run again; and onto another host: etcd-3's host gone, the file
#   names etcd-4 on a new host instead, and restore installs it and brings
#   etcd-1, etcd-2 and etcd-4 up with the keys.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"
export XDG_DATA_HOME="$TAP_TMP/xdg"

tap_plan 40
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"

"$ETCDWIZ" lab up -n 5 -q >"$TAP_TMP/up" 2>&1
tap_is "lab up -n 5" 0 $?
FILE="$TAP_TMP/cluster.yaml"
# members_file NAME...: the lab's file with only these members (every host key stays pinned).
members_file() {
	awk -v keep=" $* " '/^members:/ { m = 1; print; next }
		m && /^- name:/ { on = index(keep, " " $3 " ") > 0 } m && !on { next } { print }' "$LAB/cluster.yaml"
}
members_file etcd-1 etcd-2 etcd-3 >"$FILE"
"$ETCDWIZ" apply --yes -f "$FILE" >"$TAP_TMP/apply" 2>&1
tap_is "apply makes the 3-member cluster" 0 $?
ETCDCTL=$(etcdctl35_path)
ETCDUTL=$(dirname "$ETCDCTL")/etcdutl
BACKUPS="$XDG_DATA_HOME/etcdwiz/lab/backups"
ctl() { lab_etcdctl "$ETCDCTL" "$@"; }

# 1000 keys, and a few large values so that a snapshot takes a while.
for i in $(seq 1000); do ctl put "/keys/$i" "v$i" >/dev/null 2>&1 || echo "# put /keys/$i failed"; done
tap_is "1000 keys written" 1000 "$(ctl get /keys/ --prefix --keys-only 2>/dev/null | grep -c '^/keys/')"
head -c 900000 /dev/urandom | base64 -w0 >"$TAP_TMP/big"
for i in $(seq 40); do ctl put "/big/$i" <"$TAP_TMP/big" >/dev/null 2>&1; done

"$ETCDWIZ" backup -f "$FILE" >"$TAP_TMP/backup" 2>&1
tap_is "backup exits 0" 0 $?
SNAP=$(ls "$BACKUPS"/*.db 2>/dev/null | head -n 1)
META="$SNAP.meta"
tap_is "... one snapshot and its sidecar, 0600 in a 0700 directory" "600 600 700" \
	"$(stat -c %a "$SNAP" "$META" "$BACKUPS" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
tap_is "... sha256sum of the file is the sidecar's" "$(sed -n 's/^sha256: "\{0,1\}\([0-9a-f]*\)"\{0,1\}$/\1/p' "$META")" \
	"$(sha256sum "$SNAP" | cut -d' ' -f1)"
"$ETCDUTL" snapshot status "$SNAP" -w json >"$TAP_TMP/status.json" 2>"$TAP_TMP/status.err"
tap_is "... etcdutl snapshot status reads it at the sidecar's revision" \
	"$(sed -n 's/^revision: "\(.*\)"$/\1/p' "$META")" \
	"$(sed -n 's/.*"revision":\([0-9]*\).*/\1/p' "$TAP_TMP/status.json")"
tap_check "... with more than the 1000 keys in it" \
	test "$(sed -n 's/.*"totalKey":\([0-9]*\).*/\1/p' "$TAP_TMP/status.json")" -gt 1000
"$ETCDWIZ" backup -q -f "$FILE" -o "$TAP_TMP/out/snap.db" >"$TAP_TMP/backup-o" 2>&1
tap_is "backup -o PATH into a missing directory: refused, nothing written" "1 0" "$? $(ls "$TAP_TMP/out" 2>/dev/null | wc -l)"
mkdir -p "$TAP_TMP/out"
"$ETCDWIZ" backup -q -f "$FILE" -o "$TAP_TMP/out/snap.db" >"$TAP_TMP/backup-o" 2>&1
tap_is "backup -o PATH: the file and PATH.meta, and etcdutl reads it" "0 snap.db snap.db.meta ok" \
	"$? $(ls "$TAP_TMP/out" | tr '\n' ' ')$("$ETCDUTL" snapshot status "$TAP_TMP/out/snap.db" >/dev/null 2>&1 && echo ok)"
tap_grep "... from a healthy voter, said by name" '^Taking a snapshot from etcd-[123] \(198\.51\.100\.1[123]\)' "$TAP_TMP/backup"

# --member of a member whose etcd is stopped: refused, nothing written.
break_etcd 198.51.100.13
"$ETCDWIZ" backup -f "$FILE" --member etcd-3 >"$TAP_TMP/member3" 2>&1
rc=$?
mend_etcd 198.51.100.13
tap_is "backup --member etcd-3 with its etcd stopped: exit 1" 1 $rc
tap_grep "... says why and what to do" 'etcd-3 cannot give the snapshot: .*; leave out --member' "$TAP_TMP/member3"
tap_is "... and wrote nothing" 1 "$(ls "$BACKUPS" | grep -c '\.db$')"

# Killed half-way (its snapshot file open in the backups directory): no file.
"$ETCDWIZ" backup -q -f "$FILE" >/dev/null 2>&1 &
pid=$!
for i in $(seq 200); do
	ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "$BACKUPS" && break
	sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
tap_is "a backup killed while it streams leaves no file in the store" "1 0" \
	"$(ls "$BACKUPS" | grep -c '\.db$') $(ls -a "$BACKUPS" | grep -c 'part\|#')"

sleep 1 # a new name (its time to the second)
"$ETCDWIZ" backup -q -f "$FILE" >/dev/null 2>&1
"$ETCDWIZ" backup list -f "$FILE" >"$TAP_TMP/list" 2>&1
tap_is "backup list: both snapshots, newest first, each with member, revision and version" 2 \
	"$(grep -cE '^[0-9-]+ [0-9:]+ +etcd-[123] +[0-9]+ +3\.5\.[0-9]+ ' "$TAP_TMP/list")"
newest=$(ls -t "$BACKUPS"/*.db | head -n 1)
"$ETCDWIZ" backup prune --keep 1 -f "$FILE" >"$TAP_TMP/prune" 2>&1
tap_is "backup prune --keep 1 keeps the newest (and its sidecar) only" "$newest $newest.meta" \
	"$(ls "$BACKUPS"/* | tr '\n' ' ' | sed 's/ $//')"

# Scheduled: keep 1, the service started by hand twice.
printf 'backup:\n  schedule: hourly\n  keep: 1\n' >>"$FILE"
"$ETCDWIZ" apply --yes -f "$FILE" >"$TAP_TMP/apply-backup" 2>&1
tap_is "apply with backup.schedule installs the timer on every member" 3 \
	"$(for a in 11 12 13; do lab_ssh "198.51.100.$a" systemctl is-active etcdwiz-backup.timer; done | grep -c '^active$')"
for a in 11 12 13; do
	lab_ssh "198.51.100.$a" 'systemctl start etcdwiz-backup.service; sleep 1; systemctl start etcdwiz-backup.service' \
		>/dev/null 2>&1
done
tap_is "... its service run twice with keep 1: one snapshot on each member" "1 1 1" \
	"$(for a in 11 12 13; do lab_ssh "198.51.100.$a" 'ls /var/lib/etcd-backups/*.db | wc -l'; done | tr '\n' ' ' | sed 's/ $//')"
lab_ssh 198.51.100.11 'touch -d "-3 hours" /var/lib/etcd-backups/*.db'
"$ETCDWIZ" status --once -f "$FILE" >"$TAP_TMP/status" 2>&1
tap_grep "status shows each member's newest snapshot" '^    newest snapshot [0-9]+m ago, 1 kept' "$TAP_TMP/status"
tap_grep "... and BackupTooOld for the one 3 h old on an hourly schedule" \
	'BackupTooOld: member etcd-1: its newest scheduled snapshot is 3\.0 h old, more than twice its schedule.s 60 min' \
	"$TAP_TMP/status"

# ---- restore ----
lab_ssh 198.51.100.11 'systemctl disable --now etcdwiz-backup.timer' >/dev/null 2>&1
SNAP=$(ls -t "$BACKUPS"/*.db | head -n 1)
ctl put /after-the-snapshot x >/dev/null 2>&1
cluster_id() { ctl endpoint status -w json 2>/dev/null | grep -o '"cluster_id":[0-9]*' | sort -u | tr '\n' ' '; }
before_id=$(cluster_id)
unchanged() { # etcd-1's manifest in place, nothing uploaded there
	lab_ssh 198.51.100.11 'test -f /etc/kubernetes/manifests/etcd.yaml && ! test -e /var/lib/etcdwiz-restore'
}
"$ETCDWIZ" restore "$SNAP" -f "$FILE" --yes >"$TAP_TMP/restore-healthy" 2>&1
tap_is "restore on a healthy cluster without --force: refused, exit 3" 3 $?
tap_grep "... says it still has quorum and what --force loses" 'still has quorum .*loses every write made since; nothing was changed \(give --force' \
	"$TAP_TMP/restore-healthy"
tap_check "... and nothing changed on the hosts" unchanged

cp "$SNAP" "$TAP_TMP/flipped.db"
printf '\377' | dd of="$TAP_TMP/flipped.db" bs=1 seek=5000 conv=notrunc status=none
for a in 12 13; do
	lab_ssh "198.51.100.$a" 'mv /etc/kubernetes/manifests/etcd.yaml /root/etcd.yaml.gone; i=0;
		while pgrep -x etcd >/dev/null && [ $i -lt 60 ]; do sleep 0.5; i=$((i+1)); done; rm -rf /var/lib/etcd/member' >/dev/null 2>&1
done
tap_check "two members' data wiped and etcd stopped there: quorum is lost" \
	sh -c "! ETCDCTL_API=3 timeout 20 '$ETCDCTL' --cacert '$XDG_DATA_HOME/etcdwiz/lab/pki/members/etcd-1/etcd/ca.crt' --cert '$XDG_DATA_HOME/etcdwiz/lab/pki/members/etcd-1/etcd/healthcheck-client.crt' --key '$XDG_DATA_HOME/etcdwiz/lab/pki/members/etcd-1/etcd/healthcheck-client.key' --endpoints https://198.51.100.11:2379 --command-timeout=5s put /x y >/dev/null 2>&1"
"$ETCDWIZ" restore "$TAP_TMP/flipped.db" -f "$FILE" --yes >"$TAP_TMP/restore-flipped" 2>&1
tap_is "restore of a snapshot with one byte flipped: exit 1" 1 $?
tap_grep "... it is damaged, said before anything changes" 'flipped\.db is damaged: its trailing SHA-256 does not match' "$TAP_TMP/restore-flipped"
tap_check "... and etcd-1 is untouched" unchanged

"$ETCDWIZ" restore "$SNAP" -f "$FILE" --yes >"$TAP_TMP/restore" 2>&1
rc=$?
tap_is "restore from the backup: exit 0" 0 $rc
[ $rc -eq 0 ] || tail -15 "$TAP_TMP/restore" | sed 's/^/# /'
tap_is "... three healthy members (Debian's etcdctl)" 3 "$(ctl endpoint health 2>&1 | grep -c 'is healthy')"
after_id=$(cluster_id)
tap_check "... a new cluster ID ($before_id -> $after_id)" test -n "$after_id" -a "$after_id" != "$before_id"
tap_is "... the 1000 keys are back" 1000 "$(ctl get /keys/ --prefix --keys-only 2>/dev/null | grep -c '^/keys/')"
tap_is "... the write made after the snapshot is not" 0 "$(ctl get /after-the-snapshot --print-value-only 2>/dev/null | grep -c x)"
tap_check "... the old data directory is kept, moved aside with a date" \
	lab_ssh 198.51.100.11 'ls -d /var/lib/etcd.restore-2* && ! test -e /var/lib/etcdwiz-restore'

# Killed half-way: run again, it goes on.
"$ETCDWIZ" restore "$SNAP" -f "$FILE" --yes --force >"$TAP_TMP/restore-killed" 2>&1 &
pid=$!
for i in $(seq 600); do
	grep -q 'Restoring every member' "$TAP_TMP/restore-killed" && break
	sleep 0.1
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
"$ETCDWIZ" restore "$SNAP" -f "$FILE" --yes >"$TAP_TMP/restore-again" 2>&1
rc=$?
tap_is "a restore killed half-way, run again (no --force needed): exit 0" 0 $rc
[ $rc -eq 0 ] || tail -15 "$TAP_TMP/restore-again" | sed 's/^/# /'
tap_grep "... it said it goes on where each host stopped" 'was begun already: it goes on where each host stopped' "$TAP_TMP/restore-again"
tap_is "... three healthy members with the 1000 keys" "3 1000" \
	"$(ctl endpoint health 2>&1 | grep -c 'is healthy') $(ctl get /keys/ --prefix --keys-only 2>/dev/null | grep -c '^/keys/')"

# Onto another host: etcd-3's host is gone; the file names etcd-4 (a new,
# bare host) instead.
lab_ssh 198.51.100.13 'mv /etc/kubernetes/manifests/etcd.yaml /root/etcd.yaml.gone' >/dev/null 2>&1
FILE2="$TAP_TMP/cluster-other.yaml"
members_file etcd-1 etcd-2 etcd-4 >"$FILE2"
"$ETCDWIZ" restore "$SNAP" -f "$FILE2" --yes --force >"$TAP_TMP/restore-other" 2>&1
rc=$?
tap_is "restore onto another host (etcd-4 on a bare host instead of etcd-3): exit 0" 0 $rc
[ $rc -eq 0 ] || tail -15 "$TAP_TMP/restore-other" | sed 's/^/# /'
ctl4() {
	ETCDCTL_API=3 timeout 30 "$ETCDCTL" --cacert "$XDG_DATA_HOME/etcdwiz/lab/pki/members/etcd-1/etcd/ca.crt" \
		--cert "$XDG_DATA_HOME/etcdwiz/lab/pki/members/etcd-1/etcd/healthcheck-client.crt" \
		--key "$XDG_DATA_HOME/etcdwiz/lab/pki/members/etcd-1/etcd/healthcheck-client.key" \
		--endpoints https://198.51.100.11:2379,https://198.51.100.12:2379,https://198.51.100.14:2379 "$@"
}
tap_is "... etcd lists etcd-1, etcd-2 and etcd-4, all started" "etcd-1 etcd-2 etcd-4" \
	"$(ctl4 member list 2>/dev/null | awk -F', ' '$2 == "started" {print $3}' | sort | tr '\n' ' ' | sed 's/ $//')"
tap_is "... healthy, with the 1000 keys" "3 1000" \
	"$(ctl4 endpoint health 2>&1 | grep -c 'is healthy') $(ctl4 get /keys/ --prefix --keys-only 2>/dev/null | grep -c '^/keys/')"
