#!/bin/sh
# run_fuzz.sh FUZZER SECONDS SRC_CORPUS REGRESS_DIR WORK_DIR
# Fuzzes for a bounded time on a fresh copy of the seed corpus (the repo's
# corpus stays untouched), with the regressions as extra read-only seeds.
# Any crash, leak, timeout or out-of-memory fails the run; its input is
# left in WORK_DIR/artifacts: add it to tests/fuzz/regress/.
set -eu
fuzzer=$1 seconds=$2 seeds=$3 regress=$4 work=$5
rm -rf "$work/corpus" "$work/artifacts"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$seeds"/* "$work/corpus/"
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=1024 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" \
	"$work/corpus" "$regress"
