#!/bin/bash
# `etcdwiz certs` through the CLI: every broken input of issue #3 item 3
# (mismatched key, non-CA certificate, expired CA, malformed PEM, unreadable
# file, member renamed) exits 1 with a message naming the file and the fix,
# and writes nothing (the store's listing and checksums are compared before
# and after). Then the contract of generate / import / renew /
# check-expiration: idempotence, usage errors, expiry warnings.
. "$TOP_SRCDIR/tests/tap.sh"

command -v certtool >/dev/null || tap_skip_all "certtool (gnutls-bin) not installed"
command -v openssl >/dev/null || tap_skip_all "openssl not installed"

fx="$TOP_SRCDIR/tests/fixtures/pki"
W="$TAP_TMP/w"
mkdir -p "$W"
export TZ=UTC

# cluster NAME FIXTURE: a copy of the fixture with its own store.
cluster() {
	sed "s|@STORE@|$W/$1-store|" "$fx/$2" >"$W/$1.yaml"
	echo "$W/$1.yaml"
}
# A listing with modes and sizes plus every file's checksum.
snap() {
	if [ -d "$1" ]; then
		(cd "$1" && find . -printf '%p %m %s\n' | sort &&
			find . -type f -exec md5sum {} + | sort)
	else
		echo "no store"
	fi
}
# run NAME ARGS...: etcdwiz with output in $W/NAME.out, status in $rc.
run() {
	local name=$1
	shift
	"$ETCDWIZ" "$@" >"$W/$name.out" 2>&1
	rc=$?
}
has() {
	if grep -qF -- "$3" "$2"; then tap_ok "$1"; else
		tap_not_ok "$1"
		printf '# missing: %s\n' "$3"
		sed 's/^/#   /' "$2" | head -20
	fi
}
# broken NAME STORE-DIR EXPECTED-FILE FIX ARGS...: exit 1, names the file
# and the fix, store unchanged.
broken() {
	local name=$1 store=$2 file=$3 fix=$4 before after
	shift 4
	before=$(snap "$store")
	run "$name" "$@"
	after=$(snap "$store")
	tap_is "$name: exits 1" 1 "$rc"
	has "$name: names the file" "$W/$name.out" "$file"
	has "$name: says how to fix it" "$W/$name.out" "$fix"
	has "$name: says nothing was written" "$W/$name.out" "nothing was written"
	tap_is "$name: the store is unchanged" "$before" "$after"
}

# Outside material: a CA and a leaf made with certtool, an expired CA.
certtool --generate-privkey --key-type=ecdsa --outfile "$W/other.key" 2>/dev/null
certtool --generate-privkey --key-type=ecdsa --outfile "$W/third.key" 2>/dev/null
cat >"$W/ca.tmpl" <<EOF
cn = "etcd-ca"
ca
cert_signing_key
expiration_days = 3650
EOF
certtool --generate-self-signed --load-privkey "$W/other.key" --template "$W/ca.tmpl" \
	--outfile "$W/other.crt" 2>/dev/null
cat >"$W/leaf.tmpl" <<EOF
cn = "not-a-ca"
tls_www_client
expiration_days = 365
EOF
certtool --generate-certificate --load-privkey "$W/third.key" --load-ca-certificate "$W/other.crt" \
	--load-ca-privkey "$W/other.key" --template "$W/leaf.tmpl" --outfile "$W/leaf.crt" 2>/dev/null
cat >"$W/expired.tmpl" <<EOF
cn = "etcd-ca"
ca
cert_signing_key
activation_date = "2020-01-01 00:00:00"
expiration_date = "2021-01-01 00:00:00"
EOF
certtool --generate-self-signed --load-privkey "$W/third.key" --template "$W/expired.tmpl" \
	--outfile "$W/expired.crt" 2>/dev/null
certtool --generate-self-signed --load-privkey "$W/third.key" --template "$W/ca.tmpl" \
	--outfile "$W/third.crt" 2>/dev/null
printf -- '-----BEGIN CERTIFICATE-----\nMIIBnotbase64@@@\n-----END CERTIFICATE-----\n' >"$W/garbage.crt"
mkdir -p "$W/a-directory.key"

# --- import: each broken CA is refused before anything is written ---
c=$(cluster imp three.yaml)
s="$W/imp-store"
broken "import, key of another CA" "$s" "$W/third.key" "give the ca.key made together with that ca.crt" \
	certs import -f "$c" --ca-cert "$W/other.crt" --ca-key "$W/third.key"
broken "import, not a CA" "$s" "$W/leaf.crt" "give the etcd CA's ca.crt" \
	certs import -f "$c" --ca-cert "$W/leaf.crt" --ca-key "$W/third.key"
broken "import, expired CA" "$s" "$W/expired.crt" "import a valid CA" \
	certs import -f "$c" --ca-cert "$W/expired.crt" --ca-key "$W/third.key"
