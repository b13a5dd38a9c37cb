/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_cursor - the cursor API (cursor.h, design §5 find_next / jump /
 * take_next, §6): a locked range with a current address.
 *
 * pt_check needs the table to itself, so after each mutating cursor step
 * the test closes the cursor, checks, and reopens it at the same address
 * (cur_checkpoint).
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"


struct ucur {
	struct pt_cursor c;
	struct pt_table *t;
	uint64_t va, len;
};

#define cur_open(u, t, va, len) cur_open_at((u), (t), (va), (len), __FILE__, __LINE__)
static void cur_open_at(struct ucur *u, struct pt_table *t, uint64_t va, uint64_t len,
			const char *file, int line)
{
	int rc;

	u->t = t;
	u->va = va;
	u->len = len;
	rc = pt_cursor_open(&u->c, t, va, len);
	if (rc != 0)
		U_FAIL(file, line, "pt_cursor_open(%#llx, %#llx) = %d (%s)",
		       (unsigned long long)va, (unsigned long long)len, rc, u_err(rc));
	u_assert_u64(pt_cursor_va(&u->c), va, "pt_cursor_va after open", file, line);
}

/* Close, pt_check, reopen at the same current address. */
#define cur_checkpoint(u) cur_checkpoint_at((u), __FILE__, __LINE__)
static void cur_checkpoint_at(struct ucur *u, const char *file, int line)
{
	uint64_t at = pt_cursor_va(&u->c);
	int rc;

	if (at - u->va >= u->len)
		U_FAIL(file, line, "checkpoint of a cursor at its end");
	pt_cursor_close(&u->c);
	u_check(u->t, file, line);
	rc = pt_cursor_open(&u->c, u->t, u->va, u->len);
	if (rc == 0)
		rc = pt_cursor_jump(&u->c, at);
	if (rc != 0)
		U_FAIL(file, line, "reopening the cursor: %d (%s)", rc, u_err(rc));
}

#define cur_close(u) cur_close_at((u), __FILE__, __LINE__)
static void cur_close_at(struct ucur *u, const char *file, int line)
{
	pt_cursor_close(&u->c);
	u_check(u->t, file, line);
}

#define assert_cur_va(u, want) assert_u64(pt_cursor_va(&(u)->c), (want))

/* The cursor's leaf at its current address (without moving). */
#define assert_cur_query(u, want) u_assert_cur_query((u), (want), __FILE__, __LINE__)
static void u_assert_cur_query(struct ucur *u, struct pt_mapping want, const char *file,
			       int line)
{
	struct pt_mapping m;
	uint64_t at = pt_cursor_va(&u->c);
	int rc = pt_cursor_query(&u->c, &m);

	if (rc != 0)
		U_FAIL(file, line, "pt_cursor_query at %#llx = %d (%s)",
		       (unsigned long long)at, rc, u_err(rc));
	u_assert_mapping_eq(&m, &want, file, line);
	u_assert_u64(pt_cursor_va(&u->c), at, "pt_cursor_query moved the cursor", file, line);
}

static void test_open_errors(void **state)
{
	struct u_env *e = *state;
	struct pt_table *t = T0(state);
	struct pt_table *k = u_env_table(e, PT_SPACE_KERNEL);
	struct pt_table *uk = u_env_user_of(e, k);
	struct pt_cursor c;

	assert_rc(pt_cursor_open(NULL, t, 0, SZ_4K), PT_EINVAL);
	assert_rc(pt_cursor_open(&c, NULL, 0, SZ_4K), PT_EINVAL);
	assert_rc(pt_cursor_open(&c, t, 0, 0), PT_EINVAL);
	assert_rc(pt_cursor_open(&c, k, X86_LAST_PAGE, 2 * SZ_4K), PT_EINVAL);
	assert_rc(pt_cursor_open(&c, t, 0x800, SZ_4K), PT_EALIGN);
	assert_rc(pt_cursor_open(&c, t, 0, 0x800), PT_EALIGN);
	assert_rc(pt_cursor_open(&c, t, X86_USER_END, SZ_4K), PT_ERANGE);
	assert_rc(pt_cursor_open(&c, t, X86_USER_END - SZ_4K, 2 * SZ_4K), PT_ERANGE);
	assert_rc(pt_cursor_open(&c, t, X86_KERNEL_START, SZ_4K), PT_ERANGE);
	assert_rc(pt_cursor_open(&c, k, 0, SZ_4K), PT_ERANGE);
	assert_rc(pt_cursor_open(&c, uk, X86_KERNEL_START, SZ_4K), PT_EPERM);
	/* A failed open holds no lock: the same range opens fine now. */
	assert_rc(pt_cursor_open(&c, t, 0, SZ_4K), 0);
	pt_cursor_close(&c);
	assert_rc(pt_cursor_open(&c, k, X86_LAST_PAGE, SZ_4K), 0);
	assert_u64(pt_cursor_va(&c), X86_LAST_PAGE);
	pt_cursor_close(&c);
	CHECK(t);
	CHECK(k);
	CHECK(uk);
}

