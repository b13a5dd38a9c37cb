/* SPDX-License-Identifier: MPL-2.0 */
/*
 * entry_template.h - the seed's Entry/Child layer (design §3), for one
 * format: include a format header (src/formats/<fmt>.h, which defines
 * pt_pte_t and the fmt_* functions) first; everything here is static.
 *
 * Each function here acts on one PTE slot of a node that the calling cursor
 * holds locked (it locks every node in its range, design §6) and keeps the
 * contracts of the seed (Asterinas OSTD's node/entry.rs, design §3); debug
 * builds assert them:
 *  - replace: nr_children +1 on absent->present, -1 on present->absent; a
 *    node child is one level below, a frame child at this level;
 *  - protect: only a present leaf's properties change, never its address,
 *    size, trackedness, nor the node's nr_children;
 *  - alloc_if_none / split_if_mapped_huge: the new child is complete and
 *    locked before the release store that publishes it.
 * Bulk variants (runs of leaves) keep the same contracts per slot.
 */
#ifndef PTKIT_SRC_ENTRY_TEMPLATE_H
#define PTKIT_SRC_ENTRY_TEMPLATE_H

#ifndef FMT_LEVELS
#error "include a format header (src/formats/<fmt>.h) before entry_template.h"
#endif

#include "flush/flush.h"
#include "nodes/node.h"
#include "nodes/tree.h"

/*
 * The root may be 2^FMT_ROOT_ORDER concatenated pages (stage 2: a wider
 * top level, design §3); every other node is one page of 512 entries.
 * With a one-page root these fold to the constants they replace, so the
 * stage-1 formats' walks are unchanged.
 */
#define FMT_ROOT_ENTRIES (PT_NR_ENTRIES << FMT_ROOT_ORDER)

/* Entries of a node at `level`. */
static inline unsigned node_entries(unsigned level)
{
	return FMT_ROOT_ORDER && level == FMT_LEVELS ? FMT_ROOT_ENTRIES : PT_NR_ENTRIES;
}

/* Index of va's entry in a node at `level`. */
static inline unsigned entry_index(uint64_t va, unsigned level)
{
	return (unsigned)(va >> pt_level_shift(level)) & (node_entries(level) - 1);
}

/* Bytes one node at `level` maps, minus one (its alignment mask). */
static inline uint64_t node_span_mask(unsigned level)
{
	return pt_level_size(level) * node_entries(level) - 1;
}

/* What a PTE stands for (the seed's Child). */
enum child_kind { CHILD_NONE, CHILD_NODE, CHILD_FRAME };

struct child {
	enum child_kind kind;
	uint64_t pa;
	unsigned level;      /* node: its level; frame: the leaf's level */
	struct pt_prop prop; /* frame only */
	bool tracked;        /* frame only */
};

static struct child child_from_pte(pt_pte_t pte, unsigned level, uint32_t features)
{
	if (!fmt_pte_present(pte))
		return (struct child){ .kind = CHILD_NONE };
	if (!fmt_pte_is_leaf(pte, level))
		return (struct child){ .kind = CHILD_NODE, .pa = fmt_pte_table_pa(pte),
				       .level = level - 1 };
	return (struct child){ .kind = CHILD_FRAME, .pa = fmt_pte_leaf_pa(pte, level),
			       .level = level,
			       .prop = fmt_pte_leaf_prop(pte, level, features),
			       .tracked = fmt_pte_tracked(pte) };
}

static pt_pte_t child_into_pte(const struct child *c, uint32_t features)
{
	switch (c->kind) {
	case CHILD_NODE:
		return fmt_pte_table(c->pa);
	case CHILD_FRAME:
		return fmt_pte_leaf(c->pa, c->level, c->prop, c->tracked, features);
	default:
		return 0;
	}
}

static inline bool entry_is_none(pt_pte_t pte) { return !fmt_pte_present(pte); }

/* A marker (pt_mark) at any level: only markers are non-present and not 0
 * (pt_check, rule 7). */
static inline bool entry_is_marker(pt_pte_t pte) { return pte && !fmt_pte_present(pte); }

/* The format answers in one test what the two below ask. */
static inline bool entry_is_node(pt_pte_t pte, unsigned level)
{
	bool node = fmt_pte_is_table(pte, level);

	PT_ASSERT(node == (fmt_pte_present(pte) && !fmt_pte_is_leaf(pte, level)));
	return node;
}

static inline struct pt_node entry_child_node(const struct pt_phys *phys, pt_pte_t pte)
{
	return pt_node_at(phys, fmt_pte_table_pa(pte));
}

