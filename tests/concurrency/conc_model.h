/* SPDX-License-Identifier: MPL-2.0 */
/*
 * conc_model.h - many threads, one table, each thread owning fixed pages.
 *
 * A "world" is a set of VA windows whose pages are split among the threads
 * by an ownership function.  Each thread maps, unmaps and protects (with
 * whole-range calls and with cursors) only runs of its own pages, and keeps
 * a model of them.  So every thread knows exactly what the table must say
 * about its pages at any moment, even while others work next to them in the
 * same leaf tables: it checks that with pt_query after each operation.  Any
 * page of any thread is at least self-consistent (conc_mapping_sane).
 *
 * A world runs on x86-64, or on a format named by its id (conc_format:
 * with its richest features, on a live table, as a hypervisor's stage 2
 * would be: the guest runs while the host changes it).
 *
 * After the threads join, the table's whole view must equal the merged
 * models, pt_check must pass, every tracked frame's count must be 1 + its
 * mappings, and after destroying the table and an RCU barrier the free count
 * must be back where it started.
 */
#ifndef PTKIT_CONC_MODEL_H
#define PTKIT_CONC_MODEL_H

#include "conc_util.h"

#define CM_MAX_WINDOWS 16

struct cm_window {
	uint64_t va;
	uint64_t npages;
};

/* One page of the model; only its owner writes it while threads run. */
struct cm_page {
	uint64_t pa;
	struct pt_prop prop;
	bool mapped, tracked;
};

/* Which thread owns page `idx` of window `win`. */
typedef unsigned (*cm_owner_fn)(unsigned win, uint64_t idx, unsigned nthreads);

struct cm_world {
	const char *name;
	struct pt_phys *phys;
	struct pt_table *table;
	const struct pt_test_format *tf;
	uint32_t features;       /* the table's PT_FEAT_* */
	unsigned nthreads;
	uint64_t iters;          /* operations per thread */
	uint64_t seed;
	unsigned max_run;        /* longest run an operation touches */
	unsigned nwin;
	struct cm_window win[CM_MAX_WINDOWS];
	size_t win_first[CM_MAX_WINDOWS + 1]; /* global index of each window's page 0 */
	size_t npages;
	struct cm_page *pages;
	uint8_t *owner;
	uint32_t *run_end;       /* last page of the same owner's run (same window) */
	size_t pool_frames;
	struct conc_frames pool; /* tracked frames, shared by all threads */
	uint64_t free_start;     /* fresh phys */
	uint64_t free_before;    /* with the pool allocated, before the table */
	uint64_t ops_done[16];   /* per kind, summed after join */
};

/* format: an id of tests/common/format_rules.h, or NULL for x86-64. */
void cm_world_init(struct cm_world *w, const char *name, const char *format,
		   unsigned nthreads, const struct cm_window *win, unsigned nwin,
		   cm_owner_fn owner, uint64_t iters, unsigned max_run);
/* Runs the threads, then checks view, pt_check and reference counts. */
void cm_world_run(struct cm_world *w);
/* Destroys table and phys, checking that nothing leaked. */
void cm_world_finish(struct cm_world *w);

#endif
