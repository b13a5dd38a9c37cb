/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tlb.h - an emulated MMU with a TLB and paging-structure caches, for the
 * hosted tests (issue 5, item 3; design §5 "TLB and freeing").
 *
 * What it models
 * --------------
 * One CPU's translation caches, tagged by address space (one "space" per
 * attached table, like a PCID/ASID):
 *
 *  - a TLB of leaf translations, one per page size (4K, 2M, 1G: whatever
 *    levels the format has leaves at): page va -> page pa, the leaf's
 *    property (flags and cache policy), and the node pa's of the walk that
 *    produced it (root first);
 *  - paging-structure caches (PSC) for the non-leaf entries: for a va prefix
 *    at level L (the entry in a level-L node), the node pa that entry points
 *    to, with the walk that reached it.
 *
 * tlb_access() is "the hardware touching va": it uses a cached leaf if one
 * contains va; otherwise it walks like an x86 MMU: it starts from the
 * deepest PSC entry matching va (or the root), reads raw PTEs with
 * pt_phys_to_virt + fmt->decode, caches every non-leaf entry it reads, and
 * caches the leaf.  A leaf with none of R/W/X (PROT_NONE) is not present to
 * the hardware, and not-present entries are not cached by default (x86 and
 * AArch64 behaviour, and RISC-V with Svvptc), but the non-leaf entries read
 * on the way to them are (the SDM allows a walk that ends in a fault to fill
 * the PSC).  With tlb_set_negative() (RISC-V without Svvptc: "a hart may
 * cache an invalid entry"), the invalid entry a walk ends on, absent or
 * PROT_NONE, at level L, is cached too, as a negative entry covering its
 * whole level-L range: any access in that range faults without a walk until
 * an invalidation overlapping it (like a leaf's) drops it.  A cached entry
 * is used even if the table changed: that is the point.
 *
 * Nothing empties the caches except ptkit's invalidation callback,
 * tlb_invalidate() (install it as pt_table_opts.invalidate with the tlb as
 * argument; a user table made with pt_table_create_user inherits it), and
 * tlb_detach() (the host switching away from and flushing an address space
 * before pt_table_destroy, which calls no hook).  No capacity eviction: a
 * space holds up to TLB_MAX_ENTRIES entries; past that, translations are
 * returned but not cached (counted as `uncached`).
 *
 * What the callback invalidates (struct pt_flush_info):
 *  - each range: every leaf entry, of any page size, whose page overlaps it,
 *    and every negative entry whose range overlaps it
 *    (an x86 INVLPG of each 4K page of the range invalidates every TLB entry
 *    containing that address, whatever its size);
 *  - `all`: every leaf and PSC entry of the space (a full flush includes the
 *    paging-structure caches on every architecture);
 *  - PSC entries, by mode (enum tlb_psc_mode):
 *      TLB_PSC_RANGED (the default, strictest): only with `nodes_removed`,
 *        and only the PSC entries whose range overlaps one of the ranges
 *        (AArch64 TLBI VAE1 semantics).  Proves both that nodes_removed is set
 *        whenever a non-leaf entry changed and that the ranges cover every
 *        detached node's range, as docs/api.md promises.
 *      TLB_PSC_NODES: with `nodes_removed`, every PSC entry of the space (the
 *        letter of flush.h: "nodes_removed: flush walks too").
 *      TLB_PSC_X86: exactly x86.  INVLPG (and INVPCID type 0) "also
 *        invalidates all entries in all paging-structure caches associated
 *        with the current PCID, regardless of the linear addresses to which
 *        they correspond" (Intel SDM vol. 3, §4.10.4.1), so any range drops
 *        the whole PSC of the space, with or without nodes_removed.
 *    RANGED drops a subset of what NODES drops, which drops a subset of what
 *    X86 drops, so a sequence that passes RANGED passes the other two.
 *  - A kernel table's callback reaches every space sharing its kernel half
 *    (the user tables attached with it as `kernel`), for kernel-half entries:
 *    docs/api.md asks the hook of a kernel table to reach every address space.
 *
 * After invalidating, the callback (optionally, on by default) plays the
 * hardware walking speculatively at that very moment, in the middle of the
 * operation that finishes the batch: it re-walks every page whose
 * translation it just dropped, pages of the invalidated ranges and recently
 * used addresses, refilling the caches from the half-changed table.  A change
 * written after its range was invalidated is then caught (hardware may
 * refill at any time).
 *
 * The checks
 * ----------
 * tlb_check() - coherence, to call after pt_flush_finish returns and after
 * every operation called without a caller-owned batch (not inside the
 * callback, and not between operations that share a batch not yet
 * finished): every cached leaf must be exactly what a walk of the table finds
 * now (same page size, pa and property, reached through the same nodes), and
 * every PSC entry must be exactly the table's entry at that level (same target
 * node, same nodes above it), and no va of a negative entry's range may be
 * mapped (present) now: a new mapping left uninvalidated would fault on it.  It also reports any failure recorded earlier
 * by the always-on safety checks below.
 *
 * tlb_check_safe() - safety, valid at any moment (mid-batch too): no cached
 * walk (a PSC target or any node on a cached path) is a freed frame, and no
 * cached tracked translation points to a freed data frame (a frame reading
 * PT_REFCOUNT_UNUSED).  It runs automatically at the start of every callback
 * (stale entries are expected there, freed memory behind them is not: it was
 * released before its invalidation), at its end, and after every node
 * release of the emulated RCU (below), where a failure means "a page-table
 * node was freed while a cached walk could still use it".
 *
 * The emulated machine: tlb_phys_create()
 * ---------------------------------------
 * RAM for pt_phys_init (at TLB_RAM_PA, so pa 0 is not RAM) with a
 * single-threaded RCU of our own: a grace period ends as early as RCU
 * allows: in rcu_defer itself when no read-side section is open, when the
 * depth drops to 0, or at tlb_rcu_quiesce() (call it at check points).  Each release is followed by
 * the safety check of every live tlb.  The RCU state is global: one such phys
 * at a time, and only from one thread.
 *
 * What it abstracts away: one CPU (no shootdown IPIs, no concurrent
 * walkers); no access types (a translation is a translation: no write
 * faults, no A/D updates written back by the hardware); no TLB capacity
 * eviction; no fractured huge pages (a huge page is cached as one entry);
 * a PSC entry holds only the target node (permissions of non-leaf entries
 * are the most permissive and the leaf decides, design §1); decode features
 * come from the phys's platform (a table's own opts.features are not seen).
 */
