/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tlb_random.c - random operations on live tables, with an emulated MMU
 * (tlb.h) accessing them between operations, checked after every flush.
 *
 * Tables: U (user, own hook), K (kernel, own hook) and UK (a user table made
 * from K: it inherits K's hook and, with shared_kernel_root, shares K's
 * kernel half, so kernel translations are cached in UK's space too).  On a
 * stage 2 (one guest-physical space) K and UK are tables of that space, K's
 * windows at its start and its top, and the TLB caches guest-physical
 * translations: every invalidation must say stage 2 (tlb.c).  All three are attached to one
 * emulated TLB whose only way to forget anything is ptkit's invalidation
 * callback.
 *
 * Each step draws an operation on one address window: map (untracked, va and
 * pa equally aligned so 2M and 1G leaves appear), map_frames (tracked, from a
 * pool of frames the test owns; some frames are "orphaned": the test drops
 * its own reference so the table's is the last and unmapping frees them),
 * unmap and protect (with or without a caller-owned batch; partial ranges
 * split 2M and 1G leaves; whole-node ranges detach subtrees; protect adds
 * and removes W and the rest, PROT_NONE included), move (pt_move inside a
 * window: nodes moved as they are, leaves re-cut, splits), a cursor session (find,
 * jump, query, map, take_next, protect_next, each flushing alone or into a
 * batch), a batch shared by several operations (up to 20), scattered pages
 * changed one by one in one batch (more than PT_FLUSH_MAX_RANGES ranges: the
 * batch finishes early inside an operation; map_frames of 300 frames does the
 * same on PT_FLUSH_MAX_FRAMES when unmapped), a copy between U's and UK's
 * windows at the same addresses (copy-on-write or not), a harvest clearing
 * accessed and dirty bits, markers, a split (from a stash that may run
 * dry), a reset of a window or of a
 * whole 512G root slot (K keeps its pinned node), or a fresh UK.  A few
 * operations run with an allocation failure armed (a failed operation
 * changes nothing, so it must leave nothing stale).  Between operations the
 * MMU accesses addresses inside existing leaves and anywhere else, mostly in
 * recently changed ranges, through every space that sees them, so the
 * caches are full of translations and walks.
 *
 * Checked (tlb.h): after every pt_flush_finish and every operation called
 * without a batch (take_next/protect_next with NULL: right away, cursor still
 * open), tlb_check: every cached leaf and paging-structure entry is exactly
 * the table's.  Between operations sharing an unfinished batch, tlb_check_safe
 * (stale is allowed there, freed is not).  At every callback and every RCU
 * release, the emulator checks that no freed node or frame is reachable from
 * its caches.  Every 64 steps, pt_check on every table.  At the end, the run
 * must have exercised what it claims (huge leaves cached, splits, detaches,
 * early batch finishes, shared kernel invalidations, node releases...).
 *
 * Every format (format_rules.h): argv[1] is its id (default x86_64), argv[2]
 * optionally the features of the tables (PT_FEAT_* names without the prefix,
 * joined by '+', e.g. riscv_svvptc, or a number).  Everything
 * format-dependent comes from struct pt_format: the windows sit at the start
 * and top of each half and across the boundary of a root entry; UK shares K's
 * kernel half only with shared_kernel_root (AArch64: UK is just an empty user
 * table with K's hook, and sees no kernel window).  Where the format must
 * invalidate new mappings (RISC-V without Svvptc: a hart may cache invalid
 * entries), the emulated TLB caches negative entries (tlb.h), so a new
 * mapping left uninvalidated is a stale "not mapped" the checker flags.
 *
 * PTKIT_TLB_SEED (default 1), PTKIT_TLB_OPS (default 12000),
 * PTKIT_TLB_PSC=ranged|nodes|x86 (default ranged, the strictest; tlb.h).
 * PTKIT_TLB_MUTANTS=n additionally runs n short runs that each drop one
 * invalidation callback, and reports how many the checker caught among
 * those whose drop left a stale entry behind (the others are harmless).
 * PTKIT_TLB_VERBOSE=1 prints each mutant's verdict.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ptkit/ptkit.h>
#include <ptkit/testing.h>

#include "format_rules.h"
#include "testutil.h"
#include "tlb.h"

/* The format under test (argv[1], an id of format_rules.h) and the features
 * its tables get (argv[2]). */
static const struct pt_test_format *TF;
static uint32_t FEATURES;
static bool NEGATIVE; /* the emulated TLB caches invalid entries */
#define FMT (TF->fmt)
#define PAGE ((uint64_t)PT_PAGE_SIZE)
#define ARENA_BYTES (256 * PT_MiB)
#define UNTRACKED_PA (UINT64_C(1) << 40) /* above the arena: never freed */
#define NPOOL 64
#define MAX_MAPF 300        /* frames per map_frames: > PT_FLUSH_MAX_FRAMES */
#define NR_RECENT 12
#define NR_HOT 3
#define HOT_SIZE (16 * PT_MiB)

/* ---------------------------------------------------------------- random */

static uint64_t rng;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n) { return rnd() % n; }
static bool chance(unsigned pct) { return rnd_below(100) < pct; }

/* ----------------------------------------------------------------- state */

struct window {
	const char *name;
	int writer;          /* table index that may change it */
	int readers[2];      /* spaces that see it (-1: none) */
	uint64_t base, size;
	uint64_t pa_base;    /* pa of base: as aligned as base */
	uint64_t hot[NR_HOT];/* offsets of small-op hot spots */
};

enum { T_U, T_K, T_UK, NR_T };
static const char *const tname[NR_T] = { "U", "K", "UK" };

struct recent {
	int win;
	uint64_t va, len;
};

static struct {
	struct pt_phys *phys;
	struct tlb *tlb;
	struct pt_table *t[NR_T];
	struct window win[8];
	int nr_win;
	uint64_t pool[NPOOL];
	struct recent recent[NR_RECENT];
	unsigned nr_recent, recent_pos;
	uint64_t seed;
	struct tlb_stats last_stats; /* of the last run, taken at teardown */
	/* the failure path */
	jmp_buf on_fail;
	bool soft_fail;          /* mutant runs: fail returns, no exit */
	char fail_msg[2048];
	struct pt_cursor *open_cursor;
	struct pt_flush *open_batch;
	/* trace */
	uint64_t step;
	char last[16][160];
	unsigned nr_last;
	/* counters */
	uint64_t ops[16], errs_expected, splits[4], orphans, uk_recreated;
	uint64_t map_replaced_node, upgrades, batches, cursor_sessions, big_mapf;
	uint64_t copies, copies_cow, harvests, harvest_bits, marks, split_ops, split_dry;
	uint64_t moves_ok, moves_of_nodes; /* moves that moved something; a node */
	bool enomem_armed;       /* an allocation will fail: ENOMEM is fine */
	uint64_t enomems;
} S;

enum op_kind { OP_MAP, OP_MAPF, OP_UNMAP, OP_PROTECT, OP_MOVE, OP_CURSOR, OP_BATCH,
	       OP_SCATTER, OP_RESET, OP_ORPHAN, OP_NEW_UK, OP_COPY, OP_HARVEST, OP_MARK, OP_SPLIT,
	       NR_OPS };
static const char *const op_name[NR_OPS] = { "map", "map_frames", "unmap", "protect",
	"move", "cursor", "batch", "scatter", "reset", "orphan", "new_uk", "copy", "harvest",
	"mark", "split" };

static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
	va_list ap;
	char *slot = S.last[S.nr_last++ % 16];

	va_start(ap, fmt);
	vsnprintf(slot, sizeof(S.last[0]), fmt, ap);
	va_end(ap);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(S.fail_msg, sizeof(S.fail_msg), fmt, ap);
	va_end(ap);
	if (!S.soft_fail) {
		fprintf(stderr, "FAIL at step %" PRIu64 " (PTKIT_TLB_SEED=%" PRIu64 "): %s\n"
			"last steps:\n", S.step, S.seed, S.fail_msg);
		unsigned n = S.nr_last < 16 ? S.nr_last : 16;
		for (unsigned i = S.nr_last - n; i < S.nr_last; i++)
			fprintf(stderr, "  %s\n", S.last[i % 16]);
		exit(1);
	}
	longjmp(S.on_fail, 1);
}

#define OK(expr)                                                                     \
	do {                                                                         \
		int err_ = (expr);                                                   \
		if (err_)                                                            \
			fail("%s:%d: %s: %s", __FILE__, __LINE__, #expr,             \
			     pt_strerror(err_));                                     \
	} while (0)

/* An operation's result: 0 or one of the errors it may legitimately give
 * (PT_ENOMEM too while an allocation failure is armed). */
static void expect(int err, const char *what, int ok1, int ok2)
{
	if (err == 0)
		return;
	if (err == PT_ENOMEM && S.enomem_armed) {
		S.enomems++;
		return;
	}
	if (err == ok1 || err == ok2) {
		S.errs_expected++;
		return;
	}
	fail("%s: unexpected %s", what, pt_strerror(err));
}

/* -------------------------------------------------------------- checking */

static void checkpoint(const char *after)
{
	char why[1024];

	tlb_rcu_quiesce();
	if (tlb_check(S.tlb, why, sizeof(why)))
		fail("after %s: %s", after, why);
}

/* With a cursor open (RCU read side held: nothing can be released). */
static void check_now(const char *after)
{
	char why[1024];

	if (tlb_check(S.tlb, why, sizeof(why)))
		fail("after %s: %s", after, why);
}

static void check_safe(const char *after)
{
	char why[1024];

	tlb_rcu_quiesce();
	if (tlb_check_safe(S.tlb, why, sizeof(why)))
		fail("after %s (batch pending): %s", after, why);
}

static void pt_checks(void)
{
	char why[512];

	for (int i = 0; i < NR_T; i++)
		if (pt_check(S.t[i], why, sizeof(why)))
			fail("pt_check(%s): %s", tname[i], why);
}

/* ------------------------------------------------------------ the MMU */

static struct pt_table *writer(int wi) { return S.t[S.win[wi].writer]; }

static void access_va(int win, uint64_t va)
{
	const struct window *w = &S.win[win];

	for (int i = 0; i < 2; i++)
		if (w->readers[i] >= 0)
			tlb_access(S.tlb, S.t[w->readers[i]], va, NULL);
}

static void remember(int win, uint64_t va, uint64_t len)
{
	S.recent[S.recent_pos] = (struct recent){ win, va, len };
	S.recent_pos = (S.recent_pos + 1) % NR_RECENT;
	if (S.nr_recent < NR_RECENT)
		S.nr_recent++;
}

/* Up to 64 leaves of a range, sampled (reservoir) from the first 512. */
struct sample {
	struct pt_mapping m[64];
	unsigned nr, seen;
};

static int sample_leaf(const struct pt_mapping *m, void *arg)
{
	struct sample *s = arg;

	if (s->nr < 64)
		s->m[s->nr++] = *m;
	else if (rnd_below(s->seen + 1) < 64)
		s->m[rnd_below(64)] = *m;
	return ++s->seen >= 512;
}

/* The MMU touching n addresses: half of them inside leaves that exist now
 * (so the caches fill with translations), half anywhere (walks that fault
 * still fill the paging-structure caches). */
static void hardware_runs(unsigned n)
{
	struct sample smp;
	int wi;
	uint64_t va, len;

	if (S.nr_recent && chance(60)) {
		const struct recent *r = &S.recent[rnd_below(S.nr_recent)];
		wi = r->win;
		va = r->va;
		len = r->len;
	} else {
		wi = (int)rnd_below((uint64_t)S.nr_win);
		va = S.win[wi].base + S.win[wi].hot[rnd_below(NR_HOT)];
		len = HOT_SIZE;
	}
	smp.nr = smp.seen = 0;
	pt_for_each_mapping(writer(wi), va, len, sample_leaf, &smp);
	for (unsigned i = 0; i < n / 2 && smp.nr; i++) {
		const struct pt_mapping *m = &smp.m[rnd_below(smp.nr)];
		access_va(wi, m->va + rnd_below(m->size / PAGE) * PAGE);
	}
	for (unsigned i = 0; i < n - n / 2; i++) {
		if (S.nr_recent && chance(75)) {
			const struct recent *r = &S.recent[rnd_below(S.nr_recent)];
			uint64_t pages = r->len / PAGE;
			/* Edges often: that is where splits leave pieces. */
			uint64_t p = chance(30) ? (chance(50) ? 0 : pages - 1) : rnd_below(pages);
			access_va(r->win, r->va + p * PAGE);
		} else {
			int wj = (int)rnd_below((uint64_t)S.nr_win);
			const struct window *w = &S.win[wj];
			uint64_t off = chance(70) ? w->hot[rnd_below(NR_HOT)] + rnd_below(HOT_SIZE)
						  : rnd_below(w->size);
			access_va(wj, w->base + (off & ~(PAGE - 1)));
		}
	}
}

/* --------------------------------------------------------------- drawing */

struct range {
	int win;
	uint64_t va, len;
};

static struct range draw_range(int wi)
{
	const struct window *w = &S.win[wi];
	uint64_t gran, len, off;
	unsigned g = (unsigned)rnd_below(100);

	if (g < 55) {          /* small, in a hot spot */
		gran = PAGE;
		len = (chance(85) ? 1 + rnd_below(24) : 1 + rnd_below(700)) * PAGE;
		off = w->hot[rnd_below(NR_HOT)] + (rnd_below(HOT_SIZE) & ~(PAGE - 1));
	} else if (g < 85) {   /* 2M-ish, in a hot spot */
		gran = 2 * PT_MiB;
		len = (1 + rnd_below(4)) * gran;
		off = w->hot[rnd_below(NR_HOT)] + rnd_below(HOT_SIZE / gran) * gran;
	} else {               /* 1G-ish, anywhere */
		gran = PT_GiB;
		len = (1 + rnd_below(2)) * gran;
		off = rnd_below(w->size / gran) * gran;
	}
	if (gran > PAGE && chance(25)) { /* unaligned: partial huge pages */
		off += rnd_below(gran / PAGE) * PAGE;
		if (chance(50))
			len -= rnd_below(len / PAGE) * PAGE;
	}
	if (off >= w->size)
		off = w->size - PAGE;
	if (len > w->size - off)
		len = w->size - off;
	return (struct range){ wi, w->base + off, len };
}

static struct pt_prop draw_prop(void)
{
	uint32_t f = 0;

	if (!chance(6)) {
		f |= PT_R;
		if (chance(50))
			f |= PT_W;
		if (chance(30))
			f |= PT_X;
	}
	if (chance(60))
		f |= PT_U;
	if (chance(10))
		f |= PT_G;
	if (chance(30))
		f |= PT_A;
	if (chance(20))
		f |= PT_D;
	if (chance(20))
		f |= (uint32_t)rnd_below(1u << FMT->nr_sw_bits) << PT_SW_SHIFT;
	return (struct pt_prop){ f, chance(80) ? PT_CACHE_WB : chance(50) ? PT_CACHE_WT
								       : PT_CACHE_UC };
}

static void draw_protect(uint32_t *set, uint32_t *clear)
{
	static const uint32_t bits[] = { PT_R, PT_W, PT_W, PT_W, PT_X, PT_U, PT_G,
					 PT_A, PT_D, PT_SW0, PT_SW1 };
	*set = *clear = 0;
	for (unsigned i = 0, n = 1 + (unsigned)rnd_below(3); i < n; i++) {
		uint32_t b = bits[rnd_below(sizeof(bits) / sizeof(bits[0]))];
		if (b == PT_SW1 && FMT->nr_sw_bits < 2)
			b = PT_SW0; /* the format's software bits only */
		if (chance(50))
			*set |= b;
		else
			*clear |= b;
	}
	*clear &= ~*set;
	if (chance(5))
		*clear |= PT_R | PT_W | PT_X; /* PROT_NONE */
	*clear &= ~*set;
}

/* Splits this operation will make: a huge leaf at either edge, partly in. */
static void count_splits(struct pt_table *t, uint64_t va, uint64_t len)
{
	uint64_t edges[2] = { va, va + len - PAGE };
	struct pt_mapping m;

	for (int i = 0; i < 2; i++) {
		if (pt_query(t, edges[i], &m) || m.size == PAGE)
			continue;
		if (m.va < va || m.va + m.size - 1 > va + len - 1)
			S.splits[m.size == PT_GiB ? 3 : 2]++;
		if (len <= m.size && m.va <= va)
			break; /* one leaf holds both edges */
	}
}

static uint64_t untracked_pa(int wi, uint64_t va)
{
	return S.win[wi].pa_base + (va - S.win[wi].base);
}

/* ------------------------------------------------------------ operations */

static void op_map(void)
{
	int wi = (int)rnd_below((uint64_t)S.nr_win);
	struct range r = draw_range(wi);
	struct pt_prop p = draw_prop();
	uint64_t pa = untracked_pa(wi, r.va);
	struct tlb_stats before, after;

	if (chance(10))
		pa += PAGE; /* misaligned: 4K leaves only */
	trace("map %s [%#" PRIx64 ", +%#" PRIx64 ") pa %#" PRIx64 " flags %#x cache %u",
	      S.win[wi].name, r.va, r.len, pa, p.flags, p.cache);
	tlb_get_stats(S.tlb, &before);
	expect(pt_map(writer(wi), r.va, pa, r.len, p), "pt_map", PT_EEXIST, PT_EINVAL);
	tlb_get_stats(S.tlb, &after);
	S.map_replaced_node += after.cb_nodes != before.cb_nodes;
	remember(wi, r.va, r.len);
	checkpoint("map");
}

static void op_map_frames(void)
{
	int wi = (int)rnd_below((uint64_t)S.nr_win);
	struct range r = draw_range(wi);
	uint64_t frames[MAX_MAPF];
	size_t n = r.len / PAGE;

	/* Sometimes more than a batch holds (PT_FLUSH_MAX_FRAMES): unmapping
	 * them finishes a batch early on frames. */
	if (n > MAX_MAPF || (n > 64 && chance(70)))
		n = chance(10) ? MAX_MAPF : 1 + rnd_below(64);
	uint64_t room = (S.win[wi].size - (r.va - S.win[wi].base)) / PAGE;
	if (n > room)
		n = room;
	for (size_t i = 0; i < n; i++)
		frames[i] = S.pool[rnd_below(NPOOL)];
	struct pt_prop p = draw_prop();
	trace("map_frames %s %#" PRIx64 " x%zu flags %#x", S.win[wi].name, r.va, n, p.flags);
	int err = pt_map_frames(writer(wi), r.va, frames, n, p);
	expect(err, "pt_map_frames", PT_EEXIST, PT_EINVAL);
	S.big_mapf += err == 0 && n > PT_FLUSH_MAX_FRAMES;
	remember(wi, r.va, n * PAGE);
	checkpoint("map_frames");
}

static void do_unmap(struct pt_flush *f, int wi)
{
	struct range r = draw_range(wi);

	trace("unmap %s [%#" PRIx64 ", +%#" PRIx64 ")%s", S.win[wi].name, r.va, r.len,
	      f ? " batched" : "");
	count_splits(writer(wi), r.va, r.len);
	expect(pt_unmap(writer(wi), r.va, r.len, f), "pt_unmap", PT_ENOMEM, 0);
	remember(wi, r.va, r.len);
}

static void do_protect(struct pt_flush *f, int wi)
{
	struct range r = draw_range(wi);
	uint32_t set, clear;

	draw_protect(&set, &clear);
	trace("protect %s [%#" PRIx64 ", +%#" PRIx64 ") +%#x -%#x%s", S.win[wi].name, r.va,
	      r.len, set, clear, f ? " batched" : "");
	count_splits(writer(wi), r.va, r.len);
	S.upgrades += (set & (PT_W | PT_R | PT_X)) != 0;
	expect(pt_protect(writer(wi), r.va, r.len, set, clear, f), "pt_protect", PT_ENOMEM, 0);
	remember(wi, r.va, r.len);
}

/* A move inside one window, to a distance that keeps 1G, 2M or only 4K
 * alignment (nodes move as they are, or leaves are re-cut), or to any
 * range of it: the source's cached translations and walks must go, and
 * the destination's negative entries. */
static void do_move(struct pt_flush *f, int wi)
{
	const struct window *w = &S.win[wi];
	struct range r = draw_range(wi);
	unsigned g = (unsigned)rnd_below(4);
	uint64_t unit = g == 0 ? PT_GiB : g == 1 ? 2 * PT_MiB : PAGE;
	uint64_t to = g == 3 ? draw_range(wi).va
			     : r.va + (chance(50) ? unit : 0 - unit) * (1 + rnd_below(g ? 64 : 2));
	struct tlb_stats before, after;
	struct pt_mapping m;
	bool mapped = pt_query(writer(wi), r.va, &m) == 0;
	int err;

	if (to < w->base || to - w->base > w->size - r.len) /* stay in the window */
		to = w->base + ((to - w->base) % (w->size - r.len + PAGE) & ~(PAGE - 1));
	trace("move %s [%#" PRIx64 ", +%#" PRIx64 ") to %#" PRIx64 "%s", w->name, r.va, r.len,
	      to, f ? " batched" : "");
	count_splits(writer(wi), r.va, r.len);
	tlb_get_stats(S.tlb, &before);
	err = pt_move(writer(wi), r.va, to, r.len, f);
	tlb_get_stats(S.tlb, &after);
	expect(err, "pt_move", PT_EEXIST, PT_EINVAL);
	S.moves_ok += err == 0 && mapped;
	S.moves_of_nodes += err == 0 && mapped && !f && after.cb_nodes != before.cb_nodes;
	remember(wi, r.va, r.len);
	remember(wi, to, r.len);
}

struct pn_arg {
	uint32_t set, clear;
	int cache; /* -1: keep */
};

static void pn_op(struct pt_prop *p, void *arg)
{
	const struct pn_arg *a = arg;

	p->flags = (p->flags | a->set) & ~a->clear;
	if (a->cache >= 0)
		p->cache = (uint32_t)a->cache;
}

/* A harvest's bitmap: a range is at most 4 GiB. */
static uint64_t harvest_bm[4 * PT_GiB / PAGE / 64];

/* One cursor, several moves; flushes into f or alone (NULL). */
static void cursor_session(struct pt_flush *f, int wi, struct range r)
{
	struct pt_table *t = writer(wi);
	struct pt_cursor c;
	uint64_t va, len;

	S.cursor_sessions++;
	trace("cursor %s [%#" PRIx64 ", +%#" PRIx64 ")%s", S.win[wi].name, r.va, r.len,
	      f ? " batched" : "");
	OK(pt_cursor_open(&c, t, r.va, r.len));
	S.open_cursor = &c;
	for (unsigned k = 0, n = 1 + (unsigned)rnd_below(6); k < n; k++) {
		uint64_t cur = pt_cursor_va(&c);
		uint64_t lim = chance(50) ? UINT64_MAX : (1 + rnd_below(600)) * PAGE;
		struct pt_mapping m;
		int err;

		hardware_runs(3);
		switch (rnd_below(10)) {
		case 0: /* find_next */
			expect(pt_cursor_find_next(&c, lim, &va), "find_next", PT_ENOENT,
			       PT_EINVAL);
			break;
		case 1: /* jump back or forward */
			va = r.va + rnd_below(r.len / PAGE) * PAGE;
			OK(pt_cursor_jump(&c, va));
			expect(pt_cursor_query(&c, &m), "cursor_query", PT_ENOENT, 0);
			break;
		case 2: { /* map one leaf here */
			struct pt_mapping item = { .va = cur, .size = PAGE, .prop = draw_prop() };
			if (cur == r.va + r.len)
				break; /* at its end */
			if (chance(40)) {
				item.tracked = true;
				item.pa = S.pool[rnd_below(NPOOL)];
			} else {
				item.pa = untracked_pa(wi, cur);
				if ((cur & (2 * PT_MiB - 1)) == 0 && chance(50) &&
				    r.va + r.len - cur >= 2 * PT_MiB)
					item.size = 2 * PT_MiB;
			}
			trace("  cursor_map %#" PRIx64 " size %#" PRIx64, cur, item.size);
			err = pt_cursor_map(&c, &item);
			expect(err, "cursor_map", PT_EEXIST, PT_EINVAL);
			if (f) /* its own flush is done, but f is pending */
				check_safe("cursor_map");
			else
				check_now("cursor_map");
			break;
		}
		case 3: case 4: case 5: { /* take_next */
			struct pt_taken tk;
			trace("  take_next from %#" PRIx64 " len %#" PRIx64, cur, lim);
			err = pt_cursor_take_next(&c, lim, &tk, f);
			expect(err, "take_next", PT_ENOENT, PT_ENOMEM);
			if (f)
				check_safe("take_next");
			else
				check_now("take_next");
			break;
		}
		case 8: { /* harvest_next: a leaf that lost a bit leaves the TLB */
			unsigned what = (unsigned)(1 + rnd_below(3)) | PT_HARVEST_CLEAR;
			trace("  harvest_next from %#" PRIx64 " len %#" PRIx64 " what %#x", cur, lim,
			      what);
			err = pt_cursor_harvest_next(&c, lim, what, harvest_bm, f);
			expect(err, "harvest_next", PT_ENOENT, 0);
			S.harvests += err == 0;
			if (f)
				check_safe("harvest_next");
			else
				check_now("harvest_next");
			break;
		}
		case 9: /* mark: nothing to invalidate */
			trace("  mark from %#" PRIx64, cur);
			err = pt_cursor_mark(&c, PAGE, rnd() & ((1ull << FMT->marker_bits) - 1));
			expect(err, "cursor_mark", PT_EEXIST, PT_EINVAL);
			S.marks += err == 0;
			if (f) /* nothing of its own, but f may be pending */
				check_safe("cursor_mark");
			else
				check_now("cursor_mark");
			break;
		default: { /* protect_next */
			struct pn_arg a;
			draw_protect(&a.set, &a.clear);
			a.cache = chance(80) ? -1 : (int)rnd_below(PT_CACHE_COUNT); /* WC: EINVAL */
			trace("  protect_next from %#" PRIx64 " +%#x -%#x cache %d", cur, a.set,
			      a.clear, a.cache);
			err = pt_cursor_protect_next(&c, lim, pn_op, &a, &va, &len, f);
			expect(err, "protect_next", PT_ENOENT, PT_EINVAL);
			if (f)
				check_safe("protect_next");
			else
				check_now("protect_next");
			break;
		}
		}
	}
	pt_cursor_close(&c);
	S.open_cursor = NULL;
	remember(wi, r.va, r.len);
}

static void op_cursor(void)
{
	int wi = (int)rnd_below((uint64_t)S.nr_win);
	struct range r = draw_range(wi);
	struct pt_flush f;
	bool batched = chance(50);

	if (batched) {
		pt_flush_init(&f, writer(wi));
		S.open_batch = &f;
	}
	cursor_session(batched ? &f : NULL, wi, r);
	if (batched) {
		check_safe("cursor session");
		OK(pt_flush_finish(&f));
		S.open_batch = NULL;
	}
	checkpoint("cursor session");
}

/* Several operations of one table into one caller's batch. */
static void op_batch(void)
{
	int wi = (int)rnd_below((uint64_t)S.nr_win);
	struct pt_table *t = writer(wi);
	struct pt_flush f;

	S.batches++;
	pt_flush_init(&f, t);
	S.open_batch = &f;
	trace("batch on %s", tname[S.win[wi].writer]);
	for (unsigned k = 0, n = 2 + (unsigned)rnd_below(chance(20) ? 20 : 4); k < n; k++) {
		/* Any window of the same table. */
		int wj;
		do
			wj = (int)rnd_below((uint64_t)S.nr_win);
		while (S.win[wj].writer != S.win[wi].writer);
		switch (rnd_below(4)) {
		case 0:
			do_unmap(&f, wj);
			break;
		case 1:
			do_protect(&f, wj);
			break;
		case 2:
			do_move(&f, wj);
			break;
		default:
			cursor_session(&f, wj, draw_range(wj));
			break;
		}
		check_safe("a batched operation");
		hardware_runs(6);
		check_safe("accesses inside a batch");
	}
	OK(pt_flush_finish(&f));
	S.open_batch = NULL;
	checkpoint("pt_flush_finish");
}

/* Scattered 4K pages, then one batch taking or protecting them one by one:
 * more than PT_FLUSH_MAX_RANGES ranges of few pages finish it early, in
 * the middle of an operation. */
static void op_scatter(void)
{
	int wi = (int)rnd_below((uint64_t)S.nr_win);
	const struct window *w = &S.win[wi];
	struct pt_table *t = writer(wi);
	uint64_t base = w->base + w->hot[rnd_below(NR_HOT)] +
			rnd_below(HOT_SIZE / PAGE - 64) * PAGE; /* + 2n pages fit */
	unsigned n = 17 + (unsigned)rnd_below(14);
	struct pt_flush f;
	bool protect = chance(50);

	trace("scatter %s %#" PRIx64 " x%u, then %s in one batch", w->name, base, n,
	      protect ? "protect" : "unmap");
	for (unsigned i = 0; i < n; i++) {
		uint64_t va = base + 2 * i * PAGE;
		expect(pt_map(t, va, untracked_pa(wi, va), PAGE, draw_prop()), "pt_map",
		       PT_EEXIST, PT_EINVAL);
		access_va(wi, va);
	}
	checkpoint("scatter's maps");
	pt_flush_init(&f, t);
	S.open_batch = &f;
	for (unsigned i = 0; i < n; i++) {
		uint64_t va = base + 2 * i * PAGE;
		if (protect)
			expect(pt_protect(t, va, PAGE, chance(50) ? PT_W : 0, PT_X, &f),
			       "pt_protect", PT_ENOMEM, 0);
		else
			expect(pt_unmap(t, va, PAGE, &f), "pt_unmap", PT_ENOMEM, 0);
		if (chance(30))
			access_va(wi, base + 2 * rnd_below(n) * PAGE);
		check_safe("a scattered operation");
	}
	OK(pt_flush_finish(&f));
	S.open_batch = NULL;
	remember(wi, base, 2 * n * PAGE);
	checkpoint("scatter's batch");
}

/*
 * A fork: pt_copy between U's and UK's windows at the same addresses (the
 * tables are alike), often into a range emptied first.  With COW the
 * source's leaves lose W, which must reach the TLB through the batch or
 * the call's own flush; the destination's new leaves, cached as invalid on
 * RISC-V without Svvptc, and the empty nodes a huge leaf replaces there,
 * must be invalidated too.
 */
static void op_copy(void)
{
	static const int pairs[2][2] = { { 0, 3 }, { 2, 4 } }; /* U.low UK.low, U.top UK.top */
	unsigned p = (unsigned)rnd_below(2), dir = (unsigned)rnd_below(2);
	int swi = pairs[p][dir], dwi = pairs[p][!dir];
	struct range r = draw_range(swi);
	unsigned flags = chance(60) ? PT_COPY_COW : 0;
	struct pt_flush f, *fp = NULL;

	if (chance(50))
		OK(pt_unmap(writer(dwi), r.va, r.len, NULL));
	if (chance(40)) {
		pt_flush_init(&f, writer(swi));
		S.open_batch = fp = &f;
	}
	if (chance(4)) {
		pt_phys_fail_nth_alloc(S.phys, 1 + rnd_below(4));
		S.enomem_armed = true;
	}
	trace("copy %s -> %s [%#" PRIx64 ", +%#" PRIx64 ") flags %#x%s", S.win[swi].name,
	      S.win[dwi].name, r.va, r.len, flags, fp ? " batched" : "");
	int err = pt_copy(writer(dwi), writer(swi), r.va, r.len, flags, fp);
	expect(err, "pt_copy", PT_EEXIST, PT_EALIGN);
	S.copies += err == 0;
	S.copies_cow += err == 0 && flags;
	remember(swi, r.va, r.len);
	remember(dwi, r.va, r.len);
	if (fp) {
		check_safe("copy");
		hardware_runs(4); /* stale entries may be used meanwhile */
		check_safe("copy");
		OK(pt_flush_finish(fp));
		S.open_batch = NULL;
	}
	checkpoint("copy");
}

/*
 * Aging and dirty logging: pt_harvest clearing A, D or both over a range
 * (leaves are mapped with and without them).  Every leaf that lost a bit
 * must leave the TLB: an entry still cached as dirty would let writes go
 * unrecorded.
 */
static void op_harvest(void)
{
	uint64_t *bm = harvest_bm;
	int wi = (int)rnd_below((uint64_t)S.nr_win);
	struct range r = draw_range(wi);
	unsigned what = (unsigned)(1 + rnd_below(3)) | PT_HARVEST_CLEAR;
	struct pt_flush f, *fp = NULL;

	if (chance(40)) {
		pt_flush_init(&f, writer(wi));
		S.open_batch = fp = &f;
	}
	trace("harvest %s [%#" PRIx64 ", +%#" PRIx64 ") what %#x%s", S.win[wi].name, r.va,
	      r.len, what, fp ? " batched" : "");
	OK(pt_harvest(writer(wi), r.va, r.len, what, bm, fp));
	S.harvests++;
	for (uint64_t i = 0; i < (r.len / PAGE + 63) / 64; i++)
		S.harvest_bits += (uint64_t)__builtin_popcountll(bm[i]);
	remember(wi, r.va, r.len);
	if (fp) {
		check_safe("harvest");
		hardware_runs(4);
		check_safe("harvest");
		OK(pt_flush_finish(fp));
		S.open_batch = NULL;
	}
	checkpoint("harvest");
}

/*
 * Markers (swap entries): the hardware sees nothing there before or after,
 * so nothing needs invalidating, and a map over them later is a new
 * mapping like any other (on RISC-V without Svvptc a negative entry cached
 * over a marker must go then).
 */
static void op_mark(void)
{
	int wi = (int)rnd_below((uint64_t)S.nr_win);
	struct range r = draw_range(wi);

	if (r.len > 64 * PAGE)
		r.len = (1 + rnd_below(64)) * PAGE;
	trace("mark %s [%#" PRIx64 ", +%#" PRIx64 ")", S.win[wi].name, r.va, r.len);
	int err = pt_mark(writer(wi), r.va, r.len, rnd() & ((1ull << FMT->marker_bits) - 1));
	expect(err, "pt_mark", PT_EEXIST, 0);
	S.marks += err == 0;
	remember(wi, r.va, r.len);
	checkpoint("mark");
}

/*
 * Eager split (dirty logging): pt_split to 4K or 2M, from a small stash
 * that may run dry (what was split stays split) or from the phys.  Every
 * split leaf must leave the TLB: a cached huge entry would hide the
 * pieces.
 */
static void op_split(void)
{
	int wi = (int)rnd_below((uint64_t)S.nr_win);
	struct range r = draw_range(wi);
	struct pt_reserve stash = { 0, 0 };
	bool use_stash = chance(50);
	unsigned to = 1 + (unsigned)rnd_below(2);

	if (use_stash)
		OK(pt_reserve_fill(writer(wi), &stash, rnd_below(4)));
	trace("split %s [%#" PRIx64 ", +%#" PRIx64 ") to %u%s", S.win[wi].name, r.va, r.len, to,
	      use_stash ? " from a stash" : "");
	count_splits(writer(wi), r.va, r.len);
	int err = pt_split(writer(wi), r.va, r.len, to, use_stash ? &stash : NULL);
	expect(err, "pt_split", use_stash ? PT_ENOMEM : 0, 0);
	S.split_ops++;
	S.split_dry += err == PT_ENOMEM;
	pt_reserve_drain(writer(wi), &stash);
	remember(wi, r.va, r.len);
	checkpoint("split");
}

/* Empties a window, or the whole 512G root slot it starts in (in K: a
 * pinned node that empties but stays; elsewhere a level-3 node detached). */
static void op_reset(void)
{
	int wi = (int)rnd_below((uint64_t)S.nr_win);
	const struct window *w = &S.win[wi];
	uint64_t slot = pt_level_size(FMT->levels);
	uint64_t va = w->base, len = w->size;

	if (chance(25)) {
		va = w->base & ~(slot - 1);
		len = slot;
	}
	trace("reset %s [%#" PRIx64 ", +%#" PRIx64 ")", w->name, va, len);
	OK(pt_unmap(writer(wi), va, len, NULL));
	checkpoint("reset");
}

static void op_orphan(void)
{
	unsigned i = (unsigned)rnd_below(NPOOL);

	/* The table's references (if any) keep it; unmapping frees it. */
	trace("orphan frame %#" PRIx64, S.pool[i]);
	OK(pt_frame_put(S.phys, S.pool[i]));
	OK(pt_frame_alloc(S.phys, &S.pool[i]));
	S.orphans++;
}

static void op_new_uk(void)
{
	trace("new UK");
	tlb_detach(S.tlb, S.t[T_UK]); /* the host switches away and flushes it */
	OK(pt_table_destroy(S.t[T_UK]));
	if (FMT->stage == 2) { /* no kernel table to make it from */
		struct pt_table_opts opts = { .live = true, .features = FEATURES,
					      .invalidate = tlb_invalidate,
					      .invalidate_arg = S.tlb };
		OK(pt_table_create_opts(S.phys, FMT, PT_SPACE_USER, &opts, &S.t[T_UK]));
	} else {
		OK(pt_table_create_user(S.t[T_K], &S.t[T_UK]));
	}
	if (tlb_attach(S.tlb, S.t[T_UK], FMT->shared_kernel_root ? S.t[T_K] : NULL, "UK"))
		fail("tlb_attach UK");
	S.uk_recreated++;
	checkpoint("new UK");
}

/* ------------------------------------------------------------------ setup */

static void add_window(const char *name, int writer_t, int r0, int r1, uint64_t base,
		       uint64_t size, uint64_t pa_slot)
{
	struct window *w = &S.win[S.nr_win++];

	*w = (struct window){ .name = name, .writer = writer_t, .readers = { r0, r1 },
			      .base = base, .size = size,
			      .pa_base = UNTRACKED_PA + pa_slot * 4 * PT_GiB };
	/* Hot spots: the start, across the middle (a 1G boundary; for U.512G
	 * the 512G one), the end (for K.top: up to 2^64). */
	w->hot[0] = 0;
	w->hot[1] = size / 2 - HOT_SIZE / 2;
	w->hot[2] = size - HOT_SIZE;
}

static void setup(enum tlb_psc_mode mode)
{
	struct pt_table_opts opts = { .live = true, .features = FEATURES };
	uint64_t ks = FMT->kernel_start;
	bool shared = FMT->shared_kernel_root;
	/* A boundary between root entries inside the user half (as
	 * model_windows): 512G on 4-level formats, 256T with LA57; Sv39's root
	 * entries are 1G, so there it is the middle of the half. */
	uint64_t root_span = pt_level_size(FMT->levels);
	uint64_t b = root_span >= 4 * PT_GiB ? root_span
					     : (FMT->user_end / 2) & ~(root_span - 1);

	OK(tlb_phys_create(ARENA_BYTES, &S.phys));
	S.tlb = tlb_create(mode, rnd());
	if (!S.tlb)
		fail("tlb_create");
	tlb_set_negative(S.tlb, NEGATIVE);
	opts.invalidate = tlb_invalidate;
	opts.invalidate_arg = S.tlb;
	OK(pt_table_create_opts(S.phys, FMT, PT_SPACE_USER, &opts, &S.t[T_U]));
	if (FMT->stage == 2) {
		/* One guest-physical space: K and UK are tables of it too, K's
		 * windows at its start and its top (the root's last slots). */
		OK(pt_table_create_opts(S.phys, FMT, PT_SPACE_USER, &opts, &S.t[T_K]));
		OK(pt_table_create_opts(S.phys, FMT, PT_SPACE_USER, &opts, &S.t[T_UK]));
		ks = 0;
	} else {
		OK(pt_table_create_opts(S.phys, FMT, PT_SPACE_KERNEL, &opts, &S.t[T_K]));
		OK(pt_table_create_user(S.t[T_K], &S.t[T_UK])); /* inherits the hook */
	}
	if (tlb_attach(S.tlb, S.t[T_U], NULL, "U") || tlb_attach(S.tlb, S.t[T_K], NULL, "K") ||
	    tlb_attach(S.tlb, S.t[T_UK], shared ? S.t[T_K] : NULL, "UK"))
		fail("tlb_attach");
	S.nr_win = 0;
	add_window("U.low", T_U, T_U, -1, 0, 4 * PT_GiB, 0);
	add_window("U.root", T_U, T_U, -1, b - 2 * PT_GiB, 4 * PT_GiB, 1);
	add_window("U.top", T_U, T_U, -1, FMT->user_end - 2 * PT_GiB, 2 * PT_GiB, 2);
	add_window("UK.low", T_UK, T_UK, -1, 0, 4 * PT_GiB, 3);
	add_window("UK.top", T_UK, T_UK, -1, FMT->user_end - 2 * PT_GiB, 2 * PT_GiB, 4);
	/* The kernel half: seen through UK too where UK shares it. */
	add_window("K.low", T_K, T_K, shared ? T_UK : -1, ks, 4 * PT_GiB, 5);
	add_window("K.top", T_K, T_K, shared ? T_UK : -1,
		   (FMT->stage == 2 ? FMT->user_end : 0) - 2 * PT_GiB, 2 * PT_GiB,
		   6); /* to 2^64, or the end of a stage 2's space */
	for (int i = 0; i < NPOOL; i++)
		OK(pt_frame_alloc(S.phys, &S.pool[i]));
}

static void teardown(void)
{
	if (S.open_cursor)
		pt_cursor_close(S.open_cursor);
	if (S.open_batch)
		pt_flush_finish(S.open_batch);
	S.open_cursor = NULL;
	S.open_batch = NULL;
	pt_phys_fail_nth_alloc(S.phys, 0);
	tlb_get_stats(S.tlb, &S.last_stats);
	for (int i = 0; i < NPOOL; i++)
		pt_frame_put(S.phys, S.pool[i]);
	int order[NR_T] = { T_UK, T_U, T_K };
	for (int i = 0; i < NR_T; i++) {
		tlb_detach(S.tlb, S.t[order[i]]);
		pt_table_destroy(S.t[order[i]]);
	}
	tlb_destroy(S.tlb);
	S.tlb = NULL;
	tlb_phys_destroy(S.phys);
	S.phys = NULL;
}

static void one_step(void)
{
	unsigned w = (unsigned)rnd_below(1000);
	enum op_kind k = w < 240 ? OP_MAP : w < 340 ? OP_MAPF : w < 480 ? OP_UNMAP
		       : w < 590 ? OP_PROTECT : w < 680 ? OP_MOVE : w < 800 ? OP_CURSOR
		       : w < 930 ? OP_BATCH : w < 955 ? OP_SCATTER : w < 977 ? OP_RESET
		       : w < 995 ? OP_ORPHAN : OP_NEW_UK;

	if (chance(3))
		k = OP_COPY;
	else if (chance(3))
		k = OP_HARVEST;
	else if (chance(3))
		k = OP_MARK;
	else if (chance(3))
		k = OP_SPLIT;

	S.ops[k]++;
	/* Sometimes one of the next few allocations fails: a failed
	 * operation changes nothing, so it must leave nothing stale. */
	if (k <= OP_BATCH && chance(4)) {
		pt_phys_fail_nth_alloc(S.phys, 1 + rnd_below(4));
		S.enomem_armed = true;
	}
	switch (k) {
	case OP_MAP: op_map(); break;
	case OP_MAPF: op_map_frames(); break;
	case OP_UNMAP:
	case OP_PROTECT:
	case OP_MOVE: {
		int wi = (int)rnd_below((uint64_t)S.nr_win);
		struct pt_flush f, *fp = NULL;
		if (chance(40)) { /* a caller's batch for this one operation */
			pt_flush_init(&f, writer(wi));
			S.open_batch = fp = &f;
		}
		if (k == OP_UNMAP)
			do_unmap(fp, wi);
		else if (k == OP_MOVE)
			do_move(fp, wi);
		else
			do_protect(fp, wi);
		if (fp) {
			check_safe(op_name[k]);
			hardware_runs(4); /* stale entries may be used meanwhile */
			check_safe(op_name[k]);
			OK(pt_flush_finish(fp));
			S.open_batch = NULL;
		}
		checkpoint(op_name[k]);
		break;
	}
	case OP_CURSOR: op_cursor(); break;
	case OP_BATCH: op_batch(); break;
	case OP_SCATTER: op_scatter(); break;
	case OP_RESET: op_reset(); break;
	case OP_ORPHAN: op_orphan(); break;
	case OP_COPY: op_copy(); break;
	case OP_HARVEST: op_harvest(); break;
	case OP_MARK: op_mark(); break;
	case OP_SPLIT: op_split(); break;
	default: op_new_uk(); break;
	}
	if (S.enomem_armed) {
		pt_phys_fail_nth_alloc(S.phys, 0);
		S.enomem_armed = false;
	}
	hardware_runs(12);
	if (S.step % 64 == 63)
		pt_checks();
}

/* 0: the run passed; 1: it failed (message in S.fail_msg). */
static int run(uint64_t seed, uint64_t ops, enum tlb_psc_mode mode, unsigned drop_nth)
{
	rng = S.seed = seed;
	S.nr_recent = S.recent_pos = 0;
	S.nr_last = 0;
	S.open_cursor = NULL;
	S.open_batch = NULL;
	S.enomem_armed = false;
	setup(mode);
	if (drop_nth)
		tlb_inject(S.tlb, TLB_FAULT_DROP, drop_nth);
	if (setjmp(S.on_fail)) { /* only with soft_fail */
		teardown();
		return 1;
	}
	for (S.step = 0; S.step < ops; S.step++)
		one_step();
	pt_checks();
	checkpoint("the last step");
	return 0;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

#define REQUIRE_EXERCISED(cond)                                                      \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "FAIL: the run never exercised: %s\n", #cond);  \
			return 1;                                                    \
		}                                                                    \
	} while (0)

