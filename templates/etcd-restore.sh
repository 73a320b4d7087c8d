#!/bin/sh
# Written by etcdwiz restore: phase $1 on {{host}}, restoring cluster
# {{cluster}} from the snapshot with SHA-256 {{sha}}. Each phase records
# itself in {{state}}, so a restore run again goes on where it stopped;
# nothing is deleted: the old manifest and data directory are moved aside
# with a dated suffix.
set -eu
umask 077
state={{state}}
sha={{sha}}
token={{token}}
stamp=$(date +%Y%m%d-%H%M%S)
now=$(sed -n 's/^phase=//p' "$state" 2>/dev/null || true)
record() {
	mkdir -p "${state%/*}"
	printf 'sha=%s\ntoken=%s\nphase=%s\n' "$sha" "$token" "$1" >"$state.tmp"
	mv "$state.tmp" "$state"
	sync
}
case $1 in
check)
	# The snapshot uploaded here is the one checked on the admin's machine.
	got=$(sha256sum {{snapshot}} | cut -d' ' -f1)
	[ "$got" = "$sha" ] || { echo "the snapshot on {{host}} has SHA-256 $got, not $sha" >&2; exit 1; }
	;;
apiserver-aside)
	# kube-apiserver stops before etcd goes (it would write to the old cluster).
	[ -n "$now" ] || record apiserver-aside
	m=/etc/kubernetes/manifests/kube-apiserver.yaml
	if [ -f "$m" ]; then mv "$m" /etc/kubernetes/kube-apiserver.yaml.restore-aside; fi
	;;
apiserver-back)
	a=/etc/kubernetes/kube-apiserver.yaml.restore-aside
	if [ -f "$a" ]; then mv "$a" /etc/kubernetes/manifests/kube-apiserver.yaml; fi
	rm -f "$state"
	;;
stop)
	case $now in stopped | restored) exit 0 ;; esac
	m=/etc/kubernetes/manifests/etcd.yaml
	# Out of kubelet's directory (it reads every file there): kubelet stops etcd.
	if [ -f "$m" ]; then mv "$m" "/etc/kubernetes/etcd.yaml.restore-$stamp"; fi
	i=0
	while pgrep -x etcd >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt 240 ] || { echo "etcd still runs on {{host}} 120 s after its manifest was moved out" >&2; exit 1; }
		sleep 0.5
	done
	# Recorded only once etcd is gone: a run killed before goes through this again.
	record stopped
	;;
restore)
	[ "$now" != restored ] || exit 0
	[ "$now" = stopped ] || { echo "{{host}}: etcd was not stopped first (phase: ${now:-none})" >&2; exit 1; }
	! pgrep -x etcd >/dev/null 2>&1 || { echo "{{host}}: etcd runs again; stop it (its manifest out of /etc/kubernetes/manifests) and run the restore again" >&2; exit 1; }
	data={{data_dir}}
	# The data directory itself stays (it may be a mount point): what is
	# in it, member/, is moved aside, and the restored member/ moved in.
	[ -d "$data" ] || install -d -m 0700 "$data"
	if [ -e "$data/member" ]; then
		install -d -m 0700 "$data.restore-$stamp"
		mv -T "$data/member" "$data.restore-$stamp/member"
	fi
	rm -rf "$data.restoring"
	tool=
	for p in $(command -v etcdutl 2>/dev/null || true) /usr/local/bin/etcdutl /usr/local/lib/etcdwiz/etcdutl \
		/opt/etcdwiz-lab/etcd/{{version}}/etcdutl; do
		if [ -x "$p" ]; then tool=$p; break; fi
	done
	if [ -z "$tool" ]; then
		# etcd 3.4's etcdctl restores too (3.5 and later: etcdutl).
		for p in /usr/bin/etcdctl /usr/local/lib/etcdwiz/etcdctl; do
			if [ -x "$p" ]; then tool=$p; break; fi
		done
	fi
	[ -n "$tool" ] || { echo "{{host}} has neither etcdutl nor etcdctl to restore with" >&2; exit 1; }
	bump=
	if ETCDCTL_API=3 "$tool" snapshot restore --help 2>&1 | grep -q -- --bump-revision; then
		# Kubernetes' watch caches see a newer revision than any they had.
		bump="--bump-revision 1000000000 --mark-compacted"
	fi
	# shellcheck disable=SC2086
	ETCDCTL_API=3 "$tool" snapshot restore {{snapshot}} --name {{member}} \
		--initial-cluster {{initial_cluster}} --initial-cluster-token "$token" \
		--initial-advertise-peer-urls {{peer_url}} --data-dir "$data.restoring" $bump >"${state%/*}/restore.log" 2>&1 ||
		{ tail -n 5 "${state%/*}/restore.log" >&2; exit 1; }
	mv -T "$data.restoring/member" "$data/member"
	rmdir "$data.restoring" 2>/dev/null || true
	chmod 0700 "$data"
	[ -d "$data/member/snap" ] || { echo "{{host}}: no restored member/ in $data" >&2; exit 1; }
	record restored
	echo "restored with $tool${bump:+ (revision bumped)}"
	;;
done)
	rm -f "$state" {{snapshot}} "${state%/*}/restore.log"
	rmdir "${state%/*}" 2>/dev/null || true
	;;
*)
	echo "unknown phase $1" >&2
	exit 2
	;;
esac
