#!/bin/bash
# Debian 13 hosts: `lab up --release trixie` builds (once) and boots a lab of
# trixie hosts from their own base tree; preflight accepts them, and one
# apply runs every step of the seed there (3 members and a control-plane
# host, etcd 3.5), proven by Debian's etcdctl 3.5 and a second apply that
# changes nothing. A lab of one release is not silently turned into another.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"
export XDG_DATA_HOME="$TAP_TMP/xdg"

tap_plan 14
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"

"$ETCDWIZ" lab up --release sid >"$TAP_TMP/sid" 2>&1
tap_is "lab up --release with a release the lab lacks is a usage error (exit 2)" 2 $?
tap_grep "... naming the two it has" 'bookworm \(Debian 12\) or trixie \(Debian 13\)' "$TAP_TMP/sid"

"$ETCDWIZ" lab up -n 3 --control-plane --release trixie >"$TAP_TMP/up" 2>&1
rc=$?
tap_is "lab up -n 3 --control-plane --release trixie" 0 $rc
[ $rc -eq 0 ] || tail -20 "$TAP_TMP/up" | sed 's/^/# /'
tap_grep "lab up says the hosts are Debian 13" 'Lab up: 4 hosts \(Debian 13, systemd-nspawn\)' "$TAP_TMP/up"
for a in 11 12 13 14; do
	lab_ssh "198.51.100.$a" '. /etc/os-release; echo "$VERSION_ID $VERSION_CODENAME"'
done >"$TAP_TMP/os" 2>&1
tap_is "every host runs Debian 13 (trixie), from its own base tree" "4" "$(grep -cx '13 trixie' "$TAP_TMP/os")"
tap_grep "the trixie base tree is cached beside Debian 12's" 'Debian 13 \(trixie\)' "$LAB/base-trixie/etc/etcdwiz-lab-base"

"$ETCDWIZ" plan -f "$LAB/cluster.yaml" >"$TAP_TMP/plan" 2>&1
tap_is "preflight on Debian 13 hosts finds no OS error" 0 "$(grep -c '\[ERROR OS\]' "$TAP_TMP/plan")"

"$ETCDWIZ" apply --yes -f "$LAB/cluster.yaml" >"$TAP_TMP/apply" 2>&1
rc=$?
tap_is "apply on the Debian 13 lab exits 0" 0 $rc
[ $rc -eq 0 ] || tail -30 "$TAP_TMP/apply" | sed 's/^/# /'
# The apply's own recap (after the plan's).
last_recap() { awk '/^RECAP$/ { n = 0; next } { line[++n] = $0 } END { for (i = 1; i <= n; i++) print line[i] }' "$1"; }
tap_is "every host (3 members, cp-1) ends failed=0" 4 \
	"$(last_recap "$TAP_TMP/apply" | grep -cE '^ *(etcd-[123]|cp-1) +: ok=[0-9]+ changed=[0-9]+ unreachable=0 failed=0')"
tap_grep "the /version proof ran on cp-1" 'cp-1 kubernetes: (ok|changed)' "$TAP_TMP/apply"
lab_etcdctl "$(etcdctl35_path)" endpoint health >"$TAP_TMP/health" 2>&1
tap_is "Debian's etcdctl 3.5: 3 healthy endpoints" 3 "$(grep -c 'is healthy' "$TAP_TMP/health")"
lab_etcdctl "$(etcdctl35_path)" put /trixie/check written >/dev/null 2>&1
tap_is "a key written through one member reads back" "written" \
	"$(lab_etcdctl "$(etcdctl35_path)" get /trixie/check --print-value-only 2>&1)"

"$ETCDWIZ" apply --yes -f "$LAB/cluster.yaml" >"$TAP_TMP/again" 2>&1
tap_is "a second apply on Debian 13 changes nothing" 4 \
	"$(grep -cE ' : ok=[0-9]+ changed=0 unreachable=0 failed=0' "$TAP_TMP/again")"

"$ETCDWIZ" lab up -n 3 --control-plane --release bookworm >"$TAP_TMP/other" 2>&1
tap_grep "a Debian 12 lab is refused while the trixie lab is up, saying what to do" \
	"a lab of trixie hosts already exists; run 'etcdwiz lab down' first" "$TAP_TMP/other"
