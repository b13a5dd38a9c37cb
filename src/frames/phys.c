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
#include "platform/rcu.h"

/* ASan cannot see inside the arena: tell it which frames of a
 * pt_phys_create arena are free, so touching a node or a data frame after
 * it was freed is a use-after-poison report. */
#if defined(PT_HOSTED) && defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define PT_POISON(phys, pa, poison)                                              \
	do {                                                                     \
		if ((phys)->hosted) {                                            \
			void *p_ = pt_va_of((phys), (pa));                       \
			if (poison)                                              \
				ASAN_POISON_MEMORY_REGION(p_, PT_PAGE_SIZE);     \
			else                                                     \
				ASAN_UNPOISON_MEMORY_REGION(p_, PT_PAGE_SIZE);   \
		}                                                                \
	} while (0)
#else
#define PT_POISON(phys, pa, poison) ((void)0)
#endif

/*
 * Free frames live in LIFO lists threaded through their metadata slots: a
 * shared pool, and a cache per CPU slot in front of it, each under its own
 * lock on its own cache line.  Alloc and free touch only the caller's cache
 * (O(1), one uncontended lock); batches move between cache and pool.
 */
#define PT_CACHE_BATCH 32
#define PT_CACHE_HIGH (2 * PT_CACHE_BATCH)

static void list_push(struct pt_phys *phys, struct pt_free_list *l, uint64_t idx)
{
	PT_POISON(phys, pt_pa_of_index(phys, idx), true);
	phys->meta[idx].next = l->head;
	l->head = idx;
	l->count++;
}

static uint64_t list_pop(struct pt_phys *phys, struct pt_free_list *l)
{
	uint64_t idx = l->head;

	l->head = phys->meta[idx].next;
	l->count--;
	return idx;
}

/* Moves up to n frames between two locked lists. */
static void list_move(struct pt_phys *phys, struct pt_free_list *from,
		      struct pt_free_list *to, unsigned n)
{
	while (n-- && from->count)
		list_push(phys, to, list_pop(phys, from));
}

static struct pt_free_list *my_cache(struct pt_phys *phys)
{
	return &phys->caches[phys->platform.cpu_id() % PT_PHYS_CACHES];
}

static void list_lock(const struct pt_phys *phys, struct pt_free_list *l)
{
	pt_spin_lock(&l->lock, phys->platform.yield);
}

/* Whether frames come from the kernel's allocator (pt_platform.frame_alloc)
 * rather than ptkit's own lists. */
static bool host_allocates(const struct pt_phys *phys)
{
	return phys->platform.frame_alloc != NULL;
}

/* A frame from the kernel's allocator, or PT_NO_FRAME. */
static uint64_t take_from_host(struct pt_phys *phys)
{
	uint64_t pa;

	if (phys->platform.frame_alloc(phys->platform.frame_alloc_arg, &pa) != 0)
		return PT_NO_FRAME;
	PT_ASSERT((pa & (PT_PAGE_SIZE - 1)) == 0 && pt_frame_managed(phys, pa));
	PT_ASSERT(pt_meta_of(phys, pa)->usage == PT_USAGE_FREE);
	return pt_frame_index(phys, pa);
}

/* A free frame's index from this CPU's cache (refilled from the pool), or
 * PT_NO_FRAME. */
static uint64_t take_free(struct pt_phys *phys)
{
	if (host_allocates(phys))
		return take_from_host(phys);

	struct pt_free_list *c = my_cache(phys);
	uint64_t idx = PT_NO_FRAME;

	list_lock(phys, c);
	if (c->count == 0) {
		list_lock(phys, &phys->pool);
		list_move(phys, &phys->pool, c, PT_CACHE_BATCH);
		pt_spin_unlock(&phys->pool.lock);
	}
	if (c->count)
		idx = list_pop(phys, c);
	pt_spin_unlock(&c->lock);
	return idx;
}

static void mark_free(struct pt_frame_meta *m)
{
	m->usage = PT_USAGE_FREE;
	atomic_store_explicit(&m->refcount, PT_REFCOUNT_UNUSED, memory_order_relaxed);
}

