/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pt_wp.c - Frama-C/WP harness for ptkit's pure layer (issue 5, item 2).
 *
 * No code is copied: the real sources are #included and the ACSL contracts
 * are attached to the real functions by re-declaring them here (Frama-C
 * merges a declaration's contract into the definition's), so WP proves each
 * contract against the real body.  Run by tests/wp/run_wp.sh.
 *
 * Frama-C's libc <stdatomic.h> defines _Atomic away, so it comes first; the
 * engine is parsed without PT_HOSTED (no liburcu headers needed).
 */
#include <stdatomic.h>

int __builtin_clzll(unsigned long long);
int __builtin_ctzll(unsigned long long);

#include "table/table.c"
#include "formats/x86_64.h"
#define FMT_SYMBOL pt_format_x86_64
#include "formats/engine_instance.h"

/*@ logic integer lsize(integer L) =
      L == 1 ? 0x1000 : L == 2 ? 0x200000 : L == 3 ? 0x40000000 :
      L == 4 ? 0x8000000000 : L == 5 ? 0x1000000000000 : 0x200000000000000;
    predicate aligned(integer x, integer L) = (x & (lsize(L) - 1)) == 0;
    predicate page_aligned(integer x) = (x & (PT_PAGE_SIZE - 1)) == 0;
    predicate normalized(struct pt_prop p, integer features) =
      (p.flags & ~PT_FLAGS_ALL) == 0 && p.cache < PT_CACHE_COUNT &&
      (p.cache == PT_CACHE_WC ==> (features & PT_FEAT_X86_PAT_WC) != 0) &&
      ((p.flags & (PT_W | PT_X)) != 0 ==> (p.flags & PT_R) != 0);
*/

/* ---- index and page-size arithmetic ---- */

/*@ requires 1 <= level <= 6;
    assigns \nothing;
    ensures \result == lsize(level);
*/
static inline uint64_t pt_level_size(unsigned level);

/*@ requires 1 <= level <= 6;
    assigns \nothing;
    ensures 0 <= \result < PT_NR_ENTRIES;
*/
static inline unsigned pt_index(uint64_t va, unsigned level);

/*@ requires 1 <= level <= 6;
    assigns \nothing;
    ensures aligned: aligned(\result, level);
    ensures high: (\result & ~(lsize(level) - 1)) == (va & ~(lsize(level) - 1));
*/
static inline uint64_t pt_entry_base(uint64_t va, unsigned level);

/*@ requires 1 <= level <= 6;
    requires aligned(base, level);
    assigns \nothing;
    ensures no_wrap: \result == base + lsize(level) - 1;
*/
static inline uint64_t pt_entry_last(uint64_t base, unsigned level);

/* ---- range validation (table.c) ---- */

/*@ assigns \nothing;
    ensures \result <==> page_aligned(x);
*/
static bool page_aligned(uint64_t x);

/*@ requires t == \null || (\valid_read(t) && \valid_read(t->fmt));
    assigns \nothing;
    behavior einval:
      assumes t == \null || len == 0 || va + len > 0x1p64;
      ensures \result == PT_EINVAL;
    behavior ealign:
      assumes t != \null && len != 0 && va + len <= 0x1p64;
      assumes !page_aligned(va) || !page_aligned(len);
      ensures \result == PT_EALIGN;
    behavior user_half:
      assumes t != \null && len != 0 && va + len <= 0x1p64;
      assumes page_aligned(va) && page_aligned(len);
      assumes va + len - 1 < t->fmt->user_end;
      ensures t->space == PT_SPACE_USER ==> \result == 0;
      ensures t->space != PT_SPACE_USER ==> \result == PT_ERANGE;
    behavior hole:
      assumes t != \null && len != 0 && va + len <= 0x1p64;
      assumes page_aligned(va) && page_aligned(len);
      assumes va + len - 1 >= t->fmt->user_end && va < t->fmt->kernel_start;
      ensures \result == PT_ERANGE;
    behavior kernel_half:
      assumes t != \null && len != 0 && va + len <= 0x1p64;
      assumes page_aligned(va) && page_aligned(len);
      assumes va + len - 1 >= t->fmt->user_end && va >= t->fmt->kernel_start;
      ensures t->space == PT_SPACE_KERNEL ==> \result == 0;
      ensures t->space != PT_SPACE_KERNEL && t->kernel == \null ==> \result == PT_ERANGE;
      ensures t->space != PT_SPACE_KERNEL && t->kernel != \null ==>
                \result == (write ? PT_EPERM : 0);
    complete behaviors;
    disjoint behaviors;
*/
static int range_check(const struct pt_table *t, uint64_t va, uint64_t len, bool write);

