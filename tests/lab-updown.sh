#!/bin/bash
# `etcdwiz lab up` / `lab down`: real containers that answer SSH, the kubelet
# stand-in running a static pod, and a machine left as it was found.
# Needs root, systemd-nspawn (systemd-container) and, the first time,
# debootstrap plus access to a Debian archive (the base tree is cached in
# /var/lib/etcdwiz-lab/base, so later runs take seconds).
. "${TOP_SRCDIR:-.}/tests/tap.sh"

[ -z "${ETCDWIZ_SKIP_LAB:-}" ] || tap_skip_all "configured with --disable-lab-tests (make distcheck runs the lab tests only on the tree)"
[ "$(id -u)" -eq 0 ] || tap_skip_all "the lab needs root (CI runs make check as root)"
command -v systemd-nspawn >/dev/null || tap_skip_all "systemd-nspawn missing: apt-get install systemd-container"
command -v ssh >/dev/null || tap_skip_all "ssh missing: apt-get install openssh-client"
LAB=/var/lib/etcdwiz-lab
# One lab at a time on this machine: wait for the other lab tests.
exec 9>/run/etcdwiz-lab-test.lock
flock -w 1800 9 || tap_skip_all "another lab test held the lab for 30 minutes"
if [ ! -e "$LAB/base/etc/etcdwiz-lab-base" ] && ! command -v debootstrap >/dev/null; then
	tap_skip_all "no cached lab base tree and no debootstrap: apt-get install debootstrap"
fi
[ -e "$LAB/state" ] && tap_skip_all "a lab is up already; this test would remove it (run 'etcdwiz lab down' first)"

# The stand-in (built) and the unit/setup files (sources) of this tree.
ETCDWIZ_LAB_PATH="${TOP_BUILDDIR:-.}/lab:${TOP_SRCDIR:-.}/lab"
export ETCDWIZ_LAB_PATH

tap_plan 44

# Everything the lab could leave behind, ignoring what is not ours to judge:
# zombies waiting for the host's init, and other pid namespaces that
# existed before.
snapshot() {
	local self p st
	echo "## netns"; ip netns list 2>/dev/null | sort
	echo "## links"; ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
	echo "## routes"; ip route show table all | sort
	echo "## mounts"; sort /proc/mounts
	echo "## processes"
	self=$(readlink /proc/self/ns/pid)
	for p in /proc/[0-9]*; do
		st=$(sed 's/.*) //' "$p/stat" 2>/dev/null | cut -d' ' -f1) || continue
		[ -z "$st" ] || [ "$st" = Z ] && continue
		ns=$(readlink "$p/ns/pid" 2>/dev/null) || continue
		comm=$(cat "$p/comm" 2>/dev/null)
		if [ "$ns" != "$self" ] || [ "$comm" = systemd-nspawn ]; then
			echo "$ns $comm"
		fi
	done | sort | uniq -c
	echo "## cgroups"; find /sys/fs/cgroup -maxdepth 3 -type d -name 'etcdwiz-lab*' 2>/dev/null
}

KEY=$LAB/id_ed25519
lab_ssh() { # lab_ssh USER@ADDR COMMAND...
	local to=$1
	shift
	ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$LAB/known_hosts" \
		-o ConnectTimeout=10 -o LogLevel=ERROR -i "$KEY" "$to" "$@"
}

snapshot >"$TAP_TMP/before"
# Whatever happens, leave no lab behind.
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"

# Refusals first: not root, a missing tool.
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$ETCDWIZ" lab up >"$TAP_TMP/nonroot" 2>&1
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q 'needs root' "$TAP_TMP/nonroot"; then
		tap_ok "lab up refuses without root"
	else
		tap_not_ok "lab up refuses without root (exit $rc)"
		sed 's/^/# /' "$TAP_TMP/nonroot"
	fi
else
	tap_skip "setpriv (util-linux) missing"
fi
mkdir -p "$TAP_TMP/emptypath"
PATH="$TAP_TMP/emptypath" "$ETCDWIZ" lab up >"$TAP_TMP/notool" 2>&1
tap_grep "a missing tool is named with its Debian package" \
	'not found: install the Debian package (iproute2|systemd-container|openssh-client|coreutils)' \
	"$TAP_TMP/notool"

