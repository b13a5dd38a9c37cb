/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_cursor_vm - the cursor forms of issue #13's operations on every
 * format: pt_cursor_query_marker (a fault handler reads a marker and maps
 * over it under one cursor), pt_cursor_mark (markers from the current
 * address on, nothing changed on any error) and pt_cursor_harvest_next
 * (a locked range harvested window by window, bit for bit what
 * pt_harvest reports and clears over the same windows).
 */
#include "unit.h"

#include <ptkit/cursor.h>

#define ARENA (16ull << 20)

static struct pt_table *new_table(struct u_env *e, const struct pt_format *f)
{
	struct pt_table *t = NULL;

	assert_rc(pt_table_create(e->phys, f, PT_SPACE_USER, &t), 0);
	return u_env_push(e, t);
}

/* ---- query_marker: the swap-in of a fault handler ---- */

static void cursor_fault(const struct pt_format *f)
{
	struct u_env *e = u_env_new(ARENA);
	struct pt_table *t = new_table(e, f);
	uint64_t v, va = SZ_2M - 2 * SZ_4K;
	struct pt_mapping in = mapping(va, 0x7000, SZ_4K, RW, 0, false);
	struct pt_cursor c, closed;

	memset(&closed, 0, sizeof closed);
	in.prop = u_norm(t, in.prop, 0);
	assert_ok_checked(t, pt_mark(t, va, 3 * SZ_4K, 0x55));
	assert_rc(pt_cursor_open(&c, t, va, 4 * SZ_4K), 0);
	/* The fault: a marker, so swap the page in over it. */
	assert_rc(pt_cursor_query_marker(&c, &v), 0);
	assert_u64(v, 0x55);
	assert_rc(pt_cursor_map(&c, &in), 0);
	assert_rc(pt_cursor_jump(&c, va), 0);
	assert_rc(pt_cursor_query_marker(&c, &v), PT_EEXIST);
	/* The next page keeps its marker, the last has none. */
	assert_rc(pt_cursor_jump(&c, va + SZ_4K), 0);
	assert_rc(pt_cursor_query_marker(&c, &v), 0);
	assert_u64(v, 0x55);
	assert_rc(pt_cursor_jump(&c, va + 3 * SZ_4K), 0);
	assert_rc(pt_cursor_query_marker(&c, &v), PT_ENOENT);
	assert_rc(pt_cursor_query_marker(&c, NULL), PT_EINVAL);
	assert_rc(pt_cursor_query_marker(NULL, &v), PT_EINVAL);
	assert_rc(pt_cursor_query_marker(&closed, &v), PT_EINVAL);
	/* At its end: nothing there. */
	assert_rc(pt_cursor_map(&c, &(struct pt_mapping){ .va = va + 3 * SZ_4K, .pa = 0x9000,
							   .size = SZ_4K, .prop = prop(RW, 0) }),
		  0);
	assert_rc(pt_cursor_query_marker(&c, &v), PT_ENOENT);
	pt_cursor_close(&c);
	CHECK(t);
	assert_query(t, va, in);
	assert_rc(pt_query_marker(t, va + SZ_4K, &v), 0);
	assert_u64(v, 0x55);
	assert_rc(pt_query_marker(t, va + 2 * SZ_4K, &v), 0);
	u_env_free(e);
}

/* ---- mark ---- */

/* Every error leaves the cursor where it was and the table as it was. */
static void cursor_mark_errors(const struct pt_format *f, struct u_env *e, struct pt_table *t,
			       uint64_t va)
{
	struct u_view before;
	struct pt_cursor c;
	uint64_t at = va + 5 * SZ_4K;

	u_view_take(t, &before);
	assert_rc(pt_cursor_open(&c, t, va, 8 * SZ_4K), 0);
	assert_rc(pt_cursor_jump(&c, at), 0);
	assert_rc(pt_cursor_mark(&c, SZ_4K, 1ull << f->marker_bits), PT_EINVAL);
	assert_rc(pt_cursor_mark(&c, 0, 1), PT_EINVAL);
	assert_rc(pt_cursor_mark(NULL, SZ_4K, 1), PT_EINVAL);
	assert_rc(pt_cursor_mark(&c, 0x800, 1), PT_EALIGN);
	assert_rc(pt_cursor_mark(&c, 4 * SZ_4K, 1), PT_ERANGE); /* past the cursor's end */
	assert_rc(pt_cursor_mark(&c, 2 * SZ_4K, 1), PT_EEXIST); /* the mapping at va + 6p */
	assert_u64(pt_cursor_va(&c), at);
	pt_cursor_close(&c);
	assert_view_same(t, &before);
	u_view_free(&before);

	/* No frame for the new leaf table: PT_ENOMEM, nothing marked. */
	assert_rc(pt_cursor_open(&c, t, 5 * SZ_1G, SZ_2M), 0);
	pt_phys_fail_nth_alloc(e->phys, 1);
	assert_rc(pt_cursor_mark(&c, SZ_4K, 3), PT_ENOMEM);
	pt_phys_fail_nth_alloc(e->phys, 0);
	assert_u64(pt_cursor_va(&c), 5 * SZ_1G);
	pt_cursor_close(&c);
	assert_rc(pt_query_marker(t, 5 * SZ_1G, &(uint64_t){ 0 }), PT_ENOENT);
	CHECK(t);
}

