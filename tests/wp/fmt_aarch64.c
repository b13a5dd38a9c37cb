/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fmt_aarch64.c - WP proof of the AArch64 4 KiB-granule PTE format
 * (src/formats/aarch64.h).
 *
 * As fmt_x86_64.c: the real header is included, the contracts are attached
 * to its functions, and wp_round_trip() proves decode(encode(p)) ==
 * normalize(p) through the real encoder and decoders.
 *
 * WP-PART: WP_CONSTS : pt_level_size fmt_pte_table fmt_pte_tracked fmt_pte_leaf_pa
 * WP-PART: WP_CONSTS WP_MASK WP_CACHE : fmt_pte_leaf fmt_pte_is_leaf
 * WP-PART: WP_CONSTS WP_CONSTS2 WP_XN : fmt_pte_leaf_prop
 * WP-PART: WP_MASK WP_FLAGS WP_CONSTS WP_CONSTS2 : fmt_prop_normalize fmt_pte_present
 * WP-PART: WP_EXT WP_ADDR WP_CACHE : wp_round_trip wp_table_not_leaf
 */
#include <stdatomic.h>

#include "formats/aarch64.h"
#include "wp_bits.h"

/* What normalize accepts: no flag outside PT_FLAGS_ALL but PT_SW3. */
#define WP_A64_ACCEPTS(p) \
	(((p).flags & ~(PT_FLAGS_ALL & ~PT_SW3)) == 0 && (p).cache < PT_CACHE_COUNT)

#ifdef WP_CONSTS
/*@
  WP_CONST_BITS(0, 0)       WP_CONST_BITS(1, 1)       WP_CONST_BITS(2, 2)
  WP_CONST_BITS(4, 4)       WP_CONST_BITS(8, 8)       WP_CONST_BITS(16, 16)
  WP_CONST_BITS(32, 32)     WP_CONST_BITS(64, 64)     WP_CONST_BITS(128, 128)
  WP_CONST_BITS(256, 256)   WP_CONST_BITS(2048, 2048) WP_CONST_BITS(7, 7)
  WP_CONST_BITS(33, 33)     WP_CONST_BITS(1792, 1792)
  WP_CONST_BITS(pxn, 0x20000000000000)    WP_CONST_BITS(uxn, 0x40000000000000)
  WP_CONST_BITS(xn, 0x60000000000000)     WP_CONST_BITS(tr, 0x80000000000000)
  WP_CONST_BITS(pn, 0x800000000000000)
  WP_CONST_BITS(am, 0xfffffffff000)
*/
#endif

#ifdef WP_CONSTS2
/*@
  WP_CONST_BITS(28, 28)     WP_CONST_BITS(nd, 0xffffffbf)
*/
#endif

#ifdef WP_CACHE
/*@
  // A cache policy (below PT_CACHE_COUNT) has only bits 0 and 1 (proof:
  // Bit-Test Range).
  lemma cache_bits: \forall integer x; 0 <= x <= 3 ==>
    WP_Z1(x, 2) && WP_Z1(x, 3) && WP_Z4(x, 4) && WP_Z4(x, 8) && WP_Z4(x, 12) &&
    WP_Z4(x, 16) && WP_Z4(x, 20) && WP_Z4(x, 24) && WP_Z4(x, 28);
*/
#endif

#ifdef WP_ADDR
/*@
  // An address aligned to 4 KiB has its low bits clear, one below 2^48 its
  // high bits (proofs: Split then Qed or Bit-Test Range, scripts/).
  lemma aligned_4k: \forall integer x; (x & 0xfff) == 0 ==>
    WP_Z4(x, 0) && WP_Z4(x, 4) && WP_Z4(x, 8);
  lemma high_bits_48: \forall integer x; 0 <= x < 0x1000000000000 ==>
    WP_Z4(x, 48) && WP_Z4(x, 52) && WP_Z4(x, 56) && WP_Z4(x, 60);
*/
#endif

