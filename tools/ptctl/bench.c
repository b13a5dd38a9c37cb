/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bench.c - ptctl bench: each workload on ptkit and on the bare reference.
 *
 * Both sides run the same loops on an x86-64 user table: the same VAs, PAs,
 * page sizes and PTE bits (the bare side gets its leaf and table bits from
 * ptkit's format).  The loops are written once and inlined into one copy
 * per side, so every call in a measured loop is a direct call.
 *
 * A round makes a fresh table, runs the scenario's phases, each timed with
 * CLOCK_MONOTONIC, and destroys the table (untimed).  A workload's figure is
 * the median over rounds of ns per operation.  Mappings are untracked (the
 * PAs need no RAM), unmaps pass a NULL flush batch (ptkit invalidates and
 * releases before returning; the hosted invalidation is a no-op), and the
 * arenas hold only page-table nodes.
 *
 * A third side, "nosync", runs ptkit's own engine compiled without node
 * locks and RCU read sections (src/formats/x86_64_nosync.c, PT_NO_SYNC,
 * built into ptctl only) on a phys of its own: the difference is what the
 * concurrency protocol costs one thread.  The sides' rounds are interleaved
 * (ptkit and nosync take turns going first), and the overhead is the median
 * over rounds of each round's ptkit/nosync ratio.
 *
 * Under valgrind only the loops of the selected workloads are instrumented
 * (callgrind client requests, when <valgrind/callgrind.h> was found at
 * build time), so bench/callgrind.sh can count instructions per operation.
 *
 * The parallel workloads (par_*) run ptkit only, with 1 and N threads
 * (--threads, default 2) started together on one table, each for a fixed
 * short time; the figure is the total throughput of all threads (ops/us),
 * the median over a few interleaved runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bare.h"
#include "ptctl.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define PB_CG_START() CALLGRIND_START_INSTRUMENTATION
#define PB_CG_STOP() CALLGRIND_STOP_INSTRUMENTATION
#endif
#endif
#ifndef PB_CG_START
#define PB_CG_START() ((void)0)
#define PB_CG_STOP() ((void)0)
#endif

#define PB_INLINE static inline __attribute__((always_inline))

#define PB_4K (UINT64_C(1) << 12)
#define PB_2M (UINT64_C(1) << 21)
/* 64 TiB: 512 GiB aligned, so every workload fits under one level-3 node. */
#define PB_VA (UINT64_C(1) << 46)
/* 4 GiB: 1 GiB aligned and outside both arenas (untracked maps need no RAM). */
#define PB_PA (UINT64_C(1) << 32)
/* Page-table nodes only: the largest workload needs ~515 per round. */
#define PB_ARENA (UINT64_C(32) << 20)
#define PB_MAX_ROUNDS 31

/* The engine without node locks and RCU (src/formats/x86_64_nosync.c). */
extern const struct pt_format pt__format_x86_64_nosync;

enum pb_kind {
	PB_SWEEP, /* map every call's range, query every page, unmap every range */
	PB_CYCLE, /* map then unmap the same range, again and again */
};

enum pb_phase { PB_PH_MAP, PB_PH_QUERY, PB_PH_UNMAP, PB_PH_CYCLE, PB_NR_PHASES };

struct pb_scenario {
	enum pb_kind kind;
	uint64_t page;           /* leaf size */
	uint64_t per_call;       /* pages per map or unmap call */
	uint64_t calls;          /* SWEEP: map calls per round; CYCLE: cycles */
	unsigned max_leaf_level; /* 0: the format's highest */
	unsigned rounds;
	uint64_t quick_per_call, quick_calls; /* --quick: one round of these */
};

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

struct pb_workload {
	const char *name;
	const char *op; /* what one operation is */
	const struct pb_scenario *sc;
	enum pb_phase phase;
};

static const struct pb_workload pb_workloads[] = {
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
};

#define PB_NR_WORKLOADS (sizeof(pb_workloads) / sizeof(pb_workloads[0]))

/* The parallel workloads: one table, many threads, ptkit only. */
enum pb_par_kind {
	PB_PAR_DISJOINT, /* thread t sweeps its own 2M slot: map, then unmap */
	PB_PAR_SHARED,   /* thread t sweeps pages t, t+N, ... of one 2M */
	PB_PAR_QUERY,    /* 90% query anywhere, 10% unmap/remap in its part */
};

struct pb_par_workload {
	const char *name;
	const char *op;
	enum pb_par_kind kind;
};

static const struct pb_par_workload pb_par_workloads[] = {
	{ "par_disjoint", "pt_map or pt_unmap of 4K, own 2M slot per thread",
	  PB_PAR_DISJOINT },
	{ "par_shared", "pt_map or pt_unmap of 4K, threads interleaved in one 2M",
	  PB_PAR_SHARED },
	{ "par_query", "90% pt_query in a shared 16M, 10% pt_map/pt_unmap of 4K",
	  PB_PAR_QUERY },
};

#define PB_NR_PAR (sizeof(pb_par_workloads) / sizeof(pb_par_workloads[0]))
#define PB_PAR_MAX_THREADS 64
/* par_query's region: 16 MiB of 4K pages, eight leaf tables. */
#define PB_PAR_QUERY_PAGES 4096u
/* Runs per point (a workload at a thread count) and how long each lasts. */
#define PB_PAR_REPS 7
#define PB_PAR_RUN_NS UINT64_C(100000000)
#define PB_PAR_QUICK_RUN_NS UINT64_C(20000000)
/* The reference that shares nothing runs for half of that. */
#define PB_PAR_REF_DIV 2

/* A scenario as one invocation runs it. */
struct pb_run {
	const struct pb_scenario *sc;
	uint64_t per_call, calls;
	unsigned rounds;
	bool want[PB_NR_PHASES]; /* a selected workload reports this phase */
};

/* One side of the comparison.  The instances are static const, so once the
 * loops are inlined with them the compiler calls map/unmap/query directly. */
struct pb_side {
	const char *name;
	int (*open)(void *env, unsigned max_leaf_level, void **table);
	int (*close)(void *table);
	int (*map)(void *table, uint64_t va, uint64_t pa, uint64_t len);
	int (*unmap)(void *table, uint64_t va, uint64_t len);
	int (*query)(void *table, uint64_t va);
	const char *(*strerror)(int err);
};

enum pb_side_id { PB_SIDE_PTKIT, PB_SIDE_NOSYNC, PB_SIDE_BARE, PB_NR_SIDES };

static const struct pt_prop pb_prop = { PT_R | PT_W | PT_U, PT_CACHE_WB };

static int pb_pk_open_fmt(void *env, const struct pt_format *fmt,
			  unsigned max_leaf_level, void **table)
{
	struct pt_table_opts opts = { .max_leaf_level = max_leaf_level };
	struct pt_table *t = NULL;
	int rc = pt_table_create_opts(env, fmt, PT_SPACE_USER, &opts, &t);

	*table = t;
	return rc;
}

static int pb_pk_open(void *env, unsigned max_leaf_level, void **table)
{
	return pb_pk_open_fmt(env, &pt_format_x86_64, max_leaf_level, table);
}

static int pb_nk_open(void *env, unsigned max_leaf_level, void **table)
{
	return pb_pk_open_fmt(env, &pt__format_x86_64_nosync, max_leaf_level,
			      table);
}

/* Untimed: nodes an unmap removed come back after a grace period, so wait
 * for them, or a run of short rounds exhausts the arena. */
static int pb_pk_close(void *table)
{
	struct pt_phys *phys = pt_table_phys(table);
	int rc = pt_table_destroy(table);

	pt_phys_barrier(phys);
	return rc;
}

static int pb_pk_map(void *table, uint64_t va, uint64_t pa, uint64_t len)
{
	return pt_map(table, va, pa, len, pb_prop);
}

static int pb_pk_unmap(void *table, uint64_t va, uint64_t len)
{
	return pt_unmap(table, va, len, NULL);
}

static int pb_pk_query(void *table, uint64_t va)
{
	struct pt_mapping m;

	return pt_query(table, va, &m);
}

static const struct pb_side pb_ptkit = {
	"ptkit", pb_pk_open, pb_pk_close, pb_pk_map, pb_pk_unmap, pb_pk_query,
	pt_strerror,
};

/* The same calls: the format's ops pick the engine instance. */
static const struct pb_side pb_nosync = {
	"nosync", pb_nk_open, pb_pk_close, pb_pk_map, pb_pk_unmap, pb_pk_query,
	pt_strerror,
};

/* The bare side's state: one arena, one table at a time. */
struct pb_bare_env {
	struct bare_arena arena;
	struct bare_format fmt;
	struct bare_table table;
};

static int pb_bw_open(void *env, unsigned max_leaf_level, void **table)
{
	struct pb_bare_env *e = env;
	struct bare_format fmt = e->fmt;

	if (max_leaf_level)
		fmt.max_leaf_level = max_leaf_level;
	*table = &e->table;
	return bare_table_init(&e->table, &e->arena, &fmt);
}

static int pb_bw_close(void *table)
{
	bare_table_fini(table);
	return 0;
}

static int pb_bw_map(void *table, uint64_t va, uint64_t pa, uint64_t len)
{
	return bare_map(table, va, pa, len);
}

static int pb_bw_unmap(void *table, uint64_t va, uint64_t len)
{
	bare_unmap(table, va, len);
	return 0;
}

static int pb_bw_query(void *table, uint64_t va)
{
	uint64_t pa, size;

	return bare_query(table, va, &pa, &size);
}

static const struct pb_side pb_bare = {
	"bare", pb_bw_open, pb_bw_close, pb_bw_map, pb_bw_unmap, pb_bw_query,
	bare_strerror,
};

static uint64_t pb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t pb_begin(bool instrument)
{
	if (instrument)
		PB_CG_START();
	return pb_now();
}

static uint64_t pb_end(bool instrument, uint64_t t0)
{
	uint64_t ns = pb_now() - t0;

	if (instrument)
		PB_CG_STOP();
	return ns;
}

/* Runs `call` as phase `ph` of round `i`: timed, and instrumented if the
 * phase is wanted.  Evaluates to call's result. */
#define PB_TIMED(r, ns, ph, i, call) ({					\
	uint64_t t0_ = pb_begin((r)->want[ph]);				\
	int rc_ = (call);						\
	(ns)[ph][i] = pb_end((r)->want[ph], t0_);			\
	rc_;								\
})

