/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fmt_x86_64.c - WP proof of the x86-64 PTE format (src/formats/x86_64.h).
 *
 * The real header is included and the ACSL contracts are attached to its
 * functions by re-declaring them here (Frama-C merges a declaration's
 * contract into the definition), so WP proves each contract against the
 * real body.  wp_round_trip() composes the real encoder and decoders the way
 * fmt_decode_api() does and proves decode(encode(p)) == normalize(p).
 *
 * run_wp.sh proves this file in parts: each WP-PART line names the lemma
 * groups (WP_* macros, see the #ifdefs) the provers may use and the
 * functions proved with them; every lemma is proved in a run of its own.
 * (Handing z3 every lemma for every goal drowns it.)
 *
 * WP-PART: WP_CONSTS : pt_level_size x86_addr_mask x86_pat_bit x86_pat_index
 * WP-PART: WP_CONSTS : x86_cache_of_index fmt_pte_table fmt_pte_is_leaf
 * WP-PART: WP_CONSTS : fmt_pte_tracked fmt_pte_leaf fmt_pte_leaf_pa fmt_pte_leaf_prop
 * WP-PART: WP_MASK WP_FLAGS WP_CONSTS : fmt_prop_normalize fmt_pte_present
 * WP-PART: WP_EXT WP_ADDR : wp_round_trip wp_table_not_leaf
 */
#include <stdatomic.h>

#include "formats/x86_64.h"
#include "wp_bits.h"

/*
 * The PAT index (PAT<<2 | PCD<<1 | PWT) of each cache policy, bit by bit.
 * Reset PAT: WB 0, WT 1, UC 3 (WC does not exist); Linux's PAT
 * (PT_FEAT_X86_PAT_WC): WB 0, WC 1, UC 3, WT 7.  And back: the policy of
 * each index.
 */
#define WP_X86_WCPAT(f) (((f) & PT_FEAT_X86_PAT_WC) != 0)
#define WP_X86_PWT(c, f) ((c) == PT_CACHE_WT || (c) == PT_CACHE_UC || \
			  (WP_X86_WCPAT(f) && (c) == PT_CACHE_WC))
#define WP_X86_PCD(c, f) ((c) == PT_CACHE_UC || (WP_X86_WCPAT(f) && (c) == PT_CACHE_WT))
#define WP_X86_PATB(c, f) (WP_X86_WCPAT(f) && (c) == PT_CACHE_WT)
#define WP_X86_CACHE_OF(pwt, pcd, pat, f)                                       \
	((pcd) ? (WP_X86_WCPAT(f) && (pwt) && (pat) ? PT_CACHE_WT : PT_CACHE_UC) : \
	 !(pwt) ? PT_CACHE_WB : (pat) ? PT_CACHE_WT :                              \
	 WP_X86_WCPAT(f) ? PT_CACHE_WC : PT_CACHE_WT)
/* The address field of a leaf at level L: bits WP_LSHIFT(L)..51. */
#define WP_X86_AMASK(L) \
	((L) == 1 ? 0xffffffffff000 : (L) == 2 ? 0xfffffffe00000 : 0xfffffc0000000)
/* The PAT bit of a leaf: bit 7 in a 4 KiB leaf, bit 12 in a huge one. */
#define WP_X86_PATBIT(L) ((L) == 1 ? 7 : 12)

/* What normalize keeps of a property (design §1: W or X imply R). */
#define WP_X86_ACCEPTS(p, f) \
	(((p).flags & ~PT_FLAGS_ALL) == 0 && (p).cache < PT_CACHE_COUNT && \
	 ((p).cache != PT_CACHE_WC || ((f) & PT_FEAT_X86_PAT_WC) != 0))

#ifdef WP_CONSTS
/*@
  WP_CONST_BITS(0, 0)       WP_CONST_BITS(1, 1)       WP_CONST_BITS(2, 2)
  WP_CONST_BITS(3, 3)       WP_CONST_BITS(4, 4)       WP_CONST_BITS(7, 7)
  WP_CONST_BITS(5, 5)       WP_CONST_BITS(6, 6)
  WP_CONST_BITS(8, 8)       WP_CONST_BITS(16, 16)     WP_CONST_BITS(32, 32)
  WP_CONST_BITS(64, 64)     WP_CONST_BITS(128, 128)   WP_CONST_BITS(256, 256)
  WP_CONST_BITS(512, 512)   WP_CONST_BITS(1024, 1024) WP_CONST_BITS(4096, 4096)
  WP_CONST_BITS(nx, 0x8000000000000000)    WP_CONST_BITS(15, 15)
  WP_CONST_BITS(am1, 0xffffffffff000)
  WP_CONST_BITS(am2, 0xfffffffe00000)
  WP_CONST_BITS(am3, 0xfffffc0000000)
*/
#endif

