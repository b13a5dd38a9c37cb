#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# excerpts.sh DOC ROOT - every code block in DOC that follows a line
# "<!-- excerpt: PATH -->" appears verbatim, as consecutive lines, in
# ROOT/PATH: a guide's examples are the code that is built and tested, not
# a copy that drifts from it.  Exits 1 naming each block that does not.
set -eu
doc=${1:?usage: excerpts.sh DOC ROOT}
root=${2:?usage: excerpts.sh DOC ROOT}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Split the excerpts into files: n.path holds the source, n.code the block.
awk -v dir="$tmp" '
	/^<!-- excerpt: .* -->$/ { path = $3; want = 1; next }
	want && /^```/ && !inside { inside = 1; n++; print path > (dir "/" n ".path"); next }
	inside && /^```/ { inside = 0; want = 0; next }
	inside { print > (dir "/" n ".code") }
' "$doc"

status=0
count=0
for p in "$tmp"/*.path; do
	[ -e "$p" ] || break
	n=${p%.path}
	src=$root/$(cat "$p")
	count=$((count + 1))
	# Found when the block's lines occur in the source one after another.
	if ! awk -v blockfile="$n.code" '
		BEGIN { while ((getline l < blockfile) > 0) block[++len] = l }
		{ line[NR] = $0 }
		END {
			for (i = 1; i + len - 1 <= NR; i++) {
				for (j = 1; j <= len && line[i + j - 1] == block[j]; j++)
					;
				if (j > len) exit 0
			}
			exit 1
		}' "$src"; then
		echo "$doc: excerpt $(basename "$n") is not in $(cat "$p"):" >&2
		sed 's/^/	| /' "$n.code" >&2
		status=1
	fi
done
[ "$count" -gt 0 ] || { echo "$doc: no excerpts found" >&2; exit 1; }
[ $status -eq 0 ] && echo "excerpts: $count blocks of $doc found verbatim in the code"
exit $status
