/* SPDX-License-Identifier: MPL-2.0 */
/*
 * format_rules.h - what the tests know about each PTE format, written from
 * design §1/§5 and the format headers' documentation, independently of the
 * library's code: the list of formats (with a short id for test names and
 * PTKIT_MODEL_FORMAT), the feature sets worth testing, and per family the
 * rules the library must follow: normalize(), whether new mappings need an
 * invalidation, and when break-before-make is required.
 *
 * Header only (static inline), no cmocka, no testutil: the unit tests and
 * the model tests both include it.
 */
#ifndef PTKIT_TEST_FORMAT_RULES_H
#define PTKIT_TEST_FORMAT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ptkit/ptkit.h>

enum pt_test_family { PT_FAM_X86, PT_FAM_RISCV, PT_FAM_AARCH64, PT_FAM_EPT };

#define PT_TEST_MAX_FEATSETS 4

struct pt_test_format {
	const char *id;                 /* "riscv_sv39": test names, env */
	const struct pt_format *fmt;
	enum pt_test_family fam;
	/* The documented geometry (design §5), checked against *fmt. */
	const char *name;
	unsigned levels, va_bits, nr_sw_bits;
	uint64_t user_end, kernel_start, pa_limit;
	bool shared_kernel_root;
	/* Feature sets whose encodings differ: every one is tested. */
	uint32_t featsets[PT_TEST_MAX_FEATSETS];
	unsigned nr_featsets;
	/* 1: a stage-1 table with a one-page root; 2: a second stage
	 * (one guest-physical space, no kernel half) whose root is
	 * root_entries entries of concatenated pages. */
	unsigned stage, root_entries;
};

static const struct pt_test_format pt_test_formats[] = {
	{"x86_64", &pt_format_x86_64, PT_FAM_X86, "x86-64", 4, 48, 4,
	 1ull << 47, 0xffff800000000000ull, 1ull << 52, true,
	 {0, PT_FEAT_X86_PAT_WC}, 2, 1, 512},
	{"x86_64_la57", &pt_format_x86_64_la57, PT_FAM_X86, "x86-64-la57", 5, 57, 4,
	 1ull << 56, 0xff00000000000000ull, 1ull << 52, true,
	 {0, PT_FEAT_X86_PAT_WC}, 2, 1, 512},
	{"riscv_sv39", &pt_format_riscv_sv39, PT_FAM_RISCV, "riscv-sv39", 3, 39, 1,
	 1ull << 38, 0xffffffc000000000ull, 1ull << 56, true,
	 {0, PT_FEAT_RISCV_SVPBMT, PT_FEAT_RISCV_SVADU}, 3, 1, 512},
	{"riscv_sv48", &pt_format_riscv_sv48, PT_FAM_RISCV, "riscv-sv48", 4, 48, 1,
	 1ull << 47, 0xffff800000000000ull, 1ull << 56, true,
	 {0, PT_FEAT_RISCV_SVPBMT, PT_FEAT_RISCV_SVPBMT | PT_FEAT_RISCV_SVADU}, 3, 1, 512},
	{"aarch64_4k", &pt_format_aarch64_4k, PT_FAM_AARCH64, "aarch64-4k", 4, 48, 3,
	 1ull << 48, 0xffff000000000000ull, 1ull << 48, false,
	 {0}, 1, 1, 512},
	/* Stage 2 (design §1): one space [0, 2^va_bits), no kernel half. */
	{"riscv_sv39x4", &pt_format_riscv_sv39x4, PT_FAM_RISCV, "riscv-sv39x4", 3, 41, 1,
	 1ull << 41, UINT64_MAX, 1ull << 56, false,
	 {0, PT_FEAT_RISCV_SVPBMT, PT_FEAT_RISCV_SVADU}, 3, 2, 2048},
	{"riscv_sv48x4", &pt_format_riscv_sv48x4, PT_FAM_RISCV, "riscv-sv48x4", 4, 50, 1,
	 1ull << 50, UINT64_MAX, 1ull << 56, false,
	 {0, PT_FEAT_RISCV_SVPBMT | PT_FEAT_RISCV_SVADU}, 2, 2, 2048},
	{"aarch64_s2_4k", &pt_format_aarch64_s2_4k, PT_FAM_AARCH64, "aarch64-s2-4k", 3, 40, 3,
	 1ull << 40, UINT64_MAX, 1ull << 48, false,
	 {0, PT_FEAT_AARCH64_S2FWB}, 2, 2, 1024},
	{"x86_ept", &pt_format_x86_ept, PT_FAM_EPT, "x86-ept", 4, 48, 4,
	 1ull << 48, UINT64_MAX, 1ull << 52, false,
	 {0, PT_FEAT_X86_EPT_AD}, 2, 2, 512},
	{"x86_ept5", &pt_format_x86_ept5, PT_FAM_EPT, "x86-ept5", 5, 57, 4,
	 1ull << 57, UINT64_MAX, 1ull << 52, false,
	 {0, PT_FEAT_X86_EPT_AD}, 2, 2, 512},
};

