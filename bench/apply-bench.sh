#!/bin/bash
# Benchmark (not a test; issue #5): wall time from fresh lab hosts to a
# healthy etcd cluster of 3, 5 and 7 members, `etcdwiz apply --yes` (all
# hosts at once, certificates made in the run: a fresh XDG_DATA_HOME)
# against bench/seed-by-hand.sh (the seed followed step by step with ssh and
# scp, host by host, openssl standing in for kubeadm's certificate phases).
# Between the two the lab is torn down and brought up again, so both start
# from identical fresh hosts; lab up is not timed. After each run, untimed,
# this machine's etcdctl checks with that run's certificates that every
# endpoint is healthy and the member list holds every member as started.
# Besides the totals it reports where the time goes: etcdwiz's read-only
# pass and each step of its changes (wall time and the lab's CPU time, from
# the lab's cgroup), seed-by-hand.sh's phases, and the CPU time spent on the
# lab hosts and on this machine by each side.
#
# Usage: bench/apply-bench.sh [ROUNDS [SIZES...]]    (default: 1 round; 3 5 7)
#   ETCDWIZ=path/to/etcdwiz of a build without --enable-sanitizers. Root
#   only: it brings labs up and down (and refuses to touch a lab that is up
#   already). With more than one round, rounds alternate which side goes
#   first and the medians are reported.
export LC_ALL=C
BENCH_NAME=apply-bench BENCH_DEFAULT_ROUNDS=1
. "$(dirname "$0")/lab-bench-lib.sh"
for t in ssh scp openssl etcdctl; do
	command -v $t >/dev/null || die "$t missing (apt-get install openssh-client openssl etcd-client)"
done
unset SSH_AUTH_SOCK

# CPU time, ms: of every lab host together (the lab's cgroup), and of this
# machine's side (the children of a subshell, from bash's `times`).
lab_cpu_stat() {	# cgroup v2's cpu.stat of the lab (the unified hierarchy on hybrid hosts)
	local cg
	for cg in /sys/fs/cgroup/unified/etcdwiz-lab /sys/fs/cgroup/etcdwiz-lab; do
		[ -r "$cg/cpu.stat" ] && { echo "$cg/cpu.stat"; return; }
	done
	echo /dev/null
}
lab_cpu_ms() {
	awk '$1 == "usage_usec" { u = $2 } END { printf "%d\n", u / 1000 }' "$(lab_cpu_stat)"
}
times_ms() {	# the children's line of `times` saved in FILE
	awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60000 + a[2] * 1000 } printf "%d\n", t }' "$1"
}
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

