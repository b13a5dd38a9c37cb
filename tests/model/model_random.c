/* SPDX-License-Identifier: MPL-2.0 */
/*
 * model_random.c - random operations checked against a model of the view.
 *
 * DESIGN §4 says every operation's meaning is stated on the view, and tests
 * keep a simple model of it.  This test keeps one: per half of each table, a
 * sorted array of leaves (va, pa, size, prop, tracked) and, per level, the set
 * of page-table nodes that DESIGN §5's rules say exist (map creates the nodes
 * its leaves need and frees empty nodes in the way of a huge leaf; a split
 * adds one node per level it goes down; unmap detaches every node whose whole
 * range it covers, except a kernel table's nodes under the root).  Modelling
 * the nodes lets pt_table_stats be predicted exactly, which is how leaked or
 * wrongly freed page-table memory shows up.
 *
 * After every step: the whole view (both halves) of the tables the step can
 * have touched is compared leaf by leaf, pt_check runs, the stats are
 * compared, every tracked frame's reference count is compared (the test holds
 * one reference, each mapping one more), and the invalidation hook is checked:
 * every removed or changed range was invalidated after the change was
 * written (the hook reads the raw PTEs), a tracked frame was released only
 * after such an invalidation, and removed nodes were flushed as nodes.
 *
 * Tables: U (user), U2 (user, pages capped at 2 MiB), K (kernel) and UK (user,
 * made from K with pt_table_create_user: sharing K's kernel half where the
 * format has one root for both halves, an empty user table of its own where
 * it has one root per half, as AArch64).  Address windows are small so ranges
 * collide often: a few GiB at the start of each half, at its top (the kernel
 * top gives va + len == 2^64) and across a root entry's boundary.  Rare
 * steps make an allocation fail first (PT_ENOMEM must change nothing).
 *
 * Every format runs it: the format is the first argument or
 * PTKIT_MODEL_FORMAT ("x86_64", "x86_64_la57", "riscv_sv39", "riscv_sv48",
 * "aarch64_4k"; default x86_64).  Everything format-dependent comes from the
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

#include "format_rules.h"
#include "testutil.h"

#define PAGE ((uint64_t)PT_PAGE_SIZE) /* 64-bit: 0 - n * PAGE must not wrap at 2^32 */
#define ARENA_BYTES (256 * PT_MiB)
#define NPOOL 48            /* tracked frames the test owns */
#define MAX_MAPF 320        /* frames per map_frames call: > a flush batch */
#define MAP_LEAF_CAP 1100   /* a drawn map making more leaves is shrunk */
#define HALF_LEAF_CAP 2500  /* above this, a half gets unmapped wholesale */
#define NR_RECENT 10

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

struct leaf {
	uint64_t va, pa, size;
	struct pt_prop prop;
	bool tracked;
};

struct leafvec {
	struct leaf *v;
	size_t n, cap;
};

struct u64vec {
	uint64_t *v;
	size_t n, cap;
};

/* A range that must be invalidated after it changed; pool >= 0 for a removed
 * tracked leaf.  `done` once an invalidation covered it with the change
 * already written. */
struct piece {
	uint64_t va, last;
	int pool;
	bool done;
};

struct piecevec {
	struct piece *v;
	size_t n, cap;
};

/* A change the format must break before making (AArch64): the range must
 * be invalidated with its entry cleared, in the middle of the operation. */
enum req_kind { REQ_SPLIT, REQ_BLOCK, REQ_UPDATE, NR_REQ };

struct req {
	uint64_t va, last;
	enum req_kind kind;
	bool met;
};

struct reqvec {
	struct req *v;
	size_t n, cap;
};

struct window {
	uint64_t start, last; /* 1 GiB aligned; last inclusive */
};

struct half {
	const char *name;
	uint64_t start, last;
	unsigned max_level;         /* largest leaf map may use here */
	unsigned pinned_level;      /* nodes never detached (kernel: under root) */
	uint32_t features;          /* of the table(s) it belongs to */
	struct leafvec leaves;      /* sorted, disjoint */
	struct u64vec nodes[PT_MAX_LEVELS + 1]; /* bases per level, root excluded */
};

struct mtable {
	const char *name;
	struct pt_table *t;
	uint64_t root;
	struct half *user, *kernel; /* NULL: the table does not span it */
	bool kernel_ro;             /* UK: kernel-half writes are PT_EPERM */
	bool hooked;                /* its invalidations reach on_invalidate */
	unsigned weight;            /* how often steps pick it */
	uint32_t features;          /* PT_FEAT_* it was created with */
};

/* What a modelled operation does besides the view. */
struct effects {
	size_t nodes_removed;
	size_t splits;
	struct piecevec pieces;     /* must be invalidated afterwards */
	struct reqvec breaks;       /* must be broken before made */
};

static const struct pt_test_format *tf;
static const struct pt_format *fmt;
static unsigned levels;
static struct pt_phys *phys;
static struct half h_u, h_u2, h_uk, h_k;
static struct mtable t_u, t_u2, t_k, t_uk;
static struct mtable *tables[] = {&t_u, &t_u2, &t_k, &t_uk};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))
#define NWIN 3
static struct window user_win[NWIN], kern_win[NWIN];
static uint64_t pool[NPOOL];
static uint64_t pool_maps[NPOOL];   /* mappings of each pool frame */
static int16_t *pool_index;         /* arena frame number -> pool slot */
static uint64_t free_all;           /* free frames in a fresh arena */
static uint64_t free_base;          /* free frames when tables were made */
static size_t nodes_base;           /* model nodes at that moment */
static uint32_t allowed_flags;      /* flags the format offers */
static struct leafvec scratch;
/* Format-specific counts (the rest are in `st` below). */
static unsigned long st_breaks_mid, st_breaks_req[NR_REQ], st_new_pieces;