#define PT_TEST_NR_FORMATS (sizeof(pt_test_formats) / sizeof(pt_test_formats[0]))
/* The stage-1 formats come first, then the stage-2 ones: the fuzzer's
 * format byte numbers each group on its own. */
#define PT_TEST_NR_STAGE1_FORMATS 5
#define PT_TEST_NR_STAGE2_FORMATS (PT_TEST_NR_FORMATS - PT_TEST_NR_STAGE1_FORMATS)

/* By id ("riscv_sv39") or by pt_format.name ("riscv-sv39"); NULL if none. */
static inline const struct pt_test_format *pt_test_format_find(const char *s)
{
	for (size_t i = 0; s && i < PT_TEST_NR_FORMATS; i++)
		if (!strcmp(s, pt_test_formats[i].id) ||
		    !strcmp(s, pt_test_formats[i].name))
			return &pt_test_formats[i];
	return NULL;
}

/* The property flags one family can express (software bits included). */
static inline uint32_t pt_rules_known_flags(enum pt_test_family fam)
{
	uint32_t hw = PT_R | PT_W | PT_X | PT_U | PT_G | PT_A | PT_D;

	switch (fam) {
	case PT_FAM_X86:
		return hw | PT_SW0 | PT_SW1 | PT_SW2 | PT_SW3; /* bits 52-55 */
	case PT_FAM_EPT:
		return hw | PT_SW0 | PT_SW1 | PT_SW2 | PT_SW3; /* bits 53-56 */
	case PT_FAM_RISCV:
		return hw | PT_SW0;                            /* one RSW bit */
	default:
		return hw | PT_SW0 | PT_SW1 | PT_SW2;          /* bits 56-58 */
	}
}

/*
 * design §1 normalize(), per family:
 *  x86:     W or X imply R; WC only with PT_FEAT_X86_PAT_WC.
 *  RISC-V:  W implies R (W without R is reserved); A always set, D set
 *           with W, unless Svadu (the harts set them); without Svpbmt the PMAs decide, so every policy is WB;
 *           with it, WT is UC (Svpbmt has no write-through).
 *  AArch64: W or X imply R; A always set (AF); no dirty bit; all four
 *           cache policies (MAIR indexes).
 * Unknown flags, missing software bits and bad caches are PT_EINVAL.
 */
static inline int pt_rules_normalize(enum pt_test_family fam, struct pt_prop p,
				     uint32_t features, struct pt_prop *out)
{
	if ((p.flags & ~pt_rules_known_flags(fam)) || p.cache >= PT_CACHE_COUNT)
		return PT_EINVAL;
	switch (fam) {
	case PT_FAM_X86:
		if (p.cache == PT_CACHE_WC && !(features & PT_FEAT_X86_PAT_WC))
			return PT_EINVAL;
		if (p.flags & (PT_W | PT_X))
			p.flags |= PT_R;
		break;
	case PT_FAM_RISCV:
		if (p.flags & PT_W)
			p.flags |= PT_R;
		if (!(features & PT_FEAT_RISCV_SVADU))
			p.flags |= PT_A | (p.flags & PT_W ? PT_D : 0);
		if (!(features & PT_FEAT_RISCV_SVPBMT))
			p.cache = PT_CACHE_WB;
		else if (p.cache == PT_CACHE_WT)
			p.cache = PT_CACHE_UC;
		break;
	case PT_FAM_AARCH64:
		if (p.flags & (PT_W | PT_X))
			p.flags |= PT_R;
		p.flags = (p.flags | PT_A) & ~PT_D;
		break;
	case PT_FAM_EPT:
		if (p.flags & PT_W) /* W without R is an EPT misconfiguration */
			p.flags |= PT_R;
		if (!(features & PT_FEAT_X86_EPT_AD))
			p.flags &= ~(PT_A | PT_D);
		break;
	}
	*out = p;
	return 0;
}

