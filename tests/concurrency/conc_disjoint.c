/* SPDX-License-Identifier: MPL-2.0 */
/*
 * conc_disjoint.c - N threads (argv[1]: 2, 4 or 8; more than the cores on
 * purpose), each working only in its own ranges, laid out so that threads
 * still meet in the page-table nodes:
 *
 *   window 0  [1G, 1G + 2M)            one leaf table, a chunk per thread
 *   window 1  [1G + 2M, +N * 4M)       two whole 2M slots per thread: 4K and
 *                                      2M leaves side by side, one level-2
 *                                      node shared by all
 *   window 2+t [(2 + t)G, +4M)         a 1G area per thread: only the
 *                                      level-3 node is shared
 *
 * argv[2], if given, names the format (conc_format: "x86_ept", ...; the
 * windows lie in the first 8 GiB, inside every format's space).
 *
 * Each thread maps (untracked, tracked frames, 2M), unmaps, protects and
 * queries, with whole-range calls and cursors, and checks its own pages after
 * every step.  After join: view == merged models, pt_check, exact reference
 * counts, and no frame leaked or freed twice once the table is gone.
 */
#include <stdio.h>
#include <stdlib.h>

#include "conc_model.h"

static unsigned owner(unsigned win, uint64_t idx, unsigned n)
{
	if (win == 0)
		return (unsigned)(idx * n / 512);  /* contiguous chunks of one leaf table */
	if (win == 1)
		return (unsigned)(idx / 1024);     /* two 2M slots each */
	return win - 2;                            /* a 1G area each */
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 4;
	struct cm_window win[CM_MAX_WINDOWS] = {
		{ CONC_1G, 512 },
		{ CONC_1G + CONC_2M, (uint64_t)n * 1024 },
	};
	struct cm_world w;

	if (n < 1 || n + 2 > CM_MAX_WINDOWS) {
		fprintf(stderr, "usage: conc_disjoint THREADS (1..%d) [FORMAT]\n",
			CM_MAX_WINDOWS - 2);
		return 2;
	}
	for (unsigned t = 0; t < n; t++)
		win[2 + t] = (struct cm_window){ (2 + t) * CONC_1G, 1024 };
	cm_world_init(&w, "conc_disjoint", argc > 2 ? argv[2] : NULL, n, win, n + 2, owner,
		      conc_iters(30000), 1024);
	cm_world_run(&w);
	cm_world_finish(&w);
	printf("conc_disjoint: %u threads: ok\n", n);
	return 0;
}
