#!/bin/bash
# Certificates across the fleet on a 3-member lab with a control-plane host
# (cp-1, which runs a stand-in kube-apiserver static pod: a copy of sleep
# named kube-apiserver, so that its restarts are seen): check-expiration
# --hosts (a certificate replaced by hand on one host is reported as not
# matching the store), `certs rotate all` and a whole `certs rotate-ca`
# while a client writes every 100 ms (every write counted; each member's
# served serials change; the control-plane host's files pass the /version
# proof), a client trusting only the old CA refused by every member and
# one trusting the new CA served, a rotate-ca killed in phase 2 and run
# again, and no key material in the journals.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
command -v openssl >/dev/null || tap_skip_all "openssl missing"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"
export XDG_DATA_HOME="$TAP_TMP/xdg"

tap_plan 36
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"
tap_on_exit "touch '$TAP_TMP/stop-writer'"

"$ETCDWIZ" lab up -n 3 --control-plane -q >"$TAP_TMP/up" 2>&1
tap_is "lab up -n 3 --control-plane" 0 $?
FILE="$TAP_TMP/cluster.yaml"
cp "$LAB/cluster.yaml" "$FILE"
"$ETCDWIZ" apply --yes -f "$FILE" >"$TAP_TMP/apply0" 2>&1
tap_is "apply makes the cluster and the control-plane host's files" 0 $?
ETCDCTL=$(etcdctl35_path)
PKI="$XDG_DATA_HOME/etcdwiz/lab/pki"
CP=198.51.100.14

# The stand-in kube-apiserver on cp-1, run by the kubelet stand-in.
# (kubeadm configures kubelet on a real control-plane host; here a drop-in
# points the stand-in at the manifests directory.)
lab_ssh $CP 'cp /bin/sleep /usr/local/bin/kube-apiserver && mkdir -p /etc/kubernetes/manifests /etc/systemd/system/kubelet.service.d &&
	printf "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --pod-manifest-path=/etc/kubernetes/manifests\n" \
		>/etc/systemd/system/kubelet.service.d/20-test-apiserver.conf &&
	cat >/etc/kubernetes/manifests/kube-apiserver.yaml <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver
  namespace: kube-system
spec:
  hostNetwork: true
  containers:
  - name: kube-apiserver
    image: registry.k8s.io/kube-apiserver:v1.31.0
    command: ["/usr/local/bin/kube-apiserver", "1d"]
YAML
	systemctl daemon-reload && systemctl restart kubelet
	for i in $(seq 30); do pgrep -x kube-apiserver && exit 0; sleep 1; done; exit 1' >"$TAP_TMP/apiserver" 2>&1
tap_is "cp-1 runs a kube-apiserver static pod" 0 $?
apiserver_pid() { lab_ssh $CP 'pgrep -x kube-apiserver' 2>/dev/null | tr '\n' ' '; }

for i in $(seq 100); do lab_etcdctl "$ETCDCTL" put "/before/$i" "v$i" >/dev/null 2>&1; done
keys_back() { lab_etcdctl "$ETCDCTL" get /before/ --prefix --print-value-only 2>/dev/null | grep -c '^v[0-9]*$'; }
tap_is "100 keys written before the changes" 100 "$(keys_back)"

# served_serials: each member's "served :2379/:2380" serials from openssl
# (not etcdwiz), trusting the store's bundle.
served_serials() {
	local a p
	for a in 11 12 13; do
		for p in 2379 2380; do
			timeout 10 openssl s_client -connect "198.51.100.$a:$p" -CAfile "$PKI/members/etcd-1/etcd/ca.crt" \
				-cert "$PKI/members/etcd-1/etcd/healthcheck-client.crt" \
				-key "$PKI/members/etcd-1/etcd/healthcheck-client.key" </dev/null 2>/dev/null |
				openssl x509 -noout -serial 2>/dev/null | tr '\n' ' '
		done
	done
}

# ---- check-expiration --hosts ----
"$ETCDWIZ" certs check-expiration --hosts -f "$FILE" >"$TAP_TMP/check0" 2>&1
tap_is "check-expiration --hosts exits 0 on a fresh cluster" 0 $?
tap_is "a row per file and per served port: 3 x (5 + 2) + 2 on cp-1" 23 \
	"$(grep -cE '^(etcd-[123]|cp-1) ' "$TAP_TMP/check0")"
