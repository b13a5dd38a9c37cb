/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_frames - physical memory and frame reference counts (design §2,
 * include/ptkit/phys.h).
 *
 * The reference count is what keeps a frame alive while a table maps it, so
 * every transition (alloc -> 1, get/put, put to 0 frees) and every refusal
 * (free frame, page-table frame, unmanaged or unaligned address) is pinned
 * down here, below the table layer.
 */
#include "unit.h"

#define ARENA (1ull << 20) /* 256 frames: small enough to exhaust */

static int setup(void **state)
{
	*state = u_env_new(ARENA);
	return 0;
}

static struct pt_phys *P(void **state)
{
	return ((struct u_env *)*state)->phys;
}

static uint64_t alloc1(struct pt_phys *phys)
{
	uint64_t pa = UINT64_MAX;

	assert_rc(pt_frame_alloc(phys, &pa), 0);
	assert_u64(pa % SZ_4K, 0);
	assert_true(pa < ARENA);
	return pa;
}

/* The argument errors of pt_phys_create, in design §5's order. */
static void test_phys_create_errors(void **state)
{
	struct pt_phys *p = NULL;

	(void)state;
	assert_rc(pt_phys_create(0, &p), PT_EINVAL);
	assert_rc(pt_phys_create(SZ_4K, NULL), PT_EINVAL);
	/* NULL and unaligned at once: EINVAL comes first. */
	assert_rc(pt_phys_create(SZ_4K + 1, NULL), PT_EINVAL);
	assert_rc(pt_phys_create(SZ_4K + 1, &p), PT_EALIGN);
	assert_rc(pt_phys_create(100, &p), PT_EALIGN);
	assert_null(p);
	/* 2^62 bytes cannot be mapped on any host: the arena (and its
	 * metadata) fail to allocate, which must be an error, not a crash or a
	 * silently truncated frame count. */
	assert_rc(pt_phys_create(1ull << 62, &p), PT_ENOMEM);
	/* The smallest valid arena works and is usable. */
	assert_rc(pt_phys_create(SZ_4K * 4, &p), 0);
	assert_non_null(p);
	assert_true(u_free_frames(p) >= 1);
	assert_true(u_free_frames(p) <= 4);
	pt_phys_destroy(p);
}

/* pt_phys_init's range errors, in the documented order; every one is found
 * before the range is touched, and leaves the storage as it was. */
static void test_phys_init_errors(void **state)
{
	struct pt_phys s, before;

	(void)state;
	memset(&s, 0x5a, sizeof s);
	before = s;
	assert_rc(pt_phys_init(NULL, 0, 4 * SZ_4K, 0, NULL), PT_EINVAL);
	assert_rc(pt_phys_init(&s, 0, 0, 0, NULL), PT_EINVAL);
	assert_rc(pt_phys_init(&s, 0x800, 4 * SZ_4K, 0, NULL), PT_EALIGN);
	assert_rc(pt_phys_init(&s, 0, 4 * SZ_4K + 0x800, 0, NULL), PT_EALIGN);
	/* Wrapping past 2^64, and ending exactly at it. */
	assert_rc(pt_phys_init(&s, 0 - 2 * SZ_4K, 4 * SZ_4K, 0, NULL), PT_ERANGE);
	assert_rc(pt_phys_init(&s, 0 - 4 * SZ_4K, 4 * SZ_4K, 0, NULL), PT_ERANGE);
	/* One frame: no room for its metadata and a frame. */
	assert_rc(pt_phys_init(&s, 0, SZ_4K, 0, NULL), PT_ENOMEM);
	assert_memory_equal(&s, &before, sizeof s);
}

/* Pages of this process's address space (/proc/self/statm's first field). */
static long vm_pages(void)
{
	long pages = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld", &pages) != 1)
			pages = -1;
		fclose(f);
	}
	return pages;
}

/* pt_phys_destroy gives back both mappings of a hosted arena, the RAM and
 * its metadata (a leak no sanitizer sees: they are mmap'ed). */
