#!/bin/bash
# `etcdwiz plan` and `apply` on a 3-member lab (+ a control-plane host): a
# real etcd cluster from our manifests, checked by Debian's etcdctl with our
# certificates; a second apply changes nothing; plan changes nothing; the
# hosts pass the CIS etcd checks; a wrong address and a changed host key stop
# apply before any change. The hosts start as the packages leave them (no
# drop-in directory, no /var/lib/kubelet; etcd-1 with no /etc/kubernetes at
# all, as with a release-tarball kubelet). A member whose etcd cannot start
# fails apply with its pod's log; a member whose host dies during verify ends
# apply at once, not after the health timeout; a kubelet that hangs on
# --version does not hold plan.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"
export XDG_DATA_HOME="$TAP_TMP/xdg"

tap_plan 45
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"

HOSTS="198.51.100.11 198.51.100.12 198.51.100.13"
CP=198.51.100.14
# What plan must not change: every file under /etc and the data directory.
fingerprint() {
	for h in $HOSTS $CP; do
		lab_ssh "$h" 'find /etc /var/lib/etcd -xdev -type f -print0 2>/dev/null | sort -z |
			xargs -0 sha256sum 2>/dev/null; stat -c "%n %a %U" /etc/kubernetes 2>/dev/null' | sha256sum
	done
}

"$ETCDWIZ" lab up -n 3 --control-plane >"$TAP_TMP/up" 2>&1
tap_is "lab up -n 3 --control-plane" 0 $?
CF="$LAB/cluster.yaml"

# As the packages leave a host: kubelet's package ships only
# /etc/kubernetes/manifests; etcd-1's kubelet came from a tarball.
lab_ssh 198.51.100.12 'test ! -e /etc/systemd/system/kubelet.service.d && test ! -e /var/lib/kubelet &&
	test -d /etc/kubernetes/manifests' >/dev/null 2>&1
tap_is "lab hosts start as the packages leave them (no drop-in directory, no /var/lib/kubelet)" 0 $?
lab_ssh 198.51.100.11 'rm -rf /etc/kubernetes' >/dev/null 2>&1

fingerprint >"$TAP_TMP/fp-before"
"$ETCDWIZ" plan -f "$CF" >"$TAP_TMP/plan" 2>&1
tap_is "plan on fresh hosts exits 0" 0 $?
fingerprint >"$TAP_TMP/fp-after"
tap_check "plan changed nothing on any host (checksums of /etc and /var/lib/etcd)" \
	cmp "$TAP_TMP/fp-before" "$TAP_TMP/fp-after"
tap_grep "plan shows the manifest it would write" '\+\+\+ /etc/kubernetes/manifests/etcd.yaml' "$TAP_TMP/plan"
tap_grep "plan lists the directories it would create (etcd-1 has no /etc/kubernetes)" \
	'create the directory /etc/kubernetes \(0755\)' "$TAP_TMP/plan"
"$ETCDWIZ" plan --per-host -f "$CF" >"$TAP_TMP/plan-per-host" 2>&1
tap_is "plan --per-host exits 0" 0 $?
tap_is "the missing certificates are one note per host, not a warning per file" "0 4" \
	"$(grep -c 'WARNING Certificates' "$TAP_TMP/plan-per-host") $(grep -c 'not in the local certificate store yet' "$TAP_TMP/plan-per-host")"
tap_is "grouped, lines the members share are listed once, naming them in the file's order; each host's own note under its name" "yes 4" \
	"$(grep -qE '^etcd-1, etcd-2, etcd-3 [a-z]+: ' "$TAP_TMP/plan" && echo yes) $(grep -cE '^(etcd-[123] certificates|cp-1 kubernetes): the certificates for (etcd-[123]|cp-1) are not in the local certificate store yet' "$TAP_TMP/plan")"
tap_is "... and each member's own manifest (its address) is listed under its name alone" 3 \
	"$(grep -cE '^etcd-[123] manifest: write the etcd static pod manifest$' "$TAP_TMP/plan")"
# The grouped plan says what the per-host one says: each "A, B step: line"
# (with the detail lines under it) is one unit per host; the two runs'
# units are the same (numbers aside: timings), and grouping made it shorter.
plan_units() {
	python3 - "$1" <<'PY'
import re, sys
units, cur = [], None
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if line.startswith("    ") and cur is not None:
        cur.append(re.sub(r"[0-9]+", "N", line))
        continue
    m = re.match(r"^((?:[a-z0-9-]+, )*[a-z0-9-]+) ([a-z]+): (.*)$", line)
    cur = None
    if m and m.group(1) != "cluster":
        cur = []  # the group's hosts share its detail lines
        for host in m.group(1).split(", "):
            # the grouped plan's "would change" is the per-host "changed"
            text = re.sub(r"^would change$", "changed", m.group(3))
            units.append((host + " " + m.group(2) + ": " + re.sub(r"[0-9]+", "N", text), cur))
for u in sorted("\n".join([head] + detail) for head, detail in units):
    print(u)
    print("--")
PY
}
plan_units "$TAP_TMP/plan" >"$TAP_TMP/units-grouped"
plan_units "$TAP_TMP/plan-per-host" >"$TAP_TMP/units-per-host"
tap_check "the grouped plan lists every host's every line (the per-host plan's units)" \
	cmp "$TAP_TMP/units-per-host" "$TAP_TMP/units-grouped"
