#!/bin/bash
# No secret left behind by an apply that needs two: on the lab, as the
# lab's wizpw user (a login password, and sudo asks for it; a new random
# one on every host for this test), `etcdwiz apply` in a terminal (tmux)
# from fresh hosts; the answers are pasted from a file, so no command line
# of the test holds them. While it runs, every process's command line is
# sampled 5 times a second. Then the journals, the cluster file, the state
# directory, the whole terminal scrollback and the ps samples are searched
# for the password, for any private key and for the CA key's own PEM lines:
# none is found, while the same search finds the password in the file it
# was pasted from and the CA key in the local store.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v tmux >/dev/null || tap_skip_all "tmux missing: apt-get install tmux"
command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"
tap_plan 8
T=$TAP_TMP
export XDG_DATA_HOME="$T/xdg" XDG_STATE_HOME="$T/state"
SOCK="etcdwiz-secrets-$$"
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"
tap_on_exit "tmux -L '$SOCK' kill-server >/dev/null 2>&1"

"$ETCDWIZ" lab up -n 3 -q >"$T/up" 2>&1
tap_is "lab up -n 3" 0 $?
PW=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$T/typed"
printf '%s\n' "$PW" >"$T/typed/pw"
for a in 11 12 13; do lab_ssh "198.51.100.$a" 'chpasswd' <<<"wizpw:$PW"; done
FILE=$T/cluster.yaml
sed -e 's|^  user: root$|  user: wizpw|' -e 's|^  sudo: false$|  sudo: true|' -e "s|^  identityFile: .*|  identityFile: $T/no-such-key|" \
	"$LAB/cluster.yaml" >"$FILE"

mkdir -p "$T/out"
ps_sample_start "$T/out/ps.txt"
tmux -L "$SOCK" -f /dev/null new-session -d -s ap -x 160 -y 50 \
	"env TERM=xterm-256color XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' '$ETCDWIZ' apply --yes -f '$FILE'; echo \$? >'$T/apply.rc'; sleep 600"
screen() { tmux -L "$SOCK" capture-pane -p -J -S - -t ap 2>/dev/null; }
# paste_when TEXT: once the terminal shows TEXT, the password from its file.
paste_when() {
	local i
	for i in $(seq 300); do
		screen | grep -qF -- "$1" && break
		[ -s "$T/apply.rc" ] && return 1
		sleep 0.2
	done
	tmux -L "$SOCK" load-buffer -b pw "$T/typed/pw" && tmux -L "$SOCK" paste-buffer -b pw -d -t ap
}
paste_when "Password for wizpw@"
paste_when "sudo password for wizpw on"
for _ in $(seq 600); do [ -s "$T/apply.rc" ] && break; sleep 0.5; done
ps_sample_stop
screen >"$T/out/terminal.txt"
tap_is "apply as wizpw (a password, sudo with a password): exit 0" 0 "$(cat "$T/apply.rc" 2>/dev/null)"
[ "$(cat "$T/apply.rc" 2>/dev/null)" = 0 ] || tail -20 "$T/out/terminal.txt" | sed 's/^/# /'
tap_is "... each asked once for the three hosts" "1 1" \
	"$(grep -c 'Password for wizpw@' "$T/out/terminal.txt") $(grep -c 'sudo password for wizpw on' "$T/out/terminal.txt")"
tap_is "... and the cluster is healthy" 3 "$(lab_etcdctl "$(etcdctl35_path)" endpoint health 2>&1 | grep -c 'is healthy')"

cp -r "$XDG_DATA_HOME/etcdwiz/lab/journal" "$T/out/journal"
cp "$FILE" "$T/out/"
[ -d "$XDG_STATE_HOME" ] && cp -r "$XDG_STATE_HOME" "$T/out/state"
CA_KEY=$XDG_DATA_HOME/etcdwiz/lab/pki/ca/etcd/ca.key
CA_LINE=$(sed -n 2p "$CA_KEY" 2>/dev/null)
[ -n "$CA_LINE" ] || CA_LINE="no CA key was made"
tap_check "the search covers the journals, the file, the terminal and ps ($(wc -l <"$T/out/ps.txt") lines)" \
	test -s "$T/out/ps.txt" -a -n "$(ls "$T/out/journal")" -a -s "$T/out/terminal.txt"
found=$(grep -rlF -e "$PW" -e "PRIVATE KEY" -e "$CA_LINE" "$T/out" 2>/dev/null)
tap_is "no password, private key or CA key line in any of them" "" "$found"
tap_check "... while the same search finds the password where it was pasted from and the CA key in the store" \
	sh -c "grep -qF '$PW' '$T/typed/pw' && grep -qF -- '$CA_LINE' '$CA_KEY'"
tap_is "the CA key line is a real one (not empty)" 1 "$([ ${#CA_LINE} -ge 40 ] && echo 1 || echo 0)"
tap_finish
