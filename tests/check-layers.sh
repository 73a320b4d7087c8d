#!/bin/bash
# The source tree by layer (docs/ARCHITECTURE.md, "The source tree"): every
# #include in src/, ui/ and lab/ names its header by folder and goes the
# allowed way only:
#   src/base <- src/cluster <- src/pki, src/ssh <- src/etcd <- src/install, src/health
#   src/ <- lab/ <- ui/tui/ <- ui/cli/
# (install and health do not include each other; nothing in src/ includes
# ui/, lab/ or curses; curses only in ui/tui/). Also `make check-layers`.
. "$TOP_SRCDIR/tests/tap.sh"
cd "$TOP_SRCDIR" || exit 1

layers="base cluster pki ssh etcd install health lab tui cli"
declare -A dir=(
	[base]=src/base/ [cluster]=src/cluster/ [pki]=src/pki/ [ssh]=src/ssh/ [etcd]=src/etcd/
	[install]=src/install/ [health]=src/health/ [lab]=lab/ [tui]=ui/tui/ [cli]=ui/cli/
)
# What each layer may include besides itself.
declare -A may=(
	[base]=""
	[cluster]="base"
	[pki]="base cluster"
	[ssh]="base cluster"
	[etcd]="base cluster pki ssh"
	[install]="base cluster pki ssh etcd"
	[health]="base cluster pki ssh etcd"
	[lab]="base cluster pki ssh etcd install health"
	[tui]="base cluster pki ssh etcd install health lab"
	[cli]="base cluster pki ssh etcd install health lab tui"
)
# Single includes allowed against the table, FILE:HEADER, each with its
# reason (none today).
exceptions=" "

# layer_of PATH: sets $layer (base ... cli, "unfiled" in src/ or ui/ but in no
# layer folder, "other" elsewhere).
layer_of() {
	case $1 in
	src/base/*) layer=base ;;
	src/cluster/*) layer=cluster ;;
	src/pki/*) layer=pki ;;
	src/ssh/*) layer=ssh ;;
	src/etcd/*) layer=etcd ;;
	src/install/*) layer=install ;;
	src/health/*) layer=health ;;
	lab/*) layer=lab ;;
	ui/tui/*) layer=tui ;;
	ui/cli/*) layer=cli ;;
	src/* | ui/*) layer=unfiled ;;
	*) layer=other ;;
	esac
}

for l in $layers unfiled qualified curses; do : >"$TAP_TMP/bad-$l"; done
# bad KIND MESSAGE: one finding for test point KIND, at $f:$line.
bad() { echo "$f:$line: $2" >>"$TAP_TMP/bad-$1"; }
nfiles=0
ninc=0
while IFS= read -r f; do
	nfiles=$((nfiles + 1))
	layer_of "$f"
	from=$layer
	if [ "$from" = unfiled ]; then
		echo "$f: not in a layer folder" >>"$TAP_TMP/bad-unfiled"
		continue
	fi
	while IFS= read -r hit; do
		line=${hit%%:*}
		text=${hit#*:}
		if [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]]; then
			h=${BASH_REMATCH[1]}
			[ "$h" = config.h ] && continue
			ninc=$((ninc + 1))
			if [[ $h == ../* || $h == ./* || $h == */../* || $h == src/* ]]; then
				bad qualified "#include \"$h\": name it by folder, not relative"
				# and see where it goes all the same
				target=$(realpath -m --relative-to=. "${f%/*}/$h")
				[[ $h == src/* ]] && target=$h
			elif [ -f "src/$h" ] && [ -f "$h" ]; then
				bad qualified "#include \"$h\": both src/$h and $h exist"
				continue
			elif [ -f "src/$h" ]; then
				target=src/$h
			elif [ -f "$h" ]; then
				target=$h
			else
				bad qualified "#include \"$h\": no such header below src/ or the top" \
					"(write base/error.h, ui/tui/term.h, lab/lab.h)"
				continue
			fi
			layer_of "$target"
			to=$layer
			[ "$to" = "$from" ] && continue
			case " ${may[$from]} " in *" $to "*) continue ;; esac
			case $exceptions in *" $f:$target "*) continue ;; esac
			bad "$from" "#include \"$h\": ${dir[$from]} may not include $target"
		elif [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<([^\>]+)\> ]]; then
			h=${BASH_REMATCH[1]}
			case $h in
			curses.h | ncurses.h | ncursesw/* | ncurses/* | term.h | panel.h | menu.h | form.h)
				[ "$from" = tui ] || bad curses "#include <$h>: curses only in ui/tui/" ;;
			esac
		fi
	done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$f")
done < <(find src ui lab -type f -name '*.[ch]' | LC_ALL=C sort)

tap_plan 13
report() { # report FILE DESCRIPTION
	if [ -s "$1" ]; then
		tap_not_ok "$2"
		sed 's/^/# /' "$1"
	else
		tap_ok "$2"
	fi
}
report "$TAP_TMP/bad-unfiled" "every .c/.h of src/ ui/ lab/ is in a layer folder ($nfiles files)"
report "$TAP_TMP/bad-qualified" "every #include \"...\" names its header by folder ($ninc includes)"
report "$TAP_TMP/bad-curses" "curses is included in ui/tui/ only"
for l in $layers; do
	allowed=""
	for m in ${may[$l]}; do allowed="${allowed:+$allowed, }${dir[$m]}"; done
	report "$TAP_TMP/bad-$l" "${dir[$l]} includes only itself${allowed:+ and $allowed}"
done
