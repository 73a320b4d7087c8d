#!/bin/bash
# The real binary in a real terminal (a detached tmux, as tmux's own
# regress tests do) through the whole wizard on the wizard's default lab (3
# members and a control-plane host): Welcome (the lab brought up from the
# wizard), Hosts, Connect, Prerequisites, Runtime, Certificates, Deploy,
# Health, Kubernetes (the control plane's files and the /version proof),
# Summary with every host at failed=0; then Debian's etcdctl finds the
# cluster healthy and Debian's curl reads /version from the control plane. The same flow
# again at 80x24 with NO_COLOR and TERM=vt100, and once with LANGUAGE=zh_TW.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v tmux >/dev/null || tap_skip_all "tmux missing: apt-get install tmux"
command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"

tap_plan 29
export XDG_DATA_HOME="$TAP_TMP/xdg" XDG_STATE_HOME="$TAP_TMP/state"
SOCK="etcdwiz-ui-$$"
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"
tap_on_exit "tmux -L '$SOCK' kill-server >/dev/null 2>&1"

# The zh_TW catalogue, built from this tree's po/ (nothing installed).
LOCALEDIR="$TAP_TMP/locale"
mkdir -p "$LOCALEDIR/zh_TW/LC_MESSAGES"
msgfmt -o "$LOCALEDIR/zh_TW/LC_MESSAGES/etcdwiz.mo" "$TOP_SRCDIR/po/zh_TW.po" || echo "# msgfmt failed"
# T MSGID: the text the wizard shows for MSGID in the language under test.
T() { LANGUAGE=${WIZ_LANG:-} TEXTDOMAINDIR=${LOCALEDIR:-/usr/local/share/locale} gettext -d etcdwiz "$1"; }
# N MSGID PLURAL [COUNT]: the plural message's text after its number (n = 2, or COUNT).
N() { LANGUAGE=${WIZ_LANG:-} TEXTDOMAINDIR=${LOCALEDIR:-/usr/local/share/locale} ngettext -d etcdwiz "$1" "$2" "${3:-2}" | sed 's/^.*%zu//'; }
# F4 MSGID: a "%zu of %zu ..." message with both numbers 4 (hosts).
F4() { T "$1" | sed 's/%zu/4/g'; }
title() { T 'etcdwiz %zu/%zu: %s' | sed "s|%zu/%zu.*|$1/13|"; }
. "${TOP_SRCDIR:-.}/tests/tmux-lib.sh"
# step_screen N: on screen N/13, wait for the check, confirm and apply what
# it lists, and go on. Fails when a check or an apply fails.
step_screen() {
	local n=$1 i
	local t review review1 errs applied nothing confirm bad1 bad2
	t=$(title "$n")
	review=$(N 'Checked: %zu step would change a host. Review, then F3 to apply.' \
		'Checked: %zu host steps would change. Review, then F3 to apply.')
	review1=$(N 'Checked: %zu step would change a host. Review, then F3 to apply.' \
		'Checked: %zu host steps would change. Review, then F3 to apply.' 1)
	errs=$(N '%zu error found; see [ERROR ...] in the plans.' '%zu errors found; see [ERROR ...] in the plans.')
	applied=$(T 'Applied on every host.')
	nothing=$(T 'Checked: every host is as it should be, nothing to change. F3 goes on.')
	confirm=$(T 'Apply these changes?')
	bad1=$(T 'Some hosts could not be checked; see their state and the log.')
	bad2=$(T 'Some hosts failed; see their state and the log. r checks again.')
	wait_screen 60 "$t" || return 1
	for i in $(seq 900); do
		s=$(screen)
		case $s in
		*"$t"*) ;;
		*) return 0 ;;
		esac
		case $s in
		*"$applied"*) echo "$s" >"$TAP_TMP/applied.$n"; keys F3 ;;
		*"$confirm"*) echo "$s" >"$TAP_TMP/confirm.$n"; keys y ;;
		*"$review"* | *"$review1"*) echo "$s" >"$TAP_TMP/review.$n"; keys F3 ;;
		*"$nothing"*) keys F3 ;;
		*"$errs"* | *"$bad1"* | *"$bad2"*) echo "# screen $n failed:"; echo "$s" | sed 's/^/# /'; return 1 ;;
		esac
		sleep 1
	done
	return 1
}

