/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_table_user - table creation and destruction, and user tables that
 * share a kernel table's half (design §5 "user table from kernel table").
 *
 * The sharing is what lets a kernel mapping made later show up in every
 * process at once, so it is checked both on the view (pt_query through the
 * user table) and on the raw root entries (the same node pointers).
 */
#include "unit.h"

#define ARENA (32ull << 20)

static int setup(void **state)
{
	*state = u_env_new(ARENA);
	return 0;
}

/*
 * Frames an empty standalone user table costs: its root, plus whatever the
 * table keeps its own state in (the core has no malloc, so that may be a
 * frame too).  Kernel and shared tables are measured against it: what
 * matters is that the shared kernel half is not copied.
 */
static uint64_t user_table_cost(struct u_env *e)
{
	uint64_t free0 = u_free_frames(e->phys), cost;
	struct pt_table *t = NULL;

	assert_rc(pt_table_create(e->phys, &pt_format_x86_64, PT_SPACE_USER, &t), 0);
	cost = free0 - u_free_frames(e->phys);
	assert_rc(pt_table_destroy(t), 0);
	assert_u64(u_free_frames(e->phys), free0);
	/* The root, at most one frame of table state. */
	assert_true(cost >= 1 && cost <= 2);
	return cost;
}

static void test_create_errors(void **state)
{
	struct u_env *e = *state;
	struct pt_table *t = NULL, *u;
	struct pt_table_opts o;
	uint64_t free0 = u_free_frames(e->phys);

	assert_rc(pt_table_create(NULL, &pt_format_x86_64, PT_SPACE_USER, &t), PT_EINVAL);
	assert_rc(pt_table_create(e->phys, NULL, PT_SPACE_USER, &t), PT_EINVAL);
	assert_rc(pt_table_create(e->phys, &pt_format_x86_64, PT_SPACE_USER, NULL), PT_EINVAL);
	assert_rc(pt_table_create(e->phys, &pt_format_x86_64, (enum pt_space)7, &t), PT_EINVAL);
	memset(&o, 0, sizeof o);
	o.max_leaf_level = pt_format_x86_64.max_leaf_level + 1;
	assert_rc(pt_table_create_opts(e->phys, &pt_format_x86_64, PT_SPACE_USER, &o, &t),
		  PT_EINVAL);
	assert_null(t);
	assert_rc(pt_table_create_user(NULL, &t), PT_EINVAL);
	assert_rc(pt_table_destroy(NULL), PT_EINVAL);
	assert_u64(u_free_frames(e->phys), free0);

	/* A user table is not a kernel table to share from. */
	u = u_env_table(e, PT_SPACE_USER);
	assert_rc(pt_table_create_user(u, &t), PT_EINVAL);
	assert_null(t);
	CHECK(u);
}

/* A standalone user table: one root frame, nothing else, all returned. */
static void test_user_table_lifecycle(void **state)
{
	struct u_env *e = *state;
	uint64_t cost = user_table_cost(e), free0 = u_free_frames(e->phys);
	struct pt_table *t = NULL;
	struct pt_table_stats s;

	assert_rc(pt_table_create(e->phys, &pt_format_x86_64, PT_SPACE_USER, &t), 0);
	CHECK(t);
	assert_u64(u_free_frames(e->phys), free0 - cost);
	assert_true(pt_table_root(t) % SZ_4K == 0);
	assert_ptr_equal(pt_table_format(t), &pt_format_x86_64);
	assert_ptr_equal(pt_table_phys(t), e->phys);
	assert_int_equal(pt_table_space(t), PT_SPACE_USER);
	assert_rc(pt_table_stats(t, &s), 0);
	assert_u64(s.nodes[4], 1);
	assert_u64(s.nodes[3], 0);
	/* Destroy is synchronous and gives back every node. */
	assert_ok_checked(t, pt_map(t, 0x1000, 0x1000, 3 * SZ_1G, prop(RW, 0)));
	assert_rc(pt_table_destroy(t), 0);
	assert_u64(u_free_frames(e->phys), free0);
}