static void test_jump(void **state)
{
	struct pt_table *t = T0(state);
	const struct pt_mapping huge = mapping(SZ_2M, SZ_1G, SZ_2M, RW, 0, false);
	struct pt_mapping m;
	struct ucur u;

	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_1G, SZ_2M, prop(RW, 0)));
	cur_open(&u, t, 0, 4 * SZ_2M);
	assert_rc(pt_cursor_query(&u.c, &m), PT_ENOENT);
	/* Into the middle of a 2M page: the whole leaf. */
	assert_rc(pt_cursor_jump(&u.c, SZ_2M + 0x145000), 0);
	assert_cur_va(&u, SZ_2M + 0x145000);
	assert_cur_query(&u, huge);
	/* The last page of the range. */
	assert_rc(pt_cursor_jump(&u.c, 4 * SZ_2M - SZ_4K), 0);
	assert_cur_va(&u, 4 * SZ_2M - SZ_4K);
	assert_rc(pt_cursor_query(&u.c, &m), PT_ENOENT);
	/* Out of range / unaligned: refused, cursor stays. */
	assert_rc(pt_cursor_jump(&u.c, 4 * SZ_2M), PT_ERANGE);
	assert_rc(pt_cursor_jump(&u.c, UINT64_MAX & ~0xfffull), PT_ERANGE);
	assert_rc(pt_cursor_jump(&u.c, 0x1001), PT_EALIGN);
	assert_rc(pt_cursor_jump(&u.c, 4 * SZ_2M + 1), PT_EALIGN);
	assert_cur_va(&u, 4 * SZ_2M - SZ_4K);
	/* Backwards is fine. */
	assert_rc(pt_cursor_jump(&u.c, 0), 0);
	assert_cur_va(&u, 0);
	cur_close(&u);

	/* Below the start of a range that does not begin at 0. */
	cur_open(&u, t, 3 * SZ_2M / 2, SZ_2M);
	assert_rc(pt_cursor_jump(&u.c, SZ_2M), PT_ERANGE);
	assert_rc(pt_cursor_jump(&u.c, 0), PT_ERANGE);
	assert_cur_va(&u, 3 * SZ_2M / 2);
	/* The cursor's range starts inside the huge page: still whole. */
	assert_cur_query(&u, huge);
	cur_close(&u);
}

static void test_find_next(void **state)
{
	struct pt_table *t = T0(state);
	const uint64_t end = 8 * SZ_2M / 2; /* 8 MiB */
	struct ucur u;
	uint64_t va = 0;

	assert_ok_checked(t, pt_map(t, 0x5000, 0x5000, SZ_4K, prop(RW, 0)));
	assert_ok_checked(t, pt_map(t, 2 * SZ_2M, SZ_1G, SZ_2M, prop(RW, 0)));
	/* Just past the cursor's range: must never be reported. */
	assert_ok_checked(t, pt_map(t, end, 0x9000, SZ_4K, prop(RW, 0)));

	cur_open(&u, t, 0, end);
	assert_rc(pt_cursor_find_next(&u.c, UINT64_MAX, &va), 0);
	assert_u64(va, 0x5000);
	assert_cur_va(&u, 0x5000);
	/* At a mapping already: that is the answer. */
	assert_rc(pt_cursor_find_next(&u.c, UINT64_MAX, &va), 0);
	assert_u64(va, 0x5000);
	/* Nothing in [0x6000, 0x7000): ENOENT, cursor stays. */
	assert_rc(pt_cursor_jump(&u.c, 0x6000), 0);
	assert_rc(pt_cursor_find_next(&u.c, SZ_4K, &va), PT_ENOENT);
	assert_cur_va(&u, 0x6000);
	/* A window ending exactly where the huge page starts: ENOENT; one
	 * page longer: found. */
	assert_rc(pt_cursor_find_next(&u.c, 2 * SZ_2M - 0x6000, &va), PT_ENOENT);
	assert_cur_va(&u, 0x6000);
	assert_rc(pt_cursor_find_next(&u.c, 2 * SZ_2M - 0x6000 + SZ_4K, &va), 0);
	assert_u64(va, 2 * SZ_2M);
	/* Inside the huge page: the current address, not the leaf's start. */
	assert_rc(pt_cursor_jump(&u.c, 2 * SZ_2M + 0x123000), 0);
	assert_rc(pt_cursor_find_next(&u.c, UINT64_MAX, &va), 0);
	assert_u64(va, 2 * SZ_2M + 0x123000);
	/* After it, only the mapping outside the range: clipped, ENOENT,
	 * and cur + UINT64_MAX must not wrap into a wrong answer. */
	assert_rc(pt_cursor_jump(&u.c, 3 * SZ_2M), 0);
	assert_rc(pt_cursor_find_next(&u.c, UINT64_MAX, &va), PT_ENOENT);
	assert_rc(pt_cursor_jump(&u.c, end - SZ_4K), 0);
	assert_rc(pt_cursor_find_next(&u.c, UINT64_MAX, &va), PT_ENOENT);
	assert_cur_va(&u, end - SZ_4K);
	assert_rc(pt_cursor_find_next(&u.c, 0, &va), PT_EINVAL);
	cur_close(&u);

	/* The last page of the range holds a mapping. */
	assert_ok_checked(t, pt_map(t, end - SZ_4K, 0xa000, SZ_4K, prop(PT_R, 0)));
	cur_open(&u, t, 3 * SZ_2M, end - 3 * SZ_2M);
	assert_rc(pt_cursor_find_next(&u.c, UINT64_MAX, &va), 0);
	assert_u64(va, end - SZ_4K);
	cur_close(&u);
}

