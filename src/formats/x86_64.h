/* SPDX-License-Identifier: MPL-2.0 */
/*
 * x86_64.h - the x86-64 PTE format (Intel SDM vol. 3, §4.5): 4-level paging,
 * or 5-level (LA57, 57-bit addresses) when X86_LA57 is defined first.  The
 * entries are the same; only the root level and the halves differ.
 *
 * Every format header defines the same set of FMT_* constants and fmt_*
 * static inline functions; the engine (src/formats/engine_instance.h) is
 * compiled once per format against them, so no PTE costs an indirect call.
 *
 *  bit  0 P     present (to the hardware)
 *  bit  1 W     writable              bit  7 PS    huge leaf (level 2, 3)
 *  bit  2 U     user                  bit  7 PAT   4 KiB leaf
 *  bit  3 PWT   } cache policy:       bit 12 PAT   huge leaf
 *  bit  4 PCD   } a PAT index         bit  8 G     global
 *  bit  5 A     accessed              bit  9       ptkit: tracked mapping
 *  bit  6 D     dirty                 bit 10       ptkit: PROT_NONE leaf
 *  bits 12-51   frame address         bits 52-55   the caller's PT_SW0..3
 *  bit 63 NX    no execute
 *
 * A PROT_NONE leaf has P clear and bit 10 set, and stores the inverted frame
 * number (as Linux does against L1TF, so a speculative walk of a not-present
 * entry points nowhere useful).  Table entries are P|W|U: the leaf decides.
 *
 * A marker (a caller's value in a non-present entry: pt_mark) has P and
 * bit 10 clear, bit 11 set, the value in bits 12-50 and bit 51 set: its
 * frame field is at or above 2^51, so a speculative (L1TF) use of it
 * reaches no RAM.  The CPU ignores every other bit of a non-present entry.
 */
#ifndef PTKIT_SRC_FORMAT_X86_64_H
#define PTKIT_SRC_FORMAT_X86_64_H

#include <ptkit/format.h>

#include "base.h"

#ifdef X86_LA57
#define FMT_NAME "x86-64-la57"
#define FMT_LEVELS 5
#define FMT_VA_BITS 57
#else
#define FMT_NAME "x86-64"
#define FMT_LEVELS 4
#define FMT_VA_BITS 48
#endif
#define FMT_MAX_LEAF_LEVEL 3
#define FMT_USER_END ((uint64_t)1 << (FMT_VA_BITS - 1))
#define FMT_KERNEL_START (~(uint64_t)0 << (FMT_VA_BITS - 1))
#define FMT_PA_LIMIT ((uint64_t)1 << 52)
#define FMT_NR_SW_BITS 4
#define FMT_SHARED_KERNEL_ROOT true
/* One 4 KiB root of 512 entries, a stage-1 (one-stage) table. */
#define FMT_ROOT_ORDER 0
#define FMT_STAGE 1

#define X86_P (1ull << 0)
#define X86_W (1ull << 1)
#define X86_U (1ull << 2)
#define X86_PWT (1ull << 3)
#define X86_PCD (1ull << 4)
#define X86_A (1ull << 5)
#define X86_D (1ull << 6)
#define X86_PS (1ull << 7)
#define X86_PAT_4K (1ull << 7)
#define X86_G (1ull << 8)
#define X86_TRACKED (1ull << 9)
#define X86_PROTNONE (1ull << 10)
#define X86_MARKER (1ull << 11)
#define X86_MARKER_HIGH (1ull << 51)
#define X86_PAT_HUGE (1ull << 12)
#define X86_SW_SHIFT 52
#define X86_SW_MASK (0xfull << X86_SW_SHIFT)
#define X86_NX (1ull << 63)
#define X86_ADDR_MASK 0x000ffffffffff000ull

typedef uint64_t pt_pte_t;

/* What the CPU sets in a present leaf by itself (a live table keeps them). */
#define FMT_HW_BITS (X86_A | X86_D)

