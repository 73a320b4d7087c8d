#!/bin/bash
# apply on 5- and 7-member labs ends with a healthy cluster of that size,
# checked by Debian's etcdctl with our certificates (3 members: apply-lab.sh),
# in at most 12 remote commands on each fresh member (the engine's count in
# the journals of that one apply: its plan pass and its apply pass).
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v etcdctl >/dev/null || tap_skip_all "etcdctl missing: apt-get install etcd-client"
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"

tap_plan 8
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"

for n in 5 7; do
	export XDG_DATA_HOME="$TAP_TMP/xdg-$n"
	"$ETCDWIZ" lab down >/dev/null 2>&1
	"$ETCDWIZ" lab up -n "$n" -q >"$TAP_TMP/up-$n" 2>&1
	tap_is "lab up -n $n" 0 $?
	"$ETCDWIZ" apply --yes -f "$LAB/cluster.yaml" >"$TAP_TMP/apply-$n" 2>&1
	rc=$?
	tap_is "apply on $n hosts exits 0" 0 $rc
	[ $rc -eq 0 ] || tail -30 "$TAP_TMP/apply-$n" | sed 's/^/# /'
	PKI="$XDG_DATA_HOME/etcdwiz/lab/pki/members/etcd-1"
	eps=$(seq -s, -f 'https://198.51.100.%g:2379' 11 $((10 + n)))
	ETCDCTL_API=3 timeout 60 etcdctl --cacert "$PKI/etcd/ca.crt" --cert "$PKI/etcd/healthcheck-client.crt" \
		--key "$PKI/etcd/healthcheck-client.key" --endpoints "$eps" endpoint health >"$TAP_TMP/health-$n" 2>&1
	tap_is "Debian's etcdctl: $n healthy members" "$n" "$(grep -c 'is healthy' "$TAP_TMP/health-$n")"
	cat "$XDG_DATA_HOME"/etcdwiz/lab/journal/*.log |
		awk '$3 == "remote" && $4 == "commands:" { c[$2] += $5 } END { for (h in c) print h, c[h] }' |
		sort >"$TAP_TMP/execs-$n"
	sed 's/^/# remote commands: /' "$TAP_TMP/execs-$n"
	tap_is "fresh hosts: 2 to 12 remote commands on each of the $n members" "$n" \
		"$(awk '$2 >= 2 && $2 <= 12' "$TAP_TMP/execs-$n" | wc -l)"
done
