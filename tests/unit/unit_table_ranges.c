/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_table_ranges - range checking of every writing entry point, and the
 * very edges of each half (design §5, table.h).
 *
 * The cases follow Asterinas OSTD's page-table tests (test_range_check,
 * test_start_boundary_mappings, test_end_boundary_mappings, the
 * overflow/out-of-range cases), rewritten for ptkit's contract: where OSTD
 * panics, ptkit returns the first error in the order EINVAL, EALIGN,
 * ERANGE, EPERM and changes nothing.
 *
 * Every error case runs through run_op() against three tables at once: a
 * standalone user table (u), a kernel table (k) and a user table made from
 * it (uk), with the views of all three compared before and after.
 */
#include "unit.h"

enum op { OP_MAP, OP_MAP_FRAMES, OP_UNMAP, OP_PROTECT, OP_CURSOR, NR_OPS };
static const char *const op_name[NR_OPS] = { "pt_map", "pt_map_frames", "pt_unmap",
					     "pt_protect", "pt_cursor_open" };

struct fix {
	struct u_env *e;
	struct pt_table *u, *k, *uk;
	uint64_t frames[4]; /* data frames for OP_MAP_FRAMES */
};

static int setup(void **state)
{
	struct fix *x = calloc(1, sizeof *x);
	size_t i;

	assert_non_null(x);
	x->e = u_env_new(16ull << 20);
	x->u = u_env_table(x->e, PT_SPACE_USER);
	x->k = u_env_table(x->e, PT_SPACE_KERNEL);
	x->uk = u_env_user_of(x->e, x->k);
	for (i = 0; i < 4; i++)
		assert_rc(pt_frame_alloc(x->e->phys, &x->frames[i]), 0);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fix *x = *state;
	size_t i;

	/* The caller's own references: the tables hold theirs, if any. */
	for (i = 0; i < 4; i++)
		assert_rc(pt_frame_put(x->e->phys, x->frames[i]), 0);
	u_env_free(x->e);
	free(x);
	return 0;
}

/* One writing call on (va, len).  map_frames maps len / 4K frames (at
 * most 4: its range errors must not depend on how many). */
static int do_op(struct fix *x, enum op op, struct pt_table *t, uint64_t va, uint64_t len)
{
	struct pt_cursor c;
	size_t n;
	int rc;

	switch (op) {
	case OP_MAP:
		return pt_map(t, va, 0, len, prop(RW, PT_CACHE_WB));
	case OP_MAP_FRAMES:
		/* Its length is n pages: a zero or unaligned len has no
		 * equivalent, so only va-based cases reach here. */
		n = len / SZ_4K;
		return pt_map_frames(t, va, x->frames, n > 4 ? 4 : n, prop(RW, PT_CACHE_WB));
	case OP_UNMAP:
		return pt_unmap(t, va, len, NULL);
	case OP_PROTECT:
		return pt_protect(t, va, len, PT_W, 0, NULL);
	case OP_CURSOR:
		rc = pt_cursor_open(&c, t, va, len);
		if (rc == 0)
			pt_cursor_close(&c);
		return rc;
	default:
		return PT_EINVAL;
	}
}

struct frame_rc {
	uint64_t rc[4];
};

static void frames_rc(struct fix *x, struct frame_rc *r)
{
	size_t i;

	for (i = 0; i < 4; i++)
		r->rc[i] = pt_frame_refcount(x->e->phys, x->frames[i]);
}

/* Runs `op` and expects `want`; on an error all three tables and the
 * frames' counts must be exactly as before. */