/* Markers: non-present entries holding a value below 2^FMT_MARKER_BITS. */
#define FMT_MARKER_BITS 39

static inline pt_pte_t fmt_pte_marker(uint64_t value)
{
	return X86_MARKER | X86_MARKER_HIGH | (value << PT_PAGE_SHIFT);
}

static inline bool fmt_pte_is_marker(pt_pte_t pte)
{
	return (pte & (X86_P | X86_PROTNONE | X86_MARKER)) == X86_MARKER;
}

static inline uint64_t fmt_pte_marker_value(pt_pte_t pte)
{
	return (pte >> PT_PAGE_SHIFT) & (((uint64_t)1 << FMT_MARKER_BITS) - 1);
}

/* The bits of a leaf that hold PT_A and PT_D in `flags` (harvesting). */
static inline pt_pte_t fmt_pte_ad_bits(uint32_t flags)
{
	return (flags & PT_A ? X86_A : 0) | (flags & PT_D ? X86_D : 0);
}

/* x86 walkers never cache not-present entries: new mappings need no flush. */
static inline bool fmt_flush_new_mappings(uint32_t features) { return false; }

/* x86 allows any change of a present entry in place (no break-before-make). */
static inline bool fmt_resize_needs_break(uint32_t features) { return false; }
static inline bool fmt_update_needs_break(pt_pte_t old, pt_pte_t new) { return false; }

static inline uint64_t x86_addr_mask(unsigned level)
{
	return X86_ADDR_MASK & ~(pt_level_size(level) - 1);
}

static inline uint64_t x86_pat_bit(unsigned level)
{
	return level == 1 ? X86_PAT_4K : X86_PAT_HUGE;
}

/*
 * PAT index (PAT<<2 | PCD<<1 | PWT) per cache policy.  At reset the PAT is
 * WB, WT, UC-, UC, WB, WT, UC-, UC: WC does not exist.  With
 * PT_FEAT_X86_PAT_WC the PAT is Linux's: WB, WC, UC-, UC, WB, WP, UC-, WT.
 */
static inline unsigned x86_pat_index(uint32_t cache, uint32_t features)
{
	static const uint8_t reset[PT_CACHE_COUNT] = { 0, 1, 0, 3 };
	static const uint8_t linux_pat[PT_CACHE_COUNT] = { 0, 7, 1, 3 };
	return (features & PT_FEAT_X86_PAT_WC) ? linux_pat[cache] : reset[cache];
}

static inline uint32_t x86_cache_of_index(unsigned idx, uint32_t features)
{
	/* One table, the layout picking the half: no branch. */
	static const uint8_t cache_of[2][8] = {
		{ PT_CACHE_WB, PT_CACHE_WT, PT_CACHE_UC, PT_CACHE_UC,   /* reset */
		  PT_CACHE_WB, PT_CACHE_WT, PT_CACHE_UC, PT_CACHE_UC },
		{ PT_CACHE_WB, PT_CACHE_WC, PT_CACHE_UC, PT_CACHE_UC,   /* Linux */
		  PT_CACHE_WB, PT_CACHE_WT, PT_CACHE_UC, PT_CACHE_WT },
	};
	return cache_of[(features & PT_FEAT_X86_PAT_WC) != 0][idx];
}

/* design §1: W or X imply R; WC only with the Linux PAT layout. */
static inline int fmt_prop_normalize(struct pt_prop p, uint32_t features,
				     struct pt_prop *out)
{
	if ((p.flags & ~PT_FLAGS_ALL) || p.cache >= PT_CACHE_COUNT)
		return PT_EINVAL;
	if (p.cache == PT_CACHE_WC && !(features & PT_FEAT_X86_PAT_WC))
		return PT_EINVAL;
	if (p.flags & (PT_W | PT_X))
		p.flags |= PT_R;
	*out = p;
	return 0;
}

