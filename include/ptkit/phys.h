/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ptkit/phys.h - physical memory, frames and the platform.
 *
 * A struct pt_phys owns a range of RAM and one 64-byte metadata slot per
 * 4 KiB frame.  Frames are reference counted (design §2):
 *
 *   PT_REFCOUNT_UNUSED  the frame is free
 *   0                   being set up or torn down
 *   1 .. MAX            in use by that many holders
 *
 * Page-table nodes and data frames come from the same allocator: O(1) alloc
 * and free, last-in first-out reuse, frames handed out zeroed.
 */
#ifndef PTKIT_PHYS_H
#define PTKIT_PHYS_H

#include <ptkit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PT_REFCOUNT_UNUSED UINT64_MAX
#define PT_REFCOUNT_MAX ((uint64_t)INT64_MAX)

struct pt_flush_info;
struct pt_frame_meta;

/*
 * Room for the platform's RCU bookkeeping of one deferred release (it lives
 * in a node's metadata slot).  liburcu's struct rcu_head fits.
 */
struct pt_rcu_head {
	void *next;
	void *func;
};

/*
 * What the host supplies.  Any hook may be NULL; then a hosted build uses
 * liburcu (the bulletproof flavour: no thread registration, read side
 * inlined) and sched_yield, and a freestanding build assumes one CPU (no RCU,
 * immediate release, no yield).  Invalidation defaults to a no-op.
 */
struct pt_platform {
	/* RCU read side around lock-free walks and cursors (nestable). */
	void (*rcu_read_lock)(void);
	void (*rcu_read_unlock)(void);
	/* Queue a release of removed page-table nodes: after a grace period,
	 * call pt_rcu_release(head).  The three RCU hooks come together. */
	void (*rcu_defer)(struct pt_rcu_head *head);
	/* Wait until every queued release has run (pt_phys_destroy). */
	void (*rcu_barrier)(void);
	/* Called while waiting on a contended lock. */
	void (*yield)(void);
	/* This CPU's number, to pick a frame cache; NULL: one cache slot per
	 * thread (hosted) or slot 0 (freestanding). */
	unsigned (*cpu_id)(void);
	/* Invalidate the TLB for a finished flush batch (design §5).  A table's
	 * own pt_table_opts.invalidate takes precedence. */
	void (*invalidate)(void *arg, const struct pt_flush_info *info);
	void *invalidate_arg;
	/* PT_FEAT_* bits: what the hardware (and its setup) provides. */
	uint32_t features;
	/*
	 * The kernel's own page allocator, for every frame ptkit takes:
	 * page-table nodes, pt_frame_alloc's data frames, the frame holding a
	 * struct pt_table.  frame_alloc gives a free 4 KiB frame inside the
	 * phys's managed range (0) or PT_ENOMEM; frame_free takes one back.
	 * Both or neither.  With them ptkit keeps no free list: the managed
	 * range only gives each frame its metadata slot (reference counts,
	 * node metadata), and pt_phys_free_frames counts nothing.  Called
	 * from any thread, under no ptkit lock but maybe inside an RCU read
	 * section; frame_free also from the RCU callback that releases
	 * removed nodes.
	 */
	int (*frame_alloc)(void *arg, uint64_t *pa);
	void (*frame_free)(void *arg, uint64_t pa);
	void *frame_alloc_arg;
};

/* ---- Storage layout only: callers allocate struct pt_phys (pt_phys_init)
 * but never read or write its fields. ---- */

/* A LIFO list of free frames under its own lock, on its own cache
 * line: the shared pool, and one cache per CPU slot in front of it. */
struct pt_free_list {
	_Atomic uint32_t lock;
	uint32_t count;
	uint64_t head;            /* frame index, or UINT64_MAX */
	char pad[48];
} __attribute__((aligned(64)));

#define PT_PHYS_CACHES 16

/*
 * Callers allocate it (pt_phys_init) or get one (pt_phys_create), and touch
 * it only through the functions below.  Safe to use from many threads; two
 * threads on different CPU slots share no written cache line when they
 * allocate and free.
 */