#ifndef PTKIT_TESTS_TLB_H
#define PTKIT_TESTS_TLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ptkit/ptkit.h>

#define TLB_MAX_SPACES 8
#define TLB_MAX_ENTRIES (1u << 16) /* per space, leaves and PSC together */
#define TLB_RAM_PA (UINT64_C(1) << 30)

enum tlb_psc_mode { TLB_PSC_RANGED, TLB_PSC_NODES, TLB_PSC_X86 };

/* Fault injection into tlb_invalidate(), for the self-tests: the nth
 * callback from now (1 = the next) is mutated, once. */
enum tlb_fault {
	TLB_FAULT_NONE,
	TLB_FAULT_DROP,           /* the callback does nothing at all */
	TLB_FAULT_KEEP_PSC,       /* the paging-structure caches are left
				   * alone: nodes_removed ignored, `all`
				   * flushes leaf entries only */
	TLB_FAULT_DROP_LAST_RANGE,/* the last range is skipped (if several) */
	TLB_FAULT_NO_BROADCAST,   /* a kernel table's callback reaches only
				   * the kernel table's own space */
};

struct tlb;

struct tlb_stats {
	uint64_t accesses, hits, faults, walks, psc_hits, uncached;
	uint64_t cached_leaves[PT_MAX_LEVELS + 1]; /* leaves cached, per level */
	uint64_t callbacks, cb_all, cb_nodes, cb_full_ranges, cb_shared;
	uint64_t leaves_dropped, psc_dropped, refills;
	uint64_t rcu_releases, checks, safe_checks;
	uint64_t neg_cached, neg_hits, neg_dropped; /* negative entries */
	uint64_t faults_injected;
	uint64_t fault_would_drop; /* entries a dropped callback should have removed */
	uint64_t fault_left_stale; /* ... of which stale right then */
	size_t max_entries; /* the most entries one space held at once */
};

/* The coherent translation of one access. */
struct tlb_xlate {
	uint64_t pa;          /* of va itself */
	uint64_t page_va, page_size;
	struct pt_prop prop;
	bool hit;             /* from the TLB, no walk */
};

struct tlb *tlb_create(enum tlb_psc_mode mode, uint64_t seed);
void tlb_destroy(struct tlb *tlb);
void tlb_set_refill(struct tlb *tlb, bool on); /* speculative refills in the callback */
/* Negative entries (off by default): cache the invalid entry a walk ends on,
 * as a RISC-V hart without Svvptc may (see above). */
void tlb_set_negative(struct tlb *tlb, bool on);
enum tlb_psc_mode tlb_mode(const struct tlb *tlb);

/* The invalidation hook: pt_table_opts.invalidate, with the tlb as arg. */
void tlb_invalidate(void *arg, const struct pt_flush_info *info);

/*
 * Gives `t` an address space in the tlb; `name` appears in messages.  For a
 * user table made with pt_table_create_user, pass its kernel table (already
 * attached) as `kernel`: the kernel table's callbacks then reach this space
 * too.  -1 if full or already attached.
 */
int tlb_attach(struct tlb *tlb, struct pt_table *t, struct pt_table *kernel,
	       const char *name);
/* Forgets t's space and everything cached in it (the host flushing it):
 * call before pt_table_destroy(t). */
void tlb_detach(struct tlb *tlb, struct pt_table *t);

/* The hardware accessing va through t: 0 (out may be NULL) or PT_ENOENT
 * (a page fault: nothing there for the hardware), PT_EINVAL if t is not
 * attached. */
int tlb_access(struct tlb *tlb, struct pt_table *t, uint64_t va,
	       struct tlb_xlate *out);

/* 0, or -1 with the first problem in why (see above). */
int tlb_check(struct tlb *tlb, char *why, size_t len);
int tlb_check_safe(struct tlb *tlb, char *why, size_t len);
/* Clears a recorded failure (self-tests). */
void tlb_clear_failure(struct tlb *tlb);

void tlb_inject(struct tlb *tlb, enum tlb_fault fault, unsigned nth);

void tlb_get_stats(const struct tlb *tlb, struct tlb_stats *out);
/* Entries cached in t's space now (leaves at `level`, or PSC entries with
 * psc). */
size_t tlb_count(const struct tlb *tlb, struct pt_table *t, bool psc,
		 unsigned level);

/* The emulated machine's RAM and RCU (see above). */
int tlb_phys_create(uint64_t bytes, struct pt_phys **out);
void tlb_phys_destroy(struct pt_phys *phys);
void tlb_rcu_quiesce(void);
uint64_t tlb_rcu_pending(void); /* chains queued, not yet released */

#endif /* PTKIT_TESTS_TLB_H */
