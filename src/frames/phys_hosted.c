/* SPDX-License-Identifier: MPL-2.0 */
/*
 * phys_hosted.c - RAM for a hosted (user-space) build: an anonymous mapping
 * simulates physical memory starting at address 0.
 */
#include <stdlib.h>
#include <sys/mman.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

#include "frames/phys_internal.h"

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
