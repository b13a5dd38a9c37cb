/* SPDX-License-Identifier: MPL-2.0 */
/*
 * aarch64.h - the AArch64 stage-1 VMSAv8-64 format with a 4 KiB granule and
 * 48-bit regions (TxSZ = 16; Arm ARM D8.3): levels 4..1 here are the Arm
 * levels 0..3.  One root per half: TTBR0 for user tables, TTBR1 for kernel
 * tables (design §5).
 *
 *  bit  0    valid                       bit 10    AF (accessed): always set
 *  bit  1    1: table (levels 4-2) or    bit 11    nG (not global)
 *            page (level 1); 0: block    bits 12-47 output address
 *  bits 2-4  AttrIndx: MAIR index        bit 53    PXN  } see below
 *  bits 6-7  AP[1] EL0 access,           bit 54    UXN  }
 *            AP[2] read-only             bit 55    ptkit: tracked mapping
 *  bits 8-9  SH: inner shareable         bits 56-58 the caller's PT_SW0..2
 *  bit 59    ptkit: PROT_NONE leaf (only with bit 0 clear)
 *  bit 63    ptkit: a marker (pt_mark; bit 0 and 59 clear), its value in
 *            bits 12-51: the MMU ignores bits 63:1 of an invalid entry
 *
 * MAIR_EL1 must hold, per AttrIndx (the platform programs it):
 *   0 = 0xff Normal, write-back (PT_CACHE_WB)
 *   1 = 0xbb Normal, write-through (PT_CACHE_WT)
 *   2 = 0x44 Normal, non-cacheable (PT_CACHE_WC)
 *   3 = 0x04 Device-nGnRE (PT_CACHE_UC)
 * i.e. MAIR_EL1 = 0x0444bbff (PT_AARCH64_MAIR in <ptkit/format.h>).
 *
 * Table descriptors have APTable, UXNTable and PXNTable clear: the leaf
 * decides.  Execute permission is for the leaf's own privilege: a user (U)
 * leaf is never executable at EL1 (PXN), a kernel leaf never at EL0 (UXN).
 * Every valid entry is readable at EL1, so W or X imply R; there is no
 * dirty bit (ptkit does not use DBM), and AF is always set, so many cores
 * need no access-flag faults.  Replacing a valid leaf's address, type,
 * memory attributes or nG, and changing a block's size, need
 * break-before-make (Arm ARM D8.14): unless PT_FEAT_AARCH64_BBM2 covers the
 * size change, the engine clears the entry and invalidates it first.
 *
 * With AARCH64_S2 defined first: the stage-2 format (pt_format_aarch64_s2_4k,
 * Arm ARM D8.3/D8.4 "stage 2"), a 40-bit IPA space [0, 2^40) walked from Arm
 * level 1 (ptkit levels 3..1) with two concatenated level-1 tables: an
 * 8 KiB root of 1024 entries, 8 KiB aligned.  VTCR_EL2 must say T0SZ = 24,
 * SL0 = 1 (start at level 1), TG0 = 0 (4 KiB), SH0 = 3 (inner shareable),
 * IRGN0 = ORGN0 = 1 (write-back), PS large enough for the output addresses
 * (below 2^48), HA = HD = 0; VTTBR_EL2.BADDR is the root's pa, with the
 * VMID in bits 63:48.  The leaf bits that differ from stage 1:
 *
 *  bits 2-5  MemAttr (FWB off): 0xf Normal WB (PT_CACHE_WB), 0xa Normal WT,
 *            0x5 Normal non-cacheable (PT_CACHE_WC), 0x1 Device-nGnRE (UC);
 *            with PT_FEAT_AARCH64_S2FWB (HCR_EL2.FWB = 1, Arm ARM "FEAT_S2FWB"):
 *            0x6 forces Normal WB over whatever stage 1 says, 0x5 Normal
 *            non-cacheable, 0x1 Device-nGnRE; there is no write-through to
 *            force, so PT_CACHE_WT is PT_EINVAL there
 *  bits 6-7  S2AP: bit 6 read, bit 7 write  bit 54  XN (XN[1]: no execution
 *            at EL1 nor EL0; bit 53 stays 0)  bit 11  0 (no nG at stage 2)
 *
 * No MAIR: the attributes are in the entry.  A stage 2 has no U or G (a
 * caller's PT_U / PT_G normalize away) and no dirty bit; W or X imply R, AF
 * is always set, table descriptors carry no attributes, and the same
 * break-before-make rules apply (nG aside).
 */
