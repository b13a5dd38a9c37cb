/* SPDX-License-Identifier: MPL-2.0 */
/*
 * entry.c - WP proof of the seed's entry-layer contracts on ptkit's entry
 * layer (src/nodes/entry_template.h, compiled for x86-64), issue 18.
 *
 * The memory model is one node: its 512 PTE slots n.ptes[0..511], its
 * metadata n.meta (level, nr_children, nr_tracked, nr_nodes), and the
 * frame metadata of every other frame (reference counts, usage tags): the
 * assigns clauses say which of these an operation may write, and
 * wp_frames_kept says that no reference count or usage tag changes.  The
 * node invariants (design §4 rule 1, and the counters of table entries and
 * tracked leaves) are counts over the slots, wp_count() below; each
 * operation requires them and ensures how each counter moves with the
 * slot it writes (the seed's +1/-1).  That the counts then still match is
 * lemma count_update; the provers do not find its instance in the
 * operations' goals, so pt_check keeps checking rule 1 (design §3).
 *
 * C11 atomics are the specified stubs of wp_atomic.h.  As in engine.c, the
 * real sources are included and their functions re-declared with
 * contracts, so WP proves each contract against the real body.  The
 * format functions the entry layer calls get contracts here in the terms
 * the entry layer needs (fmt_x86_64.c proves their round trips).
 *
 * run_wp.sh proves this file in parts (see fmt_x86_64.c); the lemma groups
 * are WP_LEAF_BITS (bits of a leaf), WP_COUNT (counts of slots) and WP_HW
 * (the hardware-set bits are none of a slot's kind bits).  The
 * count lemmas and the goals that use them go to cvc4: z3 does not find
 * the instances their induction steps need.
 *
 * WP-PROVERS: qed,script,z3,cvc4
 * WP-PART: : pt_level_size fmt_pte_present fmt_pte_is_leaf fmt_pte_is_table fmt_pte_tracked
 * WP-PART: : fmt_pte_table fmt_pte_table_pa x86_addr_mask x86_pat_bit x86_pat_index
 * WP-PART: : x86_cache_of_index fmt_pte_leaf_pa fmt_pte_leaf_prop
 * WP-PART: WP_LEAF_BITS : fmt_pte_leaf
 * WP-PART: : pt_node_level pt_pte_load entry_store entry_publish entry_is_none
 * WP-PART: : entry_is_node child_from_pte
 * WP-PART: WP_LEAF_BITS : child_into_pte
 * WP-PART: WP_COUNT : entry_replace : -wp-prover qed,script,cvc4
 * WP-PART: WP_COUNT : entry_clear entry_publish_new : -wp-prover qed,script,cvc4
 * WP-PART: : fmt_update_needs_break fmt_resize_needs_break entry_or_all entry_break
 * WP-PART: : entry_swap_keeping_hw entry_rewrite_leaf
 * WP-PART: WP_LEAF_BITS WP_HW : entry_protect
 * WP-PART: : entry_fill_run
 * WP-PART: WP_LEAF_BITS WP_HW : entry_publish_split
 */
#include "wp_atomic.h"
#include "wp_bits.h" /* before the sources: their loop annotations use bit_test */

#include "formats/x86_64.h"
#include "nodes/entry_template.h"

/* ---- what a PTE is (x86-64; the bodies of fmt_pte_*, bit by bit) ---- */

#define WP_PRESENT(x) (bit_test(x, 0) || bit_test(x, 10))
#define WP_LEAF(x, L) ((L) == 1 || bit_test(x, 7) || !bit_test(x, 0))
#define WP_TABLE(x, L) ((L) > 1 && bit_test(x, 0) && !bit_test(x, 7))
#define WP_TRACKED(x) bit_test(x, 9)
/* The address of a node a table entry points to. */
#define WP_TABLE_PA(x) ((x) & 0xffffffffff000)

