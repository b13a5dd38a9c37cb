/* SPDX-License-Identifier: MPL-2.0 */
/*
 * conc_slow_reader.c - a lock-free walker that saw a node before it was
 * detached still reads valid memory: the node is freed only after the
 * walker's RCU read section ends (design §5 "TLB and freeing").
 *
 * Thread R runs pt_for_each_mapping over a region and stops inside its
 * callback at the first mapping (inside the read section).  Meanwhile:
 *  1. the main thread unmaps the range, detaching the subtree R is in;
 *     the invalidation callback runs before any node is queued for release;
 *  2. the detached nodes are not free: pt_phys_free_frames did not grow,
 *     pt_phys_reclaimable_frames counts them as pending, each node frame is
 *     still in use; tracked data frames, though, are back to the caller's
 *     one reference at once (ptkit never reads them: no grace period);
 *  3. a helper thread calls pt_phys_barrier: it must not return while R is
 *     inside;
 *  4. a scribbler allocates every free frame again and again, fills it with
 *     garbage and frees it: none of them may be a node R can still reach;
 *  5. R is let go: it must see every mapping the region had before the
 *     unmap (the detached nodes were left intact: a reused node would show
 *     garbage or nothing);
 *  6. then the barrier returns and exactly the detached nodes are free.
 * Done twice: detaching the whole 1G subtree (level-2 node and its leaf
 * tables), and detaching only the leaf table R stopped in.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "conc_util.h"

#define REGION (5 * CONC_1G)
#define NTRACKED 8
#define MAX_NODES 64
#define MAX_SCRIBBLE 4096
#define WAIT_LIMIT_MS 20000 /* a stuck handshake fails instead of hanging */

static const struct pt_prop RW = { PT_R | PT_W | PT_U, PT_CACHE_WB };

struct state {
	struct pt_phys *phys;
	struct pt_table *t;
	struct conc_view seen;     /* what R recorded */
	atomic_bool r_inside, r_go, r_done, barrier_done;
	/* recorded by the invalidation callback */
	atomic_int invalidations;
	atomic_bool nodes_removed;
	atomic_llong pending_at_invalidate;
};

static struct state st;

/* ---- R ---- */

static void wait_flag(atomic_bool *flag, const char *what)
{
	for (int ms = 0; !atomic_load(flag); ms++) {
		CONC_CHECK(ms < WAIT_LIMIT_MS, "timed out waiting for %s", what);
		conc_sleep_ms(1);
	}
}

static int slow_record(const struct pt_mapping *m, void *arg)
{
	struct conc_view *v = arg;

	if (v->nr == 0) {
		/* Inside the read section, holding pointers into the nodes. */
		atomic_store(&st.r_inside, true);
		wait_flag(&st.r_go, "the main thread to let R go");
	}
	if (v->nr == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 4096;
		v->maps = realloc(v->maps, v->cap * sizeof(*v->maps));
		CONC_CHECK(v->maps, "out of memory");
	}
	v->maps[v->nr++] = *m;
	return 0;
}

static void *reader_main(void *arg)
{
	(void)arg;
	CONC_RC(pt_for_each_mapping(st.t, REGION, CONC_1G, slow_record, &st.seen), 0);
	atomic_store(&st.r_done, true);
	return NULL;
}

static void *barrier_main(void *arg)
{
	(void)arg;
	pt_phys_barrier(st.phys);
	atomic_store(&st.barrier_done, true);
	return NULL;
}

/* ---- the invalidation callback: runs before anything is released ---- */

static void on_invalidate(void *arg, const struct pt_flush_info *info)
{
	(void)arg;
	atomic_fetch_add(&st.invalidations, 1);
	if (info->nodes_removed)
		atomic_store(&st.nodes_removed, true);
	atomic_store(&st.pending_at_invalidate,
		     (long long)(pt_phys_reclaimable_frames(st.phys) -
				 pt_phys_free_frames(st.phys)));
}

/* ---- the raw tables: which frames are the nodes to be detached ---- */

struct nodes {
	size_t n;
	uint64_t pa[MAX_NODES];
};

static void add_subtree(struct nodes *out, uint64_t pa, unsigned level)
{
	const uint64_t *ptes = pt_phys_to_virt(st.phys, pa);
	uint64_t child;

	CONC_CHECK(out->n < MAX_NODES, "more nodes than expected");
	out->pa[out->n++] = pa;
	for (unsigned i = 0; level > 1 && i < 512; i++)
		if (pt_format_x86_64.decode(ptes[i], level, 0, &child, NULL, NULL) ==
		    PT_DECODE_TABLE)
			add_subtree(out, child, level - 1);
}