tap_check "... in fewer lines ($(wc -l <"$TAP_TMP/plan") against $(wc -l <"$TAP_TMP/plan-per-host"))" \
	test "$(wc -l <"$TAP_TMP/plan")" -lt "$(wc -l <"$TAP_TMP/plan-per-host")"

# A member whose address is not on its host fails preflight, and apply
# changes nothing.
sed -E 's/address: "?198\.51\.100\.13"?/address: 198.51.100.99\n  sshHost: 198.51.100.13/' "$CF" >"$TAP_TMP/wrong.yaml"
grep -q 'sshHost: 198.51.100.13' "$TAP_TMP/wrong.yaml" || echo "# could not make the wrong-address cluster file"
"$ETCDWIZ" apply --yes -f "$TAP_TMP/wrong.yaml" >"$TAP_TMP/wrong" 2>&1
tap_is "apply with a wrong member address exits 1" 1 $?
tap_grep "the error names the check, the address and the host" \
	'\[ERROR AdvertiseAddress\]: 198\.51\.100\.99 is not an address of this host.*etcd-3' "$TAP_TMP/wrong"
fingerprint >"$TAP_TMP/fp-after"
tap_check "the refused apply changed nothing" cmp "$TAP_TMP/fp-before" "$TAP_TMP/fp-after"

