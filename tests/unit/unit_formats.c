/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_formats - every PTE format, exhaustively, through the public struct
 * pt_format function pointers (design §1, format.h).
 *
 * For each of the five formats and each feature set that changes its
 * encoding: every subset of PT_FLAGS_ALL x every cache policy (and one past
 * them) x every leaf level x trackedness (tracked mappings are base pages:
 * level 1 only) x three addresses (0, the last aligned one below pa_limit,
 * a mixed bit pattern):
 *  - normalize() agrees with the rules written down independently in
 *    tests/common/format_rules.h, and is idempotent;
 *  - what normalize accepts encodes, and decodes as PT_DECODE_LEAF (never
 *    as a table) with the same pa, trackedness and prop == normalize(p);
 *  - what normalize refuses, encode_leaf refuses with PT_EINVAL;
 *  - for RISC-V and AArch64, every valid leaf's hardware bits equal a
 *    model of the architecture written here (x86-64's are pinned by
 *    unit_format_x86_64; LA57 and Sv48 must encode exactly like x86-64
 *    and Sv39: only the geometry differs).
 * Then per format: geometry (design §5), table entries at every level above
 * 1, zero is absent, software bits past nr_sw_bits and unknown bits are
 * refused, address errors, and a few documented encodings spelled out.
 */
#include "unit.h"

#include "format_rules.h"

#define NFLAGBITS 11 /* PT_FLAGS_ALL */

static const uint32_t flag_bits[NFLAGBITS] = {
	PT_R, PT_W, PT_X, PT_U, PT_G, PT_A, PT_D, PT_SW0, PT_SW1, PT_SW2, PT_SW3,
};

static uint32_t subset_flags(uint32_t s)
{
	uint32_t f = 0;

	for (unsigned i = 0; i < NFLAGBITS; i++)
		if (s & (1u << i))
			f |= flag_bits[i];
	return f;
}

static const struct pt_test_format *TF(void **state)
{
	return *state;
}

/* The largest page-aligned pa below pa_limit at `level`. */
static uint64_t top_pa(const struct pt_format *f, unsigned level)
{
	return (f->pa_limit - 1) & ~(pt_level_size(level) - 1);
}

/* A mixed bit pattern, aligned to the level. */
static uint64_t mid_pa(const struct pt_format *f, unsigned level)
{
	return (0x5a5a5a5a5a5a5000ull & (f->pa_limit - 1)) & ~(pt_level_size(level) - 1);
}

static bool prop_eq(struct pt_prop a, struct pt_prop b)
{
	return a.flags == b.flags && a.cache == b.cache;
}

struct rt_case {
	const struct pt_test_format *tf;
	uint64_t pa;
	unsigned level;
	struct pt_prop p;
	bool tracked;
	uint32_t feat;
};

static void rt_fail(const struct rt_case *c, uint64_t pte, const char *what)
{
	fail_msg("%s: %s: pa %#llx level %u flags %#x cache %u tracked %d feat %#x "
		 "-> pte %#llx", c->tf->id, what, (unsigned long long)c->pa, c->level,
		 c->p.flags, c->p.cache, c->tracked, c->feat, (unsigned long long)pte);
}

/* ---- architecture models of a valid leaf's hardware bits ---------------- */

/* RISC-V (privileged spec, Sv39/Sv48 PTE): V0 R1 W2 X3 U4 G5 A6 D7, RSW
 * 8-9 (software), PPN 10-53, reserved 54-60, PBMT 61-62 (Svpbmt), N 63. */
#define RV_V (1ull << 0)
#define RV_R (1ull << 1)
#define RV_W (1ull << 2)
#define RV_X (1ull << 3)
#define RV_U (1ull << 4)
#define RV_G (1ull << 5)
#define RV_A (1ull << 6)
#define RV_D (1ull << 7)
#define RV_RSW (3ull << 8)
#define RV_PPN(pa) (((pa) >> 12) << 10)
#define RV_PBMT_SHIFT 61

static uint64_t rv_model(uint64_t pa, struct pt_prop n, uint32_t feat)
{
	/* Svpbmt: 0 PMA, 1 NC, 2 IO. */
	uint64_t pbmt = !(feat & PT_FEAT_RISCV_SVPBMT) ? 0 :
			n.cache == PT_CACHE_WC ? 1 : n.cache == PT_CACHE_WB ? 0 : 2;

	return RV_V | (n.flags & PT_R ? RV_R : 0) | (n.flags & PT_W ? RV_W : 0) |
	       (n.flags & PT_X ? RV_X : 0) | (n.flags & PT_U ? RV_U : 0) |
	       (n.flags & PT_G ? RV_G : 0) | (n.flags & PT_A ? RV_A : 0) |
	       (n.flags & PT_D ? RV_D : 0) | RV_PPN(pa) | pbmt << RV_PBMT_SHIFT;
}

/* AArch64 (Arm ARM D8.3, stage 1, 4 KiB granule): bits[1:0] 01 block,
 * 11 page/table; AttrIndx 2-4; AP[1] 6 (EL0), AP[2] 7 (read-only); SH 8-9;
 * AF 10; nG 11; OA 12-47; PXN 53; UXN 54; 55-58 ignored (software). */