static void test_destroy_unmaps(void **state)
{
	struct pt_phys *p;

	(void)state;
#ifdef __SANITIZE_ADDRESS__
	skip(); /* ASan's allocator maps memory of its own at any malloc */
#endif
	/* A first cycle: liburcu's own threads and mappings come up once,
	 * and so does the FILE that vm_pages reads through. */
	assert_rc(pt_phys_create(64ull << 20, &p), 0);
	pt_phys_destroy(p);
	(void)vm_pages();
	long before = vm_pages();
	assert_true(before > 0);
	assert_rc(pt_phys_create(64ull << 20, &p), 0);
	assert_true(vm_pages() > before);
	pt_phys_destroy(p);
	assert_int_equal(vm_pages(), before);
}

static void test_alloc_null_args(void **state)
{
	uint64_t pa;

	assert_rc(pt_frame_alloc(NULL, &pa), PT_EINVAL);
	assert_rc(pt_frame_alloc(P(state), NULL), PT_EINVAL);
	assert_rc(pt_frame_get(NULL, 0), PT_EINVAL);
	assert_rc(pt_frame_put(NULL, 0), PT_EINVAL);
}

/* Fresh frames are zeroed with refcount 1, also when recycled dirty. */
static void test_alloc_zeroed_refcount_one(void **state)
{
	struct pt_phys *phys = P(state);
	uint64_t free0 = u_free_frames(phys);
	uint64_t pa = alloc1(phys), pa2;
	unsigned char *v = pt_phys_to_virt(phys, pa);
	size_t i;

	assert_non_null(v);
	assert_u64(pt_frame_refcount(phys, pa), 1);
	assert_u64(u_free_frames(phys), free0 - 1);
	for (i = 0; i < SZ_4K; i++)
		assert_int_equal(v[i], 0);
	/* Dirty it, free it: LIFO gives it back, and it must be zero again. */
	memset(v, 0xa5, SZ_4K);
	assert_rc(pt_frame_put(phys, pa), 0);
	assert_u64(pt_frame_refcount(phys, pa), PT_REFCOUNT_UNUSED);
	assert_u64(u_free_frames(phys), free0);
	pa2 = alloc1(phys);
	assert_u64(pa2, pa);
	v = pt_phys_to_virt(phys, pa2);
	for (i = 0; i < SZ_4K; i++)
		if (v[i] != 0)
			fail_msg("recycled frame %#llx byte %zu = %#x, not zeroed",
				 (unsigned long long)pa2, i, v[i]);
	assert_rc(pt_frame_put(phys, pa2), 0);
}

/* Last-in first-out reuse (design §2), with two frames so that a FIFO or
 * a "lowest free" allocator would give a different answer. */
static void test_lifo_reuse(void **state)
{
	struct pt_phys *phys = P(state);
	uint64_t a = alloc1(phys), b = alloc1(phys);

	assert_true(a != b);
	assert_rc(pt_frame_put(phys, a), 0);
	assert_rc(pt_frame_put(phys, b), 0);
	assert_u64(alloc1(phys), b);
	assert_u64(alloc1(phys), a);
	assert_rc(pt_frame_put(phys, a), 0);
	assert_rc(pt_frame_put(phys, b), 0);
}

static void test_get_put_transitions(void **state)
{
	struct pt_phys *phys = P(state);
	uint64_t free0 = u_free_frames(phys);
	uint64_t pa = alloc1(phys);

	assert_rc(pt_frame_get(phys, pa), 0);
	assert_u64(pt_frame_refcount(phys, pa), 2);
	assert_rc(pt_frame_get(phys, pa), 0);
	assert_u64(pt_frame_refcount(phys, pa), 3);
	assert_rc(pt_frame_put(phys, pa), 0);
	assert_u64(pt_frame_refcount(phys, pa), 2);
	assert_rc(pt_frame_put(phys, pa), 0);
	assert_u64(pt_frame_refcount(phys, pa), 1);
	/* Still one holder: not free yet. */
	assert_u64(u_free_frames(phys), free0 - 1);
	assert_rc(pt_frame_put(phys, pa), 0);
	assert_u64(pt_frame_refcount(phys, pa), PT_REFCOUNT_UNUSED);
	assert_u64(u_free_frames(phys), free0);
}

/* A free frame has no holder to add to or drop: refusing keeps a stale
 * put from freeing the frame twice. */
