/* SPDX-License-Identifier: MPL-2.0 */
/*
 * conc_overlap.c - threads fight over one 4 MiB window.
 *
 * Every thread maps random sub-ranges of the same window (4K runs, tracked
 * runs of shared frames, whole 2M pages); pt_map answers PT_EEXIST when any
 * page is taken.  A successful map makes the pages the caller's until it
 * unmaps them itself (protecting or unmapping only its own runs, sometimes
 * through a cursor that also spans other threads' pages).  So:
 *  - two threads never both own a page (two maps of one page both succeeded
 *    = the locking let overlapping cursors in together);
 *  - a thread's own pages read back exactly as it mapped them, at any time;
 *  - anything anyone reads is self-consistent (pa follows va, or a pool
 *    frame);
 *  - after join the view is the union of the threads' logs, pt_check
 *    passes, reference counts are exact; after each thread unmapped what it
 *    owns (again concurrently) the window is empty and nothing leaked.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conc_util.h"

#define MAX_THREADS 16
#define WIN_VA (3 * CONC_1G - CONC_2M) /* two 2M slots, two level-2 nodes */
#define WIN_PAGES 1024
#define POOL 8 /* few frames: their counts are contended */

struct page {
	uint64_t pa;
	uint32_t flags;
	bool mine, tracked;
};

struct worker {
	unsigned id;
	struct conc_rng rng;
	struct pt_table *t;
	const struct conc_frames *pool;
	uint64_t iters;
	struct page pages[WIN_PAGES]; /* this thread's log: what it owns */
	uint64_t maps_ok, maps_taken;
};

static uint64_t va_at(uint64_t i) { return WIN_VA + i * CONC_PAGE; }

/* ---- checks ---- */

static void expect_own(const struct worker *k, uint64_t i, const struct pt_mapping *m,
		       const char *what)
{
	const struct page *p = &k->pages[i];
	char buf[160];

	CONC_CHECK(m->pa + (va_at(i) - m->va) == p->pa && m->prop.flags == p->flags &&
		   m->tracked == p->tracked,
		   "%s: thread %u's page %#" PRIx64 " reads %s, it mapped pa=%#" PRIx64
		   " flags=%#x%s", what, k->id, va_at(i), conc_fmt_map(m, buf, sizeof(buf)),
		   p->pa, p->flags, p->tracked ? " tracked" : "");
}

/* Any page: sane if mapped; exact if ours; never absent if ours. */
static void check_page(const struct worker *k, uint64_t i, const char *what)
{
	struct pt_mapping m;
	char why[200];
	int err = pt_query(k->t, va_at(i), &m);

	if (err == PT_ENOENT) {
		CONC_CHECK(!k->pages[i].mine, "%s: thread %u's page %#" PRIx64 " vanished",
			   what, k->id, va_at(i));
		return;
	}
	CONC_CHECK(err == 0, "pt_query: %s", pt_strerror(err));
	CONC_CHECK(conc_mapping_sane(&m, k->pool, why, sizeof(why)), "%s: %s", what, why);
	if (k->pages[i].mine)
		expect_own(k, i, &m, what);
}

/* ---- operations ---- */

static void claim(struct worker *k, uint64_t i0, uint64_t n, const uint64_t *frames,
		  uint32_t flags)
{
	for (uint64_t i = 0; i < n; i++) {
		struct page *p = &k->pages[i0 + i];
		CONC_CHECK(!p->mine, "map of an own page %#" PRIx64 " succeeded", va_at(i0 + i));
		*p = (struct page){ .pa = frames ? frames[i] : va_at(i0 + i) + CONC_UNTRACKED_OFF,
				    .flags = flags, .mine = true, .tracked = frames != NULL };
	}
}

static bool any_mine(const struct worker *k, uint64_t i0, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (k->pages[i0 + i].mine)
			return true;
	return false;
}