/* Failure reporting: the seed and the last steps make a failure replayable. */
static uint64_t seed;
static unsigned long step_no;
static char recent[NR_RECENT][240];
static char cur_op[200];

#define mfail(...) model_fail(__FILE__, __LINE__, __VA_ARGS__)

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

#define GROW(vec)                                                          \
	do {                                                               \
		if ((vec)->n == (vec)->cap) {                              \
			(vec)->cap = (vec)->cap ? 2 * (vec)->cap : 64;     \
			(vec)->v = realloc((vec)->v,                       \
					   (vec)->cap * sizeof(*(vec)->v)); \
			if (!(vec)->v)                                     \
				abort();                                   \
		}                                                          \
	} while (0)

static uint64_t leaf_last(const struct leaf *l)
{
	return l->va + (l->size - 1);
}

static unsigned level_of(uint64_t size)
{
	unsigned l = 1;

	while (pt_level_size(l) != size)
		l++;
	return l;
}

/* Bytes covered by a node at `level` (its 512 entries). */
static uint64_t node_span(unsigned level)
{
	return level >= levels ? 0 : pt_level_size(level + 1);
}

/* First leaf whose last byte is at or after va (leaves are disjoint, so their
 * last bytes are sorted too). */
static size_t lower_leaf(const struct leafvec *lv, uint64_t va)
{
	size_t lo = 0, hi = lv->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (leaf_last(&lv->v[mid]) < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool overlaps(const struct half *h, uint64_t va, uint64_t last)
{
	size_t i = lower_leaf(&h->leaves, va);

	return i < h->leaves.n && h->leaves.v[i].va <= last;
}

/* Replaces lv[i, j) with src. */
static void splice(struct leafvec *lv, size_t i, size_t j,
		   const struct leafvec *src)
{
	size_t n = lv->n - (j - i) + src->n;

	if (i == j && src->n == 0)
		return; /* also: memmove/memcpy must not see a NULL array */
	if (n > lv->cap) {
		lv->cap = n + n / 2 + 64;
		lv->v = realloc(lv->v, lv->cap * sizeof(*lv->v));
		if (!lv->v)
			abort();
	}
	memmove(lv->v + i + src->n, lv->v + j, (lv->n - j) * sizeof(*lv->v));
	if (src->n)
		memcpy(lv->v + i, src->v, src->n * sizeof(*lv->v));
	lv->n = n;
}

static size_t u64_lower(const struct u64vec *s, uint64_t x)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void node_add(struct half *h, unsigned level, uint64_t base)
{
	struct u64vec *s = &h->nodes[level];
	size_t i = u64_lower(s, base);

	if (i < s->n && s->v[i] == base)
		return;
	GROW(s);
	memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
	s->v[i] = base;
	s->n++;
}

/* Detaches (in the model) every node whose whole range lies in [va, last]:
 * DESIGN §5 unmap, and map's "node in the way".  Returns how many. */
static size_t nodes_remove_inside(struct half *h, uint64_t va, uint64_t last)
{
	size_t removed = 0;

	for (unsigned m = 1; m < levels; m++) {
		struct u64vec *s = &h->nodes[m];
		uint64_t span = node_span(m);
		size_t i, j;

		if (m == h->pinned_level || last - va < span - 1)
			continue;
		i = u64_lower(s, va);
		j = u64_lower(s, last - (span - 1));
		if (j < s->n && s->v[j] == last - (span - 1))
			j++;
		if (j == i)
			continue;
		memmove(s->v + i, s->v + j, (s->n - j) * sizeof(*s->v));
		s->n -= j - i;
		removed += j - i;
	}
	return removed;
}

static size_t half_nodes(const struct half *h)
{
	size_t n = 0;

	for (unsigned m = 1; m < levels; m++)
		n += h->nodes[m].n;
	return n;
}

static size_t model_nodes(void)
{
	return NTABLES /* roots */ + half_nodes(&h_u) + half_nodes(&h_u2) +
	       half_nodes(&h_uk) + half_nodes(&h_k);
}

static int pool_slot(uint64_t pa)
{
	if (pa >= ARENA_BYTES || pa % PAGE)
		return -1;
	return pool_index[pa / PAGE];
}

static void piece_add(struct effects *e, uint64_t va, uint64_t last, int pool_i)
{
	struct piecevec *p = &e->pieces;

	/* Adjacent untracked pieces merge: protect makes many sub-leaves. */
	if (pool_i < 0 && p->n && p->v[p->n - 1].pool < 0 &&
	    p->v[p->n - 1].last + 1 == va) {
		p->v[p->n - 1].last = last;
		return;
	}
	GROW(p);
	p->v[p->n++] = (struct piece){va, last, pool_i, false};
}

static void req_add(struct effects *e, enum req_kind kind, uint64_t va,
		    uint64_t last)
{
	GROW(&e->breaks);
	e->breaks.v[e->breaks.n++] = (struct req){va, last, kind, false};
}

/* The model stores what the format makes of a property: its normalize(),
 * with the table's features.  setup() first checks that it agrees with the
 * rules of DESIGN §1 written down independently (format_rules.h). */
static int model_normalize(struct pt_prop p, uint32_t features,
			   struct pt_prop *out)
{
	return fmt->normalize(p, features, out);
}

static struct pt_prop protect_prop(struct pt_prop p, uint32_t set,
				   uint32_t clear, uint32_t features)
{
	struct pt_prop out;

	p.flags = (p.flags | set) & ~clear;
	if (model_normalize(p, features, &out))
		abort(); /* set/clear are drawn from allowed_flags */
	return out;
}

/* Leaves pt_map would make: at each position the largest page that the
 * alignment of va and pa and the remaining length allow (DESIGN §5). */
static void plan_map(const struct half *h, uint64_t va, uint64_t pa,
		     uint64_t len, struct pt_prop prop, size_t max,
		     struct leafvec *out)
{
	out->n = 0;
	for (uint64_t off = 0; off < len && out->n <= max;) {
		unsigned l = h->max_level;
		uint64_t sz = pt_level_size(l);

		while (l > 1 && (((va + off) | (pa + off)) & (sz - 1) ||
				 len - off < sz))
			sz = pt_level_size(--l);
		GROW(out);
		out->v[out->n++] = (struct leaf){va + off, pa + off, sz, prop,
						 false};
		off += sz;
	}
}

static void plan_map_frames(uint64_t va, const uint64_t *frames, size_t n,
			    struct pt_prop prop, struct leafvec *out)
{
	out->n = 0;
	for (size_t i = 0; i < n; i++) {
		GROW(out);
		out->v[out->n++] = (struct leaf){va + i * PAGE, frames[i], PAGE,
						 prop, true};
	}
}

/* Applies a successful map: the leaves, the nodes they need, and the empty
 * nodes a huge leaf replaces. */
static void model_insert(struct half *h, const struct leafvec *nl,
			 struct effects *e)
{
	splice(&h->leaves, lower_leaf(&h->leaves, nl->v[0].va),
	       lower_leaf(&h->leaves, nl->v[0].va), nl);
	for (size_t k = 0; k < nl->n; k++) {
		const struct leaf *l = &nl->v[k];
		unsigned lvl = level_of(l->size);

		if (lvl > 1) {
			size_t gone = nodes_remove_inside(h, l->va, leaf_last(l));

			/* A node in the slot the leaf takes: a table
			 * becomes a block. */
			e->nodes_removed += gone;
			if (gone && pt_rules_resize_needs_break(tf->fam,
								h->features))
				req_add(e, REQ_BLOCK, l->va, leaf_last(l));
		}
		/* Caches of invalid entries: new mappings are changes too. */
		if (pt_rules_flush_new_mappings(tf->fam, h->features)) {
			piece_add(e, l->va, leaf_last(l), -1);
			st_new_pieces++;
		}
		for (unsigned m = lvl; m < levels; m++)
			node_add(h, m, l->va & ~(node_span(m) - 1));
		if (l->tracked)
			pool_maps[pool_slot(l->pa)]++;
	}
}

struct cut {
	bool unmap;
	uint32_t set, clear;
};

/* One leaf against an unmap/protect of [va, last]: inside parts go or
 * change, outside parts stay, and a huge leaf partly inside is split one level
 * at a time, only as deep as the boundary needs (DESIGN §3, §5). */
static void cut_leaf(struct half *h, const struct leaf *lf, uint64_t va,
		     uint64_t last, const struct cut *c, struct effects *e)
{
	if (leaf_last(lf) < va || lf->va > last) {
		GROW(&scratch);
		scratch.v[scratch.n++] = *lf;
		return;
	}
	if (lf->va >= va && leaf_last(lf) <= last) {
		struct leaf n = *lf;

		if (c->unmap) {
			int slot = lf->tracked ? pool_slot(lf->pa) : -1;

			piece_add(e, lf->va, leaf_last(lf), slot);
			if (slot >= 0)
				pool_maps[slot]--;
			return;
		}
		n.prop = protect_prop(lf->prop, c->set, c->clear, h->features);
		if (n.prop.flags != lf->prop.flags)
			piece_add(e, n.va, leaf_last(&n), -1);
		if (pt_rules_update_needs_break(tf->fam, lf->prop, n.prop))
			req_add(e, REQ_UPDATE, n.va, leaf_last(&n));
		GROW(&scratch);
		scratch.v[scratch.n++] = n;
		return;
	}
	/* Partly inside: only huge leaves can be (ranges are page aligned). */
	e->splits++;
	if (pt_rules_resize_needs_break(tf->fam, h->features) &&
	    pt_rules_valid(tf->fam, lf->prop))
		req_add(e, REQ_SPLIT, lf->va, leaf_last(lf));
	node_add(h, level_of(lf->size) - 1, lf->va);
	for (unsigned k = 0; k < 512; k++) {
		struct leaf s = *lf;

		s.size = lf->size / 512;
		s.va += k * s.size;
		s.pa += k * s.size;
		cut_leaf(h, &s, va, last, c, e);
	}
}

static void model_cut(struct half *h, uint64_t va, uint64_t last,
		      const struct cut *c, struct effects *e)
{
	size_t i = lower_leaf(&h->leaves, va), j = i;

	scratch.n = 0;
	while (j < h->leaves.n && h->leaves.v[j].va <= last)
		cut_leaf(h, &h->leaves.v[j++], va, last, c, e);
	splice(&h->leaves, i, j, &scratch);
	if (c->unmap)
		e->nodes_removed += nodes_remove_inside(h, va, last);
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

/* EALIGN, ERANGE, EPERM for a valid-looking range, in DESIGN §5's order. */
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

/* ------------------------------------------------ invalidation hook */

/* What the hook saw during one operation on `mt`. */
static struct {
	struct mtable *mt;
	struct half *h;               /* the half the op changes */
	bool unmap;
	bool batch;                   /* the op's batch is the test's */
	bool in_finish;               /* inside the test's pt_flush_finish */
	struct effects *e;            /* what the op changes */
	bool all, nodes_removed;
	unsigned calls;
	unsigned breaks;              /* single-range calls, range cleared */
	unsigned present_single;      /* single-range calls, range present */
	bool last_break, last_present_single; /* what the latest call was */
	uint64_t break_va, break_last; /* the latest break's range */
	struct u64vec tentative;      /* pieces the latest break call covers */
	uint64_t pre_refs[NPOOL];     /* counts before the op */
	char bad[400];
} inv;

/* Whether [va, last] lies inside the union of the info's ranges. */
static bool info_covers(const struct pt_flush_info *info, uint64_t va,
			uint64_t last)
{
	uint64_t cur = va;

	if (info->all)
		return true;
	for (;;) {
		const struct pt_flush_range *r = NULL;

		for (size_t k = 0; k < info->nr_ranges; k++)
			if (info->ranges[k].len && info->ranges[k].va <= cur &&
			    cur - info->ranges[k].va < info->ranges[k].len)
				r = &info->ranges[k];
		if (!r)
			return false;
		if (last - r->va < r->len)
			return true;
		cur = r->va + r->len;
	}
}

static unsigned va_index(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (PT_PAGE_SHIFT + 9 * (level - 1))) & 511;
}

/* The leaf at va as the MMU would find it now: raw PTEs, no locks, so the
 * hook can look while the operation is still inside the table. */
static bool raw_leaf(uint64_t root, uint64_t va, uint32_t features,
		     struct pt_prop *prop)
{
	uint64_t node = root;

	for (unsigned l = levels; l >= 1; l--) {
		const uint64_t *ptes = pt_phys_to_virt(phys, node);
		uint64_t pte = ptes[va_index(va, l)];
		int kind = fmt->decode(pte, l, features, &node, prop, NULL);

		if (kind != PT_DECODE_TABLE)
			return kind == PT_DECODE_LEAF;
	}
	return false;
}

/*
 * Whether [va, last] is broken in memory right now: no leaf in it, and no
 * table entry whose whole range lies in it (break-before-make clears the
 * entry itself; a table entry only containing the range is walked down).
 */
static bool raw_range_absent(uint64_t root, uint64_t va, uint64_t last,
			     uint32_t features)
{
	uint64_t cur = va;

	for (;;) {
		uint64_t node = root, next = 0;
		bool hole = false;

		for (unsigned l = levels; l >= 1 && !hole; l--) {
			const uint64_t *ptes = pt_phys_to_virt(phys, node);
			uint64_t size = pt_level_size(l);
			uint64_t base = cur & ~(size - 1);
			int kind = fmt->decode(ptes[va_index(cur, l)], l, features,
					       &node, NULL, NULL);

			if (kind == PT_DECODE_ABSENT) {
				next = base + size; /* 0: the end of 2^64 */
				hole = true;
			} else if (kind == PT_DECODE_LEAF ||
				   (base >= va && base + (size - 1) <= last)) {
				return false;
			}
		}
		if (!hole)
			return false; /* a table at level 1: not a break */
		if (next == 0 || next - 1 >= last)
			return true;
		cur = next;
	}
}

/* Whether the piece's change is in memory: gone for unmap, the model's new
 * flags for protect and for new mappings (checked at both ends of a merged
 * piece). */
static bool change_visible(const struct piece *p)
{
	const uint64_t at[2] = {p->va, p->last};

	for (int k = 0; k < 2; k++) {
		struct pt_prop got = {0, 0};
		bool present = raw_leaf(inv.mt->root, at[k], inv.mt->features,
					&got);
		size_t i;

		if (inv.unmap) {
			if (present)
				return false;
			continue;
		}
		i = lower_leaf(&inv.h->leaves, at[k]);
		if (!present || got.flags != inv.h->leaves.v[i].prop.flags)
			return false;
	}
	return true;
}

/*
 * DESIGN §5: references of unmapped tracked frames drop only after the
 * invalidation for them.  So when the hook runs, a frame may have lost at
 * most the references of its leaves already invalidated (after removal).
 */
static void check_release_order(void)
{
	uint64_t allowed_drop[NPOOL] = {0};

	for (size_t k = 0; k < inv.e->pieces.n; k++) {
		const struct piece *p = &inv.e->pieces.v[k];

		if (p->pool >= 0 && p->done)
			allowed_drop[p->pool]++;
	}
	for (int i = 0; i < NPOOL && !inv.bad[0]; i++) {
		uint64_t rc = pt_frame_refcount(phys, pool[i]);

		if (rc + allowed_drop[i] < inv.pre_refs[i])
			snprintf(inv.bad, sizeof(inv.bad),
				 "frame %#" PRIx64 " has refcount %" PRIu64
				 " at invalidation #%u, was %" PRIu64
				 ": released before its TLB invalidation",
				 pool[i], rc, inv.calls + 1, inv.pre_refs[i]);
	}
}

/* Pieces this call invalidates with their change written: marked done, or
 * listed in `defer` when the call may be a break rather than a flush. */
static void mark_pieces(const struct pt_flush_info *info, struct u64vec *defer)
{
	for (size_t k = 0; k < inv.e->pieces.n; k++) {
		struct piece *p = &inv.e->pieces.v[k];

		if (p->done || !info_covers(info, p->va, p->last) ||
		    !change_visible(p))
			continue;
		if (!defer) {
			p->done = true;
			continue;
		}
		GROW(defer);
		defer->v[defer->n++] = k;
	}
}

static int req_cmp(const void *a, const void *b)
{
	const struct req *x = a, *y = b;

	if (x->va != y->va)
		return x->va < y->va ? -1 : 1;
	return x->last < y->last ? -1 : x->last > y->last;
}

/* A break of [va, last]: it meets the split or update of exactly that
 * entry, and a table-to-block change inside it if walk caches go too. */
static void meet_breaks(uint64_t va, uint64_t last, bool nodes_removed)
{
	struct reqvec *rv = &inv.e->breaks;
	size_t lo = 0, hi = rv->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rv->v[mid].va < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < rv->n && rv->v[i].va <= last; i++) {
		struct req *r = &rv->v[i];

		if (r->kind == REQ_BLOCK ? nodes_removed && r->last <= last
					 : r->va == va && r->last == last)
			r->met = true;
	}
}

/*
 * The hook.  A flush (at the end of an operation, or a full batch finished
 * early, which is always "all" or PT_FLUSH_MAX_RANGES ranges) marks the
 * pieces whose change it covers.  A single range invalidated in the middle
 * of an operation is break-before-make: its entry must already be cleared.
 * Which call was the operation's own last flush is known only at the end,
 * so a single-range call with its range cleared (a break, or the final
 * flush of a removal) defers its marks to inv_end: they count if it was the
 * last call and its range is still cleared then (a break is followed by a
 * make).
 */
static void on_invalidate(void *arg, const struct pt_flush_info *info)
{
	(void)arg;
	if (!inv.mt || info->root_pa != inv.mt->root)
		return; /* not the table under test right now */
	inv.mt->hooked = true;
	check_release_order();
	inv.last_break = inv.last_present_single = false;
	if (!inv.in_finish && !info->all && info->nr_ranges == 1 &&
	    info->ranges[0].len) {
		uint64_t va = info->ranges[0].va;
		uint64_t last = va + (info->ranges[0].len - 1);

		if (raw_range_absent(inv.mt->root, va, last, inv.mt->features)) {
			inv.breaks++;
			inv.last_break = true;
			inv.break_va = va;
			inv.break_last = last;
			meet_breaks(va, last, info->nodes_removed);
			inv.tentative.n = 0;
			mark_pieces(info, &inv.tentative);
			goto out;
		}
		inv.present_single++;
		inv.last_present_single = true;
	}
	mark_pieces(info, NULL);
out:
	inv.all |= info->all;
	inv.nodes_removed |= info->nodes_removed || info->all;
	inv.calls++;
}

static void inv_begin(struct mtable *mt, struct half *h, bool unmap,
		      bool batch, struct effects *e, const uint64_t *pre_maps)
{
	inv.mt = mt;
	inv.h = h;
	inv.unmap = unmap;
	inv.batch = batch;
	inv.in_finish = false;
	inv.e = e;
	inv.all = inv.nodes_removed = false;
	inv.calls = inv.breaks = inv.present_single = 0;
	inv.last_break = inv.last_present_single = false;
	inv.tentative.n = 0;
	inv.bad[0] = '\0';
	for (int i = 0; i < NPOOL; i++)
		inv.pre_refs[i] = 1 + pre_maps[i];
	if (e->breaks.n)
		qsort(e->breaks.v, e->breaks.n, sizeof(*e->breaks.v), req_cmp);
}

static const char *const req_name[NR_REQ] = {
	"split of a valid block", "table becoming a block",
	"nG change of a valid leaf",
};

/* After the op: everything removed or changed was invalidated after the
 * change was written, removed nodes were flushed as nodes (walk caches),
 * and break-before-make happened where the format needs it, only there. */
static void inv_end(const struct effects *e)
{
	struct mtable *mt = inv.mt;
	/* Without a caller's batch, the op's last call may be its own flush;
	 * if it looked like a break, it was the flush of a removal only if
	 * nothing was made there after it. */
	bool last_is_final = !inv.batch && inv.calls > 0;
	bool final_break = last_is_final && inv.last_break &&
			   raw_range_absent(mt->root, inv.break_va,
					    inv.break_last, mt->features);
	unsigned mid_breaks = inv.breaks - final_break;
	unsigned mid_present = inv.present_single -
			       (last_is_final && inv.last_present_single);

	inv.mt = NULL;
	if (inv.bad[0])
		mfail("%s: %s", mt->name, inv.bad);
	if (!mt->hooked)
		return; /* UK until its invalidations are seen to reach us */
	if (mid_present)
		mfail("%s: %u invalidation(s) of a single range in the middle of"
		      " the operation with the entry still present (a break"
		      " must clear it first)", mt->name, mid_present);
	if (mid_breaks && !pt_rules_may_break(tf->fam))
		mfail("%s: %u break(s) (an entry cleared and invalidated in the"
		      " middle of the operation) in a format that changes"
		      " entries in place", mt->name, mid_breaks);
	st_breaks_mid += mid_breaks;
	if (final_break)
		for (size_t k = 0; k < inv.tentative.n; k++)
			e->pieces.v[inv.tentative.v[k]].done = true;
	for (size_t k = 0; k < e->breaks.n; k++) {
		const struct req *r = &e->breaks.v[k];

		st_breaks_req[r->kind]++;
		if (!r->met)
			mfail("%s: [%#" PRIx64 ", %#" PRIx64 "]: %s needs"
			      " break-before-make, but no invalidation %s came"
			      " with the entry cleared (%u calls, %u breaks)",
			      mt->name, r->va, r->last, req_name[r->kind],
			      r->kind == REQ_BLOCK ? "with nodes_removed covering it"
						   : "of exactly that entry",
			      inv.calls, inv.breaks);
	}
	for (size_t k = 0; k < e->pieces.n; k++)
		if (!e->pieces.v[k].done)
			mfail("%s: [%#" PRIx64 ", %#" PRIx64 "] changed but not"
			      " invalidated after the change (%u invalidation"
			      " calls)", mt->name, e->pieces.v[k].va,
			      e->pieces.v[k].last, inv.calls);
	if (e->nodes_removed && !inv.nodes_removed)
		mfail("%s: %zu page-table nodes removed but no invalidation had"
		      " nodes_removed or all (%u calls)", mt->name,
		      e->nodes_removed, inv.calls);
}

/* ------------------------------------------------------- verification */

struct vcmp {
	const struct leaf *v;
	size_t n, i;
	char why[400];
};

#define VCMP_STOP 0x5eed

static void leaf_to_mapping(const struct leaf *l, struct pt_mapping *m)
{
	*m = (struct pt_mapping){l->va, l->pa, l->size, l->prop, l->tracked};
}

static int vcmp_fn(const struct pt_mapping *m, void *arg)
{
	struct vcmp *c = arg;
	struct pt_mapping w;
	char a[160], b[160];

	if (c->i >= c->n) {
		snprintf(c->why, sizeof(c->why), "extra leaf #%zu %s", c->i,
			 pt_test_fmt_mapping(m, a, sizeof(a)));
		return VCMP_STOP;
	}
	leaf_to_mapping(&c->v[c->i], &w);
	if (w.va != m->va || w.pa != m->pa || w.size != m->size ||
	    w.prop.flags != m->prop.flags || w.prop.cache != m->prop.cache ||
	    w.tracked != m->tracked) {
		snprintf(c->why, sizeof(c->why), "leaf #%zu: want %s, got %s",
			 c->i, pt_test_fmt_mapping(&w, a, sizeof(a)),
			 pt_test_fmt_mapping(m, b, sizeof(b)));
		return VCMP_STOP;
	}
	c->i++;
	return 0;
}

/* pt_for_each_mapping over [va, va + len) must give exactly v[0, n). */
static void compare_walk(const struct mtable *mt, uint64_t va, uint64_t len,
			 int want_err, const struct leaf *v, size_t n,
			 const char *what)
{
	struct vcmp c = {v, n, 0, ""};
	int err = pt_for_each_mapping(mt->t, va, len, vcmp_fn, &c);
	char a[160];

	if (err == VCMP_STOP)
		mfail("%s %s: %s", mt->name, what, c.why);
	if (err != want_err)
		mfail("%s %s: for_each_mapping returned %d (%s), want %d",
		      mt->name, what, err, pt_strerror(err), want_err);
	if (c.i < n) {
		struct pt_mapping w;

		leaf_to_mapping(&v[c.i], &w);
		mfail("%s %s: %zu leaves, want %zu; first missing %s", mt->name,
		      what, c.i, n, pt_test_fmt_mapping(&w, a, sizeof(a)));
	}
}

static void predict_stats(const struct mtable *mt, struct pt_table_stats *s)
{
	const struct half *hs[2] = {mt->user, mt->kernel};

	memset(s, 0, sizeof(*s));
	s->nodes[levels] = 1;
	for (int k = 0; k < 2; k++) {
		if (!hs[k])
			continue;
		for (unsigned m = 1; m < levels; m++)
			s->nodes[m] += hs[k]->nodes[m].n;
		for (size_t i = 0; i < hs[k]->leaves.n; i++) {
			const struct leaf *l = &hs[k]->leaves.v[i];

			s->mappings[level_of(l->size)]++;
			s->tracked += l->tracked;
			s->mapped_bytes += l->size;
		}
	}
}

static void verify_table(const struct mtable *mt)
{
	struct pt_table_stats want, got;
	char why[512];
	int err;

	if (mt->user)
		compare_walk(mt, 0, fmt->user_end, 0, mt->user->leaves.v,
			     mt->user->leaves.n, "user-half view");
	else
		compare_walk(mt, 0, fmt->user_end, PT_ERANGE, NULL, 0,
			     "user-half view (not spanned)");
	if (mt->kernel)
		compare_walk(mt, fmt->kernel_start, 0 - fmt->kernel_start, 0,
			     mt->kernel->leaves.v, mt->kernel->leaves.n,
			     "kernel-half view");
	else
		compare_walk(mt, fmt->kernel_start, 0 - fmt->kernel_start,
			     PT_ERANGE, NULL, 0, "kernel-half view (not spanned)");
	why[0] = '\0';
	err = pt_check(mt->t, why, sizeof(why));
	if (err)
		mfail("%s: pt_check %d: %s", mt->name, err, why);
	err = pt_table_stats(mt->t, &got);
	if (err)
		mfail("%s: pt_table_stats returned %d", mt->name, err);
	predict_stats(mt, &want);
	if (pt_stats_diff(&want, &got, why, sizeof(why)))
		mfail("%s: %s", mt->name, why);
}

/* Reference counts are exact across all tables plus the test (DESIGN §4.5).
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

enum op_kind { OP_MAP, OP_MAPF, OP_UNMAP, OP_PROTECT, OP_QUERY, OP_WALK };

struct op {
	enum op_kind kind;
	struct mtable *mt;
	uint64_t va, len, pa;
	struct pt_prop prop;
	uint32_t set, clear;
	size_t nf;
	uint64_t frames[MAX_MAPF];
	bool batch;
	bool whole_window;
};

static struct {
	unsigned long ops[6], ok[6], err[10];
	unsigned long leaves_made[PT_MAX_LEVELS + 1];
	unsigned long mixed_maps, splits, nodes_removed, top_ops, big_unmaps;
	unsigned long full_batches; /* unmaps of > PT_FLUSH_MAX_FRAMES frames */
	unsigned long enomem, probe_ok;
} st;

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

