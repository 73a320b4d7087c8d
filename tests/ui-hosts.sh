#!/bin/bash
# The wizard's Hosts screen in scripted mode (80x24 virtual screen, no
# terminal, no lab; issue #19 item 9): from a cluster file with members and
# a control-plane host, a member's sshHost, SSH user, port, identity file
# and sudo are edited, a value is given back to the cluster-wide default
# (empty input, and Del), a control-plane host is added and edited, the
# cluster-wide SSH defaults are edited, invalid input is marked where it is
# and Next refused; F3 saves, and the saved file passes `etcdwiz validate`
# and holds every value at its key. Every dump fits 80 columns, and a line
# that reaches the edge ends in an ellipsis.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

tap_plan 39
export XDG_DATA_HOME="$TAP_TMP/data" XDG_STATE_HOME="$TAP_TMP/state"
export ETCDWIZ_UI_DUMP_DIR="$TAP_TMP/dumps" ETCDWIZ_UI_IDLE_TIMEOUT=30
mkdir -p "$ETCDWIZ_UI_DUMP_DIR"
D=$ETCDWIZ_UI_DUMP_DIR
F=$TAP_TMP/cluster.yaml

# run NAME [env...]: the wizard on $F with the script on stdin, bounded.
run() {
	local name=$1
	shift
	cat >"$TAP_TMP/$name.keys"
	env TERM=xterm LC_ALL=C.UTF-8 "$@" ETCDWIZ_UI_SCRIPT="$TAP_TMP/$name.keys" timeout 60 "$ETCDWIZ" wizard -f "$F" \
		</dev/null >"$TAP_TMP/$name.out" 2>"$TAP_TMP/$name.err"
	rc=$?
}

cat >"$TAP_TMP/start.yaml" <<'EOF'
apiVersion: etcdwiz/v1
kind: Cluster
name: edit
kubernetesVersion: "1.33"
etcd:
  version: 3.5.21
ssh:
  user: admin
  port: 22
  sudo: true
  identityFile: /root/.ssh/id_ed25519
members:
  - name: etcd01
    address: 198.51.100.11
  - name: etcd02
    address: 198.51.100.12
  - name: etcd03
    address: 198.51.100.13
    sshHost: etcd03.example.internal
    ssh:
      port: 2222
controlPlane:
  endpoint: k8s-api.example.internal:6443
  hosts:
    - name: cp01
      address: 198.51.100.20
EOF
cp "$TAP_TMP/start.yaml" "$F"

# Hosts opens on etcd01's name. Its fields: Name, Address, SSH host, SSH
# user, Port, Identity file, Sudo (Right moves on); Up and Down change the
# row and keep the field.
run edit <<'KEYS'
<F3>
:dump start
<F1>
:dump help
<Esc>
<Right>
<Right>
<Enter>
text:"etcd01.lab.example"
<Enter>
<Right>
<Enter>
text:"ops"
:dump editing
<F3>
:dump editing-next
<Enter>
<Right>
<Enter>
text:"22x01"
<Enter>
<Right>
<Enter>
<Enter>
<Right>
<Enter>
text:"/root/.ssh/etcd01_key"
<Enter>
:dump member
<Down>
<Down>
<Left>
<Left>
<Enter>
<BS>
<BS>
<BS>
<BS>
<Enter>
<Left>
<Left>
<Del>
:dump cleared
c
:dump cp-added
<Enter>
text:"198.51.100.21"
<Enter>
<Right>
<Enter>
text:"bad host!"
<Enter>
<Right>
<Enter>
text:"kube"
<Enter>
:dump invalid
<F3>
:dump refused
<Left>
<Enter>
<BS>
<BS>
<BS>
<BS>
<BS>
<BS>
<BS>
<BS>
<BS>
<Enter>
<Right>
<Up>
<Enter>
text:"cpadmin"
<Enter>
<Down>
<Down>
<Right>
<Right>
<Right>
<Enter>
<C-u>
text:"/root/.ssh/a-very-long-cluster-wide-key-name-for-every-host_ed25519"
<Enter>
<Left>
<Enter>
:dump cluster
<Up>
<Up>
<Up>
<Up>
:dump inherits
<F3>
:dump saved
<F4>
y
KEYS
tap_is "the script runs to its end (Abort at Connect exits 1)" 1 "$rc"
tap_is "... and reports no script error" "" "$(cat "$TAP_TMP/edit.err")"
tap_grep "the table lists the control-plane host with its role" '^  control +cp01 +198\.51\.100\.20 ' "$D/start.txt"
tap_grep "... and a row for the cluster-wide SSH defaults" '^  cluster +edit +admin +22 +yes' "$D/start.txt"
tap_grep "the form of the selected host: an inherited user says (default)" 'SSH user +admin \(default\)' "$D/start.txt"
tap_grep "... an unset sshHost is the address" 'SSH host +198\.51\.100\.11 \(the address\)' "$D/start.txt"
tap_grep "the key bar has the control-plane key" 'c Add CP' "$D/start.txt"
tap_grep "help (F1) lists the control-plane key" 'c, F6 +Add CP: +add a control-plane host' "$D/help.txt"
tap_grep "... and Del, back to the default" 'Del +Default: +give the selected SSH value back' "$D/help.txt"
tap_grep "edit mode: the field in brackets with a cursor" 'SSH user +\[ops█\]' "$D/editing.txt"
tap_grep "... and a line naming the field and the host" \
	'Editing SSH user of etcd01: Enter keeps it, Esc cancels\.' "$D/editing.txt"
