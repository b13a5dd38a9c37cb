/* SPDX-License-Identifier: MPL-2.0 */
/*
 * conc_live_dirty.c - a live table never loses a dirty bit the hardware set
 * (design §5, "live": leaf updates that read and rewrite a present leaf are
 * atomic).
 *
 * "MMU" threads do what an x86 page walker does on a write: walk the raw
 * table (inside an RCU read section, as ptkit's lock-free walkers do), find
 * the leaf, and set its D bit with a compare-exchange that fails if the
 * entry changed.  Each successful set is recorded.  Meanwhile the main
 * thread rewrites the same leaves through ptkit: pt_protect toggling a
 * software bit (never touching W or D), splitting 2 MiB leaves by
 * protecting one page inside, and at the end of each round take_next
 * removing every mapping while the MMU threads still write.  A page whose
 * D was set must show D in the view (rounds) and in take_next's report.
 * Before that, dirty logging: pt_harvest clearing D again and again while
 * the MMU threads set it; every page dirtied must be reported by one of
 * the harvests (the clear is an atomic AND on a live table).
 *
 * With `plain` as an argument the table is not live: ptkit's plain stores
 * then lose a bit now and then (0-5 per run here; before protect kept the
 * bits set between its prepare and commit passes, the live mode lost 4-5
 * per run too).  Not a CTest entry: it is a race, not a certainty.
 *
 * Any other argument names the format (conc_format, with its richest
 * features): "x86_ept" is a hypervisor's EPT with A/D enabled in the EPTP,
 * the CPU setting D in the guest-physical table as the guest writes.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-bp.h>

#include "conc_util.h"

#define REGION_VA (UINT64_C(1) << 30)           /* one 1 GiB entry */
#define REGION_HUGE 4                           /* 2 MiB leaves, then ... */
#define REGION_SMALL 512                        /* ... this many 4 KiB pages */
#define REGION_PAGES (REGION_HUGE * 512 + REGION_SMALL)
#define NR_MMU 2

static const struct pt_format *fmt;
static uint32_t features;                       /* the table's PT_FEAT_* */
static struct pt_phys *phys;
static struct pt_table *table;
static uint64_t dirty_bit;                      /* the raw D bit of a leaf */
static _Atomic bool mmu_stop;
/*
 * dirtied[page]: the phase in which an MMU thread set D on it (0: not
 * since the round began).  The thread reads the phase before its
 * compare-exchange and records it after: a record of the phase after the
 * dirty-logging harvests is a D set after their last clear, whereas one
 * of the harvest phase may have been cleared (and reported) by them, even
 * if the record itself lands later.
 */
enum { PHASE_HARVEST = 1, PHASE_AFTER = 2 };
static _Atomic uint8_t phase;
static _Atomic uint8_t dirtied[REGION_PAGES];
static _Atomic uint64_t mmu_sets;
static uint64_t seed;

/* The raw slot holding the leaf of va and, in *leaf, the value walked, or
 * NULL (not mapped, PROT_NONE, read-only: nothing an MMU marks dirty). */
static _Atomic uint64_t *walk(uint64_t va, uint64_t *leaf)
{
	uint64_t pa = pt_table_root(table);

	for (unsigned level = fmt->levels; level >= 1; level--) {
		_Atomic uint64_t *node = pt_phys_to_virt(phys, pa);
		unsigned entries = level == fmt->levels ? fmt->root_entries : 512;
		_Atomic uint64_t *slot = &node[(va >> (12 + 9 * (level - 1))) & (entries - 1)];
		uint64_t pte = atomic_load_explicit(slot, memory_order_acquire);
		struct pt_prop p;
		int kind = fmt->decode(pte, level, features, &pa, &p, NULL);
		if (kind == PT_DECODE_ABSENT)
			return NULL;
		*leaf = pte;
		if (kind == PT_DECODE_LEAF)
			return (p.flags & PT_W) ? slot : NULL;
	}
	return NULL;
}

/* A write by the hardware: D set atomically on the entry it walked. */
static void *mmu_thread(void *arg)
{
	struct conc_rng rng;

	conc_rng_init(&rng, seed, (uintptr_t)arg);
	while (!atomic_load_explicit(&mmu_stop, memory_order_relaxed)) {
		uint64_t page = conc_below(&rng, REGION_PAGES);
		uint8_t in_phase = atomic_load(&phase);
		urcu_bp_read_lock();
		uint64_t pte;
		_Atomic uint64_t *slot = walk(REGION_VA + page * CONC_PAGE, &pte);
		if (slot) {
			/* Fails if the entry is no longer the leaf walked. */
			if ((pte & dirty_bit) == 0 &&
			    atomic_compare_exchange_strong(slot, &pte, pte | dirty_bit)) {
				atomic_fetch_add_explicit(&mmu_sets, 1, memory_order_relaxed);
				atomic_store(&dirtied[page], in_phase);
			}
		}
		urcu_bp_read_unlock();
	}
	return NULL;
}

