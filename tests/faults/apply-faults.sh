#!/bin/bash
# Fault injection on the lab (`make faults`; not in CI: minutes per round).
# Each round starts from fresh hosts (lab down, lab up -n 3) and does an
# apply of the 3 members with one fault in it, then applies again as an
# admin would, and checks what must hold whatever the fault hit:
#   kill:   etcdwiz gets SIGKILL at a random moment of the apply;
#   link:   etcd-2's interface is set down inside its network namespace
#           for 20 s in the middle of the apply;
#   sshd:   etcd-2's sshd is restarted in the middle of the apply;
#   freeze: etcd-2's container is frozen (cgroup freezer) for 20 s.
# After each: the second apply exits 0; etcd lists exactly the 3 members,
# each once, all healthy (Debian's etcdctl); no dot-temp file of ours is
# left in /etc/kubernetes or /etc/etcdwiz on any host, no .part file in
# the local store; the local store's certificates check out
# (certs check-expiration). For link, sshd and freeze also: the faulty
# host is reported (not hung) and the other two finished.
#
# FAULT_KILLS (default 30) rounds of kill, then one of each other fault;
# FAULT_ONLY=link|sshd|freeze|kill runs only that kind. Results, with the
# kill moments, go to the TAP log; docs/RELIABILITY.md has the last figures.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"
export XDG_DATA_HOME="$TAP_TMP/xdg"

KILLS=${FAULT_KILLS:-30}
ONLY=${FAULT_ONLY:-}
kinds=()
[ -z "$ONLY" ] || [ "$ONLY" = kill ] && for i in $(seq "$KILLS"); do kinds+=(kill); done
for k in link sshd freeze; do [ -z "$ONLY" ] || [ "$ONLY" = "$k" ] && kinds+=("$k"); done
CHECKS_PER_ROUND=6
tap_plan $((1 + ${#kinds[@]} * CHECKS_PER_ROUND))
CG=/sys/fs/cgroup/unified/etcdwiz-lab
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"
tap_on_exit "echo 0 > $CG/etcd-2/cgroup.freeze 2>/dev/null; ip -n etcdwiz-lab-etcd-2 link set eth0 up 2>/dev/null"

fresh() {
	"$ETCDWIZ" lab down >/dev/null 2>&1
	rm -rf "$XDG_DATA_HOME"
	"$ETCDWIZ" lab up -n 3 -q >"$TAP_TMP/up" 2>&1 || return 1
	cp "$LAB/cluster.yaml" "$TAP_TMP/cluster.yaml"
}

# One undisturbed apply: how long one takes (the range of kill moments).
fresh
start=$(date +%s%N)
"$ETCDWIZ" apply --yes -f "$TAP_TMP/cluster.yaml" >"$TAP_TMP/clean" 2>&1
rc=$?
FULL_MS=$((($(date +%s%N) - start) / 1000000))
tap_is "an undisturbed apply of 3 fresh members ($FULL_MS ms)" 0 $rc

ETCDCTL=$(etcdctl35_path)
leftovers() {
	for a in 11 12 13; do
		lab_ssh "198.51.100.$a" 'find /etc/kubernetes /etc/etcdwiz /usr/local/bin /usr/local/lib/etcdwiz -name ".*" -newer /etc/hostname 2>/dev/null' | sed "s|^|198.51.100.$a:|"
	done
	find "$XDG_DATA_HOME" -name '*.part' -o -name '.*.tmp*' 2>/dev/null
}
members_once() {
	lab_etcdctl "$ETCDCTL" member list 2>/dev/null | awk -F', ' '$2 == "started" { print $3 }' | sort | tr '\n' ' ' | sed 's/ $//'
}

round=0
for kind in "${kinds[@]}"; do
	round=$((round + 1))
	fresh || { tap_not_ok "round $round ($kind): lab up failed"; continue; }
	what=""
	"$ETCDWIZ" apply --yes -f "$TAP_TMP/cluster.yaml" >"$TAP_TMP/faulty" 2>&1 &
	pid=$!
	case $kind in
	kill)
		at=$((RANDOM % (FULL_MS > 1000 ? FULL_MS : 1000)))
		what="SIGKILL at $at ms"
		sleep "$(awk -v ms="$at" 'BEGIN { printf "%.3f", ms / 1000 }')"
		kill -KILL "$pid" 2>/dev/null
		;;
	link)
		sleep "$(awk -v ms="$FULL_MS" 'BEGIN { printf "%.3f", ms / 3000 }')"
		ip -n etcdwiz-lab-etcd-2 link set eth0 down
		what="etcd-2's link down for 20 s"
		sleep 20
		ip -n etcdwiz-lab-etcd-2 link set eth0 up
		;;
	sshd)
		sleep "$(awk -v ms="$FULL_MS" 'BEGIN { printf "%.3f", ms / 3000 }')"
		lab_ssh 198.51.100.12 'systemctl restart ssh' >/dev/null 2>&1
		what="etcd-2's sshd restarted"
		;;
	freeze)
		sleep "$(awk -v ms="$FULL_MS" 'BEGIN { printf "%.3f", ms / 3000 }')"
		echo 1 >"$CG/etcd-2/cgroup.freeze"
		what="etcd-2 frozen for 20 s"
		sleep 20
		echo 0 >"$CG/etcd-2/cgroup.freeze"
		;;
	esac
	# The faulty apply ends on its own (bounded) unless it was killed.
	for i in $(seq 900); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	frc=$?
	if [ "$kind" != kill ]; then
		tap_check "round $round ($what): the faulty apply ended (exit $frc) and named etcd-2 if it failed" \
			sh -c "[ $frc -eq 0 ] || grep -q 'etcd-2' '$TAP_TMP/faulty'"
	else
		tap_ok "round $round ($what): etcdwiz killed (exit $frc)"
	fi
	"$ETCDWIZ" apply --yes -f "$TAP_TMP/cluster.yaml" >"$TAP_TMP/again" 2>&1
	rc=$?
	tap_is "round $round ($what): applying again converges" 0 $rc
	[ $rc -eq 0 ] || tail -15 "$TAP_TMP/again" | sed 's/^/# /'
	tap_is "round $round: etcd lists each of the 3 members once" "etcd-1 etcd-2 etcd-3" "$(members_once)"
	tap_is "round $round: all 3 healthy" 3 "$(lab_etcdctl "$ETCDCTL" endpoint health 2>&1 | grep -c 'is healthy')"
	L=$(leftovers)
	tap_is "round $round: no temp or partial file left on a host or in the local store" "" "$L"
	"$ETCDWIZ" certs check-expiration -f "$TAP_TMP/cluster.yaml" >"$TAP_TMP/certs" 2>&1
	tap_is "round $round: the local store's certificates check out" 0 $?
done
tap_finish
