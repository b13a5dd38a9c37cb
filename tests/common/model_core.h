/* SPDX-License-Identifier: MPL-2.0 */
/*
 * model_core.h - the model of a table's view that the model-based random
 * test (tests/model/model_random.c) and the fuzzer (tests/fuzz/fuzz_ops.c)
 * share, written from design §4/§5 and tests/common/format_rules.h, never
 * from the library's code.
 *
 *  - The view: per half of a table, a sorted array of leaves (va, pa, size,
 *    prop, tracked) and, per level, the set of page-table nodes that
 *    design §5's rules say exist (map creates the nodes its leaves need and
 *    frees empty nodes in the way of a huge leaf; a split adds one node per
 *    level it goes down; unmap detaches every node whose whole range it
 *    covers, except a shared kernel half's nodes under the root; a move
 *    is an unmap of its source whose leaves come back at the destination,
 *    in pieces where the distance requires, and whose nodes wholly inside
 *    come back too where their span divides the distance).
 *  - What an operation must invalidate (`struct effects`): every removed or
 *    changed range, new mappings where the format caches invalid entries
 *    (RISC-V without Svvptc), and the changes that need break-before-make
 *    (AArch64 without FEAT_BBM2).
 *  - The invalidation checker (on_invalidate, inv_begin, inv_end): the hook
 *    reads the raw PTEs, so it sees whether a change was written before it
 *    was invalidated, whether a single range invalidated in the middle of an
 *    operation was broken (cleared) first, and whether a tracked frame was
 *    released only after its invalidation.
 *  - Per format: the address windows tests draw from, the pinned kernel
 *    nodes of a shared kernel half, and the check that fmt->normalize is
 *    what format_rules.h says.
 *  - Checks of a table against the model: compare_walk, predict_stats.
 *
 * Header only (static functions and state), one includer per program.  The
 * includer defines, before including it, NPOOL (how many tracked frames it
 * holds), and after it `static int pool_slot(uint64_t pa)` (that frame's
 * index in pool[], or -1) and `model_fail()` (prints and does not return);
 * it calls model_format(), sets phys and fills pool[] before using the model.
 */
#ifndef PTKIT_TEST_MODEL_CORE_H
#define PTKIT_TEST_MODEL_CORE_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ptkit/ptkit.h>

#include "format_rules.h"
#include "testutil.h"

#ifndef NPOOL
#error "define NPOOL (the tracked frames the test holds) before model_core.h"
#endif

#define PAGE ((uint64_t)PT_PAGE_SIZE) /* 64-bit: 0 - n * PAGE must not wrap at 2^32 */
#define NWIN 3 /* address windows per half */

/* The includer's: a failure message, then it does not return. */
static void __attribute__((format(printf, 3, 4), noreturn))
model_fail(const char *file, int line, const char *f, ...);
#define mfail(...) model_fail(__FILE__, __LINE__, __VA_ARGS__)
/* The includer's: pool[] index of a tracked frame, or -1. */
static int pool_slot(uint64_t pa);

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

/* A marked page (pt_mark): its page and value, and the level of the entry
 * holding it (a huge marker is one entry for many pages; the model keeps
 * one mark per page, and the level only for the nodes splits make). */
struct mark {
	uint64_t va, value;
	unsigned level;
};

struct markvec {
	struct mark *v;
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
	struct markvec marks;       /* sorted by va, none inside a leaf */
	struct u64vec nodes[PT_MAX_LEVELS + 1]; /* bases per level, root excluded */
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
static uint64_t pool[NPOOL];        /* the test's tracked frames (1 ref each) */
static uint64_t pool_maps[NPOOL];   /* mappings of each pool frame */
static uint32_t allowed_flags;      /* flags the format offers */
static struct leafvec scratch;
/* Format-specific counts: breaks seen and required, new mappings checked. */
static unsigned long st_breaks_mid, st_breaks_req[NR_REQ], st_new_pieces;

/* The format under test: sets tf, fmt, levels and allowed_flags. */
static inline void model_format(const struct pt_test_format *t)
{
	tf = t;
	fmt = t->fmt;
	levels = fmt->levels;
	allowed_flags = PT_R | PT_W | PT_X | PT_U | PT_G | PT_A | PT_D;
	for (unsigned i = 0; i < fmt->nr_sw_bits && i < 4; i++)
		allowed_flags |= PT_SW0 << i;
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

static inline uint64_t leaf_last(const struct leaf *l)
{
	return l->va + (l->size - 1);
}

static inline unsigned level_of(uint64_t size)
{
	unsigned l = 1;

	while (pt_level_size(l) != size)
		l++;
	return l;
}

/* Entries of a node at `level`: 512, or the format's root_entries at the
 * root (a stage-2 root of concatenated pages). */
static inline unsigned raw_entries(unsigned level)
{
	return level == levels ? fmt->root_entries : 512;
}

/* Bytes covered by a node at `level` (its 512 entries). */
static inline uint64_t node_span(unsigned level)
{
	return level >= levels ? 0 : pt_level_size(level + 1);
}

/* First leaf whose last byte is at or after va (leaves are disjoint, so their
 * last bytes are sorted too). */
static inline size_t lower_leaf(const struct leafvec *lv, uint64_t va)
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

static inline bool overlaps(const struct half *h, uint64_t va, uint64_t last)
{
	size_t i = lower_leaf(&h->leaves, va);

	return i < h->leaves.n && h->leaves.v[i].va <= last;
}

/* Replaces lv[i, j) with src[0, n). */
static inline void splice_n(struct leafvec *lv, size_t i, size_t j,
			    const struct leaf *src, size_t n_src)
{
	size_t n = lv->n - (j - i) + n_src;

	if (i == j && n_src == 0)
		return; /* also: memmove/memcpy must not see a NULL array */
	if (n > lv->cap) {
		lv->cap = n + n / 2 + 64;
		lv->v = realloc(lv->v, lv->cap * sizeof(*lv->v));
		if (!lv->v)
			abort();
	}
	memmove(lv->v + i + n_src, lv->v + j, (lv->n - j) * sizeof(*lv->v));
	if (n_src)
		memcpy(lv->v + i, src, n_src * sizeof(*lv->v));
	lv->n = n;
}

/* Replaces lv[i, j) with src. */
static inline void splice(struct leafvec *lv, size_t i, size_t j,
			  const struct leafvec *src)
{
	splice_n(lv, i, j, src->v, src->n);
}

static inline size_t u64_lower(const struct u64vec *s, uint64_t x)
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

static inline bool node_has(const struct half *h, unsigned level, uint64_t base)
{
	const struct u64vec *s = &h->nodes[level];
	size_t i = u64_lower(s, base);

	return i < s->n && s->v[i] == base;
}

static inline void node_add(struct half *h, unsigned level, uint64_t base)
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

static inline void marks_remove(struct half *h, uint64_t va, uint64_t last);

/* Detaches (in the model) every node whose whole range lies in [va, last]:
 * design §5 unmap, map's "node in the way", take_next's subtree and the
 * empty nodes before it.  A detached node takes its markers with it (they
 * are entries of its leaf tables).  Returns how many. */
static inline size_t nodes_remove_inside(struct half *h, uint64_t va, uint64_t last)
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
		for (size_t k = i; k < j; k++)
			marks_remove(h, s->v[k], s->v[k] + (span - 1));
		memmove(s->v + i, s->v + j, (s->n - j) * sizeof(*s->v));
		s->n -= j - i;
		removed += j - i;
	}
	return removed;
}