/*@
  // The three counts a node keeps (design §3-4): present slots
  // (k = 0: nr_children), table slots (1: nr_nodes), tracked leaves
  // (2: nr_tracked).
  logic integer wp_one(integer x, integer L, integer k) =
    (k == 0 ? WP_PRESENT(x) :
     k == 1 ? WP_TABLE(x, L) :
              WP_PRESENT(x) && WP_LEAF(x, L) && WP_TRACKED(x)) ? 1 : 0;

  // How many of the slots p[0..n-1] of a node at level L are of kind k.
  logic integer wp_count{M}(uint64_t *p, integer n, integer L, integer k) =
    n <= 0 ? 0 : wp_count{M}(p, n - 1, L, k) + wp_one(\at(p[n - 1], M), L, k);
*/

#ifdef WP_LEAF_BITS
/*@
  // Bit 9 (tracked) of a leaf comes from the `tracked` argument only: an
  // aligned pa and the software bits (52..55) leave it clear (proofs:
  // WP's bit tactics, scripts/entry/).
  lemma aligned_4k: \forall integer x; (x & 0xfff) == 0 ==>
    WP_Z4(x, 0) && WP_Z4(x, 4) && WP_Z4(x, 8);
  lemma sw_bit9: \forall integer y; 0 <= y <= 15 ==> !bit_test((uint64_t)(y << 52), 9);
  // The bits of the constants a leaf is made of (see wp_bits.h).
  WP_CONST_BITS(0, 0)       WP_CONST_BITS(1, 1)       WP_CONST_BITS(2, 2)
  WP_CONST_BITS(4, 4)       WP_CONST_BITS(8, 8)       WP_CONST_BITS(16, 16)
  WP_CONST_BITS(32, 32)     WP_CONST_BITS(64, 64)     WP_CONST_BITS(128, 128)
  WP_CONST_BITS(256, 256)   WP_CONST_BITS(512, 512)   WP_CONST_BITS(1024, 1024)
  WP_CONST_BITS(4096, 4096) WP_CONST_BITS(nx, 0x8000000000000000)
  WP_CONST_BITS(15, 15)
*/
#endif

#ifdef WP_COUNT
/*@
  // Proofs: WP's Induction tactic on n, replayed from scripts/entry/.
  lemma count_range{M}: \forall uint64_t *p, integer n, L, k;
    0 <= n ==> 0 <= wp_count{M}(p, n, L, k) <= n;
  // A slot that does not count leaves room below n; one that counts is
  // counted.
  lemma count_room{M}: \forall uint64_t *p, integer n, i, L, k;
    0 <= i < n ==> wp_one(\at(p[i], M), L, k) == 0 ==> wp_count{M}(p, n, L, k) < n;
  lemma count_pos{M}: \forall uint64_t *p, integer n, i, L, k;
    0 <= i < n ==> wp_one(\at(p[i], M), L, k) == 1 ==> wp_count{M}(p, n, L, k) >= 1;
  // Writing slot i of p[0..N-1] (and no other) changes the count of each
  // prefix that holds it by what slot i counted before and after; a prefix
  // without it keeps its count.
  lemma count_update{M1, M2}: \forall uint64_t *p, integer N, n, i, L, k;
    (\forall integer j; 0 <= j < N && j != i ==> \at(p[j], M1) == \at(p[j], M2)) ==>
    n <= N ==>
    wp_count{M2}(p, n, L, k) == wp_count{M1}(p, n, L, k) +
      (0 <= i < n ? wp_one(\at(p[i], M2), L, k) - wp_one(\at(p[i], M1), L, k) : 0);
*/
#endif

/* ---- the format's entry functions, as the entry layer sees them ---- */

/*@ requires 1 <= level <= 6;
    assigns \nothing;
    ensures \result == WP_LSIZE(level);
*/
static inline uint64_t pt_level_size(unsigned level);

/*@ assigns \nothing;
    ensures \result <==> WP_PRESENT(pte);
*/
static inline bool fmt_pte_present(pt_pte_t pte);

/*@ assigns \nothing;
    ensures \result <==> WP_LEAF(pte, level);
*/
static inline bool fmt_pte_is_leaf(pt_pte_t pte, unsigned level);

/*@ assigns \nothing;
    ensures \result <==> WP_TABLE(pte, level);
*/
static inline bool fmt_pte_is_table(pt_pte_t pte, unsigned level);

