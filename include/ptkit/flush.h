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
 * kernel stack (416 bytes): when it fills, it is finished early, in the
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

/* What the invalidation callback receives. */
struct pt_flush_info {
	uint64_t root_pa;                   /* the table's root */
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

int pt_flush_init(struct pt_flush *flush, struct pt_table *table);
int pt_flush_finish(struct pt_flush *flush);

#ifdef __cplusplus
}
#endif
#endif /* PTKIT_FLUSH_H */