#ifdef WP_FLAGS
/*@
  // A property normalize accepts has no flag outside PT_FLAGS_ALL but PT_SW3
  // (the mask spelled both ways WP writes it, as a uint32_t and signed).
  lemma flags_allowed: \forall integer x; (x & 0xfffff880) == 0 ==>
    !bit_test(x, 7) && WP_Z4(x, 11) && WP_Z4(x, 15) && WP_Z4(x, 19) &&
    WP_Z4(x, 23) && WP_Z4(x, 27) && WP_Z1(x, 31);
  lemma flags_allowed_signed: \forall integer x; (x & -1920) == 0 ==>
    !bit_test(x, 7) && WP_Z4(x, 11) && WP_Z4(x, 15) && WP_Z4(x, 19) &&
    WP_Z4(x, 23) && WP_Z4(x, 27) && WP_Z1(x, 31);
*/
#endif

#ifdef WP_MASK
/*@
  // The masks the code tests, bit by bit (Bitwise Eq. then Bit Range).
  lemma mask_valid_protnone: \forall integer x; 0 <= x < WP_2_64 ==>
    ((x & 0x800000000000001) == 0 <==> !bit_test(x, 0) && !bit_test(x, 59));
  lemma mask_wx: \forall integer x; 0 <= x < WP_2_64 ==>
    ((x & 6) == 0 <==> !bit_test(x, 1) && !bit_test(x, 2));
  lemma mask_table: \forall integer x; 0 <= x < WP_2_64 ==>
    ((x & 3) == 3 <==> bit_test(x, 0) && bit_test(x, 1));
*/
#endif

#ifdef WP_XN
/*@
  // fmt_pte_leaf_prop tests one of UXN or PXN, chosen at run time; the
  // mask is a variable equal to one bit (proofs: Qed), in both argument
  // orders.
  lemma uxn_bit: \forall integer x, m; m == A64_UXN ==> ((x & m) != 0 <==> bit_test(x, 54));
  lemma pxn_bit: \forall integer x, m; m == A64_PXN ==> ((x & m) != 0 <==> bit_test(x, 53));
  lemma uxn_bit_swap: \forall integer x, m; x == A64_UXN ==> ((x & m) != 0 <==> bit_test(m, 54));
  lemma pxn_bit_swap: \forall integer x, m; x == A64_PXN ==> ((x & m) != 0 <==> bit_test(m, 53));
*/
#endif

/* ---- helpers ---- */

/*@ requires 1 <= level <= 6;
    assigns \nothing;
    ensures \result == WP_LSIZE(level);
*/
static inline uint64_t pt_level_size(unsigned level);

/* ---- normalize ---- */

/*@ requires \valid(out);
    assigns *out;
    behavior reject:
      assumes !WP_A64_ACCEPTS(p);
      assigns \nothing;
      ensures \result == PT_EINVAL;
    behavior accept:
      assumes WP_A64_ACCEPTS(p);
      ensures \result == 0;
      ensures out->cache == p.cache;
      ensures r: bit_test(out->flags, 0) <==>
                (bit_test(p.flags, 0) || bit_test(p.flags, 1) || bit_test(p.flags, 2));
      ensures a: bit_test(out->flags, 5);
      ensures d: !bit_test(out->flags, 6);
      ensures kept: WP_E1(out->flags, p.flags, 1) && WP_E1(out->flags, p.flags, 2) &&
                WP_E1(out->flags, p.flags, 3) && WP_E1(out->flags, p.flags, 4) &&
                WP_E1(out->flags, p.flags, 8) && WP_E1(out->flags, p.flags, 9) &&
                WP_E1(out->flags, p.flags, 10);
      ensures none: !bit_test(out->flags, 7) && WP_Z4(out->flags, 11) &&
                WP_Z4(out->flags, 15) && WP_Z4(out->flags, 19) && WP_Z4(out->flags, 23) &&
                WP_Z4(out->flags, 27) && WP_Z1(out->flags, 31);
    complete behaviors;
    disjoint behaviors;
*/
static inline int fmt_prop_normalize(struct pt_prop p, uint32_t features, struct pt_prop *out);

/* ---- encode: every bit the decoder reads ---- */

#define A64_OA1(j) (bit_test(\result, j) <==> bit_test(pa, j))
#define A64_OA4(j) A64_OA1(j) && A64_OA1((j) + 1) && A64_OA1((j) + 2) && A64_OA1((j) + 3)
/* The output address field, bits 12..47, is pa's. */
#define A64_OA                                                                  \
	A64_OA4(12) && A64_OA4(16) && A64_OA4(20) && A64_OA4(24) && A64_OA4(28) && \
	A64_OA4(32) && A64_OA4(36) && A64_OA4(40) && A64_OA4(44)