static void gen_op(struct op *op)
{
	const struct window *w;
	unsigned r = (unsigned)rnd_below(100);

	memset(op, 0, sizeof(*op));
	op->mt = pick_table();
	w = pick_window(op->mt);
	op->kind = r < 30 ? OP_MAP : r < 42 ? OP_MAPF : r < 66 ? OP_UNMAP :
		   r < 84 ? OP_PROTECT : r < 94 ? OP_QUERY : OP_WALK;
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
	if (op->kind <= OP_PROTECT && !op->whole_window && chance(4))
		corrupt(op);
}

static const char *kind_name(enum op_kind k)
{
	static const char *const n[] = {"map", "map_frames", "unmap",
					"protect", "query", "walk"};
	return n[k];
}

static void describe(const struct op *op, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s %s va=%#" PRIx64 " len=%#" PRIx64,
			 kind_name(op->kind), op->mt->name, op->va, op->len);

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
}

/* The expected result, and the half it acts on when that is 0. */
static int expect(const struct op *op, struct half **hp,
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
	case OP_QUERY:
		*hp = half_of(op->mt, op->va & ~(uint64_t)(PAGE - 1), PAGE);
		return *hp ? 0 : PT_ERANGE;
	}
	return overlaps(*hp, op->va, op->va + (op->len - 1)) ? PT_EEXIST : 0;
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
	if (op->kind == OP_UNMAP)
		err = pt_unmap(op->mt->t, op->va, op->len,
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
	compare_walk(op->mt, op->va, op->len, want,
		     want ? NULL : h->leaves.v + i, j - i, "ranged walk");
}

