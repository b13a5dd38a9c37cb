/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bench.h - what the files of `ptctl bench` share.
 *
 *   bench.c            the options and the driver
 *   bench_sides.c      the sides (ptkit, nosync, bare), their arenas, and
 *                      one instance of the measured loops per side
 *   bench_loops.h      the measured loops, timed and instrumented
 *   bench_workloads.c  the single-thread workloads, run as rounds
 *                      interleaved across the sides
 *   bench_parallel.c   the par_* workloads: threads on one ptkit table
 *   bench_vm.c         the VM operations (harvest, split, copy): ptkit
 *                      only, copy next to a cursor loop doing the same
 *   bench_report.c     medians, and the output (a table or --json)
 */
#ifndef PTCTL_BENCH_H
#define PTCTL_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bare.h"
#include "ptctl.h"

#define PB_4K (UINT64_C(1) << 12)
#define PB_2M (UINT64_C(1) << 21)
#define PB_1G (UINT64_C(1) << 30)
/* 64 TiB: 512 GiB aligned, so every workload but map_256x1g's (which spans
 * 32 TiB) fits under one level-3 node, and all end below 2^47, the end of
 * the user half. */
#define PB_VA (UINT64_C(1) << 46)
/* 4 GiB: 1 GiB aligned and outside the arenas (untracked maps need no RAM),
 * which pb_arena_bytes() keeps below it. */
#define PB_PA (UINT64_C(1) << 32)
/* The least arena, page-table nodes only: enough for every workload but
 * fault_random4k's (pb_arena_bytes() sizes the arenas to the run). */
#define PB_ARENA (UINT64_C(32) << 20)
#define PB_MAX_ROUNDS 31
#define PB_PAR_MAX_THREADS 64

/* Every mapping's properties, on every side.  A constant in each file that
 * maps, so the measured loops need not fetch it from another one. */
static const struct pt_prop pb_prop = { PT_R | PT_W | PT_U, PT_CACHE_WB };

enum pb_kind {
	PB_SWEEP, /* map every call's range, query every page, unmap every range */
	PB_CYCLE, /* map then unmap the same range, again and again */
	PB_RANDOM, /* a SWEEP of one-page calls over pages scattered in a
		    * window, mapped in one fixed pseudo-random order and
		    * unmapped in another (pb_run.order) */
};

enum pb_phase { PB_PH_MAP, PB_PH_QUERY, PB_PH_UNMAP, PB_PH_CYCLE, PB_NR_PHASES };

struct pb_scenario {
	enum pb_kind kind;
	uint64_t page;           /* leaf size */
	uint64_t per_call;       /* pages per map or unmap call */
	uint64_t calls;          /* SWEEP, RANDOM: map calls per round;
				  * CYCLE: cycles */
	bool per_call_op;        /* SWEEP: a map or unmap operation is a call,
				  * not a page of one */
	uint64_t window;         /* RANDOM: the pages lie in [PB_VA, + this) */
	unsigned max_leaf_level; /* 0: the format's highest */
	unsigned rounds;
	uint64_t quick_per_call, quick_calls; /* --quick: one round of these */
};

/* A single-thread workload: one phase of a scenario. */
struct pb_workload {
	const char *name;
	const char *op; /* what one operation is */
	const struct pb_scenario *sc;
	enum pb_phase phase;
};

#define PB_NR_WORKLOADS 18
extern const struct pb_workload pb_workloads[PB_NR_WORKLOADS];

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

#define PB_NR_PAR 3
extern const struct pb_par_workload pb_par_workloads[PB_NR_PAR];

/* The VM-operation workloads: ptkit only (bench_vm.c). */
struct pb_vm_scenario;

struct pb_vm_workload {
	const char *name;
	const char *op;
	const struct pb_vm_scenario *sc;
};

#define PB_NR_VM 4
extern const struct pb_vm_workload pb_vm_workloads[PB_NR_VM];

