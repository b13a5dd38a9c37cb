/* SPDX-License-Identifier: MPL-2.0 */
/*
 * phys.c - frames: metadata slots, reference counts and the allocator.
 *
 * The free list is a LIFO stack threaded through the metadata slots, so
 * alloc and free of one frame are O(1) and a frame just freed is the next one
 * handed out (hot in the cache).  Frames are zeroed when allocated.
 */
#include "frames/frame_meta.h"
#include "frames/phys_internal.h"
#include "platform/platform.h"

static void push_free(struct pt_phys *phys, uint64_t idx)
{
	struct pt_frame_meta *m = &phys->meta[idx];

	m->usage = PT_USAGE_FREE;
	atomic_store_explicit(&m->refcount, PT_REFCOUNT_UNUSED, memory_order_relaxed);
	m->next = phys->free_head;
	phys->free_head = idx;
	phys->nr_free++;
}

void pt__phys_setup(struct pt_phys *phys, uint64_t ram_pa, uint64_t nr_frames,
		    uintptr_t linear_offset, struct pt_frame_meta *meta,
		    uint64_t first_free, const struct pt_platform *platform)
{
	*phys = (struct pt_phys){
		.ram_pa = ram_pa,
		.nr_frames = nr_frames,
		.linear_offset = linear_offset,
		.meta = meta,
		.free_head = PT_NO_FRAME,
	};
	if (platform)
		phys->platform = *platform;
	for (uint64_t i = 0; i < first_free; i++) {
		meta[i] = (struct pt_frame_meta){ .usage = PT_USAGE_RESERVED };
		atomic_store_explicit(&meta[i].refcount, 1, memory_order_relaxed);
	}
	/* Pushed top-down so that allocation starts at the lowest address. */
	for (uint64_t i = nr_frames; i-- > first_free;) {
		meta[i] = (struct pt_frame_meta){ 0 };
		push_free(phys, i);
	}
}

int pt_phys_init(struct pt_phys *storage, uint64_t ram_pa, uint64_t bytes,
		 uintptr_t linear_offset, const struct pt_platform *platform)
{
	if (!storage || bytes == 0)
		return PT_EINVAL;
	if ((ram_pa | bytes) & (PT_PAGE_SIZE - 1))
		return PT_EALIGN;
	if (ram_pa + bytes < ram_pa)
		return PT_ERANGE;
	uint64_t nr_frames = bytes >> PT_PAGE_SHIFT;
	uint64_t meta_frames = (nr_frames * sizeof(struct pt_frame_meta) + PT_PAGE_SIZE - 1)
			       >> PT_PAGE_SHIFT;
	if (meta_frames >= nr_frames)
		return PT_ENOMEM;
	struct pt_frame_meta *meta = (void *)(uintptr_t)(ram_pa + linear_offset);
	pt__phys_setup(storage, ram_pa, nr_frames, linear_offset, meta, meta_frames, platform);
	pt__platform_fill_defaults(&storage->platform);
	return 0;
}

void pt_phys_fail_nth_alloc(struct pt_phys *phys, uint64_t nth)
{
	phys->alloc_fail_at = nth;
}

uint64_t pt_phys_free_frames(const struct pt_phys *phys)
{
	return phys->nr_free;
}

/* Fault injection: true when this allocation is the one asked to fail. */
static bool injected_failure(struct pt_phys *phys)
{
	if (pt_likely(phys->alloc_fail_at == 0))
		return false;
	return --phys->alloc_fail_at == 0;
}

int pt__frame_alloc(struct pt_phys *phys, enum pt_frame_usage usage, uint64_t *pa)
{
	uint64_t idx = phys->free_head;

	if (pt_unlikely(idx == PT_NO_FRAME || injected_failure(phys)))
		return PT_ENOMEM;
	struct pt_frame_meta *m = &phys->meta[idx];
	phys->free_head = m->next;
	phys->nr_free--;
	PT_ASSERT(m->usage == PT_USAGE_FREE);
	m->usage = (uint8_t)usage;
	m->level = 0;
	m->nr_children = 0;
	m->nr_tracked = 0;
	atomic_store_explicit(&m->stray, false, memory_order_relaxed);
	m->next = PT_NO_FRAME;
	*pa = pt_pa_of_index(phys, idx);
	pt_zero_page(pt_va_of(phys, *pa));
	atomic_store_explicit(&m->refcount, 1, memory_order_relaxed);
	return 0;
}

