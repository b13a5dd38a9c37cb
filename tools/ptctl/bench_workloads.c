/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bench_workloads.c - the single-thread workloads of `ptctl bench`.
 *
 * A workload is one phase of a scenario; the workloads that share a
 * scenario share its rounds.  A workload's figure is the median over
 * rounds of ns per operation.  The sides' rounds are interleaved (ptkit
 * and nosync take turns going first), and the sync overhead is the median
 * over rounds of each round's ptkit/nosync ratio.
 */
#include <string.h>

#include "bench.h"

static const struct pb_scenario pb_sc_4k = {
	.kind = PB_SWEEP, .page = PB_4K, .per_call = 1, .calls = 1 << 18,
	.rounds = 15, .quick_per_call = 1, .quick_calls = 1 << 14,
};
/* 1 GiB in one call, forced to 4K pages.  A call is short, so take many
 * rounds; --quick keeps the whole 1 GiB because unmapping it frees the
 * level-2 subtree, which a smaller range would not. */
static const struct pb_scenario pb_sc_bulk = {
	.kind = PB_SWEEP, .page = PB_4K, .per_call = 1 << 18, .calls = 1,
	.max_leaf_level = 1, .rounds = PB_MAX_ROUNDS, .quick_per_call = 1 << 18,
	.quick_calls = 1,
};
/* A round is short, so take many. */
static const struct pb_scenario pb_sc_2m = {
	.kind = PB_SWEEP, .page = PB_2M, .per_call = 1, .calls = 512,
	.rounds = PB_MAX_ROUNDS, .quick_per_call = 1, .quick_calls = 64,
};
static const struct pb_scenario pb_sc_cycle_1x4k = {
	.kind = PB_CYCLE, .page = PB_4K, .per_call = 1, .calls = 10000,
	.rounds = 15, .quick_per_call = 1, .quick_calls = 1000,
};
static const struct pb_scenario pb_sc_cycle_256x4k = {
	.kind = PB_CYCLE, .page = PB_4K, .per_call = 256, .calls = 10000,
	.rounds = 15, .quick_per_call = 256, .quick_calls = 500,
};
/* One pt_map call of 512 MiB, 2M-aligned: 256 separate 2M leaves. */
static const struct pb_scenario pb_sc_cycle_256x2m = {
	.kind = PB_CYCLE, .page = PB_2M, .per_call = 256, .calls = 10000,
	.max_leaf_level = 2, .rounds = 15, .quick_per_call = 256,
	.quick_calls = 500,
};

/* 256 pages in one call, as Linux's generic_pt series reports iommu_map
 * and iommu_unmap: each call a range of its own, so a map call allocates
 * the node its range half-fills every other call, and an unmap frees none
 * (it empties half a node).  A round takes a few ms at most, so --quick
 * keeps all the calls (one round). */
static const struct pb_scenario pb_sc_256x4k = {
	.kind = PB_SWEEP, .page = PB_4K, .per_call = 256, .calls = 2048,
	.per_call_op = true, .rounds = 15, .quick_per_call = 256,
	.quick_calls = 2048,
};
/* 512 calls of 512M: 256 GiB, under one level-3 node. */
static const struct pb_scenario pb_sc_256x2m = {
	.kind = PB_SWEEP, .page = PB_2M, .per_call = 256, .calls = 512,
	.per_call_op = true, .max_leaf_level = 2, .rounds = 15,
	.quick_per_call = 256, .quick_calls = 512,
};
/* 128 calls of 256G: 32 TiB of VA and of untracked PA (PB_VA leaves room
 * for 256).  A round is short, so take many. */
static const struct pb_scenario pb_sc_256x1g = {
	.kind = PB_SWEEP, .page = PB_1G, .per_call = 256, .calls = 128,
	.per_call_op = true, .rounds = PB_MAX_ROUNDS, .quick_per_call = 256,
	.quick_calls = 128,
};
/* Random-order faults: PB_RAND_PAGES distinct 4K pages of a 64 GiB window
 * (1/256 of its pages, so ~87% of its 2M slots get a page and ~43% of the
 * maps allocate a leaf node).  --quick keeps all of them, as fewer pages
 * would allocate on nearly every map.  Both powers of two (pb_scramble). */
