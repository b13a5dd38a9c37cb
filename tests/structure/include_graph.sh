#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# include_graph.sh SRC_DIR - the include graph of src/ has no cycle, and
# every include points down the layers of design §1:
#
#   0 base.h  1 platform/  2 frames/  3 formats/<fmt>.h  4 flush/
#   5 nodes/  6 cursor/  7 table/  8 formats/engine_instance.h, <fmt>.c
#
# A file may include files of its own layer or below, never above.  Prints
# the graph (one "file -> included" line per edge) and exits 1 on a cycle
# or an upward edge.
set -eu
src=${1:?usage: include_graph.sh SRC_DIR}
cd "$src"

layer() {
	case $1 in
	base.h) echo 0 ;;
	platform/*) echo 1 ;;
	frames/*) echo 2 ;;
	formats/engine_instance.h | formats/*.c) echo 8 ;;
	formats/*) echo 3 ;;
	flush/*) echo 4 ;;
	nodes/*) echo 5 ;;
	cursor/*) echo 6 ;;
	table/*) echo 7 ;;
	*) echo "include_graph.sh: no layer for $1" >&2; echo 99 ;;
	esac
}

edges=$(find . -name '*.[ch]' | sed 's|^\./||' | sort | while read -r f; do
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
		while read -r inc; do echo "$f $inc"; done
done)

echo "$edges" | sed 's/ / -> /'
status=0
# tsort prints "input contains a loop" (and the loop) on a cycle.
if ! echo "$edges" | tsort >/dev/null 2>/tmp/include_graph.$$; then
	cat /tmp/include_graph.$$ >&2
	status=1
fi
rm -f /tmp/include_graph.$$
up=$(echo "$edges" | while read -r from to; do
	[ -f "$to" ] || { echo "$from includes $to, which is not in src/"; continue; }
	lf=$(layer "$from"); lt=$(layer "$to")
	[ "$lt" -le "$lf" ] || echo "$from (layer $lf) includes $to (layer $lt): upward"
done)
if [ -n "$up" ]; then
	echo "$up" >&2
	status=1
fi
[ $status -eq 0 ] && echo "include_graph: $(echo "$edges" | wc -l) edges, no cycle, every edge points down"
exit $status
