#!/bin/bash
# `etcdwiz status -f FILE` through SSH sessions that log in with a password,
# as the wizard's wizpw account does (issue 11 item 9): a throwaway sshd on
# 127.0.0.1 (password login only), a throwaway user whose sudo asks for its
# password, and a real 3-member etcd (Debian's etcd-server) on 127.0.0.2-4
# with our certificates. In a terminal (a detached tmux with its own
# socket; the keys go in with send-keys) the password and the sudo password
# are each asked once for the three members and the cluster is HEALTHY,
# with --once -o json and full screen; a mistyped password is asked again
# once, not once per host. With a refused password, and without a
# terminal, the members are unknown ("cannot log in to 127.0.0.1"), never
# down: the badge is UNKNOWN, not NO QUORUM, no etcdMembersDown alert, and
# --once exits 3. Needs root (sshd, a local user, sudoers); skips otherwise.
. "$TOP_SRCDIR/tests/tap.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (throwaway sshd, local user, sudoers)"
SSHD=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || tap_skip_all "sshd not found (apt-get install openssh-server)"
for t in ssh-keygen tmux jq etcd sudo useradd chpasswd; do
	command -v "$t" >/dev/null 2>&1 || tap_skip_all "$t not found"
done
[ -d /etc/sudoers.d ] || tap_skip_all "no /etc/sudoers.d"
. "${TOP_SRCDIR:-.}/tests/loopback-lib.sh"
for ip in 127.0.0.2 127.0.0.3 127.0.0.4; do
	port_free 2379 $ip && port_free 2380 $ip || tap_skip_all "$ip:2379 or :2380 is in use"
done

tap_plan 24

unset SSH_AUTH_SOCK
T=$TAP_TMP
chmod 755 "$T"
export XDG_DATA_HOME="$T/xdg" XDG_STATE_HOME="$T/state"
SOCK="etcdwiz-status-ssh-$$"
tap_on_exit "tmux -L '$SOCK' kill-server >/dev/null 2>&1"

# --- a user whose login is by password and whose sudo asks for it ---
throwaway_user ewzst status-ssh

# --- a throwaway sshd on 127.0.0.1 ---
[ -d /run/sshd ] || { mkdir -p /run/sshd; tap_on_exit "rmdir /run/sshd 2>/dev/null"; }
ssh-keygen -q -t ed25519 -N '' -C status-ssh -f "$T/host_ed25519"
: >"$T/authorized_keys"
sshd_pid=""
stop_sshd() {
	[ -n "$sshd_pid" ] || return 0
	# The listener and its per-connection children.
	for p in $(pgrep -P "$sshd_pid" 2>/dev/null) "$sshd_pid"; do kill "$p" 2>/dev/null; done
	wait "$sshd_pid" 2>/dev/null
	sshd_pid=""
}
tap_on_exit stop_sshd
for _ in $(seq 10); do
	P=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 + 20000 ))
	cat >"$T/sshd_config" <<-EOF
	Port $P
	ListenAddress 127.0.0.1
	HostKey $T/host_ed25519
	AuthorizedKeysFile $T/authorized_keys
	PidFile none
	StrictModes no
	UsePAM no
	PasswordAuthentication yes
	KbdInteractiveAuthentication no
	PermitRootLogin no
	AllowTcpForwarding yes
	MaxStartups 50
	LogLevel VERBOSE
	EOF
	: >"$T/sshd.log"
	"$SSHD" -D -f "$T/sshd_config" -E "$T/sshd.log" &
	sshd_pid=$!
	for _ in $(seq 50); do
		grep -q 'Server listening' "$T/sshd.log" && break 2
		kill -0 "$sshd_pid" 2>/dev/null || break
		sleep 0.1
	done
	stop_sshd
done
[ -n "$sshd_pid" ] || tap_skip_all "cannot start a test sshd: $(tail -3 "$T/sshd.log")"
echo "[127.0.0.1]:$P $(cut -d' ' -f1,2 "$T/host_ed25519.pub")" >"$T/known_hosts"

# --- the cluster file the wizard would have saved, and its certificates ---
CF=$T/cluster.yaml
cat >"$CF" <<EOF
apiVersion: etcdwiz/v1
kind: Cluster
name: status-ssh
pki:
  algorithm: ECDSA-P256
  dir: $T/store
ssh:
  user: $U
  port: $P
  sudo: true
  identityFile: $T/no-such-key
  knownHosts: $T/known_hosts
members:
  - {name: etcd01, address: 127.0.0.2, sshHost: 127.0.0.1}
  - {name: etcd02, address: 127.0.0.3, sshHost: 127.0.0.1}
  - {name: etcd03, address: 127.0.0.4, sshHost: 127.0.0.1}
