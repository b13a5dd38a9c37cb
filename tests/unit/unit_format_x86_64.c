/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_format_x86_64 - the x86-64 PTE encoding, exhaustively, through the
 * public struct pt_format function pointers (design §1, format.h).
 *
 * The round trip decode(encode(p)) == normalize(p) is what invariant 7
 * rests on, so it is checked for every flag subset x cache policy x feature
 * set x leaf level x trackedness x a few addresses.  Raw bit positions are
 * checked against the Intel SDM (vol. 3A, 4.5 "4-level paging", tables
 * 4-15..4-20; 11.12 PAT) by an independent model written here.
 */
#include "unit.h"

static const struct pt_format *F = &pt_format_x86_64;

/* Bits of an x86-64 PTE (SDM). */
#define X_P    (1ull << 0)
#define X_W    (1ull << 1)
#define X_U    (1ull << 2)
#define X_PWT  (1ull << 3)
#define X_PCD  (1ull << 4)
#define X_A    (1ull << 5)
#define X_D    (1ull << 6)
#define X_PS   (1ull << 7)  /* levels 2, 3: huge leaf */
#define X_PAT4K (1ull << 7) /* level 1 */
#define X_G    (1ull << 8)
#define X_PATHUGE (1ull << 12)
#define X_NX   (1ull << 63)
#define X_PFN  0x000ffffffffff000ull /* bits 12..51 */
/* Ignored by the MMU, free for software: 9..11 and 52..58 (59..62 are
 * protection keys when CR4.PKE is set, so not software bits). */
#define X_SW   ((7ull << 9) | (0x7full << 52))

static const uint32_t flag_bits[] = { PT_R, PT_W, PT_X, PT_U, PT_G, PT_A, PT_D,
				      PT_SW0, PT_SW1, PT_SW2, PT_SW3 };

static unsigned nr_flag_bits(void)
{
	return 7 + F->nr_sw_bits;
}

static uint32_t subset_flags(uint32_t s)
{
	uint32_t f = 0;
	unsigned i;

	for (i = 0; i < nr_flag_bits(); i++)
		if (s & (1u << i))
			f |= flag_bits[i];
	return f;
}

/* Our own statement of x86-64's normalization (design §1): W or X imply R;
 * WC needs PT_FEAT_X86_PAT_WC; anything else unknown is refused. */
static int model_normalize(struct pt_prop p, uint32_t feat, struct pt_prop *out)
{
	uint32_t known = PT_R | PT_W | PT_X | PT_U | PT_G | PT_A | PT_D;
	unsigned i;

	for (i = 0; i < F->nr_sw_bits; i++)
		known |= PT_SW0 << i;
	if (p.flags & ~known)
		return PT_EINVAL;
	if (p.cache >= PT_CACHE_COUNT)
		return PT_EINVAL;
	if (p.cache == PT_CACHE_WC && !(feat & PT_FEAT_X86_PAT_WC))
		return PT_EINVAL;
	if (p.flags & (PT_W | PT_X))
		p.flags |= PT_R;
	*out = p;
	return 0;
}

/* PAT index of a cache policy.  Reset PAT: 0 WB, 1 WT, 2 UC-, 3 UC.  With
 * PT_FEAT_X86_PAT_WC the PAT is Linux's: 0 WB, 1 WC, 2 UC-, 3 UC, 4 WB,
 * 5 WP, 6 UC-, 7 WT (arch/x86/mm/pat/memtype.c). */
static unsigned model_pat_index(uint32_t cache, uint32_t feat)
{
	bool linux_pat = feat & PT_FEAT_X86_PAT_WC;

	switch (cache) {
	case PT_CACHE_WB: return 0;
	case PT_CACHE_WT: return linux_pat ? 7 : 1;
	case PT_CACHE_WC: return 1;
	default:          return 3;
	}
}

/* The hardware bits of a present leaf, software bits excluded. */
static uint64_t model_hw(uint64_t pa, unsigned level, struct pt_prop n, uint32_t feat)
{
	unsigned idx = model_pat_index(n.cache, feat);
	uint64_t pte = pa | X_P;

	pte |= (n.flags & PT_W) ? X_W : 0;
	pte |= (n.flags & PT_U) ? X_U : 0;
	pte |= (n.flags & PT_A) ? X_A : 0;
	pte |= (n.flags & PT_D) ? X_D : 0;
	pte |= (n.flags & PT_G) ? X_G : 0;
	pte |= (n.flags & PT_X) ? 0 : X_NX;
	pte |= (idx & 1) ? X_PWT : 0;
	pte |= (idx & 2) ? X_PCD : 0;
	if (level == 1) {
		pte |= (idx & 4) ? X_PAT4K : 0;
	} else {
		pte |= X_PS;
		pte |= (idx & 4) ? X_PATHUGE : 0;
	}
	return pte;
}

