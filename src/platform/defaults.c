/* SPDX-License-Identifier: MPL-2.0 */
/*
 * defaults.c - the platform hooks a host did not give.  What differs between
 * hosted and freestanding builds (RCU, yield, CPU slot) comes from hosted.c
 * or freestanding.c as pt__default_*.
 */
#include "platform/platform.h"

static void no_invalidate(void *arg, const struct pt_flush_info *info)
{
	(void)arg, (void)info;
}

void pt__platform_fill_defaults(struct pt_platform *p)
{
	/* The RCU hooks only make sense together. */
	if (!p->rcu_read_lock || !p->rcu_read_unlock || !p->rcu_defer || !p->rcu_barrier) {
		p->rcu_read_lock = pt__default_rcu_read_lock;
		p->rcu_read_unlock = pt__default_rcu_read_unlock;
		p->rcu_defer = pt__default_rcu_defer;
		p->rcu_barrier = pt__default_rcu_barrier;
	}
	if (!p->yield)
		p->yield = pt__default_yield;
	if (!p->cpu_id)
		p->cpu_id = pt__default_cpu_id;
	if (!p->invalidate)
		p->invalidate = no_invalidate;
}
