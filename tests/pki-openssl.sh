#!/bin/bash
# Clients we did not write read our certificates: for every algorithm and
# every profile, `openssl x509 -text` and `certtool -i` are checked field by
# field against REFERENCE.md §1, and `openssl verify -CAfile` accepts every
# leaf for its purpose.
. "$TOP_SRCDIR/tests/tap.sh"

command -v openssl >/dev/null || tap_skip_all "openssl not installed"
command -v certtool >/dev/null || tap_skip_all "certtool (gnutls-bin) not installed"

# has DESC FILE FIXED-STRING: one TAP point, ok when the line is in FILE.
has() {
	if grep -qF -- "$3" "$2"; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		printf '# missing: %s\n' "$3"
		grep -v '^ *[0-9a-f][0-9a-f]:' "$2" | sed 's/^/#   /' | head -60
	fi
}
hasnt() {
	if grep -qF -- "$3" "$2"; then
		tap_not_ok "$1"
		printf '# unexpected: %s\n' "$3"
	else
		tap_ok "$1"
	fi
}
# The value of extension "X509v3 NAME" in `openssl x509 -text` output.
ext() { awk -v name="X509v3 $2" '
	{ line = $0; sub(/^ +/, "", line) }
	grab && (line ~ /^X509v3 / || line ~ /^Signature /) { exit }
	substr(line, 1, length(name)) == name { grab = 1; next }
	grab { print line }' "$1"; }

epoch() { date -u -d "$1" +%s; }
lifetime() {	# seconds between notBefore and notAfter
	local nb na
	nb=$(openssl x509 -noout -startdate -in "$1" | cut -d= -f2)
	na=$(openssl x509 -noout -enddate -in "$1" | cut -d= -f2)
	echo $(($(epoch "$na") - $(epoch "$nb")))
}

TEN_YEARS=$((87600 * 3600 + 300))
ONE_YEAR=$((8760 * 3600 + 300))

for alg in RSA-2048 RSA-3072 RSA-4096 ECDSA-P256 ECDSA-P384; do
	dir="$TAP_TMP/$alg"
	mkdir -p "$dir"
	cat >"$dir/cluster.yaml" <<EOF
apiVersion: etcdwiz/v1
kind: Cluster
name: alg-test
pki:
  algorithm: $alg
  dir: $dir/store
members:
  - name: etcd01
    address: 10.0.0.1
    extraSANs: [etcd01.example.com, 192.0.2.9, localhost, 127.0.0.1, "::1"]
EOF
	"$ETCDWIZ" certs generate -f "$dir/cluster.yaml" >"$dir/gen.out" 2>&1
	tap_is "$alg: certs generate exits 0" 0 $?
	s="$dir/store"
	ca="$s/ca/etcd/ca.crt"
	m="$s/members/etcd01"

	case $alg in
	RSA-*)
		bits=${alg#RSA-}
		pub="Public-Key: ($bits bit)"
		sig="Signature Algorithm: sha256WithRSAEncryption"
		keyhdr="-----BEGIN RSA PRIVATE KEY-----"
		ctpub="Subject Public Key Algorithm: RSA"
		;;
	ECDSA-P256)
		pub="ASN1 OID: prime256v1"
		sig="Signature Algorithm: ecdsa-with-SHA256"
		keyhdr="-----BEGIN EC PRIVATE KEY-----"
		ctpub="Curve:	SECP256R1"
		;;
	ECDSA-P384)
		pub="ASN1 OID: secp384r1"
		sig="Signature Algorithm: ecdsa-with-SHA384"
		keyhdr="-----BEGIN EC PRIVATE KEY-----"
		ctpub="Curve:	SECP384R1"
		;;
	esac

	# --- the CA ---
	openssl x509 -noout -text -in "$ca" >"$dir/ca.txt" 2>&1
	certtool -i --infile "$ca" >"$dir/ca.ct" 2>&1
	has "$alg ca: version 3" "$dir/ca.txt" "Version: 3 (0x2)"
	has "$alg ca: subject CN=etcd-ca only" "$dir/ca.txt" "Subject: CN = etcd-ca"
	has "$alg ca: self-signed" "$dir/ca.txt" "Issuer: CN = etcd-ca"
	has "$alg ca: key" "$dir/ca.txt" "$pub"
	has "$alg ca: signature" "$dir/ca.txt" "$sig"
	has "$alg ca: basicConstraints critical" "$dir/ca.txt" "X509v3 Basic Constraints: critical"
	tap_is "$alg ca: CA:TRUE without pathlen" "CA:TRUE" "$(ext "$dir/ca.txt" "Basic Constraints")"
	has "$alg ca: keyUsage critical" "$dir/ca.txt" "X509v3 Key Usage: critical"
	tap_is "$alg ca: keyUsage" "Digital Signature, Key Encipherment, Certificate Sign" \
		"$(ext "$dir/ca.txt" "Key Usage")"
	tap_is "$alg ca: SAN DNS:etcd-ca" "DNS:etcd-ca" "$(ext "$dir/ca.txt" "Subject Alternative Name")"
	hasnt "$alg ca: no extended key usage" "$dir/ca.txt" "Extended Key Usage"
	has "$alg ca: subject key id" "$dir/ca.txt" "X509v3 Subject Key Identifier"
	tap_is "$alg ca: lifetime 10 years + 5 minutes backdate" "$TEN_YEARS" "$(lifetime "$ca")"
	serial=$(openssl x509 -noout -serial -in "$ca" | cut -d= -f2)
	tap_check "$alg ca: serial positive, non-zero, at most 63 bits" \
		sh -c "[ \$((0x$serial)) -gt 0 ] && [ \${#serial} -le 16 ]" serial="$serial"
	has "$alg ca (certtool): CA TRUE" "$dir/ca.ct" "Certificate Authority (CA): TRUE"
	has "$alg ca (certtool): key usage critical" "$dir/ca.ct" "Key Usage (critical):"
	has "$alg ca (certtool): certificate signing" "$dir/ca.ct" "Certificate signing."
	has "$alg ca (certtool): public key" "$dir/ca.ct" "$ctpub"
	has "$alg ca key: encoding" "$s/ca/etcd/ca.key" "$keyhdr"
	ca_ski=$(ext "$dir/ca.txt" "Subject Key Identifier")
	tap_check "$alg ca: subject key id is 20 bytes (SHA-1)" test "${#ca_ski}" -eq 59

	# --- the leaves ---
	for leaf in etcd/server etcd/peer etcd/healthcheck-client apiserver-etcd-client; do
		crt="$m/$leaf.crt"
		key="$m/$leaf.key"
		t="$dir/$(basename "$leaf").txt"
		c="$dir/$(basename "$leaf").ct"
		n="$alg $leaf"
		openssl x509 -noout -text -in "$crt" >"$t" 2>&1
		certtool -i --infile "$crt" >"$c" 2>&1
		case $leaf in
		etcd/server | etcd/peer)
			cn="etcd01"
			eku="TLS Web Server Authentication, TLS Web Client Authentication"
			purpose=sslserver
			;;
		etcd/healthcheck-client)
			cn="kube-etcd-healthcheck-client"
			eku="TLS Web Client Authentication"
			purpose=sslclient
			;;
		apiserver-etcd-client)
			cn="kube-apiserver-etcd-client"
			eku="TLS Web Client Authentication"
			purpose=sslclient
			;;
		esac
		has "$n: version 3" "$t" "Version: 3 (0x2)"
		# The whole subject line: CN only, no O=system:masters (kubeadm >= 1.29).
		tap_is "$n: subject" "Subject: CN = $cn" "$(grep -F 'Subject: ' "$t" | sed 's/^ *//')"
		has "$n: issuer" "$t" "Issuer: CN = etcd-ca"
		has "$n: key" "$t" "$pub"
		has "$n: signature" "$t" "$sig"
		tap_is "$n: CA:FALSE, critical" "X509v3 Basic Constraints: critical|CA:FALSE" \
			"$(grep -F 'Basic Constraints' "$t" | sed 's/^ *//')|$(ext "$t" "Basic Constraints")"
		has "$n: keyUsage critical" "$t" "X509v3 Key Usage: critical"
		tap_is "$n: keyUsage digitalSignature+keyEncipherment" \
			"Digital Signature, Key Encipherment" "$(ext "$t" "Key Usage")"
		tap_is "$n: extendedKeyUsage" "$eku" "$(ext "$t" "Extended Key Usage")"
		if [ "$purpose" = sslserver ]; then
			tap_is "$n: SANs (DNS sorted, IPs in order, duplicates dropped)" \
				"DNS:etcd01, DNS:etcd01.example.com, DNS:localhost, IP Address:10.0.0.1, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:192.0.2.9" \
				"$(ext "$t" "Subject Alternative Name")"
			has "$n (certtool): IP ::1" "$c" "IPAddress: ::1"
			has "$n (certtool): TLS WWW Server" "$c" "TLS WWW Server."
		else
			hasnt "$n: no SANs" "$t" "Subject Alternative Name"
			hasnt "$n (certtool): no TLS WWW Server" "$c" "TLS WWW Server."
		fi
		has "$n (certtool): TLS WWW Client" "$c" "TLS WWW Client."
		has "$n (certtool): CA FALSE" "$c" "Certificate Authority (CA): FALSE"
		has "$n: subject key id" "$t" "X509v3 Subject Key Identifier"
		aki=$(ext "$t" "Authority Key Identifier" | sed 's/^keyid://')
		tap_is "$n: authority key id = the CA's subject key id" "$ca_ski" "$aki"
		tap_is "$n: lifetime 1 year + 5 minutes backdate" "$ONE_YEAR" "$(lifetime "$crt")"
		has "$n key: encoding" "$key" "$keyhdr"
		tap_is "$n: key matches certificate" \
			"$(openssl x509 -noout -pubkey -in "$crt")" "$(openssl pkey -pubout -in "$key" 2>&1)"
		openssl verify -CAfile "$ca" -purpose "$purpose" "$crt" >"$dir/verify.out" 2>&1
		tap_is "$n: openssl verify -CAfile -purpose $purpose" "$crt: OK" "$(cat "$dir/verify.out")"
	done
	openssl verify -CAfile "$ca" "$m/etcd/ca.crt" >"$dir/verify.out" 2>&1
	tap_check "$alg: members/etcd01/etcd/ca.crt is the CA" cmp "$ca" "$m/etcd/ca.crt"
done

tap_plan "$tap_n"
