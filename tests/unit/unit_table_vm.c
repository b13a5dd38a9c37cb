/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_table_vm - the VM operations of issue #13 on every format: pt_copy
 * (fork: whole leaves at their size, one reference per tracked leaf
 * copied, copy-on-write in both tables, an empty destination, nothing
 * changed on any error) and pt_harvest (accessed/dirty bits per 4 KiB page,
 * cleared where the format lets them be, invalidated when cleared) and
 * markers (pt_mark, pt_query_marker: encodings the hardware never sees as
 * present, replaced by maps, removed by unmaps, copied by copies) and
 * pt_split with a caller's stash (struct pt_reserve) or without.
 */
#include <stdatomic.h>

#include "unit.h"

#define ARENA (64ull << 20)
#define NFR 8

struct fix {
	struct u_env *e;
	const struct pt_format *f;
	struct pt_table *src, *dst;
	struct u_inval src_inval, dst_inval;
	uint64_t fr[NFR];
};

static struct pt_table *fix_table(struct fix *x, enum pt_space sp, struct u_inval *rec)
{
	struct pt_table_opts o = u_opts_inval(rec);
	struct pt_table *t = NULL;

	rec->root_pa = 0;
	u_inval_reset(rec);
	assert_rc(pt_table_create_opts(x->e->phys, x->f, sp, &o, &t), 0);
	return u_env_push(x->e, t);
}

static void fix_init(struct fix *x, const struct pt_format *f)
{
	memset(x, 0, sizeof *x);
	x->e = u_env_new(ARENA);
	x->f = f;
	x->src = fix_table(x, PT_SPACE_USER, &x->src_inval);
	x->dst = fix_table(x, PT_SPACE_USER, &x->dst_inval);
	for (size_t i = 0; i < NFR; i++)
		assert_rc(pt_frame_alloc(x->e->phys, &x->fr[i]), 0);
}

static void fix_fini(struct fix *x)
{
	for (size_t i = 0; i < NFR; i++)
		assert_rc(pt_frame_put(x->e->phys, x->fr[i]), 0);
	u_env_free(x->e);
}

/* 4K, 2M and 1G leaves, a PROT_NONE and a read-only one, and tracked
 * pages (frame 0 twice) in [1G - 8K, 3G + 16K). */
static void fill_src(struct fix *x)
{
	uint64_t fr[4] = { x->fr[0], x->fr[1], x->fr[2], x->fr[0] };
	struct pt_table *t = x->src;

	assert_ok_checked(t, pt_map(t, SZ_1G - 2 * SZ_4K, 0x100000, 2 * SZ_4K, prop(RW, 0)));
	assert_ok_checked(t, pt_map(t, SZ_1G, 5 * SZ_1G, SZ_1G + 3 * SZ_2M, prop(RW | PT_X, 0)));
	assert_ok_checked(t, pt_map(t, 2 * SZ_1G + 5 * SZ_2M, 0x400000, SZ_2M, prop(PT_R, 0)));
	assert_ok_checked(t, pt_map(t, 2 * SZ_1G + 7 * SZ_2M, 0x800000, SZ_4K, prop(0, 0)));
	assert_ok_checked(t, pt_map_frames(t, 3 * SZ_1G, fr, 4, prop(RW | PT_U, 0)));
}

#define RANGE_VA (SZ_1G - 2 * SZ_4K)
#define RANGE_LEN (2 * SZ_1G + 2 * SZ_4K + 4 * SZ_4K)

/* Every leaf of src in the range, as dst must now hold it (clear: flags
 * COW takes away, normalized). */
static void assert_copied(struct fix *x, uint32_t clear)
{
	struct u_list s = { 0 }, d = { 0 };
	struct pt_table_stats st;

	u_collect(x->src, RANGE_VA, RANGE_LEN, &s);
	u_collect(x->dst, RANGE_VA, RANGE_LEN, &d);
	assert_u64(d.n, s.n);
	for (size_t i = 0; i < s.n; i++) {
		assert_mapping_eq(&d.m[i], &s.m[i]);
		assert_false(d.m[i].prop.flags & clear);
	}
	/* Leaves at their sizes: 2 x 4K, 1G, 3 x 2M, 2M, 4K, 4 tracked 4K. */
	assert_rc(pt_table_stats(x->dst, &st), 0);
	assert_u64(st.mappings[1], 7);
	assert_u64(st.mappings[2], 4);
	assert_u64(st.mappings[3], 1);
	assert_u64(st.tracked, 4);
	u_list_free(&s);
	u_list_free(&d);
	CHECK(x->src);
	CHECK(x->dst);
}

static void copy_plain(const struct pt_format *f)
{
	struct fix x;

	fix_init(&x, f);
	fill_src(&x);
	u_inval_reset(&x.src_inval);
	assert_ok_checked(x.dst, pt_copy(x.dst, x.src, RANGE_VA, RANGE_LEN, 0, NULL));
	assert_copied(&x, 0);
	assert_query(x.dst, SZ_1G + 5, mapping(SZ_1G, 5 * SZ_1G, SZ_1G,
					       u_norm(x.src, prop(RW | PT_X, 0), 0).flags, 0, false));
	/* One reference per tracked leaf copied; dst's go with its unmap. */
	assert_u64(pt_frame_refcount(x.e->phys, x.fr[0]), 5);
	assert_u64(pt_frame_refcount(x.e->phys, x.fr[1]), 3);
	assert_int_equal(x.src_inval.calls, 0); /* src did not change */
	assert_ok_checked(x.dst, pt_unmap(x.dst, 0, 4 * SZ_1G, NULL));
	assert_u64(pt_frame_refcount(x.e->phys, x.fr[0]), 3);
	assert_u64(pt_frame_refcount(x.e->phys, x.fr[1]), 2);
	fix_fini(&x);
}

