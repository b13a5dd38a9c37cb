/* SPDX-License-Identifier: MPL-2.0 */
/* conc_model.c - see conc_model.h. */
#include "conc_model.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PHYS_BYTES (256 * (UINT64_C(1) << 20))

enum cm_op {
	OP_MAP, OP_MAP_TRACKED, OP_MAP_HUGE, OP_UNMAP, OP_PROTECT, OP_QUERY,
	OP_CURSOR_TAKE, OP_CURSOR_MAP, OP_CURSOR_PROTECT, OP_CURSOR_READ,
	OP_CURSOR_WIDE, OP_FOREACH, OP_HARVEST, OP_SPLIT, OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"map", "map_frames", "map_2M", "unmap", "protect", "query", "cursor_take",
	"cursor_map", "cursor_protect", "cursor_read", "cursor_wide", "for_each", "harvest",
	"split",
};

/* Properties the ops pick from; the model keeps them normalized by the
 * format's rules (format_rules.h) to compare them with what the table
 * reports. */
static const struct pt_prop props[] = {
	{ PT_R | PT_U, PT_CACHE_WB },
	{ PT_R | PT_W | PT_U, PT_CACHE_WB },
	{ PT_U, PT_CACHE_WB },                     /* PROT_NONE */
	{ PT_R | PT_W | PT_U | PT_SW0, PT_CACHE_WB },
	{ PT_R | PT_X | PT_U, PT_CACHE_WB },
	{ PT_R | PT_W, PT_CACHE_UC },
};
#define NR_PROPS (sizeof(props) / sizeof(props[0]))

struct set_clear {
	uint32_t set, clear;
};

static const struct set_clear protections[] = {
	{ PT_W, 0 }, { 0, PT_W }, { 0, PT_R | PT_W | PT_X }, { PT_R, 0 },
	{ PT_SW1, 0 }, { 0, PT_SW1 }, { PT_X, PT_W },
};
#define NR_PROTECTIONS (sizeof(protections) / sizeof(protections[0]))

struct cm_worker {
	struct cm_world *w;
	unsigned id;
	struct conc_rng rng;
	uint32_t *own;        /* global indices of this thread's pages */
	size_t nown;
	uint32_t *huge;       /* first pages of this thread's whole 2M slots */
	size_t nhuge;
	struct pt_flush batch;
	unsigned batched;     /* operations recorded in batch, not finished */
	uint64_t ops[OP_COUNT];
};

/* A run of one thread's pages: global index g0, n pages, contiguous VA. */
struct run {
	size_t g0;
	uint64_t n;
	uint64_t va;
};

/* ---- geometry ---- */

static unsigned window_of(const struct cm_world *w, size_t g)
{
	unsigned i = 0;

	while (g >= w->win_first[i + 1])
		i++;
	return i;
}

static uint64_t va_of(const struct cm_world *w, size_t g)
{
	unsigned i = window_of(w, g);

	return w->win[i].va + (g - w->win_first[i]) * CONC_PAGE;
}

/* Global index of va, or SIZE_MAX outside every window. */
static size_t page_of(const struct cm_world *w, uint64_t va)
{
	for (unsigned i = 0; i < w->nwin; i++)
		if (va >= w->win[i].va && va - w->win[i].va < w->win[i].npages * CONC_PAGE)
			return w->win_first[i] + (va - w->win[i].va) / CONC_PAGE;
	return SIZE_MAX;
}

/* design §1 normalize(), as format_rules.h writes it: every property and
 * protection here is one the format can hold. */
static struct pt_prop normalize(const struct cm_world *w, struct pt_prop p)
{
	struct pt_prop out;

	CONC_CHECK(pt_rules_normalize_format(w->tf, p, w->features, &out) == 0,
		   "%s cannot hold flags %#x cache %u", w->tf->id, p.flags, p.cache);
	return out;
}

static bool prop_eq(struct pt_prop a, struct pt_prop b)
{
	return a.flags == b.flags && a.cache == b.cache;
}

/* ---- checking one page against the model ---- */

