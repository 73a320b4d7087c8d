# Sourced by the shell tests: a tiny TAP producer, bounded waits and cleanup.
# Each test prints "1..N" (or "1..0 # SKIP reason") and one "ok"/"not ok" line
# per check; automake's tap-driver.sh turns them into PASS/FAIL/SKIP.

tap_n=0
tap_failed=0
tap_cleanup_cmds=""

tap_plan() { echo "1..$1"; }

tap_skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

tap_ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}

tap_not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $*"
}

tap_skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n # SKIP $*"
}

# tap_check "description" command args...: ok when the command exits 0.
tap_check() {
	local desc=$1
	shift
	if "$@" >"${TAP_TMP:-/tmp}/tap-last.out" 2>&1; then
		tap_ok "$desc"
	else
		tap_not_ok "$desc"
		sed 's/^/# /' "${TAP_TMP:-/tmp}/tap-last.out"
	fi
}

# tap_is "description" expected actual
tap_is() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		printf '# expected: %s\n#      got: %s\n' "$2" "$3"
	fi
}

# tap_grep "description" pattern file
tap_grep() {
	if grep -qE -- "$2" "$3"; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		printf '# pattern not found: %s\n' "$2"
		sed 's/^/# /' "$3" | head -40
	fi
}

# OpenSSH's sshd refuses to start without its privilege separation
# directory, which exists on a fresh machine only while an sshd service runs
# (its unit makes it). Every test that starts an sshd calls this. The
# directory belongs to openssh-server and is left in place: a test running
# beside this one may be using it.
tap_need_sshd_dir() { [ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd; }

# Run on exit, last registered first.
tap_on_exit() { tap_cleanup_cmds="$*; $tap_cleanup_cmds"; }
tap_finish() {
	eval "$tap_cleanup_cmds"
	[ "$tap_failed" -eq 0 ]
}
trap 'tap_finish' EXIT

# wait_for SECONDS command...: retry once a second, bounded.
wait_for() {
	local limit=$1 i=0
	shift
	while [ "$i" -lt "$limit" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 1
		i=$((i + 1))
	done
	return 1
}

TAP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/etcdwiz-test.XXXXXX")
tap_on_exit "rm -rf '$TAP_TMP'"
: "${ETCDWIZ:=etcdwiz}"
: "${TOP_SRCDIR:=.}"

# ps_sample_start FILE: every process's command line appended to FILE five
# times a second (for 5 minutes at most) until ps_sample_stop; a test that
# looks for secrets in `ps` output searches FILE.
ps_sample_start() {
	rm -f "$TAP_TMP/stop-ps"
	(
		for _ in $(seq 1500); do
			ps -eo args >>"$1" 2>/dev/null
			[ -e "$TAP_TMP/stop-ps" ] && break
			sleep 0.2
		done
	) &
	PS_SAMPLER=$!
	tap_on_exit "touch '$TAP_TMP/stop-ps' 2>/dev/null"
}
ps_sample_stop() {
	touch "$TAP_TMP/stop-ps"
	wait "$PS_SAMPLER" 2>/dev/null
	rm -f "$TAP_TMP/stop-ps"
}
