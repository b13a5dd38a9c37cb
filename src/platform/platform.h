/* SPDX-License-Identifier: MPL-2.0 */
/* platform.h - the core's view of the host: the hooks of struct pt_platform,
 * with defaults where the host gave none. */
#ifndef PTKIT_SRC_PLATFORM_H
#define PTKIT_SRC_PLATFORM_H

#include <ptkit/phys.h>

/* Fills every NULL hook with its default (defaults.c). */
void pt__platform_fill_defaults(struct pt_platform *p);

/*
 * The build's defaults (hosted.c / freestanding.c).  Hosted: the read side
 * is NULL, meaning liburcu-bp inlined (rcu.h), releases go through
 * call_rcu, yield is sched_yield, each thread gets its own cache slot.
 * Freestanding: one CPU: no-op read side, immediate release, no yield,
 * slot 0.
 */
extern void (*const pt__default_rcu_read_lock)(void);
extern void (*const pt__default_rcu_read_unlock)(void);
void pt__default_rcu_defer(struct pt_rcu_head *head);
void pt__default_rcu_barrier(void);
void pt__default_yield(void);
unsigned pt__default_cpu_id(void);

#endif
