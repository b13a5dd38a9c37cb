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
	 * call pt_rcu_release(head).  The four RCU hooks come together:
	 * if any is NULL, all four get the defaults. */
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
	 * from any thread, never under ptkit's free-list locks but maybe
	 * with page-table node locks (spin locks) held and inside an RCU
	 * read section, so they must not sleep; frame_free also from the
	 * RCU callback that releases removed nodes.
	 */
	int (*frame_alloc)(void *arg, uint64_t *pa);
	void (*frame_free)(void *arg, uint64_t pa);
	void *frame_alloc_arg;
	/*
	 * Optional, with frame_alloc only, both or neither: 2^order
	 * contiguous free frames aligned to their size (0, or PT_ENOMEM),
	 * and taking such a run back whole.  Only the root of a format with
	 * root_entries > 512 (stage 2: 8 or 16 KiB) is allocated so; without
	 * them creating such a table under the kernel's allocator is
	 * PT_ENOMEM.  ptkit's own allocator finds aligned runs by itself.
	 */
	int (*frame_alloc_contig)(void *arg, unsigned order, uint64_t *pa);
	void (*frame_free_contig)(void *arg, uint64_t pa, unsigned order);
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

/**
 * pt_phys_create() - Simulate RAM for a hosted program.
 * @bytes: size of the simulated RAM, a positive multiple of 4 KiB.
 * @out: where to store the new phys.
 *
 * Hosted builds only.  A prefaulted anonymous mapping of @bytes simulates
 * RAM at physical addresses `[0, bytes)`.  The metadata lives in a separate
 * mapping, so all `bytes / 4096` frames can be allocated, including the
 * frame at pa 0.  The platform gets the build's default hooks (liburcu-bp,
 * sched_yield, one frame cache per thread, no invalidation) and features 0;
 * a table that needs an invalidation hook or features gets them from its
 * &struct pt_table_opts.  pt_phys_to_virt() reaches the simulated RAM, and
 * pt_phys_destroy() frees it all.
 *
 * Context: Process context.  The only ptkit call that uses the host's
 * allocator: calloc() for the &struct pt_phys, mmap() for the RAM and for
 * the metadata.  Takes no lock.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @out is %NULL, or @bytes is 0.
 * - %PT_EALIGN: @bytes is not a multiple of 4096.
 * - %PT_ENOMEM: the host's allocation failed.
 */
int pt_phys_create(uint64_t bytes, struct pt_phys **out);

/**
 * pt_phys_init() - Manage a range of real RAM (freestanding, or a kernel).
 * @storage: caller-owned &struct pt_phys, which must outlive every use.
 * @ram_pa: first physical address of the range, 4 KiB aligned.
 * @bytes: size of the range, a positive multiple of 4 KiB.
 * @linear_offset: the frame at `pa` is accessed at virtual address
 *   `pa + linear_offset`, which must already be mapped and writable.
 * @platform: the host's hooks and features, copied; %NULL for the build's
 *   defaults.
 *
 * Manages `[ram_pa, ram_pa + bytes)`.  The metadata array (64 bytes per
 * frame) is carved from the start of that RAM: its first
 * `pt_phys_meta_bytes(bytes)` bytes are never handed out (those frames
 * read a reference count of 1), so fewer than `bytes / 4096` frames are
 * allocatable.
 *
 * A %NULL @platform, or a %NULL hook in it, gets the build's defaults:
 * freestanding, one CPU (no RCU, immediate release, no yield, one frame
 * cache, no invalidation), which is correct only while no CPU walks these
 * tables; hosted, as pt_phys_create().  The four RCU hooks come together
 * (one missing: all four are the defaults).  With `frame_alloc` and
 * `frame_free` the kernel's allocator hands out the frames after the
 * metadata and ptkit keeps no free list.
 *
 * Context: Any context, before any other use of @storage.  Allocates
 * nothing (the metadata lives in the range itself) and takes no lock;
 * writes the metadata slot of every frame.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @storage is %NULL, @bytes is 0, or @platform gives only one
 *   of `frame_alloc` and `frame_free`, only one of `frame_alloc_contig`
 *   and `frame_free_contig`, or those without `frame_alloc`.
 * - %PT_EALIGN: @ram_pa or @bytes is not 4 KiB aligned.
 * - %PT_ERANGE: `ram_pa + bytes` overflows 64 bits (ending exactly at 2^64
 *   counts as overflow here).
 * - %PT_ENOMEM: the range is too small for its own metadata plus one frame.
 */