static void push_free(struct pt_phys *phys, uint64_t idx)
{
	struct pt_free_list *c = my_cache(phys);

	mark_free(&phys->meta[idx]);
	if (host_allocates(phys)) {
		phys->platform.frame_free(phys->platform.frame_alloc_arg, pt_pa_of_index(phys, idx));
		return;
	}
	list_lock(phys, c);
	list_push(phys, c, idx);
	if (c->count > PT_CACHE_HIGH) {
		list_lock(phys, &phys->pool);
		list_move(phys, c, &phys->pool, PT_CACHE_BATCH);
		pt_spin_unlock(&phys->pool.lock);
	}
	pt_spin_unlock(&c->lock);
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
	};
	if (platform)
		phys->platform = *platform;
	pt__platform_fill_defaults(&phys->platform);
	phys->pool.head = PT_NO_FRAME;
	for (unsigned i = 0; i < PT_PHYS_CACHES; i++)
		phys->caches[i].head = PT_NO_FRAME;
	for (uint64_t i = 0; i < first_free; i++) {
		meta[i] = (struct pt_frame_meta){ .usage = PT_USAGE_RESERVED };
		atomic_store_explicit(&meta[i].refcount, 1, memory_order_relaxed);
	}
	/* Pushed top-down so that allocation starts at the lowest address;
	 * with a kernel allocator, free frames are its to hand out. */
	for (uint64_t i = nr_frames; i-- > first_free;) {
		meta[i] = (struct pt_frame_meta){ .usage = PT_USAGE_FREE };
		atomic_store_explicit(&meta[i].refcount, PT_REFCOUNT_UNUSED, memory_order_relaxed);
		if (!host_allocates(phys))
			list_push(phys, &phys->pool, i);
	}
}

int pt_phys_init(struct pt_phys *storage, uint64_t ram_pa, uint64_t bytes,
		 uintptr_t linear_offset, const struct pt_platform *platform)
{
	if (!storage || bytes == 0 ||
	    (platform && (!platform->frame_alloc != !platform->frame_free ||
			  !platform->frame_alloc_contig != !platform->frame_free_contig ||
			  (platform->frame_alloc_contig && !platform->frame_alloc))))
		return PT_EINVAL;
	if ((ram_pa | bytes) & (PT_PAGE_SIZE - 1))
		return PT_EALIGN;
	if (ram_pa + bytes < ram_pa)
		return PT_ERANGE;
	uint64_t nr_frames = bytes >> PT_PAGE_SHIFT;
	uint64_t meta_frames = pt_phys_meta_bytes(bytes) >> PT_PAGE_SHIFT;
	if (meta_frames >= nr_frames)
		return PT_ENOMEM;
	struct pt_frame_meta *meta = (void *)(uintptr_t)(ram_pa + linear_offset);
	pt__phys_setup(storage, ram_pa, nr_frames, linear_offset, meta, meta_frames, platform);
	return 0;
}

void pt_phys_barrier(struct pt_phys *phys)
{
	if (!phys)
		return;
	list_lock(phys, &phys->pool);
	uint64_t pending = phys->rcu_pending;
	pt_spin_unlock(&phys->pool.lock);
	if (pending)
		phys->platform.rcu_barrier();
}

#include <ptkit/testing.h>

void pt_phys_fail_nth_alloc(struct pt_phys *phys, uint64_t nth)
{
	atomic_store_explicit(&phys->alloc_fail_at, nth, memory_order_relaxed);
}

/* Frames in the caches and the pool, plus (with_pending) nodes queued for
 * release: read in one pass, the pool and its pending count together, so a
 * release running meanwhile is counted once. */
static uint64_t count_frames(const struct pt_phys *phys, bool with_pending)
{
	struct pt_phys *p = (struct pt_phys *)phys; /* the lists' locks only */
	uint64_t n = 0;

	for (unsigned i = 0; i < PT_PHYS_CACHES; i++) {
		list_lock(p, &p->caches[i]);
		n += p->caches[i].count;
		pt_spin_unlock(&p->caches[i].lock);
	}
	list_lock(p, &p->pool);
	n += p->pool.count + (with_pending ? p->rcu_pending : 0);
	pt_spin_unlock(&p->pool.lock);
	return n;
}

uint64_t pt_phys_free_frames(const struct pt_phys *phys)
{
	return count_frames(phys, false);
}

uint64_t pt_phys_reclaimable_frames(const struct pt_phys *phys)
{
	return count_frames(phys, true);
}

/* Fault injection: true when this allocation is the one asked to fail.
 * Off (0), it costs one read of a line nobody writes. */
static bool injected_failure(struct pt_phys *phys)
{
	uint64_t left = atomic_load_explicit(&phys->alloc_fail_at, memory_order_relaxed);

	while (pt_unlikely(left != 0)) {
		if (atomic_compare_exchange_weak_explicit(&phys->alloc_fail_at, &left, left - 1,
							  memory_order_relaxed,
							  memory_order_relaxed))
			return left == 1;
	}
	return false;
}

