#!/bin/sh
# Print the one closing line of `make check`: "N passed, N failed" (with
# skips), counted over every TAP point in the test-suite log.
log=${1:-test-suite.log}
if [ ! -f "$log" ]; then
	echo "0 passed, 1 failed (no $log: the test harness did not run)"
	exit 0
fi
count() { sed -n "s/^# $1: *\([0-9][0-9]*\)\$/\1/p" "$log" | head -n 1; }
pass=$(count PASS); fail=$(count FAIL); err=$(count ERROR); xpass=$(count XPASS); skip=$(count SKIP)
failed=$(( ${fail:-0} + ${err:-0} + ${xpass:-0} ))
echo "${pass:-0} passed, ${failed} failed, ${skip:-0} skipped"
