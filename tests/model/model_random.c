/* SPDX-License-Identifier: MPL-2.0 */
/*
 * model_random.c - random operations checked against a model of the view.
 *
 * design §4 says every operation's meaning is stated on the view, and tests
 * keep a simple model of it.  This test keeps one: per half of each table, a
 * sorted array of leaves (va, pa, size, prop, tracked) and, per level, the set
 * of page-table nodes that design §5's rules say exist (map creates the nodes
 * its leaves need and frees empty nodes in the way of a huge leaf; a split
 * adds one node per level it goes down; unmap detaches every node whose whole
 * range it covers, except a kernel table's nodes under the root; a move cuts
 * its source as unmap does, relocates the nodes wholly inside whose span
 * divides the distance and re-cuts the leaves whose size does not).  Modelling
 * the nodes lets pt_table_stats be predicted exactly, which is how leaked or
 * wrongly freed page-table memory shows up.  The model, the invalidation
 * checker and the address windows live in tests/common/model_core.h,
 * shared with the fuzzer (tests/fuzz/fuzz_ops.c).
 *
 * After every step: the whole view (both halves) of the tables the step can
 * have touched is compared leaf by leaf, pt_check runs, the stats are
 * compared, every tracked frame's reference count is compared (the test holds
 * one reference, each mapping one more), and the invalidation hook is checked:
 * every removed or changed range was invalidated after the change was
 * written (the hook reads the raw PTEs), a tracked frame was released only
 * after such an invalidation, and removed nodes were flushed as nodes.
 *
 * Operations: map, map_frames, unmap, protect, query, walk, copy (from a
 * table into one alike, mostly C; the invalidation checker follows the
 * source or the destination, at random), harvest, mark (markers checked
 * raw and with pt_query_marker after every step, over every window) and
 * split (from the phys, or from a stash that often runs dry: PT_ENOMEM
 * with what was split kept).
 *
 * Tables: U (user), U2 (user, pages capped at 2 MiB), C (user, U's twin), K (kernel) and UK (user,
 * made from K with pt_table_create_user: sharing K's kernel half where the
 * format has one root for both halves, an empty user table of its own where
 * it has one root per half, as AArch64).  Address windows are small so ranges
 * collide often: a few GiB at the start of each half, at its top (the kernel
 * top gives va + len == 2^64) and across a root entry's boundary.  Rare
 * steps make an allocation fail first (PT_ENOMEM must change nothing).
 *
 * Every format runs it: the format is the first argument or
 * PTKIT_MODEL_FORMAT ("x86_64", "x86_64_la57", "riscv_sv39", "riscv_sv48",
 * "aarch64_4k", and the stage 2 ones "riscv_sv39x4", "riscv_sv48x4",
 * "aarch64_s2_4k", where K and UK are user-space tables like the others:
 * one guest-physical space; default x86_64).  Everything format-dependent comes from the
 * struct pt_format (geometry, software bits, normalize) and, for what it
 * cannot say, from tests/common/format_rules.h: the tables' feature sets
 * (both sides of every feature), that RISC-V without Svvptc invalidates new
 * mappings too (checked like a change), and AArch64's break-before-make:
 * a split of a valid block, a table becoming a block and a protect that
 * changes nG must each be invalidated in the middle of the operation, with
 * nr_ranges == 1 and the entry already cleared; any invalidation of a single
 * range in the middle of an operation must find its range cleared, and
 * formats without break-before-make must never break.
 *
 * PTKIT_MODEL_SEED (default 1) and PTKIT_MODEL_OPS (default 100000 for
 * x86_64, fewer for the others) set the run; a failure prints the format,
 * the seed, the step and the last few steps.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <ptkit/ptkit.h>
#include <ptkit/testing.h>

#define ARENA_BYTES (256 * PT_MiB)
#define NPOOL 48            /* tracked frames the test owns */
#define MAX_MAPF 320        /* frames per map_frames call: > a flush batch */
#define MAP_LEAF_CAP 1100   /* a drawn map making more leaves is shrunk */
#define MOVE_LEAF_CAP 600   /* a move re-cutting into more (one huge leaf: 512) gets a rounder distance */
#define HALF_LEAF_CAP 2500  /* above this, a half gets unmapped wholesale */
#define NR_RECENT 10

/* The model of the view, the invalidation checker and the per-format
 * windows, shared with the fuzzer (tests/fuzz/fuzz_ops.c). */
#include "model_core.h"

/* ---------------------------------------------------------------- random */

static uint64_t rng;

/* splitmix64: tiny, and a seed fully determines the run. */
static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

static bool chance(unsigned pct)
{
	return rnd_below(100) < pct;
}

/* ----------------------------------------------------------------- model */

struct mtable {
	const char *name;
	struct pt_table *t;
	uint64_t root;
	struct half *user, *kernel; /* NULL: the table does not span it */
	bool kernel_ro;             /* UK: kernel-half writes are PT_EPERM */
	bool hooked;                /* its invalidations reach on_invalidate */
	unsigned weight;            /* how often steps pick it */
	uint32_t features;          /* PT_FEAT_* it was created with */
	unsigned cap;               /* its max_leaf_level */
};

static struct half h_u, h_u2, h_uk, h_k, h_c;
static struct mtable t_u, t_u2, t_k, t_uk, t_c;
static struct mtable *tables[] = {&t_u, &t_u2, &t_k, &t_uk, &t_c};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))
static struct window user_win[NWIN], kern_win[NWIN];
static int16_t *pool_index;         /* arena frame number -> pool slot */
static uint64_t free_all;           /* free frames in a fresh arena */
static uint64_t free_base;          /* free frames when tables were made */
static size_t nodes_base;           /* model nodes at that moment */

/* Failure reporting: the seed and the last steps make a failure replayable. */
static uint64_t seed;
static unsigned long step_no;
static char recent[NR_RECENT][240];
static char cur_op[200];

static void __attribute__((format(printf, 3, 4), noreturn))
model_fail(const char *file, int line, const char *f, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, f);
	vsnprintf(msg, sizeof(msg), f, ap);
	va_end(ap);
	print_error("model_random: format %s (PTKIT_MODEL_FORMAT), seed %" PRIu64
		    " (PTKIT_MODEL_SEED), step %lu: %s\n  step: %s\n"
		    "  earlier steps, newest first:\n",
		    tf->id, seed, step_no, msg, cur_op);
	for (int i = 1; i < NR_RECENT; i++) {
		const char *s = recent[(step_no + NR_RECENT - i) % NR_RECENT];

		if (step_no >= (unsigned long)i && s[0])
			print_error("    %s\n", s);
	}
	_fail(file, line);
	abort(); /* not reached */
}

static size_t model_nodes(void)
{
	return NTABLES /* roots */ + half_nodes(&h_u) + half_nodes(&h_u2) +
	       half_nodes(&h_uk) + half_nodes(&h_k) + half_nodes(&h_c);
}

static int pool_slot(uint64_t pa)
{
	if (pa >= ARENA_BYTES || pa % PAGE)
		return -1;
	return pool_index[pa / PAGE];
}

/* ------------------------------------------------- expected error codes */

static bool range_bad(uint64_t va, uint64_t len)
{
	return len == 0 || va + (len - 1) < va;
}

/* The half of `mt` holding all of [va, va + len), or NULL (PT_ERANGE). */
static struct half *half_of(const struct mtable *mt, uint64_t va, uint64_t len)
{
	uint64_t last = va + (len - 1);

	if (mt->user && last <= mt->user->last)
		return mt->user;
	if (mt->kernel && va >= mt->kernel->start)
		return mt->kernel;
	return NULL;
}

/* EALIGN, ERANGE, EPERM for a valid-looking range, in design §5's order. */
static int range_err(const struct mtable *mt, uint64_t va, uint64_t len,
		     uint64_t pa_bits, bool pa_bad, bool write, struct half **hp)
{
	struct half *h;

	if ((va | len | pa_bits) % PAGE)
		return PT_EALIGN;
	h = half_of(mt, va, len);
	if (!h || pa_bad)
		return PT_ERANGE;
	if (write && mt->kernel_ro && h == mt->kernel)
		return PT_EPERM;
	*hp = h;
	return 0;
}