#define A_VALID (1ull << 0)
#define A_TYPE (1ull << 1)
#define A_AP_EL0 (1ull << 6)
#define A_AP_RO (1ull << 7)
#define A_SH_INNER (3ull << 8)
#define A_AF (1ull << 10)
#define A_NG (1ull << 11)
#define A_OA 0x0000fffffffff000ull
#define A_PXN (1ull << 53)
#define A_UXN (1ull << 54)
#define A_SW (0xfull << 55)

static uint64_t a64_model(uint64_t pa, unsigned level, struct pt_prop n)
{
	bool user = n.flags & PT_U, x = n.flags & PT_X;
	uint64_t pte = A_VALID | (level == 1 ? A_TYPE : 0) | ((uint64_t)n.cache << 2) |
		       A_SH_INNER | A_AF | pa;

	pte |= user ? A_AP_EL0 : 0;
	pte |= n.flags & PT_W ? 0 : A_AP_RO;
	pte |= n.flags & PT_G ? 0 : A_NG;
	if (user)
		pte |= A_PXN | (x ? 0 : A_UXN);
	else
		pte |= A_UXN | (x ? 0 : A_PXN);
	return pte;
}

/* AArch64 stage 2 (Arm ARM D8.3): MemAttr 2-5 (FWB off: WB 0xf, WT 0xa,
 * NC 0x5, Device-nGnRE 0x1; FEAT_S2FWB on, as Linux's MT_S2_FWB_*: WB
 * forced 0x6, NC 0x5, Device-nGnRE 0x1, no WT), S2AP 6 read 7 write,
 * SH 8-9, AF 10, bit 11 0, OA 12-47, XN bit 54. */
#define A_S2AP_R (1ull << 6)
#define A_S2AP_W (1ull << 7)
#define A_S2_XN (1ull << 54)

static uint64_t a64_s2_model(uint64_t pa, unsigned level, struct pt_prop n, uint32_t feat)
{
	static const uint64_t memattr[] = {0xf, 0xa, 0x5, 0x1}; /* WB WT WC UC */
	static const uint64_t fwb[] = {0x6, ~0ull, 0x5, 0x1};   /* no WT */
	uint64_t attr = feat & PT_FEAT_AARCH64_S2FWB ? fwb[n.cache] : memattr[n.cache];

	return A_VALID | (level == 1 ? A_TYPE : 0) | attr << 2 | A_SH_INNER | A_AF |
	       pa | (n.flags & PT_R ? A_S2AP_R : 0) | (n.flags & PT_W ? A_S2AP_W : 0) |
	       (n.flags & PT_X ? 0 : A_S2_XN);
}

/* Intel EPT (SDM 3C, EPT entries): R 0, W 1, X 2, memory type 3-5 (UC 0,
 * WC 1, WT 4, WB 6), IPAT 6, leaf 7 above level 1, A 8, D 9, address
 * 12-51; ptkit's and the caller's bits 52-56 are the software's. */
static uint64_t ept_model(uint64_t pa, unsigned level, struct pt_prop n)
{
	static const uint64_t type[] = {6, 4, 1, 0}; /* WB WT WC UC */

	return (n.flags & PT_R ? 1 : 0) | (n.flags & PT_W ? 2 : 0) | (n.flags & PT_X ? 4 : 0) |
	       type[n.cache] << 3 | 1ull << 6 | (level > 1 ? 1ull << 7 : 0) |
	       (n.flags & PT_A ? 1ull << 8 : 0) | (n.flags & PT_D ? 1ull << 9 : 0) | pa;
}

/* The family's view of a leaf that normalize accepted. */
static void hw_check(const struct rt_case *c, struct pt_prop n, uint64_t pte)
{
	bool valid = pt_rules_valid(c->tf->fam, n);

	switch (c->tf->fam) {
	case PT_FAM_RISCV:
		if (!valid) {
			if (pte & RV_V)
				rt_fail(c, pte, "PROT_NONE leaf has V set");
			return;
		}
		/* The G-stage walks as U-mode: U on every leaf. */
		if ((pte & ~RV_RSW) != (rv_model(c->pa, n, c->feat) |
					(c->tf->stage == 2 ? RV_U : 0)))
			rt_fail(c, pte, "valid leaf differs from the RISC-V model "
				"(reserved bits 54-60/63, PBMT, PPN, RWXUGAD)");
		/* Harts without Svadu fault instead of setting A and D. */
		if ((n.flags & PT_W) && !(c->feat & PT_FEAT_RISCV_SVADU) &&
		    (pte & (RV_A | RV_D)) != (RV_A | RV_D))
			rt_fail(c, pte, "writable leaf lacks A or D");
		break;
	case PT_FAM_AARCH64:
		if (!valid) {
			if (pte & A_VALID)
				rt_fail(c, pte, "PROT_NONE leaf has the valid bit set");
			return;
		}
		if ((pte & ~A_SW) != (c->tf->stage == 2 ? a64_s2_model(c->pa, c->level, n, c->feat)
							: a64_model(c->pa, c->level, n)))
			rt_fail(c, pte, "valid leaf differs from the AArch64 model");
		break;
	case PT_FAM_EPT:
		if (!valid) {
			if (pte & 7)
				rt_fail(c, pte, "PROT_NONE leaf has R, W or X set");
			return;
		}
		if ((pte & ~(0x1full << 52)) != ept_model(c->pa, c->level, n))
			rt_fail(c, pte, "valid leaf differs from the EPT model");
		break;
	case PT_FAM_X86:
		break; /* unit_format_x86_64 models the SDM bits */
	}
}