#ifndef PTKIT_SRC_FORMAT_AARCH64_H
#define PTKIT_SRC_FORMAT_AARCH64_H

#include <ptkit/format.h>

#include "base.h"

#ifdef AARCH64_S2
#define A64_S2 1
#define FMT_NAME "aarch64-s2-4k"
#define FMT_LEVELS 3
#define FMT_VA_BITS 40
#define FMT_USER_END ((uint64_t)1 << 40)
#define FMT_KERNEL_START UINT64_MAX /* no kernel half */
/* Two concatenated level-1 tables, 8 KiB aligned. */
#define FMT_ROOT_ORDER 1
#define FMT_STAGE 2
#else
#define A64_S2 0
#define FMT_NAME "aarch64-4k"
#define FMT_LEVELS 4
#define FMT_VA_BITS 48
#define FMT_USER_END ((uint64_t)1 << 48)
#define FMT_KERNEL_START (~(uint64_t)0 << 48)
/* One 4 KiB root of 512 entries, a stage-1 (one-stage) table. */
#define FMT_ROOT_ORDER 0
#define FMT_STAGE 1
#endif
#define FMT_MAX_LEAF_LEVEL 3
#define FMT_PA_LIMIT ((uint64_t)1 << 48)
#define FMT_NR_SW_BITS 3
#define FMT_SHARED_KERNEL_ROOT false

#define A64_VALID (1ull << 0)
#define A64_TABLE (1ull << 1) /* also "page" at level 1 */
#define A64_ATTR_SHIFT 2
#define A64_ATTR_MASK (7ull << A64_ATTR_SHIFT)
#define A64_AP_EL0 (1ull << 6)
#define A64_AP_RO (1ull << 7)
#define A64_SH_INNER (3ull << 8)
#define A64_AF (1ull << 10)
#define A64_NG (1ull << 11)
#define A64_ADDR_MASK 0x0000fffffffff000ull
#define A64_PXN (1ull << 53)
#define A64_UXN (1ull << 54)
#define A64_TRACKED (1ull << 55)
#define A64_SW_SHIFT 56
#define A64_SW_MASK (7ull << A64_SW_SHIFT)
#define A64_PROTNONE (1ull << 59)
/* Stage 2: MemAttr in AttrIndx's place and one bit more, S2AP in AP's. */
#define A64_S2_ATTR_MASK (0xfull << A64_ATTR_SHIFT)
#define A64_S2AP_R (1ull << 6)
#define A64_S2AP_W (1ull << 7)
#define A64_S2_XN (1ull << 54)

typedef uint64_t pt_pte_t;

/* ptkit sets AF itself and uses no DBM: the hardware writes nothing. */
#define FMT_HW_BITS 0ull

/* Markers: non-present entries holding a value below 2^FMT_MARKER_BITS. */
#define FMT_MARKER_BITS 40
#define A64_MARKER (1ull << 63)

static inline pt_pte_t fmt_pte_marker(uint64_t value)
{
	return A64_MARKER | (value << PT_PAGE_SHIFT);
}

static inline bool fmt_pte_is_marker(pt_pte_t pte)
{
	return (pte & (A64_VALID | A64_PROTNONE | A64_MARKER)) == A64_MARKER;
}

static inline uint64_t fmt_pte_marker_value(pt_pte_t pte)
{
	return (pte >> PT_PAGE_SHIFT) & (((uint64_t)1 << FMT_MARKER_BITS) - 1);
}

/* The bits of a leaf that hold PT_A and PT_D in `flags` (harvesting): AF;
 * no dirty bit without DBM, which ptkit does not use yet. */
static inline pt_pte_t fmt_pte_ad_bits(uint32_t flags)
{
	return flags & PT_A ? A64_AF : 0;
}

/* Arm TLBs never cache invalid entries: new mappings need no flush. */
static inline bool fmt_flush_new_mappings(uint32_t features) { return false; }