static void copy_cow(const struct pt_format *f)
{
	struct fix x;
	struct pt_flush fl;
	struct pt_mapping m;

	fix_init(&x, f);
	fill_src(&x);
	pt_flush_init(&fl, x.src);
	u_inval_reset(&x.src_inval);
	assert_ok_checked(x.src, pt_copy(x.dst, x.src, RANGE_VA, RANGE_LEN, PT_COPY_COW, &fl));
	assert_int_equal(x.src_inval.calls, 0); /* into the caller's batch */
	assert_rc(pt_flush_finish(&fl), 0);
	assert_copied(&x, PT_W);
	/* Every leaf that lost W in src was invalidated there. */
	assert_true(u_inval_covers(&x.src_inval, RANGE_VA, SZ_1G + 2 * SZ_4K + 3 * SZ_2M));
	assert_true(u_inval_covers(&x.src_inval, 3 * SZ_1G, 4 * SZ_4K));
	assert_rc(pt_query(x.src, 3 * SZ_1G, &m), 0);
	assert_u64(m.prop.flags & PT_W, 0);
	/* Leaves outside the range keep W. */
	assert_ok_checked(x.src, pt_map(x.src, 4 * SZ_1G, 0, SZ_4K, prop(RW, 0)));
	assert_ok_checked(x.dst, pt_copy(x.dst, x.src, 4 * SZ_1G, SZ_4K, 0, NULL));
	assert_rc(pt_query(x.src, 4 * SZ_1G, &m), 0);
	assert_true(m.prop.flags & PT_W);
	fix_fini(&x);
}

/* Empty nodes of dst are reused, or given up where a huge leaf goes. */
static void copy_over_empty_nodes(const struct pt_format *f)
{
	struct fix x;
	struct pt_table_stats st;

	fix_init(&x, f);
	fill_src(&x);
	assert_ok_checked(x.dst, pt_map(x.dst, SZ_1G + 5 * SZ_4K, 0, SZ_4K, prop(RW, 0)));
	assert_ok_checked(x.dst, pt_map(x.dst, 3 * SZ_1G + 9 * SZ_4K, 0, SZ_4K, prop(RW, 0)));
	assert_ok_checked(x.dst, pt_unmap(x.dst, SZ_1G + 5 * SZ_4K, SZ_4K, NULL));
	assert_ok_checked(x.dst, pt_unmap(x.dst, 3 * SZ_1G + 9 * SZ_4K, SZ_4K, NULL));
	u_inval_reset(&x.dst_inval);
	assert_ok_checked(x.dst, pt_copy(x.dst, x.src, RANGE_VA, RANGE_LEN, 0, NULL));
	assert_copied(&x, 0);
	assert_true(x.dst_inval.nodes_removed); /* the 1G leaf replaced a node */
	pt_phys_barrier(x.e->phys);
	assert_rc(pt_table_stats(x.dst, &st), 0);
	CHECK(x.dst);
	fix_fini(&x);
}

/* Every error changes neither table. */
#define assert_copy_fails(x, expr, want)                                     \
	do {                                                                 \
		struct u_view s_, d_;                                        \
		u_view_take((x)->src, &s_);                                  \
		u_view_take((x)->dst, &d_);                                  \
		assert_rc((expr), (want));                                   \
		assert_view_same((x)->src, &s_);                             \
		assert_view_same((x)->dst, &d_);                             \
		u_view_free(&s_);                                            \
		u_view_free(&d_);                                            \
		CHECK((x)->src);                                             \
		CHECK((x)->dst);                                             \
	} while (0)

static void copy_errors(const struct pt_format *f)
{
	struct pt_table_opts cap = { .max_leaf_level = 2 };
	struct pt_table *other, *k, *uk;
	struct pt_flush foreign;
	struct fix x;

	fix_init(&x, f);
	fill_src(&x);
	assert_rc(pt_table_create_opts(x.e->phys, f, PT_SPACE_USER, &cap, &other), 0);
	u_env_push(x.e, other);
	pt_flush_init(&foreign, x.dst);
	assert_copy_fails(&x, pt_copy(NULL, x.src, 0, SZ_4K, 0, NULL), PT_EINVAL);
	assert_copy_fails(&x, pt_copy(x.dst, NULL, 0, SZ_4K, 0, NULL), PT_EINVAL);
	assert_copy_fails(&x, pt_copy(x.src, x.src, 0, SZ_4K, 0, NULL), PT_EINVAL);
	assert_copy_fails(&x, pt_copy(x.dst, x.src, 0, SZ_4K, 2, NULL), PT_EINVAL);
	assert_copy_fails(&x, pt_copy(other, x.src, 0, SZ_4K, 0, NULL), PT_EINVAL);
	assert_copy_fails(&x, pt_copy(x.dst, x.src, 0, 0, 0, NULL), PT_EINVAL);
	assert_copy_fails(&x, pt_copy(x.dst, x.src, 0, SZ_4K, 0, &foreign), PT_EINVAL);
	/* EINVAL before EALIGN, EALIGN before ERANGE. */
	assert_copy_fails(&x, pt_copy(x.dst, x.src, 5, SZ_4K, 2, NULL), PT_EINVAL);
	assert_copy_fails(&x, pt_copy(x.dst, x.src, 0, SZ_4K + 1, 0, NULL), PT_EALIGN);
	assert_copy_fails(&x, pt_copy(x.dst, x.src, f->user_end - SZ_4K, 2 * SZ_4K + 1, 0,
				      NULL), PT_EALIGN);
	assert_copy_fails(&x, pt_copy(x.dst, x.src, f->user_end - SZ_4K, 2 * SZ_4K, 0, NULL),
			  PT_ERANGE);
	/* A source leaf cut by either end of the range. */
	assert_copy_fails(&x, pt_copy(x.dst, x.src, SZ_1G + SZ_4K, SZ_2M, 0, NULL), PT_EALIGN);
	assert_copy_fails(&x, pt_copy(x.dst, x.src, RANGE_VA, SZ_1G, PT_COPY_COW, NULL),
			  PT_EALIGN);
	assert_copy_fails(&x, pt_copy(x.dst, x.src, 2 * SZ_1G + 5 * SZ_2M + SZ_4K, SZ_4K, 0,
				      NULL), PT_EALIGN);
	/* Anything mapped in dst's range, even where src has nothing. */
	assert_ok_checked(x.dst, pt_map(x.dst, 2 * SZ_1G + 10 * SZ_2M, 0, SZ_4K, prop(PT_R, 0)));
	assert_copy_fails(&x, pt_copy(x.dst, x.src, RANGE_VA, RANGE_LEN, PT_COPY_COW, NULL),
			  PT_EEXIST);
	/* Out of memory at every allocation: nothing changed in either. */
	assert_ok_checked(x.dst, pt_unmap(x.dst, 0, 4 * SZ_1G, NULL));
	for (uint64_t n = 1;; n++) {
		int rc;
		struct u_view s_, d_;

		u_view_take(x.src, &s_);
		u_view_take(x.dst, &d_);
		pt_phys_fail_nth_alloc(x.e->phys, n);
		rc = pt_copy(x.dst, x.src, RANGE_VA, RANGE_LEN, PT_COPY_COW, NULL);
		pt_phys_fail_nth_alloc(x.e->phys, 0);
		if (rc == 0) {
			u_view_free(&s_);
			u_view_free(&d_);
			assert_true(n > 1);
			break;
		}
		assert_rc(rc, PT_ENOMEM);
		assert_view_same(x.src, &s_);
		assert_view_same(x.dst, &d_);
		u_view_free(&s_);
		u_view_free(&d_);
	}
	assert_copied(&x, PT_W);
	/* A user table's borrowed kernel half, on either side. */
	if (f->shared_kernel_root) {
		k = fix_table(&x, PT_SPACE_KERNEL, &x.dst_inval);
		assert_rc(pt_table_create_user(k, &uk), 0);
		u_env_push(x.e, uk);
		assert_rc(pt_copy(uk, k, 0 - SZ_4K, SZ_4K, 0, NULL), PT_EPERM);
		assert_rc(pt_copy(k, uk, 0 - SZ_4K, SZ_4K, 0, NULL), PT_EPERM);
	}
	fix_fini(&x);
}

