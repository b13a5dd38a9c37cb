/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_table_move - pt_move on every format (design §5): runs of 4 KiB
 * leaves, tracked ones keeping their reference counts; huge leaves whose
 * size divides the distance (kept) or not (split into the largest that
 * does); huge leaves only partly inside (split at the source); whole
 * subtrees, moved as the same node, not copied; errors in §5's order with
 * nothing changed; PT_ENOMEM at every allocation with nothing changed;
 * the source's invalidation.
 */
#include "unit.h"

static const struct pt_format *const formats[] = {
	&pt_format_x86_64, &pt_format_x86_64_la57, &pt_format_riscv_sv39,
	&pt_format_riscv_sv48, &pt_format_aarch64_4k,
};
#define NFMT (sizeof formats / sizeof formats[0])

/* A case runs once per format, on 64 MiB of RAM with a user table t of
 * format f whose invalidations go to rec. */
#define MOVE_CASE(name)                                                            \
	static void name(struct u_env *e __attribute__((unused)),                  \
			 struct pt_table *t __attribute__((unused)),               \
			 const struct pt_format *f __attribute__((unused)),        \
			 struct u_inval *rec __attribute__((unused)))

static void on_every_format(void (*fn)(struct u_env *, struct pt_table *,
				       const struct pt_format *, struct u_inval *))
{
	for (size_t k = 0; k < NFMT; k++) {
		struct u_env *e = u_env_new(64ull << 20);
		struct u_inval rec;
		struct pt_table_opts o = u_opts_inval(&rec);
		struct pt_table *t = NULL;

		memset(&rec, 0, sizeof rec);
		assert_rc(pt_table_create_opts(e->phys, formats[k], PT_SPACE_USER, &o, &t), 0);
		CHECK(t);
		u_env_push(e, t);
		rec.root_pa = pt_table_root(t);
		rec.phys = e->phys;
		u_inval_reset(&rec);
		fn(e, t, formats[k], &rec);
		u_env_free(e);
	}
}

/* The pa of the node at `level` on va's path, read from the raw entries
 * (0 if there is none). */
static uint64_t node_pa(struct pt_table *t, uint64_t va, unsigned level)
{
	const struct pt_format *f = pt_table_format(t);
	uint64_t pa = pt_table_root(t);

	for (unsigned l = f->levels; l > level; l--) {
		const uint64_t *ptes = pt_phys_to_virt(pt_table_phys(t), pa);
		uint64_t pte = ptes[(va >> (12 + 9 * (l - 1))) & 511];
		if (f->decode(pte, l, 0, &pa, NULL, NULL) != PT_DECODE_TABLE)
			return 0;
	}
	return pa;
}

/* pt_query(t, va) must give the untracked leaf (va, pa, size) with the
 * format's normalization of flags (RISC-V and AArch64 add A). */
#define assert_leaf(t, va, pa, size, fl)                                        \
	assert_query((t), (va), mapping((va), (pa), (size),                         \
					u_norm((t), prop((fl), 0), 0).flags, 0, false))

/* Every leaf of [va, va + len) moved by delta: the same list, shifted. */
static void assert_moved(struct pt_table *t, const struct u_list *before, uint64_t delta)
{
	struct u_list now = { 0 };

	u_collect(t, before->m[0].va + delta,
		  before->m[before->n - 1].va + before->m[before->n - 1].size -
			  before->m[0].va, &now);
	assert_u64(now.n, before->n);
	for (size_t i = 0; i < now.n; i++) {
		struct pt_mapping w = before->m[i];
		w.va += delta;
		assert_mapping_eq(&now.m[i], &w);
	}
	u_list_free(&now);
}

/* 4 KiB runs across a leaf table's end, tracked and untracked, by a
 * distance that is not a multiple of 2 MiB: entries move one by one,
 * counts stay. */