/*@ assigns \nothing;
    ensures \result <==> WP_TRACKED(pte);
*/
static inline bool fmt_pte_tracked(pt_pte_t pte);

/* A table entry: present, a table (not a leaf) at every level above 1. */
/*@ requires (pa & 0xfff) == 0;
    assigns \nothing;
    ensures present: WP_PRESENT(\result);
    ensures table: bit_test(\result, 0) && !bit_test(\result, 7);
*/
static inline pt_pte_t fmt_pte_table(uint64_t pa);

/*@ assigns \nothing;
    ensures \result == WP_TABLE_PA(pte);
*/
static inline uint64_t fmt_pte_table_pa(pt_pte_t pte);

/*@ requires 1 <= level <= FMT_MAX_LEAF_LEVEL;
    assigns \nothing;
    ensures !bit_test(\result, 9);
    ensures aligned: WP_Z4(\result, 0) && WP_Z4(\result, 4) && WP_Z4(\result, 8);
*/
static inline uint64_t x86_addr_mask(unsigned level);

/*@ assigns \nothing;
    ensures \result == 0x80 || \result == 0x1000;
*/
static inline uint64_t x86_pat_bit(unsigned level);

/*@ requires cache < PT_CACHE_COUNT;
    assigns \nothing;
*/
static inline unsigned x86_pat_index(uint32_t cache, uint32_t features);

/*@ requires idx < 8;
    assigns \nothing;
*/
static inline uint32_t x86_cache_of_index(unsigned idx, uint32_t features);

/* A leaf: present, a leaf at its level, tracked as asked. */
/*@ requires 1 <= level <= FMT_MAX_LEAF_LEVEL;
    requires p.cache < PT_CACHE_COUNT;
    requires aligned: WP_Z4(pa, 0) && WP_Z4(pa, 4) && WP_Z4(pa, 8);
    assigns \nothing;
    ensures present: WP_PRESENT(\result);
    ensures leaf: WP_LEAF(\result, level) && !WP_TABLE(\result, level);
    ensures tracked_r: bit_test(p.flags, 0) ==> (WP_TRACKED(\result) <==> tracked);
    ensures tracked_n: !bit_test(p.flags, 0) ==> (WP_TRACKED(\result) <==> tracked);
*/
static inline pt_pte_t fmt_pte_leaf(uint64_t pa, unsigned level, struct pt_prop p,
				    bool tracked, uint32_t features);

/*@ requires 1 <= level <= FMT_MAX_LEAF_LEVEL;
    assigns \nothing;
    ensures aligned: WP_Z4(\result, 0) && WP_Z4(\result, 4) && WP_Z4(\result, 8);
*/
static inline uint64_t fmt_pte_leaf_pa(pt_pte_t pte, unsigned level);

/* x86-64 never breaks before make. */
/*@ assigns \nothing;
    ensures !\result;
*/
static inline bool fmt_update_needs_break(pt_pte_t old, pt_pte_t new);

/*@ assigns \nothing;
    ensures !\result;
*/
static inline bool fmt_resize_needs_break(uint32_t features);

/*@ requires 1 <= level <= FMT_MAX_LEAF_LEVEL;
    assigns \nothing;
*/
static inline struct pt_prop fmt_pte_leaf_prop(pt_pte_t pte, unsigned level,
					       uint32_t features);

/* ---- one node ---- */

/*@ predicate wp_node{M}(struct pt_node n) =
      \valid(n.ptes + (0 .. PT_NR_ENTRIES - 1)) && \valid(n.meta) &&
      \separated(n.ptes + (0 .. PT_NR_ENTRIES - 1), n.meta);

    // The node invariants: rule 1 (nr_children counts the present slots),
    // and the two counters the walks use to skip whole subtrees.  A leaf
    // sits no higher than the format allows (rule 3).
    predicate wp_inv_children{M}(struct pt_node n) =
      n.meta->nr_children == wp_count(n.ptes, PT_NR_ENTRIES, n.meta->level, 0);
    predicate wp_inv_nodes{M}(struct pt_node n) =
      n.meta->nr_nodes == wp_count(n.ptes, PT_NR_ENTRIES, n.meta->level, 1);
    predicate wp_inv_tracked{M}(struct pt_node n) =
      n.meta->nr_tracked == wp_count(n.ptes, PT_NR_ENTRIES, n.meta->level, 2);
    predicate wp_node_inv{M}(struct pt_node n) =
      1 <= n.meta->level <= FMT_LEVELS &&
      wp_inv_children(n) && wp_inv_nodes(n) && wp_inv_tracked(n);

    // Frame metadata other than the node's own counters: reference counts
    // and ownership tags of every frame the node's slots do not overlay.
    predicate wp_frames_kept{M1, M2}(struct pt_node n) =
      \forall struct pt_frame_meta *m; \separated(m, n.ptes + (0 .. PT_NR_ENTRIES - 1)) ==>
        \at(m->refcount, M1) == \at(m->refcount, M2) &&
        \at(m->usage, M1) == \at(m->usage, M2);
*/