static void expect_page_in(const struct cm_world *w, size_t g, const struct pt_mapping *m,
			   const char *what)
{
	const struct cm_page *p = &w->pages[g];
	uint64_t va = va_of(w, g);
	char buf[160];

	CONC_CHECK(p->mapped, "%s: page %#" PRIx64 " should be unmapped, table has %s", what,
		   va, conc_fmt_map(m, buf, sizeof(buf)));
	CONC_CHECK(va >= m->va && va - m->va < m->size, "%s: leaf %s does not hold %#" PRIx64,
		   what, conc_fmt_map(m, buf, sizeof(buf)), va);
	CONC_CHECK(m->pa + (va - m->va) == p->pa && prop_eq(m->prop, p->prop) &&
		   m->tracked == p->tracked,
		   "%s: page %#" PRIx64 ": table has %s, model pa=%#" PRIx64
		   " flags=%#x cache=%u%s", what, va, conc_fmt_map(m, buf, sizeof(buf)),
		   p->pa, p->prop.flags, p->prop.cache, p->tracked ? " tracked" : "");
}

/* pt_query of an own page says exactly what the model says. */
static void verify_page(const struct cm_world *w, size_t g, const char *what)
{
	struct pt_mapping m;
	int err = pt_query(w->table, va_of(w, g), &m);

	if (!w->pages[g].mapped) {
		char buf[160];
		CONC_CHECK(err == PT_ENOENT, "%s: page %#" PRIx64 " unmapped in the model, "
			   "pt_query gave %d %s", what, va_of(w, g), err,
			   err ? "" : conc_fmt_map(&m, buf, sizeof(buf)));
		return;
	}
	CONC_CHECK(err == 0, "%s: page %#" PRIx64 " mapped in the model, pt_query: %s", what,
		   va_of(w, g), pt_strerror(err));
	expect_page_in(w, g, &m, what);
}

/* First, last and two random pages of the run. */
static void verify_run(struct cm_worker *k, const struct run *r, const char *what)
{
	verify_page(k->w, r->g0, what);
	verify_page(k->w, r->g0 + r->n - 1, what);
	for (int i = 0; i < 2; i++)
		verify_page(k->w, r->g0 + conc_below(&k->rng, r->n), what);
}

static bool run_any_mapped(const struct cm_world *w, const struct run *r)
{
	for (uint64_t i = 0; i < r->n; i++)
		if (w->pages[r->g0 + i].mapped)
			return true;
	return false;
}

/* ---- picking what to work on ---- */

static struct run pick_run(struct cm_worker *k)
{
	const struct cm_world *w = k->w;
	unsigned cls = (unsigned)conc_below(&k->rng, 10);
	uint64_t cap = cls < 6 ? 8 : cls < 9 ? 64 : w->max_run;
	size_t g = k->own[conc_below(&k->rng, k->nown)];
	uint64_t avail = w->run_end[g] - g + 1;
	uint64_t n = 1 + conc_below(&k->rng, avail < cap ? avail : cap);

	return (struct run){ g, n, va_of(w, g) };
}

/* A caller batch for some operations (finished after a few), NULL for the
 * others: both paths must release exactly once. */
static struct pt_flush *maybe_batch(struct cm_worker *k)
{
	if (!conc_chance(&k->rng, 30))
		return NULL;
	if (k->batched++ == 0)
		pt_flush_init(&k->batch, k->w->table);
	return &k->batch;
}

static void settle_batch(struct cm_worker *k, bool force)
{
	if (k->batched && (force || conc_chance(&k->rng, 25))) {
		CONC_RC(pt_flush_finish(&k->batch), 0);
		k->batched = 0;
	}
}

/* Any frame of the shared pool: threads map the same frames at once, so
 * the reference counts themselves are contended. */
static uint64_t my_frame(struct cm_worker *k)
{
	return k->w->pool.pa[conc_below(&k->rng, k->w->pool.n)];
}

static void model_set(struct cm_world *w, size_t g, uint64_t pa, struct pt_prop prop,
		      bool tracked)
{
	w->pages[g] = (struct cm_page){ .pa = pa, .prop = normalize(w, prop), .mapped = true,
					.tracked = tracked };
}

