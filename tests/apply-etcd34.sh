#!/bin/bash
# The lab's other etcd: `lab up --etcd 3.4.23` (Debian 12's etcd) names it in
# the cluster file; apply renders 3.4's manifest (plain /health probes, no
# readiness probe) and the stand-in runs that binary; status reads the
# cluster as 3.4.23 on every member. (The other lab tests run 3.5.30.)
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
command -v jq >/dev/null || tap_skip_all "jq missing: apt-get install jq"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"
export XDG_DATA_HOME="$TAP_TMP/xdg"

tap_plan 12
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"

"$ETCDWIZ" lab up -n 3 --etcd 3.4.23 -q >"$TAP_TMP/up" 2>&1
tap_is "lab up --etcd 3.4.23" 0 $?
tap_grep "the cluster file names etcd 3.4.23" '^  version: "?3\.4\.23"?$' "$LAB/cluster.yaml"
"$ETCDWIZ" apply --yes -f "$LAB/cluster.yaml" >"$TAP_TMP/apply" 2>&1
rc=$?
tap_is "apply makes a 3-member cluster of etcd 3.4.23" 0 $rc
[ $rc -eq 0 ] || tail -30 "$TAP_TMP/apply" | sed 's/^/# /'
lab_ssh 198.51.100.12 'grep -c "readinessProbe" /etc/kubernetes/manifests/etcd.yaml; grep -oE "path: /(health|livez|readyz)" /etc/kubernetes/manifests/etcd.yaml | sort -u' \
	>"$TAP_TMP/probes" 2>&1
tap_is "3.4's manifest: /health probes, no readiness probe" "0
path: /health" "$(cat "$TAP_TMP/probes")"
lab_ssh 198.51.100.12 'p=$(pgrep -x etcd | head -n 1); cmp /proc/$p/exe '"$LAB_ETCD_HOST_DIR"'/3.4.23/etcd && echo same' >"$TAP_TMP/bin" 2>&1
tap_is "the stand-in runs the cached 3.4.23 binary" "same" "$(cat "$TAP_TMP/bin")"

timeout 60 "$ETCDWIZ" status -f "$LAB/cluster.yaml" --once -o json >"$TAP_TMP/s.json" 2>"$TAP_TMP/s.err"
tap_is "status --once on it exits 0" 0 $?
tap_is "every member reports etcd 3.4.23" "3.4.23 3.4.23 3.4.23" \
	"$(jq -r '[.members[].version] | join(" ")' "$TAP_TMP/s.json")"
lab_etcdctl "$LAB/etcd/3.4.23/etcdctl" endpoint health >"$TAP_TMP/health" 2>&1
tap_is "Debian 12's etcdctl 3.4.23: 3 healthy endpoints" 3 "$(grep -c 'is healthy' "$TAP_TMP/health")"

# The pod sees only its image and its volumes, as in a container: no
# manifests directory, no host /usr/bin; its data and certificates are there.
lab_ssh 198.51.100.13 'p=$(pgrep -x etcd | head -n 1); r=/proc/$p/root;
	test -d $r/etc/kubernetes/pki/etcd && test -d $r/var/lib/etcd/member && echo volumes;
	test -e $r/etc/kubernetes/manifests || echo no-manifests; test -e $r/usr/bin/sh || echo no-shell' >"$TAP_TMP/root" 2>&1
tap_is "etcd's pod sees its volumes and nothing else of the host" "volumes
no-manifests
no-shell" "$(cat "$TAP_TMP/root")"
# A manifest that forgets the certificates' volume: the pod fails on the
# lab as under a real kubelet (the files are not in its filesystem).
lab_ssh 198.51.100.13 'cp /etc/kubernetes/manifests/etcd.yaml /root/etcd.yaml.keep &&
	awk '\''/- mountPath: "?\/etc\/kubernetes\/pki\/etcd"?$/ { skip = 2 } skip > 0 { skip--; next } { print }'\'' /root/etcd.yaml.keep >/root/etcd.yaml.nocerts &&
	cp /root/etcd.yaml.nocerts /etc/kubernetes/manifests/etcd.yaml' >/dev/null 2>&1
tap_is "the manifest without the certificates' mount is in place (the volume stays)" 1 \
	"$(lab_ssh 198.51.100.13 'grep -c "name: etcd-certs" /etc/kubernetes/manifests/etcd.yaml')"
crashing() { lab_ssh 198.51.100.13 'grep -qx "reason=CrashLoopBackOff" /run/kubelet-standin/status/kube-system_etcd_etcd'; }
tap_check "the pod without its certificates' volume fails and is restarted (CrashLoopBackOff)" wait_for 60 crashing
lab_ssh 198.51.100.13 'cat $(ls -t /var/log/pods/kube-system_etcd_*/etcd/*.log | head -n 1)' >"$TAP_TMP/nocerts.log" 2>&1
tap_grep "... its log says the certificate is not there" 'pki/etcd/.*(no such file|not exist)' "$TAP_TMP/nocerts.log"
lab_ssh 198.51.100.13 'cp /root/etcd.yaml.keep /etc/kubernetes/manifests/etcd.yaml' >/dev/null 2>&1
