/* SPDX-License-Identifier: MPL-2.0 */
/*
 * flush.c - TLB flush batches (design §5): what to invalidate, then what to
 * release, in that order, never the other way round.
 */
#include "flush/flush.h"

/* Bit 0 of a queued pa: a removed subtree rather than a tracked frame
 * (both are 4 KiB aligned). */
#define PT_FLUSH_SUBTREE 1u

void pt__flush_add_range(struct pt_flush *f, uint64_t va, uint64_t len)
{
	if (f->all)
		return;
	f->nr_pages += len >> PT_PAGE_SHIFT;
	if (f->nr_pages > PT_FLUSH_ALL_THRESHOLD_PAGES) {
		f->all = true; /* cheaper than this many single invalidations */
		f->nr_ranges = 0;
		return;
	}
	struct pt_flush_range *prev = f->nr_ranges ? &f->ranges[f->nr_ranges - 1] : NULL;
	if (prev && prev->va + prev->len == va) {
		prev->len += len;
		return;
	}
	if (f->nr_ranges == PT_FLUSH_MAX_RANGES) {
		pt__flush_deliver(f);
		f->nr_pages = len >> PT_PAGE_SHIFT;
	}
	f->ranges[f->nr_ranges++] = (struct pt_flush_range){ va, len };
}

/*
 * A batch finished early is always "all" or PT_FLUSH_MAX_RANGES ranges, so
 * the invalidation hook can tell it from a break-before-make of one range:
 * a full release array (at least PT_FLUSH_MAX_FRAMES pages changed, as
 * many as Linux flushes one by one on x86) invalidates everything.
 */
static void queue_release(struct pt_flush *f, uint64_t tagged_pa)
{
	if (f->nr_frames == PT_FLUSH_MAX_FRAMES) {
		f->all = true;
		f->nr_ranges = 0;
		pt__flush_deliver(f);
	}
	f->frames[f->nr_frames++] = tagged_pa;
}

void pt__flush_add_frame(struct pt_flush *f, uint64_t pa)
{
	queue_release(f, pa);
}

void pt__flush_add_subtree(struct pt_flush *f, uint64_t node_pa)
{
	queue_release(f, node_pa | PT_FLUSH_SUBTREE);
	f->nodes_removed = true;
}

void pt__flush_add_table_range(struct pt_flush *f, uint64_t va, uint64_t len)
{
	pt__flush_add_range(f, va, len); /* may deliver early: flag after it */
	f->nodes_removed = true;
}

void pt__invalidate_now(const struct pt_flush_sink *sink, uint64_t va, uint64_t len,
			bool nodes_removed)
{
	struct pt_flush_range range = { va, len };
	struct pt_flush_info info = { .root_pa = sink->root_pa, .tag = sink->tag,
				      .stage = sink->stage, .ranges = &range,
				      .nr_ranges = 1, .nodes_removed = nodes_removed };

	sink->invalidate(sink->invalidate_arg, &info);
}

void pt__flush_deliver(struct pt_flush *f)
{
	const struct pt_flush_sink *sink = f->sink;

	if (f->nr_ranges || f->all || f->nodes_removed) {
		struct pt_flush_info info = {
			.root_pa = sink->root_pa,
			.tag = sink->tag,
			.stage = sink->stage,
			.ranges = f->ranges,
			.nr_ranges = f->nr_ranges,
			.all = f->all,
			.nodes_removed = f->nodes_removed,
		};
		sink->invalidate(sink->invalidate_arg, &info);
	}
	for (uint32_t i = 0; i < f->nr_frames; i++) {
		uint64_t pa = f->frames[i] & ~(uint64_t)PT_FLUSH_SUBTREE;
		if (f->frames[i] & PT_FLUSH_SUBTREE)
			sink->release_subtree(sink->phys, pa);
		else
			pt__frame_put_valid(sink->phys, pa);
	}
	pt__flush_reset(f, sink);
}

int pt_flush_finish(struct pt_flush *f)
{
	if (!f || !f->sink)
		return PT_EINVAL;
	pt__flush_deliver(f);
	return 0;
}