/* The largest page-aligned pa the format accepts at `level`. */
static uint64_t top_pa(unsigned level)
{
	uint64_t sz = pt_level_size(level);

	return (F->pa_limit - 1) & ~(sz - 1);
}

static uint64_t mid_pa(unsigned level)
{
	return (0x5a5a5a5a5a5a5000ull % F->pa_limit) & ~(pt_level_size(level) - 1);
}

struct rt_case {
	uint64_t pa;
	unsigned level;
	struct pt_prop p;
	bool tracked;
	uint32_t feat;
};

static void rt_fail(const struct rt_case *c, uint64_t pte, const char *what)
{
	fail_msg("%s: pa %#llx level %u flags %#x cache %u tracked %d feat %#x "
		 "-> pte %#llx", what, (unsigned long long)c->pa, c->level,
		 c->p.flags, c->p.cache, c->tracked, c->feat,
		 (unsigned long long)pte);
}

/* One case of the round trip.  `nrc`/`n` are normalize's verdict. */
static void roundtrip_one(const struct rt_case *c, int nrc, struct pt_prop n)
{
	uint64_t pte = 0, dpa = ~0ull;
	struct pt_prop dp = { ~0u, ~0u };
	bool dt = !c->tracked;
	int rc, d;

	rc = F->encode_leaf(c->pa, c->level, c->p, c->tracked, c->feat, &pte);
	if (nrc != 0) {
		if (rc != PT_EINVAL)
			rt_fail(c, pte, "normalize refused but encode_leaf did not say PT_EINVAL");
		return;
	}
	if (rc != 0)
		rt_fail(c, pte, "normalize accepted but encode_leaf failed");
	d = F->decode(pte, c->level, c->feat, &dpa, &dp, &dt);
	if (d != PT_DECODE_LEAF)
		rt_fail(c, pte, "leaf does not decode as PT_DECODE_LEAF");
	if (dpa != c->pa)
		rt_fail(c, pte, "decoded pa differs");
	if (dt != c->tracked)
		rt_fail(c, pte, "decoded trackedness differs");
	if (dp.flags != n.flags || dp.cache != n.cache)
		rt_fail(c, pte, "decoded prop is not the normalized prop");
	if (n.flags & (PT_R | PT_W | PT_X)) {
		if ((pte & ~X_SW) != model_hw(c->pa, c->level, n, c->feat))
			rt_fail(c, pte, "hardware bits differ from the SDM model");
	} else if (pte & X_P) {
		rt_fail(c, pte, "PROT_NONE leaf has P set");
	}
}

/* Every flag subset x cache x level x tracked x pa, for one feature set. */
static void roundtrip_all(uint32_t feat)
{
	uint32_t s, cache;
	unsigned level, t, k;
	uint64_t n_ok = 0;

	assert_true(F->nr_sw_bits <= 4);
	for (s = 0; s < (1u << nr_flag_bits()); s++) {
		for (cache = 0; cache < PT_CACHE_COUNT; cache++) {
			struct rt_case c = { 0, 0, prop(subset_flags(s), cache), false, feat };
			struct pt_prop n = { 0, 0 }, m = { 0, 0 };
			int nrc = F->normalize(c.p, feat, &n);
			int mrc = model_normalize(c.p, feat, &m);

			if (nrc != mrc)
				rt_fail(&c, 0, "normalize verdict differs from the rules");
			if (nrc == 0 && (n.flags != m.flags || n.cache != m.cache))
				rt_fail(&c, 0, "normalize result differs from the rules");
			for (level = 1; level <= F->max_leaf_level; level++) {
				uint64_t pas[3] = { 0, mid_pa(level), top_pa(level) };
				c.level = level;
				for (t = 0; t < 2; t++)
					for (k = 0; k < 3; k++) {
						c.tracked = t;
						c.pa = pas[k];
						roundtrip_one(&c, nrc, n);
						n_ok += nrc == 0;
					}
			}
		}
	}
	/* Guard against a loop that silently tested nothing. */
	assert_true(n_ok > 1000);
}

