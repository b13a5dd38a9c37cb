/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ptkit/flush.h - TLB flush batches.
 *
 * Operations that change or remove mappings record what must be invalidated
 * and what must be released in a caller-owned batch.  pt_flush_finish calls
 * the invalidation callback once (a list of merged ranges, or "everything"
 * past a threshold), then drops the table's references on unmapped tracked
 * frames and frees removed page-table nodes (through RCU).  Nothing is
 * released before the hardware can no longer reach it.
 *
 * The batch has a fixed capacity (no malloc) and is small enough for a
 * kernel stack (288 bytes): when it fills, it is finished early, in the
 * middle of an operation, which is always safe.
 */
#ifndef PTKIT_FLUSH_H
#define PTKIT_FLUSH_H

#include <ptkit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pt_table;
struct pt_flush_sink; /* private: where a batch delivers (its table's) */

#define PT_FLUSH_MAX_RANGES 8
/* Tracked frames to put and removed subtrees to free, together. */
#define PT_FLUSH_MAX_FRAMES 16
/* Past this many pages in one batch, invalidate everything instead. */
#define PT_FLUSH_ALL_THRESHOLD_PAGES 64

struct pt_flush_range {
	uint64_t va;
	uint64_t len; /* bytes; va + len may be exactly 2^64 */
};

/*
 * What the invalidation callback receives.  `stage` and `tag` say which
 * instruction a hypervisor needs: stage 2 ranges are guest-physical
 * addresses (INVEPT with the EPTP in `tag`, TLBI IPAS2E1IS under the VMID,
 * HFENCE.GVMA with the VMID), stage 1 ones virtual (INVLPG / INVPCID with
 * the PCID, TLBI VAE1IS with the ASID, SFENCE.VMA with the ASID).
 */
struct pt_flush_info {
	uint64_t root_pa;                   /* the table's root */
	uint64_t tag;                       /* the caller's address-space tag
					     * (VMID, ASID, PCID, EPTP): what
					     * pt_table_set_tag() or
					     * pt_table_opts.tag attached, 0
					     * by default */
	unsigned stage;                     /* the format's: 1, or 2 (guest-
					     * physical ranges) */
	const struct pt_flush_range *ranges;
	size_t nr_ranges;
	bool all;                           /* invalidate the whole address space */
	bool nodes_removed;                 /* non-leaf entries changed: flush walks too */
};

/* Caller-owned storage; every field is private. */
struct pt_flush {
	const struct pt_flush_sink *sink;
	uint64_t nr_pages;
	uint32_t nr_ranges;
	uint32_t nr_frames;
	bool all;
	bool nodes_removed;
	struct pt_flush_range ranges[PT_FLUSH_MAX_RANGES];
	uint64_t frames[PT_FLUSH_MAX_FRAMES]; /* pa; bit 0 set: a removed subtree */
};

/**
 * pt_flush_init() - Empty a batch and bind it to a table.
 * @flush: caller-owned storage for the batch.
 * @table: the table whose operations the batch will collect.
 *
 * Call it before first use.  One batch may then collect from any number of
 * operations and cursors on @table; passing it to an operation on another
 * table is %PT_EINVAL there.  Only the header is written.  Never call it on
 * a batch that still holds records: they would be dropped uninvalidated and
 * unreleased (leaked references and nodes).  pt_flush_finish() leaves a
 * batch empty and still bound, ready for reuse.
 *
 * Context: Any context: takes no lock, allocates nothing.
 * Return: 0, or %PT_EINVAL if @flush or @table is %NULL (then @flush is not
 * touched).
 */
int pt_flush_init(struct pt_flush *flush, struct pt_table *table);

/**
 * pt_flush_finish() - Invalidate what a batch recorded, then release.
 * @flush: a batch bound by pt_flush_init().
 *
 * In this order:
 *
 * - If anything is recorded (ranges, `all`, or removed nodes), calls the
 *   table's invalidation hook once, with `info.root_pa` the table's root.
 *   With `nodes_removed` set, paging-structure caches must go too.
 * - Drops the table's reference on each recorded tracked frame; a frame
 *   whose count reaches 0 is freed.
 * - For each removed subtree: drops the references of its tracked leaves,
 *   then hands its nodes to `pt_platform.rcu_defer`, which frees them after
 *   a grace period (pt_rcu_release()).
 * - Leaves the batch empty and still bound, ready for reuse.
 *
 * An unfinished batch leaves stale TLB entries uninvalidated, keeps the
 * table's references on its frames and never frees its nodes: finish every
 * batch before pt_table_destroy() and pt_phys_destroy().  Changes to a
 * kernel table are seen by every user table that shares it, so its hook
 * must reach every address space, global (%PT_G) entries too.
 *
 * Context: Runs the invalidation hook in the caller's context.  Takes no
 * node lock, so it may run with or without a cursor open; frees frames
 * into @flush's phys (frame cache and pool spin locks, or
 * `pt_platform.frame_free`) and allocates nothing.  Does not wait for the
 * grace period.  The same steps run inside any call given a %NULL batch
 * (at its end), and inside an operation whose batch filled up (an early
 * finish, possibly with node locks held).
 * Return: 0, or %PT_EINVAL if @flush is %NULL or was never bound (zeroed
 * storage).
 */
int pt_flush_finish(struct pt_flush *flush);

#ifdef __cplusplus
}
#endif
#endif /* PTKIT_FLUSH_H */