#ifdef WP_ADDR
/*@
  // An address aligned to a level has its low bits clear, one below 2^52
  // its high bits (proofs: Bitwise Eq. and Bit-Test Range, scripts/).
  lemma aligned_4k: \forall integer x; (x & 0xfff) == 0 ==>
    WP_Z4(x, 0) && WP_Z4(x, 4) && WP_Z4(x, 8);
  lemma aligned_2m: \forall integer x; (x & 0x1fffff) == 0 ==>
    WP_Z4(x, 0) && WP_Z4(x, 4) && WP_Z4(x, 8) && WP_Z4(x, 12) && WP_Z4(x, 16) &&
    WP_Z1(x, 20);
  lemma aligned_1g: \forall integer x; (x & 0x3fffffff) == 0 ==>
    WP_Z4(x, 0) && WP_Z4(x, 4) && WP_Z4(x, 8) && WP_Z4(x, 12) && WP_Z4(x, 16) &&
    WP_Z4(x, 20) && WP_Z4(x, 24) && WP_Z1(x, 28) && WP_Z1(x, 29);
  lemma high_bits_52: \forall integer x; 0 <= x < 0x10000000000000 ==>
    WP_Z4(x, 52) && WP_Z4(x, 56) && WP_Z4(x, 60);
*/
#endif

#ifdef WP_FLAGS
/*@
  // A property normalize accepts has no flag outside PT_FLAGS_ALL (the mask
  // is spelled both ways WP writes ~PT_FLAGS_ALL: as a uint32_t and signed).
  lemma flags_all: \forall integer x; (x & 0xfffff080) == 0 ==>
    !bit_test(x, 7) && WP_Z4(x, 12) && WP_Z4(x, 16) && WP_Z4(x, 20) &&
    WP_Z4(x, 24) && WP_Z4(x, 28);
  lemma flags_all_signed: \forall integer x; (x & -3968) == 0 ==>
    !bit_test(x, 7) && WP_Z4(x, 12) && WP_Z4(x, 16) && WP_Z4(x, 20) &&
    WP_Z4(x, 24) && WP_Z4(x, 28);
*/
#endif

#ifdef WP_MASK
/*@
  // fmt_pte_present's mask, bit by bit (Bitwise Eq. then Bit Range,
  // scripts/lemma_mask_1025.json).
  lemma mask_1025: \forall integer x; 0 <= x < WP_2_64 ==>
    ((x & 1025) == 0 <==> !bit_test(x, 0) && !bit_test(x, 10));
  // fmt_prop_normalize's (PT_W | PT_X), likewise.
  lemma mask_6: \forall integer x; 0 <= x < WP_2_64 ==>
    ((x & 6) == 0 <==> !bit_test(x, 1) && !bit_test(x, 2));
*/
#endif

/* ---- helpers ---- */

/*@ requires 1 <= level <= 6;
    assigns \nothing;
    ensures \result == WP_LSIZE(level);
*/
static inline uint64_t pt_level_size(unsigned level);

/*@ requires 1 <= level <= 3;
    assigns \nothing;
    ensures \result == WP_X86_AMASK(level);
*/
static inline uint64_t x86_addr_mask(unsigned level);

/*@ assigns \nothing;
    ensures \result == (level == 1 ? X86_PAT_4K : X86_PAT_HUGE);
*/
static inline uint64_t x86_pat_bit(unsigned level);

/*@ requires cache < PT_CACHE_COUNT;
    assigns \nothing;
    ensures \result < 8;
    ensures pwt: (\result & 1) != 0 <==> WP_X86_PWT(cache, features);
    ensures pcd: (\result & 2) != 0 <==> WP_X86_PCD(cache, features);
    ensures pat: (\result & 4) != 0 <==> WP_X86_PATB(cache, features);
*/
static inline unsigned x86_pat_index(uint32_t cache, uint32_t features);

/*@ requires idx < 8;
    assigns \nothing;
    ensures \result == WP_X86_CACHE_OF((idx & 1) != 0, (idx & 2) != 0, (idx & 4) != 0,
                                       features);
*/
static inline uint32_t x86_cache_of_index(unsigned idx, uint32_t features);