MOVE_CASE(move_4k_runs)
{
	const uint64_t src = 4 * SZ_1G + SZ_2M - 5 * SZ_4K, delta = 7 * SZ_1G + 3 * SZ_4K;
	uint64_t frames[8];
	struct u_list before = { 0 };

	for (int i = 0; i < 8; i++)
		assert_rc(pt_frame_alloc(e->phys, &frames[i]), 0);
	assert_ok_checked(t, pt_map_frames(t, src, frames, 8, prop(RW | PT_U, 0)));
	assert_ok_checked(t, pt_map(t, src + 8 * SZ_4K, 0x300000, 4 * SZ_4K,
				    prop(PT_R, 0)));
	u_collect(t, src, 12 * SZ_4K, &before);
	assert_ok_checked(t, pt_move(t, src, src + delta, 12 * SZ_4K, NULL));
	assert_moved(t, &before, delta);
	for (int i = 0; i < 12; i++)
		assert_unmapped(t, src + i * SZ_4K);
	for (int i = 0; i < 8; i++) /* ours, and the table's one */
		assert_u64(pt_frame_refcount(e->phys, frames[i]), 2);
	/* And back, by a negative distance. */
	assert_ok_checked(t, pt_move(t, src + delta, src, 12 * SZ_4K, NULL));
	assert_moved(t, &before, 0);
	assert_ok_checked(t, pt_unmap(t, src, 12 * SZ_4K, NULL));
	for (int i = 0; i < 8; i++)
		assert_rc(pt_frame_put(e->phys, frames[i]), 0);
	u_list_free(&before);
}

/* Huge leaves whose size divides the distance keep their size. */
MOVE_CASE(move_huge_aligned)
{
	struct u_list before = { 0 };

	assert_ok_checked(t, pt_map(t, SZ_1G - SZ_2M, 5 * SZ_1G - SZ_2M, SZ_1G + SZ_2M,
				    prop(RWX, PT_CACHE_WB)));
	u_collect(t, SZ_1G - SZ_2M, SZ_1G + SZ_2M, &before);
	assert_u64(before.n, 2); /* a 2M and a 1G leaf */
	assert_ok_checked(t, pt_move(t, SZ_1G - SZ_2M, 9 * SZ_1G - SZ_2M,
				     SZ_1G + SZ_2M, NULL));
	assert_moved(t, &before, 8 * SZ_1G);
	assert_unmapped(t, SZ_1G);
	u_list_free(&before);
}

/* A 2M leaf moved by 12 KiB becomes 512 4K leaves; a 1G leaf moved by
 * 2 MiB becomes 512 2M leaves: same pa, same property. */
MOVE_CASE(move_huge_misaligned)
{
	struct u_list l = { 0 };
	struct pt_prop p = u_norm(t, prop(RW | PT_A | PT_D, 0), 0);

	assert_ok_checked(t, pt_map(t, 2 * SZ_2M, 6 * SZ_2M, SZ_2M, p));
	assert_ok_checked(t, pt_move(t, 2 * SZ_2M, SZ_1G + 3 * SZ_4K, SZ_2M, NULL));
	u_collect(t, SZ_1G, 2 * SZ_2M, &l);
	assert_u64(l.n, 512);
	for (size_t i = 0; i < l.n; i++) {
		struct pt_mapping w = mapping(SZ_1G + (3 + i) * SZ_4K,
					      6 * SZ_2M + i * SZ_4K, SZ_4K,
					      p.flags, p.cache, false);
		assert_mapping_eq(&l.m[i], &w);
	}
	u_list_free(&l);
	assert_unmapped(t, 2 * SZ_2M);

	assert_ok_checked(t, pt_map(t, 4 * SZ_1G, 8 * SZ_1G, SZ_1G, p));
	assert_ok_checked(t, pt_move(t, 4 * SZ_1G, 6 * SZ_1G + SZ_2M, SZ_1G, NULL));
	u_collect(t, 6 * SZ_1G, 2 * SZ_1G, &l);
	assert_u64(l.n, 512);
	for (size_t i = 0; i < l.n; i++) {
		struct pt_mapping w = mapping(6 * SZ_1G + (1 + i) * SZ_2M,
					      8 * SZ_1G + i * SZ_2M, SZ_2M,
					      p.flags, p.cache, false);
		assert_mapping_eq(&l.m[i], &w);
	}
	u_list_free(&l);
}