void pt__frame_free(struct pt_phys *phys, uint64_t pa)
{
	PT_ASSERT(pt_frame_managed(phys, pa));
	push_free(phys, pt_frame_index(phys, pa));
}

void pt__frame_put_valid(struct pt_phys *phys, uint64_t pa)
{
	struct pt_frame_meta *m = pt_meta_of(phys, pa);
	uint64_t old = atomic_fetch_sub_explicit(&m->refcount, 1, memory_order_release);

	PT_ASSERT(old != 0 && old <= PT_REFCOUNT_MAX);
	if (old == 1) {
		atomic_thread_fence(memory_order_acquire);
		pt__frame_free(phys, pa);
	}
}

int pt_frame_alloc(struct pt_phys *phys, uint64_t *pa)
{
	if (!phys || !pa)
		return PT_EINVAL;
	return pt__frame_alloc(phys, PT_USAGE_DATA, pa);
}

/* A data frame someone holds: the only kind a caller may count. */
static struct pt_frame_meta *held_data_frame(const struct pt_phys *phys, uint64_t pa)
{
	if (!phys || (pa & (PT_PAGE_SIZE - 1)) || !pt_frame_managed(phys, pa))
		return NULL;
	struct pt_frame_meta *m = pt_meta_of(phys, pa);
	uint64_t rc = atomic_load_explicit(&m->refcount, memory_order_relaxed);
	if (m->usage != PT_USAGE_DATA || rc == 0 || rc > PT_REFCOUNT_MAX)
		return NULL;
	return m;
}

int pt_frame_get(struct pt_phys *phys, uint64_t pa)
{
	struct pt_frame_meta *m = held_data_frame(phys, pa);

	if (!m)
		return PT_EINVAL;
	uint64_t rc = atomic_load_explicit(&m->refcount, memory_order_relaxed);
	do {
		if (rc == 0 || rc >= PT_REFCOUNT_MAX)
			return PT_EINVAL;
	} while (!atomic_compare_exchange_weak_explicit(&m->refcount, &rc, rc + 1,
							memory_order_relaxed,
							memory_order_relaxed));
	return 0;
}

int pt_frame_put(struct pt_phys *phys, uint64_t pa)
{
	if (!held_data_frame(phys, pa))
		return PT_EINVAL;
	pt__frame_put_valid(phys, pa);
	return 0;
}

uint64_t pt_frame_refcount(const struct pt_phys *phys, uint64_t pa)
{
	if (!phys || !pt_frame_managed(phys, pa))
		return PT_REFCOUNT_UNUSED;
	return atomic_load_explicit(&pt_meta_of(phys, pa)->refcount, memory_order_relaxed);
}

void *pt_phys_to_virt(const struct pt_phys *phys, uint64_t pa)
{
	if (!phys || !pt_frame_managed(phys, pa))
		return NULL;
	return pt_va_of(phys, pa);
}

int pt__reserve(struct pt_phys *phys, struct pt_reserve *r, uint64_t n)
{
	r->head = PT_NO_FRAME;
	r->count = 0;
	while (r->count < n) {
		uint64_t pa;
		if (pt__frame_alloc(phys, PT_USAGE_NODE, &pa) != 0) {
			pt__reserve_release(phys, r);
			return PT_ENOMEM;
		}
		pt_meta_of(phys, pa)->next = r->head;
		r->head = pt_frame_index(phys, pa);
		r->count++;
	}
	return 0;
}

uint64_t pt__reserve_take(struct pt_phys *phys, struct pt_reserve *r)
{
	PT_ASSERT(r->count > 0);
	uint64_t idx = r->head;
	r->head = phys->meta[idx].next;
	r->count--;
	phys->meta[idx].next = PT_NO_FRAME;
	return pt_pa_of_index(phys, idx);
}

/* Unused frames go back in reverse order of allocation, so the free list
 * ends up exactly as it was before pt__reserve. */
void pt__reserve_release(struct pt_phys *phys, struct pt_reserve *r)
{
	while (r->count > 0) {
		uint64_t pa = pt__reserve_take(phys, r);
		pt__frame_free(phys, pa);
	}
}
