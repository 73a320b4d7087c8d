#!/bin/bash
# `make screenshots` (never in CI): the real binary in a detached tmux on a
# fresh lab, as tests/ui-tmux.sh drives it, captured with its colours
# (tmux capture-pane -e) and drawn as PNGs by docs/ansi2png.py into
# docs/screenshots/ (the names the Makefile's SCREENSHOTS lists): the
# wizard's screens from Welcome to Summary at 100x30 (the lab brought up
# from Welcome, as `etcdwiz wizard --lab` does), the Members, Backups and
# Upgrade screens on the running cluster, Members at 80x24 in zh_TW, and the
# `etcdwiz status` dashboard (in English and in zh_TW).
#
# Runs as root (the lab). Takes the lab tests' lock, refuses when a lab is
# up already (it would be changed), and always takes its lab down again.
# Every wait is bounded. Needs tmux, python3-pil, fonts-dejavu-core,
# fonts-noto-cjk (zh_TW), optipng and gettext; installs the missing ones
# with apt-get.
#
# Environment: ETCDWIZ (the binary; default ./etcdwiz), TOP_SRCDIR,
# TOP_BUILDDIR (default .), SHOTS_DIR (default $TOP_SRCDIR/docs/screenshots),
# SHOTS_KEEP=DIR (keep the ANSI captures there too).
set -u
TOP_SRCDIR=$(cd "${TOP_SRCDIR:-.}" && pwd) || exit 1
TOP_BUILDDIR=$(cd "${TOP_BUILDDIR:-.}" && pwd) || exit 1
ETCDWIZ=$(realpath -e "${ETCDWIZ:-$TOP_BUILDDIR/etcdwiz}" 2>/dev/null) || { echo "screenshots: no binary (make first)" >&2; exit 1; }
OUT=${SHOTS_DIR:-$TOP_SRCDIR/docs/screenshots}
PY=/usr/bin/python3 # Debian's, with python3-pil
LAB=/var/lib/etcdwiz-lab
CF=$LAB/cluster.yaml
COLS=100 ROWS=30

die() { echo "screenshots: $*" >&2; exit 1; }
say() { echo "screenshots: $*"; }
[ "$(id -u)" -eq 0 ] || die "needs root (the lab)"
[ -x "$ETCDWIZ" ] || die "no binary at $ETCDWIZ (make first)"
command -v systemd-nspawn >/dev/null || die "systemd-nspawn missing: apt-get install systemd-container"

