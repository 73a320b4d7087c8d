#!/bin/bash
# The wizard's password, sudo password and passphrase dialogs against a
# real sshd on loopback (no lab): a throwaway user whose login is by
# password and whose sudo asks for it, three members behind the one sshd.
# A password is asked once for the three hosts ("Every host" is the
# default button); a wrong one is said at once, on the host's row and in
# the dialog that names user@host, and one more answer serves all three;
# "This host" keeps an answer to one host, so the next is asked; the sudo
# password is asked once too; a passphrase-protected key is asked once.
# sshd's log counts the logins. The passphrase once more in a real terminal
# (tmux), pasted from a file. Every process's command line is sampled during
# each run; at the end the screens, outputs, session files, journals and the
# cluster file are searched for the password, the passphrase and any
# private key. Needs root (sshd, a local user, sudoers).
. "${TOP_SRCDIR:-.}/tests/tap.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (throwaway sshd, local user, sudoers)"
SSHD=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || tap_skip_all "sshd missing: apt-get install openssh-server"
for t in ssh-keygen sudo useradd chpasswd; do
	command -v "$t" >/dev/null 2>&1 || tap_skip_all "$t not found"
done
[ -d /etc/sudoers.d ] || tap_skip_all "no /etc/sudoers.d"
tap_plan 23
T=$TAP_TMP
chmod 755 "$T"
export XDG_DATA_HOME="$T/data" XDG_STATE_HOME="$T/state" ETCDWIZ_UI_DUMP_DIR="$T" ETCDWIZ_UI_IDLE_TIMEOUT=30
unset SSH_AUTH_SOCK

. "${TOP_SRCDIR:-.}/tests/loopback-lib.sh"
throwaway_user ewzsec ui-secrets

tap_need_sshd_dir
ssh-keygen -q -t ed25519 -N '' -C host -f "$T/host"
PHRASE=phrase-$$
ssh-keygen -q -t ed25519 -N "$PHRASE" -C client -f "$T/id"
cp "$T/id.pub" "$T/authorized_keys"
chmod 644 "$T/authorized_keys"
loopback_sshd "$T" "PasswordAuthentication yes" "KbdInteractiveAuthentication no" "PermitRootLogin no" \
	"MaxStartups 50" "LogLevel VERBOSE"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$T/host.pub")" >"$T/known_hosts"

# cluster KEYFILE: three members behind the one sshd.
cluster() {
	cat >"$T/cluster.yaml" <<EOF
apiVersion: etcdwiz/v1
kind: Cluster
name: secrets
kubernetesVersion: "1.33"
etcd:
  version: 3.5.21
ssh:
  user: $U
  port: $port
  sudo: true
  identityFile: $1
  knownHosts: $T/known_hosts
members:
  - {name: m1, address: 198.51.100.201, sshHost: 127.0.0.1}
  - {name: m2, address: 198.51.100.202, sshHost: 127.0.0.1}
  - {name: m3, address: 198.51.100.203, sshHost: 127.0.0.1}
EOF
}
# run NAME: the wizard on the cluster file with the keys on stdin (kept
# outside $T/out, which is searched for secrets at the end); every process's
# command line is sampled meanwhile, 5 times a second.
mkdir -p "$T/keys" "$T/out"
run() {
	sed "s/@PW@/$PW/g; s/@PHRASE@/$PHRASE/g" >"$T/keys/$1.keys"
	rm -rf "$XDG_STATE_HOME/etcdwiz"
	ps_sample_start "$T/out/ps-$1.txt"
	env TERM=xterm ETCDWIZ_UI_SIZE=120x40 ETCDWIZ_UI_SCRIPT="$T/keys/$1.keys" timeout 120 "$ETCDWIZ" wizard -f "$T/cluster.yaml" \
		</dev/null >"$T/out/$1.out" 2>"$T/out/$1.err" || sed "s/^/# $1: /" "$T/out/$1.err" | head -5
	ps_sample_stop
	cp -r "$XDG_STATE_HOME/etcdwiz" "$T/out/state-$1" 2>/dev/null
}
logins() { grep -c "Accepted $1 for $U" "$T/sshd.log"; }
dialogs() { grep -c "$1" "$T/$2.txt"; }

# --- a password, asked once for three hosts ---
cluster "$T/no-such-key"
run once <<'KEYS'
<F3>
<F3>
:sleep 3000
:dump once-ask
text:"@PW@"
<Enter>
:sleep 3000
:dump once-connected
KEYS
tap_grep "one password question, naming user@host" "Password for $U@m[123]:" "$T/once-ask.txt"
tap_grep "... with Every host (the default), This host and Cancel" '<\[? ?Every host ?\]?> +< This host > +< Cancel >|Every host.*This host.*Cancel' "$T/once-ask.txt"
tap_grep "... and what Every host means" "Every host: tried on each host that logs in as $U" "$T/once-ask.txt"
tap_grep "one answer: the three hosts connect" '3 of 3 hosts connected' "$T/once-connected.txt"
tap_is "... no other question was open" 0 "$(dialogs 'Password for' once-connected)"
tap_is "sshd accepted the password three times" 3 "$(logins password)"

