/* SPDX-License-Identifier: MPL-2.0 */
/*
 * leaks.c - pt_table_destroy gives back everything the table took.
 *
 * "Synchronous: releases every node and every tracked reference" (table.h).
 * So after destroying tables that hold untracked leaves of every size,
 * tracked frames (some mapped several times, in several tables), PROT_NONE
 * leaves, split huge pages and empty nodes left by partial unmaps, the arena
 * has exactly as many free frames as before the tables were made, and every
 * tracked frame is back to the one reference the test holds.
 *
 * User tables made from a kernel table share its kernel half (design §5): the
 * kernel table cannot be destroyed while they live (PT_EBUSY, changing
 * nothing), and destroying a user table must not free or alter the shared
 * nodes.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <ptkit/ptkit.h>

#include "testutil.h"

#define PAGE ((uint64_t)PT_PAGE_SIZE) /* 64-bit: 0 - n * PAGE must not wrap at 2^32 */
#define ARENA_BYTES (128 * PT_MiB)
#define NFRAMES 16

static const struct pt_prop RW = {PT_R | PT_W, PT_CACHE_WB};
static const struct pt_prop RO_UC = {PT_R, PT_CACHE_UC};
static const struct pt_prop NONE = {PT_U, PT_CACHE_WB}; /* PROT_NONE */

struct arena {
	struct pt_phys *phys;
	uint64_t frames[NFRAMES];
	uint64_t free_start;   /* free frames in the fresh arena */
	uint64_t free_before;  /* ... once the test's frames are out */
};

static void arena_init(struct arena *a)
{
	assert_int_equal(pt_phys_create(ARENA_BYTES, &a->phys), 0);
	a->free_start = pt_phys_free_frames(a->phys);
	for (int i = 0; i < NFRAMES; i++)
		assert_int_equal(pt_frame_alloc(a->phys, &a->frames[i]), 0);
	a->free_before = pt_phys_free_frames(a->phys);
}

/* Every table is gone: the free count is back, each frame has only the test's
 * reference; then the test lets go and the arena is whole again. */
static void arena_expect_clean(struct arena *a, const char *after)
{
	uint64_t now = pt_test_free_frames(a->phys);

	if (now != a->free_before)
		pt_test_fail("after %s: %" PRIu64 " free frames, %" PRIu64
			     " before the tables were made (%+" PRId64 ")", after,
			     now, a->free_before,
			     (int64_t)(now - a->free_before));
	for (int i = 0; i < NFRAMES; i++) {
		uint64_t rc = pt_frame_refcount(a->phys, a->frames[i]);

		if (rc != 1)
			pt_test_fail("after %s: frame %#" PRIx64 " has refcount %"
				     PRIu64 ", want the test's own 1", after,
				     a->frames[i], rc);
	}
	for (int i = 0; i < NFRAMES; i++)
		assert_int_equal(pt_frame_put(a->phys, a->frames[i]), 0);
	/* Removed nodes return after a grace period: the barrier waits. */
	pt_phys_barrier(a->phys);
	assert_int_equal(pt_phys_free_frames(a->phys), a->free_start);
	pt_phys_destroy(a->phys);
}

/* Untracked leaves of every size in one call (va and pa congruent modulo
 * 1G): 4K, 2M, 1G, 2M, 4K around [base + 1G, base + 2G). */
static void map_all_sizes(struct pt_table *t, uint64_t base, uint64_t pa)
{
	uint64_t va = base + PT_GiB - 2 * PT_MiB - 3 * PAGE;

	assert_int_equal(pt_map(t, va, pa + PT_GiB - 2 * PT_MiB - 3 * PAGE,
				3 * PAGE + 2 * PT_MiB + PT_GiB + 2 * PT_MiB +
					2 * PAGE,
				RW), 0);
}

/* Tracked frames, frame 0 twice, and a PROT_NONE tracked page. */
static void map_tracked(struct pt_table *t, uint64_t va, const uint64_t *fr)
{
	uint64_t list[6] = {fr[0], fr[1], fr[2], fr[0], fr[3], fr[4]};

	assert_int_equal(pt_map_frames(t, va, list, 6, RW), 0);
	assert_int_equal(pt_map_frames(t, va + 64 * PAGE, &fr[5], 1, NONE), 0);
}

