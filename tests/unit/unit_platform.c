/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_platform - what a kernel plugs into ptkit (include/ptkit/phys.h,
 * struct pt_platform): its own frame allocator, and errno values for
 * ptkit's codes (pt_errno).
 *
 * The allocator here plays a kernel's page allocator: it owns every frame
 * after ptkit's metadata, hands them out from a stack under a mutex (the
 * RCU callback thread frees nodes too), and records which frames are out,
 * so a frame ptkit frees twice, or never took from it, fails the test.
 */
#include <errno.h>
#include <pthread.h>

#include "unit.h"

#define K_RAM_PA 0x40000000ull /* pa != va: the linear offset is used */
#define K_RAM_BYTES (4ull << 20)
#define K_FRAMES (K_RAM_BYTES / SZ_4K)

struct kernel_allocator {
	pthread_mutex_t lock;
	uint64_t free[K_FRAMES];  /* a stack of free pas */
	size_t nr_free;
	bool out[K_FRAMES];       /* handed to ptkit */
	uint64_t allocs, frees;
	uint64_t fail_at;         /* the nth alloc from now fails; 0: never */
	bool bad;                 /* ptkit freed a frame it did not hold */
};

struct k_env {
	struct kernel_allocator ka;
	void *ram;
	struct pt_phys phys;
};

static int k_alloc(void *arg, uint64_t *pa)
{
	struct kernel_allocator *ka = arg;
	int err = 0;

	pthread_mutex_lock(&ka->lock);
	if ((ka->fail_at && --ka->fail_at == 0) || ka->nr_free == 0) {
		err = PT_ENOMEM;
	} else {
		*pa = ka->free[--ka->nr_free];
		ka->out[(*pa - K_RAM_PA) / SZ_4K] = true;
		ka->allocs++;
	}
	pthread_mutex_unlock(&ka->lock);
	return err;
}

static void k_free(void *arg, uint64_t pa)
{
	struct kernel_allocator *ka = arg;
	size_t i = (pa - K_RAM_PA) / SZ_4K;

	pthread_mutex_lock(&ka->lock);
	if (pa < K_RAM_PA || i >= K_FRAMES || !ka->out[i]) {
		ka->bad = true;
	} else {
		ka->out[i] = false;
		ka->free[ka->nr_free++] = pa;
		ka->frees++;
	}
	pthread_mutex_unlock(&ka->lock);
}

static uint64_t k_outstanding(struct k_env *e)
{
	pthread_mutex_lock(&e->ka.lock);
	uint64_t n = e->ka.allocs - e->ka.frees;
	pthread_mutex_unlock(&e->ka.lock);
	return n;
}

static int k_setup(void **state)
{
	struct k_env *e = calloc(1, sizeof(*e));
	struct pt_platform platform = { .frame_alloc = k_alloc, .frame_free = k_free,
					.frame_alloc_arg = &e->ka };

	assert_non_null(e);
	pthread_mutex_init(&e->ka.lock, NULL);
	e->ram = aligned_alloc(SZ_4K, K_RAM_BYTES);
	assert_non_null(e->ram);
	/* Frames after the metadata are the kernel's; lowest pa on top. */
	for (uint64_t pa = K_RAM_PA + K_RAM_BYTES; pa-- > K_RAM_PA + pt_phys_meta_bytes(K_RAM_BYTES);)
		if (pa % SZ_4K == 0)
			e->ka.free[e->ka.nr_free++] = pa;
	assert_rc(pt_phys_init(&e->phys, K_RAM_PA, K_RAM_BYTES,
			       (uintptr_t)e->ram - K_RAM_PA, &platform), 0);
	*state = e;
	return 0;
}

static int k_teardown(void **state)
{
	struct k_env *e = *state;

	pt_phys_destroy(&e->phys);
	free(e->ram);
	pthread_mutex_destroy(&e->ka.lock);
	free(e);
	return 0;
}

/* Both hooks or neither: one alone is a half-configured platform. */
static void test_hooks_come_in_pairs(void **state)
{
	struct pt_phys phys;
	void *ram = aligned_alloc(SZ_4K, 64 * SZ_4K);
	struct pt_platform only_alloc = { .frame_alloc = k_alloc };
	struct pt_platform only_free = { .frame_free = k_free };

	(void)state;
	assert_non_null(ram);
	assert_rc(pt_phys_init(&phys, 0, 64 * SZ_4K, (uintptr_t)ram, &only_alloc), PT_EINVAL);
	assert_rc(pt_phys_init(&phys, 0, 64 * SZ_4K, (uintptr_t)ram, &only_free), PT_EINVAL);
	free(ram);
}

/* Every frame ptkit uses (the table struct, nodes, data frames) comes from
 * the kernel and goes back to it; ptkit keeps none on a list of its own. */
