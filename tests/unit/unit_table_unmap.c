/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_table_unmap - pt_unmap and pt_protect on the view (design §5):
 * splitting partly covered huge pages one level at a time, leaving the rest
 * with the same pa and prop; protect on empty ranges; giving page-table
 * memory back.  After OSTD's test_unmap / test_protect / huge-page split
 * tests.
 */
#include "unit.h"

/*
 * After splitting an identity-offset huge mapping [va0, va0+size) -> pa0
 * with prop p and removing or changing `hole` (one 4K page), every leaf
 * must still translate va -> pa0 + (va - va0) with prop p (except the
 * hole), and the leaf sizes must be: the largest that does not contain the
 * hole, level by level.
 */
static void assert_split_view(struct pt_table *t, uint64_t va0, uint64_t pa0,
			      uint64_t size, uint32_t flags, uint64_t hole,
			      bool hole_mapped, uint32_t hole_flags)
{
	struct u_list l = { 0 };
	uint64_t next = va0;
	size_t i;

	u_collect(t, va0, size, &l);
	for (i = 0; i < l.n; i++) {
		const struct pt_mapping *m = &l.m[i];
		/* Expected size at this va: the largest level whose aligned
		 * block holds m->va and not the hole (and fits in the huge
		 * page). */
		uint64_t want = SZ_4K, s;

		for (s = SZ_2M; s < size; s <<= 9)
			if ((m->va & ~(s - 1)) != (hole & ~(s - 1)))
				want = s;
		if (!hole_mapped && next == hole)
			next += SZ_4K;
		if (m->va != next)
			fail_msg("leaf %zu at %#llx, expected %#llx", i,
				 (unsigned long long)m->va, (unsigned long long)next);
		{
			uint32_t fl = m->va == hole ? hole_flags : flags;
			struct pt_mapping w = mapping(m->va, pa0 + (m->va - va0), want, fl,
						      PT_CACHE_WB, false);
			assert_mapping_eq(m, &w);
		}
		next = m->va + m->size;
	}
	if (!hole_mapped && next == hole)
		next += SZ_4K;
	assert_u64(next, va0 + size);
	u_list_free(&l);
}

/* One 4K page out of the middle of a 2M page. */
static void test_unmap_splits_2m(void **state)
{
	struct pt_table *t = T0(state);
	const uint64_t hole = SZ_2M + 0x100000;
	struct pt_table_stats s;

	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_1G, SZ_2M, prop(RW, 0)));
	assert_ok_checked(t, pt_unmap(t, hole, SZ_4K, NULL));
	assert_unmapped(t, hole);
	assert_split_view(t, SZ_2M, SZ_1G, SZ_2M, RW, hole, false, 0);
	assert_rc(pt_table_stats(t, &s), 0);
	assert_u64(s.mappings[1], 511);
	assert_u64(s.mappings[2], 0);
	assert_u64(s.mapped_bytes, SZ_2M - SZ_4K);
}

/* One 4K page out of a 1G page: 511 2M leaves + 511 4K leaves. */
static void test_unmap_splits_1g(void **state)
{
	struct pt_table *t = T0(state);
	const uint64_t hole = SZ_1G + 0x12345000;
	struct pt_table_stats s;

	assert_ok_checked(t, pt_map(t, SZ_1G, 4 * SZ_1G, SZ_1G, prop(RW | PT_U, 0)));
	assert_ok_checked(t, pt_unmap(t, hole, SZ_4K, NULL));
	assert_unmapped(t, hole);
	assert_split_view(t, SZ_1G, 4 * SZ_1G, SZ_1G, RW | PT_U, hole, false, 0);
	assert_rc(pt_table_stats(t, &s), 0);
	assert_u64(s.mappings[3], 0);
	assert_u64(s.mappings[2], 511);
	assert_u64(s.mappings[1], 511);
	assert_u64(s.nodes[2], 1);
	assert_u64(s.nodes[1], 1); /* only as deep as needed */
}