/* LA57 and Sv48 use the entries of x86-64 and Sv39 unchanged. */
static const struct pt_format *sibling(const struct pt_test_format *tf)
{
	if (tf->fmt == &pt_format_x86_64_la57)
		return &pt_format_x86_64;
	if (tf->fmt == &pt_format_riscv_sv48)
		return &pt_format_riscv_sv39;
	return NULL;
}

/* ---- the round trip -------------------------------------------------------- */

static void roundtrip_one(const struct rt_case *c, int nrc, struct pt_prop n)
{
	const struct pt_format *F = c->tf->fmt, *sib = sibling(c->tf);
	uint64_t pte = 0, dpa = ~0ull;
	struct pt_prop dp = {~0u, ~0u};
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
		rt_fail(c, pte, d == PT_DECODE_TABLE ? "leaf decodes as a table"
						     : "leaf decodes as absent");
	if (dpa != c->pa)
		rt_fail(c, pte, "decoded pa differs");
	if (dt != c->tracked)
		rt_fail(c, pte, "decoded trackedness differs");
	if (!prop_eq(dp, n))
		rt_fail(c, pte, "decoded prop is not normalize(p)");
	if (F->decode(pte, c->level, c->feat, NULL, NULL, NULL) != PT_DECODE_LEAF)
		rt_fail(c, pte, "decode with NULL outputs is not a leaf");
	hw_check(c, n, pte);
	if (sib) {
		uint64_t spte = 0;

		if (sib->encode_leaf(c->pa, c->level, c->p, c->tracked, c->feat, &spte) ||
		    spte != pte)
			rt_fail(c, pte, "entry differs from the sibling format's");
	}
}

static uint64_t roundtrip_featset(const struct pt_test_format *tf, uint32_t feat)
{
	const struct pt_format *F = tf->fmt;
	uint64_t n_ok = 0;

	for (uint32_t s = 0; s < (1u << NFLAGBITS); s++) {
		for (uint32_t cache = 0; cache <= PT_CACHE_COUNT; cache++) {
			struct rt_case c = {tf, 0, 0, prop(subset_flags(s), cache), false, feat};
			struct pt_prop n = {0, 0}, r = {0, 0}, n2 = {0, 0};
			int nrc = F->normalize(c.p, feat, &n);
			int rrc = pt_rules_normalize_format(tf, c.p, feat, &r);

			if (nrc != rrc)
				rt_fail(&c, 0, nrc ? "normalize refused what the rules accept"
						   : "normalize accepted what the rules refuse");
			if (nrc == 0 && !prop_eq(n, r))
				rt_fail(&c, 0, "normalize result differs from the rules");
			if (nrc == 0 && (F->normalize(n, feat, &n2) != 0 || !prop_eq(n, n2)))
				rt_fail(&c, 0, "normalize is not idempotent");
			for (unsigned level = 1; level <= F->max_leaf_level; level++) {
				uint64_t pas[3] = {0, mid_pa(F, level), top_pa(F, level)};

				c.level = level;
				for (int t = 0; t < (level == 1 ? 2 : 1); t++)
					for (int k = 0; k < 3; k++) {
						c.tracked = t;
						c.pa = pas[k];
						roundtrip_one(&c, nrc, n);
						n_ok += nrc == 0;
					}
			}
		}
	}
	return n_ok;
}

static void test_roundtrip(void **state)
{
	const struct pt_test_format *tf = TF(state);

	for (unsigned i = 0; i < tf->nr_featsets; i++) {
		uint64_t n_ok = roundtrip_featset(tf, tf->featsets[i]);

		/* A loop that silently tested nothing would pass too. */
		if (n_ok < 10000)
			fail_msg("%s feat %#x: only %llu accepted cases", tf->id,
				 tf->featsets[i], (unsigned long long)n_ok);
		print_message("%s feat %#x: %llu accepted leaves round-tripped\n", tf->id,
			      tf->featsets[i], (unsigned long long)n_ok);
	}
}

/* ---- generic properties ---------------------------------------------------- */

static void test_geometry(void **state)
{
	const struct pt_test_format *tf = TF(state);
	const struct pt_format *F = tf->fmt;

	assert_string_equal(F->name, tf->name);
	assert_int_equal(F->levels, tf->levels);
	assert_true(F->levels <= PT_MAX_LEVELS);
	assert_int_equal(F->max_leaf_level, 3);
	assert_int_equal(F->va_bits, tf->va_bits);
	assert_u64(F->user_end, tf->user_end);
	assert_u64(F->kernel_start, tf->kernel_start);
	assert_u64(F->pa_limit, tf->pa_limit);
	assert_int_equal(F->nr_sw_bits, tf->nr_sw_bits);
	assert_int_equal(F->shared_kernel_root, tf->shared_kernel_root);
	/* One half is what the levels translate: 9 bits per level + 12.  A
	 * shared root splits it in two sign-extended halves; AArch64's TTBR0
	 * and TTBR1 each have the whole width. */
	unsigned extra_root_bits = (unsigned)__builtin_ctz(tf->root_entries / 512);

	assert_int_equal(F->root_entries, tf->root_entries);
	assert_int_equal(F->stage, tf->stage);
	assert_int_equal(F->va_bits, 12 + 9 * F->levels + extra_root_bits);
	if (F->stage == 2) {
		/* One guest-physical space, no kernel half. */
		assert_u64(F->user_end, 1ull << F->va_bits);
		assert_u64(F->kernel_start, UINT64_MAX);
	} else if (F->shared_kernel_root) {
		assert_u64(F->user_end, 1ull << (F->va_bits - 1));
		assert_u64(F->kernel_start, ~0ull << (F->va_bits - 1));
	} else {
		assert_u64(F->user_end, 1ull << F->va_bits);
		assert_u64(F->kernel_start, ~0ull << F->va_bits);
	}
	assert_non_null(F->normalize);
	assert_non_null(F->encode_leaf);
	assert_non_null(F->encode_table);
	assert_non_null(F->decode);
	assert_non_null(F->ops);
}