broken "import, malformed PEM" "$s" "$W/garbage.crt" "replace it with an intact copy" \
	certs import -f "$c" --ca-cert "$W/garbage.crt" --ca-key "$W/other.key"
broken "import, not PEM at all" "$s" "$fx/three.yaml" "replace it with the PEM certificate file" \
	certs import -f "$c" --ca-cert "$fx/three.yaml" --ca-key "$W/other.key"
broken "import, unreadable key" "$s" "$W/a-directory.key" "check that the file exists and that you may read it" \
	certs import -f "$c" --ca-cert "$W/other.crt" --ca-key "$W/a-directory.key"
broken "import, missing file" "$s" "$W/nope.crt" "check that the file exists" \
	certs import -f "$c" --ca-cert "$W/nope.crt" --ca-key "$W/other.key"
c10=$(cluster imp10 long-leaves.yaml)
broken "import, CA shorter-lived than the leaves" "$W/imp10-store" "$W/other.crt" "lower pki.certValidity" \
	certs import -f "$c10" --ca-cert "$W/other.crt" --ca-key "$W/other.key"

# --- import that works, then generate from that CA ---
run imp-ok certs import -f "$c" --ca-cert "$W/other.crt" --ca-key "$W/other.key"
tap_is "import of a valid CA exits 0" 0 "$rc"
has "import says what to do next" "$W/imp-ok.out" "certs generate"
tap_check "the imported CA is the store's CA" cmp <(openssl x509 -in "$W/other.crt") <(openssl x509 -in "$s/ca/etcd/ca.crt")
run imp-again certs import -f "$c" --ca-cert "$W/other.crt" --ca-key "$W/other.key"
tap_is "importing it again exits 0" 0 "$rc"
has "importing it again changes nothing" "$W/imp-again.out" "nothing changed"
broken "import, another CA over the store's" "$s" "$s/ca/etcd/ca.crt" "remove $s" \
	certs import -f "$c" --ca-cert "$W/third.crt" --ca-key "$W/third.key"
run gen1 certs generate -f "$c"
tap_is "generate with the imported CA exits 0" 0 "$rc"
tap_is "generate makes 3 x (ca.crt + 4 pairs) = 27 files next to the CA's 2" 29 "$(find "$s" -type f | wc -l)"
tap_is "every leaf verifies against the imported CA" "" \
	"$(for f in "$s"/members/*/etcd/{server,peer,healthcheck-client}.crt "$s"/members/*/apiserver-etcd-client.crt; do
		openssl verify -CAfile "$W/other.crt" "$f" >/dev/null 2>&1 || echo "$f"; done)"
before=$(snap "$s")
run gen2 certs generate -f "$c"
tap_is "a second generate exits 0" 0 "$rc"
has "a second generate says nothing changed" "$W/gen2.out" "nothing changed"
tap_is "a second generate writes nothing" "$before" "$(snap "$s")"

# --- broken files inside the store: generate refuses, writes nothing ---
rm "$s/members/etcd03/etcd/healthcheck-client.crt" "$s/members/etcd03/etcd/healthcheck-client.key"
cp "$s/members/etcd01/etcd/server.key" "$W/server.key.good"
cp "$s/members/etcd02/etcd/server.key" "$s/members/etcd01/etcd/server.key"
broken "generate, a key that does not match its certificate" "$s" "$s/members/etcd01/etcd/server.key" \
	"certs renew etcd01/etcd-server" certs generate -f "$c"
cp "$W/server.key.good" "$s/members/etcd01/etcd/server.key"
cp "$s/members/etcd01/etcd/peer.crt" "$W/peer.crt.good"
printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' >"$s/members/etcd01/etcd/peer.crt"
broken "generate, a malformed certificate in the store" "$s" "$s/members/etcd01/etcd/peer.crt" \
	"replace it with an intact copy" certs generate -f "$c"
cp "$W/peer.crt.good" "$s/members/etcd01/etcd/peer.crt"
cp "$W/leaf.crt" "$s/members/etcd01/apiserver-etcd-client.crt.new"
mv "$s/members/etcd01/apiserver-etcd-client.crt" "$W/apiserver.crt.good"
mv "$s/members/etcd01/apiserver-etcd-client.crt.new" "$s/members/etcd01/apiserver-etcd-client.crt"
broken "generate, a certificate from another CA" "$s" "$s/members/etcd01/apiserver-etcd-client.crt" \
	"remove it and run 'etcdwiz certs generate'" certs generate -f "$c"
mv "$W/apiserver.crt.good" "$s/members/etcd01/apiserver-etcd-client.crt"

# --- a member renamed (same address), or its address changed ---
sed 's/etcd02/etcd09/' "$c" >"$W/renamed.yaml"
broken "generate, member renamed" "$s" "$s/members/etcd02" "rename it back to 'etcd02'" \
	certs generate -f "$W/renamed.yaml"