# --- a wrong one first: said at once, and one more answer for all ---
: >"$T/sshd.log.before"; cp "$T/sshd.log" "$T/sshd.log.before"
run wrong <<'KEYS'
<F3>
<F3>
:sleep 3000
text:"not-the-password"
<Enter>
:sleep 5000
:dump wrong-again
text:"@PW@"
<Enter>
:sleep 3000
:dump wrong-connected
KEYS
tap_grep "a refused password is said in the dialog, naming user@host" "That was not accepted for $U@m[123]; try again" "$T/wrong-again.txt"
tap_grep "... and on that host's row" '^ m[123] .*password refused' "$T/wrong-again.txt"
tap_is "... in one dialog, not one per host" 1 "$(dialogs '│ That was not accepted' wrong-again)"
tap_grep "the second answer serves all three" '3 of 3 hosts connected' "$T/wrong-connected.txt"
tap_is "... two questions in all (sshd: 3 more logins)" 6 "$(logins password)"

# --- This host: the answer is kept to one host, the next is asked ---
run onehost <<'KEYS'
<F3>
<F3>
:sleep 3000
text:"@PW@"
<Right>
<Enter>
:sleep 2000
:dump onehost-next
text:"@PW@"
<Enter>
:sleep 3000
:dump onehost-connected
KEYS
tap_grep "This host: the next host is asked" "Password for $U@m[123]:" "$T/onehost-next.txt"
tap_is "... while the first one is connected" 1 "$(grep -c ' connected  ' "$T/onehost-next.txt")"
tap_grep "... then Every host serves the third" '3 of 3 hosts connected' "$T/onehost-connected.txt"

# --- the sudo password: the checks after Connect ask it once ---
run sudo <<'KEYS'
<F3>
<F3>
:sleep 3000
text:"@PW@"
<Enter>
:sleep 3000
<F3>
:sleep 4000
:dump sudo-ask
text:"@PW@"
<Enter>
:sleep 5000
:dump sudo-after
KEYS
tap_grep "the sudo password is asked, with Every host" "sudo password for $U on m[123]:" "$T/sudo-ask.txt"
tap_is "... once: no sudo question after the answer" 0 "$(dialogs 'sudo password for' sudo-after)"

# --- a passphrase-protected key: asked once for the file ---
cluster "$T/id"
run phrase <<'KEYS'
<F3>
<F3>
:sleep 3000
:dump phrase-ask
text:"@PHRASE@"
<Enter>
:sleep 3000
:dump phrase-connected
KEYS
tap_grep "a passphrase question names the key file" "Passphrase for $T/id" "$T/phrase-ask.txt"
tap_grep "one answer: the three hosts connect with the key" '3 of 3 hosts connected' "$T/phrase-connected.txt"
tap_is "sshd accepted the key three times" 3 "$(logins publickey)"

# --- the same in a real terminal (tmux): the passphrase pasted from a file ---
if command -v tmux >/dev/null; then
	SOCK="etcdwiz-ui-secrets-$$"
	tap_on_exit "tmux -L '$SOCK' kill-server >/dev/null 2>&1"
	printf '%s\n' "$PHRASE" >"$T/keys/phrase"
	rm -rf "$XDG_STATE_HOME/etcdwiz"
	ps_sample_start "$T/out/ps-tmux.txt"
	tmux -L "$SOCK" -f /dev/null new-session -d -s wiz -x 120 -y 40 \
		"env TERM=xterm-256color XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' '$ETCDWIZ' wizard -f '$T/cluster.yaml'; sleep 600"
	tscreen() { tmux -L "$SOCK" capture-pane -p -J -S - -t wiz 2>/dev/null; }
	twait() { for _ in $(seq 100); do tscreen | grep -qF -- "$1" && return 0; sleep 0.3; done; return 1; }
	twait "1/13" && tmux -L "$SOCK" send-keys -t wiz F3 && twait "2/13" && tmux -L "$SOCK" send-keys -t wiz F3
	twait "Passphrase for $T/id" && tmux -L "$SOCK" load-buffer -b ph "$T/keys/phrase" &&
		tmux -L "$SOCK" paste-buffer -b ph -d -t wiz
	twait "3 of 3 hosts connected"
	tscreen >"$T/out/tmux-connected.txt"
	tmux -L "$SOCK" send-keys -t wiz F4 && sleep 0.5 && tmux -L "$SOCK" send-keys -t wiz y && sleep 1
	ps_sample_stop
	tscreen >"$T/out/tmux-end.txt"
	tap_grep "in tmux: the passphrase pasted once, the three hosts connect" '3 of 3 hosts connected' "$T/out/tmux-connected.txt"
else
	tap_ok "in tmux: skipped (no tmux)"
fi

# --- no secret anywhere: what the wizard wrote or showed, and ps ---
# The screen dumps, each run's output and state (the session file), the
# journals and the cluster file: none holds the password, the passphrase
# or a private key.
cp "$T"/*.txt "$T/cluster.yaml" "$T/out/" 2>/dev/null
cp -r "$XDG_DATA_HOME" "$T/out/data" 2>/dev/null
tap_check "the search covers screens, the session file and the samples of ps" \
	test "$(find "$T/out" -type f | wc -l)" -ge 20 -a -s "$T/out/ps-phrase.txt" -a -s "$T/out/tmux-end.txt"
found=$(grep -rlF -e "$PW" -e "$PHRASE" -e "PRIVATE KEY" "$T/out" 2>/dev/null)
tap_is "no password, passphrase or private key in any of them" "" "$found"
tap_check "... while the same search finds them in the scripts they were typed from" \
	test "$(grep -rlF -e "$PW" -e "$PHRASE" "$T/keys" | wc -l)" -ge 5
if [ -n "${KEEP_DIR:-}" ]; then cp "$T"/*.txt "$KEEP_DIR"/; fi
tap_finish
