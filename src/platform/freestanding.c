/* SPDX-License-Identifier: MPL-2.0 */
/*
 * freestanding.c - defaults for a kernel that gives no hook: correct on one
 * CPU with no TLB to worry about (an early boot stage).  A hosted build gets
 * its defaults from hosted.c instead.
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
static void free_now(void *head, void (*fn)(void *head)) { fn(head); }
static void no_yield(void) {}
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
		p->yield = no_yield;
	if (!p->invalidate)
		p->invalidate = no_invalidate;
}
#endif