static inline size_t half_nodes(const struct half *h)
{
	size_t n = 0;

	for (unsigned m = 1; m < levels; m++)
		n += h->nodes[m].n;
	return n;
}

static inline void piece_add(struct effects *e, uint64_t va, uint64_t last, int pool_i)
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

static inline void req_add(struct effects *e, enum req_kind kind, uint64_t va,
			   uint64_t last)
{
	GROW(&e->breaks);
	e->breaks.v[e->breaks.n++] = (struct req){va, last, kind, false};
}

/* The model stores what the format makes of a property: its normalize(),
 * with the table's features.  the tests first check that it agrees with the
 * rules of design §1 written down independently (format_rules.h). */
static inline int model_normalize(struct pt_prop p, uint32_t features,
				  struct pt_prop *out)
{
	return fmt->normalize(p, features, out);
}

static inline struct pt_prop protect_prop(struct pt_prop p, uint32_t set,
					  uint32_t clear, uint32_t features)
{
	struct pt_prop out;

	p.flags = (p.flags | set) & ~clear;
	if (model_normalize(p, features, &out))
		abort(); /* set/clear are drawn from allowed_flags */
	return out;
}

/* Leaves pt_map would make: at each position the largest page that the
 * alignment of va and pa and the remaining length allow (design §5). */