static int pb_fail(const struct pb_side *s, const char *what, int rc)
{
	fprintf(stderr, "ptctl bench: %s: %s: %s\n", s->name, what, s->strerror(rc));
	return rc;
}

PB_INLINE int pb_map_all(const struct pb_side *s, void *t, uint64_t step,
			 uint64_t calls)
{
	uint64_t i;
	int rc;

	for (i = 0; i < calls; i++)
		if ((rc = s->map(t, PB_VA + i * step, PB_PA + i * step, step)))
			return rc;
	return 0;
}

PB_INLINE int pb_query_all(const struct pb_side *s, void *t, uint64_t page,
			   uint64_t pages)
{
	uint64_t i;
	int rc;

	for (i = 0; i < pages; i++)
		if ((rc = s->query(t, PB_VA + i * page)))
			return rc;
	return 0;
}

PB_INLINE int pb_unmap_all(const struct pb_side *s, void *t, uint64_t step,
			   uint64_t calls)
{
	uint64_t i;
	int rc;

	for (i = 0; i < calls; i++)
		if ((rc = s->unmap(t, PB_VA + i * step, step)))
			return rc;
	return 0;
}

PB_INLINE int pb_cycles(const struct pb_side *s, void *t, uint64_t len,
			uint64_t cycles)
{
	uint64_t i;
	int rc;

	for (i = 0; i < cycles; i++)
		if ((rc = s->map(t, PB_VA, PB_PA, len)) ||
		    (rc = s->unmap(t, PB_VA, len)))
			return rc;
	return 0;
}