/* A frame just taken off a list: tagged, zeroed, refcount 1. */
static uint64_t frame_setup(struct pt_phys *phys, uint64_t idx, enum pt_frame_usage usage)
{
	struct pt_frame_meta *m = &phys->meta[idx];
	uint64_t pa = pt_pa_of_index(phys, idx);

	PT_ASSERT(m->usage == PT_USAGE_FREE);
	m->usage = (uint8_t)usage;
	m->level = 0;
	m->nr_children = 0;
	m->nr_tracked = 0;
	m->nr_nodes = 0;
	atomic_store_explicit(&m->stray, false, memory_order_relaxed);
	m->next = PT_NO_FRAME;
	PT_POISON(phys, pa, false);
	pt_zero_page(pt_va_of(phys, pa));
	atomic_store_explicit(&m->refcount, 1, memory_order_relaxed);
	return pa;
}

int pt__frame_alloc(struct pt_phys *phys, enum pt_frame_usage usage, uint64_t *pa)
{
	if (pt_unlikely(injected_failure(phys)))
		return PT_ENOMEM;
	uint64_t idx = take_free(phys);
	if (pt_unlikely(idx == PT_NO_FRAME))
		return PT_ENOMEM;
	*pa = frame_setup(phys, idx, usage);
	return 0;
}

void pt__frame_free(struct pt_phys *phys, uint64_t pa)
{
	PT_ASSERT(pt_frame_managed(phys, pa));
	push_free(phys, pt_frame_index(phys, pa));
}

/* Whether frames [idx, idx + n) all carry the pool's search mark. */
static bool run_in_pool(const struct pt_phys *phys, uint64_t idx, uint64_t n)
{
	if (idx + n > phys->nr_frames)
		return false;
	for (uint64_t i = idx; i < idx + n; i++)
		if (!phys->meta[i].in_pool)
			return false;
	return true;
}

/*
 * An aligned run of 2^order frames off the pool's list, or PT_NO_FRAME.
 * The list is LIFO and unordered, so: mark its frames, find a marked
 * aligned run, then unlink the run and clear the marks in one pass.
 * Linear in the pool's size, under its lock: only table creation of a
 * format with a multi-page root comes here.
 */
static uint64_t pool_take_run(struct pt_phys *phys, unsigned order)
{
	struct pt_free_list *pool = &phys->pool;
	uint64_t n = (uint64_t)1 << order, align = (PT_PAGE_SIZE << order) - 1;
	uint64_t run = PT_NO_FRAME;

	list_lock(phys, pool);
	for (uint64_t i = pool->head; i != PT_NO_FRAME; i = phys->meta[i].next)
		phys->meta[i].in_pool = 1;
	for (uint64_t i = pool->head; run == PT_NO_FRAME && i != PT_NO_FRAME;
	     i = phys->meta[i].next)
		if (!(pt_pa_of_index(phys, i) & align) && run_in_pool(phys, i, n))
			run = i;
	for (uint64_t *link = &pool->head; *link != PT_NO_FRAME;) {
		struct pt_frame_meta *m = &phys->meta[*link];
		m->in_pool = 0;
		if (run != PT_NO_FRAME && *link - run < n) {
			*link = m->next;
			pool->count--;
		} else {
			link = &m->next;
		}
	}
	pt_spin_unlock(&pool->lock);
	return run;
}

/* Every CPU slot's cache back into the pool (cache lock before the
 * pool's, as take_free), so that a run split among them can be found. */
static void drain_caches(struct pt_phys *phys)
{
	for (unsigned c = 0; c < PT_PHYS_CACHES; c++) {
		struct pt_free_list *l = &phys->caches[c];
		list_lock(phys, l);
		list_lock(phys, &phys->pool);
		list_move(phys, l, &phys->pool, l->count);
		pt_spin_unlock(&phys->pool.lock);
		pt_spin_unlock(&l->lock);
	}
}

/* An aligned run from the kernel's allocator (frame_alloc_contig), or
 * PT_NO_FRAME when it has none or gives no runs. */
static uint64_t take_run_from_host(struct pt_phys *phys, unsigned order)
{
	uint64_t pa;

	if (!phys->platform.frame_alloc_contig ||
	    phys->platform.frame_alloc_contig(phys->platform.frame_alloc_arg, order, &pa) != 0)
		return PT_NO_FRAME;
	PT_ASSERT((pa & ((PT_PAGE_SIZE << order) - 1)) == 0 && pt_frame_managed(phys, pa));
	return pt_frame_index(phys, pa);
}

static uint64_t take_run(struct pt_phys *phys, unsigned order)
{
	if (host_allocates(phys))
		return take_run_from_host(phys, order);
	uint64_t idx = pool_take_run(phys, order);
	if (idx == PT_NO_FRAME) {
		drain_caches(phys);
		idx = pool_take_run(phys, order);
	}
	return idx;
}