# read_done N WHAT NOT_RUNNING RUNNING: on screen N, until the cluster was
# read (it says NOT_RUNNING or RUNNING, each cut at its first %s).
read_done() {
	local i s new running
	new=$(T "$3" | sed 's/%s.*//')
	running=$(T "$4" | sed 's/%s.*//')
	wait_screen 30 "$(title "$1")" || return 1
	for i in $(seq 120); do
		s=$(screen)
		case $s in *"$new"* | *"$running"*) return 0 ;; esac
		sleep 1
	done
	echo "# $2 never showed the cluster:"
	screen | sed 's/^/# /'
	return 1
}
members_read() {
	read_done 4 Members 'Its members are set on the Hosts screen; the next screens install it.' \
		'As etcd lists them (asked %s). a adds a member, d removes the selected one, r moves it to a new host.'
}
upgrade_read() {
	read_done 6 Upgrade "Nothing to upgrade: the next screens install etcd at the file's version." \
		'As the members report it (asked from %s). u upgrades etcd, one member at a time, the leader last.'
}
# to_prerequisites: from Welcome (the cluster loaded) through Hosts,
# Connect (every host connected), Members and Backups to Prerequisites.
to_prerequisites() {
	keys F3
	wait_screen 30 "$(title 2)" || return 1
	keys F3
	wait_screen 60 "$(title 3)" || return 1
	wait_screen 120 "$(F4 '%zu of %zu hosts connected.')" || return 1
	keys F3
	members_read || return 1
	screen >"$TAP_TMP/members.$((++MEMBERS_SEEN))"
	keys F3
	# Backups: what there is, here and on the members; nothing to do.
	wait_screen 30 "$(title 5)" || return 1
	screen >"$TAP_TMP/backups.$MEMBERS_SEEN"
	keys F3
	# Upgrade: the members' versions (running) or nothing to upgrade.
	upgrade_read || return 1
	screen >"$TAP_TMP/upgrade.$MEMBERS_SEEN"
	keys F3
}

# flow NAME COLSxROWS ENV...: the whole wizard; the last screen in $TAP_TMP/NAME.summary.
flow() {
	local name=$1 size=$2
	shift 2
	tmux -L "$SOCK" kill-server >/dev/null 2>&1
	rm -rf "$XDG_STATE_HOME" # a fresh session: start at Welcome
	tmux -L "$SOCK" -f /dev/null new-session -d -s wiz -x "${size%x*}" -y "${size#*x}" \
		"env $* ASAN_OPTIONS=log_path=$TAP_TMP/asan UBSAN_OPTIONS=log_path=$TAP_TMP/ubsan XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' ETCDWIZ_LAB_PATH='$ETCDWIZ_LAB_PATH' ETCDWIZ_LOCALEDIR='$LOCALEDIR' '$ETCDWIZ' wizard ${WIZ_ARGS:-}; echo WIZARD-EXIT=\$?; sleep 600" || return 1
	wait_screen 20 "$(title 1)" || return 1
	# Welcome: choose the lab (4), unless --lab did (the README's first command).
	[ -n "${WIZ_ARGS:-}" ] || keys 4 Enter
	for i in $(seq 900); do
		screen | grep -qF "$(T 'cluster %s%s' | sed 's/%s%s.*/lab/')" && break
		screen | grep -qF "$(T 'The lab could not be brought up; see the log above.')" && { screen | sed 's/^/# /'; return 1; }
		sleep 1
	done
	to_prerequisites || return 1
	step_screen 7 && step_screen 8 || return 1
	wait_screen 30 "$(title 9)" || return 1
	keys g
	step_screen 9 && step_screen 10 || return 1
	wait_screen 30 "$(title 11)" || return 1
	# The live dashboard: the badge, and every member up.
	wait_screen 120 "$(T '%zu of %zu members up, leader %s' | sed 's/%zu/3/g; s/%s.*//')" || return 1
	wait_screen 10 "$(T 'HEALTHY')" || return 1
	screen >"$TAP_TMP/$name.health"
	keys F3
	# Kubernetes: cp-1's files and the /version proof, applied as any screen.
	step_screen 12 || return 1
	cp "$TAP_TMP/applied.12" "$TAP_TMP/$name.kubernetes" 2>/dev/null
	wait_screen 30 "$(title 13)" || return 1
	sleep 1
	screen >"$TAP_TMP/$name.summary"
	keys F3
	wait_screen 30 "WIZARD-EXIT=0"
}
# A sanitizer report of the wizard, if any, goes to the log.
show_reports() { cat "$TAP_TMP"/asan.* "$TAP_TMP"/ubsan.* 2>/dev/null | head -60 | sed 's/^/# /'; rm -f "$TAP_TMP"/asan.* "$TAP_TMP"/ubsan.*; }

flow utf8 100x30 TERM=xterm-256color LC_ALL=C.UTF-8
tap_is "the whole flow reaches the Summary and exits 0 (100x30, colour, UTF-8)" 0 $?
show_reports
tap_is "Summary: four hosts (3 members, cp-1), every one failed=0 unreachable=0" 4 \
	"$(grep -cE '^ (etcd-[123]|cp-1) +: ok=[0-9]+ changed=[0-9]+ unreachable=0 failed=0' "$TAP_TMP/utf8.summary")"