/* find_next at the top of the address space: va + len == 2^64. */
static void test_find_next_top_of_space(void **state)
{
	struct u_env *e = *state;
	struct pt_table *k = u_env_table(e, PT_SPACE_KERNEL);
	struct pt_taken tk;
	struct ucur u;
	uint64_t va = 0;

	assert_ok_checked(k, pt_map(k, X86_LAST_PAGE, 0x9000, SZ_4K, prop(RW, 0)));
	cur_open(&u, k, 0 - SZ_1G, SZ_1G);
	assert_rc(pt_cursor_find_next(&u.c, UINT64_MAX, &va), 0);
	assert_u64(va, X86_LAST_PAGE);
	assert_rc(pt_cursor_jump(&u.c, X86_LAST_PAGE - SZ_4K), 0);
	assert_rc(pt_cursor_find_next(&u.c, UINT64_MAX, &va), 0);
	assert_u64(va, X86_LAST_PAGE);
	/* Take it: the cursor is then at its end (2^64), where find_next is
	 * PT_EINVAL (cursor.h). */
	assert_rc(pt_cursor_take_next(&u.c, UINT64_MAX, &tk, NULL), 0);
	assert_false(tk.subtree);
	assert_u64(tk.mapping.va, X86_LAST_PAGE);
	assert_rc(pt_cursor_find_next(&u.c, UINT64_MAX, &va), PT_EINVAL);
	cur_close(&u);
	assert_unmapped(k, X86_LAST_PAGE);
}

/* A range starting inside a huge leaf: find_next finds the range's start. */
static void test_find_next_inside_huge(void **state)
{
	struct pt_table *t = T0(state);
	struct ucur u;
	uint64_t va = 0;

	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_1G, SZ_2M, prop(RW, 0)));
	cur_open(&u, t, SZ_2M + 0x100000, SZ_2M);
	assert_rc(pt_cursor_find_next(&u.c, UINT64_MAX, &va), 0);
	assert_u64(va, SZ_2M + 0x100000);
	cur_close(&u);
}

/* Accept one of two codes where the header names the condition but not
 * its code. */
#define assert_rc_either(expr, a, b)                                           \
	do {                                                                   \
		int r_ = (expr);                                               \
		if (r_ != (a) && r_ != (b))                                    \
			fail_msg("%s = %d (%s), expected %s or %s", #expr, r_, \
				 u_err(r_), u_err(a), u_err(b));               \
	} while (0)

static void test_cursor_map(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_phys *phys = pt_table_phys(t);
	struct pt_mapping it;
	struct u_view v;
	struct ucur u;
	uint64_t fr, dead;

	cur_open(&u, t, 0, 4 * SZ_1G);
	it = mapping(0, 0x1000, SZ_4K, RW, 0, false);
	assert_rc(pt_cursor_map(&u.c, &it), 0);
	cur_checkpoint(&u);
	assert_cur_va(&u, SZ_4K);
	it = mapping(SZ_4K, 0x2000, SZ_4K, PT_R, PT_CACHE_UC, false);
	assert_rc(pt_cursor_map(&u.c, &it), 0);
	cur_checkpoint(&u);
	assert_cur_va(&u, 2 * SZ_4K);
	assert_rc(pt_cursor_jump(&u.c, SZ_2M), 0);
	it = mapping(SZ_2M, SZ_2M, SZ_2M, RWX, 0, false);
	assert_rc(pt_cursor_map(&u.c, &it), 0);
	cur_checkpoint(&u);
	assert_cur_va(&u, 2 * SZ_2M);
	assert_rc(pt_cursor_jump(&u.c, SZ_1G), 0);
	it = mapping(SZ_1G, 4 * SZ_1G, SZ_1G, RW, 0, false);
	assert_rc(pt_cursor_map(&u.c, &it), 0);
	cur_checkpoint(&u);
	assert_cur_va(&u, 2 * SZ_1G);
	cur_close(&u);
	assert_query(t, 0, mapping(0, 0x1000, SZ_4K, RW, 0, false));
	assert_query(t, SZ_4K, mapping(SZ_4K, 0x2000, SZ_4K, PT_R, PT_CACHE_UC, false));
	assert_query(t, SZ_2M + 5, mapping(SZ_2M, SZ_2M, SZ_2M, RWX, 0, false));
	assert_query(t, 2 * SZ_1G - 1, mapping(SZ_1G, 4 * SZ_1G, SZ_1G, RW, 0, false));

	/* Refusals change nothing and leave the cursor where it was. */
	u_view_take(t, &v);
	cur_open(&u, t, 0, 4 * SZ_1G);
	assert_rc(pt_cursor_jump(&u.c, 0x5000), 0);
	it = mapping(0x5000, SZ_2M, SZ_2M, RW, 0, false);          /* va misaligned */
	assert_rc(pt_cursor_map(&u.c, &it), PT_EALIGN);
	it = mapping(0x5000, 0x1800, SZ_4K, RW, 0, false);         /* pa misaligned */
	assert_rc(pt_cursor_map(&u.c, &it), PT_EALIGN);
	assert_rc(pt_cursor_jump(&u.c, 2 * SZ_2M), 0);
	it = mapping(2 * SZ_2M, SZ_2M + SZ_4K, SZ_2M, RW, 0, false);
	assert_rc(pt_cursor_map(&u.c, &it), PT_EALIGN);
	it = mapping(2 * SZ_2M, SZ_1G, SZ_1G, RW, 0, false);        /* 1G at a 2M va */
	assert_rc(pt_cursor_map(&u.c, &it), PT_EALIGN);
	it = mapping(2 * SZ_2M, 0, 2 * SZ_4K, RW, 0, false);        /* not a leaf size */
	assert_rc(pt_cursor_map(&u.c, &it), PT_EINVAL);
	it = mapping(2 * SZ_2M, 0, SZ_512G, RW, 0, false);          /* no level-4 leaves */
	assert_rc(pt_cursor_map(&u.c, &it), PT_EINVAL);
	it = mapping(2 * SZ_2M + SZ_4K, 0, SZ_4K, RW, 0, false);    /* va != current */
	assert_rc(pt_cursor_map(&u.c, &it), PT_EINVAL);
	it = mapping(2 * SZ_2M, 0, SZ_4K, PT_R, PT_CACHE_WC, false); /* inexpressible */
	assert_rc(pt_cursor_map(&u.c, &it), PT_EINVAL);
	assert_cur_va(&u, 2 * SZ_2M);
	/* Overlaps. */
	assert_rc(pt_cursor_jump(&u.c, 0), 0);
	it = mapping(0, 0x9000, SZ_4K, RW, 0, false);
	assert_rc(pt_cursor_map(&u.c, &it), PT_EEXIST);
	it = mapping(0, 0, SZ_2M, RW, 0, false);
	assert_rc(pt_cursor_map(&u.c, &it), PT_EEXIST);
	it = mapping(0, 0, SZ_1G, RW, 0, false);
	assert_rc(pt_cursor_map(&u.c, &it), PT_EEXIST);
	assert_rc(pt_cursor_jump(&u.c, SZ_1G + SZ_2M), 0);
	it = mapping(SZ_1G + SZ_2M, 0, SZ_4K, RW, 0, false);
	assert_rc(pt_cursor_map(&u.c, &it), PT_EEXIST);
	assert_cur_va(&u, SZ_1G + SZ_2M);
	cur_close(&u);
	assert_view_same(t, &v);
	u_view_free(&v);

	/* A leaf larger than what is left of the cursor's range. */
	u_view_take(t, &v);
	cur_open(&u, t, 3 * SZ_1G, SZ_1G / 2);
	it = mapping(3 * SZ_1G, 0, SZ_1G, RW, 0, false);
	assert_rc_either(pt_cursor_map(&u.c, &it), PT_ERANGE, PT_EINVAL);
	cur_close(&u);
	assert_view_same(t, &v);
	u_view_free(&v);

	/* Tracked items: 4K data frames only, one reference each. */
	assert_rc(pt_frame_alloc(phys, &fr), 0);
	assert_rc(pt_frame_alloc(phys, &dead), 0);
	assert_rc(pt_frame_put(phys, dead), 0);
	cur_open(&u, t, 3 * SZ_1G, SZ_1G);
	it = mapping(3 * SZ_1G, fr, SZ_2M, RW, 0, true);
	assert_rc(pt_cursor_map(&u.c, &it), PT_EINVAL);
	it = mapping(3 * SZ_1G, dead, SZ_4K, RW, 0, true);
	assert_rc(pt_cursor_map(&u.c, &it), PT_EINVAL);
	it = mapping(3 * SZ_1G, pt_table_root(t), SZ_4K, RW, 0, true);
	assert_rc(pt_cursor_map(&u.c, &it), PT_EINVAL);
	assert_u64(pt_frame_refcount(phys, fr), 1);
	it = mapping(3 * SZ_1G, fr, SZ_4K, RW, 0, true);
	assert_rc(pt_cursor_map(&u.c, &it), 0);
	cur_checkpoint(&u);
	assert_u64(pt_frame_refcount(phys, fr), 2);
	cur_close(&u);
	assert_query(t, 3 * SZ_1G, mapping(3 * SZ_1G, fr, SZ_4K, RW, 0, true));
	assert_ok_checked(t, pt_unmap(t, 3 * SZ_1G, SZ_4K, NULL));
	assert_u64(pt_frame_refcount(phys, fr), 1);
	assert_rc(pt_frame_put(phys, fr), 0);
}

