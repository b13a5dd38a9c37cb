/* SPDX-License-Identifier: MPL-2.0 */
/*
 * mark_template.h - markers (issue #13): a caller's value in non-present
 * entries (swap entries, guard pages, ownership annotations), at the
 * largest size that fits, like mappings, and their lookup.  Per format,
 * like cursor_template.h: include a format header first.
 *
 * A marker is not present (fmt_pte_present is false: every walk that
 * looks for mappings passes it by, and the hardware ignores it) and does
 * not count in nr_children, which stays the number of present entries
 * (design §4, invariant 1): a node holding only markers has no mapping,
 * so a huge leaf mapped over it replaces it, markers and all, as it
 * replaces any page of its range.  A huge marker (a non-present entry
 * above level 1, the same encoding at every level) marks every page it
 * spans with its value; an operation on part of it splits it first
 * (entry_alloc_child fills a node made under it with its pieces).
 */
#ifndef PTKIT_SRC_MARK_TEMPLATE_H
#define PTKIT_SRC_MARK_TEMPLATE_H

#ifndef FMT_LEVELS
#error "include a format header (src/formats/<fmt>.h) before mark_template.h"
#endif

#include "cursor/cursor_template.h"

/*
 * Every page of [va, last] below n (at `level`) gets `marker`: a free entry
 * that a leaf of src could take (whole, aligned, not above its level) gets
 * one huge marker; missing nodes come from r, made and published as pt_map
 * makes them.  An existing node is filled, never given up (marking frees
 * nothing, so it needs no batch): a node the prepare pass let through
 * holds no mapping, and every entry below a whole one is whole too.
 */
static void mark_commit(const struct pt_tree *t, struct pt_node n, unsigned level, uint64_t va,
			uint64_t last, pt_pte_t marker, const struct pt_map_src *src,
			struct pt_prealloc *r)
{
	struct entry_iter it;

	if (level == 1) {
		entry_mark_run(n, entry_index(va, 1), entry_index(last, 1), marker);
		return;
	}
	for_each_entry_in(it, va, last, level) {
		pt_pte_t pte = pt_pte_load(n, it.i);
		if (entry_is_node(pte, level)) {
			mark_commit(t, entry_child_node(t->phys, pte), level - 1, it.lo, it.hi, marker,
				    src, r);
		} else if (src_leaf_here(src, &it)) {
			entry_mark_run(n, it.i, it.i, marker);
		} else {
			struct pt_node child = entry_alloc_child(t->phys, n, it.i, r);
			mark_commit(t, child, level - 1, it.lo, it.hi, marker, src, r);
			entry_publish_new(n, it.i, child, t->features);
		}
	}
}

/*
 * pt_mark over [c->va, last], with markers up to max_level: the prepare
 * pass of a pt_map with pa = va, so its sizes are the ones a mapping of
 * the range would take (PT_EEXIST for a mapping, markers count as free;
 * the nodes to make), reserve, then the markers.  Nothing to invalidate:
 * the hardware saw nothing there before and sees nothing after.
 */
static __attribute__((noinline)) int cursor_mark(struct pt_cursor_state *c, uint64_t last,
						  uint64_t value, unsigned max_level)
{
	const struct pt_map_src src = { .va = c->va, .pa = c->va, .max_level = max_level };
	struct pt_prealloc r = { PT_NO_FRAME, 0 };
	uint64_t need = 0;
	int err;

	if ((err = map_prepare(c->tree, cursor_node(c), c->node_level, c->va, last, &src, &need)))
		return err;
	if (need && (err = pt__reserve(c->tree->phys, &r, need)))
		return err;
	mark_commit(c->tree, cursor_node(c), c->node_level, c->va, last, fmt_pte_marker(value),
		    &src, &r);
	PT_ASSERT(r.count == 0);
	return 0;
}

/* The marker at va (lock-free, inside an RCU read section): 0 and its
 * value, PT_EEXIST where a mapping is, PT_ENOENT where neither is. */
static int lookup_marker(const struct pt_tree *t, uint64_t va, uint64_t *value)
{
	struct pt_node n = pt_node_at(t->phys, t->root_pa);

	for (unsigned level = FMT_LEVELS; level >= 1; level--) {
		pt_pte_t pte = pt_pte_load(n, entry_index(va, level));
		if (!fmt_pte_present(pte)) {
			if (!fmt_pte_is_marker(pte))
				return PT_ENOENT;
			*value = fmt_pte_marker_value(pte);
			return 0;
		}
		if (fmt_pte_is_leaf(pte, level))
			return PT_EEXIST;
		n = entry_child_node(t->phys, pte);
	}
	PT_ASSERT(false); /* level 1 holds only leaves */
	return PT_ENOENT;
}

#endif
