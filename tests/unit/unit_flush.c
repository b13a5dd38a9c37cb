/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_flush - TLB flush batches (flush.h, design §5 "TLB and freeing").
 *
 * What matters for safety is ordering: nothing is released before the
 * invalidation that makes it unreachable, and nothing is lost when a full
 * batch flushes early.  What matters for speed is the shape of the
 * callback's input: merged ranges, "everything" past a threshold.
 */
#include "unit.h"

#define ARENA (32ull << 20)
#define NFR 300 /* > PT_FLUSH_MAX_FRAMES */

struct fix {
	struct u_env *e;
	struct pt_table *t;
	struct u_inval rec;
	uint64_t fr[NFR];
};

static int setup(void **state)
{
	struct fix *x = calloc(1, sizeof *x);
	struct pt_table_opts o;
	size_t i;

	assert_non_null(x);
	x->e = u_env_new(ARENA);
	o = u_opts_inval(&x->rec);
	x->t = u_env_table_opts(x->e, PT_SPACE_USER, &o);
	for (i = 0; i < NFR; i++)
		assert_rc(pt_frame_alloc(x->e->phys, &x->fr[i]), 0);
	x->rec.phys = x->e->phys;
	x->rec.root_pa = pt_table_root(x->t);
	u_inval_reset(&x->rec);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fix *x = *state;

	/* Destroying the table may invalidate: stop sampling frames. */
	x->rec.nwatch = 0;
	u_env_free(x->e); /* the arena goes with phys, frames included */
	free(x);
	return 0;
}

static void watch(struct fix *x, size_t n)
{
	x->rec.watch = x->fr;
	x->rec.nwatch = n;
	u_inval_reset(&x->rec);
}

static void test_finish_errors(void **state)
{
	struct fix *x = *state;
	struct pt_flush f;

	assert_rc(pt_flush_finish(NULL), PT_EINVAL);
	memset(&f, 0, sizeof f);
	assert_rc(pt_flush_finish(&f), PT_EINVAL);
	/* An empty batch finishes fine. */
	pt_flush_init(&f, x->t);
	assert_rc(pt_flush_finish(&f), 0);
	CHECK(x->t);
	assert_false(x->rec.root_mismatch);
}

/*
 * A batch of another table is PT_EINVAL, which comes before PT_EALIGN in
 * the documented order (design §5): an unaligned range with a foreign
 * batch says EINVAL, the same range with no batch EALIGN.
 */
static void test_foreign_batch_error_order(void **state)
{
	struct fix *x = *state;
	struct pt_table *other = u_env_table(x->e, PT_SPACE_USER);
	struct pt_flush f;

	assert_rc(pt_flush_init(&f, other), 0);
	assert_rc(pt_unmap(x->t, 0x1001, SZ_4K, &f), PT_EINVAL);
	assert_rc(pt_protect(x->t, 0x1001, SZ_4K, 0, PT_W, &f), PT_EINVAL);
	assert_rc(pt_unmap(x->t, 0x1001, SZ_4K, NULL), PT_EALIGN);
	assert_rc(pt_protect(x->t, 0x1001, SZ_4K, 0, PT_W, NULL), PT_EALIGN);
	/* An unbound batch, and a NULL one to bind. */
	assert_rc(pt_flush_init(&f, NULL), PT_EINVAL);
	assert_rc(pt_flush_init(NULL, x->t), PT_EINVAL);
	assert_rc(pt_flush_finish(&f), 0); /* still the other table's, empty */
	CHECK(x->t);
}

/* Three adjacent pages unmapped by three calls: one range. */
static void test_adjacent_ranges_merged(void **state)
{
	struct fix *x = *state;
	struct pt_table *t = x->t;
	struct pt_flush f;
	uint64_t i;

	assert_ok_checked(t, pt_map(t, 0x10000, 0x10000, 3 * SZ_4K, prop(RW, 0)));
	u_inval_reset(&x->rec);
	pt_flush_init(&f, t);
	for (i = 0; i < 3; i++)
		assert_ok_checked(t, pt_unmap(t, 0x10000 + i * SZ_4K, SZ_4K, &f));
	assert_int_equal(x->rec.calls, 0);
	assert_rc(pt_flush_finish(&f), 0);
	CHECK(t);
	assert_int_equal(x->rec.calls, 1);
	assert_false(x->rec.all);
	assert_false(x->rec.root_mismatch);
	assert_int_equal(x->rec.nr, 1);
	assert_u64(x->rec.r[0].va, 0x10000);
	assert_u64(x->rec.r[0].len, 3 * SZ_4K);
}

