/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fault_injection.c - out of memory at every allocation changes nothing.
 *
 * design §5: "All or nothing: out of memory leaves the table exactly as
 * before."  For each operation that allocates page-table nodes (a map of mixed
 * page sizes, a map over empty nodes it must replace, map_frames, an unmap or
 * a protect that must split huge pages, a copy, a mark, a split), make the 1st, 2nd, ... allocation
 * fail until the operation gets through.  After every PT_ENOMEM the whole
 * observable state — the view of both halves, pt_table_stats, the reference
 * counts of the tracked frames and the number of free frames — must equal the
 * snapshot taken before, and pt_check must pass.  When the operation finally
 * succeeds, its result must equal that of the same operation on a twin table
 * (in a twin arena) that never saw a failure: a rollback that leaves a trace
 * which only shows in the next successful attempt is caught there.
 *
 * Every format runs it: the format is the first argument or
 * PTKIT_MODEL_FORMAT (ids in tests/common/format_rules.h; default x86_64).
 * The addresses are small multiples of 1 GiB and the last GiBs below 2^64,
 * inside every format's halves; what differs is how they are cut (Sv39 caps
 * its shared kernel half at 2 MiB pages and keeps 1 GiB leaves in the root;
 * AArch64's UK is a user table of its own, and its splits break before they
 * make, after the allocations).
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ptkit/ptkit.h>
#include <ptkit/testing.h>

#include "format_rules.h"
#include "testutil.h"

#define PAGE ((uint64_t)PT_PAGE_SIZE) /* 64-bit: 0 - n * PAGE must not wrap at 2^32 */
#define ARENA_BYTES (64 * PT_MiB)
#define NFRAMES 8
#define MAX_ATTEMPTS 10000

static const struct pt_test_format *tf;

/* One arena with a user table U, U2 (pages capped at 2 MiB), a kernel table
 * K and UK (pt_table_create_user of K: sharing K's kernel half, or with one
 * root per half an empty user table). */
struct fx {
	struct pt_phys *phys;
	struct pt_table *u, *u2, *k, *uk;
	uint64_t frames[NFRAMES];
	unsigned long invalidations; /* calls of every table's hook */
};

/* A failed operation changed nothing, so it has nothing to invalidate: a
 * call during a failed attempt means an entry was touched (on AArch64, a
 * break before make) before the allocation failed. */
static void count_invalidation(void *arg, const struct pt_flush_info *info)
{
	(void)info;
	((struct fx *)arg)->invalidations++;
}

static const struct pt_prop RW = {PT_R | PT_W, PT_CACHE_WB};
static const struct pt_prop RX = {PT_R | PT_X, PT_CACHE_WB};

static void fx_init(struct fx *f)
{
	const struct pt_table_opts plain = {.invalidate = count_invalidation,
					    .invalidate_arg = f};
	const struct pt_table_opts cap2m = {.max_leaf_level = 2,
					    .invalidate = count_invalidation,
					    .invalidate_arg = f};

	memset(f, 0, sizeof(*f));
	assert_int_equal(pt_phys_create(ARENA_BYTES, &f->phys), 0);
	/* Frames first: their addresses are then the same in both arenas. */
	for (int i = 0; i < NFRAMES; i++)
		assert_int_equal(pt_frame_alloc(f->phys, &f->frames[i]), 0);
	assert_int_equal(pt_table_create_opts(f->phys, tf->fmt, PT_SPACE_USER,
					      &plain, &f->u), 0);
	assert_int_equal(pt_table_create_opts(f->phys, tf->fmt, PT_SPACE_USER,
					      &cap2m, &f->u2), 0);
	/* UK inherits K's hook.  A stage 2 has one space: K and UK are
	 * user-space tables there, and the "kernel" cases work at its top. */
	if (tf->fmt->stage == 2) {
		assert_int_equal(pt_table_create_opts(f->phys, tf->fmt, PT_SPACE_USER,
						      &plain, &f->k), 0);
		assert_int_equal(pt_table_create_opts(f->phys, tf->fmt, PT_SPACE_USER,
						      &plain, &f->uk), 0);
		return;
	}
	assert_int_equal(pt_table_create_opts(f->phys, tf->fmt, PT_SPACE_KERNEL,
					      &plain, &f->k), 0);
	assert_int_equal(pt_table_create_user(f->k, &f->uk), 0);
}

static void fx_fini(struct fx *f)
{
	assert_int_equal(pt_table_destroy(f->uk), 0);
	assert_int_equal(pt_table_destroy(f->k), 0);
	assert_int_equal(pt_table_destroy(f->u2), 0);
	assert_int_equal(pt_table_destroy(f->u), 0);
	for (int i = 0; i < NFRAMES; i++)
		assert_int_equal(pt_frame_put(f->phys, f->frames[i]), 0);
	pt_phys_destroy(f->phys);
}

