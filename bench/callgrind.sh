#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# Instructions per operation of each `ptctl bench` workload, ptkit next to
# the same engine built without node locks and RCU (nosync: what they cost
# one thread) and to the bare reference, counted by callgrind over the
# measured loop only.
#
#   bench/callgrind.sh [PTCTL [WORKLOAD...]]
#
# PTCTL defaults to build/tools/ptctl/ptctl; the workloads default to all
# single-thread ones (`ptctl bench --list` without the par_* workloads,
# which callgrind's serialised threads could not measure).  The vm_* ones
# have no nosync or bare side: ptkit's count only (its operation, not the
# cursor loop it is compared with).  ptctl must have
# been built with <valgrind/callgrind.h> available: its measured loops then
# start and stop callgrind's instrumentation themselves, and everything
# else (setup, the other phases, teardown) runs uninstrumented
# (--instr-atstart=no).  Each side runs in its own process (--ptkit /
# --nosync / --bare) so the counts don't mix.
# --quick keeps this fast: one round of fewer operations, which changes the
# per-operation count very little.
set -eu

ptctl=${1:-build/tools/ptctl/ptctl}
[ $# -gt 0 ] && shift
workloads=${*:-$("$ptctl" bench --list | grep -v '^par_')}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Instructions per operation of one side of one workload.
per_op() {
	out=$tmp/$1.$2
	valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
		"$ptctl" bench --quick --json --workload "$1" "--$2" \
		>"$out.json" 2>"$out.log" || { cat "$out.log" >&2; exit 1; }
	# "summary:" in the header can be 0 with instrumentation off at
	# start; "totals:" at the end holds what the measured loop collected.
	ir=$(awk '/^totals:/ { t = $2 } /^summary:/ { s = $2 }
		END { print (t != "" ? t : s) }' "$out")
	ops=$(sed -n 's/.*"ops": \([0-9]*\).*/\1/p' "$out.json")
	rounds=$(sed -n 's/.*"rounds": \([0-9]*\).*/\1/p' "$out.json")
	if [ -z "$ir" ] || [ "$ir" = 0 ]; then
		echo "callgrind.sh: no instructions counted for $1 ($2):" \
			"was ptctl built without valgrind/callgrind.h?" >&2
		exit 1
	fi
	awk -v ir="$ir" -v n="$((ops * rounds))" 'BEGIN { printf "%.1f", ir / n }'
}

printf '%-14s %12s %12s %7s %12s %7s\n' workload ptkit_Ir/op nosync_Ir/op \
	sync% bare_Ir/op ratio
for w in $workloads; do
	case $w in
	par_*)
		echo "callgrind.sh: $w: parallel, skipped" >&2
		continue ;;
	vm_*)
		printf '%-14s %12s %12s %7s %12s %7s\n' "$w" "$(per_op "$w" ptkit)" - - - -
		continue ;;
	esac
	pk=$(per_op "$w" ptkit)
	nk=$(per_op "$w" nosync)
	bw=$(per_op "$w" bare)
	awk -v w="$w" -v pk="$pk" -v nk="$nk" -v bw="$bw" 'BEGIN {
		printf "%-14s %12s %12s %6.1f%% %12s %7.2f\n", w, pk, nk,
			(pk / nk - 1) * 100, bw, pk / bw }'
done