# A failure half-way (here: a systemd-nspawn that dies at once) must clean up.
mkdir -p "$TAP_TMP/fakebin"
printf '#!/bin/sh\necho fake nspawn >&2\nexit 1\n' >"$TAP_TMP/fakebin/systemd-nspawn"
chmod +x "$TAP_TMP/fakebin/systemd-nspawn"
if PATH="$TAP_TMP/fakebin:$PATH" "$ETCDWIZ" lab up -n 3 --timeout 60 >"$TAP_TMP/fail.out" 2>&1; then
	tap_not_ok "lab up fails when a container dies while booting"
else
	tap_ok "lab up fails when a container dies while booting"
fi
snapshot >"$TAP_TMP/after-fail"
if diff -u "$TAP_TMP/before" "$TAP_TMP/after-fail" >"$TAP_TMP/diff-fail"; then
	tap_ok "a failed lab up removes what it made"
else
	tap_not_ok "a failed lab up removes what it made"
	sed 's/^/# /' "$TAP_TMP/fail.out" "$TAP_TMP/diff-fail"
fi
tap_check "no state file after a failed up" test ! -e "$LAB/state"

# The real thing.
start=$(date +%s)
"$ETCDWIZ" lab up -n 3 >"$TAP_TMP/up.out" 2>"$TAP_TMP/up.err"
rc=$?
tap_is "lab up -n 3 exits 0 (took $(($(date +%s) - start)) s)" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$TAP_TMP/up.err" "$TAP_TMP/up.out"
tap_grep "lab up prints the hosts" '^  etcd-3  +198\.51\.100\.13 ' "$TAP_TMP/up.out"
# The etcd versions: Debian's packages, unpacked once, one per suite (a
# link names the version each gave: 3.4.23, 3.5.16, and unstable's, 3.5.30
# when this was written); this machine's apt lists untouched (the lab's apt
# has its own under $LAB/apt).
SID=$(readlink "$LAB/etcd/sid")
tap_is "the etcd cache: bookworm 3.4.23, trixie 3.5.16, unstable a newer 3.5 (${SID:-none})" \
	"3.4.23 3.5.16 yes" \
	"$(readlink "$LAB/etcd/bookworm") $(readlink "$LAB/etcd/trixie") $(printf '%s\n' 3.5.16 "$SID" | sort -V | tail -n 1 | grep -qvx 3.5.16 && echo yes)"
tap_is "each binary is the version its directory says" "3.4.23 3.5.16 $SID" \
	"$(for v in 3.4.23 3.5.16 "$SID"; do "$LAB/etcd/$v/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p'; done | tr '\n' ' ' | sed 's/ $//')"
tap_check "3.5 comes with etcdutl and etcdctl" test -x "$LAB/etcd/3.5.16/etcdutl" -a -x "$LAB/etcd/$SID/etcdctl"
tap_is "this machine's apt lists hold no trixie or sid index" 0 \
	"$(ls /var/lib/apt/lists 2>/dev/null | grep -cE '_(trixie|sid)_')"
tap_grep "lab up prints the cluster file path and its etcd, the newest 3.5" \
	"^Cluster file: $LAB/cluster.yaml \\(etcd ${SID//./\\.}\\)\$" "$TAP_TMP/up.out"
tap_grep "the cluster file names it" "^  version: \"?${SID//./\\.}\"?\$" "$LAB/cluster.yaml"
tap_check "the cluster file validates" "$ETCDWIZ" validate -f "$LAB/cluster.yaml"
tap_grep "the cluster file pins host keys" '^    etcd-2: SHA256:' "$LAB/cluster.yaml"

n=0
mids=""
for i in 1 2 3; do
	addr=198.51.100.$((10 + i))
	out=$(lab_ssh "root@$addr" 'hostname; systemctl is-system-running --wait; cat /etc/machine-id; ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub | cut -d" " -f2' 2>&1)
	set -- $out
	pinned=$(sed -n "s/^    etcd-$i: //p" "$LAB/cluster.yaml")
	if [ "$1" = "etcd-$i" ] && [ "$2" = running ] && [ "$4" = "$pinned" ]; then
		n=$((n + 1))
	else
		printf '# etcd-%s: %s (pinned %s)\n' "$i" "$out" "$pinned"
	fi
	mids="$mids $3"
