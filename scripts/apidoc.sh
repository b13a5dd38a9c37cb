#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# apidoc.sh - the function reference of docs/api.md, generated from the
# kernel-doc comments of the public headers.  POSIX sh, awk and sed only.
#
#   scripts/apidoc.sh           print the reference (Markdown) on stdout
#   scripts/apidoc.sh --check   exit 1, naming the function, if a function
#                               declared in a public header has no kernel-doc
#                               block directly above it, or its block has no
#                               Context:, or no Return: (non-void), or its
#                               @params differ from the declaration's
#   scripts/apidoc.sh --update  rewrite the part of docs/api.md between
#                               <!-- BEGIN GENERATED: scripts/apidoc.sh -->
#                               and <!-- END GENERATED -->
#
# Headers, in this order: include/ptkit/{types,phys,format,flush,table,
# cursor,testing}.h.  A public function is a top-level prototype or static
# inline definition whose name starts with pt_.  Its block, Linux style:
#
#   /**
#    * pt_name() - One-line summary.
#    * @param: what it is (more lines indented)
#    *
#    * Body: paragraphs, and lists of "- " items.
#    *
#    * Context: locks, allocation, RCU, blocking.
#    * Return: 0, or a list of "- %PT_E...: when" items.
#    */
#
# In the Markdown, @param, %CONSTANT, &struct name and name() become code
# spans; `backquoted` text stays as it is.
set -eu

cd "$(dirname "$0")/.."
LC_ALL=C
export LC_ALL

api_md=docs/api.md
begin='<!-- BEGIN GENERATED: scripts/apidoc.sh -->'
end='<!-- END GENERATED -->'
headers=
for h in types phys format flush table cursor testing; do
	headers="$headers include/ptkit/$h.h"
done

# One pass over the headers: parse blocks and declarations, then print the
# Markdown (mode=gen) or the problems (mode=check).
apidoc_awk='
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }

function problem(file, line, fn, msg) {
	printf "apidoc.sh: %s:%d: %s: %s\n", file, line, fn, msg > "/dev/stderr"
	nproblems++
}

# Code of one line: comments and string literals removed.
function code_of(s) {
	gsub(/"([^"\\]|\\.)*"/, "\"\"", s)
	gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", s)
	sub(/\/\*.*/, "", s)
	sub(/\/\/.*/, "", s)
	return s
}

function count(s, ch,    n, i) {
	n = 0
	while ((i = index(s, ch)) > 0) { n++; s = substr(s, i + 1) }
	return n
}

# Tabs to spaces, 8 columns.
function expand(s,    out, i, c) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c != "\t")
			out = out c
		else
			for (out = out " "; length(out) % 8; )
				out = out " "
	}
	return out
}

# ---- kernel-doc blocks ----

# Splits the lines B[1..nb] of the block just closed into its parts.
function parse_block(    i, l, part, m) {
	b_name = ""; b_summary = ""; b_nparams = 0; b_body = ""
	b_context = ""; b_return = ""; b_has_context = 0; b_has_return = 0
	part = "head"
	for (i = 1; i <= nb; i++) {
		l = B[i]
		sub(/^[ \t]*\*/, "", l)
		sub(/^ /, "", l)
		sub(/[ \t]+$/, "", l)
		if (part == "head") {
			if (l == "")
				continue
			if (match(l, /^[A-Za-z_][A-Za-z0-9_]*\(\)[ \t]+-[ \t]+/)) {
				b_name = substr(l, 1, index(l, "(") - 1)
				b_summary = substr(l, RLENGTH + 1)
			} else {
				b_summary = l
			}
			part = "summary"
			continue
		}
		if (part == "summary" || part == "params") {
			if (match(l, /^@[A-Za-z_][A-Za-z0-9_]*:/)) {
				b_nparams++
				b_pname[b_nparams] = substr(l, 2, RLENGTH - 2)
				b_pdesc[b_nparams] = trim(substr(l, RLENGTH + 1))
				part = "params"
				continue
			}
			if (l == "") {
				part = "body"
				continue
			}
			if (part == "summary")
				b_summary = b_summary " " trim(l)
			else
				b_pdesc[b_nparams] = b_pdesc[b_nparams] "\n" trim(l)
			continue
		}
		if (l ~ /^Context:/) {
			part = "context"; b_has_context = 1
			l = trim(substr(l, 9))
		} else if (l ~ /^Return:/) {
			part = "return"; b_has_return = 1
			l = trim(substr(l, 8))
		}
		if (part == "body")
			b_body = b_body l "\n"
		else if (part == "context")
			b_context = b_context l "\n"
		else
			b_return = b_return l "\n"
	}
}