/* A cursor map over an empty node behaves as pt_map: the node goes. */
static void test_cursor_map_over_empty_node(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_mapping it = mapping(SZ_2M, SZ_2M, SZ_2M, RW, 0, false);
	struct ucur u;

	assert_ok_checked(t, pt_map(t, SZ_2M + SZ_4K, 0, SZ_4K, prop(RW, 0)));
	assert_ok_checked(t, pt_unmap(t, SZ_2M + SZ_4K, SZ_4K, NULL));
	cur_open(&u, t, 0, SZ_1G);
	assert_rc(pt_cursor_jump(&u.c, SZ_2M), 0);
	assert_rc(pt_cursor_map(&u.c, &it), 0);
	cur_checkpoint(&u);
	cur_close(&u);
	assert_query(t, SZ_2M, it);
}

static void test_take_next_leaves(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_phys *phys = pt_table_phys(t);
	struct pt_taken tk;
	struct ucur u;
	uint64_t fr;

	assert_rc(pt_frame_alloc(phys, &fr), 0);
	assert_ok_checked(t, pt_map(t, 0x5000, 0x9000, SZ_4K, prop(RW, PT_CACHE_WT)));
	assert_ok_checked(t, pt_map_frames(t, 0x7000, &fr, 1, prop(PT_R | PT_U, 0)));
	/* [0, 0x10000) covers no node whole: leaves come one at a time. */
	cur_open(&u, t, 0, 0x10000);
	assert_rc(pt_cursor_take_next(&u.c, 0, &tk, NULL), PT_EINVAL);
	memset(&tk, 0xff, sizeof tk);
	assert_rc(pt_cursor_take_next(&u.c, UINT64_MAX, &tk, NULL), 0);
	cur_checkpoint(&u);
	assert_false(tk.subtree);
	{
		struct pt_mapping w = mapping(0x5000, 0x9000, SZ_4K, RW, PT_CACHE_WT, false);
		assert_mapping_eq(&tk.mapping, &w);
	}
	assert_cur_va(&u, 0x6000);
	assert_rc(pt_cursor_take_next(&u.c, UINT64_MAX, &tk, NULL), 0);
	cur_checkpoint(&u);
	assert_false(tk.subtree);
	{
		struct pt_mapping w = mapping(0x7000, fr, SZ_4K, PT_R | PT_U, 0, true);
		assert_mapping_eq(&tk.mapping, &w);
	}
	/* NULL batch: released before return. */
	assert_u64(pt_frame_refcount(phys, fr), 1);
	assert_cur_va(&u, 0x8000);
	assert_rc(pt_cursor_take_next(&u.c, UINT64_MAX, &tk, NULL), PT_ENOENT);
	cur_close(&u);
	assert_unmapped(t, 0x5000);
	assert_unmapped(t, 0x7000);
	assert_rc(pt_frame_put(phys, fr), 0);
}