tap_grep "... and what an empty field means" 'Left empty, it is the default: admin\.' "$D/editing.txt"
tap_grep "Next while a field is edited is refused, with the reason" \
	'Next is not possible yet: a field is being edited' "$D/editing-next.txt"
tap_grep "the port field takes digits only" 'Port +2201 +Sudo +no$' "$D/member.txt"
tap_grep "the member's own values show in its row" \
	'^▸ member +etcd01 +198\.51\.100\.11 +etcd01\.lab\.example +ops +2201 +no' "$D/member.txt"
tap_grep "... and the identity file" 'Identity file +/root/\.ssh/etcd01_key$' "$D/member.txt"
tap_grep "an emptied port is the cluster's again" 'Port +22 \(default\)' "$D/cleared.txt"
tap_grep "Del gives sshHost back to the address" 'SSH host +198\.51\.100\.13 \(the address\)' "$D/cleared.txt"
tap_grep "c adds a control-plane host, its form under the table" 'Control-plane host cp-2 \(2 of 2\)' "$D/cp-added.txt"
tap_grep "an invalid sshHost is marked where it is" 'SSH host +!bad host!' "$D/invalid.txt"
tap_grep "... with the validator's key path and reason" \
	'controlPlane\.hosts\[1\]\.sshHost: "bad host!" is neither an IP' "$D/invalid.txt"
tap_grep "Next is refused while it is invalid" 'Next is not possible yet: 1 field is invalid \(marked !\)' "$D/refused.txt"
tap_grep "the cluster row's form has the cluster's settings" 'API endpoint +k8s-api\.example\.internal:6443' "$D/cluster.txt"
tap_grep "a long identity file gets the whole row and ends in an ellipsis" 'Identity file +/root/\.ssh/a-very-long[^ ]*…$' "$D/cluster.txt"
tap_grep "the cluster-wide sudo is switched off" 'Port +22 +Sudo +no$' "$D/cluster.txt"
tap_grep "a host inherits the new cluster-wide identity file (cut with an ellipsis)" 'Identity file +/root/\.ssh/a-very-long[^ ]*… \(default\)' \
	"$D/inherits.txt"
tap_grep "F3 saves and goes on to Connect" 'etcdwiz 3/13: Connect' "$D/saved.txt"