static inline bool fmt_pte_present(pt_pte_t pte)
{
	return (pte & (X86_P | X86_PROTNONE)) != 0;
}

/* For a present PTE: a leaf, not a pointer to a node one level down. */
static inline bool fmt_pte_is_leaf(pt_pte_t pte, unsigned level)
{
	return level == 1 || (pte & X86_PS) || !(pte & X86_P);
}

/* Present and not a leaf, in one test (the walks' step). */
static inline bool fmt_pte_is_table(pt_pte_t pte, unsigned level)
{
	return level > 1 && (pte & (X86_P | X86_PS)) == X86_P;
}

static inline pt_pte_t fmt_pte_table(uint64_t pa)
{
	return pa | X86_P | X86_W | X86_U;
}

static inline uint64_t fmt_pte_table_pa(pt_pte_t pte)
{
	return pte & X86_ADDR_MASK;
}

/* The exact table entry ptkit writes, ignoring the A bit the CPU sets. */
static inline bool fmt_pte_is_canonical_table(pt_pte_t pte)
{
	return (pte & ~X86_A) == fmt_pte_table(pte & X86_ADDR_MASK);
}

/* `p` must be normalized and `pa` aligned to the level's page size. */
static inline pt_pte_t fmt_pte_leaf(uint64_t pa, unsigned level, struct pt_prop p,
				    bool tracked, uint32_t features)
{
	unsigned pat = x86_pat_index(p.cache, features);
	pt_pte_t pte = (pat & 1 ? X86_PWT : 0) | (pat & 2 ? X86_PCD : 0) |
		       (pat & 4 ? x86_pat_bit(level) : 0);

	pte |= (p.flags & PT_U ? X86_U : 0) | (p.flags & PT_G ? X86_G : 0) |
	       (p.flags & PT_A ? X86_A : 0) | (p.flags & PT_D ? X86_D : 0) |
	       (p.flags & PT_W ? X86_W : 0) | (p.flags & PT_X ? 0 : X86_NX) |
	       ((uint64_t)((p.flags >> PT_SW_SHIFT) & 0xf) << X86_SW_SHIFT) |
	       (tracked ? X86_TRACKED : 0) | (level > 1 ? X86_PS : 0);
	if (p.flags & PT_R)
		return pte | X86_P | pa;
	return pte | X86_PROTNONE | (~pa & x86_addr_mask(level));
}

/* What to add to a leaf to get the leaf of the next page of the same kind. */
static inline int64_t fmt_pte_leaf_step(pt_pte_t pte, unsigned level)
{
	int64_t size = (int64_t)pt_level_size(level);
	return (pte & X86_P) ? size : -size;
}

static inline uint64_t fmt_pte_leaf_pa(pt_pte_t pte, unsigned level)
{
	uint64_t addr = (pte & X86_P) ? pte : ~pte;
	return addr & x86_addr_mask(level);
}

static inline bool fmt_pte_tracked(pt_pte_t pte)
{
	return (pte & X86_TRACKED) != 0;
}

static inline struct pt_prop fmt_pte_leaf_prop(pt_pte_t pte, unsigned level,
					       uint32_t features)
{
	struct pt_prop p = { 0, 0 };
	unsigned pat = (pte & X86_PWT ? 1 : 0) | (pte & X86_PCD ? 2 : 0) |
		       (pte & x86_pat_bit(level) ? 4 : 0);

	if (pte & X86_P)
		p.flags |= PT_R | (pte & X86_W ? PT_W : 0) | (pte & X86_NX ? 0 : PT_X);
	p.flags |= (pte & X86_U ? PT_U : 0) | (pte & X86_G ? PT_G : 0) |
		   (pte & X86_A ? PT_A : 0) | (pte & X86_D ? PT_D : 0) |
		   (uint32_t)((pte & X86_SW_MASK) >> X86_SW_SHIFT) << PT_SW_SHIFT;
	p.cache = x86_cache_of_index(pat, features);
	return p;
}

#endif