static inline void plan_map(const struct half *h, uint64_t va, uint64_t pa,
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

static inline void plan_map_frames(uint64_t va, const uint64_t *frames, size_t n,
				   struct pt_prop prop, struct leafvec *out)
{
	out->n = 0;
	for (size_t i = 0; i < n; i++) {
		GROW(out);
		out->v[out->n++] = (struct leaf){va + i * PAGE, frames[i], PAGE,
						 prop, true};
	}
}

/* ---- markers (issue #13): entries of any leaf size, replaced by maps,
 * removed by unmaps, not counted as mappings; the nodes they need are a
 * map's of the same sizes. */

static inline size_t mark_lower(const struct markvec *mv, uint64_t va)
{
	size_t lo = 0, hi = mv->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mv->v[mid].va < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The markers in [va, last] go. */
static inline void marks_remove(struct half *h, uint64_t va, uint64_t last)
{
	struct markvec *mv = &h->marks;
	size_t i = mark_lower(mv, va), j = i;

	while (j < mv->n && mv->v[j].va <= last)
		j++;
	memmove(mv->v + i, mv->v + j, (mv->n - j) * sizeof(*mv->v));
	mv->n -= j - i;
}

/* Whether a marker lies in [va, last]. */
static inline bool marks_overlap(const struct half *h, uint64_t va, uint64_t last)
{
	size_t i = mark_lower(&h->marks, va);

	return i < h->marks.n && h->marks.v[i].va <= last;
}

/* The marker at va's page, or NULL. */
static inline const struct mark *mark_at(const struct half *h, uint64_t va)
{
	size_t i = mark_lower(&h->marks, va & ~(PAGE - 1));

	return i < h->marks.n && h->marks.v[i].va == (va & ~(PAGE - 1)) ? &h->marks.v[i] : NULL;
}

/*
 * Every huge marker that [va, last] covers only partly is split, one level
 * at a time and only as deep as the range's ends need, as a huge leaf is
 * (cut_leaf): the pages keep their value, the pieces' node is made.  Only
 * a marker holding va or last can be partly covered.
 */
static inline void marks_make_room(struct half *h, uint64_t va, uint64_t last)
{
	const uint64_t ends[2] = {va, last};

	for (int k = 0; k < 2; k++) {
		size_t i = mark_lower(&h->marks, ends[k] & ~(PAGE - 1));

		while (i < h->marks.n && h->marks.v[i].va == (ends[k] & ~(PAGE - 1)) &&
		       h->marks.v[i].level > 1) {
			unsigned l = h->marks.v[i].level;
			uint64_t size = pt_level_size(l), base = ends[k] & ~(size - 1);

			if (base >= va && base + (size - 1) <= last)
				break; /* inside: not cut */
			node_add(h, l - 1, base);
			for (size_t j = mark_lower(&h->marks, base);
			     j < h->marks.n && h->marks.v[j].va <= base + (size - 1); j++)
				h->marks.v[j].level = l - 1;
		}
	}
}

/* The pages [va, va + pages * PAGE) get `value` in entries of `level`
 * (whatever marked them before is gone). */
static inline void marks_put(struct half *h, uint64_t va, uint64_t pages, uint64_t value,
			     unsigned level)
{
	struct markvec *mv = &h->marks;
	size_t i;

	marks_remove(h, va, va + (pages * PAGE - 1));
	i = mark_lower(mv, va);
	if (mv->n + pages > mv->cap) {
		mv->cap = mv->n + pages + 64;
		mv->v = realloc(mv->v, mv->cap * sizeof(*mv->v));
		if (!mv->v)
			abort();
	}
	memmove(mv->v + i + pages, mv->v + i, (mv->n - i) * sizeof(*mv->v));
	for (uint64_t k = 0; k < pages; k++)
		mv->v[i + k] = (struct mark){va + k * PAGE, value, level};
	mv->n += pages;
}

/*
 * pt_mark: every page of [va, last] gets `value` (any marker there
 * replaced), in the sizes a map of the range with pa = va would take; an
 * entry that already holds a node keeps it (marking gives none up), so
 * the pages below it are marked at the size of the entries there.  The
 * nodes above each marker are made.
 */
static inline void model_mark(struct half *h, uint64_t va, uint64_t last, uint64_t value)
{
	static struct leafvec plan;
	const struct pt_prop none = {0, 0};

	marks_make_room(h, va, last);
	plan_map(h, va, va, last - va + 1, none, SIZE_MAX, &plan);
	for (size_t k = 0; k < plan.n; k++) {
		unsigned lvl = level_of(plan.v[k].size);

		for (unsigned m = lvl; m < levels; m++)
			node_add(h, m, plan.v[k].va & ~(node_span(m) - 1));
		for (uint64_t off = 0; off < plan.v[k].size;) { /* the chunk may end at 2^64 */
			uint64_t p = plan.v[k].va + off;
			unsigned l = lvl;

			while (l > 1 && node_has(h, l - 1, p & ~(node_span(l - 1) - 1)))
				l--;
			marks_put(h, p, pt_level_size(l) / PAGE, value, l);
			off += pt_level_size(l);
		}
	}
}

/*
 * One marker entry of `level` at va, as pt_copy and pt_move write it: the
 * markers it covers replaced, a huge marker around it split, an empty
 * subtree in its slot given up (a table becoming a block), the nodes
 * above it made.
 */
static inline void mark_entry(struct half *h, uint64_t va, unsigned level, uint64_t value,
			      struct effects *e)
{
	uint64_t last = va + (pt_level_size(level) - 1);

	marks_make_room(h, va, last);
	if (level > 1) {
		size_t gone = nodes_remove_inside(h, va, last);

		e->nodes_removed += gone;
		if (gone && pt_rules_resize_needs_break(tf->fam, h->features))
			req_add(e, REQ_BLOCK, va, last);
	}
	marks_put(h, va, pt_level_size(level) / PAGE, value, level);
	for (unsigned m = level; m < levels; m++)
		node_add(h, m, va & ~(node_span(m) - 1));
}

/* Applies a successful map: the leaves, the nodes they need, and the empty
 * nodes a huge leaf replaces. */
static inline void model_insert(struct half *h, const struct leafvec *nl,
				struct effects *e)
{
	splice(&h->leaves, lower_leaf(&h->leaves, nl->v[0].va),
	       lower_leaf(&h->leaves, nl->v[0].va), nl);
	for (size_t k = 0; k < nl->n; k++) {
		const struct leaf *l = &nl->v[k];
		unsigned lvl = level_of(l->size);

		marks_make_room(h, l->va, leaf_last(l));
		marks_remove(h, l->va, leaf_last(l)); /* replaced */
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
	struct leafvec *taken;   /* unmap: gets the leaves removed (a move's) */
};

/* One leaf against an unmap/protect of [va, last]: inside parts go or
 * change, outside parts stay, and a huge leaf partly inside is split one level
 * at a time, only as deep as the boundary needs (design §3, §5). */
static inline void cut_leaf(struct half *h, const struct leaf *lf, uint64_t va,
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
			if (c->taken) {
				GROW(c->taken);
				c->taken->v[c->taken->n++] = *lf;
			}
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

static inline void model_cut(struct half *h, uint64_t va, uint64_t last,
			     const struct cut *c, struct effects *e)
{
	size_t i = lower_leaf(&h->leaves, va), j = i;

	if (c->unmap)
		marks_make_room(h, va, last);
	scratch.n = 0;
	while (j < h->leaves.n && h->leaves.v[j].va <= last)
		cut_leaf(h, &h->leaves.v[j++], va, last, c, e);
	splice(&h->leaves, i, j, &scratch);
	if (c->unmap) {
		marks_remove(h, va, last);
		e->nodes_removed += nodes_remove_inside(h, va, last);
	}
}

/*
 * pt_copy's own errors, found under its locks (issue #13): a leaf of src
 * that the range cuts (PT_EALIGN: leaves are copied whole), then anything
 * mapped in dst's range (PT_EEXIST).
 */
static inline int copy_state_err(const struct half *dst, const struct half *src,
				 uint64_t va, uint64_t last)
{
	const struct leafvec *lv = &src->leaves;
	size_t i = lower_leaf(lv, va), j = lower_leaf(lv, last);

	if (i < lv->n && lv->v[i].va < va)
		return PT_EALIGN;
	if (j < lv->n && lv->v[j].va <= last && leaf_last(&lv->v[j]) > last)
		return PT_EALIGN;
	return overlaps(dst, va, last) ? PT_EEXIST : 0;
}

/* A successful pt_copy: with COW src's leaves in the range lose W first
 * (src's changes, into es), then they appear in dst as they are (dst's
 * new leaves, nodes and replaced empty nodes, into ed). */
static inline void model_copy(struct half *dst, struct half *src, uint64_t va,
			      uint64_t last, bool cow, struct effects *es,
			      struct effects *ed)
{
	static struct leafvec nl;
	const struct cut wp = {false, 0, PT_W, NULL};

	if (cow)
		model_cut(src, va, last, &wp, es);
	nl.n = 0;
	for (size_t i = lower_leaf(&src->leaves, va);
	     i < src->leaves.n && src->leaves.v[i].va <= last; i++) {
		GROW(&nl);
		nl.v[nl.n++] = src->leaves.v[i];
	}
	if (nl.n)
		model_insert(dst, &nl, ed);
	/* A marker at its size, or where the range cuts it, the largest
	 * pieces inside (the source stays as it is). */
	for (size_t i = mark_lower(&src->marks, va);
	     i < src->marks.n && src->marks.v[i].va <= last;) {
		const struct mark *m = &src->marks.v[i];
		unsigned l = m->level;

		while (l > 1 && ((m->va & ~(pt_level_size(l) - 1)) < va ||
				 (m->va | (pt_level_size(l) - 1)) > last))
			l--;
		mark_entry(dst, m->va, l, m->value, ed);
		i += pt_level_size(l) / PAGE;
	}
}

/* Pages marked in [va, last] below a node at `level` mapping from base,
 * read raw (decode_marker; a huge marker marks every page of it in range),
 * so that one the model lacks shows up too. */
static inline size_t raw_marks(uint64_t node, unsigned level, uint64_t base, uint64_t va,
			       uint64_t last, uint32_t features)
{
	const uint64_t *ptes = pt_phys_to_virt(phys, node);
	uint64_t size = pt_level_size(level), child;
	size_t n = 0;

	for (unsigned i = 0; i < raw_entries(level); i++) {
		uint64_t lo = base + i * size, hi = lo + (size - 1);

		if (hi < va || lo > last)
			continue;
		if (fmt->decode_marker(ptes[i], NULL))
			n += ((hi < last ? hi : last) - (lo > va ? lo : va)) / PAGE + 1;
		else if (fmt->decode(ptes[i], level, features, &child, NULL, NULL) ==
			 PT_DECODE_TABLE)
			n += raw_marks(child, level - 1, lo, va, last, features);
	}
	return n;
}

/*
 * pt_query_marker against the model over [va, last]: as many markers as
 * the model has there (counted raw), every one of them right (at most 64,
 * spread over them) and a few pages drawn by `pick` (a number below its
 * argument).
 */
static inline void verify_marks(struct pt_table *t, const char *name, const struct half *h,
				uint64_t va, uint64_t last, uint64_t (*pick)(uint64_t))
{
	size_t i = mark_lower(&h->marks, va), j = i;
	uint64_t got;
	int err;

	while (j < h->marks.n && h->marks.v[j].va <= last)
		j++;
	uint64_t root_mask = pt_level_size(levels) * raw_entries(levels) - 1;
	size_t raw = raw_marks(pt_table_root(t), levels, va & ~root_mask, va, last, h->features);
	if (raw != j - i)
		mfail("%s: %zu markers in [%#" PRIx64 ", %#" PRIx64 "], the model has %zu", name,
		      raw, va, last, j - i);
	for (size_t k = i; k < j; k += (j - i) / 64 + 1) {
		const struct mark *m = &h->marks.v[k];

		if ((err = pt_query_marker(t, m->va, &got)) || got != m->value)
			mfail("%s: pt_query_marker(%#" PRIx64 ") = %d, value %#" PRIx64
			      ", want the marker %#" PRIx64, name, m->va, err, got, m->value);
	}
	for (int k = 0; k < 8; k++) {
		uint64_t at = va + pick(((last - va) >> PT_PAGE_SHIFT) + 1) * PAGE;
		const struct mark *m = mark_at(h, at);
		size_t l = lower_leaf(&h->leaves, at);
		int want = m ? 0 : l < h->leaves.n && h->leaves.v[l].va <= at ? PT_EEXIST : PT_ENOENT;

		got = 0;
		err = pt_query_marker(t, at, &got);
		if (err != want || (m && got != m->value))
			mfail("%s: pt_query_marker(%#" PRIx64 ") = %d, value %#" PRIx64
			      ", want %d", name, at, err, got, want);
	}
}

/*
 * pt_harvest (issue #13): what a leaf reports is format_rules.h's
 * pt_rules_harvest_reported.  Bit i of bm (zeroed here, (last - va + 1) / PAGE bits) is page i of the
 * range; with clear, every leaf wholly inside loses the asked bits the
 * format's normalize lets it lack (a change to invalidate).
 */
static inline void model_harvest(struct half *h, uint64_t va, uint64_t last,
				 uint32_t ask, bool clear, uint64_t *bm,
				 struct effects *e)
{
	uint64_t pages = ((last - va) >> PT_PAGE_SHIFT) + 1;

	memset(bm, 0, (pages + 63) / 64 * sizeof(*bm));
	for (size_t i = lower_leaf(&h->leaves, va);
	     i < h->leaves.n && h->leaves.v[i].va <= last; i++) {
		struct leaf *l = &h->leaves.v[i];
		uint64_t lo = l->va > va ? l->va : va;
		uint64_t hi = leaf_last(l) < last ? leaf_last(l) : last;
		struct pt_prop p = l->prop;

		if (pt_rules_harvest_reported(tf->fam, l->prop) & ask)
			for (uint64_t b = (lo - va) / PAGE; b <= (hi - va) / PAGE; b++)
				bm[b / 64] |= (uint64_t)1 << (b % 64);
		if (!clear || lo != l->va || hi != leaf_last(l))
			continue;
		p.flags &= ~ask;
		if (model_normalize(p, h->features, &p))
			abort(); /* fewer A/D bits stay expressible */
		if (p.flags != l->prop.flags)
			piece_add(e, l->va, leaf_last(l), -1);
		l->prop = p;
	}
}

/*
 * pt_split (issue #13): every leaf overlapping [va, last] above level `to`
 * splits, one level at a time, in address order, each leaf before its
 * pieces; only the pieces still overlapping go on.  Each split takes a
 * node (of *budget: the caller's stash; PT_ENOMEM where it runs dry, what
 * was split staying split), adds a node to the model and a range to
 * invalidate (and a break on AArch64 without FEAT_BBM2).  Returns false
 * where it ran dry.
 */
static inline void leaf_push(struct leafvec *out, const struct leaf *lf)
{
	GROW(out);
	out->v[out->n++] = *lf;
}

static inline bool split_rec(struct half *h, const struct leaf *lf, uint64_t va,
			     uint64_t last, unsigned to, uint64_t *budget,
			     struct effects *e, struct leafvec *out)
{
	bool ok = true;

	if (leaf_last(lf) < va || lf->va > last || level_of(lf->size) <= to) {
		leaf_push(out, lf);
		return true;
	}
	if (*budget == 0) {
		leaf_push(out, lf);
		return false;
	}
	(*budget)--;
	e->splits++;
	piece_add(e, lf->va, leaf_last(lf), -1);
	if (pt_rules_resize_needs_break(tf->fam, h->features) && pt_rules_valid(tf->fam, lf->prop))
		req_add(e, REQ_SPLIT, lf->va, leaf_last(lf));
	node_add(h, level_of(lf->size) - 1, lf->va);
	for (unsigned k = 0; k < 512; k++) {
		struct leaf s = *lf;

		s.size = lf->size / 512;
		s.va += k * s.size;
		s.pa += k * s.size;
		if (ok)
			ok = split_rec(h, &s, va, last, to, budget, e, out);
		else
			leaf_push(out, &s); /* ran dry: kept whole */
	}
	return ok;
}

static inline bool model_split(struct half *h, uint64_t va, uint64_t last, unsigned to,
			       uint64_t budget, struct effects *e)
{
	static struct leafvec out;
	size_t i = lower_leaf(&h->leaves, va), j = i;
	bool ok = true;

	out.n = 0;
	for (; j < h->leaves.n && h->leaves.v[j].va <= last; j++) {
		if (ok)
			ok = split_rec(h, &h->leaves.v[j], va, last, to, &budget, e, &out);
		else
			leaf_push(&out, &h->leaves.v[j]);
	}
	splice(&h->leaves, i, j, &out);
	return ok;
}

/* How many nodes pt_split would take there (the model unchanged). */
static inline uint64_t split_need(const struct half *h, uint64_t va, uint64_t last, unsigned to)
{
	uint64_t need = 0;

	for (size_t i = lower_leaf(&h->leaves, va); i < h->leaves.n && h->leaves.v[i].va <= last;
	     i++) {
		const struct leaf *l = &h->leaves.v[i];
		uint64_t lo = l->va > va ? l->va : va, hi = leaf_last(l) < last ? leaf_last(l) : last;

		/* One node per piece size above `to`, for each piece overlapping. */
		for (unsigned lvl = level_of(l->size); lvl > to; lvl--)
			need += ((hi >> (PT_PAGE_SHIFT + 9 * (lvl - 1))) -
				 (lo >> (PT_PAGE_SHIFT + 9 * (lvl - 1)))) + 1;
	}
	return need;
}

/* Nodes wholly inside [va, last] at `level` (bases into out). */
static inline void nodes_inside(const struct half *h, unsigned level, uint64_t va,
				uint64_t last, struct u64vec *out)
{
	const struct u64vec *s = &h->nodes[level];
	uint64_t span = node_span(level);

	out->n = 0;
	if (last - va < span - 1)
		return;
	for (size_t i = u64_lower(s, va); i < s->n && s->v[i] <= last - (span - 1); i++) {
		GROW(out);
		out->v[out->n++] = s->v[i];
	}
}

/* The pieces a moved leaf becomes at va + delta: the largest size that
 * divides delta, no larger than it was (design §5 move).  Whether it was
 * re-cut. */
static inline bool move_pieces_of(const struct leaf *l, uint64_t delta, struct leafvec *out)
{
	uint64_t size = l->size;

	while (delta & (size - 1))
		size /= 512;
	for (uint64_t off = 0; off < l->size; off += size) {
		GROW(out);
		out->v[out->n++] = (struct leaf){l->va + delta + off, l->pa + off, size,
						 l->prop, l->tracked};
	}
	return size != l->size;
}

/*
 * pt_move of [from, from + len) to `to` (design §5): the source as unmap
 * cuts it, its leaves again at to in the largest pieces the distance
 * allows; nodes wholly inside whose span divides the distance relocated
 * (their leaves go with them), dropping the empty nodes they land on,
 * with the nodes above them made; the others given back, as by unmap.
 * Returns the nodes relocated; *recut, the leaves cut into pieces.
 */
static inline size_t model_move(struct half *h, uint64_t from, uint64_t to, uint64_t len,
				struct effects *e, size_t *recut)
{
	static struct leafvec taken, pieces;
	static struct u64vec reloc[PT_MAX_LEVELS + 1];
	static struct markvec moved;
	uint64_t last = from + (len - 1), delta = to - from;
	struct cut c = {true, 0, 0, &taken};
	size_t relocated = 0, mi = mark_lower(&h->marks, from);

	/* Markers move with the range (the cut below removes them there), cut
	 * at its ends first, as unmap cuts them. */
	marks_make_room(h, from, last);
	moved.n = 0;
	for (; mi < h->marks.n && h->marks.v[mi].va <= last; mi++) {
		if (moved.n == moved.cap) {
			moved.cap = 2 * moved.cap + 64;
			moved.v = realloc(moved.v, moved.cap * sizeof(*moved.v));
			if (!moved.v)
				abort();
		}
		moved.v[moved.n++] = h->marks.v[mi];
	}

	for (unsigned m = 1; m < levels; m++) {
		reloc[m].n = 0;
		if (m != h->pinned_level && (delta & (node_span(m) - 1)) == 0)
			nodes_inside(h, m, from, last, &reloc[m]);
		relocated += reloc[m].n;
	}
	taken.n = pieces.n = 0;
	model_cut(h, from, last, &c, e);
	for (size_t k = 0; k < e->pieces.n; k++)
		e->pieces.v[k].pool = -1; /* a move releases no reference */
	for (unsigned m = 1; m < levels; m++)
		for (size_t i = 0; i < reloc[m].n; i++)
			e->nodes_removed += nodes_remove_inside(h, reloc[m].v[i] + delta,
								reloc[m].v[i] + delta +
									(node_span(m) - 1));
	for (unsigned m = 1; m < levels; m++)
		for (size_t i = 0; i < reloc[m].n; i++)
			for (unsigned k = m; k < levels; k++)
				node_add(h, k, (reloc[m].v[i] + delta) & ~(node_span(k) - 1));
	*recut = 0;
	for (size_t i = 0; i < taken.n; i++)
		*recut += move_pieces_of(&taken.v[i], delta, &pieces);
	if (pieces.n)
		model_insert(h, &pieces, e);
	/* Each at its size if that divides the distance, else in pieces of
	 * the largest size that does. */
	for (size_t k = 0; k < moved.n;) {
		unsigned l = moved.v[k].level;

		while (delta & (pt_level_size(l) - 1))
			l--;
		mark_entry(h, moved.v[k].va + delta, l, moved.v[k].value, e);
		k += pt_level_size(l) / PAGE;
	}
	return relocated;
}

/*
 * A move's destination such that its leaves come out as at most about
 * cap pieces (a 1G leaf moved by 4K is 262144 leaves, and the per-step
 * checks cost per leaf): the distance aligned down to 2M, then to 1G (or
 * that much, if aligning leaves nothing).  Partly covered leaves count as
 * split one level down.  [from, from + len) is a valid range of h.
 */
static inline uint64_t move_tame(const struct half *h, uint64_t from, uint64_t len,
				 uint64_t to, size_t cap)
{
	uint64_t last = from + (len - 1), align = PAGE;

	for (;;) {
		uint64_t delta = to - from, pieces = 0;

		for (size_t i = lower_leaf(&h->leaves, from);
		     i < h->leaves.n && h->leaves.v[i].va <= last; i++) {
			const struct leaf *l = &h->leaves.v[i];
			uint64_t size = l->va >= from && leaf_last(l) <= last ? l->size
									       : l->size / 512;

			while (size > PAGE && (delta & (size - 1)))
				size /= 512;
			pieces += l->size / size;
		}
		if (pieces <= cap || align == PT_GiB)
			return to;
		align = align == PAGE ? 2 * PT_MiB : PT_GiB;
		to = from + ((delta & ~(align - 1)) ? delta & ~(align - 1) : align);
	}
}

/* ------------------------------------------------ invalidation hook */

/* What the hook saw during one operation (or one finish of a batch). */
static struct {
	bool active;                  /* an operation is being watched */
	const char *name;             /* its table: */
	uint64_t root;
	uint32_t features;
	bool *hooked;                 /* set once a call for it arrives */
	struct half *h;               /* the half the op changes */
	bool batch;                   /* the op's batch is the test's */
	bool in_finish;               /* inside the test's pt_flush_finish */
	struct effects *e;            /* what the op changes */
	/*
	 * For batches kept open across operations (the fuzzer; set them after
	 * inv_begin): keep_open, the op's batch is not finished before
	 * inv_end, which then leaves its pieces and removed nodes to the
	 * caller; pending, pieces of earlier operations in the table's open
	 * batch, already written, which any call covering them marks done;
	 * lax, the op's effects are unknown (fault injection: it may have
	 * failed), so no release-order check.
	 */
	bool keep_open, lax;
	struct piecevec *pending;
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
static inline bool info_covers(const struct pt_flush_info *info, uint64_t va,
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

static inline unsigned va_index(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (PT_PAGE_SHIFT + 9 * (level - 1))) & (raw_entries(level) - 1);
}

/* The leaf at va as the MMU would find it now: raw PTEs, no locks, so the
 * hook can look while the operation is still inside the table. */
static inline bool raw_leaf(uint64_t root, uint64_t va, uint32_t features,
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
static inline bool raw_range_absent(uint64_t root, uint64_t va, uint64_t last,
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

/* Whether the piece's change is in memory: what the model (already
 * updated) has there, gone where it has nothing (unmap, a move's source),
 * else its flags (protect, new mappings); checked at both ends of a merged
 * piece, which may be one of each (a move's source and destination). */
static inline bool change_visible(const struct piece *p)
{
	const uint64_t at[2] = {p->va, p->last};

	for (int k = 0; k < 2; k++) {
		struct pt_prop got = {0, 0};
		bool present = raw_leaf(inv.root, at[k], inv.features,
					&got);
		size_t i = lower_leaf(&inv.h->leaves, at[k]);
		bool modelled = i < inv.h->leaves.n &&
				inv.h->leaves.v[i].va <= at[k];

		if (present != modelled ||
		    (present && got.flags != inv.h->leaves.v[i].prop.flags))
			return false;
	}
	return true;
}

/*
 * design §5: references of unmapped tracked frames drop only after the
 * invalidation for them.  So when the hook runs, a frame may have lost at
 * most the references of its leaves already invalidated (after removal).
 */
static inline void check_release_order(void)
{
	uint64_t allowed_drop[NPOOL] = {0};

	for (size_t k = 0; k < inv.e->pieces.n; k++) {
		const struct piece *p = &inv.e->pieces.v[k];

		if (p->pool >= 0 && p->done)
			allowed_drop[p->pool]++;
	}
	for (size_t k = 0; inv.pending && k < inv.pending->n; k++) {
		const struct piece *p = &inv.pending->v[k];

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
static inline void mark_pieces(const struct pt_flush_info *info, struct u64vec *defer)
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

static inline int req_cmp(const void *a, const void *b)
{
	const struct req *x = a, *y = b;

	if (x->va != y->va)
		return x->va < y->va ? -1 : 1;
	return x->last < y->last ? -1 : x->last > y->last;
}

/* A break of [va, last]: it meets the split or update of exactly that
 * entry, and a table-to-block change inside it if walk caches go too. */
static inline void meet_breaks(uint64_t va, uint64_t last, bool nodes_removed)
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
static inline void on_invalidate(void *arg, const struct pt_flush_info *info)
{
	(void)arg;
	if (!inv.active || info->root_pa != inv.root)
		return; /* not the table under test right now */
	*inv.hooked = true;
	if (!inv.lax)
		check_release_order();
	/* Earlier operations' changes in the open batch were written before
	 * this operation began: any invalidation covering them is after. */
	for (size_t k = 0; inv.pending && k < inv.pending->n; k++) {
		struct piece *p = &inv.pending->v[k];

		if (!p->done && info_covers(info, p->va, p->last))
			p->done = true;
	}
	inv.last_break = inv.last_present_single = false;
	if (!inv.in_finish && !info->all && info->nr_ranges == 1 &&
	    info->ranges[0].len) {
		uint64_t va = info->ranges[0].va;
		uint64_t last = va + (info->ranges[0].len - 1);

		if (raw_range_absent(inv.root, va, last, inv.features)) {
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

/* Watches the next operation on the table with this root (its
 * invalidation hook must be on_invalidate, or call it). */
static inline void inv_begin(const char *name, uint64_t root, uint32_t features,
			     bool *hooked, struct half *h, bool batch,
			     struct effects *e, const uint64_t *pre_maps)
{
	inv.active = true;
	inv.name = name;
	inv.root = root;
	inv.features = features;
	inv.hooked = hooked;
	inv.h = h;
	inv.batch = batch;
	inv.in_finish = false;
	inv.e = e;
	inv.keep_open = inv.lax = false;
	inv.pending = NULL;
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
 * and break-before-make happened where the format needs it, only there.
 * With keep_open, pieces not yet invalidated and removed nodes not yet
 * flushed are the caller's to check when it finishes the batch. */
static inline void inv_end(const struct effects *e)
{
	const char *name = inv.name;
	/* Without a caller's batch, the op's last call may be its own flush;
	 * if it looked like a break, it was the flush of a removal only if
	 * nothing was made there after it. */
	bool last_is_final = !inv.batch && inv.calls > 0;
	bool final_break = last_is_final && inv.last_break &&
			   raw_range_absent(inv.root, inv.break_va,
					    inv.break_last, inv.features);
	unsigned mid_breaks = inv.breaks - final_break;
	unsigned mid_present = inv.present_single -
			       (last_is_final && inv.last_present_single);

	inv.active = false;
	if (inv.bad[0])
		mfail("%s: %s", name, inv.bad);
	if (!*inv.hooked)
		return; /* UK until its invalidations are seen to reach us */
	if (mid_present)
		mfail("%s: %u invalidation(s) of a single range in the middle of"
		      " the operation with the entry still present (a break"
		      " must clear it first)", name, mid_present);
	if (mid_breaks && !pt_rules_may_break(tf->fam))
		mfail("%s: %u break(s) (an entry cleared and invalidated in the"
		      " middle of the operation) in a format that changes"
		      " entries in place", name, mid_breaks);
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
			      name, r->va, r->last, req_name[r->kind],
			      r->kind == REQ_BLOCK ? "with nodes_removed covering it"
						   : "of exactly that entry",
			      inv.calls, inv.breaks);
	}
	if (inv.keep_open)
		return;
	for (size_t k = 0; k < e->pieces.n; k++)
		if (!e->pieces.v[k].done)
			mfail("%s: [%#" PRIx64 ", %#" PRIx64 "] changed but not"
			      " invalidated after the change (%u invalidation"
			      " calls)", name, e->pieces.v[k].va,
			      e->pieces.v[k].last, inv.calls);
	if (e->nodes_removed && !inv.nodes_removed)
		mfail("%s: %zu page-table nodes removed but no invalidation had"
		      " nodes_removed or all (%u calls)", name,
		      e->nodes_removed, inv.calls);
}

/* ------------------------------------------------------- verification */

struct vcmp {
	const struct leaf *v;
	size_t n, i;
	size_t stop_after;          /* 0: never */
	char why[400];
};

#define VCMP_STOP 0x5eed
#define VCMP_STOPPED 7          /* the callback's return after stop_after leaves */

static inline void leaf_to_mapping(const struct leaf *l, struct pt_mapping *m)
{
	*m = (struct pt_mapping){l->va, l->pa, l->size, l->prop, l->tracked};
}

static inline bool same_mapping(const struct pt_mapping *m, const struct leaf *l)
{
	return m->va == l->va && m->pa == l->pa && m->size == l->size &&
	       m->prop.flags == l->prop.flags && m->prop.cache == l->prop.cache &&
	       m->tracked == l->tracked;
}

static inline const char *fmt_leaf(const struct leaf *l, char *buf, size_t len)
{
	struct pt_mapping m;

	leaf_to_mapping(l, &m);
	return pt_test_fmt_mapping(&m, buf, len);
}

static inline int vcmp_fn(const struct pt_mapping *m, void *arg)
{
	struct vcmp *c = arg;
	char a[160], b[160];

	if (c->i >= c->n) {
		snprintf(c->why, sizeof(c->why), "extra leaf #%zu %s", c->i,
			 pt_test_fmt_mapping(m, a, sizeof(a)));
		return VCMP_STOP;
	}
	if (!same_mapping(m, &c->v[c->i])) {
		snprintf(c->why, sizeof(c->why), "leaf #%zu: want %s, got %s",
			 c->i, fmt_leaf(&c->v[c->i], a, sizeof(a)),
			 pt_test_fmt_mapping(m, b, sizeof(b)));
		return VCMP_STOP;
	}
	c->i++;
	if (c->stop_after && c->i == c->stop_after)
		return VCMP_STOPPED;
	return 0;
}

/* pt_for_each_mapping over [va, va + len) must give exactly v[0, n), or,
 * with stop_after (0: never), stop after that many leaves when there are
 * as many. */
static inline void compare_walk(struct pt_table *t, const char *name, uint64_t va,
				uint64_t len, int want_err, const struct leaf *v,
				size_t n, size_t stop_after, const char *what)
{
	struct vcmp c = {v, n, 0, stop_after, ""};
	int err = pt_for_each_mapping(t, va, len, vcmp_fn, &c);
	char a[160];

	if (err == VCMP_STOP)
		mfail("%s %s: %s", name, what, c.why);
	if (stop_after && n >= stop_after) {
		n = stop_after;
		want_err = VCMP_STOPPED;
	}
	if (err != want_err)
		mfail("%s %s: for_each_mapping returned %d (%s), want %d",
		      name, what, err, pt_strerror(err), want_err);
	if (c.i < n)
		mfail("%s %s: %zu leaves, want %zu; first missing %s", name,
		      what, c.i, n, fmt_leaf(&v[c.i], a, sizeof(a)));
}

/* pt_table_stats of a table spanning these halves (NULL: not spanned). */
static inline void predict_stats(const struct half *user, const struct half *kernel,
				 struct pt_table_stats *s)
{
	const struct half *hs[2] = {user, kernel};

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

/* ------------------------------------------------------------- setup */

/* An empty half of a new table (its vectors keep their memory). */
static inline void half_init(struct half *h, const char *name, bool kernel,
			     unsigned max_level, uint32_t features)
{
	h->name = name;
	h->start = kernel ? fmt->kernel_start : 0;
	h->last = kernel ? UINT64_MAX : fmt->user_end - 1;
	h->max_level = max_level;
	h->pinned_level = 0;
	h->features = features;
	h->leaves.n = 0;
	if (!h->leaves.v) /* never NULL: then leaves.v + 0 is fine */
		GROW(&h->leaves);
	h->marks.n = 0;
	if (!h->marks.v)
		GROW(&h->marks);
	for (unsigned m = 0; m <= PT_MAX_LEVELS; m++)
		h->nodes[m].n = 0;
	if (kernel && fmt->shared_kernel_root) {
		/* design §5: a kernel table whose root user tables share
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

/*
 * The model stores the format's normalize(); it must be what design §1
 * says (format_rules.h), or every later difference would be noise.  Every
 * flag combination below bit 12, an unknown bit, and every cache policy
 * plus one past them, with each feature set given.  True, and the first
 * difference in why, if they disagree.
 */
static inline bool normalize_disagrees(const uint32_t *features, size_t n, char *why,
				       size_t len)
{
	for (size_t i = 0; i < n; i++)
		for (uint32_t cache = 0; cache <= PT_CACHE_COUNT; cache++)
			for (uint32_t f = 0; f <= 0x1000; f++) {
				uint32_t fl = f < 0x1000 ? f : PT_R | (1u << 20);
				struct pt_prop p = {fl, cache}, a = {0, 0}, b = {0, 0};
				int ea = pt_rules_normalize_format(tf, p, features[i], &a);
				int eb = model_normalize(p, features[i], &b);

				if (ea != eb || (!ea && (a.flags != b.flags ||
							 a.cache != b.cache))) {
					snprintf(why, len,
						 "%s normalize(flags %#x cache %u,"
						 " features %#x): the format says %d"
						 " %#x/%u, design §1 says %d %#x/%u",
						 tf->id, fl, cache, features[i], eb,
						 b.flags, b.cache, ea, a.flags, a.cache);
					return true;
				}
			}
	return false;
}

/*
 * Windows of a few GiB that tests draw addresses from, so ranges collide:
 * [WIN_START] the start of each half, [WIN_TOP] its top (the kernel top
 * gives va + len == 2^64), [WIN_ROOT] across the boundary of two root
 * entries: two nodes under the root, in a shared kernel half two of the
 * kernel table's pinned ones.  A root entry spans 512 GiB with four
 * levels, 256 TiB with five, 1 GiB with Sv39's three: then the boundary is
 * in the middle of the half (the first ones are inside WIN_START already).
 * A stage 2 has no kernel half: its "kernel" windows are where a table of
 * it answers PT_ERANGE, just past its space, across its end, and at 2^64.
 * Returns -1, or the index of a window outside its half.
 */
enum { WIN_START, WIN_TOP, WIN_ROOT };

static inline int model_windows(struct window *user_win, struct window *kern_win)
{
	uint64_t root_span = pt_level_size(levels);
	uint64_t b = root_span >= 4 * PT_GiB ? root_span
					     : (fmt->user_end / 2) & ~(root_span - 1);

	user_win[WIN_START] = (struct window){0, 4 * PT_GiB - 1};
	user_win[WIN_TOP] = (struct window){fmt->user_end - 2 * PT_GiB,
					    fmt->user_end - 1};
	kern_win[WIN_TOP] = (struct window){0 - 4 * PT_GiB, UINT64_MAX};
	user_win[WIN_ROOT] = (struct window){b - 2 * PT_GiB, b + 2 * PT_GiB - 1};
	if (fmt->stage == 2) {
		kern_win[WIN_START] = (struct window){fmt->user_end,
						      fmt->user_end + 2 * PT_GiB - 1};
		kern_win[WIN_ROOT] = (struct window){fmt->user_end - 2 * PT_GiB,
						     fmt->user_end + 2 * PT_GiB - 1};
	} else {
		kern_win[WIN_START] = (struct window){fmt->kernel_start,
						      fmt->kernel_start + 2 * PT_GiB - 1};
		kern_win[WIN_ROOT] = (struct window){fmt->kernel_start + b - 2 * PT_GiB,
						     fmt->kernel_start + b + 2 * PT_GiB - 1};
	}
	for (int i = 0; i < NWIN; i++)
		if (user_win[i].last >= fmt->user_end ||
		    (fmt->stage != 2 && kern_win[i].start < fmt->kernel_start))
			return i;
	return -1;
}

#endif /* PTKIT_TEST_MODEL_CORE_H */
