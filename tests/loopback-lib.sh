# Sourced by the tests that run real servers on loopback (etcd, sshd) after
# tap.sh: free ports and the etcd processes they start, stopped on exit.

# port_free PORT [ADDR]: nothing listens there.
port_free() { ! (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }

# free_port [TAKEN...]: a free port on 127.0.0.1 that is none of TAKEN,
# below the kernel's ephemeral range: a port there can be taken by any
# outgoing connection between this check and the server's bind (seen once
# in CI: etcd's metrics port, "bind: address already in use").
free_port() {
	local p t ok low
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
	[ "$low" -gt 21000 ] 2>/dev/null || low=32768
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % (low - 20000)))
		ok=1
		for t in "$@"; do [ "$p" != "$t" ] || ok=0; done
		[ "$ok" = 1 ] && port_free "$p" && { echo "$p"; return 0; }
	done
	return 1
}

# Every etcd a test starts goes into etcd_pids ("$!" after starting it);
# they are stopped (TERM, then KILL after 5 s) when the test ends or when it
# calls stop_etcd.
etcd_pids=""
stop_etcd() {
	[ -n "$etcd_pids" ] || return 0
	kill $etcd_pids 2>/dev/null
	for _ in $(seq 50); do kill -0 $etcd_pids 2>/dev/null || break; sleep 0.1; done
	kill -9 $etcd_pids 2>/dev/null
	wait $etcd_pids 2>/dev/null
	etcd_pids=""
}
tap_on_exit stop_etcd

# loopback_sshd DIR CONFIG-LINE...: a throwaway sshd on 127.0.0.1 at a free
# random port, host key DIR/host, keys from DIR/authorized_keys, its log in
# DIR/sshd.log; sets port (empty when it did not start) and sshd_pid, and
# stops it (and its per-connection children) when the test ends.
loopback_sshd() {
	local dir=$1 p
	shift
	port="" sshd_pid=""
	for _ in $(seq 10); do
		p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 + 20000 ))
		printf '%s\n' "Port $p" "ListenAddress 127.0.0.1" "HostKey $dir/host" \
			"AuthorizedKeysFile $dir/authorized_keys" "PidFile none" "StrictModes no" "UsePAM no" \
			"$@" >"$dir/sshd_config"
		: >"$dir/sshd.log"
		"${SSHD:-/usr/sbin/sshd}" -D -f "$dir/sshd_config" -E "$dir/sshd.log" &
		sshd_pid=$!
		for _ in $(seq 50); do grep -q 'Server listening' "$dir/sshd.log" && break; sleep 0.1; done
		grep -q 'Server listening' "$dir/sshd.log" && { port=$p; break; }
		kill "$sshd_pid" 2>/dev/null; wait "$sshd_pid" 2>/dev/null
	done
	tap_on_exit "pkill -P $sshd_pid 2>/dev/null; kill $sshd_pid 2>/dev/null"
	[ -n "$port" ] || { echo "# sshd did not start:"; sed 's/^/# /' "$dir/sshd.log"; }
}

# throwaway_user PREFIX NAME: a local user (PREFIX and the test's pid) whose
# login is by a random password and whose sudo asks for it; sets U and PW;
# removed with its sudoers file when the test ends. Skips the test when it
# cannot be made.
throwaway_user() {
	U=$1$$
	PW=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	useradd -m -s /bin/sh "$U" || tap_skip_all "cannot create a throwaway user"
	tap_on_exit "userdel -r $U >/dev/null 2>&1"
	echo "$U:$PW" | chpasswd
	printf '%s ALL=(ALL) ALL\n' "$U" >"/etc/sudoers.d/etcdwiz-$2-$$"
	chmod 440 "/etc/sudoers.d/etcdwiz-$2-$$"
	tap_on_exit "rm -f /etc/sudoers.d/etcdwiz-$2-$$"
}
