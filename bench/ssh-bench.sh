#!/bin/bash
# Benchmark (not a test; issue #4): on labs of 3, 5 and 7 hosts, run `true`
# on every host and upload a 1 MiB file to every host, with etcdwiz's
# transport (bench/ssh-bench: one process, one loop, all hosts at once)
# against OpenSSH in the loop an admin would write (`for h in ...; do ssh
# root@$h true; done`, then the same with scp), a fresh connection per host
# per command; OpenSSH once with its defaults and once with the key exchange
# libssh2 uses (curve25519-sha256). As a reference for how much of the
# difference is only parallelism, OpenSSH also runs once with every host at
# once (`ssh ... & ... wait`, defaults). All in the same run on the same lab,
# rounds alternating which goes first; prints the median of ROUNDS rounds
# (after one warm-up round that is not counted) and the ratios.
#
# Usage: bench/ssh-bench.sh [ROUNDS [SIZES...]]     (default: 5 rounds; 3 5 7)
#   ETCDWIZ=path/to/etcdwiz of a build without --enable-sanitizers; its
#   build tree holds bench/ssh-bench (or set SSH_BENCH). Root only: it
#   brings labs up and down (and refuses to touch a lab that is up already).
BENCH_NAME=ssh-bench
. "$(dirname "$0")/lab-bench-lib.sh"
sshbench=${SSH_BENCH:-$build/bench/ssh-bench}
[ -x "$sshbench" ] || die "no ssh-bench at $sshbench; run make in the build tree, or set SSH_BENCH"
for t in ssh scp; do command -v $t >/dev/null || die "$t missing: apt-get install openssh-client"; done

field() { sed -n "s/.*[[:space:]]$1=\([0-9]*\).*/\1/p"; }

head -c 1048576 /dev/urandom >"$tmp/1MiB"
: >"$tmp/failures"
sum=$(sha256sum <"$tmp/1MiB" | cut -c1-64)
# Neither side may use an agent; OpenSSH reads no user configuration (no
# ControlMaster multiplexing): a plain connection per command.
unset SSH_AUTH_SOCK
SSH_OPTS=(-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$LAB/known_hosts"
	-o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -i "$LAB/id_ed25519" -o ConnectTimeout=10
	-o LogLevel=ERROR)

# A round that fails on a host is reported, counted and run again (at most
# 3 times); only complete rounds are timed.
fail() { echo "# $1 round failed: $2; running it again" >&2; echo "$1" >>"$tmp/failures"; return 1; }
etcdwiz_round() {	# appends to $tmp/w_*
	local out
	out=$("$sshbench" "$LAB/cluster.yaml" "$tmp/1MiB") || { fail etcdwiz "ssh-bench exit $?"; return 1; }
	echo "$out" | field connect_exec_ms >>"$tmp/w_exec"
	echo "$out" | field upload_ms >>"$tmp/w_up"
	echo "$out" | field connect_upload_ms >>"$tmp/w_fresh"
	echo "$out" | field upload_1b_ms >>"$tmp/w_1b"
	echo "$out" | field stream_ms >>"$tmp/w_stream"
	echo "# etcdwiz  $out" >&2
}
openssh_loops() {	# openssh_loops SIDE [SSH OPTION...]: appends to $tmp/SIDE_*
	local side=$1 t0 t1 t2 h
	shift
	t0=$(now_ms)
	for h in $hosts; do ssh "${SSH_OPTS[@]}" "$@" "root@$h" true || { fail "$side" "ssh $h exit $?"; return 1; }; done
	t1=$(now_ms)
	for h in $hosts; do
		scp -q "${SSH_OPTS[@]}" "$@" "$tmp/1MiB" "root@$h:/tmp/openssh-bench.bin" ||
			{ fail "$side" "scp $h exit $?"; return 1; }
	done
	t2=$(now_ms)
	echo $((t1 - t0)) >>"$tmp/${side}_exec"
	echo $((t2 - t1)) >>"$tmp/${side}_up"
	echo $((t2 - t1 - (t1 - t0))) >>"$tmp/${side}_bytes"
	echo "# $side  ssh_loop_ms=$((t1 - t0)) scp_loop_ms=$((t2 - t1))" >&2
}
# As an admin runs them: OpenSSH's defaults (key exchange sntrup761x25519,
# which libssh2 1.10 does not offer) ...
openssh_round() { openssh_loops o; }
# ... and with the key exchange libssh2 negotiates, to show what of the
# difference is the key exchange rather than the parallelism.
openssh25519_round() { openssh_loops c -o KexAlgorithms=curve25519-sha256; }
# Not what the admin of issue #4 writes, but the fair reference for the
# parallelism: every host at once (`cmd & ... wait`), OpenSSH's defaults.
waitall() {	# waitall PID...: 0 when every one exited 0 (waits for all)
	local p rc=0
	for p in "$@"; do wait "$p" || rc=$?; done
	return "$rc"
}
opensshpar_round() {	# appends to $tmp/p_*
	local t0 t1 t2 h pids=()
	t0=$(now_ms)
	for h in $hosts; do ssh "${SSH_OPTS[@]}" "root@$h" true & pids+=($!); done
	waitall "${pids[@]}" || { fail p "a parallel ssh exited $?"; return 1; }
	t1=$(now_ms)
	pids=()
	for h in $hosts; do
		scp -q "${SSH_OPTS[@]}" "$tmp/1MiB" "root@$h:/tmp/openssh-bench.bin" & pids+=($!)
	done
	waitall "${pids[@]}" || { fail p "a parallel scp exited $?"; return 1; }
	t2=$(now_ms)
	echo $((t1 - t0)) >>"$tmp/p_exec"
	echo $((t2 - t1)) >>"$tmp/p_up"
	echo "# parallel  ssh_ms=$((t1 - t0)) scp_ms=$((t2 - t1))" >&2
}