/* ---- whole-range operations ---- */

static void op_map(struct cm_worker *k, struct run r)
{
	struct cm_world *w = k->w;
	struct pt_prop prop = props[conc_below(&k->rng, NR_PROPS)];
	bool taken = run_any_mapped(w, &r);

	CONC_RC(pt_map(w->table, r.va, r.va + CONC_UNTRACKED_OFF, r.n * CONC_PAGE, prop),
		taken ? PT_EEXIST : 0);
	for (uint64_t i = 0; !taken && i < r.n; i++)
		model_set(w, r.g0 + i, r.va + CONC_UNTRACKED_OFF + i * CONC_PAGE, prop, false);
	verify_run(k, &r, "after pt_map");
}

static void op_map_tracked(struct cm_worker *k, struct run r)
{
	struct cm_world *w = k->w;
	struct pt_prop prop = props[conc_below(&k->rng, NR_PROPS)];
	uint64_t frames[64];

	r.n = r.n < 64 ? r.n : 64;
	for (uint64_t i = 0; i < r.n; i++)
		frames[i] = my_frame(k);
	bool taken = run_any_mapped(w, &r);
	CONC_RC(pt_map_frames(w->table, r.va, frames, r.n, prop), taken ? PT_EEXIST : 0);
	for (uint64_t i = 0; !taken && i < r.n; i++)
		model_set(w, r.g0 + i, frames[i], prop, true);
	verify_run(k, &r, "after pt_map_frames");
}

static void op_map_huge(struct cm_worker *k)
{
	struct cm_world *w = k->w;
	struct pt_prop prop = props[conc_below(&k->rng, NR_PROPS)];
	size_t g = k->huge[conc_below(&k->rng, k->nhuge)];
	struct run r = { g, 512, va_of(w, g) };
	bool taken = run_any_mapped(w, &r);

	CONC_RC(pt_map(w->table, r.va, r.va + CONC_UNTRACKED_OFF, CONC_2M, prop),
		taken ? PT_EEXIST : 0);
	for (uint64_t i = 0; !taken && i < r.n; i++)
		model_set(w, g + i, r.va + CONC_UNTRACKED_OFF + i * CONC_PAGE, prop, false);
	if (!taken) { /* one 2M leaf: the alignment allows it */
		struct pt_mapping m;
		CONC_RC(pt_query(w->table, r.va + 5 * CONC_PAGE, &m), 0);
		CONC_CHECK(m.size == CONC_2M && m.va == r.va, "2M map at %#" PRIx64
			   " gave a leaf of %#" PRIx64 " at %#" PRIx64, r.va, m.size, m.va);
	}
	verify_run(k, &r, "after a 2M pt_map");
}

static void op_unmap(struct cm_worker *k, struct run r)
{
	struct cm_world *w = k->w;

	CONC_RC(pt_unmap(w->table, r.va, r.n * CONC_PAGE, maybe_batch(k)), 0);
	for (uint64_t i = 0; i < r.n; i++)
		w->pages[r.g0 + i].mapped = false;
	verify_run(k, &r, "after pt_unmap");
}

static void apply_protection(struct cm_world *w, const struct run *r, struct set_clear sc)
{
	for (uint64_t i = 0; i < r->n; i++) {
		struct cm_page *p = &w->pages[r->g0 + i];
		if (p->mapped) {
			p->prop.flags = (p->prop.flags | sc.set) & ~sc.clear;
			p->prop = normalize(w, p->prop);
		}
	}
}

static void op_protect(struct cm_worker *k, struct run r)
{
	struct cm_world *w = k->w;
	struct set_clear sc = protections[conc_below(&k->rng, NR_PROTECTIONS)];

	CONC_RC(pt_protect(w->table, r.va, r.n * CONC_PAGE, sc.set, sc.clear, maybe_batch(k)),
		0);
	apply_protection(w, &r, sc);
	verify_run(k, &r, "after pt_protect");
}

/* Dirty logging beside the neighbours' maps and unmaps: the props here
 * carry neither A nor D and nothing sets them, so a page reports only what
 * its format's normalize adds (AArch64: A always, D with W: no DBM), which
 * clearing cannot take away: the model does not change. */