static void cursor_mark(const struct pt_format *f)
{
	struct u_env *e = u_env_new(ARENA);
	struct pt_table *t = new_table(e, f);
	uint64_t v, va = SZ_2M - 3 * SZ_4K; /* 8 pages across two leaf tables */
	struct pt_mapping m6 = mapping(va + 6 * SZ_4K, 0x6000, SZ_4K, RW, 0, false);
	struct pt_cursor c;

	assert_ok_checked(t, pt_map(t, m6.va, m6.pa, SZ_4K, m6.prop));
	m6.prop = u_norm(t, m6.prop, 0);
	assert_rc(pt_cursor_open(&c, t, va, 8 * SZ_4K), 0);
	assert_rc(pt_cursor_mark(&c, 2 * SZ_4K, 7), 0);
	assert_u64(pt_cursor_va(&c), va + 2 * SZ_4K);
	assert_rc(pt_cursor_mark(&c, 3 * SZ_4K, 8), 0); /* makes the second leaf table */
	assert_u64(pt_cursor_va(&c), va + 5 * SZ_4K);
	assert_rc(pt_cursor_jump(&c, va + SZ_4K), 0);
	assert_rc(pt_cursor_query_marker(&c, &v), 0);
	assert_u64(v, 7);
	/* Over markers: replaced. */
	assert_rc(pt_cursor_mark(&c, 2 * SZ_4K, 9), 0);
	/* To the cursor's end: then it is at its end. */
	assert_rc(pt_cursor_jump(&c, va + 7 * SZ_4K), 0);
	assert_rc(pt_cursor_mark(&c, SZ_4K, 10), 0);
	assert_rc(pt_cursor_mark(&c, SZ_4K, 10), PT_EINVAL);
	pt_cursor_close(&c);
	CHECK(t);
	static const uint64_t want[8] = { 7, 9, 9, 8, 8, 0, 0, 10 };
	for (int i = 0; i < 8; i++) {
		int rc = pt_query_marker(t, va + i * SZ_4K, &v);
		if (i == 6) {
			assert_rc(rc, PT_EEXIST);
		} else if (want[i] == 0) {
			assert_rc(rc, PT_ENOENT);
		} else {
			assert_rc(rc, 0);
			assert_u64(v, want[i]);
		}
	}
	assert_query(t, m6.va, m6);
	cursor_mark_errors(f, e, t, va);
	u_env_free(e);
}

/* ---- harvest_next ---- */

/* 4K pages dirty and clean, then a 2M leaf dirty: in
 * [SZ_2M - 8p, 2 * SZ_2M). */
static void fill_dirty(struct pt_table *t)
{
	for (int k = 0; k < 8; k++)
		assert_ok_checked(t, pt_map(t, SZ_2M - (8 - k) * SZ_4K, 0x100000 + k * SZ_4K,
					    SZ_4K, prop(RW | (k % 3 ? PT_D : 0) | PT_A, 0)));
	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_1G, SZ_2M, prop(RW | PT_D, 0)));
}

