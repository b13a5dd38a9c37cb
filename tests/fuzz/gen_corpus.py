#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""gen_corpus.py - writes the seed corpus of fuzz_ops (tests/fuzz/corpus/).

   python3 tests/fuzz/gen_corpus.py [OUTDIR]

Each seed is a short, meaningful program in fuzz_ops' input encoding, so the
fuzzer starts from inputs that reach every operation instead of finding
them byte by byte.  The encoding (fuzz_ops.c decodes it; keep both in step):

  input  = cfg [fcfg] op*           at most 64 ops; missing bytes read as 0
  cfg    = bits 0-1 U's max_leaf_level (0: format's, 1: 2, 2: 1), bits 2-3
           the same for K (UK inherits K's), bit 4 U live, bit 5 K live,
           bit 6: each table is first created with one allocation failing;
           then, after fcfg, three bytes (U, K, UK) pick which (U, UK:
           1 + (b & 1); K: 1 + b); bit 7: fcfg follows
  fcfg   = bits 0-2 the format (% 5: x86_64, x86_64_la57, riscv_sv39,
           riscv_sv48, aarch64_4k; with bit 7 the stage-2 ones:
           riscv_sv39x4, riscv_sv48x4, aarch64_s2_4k, x86_ept, x86_ept5),
           bits 3-4 U's features, bits 5-6 K's (and UK's): bit 0 of each
           field x86 PAT_WC, RISC-V Svpbmt, AArch64 BBM2, EPT A/D
           (PT_FEAT_X86_EPT_AD); bit 1 RISC-V Svvptc, AArch64 stage 2
           FEAT_S2FWB (nothing on stage 1).  Without fcfg:
           x86_64, no features (inputs written before there were formats
           keep their meaning).  A stage 2 has one guest-physical space:
           K and UK are tables of it like U (UK made with K's options,
           not from K), and the "other half" of va() is past its end.
  op     = kind flags args...
  kind   % 16: 0,1 map  2 map_frames  3 unmap  4 protect  5 query  6 walk
           7 cursor_open  8 cursor_close  9 find_next  10 jump  11 take_next
           12 protect_next  13 cursor_map (kind & 0x10: cursor_query)
           14 flush_finish(table)  15 flush_finish all (kind & 0x30: 0x10
           destroy K while UK lives, PT_EBUSY, where UK shares K's half,
           else as 0x30; 0x20 NULL and out-of-range arguments, PT_EINVAL;
           0x30 destroy UK and make it again from K, flags bit 2 fault
           injection, bit 3 which allocation fails; kind 0x4f exactly:
           pt_copy from the flags' table, then one byte: bit 0 into the
           next table (0) or the one after (1), bit 1 PT_COPY_COW, bit 2
           the invalidation checker watches the destination, not the
           source); kind 0x8f exactly: pt_harvest of the flags' table,
           then one byte: bits 0-1 what it asks (A 1, D 2, both 3; 0:
           D), bit 2 PT_HARVEST_CLEAR; kind 0xcf exactly: pt_mark on the
           flags' table (at most 256 pages, or from a 2M boundary one
           2M entry, a huge marker), then one byte b: the value
           b * 0x0101010101 (0xff: one bit too wide, PT_EINVAL); kind
           0xdf exactly: pt_split of the flags' table, then one byte: bit 0
           down to 2 MiB (else 4 KiB), bit 1 from a stash of bits 2-4 nodes
           (else from the phys)
           Kind 13 with bits 4-7 0x9, 0xd, 0xf (0x9d, 0xdd, 0xfd exactly):
           the cursor forms: 0x9d pt_cursor_query_marker; 0xdd
           pt_cursor_mark of 1 + (p & 15) pages, two bytes: the value as
           pt_mark's, p (invalid, one byte % 3: len 0, half a page, past the
           cursor's end); 0xfd pt_cursor_harvest_next, a window as
           find_next's then one byte as pt_harvest's (invalid, one byte % 3:
           asks nothing, an unknown flag, a foreign batch)
           Cursor kinds (9-13) read no argument when no cursor is open.
           Kind 1 with bits 6-7 set (0xc1, ...): move (pt_move) of a
           range (va, len) to a destination: two bytes d, k, where d bits
           6-7 pick a distance of 1 + (k & 0x7f) GiB (0), 2 MiB (1) or
           pages (2), down if k bit 7, or (3) a va of its own after them;
           its invalid arguments (one byte & 3): overlapping, unaligned
           destination, a foreign batch, a bad source range
  flags  = bits 0-1 table (0 U, 1 K, 2 UK, 3 U), bit 2 fault injection,
           bits 3-4 which allocation fails (1-4), bit 5 use the table's
           batch, bit 6 one invalid argument (one more byte picks which)

Addresses: va(win, gib, i2m, i4k) is window win of the half (0 its start,
1 across a root entry's boundary, 2 its top; tests/common/model_core.h
sizes them per format: 2 or 4 GiB), GiB gib (modulo the window's size),
then 2 MiB and 4 KiB indexes.
"""
import os
import sys

U, K, UK = 0, 1, 2
INJ, BATCH, BAD = 0x04, 0x20, 0x40
R, W, X, US, G, A, D = 1, 2, 4, 8, 16, 32, 64
HOT = [0, 1, 2, 3, 508, 509, 510, 511]
MAP, MAPF, UNMAP, PROTECT, QUERY, WALK, COPEN, CCLOSE = 0, 2, 3, 4, 5, 6, 7, 8
MOVE = 0xc1
FIND, JUMP, TAKE, PNEXT, CMAP, FINISH, FINISH_ALL = range(9, 16)
CQUERY, DESTROY_K, NULL_ARGS = CMAP | 0x10, FINISH_ALL | 0x10, FINISH_ALL | 0x20
RECREATE_UK = FINISH_ALL | 0x30
COPY = 0x4f
HARVEST = 0x8f
MARK = 0xcf
SPLIT = 0xdf
CQMARK, CMARK, CHARV = 0x9d, 0xdd, 0xfd
TO_2M, STASH = 1, 2
H_A, H_D, H_CLEAR = 1, 2, 4
NEXT, COW, WATCH_DST = 1, 2, 4
X86, LA57, SV39, SV48, A64 = range(5)
SV39X4, SV48X4, A64S2, EPT, EPT5 = (0x80 | f for f in range(5))
WC_OR_PBMT_OR_BBM2, SVVPTC = 1, 2
EPT_AD = WC_OR_PBMT_OR_BBM2
S2FWB = SVVPTC


def cfg(fmt=None, fu=0, fk=0, base=0):
    """The config bytes: base is cfg's bits 0-6; fmt None: x86_64 without
    fcfg; fu, fk: U's and K's feature fields."""
    if fmt is None:
        return [base]
    return [base | 0x80, fmt | fu << 3 | fk << 5]


def idx512(a):
    return HOT[a & 7] if a < 128 else ((a - 128) << 2) | (a & 1)


def enc_idx(x):
    for a in range(256):
        if idx512(a) == x:
            return a
    raise ValueError(f"index {x} cannot be encoded")


def flags(table, inj=0, nth=1, batch=False, bad=False):
    return table | (INJ if inj else 0) | ((nth - 1) << 3) | (BATCH if batch else 0) | \
        (BAD if bad else 0)


def va(win=0, gib=0, i2m=0, i4k=0, other=False, kernel=False):
    """win 0: start of the half, 1: across a root entry's boundary, 2: top.
    other: the half U or K lacks (PT_ERANGE); kernel: UK's kernel half."""
    s = win | gib << 2 | (0xc0 if other else 0) | (0x80 if kernel else 0)
    return [s, enc_idx(i2m), enc_idx(i4k)]


# gen_len kinds: 0 (1+(d&15)) pages, 2 (1+d) pages, 3 (1+(d&3)) x 2M,
# 4 2M multiple + pages, 5 1G/2G + (d>>1&3) x 2M, 6 to the window's end,
# 7 (1+d) x 2M
def pages(n):
    assert 1 <= n <= 256
    return [0, n - 1] if n <= 16 else [2, n - 1]


def mib2(n):
    return [3, n - 1] if n <= 4 else [7, n - 1]


def gib(n, extra_2m=0):
    return [5, (n - 1) | extra_2m << 1]


TO_END = [6, 0]


# gen_pa kinds: 0 congruent to va mod 1G (+ g GiB), 1 mod 2M (+ e>>2 x 2M),
# 2 any page (g<<20 | e<<12), 3 at the physical limit
def pa_1g(g=1):
    return [0, g]


def pa_2m(k=0, g=0):
    return [1 | k << 2, g]


def pa_page(e=0x10, g=3):
    return [(e & ~3) | 2, g]


def prop(f=R | W, cache=0, sw=None):
    """cache 0 WB, 7 WT, 11 UC, 14 WC (invalid), 15 past the last."""
    return [f | (0x80 if sw is not None else 0), cache | ((sw or 0) << 4)]


def setclr(s=0, c=0):
    return [s, c]


# gen_window kinds: 0 or 7 all, 1 (1+(d&15)) pages (k 0xf9: 0), 2 (1+d)
# pages, 3 (1+(d&3)) x 2M, 4 1G, 5 d pages + 2K (ends in a page), 6 wraps
WIN_ALL = [0, 0]


def win_pages(n):
    return [1, n - 1] if n <= 16 else [2, n - 1]


WIN_ZERO = [0xf9, 0]

GIB_UNIT, MIB2_UNIT, PAGE_UNIT = 0, 1, 2


def dist(unit, n, down=False):
    """A move's destination n units away (1 <= n <= 128)."""
    return [unit << 6, (n - 1) | (0x80 if down else 0)]


def to_va(*args, **kw):
    """A move's destination at va(*args)."""
    return [0xc0, 0] + va(*args, **kw)


def win_half_page(d):
    return [5, d]


def op(kind, fl, *args):
    out = [kind, fl]
    for a in args:
        out += a if isinstance(a, list) else [a]
    return out


SEEDS = {}

# Small pages: map, query, walk, partial unmap, query again.
SEEDS["01-4k-basics"] = [0] + \
    op(MAP, flags(U), va(0, 0, 0, 1), pages(8), pa_page(), prop(R | W | US)) + \
    op(QUERY, flags(U), va(0, 0, 0, 3), 0x10) + \
    op(WALK, flags(U), va(0, 0, 0, 0), pages(16), 0) + \
    op(UNMAP, flags(U), va(0, 0, 0, 2), pages(2)) + \
    op(QUERY, flags(U), va(0, 0, 0, 2), 0) + \
    op(WALK, flags(U), va(0, 0, 0, 0), pages(16), 2)

# One map making 4K, 2M, 1G, 2M and 4K leaves; protect and unmap split them.
SEEDS["02-mixed-sizes-split"] = [0] + \
    op(MAP, flags(U), va(0, 0, 510, 2), gib(1, 3), pa_1g(1), prop(R | X)) + \
    op(QUERY, flags(U), va(0, 1, 0, 0), 0x7f) + \
    op(PROTECT, flags(U), va(0, 1, 3, 1), pages(3), setclr(W | D, X)) + \
    op(UNMAP, flags(U), va(0, 1, 509, 0), mib2(2)) + \
    op(WALK, flags(U), va(0, 0, 508, 0), gib(2), 0) + \
    op(UNMAP, flags(U), va(0, 0, 0, 0), TO_END)

# Tracked frames: map_frames, unmap into a batch, refcounts, finish.
SEEDS["03-tracked-batch"] = [0] + \
    op(MAPF, flags(U), va(1, 1, 511, 508), 7, 0x21, prop(R | W | US | A)) + \
    op(MAPF, flags(U), va(1, 2, 0, 2), 3, 0x05, prop(R, sw=5)) + \
    op(UNMAP, flags(U, batch=True), va(1, 1, 511, 510), pages(8)) + \
    op(QUERY, flags(U), va(1, 2, 0, 1), 0) + \
    op(PROTECT, flags(U, batch=True), va(1, 2, 0, 0), pages(8), setclr(0x80 | D, 0x10)) + \
    op(FINISH, flags(U))

# The kernel half's top: va + len == 2^64, seen through UK, which may not write.
SEEDS["04-kernel-top-shared"] = [0] + \
    op(MAP, flags(K), va(2, 3, 511, 0), TO_END, pa_2m(3), prop(R | W | G)) + \
    op(MAP, flags(K), va(2, 3, 510, 511), pages(1), pa_page(), prop(R, 11)) + \
    op(QUERY, flags(UK), va(2, 3, 511, 3, kernel=True), 0x42) + \
    op(WALK, flags(UK), va(2, 3, 508, 0, kernel=True), TO_END, 0) + \
    op(UNMAP, flags(UK), va(2, 3, 511, 0, kernel=True), TO_END) + \
    op(COPEN, flags(UK), va(2, 3, 511, 0, kernel=True), TO_END) + \
    op(DESTROY_K, flags(K)) + \
    op(UNMAP, flags(K), va(2, 3, 510, 0), TO_END)

# take_next: a leaf table with tracked pages goes as one subtree, then a 2M leaf.
SEEDS["05-cursor-take"] = [0] + \
    op(MAPF, flags(U), va(0, 0, 2, 0), 15, 0x10, prop(R | W | US)) + \
    op(MAP, flags(U), va(0, 0, 3, 0), mib2(1), pa_2m(5), prop(R)) + \
    op(COPEN, flags(U), va(0, 0, 2, 0), mib2(2)) + \
    op(CQUERY, flags(U)) + \
    op(TAKE, flags(U, batch=True), WIN_ALL) + \
    op(TAKE, flags(U, batch=True), WIN_ALL) + \
    op(TAKE, flags(U), WIN_ALL) + \
    op(CCLOSE, flags(U)) + \
    op(FINISH, flags(U))

# protect_next splits a 1G leaf; find_next, jump; cursor_map of each size.
SEEDS["06-cursor-protect-map"] = [0] + \
    op(MAP, flags(U), va(0, 1, 0, 0), gib(1), pa_1g(2), prop(R | W)) + \
    op(COPEN, flags(U), va(0, 1, 0, 3), pages(16)) + \
    op(PNEXT, flags(U), WIN_ALL, 0x47, setclr(X, W)) + \
    op(FIND, flags(U), WIN_ALL) + \
    op(PNEXT, flags(U), win_pages(4), 0x00, setclr(D, 0)) + \
    op(COPEN, flags(U), va(0, 2, 0, 0), gib(1)) + \
    op(CMAP, flags(U), 0x18, 2, prop(R | W | US)) + \
    op(JUMP, flags(U), 2, 0) + \
    op(CMAP, flags(U), 0x01, 7, prop(R, 7)) + \
    op(CQUERY, flags(U)) + \
    op(JUMP, flags(U), 0, 0) + \
    op(FIND, flags(U), WIN_ALL) + \
    op(CMAP, flags(U), 0x02, 1, prop(R)) + \
    op(CCLOSE, flags(U))

# Fault injection: each allocation of a map and of a split fails once.
SEEDS["07-enomem"] = [0] + \
    op(MAP, flags(U, inj=1, nth=1), va(0, 0, 8, 5), mib2(3), pa_2m(1), prop()) + \
    op(MAP, flags(U, inj=1, nth=2), va(0, 0, 8, 5), mib2(3), pa_2m(1), prop()) + \
    op(MAP, flags(U, inj=1, nth=3), va(0, 0, 8, 5), mib2(3), pa_2m(1), prop()) + \
    op(MAP, flags(U), va(0, 0, 8, 5), mib2(3), pa_2m(1), prop()) + \
    op(MAP, flags(U), va(0, 1, 0, 0), gib(1), pa_1g(3), prop()) + \
    op(UNMAP, flags(U, inj=1, nth=1), va(0, 1, 2, 1), pages(1)) + \
    op(UNMAP, flags(U, inj=1, nth=2), va(0, 1, 2, 1), pages(1)) + \
    op(PROTECT, flags(U, inj=1, nth=1), va(0, 1, 2, 1), pages(1), setclr(0, W)) + \
    op(COPEN, flags(U), va(0, 1, 3, 0), pages(8)) + \
    op(TAKE, flags(U, inj=1, nth=2), WIN_ALL) + \
    op(PNEXT, flags(U, inj=1, nth=1), WIN_ALL, 0, setclr(W, 0)) + \
    op(CCLOSE, flags(U)) + \
    op(UNMAP, flags(U), va(0, 1, 2, 1), pages(1))

# Every argument error, next to real mappings.
SEEDS["08-errors"] = [0] + \
    op(MAP, flags(U), va(0, 0, 0, 0), pages(4), pa_page(), prop()) + \
    op(MAP, flags(U), va(0, 0, 0, 2), pages(4), pa_page(), prop()) + \
    [b for c in range(8) for b in op(MAP, flags(U, bad=True), va(0, 0, 0, 0), pages(4),
                                       pa_page(), prop(), c)] + \
    [b for c in range(8) for b in op(MAPF, flags(K, bad=True), va(0, 0, 0, 0), 2, 0x11,
                                       prop(), c)] + \
    [b for c in range(8) for b in op(PROTECT, flags(UK, bad=True), va(0, 0, 0, 0),
                                       pages(2), setclr(R, 0), c)] + \
    op(MAP, flags(U), va(0, 0, 0, 0), pages(1), pa_page(), prop(R, 14)) + \
    op(MAP, flags(K), va(0, 0, 0, 0), pages(1), [3, 0], prop()) + \
    op(UNMAP, flags(U), va(0, 0, 0, 0, other=True), pages(1))

# UK's own user half next to K's kernel half; K cannot go while UK lives.
SEEDS["09-user-from-kernel"] = [0] + \
    op(MAP, flags(K), va(0, 0, 0, 0), gib(2), pa_1g(4), prop(R | W | G)) + \
    op(MAPF, flags(UK), va(0, 0, 1, 1), 4, 0x32, prop(R | US)) + \
    op(QUERY, flags(UK), va(0, 1, 16, 3, kernel=True), 0) + \
    op(PROTECT, flags(K), va(0, 1, 0, 0), mib2(1), setclr(0, W)) + \
    op(WALK, flags(UK), va(0, 0, 0, 0, kernel=True), gib(2), 3) + \
    op(COPEN, flags(UK), va(0, 0, 0, 0), mib2(4)) + \
    op(MAP, flags(K), va(1, 0, 0, 0), pages(3), pa_page(), prop()) + \
    op(TAKE, flags(UK), WIN_ALL) + \
    op(DESTROY_K, flags(K)) + \
    op(CCLOSE, flags(UK)) + \
    op(UNMAP, flags(K), va(0, 0, 0, 0), TO_END)

# More tracked pages than a batch holds: the batch finishes early.
SEEDS["10-batch-overflow"] = [0] + \
    op(MAPF, flags(K), va(1, 0, 0, 0), 250, 0x31, prop(R | W | G)) + \
    op(PROTECT, flags(K, batch=True), va(1, 0, 0, 0), mib2(2), setclr(D, W)) + \
    op(UNMAP, flags(K, batch=True), va(1, 0, 0, 0), mib2(2)) + \
    op(MAPF, flags(U), va(1, 0, 0, 0), 20, 0x01, prop()) + \
    op(FINISH_ALL, flags(U))

# Leaf caps: U up to 2M, K only 4K; a 1G cursor_map is refused in U.
SEEDS["11-leaf-caps"] = [0x01 | 0x02 << 2 | 0x10] + \
    op(MAP, flags(U), va(0, 0, 0, 0), gib(1), pa_1g(5), prop(R)) + \
    op(MAP, flags(K), va(0, 1, 0, 0), mib2(1), pa_2m(2), prop(R | G)) + \
    op(COPEN, flags(U), va(0, 1, 0, 0), gib(1)) + \
    op(CMAP, flags(U), 0x02, 1, prop(R)) + \
    op(CMAP, flags(U), 0x01, 9, prop(R)) + \
    op(UNMAP, flags(U), va(0, 0, 1, 0), pages(3))

# Cursor windows: ending inside a page, wrapping, zero; the end state.
SEEDS["12-cursor-windows"] = [0] + \
    op(MAP, flags(U), va(2, 3, 511, 508), TO_END, pa_page(), prop()) + \
    op(COPEN, flags(U), va(2, 3, 511, 508), TO_END) + \
    op(FIND, flags(U), win_half_page(0)) + \
    op(TAKE, flags(U), win_half_page(1)) + \
    op(TAKE, flags(U), [6, 3]) + \
    op(FIND, flags(U), WIN_ZERO) + \
    op(PNEXT, flags(U), WIN_ALL, 0x40, setclr(0, 0)) + \
    op(TAKE, flags(U), WIN_ALL) + \
    op(TAKE, flags(U), WIN_ALL) + \
    op(CQUERY, flags(U)) + \
    op(FIND, flags(U), WIN_ALL) + \
    op(JUMP, flags(U, bad=True), 0, 1) + \
    op(JUMP, flags(U), 0x80, 0) + \
    op(CQUERY, flags(U))

# Empty nodes: a huge map replaces an empty leaf table; unmap frees nodes.
SEEDS["13-empty-nodes"] = [0] + \
    op(MAP, flags(U), va(0, 0, 0, 5), pages(2), pa_page(), prop()) + \
    op(UNMAP, flags(U), va(0, 0, 0, 5), pages(2)) + \
    op(MAP, flags(U), va(0, 0, 0, 0), mib2(1), pa_2m(0), prop()) + \
    op(MAP, flags(U), va(0, 0, 8, 5), pages(3), pa_page(), prop()) + \
    op(UNMAP, flags(U), va(0, 0, 0, 0), gib(1)) + \
    op(MAP, flags(U), va(0, 0, 0, 0), gib(1), pa_1g(0), prop()) + \
    op(COPEN, flags(U), va(0, 0, 8, 0), mib2(1)) + \
    op(TAKE, flags(U), WIN_ALL)

# take_next detaches an empty leaf table lying before its item, unreported.
SEEDS["14-take-next-empty-node"] = [0] + \
    op(MAP, flags(U), va(0, 0, 1, 3), pages(1), pa_page(), prop()) + \
    op(UNMAP, flags(U), va(0, 0, 1, 3), pages(1)) + \
    op(MAP, flags(U), va(0, 0, 3, 1), pages(2), pa_page(), prop()) + \
    op(COPEN, flags(U), va(0, 0, 0, 0), mib2(4)) + \
    op(TAKE, flags(U, batch=True), WIN_ALL) + \
    op(TAKE, flags(U, batch=True), WIN_ALL) + \
    op(CCLOSE, flags(U)) + \
    op(FINISH, flags(U))

# One batch gets 17 ranges that do not merge: the 17th finishes it early.
SEEDS["15-batch-17-ranges"] = [0] + \
    op(MAP, flags(U), va(0, 0, 0, 0), pages(256), pa_page(), prop()) + \
    [b for i in [0, 2, 5, 8, 13, 16, 21, 24, 29, 32, 37, 40, 45, 48, 53, 56, 61, 64]
     for b in op(UNMAP, flags(U, batch=True), va(0, 0, 0, i), pages(1))] + \
    op(FINISH, flags(U))

# One unmap detaches 17 leaf tables (not their parent): 17 subtrees.
SEEDS["16-batch-17-subtrees"] = [0] + \
    [b for i in [0, 1, 2, 3, 5, 8, 13, 16, 21, 24, 29, 32, 37, 40, 45, 48, 53, 56]
     for b in op(MAPF, flags(K), va(0, 0, i, 1), 0, 0x10, prop(R | G))] + \
    op(UNMAP, flags(K, batch=True), va(0, 0, 0, 0), mib2(120)) + \
    op(FINISH_ALL, flags(K))

# Creating each table with an allocation failing first.
SEEDS["17-create-enomem"] = [0x40, 0x01, 0x80, 0x02] + \
    op(MAP, flags(K), va(0, 0, 0, 0), pages(1), pa_page(), prop()) + \
    op(QUERY, flags(UK), va(0, 0, 0, 0, kernel=True), 0) + \
    op(NULL_ARGS, flags(K)) + \
    op(COPEN, flags(U), va(0, 0, 0, 0), pages(1)) + \
    op(NULL_ARGS, flags(U))


# ---- every format: the seeds above are x86_64; these pick a format.

def tour(fmt, fu=0, fk=0):
    """One of everything on a format: a mixed-size map, a protect that
    splits a 1G leaf down to 4K and changes G (nG on AArch64), tracked
    frames unmapped into a batch, a kernel map (capped below the root
    where the kernel half is shared), UK reading it, cursor take_next,
    protect_next changing the cache policy, cursor_map, then everything
    unmapped."""
    return cfg(fmt, fu, fk) + \
        op(MAP, flags(U), va(0, 0, 510, 2), gib(1, 3), pa_1g(1), prop(R | W | X)) + \
        op(PROTECT, flags(U), va(0, 1, 3, 1), pages(3), setclr(G | D, X)) + \
        op(MAPF, flags(U), va(2, 1, 0, 2), 5, 0x21, prop(R | W | US, sw=1)) + \
        op(UNMAP, flags(U, batch=True), va(2, 1, 0, 0), mib2(1)) + \
        op(MAP, flags(K), va(1, 0, 0, 0), gib(1), pa_1g(2), prop(R | W | G)) + \
        op(QUERY, flags(UK), va(1, 0, 3, 3, kernel=True), 0) + \
        op(WALK, flags(UK), va(1, 0, 0, 0, kernel=True), mib2(4), 3) + \
        op(COPEN, flags(K), va(1, 0, 0, 0), mib2(4)) + \
        op(PNEXT, flags(K), WIN_ALL, 0x43, setclr(0, W)) + \
        op(TAKE, flags(K, batch=True), win_pages(1)) + \
        op(JUMP, flags(K), 0x02, 0x00) + \
        op(CMAP, flags(K), 0x00, 9, prop(R | W)) + \
        op(FIND, flags(K), WIN_ALL) + \
        op(CCLOSE, flags(K)) + \
        op(FINISH_ALL, flags(U)) + \
        op(MAPF, flags(UK), va(0, 0, 8, 0), 3, 0x10, prop(R | US)) + \
        op(RECREATE_UK, flags(UK)) + \
        op(UNMAP, flags(U), va(0, 0, 0, 0), TO_END) + \
        op(UNMAP, flags(K), va(1, 0, 0, 0), TO_END)


def bbm(fmt, fu=0, fk=0):
    """Changes that need break-before-make on AArch64 (unless BBM2 for the
    size changes), in place elsewhere: an empty leaf table becoming a 2M
    block, a valid 1G block split twice, nG and memory-type changes of a
    valid leaf, and a split under fault injection."""
    return cfg(fmt, fu, fk) + \
        op(MAP, flags(U), va(0, 0, 0, 5), pages(1), pa_page(), prop()) + \
        op(UNMAP, flags(U), va(0, 0, 0, 5), pages(1)) + \
        op(MAP, flags(U), va(0, 0, 0, 0), mib2(1), pa_2m(0), prop()) + \
        op(MAP, flags(U), va(0, 1, 0, 0), gib(1), pa_1g(3), prop(R | W)) + \
        op(PROTECT, flags(U, inj=1, nth=2), va(0, 1, 2, 1), pages(1), setclr(0, W)) + \
        op(PROTECT, flags(U), va(0, 1, 2, 1), pages(1), setclr(0, W)) + \
        op(PROTECT, flags(U, batch=True), va(0, 1, 8, 0), mib2(1), setclr(G, 0)) + \
        op(COPEN, flags(U), va(0, 1, 16, 0), mib2(2)) + \
        op(PNEXT, flags(U), WIN_ALL, 0x41, setclr(0, 0)) + \
        op(PNEXT, flags(U, batch=True), win_pages(1), 0x00, setclr(X, 0)) + \
        op(TAKE, flags(U), WIN_ALL) + \
        op(CCLOSE, flags(U)) + \
        op(MAP, flags(K), va(2, 3, 511, 0), TO_END, pa_2m(3), prop(R | W | G)) + \
        op(PROTECT, flags(K), va(2, 3, 511, 3), pages(1), setclr(0, G)) + \
        op(FINISH, flags(U)) + \
        op(UNMAP, flags(U), va(0, 1, 0, 0), gib(1))


def new_maps(fmt, fu=0, fk=0):
    """New mappings (RISC-V without Svvptc must invalidate them too) by map,
    map_frames and cursor_map, with every cache policy (Svpbmt or not),
    in both halves and at the kernel top."""
    return cfg(fmt, fu, fk) + \
        op(MAP, flags(U), va(0, 0, 1, 0), mib2(2), pa_2m(2), prop(R | W, 7)) + \
        op(MAP, flags(U), va(0, 0, 3, 0), pages(4), pa_page(), prop(R, 11)) + \
        op(MAP, flags(U), va(0, 0, 3, 5), pages(2), pa_page(), prop(R, 14)) + \
        op(MAPF, flags(U), va(0, 0, 8, 0), 7, 0x13, prop(R | W | US)) + \
        op(MAP, flags(K), va(2, 3, 508, 0), TO_END, pa_2m(1), prop(R | W | G, 11)) + \
        op(COPEN, flags(U), va(0, 0, 5, 0), mib2(1)) + \
        op(CMAP, flags(U), 0x18, 3, prop(R | US)) + \
        op(CMAP, flags(U), 0x00, 2, prop(R | X)) + \
        op(CCLOSE, flags(U)) + \
        op(PROTECT, flags(U), va(0, 0, 0, 0), mib2(8), setclr(W, 0)) + \
        op(UNMAP, flags(U, batch=True), va(0, 0, 0, 0), mib2(8)) + \
        op(MAP, flags(U, inj=1, nth=1), va(0, 1, 0, 0), gib(1), pa_1g(1), prop()) + \
        op(QUERY, flags(UK), va(2, 3, 510, 13, kernel=True), 0) + \
        op(FINISH_ALL, flags(U))


def roots(fmt, fu=0, fk=0):
    """Across a root entry's boundary in both halves (two of K's pinned
    nodes where the kernel half is shared), walks over it, and UK made
    again (on AArch64 instead of K's PT_EBUSY)."""
    return cfg(fmt, fu, fk, base=0x01 | 0x20) + \
        op(MAP, flags(U), va(1, 1, 511, 0), mib2(2), pa_2m(0), prop()) + \
        op(MAP, flags(K), va(1, 1, 510, 0), mib2(4), pa_2m(4), prop(R | G)) + \
        op(WALK, flags(U), va(1, 1, 508, 0), mib2(8), 0) + \
        op(WALK, flags(UK), va(1, 1, 508, 0, kernel=True), mib2(8), 2) + \
        op(UNMAP, flags(K, batch=True), va(1, 1, 511, 0), mib2(1)) + \
        op(DESTROY_K, flags(K)) + \
        op(COPEN, flags(U), va(1, 1, 511, 0), mib2(2)) + \
        op(TAKE, flags(U), WIN_ALL) + \
        op(TAKE, flags(U, inj=1, nth=1), WIN_ALL) + \
        op(CCLOSE, flags(U)) + \
        op(UNMAP, flags(UK), va(1, 0, 0, 0), TO_END) + \
        op(FINISH, flags(K))


def copy(fmt, fu=0, fk=0):
    """pt_copy between U and UK (alike when fu == fk): mixed sizes and
    tracked frames copied copy-on-write into UK over an empty leaf table
    (a 2M leaf replaces it: AArch64 breaks), then back into U under fault
    injection; PT_EEXIST, a cut leaf (PT_EALIGN) and the same table
    (PT_EINVAL)."""
    return cfg(fmt, fu, fk) + \
        op(MAP, flags(UK), va(0, 0, 0, 5), pages(1), pa_page(), prop()) + \
        op(UNMAP, flags(UK), va(0, 0, 0, 5), pages(1)) + \
        op(MAP, flags(U), va(0, 0, 0, 0), mib2(2), pa_2m(0), prop()) + \
        op(MAP, flags(U), va(0, 0, 510, 2), gib(1, 3), pa_1g(1), prop(R | W | X)) + \
        op(MAPF, flags(U), va(0, 2, 0, 2), 5, 0x21, prop(R | W | US)) + \
        op(COPY, flags(U, batch=True), va(0, 0, 0, 0), TO_END, NEXT | COW | WATCH_DST) + \
        op(FINISH, flags(U)) + \
        op(COPY, flags(UK), va(0, 0, 0, 0), mib2(2), WATCH_DST) + \
        op(UNMAP, flags(U), va(0, 0, 0, 0), TO_END) + \
        op(COPY, flags(UK, inj=1, nth=1), va(0, 0, 0, 0), TO_END, COW | WATCH_DST) + \
        op(COPY, flags(UK, batch=True), va(0, 0, 0, 0), TO_END, COW) + \
        op(COPY, flags(U), va(0, 0, 1, 3), pages(1), NEXT) + \
        op(COPY, flags(U, bad=True), va(0, 0, 0, 0), pages(1), NEXT, 3) + \
        op(FINISH_ALL, flags(U))


def harvest(fmt, fu=0, fk=0):
    """pt_harvest of leaves mapped with and without A and D: 4K, 2M and 1G
    (one cut by the range: reported, not cleared), A, D and both, cleared
    into a batch and not, on U, K up to 2^64 and UK's borrowed half
    (PT_EPERM where K's half is shared)."""
    return cfg(fmt, fu, fk, base=0x10) + \
        op(MAP, flags(U), va(0, 0, 0, 0), pages(8), pa_page(), prop(R | W | A | D)) + \
        op(MAP, flags(U), va(0, 0, 0, 8), pages(8), pa_page(), prop(R | A)) + \
        op(MAP, flags(U), va(0, 1, 0, 0), gib(1, 2), pa_1g(1), prop(R | W | D)) + \
        op(HARVEST, flags(U), va(0, 0, 0, 0), pages(16), H_A) + \
        op(HARVEST, flags(U, batch=True), va(0, 0, 0, 0), pages(16), H_D | H_CLEAR) + \
        op(HARVEST, flags(U), va(0, 0, 0, 0), pages(16), H_A | H_D) + \
        op(FINISH, flags(U)) + \
        op(HARVEST, flags(U), va(0, 1, 1, 3), gib(1), H_A | H_D | H_CLEAR) + \
        op(HARVEST, flags(U), va(0, 1, 0, 0), TO_END, H_D) + \
        op(MAP, flags(K), va(2, 3, 508, 0), TO_END, pa_2m(1), prop(R | W | G | A | D)) + \
        op(HARVEST, flags(K), va(2, 3, 508, 0), TO_END, H_A | H_D | H_CLEAR) + \
        op(HARVEST, flags(UK), va(2, 3, 508, 0, kernel=True), TO_END, H_D) + \
        op(HARVEST, flags(U, bad=True), va(0, 0, 0, 0), pages(1), H_A, 0)


def markers(fmt, fu=0, fk=0):
    """Markers across a leaf table boundary, over markers, over a mapping
    (PT_EEXIST), a value too wide; a map over some (a swap-in), an unmap of
    others, a 2M map replacing a leaf table of markers, a copy of them into
    UK, and markers in K's half up to 2^64 seen through UK."""
    return cfg(fmt, fu, fk) + \
        op(MARK, flags(U), va(0, 0, 0, 509), pages(8), 0x12) + \
        op(MARK, flags(U), va(0, 0, 0, 510), pages(2), 0x34) + \
        op(MAP, flags(U), va(0, 0, 1, 0), pages(1), pa_page(), prop()) + \
        op(MARK, flags(U), va(0, 0, 0, 511), pages(3), 0x56) + \
        op(MARK, flags(U), va(0, 0, 2, 0), pages(1), 0xff) + \
        op(UNMAP, flags(U), va(0, 0, 0, 511), pages(1)) + \
        op(COPY, flags(U), va(0, 0, 0, 0), mib2(4), NEXT | WATCH_DST) + \
        op(MAP, flags(U), va(0, 0, 1, 1), pages(2), pa_page(), prop()) + \
        op(MARK, flags(U), va(0, 0, 8, 0), pages(16), 0x77) + \
        op(MAP, flags(U), va(0, 0, 8, 0), mib2(1), pa_2m(1), prop()) + \
        op(MARK, flags(K, inj=1, nth=2), va(2, 3, 511, 508), pages(4), 0x9a) + \
        op(MARK, flags(K), va(2, 3, 511, 508), pages(4), 0x9a) + \
        op(WALK, flags(UK), va(2, 3, 511, 0, kernel=True), mib2(1), 0) + \
        op(UNMAP, flags(U), va(0, 0, 0, 0), TO_END)


def huge_markers(fmt, fu=0, fk=0):
    """Huge markers: 2M markers (one entry each), then on part of one a map
    (under fault injection first), a mark, an unmap, a move by pages (under
    fault injection first) and a copy into UK of a range cutting one;
    whole ones copied, moved by 2M and by pages, replaced by a 2M map;
    pt_split and protect pass them by; a 2M marker in K's half up to 2^64
    seen through UK and cut by an unmap."""
    return cfg(fmt, fu, fk) + \
        op(MARK, flags(U), va(0, 0, 16, 0), mib2(3), 0x11) + \
        op(MAP, flags(U, inj=1, nth=1), va(0, 0, 16, 5), pages(1), pa_page(), prop()) + \
        op(MAP, flags(U), va(0, 0, 16, 5), pages(1), pa_page(), prop()) + \
        op(MARK, flags(U), va(0, 0, 21, 0), mib2(1), 0x22) + \
        op(MARK, flags(U), va(0, 0, 21, 8), pages(2), 0x33) + \
        op(MARK, flags(U), va(0, 0, 24, 0), mib2(1), 0x55) + \
        op(UNMAP, flags(U), va(0, 0, 24, 1), pages(1)) + \
        op(SPLIT, flags(U), va(0, 0, 16, 0), mib2(12), 0) + \
        op(PROTECT, flags(U), va(0, 0, 16, 0), mib2(12), setclr(0, W)) + \
        op(COPY, flags(U), va(0, 0, 21, 8), mib2(1), NEXT | WATCH_DST) + \
        op(COPY, flags(U), va(0, 0, 24, 0), mib2(1), 1) + \
        op(MOVE, flags(U), va(0, 0, 21, 0), mib2(1), to_va(0, 0, 64, 3)) + \
        op(MARK, flags(U), va(0, 0, 32, 0), mib2(1), 0x66) + \
        op(MOVE, flags(U, inj=1, nth=1), va(0, 0, 32, 1), pages(2), dist(MIB2_UNIT, 8)) + \
        op(MOVE, flags(U), va(0, 0, 32, 1), pages(2), dist(MIB2_UNIT, 8)) + \
        op(MARK, flags(U), va(0, 0, 29, 0), mib2(1), 0x77) + \
        op(MOVE, flags(U), va(0, 0, 29, 0), mib2(1), dist(MIB2_UNIT, 100)) + \
        op(MARK, flags(U), va(0, 0, 37, 0), mib2(1), 0x88) + \
        op(MAP, flags(U), va(0, 0, 37, 0), mib2(1), pa_2m(1), prop()) + \
        op(WALK, flags(U), va(0, 0, 0, 0), TO_END, 0) + \
        op(MARK, flags(K), va(2, 3, 511, 0), mib2(1), 0x44) + \
        op(WALK, flags(UK), va(2, 3, 511, 0, kernel=True), mib2(1), 0) + \
        op(UNMAP, flags(K), va(2, 3, 511, 3), pages(1)) + \
        op(UNMAP, flags(U), va(0, 0, 0, 0), TO_END)


def splits(fmt, fu=0, fk=0):
    """pt_split: a 1G leaf to 2M, then to 4K across two 2M pieces from a
    stash of 1 (runs dry), again from a stash of 3 (goes on), from the phys
    under fault injection, in K up to 2^64, then a copy of a range that
    cut a huge leaf before the split."""
    return cfg(fmt, fu, fk, base=0x10) + \
        op(MAP, flags(U), va(0, 1, 0, 0), gib(1), pa_1g(1), prop(R | W | A | D)) + \
        op(SPLIT, flags(U), va(0, 1, 5, 3), pages(1), TO_2M) + \
        op(SPLIT, flags(U), va(0, 1, 8, 510), pages(4), STASH | 1 << 2) + \
        op(SPLIT, flags(U), va(0, 1, 8, 510), pages(4), STASH | 3 << 2) + \
        op(SPLIT, flags(U, inj=1, nth=1), va(0, 1, 16, 3), pages(1), 0) + \
        op(SPLIT, flags(U), va(0, 1, 16, 3), pages(1), 0) + \
        op(COPY, flags(U), va(0, 1, 16, 0), pages(8), NEXT | COW) + \
        op(MAP, flags(K), va(2, 3, 510, 0), TO_END, pa_2m(1), prop(R | W | G)) + \
        op(SPLIT, flags(K), va(2, 3, 511, 509), TO_END, 0) + \
        op(SPLIT, flags(U, bad=True), va(0, 0, 0, 0), pages(1), 0, 0) + \
        op(UNMAP, flags(U), va(0, 1, 0, 0), TO_END)
def cursor_vm(fmt, fu=0, fk=0):
    """The cursor forms: under one cursor, a marker read and mapped over
    (a swap-in), markers made over markers and next to them, one over a
    mapping (PT_EEXIST), dirty pages harvested window by window with and
    without clearing, into a batch, to the end; then in a fresh range a
    mark under fault injection and the invalid arguments."""
    return cfg(fmt, fu, fk, base=0x10) + \
        op(MAP, flags(U), va(0, 0, 0, 3), pages(4), pa_page(), prop(R | W | A | D)) + \
        op(MARK, flags(U), va(0, 0, 0, 0), pages(2), 0x21) + \
        op(COPEN, flags(U), va(0, 0, 0, 0), mib2(1)) + \
        op(CQMARK, flags(U)) + \
        op(CMAP, flags(U), 0x00, 9, prop(R | W)) + \
        op(CQMARK, flags(U)) + \
        op(CMARK, flags(U), 0x42, 1) + \
        op(CMARK, flags(U), 0x43, 0) + \
        op(CHARV, flags(U, batch=True), win_pages(6), H_D | H_CLEAR) + \
        op(CHARV, flags(U), WIN_ALL, H_A | H_D) + \
        op(CQMARK, flags(U)) + \
        op(CCLOSE, flags(U)) + \
        op(FINISH, flags(U)) + \
        op(COPEN, flags(U), va(0, 1, 0, 0), mib2(1)) + \
        op(CMARK, flags(U, inj=1, nth=1), 0x46, 2) + \
        op(CMARK, flags(U, bad=True), 0x47, 0, 2) + \
        op(CHARV, flags(U, bad=True), win_pages(1), H_D, 1) + \
        op(CMARK, flags(U), 0x48, 15) + \
        op(CCLOSE, flags(U)) + \
        op(UNMAP, flags(U), va(0, 0, 0, 0), TO_END)


def move_tour(fmt, fu=0, fk=0):
    """pt_move: a 2M leaf and a leaf table of tracked frames moved as
    they are (the leaf table as the same node), the 2M leaf re-cut into
    4K pieces at a 4K distance, a 1G leaf split at the source, a batch,
    fault injection, PT_EEXIST and an overlap, the kernel half (among K's
    pinned nodes where it is shared), UK's view of it (PT_EPERM), then
    everything unmapped."""
    return cfg(fmt, fu, fk) + \
        op(MAP, flags(U), va(0, 0, 8, 0), mib2(1), pa_2m(0), prop(R | W)) + \
        op(MAPF, flags(U), va(0, 0, 13, 3), 5, 0x21, prop(R | W | US)) + \
        op(MAP, flags(U), va(0, 1, 0, 0), gib(1), pa_1g(2), prop(R | X)) + \
        op(MOVE, flags(U), va(0, 0, 8, 0), mib2(6), dist(GIB_UNIT, 1)) + \
        op(MOVE, flags(U), va(0, 0, 8, 0), mib2(6), dist(GIB_UNIT, 2)) + \
        op(MOVE, flags(U), va(0, 2, 8, 0), mib2(6), to_va(0, 3, 0, 5)) + \
        op(MOVE, flags(U), va(0, 1, 0, 5), mib2(1), to_va(0, 0, 128, 1)) + \
        op(MOVE, flags(U, batch=True), va(0, 3, 0, 0), mib2(3), dist(MIB2_UNIT, 50)) + \
        op(MOVE, flags(U, inj=1, nth=2), va(0, 1, 8, 0), mib2(2), to_va(0, 0, 256, 3)) + \
        op(MOVE, flags(U, bad=True), va(0, 1, 16, 0), mib2(2), dist(PAGE_UNIT, 3), 0) + \
        op(WALK, flags(U), va(0, 0, 0, 0), TO_END, 0) + \
        op(MAP, flags(K), va(1, 0, 0, 0), mib2(4), pa_2m(4), prop(R | W | G)) + \
        op(MOVE, flags(K), va(1, 0, 0, 0), mib2(4), dist(GIB_UNIT, 1)) + \
        op(MOVE, flags(UK), va(1, 1, 0, 0, kernel=True), mib2(4), dist(GIB_UNIT, 1, True)) + \
        op(FINISH_ALL, flags(U)) + \
        op(UNMAP, flags(U), va(0, 0, 0, 0), TO_END) + \
        op(UNMAP, flags(K), va(1, 0, 0, 0), TO_END)


SEEDS["20-x86-pat-wc"] = cfg(X86, WC_OR_PBMT_OR_BBM2, WC_OR_PBMT_OR_BBM2) + \
    op(MAP, flags(U), va(0, 0, 0, 0), gib(1, 2), pa_1g(1), prop(R | W, 14)) + \
    op(MAP, flags(U), va(0, 2, 0, 0), gib(1), pa_1g(2), prop(R, 7)) + \
    op(PROTECT, flags(U), va(0, 2, 5, 3), pages(1), setclr(X, 0)) + \
    op(PROTECT, flags(U), va(0, 0, 1, 3), pages(2), setclr(0, W)) + \
    op(MAP, flags(K), va(0, 0, 0, 0), mib2(2), pa_2m(1), prop(R | G, 14))
SEEDS["21-x86-tour"] = tour(X86, WC_OR_PBMT_OR_BBM2)
SEEDS["22-la57-tour"] = tour(LA57, 0, WC_OR_PBMT_OR_BBM2)
SEEDS["23-la57-roots"] = roots(LA57)
SEEDS["24-sv39-tour"] = tour(SV39)
SEEDS["25-sv39-new-maps"] = new_maps(SV39, 0, WC_OR_PBMT_OR_BBM2)
SEEDS["26-sv39-svvptc-roots"] = roots(SV39, SVVPTC, SVVPTC | WC_OR_PBMT_OR_BBM2)
SEEDS["27-sv48-tour"] = tour(SV48, WC_OR_PBMT_OR_BBM2 | SVVPTC, WC_OR_PBMT_OR_BBM2)
SEEDS["28-sv48-new-maps"] = new_maps(SV48, WC_OR_PBMT_OR_BBM2)
SEEDS["29-sv39-bbm-none"] = bbm(SV39, WC_OR_PBMT_OR_BBM2)
SEEDS["30-a64-tour"] = tour(A64)
SEEDS["31-a64-bbm"] = bbm(A64)
SEEDS["32-a64-bbm2"] = bbm(A64, WC_OR_PBMT_OR_BBM2, WC_OR_PBMT_OR_BBM2)
SEEDS["33-a64-roots"] = roots(A64)
SEEDS["34-a64-new-maps"] = new_maps(A64, 0, WC_OR_PBMT_OR_BBM2)
SEEDS["35-x86-bbm-none"] = bbm(X86)
SEEDS["37-x86-copy"] = copy(X86)
SEEDS["38-sv39-copy"] = copy(SV39)
SEEDS["39-a64-copy"] = copy(A64)
SEEDS["40-la57-copy-pat-wc"] = copy(LA57, WC_OR_PBMT_OR_BBM2, WC_OR_PBMT_OR_BBM2)
SEEDS["41-sv48-copy-svvptc"] = copy(SV48, SVVPTC, SVVPTC)
SEEDS["42-x86-harvest"] = harvest(X86)
SEEDS["43-sv39-harvest"] = harvest(SV39)
SEEDS["44-a64-harvest"] = harvest(A64)
SEEDS["45-sv48-harvest-svvptc"] = harvest(SV48, SVVPTC, SVVPTC)
SEEDS["46-x86-markers"] = markers(X86)
SEEDS["47-sv39-markers"] = markers(SV39)
SEEDS["48-a64-markers"] = markers(A64)
SEEDS["49-la57-markers"] = markers(LA57)
SEEDS["50-x86-split"] = splits(X86)
SEEDS["51-sv39-split"] = splits(SV39)
SEEDS["52-a64-split"] = splits(A64)
SEEDS["53-a64-split-bbm2"] = splits(A64, WC_OR_PBMT_OR_BBM2, WC_OR_PBMT_OR_BBM2)
SEEDS["54-sv48-split"] = splits(SV48)
SEEDS["55-x86-move"] = move_tour(X86)
SEEDS["56-la57-move"] = move_tour(LA57)
SEEDS["57-sv39-move"] = move_tour(SV39, 0, WC_OR_PBMT_OR_BBM2)
SEEDS["58-sv48-move"] = move_tour(SV48, SVVPTC)
SEEDS["59-a64-move"] = move_tour(A64)
SEEDS["60-a64-bbm2-move"] = move_tour(A64, WC_OR_PBMT_OR_BBM2, WC_OR_PBMT_OR_BBM2)
SEEDS["61-x86-cursor-vm"] = cursor_vm(X86)
SEEDS["62-la57-cursor-vm"] = cursor_vm(LA57)
SEEDS["63-sv39-cursor-vm"] = cursor_vm(SV39)
SEEDS["64-sv48-cursor-vm-svvptc"] = cursor_vm(SV48, SVVPTC, SVVPTC)
SEEDS["65-a64-cursor-vm"] = cursor_vm(A64)
# Stage 2 (one guest-physical space): the same programs, K's "kernel" cases
# in the same space (its start, the root boundary, its top).
SEEDS["66-sv39x4-tour"] = tour(SV39X4, WC_OR_PBMT_OR_BBM2)
SEEDS["67-sv48x4-roots"] = roots(SV48X4, 0, SVVPTC)
SEEDS["68-a64s2-bbm"] = bbm(A64S2)
SEEDS["69-a64s2-roots"] = roots(A64S2, WC_OR_PBMT_OR_BBM2)
SEEDS["70-ept-tour"] = tour(EPT)
SEEDS["71-ept-ad-harvest"] = harvest(EPT, EPT_AD, EPT_AD)
SEEDS["72-ept5-roots"] = roots(EPT5, EPT_AD)
SEEDS["73-ept5-move"] = move_tour(EPT5)
SEEDS["74-sv39x4-new-maps"] = new_maps(SV39X4)
SEEDS["75-sv48x4-cursor-vm"] = cursor_vm(SV48X4, WC_OR_PBMT_OR_BBM2, WC_OR_PBMT_OR_BBM2)
SEEDS["76-a64s2-split"] = splits(A64S2)
SEEDS["77-ept-ad-copy"] = copy(EPT, EPT_AD, EPT_AD)
SEEDS["78-a64s2-markers"] = markers(A64S2)
SEEDS["80-a64s2-fwb-new-maps"] = new_maps(A64S2, S2FWB, S2FWB | WC_OR_PBMT_OR_BBM2)
SEEDS["81-a64s2-fwb-tour"] = tour(A64S2, 0, S2FWB)
SEEDS["79-ept-create-enomem"] = cfg(EPT, EPT_AD, EPT_AD, base=0x40) + [0x01, 0x00, 0x01] + \
    op(MAP, flags(K), va(2, 1, 511, 511), pages(1), pa_page(), prop(R | W | A | D)) + \
    op(QUERY, flags(K), va(0, 0, 0, 0, other=True), 0) + \
    op(RECREATE_UK, flags(UK, inj=1, nth=1)) + \
    op(MAPF, flags(UK), va(0, 0, 0, 0), 2, 0x11, prop(X)) + \
    op(NULL_ARGS, flags(K))
# Markers at every leaf size: a mark from a 2M boundary is one 2M entry.
SEEDS["82-x86-huge-markers"] = huge_markers(X86)
SEEDS["83-sv39-huge-markers"] = huge_markers(SV39)
SEEDS["84-a64-huge-markers"] = huge_markers(A64)
SEEDS["85-sv48-huge-markers-svvptc"] = huge_markers(SV48, SVVPTC, SVVPTC)
SEEDS["36-a64-create-enomem"] = cfg(A64, 0, 0, base=0x40) + [0x01, 0x02, 0x01] + \
    op(MAP, flags(K), va(0, 0, 0, 0), pages(1), pa_page(), prop()) + \
    op(QUERY, flags(UK), va(0, 0, 0, 0, kernel=True), 0) + \
    op(RECREATE_UK, flags(UK, inj=1, nth=1)) + \
    op(MAPF, flags(UK), va(0, 0, 0, 0), 2, 0x11, prop(R | US)) + \
    op(NULL_ARGS, flags(K))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes(data))
    print(f"{len(SEEDS)} seeds in {out}")


if __name__ == "__main__":
    main()
