/* SPDX-License-Identifier: MPL-2.0 */
/* bare.c - the bare reference radix walk (see bare.h for what it does). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bare.h"

#define BARE_NODE 4096u
#define BARE_PS (UINT64_C(1) << 7)            /* x86: leaf at levels 2, 3 */
#define BARE_PA_MASK UINT64_C(0x000ffffffffff000) /* x86: bits 12..51 */

static uint64_t *bare_virt(const struct bare_arena *a, uint64_t pa)
{
	return (uint64_t *)(a->mem + pa);
}

static uint64_t bare_size(unsigned level)
{
	return (uint64_t)BARE_NODE << (9 * (level - 1));
}

static unsigned bare_index(uint64_t va, unsigned level)
{
	return (va >> (12 + 9 * (level - 1))) & 511;
}

static bool bare_is_table(uint64_t pte, unsigned level)
{
	return pte && level > 1 && !(pte & BARE_PS);
}

static void bare_node_free(struct bare_arena *a, uint64_t pa)
{
	*bare_virt(a, pa) = a->free_head;
	a->free_head = pa / BARE_NODE + 1;
}

static int bare_node_alloc(struct bare_arena *a, uint64_t *pa)
{
	uint64_t *node;

	if (!a->free_head)
		return BARE_ENOMEM;
	*pa = (a->free_head - 1) * BARE_NODE;
	node = bare_virt(a, *pa);
	a->free_head = node[0];
	memset(node, 0, BARE_NODE);
	return 0;
}

int bare_arena_init(struct bare_arena *a, uint64_t bytes)
{
	uint64_t i;

	a->nr_nodes = bytes / BARE_NODE;
	a->mem = aligned_alloc(BARE_NODE, a->nr_nodes * BARE_NODE);
	if (!a->mem)
		return BARE_ENOMEM;
	/* Prefault, as ptkit's hosted arena does, so no side pays page faults. */
	memset(a->mem, 0, a->nr_nodes * BARE_NODE);
	a->free_head = 0;
	/* Pushed in reverse so node 0 is handed out first. */
	for (i = a->nr_nodes; i > 0; i--)
		bare_node_free(a, (i - 1) * BARE_NODE);
	return 0;
}

void bare_arena_fini(struct bare_arena *a)
{
	free(a->mem);
	a->mem = NULL;
}

int bare_table_init(struct bare_table *t, struct bare_arena *a,
		    const struct bare_format *fmt)
{
	t->arena = a;
	t->fmt = *fmt;
	return bare_node_alloc(a, &t->root);
}

/* Frees a node and every node below it. */
static void bare_free_subtree(struct bare_arena *a, uint64_t pa, unsigned level)
{
	uint64_t *node = bare_virt(a, pa);
	unsigned i;

	if (level > 1)
		for (i = 0; i < 512; i++)
			if (bare_is_table(node[i], level))
				bare_free_subtree(a, node[i] & BARE_PA_MASK,
						  level - 1);
	bare_node_free(a, pa);
}

void bare_table_fini(struct bare_table *t)
{
	bare_free_subtree(t->arena, t->root, BARE_LEVELS);
}

/* The node an entry points to, allocated if the entry is empty. */
static uint64_t *bare_child(struct bare_table *t, uint64_t *pte)
{
	uint64_t pa;

	if (!*pte) {
		if (bare_node_alloc(t->arena, &pa))
			return NULL;
		*pte = pa | t->fmt.table_bits;
	}
	return bare_virt(t->arena, *pte & BARE_PA_MASK);
}

/* The end of the entry holding va, clipped to end. */
static uint64_t bare_stop(uint64_t va, uint64_t end, unsigned level)
{
	uint64_t next = (va | (bare_size(level) - 1)) + 1;

	return next < end ? next : end;
}

/* Writes leaves into as many whole entries from va's as [va, end) and the
 * node hold; returns how many.  A plain loop the compiler vectorizes. */
static uint64_t bare_fill(struct bare_table *t, uint64_t *node, unsigned level,
			  uint64_t va, uint64_t end, uint64_t pa)
{
	uint64_t size = bare_size(level), bits = t->fmt.leaf_bits[level];
	unsigned i = bare_index(va, level);
	uint64_t n = (end - va) / size, k;

	if (n > 512 - i)
		n = 512 - i;
	for (k = 0; k < n; k++)
		node[i + k] = (pa + k * size) | bits;
	return n * size;
}

