/* SPDX-License-Identifier: MPL-2.0 */
/*
 * conc_harvest_split.c - pt_harvest clearing dirty bits and pt_split
 * splitting 2M leaves while other threads map and unmap in the same
 * page-table nodes (issue #13).  Four threads, two windows:
 *
 *   harvest window [4G, 4G + 16M)  eight leaf tables of 16-page chunks:
 *     the harvester owns the even chunks, mapper A the odd ones
 *   split window   [5G, 5G + 32M)  sixteen 2M slots under one level-2
 *     node: the splitter owns the even slots, mapper B the odd ones
 *
 * The mappers map and unmap their chunks (never dirty).  The harvester
 * maps its chunks clean or dirty, dirties single pages (pt_protect of
 * PT_D), and harvests whole leaf tables, the mapper's chunks included,
 * with PT_HARVEST_CLEAR (sometimes first without): its own pages must
 * report exactly the dirty ones, the mapper's none.  The splitter maps a
 * 2M leaf (clean or dirty), splits it to 4K from a small stash (which may
 * run dry: PT_ENOMEM, nothing lost) or from the phys, sometimes over its
 * neighbours' slots too, harvests the pieces (each inherits the leaf's D)
 * and unmaps them.  A third of the harvests run under a cursor, in two
 * windows (pt_cursor_harvest_next).  Every thread checks its own pages
 * after each step; after join, every page against the models, pt_check,
 * and no frame leaked once the table is gone.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "conc_util.h"

#define CHUNK 16 /* pages per map or unmap of a chunk */
#define HARVEST_VA (UINT64_C(4) << 30)
#define HARVEST_PAGES (8 * 512)
#define SPLIT_VA (UINT64_C(5) << 30)
#define SPLIT_SLOTS 16
#define SPLIT_PAGES (SPLIT_SLOTS * 512)
#define PHYS_BYTES (UINT64_C(64) << 20)

/* One page as its owner last left it; only the owner writes it while
 * the threads run. */
struct page {
	bool mapped, dirty;
	uint64_t size; /* of the leaf holding it */
};

/* A window and its model. */
struct window {
	uint64_t va;
	struct page *pages;
	size_t npages;
};

static struct page harvest_pages[HARVEST_PAGES], split_pages[SPLIT_PAGES];
static struct window harvest_win = { HARVEST_VA, harvest_pages, HARVEST_PAGES };
static struct window split_win = { SPLIT_VA, split_pages, SPLIT_PAGES };

static struct pt_table *table;
static uint64_t iters;
static uint64_t seed;

static const struct pt_prop clean = { PT_R | PT_W | PT_U, PT_CACHE_WB };
static const struct pt_prop dirty = { PT_R | PT_W | PT_U | PT_D, PT_CACHE_WB };

/* A page must read back as its model says: a leaf of the model's size
 * mapping va + CONC_UNTRACKED_OFF, with D as recorded; or nothing. */
static void verify_page(const struct window *w, size_t i, const char *when)
{
	const struct page *p = &w->pages[i];
	uint64_t va = w->va + i * CONC_PAGE;
	struct pt_mapping m;
	int rc = pt_query(table, va, &m);

	if (!p->mapped) {
		CONC_CHECK(rc == PT_ENOENT, "%s: %#" PRIx64 " mapped (%s)", when, va,
			   pt_strerror(rc));
		return;
	}
	CONC_CHECK(rc == 0, "%s: %#" PRIx64 ": %s", when, va, pt_strerror(rc));
	CONC_CHECK(m.size == p->size && m.va == (va & ~(p->size - 1)) &&
		   m.pa == m.va + CONC_UNTRACKED_OFF,
		   "%s: %#" PRIx64 " in a leaf %#" PRIx64 "+%#" PRIx64 " -> %#" PRIx64
		   ", want size %#" PRIx64, when, va, m.va, m.size, m.pa, p->size);
	CONC_CHECK(!(m.prop.flags & PT_D) == !p->dirty, "%s: %#" PRIx64 " D %s", when, va,
		   p->dirty ? "lost" : "appeared");
}

/* The pages of [first, first + n) that `mine` picks (NULL: all). */
static void verify_range(const struct window *w, size_t first, size_t n,
			 bool (*mine)(size_t page), const char *when)
{
	for (size_t i = first; i < first + n; i++)
		if (!mine || mine(i))
			verify_page(w, i, when);
}