/* Up to the threshold: ranges.  One page more: everything. */
static void test_threshold(void **state)
{
	struct fix *x = *state;
	struct pt_table *t = x->t;
	const uint64_t n = PT_FLUSH_ALL_THRESHOLD_PAGES;
	struct pt_flush f;

	/* pa off by 4K from va's 2M alignment: 4K leaves only. */
	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_2M + SZ_4K, (n + 1) * SZ_4K, prop(RW, 0)));
	assert_ok_checked(t, pt_map(t, 2 * SZ_2M, SZ_4K, n * SZ_4K, prop(RW, 0)));

	u_inval_reset(&x->rec);
	pt_flush_init(&f, t);
	assert_ok_checked(t, pt_unmap(t, 2 * SZ_2M, n * SZ_4K, &f));
	assert_rc(pt_flush_finish(&f), 0);
	CHECK(t);
	assert_int_equal(x->rec.calls, 1);
	assert_false(x->rec.all);
	assert_true(u_inval_covers(&x->rec, 2 * SZ_2M, n * SZ_4K));

	u_inval_reset(&x->rec);
	pt_flush_init(&f, t);
	assert_ok_checked(t, pt_unmap(t, SZ_2M, (n + 1) * SZ_4K, &f));
	assert_rc(pt_flush_finish(&f), 0);
	CHECK(t);
	assert_int_equal(x->rec.calls, 1);
	assert_true(x->rec.all);
}

/* More disjoint ranges than a batch holds: the batch flushes early, and
 * every page is still invalidated and every frame released exactly once. */
static void test_many_ranges_flush_early(void **state)
{
	struct fix *x = *state;
	struct pt_table *t = x->t;
	const uint64_t n = PT_FLUSH_MAX_RANGES + 1;
	struct pt_flush f;
	uint64_t i;

	for (i = 0; i < n; i++)
		assert_ok_checked(t, pt_map_frames(t, 0x100000 + 2 * i * SZ_4K, &x->fr[i], 1,
						   prop(RW, 0)));
	watch(x, n);
	pt_flush_init(&f, t);
	for (i = 0; i < n; i++) {
		assert_ok_checked(t, pt_unmap(t, 0x100000 + 2 * i * SZ_4K, SZ_4K, &f));
		/* A batch with room must not flush. */
		if (i + 1 < n)
			assert_int_equal(x->rec.calls, 0);
	}
	assert_true(x->rec.calls >= 1);
	/* At the early flush, nothing had been released yet. */
	assert_u64(x->rec.watch_min_at_call, 2);
	assert_rc(pt_flush_finish(&f), 0);
	CHECK(t);
	assert_false(x->rec.overflow);
	for (i = 0; i < n; i++) {
		if (!u_inval_covers(&x->rec, 0x100000 + 2 * i * SZ_4K, SZ_4K))
			fail_msg("page %llu was never invalidated", (unsigned long long)i);
		assert_u64(pt_frame_refcount(x->e->phys, x->fr[i]), 1);
	}
}

/* More tracked frames than a batch holds: early flush, none lost. */
static void test_many_frames_flush_early(void **state)
{
	struct fix *x = *state;
	struct pt_table *t = x->t;
	struct pt_flush f;
	size_t i;

	assert_ok_checked(t, pt_map_frames(t, SZ_1G, x->fr, NFR, prop(RW, 0)));
	for (i = 0; i < NFR; i++)
		assert_u64(pt_frame_refcount(x->e->phys, x->fr[i]), 2);
	watch(x, NFR);
	pt_flush_init(&f, t);
	assert_ok_checked(t, pt_unmap(t, SZ_1G, NFR * SZ_4K, &f));
	/* The batch filled up during the call: it flushed early. */
	assert_true(x->rec.calls >= 1);
	assert_rc(pt_flush_finish(&f), 0);
	CHECK(t);
	assert_true(u_inval_covers(&x->rec, SZ_1G, NFR * SZ_4K));
	for (i = 0; i < NFR; i++)
		assert_u64(pt_frame_refcount(x->e->phys, x->fr[i]), 1);
}

/* Detaching a node sets nodes_removed, and the node is not freed before
 * the invalidation; a partial unmap does not set it. */
static void test_nodes_removed(void **state)
{
	struct fix *x = *state;
	struct pt_table *t = x->t;
	struct pt_flush f;
	uint64_t free1;

	assert_ok_checked(t, pt_map(t, SZ_2M + 0x5000, 0x5000, 2 * SZ_4K, prop(RW, 0)));
	u_inval_reset(&x->rec);
	pt_flush_init(&f, t);
	assert_ok_checked(t, pt_unmap(t, SZ_2M + 0x5000, SZ_4K, &f));
	assert_rc(pt_flush_finish(&f), 0);
	CHECK(t);
	assert_true(x->rec.calls >= 1);
	assert_false(x->rec.nodes_removed);
	assert_true(u_inval_covers(&x->rec, SZ_2M + 0x5000, SZ_4K));

	u_inval_reset(&x->rec);
	free1 = u_free_frames(x->e->phys);
	pt_flush_init(&f, t);
	assert_ok_checked(t, pt_unmap(t, SZ_2M, SZ_2M, &f));
	assert_int_equal(x->rec.calls, 0);
	assert_u64(u_free_frames(x->e->phys), free1);
	assert_rc(pt_flush_finish(&f), 0);
	CHECK(t);
	assert_true(x->rec.calls >= 1);
	assert_true(x->rec.nodes_removed);
	assert_true(u_inval_covers(&x->rec, SZ_2M + 0x6000, SZ_4K));
}

/* Without a batch, invalidation and release happen before return, in
 * that order. */