static int bare_map_node(struct bare_table *t, uint64_t *node, unsigned level,
			 uint64_t va, uint64_t end, uint64_t pa)
{
	uint64_t size = bare_size(level), done;

	while (va < end) {
		uint64_t stop = bare_stop(va, end, level);
		uint64_t *child;

		if (stop - va == size && level <= t->fmt.max_leaf_level &&
		    !(pa & (size - 1))) {
			done = bare_fill(t, node, level, va, end, pa);
		} else {
			child = bare_child(t, &node[bare_index(va, level)]);
			if (!child ||
			    bare_map_node(t, child, level - 1, va, stop, pa))
				return BARE_ENOMEM;
			done = stop - va;
		}
		pa += done;
		va += done;
	}
	return 0;
}

/* True while [va, end) lies inside one entry at `level` without filling it:
 * the walk then just goes down, without looping or recursing. */
static bool bare_within_entry(uint64_t va, uint64_t end, unsigned level)
{
	uint64_t size = bare_size(level);

	return end - va < size && !((va ^ (end - 1)) & ~(size - 1));
}

int bare_map(struct bare_table *t, uint64_t va, uint64_t pa, uint64_t len)
{
	uint64_t *node = bare_virt(t->arena, t->root), end = va + len;
	unsigned level = BARE_LEVELS;

	for (; level > 1 && bare_within_entry(va, end, level); level--)
		if (!(node = bare_child(t, &node[bare_index(va, level)])))
			return BARE_ENOMEM;
	return bare_map_node(t, node, level, va, end, pa);
}

static void bare_unmap_node(struct bare_table *t, uint64_t *node,
			    unsigned level, uint64_t va, uint64_t end)
{
	uint64_t size = bare_size(level);

	/* Every level-1 entry is a leaf, and [va, end) lies inside this node. */
	if (level == 1) {
		memset(&node[bare_index(va, 1)], 0, (end - va) / size * sizeof(*node));
		return;
	}
	while (va < end) {
		uint64_t stop = bare_stop(va, end, level);
		uint64_t *pte = &node[bare_index(va, level)];

		if (*pte && stop - va == size) {
			if (bare_is_table(*pte, level))
				bare_free_subtree(t->arena, *pte & BARE_PA_MASK,
						  level - 1);
			*pte = 0;
		} else if (*pte) {
			bare_unmap_node(t, bare_virt(t->arena, *pte & BARE_PA_MASK),
					level - 1, va, stop);
		}
		va = stop;
	}
}

void bare_unmap(struct bare_table *t, uint64_t va, uint64_t len)
{
	uint64_t *node = bare_virt(t->arena, t->root), end = va + len;
	unsigned level = BARE_LEVELS;

	for (; level > 1 && bare_within_entry(va, end, level); level--) {
		uint64_t pte = node[bare_index(va, level)];

		if (!bare_is_table(pte, level))
			return; /* nothing mapped (or part of a huge leaf: unsupported) */
		node = bare_virt(t->arena, pte & BARE_PA_MASK);
	}
	bare_unmap_node(t, node, level, va, end);
}

int bare_query(struct bare_table *t, uint64_t va, uint64_t *pa, uint64_t *size)
{
	uint64_t *node = bare_virt(t->arena, t->root);
	unsigned level;

	for (level = BARE_LEVELS; level > 0; level--) {
		uint64_t pte = node[bare_index(va, level)];

		if (!pte)
			return BARE_ENOENT;
		if (!bare_is_table(pte, level)) {
			*size = bare_size(level);
			*pa = pte & BARE_PA_MASK & ~(*size - 1);
			return 0;
		}
		node = bare_virt(t->arena, pte & BARE_PA_MASK);
	}
	return BARE_ENOENT; /* not reached: level 1 entries are leaves */
}

const char *bare_strerror(int err)
{
	switch (err) {
	case 0: return "ok";
	case BARE_ENOMEM: return "bare: out of nodes";
	case BARE_ENOENT: return "bare: not mapped";
	default: return "bare: unknown error";
	}
}
