#!/bin/sh
# Written by etcdwiz (backup.schedule in the cluster file): one snapshot of
# this member, {{member}}, through its own client URL with the
# healthcheck-client certificate, into {{dir_text}}; the newest {{keep}} stay.
# Run by etcdwiz-backup.service; etcdctl writes NAME.part, then renames it.
set -eu
umask 077
dir={{dir}}
prefix={{prefix}}
# Made 0700 when missing; a directory that is there keeps its mode.
[ -d "$dir" ] || install -d -m 0700 "$dir"
# A .part is what a snapshot stopped half-way left: never a backup.
rm -f "$dir/$prefix"-*.db.part
name="$dir/$prefix-$(date -u +%Y%m%d-%H%M%S).db"
ETCDCTL_API=3 ETCDCTL_ENDPOINTS={{client_url}} \
	ETCDCTL_CACERT={{pki_dir}}/etcd/ca.crt \
	ETCDCTL_CERT={{pki_dir}}/etcd/healthcheck-client.crt \
	ETCDCTL_KEY={{pki_dir}}/etcd/healthcheck-client.key \
	{{etcdctl}} snapshot save "$name" >/dev/null
ls -1t "$dir/$prefix"-*.db | tail -n +$(({{keep}} + 1)) | while read -r old; do
	rm -f -- "$old"
done
echo "etcdwiz-backup: wrote $name"