/* A random range anywhere in the window: someone else may hold it. */
static void op_map(struct worker *k)
{
	static const uint32_t flag_choices[] = { PT_R | PT_U, PT_R | PT_W | PT_U, PT_U };
	uint32_t flags = flag_choices[conc_below(&k->rng, 3)];
	bool huge = conc_chance(&k->rng, 10), tracked = !huge && conc_chance(&k->rng, 40);
	uint64_t n = huge ? 512 : 1 + conc_below(&k->rng, conc_chance(&k->rng, 80) ? 16 : 200);
	uint64_t i0 = huge ? 512 * conc_below(&k->rng, 2) : conc_below(&k->rng, WIN_PAGES - n + 1);
	uint64_t frames[200];
	int err;

	for (uint64_t i = 0; tracked && i < n; i++)
		frames[i] = k->pool->pa[conc_below(&k->rng, k->pool->n)];
	bool mine = any_mine(k, i0, n);
	if (tracked)
		err = pt_map_frames(k->t, va_at(i0), frames, n, (struct pt_prop){ flags, 0 });
	else
		err = pt_map(k->t, va_at(i0), va_at(i0) + CONC_UNTRACKED_OFF, n * CONC_PAGE,
			     (struct pt_prop){ flags, 0 });
	CONC_CHECK(err == 0 || err == PT_EEXIST, "map: %s", pt_strerror(err));
	CONC_CHECK(!(mine && err == 0), "map over this thread's own pages succeeded");
	if (err == 0) {
		claim(k, i0, n, tracked ? frames : NULL, flags);
		k->maps_ok++;
	} else {
		k->maps_taken++;
	}
	check_page(k, i0, "after map");
	check_page(k, i0 + n - 1, "after map");
}

/* A run of own pages: [*i0, *i0 + *n), false if this thread owns none. */
static bool pick_own_run(struct worker *k, uint64_t *i0, uint64_t *n)
{
	uint64_t start = conc_below(&k->rng, WIN_PAGES), i = start;

	while (!k->pages[i].mine) {
		i = (i + 1) % WIN_PAGES;
		if (i == start)
			return false;
	}
	uint64_t end = i;
	while (end + 1 < WIN_PAGES && k->pages[end + 1].mine)
		end++;
	uint64_t len = end - i + 1;
	uint64_t skip = conc_below(&k->rng, len);
	*i0 = conc_chance(&k->rng, 50) ? i : i + skip;
	*n = 1 + conc_below(&k->rng, end - *i0 + 1);
	return true;
}

static void op_unmap_own(struct worker *k)
{
	uint64_t i0, n;

	if (!pick_own_run(k, &i0, &n))
		return;
	CONC_RC(pt_unmap(k->t, va_at(i0), n * CONC_PAGE, NULL), 0);
	for (uint64_t i = 0; i < n; i++)
		k->pages[i0 + i].mine = false;
	check_page(k, i0, "after unmap");
}

static void op_protect_own(struct worker *k)
{
	uint64_t i0, n;
	bool rw = conc_chance(&k->rng, 50);

	if (!pick_own_run(k, &i0, &n))
		return;
	CONC_RC(pt_protect(k->t, va_at(i0), n * CONC_PAGE, rw ? PT_R | PT_W : 0,
			   rw ? 0 : PT_W, NULL), 0);
	for (uint64_t i = 0; i < n; i++)
		k->pages[i0 + i].flags = rw ? PT_R | PT_W | PT_U : k->pages[i0 + i].flags & ~PT_W;
	check_page(k, i0 + n - 1, "after protect");
}

/* A cursor over a random range that contains an own run (and often other
 * threads' pages): take exactly the own run with take_next. */
