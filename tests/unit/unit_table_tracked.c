/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_table_tracked - tracked mappings (design §2): pt_map_frames takes one
 * reference per mapping, removing the mapping drops it, and mapping what is
 * not a live data frame is PT_EINVAL with every count unchanged.  These are
 * the cases where a wrong count becomes a use-after-free in a kernel.
 */
#include "unit.h"

#define ARENA (16ull << 20)

struct fix {
	struct u_env *e;
	struct pt_table *t;
	uint64_t f[8];
};

static int setup(void **state)
{
	struct fix *x = calloc(1, sizeof *x);
	size_t i;

	assert_non_null(x);
	x->e = u_env_new(ARENA);
	x->t = u_env_table(x->e, PT_SPACE_USER);
	for (i = 0; i < 8; i++)
		assert_rc(pt_frame_alloc(x->e->phys, &x->f[i]), 0);
	*state = x;
	return 0;
}

/* Drops the caller's references the test still holds (f[i] == 0: the
 * test gave it up itself). */
static int teardown(void **state)
{
	struct fix *x = *state;
	size_t i;

	for (i = 0; i < 8; i++)
		if (x->f[i])
			assert_rc(pt_frame_put(x->e->phys, x->f[i]), 0);
	u_env_free(x->e);
	free(x);
	return 0;
}

#define assert_refs(x, i, n) assert_u64(pt_frame_refcount((x)->e->phys, (x)->f[i]), (n))

static void test_map_frames_refcounts(void **state)
{
	struct fix *x = *state;
	struct pt_table *t = x->t;
	size_t i;

	assert_ok_checked(t, pt_map_frames(t, 0x10000, x->f, 3, prop(RW | PT_U, 0)));
	for (i = 0; i < 3; i++) {
		assert_refs(x, i, 2);
		assert_query(t, 0x10000 + i * SZ_4K,
			     mapping(0x10000 + i * SZ_4K, x->f[i], SZ_4K, RW | PT_U, 0, true));
	}
	assert_refs(x, 3, 1);
	/* The same frame at a second address: one more reference. */
	assert_ok_checked(t, pt_map_frames(t, 0x20000, x->f, 1, prop(PT_R, 0)));
	assert_refs(x, 0, 3);
	assert_ok_checked(t, pt_unmap(t, 0x20000, SZ_4K, NULL));
	assert_refs(x, 0, 2);
	assert_ok_checked(t, pt_unmap(t, 0x10000, 3 * SZ_4K, NULL));
	for (i = 0; i < 3; i++)
		assert_refs(x, i, 1);
}

/* Tracked pages are base pages, even at a 2M-aligned va: the table
 * counts 4 KiB frames. */
static void test_map_frames_never_huge(void **state)
{
	struct fix *x = *state;
	struct pt_table_stats s;

	assert_ok_checked(x->t, pt_map_frames(x->t, SZ_2M, x->f, 8, prop(RW, 0)));
	assert_rc(pt_table_stats(x->t, &s), 0);
	assert_u64(s.mappings[1], 8);
	assert_u64(s.tracked, 8);
}

/* The table's reference keeps a frame alive after the caller lets go. */
static void test_table_reference_outlives_caller(void **state)
{
	struct fix *x = *state;
	struct pt_table *t = x->t;

	assert_ok_checked(t, pt_map_frames(t, 0x10000, &x->f[0], 1, prop(RW, 0)));
	assert_rc(pt_frame_put(x->e->phys, x->f[0]), 0);
	assert_refs(x, 0, 1);
	assert_query(t, 0x10000, mapping(0x10000, x->f[0], SZ_4K, RW, 0, true));
	assert_ok_checked(t, pt_unmap(t, 0x10000, SZ_4K, NULL));
	assert_refs(x, 0, PT_REFCOUNT_UNUSED);
	x->f[0] = 0;
}

/* Destroying the table releases its references. */
static void test_destroy_releases(void **state)
{
	struct fix *x = *state;
	struct pt_table *t = x->t;

	assert_ok_checked(t, pt_map_frames(t, 0x10000, x->f, 4, prop(RW, 0)));
	assert_refs(x, 3, 2);
	assert_rc(pt_table_destroy(t), 0);
	u_env_forget(x->e, t);
	assert_refs(x, 0, 1);
	assert_refs(x, 3, 1);
}

