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
 * The batch has a fixed capacity (no malloc): when it fills, it is finished
 * early, in the middle of an operation, which is always safe.
 */
#ifndef PTKIT_FLUSH_H
#define PTKIT_FLUSH_H

#include <ptkit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pt_table;

#define PT_FLUSH_MAX_RANGES 16
#define PT_FLUSH_MAX_FRAMES 256
#define PT_FLUSH_MAX_SUBTREES 16
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

/* Private fields; caller-owned storage. */
struct pt_flush {
	struct pt_table *table;
	size_t nr_ranges;
	size_t nr_frames;
	uint64_t nr_pages;
	bool all;
	bool nodes_removed;
	size_t nr_subtrees;
	struct pt_flush_range ranges[PT_FLUSH_MAX_RANGES];
	uint64_t frames[PT_FLUSH_MAX_FRAMES];     /* tracked frames to put */
	uint64_t subtrees[PT_FLUSH_MAX_SUBTREES]; /* removed subtrees' roots */
};

void pt_flush_init(struct pt_flush *flush, struct pt_table *table);

/* Invalidates, then releases.  Returns 0 (PT_EINVAL for NULL or unbound). */
int pt_flush_finish(struct pt_flush *flush);

#ifdef __cplusplus
}
#endif
#endif /* PTKIT_FLUSH_H */
