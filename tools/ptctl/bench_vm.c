/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bench_vm.c - the VM-operation workloads of `ptctl bench` (issue #13):
 * pt_harvest, pt_split and pt_copy, ptkit only.
 *
 * Each round builds its tables untimed, times one call of the operation
 * over the whole region, and tears the tables down untimed; the figure is
 * the median over rounds of ns per 4 KiB page (or per leaf made or
 * copied).  The copy workloads also time, on a fresh pair of tables, what
 * a caller without pt_copy writes (Asterinas's fork): one cursor on each
 * table and, per leaf, pt_cursor_find_next + pt_cursor_query +
 * pt_cursor_protect_next (clearing W) in the source and pt_cursor_map in
 * the destination.  Its ns per operation over pt_copy's is the `loop`
 * ratio.  Rounds alternate which of the two goes first.  Under callgrind
 * only the operation itself is instrumented, not the loop.
 *
 * The bare and nosync sides have no such operations, so these rows have
 * neither.  Mappings are untracked and writable, as in the other
 * workloads, and every call passes a NULL flush (the hosted invalidation
 * is a no-op).
 */
#include <string.h>

#include <ptkit/cursor.h>

#include "bench.h"

/* Sizes of the regions, full and --quick. */
#define PB_VM_REGION PB_1G
#define PB_VM_QUICK_REGION (UINT64_C(64) << 20)
/* copy2m: 32768 2M leaves (64 leaf-table-free level-2 nodes). */
#define PB_VM_REGION_2M (UINT64_C(64) << 30)
#define PB_VM_QUICK_REGION_2M (UINT64_C(1) << 30)
#define PB_VM_ROUNDS 11
#define PB_VM_MAX_PAGES (PB_VM_REGION / PB_4K)

enum pb_vm_kind { PB_VM_HARVEST, PB_VM_SPLIT, PB_VM_COPY };

struct pb_vm_scenario {
	enum pb_vm_kind kind;
	uint64_t per_op;         /* bytes per operation: a leaf copied or
				  * made, or a page harvested */
	uint64_t region, quick_region;
	unsigned max_leaf_level; /* of every table of the round */
};

static const struct pb_vm_scenario pb_vm_harvest = {
	PB_VM_HARVEST, PB_4K, PB_VM_REGION, PB_VM_QUICK_REGION, 1,
};
static const struct pb_vm_scenario pb_vm_split = {
	PB_VM_SPLIT, PB_4K, PB_VM_REGION, PB_VM_QUICK_REGION, 2,
};
static const struct pb_vm_scenario pb_vm_copy4k = {
	PB_VM_COPY, PB_4K, PB_VM_REGION, PB_VM_QUICK_REGION, 1,
};
static const struct pb_vm_scenario pb_vm_copy2m = {
	PB_VM_COPY, PB_2M, PB_VM_REGION_2M, PB_VM_QUICK_REGION_2M, 2,
};

const struct pb_vm_workload pb_vm_workloads[] = {
	{ "vm_harvest4k", "a 4K page of pt_harvest(D, CLEAR) of 1G of 4K, half dirty",
	  &pb_vm_harvest },
	{ "vm_split4k", "a 4K leaf made by pt_split of 1G of 2M (KVM: ~62 ns)",
	  &pb_vm_split },
	{ "vm_copy4k", "a 4K page of pt_copy(COW) of 1G of 4K", &pb_vm_copy4k },
	{ "vm_copy2m", "a 2M leaf of pt_copy(COW) of 64G of 2M", &pb_vm_copy2m },
};

/* bench.h sizes the result arrays with PB_NR_VM. */
_Static_assert(sizeof(pb_vm_workloads) / sizeof(pb_vm_workloads[0]) == PB_NR_VM,
	       "PB_NR_VM is not the number of VM workloads");

/* One round's tables and what it measures. */
struct pb_vm_round {
	struct pt_phys *phys;
	const struct pb_vm_scenario *sc;
	uint64_t region;
	struct pt_table *src, *dst;
};

static int pb_vm_fail(const char *what, int rc)
{
	fprintf(stderr, "ptctl bench: %s: %s\n", what, pt_strerror(rc));
	return rc;
}

static int pb_vm_open(struct pb_vm_round *r, struct pt_table **t)
{
	struct pt_table_opts opts = { .max_leaf_level = r->sc->max_leaf_level };
	int rc = pt_table_create_opts(r->phys, &pt_format_x86_64, PT_SPACE_USER,
				      &opts, t);

	return rc ? pb_vm_fail("create table", rc) : 0;
}

/* Untimed: the nodes come back after a grace period, so wait for them. */
static void pb_vm_close(struct pb_vm_round *r)
{
	if (r->src)
		pt_table_destroy(r->src);
	if (r->dst)
		pt_table_destroy(r->dst);
	r->src = r->dst = NULL;
	pt_phys_barrier(r->phys);
}

/* The source: the region mapped writable in leaves of the scenario's size
 * (its max_leaf_level caps them). */
static int pb_vm_source(struct pb_vm_round *r)
{
	int rc = pb_vm_open(r, &r->src);

	if (!rc && (rc = pt_map(r->src, PB_VA, PB_PA, r->region, pb_prop)))
		return pb_vm_fail("pt_map", rc);
	return rc;
}

/* Every other 4K page of the source dirty (pt_protect of D, page by page):
 * what a harvest finds and clears. */
static int pb_vm_dirty_half(struct pb_vm_round *r)
{
	uint64_t off;
	int rc;

	for (off = 0; off < r->region; off += 2 * PB_4K)
		if ((rc = pt_protect(r->src, PB_VA + off, PB_4K, PT_D, 0, NULL)))
			return pb_vm_fail("pt_protect", rc);
	return 0;
}

static uint64_t pb_vm_popcount(const uint64_t *bitmap, uint64_t pages)
{
	uint64_t i, n = 0;

	for (i = 0; i < pages / 64; i++)
		n += (uint64_t)__builtin_popcountll(bitmap[i]);
	return n;
}

/* Harvest: timed, one pt_harvest clearing D; it must find half the pages. */
static int pb_vm_harvest_round(struct pb_vm_round *r, uint64_t *ns)
{
	static uint64_t bitmap[PB_VM_MAX_PAGES / 64];
	uint64_t pages = r->region / PB_4K, t0;
	int rc;

	if ((rc = pb_vm_source(r)) || (rc = pb_vm_dirty_half(r)))
		return rc;
	t0 = pb_begin(true);
	rc = pt_harvest(r->src, PB_VA, r->region,
			PT_HARVEST_DIRTY | PT_HARVEST_CLEAR, bitmap, NULL);
	*ns = pb_end(true, t0);
	if (rc)
		return pb_vm_fail("pt_harvest", rc);
	if (pb_vm_popcount(bitmap, pages) != pages / 2) {
		fputs("ptctl bench: pt_harvest did not find half the pages dirty\n",
		      stderr);
		return -1;
	}
	return 0;
}

/* Split: timed, one pt_split of every 2M leaf to 4K from a stash filled
 * beforehand (untimed) with exactly the leaf tables it needs. */
static int pb_vm_split_round(struct pb_vm_round *r, uint64_t *ns)
{
	struct pt_reserve stash = { 0 };
	uint64_t t0;
	int rc;

	if ((rc = pb_vm_source(r)))
		return rc;
	if ((rc = pt_reserve_fill(r->src, &stash, r->region / PB_2M)))
		return pb_vm_fail("pt_reserve_fill", rc);
	t0 = pb_begin(true);
	rc = pt_split(r->src, PB_VA, r->region, 1, &stash);
	*ns = pb_end(true, t0);
	pt_reserve_drain(r->src, &stash);
	return rc ? pb_vm_fail("pt_split", rc) : 0;
}

static void pb_vm_clear_w(struct pt_prop *prop, void *arg)
{
	(void)arg;
	prop->flags &= ~(uint32_t)PT_W;
}

/* The copy as a caller without pt_copy writes it, leaf by leaf under one
 * cursor on each table. */
static int pb_vm_copy_loop(struct pb_vm_round *r)
{
	struct pt_cursor sc, dc;
	struct pt_mapping m;
	uint64_t end = PB_VA + r->region, va;
	int rc;

	if ((rc = pt_cursor_open(&sc, r->src, PB_VA, r->region)))
		return rc;
	if ((rc = pt_cursor_open(&dc, r->dst, PB_VA, r->region))) {
		pt_cursor_close(&sc);
		return rc;
	}
	while (pt_cursor_va(&sc) != end &&
	       !(rc = pt_cursor_find_next(&sc, UINT64_MAX, &va)) &&
	       !(rc = pt_cursor_query(&sc, &m)) &&
	       !(rc = pt_cursor_protect_next(&sc, m.size, pb_vm_clear_w, NULL,
					     NULL, NULL, NULL)) &&
	       !(rc = pt_cursor_jump(&dc, m.va))) {
		pb_vm_clear_w(&m.prop, NULL);
		if ((rc = pt_cursor_map(&dc, &m)))
			break;
	}
	pt_cursor_close(&dc);
	pt_cursor_close(&sc);
	return rc == PT_ENOENT ? 0 : rc;
}

/* Copy: timed, pt_copy (loop false) or the cursor loop (loop true) into
 * an empty table. */
static int pb_vm_copy_round(struct pb_vm_round *r, bool loop, uint64_t *ns)
{
	uint64_t t0;
	int rc;

	if ((rc = pb_vm_source(r)) || (rc = pb_vm_open(r, &r->dst)))
		return rc;
	t0 = pb_begin(!loop);
	rc = loop ? pb_vm_copy_loop(r)
		  : pt_copy(r->dst, r->src, PB_VA, r->region, PT_COPY_COW, NULL);
	*ns = pb_end(!loop, t0);
	return rc ? pb_vm_fail(loop ? "copy loop" : "pt_copy", rc) : 0;
}

/* One round of one side (the operation, or with loop the copy loop). */
static int pb_vm_round(struct pb_vm_round *r, bool loop, uint64_t *ns)
{
	int rc;

	if (r->sc->kind == PB_VM_HARVEST)
		rc = pb_vm_harvest_round(r, ns);
	else if (r->sc->kind == PB_VM_SPLIT)
		rc = pb_vm_split_round(r, ns);
	else
		rc = pb_vm_copy_round(r, loop, ns);
	pb_vm_close(r);
	return rc;
}

static bool pb_vm_selected(const struct pb_opts *o, size_t w)
{
	return o->side[PB_SIDE_PTKIT] &&
	       (!o->workload || !strcmp(o->workload, pb_vm_workloads[w].name));
}

/* The rounds of one workload: res gets the medians per operation. */
static int pb_vm_run(struct pb_env *e, const struct pb_opts *o,
		     const struct pb_vm_scenario *sc, struct pb_vm_result *res)
{
	struct pb_vm_round r = { .phys = e->phys, .sc = sc };
	uint64_t ns[2][PB_VM_ROUNDS];
	unsigned rounds = o->quick ? 1 : PB_VM_ROUNDS, i, k, sides;

	r.region = o->quick ? sc->quick_region : sc->region;
	sides = sc->kind == PB_VM_COPY ? 2 : 1;
	for (i = 0; i < rounds; i++)
		for (k = 0; k < sides; k++) {
			bool loop = (k + i) % sides;

			if (pb_vm_round(&r, loop, &ns[loop][i]))
				return -1;
		}
	res->ran = true;
	res->has_loop = sides == 2;
	res->ops = r.region / sc->per_op;
	res->rounds = rounds;
	res->ns = pb_median_ns(ns[0], rounds) / (double)res->ops;
	if (res->has_loop)
		res->loop_ns = pb_median_ns(ns[1], rounds) / (double)res->ops;
	return 0;
}

int pb_vm_run_all(struct pb_env *e, const struct pb_opts *o,
		  struct pb_vm_result res[])
{
	size_t w;

	for (w = 0; w < PB_NR_VM; w++)
		if (pb_vm_selected(o, w) &&
		    pb_vm_run(e, o, pb_vm_workloads[w].sc, &res[w]))
			return -1;
	return 0;
}