/*@ requires 1 <= level <= FMT_MAX_LEAF_LEVEL;
    requires p.cache < PT_CACHE_COUNT;
    requires pa_in_field: WP_Z4(pa, 0) && WP_Z4(pa, 4) && WP_Z4(pa, 8) &&
                          WP_Z4(pa, 48) && WP_Z4(pa, 52) && WP_Z4(pa, 56) &&
                          WP_Z4(pa, 60);
    assigns \nothing;
    ensures valid: bit_test(p.flags, 0) ==> bit_test(\result, 0) && !bit_test(\result, 59);
    ensures protnone: !bit_test(p.flags, 0) ==> !bit_test(\result, 0) && bit_test(\result, 59);
    ensures oa: A64_OA;
    ensures attr: (bit_test(\result, 2) <==> bit_test(p.cache, 0)) &&   // AttrIndx
                  (bit_test(\result, 3) <==> bit_test(p.cache, 1)) && !bit_test(\result, 4);
    ensures ap: (bit_test(\result, 6) <==> bit_test(p.flags, 3)) &&     // AP[1]: U
                (bit_test(\result, 7) <==> !bit_test(p.flags, 1));      // AP[2]: RO
    ensures af_ng: bit_test(\result, 10) &&                             // AF
                   (bit_test(\result, 11) <==> !bit_test(p.flags, 4));  // nG
    ensures user_xn: bit_test(p.flags, 3) ==> bit_test(\result, 53) &&  // PXN
                       (bit_test(\result, 54) <==> !bit_test(p.flags, 2));
    ensures kernel_xn: !bit_test(p.flags, 3) ==> bit_test(\result, 54) && // UXN
                       (bit_test(\result, 53) <==> !bit_test(p.flags, 2));
    ensures sw: (bit_test(\result, 55) <==> tracked) &&
                (bit_test(\result, 56) <==> bit_test(p.flags, 8)) &&    // SW0..2
                (bit_test(\result, 57) <==> bit_test(p.flags, 9)) &&
                (bit_test(\result, 58) <==> bit_test(p.flags, 10));
    ensures page: level == 1 ==> bit_test(\result, 1);                  // page
    ensures block: level > 1 ==> !bit_test(\result, 1);                 // block
*/
static inline pt_pte_t fmt_pte_leaf(uint64_t pa, unsigned level, struct pt_prop p,
				    bool tracked, uint32_t features);

/* ---- decode ---- */

/*@ assigns \nothing;
    ensures \result <==> (bit_test(pte, 0) || bit_test(pte, 59));
*/
static inline bool fmt_pte_present(pt_pte_t pte);

/*@ assigns \nothing;
    ensures \result <==> (level == 1 || !bit_test(pte, 0) || !bit_test(pte, 1));
*/
static inline bool fmt_pte_is_leaf(pt_pte_t pte, unsigned level);

/*@ assigns \nothing;
    ensures \result <==> bit_test(pte, 55);
*/
static inline bool fmt_pte_tracked(pt_pte_t pte);

#define A64_PA1(j) (bit_test(\result, j) <==> bit_test(pte, j))
#define A64_PA4(j) A64_PA1(j) && A64_PA1((j) + 1) && A64_PA1((j) + 2) && A64_PA1((j) + 3)

/*@ assigns \nothing;
    ensures range: \result < 0x1000000000000;
    ensures low: WP_Z4(\result, 0) && WP_Z4(\result, 4) && WP_Z4(\result, 8);
    ensures oa: A64_PA4(12) && A64_PA4(16) && A64_PA4(20) && A64_PA4(24) && A64_PA4(28) &&
                A64_PA4(32) && A64_PA4(36) && A64_PA4(40) && A64_PA4(44);
*/
static inline uint64_t fmt_pte_leaf_pa(pt_pte_t pte, unsigned level);