/* A huge leaf only partly inside is split at the source, as unmap splits
 * it: the outside part stays, the inside part moves. */
MOVE_CASE(move_huge_partial)
{
	const uint64_t va = 2 * SZ_2M;

	assert_ok_checked(t, pt_map(t, va, 0, SZ_2M, prop(RW, 0)));
	assert_ok_checked(t, pt_move(t, va + SZ_2M / 2, SZ_1G, SZ_2M / 2, NULL));
	assert_leaf(t, va, 0, SZ_4K, RW);
	assert_unmapped(t, va + SZ_2M / 2);
	assert_leaf(t, SZ_1G, SZ_2M / 2, SZ_4K, RW);
	assert_leaf(t, SZ_1G + SZ_2M / 2 - SZ_4K, SZ_2M - SZ_4K, SZ_4K, RW);
}

/* Whole subtrees at a distance their size divides move as the same node:
 * a leaf table by 1 GiB, a level-2 node by 2 GiB.  Node counts stay (the
 * destination's parent is made, the source's emptied one given back). */
MOVE_CASE(move_subtree)
{
	struct pt_table_stats s0, s1;
	struct u_list before = { 0 };
	uint64_t leaf_table, node2, free0;

	assert_ok_checked(t, pt_map(t, SZ_2M, 0x100000, SZ_2M, prop(RW, 0)));
	assert_ok_checked(t, pt_map(t, SZ_1G, 0x200000, SZ_4K, prop(PT_R, 0)));
	leaf_table = node_pa(t, SZ_2M, 1);
	node2 = node_pa(t, SZ_1G, 2);
	assert_true(leaf_table != 0 && node2 != 0);
	assert_rc(pt_table_stats(t, &s0), 0);
	u_collect(t, SZ_2M, SZ_2M, &before);
	assert_u64(before.n, 512);
	u_inval_reset(rec);
	assert_ok_checked(t, pt_move(t, SZ_2M, 3 * SZ_1G + SZ_2M, SZ_2M, NULL));
	assert_u64(node_pa(t, 3 * SZ_1G + SZ_2M, 1), leaf_table);
	assert_u64(node_pa(t, SZ_2M, 1), 0);
	assert_true(u_inval_covers(rec, SZ_2M, SZ_2M) && rec->nodes_removed);
	assert_moved(t, &before, 3 * SZ_1G);
	assert_rc(pt_table_stats(t, &s1), 0);
	/* One more level-2 node at the destination. */
	assert_u64(s1.nodes[1], s0.nodes[1]);
	assert_u64(s1.nodes[2], s0.nodes[2] + 1);

	/* [1G, 2G) holds a level-2 node with a leaf table: by 4 GiB,
	 * it moves whole. */
	free0 = u_free_frames(e->phys);
	assert_ok_checked(t, pt_move(t, SZ_1G, 5 * SZ_1G, SZ_1G, NULL));
	assert_u64(node_pa(t, 5 * SZ_1G, 2), node2);
	assert_u64(u_free_frames(e->phys), free0);
	assert_leaf(t, 5 * SZ_1G, 0x200000, SZ_4K, PT_R);
	assert_unmapped(t, SZ_1G);
	u_list_free(&before);
}

/* An empty node where a moved one goes is freed; a source node emptied
 * inside the range is freed too (the distance does not allow moving it). */
