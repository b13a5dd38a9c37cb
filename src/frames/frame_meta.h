/* SPDX-License-Identifier: MPL-2.0 */
/*
 * frame_meta.h - the frames layer's internals: one 64-byte metadata slot per
 * 4 KiB frame, and the allocator entry points the layers above use.
 */
#ifndef PTKIT_SRC_FRAME_META_H
#define PTKIT_SRC_FRAME_META_H

#include <ptkit/phys.h>

#include "base.h"

enum pt_frame_usage {
	PT_USAGE_FREE = 0,
	PT_USAGE_NODE = 1,     /* a page-table node */
	PT_USAGE_DATA = 2,     /* a data frame handed to a caller */
	PT_USAGE_RESERVED = 3, /* holds the metadata array itself (freestanding) */
	PT_USAGE_TABLE = 4,    /* holds a struct pt_table (no malloc in the core) */
};

#define PT_NO_FRAME UINT64_MAX

struct pt_frame_meta {
	_Atomic uint64_t refcount;
	uint8_t usage;
	/* Page-table node metadata (design §3); meaningful for PT_USAGE_NODE. */
	uint8_t level;              /* 1 = leaf table */
	uint16_t nr_children;       /* present PTEs; written under the lock */
	_Atomic uint32_t lock;      /* 0 free, 1 held */
	_Atomic bool stray;         /* detached: walkers must retry */
	uint8_t in_pool;            /* on the pool's list, only while a search
				     * for an aligned run holds the pool lock */
	uint16_t nr_tracked;        /* present tracked leaves: a leaf table
				     * without any is freed without a scan */
	uint32_t check_epoch;       /* pt_check: visited in this pass */
	uint32_t check_count;       /* pt_check: mappings of a tracked frame */
	uint16_t nr_nodes;          /* present table entries: a node without
				     * any has no descendant to lock or scan */
	uint64_t next;              /* free list, reservation, or the chain of a
				     * removed subtree's nodes (frame index) */
	struct pt_rcu_head rcu_head; /* the platform's deferred release */
	struct pt_phys *rcu_owner;  /* who frees the chain when RCU calls back */
};
_Static_assert(sizeof(struct pt_frame_meta) == 64, "one cache line per frame");

static inline uint64_t pt_frame_index(const struct pt_phys *phys, uint64_t pa)
{
	return (pa - phys->ram_pa) >> PT_PAGE_SHIFT;
}

static inline bool pt_frame_managed(const struct pt_phys *phys, uint64_t pa)
{
	return pa >= phys->ram_pa && pt_frame_index(phys, pa) < phys->nr_frames;
}

static inline struct pt_frame_meta *pt_meta_of(const struct pt_phys *phys, uint64_t pa)
{
	return &phys->meta[pt_frame_index(phys, pa)];
}

static inline uint64_t pt_pa_of_index(const struct pt_phys *phys, uint64_t idx)
{
	return phys->ram_pa + (idx << PT_PAGE_SHIFT);
}

/* The linear map: linear_offset is phys->linear_offset, which a walk reads
 * once (its acquire loads would make the compiler reload it per level). */
static inline void *pt_va_at(uintptr_t linear_offset, uint64_t pa)
{
	return (void *)(uintptr_t)(pa + linear_offset);
}

static inline void *pt_va_of(const struct pt_phys *phys, uint64_t pa)
{
	return pt_va_at(phys->linear_offset, pa);
}

/* A zeroed frame tagged `usage` with refcount 1, or PT_ENOMEM. */
int pt__frame_alloc(struct pt_phys *phys, enum pt_frame_usage usage, uint64_t *pa);
/* Back to the free list (refcount must have reached 0). */
void pt__frame_free(struct pt_phys *phys, uint64_t pa);
/* 2^order contiguous zeroed frames aligned to their size (a stage-2
 * root), each tagged `usage` with refcount 1, or PT_ENOMEM; order 0 is
 * pt__frame_alloc.  Back with pt__frames_free and the same order. */
int pt__frames_alloc(struct pt_phys *phys, enum pt_frame_usage usage, unsigned order,
		     uint64_t *pa);
void pt__frames_free(struct pt_phys *phys, uint64_t pa, unsigned order);
/* The table's reference on a validated data frame. */
static inline void pt__frame_get_valid(struct pt_phys *phys, uint64_t pa)
{
	atomic_fetch_add_explicit(&pt_meta_of(phys, pa)->refcount, 1, memory_order_relaxed);
}
/* Queues the chain of removed nodes starting at first_pa for release after
 * an RCU grace period (pt_rcu_release). */
void pt__rcu_defer_chain(struct pt_phys *phys, uint64_t first_pa);
/* Drops a reference the caller knows exists. */
void pt__frame_put_valid(struct pt_phys *phys, uint64_t pa);

/*
 * A preallocation: the frames an operation will need, allocated before it
 * changes anything (prepare/commit), so running out of memory changes
 * nothing.  Unused frames go back on release.  (Not the public struct
 * pt_reserve, a caller's stash of nodes that outlives one operation.)
 */
struct pt_prealloc {
	uint64_t head; /* frame index or PT_NO_FRAME */
	uint64_t count;
};

int pt__reserve(struct pt_phys *phys, struct pt_prealloc *r, uint64_t n);
uint64_t pt__reserve_take(struct pt_phys *phys, struct pt_prealloc *r);
void pt__reserve_release(struct pt_phys *phys, struct pt_prealloc *r);

#endif
