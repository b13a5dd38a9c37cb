/* SPDX-License-Identifier: MPL-2.0 */
/*
 * node.h - page-table nodes: a frame whose metadata slot holds
 * {level, nr_children, stray, lock} (design §3), and its 512 PTE slots.
 *
 * Format-independent.  PTE slots are C11 atomics because lock-free walkers
 * read them while a lock holder writes: loads are acquire where a walker
 * follows a pointer, and publishing a node is a release store after the node
 * is fully written.  Leaf stores under the lock are relaxed (plain moves).
 */
#ifndef PTKIT_SRC_NODE_H
#define PTKIT_SRC_NODE_H

#include <ptkit/format.h>

#include "frames/frame_meta.h"

#define PT_NR_ENTRIES 512

typedef _Atomic uint64_t pt_slot_t;

struct pt_node {
	uint64_t pa;
	pt_slot_t *ptes;
	struct pt_frame_meta *meta;
};

static inline struct pt_node pt_node_at(const struct pt_phys *phys, uint64_t pa)
{
	return (struct pt_node){ pa, pt_va_of(phys, pa), pt_meta_of(phys, pa) };
}

static inline unsigned pt_node_level(struct pt_node n) { return n.meta->level; }

static inline uint64_t pt_pte_load(struct pt_node n, unsigned idx)
{
	return atomic_load_explicit(&n.ptes[idx], memory_order_acquire);
}

/* log2 of the bytes one entry at `level` maps. */
static inline int pt_level_shift(unsigned level)
{
	return PT_PAGE_SHIFT + 9 * (int)(level - 1);
}

/* Index of va's entry in a node at `level`. */
static inline unsigned pt_index(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (PT_PAGE_SHIFT + 9 * (level - 1))) & (PT_NR_ENTRIES - 1);
}

/* First va of the entry containing va at `level`. */
static inline uint64_t pt_entry_base(uint64_t va, unsigned level)
{
	return va & ~(pt_level_size(level) - 1);
}

/*
 * The node lock (the seed's PageTableGuard).  PT_NO_SYNC compiles node locks
 * and RCU out: only the benchmark's second engine instance uses it, to
 * measure what they cost (tools/ptctl, src/formats/x86_64_nosync.c).
 */
static inline void pt_node_lock(const struct pt_phys *phys, struct pt_node n)
{
#ifndef PT_NO_SYNC
	pt_spin_lock(&n.meta->lock, phys->platform.yield);
#endif
}

static inline void pt_node_unlock(struct pt_node n)
{
#ifndef PT_NO_SYNC
	pt_spin_unlock(&n.meta->lock);
#endif
}

static inline bool pt_node_stray(struct pt_node n)
{
	return atomic_load_explicit(&n.meta->stray, memory_order_acquire);
}

/* A fresh node in the zeroed frame(s) at pa: tagged, locked before anyone
 * can see it (the seed's alloc: "lock it before publishing it"). */
static inline struct pt_node pt_node_init(struct pt_phys *phys, uint64_t pa, unsigned level)
{
	struct pt_node n = pt_node_at(phys, pa);

	n.meta->level = (uint8_t)level;
	n.meta->nr_children = 0;
	n.meta->nr_tracked = 0;
	n.meta->nr_nodes = 0;
#ifndef PT_NO_SYNC
	atomic_store_explicit(&n.meta->lock, 1, memory_order_relaxed);
#endif
	return n;
}

/* A fresh node from the reservation, as pt_node_init. */
static inline struct pt_node pt_node_new(struct pt_phys *phys, struct pt_prealloc *r,
					 unsigned level)
{
	return pt_node_init(phys, pt__reserve_take(phys, r), level);
}

#endif
