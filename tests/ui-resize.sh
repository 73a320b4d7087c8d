#!/bin/bash
# Resizing a real terminal and then pressing a key (issue 11 item 8: the
# wizard and the dashboard froze at 100% CPU, resizing curses over and over).
# The real binary in a detached tmux with its own socket, at the wizard's
# Welcome, Hosts and Connect screens (`wizard -f FILE`, no lab) and in
# `etcdwiz status` on a real etcd on 127.0.0.1: 120x40 -> 80x24 -> 120x40,
# a key after each resize. Checked every time: the screen is laid out again
# for the new size (title on the first row, the key footer on the last, a
# dialog centred in the new width), the key still acts, and the process is
# idle afterwards (its CPU time in /proc/PID/stat grows by less than half a
# second in 2 s).
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v tmux >/dev/null || tap_skip_all "tmux missing: apt-get install tmux"
tap_plan 31
T=$TAP_TMP
KEEP=${KEEP_DIR:-}
export XDG_DATA_HOME="$T/data" XDG_STATE_HOME="$T/state"
# tmux's -L sockets go under $T, removed with it (kill-server leaves them).
export TMUX_TMPDIR="$T"
unset TMUX
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
WTERM=tmux-256color
infocmp "$WTERM" >/dev/null 2>&1 || WTERM=screen-256color

screen() { tmux -L "$SOCK" capture-pane -p -t rz 2>/dev/null; }
keys() { tmux -L "$SOCK" send-keys -t rz "$@"; }
resize() { tmux -L "$SOCK" resize-window -t rz -x "$1" -y "$2"; }

# stop_prog: ends the etcdwiz process of the pane, if it still runs. A
# frozen one does not read its self-pipe, so the hangup of kill-server
# alone would leave it spinning: TERM twice (the second one restores and
# exits), then KILL, each after a bounded wait.
PID=""
stop_prog() {
	local sig
	[ -n "$PID" ] || return 0
	for sig in TERM TERM KILL; do
		[ "$(readlink "/proc/$PID/exe" 2>/dev/null)" = "$(readlink -f "$ETCDWIZ")" ] || break
		kill -"$sig" "$PID" 2>/dev/null
		for _ in $(seq 20); do [ -e "/proc/$PID" ] || break; sleep 0.1; done
	done
	PID=""
}
tap_on_exit stop_prog

# start NAME CMD: a tmux server of its own (socket etcdwiz-resize-PID-NAME)
# whose one pane runs CMD at 120x40; sets PID to the etcdwiz process (the
# pane's shell runs it as a child).
SOCK=""
STUCK=""
start() {
	local pane="" i p
	stop_prog
	[ -z "$SOCK" ] || tmux -L "$SOCK" kill-server >/dev/null 2>&1
	SOCK="etcdwiz-resize-$$-$1"
	STUCK=""
	shift
	tap_on_exit "tmux -L '$SOCK' kill-server >/dev/null 2>&1"
	tmux -L "$SOCK" -f /dev/null new-session -d -s rz -x 120 -y 40 \
		"$*; echo ETCDWIZ-EXIT=\$?; sleep 600" || return 1
	for i in $(seq 50); do
		pane=$(tmux -L "$SOCK" list-panes -t rz -F '#{pane_pid}' 2>/dev/null)
		for p in $(pgrep -P "${pane:-0}" 2>/dev/null); do
			[ "$(readlink "/proc/$p/exe")" = "$(readlink -f "$ETCDWIZ")" ] && PID=$p
		done
		[ -n "$PID" ] && return 0
		sleep 0.1
	done
	echo "# no etcdwiz process in the pane"
	STUCK="not started"
	return 1
}