/* Stores a leaf or clears a slot under the lock: lock-free walkers only need
 * an untorn value. */
static inline void entry_store(struct pt_node n, unsigned idx, pt_pte_t pte)
{
	atomic_store_explicit(&n.ptes[idx], pte, memory_order_relaxed);
}

/* Publishes a complete node: everything written into it before happens
 * before any walker that reads this pointer. */
static inline void entry_publish(struct pt_node n, unsigned idx, pt_pte_t pte)
{
	atomic_store_explicit(&n.ptes[idx], pte, memory_order_release);
}

/* The seed's replace(): returns the old child. */
static struct child entry_replace(struct pt_node n, unsigned idx, const struct child *new,
				  uint32_t features)
{
	unsigned level = pt_node_level(n);
	pt_pte_t old_pte = pt_pte_load(n, idx);
	struct child old = child_from_pte(old_pte, level, features);

	PT_ASSERT(new->kind != CHILD_NODE || new->level == level - 1);
	PT_ASSERT(new->kind != CHILD_FRAME || new->level == level);
	if (old.kind == CHILD_NONE && new->kind != CHILD_NONE)
		n.meta->nr_children++;
	else if (old.kind != CHILD_NONE && new->kind == CHILD_NONE)
		n.meta->nr_children--;
	n.meta->nr_tracked += (new->kind == CHILD_FRAME && new->tracked) -
			      (old.kind == CHILD_FRAME && old.tracked);
	n.meta->nr_nodes += (new->kind == CHILD_NODE) - (old.kind == CHILD_NODE);
	PT_ASSERT(n.meta->nr_children <= node_entries(pt_node_level(n)));
	if (new->kind == CHILD_NODE)
		entry_publish(n, idx, child_into_pte(new, features));
	else
		entry_store(n, idx, child_into_pte(new, features));
	return old;
}

/* Whether two values of one slot differ only in what the hardware sets. */
static inline bool entry_same_but_hw(pt_pte_t a, pt_pte_t b)
{
	return ((a ^ b) & ~FMT_HW_BITS) == 0;
}

/* The seed's replace(None) for a leaf the caller already read: the slot
 * becomes absent, nr_children drops (no decode: hot in unmap).  Returns the
 * leaf's final value: on a live table an exchange, so accessed/dirty bits
 * the hardware set since the read are not lost (take_next reports them). */
static inline pt_pte_t entry_clear(bool live, struct pt_node n, unsigned idx, pt_pte_t old)
{
	PT_ASSERT(entry_same_but_hw(pt_pte_load(n, idx), old) && fmt_pte_present(old));
	PT_ASSERT(n.meta->nr_children > 0);
	if (live)
		old = atomic_exchange_explicit(&n.ptes[idx], 0, memory_order_relaxed);
	else
		entry_store(n, idx, 0);
	n.meta->nr_children--;
	n.meta->nr_tracked -= fmt_pte_tracked(old);
	return old;
}

/*
 * Break-before-make (AArch64): the slot becomes invalid and its range is
 * invalidated now, before the caller writes what replaces it.  Returns the
 * old value.  The slot's counters are the caller's: it refills the slot.
 */
static pt_pte_t entry_break(const struct pt_tree *t, struct pt_node n, unsigned idx,
			    uint64_t va, bool nodes_removed)
{
	pt_pte_t old = atomic_exchange_explicit(&n.ptes[idx], 0, memory_order_relaxed);

	pt__invalidate_now(&t->sink, va, pt_level_size(pt_node_level(n)), nodes_removed);
	return old;
}

/* Bits the hardware set in a huge leaf while it was being split go to
 * every piece (the pieces are not visible yet). */
static void entry_or_all(struct pt_node n, pt_pte_t bits)
{
	/* ACSL: for the WP proof of the entry layer (tests/wp/entry.c). */
	/*@ loop invariant 0 <= i <= PT_NR_ENTRIES;
	    loop invariant \forall integer j; 0 <= j < i ==>
	                     n.ptes[j] == (\at(n.ptes[j], LoopEntry) | bits);
	    loop invariant \forall integer j; i <= j < PT_NR_ENTRIES ==>
	                     n.ptes[j] == \at(n.ptes[j], LoopEntry);
	    loop assigns i, n.ptes[0 .. PT_NR_ENTRIES - 1];
	    loop variant PT_NR_ENTRIES - i; */
	for (unsigned i = 0; bits && i < PT_NR_ENTRIES; i++)
		entry_store(n, i, pt_pte_load(n, i) | bits);
}