/* ------------------------------------------------------- verification */

static void verify_table(const struct mtable *mt)
{
	struct pt_table_stats want, got;
	char why[512];
	int err;

	if (mt->user)
		compare_walk(mt->t, mt->name, 0, fmt->user_end, 0,
			     mt->user->leaves.v, mt->user->leaves.n, 0,
			     "user-half view");
	else
		compare_walk(mt->t, mt->name, 0, fmt->user_end, PT_ERANGE, NULL,
			     0, 0, "user-half view (not spanned)");
	if (mt->kernel)
		compare_walk(mt->t, mt->name, fmt->kernel_start,
			     0 - fmt->kernel_start, 0, mt->kernel->leaves.v,
			     mt->kernel->leaves.n, 0, "kernel-half view");
	else if (fmt->stage != 2) /* a stage 2 has no kernel half */
		compare_walk(mt->t, mt->name, fmt->kernel_start,
			     0 - fmt->kernel_start, PT_ERANGE, NULL, 0, 0,
			     "kernel-half view (not spanned)");
	why[0] = '\0';
	err = pt_check(mt->t, why, sizeof(why));
	if (err)
		mfail("%s: pt_check %d: %s", mt->name, err, why);
	err = pt_table_stats(mt->t, &got);
	if (err)
		mfail("%s: pt_table_stats returned %d", mt->name, err);
	predict_stats(mt->user, mt->kernel, &want);
	if (pt_stats_diff(&want, &got, why, sizeof(why)))
		mfail("%s: %s", mt->name, why);
	for (int w = 0; w < NWIN; w++) {
		if (mt->user)
			verify_marks(mt->t, mt->name, mt->user, user_win[w].start,
				     user_win[w].last, rnd_below);
		if (mt->kernel)
			verify_marks(mt->t, mt->name, mt->kernel, kern_win[w].start,
				     kern_win[w].last, rnd_below);
	}
}

/* Reference counts are exact across all tables plus the test (design §4.5).
 * So is the free count once RCU has given detached nodes back: a count that
 * stays low is a leak, a count that is high a node freed while in use. */
static void verify_frames(void)
{
	uint64_t expect_free = free_base - (model_nodes() - nodes_base);
	uint64_t now = pt_phys_free_frames(phys);

	for (int i = 0; i < NPOOL; i++) {
		uint64_t rc = pt_frame_refcount(phys, pool[i]);

		if (rc != 1 + pool_maps[i])
			mfail("frame %#" PRIx64 ": refcount %" PRIu64
			      ", want %" PRIu64, pool[i], rc, 1 + pool_maps[i]);
	}
	if (now > expect_free)
		mfail("%" PRIu64 " free frames, but the model's nodes leave only"
		      " %" PRIu64 ": a node in use was freed", now, expect_free);
	if (now < expect_free)
		now = pt_test_free_frames(phys);
	if (now != expect_free)
		mfail("%" PRIu64 " free frames, want %" PRIu64 " (%" PRIu64
		      " page-table nodes in the model): frames leaked", now,
		      expect_free, (uint64_t)model_nodes());
}

/* ------------------------------------------------------------- steps */

enum op_kind { OP_MAP, OP_MAPF, OP_UNMAP, OP_PROTECT, OP_MOVE, OP_QUERY, OP_WALK, OP_COPY,
	       OP_HARVEST, OP_MARK, OP_SPLIT };
#define NR_OPS (OP_SPLIT + 1)

struct op {
	enum op_kind kind;
	struct mtable *mt;          /* copy: the source (its batch) */
	struct mtable *mt2;         /* copy: the destination */
	unsigned copy_flags;
	unsigned harvest_what;
	uint64_t mark_value;
	unsigned split_to;
	bool split_stash;           /* from a pt_reserve of stash_nodes */
	uint64_t stash_nodes;
	uint64_t va, len, pa;
	uint64_t to;               /* move: the destination */
	struct pt_prop prop;
	uint32_t set, clear;
	size_t nf;
	uint64_t frames[MAX_MAPF];
	bool batch;
	bool whole_window;
	bool cursor;                /* harvest, mark: the cursor form, under a
				     * cursor opened on the range */
};

static struct {
	unsigned long ops[NR_OPS], ok[NR_OPS], err[10];
	unsigned long leaves_made[PT_MAX_LEVELS + 1];
	unsigned long mixed_maps, splits, nodes_removed, top_ops, big_unmaps;
	unsigned long full_batches; /* unmaps of > PT_FLUSH_MAX_FRAMES frames */
	unsigned long enomem, probe_ok;
	unsigned long copy_cow, copy_leaves;
	unsigned long harvest_bits, harvest_cleared, marks_made, marks_huge;
	unsigned long split_dry, split_leaves;
	unsigned long moved_nodes, moved_pieces; /* relocated; leaves re-cut */
} st;

/* pt_harvest's bitmap and the model's: a window is at most 4 GiB. */
#define HV_WORDS (4 * PT_GiB / PAGE / 64)
static uint64_t hv_got[HV_WORDS], hv_want[HV_WORDS];

static struct mtable *pick_table(void)
{
	unsigned total = 0, r;

	for (size_t i = 0; i < NTABLES; i++)
		total += tables[i]->weight;
	r = (unsigned)rnd_below(total);
	for (size_t i = 0;; i++) {
		if (r < tables[i]->weight)
			return tables[i];
		r -= tables[i]->weight;
	}
}

/* Mostly the first and last few entries of a node: that is where ranges
 * cross node boundaries and collide. */
static uint64_t hot_index(void)
{
	if (chance(80)) {
		uint64_t k = rnd_below(8);

		return k < 4 ? k : 508 + (k - 4);
	}
	return rnd_below(512);
}

/* A window of the half the step targets: usually one the table spans, rarely
 * the other (PT_ERANGE). */
static const struct window *pick_window(const struct mtable *mt)
{
	bool kernel;

	if (mt->user && mt->kernel)
		kernel = chance(30);
	else
		kernel = mt->kernel ? !chance(3) : chance(3);
	return kernel ? &kern_win[rnd_below(NWIN)] : &user_win[rnd_below(NWIN)];
}

static uint64_t gen_va(const struct window *w)
{
	uint64_t va = w->start + rnd_below((w->last - w->start) / PT_GiB + 1) *
					 PT_GiB;
	unsigned g = (unsigned)rnd_below(100);

	if (g < 15)
		return va;
	va += hot_index() * 2 * PT_MiB;
	return g < 50 ? va : va + hot_index() * PAGE;
}

static uint64_t gen_len(uint64_t va, const struct window *w)
{
	unsigned r = (unsigned)rnd_below(100);
	uint64_t len;

	if (r < 40)
		len = (1 + rnd_below(16)) * PAGE;
	else if (r < 50)
		len = (1 + rnd_below(1024)) * PAGE;
	else if (r < 72)
		len = (1 + rnd_below(4)) * 2 * PT_MiB +
		      (chance(50) ? rnd_below(8) * PAGE : 0);
	else if (r < 93)
		len = (1 + rnd_below(2)) * PT_GiB +
		      (chance(50) ? rnd_below(4) * 2 * PT_MiB : 0);
	else
		len = w->last - va + 1; /* to the window's end, maybe 2^64 */
	if (len - 1 > w->last - va)
		len = w->last - va + 1;
	return len;
}

/* Mostly congruent with va modulo 1G or 2M, so huge pages are possible. */
static uint64_t gen_pa(uint64_t va)
{
	uint64_t base = rnd_below(64) * PT_GiB;
	unsigned r = (unsigned)rnd_below(100);

	if (r < 60)
		return base + (va & (PT_GiB - 1));
	if (r < 85)
		return base + rnd_below(512) * 2 * PT_MiB + (va & (2 * PT_MiB - 1));
	return base + rnd_below(1u << 18) * PAGE;
}