#define expect_op(x, op, t, va, len, want) \
	expect_op_at((x), (op), (t), (va), (len), (want), #t, __FILE__, __LINE__)
static void expect_op_at(struct fix *x, enum op op, struct pt_table *t, uint64_t va,
			 uint64_t len, int want, const char *tname, const char *file,
			 int line)
{
	struct u_view vu, vk, vuk;
	struct frame_rc r0, r1;
	int rc;

	u_view_take_at(x->u, &vu, file, line);
	u_view_take_at(x->k, &vk, file, line);
	u_view_take_at(x->uk, &vuk, file, line);
	frames_rc(x, &r0);
	rc = do_op(x, op, t, va, len);
	if (rc != want)
		U_FAIL(file, line, "%s(%s, va %#llx, len %#llx) = %d (%s), expected %d (%s)",
		       op_name[op], tname, (unsigned long long)va,
		       (unsigned long long)len, rc, u_err(rc), want, u_err(want));
	if (want != 0) {
		u_assert_view_same(x->u, &vu, file, line);
		u_assert_view_same(x->k, &vk, file, line);
		u_assert_view_same(x->uk, &vuk, file, line);
		frames_rc(x, &r1);
		if (memcmp(&r0, &r1, sizeof r0) != 0)
			U_FAIL(file, line, "%s failed but changed a frame's refcount",
			       op_name[op]);
	}
	u_check(x->u, file, line);
	u_check(x->k, file, line);
	u_check(x->uk, file, line);
	u_view_free(&vu);
	u_view_free(&vk);
	u_view_free(&vuk);
}

static bool op_has_len(enum op op)
{
	return op != OP_MAP_FRAMES;
}

/* NULL table: PT_EINVAL before anything else looks at the range. */
static void test_null_table(void **state)
{
	struct pt_cursor c;
	struct pt_mapping m;
	uint64_t f = 0;

	(void)state;
	assert_rc(pt_map(NULL, 0, 0, SZ_4K, prop(PT_R, 0)), PT_EINVAL);
	assert_rc(pt_map_frames(NULL, 0, &f, 1, prop(PT_R, 0)), PT_EINVAL);
	assert_rc(pt_unmap(NULL, 0, SZ_4K, NULL), PT_EINVAL);
	assert_rc(pt_protect(NULL, 0, SZ_4K, PT_W, 0, NULL), PT_EINVAL);
	assert_rc(pt_cursor_open(&c, NULL, 0, SZ_4K), PT_EINVAL);
	assert_rc(pt_query(NULL, 0, &m), PT_EINVAL);
}

/* Empty and wrapping ranges are PT_EINVAL, whatever else is wrong. */
static void test_empty_and_wrapping(void **state)
{
	struct fix *x = *state;
	enum op op;

	for (op = 0; op < NR_OPS; op++) {
		if (op_has_len(op)) {
			expect_op(x, op, x->u, SZ_4K, 0, PT_EINVAL);
			expect_op(x, op, x->k, X86_KERNEL_START, 0, PT_EINVAL);
			/* empty and unaligned: EINVAL first */
			expect_op(x, op, x->u, 0x1001, 0, PT_EINVAL);
			/* va + len > 2^64 */
			expect_op(x, op, x->k, X86_LAST_PAGE, 2 * SZ_4K, PT_EINVAL);
			/* (va + len == 2^64 exactly is not wrapping: 2 pages) */
			expect_op(x, op, x->u, 2 * SZ_4K, UINT64_MAX & ~0xfffull, PT_EINVAL);
			expect_op(x, op, x->k, X86_KERNEL_START, UINT64_MAX & ~0xfffull,
				  PT_EINVAL);
			/* wrapping and unaligned: EINVAL first */
			expect_op(x, op, x->k, X86_LAST_PAGE + 1, 2 * SZ_4K, PT_EINVAL);
		} else {
			/* map_frames: wrapping = too many pages before 2^64 */
			expect_op(x, op, x->k, X86_LAST_PAGE, 2 * SZ_4K, PT_EINVAL);
			expect_op(x, op, x->k, X86_LAST_PAGE - SZ_4K, 4 * SZ_4K, PT_EINVAL);
		}
	}
}

static void test_unaligned(void **state)
{
	struct fix *x = *state;
	enum op op;

	for (op = 0; op < NR_OPS; op++) {
		expect_op(x, op, x->u, 0x1001, SZ_4K, PT_EALIGN);
		expect_op(x, op, x->u, 0x1800, SZ_4K, PT_EALIGN);
		expect_op(x, op, x->k, X86_KERNEL_START + 8, SZ_4K, PT_EALIGN);
		if (op_has_len(op)) {
			expect_op(x, op, x->u, SZ_4K, 0x1001, PT_EALIGN);
			expect_op(x, op, x->u, SZ_4K, 0xfff, PT_EALIGN);
		}
		/* unaligned and out of range: EALIGN first */
		expect_op(x, op, x->u, X86_USER_END + 1, SZ_4K, PT_EALIGN);
		expect_op(x, op, x->k, 0x1001, SZ_4K, PT_EALIGN);
		/* unaligned and the kernel half of uk: EALIGN before EPERM */
		expect_op(x, op, x->uk, X86_KERNEL_START + 1, SZ_4K, PT_EALIGN);
	}
}

/* Outside the table's half, including the non-canonical hole. */
static void test_out_of_range(void **state)
{
	struct fix *x = *state;
	enum op op;

	for (op = 0; op < NR_OPS; op++) {
		/* The first non-canonical address. */
		expect_op(x, op, x->u, X86_USER_END, SZ_4K, PT_ERANGE);
		expect_op(x, op, x->uk, X86_USER_END, SZ_4K, PT_ERANGE);
		expect_op(x, op, x->k, X86_USER_END, SZ_4K, PT_ERANGE);
		/* The last one. */
		expect_op(x, op, x->k, X86_KERNEL_START - SZ_4K, SZ_4K, PT_ERANGE);
		/* Starting inside, ending outside. */
		expect_op(x, op, x->u, X86_USER_END - SZ_4K, 2 * SZ_4K, PT_ERANGE);
		expect_op(x, op, x->k, X86_KERNEL_START - SZ_4K, 2 * SZ_4K, PT_ERANGE);
		/* Kernel half in a standalone user table, user half in a
		 * kernel table. */
		expect_op(x, op, x->u, X86_KERNEL_START, SZ_4K, PT_ERANGE);
		expect_op(x, op, x->u, X86_LAST_PAGE, SZ_4K, PT_ERANGE);
		expect_op(x, op, x->k, 0, SZ_4K, PT_ERANGE);
		expect_op(x, op, x->k, X86_USER_END - SZ_4K, SZ_4K, PT_ERANGE);
		/* uk spans both halves for range checks, but not the hole
		 * between them: ERANGE, not EPERM. */
		expect_op(x, op, x->uk, X86_KERNEL_START - SZ_4K, 2 * SZ_4K, PT_ERANGE);
		/* va + len == 2^64 exactly does not wrap: it is just far out
		 * of the user half. */
		if (op_has_len(op))
			expect_op(x, op, x->u, SZ_4K, 0 - SZ_4K, PT_ERANGE);
		if (op_has_len(op))
			expect_op(x, op, x->uk, X86_USER_END - SZ_4K,
				  X86_KERNEL_START + SZ_4K - (X86_USER_END - SZ_4K),
				  PT_ERANGE);
	}
}

/* Writing the shared kernel half through a user table is PT_EPERM. */
static void test_kernel_half_through_user_table(void **state)
{
	struct fix *x = *state;
	enum op op;

	/* Something there, so unmap and protect have work to refuse. */
	assert_ok_checked(x->k, pt_map(x->k, X86_KERNEL_START, 0x100000, SZ_4K,
				       prop(RW, PT_CACHE_WB)));
	for (op = 0; op < NR_OPS; op++) {
		expect_op(x, op, x->uk, X86_KERNEL_START, SZ_4K, PT_EPERM);
		expect_op(x, op, x->uk, X86_LAST_PAGE, SZ_4K, PT_EPERM);
		expect_op(x, op, x->uk, X86_KERNEL_START + SZ_2M, SZ_4K, PT_EPERM);
	}
	/* Reads of the kernel half still work through uk. */
	assert_query(x->uk, X86_KERNEL_START,
		     mapping(X86_KERNEL_START, 0x100000, SZ_4K, RW, PT_CACHE_WB, false));
}

/* Property and physical-address errors of pt_map, in order. */
static void test_map_prop_and_pa_errors(void **state)
{
	struct fix *x = *state;
	struct pt_table *u = x->u;
	const uint64_t lim = pt_format_x86_64.pa_limit;

	/* Inexpressible: unknown flag bit; WC without the PAT option. */
	assert_fails_unchanged(u, pt_map(u, 0, 0, SZ_4K, prop(PT_R | (1u << 7), 0)), PT_EINVAL);
	assert_fails_unchanged(u, pt_map(u, 0, 0, SZ_4K, prop(PT_R, PT_CACHE_WC)), PT_EINVAL);
	assert_fails_unchanged(u, pt_map(u, 0, 0, SZ_4K, prop(PT_R, 99)), PT_EINVAL);
	/* EINVAL (property) before EALIGN, ERANGE and EPERM. */
	assert_fails_unchanged(u, pt_map(u, 0x1001, 0, SZ_4K, prop(PT_R, PT_CACHE_WC)), PT_EINVAL);
	assert_fails_unchanged(x->uk, pt_map(x->uk, X86_KERNEL_START, 0, SZ_4K,
					     prop(PT_R, PT_CACHE_WC)), PT_EINVAL);
	/* Physical address: unaligned, too large, crossing the limit. */
	assert_fails_unchanged(u, pt_map(u, 0, 0x1001, SZ_4K, prop(PT_R, 0)), PT_EALIGN);
	assert_fails_unchanged(u, pt_map(u, 0, lim, SZ_4K, prop(PT_R, 0)), PT_ERANGE);
	assert_fails_unchanged(u, pt_map(u, 0, lim - SZ_4K, 2 * SZ_4K, prop(PT_R, 0)), PT_ERANGE);
	assert_fails_unchanged(u, pt_map(u, 0, UINT64_MAX & ~0xfffull, SZ_4K, prop(PT_R, 0)),
			       PT_ERANGE);
	/* pa + len wrapping past 2^64 is out of range too, not a crash. */
	assert_fails_unchanged(u, pt_map(u, 0, UINT64_MAX & ~0xfffull, 2 * SZ_4K, prop(PT_R, 0)),
			       PT_ERANGE);
	/* pa unaligned and too large: EALIGN first. */
	assert_fails_unchanged(u, pt_map(u, 0, lim + 1, SZ_4K, prop(PT_R, 0)), PT_EALIGN);
	/* pa error before EPERM. */
	assert_fails_unchanged(x->uk, pt_map(x->uk, X86_KERNEL_START, lim, SZ_4K, prop(PT_R, 0)),
			       PT_ERANGE);
	/* The very last frame below the limit is fine. */
	assert_ok_checked(u, pt_map(u, 0, lim - SZ_4K, SZ_4K, prop(PT_R, 0)));
	assert_query(u, 0, mapping(0, lim - SZ_4K, SZ_4K, PT_R, 0, false));
}

/* pt_protect's own argument errors. */
static void test_protect_flag_errors(void **state)
{
	struct fix *x = *state;
	struct pt_table *u = x->u;

	assert_ok_checked(u, pt_map(u, 0, 0, SZ_4K, prop(PT_R, 0)));
	assert_fails_unchanged(u, pt_protect(u, 0, SZ_4K, PT_W, PT_W, NULL), PT_EINVAL);
	assert_fails_unchanged(u, pt_protect(u, 0, SZ_4K, RW, PT_W | PT_X, NULL), PT_EINVAL);
	assert_fails_unchanged(u, pt_protect(u, 0, SZ_4K, 1u << 7, 0, NULL), PT_EINVAL);
	/* EINVAL (flags) before EALIGN. */
	assert_fails_unchanged(u, pt_protect(u, 0x1001, SZ_4K, PT_W, PT_W, NULL), PT_EINVAL);
}

/* pt_query: any byte address, PT_ERANGE outside the space. */
static void test_query_ranges(void **state)
{
	struct fix *x = *state;
	struct pt_mapping m;

	assert_ok_checked(x->u, pt_map(x->u, 0x5000, 0x9000, SZ_4K, prop(RW, 0)));
	assert_query(x->u, 0x5000, mapping(0x5000, 0x9000, SZ_4K, RW, 0, false));
	assert_query(x->u, 0x5fff, mapping(0x5000, 0x9000, SZ_4K, RW, 0, false));
	assert_query(x->u, 0x5123, mapping(0x5000, 0x9000, SZ_4K, RW, 0, false));
	assert_unmapped(x->u, 0x6000);
	assert_unmapped(x->u, 0x4fff);
	assert_rc(pt_query(x->u, X86_USER_END, &m), PT_ERANGE);
	assert_rc(pt_query(x->u, X86_KERNEL_START, &m), PT_ERANGE);
	assert_rc(pt_query(x->k, 0x5000, &m), PT_ERANGE);
	assert_rc(pt_query(x->k, X86_KERNEL_START - 1, &m), PT_ERANGE);
	assert_rc(pt_query(x->uk, X86_USER_END + SZ_4K, &m), PT_ERANGE);
	assert_rc(pt_query(x->uk, X86_KERNEL_START, &m), PT_ENOENT);
	assert_rc(pt_query(x->u, 0x5000, NULL), PT_EINVAL);
}

/* First and last page of the user half, queried, listed, protected and
 * unmapped. */
static void test_user_half_edges(void **state)
{
	struct fix *x = *state;
	struct pt_table *ts[2] = { x->u, x->uk };
	const uint64_t last = X86_USER_END - SZ_4K;
	int i;

	for (i = 0; i < 2; i++) {
		struct pt_table *t = ts[i];
		struct u_list l = { 0 };

		assert_ok_checked(t, pt_map(t, 0, 0x7000, SZ_4K, prop(RW, 0)));
		assert_ok_checked(t, pt_map(t, last, 0x8000, SZ_4K, prop(PT_R, 0)));
		assert_query(t, 0, mapping(0, 0x7000, SZ_4K, RW, 0, false));
		assert_query(t, X86_USER_END - 1, mapping(last, 0x8000, SZ_4K, PT_R, 0, false));
		u_collect(t, 0, X86_USER_END, &l);
		assert_int_equal(l.n, 2);
		assert_u64(l.m[0].va, 0);
		assert_u64(l.m[1].va, last);
		u_list_free(&l);
		assert_ok_checked(t, pt_protect(t, last, SZ_4K, PT_W, 0, NULL));
		assert_query(t, last, mapping(last, 0x8000, SZ_4K, RW, 0, false));
		assert_ok_checked(t, pt_unmap(t, 0, SZ_4K, NULL));
		assert_ok_checked(t, pt_unmap(t, last, SZ_4K, NULL));
		assert_unmapped(t, 0);
		assert_unmapped(t, last);
	}
}

/* The kernel half's first page, and its last page: va + len == 2^64. */
static void test_kernel_half_edges(void **state)
{
	struct fix *x = *state;
	struct pt_table *k = x->k;
	struct u_list l = { 0 };

	assert_ok_checked(k, pt_map(k, X86_KERNEL_START, 0x7000, SZ_4K, prop(RW, 0)));
	assert_ok_checked(k, pt_map(k, X86_LAST_PAGE, 0x8000, SZ_4K, prop(RW | PT_G, 0)));
	assert_query(k, X86_KERNEL_START, mapping(X86_KERNEL_START, 0x7000, SZ_4K, RW, 0, false));
	assert_query(k, UINT64_MAX, mapping(X86_LAST_PAGE, 0x8000, SZ_4K, RW | PT_G, 0, false));
	/* Seen through the user table too: the nodes are shared. */
	assert_query(x->uk, UINT64_MAX, mapping(X86_LAST_PAGE, 0x8000, SZ_4K, RW | PT_G, 0, false));
	u_collect(k, X86_LAST_PAGE, SZ_4K, &l);
	assert_int_equal(l.n, 1);
	u_list_free(&l);
	u_collect(k, X86_KERNEL_START, 0 - X86_KERNEL_START, &l);
	assert_int_equal(l.n, 2);
	u_list_free(&l);
	assert_ok_checked(k, pt_protect(k, X86_LAST_PAGE, SZ_4K, 0, PT_W, NULL));
	assert_query(k, X86_LAST_PAGE, mapping(X86_LAST_PAGE, 0x8000, SZ_4K, PT_R | PT_G, 0, false));
	assert_ok_checked(k, pt_unmap(k, X86_LAST_PAGE, SZ_4K, NULL));
	assert_ok_checked(k, pt_unmap(k, X86_KERNEL_START, SZ_4K, NULL));
	assert_unmapped(k, X86_LAST_PAGE);
	assert_unmapped(k, X86_KERNEL_START);

	/* Huge pages ending at 2^64. */
	assert_ok_checked(k, pt_map(k, 0 - SZ_2M, SZ_2M, SZ_2M, prop(RW, 0)));
	assert_query(k, X86_LAST_PAGE, mapping(0 - SZ_2M, SZ_2M, SZ_2M, RW, 0, false));
	assert_ok_checked(k, pt_unmap(k, 0 - SZ_2M, SZ_2M, NULL));
	assert_ok_checked(k, pt_map(k, 0 - SZ_1G, SZ_1G, SZ_1G, prop(RW, 0)));
	assert_query(k, X86_LAST_PAGE, mapping(0 - SZ_1G, SZ_1G, SZ_1G, RW, 0, false));
	/* Protecting the very last page splits the 1G leaf one level at a
	 * time: 511 2M leaves stay, the last 2M becomes 512 4K leaves. */
	assert_ok_checked(k, pt_protect(k, X86_LAST_PAGE, SZ_4K, 0, PT_W, NULL));
	assert_query(k, X86_LAST_PAGE, mapping(X86_LAST_PAGE, 2 * SZ_1G - SZ_4K, SZ_4K,
					       PT_R, 0, false));
	assert_query(k, X86_LAST_PAGE - SZ_4K,
		     mapping(X86_LAST_PAGE - SZ_4K, 2 * SZ_1G - 2 * SZ_4K, SZ_4K, RW, 0, false));
	assert_query(k, 0 - SZ_1G, mapping(0 - SZ_1G, SZ_1G, SZ_2M, RW, 0, false));
	u_collect(k, 0 - SZ_1G, SZ_1G, &l);
	assert_int_equal(l.n, 511 + 512);
	u_list_free(&l);
	assert_ok_checked(k, pt_unmap(k, 0 - SZ_1G, SZ_1G, NULL));
	u_collect(k, X86_KERNEL_START, 0 - X86_KERNEL_START, &l);
	assert_int_equal(l.n, 0);
	u_list_free(&l);
}

/* A whole half as one range is legal (unmap/protect of nothing is 0). */
static void test_whole_half_ranges(void **state)
{
	struct fix *x = *state;

	expect_op(x, OP_UNMAP, x->u, 0, X86_USER_END, 0);
	expect_op(x, OP_PROTECT, x->u, 0, X86_USER_END, 0);
	expect_op(x, OP_CURSOR, x->u, 0, X86_USER_END, 0);
	expect_op(x, OP_UNMAP, x->k, X86_KERNEL_START, 0 - X86_KERNEL_START, 0);
	expect_op(x, OP_PROTECT, x->k, X86_KERNEL_START, 0 - X86_KERNEL_START, 0);
	expect_op(x, OP_CURSOR, x->k, X86_KERNEL_START, 0 - X86_KERNEL_START, 0);
	expect_op(x, OP_CURSOR, x->uk, 0, X86_USER_END, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_table),
		T(test_empty_and_wrapping),
		T(test_unaligned),
		T(test_out_of_range),
		T(test_kernel_half_through_user_table),
		T(test_map_prop_and_pa_errors),
		T(test_protect_flag_errors),
		T(test_query_ranges),
		T(test_user_half_edges),
		T(test_kernel_half_edges),
		T(test_whole_half_ranges),
	};

	return cmocka_run_group_tests_name("unit_table_ranges", tests, NULL, NULL);
}