/* The same splits by protect: the page stays, with new flags. */
static void test_protect_splits_2m_and_1g(void **state)
{
	struct pt_table *t = T0(state);
	const uint64_t h2 = SZ_2M + 0x1ff000, h1 = 4 * SZ_1G + 0x3ff00000;
	struct pt_table_stats s;

	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_1G, SZ_2M, prop(RW, 0)));
	assert_ok_checked(t, pt_map(t, 4 * SZ_1G, 8 * SZ_1G, SZ_1G, prop(RW, 0)));
	assert_ok_checked(t, pt_protect(t, h2, SZ_4K, 0, PT_W, NULL));
	assert_ok_checked(t, pt_protect(t, h1, SZ_4K, PT_X, 0, NULL));
	assert_split_view(t, SZ_2M, SZ_1G, SZ_2M, RW, h2, true, PT_R);
	assert_split_view(t, 4 * SZ_1G, 8 * SZ_1G, SZ_1G, RW, h1, true, RWX);
	assert_rc(pt_table_stats(t, &s), 0);
	assert_u64(s.mappings[1], 512 + 512);
	assert_u64(s.mappings[2], 511);
	assert_u64(s.mappings[3], 0);
}

/* Cut both ends of a run of huge pages; whole ones in the middle go
 * without splitting. */
static void test_unmap_partial_both_ends(void **state)
{
	struct pt_table *t = T0(state);
	const uint64_t M = 0x100000; /* 1 MiB */
	struct pt_table_stats s;

	/* 2M leaves at 2M, 4M, 6M; unmap [3M, 7M). */
	assert_ok_checked(t, pt_map(t, 2 * M, SZ_1G, 6 * M, prop(RW, 0)));
	assert_ok_checked(t, pt_unmap(t, 3 * M, 4 * M, NULL));
	assert_query(t, 2 * M, mapping(2 * M, SZ_1G, SZ_4K, RW, 0, false));
	assert_query(t, 3 * M - 1, mapping(3 * M - SZ_4K, SZ_1G + M - SZ_4K, SZ_4K, RW, 0, false));
	assert_unmapped(t, 3 * M);
	assert_unmapped(t, 4 * M);
	assert_unmapped(t, 7 * M - SZ_4K);
	assert_query(t, 7 * M, mapping(7 * M, SZ_1G + 5 * M, SZ_4K, RW, 0, false));
	assert_query(t, 8 * M - 1, mapping(8 * M - SZ_4K, SZ_1G + 6 * M - SZ_4K, SZ_4K, RW, 0,
					   false));
	assert_unmapped(t, 8 * M);
	assert_rc(pt_table_stats(t, &s), 0);
	assert_u64(s.mappings[1], 256 + 256);
	assert_u64(s.mappings[2], 0);
	/* The leaf table of [4M, 6M) was never made: the leaf went whole. */
	assert_u64(s.nodes[1], 2);
}

/*
 * A range as long as one entry but not aligned to it spans two entries:
 * neither unmap nor map may take it for one leaf (the one-entry fast path
 * checks the alignment, not only the length).
 */
static void test_entry_long_unaligned_ranges(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_table_stats s;

	/* 2M leaves at 2M and 4M; unmap [2M + 4K, 4M + 4K). */
	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_1G, 2 * SZ_2M, prop(RW, 0)));
	assert_ok_checked(t, pt_unmap(t, SZ_2M + SZ_4K, SZ_2M, NULL));
	assert_query(t, SZ_2M, mapping(SZ_2M, SZ_1G, SZ_4K, RW, 0, false));
	assert_unmapped(t, SZ_2M + SZ_4K);
	assert_unmapped(t, 2 * SZ_2M);
	assert_query(t, 2 * SZ_2M + SZ_4K,
		     mapping(2 * SZ_2M + SZ_4K, SZ_1G + SZ_2M + SZ_4K, SZ_4K, RW, 0, false));
	assert_rc(pt_table_stats(t, &s), 0);
	assert_u64(s.mappings[2], 0);
	assert_u64(s.mappings[1], 1 + 511);
	/* Map it back, pa 2M-aligned but va not: 4K pages, no 2M leaf. */
	assert_ok_checked(t, pt_map(t, SZ_2M + SZ_4K, 2 * SZ_1G, SZ_2M, prop(RW, 0)));
	assert_query(t, SZ_2M + SZ_4K, mapping(SZ_2M + SZ_4K, 2 * SZ_1G, SZ_4K, RW, 0, false));
	assert_rc(pt_table_stats(t, &s), 0);
	assert_u64(s.mappings[2], 0);
	assert_u64(s.mappings[1], 1024);
}