/* Every table of the fixture: an operation on K shows through UK too
 * where they share the kernel half. */
static void fx_tables(struct fx *f, struct pt_table *t[4])
{
	t[0] = f->u, t[1] = f->u2, t[2] = f->k, t[3] = f->uk;
}

static void snap_all(struct fx *f, struct pt_snapshot s[4])
{
	struct pt_table *t[4];

	fx_tables(f, t);
	for (int i = 0; i < 4; i++)
		pt_snapshot_take(&s[i], t[i], f->frames, NFRAMES);
}

static void free_all(struct pt_snapshot s[4])
{
	for (int i = 0; i < 4; i++)
		pt_snapshot_free(&s[i]);
}

/* The last `back` bytes below 2^64, or below the end of a stage 2's one
 * space (its root's last slot). */
static uint64_t top(uint64_t back)
{
	return (tf->fmt->stage == 2 ? tf->fmt->user_end : 0) - back;
}

/* ------------------------------------------------------------ the cases */

struct fcase {
	const char *name;
	void (*setup)(struct fx *f); /* builds the state before the op */
	int (*op)(struct fx *f);
	bool allocates;              /* needs at least one new node */
};

/* 4K x3, 2M x2, 1G, 2M, 4K x5: va and pa congruent modulo 1G. */
static int op_map_mixed(struct fx *f)
{
	uint64_t va = 2 * PT_GiB - 2 * 2 * PT_MiB - 3 * PAGE;
	uint64_t len = 3 * PAGE + 2 * 2 * PT_MiB + PT_GiB + 2 * PT_MiB + 5 * PAGE;

	return pt_map(f->u, va, 7 * PT_GiB + (va & (PT_GiB - 1)), len, RW);
}

/* Empty nodes: map 4K pages and unmap them again; partial unmaps keep the
 * nodes (design §5), so a level-2 node at 1G with two leaf tables and a leaf
 * table at 2G+2M stay, all empty. */
static void setup_empty_nodes(struct fx *f)
{
	static const uint64_t at[] = {PT_GiB + 5 * PAGE,
				      PT_GiB + 300 * 2 * PT_MiB,
				      2 * PT_GiB + 2 * PT_MiB + 9 * PAGE};

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		assert_int_equal(pt_map(f->u, at[i], 0x1000000, PAGE, RW), 0);
		assert_int_equal(pt_unmap(f->u, at[i], PAGE, NULL), 0);
	}
	/* A neighbour in the level-2 node at 2G, which must survive. */
	assert_int_equal(pt_map(f->u, 2 * PT_GiB + 10 * 2 * PT_MiB, 0x2000000,
				PAGE, RX), 0);
}

/* One call: a 1G leaf replacing the empty level-2 node at 1G (and its two
 * leaf tables), 2M leaves at 2G, one replacing the empty leaf table at
 * 2G+2M, then 4K pages that need a new leaf table.  A failed attempt must not
 * have freed the empty nodes. */
static int op_map_over_empty(struct fx *f)
{
	return pt_map(f->u, PT_GiB, 5 * PT_GiB,
		      PT_GiB + 2 * 2 * PT_MiB + 3 * PAGE, RW);
}

/* The kernel half: through K (and so through UK), up to 2^64. */
static int op_map_kernel(struct fx *f)
{
	uint64_t va = top(PT_GiB + 2 * PT_MiB + 4 * PAGE);

	return pt_map(f->k, va, 3 * PT_GiB - 2 * PT_MiB - 4 * PAGE,
		      PT_GiB + 2 * PT_MiB + 4 * PAGE, RW);
}

/* The user half of UK: its own nodes, next to the shared kernel half. */
static int op_map_uk_user(struct fx *f)
{
	/* 4K at 4G-2M-4K, 2M at 4G-2M, 1G at 4G. */
	return pt_map(f->uk, 4 * PT_GiB - 2 * PT_MiB - PAGE,
		      PT_GiB - 2 * PT_MiB - PAGE, PAGE + 2 * PT_MiB + PT_GiB, RW);
}

/* Capped at 2M: a 1G-aligned gigabyte becomes 512 2M leaves. */
static int op_map_capped(struct fx *f)
{
	return pt_map(f->u2, PT_GiB, PT_GiB, PT_GiB + 2 * PAGE, RW);
}

/* Tracked frames across a 1G boundary (two level-2 and two leaf tables),
 * one frame twice. */
