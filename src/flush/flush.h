/* SPDX-License-Identifier: MPL-2.0 */
/*
 * flush.h - the flush batch's layer (design §5 "TLB and freeing"), below the
 * entries that fill batches and above the frames whose references it drops.
 *
 * A batch knows nothing of tables: it delivers to a sink that the table
 * layer fills in when it creates a table (its root, its invalidation hook,
 * its format's release of a removed subtree), as Linux's IOMMU gather
 * reaches the domain only through the domain's sync callback.
 */
#ifndef PTKIT_SRC_FLUSH_H
#define PTKIT_SRC_FLUSH_H

#include <ptkit/flush.h>

#include "frames/frame_meta.h"

struct pt_flush_sink {
	struct pt_phys *phys;      /* puts tracked frames here */
	uint64_t root_pa;          /* reported to the invalidation hook */
	uint64_t tag;              /* reported too: the caller's VMID, ASID... */
	unsigned stage;            /* the format's translation stage, reported */
	void (*invalidate)(void *arg, const struct pt_flush_info *info);
	void *invalidate_arg;
	/* Puts a removed subtree's tracked frames, then hands its nodes to
	 * RCU: the format's engine, since it reads the subtree's PTEs. */
	void (*release_subtree)(struct pt_phys *phys, uint64_t node_pa);
};

/* An empty batch delivering to sink (only the header is written: the
 * arrays are read up to their counts). */
static inline void pt__flush_reset(struct pt_flush *f, const struct pt_flush_sink *sink)
{
	f->sink = sink;
	f->nr_pages = 0;
	f->nr_ranges = 0;
	f->nr_frames = 0;
	f->all = false;
	f->nodes_removed = false;
}

/* Invalidates, then releases; the batch is empty afterwards. */
void pt__flush_deliver(struct pt_flush *f);

/* Delivers a batch only if it holds something. */
static inline void pt__flush_deliver_pending(struct pt_flush *f)
{
	if (f->nr_ranges || f->all || f->nodes_removed || f->nr_frames)
		pt__flush_deliver(f);
}

/*
 * Record what to invalidate and what to release.  A full batch is
 * delivered early, so callers clear a PTE, record its range, and only then
 * queue its frame or subtree: an early delivery never releases what it
 * does not invalidate.
 */
void pt__flush_add_range(struct pt_flush *f, uint64_t va, uint64_t len);
void pt__flush_add_frame(struct pt_flush *f, uint64_t pa);
void pt__flush_add_subtree(struct pt_flush *f, uint64_t node_pa);
/* A table entry cleared whose node lives on elsewhere (pt_move): its
 * range, and the walk caches that may still hold the entry. */
void pt__flush_add_table_range(struct pt_flush *f, uint64_t va, uint64_t len);

/* Invalidates [va, va + len) at once, outside any batch: the "invalidate"
 * step of break-before-make. */
void pt__invalidate_now(const struct pt_flush_sink *sink, uint64_t va, uint64_t len,
			bool nodes_removed);

#endif