struct pt_phys {
	uint64_t ram_pa;          /* first managed physical address */
	uint64_t nr_frames;       /* managed frames */
	uintptr_t linear_offset;  /* virt = pa + linear_offset */
	struct pt_frame_meta *meta; /* one slot per frame */
	_Atomic uint64_t alloc_fail_at; /* fault injection: 0 = off, N = fail the Nth */
	uint32_t check_epoch;     /* pt_check's visit marker generation */
	bool hosted;              /* created by pt_phys_create */
	struct pt_platform platform;
	struct pt_free_list pool;
	uint64_t rcu_pending;     /* removed nodes waiting out a grace period
				   * (under pool.lock) */
	struct pt_free_list caches[PT_PHYS_CACHES];
};

/*
 * Hosted: an anonymous, prefaulted mapping of `bytes` (a positive multiple
 * of 4 KiB) simulates RAM at physical address 0.  PT_EINVAL, PT_EALIGN,
 * PT_ENOMEM.  Only in hosted builds.
 */
int pt_phys_create(uint64_t bytes, struct pt_phys **out);

/*
 * Freestanding: manage [ram_pa, ram_pa + bytes), reachable at
 * pa + linear_offset.  The metadata array is carved from the start of that
 * RAM, so fewer frames than bytes / 4096 are allocatable.  `platform` is
 * copied; NULL (or NULL hooks) means the build's defaults.  PT_EINVAL (NULL
 * storage, zero bytes), PT_EALIGN, PT_ERANGE (the range reaches 2^64),
 * PT_ENOMEM (too small to hold its own metadata).
 */
int pt_phys_init(struct pt_phys *storage, uint64_t ram_pa, uint64_t bytes,
		 uintptr_t linear_offset, const struct pt_platform *platform);

/* Frees a pt_phys_create arena (pt_phys_init storage stays the caller's).
 * Destroy its tables first. */
void pt_phys_destroy(struct pt_phys *phys);

/* A zeroed data frame with reference count 1.  PT_EINVAL, PT_ENOMEM. */
int pt_frame_alloc(struct pt_phys *phys, uint64_t *pa);

/* One more reference on a data frame in use.  PT_EINVAL for a free frame, a
 * page-table frame, an unmanaged or unaligned address, or a count at MAX. */
int pt_frame_get(struct pt_phys *phys, uint64_t pa);

/* Drops one reference; the frame is freed when none is left.  PT_EINVAL as
 * for pt_frame_get (a frame at count 0 or free). */
int pt_frame_put(struct pt_phys *phys, uint64_t pa);

/* The count, or PT_REFCOUNT_UNUSED if free or unmanaged. */
uint64_t pt_frame_refcount(const struct pt_phys *phys, uint64_t pa);

/* The virtual address of a managed frame, or NULL. */
void *pt_phys_to_virt(const struct pt_phys *phys, uint64_t pa);

/* Called by the platform after a grace period for each pt_rcu_head it
 * was given through rcu_defer: frees the removed nodes. */
void pt_rcu_release(struct pt_rcu_head *head);

/* Waits until every page-table node removed so far has been released (an
 * RCU barrier).  Not from inside a cursor or a pt_for_each_mapping callback. */
void pt_phys_barrier(struct pt_phys *phys);

/* Frames free right now (exact when no other thread allocates or frees).
 * Removed nodes come back only after a grace period: see pt_phys_barrier. */
uint64_t pt_phys_free_frames(const struct pt_phys *phys);

/* Free frames plus removed nodes still waiting out their grace period: what
 * the phys will have free once pending releases ran.  Exact even while
 * they run. */
uint64_t pt_phys_reclaimable_frames(const struct pt_phys *phys);

/* The metadata slots of a pt_phys_init range of `bytes` (64 per frame)
 * take this many bytes at its start: a kernel allocator given through
 * pt_platform.frame_alloc hands out only frames after them. */
static inline uint64_t pt_phys_meta_bytes(uint64_t bytes)
{
	return ((bytes >> PT_PAGE_SHIFT) * 64 + PT_PAGE_SIZE - 1) & ~(uint64_t)(PT_PAGE_SIZE - 1);
}

#ifdef __cplusplus
}
#endif
#endif /* PTKIT_PHYS_H */