/* Every node whose whole range lies in [lo, hi]: what unmap detaches. */
static void nodes_inside(struct nodes *out, uint64_t pa, unsigned level, uint64_t base,
			 uint64_t lo, uint64_t hi)
{
	const uint64_t *ptes = pt_phys_to_virt(st.phys, pa);
	uint64_t size = pt_level_size(level), child;

	for (unsigned i = 0; i < 512; i++) {
		uint64_t b = base + i * size, e = b + size - 1;
		if (e < lo || b > hi ||
		    pt_format_x86_64.decode(ptes[i], level, 0, &child, NULL, NULL) !=
			    PT_DECODE_TABLE)
			continue;
		if (b >= lo && e <= hi)
			add_subtree(out, child, level - 1);
		else
			nodes_inside(out, child, level - 1, b, lo, hi);
	}
}

static void expect_nodes_in_use(const struct nodes *nd, const char *when)
{
	for (size_t i = 0; i < nd->n; i++)
		CONC_CHECK(pt_frame_refcount(st.phys, nd->pa[i]) != PT_REFCOUNT_UNUSED,
			   "%s: detached node %#" PRIx64 " is already free while R can "
			   "still read it", when, nd->pa[i]);
}

static bool is_node(const struct nodes *nd, uint64_t pa)
{
	for (size_t i = 0; i < nd->n; i++)
		if (nd->pa[i] == pa)
			return true;
	return false;
}

/* ---- the scribbler ---- */

/* Takes every frame it can get, fills it with garbage, frees it again. */
static void scribble_round(const struct nodes *nd)
{
	static uint64_t got[MAX_SCRIBBLE];
	size_t n = 0;

	while (n < MAX_SCRIBBLE && pt_frame_alloc(st.phys, &got[n]) == 0) {
		CONC_CHECK(!is_node(nd, got[n]), "pt_frame_alloc handed out detached node %#"
			   PRIx64 " while a walker is still inside it", got[n]);
		memset(pt_phys_to_virt(st.phys, got[n]), 0xa5, CONC_PAGE);
		n++;
	}
	while (n--)
		CONC_RC(pt_frame_put(st.phys, got[n]), 0);
}

static void scribble_for(const struct nodes *nd, unsigned ms)
{
	double end = conc_now() + ms / 1000.0;
	unsigned rounds = 0;

	while (conc_now() < end || rounds < 3) {
		scribble_round(nd);
		CONC_CHECK(!atomic_load(&st.barrier_done), "pt_phys_barrier returned while a "
			   "walker is still inside its read section");
		CONC_CHECK(!atomic_load(&st.r_done), "R finished without being let go");
		rounds++;
	}
}

/* ---- one scenario ---- */

static void map_region(const struct conc_frames *pool)
{
	/* Four leaf tables of 4K leaves spread over the 1G, plus tracked pages
	 * in a fifth: the 1G subtree holds 6 nodes. */
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t va = REGION + i * 128 * CONC_2M;
		CONC_RC(pt_map(st.t, va, va + CONC_UNTRACKED_OFF + CONC_PAGE, CONC_2M, RW), 0);
	}
	CONC_RC(pt_map_frames(st.t, REGION + 600 * CONC_2M / 2, pool->pa, pool->n, RW), 0);
}

static void expect_same_view(const struct conc_view *want, const struct conc_view *got)
{
	char a[160], b[160];

	CONC_CHECK(got->nr == want->nr, "R saw %zu mappings, the region had %zu", got->nr,
		   want->nr);
	for (size_t i = 0; i < want->nr; i++) {
		const struct pt_mapping *x = &want->maps[i], *y = &got->maps[i];
		CONC_CHECK(x->va == y->va && x->pa == y->pa && x->size == y->size &&
			   x->prop.flags == y->prop.flags && x->tracked == y->tracked,
			   "R's mapping #%zu is %s, the region had %s: R read a node that "
			   "changed under it", i, conc_fmt_map(y, a, sizeof(a)),
			   conc_fmt_map(x, b, sizeof(b)));
	}
}

static void reset_flags(void)
{
	atomic_store(&st.r_inside, false);
	atomic_store(&st.r_go, false);
	atomic_store(&st.r_done, false);
	atomic_store(&st.barrier_done, false);
	atomic_store(&st.invalidations, 0);
	atomic_store(&st.nodes_removed, false);
	atomic_store(&st.pending_at_invalidate, -1);
	st.seen = (struct conc_view){ 0 };
}