/* Unmapping nothing, or protecting nothing, is success and a no-op that
 * allocates nothing (query/unmap/protect never allocate while walking). */
static void test_empty_ranges_are_noops(void **state)
{
	struct pt_table *t = T0(state);
	struct u_view v;

	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_1G, SZ_2M, prop(RW, 0)));
	u_view_take(t, &v);
	assert_ok_checked(t, pt_protect(t, 0, SZ_2M, PT_W, 0, NULL));
	assert_ok_checked(t, pt_protect(t, 2 * SZ_2M, SZ_1G, 0, PT_R, NULL));
	assert_ok_checked(t, pt_protect(t, 0x700000000000ull, SZ_512G, PT_X, 0, NULL));
	assert_ok_checked(t, pt_unmap(t, 0x700000000000ull, SZ_4K, NULL));
	assert_ok_checked(t, pt_unmap(t, 0, SZ_2M, NULL));
	assert_view_same(t, &v);
	assert_u64(u_free_frames(pt_table_phys(t)), v.free_frames);
	u_view_free(&v);
}

/* Protect normalizes: clearing R from RW keeps R (W implies R on x86);
 * clearing all access rights gives PROT_NONE, which is still a mapping. */
static void test_protect_normalizes(void **state)
{
	struct pt_table *t = T0(state);

	assert_ok_checked(t, pt_map(t, 0x1000, 0x5000, SZ_4K, prop(PT_R, 0)));
	assert_ok_checked(t, pt_protect(t, 0x1000, SZ_4K, PT_W | PT_U, 0, NULL));
	assert_query(t, 0x1000, mapping(0x1000, 0x5000, SZ_4K, RW | PT_U, 0, false));
	assert_ok_checked(t, pt_protect(t, 0x1000, SZ_4K, 0, PT_R, NULL));
	assert_query(t, 0x1000, mapping(0x1000, 0x5000, SZ_4K, RW | PT_U, 0, false));
	assert_ok_checked(t, pt_protect(t, 0x1000, SZ_4K, 0, RWX, NULL));
	assert_query(t, 0x1000, mapping(0x1000, 0x5000, SZ_4K, PT_U, 0, false));
	assert_ok_checked(t, pt_protect(t, 0x1000, SZ_4K, PT_X, 0, NULL));
	assert_query(t, 0x1000, mapping(0x1000, 0x5000, SZ_4K, PT_R | PT_X | PT_U, 0, false));
}

/* A protect range spanning mapped and unmapped parts changes only the
 * mappings, and the cache policy never moves. */
static void test_protect_sparse_range(void **state)
{
	struct pt_table *t = T0(state);

	assert_ok_checked(t, pt_map(t, 0x1000, 0x1000, SZ_4K, prop(PT_R, PT_CACHE_UC)));
	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_2M, SZ_2M, prop(PT_R, PT_CACHE_WT)));
	assert_ok_checked(t, pt_protect(t, 0, SZ_1G, PT_W, 0, NULL));
	assert_query(t, 0x1000, mapping(0x1000, 0x1000, SZ_4K, RW, PT_CACHE_UC, false));
	assert_query(t, SZ_2M, mapping(SZ_2M, SZ_2M, SZ_2M, RW, PT_CACHE_WT, false));
	assert_unmapped(t, 0x2000);
}

/* Unmapping a range that covers a node whole gives its memory back. */
static void test_unmap_frees_nodes(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_phys *phys = pt_table_phys(t);
	const uint64_t base = 0x7f0000000000ull; /* root slot 254, untouched */
	uint64_t free0 = u_free_frames(phys);
	struct pt_table_stats s0, s;

	assert_rc(pt_table_stats(t, &s0), 0);
	assert_ok_checked(t, pt_map(t, base + SZ_1G + 0x1000, 0x1000, SZ_4K, prop(RW, 0)));
	/* Three new nodes: levels 3, 2, 1. */
	assert_u64(u_free_frames(phys), free0 - 3);
	assert_ok_checked(t, pt_unmap(t, base, SZ_512G, NULL));
	assert_u64(u_free_frames(phys), free0);
	assert_rc(pt_table_stats(t, &s), 0);
	assert_memory_equal(s.nodes, s0.nodes, sizeof s.nodes);
}