# ---- Markdown ----

# Kernel-doc markup in text outside backquotes: @param, %CONST,
# &struct name and name() become code spans.
function markup(s,    out, tok) {
	out = ""
	while (match(s, /[@%][A-Za-z_][A-Za-z0-9_]*|&(struct|enum|union)[ ]+[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*\(\)/)) {
		tok = substr(s, RSTART, RLENGTH)
		out = out substr(s, 1, RSTART - 1)
		if (tok ~ /^[@%&]/)
			tok = substr(tok, 2)
		out = out "`" tok "`"
		s = substr(s, RSTART + RLENGTH)
	}
	return out s
}

function inline_md(s,    out, i) {
	out = ""
	while ((i = index(s, "`")) > 0) {
		out = out markup(substr(s, 1, i - 1))
		s = substr(s, i + 1)
		if ((i = index(s, "`")) == 0)
			return out "`" s
		out = out "`" substr(s, 1, i)
		s = substr(s, i + 1)
	}
	return out markup(s)
}

# Prints lines of text as Markdown: "* " items become "- " items, and a
# list gets a blank line before it.  `lead` prefixes the first line.
function print_text(text, lead,    n, L, i, l, prev, in_list, started) {
	sub(/\n+$/, "", text)
	sub(/^\n+/, "", text)
	if (text == "" && lead == "")
		return
	n = split(text, L, "\n")
	prev = ""; in_list = 0; started = 0
	print ""
	for (i = 1; i <= n; i++) {
		l = L[i]
		sub(/^\* /, "- ", l)
		if (l ~ /^- /) {
			if (prev != "" && !in_list)
				print ""
			in_list = 1
		} else if (l == "" || l !~ /^ /) {
			in_list = 0
		}
		if (!started && lead != "") {
			l = lead (l == "" ? "" : " " inline_md(l))
			started = 1
		} else {
			l = inline_md(l)
		}
		print l
		prev = l
	}
}

function print_function(    i, n, L, j) {
	if (FILENAME != printed_header) {
		hdr = FILENAME
		sub(/^include\//, "", hdr)
		print ""
		print "### " hdr
		printed_header = FILENAME
	}
	print ""
	print "#### `" d_name "()`"
	if (documented) {
		print ""
		print inline_md(b_summary)
		if (b_nparams) {
			print ""
			print "Parameters:"
			print ""
			for (i = 1; i <= b_nparams; i++) {
				n = split(b_pdesc[i], L, "\n")
				print "- `" b_pname[i] "`: " inline_md(L[1])
				for (j = 2; j <= n; j++)
					print "  " inline_md(L[j])
			}
		}
		print_text(b_body, "")
		if (b_has_context)
			print_text(b_context, "**Context:**")
		if (b_has_return)
			print_text(b_return, "**Return:**")
	}
	print ""
	print "```c"
	for (i = 1; i <= nd; i++)
		print expand(D[i])
	print "```"
}

# ---- declarations ----

# The declaration in D[1..nd] is complete: find its name, return type and
# parameters, match it with the block above it, and report or print.
function end_declaration(    text, i, n, rest, depth, c, params, np, P, p, W, ret, want, got) {
	text = ""
	for (i = 1; i <= nd; i++)
		text = text " " code_of(D[i])
	match(text, /[^A-Za-z0-9_]pt_[A-Za-z0-9_]*[ \t]*\(/)
	ret = substr(text, 1, RSTART)
	rest = substr(text, RSTART + 1)
	d_name = substr(rest, 1, index(rest, "(") - 1)
	sub(/[ \t]+$/, "", d_name)
	n = split(ret, W, /[ \t]+/)
	ret = ""
	for (i = 1; i <= n; i++)
		if (W[i] != "" && W[i] != "static" && W[i] != "inline" && W[i] != "extern")
			ret = ret (ret == "" ? "" : " ") W[i]

	# Parameters: split at the commas outside nested parentheses.
	rest = substr(rest, index(rest, "(") + 1)
	depth = 0; params = ""
	for (i = 1; i <= length(rest); i++) {
		c = substr(rest, i, 1)
		if (c == "(") depth++
		else if (c == ")" && depth-- == 0) break
		params = params (c == "," && depth == 0 ? "\001" : c)
	}
	np = 0
	if (trim(params) != "void" && trim(params) != "") {
		n = split(params, P, "\001")
		for (i = 1; i <= n; i++) {
			p = trim(P[i])
			if (match(p, /\([ \t]*\*[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*\)/)) {
				p = substr(p, RSTART, RLENGTH)
				gsub(/[^A-Za-z0-9_]/, "", p)
			} else {
				sub(/(\[[^]]*\])+$/, "", p)
				match(p, /[A-Za-z_][A-Za-z0-9_]*$/)
				p = substr(p, RSTART, RLENGTH)
			}
			D_param[++np] = p
		}
	}

	# The static inline definitions: the signature only.
	sub(/[ \t]*\{.*$/, "", D[nd])
	sub(/[ \t]*\/\*.*$/, "", D[nd])
	if (D[nd] !~ /;$/)
		D[nd] = D[nd] ";"

	documented = pending && block_end == decl_line - 1
	pending = 0
	nfunctions++
	if (mode == "gen") {
		print_function()
		return
	}
	if (!documented) {
		problem(FILENAME, decl_line, d_name "()", "no kernel-doc block (/** ... */) directly above the declaration")
		return
	}
	if (b_name != d_name) {
		problem(FILENAME, decl_line, d_name "()", "the block above starts \"" (b_name == "" ? b_summary : b_name "() - ...") "\", not \"" d_name "() - summary\"")
		return
	}
	if (trim(b_summary) == "")
		problem(FILENAME, decl_line, d_name "()", "no one-line summary after \"" d_name "() -\"")
	if (!b_has_context || trim(b_context) == "")
		problem(FILENAME, decl_line, d_name "()", "no Context: section")
	if (ret != "void" && (!b_has_return || trim(b_return) == ""))
		problem(FILENAME, decl_line, d_name "()", "no Return: section (returns " ret ")")
	want = ""; got = ""
	for (i = 1; i <= np; i++)
		want = want " @" D_param[i]
	for (i = 1; i <= b_nparams; i++) {
		got = got " @" b_pname[i]
		if (trim(b_pdesc[i]) == "")
			problem(FILENAME, decl_line, d_name "()", "@" b_pname[i] " has no description")
	}
	if (want != got)
		problem(FILENAME, decl_line, d_name "()", "parameters documented as" (got == "" ? " (none)" : got) ", declared as" (want == "" ? " (none)" : want))
}

# A block not followed by a declaration.
function orphan() {
	if (pending && b_name != "")
		problem(block_file, block_end, b_name "()", "kernel-doc block not directly above a declaration of " b_name "()")
	pending = 0
}

FNR == 1 {
	if (in_block)
		problem(block_file, block_start, "?", "unterminated kernel-doc block")
	orphan()
	in_block = 0; in_comment = 0; in_decl = 0; pp_cont = 0; in_cplusplus = 0
	depth = 0
}

in_block {
	if (index($0, "*/")) {
		l = $0
		sub(/\*\/.*/, "", l)
		if (trim(l) != "" && trim(l) != "*")
			B[++nb] = l
		in_block = 0; pending = 1; block_end = FNR
		parse_block()
	} else {
		B[++nb] = $0
	}
	next
}

in_comment {
	if (index($0, "*/"))
		in_comment = 0
	next
}

in_decl {
	D[++nd] = $0
	parens += count(code_of($0), "(") - count(code_of($0), ")")
	depth += count(code_of($0), "{") - count(code_of($0), "}")
	if (parens == 0) {
		in_decl = 0
		end_declaration()
	}
	next
}

pp_cont { pp_cont = /\\$/; next }

/^[ \t]*#/ {
	if ($0 ~ /^#[ \t]*ifdef[ \t]+__cplusplus/)
		in_cplusplus = 1
	else if (in_cplusplus && $0 ~ /^#[ \t]*endif/)
		in_cplusplus = 0
	pp_cont = /\\$/
	orphan()
	next
}

in_cplusplus { next }

depth == 0 && /^[ \t]*\/\*\*[ \t]*$/ {
	orphan()
	in_block = 1; nb = 0; block_start = FNR; block_file = FILENAME
	next
}

/^[ \t]*\/\*/ {
	if (!index(substr($0, index($0, "/*") + 2), "*/"))
		in_comment = 1
	orphan()
	next
}

/^[ \t]*$/ { orphan(); next }

{
	c = code_of($0)
	if (depth == 0 && c ~ /^[A-Za-z_][A-Za-z0-9_ \t*]*[ \t*]pt_[A-Za-z0-9_]*[ \t]*\(/ && c !~ /^typedef[ \t]/) {
		nd = 1; D[1] = $0; decl_line = FNR
		parens = count(c, "(") - count(c, ")")
		depth += count(c, "{") - count(c, "}")
		if (parens == 0)
			end_declaration()
		else
			in_decl = 1
		next
	}
	orphan()
	depth += count(c, "{") - count(c, "}")
	if (depth < 0)
		depth = 0
	if (index(c, "/*") == 0 && index($0, "/*") && !index(substr($0, index($0, "/*") + 2), "*/"))
		in_comment = 1
}

END {
	if (in_block)
		problem(block_file, block_start, "?", "unterminated kernel-doc block")
	orphan()
	if (mode == "check") {
		if (nproblems) {
			printf "apidoc.sh: %d problem(s) in the kernel-doc of include/ptkit/*.h\n", nproblems > "/dev/stderr"
			exit 1
		}
		printf "apidoc.sh: %d public functions, each with a complete kernel-doc block\n", nfunctions
	}
}
'

generate() {
	echo "Generated by \`scripts/apidoc.sh\` from the kernel-doc comments in"
	echo "\`include/ptkit/*.h\`: edit those, then run \`scripts/apidoc.sh --update\`."
	# shellcheck disable=SC2086 # $headers: fixed paths without spaces
	awk -v mode=gen "$apidoc_awk" $headers
}

case "${1-}" in
"")
	generate
	;;
--check)
	# shellcheck disable=SC2086
	awk -v mode=check "$apidoc_awk" $headers
	;;
--update)
	tmp=$api_md.apidoc.$$
	trap 'rm -f "$tmp" "$tmp.gen"' EXIT
	generate > "$tmp.gen"
	if ! awk -v begin="$begin" -v end="$end" -v gen="$tmp.gen" '
		$0 == begin && state == 0 {
			print
			while ((getline l < gen) > 0)
				print l
			state = 1
			next
		}
		$0 == end && state == 1 { state = 2 }
		state != 1 { print }
		END { exit state == 2 ? 0 : 1 }' "$api_md" > "$tmp"; then
		echo "apidoc.sh: $api_md needs one line \"$begin\" and, after it, one line \"$end\"" >&2
		exit 2
	fi
	if cmp -s "$tmp" "$api_md"; then
		echo "apidoc.sh: $api_md is up to date" >&2
	else
		cat "$tmp" > "$api_md"
		echo "apidoc.sh: $api_md updated" >&2
	fi
	;;
*)
	echo "usage: scripts/apidoc.sh [--check | --update]" >&2
	exit 2
	;;
esac
