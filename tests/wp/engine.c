/* SPDX-License-Identifier: MPL-2.0 */
/*
 * engine.c - WP proof of the format-independent arithmetic: level sizes and
 * indices (src/nodes/node.h, include/ptkit/format.h), range and physical
 * address validation (src/table/table.c) and the per-position page-size
 * choice of map (src/cursor/cursor_template.h, compiled for x86-64).
 *
 * The real sources are included and the ACSL contracts are attached to
 * their functions by re-declaring them here (Frama-C merges a declaration's
 * contract into the definition), so WP proves each contract against the
 * real body.  Run by run_wp.sh, in parts (see fmt_x86_64.c):
 *
 * WP-OPTIONS: -wp-no-init-const
 * WP-PART: WP_MOD : pt_level_size pt_index pt_entry_base
 * WP-PART: WP_WRAP : page_aligned range_check pa_check max_leaf_at
 * WP-PART: WP_MOD : pt_min_u64 pt_max_u64 entry_iter_set src_pa src_leaf_here
 * WP-PART: WP_MOD WP_NODE_ALIGNED : wp_leaf_level
 * WP-ELSEWHERE: entry.c : entry_or_all entry_swap_keeping_hw entry_fill_run
 */
#include <stdatomic.h>

int __builtin_clzll(unsigned long long);
int __builtin_ctzll(unsigned long long);

/* bit_test, which the entry layer's loop annotations use (as entry.c). */
#include <__fc_integer.h>
#include "table/table.c"
#include "formats/x86_64.h"
#define FMT_SYMBOL pt_format_x86_64
#include "formats/engine_instance.h"

#define WP_WRAP
#include "wp_bits.h"

#ifdef WP_MOD
/*@
  // An aligned address is a multiple of the entry size: x & (2^k - 1) is
  // x % 2^k (proofs: WP's Mod-Mask tactic, scripts/engine/lemma_mod_*.json).
  lemma mod_4k: \forall integer x; 0 <= x ==> (x & 0xfff) == x % 0x1000;
  lemma mod_2m: \forall integer x; 0 <= x ==> (x & 0x1fffff) == x % 0x200000;
  lemma mod_1g: \forall integer x; 0 <= x ==> (x & 0x3fffffff) == x % 0x40000000;
  lemma mod_512g: \forall integer x; 0 <= x ==> (x & 0x7fffffffff) == x % 0x8000000000;
  lemma mod_256t: \forall integer x; 0 <= x ==>
    (x & 0xffffffffffff) == x % 0x1000000000000;
*/
#endif

#ifdef WP_NODE_ALIGNED
/*@
  // A node's first byte (offset bits clear) is aligned to its entries
  // (proofs: Mod-Mask, then Bit Range).
  lemma node_2m: \forall integer x; 0 <= x ==>
    (x & (uint64_t)~(0x40000000 - 1)) % 0x200000 == 0;
  lemma node_1g: \forall integer x; 0 <= x ==>
    (x & (uint64_t)~(0x8000000000 - 1)) % 0x40000000 == 0;

*/
#endif

/* ---- index and page-size arithmetic ---- */

/*@ requires 1 <= level <= 6;
    assigns \nothing;
    ensures \result == WP_LSIZE(level);
*/
static inline uint64_t pt_level_size(unsigned level);

/*@ requires 1 <= level <= 6;
    assigns \nothing;
    ensures 0 <= \result < PT_NR_ENTRIES;
    ensures \result == ((unsigned)(va >> WP_LSHIFT(level)) & 511);
*/
static inline unsigned pt_index(uint64_t va, unsigned level);

/* The entry of va at level: va with the offset bits clear, i.e. aligned and
 * with va's bits above the offset. */
/*@ requires 1 <= level <= 5;
    assigns \nothing;
    ensures aligned: WP_ALIGNED(\result, level);
    ensures high: (\result & ~(WP_LSIZE(level) - 1)) == (va & ~(WP_LSIZE(level) - 1));
    ensures \result == (va & (uint64_t)~(WP_LSIZE(level) - 1));
*/
static inline uint64_t pt_entry_base(uint64_t va, unsigned level);

/* ---- range validation (table.c) ---- */

/*@ assigns \nothing;
    ensures \result <==> WP_ALIGNED(x, 1);
*/
static bool page_aligned(uint64_t x);

/*
 * design §5: EINVAL (NULL, empty, wrapping), then EALIGN, then ERANGE
 * (outside the table's half, non-canonical), then EPERM (writing the shared
 * kernel half through a user table).  va + len may be exactly 2^64.
 */