MOVE_CASE(move_replaces_empty_node)
{
	struct pt_table_stats s0, s1;
	uint64_t moved;

	assert_ok_checked(t, pt_map(t, 9 * SZ_2M, 0, SZ_4K, prop(RW, 0)));
	assert_ok_checked(t, pt_unmap(t, 9 * SZ_2M, SZ_4K, NULL)); /* empty, kept */
	assert_ok_checked(t, pt_map(t, 3 * SZ_2M, 0, 4 * SZ_4K, prop(RW, 0)));
	moved = node_pa(t, 3 * SZ_2M, 1);
	assert_rc(pt_table_stats(t, &s0), 0);
	assert_ok_checked(t, pt_move(t, 3 * SZ_2M, 9 * SZ_2M, SZ_2M, NULL));
	assert_u64(node_pa(t, 9 * SZ_2M, 1), moved);
	assert_rc(pt_table_stats(t, &s1), 0);
	assert_u64(s1.nodes[1], s0.nodes[1] - 1);
	/* By 4 KiB: the leaf table's entries go one by one, and it is
	 * given back. */
	assert_ok_checked(t, pt_move(t, 9 * SZ_2M, 20 * SZ_2M + SZ_4K, SZ_2M, NULL));
	assert_leaf(t, 20 * SZ_2M + SZ_4K, 0, SZ_4K, RW);
	assert_rc(pt_table_stats(t, &s1), 0);
	assert_u64(s1.nodes[1], s0.nodes[1] - 1);
}

/* Errors in design §5's order, each changing nothing. */
MOVE_CASE(move_errors)
{
	struct pt_table *other = u_env_table(e, PT_SPACE_USER);
	struct pt_flush fl;
	const uint64_t a = 2 * SZ_1G;

	assert_ok_checked(t, pt_map(t, a, 0, 4 * SZ_2M, prop(RW, 0)));
	assert_ok_checked(t, pt_map(t, a + SZ_1G, 0, SZ_4K, prop(RW, 0)));
	assert_rc(pt_flush_init(&fl, other), 0);
	assert_rc(pt_move(NULL, a, a + SZ_1G, SZ_4K, NULL), PT_EINVAL);
	assert_fails_unchanged(t, pt_move(t, a, a + SZ_1G, 0, NULL), PT_EINVAL);
	assert_fails_unchanged(t, pt_move(t, a, a + SZ_2M, 2 * SZ_2M, NULL), PT_EINVAL);
	assert_fails_unchanged(t, pt_move(t, a, a, SZ_4K, NULL), PT_EINVAL);
	assert_fails_unchanged(t, pt_move(t, a + SZ_4K, a, 2 * SZ_4K, NULL), PT_EINVAL);
	assert_fails_unchanged(t, pt_move(t, 0 - SZ_4K, a, 2 * SZ_4K, NULL), PT_EINVAL);
	assert_fails_unchanged(t, pt_move(t, a, a + SZ_1G, SZ_4K, &fl), PT_EINVAL);
	/* Overlapping and unaligned: EINVAL first. */
	assert_fails_unchanged(t, pt_move(t, a + 1, a + SZ_4K, 2 * SZ_4K, NULL),
			       PT_EINVAL);
	assert_fails_unchanged(t, pt_move(t, a + 1, a + SZ_1G, SZ_4K, NULL), PT_EALIGN);
	assert_fails_unchanged(t, pt_move(t, a, a + SZ_1G + 1, SZ_4K, NULL), PT_EALIGN);
	assert_fails_unchanged(t, pt_move(t, a, 3 * SZ_1G, SZ_4K + 1, NULL), PT_EALIGN);
	/* The destination, or the source, outside the user half. */
	assert_fails_unchanged(t, pt_move(t, a, f->user_end - SZ_4K, 2 * SZ_4K, NULL),
			       PT_ERANGE);
	assert_fails_unchanged(t, pt_move(t, f->kernel_start, a + 8 * SZ_2M, SZ_4K, NULL),
			       PT_ERANGE);
	/* Unaligned and out of range: EALIGN first. */
	assert_fails_unchanged(t, pt_move(t, a + 1, f->user_end, SZ_4K, NULL), PT_EALIGN);
	/* Something mapped at the destination, however little. */
	assert_fails_unchanged(t, pt_move(t, a, a + SZ_1G - SZ_2M, 2 * SZ_2M, NULL),
			       PT_EEXIST);
	assert_fails_unchanged(t, pt_move(t, a, a + 3 * SZ_2M + SZ_4K * 511, SZ_4K, NULL),
			       PT_EEXIST);
	/* ERANGE before EEXIST. */
	assert_fails_unchanged(t, pt_move(t, f->user_end - SZ_4K, a, 2 * SZ_4K, NULL),
			       PT_ERANGE);
	/* Nothing to move is not an error. */
	assert_ok_checked(t, pt_move(t, 20 * SZ_1G, 30 * SZ_1G, SZ_1G, NULL));
}