static int op_map_frames(struct fx *f)
{
	uint64_t fr[5] = {f->frames[0], f->frames[1], f->frames[2],
			  f->frames[0], f->frames[3]};

	return pt_map_frames(f->u, 2 * PT_GiB - 2 * PAGE, fr, 5, RW);
}

static int op_map_frames_kernel(struct fx *f)
{
	uint64_t fr[3] = {f->frames[4], f->frames[5], f->frames[4]};

	return pt_map_frames(f->k, top(3 * PAGE), fr, 3, RW);
}

/* Huge leaves with tracked pages next to them, for unmap and protect. */
static void setup_huge(struct fx *f)
{
	uint64_t fr[4] = {f->frames[0], f->frames[1], f->frames[2], f->frames[0]};

	assert_int_equal(pt_map(f->u, PT_GiB, 3 * PT_GiB, 2 * PT_GiB, RW), 0);
	assert_int_equal(pt_map(f->u, 4 * PT_GiB, 8 * PT_GiB + 2 * PT_MiB,
				4 * 2 * PT_MiB, RX), 0);
	assert_int_equal(pt_map_frames(f->u, 4 * PT_GiB + 4 * 2 * PT_MiB, fr, 4,
				       RW), 0);
	assert_int_equal(pt_map(f->k, top(2 * PT_GiB), 3 * PT_GiB, 2 * PT_GiB,
				RW), 0);
}

/* One page in the middle of a 1G leaf: 1G -> 2M -> 4K, two nodes. */
static int op_unmap_middle(struct fx *f)
{
	return pt_unmap(f->u, PT_GiB + 7 * 2 * PT_MiB + 5 * PAGE, PAGE, NULL);
}

/* Across the boundary of two 1G leaves: both split down to 4K. */
static int op_unmap_across(struct fx *f)
{
	return pt_unmap(f->u, 2 * PT_GiB - PAGE, 2 * PAGE, NULL);
}

/* From inside a 2M leaf through tracked pages: split, and references that
 * must not drop while the split fails. */
static int op_unmap_tracked(struct fx *f)
{
	struct pt_flush fl;
	int err;

	pt_flush_init(&fl, f->u);
	err = pt_unmap(f->u, 4 * PT_GiB + 3 * 2 * PT_MiB + 8 * PAGE,
		       2 * PT_MiB - 8 * PAGE + 3 * PAGE, &fl);
	assert_int_equal(pt_flush_finish(&fl), 0);
	return err;
}

/* The kernel half, ending at 2^64: K's shared nodes, seen through UK. */
static int op_unmap_kernel(struct fx *f)
{
	return pt_unmap(f->k, top(PT_GiB + 2 * PT_MiB + PAGE), 2 * PT_MiB + PAGE,
			NULL);
}

static int op_protect_split(struct fx *f)
{
	return pt_protect(f->u, PT_GiB + PAGE, PT_GiB + 2 * PT_MiB, PT_X, PT_W,
			  NULL);
}

static int op_protect_tracked(struct fx *f)
{
	struct pt_flush fl;
	int err;

	pt_flush_init(&fl, f->u);
	err = pt_protect(f->u, 4 * PT_GiB + 2 * PT_MiB + PAGE,
			 3 * 2 * PT_MiB + 2 * PAGE, PT_W | PT_U, PT_X, &fl);
	assert_int_equal(pt_flush_finish(&fl), 0);
	return err;
}

static int op_protect_kernel(struct fx *f)
{
	return pt_protect(f->k, top(2 * PT_GiB - PAGE), 3 * PAGE, PT_G, PT_W,
			  NULL);
}

/* Everything setup_huge mapped in U, copied into UK (U's settings):
 * 1G leaves, 2M leaves and tracked pages, made read-only in both. */
static int op_copy_cow(struct fx *f)
{
	return pt_copy(f->uk, f->u, PT_GiB, 4 * PT_GiB, PT_COPY_COW, NULL);
}

/* Empty nodes in U (setup_empty_nodes) under what UK maps: a 1G leaf
 * replaces the empty level-2 node at 1G, a 2M leaf the leaf table at
 * 2G+2M, and 4K pages need a new leaf table. */
static void setup_copy_over_empty(struct fx *f)
{
	setup_empty_nodes(f);
	assert_int_equal(pt_map(f->uk, PT_GiB, 5 * PT_GiB, PT_GiB + 2 * 2 * PT_MiB + 3 * PAGE,
				RW), 0);
}

static int op_copy_over_empty(struct fx *f)
{
	return pt_copy(f->u, f->uk, PT_GiB, PT_GiB + 2 * 2 * PT_MiB + 3 * PAGE, 0, NULL);
}