/* A range covering a leaf table only: that node goes, its parents stay. */
static void test_unmap_frees_leaf_table_only(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_phys *phys = pt_table_phys(t);
	uint64_t free1;
	struct pt_table_stats s;

	assert_ok_checked(t, pt_map(t, SZ_2M + 0x5000, 0x1000, SZ_4K, prop(RW, 0)));
	assert_ok_checked(t, pt_map(t, 2 * SZ_2M, 0x1000, SZ_4K, prop(RW, 0)));
	free1 = u_free_frames(phys);
	assert_ok_checked(t, pt_unmap(t, SZ_2M, SZ_2M, NULL));
	assert_u64(u_free_frames(phys), free1 + 1);
	assert_rc(pt_table_stats(t, &s), 0);
	assert_u64(s.nodes[1], 1);
	assert_u64(s.nodes[2], 1);
	assert_query(t, 2 * SZ_2M, mapping(2 * SZ_2M, 0x1000, SZ_4K, RW, 0, false));
	/* Partial unmaps keep the emptied node for reuse. */
	assert_ok_checked(t, pt_unmap(t, 2 * SZ_2M, SZ_4K, NULL));
	assert_rc(pt_table_stats(t, &s), 0);
	assert_u64(s.nodes[1], 1);
	assert_u64(u_free_frames(phys), free1 + 1);
}

/* An empty node inside the unmapped range goes too ("even if already
 * empty"). */
static void test_unmap_frees_empty_node(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_phys *phys = pt_table_phys(t);
	uint64_t free1;
	struct pt_table_stats s;

	assert_ok_checked(t, pt_map(t, SZ_2M + 0x5000, 0x1000, SZ_4K, prop(RW, 0)));
	assert_ok_checked(t, pt_unmap(t, SZ_2M + 0x5000, SZ_4K, NULL));
	free1 = u_free_frames(phys);
	assert_ok_checked(t, pt_unmap(t, 0, 4 * SZ_2M, NULL));
	assert_u64(u_free_frames(phys), free1 + 1);
	assert_rc(pt_table_stats(t, &s), 0);
	assert_u64(s.nodes[1], 0);
}

/* Out of memory while splitting: nothing changes. */
static void test_split_enomem(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_phys *phys = pt_table_phys(t);
	const uint64_t hole = SZ_1G + 0x12345000;
	uint64_t n;

	assert_ok_checked(t, pt_map(t, SZ_1G, 4 * SZ_1G, SZ_1G, prop(RW, 0)));
	for (n = 1; n <= 2; n++) {
		pt_phys_fail_nth_alloc(phys, n);
		assert_fails_unchanged(t, pt_unmap(t, hole, SZ_4K, NULL), PT_ENOMEM);
		pt_phys_fail_nth_alloc(phys, n);
		assert_fails_unchanged(t, pt_protect(t, hole, SZ_4K, 0, PT_W, NULL), PT_ENOMEM);
		pt_phys_fail_nth_alloc(phys, 0);
	}
	assert_query(t, hole, mapping(SZ_1G, 4 * SZ_1G, SZ_1G, RW, 0, false));
	/* A split needs exactly two nodes here. */
	pt_phys_fail_nth_alloc(phys, 3);
	assert_ok_checked(t, pt_unmap(t, hole, SZ_4K, NULL));
	pt_phys_fail_nth_alloc(phys, 0);
	assert_unmapped(t, hole);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, u_setup_user, u_teardown)
	const struct CMUnitTest tests[] = {
		T(test_unmap_splits_2m),
		T(test_unmap_splits_1g),
		T(test_protect_splits_2m_and_1g),
		T(test_unmap_partial_both_ends),
		T(test_entry_long_unaligned_ranges),
		T(test_empty_ranges_are_noops),
		T(test_protect_normalizes),
		T(test_protect_sparse_range),
		T(test_unmap_frees_nodes),
		T(test_unmap_frees_leaf_table_only),
		T(test_unmap_frees_empty_node),
		T(test_split_enomem),
	};

	return cmocka_run_group_tests_name("unit_table_unmap", tests, NULL, NULL);
}
