#!/bin/sh
# freestanding.sh CC NM AMALGAMATION_DIR WORK_DIR FLAGS... - compiles the
# amalgamation freestanding (-I AMALGAMATION_DIR only) and checks that the
# object needs no outside symbol: a libc, liburcu or malloc call that leaked
# past PTKIT_FREESTANDING shows up as an undefined symbol.
set -eu
cc=$1 nm=$2 amal=$3 work=$4
shift 4
mkdir -p "$work"
echo "$cc $* -I $amal -c $amal/ptkit.c -o $work/ptkit.o"
"$cc" "$@" -I "$amal" -c "$amal/ptkit.c" -o "$work/ptkit.o"
# Position-independent code may name the GOT: that is the linker's, not a
# dependency.
undefined=$("$nm" -u "$work/ptkit.o" | grep -v '_GLOBAL_OFFSET_TABLE_' || true)
if [ -n "$undefined" ]; then
	echo "the freestanding amalgamation needs:" >&2
	echo "$undefined" >&2
	exit 1
fi
echo "amalgamation (freestanding): $(wc -c < "$amal/ptkit.c") bytes of ptkit.c compile, no undefined symbol"
