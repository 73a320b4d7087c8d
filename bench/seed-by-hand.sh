#!/bin/bash
# The peer of `etcdwiz apply` in bench/apply-bench.sh (not a test): the seed
# (ha-external-etcd-with-static-pods.txt, "Set up an external etcd cluster
# with static pods") followed step by step with ssh and scp as written,
# sequentially host by host, from an admin machine, each ssh a fresh
# connection. Ends only when `etcdctl endpoint health --cluster`, run on the
# first host with its certificates, reports every member healthy.
#
# Usage: seed-by-hand.sh [-i IDENTITY] [-k KNOWN_HOSTS] [-u USER] [-w WORKDIR]
#                        [-t WAIT_S] NAME=IP...
#   defaults: the lab's key and known_hosts, root, a temporary WORKDIR
#   (removed at exit; a -w WORKDIR is kept: WORKDIR/IP/pki holds each host's
#   certificates), a 180 s bound on the health wait.
# Prints one line per phase and the total on stderr; exit 0 = healthy.
#
# Where the lab makes the seed's text impossible, and what stands in:
#   S3-2 `yum install iproute-tc`, S3-3 CRI-O, S3-4 kubelet/kubeadm/kubectl,
#     S3-5's crio.conf edit and S3-12's etcdctl download: skipped (no
#     network; the lab hosts already hold iproute2, the kubelet stand-in and
#     Debian's etcdctl 3.4.23). etcdwiz does not install them there either
#     (runtime.install: false only verifies kubelet).
#   S3-6 kubeadmcfg.yaml and S3-7/S3-8 `kubeadm init phase certs ...`: the
#     openssl command line makes the same files (kubeadm's subjects, SANs,
#     usages, RSA-2048 PKCS#1 keys) in WORKDIR/${HOST}/pki, as the seed
#     makes them in /tmp/${HOST}/; the CA key goes only to the first host.
#   S3-11 `kubeadm init phase etcd local`: the manifest kubeadm writes for
#     etcd 3.4 (flags, /health probes, volumes) is written over ssh.
#   `vim FILE` in the seed is `cat > FILE` over ssh; the directories a
#     kubeadm package would have made (kubelet.service.d, /etc/kubernetes)
#     are made with mkdir -p.
set -eu
LAB=/var/lib/etcdwiz-lab
identity=$LAB/id_ed25519 known=$LAB/known_hosts user=root work='' wait_s=180
while getopts i:k:u:w:t: o; do
	case $o in
	i) identity=$OPTARG ;;
	k) known=$OPTARG ;;
	u) user=$OPTARG ;;
	w) work=$OPTARG ;;
	t) wait_s=$OPTARG ;;
	*) echo "usage: seed-by-hand.sh [-i KEY] [-k KNOWN_HOSTS] [-u USER] [-w DIR] [-t WAIT_S] NAME=IP..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "seed-by-hand: no hosts (NAME=IP...)" >&2; exit 2; }
NAMES=() HOSTS=()
for m in "$@"; do
	NAMES+=("${m%%=*}")
	HOSTS+=("${m#*=}")
done
if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/seed-by-hand.XXXXXX")
	trap 'rm -rf "$work"' EXIT
else
	mkdir -p "$work"
fi
umask 077

# Each call a fresh connection, as `ssh root@etcd02` typed in a loop is.
SSH_OPTS=(-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$known"
	-o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -i "$identity" -o ConnectTimeout=10
	-o LogLevel=ERROR)
# The commands are built here, on purpose (SC2029).
# shellcheck disable=SC2029
rsh() { local h=$1; shift; ssh "${SSH_OPTS[@]}" "$user@$h" "$@"; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }
t_start=$(now_ms) t_phase=$t_start
phase() {	# phase NAME: report the time since the previous phase
	local t
	t=$(now_ms)
	printf 'seed-by-hand: %-10s %6d ms\n' "$1" $((t - t_phase)) >&2
	t_phase=$t
}

# ---- S3-1, S3-2, S3-5: prerequisites, one ssh per seed step, host by host ----
for HOST in "${HOSTS[@]}"; do
	# S3-1. Turn off swap
	rsh "$HOST" "swapoff -a && sed -i '/ swap / s/^\(.*\)$/#\1/g' /etc/fstab"
	# S3-2. modules: the file, then modprobe (overlay and br_netfilter are built
	# into the lab's kernel and there is no /lib/modules: then the module's
	# effect is what counts, as etcdwiz checks it)
	rsh "$HOST" "cat > /etc/modules-load.d/k8s.conf <<'EOF'