static bool bit(const uint64_t *bm, uint64_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

/* The cursor's window of `len` (from where it is) harvested in t, the same
 * window by pt_harvest in ref: the same bits, past the window zero.
 * Returns the bits set. */
static uint64_t window_same(struct pt_cursor *c, struct pt_table *ref, uint64_t len,
			    unsigned what)
{
	uint64_t set = 0;
	uint64_t va = pt_cursor_va(c), bm[9], want[9], pages;

	memset(bm, 0xa5, sizeof bm);
	assert_rc(pt_cursor_harvest_next(c, len, what, bm, NULL), 0);
	pages = (pt_cursor_va(c) - va) / SZ_4K;
	assert_rc(pt_harvest(ref, va, pages * SZ_4K, what, want, NULL), 0);
	for (uint64_t i = 0; i < pages; i++) {
		assert_int_equal(bit(bm, i), bit(want, i));
		set += bit(bm, i);
	}
	for (uint64_t i = pages; i < (pages + 63) / 64 * 64; i++)
		assert_false(bit(bm, i));
	return set;
}

static void cursor_harvest_errors(struct pt_table *t, struct pt_table *other)
{
	struct pt_flush foreign;
	struct pt_cursor c;
	uint64_t bm[1];

	assert_rc(pt_flush_init(&foreign, other), 0);
	assert_rc(pt_cursor_open(&c, t, SZ_2M - 8 * SZ_4K, 8 * SZ_4K), 0);
	assert_rc(pt_cursor_harvest_next(&c, SZ_4K, PT_HARVEST_DIRTY, NULL, NULL), PT_EINVAL);
	assert_rc(pt_cursor_harvest_next(&c, SZ_4K, PT_HARVEST_CLEAR, bm, NULL), PT_EINVAL);
	assert_rc(pt_cursor_harvest_next(&c, SZ_4K, 1u << 7 | PT_HARVEST_DIRTY, bm, NULL),
		  PT_EINVAL);
	assert_rc(pt_cursor_harvest_next(&c, 0, PT_HARVEST_DIRTY, bm, NULL), PT_EINVAL);
	assert_rc(pt_cursor_harvest_next(NULL, SZ_4K, PT_HARVEST_DIRTY, bm, NULL), PT_EINVAL);
	assert_rc(pt_cursor_harvest_next(&c, SZ_4K, PT_HARVEST_DIRTY, bm, &foreign), PT_EINVAL);
	/* A window of less than a page: none whole. */
	assert_rc(pt_cursor_harvest_next(&c, 0x800, PT_HARVEST_DIRTY, bm, NULL), PT_ENOENT);
	assert_u64(pt_cursor_va(&c), SZ_2M - 8 * SZ_4K);
	assert_rc(pt_cursor_harvest_next(&c, UINT64_MAX, PT_HARVEST_DIRTY, bm, NULL), 0);
	assert_rc(pt_cursor_harvest_next(&c, SZ_4K, PT_HARVEST_DIRTY, bm, NULL), PT_ENOENT);
	pt_cursor_close(&c);
	pt_flush_finish(&foreign);
}

static void cursor_harvest(const struct pt_format *f)
{
	struct u_env *e = u_env_new(ARENA);
	struct pt_table *t = new_table(e, f), *ref = new_table(e, f);
	uint64_t va = SZ_2M - 8 * SZ_4K, len = 8 * SZ_4K + SZ_2M;
	const unsigned clear = PT_HARVEST_DIRTY | PT_HARVEST_ACCESSED | PT_HARVEST_CLEAR;
	struct pt_cursor c;
	struct u_view want;

	fill_dirty(t);
	fill_dirty(ref);
	assert_rc(pt_cursor_open(&c, t, va, len), 0);
	/* Pages 1 and 2 dirty (or writable where D is not kept). */
	assert_true(window_same(&c, ref, 3 * SZ_4K, PT_HARVEST_DIRTY) >= 2);
	/* Cutting the 2M leaf: all its pages in the window, cleared none. */
	assert_true(window_same(&c, ref, 5 * SZ_4K + SZ_2M / 2, clear) >= 256);
	assert_rc(pt_cursor_jump(&c, va), 0);
	window_same(&c, ref, 8 * SZ_4K + 0x800, clear);                    /* whole pages */
	assert_u64(window_same(&c, ref, UINT64_MAX, clear), 512);          /* the 2M leaf */
	assert_u64(pt_cursor_va(&c), va + len);
	pt_cursor_close(&c);
	CHECK(t);
	u_view_take(ref, &want);
	assert_view_same(t, &want);
	u_view_free(&want);
	cursor_harvest_errors(t, ref);
	u_env_free(e);
}

U_PER_FORMAT(cursor_fault)
U_PER_FORMAT(cursor_mark)
U_PER_FORMAT(cursor_harvest)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cursor_fault),
		cmocka_unit_test(test_cursor_mark),
		cmocka_unit_test(test_cursor_harvest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