tap_grep "Health: the live dashboard shows HEALTHY with 3 of 3 members up" \
	'HEALTHY +3 of 3 members up, leader etcd-[123]' "$TAP_TMP/utf8.health"
tap_grep "Prerequisites checked: a row says how many steps will change, that nothing ran yet" \
	'^ etcd-1 .* [0-9]+ steps? to change, nothing ran yet' "$TAP_TMP/review.7"
tap_is "... and shows no progress bar before anything ran" 0 "$(grep -c '%$' "$TAP_TMP/review.7")"
tap_grep "Prerequisites applied: each host's bar is full" '^ etcd-1 .*\] 100%$' "$TAP_TMP/applied.7"
tap_grep "... and the pane shows the selected host's log, saying so" '^ Log of etcd-1 \(newest last\):' "$TAP_TMP/applied.7"
tap_is "... with no other host's line in it" 0 \
	"$(sed -n '/Log of etcd-1/,$p' "$TAP_TMP/applied.7" | grep -cE '^ (etcd-[23]|cp-1) [a-z]+:')"
tap_grep "Prerequisites' confirmation lists the hosts with the same changes once" \
	'etcd-1, etcd-2, etcd-3(, cp-1)?: [0-9]+ changes each' "$TAP_TMP/confirm.7"
tap_grep "Members on the new lab: the cluster is not running yet, and F3 went on" \
	"$(T 'Its members are set on the Hosts screen; the next screens install it.')" "$TAP_TMP/members.1"
tap_grep "Summary names the saved cluster file" 'Cluster file saved: /var/lib/etcdwiz-lab/cluster.yaml' "$TAP_TMP/utf8.summary"

# One SSH login per host for the whole wizard: Connect's sessions are the
# ones every screen's plan and apply and the Health dashboard use (the lab
# is new, so its sshd's journal holds only the wizard's logins; the second
# login counted is this query's own).
logins() {
	local a
	for a in 11 12 13 14; do
		lab_ssh "198.51.100.$a" 'journalctl -u ssh --no-pager | grep -c "Accepted publickey"'
	done | tr '\n' ' '
}
tap_is "one SSH login per host for the whole flow (Connect, the plans and applies, the Health dashboard)" \
	"2 2 2 2 " "$(logins)"

# The seed's last part from the first command: cp-1 holds kubeadm's
# etcd.external files, and Debian's curl there reads every member's
# /version with them (what kube-apiserver and kubeadm's preflight do).
CP=198.51.100.14
tap_check "cp-1 has etcd/ca.crt, apiserver-etcd-client.crt/.key and kubeadm-config.yaml" \
	lab_ssh "$CP" 'test -s /etc/kubernetes/pki/etcd/ca.crt && test -s /etc/kubernetes/pki/apiserver-etcd-client.crt && test -s /etc/kubernetes/pki/apiserver-etcd-client.key && grep -q "external:" /etc/kubernetes/kubeadm-config.yaml'
lab_ssh "$CP" 'for a in 11 12 13; do curl -sS --max-time 5 --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/apiserver-etcd-client.crt --key /etc/kubernetes/pki/apiserver-etcd-client.key https://198.51.100.$a:2379/version; echo; done' >"$TAP_TMP/cp-version" 2>&1
tap_is "Debian's curl on cp-1 reads /version of all 3 members with the client files" 3 \
	"$(grep -c '"etcdcluster":"3\.5\.0"' "$TAP_TMP/cp-version")"
tap_grep "the wizard's Kubernetes screen applied on cp-1 (files and the /version proof): its line says done" \
	"^ cp-1 +$(T 'done')" "$TAP_TMP/utf8.kubernetes"

lab_etcdctl "$(etcdctl35_path)" endpoint health >"$TAP_TMP/etcdctl" 2>&1
tap_is "Debian's etcdctl 3.5 with the wizard's certificates: 3 healthy endpoints" 3 "$(grep -c 'is healthy' "$TAP_TMP/etcdctl")"
"$ETCDWIZ" apply --yes -f /var/lib/etcdwiz-lab/cluster.yaml >"$TAP_TMP/replay" 2>&1
tap_is "etcdwiz apply replays the saved cluster file and changes nothing (4 hosts)" 4 \
	"$(grep -cE ' : ok=[0-9]+ changed=0 unreachable=0 failed=0' "$TAP_TMP/replay")"

