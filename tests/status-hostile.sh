#!/bin/bash
# `etcdwiz status` against a hostile member (tests/hostile-etcd.py on
# 127.0.0.5, our certificates): one that answers every request with a
# 100 MiB body, and one whose answer never ends. Each is cut off, at the
# reader's size limit or at the refresh's time limit, with a message that
# says which; the process stays small (its peak RSS, read by the kernel,
# is far below 100 MiB) and ends; the full-screen dashboard keeps
# refreshing through it and quits on q.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

command -v python3 >/dev/null || tap_skip_all "python3 missing: apt-get install python3"
command -v tmux >/dev/null || tap_skip_all "tmux missing: apt-get install tmux"
command -v jq >/dev/null || tap_skip_all "jq missing: apt-get install jq"
. "${TOP_SRCDIR:-.}/tests/loopback-lib.sh"
ADDR=127.0.0.5
port_free 2379 $ADDR && port_free 2381 $ADDR || tap_skip_all "$ADDR:2379 or :2381 is in use"
tap_plan 15
T=$TAP_TMP
export XDG_DATA_HOME="$T/xdg" XDG_STATE_HOME="$T/state"
SOCK="etcdwiz-hostile-$$"
tap_on_exit "tmux -L '$SOCK' kill-server >/dev/null 2>&1"

CF=$T/cluster.yaml
cat >"$CF" <<EOF
apiVersion: etcdwiz/v1
kind: Cluster
name: hostile
pki:
  dir: $T/store
members:
  - {name: m1, address: $ADDR}
EOF
"$ETCDWIZ" certs generate -f "$CF" >"$T/certs.out" 2>&1 || sed 's/^/# certs: /' "$T/certs.out"
P=$T/store/members/m1/etcd
CLIENT=(--endpoints "https://$ADDR:2379" --cacert "$P/ca.crt" --cert "$P/healthcheck-client.crt"
	--key "$P/healthcheck-client.key" --direct)

fake_pid=""
start_fake() {
	rm -f "$T/ready"
	python3 "${TOP_SRCDIR:-.}/tests/hostile-etcd.py" "$1" "$ADDR" "$P/server.crt" "$P/server.key" \
		"$P/ca.crt" "$T/ready" 2>"$T/fake-$1.err" &
	fake_pid=$!
	for _ in $(seq 50); do [ -s "$T/ready" ] && return 0; sleep 0.1; done
	echo "# the fake member did not start:"; sed 's/^/# /' "$T/fake-$1.err"
}
stop_fake() { [ -z "$fake_pid" ] || { kill "$fake_pid" 2>/dev/null; wait "$fake_pid" 2>/dev/null; fake_pid=""; }; }
tap_on_exit stop_fake
# peak NAME ARGS...: etcdwiz ARGS (bounded by timeout 60); its exit status
# and peak resident size in KiB (getrusage of the waited children) go to
# $T/NAME.rc and $T/NAME.kib, its output to $T/NAME.out.
peak() {
	local name=$1
	shift
	python3 - "$T/$name" "$ETCDWIZ" "$@" <<'PY'
import resource, subprocess, sys
out = sys.argv[1]
with open(out + ".out", "w") as f:
    r = subprocess.run(["timeout", "60"] + sys.argv[2:], stdout=f, stderr=subprocess.STDOUT)
open(out + ".rc", "w").write(str(r.returncode))
open(out + ".kib", "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
PY
}

# cut_off MODE WHAT TIMEOUT CUT-TEXT PATTERN: status --once against the
# fake in MODE: it ends before the 60 s bound, says PATTERN (what cut it
# off), and does not call the member healthy.
cut_off() {
	start_fake "$1"
	peak "$1" status "${CLIENT[@]}" --once -o json --timeout "$3"
	tap_check "$2: status --once ends (exit $(cat "$T/$1.rc"), not the 60 s bound)" test "$(cat "$T/$1.rc")" != 124
	grep -o '"[a-z_]*error[a-z_]*":"[^"]*"' "$T/$1.out" | sort -u | head -3 | sed 's/^/# said: /'
	tap_grep "... the member is cut off: $4" "$5" "$T/$1.out"
	tap_is "... and is not called healthy" false "$(jq -r '.members[0].healthy // false' "$T/$1.out" 2>/dev/null | head -n 1)"
	stop_fake
}
cut_off huge "a 100 MiB answer" 20 "the body is too large" 'too large'
KIB=$(cat "$T/huge.kib")
tap_check "... peak resident size $((KIB / 1024)) MiB, under 64 MiB (the body is never held whole)" test "$KIB" -lt 65536
cut_off endless "an endless answer" 3 "at the refresh's time limit, said so" 'no answer within|did not answer within|timed out'

# --- the dashboard keeps running through a 100 MiB answer ---
start_fake huge
screen() { tmux -L "$SOCK" capture-pane -p -t st 2>/dev/null; }
tmux -L "$SOCK" -f /dev/null new-session -d -s st -x 160 -y 40 \
	"env TERM=xterm-256color LC_ALL=C.UTF-8 ASAN_OPTIONS=log_path=$T/asan UBSAN_OPTIONS=log_path=$T/ubsan '$ETCDWIZ' status ${CLIENT[*]} --interval 1 --timeout 2 2>'$T/dash.err'; echo \$? >'$T/dash.rc'; sleep 600"
for _ in $(seq 40); do screen | grep -q 'too large' && break; sleep 0.5; done
screen >"$T/dash1.txt"
tap_grep "the dashboard shows the member cut off" 'too large' "$T/dash1.txt"
sleep 5
screen >"$T/dash2.txt"
tap_check "... and is still running 5 s later (refreshing)" tmux -L "$SOCK" has-session -t st
differs() { ! cmp -s "$1" "$2"; }
tap_check "... its screen changed meanwhile (the refresh's clock)" differs "$T/dash1.txt" "$T/dash2.txt"
# The latency graph's bottom row is the line above WAL fsync's label.
tap_check "... its history graphs span the width from the first refresh (a baseline where none is seen yet)" \
	test "$(awk '/WAL fsync p99/ { print prev; exit } { prev = $0 }' "$T/dash2.txt" | grep -o '·' | wc -l)" -ge 100
tap_check "... in a framed panel titled with the member" grep -qE '^┌─ History of .*┐$' "$T/dash2.txt"
tmux -L "$SOCK" send-keys -t st F1
sleep 1
screen >"$T/dash-help.txt"
tmux -L "$SOCK" send-keys -t st Escape
sleep 1
screen >"$T/dash-after-help.txt"
tap_grep "F1 shows the dashboard's keys" 'Keys of the dashboard' "$T/dash-help.txt"
tap_check "... and Esc closes them, the dashboard still running" \
	sh -c "! grep -q 'Keys of the dashboard' '$T/dash-after-help.txt' && grep -q 'too large' '$T/dash-after-help.txt'"
tmux -L "$SOCK" send-keys -t st q
for _ in $(seq 50); do [ -s "$T/dash.rc" ] && break; sleep 0.2; done
tap_is "... q quits it: exit 0" 0 "$(cat "$T/dash.rc" 2>/dev/null)"
stop_fake
tap_finish
