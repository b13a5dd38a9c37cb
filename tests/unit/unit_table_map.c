/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_table_map - pt_map's meaning on the view (design §5): page-size
 * choice, properties, refusals that change nothing, empty nodes in the way
 * and all-or-nothing on out-of-memory.  After the OSTD tests test_map,
 * test_map_over_empty_node (the "remove empty node" case), test_mixed_page
 * sizes and test_protect/overlap cases.
 */
#include "unit.h"

/* Every leaf overlapping [va, va+len) must be exactly want[0..n). */
#define assert_leaves(t, va, len, want, n) \
	u_assert_leaves((t), (va), (len), (want), (n), __FILE__, __LINE__)
static void u_assert_leaves(struct pt_table *t, uint64_t va, uint64_t len,
			    const struct pt_mapping *want, size_t n,
			    const char *file, int line)
{
	struct u_list l = { 0 };
	size_t i;

	u_collect_at(t, va, len, &l, file, line);
	if (l.n != n) {
		size_t got = l.n;
		u_list_free(&l);
		U_FAIL(file, line, "%zu leaves, expected %zu", got, n);
	}
	for (i = 0; i < n; i++)
		u_assert_mapping_eq(&l.m[i], &want[i], file, line);
	u_list_free(&l);
	/* pt_query agrees with for_each for each leaf, at its first and last
	 * byte. */
	for (i = 0; i < n; i++) {
		u_assert_query(t, want[i].va, want[i], file, line);
		u_assert_query(t, want[i].va + want[i].size - 1, want[i], file, line);
	}
}

/* Every property the format accepts comes back from pt_query normalized;
 * every one it refuses is PT_EINVAL with nothing mapped. */
static void roundtrip_props(struct pt_table *t, uint32_t feat)
{
	const struct pt_format *f = pt_table_format(t);
	const uint32_t bits[] = { PT_R, PT_W, PT_X, PT_U, PT_G, PT_A, PT_D,
				  PT_SW0, PT_SW1, PT_SW2, PT_SW3 };
	unsigned nbits = 7 + f->nr_sw_bits, i;
	uint64_t va = 0x10000000; /* 256 MiB: away from anything else */
	uint32_t s, cache;

	for (s = 0; s < (1u << nbits); s++) {
		uint32_t flags = 0;

		for (i = 0; i < nbits; i++)
			if (s & (1u << i))
				flags |= bits[i];
		for (cache = 0; cache < PT_CACHE_COUNT; cache++) {
			struct pt_prop p = prop(flags, cache), n;
			uint64_t pa = va + 0x1000000000ull; /* distinct from va */

			if (f->normalize(p, feat, &n) != 0) {
				assert_fails_unchanged(t, pt_map(t, va, pa, SZ_4K, p), PT_EINVAL);
				continue;
			}
			assert_ok_checked(t, pt_map(t, va, pa, SZ_4K, p));
			assert_query(t, va, mapping(va, pa, SZ_4K, n.flags, n.cache, false));
			va += SZ_4K;
		}
	}
}

static void test_prop_roundtrip(void **state)
{
	roundtrip_props(T0(state), 0);
}

/* With the Linux PAT option on the table, WC becomes expressible. */
static void test_prop_roundtrip_pat_wc(void **state)
{
	struct u_env *e = *state;
	struct pt_table_opts o;
	struct pt_table *t;

	memset(&o, 0, sizeof o);
	o.features = PT_FEAT_X86_PAT_WC;
	t = u_env_table_opts(e, PT_SPACE_USER, &o);
	roundtrip_props(t, PT_FEAT_X86_PAT_WC);
	assert_query(t, 0x10000000, mapping(0x10000000, 0x1010000000ull, SZ_4K, 0,
					    PT_CACHE_WB, false));
}