/* A user table's view of the kernel half is read-only (formats that share
 * the kernel root). */
MOVE_CASE(move_kernel_half_eperm)
{
	struct pt_table *kt = NULL, *ut;

	if (!f->shared_kernel_root)
		return;
	assert_rc(pt_table_create(e->phys, f, PT_SPACE_KERNEL, &kt), 0);
	u_env_push(e, kt);
	ut = u_env_user_of(e, kt);
	assert_ok_checked(kt, pt_map(kt, f->kernel_start, 0, SZ_4K, prop(RW, 0)));
	assert_fails_unchanged(ut, pt_move(ut, f->kernel_start, SZ_1G, SZ_4K, NULL),
			       PT_EPERM);
	assert_fails_unchanged(ut, pt_move(ut, SZ_1G, f->kernel_start + SZ_1G, SZ_4K,
					   NULL), PT_EPERM);
	/* Inside the kernel table, the pinned root-slot nodes stay. */
	assert_ok_checked(kt, pt_move(kt, f->kernel_start, f->kernel_start + SZ_1G,
				      SZ_1G, NULL));
	assert_leaf(ut, f->kernel_start + SZ_1G, 0, SZ_4K, RW);
}

/* Out of memory at each allocation the move makes: nothing changes; then
 * it succeeds. */
MOVE_CASE(move_enomem)
{
	uint64_t n;
	int rc;

	/* A 2M leaf partly inside (a split), 2M leaves and a leaf table
	 * that move as they are (the distance is a multiple of 2 MiB, not of
	 * 1 GiB) into a subtree to make. */
	assert_ok_checked(t, pt_map(t, SZ_2M, 0, 3 * SZ_2M, prop(RW, 0)));
	assert_ok_checked(t, pt_map(t, 4 * SZ_2M, 0, 8 * SZ_4K, prop(RW, 0)));
	for (n = 1;; n++) {
		pt_phys_fail_nth_alloc(e->phys, n);
		struct u_view before;
		u_view_take(t, &before);
		rc = pt_move(t, SZ_2M + SZ_4K, 9 * SZ_1G + SZ_4K, 4 * SZ_2M, NULL);
		pt_phys_fail_nth_alloc(e->phys, 0);
		if (rc == 0) {
			u_view_free(&before);
			break;
		}
		assert_rc(rc, PT_ENOMEM);
		assert_view_same(t, &before);
		u_view_free(&before);
		CHECK(t);
	}
	CHECK(t);
	assert_true(n > 2);
	assert_leaf(t, SZ_2M, 0, SZ_4K, RW);
	assert_leaf(t, 9 * SZ_1G + SZ_4K, SZ_4K, SZ_4K, RW);
	assert_leaf(t, 9 * SZ_1G + SZ_2M, SZ_2M, SZ_2M, RW);
}

