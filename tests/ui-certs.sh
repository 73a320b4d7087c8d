#!/bin/bash
# The wizard's Certificates screen on a running lab cluster (3 members and
# cp-1), driven in tmux while a client writes a key every 100 ms (every
# write counted): h reads the certificates on the hosts and the ones each
# member serves, all matching the store; n renews every certificate and,
# after its plan and the confirmation, installs them one member at a time;
# then openssl sees a new serial on every member's 2379 and h shows the
# hosts matching the store again; c runs phase 1 of a new CA the same way
# and records it once every member lists every other as started.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v tmux >/dev/null || tap_skip_all "tmux missing: apt-get install tmux"
command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
command -v openssl >/dev/null || tap_skip_all "openssl missing: apt-get install openssl"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"

tap_plan 12
export XDG_DATA_HOME="$TAP_TMP/xdg" XDG_STATE_HOME="$TAP_TMP/state"
SOCK="etcdwiz-certs-$$"
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"
tap_on_exit "tmux -L '$SOCK' kill-server >/dev/null 2>&1"
tap_on_exit "touch '$TAP_TMP/stop-writer'"

"$ETCDWIZ" lab up -n 3 --control-plane -q >"$TAP_TMP/up" 2>&1
tap_is "lab up -n 3 --control-plane" 0 $?
FILE="$TAP_TMP/cluster.yaml"
cp "$LAB/cluster.yaml" "$FILE"
"$ETCDWIZ" apply --yes -f "$FILE" >"$TAP_TMP/apply" 2>&1
tap_is "apply makes the cluster" 0 $?
PKI="$XDG_DATA_HOME/etcdwiz/lab/pki"
serials() {
	local a
	for a in 11 12 13; do
		timeout 10 openssl s_client -connect "198.51.100.$a:2379" -CAfile "$PKI/members/etcd-1/etcd/ca.crt" \
			-cert "$PKI/members/etcd-1/etcd/healthcheck-client.crt" \
			-key "$PKI/members/etcd-1/etcd/healthcheck-client.key" </dev/null 2>/dev/null |
			openssl x509 -noout -serial 2>/dev/null
	done | tr '\n' ' '
}
BEFORE=$(serials)
ETCDCTL=$(etcdctl35_path)
lab_writer 6000 lab_etcdctl "$ETCDCTL" &
WRITER=$!

. "${TOP_SRCDIR:-.}/tests/tmux-lib.sh"
title() { echo "etcdwiz $1/13"; }
tmux -L "$SOCK" -f /dev/null new-session -d -s wiz -x 120 -y 48 \
	"env TERM=xterm-256color LC_ALL=C.UTF-8 ASAN_OPTIONS=log_path=$TAP_TMP/asan UBSAN_OPTIONS=log_path=$TAP_TMP/ubsan XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' ETCDWIZ_LAB_PATH='$ETCDWIZ_LAB_PATH' '$ETCDWIZ' wizard -f '$FILE'; echo WIZARD-EXIT=\$?; sleep 600"
# through_checked N: screen N's check says nothing changes; F3 goes on.
through_checked() {
	wait_screen 60 "$(title "$1")" || return 1
	wait_screen 120 "Checked: every host is as it should be, nothing to change. F3 goes on." || return 1
	keys F3
}
to_certs() {
	wait_screen 20 "$(title 1)" || return 1
	keys F3
	wait_screen 30 "$(title 2)" || return 1
	keys F3
	wait_screen 60 "$(title 3)" || return 1
	wait_screen 120 "4 of 4 hosts connected." || return 1
	keys F3
	wait_screen 60 "As etcd lists them" || return 1
	keys F3
	wait_screen 30 "$(title 5)" || return 1
	sleep 2
	keys F3
	wait_screen 60 "As the members report it" || return 1
	keys F3
	through_checked 7 && through_checked 8 || return 1
	wait_screen 30 "$(title 9)" || return 1
	wait_screen 120 "Checked: every host is as it should be, nothing to change. F3 goes on."
}
to_certs
tap_is "the wizard reaches the Certificates screen of the installed cluster" 0 $?
[ $? -eq 0 ] || screen | sed 's/^/# /'
keys h
wait_screen 60 "On the hosts: every certificate matches the local store and none expires within 30 days."
tap_is "h reads the hosts: every certificate matches the store" 0 $?
screen >"$TAP_TMP/hosts"
tap_is "... in a table of each host's files and each member's served ports" 9 \
	"$(grep -cE '^ (etcd-[123] +(etcd-server|served :2379|served :2380)) .* yes' "$TAP_TMP/hosts")"
keys n
wait_screen 120 "host steps would change. Review, then F3 to apply."
tap_is "n renews and shows the plan first" 0 $?
keys F3
wait_screen 20 "Apply these changes?"
screen >"$TAP_TMP/confirm"
keys y
wait_screen 180 "Rotated: every host has the new certificates, and each member serves them (checked from here)."
tap_is "after the confirmation, the rotation ends with every member serving the new certificates" 0 $?
screen >"$TAP_TMP/done"
AFTER=$(serials)
changed=0
for i in 1 2 3; do
	[ "$(echo "$BEFORE" | cut -d' ' -f$i)" != "$(echo "$AFTER" | cut -d' ' -f$i)" ] && changed=$((changed + 1))
done
tap_is "openssl sees a new certificate on every member's 2379" 3 $changed
keys h
sleep 1
wait_screen 60 "On the hosts: every certificate matches the local store"
tap_is "h again: the hosts match the store" 0 $?
# c: phase 1 of a new CA, through the same plan and confirmation.
keys c
wait_screen 120 "host steps would change. Review, then F3 to apply."
tap_is "c begins a new CA and shows the plan of phase 1 first" 0 $?
keys F3
wait_screen 20 "Apply these changes?"
keys y
wait_screen 300 "Phase 1 of 3 is done: every member lists every other as started. c goes on with phase 2."
tap_is "phase 1 is applied (members restarted one at a time) and recorded once every member sees every other" 0 $?
[ $? -eq 0 ] || screen | sed 's/^/# /'
touch "$TAP_TMP/stop-writer"
wait "$WRITER"
rm -f "$TAP_TMP/stop-writer"
tap_is "the writer's puts all succeeded ($(wc -l <"$TAP_TMP/w-ok") ok)" 0 "$(wc -l <"$TAP_TMP/w-fail")"
cat "$TAP_TMP"/asan.* "$TAP_TMP"/ubsan.* 2>/dev/null | head -40 | sed 's/^/# /'