/* Protect never changes trackedness, address, size or counts. */
static void test_protect_keeps_tracked(void **state)
{
	struct fix *x = *state;
	struct pt_table *t = x->t;

	assert_ok_checked(t, pt_map_frames(t, 0x10000, x->f, 2, prop(RW, 0)));
	assert_ok_checked(t, pt_protect(t, 0x10000, 2 * SZ_4K, 0, RWX, NULL));
	assert_query(t, 0x11000, mapping(0x11000, x->f[1], SZ_4K, 0, 0, true));
	assert_ok_checked(t, pt_protect(t, 0x10000, 2 * SZ_4K, PT_R, 0, NULL));
	assert_query(t, 0x10000, mapping(0x10000, x->f[0], SZ_4K, PT_R, 0, true));
	assert_refs(x, 0, 2);
	assert_refs(x, 1, 2);
}

/* PROT_NONE tracked mappings are mappings: counted, listed, released. */
static void test_prot_none_tracked(void **state)
{
	struct fix *x = *state;
	struct pt_table *t = x->t;

	assert_ok_checked(t, pt_map_frames(t, 0x10000, x->f, 1, prop(0, 0)));
	assert_refs(x, 0, 2);
	assert_query(t, 0x10000, mapping(0x10000, x->f[0], SZ_4K, 0, 0, true));
	assert_ok_checked(t, pt_unmap(t, 0x10000, SZ_4K, NULL));
	assert_refs(x, 0, 1);
}

/* Mapping what is not a live data frame: EINVAL, nothing changes. */
static void test_bad_frames_refused(void **state)
{
	struct fix *x = *state;
	struct pt_table *t = x->t;
	struct pt_phys *phys = x->e->phys;
	uint64_t dead, list[3];
	const struct pt_prop p = prop(RW, 0);

	/* A free frame. */
	assert_rc(pt_frame_alloc(phys, &dead), 0);
	assert_rc(pt_frame_put(phys, dead), 0);
	assert_fails_unchanged(t, pt_map_frames(t, 0x10000, &dead, 1, p), PT_EINVAL);
	assert_u64(pt_frame_refcount(phys, dead), PT_REFCOUNT_UNUSED);
	/* A page-table node: the table's own root. */
	list[0] = pt_table_root(t);
	{
		uint64_t rc0 = pt_frame_refcount(phys, list[0]);
		assert_fails_unchanged(t, pt_map_frames(t, 0x10000, list, 1, p), PT_EINVAL);
		assert_u64(pt_frame_refcount(phys, list[0]), rc0);
	}
	/* Unmanaged addresses: past the arena, MMIO-like. */
	list[0] = ARENA;
	assert_fails_unchanged(t, pt_map_frames(t, 0x10000, list, 1, p), PT_EINVAL);
	list[0] = 0xfee00000;
	assert_fails_unchanged(t, pt_map_frames(t, 0x10000, list, 1, p), PT_EINVAL);
	/* All or nothing: two good frames, then a bad one. */
	list[0] = x->f[0];
	list[1] = x->f[1];
	list[2] = dead;
	assert_fails_unchanged(t, pt_map_frames(t, 0x10000, list, 3, p), PT_EINVAL);
	assert_refs(x, 0, 1);
	assert_refs(x, 1, 1);
	assert_unmapped(t, 0x10000);
	/* Empty list, NULL list, inexpressible property. */
	assert_fails_unchanged(t, pt_map_frames(t, 0x10000, x->f, 0, p), PT_EINVAL);
	assert_fails_unchanged(t, pt_map_frames(t, 0x10000, NULL, 1, p), PT_EINVAL);
	assert_fails_unchanged(t, pt_map_frames(t, 0x10000, x->f, 1, prop(PT_R, PT_CACHE_WC)),
			       PT_EINVAL);
	assert_refs(x, 0, 1);
}

/* Overlap and out-of-memory: no reference taken. */
static void test_map_frames_eexist_enomem(void **state)
{
	struct fix *x = *state;
	struct pt_table *t = x->t;

	assert_ok_checked(t, pt_map(t, 0x12000, 0x5000, SZ_4K, prop(RW, 0)));
	assert_fails_unchanged(t, pt_map_frames(t, 0x10000, x->f, 3, prop(RW, 0)), PT_EEXIST);
	assert_refs(x, 0, 1);
	assert_refs(x, 1, 1);
	pt_phys_fail_nth_alloc(x->e->phys, 1);
	assert_fails_unchanged(t, pt_map_frames(t, 0x40000000, x->f, 2, prop(RW, 0)), PT_ENOMEM);
	pt_phys_fail_nth_alloc(x->e->phys, 0);
	assert_refs(x, 0, 1);
	assert_refs(x, 1, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_map_frames_refcounts),
		T(test_map_frames_never_huge),
		T(test_table_reference_outlives_caller),
		T(test_destroy_releases),
		T(test_protect_keeps_tracked),
		T(test_prot_none_tracked),
		T(test_bad_frames_refused),
		T(test_map_frames_eexist_enomem),
	};

	return cmocka_run_group_tests_name("unit_table_tracked", tests, NULL, NULL);
}