/* Overlaps are PT_EEXIST and map nothing, not even the free part. */
static void test_overlap_refused(void **state)
{
	struct pt_table *t = T0(state);
	const struct pt_prop p = prop(RW, PT_CACHE_WB);

	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_1G, SZ_2M, p));
	assert_ok_checked(t, pt_map(t, 0x1000, 0x1000, SZ_4K, p));
	/* The last page overlaps the huge leaf, the next one is free. */
	assert_fails_unchanged(t, pt_map(t, 2 * SZ_2M - SZ_4K, 0, 2 * SZ_4K, p), PT_EEXIST);
	assert_unmapped(t, 2 * SZ_2M);
	/* Ending inside, starting before. */
	assert_fails_unchanged(t, pt_map(t, 0x100000, 0, 0x101000, p), PT_EEXIST);
	/* Wholly inside a huge leaf. */
	assert_fails_unchanged(t, pt_map(t, SZ_2M + 0x5000, 0, SZ_4K, p), PT_EEXIST);
	/* A huge page over a 4K mapping. */
	assert_fails_unchanged(t, pt_map(t, 0, 0, SZ_2M, p), PT_EEXIST);
	assert_unmapped(t, 0);
	/* A 1G page over both. */
	assert_fails_unchanged(t, pt_map(t, 0, 0, SZ_1G, p), PT_EEXIST);
	/* The same mapping again: never silently rewritten. */
	assert_fails_unchanged(t, pt_map(t, 0x1000, 0x1000, SZ_4K, p), PT_EEXIST);
	/* EEXIST comes before ENOMEM (design §5 order). */
	pt_phys_fail_nth_alloc(pt_table_phys(t), 1);
	/* [2M, 2G): overlaps at its start and would need new nodes later. */
	assert_fails_unchanged(t, pt_map(t, SZ_2M, 0, 2 * SZ_1G - SZ_2M, p), PT_EEXIST);
	assert_fails_unchanged(t, pt_map(t, 0x1000, 0, 0x1000, p), PT_EEXIST);
	pt_phys_fail_nth_alloc(pt_table_phys(t), 0);
	assert_query(t, SZ_2M, mapping(SZ_2M, SZ_1G, SZ_2M, RW, 0, false));
	assert_query(t, 0x1000, mapping(0x1000, 0x1000, SZ_4K, RW, 0, false));
}

/* The page size follows the alignment of va AND pa (design §5). */
static void test_page_size_choice(void **state)
{
	struct pt_table *t = T0(state);
	const struct pt_prop p = prop(PT_R, PT_CACHE_WB);
	struct u_list l = { 0 };
	size_t i;

	/* va 2M aligned, pa only 4K aligned: 512 base pages. */
	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_1G + SZ_4K, SZ_2M, p));
	u_collect(t, SZ_2M, SZ_2M, &l);
	assert_int_equal(l.n, 512);
	for (i = 0; i < l.n; i++) {
		struct pt_mapping w = mapping(SZ_2M + i * SZ_4K, SZ_1G + SZ_4K + i * SZ_4K,
					      SZ_4K, PT_R, 0, false);
		assert_mapping_eq(&l.m[i], &w);
	}
	u_list_free(&l);
	/* Both 2M aligned but only 2M long: one 2M leaf, even 1G aligned. */
	assert_ok_checked(t, pt_map(t, SZ_1G, SZ_1G, SZ_2M, p));
	assert_query(t, SZ_1G, mapping(SZ_1G, SZ_1G, SZ_2M, PT_R, 0, false));
	/* va 1G aligned, pa only 2M aligned: 2M leaves. */
	assert_ok_checked(t, pt_map(t, 4 * SZ_1G, 5 * SZ_1G + SZ_2M, SZ_1G, p));
	u_collect(t, 4 * SZ_1G, SZ_1G, &l);
	assert_int_equal(l.n, 512);
	assert_u64(l.m[0].size, SZ_2M);
	assert_u64(l.m[511].pa, 5 * SZ_1G + SZ_2M + 511 * SZ_2M);
	u_list_free(&l);
	/* Both 1G aligned: one 1G leaf. */
	assert_ok_checked(t, pt_map(t, 8 * SZ_1G, 8 * SZ_1G, SZ_1G, p));
	assert_query(t, 8 * SZ_1G + 12345, mapping(8 * SZ_1G, 8 * SZ_1G, SZ_1G, PT_R, 0, false));
}