static void op_harvest(struct cm_worker *k, struct run r)
{
	const struct cm_world *w = k->w;
	size_t words = (r.n + 63) / 64;
	uint64_t *bm = malloc(words * sizeof(*bm));

	CONC_CHECK(bm, "out of memory");
	CONC_RC(pt_harvest(w->table, r.va, r.n * CONC_PAGE,
			   PT_HARVEST_ACCESSED | PT_HARVEST_DIRTY | PT_HARVEST_CLEAR, bm,
			   maybe_batch(k)), 0);
	for (uint64_t i = 0; i < r.n; i++) {
		const struct cm_page *p = &w->pages[r.g0 + i];
		bool want = p->mapped && pt_rules_harvest_reported(w->tf->fam, p->prop);

		CONC_CHECK(((bm[i / 64] >> (i % 64)) & 1) == want,
			   "harvest at %#" PRIx64 ": page %#" PRIx64 " reported %d, want %d",
			   r.va, r.va + i * CONC_PAGE, !want, want);
	}
	free(bm);
	verify_run(k, &r, "after pt_harvest");
}

/* Eager split beside the neighbours' changes: the thread's own 2M leaves
 * overlapping the run become 4K leaves, from a small stash (which may run
 * dry, keeping what was split) or from the phys; the view is unchanged. */
static void op_split(struct cm_worker *k, struct run r)
{
	struct pt_reserve stash = { 0, 0 };
	int err;

	if (conc_chance(&k->rng, 50)) {
		CONC_RC(pt_reserve_fill(k->w->table, &stash, conc_below(&k->rng, 2)), 0);
		err = pt_split(k->w->table, r.va, r.n * CONC_PAGE, 1, &stash);
		CONC_CHECK(err == 0 || err == PT_ENOMEM, "pt_split: %s", pt_strerror(err));
		pt_reserve_drain(k->w->table, &stash);
	} else {
		CONC_RC(pt_split(k->w->table, r.va, r.n * CONC_PAGE, 1, NULL), 0);
	}
	verify_run(k, &r, "after pt_split");
}

/* ---- cursor operations ---- */

/* What take_next reported lies inside the run and matches the model. */
static void check_taken(struct cm_world *w, const struct run *r, const struct pt_taken *t)
{
	uint64_t va = t->subtree ? t->va : t->mapping.va;
	uint64_t len = t->subtree ? t->len : t->mapping.size;

	CONC_CHECK(va >= r->va && va + len <= r->va + r->n * CONC_PAGE,
		   "take_next took [%#" PRIx64 ", +%#" PRIx64 ") outside the cursor's run "
		   "[%#" PRIx64 ", +%#" PRIx64 ")", va, len, r->va, r->n * CONC_PAGE);
	for (uint64_t off = 0; !t->subtree && off < len; off += CONC_PAGE)
		expect_page_in(w, page_of(w, va + off), &t->mapping, "take_next");
}

static void op_cursor_take(struct cm_worker *k, struct run r)
{
	struct cm_world *w = k->w;
	struct pt_flush *flush = maybe_batch(k);
	struct pt_cursor c;
	struct pt_taken t;
	int err;

	CONC_RC(pt_cursor_open(&c, w->table, r.va, r.n * CONC_PAGE), 0);
	while ((err = pt_cursor_take_next(&c, UINT64_MAX, &t, flush)) == 0)
		check_taken(w, &r, &t);
	CONC_CHECK(err == PT_ENOENT, "take_next: %s", pt_strerror(err));
	pt_cursor_close(&c);
	for (uint64_t i = 0; i < r.n; i++)
		w->pages[r.g0 + i].mapped = false;
	verify_run(k, &r, "after cursor take_next");
}

