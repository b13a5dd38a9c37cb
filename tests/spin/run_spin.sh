#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
#
# run_spin.sh [MODEL.pml] - checks the CortenMM protocol model with Spin
# (src/cursor/protocol/README.md says what each check means).
#
#   - the protocol as ptkit implements it: safety (P1 mutual exclusion,
#     P2 no use after free, P3 no deadlock = no invalid end state) and
#     liveness (LTL `finish` under weak fairness, with a walker that stops
#     and with one that never stops);
#   - reachability: each interesting interleaving (stray retry, a walker
#     reading a detached node, a grace period held up by a reader, lock
#     contention, ...) happens in the search, so a pass is not vacuous;
#   - broken variants, each of which MUST be caught, with the expected
#     property.
#
# Works in $SPIN_WORK (default ./spin_work).  Exits 0 when every check gave
# the expected answer, 1 otherwise, 2 when spin or a C compiler is missing.
set -u

here=$(cd "$(dirname "$0")" && pwd)
model=${1:-$here/../../src/cursor/protocol/cortenmm.pml}
work=${SPIN_WORK:-$PWD/spin_work}
cc=${CC:-gcc}

if ! command -v spin >/dev/null 2>&1; then
	echo "run_spin.sh: FAIL: spin is not installed (Debian: apt-get install spin)" >&2
	exit 2
fi
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "run_spin.sh: FAIL: no C compiler '$cc' to build the verifier" >&2
	exit 2
fi
if [ ! -r "$model" ]; then
	echo "run_spin.sh: FAIL: model $model not found" >&2
	exit 2
fi
model=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")
mkdir -p "$work" || exit 2

failures=0
now() { date +%s.%N; }

# check NAME MODE OPT EXPECT [SPIN_DEFINES...]
#   MODE    safety: assertions + invalid end states (-DSAFETY, no claim)
#           live:   the LTL claim `finish`, acceptance cycles, weak fairness
#   OPT     C optimisation level for pan (-O2 for the long runs)
#   EXPECT  pass, or an extended regex the first error line must match
check() {
	local name=$1 mode=$2 opt=$3 expect=$4
	shift 4
	local dir=$work/$name out=$work/$name/pan.out
	local cflags="-w $opt -DCOLLAPSE -DMEMLIM=2048" runflags="-m200000 -w21"
	rm -rf "$dir" && mkdir -p "$dir"
	if [ "$mode" = safety ]; then
		cflags="$cflags -DSAFETY -DNOCLAIM"
	else
		runflags="$runflags -a -f"
	fi
	local t0 t1
	t0=$(now)
	if ! (cd "$dir" && spin "$@" -a "$model" >spin.out 2>&1); then
		echo "FAIL  $name: spin -a failed:"; sed 's/^/      /' "$dir/spin.out"
		failures=$((failures + 1)); return
	fi
	if ! (cd "$dir" && "$cc" $cflags -o pan pan.c >cc.out 2>&1); then
		echo "FAIL  $name: compiling pan failed:"; sed 's/^/      /' "$dir/cc.out" | head -20
		failures=$((failures + 1)); return
	fi
	(cd "$dir" && ./pan $runflags >"$out" 2>&1)
	t1=$(now)
	local secs states trans errors first verdict
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	states=$(awk '/states, stored/ { print $1; exit }' "$out")
	trans=$(awk '/transitions \(= / { print $1; exit }' "$out")
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$out" | head -1)
	first=$(grep -m1 -E '^pan:1:' "$out" || true)
	local info="states=${states:-?} transitions=${trans:-?} time=${secs}s"
	verdict=ok
	if grep -qE 'out of memory|memory limit|max search depth too small' "$out"; then
		verdict="search incomplete: $(grep -m1 -E 'out of memory|memory limit|max search depth too small' "$out")"
	elif [ -z "$errors" ]; then
		verdict="no result from pan (see $out)"
	elif [ "$expect" = pass ]; then
		if [ "$errors" != 0 ]; then
			verdict="expected no error, got: $first"
		elif grep -q 'Search not completed' "$out"; then
			verdict="search not completed"
		elif [ "$mode" = live ] && ! grep -qE 'never claim[[:space:]]+\+ \(finish\)' "$out"; then
			verdict="the LTL claim 'finish' was not checked"
		elif [ "$mode" = live ] && ! grep -qE 'acceptance +cycles[[:space:]]+\+ \(fairness enabled\)' "$out"; then
			verdict="acceptance cycles under fairness were not checked"
		elif [ "$mode" = safety ] && ! grep -qE 'invalid end states[[:space:]]+\+' "$out"; then
			verdict="invalid end states were not checked"
		fi
	else
		if [ "$errors" = 0 ]; then
			verdict="expected a violation matching /$expect/, none found"
		elif ! printf '%s\n' "$first" | grep -qE -- "$expect"; then
			verdict="expected /$expect/, got: $first"
		fi
	fi
	if [ "$verdict" = ok ]; then
		if [ "$expect" = pass ]; then
			printf 'ok    %-26s %-7s holds          %s\n' "$name" "$mode" "$info"
		else
			printf 'ok    %-26s %-7s caught         %s\n      %s\n' "$name" "$mode" "$info" \
				"$first"
		fi
	else
		printf 'FAIL  %-26s %-7s %s\n      %s (output in %s)\n' "$name" "$mode" "$info" \
			"$verdict" "$out"
		failures=$((failures + 1))
	fi
}

