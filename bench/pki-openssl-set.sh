#!/bin/bash
# The same certificate set as `etcdwiz certs generate` makes, with the
# openssl command line: the etcd CA, and per member etcd/ca.crt and the
# server, peer, healthcheck-client and apiserver-etcd-client pairs (kubeadm's
# profiles, keys converted to PKCS#1 / SEC1 as kubeadm writes them).
# Usage: pki-openssl-set.sh RSA-2048|ECDSA-P256 OUTDIR MEMBER=IP...
set -eu
alg=$1 out=$2
shift 2

genkey() {	# genkey FILE
	case $alg in
	RSA-*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${alg#RSA-}" 2>/dev/null |
		openssl rsa -traditional -out "$1" 2>/dev/null ;;
	ECDSA-P256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null |
		openssl ec -out "$1" 2>/dev/null ;;
	*) echo "unknown algorithm $alg" >&2; exit 2 ;;
	esac
	chmod 600 "$1"
}
serial() { printf '0x%016x' $(( (RANDOM << 48 | RANDOM << 32 | RANDOM << 16 | RANDOM) & 0x7fffffffffffffff | 1 )); }

mkdir -p -m 700 "$out/ca/etcd"
ca="$out/ca/etcd/ca"
genkey "$ca.key"
openssl req -x509 -new -key "$ca.key" -subj /CN=etcd-ca -days 3650 -sha256 \
	-set_serial "$(serial)" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
	-addext "subjectAltName=DNS:etcd-ca" \
	-addext "subjectKeyIdentifier=hash" -out "$ca.crt"

leaf() {	# leaf BASE CN EKU [SAN]
	local ext="$1.ext"
	genkey "$1.key"
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=$3"
		echo "subjectKeyIdentifier=hash"
		echo "authorityKeyIdentifier=keyid"
		[ -n "${4:-}" ] && echo "subjectAltName=$4"
	} >"$ext"
	openssl req -new -key "$1.key" -subj "/CN=$2" 2>/dev/null |
		openssl x509 -req -CA "$ca.crt" -CAkey "$ca.key" -set_serial "$(serial)" \
			-days 365 -sha256 -extfile "$ext" -out "$1.crt" 2>/dev/null
	rm -f "$ext"
}

for m in "$@"; do
	name=${m%%=*} ip=${m#*=}
	d="$out/members/$name"
	mkdir -p -m 700 "$d/etcd"
	cp "$ca.crt" "$d/etcd/ca.crt"
	san="DNS:$name,DNS:localhost,IP:$ip,IP:127.0.0.1,IP:::1"
	leaf "$d/etcd/server" "$name" serverAuth,clientAuth "$san"
	leaf "$d/etcd/peer" "$name" serverAuth,clientAuth "$san"
	leaf "$d/etcd/healthcheck-client" kube-etcd-healthcheck-client clientAuth
	leaf "$d/apiserver-etcd-client" kube-apiserver-etcd-client clientAuth
done
