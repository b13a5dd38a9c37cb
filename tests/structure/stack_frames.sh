#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# stack_frames.sh DIR - no function of the core has a stack frame above
# 512 bytes (design §7): reads the .su files gcc's -fstack-usage wrote
# under DIR (the library's objects), prints the largest frames,
# and fails naming every function over the limit.
set -eu
dir=${1:?usage: stack_frames.sh DIR}
limit=512
files=$(find "$dir" -name '*.su')
[ -n "$files" ] || { echo "stack_frames.sh: no .su files under $dir" >&2; exit 2; }
# Lines are "file:line:col:function<TAB>bytes<TAB>qualifiers".
cat $files | sort -t '	' -k2,2n | tail -n 5
cat $files | awk -F '\t' -v limit=$limit '
	$2 > limit { print "over " limit " bytes: " $1 " uses " $2; bad = 1 }
	{ if ($2 > max) max = $2; n++ }
	END { printf "stack_frames: %d functions, largest frame %d bytes (limit %d)\n", n, max, limit
	      exit bad }'
