#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# run_wp.sh - prove ptkit's ACSL contracts with Frama-C/WP (issue 5, item 2).
#
# Usage: tests/wp/run_wp.sh [FILE.c ...]      (default: every TU listed below)
#
# Needs (Debian 12): frama-c-base why3 z3 cvc4.  If WP does not see z3 and
# cvc4, this script runs `why3 config detect` itself into a private config
# (WHY3CONFIG), so a fresh machine needs no interactive setup.
#
# Exit status: 0 when every goal is proved; 1 when a goal is not proved or
# frama-c fails (a parse error, a script that no longer applies...); 2 when
# frama-c, why3, z3 or cvc4 is missing.
#
# Each TU is proved in several frama-c runs (its "WP-PART: LEMMA GROUPS :
# FUNCTIONS [: MORE FRAMA-C ARGUMENTS]" lines, with the frama-c options of
# its "WP-OPTIONS:" line, and the provers of its "WP-PROVERS:" line,
# qed,script,z3 if it has none): one for
# all its lemmas, then one per part with only the lemma groups that part
# needs, plus a check that no function with a contract was left out (but
# those of its "WP-ELSEWHERE: OTHER.c : FUNCTIONS" lines, which OTHER.c
# proves).
# Proof scripts of WP's own tactics (tests/wp/scripts/) are replayed from a
# temporary session; nothing is written to the source tree.
#
# Environment: WP_TIMEOUT (seconds per goal, default 30; every goal takes
# well under 10 s on an idle machine), WP_PAR (parallel
# prover processes, default 2), WP_KEEP=1 keeps the logs.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
timeout=${WP_TIMEOUT:-30}
par=${WP_PAR:-2}

for tool in frama-c why3 z3 cvc4; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "run_wp.sh: $tool not found (apt-get install frama-c-base why3 z3 cvc4)" >&2
		exit 2
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/ptkit-wp.XXXXXX") || exit 2
if [ "${WP_KEEP:-0}" = 1 ]; then
	echo "run_wp.sh: logs kept in $work"
else
	trap 'rm -rf "$work"' EXIT
fi

# WP finds provers through Why3's configuration: detect them once if needed.
sees_provers() {
	detected=$(frama-c -wp-detect 2>/dev/null)
	echo "$detected" | grep -q '\[z3|' && echo "$detected" | grep -q '\[cvc4|'
}
if ! sees_provers; then
	export WHY3CONFIG="$work/why3.conf"
	why3 config detect >"$work/why3-detect.log" 2>&1
	if ! sees_provers; then
		echo "run_wp.sh: WP sees no z3 or no cvc4 even after 'why3 config detect':" >&2
		cat "$work/why3-detect.log" >&2
		exit 2
	fi
fi