#define PB_RAND_PAGES (UINT64_C(1) << 16)
#define PB_RAND_WINDOW (UINT64_C(64) << 30)
static const struct pb_scenario pb_sc_random4k = {
	.kind = PB_RANDOM, .page = PB_4K, .per_call = 1, .calls = PB_RAND_PAGES,
	.window = PB_RAND_WINDOW, .rounds = 15,
	.quick_per_call = 1, .quick_calls = PB_RAND_PAGES,
};

const struct pb_workload pb_workloads[] = {
	{ "map4k", "pt_map of one 4K page", &pb_sc_4k, PB_PH_MAP },
	{ "query4k", "pt_query of one 4K page", &pb_sc_4k, PB_PH_QUERY },
	{ "unmap4k", "pt_unmap of one 4K page", &pb_sc_4k, PB_PH_UNMAP },
	{ "bulk_map4k", "a 4K page of one 1G pt_map call", &pb_sc_bulk, PB_PH_MAP },
	{ "bulk_unmap4k", "a 4K page of one 1G pt_unmap call", &pb_sc_bulk,
	  PB_PH_UNMAP },
	{ "cycle_1x4k", "pt_map + pt_unmap of 4K", &pb_sc_cycle_1x4k, PB_PH_CYCLE },
	{ "cycle_256x4k", "pt_map + pt_unmap of 1M (256 4K)", &pb_sc_cycle_256x4k,
	  PB_PH_CYCLE },
	{ "cycle_256x2m", "pt_map + pt_unmap of 512M (256 2M)", &pb_sc_cycle_256x2m,
	  PB_PH_CYCLE },
	{ "map2m", "pt_map of one 2M page", &pb_sc_2m, PB_PH_MAP },
	{ "unmap2m", "pt_unmap of one 2M page", &pb_sc_2m, PB_PH_UNMAP },
	{ "map_256x4k", "pt_map of 1M (256 4K)", &pb_sc_256x4k, PB_PH_MAP },
	{ "unmap_256x4k", "pt_unmap of 1M (256 4K)", &pb_sc_256x4k,
	  PB_PH_UNMAP },
	{ "map_256x2m", "pt_map of 512M (256 2M)", &pb_sc_256x2m, PB_PH_MAP },
	{ "unmap_256x2m", "pt_unmap of 512M (256 2M)", &pb_sc_256x2m,
	  PB_PH_UNMAP },
	{ "map_256x1g", "pt_map of 256G (256 1G)", &pb_sc_256x1g, PB_PH_MAP },
	{ "unmap_256x1g", "pt_unmap of 256G (256 1G)", &pb_sc_256x1g,
	  PB_PH_UNMAP },
	{ "fault_random4k", "pt_map of one 4K page, random order in 64G",
	  &pb_sc_random4k, PB_PH_MAP },
	{ "unmap_random4k", "pt_unmap of one 4K page, another random order",
	  &pb_sc_random4k, PB_PH_UNMAP },
};

/* bench.h sizes the result arrays with PB_NR_WORKLOADS. */
_Static_assert(sizeof(pb_workloads) / sizeof(pb_workloads[0]) == PB_NR_WORKLOADS,
	       "PB_NR_WORKLOADS is not the number of workloads");

static bool pb_selected(const struct pb_opts *o, size_t w)
{
	return !o->workload || !strcmp(o->workload, pb_workloads[w].name);
}

/* Operations per round that phase p's time is divided by. */
static uint64_t pb_ops(const struct pb_run *r, enum pb_phase p)
{
	if (r->sc->kind == PB_CYCLE ||
	    (r->sc->per_call_op && p != PB_PH_QUERY))
		return r->calls;
	return r->calls * r->per_call;
}

/* A bijection of [0, 2^bits), picked by seed: each step (xor, multiply by
 * an odd number, xor with a right shift) is invertible modulo 2^bits. */
