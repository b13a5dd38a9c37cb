/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bare.h - the bare reference for `ptctl bench` (design §8).
 *
 * The floor ptkit is measured against: a plain 4-level x86-64 radix table
 * with no locks, no reference counts, no RCU, no checks and no rollback.
 * It encodes PTEs exactly as the caller says (ptctl passes the bits that
 * ptkit's own x86-64 format produces), so both sides write the same words.
 *
 * What it does, and what it leaves out on purpose:
 *   - nodes are 4 KiB, taken zeroed from a LIFO free list over one
 *     preallocated, prefaulted arena (physical address = arena offset);
 *   - map uses the largest page the alignment of va and pa and the length
 *     allow, up to max_leaf_level; it overwrites whatever is there (no
 *     EEXIST) and never splits or replaces a huge leaf;
 *   - unmap clears the leaves in the range and, like ptkit, frees every
 *     node whose whole range lies inside it (with its subtree); nodes
 *     emptied by a partial unmap stay.  It never splits a huge leaf: the
 *     caller never unmaps part of one;
 *   - only the user half (va + len < 2^47) is supported.
 */
#ifndef PTKIT_BENCH_BARE_H
#define PTKIT_BENCH_BARE_H

#include <stdint.h>

#define BARE_LEVELS 4
#define BARE_ENOMEM (-1) /* the arena has no free node */
#define BARE_ENOENT (-2) /* nothing mapped there */

struct bare_arena {
	uint8_t *mem;
	uint64_t nr_nodes;
	uint64_t free_head; /* index + 1 of the first free node; 0 = none */
};

struct bare_format {
	uint64_t leaf_bits[BARE_LEVELS + 1]; /* a leaf's bits at pa 0, by level */
	uint64_t table_bits;                 /* a table entry's bits at pa 0 */
	unsigned max_leaf_level;             /* 1: 4K only, 2: up to 2M, 3: 1G */
};

struct bare_table {
	struct bare_arena *arena;
	struct bare_format fmt;
	uint64_t root; /* pa of the level-4 node */
};

int bare_arena_init(struct bare_arena *a, uint64_t bytes);
void bare_arena_fini(struct bare_arena *a);

int bare_table_init(struct bare_table *t, struct bare_arena *a,
		    const struct bare_format *fmt);
void bare_table_fini(struct bare_table *t);

/* 0 or BARE_ENOMEM (nodes allocated before running out stay). */
int bare_map(struct bare_table *t, uint64_t va, uint64_t pa, uint64_t len);
void bare_unmap(struct bare_table *t, uint64_t va, uint64_t len);
/* The leaf's pa and size, or BARE_ENOENT. */
int bare_query(struct bare_table *t, uint64_t va, uint64_t *pa, uint64_t *size);

const char *bare_strerror(int err);

#endif /* PTKIT_BENCH_BARE_H */
