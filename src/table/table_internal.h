/* SPDX-License-Identifier: MPL-2.0 */
/*
 * table_internal.h - the table layer: struct pt_table, and the engine one
 * format compiles (src/formats/engine_instance.h) for the format-independent
 * API (table.c) to call.
 */
#ifndef PTKIT_SRC_TABLE_INTERNAL_H
#define PTKIT_SRC_TABLE_INTERNAL_H

#include <ptkit/cursor.h>

#include "cursor/cursor.h"
#include "nodes/tree.h"

struct pt_table {
	struct pt_tree tree;         /* what the engine's walks see */
	const struct pt_format *fmt;
	struct pt_table *kernel;     /* a user table's borrowed kernel half */
	_Atomic uint32_t nr_users;   /* user tables borrowing this kernel table */
	unsigned max_leaf_level;     /* the table's cap (opts) */
};

/* The engine, compiled once per format (src/formats/engine_instance.h). */
struct pt_format_ops {
	/* Whole table (table_template.h, check_template.h). */
	int (*table_init)(struct pt_table *t);
	void (*table_teardown)(struct pt_table *t);
	int (*query)(struct pt_table *t, uint64_t va, struct pt_mapping *out);
	int (*for_each)(struct pt_table *t, uint64_t va, uint64_t last,
			int (*fn)(const struct pt_mapping *, void *), void *arg);
	int (*check)(struct pt_table *t, char *why, size_t why_len);
	void (*stats)(struct pt_table *t, struct pt_table_stats *out);
	/* The flush sink's release of a removed subtree (flush/flush.h). */
	void (*release_subtree)(struct pt_phys *phys, uint64_t node_pa);

	/* pt_map itself: checks, then map (the page-fault path). */
	int (*map_checked)(struct pt_table *t, uint64_t va, uint64_t pa, uint64_t len,
			   struct pt_prop prop);
	/* Whole ranges, validated: one cursor, one walk each. */
	int (*map)(struct pt_table *t, uint64_t va, uint64_t last,
		   const struct pt_map_src *src);
	int (*unmap)(struct pt_table *t, uint64_t va, uint64_t last, struct pt_flush *flush);
	int (*protect)(struct pt_table *t, uint64_t va, uint64_t last,
		       void (*op)(struct pt_prop *, void *), void *arg, bool op_always_valid,
		       struct pt_flush *flush);
	/* The VM operations (vm_template.h), validated likewise. */
	int (*copy)(struct pt_table *dst, struct pt_table *src, uint64_t va, uint64_t last,
		    bool cow, struct pt_flush *flush);
	int (*mark)(struct pt_table *t, uint64_t va, uint64_t last, uint64_t value);
	int (*query_marker)(struct pt_table *t, uint64_t va, uint64_t *value);
	int (*split)(struct pt_table *t, uint64_t va, uint64_t last, unsigned to,
		     struct pt_reserve *r);
	/* ask: PT_A and/or PT_D; bitmap zeroed. */
	int (*harvest)(struct pt_table *t, uint64_t va, uint64_t last, uint32_t ask, bool clear,
		       uint64_t *bitmap, struct pt_flush *flush);
	/* Validated, non-overlapping ranges of len bytes. */
	int (*move)(struct pt_table *t, uint64_t from, uint64_t to, uint64_t len,
		    struct pt_flush *flush);

	/* Cursor (cursor_template.h): the range is validated; these lock,
	 * walk and change. */
	/* Fills c for [va, last] of tree t and locks it (design §6 steps 1-3). */
	void (*cursor_open)(struct pt_cursor_state *c, struct pt_tree *t, uint64_t va,
			    uint64_t last);
	void (*cursor_unlock)(struct pt_cursor_state *c);
	int (*cursor_query)(struct pt_cursor_state *c, struct pt_mapping *out);
	int (*cursor_find)(struct pt_cursor_state *c, uint64_t last, uint64_t *va_out);
	int (*cursor_map)(struct pt_cursor_state *c, uint64_t last,
			  const struct pt_map_src *src, struct pt_flush *flush);
	/* One leaf or subtree with mappings in [c->va, last]: removed
	 * (take_next) or protected (protect_next); PT_ENOENT if none. */
	int (*cursor_take_next)(struct pt_cursor_state *c, uint64_t last,
				struct pt_taken *taken, struct pt_flush *flush);
	int (*cursor_protect_next)(struct pt_cursor_state *c, uint64_t last,
				   void (*op)(struct pt_prop *, void *), void *arg,
				   uint64_t *va_out, uint64_t *len_out, struct pt_flush *flush);
	/* The VM operations on [c->va, last] of a locked cursor (vm_template.h),
	 * validated as the whole-range ones; the cursor does not move. */
	int (*cursor_query_marker)(struct pt_cursor_state *c, uint64_t *value);
	int (*cursor_mark)(struct pt_cursor_state *c, uint64_t last, uint64_t value,
			   unsigned max_level);
	void (*cursor_harvest)(struct pt_cursor_state *c, uint64_t last, uint32_t ask,
			       bool clear, uint64_t *bitmap, struct pt_flush *flush);
};

#endif
