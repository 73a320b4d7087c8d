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