# Deploy with nothing to change but a member not healthy waits for it (as
# apply does) instead of going on: etcd-3's etcd is broken, Deploy's check
# warns, F3 waits, and once etcd-3 is mended the apply ends healthy.
deploy_waits() {
	local t7 nothing applied i s
	tmux -L "$SOCK" kill-server >/dev/null 2>&1
	rm -rf "$XDG_STATE_HOME"
	break_etcd 198.51.100.13
	tmux -L "$SOCK" -f /dev/null new-session -d -s wiz -x 100 -y 30 \
		"env TERM=xterm-256color LC_ALL=C.UTF-8 ASAN_OPTIONS=log_path=$TAP_TMP/asan UBSAN_OPTIONS=log_path=$TAP_TMP/ubsan XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' ETCDWIZ_LAB_PATH='$ETCDWIZ_LAB_PATH' '$ETCDWIZ' wizard --lab; echo WIZARD-EXIT=\$?; sleep 600" || return 1
	wait_screen 60 "$(T 'cluster %s%s' | sed 's/%s%s.*/lab/')" || return 1
	to_prerequisites || return 1
	step_screen 7 && step_screen 8 && step_screen 9 || return 1
	t7=$(title 10)
	wait_screen 30 "$t7" || return 1
	wait_screen 120 "$(N 'Checked: %zu step would change a host. Review, then F3 to apply.' \
		'Checked: %zu host steps would change. Review, then F3 to apply.')" || return 1
	keys F3
	nothing=$(T 'Nothing to change, but %zu member is not healthy: waiting up to %s for it.' | sed 's/%zu.*//')
	wait_screen 30 "$nothing" || return 1
	screen >"$TAP_TMP/deploy.waiting"
	sleep 2
	# Still on Deploy, still waiting: then etcd-3 is mended.
	screen | grep -qF "$t7" || { echo "# left Deploy while a member was not healthy"; return 1; }
	mend_etcd 198.51.100.13
	applied=$(T 'Applied on every host.')
	wait_screen 120 "$applied" || return 1
	keys F3
	wait_screen 30 "$(title 11)" || return 1
	keys F4
	sleep 1
	keys y
	wait_screen 30 "WIZARD-EXIT=" >/dev/null
}
deploy_waits
rc=$?
mend_etcd 198.51.100.13
tap_is "Deploy with a member not healthy waits for it, and goes on once it is mended" 0 $rc
show_reports
tap_is "Members on the running cluster: the 3 members etcd lists, each with its id" 3 \
	"$(grep -cE '^ etcd-[123] +[0-9a-f]{16} +(leader|voter) ' "$TAP_TMP/members.2")"
# (etcd-3 is broken for deploy_waits: it has no version to show.)
tap_is "Upgrade on the running cluster: etcd-1 and etcd-2 on etcd 3.5.30, cluster version 3.5.0; etcd-3 (broken) none" "2 1" \
	"$(grep -cE '^ etcd-[12] +(leader|follower) +3\.5\.30 +3\.5\.0' "$TAP_TMP/upgrade.2") $(grep -cE '^ etcd-3 +no answer +- +-( |$)' "$TAP_TMP/upgrade.2")"
tap_grep "Deploy said which wait it is: 1 member, the 3m bound" \
	"$(T 'Nothing to change, but %zu member is not healthy: waiting up to %s for it.' | sed 's/%zu/1/; s/%s/3m/')" \
	"$TAP_TMP/deploy.waiting"

WIZ_ARGS=--lab flow vt100 80x24 TERM=vt100 NO_COLOR=1 LC_ALL=C.UTF-8
tap_is "the flow again from 'etcdwiz wizard --lab' at 80x24 with NO_COLOR and TERM=vt100" 0 $?
show_reports
tap_is "vt100 Summary: every host failed=0" 4 \
	"$(grep -cE '^ (etcd-[123]|cp-1) +: ok=[0-9]+ changed=[0-9]+ unreachable=0 failed=0' "$TAP_TMP/vt100.summary")"
tap_is "vt100: nothing outside ASCII on the screen" 0 "$(LC_ALL=C grep -c $'[\x80-\xff]' "$TAP_TMP/vt100.summary")"

WIZ_LANG=zh_TW flow zh 80x24 TERM=xterm LC_ALL=C.UTF-8 LANGUAGE=zh_TW
tap_is "the flow once in zh_TW" 0 $?
show_reports
tap_is "zh_TW Summary: every host failed=0" 4 \
	"$(grep -cE '^ (etcd-[123]|cp-1) +: ok=[0-9]+ changed=[0-9]+ unreachable=0 failed=0' "$TAP_TMP/zh.summary")"
# T in zh_TW (WIZ_LANG was set for the flow only).
zhT() { WIZ_LANG=zh_TW T "$1"; }
tap_check "zh_TW: the catalogue is used (Summary is not English)" test "$(zhT 'Summary')" != "Summary"
tap_grep "zh_TW: the Summary screen shows its translated title" "$(zhT 'Summary')" "$TAP_TMP/zh.summary"
tap_grep "zh_TW: the Health screen's dashboard showed the translated badge" "$(zhT 'HEALTHY')" "$TAP_TMP/zh.health"