static void test_kernel_allocator_serves_every_frame(void **state)
{
	struct k_env *e = *state;
	struct pt_table *kern, *user;
	struct pt_mapping m;
	uint64_t frames[3];

	assert_u64(pt_phys_free_frames(&e->phys), 0);
	assert_rc(pt_table_create(&e->phys, &pt_format_x86_64, PT_SPACE_KERNEL, &kern), 0);
	assert_rc(pt_table_create_user(kern, &user), 0);
	/* struct pt_table x2, two roots, 256 pinned kernel-half nodes */
	assert_u64(k_outstanding(e), 2 + 2 + 256);
	for (int i = 0; i < 3; i++) {
		assert_rc(pt_frame_alloc(&e->phys, &frames[i]), 0);
		assert_true(frames[i] >= K_RAM_PA && frames[i] < K_RAM_PA + K_RAM_BYTES);
		assert_true(e->ka.out[(frames[i] - K_RAM_PA) / SZ_4K]);
	}
	uint64_t before_maps = k_outstanding(e);
	assert_rc(pt_map(user, 0x40000000, 0x80000000, 2 * SZ_2M, prop(RW | PT_U, PT_CACHE_WB)), 0);
	assert_rc(pt_map_frames(user, 0x1000, frames, 3, prop(RW | PT_U, PT_CACHE_WB)), 0);
	CHECK(user);
	/* One PDPT; a PD for each of the two 1G slots; a PT for 0x1000. */
	assert_u64(k_outstanding(e) - before_maps, 4);
	assert_rc(pt_query(user, 0x2000, &m), 0);
	assert_u64(m.pa, frames[1]);
	assert_u64(pt_frame_refcount(&e->phys, frames[1]), 2);
	/* A split takes a node; removed nodes go back after a grace period. */
	assert_rc(pt_protect(user, 0x40000000, SZ_4K, 0, PT_W, NULL), 0);
	CHECK(user);
	assert_u64(k_outstanding(e) - before_maps, 5);
	/* Both 1G slots whole: their PDs and the PT go, the PDPT stays. */
	assert_rc(pt_unmap(user, 0, 2 * SZ_1G, NULL), 0);
	CHECK(user);
	pt_phys_barrier(&e->phys);
	assert_u64(k_outstanding(e), before_maps + 1);
	for (int i = 0; i < 3; i++)
		assert_rc(pt_frame_put(&e->phys, frames[i]), 0);
	assert_rc(pt_table_destroy(user), 0);
	assert_rc(pt_table_destroy(kern), 0);
	pt_phys_barrier(&e->phys);
	assert_u64(k_outstanding(e), 0);
	assert_false(e->ka.bad);
}

/* The kernel's allocator running dry in the middle of a map changes
 * nothing, as ptkit's own does (design §5): the reservation gives every
 * frame back. */
static void test_kernel_allocator_failure_changes_nothing(void **state)
{
	struct k_env *e = *state;
	struct pt_table *t;
	struct pt_table_stats before, after;

	assert_rc(pt_table_create(&e->phys, &pt_format_x86_64, PT_SPACE_USER, &t), 0);
	assert_rc(pt_map(t, 0x200000, 0x200000, SZ_4K, prop(RW, PT_CACHE_WB)), 0);
	for (uint64_t n = 1; n <= 3; n++) {
		uint64_t outstanding = k_outstanding(e);
		assert_rc(pt_table_stats(t, &before), 0);
		e->ka.fail_at = n; /* PDPT, PD, PT for a new 512G slot */
		assert_rc(pt_map(t, SZ_512G, 0x400000, SZ_4K, prop(RW, PT_CACHE_WB)), PT_ENOMEM);
		e->ka.fail_at = 0;
		assert_rc(pt_table_stats(t, &after), 0);
		assert_memory_equal(&before, &after, sizeof(before));
		assert_u64(k_outstanding(e), outstanding);
		CHECK(t);
	}
	/* ptkit's own fault injection still comes first. */
	pt_phys_fail_nth_alloc(&e->phys, 1);
	uint64_t allocs = e->ka.allocs;
	assert_rc(pt_map(t, SZ_512G, 0x400000, SZ_4K, prop(RW, PT_CACHE_WB)), PT_ENOMEM);
	assert_u64(e->ka.allocs, allocs);
	assert_rc(pt_map(t, SZ_512G, 0x400000, SZ_4K, prop(RW, PT_CACHE_WB)), 0);
	CHECK(t);
	assert_rc(pt_table_destroy(t), 0);
	pt_phys_barrier(&e->phys);
	assert_u64(k_outstanding(e), 0);
	assert_false(e->ka.bad);
}

/* A kernel port returns these: Linux's errno values, checked against the
 * host's <errno.h> (Linux is the host here). */
static void test_errno_values(void **state)
{
	(void)state;
	assert_int_equal(pt_errno(PT_OK), 0);
	assert_int_equal(pt_errno(PT_EINVAL), -EINVAL);
	assert_int_equal(pt_errno(PT_EALIGN), -EINVAL);
	assert_int_equal(pt_errno(PT_ERANGE), -ERANGE);
	assert_int_equal(pt_errno(PT_EPERM), -EPERM);
	assert_int_equal(pt_errno(PT_EEXIST), -EEXIST);
	assert_int_equal(pt_errno(PT_ENOENT), -ENOENT);
	assert_int_equal(pt_errno(PT_ENOMEM), -ENOMEM);
	assert_int_equal(pt_errno(PT_EBUSY), -EBUSY);
	assert_int_equal(pt_errno(PT_ECORRUPT), -EUCLEAN);
	assert_int_equal(pt_errno(-1000), -EINVAL);
	assert_int_equal(pt_errno(5), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hooks_come_in_pairs),
		cmocka_unit_test_setup_teardown(test_kernel_allocator_serves_every_frame, k_setup,
						k_teardown),
		cmocka_unit_test_setup_teardown(test_kernel_allocator_failure_changes_nothing,
						k_setup, k_teardown),
		cmocka_unit_test(test_errno_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