if [ $# -eq 0 ]; then
	set -- "$here/engine.c" "$here/fmt_x86_64.c" "$here/fmt_riscv.c" "$here/fmt_aarch64.c" \
		"$here/entry.c"
fi

status=0
total=0
proved=0
start=$(date +%s)

# frama-c FILE SESSION DEFINES ARGS... : one run; output in $log
run_framac() {
	f=$1 sess=$2 defs=$3
	shift 3
	cpp="-I$root/include -I$root/src -I$here"
	for d in $defs; do cpp="$cpp -D$d"; done
	# shellcheck disable=SC2086
	frama-c -c11 -cpp-extra-args="$cpp" "$f" $opts -wp -wp-session "$sess" -wp-cache none \
		-wp-prover "$provers" -wp-timeout "$timeout" -wp-par "$par" \
		"$@" >"$log" 2>&1
}

# Tally the run in $log: goals, proved, failures.
tally() {
	what=$1 rc=$2
	summary=$(grep 'Proved goals:' "$log" | tail -1)
	n=$(echo "$summary" | sed -n 's/.*Proved goals: *\([0-9]*\) *\/ *\([0-9]*\).*/\2/p')
	ok=$(echo "$summary" | sed -n 's/.*Proved goals: *\([0-9]*\) *\/ *\([0-9]*\).*/\1/p')
	if grep -q 'No goal generated' "$log"; then
		n=0 ok=0
	fi
	if [ $rc -ne 0 ] || [ -z "$n" ] || grep -qE 'User Error|Script Error|Invalid Script|Failure' "$log"; then
		echo "  FAIL: $what: frama-c exited with $rc or reported an error:" >&2
		grep -E 'rror|Failure|Invalid' "$log" | head -20 >&2
		[ -n "$n" ] || { tail -20 "$log" >&2; n=1 ok=0; }
		status=1
	fi
	if [ "$ok" != "$n" ]; then
		status=1
		grep -E '^\[wp\] \[[^]]*\] Goal ' "$log" | grep -v ': Valid' |
			sed 's/^\[wp\] /  NOT PROVED: /' >&2
		grep -E '^\[wp\] \[(Failed|Script)\] Goal' "$log" | grep -v ': Valid' |
			sed 's/^\[wp\] /  NOT PROVED: /' >&2
	fi
	total=$((total + n))
	proved=$((proved + ok))
	printf '  %-58s %4s / %-4s\n' "$what" "$ok" "$n"
}

for f in "$@"; do
	name=$(basename "$f" .c)
	echo "$name:"
	sess="$work/$name.session"
	mkdir -p "$sess/script"
	cp "$here"/scripts/common/*.json "$sess/script/" 2>/dev/null
	cp "$here/scripts/$name"/*.json "$sess/script/" 2>/dev/null
	parts=$(sed -n 's/^ \* WP-PART: *//p' "$f")
	opts=$(sed -n 's/^ \* WP-OPTIONS: *//p' "$f")
	provers=$(sed -n 's/^ \* WP-PROVERS: *//p' "$f")
	provers=${provers:-qed,script,z3}
	if [ -z "$parts" ]; then
		echo "  FAIL: $f has no WP-PART line" >&2
		status=1
		continue
	fi
	alldefs=$(echo "$parts" | cut -d: -f1 | tr ' ' '\n' | grep . | sort -u | tr '\n' ' ')
	# "WP-ELSEWHERE: FILE.c : FUNCTIONS": functions this TU compiles whose
	# annotations FILE.c proves: left out of this TU's check.
	elsewhere=$(sed -n 's/^ \* WP-ELSEWHERE: *[^:]*://p' "$f")
	allfcts=$(printf '%s\n%s\n' "$(echo "$parts" | cut -d: -f2)" "$elsewhere" |
		tr ' ' '\n' | grep . | sort -u | tr '\n' ',' | sed 's/,$//')

	log="$work/$name.lemmas.log"
	run_framac "$f" "$sess" "$alldefs" -wp-prop @lemma
	tally "lemmas" $?

	i=0
	echo "$parts" | while IFS= read -r part; do
		i=$((i + 1))
		echo "$i|$part"
	done >"$work/$name.parts"
	while IFS='|' read -r i part; do
		defs=$(echo "$part" | cut -d: -f1)
		fcts=$(echo "$part" | cut -d: -f2 | tr ' ' '\n' | grep . | tr '\n' ',' | sed 's/,$//')
		extra=$(echo "$part" | cut -s -d: -f3)
		log="$work/$name.part$i.log"
		# shellcheck disable=SC2086
		run_framac "$f" "$sess" "$defs" -wp-rte -wp-fct "$fcts" $extra </dev/null
		tally "$(echo "$fcts$extra" | sed 's/,/ /g' | cut -c1-58)" $?
	done <"$work/$name.parts"

	# Every function with a contract or an annotation must be in some part:
	# no other function may have an ensures, assigns or assert goal.  (Call
	# preconditions in other functions are not claims of these proofs.)
	log="$work/$name.rest.log"
	run_framac "$f" "$sess" "$alldefs" -wp-gen -wp-skip-fct "$allfcts" \
		-wp-prop=@ensures,@assigns,@exits,@assert,@check,@complete_behaviors,@disjoint_behaviors
	if ! grep -q 'No goal generated' "$log"; then
		echo "  FAIL: functions with contracts missing from the WP-PART lines:" >&2
		grep -E 'Goal|goals' "$log" | head -20 >&2
		status=1
	fi
done

end=$(date +%s)
echo "Proved goals: $proved / $total in $((end - start)) s"
if [ $status -ne 0 ] || [ "$proved" != "$total" ]; then
	echo "run_wp.sh: FAIL: not every goal is proved" >&2
	exit 1
fi
echo "run_wp.sh: all goals proved"