start=$(now)
echo "Spin: $(spin -V 2>&1 | head -1); model: $model"

echo "-- the protocol (must hold)"
check safety              safety -O2 pass
check liveness            live   -O2 pass
check liveness_walker_forever live -O2 pass -DWALKER_FOREVER

echo "-- reachability (each case must be reached: a violation of COVER(k) is expected)"
reach_names=("" "stray retry" "walker reads a detached node" "grace period waits for a reader"
	"lock contention between cursors" "disjoint cursors hold ranges at once"
	"detached subtree freed after a grace period" "map allocates under the root"
	"unmap splits a huge leaf")
for k in 1 2 3 4 5 6 7 8; do
	echo "   $k: ${reach_names[$k]}"
	check "reach_$k" safety -O0 "assertion violated \\($k!=$k\\)" -DREACH=$k
done

echo "-- broken variants (each must be caught; auxiliary checks off: -DNO_AUX)"
p1='assertion violated \(owner\[k\]==0\)'
p2='assertion violated +!\(freed\['
check broken_no_grace         safety -O0 "$p2" -DNO_AUX -DBROKEN_NO_GRACE
check broken_no_stray_check   safety -O0 "$p1" -DNO_AUX -DBROKEN_NO_STRAY_CHECK
check broken_no_desc_lock     safety -O0 "$p1" -DNO_AUX -DBROKEN_NO_DESC_LOCK
check broken_unlock_new       safety -O0 "$p1" -DNO_AUX -DBROKEN_UNLOCK_NEW
check broken_bottom_up        safety -O0 'invalid end state' -DNO_AUX -DBROKEN_BOTTOM_UP
check broken_bottom_up_live   live   -O0 'acceptance cycle' -DNO_AUX -DBROKEN_BOTTOM_UP
check broken_gp_all_out_safe  safety -O0 pass -DNO_AUX -DBROKEN_GP_ALL_OUT
check broken_gp_all_out_live  live   -O0 'acceptance cycle' -DNO_AUX -DWALKER_FOREVER \
	-DBROKEN_GP_ALL_OUT

total=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }')
if [ "$failures" -ne 0 ]; then
	echo "run_spin.sh: $failures check(s) FAILED (${total}s)"
	exit 1
fi
echo "run_spin.sh: all checks gave the expected answer (${total}s)"
exit 0