static void test_get_put_free_frame(void **state)
{
	struct pt_phys *phys = P(state);
	uint64_t pa = alloc1(phys), free1;

	assert_rc(pt_frame_put(phys, pa), 0);
	free1 = u_free_frames(phys);
	assert_rc(pt_frame_get(phys, pa), PT_EINVAL);
	assert_rc(pt_frame_put(phys, pa), PT_EINVAL);
	assert_u64(pt_frame_refcount(phys, pa), PT_REFCOUNT_UNUSED);
	assert_u64(u_free_frames(phys), free1);
	/* The allocator is intact: the same frame comes back with count 1. */
	assert_u64(alloc1(phys), pa);
	assert_u64(pt_frame_refcount(phys, pa), 1);
	assert_rc(pt_frame_put(phys, pa), 0);
}

static void test_get_put_unmanaged(void **state)
{
	struct pt_phys *phys = P(state);
	const uint64_t bad[] = { ARENA, ARENA + SZ_4K, 1ull << 40,
				 0xfffffffffffff000ull };
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_rc(pt_frame_get(phys, bad[i]), PT_EINVAL);
		assert_rc(pt_frame_put(phys, bad[i]), PT_EINVAL);
		assert_u64(pt_frame_refcount(phys, bad[i]), PT_REFCOUNT_UNUSED);
		assert_null(pt_phys_to_virt(phys, bad[i]));
	}
}

static void test_get_put_unaligned(void **state)
{
	struct pt_phys *phys = P(state);
	uint64_t pa = alloc1(phys);

	assert_rc(pt_frame_get(phys, pa + 1), PT_EINVAL);
	assert_rc(pt_frame_get(phys, pa + 0x800), PT_EINVAL);
	assert_rc(pt_frame_put(phys, pa + 0xfff), PT_EINVAL);
	/* Nothing reached the frame the address falls in. */
	assert_u64(pt_frame_refcount(phys, pa), 1);
	assert_rc(pt_frame_put(phys, pa), 0);
}

/* Page-table frames are owned by their table: an outside get/put would let
 * a caller free a node the MMU still walks. */
static void test_get_put_page_table_frames(void **state)
{
	struct u_env *e = *state;
	struct pt_table *t = u_env_table(e, PT_SPACE_USER);
	const struct pt_format *f = &pt_format_x86_64;
	uint64_t root = pt_table_root(t), rc_root, l3, rc_l3, pte;
	struct pt_prop pp;
	bool tr;

	rc_root = pt_frame_refcount(e->phys, root);
	assert_true(rc_root != PT_REFCOUNT_UNUSED);
	assert_rc(pt_frame_get(e->phys, root), PT_EINVAL);
	assert_rc(pt_frame_put(e->phys, root), PT_EINVAL);
	assert_u64(pt_frame_refcount(e->phys, root), rc_root);

	/* An inner node: map something, then follow root entry 0 by hand. */
	assert_ok_checked(t, pt_map(t, 0, 0, SZ_4K, prop(RW, PT_CACHE_WB)));
	pte = ((uint64_t *)pt_phys_to_virt(e->phys, root))[0];
	assert_int_equal(f->decode(pte, 4, 0, &l3, &pp, &tr), PT_DECODE_TABLE);
	assert_u64(l3, pte & 0x000ffffffffff000ull); /* table pa: bits 12..51 (SDM) */
	rc_l3 = pt_frame_refcount(e->phys, l3);
	assert_true(rc_l3 != PT_REFCOUNT_UNUSED);
	assert_rc(pt_frame_get(e->phys, l3), PT_EINVAL);
	assert_rc(pt_frame_put(e->phys, l3), PT_EINVAL);
	assert_u64(pt_frame_refcount(e->phys, l3), rc_l3);
	CHECK(t);
}

