/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rcu.h - the RCU read side the engine uses around lock-free walks and
 * cursors.  Hosted builds with no RCU hooks use liburcu's bulletproof
 * flavour with its read side inlined here (no thread registration asked of
 * the caller); otherwise the platform's hooks.
 *
 * ThreadSanitizer cannot see a grace period, so under TSan every read-side
 * unlock "releases" one sync variable that every post-grace-period release
 * "acquires": exactly the ordering RCU guarantees.
 */
#ifndef PTKIT_SRC_RCU_H
#define PTKIT_SRC_RCU_H

#include <ptkit/phys.h>

#ifdef PT_HOSTED
#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE /* inline read side */
#endif
#include <urcu/urcu-bp.h>
#endif

#if defined(__SANITIZE_THREAD__)
#define PT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PT_TSAN 1
#endif
#endif

#ifdef PT_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char pt__rcu_tsan_sync;
#endif

static inline void pt_rcu_read_lock(const struct pt_phys *phys)
{
#ifdef PT_NO_SYNC /* the benchmark's lock-free baseline (node.h) */
	return;
#endif
#ifdef PT_HOSTED
	if (!phys->platform.rcu_read_lock) {
		urcu_bp_read_lock();
		return;
	}
#endif
	phys->platform.rcu_read_lock();
}

static inline void pt_rcu_read_unlock(const struct pt_phys *phys)
{
#ifdef PT_NO_SYNC
	return;
#endif
#ifdef PT_TSAN
	__tsan_release(&pt__rcu_tsan_sync);
#endif
#ifdef PT_HOSTED
	if (!phys->platform.rcu_read_unlock) {
		urcu_bp_read_unlock();
		return;
	}
#endif
	phys->platform.rcu_read_unlock();
}

/* Called first by a release that runs after a grace period. */
static inline void pt__rcu_after_grace_period(void)
{
#ifdef PT_TSAN
	__tsan_acquire(&pt__rcu_tsan_sync);
#endif
}

#endif
