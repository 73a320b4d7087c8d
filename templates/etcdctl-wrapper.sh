#!/bin/sh
# Written by etcdwiz: etcdctl with this cluster's endpoints and client
# certificate (from {{env_file}}); variables already set win.
while IFS='=' read -r key value; do
	case "$key" in
	ETCDCTL_*) eval "[ -n \"\${$key+x}\" ]" || export "$key=$value" ;;
	esac
done < {{env_file}}
exec {{etcdctl}} "$@"