JOURNALS="$XDG_DATA_HOME/etcdwiz/lab/journal"
# journal_reached STEP: the newest apply pass's journal (written as things
# happen, unlike the buffered output) has started STEP.
journal_reached() {
	local j
	j=$(ls -t "$JOURNALS"/*-apply.log 2>/dev/null | head -n 1)
	[ -n "$j" ] && [ "$j" != "$JOURNAL_BEFORE" ] && grep -q " step $1\$" "$j"
}
kill_etcd3() {
	echo 1 >/sys/fs/cgroup/unified/etcdwiz-lab/etcd-3/cgroup.kill 2>/dev/null ||
		kill -9 $(cat /sys/fs/cgroup/unified/etcdwiz-lab/etcd-3/cgroup.procs 2>/dev/null) 2>/dev/null
}
# wait_apply PID LIMIT: wait (bounded) for a background apply; its status.
wait_apply() {
	for _ in $(seq "$2"); do kill -0 "$1" 2>/dev/null || break; sleep 1; done
	kill -0 "$1" 2>/dev/null && { kill "$1"; echo "# apply did not end in $2 s"; }
	wait "$1"
}
# The killed container must be seen as stopped before lab up restarts it.
restart_etcd3() {
	host_down() { ! "$ETCDWIZ" lab status >/dev/null 2>&1; }
	wait_for 60 host_down || echo "# etcd-3 still looks up"
	"$ETCDWIZ" lab up -n 3 --control-plane -q >/dev/null 2>&1
	wait_for 60 lab_ssh 198.51.100.13 true || echo "# etcd-3 does not answer SSH after lab up"
}

# A host that dies mid-apply (its whole container killed) is reported
# unreachable while the others go on; once it is back, apply completes with
# no duplicate member.
JOURNAL_BEFORE=$(ls -t "$JOURNALS"/*-apply.log 2>/dev/null | head -n 1)
"$ETCDWIZ" apply --yes -f "$CF" >"$TAP_TMP/apply1" 2>&1 &
apid=$!
wait_for 300 journal_reached kubelet && kill_etcd3
wait_apply $apid 600
tap_is "apply with a host killed mid-way exits 1" 1 $?
tap_grep "the dead host is reported unreachable, not hung on" 'etcd-3 +: .*unreachable=[1-9]' "$TAP_TMP/apply1"
tap_grep "the others went on to a healthy cluster of two" 'etcd-1 +: .*unreachable=0 failed=0' "$TAP_TMP/apply1"
restart_etcd3

start=$(date +%s)
ls "$JOURNALS" >"$TAP_TMP/journals-before"
"$ETCDWIZ" apply --yes -f "$CF" >"$TAP_TMP/apply" 2>&1
rc=$?
# remote_commands FILES...: "HOST N" per host, summed over the journals of one command
remote_commands() {
	cat "$@" | awk '$3 == "remote" && $4 == "commands:" { n[$2] += $5 } END { for (h in n) print h, n[h] }' | sort
}
ls "$JOURNALS" | comm -13 "$TAP_TMP/journals-before" - | sed "s|^|$JOURNALS/|" >"$TAP_TMP/journals-new"
tap_is "apply after the host is back completes the cluster" 0 $rc
[ $rc -eq 0 ] || tail -40 "$TAP_TMP/apply" | sed 's/^/# /'
echo "# apply took $(( $(date +%s) - start )) s"
tap_is "recap: no host failed" 0 "$(grep -cE 'failed=[1-9]|unreachable=[1-9]' "$TAP_TMP/apply")"
# etcd-3 came back as it was killed (before kubelet): nearly a fresh host.
remote_commands $(cat "$TAP_TMP/journals-new") >"$TAP_TMP/execs"
sed 's/^/# remote commands: /' "$TAP_TMP/execs"
tap_is "one apply is at most 12 remote commands on each member, plan pass included (engine v2)" 3 \
	"$(awk '$1 ~ /^etcd-/ && $2 >= 1 && $2 <= 12' "$TAP_TMP/execs" | wc -l)"
# verify reads each member from here (our TLS client over its SSH session):
# the journal says what each one answered.
tap_is "verify asked every member's etcd from here: each healthy and started" 3 \
	"$(cat $(cat "$TAP_TMP/journals-new") | grep -E ' etcd-[123] etcd: healthy' | awk '{print $2}' | sort -u | wc -l)"
tap_is "the journals hold no key material" 0 \
	"$(grep -rlE 'PRIVATE KEY|BEGIN CERT' "$XDG_DATA_HOME/etcdwiz/lab/journal" | wc -l)"

health() { lab_etcdctl "$(etcdctl35_path)" "$@"; }
health endpoint health >"$TAP_TMP/health" 2>&1
tap_is "Debian's etcdctl 3.5 with our certificates: 3 healthy endpoints" 3 "$(grep -c 'is healthy' "$TAP_TMP/health")"
health member list >"$TAP_TMP/members" 2>&1
tap_is "the member list holds etcd-1, etcd-2 and etcd-3, once each" "3 3" \
	"$(grep -cE ', etcd-[123], ' "$TAP_TMP/members") $(grep -c , "$TAP_TMP/members")"
lab_ssh 198.51.100.12 etcdctl endpoint health --cluster >"$TAP_TMP/onhost" 2>&1
tap_is "etcdctl on a member works without flags" 3 "$(grep -c 'is healthy' "$TAP_TMP/onhost")"

"$ETCDWIZ" apply --yes -f "$CF" >"$TAP_TMP/again" 2>&1
tap_is "a second apply exits 0" 0 $?
tap_is "a second apply changes nothing (changed=0 on every host)" 4 "$(grep -cE ' : ok=[0-9]+ changed=0 ' "$TAP_TMP/again")"
tap_is "a second apply is one remote command on each host (all its checks at once)" \
	"cp-1 1 etcd-1 1 etcd-2 1 etcd-3 1" \
	"$(remote_commands "$(ls -t "$JOURNALS"/*-plan.log | head -n 1)" | tr '\n' ' ' | sed 's/ $//')"

# CIS Kubernetes Benchmark, etcd section 2.1-2.6 and files 1.1.7, 1.1.11, 1.1.19-1.1.21.
lab_ssh 198.51.100.11 'ps -eo args | grep -E "^([^ ]*/)?etcd " | head -n 1' >"$TAP_TMP/args"
cis_flags() {
	grep -q -- '--cert-file=' "$1" && grep -q -- '--key-file=' "$1" &&
	grep -q -- '--client-cert-auth=true' "$1" && ! grep -q -- '--auto-tls=true' "$1" &&
	grep -q -- '--peer-cert-file=' "$1" && grep -q -- '--peer-key-file=' "$1" &&
	grep -q -- '--peer-client-cert-auth=true' "$1" && ! grep -q -- '--peer-auto-tls=true' "$1"
}
tap_check "CIS 2.1-2.6: the running etcd's TLS flags" cis_flags "$TAP_TMP/args"
# (The data directory's owner is whatever made it: Debian's etcd-server
# package makes it etcd:etcd; CIS 1.1.11 is about its mode.)
lab_ssh 198.51.100.11 'stat -c "%a %U:%G" /etc/kubernetes/manifests/etcd.yaml; stat -c "%a" /var/lib/etcd;
	find /etc/kubernetes/pki \( -type f -o -type d \) -printf "%u:%g\n" | sort -u;
	find /etc/kubernetes/pki -type f \( -name "*.crt" -o -name "*.key" \) -perm /077 | wc -l' >"$TAP_TMP/perms"
tap_is "CIS 1.1.7, 1.1.11, 1.1.19-21: manifest 600, data dir 700, pki root-owned and <= 600" \
	"600 root:root
700
root:root
0" "$(cat "$TAP_TMP/perms")"

# A member whose etcd cannot start: apply does not end in success, and
# says which member and what its pod logged (its host is reachable, so it
# is failed, not unreachable).
break_etcd 198.51.100.13
"$ETCDWIZ" apply --yes -f "$CF" --health-timeout 15s >"$TAP_TMP/broken" 2>&1
tap_is "apply on a converged cluster with a member's etcd broken exits 1" 1 $?
tap_grep "it names the member, the timeout, the pod's state (from the stand-in's status) and its log" \
	'etcd-3 verify: failed: \[ERROR Health\]: etcd on etcd-3 did not answer within 15s \(cannot reach 198\.51\.100\.13:2379 on its host: .*\); its pod is waiting: CrashLoopBackOff[^;]*; the last lines of its pod.s log .*/var/lib/etcd/member: not a directory' \
	"$TAP_TMP/broken"
tap_grep "the recap: etcd-3 failed (not unreachable), the others ok" \
	'etcd-3 +: ok=0 changed=0 unreachable=0 failed=1' "$TAP_TMP/broken"
tap_is "it does not claim that nothing needs doing" 0 "$(grep -c 'every host already matches' "$TAP_TMP/broken")"

# A member whose host dies while verify waits for it ends that wait at once:
# apply ends long before its health timeout (300 s).
JOURNAL_BEFORE=$(ls -t "$JOURNALS"/*-apply.log 2>/dev/null | head -n 1)
"$ETCDWIZ" apply --yes -f "$CF" --health-timeout 300s >"$TAP_TMP/verify-kill" 2>&1 &
apid=$!
wait_for 120 journal_reached verify && sleep 2 && kill_etcd3
killed=$(date +%s)
wait_apply $apid 400
tap_is "apply with a host killed during verify exits 1" 1 $?
took=$(( $(date +%s) - killed ))
echo "# apply ended $took s after etcd-3 was killed during verify (health timeout 300 s)"
[ "$took" -lt 60 ] && tap_ok "it ended within 60 s of the kill, not after the 300 s health timeout" ||
	tap_not_ok "apply went on $took s after the kill"
tap_grep "etcd-3 is reported unreachable" 'etcd-3 +: .*unreachable=1' "$TAP_TMP/verify-kill"
restart_etcd3
# A new kubelet (stand-in) starts the pod at once, without the back-off.
mend_etcd 198.51.100.13
"$ETCDWIZ" apply --yes -f "$CF" >"$TAP_TMP/healed" 2>&1
tap_is "with etcd-3 mended, apply ends healthy" 0 $?

# A kubelet that never exits on --version does not hold plan: the probe is
# bounded and says so.
lab_ssh 198.51.100.12 'printf "#!/bin/sh\nexec sleep 1000\n" >/usr/local/bin/kubelet && chmod 0755 /usr/local/bin/kubelet'
"$ETCDWIZ" plan -f "$CF" --steps packages --limit etcd-2 >"$TAP_TMP/hung" 2>&1
lab_ssh 198.51.100.12 'rm -f /usr/local/bin/kubelet; pkill -f "^sleep 1000"; true'
tap_grep "a hanging kubelet --version is a finding, not a hang" \
	'\[WARNING KubeletVersion\]: `/usr/local/bin/kubelet --version` did not finish within 10 s' "$TAP_TMP/hung"

lab_ssh "$CP" 'test -s /etc/kubernetes/kubeadm-config.yaml && ls /etc/kubernetes/pki/etcd/ca.crt /etc/kubernetes/pki/apiserver-etcd-client.key' >/dev/null 2>&1
tap_is "the control-plane host has kubeadm-config.yaml and the etcd client files" 0 $?
tap_grep "the /version proof ran on the control-plane host" 'cp-1 kubernetes: (ok|changed)' "$TAP_TMP/apply"

# A changed host key (the host's keys regenerated) stops apply before it
# changes anything, and shows both fingerprints.
lab_ssh 198.51.100.12 'rm -f /etc/ssh/ssh_host_*; ssh-keygen -A >/dev/null; systemctl restart ssh' >/dev/null 2>&1
# Give etcd-1 something to change, so "nothing changed" means something.
lab_ssh 198.51.100.11 'rm -f /etc/modules-load.d/k8s.conf'
"$ETCDWIZ" apply --yes -f "$CF" --steps modules >"$TAP_TMP/hk" 2>&1
tap_is "apply with a changed host key exits 1" 1 $?
tap_grep "both fingerprints are shown" 'SHA256:[A-Za-z0-9+/]{43}.*SHA256:[A-Za-z0-9+/]{43}' "$TAP_TMP/hk"
lab_ssh 198.51.100.11 'test ! -e /etc/modules-load.d/k8s.conf'
tap_is "no host was changed (etcd-1's pending change was not applied)" 0 $?