done
tap_is "each host answers SSH (strict known_hosts), runs systemd, has its pinned key" 3 "$n"
tap_is "machine-ids are unique" 3 "$(printf '%s\n' $mids | sort -u | wc -l)"
tap_is "etcd.service is masked in the hosts" masked \
	"$(lab_ssh root@198.51.100.12 systemctl is-enabled etcd 2>&1)"
tap_is "the Debian etcd binary is 3.4.23" "3.4.23" \
	"$(lab_ssh root@198.51.100.12 etcd --version 2>&1 | sed -n 's/^etcd Version: //p')"
tap_check "wiz: sudo without a password" lab_ssh wiz@198.51.100.11 sudo -n true
if lab_ssh wizpw@198.51.100.11 sudo -n true >/dev/null 2>&1; then
	tap_not_ok "wizpw: sudo -n is refused (a password is needed)"
else
	tap_ok "wizpw: sudo -n is refused (a password is needed)"
fi
tap_check "wizpw: sudo with the password" lab_ssh wizpw@198.51.100.11 \
	"echo etcdwiz-lab | sudo -S -p '' true"

# The kubelet stand-in, configured as the kubeadm HA-etcd guide does.
H=root@198.51.100.11
tap_grep "/usr/bin/kubelet is the labelled stand-in" 'stand-in' \
	<(lab_ssh $H kubelet --version 2>&1)
# The host is as the packages leave it: the guide's first step makes the
# drop-in directory.
lab_ssh $H 'mkdir -p /etc/systemd/system/kubelet.service.d &&
cat >/etc/systemd/system/kubelet.service.d/kubelet.conf <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
cgroupDriver: systemd
address: 127.0.0.1
containerRuntimeEndpoint: unix:///var/run/containerd/containerd.sock
staticPodPath: /etc/kubernetes/manifests
EOF
cat >/etc/systemd/system/kubelet.service.d/20-etcd-service-manager.conf <<EOF
[Service]
ExecStart=
ExecStart=/usr/bin/kubelet --config=/etc/systemd/system/kubelet.service.d/kubelet.conf
Restart=always
EOF
systemctl daemon-reload && systemctl restart kubelet' >/dev/null 2>&1
tap_check "kubelet stand-in active after the drop-in and a restart" \
	wait_for 10 lab_ssh $H systemctl is-active kubelet

pod='apiVersion: v1
kind: Pod
metadata:
  name: sleeper
  namespace: kube-system
spec:
  hostNetwork: true
  containers:
  - name: sleeper
    image: registry.k8s.io/pause:3.10
    command: ["sleep"]
    args: ["1234"]
    livenessProbe:
      tcpSocket:
        port: 22
      periodSeconds: 1
'
printf '%s' "$pod" | lab_ssh $H 'cat >/etc/kubernetes/manifests/.sleeper.yaml'
sleep 3
if lab_ssh $H "pgrep -f 'sleep 123[4]'" >/dev/null 2>&1; then
	tap_not_ok "a dot-named manifest is ignored"
else
	tap_ok "a dot-named manifest is ignored"
fi
lab_ssh $H mv /etc/kubernetes/manifests/.sleeper.yaml /etc/kubernetes/manifests/sleeper.yaml
tap_check "the static pod runs" wait_for 10 lab_ssh $H "pgrep -f 'sleep 123[4]'"
pid1=$(lab_ssh $H "pgrep -f 'sleep 123[4]'")
lab_ssh $H kill "$pid1"
tap_check "the pod is restarted after it exits (10 s back-off)" \
	wait_for 20 lab_ssh $H "pgrep -f 'sleep 123[4]' | grep -vx '$pid1'"
lab_ssh $H mv /etc/kubernetes/manifests/sleeper.yaml /root/
tap_check "the pod stops when its manifest is moved away" \
	wait_for 10 lab_ssh $H "! pgrep -f 'sleep 123[4]'"
# An etcd image the lab does not have fails as a missing image does: no
# other version runs in its place, and its status says why.
ghost='apiVersion: v1
kind: Pod
metadata:
  name: ghost
  namespace: kube-system
