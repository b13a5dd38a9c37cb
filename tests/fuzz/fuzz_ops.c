/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_ops.c - libFuzzer target: input bytes decode into a sequence of at
 * most MAX_OPS operations on three tables of any format, each step checked
 * against a model of the view (design §4, §5), by pt_check and by an
 * invalidation checker.
 *
 * Tables: U (user), K (kernel) and UK (made from K by
 * pt_table_create_user: sharing K's kernel half where the format has one
 * root for both halves, an empty user table with K's settings where it has
 * one root per half, as AArch64).  The first input byte picks their
 * max_leaf_level, the `live` option and whether their creation meets an
 * allocation failure first; with its bit 7 set, a second byte picks the
 * format (a stage-2 one with its bit 7) and the PT_FEAT_* features of U
 * and of K (UK inherits K's); without it the format is x86-64 with no
 * features.  A stage 2 has one guest-physical space and no kernel half: K
 * is one more table of that space and UK is made with K's options (as in
 * tests/model/model_random.c), and every invalidation must say stage 2.
 * Every invalidation must carry its table's tag.  Addresses come from
 * a few windows of a few GiB per half (its start, its top: the kernel top
 * makes va + len == 2^64, and across a root entry's boundary), so
 * operations collide.  gen_corpus.py documents the encoding.
 *
 * Operations: pt_map, pt_map_frames (of NPOOL frames the harness holds),
 * pt_unmap, pt_protect, pt_move, pt_query, pt_for_each_mapping, cursor open
 * / close / query / find_next / jump / take_next / protect_next / map,
 * pt_copy between two of the tables (the checker watching the source or
 * the destination), pt_harvest (its bitmap against the model's), pt_mark
 * (markers checked raw and with pt_query_marker after every step), their
 * cursor forms (pt_cursor_query_marker, pt_cursor_mark,
 * pt_cursor_harvest_next),
 * pt_split (from the phys, or from a stash that may run dry), flush batches
 * kept open across steps, UK destroyed and made again, and rare invalid
 * arguments.  Every result, error codes included, is predicted from
 * design §5 and docs/api.md by the model of tests/common/model_core.h
 * (shared with tests/model/model_random.c): sorted leaves per half and the
 * page-table nodes those rules imply, not from the code.  Everything that
 * depends on the format comes from struct pt_format (geometry, software
 * bits, normalize, checked at start against format_rules.h) and
 * format_rules.h (features, break-before-make, invalidation of new
 * mappings).  Any changing step may carry fault injection
 * (pt_phys_fail_nth_alloc, n = 1..4): a PT_ENOMEM must leave the view, the
 * nodes, the reference counts, the free frames and the cursor as they were.
 *
 * Invalidations (model_core.h's checker, reading the raw PTEs from the
 * hook): every range an operation removed or changed (RISC-V without
 * Svvptc: new mappings too) must be invalidated after the change was
 * written, before the operation returns or, in a batch the harness keeps
 * open, before pt_flush_finish of that batch returns; removed nodes with
 * nodes_removed; a tracked frame's reference may drop only after its
 * invalidation; a single range invalidated in the middle of an operation
 * must find its entry cleared (break-before-make), which only AArch64 may
 * do, and must do for a split of a valid block, a table becoming a block
 * and an nG or memory-type change of a valid leaf unless FEAT_BBM2.  Extra
 * invalidations are fine.
 *
 * After every step: the view of every table the step may have touched
 * (pt_for_each_mapping over every window, leaf by leaf), pt_check of every
 * table it changed (deferred while a cursor holds it: the API wants it
 * quiet), frame conservation (free-or-pending frames plus the model's nodes
 * are constant; exact with no batch open), the reference count of every
 * pool frame (exact, or within what open batches still hold) and the
 * cursor's position.  Every COUNT_EVERY steps: pt_table_stats, leaves and
 * nodes per level, against the model.  At the end of the input: PT_EBUSY
 * for K while UK lives (one root: UK shares K's half) or K going first
 * (one root per half), every table destroyed, every pool count back to 1,
 * not a frame lost.
 *
 * A divergence prints the steps so far and abort()s, which libFuzzer records
 * as a crash.  PTKIT_FUZZ_TRACE=1 in the environment prints every step as it
 * runs, with its result.
 *
 * The same file builds without libFuzzer: replay_main.c feeds it files.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ptkit/ptkit.h>
#include <ptkit/testing.h>

#define ARENA_BYTES (64 * PT_MiB)
#define NPOOL 16          /* tracked frames the harness holds (1 ref each) */
#define MAX_OPS 64
#define MAX_MAPF 300      /* > PT_FLUSH_MAX_FRAMES: batches finish early */
#define MAP_LEAF_CAP 1024 /* a map that would make more leaves is shrunk */

/* The model, the invalidation checker, the windows: shared with
 * tests/model/model_random.c. */
#include "model_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ----------------------------------------------------------- failure */

static char hist[MAX_OPS + 8][256]; /* every step of this input */
static unsigned nhist;
static char *desc;                  /* hist[nhist]: the step being run */
static bool trace;

#define DESC(...) dappend(__VA_ARGS__)
static void __attribute__((format(printf, 1, 2))) dappend(const char *f, ...)
{
	size_t n = strlen(desc);
	va_list ap;

	va_start(ap, f);
	vsnprintf(desc + n, sizeof(hist[0]) - n, f, ap);
	va_end(ap);
	if (trace) /* as it is built: an abort inside ptkit still shows the step */
		fputs(desc + n, stderr);
}

#define FAIL(...) mfail(__VA_ARGS__)
static void __attribute__((format(printf, 3, 4), noreturn))
model_fail(const char *file, int line, const char *f, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, f);
	vsnprintf(msg, sizeof(msg), f, ap);
	va_end(ap);
	fprintf(stderr, "\nfuzz_ops: DIVERGENCE (%s:%d, format %s): %s\n", file, line,
		tf ? tf->id : "?", msg);
	fprintf(stderr, "steps of this input (the last one failed):\n");
	for (unsigned i = 0; i <= nhist && i < MAX_OPS + 8; i++)
		if (hist[i][0])
			fprintf(stderr, "  #%u %s\n", i, hist[i]);
	abort();
}

/* ------------------------------------------------------------- input */

static const uint8_t *in_p;
static size_t in_n;

static uint8_t u8(void)
{
	if (!in_n)
		return 0;
	in_n--;
	return *in_p++;
}

/* ----------------------------------------------------------- model */

enum { T_U, T_K, T_UK, NT };
#define M(t) (1u << (t)) /* a set of tables */

struct mtable {
	const char *name;
	struct pt_table *t;
	uint64_t root;
	uint32_t features;
	bool hooked;            /* (always: UK inherits K's hook) */
	struct half *user, *kern;
	bool kern_ro;           /* UK sharing K's half: writes there are PT_EPERM */
	unsigned cap;           /* max_leaf_level: pt_copy wants it equal */
	struct pt_flush batch;
	bool batch_on;
	/* What the open batch still owes (checked when it is finished):
	 * ranges changed by earlier steps, not yet invalidated, and removed
	 * nodes not yet flushed as nodes. */
	struct piecevec pending;
	bool nodes_pending;
};

static struct half h_u, h_uk, h_k;
static struct mtable T[NT];
static struct window user_win[NWIN], kern_win[NWIN];
static uint64_t pool_pend[NPOOL]; /* unmapped into a batch not yet finished */
static struct leafvec plan;
static struct effects eff;        /* what the step's change must do */
static struct pt_flush foreign;   /* bound to no table of the op: EINVAL */

static struct {
	bool open;
	int t;
	struct half *h;
	uint64_t start, last, cur;
	bool at_end;
	struct pt_cursor c;
} cur;

static void push(struct leafvec *v, const struct leaf *l)
{
	GROW(v);
	v->v[v->n++] = *l;
}

/* The first leaf overlapping [va, last], or h->leaves.n. */
static size_t first_in(const struct half *h, uint64_t va, uint64_t last)
{
	size_t i = lower_leaf(&h->leaves, va);

	return i < h->leaves.n && h->leaves.v[i].va <= last ? i : h->leaves.n;
}

static int pool_slot(uint64_t pa)
{
	for (int i = 0; i < NPOOL; i++)
		if (pool[i] == pa)
			return i;
	return -1;
}

/* A pool frame containing pa (aligned or not). */
static bool pool_held(uint64_t pa)
{
	return pool_slot(pa & ~(PAGE - 1)) >= 0;
}

/* Leaves [k, e) of h go (take_next): a piece each to invalidate, the
 * tracked ones' references with it. */
static void take_leaves(struct half *h, size_t k, size_t e, struct effects *ef)
{
	for (size_t x = k; x < e; x++) {
		const struct leaf *l = &h->leaves.v[x];
		int slot = l->tracked ? pool_slot(l->pa) : -1;

		if (l->tracked && (slot < 0 || pool_maps[slot] == 0))
			FAIL("model: tracked leaf of unknown frame %#" PRIx64, l->pa);
		piece_add(ef, l->va, leaf_last(l), slot);
		if (slot >= 0)
			pool_maps[slot]--;
	}
	splice_n(&h->leaves, k, e, NULL, 0);
}

/* take_next / protect_next on leaf i, partly inside [lo, hi]: split level by
 * level, each time into the piece holding max(lo, leaf.va), until the piece
 * lies inside.  Returns its index, or h->leaves.n if even a 4 KiB piece does
 * not fit (a window ending inside a page: chain_fits says so first). */
static size_t chain_split(struct half *h, size_t i, uint64_t lo, uint64_t hi,
			  struct effects *ef)
{
	for (;;) {
		struct leaf l = h->leaves.v[i];
		struct leaf sub[512];
		uint64_t at = l.va > lo ? l.va : lo;

		if (l.va >= lo && leaf_last(&l) <= hi)
			return i;
		if (l.size == PAGE)
			return h->leaves.n;
		ef->splits++;
		if (pt_rules_resize_needs_break(tf->fam, h->features) &&
		    pt_rules_valid(tf->fam, l.prop))
			req_add(ef, REQ_SPLIT, l.va, leaf_last(&l));
		for (unsigned k = 0; k < 512; k++) {
			sub[k] = l;
			sub[k].size = l.size / 512;
			sub[k].va += k * sub[k].size;
			sub[k].pa += k * sub[k].size;
		}
		splice_n(&h->leaves, i, i + 1, sub, 512);
		node_add(h, level_of(l.size) - 1, l.va);
		i += (at - l.va) / (l.size / 512);
	}
}

/* Whether chain_split would find a piece (no change to the model). */
static bool chain_fits(const struct leaf *l, uint64_t lo, uint64_t hi)
{
	/* A 4 KiB piece at max(lo, va) inside [lo, hi] is always reachable
	 * unless the window ends before that page does. */
	uint64_t at = l->va > lo ? l->va : lo;

	return (at & ~(PAGE - 1)) + (PAGE - 1) <= hi;
}

/* ------------------------------------------------- expected errors */

static int err_rank(int e)
{
	switch (e) {
	case PT_EINVAL: return 1;
	case PT_EALIGN: return 2;
	case PT_ERANGE: return 3;
	case PT_EPERM: return 4;
	default: return e ? 5 : 99;
	}
}

static int first_err(int a, int b)
{
	return err_rank(a) <= err_rank(b) ? a : b;
}

/* design §5 range rules; *hp is the half when 0. */
static int range_err(const struct mtable *m, uint64_t va, uint64_t len, bool write,
		     struct half **hp)
{
	uint64_t last = va + (len - 1);

	if (len == 0 || last < va)
		return PT_EINVAL;
	if ((va | len) & (PAGE - 1))
		return PT_EALIGN;
	if (last < fmt->user_end) {
		if (!m->user)
			return PT_ERANGE;
		*hp = m->user;
		return 0;
	}
	if (va < fmt->kernel_start || !m->kern)
		return PT_ERANGE;
	if (write && m->kern_ro)
		return PT_EPERM;
	*hp = m->kern;
	return 0;
}

static int pa_err(uint64_t pa, uint64_t len)
{
	if (pa & (PAGE - 1))
		return PT_EALIGN;
	if (pa + (len - 1) < pa || pa + (len - 1) >= fmt->pa_limit)
		return PT_ERANGE;
	return 0;
}

/* A property the table t can hold, or PT_EINVAL. */
static int norm_for(int t, struct pt_prop p, struct pt_prop *out)
{
	return model_normalize(p, T[t].features, out);
}

/* ------------------------------------------------------ verification */

/* Pages for verify_marks to probe: a fixed sequence, not input bytes. */
static uint64_t probe_state = 1;

static uint64_t probe_below(uint64_t n)
{
	probe_state = probe_state * 6364136223846793005ull + 1442695040888963407ull;
	return (probe_state >> 17) % n;
}

/* The view of a table over the windows, where every modelled leaf (and
 * marker) lies.  A leaf anywhere else shows in the leaf counts of
 * pt_table_stats. */
static void verify_view(const struct mtable *m)
{
	const struct half *hs[2] = {m->user, m->kern};
	const struct window *ws[2] = {user_win, kern_win};
	static const char *const hname[2] = {"user-half view", "kernel-half view"};

	for (int k = 0; k < 2; k++) {
		const struct half *h = hs[k];

		for (int w = 0; w < NWIN; w++) {
			uint64_t va = ws[k][w].start, len = ws[k][w].last - va + 1;
			size_t i, j;

			if (!h) {
				compare_walk(m->t, m->name, va, len, PT_ERANGE, NULL, 0, 0,
					     "half it lacks");
				continue;
			}
			i = j = lower_leaf(&h->leaves, va);
			while (j < h->leaves.n && h->leaves.v[j].va <= ws[k][w].last)
				j++;
			compare_walk(m->t, m->name, va, len, 0, h->leaves.v + i, j - i, 0,
				     hname[k]);
			verify_marks(m->t, m->name, h, va, ws[k][w].last, probe_below);
		}
	}
}

/* Whether pt_check / pt_table_stats may look at table t now: not while a
 * cursor holds it (or, for UK, holds K, whose kernel nodes UK may walk). */
static bool quiet(int t)
{
	if (!cur.open)
		return true;
	return !(cur.t == t || (cur.t == T_K && t == T_UK));
}

static void check_table(int t)
{
	char why[512] = "";
	int err = pt_check(T[t].t, why, sizeof(why));

	if (err)
		FAIL("%s: pt_check %d: %s", T[t].name, err, why);
}

static unsigned unchecked;       /* changed, pt_check not run since */
static unsigned uncounted;       /* changed, pt_table_stats not run since */

/* pt_table_stats must be the model's: leaves per level (which also finds a
 * leaf outside every window), tracked leaves, bytes, and nodes per level. */
static void count_table(int t)
{
	const struct mtable *m = &T[t];
	struct pt_table_stats want, st;
	char why[512];
	int err;

	if ((err = pt_table_stats(m->t, &st)))
		FAIL("%s: pt_table_stats %d", m->name, err);
	predict_stats(m->user, m->kern, &want);
	if (pt_stats_diff(&want, &st, why, sizeof(why)))
		FAIL("%s: %s", m->name, why);
	uncounted &= ~M(t);
}

static bool any_batch(void)
{
	for (int i = 0; i < NT; i++)
		if (T[i].batch_on)
			return true;
	return false;
}

static void verify_refs(void)
{
	for (int i = 0; i < NPOOL; i++) {
		uint64_t rc = pt_frame_refcount(phys, pool[i]);
		uint64_t lo = 1 + pool_maps[i], hi = lo + pool_pend[i];

		if (rc < lo || rc > hi)
			FAIL("frame %#" PRIx64 ": refcount %" PRIu64 ", want %" PRIu64
			     " (+ up to %" PRIu64 " in open batches)", pool[i], rc, lo,
			     pool_pend[i]);
	}
}

static uint64_t conserved;     /* reclaimable + table nodes, at input start */

static uint64_t model_nodes(void)
{
	return NT /* roots */ + half_nodes(&h_u) + half_nodes(&h_uk) + half_nodes(&h_k);
}

/* Free-or-pending frames plus the model's page-table nodes never change:
 * fewer is a leak (a node kept, or not freed; or a batch still holding
 * nodes), more a frame freed twice or a node freed while in a table. */
static void verify_conservation(void)
{
	uint64_t nodes = model_nodes();
	uint64_t now = pt_phys_reclaimable_frames(phys) + nodes;

	if (now > conserved || (now < conserved && !any_batch()))
		FAIL("frames: %" PRIu64 " free-or-pending + %" PRIu64 " nodes in the model"
		     " = %" PRIu64 ", want %" PRIu64 ": %s", now - nodes, nodes, now,
		     conserved, now > conserved ? "a frame freed twice or a node freed in use"
						: "frames leaked or a node not detached");
}

/*
 * After a step on the tables in mask (reads: only look): the views (UK's
 * too when K changed), pt_check of every changed table the cursor does not
 * hold, frame conservation, the reference counts and the cursor's
 * position.  Every COUNT_EVERY steps, and with `full` (end of input, when
 * every view is compared and every table changed during the input checked),
 * pt_table_stats too.
 */
#define COUNT_EVERY 8
static unsigned touched;         /* tables changed during this input */
static unsigned step_no;

static void verify(unsigned mask, bool read, bool full)
{
	unsigned views = mask & M(T_K) ? mask | M(T_UK) : mask; /* UK shows K's half */

	if (!read) {
		touched |= mask;
		unchecked |= mask;
		uncounted |= mask;
	}
	if (full) {
		views = M(T_U) | M(T_K) | M(T_UK);
		unchecked |= touched & M(T_K) ? touched | M(T_UK) : touched;
	}
	for (int t = 0; t < NT; t++)
		if (views & M(t))
			verify_view(&T[t]);
	for (int t = 0; t < NT; t++)
		if ((unchecked & M(t)) && quiet(t)) {
			check_table(t);
			unchecked &= ~M(t);
		}
	if (full || step_no % COUNT_EVERY == 0)
		for (int t = 0; t < NT; t++)
			if ((uncounted & M(t)) && quiet(t))
				count_table(t);
	verify_conservation();
	verify_refs();
	if (cur.open && pt_cursor_va(&cur.c) != (cur.at_end ? cur.last + 1 : cur.cur))
		FAIL("cursor at %#" PRIx64 ", want %#" PRIx64, pt_cursor_va(&cur.c),
		     cur.at_end ? cur.last + 1 : cur.cur);
}

/* ------------------------------------------------- invalidations */

/*
 * A changing call on table t runs inside watch_begin / watch_end, and the
 * model is applied before it (model_core.h's checker compares the raw PTEs
 * with it from the hook).  With fault injection the call may fail, so the
 * model is applied after it, and the watch is lax: it still marks what
 * the table's open batch owes, but cannot check release order.
 */
static uint64_t pre_maps[NPOOL];

/* Before the model changes: what every frame must keep until its
 * invalidation, which is its mappings now plus the earlier removals still
 * waiting in an open batch.  Pieces already invalidated are dropped. */
static void watch_prepare(void)
{
	memcpy(pre_maps, pool_maps, sizeof(pre_maps));
	for (int t = 0; t < NT; t++) {
		struct piecevec *pv = &T[t].pending;
		size_t n = 0;

		for (size_t k = 0; k < pv->n; k++) {
			if (pv->v[k].done)
				continue;
			if (pv->v[k].pool >= 0)
				pre_maps[pv->v[k].pool]++;
			pv->v[n++] = pv->v[k];
		}
		pv->n = n;
	}
	eff.nodes_removed = eff.splits = 0;
	eff.pieces.n = eff.breaks.n = 0;
}

static void watch_begin(int t, struct half *h, bool batched, bool lax)
{
	struct mtable *m = &T[t];

	inv_begin(m->name, m->root, m->features, &m->hooked, h, batched, &eff,
		  pre_maps);
	inv.keep_open = batched;
	inv.lax = lax;
	inv.pending = &m->pending;
}

/* Tracked frames a batched change removed are held until the batch is
 * finished: verify_refs allows them. */
static void pend_tracked(const struct effects *e)
{
	for (size_t k = 0; k < e->pieces.n; k++)
		if (e->pieces.v[k].pool >= 0)
			pool_pend[e->pieces.v[k].pool]++;
}

static void watch_end(int t, bool batched, bool lax)
{
	struct mtable *m = &T[t];
	bool nodes_seen;

	inv_end(&eff);
	nodes_seen = inv.nodes_removed;
	if (nodes_seen)
		m->nodes_pending = false;
	if (!batched || lax)
		return;
	/* What the open batch now owes: the pieces not invalidated yet. */
	pend_tracked(&eff);
	for (size_t k = 0; k < eff.pieces.n; k++)
		if (!eff.pieces.v[k].done) {
			GROW(&m->pending);
			m->pending.v[m->pending.n++] = eff.pieces.v[k];
		}
	if (eff.nodes_removed && !nodes_seen)
		m->nodes_pending = true;
}

/* ------------------------------------------------- fault injection */

struct inj {
	bool on;
	uint64_t nth;
	uint64_t reclaimable;
	uint64_t cursor_va;    /* of an open cursor, on any table */
	int t;
};

static void inj_begin(struct inj *j, int t, uint8_t flags)
{
	j->on = flags & 0x04;
	j->nth = 1 + ((flags >> 3) & 3);
	j->t = t;
	j->reclaimable = pt_phys_reclaimable_frames(phys);
	j->cursor_va = cur.open ? pt_cursor_va(&cur.c) : 0;
	if (j->on) {
		DESC(" [alloc #%" PRIu64 " fails]", j->nth);
		pt_phys_fail_nth_alloc(phys, j->nth);
	}
}

/* After the call: PT_ENOMEM is fine when injected, and then nothing may
 * have changed: the model still holds (the caller's verify), and the free
 * frames, the table's node count (when it may be counted) and the cursor
 * are as before.  True for PT_ENOMEM.  Without injection the arena (64 MiB
 * for at most 64 steps) never runs out: PT_ENOMEM is a leak. */
static bool inj_end(struct inj *j, int err)
{
	pt_phys_fail_nth_alloc(phys, 0);
	if (err != PT_ENOMEM)
		return false;
	if (!j->on)
		FAIL("PT_ENOMEM without fault injection, %" PRIu64 " frames free",
		     pt_phys_free_frames(phys));
	if (pt_phys_reclaimable_frames(phys) != j->reclaimable)
		FAIL("PT_ENOMEM changed the free frames: %" PRIu64 ", was %" PRIu64,
		     pt_phys_reclaimable_frames(phys), j->reclaimable);
	if (quiet(j->t))
		count_table(j->t); /* nodes and leaves still the model's */
	if (cur.open && pt_cursor_va(&cur.c) != j->cursor_va)
		FAIL("PT_ENOMEM moved the cursor to %#" PRIx64 ", was %#" PRIx64,
		     pt_cursor_va(&cur.c), j->cursor_va);
	DESC(" -> PT_ENOMEM, nothing changed");
	return true;
}

/* ------------------------------------------------------ generators */

static const uint64_t hot8[8] = {0, 1, 2, 3, 508, 509, 510, 511};

/* Half the time one of the first and last entries of a node (where ranges
 * cross nodes), else one of 256 spread over the node, both parities. */
static uint64_t idx512(uint8_t a)
{
	return a < 128 ? hot8[a & 7] : ((uint64_t)(a - 128) << 2) | (a & 1);
}

/* The input's window numbers: 0 the start of the half, 1 across a root
 * entry's boundary, 2 its top (model_core.h's windows). */
static const int win_of[3] = {WIN_START, WIN_ROOT, WIN_TOP};

/* A va in one of the windows of a half of table m (rarely the half it
 * lacks: PT_ERANGE).  *w gets the window.  The GiB within the window is
 * taken modulo its size (2 or 4 GiB). */
static uint64_t gen_va(const struct mtable *m, struct window *w)
{
	uint8_t s = u8(), a = u8(), b = u8();
	uint64_t gibs;
	bool kernel;

	if (m->user && m->kern)
		kernel = s & 0x80;
	else
		kernel = ((s & 0xc0) == 0xc0) ? !m->kern : !!m->kern;
	*w = kernel ? kern_win[win_of[(s & 3) % 3]] : user_win[win_of[(s & 3) % 3]];
	gibs = (w->last - w->start) / PT_GiB + 1;
	return w->start + ((s >> 2) & 3) % gibs * PT_GiB + idx512(a) * 2 * PT_MiB +
	       idx512(b) * PAGE;
}

static uint64_t gen_len(uint64_t va, const struct window *w)
{
	uint8_t c = u8(), d = u8();
	uint64_t len;

	switch (c & 7) {
	case 0:
	case 1: len = (1 + (d & 15)) * PAGE; break;
	case 2: len = (1 + (uint64_t)d) * PAGE; break;
	case 3: len = (1 + (d & 3)) * 2 * PT_MiB; break;
	case 4: len = (1 + (d & 3)) * 2 * PT_MiB + ((d >> 2) & 7) * PAGE; break;
	case 5: len = (1 + (d & 1)) * PT_GiB + ((d >> 1) & 3) * 2 * PT_MiB; break;
	case 6: len = w->last - va + 1; break; /* to the window's end: maybe 2^64 */
	default: len = (1 + (uint64_t)d) * 2 * PT_MiB; break;
	}
	if (len - 1 > w->last - va)
		len = w->last - va + 1;
	return len;
}

static uint64_t gen_pa(uint64_t va, uint64_t len)
{
	uint8_t e = u8(), g = u8();
	uint64_t base = (uint64_t)(g & 63) * PT_GiB;

	switch (e & 3) {
	case 0: return base + (va & (PT_GiB - 1));
	case 1: return base + ((uint64_t)(e >> 2) * 2 * PT_MiB) + (va & (2 * PT_MiB - 1));
	case 2: return ((uint64_t)g << 20 | (uint64_t)e << 12);
	default: /* at the physical limit: PT_ERANGE when it does not fit */
		return fmt->pa_limit - ((len + PAGE - 1) & ~(PAGE - 1)) +
		       ((e & 4) ? PAGE : 0) - ((e & 8) ? PT_GiB : 0);
	}
}

/* The format's software bits from a 4-bit field: all four (PT_EINVAL where
 * the format has fewer) when it is 15, else those the format offers. */
static uint32_t sw_bits(unsigned field)
{
	if (field != 15)
		field &= (1u << fmt->nr_sw_bits) - 1;
	return (uint32_t)field << PT_SW_SHIFT;
}

/* Cache: WB, WT, UC, WC (PT_EINVAL on x86 without the Linux PAT) and one
 * past the last policy (always PT_EINVAL). */
static struct pt_prop gen_prop(void)
{
	uint8_t f = u8(), c = u8();
	struct pt_prop p = {f & 0x7fu, PT_CACHE_WB};
	unsigned k = c & 15;

	if (f & 0x80)
		p.flags |= sw_bits(c >> 4);
	p.cache = k < 7 ? PT_CACHE_WB : k < 11 ? PT_CACHE_WT : k < 14 ? PT_CACHE_UC :
		  k == 14 ? PT_CACHE_WC : PT_CACHE_COUNT;
	return p;
}

/* Set and clear from two bytes: bits 0-6 R..D, bit 7 a software bit (SW3
 * where the format lacks it is PT_EINVAL; the others, where it lacks
 * them, become SW0). */
static void gen_set_clear(uint32_t *set, uint32_t *clear)
{
	uint8_t s = u8(), c = u8();
	unsigned bs = (c >> 4) & 3, bc = (s >> 4) & 3;

	if (bs >= fmt->nr_sw_bits && bs != 3)
		bs = 0;
	if (bc >= fmt->nr_sw_bits && bc != 3)
		bc = 0;
	*set = s & 0x7fu;
	*clear = (c & 0x7fu) & ~*set;
	if (s & 0x80)
		*set |= PT_SW0 << bs;
	else if (c & 0x80)
		*clear |= PT_SW0 << bc;
}

/* A window length for the cursor's searching calls. */
static uint64_t gen_window(void)
{
	uint8_t k = u8(), d = u8();

	switch (k & 7) {
	case 0: return UINT64_MAX;
	case 1: return k == 0xf9 ? 0 : (1 + (d & 15)) * PAGE;
	case 2: return (1 + (uint64_t)d) * PAGE;
	case 3: return (1 + (d & 3)) * 2 * PT_MiB;
	case 4: return PT_GiB;
	case 5: return (uint64_t)d * PAGE + 0x800; /* ends inside a page */
	case 6: return UINT64_MAX - (uint64_t)d * PAGE; /* wraps: to the end */
	default: return UINT64_MAX;
	}
}

/* A batch for table t's op: the table's open batch (opened on demand),
 * none, or one bound elsewhere (PT_EINVAL). */
static struct pt_flush *pick_batch(int t, uint8_t flags, bool bad, bool *batched)
{
	*batched = false;
	if (bad) {
		pt_flush_init(&foreign, T[(t + 1) % NT].t);
		DESC(" batch=foreign");
		return &foreign;
	}
	if (!(flags & 0x20))
		return NULL;
	if (!T[t].batch_on) {
		pt_flush_init(&T[t].batch, T[t].t);
		T[t].batch_on = true;
	}
	*batched = true;
	DESC(" batch");
	return &T[t].batch;
}

/* Finishing the batch must invalidate everything the earlier steps left in
 * it, and flush removed nodes as nodes, before it releases anything. */
static void batch_finish(int t)
{
	struct mtable *m = &T[t];
	int err;

	if (!m->batch_on)
		return;
	watch_prepare();
	watch_begin(t, NULL, true, false);
	inv.in_finish = true;
	err = pt_flush_finish(&m->batch);
	inv_end(&eff);
	if (err)
		FAIL("%s: pt_flush_finish returned %d", m->name, err);
	if (inv.nodes_removed)
		m->nodes_pending = false;
	for (size_t k = 0; k < m->pending.n; k++)
		if (!m->pending.v[k].done)
			FAIL("%s: [%#" PRIx64 ", %#" PRIx64 "] changed by an earlier step"
			     " into this batch, not invalidated when it was finished (%u"
			     " calls)", m->name, m->pending.v[k].va, m->pending.v[k].last,
			     inv.calls);
	if (m->nodes_pending)
		FAIL("%s: page-table nodes removed into this batch, but its finish"
		     " had no invalidation with nodes_removed or all", m->name);
	m->pending.n = 0;
	m->batch_on = false;
	if (!any_batch())
		memset(pool_pend, 0, sizeof(pool_pend));
}

/* Finishing one table's batch releases only what it held; without knowing
 * which frames those were, keep the others' slack until all are done. */
static void batches_finish_all(void)
{
	for (int t = 0; t < NT; t++)
		batch_finish(t);
}

static const char *err_name(int err)
{
	static const char *const n[] = {"ok", "EINVAL", "EALIGN", "ERANGE", "EPERM",
					"EEXIST", "ENOENT", "ENOMEM", "EBUSY", "ECORRUPT"};

	return err <= 0 && err >= -9 ? n[-err] : "?";
}

static void check_result(const char *what, int err, int want)
{
	DESC(" = %s", err_name(err));
	if (err != want)
		FAIL("%s returned %d (%s), want %d (%s)", what, err, pt_strerror(err), want,
		     pt_strerror(want));
}

static void cursor_close(void)
{
	if (!cur.open)
		return;
	pt_cursor_close(&cur.c);
	cur.open = false;
}

/* Whole-range changes on the cursor's table would deadlock (design §6):
 * the cursor is closed first, as a program would. */
static void cursor_yield_to(int t)
{
	if (cur.open && cur.t == t) {
		DESC(" (closes cursor)");
		cursor_close();
	}
}

/* ------------------------------------------------------------ ops */

/*
 * After a changing call watched since watch_begin: its result first (a
 * wrong one explains whatever the invalidation checker says next), then
 * the checker, then fault injection.  An injected PT_ENOMEM is fine only
 * where no earlier error of design §5's order applies.  True when the call
 * failed that way (nothing changed).
 */
static bool call_done(const char *what, int t, bool batched, struct inj *j, int err,
		      int want)
{
	if (!(j->on && err == PT_ENOMEM))
		check_result(what, err, want);
	else if (want != 0)
		FAIL("%s returned PT_ENOMEM under fault injection, want %d (%s): that"
		     " error comes first", what, want, pt_strerror(want));
	watch_end(t, batched, j->on);
	return inj_end(j, err);
}

static void op_map(int t, uint8_t flags)
{
	struct mtable *m = &T[t];
	struct window w;
	uint64_t va = gen_va(m, &w), len = gen_len(va, &w), pa = gen_pa(va, len);
	struct pt_prop prop = gen_prop(), norm = {0, 0};
	struct half *h = NULL;
	bool lax = flags & 0x04;
	struct inj j;
	int want, err;

	if (flags & 0x40) { /* an invalid argument */
		uint8_t c = u8() & 7;

		DESC("[invalid #%u] ", c);
		switch (c) {
		case 0: len = 0; break;
		case 1: va += PAGE / 2; break;
		case 2: pa += 0x100; break;
		case 3: va = 0 - 2 * PAGE; len = 4 * PAGE; break; /* wraps */
		case 4: va = fmt->user_end - PAGE; len = 2 * PAGE; break;
		case 5: va = fmt->user_end + PT_GiB; break; /* non-canonical */
		case 6: prop.flags |= 1u << 20; break;
		default: pa = fmt->pa_limit - PAGE; break;
		}
	}
	want = norm_for(t, prop, &norm) ? PT_EINVAL :
	       first_err(range_err(m, va, len, true, &h), pa_err(pa, len));
	if (len == 0 || va + (len - 1) < va)
		want = PT_EINVAL;
	if (want == 0) {
		plan_map(h, va, pa, len, norm, MAP_LEAF_CAP, &plan);
		if (plan.n > MAP_LEAF_CAP) { /* keep the per-step checks cheap */
			len = 16 * PAGE;
			if (len - 1 > w.last - va)
				len = w.last - va + 1;
			plan_map(h, va, pa, len, norm, MAP_LEAF_CAP, &plan);
		}
		if (overlaps(h, va, va + (len - 1)))
			want = PT_EEXIST;
	}
	DESC("map %s va=%#" PRIx64 " len=%#" PRIx64 " pa=%#" PRIx64 " flags=%#x cache=%u",
	     m->name, va, len, pa, prop.flags, prop.cache);
	cursor_yield_to(t);
	watch_prepare();
	if (want == 0 && !lax)
		model_insert(h, &plan, &eff);
	watch_begin(t, h, false, lax);
	inj_begin(&j, t, flags);
	err = pt_map(m->t, va, pa, len, prop);
	if (call_done("pt_map", t, false, &j, err, want))
		return;
	if (err == 0 && lax)
		model_insert(h, &plan, &eff);
}

static void op_map_frames(int t, uint8_t flags)
{
	static uint64_t frames[MAX_MAPF + 1];
	struct mtable *m = &T[t];
	struct window w;
	uint64_t va = gen_va(m, &w);
	uint8_t nb = u8(), fs = u8();
	size_t n = nb < 240 ? 1 + (nb & 31) : MAX_MAPF - (nb - 240);
	struct pt_prop prop = gen_prop(), norm = {0, 0};
	struct half *h = NULL;
	bool frames_bad = false, lax = flags & 0x04;
	int want, err, ferr = 0;
	struct inj j;

	if ((n - 1) * PAGE > w.last - va)
		n = (w.last - va) / PAGE + 1;
	for (size_t i = 0; i <= MAX_MAPF; i++) /* fs: first frame and stride */
		frames[i] = pool[((fs & 15) + i * (1 + (fs >> 4))) % NPOOL];
	if (flags & 0x40) {
		uint8_t c = u8() & 7;

		DESC("[invalid #%u] ", c);
		switch (c) {
		case 0: n = 0; break;
		case 1: va += PAGE / 2; break;
		case 2: frames[n - 1] += 0x80; break;                /* unaligned */
		case 3: frames[0] = pt_table_root(T[T_U].t); break;  /* a node */
		case 4: frames[n / 2] = ARENA_BYTES + PAGE; break;   /* unmanaged */
		case 5: va = fmt->user_end - PAGE; n = n < 2 ? 2 : n; break;
		case 6: prop.cache = PT_CACHE_WC; break;
		default: va = 0 - PAGE; n = n < 2 ? 2 : n; break; /* wraps */
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!pool_held(frames[i]))
			frames_bad = true;
		else if (frames[i] & (PAGE - 1))
			ferr = PT_EALIGN;
	}
	if (n == 0 || frames_bad || norm_for(t, prop, &norm))
		want = PT_EINVAL;
	else
		want = first_err(range_err(m, va, n * PAGE, true, &h), ferr);
	if (want == 0 && overlaps(h, va, va + (n * PAGE - 1)))
		want = PT_EEXIST;
	DESC("map_frames %s va=%#" PRIx64 " n=%zu frames=%#" PRIx64 ",%#" PRIx64
	     "... flags=%#x cache=%u", m->name, va, n, n ? frames[0] : 0,
	     n > 1 ? frames[1] : 0, prop.flags, prop.cache);
	cursor_yield_to(t);
	if (want == 0)
		plan_map_frames(va, frames, n, norm, &plan);
	watch_prepare();
	if (want == 0 && !lax)
		model_insert(h, &plan, &eff);
	watch_begin(t, h, false, lax);
	inj_begin(&j, t, flags);
	err = pt_map_frames(m->t, va, frames, n, prop);
	if (call_done("pt_map_frames", t, false, &j, err, want))
		return;
	if (err == 0 && lax)
		model_insert(h, &plan, &eff);
}

/* An operation on a range that may go into the table's batch: unmap,
 * protect or move (to), and what the model makes of it. */
struct range_op {
	enum { RO_UNMAP, RO_PROTECT, RO_MOVE } kind;
	struct half *h;
	uint64_t va, len, to;
	uint32_t set, clear;
};

static void range_op_model(const struct range_op *o)
{
	struct cut c = {o->kind == RO_UNMAP, o->set, o->clear, NULL};
	size_t recut;

	if (o->kind == RO_MOVE)
		model_move(o->h, o->va, o->to, o->len, &eff, &recut);
	else
		model_cut(o->h, o->va, o->va + (o->len - 1), &c, &eff);
}

/* Runs o on table t, into its batch or not as flags say (bad_batch: a
 * foreign one), against the model: before the call, or after it succeeded
 * when fault injection makes the outcome unknown (lax). */
static void range_op_run(int t, uint8_t flags, bool bad_batch, const struct range_op *o,
			 int want)
{
	static const char *const name[] = {"pt_unmap", "pt_protect", "pt_move"};
	struct pt_table *pt = T[t].t;
	bool batched, lax = flags & 0x04;
	struct pt_flush *fl;
	struct inj j;
	int err;

	cursor_yield_to(t);
	fl = pick_batch(t, flags, bad_batch, &batched);
	watch_prepare();
	if (want == 0 && !lax)
		range_op_model(o);
	watch_begin(t, o->h, batched, lax);
	inj_begin(&j, t, flags);
	err = o->kind == RO_UNMAP ? pt_unmap(pt, o->va, o->len, fl)
	      : o->kind == RO_PROTECT ? pt_protect(pt, o->va, o->len, o->set, o->clear, fl)
				      : pt_move(pt, o->va, o->to, o->len, fl);
	if (call_done(name[o->kind], t, batched, &j, err, want))
		return;
	if (err == 0 && lax) {
		range_op_model(o);
		if (batched)
			pend_tracked(&eff);
	}
}

/* Unmap (protect == false) or protect. */
static void op_unmap_protect(int t, uint8_t flags, bool protect)
{
	struct mtable *m = &T[t];
	struct window w;
	uint64_t va = gen_va(m, &w), len = gen_len(va, &w);
	uint32_t set = 0, clear = 0;
	bool bad_batch = false;
	struct half *h = NULL;
	int want;

	if (protect)
		gen_set_clear(&set, &clear);
	if (flags & 0x40) {
		uint8_t k = u8() & 7;

		if (!protect && k >= 6) /* set and clear: protect only */
			k -= 6;
		DESC("[invalid #%u] ", k);
		switch (k) {
		case 0: len = 0; break;
		case 1: va += PAGE / 2; break;
		case 2: len += 0x100; break;
		case 3: va = 0 - 2 * PAGE; len = 4 * PAGE; break;
		case 4: va = fmt->user_end - PAGE; len = 2 * PAGE; break;
		case 5: bad_batch = true; break;
		case 6: set |= PT_W; clear |= PT_W; break;
		default: set |= 1u << 20; break;
		}
	}
	want = range_err(m, va, len, true, &h);
	if (bad_batch || (set & clear) || ((set | clear) & ~allowed_flags))
		want = PT_EINVAL;
	DESC("%s %s va=%#" PRIx64 " len=%#" PRIx64, protect ? "protect" : "unmap", m->name,
	     va, len);
	if (protect)
		DESC(" set=%#x clear=%#x", set, clear);
	range_op_run(t, flags, bad_batch,
		     &(struct range_op){protect ? RO_PROTECT : RO_UNMAP, h, va, len, 0, set, clear},
		     want);
}

/* One invalid range (one more byte says which): empty, unaligned, across
 * the end of the user half, wrapping past 2^64. */
static void bad_range(uint64_t *va, uint64_t *len)
{
	uint8_t c = u8() & 3;

	DESC("[invalid #%u] ", c);
	switch (c) {
	case 0: *len = 0; break;
	case 1: *va += PAGE / 2; break;
	case 2: *va = fmt->user_end - PAGE; *len = 2 * PAGE; break;
	default: *va = 0 - 2 * PAGE; *len = 4 * PAGE; break;
	}
}

/* A move's destination from two bytes: d bits 6-7 pick a distance of
 * 1 + (k & 0x7f) GiB, 2 MiB or pages (down if k bit 7), or (3) an address
 * of a window drawn like va's. */
static uint64_t gen_to(const struct mtable *m, uint64_t va)
{
	uint8_t d = u8(), k = u8();
	uint64_t unit = (d >> 6) == 0 ? PT_GiB : (d >> 6) == 1 ? 2 * PT_MiB : PAGE;
	uint64_t dist = unit * (1 + (k & 0x7f));
	struct window w;

	if ((d >> 6) == 3)
		return gen_va(m, &w);
	return k & 0x80 ? va - dist : va + dist;
}

/* The first of two ranges' errors in design §5's order (overlap: EINVAL). */
static int move_err(const struct mtable *m, uint64_t from, uint64_t to, uint64_t len,
		    struct half **hp)
{
	struct half *h_to = NULL;
	int err = first_err(range_err(m, from, len, true, hp), range_err(m, to, len, true, &h_to));

	if (len && from <= to + (len - 1) && to <= from + (len - 1))
		return PT_EINVAL;
	if (err == 0 && *hp != h_to)
		FAIL("move between halves passed the range checks");
	return err;
}

/* pt_move of a range, tamed to MAP_LEAF_CAP leaves, into the table's
 * batch or not. */
static void op_move(int t, uint8_t flags)
{
	struct mtable *m = &T[t];
	struct window w;
	uint64_t va = gen_va(m, &w), len = gen_len(va, &w), to = gen_to(m, va);
	bool bad_batch = false;
	struct half *h = NULL;
	int want;

	if (flags & 0x40) {
		uint8_t k = u8() & 3;

		DESC("[invalid #%u] ", k);
		switch (k) {
		case 0: to = va + (len / PAGE / 2) * PAGE; break; /* overlapping */
		case 1: to += PAGE / 2; break;
		case 2: bad_batch = true; break;
		default: bad_range(&va, &len); break;
		}
	}
	want = move_err(m, va, to, len, &h);
	if (want == 0)
		to = move_tame(h, va, len, to, MAP_LEAF_CAP);
	want = bad_batch ? PT_EINVAL : move_err(m, va, to, len, &h);
	if (want == 0 && (overlaps(h, to, to + (len - 1)) || marks_overlap(h, to, to + (len - 1))))
		want = PT_EEXIST;
	DESC("move %s va=%#" PRIx64 " len=%#" PRIx64 " to=%#" PRIx64, m->name, va, len, to);
	range_op_run(t, flags, bad_batch, &(struct range_op){RO_MOVE, h, va, len, to, 0, 0},
		     want);
}

static void op_query(int t)
{
	struct mtable *m = &T[t];
	struct window w;
	uint64_t va = gen_va(m, &w) + u8() * 16u;
	struct half *h = NULL;
	struct pt_mapping got;
	char a[160], b[160];
	int want = range_err(m, va & ~(PAGE - 1), PAGE, false, &h), err;
	size_t i = 0;

	if (want == 0) {
		i = first_in(h, va, va);
		if (i == h->leaves.n)
			want = PT_ENOENT;
	}
	DESC("query %s va=%#" PRIx64, m->name, va);
	err = pt_query(m->t, va, &got);
	check_result("pt_query", err, want);
	if (err == 0 && !same_mapping(&got, &h->leaves.v[i]))
		FAIL("pt_query: want %s, got %s", fmt_leaf(&h->leaves.v[i], a, sizeof(a)),
		     pt_test_fmt_mapping(&got, b, sizeof(b)));
}

/*
 * pt_copy from table t into another one (a byte: which other, COW, which
 * side the invalidation checker watches: it follows one table).  Returns
 * the destination.
 */
static int op_copy(int t, uint8_t flags)
{
	static struct effects other;
	struct mtable *m = &T[t];
	struct window w;
	uint64_t va = gen_va(m, &w), len = gen_len(va, &w);
	uint8_t c = u8();
	int d = (t + 1 + (c & 1)) % NT, watched = c & 4 ? d : t;
	unsigned cflags = c & 2 ? PT_COPY_COW : 0;
	bool batched, lax = flags & 0x04;
	struct half *hs = NULL, *hd = NULL;
	struct pt_flush *fl;
	struct inj j;
	int want, err;

	if (flags & 0x40) {
		uint8_t k = u8() & 3;

		DESC("[invalid #%u] ", k);
		switch (k) {
		case 0: len = 0; break;
		case 1: va += PAGE / 2; break;
		case 2: cflags |= 2; break; /* no such flag */
		default: d = t; break;
		}
	}
	struct mtable *dm = &T[d];
	want = first_err(range_err(m, va, len, true, &hs), range_err(dm, va, len, true, &hd));
	if (len == 0 || va + (len - 1) < va || d == t || m->features != dm->features ||
	    m->cap != dm->cap || (cflags & ~PT_COPY_COW))
		want = PT_EINVAL;
	if (want == 0)
		want = copy_state_err(hd, hs, va, va + (len - 1));
	DESC("copy %s into %s va=%#" PRIx64 " len=%#" PRIx64 " flags=%#x, watching %s",
	     m->name, dm->name, va, len, cflags, T[watched].name);
	cursor_yield_to(t);
	cursor_yield_to(d);
	fl = pick_batch(t, flags, false, &batched);
	watch_prepare();
	other.nodes_removed = other.splits = other.pieces.n = other.breaks.n = 0;
	if (want == 0 && !lax)
		model_copy(hd, hs, va, va + (len - 1), cflags & PT_COPY_COW,
			   watched == t ? &eff : &other, watched == t ? &other : &eff);
	watch_begin(watched, watched == t ? hs : hd, batched && watched == t, lax);
	inj_begin(&j, t, flags);
	err = pt_copy(dm->t, m->t, va, len, cflags, fl);
	if (!call_done("pt_copy", watched, batched && watched == t, &j, err, want) &&
	    err == 0 && lax)
		model_copy(hd, hs, va, va + (len - 1), cflags & PT_COPY_COW, &other, &other);
	return d;
}

/* A harvest's bitmap and the model's: a window is at most 4 GiB. */
static uint64_t hv_got[4 * PT_GiB / PAGE / 64], hv_want[4 * PT_GiB / PAGE / 64];

/* The harvest of [va, last] that returned err: its bitmap as the model's. */
static void harvest_compare(const char *what, int err, uint64_t va, uint64_t last)
{
	for (uint64_t i = 0; err == 0 && i < ((last - va) / PAGE + 64) / 64; i++)
		if (hv_got[i] != hv_want[i])
			FAIL("%s: bitmap word %" PRIu64 " is %#" PRIx64 ", want %#" PRIx64, what,
			     i, hv_got[i], hv_want[i]);
}

/* A harvest's `what` from a byte: bits 0-1 what to ask (0: D), bit 2 clear. */
static unsigned harvest_what(uint8_t c)
{
	return (c & 3 ? c & 3 : PT_HARVEST_DIRTY) | (c & 4 ? PT_HARVEST_CLEAR : 0);
}

static uint32_t harvest_ask(unsigned what)
{
	return (what & PT_HARVEST_ACCESSED ? PT_A : 0) | (what & PT_HARVEST_DIRTY ? PT_D : 0);
}

/*
 * pt_harvest of table t (a byte: harvest_what's), its bitmap against the
 * model's.
 */
static void op_harvest(int t, uint8_t flags)
{
	struct mtable *m = &T[t];
	struct window w;
	uint64_t va = gen_va(m, &w), len = gen_len(va, &w);
	unsigned what = harvest_what(u8());
	bool bad_batch = false, batched;
	struct half *h = NULL;
	struct pt_flush *fl;
	struct inj j;
	int want, err;

	if (flags & 0x40) {
		uint8_t k = u8() & 3;

		DESC("[invalid #%u] ", k);
		switch (k) {
		case 0: what &= PT_HARVEST_CLEAR; break; /* asks nothing */
		case 1: va += PAGE / 2; break;
		case 2: what |= 8; break;                 /* no such flag */
		default: bad_batch = true; break;
		}
	}
	want = range_err(m, va, len, true, &h);
	if (bad_batch || !(what & 3) || (what & 8))
		want = PT_EINVAL;
	DESC("harvest %s va=%#" PRIx64 " len=%#" PRIx64 " what=%#x", m->name, va, len, what);
	cursor_yield_to(t);
	fl = pick_batch(t, flags, bad_batch, &batched);
	watch_prepare();
	if (want == 0)
		model_harvest(h, va, va + (len - 1), harvest_ask(what), what & PT_HARVEST_CLEAR,
			      hv_want, &eff);
	watch_begin(t, h, batched, false);
	inj_begin(&j, t, flags);
	err = pt_harvest(m->t, va, len, what, hv_got, fl);
	call_done("pt_harvest", t, batched, &j, err, want);
	harvest_compare("pt_harvest", err, va, va + (len - 1));
}

/* pt_mark on table t (a byte: the value's low bits, 0xff: one too wide). */
static void op_mark(int t, uint8_t flags)
{
	struct mtable *m = &T[t];
	struct window w;
	uint64_t va = gen_va(m, &w), len = gen_len(va, &w);
	uint8_t c = u8();
	uint64_t value = c == 0xff ? (1ull << fmt->marker_bits) : c * 0x0101010101ull;
	bool lax = flags & 0x04;
	struct half *h = NULL;
	struct inj j;
	int want, err;

	value &= c == 0xff ? ~0ull : (1ull << fmt->marker_bits) - 1;
	/* One model entry per page: at most 256 pages, or one 2M entry (a
	 * huge marker) from a 2M boundary. */
	if (len > 256 * PAGE)
		len = va & (2 * PT_MiB - 1) ? 256 * PAGE : 2 * PT_MiB;
	if (flags & 0x40)
		bad_range(&va, &len);
	want = range_err(m, va, len, true, &h);
	if (value >> fmt->marker_bits)
		want = PT_EINVAL;
	if (want == 0 && overlaps(h, va, va + (len - 1)))
		want = PT_EEXIST;
	DESC("mark %s va=%#" PRIx64 " len=%#" PRIx64 " value=%#" PRIx64, m->name, va, len, value);
	cursor_yield_to(t);
	watch_prepare();
	if (want == 0 && !lax)
		model_mark(h, va, va + (len - 1), value);
	watch_begin(t, h, false, lax);
	inj_begin(&j, t, flags);
	err = pt_mark(m->t, va, len, value);
	if (!call_done("pt_mark", t, false, &j, err, want) && err == 0 && lax)
		model_mark(h, va, va + (len - 1), value);
}

/*
 * pt_split on table t (a byte: bit 0 down to 2M rather than 4K, bit 1
 * from a stash of bits 2-4 nodes, which may run dry: PT_ENOMEM with what
 * was split kept; fault injection only without a stash, where PT_ENOMEM
 * changes nothing).
 */
static void op_split(int t, uint8_t flags)
{
	struct mtable *m = &T[t];
	struct window w;
	uint64_t va = gen_va(m, &w), len = gen_len(va, &w);
	uint8_t c = u8();
	unsigned to = c & 1 ? 2 : 1;
	bool stash = c & 2, lax = !stash && (flags & 0x04);
	uint64_t nodes = (c >> 2) & 7;
	struct pt_reserve r = {0, 0};
	struct half *h = NULL;
	struct inj j;
	int want, err;

	if (flags & 0x40)
		bad_range(&va, &len);
	want = range_err(m, va, len, true, &h);
	if (want == 0 && split_need(h, va, va + (len - 1), to) > 64) /* the checks cost per leaf */
		len = PAGE;
	if (want == 0 && stash && split_need(h, va, va + (len - 1), to) > nodes)
		want = PT_ENOMEM;
	DESC("split %s va=%#" PRIx64 " len=%#" PRIx64 " to %u", m->name, va, len, to);
	if (stash)
		DESC(" from a stash of %" PRIu64, nodes);
	cursor_yield_to(t);
	watch_prepare();
	if ((want == 0 || want == PT_ENOMEM) && !lax)
		model_split(h, va, va + (len - 1), to, stash ? nodes : UINT64_MAX, &eff);
	if (stash && pt_reserve_fill(m->t, &r, nodes))
		FAIL("pt_reserve_fill of %" PRIu64 " nodes failed", nodes);
	watch_begin(t, h, false, lax);
	inj_begin(&j, t, lax ? flags : flags & ~0x04);
	err = pt_split(m->t, va, len, to, stash ? &r : NULL);
	pt_reserve_drain(m->t, &r);
	if (want == PT_ENOMEM) { /* the stash ran dry (no injection): not a leak */
		check_result("pt_split", err, want);
		watch_end(t, false, false);
		return;
	}
	if (!call_done("pt_split", t, false, &j, err, want) && err == 0 && lax)
		model_split(h, va, va + (len - 1), to, UINT64_MAX, &eff);
}

static void op_walk(int t, uint8_t flags)
{
	struct mtable *m = &T[t];
	struct window w;
	uint64_t va = gen_va(m, &w), len = gen_len(va, &w);
	size_t stop = u8() & 7, i = 0, n = 0;
	struct half *h = NULL;
	int want;

	if (flags & 0x40)
		bad_range(&va, &len);
	want = range_err(m, va, len, false, &h);
	if (want == 0) {
		i = lower_leaf(&h->leaves, va);
		for (n = i; n < h->leaves.n && h->leaves.v[n].va <= va + (len - 1); n++)
			;
		n -= i;
	}
	DESC("for_each %s va=%#" PRIx64 " len=%#" PRIx64 " stop_after=%zu", m->name, va, len,
	     stop);
	compare_walk(m->t, m->name, va, len, want, want ? NULL : h->leaves.v + i, n, stop,
		     "ranged walk");
}

/* ---------------------------------------------------------- cursor */

static void op_cursor_open(int t, uint8_t flags)
{
	struct mtable *m = &T[t];
	struct window w;
	uint64_t va = gen_va(m, &w), len = gen_len(va, &w);
	struct half *h = NULL;
	int want, err;

	if (flags & 0x40)
		bad_range(&va, &len);
	want = range_err(m, va, len, true, &h);
	DESC("cursor_open %s va=%#" PRIx64 " len=%#" PRIx64, m->name, va, len);
	if (cur.open)
		DESC(" (closes the open one)");
	cursor_close();
	err = pt_cursor_open(&cur.c, m->t, va, len);
	check_result("pt_cursor_open", err, want);
	if (err)
		return;
	cur.open = true;
	cur.t = t;
	cur.h = h;
	cur.start = cur.cur = va;
	cur.last = va + (len - 1);
	cur.at_end = false;
}

/* The window [cur, min(cur + n, end)) as an inclusive last byte. */
static uint64_t window_last(uint64_t n)
{
	uint64_t l = cur.cur + (n - 1);

	return l < cur.cur || l > cur.last ? cur.last : l;
}

static void advance(uint64_t item_va, uint64_t item_len)
{
	uint64_t last = item_va + (item_len - 1);

	cur.at_end = last >= cur.last;
	cur.cur = last + 1;
}

/* A closed cursor: every call is PT_EINVAL. */
static void closed_cursor_calls(void)
{
	struct pt_mapping m;
	uint64_t va;

	DESC(" on a closed cursor");
	check_result("find_next (closed)", pt_cursor_find_next(&cur.c, UINT64_MAX, &va),
		     PT_EINVAL);
	check_result("query (closed)", pt_cursor_query(&cur.c, &m), PT_EINVAL);
	check_result("jump (closed)", pt_cursor_jump(&cur.c, 0), PT_EINVAL);
	check_result("take_next (closed)", pt_cursor_take_next(&cur.c, UINT64_MAX, NULL, NULL),
		     PT_EINVAL);
	check_result("query_marker (closed)", pt_cursor_query_marker(&cur.c, &va), PT_EINVAL);
	check_result("mark (closed)", pt_cursor_mark(&cur.c, PAGE, 1), PT_EINVAL);
	check_result("harvest_next (closed)",
		     pt_cursor_harvest_next(&cur.c, PAGE, PT_HARVEST_DIRTY, hv_got, NULL),
		     PT_EINVAL);
}

static void op_cursor_query(void)
{
	struct pt_mapping got;
	char a[160], b[160];
	size_t i = cur.h->leaves.n;
	int want = PT_ENOENT, err;

	if (!cur.at_end && (i = first_in(cur.h, cur.cur, cur.cur)) < cur.h->leaves.n)
		want = 0;
	DESC("cursor_query at %#" PRIx64 "%s", cur.cur, cur.at_end ? " (end)" : "");
	err = pt_cursor_query(&cur.c, &got);
	check_result("pt_cursor_query", err, want);
	if (err == 0 && !same_mapping(&got, &cur.h->leaves.v[i]))
		FAIL("pt_cursor_query: want %s, got %s",
		     fmt_leaf(&cur.h->leaves.v[i], a, sizeof(a)),
		     pt_test_fmt_mapping(&got, b, sizeof(b)));
}

static void op_find_next(void)
{
	uint64_t n = gen_window(), found = 0, want_va = 0;
	int want, err;

	DESC("find_next n=%#" PRIx64 " from %#" PRIx64 "%s", n, cur.cur,
	     cur.at_end ? " (end)" : "");
	if (n == 0 || cur.at_end) {
		want = PT_EINVAL;
	} else {
		size_t i = first_in(cur.h, cur.cur, window_last(n));

		want = i < cur.h->leaves.n ? 0 : PT_ENOENT;
		if (want == 0)
			want_va = cur.h->leaves.v[i].va > cur.cur ? cur.h->leaves.v[i].va : cur.cur;
	}
	err = pt_cursor_find_next(&cur.c, n, &found);
	check_result("pt_cursor_find_next", err, want);
	if (err == 0) {
		if (found != want_va)
			FAIL("find_next found %#" PRIx64 ", want %#" PRIx64, found, want_va);
		cur.cur = found;
	}
}

static void op_jump(uint8_t flags)
{
	uint8_t a = u8(), b = u8();
	uint64_t span = cur.last - cur.start; /* may be 2^64 - 1 */
	uint64_t off = (((uint64_t)(a & 0x7f) << 8 | b) % (span / PAGE + 1)) * PAGE;
	uint64_t va = cur.start + (a & 0x80 ? (span & ~(PAGE - 1)) - off : off);
	int want, err;

	if (flags & 0x40) {
		switch (b & 3) {
		case 0: va += 0x10; break;
		case 1: va = cur.start - PAGE; break;
		case 2: va = cur.last + 1; break;
		default: va = 0; break;
		}
	}
	want = (va & (PAGE - 1)) ? PT_EALIGN : (va < cur.start || va > cur.last) ? PT_ERANGE : 0;
	DESC("jump to %#" PRIx64, va);
	err = pt_cursor_jump(&cur.c, va);
	check_result("pt_cursor_jump", err, want);
	if (err == 0) {
		cur.cur = va;
		cur.at_end = false;
	}
}


/* What take_next must remove: a whole subtree, or one leaf. */
struct take {
	bool subtree;
	uint64_t va, len;
	size_t nm, ntr;          /* subtree: its mappings, tracked ones */
	struct leaf l;           /* leaf */
};

/*
 * design §5, docs/api.md: the first item at or after cur is the largest
 * node below the root on the way to the first mapping (leaf i) whose range
 * lies in the window [cur, wl] (a shared kernel half's root-slot nodes
 * never), else that mapping's leaf, split until a piece lies in the
 * window.  Empty nodes wholly in the window before it are detached too.
 * Applies it to the model (with its effects) and says what it was.
 */
static void take_model(struct half *h, size_t i, uint64_t wl, struct take *x)
{
	uint64_t f = h->leaves.v[i].va > cur.cur ? h->leaves.v[i].va : cur.cur;
	unsigned sub = 0;
	size_t k, e;

	memset(x, 0, sizeof(*x));
	for (unsigned m = levels - 1; m >= 1 && !sub; m--) {
		uint64_t base = f & ~(node_span(m) - 1);

		if (m != h->pinned_level && base >= cur.cur &&
		    base + (node_span(m) - 1) <= wl && node_has(h, m, base))
			sub = m;
	}
	if (sub) {
		x->subtree = true;
		x->len = node_span(sub);
		x->va = f & ~(x->len - 1);
		k = lower_leaf(&h->leaves, x->va);
		for (e = k; e < h->leaves.n && h->leaves.v[e].va <= x->va + (x->len - 1); e++) {
			x->nm++;
			x->ntr += h->leaves.v[e].tracked;
		}
		take_leaves(h, k, e, &eff);
		eff.nodes_removed += nodes_remove_inside(h, x->va, x->va + (x->len - 1));
	} else {
		k = chain_split(h, i, cur.cur, wl, &eff);
		x->l = h->leaves.v[k];
		x->va = x->l.va;
		x->len = x->l.size;
		take_leaves(h, k, k + 1, &eff);
	}
	if (x->va > cur.cur)
		eff.nodes_removed += nodes_remove_inside(h, cur.cur, x->va - 1);
}

static void op_take_next(uint8_t flags)
{
	uint64_t n = gen_window(), wl = 0;
	bool bad_batch = (flags & 0x40) && (u8() & 1), batched, lax = flags & 0x04;
	struct half *h = cur.h;
	struct pt_flush *fl;
	struct pt_taken tk;
	struct take x;
	size_t i = h->leaves.n;
	char a[160], b[160];
	struct inj j;
	int want, err;

	DESC("take_next n=%#" PRIx64 " from %#" PRIx64 "%s", n, cur.cur,
	     cur.at_end ? " (end)" : "");
	fl = pick_batch(cur.t, flags, bad_batch, &batched);
	if (n == 0 || bad_batch) {
		want = PT_EINVAL;
	} else if (cur.at_end) {
		want = PT_ENOENT;
	} else {
		wl = window_last(n);
		i = first_in(h, cur.cur, wl);
		want = i < h->leaves.n && chain_fits(&h->leaves.v[i], cur.cur, wl) ? 0 :
										 PT_ENOENT;
	}
	memset(&tk, 0xa5, sizeof(tk));
	watch_prepare();
	if (want == 0 && !lax)
		take_model(h, i, wl, &x);
	watch_begin(cur.t, h, batched, lax);
	inj_begin(&j, cur.t, flags);
	err = pt_cursor_take_next(&cur.c, n, &tk, fl);
	if (call_done("pt_cursor_take_next", cur.t, batched, &j, err, want) || err)
		return;
	if (lax) {
		take_model(h, i, wl, &x);
		if (batched)
			pend_tracked(&eff);
	}
	if (x.subtree) {
		DESC(" -> subtree va=%#" PRIx64 " len=%#" PRIx64 " maps=%" PRIu64
		     " tracked=%" PRIu64, tk.va, tk.len, tk.nr_mappings, tk.nr_tracked);
		if (!tk.subtree)
			FAIL("take_next took the leaf %s, want the node [%#" PRIx64 ", +%#"
			     PRIx64 ")", pt_test_fmt_mapping(&tk.mapping, a, sizeof(a)), x.va,
			     x.len);
		if (tk.va != x.va || tk.len != x.len || tk.nr_mappings != x.nm ||
		    tk.nr_tracked != x.ntr)
			FAIL("take_next: want the node [%#" PRIx64 ", +%#" PRIx64 ") with %zu"
			     " mappings (%zu tracked)", x.va, x.len, x.nm, x.ntr);
	} else {
		DESC(" -> leaf %s", fmt_leaf(&x.l, a, sizeof(a)));
		if (tk.subtree)
			FAIL("take_next took the node [%#" PRIx64 ", +%#" PRIx64 "), want"
			     " the leaf %s", tk.va, tk.len, a);
		if (!same_mapping(&tk.mapping, &x.l))
			FAIL("take_next took %s, want %s",
			     pt_test_fmt_mapping(&tk.mapping, b, sizeof(b)), a);
	}
	advance(x.va, x.len);
}

struct pn_op {
	uint32_t set, clear;
	int cache;             /* -1: keep */
	unsigned calls;
	struct pt_prop seen;
};

static void pn_apply(struct pt_prop *p, void *arg)
{
	struct pn_op *o = arg;

	o->calls++;
	o->seen = *p;
	p->flags = (p->flags | o->set) & ~o->clear;
	if (o->cache >= 0)
		p->cache = (uint32_t)o->cache;
}

/* protect_next's change of leaf i (split to fit [cur, wl]) in the model:
 * its range is invalidated if anything changed, and on AArch64 broken
 * first where nG or the memory type of a valid leaf changes.  Returns the
 * leaf's index. */
static size_t pn_model(struct half *h, size_t i, uint64_t wl, struct pt_prop newp)
{
	size_t k = chain_split(h, i, cur.cur, wl, &eff);
	struct leaf *l = &h->leaves.v[k];
	struct pt_prop old = l->prop;

	l->prop = newp;
	if (old.flags != newp.flags || old.cache != newp.cache)
		piece_add(&eff, l->va, leaf_last(l), -1);
	if (pt_rules_update_needs_break(tf->fam, old, newp))
		req_add(&eff, REQ_UPDATE, l->va, leaf_last(l));
	return k;
}

static void op_protect_next(uint8_t flags)
{
	uint64_t n = gen_window(), wl = 0, got_va = 0, got_len = 0;
	struct pn_op o = {0, 0, -1, 0, {0, 0}};
	uint8_t cb = u8();
	bool bad_batch = (flags & 0x40) && (cb & 0x80), batched, lax = flags & 0x04;
	struct half *h = cur.h;
	struct pt_prop newp = {0, 0}, oldp = {0, 0};
	struct pt_flush *fl;
	size_t i = h->leaves.n, k = 0;
	char a[160];
	struct inj j;
	int want, err;

	gen_set_clear(&o.set, &o.clear);
	if (cb & 0x40) /* may be WC or past the last policy: inexpressible */
		o.cache = cb & 7 ? (cb & 7) % 5 : PT_CACHE_UC;
	if ((flags & 0x40) && (cb & 0x20))
		o.set |= 1u << 21;
	DESC("protect_next n=%#" PRIx64 " from %#" PRIx64 "%s set=%#x clear=%#x cache=%d", n,
	     cur.cur, cur.at_end ? " (end)" : "", o.set, o.clear, o.cache);
	fl = pick_batch(cur.t, flags, bad_batch, &batched);
	if (n == 0 || bad_batch) {
		want = PT_EINVAL;
	} else if (cur.at_end) {
		want = PT_ENOENT;
	} else {
		wl = window_last(n);
		i = first_in(h, cur.cur, wl);
		want = i < h->leaves.n && chain_fits(&h->leaves.v[i], cur.cur, wl) ? 0 :
										 PT_ENOENT;
		if (want == 0) {
			struct pt_prop p = oldp = h->leaves.v[i].prop;

			p.flags = (p.flags | o.set) & ~o.clear;
			if (o.cache >= 0)
				p.cache = (uint32_t)o.cache;
			if (norm_for(cur.t, p, &newp))
				want = PT_EINVAL;
		}
	}
	watch_prepare();
	if (want == 0 && !lax)
		k = pn_model(h, i, wl, newp);
	watch_begin(cur.t, h, batched, lax);
	inj_begin(&j, cur.t, flags);
	err = pt_cursor_protect_next(&cur.c, n, pn_apply, &o, &got_va, &got_len, fl);
	if (o.calls > 1 || ((want == PT_ENOENT || n == 0 || bad_batch) && o.calls))
		FAIL("protect_next called op %u times", o.calls);
	if (i < h->leaves.n && o.calls &&
	    (o.seen.flags != oldp.flags || o.seen.cache != oldp.cache))
		FAIL("protect_next gave op flags %#x cache %u, the leaf has %#x %u",
		     o.seen.flags, o.seen.cache, oldp.flags, oldp.cache);
	if (call_done("pt_cursor_protect_next", cur.t, batched, &j, err, want) || err)
		return;
	if (o.calls != 1)
		FAIL("protect_next succeeded with op called %u times", o.calls);
	if (lax) {
		k = pn_model(h, i, wl, newp);
		if (batched)
			pend_tracked(&eff);
	}
	DESC(" -> %s", fmt_leaf(&h->leaves.v[k], a, sizeof(a)));
	if (got_va != h->leaves.v[k].va || got_len != h->leaves.v[k].size)
		FAIL("protect_next reported [%#" PRIx64 ", +%#" PRIx64 "), want %s", got_va,
		     got_len, a);
	advance(h->leaves.v[k].va, h->leaves.v[k].size);
}

static void op_cursor_map(uint8_t flags)
{
	uint8_t s = u8(), f = u8();
	struct pt_mapping item;
	struct pt_prop norm = {0, 0};
	struct half *h = cur.h;
	bool held, lax = flags & 0x04;
	unsigned level;
	struct inj j;
	int want = 0, err;

	memset(&item, 0, sizeof(item));
	item.size = (s & 3) == 0 ? PAGE : (s & 3) == 1 ? 2 * PT_MiB :
		    (s & 3) == 2 ? PT_GiB : (s & 4) ? 512 * PT_GiB : 2 * PAGE;
	item.va = cur.at_end ? cur.last + 1 : cur.cur;
	item.prop = gen_prop();
	item.tracked = (s & 0x18) == 0x18;
	item.pa = item.tracked ? pool[f % NPOOL] :
		  ((uint64_t)f << 30 | (cur.cur & (PT_GiB - 1))) & ~(item.size - 1);
	if (s & 0x20) /* congruent only modulo 4 KiB */
		item.pa = ((uint64_t)f << 21) + ((uint64_t)(s >> 6) << 12);
	if (flags & 0x40) {
		switch (s >> 6) {
		case 0: item.va += PAGE; break;
		case 1: item.pa += 0x40; break;
		case 2: item.pa = fmt->pa_limit - (item.size > PAGE ? item.size : PAGE) / 2; break;
		default: item.tracked = true; item.pa = pt_table_root(T[T_K].t); break;
		}
	}
	for (level = 1; level <= fmt->levels && pt_level_size(level) != item.size; level++)
		;
	held = pool_held(item.pa);
	if (cur.at_end || item.va != cur.cur || level > fmt->levels ||
	    level > h->max_level || (item.tracked && level != 1) ||
	    norm_for(cur.t, item.prop, &norm) || (item.tracked && !held))
		want = PT_EINVAL;
	else if ((item.va | item.pa) & (item.size - 1))
		want = PT_EALIGN;
	else if (item.va + (item.size - 1) > cur.last || item.va + (item.size - 1) < item.va ||
		 pa_err(item.pa, item.size))
		want = PT_ERANGE;
	else if (overlaps(h, item.va, item.va + (item.size - 1)))
		want = PT_EEXIST;
	{
		char a[160];

		DESC("cursor_map %s%s", pt_test_fmt_mapping(&item, a, sizeof(a)),
		     cur.at_end ? " (end)" : "");
	}
	if (want == 0) {
		struct leaf l = {item.va, item.pa, item.size, norm, item.tracked};

		plan.n = 0;
		push(&plan, &l);
	}
	watch_prepare();
	if (want == 0 && !lax)
		model_insert(h, &plan, &eff);
	watch_begin(cur.t, h, false, lax);
	inj_begin(&j, cur.t, flags);
	err = pt_cursor_map(&cur.c, &item);
	if (call_done("pt_cursor_map", cur.t, false, &j, err, want) || err)
		return;
	if (lax)
		model_insert(h, &plan, &eff);
	advance(item.va, item.size);
}

/* The marker at the cursor: the model's, PT_EEXIST on a leaf, else
 * PT_ENOENT (at the end too). */
static void op_cursor_query_marker(void)
{
	const struct mark *mk = cur.at_end ? NULL : mark_at(cur.h, cur.cur);
	uint64_t got = 0;
	int want = mk ? 0 : PT_ENOENT, err;

	if (!mk && !cur.at_end && first_in(cur.h, cur.cur, cur.cur) < cur.h->leaves.n)
		want = PT_EEXIST;
	DESC("cursor_query_marker at %#" PRIx64 "%s", cur.cur, cur.at_end ? " (end)" : "");
	err = pt_cursor_query_marker(&cur.c, &got);
	check_result("pt_cursor_query_marker", err, want);
	if (err == 0 && got != mk->value)
		FAIL("pt_cursor_query_marker: %#" PRIx64 ", want %#" PRIx64, got, mk->value);
}

/* pt_cursor_mark of 1-16 pages from the cursor (a byte: op_mark's value;
 * a byte: the pages; invalid: len 0, half a page, or past the end). */
static void op_cursor_mark(uint8_t flags)
{
	uint8_t c = u8(), p = u8();
	uint64_t value = c == 0xff ? (1ull << fmt->marker_bits)
				   : c * 0x0101010101ull & ((1ull << fmt->marker_bits) - 1);
	uint64_t len = (1 + (uint64_t)(p & 15)) * PAGE, last;
	bool lax = flags & 0x04;
	struct half *h = cur.h;
	struct inj j;
	int want = 0, err;

	if (flags & 0x40) {
		uint8_t k = u8() % 3;

		DESC("[invalid #%u] ", k);
		len = k == 0 ? 0 : k == 1 ? PAGE / 2 : cur.last - cur.cur + 1 + PAGE;
	}
	last = cur.cur + (len - 1);
	if (len == 0 || cur.at_end || (value >> fmt->marker_bits))
		want = PT_EINVAL;
	else if (len & (PAGE - 1))
		want = PT_EALIGN;
	else if (last < cur.cur || last > cur.last)
		want = PT_ERANGE;
	else if (overlaps(h, cur.cur, last))
		want = PT_EEXIST;
	DESC("cursor_mark len=%#" PRIx64 " value=%#" PRIx64 " at %#" PRIx64 "%s", len, value,
	     cur.cur, cur.at_end ? " (end)" : "");
	watch_prepare();
	if (want == 0 && !lax)
		model_mark(h, cur.cur, last, value);
	watch_begin(cur.t, h, false, lax);
	inj_begin(&j, cur.t, flags);
	err = pt_cursor_mark(&cur.c, len, value);
	if (call_done("pt_cursor_mark", cur.t, false, &j, err, want) || err)
		return;
	if (lax)
		model_mark(h, cur.cur, last, value);
	advance(cur.cur, len);
}

/* The last byte of the whole pages of the window of n (as take_next's);
 * false if it holds none. */
static bool whole_window_last(uint64_t n, uint64_t *wl)
{
	uint64_t l = cur.cur + (n - 1);

	if (l >= cur.cur && (l & (PAGE - 1)) != PAGE - 1) {
		if ((l & ~(PAGE - 1)) <= cur.cur)
			return false;
		l = (l & ~(PAGE - 1)) - 1;
	}
	*wl = l < cur.cur || l > cur.last ? cur.last : l;
	return true;
}

/* pt_cursor_harvest_next over a window (a byte: harvest_what's), its
 * bitmap against the model's. */
static void op_cursor_harvest(uint8_t flags)
{
	uint64_t n = gen_window(), wl = 0;
	unsigned what = harvest_what(u8());
	bool bad_batch = false, batched;
	struct pt_flush *fl;
	struct inj j;
	int want = 0, err;

	if (flags & 0x40) {
		uint8_t k = u8() % 3;

		DESC("[invalid #%u] ", k);
		if (k == 0)
			what &= PT_HARVEST_CLEAR; /* asks nothing */
		else if (k == 1)
			what |= 8;                /* no such flag */
		else
			bad_batch = true;
	}
	if (!(what & 3) || (what & 8) || n == 0 || bad_batch)
		want = PT_EINVAL;
	else if (cur.at_end || !whole_window_last(n, &wl))
		want = PT_ENOENT;
	DESC("cursor_harvest_next n=%#" PRIx64 " what=%#x from %#" PRIx64 "%s", n, what, cur.cur,
	     cur.at_end ? " (end)" : "");
	fl = pick_batch(cur.t, flags, bad_batch, &batched);
	watch_prepare();
	if (want == 0)
		model_harvest(cur.h, cur.cur, wl, harvest_ask(what), what & PT_HARVEST_CLEAR,
			      hv_want, &eff);
	watch_begin(cur.t, cur.h, batched, false);
	inj_begin(&j, cur.t, flags);
	err = pt_cursor_harvest_next(&cur.c, n, what, hv_got, fl);
	call_done("pt_cursor_harvest_next", cur.t, batched, &j, err, want);
	harvest_compare("pt_cursor_harvest_next", err, cur.cur, wl);
	if (err == 0)
		advance(cur.cur, wl - cur.cur + 1);
}

/* NULL and out-of-range arguments the generators never make: PT_EINVAL. */
static void op_null_args(int t)
{
	struct pt_prop p = {PT_R, PT_CACHE_WB};
	struct pt_table_opts bad = {.max_leaf_level = fmt->max_leaf_level + 1};
	struct pt_table_stats st;
	struct pt_table *x = NULL;
	uint64_t va = T[t].user ? 0 : fmt->kernel_start;

	DESC("NULL arguments on %s", T[t].name);
	check_result("pt_map(NULL)", pt_map(NULL, va, 0, PAGE, p), PT_EINVAL);
	check_result("pt_map_frames(frames NULL)", pt_map_frames(T[t].t, va, NULL, 1, p),
		     PT_EINVAL);
	check_result("pt_unmap(NULL)", pt_unmap(NULL, va, PAGE, NULL), PT_EINVAL);
	check_result("pt_protect(NULL)", pt_protect(NULL, va, PAGE, PT_W, 0, NULL),
		     PT_EINVAL);
	check_result("pt_query(out NULL)", pt_query(T[t].t, va, NULL), PT_EINVAL);
	check_result("pt_for_each_mapping(fn NULL)",
		     pt_for_each_mapping(T[t].t, va, PAGE, NULL, NULL), PT_EINVAL);
	check_result("pt_check(NULL)", pt_check(NULL, NULL, 0), PT_EINVAL);
	check_result("pt_table_stats(out NULL)", pt_table_stats(T[t].t, NULL), PT_EINVAL);
	check_result("pt_table_stats(NULL)", pt_table_stats(NULL, &st), PT_EINVAL);
	check_result("pt_flush_finish(NULL)", pt_flush_finish(NULL), PT_EINVAL);
	check_result("pt_table_create_user(user table)", pt_table_create_user(T[T_U].t, &x),
		     PT_EINVAL);
	check_result("pt_table_create_opts(max_leaf_level too high)",
		     pt_table_create_opts(phys, fmt, PT_SPACE_USER, &bad, &x), PT_EINVAL);
	check_result("pt_table_create(space 7)",
		     pt_table_create(phys, fmt, (enum pt_space)7, &x), PT_EINVAL);
	if (fmt->stage == 2) /* one guest-physical space, no kernel half */
		check_result("pt_table_create(PT_SPACE_KERNEL of a stage 2)",
			     pt_table_create(phys, fmt, PT_SPACE_KERNEL, &x), PT_EINVAL);
	check_result("pt_table_destroy(NULL)", pt_table_destroy(NULL), PT_EINVAL);
	if (cur.open) {
		check_result("pt_cursor_map(item NULL)", pt_cursor_map(&cur.c, NULL), PT_EINVAL);
		check_result("pt_cursor_query(out NULL)", pt_cursor_query(&cur.c, NULL),
			     PT_EINVAL);
		check_result("pt_cursor_protect_next(op NULL)",
			     pt_cursor_protect_next(&cur.c, UINT64_MAX, NULL, NULL, NULL, NULL,
						    NULL), PT_EINVAL);
		check_result("pt_cursor_take_next(n 0)",
			     pt_cursor_take_next(&cur.c, 0, NULL, NULL), PT_EINVAL);
	}
	check_result("pt_cursor_open(NULL)", pt_cursor_open(NULL, T[t].t, va, PAGE),
		     PT_EINVAL);
	if (x)
		FAIL("a failed create wrote its table");
}

/* K's options: UK's too on a stage 2 (uk_create). */
static struct pt_table_opts k_opts;

/* UK: a user table made from K, or on a stage 2, which has no kernel half
 * to make it from, one more table of the guest-physical space with K's
 * options (what pt_table_create_user would have copied). */
static int uk_create(struct pt_table **out)
{
	if (fmt->stage == 2)
		return pt_table_create_opts(phys, fmt, PT_SPACE_USER, &k_opts, out);
	return pt_table_create_user(T[T_K].t, out);
}

/* A user table that shares nothing writable goes and comes back: UK is
 * destroyed (its mappings' references with it, K's shared half staying)
 * and made again from K, maybe after a creation that runs out of memory. */
static void op_recreate_uk(uint8_t flags)
{
	struct mtable *m = &T[T_UK];
	struct pt_table *x = NULL;
	int err = PT_ENOMEM;

	DESC("destroy UK and make it again from K");
	cursor_yield_to(T_UK);
	batch_finish(T_UK);
	if ((err = pt_table_destroy(m->t)))
		FAIL("destroying UK returned %d", err);
	for (size_t i = 0; i < h_uk.leaves.n; i++)
		if (h_uk.leaves.v[i].tracked)
			pool_maps[pool_slot(h_uk.leaves.v[i].pa)]--;
	half_init(&h_uk, "UK.user", false, h_uk.max_level, m->features);
	err = PT_ENOMEM;
	if (flags & 0x04) {
		uint64_t before = pt_phys_reclaimable_frames(phys), nth = 1 + ((flags >> 3) & 1);

		DESC(" [alloc #%" PRIu64 " fails]", nth);
		pt_phys_fail_nth_alloc(phys, nth);
		err = uk_create(&x);
		pt_phys_fail_nth_alloc(phys, 0);
		if (err == PT_ENOMEM && (x || pt_phys_reclaimable_frames(phys) != before))
			FAIL("creating UK: PT_ENOMEM left %" PRIu64 " frames free, %" PRIu64
			     " before%s", pt_phys_reclaimable_frames(phys), before,
			     x ? ", and wrote the table" : "");
	}
	if (err == PT_ENOMEM)
		err = uk_create(&x);
	if (err)
		FAIL("creating UK (from K) returned %d", err);
	m->t = x;
	m->root = pt_table_root(x);
}

/* ------------------------------------------------------------ setup */

/* The address-space tags the tables carry (pt_table_opts.tag): UK has K's,
 * inherited from it (pt_table_create_user) or, on a stage 2, given with
 * K's options. */
#define TAG_U 0x7a01u
#define TAG_K 0x7a02u

static void fuzz_invalidate(void *arg, const struct pt_flush_info *info)
{
	if (info->nr_ranges > PT_FLUSH_MAX_RANGES || (info->all && info->nr_ranges))
		FAIL("invalidation: %zu ranges, all=%d", info->nr_ranges, info->all);
	/* A hypervisor picks INVEPT / TLBI IPAS2E1IS / HFENCE.GVMA, and the
	 * VMID or ASID, from these two fields alone. */
	if (info->stage != fmt->stage)
		FAIL("invalidation of a stage-%u table says stage %u", fmt->stage, info->stage);
	for (int t = 0; t < NT; t++)
		if (T[t].t && info->root_pa == T[t].root &&
		    info->tag != (t == T_U ? TAG_U : TAG_K))
			FAIL("invalidation of %s says tag %#" PRIx64, T[t].name, info->tag);
	for (size_t i = 0; i < info->nr_ranges; i++) {
		const struct pt_flush_range *r = &info->ranges[i];

		if (r->len == 0 || ((r->va | r->len) & (PAGE - 1)) ||
		    r->va + (r->len - 1) < r->va)
			FAIL("invalidation range [%#" PRIx64 ", +%#" PRIx64 ")", r->va, r->len);
	}
	on_invalidate(arg, info); /* model_core.h's checker */
}

/* The PT_FEAT_* a table gets from two input bits: each feature of the
 * family (format_rules.h) on or off. */
static uint32_t features_of(unsigned bits)
{
	static const uint32_t feats[][2] = {
		[PT_FAM_X86] = {PT_FEAT_X86_PAT_WC, 0},
		[PT_FAM_RISCV] = {PT_FEAT_RISCV_SVPBMT, PT_FEAT_RISCV_SVVPTC},
		/* S2FWB means nothing to stage 1: seeds of stage-1 AArch64
		 * (none sets it) would behave the same. */
		[PT_FAM_AARCH64] = {PT_FEAT_AARCH64_BBM2, PT_FEAT_AARCH64_S2FWB},
		[PT_FAM_EPT] = {PT_FEAT_X86_EPT_AD, 0},
	};

	return (bits & 1 ? feats[tf->fam][0] : 0) | (bits & 2 ? feats[tf->fam][1] : 0);
}

static void global_init(void)
{
	const char *tr = getenv("PTKIT_FUZZ_TRACE");
	char why[300];

	trace = tr && *tr && *tr != '0';
	/* The model stores fmt->normalize: it must be design §1's, with every
	 * feature set an input can pick. */
	for (size_t i = 0; i < PT_TEST_NR_FORMATS; i++) {
		uint32_t fs[4];

		model_format(&pt_test_formats[i]);
		for (unsigned b = 0; b < 4; b++)
			fs[b] = features_of(b);
		if (normalize_disagrees(fs, 4, why, sizeof(why))) {
			fprintf(stderr, "fuzz_ops: %s\n", why);
			abort();
		}
	}
	if (pt_phys_create(ARENA_BYTES, &phys))
		abort();
	for (int i = 0; i < NPOOL; i++)
		if (pt_frame_alloc(phys, &pool[i]))
			abort();
}

static unsigned leaf_level_opt(unsigned bits)
{
	return bits == 1 ? 2 : bits == 2 ? 1 : 0; /* 0: the format's highest */
}

static void mtable_init(int t, const char *name, struct half *user, struct half *kern,
			bool kern_ro, uint32_t features)
{
	struct mtable *m = &T[t];

	m->name = name;
	m->t = NULL;
	m->root = 0;
	m->features = features;
	m->hooked = true;
	m->user = user;
	m->kern = kern;
	m->kern_ro = kern_ro;
	m->batch_on = false;
	m->pending.n = 0;
	m->nodes_pending = false;
}

static void tables_create(uint8_t cfg, uint32_t fu, uint32_t fk)
{
	struct pt_table_opts ou = {.max_leaf_level = leaf_level_opt(cfg & 3),
				   .invalidate = fuzz_invalidate, .live = cfg & 0x10,
				   .features = fu, .tag = TAG_U};
	unsigned lu = ou.max_leaf_level ? ou.max_leaf_level : fmt->max_leaf_level, lk;
	bool share = fmt->shared_kernel_root, s2 = fmt->stage == 2;

	k_opts = (struct pt_table_opts){.max_leaf_level = leaf_level_opt((cfg >> 2) & 3),
					.invalidate = fuzz_invalidate, .live = cfg & 0x20,
					.features = fk, .tag = TAG_K};
	lk = k_opts.max_leaf_level ? k_opts.max_leaf_level : fmt->max_leaf_level;
	half_init(&h_u, "U.user", false, lu, fu);
	/* A stage 2 has one space: K is one more table of it, its cases at
	 * the top of that space as well as at the start (as in model_random). */
	half_init(&h_k, s2 ? "K.user" : "K.kernel", !s2, lk, fk);
	half_init(&h_uk, "UK.user", false, lk, fk); /* UK inherits K's settings */
	mtable_init(T_U, "U", &h_u, NULL, false, fu);
	mtable_init(T_K, "K", s2 ? &h_k : NULL, s2 ? NULL : &h_k, false, fk);
	mtable_init(T_UK, "UK", &h_uk, share ? &h_k : NULL, share, fk);
	T[T_U].cap = lu;
	T[T_K].cap = T[T_UK].cap = lk;
	for (int t = 0; t < NT; t++) {
		/* cfg bit 6: one allocation of each creation fails first (the
		 * next byte says which); PT_ENOMEM must give back everything,
		 * and a failed UK must not count as a user of K. */
		unsigned tries = cfg & 0x40 ? 2 : 1;
		uint8_t b = cfg & 0x40 ? u8() : 0;
		int err = PT_ENOMEM;

		for (unsigned k = 0; k < tries && err == PT_ENOMEM; k++) {
			uint64_t before = pt_phys_reclaimable_frames(phys);
			uint64_t nth = t == T_K ? 1 + b : 1 + (b & 1);

			if (k + 1 < tries) {
				DESC(" [%s: alloc #%" PRIu64 " fails]", T[t].name, nth);
				pt_phys_fail_nth_alloc(phys, nth);
			}
			err = t == T_U ? pt_table_create_opts(phys, fmt, PT_SPACE_USER, &ou, &T[t].t) :
			      t == T_K ? pt_table_create_opts(phys, fmt, s2 ? PT_SPACE_USER :
							      PT_SPACE_KERNEL, &k_opts, &T[t].t) :
					 uk_create(&T[t].t);
			pt_phys_fail_nth_alloc(phys, 0);
			if (err == PT_ENOMEM && k + 1 < tries &&
			    pt_phys_reclaimable_frames(phys) != before)
				FAIL("creating %s: PT_ENOMEM left %" PRIu64 " frames free, %" PRIu64
				     " before", T[t].name, pt_phys_reclaimable_frames(phys), before);
		}
		if (err)
			FAIL("creating %s returned %d", T[t].name, err);
		T[t].root = pt_table_root(T[t].t);
	}
}

static void tables_destroy(uint64_t reclaimable0)
{
	int err;

	cursor_close();
	batches_finish_all();
	memset(pool_pend, 0, sizeof(pool_pend));
	/* One root: K cannot go while UK shares its half. */
	if (fmt->shared_kernel_root && (err = pt_table_destroy(T[T_K].t)) != PT_EBUSY)
		FAIL("destroying K while UK shares it returned %d, want PT_EBUSY", err);
	verify(0, false, true);
	if (!fmt->shared_kernel_root) {
		/* One root per half: UK only copied K's settings, and outlives
		 * it unchanged. */
		if ((err = pt_table_destroy(T[T_K].t)))
			FAIL("destroying K (UK shares nothing) returned %d, want 0", err);
		T[T_K].t = NULL;
		verify_view(&T[T_UK]);
		check_table(T_UK);
		count_table(T_UK);
	}
	if (pt_table_destroy(T[T_UK].t) || (T[T_K].t && pt_table_destroy(T[T_K].t)) ||
	    pt_table_destroy(T[T_U].t))
		FAIL("pt_table_destroy failed");
	for (int i = 0; i < NPOOL; i++)
		if (pt_frame_refcount(phys, pool[i]) != 1)
			FAIL("after destroy frame %#" PRIx64 " has refcount %" PRIu64
			     ", want 1", pool[i], pt_frame_refcount(phys, pool[i]));
	if (pt_phys_reclaimable_frames(phys) != reclaimable0)
		FAIL("after destroying every table %" PRIu64 " frames are free or pending,"
		     " %" PRIu64 " were before", pt_phys_reclaimable_frames(phys),
		     reclaimable0);
	memset(pool_maps, 0, sizeof(pool_maps));
}

/* ------------------------------------------------------------- entry */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool inited;
	uint64_t reclaimable0;

	if (!inited) {
		global_init();
		inited = true;
	}
	/* Removed nodes come back after a grace period; wait for them only
	 * when many are pending (the wait costs ~10 ms). */
	if (pt_phys_free_frames(phys) < pt_phys_reclaimable_frames(phys) / 2)
		pt_phys_barrier(phys);
	in_p = data;
	in_n = size;
	memset(hist, 0, sizeof(hist));
	memset(&cur, 0, sizeof(cur));
	nhist = 0;
	desc = hist[0];
	reclaimable0 = pt_phys_reclaimable_frames(phys);
	{
		/* cfg bit 7: a second byte picks the format (bits 0-2, among
		 * the stage-2 ones with bit 7) and the features of U (bits
		 * 3-4) and K (bits 5-6). */
		uint8_t cfg = u8(), fcfg = cfg & 0x80 ? u8() : 0;
		uint32_t fu, fk;
		int bad;

		if (fcfg & 0x80)
			model_format(&pt_test_formats[PT_TEST_NR_STAGE1_FORMATS +
						      (fcfg & 7) % PT_TEST_NR_STAGE2_FORMATS]);
		else
			model_format(&pt_test_formats[(fcfg & 7) % PT_TEST_NR_STAGE1_FORMATS]);
		fu = features_of((fcfg >> 3) & 3);
		fk = features_of((fcfg >> 5) & 3);
		if ((bad = model_windows(user_win, kern_win)) >= 0)
			FAIL("%s: window %d is outside its half", tf->id, bad);
		if (trace)
			fputs("#0 ", stderr);
		DESC("tables: %s, U max_leaf %u features %#x, K max_leaf %u features %#x%s%s",
		     tf->id, leaf_level_opt(cfg & 3), fu, leaf_level_opt((cfg >> 2) & 3), fk,
		     cfg & 0x10 ? ", U live" : "", cfg & 0x20 ? ", K live" : "");
		tables_create(cfg & 0x7f, fu, fk);
	}
	unchecked = uncounted = touched = 0;
	conserved = pt_phys_reclaimable_frames(phys) + model_nodes();
	for (step_no = 1; in_n > 0 && step_no <= MAX_OPS; step_no++) {
		uint8_t k = u8(), flags = u8();
		int t = (flags & 3) % 3;
		unsigned mask = M(t);
		bool read = true; /* the step changes no table */

		desc = hist[++nhist];
		if (trace)
			fprintf(stderr, "\n#%u ", nhist);
		switch (k % 16) {
		case 0:
		case 1:
			if ((k & 0xc0) == 0xc0)
				op_move(t, flags);
			else
				op_map(t, flags);
			read = false;
			break;
		case 2: op_map_frames(t, flags), read = false; break;
		case 3: op_unmap_protect(t, flags, false), read = false; break;
		case 4: op_unmap_protect(t, flags, true), read = false; break;
		case 5: op_query(t); break;
		case 6: op_walk(t, flags); break;
		case 7: op_cursor_open(t, flags); break;
		case 8:
			DESC("cursor_close");
			if (cur.open)
				mask = M(cur.t);
			cursor_close();
			break;
		case 14:
			DESC("flush_finish %s", T[t].name);
			batch_finish(t);
			break;
		case 15:
			if (k == 0x4f) {
				mask |= M(op_copy(t, flags));
				read = false;
			} else if (k == 0x8f) {
				op_harvest(t, flags);
				read = false;
			} else if (k == 0xcf) {
				op_mark(t, flags);
				read = false;
			} else if (k == 0xdf) {
				op_split(t, flags);
				read = false;
			} else if ((k & 0x30) == 0x20) {
				op_null_args(t);
			} else if ((k & 0x30) == 0x30 ||
				   ((k & 0x10) && !fmt->shared_kernel_root)) {
				op_recreate_uk(flags);
				mask = M(T_UK);
				read = false;
			} else if (k & 0x10) {
				int err = pt_table_destroy(T[T_K].t);

				DESC("destroy K while UK lives");
				check_result("pt_table_destroy(K)", err, PT_EBUSY);
				mask = M(T_K);
				read = false;
			} else {
				DESC("flush_finish all");
				batches_finish_all();
			}
			break;
		default:
			if (!cur.open) {
				DESC("cursor op %u", k % 16);
				closed_cursor_calls();
				break;
			}
			mask = M(cur.t);
			switch (k % 16) {
			case 9: op_find_next(); break;
			case 10: op_jump(flags); break;
			case 11: op_take_next(flags), read = false; break;
			case 12: op_protect_next(flags), read = false; break;
			default: /* 13 */
				if (k == 0x9d) {
					op_cursor_query_marker();
				} else if (k == 0xdd) {
					op_cursor_mark(flags);
					read = false;
				} else if (k == 0xfd) {
					op_cursor_harvest(flags);
					read = false;
				} else if (k & 0x10) {
					op_cursor_query();
				} else {
					op_cursor_map(flags);
					read = false;
				}
				break;
			}
			break;
		}
		verify(mask, read, false);
	}
	desc = hist[++nhist < MAX_OPS + 8 ? nhist : MAX_OPS + 7];
	if (trace)
		fprintf(stderr, "\n#%u ", nhist);
	DESC("end: close, finish batches, destroy");
	tables_destroy(reclaimable0);
	if (trace) /* counts of this process so far */
		fprintf(stderr, "\n(invalidation checks so far: breaks required for"
			" split %lu, table to block %lu, nG or memory-type change %lu;"
			" breaks in the middle of an operation %lu; new mappings %lu)\n",
			st_breaks_req[REQ_SPLIT], st_breaks_req[REQ_BLOCK],
			st_breaks_req[REQ_UPDATE], st_breaks_mid, st_new_pieces);
	return 0;
}