static void op_cursor_map(struct cm_worker *k, struct run r)
{
	struct cm_world *w = k->w;
	struct pt_prop prop = props[conc_below(&k->rng, NR_PROPS)];
	struct pt_cursor c;

	r.n = r.n < 16 ? r.n : 16;
	CONC_RC(pt_cursor_open(&c, w->table, r.va, r.n * CONC_PAGE), 0);
	for (uint64_t i = 0; i < r.n; i++) {
		uint64_t va = r.va + i * CONC_PAGE;
		bool tracked = conc_chance(&k->rng, 50);
		struct pt_mapping item = { .va = va, .pa = va + CONC_UNTRACKED_OFF,
					   .size = CONC_PAGE, .prop = prop, .tracked = tracked };
		if (tracked)
			item.pa = my_frame(k);
		CONC_RC(pt_cursor_jump(&c, va), 0);
		CONC_RC(pt_cursor_map(&c, &item), w->pages[r.g0 + i].mapped ? PT_EEXIST : 0);
		if (!w->pages[r.g0 + i].mapped)
			model_set(w, r.g0 + i, item.pa, prop, tracked);
	}
	pt_cursor_close(&c);
	verify_run(k, &r, "after cursor map");
}

static void set_clear_op(struct pt_prop *p, void *arg)
{
	const struct set_clear *sc = arg;

	p->flags = (p->flags | sc->set) & ~sc->clear;
}

static void op_cursor_protect(struct cm_worker *k, struct run r)
{
	struct cm_world *w = k->w;
	struct set_clear sc = protections[conc_below(&k->rng, NR_PROTECTIONS)];
	struct pt_flush *flush = maybe_batch(k);
	struct pt_cursor c;
	uint64_t va, len;
	int err;

	CONC_RC(pt_cursor_open(&c, w->table, r.va, r.n * CONC_PAGE), 0);
	while ((err = pt_cursor_protect_next(&c, UINT64_MAX, set_clear_op, &sc, &va, &len,
					     flush)) == 0)
		CONC_CHECK(va >= r.va && va + len <= r.va + r.n * CONC_PAGE,
			   "protect_next reported [%#" PRIx64 ", +%#" PRIx64 ") outside "
			   "[%#" PRIx64 ", +%#" PRIx64 ")", va, len, r.va, r.n * CONC_PAGE);
	CONC_CHECK(err == PT_ENOENT, "protect_next: %s", pt_strerror(err));
	pt_cursor_close(&c);
	apply_protection(w, &r, sc);
	verify_run(k, &r, "after cursor protect_next");
}

/* find_next + query over the run: every mapped page found, every gap empty. */
static void op_cursor_read(struct cm_worker *k, struct run r)
{
	struct cm_world *w = k->w;
	uint64_t end = r.va + r.n * CONC_PAGE, at = r.va, va;
	struct pt_cursor c;
	struct pt_mapping m;

	CONC_RC(pt_cursor_open(&c, w->table, r.va, r.n * CONC_PAGE), 0);
	while (at < end && pt_cursor_find_next(&c, UINT64_MAX, &va) == 0) {
		for (; at < va; at += CONC_PAGE)
			CONC_CHECK(!w->pages[page_of(w, at)].mapped, "find_next skipped mapped "
				   "page %#" PRIx64 " (found %#" PRIx64 ")", at, va);
		CONC_RC(pt_cursor_query(&c, &m), 0);
		expect_page_in(w, page_of(w, va), &m, "cursor query");
		at = m.va + m.size;
		if (at >= end || pt_cursor_jump(&c, at) != 0)
			break;
	}
	for (; at < end; at += CONC_PAGE)
		CONC_CHECK(!w->pages[page_of(w, at)].mapped, "find_next missed mapped page %#"
			   PRIx64, at);
	pt_cursor_close(&c);
}

/* Every mapping in [va, va + len) is sane; own pages match the model. */
static void check_foreign_range(struct cm_worker *k, const struct pt_mapping *m)
{
	struct cm_world *w = k->w;
	char why[200];

	CONC_CHECK(conc_mapping_sane(m, &w->pool, why, sizeof(why)), "%s", why);
	for (uint64_t off = 0; off < m->size; off += CONC_PAGE) {
		size_t g = page_of(w, m->va + off);
		CONC_CHECK(g != SIZE_MAX, "mapping outside every window: %s",
			   conc_fmt_map(m, why, sizeof(why)));
		if (w->owner[g] == k->id)
			expect_page_in(w, g, m, "a neighbour's range");
	}
}

