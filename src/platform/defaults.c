/* SPDX-License-Identifier: MPL-2.0 */
/*
 * defaults.c - the platform hooks a host did not give: correct for one
 * thread per phys (no RCU needed: nothing can still be walking a detached
 * node, so it is freed at once) and no TLB to invalidate.  Only the yield
 * differs between hosted and freestanding builds (pt__default_yield).
 */
#include "platform/platform.h"

static void no_rcu(void) {}
static void free_now(void *head, void (*fn)(void *head)) { fn(head); }
static void no_invalidate(void *arg, const struct pt_flush_info *info)
{
	(void)arg, (void)info;
}

void pt__platform_fill_defaults(struct pt_platform *p)
{
	if (!p->rcu_read_lock || !p->rcu_read_unlock) {
		p->rcu_read_lock = no_rcu;
		p->rcu_read_unlock = no_rcu;
	}
	if (!p->rcu_defer)
		p->rcu_defer = free_now;
	if (!p->yield)
		p->yield = pt__default_yield;
	if (!p->invalidate)
		p->invalidate = no_invalidate;
}
