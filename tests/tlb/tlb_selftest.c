/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tlb_selftest.c - the emulated TLB's checker can fail.
 *
 * Each scenario fills the emulated caches, makes one change through ptkit and
 * checks.  It runs twice: as is, where the check must pass (no false
 * positive), and with one invalidation callback deliberately damaged
 * (tlb_inject: dropped entirely, nodes_removed ignored, a range skipped, a
 * kernel change not reaching a user table that shares the kernel half),
 * where the check must fail with the expected complaint.  Scenarios whose
 * damage is harmless on real x86 (INVLPG flushes the whole paging-structure
 * cache of the PCID) also run damaged in TLB_PSC_X86 mode and must pass
 * there, which pins down what that mode means.
 *
 * Plain C: prints one line per run, exits 1 on the first surprise.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ptkit/ptkit.h>

#include "testutil.h"
#include "tlb.h"

#define FMT (&pt_format_x86_64)
#define UNTRACKED_PA (UINT64_C(1) << 40) /* not RAM: never freed */
#define K4 ((uint64_t)PT_PAGE_SIZE)

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

#define OK(expr)                                                                     \
	do {                                                                         \
		int err_ = (expr);                                                   \
		if (err_)                                                            \
			die("%s:%d: %s: %s", __FILE__, __LINE__, #expr,              \
			    pt_strerror(err_));                                      \
	} while (0)
