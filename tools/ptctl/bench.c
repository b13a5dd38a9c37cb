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
 * Under valgrind only the loops of the selected workloads are instrumented
 * (callgrind client requests, when <valgrind/callgrind.h> was found at
 * build time), so bench/callgrind.sh can count instructions per operation.
 */
#include <inttypes.h>
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
	.rounds = 7, .quick_per_call = 1, .quick_calls = 1 << 14,
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
	.rounds = 7, .quick_per_call = 1, .quick_calls = 1000,
};
static const struct pb_scenario pb_sc_cycle_256x4k = {
	.kind = PB_CYCLE, .page = PB_4K, .per_call = 256, .calls = 10000,
	.rounds = 7, .quick_per_call = 256, .quick_calls = 500,
};
/* One pt_map call of 512 MiB, 2M-aligned: 256 separate 2M leaves. */
static const struct pb_scenario pb_sc_cycle_256x2m = {
	.kind = PB_CYCLE, .page = PB_2M, .per_call = 256, .calls = 10000,
	.max_leaf_level = 2, .rounds = 7, .quick_per_call = 256,
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

static const struct pt_prop pb_prop = { PT_R | PT_W | PT_U, PT_CACHE_WB };

static int pb_pk_open(void *env, unsigned max_leaf_level, void **table)
{
	struct pt_table_opts opts = { .max_leaf_level = max_leaf_level };
	struct pt_table *t = NULL;
	int rc = pt_table_create_opts(env, &pt_format_x86_64, PT_SPACE_USER,
				      &opts, &t);

	*table = t;
	return rc;
}

static int pb_pk_close(void *table)
{
	return pt_table_destroy(table);
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

static int pb_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static double pb_median(uint64_t *v, unsigned n)
{
	qsort(v, n, sizeof(*v), pb_cmp_u64);
	return n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Operations per round that a phase's time is divided by. */
static uint64_t pb_ops(const struct pb_run *r)
{
	return r->sc->kind == PB_CYCLE ? r->calls : r->calls * r->per_call;
}

PB_INLINE int pb_side_run(const struct pb_side *s, void *env,
			  const struct pb_run *r, double per_op[PB_NR_PHASES])
{
	uint64_t ns[PB_NR_PHASES][PB_MAX_ROUNDS] = { { 0 } };
	unsigned i, p;
	int rc;

	for (i = 0; i < r->rounds; i++)
		if ((rc = pb_round(s, env, r, i, ns)))
			return rc;
	for (p = 0; p < PB_NR_PHASES; p++)
		per_op[p] = pb_median(ns[p], r->rounds) / (double)pb_ops(r);
	return 0;
}

/* The two instances of the loops. */
static int pb_run_ptkit(void *env, const struct pb_run *r, double per_op[])
{
	return pb_side_run(&pb_ptkit, env, r, per_op);
}

static int pb_run_bare(void *env, const struct pb_run *r, double per_op[])
{
	return pb_side_run(&pb_bare, env, r, per_op);
}

struct pb_opts {
	bool json, quick, list;
	bool ptkit, bare;     /* sides to run */
	const char *workload; /* NULL: all */
};

struct pb_result {
	bool ran;
	double ptkit, bare;   /* ns per operation */
	uint64_t ops;         /* per round */
	unsigned rounds;
};

static bool pb_selected(const struct pb_opts *o, size_t w)
{
	return !o->workload || !strcmp(o->workload, pb_workloads[w].name);
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
	struct pt_phys *phys;
	struct pb_bare_env bare;
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
	if (o->ptkit && (rc = pt_phys_create(PB_ARENA, &e->phys)))
		return pb_fail(&pb_ptkit, "pt_phys_create", rc);
	if (o->bare && (rc = pb_bare_format(&e->bare.fmt)))
		return pb_fail(&pb_ptkit, "encode_leaf", rc);
	if (o->bare && (rc = bare_arena_init(&e->bare.arena, PB_ARENA)))
		return pb_fail(&pb_bare, "arena", rc);
	return 0;
}

static void pb_env_fini(struct pb_env *e)
{
	if (e->phys)
		pt_phys_destroy(e->phys);
	bare_arena_fini(&e->bare.arena);
}

/* Runs each selected workload's scenario once, for every selected workload
 * that shares it. */
static int pb_run_all(struct pb_env *e, const struct pb_opts *o,
		      struct pb_result res[])
{
	double pk[PB_NR_PHASES] = { 0 }, bw[PB_NR_PHASES] = { 0 };
	size_t w, v;

	for (w = 0; w < PB_NR_WORKLOADS; w++) {
		const struct pb_scenario *sc = pb_workloads[w].sc;
		struct pb_run r;

		if (!pb_selected(o, w) || res[w].ran)
			continue;
		r = pb_plan(o, sc);
		if ((o->ptkit && pb_run_ptkit(e->phys, &r, pk)) ||
		    (o->bare && pb_run_bare(&e->bare, &r, bw)))
			return -1;
		for (v = w; v < PB_NR_WORKLOADS; v++) {
			enum pb_phase ph = pb_workloads[v].phase;

			if (pb_workloads[v].sc != sc || !pb_selected(o, v))
				continue;
			res[v] = (struct pb_result){ true, pk[ph], bw[ph],
						     pb_ops(&r), r.rounds };
		}
	}
	return 0;
}

/* A right-aligned number, or '-' for a side that did not run. */
static void pb_cell(bool ran, double v, int width)
{
	if (ran)
		printf(" %*.2f", width, v);
	else
		printf(" %*s", width, "-");
}

static void pb_print_table(const struct pb_opts *o, const struct pb_result res[])
{
	size_t w;

	printf("ptctl bench: x86-64 user table, median ns per operation%s\n",
	       o->quick ? " (--quick: fewer operations, one round)" : "");
	printf("%-13s %10s %10s %7s  %s\n", "workload", "ptkit", "bare", "ratio",
	       "one operation");
	for (w = 0; w < PB_NR_WORKLOADS; w++) {
		if (!res[w].ran)
			continue;
		printf("%-13s", pb_workloads[w].name);
		pb_cell(o->ptkit, res[w].ptkit, 10);
		pb_cell(o->bare, res[w].bare, 10);
		pb_cell(o->ptkit && o->bare, res[w].ptkit / res[w].bare, 7);
		printf("  %s\n", pb_workloads[w].op);
	}
}

static void pb_print_json(const struct pb_opts *o, const struct pb_result res[])
{
	const char *sep = "";
	size_t w;

	putchar('{');
	for (w = 0; w < PB_NR_WORKLOADS; w++) {
		if (!res[w].ran)
			continue;
		printf("%s\n  \"%s\": {", sep, pb_workloads[w].name);
		if (o->ptkit)
			printf("\"ns_per_op\": %.3f, ", res[w].ptkit);
		if (o->bare)
			printf("\"bare_ns_per_op\": %.3f, ", res[w].bare);
		/* A bare median of 0 ns would make the ratio inf, not JSON. */
		if (o->ptkit && o->bare && res[w].bare > 0)
			printf("\"ratio\": %.3f, ", res[w].ptkit / res[w].bare);
		printf("\"ops\": %" PRIu64 ", \"rounds\": %u}", res[w].ops,
		       res[w].rounds);
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
	return false;
}

static int pb_parse(int argc, char **argv, struct pb_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			o->json = true;
		else if (!strcmp(argv[i], "--quick"))
			o->quick = true;
		else if (!strcmp(argv[i], "--list"))
			o->list = true;
		else if (!strcmp(argv[i], "--ptkit"))
			o->ptkit = true;
		else if (!strcmp(argv[i], "--bare"))
			o->bare = true;
		else if (!strcmp(argv[i], "--workload") && i + 1 < argc &&
			 pb_known(argv[i + 1]))
			o->workload = argv[++i];
		else
			return -1;
	}
	/* Neither side named: both. */
	if (!o->ptkit && !o->bare)
		o->ptkit = o->bare = true;
	return 0;
}

int ptctl_cmd_bench(int argc, char **argv)
{
	struct pb_result res[PB_NR_WORKLOADS] = { { 0 } };
	struct pb_opts o;
	struct pb_env e;
	size_t w;
	int rc;

	if (pb_parse(argc, argv, &o)) {
		fputs("ptctl bench: workloads:", stderr);
		for (w = 0; w < PB_NR_WORKLOADS; w++)
			fprintf(stderr, " %s", pb_workloads[w].name);
		fputc('\n', stderr);
		ptctl_usage(stderr);
		return PTCTL_EXIT_USAGE;
	}
	if (o.list) {
		for (w = 0; w < PB_NR_WORKLOADS; w++)
			puts(pb_workloads[w].name);
		return 0;
	}
	rc = pb_env_init(&e, &o);
	if (!rc)
		rc = pb_run_all(&e, &o, res);
	pb_env_fini(&e);
	if (rc)
		return 1;
	if (o.json)
		pb_print_json(&o, res);
	else
		pb_print_table(&o, res);
	return 0;
}