/* A kernel table allocates every node under the root in its half up front
 * (256 level-3 nodes on x86-64), so user tables can share them. */
static void test_kernel_table_prealloc(void **state)
{
	struct u_env *e = *state;
	uint64_t cost = user_table_cost(e), free0 = u_free_frames(e->phys);
	struct pt_table *k = NULL;
	struct pt_table_stats s;
	uint64_t *root;
	unsigned i;

	assert_rc(pt_table_create(e->phys, &pt_format_x86_64, PT_SPACE_KERNEL, &k), 0);
	CHECK(k);
	assert_int_equal(pt_table_space(k), PT_SPACE_KERNEL);
	assert_u64(u_free_frames(e->phys), free0 - cost - 256);
	assert_rc(pt_table_stats(k, &s), 0);
	assert_u64(s.nodes[4], 1);
	assert_u64(s.nodes[3], 256);
	assert_u64(s.nodes[2], 0);
	root = pt_phys_to_virt(e->phys, pt_table_root(k));
	assert_non_null(root);
	for (i = 0; i < 256; i++)
		assert_u64(root[i], 0);
	for (i = 256; i < 512; i++) {
		uint64_t pa;
		struct pt_prop p;
		bool tr;
		if (pt_format_x86_64.decode(root[i], 4, 0, &pa, &p, &tr) != PT_DECODE_TABLE)
			fail_msg("kernel root slot %u is not a table: %#llx", i,
				 (unsigned long long)root[i]);
	}
	assert_rc(pt_table_destroy(k), 0);
	assert_u64(u_free_frames(e->phys), free0);
}

/* Out of memory half way through the 256 nodes: nothing leaks. */
static void test_kernel_table_enomem(void **state)
{
	struct u_env *e = *state;
	const uint64_t need = user_table_cost(e) + 256;
	uint64_t free0 = u_free_frames(e->phys);
	const uint64_t nth[] = { 1, 2, 100, need - 1, need };
	struct pt_table *k;
	size_t i;

	for (i = 0; i < sizeof nth / sizeof nth[0]; i++) {
		k = NULL;
		pt_phys_fail_nth_alloc(e->phys, nth[i]);
		assert_rc(pt_table_create(e->phys, &pt_format_x86_64, PT_SPACE_KERNEL, &k),
			  PT_ENOMEM);
		pt_phys_fail_nth_alloc(e->phys, 0);
		assert_null(k);
		assert_u64(u_free_frames(e->phys), free0);
	}
	/* One past what creation needs. */
	pt_phys_fail_nth_alloc(e->phys, need + 1);
	k = u_env_table(e, PT_SPACE_KERNEL);
	pt_phys_fail_nth_alloc(e->phys, 0);
	CHECK(k);
}

/* A user table takes its kernel table's cap on leaf size: a 2 MiB map
 * through it makes 4 KiB leaves when the kernel table allows no more. */
static void test_user_inherits_leaf_cap(void **state)
{
	struct u_env *e = *state;
	struct pt_table_opts o = { .max_leaf_level = 1 };
	struct pt_table *k, *u;
	struct pt_mapping m;

	k = u_env_table_opts(e, PT_SPACE_KERNEL, &o);
	assert_rc(pt_table_create_user(k, &u), 0);
	assert_rc(pt_map(u, SZ_2M, SZ_1G, SZ_2M, prop(RW, 0)), 0);
	CHECK(u);
	assert_rc(pt_query(u, SZ_2M, &m), 0);
	assert_u64(m.size, SZ_4K);
	assert_rc(pt_table_destroy(u), 0);
}

/* Out of memory while making a user table (its struct, then its root):
 * an error, no table, nothing leaked, and the kernel table not held. */
