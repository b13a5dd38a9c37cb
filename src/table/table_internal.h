/* SPDX-License-Identifier: MPL-2.0 */
/*
 * table_internal.h - what the format-independent table layer (table.c,
 * flush.c) and the per-format engine share.
 */
#ifndef PTKIT_SRC_TABLE_INTERNAL_H
#define PTKIT_SRC_TABLE_INTERNAL_H

#include <ptkit/cursor.h>

#include "frames/frame_meta.h"

struct pt_table {
	struct pt_phys *phys;
	const struct pt_format *fmt;
	enum pt_space space;
	uint64_t root_pa;
	struct pt_table *kernel;     /* a user table's borrowed kernel half */
	_Atomic uint32_t nr_users;   /* user tables borrowing this kernel table */
	unsigned max_leaf_level;     /* the table's cap (opts) */
	uint32_t features;
	bool live;
	void (*invalidate)(void *arg, const struct pt_flush_info *info);
	void *invalidate_arg;
};

/* Where the pages of a map come from: a physical range, or tracked frames. */
struct pt_map_src {
	uint64_t va;               /* first page of the whole operation */
	uint64_t pa;               /* untracked: pa of `va` */
	const uint64_t *frames;    /* tracked: one frame per 4 KiB page */
	struct pt_prop prop;       /* normalized */
	unsigned max_level;        /* largest leaf allowed */
};

static inline bool pt_src_tracked(const struct pt_map_src *src)
{
	return src->frames != NULL;
}

/* The private layout behind struct pt_cursor. */
struct pt_cursor_state {
	struct pt_table *table;
	uint64_t start, last;      /* the locked range, inclusive */
	uint64_t va;               /* current address */
	bool at_end;               /* moved past `last` */
	uint64_t node_pa;          /* the locked node */
	uint64_t node_base;        /* first va it maps */
	unsigned node_level;
};
_Static_assert(sizeof(struct pt_cursor_state) <= sizeof(struct pt_cursor),
	       "struct pt_cursor too small");

static inline struct pt_cursor_state *pt_cursor_state(struct pt_cursor *c)
{
	return (struct pt_cursor_state *)c;
}

/* Moves the cursor past [va, va + len). */
void pt__cursor_advance(struct pt_cursor_state *c, uint64_t va, uint64_t len);

/* The engine, compiled once per format (src/formats/engine_instance.h). */
struct pt_format_ops {
	int (*table_init)(struct pt_table *t);
	void (*table_teardown)(struct pt_table *t);
	int (*query)(struct pt_table *t, uint64_t va, struct pt_mapping *out);
	int (*for_each)(struct pt_table *t, uint64_t va, uint64_t last,
			int (*fn)(const struct pt_mapping *, void *), void *arg);
	int (*check)(struct pt_table *t, char *why, size_t why_len);
	void (*stats)(struct pt_table *t, struct pt_table_stats *out);
	/* Puts a removed subtree's tracked frames, then hands its nodes to
	 * RCU (after the invalidation). */
	void (*release_subtree)(struct pt_table *t, uint64_t node_pa);

	/* Whole ranges, validated: one cursor, one walk each. */
	int (*map)(struct pt_table *t, uint64_t va, uint64_t last,
		   const struct pt_map_src *src);
	int (*unmap)(struct pt_table *t, uint64_t va, uint64_t last, struct pt_flush *flush);
	int (*protect)(struct pt_table *t, uint64_t va, uint64_t last,
		       void (*op)(struct pt_prop *, void *), void *arg, bool op_total,
		       struct pt_flush *flush);

	/* Cursor: the range is validated; these lock, walk and change. */
	/* Fills c for [va, last] and locks it (DESIGN §6 steps 1-2). */
	void (*cursor_open)(struct pt_cursor_state *c, struct pt_table *t, uint64_t va,
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
};

/* An empty batch bound to t (only the header: the arrays are read up to
 * their counts, and zeroing 2 KiB per operation would cost more than it). */
static inline void pt__flush_reset(struct pt_flush *f, struct pt_table *t)
{
	f->table = t;
	f->nr_ranges = 0;
	f->nr_frames = 0;
	f->nr_pages = 0;
	f->all = false;
	f->nodes_removed = false;
	f->nr_subtrees = 0;
}

/* Finishes a batch only if it holds something. */
static inline void pt__flush_finish_pending(struct pt_flush *f)
{
	if (f->nr_ranges || f->all || f->nodes_removed || f->nr_frames || f->nr_subtrees)
		pt_flush_finish(f);
}

/*
 * flush.c, used by the engine: record what to invalidate and release.  A
 * full batch is finished early, so callers clear a PTE, record its range,
 * and only then queue its frame or subtree.
 */
void pt__flush_add_range(struct pt_flush *f, uint64_t va, uint64_t len);
void pt__flush_add_frame(struct pt_flush *f, uint64_t pa);
void pt__flush_add_subtree(struct pt_flush *f, uint64_t node_pa);

/* Invalidates [va, va + len) at once, outside any batch: the "invalidate"
 * step of break-before-make. */
void pt__invalidate_now(const struct pt_table *t, uint64_t va, uint64_t len,
			bool nodes_removed);

#endif
