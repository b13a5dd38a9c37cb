#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# run_wp.sh - prove the ACSL contracts of tests/wp/pt_wp.c with Frama-C/WP.
# Prints a per-function summary; exits non-zero if frama-c is missing or any
# goal is not proved.  Needs: frama-c-base, why3, z3 (then `why3 config detect`).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
timeout=${WP_TIMEOUT:-5}
par=${WP_PAR:-2}

if ! command -v frama-c >/dev/null 2>&1; then
	echo "run_wp.sh: frama-c not found (apt-get install frama-c-base why3 z3; why3 config detect)" >&2
	exit 2
fi
if ! frama-c -wp-detect 2>/dev/null | grep -q '\[z3|'; then
	echo "run_wp.sh: WP sees no z3 prover (install z3, then run: why3 config detect)" >&2
	exit 2
fi

fcts="pt_level_size,pt_index,pt_entry_base,pt_entry_last"
fcts="$fcts,page_aligned,range_check,pa_check,src_pa,src_leaf_here"
fcts="$fcts,fmt_prop_normalize,fmt_pte_present,fmt_pte_is_leaf,fmt_pte_table,fmt_pte_tracked"
fcts="$fcts,wp_table_not_leaf"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
# -wp-no-init-const: the engine's const ops tables are irrelevant here and
# only slow the provers down.
frama-c -c11 -cpp-extra-args="-I$root/include -I$root/src" "$here/pt_wp.c" \
	-wp -wp-rte -wp-fct "$fcts" -wp-no-init-const \
	-wp-prover qed,z3 -wp-timeout "$timeout" -wp-par "$par" \
	-wp-auto wp:range -wp-session "${TMPDIR:-/tmp}/ptkit-wp-session.$$" >"$log" 2>&1
rc=$?
end=$(date +%s)
rm -rf "${TMPDIR:-/tmp}/ptkit-wp-session.$$"

# Per-function table: goals are named typed_<function>_<kind>.
echo "$fcts" | tr ',' '\n' | while read -r f; do
	total=$(grep -E "Goal typed_${f}_" "$log" | grep -c -E '^\[wp\] \[')
	ok=$(grep -E "Goal typed_${f}_" "$log" | grep -c -E ': Valid|\[Script\].*Valid')
	printf '  %-22s %3s / %-3s\n' "$f" "$ok" "$total"
done
grep -E '^\[wp\] \[(Failed|Z3[^]]*)\] Goal' "$log" | grep -v Valid | sed 's/^/  NOT PROVED: /'
summary=$(grep 'Proved goals:' "$log" | tail -1)
echo "${summary:-no WP summary (frama-c failed?)} in $((end - start)) s"
if [ $rc -ne 0 ]; then
	tail -20 "$log" >&2
	echo "run_wp.sh: frama-c exited with $rc" >&2
	exit 1
fi
proved=$(echo "$summary" | sed -n 's/.*Proved goals: *\([0-9]*\) *\/ *\([0-9]*\).*/\1/p')
total=$(echo "$summary" | sed -n 's/.*Proved goals: *\([0-9]*\) *\/ *\([0-9]*\).*/\2/p')
if [ -z "$proved" ] || [ "$proved" != "$total" ]; then
	echo "run_wp.sh: FAIL: not every goal is proved" >&2
	exit 1
fi
echo "run_wp.sh: all goals proved"