/*@ requires \valid_read(n.meta);
    assigns \nothing;
    ensures \result == n.meta->level;
*/
static inline unsigned pt_node_level(struct pt_node n);

/*@ requires \valid_read(n.ptes + idx);
    assigns \nothing;
    ensures \result == n.ptes[idx];
*/
static inline uint64_t pt_pte_load(struct pt_node n, unsigned idx);

/*@ requires \valid(n.ptes + idx);
    assigns n.ptes[idx];
    ensures n.ptes[idx] == pte;
*/
static inline void entry_store(struct pt_node n, unsigned idx, pt_pte_t pte);

/*@ requires \valid(n.ptes + idx);
    assigns n.ptes[idx];
    ensures n.ptes[idx] == pte;
*/
static inline void entry_publish(struct pt_node n, unsigned idx, pt_pte_t pte);

/* ---- the seed's is_none, is_node, to_ref ---- */

/* seed: is_none returns owner.is_absent() */
/*@ assigns \nothing;
    ensures \result <==> !WP_PRESENT(pte);
*/
static inline bool entry_is_none(pt_pte_t pte);

/* seed: is_node returns owner.is_node(): present and not last */
/*@ requires level >= 1;
    assigns \nothing;
    ensures \result <==> (WP_PRESENT(pte) && !WP_LEAF(pte, level));
*/
static inline bool entry_is_node(pt_pte_t pte, unsigned level);

/* seed: to_ref / Child::from_pte: what a slot stands for; a node one
 * level down, a frame at this level */
/*@ requires 1 <= level <= FMT_LEVELS;
    requires WP_PRESENT(pte) && WP_LEAF(pte, level) ==> level <= FMT_MAX_LEAF_LEVEL;
    assigns \nothing;
    ensures none: \result.kind == CHILD_NONE <==> !WP_PRESENT(pte);
    ensures node: \result.kind == CHILD_NODE <==> (WP_PRESENT(pte) && !WP_LEAF(pte, level));
    ensures frame: \result.kind == CHILD_FRAME <==> (WP_PRESENT(pte) && WP_LEAF(pte, level));
    ensures node_at: \result.kind == CHILD_NODE ==>
              \result.level == level - 1 && \result.pa == WP_TABLE_PA(pte);
    ensures frame_at: \result.kind == CHILD_FRAME ==>
              \result.level == level && (\result.tracked <==> WP_TRACKED(pte));
*/
static struct child child_from_pte(pt_pte_t pte, unsigned level, uint32_t features);

/* A child the slot of a node at level L can hold (the seed's replace
 * requires: a node one level down, a frame at this level). */
/*@ predicate wp_child_fits(struct child c, integer L) =
      (c.kind == CHILD_NONE || c.kind == CHILD_NODE || c.kind == CHILD_FRAME) &&
      (c.kind == CHILD_NODE ==> c.level == L - 1 && L > 1 && (c.pa & 0xfff) == 0) &&
      (c.kind == CHILD_FRAME ==> c.level == L && L <= FMT_MAX_LEAF_LEVEL &&
                                 c.prop.cache < PT_CACHE_COUNT && (c.pa & 0xfff) == 0);
    // How the slot value of child c counts in a node at level L.
    logic integer wp_child_one(struct child c, integer L, integer k) =
      c.kind == CHILD_NONE ? 0 :
      k == 0 ? 1 :
      k == 1 ? (c.kind == CHILD_NODE ? 1 : 0) :
               (c.kind == CHILD_FRAME && c.tracked ? 1 : 0);
*/

