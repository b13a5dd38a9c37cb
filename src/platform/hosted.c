/* SPDX-License-Identifier: MPL-2.0 */
/*
 * hosted.c - what a hosted (user-space) build supplies: RAM simulated by an
 * anonymous mapping at physical address 0, and the default platform hooks.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <urcu/urcu-bp.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

#include "frames/phys_internal.h"
#include "platform/platform.h"
#include "platform/rcu.h"

void pt__assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "ptkit: internal invariant broken: %s (%s:%d)\n", expr, file, line);
	abort();
}

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

/* Prefaulted, so benchmarks never measure the host's page faults. */
static void *map_populated(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

int pt_phys_create(uint64_t bytes, struct pt_phys **out)
{
	if (!out || bytes == 0)
		return PT_EINVAL;
	if (bytes & (PT_PAGE_SIZE - 1))
		return PT_EALIGN;
	uint64_t nr_frames = bytes >> PT_PAGE_SHIFT;
	size_t meta_bytes = nr_frames * sizeof(struct pt_frame_meta);
	struct pt_phys *phys = calloc(1, sizeof(*phys));
	void *ram = map_populated(bytes);
	void *meta = map_populated(meta_bytes);
	if (!phys || !ram || !meta) {
		free(phys);
		if (ram)
			munmap(ram, bytes);
		if (meta)
			munmap(meta, meta_bytes);
		return PT_ENOMEM;
	}
	pt__phys_setup(phys, 0, nr_frames, (uintptr_t)ram, meta, 0, NULL);
	phys->hosted = true; /* free frames are poisoned for ASan (phys.c) */
#ifdef __SANITIZE_ADDRESS__
	ASAN_POISON_MEMORY_REGION(ram, bytes); /* all free so far */
#endif
	*out = phys;
	return 0;
}

void pt_phys_destroy(struct pt_phys *phys)
{
	if (!phys)
		return;
	pt_phys_barrier(phys); /* pending releases write the metadata */
	if (!phys->hosted)
		return; /* freestanding storage belongs to the caller */
	munmap(phys->meta, phys->nr_frames * sizeof(struct pt_frame_meta));
#ifdef __SANITIZE_ADDRESS__
	/* The next mapping at this address must not inherit the poison. */
	ASAN_UNPOISON_MEMORY_REGION((void *)phys->linear_offset, phys->nr_frames << PT_PAGE_SHIFT);
#endif
	munmap((void *)phys->linear_offset, phys->nr_frames << PT_PAGE_SHIFT);
	free(phys);
}