static void model_apply(const struct op *op, struct half *h,
			struct pt_prop norm, struct effects *e)
{
	static struct leafvec nl;
	struct cut c = {op->kind == OP_UNMAP, op->set, op->clear};

	if (op->kind == OP_MAP || op->kind == OP_MAPF) {
		if (op->kind == OP_MAP)
			plan_map(h, op->va, op->pa, op->len, norm, SIZE_MAX,
				 &nl);
		else
			plan_map_frames(op->va, op->frames, op->nf, norm, &nl);
		model_insert(h, &nl, e);
		for (size_t k = 0; k < nl.n; k++)
			st.leaves_made[level_of(nl.v[k].size)]++;
		st.mixed_maps += nl.n > 1 && nl.v[0].size != nl.v[nl.n - 1].size;
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
 * (DESIGN §5, all or nothing); the caller then runs the operation for real.
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
		return err;
	}
	if (err)
		mfail("with allocation #%" PRIu64 " set to fail: returned %d (%s),"
		      " want 0 or PT_ENOMEM", nth, err, pt_strerror(err));
	st.probe_ok++;
	return 0;
}

static void step(void)
{
	static struct effects e;
	uint64_t pre_maps[NPOOL];
	struct half *h = NULL;
	struct pt_prop norm = {0, 0};
	struct op op;
	int want, err;

	gen_op(&op);
	tame_map(&op);
	describe(&op, cur_op, sizeof(cur_op));
	want = expect(&op, &h, &norm);
	st.ops[op.kind]++;
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

		e.nodes_removed = e.splits = e.pieces.n = e.breaks.n = 0;
		memcpy(pre_maps, pool_maps, sizeof(pre_maps));
		if (want == 0)
			model_apply(&op, h, norm, &e);
		if (!done) { /* a probe that succeeded had no hook watching */
			inv_begin(op.mt, h, op.kind == OP_UNMAP,
				  op.batch && op.kind >= OP_UNMAP, &e, pre_maps);
			err = run_change(&op);
			if (err != want)
				mfail("returned %d (%s), want %d (%s)", err,
				      pt_strerror(err), want, pt_strerror(want));
			inv_end(&e);
		}
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

static void half_init(struct half *h, const char *name, bool kernel,
		      unsigned max_level, uint32_t features)
{
	memset(h, 0, sizeof(*h));
	h->name = name;
	h->start = kernel ? fmt->kernel_start : 0;
	h->last = kernel ? UINT64_MAX : fmt->user_end - 1;
	h->max_level = max_level;
	h->features = features;
	if (kernel && fmt->shared_kernel_root) {
		/* DESIGN §5: a kernel table whose root user tables share
		 * allocates every node under the root in its half up front
		 * and never frees them; its pages are capped one level below
		 * the root.  With one root per half (AArch64) it is a table
		 * like any other. */
		uint64_t slot = pt_level_size(levels);

		h->pinned_level = levels - 1;
		if (h->max_level > levels - 1)
			h->max_level = levels - 1;
		for (uint64_t b = h->start; b != 0 && b >= h->start; b += slot)
			node_add(h, levels - 1, b);
	}
}

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
			      false, true, weight, features};
}