/* Splits (protect and unmap inside huge leaves) and nodes emptied by a
 * partial unmap, which stay until destroy (design §5). */
static void split_and_empty(struct pt_table *t, uint64_t base)
{
	assert_int_equal(pt_protect(t, base + PT_GiB + 5 * PAGE, PAGE, PT_X, 0,
				    NULL), 0);
	assert_int_equal(pt_unmap(t, base + PT_GiB + 3 * 2 * PT_MiB + PAGE,
				  2 * PAGE, NULL), 0);
	assert_int_equal(pt_map(t, base + 3 * PT_GiB + 7 * PAGE, 0x5000000,
				PAGE, RO_UC), 0);
	assert_int_equal(pt_unmap(t, base + 3 * PT_GiB + 7 * PAGE, PAGE, NULL),
			 0);
}

static void test_user_table(void **state)
{
	struct arena a;
	struct pt_table *t;

	(void)state;
	arena_init(&a);
	assert_int_equal(pt_table_create(a.phys, &pt_format_x86_64,
					 PT_SPACE_USER, &t), 0);
	map_all_sizes(t, 0, 6 * PT_GiB);
	map_all_sizes(t, pt_format_x86_64.user_end - 4 * PT_GiB, 0);
	map_tracked(t, 4 * PT_GiB + 2 * PT_MiB - 3 * PAGE, a.frames);
	map_tracked(t, 5 * PT_GiB, a.frames + 2);
	split_and_empty(t, 0);
	pt_test_check(t);
	assert_true(pt_frame_refcount(a.phys, a.frames[2]) == 1 + 3);
	assert_int_equal(pt_table_destroy(t), 0);
	arena_expect_clean(&a, "destroying a user table");
}

/* Pages capped at 4K: many leaf tables for one call. */
static void test_4k_only_table(void **state)
{
	const struct pt_table_opts o = {.max_leaf_level = 1};
	struct arena a;
	struct pt_table *t;

	(void)state;
	arena_init(&a);
	assert_int_equal(pt_table_create_opts(a.phys, &pt_format_x86_64,
					      PT_SPACE_USER, &o, &t), 0);
	assert_int_equal(pt_map(t, PT_GiB - 8 * PT_MiB, 0, 24 * PT_MiB, RW), 0);
	map_tracked(t, 8 * PT_GiB, a.frames);
	pt_test_check(t);
	assert_int_equal(pt_table_destroy(t), 0);
	arena_expect_clean(&a, "destroying a 4K-only table");
}

/* A table whose mappings were all unmapped again piece by piece: only empty
 * nodes are left, and destroy must free them. */
static void test_emptied_table(void **state)
{
	struct pt_table_stats st;
	struct arena a;
	struct pt_table *t;

	(void)state;
	arena_init(&a);
	assert_int_equal(pt_table_create(a.phys, &pt_format_x86_64,
					 PT_SPACE_USER, &t), 0);
	map_all_sizes(t, 0, 6 * PT_GiB);
	map_tracked(t, 4 * PT_GiB + 2 * PT_MiB - 3 * PAGE, a.frames);
	/* Chunks of 512 pages plus one: not aligned to nodes, so most nodes are
	 * only partly covered by each unmap and stay, emptied. */
	for (uint64_t va = PT_GiB - 4 * PT_MiB; va < 5 * PT_GiB;
	     va += 513 * PAGE) {
		assert_int_equal(pt_unmap(t, va, 512 * PAGE, NULL), 0);
		assert_int_equal(pt_unmap(t, va + 512 * PAGE, PAGE, NULL), 0);
	}
	assert_int_equal(pt_table_stats(t, &st), 0);
	assert_true(st.mapped_bytes == 0);
	assert_true(st.nodes[1] > 0 && st.nodes[2] > 0); /* emptied, kept */
	pt_test_check(t);
	assert_int_equal(pt_table_destroy(t), 0);
	arena_expect_clean(&a, "destroying an emptied table");
}

static void snap(struct pt_snapshot *s, struct pt_table *t, struct arena *a)
{
	pt_snapshot_take(s, t, a->frames, NFRAMES);
}