/* Between two kernel tables, up to 2^64. */
static void copy_kernel_half(const struct pt_format *f)
{
	struct fix x;
	struct pt_table *k1, *k2;
	struct u_list a = { 0 }, b = { 0 };
	uint64_t va = 0 - SZ_1G - SZ_2M - SZ_4K;

	fix_init(&x, f);
	k1 = fix_table(&x, PT_SPACE_KERNEL, &x.src_inval);
	k2 = fix_table(&x, PT_SPACE_KERNEL, &x.dst_inval);
	assert_ok_checked(k1, pt_map(k1, va, SZ_1G - SZ_2M - SZ_4K, SZ_1G + SZ_2M + SZ_4K,
				     prop(RW | PT_G, 0)));
	assert_ok_checked(k2, pt_copy(k2, k1, va, 0 - va, PT_COPY_COW, NULL));
	CHECK(k1);
	u_collect(k1, va, 0 - va, &a);
	u_collect(k2, va, 0 - va, &b);
	assert_u64(b.n, a.n);
	for (size_t i = 0; i < a.n; i++) {
		assert_mapping_eq(&b.m[i], &a.m[i]);
		assert_false(a.m[i].prop.flags & PT_W);
	}
	u_list_free(&a);
	u_list_free(&b);
	fix_fini(&x);
}

/* ---- harvest ---- */

/* What a leaf of (normalized) property n reports: its A and D, and on a
 * format without a dirty bit (AArch64, no DBM) D for every writable leaf. */
static uint32_t reported(const struct pt_format *f, struct pt_prop n)
{
	uint32_t r = n.flags & (PT_A | PT_D);

	if (f == &pt_format_aarch64_4k && (n.flags & PT_W))
		r |= PT_D;
	return r;
}