/* Child::into_pte: the slot value of a child, which counts as the child. */
/*@ requires \valid_read(c);
    requires c->kind == CHILD_NONE || c->kind == CHILD_NODE || c->kind == CHILD_FRAME;
    requires c->kind == CHILD_NODE ==> (c->pa & 0xfff) == 0;
    requires c->kind == CHILD_FRAME ==>
               1 <= c->level <= FMT_MAX_LEAF_LEVEL && c->prop.cache < PT_CACHE_COUNT &&
               (c->pa & 0xfff) == 0;
    assigns \nothing;
    ensures none: c->kind == CHILD_NONE ==> \result == 0;
    ensures node: c->kind == CHILD_NODE ==>
              WP_PRESENT(\result) && bit_test(\result, 0) && !bit_test(\result, 7);
    ensures frame: c->kind == CHILD_FRAME ==>
              WP_PRESENT(\result) && WP_LEAF(\result, c->level) &&
              !WP_TABLE(\result, c->level) && (WP_TRACKED(\result) <==> c->tracked);
*/
static pt_pte_t child_into_pte(const struct child *c, uint32_t features);

/* ---- the seed's replace ---- */

/*
 * seed: replace(new) stores the new child and returns the old one;
 * nr_children +1 when an absent slot becomes present, -1 when a present
 * one becomes absent; a node child one level below, a frame child at this
 * level (requires); the node's invariants hold after; no reference count
 * or ownership tag of any frame changes (the seed's "ref_count is
 * preserved per-slot": the slot takes over the caller's reference).
 */
/*@ requires wp_node(n) && wp_node_inv(n);
    requires idx < PT_NR_ENTRIES;
    requires \valid_read(new) && \separated(new, n.meta, n.ptes + (0 .. PT_NR_ENTRIES - 1));
    requires wp_child_fits(*new, n.meta->level);
    requires old_leaf: WP_PRESENT(n.ptes[idx]) && WP_LEAF(n.ptes[idx], n.meta->level) ==>
               n.meta->level <= FMT_MAX_LEAF_LEVEL;
    assigns n.ptes[idx], n.meta->nr_children, n.meta->nr_tracked, n.meta->nr_nodes;
    ensures level: n.meta->level == \old(n.meta->level);
    ensures bound: n.meta->nr_children <= PT_NR_ENTRIES;
    ensures inc: !WP_PRESENT(\old(n.ptes[idx])) && new->kind != CHILD_NONE ==>
              n.meta->nr_children == \old(n.meta->nr_children) + 1;
    ensures dec: WP_PRESENT(\old(n.ptes[idx])) && new->kind == CHILD_NONE ==>
              n.meta->nr_children == \old(n.meta->nr_children) - 1;
    ensures same: WP_PRESENT(\old(n.ptes[idx])) == (new->kind != CHILD_NONE) ==>
              n.meta->nr_children == \old(n.meta->nr_children);
    ensures nodes: n.meta->nr_nodes == \old(n.meta->nr_nodes) +
              wp_child_one(*new, n.meta->level, 1) - wp_one(\old(n.ptes[idx]), n.meta->level, 1);
    ensures tracked: n.meta->nr_tracked == \old(n.meta->nr_tracked) +
              wp_child_one(*new, n.meta->level, 2) - wp_one(\old(n.ptes[idx]), n.meta->level, 2);
    ensures stored: WP_PRESENT(n.ptes[idx]) <==> new->kind != CHILD_NONE;
    ensures others: \forall integer j; 0 <= j < PT_NR_ENTRIES && j != idx ==>
              n.ptes[j] == \old(n.ptes[j]);
    ensures old_none: \result.kind == CHILD_NONE <==> !WP_PRESENT(\old(n.ptes[idx]));
    ensures old_node: \result.kind == CHILD_NODE ==>
              \result.pa == WP_TABLE_PA(\old(n.ptes[idx])) && \result.level == n.meta->level - 1;
    ensures old_frame: \result.kind == CHILD_FRAME ==> \result.level == n.meta->level;
    ensures frames: wp_frames_kept{Pre, Post}(n);
*/
static struct child entry_replace(struct pt_node n, unsigned idx, const struct child *new,
				  uint32_t features);