PB_INLINE int pb_sweep(const struct pb_side *s, void *t, const struct pb_run *r,
		       unsigned i, uint64_t ns[][PB_MAX_ROUNDS])
{
	uint64_t step = r->sc->page * r->per_call;
	int rc;

	if ((rc = PB_TIMED(r, ns, PB_PH_MAP, i, pb_map_all(s, t, step, r->calls))))
		return pb_fail(s, "map", rc);
	if (r->want[PB_PH_QUERY] &&
	    (rc = PB_TIMED(r, ns, PB_PH_QUERY, i,
			   pb_query_all(s, t, r->sc->page, r->calls * r->per_call))))
		return pb_fail(s, "query", rc);
	if ((rc = PB_TIMED(r, ns, PB_PH_UNMAP, i, pb_unmap_all(s, t, step, r->calls))))
		return pb_fail(s, "unmap", rc);
	return 0;
}

/* One round on a fresh table; only the phases are timed. */
PB_INLINE int pb_round(const struct pb_side *s, void *env, const struct pb_run *r,
		       unsigned i, uint64_t ns[][PB_MAX_ROUNDS])
{
	uint64_t len = r->sc->page * r->per_call;
	void *t;
	int rc, err;

	if ((rc = s->open(env, r->sc->max_leaf_level, &t)))
		return pb_fail(s, "create table", rc);
	if (r->sc->kind == PB_SWEEP)
		rc = pb_sweep(s, t, r, i, ns);
	else if ((rc = PB_TIMED(r, ns, PB_PH_CYCLE, i,
				pb_cycles(s, t, len, r->calls))))
		rc = pb_fail(s, "cycle", rc);
	if ((err = s->close(t)) && !rc)
		rc = pb_fail(s, "destroy table", err);
	return rc;
}

/* The instances of the loops, one per side. */
typedef int pb_round_fn(void *env, const struct pb_run *r, unsigned i,
			uint64_t ns[][PB_MAX_ROUNDS]);

static int pb_round_ptkit(void *env, const struct pb_run *r, unsigned i,
			  uint64_t ns[][PB_MAX_ROUNDS])
{
	return pb_round(&pb_ptkit, env, r, i, ns);
}

static int pb_round_nosync(void *env, const struct pb_run *r, unsigned i,
			   uint64_t ns[][PB_MAX_ROUNDS])
{
	return pb_round(&pb_nosync, env, r, i, ns);
}

static int pb_round_bare(void *env, const struct pb_run *r, unsigned i,
			 uint64_t ns[][PB_MAX_ROUNDS])
{
	return pb_round(&pb_bare, env, r, i, ns);
}

static pb_round_fn *const pb_round_fns[PB_NR_SIDES] = {
	pb_round_ptkit, pb_round_nosync, pb_round_bare,
};

