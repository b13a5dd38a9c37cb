/* SPDX-License-Identifier: MPL-2.0 */
/*
 * table_template.h - whole-table operations for one format: create and
 * destroy, map, unmap and protect of a validated range (one cursor, one
 * walk), lock-free query and iteration, release of removed subtrees,
 * statistics.  Per format: include a format header first, and define
 * FMT_SYMBOL, the format's struct pt_format (engine_instance.h).
 */
#ifndef PTKIT_SRC_TABLE_TEMPLATE_H
#define PTKIT_SRC_TABLE_TEMPLATE_H

#if !defined(FMT_LEVELS) || !defined(FMT_SYMBOL)
#error "include a format header (src/formats/<fmt>.h) and define FMT_SYMBOL before table_template.h"
#endif

#include "cursor/cursor_template.h"
#include "nodes/walk_template.h"
#include "platform/rcu.h"
#include "table/checks.h"
#include "table/table_internal.h"

/* The format this engine instance serves (defined by engine_instance.h). */
extern const struct pt_format FMT_SYMBOL;

/* Only this format's tables reach its engine: saying so makes the format's
 * limits in the argument checks constants, not loads. */
static inline void assume_own_format(const struct pt_table *t)
{
	if (t->fmt != &FMT_SYMBOL)
		__builtin_unreachable();
}

/* Root slots of the kernel half: [first, FMT_ROOT_ENTRIES) of a shared root.
 * With one root per half (AArch64), a kernel root is all kernel half and
 * a user root has none. */
static inline unsigned kernel_first_slot(const struct pt_table *t)
{
	if (!FMT_SHARED_KERNEL_ROOT)
		return t->tree.space == PT_SPACE_KERNEL ? 0 : FMT_ROOT_ENTRIES;
	return entry_index(FMT_KERNEL_START, FMT_LEVELS);
}

/* The first va of root slot i, sign-extended in the kernel half. */
static inline uint64_t root_entry_va(const struct pt_table *t, unsigned i)
{
	uint64_t va = (uint64_t)i * pt_level_size(FMT_LEVELS);
	return i >= kernel_first_slot(t) ? va | FMT_KERNEL_START : va;
}

/*
 * The root with the reservation for the pinned kernel nodes: a one-page
 * root comes from the same reservation; a multi-page one (stage 2, no
 * kernel half) is 2^FMT_ROOT_ORDER frames aligned to their size, as the
 * hardware reads them as one table (design §3).
 */
static int root_alloc(struct pt_phys *phys, uint64_t pinned, struct pt_prealloc *r,
		      struct pt_node *root)
{
	uint64_t pa;
	int err;

	if (!FMT_ROOT_ORDER) {
		err = pt__reserve(phys, r, 1 + pinned);
		if (!err)
			*root = pt_node_new(phys, r, FMT_LEVELS);
		return err;
	}
	PT_ASSERT(pinned == 0);
	*r = (struct pt_prealloc){ PT_NO_FRAME, 0 };
	err = pt__frames_alloc(phys, PT_USAGE_NODE, FMT_ROOT_ORDER, &pa);
	if (!err)
		*root = pt_node_init(phys, pa, FMT_LEVELS);
	return err;
}

static int table_init(struct pt_table *t)
{
	struct pt_phys *phys = t->tree.phys;
	bool kernel = t->tree.space == PT_SPACE_KERNEL;
	/* Nodes under a kernel root's slots exist for sharing only. */
	unsigned first = FMT_SHARED_KERNEL_ROOT ? kernel_first_slot(t) : FMT_ROOT_ENTRIES;
	uint64_t pinned = kernel ? FMT_ROOT_ENTRIES - first : 0;
	struct pt_prealloc r;
	struct pt_node root;

	int err = root_alloc(phys, pinned, &r, &root);
	if (err)
		return err;
	for (unsigned i = first; i < FMT_ROOT_ENTRIES; i++) {
		if (kernel) {
			/* Allocated now and kept for life, so kernel mappings
			 * made later reach every user table (design §5). */
			struct pt_node child = entry_alloc_child(phys, root, i, &r);
			entry_publish_new(root, i, child, t->tree.features);
			pt_node_unlock(child);
		} else if (t->kernel) {
			pt_pte_t pte = pt_pte_load(pt_node_at(phys, t->kernel->tree.root_pa), i);
			struct child shared = { .kind = CHILD_NODE, .pa = fmt_pte_table_pa(pte),
						.level = FMT_LEVELS - 1 };
			entry_replace(root, i, &shared, t->tree.features);
		}
	}
	pt_node_unlock(root);
	PT_ASSERT(r.count == 0);
	t->tree.root_pa = root.pa;
	return 0;
}