has "generate, member renamed: says so" "$W/generate, member renamed.out" "the member was renamed"
sed 's/10.0.0.3/10.0.0.33/' "$c" >"$W/moved.yaml"
broken "generate, member address changed" "$s" "$s/members/etcd03/etcd/server.crt" \
	"undo that change, or remove" certs generate -f "$W/moved.yaml"
mv "$s/members/etcd01" "$W/etcd01.aside"
cp -a "$s/members/etcd03" "$s/members/etcd01"
broken "generate, certificates of another member under this name" "$s" "$s/members/etcd01/etcd/server.crt" \
	"made for member 'etcd03'" certs generate -f "$c"
rm -rf "$s/members/etcd01"
mv "$W/etcd01.aside" "$s/members/etcd01"

# The interrupted-by-broken-input runs above left etcd03's healthcheck-client missing.
run gen3 certs generate -f "$c"
tap_is "after the fixes generate makes the one missing pair" \
	"made $s/members/etcd03/etcd/healthcheck-client.crt and its key (etcd03/etcd-healthcheck-client)" \
	"$(cat "$W/gen3.out")"

# --- renew ---
mv "$s/ca/etcd/ca.key" "$W/ca.key.aside"
broken "renew without the CA key" "$s" "$s/ca/etcd/ca.key" "import the CA key" \
	certs renew all -f "$c"
has "renew without the CA key: says the certificates are externally managed" \
	"$W/renew without the CA key.out" "externally managed"
run chk-ext certs check-expiration -f "$c"
tap_grep "check-expiration shows the CA as externally managed" '^etcd-ca .* yes$' "$W/chk-ext.out"
mv "$W/ca.key.aside" "$s/ca/etcd/ca.key"
sans_before=$(openssl x509 -noout -ext subjectAltName -subject -in "$s/members/etcd03/etcd/peer.crt")
serial_before=$(openssl x509 -noout -serial -in "$s/members/etcd03/etcd/peer.crt")
key_before=$(md5sum <"$s/members/etcd03/etcd/peer.key")
run renew1 certs renew etcd03/etcd-peer -f "$c"
tap_is "renew MEMBER/CERT exits 0" 0 "$rc"
tap_is "renew keeps subject and SANs" "$sans_before" \
	"$(openssl x509 -noout -ext subjectAltName -subject -in "$s/members/etcd03/etcd/peer.crt")"
tap_check "renew makes a new certificate" test "$serial_before" != \
	"$(openssl x509 -noout -serial -in "$s/members/etcd03/etcd/peer.crt")"
tap_check "renew makes a new key" test "$key_before" != "$(md5sum <"$s/members/etcd03/etcd/peer.key")"
tap_is "the renewed key is still 0600" 600 "$(stat -c %a "$s/members/etcd03/etcd/peer.key")"
run renew2 certs renew etcd-healthcheck-client -f "$c"
tap_is "renew CERT renews it on every member" 3 "$(grep -c '^renewed ' "$W/renew2.out")"
run renew3 certs renew etcd02 -f "$c"
tap_is "renew MEMBER renews its 4 certificates" 4 "$(grep -c '^renewed ' "$W/renew3.out")"
before=$(snap "$s")
run renew4 certs renew etcd-ca -f "$c"
tap_is "renew etcd-ca is refused (exit 1)" 1 "$rc"
run renew5 certs renew nonsense -f "$c"
tap_is "renew of an unknown name is a usage error (exit 2)" 2 "$rc"
tap_is "neither wrote anything" "$before" "$(snap "$s")"

# --- check-expiration ---
run chk1 certs check-expiration -f "$c"
tap_is "check-expiration exits 0 when all is valid" 0 "$rc"
tap_grep "check-expiration prints kubeadm's columns" \
	'^CERTIFICATE +EXPIRES +RESIDUAL TIME +CERTIFICATE AUTHORITY +EXTERNALLY MANAGED$' "$W/chk1.out"
tap_grep "check-expiration prints a row per member certificate" \
	'^etcd02/etcd-peer +[A-Z][a-z]{2} [0-9]{2}, [0-9]{4} [0-9]{2}:[0-9]{2} UTC +(364d|1y) +etcd-ca +no$' "$W/chk1.out"
tap_grep "check-expiration prints the CA table" \
	'^etcd-ca +[A-Z][a-z]{2} [0-9]{2}, [0-9]{4} [0-9]{2}:[0-9]{2} UTC +(9y|10y) +no$' "$W/chk1.out"