int pt_phys_init(struct pt_phys *storage, uint64_t ram_pa, uint64_t bytes,
		 uintptr_t linear_offset, const struct pt_platform *platform);

/**
 * pt_phys_destroy() - Wait for pending releases, then free a hosted phys.
 * @phys: the phys, or %NULL (nothing happens).
 *
 * First waits until every release of removed page-table nodes queued so
 * far has run, as pt_phys_barrier().  Then, for a phys made by
 * pt_phys_create(), unmaps the RAM and the metadata and frees @phys;
 * storage given to pt_phys_init() stays the caller's, untouched.
 *
 * Before calling it, destroy every table and finish every batch.  Every
 * pointer into the phys dies with it: tables, cursors, and addresses from
 * pt_phys_to_virt().  Hosted builds only: a freestanding build waits with
 * pt_phys_barrier().
 *
 * Context: May block: waits for an RCU grace period
 * (`pt_platform.rcu_barrier`) when releases are pending, so never inside a
 * cursor or a pt_for_each_mapping() callback.  Takes the frame pool's spin
 * lock briefly; frees with munmap() and free().
 */
void pt_phys_destroy(struct pt_phys *phys);

/**
 * pt_frame_alloc() - Allocate a zeroed data frame.
 * @phys: the phys to allocate from.
 * @pa: where to store the frame's physical address.
 *
 * The new frame has reference count 1, and that reference is the caller's:
 * drop it with pt_frame_put().  Freed frames are reused last-in first-out
 * and handed out zeroed.
 *
 * Context: Any thread.  Allocates one frame of @phys: from this CPU slot's
 * frame cache, refilled from the shared pool (spin locks that call
 * `pt_platform.yield` every 64 spins), or from `pt_platform.frame_alloc`.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @phys or @pa is %NULL.
 * - %PT_ENOMEM: no free frame (or the kernel's `frame_alloc` failed), or
 *   fault injection (pt_phys_fail_nth_alloc()).
 */
int pt_frame_alloc(struct pt_phys *phys, uint64_t *pa);

/**
 * pt_frame_get() - Take one more reference on a data frame in use.
 * @phys: the frame's phys.
 * @pa: the frame's physical address, 4 KiB aligned.
 *
 * For references the caller owns and later drops with pt_frame_put().  A
 * tracked mapping takes the table's own reference (pt_map_frames()).
 * Atomic on the count.
 *
 * Context: Any thread: one atomic compare-exchange loop; takes no lock,
 * allocates nothing.
 * Return: 0, or %PT_EINVAL when @phys is %NULL; @pa is not 4 KiB aligned
 * or not managed by @phys; the frame is not a data frame in use (it is
 * free, has count 0, or is a page-table node, a table object or the
 * metadata area); or the count is already %PT_REFCOUNT_MAX.
 */
int pt_frame_get(struct pt_phys *phys, uint64_t pa);

/**
 * pt_frame_put() - Drop one reference on a data frame.
 * @phys: the frame's phys.
 * @pa: the frame's physical address, 4 KiB aligned.
 *
 * The frame is freed when its count reaches 0.  Only put references you
 * own: ptkit cannot tell yours from a table's, and a frame freed while
 * still mapped breaks invariant 5, which pt_check() reports.
 *
 * Context: Any thread.  Takes no lock, except when the count reaches 0:
 * then the frame goes back to this CPU slot's frame cache (spin lock) or
 * to `pt_platform.frame_free`.
 * Return: 0, or %PT_EINVAL as for pt_frame_get(): @phys is %NULL, @pa is
 * unaligned or unmanaged, or the frame is not a data frame in use (free,
 * count 0, a page-table node, a table object, metadata).
 */
int pt_frame_put(struct pt_phys *phys, uint64_t pa);

/**
 * pt_frame_refcount() - Read a frame's reference count.
 * @phys: the phys, or %NULL.
 * @pa: any address inside the frame (unaligned too).
 *
 * Any managed frame, any usage: page-table nodes, table objects and
 * metadata frames read 1.  A snapshot: other threads may change it.
 *
 * Context: Any thread: one atomic load; takes no lock, allocates nothing.
 * Return: The count, or %PT_REFCOUNT_UNUSED if the frame is free, @pa is
 * not managed by @phys, or @phys is %NULL.
 */