/* A scenario as one invocation runs it. */
struct pb_run {
	const struct pb_scenario *sc;
	uint64_t per_call, calls;
	unsigned rounds;
	bool want[PB_NR_PHASES]; /* a selected workload reports this phase */
	/* RANDOM: the offsets from PB_VA (and PB_PA) of the calls of the map
	 * (and query) phase, [0], and of the unmap phase, [1]. */
	const uint64_t *order[2];
};

/* One side of the comparison.  The instances are static const in
 * bench_sides.c, so once the loops are inlined with them there the
 * compiler calls map/unmap/query directly. */
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

struct pb_vm_result {
	bool ran;
	bool has_loop; /* copy: the cursor loop ran too */
	double ns;     /* per operation */
	double loop_ns;
	uint64_t ops;  /* per round */
	unsigned rounds;
};

/* The bare side's state: one arena, one table at a time. */
struct pb_bare_env {
	struct bare_arena arena;
	struct bare_format fmt;
	struct bare_table table;
};

struct pb_env {
	struct pt_phys *phys;        /* ptkit, and the parallel workloads */
	struct pt_phys *phys_nosync; /* nosync: its own arena */
	struct pb_bare_env bare;
	void *side_env[PB_NR_SIDES];
};

/* Inline: the parallel loops read the clock on every pass. */
static inline uint64_t pb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Under valgrind, callgrind counts only what runs between pb_begin and
 * pb_end of an instrumented measurement (client requests, when
 * <valgrind/callgrind.h> was found at build time): bench/callgrind.sh. */
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

static inline uint64_t pb_begin(bool instrument)
{
	if (instrument)
		PB_CG_START();
	return pb_now();
}

static inline uint64_t pb_end(bool instrument, uint64_t t0)
{
	uint64_t ns = pb_now() - t0;

	if (instrument)
		PB_CG_STOP();
	return ns;
}

/* bench_sides.c */

/* Round i of a scenario on one side: phase times in ns[phase][i]. */
typedef int pb_round_fn(void *env, const struct pb_run *r, unsigned i,
			uint64_t ns[][PB_MAX_ROUNDS]);

extern pb_round_fn *const pb_round_fns[PB_NR_SIDES];
extern const struct pb_side *const pb_sides[PB_NR_SIDES];

/* Prints what failed on side s and returns rc. */
int pb_fail(const struct pb_side *s, const char *what, int rc);
/* The arenas of the selected sides. */
int pb_env_init(struct pb_env *e, const struct pb_opts *o);
void pb_env_fini(struct pb_env *e);

/* bench_workloads.c */
int pb_run_all(struct pb_env *e, const struct pb_opts *o,
	       struct pb_result res[]);
/* The bytes each side's arena needs for the selected workloads. */
uint64_t pb_arena_bytes(const struct pb_opts *o);

/* bench_parallel.c */
int pb_par_run_all(struct pb_env *e, const struct pb_opts *o,
		   struct pb_par_result res[]);
/* The thread counts of the points (1, --threads): how many there are. */
unsigned pb_par_counts(const struct pb_opts *o, unsigned counts[2]);
/* Runs per point, and how long each lasts. */
unsigned pb_par_reps(const struct pb_opts *o);
uint64_t pb_par_run_ns(const struct pb_opts *o);

/* bench_vm.c */
int pb_vm_run_all(struct pb_env *e, const struct pb_opts *o,
		  struct pb_vm_result res[]);

/* bench_report.c */
double pb_median(double *v, unsigned n);
double pb_median_ns(const uint64_t *ns, unsigned n);
/* Every part that ran, in order: single-thread, parallel, VM. */
struct pb_results {
	struct pb_result core[PB_NR_WORKLOADS];
	struct pb_par_result par[PB_NR_PAR];
	struct pb_vm_result vm[PB_NR_VM];
};

void pb_print_table(const struct pb_opts *o, const struct pb_results *res);
void pb_print_json(const struct pb_opts *o, const struct pb_results *res);

#endif /* PTCTL_BENCH_H */
