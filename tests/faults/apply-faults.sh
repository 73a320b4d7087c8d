#!/bin/bash
# Fault injection on the lab (`make faults`; not in CI: minutes per round).
# Each round starts from fresh hosts (lab down, lab up -n 3) and does an
# apply of the 3 members with one fault in it, then applies again as an
# admin would, and checks what must hold whatever the fault hit:
#   kill:   etcdwiz gets SIGKILL at a random moment of the apply;
#   link:   etcd-2's interface is set down inside its network namespace
#           for 20 s in the middle of the apply;
#   sshd:   etcd-2's sshd is restarted in the middle of the apply;
#   freeze: etcd-2's container is frozen (cgroup freezer) for 20 s;
#   disk:   a 16 KiB tmpfs over etcd-2's /etc/kubernetes (a full disk):
#           the apply names the host and the path, leaves no partial file
#           there, and the other hosts finish;
#   clock:  etcd-2's date one hour ahead (a wrapper first in its PATH):
#           preflight refuses it by name;
#   join:   a membership change instead of a fresh apply: a running
#           3-member cluster (lab up -n 5, the first 3 members applied),
#           the file given a 4th member, and etcdwiz SIGKILLed at a random
#           moment of that apply (snapshot, MemberAdd, the learner's start,
#           MemberPromote); then etcd must list the 4, each once, all
#           started voters (no learner left), all healthy;
#   rotate: `certs rotate-ca` on a running 3-member cluster, etcdwiz
#           SIGKILLed at a random moment of it (any of its three phases:
#           the new CA half-written, members half-restarted, leaves half
#           re-issued or installed); `rotate-ca` run again must finish the
#           rotation (no record left, the old CA archived once) with the
#           3 members healthy on the new CA alone.
# After each: the second apply exits 0; etcd lists exactly the 3 members,
# each once, all healthy (Debian's etcdctl); no dot-temp file of ours is
# left in /etc/kubernetes or /etc/etcdwiz on any host, no .part file in
# the local store; the local store's certificates check out
# (certs check-expiration). For link, sshd and freeze also: the faulty
# host is reported (not hung) and the other two finished.
#
# FAULT_KILLS (default 30) rounds of kill, then one of each other fault,
# then FAULT_JOINS (default 10) rounds of join, then FAULT_ROTATES
# (default 5) rounds of rotate;
# FAULT_ONLY="KIND ..." (kill link sshd freeze disk clock join rotate) runs only those. Results, with the
# kill moments, go to the TAP log; docs/RELIABILITY.md has the last figures.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"
export XDG_DATA_HOME="$TAP_TMP/xdg"