/* A huge leaf partly inside: split first, only the inside part taken. */
static void clear_w(struct pt_prop *p, void *arg)
{
	p->flags &= ~PT_W;
}

/* A window that ends inside the first page holds no whole page: nothing is
 * taken or protected, at va 0 too (where "the page before" would wrap). */
static void test_short_window_takes_nothing(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_taken tk;
	struct ucur u;

	assert_ok_checked(t, pt_map(t, 0, 0x9000, SZ_4K, prop(RW, 0)));
	assert_ok_checked(t, pt_map(t, 0x200000, 0xa000, SZ_4K, prop(RW, 0)));
	for (uint64_t start = 0; start <= 0x200000; start += 0x200000) {
		cur_open(&u, t, start, SZ_2M);
		assert_rc(pt_cursor_take_next(&u.c, 0x800, &tk, NULL), PT_ENOENT);
		assert_rc(pt_cursor_protect_next(&u.c, SZ_4K - 1, clear_w, NULL, NULL, NULL, NULL),
			  PT_ENOENT);
		assert_cur_va(&u, start);
		cur_close(&u);
		struct pt_mapping m;
		assert_rc(pt_query(t, start, &m), 0);
		assert_true(m.prop.flags & PT_W);
	}
}

static void test_take_next_splits(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_taken tk;
	struct ucur u;

	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_1G, SZ_2M, prop(RW, 0)));
	cur_open(&u, t, SZ_2M + 0x100000, 2 * SZ_4K);
	assert_rc(pt_cursor_take_next(&u.c, SZ_4K, &tk, NULL), 0);
	cur_checkpoint(&u);
	assert_false(tk.subtree);
	{
		struct pt_mapping w = mapping(SZ_2M + 0x100000, SZ_1G + 0x100000, SZ_4K, RW, 0,
					      false);
		assert_mapping_eq(&tk.mapping, &w);
	}
	assert_cur_va(&u, SZ_2M + 0x101000);
	cur_close(&u);
	assert_unmapped(t, SZ_2M + 0x100000);
	assert_query(t, SZ_2M + 0x101000, mapping(SZ_2M + 0x101000, SZ_1G + 0x101000, SZ_4K,
						  RW, 0, false));
	assert_query(t, SZ_2M, mapping(SZ_2M, SZ_1G, SZ_4K, RW, 0, false));
}

/* A 1G range holding 3 2M leaves and 5 tracked 4K pages goes as one
 * subtree, with its numbers. */
static void test_take_next_subtree(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_phys *phys = pt_table_phys(t);
	uint64_t fr[5], free0;
	struct pt_table_stats s;
	struct pt_taken tk;
	struct ucur u;
	int i;

	for (i = 0; i < 5; i++)
		assert_rc(pt_frame_alloc(phys, &fr[i]), 0);
	free0 = u_free_frames(phys);
	assert_ok_checked(t, pt_map(t, SZ_1G, 0, SZ_2M, prop(RW, 0)));
	assert_ok_checked(t, pt_map(t, SZ_1G + SZ_2M, 0x40000000, SZ_2M, prop(RW, 0)));
	assert_ok_checked(t, pt_map(t, SZ_1G + 3 * SZ_2M, 0x80000000, SZ_2M, prop(PT_R, 0)));
	assert_ok_checked(t, pt_map_frames(t, SZ_1G + 10 * SZ_2M, fr, 5, prop(RW, 0)));
	for (i = 0; i < 5; i++)
		assert_u64(pt_frame_refcount(phys, fr[i]), 2);

	/* From 0 over 4G: [0, 1G) holds nothing, the next thing is the
	 * level-2 node of [1G, 2G), whole inside the range. */
	cur_open(&u, t, 0, 4 * SZ_1G);
	memset(&tk, 0, sizeof tk);
	assert_rc(pt_cursor_take_next(&u.c, UINT64_MAX, &tk, NULL), 0);
	cur_checkpoint(&u);
	assert_true(tk.subtree);
	assert_u64(tk.va, SZ_1G);
	assert_u64(tk.len, SZ_1G);
	assert_u64(tk.nr_mappings, 3 + 5);
	assert_u64(tk.nr_tracked, 5);
	assert_cur_va(&u, 2 * SZ_1G);
	assert_rc(pt_cursor_take_next(&u.c, UINT64_MAX, &tk, NULL), PT_ENOENT);
	cur_close(&u);

	for (i = 0; i < 5; i++) {
		assert_u64(pt_frame_refcount(phys, fr[i]), 1);
		assert_rc(pt_frame_put(phys, fr[i]), 0);
	}
	assert_unmapped(t, SZ_1G);
	assert_unmapped(t, SZ_1G + 10 * SZ_2M);
	assert_rc(pt_table_stats(t, &s), 0);
	assert_u64(s.nodes[2], 0);
	assert_u64(s.nodes[1], 0);
	assert_u64(s.nodes[3], 1);
	/* The level-2 and level-1 nodes came back (the level-3 one stays). */
	assert_u64(u_free_frames(phys), free0 - 1 + 5);
}