uint64_t pt_frame_refcount(const struct pt_phys *phys, uint64_t pa);

/**
 * pt_phys_to_virt() - The virtual address of a managed physical address.
 * @phys: the phys, or %NULL.
 * @pa: any managed address (unaligned too).
 *
 * `pa + linear_offset`.  In hosted builds this is how the simulated RAM is
 * reached.
 *
 * Context: Any context: takes no lock, allocates nothing.
 * Return: The virtual address, or %NULL if @pa is not managed by @phys or
 * @phys is %NULL.
 */
void *pt_phys_to_virt(const struct pt_phys *phys, uint64_t pa);

/**
 * pt_rcu_release() - Free removed page-table nodes after a grace period.
 * @head: what the platform was given through `pt_platform.rcu_defer`.
 *
 * For platforms with their own RCU: call it once per `rcu_defer(head)`,
 * after a grace period (once no lock-free walker can still be inside the
 * nodes).  The subtree's nodes go back to the free frames (or to
 * `pt_platform.frame_free`) and leave the count that
 * pt_phys_reclaimable_frames() adds.  The default hooks call it
 * themselves.
 *
 * Context: The platform's RCU callback, in any context that may take a
 * spin lock: takes the frame pool's lock (or calls `frame_free` per node);
 * allocates nothing.
 */
void pt_rcu_release(struct pt_rcu_head *head);

/**
 * pt_phys_barrier() - Wait until removed page-table nodes are released.
 * @phys: the phys, or %NULL (nothing happens).
 *
 * Waits until every release queued so far (every node removed before the
 * call) has run, so that pt_phys_free_frames() counts those nodes again.
 * The remedy for a %PT_ENOMEM that only waiting nodes caused: barrier,
 * then retry.
 *
 * Context: May block: when releases are pending, waits for an RCU grace
 * period (`pt_platform.rcu_barrier`).  Never call it inside a cursor or a
 * pt_for_each_mapping() callback (a grace period cannot end inside the
 * caller's own read section).  Takes the frame pool's spin lock briefly;
 * allocates nothing.
 */
void pt_phys_barrier(struct pt_phys *phys);

/**
 * pt_phys_free_frames() - Count the frames free right now.
 * @phys: the phys; must not be %NULL.
 *
 * Summed over the frame caches and the pool: exact when no other thread
 * allocates or frees meanwhile.  Removed page-table nodes count only once
 * released, after a grace period (pt_phys_barrier()).  With a kernel
 * allocator (`pt_platform.frame_alloc`) ptkit keeps no free list and this
 * is 0.
 *
 * Context: Any thread: takes each frame cache's spin lock, then the
 * pool's, one at a time; allocates nothing.
 * Return: The number of free frames.
 */
uint64_t pt_phys_free_frames(const struct pt_phys *phys);

/**
 * pt_phys_reclaimable_frames() - Count free frames plus pending releases.
 * @phys: the phys; must not be %NULL.
 *
 * Free frames plus removed page-table nodes still waiting out their grace
 * period: what the phys will have free once pending releases ran.  Exact
 * even while a release runs (the pool and the pending count are read
 * together).  With a kernel allocator, only the pending nodes.
 *
 * Context: Any thread: takes each frame cache's spin lock, then the
 * pool's, one at a time; allocates nothing.
 * Return: The number of free and pending frames.
 */
uint64_t pt_phys_reclaimable_frames(const struct pt_phys *phys);

/**
 * pt_phys_meta_bytes() - The metadata size of a pt_phys_init() range.
 * @bytes: size of the range given to pt_phys_init().
 *
 * The metadata slots (64 bytes per frame) take this many bytes at the
 * start of the range: a kernel allocator given through
 * `pt_platform.frame_alloc` hands out only frames after them.
 *
 * Context: Any context: pure arithmetic.
 * Return: `bytes / 4096 * 64`, rounded up to a multiple of 4096.
 */
static inline uint64_t pt_phys_meta_bytes(uint64_t bytes)
{
	return ((bytes >> PT_PAGE_SHIFT) * 64 + PT_PAGE_SIZE - 1) & ~(uint64_t)(PT_PAGE_SIZE - 1);
}

#ifdef __cplusplus
}
#endif
#endif /* PTKIT_PHYS_H */