KILLS=${FAULT_KILLS:-30}
ONLY=${FAULT_ONLY:-}
kinds=()
only() { [ -z "$ONLY" ] || case " $ONLY " in *" $1 "*) true ;; *) false ;; esac; }
only kill && for i in $(seq "$KILLS"); do kinds+=(kill); done
for k in link sshd freeze disk clock; do only "$k" && kinds+=("$k"); done
only join && for i in $(seq "${FAULT_JOINS:-10}"); do kinds+=(join); done
only rotate && for i in $(seq "${FAULT_ROTATES:-5}"); do kinds+=(rotate); done
CHECKS_PER_ROUND=6
JOINS=0 ROTATES=0
for k in "${kinds[@]}"; do [ "$k" = join ] && JOINS=1; [ "$k" = rotate ] && ROTATES=2; done
tap_plan $((1 + JOINS + ROTATES + ${#kinds[@]} * CHECKS_PER_ROUND))
CG=/sys/fs/cgroup/unified/etcdwiz-lab
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"
tap_on_exit "{ echo 0 > $CG/etcd-2/cgroup.freeze; ip -n etcdwiz-lab-etcd-2 link set eth0 up; } 2>/dev/null"

# fresh [N]: new hosts (N of them, default 3) and the lab's file for them.
fresh() {
	"$ETCDWIZ" lab down >/dev/null 2>&1
	rm -rf "$XDG_DATA_HOME"
	"$ETCDWIZ" lab up -n "${1:-3}" -q >"$TAP_TMP/up" 2>&1 || return 1
	cp "$LAB/cluster.yaml" "$TAP_TMP/cluster.yaml"
}
# first_members N: the lab's file cut to its first N members.
first_members() {
	awk -v n="$1" '/^members:/ { m = 1; print; next }
		m && /^- name:/ { k++ } m && k > n { next } { print }' "$LAB/cluster.yaml" >"$TAP_TMP/cluster.yaml"
}
# running3: 5 fresh hosts, the first 3 members applied (a running cluster),
# the file then naming 4.
running3() {
	fresh 5 || return 1
	first_members 3
	"$ETCDWIZ" apply --yes -f "$TAP_TMP/cluster.yaml" >"$TAP_TMP/three" 2>&1 || return 1
	first_members 4
}

# One undisturbed apply: how long one takes (the range of kill moments).
fresh
start=$(date +%s%N)
"$ETCDWIZ" apply --yes -f "$TAP_TMP/cluster.yaml" >"$TAP_TMP/clean" 2>&1
rc=$?
FULL_MS=$((($(date +%s%N) - start) / 1000000))
tap_is "an undisturbed apply of 3 fresh members ($FULL_MS ms)" 0 $rc

ETCDCTL=$(etcdctl35_path)
# The hosts a round checks (the join rounds: 4).
ADDRS="11 12 13"
# How long an undisturbed join of a 4th member takes (the range of its
# kill moments).
if [ "$JOINS" = 1 ]; then
	running3 || echo "# the running 3-member cluster for the join rounds did not come up"
	start=$(date +%s%N)
	"$ETCDWIZ" apply --yes -f "$TAP_TMP/cluster.yaml" >"$TAP_TMP/clean-join" 2>&1
	rc=$?
	JOIN_MS=$((($(date +%s%N) - start) / 1000000))
	tap_is "an undisturbed join of a 4th member to a running 3 ($JOIN_MS ms)" 0 $rc
fi
leftovers() {
	for a in $ADDRS; do
		lab_ssh "198.51.100.$a" 'find /etc/kubernetes /etc/etcdwiz /usr/local/bin /usr/local/lib/etcdwiz -name ".*" -newer /etc/hostname 2>/dev/null' | sed "s|^|198.51.100.$a:|"
	done
	find "$XDG_DATA_HOME" -name '*.part' -o -name '.*.tmp*' 2>/dev/null
}
# Started voters only: a learner left behind does not count.
members_once() {
	lab_etcdctl "$ETCDCTL" member list 2>/dev/null | awk -F', ' '$2 == "started" && $6 == "false" { print $3 }' | sort | tr '\n' ' ' | sed 's/ $//'
}
healthy_count() {
	local a n=0 pki="$XDG_DATA_HOME/etcdwiz/lab/pki/members/etcd-1/etcd"
	for a in $ADDRS; do
		ETCDCTL_API=3 timeout 30 "$ETCDCTL" --cacert "$pki/ca.crt" --cert "$pki/healthcheck-client.crt" \
			--key "$pki/healthcheck-client.key" --endpoints "https://198.51.100.$a:2379" \
			endpoint health >/dev/null 2>&1 && n=$((n + 1))
	done
	echo "$n"
}

# A random moment of an apply (seconds), for the faults that hit a host.
moment() { awk -v ms=$((RANDOM % (FULL_MS > 1000 ? FULL_MS : 1000))) 'BEGIN { printf "%.3f", ms / 1000 }'; }
# The faulty apply: the other hosts finished (their recap says failed=0),
# and etcd-2 either finished too (the fault missed) or was named.
# The apply pass's recap: after the last RECAP line (the plan pass has one too).
recap() { awk '/^RECAP$/ { n = NR } { line[NR] = $0 } END { for (i = n + 1; i <= NR; i++) print line[i] }' "$TAP_TMP/faulty"; }
others_finished() {
	[ "$(recap | grep -cE '^etcd-[13] : ok=[0-9]+ changed=[0-9]+ unreachable=0 failed=0')" = 2 ]
}
round_ok() {
	others_finished && { [ "$1" -eq 0 ] || grep -qE '^etcd-2 [a-z]+: (unreachable|failed)' "$TAP_TMP/faulty"; }
}
hit_or_miss() { recap | grep -qE '^etcd-2 : .*(unreachable=[1-9]|failed=[1-9])' && echo hit || echo missed; }

# rotated_once: no rotation record, one archived CA, and the members'
# trust file the store's CA alone.
rotated_once() {
	local pki="$XDG_DATA_HOME/etcdwiz/lab/pki"
	[ ! -e "$pki/rotation" ] && [ "$(ls -d "$pki"/archive/etcd-ca-* 2>/dev/null | wc -l)" = 1 ] &&
		cmp -s "$pki/members/etcd-1/etcd/ca.crt" "$pki/ca/etcd/ca.crt"
}
# One undisturbed rotate-ca on a running cluster (the kill moments' range).
if [ "$ROTATES" -gt 0 ]; then
	fresh && "$ETCDWIZ" apply --yes -f "$TAP_TMP/cluster.yaml" >"$TAP_TMP/rot-base" 2>&1
	start=$(date +%s%N)
	"$ETCDWIZ" certs rotate-ca --yes -f "$TAP_TMP/cluster.yaml" >"$TAP_TMP/clean-rotate" 2>&1
	rc=$?
	ROTATE_MS=$((($(date +%s%N) - start) / 1000000))
	tap_is "an undisturbed rotate-ca on a running 3 ($ROTATE_MS ms)" 0 $rc
	tap_check "... leaves no record and archives the old CA once" rotated_once
fi

round=0
for kind in "${kinds[@]}"; do
	round=$((round + 1))
	if [ "$kind" = join ]; then
		ADDRS="11 12 13 14" WANT="etcd-1 etcd-2 etcd-3 etcd-4"
		running3 || { tap_not_ok "round $round ($kind): the running 3-member cluster did not come up"; continue; }
	else
		ADDRS="11 12 13" WANT="etcd-1 etcd-2 etcd-3"
		fresh || { tap_not_ok "round $round ($kind): lab up failed"; continue; }
	fi
	CMD=(apply --yes -f "$TAP_TMP/cluster.yaml")
	if [ "$kind" = rotate ]; then
		"$ETCDWIZ" apply --yes -f "$TAP_TMP/cluster.yaml" >"$TAP_TMP/rot-base" 2>&1 ||
			{ tap_not_ok "round $round ($kind): the running cluster did not come up"; continue; }
		CMD=(certs rotate-ca --yes -f "$TAP_TMP/cluster.yaml")
	fi
	what=""
	case $kind in
	disk)
		# From this machine, in the container's mount namespace (nspawn
		# keeps mounting from its root).
		# The container's init: the child of its systemd-nspawn.
		leader=$(pgrep -P "$(pgrep -f -- '--machine=etcd-2( |$)' | head -n 1)" | head -n 1)
		lab_ssh 198.51.100.12 'mkdir -p /etc/kubernetes' >/dev/null 2>&1
		nsenter -t "$leader" -m -- mount -t tmpfs -o size=16k tmpfs /etc/kubernetes
		;;
	clock)
		lab_ssh 198.51.100.12 'cat >/usr/local/bin/date <<"E"
#!/bin/sh
case "$1" in +%s) echo $(($(/bin/date +%s) + 3600)) ;; *) exec /bin/date "$@" ;; esac
E
chmod 755 /usr/local/bin/date' >/dev/null 2>&1
		;;
	esac
	"$ETCDWIZ" "${CMD[@]}" >"$TAP_TMP/faulty" 2>&1 &
	pid=$!
	case $kind in
	kill | join | rotate)
		range=$FULL_MS
		[ "$kind" = join ] && range=$JOIN_MS
		# Later runs are quicker than the first (caches warm): the first
		# three quarters of its time, so that most kills land inside.
		[ "$kind" = rotate ] && range=$((ROTATE_MS * 3 / 4))
		at=$((RANDOM % (range > 1000 ? range : 1000)))
		what="SIGKILL at $at ms"
		[ "$kind" = join ] && what="SIGKILL at $at ms of the join"
		[ "$kind" = rotate ] && what="SIGKILL at $at ms of rotate-ca"
		sleep "$(awk -v ms="$at" 'BEGIN { printf "%.3f", ms / 1000 }')"
		kill -KILL "$pid" 2>/dev/null
		;;
	link)
		sleep "$(moment)"
		ip -n etcdwiz-lab-etcd-2 link set eth0 down
		what="etcd-2's link down for 20 s"
		sleep 20
		ip -n etcdwiz-lab-etcd-2 link set eth0 up
		;;
	sshd)
		sleep "$(moment)"
		lab_ssh 198.51.100.12 'systemctl restart ssh' >/dev/null 2>&1
		what="etcd-2's sshd restarted"
		;;
	freeze)
		sleep "$(moment)"
		echo 1 >"$CG/etcd-2/cgroup.freeze"
		what="etcd-2 frozen for 20 s"
		sleep 20
		echo 0 >"$CG/etcd-2/cgroup.freeze"
		;;
	disk | clock) what="etcd-2's $kind" ;;
	esac
	# The faulty apply ends on its own (bounded) unless it was killed.
	for i in $(seq 900); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	frc=$?
	case $kind in
	kill | join | rotate)
		tap_ok "round $round ($what): etcdwiz killed (exit $frc)"
		[ "$kind" = rotate ] && echo "# round $round: the killed run got to: $(grep -E '^Phase [0-9]' "$TAP_TMP/faulty" | tail -n 1)"
		[ "$kind" = join ] && echo "# round $round: the killed run got to: $(grep -E '^(cluster|Snapshot)' "$TAP_TMP/faulty" | tail -n 2 | tr '\n' ' ')"
		;;
	disk)
		# Before the space comes back: what the apply left there.
		partial=$(lab_ssh 198.51.100.12 'find /etc/kubernetes -name ".*"' 2>/dev/null)
		nsenter -t "$leader" -m -- umount /etc/kubernetes
		tap_check "round $round ($what): refused with the host and the path, no partial file there ($partial)" \
			sh -c "[ $frc -ne 0 ] && grep -qE '^etcd-2 .*/etc/kubernetes/.*(No space|space)' '$TAP_TMP/faulty' && [ -z '$partial' ]"
		[ -z "$partial" ] && grep -qE '^etcd-2 .*/etc/kubernetes' "$TAP_TMP/faulty" || grep -E '^etcd-2 ' "$TAP_TMP/faulty" | head -5 | sed 's/^/# /'
		;;
	clock)
		lab_ssh 198.51.100.12 'rm -f /usr/local/bin/date' >/dev/null 2>&1
		tap_check "round $round ($what): preflight refuses etcd-2 by name (ClockSkew)" \
			grep -q 'etcd-2 preflight: .*ERROR ClockSkew.*the clock of etcd-2 is 36[0-9][0-9] s ahead' "$TAP_TMP/faulty"
		;;
	*)
		h=$(hit_or_miss)
		tap_check "round $round ($what, $h): the other hosts finished; etcd-2 finished or was named (exit $frc)" \
			round_ok "$frc"
		others_finished || { echo "# round $round: another host did not finish:"; grep -E '^etcd-[13] :' "$TAP_TMP/faulty" | sed 's/^/# /'; }
		echo "# round $round: $what: $h; $(grep -E '^etcd-2 [a-z]+: (unreachable|failed)' "$TAP_TMP/faulty" | head -n 1)"
		;;
	esac
	if [ "$kind" = rotate ] && [ "$frc" -eq 0 ] && rotated_once; then
		# The kill came after the end: running it again would start a
		# second rotation, so only the checks below run.
		rc=0
		what="$what (too late: it had finished)"
	else
		"$ETCDWIZ" "${CMD[@]}" >"$TAP_TMP/again" 2>&1
		rc=$?
		[ "$kind" = rotate ] && { rotated_once || rc="$rc, but the rotation is not finished"; }
	fi
	tap_is "round $round ($what): running it again converges" 0 "$rc"
	[ $rc -eq 0 ] || tail -15 "$TAP_TMP/again" | sed 's/^/# /'
	n=$(echo "$WANT" | wc -w)
	tap_is "round $round: etcd lists each of the $n members once, all started voters" "$WANT" "$(members_once)"
	tap_is "round $round: all $n healthy" "$n" "$(healthy_count)"
	L=$(leftovers)
	tap_is "round $round: no temp or partial file left on a host or in the local store" "" "$L"
	"$ETCDWIZ" certs check-expiration -f "$TAP_TMP/cluster.yaml" >"$TAP_TMP/certs" 2>&1
	tap_is "round $round: the local store's certificates check out" 0 $?
done
tap_finish
