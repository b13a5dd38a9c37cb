#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""gen_corpus.py - writes the seed corpus of fuzz_ops (tests/fuzz/corpus/).

   python3 tests/fuzz/gen_corpus.py [OUTDIR]

Each seed is a short, meaningful program in fuzz_ops' input encoding, so the
fuzzer starts from inputs that reach every operation instead of finding
them byte by byte.  The encoding (fuzz_ops.c decodes it; keep both in step):

  input  = cfg op*                 at most 64 ops; missing bytes read as 0
  cfg    = bits 0-1 U's max_leaf_level (0: format's, 1: 2, 2: 1), bits 2-3
           the same for K (UK inherits K's), bit 4 U live, bit 5 K live,
           bit 6: each table is first created with one allocation failing;
           then three bytes (U, K, UK) pick which (U, UK: 1 + (b & 1) and
           1 + (b >> 1 & 1); K: 1 + b)
  op     = kind flags args...
  kind   % 16: 0,1 map  2 map_frames  3 unmap  4 protect  5 query  6 walk
           7 cursor_open  8 cursor_close  9 find_next  10 jump  11 take_next
           12 protect_next  13 cursor_map (kind & 0x10: cursor_query)
           14 flush_finish(table)  15 flush_finish all (kind & 0x10:
           destroy K while UK lives, PT_EBUSY; kind & 0x30 == 0x20: NULL
           and out-of-range arguments, PT_EINVAL)
           Cursor kinds (9-13) read no argument when no cursor is open.
  flags  = bits 0-1 table (0 U, 1 K, 2 UK, 3 U), bit 2 fault injection,
           bits 3-4 which allocation fails (1-4), bit 5 use the table's
           batch, bit 6 one invalid argument (one more byte picks which)
"""
import os
import sys

U, K, UK = 0, 1, 2
INJ, BATCH, BAD = 0x04, 0x20, 0x40
R, W, X, US, G, A, D = 1, 2, 4, 8, 16, 32, 64
HOT = [0, 1, 2, 3, 508, 509, 510, 511]
MAP, MAPF, UNMAP, PROTECT, QUERY, WALK, COPEN, CCLOSE = 0, 2, 3, 4, 5, 6, 7, 8
FIND, JUMP, TAKE, PNEXT, CMAP, FINISH, FINISH_ALL = range(9, 16)
CQUERY, DESTROY_K, NULL_ARGS = CMAP | 0x10, FINISH_ALL | 0x10, FINISH_ALL | 0x20


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
    """win 0: start of the half, 1: across 512 GiB, 2: top.  other: the half
    U or K lacks (PT_ERANGE); kernel: UK's kernel half."""
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
    op(MAP, flags(K), va(0, 2, 0, 0), pages(3), pa_page(), prop()) + \
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