/* A removed subtree's tracked frames lose the table's reference: right
 * after the invalidation (ptkit never reads data frames). */
static void subtree_put_tracked(struct pt_phys *phys, struct pt_node n)
{
	unsigned level = pt_node_level(n);
	/* Huge leaves are never tracked: only child nodes and tracked 4K
	 * leaves make a node worth reading. */
	bool scan = n.meta->nr_nodes != 0 || n.meta->nr_tracked != 0;

	for (unsigned i = 0; scan && i < node_entries(level); i++) {
		pt_pte_t pte = pt_pte_load(n, i);
		if (!fmt_pte_present(pte))
			continue;
		if (!fmt_pte_is_leaf(pte, level))
			subtree_put_tracked(phys, entry_child_node(phys, pte));
		else if (fmt_pte_tracked(pte))
			pt__frame_put_valid(phys, fmt_pte_leaf_pa(pte, level));
	}
}

/* After the invalidation: frames now, nodes (chained by subtree_retire)
 * after a grace period, so no lock-free walker is still inside them. */
static void table_release_subtree(struct pt_phys *phys, uint64_t node_pa)
{
	subtree_put_tracked(phys, pt_node_at(phys, node_pa));
	pt__rcu_defer_chain(phys, node_pa);
}

/* Destroy: nobody else is inside the table (design §5), free at once. */
static void subtree_free_now(struct pt_phys *phys, struct pt_node n)
{
	unsigned level = pt_node_level(n);

	for (unsigned i = 0; n.meta->nr_nodes && i < node_entries(level); i++) {
		pt_pte_t pte = pt_pte_load(n, i);
		if (entry_is_node(pte, level))
			subtree_free_now(phys, entry_child_node(phys, pte));
	}
	pt__frame_free(phys, n.pa);
}

static void table_teardown(struct pt_table *t)
{
	struct pt_phys *phys = t->tree.phys;
	struct pt_node root = pt_node_at(phys, t->tree.root_pa);
	unsigned borrowed_from = t->kernel ? kernel_first_slot(t) : FMT_ROOT_ENTRIES;

	for (unsigned i = 0; i < borrowed_from; i++) {
		pt_pte_t pte = pt_pte_load(root, i);
		if (!entry_is_node(pte, FMT_LEVELS))
			continue;
		struct pt_node child = entry_child_node(phys, pte);
		subtree_put_tracked(phys, child);
		subtree_free_now(phys, child);
	}
	pt__frames_free(phys, root.pa, FMT_ROOT_ORDER);
}

static int table_query(struct pt_table *t, uint64_t va, struct pt_mapping *out)
{
	const struct pt_tree *tr = &t->tree;

	pt_rcu_read_lock(tr->phys);
	int err = lookup_leaf(tr, pt_node_at(tr->phys, tr->root_pa), FMT_LEVELS, va, out);
	pt_rcu_read_unlock(tr->phys);
	return err;
}