# laid_out COLS ROWS TITLE [RIGHT]: the screen (capture in $S) is drawn for
# COLSxROWS: TITLE on the first row (and RIGHT ending it one column before
# the right edge), the footer on the last.
laid_out() {
	local first
	first=$(printf '%s\n' "$S" | head -n 1)
	[ "$(tmux -L "$SOCK" display-message -p -t rz '#{pane_width}x#{pane_height}')" = "$1x$2" ] &&
		[ "$(printf '%s\n' "$S" | wc -l)" -eq "$2" ] &&
		[[ $first == *"$3"* ]] &&
		{ [ -z "${4:-}" ] || { [[ $first == *"$4" ]] && [ "${#first}" -eq $(($1 - 1)) ]; }; } &&
		printf '%s\n' "$S" | tail -n 1 | grep -qF -- "F1 Help"
}
# box_centred COLS TITLE: a box titled TITLE, centred in COLS columns.
box_centred() {
	local line left width rest
	line=$(printf '%s\n' "$S" | grep -m1 -F -- "┌─ $2 ") || return 1
	left=${line%%┌*}
	left=${#left}
	# From its corner to its corner: the screen's text may go on beside it.
	rest=${line#*┌}
	rest=${rest%%┐*}
	width=$((${#rest} + 2))
	[ "$left" -eq $((($1 - width) / 2)) ]
}
# history_fits COLS: the dashboard's "DB size" history row, in its framed
# panel, ends with its value (a size in B, KiB, ...) then the panel's right
# border in the last column of COLS.
history_fits() {
	local line
	line=$(printf '%s\n' "$S" | grep -m1 -E '^[│|] DB size ') || return 1
	line=${line%[│|]}
	line=${line%"${line##*[! ]}"}
	[[ $line == *B ]] && [ "${#line}" -gt $(($1 - 12)) ] && [ "${#line}" -lt "$1" ] &&
		printf '%s\n' "$S" | grep -m1 -E '^[│|] DB size ' | grep -qE "^.{$(($1 - 1))}[│|]\$"
}
no_box() { ! printf '%s\n' "$S" | grep -qF -- "┌─ $1 "; }
has() { printf '%s\n' "$S" | grep -qF -- "$1"; }

# wait_until SECONDS CHECK ARGS...: polls the screen until CHECK holds (5
# times a second, at most SECONDS); on a timeout shows the screen. After one
# timeout the program is taken as stuck: later waits on it fail at once.
wait_until() {
	local limit=$(($1 * 5)) i
	shift
	if [ -n "$STUCK" ]; then
		echo "# not waiting for: $* (the program is stuck: $STUCK)"
		return 1
	fi
	for i in $(seq "$limit"); do
		S=$(screen)
		"$@" && return 0
		sleep 0.2
	done
	echo "# timed out ($((limit / 5)) s) waiting for: $*"
	printf '%s\n' "$S" | sed 's/^/# |/'
	STUCK="no $*"
	return 1
}
# all CHECK; CHECK; ...: every check (for wait_until).
all() { eval "$*"; }

# idle WHAT: the process is alive and used less than HZ/2 ticks of CPU in 2 s.
idle() {
	local t0="" t1=""
	[ -n "$PID" ] && t0=$(sed 's/^.*) //' "/proc/$PID/stat" 2>/dev/null | awk '{ print $12 + $13 }')
	sleep 2
	[ -n "$PID" ] && t1=$(sed 's/^.*) //' "/proc/$PID/stat" 2>/dev/null | awk '{ print $12 + $13 }')
	if [ -z "$t0" ] || [ -z "$t1" ]; then
		tap_not_ok "$1: not spinning (the process is gone)"
	elif [ $((t1 - t0)) -lt $((HZ / 2)) ]; then
		tap_ok "$1: not spinning ($((t1 - t0)) of $((HZ * 2)) ticks in 2 s)"
	else
		tap_not_ok "$1: not spinning"
		echo "# CPU: $((t1 - t0)) ticks in 2 s (limit $((HZ / 2)), $HZ a second)"
	fi
}

# round NAME TITLE: a wizard screen titled TITLE (and "cluster resize" at
# the right of the title bar) at 120x40, where F1 opens a dialog titled
# Help: shrink to 80x24, F1, grow to 120x40, Esc. The screens are kept in
# $T/NAME-*.screen (KEEP_DIR=DIR copies them there, to look at by hand).
round() {
	local name=$1 t="'$2' 'cluster resize'"
	wait_until 10 all "laid_out 120 40 $t" || echo "# $name: not drawn at 120x40"
	resize 80 24
	wait_until 10 all "laid_out 80 24 $t"
	tap_is "$name: shrunk to 80x24, drawn again for 80x24" 0 $?
	keys F1
	wait_until 10 all "laid_out 80 24 $t && box_centred 80 Help"
	tap_is "$name: F1 after the resize opens help, centred in 80 columns" 0 $?
	printf '%s\n' "$S" >"$T/$name-80x24.screen"
	idle "$name after 80x24 and a key"
	resize 120 40
	wait_until 10 all "laid_out 120 40 $t && box_centred 120 Help"
	tap_is "$name: grown to 120x40, drawn again with help centred in 120 columns" 0 $?
	keys Escape
	wait_until 10 all "laid_out 120 40 $t && no_box Help"
	tap_is "$name: Esc after the resize closes help" 0 $?
	printf '%s\n' "$S" >"$T/$name-120x40.screen"
}

# --- the wizard: Welcome, Hosts, Connect ---
# Connect reaches for sshd on a loopback port nothing listens on.
. "${TOP_SRCDIR:-.}/tests/loopback-lib.sh"
dead=$(free_port) || echo "# no free port"
cat >"$T/cluster.yaml" <<EOF
apiVersion: etcdwiz/v1
kind: Cluster
name: resize
kubernetesVersion: "1.33"
etcd:
  version: 3.5.21
ssh:
  user: root
  port: ${dead:-1}
  identityFile: $T/id
  knownHosts: $T/known_hosts
members:
  - name: m1
    address: 198.51.100.201
    sshHost: 127.0.0.1
EOF
: >"$T/id"
: >"$T/known_hosts"
SAN="ASAN_OPTIONS=log_path=$T/asan UBSAN_OPTIONS=log_path=$T/ubsan"
start wizard "env TERM=$WTERM LC_ALL=C.UTF-8 $SAN XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' '$ETCDWIZ' wizard -f '$T/cluster.yaml'"
round Welcome "etcdwiz 1/13: Welcome"
keys F3
wait_until 10 laid_out 120 40 "etcdwiz 2/13: Hosts" "cluster resize"
tap_is "Welcome: F3 then moves on to Hosts" 0 $?
round Hosts "etcdwiz 2/13: Hosts"
keys F3
wait_until 10 all "laid_out 120 40 'etcdwiz 3/13: Connect' 'cluster resize' && has 'root@127.0.0.1:'"
tap_is "Hosts: F3 then moves on to Connect" 0 $?
round Connect "etcdwiz 3/13: Connect"
idle "Connect at 120x40 after the last key"
# Abort asks first (Left selects Yes); an aborted wizard exits 1.
keys F4
wait_until 10 all "box_centred 120 Abort"
keys Left Enter
wait_until 10 has "ETCDWIZ-EXIT=" && has "ETCDWIZ-EXIT=1" && ! kill -0 "$PID" 2>/dev/null
tap_is "Connect: F4 and Yes leave the wizard (aborted: exit 1)" 0 $?

# --- etcdwiz status on a real etcd (Debian's etcd-server) on 127.0.0.1 ---
ETCD=$(command -v etcd) || {
	for _ in $(seq 12); do tap_skip "etcd not installed (apt-get install etcd-server)"; done
	exit 0
}
sed "s|@STORE@|$T/store|; s|@ALG@|ECDSA-P256|" "$TOP_SRCDIR/tests/fixtures/pki/single.yaml" >"$T/etcd.yaml"
"$ETCDWIZ" certs generate -f "$T/etcd.yaml" >/dev/null 2>&1 || echo "# certs generate failed"
p="$T/store/members/etcd01/etcd"
cport=$(free_port "$dead") && pport=$(free_port "$dead" "$cport") &&
	mport=$(free_port "$dead" "$cport" "$pport") || echo "# no free ports"
"$ETCD" --name etcd01 --data-dir "$T/etcd-data" \
	--listen-client-urls "https://127.0.0.1:$cport" --advertise-client-urls "https://127.0.0.1:$cport" \
	--listen-peer-urls "https://127.0.0.1:$pport" --initial-advertise-peer-urls "https://127.0.0.1:$pport" \
	--initial-cluster "etcd01=https://127.0.0.1:$pport" --initial-cluster-state new \
	--listen-metrics-urls "http://127.0.0.1:$mport" \
	--cert-file "$p/server.crt" --key-file "$p/server.key" --trusted-ca-file "$p/ca.crt" --client-cert-auth=true \
	--peer-cert-file "$p/peer.crt" --peer-key-file "$p/peer.key" --peer-trusted-ca-file "$p/ca.crt" \
	--peer-client-cert-auth=true >"$T/etcd.log" 2>&1 &
etcd_pids=$!
STATUS="'$ETCDWIZ' status --direct --endpoints https://127.0.0.1:$cport --cacert '$p/ca.crt' \
--cert '$p/healthcheck-client.crt' --key '$p/healthcheck-client.key' --metrics-port $mport"
healthy() { eval "timeout 20 $STATUS --once" >"$T/once" 2>&1; }
wait_for 30 healthy || { echo "# etcd did not become healthy:"; sed 's/^/# /' "$T/once" "$T/etcd.log" | tail -20; }

start status "env TERM=xterm-256color LC_ALL=C.UTF-8 $SAN $STATUS"
wait_until 30 all "laid_out 120 40 'etcdwiz status' && has HEALTHY && history_fits 120"
tap_is "status: the dashboard shows HEALTHY at 120x40" 0 $?
resize 80 24
wait_until 10 all "laid_out 80 24 'etcdwiz status' && has HEALTHY && history_fits 80"
tap_is "status: shrunk to 80x24, drawn again for 80x24" 0 $?
printf '%s\n' "$S" >"$T/status-80x24-dash.screen"
keys F1
wait_until 10 all "laid_out 80 24 'etcdwiz status' && has 'Keys of the dashboard'"
tap_is "status: F1 after the resize shows the keys" 0 $?
printf '%s\n' "$S" >"$T/status-80x24.screen"
idle "status after 80x24 and a key"
resize 120 40
wait_until 10 all "laid_out 120 40 'etcdwiz status' && has 'Keys of the dashboard'"
tap_is "status: grown to 120x40, drawn again for 120x40 (the keys still shown)" 0 $?
keys F1
wait_until 10 all "laid_out 120 40 'etcdwiz status' && has HEALTHY && history_fits 120 && ! has 'Keys of the dashboard'"
tap_is "status: F1 after the resize hides the keys" 0 $?
printf '%s\n' "$S" >"$T/status-120x40.screen"
idle "status after 120x40 and a key"
keys q
wait_until 10 has "ETCDWIZ-EXIT=" && has "ETCDWIZ-EXIT=0" && ! kill -0 "$PID" 2>/dev/null
tap_is "status: q after the resizes quits, exit 0" 0 $?

# --- the same dashboard in zh_TW at 80x24: its columns laid out by display
# width (a CJK character takes two), nothing cut without an ellipsis ---
LOCALEDIR="$T/locale"
mkdir -p "$LOCALEDIR/zh_TW/LC_MESSAGES"
msgfmt -o "$LOCALEDIR/zh_TW/LC_MESSAGES/etcdwiz.mo" "$TOP_SRCDIR/po/zh_TW.po" || echo "# msgfmt failed"
zh() { LANGUAGE=zh_TW TEXTDOMAINDIR=$LOCALEDIR gettext -d etcdwiz "$1"; }
CHECK="python3 $TOP_SRCDIR/tests/screen-check.py"
start zh "env TERM=xterm-256color LC_ALL=C.UTF-8 LANGUAGE=zh_TW ETCDWIZ_LOCALEDIR='$LOCALEDIR' $SAN $STATUS"
resize 80 24
# (laid_out's footer check is English: "F1 Help".)
rows_are() { [ "$(printf '%s\n' "$S" | wc -l)" -eq "$1" ]; }
wait_until 30 all "rows_are 24 && has '$(zh HEALTHY)' && has '$(zh 'DB size')' && has '$(zh 'F1')'"
tap_is "status in zh_TW at 80x24: the dashboard is drawn, translated" 0 $?
printf '%s\n' "$S" >"$T/status-zh-80x24.screen"
tap_check "... its table's titles are translated (NAME is $(zh NAME))" test "$(zh NAME)" != NAME
tap_check "... each title over its column (display width)" $CHECK columns "$T/status-zh-80x24.screen" \
	"$(zh NAME)" "$(zh ROLE)" "$(zh VERSION)" "$(zh 'DB SIZE')" "$(zh LATENCY)" "$(zh ERRORS)" -- '^[│|] etcd01 '
keys F1
wait_until 10 all "rows_are 24 && has '$(zh 'Keys of the dashboard (read-only)')'"
printf '%s\n' "$S" >"$T/status-zh-help.screen"
keys Escape
tap_check "80x24 dashboards (English and zh_TW, with help): nothing cut without an ellipsis" \
	$CHECK cut 80 "$T/status-80x24-dash.screen" "$T/status-80x24.screen" "$T/status-zh-80x24.screen" \
	"$T/status-zh-help.screen"
stop_prog

# A sanitizer report, if any, goes to the log.
cat "$T"/asan.* "$T"/ubsan.* 2>/dev/null | head -60 | sed 's/^/# /'
if [ -n "$KEEP" ]; then cp "$T"/*.screen "$KEEP"/; fi