/* Software bits the format lacks, unknown bits, bad cache policies. */
static void test_refused(void **state)
{
	const struct pt_test_format *tf = TF(state);
	const struct pt_format *F = tf->fmt;
	uint32_t feat = tf->featsets[tf->nr_featsets - 1];
	struct pt_prop out;
	uint64_t pte;

	for (unsigned b = 0; b < 4; b++) {
		struct pt_prop p = prop(PT_R | (PT_SW0 << b), PT_CACHE_WB);
		int want = b < F->nr_sw_bits ? 0 : PT_EINVAL;

		if (F->normalize(p, feat, &out) != want)
			fail_msg("%s: normalize(PT_SW%u) with %u software bits: want %d",
				 tf->id, b, F->nr_sw_bits, want);
		if (F->encode_leaf(0x1000, 1, p, false, feat, &pte) != want)
			fail_msg("%s: encode_leaf(PT_SW%u): want %d", tf->id, b, want);
		if (want == 0 && !(out.flags & (PT_SW0 << b)))
			fail_msg("%s: normalize dropped PT_SW%u", tf->id, b);
	}
	for (unsigned b = 0; b < 32; b++) {
		struct pt_prop p = prop(PT_R | (1u << b), PT_CACHE_WB);

		if (PT_FLAGS_ALL & (1u << b))
			continue;
		if (F->normalize(p, feat, &out) != PT_EINVAL)
			fail_msg("%s: normalize accepted unknown flag bit %u", tf->id, b);
		if (F->encode_leaf(0x1000, 1, p, false, feat, &pte) != PT_EINVAL)
			fail_msg("%s: encode_leaf accepted unknown flag bit %u", tf->id, b);
	}
	for (unsigned i = 0; i < tf->nr_featsets; i++) {
		assert_rc(F->normalize(prop(PT_R, PT_CACHE_COUNT), tf->featsets[i], &out),
			  PT_EINVAL);
		assert_rc(F->normalize(prop(PT_R, 0xffffffffu), tf->featsets[i], &out),
			  PT_EINVAL);
		assert_rc(F->encode_leaf(0x1000, 1, prop(PT_R, PT_CACHE_COUNT), false,
					 tf->featsets[i], &pte), PT_EINVAL);
	}
}

/* PT_EINVAL (level, prop) before PT_EALIGN before PT_ERANGE. */
static void test_leaf_address_errors(void **state)
{
	const struct pt_format *F = TF(state)->fmt;
	struct pt_prop r = prop(PT_R, PT_CACHE_WB);
	uint64_t pte;

	for (unsigned level = 1; level <= F->max_leaf_level; level++) {
		uint64_t sz = pt_level_size(level);

		assert_rc(F->encode_leaf(F->pa_limit, level, r, false, 0, &pte), PT_ERANGE);
		assert_rc(F->encode_leaf(UINT64_MAX & ~(SZ_1G - 1), level, r, false, 0, &pte),
			  PT_ERANGE);
		assert_rc(F->encode_leaf(sz + SZ_4K / 2, level, r, false, 0, &pte), PT_EALIGN);
		assert_rc(F->encode_leaf(F->pa_limit + 1, level, r, false, 0, &pte), PT_EALIGN);
		assert_rc(F->encode_leaf(F->pa_limit, level, prop(1u << 7, 0), false, 0, &pte),
			  PT_EINVAL);
		assert_rc(F->encode_leaf(top_pa(F, level), level, r, false, 0, &pte), 0);
		if (level > 1)
			assert_rc(F->encode_leaf(pt_level_size(level - 1), level, r, false, 0,
						 &pte), PT_EALIGN);
	}
	assert_rc(F->encode_leaf(0, 0, r, false, 0, &pte), PT_EINVAL);
	assert_rc(F->encode_leaf(0, F->max_leaf_level + 1, r, false, 0, &pte), PT_EINVAL);
	assert_rc(F->encode_leaf(0, F->levels + 1, r, false, 0, &pte), PT_EINVAL);
	assert_rc(F->encode_leaf(0, 1, r, false, 0, NULL), PT_EINVAL);
}