int pt__frames_alloc(struct pt_phys *phys, enum pt_frame_usage usage, unsigned order,
		     uint64_t *pa)
{
	if (order == 0)
		return pt__frame_alloc(phys, usage, pa);
	/* One injected failure point for the whole run, as for one frame. */
	if (pt_unlikely(injected_failure(phys)))
		return PT_ENOMEM;
	uint64_t idx = take_run(phys, order);
	if (idx == PT_NO_FRAME)
		return PT_ENOMEM;
	for (uint64_t i = 0; i < ((uint64_t)1 << order); i++)
		frame_setup(phys, idx + i, usage);
	*pa = pt_pa_of_index(phys, idx);
	return 0;
}

void pt__frames_free(struct pt_phys *phys, uint64_t pa, unsigned order)
{
	uint64_t idx = pt_frame_index(phys, pa), n = (uint64_t)1 << order;

	if (order == 0 || !host_allocates(phys)) {
		for (uint64_t i = idx; i < idx + n; i++)
			push_free(phys, i);
		return;
	}
	for (uint64_t i = idx; i < idx + n; i++)
		mark_free(&phys->meta[i]);
	phys->platform.frame_free_contig(phys->platform.frame_alloc_arg, pa, order);
}

void pt__frame_put_valid(struct pt_phys *phys, uint64_t pa)
{
	struct pt_frame_meta *m = pt_meta_of(phys, pa);
	/* acq_rel: the last holder sees every other holder's writes. */
	uint64_t old = atomic_fetch_sub_explicit(&m->refcount, 1, memory_order_acq_rel);

	PT_ASSERT(old != 0 && old <= PT_REFCOUNT_MAX);
	if (old == 1)
		pt__frame_free(phys, pa);
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

int pt__reserve(struct pt_phys *phys, struct pt_prealloc *r, uint64_t n)
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

uint64_t pt__reserve_take(struct pt_phys *phys, struct pt_prealloc *r)
{
	PT_ASSERT(r->count > 0);
	uint64_t idx = r->head;
	r->head = phys->meta[idx].next;
	r->count--;
	phys->meta[idx].next = PT_NO_FRAME;
	return pt_pa_of_index(phys, idx);
}

/* Unused frames go back in reverse order of allocation. */
void pt__reserve_release(struct pt_phys *phys, struct pt_prealloc *r)
{
	while (r->count > 0) {
		uint64_t pa = pt__reserve_take(phys, r);
		pt__frame_free(phys, pa);
	}
}

/* Hands a chain of removed nodes (linked through `next`) to RCU. */
void pt__rcu_defer_chain(struct pt_phys *phys, uint64_t first_pa)
{
	struct pt_frame_meta *m = pt_meta_of(phys, first_pa);
	uint64_t n = 0;

	for (uint64_t idx = pt_frame_index(phys, first_pa); idx != PT_NO_FRAME;
	     idx = phys->meta[idx].next)
		n++;
	list_lock(phys, &phys->pool);
	phys->rcu_pending += n;
	pt_spin_unlock(&phys->pool.lock);
	m->rcu_owner = phys;
	pt__rcu_before_defer(&m->rcu_head);
	phys->platform.rcu_defer(&m->rcu_head);
}

/* A removed chain with a kernel allocator: each node back to it, then out
 * of the pending count. */
static void release_chain_to_host(struct pt_phys *phys, uint64_t first)
{
	uint64_t released = 0;

	for (uint64_t idx = first; idx != PT_NO_FRAME; released++) {
		uint64_t next = phys->meta[idx].next;
		push_free(phys, idx);
		idx = next;
	}
	list_lock(phys, &phys->pool);
	phys->rcu_pending -= released;
	pt_spin_unlock(&phys->pool.lock);
}

/* After the grace period: the whole chain goes to the pool at once, and
 * leaves the pending count in the same step. */
void pt_rcu_release(struct pt_rcu_head *head)
{
	struct pt_frame_meta *m =
		(void *)((char *)head - offsetof(struct pt_frame_meta, rcu_head));

	pt__rcu_after_grace_period(head);
	struct pt_phys *phys = m->rcu_owner;
	if (host_allocates(phys)) {
		release_chain_to_host(phys, (uint64_t)(m - phys->meta));
		return;
	}
	list_lock(phys, &phys->pool);
	for (uint64_t idx = (uint64_t)(m - phys->meta); idx != PT_NO_FRAME;) {
		struct pt_frame_meta *node = &phys->meta[idx];
		uint64_t next = node->next;
		mark_free(node);
		list_push(phys, &phys->pool, idx);
		phys->rcu_pending--;
		idx = next;
	}
	pt_spin_unlock(&phys->pool.lock);
}