/* With a batch the source's invalidation waits for pt_flush_finish. */
MOVE_CASE(move_batch)
{
	struct pt_flush fl;
	bool new_mappings_flushed;

	assert_ok_checked(t, pt_map(t, SZ_1G, 0, 3 * SZ_4K, prop(RW, 0)));
	assert_rc(pt_flush_init(&fl, t), 0);
	u_inval_reset(rec);
	assert_ok_checked(t, pt_move(t, SZ_1G, 2 * SZ_1G, 3 * SZ_4K, &fl));
	assert_int_equal(rec->calls, 0);
	assert_rc(pt_flush_finish(&fl), 0);
	assert_true(u_inval_covers(rec, SZ_1G, 3 * SZ_4K));
	/* RISC-V without Svvptc flushes new mappings too. */
	new_mappings_flushed = u_inval_covers(rec, 2 * SZ_1G, 3 * SZ_4K);
	assert_true(new_mappings_flushed == (f == &pt_format_riscv_sv39 ||
					     f == &pt_format_riscv_sv48));
}

/* Markers go with the mappings; a marker at the destination is in the way
 * (PT_EEXIST, nothing changed), as a mapping is. */
MOVE_CASE(move_markers)
{
	uint64_t v = 0;

	assert_rc(pt_map(t, SZ_1G, SZ_1G, SZ_4K, prop(RW, PT_CACHE_WB)), 0);
	assert_rc(pt_mark(t, SZ_1G + SZ_4K, 2 * SZ_4K, 0x2a), 0);
	assert_rc(pt_mark(t, 3 * SZ_1G + 5 * SZ_4K, SZ_4K, 0x7), 0);
	assert_rc(pt_move(t, SZ_1G, 3 * SZ_1G, 8 * SZ_4K, NULL), PT_EEXIST);
	assert_rc(pt_query_marker(t, SZ_1G + SZ_4K, &v), 0);
	assert_u64(v, 0x2a);
	assert_rc(pt_unmap(t, 3 * SZ_1G + 5 * SZ_4K, SZ_4K, NULL), 0);
	assert_rc(pt_move(t, SZ_1G, 3 * SZ_1G, 8 * SZ_4K, NULL), 0);
	CHECK(t);
	for (uint64_t off = SZ_4K; off <= 2 * SZ_4K; off += SZ_4K) {
		assert_rc(pt_query_marker(t, 3 * SZ_1G + off, &v), 0);
		assert_u64(v, 0x2a);
		assert_rc(pt_query_marker(t, SZ_1G + off, &v), PT_ENOENT);
	}
	assert_rc(pt_query_marker(t, 3 * SZ_1G, &v), PT_EEXIST); /* the mapping */
}

/* One cmocka test per case, each running on every format. */
#define EVERY_FORMAT(name)                                                         \
	static void test_##name(void **state)                                      \
	{                                                                          \
		(void)state;                                                       \
		on_every_format(name);                                             \
	}
EVERY_FORMAT(move_4k_runs)
EVERY_FORMAT(move_huge_aligned)
EVERY_FORMAT(move_huge_misaligned)
EVERY_FORMAT(move_huge_partial)
EVERY_FORMAT(move_subtree)
EVERY_FORMAT(move_replaces_empty_node)
EVERY_FORMAT(move_errors)
EVERY_FORMAT(move_kernel_half_eperm)
EVERY_FORMAT(move_enomem)
EVERY_FORMAT(move_markers)
EVERY_FORMAT(move_batch)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_move_4k_runs),
		cmocka_unit_test(test_move_huge_aligned),
		cmocka_unit_test(test_move_huge_misaligned),
		cmocka_unit_test(test_move_huge_partial),
		cmocka_unit_test(test_move_subtree),
		cmocka_unit_test(test_move_replaces_empty_node),
		cmocka_unit_test(test_move_errors),
		cmocka_unit_test(test_move_kernel_half_eperm),
		cmocka_unit_test(test_move_enomem),
		cmocka_unit_test(test_move_batch),
		cmocka_unit_test(test_move_markers),
	};

	return cmocka_run_group_tests_name("unit_table_move", tests, NULL, NULL);
}