static uint64_t pb_scramble(uint64_t x, unsigned bits, uint64_t seed)
{
	uint64_t mask = (UINT64_C(1) << bits) - 1;
	unsigned k;

	for (k = 0; k < 4; k++) {
		x = ((x ^ seed) * UINT64_C(0x9e3779b97f4a7c15)) & mask;
		x ^= x >> (bits / 2);
		seed = seed * UINT64_C(6364136223846793005) +
		       UINT64_C(1442695040888963407);
	}
	return x;
}

static unsigned pb_log2(uint64_t v)
{
	return 63 - (unsigned)__builtin_clzll(v);
}

/* A RANDOM run's orders, the same on every side and in every run: the
 * map phase's k-th page is page P(k) of the window, the unmap phase's k-th
 * is the map phase's Q(k)-th, P and Q fixed bijections (pb_scramble), so
 * the pages are distinct and each is unmapped once.  Made before any
 * round, so no measured loop pays for them. */
static void pb_make_orders(struct pb_run *r)
{
	static uint64_t off[2][PB_RAND_PAGES];
	unsigned wbits = pb_log2(r->sc->window / r->sc->page);
	unsigned nbits = pb_log2(r->calls);
	uint64_t k;

	_Static_assert(!(PB_RAND_PAGES & (PB_RAND_PAGES - 1)) &&
		       !((PB_RAND_WINDOW / PB_4K) & (PB_RAND_WINDOW / PB_4K - 1)),
		       "pb_scramble needs powers of two");
	for (k = 0; k < r->calls; k++)
		off[0][k] = pb_scramble(k, wbits, UINT64_C(0x5eed0001)) *
			    r->sc->page;
	for (k = 0; k < r->calls; k++)
		off[1][k] = off[0][pb_scramble(k, nbits, UINT64_C(0x5eed0002))];
	r->order[0] = off[0];
	r->order[1] = off[1];
}

static struct pb_run pb_plan(const struct pb_opts *o, const struct pb_scenario *sc)
{
	struct pb_run r = {
		.sc = sc,
		.per_call = o->quick ? sc->quick_per_call : sc->per_call,
		.calls = o->quick ? sc->quick_calls : sc->calls,
		.rounds = o->quick ? 1 : sc->rounds,
	};
	size_t w;

	for (w = 0; w < PB_NR_WORKLOADS; w++)
		if (pb_workloads[w].sc == sc && pb_selected(o, w))
			r.want[pb_workloads[w].phase] = true;
	return r;
}

/* At most the nodes a round's table holds at once: the root and, at each
 * level from the leaves' up to 3, no more nodes than leaves nor than the
 * mapped span crosses (page << 9: what a node of leaves covers). */
static uint64_t pb_nodes(const struct pb_run *r)
{
	const struct pb_scenario *sc = r->sc;
	uint64_t leaves = sc->kind == PB_CYCLE ? r->per_call
					       : r->calls * r->per_call;
	uint64_t span = sc->kind == PB_RANDOM ? sc->window : leaves * sc->page;
	uint64_t n = 1, cover, k;

	for (cover = sc->page << 9; cover <= UINT64_C(1) << 39; cover <<= 9) {
		k = span / cover + 2;
		n += k < leaves ? k : leaves;
	}
	return n;
}

uint64_t pb_arena_bytes(const struct pb_opts *o)
{
	uint64_t bytes = PB_ARENA, need;
	size_t w;

	for (w = 0; w < PB_NR_WORKLOADS; w++) {
		struct pb_run r;

		if (!pb_selected(o, w))
			continue;
		r = pb_plan(o, pb_workloads[w].sc);
		/* An eighth more, for what the bound may have missed. */
		need = pb_nodes(&r);
		need = (need + need / 8) * PB_4K;
		if (need > bytes)
			bytes = need;
	}
	/* The mappings' untracked PAs start above it. */
	return bytes < PB_PA ? bytes : PB_PA;
}

/* Round i of every selected side: ptkit and nosync take turns going first
 * (so neither always inherits the other's cache state), bare last. */
static const enum pb_side_id pb_order[2][PB_NR_SIDES] = {
	{ PB_SIDE_PTKIT, PB_SIDE_NOSYNC, PB_SIDE_BARE },
	{ PB_SIDE_NOSYNC, PB_SIDE_PTKIT, PB_SIDE_BARE },
};