/* A cursor over a wider range than our run (neighbours' pages too: their
 * locks are ours for a while), doing one thing to our page inside. */
static void op_cursor_wide(struct cm_worker *k, struct run r)
{
	struct cm_world *w = k->w;
	unsigned wi = window_of(w, r.g0);
	uint64_t lo = w->win[wi].va, hi = lo + w->win[wi].npages * CONC_PAGE;
	uint64_t span = (1 + conc_below(&k->rng, 64)) * CONC_PAGE;
	uint64_t start = r.va - lo > span ? r.va - span : lo;
	uint64_t end = hi - r.va > 2 * span ? r.va + 2 * span : hi;
	struct pt_cursor c;
	struct pt_mapping m;
	uint64_t va;

	CONC_RC(pt_cursor_open(&c, w->table, start, end - start), 0);
	CONC_RC(pt_cursor_jump(&c, r.va), 0);
	if (w->pages[r.g0].mapped && conc_chance(&k->rng, 50)) {
		CONC_RC(pt_cursor_query(&c, &m), 0);
		expect_page_in(w, r.g0, &m, "wide cursor query");
	} else if (w->pages[r.g0].mapped) {
		struct pt_taken t;
		struct run one = { r.g0, 1, r.va };
		CONC_RC(pt_cursor_take_next(&c, CONC_PAGE, &t, NULL), 0);
		check_taken(w, &one, &t);
		w->pages[r.g0].mapped = false;
	} else {
		struct pt_mapping item = { .va = r.va, .pa = r.va + CONC_UNTRACKED_OFF,
					   .size = CONC_PAGE, .prop = props[0] };
		CONC_RC(pt_cursor_map(&c, &item), 0);
		model_set(w, r.g0, item.pa, item.prop, false);
	}
	CONC_RC(pt_cursor_jump(&c, start), 0);
	while (pt_cursor_find_next(&c, UINT64_MAX, &va) == 0) {
		CONC_RC(pt_cursor_query(&c, &m), 0);
		check_foreign_range(k, &m);
		if (m.va + m.size >= end || pt_cursor_jump(&c, m.va + m.size) != 0)
			break;
	}
	pt_cursor_close(&c);
	verify_page(w, r.g0, "after the wide cursor");
}

struct foreach_ctx {
	struct cm_worker *k;
	uint64_t next; /* leaves come in address order, never overlapping */
};

static int foreach_one(const struct pt_mapping *m, void *arg)
{
	struct foreach_ctx *f = arg;

	CONC_CHECK(m->va >= f->next, "for_each out of order: leaf at %#" PRIx64 " after %#"
		   PRIx64, m->va, f->next);
	f->next = m->va + m->size;
	check_foreign_range(f->k, m);
	return 0;
}

/* Lock-free iteration over part of a window, neighbours included. */
static void op_foreach(struct cm_worker *k, struct run r)
{
	struct cm_world *w = k->w;
	unsigned wi = window_of(w, r.g0);
	uint64_t n = 1 + conc_below(&k->rng, w->win[wi].npages);
	uint64_t first = conc_below(&k->rng, w->win[wi].npages - n + 1);
	struct foreach_ctx f = { k, 0 };

	CONC_RC(pt_for_each_mapping(w->table, w->win[wi].va + first * CONC_PAGE,
				    n * CONC_PAGE, foreach_one, &f), 0);
}

/* ---- the thread ---- */

static enum cm_op pick_op(struct cm_worker *k)
{
	static const unsigned weights[OP_COUNT] = { 16, 14, 3, 14, 10, 6, 5, 6, 5, 5, 6, 4, 4, 3 };
	unsigned total = 0, x;

	for (int i = 0; i < OP_COUNT; i++)
		total += weights[i];
	x = (unsigned)conc_below(&k->rng, total);
	for (int i = 0; i < OP_COUNT; i++) {
		if (x < weights[i])
			return (enum cm_op)i;
		x -= weights[i];
	}
	return OP_QUERY;
}