/* Whether the table can express cache policy `c` at all. */
static bool cache_ok(const struct mtable *mt, uint32_t c)
{
	struct pt_prop p = {PT_R, c}, out;

	return model_normalize(p, mt->features, &out) == 0;
}

static struct pt_prop gen_prop(const struct mtable *mt)
{
	struct pt_prop p = {0, PT_CACHE_WB};
	static const uint32_t hw[] = {PT_R, PT_W, PT_X, PT_U, PT_G, PT_A, PT_D};
	unsigned r = (unsigned)rnd_below(100);

	for (size_t i = 0; i < sizeof(hw) / sizeof(hw[0]); i++)
		if (chance(40))
			p.flags |= hw[i];
	for (unsigned i = 0; i < fmt->nr_sw_bits && i < 4; i++)
		if (chance(20))
			p.flags |= PT_SW0 << i;
	if (cache_ok(mt, PT_CACHE_WC))
		p.cache = r < 50 ? PT_CACHE_WB : r < 65 ? PT_CACHE_WT :
			  r < 80 ? PT_CACHE_WC : PT_CACHE_UC;
	else
		p.cache = r < 60 ? PT_CACHE_WB : r < 80 ? PT_CACHE_WT : PT_CACHE_UC;
	return p;
}

static uint32_t gen_flags(uint32_t from)
{
	uint32_t f = 0;

	for (unsigned b = 0; b < 32; b++)
		if ((from & (1u << b)) && chance(20))
			f |= 1u << b;
	return f;
}

/* One parameter made invalid, so every error of §5 comes up next to real
 * state (an invalid op on an overlapping range still must not be EEXIST). */
static void corrupt(struct op *op)
{
	switch (rnd_below(9)) {
	case 0:
		op->len = 0, op->nf = 0;
		break;
	case 1:
		op->va += PAGE / 2;
		break;
	case 2:
		if (op->kind == OP_MAP)
			op->pa += 0x100;
		else if (op->kind != OP_MAPF)
			op->len += 0x100;
		else
			op->frames[0] = ARENA_BYTES; /* unmanaged */
		break;
	case 3: /* wraps past 2^64 */
		op->va = 0 - (1 + rnd_below(4)) * PAGE;
		op->len = 16 * PAGE, op->nf = 16;
		break;
	case 4: /* crosses the end of the user half */
		op->va = fmt->user_end - PAGE;
		op->len = 2 * PAGE, op->nf = 2;
		break;
	case 5: /* non-canonical */
		op->va = fmt->user_end + rnd_below(4) * PT_GiB;
		break;
	case 6:
		if (op->kind == OP_MAP)
			op->pa = fmt->pa_limit - PAGE; /* pa + len past limit */
		else if (op->kind == OP_MAPF)
			op->frames[op->nf ? op->nf - 1 : 0] = pt_table_root(t_u.t);
		break;
	case 7:
		if (op->kind == OP_PROTECT) {
			op->clear |= op->set ? op->set : PT_W;
			op->set |= op->clear;
		} else {
			/* WC where the table lacks it (x86 without the
			 * Linux PAT), else a policy no format has. */
			op->prop.cache = cache_ok(op->mt, PT_CACHE_WC)
						 ? PT_CACHE_COUNT : PT_CACHE_WC;
		}
		break;
	default:
		if (op->kind == OP_PROTECT)
			op->set |= 1u << 20; /* no such flag */
		else
			op->prop.flags |= 1u << 20;
		break;
	}
	if (op->kind == OP_MAPF && op->nf)
		op->len = op->nf * PAGE;
}

/* Tables whose leaves mean the same (pt_copy's condition). */
static bool alike(const struct mtable *a, const struct mtable *b)
{
	unsigned ca = a->cap ? a->cap : fmt->max_leaf_level;
	unsigned cb = b->cap ? b->cap : fmt->max_leaf_level;

	return a->features == b->features && ca == cb;
}

/* A copy from op->mt: into a table like it, mostly; ranges often on 2M
 * boundaries, so fewer huge leaves are cut; rarely an invalid argument. */
static void gen_copy(struct op *op, const struct window *w)
{
	struct mtable *cand[NTABLES];
	size_t n = 0;

	op->kind = OP_COPY;
	for (size_t i = 0; i < NTABLES; i++)
		if (tables[i] != op->mt && alike(tables[i], op->mt))
			cand[n++] = tables[i];
	op->mt2 = n && chance(90) ? cand[rnd_below(n)] : pick_table();
	op->copy_flags = chance(50) ? PT_COPY_COW : 0;
	if (chance(50)) {
		op->va &= ~(2 * PT_MiB - 1);
		op->len = (op->len + 2 * PT_MiB - 1) & ~(2 * PT_MiB - 1);
		if (op->len - 1 > w->last - op->va)
			op->len = w->last - op->va + 1;
	}
	if (chance(4)) {
		switch (rnd_below(4)) {
		case 0: op->len = 0; break;
		case 1: op->va += PAGE / 2; break;
		case 2: op->copy_flags |= 2; break; /* no such flag */
		default: op->mt2 = op->mt; break;
		}
	}
}

/* A harvest of A, D or both, clearing half the time; rarely invalid. */
static void gen_harvest(struct op *op)
{
	op->kind = OP_HARVEST;
	op->harvest_what = (unsigned)(1 + rnd_below(3)) | (chance(50) ? PT_HARVEST_CLEAR : 0);
	op->va &= ~(PAGE - 1); /* a query's va may be any byte */
	op->cursor = chance(30);
	if (chance(4)) {
		switch (rnd_below(4)) {
		case 0: op->harvest_what &= PT_HARVEST_CLEAR; break; /* asks nothing */
		case 1: op->harvest_what |= 8; break;                /* no such flag */
		case 2: op->va += PAGE / 2; break;
		default: op->len = 0; break;
		}
	}
}

/* Markers over a few pages (the model keeps one entry per page), a third
 * of the time one or two whole 2M entries (huge markers), rarely a value
 * too wide for the format. */
static void gen_mark(struct op *op)
{
	op->kind = OP_MARK;
	op->va &= ~(PAGE - 1);
	if (op->len > 1024 * PAGE)
		op->len = (1 + rnd_below(64)) * PAGE;
	if (chance(33)) {
		op->va &= ~(pt_level_size(2) - 1);
		op->len = (1 + rnd_below(2)) * pt_level_size(2);
	}
	op->mark_value = rnd() & ((1ull << fmt->marker_bits) - 1);
	op->cursor = chance(30);
	if (chance(3))
		op->mark_value = (1ull << fmt->marker_bits) + rnd_below(4);
}

/* A split to 4K or 2M, half the time from a stash holding up to the
 * nodes it needs, so it often runs dry; rarely an invalid level. */
static void gen_split(struct op *op)
{
	struct half *h = half_of(op->mt, op->va, op->len);

	op->kind = OP_SPLIT;
	op->va &= ~(PAGE - 1);
	op->split_to = chance(3) ? (chance(50) ? 0 : fmt->max_leaf_level + 1)
				 : 1 + (unsigned)rnd_below(2);
	op->split_stash = chance(50);
	if (!h || range_bad(op->va, op->len) || !op->split_to ||
	    op->split_to > fmt->max_leaf_level)
		return;
	/* The per-step checks cost per leaf: a few hundred thousand at most. */
	if (split_need(h, op->va, op->va + (op->len - 1), op->split_to) > 64)
		op->len = (1 + rnd_below(8)) * PAGE;
	if (op->split_stash)
		op->stash_nodes = rnd_below(split_need(h, op->va, op->va + (op->len - 1),
						       op->split_to) + 2);
}

/* A move of exactly one huge leaf, if a few draws find one: at a distance
 * its size does not divide it is re-cut, within MOVE_LEAF_CAP. */
static void aim_at_huge_leaf(struct op *op)
{
	struct half *h = half_of(op->mt, op->va, op->len);

	for (int tries = 0; h && h->leaves.n && tries < 8; tries++) {
		const struct leaf *l = &h->leaves.v[rnd_below(h->leaves.n)];

		if (l->size > PAGE) {
			op->va = l->va;
			op->len = l->size;
			return;
		}
	}
}