/*
 * seed: replace(None) on a present leaf (unmap's hot path, no decode): the
 * slot becomes absent, nr_children drops by one, the node's invariants hold
 * after; a live table exchanges, so the caller gets the leaf's value with
 * what the hardware set since it read it.
 */
/*@ requires wp_node(n) && wp_node_inv(n);
    requires idx < PT_NR_ENTRIES;
    requires WP_PRESENT(n.ptes[idx]) && WP_LEAF(n.ptes[idx], n.meta->level);
    requires read: !live ==> old == n.ptes[idx];
    assigns n.ptes[idx], n.meta->nr_children, n.meta->nr_tracked;
    ensures absent: n.ptes[idx] == 0;
    ensures dec: n.meta->nr_children == \old(n.meta->nr_children) - 1;
    ensures level: n.meta->level == \old(n.meta->level);
    ensures result: \result == \old(n.ptes[idx]);
    ensures frames: wp_frames_kept{Pre, Post}(n);
*/
static inline pt_pte_t entry_clear(bool live, struct pt_node n, unsigned idx, pt_pte_t old);

/* seed: alloc_if_none's install (and split's): an absent slot gets the new
 * node one level down; nr_children and nr_nodes +1; invariants after. */
/*@ requires wp_node(n) && wp_node_inv(n);
    requires idx < PT_NR_ENTRIES;
    requires !WP_PRESENT(n.ptes[idx]);
    requires \valid_read(child.meta) && \separated(child.meta, n.meta) &&
             \separated(child.meta, n.ptes + (0 .. PT_NR_ENTRIES - 1));
    requires child.meta->level == n.meta->level - 1 && n.meta->level > 1;
    requires (child.pa & 0xfff) == 0;
    assigns n.ptes[idx], n.meta->nr_children, n.meta->nr_tracked, n.meta->nr_nodes;
    ensures inc: n.meta->nr_children == \old(n.meta->nr_children) + 1;
    ensures nodes: n.meta->nr_nodes == \old(n.meta->nr_nodes) + 1;
    ensures level: n.meta->level == \old(n.meta->level);
    ensures node: WP_PRESENT(n.ptes[idx]);
    ensures frames: wp_frames_kept{Pre, Post}(n);
*/
static void entry_publish_new(struct pt_node n, unsigned idx, struct pt_node child,
			      uint32_t features);

/* ---- the seed's protect ---- */

/* The invalidation of break-before-make writes nothing of the node (it
 * delivers to the table's flush sink).  A prototype: this contract is
 * assumed, as the atomic stubs' are. */
/*@ assigns \nothing; */
void pt__invalidate_now(const struct pt_flush_sink *sink, uint64_t va, uint64_t len,
			bool nodes_removed);

/* Break-before-make's break: the slot becomes absent, its old value is
 * returned (x86-64 never calls it: fmt_*_needs_break are false). */
/*@ requires \valid_read(t) && \valid_read(n.meta) && \valid(n.ptes + idx);
    requires 1 <= n.meta->level <= 6;
    assigns n.ptes[idx];
    ensures n.ptes[idx] == 0 && \result == \old(n.ptes[idx]);
*/
static pt_pte_t entry_break(const struct pt_tree *t, struct pt_node n, unsigned idx,
			    uint64_t va, bool nodes_removed);

/* a and b differ at most in the bits the hardware sets (A and D): every
 * bit that makes a slot's kind (present, leaf, tracked) and its address and
 * properties are the same.  A macro, not a predicate: the provers
 * instantiate the quantifier at the bits they need only when it is inline. */
#define WP_HW_APART(a, b)                                                     \
	(\forall integer k; 0 <= k < 64 && !bit_test(WP_ATOMIC_HW_BITS, k) ==>  \
		(bit_test(a, k) <==> bit_test(b, k)))

