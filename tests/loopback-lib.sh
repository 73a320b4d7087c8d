# Sourced by the tests that run real servers on loopback (etcd, sshd) after
# tap.sh: free ports and the etcd processes they start, stopped on exit.

# port_free PORT [ADDR]: nothing listens there.
port_free() { ! (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }

# free_port [TAKEN...]: a free port on 127.0.0.1 that is none of TAKEN.
free_port() {
	local p t ok
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
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
