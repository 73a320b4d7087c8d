#!/bin/bash
# The bash completion (ui/cli/bash-completion/etcdwiz) in a real bash:
# COMP_WORDS set as bash sets them, _etcdwiz called, COMPREPLY read.
# Commands, subcommands, every long option each command's --help names,
# step names for --steps (also after a comma), host names from the -f file
# for --limit and `member remove`, files for -f; nothing from a file with
# errors.
. "${TOP_SRCDIR:-.}/tests/tap.sh"
tap_plan 12
T=$TAP_TMP
mkdir -p "$T/bin"
ln -s "$ETCDWIZ" "$T/bin/etcdwiz"
export PATH="$T/bin:$PATH"
# shellcheck source=/dev/null
. "${TOP_SRCDIR:-.}/ui/cli/bash-completion/etcdwiz"

# complete WORDS...: what the completion offers for the last word (sorted,
# one line).
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=${AT:-$((${#COMP_WORDS[@]} - 1))}
	COMPREPLY=()
	_etcdwiz
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
cat >"$T/cp.yaml" <<EOF
apiVersion: etcdwiz/v1
kind: Cluster
name: cp
members:
  - {name: etcd-a, address: 198.51.100.11}
  - {name: etcd-b, address: 198.51.100.12}
controlPlane:
  endpoint: 198.51.100.20:6443
  hosts:
    - {name: cp-1, address: 198.51.100.21}
EOF

tap_is "commands" "apply backup certs lab member plan restore status upgrade validate wizard" \
	"$(complete_words etcdwiz '' | tr ' ' '\n' | grep -v '^-' | tr '\n' ' ' | sed 's/ $//')"
tap_is "a prefix" "upgrade" "$(complete_words etcdwiz up)"
tap_is "subcommands of certs" "check-expiration generate import renew rotate rotate-ca" "$(complete_words etcdwiz certs '')"
tap_is "flags of apply starting --he" "--health-timeout --help" "$(complete_words etcdwiz apply --he)"
missing=""
for c in $(etcdwiz __complete commands); do
	offered=" $(complete_words etcdwiz "$c" --) "
	for f in $(etcdwiz "$c" --help | grep -oE -- '(^|[ [(|,])--[a-z][a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+' | sort -u); do
		[[ $offered == *" $f "* ]] || missing="$missing $c:$f"
	done
done
tap_is "every long option of every command's --help is offered" "" "$missing"
tap_is "step names for --steps" "packages preflight" "$(complete_words etcdwiz apply --steps p)"
tap_is "... after a comma, the list kept" "preflight,manifest preflight,modules" "$(complete_words etcdwiz plan -s preflight,m)"
tap_is "host names from the -f file for --limit (members and control plane)" "cp-1 etcd-a etcd-b" \
	"$(complete_words etcdwiz apply -f "$T/cp.yaml" --limit '')"
tap_is "member remove NAME: the members, with -f after it" "etcd-a etcd-b" \
	"$(AT=3 complete_words etcdwiz member remove etcd -f "$T/cp.yaml")"
printf 'name: [broken\n' >"$T/bad.yaml"
tap_is "a file with errors offers no names" "" "$(complete_words etcdwiz apply -f "$T/bad.yaml" -l '')"
tap_is "files for -f" "$T/cp.yaml" "$(complete_words etcdwiz validate -f "$T/cp")"
tap_is "status -o: table or json" "json table" "$(complete_words etcdwiz status -o '')"
tap_finish