/* Fresh nodes are zero-filled: zero is absent at every level. */
static void test_zero_is_absent(void **state)
{
	const struct pt_test_format *tf = TF(state);
	uint64_t pa = 0x1234;
	struct pt_prop p = {7, 7};
	bool t = true;

	for (unsigned i = 0; i < tf->nr_featsets; i++)
		for (unsigned level = 1; level <= tf->fmt->levels; level++) {
			assert_int_equal(tf->fmt->decode(0, level, tf->featsets[i], &pa, &p, &t),
					 PT_DECODE_ABSENT);
			assert_int_equal(tf->fmt->decode(0, level, tf->featsets[i], NULL, NULL,
							 NULL), PT_DECODE_ABSENT);
		}
	/* "writing nothing" */
	assert_u64(pa, 0x1234);
	assert_true(t);
}

/* encode_table(pa) is a table with that pa at every level that has tables,
 * and no table entry decodes as a leaf. */
static void test_table_entries(void **state)
{
	const struct pt_test_format *tf = TF(state);
	const struct pt_format *F = tf->fmt;
	const uint64_t pas[] = {0, SZ_4K, 0x12345000ull, 0x5a5a5a5a5a5a5000ull & (F->pa_limit - 1),
				F->pa_limit / 2, F->pa_limit - SZ_4K};

	for (size_t i = 0; i < sizeof(pas) / sizeof(pas[0]); i++) {
		uint64_t pte = F->encode_table(pas[i]);

		for (unsigned k = 0; k < tf->nr_featsets; k++)
			for (unsigned level = 2; level <= F->levels; level++) {
				uint64_t dpa = ~0ull;
				int d = F->decode(pte, level, tf->featsets[k], &dpa, NULL, NULL);

				if (d != PT_DECODE_TABLE || dpa != pas[i])
					fail_msg("%s: table pte %#llx (pa %#llx) at level %u "
						 "decodes as %d with pa %#llx", tf->id,
						 (unsigned long long)pte,
						 (unsigned long long)pas[i], level, d,
						 (unsigned long long)dpa);
				if (F->decode(pte, level, tf->featsets[k], NULL, NULL, NULL) !=
				    PT_DECODE_TABLE)
					fail_msg("%s: table pte %#llx: decode with NULL outputs",
						 tf->id, (unsigned long long)pte);
			}
	}
}

/* Trackedness and software bits never change what the MMU sees of a valid
 * leaf, and never turn a leaf into something else. */
static void test_software_bits_invisible(void **state)
{
	const struct pt_test_format *tf = TF(state);
	const struct pt_format *F = tf->fmt;
	uint64_t hw_ignored = tf->fam == PT_FAM_RISCV ? RV_RSW :
			      tf->fam == PT_FAM_AARCH64 ? A_SW :
			      tf->fam == PT_FAM_EPT ? 0x1full << 52 : /* EPT: 52-56 */
			      (7ull << 9) | (0x7full << 52); /* x86: 9-11, 52-58 */

	for (unsigned level = 1; level <= F->max_leaf_level; level++) {
		uint64_t pa = pt_level_size(level) * 3, p0, p1;
		struct pt_prop pr = prop(RW | PT_A, PT_CACHE_WB);

		assert_rc(F->encode_leaf(pa, level, pr, false, 0, &p0), 0);
		assert_rc(F->encode_leaf(pa, level, pr, true, 0, &p1), 0);
		if ((p0 ^ p1) == 0 || ((p0 ^ p1) & ~hw_ignored))
			fail_msg("%s: tracked bit: %#llx vs %#llx", tf->id,
				 (unsigned long long)p0, (unsigned long long)p1);
		for (unsigned b = 0; b < F->nr_sw_bits; b++) {
			assert_rc(F->encode_leaf(pa, level, prop(pr.flags | (PT_SW0 << b), 0),
						 false, 0, &p1), 0);
			if ((p0 ^ p1) == 0 || ((p0 ^ p1) & ~hw_ignored))
				fail_msg("%s: PT_SW%u: %#llx vs %#llx", tf->id, b,
					 (unsigned long long)p0, (unsigned long long)p1);
		}
	}
}

/* ---- documented encodings, spelled out -------------------------------------- */

static uint64_t enc(const struct pt_format *F, uint64_t pa, unsigned level, uint32_t flags,
		    uint32_t cache, bool tracked, uint32_t feat)
{
	uint64_t pte = 0;

	assert_rc(F->encode_leaf(pa, level, prop(flags, cache), tracked, feat, &pte), 0);
	return pte;
}

