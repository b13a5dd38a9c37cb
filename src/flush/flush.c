/* SPDX-License-Identifier: MPL-2.0 */
/*
 * flush.c - TLB flush batches (DESIGN §5): what to invalidate, then what to
 * release, in that order, never the other way round.
 */
#include "table/table_internal.h"

void pt_flush_init(struct pt_flush *flush, struct pt_table *table)
{
	if (flush)
		pt__flush_reset(flush, table);
}

/*
 * Callers record a cleared PTE's range before queueing what it mapped, so
 * finishing early here or in pt__flush_add_frame never releases anything
 * the batch does not invalidate.
 */
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
		pt_flush_finish(f);
		f->nr_pages = len >> PT_PAGE_SHIFT;
	}
	f->ranges[f->nr_ranges++] = (struct pt_flush_range){ va, len };
}

void pt__flush_add_frame(struct pt_flush *f, uint64_t pa)
{
	if (f->nr_frames == PT_FLUSH_MAX_FRAMES)
		pt_flush_finish(f);
	f->frames[f->nr_frames++] = pa;
}

void pt__flush_add_subtree(struct pt_flush *f, uint64_t node_pa)
{
	if (f->nr_subtrees == PT_FLUSH_MAX_SUBTREES)
		pt_flush_finish(f);
	f->subtrees[f->nr_subtrees++] = node_pa;
	f->nodes_removed = true;
}

void pt__invalidate_now(const struct pt_table *t, uint64_t va, uint64_t len,
			bool nodes_removed)
{
	struct pt_flush_range range = { va, len };
	struct pt_flush_info info = { .root_pa = t->root_pa, .ranges = &range, .nr_ranges = 1,
				      .nodes_removed = nodes_removed };

	t->invalidate(t->invalidate_arg, &info);
}

int pt_flush_finish(struct pt_flush *f)
{
	if (!f || !f->table)
		return PT_EINVAL;
	struct pt_table *t = f->table;
	if (f->nr_ranges || f->all || f->nodes_removed) {
		struct pt_flush_info info = {
			.root_pa = t->root_pa,
			.ranges = f->ranges,
			.nr_ranges = f->nr_ranges,
			.all = f->all,
			.nodes_removed = f->nodes_removed,
		};
		t->invalidate(t->invalidate_arg, &info);
	}
	for (size_t i = 0; i < f->nr_frames; i++)
		pt__frame_put_valid(t->phys, f->frames[i]);
	for (size_t i = 0; i < f->nr_subtrees; i++)
		t->fmt->ops->release_subtree(t, f->subtrees[i]);
	pt__flush_reset(f, t);
	return 0;
}