/* A move's destination: in the same window, at a distance that keeps
 * 1G, 2M or only 4K alignment, or anywhere in it; a few tries for one
 * that maps nothing (else most moves would be PT_EEXIST); rarely one
 * overlapping the source (PT_EINVAL). */
static uint64_t gen_to(const struct op *op, const struct window *w)
{
	struct half *h = half_of(op->mt, op->va, op->len);
	uint64_t to = op->va;

	if (chance(3))
		return op->va + rnd_below(op->len / PAGE + 1) * PAGE;
	for (int tries = 0; tries < 8; tries++) {
		unsigned r = (unsigned)rnd_below(100);
		uint64_t unit = r < 25 ? PT_GiB : r < 50 ? 2 * PT_MiB : PAGE;

		uint64_t k = 1 + rnd_below(unit == PT_GiB ? 3 : 600);

		to = r < 75 ? op->va + (rnd_below(2) ? unit : 0 - unit) * k : gen_va(w);
		if (!h || to < w->start || to > w->last || op->len - 1 > w->last - to ||
		    !overlaps(h, to, to + (op->len - 1)))
			return to;
	}
	return to;
}

static void gen_op(struct op *op)
{
	const struct window *w;
	unsigned r = (unsigned)rnd_below(100);

	memset(op, 0, sizeof(*op));
	op->mt = pick_table();
	w = pick_window(op->mt);
	op->kind = r < 28 ? OP_MAP : r < 39 ? OP_MAPF : r < 60 ? OP_UNMAP :
		   r < 75 ? OP_PROTECT : r < 87 ? OP_MOVE : r < 95 ? OP_QUERY : OP_WALK;
	op->va = gen_va(w);
	op->len = gen_len(op->va, w);
	op->batch = chance(25);
	/* Keep populations (and so the per-step checks) small. */
	{
		struct half *h = half_of(op->mt, op->va, op->len);

		if (chance(1) || (h && h->leaves.n > HALF_LEAF_CAP && chance(20))) {
			op->kind = OP_UNMAP;
			op->va = w->start;
			op->len = w->last - w->start + 1;
			op->whole_window = true;
		}
	}
	switch (op->kind) {
	case OP_MAP:
		op->pa = gen_pa(op->va);
		op->prop = gen_prop(op->mt);
		break;
	case OP_MAPF:
		/* Rarely a long run, so that one unmap can remove more tracked
		 * pages than a flush batch holds (PT_FLUSH_MAX_FRAMES). */
		r = (unsigned)rnd_below(100);
		op->nf = r < 85 ? 1 + rnd_below(8) :
			 r < 97 ? 1 + rnd_below(40) :
				  MAX_MAPF - rnd_below(MAX_MAPF / 3);
		if (op->nf > (w->last - op->va) / PAGE + 1)
			op->nf = (w->last - op->va) / PAGE + 1;
		for (size_t i = 0; i < MAX_MAPF; i++) /* corrupt() may grow nf */
			op->frames[i] = pool[rnd_below(NPOOL)];
		op->len = op->nf * PAGE;
		op->prop = gen_prop(op->mt);
		break;
	case OP_PROTECT:
		op->set = gen_flags(allowed_flags);
		op->clear = gen_flags(allowed_flags & ~op->set);
		break;
	case OP_MOVE:
		if (chance(25))
			aim_at_huge_leaf(op);
		op->to = gen_to(op, w);
		break;
	case OP_QUERY:
		if (chance(60)) { /* inside a mapping of some half */
			struct half *h = op->mt->user && op->mt->kernel && chance(40)
						 ? op->mt->kernel
					 : op->mt->user ? op->mt->user
							: op->mt->kernel;

			if (h->leaves.n) {
				const struct leaf *l =
					&h->leaves.v[rnd_below(h->leaves.n)];

				op->va = l->va + rnd_below(l->size);
				break;
			}
		}
		if (chance(50))
			op->va += rnd_below(PAGE);
		break;
	default:
		break;
	}
	if (op->kind <= OP_MOVE && !op->whole_window && chance(4))
		corrupt(op);
	if (!op->whole_window && chance(8))
		gen_copy(op, w);
	else if (!op->whole_window && chance(6))
		gen_harvest(op);
	else if (!op->whole_window && chance(6))
		gen_mark(op);
	else if (!op->whole_window && chance(6))
		gen_split(op);
}

static const char *kind_name(enum op_kind k)
{
	static const char *const n[] = {"map", "map_frames", "unmap",
					"protect", "move", "query", "walk", "copy", "harvest",
					"mark", "split"};
	return n[k];
}

static void describe(const struct op *op, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s%s %s va=%#" PRIx64 " len=%#" PRIx64,
			 op->cursor ? "cursor " : "", kind_name(op->kind), op->mt->name, op->va,
			 op->len);

	if (op->kind == OP_MAP)
		snprintf(buf + n, len - n, " pa=%#" PRIx64 " flags=%#x cache=%u",
			 op->pa, op->prop.flags, op->prop.cache);
	else if (op->kind == OP_MAPF)
		snprintf(buf + n, len - n, " n=%zu frame0=%#" PRIx64 " flags=%#x"
			 " cache=%u", op->nf, op->nf ? op->frames[0] : 0,
			 op->prop.flags, op->prop.cache);
	else if (op->kind == OP_PROTECT)
		snprintf(buf + n, len - n, " set=%#x clear=%#x%s", op->set,
			 op->clear, op->batch ? " batch" : "");
	else if (op->kind == OP_UNMAP && op->batch)
		snprintf(buf + n, len - n, " batch");
	else if (op->kind == OP_COPY)
		snprintf(buf + n, len - n, " into %s flags %#x%s", op->mt2->name,
			 op->copy_flags, op->batch ? " batch" : "");
	else if (op->kind == OP_HARVEST)
		snprintf(buf + n, len - n, " what %#x%s", op->harvest_what,
			 op->batch ? " batch" : "");
	else if (op->kind == OP_MARK)
		snprintf(buf + n, len - n, " value %#" PRIx64, op->mark_value);
	else if (op->kind == OP_SPLIT && op->split_stash)
		snprintf(buf + n, len - n, " to %u stash %" PRIu64, op->split_to, op->stash_nodes);
	else if (op->kind == OP_SPLIT)
		snprintf(buf + n, len - n, " to %u", op->split_to);
	else if (op->kind == OP_MOVE)
		snprintf(buf + n, len - n, " to=%#" PRIx64 "%s", op->to,
			 op->batch ? " batch" : "");
}

/* A move: EINVAL for a bad or overlapping range, then each range's
 * EALIGN, ERANGE, EPERM (the first in §5's order), then EEXIST. */
static int expect_move(const struct op *op, struct half **hp)
{
	struct half *h_from = NULL, *h_to = NULL;
	int e1, e2;

	if (range_bad(op->va, op->len) || range_bad(op->to, op->len) ||
	    (op->va <= op->to + (op->len - 1) && op->to <= op->va + (op->len - 1)))
		return PT_EINVAL;
	e1 = range_err(op->mt, op->va, op->len, 0, false, true, &h_from);
	e2 = range_err(op->mt, op->to, op->len, 0, false, true, &h_to);
	if (e1 || e2)
		return !e1 ? e2 : !e2 ? e1 : e1 == PT_EALIGN || e2 == PT_EALIGN ? PT_EALIGN
					 : e1 == PT_ERANGE || e2 == PT_ERANGE ? PT_ERANGE : e1;
	if (h_from != h_to)
		mfail("move between halves %s and %s passed the range checks",
		      h_from->name, h_to->name);
	*hp = h_to;
	return overlaps(h_to, op->to, op->to + (op->len - 1)) ||
			       marks_overlap(h_to, op->to, op->to + (op->len - 1))
		       ? PT_EEXIST
		       : 0;
}

/* pt_copy's result: its argument errors on both tables, first first
 * (EALIGN, ERANGE, EPERM are -2, -3, -4), then its own; the halves. */