static void test_riscv_bits(void **state)
{
	const struct pt_test_format *tf = TF(state);
	const struct pt_format *F = tf->fmt;
	const uint64_t pas[] = {0, SZ_4K, 0x12345000ull, F->pa_limit - SZ_4K};
	uint64_t pte, dpa;
	struct pt_prop p;
	bool t;

	/* Table entry: V and the PPN, nothing else (no A, D, U, R, W, X). */
	for (size_t i = 0; i < sizeof(pas) / sizeof(pas[0]); i++)
		assert_u64(F->encode_table(pas[i]), RV_PPN(pas[i]) | RV_V);
	assert_u64(F->encode_table(0x80200000ull), 0x20080001ull);

	/* A writable leaf: R, W, A and D set (the core need not set them). */
	pte = enc(F, 0x80200000ull, 2, PT_W, PT_CACHE_WB, false, 0);
	/* PPN 0x80200 << 10 | D A W R V, and U on a G-stage leaf */
	assert_u64(pte, 0x200800c7ull | (tf->stage == 2 ? RV_U : 0));
	/* Read-only user leaf: V R U A, no D. */
	assert_u64(enc(F, 0x1000, 1, PT_R | PT_U, PT_CACHE_WB, false, 0),
		   RV_PPN(0x1000ull) | RV_V | RV_R | RV_U | RV_A);

	/* Execute-only: valid, X alone of R/W/X; decodes back as X (no R). */
	pte = enc(F, 0x40000000ull, 3, PT_X, PT_CACHE_WB, false, 0);
	assert_u64(pte & (RV_V | RV_R | RV_W | RV_X), RV_V | RV_X);
	assert_int_equal(F->decode(pte, 3, 0, &dpa, &p, &t), PT_DECODE_LEAF);
	assert_int_equal(p.flags, PT_X | PT_A);

	/* PROT_NONE: V clear, still a leaf, pa kept; huge ones too. */
	for (unsigned level = 1; level <= 3; level++) {
		pte = enc(F, pt_level_size(level) * 5, level, PT_U | PT_SW0, PT_CACHE_WB, true, 0);
		assert_u64(pte & RV_V, 0);
		assert_int_equal(F->decode(pte, level, 0, &dpa, &p, &t), PT_DECODE_LEAF);
		assert_u64(dpa, pt_level_size(level) * 5);
		assert_int_equal(p.flags, (tf->stage == 2 ? 0 : PT_U) | PT_SW0 | PT_A);
		assert_true(t);
	}
	/* G-stage: U on every valid leaf whatever the caller asked, never G. */
	for (unsigned level = 1; tf->stage == 2 && level <= 3; level++) {
		pte = enc(F, pt_level_size(level) * 3, level, PT_R | PT_G, PT_CACHE_WB, false, 0);
		assert_u64(pte & (RV_V | RV_U | RV_G), RV_V | RV_U);
	}

	/* Cache policies: without Svpbmt all WB and PBMT 0; with it, WC is NC
	 * (1), UC and WT are IO (2). */
	for (uint32_t c = 0; c < PT_CACHE_COUNT; c++) {
		pte = enc(F, 0x2000, 1, PT_R, c, false, 0);
		assert_u64(pte >> RV_PBMT_SHIFT, 0);
		assert_int_equal(F->decode(pte, 1, 0, NULL, &p, NULL), PT_DECODE_LEAF);
		assert_int_equal(p.cache, PT_CACHE_WB);
		pte = enc(F, 0x2000, 1, PT_R, c, false, PT_FEAT_RISCV_SVPBMT);
		assert_u64(pte >> RV_PBMT_SHIFT, c == PT_CACHE_WB ? 0 : c == PT_CACHE_WC ? 1 : 2);
	}
}

static void test_aarch64_bits(void **state)
{
	const struct pt_format *F = TF(state)->fmt;
	const uint64_t pas[] = {0, SZ_4K, 0x12345000ull, F->pa_limit - SZ_4K};
	uint64_t pte;

	/* Table descriptor: pa | 0b11, APTable/UXNTable/PXNTable clear. */
	for (size_t i = 0; i < sizeof(pas) / sizeof(pas[0]); i++)
		assert_u64(F->encode_table(pas[i]), pas[i] | 3);

	for (unsigned level = 1; level <= 3; level++)
		for (uint32_t c = 0; c < PT_CACHE_COUNT; c++)
			for (int u = 0; u < 2; u++)
				for (int g = 0; g < 2; g++) {
					uint64_t pa = pt_level_size(level) * 7;
					uint32_t fl = PT_R | (u ? PT_U : 0) | (g ? PT_G : 0);

					pte = enc(F, pa, level, fl, c, false, 0);
					/* block 01 at levels 2, 3; page 11 at level 1 */
					assert_u64(pte & 3, level == 1 ? 3 : 1);
					assert_u64(pte & A_AF, A_AF);
					assert_u64((pte >> 2) & 7, c); /* AttrIndx = cache */
					assert_u64(!!(pte & A_NG), !g);
					assert_u64(!!(pte & A_AP_EL0), u);
					assert_u64(pte & A_AP_RO, A_AP_RO); /* no W */
					assert_u64(pte & A_OA, pa);
					/* Not executable: PXN and UXN both. */
					assert_u64(pte & (A_PXN | A_UXN), A_PXN | A_UXN);
					/* Executable: only at the leaf's own level. */
					pte = enc(F, pa, level, fl | PT_X, c, false, 0);
					assert_u64(pte & (A_PXN | A_UXN), u ? A_PXN : A_UXN);
					pte = enc(F, pa, level, fl | PT_W, c, false, 0);
					assert_u64(pte & A_AP_RO, 0);
				}
	/* Written out: a kernel RW 4K page, WB, global, non-executable. */
	assert_u64(enc(F, 0x40001000ull, 1, RW | PT_G, PT_CACHE_WB, false, 0),
		   0x0060000040001703ull);
	/* A user RX 2M block, UC (AttrIndx 3), not global. */
	assert_u64(enc(F, 0x40200000ull, 2, PT_R | PT_X | PT_U, PT_CACHE_UC, false, 0),
		   0x0020000040200fcdull);
	/* PROT_NONE: valid bit clear, still a leaf. */
	pte = enc(F, 0x200000, 2, PT_U, PT_CACHE_WB, true, 0);
	assert_u64(pte & A_VALID, 0);
	assert_int_equal(F->decode(pte, 2, 0, NULL, NULL, NULL), PT_DECODE_LEAF);
	/* The MAIR value documented for the AttrIndx mapping. */
	assert_u64(PT_AARCH64_MAIR, 0x0444bbffull);
}