static void map_region(void)
{
	struct pt_prop rw = { PT_R | PT_W, PT_CACHE_WB };

	CONC_RC(pt_map(table, REGION_VA, REGION_VA + CONC_UNTRACKED_OFF,
		       REGION_HUGE * CONC_2M, rw), 0);
	CONC_RC(pt_map(table, REGION_VA + REGION_HUGE * CONC_2M,
		       REGION_VA + REGION_HUGE * CONC_2M + CONC_UNTRACKED_OFF,
		       REGION_SMALL * CONC_PAGE, rw), 0);
}

/*
 * Whether the MMU threads had dirtied a page of m before the caller read m:
 * `seen` is a copy of dirtied[] taken before that read (a set recorded
 * later may belong to a write after the read).
 */
static bool leaf_dirtied(const struct pt_mapping *m, const uint8_t *seen)
{
	uint64_t first = (m->va - REGION_VA) / CONC_PAGE;

	for (uint64_t i = first; i < first + m->size / CONC_PAGE; i++)
		if (seen[i])
			return true;
	return false;
}

/* The pages dirtied in `since` or a later phase. */
static void snapshot(uint8_t *seen, uint64_t first, uint64_t n, uint8_t since)
{
	for (uint64_t i = first; i < first + n; i++)
		seen[i] = atomic_load(&dirtied[i]) >= since;
}

static uint64_t lost;
static uint8_t seen[REGION_PAGES];

static void expect_dirty(const struct pt_mapping *m, const char *when)
{
	if (leaf_dirtied(m, seen) && !(m->prop.flags & PT_D)) {
		if (lost++ < 5)
			fprintf(stderr, "%s: D lost on the leaf at 0x%" PRIx64 " (size 0x%" PRIx64 ")\n",
				when, m->va, m->size);
	}
}

static int check_view_leaf(const struct pt_mapping *m, void *arg)
{
	expect_dirty(m, "after protect");
	return 0;
}

static void toggle_sw0(struct pt_prop *p, void *arg)
{
	p->flags ^= PT_SW0;
}

/* Dirty logging while the MMU threads write: harvests that clear D, then
 * one that does not.  A page dirtied before that last one was reported by
 * one of them.  Then the pages start clean for the checks after it. */
static uint64_t harvested;

static void harvest_all(void)
{
	static uint64_t bm[(REGION_PAGES + 63) / 64], reported[(REGION_PAGES + 63) / 64];
	const uint64_t len = REGION_PAGES * CONC_PAGE;

	memset(reported, 0, sizeof(reported));
	for (int k = 0; k <= 20; k++) {
		if (k == 20)
			snapshot(seen, 0, REGION_PAGES, PHASE_HARVEST);
		CONC_RC(pt_harvest(table, REGION_VA, len,
				   PT_HARVEST_DIRTY | (k < 20 ? PT_HARVEST_CLEAR : 0), bm, NULL), 0);
		for (size_t w = 0; w < sizeof(bm) / sizeof(bm[0]); w++)
			reported[w] |= bm[w];
	}
	for (uint64_t i = 0; i < REGION_PAGES; i++) {
		harvested += (reported[i / 64] >> (i % 64)) & 1;
		if (seen[i] && !((reported[i / 64] >> (i % 64)) & 1) && lost++ < 5)
			fprintf(stderr, "harvest: D of the page at 0x%" PRIx64 " never reported\n",
				REGION_VA + i * CONC_PAGE);
	}
	atomic_store(&phase, PHASE_AFTER);
}

/* Rewrites every leaf a few times while the MMU threads write. */
static void churn(struct conc_rng *rng)
{
	for (int i = 0; i < 200; i++) {
		uint64_t page = conc_below(rng, REGION_PAGES);
		uint64_t len = (1 + conc_below(rng, 64)) * CONC_PAGE;
		if (page * CONC_PAGE + len > REGION_PAGES * CONC_PAGE)
			len = REGION_PAGES * CONC_PAGE - page * CONC_PAGE;
		struct pt_cursor c;
		CONC_RC(pt_cursor_open(&c, table, REGION_VA + page * CONC_PAGE, len), 0);
		int err;
		while ((err = pt_cursor_protect_next(&c, len, toggle_sw0, NULL, NULL, NULL,
						     NULL)) == 0)
			;
		CONC_CHECK(err == PT_ENOENT, "protect_next: %s", pt_strerror(err));
		pt_cursor_close(&c);
	}
}