static void test_user_table_enomem(void **state)
{
	struct u_env *e = *state;
	struct pt_table *k = u_env_table(e, PT_SPACE_KERNEL), *u;
	uint64_t free0 = u_free_frames(e->phys);

	for (uint64_t nth = 1; nth <= 2; nth++) {
		u = NULL;
		pt_phys_fail_nth_alloc(e->phys, nth);
		assert_rc(pt_table_create_user(k, &u), PT_ENOMEM);
		pt_phys_fail_nth_alloc(e->phys, 0);
		assert_null(u);
		assert_u64(u_free_frames(e->phys), free0);
	}
	/* Not held: a kernel table nobody shares can go. */
	u_env_forget(e, k);
	assert_rc(pt_table_destroy(k), 0);
}

/* The user table's kernel-half root entries are the kernel table's. */
static void test_user_shares_kernel_root_slots(void **state)
{
	struct u_env *e = *state;
	uint64_t cost = user_table_cost(e);
	struct pt_table *k = u_env_table(e, PT_SPACE_KERNEL);
	uint64_t free0 = u_free_frames(e->phys);
	struct pt_table *uk = u_env_user_of(e, k);
	uint64_t *kr = pt_phys_to_virt(e->phys, pt_table_root(k));
	uint64_t *ur = pt_phys_to_virt(e->phys, pt_table_root(uk));
	struct pt_table_stats s;
	unsigned i;

	/* No more than an empty user table: the 256 nodes are borrowed, not
	 * copied. */
	assert_u64(u_free_frames(e->phys), free0 - cost);
	assert_true(pt_table_root(uk) != pt_table_root(k));
	assert_int_equal(pt_table_space(uk), PT_SPACE_USER);
	for (i = 256; i < 512; i++)
		assert_u64(ur[i], kr[i]);
	for (i = 0; i < 256; i++)
		assert_u64(ur[i], 0);
	assert_rc(pt_table_stats(uk, &s), 0);
	assert_u64(s.nodes[4], 1);
	assert_u64(s.nodes[3], 256);
}

/* Kernel mappings made after the user table exist show up in it, and the
 * user half of each user table is its own. */
static void test_kernel_mappings_visible(void **state)
{
	struct u_env *e = *state;
	struct pt_table *k = u_env_table(e, PT_SPACE_KERNEL);
	struct pt_table *u1 = u_env_user_of(e, k), *u2 = u_env_user_of(e, k);
	const uint64_t kva = X86_KERNEL_START + 5 * SZ_512G + SZ_1G;
	const struct pt_mapping km = mapping(kva, SZ_1G, SZ_2M, RW | PT_G, 0, false);
	struct u_list l = { 0 };

	assert_unmapped(u1, kva);
	assert_ok_checked(k, pt_map(k, kva, SZ_1G, SZ_2M, prop(RW | PT_G, 0)));
	CHECK(u1);
	CHECK(u2);
	assert_query(u1, kva + 0x1234, km);
	assert_query(u2, kva, km);
	u_collect(u1, X86_KERNEL_START, 0 - X86_KERNEL_START, &l);
	assert_int_equal(l.n, 1);
	assert_mapping_eq(&l.m[0], &km);
	u_list_free(&l);
	/* User halves are separate. */
	assert_ok_checked(u1, pt_map(u1, 0x400000, 0x1000, SZ_4K, prop(RW | PT_U, 0)));
	assert_unmapped(u2, 0x400000);
	/* The kernel table has no user half at all. */
	{
		struct pt_mapping m;
		assert_rc(pt_query(k, 0x400000, &m), PT_ERANGE);
	}
	/* Writes through a user table to the kernel half: EPERM. */
	assert_fails_unchanged(u1, pt_unmap(u1, kva, SZ_2M, NULL), PT_EPERM);
	assert_fails_unchanged(u1, pt_protect(u1, kva, SZ_2M, 0, PT_W, NULL), PT_EPERM);
	assert_query(k, kva, km);
	/* Unmapped in the kernel table: gone everywhere. */
	assert_ok_checked(k, pt_unmap(k, kva, SZ_2M, NULL));
	CHECK(u1);
	CHECK(u2);
	assert_unmapped(u1, kva);
	assert_unmapped(u2, kva);
}

/* Unmapping a whole root slot's range empties the shared node but keeps
 * it: user tables still point at it. */