fresh_lab() {
	"$etcdwiz" lab down >/dev/null 2>&1
	"$etcdwiz" lab up -n "$n" -q >"$tmp/up.log" 2>&1 || { cat "$tmp/up.log" >&2; die "lab up -n $n failed"; }
}
healthy() {	# healthy PKI_ETCD_DIR: every endpoint healthy, every member started
	local pki=$1 eps h m
	eps=$(seq -s, -f 'https://198.51.100.%g:2379' 11 $((10 + n)))
	h=$(ETCDCTL_API=3 timeout 60 etcdctl --cacert "$pki/ca.crt" --cert "$pki/healthcheck-client.crt" \
		--key "$pki/healthcheck-client.key" --endpoints "$eps" endpoint health 2>&1 | grep -c ' is healthy' || true)
	m=$(ETCDCTL_API=3 timeout 60 etcdctl --cacert "$pki/ca.crt" --cert "$pki/healthcheck-client.crt" \
		--key "$pki/healthcheck-client.key" --endpoints "$eps" member list 2>&1 | grep -c ', started, ' || true)
	echo "# $2: $h of $n endpoints healthy, $m of $n members started" >&2
	[ "$h" -eq "$n" ] && [ "$m" -eq "$n" ]
}
run_etcdwiz() {
	local t0 t1 tc rc c0 c1
	fresh_lab
	c0=$(lab_cpu_ms)
	t0=$(now_ms)
	# Each output line stamped on arrival with the wall clock and the lab's
	# CPU time ($EPOCHREALTIME and a builtin read of cpu.stat: no process per
	# line), to split the time at "N host steps above will change.": before
	# it, apply's read-only pass over every step; after it, the changes,
	# step by step ("== Title (step)" ... the next "==" or RECAP).
	local cg k v cpu=0
	cg=$(lab_cpu_stat)
	{
		rc=0
		XDG_DATA_HOME="$tmp/xdg-$n-$r" LANGUAGE='' LC_ALL=C.UTF-8 stdbuf -oL \
			"$etcdwiz" apply --yes -f "$LAB/cluster.yaml" 2>&1 || rc=$?
		echo "@@rc $rc"
		times >"$tmp/times"
	} | while IFS= read -r l; do
		while read -r k v; do [ "$k" != usage_usec ] || { cpu=$((v / 1000)); break; }; done <"$cg"
		printf '%s %s %s\n' "${EPOCHREALTIME//[.,]/}" "$cpu" "$l"
	done >"$tmp/apply.log"
	t1=$(now_ms)
	c1=$(lab_cpu_ms)
	rc=$(sed -n 's/^[0-9]* [0-9]* @@rc //p' "$tmp/apply.log")
	[ "$rc" = 0 ] || { tail -30 "$tmp/apply.log" >&2; die "etcdwiz apply on $n hosts failed ($rc)"; }
	healthy "$tmp/xdg-$n-$r/etcdwiz/lab/pki/members/etcd-1/etcd" "etcdwiz apply" ||
		die "etcdwiz apply on $n hosts exited 0 without a healthy cluster"
	rm -rf "$tmp/xdg-$n-$r"
	tc=$(awk '/ above will change\.$/ { print substr($1, 1, length($1) - 3); exit }' "$tmp/apply.log")
	[ -n "$tc" ] || tc=$t0
	echo "# etcdwiz apply: $((t1 - t0)) ms: read-only pass $((tc - t0)) ms, changes $((t1 - tc)) ms;" \
		"CPU: lab $((c1 - c0)) ms, etcdwiz $(times_ms "$tmp/times") ms;" \
		"$(grep -E 'healthy after' "$tmp/apply.log" | head -1 | cut -d' ' -f3-)" >&2
	echo $((t1 - t0)) >>"$tmp/w-$n"
	echo $((tc - t0)) >>"$tmp/wc-$n"
	echo $((t1 - tc)) >>"$tmp/wa-$n"
	echo $((c1 - c0)) >>"$tmp/wlab-$n"
	times_ms "$tmp/times" >>"$tmp/wcli-$n"
	steps_breakdown "$tmp/apply.log" >>"$tmp/ws-$n"
	echo "# etcdwiz apply, the changes step by step (wall ms / lab CPU ms):" \
		"$(steps_breakdown "$tmp/apply.log" | awk '{ printf "%s %d/%d  ", $1, $2, $3 }')" >&2
}
steps_breakdown() {	# steps_breakdown APPLY_LOG: "step wall_ms lab_cpu_ms" per step of the changes
	awk '/ above will change\.$/ { on = 1; next }
	!on { next }
	{ t = substr($1, 1, length($1) - 3); c = $2 }
	name != "" && ($3 == "==" || $3 == "RECAP") { print name, t - t0, c - c0; name = "" }
	$3 == "==" { name = $NF; gsub(/[()]/, "", name); t0 = t; c0 = c }' "$1"
}
run_by_hand() {
	local t0 t1 rc=0 i p c0 c1 members=()
	fresh_lab
	for i in $(seq "$n"); do members+=("etcd-$i=198.51.100.$((10 + i))"); done
	c0=$(lab_cpu_ms)
	t0=$(now_ms)
	(
		rc=0
		"$here/seed-by-hand.sh" -w "$tmp/hand" "${members[@]}" 2>"$tmp/hand.log" || rc=$?
		times >"$tmp/times"
		exit $rc
	) || rc=$?
	t1=$(now_ms)
	c1=$(lab_cpu_ms)
	sed 's/^/# /' "$tmp/hand.log" >&2
	echo "# seed-by-hand: CPU: lab $((c1 - c0)) ms, this machine's side $(times_ms "$tmp/times") ms" >&2
	[ $rc -eq 0 ] || die "seed-by-hand.sh on $n hosts failed ($rc)"
	for p in prepare certs copy manifests wait; do
		sed -n "s/^seed-by-hand: $p *\([0-9]*\) ms.*/\1/p" "$tmp/hand.log" >>"$tmp/h$p-$n"
	done
	healthy "$tmp/hand/198.51.100.11/pki/etcd" "seed-by-hand" ||
		die "seed-by-hand.sh on $n hosts exited 0 without a healthy cluster"
	rm -rf "$tmp/hand"
	echo $((t1 - t0)) >>"$tmp/h-$n"
	echo $((c1 - c0)) >>"$tmp/hlab-$n"
	times_ms "$tmp/times" >>"$tmp/hcli-$n"
}

