#!/bin/bash
# make check fails when a user-facing string has no zh_TW translation:
# extract a fresh template from the sources and count what zh_TW lacks.
. "$TOP_SRCDIR/tests/tap.sh"
command -v xgettext >/dev/null || tap_skip_all "xgettext missing (apt-get install gettext)"
tap_plan 4
cd "$TOP_SRCDIR" || exit 1

# Every source that uses _() or N_() must be listed in po/POTFILES.in.
missing=$(grep -lE '(^|[^A-Za-z0-9_])N?_\(|P_\(' src/*/*.c src/*/*/*.c ui/*/*.c lab/*.c 2>/dev/null |
	LC_ALL=C sort | comm -23 - <(grep -v '^#' po/POTFILES.in | LC_ALL=C sort))
tap_is "po/POTFILES.in lists every translated source (make update-potfiles)" "" "$missing"

xgettext --keyword=_ --keyword=N_ --keyword=P_:1,2 --from-code=UTF-8 -c -o "$TAP_TMP/etcdwiz.pot" \
	--files-from=<(grep -v '^#' po/POTFILES.in) 2>"$TAP_TMP/xgettext.err"
tap_check "xgettext reads the sources" test -s "$TAP_TMP/etcdwiz.pot"

msgmerge --quiet --no-fuzzy-matching -o "$TAP_TMP/zh_TW.po" po/zh_TW.po "$TAP_TMP/etcdwiz.pot"
stats=$(LC_ALL=C msgfmt --statistics -o /dev/null "$TAP_TMP/zh_TW.po" 2>&1)
if ! echo "$stats" | grep -qE 'fuzzy|untranslated'; then
	tap_ok "every string has a zh_TW translation ($stats)"
else
	tap_not_ok "every string has a zh_TW translation: $stats (cd po && make update-po, then translate)"
	msgattrib --untranslated --no-obsolete "$TAP_TMP/zh_TW.po" | grep '^msgid' | head -20 | sed 's/^/# /'
	msgattrib --only-fuzzy --no-obsolete "$TAP_TMP/zh_TW.po" | grep '^msgid' | head -20 | sed 's/^/# /'
fi
tap_check "po/zh_TW.po compiles with format checks" msgfmt --check -o /dev/null "$TAP_TMP/zh_TW.po"