/* One call, three sizes: 4K, then 2M, then 4K. */
static void test_mixed_4k_2m(void **state)
{
	struct pt_table *t = T0(state);
	const uint64_t va = SZ_2M - SZ_4K, pa = 0x40000000 + SZ_2M - SZ_4K;
	const struct pt_mapping want[] = {
		mapping(va, pa, SZ_4K, RW, 0, false),
		mapping(SZ_2M, pa + SZ_4K, SZ_2M, RW, 0, false),
		mapping(2 * SZ_2M, pa + SZ_4K + SZ_2M, SZ_4K, RW, 0, false),
	};

	assert_ok_checked(t, pt_map(t, va, pa, SZ_2M + 2 * SZ_4K, prop(RW, 0)));
	assert_leaves(t, va, SZ_2M + 2 * SZ_4K, want, 3);
	/* for_each over one byte of the huge leaf gives it whole. */
	assert_leaves(t, SZ_2M + SZ_1G / 1024, SZ_4K, &want[1], 1);
	/* A range overlapping the first two leaves partly: both, unclipped. */
	assert_leaves(t, va, 2 * SZ_4K, want, 2);
}

/* One call, 2M then 1G then 2M. */
static void test_mixed_2m_1g(void **state)
{
	struct pt_table *t = T0(state);
	const uint64_t va = SZ_1G - SZ_2M, pa = 16 * SZ_1G - SZ_2M;
	const struct pt_mapping want[] = {
		mapping(va, pa, SZ_2M, PT_R, PT_CACHE_UC, false),
		mapping(SZ_1G, 16 * SZ_1G, SZ_1G, PT_R, PT_CACHE_UC, false),
		mapping(2 * SZ_1G, 17 * SZ_1G, SZ_2M, PT_R, PT_CACHE_UC, false),
	};

	assert_ok_checked(t, pt_map(t, va, pa, SZ_1G + 2 * SZ_2M, prop(PT_R, PT_CACHE_UC)));
	assert_leaves(t, va, SZ_1G + 2 * SZ_2M, want, 3);
	assert_leaves(t, 0, 4 * SZ_1G, want, 3);
}

/* A node whose subtree holds no mapping is not "mapped": a huge map over
 * it detaches it (design §5, OSTD's test for removing empty nodes). */
static void test_map_over_empty_node(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_table_stats s0, s1;

	assert_ok_checked(t, pt_map(t, SZ_2M, 0x10000, SZ_4K, prop(RW, 0)));
	/* A partial unmap leaves the (now empty) leaf table in place. */
	assert_ok_checked(t, pt_unmap(t, SZ_2M, SZ_4K, NULL));
	assert_rc(pt_table_stats(t, &s0), 0);
	assert_u64(s0.nodes[1], 1);
	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_1G, SZ_2M, prop(RW, 0)));
	assert_query(t, SZ_2M, mapping(SZ_2M, SZ_1G, SZ_2M, RW, 0, false));
	assert_rc(pt_table_stats(t, &s1), 0);
	assert_u64(s1.nodes[1], 0);
	assert_u64(s1.mappings[2], 1);
	assert_u64(s1.mappings[1], 0);
}

/* The same, two levels deep: an empty level-2 subtree under a 1G map. */
static void test_map_over_empty_subtree(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_table_stats s;

	assert_ok_checked(t, pt_map(t, SZ_1G + SZ_2M + SZ_4K, 0x10000, SZ_4K, prop(RW, 0)));
	assert_ok_checked(t, pt_unmap(t, SZ_1G + SZ_2M + SZ_4K, SZ_4K, NULL));
	assert_rc(pt_table_stats(t, &s), 0);
	assert_u64(s.nodes[2], 1);
	assert_u64(s.nodes[1], 1);
	assert_ok_checked(t, pt_map(t, SZ_1G, 3 * SZ_1G, SZ_1G, prop(RW, 0)));
	assert_query(t, SZ_1G + SZ_2M, mapping(SZ_1G, 3 * SZ_1G, SZ_1G, RW, 0, false));
	assert_rc(pt_table_stats(t, &s), 0);
	assert_u64(s.nodes[2], 0);
	assert_u64(s.nodes[1], 0);
	assert_u64(s.mappings[3], 1);
}

