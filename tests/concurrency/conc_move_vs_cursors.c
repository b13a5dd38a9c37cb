/* SPDX-License-Identifier: MPL-2.0 */
/*
 * conc_move_vs_cursors.c - one thread moves a full leaf table back and
 * forth between two 2 MiB regions 1 GiB apart (pt_move relocates the node
 * itself) while N-1 threads (argv[1] threads in all) open one-page cursors
 * in either region, which lock that very node.
 *
 * A cursor that walked to the node before a move and got its lock after
 * must not keep it (design §6, "Moves"): it would read and write the other
 * region's pages while believing them its own.  So, with its cursor open
 * (no move can touch the node then), each thread's cursor must see at its
 * page exactly what a lock-free pt_query of that address sees.  At the
 * end: every page in exactly one region, pt_check, and the node count.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "conc_util.h"

#define X (CONC_1G + 4 * CONC_2M) /* the two regions */
#define Y (X + CONC_1G)
#define NPAGES 512

struct job {
	struct pt_table *t;
	unsigned index;
	uint64_t seed, iters;
	uint64_t moves, agreed;
};

static void *mover(struct job *j)
{
	for (uint64_t i = 0; i < j->iters; i++) {
		uint64_t from = i % 2 ? Y : X;
		/* Nobody else maps anything: the destination is always free. */
		CONC_RC(pt_move(j->t, from, from == X ? Y : X, CONC_2M, NULL), 0);
		j->moves++;
	}
	return NULL;
}

static bool same(int e1, const struct pt_mapping *a, int e2, const struct pt_mapping *b)
{
	return e1 == e2 && (e1 || (a->va == b->va && a->pa == b->pa && a->size == b->size));
}

static void *looker(struct job *j)
{
	struct conc_rng r;

	conc_rng_init(&r, j->seed, j->index);
	for (uint64_t i = 0; i < j->iters; i++) {
		uint64_t va = (conc_chance(&r, 50) ? X : Y) + conc_below(&r, NPAGES) * CONC_PAGE;
		struct pt_mapping in_cursor, lock_free;
		struct pt_cursor c;

		CONC_RC(pt_cursor_open(&c, j->t, va, CONC_PAGE), 0);
		int e1 = pt_cursor_query(&c, &in_cursor);
		int e2 = pt_query(j->t, va, &lock_free);
		pt_cursor_close(&c);
		CONC_CHECK(e1 == 0 || e1 == PT_ENOENT, "cursor_query: %d", e1);
		CONC_CHECK(same(e1, &in_cursor, e2, &lock_free),
			   "at %#" PRIx64 " the cursor sees %d (pa %#" PRIx64 "), a query %d (pa %#"
			   PRIx64 "): the cursor holds a node that moved", va, e1,
			   e1 ? 0 : in_cursor.pa, e2, e2 ? 0 : lock_free.pa);
		CONC_CHECK(e1 || in_cursor.pa == CONC_UNTRACKED_OFF + (in_cursor.va & (CONC_2M - 1)),
			   "page %#" PRIx64 " has pa %#" PRIx64, in_cursor.va, in_cursor.pa);
		j->agreed++;
	}
	return NULL;
}

static void *job_main(void *arg)
{
	struct job *j = arg;

	conc_start_line();
	return j->index == 0 ? mover(j) : looker(j);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 4;
	uint64_t seed = conc_seed(), moves = 0, agreed = 0;
	struct pt_table_stats st;
	struct pt_mapping m;
	struct pt_phys *phys;
	struct pt_table *t;
	struct job *jobs;

	conc_set_name("conc_move_vs_cursors");
	if (n < 2 || n > 64) {
		fprintf(stderr, "usage: conc_move_vs_cursors THREADS (2..64)\n");
		return 2;
	}
	CONC_RC(pt_phys_create(64ull << 20, &phys), 0);
	CONC_RC(pt_table_create(phys, &pt_format_x86_64, PT_SPACE_USER, &t), 0);
	/* 511 4 KiB leaves (too short for a 2M one): one leaf table. */
	CONC_RC(pt_map(t, X, CONC_UNTRACKED_OFF, CONC_2M - CONC_PAGE, (struct pt_prop){ PT_R, 0 }),
		0);
	jobs = calloc(n, sizeof(*jobs));
	CONC_CHECK(jobs, "calloc");
	for (unsigned i = 0; i < n; i++)
		jobs[i] = (struct job){ t, i, seed, conc_iters(i == 0 ? 20000 : 40000), 0, 0 };
	conc_run_threads(n, job_main, jobs, sizeof(*jobs));
	for (unsigned i = 0; i < n; i++) {
		moves += jobs[i].moves;
		agreed += jobs[i].agreed;
	}
	/* An even number of moves: back at X. */
	CONC_RC(pt_query(t, X + CONC_PAGE, &m), 0);
	CONC_RC(pt_query(t, Y + CONC_PAGE, &m), PT_ENOENT);
	conc_expect_check(t, "after the moves");
	CONC_RC(pt_table_stats(t, &st), 0);
	CONC_CHECK(st.mappings[1] == NPAGES - 1 && st.nodes[1] == 1,
		   "%" PRIu64 " leaves in %" PRIu64 " leaf tables, want %u in 1",
		   st.mappings[1], st.nodes[1], NPAGES - 1);
	CONC_RC(pt_table_destroy(t), 0);
	pt_phys_destroy(phys);
	free(jobs);
	printf("conc_move_vs_cursors: %u threads, seed %" PRIu64 ": %" PRIu64 " moves, %" PRIu64
	       " cursors agreed with queries: ok\n", n, seed, moves, agreed);
	return 0;
}