static int pb_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int pb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pb_median(uint64_t *v, unsigned n)
{
	qsort(v, n, sizeof(*v), pb_cmp_u64);
	return n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static double pb_median_double(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), pb_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Operations per round that a phase's time is divided by. */
static uint64_t pb_ops(const struct pb_run *r)
{
	return r->sc->kind == PB_CYCLE ? r->calls : r->calls * r->per_call;
}

struct pb_opts {
	bool json, quick, list;
	bool side[PB_NR_SIDES]; /* sides to run */
	const char *workload;   /* NULL: all */
	unsigned threads;       /* par_*: 1 and this many */
};

struct pb_result {
	bool ran;
	double ns[PB_NR_SIDES]; /* per operation */
	double overhead_pct;    /* ptkit over nosync, median of the rounds */
	uint64_t ops;           /* per round */
	unsigned rounds;
};

struct pb_par_result {
	bool ran;
	double ops_per_us[2]; /* 1 thread, opts.threads threads */
	double ref[2];        /* the same for the reference (arbitrary ops) */
};

static bool pb_selected(const struct pb_opts *o, size_t w)
{
	return !o->workload || !strcmp(o->workload, pb_workloads[w].name);
}

static bool pb_par_selected(const struct pb_opts *o, size_t w)
{
	return o->side[PB_SIDE_PTKIT] &&
	       (!o->workload || !strcmp(o->workload, pb_par_workloads[w].name));
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

struct pb_env {
	struct pt_phys *phys;        /* ptkit, and the parallel workloads */
	struct pt_phys *phys_nosync; /* nosync: its own arena */
	struct pb_bare_env bare;
	void *side_env[PB_NR_SIDES];
};

/* The bare table writes the very bits ptkit's x86-64 format produces. */
static int pb_bare_format(struct bare_format *bf)
{
	const struct pt_format *f = &pt_format_x86_64;
	unsigned l;
	int rc;

	for (l = 1; l <= f->max_leaf_level; l++)
		if ((rc = f->encode_leaf(0, l, pb_prop, false, 0, &bf->leaf_bits[l])))
			return rc;
	bf->table_bits = f->encode_table(0);
	bf->max_leaf_level = f->max_leaf_level;
	return 0;
}

static int pb_env_init(struct pb_env *e, const struct pb_opts *o)
{
	int rc;

	memset(e, 0, sizeof(*e));
	if (o->side[PB_SIDE_PTKIT] && (rc = pt_phys_create(PB_ARENA, &e->phys)))
		return pb_fail(&pb_ptkit, "pt_phys_create", rc);
	if (o->side[PB_SIDE_NOSYNC] &&
	    (rc = pt_phys_create(PB_ARENA, &e->phys_nosync)))
		return pb_fail(&pb_nosync, "pt_phys_create", rc);
	if (o->side[PB_SIDE_BARE] && (rc = pb_bare_format(&e->bare.fmt)))
		return pb_fail(&pb_ptkit, "encode_leaf", rc);
	if (o->side[PB_SIDE_BARE] &&
	    (rc = bare_arena_init(&e->bare.arena, PB_ARENA)))
		return pb_fail(&pb_bare, "arena", rc);
	e->side_env[PB_SIDE_PTKIT] = e->phys;
	e->side_env[PB_SIDE_NOSYNC] = e->phys_nosync;
	e->side_env[PB_SIDE_BARE] = &e->bare;
	return 0;
}

static void pb_env_fini(struct pb_env *e)
{
	if (e->phys)
		pt_phys_destroy(e->phys);
	if (e->phys_nosync)
		pt_phys_destroy(e->phys_nosync);
	bare_arena_fini(&e->bare.arena);
}

/* Round i of every selected side: ptkit and nosync take turns going first
 * (so neither always inherits the other's cache state), bare last. */
static const enum pb_side_id pb_order[2][PB_NR_SIDES] = {
	{ PB_SIDE_PTKIT, PB_SIDE_NOSYNC, PB_SIDE_BARE },
	{ PB_SIDE_NOSYNC, PB_SIDE_PTKIT, PB_SIDE_BARE },
};

/* The rounds of one scenario, interleaved across the sides: per_op[side]
 * [phase] is the median ns per operation, overhead[phase] the median of
 * the rounds' ptkit/nosync ratios, in percent above 1. */
static int pb_run_scenario(struct pb_env *e, const struct pb_opts *o,
			   const struct pb_run *r,
			   double per_op[PB_NR_SIDES][PB_NR_PHASES],
			   double overhead[PB_NR_PHASES])
{
	static uint64_t ns[PB_NR_SIDES][PB_NR_PHASES][PB_MAX_ROUNDS];
	double ratio[PB_MAX_ROUNDS];
	unsigned i, k, p, n;

	memset(ns, 0, sizeof(ns));
	for (i = 0; i < r->rounds; i++)
		for (k = 0; k < PB_NR_SIDES; k++) {
			enum pb_side_id s = pb_order[i % 2][k];

			if (o->side[s] && pb_round_fns[s](e->side_env[s], r, i, ns[s]))
				return -1;
		}
	for (p = 0; p < PB_NR_PHASES; p++) {
		for (i = n = 0; i < r->rounds; i++)
			if (ns[PB_SIDE_NOSYNC][p][i])
				ratio[n++] = (double)ns[PB_SIDE_PTKIT][p][i] /
					     (double)ns[PB_SIDE_NOSYNC][p][i];
		overhead[p] = n ? (pb_median_double(ratio, n) - 1) * 100 : 0;
		for (k = 0; k < PB_NR_SIDES; k++)
			per_op[k][p] = pb_median(ns[k][p], r->rounds) / (double)pb_ops(r);
	}
	return 0;
}

/* Runs each selected workload's scenario once, for every selected workload
 * that shares it. */
static int pb_run_all(struct pb_env *e, const struct pb_opts *o,
		      struct pb_result res[])
{
	double per_op[PB_NR_SIDES][PB_NR_PHASES], overhead[PB_NR_PHASES];
	size_t w, v;
	unsigned k;

	for (w = 0; w < PB_NR_WORKLOADS; w++) {
		const struct pb_scenario *sc = pb_workloads[w].sc;
		struct pb_run r;

		if (!pb_selected(o, w) || res[w].ran)
			continue;
		r = pb_plan(o, sc);
		if (pb_run_scenario(e, o, &r, per_op, overhead))
			return -1;
		for (v = w; v < PB_NR_WORKLOADS; v++) {
			enum pb_phase ph = pb_workloads[v].phase;

			if (pb_workloads[v].sc != sc || !pb_selected(o, v))
				continue;
			res[v].ran = true;
			for (k = 0; k < PB_NR_SIDES; k++)
				res[v].ns[k] = per_op[k][ph];
			res[v].overhead_pct = overhead[ph];
			res[v].ops = pb_ops(&r);
			res[v].rounds = r.rounds;
		}
	}
	return 0;
}

/*
 * The parallel workloads.  Each point (a workload at a thread count) makes
 * a fresh table on the ptkit phys (4K leaves only), prepares it untimed
 * and starts the threads.  They meet at a spinning barrier, so every one
 * is on a CPU when the clock starts (a sleeping one can take a millisecond
 * to wake up in a VM); the last to arrive starts the clock, each runs
 * until the common deadline (checking it every few microseconds), and the
 * operations of all threads are divided by the span from the start to the
 * last one's end.
 *
 * Next to every point runs a reference that shares nothing (each thread
 * spins on registers): its N-thread/1-thread speedup is what the machine
 * gave at that moment, the ceiling for the workload's (a busy or
 * oversubscribed host gives less than N).
 */
struct pb_par_point {
	struct pt_table *table;
	enum pb_par_kind kind;
	bool spin; /* the reference, not the workload */
	unsigned nthreads;
	uint64_t run_ns;
	/* The barrier, on lines of their own: written while the threads
	 * gather, then only read. */
	_Atomic unsigned arrived __attribute__((aligned(128)));
	_Atomic uint64_t start_ns; /* 0 until the last thread arrives */
	uint64_t deadline_ns __attribute__((aligned(128)));
};

/* One thread's own lines (128 bytes: not even the adjacent-line prefetcher
 * pairs two threads' structs), written only when the thread ends. */
struct pb_par_thread {
	pthread_t tid;
	struct pb_par_point *point;
	unsigned id;
	int rc;
	const char *what;
	uint64_t ops, t0, t1;
} __attribute__((aligned(128)));

static bool pb_par_stopped(const struct pb_par_point *p)
{
	return pb_now() >= p->deadline_ns;
}

/* Pages first, first + stride, ... (n of them): map each, then unmap each,
 * one call per page, until the deadline. */
static int pb_par_sweep(struct pb_par_thread *th, uint64_t first,
			uint64_t stride, uint64_t n)
{
	struct pb_par_point *p = th->point;
	struct pt_table *t = p->table;
	uint64_t i, va, ops = 0;
	int rc = 0;

	while (!rc && !pb_par_stopped(p)) {
		for (i = 0, va = first; i < n && !rc; i++, va += stride)
			if ((rc = pt_map(t, va, PB_PA + (va - PB_VA), PB_4K, pb_prop)))
				th->what = "pt_map";
		for (i = 0, va = first; i < n && !rc; i++, va += stride)
			if ((rc = pt_unmap(t, va, PB_4K, NULL)))
				th->what = "pt_unmap";
		ops += 2 * n;
	}
	th->ops = ops;
	return rc;
}

/* Pages of a region of `pages` that thread id of n owns: id, id + n, ... */
static uint64_t pb_par_owned(uint64_t pages, unsigned id, unsigned n)
{
	return (pages - id + n - 1) / n;
}

/*
 * In batches of 100: 90 queries of random pages of the whole region (a
 * page another thread has just unmapped answers PT_ENOENT), 10 calls that
 * alternately unmap a random page of the thread's own part (the id-th of
 * N contiguous ones: never an error) and map it back.  Readers share
 * everything, writers no leaf table (par_shared has them collide).  The
 * PTE lines one thread writes are still read by the others: the misses
 * that costs are the workload's, as on any page table.
 */
static int pb_par_query(struct pb_par_thread *th)
{
	struct pb_par_point *p = th->point;
	struct pt_table *t = p->table;
	unsigned k;
	uint64_t part = PB_PAR_QUERY_PAGES / p->nthreads;
	uint64_t first = PB_VA + th->id * part * PB_4K;
	uint64_t rng = UINT64_C(0x9e3779b97f4a7c15) * (th->id + 1);
	uint64_t va = PB_VA, va_q, ops = 0;
	struct pt_mapping m;
	bool out = false;
	int rc = 0;

	while (!rc && (ops % 1000 || !pb_par_stopped(p))) {
		for (k = 0; k < 100 && !rc; k++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			if (k % 10 == 9) {
				if (out) {
					if ((rc = pt_map(t, va, PB_PA + (va - PB_VA),
							 PB_4K, pb_prop)))
						th->what = "pt_map";
				} else {
					va = first + (rng % part) * PB_4K;
					if ((rc = pt_unmap(t, va, PB_4K, NULL)))
						th->what = "pt_unmap";
				}
				out = !out;
				continue;
			}
			va_q = PB_VA + (rng % PB_PAR_QUERY_PAGES) * PB_4K;
			if ((rc = pt_query(t, va_q, &m)) == PT_ENOENT)
				rc = 0;
			else if (rc)
				th->what = "pt_query";
		}
		ops += 100;
	}
	th->ops = ops;
	return rc;
}

/* The reference: batches of 1000 steps on a register, nothing shared. */
static int pb_par_spin(struct pb_par_thread *th)
{
	uint64_t x = th->id, ops = 0;
	unsigned k;

	while (ops % 10000 || !pb_par_stopped(th->point)) {
		for (k = 0; k < 1000; k++) {
			x = x * 6364136223846793005u + 1;
			__asm__ volatile("" : "+r"(x));
		}
		ops += 1000;
	}
	th->ops = ops;
	return 0;
}

static void *pb_par_thread_main(void *arg)
{
	struct pb_par_thread *th = arg;
	struct pb_par_point *p = th->point;
	unsigned n = p->nthreads;

	/* The spinning barrier; it yields, for hosts with fewer CPUs than
	 * threads. */
	if (atomic_fetch_add_explicit(&p->arrived, 1, memory_order_relaxed) + 1 == n) {
		p->deadline_ns = pb_now() + p->run_ns;
		atomic_store_explicit(&p->start_ns, p->deadline_ns - p->run_ns,
				      memory_order_release);
	}
	while (!(th->t0 = atomic_load_explicit(&p->start_ns, memory_order_acquire)))
		sched_yield();
	if (p->spin)
		th->rc = pb_par_spin(th);
	else if (p->kind == PB_PAR_DISJOINT)
		th->rc = pb_par_sweep(th, PB_VA + th->id * PB_2M, PB_4K,
				      PB_2M / PB_4K);
	else if (p->kind == PB_PAR_SHARED)
		th->rc = pb_par_sweep(th, PB_VA + th->id * PB_4K, n * PB_4K,
				      pb_par_owned(PB_2M / PB_4K, th->id, n));
	else
		th->rc = pb_par_query(th);
	th->t1 = pb_now();
	return NULL;
}

/* Untimed: the leaf tables every thread will use exist before the clock
 * starts (a partial unmap leaves them), and par_query's region is mapped. */
static int pb_par_prepare(struct pt_table *t, enum pb_par_kind kind, unsigned n)
{
	unsigned i;
	int rc = 0;

	switch (kind) {
	case PB_PAR_DISJOINT:
		for (i = 0; i < n && !rc; i++)
			if (!(rc = pt_map(t, PB_VA + i * PB_2M, PB_PA, PB_4K, pb_prop)))
				rc = pt_unmap(t, PB_VA + i * PB_2M, PB_4K, NULL);
		break;
	case PB_PAR_SHARED:
		if (!(rc = pt_map(t, PB_VA, PB_PA, PB_4K, pb_prop)))
			rc = pt_unmap(t, PB_VA, PB_4K, NULL);
		break;
	case PB_PAR_QUERY:
		rc = pt_map(t, PB_VA, PB_PA, PB_PAR_QUERY_PAGES * PB_4K, pb_prop);
		break;
	}
	return rc;
}

/* Runs n threads for run_ns and divides their operations by the span
 * they ran. */
static int pb_par_go(struct pb_par_point *p, struct pb_par_thread th[],
		     unsigned n, uint64_t run_ns, double *ops_per_us)
{
	uint64_t ops = 0, t0 = 0, t1 = 0;
	unsigned i;
	int rc = 0;

	p->nthreads = n;
	p->run_ns = run_ns;
	atomic_store_explicit(&p->arrived, 0, memory_order_relaxed);
	atomic_store_explicit(&p->start_ns, 0, memory_order_relaxed);
	for (i = 0; i < n; i++) {
		memset(&th[i], 0, sizeof(th[i]));
		th[i].point = p;
		th[i].id = i;
		if ((errno = pthread_create(&th[i].tid, NULL, pb_par_thread_main,
					    &th[i]))) {
			/* The barrier can never open: nothing to do but give up. */
			perror("ptctl bench: pthread_create");
			exit(1);
		}
	}
	for (i = 0; i < n; i++) {
		pthread_join(th[i].tid, NULL);
		if (th[i].rc && !rc)
			rc = pb_fail(&pb_ptkit, th[i].what, th[i].rc);
		ops += th[i].ops;
		t0 = th[i].t0;
		t1 = th[i].t1 > t1 ? th[i].t1 : t1;
	}
	*ops_per_us = t1 > t0 ? (double)ops * 1000.0 / (double)(t1 - t0) : 0;
	return rc;
}

/* One point of a workload (spin: of the reference). */
static int pb_par_point(struct pb_env *e, enum pb_par_kind kind, bool spin,
			unsigned n, uint64_t run_ns, double *ops_per_us)
{
	static struct pb_par_thread th[PB_PAR_MAX_THREADS];
	static struct pb_par_point p;
	struct pt_table_opts opts = { .max_leaf_level = 1 };
	int rc, err;

	memset(&p, 0, sizeof(p));
	p.kind = kind;
	p.spin = spin;
	if (spin)
		return pb_par_go(&p, th, n, run_ns, ops_per_us);
	if ((rc = pt_table_create_opts(e->phys, &pt_format_x86_64, PT_SPACE_USER,
				       &opts, &p.table)))
		return pb_fail(&pb_ptkit, "create table", rc);
	if ((rc = pb_par_prepare(p.table, kind, n)))
		pb_fail(&pb_ptkit, "prepare", rc);
	else
		rc = pb_par_go(&p, th, n, run_ns, ops_per_us);
	if ((err = pb_pk_close(p.table)) && !rc)
		rc = pb_fail(&pb_ptkit, "destroy table", err);
	return rc;
}

/* The thread counts of the points: 1, and --threads (if not 1). */
static unsigned pb_par_counts(const struct pb_opts *o, unsigned counts[2])
{
	counts[0] = 1;
	counts[1] = o->threads;
	return o->threads > 1 ? 2 : 1;
}

/* Every point several times, the thread counts taking turns going first,
 * each followed by the reference at the same count; each figure is the
 * median of its runs. */
static int pb_par_run_all(struct pb_env *e, const struct pb_opts *o,
			  struct pb_par_result res[])
{
	unsigned reps = o->quick ? 1 : PB_PAR_REPS, counts[2], nc, rep, c, k;
	uint64_t run_ns = o->quick ? PB_PAR_QUICK_RUN_NS : PB_PAR_RUN_NS;
	double rate[2][PB_PAR_REPS], ref[2][PB_PAR_REPS];
	size_t w;

	nc = pb_par_counts(o, counts);
	for (w = 0; w < PB_NR_PAR; w++) {
		enum pb_par_kind kind = pb_par_workloads[w].kind;

		if (!pb_par_selected(o, w))
			continue;
		for (rep = 0; rep < reps; rep++)
			for (k = 0; k < nc; k++) {
				c = (k + rep) % nc;
				if (pb_par_point(e, kind, false, counts[c], run_ns,
						 &rate[c][rep]) ||
				    pb_par_point(e, kind, true, counts[c],
						 run_ns / PB_PAR_REF_DIV, &ref[c][rep]))
					return -1;
			}
		res[w].ran = true;
		for (c = 0; c < nc; c++) {
			res[w].ops_per_us[c] = pb_median_double(rate[c], reps);
			res[w].ref[c] = pb_median_double(ref[c], reps);
		}
	}
	return 0;
}

/* A right-aligned number, or '-' for a side that did not run. */
static void pb_cell(bool ran, double v, int width, int prec)
{
	if (ran)
		printf(" %*.*f", width, prec, v);
	else
		printf(" %*s", width, "-");
}

static bool pb_any(const bool *ran, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ran[i])
			return true;
	return false;
}

static void pb_print_table(const struct pb_opts *o, const struct pb_result res[],
			   const struct pb_par_result par[])
{
	const bool *sd = o->side;
	bool ran[PB_NR_WORKLOADS > PB_NR_PAR ? PB_NR_WORKLOADS : PB_NR_PAR];
	unsigned counts[2], nc = pb_par_counts(o, counts);
	bool core;
	size_t w;

	for (w = 0; w < PB_NR_WORKLOADS; w++)
		ran[w] = res[w].ran;
	core = pb_any(ran, PB_NR_WORKLOADS);
	if (core) {
		printf("ptctl bench: x86-64 user table, median ns per operation%s\n",
		       o->quick ? " (--quick: fewer operations, one round)" : "");
		printf("%-13s %9s %9s %7s %9s %7s  %s\n", "workload", "ptkit",
		       "nosync", "sync%", "bare", "ratio", "one operation");
		for (w = 0; w < PB_NR_WORKLOADS; w++) {
			const struct pb_result *x = &res[w];

			if (!x->ran)
				continue;
			printf("%-13s", pb_workloads[w].name);
			pb_cell(sd[PB_SIDE_PTKIT], x->ns[PB_SIDE_PTKIT], 9, 2);
			pb_cell(sd[PB_SIDE_NOSYNC], x->ns[PB_SIDE_NOSYNC], 9, 2);
			pb_cell(sd[PB_SIDE_PTKIT] && sd[PB_SIDE_NOSYNC],
				x->overhead_pct, 7, 1);
			pb_cell(sd[PB_SIDE_BARE], x->ns[PB_SIDE_BARE], 9, 2);
			pb_cell(sd[PB_SIDE_PTKIT] && sd[PB_SIDE_BARE],
				x->ns[PB_SIDE_PTKIT] / x->ns[PB_SIDE_BARE], 7, 2);
			printf("  %s\n", pb_workloads[w].op);
		}
		if (sd[PB_SIDE_PTKIT] && sd[PB_SIDE_NOSYNC])
			puts("(nosync: the same engine without node locks and RCU;"
			     " sync%: ptkit over nosync, median of paired rounds)");
	}
	for (w = 0; w < PB_NR_PAR; w++)
		ran[w] = par[w].ran;
	if (!pb_any(ran, PB_NR_PAR))
		return;
	printf("%sptctl bench: parallel, one table, total ops/us of all threads"
	       " (median of %u run%s of %.2f s)\n", core ? "\n" : "",
	       o->quick ? 1 : PB_PAR_REPS, o->quick ? "" : "s",
	       (double)(o->quick ? PB_PAR_QUICK_RUN_NS : PB_PAR_RUN_NS) / 1e9);
	printf("%-13s %9s", "workload", "1 thread");
	if (nc > 1)
		printf(" %7u threads %7s %5s", counts[1], "speedup", "cpu");
	printf("  %s\n", "one operation");
	for (w = 0; w < PB_NR_PAR; w++) {
		const struct pb_par_result *x = &par[w];

		if (!x->ran)
			continue;
		printf("%-13s", pb_par_workloads[w].name);
		pb_cell(true, x->ops_per_us[0], 9, 2);
		if (nc > 1) {
			pb_cell(true, x->ops_per_us[1], 15, 2);
			pb_cell(x->ops_per_us[0] > 0, x->ops_per_us[1] / x->ops_per_us[0],
				7, 2);
			pb_cell(x->ref[0] > 0, x->ref[1] / x->ref[0], 5, 2);
		}
		printf("  %s\n", pb_par_workloads[w].op);
	}
	if (nc > 1)
		printf("(speedup: %u threads over 1; cpu: the same for threads that"
		       " share nothing,\n run alongside: what the host gave, the"
		       " ceiling)\n", counts[1]);
}

static void pb_print_json(const struct pb_opts *o, const struct pb_result res[],
			  const struct pb_par_result par[])
{
	const bool *sd = o->side;
	unsigned counts[2], nc = pb_par_counts(o, counts), c;
	const char *sep = "";
	size_t w;

	putchar('{');
	for (w = 0; w < PB_NR_WORKLOADS; w++) {
		const struct pb_result *x = &res[w];

		if (!x->ran)
			continue;
		printf("%s\n  \"%s\": {", sep, pb_workloads[w].name);
		if (sd[PB_SIDE_PTKIT])
			printf("\"ns_per_op\": %.3f, ", x->ns[PB_SIDE_PTKIT]);
		if (sd[PB_SIDE_NOSYNC])
			printf("\"nosync_ns_per_op\": %.3f, ", x->ns[PB_SIDE_NOSYNC]);
		if (sd[PB_SIDE_PTKIT] && sd[PB_SIDE_NOSYNC])
			printf("\"sync_overhead_pct\": %.1f, ", x->overhead_pct);
		if (sd[PB_SIDE_BARE])
			printf("\"bare_ns_per_op\": %.3f, ", x->ns[PB_SIDE_BARE]);
		/* A bare median of 0 ns would make the ratio inf, not JSON. */
		if (sd[PB_SIDE_PTKIT] && sd[PB_SIDE_BARE] && x->ns[PB_SIDE_BARE] > 0)
			printf("\"ratio\": %.3f, ",
			       x->ns[PB_SIDE_PTKIT] / x->ns[PB_SIDE_BARE]);
		printf("\"ops\": %" PRIu64 ", \"rounds\": %u}", x->ops, x->rounds);
		sep = ",";
	}
	for (w = 0; w < PB_NR_PAR; w++) {
		if (!par[w].ran)
			continue;
		printf("%s\n  \"%s\": {", sep, pb_par_workloads[w].name);
		for (c = 0; c < nc; c++)
			printf("%s\"%u\": {\"ops_per_us\": %.3f}", c ? ", " : "",
			       counts[c], par[w].ops_per_us[c]);
		putchar('}');
		sep = ",";
	}
	puts("\n}");
}

static bool pb_known(const char *name)
{
	size_t w;

	for (w = 0; w < PB_NR_WORKLOADS; w++)
		if (!strcmp(name, pb_workloads[w].name))
			return true;
	for (w = 0; w < PB_NR_PAR; w++)
		if (!strcmp(name, pb_par_workloads[w].name))
			return true;
	return false;
}

static bool pb_is_par(const char *name)
{
	return name && !strncmp(name, "par_", 4);
}

static int pb_parse(int argc, char **argv, struct pb_opts *o)
{
	char *end;
	unsigned long n;
	int i;

	memset(o, 0, sizeof(*o));
	o->threads = 2;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			o->json = true;
		else if (!strcmp(argv[i], "--quick"))
			o->quick = true;
		else if (!strcmp(argv[i], "--list"))
			o->list = true;
		else if (!strcmp(argv[i], "--ptkit"))
			o->side[PB_SIDE_PTKIT] = true;
		else if (!strcmp(argv[i], "--nosync"))
			o->side[PB_SIDE_NOSYNC] = true;
		else if (!strcmp(argv[i], "--bare"))
			o->side[PB_SIDE_BARE] = true;
		else if (!strcmp(argv[i], "--workload") && i + 1 < argc &&
			 pb_known(argv[i + 1]))
			o->workload = argv[++i];
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			errno = 0;
			n = strtoul(argv[++i], &end, 10);
			if (errno || *end || n < 1 || n > PB_PAR_MAX_THREADS)
				return -1;
			o->threads = (unsigned)n;
		} else
			return -1;
	}
	/* No side named: all of them. */
	if (!pb_any(o->side, PB_NR_SIDES))
		o->side[PB_SIDE_PTKIT] = o->side[PB_SIDE_NOSYNC] =
			o->side[PB_SIDE_BARE] = true;
	/* The parallel workloads run on ptkit only. */
	if (pb_is_par(o->workload) && !o->side[PB_SIDE_PTKIT])
		return -1;
	return 0;
}

