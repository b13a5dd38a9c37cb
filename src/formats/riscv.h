/* SPDX-License-Identifier: MPL-2.0 */
/*
 * riscv.h - the RISC-V Sv39 / Sv48 PTE format (privileged spec, "Sv39" and
 * "Sv48"): Sv39 unless RISCV_SV48 is defined first.  The entries are the
 * same; only the number of levels and the halves differ.
 *
 *  bit  0 V     valid                 bit  6 A     accessed
 *  bit  1 R     readable              bit  7 D     dirty
 *  bit  2 W     writable              bit  8 RSW   ptkit: tracked mapping
 *  bit  3 X     executable            bit  9 RSW   the caller's PT_SW0
 *  bit  4 U     user                  bits 10-53   physical page number
 *  bit  5 G     global                bits 61-62   PBMT (Svpbmt only)
 *  bit 60       ptkit: PROT_NONE leaf (only with V clear)
 *
 * A table (non-leaf) entry is V alone with the PPN: the leaf decides, and
 * A, D, U must be 0 there.  A leaf is V with any of R, W, X, so no leaf
 * decodes as a table pointer whatever its permissions.  A PROT_NONE leaf has
 * V clear (every other bit is then the software's) and bit 60 set.  A
 * marker (pt_mark) has V and bit 60 clear, bit 63 set and the caller's value
 * in bits 10-49.
 *
 * Leaves are created with A set, and D set when writable (design §1): many
 * cores fault instead of setting them.  With PT_FEAT_RISCV_SVADU the harts
 * set A and D themselves, so they are the caller's (and pt_harvest's) to
 * clear.  Without Svpbmt the PMAs choose the
 * memory type, so every cache policy normalizes to WB (PBMT 0 = "as the
 * PMA says"); with PT_FEAT_RISCV_SVPBMT, WC is NC and UC and WT are IO
 * (as Linux does: Svpbmt has no write-through type).
 */
#ifndef PTKIT_SRC_FORMAT_RISCV_H
#define PTKIT_SRC_FORMAT_RISCV_H

#include <ptkit/format.h>

#include "base.h"

/*
 * The hypervisor extension's G-stage (Sv39x4 / Sv48x4, when RISCV_SV39X4
 * or RISCV_SV48X4 is defined): the same entries, 2 more guest-physical bits
 * resolved by a root of four concatenated pages (2048 entries, 16 KiB,
 * 16 KiB aligned), one space [0, 2^41) or [0, 2^50) and no kernel half.
 * The G-stage walks every access as a U-mode one, so every leaf has U set
 * (the caller's PT_U means nothing there and normalizes away), and G is
 * reserved for G-stage entries (cleared).  hgatp.MODE is 8 for Sv39x4,
 * 9 for Sv48x4; hgatp.PPN is the root's pa >> 12.
 */
#if defined(RISCV_SV39X4) || defined(RISCV_SV48X4)
#define RV_GSTAGE 1
#ifdef RISCV_SV48X4
#define FMT_NAME "riscv-sv48x4"
#define FMT_LEVELS 4
#define FMT_VA_BITS 50
#else
#define FMT_NAME "riscv-sv39x4"
#define FMT_LEVELS 3
#define FMT_VA_BITS 41
#endif
#define FMT_USER_END ((uint64_t)1 << FMT_VA_BITS)
#define FMT_KERNEL_START UINT64_MAX /* no kernel half */
#define FMT_SHARED_KERNEL_ROOT false
#define FMT_ROOT_ORDER 2
#define FMT_STAGE 2
#else
#define RV_GSTAGE 0
#ifdef RISCV_SV48
#define FMT_NAME "riscv-sv48"
#define FMT_LEVELS 4
#define FMT_VA_BITS 48
#else
#define FMT_NAME "riscv-sv39"
#define FMT_LEVELS 3
#define FMT_VA_BITS 39
#endif
#define FMT_USER_END ((uint64_t)1 << (FMT_VA_BITS - 1))
#define FMT_KERNEL_START (~(uint64_t)0 << (FMT_VA_BITS - 1))
#define FMT_SHARED_KERNEL_ROOT true
/* One 4 KiB root of 512 entries, a stage-1 (one-stage) table. */
#define FMT_ROOT_ORDER 0
#define FMT_STAGE 1
#endif
#define FMT_MAX_LEAF_LEVEL 3
#define FMT_PA_LIMIT ((uint64_t)1 << 56)
#define FMT_NR_SW_BITS 1