static void test_geometry(void **state)
{
	(void)state;
	assert_string_equal(F->name, "x86-64");
	assert_int_equal(F->levels, 4);
	assert_int_equal(F->max_leaf_level, 3);
	assert_u64(F->user_end, X86_USER_END);
	assert_u64(F->kernel_start, X86_KERNEL_START);
	assert_u64(F->pa_limit, 1ull << 52); /* MAXPHYADDR's architectural max */
	assert_true(F->shared_kernel_root);
	assert_true(F->nr_sw_bits <= 4);
	assert_non_null(F->normalize);
	assert_non_null(F->encode_leaf);
	assert_non_null(F->encode_table);
	assert_non_null(F->decode);
}

/* Reset PAT: WC is refused, the rest round-trips. */
static void test_roundtrip_reset_pat(void **state)
{
	(void)state;
	roundtrip_all(0);
}

/* Linux PAT: WC allowed, at PAT index 1 where the reset PAT has WT; decode
 * must be told the same features to read it back. */
static void test_roundtrip_linux_pat(void **state)
{
	(void)state;
	roundtrip_all(PT_FEAT_X86_PAT_WC);
}

/* Flag bits no one defined, software bits the format lacks, bad caches. */
static void test_unknown_bits_refused(void **state)
{
	struct pt_prop out;
	uint64_t pte;
	unsigned b;

	(void)state;
	for (b = 0; b < 32; b++) {
		uint32_t bit = 1u << b;
		struct pt_prop m, p = prop(PT_R | bit, PT_CACHE_WB);
		int want = model_normalize(p, PT_FEAT_X86_PAT_WC, &m);

		if (want == 0)
			continue;
		if (F->normalize(p, PT_FEAT_X86_PAT_WC, &out) != PT_EINVAL)
			fail_msg("normalize accepted unknown flag bit %u", b);
		if (F->encode_leaf(0x1000, 1, p, false, PT_FEAT_X86_PAT_WC, &pte) != PT_EINVAL)
			fail_msg("encode_leaf accepted unknown flag bit %u", b);
	}
	assert_rc(F->normalize(prop(PT_R, PT_CACHE_COUNT), 0, &out), PT_EINVAL);
	assert_rc(F->normalize(prop(PT_R, 0xffffffffu), PT_FEAT_X86_PAT_WC, &out), PT_EINVAL);
	assert_rc(F->encode_leaf(0x1000, 1, prop(PT_R, PT_CACHE_COUNT), false, 0, &pte),
		  PT_EINVAL);
	assert_rc(F->encode_leaf(0x1000, 1, prop(PT_R, PT_CACHE_WC), false, 0, &pte),
		  PT_EINVAL);
}

/* Address errors: PT_EALIGN before PT_ERANGE (design §5), PT_EINVAL for a
 * property or level first. */
static void test_leaf_address_errors(void **state)
{
	struct pt_prop r = prop(PT_R, PT_CACHE_WB);
	uint64_t pte;
	unsigned level;

	(void)state;
	for (level = 1; level <= F->max_leaf_level; level++) {
		uint64_t sz = pt_level_size(level);

		assert_rc(F->encode_leaf(F->pa_limit, level, r, false, 0, &pte), PT_ERANGE);
		assert_rc(F->encode_leaf(UINT64_MAX & ~(SZ_1G - 1), level, r, false, 0, &pte),
			  PT_ERANGE);
		assert_rc(F->encode_leaf(sz + SZ_4K / 2, level, r, false, 0, &pte), PT_EALIGN);
		assert_rc(F->encode_leaf(1, level, r, false, 0, &pte), PT_EALIGN);
		/* Unaligned and too large: alignment is reported first. */
		assert_rc(F->encode_leaf(F->pa_limit + 1, level, r, false, 0, &pte), PT_EALIGN);
		/* Bad property and bad address: the property first. */
		assert_rc(F->encode_leaf(F->pa_limit, level, prop(1u << 7, 0), false, 0, &pte),
			  PT_EINVAL);
		if (level > 1)
			assert_rc(F->encode_leaf(pt_level_size(level - 1), level, r,
						 false, 0, &pte), PT_EALIGN);
	}
	/* No leaf at level 0 or above the highest leaf level. */
	assert_rc(F->encode_leaf(0, 0, r, false, 0, &pte), PT_EINVAL);
	assert_rc(F->encode_leaf(0, F->max_leaf_level + 1, r, false, 0, &pte), PT_EINVAL);
	assert_rc(F->encode_leaf(0, F->levels + 1, r, false, 0, &pte), PT_EINVAL);
}

