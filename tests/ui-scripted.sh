#!/bin/bash
# The wizard in scripted mode (keys from a file, screens dumped as text, as
# tig's TIG_SCRIPT tests do) on an 80x24 virtual screen: no terminal and no
# lab needed. Welcome, Hosts with invalid input and a refused Next, help,
# abort, resize, NO_COLOR + TERM=vt100 (ASCII), and resuming a session.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

tap_plan 33
export XDG_DATA_HOME="$TAP_TMP/data" XDG_STATE_HOME="$TAP_TMP/state"
export ETCDWIZ_UI_DUMP_DIR="$TAP_TMP/dumps" ETCDWIZ_UI_IDLE_TIMEOUT=30
mkdir -p "$ETCDWIZ_UI_DUMP_DIR"
D=$ETCDWIZ_UI_DUMP_DIR

# run NAME [env...]: the wizard with the script $TAP_TMP/NAME.keys (stdin),
# bounded; exit status in $rc, stderr in $TAP_TMP/NAME.err.
run() {
	local name=$1
	shift
	cat >"$TAP_TMP/$name.keys"
	env TERM=xterm "$@" ETCDWIZ_UI_SCRIPT="$TAP_TMP/$name.keys" timeout 60 "$ETCDWIZ" wizard \
		</dev/null >"$TAP_TMP/$name.out" 2>"$TAP_TMP/$name.err"
	rc=$?
}
# size FILE: "ROWS MAXCOLS" of a dump (columns counted as characters).
size() { echo "$(wc -l <"$1") $(LC_ALL=C.UTF-8 awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$1")"; }

run welcome <<'KEYS'
:dump welcome
<F3>
:dump welcome-refused
<F1>
:dump help
<Esc>
<F4>
:dump abort
n
:dump after-abort-no
KEYS
tap_is "the script runs to its end and exits 0" 0 "$rc"
tap_check "Welcome matches tests/fixtures/ui/welcome-80x24.txt" cmp "$TOP_SRCDIR/tests/fixtures/ui/welcome-80x24.txt" "$D/welcome.txt"
tap_is "dumps are 24 rows of at most 80 columns" "24 80" "$(size "$D/welcome.txt" | awk '{ print $1, ($2 <= 80 ? 80 : $2) }')"
tap_grep "the footer shows the keys of the screen" '^F1 Help  F2 Back  F3 Next  F4 Abort  Enter Choose$' "$D/welcome.txt"
tap_grep "Next on Welcome without a cluster is refused, with the reason" \
	'Next is not possible yet: choose a cluster first' "$D/welcome-refused.txt"
tap_grep "F1 opens help built from the action table (global keys)" 'F3, Ctrl-N +Next: +next screen' "$D/help.txt"
# help_col PATTERN: the display column where the text after PATTERN's line's
# label starts (keys, label and what it does are columns).
help_col() { grep -m1 -E "$1" "$D/help.txt" | LC_ALL=C.UTF-8 awk -v re="$2" '{ print index($0, re) }'; }
tap_is "... in columns: what each key does starts at one column" "$(help_col 'Ctrl-N' 'next screen')" \
	"$(help_col 'Ctrl-X' 'leave the wizard')"
tap_grep "help lists the screen's own keys too" 'Enter, Space +Choose: +choose the selected line' "$D/help.txt"
tap_grep "Abort asks first" 'Leave the wizard now\?' "$D/abort.txt"
tap_check "answering No keeps the wizard open on Welcome" grep -q 'etcdwiz 1/13: Welcome' "$D/after-abort-no.txt"

