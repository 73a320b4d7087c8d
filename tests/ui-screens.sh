#!/bin/bash
# The wizard's screens at 80x24, as an admin on a small terminal sees them,
# in English, in NO_COLOR on a vt100 (ASCII) and in zh_TW: Welcome, its help,
# Hosts, Connect (a real sshd on loopback, three members behind it), Members,
# Backups, Upgrade, the Prerequisites check (read-only on this machine) and the Abort question,
# in scripted mode (keys from a file, screens dumped as text). On every
# screen nothing is cut without an ellipsis, and in zh_TW each table's
# titles sit over their columns by display width (a CJK character takes two
# columns) (tests/screen-check.py). Needs root (sshd logs in as root here).
. "${TOP_SRCDIR:-.}/tests/tap.sh"

SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || tap_skip_all "sshd missing: apt-get install openssh-server"
command -v ssh-keygen >/dev/null || tap_skip_all "ssh-keygen missing: apt-get install openssh-client"
command -v python3 >/dev/null || tap_skip_all "python3 missing: apt-get install python3"
[ "$(id -u)" -eq 0 ] || tap_skip_all "sshd on loopback logs in as root here (CI runs as root)"
tap_plan 16
T=$TAP_TMP
export XDG_DATA_HOME="$T/data" XDG_STATE_HOME="$T/state" ETCDWIZ_UI_IDLE_TIMEOUT=30
unset SSH_AUTH_SOCK
CHECK="python3 $TOP_SRCDIR/tests/screen-check.py"

tap_need_sshd_dir
ssh-keygen -q -t ed25519 -N '' -C client -f "$T/id"
cp "$T/id.pub" "$T/authorized_keys"
ssh-keygen -q -t ed25519 -N '' -C host -f "$T/host"
. "${TOP_SRCDIR:-.}/tests/loopback-lib.sh"
loopback_sshd "$T" "PermitRootLogin prohibit-password" "MaxStartups 50"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$T/host.pub")" >"$T/known_hosts"

# The zh_TW catalogue from this tree's po/ (nothing installed).
LOCALEDIR="$T/locale"
mkdir -p "$LOCALEDIR/zh_TW/LC_MESSAGES"
msgfmt -o "$LOCALEDIR/zh_TW/LC_MESSAGES/etcdwiz.mo" "$TOP_SRCDIR/po/zh_TW.po" || echo "# msgfmt failed"
zh() { LANGUAGE=zh_TW TEXTDOMAINDIR=$LOCALEDIR gettext -d etcdwiz "$1"; }

cat >"$T/cluster.yaml" <<EOF
apiVersion: etcdwiz/v1
kind: Cluster
name: screens
kubernetesVersion: "1.33"
etcd:
  version: 3.5.21
ssh:
  user: root
  port: $port
  identityFile: $T/id
  knownHosts: $T/known_hosts
members:
  - {name: etcd-1, address: 198.51.100.201, sshHost: 127.0.0.1}
  - {name: etcd-2, address: 198.51.100.202, sshHost: 127.0.0.1}
  - {name: etcd-3, address: 198.51.100.203, sshHost: 127.0.0.1}
EOF

# walk NAME [env...]: Welcome, help, Hosts, Connect, Members (a cluster not
# running yet), Backups, Upgrade, Prerequisites (its check), Abort (Yes chosen by the arrow,
# as No is the default); each screen dumped as $T/NAME/SCREEN.txt.
walk() {
	local name=$1
	shift
	mkdir -p "$T/$name"
	rm -rf "$XDG_STATE_HOME"
	cat >"$T/$name.keys" <<'KEYS'
:dump welcome
<F1>
:dump help
<Esc>
<F3>
:dump hosts
<F3>
:wait-idle
:dump connect
<F3>
:wait-idle
:dump members
<F3>
:wait-idle
:dump backups
<F3>
:wait-idle
:dump upgrade
<F3>
:wait-idle
:dump prereq
<F4>
:dump abort
<Left>
<Enter>
KEYS
	env TERM=xterm "$@" ETCDWIZ_UI_DUMP_DIR="$T/$name" ETCDWIZ_UI_SCRIPT="$T/$name.keys" \
		timeout 120 "$ETCDWIZ" wizard -f "$T/cluster.yaml" </dev/null >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
}
dumps() { ls "$T/$1"/welcome.txt "$T/$1"/help.txt "$T/$1"/hosts.txt "$T/$1"/connect.txt \
	"$T/$1"/members.txt "$T/$1"/backups.txt "$T/$1"/upgrade.txt "$T/$1"/prereq.txt "$T/$1"/abort.txt 2>/dev/null | wc -l; }