struct op_rec {
	int calls;
	struct pt_prop seen[8];
	uint32_t set, clear;
	bool set_cache;
	uint32_t cache;
};

static void op_fn(struct pt_prop *p, void *arg)
{
	struct op_rec *r = arg;

	if (r->calls < 8)
		r->seen[r->calls] = *p;
	r->calls++;
	p->flags = (p->flags | r->set) & ~r->clear;
	if (r->set_cache)
		p->cache = r->cache;
}

static void test_protect_next(void **state)
{
	struct pt_table *t = T0(state);
	struct op_rec r;
	struct u_view v;
	struct ucur u;
	uint64_t va, len;

	assert_ok_checked(t, pt_map(t, 0x1000, 0x1000, SZ_4K, prop(RW | PT_U, 0)));
	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_2M, SZ_2M, prop(RWX, PT_CACHE_UC)));
	assert_ok_checked(t, pt_map(t, 2 * SZ_2M, 0x3000, SZ_4K, prop(RW, 0)));

	memset(&r, 0, sizeof r);
	r.clear = PT_W;
	cur_open(&u, t, 0, 4 * SZ_2M);
	assert_rc(pt_cursor_protect_next(&u.c, UINT64_MAX, op_fn, &r, &va, &len, NULL), 0);
	cur_checkpoint(&u);
	assert_u64(va, 0x1000);
	assert_u64(len, SZ_4K);
	assert_cur_va(&u, 0x2000);
	assert_rc(pt_cursor_protect_next(&u.c, UINT64_MAX, op_fn, &r, &va, &len, NULL), 0);
	cur_checkpoint(&u);
	assert_u64(va, SZ_2M);
	assert_u64(len, SZ_2M);
	assert_rc(pt_cursor_protect_next(&u.c, UINT64_MAX, op_fn, &r, &va, &len, NULL), 0);
	cur_checkpoint(&u);
	assert_u64(va, 2 * SZ_2M);
	assert_u64(len, SZ_4K);
	assert_rc(pt_cursor_protect_next(&u.c, UINT64_MAX, op_fn, &r, &va, &len, NULL),
		  PT_ENOENT);
	cur_close(&u);
	assert_query(t, 0x1000, mapping(0x1000, 0x1000, SZ_4K, PT_R | PT_U, 0, false));
	assert_query(t, SZ_2M, mapping(SZ_2M, SZ_2M, SZ_2M, PT_R | PT_X, PT_CACHE_UC, false));
	assert_query(t, 2 * SZ_2M, mapping(2 * SZ_2M, 0x3000, SZ_4K, PT_R, 0, false));

	/* Partly inside a huge leaf: split, only the inside page changes. */
	memset(&r, 0, sizeof r);
	r.set = PT_W;
	cur_open(&u, t, SZ_2M + 0x100000, SZ_4K);
	assert_rc(pt_cursor_protect_next(&u.c, UINT64_MAX, op_fn, &r, &va, &len, NULL), 0);
	assert_u64(va, SZ_2M + 0x100000);
	assert_u64(len, SZ_4K);
	cur_close(&u);
	assert_query(t, SZ_2M + 0x100000, mapping(SZ_2M + 0x100000, SZ_2M + 0x100000, SZ_4K,
						  RWX, PT_CACHE_UC, false));
	assert_query(t, SZ_2M, mapping(SZ_2M, SZ_2M, SZ_4K, PT_R | PT_X, PT_CACHE_UC, false));

	/* op's result is normalized: W without R comes back RW. */
	memset(&r, 0, sizeof r);
	r.clear = PT_R;
	r.set = PT_W;
	cur_open(&u, t, 0x1000, SZ_4K);
	assert_rc(pt_cursor_protect_next(&u.c, UINT64_MAX, op_fn, &r, &va, &len, NULL), 0);
	cur_close(&u);
	assert_query(t, 0x1000, mapping(0x1000, 0x1000, SZ_4K, RW | PT_U, 0, false));

	/* Inexpressible results: PT_EINVAL, nothing changes, no move. */
	u_view_take(t, &v);
	memset(&r, 0, sizeof r);
	r.set_cache = true;
	r.cache = PT_CACHE_WC;
	cur_open(&u, t, 0, 4 * SZ_2M);
	assert_rc(pt_cursor_protect_next(&u.c, UINT64_MAX, op_fn, &r, &va, &len, NULL),
		  PT_EINVAL);
	assert_cur_va(&u, 0);
	memset(&r, 0, sizeof r);
	r.set = 1u << 7;
	assert_rc(pt_cursor_protect_next(&u.c, UINT64_MAX, op_fn, &r, &va, &len, NULL),
		  PT_EINVAL);
	assert_cur_va(&u, 0);
	/* Nothing in the window: ENOENT, op not called. */
	memset(&r, 0, sizeof r);
	assert_rc(pt_cursor_jump(&u.c, 0x2000), 0);
	assert_rc(pt_cursor_protect_next(&u.c, SZ_4K, op_fn, &r, &va, &len, NULL), PT_ENOENT);
	assert_int_equal(r.calls, 0);
	cur_close(&u);
	assert_view_same(t, &v);
	u_view_free(&v);
}

/*
 * op is called exactly once per leaf, with the leaf's current property, as
 * the seed's protect(op: FnOnce): callers count, log or toggle in op.
 */
