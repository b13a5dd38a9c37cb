/* SPDX-License-Identifier: MPL-2.0 */
/*
 * walk_template.h - what every walk over one format's tree shares: the
 * entries of a node that a range touches, reading a leaf back as a
 * mapping, the lock-free lookup of one address, and the kernel root slots
 * that are never detached.  Used by the cursor, the table operations and
 * the checker; per format like entry_template.h.
 */
#ifndef PTKIT_SRC_WALK_TEMPLATE_H
#define PTKIT_SRC_WALK_TEMPLATE_H

#include "nodes/entry_template.h"

/*
 * The entries of a node at `level` that [va, last] touches, one at a time:
 * entry i spans [base, base + size - 1], of which [lo, hi] is in range
 * (`whole` when that is all of it).  The node maps [node_base, ...).
 */
struct entry_iter {
	unsigned i, end, level;
	uint64_t node_base, base, lo, hi;
	bool whole;
};

static inline void entry_iter_set(struct entry_iter *it, uint64_t va, uint64_t last)
{
	uint64_t size = pt_level_size(it->level);

	it->base = it->node_base + (uint64_t)it->i * size;
	it->lo = pt_max_u64(va, it->base);
	it->hi = pt_min_u64(last, it->base + (size - 1));
	it->whole = it->lo == it->base && it->hi == it->base + (size - 1);
}

#define for_each_entry_in(it, va, last, lvl)                                      \
	for ((it).level = (lvl), (it).node_base = (va) & ~node_span_mask(lvl),      \
	     (it).i = entry_index((va), (lvl)), (it).end = entry_index((last), (lvl)); \
	     (it).i <= (it).end && (entry_iter_set(&(it), (va), (last)), true); (it).i++)

/*
 * The last entry of a run starting at it->i that a walk may treat alike:
 * every entry the range touches before its last one is whole (it.i may be
 * partial only if it is the first), so for a range that starts on an
 * entry boundary the run is [it->i, it->end - 1]; the last entry, maybe
 * partial, is a run of its own.
 */
static inline unsigned entry_iter_run_end(const struct entry_iter *it)
{
	return it->i < it->end ? it->end - 1 : it->i;
}

/* The kernel half's root slots hold the nodes user tables share: never
 * detached, never replaced by a leaf (design §5).  Formats with one root
 * per half (AArch64) share nothing. */
static inline bool slot_pinned(const struct pt_tree *t, unsigned level)
{
	return FMT_SHARED_KERNEL_ROOT && level == FMT_LEVELS && t->space == PT_SPACE_KERNEL;
}

static void mapping_of_leaf(pt_pte_t pte, unsigned level, uint64_t base, uint32_t features,
			    struct pt_mapping *out)
{
	*out = (struct pt_mapping){
		.va = base,
		.pa = fmt_pte_leaf_pa(pte, level),
		.size = pt_level_size(level),
		.prop = fmt_pte_leaf_prop(pte, level, features),
		.tracked = fmt_pte_tracked(pte),
	};
}

/* The leaf containing va below node n, or PT_ENOENT (no lock needed: the
 * caller is in an RCU read section or holds the lock). */
static int lookup_leaf(const struct pt_tree *t, struct pt_node n, unsigned level, uint64_t va,
		       struct pt_mapping *out)
{
	uintptr_t linear_offset = t->phys->linear_offset; /* read once, as lock_deepest */
	const pt_slot_t *ptes = n.ptes;

	/* Unrolled from the root (the query's start): each level's index and
	 * tests are constants.  A node is the common answer: tested first. */
#pragma GCC unroll 8
	for (; level >= 1; level--) {
		pt_pte_t pte = atomic_load_explicit(&ptes[entry_index(va, level)], memory_order_acquire);
		if (entry_is_node(pte, level)) {
			ptes = pt_va_at(linear_offset, fmt_pte_table_pa(pte));
			continue;
		}
		if (!fmt_pte_present(pte))
			return PT_ENOENT;
		/* A 4 KiB leaf, the common answer, decodes with constants. */
		if (level == 1)
			mapping_of_leaf(pte, 1, pt_entry_base(va, 1), t->features, out);
		else
			mapping_of_leaf(pte, level, pt_entry_base(va, level), t->features, out);
		return 0;
	}
	PT_ASSERT(false); /* level 1 holds only leaves */
	return PT_ENOENT;
}

#endif
