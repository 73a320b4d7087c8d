#!/bin/sh
# The SSH transport against throwaway OpenSSH servers on 127.0.0.1: each
# sshd gets its own host keys, config, authorized_keys and a random port,
# runs with -D in the background and is killed on exit. Local throwaway
# users (for password, sudo with and without a password) are created only
# for the run and removed on exit. Needs root; skips otherwise.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (throwaway sshd and local users)"
SSHD=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || tap_skip_all "sshd not found (apt-get install openssh-server)"
command -v ssh-keygen >/dev/null 2>&1 || tap_skip_all "ssh-keygen not found (apt-get install openssh-client)"
DRIVER=${TOP_BUILDDIR:-.}/tests/ssh-driver
[ -x "$DRIVER" ] || tap_skip_all "tests/ssh-driver is not built"

unset SSH_AUTH_SOCK
T=$TAP_TMP
chmod 755 "$T"
RUN="timeout 120"	# every driver run is bounded
FAILED_START=""

tap_need_sshd_dir

# start_sshd NAME [PORT]: own keys/config, pid in $T/NAME/pid, port in $T/NAME/port
start_sshd() {
	d=$T/$1
	mkdir -p "$d"
	[ -f "$d/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "$1" -f "$d/host_ed25519"
	tries=0
	while [ $tries -lt 10 ]; do
		tries=$((tries + 1))
		port=${2:-$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 + 20000 ))}
		cat >"$d/sshd_config" <<-EOF
		Port $port
		ListenAddress 127.0.0.1
		HostKey $d/host_ed25519
		AuthorizedKeysFile $T/authorized_keys
		PidFile none
		StrictModes no
		UsePAM no
		PasswordAuthentication yes
		KbdInteractiveAuthentication no
		PermitRootLogin prohibit-password
		AllowTcpForwarding yes
		MaxStartups 50
		LogLevel VERBOSE
		EOF
		: >"$d/log"
		"$SSHD" -D -f "$d/sshd_config" -E "$d/log" &
		echo $! >"$d/pid"
		i=0
		while [ $i -lt 50 ]; do
			grep -q 'Server listening' "$d/log" && { echo "$port" >"$d/port"; return 0; }
			kill -0 "$(cat "$d/pid")" 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		kill "$(cat "$d/pid")" 2>/dev/null
		wait "$(cat "$d/pid")" 2>/dev/null
		[ -n "$2" ] && break
	done
	FAILED_START="$FAILED_START $1"
	return 1
}

# All processes of one sshd (the listener and its per-connection children).
sshd_tree() {
	todo=$1
	while [ -n "$todo" ]; do
		set -- $todo
		todo=""
		for p in "$@"; do
			echo "$p"
			todo="$todo $(pgrep -P "$p" 2>/dev/null | tr '\n' ' ')"
		done
		todo=$(echo $todo)
	done
}

stop_sshd() {
	[ -f "$T/$1/pid" ] || return 0
	for p in $(sshd_tree "$(cat "$T/$1/pid")"); do
		kill -CONT "$p" 2>/dev/null
		kill "$p" 2>/dev/null
	done
	wait "$(cat "$T/$1/pid")" 2>/dev/null
	rm -f "$T/$1/pid"
}
tap_on_exit "stop_sshd a; stop_sshd b"