/* Kernel table, two user tables sharing its kernel half. */
static void test_kernel_shared(void **state)
{
	const uint64_t ks = pt_format_x86_64.kernel_start;
	struct pt_snapshot k0, uk0, k1, uk1;
	struct pt_table *k, *uk1t, *uk2t;
	struct arena a;

	(void)state;
	arena_init(&a);
	assert_int_equal(pt_table_create(a.phys, &pt_format_x86_64,
					 PT_SPACE_KERNEL, &k), 0);
	assert_int_equal(pt_table_create_user(k, &uk1t), 0);
	/* Kernel mappings before and after the user tables exist. */
	map_all_sizes(k, ks, 0);
	assert_int_equal(pt_table_create_user(k, &uk2t), 0);
	map_all_sizes(k, 0 - 4 * PT_GiB, 2 * PT_GiB);
	map_tracked(k, 0 - 128 * PAGE, a.frames);
	split_and_empty(k, ks);
	/* The user tables' own halves, with the same frames. */
	map_all_sizes(uk1t, 0, 6 * PT_GiB);
	map_tracked(uk1t, 7 * PT_GiB, a.frames);
	map_tracked(uk2t, 7 * PT_GiB, a.frames + 1);
	split_and_empty(uk2t, 0);
	assert_int_equal(pt_map(uk1t, ks, 0, PAGE, RW), PT_EPERM);
	pt_test_check(k);
	pt_test_check(uk1t);
	pt_test_check(uk2t);

	/* Busy: refused, and nothing at all changes. */
	snap(&k0, k, &a);
	snap(&uk0, uk2t, &a);
	assert_int_equal(pt_table_destroy(k), PT_EBUSY);
	snap(&k1, k, &a);
	snap(&uk1, uk2t, &a);
	pt_test_snapshot_equal(&k0, &k1, PT_SNAP_ALL);
	pt_test_snapshot_equal(&uk0, &uk1, PT_SNAP_ALL);
	pt_test_check(k);
	pt_snapshot_free(&k1);
	pt_snapshot_free(&uk1);

	/* One user table goes: the shared half stays, still busy. */
	assert_int_equal(pt_table_destroy(uk1t), 0);
	snap(&k1, k, &a);
	snap(&uk1, uk2t, &a);
	pt_test_snapshot_equal(&k0, &k1, PT_SNAP_VIEW | PT_SNAP_STATS);
	pt_test_snapshot_equal(&uk0, &uk1, PT_SNAP_VIEW | PT_SNAP_STATS);
	pt_test_check(k);
	pt_test_check(uk2t);
	assert_int_equal(pt_table_destroy(k), PT_EBUSY);
	pt_snapshot_free(&k1);
	pt_snapshot_free(&uk1);

	/* The last user table goes, then the kernel table can. */
	assert_int_equal(pt_table_destroy(uk2t), 0);
	snap(&k1, k, &a);
	pt_test_snapshot_equal(&k0, &k1, PT_SNAP_VIEW | PT_SNAP_STATS);
	pt_test_check(k);
	assert_int_equal(pt_table_destroy(k), 0);
	pt_snapshot_free(&k0);
	pt_snapshot_free(&k1);
	pt_snapshot_free(&uk0);
	arena_expect_clean(&a, "destroying a kernel table and its user tables");
}

/* Each destroy gives back exactly its own share: frames shared by three
 * tables lose one reference per mapping of the destroyed table. */
static void test_shared_frames_step_by_step(void **state)
{
	struct pt_table *t[3];
	struct arena a;
	uint64_t want;

	(void)state;
	arena_init(&a);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pt_table_create(a.phys, &pt_format_x86_64,
						 PT_SPACE_USER, &t[i]), 0);
		map_tracked(t[i], (uint64_t)(i + 1) * PT_GiB, a.frames);
	}
	/* frames[0] is mapped twice per table. */
	want = 1 + 3 * 2;
	for (int i = 0; i < 3; i++) {
		assert_true(pt_frame_refcount(a.phys, a.frames[0]) == want);
		assert_int_equal(pt_table_destroy(t[(i + 1) % 3]), 0);
		want -= 2;
	}
	assert_true(pt_frame_refcount(a.phys, a.frames[0]) == 1);
	arena_expect_clean(&a, "destroying three tables sharing frames");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_table),
		cmocka_unit_test(test_4k_only_table),
		cmocka_unit_test(test_emptied_table),
		cmocka_unit_test(test_kernel_shared),
		cmocka_unit_test(test_shared_frames_step_by_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