# Every line fits the screen; one that reaches column 80 was cut and says
# so (display columns: a wide character counts 2).
cut=$(python3 - $(grep -l 'etcdwiz 2/13: Hosts' "$D"/*.txt) <<'PY'
import sys, unicodedata
def width(s):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)
for name in sys.argv[1:]:
    for line in open(name, encoding="utf-8").read().split("\n"):
        if width(line) > 80 or (width(line) == 80 and not line.endswith("\u2026")):
            print(name, line)
PY
)
tap_is "no dump line is wider than 80 or cut without an ellipsis" "" "$cut"

tap_check "the saved file passes etcdwiz validate" "$ETCDWIZ" validate -f "$F"
# Each value at its key (python3's yaml reads the saved file).
got=$(python3 - "$F" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
m, cp = c["members"], c["controlPlane"]["hosts"]
print(m[0].get("sshHost"), m[0]["ssh"], "|", m[1].get("ssh"), "|", m[2].get("sshHost"), m[2].get("ssh"))
print([(h["name"], h["address"], h.get("sshHost"), h.get("ssh")) for h in cp])
print(c["ssh"]["identityFile"], c["ssh"]["sudo"], c["controlPlane"]["endpoint"])
PY
)
tap_is "member: sshHost, user, port, identity file and sudo saved; cleared ones gone" \
	"etcd01.lab.example {'user': 'ops', 'port': 2201, 'identityFile': '/root/.ssh/etcd01_key', 'sudo': False} | None | None None" \
	"$(sed -n 1p <<<"$got")"
tap_is "control-plane hosts: the edited one and the added one saved" \
	"[('cp01', '198.51.100.20', None, {'user': 'cpadmin'}), ('cp-2', '198.51.100.21', None, {'user': 'kube'})]" \
	"$(sed -n 2p <<<"$got")"
tap_is "the cluster-wide SSH defaults saved" \
	"/root/.ssh/a-very-long-cluster-wide-key-name-for-every-host_ed25519 False k8s-api.example.internal:6443" \
	"$(sed -n 3p <<<"$got")"

# Adding a control-plane host to a cluster without one makes the file
# valid with a controlPlane section; deleting it takes the section away.
sed '/^controlPlane:/,$d' "$TAP_TMP/start.yaml" >"$F"
run addcp <<'KEYS'
<F3>
c
:dump addcp-new
<Enter>
text:"198.51.100.30"
<Enter>
:dump addcp
<F3>
<F4>
y
KEYS
tap_grep "a first control-plane host says the file gets a controlPlane section" \
	'gets a controlPlane section' "$D/addcp-new.txt"
tap_check "the saved file with it passes etcdwiz validate" "$ETCDWIZ" validate -f "$F"
tap_grep "... and has the host under controlPlane" '^  - name: cp-1$' "$F"

run delcp <<'KEYS'
<F3>
<Down>
<Down>
<Down>
d
:dump delcp
<F3>
<F4>
y
KEYS
tap_grep "d on the last control-plane host says the section goes" 'no controlPlane section now' "$D/delcp.txt"
tap_is "... and the saved file has none, and is valid" "0 0" \
	"$(grep -c '^controlPlane:' "$F") $("$ETCDWIZ" validate -f "$F" >/dev/null; echo $?)"

# zh_TW: the headings are wide characters; the columns are laid out by
# display width, so each value starts under its heading.
run zh LANGUAGE=zh_TW <<'KEYS'
<F3>
:dump zh
<F4>
y
KEYS
cols=$(python3 - "$D/zh.txt" <<'PY'
import sys, unicodedata
def width(s):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
head = lines[2]
row = next(l for l in lines if "etcd01" in l)
print(width(head[:head.index("\u4f4d\u5740")]), width(row[:row.index("198.51.100.11")]),
      max(width(l) for l in lines))
PY
)
tap_is "zh_TW: the address starts under its wide heading; no line wider than 80" "yes yes" \
	"$(awk '{ print ($1 == $2 ? "yes" : "no"), ($3 <= 80 ? "yes" : "no") }' <<<"$cols")"

# A terminal too short for the form: the table and a word on why, the
# footer left whole (the form does not draw over it).
run small ETCDWIZ_UI_SIZE=80x14 <<'KEYS'
<F3>
:dump small
<F4>
y
KEYS
tap_check "80x14: the form says it needs a taller terminal, the footer is whole" \
	sh -c "grep -qF 'The form needs a taller terminal.' '$D/small.txt' && tail -n 1 '$D/small.txt' | grep -q '^F1 Help  F2 Back  F3 Next'"

[ -n "${KEEP_DUMPS:-}" ] && cp -r "$D" "$KEEP_DUMPS"
tap_finish