#define REQUIRE(cond)                                                                \
	do {                                                                         \
		if (!(cond))                                                         \
			die("%s:%d: %s", __FILE__, __LINE__, #cond);                 \
	} while (0)

struct env {
	struct pt_phys *phys;
	struct tlb *tlb;
	struct pt_table *u, *k, *uk;
};

static void env_up(struct env *e, enum tlb_psc_mode mode)
{
	struct pt_table_opts opts = { .live = true };

	memset(e, 0, sizeof(*e));
	OK(tlb_phys_create(64 * PT_MiB, &e->phys));
	e->tlb = tlb_create(mode, 1);
	REQUIRE(e->tlb);
	opts.invalidate = tlb_invalidate;
	opts.invalidate_arg = e->tlb;
	OK(pt_table_create_opts(e->phys, FMT, PT_SPACE_USER, &opts, &e->u));
	OK(pt_table_create_opts(e->phys, FMT, PT_SPACE_KERNEL, &opts, &e->k));
	OK(pt_table_create_user(e->k, &e->uk)); /* inherits the hook */
	REQUIRE(tlb_attach(e->tlb, e->u, NULL, "U") == 0);
	REQUIRE(tlb_attach(e->tlb, e->k, NULL, "K") == 0);
	REQUIRE(tlb_attach(e->tlb, e->uk, e->k, "UK") == 0);
}

static void env_down(struct env *e)
{
	struct pt_table *order[] = { e->uk, e->u, e->k };

	for (int i = 0; i < 3; i++) {
		tlb_detach(e->tlb, order[i]);
		OK(pt_table_destroy(order[i]));
	}
	tlb_phys_destroy(e->phys);
	tlb_destroy(e->tlb);
}

/* Release what RCU may release, then check coherence. */
static int checkpoint(struct env *e, char *why, size_t len)
{
	tlb_rcu_quiesce();
	return tlb_check(e->tlb, why, len);
}

static const struct pt_prop R = { PT_R | PT_U, PT_CACHE_WB };
static const struct pt_prop RW = { PT_R | PT_W | PT_U, PT_CACHE_WB };

/* Accesses va through t and requires a translation. */
static void touch(struct env *e, struct pt_table *t, uint64_t va)
{
	struct tlb_xlate x;

	OK(tlb_access(e->tlb, t, va, &x));
}

/* The state before the damaged step must be coherent. */
static void require_clean(struct env *e)
{
	char why[1024];

	if (checkpoint(e, why, sizeof(why)))
		die("setup not coherent: %s", why);
}

/* ----------------------------------------------------------- scenarios */
/* Each returns the final checkpoint's verdict; `mutate` damages one
 * callback (tlb_inject) right before the step under test. */

static void inject(struct env *e, bool mutate, enum tlb_fault f)
{
	if (mutate)
		tlb_inject(e->tlb, f, 1);
}

static int s_unmap_4k(struct env *e, bool mutate, char *why, size_t len)
{
	uint64_t va = 0x40000000;

	OK(pt_map(e->u, va, UNTRACKED_PA, K4, RW));
	touch(e, e->u, va);
	require_clean(e);
	REQUIRE(tlb_count(e->tlb, e->u, false, 1) == 1);
	inject(e, mutate, TLB_FAULT_DROP);
	OK(pt_unmap(e->u, va, K4, NULL));
	return checkpoint(e, why, len);
}

static int s_protect_upgrade(struct env *e, bool mutate, char *why, size_t len)
{
	uint64_t va = 0x40000000;

	OK(pt_map(e->u, va, UNTRACKED_PA, K4, R));
	touch(e, e->u, va);
	require_clean(e);
	inject(e, mutate, TLB_FAULT_DROP);
	OK(pt_protect(e->u, va, K4, PT_W, 0, NULL)); /* R -> RW: an upgrade */
	return checkpoint(e, why, len);
}

static int s_protect_downgrade(struct env *e, bool mutate, char *why, size_t len)
{
	uint64_t va = 0x40000000;

	OK(pt_map(e->u, va, UNTRACKED_PA, 16 * K4, RW));
	for (int i = 0; i < 16; i++)
		touch(e, e->u, va + i * K4);
	require_clean(e);
	inject(e, mutate, TLB_FAULT_DROP);
	OK(pt_protect(e->u, va, 16 * K4, 0, PT_W, NULL));
	return checkpoint(e, why, len);
}

/* Unmapping 4K inside a 2M page splits it: the cached 2M entry must go. */
static int s_split_2m(struct env *e, bool mutate, char *why, size_t len)
{
	uint64_t va = 0x40000000;

	OK(pt_map(e->u, va, UNTRACKED_PA, 2 * PT_MiB, RW));
	touch(e, e->u, va + 0x123000);
	require_clean(e);
	REQUIRE(tlb_count(e->tlb, e->u, false, 2) == 1);
	inject(e, mutate, TLB_FAULT_DROP);
	OK(pt_unmap(e->u, va + 0x10000, K4, NULL));
	return checkpoint(e, why, len);
}

/* Protecting 4K inside a 1G page splits it twice, with a caller's batch. */
static int s_split_1g_batched(struct env *e, bool mutate, char *why, size_t len)
{
	uint64_t va = 0x40000000;
	struct pt_flush f;

	OK(pt_map(e->u, va, UNTRACKED_PA, PT_GiB, RW));
	touch(e, e->u, va + 0x12345000);
	require_clean(e);
	REQUIRE(tlb_count(e->tlb, e->u, false, 3) == 1);
	pt_flush_init(&f, e->u);
	OK(pt_protect(e->u, va + 0x2000000, K4, 0, PT_W, &f));
	inject(e, mutate, TLB_FAULT_DROP);
	OK(pt_flush_finish(&f));
	return checkpoint(e, why, len);
}

/* Unmapping a whole 2M range detaches its leaf table: the PDE cached in the
 * paging-structure cache must go before the node is freed. */
static int s_detach_subtree(struct env *e, bool mutate, char *why, size_t len)
{
	uint64_t va = 0x40200000;

	OK(pt_map(e->u, va + 5 * K4, UNTRACKED_PA, K4, RW));
	touch(e, e->u, va + 5 * K4);
	require_clean(e);
	REQUIRE(tlb_count(e->tlb, e->u, true, 0) == 3); /* PML4E, PDPTE, PDE */
	inject(e, mutate, TLB_FAULT_KEEP_PSC);
	OK(pt_unmap(e->u, va, 2 * PT_MiB, NULL));
	return checkpoint(e, why, len);
}

/* PT_FLUSH_MAX_RANGES + 4 separate pages in one caller's batch: the range
 * after the first PT_FLUSH_MAX_RANGES finishes the batch early, inside
 * pt_unmap; that early callback is the damaged one. */
static int s_early_finish(struct env *e, bool mutate, char *why, size_t len)
{
	uint64_t va = 0x40000000;
	struct pt_flush f;
	struct tlb_stats st;

	const int n = 2 * (PT_FLUSH_MAX_RANGES + 4);

	OK(pt_map(e->u, va, UNTRACKED_PA, n * K4, RW));
	for (int i = 0; i < n; i += 2)
		touch(e, e->u, va + i * K4);
	require_clean(e);
	pt_flush_init(&f, e->u);
	inject(e, mutate, TLB_FAULT_DROP);
	for (int i = 0; i < n; i += 2)
		OK(pt_unmap(e->u, va + i * K4, K4, &f));
	tlb_get_stats(e->tlb, &st);
	REQUIRE(st.callbacks == 1 && st.cb_full_ranges == 1); /* the early one */
	OK(pt_flush_finish(&f));
	return checkpoint(e, why, len);
}

/* A huge map over an empty leaf table replaces the node (map's private
 * batch, nodes_removed).  The walk that faulted on the empty node still
 * cached the PDE. */
static int s_map_over_empty_node(struct env *e, bool mutate, char *why, size_t len)
{
	uint64_t va = 0x40200000;
	struct tlb_xlate x;

	OK(pt_map(e->u, va + 5 * K4, UNTRACKED_PA, K4, RW));
	OK(pt_unmap(e->u, va + 5 * K4, K4, NULL)); /* partial: the node stays */
	REQUIRE(tlb_access(e->tlb, e->u, va + 5 * K4, &x) == PT_ENOENT);
	require_clean(e);
	REQUIRE(tlb_count(e->tlb, e->u, true, 0) == 3);
	inject(e, mutate, TLB_FAULT_DROP);
	OK(pt_map(e->u, va, UNTRACKED_PA, 2 * PT_MiB, RW));
	return checkpoint(e, why, len);
}

/* A kernel mapping cached through a user table that shares the kernel
 * half: the kernel table's invalidation must reach that space too. */
static int s_kernel_shared(struct env *e, bool mutate, char *why, size_t len)
{
	uint64_t va = FMT->kernel_start + 0x40000000;

	OK(pt_map(e->k, va, UNTRACKED_PA, K4, RW));
	touch(e, e->uk, va);
	touch(e, e->k, va);
	require_clean(e);
	inject(e, mutate, TLB_FAULT_NO_BROADCAST);
	OK(pt_unmap(e->k, va, K4, NULL));
	return checkpoint(e, why, len);
}

/* Two separate ranges in one caller's batch: skipping one is caught. */
static int s_batch_two_ranges(struct env *e, bool mutate, char *why, size_t len)
{
	uint64_t a = 0x40000000, b = 0x80000000;
	struct pt_flush f;

	OK(pt_map(e->u, a, UNTRACKED_PA, K4, RW));
	OK(pt_map(e->u, b, UNTRACKED_PA + K4, K4, RW));
	touch(e, e->u, a);
	touch(e, e->u, b);
	require_clean(e);
	pt_flush_init(&f, e->u);
	OK(pt_unmap(e->u, a, K4, &f));
	OK(pt_unmap(e->u, b, K4, &f));
	inject(e, mutate, TLB_FAULT_DROP_LAST_RANGE);
	OK(pt_flush_finish(&f));
	return checkpoint(e, why, len);
}

/* A tracked frame whose last reference is the table's: freed right after
 * the (dropped) invalidation while the TLB still maps it. */
static int s_tracked_frame_freed(struct env *e, bool mutate, char *why, size_t len)
{
	uint64_t va = 0x40000000, frame;

	OK(pt_frame_alloc(e->phys, &frame));
	OK(pt_map_frames(e->u, va, &frame, 1, RW));
	OK(pt_frame_put(e->phys, frame)); /* the table's is the last one */
	touch(e, e->u, va);
	require_clean(e);
	inject(e, mutate, TLB_FAULT_DROP);
	OK(pt_unmap(e->u, va, K4, NULL));
	REQUIRE(pt_frame_refcount(e->phys, frame) == PT_REFCOUNT_UNUSED);
	return tlb_check_safe(e->tlb, why, len); /* safety alone sees it */
}

/* take_next through a cursor, no batch: every take flushes by itself. */
static void bump_w(struct pt_prop *p, void *arg)
{
	(void)arg;
	p->flags |= PT_W;
}

static int s_cursor_ops(struct env *e, bool mutate, char *why, size_t len)
{
	uint64_t va = 0x40000000;
	struct pt_cursor c;
	struct pt_taken tk;
	uint64_t got_va, got_len;
	int err;

	OK(pt_map(e->u, va, UNTRACKED_PA, 8 * K4, R));
	for (int i = 0; i < 8; i++)
		touch(e, e->u, va + i * K4);
	require_clean(e);
	OK(pt_cursor_open(&c, e->u, va, 8 * K4));
	OK(pt_cursor_protect_next(&c, UINT64_MAX, bump_w, NULL, &got_va, &got_len, NULL));
	if ((err = tlb_check(e->tlb, why, len)))
		goto out;
	inject(e, mutate, TLB_FAULT_DROP);
	OK(pt_cursor_take_next(&c, UINT64_MAX, &tk, NULL));
	err = tlb_check(e->tlb, why, len); /* checked with the cursor open */
out:
	pt_cursor_close(&c);
	return err;
}

/* Mid-batch the caches may be stale but never unsafe. */
static int s_unfinished_batch(struct env *e, bool mutate, char *why, size_t len)
{
	uint64_t va = 0x40200000;
	struct pt_flush f;
	char w[1024];

	OK(pt_map(e->u, va, UNTRACKED_PA, K4, RW));
	touch(e, e->u, va);
	require_clean(e);
	pt_flush_init(&f, e->u);
	OK(pt_unmap(e->u, va, 2 * PT_MiB, &f));
	tlb_rcu_quiesce();
	REQUIRE(tlb_check_safe(e->tlb, w, sizeof(w)) == 0);
	REQUIRE(tlb_check(e->tlb, w, sizeof(w)) != 0); /* pending, so stale */
	REQUIRE(strstr(w, "stale"));
	tlb_clear_failure(e->tlb);
	inject(e, mutate, TLB_FAULT_DROP);
	OK(pt_flush_finish(&f));
	return checkpoint(e, why, len);
}

struct scenario {
	const char *name;
	int (*fn)(struct env *, bool, char *, size_t);
	const char *expect;    /* in the damaged run's message */
};

static const struct scenario scenarios[] = {
	{ "unmap 4K, callback dropped", s_unmap_4k, "stale TLB entry" },
	{ "protect upgrade R->RW, callback dropped", s_protect_upgrade, "stale TLB entry" },
	{ "protect downgrade, callback dropped", s_protect_downgrade, "stale TLB entry" },
	{ "split of a 2M page, callback dropped", s_split_2m, "never invalidated: 2M TLB entry va=0x40000000" },
	{ "split of a 1G page under protect, batch's callback dropped", s_split_1g_batched,
	  "never invalidated: 1G TLB entry" },
	{ "detached leaf table, paging-structure caches kept", s_detach_subtree,
	  "was freed while" },
	{ "17 ranges finish a batch early, that callback dropped", s_early_finish,
	  "stale TLB entry" },
	{ "2M map over an empty leaf table, callback dropped", s_map_over_empty_node,
	  "was freed while" },
	{ "kernel unmap, not broadcast to the sharing user table", s_kernel_shared,
	  "space UK: stale" },
	{ "two-range batch, last range skipped", s_batch_two_ranges,
	  "va=0x80000000" },
	{ "tracked frame, callback dropped", s_tracked_frame_freed,
	  "tracked frame" },
	{ "cursor take_next without batch, callback dropped", s_cursor_ops,
	  "stale TLB entry" },
	{ "unfinished batch, then its callback dropped", s_unfinished_batch,
	  "was freed while" },
};

static void run(const struct scenario *sc, enum tlb_psc_mode mode, bool mutate, bool want_fail)
{
	static const char *const modes[] = { "ranged", "nodes", "x86" };
	struct env e;
	char why[1024] = "";

	env_up(&e, mode);
	int r = sc->fn(&e, mutate, why, sizeof(why));
	struct tlb_stats st;
	tlb_get_stats(e.tlb, &st);
	env_down(&e);
	if (mutate && st.faults_injected != 1)
		die("%s: the damage was never applied (%" PRIu64 " callbacks)", sc->name,
		    st.callbacks);
	if (!want_fail && r != 0)
		die("%s [%s%s]: false positive: %s", sc->name, modes[mode],
		    mutate ? ", damaged" : "", why);
	if (want_fail && r == 0)
		die("%s [%s, damaged]: the checker missed it", sc->name, modes[mode]);
	if (want_fail && !strstr(why, sc->expect))
		die("%s [%s, damaged]: caught, but not as expected (want \"%s\"): %s", sc->name,
		    modes[mode], sc->expect, why);
	printf("ok  %-58s [%s%s]%s%s\n", sc->name, modes[mode], mutate ? ", damaged" : "",
	       want_fail ? ": caught: " : "", want_fail ? why : "");
}

/* What each PSC mode drops, fed crafted callbacks directly (ptkit itself
 * never sends nodes_removed without `all`: a node's range is at least 2M,
 * 512 pages, past PT_FLUSH_ALL_THRESHOLD_PAGES). */
static void test_modes(void)
{
	static const char *const modes[] = { "ranged", "nodes", "x86" };
	/* PSC entries left after: a range alone, a range with nodes_removed,
	 * then all.  Two pages 1G apart share the PML4E: 1 + 2 PDPTEs + 2 PDEs. */
	static const size_t want[3][3] = { { 5, 2, 0 }, { 5, 0, 0 }, { 0, 0, 0 } };
	uint64_t a = 0x40000000, b = 0x80000000;

	for (int mode = TLB_PSC_RANGED; mode <= TLB_PSC_X86; mode++) {
		struct env e;
		struct pt_flush_range r = { a, K4 };
		struct pt_flush_info info = { 0 };
		char why[1024];

		env_up(&e, (enum tlb_psc_mode)mode);
		tlb_set_refill(e.tlb, false);
		OK(pt_map(e.u, a, UNTRACKED_PA, K4, RW));
		OK(pt_map(e.u, b, UNTRACKED_PA, K4, RW));
		for (int step = 0; step < 3; step++) {
			/* From the same state each time: empty, then both walked. */
			info = (struct pt_flush_info){ .root_pa = pt_table_root(e.u), .all = true,
						       .stage = 1 };
			tlb_invalidate(e.tlb, &info);
			touch(&e, e.u, a);
			touch(&e, e.u, b);
			REQUIRE(tlb_count(e.tlb, e.u, true, 0) == 5);
			info = (struct pt_flush_info){ .root_pa = pt_table_root(e.u),
						       .ranges = &r, .nr_ranges = step < 2,
						       .all = step == 2,
						       .nodes_removed = step >= 1, .stage = 1 };
			tlb_invalidate(e.tlb, &info);
			size_t psc = tlb_count(e.tlb, e.u, true, 0);
			if (psc != want[mode][step])
				die("mode %s, step %d: %zu PSC entries left, want %zu", modes[mode],
				    step, psc, want[mode][step]);
			REQUIRE(tlb_count(e.tlb, e.u, false, 1) == (step < 2 ? 1u : 0u));
			REQUIRE(checkpoint(&e, why, sizeof(why)) == 0);
		}
		env_down(&e);
		printf("ok  %-58s [%s]\n", "PSC mode semantics (crafted callbacks)", modes[mode]);
	}
}

int main(void)
{
	test_modes();
	size_t n = sizeof(scenarios) / sizeof(scenarios[0]);

	for (size_t i = 0; i < n; i++) {
		const struct scenario *sc = &scenarios[i];
		for (int mode = TLB_PSC_RANGED; mode <= TLB_PSC_X86; mode++)
			run(sc, (enum tlb_psc_mode)mode, false, false);
		run(sc, TLB_PSC_RANGED, true, true);
		run(sc, TLB_PSC_NODES, true, true);
		run(sc, TLB_PSC_X86, true, true);
	}
	printf("tlb self-test: %zu scenarios, the checker caught every damaged callback\n", n);
	return 0;
}
