/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bench_loops.h - the measured loops of the single-thread workloads.
 *
 * Written once for any side and inlined, in bench_sides.c only, into one
 * copy per side, so every call in a measured loop is a direct call.  A
 * round makes a fresh table, runs the scenario's phases, each timed with
 * CLOCK_MONOTONIC, and destroys the table (untimed).
 *
 * Under valgrind only the loops of the selected workloads are instrumented
 * (pb_begin / pb_end in bench.h), so bench/callgrind.sh can count
 * instructions per operation.
 */
#ifndef PTCTL_BENCH_LOOPS_H
#define PTCTL_BENCH_LOOPS_H

#include "bench.h"

#define PB_INLINE static inline __attribute__((always_inline))

/* Runs `call` as phase `ph` of round `i`: timed, and instrumented if the
 * phase is wanted.  Evaluates to call's result. */
#define PB_TIMED(r, ns, ph, i, call) ({					\
	uint64_t t0_ = pb_begin((r)->want[ph]);				\
	int rc_ = (call);						\
	(ns)[ph][i] = pb_end((r)->want[ph], t0_);			\
	rc_;								\
})

/* n calls of phase ph (PB_PH_MAP, _QUERY or _UNMAP), of step bytes, the
 * k-th at PB_VA + off (and PB_PA + off), where off is k * step or, if
 * ordered, order[k].  Every caller passes a constant ph and ordered, so
 * each inlined copy is the loop of one call over one kind of address. */
PB_INLINE int pb_each(const struct pb_side *s, void *t, enum pb_phase ph,
		      uint64_t step, uint64_t n, bool ordered,
		      const uint64_t *order)
{
	uint64_t i, off;
	int rc;

	for (i = 0; i < n; i++) {
		off = ordered ? order[i] : i * step;
		if (ph == PB_PH_MAP)
			rc = s->map(t, PB_VA + off, PB_PA + off, step);
		else if (ph == PB_PH_QUERY)
			rc = s->query(t, PB_VA + off);
		else
			rc = s->unmap(t, PB_VA + off, step);
		if (rc)
			return rc;
	}
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

/* A SWEEP, or (ordered, with r->order: one page per call) a RANDOM
 * scenario.  The query phase runs only if a selected workload reports it. */
PB_INLINE int pb_sweep(const struct pb_side *s, void *t, const struct pb_run *r,
		       unsigned i, uint64_t ns[][PB_MAX_ROUNDS], bool ordered)
{
	uint64_t step = r->sc->page * r->per_call;
	int rc;

	if ((rc = PB_TIMED(r, ns, PB_PH_MAP, i,
			   pb_each(s, t, PB_PH_MAP, step, r->calls, ordered,
				   r->order[0]))))
		return pb_fail(s, "map", rc);
	if (r->want[PB_PH_QUERY] &&
	    (rc = PB_TIMED(r, ns, PB_PH_QUERY, i,
			   pb_each(s, t, PB_PH_QUERY, r->sc->page,
				   r->calls * r->per_call, ordered,
				   r->order[0]))))
		return pb_fail(s, "query", rc);
	if ((rc = PB_TIMED(r, ns, PB_PH_UNMAP, i,
			   pb_each(s, t, PB_PH_UNMAP, step, r->calls, ordered,
				   r->order[1]))))
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
		rc = pb_sweep(s, t, r, i, ns, false);
	else if (r->sc->kind == PB_RANDOM)
		rc = pb_sweep(s, t, r, i, ns, true);
	else if ((rc = PB_TIMED(r, ns, PB_PH_CYCLE, i,
				pb_cycles(s, t, len, r->calls))))
		rc = pb_fail(s, "cycle", rc);
	if ((err = s->close(t)) && !rc)
		rc = pb_fail(s, "destroy table", err);
	return rc;
}

#endif /* PTCTL_BENCH_LOOPS_H */