/* ---- normalize ---- */

/*@ requires \valid(out);
    assigns *out;
    behavior reject:
      assumes !WP_X86_ACCEPTS(p, features);
      assigns \nothing;
      ensures \result == PT_EINVAL;
    behavior accept:
      assumes WP_X86_ACCEPTS(p, features);
      ensures \result == 0;
      ensures out->cache == p.cache;
      ensures wx: bit_test(p.flags, 1) || bit_test(p.flags, 2) ==>
                out->flags == (p.flags | PT_R);
      ensures no_wx: !bit_test(p.flags, 1) && !bit_test(p.flags, 2) ==>
                out->flags == p.flags;
      ensures r: bit_test(out->flags, 0) <==>
                (bit_test(p.flags, 0) || bit_test(p.flags, 1) || bit_test(p.flags, 2));
      ensures kept: WP_E1(out->flags, p.flags, 1) && WP_E1(out->flags, p.flags, 2) &&
                WP_E4(out->flags, p.flags, 3) && WP_E4(out->flags, p.flags, 8);
      ensures none: !bit_test(out->flags, 7) && WP_Z4(out->flags, 12) &&
                WP_Z4(out->flags, 16) && WP_Z4(out->flags, 20) &&
                WP_Z4(out->flags, 24) && WP_Z4(out->flags, 28);
    complete behaviors;
    disjoint behaviors;
*/
static inline int fmt_prop_normalize(struct pt_prop p, uint32_t features, struct pt_prop *out);

/* ---- encode: every bit the decoder reads ---- */

/* Bit j of the leaf is bit j of pa (present) or its complement (PROT_NONE,
 * as Linux does against L1TF), for every j in the level's address field. */
#define X86_PA1(j, op) (bit_test(WP_X86_AMASK(level), j) ==> \
	(bit_test(\result, j) <==> op bit_test(pa, j)))
#define X86_PA4(j, op) X86_PA1(j, op) && X86_PA1((j) + 1, op) && \
	X86_PA1((j) + 2, op) && X86_PA1((j) + 3, op)
#define X86_PA40(op) X86_PA4(12, op) && X86_PA4(16, op) && X86_PA4(20, op) && \
	X86_PA4(24, op) && X86_PA4(28, op) && X86_PA4(32, op) && X86_PA4(36, op) && \
	X86_PA4(40, op) && X86_PA4(44, op) && X86_PA4(48, op)

/* The bits of a leaf that do not depend on presence. */
#define X86_LEAF_BITS                                                           \
	(bit_test(\result, 1) <==> bit_test(p.flags, 1)) &&     /* W */          \
	(bit_test(\result, 2) <==> bit_test(p.flags, 3)) &&     /* U */          \
	(bit_test(\result, 3) <==> WP_X86_PWT(p.cache, features)) &&             \
	(bit_test(\result, 4) <==> WP_X86_PCD(p.cache, features)) &&             \
	(bit_test(\result, 5) <==> bit_test(p.flags, 5)) &&     /* A */          \
	(bit_test(\result, 6) <==> bit_test(p.flags, 6)) &&     /* D */          \
	(level == 1 ==> (bit_test(\result, 7) <==> WP_X86_PATB(p.cache, features))) && \
	(level > 1 ==> bit_test(\result, 7)) &&                 /* PS */         \
	(level > 1 ==> (bit_test(\result, 12) <==> WP_X86_PATB(p.cache, features))) && \
	(bit_test(\result, 8) <==> bit_test(p.flags, 4)) &&     /* G */          \
	(bit_test(\result, 9) <==> tracked) &&                                    \
	(bit_test(\result, 52) <==> bit_test(p.flags, 8)) &&    /* SW0..3 */     \
	(bit_test(\result, 53) <==> bit_test(p.flags, 9)) &&                     \
	(bit_test(\result, 54) <==> bit_test(p.flags, 10)) &&                    \
	(bit_test(\result, 55) <==> bit_test(p.flags, 11)) &&                    \
	(bit_test(\result, 63) <==> !bit_test(p.flags, 2))      /* NX */