static void test_kernel_slot_nodes_kept(void **state)
{
	struct u_env *e = *state;
	struct pt_table *k = u_env_table(e, PT_SPACE_KERNEL);
	struct pt_table *uk = u_env_user_of(e, k);
	struct pt_table_stats s;
	uint64_t *kr = pt_phys_to_virt(e->phys, pt_table_root(k));
	uint64_t slot256 = kr[256];

	assert_ok_checked(k, pt_map(k, X86_KERNEL_START, 0, SZ_1G, prop(RW, 0)));
	assert_ok_checked(k, pt_map(k, X86_KERNEL_START + SZ_1G + SZ_4K, 0, SZ_4K, prop(RW, 0)));
	assert_ok_checked(k, pt_unmap(k, X86_KERNEL_START, SZ_512G, NULL));
	CHECK(uk);
	assert_rc(pt_table_stats(k, &s), 0);
	assert_u64(s.nodes[3], 256);
	assert_u64(s.nodes[2], 0);
	assert_u64(kr[256], slot256);
	assert_unmapped(uk, X86_KERNEL_START);
	/* Unmapping the whole kernel half keeps all 256. */
	assert_ok_checked(k, pt_unmap(k, X86_KERNEL_START, 0 - X86_KERNEL_START, NULL));
	assert_rc(pt_table_stats(k, &s), 0);
	assert_u64(s.nodes[3], 256);
	/* And the kernel half still works for new mappings. */
	assert_ok_checked(k, pt_map(k, X86_LAST_PAGE, 0x3000, SZ_4K, prop(PT_R, 0)));
	assert_query(uk, X86_LAST_PAGE, mapping(X86_LAST_PAGE, 0x3000, SZ_4K, PT_R, 0, false));
}

/* PT_EBUSY while a user table shares the kernel half; then in order. */
static void test_destroy_busy(void **state)
{
	struct u_env *e = *state;
	uint64_t free0 = u_free_frames(e->phys);
	struct pt_table *k = NULL, *u1 = NULL, *u2 = NULL;

	assert_rc(pt_table_create(e->phys, &pt_format_x86_64, PT_SPACE_KERNEL, &k), 0);
	assert_rc(pt_table_create_user(k, &u1), 0);
	assert_rc(pt_table_create_user(k, &u2), 0);
	assert_ok_checked(k, pt_map(k, X86_KERNEL_START + SZ_2M, SZ_2M, SZ_2M, prop(RW, 0)));
	assert_ok_checked(u1, pt_map(u1, 0, 0x1000, SZ_4K, prop(RW, 0)));

	assert_rc(pt_table_destroy(k), PT_EBUSY);
	CHECK(k);
	CHECK(u1);
	assert_query(u1, X86_KERNEL_START + SZ_2M,
		     mapping(X86_KERNEL_START + SZ_2M, SZ_2M, SZ_2M, RW, 0, false));
	assert_rc(pt_table_destroy(u1), 0);
	/* One user table left: still busy. */
	assert_rc(pt_table_destroy(k), PT_EBUSY);
	CHECK(k);
	/* Destroying a user table frees none of the shared nodes. */
	assert_query(u2, X86_KERNEL_START + SZ_2M,
		     mapping(X86_KERNEL_START + SZ_2M, SZ_2M, SZ_2M, RW, 0, false));
	CHECK(u2);
	assert_rc(pt_table_destroy(u2), 0);
	CHECK(k);
	assert_rc(pt_table_destroy(k), 0);
	assert_u64(u_free_frames(e->phys), free0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, u_teardown)
	const struct CMUnitTest tests[] = {
		T(test_create_errors),
		T(test_user_table_lifecycle),
		T(test_kernel_table_prealloc),
		T(test_kernel_table_enomem),
		T(test_user_inherits_leaf_cap),
		T(test_user_table_enomem),
		T(test_user_shares_kernel_root_slots),
		T(test_kernel_mappings_visible),
		T(test_kernel_slot_nodes_kept),
		T(test_destroy_busy),
	};

	return cmocka_run_group_tests_name("unit_table_user", tests, NULL, NULL);
}