/* The flags of a leaf that do not depend on validity. */
#define A64_PROP_BITS                                                           \
	(bit_test(\result.flags, 3) <==> bit_test(pte, 6)) &&    /* U */          \
	(bit_test(\result.flags, 4) <==> !bit_test(pte, 11)) &&  /* G */          \
	(bit_test(\result.flags, 5) <==> bit_test(pte, 10)) &&   /* A */          \
	!bit_test(\result.flags, 6) && !bit_test(\result.flags, 7) &&             \
	(bit_test(\result.flags, 8) <==> bit_test(pte, 56)) &&   /* SW0..2 */     \
	(bit_test(\result.flags, 9) <==> bit_test(pte, 57)) &&                    \
	(bit_test(\result.flags, 10) <==> bit_test(pte, 58)) &&                   \
	WP_Z4(\result.flags, 11) && WP_Z4(\result.flags, 15) &&                    \
	WP_Z4(\result.flags, 19) && WP_Z4(\result.flags, 23) &&                    \
	WP_Z4(\result.flags, 27) && WP_Z1(\result.flags, 31)

/*@ assigns \nothing;
    ensures valid: bit_test(pte, 0) ==>
      bit_test(\result.flags, 0) &&                                    // R
      (bit_test(\result.flags, 1) <==> !bit_test(pte, 7)) &&           // W
      (bit_test(pte, 6) ==> (bit_test(\result.flags, 2) <==> !bit_test(pte, 54))) &&
      (!bit_test(pte, 6) ==> (bit_test(\result.flags, 2) <==> !bit_test(pte, 53))) &&
      A64_PROP_BITS;
    ensures invalid: !bit_test(pte, 0) ==>
      !bit_test(\result.flags, 0) && !bit_test(\result.flags, 1) &&
      !bit_test(\result.flags, 2) && A64_PROP_BITS;
    ensures cache: WP_E1(\result.cache, pte >> 2, 0) && WP_E1(\result.cache, pte >> 2, 1) &&
                   WP_E1(\result.cache, pte >> 2, 2) && WP_Z1(\result.cache, 3) &&
                   WP_Z4(\result.cache, 4) && WP_Z4(\result.cache, 8) &&
                   WP_Z4(\result.cache, 12) && WP_Z4(\result.cache, 16) &&
                   WP_Z4(\result.cache, 20) && WP_Z4(\result.cache, 24) &&
                   WP_Z4(\result.cache, 28);
*/
static inline struct pt_prop fmt_pte_leaf_prop(pt_pte_t pte, unsigned level,
					       uint32_t features);

/*@ requires WP_Z4(pa, 48) && WP_Z4(pa, 52) && WP_Z4(pa, 56) && WP_Z4(pa, 60);
    assigns \nothing;
    ensures bit_test(\result, 0) && bit_test(\result, 1) && !bit_test(\result, 59);
*/
static inline pt_pte_t fmt_pte_table(uint64_t pa);

/* ---- the round trip ---- */

/* decode(encode(p)) == normalize(p), as in fmt_x86_64.c. */
/*@ requires 1 <= level <= FMT_MAX_LEAF_LEVEL;
    requires WP_ALIGNED(pa, 1) && pa < FMT_PA_LIMIT;
    assigns \nothing;
    ensures \result == 0 <==> !WP_A64_ACCEPTS(p);
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
	//@ assert pa_bits: WP_E16(pa2, pa, 0) && WP_E16(pa2, pa, 16) && WP_E16(pa2, pa, 32) && WP_E4(pa2, pa, 48) && WP_E4(pa2, pa, 52) && WP_E4(pa2, pa, 56) && WP_E1(pa2, pa, 60) && WP_E1(pa2, pa, 61);
	//@ assert same_pa: pa2 == pa;
	//@ assert flag_bits: WP_E16(q.flags, n.flags, 0) && WP_E16(q.flags, n.flags, 16);
	//@ assert same_flags: q.flags == n.flags;
	//@ assert cache_bits: WP_E16(q.cache, n.cache, 0) && WP_E16(q.cache, n.cache, 16);
	//@ assert same_cache: q.cache == n.cache;
	//@ assert same_tracked: tracked2 == tracked;
	return 1;
}

/* A table descriptor (a 4 KiB-aligned node below 2^48) is present and never
 * taken for a leaf at levels 2..FMT_LEVELS. */
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