walk en LC_ALL=C.UTF-8
tap_is "English: the walk ends at Abort (exit 1), nine screens dumped" "1 9" "$rc $(dumps en)"
tap_grep "... Connect connected the three hosts" '3 of 3 hosts connected' "$T/en/connect.txt"
tap_check "... the Prerequisites check ran (a row per host with its progress)" \
	grep -qE '^ etcd-[123] ' "$T/en/prereq.txt"
tap_check "English at 80x24: nothing cut without an ellipsis on any screen" $CHECK cut 80 "$T"/en/*.txt

walk ascii LC_ALL=C NO_COLOR=1 TERM=vt100
tap_is "NO_COLOR vt100: the walk ends at Abort, nine screens dumped" "1 9" "$rc $(dumps ascii)"
tap_is "... in ASCII only (no byte above 127)" 0 "$(cat "$T"/ascii/*.txt | LC_ALL=C grep -c '[^ -~]')"
tap_check "NO_COLOR vt100 at 80x24: nothing cut without an ellipsis on any screen" $CHECK cut 80 "$T"/ascii/*.txt

walk zh LC_ALL=C.UTF-8 LANGUAGE=zh_TW ETCDWIZ_LOCALEDIR="$LOCALEDIR"
tap_is "zh_TW: the walk ends at Abort, nine screens dumped" "1 9" "$rc $(dumps zh)"
tap_check "... translated (the catalogue is used: Host is $(zh Host))" \
	grep -qF -- "$(zh 'Host')" "$T/zh/connect.txt"
tap_check "zh_TW Connect: Host, SSH target and State over their columns" \
	$CHECK columns "$T/zh/connect.txt" "$(zh 'Host')" "$(zh 'SSH target')" "$(zh 'State')" -- '^ *etcd-[123] '
tap_grep "... the state in words, not a state name" "$(zh 'connected')" "$T/zh/connect.txt"
tap_check "zh_TW Prerequisites: Host, State, Step and Progress over their columns" \
	$CHECK columns "$T/zh/prereq.txt" "$(zh 'Host')" "$(zh 'State')" "$(zh 'Step')" "$(zh 'Progress')" -- '^ etcd-[123] '
tap_check "zh_TW at 80x24: nothing cut without an ellipsis on any screen" $CHECK cut 80 "$T"/zh/*.txt

# The checker itself: a title moved one column, a line cut at the border,
# are found (so the checks above can fail).
sed "0,/$(zh 'State')/s/ $(zh 'State')/$(zh 'State')/" "$T/zh/connect.txt" >"$T/moved.txt"
tap_check "screen-check finds a title one column off its column" \
	test "$($CHECK columns "$T/moved.txt" "$(zh 'Host')" "$(zh 'SSH target')" "$(zh 'State')" -- '^ *etcd-[123] ' >/dev/null; echo $?)" = 1
printf '%s\n' "$(printf 'x%.0s' $(seq 80))" "│ a line cut by its box│" >"$T/cut.txt"
tap_is "screen-check finds text cut at the last column and at a box's border" 2 \
	"$($CHECK cut 80 "$T/cut.txt" | grep -c 'without an ellipsis')"
tap_is "no sanitizer report" 0 "$(cat "$T"/*.err | grep -c 'Sanitizer')"
