/* SPDX-License-Identifier: MPL-2.0 */
/*
 * copy_template.h - pt_copy's walk (issue #13): every leaf and marker of a
 * range of one table copied into the same range of another, whole and at
 * its size (a marker replacing one of the destination's, as pt_map does),
 * in one prepare pass and one commit pass over the two locked ranges.  Per
 * format, like cursor_template.h: include a format header first.
 *
 * The source's nodes are what the walk follows; the destination's nodes
 * along the way are reused where they exist and made, lazily, where the
 * source has something to copy below them (never for an empty subtree of
 * the source), so the prepare pass can count exactly the nodes the commit
 * takes.  A destination slot that must take a huge leaf but holds an empty
 * subtree gives it up, as pt_map does.
 *
 * Huge markers: one wholly in the range is copied at its size, as a leaf
 * is; of one the range cuts (at its ends), only the pages in range are
 * copied, walked as a node of its pieces that is not made (the source
 * stays as it is: struct pt_node with no slots, marker_node()).  A
 * destination node made under a huge marker holds its pieces
 * (entry_fill_marker), so what the source does not cover stays marked.
 */
#ifndef PTKIT_SRC_COPY_TEMPLATE_H
#define PTKIT_SRC_COPY_TEMPLATE_H

#ifndef FMT_LEVELS
#error "include a format header (src/formats/<fmt>.h) before copy_template.h"
#endif

#include "cursor/cursor_template.h"

struct copy {
	const struct pt_tree *dst, *src;
	bool cow;                   /* write permission goes, in both tables */
	struct pt_flush *dflush;    /* dst: replaced empty nodes, new mappings */
	struct pt_flush *sflush;    /* src: leaves made read-only */
	struct pt_prealloc reserve; /* dst's new nodes */
};

/*
 * A destination node that may not exist yet: made from the reservation the
 * first time something is written into it (after its parent), published by
 * the walk once its subtree is complete.
 */
struct lazy_node {
	uint64_t pa;             /* valid once `made` */
	struct lazy_node *up;    /* the parent */
	uint16_t idx;            /* its slot in the parent */
	uint8_t level;
	bool made, fresh;        /* fresh: made by this walk, not yet published */
};

static inline struct pt_node lazy_node_at(const struct copy *w, const struct lazy_node *d)
{
	return pt_node_at(w->dst->phys, d->pa);
}

static struct pt_node lazy_node_get(struct copy *w, struct lazy_node *d);

/* Makes d (and its parents): holding the pieces of a huge marker in its
 * slot, if any.  Out of line: lazy_node_get is called per leaf. */
static __attribute__((noinline)) void lazy_node_make(struct copy *w, struct lazy_node *d)
{
	struct pt_node up = lazy_node_get(w, d->up);
	struct pt_node n = pt_node_new(w->dst->phys, &w->reserve, d->level);

	entry_fill_marker(n, pt_pte_load(up, d->idx));
	d->pa = n.pa;
	d->made = d->fresh = true;
}

static struct pt_node lazy_node_get(struct copy *w, struct lazy_node *d)
{
	if (!d->made)
		lazy_node_make(w, d);
	return lazy_node_at(w, d);
}

/* A source "node" that is the pieces of a huge marker (not made: each
 * slot reads as the marker, copy_src_pte). */
static inline struct pt_node marker_node(pt_pte_t marker)
{
	return (struct pt_node){ .pa = marker };
}

static inline pt_pte_t copy_src_pte(struct pt_node s, unsigned idx)
{
	return s.ptes ? pt_pte_load(s, idx) : s.pa;
}

/* The source node below an entry that is a node or a cut huge marker. */
static inline struct pt_node copy_src_child(const struct copy *w, pt_pte_t pte, unsigned level)
{
	PT_ASSERT(entry_is_node(pte, level) || entry_is_marker(pte)); /* no cut leaf */
	return entry_is_node(pte, level) ? entry_child_node(w->src->phys, pte) : marker_node(pte);
}

