/* SPDX-License-Identifier: MPL-2.0 */
/*
 * harvest_template.h - pt_harvest's walk (issue #13): accessed and dirty
 * bits of every leaf in a locked range into a bitmap of 4 KiB pages, and
 * cleared where asked.  Per format, like cursor_template.h: include a
 * format header first.
 *
 * What a leaf reports is what its PTE holds (fmt_pte_ad_bits); a format
 * with no dirty bit (AArch64 without DBM) reports every writable leaf
 * dirty, since the hardware may have written it unseen.  A clear takes
 * away only the bits the format's normalization lets a leaf lack (RISC-V
 * without Svadu and AArch64 keep theirs: the hardware would fault instead
 * of setting them), with an atomic AND on a live table so that a bit the
 * MMU sets meanwhile is reported, not lost.  Every leaf whose bits were
 * cleared goes into the flush: a TLB entry that still says dirty would let
 * the next write skip setting D (x86 and RISC-V need that invalidation for
 * D; for A only AArch64 does, but ptkit invalidates both).
 */
#ifndef PTKIT_SRC_HARVEST_TEMPLATE_H
#define PTKIT_SRC_HARVEST_TEMPLATE_H

#ifndef FMT_LEVELS
#error "include a format header (src/formats/<fmt>.h) before harvest_template.h"
#endif

#include "cursor/cursor_template.h"

struct harvest {
	const struct pt_tree *t;
	uint32_t ask;             /* PT_A and/or PT_D */
	bool clear;
	uint64_t first;           /* va of bitmap bit 0 */
	uint64_t *bitmap;         /* zeroed by the caller */
	struct pt_flush *flush;
	/* The last leaf kind harvest_clearable answered for (its level and
	 * property) and the answer: neighbouring leaves are mostly alike. */
	unsigned memo_level;      /* 0: none yet */
	struct pt_prop memo_prop;
	pt_pte_t memo_bits;
};

/* PT_A / PT_D as the leaf reports them. */
static inline uint32_t harvest_flags(const struct harvest *h, pt_pte_t pte, unsigned level)
{
	uint32_t f = (pte & fmt_pte_ad_bits(PT_A) ? PT_A : 0) |
		     (pte & fmt_pte_ad_bits(PT_D) ? PT_D : 0);

	if (fmt_pte_ad_bits(PT_D) == 0 && (fmt_pte_leaf_prop(pte, level, h->t->features).flags & PT_W))
		f |= PT_D; /* no dirty bit: writable may mean written */
	return f;
}

/* Sets bits [from, from + n) of the bitmap. */
static void bitmap_set_run(uint64_t *bm, uint64_t from, uint64_t n)
{
	while (n) {
		unsigned bit = (unsigned)(from % 64);
		uint64_t k = pt_min_u64(n, 64 - bit);
		bm[from / 64] |= (k == 64 ? ~UINT64_C(0) : ((UINT64_C(1) << k) - 1)) << bit;
		from += k;
		n -= k;
	}
}

/* The asked bits a leaf may lack after normalization: what a clear takes.
 * A function of the leaf's level and property alone (the A/D bits of an
 * encoding do not depend on its pa or trackedness), so it is remembered
 * for the next leaf of the same kind. */
static pt_pte_t harvest_clearable(struct harvest *h, pt_pte_t pte, unsigned level)
{
	struct pt_prop p = fmt_pte_leaf_prop(pte, level, h->t->features), n;

	if (level == h->memo_level && p.flags == h->memo_prop.flags &&
	    p.cache == h->memo_prop.cache)
		return h->memo_bits;
	n = p;
	n.flags &= ~h->ask;
	int err = fmt_prop_normalize(n, h->t->features, &n);
	PT_ASSERT(err == 0); /* fewer A/D bits stay expressible */
	(void)err;
	h->memo_level = level;
	h->memo_prop = p;
	h->memo_bits = fmt_pte_ad_bits(h->ask) &
		       ~fmt_pte_leaf(fmt_pte_leaf_pa(pte, level), level, n, fmt_pte_tracked(pte),
				     h->t->features);
	return h->memo_bits;
}

