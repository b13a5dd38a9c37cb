/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cursor_template.h - the cursor: lock a range, then map, unmap, protect,
 * find and query inside it (design §5-§7).  Per format, like
 * entry_template.h: include a format header first.
 *
 * Every changing operation is prepare/commit (as in Hafnium's mm.c): a
 * read-only pass under the lock finds every reason to fail (PT_EEXIST) and
 * counts the page-table nodes the change will need; those are reserved (the
 * only step that can run out of memory); then the commit pass writes and
 * cannot fail.  So a failure changes nothing.
 */
#ifndef PTKIT_SRC_CURSOR_TEMPLATE_H
#define PTKIT_SRC_CURSOR_TEMPLATE_H

#ifndef FMT_LEVELS
#error "include a format header (src/formats/<fmt>.h) before cursor_template.h"
#endif

#include "cursor/cursor.h"
#include "nodes/walk_template.h"
#include "platform/rcu.h"

/* ---- locking (design §6) ---- */

/*
 * Design §6 steps 3 and 5: every node below n overlapping [va, last],
 * depth first.  Locking goes top-down, left to right: all cursors lock in
 * this one global order, and one that locked a node directly never needs
 * its ancestors, so there is no deadlock.  Unlocking releases each node
 * after its descendants; by then they are exactly the ones locked here and
 * the ones this cursor created (removed ones were unlocked when retired).
 * n is locked, so its slots cannot change meanwhile.
 */
static void lock_descendants(const struct pt_phys *phys, struct pt_node n, unsigned level,
			     uint64_t va, uint64_t last, bool lock);

/* Most cursors lock a node with no child node in their range (a leaf
 * table): that case costs one test, not a call. */
static inline void lock_children(const struct pt_phys *phys, struct pt_node n, unsigned level,
				 uint64_t va, uint64_t last, bool lock)
{
	if (n.meta->nr_nodes != 0)
		lock_descendants(phys, n, level, va, last, lock);
}

static void lock_descendants(const struct pt_phys *phys, struct pt_node n, unsigned level,
			     uint64_t va, uint64_t last, bool lock)
{
	struct entry_iter it;

	for_each_entry_in(it, va, last, level) {
		pt_pte_t pte = pt_pte_load(n, it.i);
		if (!entry_is_node(pte, level))
			continue;
		struct pt_node child = entry_child_node(phys, pte);
		if (lock)
			pt_node_lock(phys, child);
		lock_children(phys, child, level - 1, it.lo, it.hi, lock);
		if (!lock)
			pt_node_unlock(child);
	}
}

/* Read before a walk (acquire): a walk that starts after a move sees its
 * stores, and a move during the walk changes it. */
static inline uint32_t pt_moves_before_walk(const struct pt_tree *t)
{
	return atomic_load_explicit(&t->moves, memory_order_acquire);
}

/* One attempt of lock_deepest in the RCU read section the caller entered
 * after reading `moves`: the node, locked, or (no meta) the section left
 * and nothing locked, to start over. */
static inline struct pt_node try_lock_deepest(const struct pt_tree *t, uint64_t va,
					      int stop_shift, uint32_t moves, unsigned *level_out)
{
	struct pt_phys *phys = t->phys;
	uintptr_t linear_offset = phys->linear_offset;
	uint64_t pa = t->root_pa;
	unsigned level = FMT_LEVELS;

	/* Unrolled: each level's shift and leaf test are constants. */
#pragma GCC unroll 8
	for (; level > 1; level--) {
		if (pt_level_shift(level) <= stop_shift)
			break;
		pt_slot_t *ptes = pt_va_at(linear_offset, pa);
		pt_pte_t pte = atomic_load_explicit(&ptes[entry_index(va, level)],
						    memory_order_acquire);
		if (!entry_is_node(pte, level))
			break;
		pa = fmt_pte_table_pa(pte);
	}
	struct pt_node n = pt_node_at(phys, pa);
	pt_node_lock(phys, n);
	/* A mover bumps `moves` before it unlocks: if it held n, the lock
	 * orders the bump before this load. */
	if (pt_likely(!pt_node_stray(n) &&
		      atomic_load_explicit(&t->moves, memory_order_relaxed) == moves)) {
		*level_out = level;
		return n;
	}
	pt_node_unlock(n);
	pt_rcu_read_unlock(phys);
	return (struct pt_node){ 0 };
}

/* The rare retries, out of line: inlined, their loop would hoist each
 * level's index out of the first attempt and keep it on the stack. */
static __attribute__((noinline)) struct pt_node lock_deepest_retry(const struct pt_tree *t,
								   uint64_t va, int stop_shift,
								   unsigned *level_out)
{
	struct pt_node n;

	do {
		uint32_t moves = pt_moves_before_walk(t);
		pt_rcu_read_lock(t->phys);
		n = try_lock_deepest(t, va, stop_shift, moves, level_out);
	} while (!n.meta);
	return n;
}

/* lock_deepest in the RCU read section the caller has just entered: the
 * page-fault path enters it where the fewest values are live across it
 * (the registration check in liburcu-bp's read side may call out). */
static inline struct pt_node lock_deepest_entered(const struct pt_tree *t, uint64_t va,
						  int stop_shift, uint32_t moves,
						  unsigned *level_out)
{
	struct pt_node n = try_lock_deepest(t, va, stop_shift, moves, level_out);

	return pt_likely(n.meta) ? n : lock_deepest_retry(t, va, stop_shift, level_out);
}

/*
 * Steps 1 and 2: from the root, lock-free, down through every level whose
 * entry shift is above stop_shift, to the node below the last such entry
 * (or the deepest node there is); locks it, and retries if it was detached
 * meanwhile, or if a move relocated nodes meanwhile (it may have moved
 * this one: a node keeps no record of where it hangs).  Returns it
 * locked, in an RCU read section that lasts until it is unlocked.
 * Inlined: a constant stop_shift (the page-fault path) leaves one load
 * and one test per level.
 */
static inline struct pt_node lock_deepest(const struct pt_tree *t, uint64_t va, int stop_shift,
					  unsigned *level_out)
{
	uint32_t moves = pt_moves_before_walk(t);

	pt_rcu_read_lock(t->phys);
	return lock_deepest_entered(t, va, stop_shift, moves, level_out);
}

/* Opens c on [va, last] from n, which lock_deepest locked for that range:
 * step 3, the descendants. */
static inline void cursor_adopt(struct pt_cursor_state *c, struct pt_tree *t, uint64_t va,
			 uint64_t last, struct pt_node n, unsigned level)
{
	c->table = NULL;
	c->tree = t;
	c->start = c->va = va;
	c->last = last;
	c->at_end = false;
	c->node = n;
	c->node_level = level;
	lock_children(t->phys, n, level, va, last, true);
}

/*
 * The stop_shift that makes lock_deepest lock, for [va, last], the deepest
 * node whose range holds it all, stopping where the range spans several
 * entries or is exactly one whole entry (a 2 MiB map locks the node that
 * will hold the leaf).  Descend from level L only while the range lies in
 * one entry of L (the highest differing bit of va and last is below L's
 * shift) and is not exactly that whole entry (va and last + 1 aligned to
 * it): both are read off the bits once, not per level.  va is page aligned
 * and last ends a page, so va ^ last is never 0; bit 63 stands in for
 * "aligned to everything" (no level's shift is that high).
 */
static inline int range_stop_shift(uint64_t va, uint64_t last)
{
	int highest_diff = 63 - __builtin_clzll(va ^ last);
	int align = __builtin_ctzll(va | (UINT64_C(1) << 63));
	int last_ones = __builtin_ctzll(~last | (UINT64_C(1) << 63));
	int whole_up_to = align < last_ones ? align : last_ones; /* whole entries below */

	PT_ASSERT((va ^ last) >= PT_PAGE_SIZE - 1);
	return highest_diff > whole_up_to ? highest_diff : whole_up_to;
}

/* Opens a cursor on a validated range of tree t (the API layer sets
 * c->table for the cursors it hands out). */
static void cursor_begin(struct pt_cursor_state *c, struct pt_tree *t, uint64_t va,
			 uint64_t last)
{
	unsigned level;
	struct pt_node n = lock_deepest(t, va, range_stop_shift(va, last), &level);

	cursor_adopt(c, t, va, last, n, level);
}

static inline void cursor_unlock(struct pt_cursor_state *c)
{
	const struct pt_phys *phys = c->tree->phys;
	struct pt_node n = c->node;

	lock_children(phys, n, c->node_level, c->start, c->last, false);
	pt_node_unlock(n);
	pt_rcu_read_unlock(phys);
}

static inline struct pt_node cursor_node(const struct pt_cursor_state *c)
{
	return c->node;
}

static int cursor_query(struct pt_cursor_state *c, struct pt_mapping *out)
{
	return lookup_leaf(c->tree, cursor_node(c), c->node_level, c->va, out);
}

/* ---- find ---- */

/* First va in [va, last] inside a mapping below n, or PT_ENOENT. */
static int find_mapped(const struct pt_tree *t, struct pt_node n, unsigned level, uint64_t va,
		       uint64_t last, uint64_t *found)
{
	struct entry_iter it;

	if (n.meta->nr_children == 0)
		return PT_ENOENT;
	for_each_entry_in(it, va, last, level) {
		pt_pte_t pte = pt_pte_load(n, it.i);
		if (!fmt_pte_present(pte))
			continue;
		if (fmt_pte_is_leaf(pte, level)) {
			*found = it.lo;
			return 0;
		}
		if (find_mapped(t, entry_child_node(t->phys, pte), level - 1, it.lo, it.hi, found) == 0)
			return 0;
	}
	return PT_ENOENT;
}

/* Whether a mapping or a marker (a non-present entry other than 0, at any
 * leaf size: not counted in nr_children, so every node is looked at) lies
 * in [va, last] below n. */
static bool find_occupied(const struct pt_tree *t, struct pt_node n, unsigned level, uint64_t va,
			  uint64_t last)
{
	struct entry_iter it;

	for_each_entry_in(it, va, last, level) {
		pt_pte_t pte = pt_pte_load(n, it.i);
		if (fmt_pte_present(pte) ? fmt_pte_is_leaf(pte, level) : pte != 0)
			return true;
		if (entry_is_node(pte, level) &&
		    find_occupied(t, entry_child_node(t->phys, pte), level - 1, it.lo, it.hi))
			return true;
	}
	return false;
}

static int cursor_find(struct pt_cursor_state *c, uint64_t last, uint64_t *va_out)
{
	return find_mapped(c->tree, cursor_node(c), c->node_level, c->va, last, va_out);
}

/* ---- map ---- */

static inline uint64_t src_pa(const struct pt_map_src *src, uint64_t va)
{
	if (src->frames)
		return src->frames[(va - src->va) >> PT_PAGE_SHIFT];
	return src->pa + (va - src->va);
}

/* Whether the entry spanned by s gets a leaf: the largest page that the
 * alignment of va and pa and the remaining length allow. */
static inline bool src_leaf_here(const struct pt_map_src *src, const struct entry_iter *it)
{
	if (it->level == 1)
		return true;
	return it->level <= src->max_level && it->whole &&
	       (src_pa(src, it->lo) & (pt_level_size(it->level) - 1)) == 0;
}

/* Nodes a fresh (absent) subtree at `level` needs to map [va, last]. */
static uint64_t nodes_for_fresh(const struct pt_map_src *src, unsigned level, uint64_t va,
				uint64_t last)
{
	uint64_t need = 1;
	struct entry_iter it;

	if (level == 1)
		return 1;
	for_each_entry_in(it, va, last, level) {
		if (src_leaf_here(src, &it))
			it.i = entry_iter_run_end(&it); /* a run of leaves needs no node */
		else
			need += nodes_for_fresh(src, level - 1, it.lo, it.hi);
	}
	return need;
}

/*
 * Entries [i0, i1] that all take huge leaves (entry_iter_run_end): each
 * must be free, or an empty subtree to replace (no mapping in the way).
 */
static int map_prepare_leaf_run(const struct pt_tree *t, struct pt_node n, unsigned level,
				unsigned i0, unsigned i1)
{
	for (size_t i = i0; i <= i1; i++) {
		pt_pte_t pte = pt_pte_load(n, (unsigned)i);
		if (!entry_is_none(pte) && (fmt_pte_is_leaf(pte, level) ||
					    subtree_has_mapping(t->phys, entry_child_node(t->phys, pte))))
			return PT_EEXIST;
	}
	return 0;
}

/*
 * Slots [i0, i1] of n (the first maps from base) are about to take leaves
 * or moved nodes; what they hold is an empty subtree (the prepare pass found
 * no mapping there), detached and freed after the flush.
 */
static void clear_empty_run(const struct pt_tree *t, struct pt_node n, unsigned level,
			    unsigned i0, unsigned i1, uint64_t base, struct pt_flush *flush)
{
	uint64_t size = pt_level_size(level);
	bool detached = false;

	for (unsigned i = i0; i <= i1; i++) {
		if (entry_is_none(pt_pte_load(n, i)))
			continue;
		entry_detach_node(t->phys, n, i, base + (uint64_t)(i - i0) * size, flush, NULL,
				  t->features);
		detached = true;
	}
	/* A table becoming a block changes a size: break-before-make. */
	if (detached && fmt_resize_needs_break(t->features))
		pt__invalidate_now(&t->sink, base, (uint64_t)(i1 - i0 + 1) * size, true);
}

static void map_commit_leaf_run(const struct pt_tree *t, struct pt_node n, unsigned level,
				unsigned i0, unsigned i1, uint64_t base, pt_pte_t first,
				struct pt_flush *flush)
{
	clear_empty_run(t, n, level, i0, i1, base, flush);
	entry_fill_run(n, i0, i1, first, fmt_pte_leaf_step(first, level));
}

/* Prepare: PT_EEXIST if any page is mapped; counts the nodes to allocate. */
static int map_prepare(const struct pt_tree *t, struct pt_node n, unsigned level, uint64_t va,
		       uint64_t last, const struct pt_map_src *src, uint64_t *need)
{
	struct entry_iter it;

	if (level == 1) { /* every slot takes a leaf: it must be free */
		for (unsigned i = entry_index(va, 1), end = entry_index(last, 1); i <= end; i++)
			if (!entry_is_none(pt_pte_load(n, i)))
				return PT_EEXIST;
		return 0;
	}
	for_each_entry_in(it, va, last, level) {
		if (src_leaf_here(src, &it)) {
			unsigned i1 = entry_iter_run_end(&it);
			int err = map_prepare_leaf_run(t, n, level, it.i, i1);
			if (err)
				return err;
			it.i = i1;
			continue;
		}
		pt_pte_t pte = pt_pte_load(n, it.i);
		if (entry_is_none(pte)) {
			*need += nodes_for_fresh(src, level - 1, it.lo, it.hi);
			continue;
		}
		if (fmt_pte_is_leaf(pte, level))
			return PT_EEXIST;
		int err = map_prepare(t, entry_child_node(t->phys, pte), level - 1, it.lo, it.hi,
				      src, need);
		if (err)
			return err;
	}
	return 0;
}

/* A run of 4 KiB leaves in one leaf table: the hot loop of every map. */
static void map_leaf_run(const struct pt_tree *t, struct pt_node n, uint64_t va, uint64_t last,
			 const struct pt_map_src *src)
{
	unsigned i0 = entry_index(va, 1), i1 = entry_index(last, 1);

	if (!pt_src_tracked(src)) {
		pt_pte_t first = fmt_pte_leaf(src_pa(src, va), 1, src->prop, false, t->features);
		entry_fill_run(n, i0, i1, first, fmt_pte_leaf_step(first, 1));
		return;
	}
	const uint64_t *frame = &src->frames[(va - src->va) >> PT_PAGE_SHIFT];
	for (unsigned i = i0; i <= i1; i++, frame++) {
		PT_ASSERT(entry_is_none(pt_pte_load(n, i)));
		pt__frame_get_valid(t->phys, *frame);
		entry_store(n, i, fmt_pte_leaf(*frame, 1, src->prop, true, t->features));
	}
	n.meta->nr_children += (uint16_t)(i1 - i0 + 1);
	n.meta->nr_tracked += (uint16_t)(i1 - i0 + 1);
}

/* Commit: writes what map_prepare checked, taking nodes from r. */
static void map_commit(const struct pt_tree *t, struct pt_node n, unsigned level, uint64_t va,
		       uint64_t last, const struct pt_map_src *src, struct pt_prealloc *r,
		       struct pt_flush *flush)
{
	struct entry_iter it;

	if (level == 1) {
		map_leaf_run(t, n, va, last, src);
		return;
	}
	for_each_entry_in(it, va, last, level) {
		pt_pte_t pte = pt_pte_load(n, it.i);
		if (src_leaf_here(src, &it)) {
			unsigned i1 = entry_iter_run_end(&it);
			pt_pte_t first = fmt_pte_leaf(src_pa(src, it.lo), level, src->prop, false,
						      t->features);
			map_commit_leaf_run(t, n, level, it.i, i1, it.base, first, flush);
			it.i = i1;
			continue;
		}
		if (entry_is_none(pte)) {
			struct pt_node child = entry_alloc_child(t->phys, n, it.i, r);
			map_commit(t, child, level - 1, it.lo, it.hi, src, r, flush);
			entry_publish_new(n, it.i, child, t->features);
		} else {
			map_commit(t, entry_child_node(t->phys, pte), level - 1, it.lo, it.hi, src, r,
				   flush);
		}
	}
}

/*
 * The page-fault path, in two steps.  First the leaf for the entry of va at
 * `level`, when that entry is the whole range to map and a leaf may be
 * that large there (else 0: no leaf encodes as an empty slot).  It is
 * encoded before the walk, so that across the RCU read section and the
 * lock one value lives in a register instead of pa and the property.
 */
static inline pt_pte_t map_whole_entry_leaf(const struct pt_tree *t, unsigned level, uint64_t va,
					    const struct pt_map_src *src)
{
	if (level == 0)
		return 0;
	uint64_t size = pt_level_size(level), pa = src_pa(src, va);
	if (level > 1 && (level > src->max_level || ((va | pa) & (size - 1))))
		return 0;
	return fmt_pte_leaf(pa, level, src->prop, pt_src_tracked(src), t->features);
}

/*
 * Then, with the node n that holds the entry locked: when the slot is
 * free, the map is one store.  False leaves the map to the general walk (a
 * missing node, something in the slot: PT_EEXIST or an empty subtree to
 * replace).
 */
static inline bool store_leaf_in_place(const struct pt_tree *t, struct pt_node n, unsigned level,
				       uint64_t va, pt_pte_t leaf)
{
	unsigned i = entry_index(va, level);

	if (!entry_is_none(pt_pte_load(n, i)))
		return false;
	bool tracked = fmt_pte_tracked(leaf);
	if (tracked)
		pt__frame_get_valid(t->phys, fmt_pte_leaf_pa(leaf, level));
	entry_store(n, i, leaf);
	n.meta->nr_children++;
	n.meta->nr_tracked += tracked;
	return true;
}

static inline bool map_entry_in_place(const struct pt_tree *t, struct pt_node n, unsigned level,
				      uint64_t va, const struct pt_map_src *src)
{
	pt_pte_t leaf = map_whole_entry_leaf(t, level, va, src);

	return leaf && store_leaf_in_place(t, n, level, va, leaf);
}

/* Whether [c->va, last] is exactly one whole entry of the locked node. */
static inline bool cursor_at_one_entry(const struct pt_cursor_state *c, uint64_t last)
{
	uint64_t size = pt_level_size(c->node_level);

	return last - c->va == size - 1 && (c->va & (size - 1)) == 0;
}

/* The general map: prepare (PT_EEXIST, nodes to make), reserve, commit.
 * Out of line: the page-fault path above stays small enough to inline. */
static __attribute__((noinline)) int map_walk(struct pt_cursor_state *c, uint64_t last,
					       const struct pt_map_src *src,
					       struct pt_flush *flush)
{
	struct pt_node n = cursor_node(c);
	struct pt_prealloc r = { PT_NO_FRAME, 0 };
	uint64_t need = 0;
	int err;

	if ((err = map_prepare(c->tree, n, c->node_level, c->va, last, src, &need)))
		return err;
	if (c->node_level == 1) { /* the common small map: one leaf table */
		map_leaf_run(c->tree, n, c->va, last, src);
		return 0;
	}
	if (need && (err = pt__reserve(c->tree->phys, &r, need)))
		return err;
	map_commit(c->tree, n, c->node_level, c->va, last, src, &r, flush);
	PT_ASSERT(r.count == 0);
	return 0;
}

static inline int cursor_map(struct pt_cursor_state *c, uint64_t last,
			     const struct pt_map_src *src, struct pt_flush *flush)
{
	if (!cursor_at_one_entry(c, last) ||
	    !map_entry_in_place(c->tree, cursor_node(c), c->node_level, c->va, src)) {
		int err = map_walk(c, last, src, flush);
		if (err)
			return err;
	}
	if (fmt_flush_new_mappings(c->tree->features))
		pt__flush_add_range(flush, c->va, last - c->va + 1);
	return 0;
}

/* ---- unmap and protect: one walker, two actions ---- */

/*
 * Nodes needed to split a huge leaf at `level` of which only [lo, hi] is
 * affected: one level at a time, and only as deep as the range boundaries
 * need (at most the first and the last sub-entry are partly covered).
 */
static uint64_t split_cost(unsigned level, uint64_t lo, uint64_t hi)
{
	unsigned sub = level - 1;
	uint64_t need = 1;
	struct entry_iter it;

	if (sub == 1)
		return 1;
	for_each_entry_in(it, lo, hi, sub)
		if (!it.whole)
			need += split_cost(sub, it.lo, it.hi);
	return need;
}

enum walk_action { WALK_UNMAP, WALK_PROTECT };

struct walk {
	struct pt_tree *t;
	enum walk_action action;
	uint64_t budget;          /* items left before stopping; UINT64_MAX: all */
	struct pt_flush *flush;
	struct pt_prealloc reserve;
	/* protect */
	void (*op)(struct pt_prop *, void *);
	void *op_arg;
	bool op_always_valid;            /* op is pure and always expressible (set/clear) */
	bool prop_ready;          /* protect_next: new_prop computed by prepare */
	struct pt_prop new_prop;
	pt_pte_t new_prop_seen_hw;  /* ... when the leaf had these hardware bits */
	/* what the last item was (take_next / protect_next report it) */
	struct pt_taken *taken;
	uint64_t item_va, item_len;
};

/* The new property of a leaf under protect, or PT_EINVAL. */
static int walk_new_prop(const struct walk *w, struct pt_prop old, struct pt_prop *out)
{
	w->op(&old, w->op_arg);
	return fmt_prop_normalize(old, w->t->features, out);
}

/* An unlimited unmap, or a protect whose op cannot fail: whole entries need
 * no preparation, only partly covered ones (which split) do. */
static inline bool walk_whole_entries_cannot_fail(const struct walk *w, uint64_t budget)
{
	return budget == UINT64_MAX && (w->action == WALK_UNMAP || w->op_always_valid);
}

static int walk_prepare(struct walk *w, struct pt_node n, unsigned level, uint64_t va,
			uint64_t last, uint64_t *need, uint64_t *budget);

/* Whether the walk removes markers: a plain unmap does (take_next and
 * protect pass them by: they are not mappings). */
static inline bool walk_removes_markers(const struct walk *w, uint64_t budget)
{
	return w->action == WALK_UNMAP && budget == UINT64_MAX;
}

/* Prepare for one entry: split cost, op check, recursion, item count. */
static int walk_prepare_entry(struct walk *w, struct pt_node n, const struct entry_iter *it,
			     uint64_t *need, uint64_t *budget)
{
	unsigned level = it->level;
	pt_pte_t pte = pt_pte_load(n, it->i);

	if (entry_is_none(pte)) {
		/* A huge marker partly unmapped is split first, as a leaf is. */
		if (entry_is_marker(pte) && !it->whole && walk_removes_markers(w, *budget))
			*need += split_cost(level, it->lo, it->hi);
		return 0;
	}
	if (!fmt_pte_is_leaf(pte, level)) {
		struct pt_node child = entry_child_node(w->t->phys, pte);
		if (it->whole && w->action == WALK_UNMAP && !slot_pinned(w->t, level)) {
			/* Detached whole; counts as an item only if it maps. */
			if (*budget != UINT64_MAX)
				*budget -= subtree_has_mapping(w->t->phys, child);
			return 0;
		}
		return walk_prepare(w, child, level - 1, it->lo, it->hi, need, budget);
	}
	if (w->action == WALK_PROTECT && !w->op_always_valid) {
		/* A caller's op runs once, here: it may keep state. */
		PT_ASSERT(*budget == 1);
		if (walk_new_prop(w, fmt_pte_leaf_prop(pte, level, w->t->features), &w->new_prop))
			return PT_EINVAL;
		w->prop_ready = true;
		w->new_prop_seen_hw = pte & FMT_HW_BITS;
	}
	if (!it->whole)
		*need += split_cost(level, it->lo, it->hi);
	if (*budget != UINT64_MAX)
		(*budget)--;
	return 0;
}

/*
 * Prepare: counts split nodes and, for protect, checks that the new
 * property of every leaf the walk will reach is expressible.  Stops where
 * the budget is used up (the commit walk stops there too).
 */
static int walk_prepare(struct walk *w, struct pt_node n, unsigned level, uint64_t va,
			uint64_t last, uint64_t *need, uint64_t *budget)
{
	struct entry_iter it;
	int err = 0;

	if (walk_whole_entries_cannot_fail(w, *budget)) {
		if (level == 1)
			return 0; /* leaf tables split nothing */
		unsigned first = entry_index(va, level), end = entry_index(last, level);
		for_each_entry_in(it, va, last, level) {
			if (it.i != first && it.i != end)
				it.i = end - 1; /* skip the whole entries in between */
			else if ((err = walk_prepare_entry(w, n, &it, need, budget)))
				return err;
		}
		return 0;
	}
	for_each_entry_in(it, va, last, level) {
		if (*budget == 0)
			return 0;
		if ((err = walk_prepare_entry(w, n, &it, need, budget)))
			return err;
	}
	return 0;
}

static void walk_record_item(struct walk *w, uint64_t va, uint64_t len)
{
	w->item_va = va;
	w->item_len = len;
	if (w->budget != UINT64_MAX)
		w->budget--;
}

/*
 * A run of leaves in one leaf table, removed: PTEs cleared, nr_children
 * dropped once, tracked frames queued for release after the invalidation.
 * Every cleared page's range is in the batch before a frame is queued after
 * it, so a batch that fills up and finishes early covers what it releases.
 */
static void unmap_leaf_run(struct walk *w, struct pt_node n, uint64_t va, uint64_t last)
{
	unsigned i0 = entry_index(va, 1), i1 = entry_index(last, 1);
	uint64_t run_va = va, removed = 0, tracked = 0;
	bool run_open = false; /* pages cleared since run_va, not yet recorded */

	for (unsigned i = i0; i <= i1; i++) {
		pt_pte_t pte = pt_pte_load(n, i);
		if (!fmt_pte_present(pte)) {
			if (pte) /* a marker goes too: nothing to invalidate */
				entry_store(n, i, 0);
			continue;
		}
		entry_store(n, i, 0);
		removed++;
		run_open = true;
		if (fmt_pte_tracked(pte)) {
			uint64_t end = va + ((uint64_t)(i - i0 + 1) << PT_PAGE_SHIFT);
			pt__flush_add_range(w->flush, run_va, end - run_va);
			pt__flush_add_frame(w->flush, fmt_pte_leaf_pa(pte, 1));
			run_va = end;
			run_open = false;
			tracked++;
		}
	}
	PT_ASSERT(n.meta->nr_children >= removed && n.meta->nr_tracked >= tracked);
	n.meta->nr_children -= (uint16_t)removed;
	n.meta->nr_tracked -= (uint16_t)tracked;
	if (run_open)
		pt__flush_add_range(w->flush, run_va, last - run_va + 1);
}

/* One leaf, whole, removed or protected. */
static void walk_leaf(struct walk *w, struct pt_node n, unsigned idx, unsigned level,
		      uint64_t base, pt_pte_t pte)
{
	uint64_t size = pt_level_size(level);

	if (w->action == WALK_UNMAP)
		/* take_next reports the final accessed/dirty bits */
		pte = entry_clear(w->taken && w->t->live, n, idx, pte);
	if (w->taken) {
		w->taken->subtree = false;
		mapping_of_leaf(pte, level, base, w->t->features, &w->taken->mapping);
	}
	if (w->action == WALK_UNMAP) {
		pt__flush_add_range(w->flush, base, size);
		if (fmt_pte_tracked(pte))
			pt__flush_add_frame(w->flush, fmt_pte_leaf_pa(pte, level));
	} else {
		struct pt_prop p = w->new_prop;
		if (!w->prop_ready) {
			int err = walk_new_prop(w, fmt_pte_leaf_prop(pte, level, w->t->features), &p);
			PT_ASSERT(err == 0); /* op_always_valid: always expressible */
			(void)err;
		}
		entry_protect(w->t, n, idx, base,
			      (w->prop_ready ? w->new_prop_seen_hw : pte) & FMT_HW_BITS, p);
		pt__flush_add_range(w->flush, base, size); /* upgrades too */
	}
	walk_record_item(w, base, size);
}

/* A whole subtree under unmap: detached, freed after the flush. */
static void walk_detach(struct walk *w, struct pt_node n, unsigned idx, unsigned level,
			uint64_t base)
{
	struct subtree_count count = { 0, 0 };

	if (w->budget == UINT64_MAX && !w->taken) { /* a plain unmap: no counting */
		entry_detach_node(w->t->phys, n, idx, base, w->flush, NULL, w->t->features);
		return;
	}
	entry_detach_node(w->t->phys, n, idx, base, w->flush, &count, w->t->features);
	if (count.mappings == 0)
		return; /* page-table memory given back; no mapping taken */
	if (w->taken)
		*w->taken = (struct pt_taken){ .subtree = true, .va = base,
					       .len = pt_level_size(level),
					       .nr_mappings = count.mappings,
					       .nr_tracked = count.tracked };
	walk_record_item(w, base, pt_level_size(level));
}

/*
 * Whole entries [i0, i1] of a node above the leaf tables under a plain
 * unmap: subtrees detached (each recorded before it is queued), huge
 * leaves cleared with a store (never tracked, and nobody asks for their
 * final A/D), nr_children dropped once and the whole run recorded as one
 * range: invalidating an entry that was empty costs nothing wrong.
 */
static void unmap_whole_run(struct walk *w, struct pt_node n, unsigned level, unsigned i0,
			    unsigned i1, uint64_t base)
{
	uint64_t size = pt_level_size(level), va = base;
	unsigned cleared = 0;

	for (unsigned i = i0; i <= i1; i++, va += size) {
		pt_pte_t pte = pt_pte_load(n, i);
		if (entry_is_none(pte)) {
			if (pte) /* a huge marker goes too: nothing to invalidate */
				entry_store(n, i, 0);
			continue;
		}
		if (!fmt_pte_is_leaf(pte, level)) {
			entry_detach_node(w->t->phys, n, i, va, w->flush, NULL, w->t->features);
			continue;
		}
		PT_ASSERT(!fmt_pte_tracked(pte));
		entry_store(n, i, 0);
		cleared++;
	}
	PT_ASSERT(n.meta->nr_children >= cleared);
	n.meta->nr_children -= (uint16_t)cleared;
	if (cleared)
		pt__flush_add_range(w->flush, base, (uint64_t)(i1 - i0 + 1) * size);
}

static void walk_commit(struct walk *w, struct pt_node n, unsigned level, uint64_t va,
			uint64_t last);

/* The huge marker of entry it under unmap: cleared when whole, else split
 * (its node counted by the prepare pass) and its part in range cleared. */
static void walk_unmap_marker(struct walk *w, struct pt_node n, const struct entry_iter *it)
{
	if (it->whole)
		entry_store(n, it->i, 0);
	else
		walk_commit(w, entry_split(w->t, n, it->i, it->base, &w->reserve), it->level - 1,
			    it->lo, it->hi);
}

static void walk_commit(struct walk *w, struct pt_node n, unsigned level, uint64_t va,
			uint64_t last)
{
	struct entry_iter it;

	if (level == 1 && w->action == WALK_UNMAP && w->budget == UINT64_MAX) {
		unmap_leaf_run(w, n, va, last);
		return;
	}
	for_each_entry_in(it, va, last, level) {
		if (w->budget == 0)
			return;
		if (it.whole && it.i < it.end && walk_whole_entries_cannot_fail(w, w->budget) &&
		    w->action == WALK_UNMAP && !slot_pinned(w->t, level)) {
			unsigned i1 = entry_iter_run_end(&it);
			unmap_whole_run(w, n, level, it.i, i1, it.base);
			it.i = i1;
			continue;
		}
		pt_pte_t pte = pt_pte_load(n, it.i);
		if (entry_is_none(pte)) {
			if (entry_is_marker(pte) && walk_removes_markers(w, w->budget))
				walk_unmap_marker(w, n, &it);
			continue;
		}
		if (fmt_pte_is_leaf(pte, level)) {
			if (it.whole) {
				walk_leaf(w, n, it.i, level, it.base, pte);
				continue;
			}
			struct pt_node child = entry_split_huge(w->t, n, it.i, it.base,
								&w->reserve);
			walk_commit(w, child, level - 1, it.lo, it.hi);
			continue;
		}
		if (it.whole && w->action == WALK_UNMAP && !slot_pinned(w->t, level)) {
			walk_detach(w, n, it.i, level, it.base);
			continue;
		}
		walk_commit(w, entry_child_node(w->t->phys, pte), level - 1, it.lo, it.hi);
	}
}

/* Prepare, reserve, commit over [c->va, last] of the locked node. */
static int walk_run(struct walk *w, struct pt_cursor_state *c, uint64_t last)
{
	struct pt_node n = cursor_node(c);
	uint64_t need = 0, budget = w->budget;

	int err = walk_prepare(w, n, c->node_level, c->va, last, &need, &budget);
	if (err)
		return err;
	if (w->budget != UINT64_MAX && budget == w->budget)
		return PT_ENOENT; /* nothing mapped in the range */
	w->reserve = (struct pt_prealloc){ PT_NO_FRAME, 0 };
	if (need && (err = pt__reserve(w->t->phys, &w->reserve, need)))
		return err;
	walk_commit(w, n, c->node_level, c->va, last);
	if (w->reserve.count)
		pt__reserve_release(w->t->phys, &w->reserve);
	return 0;
}

/* take_next: removes one leaf or one subtree with mappings. */
static int cursor_take_next(struct pt_cursor_state *c, uint64_t last, struct pt_taken *taken,
			    struct pt_flush *flush)
{
	struct walk w = { .t = c->tree, .action = WALK_UNMAP, .budget = 1,
			  .flush = flush, .taken = taken };
	int err = walk_run(&w, c, last);
	if (err == 0)
		pt_cursor_advance(c, w.item_va, w.item_len);
	return err;
}

/* protect_next: protects one leaf, reports its range. */
static int cursor_protect_next(struct pt_cursor_state *c, uint64_t last,
			       void (*op)(struct pt_prop *, void *), void *arg, uint64_t *va_out,
			       uint64_t *len_out, struct pt_flush *flush)
{
	struct walk w = { .t = c->tree, .action = WALK_PROTECT, .budget = 1,
			  .flush = flush, .op = op, .op_arg = arg };
	int err = walk_run(&w, c, last);
	if (err)
		return err;
	if (va_out)
		*va_out = w.item_va;
	if (len_out)
		*len_out = w.item_len;
	pt_cursor_advance(c, w.item_va, w.item_len);
	return 0;
}

/*
 * The page-fault path of unmap: the entry of va at `level` of the locked
 * node n is the whole range, and it is a leaf.  Cleared with a store (a
 * plain unmap reports no final accessed/dirty bits): returns the old leaf,
 * or 0 (nothing done) when the entry is not a present leaf.  Nothing to
 * prepare, nothing to split.
 */
static inline pt_pte_t take_leaf_in_place(struct pt_node n, unsigned level, uint64_t va)
{
	unsigned i = entry_index(va, level);
	pt_pte_t pte = pt_pte_load(n, i);

	if (!fmt_pte_present(pte) || !fmt_pte_is_leaf(pte, level))
		return 0;
	entry_clear(false, n, i, pte);
	return pte;
}

/* A taken leaf's range into flush, then its frame if tracked: an early
 * delivery of the batch never releases what it has not invalidated. */
static inline void flush_taken_leaf(struct pt_flush *flush, uint64_t va, unsigned level,
				    pt_pte_t pte)
{
	pt__flush_add_range(flush, va, pt_level_size(level));
	if (fmt_pte_tracked(pte))
		pt__flush_add_frame(flush, fmt_pte_leaf_pa(pte, level));
}

static inline bool unmap_entry_in_place(struct pt_node n, unsigned level, uint64_t va,
					struct pt_flush *flush)
{
	pt_pte_t pte = take_leaf_in_place(n, level, va);

	if (pte)
		flush_taken_leaf(flush, va, level, pte);
	return pte != 0;
}

/* unmap over [c->va, last]: every mapping, into flush.  Not inlined: the
 * walk's state stays out of the frame that holds the caller's local batch
 * (every frame within 512 bytes, design §7). */
static __attribute__((noinline)) int cursor_unmap(struct pt_cursor_state *c, uint64_t last, struct pt_flush *flush)
{
	struct walk w = { .t = c->tree, .action = WALK_UNMAP, .budget = UINT64_MAX,
			  .flush = flush };

	if (cursor_at_one_entry(c, last) &&
	    unmap_entry_in_place(cursor_node(c), c->node_level, c->va, flush))
		return 0;
	return walk_run(&w, c, last);
}

/* protect over [c->va, last]: op on every mapping, into flush.  An op that
 * is always valid (set/clear of flags the format knows) lets whole
 * entries skip the prepare pass.  Not inlined, as cursor_unmap. */
static __attribute__((noinline)) int cursor_protect(struct pt_cursor_state *c, uint64_t last,
			  void (*op)(struct pt_prop *, void *), void *arg, bool op_always_valid,
			  struct pt_flush *flush)
{
	struct walk w = { .t = c->tree, .action = WALK_PROTECT, .budget = UINT64_MAX,
			  .flush = flush, .op = op, .op_arg = arg,
			  .op_always_valid = op_always_valid };
	return walk_run(&w, c, last);
}

/* ---- move ---- */

/*
 * pt_move of [from, from + len) by delta, walked over the source from the
 * cursor's node twice: dry (the prepare pass: counts the nodes the commit
 * will take, changes nothing), then for real.  A whole entry whose size
 * divides delta moves as it is: a leaf, or a node with its subtree in
 * O(1), as Linux's move_pgt_entry moves PMD and PUD entries.  A whole
 * huge leaf whose size does not goes as leaves of the largest size that
 * does; a huge leaf only partly inside is split first, as unmap splits
 * it.  Source nodes left empty inside the range are given back, as unmap
 * gives them back.
 */
struct move {
	struct pt_tree *t;
	uint64_t delta;            /* to - from, modulo 2^64 */
	struct pt_flush *flush;
	struct pt_node top;        /* the cursor's node: holds both ranges */
	unsigned top_level;
	bool dry;
	bool moved_nodes;          /* a node changed place */
	uint64_t need;             /* dry: nodes the commit will take */
	struct pt_prealloc reserve; /* commit: where it takes them */
	/* dry: per level, the base of the last destination node counted as
	 * made; destinations come in increasing order, so one is enough */
	uint64_t made[FMT_LEVELS];
};

/* The dry walk's stand-in for a node only the commit makes (a split, or
 * a destination node): every entry of a split is a leaf. */
static inline struct pt_node move_unmade(void)
{
	return (struct pt_node){ .pa = PT_NO_FRAME };
}

static inline bool move_is_unmade(struct pt_node n)
{
	return n.pa == PT_NO_FRAME;
}

static inline pt_pte_t move_src_pte(const struct move *m, struct pt_node s, unsigned i,
				    unsigned level)
{
	if (move_is_unmade(s))
		return fmt_pte_leaf(0, level, (struct pt_prop){ PT_R, PT_CACHE_WB }, false,
				    m->t->features);
	return pt_pte_load(s, i);
}

/*
 * The destination node at `level` whose entry holds va, walked down from
 * the cursor's node: a missing one is made from the reservation (commit)
 * or counted once (dry).  None in the way is a leaf: the destination
 * holds no mapping.
 */
static struct pt_node move_dst_node(struct move *m, uint64_t va, unsigned level)
{
	struct pt_node n = m->top;

	for (unsigned l = m->top_level; l > level; l--) {
		unsigned i = entry_index(va, l);
		pt_pte_t pte = move_is_unmade(n) ? 0 : pt_pte_load(n, i);

		if (entry_is_node(pte, l)) {
			n = entry_child_node(m->t->phys, pte);
			continue;
		}
		PT_ASSERT(entry_is_none(pte));
		if (!m->dry) {
			struct pt_node child = entry_alloc_child(m->t->phys, n, i, &m->reserve);
			entry_publish_new(n, i, child, m->t->features);
			n = child;
			continue;
		}
		uint64_t base = pt_entry_base(va, l);
		if (m->made[l - 1] != base) {
			m->made[l - 1] = base;
			m->need++;
		}
		n = move_unmade();
	}
	return n;
}

/*
 * Present entry i of s (mapping from va) to the free slot j of d, at the
 * same level: neither a leaf nor a table entry depends on where it sits,
 * so the value moves as it is, with a leaf's final accessed/dirty bits
 * (a live table's exchange) and trackedness (no reference changes hands).
 */
static void move_entry(struct move *m, struct pt_node s, unsigned i, struct pt_node d,
		       unsigned j, uint64_t va)
{
	unsigned level = pt_node_level(s);
	pt_pte_t pte = pt_pte_load(s, i);

	if (!fmt_pte_present(pte)) { /* a marker: uncounted, never in a TLB */
		entry_store(s, i, 0);
		entry_store(d, j, pte);
		return;
	}
	if (!entry_is_node(pte, level)) {
		pte = entry_clear(m->t->live, s, i, pte);
		entry_store(d, j, pte);
		d.meta->nr_children++;
		d.meta->nr_tracked += fmt_pte_tracked(pte);
		pt__flush_add_range(m->flush, va, pt_level_size(level));
		return;
	}
	struct child none = { .kind = CHILD_NONE };
	struct child node = entry_replace(s, i, &none, m->t->features);
	entry_replace(d, j, &node, m->t->features);
	m->moved_nodes = true;
	pt__flush_add_table_range(m->flush, va, pt_level_size(level));
}

/* Whether entries [i0, i1] of s hold anything to move: a mapping, a
 * node or a marker (which nr_children does not count). */
static bool move_run_present(struct pt_node s, unsigned i0, unsigned i1)
{
	if (move_is_unmade(s))
		return true;
	for (unsigned i = i0; i <= i1; i++)
		if (pt_pte_load(s, i))
			return true;
	return false;
}

/* Entries [i0, i1] of s (the first maps from va) to one destination node,
 * where the first goes to dst; empty subtrees in their way are dropped. */
static void move_run_to(struct move *m, struct pt_node s, unsigned level, unsigned i0,
			unsigned i1, uint64_t va, uint64_t dst)
{
	struct pt_node d = move_dst_node(m, dst, level);
	uint64_t size = pt_level_size(level);
	unsigned j0 = entry_index(dst, level);

	for (unsigned i = i0; !m->dry && i <= i1; i++) {
		uint64_t off = (uint64_t)(i - i0) * size;
		unsigned j = j0 + (i - i0);
		if (!pt_pte_load(s, i))
			continue;
		clear_empty_run(m->t, d, level, j, j, dst + off, m->flush);
		move_entry(m, s, i, d, j, va + off);
	}
}

/* Whole entries [i0, i1] of s (the first maps from va) at a level whose
 * size divides delta: each present one moves as it is, into at most two
 * destination nodes (made only where something goes).  Out of line, as
 * move_pieces: move_walk recurses once per level, with a small frame. */
static __attribute__((noinline)) void move_entry_run(struct move *m, struct pt_node s, unsigned level, unsigned i0,
			   unsigned i1, uint64_t va)
{
	uint64_t size = pt_level_size(level);

	for (unsigned i = i0; i <= i1;) {
		uint64_t at = va + (uint64_t)(i - i0) * size, dst = at + m->delta;
		unsigned room = node_entries(level) - 1 - entry_index(dst, level);
		unsigned end = i1 - i > room ? i + room : i1;

		if (move_run_present(s, i, end))
			move_run_to(m, s, level, i, end, at, dst);
		i = end + 1;
	}
}

/*
 * Whole huge leaf or huge marker i of s (mapping from va) at a level whose
 * size does not divide delta: at va + delta it becomes leaves (same pa,
 * same property) or markers of the largest size that does, filled one
 * destination node at a time.
 */
static __attribute__((noinline)) void move_pieces(struct move *m, struct pt_node s, unsigned i, unsigned level,
			uint64_t va)
{
	unsigned p = level - 1;
	while (m->delta & (pt_level_size(p) - 1))
		p--;
	uint64_t size = pt_level_size(level), span = pt_level_size(p + 1);
	int shift = pt_level_shift(p);
	pt_pte_t first = 0;
	int64_t step = 0;

	if (!m->dry && entry_is_marker(pt_pte_load(s, i))) {
		first = pt_pte_load(s, i); /* every piece holds the same value */
		entry_store(s, i, 0);
	} else if (!m->dry) {
		pt_pte_t pte = entry_clear(m->t->live, s, i, pt_pte_load(s, i));
		PT_ASSERT(!fmt_pte_tracked(pte)); /* tracked mappings are base pages */
		pt__flush_add_range(m->flush, va, size);
		first = fmt_pte_leaf(fmt_pte_leaf_pa(pte, level), p,
				     fmt_pte_leaf_prop(pte, level, m->t->features), false,
				     m->t->features);
		step = fmt_pte_leaf_step(first, p);
	}
	for (uint64_t off = 0; off < size;) {
		uint64_t dst = va + m->delta + off;
		uint64_t chunk = pt_min_u64(span - (dst & (span - 1)), size - off);
		struct pt_node d = move_dst_node(m, dst, p);
		if (!m->dry) {
			unsigned j0 = entry_index(dst, p), j1 = j0 + (unsigned)(chunk >> shift) - 1;
			clear_empty_run(m->t, d, p, j0, j1, dst, m->flush);
			if (entry_is_marker(first))
				entry_mark_run(d, j0, j1, first);
			else
				entry_fill_run(d, j0, j1, first + (uint64_t)step * (off >> shift),
					       step);
		}
		off += chunk;
	}
}

/* Huge leaf or marker i of s, partly inside: split (commit) or counted
 * (dry). */
static struct pt_node move_split(struct move *m, struct pt_node s, unsigned i, uint64_t va)
{
	if (!m->dry)
		return entry_split(m->t, s, i, va, &m->reserve);
	m->need++;
	return move_unmade();
}

/* Everything of [va, last] below s (level `level`) moves by delta. */
static void move_walk(struct move *m, struct pt_node s, unsigned level, uint64_t va,
		      uint64_t last)
{
	bool as_is = (m->delta & (pt_level_size(level) - 1)) == 0 && !slot_pinned(m->t, level);
	struct entry_iter it;

	for_each_entry_in(it, va, last, level) {
		if (as_is && it.whole) {
			unsigned i1 = entry_iter_run_end(&it);
			move_entry_run(m, s, level, it.i, i1, it.base);
			it.i = i1;
			continue;
		}
		pt_pte_t pte = move_src_pte(m, s, it.i, level);
		if (pte == 0)
			continue;
		if (!entry_is_node(pte, level)) { /* a leaf or a marker */
			if (it.whole)
				move_pieces(m, s, it.i, level, it.base);
			else
				move_walk(m, move_split(m, s, it.i, it.base), level - 1, it.lo,
					  it.hi);
			continue;
		}
		move_walk(m, entry_child_node(m->t->phys, pte), level - 1, it.lo, it.hi);
		/* Emptied by the walk: given back, as unmap would. */
		if (it.whole && !slot_pinned(m->t, level) && !m->dry)
			entry_detach_node(m->t->phys, s, it.i, it.base, m->flush, NULL,
					  m->t->features);
	}
}

/*
 * pt_move in the cursor's range, which holds [from, from + len) and
 * [to, to + len): PT_EEXIST if the destination maps anything; then the
 * nodes the destination and the splits need, reserved (the only step
 * that can fail); then the move.  A relocated node bumps the tree's
 * `moves` before the cursor unlocks, so that a cursor that walked to it
 * before retries (lock_deepest).  Not inlined, as cursor_unmap.
 */
static __attribute__((noinline)) int cursor_move(struct pt_cursor_state *c, uint64_t from,
						  uint64_t to, uint64_t len,
						  struct pt_flush *flush)
{
	struct move m = { .t = c->tree, .delta = to - from, .flush = flush,
			  .top = cursor_node(c), .top_level = c->node_level, .dry = true,
			  .reserve = { PT_NO_FRAME, 0 } };
	uint64_t last = from + (len - 1);
	int err;

	/* The destination must be empty: no mapping, no marker (one walk). */
	if (find_occupied(c->tree, m.top, m.top_level, to, to + (len - 1)))
		return PT_EEXIST;
	for (unsigned l = 0; l < FMT_LEVELS; l++)
		m.made[l] = PT_NO_FRAME; /* no node's base */
	move_walk(&m, m.top, m.top_level, from, last);
	if (m.need && (err = pt__reserve(c->tree->phys, &m.reserve, m.need)))
		return err;
	m.dry = false;
	move_walk(&m, m.top, m.top_level, from, last);
	PT_ASSERT(m.reserve.count == 0);
	if (fmt_flush_new_mappings(c->tree->features))
		pt__flush_add_range(flush, to, len);
	if (m.moved_nodes)
		atomic_fetch_add_explicit(&c->tree->moves, 1, memory_order_release);
	return 0;
}

#endif