/* "riscv_svvptc+riscv_svpbmt", or a number. */
static int parse_features(const char *s, uint32_t *out)
{
	static const struct { const char *name; uint32_t bit; } names[] = {
		{"x86_pat_wc", PT_FEAT_X86_PAT_WC}, {"riscv_svpbmt", PT_FEAT_RISCV_SVPBMT},
		{"riscv_svvptc", PT_FEAT_RISCV_SVVPTC}, {"aarch64_bbm2", PT_FEAT_AARCH64_BBM2},
		{"x86_ept_ad", PT_FEAT_X86_EPT_AD}, {"aarch64_s2fwb", PT_FEAT_AARCH64_S2FWB},
	};
	char *end;

	*out = (uint32_t)strtoul(s, &end, 0);
	if (end != s && !*end)
		return 0;
	*out = 0;
	while (*s) {
		size_t n = strcspn(s, "+,"), i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == n && !strncmp(s, names[i].name, n))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return -1;
		*out |= names[i].bit;
		s += n + (s[n] != '\0');
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t seed = env_u64("PTKIT_TLB_SEED", 1);
	uint64_t ops = env_u64("PTKIT_TLB_OPS", 12000);
	uint64_t mutants = env_u64("PTKIT_TLB_MUTANTS", 0);
	const char *ms = getenv("PTKIT_TLB_PSC");
	enum tlb_psc_mode mode = TLB_PSC_RANGED;
	struct tlb_stats st;
	struct timespec t0, t1;

	TF = pt_test_format_find(argc > 1 ? argv[1] : "x86_64");
	if (!TF || argc > 3 || (argc > 2 && parse_features(argv[2], &FEATURES))) {
		fprintf(stderr, "usage: tlb_random [FORMAT [FEATURES]]\nFORMAT:");
		for (size_t i = 0; i < PT_TEST_NR_FORMATS; i++)
			fprintf(stderr, " %s", pt_test_formats[i].id);
		fprintf(stderr, "\nFEATURES: riscv_svvptc+riscv_svpbmt..., or a number\n");
		return 2;
	}
	NEGATIVE = pt_rules_flush_new_mappings(TF->fam, FEATURES);
	if (ms && !strcmp(ms, "nodes"))
		mode = TLB_PSC_NODES;
	else if (ms && !strcmp(ms, "x86"))
		mode = TLB_PSC_X86;
	else if (ms && *ms && strcmp(ms, "ranged"))
		return fprintf(stderr, "PTKIT_TLB_PSC: ranged, nodes or x86\n"), 2;
	printf("tlb_random: format %s, features %#x, seed %" PRIu64 ", %" PRIu64
	       " steps, PSC mode %s, negative entries %s\n",
	       TF->id, FEATURES, seed, ops,
	       mode == TLB_PSC_RANGED ? "ranged" : mode == TLB_PSC_NODES ? "nodes" : "x86",
	       NEGATIVE ? "cached (invalid entries may be cached)" : "never cached");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run(seed, ops, mode, 0);
	tlb_get_stats(S.tlb, &st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("ops:");
	for (int k = 0; k < NR_OPS; k++)
		printf(" %s %" PRIu64, op_name[k], S.ops[k]);
	printf("\n  batches %" PRIu64 ", cursor sessions %" PRIu64 ", expected errors %" PRIu64
	       ", splits 2M %" PRIu64 " 1G %" PRIu64 ", protects adding R/W/X %" PRIu64
	       ", maps replacing a node %" PRIu64 ", orphaned frames %" PRIu64
	       ", UK recreated %" PRIu64 ", map_frames of more than %d frames %" PRIu64 "\n",
	       S.batches, S.cursor_sessions, S.errs_expected, S.splits[2], S.splits[3],
	       S.upgrades, S.map_replaced_node, S.orphans, S.uk_recreated,
	       PT_FLUSH_MAX_FRAMES, S.big_mapf);
	printf("  operations failed by an injected PT_ENOMEM %" PRIu64 "; copies %" PRIu64
	       " (copy-on-write %" PRIu64 "); harvests %" PRIu64 " (%" PRIu64 " pages reported);"
	       " marks %" PRIu64 "; splits %" PRIu64 " (%" PRIu64 " ran dry)\n", S.enomems,
	       S.copies, S.copies_cow, S.harvests, S.harvest_bits, S.marks, S.split_ops,
	       S.split_dry);
	printf("  moves of mappings %" PRIu64 ", of them flushing walk caches alone %" PRIu64
	       "\n", S.moves_ok, S.moves_of_nodes);
	printf("mmu: %" PRIu64 " accesses, %" PRIu64 " TLB hits, %" PRIu64 " walks (%" PRIu64
	       " from a PSC hit), %" PRIu64 " faults; leaves cached 4K %" PRIu64 " 2M %" PRIu64
	       " 1G %" PRIu64 "; most entries in one space %zu, uncached %" PRIu64 "\n",
	       st.accesses, st.hits, st.walks, st.psc_hits, st.faults, st.cached_leaves[1],
	       st.cached_leaves[2], st.cached_leaves[3], st.max_entries, st.uncached);
	printf("  negative entries: %" PRIu64 " cached, %" PRIu64 " accesses faulted on one, %"
	       PRIu64 " invalidated\n", st.neg_cached, st.neg_hits, st.neg_dropped);
	printf("callbacks %" PRIu64 " (all %" PRIu64 ", nodes_removed %" PRIu64
	       ", 16 ranges %" PRIu64 ", reaching UK from K %" PRIu64 "), dropped %" PRIu64
	       " leaves and %" PRIu64 " PSC entries, %" PRIu64 " refills; %" PRIu64
	       " coherence checks, %" PRIu64 " safety checks, %" PRIu64
	       " node releases checked; %.2f s\n",
	       st.callbacks, st.cb_all, st.cb_nodes, st.cb_full_ranges, st.cb_shared,
	       st.leaves_dropped, st.psc_dropped, st.refills, st.checks, st.safe_checks,
	       st.rcu_releases, secs);
	teardown();

	if (ops >= 2000) { /* the default run must have covered what it claims */
		REQUIRE_EXERCISED(st.cached_leaves[2] > 0 && st.cached_leaves[3] > 0);
		REQUIRE_EXERCISED(S.splits[2] > 0 && S.splits[3] > 0);
		REQUIRE_EXERCISED(st.cb_nodes > 0 && S.map_replaced_node > 0);
		REQUIRE_EXERCISED(st.cb_full_ranges > 0);
		/* A kernel table's callback reaches UK only where UK shares
		 * the kernel half. */
		REQUIRE_EXERCISED(st.cb_shared > 0 || !FMT->shared_kernel_root);
		REQUIRE_EXERCISED(st.cb_shared == 0 || FMT->shared_kernel_root);
		/* Negative entries exactly where invalid entries may be
		 * cached, and then used and invalidated. */
		REQUIRE_EXERCISED(NEGATIVE == (st.neg_cached > 0));
		REQUIRE_EXERCISED(!NEGATIVE || (st.neg_hits > 0 && st.neg_dropped > 0));
		REQUIRE_EXERCISED(st.psc_hits > 0 && st.hits > 0);
		REQUIRE_EXERCISED(st.rcu_releases > 0 && S.enomems > 0);
		REQUIRE_EXERCISED(S.orphans > 0 && S.uk_recreated > 0 && S.big_mapf > 0);
		REQUIRE_EXERCISED(S.copies > 0 && S.copies_cow > 0);
		REQUIRE_EXERCISED(S.harvests > 0 && S.harvest_bits > 0 && S.marks > 0);
		REQUIRE_EXERCISED(S.split_ops > 0 && S.split_dry > 0);
		REQUIRE_EXERCISED(S.moves_ok > 0 && S.moves_of_nodes > 0);
	}

	if (mutants) {
		unsigned caught = 0, harmful = 0, caught_harmful = 0;
		S.soft_fail = true;
		for (uint64_t i = 0; i < mutants; i++) {
			unsigned nth = 1 + (unsigned)(i * 7 % 60);
			int r = run(seed + 1000 + i, 400, mode, nth);
			if (!r)
				teardown(); /* a failed run was torn down already */
			/* A drop that leaves no stale entry behind is
			 * harmless: nothing to catch. */
			bool harm = S.last_stats.fault_left_stale > 0;
			caught += r;
			harmful += harm;
			caught_harmful += harm && r;
			if (getenv("PTKIT_TLB_VERBOSE"))
				printf("  mutant %" PRIu64 " (drop #%u, %" PRIu64 " stale): %s\n", i,
				       nth, S.last_stats.fault_left_stale, r ? S.fail_msg : "passed");
		}
		S.soft_fail = false;
		printf("mutants: one callback dropped in each of %" PRIu64 " runs: %u caught; "
		       "%u of the %u drops that left a stale entry were caught\n",
		       mutants, caught, caught_harmful, harmful);
	}
	return 0;
}
