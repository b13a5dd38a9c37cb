/* SPDX-License-Identifier: MPL-2.0 */
/*
 * x86_ept.h - Intel EPT (SDM Vol. 3C, "EPT translation mechanism"), a
 * stage 2: 4 levels and 48-bit guest-physical addresses, or 5 levels and
 * 57 bits when X86_EPT5 is defined first.  One space [0, 2^48) (2^57),
 * no kernel half, a one-page root.
 *
 *  bit  0 R    bit 1 W    bit 2 X     bits 3-5  memory type (leaf): UC 0,
 *  bit  6 IPAT (leaf: always set)                WC 1, WT 4, WB 6
 *  bit  7 leaf at levels 2 and 3 (2M / 1G)   bit  8 A, bit 9 D (leaf; only
 *  bit 11 ptkit: PROT_NONE leaf (R=W=X=0)          with PT_FEAT_X86_EPT_AD)
 *  bits 12-51 physical address   bit 52 ptkit: tracked   bits 53-56 PT_SW0-3
 *  bit 62 ptkit: a marker (R=W=X=0, bit 11 clear; its value in bits 12-51)
 *
 * There is no present bit: an entry is present to the CPU when any of R,
 * W, X is set, and every other bit of a non-present entry is ignored (bit
 * 63, suppress #VE, stays 0).  W without R is a misconfiguration, so W
 * implies R (normalize adds it); X alone is an execute-only page (the CPU
 * must report that capability in IA32_VMX_EPT_VPID_CAP bit 0).  U and G
 * mean nothing here and normalize away; the memory type is the entry's
 * (IPAT set: the guest's PAT is ignored).  A and D exist only when the EPTP
 * enables them (bit 6; PT_FEAT_X86_EPT_AD): the CPU then sets them, so
 * they are the caller's and pt_harvest's; without it PT_A and PT_D
 * normalize away.  Table entries are R, W and X with the address: the leaf
 * decides (with mode-based execute control, bit 10 would also be needed:
 * not supported).  EPTP = root | (levels - 1) << 3 | 6 (WB walks) |
 * (A/D ? 1 << 6 : 0); invalidate with INVEPT (single context, the EPTP).
 * The CPU caches no non-present entry and needs no break-before-make.
 */
#ifndef PTKIT_SRC_FORMAT_X86_EPT_H
#define PTKIT_SRC_FORMAT_X86_EPT_H

#include <ptkit/format.h>

#include "base.h"

#ifdef X86_EPT5
#define FMT_NAME "x86-ept5"
#define FMT_LEVELS 5
#define FMT_VA_BITS 57
#else
#define FMT_NAME "x86-ept"
#define FMT_LEVELS 4
#define FMT_VA_BITS 48
#endif
#define FMT_MAX_LEAF_LEVEL 3
#define FMT_USER_END ((uint64_t)1 << FMT_VA_BITS)
#define FMT_KERNEL_START UINT64_MAX /* no kernel half */
#define FMT_PA_LIMIT ((uint64_t)1 << 52)
#define FMT_NR_SW_BITS 4
#define FMT_SHARED_KERNEL_ROOT false
#define FMT_ROOT_ORDER 0
#define FMT_STAGE 2

#define EPT_R (1ull << 0)
#define EPT_W (1ull << 1)
#define EPT_X (1ull << 2)
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
#define EPT_MT_SHIFT 3
#define EPT_MT_MASK (7ull << EPT_MT_SHIFT)
#define EPT_IPAT (1ull << 6)
#define EPT_LEAF (1ull << 7)
#define EPT_A (1ull << 8)
#define EPT_D (1ull << 9)
#define EPT_PROTNONE (1ull << 11)
#define EPT_ADDR_MASK 0x000ffffffffff000ull
#define EPT_TRACKED (1ull << 52)
#define EPT_SW_SHIFT 53
#define EPT_SW_MASK (0xfull << EPT_SW_SHIFT)
#define EPT_MARKER (1ull << 62)

typedef uint64_t pt_pte_t;

/* With A/D enabled the CPU sets A in every entry it walks and D in leaves
 * it writes: a live table keeps them. */
#define FMT_HW_BITS (EPT_A | EPT_D)

#define FMT_MARKER_BITS 40

static inline pt_pte_t fmt_pte_marker(uint64_t value)
{
	return EPT_MARKER | (value << PT_PAGE_SHIFT);
}

static inline bool fmt_pte_is_marker(pt_pte_t pte)
{
	return (pte & (EPT_RWX | EPT_PROTNONE | EPT_MARKER)) == EPT_MARKER;
}

static inline uint64_t fmt_pte_marker_value(pt_pte_t pte)
{
	return (pte >> PT_PAGE_SHIFT) & (((uint64_t)1 << FMT_MARKER_BITS) - 1);
}