overlay
br_netfilter
EOF
modprobe overlay 2>/dev/null || grep -qw overlay /proc/filesystems
modprobe br_netfilter 2>/dev/null || [ -d /proc/sys/net/bridge ]"
	# S3-2. sysctl: the file, then sysctl --system (as written; it re-applies
	# every file, some of whose keys a container may not set: its own
	# three keys are checked instead of its exit status)
	rsh "$HOST" "cat > /etc/sysctl.d/k8s.conf <<'EOF'
net.bridge.bridge-nf-call-iptables = 1
net.ipv4.ip_forward = 1
net.bridge.bridge-nf-call-ip6tables = 1
EOF
sysctl --system >/dev/null 2>&1 || true
[ \"\$(sysctl -n net.bridge.bridge-nf-call-iptables net.ipv4.ip_forward net.bridge.bridge-nf-call-ip6tables | tr -d '\n')\" = 111 ]"
	# S3-5. the kubelet drop-in, daemon-reload, restart kubelet
	rsh "$HOST" "mkdir -p /usr/lib/systemd/system/kubelet.service.d && cat << EOF > /usr/lib/systemd/system/kubelet.service.d/20-etcd-service-manager.conf
[Service]
ExecStart=
ExecStart=/usr/bin/kubelet --address=127.0.0.1 --pod-manifest-path=/etc/kubernetes/manifests --cgroup-driver=systemd --runtime-request-timeout=15m --container-runtime-endpoint=unix:///var/run/crio/crio.sock
Restart=always
EOF
systemctl daemon-reload && systemctl restart kubelet"
done
phase prepare

# ---- S3-7, S3-8: certificates (openssl standing in for kubeadm's phases) ----
genkey() { openssl genrsa -traditional -out "$1" 2048 2>/dev/null; }
serial() { printf '0x%016x' $(( (RANDOM << 48 | RANDOM << 32 | RANDOM << 16 | RANDOM) & 0x7fffffffffffffff | 1 )); }
CA=$work/ca/etcd
mkdir -p "$CA"
# S3-7. kubeadm init phase certs etcd-ca
genkey "$CA/ca.key"
openssl req -x509 -new -key "$CA/ca.key" -subj /CN=etcd-ca -days 3650 -sha256 \
	-set_serial "$(serial)" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
	-addext "subjectAltName=DNS:etcd-ca" \
	-addext "subjectKeyIdentifier=hash" -out "$CA/ca.crt"
leaf() {	# leaf BASE CN EXTENDED_KEY_USAGE [SAN]
	genkey "$1.key"
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=$3"
		echo "authorityKeyIdentifier=keyid"
		[ -z "${4:-}" ] || echo "subjectAltName=$4"
	} >"$1.ext"
	openssl req -new -key "$1.key" -subj "/CN=$2" |
		openssl x509 -req -CA "$CA/ca.crt" -CAkey "$CA/ca.key" -set_serial "$(serial)" \
			-days 365 -sha256 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
	rm -f "$1.ext"
}
# S3-8. per member: etcd-server, etcd-peer, etcd-healthcheck-client,
# apiserver-etcd-client, with the member's name and IP as kubeadm puts them
for i in "${!HOSTS[@]}"; do
	HOST=${HOSTS[$i]} NAME=${NAMES[$i]}
	P=$work/$HOST/pki
	mkdir -p "$P/etcd"
	cp "$CA/ca.crt" "$P/etcd/ca.crt"
	SAN="DNS:$NAME,DNS:localhost,IP:$HOST,IP:127.0.0.1,IP:::1"
	leaf "$P/etcd/server" "$NAME" serverAuth,clientAuth "$SAN"
	leaf "$P/etcd/peer" "$NAME" serverAuth,clientAuth "$SAN"
	leaf "$P/etcd/healthcheck-client" kube-etcd-healthcheck-client clientAuth
	leaf "$P/apiserver-etcd-client" kube-apiserver-etcd-client clientAuth
done
# The CA key stays with the first member only (the seed's etcd01).
cp "$CA/ca.key" "$work/${HOSTS[0]}/pki/etcd/ca.key"
phase certs

