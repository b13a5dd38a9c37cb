/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cursor.h - the format-independent part of the cursor layer: its private
 * state behind struct pt_cursor, and where the pages of a map come from.
 */
#ifndef PTKIT_SRC_CURSOR_H
#define PTKIT_SRC_CURSOR_H

#include <ptkit/cursor.h>

#include "nodes/node.h"
#include "nodes/tree.h"

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
	struct pt_table *table;    /* the API's handle (opaque here) */
	struct pt_tree *tree;      /* what the walks use: the table's */
	uint64_t start, last;      /* the locked range, inclusive */
	uint64_t va;               /* current address */
	bool at_end;               /* moved past `last` */
	struct pt_node node;       /* the locked node */
	unsigned node_level;
};
_Static_assert(sizeof(struct pt_cursor_state) <= sizeof(struct pt_cursor),
	       "struct pt_cursor too small");

static inline struct pt_cursor_state *pt_cursor_state(struct pt_cursor *c)
{
	return (struct pt_cursor_state *)c;
}

/* Moves the cursor past [va, va + len). */
static inline void pt_cursor_advance(struct pt_cursor_state *c, uint64_t va, uint64_t len)
{
	uint64_t last = va + (len - 1);

	c->at_end = last >= c->last;
	c->va = last + 1; /* at the end: the range's end (0 for 2^64) */
}

#endif
