#!/bin/bash
# Each libFuzzer target (tests/fuzz/) over its corpus (every input must
# pass: the regressions in tests/fixtures/fuzz/TARGET/ and seeds made from
# the other fixtures), then a short bounded run (3000 inputs), so that the
# targets keep building and the corpus keeps passing. The long runs are
# `make fuzz` (docs/RELIABILITY.md).
#
# With FUZZ_SEEDS_ONLY=1 and TARGET DIR: only writes TARGET's seeds into
# DIR (for `make fuzz`).
TOP_SRCDIR=${TOP_SRCDIR:-.}
TOP_BUILDDIR=${TOP_BUILDDIR:-.}
F="$TOP_SRCDIR/tests/fixtures"

# seeds TARGET DIR: the corpus of TARGET, written into DIR.
seeds() {
	local t=$1 d=$2 f i=0
	mkdir -p "$d"
	[ -d "$F/fuzz/$t" ] && cp "$F/fuzz/$t"/* "$d/" 2>/dev/null
	case $t in
	cluster)
		cp "$F"/cluster/*.yaml "$d/"
		cp "$TOP_SRCDIR"/docs/examples/*.yaml "$d/" 2>/dev/null
		;;
	etcd-json)
		# The first byte picks the reader (fuzz-etcd-json.c).
		for f in "$F"/etcd/*.json; do
			case $(basename "$f") in
			status-*) i=0 ;; member-list-*) i=1 ;; member-add-*) i=2 ;; error-*) i=4 ;;
			alarm-*) i=5 ;; version*) i=6 ;; health*) i=7 ;; *) continue ;;
			esac
			{ printf "\\$(printf '%03o' "$i")"; cat "$f"; } >"$d/$(basename "$f")"
		done
		{ printf '\003'; cat "$F/etcd/member-list-3.json"; } >"$d/promote.json"
		{ printf '\010'; head -n 2 "$F/etcd/snapshot-3.4.jsonl" | tail -n 1; } >"$d/snapshot-line.json"
		;;
	metrics)
		for f in "$F"/etcd/metrics-*.txt; do
			grep -E '^(# (HELP|TYPE) )?(etcd_|os_fd|process_open)' "$f" | head -n 400 >"$d/$(basename "$f")"
		done
		;;
	http)
		# Answers as etcd gives them: length, chunked, until close; read
		# in pieces of 1, 8 and 128 bytes; the streamed form (first bit).
		printf '\000HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello' >"$d/length"
		printf '\007HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' >"$d/chunked"
		printf '\177HTTP/1.0 503 Service Unavailable\r\n\r\n{"health":"false"}' >"$d/close"
		printf '\207HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\n{"result":{"blob":"AAAA"}}\r\n0\r\n\r\n' >"$d/stream"
		;;
	pem)
		# A certificate, NUL, its key: an RSA and an ECDSA pair made by
		# certtool, and the pairs kept as regressions.
		if command -v certtool >/dev/null; then
			for alg in rsa ecdsa; do
				certtool --generate-privkey --key-type "$alg" --outfile "$d/$alg.key" >/dev/null 2>&1
				printf 'cn = fuzz\nca\ncert_signing_key\nexpiration_days = 30\n' >"$d/tmpl"
				certtool --generate-self-signed --load-privkey "$d/$alg.key" --template "$d/tmpl" \
					--outfile "$d/$alg.crt" >/dev/null 2>&1
				{ cat "$d/$alg.crt"; printf '\000'; cat "$d/$alg.key"; } >"$d/$alg"
				rm -f "$d/$alg.key" "$d/$alg.crt" "$d/tmpl"
			done
		fi
		;;
	known-hosts)
		# OpenSSH's forms: plain, with a port, hashed, @revoked, a comment.
		k=AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl
		printf '10.0.0.1 ssh-ed25519 %s\n' "$k" >"$d/plain"
		printf '[etcd-1.example]:2222,10.0.0.2 ssh-ed25519 %s host key\n' "$k" >"$d/port"
		printf '|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ssh-ed25519 %s\n' "$k" >"$d/hashed"
		printf '# comment\n@revoked 10.0.0.1 ssh-ed25519 %s\n10.0.0.1 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7\n' "$k" >"$d/revoked"
		;;
	plans)
		# What the checks print: a fresh Debian 12 member, one with etcd data.
		printf '@@os-release\nID=debian\nVERSION_ID="12"\n' >"$d/fresh"
		printf '@@os-release\nID=debian\nVERSION_ID="12"\n@@etcd\ndata=yes\n@@dirs\n/etc/kubernetes/manifests=700 root:root\n@@stat:/etc/kubernetes/manifests/etcd.yaml\n600 root:root\n@@file:/etc/kubernetes/manifests/etcd.yaml\n' >"$d/member"
		cat "$F/plan/etcd-manifest.golden" >>"$d/member"
		;;
	snapshot)
		{ printf '\377'; cat "$F/etcd/snapshot-3.4.jsonl"; } >"$d/snapshot-3.4"
		{ printf '\007'; head -n 3 "$F/etcd/snapshot-3.4.jsonl"; } >"$d/snapshot-head"
		;;
	esac
}

if [ -n "${FUZZ_SEEDS_ONLY:-}" ]; then
	seeds "$1" "$2"
	exit 0
fi

. "$TOP_SRCDIR/tests/tap.sh"
TARGETS="cluster etcd-json metrics snapshot plans http pem known-hosts"
for t in $TARGETS; do
	[ -x "$TOP_BUILDDIR/tests/fuzz/fuzz-$t" ] ||
		tap_skip_all "the fuzz targets were not built: clang with libFuzzer is needed (apt-get install clang), then configure again"
done
tap_plan 16
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in $TARGETS; do
	bin="$TOP_BUILDDIR/tests/fuzz/fuzz-$t"
	seeds "$t" "$TAP_TMP/seeds-$t"
	n=$(ls "$TAP_TMP/seeds-$t" | wc -l)
	(cd "$TAP_TMP" && timeout 300 "$bin" -runs=0 "seeds-$t") >"$TAP_TMP/corpus-$t.log" 2>&1
	rc=$?
	tap_is "fuzz-$t: each of its $n corpus inputs runs clean" 0 $rc
	[ $rc -eq 0 ] || grep -E 'ERROR|SUMMARY|Running|#0|#1|#2|#3' "$TAP_TMP/corpus-$t.log" | head -12 | sed 's/^/# /'
	mkdir -p "$TAP_TMP/new-$t"
	(cd "$TAP_TMP" && timeout 300 "$bin" -runs=3000 -seed=1 -max_len=4096 -artifact_prefix="$TAP_TMP/" \
		"new-$t" "seeds-$t") >"$TAP_TMP/run-$t.log" 2>&1
	rc=$?
	tap_is "fuzz-$t: 3000 more inputs, no crash, leak or undefined behaviour" 0 $rc
	[ $rc -eq 0 ] || { grep -E 'ERROR|SUMMARY|#0|#1|#2|#3|Test unit' "$TAP_TMP/run-$t.log" | head -12 | sed 's/^/# /'; }
done
tap_finish