/* Fault injection: exactly the Nth allocation fails, once. */
static void test_fail_nth_alloc(void **state)
{
	struct pt_phys *phys = P(state);
	uint64_t a, b, c, pa = 0, free1;

	pt_phys_fail_nth_alloc(phys, 3);
	a = alloc1(phys);
	b = alloc1(phys);
	free1 = u_free_frames(phys);
	assert_rc(pt_frame_alloc(phys, &pa), PT_ENOMEM);
	assert_u64(u_free_frames(phys), free1);
	c = alloc1(phys); /* one-shot: the 4th works */
	assert_rc(pt_frame_put(phys, a), 0);
	assert_rc(pt_frame_put(phys, b), 0);
	assert_rc(pt_frame_put(phys, c), 0);

	/* n = 1 is the very next allocation. */
	pt_phys_fail_nth_alloc(phys, 1);
	assert_rc(pt_frame_alloc(phys, &pa), PT_ENOMEM);
	a = alloc1(phys);
	assert_rc(pt_frame_put(phys, a), 0);

	/* get/put are not allocations and must not advance the count. */
	a = alloc1(phys);
	pt_phys_fail_nth_alloc(phys, 2);
	assert_rc(pt_frame_get(phys, a), 0);
	assert_rc(pt_frame_put(phys, a), 0);
	b = alloc1(phys);
	assert_rc(pt_frame_alloc(phys, &pa), PT_ENOMEM);
	assert_rc(pt_frame_put(phys, a), 0);
	assert_rc(pt_frame_put(phys, b), 0);

	/* 0 turns a pending failure off. */
	pt_phys_fail_nth_alloc(phys, 1);
	pt_phys_fail_nth_alloc(phys, 0);
	a = alloc1(phys);
	assert_rc(pt_frame_put(phys, a), 0);
}

/* Running out is PT_ENOMEM, and every frame comes back. */
static void test_exhaust(void **state)
{
	struct pt_phys *phys = P(state);
	uint64_t n = u_free_frames(phys), i, pa;
	uint64_t *all = calloc(n, sizeof *all);

	assert_non_null(all);
	assert_true(n > 0 && n <= ARENA / SZ_4K);
	for (i = 0; i < n; i++) {
		all[i] = alloc1(phys);
		if (i > 0)
			assert_true(all[i] != all[i - 1]);
	}
	assert_u64(u_free_frames(phys), 0);
	assert_rc(pt_frame_alloc(phys, &pa), PT_ENOMEM);
	for (i = 0; i < n; i++)
		assert_rc(pt_frame_put(phys, all[i]), 0);
	assert_u64(u_free_frames(phys), n);
	free(all);
}

/* The hosted arena is one linear mapping starting at pa 0 (phys.h). */
static void test_phys_to_virt(void **state)
{
	struct pt_phys *phys = P(state);
	uint64_t a = alloc1(phys), b = alloc1(phys);
	char *va = pt_phys_to_virt(phys, a), *vb = pt_phys_to_virt(phys, b);

	assert_non_null(va);
	assert_non_null(vb);
	assert_true((intptr_t)(vb - va) == (intptr_t)(b - a));
	assert_null(pt_phys_to_virt(phys, ARENA));
	assert_null(pt_phys_to_virt(phys, ARENA + SZ_4K));
	assert_null(pt_phys_to_virt(phys, 1ull << 52));
	assert_null(pt_phys_to_virt(phys, UINT64_MAX & ~0xfffull));
	assert_rc(pt_frame_put(phys, a), 0);
	assert_rc(pt_frame_put(phys, b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phys_create_errors),
		cmocka_unit_test(test_phys_init_errors),
		cmocka_unit_test(test_destroy_unmaps),
		cmocka_unit_test_setup_teardown(test_alloc_null_args, setup, u_teardown),
		cmocka_unit_test_setup_teardown(test_alloc_zeroed_refcount_one, setup, u_teardown),
		cmocka_unit_test_setup_teardown(test_lifo_reuse, setup, u_teardown),
		cmocka_unit_test_setup_teardown(test_get_put_transitions, setup, u_teardown),
		cmocka_unit_test_setup_teardown(test_get_put_free_frame, setup, u_teardown),
		cmocka_unit_test_setup_teardown(test_get_put_unmanaged, setup, u_teardown),
		cmocka_unit_test_setup_teardown(test_get_put_unaligned, setup, u_teardown),
		cmocka_unit_test_setup_teardown(test_get_put_page_table_frames, setup, u_teardown),
		cmocka_unit_test_setup_teardown(test_fail_nth_alloc, setup, u_teardown),
		cmocka_unit_test_setup_teardown(test_exhaust, setup, u_teardown),
		cmocka_unit_test_setup_teardown(test_phys_to_virt, setup, u_teardown),
	};

	return cmocka_run_group_tests_name("unit_frames", tests, NULL, NULL);
}