/* Splitting a block, or a table becoming a block: break-before-make unless
 * FEAT_BBM level 2 lets the size change in place. */
static inline bool fmt_resize_needs_break(uint32_t features)
{
	return !(features & PT_FEAT_AARCH64_BBM2);
}

/* A valid leaf rewritten in place: only permissions, AF and software bits
 * may change without break-before-make. */
static inline bool fmt_update_needs_break(pt_pte_t old, pt_pte_t new)
{
	const pt_pte_t needs_break = A64_ADDR_MASK | A64_TABLE |
				     (A64_S2 ? A64_S2_ATTR_MASK : A64_ATTR_MASK | A64_NG);
	return (old & new & A64_VALID) && ((old ^ new) & needs_break);
}

/* design §1: W or X imply R, no dirty bit, A always set; a stage 2 has
 * no U or G. */
static inline int fmt_prop_normalize(struct pt_prop p, uint32_t features,
				     struct pt_prop *out)
{
	if ((p.flags & ~(PT_FLAGS_ALL & ~PT_SW3)) || p.cache >= PT_CACHE_COUNT)
		return PT_EINVAL;
#ifdef AARCH64_S2
	if ((features & PT_FEAT_AARCH64_S2FWB) && p.cache == PT_CACHE_WT)
		return PT_EINVAL; /* FWB forces WB, NC or Device: no write-through */
#endif
	if (p.flags & (PT_W | PT_X))
		p.flags |= PT_R;
	p.flags = (p.flags | PT_A) & ~(PT_D | (A64_S2 ? PT_U | PT_G : 0));
	*out = p;
	return 0;
}

static inline bool fmt_pte_present(pt_pte_t pte)
{
	return (pte & (A64_VALID | A64_PROTNONE)) != 0;
}

/* For a present PTE: a leaf (block, page or PROT_NONE), not a table. */
static inline bool fmt_pte_is_leaf(pt_pte_t pte, unsigned level)
{
	return level == 1 || (pte & (A64_VALID | A64_TABLE)) != (A64_VALID | A64_TABLE);
}

/* Present and not a leaf, in one test (the walks' step). */
static inline bool fmt_pte_is_table(pt_pte_t pte, unsigned level)
{
	return level > 1 && (pte & (A64_VALID | A64_TABLE)) == (A64_VALID | A64_TABLE);
}

static inline pt_pte_t fmt_pte_table(uint64_t pa)
{
	return pa | A64_VALID | A64_TABLE;
}

static inline uint64_t fmt_pte_table_pa(pt_pte_t pte)
{
	return pte & A64_ADDR_MASK;
}

/* The hardware never writes a table descriptor. */
static inline bool fmt_pte_is_canonical_table(pt_pte_t pte)
{
	return pte == fmt_pte_table(pte & A64_ADDR_MASK);
}

/* Stage-2 MemAttr back to the cache policy: 0x6 is WB forced under FWB,
 * which ptkit writes only then (any other value is none ptkit writes: read
 * as Device). */
static inline uint32_t a64_s2_cache(pt_pte_t pte)
{
	uint32_t attr = (uint32_t)((pte & A64_S2_ATTR_MASK) >> A64_ATTR_SHIFT);
	return attr == 0xf || attr == 0x6 ? PT_CACHE_WB : attr == 0xa ? PT_CACHE_WT
		: attr == 0x5 ? PT_CACHE_WC : PT_CACHE_UC;
}

/* A stage-2 leaf: MemAttr, S2AP and XN where stage 1 has AttrIndx, AP,
 * nG and PXN/UXN; the rest as fmt_pte_leaf. */