/* A zero PTE is absent everywhere: fresh nodes are zero-filled. */
static void test_zero_is_absent(void **state)
{
	unsigned level;
	uint64_t pa;
	struct pt_prop p;
	bool t;

	(void)state;
	for (level = 1; level <= F->levels; level++) {
		assert_int_equal(F->decode(0, level, 0, &pa, &p, &t), PT_DECODE_ABSENT);
		assert_int_equal(F->decode(0, level, PT_FEAT_X86_PAT_WC, NULL, NULL, NULL),
				 PT_DECODE_ABSENT);
	}
}

/* Table entries are the most permissive (P|W|U, no NX, no PS) and decode
 * as tables at every level that has tables, never as leaves. */
static void test_table_entries(void **state)
{
	const uint64_t pas[] = { 0, SZ_4K, 0x12345000ull, 1ull << 40,
				 F->pa_limit - SZ_4K };
	unsigned level;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof pas / sizeof pas[0]; i++) {
		uint64_t pte = F->encode_table(pas[i]), dpa;
		struct pt_prop p;
		bool t;

		if ((pte & (X_P | X_W | X_U)) != (X_P | X_W | X_U))
			fail_msg("table pte %#llx lacks P|W|U", (unsigned long long)pte);
		if (pte & (X_PS | X_NX))
			fail_msg("table pte %#llx has PS or NX", (unsigned long long)pte);
		assert_u64(pte & X_PFN, pas[i]);
		for (level = 2; level <= F->levels; level++) {
			dpa = ~0ull;
			if (F->decode(pte, level, 0, &dpa, &p, &t) != PT_DECODE_TABLE)
				fail_msg("table pte %#llx at level %u is not a table",
					 (unsigned long long)pte, level);
			/* format.h: decode gives a table's pa too. */
			assert_u64(dpa, pas[i]);
			if (F->decode(pte, level, PT_FEAT_X86_PAT_WC, NULL, NULL, NULL) !=
			    PT_DECODE_TABLE)
				fail_msg("table pte %#llx: decode with NULL outputs",
					 (unsigned long long)pte);
		}
	}
}

/* Huge leaves must never be taken for table pointers, including PROT_NONE
 * and tracked ones whose P bit is clear. */
static void test_huge_leaves_never_tables(void **state)
{
	const uint32_t fl[] = { PT_R, RW, RWX | PT_U | PT_G | PT_A | PT_D, 0, PT_U };
	unsigned level;
	size_t i;
	int t;

	(void)state;
	for (level = 2; level <= F->max_leaf_level; level++)
		for (i = 0; i < sizeof fl / sizeof fl[0]; i++)
			for (t = 0; t < 2; t++) {
				uint64_t pte, dpa;
				struct pt_prop p;
				bool dt;

				assert_rc(F->encode_leaf(pt_level_size(level), level,
							 prop(fl[i], PT_CACHE_UC), t, 0, &pte), 0);
				assert_int_equal(F->decode(pte, level, 0, &dpa, &p, &dt),
						 PT_DECODE_LEAF);
			}
}