/* Markers across a 1G boundary into an empty table: two leaf tables, two
 * level-2 nodes (AArch64 and 4-level: a level-3 one too). */
static int op_mark(struct fx *f)
{
	return pt_mark(f->u, 2 * PT_GiB - 3 * PAGE, 5 * PAGE, 0x5a5a);
}

/* Splits of setup_huge's leaves from the phys: a 1G leaf to 4K at both
 * ends of the range, 2M leaves between. */
static int op_split(struct fx *f)
{
	return pt_split(f->u, 2 * PT_GiB - PAGE, 2 * PAGE + 2 * PT_MiB, 1, NULL);
}

/* Across the boundary of two 1G leaves, both split down to 4K at the
 * source, to a distance only 4K divides: 4K pieces in new nodes. */
static int op_move_split(struct fx *f)
{
	return pt_move(f->u, 2 * PT_GiB - 2 * PT_MiB - 3 * PAGE, 12 * PT_GiB + 5 * PAGE,
		       2 * PT_MiB + 6 * PAGE, NULL);
}

/* 2M leaves and the leaf table of tracked pages, as they are (the distance
 * is a multiple of 2M, not of 1G) under a level-2 node to make, with a
 * batch: references must not move while it fails. */
static int op_move_tracked(struct fx *f)
{
	struct pt_flush fl;
	int err;

	pt_flush_init(&fl, f->u);
	err = pt_move(f->u, 4 * PT_GiB, 9 * PT_GiB + 6 * 2 * PT_MiB, 5 * 2 * PT_MiB, &fl);
	assert_int_equal(pt_flush_finish(&fl), 0);
	return err;
}

/* The kernel half, among K's pinned nodes (seen through UK): split at
 * both ends, pieces at a distance only 4K divides. */
static int op_move_kernel(struct fx *f)
{
	return pt_move(f->k, top(2 * PT_GiB) + 2 * PT_MiB - PAGE, top(5 * PT_GiB) + 3 * PAGE,
		       2 * PT_MiB + 2 * PAGE, NULL);
}

static void setup_none(struct fx *f)
{
	(void)f;
}

static const struct fcase cases[] = {
	{"map 4K/2M/1G/2M/4K", setup_none, op_map_mixed, true},
	{"map over empty nodes", setup_empty_nodes, op_map_over_empty, true},
	{"map kernel half to 2^64", setup_none, op_map_kernel, true},
	{"map user half of UK", setup_none, op_map_uk_user, true},
	{"map with 2M cap", setup_none, op_map_capped, true},
	{"map_frames across 1G", setup_none, op_map_frames, true},
	{"map_frames kernel top", setup_none, op_map_frames_kernel, true},
	{"unmap page inside 1G", setup_huge, op_unmap_middle, true},
	{"unmap across two 1G", setup_huge, op_unmap_across, true},
	{"unmap 2M part + tracked, batch", setup_huge, op_unmap_tracked, true},
	{"unmap kernel half, split", setup_huge, op_unmap_kernel, true},
	{"protect splitting 1G and 2M", setup_huge, op_protect_split, true},
	{"protect 2M part + tracked, batch", setup_huge, op_protect_tracked,
	 true},
	{"protect kernel half, split", setup_huge, op_protect_kernel, true},
	{"copy U to UK, copy-on-write", setup_huge, op_copy_cow, true},
	{"copy UK to U over empty nodes", setup_copy_over_empty, op_copy_over_empty, true},
	{"mark across 1G", setup_none, op_mark, true},
	{"split 1G leaves to 4K", setup_huge, op_split, true},
	{"move splitting two 1G, 4K pieces", setup_huge, op_move_split, true},
	{"move 2M + leaf table of tracked, batch", setup_huge, op_move_tracked, true},
	{"move kernel half, split", setup_huge, op_move_kernel, true},
};

/* ---------------------------------------------------------- the loop */

/* Fails unless every table's snapshot equals `want` (after RCU settles). */
static void expect_unchanged(struct fx *f, struct pt_snapshot want[4],
			     const char *name, uint64_t n)
{
	static const char *const tname[4] = {"U", "U2", "K", "UK"};
	struct pt_snapshot now[4];
	struct pt_table *t[4];
	char why[600];

	fx_tables(f, t);
	pt_test_free_frames(f->phys);
	snap_all(f, now);
	for (int i = 0; i < 4; i++) {
		if (pt_snapshot_diff(&want[i], &now[i], PT_SNAP_ALL, why,
				     sizeof(why)))
			pt_test_fail("%s: %s: allocation #%" PRIu64 " failed with"
				     " PT_ENOMEM but table %s changed: %s",
				     tf->id, name, n, tname[i], why);
		pt_test_check(t[i]);
	}
	free_all(now);
}

