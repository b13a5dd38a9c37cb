/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ptkit/format.h - page-table formats.
 *
 * A format is one architecture's PTE encoding and geometry.  The engine is
 * compiled once per format (the PTE functions inline into the hot loops), so
 * a struct pt_format carries one function pointer per *operation*, never
 * per PTE.  One program may hold tables of several formats side by side.
 */
#ifndef PTKIT_FORMAT_H
#define PTKIT_FORMAT_H

#include <ptkit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pt_format_ops; /* private: the engine instantiated for this format */

struct pt_format {
	const char *name;         /* "x86-64" */
	unsigned levels;          /* root level; 1 = leaf table */
	unsigned max_leaf_level;  /* highest level that may hold a leaf */
	unsigned va_bits;         /* virtual address width of one half */
	uint64_t user_end;        /* user half: [0, user_end) */
	uint64_t kernel_start;    /* kernel half: [kernel_start, 2^64);
				   * UINT64_MAX: none (stage 2) */
	uint64_t pa_limit;        /* physical addresses must be below this */
	unsigned nr_sw_bits;      /* PT_SW0 .. PT_SW(n-1) are the caller's */
	bool shared_kernel_root;  /* user tables borrow the kernel root's slots */
	unsigned marker_bits;     /* pt_mark() values are below 2^marker_bits */
	unsigned root_entries;    /* entries of the root: 512 (one 4 KiB page),
				   * or 512 << n for 2^n concatenated pages,
				   * aligned to their size (stage 2) */
	unsigned stage;           /* 1: a one-stage (stage-1) table; 2: a
				   * second stage (guest-physical, one space) */

	/*
	 * What the format can express of `p` (design §1): writes the
	 * normalized property to *out.  PT_EINVAL if it cannot be expressed even
	 * after normalizing (unknown flags, a software bit the format lacks, a
	 * cache policy the features do not allow).
	 */
	int (*normalize)(struct pt_prop p, uint32_t features, struct pt_prop *out);

	/* Raw PTE access, for tests, tools and teaching; not for hot loops. */
	int (*encode_leaf)(uint64_t pa, unsigned level, struct pt_prop p,
			   bool tracked, uint32_t features, uint64_t *pte);
	uint64_t (*encode_table)(uint64_t pa);
	/* PT_DECODE_LEAF, _TABLE or _ABSENT; a leaf's pa/prop/tracked, a
	 * table's pa (any output may be NULL).  `features` as for encode. */
	int (*decode)(uint64_t pte, unsigned level, uint32_t features, uint64_t *pa,
		      struct pt_prop *p, bool *tracked);
	/* A marker's entry (PT_EINVAL for a value of marker_bits or more);
	 * whether an entry is a marker, and its value (may be NULL).  decode
	 * says PT_DECODE_ABSENT for one: the hardware sees nothing there. */
	int (*encode_marker)(uint64_t value, uint64_t *pte);
	bool (*decode_marker)(uint64_t pte, uint64_t *value);

	const struct pt_format_ops *ops;
};

/*
 * The formats (README "Formats" lists their software bits and
 * normalizations):
 *   x86_64        4-level, 48-bit; x86_64_la57: 5-level, 57-bit
 *   riscv_sv39    3-level, 39-bit; riscv_sv48: 4-level, 48-bit
 *   aarch64_4k    stage 1, 4 KiB granule, 48-bit, one root per half
 *                 (TTBR0 user, TTBR1 kernel); MAIR_EL1 must be
 *                 PT_AARCH64_MAIR
 * Stage 2 (one space, PT_SPACE_USER = guest-physical [0, user_end)):
 *   riscv_sv39x4  G-stage, 41-bit, 3 levels, 16 KiB root (hgatp MODE 8);
 *   riscv_sv48x4  50-bit, 4 levels, 16 KiB root (hgatp MODE 9)
 *   aarch64_s2_4k VMSAv8-64 stage 2, 40-bit IPA, start level 1, 8 KiB root
 *                 of two concatenated tables (VTCR_EL2 T0SZ 24, SL0 1,
 *                 TG0 0, SH0 3, IRGN0/ORGN0 1; src/formats/aarch64.h)
 *   x86_ept       Intel EPT, 48-bit, 4 levels; x86_ept5: 57-bit, 5 levels
 *                 (EPTP and A/D in src/formats/x86_ept.h)
 */
extern const struct pt_format pt_format_x86_64, pt_format_x86_64_la57,
	pt_format_riscv_sv39, pt_format_riscv_sv48, pt_format_aarch64_4k,
	pt_format_riscv_sv39x4, pt_format_riscv_sv48x4, pt_format_aarch64_s2_4k,
	pt_format_x86_ept, pt_format_x86_ept5;

/* MAIR_EL1 for pt_format_aarch64_4k: attribute index = enum pt_cache
 * (0xff WB, 0xbb WT, 0x44 Normal non-cacheable for WC, 0x04 Device-nGnRE). */
#define PT_AARCH64_MAIR 0x0444bbffull

/**
 * pt_level_size() - Bytes mapped by one entry at a level.
 * @level: the page-table level, at least 1 (not checked).
 *
 * Level 1 is the leaf table: 4 KiB at level 1, 2 MiB at 2, 1 GiB at 3,
 * 512 GiB at 4, 256 TiB at 5, in every format.
 *
 * Context: Any context: pure arithmetic.
 * Return: `4096 << 9 * (level - 1)`.
 */
static inline uint64_t pt_level_size(unsigned level)
{
	return (uint64_t)1 << (PT_PAGE_SHIFT + 9 * (level - 1));
}

#define PT_DECODE_ABSENT 0
#define PT_DECODE_LEAF 1
#define PT_DECODE_TABLE 2

#ifdef __cplusplus
}
#endif
#endif /* PTKIT_FORMAT_H */