# Debian's packages this needs; the missing ones installed.
missing=
command -v tmux >/dev/null || missing="$missing tmux"
$PY -c 'import PIL' 2>/dev/null || missing="$missing python3-pil"
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf ] || missing="$missing fonts-dejavu-core"
[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing="$missing fonts-noto-cjk"
command -v optipng >/dev/null || missing="$missing optipng"
command -v msgfmt >/dev/null || missing="$missing gettext"
if [ -n "$missing" ]; then
	say "installing:$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >/dev/null ||
		die "could not install them: apt-get install$missing"
fi

# A fixed work directory (the store's path shows on the Certificates
# screen), made afresh once the lock is held.
TMP=/var/tmp/etcdwiz-screenshots
RAW=$TMP/ansi
SOCK="etcdwiz-shots-$$"
export XDG_DATA_HOME="$TMP/xdg" XDG_STATE_HOME="$TMP/state"
export ETCDWIZ_LAB_PATH="$TOP_BUILDDIR/lab:$TOP_SRCDIR/lab"
LAB_OURS=
cleanup() {
	tmux -L "$SOCK" kill-server >/dev/null 2>&1
	[ -z "$LAB_OURS" ] || "$ETCDWIZ" lab down >/dev/null 2>&1 || echo "screenshots: lab down failed: run '$ETCDWIZ lab down'" >&2
	[ -z "${SHOTS_KEEP:-}" ] || { mkdir -p "$SHOTS_KEEP" && cp "$RAW"/*.ansi "$SHOTS_KEEP"/ 2>/dev/null; }
	[ -z "$LAB_OURS" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The lab tests' lock: the machine has one lab.
exec 9>/run/etcdwiz-lab-test.lock
say "waiting for the lab lock (at most 15 minutes)"
flock -w 900 9 || die "another lab user held the lab for 15 minutes"
[ -e "$LAB/state" ] && die "a lab is up already; this would change it (run '$ETCDWIZ lab down' first)"
LAB_OURS=1
START=$(date +%s)
rm -rf "$TMP"
mkdir -p "$RAW" "$OUT" || die "cannot make $RAW"

# The texts the wizard shows, in the language under test (the catalogue of
# this build tree, as the binary finds it).
T() { LANGUAGE=${WIZ_LANG:-} LC_ALL=C.UTF-8 TEXTDOMAINDIR="$TOP_BUILDDIR/locale" gettext -d etcdwiz "$1"; }
title() { T 'etcdwiz %zu/%zu: %s' | sed "s|%zu/%zu.*|$1/13|"; }

screen() { tmux -L "$SOCK" capture-pane -p -t wiz 2>/dev/null; }
keys() { tmux -L "$SOCK" send-keys -t wiz "$@"; }
# shot NAME: the pane now, with its colours, into $RAW/NAME.ansi.
shot() { tmux -L "$SOCK" capture-pane -e -N -p -t wiz >"$RAW/$1.ansi" && say "captured $1"; }
# wait_screen SECONDS TEXT: until the pane shows TEXT (a fixed string).
wait_screen() {
	local limit=$1 i=0
	while [ "$i" -lt "$limit" ]; do
		screen | grep -qF -- "$2" && return 0
		tmux -L "$SOCK" has-session -t wiz 2>/dev/null || break
		sleep 1
		i=$((i + 1))
	done
	echo "screenshots: timed out after $limit s waiting for: $2" >&2
	screen | sed 's/^/| /' >&2
	return 1
}
# start SIZE ENV... -- ARGS...: the binary in a new tmux of SIZE (COLSxROWS).
start() {
	local size=$1 envs=() _
	shift
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	stop_tmux
	# (A server still going away can refuse the first new session.)
	for _ in 1 2 3; do
		tmux -L "$SOCK" -f /dev/null new-session -d -s wiz -x "${size%x*}" -y "${size#*x}" \
			"env TERM=tmux-256color LC_ALL=C.UTF-8 LANGUAGE= ${envs[*]} XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' ETCDWIZ_LAB_PATH='$ETCDWIZ_LAB_PATH' '$ETCDWIZ' $*; echo ETCDWIZ-EXIT=\$?; sleep 600" &&
			return 0
		sleep 1
		stop_tmux
	done
	return 1
}
# stop_tmux: the tmux server gone (at most 5 s).
stop_tmux() {
	local i
	tmux -L "$SOCK" kill-server >/dev/null 2>&1
	for i in 1 2 3 4 5 6 7 8 9 10; do
		tmux -L "$SOCK" has-session 2>/dev/null || return 0
		sleep 0.5
	done
}

# step_screen N NAME [plan] [confirm] [applied]: on screen N/13, wait for
# the check, capture the named phases (the plan as NAME-plan, the
# confirmation as NAME-confirm, the result as NAME-applied), confirm, and go
# on. Fails when a check or an apply fails.
step_screen() {
	local n=$1 name=$2 t s i want=" ${*:3} "
	local review review1 errs applied nothing confirm bad1 bad2
	t=$(title "$n")
	review='host steps would change. Review, then F3 to apply.'
	review1='step would change a host. Review, then F3 to apply.'
	errs='see [ERROR ...] in the plans.'
	applied='Applied on every host.'
	nothing='Checked: every host is as it should be, nothing to change. F3 goes on.'
	confirm='Apply these changes?'
	bad1='Some hosts could not be checked; see their state and the log.'
	bad2='Some hosts failed; see their state and the log. r checks again.'
	wait_screen 60 "$t" || return 1
	for i in $(seq 900); do
		s=$(screen)
		case $s in *"$t"*) ;; *) return 0 ;; esac
		case $s in
		*"$applied"*) phase applied; keys F3 ;;
		*"$confirm"*) phase confirm; keys y ;;
		*"$review"* | *"$review1"*) phase plan; keys F3 ;;
		*"$nothing"*) keys F3 ;;
		*"$errs"* | *"$bad1"* | *"$bad2"*) echo "screenshots: screen $n failed:" >&2; echo "$s" | sed 's/^/| /' >&2; return 1 ;;
		esac
		sleep 1
	done
	return 1
}
# phase PHASE: in step_screen, its capture if wanted and not taken yet.
phase() {
	case $want in *" $1 "*) ;; *) return 0 ;; esac
	[ -e "$RAW/$name-$1.ansi" ] && return 0
	sleep 1 # let the screen settle
	shot "$name-$1"
}
# read_screen N NAME TEXT...: on screen N, until one of TEXTs shows; capture.
read_screen() {
	local n=$1 name=$2 i s x
	shift 2
	wait_screen 30 "$(title "$n")" || return 1
	for i in $(seq 120); do
		s=$(screen)
		for x in "$@"; do
			case $s in *"$x"*) sleep 1; shot "$name"; return 0 ;; esac
		done
		sleep 1
	done
	echo "screenshots: screen $n never showed what it reads" >&2
	screen | sed 's/^/| /' >&2
	return 1
}

# 1. The whole wizard from `etcdwiz wizard --lab` on a fresh lab.
wizard_flow() {
	local i
	start "${COLS}x$ROWS" -- wizard --lab || return 1
	wait_screen 20 "$(title 1)" || return 1
	say "Welcome: the lab comes up (a minute or two)"
	for i in $(seq 900); do
		screen | grep -qF 'cluster lab' && break
		screen | grep -qF 'The lab could not be brought up' && { screen | sed 's/^/| /' >&2; return 1; }
		sleep 1
	done
	wait_screen 1 'cluster lab' || return 1
	sleep 1
	shot wizard-welcome
	keys F3
	wait_screen 30 "$(title 2)" || return 1
	sleep 1
	shot wizard-hosts
	keys F3
	wait_screen 60 "$(title 3)" || return 1
	wait_screen 120 '4 of 4 hosts connected.' || return 1
	sleep 1
	shot wizard-connect
	keys F3
	# Members, Backups, Upgrade: nothing runs yet (captured on the running
	# cluster below).
	wait_screen 30 'Its members are set on the Hosts screen' || return 1
	keys F3
	wait_screen 30 "$(title 5)" || return 1
	keys F3
	wait_screen 30 'Nothing to upgrade' || return 1
	keys F3
	step_screen 7 wizard-prerequisites plan confirm || return 1
	step_screen 8 wizard-runtime applied || return 1
	wait_screen 30 "$(title 9)" || return 1
	keys g
	step_screen 9 wizard-certificates plan || return 1
	step_screen 10 wizard-deploy plan applied || return 1
	wait_screen 30 "$(title 11)" || return 1
	wait_screen 120 '3 of 3 members up, leader' || return 1
	wait_screen 30 'HEALTHY' || return 1
	keys - - # every 0.5 s
	say "Health: letting the history graphs fill (35 s)"
	sleep 35
	shot wizard-health
	keys F3
	step_screen 12 wizard-kubernetes applied || return 1
	wait_screen 30 "$(title 13)" || return 1
	sleep 1
	shot wizard-summary
	keys F3
	wait_screen 30 'ETCDWIZ-EXIT=0'
}

# 2. The wizard again on the running cluster: Members, Backups, Upgrade;
# and Members once more at 80x24 in zh_TW.
wizard_running() {
	rm -rf "$XDG_STATE_HOME" # a new session: from Welcome
	start "${COLS}x$ROWS" -- wizard -f "$CF" || return 1
	to_members || return 1
	read_screen 4 wizard-members 'As etcd lists them' || return 1
	keys F3
	wait_screen 30 "$(title 5)" || return 1
	sleep 3
	shot wizard-backups
	keys F3
	read_screen 6 wizard-upgrade 'As the members report it' || return 1
	keys F4
	sleep 1
	keys y
	wait_screen 30 'ETCDWIZ-EXIT='
}

to_members() {
	wait_screen 20 "$(title 1)" || return 1
	keys F3
	wait_screen 30 "$(title 2)" || return 1
	keys F3
	wait_screen 120 "$(T '%zu of %zu hosts connected.' | sed 's/%zu/4/g')" || return 1
	keys F3
}
wizard_zh() {
	local running
	rm -rf "$XDG_STATE_HOME"
	start 80x24 LANGUAGE=zh_TW -- wizard -f "$CF" || return 1
	to_members || return 1
	running=$(T 'As etcd lists them (asked %s). a adds a member, d removes the selected one, r moves it to a new host.' | sed 's/%s.*//')
	read_screen 4 wizard-members-zh_TW "$running" || return 1
	stop_tmux # (the abort dialog's Yes is not y in zh_TW; nothing runs now)
}

# 3. `etcdwiz status`: the dashboard, its member detail; in zh_TW too.
status_dashboard() {
	local name=$1 healthy
	healthy=$(T 'HEALTHY')
	start "${COLS}x$ROWS" ${WIZ_LANG:+LANGUAGE=$WIZ_LANG} -- status -f "$CF" --interval 0.5 || return 1
	wait_screen 60 "$healthy" || return 1
	say "status: letting the history graphs fill (35 s)"
	sleep 35
	shot "$name"
	if [ -z "${WIZ_LANG:-}" ]; then
		keys Enter
		sleep 3
		shot "$name-detail"
	fi
	keys q
	wait_screen 30 'ETCDWIZ-EXIT='
}

wizard_flow || die "the wizard's flow failed (see above)"
wizard_running || die "the wizard on the running cluster failed (see above)"
WIZ_LANG=zh_TW wizard_zh || die "the zh_TW wizard failed (see above)"
status_dashboard status || die "the status dashboard failed"
WIZ_LANG=zh_TW status_dashboard status-zh_TW || die "the zh_TW status dashboard failed"
tmux -L "$SOCK" kill-server >/dev/null 2>&1
"$ETCDWIZ" lab down >/dev/null 2>&1 && LAB_OURS=
exec 9>&-
say "captured in $(($(date +%s) - START)) s; the lab is down"

# The PNGs.
for f in "$RAW"/*.ansi; do
	n=$(basename "$f" .ansi)
	$PY "$TOP_SRCDIR/docs/ansi2png.py" "$f" "$OUT/$n.png" || die "could not draw $n"
	command -v optipng >/dev/null && optipng -quiet -o2 "$OUT/$n.png"
done
say "wrote $(ls "$RAW" | wc -l) PNGs into $OUT in $(($(date +%s) - START)) s"
