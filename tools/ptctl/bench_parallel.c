/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bench_parallel.c - the parallel workloads (par_*) of `ptctl bench`.
 *
 * They run ptkit only, with 1 and N threads (--threads, default 2) started
 * together on one table, each for a fixed short time; the figure is the
 * total throughput of all threads (ops/us), the median over a few
 * interleaved runs.
 *
 * Each point (a workload at a thread count) makes a fresh table on the
 * ptkit phys (4K leaves only), prepares it untimed and starts the threads.
 * They meet at a spinning barrier, so every one is on a CPU when the clock
 * starts (a sleeping one can take a millisecond to wake up in a VM); the
 * last to arrive starts the clock, each runs until the common deadline
 * (checking it every few microseconds), and the operations of all threads
 * are divided by the span from the start to the last one's end.
 *
 * Next to every point runs a reference that shares nothing (each thread
 * spins on registers): its N-thread/1-thread speedup is what the machine
 * gave at that moment, the ceiling for the workload's (a busy or
 * oversubscribed host gives less than N).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

const struct pb_par_workload pb_par_workloads[] = {
	{ "par_disjoint", "pt_map or pt_unmap of 4K, own 2M slot per thread",
	  PB_PAR_DISJOINT },
	{ "par_shared", "pt_map or pt_unmap of 4K, threads interleaved in one 2M",
	  PB_PAR_SHARED },
	{ "par_query", "90% pt_query in a shared 16M, 10% pt_map/pt_unmap of 4K",
	  PB_PAR_QUERY },
};

/* bench.h sizes the result arrays with PB_NR_PAR. */
_Static_assert(sizeof(pb_par_workloads) / sizeof(pb_par_workloads[0]) == PB_NR_PAR,
	       "PB_NR_PAR is not the number of parallel workloads");

/* par_query's region: 16 MiB of 4K pages, eight leaf tables. */
#define PB_PAR_QUERY_PAGES 4096u
/* Runs per point (a workload at a thread count) and how long each lasts. */
#define PB_PAR_REPS 7
#define PB_PAR_RUN_NS UINT64_C(100000000)
#define PB_PAR_QUICK_RUN_NS UINT64_C(20000000)
/* The reference that shares nothing runs for half of that. */
#define PB_PAR_REF_DIV 2

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

static bool pb_par_selected(const struct pb_opts *o, size_t w)
{
	return o->side[PB_SIDE_PTKIT] &&
	       (!o->workload || !strcmp(o->workload, pb_par_workloads[w].name));
}

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

/* Starts n threads on p; they wait at its barrier for the last one. */
static void pb_par_start(struct pb_par_point *p, struct pb_par_thread th[],
			 unsigned n, uint64_t run_ns)
{
	unsigned i;

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
}

/* Runs n threads for run_ns and divides their operations by the span
 * they ran. */
static int pb_par_go(struct pb_par_point *p, struct pb_par_thread th[],
		     unsigned n, uint64_t run_ns, double *ops_per_us)
{
	uint64_t ops = 0, t0 = 0, t1 = 0;
	unsigned i;
	int rc = 0;

	pb_par_start(p, th, n, run_ns);
	for (i = 0; i < n; i++) {
		pthread_join(th[i].tid, NULL);
		if (th[i].rc && !rc)
			rc = pb_fail(pb_sides[PB_SIDE_PTKIT], th[i].what, th[i].rc);
		ops += th[i].ops;
		t0 = th[i].t0;
		t1 = th[i].t1 > t1 ? th[i].t1 : t1;
	}
	*ops_per_us = t1 > t0 ? (double)ops * 1000.0 / (double)(t1 - t0) : 0;
	return rc;
}

/* One point of a workload (spin: of the reference), on a ptkit side
 * table with 4K leaves only. */
static int pb_par_point(struct pb_env *e, enum pb_par_kind kind, bool spin,
			unsigned n, uint64_t run_ns, double *ops_per_us)
{
	static struct pb_par_thread th[PB_PAR_MAX_THREADS];
	static struct pb_par_point p;
	const struct pb_side *pk = pb_sides[PB_SIDE_PTKIT];
	void *t;
	int rc, err;

	memset(&p, 0, sizeof(p));
	p.kind = kind;
	p.spin = spin;
	if (spin)
		return pb_par_go(&p, th, n, run_ns, ops_per_us);
	if ((rc = pk->open(e->side_env[PB_SIDE_PTKIT], 1, &t)))
		return pb_fail(pk, "create table", rc);
	p.table = t;
	if ((rc = pb_par_prepare(p.table, kind, n)))
		pb_fail(pk, "prepare", rc);
	else
		rc = pb_par_go(&p, th, n, run_ns, ops_per_us);
	if ((err = pk->close(p.table)) && !rc)
		rc = pb_fail(pk, "destroy table", err);
	return rc;
}

unsigned pb_par_counts(const struct pb_opts *o, unsigned counts[2])
{
	counts[0] = 1;
	counts[1] = o->threads;
	return o->threads > 1 ? 2 : 1;
}

unsigned pb_par_reps(const struct pb_opts *o)
{
	return o->quick ? 1 : PB_PAR_REPS;
}

uint64_t pb_par_run_ns(const struct pb_opts *o)
{
	return o->quick ? PB_PAR_QUICK_RUN_NS : PB_PAR_RUN_NS;
}

/* Every point several times, the thread counts taking turns going first,
 * each followed by the reference at the same count; each figure is the
 * median of its runs. */
int pb_par_run_all(struct pb_env *e, const struct pb_opts *o,
		   struct pb_par_result res[])
{
	unsigned reps = pb_par_reps(o), counts[2], nc, rep, c, k;
	uint64_t run_ns = pb_par_run_ns(o);
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
			res[w].ops_per_us[c] = pb_median(rate[c], reps);
			res[w].ref[c] = pb_median(ref[c], reps);
		}
	}
	return 0;
}