/* The model stores the format's normalize(); it must be what DESIGN §1
 * says, or every later difference would be noise. */
static void check_normalize_one(uint32_t f, uint32_t cache, uint32_t features)
{
	struct pt_prop p = {f, cache}, a = {0, 0}, b = {0, 0};
	int ea = pt_rules_normalize(tf->fam, p, features, &a);
	int eb = model_normalize(p, features, &b);

	if (ea != eb || (!ea && (a.flags != b.flags || a.cache != b.cache)))
		pt_test_fail("%s normalize(flags %#x cache %u, features %#x): the"
			     " format says %d %#x/%u, DESIGN §1 says %d %#x/%u",
			     tf->id, f, cache, features, eb, b.flags, b.cache,
			     ea, a.flags, a.cache);
}

/* Every flag combination below bit 12, an unknown bit, and every cache
 * policy plus one past them, with each feature set a table has. */
static void check_normalize_agrees(const uint32_t *features, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (uint32_t cache = 0; cache <= PT_CACHE_COUNT; cache++) {
			for (uint32_t f = 0; f < 0x1000; f++)
				check_normalize_one(f, cache, features[i]);
			check_normalize_one(PT_R | (1u << 20), cache, features[i]);
		}
}

/*
 * Features of U, U2 and K (UK inherits K's): each feature on some tables
 * and off on others, so both behaviours meet the same operations.  x86:
 * U2 has the Linux PAT (WC allowed, WT at PAT index 7: the PAT bit moves
 * from bit 12 to bit 7 when a huge leaf splits).  RISC-V: U has neither
 * extension (all WB; new mappings flushed), U2 both, K Svpbmt only.
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
		*fu2 = PT_FEAT_RISCV_SVPBMT | PT_FEAT_RISCV_SVVPTC;
		*fk = PT_FEAT_RISCV_SVPBMT;
		break;
	case PT_FAM_AARCH64:
		*fu2 = PT_FEAT_AARCH64_BBM2;
		break;
	}
}

/*
 * Windows of a few GiB: the start and the top of each half, and across the
 * boundary of two root entries.  A root entry spans 512 GiB with four
 * levels, 256 TiB with five, 1 GiB with Sv39's three: then the boundary is
 * in the middle of the half (the first ones are inside window 0 already).
 */