/*@ requires \valid_read(t) && \valid_read(t->fmt);
    assigns \nothing;
    behavior ealign:
      assumes !page_aligned(pa);
      ensures \result == PT_EALIGN;
    behavior erange:
      assumes page_aligned(pa);
      assumes len == 0 || pa + len - 1 >= 0x1p64 || pa + len - 1 >= t->fmt->pa_limit;
      ensures \result == PT_ERANGE;
    behavior ok:
      assumes page_aligned(pa);
      assumes len != 0 && pa + len - 1 < 0x1p64 && pa + len - 1 < t->fmt->pa_limit;
      ensures \result == 0;
    complete behaviors;
    disjoint behaviors;
*/
static int pa_check(const struct pt_table *t, uint64_t pa, uint64_t len);

/* ---- per-position leaf rule (cursor_template.h) ---- */

/*@ requires \valid_read(src) && \valid_read(s);
    requires 1 <= s->level <= FMT_LEVELS;
    requires src->frames == \null;
    assigns \nothing;
    ensures \result <==> (s->level == 1 ||
              (s->level <= src->max_level && s->whole &&
               aligned((uint64_t)(src->pa + (uint64_t)(s->lo - src->va)), s->level)));
*/
static inline bool src_leaf_here(const struct pt_map_src *src, const struct span *s);

/*@ requires \valid_read(src) && src->frames == \null;
    assigns \nothing;
    ensures
              \result == (uint64_t)(src->pa + (uint64_t)(va - src->va));
*/
static inline uint64_t src_pa(const struct pt_map_src *src, uint64_t va);

/* ---- x86-64 format: normalize, present, table entries ---- */

/*@ requires \valid(out);
    assigns *out;
    behavior reject:
      assumes (p.flags & ~PT_FLAGS_ALL) != 0 || p.cache >= PT_CACHE_COUNT ||
              (p.cache == PT_CACHE_WC && (features & PT_FEAT_X86_PAT_WC) == 0);
      assigns \nothing;
      ensures \result == PT_EINVAL;
    behavior accept:
      assumes (p.flags & ~PT_FLAGS_ALL) == 0 && p.cache < PT_CACHE_COUNT &&
              (p.cache != PT_CACHE_WC || (features & PT_FEAT_X86_PAT_WC) != 0);
      ensures \result == 0;
      ensures out->cache == p.cache;
      ensures (p.flags & (PT_W | PT_X)) != 0 ==> out->flags == (p.flags | PT_R);
      ensures (p.flags & (PT_W | PT_X)) == 0 ==> out->flags == p.flags;
      ensures normalized(*out, features);
    complete behaviors;
    disjoint behaviors;
*/
static inline int fmt_prop_normalize(struct pt_prop p, uint32_t features, struct pt_prop *out);

/*@ assigns \nothing;
    ensures \result <==> ((pte & X86_P) != 0 || (pte & X86_PROTNONE) != 0);
*/
static inline bool fmt_pte_present(pt_pte_t pte);

/*@ assigns \nothing;
    ensures \result <==> (level == 1 || (pte & X86_PS) != 0 || (pte & X86_P) == 0);
*/
static inline bool fmt_pte_is_leaf(pt_pte_t pte, unsigned level);

/*@ assigns \nothing;
    ensures \result == (pa | X86_P | X86_W | X86_U);
*/
static inline pt_pte_t fmt_pte_table(uint64_t pa);

/*@ assigns \nothing;
    ensures \result <==> (pte & X86_TRACKED) != 0;
*/
static inline bool fmt_pte_tracked(pt_pte_t pte);

/* A table entry (a 4 KiB-aligned node below the pa limit) is present and
 * never decodes as a leaf at levels 2..4. */
/*@ requires 2 <= level <= FMT_LEVELS;
    requires (pa & ~X86_ADDR_MASK) == 0;
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
