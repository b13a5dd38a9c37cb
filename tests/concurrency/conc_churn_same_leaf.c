/* SPDX-License-Identifier: MPL-2.0 */
/*
 * conc_churn_same_leaf.c - N threads (argv[1]) on interleaved pages of the
 * same few leaf tables: page i belongs to thread i % N, so every operation
 * of every thread takes the same handful of node locks.  Two windows:
 *
 *   [1G, 1G + 8M)          four leaf tables under one level-2 node
 *   [2G - 2M, 2G + 2M)     two leaf tables under two level-2 nodes, so
 *                          cursors that span the 1G boundary lock the
 *                          level-3 node and both subtrees
 *
 * Single-page map/unmap/protect/query, tracked and untracked, and cursors
 * over neighbours' pages (wide cursors) to hold locks others wait for.
 * The same checks as conc_disjoint after join; argv[2] names the format, as
 * there.
 */
#include <stdio.h>
#include <stdlib.h>

#include "conc_model.h"

static unsigned owner(unsigned win, uint64_t idx, unsigned n)
{
	(void)win;
	return (unsigned)(idx % n);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 4;
	const struct cm_window win[] = {
		{ CONC_1G, 4 * 512 },
		{ 2 * CONC_1G - CONC_2M, 2 * 512 },
	};
	struct cm_world w;

	if (n < 1 || n > 64) {
		fprintf(stderr, "usage: conc_churn_same_leaf THREADS (1..64) [FORMAT]\n");
		return 2;
	}
	cm_world_init(&w, "conc_churn_same_leaf", argc > 2 ? argv[2] : NULL, n, win, 2, owner,
		      conc_iters(40000), 1);
	cm_world_run(&w);
	cm_world_finish(&w);
	printf("conc_churn_same_leaf: %u threads: ok\n", n);
	return 0;
}