/*
 * Replaces `old`, a slot value the caller read, by `new` on a live table,
 * where the hardware may set accessed/dirty bits between the read and the
 * write: a compare-exchange keeps what it set meanwhile (and only that: a
 * bit the caller cleared stays clear).  The late bits go into `new` itself,
 * or, when `new` points to the pieces of a split leaf, into every piece
 * (not yet visible: this store publishes them).
 */
static void entry_swap_keeping_hw(struct pt_node n, unsigned idx, pt_pte_t old, pt_pte_t new,
				  const struct pt_node *pieces)
{
	pt_pte_t seen = old;

	/* ACSL (tests/wp/entry.c): `new` and the pieces gain hardware bits
	 * only. */
	/*@ loop invariant \forall integer k; 0 <= k < 64 && !bit_test(FMT_HW_BITS, k) ==>
	                     (bit_test(new, k) <==> bit_test(\at(new, LoopEntry), k));
	    loop invariant pieces != \null ==> \forall integer j, k;
	                     0 <= j < PT_NR_ENTRIES && 0 <= k < 64 && !bit_test(FMT_HW_BITS, k) ==>
	                     (bit_test(pieces->ptes[j], k) <==>
	                      bit_test(\at(pieces->ptes[j], LoopEntry), k));
	    loop assigns seen, old, new, n.ptes[idx],
	                 pieces->ptes[0 .. (pieces == \null ? -1 : PT_NR_ENTRIES - 1)]; */
	while (!atomic_compare_exchange_weak_explicit(&n.ptes[idx], &seen, new,
						      memory_order_release, memory_order_relaxed)) {
		PT_ASSERT(entry_same_but_hw(seen, old));
		pt_pte_t late = seen & ~old & FMT_HW_BITS;
		if (pieces)
			entry_or_all(*pieces, late);
		else
			new |= late;
		old = seen;
	}
}

/* Replaces a present leaf the caller read as `old` by `new` (protect). */
static void entry_rewrite_leaf(const struct pt_tree *t, struct pt_node n, unsigned idx,
			       uint64_t va, pt_pte_t old, pt_pte_t new)
{
	if (fmt_update_needs_break(old, new)) {
		pt_pte_t last = entry_break(t, n, idx, va, false);
		entry_store(n, idx, new | (last & ~old & FMT_HW_BITS));
	} else if (t->live && FMT_HW_BITS != 0) {
		entry_swap_keeping_hw(n, idx, old, new, NULL);
	} else {
		entry_store(n, idx, new);
	}
}

/*
 * The seed's protect(): a present leaf gets new (normalized) properties,
 * computed when the leaf's hardware-set bits were `seen_hw` (maybe before
 * a split made it out of a huge leaf).  What the hardware set since then is
 * kept.
 */
static void entry_protect(const struct pt_tree *t, struct pt_node n, unsigned idx,
			  uint64_t va, pt_pte_t seen_hw, struct pt_prop prop)
{
	unsigned level = pt_node_level(n);
	pt_pte_t pte = pt_pte_load(n, idx);
	uint16_t nr_before = n.meta->nr_children;

	PT_ASSERT(fmt_pte_present(pte) && fmt_pte_is_leaf(pte, level));
	pt_pte_t new = fmt_pte_leaf(fmt_pte_leaf_pa(pte, level), level, prop,
				    fmt_pte_tracked(pte), t->features) |
		       (pte & ~seen_hw & FMT_HW_BITS);
	if (new != pte)
		entry_rewrite_leaf(t, n, idx, va, pte, new);
	PT_ASSERT(fmt_pte_leaf_pa(new, level) == fmt_pte_leaf_pa(pte, level));
	PT_ASSERT(fmt_pte_tracked(new) == fmt_pte_tracked(pte));
	PT_ASSERT(n.meta->nr_children == nr_before);
	(void)nr_before;
}

/*
 * Slots [i0, i1] of a locked node, free or holding markers, get `marker`:
 * its encoding does not depend on the level, and markers do not count in
 * nr_children.  Nothing to invalidate: the hardware sees nothing there
 * before or after.
 */
static void entry_mark_run(struct pt_node n, unsigned i0, unsigned i1, pt_pte_t marker)
{
	PT_ASSERT(entry_is_marker(marker));
	for (unsigned i = i0; i <= i1; i++) {
		PT_ASSERT(entry_is_none(pt_pte_load(n, i)));
		entry_store(n, i, marker);
	}
}