static void run_case(const struct fcase *c)
{
	struct pt_snapshot before[4], mine[4], twin_s[4];
	struct fx f, twin;
	uint64_t n, failures = 0;
	char why[600];
	int err = PT_ENOMEM;

	/* The twin: same setup, same operation, no failure. */
	fx_init(&twin);
	c->setup(&twin);
	assert_int_equal(c->op(&twin), 0);
	snap_all(&twin, twin_s);

	fx_init(&f);
	c->setup(&f);
	snap_all(&f, before);
	for (n = 1; n <= MAX_ATTEMPTS; n++) {
		f.invalidations = 0;
		pt_phys_fail_nth_alloc(f.phys, n);
		err = c->op(&f);
		pt_phys_fail_nth_alloc(f.phys, 0);
		if (err != PT_ENOMEM)
			break;
		failures++;
		if (f.invalidations)
			pt_test_fail("%s: %s: allocation #%" PRIu64 " failed with"
				     " PT_ENOMEM after %lu invalidation(s): the"
				     " failed operation touched an entry",
				     tf->id, c->name, n, f.invalidations);
		expect_unchanged(&f, before, c->name, n);
	}
	if (err != 0)
		pt_test_fail("%s: %s: returned %d (%s) with allocation #%" PRIu64
			     " set to fail", tf->id, c->name, err, pt_strerror(err), n);
	if (c->allocates && failures == 0)
		pt_test_fail("%s: %s: no allocation failed: the operation did not"
			     " allocate, or ignored the failure", tf->id, c->name);
	snap_all(&f, mine);
	for (int i = 0; i < 4; i++)
		if (pt_snapshot_diff(&twin_s[i], &mine[i],
				     PT_SNAP_VIEW | PT_SNAP_STATS | PT_SNAP_REFS,
				     why, sizeof(why)))
			pt_test_fail("%s: %s: after %" PRIu64 " failures the"
				     " result differs from a run without failures"
				     " (table #%d): %s", tf->id, c->name, failures,
				     i, why);
	print_message("%s: %-36s %" PRIu64 " allocation failures rolled back\n",
		      tf->id, c->name, failures);
	free_all(before);
	free_all(mine);
	free_all(twin_s);
	fx_fini(&f);
	fx_fini(&twin);
}

static void test_enomem_changes_nothing(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

/* Operations that need no new node succeed on the first try even with the
 * very next allocation set to fail: nothing allocates needlessly (a 4K map
 * into an existing leaf table, an unmap of whole leaves, a protect of whole
 * leaves, a harvest that clears).  The armed failure is then turned off again. */
static void test_no_needless_allocation(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	setup_huge(&f);
	pt_phys_fail_nth_alloc(f.phys, 1);
	assert_int_equal(pt_map(f.u, 4 * PT_GiB + 4 * 2 * PT_MiB + 8 * PAGE,
				0x3000000, 2 * PAGE, RW), 0);
	assert_int_equal(pt_protect(f.u, PT_GiB, PT_GiB, PT_X, 0, NULL), 0);
	assert_int_equal(pt_unmap(f.u, 4 * PT_GiB, 2 * PT_MiB, NULL), 0);
	{
		uint64_t bm[(2 * PT_GiB / PAGE + 63) / 64];

		assert_int_equal(pt_harvest(f.u, PT_GiB, 2 * PT_GiB, PT_HARVEST_ACCESSED |
					    PT_HARVEST_DIRTY | PT_HARVEST_CLEAR, bm, NULL), 0);
	}
	pt_phys_fail_nth_alloc(f.phys, 0);
	for (int i = 0; i < 4; i++)
		pt_test_check(i == 0 ? f.u : i == 1 ? f.u2 : i == 2 ? f.k : f.uk);
	fx_fini(&f);
}

/* The format: the first argument (CTest passes it), else
 * PTKIT_MODEL_FORMAT, else x86_64. */
int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : getenv("PTKIT_MODEL_FORMAT");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enomem_changes_nothing),
		cmocka_unit_test(test_no_needless_allocation),
	};
	char group[64];

	tf = pt_test_format_find(name && *name ? name : "x86_64");
	if (!tf) {
		fprintf(stderr, "fault_injection: unknown format '%s'\n", name);
		return 2;
	}
	snprintf(group, sizeof(group), "model_enomem[%s]", tf->id);
	return _cmocka_run_group_tests(group, tests, 2, NULL, NULL);
}