/* Steps 1-2 of the header: unmap while R is inside, then look. */
static void unmap_under_reader(uint64_t va, uint64_t len, const struct nodes *nd,
			       const struct conc_frames *pool, uint64_t free0)
{
	CONC_RC(pt_unmap(st.t, va, len, NULL), 0);
	CONC_CHECK(atomic_load(&st.invalidations) >= 1 && atomic_load(&st.nodes_removed),
		   "unmap detached nodes without a non-leaf invalidation");
	CONC_CHECK(atomic_load(&st.pending_at_invalidate) == 0, "%lld nodes were queued for "
		   "release before the invalidation", atomic_load(&st.pending_at_invalidate));
	CONC_CHECK(pt_phys_free_frames(st.phys) == free0, "free frames went from %" PRIu64
		   " to %" PRIu64 " while R is inside the detached nodes", free0,
		   pt_phys_free_frames(st.phys));
	CONC_CHECK(pt_phys_reclaimable_frames(st.phys) == free0 + nd->n, "reclaimable %" PRIu64
		   ", want %" PRIu64 " free + %zu pending nodes",
		   pt_phys_reclaimable_frames(st.phys), free0, nd->n);
	expect_nodes_in_use(nd, "right after the unmap");
	if (len == CONC_1G) /* the tracked pages were in it: no grace period for them */
		conc_frames_expect_refs(pool, st.phys, NULL, "right after the unmap");
}

/* Steps 3-4: the barrier waits and no node is handed out meanwhile. */
static void hold_grace_period(const char *name, const struct nodes *nd, uint64_t free0,
			      pthread_t *barrier)
{
	CONC_CHECK(pthread_create(barrier, NULL, barrier_main, NULL) == 0, "pthread_create");
	scribble_for(nd, 200);
	CONC_CHECK(pt_phys_free_frames(st.phys) == free0 &&
		   pt_phys_reclaimable_frames(st.phys) == free0 + nd->n,
		   "%s: detached nodes came back during the grace period", name);
	expect_nodes_in_use(nd, "after scribbling");
}

static void scenario(const char *name, uint64_t va, uint64_t len, size_t want_nodes,
		     const struct conc_frames *pool)
{
	struct conc_view before;
	struct nodes nd = { 0 };
	pthread_t r, b;

	reset_flags();
	map_region(pool);
	conc_view_collect(st.t, REGION, CONC_1G, &before);
	nodes_inside(&nd, pt_table_root(st.t), 4, 0, va, va + len - 1);
	CONC_CHECK(nd.n == want_nodes, "%s: %zu nodes to detach, expected %zu", name, nd.n,
		   want_nodes);
	CONC_CHECK(pthread_create(&r, NULL, reader_main, NULL) == 0, "pthread_create");
	wait_flag(&st.r_inside, "R to stop inside its callback");
	uint64_t free0 = pt_phys_free_frames(st.phys);
	CONC_CHECK(pt_phys_reclaimable_frames(st.phys) == free0, "releases pending already");
	unmap_under_reader(va, len, &nd, pool, free0);
	hold_grace_period(name, &nd, free0, &b);
	atomic_store(&st.r_go, true); /* step 5 */
	CONC_CHECK(pthread_join(r, NULL) == 0, "pthread_join");
	expect_same_view(&before, &st.seen);
	CONC_CHECK(pthread_join(b, NULL) == 0, "pthread_join"); /* step 6 */
	CONC_CHECK(pt_phys_free_frames(st.phys) == free0 + nd.n &&
		   pt_phys_reclaimable_frames(st.phys) == free0 + nd.n,
		   "%s: after R and the barrier: %" PRIu64 " free, %" PRIu64 " reclaimable, "
		   "want %" PRIu64, name, pt_phys_free_frames(st.phys),
		   pt_phys_reclaimable_frames(st.phys), free0 + nd.n);
	for (size_t i = 0; i < nd.n; i++)
		CONC_CHECK(pt_frame_refcount(st.phys, nd.pa[i]) == PT_REFCOUNT_UNUSED,
			   "%s: node %#" PRIx64 " not freed after the grace period", name, nd.pa[i]);
	printf("conc_slow_reader: %s: %zu nodes held through the grace period, R saw %zu "
	       "mappings\n", name, nd.n, st.seen.nr);
	conc_view_free(&before);
	conc_view_free(&st.seen);
	CONC_RC(pt_unmap(st.t, REGION, CONC_1G, NULL), 0); /* what scenario B left */
	pt_phys_barrier(st.phys);
}

int main(void)
{
	const struct pt_table_opts opts = { .invalidate = on_invalidate };
	struct conc_frames pool;

	conc_set_name("conc_slow_reader");
	CONC_RC(pt_phys_create(8 << 20, &st.phys), 0);
	conc_frames_alloc(&pool, st.phys, NTRACKED);
	uint64_t free_before = pt_phys_free_frames(st.phys);
	CONC_RC(pt_table_create_opts(st.phys, &pt_format_x86_64, PT_SPACE_USER, &opts, &st.t), 0);
	scenario("whole 1G subtree", REGION, CONC_1G, 6, &pool);
	scenario("the leaf table R is in", REGION, CONC_2M, 1, &pool);
	conc_expect_check(st.t, "at the end");
	conc_frames_expect_refs(&pool, st.phys, NULL, "at the end");
	conc_destroy_expect_free(st.t, st.phys, free_before);
	conc_frames_put(&pool, st.phys);
	pt_phys_destroy(st.phys);
	printf("conc_slow_reader: ok\n");
	return 0;
}