/* A fresh node goes into its (made) parent: complete, so one store. */
static void lazy_node_publish(const struct copy *w, struct lazy_node *d)
{
	if (d->fresh)
		entry_publish_new(lazy_node_at(w, d->up), d->idx, lazy_node_at(w, d),
				  w->dst->features);
}

/* The destination's child at slot idx of d, existing or still to make. */
static struct lazy_node lazy_child(const struct copy *w, struct lazy_node *d, unsigned idx)
{
	struct lazy_node c = { .up = d, .idx = (uint16_t)idx, .level = (uint8_t)(d->level - 1) };

	if (d->made) {
		pt_pte_t pte = pt_pte_load(lazy_node_at(w, d), idx);
		if (entry_is_node(pte, d->level)) {
			c.pa = fmt_pte_table_pa(pte);
			c.made = true;
		}
	}
	return c;
}

/* The source node of `level` on va's path below n (at `from`): a huge
 * marker above it stands for it (marker_node); false where the path ends
 * above it otherwise (an absent entry, or a leaf). */
static bool node_on_path(const struct pt_tree *t, struct pt_node n, unsigned from,
			 unsigned level, uint64_t va, struct pt_node *out)
{
	for (; from > level; from--) {
		pt_pte_t pte = pt_pte_load(n, entry_index(va, from));
		if (entry_is_node(pte, from)) {
			n = entry_child_node(t->phys, pte);
			continue;
		}
		if (!entry_is_marker(pte))
			return false;
		n = marker_node(pte);
		break;
	}
	*out = n;
	return true;
}

/* ---- prepare ---- */

/*
 * Whether src holds a mapping or a marker in [va, last] below s (at
 * `level`); adds to *need the destination nodes that copying it takes,
 * given the destination's node there (d, or NULL where it has none).
 * Nodes without present entries are read too: markers do not count.
 */
static bool copy_count(const struct copy *w, struct pt_node s, const struct pt_node *d,
		       unsigned level, uint64_t va, uint64_t last, uint64_t *need)
{
	struct entry_iter it;
	bool any = false;

	if (level == 1) { /* a leaf or a marker in any slot: no node below */
		for (unsigned i = entry_index(va, 1), end = entry_index(last, 1); s.ptes && i <= end;
		     i++)
			if (pt_pte_load(s, i))
				return true;
		return !s.ptes;
	}
	for_each_entry_in(it, va, last, level) {
		pt_pte_t pte = copy_src_pte(s, it.i);
		if (pte == 0)
			continue;
		/* A leaf (never cut: copy_check_ends), or a whole marker. */
		if (fmt_pte_present(pte) ? fmt_pte_is_leaf(pte, level) : it.whole) {
			any = true;
			continue;
		}
		struct pt_node dchild;
		pt_pte_t dpte = d ? pt_pte_load(*d, it.i) : 0;
		bool dhas = entry_is_node(dpte, level);
		if (dhas)
			dchild = entry_child_node(w->dst->phys, dpte);
		uint64_t sub = 0;
		if (copy_count(w, copy_src_child(w, pte, level), dhas ? &dchild : NULL, level - 1,
			       it.lo, it.hi, &sub)) {
			*need += sub + !dhas;
			any = true;
		}
	}
	return any;
}

/* A source leaf that [va, last] cuts (it starts before va or ends after
 * last) cannot be copied at its size: PT_EALIGN. */
static int copy_check_ends(const struct pt_cursor_state *cs, uint64_t last)
{
	struct pt_mapping m;

	if (lookup_leaf(cs->tree, cs->node, cs->node_level, cs->start, &m) == 0 &&
	    m.va < cs->start)
		return PT_EALIGN;
	if (lookup_leaf(cs->tree, cs->node, cs->node_level, last, &m) == 0 &&
	    m.va + (m.size - 1) > last)
		return PT_EALIGN;
	return 0;
}

/* ---- commit ---- */

/* The source leaf `pte` at (s, idx) without write permission: rewritten in
 * src (keeping what a live MMU sets meanwhile) and recorded in sflush. */