/* AArch64 stage 2: the bits written out, and table descriptors with no
 * attributes (bits 63:59 are RES0 at stage 2). */
static void test_aarch64_s2_bits(void **state)
{
	const struct pt_format *F = TF(state)->fmt;
	uint64_t pte;
	struct pt_prop p;

	assert_u64(F->encode_table(0x40002000ull), 0x40002003ull);
	/* Guest RAM: RW, not executable, WB 2M block: S2AP 11, MemAttr 0xf. */
	assert_u64(enc(F, 0x40200000ull, 2, RW, PT_CACHE_WB, false, 0), 0x00400000402007fdull);
	/* MMIO: RW 4K page, Device-nGnRE, XN. */
	assert_u64(enc(F, 0x09000000ull, 1, RW, PT_CACHE_UC, false, 0), 0x00400000090007c7ull);
	/* Executable read-only 1G block: S2AP 01, XN clear. */
	pte = enc(F, 0x80000000ull, 3, PT_R | PT_X | PT_U | PT_G, PT_CACHE_WB, false, 0);
	assert_u64(pte, 0x000000008000077dull);
	assert_int_equal(F->decode(pte, 3, 0, NULL, &p, NULL), PT_DECODE_LEAF);
	assert_int_equal(p.flags, PT_R | PT_X | PT_A);
	/* PROT_NONE: valid clear, still a leaf. */
	pte = enc(F, 0x200000, 2, 0, PT_CACHE_WB, true, 0);
	assert_u64(pte & A_VALID, 0);
	assert_int_equal(F->decode(pte, 2, 0, NULL, NULL, NULL), PT_DECODE_LEAF);
	/* FEAT_S2FWB: guest RAM forced WB (MemAttr 0x6), read back as WB;
	 * MMIO as without it; write-through is not there to force. */
	pte = enc(F, 0x40200000ull, 2, RW, PT_CACHE_WB, false, PT_FEAT_AARCH64_S2FWB);
	assert_u64(pte, 0x00400000402007d9ull);
	assert_int_equal(F->decode(pte, 2, PT_FEAT_AARCH64_S2FWB, NULL, &p, NULL), PT_DECODE_LEAF);
	assert_int_equal(p.cache, PT_CACHE_WB);
	assert_u64(enc(F, 0x09000000ull, 1, RW, PT_CACHE_UC, false, PT_FEAT_AARCH64_S2FWB),
		   0x00400000090007c7ull);
	assert_int_equal(F->normalize((struct pt_prop){PT_R, PT_CACHE_WT}, PT_FEAT_AARCH64_S2FWB,
				      &p), PT_EINVAL);
}

/* EPT: no present bit (R|W|X), W alone gets R, memory type with IPAT,
 * bit 7 on 2M/1G leaves, A/D only under PT_FEAT_X86_EPT_AD. */
static void test_ept_bits(void **state)
{
	const struct pt_format *F = TF(state)->fmt;
	struct pt_prop p;
	uint64_t pte;

	assert_u64(F->encode_table(0x5000), 0x5007);
	/* Guest RAM, RWX WB 1G: R W X, type 6, IPAT, bit 7. */
	assert_u64(enc(F, 0x40000000ull, 3, RWX, PT_CACHE_WB, false, 0), 0x400000f7ull);
	/* W alone: normalized to R|W. */
	pte = enc(F, 0x1000, 1, PT_W, PT_CACHE_UC, false, 0);
	assert_u64(pte, 0x1043);
	/* Execute-only 2M, WC. */
	assert_u64(enc(F, 0x200000, 2, PT_X, PT_CACHE_WC, false, 0), 0x2000cc);
	/* A and D: dropped without the feature, bits 8 and 9 with it. */
	assert_int_equal(F->normalize(prop(RW | PT_A | PT_D | PT_U | PT_G, 0), 0, &p), 0);
	assert_int_equal(p.flags, RW);
	pte = enc(F, 0x1000, 1, RW | PT_A | PT_D, PT_CACHE_WB, false, PT_FEAT_X86_EPT_AD);
	assert_u64(pte, 0x1373);
	/* PROT_NONE: R=W=X=0 (not present to the CPU), still a leaf. */
	pte = enc(F, 0x200000, 2, 0, PT_CACHE_WB, true, 0);
	assert_u64(pte & 7, 0);
	assert_int_equal(F->decode(pte, 2, 0, NULL, NULL, NULL), PT_DECODE_LEAF);
}

/* LA57: five levels, 57-bit halves, the entries of x86-64 (checked in the
 * round trip); a table entry at level 5 is a table. */
static void test_la57_geometry(void **state)
{
	const struct pt_format *F = TF(state)->fmt;

	assert_int_equal(F->levels, 5);
	assert_u64(F->user_end, 1ull << 56);
	assert_u64(F->kernel_start, 0xff00000000000000ull);
	assert_int_equal(F->decode(F->encode_table(0x5000), 5, 0, NULL, NULL, NULL),
			 PT_DECODE_TABLE);
	assert_u64(F->encode_table(0x5000), pt_format_x86_64.encode_table(0x5000));
}