/* Clears what it may of a whole leaf `pte` read; returns the leaf as it
 * was just before the clear (with every bit the MMU set until then).  A
 * leaf read without them is left alone: a bit the MMU sets after the read
 * stays for the next harvest. */
static pt_pte_t harvest_clear(struct harvest *h, struct pt_node n, unsigned idx,
			      unsigned level, uint64_t va, pt_pte_t pte)
{
	pt_pte_t bits = pte & fmt_pte_ad_bits(h->ask) ? harvest_clearable(h, pte, level) : 0;

	if (!(pte & bits))
		return pte;
	if (h->t->live)
		pte = atomic_fetch_and_explicit(&n.ptes[idx], ~bits, memory_order_relaxed);
	else
		entry_store(n, idx, pte & ~bits);
	pt__flush_add_range(h->flush, va, pt_level_size(level));
	return pte;
}

/* One leaf: cleared if wholly inside (a huge leaf cut by the range keeps
 * its bits: the pages outside are not the caller's), reported for [lo, hi]. */
static void harvest_leaf(struct harvest *h, struct pt_node n, const struct entry_iter *it,
			 pt_pte_t pte)
{
	if (h->clear && it->whole)
		pte = harvest_clear(h, n, it->i, it->level, it->base, pte);
	if (harvest_flags(h, pte, it->level) & h->ask)
		bitmap_set_run(h->bitmap, (it->lo - h->first) >> PT_PAGE_SHIFT,
			       ((it->hi - it->lo) >> PT_PAGE_SHIFT) + 1);
}

/* A leaf table's pages in [va, last]: one bit each (the hot loop). */
static void harvest_leaf_table(struct harvest *h, struct pt_node n, uint64_t va, uint64_t last)
{
	unsigned i0 = entry_index(va, 1), i1 = entry_index(last, 1);
	uint64_t bit = (va - h->first) >> PT_PAGE_SHIFT;

	for (unsigned i = i0; i <= i1; i++, bit++) {
		pt_pte_t pte = pt_pte_load(n, i);
		if (!fmt_pte_present(pte))
			continue;
		if (h->clear)
			pte = harvest_clear(h, n, i, 1, h->first + (bit << PT_PAGE_SHIFT), pte);
		if (harvest_flags(h, pte, 1) & h->ask)
			h->bitmap[bit / 64] |= UINT64_C(1) << (bit % 64);
	}
}

static void harvest_walk(struct harvest *h, struct pt_node n, unsigned level, uint64_t va,
			 uint64_t last)
{
	struct entry_iter it;

	if (n.meta->nr_children == 0)
		return;
	if (level == 1) {
		harvest_leaf_table(h, n, va, last);
		return;
	}
	for_each_entry_in(it, va, last, level) {
		pt_pte_t pte = pt_pte_load(n, it.i);
		if (!fmt_pte_present(pte))
			continue;
		if (fmt_pte_is_leaf(pte, level))
			harvest_leaf(h, n, &it, pte);
		else
			harvest_walk(h, entry_child_node(h->t->phys, pte), level - 1, it.lo, it.hi);
	}
}

/* pt_harvest over [c->va, last] of a locked cursor; the bitmap starts at
 * c->va and is zeroed.  Out of line: the caller's frame holds a batch. */
static __attribute__((noinline)) void cursor_harvest(struct pt_cursor_state *c, uint64_t last,
						     uint32_t ask, bool clear, uint64_t *bitmap,
						     struct pt_flush *flush)
{
	struct harvest h = { .t = c->tree, .ask = ask, .clear = clear, .first = c->va,
			     .bitmap = bitmap, .flush = flush };

	harvest_walk(&h, cursor_node(c), c->node_level, c->va, last);
}

#endif