static int expect_copy(const struct op *op, struct half **hs, struct half **hd)
{
	int es, ed;

	if (range_bad(op->va, op->len) || op->mt == op->mt2 || !alike(op->mt, op->mt2) ||
	    (op->copy_flags & ~PT_COPY_COW))
		return PT_EINVAL;
	es = range_err(op->mt, op->va, op->len, 0, false, true, hs);
	ed = range_err(op->mt2, op->va, op->len, 0, false, true, hd);
	if (es || ed)
		return es && ed ? (es > ed ? es : ed) : es ? es : ed;
	return copy_state_err(*hd, *hs, op->va, op->va + (op->len - 1));
}

static bool harvest_what_bad(unsigned what)
{
	return !(what & 3) || (what & ~7u);
}

/* The expected result, and the half it acts on when that is 0 (a copy:
 * its source's, and its destination's in *hp2). */
static int expect(const struct op *op, struct half **hp, struct half **hp2,
		  struct pt_prop *norm)
{
	bool frames_bad = false;
	int err;

	switch (op->kind) {
	case OP_MAP:
		if (range_bad(op->va, op->len) ||
		    model_normalize(op->prop, op->mt->features, norm))
			return PT_EINVAL;
		err = range_err(op->mt, op->va, op->len, op->pa,
				op->pa >= fmt->pa_limit ||
					op->len > fmt->pa_limit - op->pa,
				true, hp);
		if (err)
			return err;
		break;
	case OP_MAPF:
		for (size_t i = 0; i < op->nf; i++)
			frames_bad |= pool_slot(op->frames[i]) < 0;
		if (op->nf == 0 || frames_bad || range_bad(op->va, op->len) ||
		    model_normalize(op->prop, op->mt->features, norm))
			return PT_EINVAL;
		err = range_err(op->mt, op->va, op->len, 0, false, true, hp);
		if (err)
			return err;
		break;
	case OP_UNMAP:
	case OP_PROTECT:
	case OP_WALK:
		if (range_bad(op->va, op->len) || (op->set & op->clear) ||
		    ((op->set | op->clear) & ~allowed_flags))
			return PT_EINVAL;
		return range_err(op->mt, op->va, op->len, 0, false,
				 op->kind != OP_WALK, hp);
	case OP_MOVE:
		return expect_move(op, hp);
	case OP_QUERY:
		*hp = half_of(op->mt, op->va & ~(uint64_t)(PAGE - 1), PAGE);
		return *hp ? 0 : PT_ERANGE;
	case OP_COPY:
		return expect_copy(op, hp, hp2);
	case OP_HARVEST:
		/* The cursor form checks its arguments after the open's. */
		if (range_bad(op->va, op->len) ||
		    (!op->cursor && harvest_what_bad(op->harvest_what)))
			return PT_EINVAL;
		err = range_err(op->mt, op->va, op->len, 0, false, true, hp);
		return err ? err : harvest_what_bad(op->harvest_what) ? PT_EINVAL : 0;
	case OP_SPLIT:
		if (range_bad(op->va, op->len) || !op->split_to ||
		    op->split_to > fmt->max_leaf_level)
			return PT_EINVAL;
		err = range_err(op->mt, op->va, op->len, 0, false, true, hp);
		if (err || !op->split_stash)
			return err;
		return split_need(*hp, op->va, op->va + (op->len - 1), op->split_to) >
				       op->stash_nodes
			       ? PT_ENOMEM
			       : 0;
	case OP_MARK:
		if (range_bad(op->va, op->len) ||
		    (!op->cursor && (op->mark_value >> fmt->marker_bits)))
			return PT_EINVAL;
		err = range_err(op->mt, op->va, op->len, 0, false, true, hp);
		if (err)
			return err;
		if (op->mark_value >> fmt->marker_bits)
			return PT_EINVAL;
		break;
	}
	return overlaps(*hp, op->va, op->va + (op->len - 1)) ? PT_EEXIST : 0;
}

/* pt_cursor_harvest_next or pt_cursor_mark over the whole range of a
 * cursor opened for it. */
static int run_cursor(const struct op *op, struct pt_flush *fl)
{
	struct pt_cursor c;
	int err = pt_cursor_open(&c, op->mt->t, op->va, op->len);

	if (err)
		return err;
	if (op->kind == OP_HARVEST)
		err = pt_cursor_harvest_next(&c, op->len, op->harvest_what, hv_got, fl);
	else
		err = pt_cursor_mark(&c, op->len, op->mark_value);
	if (err == 0 && !(pt_cursor_va(&c) == op->va + op->len))
		mfail("the cursor is at %#" PRIx64 ", not past the range", pt_cursor_va(&c));
	pt_cursor_close(&c);
	return err;
}

/* pt_split, from a stash filled (and drained after) or from the phys. */
static int run_split(const struct op *op)
{
	struct pt_reserve r = {0, 0};
	int err = 0;

	if (op->split_stash)
		err = pt_reserve_fill(op->mt->t, &r, op->stash_nodes);
	if (err == 0)
		err = pt_split(op->mt->t, op->va, op->len, op->split_to,
			       op->split_stash ? &r : NULL);
	pt_reserve_drain(op->mt->t, &r);
	return err;
}

static int run_change(const struct op *op)
{
	struct pt_flush fl;
	int err;

	switch (op->kind) {
	case OP_MAP:
		return pt_map(op->mt->t, op->va, op->pa, op->len, op->prop);
	case OP_MAPF:
		return pt_map_frames(op->mt->t, op->va, op->frames, op->nf,
				     op->prop);
	default:
		break;
	}
	if (op->batch)
		pt_flush_init(&fl, op->mt->t);
	if (op->cursor)
		err = run_cursor(op, op->batch ? &fl : NULL);
	else if (op->kind == OP_UNMAP)
		err = pt_unmap(op->mt->t, op->va, op->len,
			       op->batch ? &fl : NULL);
	else if (op->kind == OP_COPY)
		err = pt_copy(op->mt2->t, op->mt->t, op->va, op->len, op->copy_flags,
			      op->batch ? &fl : NULL);
	else if (op->kind == OP_HARVEST)
		err = pt_harvest(op->mt->t, op->va, op->len, op->harvest_what, hv_got,
				 op->batch ? &fl : NULL);
	else if (op->kind == OP_MARK)
		err = pt_mark(op->mt->t, op->va, op->len, op->mark_value);
	else if (op->kind == OP_SPLIT)
		err = run_split(op);
	else if (op->kind == OP_MOVE)
		err = pt_move(op->mt->t, op->va, op->to, op->len,
			      op->batch ? &fl : NULL);
	else
		err = pt_protect(op->mt->t, op->va, op->len, op->set, op->clear,
				 op->batch ? &fl : NULL);
	inv.in_finish = true;
	if (op->batch && pt_flush_finish(&fl))
		mfail("pt_flush_finish failed");
	inv.in_finish = false;
	return err;
}

static void step_query(const struct op *op, int want, struct half *h)
{
	struct pt_mapping got, w;
	char a[160], b[160];
	int err = pt_query(op->mt->t, op->va, &got);
	size_t i = 0;

	if (want == 0) {
		i = lower_leaf(&h->leaves, op->va);
		if (i == h->leaves.n || h->leaves.v[i].va > op->va)
			want = PT_ENOENT;
	}
	if (err != want)
		mfail("query returned %d (%s), want %d", err, pt_strerror(err),
		      want);
	if (err)
		return;
	leaf_to_mapping(&h->leaves.v[i], &w);
	if (memcmp(&w, &got, offsetof(struct pt_mapping, prop)) ||
	    w.prop.flags != got.prop.flags || w.prop.cache != got.prop.cache ||
	    w.tracked != got.tracked)
		mfail("query: want %s, got %s", pt_test_fmt_mapping(&w, a, sizeof(a)),
		      pt_test_fmt_mapping(&got, b, sizeof(b)));
}

