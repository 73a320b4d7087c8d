#!/bin/bash
# The terminal is given back as it was when the wizard ends: after Abort
# (asked first), Ctrl-C, SIGTERM and a crash (SIGSEGV), in a real tty
# (tmux), with no lab. After each, the shell in the same pane prints the
# exit status and the tty modes: canonical mode and echo must be back, and
# the cursor visible again (tput cnorm is what curses leaves on exit).
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v tmux >/dev/null || tap_skip_all "tmux missing: apt-get install tmux"
tap_plan 8
export XDG_DATA_HOME="$TAP_TMP/data" XDG_STATE_HOME="$TAP_TMP/state"
SOCK=
tap_on_exit 'tmux -L "$SOCK" kill-server >/dev/null 2>&1'

screen() { tmux -L "$SOCK" capture-pane -p -t r 2>/dev/null; }
# wait_text SECONDS TEXT
wait_text() {
	local i
	for i in $(seq "$1"); do
		screen | grep -qF -- "$2" && return 0
		sleep 1
	done
	screen | sed 's/^/# /'
	return 1
}

# case NAME HOW: start the wizard in a fresh pane, end it HOW, and leave
# "EXIT=<status> MODES=<icanon echo>" on the screen.
run_case() {
	local name=$1 how=$2 pid
	[ -n "$SOCK" ] && tmux -L "$SOCK" kill-server >/dev/null 2>&1
	SOCK="etcdwiz-restore-$$-$name"	# a server per case: no race with the last one's exit
	tmux -L "$SOCK" -f /dev/null new-session -d -s r -x 80 -y 24 \
		"trap : INT; sh -c 'echo \$\$ >$TAP_TMP/pid; exec env TERM=xterm ASAN_OPTIONS=handle_segv=0 XDG_DATA_HOME=$XDG_DATA_HOME XDG_STATE_HOME=$XDG_STATE_HOME $ETCDWIZ wizard'; st=\$?; clear; echo EXIT=\$st MODES=\$(stty -a | tr ' ;' '\n\n' | grep -xE 'icanon|echo' | tr '\n' ' '); sleep 60" ||
		return 1
	wait_text 20 "etcdwiz 1/13" || return 1
	pid=$(cat "$TAP_TMP/pid")
	case $how in
	abort) tmux -L "$SOCK" send-keys -t r F4; wait_text 10 "Leave the wizard now?" && tmux -L "$SOCK" send-keys -t r y ;;
	ctrl-c) tmux -L "$SOCK" send-keys -t r C-c ;;
	term) kill -TERM "$pid" ;;
	segv) kill -SEGV "$pid" ;;
	esac
	wait_text 20 "EXIT=" >/dev/null
	screen | grep -o 'EXIT=.*' | head -1 >"$TAP_TMP/$name"
}

run_case abort abort
tap_grep "Abort (F4, then y): exit 1" '^EXIT=1 ' "$TAP_TMP/abort"
tap_grep "... canonical mode and echo are back" 'MODES=icanon echo' "$TAP_TMP/abort"
run_case ctrl-c ctrl-c
tap_grep "Ctrl-C: ends as SIGINT (130)" '^EXIT=130 ' "$TAP_TMP/ctrl-c"
tap_grep "... canonical mode and echo are back" 'MODES=icanon echo' "$TAP_TMP/ctrl-c"
run_case term term
tap_grep "SIGTERM: ends as SIGTERM (143)" '^EXIT=143 ' "$TAP_TMP/term"
tap_grep "... canonical mode and echo are back" 'MODES=icanon echo' "$TAP_TMP/term"
run_case segv segv
tap_grep "a crash (SIGSEGV): ends as SIGSEGV (139)" '^EXIT=139 ' "$TAP_TMP/segv"
tap_grep "... canonical mode and echo are back" 'MODES=icanon echo' "$TAP_TMP/segv"