int ptctl_cmd_bench(int argc, char **argv)
{
	struct pb_result res[PB_NR_WORKLOADS];
	struct pb_par_result par[PB_NR_PAR];
	struct pb_opts o;
	struct pb_env e;
	size_t w;
	int rc;

	memset(res, 0, sizeof(res));
	memset(par, 0, sizeof(par));
	if (pb_parse(argc, argv, &o)) {
		fputs("ptctl bench: [--json] [--quick] [--list] [--workload NAME]"
		      " [--ptkit] [--nosync] [--bare] [--threads N]\n"
		      "  (par_* workloads: ptkit only, at 1 and N threads,"
		      " N = 2 unless --threads)\nworkloads:", stderr);
		for (w = 0; w < PB_NR_WORKLOADS; w++)
			fprintf(stderr, " %s", pb_workloads[w].name);
		for (w = 0; w < PB_NR_PAR; w++)
			fprintf(stderr, " %s", pb_par_workloads[w].name);
		fputc('\n', stderr);
		ptctl_usage(stderr);
		return PTCTL_EXIT_USAGE;
	}
	if (o.list) {
		for (w = 0; w < PB_NR_WORKLOADS; w++)
			puts(pb_workloads[w].name);
		for (w = 0; w < PB_NR_PAR; w++)
			puts(pb_par_workloads[w].name);
		return 0;
	}
	rc = pb_env_init(&e, &o);
	if (!rc)
		rc = pb_run_all(&e, &o, res);
	if (!rc)
		rc = pb_par_run_all(&e, &o, par);
	pb_env_fini(&e);
	if (rc)
		return 1;
	if (o.json)
		pb_print_json(&o, res, par);
	else
		pb_print_table(&o, res, par);
	return 0;
}