tap_is "every row matches the store" 0 "$(grep -E '^(etcd-[123]|cp-1) ' "$TAP_TMP/check0" | grep -vc ' yes$')"
grep -E '^etcd-1 +served :2379' "$TAP_TMP/check0" | sed 's/^/# /'
# etcd-2's healthcheck-client certificate replaced by hand (etcd-3's).
lab_ssh 198.51.100.13 'cat /etc/kubernetes/pki/etcd/healthcheck-client.crt' >"$TAP_TMP/hc3.crt"
lab_ssh 198.51.100.12 'cat >/etc/kubernetes/pki/etcd/healthcheck-client.crt' <"$TAP_TMP/hc3.crt"
"$ETCDWIZ" certs check-expiration --hosts -f "$FILE" >"$TAP_TMP/check1" 2>&1
tap_is "a hand-replaced certificate does not fail the check (nothing expires)" 0 $?
tap_grep "etcd-2's hand-replaced certificate does not match the store" \
	'^etcd-2 +etcd-healthcheck-client .* NO$' "$TAP_TMP/check1"
tap_is "only that row does not match" 1 "$(grep -E '^(etcd-[123]|cp-1) ' "$TAP_TMP/check1" | grep -c ' NO$')"
tap_grep "and it is said how to fix it" 'etcd-2:/etc/kubernetes/pki/etcd/healthcheck-client.crt is not the local store' "$TAP_TMP/check1"
"$ETCDWIZ" certs check-expiration --hosts --warn 400d -f "$FILE" >"$TAP_TMP/check2" 2>&1
tap_is "--warn 400d: every certificate is within it, exit 1" 1 $?
tap_grep "the warning names the command" "!WARNING! etcd-server on etcd-1 expires in .* run 'etcdwiz certs rotate -f" "$TAP_TMP/check2"

# ---- certs rotate all, under a writer ----
SERIALS0=$(served_serials)
APIPID0=$(apiserver_pid)
lab_writer 6000 lab_etcdctl "$ETCDCTL" &
WRITER=$!
sleep 1
"$ETCDWIZ" certs rotate all --yes -f "$FILE" >"$TAP_TMP/rotate" 2>&1
rc=$?
tap_is "certs rotate all exits 0" 0 $rc
[ $rc -eq 0 ] || tail -30 "$TAP_TMP/rotate" | sed 's/^/# /'
J=$(ls -t "$XDG_DATA_HOME"/etcdwiz/lab/journal/*-apply.log | head -n 1)
tap_is "one member at a time: each served its new certificates before the next" \
	"turn etcd-A
serves etcd-A
turn etcd-B
serves etcd-B
turn etcd-C
serves etcd-C" "$(grep -oE 'roll: (etcd-[0-9] takes its turn|etcd-[0-9] healthy with its new)' "$J" |
	sed -E 's/roll: (etcd-[0-9]) takes.*/turn \1/; s/roll: (etcd-[0-9]) healthy.*/serves \1/' |
	awk '{ if (!($2 in n)) n[$2] = sprintf("etcd-%c", 64 + ++k); print $1, n[$2] }')"
SERIALS1=$(served_serials)
changed=0
for i in $(seq 6); do
	[ "$(echo "$SERIALS0" | cut -d' ' -f$i)" != "$(echo "$SERIALS1" | cut -d' ' -f$i)" ] && changed=$((changed + 1))
done
tap_is "every member serves new certificates on 2379 and 2380 (openssl)" 6 $changed
APIPID1=$(apiserver_pid)
tap_check "kube-apiserver on cp-1 was restarted (a new process)" test -n "$APIPID1" -a "$APIPID1" != "$APIPID0"
tap_grep "cp-1's new client files passed the /version proof against every member" \
	'cp-1 kubernetes (ok|changed)' "$J"
"$ETCDWIZ" certs check-expiration --hosts -f "$FILE" >"$TAP_TMP/check3" 2>&1
tap_is "after the rotation every row matches the store again (etcd-2's file too)" 0 \
	"$(grep -E '^(etcd-[123]|cp-1) ' "$TAP_TMP/check3" | grep -vc ' yes$')"

# ---- rotate-ca, under the same writer ----
cp "$PKI/ca/etcd/ca.crt" "$TAP_TMP/old-ca.crt"
"$ETCDWIZ" certs rotate-ca --yes -f "$FILE" >"$TAP_TMP/rotate-ca" 2>&1
rc=$?
tap_is "certs rotate-ca runs its three phases and exits 0" 0 $rc
[ $rc -eq 0 ] || tail -40 "$TAP_TMP/rotate-ca" | sed 's/^/# /'
tap_is "each phase done with every member seeing every other" 3 \
	"$(grep -c 'every member lists every other as started' "$TAP_TMP/rotate-ca")"
sleep 1
touch "$TAP_TMP/stop-writer"
wait "$WRITER"
rm -f "$TAP_TMP/stop-writer"
tap_is "the writer's puts through rotate and rotate-ca all succeeded ($(wc -l <"$TAP_TMP/w-ok") ok, $(wc -l <"$TAP_TMP/w-retried") re-sent once)" \
	0 "$(wc -l <"$TAP_TMP/w-fail")"