static void do_op(struct cm_worker *k, enum cm_op op)
{
	struct run r = pick_run(k);

	switch (op) {
	case OP_MAP: op_map(k, r); break;
	case OP_MAP_TRACKED: op_map_tracked(k, r); break;
	case OP_MAP_HUGE:
		if (k->nhuge)
			op_map_huge(k);
		else
			op_map(k, r);
		break;
	case OP_UNMAP: op_unmap(k, r); break;
	case OP_PROTECT: op_protect(k, r); break;
	case OP_QUERY: verify_run(k, &r, "query"); break;
	case OP_CURSOR_TAKE: op_cursor_take(k, r); break;
	case OP_CURSOR_MAP: op_cursor_map(k, r); break;
	case OP_CURSOR_PROTECT: op_cursor_protect(k, r); break;
	case OP_CURSOR_READ: op_cursor_read(k, r); break;
	case OP_CURSOR_WIDE: op_cursor_wide(k, r); break;
	case OP_FOREACH: op_foreach(k, r); break;
	case OP_HARVEST: op_harvest(k, r); break;
	case OP_SPLIT: op_split(k, r); break;
	default: break;
	}
	k->ops[op]++;
}

static void *worker_main(void *arg)
{
	struct cm_worker *k = arg;

	conc_start_line();
	for (uint64_t i = 0; i < k->w->iters; i++) {
		do_op(k, pick_op(k));
		settle_batch(k, false);
	}
	settle_batch(k, true); /* nothing may stay unreleased */
	return NULL;
}

/* ---- set-up and the checks after join ---- */

static void worker_init(struct cm_worker *k, struct cm_world *w, unsigned id)
{
	*k = (struct cm_worker){ .w = w, .id = id };
	conc_rng_init(&k->rng, w->seed, id);
	k->own = calloc(w->npages, sizeof(*k->own));
	k->huge = calloc(w->npages / 512 + 1, sizeof(*k->huge));
	CONC_CHECK(k->own && k->huge, "out of memory");
	for (size_t g = 0; g < w->npages; g++) {
		if (w->owner[g] != id)
			continue;
		k->own[k->nown++] = (uint32_t)g;
		/* A whole own 2M slot, aligned: a place for 2M leaves. */
		if ((va_of(w, g) & (CONC_2M - 1)) == 0 && w->run_end[g] - g + 1 >= 512)
			k->huge[k->nhuge++] = (uint32_t)g;
	}
	CONC_CHECK(k->nown > 0, "thread %u owns no page", id);
}

static void layout(struct cm_world *w, const struct cm_window *win, unsigned nwin,
		   cm_owner_fn owner)
{
	CONC_CHECK(nwin <= CM_MAX_WINDOWS, "too many windows");
	w->nwin = nwin;
	for (unsigned i = 0; i < nwin; i++) {
		w->win[i] = win[i];
		w->win_first[i + 1] = w->win_first[i] + win[i].npages;
	}
	w->npages = w->win_first[nwin];
	w->pages = calloc(w->npages, sizeof(*w->pages));
	w->owner = calloc(w->npages, 1);
	w->run_end = calloc(w->npages, sizeof(*w->run_end));
	CONC_CHECK(w->pages && w->owner && w->run_end, "out of memory");
	for (unsigned i = 0; i < nwin; i++)
		for (uint64_t j = 0; j < win[i].npages; j++)
			w->owner[w->win_first[i] + j] = (uint8_t)owner(i, j, w->nthreads);
	for (size_t g = w->npages; g-- > 0;) {
		bool joins = g + 1 < w->npages && w->owner[g + 1] == w->owner[g] &&
			     window_of(w, g + 1) == window_of(w, g);
		w->run_end[g] = joins ? w->run_end[g + 1] : (uint32_t)g;
	}
}