/* An empty node next to a real mapping must not be confused with it: a
 * huge map whose range holds a live 4K page is still EEXIST. */
static void test_map_over_nonempty_node(void **state)
{
	struct pt_table *t = T0(state);

	assert_ok_checked(t, pt_map(t, SZ_2M + 0x1ff000, 0x10000, SZ_4K, prop(RW, 0)));
	assert_fails_unchanged(t, pt_map(t, SZ_2M, SZ_1G, SZ_2M, prop(RW, 0)), PT_EEXIST);
	assert_fails_unchanged(t, pt_map(t, 0, 0, SZ_1G, prop(RW, 0)), PT_EEXIST);
}

/* opts.max_leaf_level caps the page size. */
static void test_max_leaf_level_option(void **state)
{
	struct u_env *e = *state;
	struct pt_table_opts o;
	struct pt_table *t1, *t2, *bad = NULL;
	struct u_list l = { 0 };

	memset(&o, 0, sizeof o);
	o.max_leaf_level = 1;
	t1 = u_env_table_opts(e, PT_SPACE_USER, &o);
	assert_ok_checked(t1, pt_map(t1, SZ_2M, SZ_2M, SZ_2M, prop(RW, 0)));
	u_collect(t1, 0, SZ_1G, &l);
	assert_int_equal(l.n, 512);
	assert_u64(l.m[0].size, SZ_4K);
	u_list_free(&l);

	o.max_leaf_level = 2;
	t2 = u_env_table_opts(e, PT_SPACE_USER, &o);
	assert_ok_checked(t2, pt_map(t2, SZ_1G, SZ_1G, SZ_1G, prop(RW, 0)));
	u_collect(t2, 0, 4 * SZ_1G, &l);
	assert_int_equal(l.n, 512);
	assert_u64(l.m[0].size, SZ_2M);
	u_list_free(&l);

	/* Above the format's highest leaf level: refused. */
	o.max_leaf_level = 4;
	assert_rc(pt_table_create_opts(e->phys, &pt_format_x86_64, PT_SPACE_USER, &o, &bad),
		  PT_EINVAL);
	assert_null(bad);
}

/* Out of memory at any node allocation leaves the table as it was. */
static void test_map_enomem_all_or_nothing(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_phys *phys = pt_table_phys(t);
	/* A range that needs a new level-3, level-2 and two level-1 nodes. */
	const uint64_t va = 0x7f0000000000ull + SZ_2M - 2 * SZ_4K;
	uint64_t n;

	assert_ok_checked(t, pt_map(t, 0, 0, SZ_4K, prop(RW, 0)));
	for (n = 1; n <= 4; n++) {
		pt_phys_fail_nth_alloc(phys, n);
		assert_fails_unchanged(t, pt_map(t, va, 0, 4 * SZ_4K, prop(RW, 0)), PT_ENOMEM);
		pt_phys_fail_nth_alloc(phys, 0);
		assert_unmapped(t, va);
	}
	/* The 5th allocation is never needed: the map succeeds. */
	pt_phys_fail_nth_alloc(phys, 5);
	assert_ok_checked(t, pt_map(t, va, 0, 4 * SZ_4K, prop(RW, 0)));
	pt_phys_fail_nth_alloc(phys, 0);
	assert_query(t, va + 3 * SZ_4K, mapping(va + 3 * SZ_4K, 3 * SZ_4K, SZ_4K, RW, 0, false));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, u_setup_user, u_teardown)
	const struct CMUnitTest tests[] = {
		T(test_prop_roundtrip),
		T(test_prop_roundtrip_pat_wc),
		T(test_overlap_refused),
		T(test_page_size_choice),
		T(test_mixed_4k_2m),
		T(test_mixed_2m_1g),
		T(test_map_over_empty_node),
		T(test_map_over_empty_subtree),
		T(test_map_over_nonempty_node),
		T(test_max_leaf_level_option),
		T(test_map_enomem_all_or_nothing),
	};

	return cmocka_run_group_tests_name("unit_table_map", tests, NULL, NULL);
}