#define RV_V (1ull << 0)
#define RV_R (1ull << 1)
#define RV_W (1ull << 2)
#define RV_X (1ull << 3)
#define RV_U (1ull << 4)
#define RV_G (1ull << 5)
#define RV_A (1ull << 6)
#define RV_D (1ull << 7)
#define RV_TRACKED (1ull << 8)
#define RV_SW0 (1ull << 9)
#define RV_PPN_SHIFT 10
#define RV_PPN_MASK (((1ull << 44) - 1) << RV_PPN_SHIFT)
#define RV_PROTNONE (1ull << 60)
#define RV_PBMT_SHIFT 61
#define RV_PBMT_MASK (3ull << RV_PBMT_SHIFT)
#define RV_PBMT_NC 1ull
#define RV_PBMT_IO 2ull

typedef uint64_t pt_pte_t;

/* What the hardware may set in a present leaf (Svadu; a live table keeps
 * them).  Non-leaf entries are never written by the hardware. */
#define FMT_HW_BITS (RV_A | RV_D)

/* Markers: non-present entries holding a value below 2^FMT_MARKER_BITS. */
#define FMT_MARKER_BITS 40
#define RV_MARKER (1ull << 63)

static inline pt_pte_t fmt_pte_marker(uint64_t value)
{
	return RV_MARKER | (value << RV_PPN_SHIFT);
}

static inline bool fmt_pte_is_marker(pt_pte_t pte)
{
	return (pte & (RV_V | RV_PROTNONE | RV_MARKER)) == RV_MARKER;
}

static inline uint64_t fmt_pte_marker_value(pt_pte_t pte)
{
	return (pte >> RV_PPN_SHIFT) & (((uint64_t)1 << FMT_MARKER_BITS) - 1);
}

/* The bits of a leaf that hold PT_A and PT_D in `flags` (harvesting). */
static inline pt_pte_t fmt_pte_ad_bits(uint32_t flags)
{
	return (flags & PT_A ? RV_A : 0) | (flags & PT_D ? RV_D : 0);
}

/* Without Svvptc a hart may cache an invalid entry: new mappings need an
 * sfence.vma like any other change. */
static inline bool fmt_flush_new_mappings(uint32_t features)
{
	return !(features & PT_FEAT_RISCV_SVVPTC);
}

/* RISC-V allows any change of a valid entry in place. */
static inline bool fmt_resize_needs_break(uint32_t features) { return false; }
static inline bool fmt_update_needs_break(pt_pte_t old, pt_pte_t new) { return false; }

static inline uint64_t rv_pte_of_pa(uint64_t pa)
{
	return (pa >> PT_PAGE_SHIFT) << RV_PPN_SHIFT;
}

static inline uint64_t rv_pa_of_pte(pt_pte_t pte)
{
	return ((pte & RV_PPN_MASK) >> RV_PPN_SHIFT) << PT_PAGE_SHIFT;
}

static inline uint32_t rv_cache_normalize(uint32_t cache, uint32_t features)
{
	if (!(features & PT_FEAT_RISCV_SVPBMT))
		return PT_CACHE_WB;
	return cache == PT_CACHE_WT ? PT_CACHE_UC : cache;
}

/* design §1: W without R is reserved, so W implies R; A always, D with W
 * (unless Svadu: then the hardware sets them). */
static inline int fmt_prop_normalize(struct pt_prop p, uint32_t features,
				     struct pt_prop *out)
{
	uint32_t allowed = PT_FLAGS_ALL & ~(PT_SW1 | PT_SW2 | PT_SW3);

	if ((p.flags & ~allowed) || p.cache >= PT_CACHE_COUNT)
		return PT_EINVAL;
	if (p.flags & PT_W)
		p.flags |= PT_R;
	if (RV_GSTAGE) /* U is forced on every G-stage leaf, G reserved */
		p.flags &= ~(PT_U | PT_G);
	if (!(features & PT_FEAT_RISCV_SVADU))
		p.flags |= PT_A | (p.flags & PT_W ? PT_D : 0);
	p.cache = rv_cache_normalize(p.cache, features);
	*out = p;
	return 0;
}