/* pa has no bit outside the address field of level: "pa & ~mask == 0". */
#define X86_PA_IN_FIELD(pa, level)                                              \
	(WP_Z4(pa, 0) && WP_Z4(pa, 4) && WP_Z4(pa, 8) &&                         \
	 WP_Z4(pa, 52) && WP_Z4(pa, 56) && WP_Z4(pa, 60) &&                      \
	 ((level) >= 2 ==> WP_Z4(pa, 12) && WP_Z4(pa, 16) && WP_Z1(pa, 20)) &&    \
	 ((level) >= 3 ==> WP_Z4(pa, 21) && WP_Z4(pa, 25) && WP_Z1(pa, 29)))

/*@ requires 1 <= level <= FMT_MAX_LEAF_LEVEL;
    requires p.cache < PT_CACHE_COUNT;
    requires pa_in_field: X86_PA_IN_FIELD(pa, level);
    assigns \nothing;
    ensures present: bit_test(p.flags, 0) ==>
      bit_test(\result, 0) && !bit_test(\result, 10) && X86_PA40() && X86_LEAF_BITS;
    ensures protnone: !bit_test(p.flags, 0) ==>
      !bit_test(\result, 0) && bit_test(\result, 10) && X86_PA40(!) && X86_LEAF_BITS;
*/
static inline pt_pte_t fmt_pte_leaf(uint64_t pa, unsigned level, struct pt_prop p,
				    bool tracked, uint32_t features);

/* ---- decode ---- */

/*@ assigns \nothing;
    ensures \result <==> (bit_test(pte, 0) || bit_test(pte, 10));
*/
static inline bool fmt_pte_present(pt_pte_t pte);

/*@ assigns \nothing;
    ensures \result <==> (level == 1 || bit_test(pte, 7) || !bit_test(pte, 0));
*/
static inline bool fmt_pte_is_leaf(pt_pte_t pte, unsigned level);

/*@ assigns \nothing;
    ensures \result <==> bit_test(pte, 9);
*/
static inline bool fmt_pte_tracked(pt_pte_t pte);

#define X86_PA_BIT(j)                                                           \
	ensures pa_##j: bit_test(\result, j) <==> (bit_test(WP_X86_AMASK(level), j) && \
		(bit_test(pte, 0) ? bit_test(pte, j) : !bit_test(pte, j)));

/*@ requires 1 <= level <= FMT_MAX_LEAF_LEVEL;
    assigns \nothing;
    ensures range: \result < 0x10000000000000;
    ensures low: WP_Z4(\result, 0) && WP_Z4(\result, 4) && WP_Z4(\result, 8);
    X86_PA_BIT(12) X86_PA_BIT(13) X86_PA_BIT(14) X86_PA_BIT(15)
    X86_PA_BIT(16) X86_PA_BIT(17) X86_PA_BIT(18) X86_PA_BIT(19)
    X86_PA_BIT(20) X86_PA_BIT(21) X86_PA_BIT(22) X86_PA_BIT(23)
    X86_PA_BIT(24) X86_PA_BIT(25) X86_PA_BIT(26) X86_PA_BIT(27)
    X86_PA_BIT(28) X86_PA_BIT(29) X86_PA_BIT(30) X86_PA_BIT(31)
    X86_PA_BIT(32) X86_PA_BIT(33) X86_PA_BIT(34) X86_PA_BIT(35)
    X86_PA_BIT(36) X86_PA_BIT(37) X86_PA_BIT(38) X86_PA_BIT(39)
    X86_PA_BIT(40) X86_PA_BIT(41) X86_PA_BIT(42) X86_PA_BIT(43)
    X86_PA_BIT(44) X86_PA_BIT(45) X86_PA_BIT(46) X86_PA_BIT(47)
    X86_PA_BIT(48) X86_PA_BIT(49) X86_PA_BIT(50) X86_PA_BIT(51)
*/
static inline uint64_t fmt_pte_leaf_pa(pt_pte_t pte, unsigned level);

/* The flags of a leaf that do not depend on presence. */
#define X86_PROP_BITS                                                           \
	(bit_test(\result.flags, 3) <==> bit_test(pte, 2)) &&   /* U */          \
	(bit_test(\result.flags, 4) <==> bit_test(pte, 8)) &&   /* G */          \
	(bit_test(\result.flags, 5) <==> bit_test(pte, 5)) &&   /* A */          \
	(bit_test(\result.flags, 6) <==> bit_test(pte, 6)) &&   /* D */          \
	(bit_test(\result.flags, 8) <==> bit_test(pte, 52)) &&  /* SW0..3 */     \
	(bit_test(\result.flags, 9) <==> bit_test(pte, 53)) &&                   \
	(bit_test(\result.flags, 10) <==> bit_test(pte, 54)) &&                  \
	(bit_test(\result.flags, 11) <==> bit_test(pte, 55)) &&                  \
	!bit_test(\result.flags, 7) && WP_Z4(\result.flags, 12) &&               \
	WP_Z4(\result.flags, 16) && WP_Z4(\result.flags, 20) &&                   \
	WP_Z4(\result.flags, 24) && WP_Z4(\result.flags, 28)