/* Exact PTEs for a few cases, written out by hand from the SDM. */
static void test_raw_bits_sdm(void **state)
{
	static const struct {
		uint64_t pa;
		unsigned level;
		uint32_t flags, cache, feat;
		uint64_t want;
	} cases[] = {
		/* P|W|U|A|D, NX: WB is PAT index 0 */
		{ 0x12345000, 1, RW | PT_U | PT_A | PT_D, PT_CACHE_WB, 0, 0x8000000012345067ull },
		/* R|X|G, WT = index 1 = PWT */
		{ 0x12345000, 1, PT_R | PT_X | PT_G, PT_CACHE_WT, 0, 0x0000000012345109ull },
		/* 2M: PS, UC = index 3 = PWT|PCD, NX */
		{ 0x40200000, 2, RW, PT_CACHE_UC, 0, 0x800000004020009bull },
		/* 1G: PS, WB, executable */
		{ 0x80000000, 3, PT_R | PT_X, PT_CACHE_WB, 0, 0x0000000080000081ull },
		/* Linux PAT: WC = index 1 = PWT */
		{ 0x1000, 1, PT_R, PT_CACHE_WC, PT_FEAT_X86_PAT_WC, 0x8000000000001009ull },
		/* Linux PAT: WT = index 7 = PAT(bit 7 on 4K)|PCD|PWT */
		{ 0x1000, 1, PT_R, PT_CACHE_WT, PT_FEAT_X86_PAT_WC, 0x8000000000001099ull },
		/* ... and on a 2M leaf the PAT bit is bit 12 */
		{ 0x200000, 2, PT_R, PT_CACHE_WT, PT_FEAT_X86_PAT_WC, 0x8000000000201099ull },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint64_t pte = 0;

		assert_rc(F->encode_leaf(cases[i].pa, cases[i].level,
					 prop(cases[i].flags, cases[i].cache), false,
					 cases[i].feat, &pte), 0);
		if ((pte & ~X_SW) != cases[i].want)
			fail_msg("case %zu: pte %#llx (without software bits %#llx), "
				 "SDM says %#llx", i, (unsigned long long)pte,
				 (unsigned long long)(pte & ~X_SW),
				 (unsigned long long)cases[i].want);
	}
}

/* PROT_NONE: not present to the MMU, inverted frame number (L1TF, as
 * Linux's pte_mknone/protnone), still a leaf to software. */
static void test_prot_none_l1tf(void **state)
{
	const uint64_t pas[] = { 0, 0x12345000ull, F->pa_limit - SZ_4K };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof pas / sizeof pas[0]; i++) {
		uint64_t pte = 0, dpa;
		struct pt_prop p;
		bool t;

		assert_rc(F->encode_leaf(pas[i], 1, prop(PT_U | PT_A, PT_CACHE_WB),
					 false, 0, &pte), 0);
		assert_u64(pte & X_P, 0);
		if ((pte & X_PFN) != (~pas[i] & X_PFN))
			fail_msg("PROT_NONE pte %#llx for pa %#llx: frame number not inverted",
				 (unsigned long long)pte, (unsigned long long)pas[i]);
		assert_int_equal(F->decode(pte, 1, 0, &dpa, &p, &t), PT_DECODE_LEAF);
		assert_u64(dpa, pas[i]);
	}
}

/* Trackedness and the caller's software bits live only in bits the MMU
 * ignores: flipping them must not change what the hardware sees. */
static void test_software_bits_invisible(void **state)
{
	const uint32_t base[] = { RW | PT_A, 0 };
	unsigned level, i, b;

	(void)state;
	for (level = 1; level <= F->max_leaf_level; level++)
		for (i = 0; i < 2; i++) {
			uint64_t pa = pt_level_size(level) * 3, p0, p1;
			struct pt_prop pr = prop(base[i], PT_CACHE_WB);

			assert_rc(F->encode_leaf(pa, level, pr, false, 0, &p0), 0);
			assert_rc(F->encode_leaf(pa, level, pr, true, 0, &p1), 0);
			if ((p0 ^ p1) == 0 || ((p0 ^ p1) & ~X_SW))
				fail_msg("tracked bit: %#llx vs %#llx", (unsigned long long)p0,
					 (unsigned long long)p1);
			for (b = 0; b < F->nr_sw_bits; b++) {
				struct pt_prop ps = prop(base[i] | (PT_SW0 << b), PT_CACHE_WB);

				assert_rc(F->encode_leaf(pa, level, ps, false, 0, &p1), 0);
				if ((p0 ^ p1) == 0 || ((p0 ^ p1) & ~X_SW))
					fail_msg("PT_SW%u: %#llx vs %#llx", b,
						 (unsigned long long)p0,
						 (unsigned long long)p1);
			}
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_roundtrip_reset_pat),
		cmocka_unit_test(test_roundtrip_linux_pat),
		cmocka_unit_test(test_unknown_bits_refused),
		cmocka_unit_test(test_leaf_address_errors),
		cmocka_unit_test(test_zero_is_absent),
		cmocka_unit_test(test_table_entries),
		cmocka_unit_test(test_huge_leaves_never_tables),
		cmocka_unit_test(test_raw_bits_sdm),
		cmocka_unit_test(test_prot_none_l1tf),
		cmocka_unit_test(test_software_bits_invisible),
	};

	return cmocka_run_group_tests_name("unit_format_x86_64", tests, NULL, NULL);
}