echo "apply-bench: fresh lab to healthy cluster; $rounds round(s); $(nproc) CPU(s); $("$etcdwiz" --version | head -1)"
for n in $sizes; do
	for r in $(seq "$rounds"); do
		if [ $((r % 2)) -eq 1 ]; then run_etcdwiz; run_by_hand; else run_by_hand; run_etcdwiz; fi
	done
	"$etcdwiz" lab down >/dev/null 2>&1
done

echo
printf '%-6s %12s %16s %8s\n' members "etcdwiz s" "seed by hand s" ratio
for n in $sizes; do
	w=$(median <"$tmp/w-$n") h=$(median <"$tmp/h-$n")
	printf '%-6s %12s %16s %8s\n' "$n" "$(secs "$w")" "$(secs "$h")" "$(ratio "$h" "$w")"
	echo "$n $w $h" >>"$tmp/table"
done
read -r n1 w1 h1 <"$tmp/table"
read -r n2 w2 h2 < <(tail -1 "$tmp/table")
[ "$n1" = "$n2" ] ||
	echo "growth from $n1 to $n2 members: etcdwiz $(ratio "$w2" "$w1"), seed by hand $(ratio "$h2" "$h1")"
echo "ratio = seed-by-hand time / etcdwiz time (higher: etcdwiz faster)"
echo
echo "Where the time goes (medians, s): etcdwiz's read-only pass / changes;"
echo "by hand: prepare (swap, modules, sysctl, kubelet) / certs (openssl) / copy (scp) / manifests / wait"
printf '%-6s %10s %10s   %10s %10s %10s %10s %10s\n' members check changes prepare certs copy manifests wait
for n in $sizes; do
	row=()
	for f in wc wa hprepare hcerts hcopy hmanifests hwait; do row+=("$(secs "$(median <"$tmp/$f-$n")")"); done
	printf '%-6s %10s %10s   %10s %10s %10s %10s %10s\n' "$n" "${row[@]}"
done
echo
echo "etcdwiz's changes step by step (medians, s): wall / CPU of the lab hosts together"
printf '%-14s' step
for n in $sizes; do printf ' %14s' "$n members"; done
echo
awk '!seen[$1]++ { print $1 }' "$tmp/ws-${sizes%% *}" >"$tmp/steps"
while read -r s; do
	printf '%-14s' "$s"
	for n in $sizes; do
		sw=$(awk -v s="$s" '$1 == s { print $2 }' "$tmp/ws-$n" | median)
		sc=$(awk -v s="$s" '$1 == s { print $3 }' "$tmp/ws-$n" | median)
		printf ' %14s' "$(secs "$sw") / $(secs "$sc")"
	done
	echo
done <"$tmp/steps"
echo
echo "CPU time (medians, s): on the lab hosts together, and on this machine (etcdwiz; the script"
echo "with its ssh, scp and openssl); with the wall time, 2 CPUs available"
printf '%-6s %12s %12s %8s   %12s %12s %8s\n' members "etcdwiz lab" "etcdwiz here" "wall" "hand lab" "hand here" "wall"
for n in $sizes; do
	row=()
	for f in wlab wcli w hlab hcli h; do row+=("$(secs "$(median <"$tmp/$f-$n")")"); done
	printf '%-6s %12s %12s %8s   %12s %12s %8s\n' "$n" "${row[@]}"
done
