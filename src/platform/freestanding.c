/* SPDX-License-Identifier: MPL-2.0 */
/*
 * freestanding.c - what only a freestanding build supplies: a trap for
 * broken internal invariants, and defaults for a single CPU.  A hosted
 * build gets these from hosted.c instead.
 */
#ifndef PT_HOSTED
#include "base.h"
#include "platform/platform.h"

void pt__assert_fail(const char *expr, const char *file, int line)
{
	(void)expr, (void)file, (void)line;
	__builtin_trap();
}

static void no_rcu(void) {}
void (*const pt__default_rcu_read_lock)(void) = no_rcu;
void (*const pt__default_rcu_read_unlock)(void) = no_rcu;

/* One CPU: nothing can still be walking a removed node. */
void pt__default_rcu_defer(struct pt_rcu_head *head)
{
	pt_rcu_release(head);
}

void pt__default_rcu_barrier(void) {}
void pt__default_yield(void) {}
unsigned pt__default_cpu_id(void) { return 0; }
#endif