static int pb_run_rounds(struct pb_env *e, const struct pb_opts *o,
			 const struct pb_run *r,
			 uint64_t ns[PB_NR_SIDES][PB_NR_PHASES][PB_MAX_ROUNDS])
{
	unsigned i, k;

	for (i = 0; i < r->rounds; i++)
		for (k = 0; k < PB_NR_SIDES; k++) {
			enum pb_side_id s = pb_order[i % 2][k];

			if (o->side[s] && pb_round_fns[s](e->side_env[s], r, i, ns[s]))
				return -1;
		}
	return 0;
}

/* The median of the rounds' ptkit/nosync ratios of phase p (each round's
 * pair ran back to back), in percent above 1; 0 if nosync did not run. */
static double pb_overhead(uint64_t ns[PB_NR_SIDES][PB_NR_PHASES][PB_MAX_ROUNDS],
			  const struct pb_run *r, enum pb_phase p)
{
	double ratio[PB_MAX_ROUNDS];
	unsigned i, n;

	for (i = n = 0; i < r->rounds; i++)
		if (ns[PB_SIDE_NOSYNC][p][i])
			ratio[n++] = (double)ns[PB_SIDE_PTKIT][p][i] /
				     (double)ns[PB_SIDE_NOSYNC][p][i];
	return n ? (pb_median(ratio, n) - 1) * 100 : 0;
}

/* The rounds of one scenario, interleaved across the sides: per_op[side]
 * [phase] is the median ns per operation, overhead[phase] the sync
 * overhead (pb_overhead). */
static int pb_run_scenario(struct pb_env *e, const struct pb_opts *o,
			   const struct pb_run *r,
			   double per_op[PB_NR_SIDES][PB_NR_PHASES],
			   double overhead[PB_NR_PHASES])
{
	static uint64_t ns[PB_NR_SIDES][PB_NR_PHASES][PB_MAX_ROUNDS];
	unsigned k, p;

	memset(ns, 0, sizeof(ns));
	if (pb_run_rounds(e, o, r, ns))
		return -1;
	for (p = 0; p < PB_NR_PHASES; p++) {
		overhead[p] = pb_overhead(ns, r, p);
		for (k = 0; k < PB_NR_SIDES; k++)
			per_op[k][p] = pb_median_ns(ns[k][p], r->rounds) /
				       (double)pb_ops(r, p);
	}
	return 0;
}

/* Hands a scenario's figures to every selected workload that is a phase
 * of it. */
static void pb_store(const struct pb_opts *o, const struct pb_run *r,
		     double per_op[PB_NR_SIDES][PB_NR_PHASES],
		     const double overhead[PB_NR_PHASES], struct pb_result res[])
{
	size_t w;
	unsigned k;

	for (w = 0; w < PB_NR_WORKLOADS; w++) {
		enum pb_phase ph = pb_workloads[w].phase;

		if (pb_workloads[w].sc != r->sc || !pb_selected(o, w))
			continue;
		res[w].ran = true;
		for (k = 0; k < PB_NR_SIDES; k++)
			res[w].ns[k] = per_op[k][ph];
		res[w].overhead_pct = overhead[ph];
		res[w].ops = pb_ops(r, ph);
		res[w].rounds = r->rounds;
	}
}

/* Runs each selected workload's scenario once, for every selected workload
 * that shares it. */
int pb_run_all(struct pb_env *e, const struct pb_opts *o, struct pb_result res[])
{
	double per_op[PB_NR_SIDES][PB_NR_PHASES], overhead[PB_NR_PHASES];
	struct pb_run r;
	size_t w;

	for (w = 0; w < PB_NR_WORKLOADS; w++) {
		if (!pb_selected(o, w) || res[w].ran)
			continue;
		r = pb_plan(o, pb_workloads[w].sc);
		if (r.sc->kind == PB_RANDOM)
			pb_make_orders(&r);
		if (pb_run_scenario(e, o, &r, per_op, overhead))
			return -1;
		pb_store(o, &r, per_op, overhead, res);
	}
	return 0;
}
