/* SPDX-License-Identifier: MPL-2.0 */
/*
 * vm_template.h - the whole-range operations kernels and hypervisors build
 * on (issue #13): copy (fork), harvest (accessed/dirty bits), markers,
 * split.  Per format, like table_template.h: include
 * a format header first.
 */
#ifndef PTKIT_SRC_VM_TEMPLATE_H
#define PTKIT_SRC_VM_TEMPLATE_H

#ifndef FMT_LEVELS
#error "include a format header (src/formats/<fmt>.h) before vm_template.h"
#endif

#include "cursor/copy_template.h"
#include "cursor/harvest_template.h"
#include "cursor/mark_template.h"
#include "cursor/split_template.h"
#include "table/table_template.h"

/*
 * Both ranges locked, then the copy.  Two tables are locked in one global
 * order (their roots' addresses), so two copies between the same tables in
 * opposite directions cannot deadlock.  Out of line, as the batches' frames
 * above it: every frame within 512 bytes (design §7).
 */
static __attribute__((noinline)) int copy_locked(struct pt_table *dst, struct pt_table *src,
						 uint64_t va, uint64_t last, bool cow,
						 struct pt_flush *dflush, struct pt_flush *sflush)
{
	struct pt_cursor_state cd, cs;
	bool dst_first = dst->tree.root_pa < src->tree.root_pa;

	cursor_begin(dst_first ? &cd : &cs, dst_first ? &dst->tree : &src->tree, va, last);
	cursor_begin(dst_first ? &cs : &cd, dst_first ? &src->tree : &dst->tree, va, last);
	int err = cursor_copy(&cd, &cs, last, cow, dflush, sflush);
	cursor_unlock(dst_first ? &cs : &cd);
	cursor_unlock(dst_first ? &cd : &cs);
	return err;
}

/* dst's batch: the empty nodes a huge leaf replaced, new mappings where
 * the format caches invalid entries; delivered after the locks are gone. */
static __attribute__((noinline)) int copy_with_dst_batch(struct pt_table *dst,
							 struct pt_table *src, uint64_t va,
							 uint64_t last, bool cow,
							 struct pt_flush *sflush)
{
	struct pt_flush dlocal;

	pt__flush_reset(&dlocal, &dst->tree.sink);
	int err = copy_locked(dst, src, va, last, cow, &dlocal, sflush);
	pt__flush_deliver_pending(&dlocal);
	return err;
}

static int table_copy(struct pt_table *dst, struct pt_table *src, uint64_t va, uint64_t last,
		      bool cow, struct pt_flush *flush)
{
	struct pt_flush slocal;

	pt__flush_reset(&slocal, &src->tree.sink);
	int err = copy_with_dst_batch(dst, src, va, last, cow, flush ? flush : &slocal);
	pt__flush_deliver_pending(&slocal);
	return err;
}

static int table_harvest(struct pt_table *t, uint64_t va, uint64_t last, uint32_t ask,
			 bool clear, uint64_t *bitmap, struct pt_flush *flush)
{
	struct pt_cursor_state c;
	struct pt_flush local;

	range_open(t, va, last, &c, &local);
	cursor_harvest(&c, last, ask, clear, bitmap, flush ? flush : &local);
	return range_close(&c, &local, 0);
}

static int table_mark(struct pt_table *t, uint64_t va, uint64_t last, uint64_t value)
{
	struct pt_cursor_state c;
	struct pt_flush local; /* nothing goes in: range_open's */

	range_open(t, va, last, &c, &local);
	return range_close(&c, &local, cursor_mark(&c, last, value, max_leaf_at(t, va)));
}

static int table_query_marker(struct pt_table *t, uint64_t va, uint64_t *value)
{
	const struct pt_tree *tr = &t->tree;

	pt_rcu_read_lock(tr->phys);
	int err = lookup_marker(tr, va, value);
	pt_rcu_read_unlock(tr->phys);
	return err;
}

/* The marker at a locked cursor's current address (its RCU read section
 * is the caller's). */
static int cursor_query_marker(struct pt_cursor_state *c, uint64_t *value)
{
	return lookup_marker(c->tree, c->va, value);
}

static int table_split(struct pt_table *t, uint64_t va, uint64_t last, unsigned to,
		       struct pt_reserve *r)
{
	struct pt_cursor_state c;
	struct pt_flush local;

	range_open(t, va, last, &c, &local);
	return range_close(&c, &local, cursor_split(&c, last, to, r, &local));
}

#endif
