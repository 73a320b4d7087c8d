#!/bin/bash
# The packages, from the release tarball's tree (`make distdir`): the
# Debian one built with `dpkg-buildpackage -us -uc -b` holds the program,
# the man page, the zh_TW catalogue, the bash completion and the docs,
# lintian reports no error and no warning, and, installed with dpkg on a
# lab host (Debian 12), `etcdwiz --version` and `etcdwiz validate` work
# there and `dpkg -r` takes it away; the RPM spec is accepted by Debian's
# rpmbuild (`--nodeps -bs`, a source package). A lab test: root, minutes.
. "${TOP_SRCDIR:-.}/tests/tap.sh"

for t in dpkg-buildpackage dh lintian rpmbuild; do
	command -v "$t" >/dev/null || tap_skip_all "$t missing: apt-get install debhelper lintian rpm"
done
. "${TOP_SRCDIR:-.}/tests/lab-lib.sh"
tap_plan 13
T=$TAP_TMP
export XDG_DATA_HOME="$T/xdg"
tap_on_exit "'$ETCDWIZ' lab down >/dev/null 2>&1"
V=$("$ETCDWIZ" --version | head -n 1 | awk '{print $NF}')
D=$T/etcdwiz-$V

# The release tree where `make dist` makes it (gettext's po/ Makefile puts
# its files only there), moved here at once.
rm -rf "$TOP_BUILDDIR/etcdwiz-$V"
make -s -C "$TOP_BUILDDIR" distdir >"$T/distdir.out" 2>&1 && mv "$TOP_BUILDDIR/etcdwiz-$V" "$D"
# The package build is not part of this tree's make.
unset MAKEFLAGS MAKELEVEL MFLAGS
tap_check "make distdir gives the release tree, debian/ and rpm/ in it" \
	test -x "$D/debian/rules" -a -f "$D/rpm/etcdwiz.spec" -a -f "$D/configure"
# The tarball for rpmbuild, before the Debian build adds to the tree.
mkdir -p "$T/src"
tar -C "$T" -czf "$T/src/etcdwiz-$V.tar.gz" "etcdwiz-$V"
(cd "$D" && dpkg-buildpackage -us -uc -b) >"$T/deb.out" 2>&1
rc=$?
tap_is "dpkg-buildpackage -us -uc -b: exit 0" 0 $rc
[ $rc -eq 0 ] || tail -15 "$T/deb.out" | sed 's/^/# /'
DEB=$(ls "$T"/etcdwiz_"$V"_*.deb 2>/dev/null | head -n 1)
dpkg-deb -c "$DEB" 2>/dev/null | awk '{print $6}' >"$T/contents"
want="./usr/bin/etcdwiz ./usr/share/man/man1/etcdwiz.1.gz ./usr/share/locale/zh_TW/LC_MESSAGES/etcdwiz.mo
./usr/share/bash-completion/completions/etcdwiz ./usr/share/doc/etcdwiz/README.md.gz
./usr/share/doc/etcdwiz/copyright ./usr/libexec/etcdwiz/kubelet-standin"
missing=""
for f in $want; do grep -qxF "$f" "$T/contents" || missing="$missing $f"; done
tap_is "the .deb holds the program, the man page, zh_TW, the completion and the docs" "" "$missing"
TMPDIR=$T lintian "$T"/etcdwiz_"$V"_*.changes >"$T/lintian" 2>&1
tap_is "lintian: exit 0" 0 $?
tap_is "... no error and no warning" "" "$(grep -E '^[EW]: ' "$T/lintian")"

rpmbuild --nodeps -bs --define "_topdir $T/rpm" --define "_sourcedir $T/src" --define "_srcrpmdir $T" \
	"$D/rpm/etcdwiz.spec" >"$T/rpm.out" 2>&1
rc=$?
tap_is "rpmbuild --nodeps -bs rpm/etcdwiz.spec: exit 0" 0 $rc
[ $rc -eq 0 ] || tail -10 "$T/rpm.out" | sed 's/^/# /'
tap_check "... a source RPM" test -s "$T/etcdwiz-$V-1.src.rpm"

# --- installed on a Debian 12 lab host ---
"$ETCDWIZ" lab up -n 3 -q >"$T/up" 2>&1
tap_is "lab up -n 3" 0 $?
lab_ssh 198.51.100.11 "cat >/tmp/etcdwiz.deb" <"$DEB"
lab_ssh 198.51.100.11 "dpkg -i /tmp/etcdwiz.deb" >"$T/install" 2>&1
tap_is "dpkg -i on etcd-1: exit 0 (its libraries are Debian 12's)" 0 $?
tap_is "etcdwiz --version there" "etcdwiz $V" "$(lab_ssh 198.51.100.11 'etcdwiz --version' 2>&1 | head -n 1)"
lab_ssh 198.51.100.11 "cat >/tmp/cluster.yaml" <"$LAB/cluster.yaml"
lab_ssh 198.51.100.11 "etcdwiz validate -f /tmp/cluster.yaml" >"$T/validate" 2>&1
tap_is "etcdwiz validate of the lab's cluster file there: exit 0" 0 $?
tap_check "... and its man page and completion are where man and bash look" \
	lab_ssh 198.51.100.11 'test -s /usr/share/man/man1/etcdwiz.1.gz -a -s /usr/share/bash-completion/completions/etcdwiz'
lab_ssh 198.51.100.11 "dpkg -r etcdwiz && ! test -e /usr/bin/etcdwiz" >"$T/remove" 2>&1
tap_is "dpkg -r takes it away" 0 $?
tap_finish