static pt_pte_t copy_cow_leaf(struct copy *w, struct pt_node s, unsigned idx, unsigned level,
			      uint64_t va, pt_pte_t pte)
{
	struct pt_prop p = fmt_pte_leaf_prop(pte, level, w->src->features);

	if (!(p.flags & PT_W))
		return pte;
	p.flags &= ~PT_W;
	int err = fmt_prop_normalize(p, w->src->features, &p);
	PT_ASSERT(err == 0); /* a valid property without W is valid */
	(void)err;
	pt_pte_t ro = fmt_pte_leaf(fmt_pte_leaf_pa(pte, level), level, p, fmt_pte_tracked(pte),
				   w->src->features);
	entry_rewrite_leaf(w->src, s, idx, va, pte, ro);
	pt__flush_add_range(w->sflush, va, pt_level_size(level));
	return ro;
}

/* What the destination stores for the source leaf at (s, idx): the same
 * leaf (read-only under COW), with a reference on a tracked frame. */
static pt_pte_t copy_leaf_value(struct copy *w, struct pt_node s, unsigned idx, unsigned level,
				uint64_t va, pt_pte_t pte)
{
	if (w->cow)
		pte = copy_cow_leaf(w, s, idx, level, va, pte);
	if (fmt_pte_tracked(pte))
		pt__frame_get_valid(w->dst->phys, fmt_pte_leaf_pa(pte, level));
	return pte;
}

/* A huge source leaf or marker into slot idx of the destination node d: an
 * empty subtree there is given up first (a table becoming a block; its
 * markers are replaced).  Out of line, as copy_leaf_table: the walk's
 * recursion keeps small frames. */
static __attribute__((noinline)) void copy_huge_leaf(struct copy *w, struct pt_node s,
						      struct lazy_node *d, unsigned idx,
						      uint64_t va, pt_pte_t pte)
{
	unsigned level = d->level;
	struct pt_node dn = lazy_node_get(w, d);

	if (!entry_is_none(pt_pte_load(dn, idx))) {
		entry_detach_node(w->dst->phys, dn, idx, va, w->dflush, NULL, w->dst->features);
		if (fmt_resize_needs_break(w->dst->features))
			pt__invalidate_now(&w->dst->sink, va, pt_level_size(level), true);
	}
	if (entry_is_marker(pte)) {
		entry_mark_run(dn, idx, idx, pte);
		return;
	}
	PT_ASSERT(!fmt_pte_tracked(pte)); /* tracked mappings are base pages */
	entry_fill_run(dn, idx, idx, copy_leaf_value(w, s, idx, level, va, pte), 0);
}

/* The leaves and markers of one leaf table in [va, last]: the hot loop of
 * a fork. */
static __attribute__((noinline)) void copy_leaf_table(struct copy *w, struct pt_node s,
						       struct lazy_node *d, uint64_t va,
						       uint64_t last)
{
	unsigned i0 = entry_index(va, 1), i1 = entry_index(last, 1);
	uint16_t copied = 0, tracked = 0;
	struct pt_node dn = { 0 };

	if (!s.ptes) { /* a cut marker's pieces */
		entry_mark_run(lazy_node_get(w, d), i0, i1, s.pa);
		return;
	}
	for (unsigned i = i0; i <= i1; i++) {
		pt_pte_t pte = pt_pte_load(s, i);
		if (pte == 0)
			continue;
		if (dn.meta == NULL)
			dn = lazy_node_get(w, d);
		PT_ASSERT(entry_is_none(pt_pte_load(dn, i)));
		if (!fmt_pte_present(pte)) { /* a marker: not counted */
			entry_store(dn, i, pte);
			continue;
		}
		pte = copy_leaf_value(w, s, i, 1, va + ((uint64_t)(i - i0) << PT_PAGE_SHIFT), pte);
		entry_store(dn, i, pte);
		copied++;
		tracked += fmt_pte_tracked(pte);
	}
	if (copied == 0)
		return;
	dn.meta->nr_children += copied;
	dn.meta->nr_tracked += tracked;
	PT_ASSERT(dn.meta->nr_children <= PT_NR_ENTRIES);
}