/* Sets the model of pages [first, first + n). */
static void model_set(struct window *w, size_t first, size_t n, bool mapped, bool d,
		      uint64_t size)
{
	for (size_t i = first; i < first + n; i++)
		w->pages[i] = (struct page){ mapped, mapped && d, size };
}

/* Maps chunk c (clean or dirty) if it is empty, else unmaps it. */
static void toggle_chunk(struct window *w, size_t c, bool d)
{
	size_t first = c * CHUNK;
	uint64_t va = w->va + first * CONC_PAGE, len = CHUNK * CONC_PAGE;

	if (w->pages[first].mapped) {
		CONC_RC(pt_unmap(table, va, len, NULL), 0);
		model_set(w, first, CHUNK, false, false, 0);
	} else {
		CONC_RC(pt_map(table, va, va + CONC_UNTRACKED_OFF, len, d ? dirty : clean), 0);
		model_set(w, first, CHUNK, true, d, CONC_PAGE);
	}
	verify_range(w, first, CHUNK, NULL, "after a chunk's map or unmap");
}

/* The harvest of [va, va + n pages) into bm: pt_harvest, or under one
 * cursor in two windows (pt_cursor_harvest_next; n a multiple of 128). */
static void harvest_into(uint64_t va, size_t n, unsigned what, uint64_t *bm, bool cursor)
{
	struct pt_cursor c;

	if (!cursor) {
		CONC_RC(pt_harvest(table, va, n * CONC_PAGE, what, bm, NULL), 0);
		return;
	}
	CONC_RC(pt_cursor_open(&c, table, va, n * CONC_PAGE), 0);
	CONC_RC(pt_cursor_harvest_next(&c, n / 2 * CONC_PAGE, what, bm, NULL), 0);
	CONC_RC(pt_cursor_harvest_next(&c, UINT64_MAX, what, bm + n / 2 / 64, NULL), 0);
	pt_cursor_close(&c);
}

/* A harvest of D over [first, first + n) of w (whole-range or under a
 * cursor): each page of `mine`'s pages reports its model's D, every other
 * page none; with clear, the model is clean afterwards. */
static void harvest_check(struct window *w, size_t first, size_t n,
			  bool (*mine)(size_t page), bool clear, bool cursor)
{
	uint64_t bm[512 / 64];
	unsigned what = PT_HARVEST_DIRTY | (clear ? PT_HARVEST_CLEAR : 0);

	CONC_CHECK(n <= sizeof(bm) * 8 && n % 128 == 0, "harvest of %zu pages", n);
	harvest_into(w->va + first * CONC_PAGE, n, what, bm, cursor);
	for (size_t k = 0; k < n; k++) {
		size_t i = first + k;
		bool bit = bm[k / 64] >> (k % 64) & 1;
		bool want = mine(i) && w->pages[i].dirty;

		CONC_CHECK(bit == want, "harvest: page %#" PRIx64 " reported %s",
			   w->va + i * CONC_PAGE, bit ? "dirty" : "clean");
		if (clear && mine(i))
			w->pages[i].dirty = false;
	}
}

/* ---- the harvest window ---- */

static bool harvester_owns(size_t page)
{
	return (page / CHUNK) % 2 == 0;
}

static void harvester_step(struct conc_rng *r)
{
	size_t c = 2 * conc_below(r, HARVEST_PAGES / CHUNK / 2);
	size_t table_first = conc_below(r, HARVEST_PAGES / 512) * 512;
	unsigned x = (unsigned)conc_below(r, 10);

	if (x < 4) {
		toggle_chunk(&harvest_win, c, conc_chance(r, 50));
	} else if (x < 7) {
		size_t i = c * CHUNK + conc_below(r, CHUNK);
		uint64_t va = HARVEST_VA + i * CONC_PAGE;

		CONC_RC(pt_protect(table, va, CONC_PAGE, PT_D, 0, NULL), 0);
		harvest_pages[i].dirty = harvest_pages[i].mapped;
		verify_page(&harvest_win, i, "after pt_protect of D");
	} else {
		/* A whole leaf table, the mapper's chunks included. */
		if (conc_chance(r, 25))
			harvest_check(&harvest_win, table_first, 512, harvester_owns, false,
				      conc_chance(r, 50));
		harvest_check(&harvest_win, table_first, 512, harvester_owns, true,
			      conc_chance(r, 30));
		verify_range(&harvest_win, table_first, 512, harvester_owns, "after pt_harvest");
	}
}

/* ---- the split window ---- */

static bool splitter_owns(size_t page)
{
	return (page / 512) % 2 == 0;
}