/* normalize() of one format: its family's, and on a stage 2 what that
 * stage leaves out: U and G mean nothing there (the RISC-V G-stage walks
 * every access as U-mode, so every leaf has U; AArch64 stage 2 has neither).
 * AArch64 stage 2 with FEAT_S2FWB forces WB, NC or Device: no WT. */
static inline int pt_rules_normalize_format(const struct pt_test_format *tf, struct pt_prop p,
					    uint32_t features, struct pt_prop *out)
{
	int err = pt_rules_normalize(tf->fam, p, features, out);

	if (!err && tf->stage == 2 && tf->fam == PT_FAM_AARCH64 &&
	    (features & PT_FEAT_AARCH64_S2FWB) && p.cache == PT_CACHE_WT)
		return PT_EINVAL;

	if (!err && tf->stage == 2)
		out->flags &= ~(PT_U | PT_G);
	return err;
}

/* A normalized property the hardware sees as valid (not PROT_NONE). */
static inline bool pt_rules_valid(enum pt_test_family fam, struct pt_prop n)
{
	/* RISC-V: a leaf is V with any of R/W/X (X alone is execute-only). */
	if (fam == PT_FAM_RISCV || fam == PT_FAM_EPT)
		return (n.flags & (PT_R | PT_W | PT_X)) != 0;
	return (n.flags & PT_R) != 0;
}

/* pt_harvest (issue #13): what a normalized leaf reports is its A and D,
 * and on a format without a dirty bit (AArch64, no DBM) D for every
 * writable leaf. */
static inline uint32_t pt_rules_harvest_reported(enum pt_test_family fam, struct pt_prop p)
{
	uint32_t r = p.flags & (PT_A | PT_D);

	if (fam == PT_FAM_AARCH64 && (p.flags & PT_W))
		r |= PT_D;
	return r;
}

/* design §5: RISC-V without Svvptc may cache invalid entries, so new
 * mappings must be invalidated like changed ones. */
static inline bool pt_rules_flush_new_mappings(enum pt_test_family fam, uint32_t features)
{
	return fam == PT_FAM_RISCV && !(features & PT_FEAT_RISCV_SVVPTC);
}

/* AArch64 (Arm ARM D8.14): changing a valid block's size (splitting it,
 * or a table becoming a block) needs break-before-make unless FEAT_BBM
 * level 2 is there. */
static inline bool pt_rules_resize_needs_break(enum pt_test_family fam, uint32_t features)
{
	return fam == PT_FAM_AARCH64 && !(features & PT_FEAT_AARCH64_BBM2);
}

/* AArch64: rewriting a valid leaf that stays valid needs break-before-make
 * when its address, memory type or nG changes; protect changes none but
 * nG (= !PT_G). */
static inline bool pt_rules_update_needs_break(enum pt_test_family fam, struct pt_prop old,
					       struct pt_prop new_)
{
	return fam == PT_FAM_AARCH64 && pt_rules_valid(fam, old) &&
	       pt_rules_valid(fam, new_) &&
	       (((old.flags ^ new_.flags) & PT_G) || old.cache != new_.cache);
}

/* Whether the family ever breaks an entry before making it: the others
 * change entries in place, and must, since a live entry cleared even for a
 * moment faults on another CPU. */
static inline bool pt_rules_may_break(enum pt_test_family fam)
{
	return fam == PT_FAM_AARCH64;
}

#endif /* PTKIT_TEST_FORMAT_RULES_H */