static void step_walk(const struct op *op, int want, struct half *h)
{
	size_t i = 0, j = 0;

	if (want == 0) {
		uint64_t last = op->va + (op->len - 1);

		i = j = lower_leaf(&h->leaves, op->va);
		while (j < h->leaves.n && h->leaves.v[j].va <= last)
			j++;
	}
	compare_walk(op->mt->t, op->mt->name, op->va, op->len, want,
		     want ? NULL : h->leaves.v + i, j - i, 0, "ranged walk");
}

static void model_apply(const struct op *op, struct half *h,
			struct pt_prop norm, struct effects *e)
{
	static struct leafvec nl;
	struct cut c = {op->kind == OP_UNMAP, op->set, op->clear, NULL};

	if (op->kind == OP_SPLIT) {
		size_t before = h->leaves.n;

		st.split_dry += !model_split(h, op->va, op->va + (op->len - 1), op->split_to,
					     op->split_stash ? op->stash_nodes : UINT64_MAX, e);
		st.split_leaves += h->leaves.n - before;
	} else if (op->kind == OP_MARK) {
		model_mark(h, op->va, op->va + (op->len - 1), op->mark_value);
		st.marks_made += op->len / PAGE;
		st.marks_huge += mark_at(h, op->va)->level > 1;
	} else if (op->kind == OP_HARVEST) {
		uint32_t ask = (op->harvest_what & PT_HARVEST_ACCESSED ? PT_A : 0) |
			       (op->harvest_what & PT_HARVEST_DIRTY ? PT_D : 0);

		model_harvest(h, op->va, op->va + (op->len - 1), ask,
			      op->harvest_what & PT_HARVEST_CLEAR, hv_want, e);
		st.harvest_cleared += e->pieces.n;
	} else if (op->kind == OP_MAP || op->kind == OP_MAPF) {
		if (op->kind == OP_MAP)
			plan_map(h, op->va, op->pa, op->len, norm, SIZE_MAX,
				 &nl);
		else
			plan_map_frames(op->va, op->frames, op->nf, norm, &nl);
		model_insert(h, &nl, e);
		for (size_t k = 0; k < nl.n; k++)
			st.leaves_made[level_of(nl.v[k].size)]++;
		st.mixed_maps += nl.n > 1 && nl.v[0].size != nl.v[nl.n - 1].size;
	} else if (op->kind == OP_MOVE) {
		size_t recut;

		st.moved_nodes += model_move(h, op->va, op->to, op->len, e, &recut);
		st.moved_pieces += recut;
	} else {
		model_cut(h, op->va, op->va + (op->len - 1), &c, e);
	}
}

/* A map that would make too many leaves (pa and va congruent only modulo 4K
 * over a long range) is shrunk: the per-step checks cost per leaf. */
static void tame_map(struct op *op)
{
	static struct leafvec nl;
	struct half *h = half_of(op->mt, op->va, op->len);

	if (op->kind != OP_MAP || !h || range_bad(op->va, op->len) ||
	    (op->len | op->va | op->pa) % PAGE)
		return;
	plan_map(h, op->va, op->pa, op->len, op->prop, MAP_LEAF_CAP, &nl);
	if (nl.n > MAP_LEAF_CAP)
		op->len = (1 + rnd_below(64)) * PAGE;
}

/* A move kept to about MOVE_LEAF_CAP leaves (model_core.h's move_tame). */
static void tame_move(struct op *op)
{
	struct half *h = half_of(op->mt, op->va, op->len);

	if (op->kind == OP_MOVE && h && !range_bad(op->va, op->len) &&
	    (op->va | op->len) % PAGE == 0)
		op->to = move_tame(h, op->va, op->len, op->to, MOVE_LEAF_CAP);
}

static void verify_after(const struct mtable *mt)
{
	verify_table(mt);
	if (mt == &t_k)
		verify_table(&t_uk); /* shares K's kernel half */
	if (step_no % 512 == 0)
		for (size_t i = 0; i < NTABLES; i++)
			verify_table(tables[i]);
	verify_frames();
}

static size_t tracked_pieces(const struct effects *e)
{
	size_t n = 0;

	for (size_t k = 0; k < e->pieces.n; k++)
		n += e->pieces.v[k].pool >= 0;
	return n;
}

/*
 * Fault injection in random states: the nth allocation (n = 1..3) of the
 * operation fails.  PT_ENOMEM must leave everything as the model still has it
 * (design §5, all or nothing); the caller then runs the operation for real.
 * An operation that needs fewer allocations just succeeds (returns 0).
 */
static int probe_enomem(const struct op *op)
{
	uint64_t nth = 1 + rnd_below(3);
	int err;

	snprintf(cur_op + strlen(cur_op), sizeof(cur_op) - strlen(cur_op),
		 " [alloc #%" PRIu64 " fails]", nth);
	pt_phys_fail_nth_alloc(phys, nth);
	err = run_change(op);
	pt_phys_fail_nth_alloc(phys, 0);
	if (err == PT_ENOMEM) {
		st.enomem++;
		verify_after(op->mt); /* the model is still the state before */
		if (op->mt2)
			verify_after(op->mt2);
		return err;
	}
	if (err)
		mfail("with allocation #%" PRIu64 " set to fail: returned %d (%s),"
		      " want 0 or PT_ENOMEM", nth, err, pt_strerror(err));
	st.probe_ok++;
	return 0;
}

/*
 * A copy changes two tables; the invalidation checker watches one: src
 * (W cleared: must be invalidated there, through the caller's batch if
 * any) or dst (replaced empty nodes, AArch64's break when a table becomes
 * a block, RISC-V's new mappings), at random.
 */
static void step_copy(const struct op *op)
{
	static struct effects es, ed;
	uint64_t pre_maps[NPOOL];
	struct half *hs = NULL, *hd = NULL;
	bool watch_src = chance(50);
	struct mtable *wt = watch_src ? op->mt : op->mt2;
	int want = expect(op, &hs, &hd, NULL), err;
	bool done = want == 0 && chance(3) && probe_enomem(op) == 0;

	st.err[-want < 10 ? -want : 0]++;
	es.nodes_removed = es.splits = es.pieces.n = es.breaks.n = 0;
	ed.nodes_removed = ed.splits = ed.pieces.n = ed.breaks.n = 0;
	memcpy(pre_maps, pool_maps, sizeof(pre_maps));
	if (want == 0) {
		size_t before = hd->leaves.n;

		model_copy(hd, hs, op->va, op->va + (op->len - 1),
			   op->copy_flags & PT_COPY_COW, &es, &ed);
		st.copy_leaves += hd->leaves.n - before;
		st.copy_cow += (op->copy_flags & PT_COPY_COW) != 0;
	}
	if (!done) {
		inv_begin(wt->name, wt->root, wt->features, &wt->hooked,
			  watch_src ? hs : hd, watch_src && op->batch,
			  watch_src ? &es : &ed, pre_maps);
		err = run_change(op);
		if (err != want)
			mfail("returned %d (%s), want %d (%s)", err, pt_strerror(err),
			      want, pt_strerror(want));
		inv_end(watch_src ? &es : &ed);
	}
	verify_after(op->mt);
	verify_after(op->mt2);
	st.ok[OP_COPY] += want == 0;
}

/* The bitmap pt_harvest wrote against the model's. */
static void compare_harvest(const struct op *op)
{
	uint64_t pages = op->len / PAGE;

	for (uint64_t w = 0; w < (pages + 63) / 64; w++) {
		if (hv_got[w] == hv_want[w]) {
			st.harvest_bits += (unsigned)__builtin_popcountll(hv_got[w]);
			continue;
		}
		mfail("harvest: bitmap word %" PRIu64 " (pages from va %#" PRIx64 ") is %#"
		      PRIx64 ", want %#" PRIx64, w, op->va + w * 64 * PAGE, hv_got[w],
		      hv_want[w]);
	}
}