static void test_protect_next_op_once(void **state)
{
	struct pt_table *t = T0(state);
	struct op_rec r;
	struct ucur u;
	uint64_t va, len;

	assert_ok_checked(t, pt_map(t, 0x1000, 0x1000, SZ_4K, prop(RW | PT_U, 0)));
	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_2M, SZ_2M, prop(RWX, PT_CACHE_UC)));
	memset(&r, 0, sizeof r);
	r.clear = PT_W;
	cur_open(&u, t, 0, 4 * SZ_2M);
	assert_rc(pt_cursor_protect_next(&u.c, UINT64_MAX, op_fn, &r, &va, &len, NULL), 0);
	cur_checkpoint(&u);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.seen[0].flags, RW | PT_U);
	assert_rc(pt_cursor_protect_next(&u.c, UINT64_MAX, op_fn, &r, &va, &len, NULL), 0);
	cur_checkpoint(&u);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.seen[1].flags, RWX);
	assert_int_equal(r.seen[1].cache, PT_CACHE_UC);
	cur_close(&u);
}

/* An op whose second call would be inexpressible (WC without the PAT
 * option).  Called once, it is harmless. */
static void flaky_op(struct pt_prop *p, void *arg)
{
	int *calls = arg;

	if (++*calls >= 2)
		p->cache = PT_CACHE_WC;
	else
		p->flags &= ~PT_W;
}

/*
 * Caller input must never reach an internal assertion (design §7 "Nothing
 * aborts on caller input").  Runs in a child process so that an abort is
 * reported as this test's failure instead of killing the whole binary.
 */
static void test_protect_next_stateful_op_no_abort(void **state)
{
	struct pt_table *t = T0(state);
	pid_t pid;
	int status = 0;

	assert_ok_checked(t, pt_map(t, 0x1000, 0x1000, SZ_4K, prop(RW, 0)));
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pt_cursor c;
		struct pt_mapping m;
		uint64_t va, len;
		int calls = 0, rc;

		if (pt_cursor_open(&c, t, 0, 0x10000) != 0)
			_exit(10);
		rc = pt_cursor_protect_next(&c, UINT64_MAX, flaky_op, &calls, &va, &len, NULL);
		pt_cursor_close(&c);
		/* Either outcome is fine if the table stays sound: applied
		 * once (R), or refused (RW, unchanged). */
		if (pt_query(t, 0x1000, &m) != 0 || pt_check(t, NULL, 0) != 0)
			_exit(11);
		if (rc == 0 && (m.prop.flags != PT_R || m.prop.cache != PT_CACHE_WB))
			_exit(12);
		if (rc != 0 && (rc != PT_EINVAL || m.prop.flags != RW))
			_exit(13);
		_exit(0);
	}
	assert_true(waitpid(pid, &status, 0) == pid);
	if (WIFSIGNALED(status))
		fail_msg("protect_next with a stateful op killed the process (signal %d)",
			 WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("protect_next with a stateful op: child check %d failed",
			 WEXITSTATUS(status));
}

/* After the last page, the cursor is at its end: pt_cursor_va is the end
 * of the range and find_next says PT_EINVAL (cursor.h). */
static void test_cursor_at_end(void **state)
{
	struct pt_table *t = T0(state);
	struct pt_mapping it = mapping(SZ_4K, 0x9000, SZ_4K, RW, 0, false);
	struct pt_taken tk;
	struct ucur u;
	uint64_t va;

	/* By cursor_map of the last page. */
	cur_open(&u, t, 0, 2 * SZ_4K);
	assert_rc(pt_cursor_jump(&u.c, SZ_4K), 0);
	assert_rc(pt_cursor_map(&u.c, &it), 0);
	assert_cur_va(&u, 2 * SZ_4K);
	assert_rc(pt_cursor_find_next(&u.c, UINT64_MAX, &va), PT_EINVAL);
	cur_close(&u);
	/* By take_next of the last page, found from the start. */
	cur_open(&u, t, 0, 2 * SZ_4K);
	assert_rc(pt_cursor_take_next(&u.c, UINT64_MAX, &tk, NULL), 0);
	assert_u64(tk.mapping.va, SZ_4K);
	assert_cur_va(&u, 2 * SZ_4K);
	assert_rc(pt_cursor_find_next(&u.c, UINT64_MAX, &va), PT_EINVAL);
	/* ...and query and take_next PT_ENOENT. */
	struct pt_mapping m;
	assert_rc(pt_cursor_query(&u.c, &m), PT_ENOENT);
	assert_rc(pt_cursor_take_next(&u.c, UINT64_MAX, &tk, NULL), PT_ENOENT);
	cur_close(&u);
	assert_unmapped(t, SZ_4K);
	/* A mapping right past the range: at its end the cursor queries
	 * nothing, though its address (the range's end) is that page. */
	assert_rc(pt_map(t, SZ_4K, 0x9000, 2 * SZ_4K, prop(RW, 0)), 0);
	cur_open(&u, t, 0, 2 * SZ_4K);
	assert_rc(pt_cursor_jump(&u.c, SZ_4K), 0);
	assert_rc(pt_cursor_query(&u.c, &m), 0);
	assert_rc(pt_cursor_take_next(&u.c, SZ_4K, &tk, NULL), 0);
	assert_rc(pt_cursor_query(&u.c, &m), PT_ENOENT);
	cur_close(&u);
}

/* take_next into a batch: the table's references and the invalidation wait
 * for pt_flush_finish, through the table's own invalidate callback. */