/* A new (unpublished) node below a slot that held `pte`: a huge marker
 * there becomes 512 markers of the next size, the same pages marked. */
static void entry_fill_marker(struct pt_node n, pt_pte_t pte)
{
	if (pte)
		entry_mark_run(n, 0, PT_NR_ENTRIES - 1, pte);
}

/*
 * The seed's alloc_if_none(): an absent slot of a node above level 1 gets a
 * child node from the reservation, zeroed, or, where the slot holds a huge
 * marker, holding that marker in every slot (the marker split one level, so
 * a change to part of it keeps the rest).  The child is returned locked and
 * *not yet published*: the caller fills it, then entry_publish_new().  It
 * stays locked until the cursor closes.
 */
static struct pt_node entry_alloc_child(struct pt_phys *phys, struct pt_node n,
					unsigned idx, struct pt_prealloc *r)
{
	pt_pte_t pte = pt_pte_load(n, idx);

	PT_ASSERT(pt_node_level(n) > 1);
	PT_ASSERT(entry_is_none(pte));
	struct pt_node child = pt_node_new(phys, r, pt_node_level(n) - 1);
	entry_fill_marker(child, pte);
	return child;
}

/* Installs a node made by entry_alloc_child or entry_split_huge. */
static void entry_publish_new(struct pt_node n, unsigned idx, struct pt_node child,
			      uint32_t features)
{
	struct child c = { .kind = CHILD_NODE, .pa = child.pa, .level = pt_node_level(child) };

	entry_replace(n, idx, &c, features);
}

/*
 * Fills slots [i0, i1] of a locked node with consecutive leaves starting at
 * `first` (a run of the same kind: the pa advances by one page per slot).
 * The slots must be absent (the prepare pass checked).
 */
static void entry_fill_run(struct pt_node n, unsigned i0, unsigned i1, pt_pte_t first,
			   int64_t step)
{
	pt_pte_t pte = first;

	/*@ loop invariant i0 <= i <= i1 + 1;
	    loop invariant pte == (i == i0 ? first : (uint64_t)(n.ptes[i - 1] + (uint64_t)step));
	    loop invariant i0 < i ==> n.ptes[i0] == first;
	    loop assigns i, pte, n.ptes[i0 .. i1];
	    loop variant i1 + 1 - i; */
	for (unsigned i = i0; i <= i1; i++) {
		PT_ASSERT(entry_is_none(pt_pte_load(n, i)));
		entry_store(n, i, pte);
		pte += (uint64_t)step;
	}
	n.meta->nr_children += (uint16_t)(i1 - i0 + 1);
	PT_ASSERT(n.meta->nr_children <= node_entries(pt_node_level(n)));
}

/*
 * Publishes the split child of the huge leaf `old` at idx.  Where the
 * format needs break-before-make for a size change, the leaf is cleared
 * and invalidated first; on a live table a compare-exchange carries the
 * accessed/dirty bits the hardware set meanwhile into the pieces.
 */
static void entry_publish_split(const struct pt_tree *t, struct pt_node n, unsigned idx,
				uint64_t va, pt_pte_t old, struct pt_node child)
{
	pt_pte_t table = fmt_pte_table(child.pa);

	if (t->live)
		PT_TEST_HOOK(pt__hook_split_cas, &n.ptes[idx], FMT_HW_BITS);
	if (fmt_resize_needs_break(t->features)) {
		entry_or_all(child, entry_break(t, n, idx, va, false) & ~old & FMT_HW_BITS);
		entry_publish(n, idx, table);
	} else if (t->live && FMT_HW_BITS != 0) {
		entry_swap_keeping_hw(n, idx, old, table, &child);
	} else {
		entry_publish(n, idx, table);
	}
}

/*
 * The seed's split_if_mapped_huge(): the huge leaf at idx (mapping from va)
 * becomes a child node of 512 leaves of the next size, same properties,
 * same physical range (child nr_children = 512, parent's unchanged),
 * published only complete.  Returns the child, locked until the cursor
 * closes.
 */