static inline pt_pte_t fmt_pte_ad_bits(uint32_t flags)
{
	return (flags & PT_A ? EPT_A : 0) | (flags & PT_D ? EPT_D : 0);
}

static inline bool fmt_flush_new_mappings(uint32_t features) { return false; }
static inline bool fmt_resize_needs_break(uint32_t features) { return false; }
static inline bool fmt_update_needs_break(pt_pte_t old, pt_pte_t new) { return false; }

/* EPT memory type per enum pt_cache (WB, WT, WC, UC) and back. */
static inline uint64_t ept_memtype(uint32_t cache)
{
	static const uint8_t type[PT_CACHE_COUNT] = { 6, 4, 1, 0 };
	return type[cache];
}

static inline uint32_t ept_cache(pt_pte_t pte)
{
	uint64_t type = (pte & EPT_MT_MASK) >> EPT_MT_SHIFT;
	return type == 6 ? PT_CACHE_WB : type == 4 ? PT_CACHE_WT
		: type == 1 ? PT_CACHE_WC : PT_CACHE_UC;
}

/* W implies R; U and G mean nothing; A and D only with A/D enabled. */
static inline int fmt_prop_normalize(struct pt_prop p, uint32_t features,
				     struct pt_prop *out)
{
	if ((p.flags & ~PT_FLAGS_ALL) || p.cache >= PT_CACHE_COUNT)
		return PT_EINVAL;
	if (p.flags & PT_W)
		p.flags |= PT_R;
	p.flags &= ~(PT_U | PT_G | (features & PT_FEAT_X86_EPT_AD ? 0 : PT_A | PT_D));
	*out = p;
	return 0;
}

static inline bool fmt_pte_present(pt_pte_t pte)
{
	return (pte & (EPT_RWX | EPT_PROTNONE)) != 0;
}

static inline bool fmt_pte_is_leaf(pt_pte_t pte, unsigned level)
{
	return level == 1 || (pte & EPT_LEAF) || !(pte & EPT_RWX);
}

static inline bool fmt_pte_is_table(pt_pte_t pte, unsigned level)
{
	return level > 1 && (pte & EPT_RWX) && !(pte & EPT_LEAF);
}

static inline pt_pte_t fmt_pte_table(uint64_t pa)
{
	return pa | EPT_RWX;
}

static inline uint64_t fmt_pte_table_pa(pt_pte_t pte)
{
	return pte & EPT_ADDR_MASK;
}

/* What ptkit wrote, give or take the A bit the CPU sets in a walk. */
static inline bool fmt_pte_is_canonical_table(pt_pte_t pte)
{
	return (pte & ~EPT_A) == fmt_pte_table(pte & EPT_ADDR_MASK);
}

/* `p` must be normalized and `pa` aligned to the level's page size. */
static inline pt_pte_t fmt_pte_leaf(uint64_t pa, unsigned level, struct pt_prop p,
				    bool tracked, uint32_t features)
{
	pt_pte_t pte = pa | ept_memtype(p.cache) << EPT_MT_SHIFT | EPT_IPAT |
		       (level > 1 ? EPT_LEAF : 0) | fmt_pte_ad_bits(p.flags) |
		       ((uint64_t)((p.flags >> PT_SW_SHIFT) & 0xf) << EPT_SW_SHIFT) |
		       (tracked ? EPT_TRACKED : 0);
	pt_pte_t rwx = (p.flags & PT_R ? EPT_R : 0) | (p.flags & PT_W ? EPT_W : 0) |
		       (p.flags & PT_X ? EPT_X : 0);

	return pte | (rwx ? rwx : EPT_PROTNONE);
}

static inline int64_t fmt_pte_leaf_step(pt_pte_t pte, unsigned level)
{
	return (int64_t)pt_level_size(level);
}

static inline uint64_t fmt_pte_leaf_pa(pt_pte_t pte, unsigned level)
{
	return pte & EPT_ADDR_MASK;
}

static inline bool fmt_pte_tracked(pt_pte_t pte)
{
	return (pte & EPT_TRACKED) != 0;
}

static inline struct pt_prop fmt_pte_leaf_prop(pt_pte_t pte, unsigned level,
					       uint32_t features)
{
	struct pt_prop p = { 0, ept_cache(pte) };

	p.flags = (pte & EPT_R ? PT_R : 0) | (pte & EPT_W ? PT_W : 0) | (pte & EPT_X ? PT_X : 0) |
		  (pte & EPT_A ? PT_A : 0) | (pte & EPT_D ? PT_D : 0) |
		  (uint32_t)((pte & EPT_SW_MASK) >> EPT_SW_SHIFT) << PT_SW_SHIFT;
	return p;
}

#endif
