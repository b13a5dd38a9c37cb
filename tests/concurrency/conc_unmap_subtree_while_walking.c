/* SPDX-License-Identifier: MPL-2.0 */
/*
 * conc_unmap_subtree_while_walking.c - one thread keeps filling a 1 GiB
 * region and tearing it down whole, so whole subtrees (512 leaf tables and
 * their level-2 node) are detached again and again, while other threads walk
 * inside it without locks (pt_query, pt_for_each_mapping) and with cursors.
 *
 * The mapper uses a different pa - va offset for each leaf size (4K, 2M,
 * 1G), so a reader can check every leaf it sees against its size alone
 * (allowing for leaves split out of a larger one by a partial unmap): a
 * walker that read a freed and reused node would see zeroes or someone
 * else's PTEs and report a leaf that breaks this rule (or crash).  Under
 * ThreadSanitizer, reading a node after its frame was handed out and zeroed
 * again is a race report; under ASan, a wild pointer read is.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "conc_util.h"

#define REGION (5 * CONC_1G)   /* one level-3 entry: its whole subtree goes */
#define NREADERS 3
/* pa - va per leaf size: 4K leaves are not 2M aligned, 2M not 1G aligned. */
#define DELTA_4K (CONC_UNTRACKED_OFF + CONC_PAGE)
#define DELTA_2M (CONC_UNTRACKED_OFF + CONC_2M)
#define DELTA_1G (CONC_UNTRACKED_OFF)

static const struct pt_prop RW = { PT_R | PT_W | PT_U, PT_CACHE_WB };

struct shared {
	struct pt_table *t;
	uint64_t seed, cycles;
	uint64_t barriers;   /* PT_ENOMEM answered with pt_phys_barrier */
	atomic_bool done;
};

struct reader {
	struct shared *s;
	unsigned id;
	struct conc_rng rng;
	uint64_t seen, absent, walks;
};

/* ---- what a reader accepts ---- */

/*
 * pa - va tells which fill made a leaf: its own size's delta, or a larger
 * size's when that leaf was split (unmapping half of a 1G leaf leaves 2M
 * leaves with the 1G delta).  Anything else is garbage.
 */
static bool delta_ok(const struct pt_mapping *m)
{
	uint64_t d = m->pa - m->va;

	if (m->size == CONC_1G)
		return d == DELTA_1G;
	if (m->size == CONC_2M)
		return d == DELTA_2M || d == DELTA_1G;
	return m->size == CONC_PAGE && (d == DELTA_4K || d == DELTA_2M || d == DELTA_1G);
}

static void check_leaf(const struct pt_mapping *m, uint64_t va, const char *what)
{
	char buf[160];

	CONC_CHECK(delta_ok(m) && !m->tracked && m->prop.flags == RW.flags &&
		   va >= m->va && va - m->va < m->size && m->va >= REGION &&
		   m->va + m->size <= REGION + CONC_1G,
		   "%s at %#" PRIx64 ": a leaf no thread made: %s", what, va,
		   conc_fmt_map(m, buf, sizeof(buf)));
}

static uint64_t random_va(struct reader *r)
{
	return REGION + conc_below(&r->rng, CONC_1G / CONC_PAGE) * CONC_PAGE;
}

static void read_query(struct reader *r)
{
	struct pt_mapping m;
	uint64_t va = random_va(r) + conc_below(&r->rng, CONC_PAGE); /* any byte */
	int err = pt_query(r->s->t, va, &m);

	if (err == PT_ENOENT) {
		r->absent++;
		return;
	}
	CONC_CHECK(err == 0, "pt_query: %s", pt_strerror(err));
	check_leaf(&m, va, "pt_query");
	r->seen++;
}

struct walk {
	struct reader *r;
	uint64_t lo, hi, next;
};