static void step(void)
{
	static struct effects e;
	uint64_t pre_maps[NPOOL];
	struct half *h = NULL, *h2 = NULL;
	struct pt_prop norm = {0, 0};
	struct op op;
	int want, err;

	gen_op(&op);
	tame_map(&op);
	tame_move(&op);
	describe(&op, cur_op, sizeof(cur_op));
	st.ops[op.kind]++;
	if (op.kind == OP_COPY) {
		step_copy(&op);
		snprintf(recent[step_no % NR_RECENT], sizeof(recent[0]), "#%lu %s",
			 step_no, cur_op);
		return;
	}
	want = expect(&op, &h, &h2, &norm);
	st.err[-want < 10 ? -want : 0]++;
	if (op.va + op.len == 0 && op.len)
		st.top_ops++;
	if (op.kind == OP_QUERY) {
		step_query(&op, want, h);
		verify_after(op.mt); /* reading must not change anything either */
	} else if (op.kind == OP_WALK) {
		step_walk(&op, want, h);
		verify_after(op.mt);
	} else {
		bool done = want == 0 && chance(3) && probe_enomem(&op) == 0;
		bool dry = op.kind == OP_SPLIT && want == PT_ENOMEM; /* partly done */

		e.nodes_removed = e.splits = e.pieces.n = e.breaks.n = 0;
		memcpy(pre_maps, pool_maps, sizeof(pre_maps));
		if (want == 0 || dry)
			model_apply(&op, h, norm, &e);
		if (!done) { /* a probe that succeeded had no hook watching */
			inv_begin(op.mt->name, op.mt->root, op.mt->features,
				  &op.mt->hooked, h,
				  op.batch && op.kind >= OP_UNMAP, &e, pre_maps);
			err = run_change(&op);
			if (err != want)
				mfail("returned %d (%s), want %d (%s)", err,
				      pt_strerror(err), want, pt_strerror(want));
			inv_end(&e);
		}
		if (op.kind == OP_HARVEST && want == 0)
			compare_harvest(&op);
		verify_after(op.mt);
		st.splits += e.splits;
		st.nodes_removed += e.nodes_removed;
		st.big_unmaps += op.whole_window && want == 0;
		st.full_batches += tracked_pieces(&e) > PT_FLUSH_MAX_FRAMES;
	}
	st.ok[op.kind] += want == 0;
	snprintf(recent[step_no % NR_RECENT], sizeof(recent[0]), "#%lu %s -> %d",
		 step_no, cur_op, want);
}

/* ------------------------------------------------------------- setup */

static void make_table(struct mtable *mt, const char *name, enum pt_space sp,
		       unsigned max_leaf, struct half *user, struct half *kern,
		       unsigned weight, uint32_t features)
{
	struct pt_table_opts o = {.max_leaf_level = max_leaf,
				  .invalidate = on_invalidate,
				  .features = features};
	int err = pt_table_create_opts(phys, fmt, sp, &o, &mt->t);

	assert_int_equal(err, 0);
	*mt = (struct mtable){name, mt->t, pt_table_root(mt->t), user, kern,
			      false, true, weight, features, max_leaf};
}

/*
 * Features of U, U2 and K (UK inherits K's): each feature on some tables
 * and off on others, so both behaviours meet the same operations.  x86:
 * U2 has the Linux PAT (WC allowed, WT at PAT index 7: the PAT bit moves
 * from bit 12 to bit 7 when a huge leaf splits).  RISC-V: U has neither
 * extension (all WB; new mappings flushed), U2 all three (Svadu: A and D
 * are not forced, so harvests clear them), K Svpbmt only.
 * AArch64: U2 has FEAT_BBM level 2 (size changes without a break).
 */
static void table_features(uint32_t *fu, uint32_t *fu2, uint32_t *fk)
{
	*fu = *fu2 = *fk = 0;
	switch (tf->fam) {
	case PT_FAM_X86:
		*fu2 = PT_FEAT_X86_PAT_WC;
		break;
	case PT_FAM_RISCV:
		*fu2 = PT_FEAT_RISCV_SVPBMT | PT_FEAT_RISCV_SVVPTC | PT_FEAT_RISCV_SVADU;
		*fk = PT_FEAT_RISCV_SVPBMT;
		break;
	case PT_FAM_AARCH64:
		*fu2 = PT_FEAT_AARCH64_BBM2;
		if (tf->stage == 2) /* K and UK: the stage 2's forced write-back */
			*fk = PT_FEAT_AARCH64_S2FWB;
		break;
	case PT_FAM_EPT:
		*fu2 = *fk = PT_FEAT_X86_EPT_AD;
		break;
	}
}

static void setup(void)
{
	uint32_t fu, fu2, fk;
	uint64_t free0;
	char why[300];

	model_format(tf);
	table_features(&fu, &fu2, &fk);
	if (normalize_disagrees((const uint32_t[]){fu, fu2, fk}, 3, why,
				sizeof(why)))
		pt_test_fail("%s", why);
	assert_int_equal(pt_phys_create(ARENA_BYTES, &phys), 0);
	free_all = pt_phys_free_frames(phys);
	pool_index = malloc(ARENA_BYTES / PAGE * sizeof(*pool_index));
	assert_non_null(pool_index);
	memset(pool_index, 0xff, ARENA_BYTES / PAGE * sizeof(*pool_index));
	for (int i = 0; i < NPOOL; i++) {
		assert_int_equal(pt_frame_alloc(phys, &pool[i]), 0);
		pool_index[pool[i] / PAGE] = (int16_t)i;
	}
	free0 = pt_phys_free_frames(phys);
	if (model_windows(user_win, kern_win) >= 0)
		pt_test_fail("%s: window %d is outside its half", tf->id,
			     model_windows(user_win, kern_win));

	half_init(&h_u, "U.user", false, fmt->max_leaf_level, fu);
	half_init(&h_u2, "U2.user", false, 2, fu2);
	/* UK gets K's features (pt_table_create_user copies them). */
	half_init(&h_uk, "UK.user", false, fmt->max_leaf_level, fk);
	/* A stage 2 has one space: K is one more user-space table there. */
	half_init(&h_k, fmt->stage == 2 ? "K.user" : "K.kernel", fmt->stage != 2,
		  fmt->max_leaf_level, fk);
	/* C: U's twin, what copies from U and UK mostly go into. */
	half_init(&h_c, "C.user", false, fmt->max_leaf_level, fu);
	make_table(&t_u, "U", PT_SPACE_USER, 0, &h_u, NULL, 30, fu);
	make_table(&t_u2, "U2", PT_SPACE_USER, 2, &h_u2, NULL, 15, fu2);
	if (fmt->stage == 2)
		make_table(&t_k, "K", PT_SPACE_USER, 0, &h_k, NULL, 25, fk);
	else
		make_table(&t_k, "K", PT_SPACE_KERNEL, 0, NULL, &h_k, 25, fk);
	make_table(&t_c, "C", PT_SPACE_USER, 0, &h_c, NULL, 10, fu);
	if (fmt->stage == 2)
		make_table(&t_uk, "UK", PT_SPACE_USER, 0, &h_uk, NULL, 30, fk);
	else
		assert_int_equal(pt_table_create_user(t_k.t, &t_uk.t), 0);
	/* UK inherits K's hook; it counts as hooked once a call reaches us.
	 * With one root per half it is just an empty user table: K's half
	 * is PT_ERANGE through it. */
	if (fmt->shared_kernel_root)
		t_uk = (struct mtable){"UK", t_uk.t, pt_table_root(t_uk.t),
				       &h_uk, &h_k, true, false, 30, fk, 0};
	else if (fmt->stage != 2)
		t_uk = (struct mtable){"UK", t_uk.t, pt_table_root(t_uk.t),
				       &h_uk, NULL, false, false, 30, fk, 0};
	free_base = pt_phys_free_frames(phys);
	nodes_base = model_nodes();
	for (size_t i = 0; i < NTABLES; i++)
		verify_table(tables[i]);
	/* Whatever else creation took (table structs) is not a page-table
	 * node; report it, since the leak check at the end covers it. */
	print_message("%s: tables took %" PRIu64 " frames for %zu model nodes;"
		      " features U %#x U2 %#x K/UK %#x\n", tf->id,
		      free0 - free_base, nodes_base, fu, fu2, fk);
}

