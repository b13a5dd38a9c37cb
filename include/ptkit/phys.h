/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ptkit/phys.h - physical memory, frames and the platform.
 *
 * A struct pt_phys owns a range of RAM and one 64-byte metadata slot per
 * 4 KiB frame.  Frames are reference counted (DESIGN §2):
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
 * What the host supplies.  Any hook may be NULL; the defaults are correct
 * for one thread per phys: no-op RCU with immediate freeing, sched_yield
 * (hosted) and a no-op invalidation.  Concurrent use needs real RCU hooks
 * (liburcu by default in hosted builds once the concurrency work lands).
 */
struct pt_platform {
	/* RCU read side around lock-free walks, and deferred freeing of
	 * page-table nodes after a grace period.  defer() must eventually call
	 * fn(head); head is storage inside the node's metadata slot. */
	void (*rcu_read_lock)(void);
	void (*rcu_read_unlock)(void);
	void (*rcu_defer)(void *head, void (*fn)(void *head));
	/* Called while waiting on a contended node lock. */
	void (*yield)(void);
	/* Invalidate the TLB for a finished flush batch (DESIGN §5).  A table's
	 * own pt_table_opts.invalidate takes precedence. */
	void (*invalidate)(void *arg, const struct pt_flush_info *info);
	void *invalidate_arg;
	/* PT_FEAT_* bits: what the hardware (and its setup) provides. */
	uint32_t features;
};

/*
 * Private: callers allocate it (pt_phys_init) or get one (pt_phys_create),
 * and touch it only through the functions below.
 */
struct pt_phys {
	uint64_t ram_pa;          /* first managed physical address */
	uint64_t nr_frames;       /* managed frames */
	uintptr_t linear_offset;  /* virt = pa + linear_offset */
	struct pt_frame_meta *meta; /* one slot per frame */
	uint64_t free_head;       /* LIFO free list of frame indexes */
	uint64_t nr_free;
	uint64_t alloc_fail_at;   /* fault injection: 0 = off, N = fail the Nth */
	uint32_t check_epoch;     /* pt_check's visit marker generation */
	bool hosted;              /* created by pt_phys_create */
	struct pt_platform platform;
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

/* Frames free right now. */
uint64_t pt_phys_free_frames(const struct pt_phys *phys);

/*
 * Test hook (fault injection): the nth frame allocation from now fails with
 * PT_ENOMEM (n = 1: the very next).  0 turns it off.  One-shot.
 */
void pt_phys_fail_nth_alloc(struct pt_phys *phys, uint64_t nth);

#ifdef __cplusplus
}
#endif
#endif /* PTKIT_PHYS_H */
