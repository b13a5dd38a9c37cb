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

#include "frames/phys_internal.h"
#include "platform/platform.h"

void pt__assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "ptkit: internal invariant broken: %s (%s:%d)\n", expr, file, line);
	abort();
}

void pt__default_yield(void)
{
	sched_yield();
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
	pt__platform_fill_defaults(&phys->platform);
	phys->hosted = true;
	*out = phys;
	return 0;
}

void pt_phys_destroy(struct pt_phys *phys)
{
	if (!phys)
		return;
	if (!phys->hosted)
		return; /* freestanding storage belongs to the caller */
	munmap(phys->meta, phys->nr_frames * sizeof(struct pt_frame_meta));
	munmap((void *)phys->linear_offset, phys->nr_frames << PT_PAGE_SHIFT);
	free(phys);
}