static inline bool fmt_pte_present(pt_pte_t pte)
{
	return (pte & (RV_V | RV_PROTNONE)) != 0;
}

/* For a present PTE: a leaf, not a pointer to a node one level down. */
static inline bool fmt_pte_is_leaf(pt_pte_t pte, unsigned level)
{
	return level == 1 || !(pte & RV_V) || (pte & (RV_R | RV_W | RV_X));
}

/* Present and not a leaf, in one test (the walks' step). */
static inline bool fmt_pte_is_table(pt_pte_t pte, unsigned level)
{
	return level > 1 && (pte & (RV_V | RV_R | RV_W | RV_X)) == RV_V;
}

static inline pt_pte_t fmt_pte_table(uint64_t pa)
{
	return rv_pte_of_pa(pa) | RV_V;
}

static inline uint64_t fmt_pte_table_pa(pt_pte_t pte)
{
	return rv_pa_of_pte(pte);
}

/* The hardware never writes a non-leaf entry: it is exactly what ptkit wrote. */
static inline bool fmt_pte_is_canonical_table(pt_pte_t pte)
{
	return pte == fmt_pte_table(rv_pa_of_pte(pte));
}

static inline uint64_t rv_pbmt_of(uint32_t cache)
{
	return cache == PT_CACHE_WC ? RV_PBMT_NC : cache == PT_CACHE_UC ? RV_PBMT_IO : 0;
}

/* `p` must be normalized and `pa` aligned to the level's page size. */
static inline pt_pte_t fmt_pte_leaf(uint64_t pa, unsigned level, struct pt_prop p,
				    bool tracked, uint32_t features)
{
	pt_pte_t pte = rv_pte_of_pa(pa) | (rv_pbmt_of(p.cache) << RV_PBMT_SHIFT);

	pte |= (p.flags & PT_R ? RV_R : 0) | (p.flags & PT_W ? RV_W : 0) |
	       (p.flags & PT_X ? RV_X : 0) | (p.flags & PT_U ? RV_U : 0) |
	       (p.flags & PT_G ? RV_G : 0) | (p.flags & PT_A ? RV_A : 0) |
	       (p.flags & PT_D ? RV_D : 0) | (p.flags & PT_SW0 ? RV_SW0 : 0) |
	       (tracked ? RV_TRACKED : 0) | (RV_GSTAGE ? RV_U : 0);
	return pte | (p.flags & (PT_R | PT_X) ? RV_V : RV_PROTNONE);
}

/* What to add to a leaf to get the leaf of the next page of the same kind. */
static inline int64_t fmt_pte_leaf_step(pt_pte_t pte, unsigned level)
{
	return (int64_t)rv_pte_of_pa(pt_level_size(level));
}

static inline uint64_t fmt_pte_leaf_pa(pt_pte_t pte, unsigned level)
{
	return rv_pa_of_pte(pte);
}

static inline bool fmt_pte_tracked(pt_pte_t pte)
{
	return (pte & RV_TRACKED) != 0;
}

static inline struct pt_prop fmt_pte_leaf_prop(pt_pte_t pte, unsigned level,
					       uint32_t features)
{
	static const uint8_t cache_of_pbmt[4] = { PT_CACHE_WB, PT_CACHE_WC, PT_CACHE_UC,
						  PT_CACHE_UC };
	struct pt_prop p = { 0, cache_of_pbmt[(pte & RV_PBMT_MASK) >> RV_PBMT_SHIFT] };

	p.flags = (pte & RV_R ? PT_R : 0) | (pte & RV_W ? PT_W : 0) | (pte & RV_X ? PT_X : 0) |
		  (pte & RV_U && !RV_GSTAGE ? PT_U : 0) | (pte & RV_G ? PT_G : 0) | (pte & RV_A ? PT_A : 0) |
		  (pte & RV_D ? PT_D : 0) | (pte & RV_SW0 ? PT_SW0 : 0);
	return p;
}

#endif