run hosts <<'KEYS'
<Down>
<Down>
<Enter>
:dump hosts
<F3>
:dump hosts-refused
<Down>
<Right>
<Enter>
text:"10.0.0.1"
<Enter>
:dump hosts-one
<Up>
<Left>
<Enter>
<BS>
<BS>
<BS>
<BS>
<BS>
<BS>
text:"Bad_Name"
<Enter>
:dump hosts-badname
<Right>
<Right>
<Right>
<Right>
<Enter>
<BS>
<BS>
text:"x7"
<Enter>
:dump hosts-port
:resize 100x30
:dump hosts-100x30
KEYS
tap_is "hosts script exits 0" 0 "$rc"
tap_is "a new cluster's three empty addresses are marked in place" 3 "$(grep -cE 'member +etcd-[123] +!' "$D/hosts.txt")"
tap_grep "the reason is shown with the field's path" 'members\[0\]\.address: "" is not an IPv4 or IPv6 address' "$D/hosts.txt"
tap_grep "Next is refused while fields are invalid, with the count" 'Next is not possible yet: 3 fields are invalid' "$D/hosts-refused.txt"
tap_is "a valid address clears its mark" 2 "$(grep -cE 'member +etcd-[123] +!' "$D/hosts-one.txt")"
tap_grep "an invalid name is marked with its reason" 'not a valid host name' "$D/hosts-badname.txt"
tap_grep "the port field takes digits only" 'member +!Bad_Name +! +root +7 ' "$D/hosts-port.txt"
tap_grep "3/5/7 guidance is shown" 'Use 3, 5 or 7 members' "$D/hosts.txt"
tap_is "after :resize 100x30 the dump has 30 rows and uses the width" "30 yes" \
	"$(size "$D/hosts-100x30.txt" | awk '{ print $1, ($2 > 80 ? "yes" : "no") }')"

# Fill the form, go on (the cluster file is saved), then resume.
run fill <<'KEYS'
<Down>
<Down>
<Enter>
<Right>
<Enter>
text:"198.51.100.201"
<Enter>
<Down>
<Enter>
text:"198.51.100.202"
<Enter>
<Down>
<Enter>
text:"198.51.100.203"
<Enter>
:dump filled
<F3>
:dump connect
<F4>
y
KEYS
tap_grep "a valid form says so" 'Every field is valid' "$D/filled.txt"
tap_grep "... and what 3 members tolerate, in the singular" '3 members: tolerate 1 failure\. Use 3, 5 or 7' "$D/filled.txt"
tap_grep "Next on a valid Hosts screen opens Connect" 'etcdwiz 3/13: Connect' "$D/connect.txt"
tap_check "the saved cluster file passes etcdwiz validate" "$ETCDWIZ" validate -f "$XDG_DATA_HOME/etcdwiz/etcd/cluster.yaml"
tap_is "Abort (F4, y) exits 1" 1 "$rc"
tap_grep "... and says where it left and what was kept" \
	"^Left the wizard at Connect; nothing more was changed on any host\.\$" "$TAP_TMP/fill.out"
tap_grep "... and how to resume" "^Kept: the cluster file .*/cluster.yaml and the session: 'etcdwiz wizard' resumes at Connect\.\$" "$TAP_TMP/fill.out"
run resume <<'KEYS'
:dump resumed
KEYS
tap_grep "a wizard started again resumes where it stopped" 'etcdwiz 3/13: Connect' "$D/resumed.txt"
tap_grep "and says so" 'Resumed at Connect' "$D/resumed.txt"

# No colour, vt100: ASCII line drawing only.
rm -rf "$XDG_STATE_HOME"
run ascii NO_COLOR=1 TERM=vt100 <<'KEYS'
<F1>
:dump help-vt100
KEYS
tap_grep "TERM=vt100 draws boxes in ASCII" '\+- Help -+\+' "$D/help-vt100.txt"
tap_is "TERM=vt100 with NO_COLOR: no byte outside ASCII on the screen" 0 \
	"$(LC_ALL=C grep -c $'[\x80-\xff]' "$D/help-vt100.txt")"

# Broken scripts fail loudly.
run bad <<'KEYS'
<NoSuchKey>
KEYS
tap_is "an unknown script token exits 1" 1 "$rc"
tap_grep "and names the line" 'bad.keys:1: not a script token: <NoSuchKey>' "$TAP_TMP/bad.err"

"$ETCDWIZ" --help >"$TAP_TMP/help.txt"
tap_grep "etcdwiz --help lists the wizard" '^  wizard ' "$TAP_TMP/help.txt"
