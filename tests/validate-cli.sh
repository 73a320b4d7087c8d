#!/bin/bash
# The CLI contract: GNU options, exit statuses, and `validate` naming
# file:line:col for each broken fixture.
. "$TOP_SRCDIR/tests/tap.sh"
fx="$TOP_SRCDIR/tests/fixtures/cluster"
tap_plan 14

"$ETCDWIZ" --version >"$TAP_TMP/v" 2>&1; tap_is "--version exits 0" 0 $?
tap_grep "--version names the program" '^etcdwiz [0-9]+\.[0-9]+\.[0-9]+$' "$TAP_TMP/v"
"$ETCDWIZ" --help >"$TAP_TMP/h" 2>&1; tap_is "--help exits 0" 0 $?
tap_grep "--help lists validate" '^  validate ' "$TAP_TMP/h"
"$ETCDWIZ" frobnicate >"$TAP_TMP/u" 2>&1; tap_is "unknown command exits 2" 2 $?
"$ETCDWIZ" validate >"$TAP_TMP/u" 2>&1; tap_is "validate without -f exits 2" 2 $?
"$ETCDWIZ" validate --help >"$TAP_TMP/vh" 2>&1; tap_is "validate --help exits 0" 0 $?
tap_grep "validate --help shows -f" '-f, --file FILE' "$TAP_TMP/vh"

"$ETCDWIZ" validate -f "$fx/valid-seed.yaml" >"$TAP_TMP/ok" 2>&1; tap_is "a valid file exits 0" 0 $?
tap_grep "a valid file prints the ok line" '^ok: cluster prod-etcd, 3 members$' "$TAP_TMP/ok"

# Every broken fixture: exit 1 and at least one file:line:col: error line.
bad_ok=0 bad_total=0
for f in "$fx"/bad-*.yaml; do
	bad_total=$((bad_total + 1))
	"$ETCDWIZ" validate -f "$f" >"$TAP_TMP/out" 2>&1
	rc=$?
	if [ "$rc" -eq 1 ] && grep -qF "$f:" "$TAP_TMP/out" &&
		grep -qE ':[0-9]+:[0-9]+: error: ' "$TAP_TMP/out"; then
		bad_ok=$((bad_ok + 1))
	else
		echo "# $f: rc=$rc"; sed 's/^/#   /' "$TAP_TMP/out"
	fi
done
tap_is "every bad fixture exits 1 with file:line:col errors" "$bad_total" "$bad_ok"

"$ETCDWIZ" validate -f "$fx/bad-values.yaml" >"$TAP_TMP/all" 2>&1
tap_is "all 20 problems of bad-values.yaml are reported, not just the first" 20 \
	"$(grep -c ': error: ' "$TAP_TMP/all")"
tap_grep "the error names the file, line and column" \
	"bad-values\.yaml:25:14: error: members\[1\]\.address: address 10\.0\.0\.1 is already used by members\[0\]" "$TAP_TMP/all"
"$ETCDWIZ" validate -f "$fx/does-not-exist.yaml" >"$TAP_TMP/nf" 2>&1
tap_is "a missing file exits 1" 1 $?