static void teardown(void)
{
	uint64_t now;

	/* A kernel table that user tables share outlives them. */
	if (fmt->shared_kernel_root)
		assert_int_equal(pt_table_destroy(t_k.t), PT_EBUSY);
	verify_table(&t_k);
	verify_table(&t_uk);
	for (size_t i = NTABLES; i-- > 0;) /* UK before K */
		assert_int_equal(pt_table_destroy(tables[i]->t), 0);
	for (int i = 0; i < NPOOL; i++)
		if (pt_frame_refcount(phys, pool[i]) != 1)
			pt_test_fail("after destroy frame %#" PRIx64
				     " has refcount %" PRIu64 ", want 1",
				     pool[i], pt_frame_refcount(phys, pool[i]));
	for (int i = 0; i < NPOOL; i++)
		assert_int_equal(pt_frame_put(phys, pool[i]), 0);
	now = pt_test_free_frames(phys);
	if (now != free_all)
		pt_test_fail("after destroying every table %" PRIu64 " frames are"
			     " free, %" PRIu64 " were at the start", now, free_all);
	pt_phys_destroy(phys);
	free(pool_index);
}

static unsigned long env_ulong(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : dflt;
}

/* The generator must actually reach the cases the test is about. */
static void check_coverage(unsigned long nops)
{
	if (nops < 20000)
		return; /* short runs are for debugging */
	assert_true(st.leaves_made[1] && st.leaves_made[2] && st.leaves_made[3]);
	assert_true(st.mixed_maps > 0);
	assert_true(st.splits > 0);
	assert_true(st.nodes_removed > 0);
	assert_true(st.top_ops > 0);
	assert_true(st.big_unmaps > 0);
	assert_true(st.ok[OP_MAPF] > 0);
	assert_true(st.ok[OP_MOVE] > 0 && st.moved_nodes > 0 && st.moved_pieces > 0);
	assert_true(st.enomem > 0 && st.probe_ok > 0);
	assert_true(st.ok[OP_COPY] > 0 && st.copy_cow > 0 && st.copy_leaves > 0);
	assert_true(st.ok[OP_HARVEST] > 0 && st.harvest_bits > 0);
	assert_true(st.ok[OP_MARK] > 0 && st.marks_made > 0 && st.marks_huge > 0);
	assert_true(st.ok[OP_SPLIT] > 0 && st.split_leaves > 0 && st.split_dry > 0);
	assert_true(st.harvest_cleared > 0 || tf->fam == PT_FAM_AARCH64);
	for (int e = -PT_EINVAL; e <= -PT_EEXIST; e++)
		if (e != -PT_EPERM || fmt->shared_kernel_root) /* UK's kernel half */
			assert_true(st.err[e] > 0);
	/* Both sides of the format's features were exercised. */
	if (pt_rules_resize_needs_break(tf->fam, t_u.features))
		assert_true(st_breaks_req[REQ_SPLIT] > 0 && st_breaks_req[REQ_BLOCK] > 0);
	if (tf->fam == PT_FAM_AARCH64) /* a stage 2 has no nG to change */
		assert_true((st_breaks_req[REQ_UPDATE] > 0 || tf->stage == 2) && st_breaks_mid > 0);
	if (pt_rules_flush_new_mappings(tf->fam, t_u.features))
		assert_true(st_new_pieces > 0);
}

/* x86_64 keeps the run it always had; the others share about as much
 * time again: AArch64 (no 256 pinned kernel nodes to check after every
 * step) costs a quarter per step, so it gets more of them.
 * PTKIT_MODEL_OPS overrides all. */
static unsigned long default_ops(void)
{
	if (tf->fmt == &pt_format_x86_64)
		return 100000;
	return tf->fam == PT_FAM_AARCH64 ? 40000 : 20000;
}

static void test_model_random(void **state)
{
	unsigned long nops = env_ulong("PTKIT_MODEL_OPS", default_ops());
	struct timespec t0, t1;

	(void)state;
	seed = env_ulong("PTKIT_MODEL_SEED", 1);
	rng = seed;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	setup();
	for (step_no = 0; step_no < nops; step_no++)
		step();
	for (size_t i = 0; i < NTABLES; i++)
		verify_table(tables[i]);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("%s seed %" PRIu64 ": %lu steps in %.1f s; map %lu/%lu ok,"
		      " map_frames %lu/%lu, unmap %lu/%lu, protect %lu/%lu,"
		      " move %lu/%lu, query %lu, walk %lu\n", tf->id, seed, nops,
		      (double)(t1.tv_sec - t0.tv_sec) +
			      (t1.tv_nsec - t0.tv_nsec) / 1e9,
		      st.ok[OP_MAP], st.ops[OP_MAP], st.ok[OP_MAPF], st.ops[OP_MAPF],
		      st.ok[OP_UNMAP], st.ops[OP_UNMAP], st.ok[OP_PROTECT],
		      st.ops[OP_PROTECT], st.ok[OP_MOVE], st.ops[OP_MOVE], st.ops[OP_QUERY],
		      st.ops[OP_WALK]);
	print_message("leaves made 4K %lu 2M %lu 1G %lu; mixed-size maps %lu;"
		      " splits %lu; nodes removed %lu; ranges ending at 2^64 %lu;"
		      " errors EINVAL %lu EALIGN %lu ERANGE %lu EPERM %lu EEXIST"
		      " %lu; unmaps overflowing a flush batch %lu; ENOMEM rolled"
		      " back %lu; UK invalidations %s\n", st.leaves_made[1],
		      st.leaves_made[2], st.leaves_made[3], st.mixed_maps,
		      st.splits, st.nodes_removed, st.top_ops, st.err[1],
		      st.err[2], st.err[3], st.err[4], st.err[5],
		      st.full_batches, st.enomem, t_uk.hooked ? "checked" : "never seen (unchecked)");
	print_message("moves: nodes relocated %lu, leaves re-cut %lu\n", st.moved_nodes,
		      st.moved_pieces);
	print_message("breaks checked: split %lu, table to block %lu, nG change"
		      " %lu; breaks in the middle of an operation %lu; new"
		      " mappings checked for invalidation %lu\n",
		      st_breaks_req[REQ_SPLIT], st_breaks_req[REQ_BLOCK],
		      st_breaks_req[REQ_UPDATE], st_breaks_mid, st_new_pieces);
	print_message("copies %lu/%lu ok (%lu copy-on-write), %lu leaves copied;"
		      " harvests %lu/%lu ok, %lu bits set, %lu leaves cleared;"
		      " marks %lu/%lu ok (%lu pages, %lu starting with a huge marker);"
		      " splits %lu/%lu ok (%lu ran dry),"
		      " %lu leaves more\n",
		      st.ok[OP_COPY], st.ops[OP_COPY], st.copy_cow, st.copy_leaves,
		      st.ok[OP_HARVEST], st.ops[OP_HARVEST], st.harvest_bits,
		      st.harvest_cleared, st.ok[OP_MARK], st.ops[OP_MARK], st.marks_made, st.marks_huge,
		      st.ok[OP_SPLIT], st.ops[OP_SPLIT], st.split_dry, st.split_leaves);
	check_coverage(nops);
	teardown();
}

/* The format: the first argument (CTest passes it), else
 * PTKIT_MODEL_FORMAT, else x86_64. */
int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : getenv("PTKIT_MODEL_FORMAT");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_random),
	};
	char group[64];

	tf = pt_test_format_find(name && *name ? name : "x86_64");
	if (!tf) {
		fprintf(stderr, "model_random: unknown format '%s'; one of:", name);
		for (size_t i = 0; i < PT_TEST_NR_FORMATS; i++)
			fprintf(stderr, " %s", pt_test_formats[i].id);
		fprintf(stderr, "\n");
		return 2;
	}
	snprintf(group, sizeof(group), "model_random[%s]", tf->id);
	return _cmocka_run_group_tests(group, tests, 1, NULL, NULL);
}