static void test_take_next_with_flush(void **state)
{
	struct u_env *e = *state;
	static struct u_inval rec;
	struct pt_table_opts o = u_opts_inval(&rec);
	struct pt_table *t = u_env_table_opts(e, PT_SPACE_USER, &o);
	uint64_t fr[3], free1;
	struct pt_flush f;
	struct pt_taken tk;
	struct ucur u;
	int i;

	for (i = 0; i < 3; i++)
		assert_rc(pt_frame_alloc(e->phys, &fr[i]), 0);
	rec.phys = e->phys;
	rec.root_pa = pt_table_root(t);
	rec.watch = fr;
	rec.nwatch = 3;
	assert_ok_checked(t, pt_map_frames(t, 0x10000, fr, 3, prop(RW, 0)));
	u_inval_reset(&rec);

	pt_flush_init(&f, t);
	cur_open(&u, t, 0x10000, 3 * SZ_4K);
	for (i = 0; i < 3; i++) {
		assert_rc(pt_cursor_take_next(&u.c, UINT64_MAX, &tk, &f), 0);
		if (i < 2)
			cur_checkpoint(&u); /* the batch stays pending */
		assert_false(tk.subtree);
		assert_u64(tk.mapping.pa, fr[i]);
		assert_true(tk.mapping.tracked);
		assert_int_equal(rec.calls, 0);
		assert_u64(pt_frame_refcount(e->phys, fr[i]), 2);
	}
	cur_close(&u);
	assert_unmapped(t, 0x10000);
	for (i = 0; i < 3; i++)
		assert_u64(pt_frame_refcount(e->phys, fr[i]), 2);
	assert_int_equal(rec.calls, 0);
	assert_rc(pt_flush_finish(&f), 0);
	CHECK(t);
	assert_true(rec.calls >= 1);
	assert_false(rec.root_mismatch);
	assert_true(u_inval_covers(&rec, 0x10000, 3 * SZ_4K));
	/* At invalidation time the table still held its references. */
	assert_u64(rec.watch_min_at_call, 2);
	for (i = 0; i < 3; i++)
		assert_u64(pt_frame_refcount(e->phys, fr[i]), 1);
	CHECK(t);

	/* A subtree into a batch: its node memory waits for the flush too. */
	assert_ok_checked(t, pt_map_frames(t, SZ_1G + SZ_2M, fr, 3, prop(RW, 0)));
	u_inval_reset(&rec);
	free1 = u_free_frames(e->phys);
	pt_flush_init(&f, t);
	cur_open(&u, t, SZ_1G, SZ_1G);
	assert_rc(pt_cursor_take_next(&u.c, UINT64_MAX, &tk, &f), 0);
	assert_true(tk.subtree);
	assert_u64(tk.nr_mappings, 3);
	assert_u64(tk.nr_tracked, 3);
	cur_close(&u);
	assert_int_equal(rec.calls, 0);
	assert_u64(pt_frame_refcount(e->phys, fr[0]), 2);
	assert_u64(u_free_frames(e->phys), free1);
	assert_rc(pt_flush_finish(&f), 0);
	CHECK(t);
	assert_true(rec.calls >= 1);
	assert_true(rec.nodes_removed);
	assert_true(u_inval_covers(&rec, SZ_1G + SZ_2M, 3 * SZ_4K));
	assert_u64(rec.watch_min_at_call, 2);
	for (i = 0; i < 3; i++) {
		assert_u64(pt_frame_refcount(e->phys, fr[i]), 1);
		assert_rc(pt_frame_put(e->phys, fr[i]), 0);
	}
	rec.nwatch = 0;
	CHECK(t);
}

/* protect_next records its range too (upgrades included). */
static void test_protect_next_with_flush(void **state)
{
	struct u_env *e = *state;
	static struct u_inval rec;
	struct pt_table_opts o = u_opts_inval(&rec);
	struct pt_table *t = u_env_table_opts(e, PT_SPACE_USER, &o);
	struct op_rec r;
	struct pt_flush f;
	struct ucur u;
	uint64_t va, len;

	rec.root_pa = pt_table_root(t);
	assert_ok_checked(t, pt_map(t, 0x10000, 0x10000, SZ_4K, prop(PT_R, 0)));
	u_inval_reset(&rec);
	memset(&r, 0, sizeof r);
	r.set = PT_W;
	pt_flush_init(&f, t);
	cur_open(&u, t, 0, SZ_1G);
	assert_rc(pt_cursor_protect_next(&u.c, UINT64_MAX, op_fn, &r, &va, &len, &f), 0);
	cur_checkpoint(&u);
	cur_close(&u);
	assert_int_equal(rec.calls, 0);
	assert_rc(pt_flush_finish(&f), 0);
	CHECK(t);
	assert_true(rec.calls >= 1);
	assert_true(u_inval_covers(&rec, 0x10000, SZ_4K));
	assert_query(t, 0x10000, mapping(0x10000, 0x10000, SZ_4K, RW, 0, false));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, u_setup_user, u_teardown)
	const struct CMUnitTest tests[] = {
		T(test_open_errors),
		T(test_jump),
		T(test_find_next),
		T(test_find_next_top_of_space),
		T(test_find_next_inside_huge),
		T(test_cursor_map),
		T(test_cursor_map_over_empty_node),
		T(test_take_next_leaves),
		T(test_short_window_takes_nothing),
		T(test_take_next_splits),
		T(test_take_next_subtree),
		T(test_protect_next),
		T(test_protect_next_op_once),
		T(test_protect_next_stateful_op_no_abort),
		T(test_cursor_at_end),
		T(test_take_next_with_flush),
		T(test_protect_next_with_flush),
	};

	return cmocka_run_group_tests_name("unit_cursor", tests, NULL, NULL);
}