static int walk_one(const struct pt_mapping *m, void *arg)
{
	struct walk *w = arg;

	CONC_CHECK(m->va >= w->next && m->va + m->size > w->lo && m->va <= w->hi,
		   "for_each: leaf at %#" PRIx64 " out of order or outside [%#" PRIx64
		   ", %#" PRIx64 "]", m->va, w->lo, w->hi);
	check_leaf(m, m->va, "for_each");
	w->next = m->va + m->size;
	w->r->seen++;
	return 0;
}

static void read_for_each(struct reader *r)
{
	uint64_t len = (1 + conc_below(&r->rng, 2048)) * CONC_PAGE;
	uint64_t va = random_va(r);

	if (va + len > REGION + CONC_1G)
		len = REGION + CONC_1G - va;
	struct walk w = { r, va, va + len - 1, 0 };
	CONC_RC(pt_for_each_mapping(r->s->t, va, len, walk_one, &w), 0);
	r->walks++;
}

/* A cursor holds the range still: what it finds stays until it closes. */
static void read_cursor(struct reader *r)
{
	bool whole = conc_chance(&r->rng, 2); /* sometimes the whole 1G: blocks the mapper */
	uint64_t len = whole ? CONC_1G : (1 + conc_below(&r->rng, 1024)) * CONC_PAGE;
	uint64_t va = whole ? REGION : random_va(r), found;
	struct pt_cursor c;
	struct pt_mapping m, again;

	if (va + len > REGION + CONC_1G)
		len = REGION + CONC_1G - va;
	CONC_RC(pt_cursor_open(&c, r->s->t, va, len), 0);
	for (int i = 0; i < 8 && pt_cursor_find_next(&c, UINT64_MAX, &found) == 0; i++) {
		CONC_RC(pt_cursor_query(&c, &m), 0);
		check_leaf(&m, found, "cursor query");
		CONC_RC(pt_query(r->s->t, found, &again), 0); /* lock-free, inside a cursor */
		CONC_CHECK(again.va == m.va && again.pa == m.pa && again.size == m.size,
			   "pt_query disagrees with the cursor holding the range");
		r->seen++;
		if (m.va + m.size - va >= len || pt_cursor_jump(&c, m.va + m.size) != 0)
			break;
	}
	pt_cursor_close(&c);
	r->walks++;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	conc_start_line();
	while (!atomic_load(&r->s->done)) {
		unsigned kind = (r->id + (unsigned)conc_below(&r->rng, 4)) % 3;
		if (kind == 0)
			read_query(r);
		else if (kind == 1)
			read_for_each(r);
		else
			read_cursor(r);
	}
	return NULL;
}

/* ---- the mapper ---- */

/*
 * One pt_map.  The mapper frees 513 nodes per cycle far faster than grace
 * periods end, so the arena can run dry while most of it waits out a grace
 * period: PT_ENOMEM then, with pt_phys_reclaimable_frames far above
 * pt_phys_free_frames.  The documented answer is pt_phys_barrier and retry
 * (which also runs the barrier against busy readers); a second PT_ENOMEM
 * would be a real leak.
 */
static void map_chunk(struct shared *s, uint64_t va, uint64_t pa, uint64_t len)
{
	struct pt_phys *phys = pt_table_phys(s->t);
	int err = pt_map(s->t, va, pa, len, RW);

	if (err == PT_ENOMEM) {
		CONC_CHECK(pt_phys_reclaimable_frames(phys) > pt_phys_free_frames(phys),
			   "PT_ENOMEM with no release pending: frames leaked");
		pt_phys_barrier(phys);
		s->barriers++;
		err = pt_map(s->t, va, pa, len, RW);
	}
	CONC_CHECK(err == 0, "pt_map [%#" PRIx64 ", +%#" PRIx64 "): %s", va, len,
		   pt_strerror(err));
}

/* Fills the 1G with one leaf size, in a few calls so readers see it grow. */
static void fill(struct shared *s, uint64_t size)
{
	uint64_t delta = size == CONC_PAGE ? DELTA_4K : size == CONC_2M ? DELTA_2M : DELTA_1G;
	uint64_t chunk = size == CONC_1G ? CONC_1G : CONC_1G / 8;

	for (uint64_t va = REGION; va < REGION + CONC_1G; va += chunk)
		map_chunk(s, va, va + delta, chunk);
}