/* Slot s's 2M leaf split to 4K: over the slot alone, or over its
 * neighbours' slots too (their 4K leaves stay as they are).  A stash of
 * zero or one node may run dry: PT_ENOMEM keeps the leaf whole. */
static void split_slot(struct conc_rng *r, size_t s)
{
	uint64_t va = SPLIT_VA + s * CONC_2M, len = CONC_2M;
	struct pt_reserve stash = { 0, 0 };
	int rc;

	if (s > 0 && s + 1 < SPLIT_SLOTS && conc_chance(r, 30)) {
		va -= CONC_2M;
		len = 3 * CONC_2M;
	}
	if (conc_chance(r, 50)) {
		CONC_RC(pt_reserve_fill(table, &stash, conc_below(r, 2)), 0);
		rc = pt_split(table, va, len, 1, &stash);
		pt_reserve_drain(table, &stash);
		CONC_CHECK(rc == 0 || rc == PT_ENOMEM, "pt_split: %s", pt_strerror(rc));
	} else {
		rc = pt_split(table, va, len, 1, NULL);
		CONC_RC(rc, 0);
	}
	if (rc == 0)
		for (size_t i = s * 512; i < (s + 1) * 512; i++)
			split_pages[i].size = CONC_PAGE;
}

/* Slot s: empty -> a 2M leaf -> split -> harvested or unmapped. */
static void splitter_step(struct conc_rng *r)
{
	size_t s = 2 * conc_below(r, SPLIT_SLOTS / 2), first = s * 512;
	uint64_t va = SPLIT_VA + s * CONC_2M;
	const struct page *p = &split_pages[first];

	if (!p->mapped) {
		bool d = conc_chance(r, 50);

		CONC_RC(pt_map(table, va, va + CONC_UNTRACKED_OFF, CONC_2M, d ? dirty : clean), 0);
		model_set(&split_win, first, 512, true, d, CONC_2M);
	} else if (p->size == CONC_2M) {
		split_slot(r, s);
	} else if (conc_chance(r, 50)) {
		harvest_check(&split_win, first, 512, splitter_owns, true, conc_chance(r, 30));
	} else {
		CONC_RC(pt_unmap(table, va, CONC_2M, NULL), 0);
		model_set(&split_win, first, 512, false, false, 0);
	}
	verify_range(&split_win, first, 512, NULL, "splitter");
}

/* ---- the mappers ---- */

static void mapper_a_step(struct conc_rng *r)
{
	toggle_chunk(&harvest_win, 2 * conc_below(r, HARVEST_PAGES / CHUNK / 2) + 1, false);
}

/* Chunks of the odd slots. */
static void mapper_b_step(struct conc_rng *r)
{
	size_t per_slot = 512 / CHUNK;
	size_t s = 2 * conc_below(r, SPLIT_SLOTS / 2) + 1;

	toggle_chunk(&split_win, s * per_slot + conc_below(r, per_slot), false);
}

static void (*const roles[])(struct conc_rng *r) = {
	harvester_step, mapper_a_step, splitter_step, mapper_b_step,
};
#define NR_ROLES (sizeof(roles) / sizeof(roles[0]))

static void *worker(void *arg)
{
	unsigned id = *(unsigned *)arg;
	struct conc_rng r;

	conc_rng_init(&r, seed, id);
	conc_start_line();
	for (uint64_t i = 0; i < iters; i++)
		roles[id](&r);
	return NULL;
}

int main(void)
{
	static unsigned ids[NR_ROLES];
	struct pt_phys *phys;
	uint64_t free_before;

	conc_set_name("conc_harvest_split");
	seed = conc_seed();
	iters = conc_iters(40000);
	CONC_RC(pt_phys_create(PHYS_BYTES, &phys), 0);
	free_before = pt_phys_free_frames(phys);
	CONC_RC(pt_table_create(phys, &pt_format_x86_64, PT_SPACE_USER, &table), 0);
	for (unsigned i = 0; i < NR_ROLES; i++)
		ids[i] = i;
	conc_run_threads(NR_ROLES, worker, ids, sizeof(ids[0]));

	verify_range(&harvest_win, 0, HARVEST_PAGES, NULL, "after join");
	verify_range(&split_win, 0, SPLIT_PAGES, NULL, "after join");
	conc_expect_check(table, "after join");
	conc_destroy_expect_free(table, phys, free_before);
	pt_phys_destroy(phys);
	printf("conc_harvest_split: %u threads, %" PRIu64 " steps each: ok\n",
	       (unsigned)NR_ROLES, iters);
	return 0;
}