/*@ requires t == \null || (\valid_read(t) && \valid_read(t->fmt));
    assigns \nothing;
    behavior einval:
      assumes t == \null || len == 0 || va + len > WP_2_64;
      ensures \result == PT_EINVAL;
    behavior ealign:
      assumes t != \null && len != 0 && va + len <= WP_2_64;
      assumes !WP_ALIGNED(va, 1) || !WP_ALIGNED(len, 1);
      ensures \result == PT_EALIGN;
    behavior user_half:
      assumes t != \null && len != 0 && va + len <= WP_2_64;
      assumes WP_ALIGNED(va, 1) && WP_ALIGNED(len, 1);
      assumes va + len - 1 < t->fmt->user_end;
      ensures t->tree.space == PT_SPACE_USER ==> \result == 0;
      ensures t->tree.space != PT_SPACE_USER ==> \result == PT_ERANGE;
    behavior hole:
      assumes t != \null && len != 0 && va + len <= WP_2_64;
      assumes WP_ALIGNED(va, 1) && WP_ALIGNED(len, 1);
      assumes va + len - 1 >= t->fmt->user_end && va < t->fmt->kernel_start;
      ensures \result == PT_ERANGE;
    behavior kernel_half:
      assumes t != \null && len != 0 && va + len <= WP_2_64;
      assumes WP_ALIGNED(va, 1) && WP_ALIGNED(len, 1);
      assumes va + len - 1 >= t->fmt->user_end && va >= t->fmt->kernel_start;
      ensures t->tree.space == PT_SPACE_KERNEL ==> \result == 0;
      ensures t->tree.space != PT_SPACE_KERNEL && t->kernel == \null ==> \result == PT_ERANGE;
      ensures t->tree.space != PT_SPACE_KERNEL && t->kernel != \null ==>
                \result == (write ? PT_EPERM : 0);
    complete behaviors;
    disjoint behaviors;
*/
static int range_check(const struct pt_table *t, uint64_t va, uint64_t len, bool write);

/* A physical range: page aligned, non-empty, below the format's limit. */
/*@ requires \valid_read(t) && \valid_read(t->fmt);
    assigns \nothing;
    behavior ealign:
      assumes !WP_ALIGNED(pa, 1);
      ensures \result == PT_EALIGN;
    behavior empty:
      assumes WP_ALIGNED(pa, 1) && len == 0;
      ensures \result == PT_ERANGE;
    behavior erange:
      assumes WP_ALIGNED(pa, 1) && len != 0;
      assumes pa + len > t->fmt->pa_limit;
      ensures \result == PT_ERANGE;
    behavior ok:
      assumes WP_ALIGNED(pa, 1);
      assumes len != 0 && pa + len <= t->fmt->pa_limit;
      ensures \result == 0;
    complete behaviors;
    disjoint behaviors;
*/
static int pa_check(const struct pt_table *t, uint64_t pa, uint64_t len);

/* The largest leaf at va: the table's cap, one level below the root in a
 * shared kernel half (whose root slots hold the shared nodes). */
/*@ requires \valid_read(t) && \valid_read(t->fmt);
    requires t->fmt->levels >= 1;
    assigns \nothing;
    ensures \result <= t->max_leaf_level;
    ensures t->fmt->shared_kernel_root && va >= t->fmt->kernel_start ==>
              \result < t->fmt->levels;
    ensures \result == t->max_leaf_level ||
              (t->fmt->shared_kernel_root && va >= t->fmt->kernel_start &&
               \result == t->fmt->levels - 1);
*/
static unsigned max_leaf_at(const struct pt_table *t, uint64_t va);

/* ---- the page-size choice of map (cursor_template.h) ---- */

/*@ assigns \nothing;
    ensures \result == (a < b ? a : b);
*/
static inline uint64_t pt_min_u64(uint64_t a, uint64_t b);

/*@ assigns \nothing;
    ensures \result == (a > b ? a : b);
*/
static inline uint64_t pt_max_u64(uint64_t a, uint64_t b);

/* The part of [va, last] in entry s->i of a node at s->level whose first
 * byte is s->node_base: the node is aligned to its own size, so the entry
 * never wraps. */
