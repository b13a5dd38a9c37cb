/* SPDX-License-Identifier: MPL-2.0 */
/*
 * checks.h - the argument checks of the table layer, in the documented
 * error order (design §5): used by the API (table.c) and by the engine's
 * page-fault entry (table_template.h), which inlines them with the format's
 * normalize.  Proved by Frama-C/WP (tests/wp/engine.c).
 */
#ifndef PTKIT_SRC_TABLE_CHECKS_H
#define PTKIT_SRC_TABLE_CHECKS_H

#include "table/table_internal.h"

/* ---- argument checks ---- */

/* The position of an error in the documented order (design §5). */
static inline int error_rank(int err)
{
	switch (err) {
	case PT_EINVAL: return 1;
	case PT_EALIGN: return 2;
	case PT_ERANGE: return 3;
	case PT_EPERM: return 4;
	default: return err ? 5 : 99;
	}
}

/* Of two findings, the one to report first. */
static inline int first_error(int a, int b)
{
	return error_rank(a) <= error_rank(b) ? a : b;
}

static inline bool page_aligned(uint64_t x)
{
	return (x & (PT_PAGE_SIZE - 1)) == 0;
}

/* [va, va + len) non-empty, not wrapping (va + len == 2^64 is fine), page
 * aligned, inside the table's space; kernel half through a user table is
 * read-only. */
static inline int range_check(const struct pt_table *t, uint64_t va, uint64_t len, bool write)
{
	if (!t || len == 0 || va + (len - 1) < va)
		return PT_EINVAL;
	if (!page_aligned(va) || !page_aligned(len))
		return PT_EALIGN;
	uint64_t last = va + (len - 1);
	if (last < t->fmt->user_end)
		return t->tree.space == PT_SPACE_USER ? 0 : PT_ERANGE;
	if (va < t->fmt->kernel_start)
		return PT_ERANGE; /* non-canonical, or spans the hole */
	if (t->tree.space == PT_SPACE_KERNEL)
		return 0;
	if (!t->kernel)
		return PT_ERANGE;
	return write ? PT_EPERM : 0;
}

/* Physical [pa, pa + len) must be aligned and encodable. */
static inline int pa_check(const struct pt_table *t, uint64_t pa, uint64_t len)
{
	if (!page_aligned(pa))
		return PT_EALIGN;
	if (pa + (len - 1) < pa || pa + (len - 1) >= t->fmt->pa_limit)
		return PT_ERANGE;
	return 0;
}

/* The largest leaf a map at va may use: the table's cap, and one level
 * below the root in a shared kernel half (its root slots hold shared
 * nodes). */
static inline unsigned max_leaf_at(const struct pt_table *t, uint64_t va)
{
	unsigned cap = t->max_leaf_level;
	if (t->fmt->shared_kernel_root && va >= t->fmt->kernel_start && cap >= t->fmt->levels)
		cap = t->fmt->levels - 1;
	return cap;
}

/*
 * pt_map's checks, first error first: the property (the format's
 * normalize, into src->prop), then the virtual range, then the physical
 * one.  Fills src for the map.
 */
static inline int map_checks(const struct pt_table *t, uint64_t va, uint64_t pa, uint64_t len,
			     int prop_err, struct pt_map_src *src)
{
	int err = prop_err;

	if (err)
		return err;
	if (pt_unlikely(err = range_check(t, va, len, true)))
		return err == PT_EINVAL ? err : first_error(err, pa_check(t, pa, len));
	if ((err = pa_check(t, pa, len)))
		return err;
	src->va = va;
	src->pa = pa;
	src->frames = NULL;
	src->max_level = max_leaf_at(t, va);
	return 0;
}

#endif