static void op_cursor_take_own(struct worker *k)
{
	uint64_t i0, n;
	struct pt_cursor c;
	struct pt_taken t;
	int err;

	if (!pick_own_run(k, &i0, &n))
		return;
	uint64_t lo = conc_below(&k->rng, i0 + 1);
	uint64_t hi = i0 + n + conc_below(&k->rng, WIN_PAGES - (i0 + n) + 1);
	CONC_RC(pt_cursor_open(&c, k->t, va_at(lo), (hi - lo) * CONC_PAGE), 0);
	CONC_RC(pt_cursor_jump(&c, va_at(i0)), 0);
	while ((err = pt_cursor_take_next(&c, va_at(i0 + n) - pt_cursor_va(&c), &t, NULL)) == 0) {
		uint64_t va = t.subtree ? t.va : t.mapping.va;
		uint64_t len = t.subtree ? t.len : t.mapping.size;
		CONC_CHECK(va >= va_at(i0) && va + len <= va_at(i0 + n), "take_next took "
			   "[%#" PRIx64 ", +%#" PRIx64 ") outside the own run", va, len);
		if (pt_cursor_va(&c) >= va_at(i0 + n) || pt_cursor_va(&c) == 0)
			break;
	}
	CONC_CHECK(err == 0 || err == PT_ENOENT, "take_next: %s", pt_strerror(err));
	pt_cursor_close(&c);
	for (uint64_t i = 0; i < n; i++)
		k->pages[i0 + i].mine = false;
	check_page(k, i0, "after cursor take");
}

struct scan {
	const struct worker *k;
	uint64_t next;
};

static int scan_one(const struct pt_mapping *m, void *arg)
{
	struct scan *s = arg;
	char why[200];

	CONC_CHECK(m->va >= s->next, "for_each out of order at %#" PRIx64, m->va);
	s->next = m->va + m->size;
	CONC_CHECK(conc_mapping_sane(m, s->k->pool, why, sizeof(why)), "for_each: %s", why);
	for (uint64_t va = m->va; va < m->va + m->size; va += CONC_PAGE) {
		uint64_t i = (va - WIN_VA) / CONC_PAGE;
		if (va >= WIN_VA && i < WIN_PAGES && s->k->pages[i].mine)
			expect_own(s->k, i, m, "for_each");
	}
	return 0;
}

static void op_read(struct worker *k)
{
	if (conc_chance(&k->rng, 50)) {
		struct scan s = { k, 0 };
		CONC_RC(pt_for_each_mapping(k->t, WIN_VA, WIN_PAGES * CONC_PAGE, scan_one, &s), 0);
	} else {
		check_page(k, conc_below(&k->rng, WIN_PAGES), "query");
	}
}

static void *worker_main(void *arg)
{
	struct worker *k = arg;

	conc_start_line();
	for (uint64_t it = 0; it < k->iters; it++) {
		unsigned x = (unsigned)conc_below(&k->rng, 100);
		if (x < 35)
			op_map(k);
		else if (x < 55)
			op_unmap_own(k);
		else if (x < 65)
			op_protect_own(k);
		else if (x < 75)
			op_cursor_take_own(k);
		else
			op_read(k);
	}
	return NULL;
}

/* Phase 2: each thread gives back everything it owns. */
static void *release_main(void *arg)
{
	struct worker *k = arg;
	uint64_t i0, n;

	conc_start_line();
	while (pick_own_run(k, &i0, &n)) {
		CONC_RC(pt_unmap(k->t, va_at(i0), n * CONC_PAGE, NULL), 0);
		for (uint64_t i = 0; i < n; i++)
			k->pages[i0 + i].mine = false;
		op_read(k);
	}
	return NULL;
}

/* ---- after join ---- */

/* Who owns page i after join (-1: nobody); two owners is a failure. */
static int owner_of(const struct worker *k, unsigned nthreads, uint64_t i, const char *when)
{
	int owner = -1;

	for (unsigned w = 0; w < nthreads; w++) {
		if (!k[w].pages[i].mine)
			continue;
		CONC_CHECK(owner < 0, "%s: page %#" PRIx64 " owned by threads %d and %u: "
			   "two overlapping maps both succeeded", when, va_at(i), owner, w);
		owner = (int)w;
	}
	return owner;
}

/* Every page of the view is in exactly its owner's log; returns pages. */
static uint64_t expect_view_in_logs(const struct worker *k, unsigned nthreads,
				    struct pt_table *t, const char *when)
{
	struct conc_view v;
	uint64_t seen = 0;