[ -s "$TAP_TMP/w-fail" ] && sort -u "$TAP_TMP/w-errors" | head -5 | sed 's/^/# /'
tap_is "the 100 keys written before read back" 100 "$(keys_back)"
# version_with CAFILE ADDR: /version through openssl s_client trusting only
# CAFILE, with the store's (new) client certificate; the answer or nothing.
version_with() {
	printf 'GET /version HTTP/1.1\r\nHost: %s:2379\r\nConnection: close\r\n\r\n' "$2" |
		timeout 10 openssl s_client -quiet -verify_return_error -connect "$2:2379" -CAfile "$1" \
			-cert "$PKI/members/etcd-1/etcd/healthcheck-client.crt" \
			-key "$PKI/members/etcd-1/etcd/healthcheck-client.key" 2>/dev/null | grep -c '"etcdserver"'
}
refused=0 served=0
for a in 11 12 13; do
	[ "$(version_with "$TAP_TMP/old-ca.crt" "198.51.100.$a")" = 0 ] && refused=$((refused + 1))
	[ "$(version_with "$PKI/ca/etcd/ca.crt" "198.51.100.$a")" = 1 ] && served=$((served + 1))
done
tap_is "a client trusting only the old CA is refused by every member" 3 $refused
tap_is "a client trusting the new CA is served by every member" 3 $served
ARCH=$(ls -d "$PKI"/archive/etcd-ca-* 2>/dev/null | head -n 1)
tap_check "the old CA and its key are archived in the store" cmp "$ARCH/etcd/ca.crt" "$TAP_TMP/old-ca.crt"
tap_check "the trust files hold the new CA alone" cmp "$PKI/members/etcd-3/etcd/ca.crt" "$PKI/ca/etcd/ca.crt"
lab_ssh $CP 'cat /etc/kubernetes/pki/etcd/ca.crt' >"$TAP_TMP/cp-ca.crt"
tap_check "cp-1's etcd/ca.crt is the new CA" cmp "$TAP_TMP/cp-ca.crt" "$PKI/ca/etcd/ca.crt"
lab_etcdctl "$ETCDCTL" endpoint health >"$TAP_TMP/health" 2>&1
tap_is "Debian's etcdctl with the new certificates: every endpoint healthy" 3 "$(grep -c 'is healthy' "$TAP_TMP/health")"

# ---- a second rotate-ca killed in phase 2, then run again ----
"$ETCDWIZ" certs rotate-ca --yes --phase 1 -f "$FILE" >"$TAP_TMP/ca2-1" 2>&1
tap_is "a second rotation's phase 1 alone (--phase 1)" 0 $?
JDIR="$XDG_DATA_HOME/etcdwiz/lab/journal"
LAST=$(ls -t "$JDIR"/*-apply.log | head -n 1)
"$ETCDWIZ" certs rotate-ca --yes -f "$FILE" >"$TAP_TMP/ca2-2" 2>&1 &
PID=$!
# Killed once phase 2's apply has given the first member its new
# certificates (each turn takes about 0.1 s; cp-1's restart a second more).
for i in $(seq 1000); do
	J2=$(ls -t "$JDIR"/*-apply.log | head -n 1)
	[ "$J2" != "$LAST" ] && grep -q 'roll: etcd-[0-9] takes its turn' "$J2" 2>/dev/null && break
	sleep 0.02
done
kill -9 $PID
wait $PID 2>/dev/null
grep 'roll:' "$J2" | sed 's/^/# /'
tap_grep "the kill came in phase 2" 'Phase 2 of 3' "$TAP_TMP/ca2-2"
"$ETCDWIZ" certs rotate-ca --yes -f "$FILE" >"$TAP_TMP/ca2-3" 2>&1
rc=$?
tap_is "run again, it completes (exit 0)" 0 $rc
[ $rc -eq 0 ] || tail -30 "$TAP_TMP/ca2-3" | sed 's/^/# /'
tap_grep "it went on with phase 2, where it stopped" 'under way since .*: phase 2 was not finished' "$TAP_TMP/ca2-3"
lab_etcdctl "$ETCDCTL" endpoint health >"$TAP_TMP/health2" 2>&1
tap_is "every endpoint healthy after the resumed rotation" 3 "$(grep -c 'is healthy' "$TAP_TMP/health2")"
tap_is "two old CAs archived" 2 "$(ls -d "$PKI"/archive/etcd-ca-* | wc -l)"
tap_is "the journals hold no key material" 0 \
	"$(cat "$XDG_DATA_HOME"/etcdwiz/lab/journal/*.log | grep -c 'PRIVATE KEY\|BEGIN CERTIFICATE')"