/* take_next while the MMU threads still write: the report carries the
 * leaf's final D.  Each leaf is looked up first, to copy what was dirtied
 * before the take. */
static void take_all(void)
{
	struct pt_cursor c;
	struct pt_taken taken;
	struct pt_mapping next;
	uint64_t len = REGION_PAGES * CONC_PAGE, va;

	CONC_RC(pt_cursor_open(&c, table, REGION_VA, len), 0);
	while (pt_cursor_find_next(&c, len, &va) == 0) {
		CONC_RC(pt_cursor_query(&c, &next), 0);
		snapshot(seen, (next.va - REGION_VA) / CONC_PAGE, next.size / CONC_PAGE, PHASE_AFTER);
		CONC_RC(pt_cursor_take_next(&c, next.size, &taken, NULL), 0);
		CONC_CHECK(!taken.subtree && taken.mapping.va == next.va,
			   "take_next took something else than the next leaf");
		expect_dirty(&taken.mapping, "take_next");
	}
	pt_cursor_close(&c);
}

int main(int argc, char **argv)
{
	bool live = true;
	const char *format = NULL;
	struct pt_table_opts opts;
	struct conc_rng rng;
	uint64_t rounds = conc_iters(40);

	pthread_t mmu[NR_MMU];
	uint64_t leaf_plain, leaf_dirty;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "plain") == 0)
			live = false;
		else
			format = argv[i];
	}
	conc_set_name(live ? "conc_live_dirty" : "conc_live_dirty plain");
	fmt = conc_format(format, &features)->fmt;
	opts = (struct pt_table_opts){ .live = live, .features = features };
	seed = conc_seed();
	conc_rng_init(&rng, seed, 99);
	CONC_RC(pt_phys_create(64 << 20, &phys), 0);
	CONC_RC(pt_table_create_opts(phys, fmt, PT_SPACE_USER, &opts, &table), 0);
	struct pt_prop rw = { PT_R | PT_W, 0 }, rwd = { PT_R | PT_W | PT_D, 0 };
	CONC_RC(fmt->encode_leaf(0, 1, rw, false, features, &leaf_plain), 0);
	CONC_RC(fmt->encode_leaf(0, 1, rwd, false, features, &leaf_dirty), 0);
	dirty_bit = leaf_plain ^ leaf_dirty;
	CONC_CHECK(dirty_bit, "%s with features %#x has no dirty bit", fmt->name, features);

	for (uint64_t r = 0; r < rounds; r++) {
		memset(dirtied, 0, sizeof(dirtied)); /* no MMU thread runs */
		atomic_store(&phase, PHASE_HARVEST);
		map_region();
		atomic_store(&mmu_stop, false);
		for (uintptr_t i = 0; i < NR_MMU; i++)
			CONC_CHECK(pthread_create(&mmu[i], NULL, mmu_thread, (void *)i) == 0,
				   "pthread_create");
		/* Split two of the huge leaves while they are being written. */
		CONC_RC(pt_protect(table, REGION_VA + conc_below(&rng, 512) * CONC_PAGE,
				   CONC_PAGE, PT_SW1, 0, NULL), 0);
		CONC_RC(pt_protect(table, REGION_VA + CONC_2M + conc_below(&rng, 512) * CONC_PAGE,
				   CONC_PAGE, PT_SW1, 0, NULL), 0);
		churn(&rng);
		harvest_all();
		snapshot(seen, 0, REGION_PAGES, PHASE_AFTER);
		CONC_RC(pt_for_each_mapping(table, REGION_VA, REGION_PAGES * CONC_PAGE,
					    check_view_leaf, NULL), 0);
		take_all();
		atomic_store(&mmu_stop, true);
		for (int i = 0; i < NR_MMU; i++)
			pthread_join(mmu[i], NULL);
		conc_expect_check(table, "after the round");
	}
	printf("%s %s: %" PRIu64 " rounds, %" PRIu64 " dirty bits set by the MMU threads, "
	       "%" PRIu64 " pages reported dirty by harvests, %" PRIu64 " lost\n",
	       fmt->name, live ? "live" : "plain", rounds, atomic_load(&mmu_sets), harvested, lost);
	CONC_CHECK(lost == 0, "%" PRIu64 " dirty bits lost", lost);
	CONC_RC(pt_table_destroy(table), 0);
	pt_phys_destroy(phys);
	return 0;
}