EOF
"$ETCDWIZ" certs generate -f "$CF" >"$T/certs.out" 2>&1 || { echo "# certs generate failed:"; sed 's/^/# /' "$T/certs.out"; }

# --- a real 3-member etcd on 127.0.0.2-4 ---
INITIAL=etcd01=https://127.0.0.2:2380,etcd02=https://127.0.0.3:2380,etcd03=https://127.0.0.4:2380
for i in 1 2 3; do
	ip=127.0.0.$((i + 1))
	p="$T/store/members/etcd0$i/etcd"
	etcd --name "etcd0$i" --data-dir "$T/data$i" \
		--listen-client-urls "https://$ip:2379" --advertise-client-urls "https://$ip:2379" \
		--listen-peer-urls "https://$ip:2380" --initial-advertise-peer-urls "https://$ip:2380" \
		--initial-cluster "$INITIAL" --initial-cluster-state new --initial-cluster-token "status-ssh-$$" \
		--cert-file "$p/server.crt" --key-file "$p/server.key" --trusted-ca-file "$p/ca.crt" \
		--client-cert-auth=true --peer-cert-file "$p/peer.crt" --peer-key-file "$p/peer.key" \
		--peer-trusted-ca-file "$p/ca.crt" --peer-client-cert-auth=true >"$T/etcd$i.log" 2>&1 &
	etcd_pids="$etcd_pids $!"
done
direct_healthy() {
	timeout 30 "$ETCDWIZ" status -f "$CF" --direct --once -o json >"$T/direct.json" 2>&1 &&
		[ "$(jq -r .badge "$T/direct.json")" = HEALTHY ]
}
wait_for 60 direct_healthy
tap_is "the 3-member etcd on loopback is HEALTHY when read directly" HEALTHY \
	"$(jq -r .badge "$T/direct.json" 2>/dev/null)"

# --- in a terminal: tmux with its own socket ---
screen() { tmux -L "$SOCK" capture-pane -p -J -S - -t st 2>/dev/null; }
keys() { tmux -L "$SOCK" send-keys -t st "$@"; }
# run NAME ARGS...: the binary in a fresh pane; its exit status goes to $T/NAME.rc.
run() {
	local name=$1
	shift
	local i
	rm -f "$T/$name.rc"
	tmux -L "$SOCK" kill-server >/dev/null 2>&1
	# A server still going away can take the new session with it: retry.
	for i in 1 2 3 4 5; do
		tmux -L "$SOCK" -f /dev/null new-session -d -s st -x 220 -y 50 \
			"env TERM=xterm-256color LC_ALL=C.UTF-8 ASAN_OPTIONS=log_path=$T/asan UBSAN_OPTIONS=log_path=$T/ubsan '$ETCDWIZ' status -f '$CF' --metrics-port 0 $* 2>'$T/$name.err'; echo \$? >'$T/$name.rc'; sleep 600" \
			2>/dev/null && tmux -L "$SOCK" has-session -t st 2>/dev/null && return 0
		sleep 0.5
	done
	echo "# cannot start tmux for $name"
	return 1
}
# wait_text SECONDS TEXT: until the pane shows TEXT (a fixed string).
wait_text() {
	local i
	for i in $(seq "$(($1 * 5))"); do
		screen | grep -qF -- "$2" && return 0
		sleep 0.2
	done
	echo "# timed out after $1 s waiting for: $2"
	screen | tail -20 | sed 's/^/# /'
	return 1
}
wait_rc() {
	local i
	for i in $(seq "$(($2 * 5))"); do
		[ -s "$T/$1.rc" ] && return 0
		sleep 0.2
	done
	echo "# $1: no exit after $2 s; the terminal shows:"
	screen | grep -v '^$' | tail -20 | sed 's/^/# /'
	return 1
}
# answer TEXT: wait for a prompt with TEXT, then type the answer (and Enter).
answer() {
	wait_text 30 "$1" || return 1
	sleep 0.3
	keys -l "$2"
	keys Enter
}
count() { screen | grep -cF -- "$1"; }
PWQ="Password for $U@"
SUDOQ="sudo password for $U on"

# 1. --once -o json: each secret asked once for all three members.
run once --once -o json ">'$T/once.json'"
answer "$PWQ" "$PW" && answer "$SUDOQ" "$PW"
wait_rc once 60
tap_is "--once in a terminal: exit 0 after the questions" 0 "$(cat "$T/once.rc" 2>/dev/null)"
tap_is "the login password is asked once for the three members" 1 "$(count "$PWQ")"
tap_is "the sudo password is asked once for the three members" 1 "$(count "$SUDOQ")"
tap_grep "the question says the answer is tried on every host" \
	"Password for $U@etcd0[123] \\(tried on every host that logs in as $U\\)" <(screen)
tap_is "HEALTHY, all three members up" "HEALTHY 3 0" \
	"$(jq -r '"\(.badge) \(.members_up) \(.members_unknown)"' "$T/once.json" 2>/dev/null)"
