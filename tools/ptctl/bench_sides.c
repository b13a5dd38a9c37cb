/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bench_sides.c - the sides `ptctl bench` compares, and their arenas.
 *
 * All sides run the same loops on an x86-64 user table: the same VAs, PAs,
 * page sizes and PTE bits (the bare side gets its leaf and table bits from
 * ptkit's format).  Mappings are untracked (the PAs need no RAM), unmaps
 * pass a NULL flush batch (ptkit invalidates and releases before
 * returning; the hosted invalidation is a no-op), and the arenas hold only
 * page-table nodes.
 *
 * "nosync" is ptkit's own engine compiled without node locks and RCU read
 * sections (src/formats/x86_64_nosync.c, PT_NO_SYNC, built into ptctl
 * only) on a phys of its own: the difference is what the concurrency
 * protocol costs one thread.
 *
 * The loops (bench_loops.h) are instantiated here, where the sides' static
 * const definitions are visible, so each copy calls its side directly.
 */
#include <string.h>

#include "bench_loops.h"

/* The engine without node locks and RCU (src/formats/x86_64_nosync.c). */
extern const struct pt_format pt__format_x86_64_nosync;

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

/* For the other files; the loops here use the static definitions. */
const struct pb_side *const pb_sides[PB_NR_SIDES] = {
	&pb_ptkit, &pb_nosync, &pb_bare,
};

int pb_fail(const struct pb_side *s, const char *what, int rc)
{
	fprintf(stderr, "ptctl bench: %s: %s: %s\n", s->name, what, s->strerror(rc));
	return rc;
}

/* The instances of the loops, one per side.  A side as a parameter would
 * make every call in the loops indirect. */
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

pb_round_fn *const pb_round_fns[PB_NR_SIDES] = {
	pb_round_ptkit, pb_round_nosync, pb_round_bare,
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

int pb_env_init(struct pb_env *e, const struct pb_opts *o)
{
	uint64_t bytes = pb_arena_bytes(o);
	int rc;

	memset(e, 0, sizeof(*e));
	if (o->side[PB_SIDE_PTKIT] && (rc = pt_phys_create(bytes, &e->phys)))
		return pb_fail(&pb_ptkit, "pt_phys_create", rc);
	if (o->side[PB_SIDE_NOSYNC] &&
	    (rc = pt_phys_create(bytes, &e->phys_nosync)))
		return pb_fail(&pb_nosync, "pt_phys_create", rc);
	if (o->side[PB_SIDE_BARE] && (rc = pb_bare_format(&e->bare.fmt)))
		return pb_fail(&pb_ptkit, "encode_leaf", rc);
	if (o->side[PB_SIDE_BARE] &&
	    (rc = bare_arena_init(&e->bare.arena, bytes)))
		return pb_fail(&pb_bare, "arena", rc);
	e->side_env[PB_SIDE_PTKIT] = e->phys;
	e->side_env[PB_SIDE_NOSYNC] = e->phys_nosync;
	e->side_env[PB_SIDE_BARE] = &e->bare;
	return 0;
}

void pb_env_fini(struct pb_env *e)
{
	if (e->phys)
		pt_phys_destroy(e->phys);
	if (e->phys_nosync)
		pt_phys_destroy(e->phys_nosync);
	bare_arena_fini(&e->bare.arena);
}
