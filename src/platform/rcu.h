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
#ifdef PT_UBSAN_URCU
/*
 * liburcu-bp hands out reader structs less aligned than their type asks,
 * which UBSan reports from the inlined read side (harmless on every CPU
 * ptkit supports).  Sanitizer builds call it out of line from
 * rcu_ubsan.c, compiled without the alignment check; the rest of ptkit
 * keeps it.
 */
void pt__urcu_bp_read_lock(void);
void pt__urcu_bp_read_unlock(void);
#define PT_URCU_READ_LOCK pt__urcu_bp_read_lock
#define PT_URCU_READ_UNLOCK pt__urcu_bp_read_unlock
#else
#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE /* inline read side */
#endif
#include <urcu/urcu-bp.h>
#define PT_URCU_READ_LOCK urcu_bp_read_lock
#define PT_URCU_READ_UNLOCK urcu_bp_read_unlock
#endif
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
		PT_URCU_READ_LOCK();
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
		PT_URCU_READ_UNLOCK();
		return;
	}
#endif
	phys->platform.rcu_read_unlock();
}

/* Called last before head goes into the platform's queue: whatever was
 * written before is seen by the release (the queue is not instrumented). */
static inline void pt__rcu_before_defer(struct pt_rcu_head *head)
{
#ifdef PT_TSAN
	__tsan_release(head);
#endif
	(void)head;
}

/* Called first by a release that runs after a grace period. */
static inline void pt__rcu_after_grace_period(struct pt_rcu_head *head)
{
#ifdef PT_TSAN
	__tsan_acquire(head);
	__tsan_acquire(&pt__rcu_tsan_sync);
#endif
	(void)head;
}

#endif