tap_is "every member's host check ran through sudo with that password" 3 \
	"$(jq '[.members[] | select(.host.etcd_pod == "running")] | length' "$T/once.json" 2>/dev/null)"
if screen | grep -qF "$PW" || grep -qF "$PW" "$T/once.json" "$T/once.err"; then
	tap_not_ok "the password is never shown or written"
else
	tap_ok "the password is never shown or written"
fi

# 2. Full screen: the questions come before the screen, then the dashboard.
run dash
answer "$PWQ" "$PW" && answer "$SUDOQ" "$PW"
wait_text 60 "3 of 3 members up, leader"
tap_grep "the dashboard opens after the questions and shows HEALTHY" 'HEALTHY' <(screen)
screen >"$T/dash.screen"
keys q
wait_rc dash 20
tap_is "the dashboard quits on q with exit 0" 0 "$(cat "$T/dash.rc" 2>/dev/null)"
tap_is "full screen: the password was asked once" 1 "$(count "$PWQ")"
tap_is "full screen: the sudo password was asked once" 1 "$(count "$SUDOQ")"

# 3. A mistyped password: asked again once (for the host that refused it),
# and the other hosts take the new answer without asking.
run typo --once -o json ">'$T/typo.json'"
answer "$PWQ" "wrong-$PW" && answer "That was not accepted for $U@" "$PW" && answer "$SUDOQ" "$PW"
wait_rc typo 60
tap_is "a mistyped password: exit 0" 0 "$(cat "$T/typo.rc" 2>/dev/null)"
tap_is "... two password questions in all, not one per host" 2 "$(count "$PWQ")"
tap_is "... HEALTHY with all three up" "HEALTHY 3" \
	"$(jq -r '"\(.badge) \(.members_up)"' "$T/typo.json" 2>/dev/null)"

# 4. A refused password, and no answer when asked again: unknown, not down.
run refused --once -o json ">'$T/refused.json'"
answer "$PWQ" "wrong-$PW"
# Each host asks again once (it refused the only answer); end of input (^D)
# to each. Bounded: at most 100 looks, 3 hosts.
sent=0
for _ in $(seq 100); do
	[ -s "$T/refused.rc" ] && break
	if [ "$(count "That was not accepted")" -gt "$sent" ] && [ "$sent" -lt 3 ]; then
		sleep 0.3
		keys C-d
		sent=$((sent + 1))
	fi
	sleep 0.2
done
wait_rc refused 60
tap_is "a refused password: --once exits 3 (nothing observed), not 2" 3 "$(cat "$T/refused.rc" 2>/dev/null)"
tap_is "the badge is UNKNOWN, 0 of 3 observed, not NO QUORUM" "UNKNOWN 0 of 3 members observed" \
	"$(jq -r '"\(.badge) \(.reason)"' "$T/refused.json" 2>/dev/null)"
tap_is "every member is unknown: cannot log in to 127.0.0.1" \
	"unknown:cannot log in to 127.0.0.1 unknown:cannot log in to 127.0.0.1 unknown:cannot log in to 127.0.0.1" \
	"$(jq -r '[.members[] | "\(.role):\(.unknown_reason)"] | join(" ")' "$T/refused.json" 2>/dev/null)"
tap_is "no etcdMembersDown or etcdInsufficientMembers alert" 0 \
	"$(jq '[.alerts[] | select(.name == "etcdMembersDown" or .name == "etcdInsufficientMembers")] | length' "$T/refused.json" 2>/dev/null)"

# 5. No terminal: nothing is asked, and the same: unknown, exit 3.
setsid -w timeout 60 "$ETCDWIZ" status -f "$CF" --metrics-port 0 --once </dev/null >"$T/notty.txt" 2>"$T/notty.err"
tap_is "no terminal: --once exits 3" 3 $?
tap_grep "... the table says UNKNOWN (0 of 3 members observed)" \
	'^etcd cluster status-ssh: UNKNOWN \(0 of 3 members observed\)' "$T/notty.txt"
tap_grep "... each member's row says it cannot log in to its host" \
	'^etcd01 .* unknown .* cannot log in to 127\.0\.0\.1: ssh: etcd01: authentication as' "$T/notty.txt"
if grep -qE 'NO QUORUM|etcdMembersDown|Password for' "$T/notty.txt" "$T/notty.err"; then
	tap_not_ok "... no NO QUORUM, no members-down alert, no question"
	sed 's/^/# /' "$T/notty.txt" "$T/notty.err"
else
	tap_ok "... no NO QUORUM, no members-down alert, no question"
fi

reports=$(cat "$T"/asan.* "$T"/ubsan.* 2>/dev/null | head -40)
tap_is "no sanitizer report from the runs in the terminal" "" "$reports"
