# Sourced by the lab tests after tap.sh: skip when the lab cannot run here,
# take the machine's one lab (a lock shared by every lab test), and make the
# built stand-in findable. Sets LAB.
[ -z "${ETCDWIZ_SKIP_LAB:-}" ] || tap_skip_all "configured with --disable-lab-tests (make distcheck runs the lab tests only on the tree)"
[ "$(id -u)" -eq 0 ] || tap_skip_all "the lab needs root (CI runs make check as root)"
command -v systemd-nspawn >/dev/null || tap_skip_all "systemd-nspawn missing: apt-get install systemd-container"
command -v ssh >/dev/null || tap_skip_all "ssh missing: apt-get install openssh-client"
LAB=/var/lib/etcdwiz-lab
LAB_ETCD_HOST_DIR=/opt/etcdwiz-lab/etcd	# the cached etcd versions, as a host sees them
# Debian's etcdctl 3.5 (from the lab's cache, once lab up has filled it):
# the newest 3.5 there, the one the lab's cluster file names by default.
etcdctl35_path() { ls -d "$LAB"/etcd/3.5.*/etcdctl 2>/dev/null | sort -V | tail -n 1; }
# lab_etcdctl ETCDCTL ARGS...: that etcdctl against the 3-member lab with
# etcd-1's healthcheck-client pair from the store in $XDG_DATA_HOME.
lab_etcdctl() {
	local bin=$1 pki="$XDG_DATA_HOME/etcdwiz/lab/pki/members/etcd-1"
	shift
	ETCDCTL_API=3 timeout 30 "$bin" --cacert "$pki/etcd/ca.crt" --cert "$pki/etcd/healthcheck-client.crt" \
		--key "$pki/etcd/healthcheck-client.key" \
		--endpoints https://198.51.100.11:2379,https://198.51.100.12:2379,https://198.51.100.13:2379 "$@"
}
if [ ! -e "$LAB/base/etc/etcdwiz-lab-base" ] && ! command -v debootstrap >/dev/null; then
	tap_skip_all "no cached lab base tree and no debootstrap: apt-get install debootstrap"
fi
exec 9>/run/etcdwiz-lab-test.lock
flock -w 1800 9 || tap_skip_all "another lab test held the lab for 30 minutes"
[ -e "$LAB/state" ] && tap_skip_all "a lab is up already; this test would remove it (run 'etcdwiz lab down' first)"
# The stand-in (built) and the unit/setup files (sources) of this tree.
ETCDWIZ_LAB_PATH="${TOP_BUILDDIR:-.}/lab:${TOP_SRCDIR:-.}/lab"
export ETCDWIZ_LAB_PATH

# lab_ssh ADDR COMMAND...: root on a lab host with the lab's key, strictly.
lab_ssh() {
	local to=$1
	shift
	timeout 60 ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$LAB/known_hosts" \
		-o ConnectTimeout=10 -o LogLevel=ERROR -i "$LAB/id_ed25519" "root@$to" "$@"
}

# break_etcd ADDR / mend_etcd ADDR: the host's etcd cannot start (its data
# directory's member/ is moved aside and a file put in its place: etcd
# exits with "not a directory"), then can again (member/ back, kubelet
# restarted: no back-off).
break_etcd() {
	lab_ssh "$1" 'd=/var/lib/etcd; [ -d $d/member ] && [ ! -e $d/member.away ] && mv $d/member $d/member.away;
		rm -rf $d/member; echo "broken for this test" >$d/member; pkill -x etcd; true' >/dev/null 2>&1
}
mend_etcd() {
	lab_ssh "$1" 'd=/var/lib/etcd; if [ -f $d/member ]; then rm -f $d/member;
		[ -d $d/member.away ] && mv $d/member.away $d/member; fi; systemctl restart kubelet' >/dev/null 2>&1
}

# lab_writer MAX CLIENT...: "CLIENT --command-timeout=10s put /w/N N" every
# 100 ms until $TAP_TMP/stop-writer exists (at most MAX puts); each put is
# counted in $TAP_TMP/w-ok or w-fail, etcdctl's complaints go to w-errors.
# Run it in the background through a change that must keep quorum.
#
# A put cut off by the member it went to stopping (etcd with client TLS
# stops its gRPC server without draining: "transport is closing", or the
# empty "200 ... missing HTTP content-type" of its HTTP handler), or one
# etcd answers "etcdserver: request timed out" (its ErrTimeout: the
# proposal was in flight when the leadership moved away from a member
# about to restart; etcd documents it as "may or may not have been
# applied, retry"), is sent again once, at once, as any client of a
# restarting member must; the put is idempotent (the same key and value),
# and the retried ones are counted in w-retried. Anything else (a client
# timeout, no leader, every member refusing) is a failed write, and so is
# a retry that fails: an outage of quorum, which lasts longer than the
# immediate retry, still fails it.
lab_writer() {
	local max=$1 i=0 err
	shift
	: >"$TAP_TMP/w-ok"
	: >"$TAP_TMP/w-fail"
	: >"$TAP_TMP/w-retried"
	err="$TAP_TMP/w-last-error"
	while [ $i -lt "$max" ] && [ ! -e "$TAP_TMP/stop-writer" ]; do
		if "$@" --command-timeout=10s put "/w/$i" "$i" >/dev/null 2>"$err"; then
			echo "$i" >>"$TAP_TMP/w-ok"
		elif grep -qE 'transport is closing|missing HTTP content-type|etcdserver: request timed out' "$err" &&
			"$@" --command-timeout=10s put "/w/$i" "$i" >/dev/null 2>>"$err"; then
			echo "$i" >>"$TAP_TMP/w-ok"
			echo "$i" >>"$TAP_TMP/w-retried"
		else
			echo "$i" >>"$TAP_TMP/w-fail"
		fi
		sed "s/^/put $i: /" "$err" >>"$TAP_TMP/w-errors"
		i=$((i + 1))
		sleep 0.1
	done
}

# lab_versions: each of the 3 members' /version ("SERVER/CLUSTER ...") read
# with openssl s_client and etcd-1's healthcheck-client pair (not etcdwiz).
lab_versions() {
	local a pki="$XDG_DATA_HOME/etcdwiz/lab/pki/members/etcd-1/etcd"
	for a in 11 12 13; do
		printf 'GET /version HTTP/1.1\r\nHost: 198.51.100.%s:2379\r\nConnection: close\r\n\r\n' "$a" |
			timeout 10 openssl s_client -quiet -connect "198.51.100.$a:2379" -CAfile "$pki/ca.crt" \
				-cert "$pki/healthcheck-client.crt" -key "$pki/healthcheck-client.key" 2>/dev/null |
			tr -d '\r' | grep '^{' | jq -r '"\(.etcdserver)/\(.etcdcluster)"'
	done | tr '\n' ' ' | sed 's/ $//'
}
# lab_manifests_sum: the SHA-256 of each member's etcd manifest.
lab_manifests_sum() {
	local a
	for a in 11 12 13; do lab_ssh "198.51.100.$a" 'sha256sum </etc/kubernetes/manifests/etcd.yaml'; done | tr '\n' ' '
}
