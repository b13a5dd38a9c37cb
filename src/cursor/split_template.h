/* SPDX-License-Identifier: MPL-2.0 */
/*
 * split_template.h - pt_split's walk (issue #13): every leaf of a locked
 * range larger than a target size split, one level at a time, into leaves
 * of that size; the view unchanged.  Per format, like cursor_template.h:
 * include a format header first.
 *
 * The nodes come from a caller's stash (struct pt_reserve: no allocation,
 * progress kept when it runs dry, as KVM's eager split with a memory
 * cache) or, without one, are counted first and reserved, so running out
 * changes nothing.  Each split is entry_split_huge, as for unmap and
 * protect: break-before-make on AArch64, late accessed/dirty bits into
 * every piece on a live table.  Markers are left as they are, huge or not:
 * they are not mappings, and an operation that changes part of a huge
 * marker splits it then (a node taken where it may allocate).
 */
#ifndef PTKIT_SRC_SPLIT_TEMPLATE_H
#define PTKIT_SRC_SPLIT_TEMPLATE_H

#ifndef FMT_LEVELS
#error "include a format header (src/formats/<fmt>.h) before split_template.h"
#endif

#include "cursor/cursor_template.h"

struct split {
	const struct pt_tree *t;
	unsigned to;                 /* leaves above this level are split */
	struct pt_prealloc *nodes;   /* where new nodes come from */
	struct pt_flush *flush;
};

/* Nodes that splitting a leaf at `level` down to `to` takes for [lo, hi]:
 * one, and one per piece that still overlaps and is too large. */
static uint64_t split_leaf_cost(unsigned to, unsigned level, uint64_t lo, uint64_t hi)
{
	uint64_t need = 1;
	struct entry_iter it;

	if (level - 1 <= to)
		return 1;
	for_each_entry_in(it, lo, hi, level - 1)
		need += split_leaf_cost(to, level - 1, it.lo, it.hi);
	return need;
}

/* Nodes a split of [va, last] below n (at `level`) takes. */
static uint64_t split_count(const struct split *s, struct pt_node n, unsigned level, uint64_t va,
			    uint64_t last)
{
	struct entry_iter it;
	uint64_t need = 0;

	if (level <= s->to || n.meta->nr_children == 0)
		return 0; /* leaves here, and below, are small enough */
	for_each_entry_in(it, va, last, level) {
		pt_pte_t pte = pt_pte_load(n, it.i);
		if (!fmt_pte_present(pte))
			continue;
		if (fmt_pte_is_leaf(pte, level))
			need += split_leaf_cost(s->to, level, it.lo, it.hi);
		else
			need += split_count(s, entry_child_node(s->t->phys, pte), level - 1, it.lo,
					    it.hi);
	}
	return need;
}

/* Splits in address order, each leaf before its pieces: PT_ENOMEM where
 * the nodes run out, with every split before it done. */
static int split_walk(struct split *s, struct pt_node n, unsigned level, uint64_t va,
		      uint64_t last)
{
	struct entry_iter it;

	if (level <= s->to || n.meta->nr_children == 0)
		return 0;
	for_each_entry_in(it, va, last, level) {
		pt_pte_t pte = pt_pte_load(n, it.i);
		struct pt_node child;
		if (!fmt_pte_present(pte))
			continue;
		if (fmt_pte_is_leaf(pte, level)) {
			if (s->nodes->count == 0)
				return PT_ENOMEM;
			child = entry_split_huge(s->t, n, it.i, it.base, s->nodes);
			/* A cached huge entry would hide the pieces (their D). */
			pt__flush_add_range(s->flush, it.base, pt_level_size(level));
		} else {
			child = entry_child_node(s->t->phys, pte);
		}
		int err = split_walk(s, child, level - 1, it.lo, it.hi);
		if (err)
			return err;
	}
	return 0;
}

/* pt_split over [c->va, last] of a locked cursor, down to level `to`,
 * with nodes from r (a caller's stash) or reserved first (r NULL). */
static __attribute__((noinline)) int cursor_split(struct pt_cursor_state *c, uint64_t last,
						  unsigned to, struct pt_reserve *r,
						  struct pt_flush *flush)
{
	struct pt_prealloc nodes = { r && r->count ? r->head : PT_NO_FRAME, r ? r->count : 0 };
	struct split s = { .t = c->tree, .to = to, .nodes = &nodes, .flush = flush };
	int err;

	if (!r) {
		uint64_t need = split_count(&s, cursor_node(c), c->node_level, c->va, last);
		if (need && (err = pt__reserve(c->tree->phys, &nodes, need)))
			return err;
	}
	err = split_walk(&s, cursor_node(c), c->node_level, c->va, last);
	if (r)
		*r = (struct pt_reserve){ nodes.count ? nodes.head : 0, nodes.count };
	PT_ASSERT(r || (err == 0 && nodes.count == 0));
	return err;
}

#endif
