/* SPDX-License-Identifier: MPL-2.0 */
/*
 * hosted.c - the default platform hooks of a hosted (user-space) build:
 * liburcu-bp, sched_yield, one frame cache slot per thread.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <urcu/urcu-bp.h>

#include "base.h"
#include "platform/platform.h"
#include "platform/rcu.h"

void pt__assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "ptkit: internal invariant broken: %s (%s:%d)\n", expr, file, line);
	abort();
}

#ifdef PT_TEST_HOOKS
void (*pt__hook_split_cas)(_Atomic uint64_t *slot, uint64_t hw);
#endif

/* NULL: the engine inlines liburcu-bp's read side (rcu.h). */
void (*const pt__default_rcu_read_lock)(void) = NULL;
void (*const pt__default_rcu_read_unlock)(void) = NULL;

_Static_assert(sizeof(struct rcu_head) <= sizeof(struct pt_rcu_head),
	       "liburcu's rcu_head fits in a node's metadata");

#ifdef PT_TSAN
char pt__rcu_tsan_sync;
/* liburcu's barrier is invisible to TSan: a release "happens before" the
 * return of the barrier that waited for it (pt_phys_destroy then frees). */
static char rcu_tsan_released;
#endif

static void release_after_grace_period(struct rcu_head *head)
{
	pt_rcu_release((struct pt_rcu_head *)head);
#ifdef PT_TSAN
	__tsan_release(&rcu_tsan_released);
#endif
}

void pt__default_rcu_defer(struct pt_rcu_head *head)
{
	urcu_bp_call_rcu((struct rcu_head *)head, release_after_grace_period);
}

void pt__default_rcu_barrier(void)
{
	urcu_bp_barrier();
#ifdef PT_TSAN
	__tsan_acquire(&rcu_tsan_released);
#endif
}

void pt__default_yield(void)
{
	sched_yield();
}

/* Each thread its own frame cache slot, round robin: no system call, and
 * two threads share a slot only past PT_PHYS_CACHES threads. */
unsigned pt__default_cpu_id(void)
{
	static _Atomic unsigned next_slot;
	static _Thread_local unsigned slot_plus_one;

	if (pt_unlikely(!slot_plus_one))
		slot_plus_one = atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed) + 1;
	return slot_plus_one - 1;
}