/* Free frames after a table's creation, through its root's size. */
static uint64_t created_root_frames(struct pt_phys *phys, const struct pt_format *F,
				    struct pt_table **t)
{
	uint64_t before = u_free_frames(phys);

	assert_rc(pt_table_create(phys, F, PT_SPACE_USER, t), 0);
	return before - u_free_frames(phys) - 1; /* minus struct pt_table's frame */
}

/*
 * A stage-2 table (design §3): one guest-physical space, a root of
 * root_entries / 512 pages aligned to its size, whose slots above 511 map
 * the top of the space; the kernel space refused; a failed root allocation
 * (fault injection) changes nothing; destroy gives every frame back.
 */
static void test_stage2_table(void **state)
{
	const struct pt_format *F = TF(state)->fmt;
	uint64_t root_bytes = (uint64_t)F->root_entries * 8, top = F->user_end - SZ_1G;
	struct pt_phys *phys;
	struct pt_table *t;
	struct pt_table_stats st;

	assert_rc(pt_phys_create(64 << 20, &phys), 0);
	uint64_t free0 = u_free_frames(phys);
	assert_rc(pt_table_create(phys, F, PT_SPACE_KERNEL, &t), PT_EINVAL);
	/* Fragment the pool first: every other frame taken. */
	uint64_t held[64];
	for (unsigned i = 0; i < 64; i++)
		assert_rc(pt_frame_alloc(phys, &held[i]), 0);
	for (unsigned i = 0; i < 64; i += 2)
		assert_rc(pt_frame_put(phys, held[i]), 0);
	pt_phys_fail_nth_alloc(phys, 2); /* the root: after struct pt_table's frame */
	assert_rc(pt_table_create(phys, F, PT_SPACE_USER, &t), PT_ENOMEM);
	assert_u64(created_root_frames(phys, F, &t), root_bytes / SZ_4K);
	assert_u64(pt_table_root(t) & (root_bytes - 1), 0);

	/* The first and the last GiB of the space: root slots 0 and the last. */
	assert_rc(pt_map(t, 0, 0x200000, SZ_4K, prop(RW, PT_CACHE_WB)), 0);
	assert_rc(pt_map(t, top, 0, SZ_1G, prop(RW, PT_CACHE_WB)), 0);
	assert_rc(pt_map(t, F->user_end, 0, SZ_4K, prop(RW, PT_CACHE_WB)), PT_ERANGE);
	CHECK(t);
	struct pt_mapping m;
	assert_rc(pt_query(t, top + 0x5000, &m), 0);
	assert_u64(m.va, top);
	assert_u64(m.size, SZ_1G);
	assert_unmapped(t, top - SZ_1G);
	uint64_t root_va = (uint64_t)(uintptr_t)pt_phys_to_virt(phys, pt_table_root(t));
	assert_true(((const uint64_t *)(uintptr_t)root_va)[F->root_entries - 1] != 0);
	assert_rc(pt_table_stats(t, &st), 0);
	assert_u64(st.nodes[F->levels], 1);
	assert_u64(st.mapped_bytes, SZ_1G + SZ_4K);
	assert_rc(pt_unmap(t, 0, F->user_end, NULL), 0);
	CHECK(t);
	pt_table_destroy(t);
	for (unsigned i = 1; i < 64; i += 2)
		assert_rc(pt_frame_put(phys, held[i]), 0);
	pt_phys_barrier(phys);
	assert_u64(u_free_frames(phys), free0);
	pt_phys_destroy(phys);
}

static int run_format(const struct pt_test_format *tf)
{
	char name[64];
	void *st = (void *)tf;
	struct CMUnitTest tests[12];
	size_t n = 0;

	tests[n++] = (struct CMUnitTest)cmocka_unit_test_prestate(test_geometry, st);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_prestate(test_roundtrip, st);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_prestate(test_refused, st);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_prestate(test_leaf_address_errors, st);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_prestate(test_zero_is_absent, st);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_prestate(test_table_entries, st);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_prestate(test_software_bits_invisible,
								   st);
	if (tf->fam == PT_FAM_RISCV)
		tests[n++] = (struct CMUnitTest)cmocka_unit_test_prestate(test_riscv_bits, st);
	if (tf->fam == PT_FAM_AARCH64)
		tests[n++] = (struct CMUnitTest)cmocka_unit_test_prestate(
			tf->stage == 2 ? test_aarch64_s2_bits : test_aarch64_bits, st);
	if (tf->fmt == &pt_format_x86_64_la57)
		tests[n++] = (struct CMUnitTest)cmocka_unit_test_prestate(test_la57_geometry, st);
	if (tf->fam == PT_FAM_EPT)
		tests[n++] = (struct CMUnitTest)cmocka_unit_test_prestate(test_ept_bits, st);
	if (tf->stage == 2)
		tests[n++] = (struct CMUnitTest)cmocka_unit_test_prestate(test_stage2_table, st);
	snprintf(name, sizeof(name), "unit_formats[%s]", tf->id);
	return _cmocka_run_group_tests(name, tests, n, NULL, NULL);
}

int main(void)
{
	int failed = 0;

	for (size_t i = 0; i < PT_TEST_NR_FORMATS; i++)
		failed += run_format(&pt_test_formats[i]);
	return failed;
}