static void setup_windows(void)
{
	uint64_t root_span = pt_level_size(levels);
	uint64_t b = root_span >= 4 * PT_GiB ? root_span
					     : (fmt->user_end / 2) & ~(root_span - 1);

	user_win[0] = (struct window){0, 4 * PT_GiB - 1};
	user_win[1] = (struct window){fmt->user_end - 2 * PT_GiB,
				      fmt->user_end - 1};
	kern_win[0] = (struct window){fmt->kernel_start,
				      fmt->kernel_start + 2 * PT_GiB - 1};
	kern_win[1] = (struct window){0 - 4 * PT_GiB, UINT64_MAX};
	/* Two nodes under the root; in a shared kernel half, two of K's
	 * pinned ones. */
	user_win[2] = (struct window){b - 2 * PT_GiB, b + 2 * PT_GiB - 1};
	kern_win[2] = (struct window){fmt->kernel_start + b - 2 * PT_GiB,
				      fmt->kernel_start + b + 2 * PT_GiB - 1};
	for (int i = 0; i < NWIN; i++)
		if (user_win[i].last >= fmt->user_end ||
		    kern_win[i].start < fmt->kernel_start)
			pt_test_fail("%s: window %d is outside its half", tf->id, i);
}

static void setup(void)
{
	uint32_t fu, fu2, fk;
	uint64_t free0;

	fmt = tf->fmt;
	levels = fmt->levels;
	allowed_flags = PT_R | PT_W | PT_X | PT_U | PT_G | PT_A | PT_D;
	for (unsigned i = 0; i < fmt->nr_sw_bits && i < 4; i++)
		allowed_flags |= PT_SW0 << i;
	table_features(&fu, &fu2, &fk);
	check_normalize_agrees((const uint32_t[]){fu, fu2, fk}, 3);
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
	setup_windows();

	half_init(&h_u, "U.user", false, fmt->max_leaf_level, fu);
	half_init(&h_u2, "U2.user", false, 2, fu2);
	/* UK gets K's features (pt_table_create_user copies them). */
	half_init(&h_uk, "UK.user", false, fmt->max_leaf_level, fk);
	half_init(&h_k, "K.kernel", true, fmt->max_leaf_level, fk);
	make_table(&t_u, "U", PT_SPACE_USER, 0, &h_u, NULL, 30, fu);
	make_table(&t_u2, "U2", PT_SPACE_USER, 2, &h_u2, NULL, 15, fu2);
	make_table(&t_k, "K", PT_SPACE_KERNEL, 0, NULL, &h_k, 25, fk);
	assert_int_equal(pt_table_create_user(t_k.t, &t_uk.t), 0);
	/* UK inherits K's hook; it counts as hooked once a call reaches us.
	 * With one root per half it is just an empty user table: K's half
	 * is PT_ERANGE through it. */
	if (fmt->shared_kernel_root)
		t_uk = (struct mtable){"UK", t_uk.t, pt_table_root(t_uk.t),
				       &h_uk, &h_k, true, false, 30, fk};
	else
		t_uk = (struct mtable){"UK", t_uk.t, pt_table_root(t_uk.t),
				       &h_uk, NULL, false, false, 30, fk};
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
	assert_true(st.enomem > 0 && st.probe_ok > 0);
	for (int e = -PT_EINVAL; e <= -PT_EEXIST; e++)
		if (e != -PT_EPERM || fmt->shared_kernel_root) /* UK's kernel half */
			assert_true(st.err[e] > 0);
	/* Both sides of the format's features were exercised. */
	if (pt_rules_resize_needs_break(tf->fam, t_u.features))
		assert_true(st_breaks_req[REQ_SPLIT] > 0 && st_breaks_req[REQ_BLOCK] > 0);
	if (tf->fam == PT_FAM_AARCH64)
		assert_true(st_breaks_req[REQ_UPDATE] > 0 && st_breaks_mid > 0);
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
		      " query %lu, walk %lu\n", tf->id, seed, nops,
		      (double)(t1.tv_sec - t0.tv_sec) +
			      (t1.tv_nsec - t0.tv_nsec) / 1e9,
		      st.ok[OP_MAP], st.ops[OP_MAP], st.ok[OP_MAPF], st.ops[OP_MAPF],
		      st.ok[OP_UNMAP], st.ops[OP_UNMAP], st.ok[OP_PROTECT],
		      st.ops[OP_PROTECT], st.ops[OP_QUERY], st.ops[OP_WALK]);
	print_message("leaves made 4K %lu 2M %lu 1G %lu; mixed-size maps %lu;"
		      " splits %lu; nodes removed %lu; ranges ending at 2^64 %lu;"
		      " errors EINVAL %lu EALIGN %lu ERANGE %lu EPERM %lu EEXIST"
		      " %lu; unmaps overflowing a flush batch %lu; ENOMEM rolled"
		      " back %lu; UK invalidations %s\n", st.leaves_made[1],
		      st.leaves_made[2], st.leaves_made[3], st.mixed_maps,
		      st.splits, st.nodes_removed, st.top_ops, st.err[1],
		      st.err[2], st.err[3], st.err[4], st.err[5],
		      st.full_batches, st.enomem, t_uk.hooked ? "checked" : "never seen (unchecked)");
	print_message("breaks checked: split %lu, table to block %lu, nG change"
		      " %lu; breaks in the middle of an operation %lu; new"
		      " mappings checked for invalidation %lu\n",
		      st_breaks_req[REQ_SPLIT], st_breaks_req[REQ_BLOCK],
		      st_breaks_req[REQ_UPDATE], st_breaks_mid, st_new_pieces);
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