static struct pt_node entry_split_huge(const struct pt_tree *t, struct pt_node n,
				       unsigned idx, uint64_t va, struct pt_prealloc *r)
{
	unsigned level = pt_node_level(n);
	pt_pte_t pte = pt_pte_load(n, idx);
	uint16_t nr_before = n.meta->nr_children;

	PT_ASSERT(level > 1 && fmt_pte_present(pte) && fmt_pte_is_leaf(pte, level));
	PT_ASSERT(!fmt_pte_tracked(pte)); /* tracked mappings are base pages */
	struct pt_node child = pt_node_new(t->phys, r, level - 1);
	pt_pte_t first = fmt_pte_leaf(fmt_pte_leaf_pa(pte, level), level - 1,
				      fmt_pte_leaf_prop(pte, level, t->features), false,
				      t->features);
	entry_fill_run(child, 0, PT_NR_ENTRIES - 1, first, fmt_pte_leaf_step(first, level - 1));
	entry_publish_split(t, n, idx, va, pte, child);
	n.meta->nr_nodes++;
	PT_ASSERT(n.meta->nr_children == nr_before);
	(void)nr_before;
	return child;
}

/*
 * The huge leaf or the huge marker at idx split into 512 pieces of the next
 * size (entry_split_huge for a leaf); the child is returned locked, as
 * there.  A marker's pieces need no break-before-make: nothing was valid.
 */
static struct pt_node entry_split(const struct pt_tree *t, struct pt_node n, unsigned idx,
				  uint64_t va, struct pt_prealloc *r)
{
	if (!entry_is_marker(pt_pte_load(n, idx)))
		return entry_split_huge(t, n, idx, va, r);
	struct pt_node child = entry_alloc_child(t->phys, n, idx, r);
	entry_publish_new(n, idx, child, t->features);
	return child;
}

/* What a detached subtree held (take_next reports it). */
struct subtree_count {
	uint64_t mappings;
	uint64_t tracked;
};

/*
 * Retires every node of a subtree just unlinked: marks it stray (a walker
 * that reaches it retries from the root), chains it for release through
 * `next` (the subtree's root ends up first), and unlocks it, so a cursor
 * waiting on it wakes, sees stray, and retries.  Counts mappings if asked;
 * leaf tables are read only then.
 */
static void subtree_retire(const struct pt_phys *phys, struct pt_node n,
			   struct subtree_count *count, uint64_t *chain)
{
	unsigned level = pt_node_level(n);

	atomic_store_explicit(&n.meta->stray, true, memory_order_release);
	for (unsigned i = 0; (n.meta->nr_nodes || count) && i < node_entries(level); i++) {
		pt_pte_t pte = pt_pte_load(n, i);
		if (!fmt_pte_present(pte))
			continue;
		if (!fmt_pte_is_leaf(pte, level)) {
			subtree_retire(phys, entry_child_node(phys, pte), count, chain);
		} else if (count) {
			count->mappings++;
			count->tracked += fmt_pte_tracked(pte);
		}
	}
	n.meta->next = *chain;
	*chain = pt_frame_index(phys, n.pa);
	pt_node_unlock(n);
}

/*
 * Detaches the node at idx with its whole subtree: the slot becomes absent
 * and the subtree goes to the flush batch, which releases it after the TLB
 * invalidation and an RCU grace period.
 */
static void entry_detach_node(const struct pt_phys *phys, struct pt_node n, unsigned idx,
			      uint64_t entry_va, struct pt_flush *flush,
			      struct subtree_count *count, uint32_t features)
{
	unsigned level = pt_node_level(n);
	pt_pte_t pte = pt_pte_load(n, idx);
	struct child none = { .kind = CHILD_NONE };
	uint64_t chain = PT_NO_FRAME;

	PT_ASSERT(entry_is_node(pte, level));
	entry_replace(n, idx, &none, features);
	struct pt_node child = entry_child_node(phys, pte);
	subtree_retire(phys, child, count, &chain);
	PT_ASSERT(chain == pt_frame_index(phys, child.pa));
	/* Range first: if recording it finishes the batch early, the subtree
	 * is not in that batch yet. */
	pt__flush_add_range(flush, entry_va, pt_level_size(level));
	pt__flush_add_subtree(flush, child.pa);
}

/* Whether a subtree holds any mapping (nr_children makes empty nodes O(1)). */
static bool subtree_has_mapping(const struct pt_phys *phys, struct pt_node n)
{
	unsigned level = pt_node_level(n);

	if (n.meta->nr_children == 0)
		return false;
	if (level == 1)
		return true;
	for (unsigned i = 0; i < node_entries(level); i++) {
		pt_pte_t pte = pt_pte_load(n, i);
		if (!fmt_pte_present(pte))
			continue;
		if (fmt_pte_is_leaf(pte, level) ||
		    subtree_has_mapping(phys, entry_child_node(phys, pte)))
			return true;
	}
	return false;
}

#endif