	conc_view_collect(t, 0, UINT64_C(1) << 47, &v);
	for (size_t j = 0; j < v.nr; j++) {
		for (uint64_t va = v.maps[j].va; va < v.maps[j].va + v.maps[j].size; va += CONC_PAGE) {
			uint64_t i = (va - WIN_VA) / CONC_PAGE;
			CONC_CHECK(va >= WIN_VA && i < WIN_PAGES, "%s: mapping outside the window "
				   "at %#" PRIx64, when, va);
			int w = owner_of(k, nthreads, i, when);
			CONC_CHECK(w >= 0, "%s: %#" PRIx64 " mapped, nobody's log has it", when, va);
			expect_own(&k[w], i, &v.maps[j], when);
			seen++;
		}
	}
	conc_view_free(&v);
	return seen;
}

/* No page owned twice; the view is exactly the union; refcounts exact. */
static void expect_union(const struct worker *k, unsigned nthreads, struct pt_table *t,
			 const struct conc_frames *pool, const char *when)
{
	uint64_t extra[POOL] = { 0 }, owned = 0;

	for (uint64_t i = 0; i < WIN_PAGES; i++) {
		int w = owner_of(k, nthreads, i, when);
		if (w < 0)
			continue;
		owned++;
		if (k[w].pages[i].tracked)
			extra[conc_frames_find(pool, k[w].pages[i].pa)]++;
	}
	uint64_t seen = expect_view_in_logs(k, nthreads, t, when);
	CONC_CHECK(seen == owned, "%s: %" PRIu64 " pages mapped, logs own %" PRIu64, when,
		   seen, owned);
	conc_expect_check(t, when);
	conc_frames_expect_refs(pool, pt_table_phys(t), extra, when);
	printf("conc_overlap: %s: %" PRIu64 " pages owned\n", when, owned);
}

int main(int argc, char **argv)
{
	static struct worker k[MAX_THREADS];
	unsigned nthreads = argc > 1 ? (unsigned)atoi(argv[1]) : 4;
	struct pt_phys *phys;
	struct pt_table *t;
	struct conc_frames pool;
	uint64_t iters = conc_iters(100000), ok = 0, taken = 0;

	conc_set_name("conc_overlap");
	if (nthreads < 2 || nthreads > MAX_THREADS) {
		fprintf(stderr, "usage: conc_overlap THREADS (2..%d)\n", MAX_THREADS);
		return 2;
	}
	uint64_t seed = conc_seed();
	CONC_RC(pt_phys_create(64 << 20, &phys), 0);
	conc_frames_alloc(&pool, phys, POOL);
	uint64_t free_before = pt_phys_free_frames(phys);
	CONC_RC(pt_table_create(phys, &pt_format_x86_64, PT_SPACE_USER, &t), 0);
	for (unsigned i = 0; i < nthreads; i++) {
		k[i] = (struct worker){ .id = i, .t = t, .pool = &pool, .iters = iters };
		conc_rng_init(&k[i].rng, seed, i);
	}
	double t0 = conc_now();
	conc_run_threads(nthreads, worker_main, k, sizeof(k[0]));
	for (unsigned i = 0; i < nthreads; i++)
		ok += k[i].maps_ok, taken += k[i].maps_taken;
	printf("conc_overlap: %d threads x %" PRIu64 " ops in %.2f s: %" PRIu64
	       " maps succeeded, %" PRIu64 " found the range taken\n", nthreads, iters,
	       conc_now() - t0, ok, taken);
	CONC_CHECK(ok > 0 && taken > 0, "no contention: the test did not test anything");
	expect_union(k, nthreads, t, &pool, "after join");
	conc_run_threads(nthreads, release_main, k, sizeof(k[0]));
	expect_union(k, nthreads, t, &pool, "after everyone unmapped");
	conc_destroy_expect_free(t, phys, free_before);
	conc_frames_put(&pool, phys);
	pt_phys_destroy(phys);
	printf("conc_overlap: ok\n");
	return 0;
}