static int visit_leaves(const struct pt_tree *t, struct pt_node n, unsigned level, uint64_t va,
			uint64_t last, int (*fn)(const struct pt_mapping *, void *), void *arg)
{
	struct entry_iter it;

	for_each_entry_in(it, va, last, level) {
		pt_pte_t pte = pt_pte_load(n, it.i);
		int ret = 0;
		if (entry_is_none(pte))
			continue;
		if (fmt_pte_is_leaf(pte, level)) {
			struct pt_mapping m;
			mapping_of_leaf(pte, level, it.base, t->features, &m);
			ret = fn(&m, arg);
		} else {
			ret = visit_leaves(t, entry_child_node(t->phys, pte), level - 1, it.lo, it.hi,
					   fn, arg);
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int table_for_each(struct pt_table *t, uint64_t va, uint64_t last,
			  int (*fn)(const struct pt_mapping *, void *), void *arg)
{
	const struct pt_tree *tr = &t->tree;

	pt_rcu_read_lock(tr->phys);
	int ret = visit_leaves(tr, pt_node_at(tr->phys, tr->root_pa), FMT_LEVELS, va, last, fn,
			       arg);
	pt_rcu_read_unlock(tr->phys);
	return ret;
}

static void count_subtree(const struct pt_phys *phys, struct pt_node n,
			  struct pt_table_stats *st)
{
	unsigned level = pt_node_level(n);

	st->nodes[level]++;
	for (unsigned i = 0; i < node_entries(level); i++) {
		pt_pte_t pte = pt_pte_load(n, i);
		if (entry_is_none(pte))
			continue;
		if (fmt_pte_is_leaf(pte, level)) {
			st->mappings[level]++;
			st->tracked += fmt_pte_tracked(pte);
			st->mapped_bytes += pt_level_size(level);
		} else {
			count_subtree(phys, entry_child_node(phys, pte), st);
		}
	}
}

static void table_stats(struct pt_table *t, struct pt_table_stats *out)
{
	*out = (struct pt_table_stats){ 0 };
	count_subtree(t->tree.phys, pt_node_at(t->tree.phys, t->tree.root_pa), out);
}

/* ---- whole-range operations: one cursor, one walk ---- */

/*
 * The level of which [va, last] is exactly one whole entry, or 0: the
 * page-fault path's case, where the cursor's node is the entry's.
 */
static inline unsigned whole_entry_level(uint64_t va, uint64_t last)
{
	uint64_t size = last - va + 1; /* 0: all of 2^64 */
	unsigned shift = (unsigned)__builtin_ctzll(size | (UINT64_C(1) << 63));

	if (size & (size - 1) || (va & (size - 1)) || (shift - PT_PAGE_SHIFT) % 9 != 0)
		return 0;
	unsigned level = (shift - PT_PAGE_SHIFT) / 9 + 1;
	return level <= FMT_LEVELS ? level : 0;
}

static inline bool one_page(uint64_t va, uint64_t last)
{
	return last - va == PT_PAGE_SIZE - 1;
}

/* A cursor over the whole range, and a batch for a caller that passes none. */
static void range_open(struct pt_table *t, uint64_t va, uint64_t last,
		       struct pt_cursor_state *c, struct pt_flush *local)
{
	pt__flush_reset(local, &t->tree.sink);
	cursor_begin(c, &t->tree, va, last);
}

/* Unlocks, then invalidates and releases what the local batch holds. */
static int range_close(struct pt_cursor_state *c, struct pt_flush *local, int err)
{
	cursor_unlock(c);
	pt__flush_deliver_pending(local);
	return err;
}

/* The general map of [va, last] from the node at node_pa, which
 * lock_deepest locked for it at level `at`.  Out of line: its frame (the
 * cursor, a local batch) stays off the page-fault path; src, passed by
 * value, and the node, passed by address, stay in the caller's registers. */
static __attribute__((noinline)) int map_from(struct pt_table *t, uint64_t va, uint64_t last,
					      struct pt_map_src src, uint64_t node_pa, unsigned at)
{
	struct pt_cursor_state c;
	struct pt_flush local;

	cursor_adopt(&c, &t->tree, va, last, pt_node_at(t->tree.phys, node_pa), at);
	pt__flush_reset(&local, &t->tree.sink);
	return range_close(&c, &local, cursor_map(&c, last, &src, &local));
}

/*
 * Locks the node a cursor on [va, last] would lock (stop_shift as
 * range_stop_shift); when the range is one whole entry at `level` (0: it
 * is not) in that node and its slot is free, the map is one store (the
 * page-fault path).  A format that invalidates new mappings takes the
 * general map, which batches the invalidation.
 */
static inline int map_locking(struct pt_table *t, uint64_t va, uint64_t last, unsigned level,
			      int stop_shift, const struct pt_map_src *src)
{
	struct pt_tree *tr = &t->tree;
	pt_pte_t leaf = map_whole_entry_leaf(tr, level, va, src);
	unsigned at;

	uint32_t moves = pt_moves_before_walk(tr);
	pt_rcu_read_lock(tr->phys);
	struct pt_node n = lock_deepest_entered(tr, va, stop_shift, moves, &at);
	if (at != level || !leaf || fmt_flush_new_mappings(tr->features) ||
	    !store_leaf_in_place(tr, n, level, va, leaf))
		return map_from(t, va, last, *src, n.pa, at);
	pt_node_unlock(n);
	pt_rcu_read_unlock(tr->phys);
	return 0;
}

/* Every whole-range map: one 4 KiB page with constants, one huge entry, or
 * the general map. */
static inline int map_range(struct pt_table *t, uint64_t va, uint64_t last,
			    const struct pt_map_src *src)
{
	if (one_page(va, last))
		/* last spelled from va: one value fewer to keep across the walk. */
		return map_locking(t, va, va + (PT_PAGE_SIZE - 1), 1, PT_PAGE_SHIFT, src);
	unsigned level = whole_entry_level(va, last);
	return map_locking(t, va, last, level,
			   level ? pt_level_shift(level) : range_stop_shift(va, last), src);
}

static int table_map(struct pt_table *t, uint64_t va, uint64_t last,
		     const struct pt_map_src *src)
{
	return map_range(t, va, last, src);
}

/* All of pt_map for this format: its checks in the documented order, with
 * the format's normalize inlined (the page-fault path's entry). */
static int table_map_checked(struct pt_table *t, uint64_t va, uint64_t pa, uint64_t len,
			     struct pt_prop prop)
{
	struct pt_map_src src;

	assume_own_format(t);
	int err = map_checks(t, va, pa, len, fmt_prop_normalize(prop, t->tree.features, &src.prop),
			     &src);

	if (err)
		return err;
	return map_range(t, va, va + (len - 1), &src);
}

/* The general unmap of [va, last] from the node at node_pa, as map_from;
 * into flush, or a local batch delivered before returning. */
static __attribute__((noinline)) int unmap_from(struct pt_table *t, uint64_t va, uint64_t last,
						struct pt_flush *flush, uint64_t node_pa,
						unsigned at)
{
	struct pt_cursor_state c;
	struct pt_flush local;

	pt__flush_reset(&local, &t->tree.sink);
	cursor_adopt(&c, &t->tree, va, last, pt_node_at(t->tree.phys, node_pa), at);
	return range_close(&c, &local, cursor_unmap(&c, last, flush ? flush : &local));
}

/*
 * As map_locking: a leaf that is the whole range is cleared with a store.
 * It goes into the caller's batch, or, when there is none, is invalidated
 * and released right after the unlock: one range and at most one frame
 * need no batch (the page-fault path's unmap).
 */
static pt_always_inline int unmap_locking(struct pt_table *t, uint64_t va, uint64_t last,
					  unsigned level, int stop_shift, struct pt_flush *flush)
{
	struct pt_tree *tr = &t->tree;
	unsigned at;
	struct pt_node n = lock_deepest(tr, va, stop_shift, &at);
	pt_pte_t pte = at == level ? take_leaf_in_place(n, level, va) : 0;

	if (!pte)
		return unmap_from(t, va, last, flush, n.pa, at);
	if (flush)
		flush_taken_leaf(flush, va, level, pte);
	pt_node_unlock(n);
	pt_rcu_read_unlock(tr->phys);
	if (!flush) {
		pt__invalidate_now(&tr->sink, va, pt_level_size(level), false);
		if (fmt_pte_tracked(pte))
			pt__frame_put_valid(tr->phys, fmt_pte_leaf_pa(pte, level));
	}
	return 0;
}

static int table_unmap(struct pt_table *t, uint64_t va, uint64_t last, struct pt_flush *flush)
{
	if (one_page(va, last))
		return unmap_locking(t, va, last, 1, PT_PAGE_SHIFT, flush);
	unsigned level = whole_entry_level(va, last);
	return unmap_locking(t, va, last, level,
			     level ? pt_level_shift(level) : range_stop_shift(va, last), flush);
}

static int table_protect(struct pt_table *t, uint64_t va, uint64_t last,
			 void (*op)(struct pt_prop *, void *), void *arg, bool op_always_valid,
			 struct pt_flush *flush)
{
	struct pt_cursor_state c;
	struct pt_flush local;

	range_open(t, va, last, &c, &local);
	return range_close(&c, &local, cursor_protect(&c, last, op, arg, op_always_valid,
						      flush ? flush : &local));
}

/* pt_move: one cursor over [min(from, to), max(from, to) + len), so both
 * ranges, and the nodes they share, are locked in the one global order
 * (design §6). */
static int table_move(struct pt_table *t, uint64_t from, uint64_t to, uint64_t len,
		      struct pt_flush *flush)
{
	struct pt_cursor_state c;
	struct pt_flush local;

	pt__flush_reset(&local, &t->tree.sink);
	cursor_begin(&c, &t->tree, pt_min_u64(from, to), pt_max_u64(from, to) + (len - 1));
	return range_close(&c, &local, cursor_move(&c, from, to, len, flush ? flush : &local));
}

#endif