fp_of() { ssh-keygen -lf "$1" | awk '{print $2}'; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$2" | head -1; }

ssh-keygen -q -t ed25519 -N '' -C client -f "$T/client"
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$T/stranger"
cp "$T/client.pub" "$T/authorized_keys"
chmod 644 "$T/authorized_keys"

start_sshd a || tap_skip_all "cannot start a test sshd: $(tail -3 "$T/a/log")"
PA=$(cat "$T/a/port")
HA=127.0.0.1:$PA
FPA=$(fp_of "$T/a/host_ed25519.pub")
KH=$T/known_hosts
echo "[127.0.0.1]:$PA $(cut -d' ' -f1,2 "$T/a/host_ed25519.pub")" >"$KH"
D="$RUN $DRIVER -a -i $T/client -k $KH"

tap_plan 41

# ---- exec ----
$D -H "$HA" exec 'echo out; echo err >&2; exit 3' >"$T/o" 2>"$T/e"
tap_is "exec: exit status 3" "3" "$(field exit "$T/e")"
tap_is "exec: stdout captured" "out" "$(cat "$T/o")"
tap_grep "exec: stderr captured" '^err$' "$T/e"

$D -H "$HA" exec 'kill -TERM $$' >"$T/o" 2>"$T/e"
tap_is "exec: death by signal reported" "TERM" "$(field signal "$T/e")"

$D -t 1500 -H "$HA" exec 'sleep 37.25' >"$T/o" 2>"$T/e"
ms=$(field ms "$T/e")
if [ "$(field code "$T/e")" = TIMEOUT ] && [ "${ms:-99999}" -lt 5000 ]; then
	tap_ok "exec: a 1.5 s timeout stops a long command (${ms} ms)"
else
	tap_not_ok "exec: timeout"; sed 's/^/# /' "$T/e"
fi
if wait_for 15 sh -c '! pgrep -f "sleep 37[.]25" >/dev/null'; then
	tap_ok "exec: the timed-out remote command is killed by the remote guard"
else
	tap_not_ok "exec: remote command still running after timeout"
fi

# ---- quoting torture, through the login shell and sh -c ----
nl='
'
set -- "a b" "it's" '"dq"' '$(touch /tmp/etcdwiz-pwned)' '`touch /tmp/etcdwiz-pwned`' \
	'*' '~' '$HOME' 'x;y' "new${nl}line" '' '\' '!x' '-n' 'if' "  lead" "tab	x" "%s" 'a=b'
printf '[%s]\n' "$@" >"$T/expect"
$D -H "$HA" exec-argv "$@" >"$T/o" 2>"$T/e"
if cmp -s "$T/expect" "$T/o" && [ ! -e /tmp/etcdwiz-pwned ]; then
	tap_ok "quoting: every value comes back verbatim over SSH"
else
	tap_not_ok "quoting over SSH"; diff "$T/expect" "$T/o" | sed 's/^/# /'
fi

# ---- uploads ----
mkdir -p "$T/dst"
head -c 67108864 /dev/urandom >"$T/big"
$D -H "$HA" upload "$T/big" "$T/dst/big.bin" 0640 >"$T/o" 2>"$T/e"
if [ "$(field code "$T/e")" = OK ] &&
	[ "$(sha256sum <"$T/big")" = "$(sha256sum <"$T/dst/big.bin")" ]; then
	tap_ok "upload: 64 MiB arrive intact (sha256) in $(field ms "$T/e") ms"
else
	tap_not_ok "upload 64 MiB"; sed 's/^/# /' "$T/e"
fi
tap_is "upload: mode set" "640" "$(stat -c %a "$T/dst/big.bin" 2>/dev/null)"

printf 'old\n' >"$T/dst/big.bin"
$DRIVER -a -i "$T/client" -k "$KH" -H "$HA" upload "$T/big" "$T/dst/big.bin" 0640 >/dev/null 2>"$T/e" &
dpid=$!
i=0
while [ $i -lt 500 ]; do
	f=$(find "$T/dst" -name '.big.bin.*' -size +1k 2>/dev/null | head -1)
	[ -n "$f" ] && break
	sleep 0.01
	i=$((i + 1))
done
kill -9 $dpid 2>/dev/null
wait $dpid 2>/dev/null
sum=$(sha256sum <"$T/dst/big.bin")
if [ -n "$f" ] && { [ "$sum" = "$(printf 'old\n' | sha256sum)" ] || [ "$sum" = "$(sha256sum <"$T/big")" ]; }; then
	tap_ok "upload: killed mid-transfer, the target is the old file or the new one"
else
	tap_not_ok "upload: kill mid-transfer (temp seen: ${f:-none})"
fi
stray=$(ls -A "$T/dst" | grep -v '^\.' | grep -vx 'big.bin')
tap_is "upload: no temp file without a leading dot" "" "$stray"
if wait_for 15 sh -c "! ls -A '$T/dst' | grep -q '^\\.big'"; then
	tap_ok "upload: the interrupted temp file is removed on the host"
else
	tap_not_ok "upload: temp file left: $(ls -A "$T/dst")"
fi

$D -H "$HA" upload "$T/a/port" "$T/no-such-dir/f.conf" 0644 >"$T/o" 2>"$T/e"
if [ "$(field code "$T/e")" = NOTFOUND ] &&
	grep -qF "the directory $T/no-such-dir does not exist" "$T/e" && ! grep -q mktemp "$T/e" &&
	[ ! -e "$T/no-such-dir" ]; then
	tap_ok "upload: a missing directory is named (not mktemp's error), nothing made"
else
	tap_not_ok "upload into a missing directory"; sed 's/^/# /' "$T/e"
fi
$D -H "$HA" read "$T/a/port" >"$T/o" 2>"$T/e"
tap_is "read: file contents" "$PA" "$(cat "$T/o")"
$D -H "$HA" read "$T/nonexistent" >"$T/o" 2>"$T/e"
tap_is "read: a missing file is a remote error" "REMOTE" "$(field code "$T/e")"

# ---- direct-tcpip ----
$D -H "$HA" tunnel 127.0.0.1 "$PA" junk >"$T/o" 2>"$T/e"
tap_grep "tunnel: bytes from a TCP service behind the host" '^SSH-2\.0-OpenSSH' "$T/o"

# ---- host keys ----
: >"$T/kh-empty"
$RUN "$DRIVER" -a -i "$T/client" -k "$T/kh-empty" -H "$HA" exec true >"$T/o" 2>"$T/e"
tap_is "hostkey: unknown key refused without a prompt" "HOSTKEY" "$(field code "$T/e")"
tap_check "hostkey: refusal shows type and fingerprint" grep -qF "ssh-ed25519 host key $FPA" "$T/e"
tap_is "hostkey: refusal writes nothing" "0" "$(wc -c <"$T/kh-empty")"

$RUN "$DRIVER" -a -i "$T/client" -k "$T/kh-empty" -P "$FPA" -H "$HA" exec true >"$T/o" 2>"$T/e"
tap_is "hostkey: a pinned fingerprint is trusted" "OK" "$(field code "$T/e")"
$RUN "$DRIVER" -a -i "$T/client" -k "$T/kh-empty" -P "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" -H "$HA" exec true >"$T/o" 2>"$T/e"
tap_is "hostkey: a different pinned fingerprint is refused" "HOSTKEY" "$(field code "$T/e")"

$RUN "$DRIVER" -a -i "$T/client" -k "$T/kh-new" --answer save -H "$HA" exec true >"$T/o" 2>"$T/e"
if grep -q "hostkey-prompt h1 ssh-ed25519 $FPA" "$T/e" && grep -q '^|1|' "$T/kh-new" &&
	ssh-keygen -F "[127.0.0.1]:$PA" -f "$T/kh-new" >/dev/null; then
	tap_ok "hostkey: accept-and-save writes a hashed line ssh-keygen -F finds"
else
	tap_not_ok "hostkey: accept and save"; sed 's/^/# /' "$T/e"
fi

cp "$KH" "$T/kh-hashed"
ssh-keygen -q -H -f "$T/kh-hashed" >/dev/null 2>&1
rm -f "$T/kh-hashed.old"
$RUN "$DRIVER" -a -i "$T/client" -k "$T/kh-hashed" -H "$HA" exec true >"$T/o" 2>"$T/e"
if grep -q '^|1|' "$T/kh-hashed" && [ "$(field code "$T/e")" = OK ]; then
	tap_ok "hostkey: a hashed entry (ssh-keygen -H) matches"
else
	tap_not_ok "hostkey: hashed entry"; sed 's/^/# /' "$T/e"
fi

{ echo "@cert-authority *.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
  echo "garbage-without-a-key"
  echo "otherhost $(cut -d' ' -f1,2 "$T/stranger.pub")"
  cat "$KH"; } >"$T/kh-mixed"
$RUN "$DRIVER" -a -i "$T/client" -k "$T/kh-mixed" -H "$HA" exec true >"$T/o" 2>"$T/e"
tap_is "hostkey: lines libssh2 cannot parse do not hide later entries" "OK" "$(field code "$T/e")"

# ---- authentication ----
$D -H "$HA" -i "$T/stranger" exec true >"$T/o" 2>"$T/e"
tap_is "auth: a key not in authorized_keys fails as AUTH" "AUTH" "$(field code "$T/e")"

# ---- parallel sessions in one loop ----
# Proof of overlap, whatever the machine's speed or load: each command
# waits (at most 60 s) until all five have started; run one after another,
# the first would wait in vain.
$D -n 5 -H "$HA" exec "date +%s%N >>$T/par-start; i=0; while [ \$(wc -l <$T/par-start) -lt 5 ]; do i=\$((i+1)); [ \$i -ge 600 ] && { echo alone >>$T/par-end; exit 0; }; sleep 0.1; done; echo together >>$T/par-end" >"$T/o" 2>"$T/e"
n_ok=$(grep -c 'code=OK exit=0' "$T/e")
n_together=$(grep -c together "$T/par-end" 2>/dev/null)
if [ "$n_ok" = 5 ] && [ "$n_together" = 5 ]; then
	tap_ok "parallel: 5 sessions in one loop run their commands at the same time"
else
	tap_not_ok "parallel: $n_ok ok, $n_together saw all five running"; sed 's/^/# /' "$T/e" | tail -20
fi

# ---- a host that stops answering mid-operation ----
if start_sshd b; then
	PB=$(cat "$T/b/port")
	echo "[127.0.0.1]:$PB $(cut -d' ' -f1,2 "$T/b/host_ed25519.pub")" >>"$KH"
	$D -K 1 -t 60000 -H "$HA" -H "127.0.0.1:$PB" exec 'sleep 3; echo done' >"$T/o" 2>"$T/e" &
	dpid=$!
	i=0
	while [ $i -lt 100 ] && [ -z "$(pgrep -P "$(cat "$T/b/pid")")" ]; do sleep 0.05; i=$((i + 1)); done
	sleep 1
	for p in $(sshd_tree "$(cat "$T/b/pid")"); do kill -STOP "$p" 2>/dev/null; done
	wait $dpid
	if grep -q '^result h2 code=UNREACHABLE' "$T/e" && grep -q '^result h1 code=OK exit=0' "$T/e"; then
		tap_ok "unreachable: a silent host is reported within its keepalive timeout, the other host finishes"
	else
		tap_not_ok "unreachable"; sed 's/^/# /' "$T/e"
	fi
	stop_sshd b

	start_sshd b "$PB"
	$D -t 60000 -H "127.0.0.1:$PB" exec 'sleep 5; echo done' >"$T/o" 2>"$T/e" &
	dpid=$!
	i=0
	while [ $i -lt 100 ] && [ -z "$(pgrep -P "$(cat "$T/b/pid")")" ]; do sleep 0.05; i=$((i + 1)); done
	sleep 1
	stop_sshd b
	wait $dpid
	ms=$(field ms "$T/e")
	if [ "$(field code "$T/e")" = UNREACHABLE ] && [ "${ms:-99999}" -lt 4000 ]; then
		tap_ok "unreachable: a host whose sshd is killed is reported at once (${ms} ms)"
	else
		tap_not_ok "unreachable (killed sshd)"; sed 's/^/# /' "$T/e"
	fi
else
	tap_not_ok "unreachable: cannot start the second sshd"
	tap_not_ok "unreachable: cannot start the second sshd"
fi

# ---- a changed host key: hard stop, with both fingerprints ----
stop_sshd a
mv "$T/a/host_ed25519" "$T/a/old_ed25519"
mv "$T/a/host_ed25519.pub" "$T/a/old_ed25519.pub"
ssh-keygen -q -t ed25519 -N '' -C a2 -f "$T/a/host_ed25519"
FPA2=$(fp_of "$T/a/host_ed25519.pub")
if start_sshd a "$PA"; then
	$RUN "$DRIVER" -a -i "$T/client" -k "$KH" -A --answer save -H "$HA" exec true >"$T/o" 2>"$T/e"
	if grep -q 'HOST KEY CHANGED' "$T/e" && grep -q "$FPA2" "$T/e" && grep -q "$FPA" "$T/e" &&
		grep -q "$KH line 1" "$T/e" && [ "$(field code "$T/e")" = HOSTKEY ]; then
		tap_ok "hostkey: a changed key stops with both fingerprints, file and line"
	else
		tap_not_ok "hostkey: changed key"; sed 's/^/# /' "$T/e"
	fi
	if ! grep -q hostkey-prompt "$T/e" && [ "$(wc -l <"$KH")" = 2 ]; then
		tap_ok "hostkey: neither --accept-new nor a prompt can bypass a changed key"
	else
		tap_not_ok "hostkey: changed key was bypassable"
	fi
	$RUN "$DRIVER" -a -i "$T/client" -k "$KH" -P "$FPA2" -H "$HA" exec true >"$T/o" 2>"$T/e"
	tap_is "hostkey: not even a pin of the new key bypasses known_hosts" "HOSTKEY" "$(field code "$T/e")"
	ssh-keygen -q -R "[127.0.0.1]:$PA" -f "$KH" >/dev/null 2>&1
	echo "[127.0.0.1]:$PA $(cut -d' ' -f1,2 "$T/a/host_ed25519.pub")" >>"$KH"
else
	tap_not_ok "hostkey: cannot restart sshd a"
	tap_not_ok "hostkey: cannot restart sshd a"
	tap_not_ok "hostkey: cannot restart sshd a"
fi

# ---- password, sudo: throwaway local users ----
U1=ewzpw$$
U2=ewznp$$
PW1=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
if command -v useradd >/dev/null 2>&1 && command -v chpasswd >/dev/null 2>&1 &&
	useradd -m -s /bin/sh "$U1" 2>/dev/null; then
	tap_on_exit "userdel -r $U1 >/dev/null 2>&1"
	echo "$U1:$PW1" | chpasswd
	printf '%s\n' "$PW1" >"$T/pw"
	printf 'wrong-%s\n' "$PW1" >"$T/badpw"
	chmod 600 "$T/pw" "$T/badpw"

	$D -H "$HA" -u "$U1" -i "$T/none" --password-file "$T/pw" -v exec 'id -un' >"$T/o" 2>"$T/e"
	if [ "$(cat "$T/o")" = "$U1" ] && ! grep -q "$PW1" "$T/e"; then
		tap_ok "auth: password login (asked through the callback, never logged)"
	else
		tap_not_ok "auth: password"; sed 's/^/# /' "$T/e" | grep -v debug
	fi
	$D -H "$HA" -u "$U1" -i "$T/none" --password-file "$T/badpw" exec true >"$T/o" 2>"$T/e"
	if [ "$(field code "$T/e")" = AUTH ] && grep -q 'password attempt 3' "$T/e"; then
		tap_ok "auth: a wrong password fails as AUTH after 3 asks"
	else
		tap_not_ok "auth: wrong password"; sed 's/^/# /' "$T/e"
	fi

	if command -v sudo >/dev/null 2>&1 && [ -d /etc/sudoers.d ] &&
		useradd -m -s /bin/sh "$U2" 2>/dev/null; then
		tap_on_exit "userdel -r $U2 >/dev/null 2>&1"
		# A password-less account is "locked" for sshd without PAM.
		echo "$U2:$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" | chpasswd
		SUDOERS=/etc/sudoers.d/etcdwiz-test-$$
		printf '%s ALL=(ALL) ALL\n%s ALL=(ALL) NOPASSWD: ALL\n' "$U1" "$U2" >"$SUDOERS"
		chmod 440 "$SUDOERS"
		tap_on_exit "rm -f $SUDOERS"

		$D -s -H "$HA" -u "$U1" --sudo-password-file "$T/pw" -v exec-root 'id -u' >"$T/o" 2>"$T/e"
		if [ "$(cat "$T/o")" = 0 ] && grep -q 'asked h1 sudo attempt 1' "$T/e" &&
			! grep -q "$PW1" "$T/e"; then
			tap_ok "sudo: with a password (asked, sent on stdin, never logged)"
		else
			tap_not_ok "sudo with password"; sed 's/^/# /' "$T/e" | grep -v debug
		fi
		$D -s -H "$HA" -u "$U1" --sudo-password-file "$T/badpw" exec-root 'id -u' >"$T/o" 2>"$T/e"
		ms=$(field ms "$T/e")
		if [ "$(field code "$T/e")" = AUTH ] && grep -q 'wrong password' "$T/e" && [ "${ms:-99999}" -lt 10000 ]; then
			tap_ok "sudo: a wrong password is reported as such, not a hang (${ms} ms)"
		else
			tap_not_ok "sudo: wrong password"; sed 's/^/# /' "$T/e"
		fi
		$D -s -H "$HA" -u "$U2" exec-root 'id -u' >"$T/o" 2>"$T/e"
		if [ "$(cat "$T/o")" = 0 ] && ! grep -q '^asked' "$T/e"; then
			tap_ok "sudo: NOPASSWD works without asking"
		else
			tap_not_ok "sudo: NOPASSWD"; sed 's/^/# /' "$T/e"
		fi
		$D -s -H "$HA" -u "$U1" --sudo-password-file "$T/pw" exec-argv-root "$@" >"$T/o" 2>"$T/e"
		if cmp -s "$T/expect" "$T/o" && [ ! -e /tmp/etcdwiz-pwned ]; then
			tap_ok "quoting: every value comes back verbatim through sudo"
		else
			tap_not_ok "quoting through sudo"; diff "$T/expect" "$T/o" | sed 's/^/# /'
		fi
		mkdir -m 700 "$T/rootonly"
		printf 'secret config\n' >"$T/small"
		$D -s -H "$HA" -u "$U1" --sudo-password-file "$T/pw" upload-root "$T/small" "$T/rootonly/f.conf" 0600 root:root >"$T/o" 2>"$T/e"
		if cmp -s "$T/small" "$T/rootonly/f.conf" &&
			[ "$(stat -c '%U:%G %a' "$T/rootonly/f.conf")" = "root:root 600" ]; then
			tap_ok "upload: a root-owned target through sudo, owner and mode set"
		else
			tap_not_ok "upload through sudo"; sed 's/^/# /' "$T/e"
		fi
	else
		for i in 1 2 3 4 5; do tap_skip "sudo is not installed (apt-get install sudo)"; done
	fi
else
	for i in 1 2 3 4 5 6 7; do tap_skip "cannot create a throwaway local user"; done
fi

# ---- DNS names: looked up in the background, bounded, never holding the others ----
FPA=$(fp_of "$T/a/host_ed25519.pub")	# its key now (the restart above made a new one)
$RUN "$DRIVER" -a -i "$T/client" -k "$T/kh-empty" -P "$FPA" -H "localhost:$PA" exec 'echo by-name' >"$T/o" 2>"$T/e"
if grep -q '^result h1 code=OK exit=0' "$T/e" && [ "$(cat "$T/o")" = by-name ]; then
	tap_ok "dns: a host given by name (localhost) is looked up and reached"
else
	tap_not_ok "dns: localhost by name"; sed 's/^/# /' "$T/e"
fi
SINK=${TOP_BUILDDIR:-.}/tests/udp-sink
printf 'nameserver 127.0.0.77\noptions timeout:5 attempts:1\n' >"$T/resolv.conf"
if [ "$(id -u)" = 0 ] && [ -x "$SINK" ] && command -v unshare >/dev/null &&
	unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && grep -q 127.0.0.77 /etc/resolv.conf' sh "$T/resolv.conf" 2>/dev/null; then
	# A DNS server on loopback that never answers: the name's lookup waits
	# past the 2 s connect timeout, while the host given by address (second
	# on the command line) is reached and done first.
	"$SINK" 127.0.0.77 53 30 >"$T/sink.out" 2>&1 &
	sinkpid=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q ready "$T/sink.out" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
	$RUN unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh "$T/resolv.conf" \
		"$DRIVER" -a -i "$T/client" -k "$T/kh-empty" -P "$FPA" -c 2000 \
		-H "slow-name.example:$PA" -H "127.0.0.1:$PA" exec 'echo fast' >"$T/o" 2>"$T/e"
	kill "$sinkpid" 2>/dev/null
	wait "$sinkpid" 2>/dev/null
	if [ "$(grep -o '^result h[12] code=[A-Z]*' "$T/e" | tr '\n' ' ')" = "result h2 code=OK result h1 code=UNREACHABLE " ]; then
		tap_ok "dns: a name whose DNS server does not answer does not hold the other host (it finished first)"
	else
		tap_not_ok "dns: slow lookup held the other host"; sed 's/^/# /' "$T/e"
	fi
	tap_grep "dns: the slow name is an error naming it and the bound" \
		'^error h1: h1: cannot resolve slow-name.example: no answer from DNS within 2 s' "$T/e"
else
	tap_skip "dns: needs root, unshare and a bind mount over /etc/resolv.conf"
	tap_skip "dns: needs root, unshare and a bind mount over /etc/resolv.conf"
fi

rm -f /tmp/etcdwiz-pwned