static inline pt_pte_t a64_s2_leaf(uint64_t pa, unsigned level, struct pt_prop p, bool tracked,
				   uint32_t features)
{
	/* MemAttr per enum pt_cache: WB, WT, WC, UC; FWB off, then on (its
	 * WT is refused by normalize). */
	static const uint8_t memattr[2][PT_CACHE_COUNT] = { { 0xf, 0xa, 0x5, 0x1 },
							    { 0x6, 0x0, 0x5, 0x1 } };
	bool fwb = features & PT_FEAT_AARCH64_S2FWB;
	pt_pte_t pte = pa | ((uint64_t)memattr[fwb][p.cache] << A64_ATTR_SHIFT) | A64_SH_INNER |
		       A64_AF | (level == 1 ? A64_TABLE : 0) |
		       (p.flags & PT_R ? A64_S2AP_R : 0) | (p.flags & PT_W ? A64_S2AP_W : 0) |
		       (p.flags & PT_X ? 0 : A64_S2_XN) |
		       ((uint64_t)((p.flags >> PT_SW_SHIFT) & 7) << A64_SW_SHIFT) |
		       (tracked ? A64_TRACKED : 0);
	return pte | (p.flags & PT_R ? A64_VALID : A64_PROTNONE);
}

/* `p` must be normalized and `pa` aligned to the level's page size.  (The
 * stage-1 body stays as Frama-C/WP proves it, tests/wp/fmt_aarch64.c.) */
static inline pt_pte_t fmt_pte_leaf(uint64_t pa, unsigned level, struct pt_prop p,
				    bool tracked, uint32_t features)
{
#ifdef AARCH64_S2
	return a64_s2_leaf(pa, level, p, tracked, features);
#else
	bool user = p.flags & PT_U, exec = p.flags & PT_X;
	pt_pte_t pte = pa | ((uint64_t)p.cache << A64_ATTR_SHIFT) | A64_SH_INNER | A64_AF |
		       (level == 1 ? A64_TABLE : 0);

	pte |= (user ? A64_AP_EL0 : 0) | (p.flags & PT_W ? 0 : A64_AP_RO) |
	       (p.flags & PT_G ? 0 : A64_NG) |
	       (user ? A64_PXN | (exec ? 0 : A64_UXN) : A64_UXN | (exec ? 0 : A64_PXN)) |
	       ((uint64_t)((p.flags >> PT_SW_SHIFT) & 7) << A64_SW_SHIFT) |
	       (tracked ? A64_TRACKED : 0);
	return pte | (p.flags & PT_R ? A64_VALID : A64_PROTNONE);
#endif
}

/* What to add to a leaf to get the leaf of the next page of the same kind. */
static inline int64_t fmt_pte_leaf_step(pt_pte_t pte, unsigned level)
{
	return (int64_t)pt_level_size(level);
}

static inline uint64_t fmt_pte_leaf_pa(pt_pte_t pte, unsigned level)
{
	return pte & A64_ADDR_MASK;
}

static inline bool fmt_pte_tracked(pt_pte_t pte)
{
	return (pte & A64_TRACKED) != 0;
}

/* A stage-2 leaf's property: S2AP and XN are the permissions. */
static inline struct pt_prop a64_s2_leaf_prop(pt_pte_t pte)
{
	struct pt_prop p = { 0, a64_s2_cache(pte) };

	if (pte & A64_VALID)
		p.flags |= (pte & A64_S2AP_R ? PT_R : 0) | (pte & A64_S2AP_W ? PT_W : 0) |
			   (pte & A64_S2_XN ? 0 : PT_X);
	p.flags |= (pte & A64_AF ? PT_A : 0) |
		   (uint32_t)((pte & A64_SW_MASK) >> A64_SW_SHIFT) << PT_SW_SHIFT;
	return p;
}

static inline struct pt_prop fmt_pte_leaf_prop(pt_pte_t pte, unsigned level,
					       uint32_t features)
{
	if (A64_S2)
		return a64_s2_leaf_prop(pte);
	bool user = pte & A64_AP_EL0;
	struct pt_prop p = { 0, (uint32_t)((pte & A64_ATTR_MASK) >> A64_ATTR_SHIFT) };

	if (pte & A64_VALID)
		p.flags |= PT_R | (pte & A64_AP_RO ? 0 : PT_W) |
			   (pte & (user ? A64_UXN : A64_PXN) ? 0 : PT_X);
	p.flags |= (user ? PT_U : 0) | (pte & A64_NG ? 0 : PT_G) | (pte & A64_AF ? PT_A : 0) |
		   (uint32_t)((pte & A64_SW_MASK) >> A64_SW_SHIFT) << PT_SW_SHIFT;
	return p;
}

#endif