static bool bit(const uint64_t *bm, uint64_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

/* Leaves with every combination of A and D, 4K and 2M, then harvests
 * (with and without clearing), checking every page's bit. */
static void harvest_bits(const struct pt_format *f, uint32_t features)
{
	static const uint32_t ad[4] = { 0, PT_A, PT_D, PT_A | PT_D };
	struct pt_table_opts o;
	struct u_inval rec;
	struct u_env *e = u_env_new(ARENA);
	struct pt_table *t;
	uint64_t bm[32], va = 4 * SZ_2M; /* 8 x 4K here, 4 x 2M at 1G */
	struct pt_prop n[8];

	memset(&rec, 0, sizeof rec);
	o = u_opts_inval(&rec);
	o.features = features;
	o.live = features != 0; /* the atomic clear too */
	assert_rc(pt_table_create_opts(e->phys, f, PT_SPACE_USER, &o, &t), 0);
	u_env_push(e, t);
	for (int k = 0; k < 8; k++) {
		struct pt_prop p = prop((k & 4 ? RW : PT_R) | ad[k & 3], 0);
		n[k] = u_norm(t, p, features);
		assert_ok_checked(t, pt_map(t, va + k * SZ_4K, 0x100000 + k * SZ_4K, SZ_4K, p));
	}
	for (int k = 0; k < 4; k++)
		assert_ok_checked(t, pt_map(t, SZ_1G + k * SZ_2M, SZ_1G + k * SZ_2M, SZ_2M,
					    prop(RW | ad[k], 0)));
	for (unsigned what = 1; what <= 3; what++) {
		uint32_t ask = (what & 1 ? PT_A : 0) | (what & 2 ? PT_D : 0);
		memset(bm, 0xa5, sizeof bm);
		assert_rc(pt_harvest(t, va, 8 * SZ_4K, what, bm, NULL), 0);
		for (int k = 0; k < 8; k++)
			assert_int_equal(bit(bm, k), (reported(f, n[k]) & ask) != 0);
		assert_u64(bm[0] >> 8, 0); /* past the range: written, zero */
		/* Huge leaves: every page of the range inside them, the first
		 * and last leaf cut. */
		memset(bm, 0xa5, sizeof bm);
		assert_rc(pt_harvest(t, SZ_1G + SZ_2M - 2 * SZ_4K, 2 * SZ_2M + 3 * SZ_4K, what, bm,
				     NULL), 0);
		for (uint64_t i = 0; i < 2 * 512 + 3; i++) {
			uint64_t leaf = (SZ_2M - 2 * SZ_4K + i * SZ_4K) / SZ_2M;
			struct pt_prop hn = u_norm(t, prop(RW | ad[leaf], 0), features);
			assert_int_equal(bit(bm, i), (reported(f, hn) & ask) != 0);
		}
		CHECK(t);
	}
	/* Clearing: what the format lets a leaf lack goes, the rest stays. */
	u_inval_reset(&rec);
	assert_rc(pt_harvest(t, va, 8 * SZ_4K, PT_HARVEST_ACCESSED | PT_HARVEST_DIRTY |
			     PT_HARVEST_CLEAR, bm, NULL), 0);
	CHECK(t);
	for (int k = 0; k < 8; k++) {
		struct pt_mapping m;
		struct pt_prop p = n[k];
		p.flags &= ~(PT_A | PT_D);
		p = u_norm(t, p, features);
		assert_query(t, va + k * SZ_4K, mapping(va + k * SZ_4K, 0x100000 + k * SZ_4K,
							 SZ_4K, p.flags, p.cache, false));
		assert_rc(pt_query(t, va + k * SZ_4K, &m), 0);
		/* A leaf that lost a bit was invalidated. */
		if (p.flags != n[k].flags)
			assert_true(u_inval_covers(&rec, va + k * SZ_4K, SZ_4K));
	}
	memset(bm, 0, sizeof bm);
	assert_rc(pt_harvest(t, va, 8 * SZ_4K, PT_HARVEST_DIRTY, bm, NULL), 0);
	for (int k = 0; k < 8; k++) {
		struct pt_prop p = n[k];
		p.flags &= ~(PT_A | PT_D);
		assert_int_equal(bit(bm, k), (reported(f, u_norm(t, p, features)) & PT_D) != 0);
	}
	/* Huge leaves: those inside lose their bits, the cut ones keep them. */
	assert_rc(pt_harvest(t, SZ_1G + SZ_2M - 2 * SZ_4K, 2 * SZ_2M + 3 * SZ_4K,
			     PT_HARVEST_ACCESSED | PT_HARVEST_DIRTY | PT_HARVEST_CLEAR, bm, NULL), 0);
	CHECK(t);
	for (int k = 0; k < 4; k++) {
		struct pt_prop p = u_norm(t, prop(RW | ad[k], 0), features);
		if (k == 1 || k == 2)
			p = u_norm(t, prop(RW, 0), features);
		assert_query(t, SZ_1G + k * SZ_2M, mapping(SZ_1G + k * SZ_2M, SZ_1G + k * SZ_2M,
							   SZ_2M, p.flags, 0, false));
	}
	u_env_free(e);
}

static void harvest(const struct pt_format *f)
{
	harvest_bits(f, 0);
	if (f == &pt_format_riscv_sv39 || f == &pt_format_riscv_sv48)
		harvest_bits(f, PT_FEAT_RISCV_SVADU);
}

static void harvest_errors(const struct pt_format *f)
{
	struct fix x;
	struct pt_flush foreign;
	uint64_t bm[2];
	struct pt_table *k, *uk;

	fix_init(&x, f);
	fill_src(&x);
	pt_flush_init(&foreign, x.dst);
#define assert_harvest_fails(expr, want) assert_copy_fails(&x, (expr), (want))
	assert_harvest_fails(pt_harvest(NULL, 0, SZ_4K, PT_HARVEST_DIRTY, bm, NULL), PT_EINVAL);
	assert_harvest_fails(pt_harvest(x.src, 0, SZ_4K, PT_HARVEST_DIRTY, NULL, NULL), PT_EINVAL);
	assert_harvest_fails(pt_harvest(x.src, 0, SZ_4K, 0, bm, NULL), PT_EINVAL);
	assert_harvest_fails(pt_harvest(x.src, 0, SZ_4K, PT_HARVEST_CLEAR, bm, NULL), PT_EINVAL);
	assert_harvest_fails(pt_harvest(x.src, 0, SZ_4K, 8 | PT_HARVEST_DIRTY, bm, NULL),
			     PT_EINVAL);
	assert_harvest_fails(pt_harvest(x.src, 0, 0, PT_HARVEST_DIRTY, bm, NULL), PT_EINVAL);
	assert_harvest_fails(pt_harvest(x.src, 0, SZ_4K, PT_HARVEST_DIRTY | PT_HARVEST_CLEAR, bm,
					&foreign), PT_EINVAL);
	assert_harvest_fails(pt_harvest(x.src, 0, SZ_4K, 8, bm, &foreign), PT_EINVAL);
	assert_harvest_fails(pt_harvest(x.src, 0x800, SZ_4K, PT_HARVEST_DIRTY, bm, NULL),
			     PT_EALIGN);
	assert_harvest_fails(pt_harvest(x.src, f->user_end - SZ_4K, 2 * SZ_4K, PT_HARVEST_DIRTY,
					bm, NULL), PT_ERANGE);
	if (f->shared_kernel_root) {
		k = fix_table(&x, PT_SPACE_KERNEL, &x.dst_inval);
		assert_rc(pt_table_create_user(k, &uk), 0);
		u_env_push(x.e, uk);
		assert_rc(pt_harvest(uk, 0 - SZ_4K, SZ_4K, PT_HARVEST_ACCESSED, bm, NULL),
			  PT_EPERM);
	}
#undef assert_harvest_fails
	fix_fini(&x);
}

/* ---- markers ---- */

/* A marker's entry: not present at any level, to ptkit or the hardware
 * (x86: P clear and a frame field at or above 2^51, out of L1TF's reach;
 * RISC-V and AArch64: the valid bit clear), and its value back. */
static void marker_entry_ok(const struct pt_format *f, uint64_t value)
{
	uint64_t pte, back = ~value;

	assert_rc(f->encode_marker(value, &pte), 0);
	assert_true(f->decode_marker(pte, &back));
	assert_u64(back, value);
	for (unsigned level = 1; level <= f->levels; level++)
		assert_int_equal(f->decode(pte, level, 0, NULL, NULL, NULL), PT_DECODE_ABSENT);
	assert_u64(pte & 1, 0);
	if (f == &pt_format_x86_64 || f == &pt_format_x86_64_la57)
		assert_true((pte & 0x000ffffffffff000ull) >= (1ull << 51));
}

static void marker_encoding(const struct pt_format *f)
{
	uint64_t all = (1ull << f->marker_bits) - 1, pte, x = 1;
	struct pt_prop rw = { PT_R | PT_W, 0 }, none = { 0, 0 };

	assert_true(f->marker_bits >= 36);
	marker_entry_ok(f, 0);
	marker_entry_ok(f, all);
	for (unsigned b = 0; b < f->marker_bits; b++) {
		marker_entry_ok(f, 1ull << b);
		marker_entry_ok(f, all & ~(1ull << b));
	}
	for (int i = 0; i < 100000; i++) { /* xorshift: every bit pattern mix */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		marker_entry_ok(f, x & all);
	}
	assert_rc(f->encode_marker(all + 1, &pte), PT_EINVAL);
	/* Nothing else reads as a marker: absent, leaves (PROT_NONE too) at
	 * every level, tables. */
	assert_false(f->decode_marker(0, NULL));
	assert_false(f->decode_marker(f->encode_table(0x5000), NULL));
	for (unsigned level = 1; level <= f->max_leaf_level; level++) {
		uint64_t pa = pt_level_size(level);
		assert_rc(f->encode_leaf(pa, level, rw, false, 0, &pte), 0);
		assert_false(f->decode_marker(pte, NULL));
		assert_rc(f->encode_leaf(pa, level, none, level == 1, 0, &pte), 0);
		assert_false(f->decode_marker(pte, NULL));
	}
}

static void markers(const struct pt_format *f)
{
	uint64_t v, fr, va = SZ_2M - 3 * SZ_4K; /* 6 pages across two leaf tables */
	struct pt_table_stats st;
	struct pt_mapping m;
	struct fix x;

	fix_init(&x, f);
	struct pt_table *t = x.src;
	assert_ok_checked(t, pt_mark(t, va, 6 * SZ_4K, 0x1234));
	for (int i = 0; i < 6; i++) {
		assert_rc(pt_query_marker(t, va + i * SZ_4K + 7, &v), 0);
		assert_u64(v, 0x1234);
		assert_rc(pt_query(t, va + i * SZ_4K, &m), PT_ENOENT);
	}
	assert_rc(pt_query_marker(t, va - SZ_4K, &v), PT_ENOENT);
	assert_rc(pt_table_stats(t, &st), 0);
	assert_u64(st.nodes[1], 2); /* two leaf tables, no mapping */
	assert_u64(st.mappings[1], 0);
	/* Over markers: replaced; over a mapping: PT_EEXIST, nothing changed. */
	assert_ok_checked(t, pt_mark(t, va, SZ_4K, (1ull << f->marker_bits) - 1));
	assert_rc(pt_query_marker(t, va, &v), 0);
	assert_u64(v, (1ull << f->marker_bits) - 1);
	assert_ok_checked(t, pt_map(t, va + SZ_4K, 0x7000, SZ_4K, prop(RW, 0))); /* swap-in */
	assert_rc(pt_query_marker(t, va + SZ_4K, &v), PT_EEXIST);
	assert_fails_unchanged(t, pt_mark(t, va, 3 * SZ_4K, 5), PT_EEXIST);
	/* Copied with the mappings, replacing dst's markers. */
	assert_ok_checked(x.dst, pt_mark(x.dst, va, 6 * SZ_4K, 77));
	assert_ok_checked(x.dst, pt_unmap(x.dst, va, SZ_4K, NULL));
	assert_ok_checked(x.dst, pt_copy(x.dst, t, va - SZ_4K, 8 * SZ_4K, 0, NULL));
	CHECK(t);
	assert_rc(pt_query_marker(x.dst, va, &v), 0);
	assert_u64(v, (1ull << f->marker_bits) - 1);
	assert_rc(pt_query_marker(x.dst, va + SZ_4K, &v), PT_EEXIST);
	assert_rc(pt_query_marker(x.dst, va + 2 * SZ_4K, &v), 0);
	assert_u64(v, 0x1234);
	/* Unmapped: gone, the rest stays. */
	assert_ok_checked(t, pt_unmap(t, va + 2 * SZ_4K, 2 * SZ_4K, NULL));
	assert_rc(pt_query_marker(t, va + 2 * SZ_4K, &v), PT_ENOENT);
	assert_rc(pt_query_marker(t, va + 3 * SZ_4K, &v), PT_ENOENT);
	assert_rc(pt_query_marker(t, va + 4 * SZ_4K, &v), 0);
	/* A 2M leaf over a leaf table of markers replaces it. */
	assert_ok_checked(t, pt_map(t, SZ_2M, SZ_2M, SZ_2M, prop(RW, 0)));
	assert_rc(pt_query_marker(t, va + 4 * SZ_4K, &v), PT_EEXIST);
	/* Tracked maps over markers too, and every error changes nothing. */
	assert_ok_checked(t, pt_mark(t, 3 * SZ_1G, 4 * SZ_4K, 9));
	fr = x.fr[0];
	assert_ok_checked(t, pt_map_frames(t, 3 * SZ_1G, &fr, 1, prop(RW, 0)));
	assert_fails_unchanged(t, pt_mark(t, 0, SZ_4K, 1ull << f->marker_bits), PT_EINVAL);
	assert_fails_unchanged(t, pt_mark(t, 0, 0, 1), PT_EINVAL);
	assert_fails_unchanged(t, pt_mark(t, 0x800, SZ_4K, 1), PT_EALIGN);
	assert_fails_unchanged(t, pt_mark(t, f->user_end - SZ_4K, 2 * SZ_4K, 1), PT_ERANGE);
	assert_rc(pt_mark(NULL, 0, SZ_4K, 1), PT_EINVAL);
	assert_rc(pt_query_marker(t, 0, NULL), PT_EINVAL);
	assert_rc(pt_query_marker(NULL, 0, &v), PT_EINVAL);
	assert_rc(pt_query_marker(t, f->user_end, &v), PT_ERANGE);
	for (uint64_t n = 1;; n++) { /* a new leaf table, then a new subtree */
		struct u_view before;
		int rc;

		u_view_take(t, &before);
		pt_phys_fail_nth_alloc(x.e->phys, n);
		rc = pt_mark(t, 7 * SZ_1G + SZ_2M - SZ_4K, 2 * SZ_4K, 3);
		pt_phys_fail_nth_alloc(x.e->phys, 0);
		if (rc == 0) {
			u_view_free(&before);
			assert_true(n > 1);
			break;
		}
		assert_rc(rc, PT_ENOMEM);
		assert_view_same(t, &before);
		u_view_free(&before);
		CHECK(t);
	}
	if (f->shared_kernel_root) {
		struct pt_table *k = fix_table(&x, PT_SPACE_KERNEL, &x.dst_inval), *uk;
		assert_ok_checked(k, pt_mark(k, 0 - SZ_4K, SZ_4K, 42));
		assert_rc(pt_table_create_user(k, &uk), 0);
		u_env_push(x.e, uk);
		assert_rc(pt_mark(uk, 0 - SZ_4K, SZ_4K, 1), PT_EPERM);
		assert_rc(pt_query_marker(uk, 0 - 1, &v), 0); /* seen through it */
		assert_u64(v, 42);
	}
	fix_fini(&x);
}

/* Every page of [va, va + len) holds a marker of value v (the first and
 * the last of every 2M looked at). */
static void assert_marked(struct pt_table *t, uint64_t va, uint64_t len, uint64_t v)
{
	for (uint64_t off = 0; off < len; off += SZ_2M) {
		uint64_t end = off + SZ_2M < len ? off + SZ_2M : len, got = ~v;
		assert_rc(pt_query_marker(t, va + off, &got), 0);
		assert_u64(got, v);
		assert_rc(pt_query_marker(t, va + end - SZ_4K, &got), 0);
		assert_u64(got, v);
	}
}

/* Leaf tables (level-1 nodes) and level-2 nodes of t. */
static uint64_t low_nodes(struct pt_table *t)
{
	struct pt_table_stats st;

	assert_rc(pt_table_stats(t, &st), 0);
	return st.nodes[1] + st.nodes[2];
}

/* One operation on part of a huge marker fails at every allocation and
 * changes nothing (the markers included), then succeeds. */
#define ENOMEM_EVERY_ALLOC(x, t, call)                                          	for (uint64_t n_ = 1;; n_++) {                                           		struct u_view before_;                                           		u_view_take(t, &before_);                                        		pt_phys_fail_nth_alloc((x)->e->phys, n_);                        		int rc_ = (call);                                                		pt_phys_fail_nth_alloc((x)->e->phys, 0);                         		u_view_free(&before_);                                           		if (rc_ == 0)                                                    			break;                                                   		assert_rc(rc_, PT_ENOMEM);                                       		CHECK(t);                                                        		assert_marked(t, 8 * SZ_1G, SZ_2M, 5);                           	}

/*
 * Huge markers: pt_mark makes one entry for an aligned 2M (and 1G) range,
 * as a map would, no leaf table below it; every operation on part of one
 * (map, unmap, mark, move, copy) splits it first, keeping the rest marked,
 * and on PT_ENOMEM changes nothing; whole ones are replaced, removed,
 * moved and copied at their size; pt_split and protect leave them alone.
 */
static void huge_markers(const struct pt_format *f)
{
	uint64_t v, base = 8 * SZ_1G, nodes;
	struct fix x;

	fix_init(&x, f);
	struct pt_table *t = x.src;
	/* One 2M marker: no leaf table under it. */
	assert_ok_checked(t, pt_mark(t, base + 500 * SZ_2M, SZ_4K, 1)); /* the path's nodes */
	nodes = low_nodes(t);
	assert_ok_checked(t, pt_mark(t, base, SZ_2M, 5));
	assert_u64(low_nodes(t), nodes);
	assert_marked(t, base, SZ_2M, 5);
	assert_rc(pt_query_marker(t, base + SZ_2M, &v), PT_ENOENT);
	/* pt_split and protect leave it as it is. */
	assert_ok_checked(t, pt_split(t, base, SZ_2M, 1, NULL));
	assert_ok_checked(t, pt_protect(t, base, SZ_4K, 0, PT_W, NULL));
	assert_u64(low_nodes(t), nodes);
	/* A map of one page inside: split, the rest still marked; failing
	 * allocations first. */
	ENOMEM_EVERY_ALLOC(&x, t, pt_map(t, base + SZ_4K, 0x7000, SZ_4K, prop(RW, 0)));
	CHECK(t);
	assert_u64(low_nodes(t), nodes + 1);
	assert_rc(pt_query_marker(t, base + SZ_4K, &v), PT_EEXIST);
	assert_marked(t, base, SZ_4K, 5);
	assert_marked(t, base + 2 * SZ_4K, SZ_2M - 2 * SZ_4K, 5);
	/* A mark over markers replaces them, at their size where whole. */
	assert_ok_checked(t, pt_mark(t, base + SZ_2M, 2 * SZ_2M, 6));
	assert_ok_checked(t, pt_mark(t, base + SZ_2M + SZ_4K, SZ_4K, 7));
	assert_marked(t, base + SZ_2M + SZ_4K, SZ_4K, 7);
	assert_marked(t, base + SZ_2M + 2 * SZ_4K, SZ_2M - 2 * SZ_4K, 6);
	assert_marked(t, base + 2 * SZ_2M, SZ_2M, 6);
	assert_ok_checked(t, pt_mark(t, base + 2 * SZ_2M, SZ_2M, 8));
	assert_marked(t, base + 2 * SZ_2M, SZ_2M, 8);
	/* Unmap: part of one split, the rest stays; a whole one goes. */
	assert_ok_checked(t, pt_unmap(t, base + 2 * SZ_2M + SZ_4K, SZ_4K, NULL));
	assert_rc(pt_query_marker(t, base + 2 * SZ_2M + SZ_4K, &v), PT_ENOENT);
	assert_marked(t, base + 2 * SZ_2M, SZ_4K, 8);
	assert_marked(t, base + 2 * SZ_2M + 2 * SZ_4K, SZ_2M - 2 * SZ_4K, 8);
	assert_ok_checked(t, pt_mark(t, base + 3 * SZ_2M, SZ_2M, 9));
	assert_ok_checked(t, pt_unmap(t, base + 3 * SZ_2M, SZ_2M, NULL));
	assert_rc(pt_query_marker(t, base + 3 * SZ_2M, &v), PT_ENOENT);
	/* A whole 2M map replaces one. */
	assert_ok_checked(t, pt_mark(t, base + 3 * SZ_2M, SZ_2M, 9));
	assert_ok_checked(t, pt_map(t, base + 3 * SZ_2M, SZ_2M, SZ_2M, prop(RW, 0)));
	assert_rc(pt_query_marker(t, base + 3 * SZ_2M + SZ_4K, &v), PT_EEXIST);
	/* Copy: a whole one at its size (no leaf table in dst), a cut one
	 * only where the range covers it, dst's huge marker split around. */
	nodes = low_nodes(x.dst);
	assert_ok_checked(x.dst, pt_copy(x.dst, t, base + SZ_2M, SZ_2M, 0, NULL));
	assert_marked(x.dst, base + SZ_2M, SZ_4K, 6);
	assert_marked(x.dst, base + SZ_2M + SZ_4K, SZ_4K, 7);
	assert_ok_checked(x.dst, pt_mark(x.dst, base, SZ_2M, 10));
	assert_ok_checked(x.dst, pt_unmap(x.dst, base + SZ_2M, SZ_2M, NULL));
	nodes = low_nodes(x.dst);
	assert_ok_checked(x.dst, pt_copy(x.dst, t, base + SZ_2M, SZ_2M, 0, NULL));
	assert_u64(low_nodes(x.dst), nodes + 1); /* 6 and 7: a leaf table */
	assert_ok_checked(x.dst, pt_unmap(x.dst, base + SZ_2M, SZ_2M, NULL));
	nodes = low_nodes(x.dst);
	assert_ok_checked(x.dst, pt_copy(x.dst, t, base + 2 * SZ_2M + 2 * SZ_4K, SZ_4K, 0, NULL));
	assert_marked(x.dst, base + 2 * SZ_2M + 2 * SZ_4K, SZ_4K, 8);
	assert_rc(pt_query_marker(x.dst, base + 2 * SZ_2M + 3 * SZ_4K, &v), PT_ENOENT);
	assert_ok_checked(x.dst, pt_unmap(x.dst, base + 2 * SZ_2M, SZ_2M, NULL));
	assert_ok_checked(t, pt_mark(t, base + 5 * SZ_2M, SZ_2M, 11));
	nodes = low_nodes(x.dst);
	assert_ok_checked(x.dst, pt_copy(x.dst, t, base + 5 * SZ_2M, SZ_2M, 0, NULL));
	assert_u64(low_nodes(x.dst), nodes);
	assert_marked(x.dst, base + 5 * SZ_2M, SZ_2M, 11);
	assert_ok_checked(x.dst, pt_copy(x.dst, t, base + SZ_4K, SZ_4K, 0, NULL));
	assert_marked(x.dst, base, SZ_4K, 10); /* dst's marker split around it */
	assert_marked(x.dst, base + 2 * SZ_4K, SZ_2M - 2 * SZ_4K, 10);
	assert_rc(pt_query_marker(x.dst, base + SZ_4K, &v), PT_EEXIST);
	/* Move: by 2M at its size, by 4K in pieces, part of one split. */
	nodes = low_nodes(t);
	assert_ok_checked(t, pt_move(t, base + 5 * SZ_2M, base + 7 * SZ_2M, SZ_2M, NULL));
	assert_u64(low_nodes(t), nodes);
	assert_marked(t, base + 7 * SZ_2M, SZ_2M, 11);
	assert_rc(pt_query_marker(t, base + 5 * SZ_2M, &v), PT_ENOENT);
	assert_ok_checked(t, pt_move(t, base + 7 * SZ_2M, base + 9 * SZ_2M + SZ_4K, SZ_2M, NULL));
	assert_marked(t, base + 9 * SZ_2M + SZ_4K, SZ_2M, 11);
	assert_ok_checked(t, pt_mark(t, base + 12 * SZ_2M, SZ_2M, 12));
	assert_ok_checked(t, pt_move(t, base + 12 * SZ_2M + SZ_4K, base + 14 * SZ_2M, SZ_4K, NULL));
	assert_marked(t, base + 14 * SZ_2M, SZ_4K, 12);
	assert_marked(t, base + 12 * SZ_2M, SZ_4K, 12);
	assert_rc(pt_query_marker(t, base + 12 * SZ_2M + SZ_4K, &v), PT_ENOENT);
	assert_marked(t, base + 12 * SZ_2M + 2 * SZ_4K, SZ_2M - 2 * SZ_4K, 12);
	/* 1G, where the format has 1G leaves: one entry. */
	if (f->max_leaf_level >= 3) {
		nodes = low_nodes(t);
		assert_ok_checked(t, pt_mark(t, 2 * base, SZ_1G, 13));
		assert_u64(low_nodes(t), nodes);
		assert_marked(t, 2 * base, SZ_1G, 13);
		assert_ok_checked(t, pt_unmap(t, 2 * base + SZ_1G - SZ_4K, SZ_4K, NULL));
		assert_u64(low_nodes(t), nodes + 2); /* one level-2 node, one leaf table */
		assert_marked(t, 2 * base, SZ_1G - SZ_4K, 13);
	}
	fix_fini(&x);
}

/* ---- split ---- */

/* Every 4 KiB page of [va, va + len) maps as `whole` (one leaf) said. */
static void assert_same_pages(struct pt_table *t, uint64_t va, uint64_t len,
			      const struct pt_mapping *whole)
{
	for (uint64_t off = 0; off < len; off += SZ_4K * 97) {
		struct pt_mapping m;
		assert_rc(pt_query(t, va + off, &m), 0);
		assert_u64(m.pa + (va + off - m.va), whole->pa + (va + off - whole->va));
		assert_u64(m.prop.flags, whole->prop.flags);
		assert_u64(m.prop.cache, whole->prop.cache);
	}
}

static void split(const struct pt_format *f)
{
	struct pt_reserve r = { 0, 0 };
	struct pt_table_stats st;
	struct pt_mapping g, h;
	uint64_t free0, va = SZ_1G + SZ_2M + SZ_4K;
	struct fix x;

	fix_init(&x, f);
	struct pt_table *t = x.src;
	assert_ok_checked(t, pt_map(t, SZ_1G, 5 * SZ_1G, SZ_1G + SZ_2M, prop(RW | PT_A | PT_D, 0)));
	assert_rc(pt_query(t, SZ_1G, &g), 0);
	assert_rc(pt_query(t, 2 * SZ_1G, &h), 0);
	/* Without a stash: counted and reserved; the 1G leaf goes to 2M, the
	 * 2M piece holding the range to 4K; the 2M leaf after is untouched. */
	u_inval_reset(&x.src_inval);
	assert_ok_checked(t, pt_split(t, va, SZ_4K, 1, NULL));
	assert_true(u_inval_covers(&x.src_inval, SZ_1G, SZ_1G));
	assert_rc(pt_table_stats(t, &st), 0);
	assert_u64(st.mappings[3], 0);
	assert_u64(st.mappings[2], 511 + 1);
	assert_u64(st.mappings[1], 512);
	assert_same_pages(t, SZ_1G, SZ_1G, &g);
	assert_same_pages(t, 2 * SZ_1G, SZ_2M, &h);
	/* Nothing larger left there: nothing to do, nothing allocated. */
	free0 = pt_phys_free_frames(x.e->phys);
	assert_ok_checked(t, pt_split(t, va, SZ_4K, 1, &r));
	assert_u64(pt_phys_free_frames(x.e->phys), free0);
	/* With a stash of 1: the first 2M piece splits, then it runs dry. */
	assert_rc(pt_reserve_fill(t, &r, 1), 0);
	assert_u64(r.count, 1);
	assert_rc(pt_split(t, SZ_1G + 7 * SZ_2M, 3 * SZ_2M, 1, &r), PT_ENOMEM);
	CHECK(t);
	assert_u64(r.count, 0);
	assert_rc(pt_table_stats(t, &st), 0);
	assert_u64(st.mappings[1], 2 * 512);
	assert_same_pages(t, SZ_1G, SZ_1G, &g);
	/* Refilled, it goes on; the rest of the stash stays for later. */
	assert_rc(pt_reserve_fill(t, &r, 5), 0);
	assert_ok_checked(t, pt_split(t, SZ_1G + 7 * SZ_2M, 3 * SZ_2M, 1, &r));
	assert_u64(r.count, 3);
	assert_rc(pt_table_stats(t, &st), 0);
	assert_u64(st.mappings[1], 4 * 512);
	assert_same_pages(t, SZ_1G, SZ_1G, &g);
	assert_rc(pt_reserve_fill(t, &r, 2), 0); /* never shrinks */
	assert_u64(r.count, 3);
	pt_reserve_drain(t, &r);
	assert_u64(r.count, 0);
	assert_u64(pt_phys_free_frames(x.e->phys), free0 - 3); /* the three nodes used */
	/* Without a stash, out of memory changes nothing. */
	assert_ok_checked(t, pt_map(t, 4 * SZ_1G, 0, SZ_1G, prop(PT_R, 0)));
	for (uint64_t n = 1;; n++) {
		struct u_view before;
		int rc;

		u_view_take(t, &before);
		pt_phys_fail_nth_alloc(x.e->phys, n);
		rc = pt_split(t, 4 * SZ_1G + SZ_2M - SZ_4K, 2 * SZ_4K, 1, NULL);
		pt_phys_fail_nth_alloc(x.e->phys, 0);
		if (rc == 0) {
			u_view_free(&before);
			assert_u64(n, 4); /* 1G -> 2M, two 2M -> 4K */
			break;
		}
		assert_rc(rc, PT_ENOMEM);
		assert_view_same(t, &before);
		u_view_free(&before);
	}
	/* A stash that cannot be filled is left as it was. */
	pt_phys_fail_nth_alloc(x.e->phys, 2);
	assert_rc(pt_reserve_fill(t, &r, 3), PT_ENOMEM);
	pt_phys_fail_nth_alloc(x.e->phys, 0);
	assert_u64(r.count, 0);
	/* Errors. */
	assert_fails_unchanged(t, pt_split(t, 0, SZ_4K, 0, NULL), PT_EINVAL);
	assert_fails_unchanged(t, pt_split(t, 0, SZ_4K, f->max_leaf_level + 1, NULL), PT_EINVAL);
	assert_fails_unchanged(t, pt_split(t, 0, 0, 1, NULL), PT_EINVAL);
	assert_fails_unchanged(t, pt_split(t, 0x800, SZ_4K, 1, NULL), PT_EALIGN);
	assert_fails_unchanged(t, pt_split(t, f->user_end - SZ_4K, 2 * SZ_4K, 1, NULL), PT_ERANGE);
	assert_rc(pt_split(NULL, 0, SZ_4K, 1, NULL), PT_EINVAL);
	assert_rc(pt_reserve_fill(NULL, &r, 1), PT_EINVAL);
	assert_rc(pt_reserve_fill(t, NULL, 1), PT_EINVAL);
	pt_reserve_drain(NULL, &r);
	pt_reserve_drain(t, NULL);
	if (f->shared_kernel_root) {
		struct pt_table *k = fix_table(&x, PT_SPACE_KERNEL, &x.dst_inval), *uk;
		assert_rc(pt_table_create_user(k, &uk), 0);
		u_env_push(x.e, uk);
		assert_rc(pt_split(uk, 0 - SZ_2M, SZ_4K, 1, NULL), PT_EPERM);
	}
	fix_fini(&x);
}

#ifdef PT_TEST_HOOKS
extern void (*pt__hook_split_cas)(_Atomic uint64_t *slot, uint64_t hw);

static unsigned mmu_calls;
static uint64_t mmu_set; /* the hardware bits the "MMU" set */

/* What an MMU does on a write through a clean, unaccessed leaf. */
static void mmu_writes(_Atomic uint64_t *slot, uint64_t hw)
{
	atomic_fetch_or(slot, hw);
	mmu_calls++;
	mmu_set |= hw;
}
#endif

/*
 * A huge leaf split on a live table, where the MMU sets accessed and dirty
 * between the split's read of the leaf and its compare-exchange (forced by
 * the test hook): every piece carries them, none lost.
 */
static void split_live_merges_ad(const struct pt_format *f)
{
#ifndef PT_TEST_HOOKS
	(void)f;
	skip(); /* no hook: a Release build */
#else
	struct u_env *e = u_env_new(ARENA);
	struct pt_table_opts o = { 0 };
	struct pt_table *t;
	uint64_t va = SZ_1G + SZ_2M, pa = 3 * SZ_1G;
	int rc;

	o.live = true;
	if (f == &pt_format_riscv_sv39 || f == &pt_format_riscv_sv48)
		o.features = PT_FEAT_RISCV_SVADU; /* the hardware sets A and D */
	assert_rc(pt_table_create_opts(e->phys, f, PT_SPACE_USER, &o, &t), 0);
	u_env_push(e, t);
	assert_ok_checked(t, pt_map(t, va, pa, SZ_2M, prop(RW, 0)));
	mmu_calls = 0;
	mmu_set = 0;
	pt__hook_split_cas = mmu_writes;
	rc = pt_split(t, va, SZ_4K, 1, NULL);
	pt__hook_split_cas = NULL;
	assert_rc(rc, 0);
	CHECK(t);
	assert_int_equal(mmu_calls, 1);
	/* AArch64 has no hardware-set bits here (mmu_set is 0): nothing to merge. */
	struct pt_prop want = u_norm(t, prop(RW | (mmu_set ? PT_A | PT_D : 0), 0), o.features);
	for (uint64_t i = 0; i < 512; i++)
		assert_query(t, va + i * SZ_4K, mapping(va + i * SZ_4K, pa + i * SZ_4K, SZ_4K,
							 want.flags, want.cache, false));
	u_env_free(e);
#endif
}

U_PER_FORMAT(copy_plain)
U_PER_FORMAT(copy_cow)
U_PER_FORMAT(copy_over_empty_nodes)
U_PER_FORMAT(copy_errors)
U_PER_FORMAT(copy_kernel_half)
U_PER_FORMAT(harvest)
U_PER_FORMAT(harvest_errors)
U_PER_FORMAT(marker_encoding)
U_PER_FORMAT(markers)
U_PER_FORMAT(huge_markers)
U_PER_FORMAT(split)
U_PER_FORMAT(split_live_merges_ad)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_plain),
		cmocka_unit_test(test_copy_cow),
		cmocka_unit_test(test_copy_over_empty_nodes),
		cmocka_unit_test(test_copy_errors),
		cmocka_unit_test(test_copy_kernel_half),
		cmocka_unit_test(test_harvest),
		cmocka_unit_test(test_harvest_errors),
		cmocka_unit_test(test_marker_encoding),
		cmocka_unit_test(test_markers),
		cmocka_unit_test(test_huge_markers),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_split_live_merges_ad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