static void test_null_batch(void **state)
{
	struct fix *x = *state;
	struct pt_table *t = x->t;

	assert_ok_checked(t, pt_map_frames(t, 0x10000, x->fr, 2, prop(RW, 0)));
	watch(x, 2);
	assert_ok_checked(t, pt_unmap(t, 0x10000, 2 * SZ_4K, NULL));
	assert_true(x->rec.calls >= 1);
	assert_true(u_inval_covers(&x->rec, 0x10000, 2 * SZ_4K));
	assert_u64(x->rec.watch_min_at_call, 2);
	assert_u64(pt_frame_refcount(x->e->phys, x->fr[0]), 1);
	assert_u64(pt_frame_refcount(x->e->phys, x->fr[1]), 1);
}

/* Protect records its range, for upgrades too (design §5). */
static void test_protect_records(void **state)
{
	struct fix *x = *state;
	struct pt_table *t = x->t;
	struct pt_flush f;

	assert_ok_checked(t, pt_map(t, 0x10000, 0x10000, 2 * SZ_4K, prop(PT_R, 0)));
	u_inval_reset(&x->rec);
	pt_flush_init(&f, t);
	assert_ok_checked(t, pt_protect(t, 0x10000, 2 * SZ_4K, PT_W, 0, &f));
	assert_int_equal(x->rec.calls, 0);
	assert_rc(pt_flush_finish(&f), 0);
	CHECK(t);
	assert_true(x->rec.calls >= 1);
	assert_true(u_inval_covers(&x->rec, 0x10000, 2 * SZ_4K));
	u_inval_reset(&x->rec);
	assert_ok_checked(t, pt_protect(t, 0x10000, SZ_4K, 0, PT_W, NULL));
	assert_true(u_inval_covers(&x->rec, 0x10000, SZ_4K));
}

/* What the last invalidation said of the regime. */
struct regime {
	unsigned stage, calls;
	uint64_t tag;
};

static void record_regime(void *arg, const struct pt_flush_info *info)
{
	struct regime *r = arg;

	r->stage = info->stage;
	r->tag = info->tag;
	r->calls++;
}

/* pt_flush_info names the stage (the format's) and the caller's tag, from
 * pt_table_opts.tag or pt_table_set_tag(); a user table starts with its
 * kernel table's. */
static void test_stage_and_tag(void **state)
{
	struct fix *x = *state;
	struct regime r = { 0 };
	struct pt_table_opts o = { .invalidate = record_regime, .invalidate_arg = &r,
				   .tag = 0x2a };
	struct pt_table *s1, *s2, *k, *u;

	assert_rc(pt_table_create_opts(x->e->phys, &pt_format_x86_64, PT_SPACE_USER, &o, &s1), 0);
	assert_ok_checked(s1, pt_map(s1, 0x10000, 0x10000, SZ_4K, prop(RW, 0)));
	assert_ok_checked(s1, pt_unmap(s1, 0x10000, SZ_4K, NULL));
	assert_true(r.calls >= 1);
	assert_int_equal(r.stage, 1);
	assert_u64(r.tag, 0x2a);

	o.tag = 0;
	assert_rc(pt_table_create_opts(x->e->phys, &pt_format_riscv_sv39x4, PT_SPACE_USER, &o,
				       &s2), 0);
	assert_rc(pt_table_set_tag(s2, 0x5), 0);
	assert_rc(pt_table_set_tag(NULL, 0x5), PT_EINVAL);
	r.calls = 0;
	assert_ok_checked(s2, pt_map(s2, 1ull << 40, 0x10000, SZ_4K, prop(RW, 0)));
	assert_ok_checked(s2, pt_unmap(s2, 1ull << 40, SZ_4K, NULL));
	assert_true(r.calls >= 1);
	assert_int_equal(r.stage, 2);
	assert_u64(r.tag, 0x5);

	o.tag = 0x77;
	assert_rc(pt_table_create_opts(x->e->phys, &pt_format_riscv_sv39, PT_SPACE_KERNEL, &o, &k),
		  0);
	assert_rc(pt_table_create_user(k, &u), 0);
	r.calls = 0;
	assert_ok_checked(u, pt_map(u, 0x10000, 0x10000, SZ_4K, prop(RW, 0)));
	assert_ok_checked(u, pt_unmap(u, 0x10000, SZ_4K, NULL));
	assert_true(r.calls >= 1);
	assert_u64(r.tag, 0x77);
	assert_int_equal(r.stage, 1);
	assert_rc(pt_table_destroy(u), 0);
	assert_rc(pt_table_destroy(k), 0);
	assert_rc(pt_table_destroy(s2), 0);
	assert_rc(pt_table_destroy(s1), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_finish_errors),
		T(test_foreign_batch_error_order),
		T(test_adjacent_ranges_merged),
		T(test_threshold),
		T(test_many_ranges_flush_early),
		T(test_many_frames_flush_early),
		T(test_nodes_removed),
		T(test_null_batch),
		T(test_protect_records),
		T(test_stage_and_tag),
	};

	return cmocka_run_group_tests_name("unit_flush", tests, NULL, NULL);
}