/* Tears it all down: one unmap, a cursor's take_next, or two halves
 * (which detach the 512M subtrees below a level-2 node that stays). */
static void tear_down(struct shared *s, unsigned how)
{
	struct pt_cursor c;
	struct pt_taken t;

	if (how == 0) {
		CONC_RC(pt_unmap(s->t, REGION, CONC_1G, NULL), 0);
	} else if (how == 1) {
		CONC_RC(pt_cursor_open(&c, s->t, REGION, CONC_1G), 0);
		while (pt_cursor_take_next(&c, UINT64_MAX, &t, NULL) == 0)
			;
		pt_cursor_close(&c);
	} else {
		CONC_RC(pt_unmap(s->t, REGION, CONC_1G / 2, NULL), 0);
		CONC_RC(pt_unmap(s->t, REGION + CONC_1G / 2, CONC_1G / 2, NULL), 0);
	}
	struct pt_mapping m;
	CONC_RC(pt_query(s->t, REGION + CONC_1G / 3, &m), PT_ENOENT);
}

static void *mapper_main(void *arg)
{
	struct shared *s = arg;
	struct conc_rng rng;

	conc_rng_init(&rng, s->seed, 99);
	conc_start_line();
	for (uint64_t i = 0; i < s->cycles; i++) {
		unsigned pick = (unsigned)conc_below(&rng, 10);
		fill(s, pick < 7 ? CONC_PAGE : pick < 9 ? CONC_2M : CONC_1G);
		tear_down(s, (unsigned)conc_below(&rng, 3));
	}
	atomic_store(&s->done, true);
	return NULL;
}

/* conc_run_threads gives every thread the same kind of argument. */
struct slot {
	struct shared *s;
	struct reader r;
	bool mapper;
};

static void *slot_main(void *arg)
{
	struct slot *sl = arg;

	return sl->mapper ? mapper_main(sl->s) : reader_main(&sl->r);
}

int main(void)
{
	struct shared s = { 0 };
	struct slot slots[1 + NREADERS];
	struct pt_phys *phys;
	uint64_t seen = 0, absent = 0, walks = 0;

	conc_set_name("conc_unmap_subtree_while_walking");
	s.seed = conc_seed();
	s.cycles = conc_iters(600);
	CONC_RC(pt_phys_create(64 << 20, &phys), 0);
	uint64_t free_before = pt_phys_free_frames(phys);
	CONC_RC(pt_table_create(phys, &pt_format_x86_64, PT_SPACE_USER, &s.t), 0);
	for (unsigned i = 0; i <= NREADERS; i++) {
		slots[i] = (struct slot){ .s = &s, .mapper = i == 0,
					  .r = { .s = &s, .id = i } };
		conc_rng_init(&slots[i].r.rng, s.seed, i);
	}
	double t0 = conc_now();
	conc_run_threads(1 + NREADERS, slot_main, slots, sizeof(slots[0]));
	for (unsigned i = 1; i <= NREADERS; i++)
		seen += slots[i].r.seen, absent += slots[i].r.absent, walks += slots[i].r.walks;
	printf("conc_unmap_subtree_while_walking: %" PRIu64 " fill/tear-down cycles in %.2f s;"
	       " readers saw %" PRIu64 " leaves, %" PRIu64 " empty queries, %" PRIu64
	       " walks; %" PRIu64 " barriers after PT_ENOMEM\n", s.cycles, conc_now() - t0,
	       seen, absent, walks, s.barriers);
	conc_expect_check(s.t, "after join");
	struct conc_view v;
	conc_view_collect(s.t, 0, UINT64_C(1) << 47, &v);
	CONC_CHECK(v.nr == 0, "after join: %zu leaves left, want none", v.nr);
	conc_view_free(&v);
	conc_destroy_expect_free(s.t, phys, free_before);
	pt_phys_destroy(phys);
	printf("conc_unmap_subtree_while_walking: ok\n");
	return 0;
}