# An expired server certificate, signed by the store's CA.
cat >"$W/old.tmpl" <<EOF
cn = "etcd01"
dns_name = "etcd01"
dns_name = "localhost"
ip_address = "10.0.0.1"
ip_address = "127.0.0.1"
ip_address = "::1"
tls_www_server
tls_www_client
activation_date = "2020-01-01 00:00:00"
expiration_date = "2021-01-01 00:00:00"
EOF
certtool --generate-certificate --load-privkey "$s/members/etcd01/etcd/server.key" \
	--load-ca-certificate "$s/ca/etcd/ca.crt" --load-ca-privkey "$s/ca/etcd/ca.key" \
	--template "$W/old.tmpl" --outfile "$s/members/etcd01/etcd/server.crt" 2>/dev/null
run chk2 certs check-expiration -f "$c"
tap_is "check-expiration exits 1 when a certificate has expired" 1 "$rc"
tap_grep "the expired one is marked EXPIRED" '^etcd01/etcd-server +Jan 01, 2021 00:00 UTC +EXPIRED ' "$W/chk2.out"
has "and the fix is named" "$W/chk2.out" "!EXPIRED! etcd01/etcd-server expired on Jan 01, 2021 00:00 UTC; run 'etcdwiz certs renew etcd01/etcd-server -f $c'"
run gen4 certs generate -f "$c"
has "generate warns about the expired certificate" "$W/gen4.out" "has expired; run 'etcdwiz certs renew etcd01/etcd-server"
run renew6 certs renew etcd01/etcd-server -f "$c"
run chk3 certs check-expiration -f "$c"
tap_is "after renew, check-expiration exits 0 again" 0 "$rc"
rm "$s/members/etcd02/etcd/peer.crt"
run chk4 certs check-expiration -f "$c"
tap_is "check-expiration exits 1 when a certificate is missing" 1 "$rc"
tap_grep "and shows it as kubeadm does" '^!MISSING! etcd02/etcd-peer$' "$W/chk4.out"
# Short leaves: a warning under 30 days.
cs=$(cluster short short-leaves.yaml)
run short-gen certs generate -f "$cs"
run short-chk certs check-expiration -f "$cs"
tap_is "leaves under 30 days: check-expiration still exits 0" 0 "$rc"
tap_grep "leaves under 30 days: a warning" '^!WARNING! etcd01/etcd-server expires in (9|10)d \(under 30 days\); run .etcdwiz certs renew etcd01/etcd-server' "$W/short-chk.out"

# --- usage ---
run u1 certs
tap_is "certs without a command exits 2" 2 "$rc"
run u2 certs frob -f "$c"
tap_is "an unknown certs command exits 2" 2 "$rc"
run u3 certs generate
tap_is "generate without -f exits 2" 2 "$rc"
run u4 certs renew -f "$c"
tap_is "renew without NAME exits 2" 2 "$rc"
run u5 certs import -f "$c" --ca-cert x
tap_is "import without --ca-key exits 2" 2 "$rc"
for sub in generate check-expiration renew import; do
	run "h-$sub" certs "$sub" --help
	tap_is "certs $sub --help exits 0" 0 "$rc"
	has "certs $sub --help shows its usage" "$W/h-$sub.out" "Usage: etcdwiz certs $sub"
done
for sub in rotate rotate-ca; do
	run "h-$sub" certs "$sub" --help
	tap_is "certs $sub --help exits 0" 0 "$rc"
	has "certs $sub --help shows its usage" "$W/h-$sub.out" "Usage: etcdwiz certs $sub"
done
run u6 certs rotate-ca -f "$c" --phase 4
tap_is "rotate-ca --phase 4 exits 2" 2 "$rc"
has "... naming the phases" "$W/u6.out" "--phase: '4' is not 1, 2 or 3"
run u7 certs check-expiration -f "$c" --warn 3d
tap_is "--warn without --hosts exits 2" 2 "$rc"
run u8 certs check-expiration --hosts -f "$c" --warn soon
tap_is "--warn soon exits 2" 2 "$rc"
run u9 certs rotate frob -f "$c"
tap_is "rotate of an unknown certificate exits 2" 2 "$rc"
# A store without the CA key (externally managed): no new CA here, nothing written.
ce=$(cluster ext three.yaml)
run ext-gen certs generate -f "$ce"
rm -f "$W/ext-store/ca/etcd/ca.key"
snap "$W/ext-store" >"$W/ext-before"
run ext-rot certs rotate-ca --yes -f "$ce"
tap_is "rotate-ca without the CA key in the store exits 1" 1 "$rc"
has "... saying where a new CA has to come from" "$W/ext-rot.out" "the CA key is not in the store"
tap_is "... and writes nothing" "$(cat "$W/ext-before")" "$(snap "$W/ext-store")"
run h certs --help
tap_is "certs --help exits 0" 0 "$rc"
run bad certs generate -f "$fx/bad-cluster.yaml"
tap_is "a broken cluster file exits 1" 1 "$rc"
has "and points to validate" "$W/bad.out" "validate -f"

tap_plan "$tap_n"
