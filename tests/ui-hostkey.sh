#!/bin/bash
# The wizard's Connect screen against a real sshd on loopback (no lab):
# an unknown host key opens a dialog with the key type and its SHA256
# fingerprint (checked against ssh-keygen's) and Reject preselected,
# "accept and save" connects and writes known_hosts; a changed key stops with both fingerprints and
# no dialog offers to accept it.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || tap_skip_all "sshd missing: apt-get install openssh-server"
command -v ssh-keygen >/dev/null || tap_skip_all "ssh-keygen missing: apt-get install openssh-client"
[ "$(id -u)" -eq 0 ] || tap_skip_all "sshd on loopback logs in as root here (CI runs as root)"
tap_plan 7
T=$TAP_TMP
export XDG_DATA_HOME="$T/data" XDG_STATE_HOME="$T/state" ETCDWIZ_UI_DUMP_DIR="$T" ETCDWIZ_UI_IDLE_TIMEOUT=30
unset SSH_AUTH_SOCK

tap_need_sshd_dir
ssh-keygen -q -t ed25519 -N '' -C client -f "$T/id"
cp "$T/id.pub" "$T/authorized_keys"
ssh-keygen -q -t ed25519 -N '' -C host -f "$T/host"
. "${TOP_SRCDIR:-.}/tests/loopback-lib.sh"
loopback_sshd "$T" "PermitRootLogin prohibit-password"
KEEP=${KEEP_DIR:-}

cat >"$T/cluster.yaml" <<EOF
apiVersion: etcdwiz/v1
kind: Cluster
name: hostkey
kubernetesVersion: "1.33"
etcd:
  version: 3.5.21
ssh:
  user: root
  port: $port
  identityFile: $T/id
  knownHosts: $T/known_hosts
members:
  - name: m1
    address: 198.51.100.201
    sshHost: 127.0.0.1
EOF
fp=$(ssh-keygen -l -E sha256 -f "$T/host.pub" | awk '{ print $2 }')

# run NAME: the wizard on the cluster file with the keys on stdin.
run() {
	cat >"$T/$1.keys"
	env TERM=xterm ETCDWIZ_UI_SIZE=160x40 ETCDWIZ_UI_SCRIPT="$T/$1.keys" timeout 90 "$ETCDWIZ" wizard -f "$T/cluster.yaml" \
		</dev/null >"$T/$1.out" 2>"$T/$1.err"
}

: >"$T/known_hosts"
run unknown <<'KEYS'
<F3>
<F3>
:sleep 3000
:dump ask
<Left>
<Enter>
:sleep 3000
:dump connected
KEYS
tap_grep "an unknown key opens a dialog with its type" 'ssh-ed25519' "$T/ask.txt"
tap_check "... and the SHA256 fingerprint ssh-keygen gives ($fp)" grep -qF -- "$fp" "$T/ask.txt"
tap_grep "... offering accept once, accept and save, reject (the default)" '< Accept once > +< Accept and save > +< Reject >' "$T/ask.txt"
tap_grep "accepted and saved: the host connects" '1 of 1 hosts connected' "$T/connected.txt"
ssh-keygen -F "[127.0.0.1]:$port" -f "$T/known_hosts" >"$T/found" 2>&1
tap_grep "... and known_hosts holds the key (OpenSSH finds it)" "found: line 1" "$T/found"

# The same host with another key: a hard stop, both fingerprints shown.
ssh-keygen -q -t ed25519 -N '' -C other -f "$T/other"
printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$T/other.pub")" >"$T/known_hosts"
rm -rf "$XDG_STATE_HOME"
run changed <<'KEYS'
<F3>
<F3>
:sleep 3000
:dump changed
KEYS
tap_check "a changed key is a stop that shows the new fingerprint" grep -qF -- "$fp" "$T/changed.txt"
tap_check "... and the one known_hosts holds" \
	grep -qF -- "$(ssh-keygen -l -E sha256 -f "$T/other.pub" | awk '{ print $2 }')" "$T/changed.txt"
# KEEP_DIR=DIR keeps the screens (by hand, to look at them).
if [ -n "$KEEP" ]; then cp "$T"/*.txt "$T/found" "$KEEP"/; fi