#ifdef WP_HW
/*@ // The bits that make a slot's kind (present: 0, 10; leaf: 7; tracked:
    // 9) are not hardware bits: a value apart from another by hardware bits
    // only, or with some of them added, is of the same kind.
    WP_CONST_BITS(hw, WP_ATOMIC_HW_BITS)
    // (One lemma per bit: z3 instantiates the quantifier once per goal.)
    lemma hw_apart_0: \forall integer a, b; WP_HW_APART(a, b) ==>
      (bit_test(a, 0) <==> bit_test(b, 0));
    lemma hw_apart_7: \forall integer a, b; WP_HW_APART(a, b) ==>
      (bit_test(a, 7) <==> bit_test(b, 7));
    lemma hw_apart_9: \forall integer a, b; WP_HW_APART(a, b) ==>
      (bit_test(a, 9) <==> bit_test(b, 9));
    lemma hw_apart_10: \forall integer a, b; WP_HW_APART(a, b) ==>
      (bit_test(a, 10) <==> bit_test(b, 10));
    lemma hw_or_kind: \forall integer l, y;
      (bit_test(l | (0x60 & y), 0) <==> bit_test(l, 0)) &&
      (bit_test(l | (0x60 & y), 7) <==> bit_test(l, 7)) &&
      (bit_test(l | (0x60 & y), 9) <==> bit_test(l, 9)) &&
      (bit_test(l | (0x60 & y), 10) <==> bit_test(l, 10));
*/
#endif

/* The hardware's bits during a split go into every piece. */
/*@ requires \valid(n.ptes + (0 .. PT_NR_ENTRIES - 1));
    requires hw: \forall integer k; 0 <= k < 64 && !bit_test(WP_ATOMIC_HW_BITS, k) ==>
               !bit_test(bits, k);
    assigns n.ptes[0 .. PT_NR_ENTRIES - 1];
    ensures ored: \forall integer j; 0 <= j < PT_NR_ENTRIES ==>
              n.ptes[j] == (\old(n.ptes[j]) | bits);
    ensures kind: \forall integer j; 0 <= j < PT_NR_ENTRIES ==>
              WP_HW_APART(n.ptes[j], \old(n.ptes[j]));
*/
static void entry_or_all(struct pt_node n, pt_pte_t bits);

/* A live table's rewrite: the slot ends as `new`, plus what the hardware set
 * (a leaf) or with what it set copied into the pieces (a split). */
/*@ requires \valid(n.ptes + idx);
    requires pieces != \null ==>
               \valid_read(pieces) && \valid(pieces->ptes + (0 .. PT_NR_ENTRIES - 1)) &&
               \separated(pieces, n.ptes + idx) &&
               \separated(pieces->ptes + (0 .. PT_NR_ENTRIES - 1), n.ptes + idx);
    assigns n.ptes[idx], pieces->ptes[0 .. (pieces == \null ? -1 : PT_NR_ENTRIES - 1)];
    ensures hw: WP_HW_APART(n.ptes[idx], new);
    ensures pieces: pieces != \null ==> \forall integer j; 0 <= j < PT_NR_ENTRIES ==>
              WP_HW_APART(pieces->ptes[j], \old(pieces->ptes[j]));
*/
static void entry_swap_keeping_hw(struct pt_node n, unsigned idx, pt_pte_t old, pt_pte_t new,
				  const struct pt_node *pieces);

/*@ requires \valid_read(t) && \valid(n.ptes + idx) && \separated(t, n.ptes + idx);
    assigns n.ptes[idx];
    ensures hw: WP_HW_APART(n.ptes[idx], new);
*/
static void entry_rewrite_leaf(const struct pt_tree *t, struct pt_node n, unsigned idx,
			       uint64_t va, pt_pte_t old, pt_pte_t new);

/*
 * seed: protect(prop) of a present leaf: only its properties change (the
 * slot stays a present leaf, tracked as before), so it counts as before in
 * each of the node's counters; nr_children (and every other counter of the
 * node), the other slots, every reference count and usage tag unchanged.
 * That its address is unchanged is fmt_x86_64.c's round trip (the address
 * bits are not hardware bits) and stays a run-time assertion here.
 */