void cm_world_init(struct cm_world *w, const char *name, const char *format,
		   unsigned nthreads, const struct cm_window *win, unsigned nwin,
		   cm_owner_fn owner, uint64_t iters, unsigned max_run)
{
	struct pt_table_opts opts;

	*w = (struct cm_world){ .name = name, .nthreads = nthreads, .iters = iters,
				.max_run = max_run, .pool_frames = 16 };
	conc_set_name(name);
	w->tf = conc_format(format, &w->features);
	opts = (struct pt_table_opts){ .features = w->features, .live = format != NULL };
	w->seed = conc_seed();
	layout(w, win, nwin, owner);
	CONC_RC(pt_phys_create(PHYS_BYTES, &w->phys), 0);
	w->free_start = pt_phys_free_frames(w->phys);
	conc_frames_alloc(&w->pool, w->phys, w->pool_frames);
	w->free_before = pt_phys_free_frames(w->phys);
	CONC_RC(pt_table_create_opts(w->phys, w->tf->fmt, PT_SPACE_USER, &opts, &w->table), 0);
	printf("%s: %s, features %#x%s\n", name, w->tf->id, w->features,
	       opts.live ? ", live" : "");
}

/* The table's whole user half, page by page, against the merged models. */
static void expect_view_equals_models(struct cm_world *w)
{
	struct conc_view v;
	uint64_t seen = 0, want = 0;
	char buf[160];

	conc_view_collect(w->table, 0, w->tf->fmt->user_end, &v);
	for (size_t i = 0; i < v.nr; i++) {
		const struct pt_mapping *m = &v.maps[i];
		for (uint64_t off = 0; off < m->size; off += CONC_PAGE, seen++) {
			size_t g = page_of(w, m->va + off);
			CONC_CHECK(g != SIZE_MAX, "after join: a mapping nobody made: %s",
				   conc_fmt_map(m, buf, sizeof(buf)));
			expect_page_in(w, g, m, "after join");
		}
	}
	for (size_t g = 0; g < w->npages; g++)
		want += w->pages[g].mapped;
	CONC_CHECK(seen == want, "after join: the view has %" PRIu64 " pages, the models %"
		   PRIu64, seen, want);
	printf("%s: after join %zu leaves, %" PRIu64 " pages mapped\n", w->name, v.nr, seen);
	conc_view_free(&v);
}

static void expect_refcounts(struct cm_world *w)
{
	uint64_t *extra = calloc(w->pool.n, sizeof(*extra));

	CONC_CHECK(extra, "out of memory");
	for (size_t g = 0; g < w->npages; g++) {
		const struct cm_page *p = &w->pages[g];
		if (p->mapped && p->tracked) {
			long i = conc_frames_find(&w->pool, p->pa);
			CONC_CHECK(i >= 0, "model maps a frame outside the pool");
			extra[i]++;
		}
	}
	conc_frames_expect_refs(&w->pool, w->phys, extra, "after join");
	free(extra);
}

void cm_world_run(struct cm_world *w)
{
	struct cm_worker *k = calloc(w->nthreads, sizeof(*k));
	double t0 = conc_now();

	CONC_CHECK(k, "out of memory");
	for (unsigned i = 0; i < w->nthreads; i++)
		worker_init(&k[i], w, i);
	conc_run_threads(w->nthreads, worker_main, k, sizeof(*k));
	printf("%s: %u threads x %" PRIu64 " ops in %.2f s:", w->name, w->nthreads, w->iters,
	       conc_now() - t0);
	for (int op = 0; op < OP_COUNT; op++) {
		uint64_t n = 0;
		for (unsigned i = 0; i < w->nthreads; i++)
			n += k[i].ops[op];
		printf(" %s=%" PRIu64, op_names[op], n);
	}
	printf("\n");
	expect_view_equals_models(w);
	conc_expect_check(w->table, "after join");
	expect_refcounts(w);
	for (unsigned i = 0; i < w->nthreads; i++) {
		free(k[i].own);
		free(k[i].huge);
	}
	free(k);
}

void cm_world_finish(struct cm_world *w)
{
	conc_destroy_expect_free(w->table, w->phys, w->free_before);
	conc_frames_expect_refs(&w->pool, w->phys, NULL, "after destroy");
	conc_frames_put(&w->pool, w->phys);
	CONC_CHECK(pt_phys_free_frames(w->phys) == w->free_start,
		   "the pool's frames did not all come back");
	pt_phys_destroy(w->phys);
	free(w->pages);
	free(w->owner);
	free(w->run_end);
}