# ---- S3-9: copy to every host ----
for HOST in "${HOSTS[@]}"; do
	scp -q -r "${SSH_OPTS[@]}" "$work/$HOST/pki" "$user@$HOST:"
	rsh "$HOST" "chown -R root:root pki && mkdir -p /etc/kubernetes && mv pki /etc/kubernetes/"
done
phase copy

# ---- S3-11: the static pod manifest (kubeadm's, for etcd 3.4) on every host ----
INITIAL=
for i in "${!HOSTS[@]}"; do
	INITIAL=$INITIAL${INITIAL:+,}${NAMES[$i]}=https://${HOSTS[$i]}:2380
done
probe() {	# probe KIND FAILURES: kubeadm's probe for etcd before 3.5.3
	cat <<EOF
    $1:
      failureThreshold: $2
      httpGet:
        host: 127.0.0.1
        path: /health
        port: 2381
        scheme: HTTP
      initialDelaySeconds: 10
      periodSeconds: 10
      timeoutSeconds: 15
EOF
}
for i in "${!HOSTS[@]}"; do
	HOST=${HOSTS[$i]} NAME=${NAMES[$i]}
	{
		cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/etcd.advertise-client-urls: https://$HOST:2379
  creationTimestamp: null
  labels:
    component: etcd
    tier: control-plane
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://$HOST:2379
    - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    - --client-cert-auth=true
    - --data-dir=/var/lib/etcd
    - --experimental-initial-corrupt-check=true
    - --experimental-watch-progress-notify-interval=5s
    - --initial-advertise-peer-urls=https://$HOST:2380
    - --initial-cluster=$INITIAL
    - --initial-cluster-state=new
    - --key-file=/etc/kubernetes/pki/etcd/server.key
    - --listen-client-urls=https://127.0.0.1:2379,https://$HOST:2379
    - --listen-metrics-urls=http://127.0.0.1:2381
    - --listen-peer-urls=https://$HOST:2380
    - --name=$NAME
    - --peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt
    - --peer-client-cert-auth=true
    - --peer-key-file=/etc/kubernetes/pki/etcd/peer.key
    - --peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    - --snapshot-count=10000
    - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    image: registry.k8s.io/etcd:3.4.23-0
    imagePullPolicy: IfNotPresent
EOF
		probe livenessProbe 8
		cat <<EOF
    name: etcd
    resources:
      requests:
        cpu: 100m
        memory: 100Mi
EOF
		probe startupProbe 24
		cat <<EOF
    volumeMounts:
    - mountPath: /var/lib/etcd
      name: etcd-data
    - mountPath: /etc/kubernetes/pki/etcd
      name: etcd-certs
  hostNetwork: true
  priority: 2000001000
  priorityClassName: system-node-critical
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - hostPath:
      path: /etc/kubernetes/pki/etcd
      type: DirectoryOrCreate
    name: etcd-certs
  - hostPath:
      path: /var/lib/etcd
      type: DirectoryOrCreate
    name: etcd-data
status: {}
EOF
	} | rsh "$HOST" "mkdir -p /etc/kubernetes/manifests && cat > /etc/kubernetes/manifests/etcd.yaml"
done
phase manifests

# ---- S3-13: verify, from the first host with its certificates, until every
# member is healthy (every 2 s, as etcdwiz's verify step polls), bounded ----
deadline=$(($(date +%s) + wait_s))
n=${#HOSTS[@]}
while :; do
	healthy=$(rsh "${HOSTS[0]}" "ETCDCTL_API=3 etcdctl \
--cert /etc/kubernetes/pki/etcd/peer.crt \
--key /etc/kubernetes/pki/etcd/peer.key \
--cacert /etc/kubernetes/pki/etcd/ca.crt \
--endpoints https://${HOSTS[0]}:2379 endpoint health --cluster 2>&1" | grep -c ' is healthy' || true)
	[ "$healthy" -ge "$n" ] && break
	if [ "$(date +%s)" -ge "$deadline" ]; then
		phase wait
		echo "seed-by-hand: only $healthy of $n members healthy after ${wait_s} s" >&2
		exit 1
	fi
	sleep 2
done
phase wait
printf 'seed-by-hand: %-10s %6d ms (%d of %d members healthy)\n' total $(($(now_ms) - t_start)) "$healthy" "$n" >&2
