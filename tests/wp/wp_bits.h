/* SPDX-License-Identifier: MPL-2.0 */
/*
 * wp_bits.h - ACSL vocabulary and bridging lemmas shared by the WP proofs.
 *
 * Why these lemmas exist.  WP's simplifier (Qed) evaluates bitwise terms
 * over constants (bit k of 0x1000 is set, bit 3 of 8 is set...), but hands
 * the provers (z3) a theory in which `&`, `|`, `~` and bit_test are
 * uninterpreted functions with a few axioms: z3 can neither evaluate a bit of
 * a constant nor turn "every bit equal" into "equal".  Each lemma below
 * states one such fact in a form Qed cannot simplify away, and is itself
 * proved: by Qed (the WP_CONST_BITS lemmas), or by one of WP's own tactics
 * replayed from tests/wp/scripts/ (ext32/ext62: Bitwise Eq.; u64_wrap:
 * Overflow; the mask lemmas: Mod-Mask).  No axiom is added.
 */
#ifndef PTKIT_TESTS_WP_BITS_H
#define PTKIT_TESTS_WP_BITS_H

#include <__fc_integer.h> /* ACSL: logic boolean bit_test(integer x, integer k) */

#define WP_2_64 18446744073709551616

/* Entry size and its log2 at a level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB...). */
#define WP_LSHIFT(L) (12 + 9 * ((L) - 1))
#define WP_LSIZE(L)                                                             \
	((L) == 1 ? 0x1000 : (L) == 2 ? 0x200000 : (L) == 3 ? 0x40000000 :       \
	 (L) == 4 ? 0x8000000000 : (L) == 5 ? 0x1000000000000 : 0x200000000000000)

/* x is aligned to the entry size of level L (as the code tests it, x &
 * (size - 1) == 0), spelled level by level so that each mask is a constant. */
#define WP_ALIGNED(x, L)                                                        \
	(((L) == 1 ==> ((x) & 0xfff) == 0) && ((L) == 2 ==> ((x) & 0x1fffff) == 0) && \
	 ((L) == 3 ==> ((x) & 0x3fffffff) == 0) && ((L) == 4 ==> ((x) & 0x7fffffffff) == 0) && \
	 ((L) == 5 ==> ((x) & 0xffffffffffff) == 0) && ((L) == 6 ==> ((x) & 0x1ffffffffffffff) == 0))

/* ---- bit i of the constant C, for every i: "c == C ==> its 64 bits" ---- */
#define WP_CB1(c, C, j) ((((C) >> (j)) & 1) != 0 ? bit_test(c, j) : !bit_test(c, j))
#define WP_CB4(c, C, j) WP_CB1(c, C, j) && WP_CB1(c, C, (j) + 1) && \
	WP_CB1(c, C, (j) + 2) && WP_CB1(c, C, (j) + 3)
#define WP_CB16(c, C, j) WP_CB4(c, C, j) && WP_CB4(c, C, (j) + 4) && \
	WP_CB4(c, C, (j) + 8) && WP_CB4(c, C, (j) + 12)
#define WP_CB64(c, C) WP_CB16(c, C, 0) && WP_CB16(c, C, 16) && \
	WP_CB16(c, C, 32) && WP_CB16(c, C, 48)
/* Proved by Qed; the quantified form survives as a hypothesis z3 can match
 * (modulo equalities, so a temporary equal to C gets C's bits). */
#define WP_CONST_BITS(name, C) \
	lemma bits_##name: \forall integer c; c == (C) ==> (WP_CB64(c, C));

/* ---- bits [lo, hi) of x are clear ---- */
#define WP_Z1(x, j) !bit_test(x, j)
#define WP_Z4(x, j) WP_Z1(x, j) && WP_Z1(x, (j) + 1) && WP_Z1(x, (j) + 2) && WP_Z1(x, (j) + 3)

/* ---- every bit set in x is set in the mask M ("x & ~M == 0", bit by bit) ---- */
#define WP_IN1(x, M, j) (bit_test(x, j) ==> bit_test(M, j))
#define WP_IN4(x, M, j) WP_IN1(x, M, j) && WP_IN1(x, M, (j) + 1) && \
	WP_IN1(x, M, (j) + 2) && WP_IN1(x, M, (j) + 3)
#define WP_IN16(x, M, j) WP_IN4(x, M, j) && WP_IN4(x, M, (j) + 4) && \
	WP_IN4(x, M, (j) + 8) && WP_IN4(x, M, (j) + 12)
#define WP_IN64(x, M) (WP_IN16(x, M, 0) && WP_IN16(x, M, 16) && \
	WP_IN16(x, M, 32) && WP_IN16(x, M, 48))

/* ---- bitwise equality of x and y, bit by bit ---- */
#define WP_E1(x, y, j) (bit_test(x, j) <==> bit_test(y, j))
#define WP_E4(x, y, j) WP_E1(x, y, j) && WP_E1(x, y, (j) + 1) && \
	WP_E1(x, y, (j) + 2) && WP_E1(x, y, (j) + 3)
#define WP_E16(x, y, j) WP_E4(x, y, j) && WP_E4(x, y, (j) + 4) && \
	WP_E4(x, y, (j) + 8) && WP_E4(x, y, (j) + 12)

#ifdef WP_EXT
/*@
  // Two machine words with the same bits are equal (proof: WP's Bitwise
  // Eq. tactic, scripts/lemma_ext32.json and lemma_ext62.json).
  lemma ext32: \forall integer x, y;
    0 <= x < 4294967296 && 0 <= y < 4294967296 &&
    WP_E16(x, y, 0) && WP_E16(x, y, 16) ==> x == y;
  // (Physical addresses are below 2^56 in every format; WP 25's tactic
  // handles at most 62 bits.)
  lemma ext62: \forall integer x, y;
    0 <= x < 0x4000000000000000 && 0 <= y < 0x4000000000000000 &&
    WP_E16(x, y, 0) && WP_E16(x, y, 16) && WP_E16(x, y, 32) &&
    WP_E4(x, y, 48) && WP_E4(x, y, 52) && WP_E4(x, y, 56) &&
    WP_E1(x, y, 60) && WP_E1(x, y, 61) ==> x == y;
*/
#endif

#ifdef WP_WRAP
/*@
  // C's conversion to uint64_t of a sum that overflowed by less than 2^64
  // (C11 6.3.1.3p2; proof: WP's Overflow tactic, scripts/common/lemma_u64_wrap.json).
  lemma u64_wrap: \forall integer x;
    WP_2_64 <= x < 2 * WP_2_64 ==> (uint64_t)x == x - WP_2_64;
*/
#endif

#endif
