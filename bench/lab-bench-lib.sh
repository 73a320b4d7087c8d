# Sourced by the lab benchmarks (ssh-bench.sh, apply-bench.sh,
# status-bench.sh) after they set BENCH_NAME: the arguments
# [ROUNDS [SIZES...]], the etcdwiz binary and its build tree, root, the
# machine's one lab (the lock every lab test takes, held for the whole run,
# and a refusal to touch a lab that is up), a temp dir, the lab taken down
# on exit, and the timing helpers. Sets rounds, sizes, here, etcdwiz,
# build, LAB, tmp.
set -eu
rounds=${1:-${BENCH_DEFAULT_ROUNDS:-5}}
[ $# -gt 0 ] && shift
sizes=${*:-3 5 7}
here=$(cd "$(dirname "$0")" && pwd)
etcdwiz=${ETCDWIZ:-$here/../etcdwiz}
build=$(cd "$(dirname "$etcdwiz")" && pwd)
etcdwiz=$build/$(basename "$etcdwiz")
LAB=/var/lib/etcdwiz-lab
die() { echo "$BENCH_NAME: $*" >&2; exit 2; }
[ -x "$etcdwiz" ] || die "no etcdwiz binary at $etcdwiz; set ETCDWIZ"
[ "$(id -u)" -eq 0 ] || die "the lab needs root"
export ETCDWIZ_LAB_PATH=${ETCDWIZ_LAB_PATH:-$build/lab:$here/../lab}

exec 9>/run/etcdwiz-lab-test.lock
flock 9
[ -e "$LAB/state" ] && die "a lab is up already; this benchmark would remove it (run 'etcdwiz lab down' first)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/$BENCH_NAME.XXXXXX")
trap '"$etcdwiz" lab down >/dev/null 2>&1; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", (b > 0) ? a / b : 0 }'; }