echo "ssh-bench: \`true\` and a 1 MiB upload on every lab host; median of $rounds rounds (+1 warm-up)"
echo "$(ssh -V 2>&1); libssh2 $(pkg-config --modversion libssh2 2>/dev/null || echo '?'); $(nproc) CPU(s)"
for n in $sizes; do
	"$etcdwiz" lab up -n "$n" -q >"$tmp/up.log" 2>&1 || { cat "$tmp/up.log" >&2; die "lab up -n $n failed"; }
	hosts=$(seq -f '198.51.100.%g' 11 $((10 + n)))
	rm -f "$tmp"/[wocp]_*
	for side in etcdwiz openssh openssh25519 opensshpar; do	# warm-up, not counted
		for _ in 1 2 3; do "${side}_round" && break; done
	done
	rm -f "$tmp"/[wocp]_*
	for r in $(seq "$rounds"); do
		order="etcdwiz openssh openssh25519 opensshpar"
		[ $((r % 2)) -eq 1 ] || order="opensshpar openssh25519 openssh etcdwiz"
		for side in $order; do
			ok=
			for _ in 1 2 3; do "${side}_round" && { ok=1; break; }; done
			[ -n "$ok" ] || die "$side failed 3 times in a row on $n hosts"
		done
	done
	# scp's copies arrived intact (etcdwiz checks its own: size and SHA-256)
	for h in $hosts; do
		got=$(ssh "${SSH_OPTS[@]}" "root@$h" "sha256sum < /tmp/openssh-bench.bin && rm -f /tmp/openssh-bench.bin" | cut -c1-64)
		[ "$got" = "$sum" ] || die "scp's copy on $h differs"
	done
	"$etcdwiz" lab down >/dev/null 2>&1
	we=$(median <"$tmp/w_exec") oe=$(median <"$tmp/o_exec")
	wu=$(median <"$tmp/w_up") wf=$(median <"$tmp/w_fresh") ou=$(median <"$tmp/o_up")
	w1=$(median <"$tmp/w_1b") ws=$(median <"$tmp/w_stream") ob=$(median <"$tmp/o_bytes")
	ce=$(median <"$tmp/c_exec") cu=$(median <"$tmp/c_up")
	pe=$(median <"$tmp/p_exec") pu=$(median <"$tmp/p_up")
	printf '%s\n' "$n $we $oe $wu $wf $ou $w1 $ws $ob $ce $cu $pe $pu" >>"$tmp/table"
done

echo
echo "\`true\` on every host (etcdwiz: connect + auth + exec, all hosts at once; ssh: a loop)"
printf '%-6s %12s %12s %8s %18s %8s %16s %8s\n' hosts "etcdwiz ms" "ssh loop ms" ratio \
	"ssh, curve25519 ms" ratio "ssh parallel ms" ratio
while read -r n we oe _ _ _ _ _ _ ce _ pe _; do
	printf '%-6s %12d %12d %8s %18d %8s %16d %8s\n' "$n" "$we" "$oe" "$(ratio "$oe" "$we")" \
		"$ce" "$(ratio "$ce" "$we")" "$pe" "$(ratio "$pe" "$we")"
done <"$tmp/table"
echo
echo "1 MiB upload to every host, a new connection each (etcdwiz: connect + atomic upload, all hosts at once; scp: a loop)"
printf '%-6s %12s %12s %8s %18s %8s %16s %8s\n' hosts "etcdwiz ms" "scp loop ms" ratio \
	"scp, curve25519 ms" ratio "scp parallel ms" ratio
while read -r n _ _ _ wf ou _ _ _ _ cu _ pu; do
	printf '%-6s %12d %12d %8s %18d %8s %16d %8s\n' "$n" "$wf" "$ou" "$(ratio "$ou" "$wf")" \
		"$cu" "$(ratio "$cu" "$wf")" "$pu" "$(ratio "$pu" "$wf")"
done <"$tmp/table"
echo
echo "The bytes alone, connections excluded: etcdwiz on its open sessions (atomic upload; of it, a"
echo "1-byte atomic upload and the raw stream into cat >/dev/null) vs scp loop minus ssh loop"
printf '%-6s %14s %14s %14s %14s %8s\n' hosts "etcdwiz ms" "1-byte ms" "stream ms" "scp-ssh ms" ratio
while read -r n _ _ wu _ _ w1 ws ob _ _ _ _; do
	printf '%-6s %14d %14d %14d %14d %8s\n' "$n" "$wu" "$w1" "$ws" "$ob" "$(ratio "$ob" "$wu")"
done <"$tmp/table"
echo "ratio = OpenSSH time / etcdwiz time (higher: etcdwiz faster)"
echo "rounds run again after a failure: etcdwiz $(grep -c '^etcdwiz$' "$tmp/failures" || true)," \
	"OpenSSH $(grep -c '^[ocp]$' "$tmp/failures" || true)"