static void copy_commit(struct copy *w, struct pt_node s, struct lazy_node *d, uint64_t va,
			uint64_t last)
{
	unsigned level = d->level;
	struct entry_iter it;

	if (level == 1) {
		copy_leaf_table(w, s, d, va, last);
		return;
	}
	for_each_entry_in(it, va, last, level) {
		pt_pte_t pte = copy_src_pte(s, it.i);
		if (pte == 0)
			continue;
		if (fmt_pte_present(pte) ? fmt_pte_is_leaf(pte, level) : it.whole) {
			copy_huge_leaf(w, s, d, it.i, it.base, pte);
			continue;
		}
		struct lazy_node c = lazy_child(w, d, it.i);
		copy_commit(w, copy_src_child(w, pte, level), &c, it.lo, it.hi);
		lazy_node_publish(w, &c);
	}
}

/*
 * Where the walk starts: level `top`, the lower of the two cursors' nodes
 * (either may have nodes below it: they were made between its lock-free
 * descent and its lock).  The destination's nodes from its cursor's node
 * down to `top` on the range's path, existing or to make: chain[l - 1] is
 * level l's.  Returns how many are missing.
 */
static unsigned copy_dst_chain(const struct copy *w, const struct pt_cursor_state *cd,
			       unsigned top, struct lazy_node *chain)
{
	unsigned missing = 0;

	chain[cd->node_level - 1] = (struct lazy_node){ .pa = cd->node.pa, .made = true,
							.level = (uint8_t)cd->node_level };
	for (unsigned l = cd->node_level - 1; l >= top; l--) {
		chain[l - 1] = lazy_child(w, &chain[l], entry_index(cd->start, l + 1));
		missing += !chain[l - 1].made;
	}
	return missing;
}

/*
 * pt_copy over [cs->start, last], both cursors locked on that range:
 * checks (a cut source leaf, a destination mapping), counts and reserves
 * the destination's new nodes, then copies: every step of one walk.
 */
static __attribute__((noinline)) int cursor_copy(struct pt_cursor_state *cd,
						 struct pt_cursor_state *cs, uint64_t last,
						 bool cow, struct pt_flush *dflush,
						 struct pt_flush *sflush)
{
	struct copy w = { .dst = cd->tree, .src = cs->tree, .cow = cow, .dflush = dflush,
			  .sflush = sflush, .reserve = { PT_NO_FRAME, 0 } };
	unsigned top = pt_min_u64(cd->node_level, cs->node_level);
	struct lazy_node chain[FMT_LEVELS];
	uint64_t found, need;
	struct pt_node s;
	int err;

	if ((err = copy_check_ends(cs, last)))
		return err;
	if (find_mapped(cd->tree, cd->node, cd->node_level, cd->start, last, &found) == 0)
		return PT_EEXIST;
	/* A source path that ends above `top` holds nothing here: a leaf
	 * there would contain the range, and cut it. */
	if (!node_on_path(cs->tree, cs->node, cs->node_level, top, cs->start, &s))
		return 0;
	need = copy_dst_chain(&w, cd, top, chain);
	struct lazy_node *d = &chain[top - 1];
	struct pt_node dn = d->made ? lazy_node_at(&w, d) : (struct pt_node){ 0 };
	if (!copy_count(&w, s, d->made ? &dn : NULL, top, cs->start, last, &need))
		return 0;
	if ((err = pt__reserve(w.dst->phys, &w.reserve, need)))
		return err;
	copy_commit(&w, s, d, cs->start, last);
	for (unsigned l = top; l < cd->node_level; l++)
		lazy_node_publish(&w, &chain[l - 1]);
	PT_ASSERT(w.reserve.count == 0);
	if (fmt_flush_new_mappings(w.dst->features))
		pt__flush_add_range(dflush, cs->start, last - cs->start + 1);
	return 0;
}

#endif