/*@ requires wp_node(n);
    requires \valid_read(t) && \separated(t, n.meta, n.ptes + (0 .. PT_NR_ENTRIES - 1));
    requires idx < PT_NR_ENTRIES;
    requires 1 <= n.meta->level <= FMT_MAX_LEAF_LEVEL;
    requires leaf: WP_PRESENT(n.ptes[idx]) && WP_LEAF(n.ptes[idx], n.meta->level);
    requires prop.cache < PT_CACHE_COUNT;
    assigns n.ptes[idx];
    ensures leaf: WP_PRESENT(n.ptes[idx]) && WP_LEAF(n.ptes[idx], n.meta->level) &&
              !WP_TABLE(n.ptes[idx], n.meta->level);
    ensures tracked: WP_TRACKED(n.ptes[idx]) <==> WP_TRACKED(\old(n.ptes[idx]));
    ensures counts: \forall integer k; 0 <= k <= 2 ==>
              wp_one(n.ptes[idx], n.meta->level, k) == wp_one(\old(n.ptes[idx]), n.meta->level, k);
    ensures children: n.meta->nr_children == \old(n.meta->nr_children);
    ensures frames: wp_frames_kept{Pre, Post}(n);
*/
static void entry_protect(const struct pt_tree *t, struct pt_node n, unsigned idx,
			  uint64_t va, pt_pte_t seen_hw, struct pt_prop prop);

/* ---- the seed's split_if_mapped_huge (what WP follows of it) ---- */

/* The new child's leaves: slot i0 is `first`, the run's slots are the only
 * ones written, nr_children grows by the run's length.  (That each next slot
 * is the one before plus the step is not proved: the provers do not follow
 * the array update through the 32-bit loop counter; unit tests and pt_check
 * see every piece.) */
/*@ requires \valid(n.ptes + (0 .. PT_NR_ENTRIES - 1)) && \valid(n.meta) &&
             \separated(n.ptes + (0 .. PT_NR_ENTRIES - 1), n.meta);
    requires i0 <= i1 < PT_NR_ENTRIES;
    requires n.meta->nr_children + (i1 - i0 + 1) <= PT_NR_ENTRIES;
    assigns n.ptes[i0 .. i1], n.meta->nr_children;
    ensures children: n.meta->nr_children == \old(n.meta->nr_children) + (i1 - i0 + 1);
    ensures first: n.ptes[i0] == first;
*/
static void entry_fill_run(struct pt_node n, unsigned i0, unsigned i1, pt_pte_t first,
			   int64_t step);

/* The split's publication: the parent's slot becomes a table entry for the
 * child (nothing else of the parent changes: nr_children stays, as the
 * seed's split_if_mapped_huge says); the pieces gain hardware bits only. */
/*@ requires wp_node(n);
    requires idx < PT_NR_ENTRIES;
    requires \valid_read(t) && \separated(t, n.meta, n.ptes + (0 .. PT_NR_ENTRIES - 1));
    requires \valid(child.ptes + (0 .. PT_NR_ENTRIES - 1)) &&
             \separated(child.ptes + (0 .. PT_NR_ENTRIES - 1), n.meta,
                        n.ptes + (0 .. PT_NR_ENTRIES - 1), t);
    requires (child.pa & 0xfff) == 0;
    assigns n.ptes[idx], child.ptes[0 .. PT_NR_ENTRIES - 1];
    ensures table: bit_test(n.ptes[idx], 0) && !bit_test(n.ptes[idx], 7);
    ensures pieces: \forall integer j; 0 <= j < PT_NR_ENTRIES ==>
              WP_HW_APART(child.ptes[j], \old(child.ptes[j]));
    ensures children: n.meta->nr_children == \old(n.meta->nr_children);
    ensures frames: \forall struct pt_frame_meta *m;
              \separated(m, n.ptes + (0 .. PT_NR_ENTRIES - 1),
                         child.ptes + (0 .. PT_NR_ENTRIES - 1)) ==>
              m->refcount == \old(m->refcount) && m->usage == \old(m->usage);
*/
static void entry_publish_split(const struct pt_tree *t, struct pt_node n, unsigned idx,
				uint64_t va, pt_pte_t old, struct pt_node child);