spec:
  hostNetwork: true
  containers:
  - name: etcd
    image: registry.k8s.io/etcd:3.5.21-0
    command: ["etcd", "--name=ghost", "--data-dir=/tmp/ghost", "--listen-client-urls=http://127.0.0.1:23790", "--advertise-client-urls=http://127.0.0.1:23790", "--listen-peer-urls=http://127.0.0.1:23800"]
'
printf '%s' "$ghost" | lab_ssh $H 'cat >/etc/kubernetes/manifests/ghost.yaml'
ghost_status() { lab_ssh $H cat /run/kubelet-standin/status/kube-system_ghost_etcd >"$TAP_TMP/ghost" 2>/dev/null; }
tap_check "a pod whose etcd image is not in the cache gets a status" wait_for 10 ghost_status
tap_grep "... waiting, ErrImagePull, naming the image" \
	'^message=Failed to pull image "registry.k8s.io/etcd:3.5.21-0".*ErrImagePull' "$TAP_TMP/ghost"
sleep 3	# three of the stand-in's scans: it would have started by now
tap_is "... and nothing runs in its place" 0 "$(lab_ssh $H "pgrep -fc 'name=ghos[t]'")"
lab_ssh $H rm -f /etc/kubernetes/manifests/ghost.yaml

# Idempotent: a second up changes nothing.
stat -c '%Y %n' "$LAB"/cluster.yaml "$LAB"/known_hosts "$LAB"/state "$LAB"/hosts/*/nspawn.pid \
	>"$TAP_TMP/m1"
cat "$LAB"/hosts/*/nspawn.pid >"$TAP_TMP/p1"
ip -o link show >/dev/null
sleep 1
"$ETCDWIZ" lab up -n 3 >"$TAP_TMP/up2.out" 2>&1
tap_is "a second lab up exits 0" 0 $?
tap_grep "a second lab up prints the hosts" '^  etcd-1  +198\.51\.100\.11 +up' "$TAP_TMP/up2.out"
stat -c '%Y %n' "$LAB"/cluster.yaml "$LAB"/known_hosts "$LAB"/state "$LAB"/hosts/*/nspawn.pid \
	>"$TAP_TMP/m2"
cat "$LAB"/hosts/*/nspawn.pid >>"$TAP_TMP/m2"
cat "$TAP_TMP/p1" >>"$TAP_TMP/m1"
tap_check "a second lab up changes no file and no container" diff "$TAP_TMP/m1" "$TAP_TMP/m2"
"$ETCDWIZ" lab up -n 3 --etcd 3.9.9 >"$TAP_TMP/up-ghost.out" 2>&1
tap_is "lab up --etcd with a version the lab lacks exits 1" 1 $?
tap_grep "... naming the versions it has" "no etcd 3\\.9\\.9; it has: 3\\.4\\.23, 3\\.5\\.16, ${SID//./\\.}" "$TAP_TMP/up-ghost.out"
"$ETCDWIZ" lab up -n 5 >"$TAP_TMP/up5.out" 2>&1
tap_grep "lab up -n 5 over a 3-host lab says to run down first" 'lab down' "$TAP_TMP/up5.out"
tap_check "lab status exits 0 with every host up" "$ETCDWIZ" lab status
tap_grep "lab status lists the hosts" '^  etcd-2  +198\.51\.100\.12 +up' \
	<("$ETCDWIZ" lab status 2>&1)

# Down, and the machine is as it was.
start=$(date +%s)
tap_check "lab down exits 0" "$ETCDWIZ" lab down
secs=$(($(date +%s) - start))
snapshot >"$TAP_TMP/after"
if diff -u "$TAP_TMP/before" "$TAP_TMP/after" >"$TAP_TMP/diff"; then
	tap_ok "after lab down ($secs s): same namespaces, links, routes, mounts, processes, cgroups"
else
	tap_not_ok "after lab down: same namespaces, links, routes, mounts, processes, cgroups"
	sed 's/^/# /' "$TAP_TMP/diff"
fi
tap_check "a second lab down is a no-op" "$ETCDWIZ" lab down
tap_grep "lab status says there is no lab" '^No lab' <("$ETCDWIZ" lab status 2>&1)
tap_check "no cluster file, state or host trees remain" \
	test ! -e "$LAB/cluster.yaml" -a ! -e "$LAB/state" -a ! -e "$LAB/hosts"