/*@ requires 1 <= level <= FMT_MAX_LEAF_LEVEL;
    assigns \nothing;
    ensures present: bit_test(pte, 0) ==>
      bit_test(\result.flags, 0) &&                                      // R
      (bit_test(\result.flags, 1) <==> bit_test(pte, 1)) &&              // W
      (bit_test(\result.flags, 2) <==> !bit_test(pte, 63)) &&            // X
      X86_PROP_BITS;
    ensures absent: !bit_test(pte, 0) ==>
      !bit_test(\result.flags, 0) && !bit_test(\result.flags, 1) &&
      !bit_test(\result.flags, 2) && X86_PROP_BITS;
    ensures cache4k: level == 1 ==> \result.cache ==
      WP_X86_CACHE_OF(bit_test(pte, 3), bit_test(pte, 4), bit_test(pte, 7), features);
    ensures cache2m: level == 2 ==> \result.cache ==
      WP_X86_CACHE_OF(bit_test(pte, 3), bit_test(pte, 4), bit_test(pte, 12), features);
    ensures cache1g: level == 3 ==> \result.cache ==
      WP_X86_CACHE_OF(bit_test(pte, 3), bit_test(pte, 4), bit_test(pte, 12), features);
*/
static inline struct pt_prop fmt_pte_leaf_prop(pt_pte_t pte, unsigned level,
					       uint32_t features);

/*@ assigns \nothing;
    ensures \result == (pa | X86_P | X86_W | X86_U);
*/
static inline pt_pte_t fmt_pte_table(uint64_t pa);

/* ---- the round trip ---- */

/*
 * decode(encode(p)) == normalize(p): for every property normalize accepts,
 * every leaf level, every aligned encodable pa and both trackednesses, the
 * encoded leaf is present, a leaf, and decodes to pa, the normalized
 * property and the trackedness (the steps of fmt_decode_api).
 */
/*@ requires 1 <= level <= FMT_MAX_LEAF_LEVEL;
    requires WP_ALIGNED(pa, level) && pa < FMT_PA_LIMIT;
    assigns \nothing;
    ensures \result == 0 <==> !WP_X86_ACCEPTS(p, features);
*/
int wp_round_trip(uint64_t pa, unsigned level, struct pt_prop p, bool tracked,
		  uint32_t features)
{
	struct pt_prop n;

	if (fmt_prop_normalize(p, features, &n))
		return 0;
	pt_pte_t pte = fmt_pte_leaf(pa, level, n, tracked, features);
	bool present = fmt_pte_present(pte);
	bool leaf = fmt_pte_is_leaf(pte, level);
	uint64_t pa2 = fmt_pte_leaf_pa(pte, level);
	struct pt_prop q = fmt_pte_leaf_prop(pte, level, features);
	bool tracked2 = fmt_pte_tracked(pte);
	//@ assert decodes_as_leaf: present && leaf;
	//@ assert same_pa: pa2 == pa;
	//@ assert flag_bits: WP_E16(q.flags, n.flags, 0) && WP_E16(q.flags, n.flags, 16);
	//@ assert same_flags: q.flags == n.flags;
	//@ assert same_cache: q.cache == n.cache;
	//@ assert same_tracked: tracked2 == tracked;
	return 1;
}

/*
 * A table entry (a node's pa: 4 KiB aligned, below 2^52) is present and is
 * never taken for a leaf at levels 2..FMT_LEVELS (design §1).
 */
/*@ requires 2 <= level <= FMT_LEVELS;
    requires WP_ALIGNED(pa, 1) && pa < FMT_PA_LIMIT;
    assigns \nothing;
    ensures \result == 1;
*/
int wp_table_not_leaf(uint64_t pa, unsigned level)
{
	pt_pte_t pte = fmt_pte_table(pa);
	bool present = fmt_pte_present(pte);
	bool leaf = fmt_pte_is_leaf(pte, level);
	//@ assert table_present: present;
	//@ assert table_not_leaf: !leaf;
	return 1;
}