/*@ requires \valid(s);
    requires 1 <= s->level <= 4;
    requires WP_ALIGNED(s->node_base, s->level + 1);
    requires s->i < PT_NR_ENTRIES;
    requires va <= last;
    assigns s->base, s->lo, s->hi, s->whole;
    ensures base: s->base == s->node_base + s->i * WP_LSIZE(s->level);
    ensures end: s->base + WP_LSIZE(s->level) - 1 < WP_2_64;
    ensures lo: s->lo == (va > s->base ? va : s->base);
    ensures hi: s->hi == (last < s->base + WP_LSIZE(s->level) - 1 ? last :
                          s->base + WP_LSIZE(s->level) - 1);
    ensures whole: s->whole <==> (va <= s->base && s->base + WP_LSIZE(s->level) - 1 <= last);
*/
static inline void entry_iter_set(struct entry_iter *s, uint64_t va, uint64_t last);

/*@ requires \valid_read(src) && src->frames == \null;
    assigns \nothing;
    ensures \result == (uint64_t)(src->pa + (uint64_t)(va - src->va));
*/
static inline uint64_t src_pa(const struct pt_map_src *src, uint64_t va);

/* Whether the entry spanned by s takes a leaf: always at level 1; above,
 * iff the level is allowed, the entry lies whole inside the range and its
 * physical address is aligned to the entry size. */
/*@ requires \valid_read(src) && \valid_read(s);
    requires 1 <= s->level <= 4;
    requires src->frames == \null;
    assigns \nothing;
    ensures \result <==> (s->level == 1 ||
              (s->level <= src->max_level && s->whole &&
               WP_ALIGNED((uint64_t)(src->pa + (uint64_t)(s->lo - src->va)), s->level)));
*/
static inline bool src_leaf_here(const struct pt_map_src *src, const struct entry_iter *s);

/*
 * The page map chooses at a position x of [va, last].  At each level the
 * walks of map_prepare and map_commit look at x's entry: in the node whose
 * first byte is x with the node's offset bits clear (pt_entry_base(x, L + 1)),
 * entry pt_index(x, L) (for_each_entry_in), and going down from the highest leaf
 * level, the first level whose entry src_leaf_here accepts takes the leaf.
 * wp_leaf_level() is that choice; it proves the chosen page aligned (its
 * entry starts at an aligned address inside the range, and pa there is
 * aligned) and maximal (at no higher level is x's entry allowed, whole in
 * the range and pa-aligned).
 */
#define WP_NODE(x, L) ((x) & (uint64_t)~(WP_LSIZE((L) + 1) - 1))
#define WP_EBASE(x, L) (WP_NODE(x, L) + ((unsigned)((x) >> WP_LSHIFT(L)) & 511) * WP_LSIZE(L))
#define WP_PA_AT(v) ((uint64_t)(src->pa + (uint64_t)((v) - src->va)))
#define WP_CAN(x, L)                                                            \
	((L) <= src->max_level && va <= WP_EBASE(x, L) &&                         \
	 WP_EBASE(x, L) + WP_LSIZE(L) - 1 <= last && WP_ALIGNED(WP_PA_AT(WP_EBASE(x, L)), L))

#if FMT_MAX_LEAF_LEVEL != 3
#error "wp_leaf_level below is written for a highest leaf level of 3"
#endif

/*@ requires \valid_read(src) && src->frames == \null;
    requires src->max_level <= FMT_MAX_LEAF_LEVEL;
    requires va <= x <= last;
    assigns \nothing;
    ensures 1 <= \result <= FMT_MAX_LEAF_LEVEL;
    ensures chosen_1g: \result == 3 ==> WP_CAN(x, 3);
    ensures chosen_2m: \result == 2 ==> WP_CAN(x, 2);
    ensures aligned_1g: \result == 3 ==> WP_ALIGNED(WP_EBASE(x, 3), 3);
    ensures aligned_2m: \result == 2 ==> WP_ALIGNED(WP_EBASE(x, 2), 2);
    ensures maximal_1g: \result < 3 ==> !WP_CAN(x, 3);
    ensures maximal_2m: \result < 2 ==> !WP_CAN(x, 2);
*/
unsigned wp_leaf_level(const struct pt_map_src *src, uint64_t va, uint64_t last, uint64_t x)
{
	struct entry_iter s;

	s.level = 3;
	s.node_base = pt_entry_base(x, 4);
	s.i = pt_index(x, 3);
	entry_iter_set(&s, va, last);
	if (src_leaf_here(src, &s))
		return 3;
	s.level = 2;
	s.node_base = pt_entry_base(x, 3);
	s.i = pt_index(x, 2);
	entry_iter_set(&s, va, last);
	if (src_leaf_here(src, &s))
		return 2;
	return 1;
}
