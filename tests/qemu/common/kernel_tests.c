/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kernel_tests.c - the common program of the QEMU test kernels (issue 4).
 *
 * It builds an address space with ptkit alone, loads it into the MMU, and
 * proves by real accesses that the hardware sees what ptkit mapped: aliases,
 * permissions, holes, execute rights, TLB invalidation (with a control run
 * that shows the emulated TLB really goes stale without it), hardware dirty
 * bits, 2 MiB and 1 GiB leaves, and splitting a huge leaf under data and
 * under the very code that is running.  Arch-neutral: it uses only the hooks
 * of arch.h and the public ptkit API.
 *
 * Every check prints exactly one line (check.h); then the RESULT line, and
 * the kernel exits with success iff no check failed and one passed.
 *
 * Physical layout, carved after the image (all 2 MiB aligned):
 *
 *   [img_lo, img_hi)     the image rounded out to 2 MiB: identity, RWX
 *   [scratch, +6 MiB)    identity RW: 2 MiB for huge_2m, 2 MiB for
 *                        split_data, 2 MiB of single test pages
 *   [pool, +16 MiB)      pt_phys_init: ptkit's frames, identity RW (ptkit
 *                        reaches them at va == pa) and, in the kernel half,
 *                        at kernel_start + pa
 *
 * Built with -DPTKIT_QEMU_KALLOC, the kernel hands ptkit its pool frames
 * through its own allocator (pt_platform.frame_alloc/frame_free) and counts
 * free frames itself: the same checks, with the frames owned by the kernel.
 *
 * Test virtual addresses (TV_*) lie in [64 GiB, 256 GiB): inside the user
 * half of every format (Sv39's is 256 GiB).
 */
#include "arch.h"
#include "check.h"
#include "kprintf.h"


#define TV_BASE UINT64_C(0x1000000000)              /* 64 GiB */
#define TV_HUGE2M (TV_BASE)                  /* a 2 MiB leaf */
#define TV_SPLIT (TV_BASE + 0x400000)        /* a 2 MiB leaf split by protect */
#define TV_SMALL (TV_BASE + 0x800000)        /* one leaf table of 4 KiB tests */
#define TV_EXEC (TV_SMALL + 0x1000)
#define TV_NOEXEC (TV_SMALL + 0x2000)
#define TV_DIRTY (TV_SMALL + 0x3000)
#define TV_NEAR (TV_SMALL + 0x4000)          /* mapped ... */
#define TV_HOLE (TV_SMALL + 0x5000)          /* ... and its unmapped neighbour */
/* Low bits far from what the code touches meanwhile, so that no conflict
 * evicts this page from QEMU's (direct-mapped) TLB between two reads. */
#define TV_STALE (TV_SMALL + 0xd7000)
#define TV_GIG UINT64_C(0x2000000000)               /* 128 GiB, 1 GiB aligned */
#define TV_FAR_HOLE UINT64_C(0x3000000000)          /* 192 GiB: no node below the root */

/* ---- the address space ---------------------------------------------------- */

static struct pt_phys phys;
static struct pt_table *kern, *user;
static uint64_t img_lo, img_hi, scratch_pa, pool_pa, pool_len, ks;
static uint64_t free_after_init;

#ifdef PTKIT_QEMU_KALLOC
/*
 * The kernel's own frame allocator (pt_platform.frame_alloc/frame_free,
 * issue 10): a bitmap over the pool frames after ptkit's metadata.  Every
 * frame ptkit takes or gives back passes through here, so the accounting
 * below counts with this allocator's own numbers, not with ptkit's, and a
 * free of a frame that is not out (double) or not the pool's (foreign) is
 * caught by code ptkit does not own.
 */
struct kalloc {
	uint64_t first, nr;                   /* frames [first, first + nr * 4 KiB) */
	uint64_t used[POOL_MAX / SZ_4K / 64]; /* bit set: handed out */
	uint64_t nr_free;
	uint64_t bad_frees, first_bad;        /* double or foreign frees */
};
static struct kalloc kalloc;

static bool kalloc_is_used(const struct kalloc *ka, uint64_t i)
{
	return ka->used[i / 64] & (UINT64_C(1) << (i % 64));
}

static void kalloc_flip(struct kalloc *ka, uint64_t i)
{
	ka->used[i / 64] ^= UINT64_C(1) << (i % 64);
}

static int kalloc_frame(void *arg, uint64_t *pa)
{
	struct kalloc *ka = arg;

	/* Lowest frame first, as ptkit's own list does. */
	for (uint64_t i = 0; i < ka->nr; i++) {
		if (!kalloc_is_used(ka, i)) {
			kalloc_flip(ka, i);
			ka->nr_free--;
			*pa = ka->first + i * SZ_4K;
			return 0;
		}
	}
	return PT_ENOMEM;
}

static void kalloc_free(void *arg, uint64_t pa)
{
	struct kalloc *ka = arg;
	uint64_t i = (pa - ka->first) / SZ_4K;

	if (pa < ka->first || i >= ka->nr || (pa & (SZ_4K - 1)) ||
	    !kalloc_is_used(ka, i)) {
		/* Inside a ptkit call: only note it, check_check reports it. */
		if (ka->bad_frees++ == 0)
			ka->first_bad = pa;
		return;
	}
	kalloc_flip(ka, i);
	ka->nr_free++;
}

/* Hands the pool after ptkit's metadata slots to the kernel's allocator. */
static void frames_setup(struct pt_platform *p)
{
	kalloc.first = pool_pa + pt_phys_meta_bytes(pool_len);
	kalloc.nr = (pool_pa + pool_len - kalloc.first) / SZ_4K;
	kalloc.nr_free = kalloc.nr;
	p->frame_alloc = kalloc_frame;
	p->frame_free = kalloc_free;
	p->frame_alloc_arg = &kalloc;
	kprintf("frames from the kernel's allocator: %lu at [%#lx, %#lx)\n", kalloc.nr,
		kalloc.first, pool_pa + pool_len);
}

static uint64_t free_frames(void)
{
	return kalloc.nr_free;
}

/* What the free count cannot tell, once everything is given back. */
static bool frames_ok(void)
{
	if (kalloc.bad_frees) {
		fail("the kernel's allocator got %lu double or foreign frees (the first: %#lx)",
		     kalloc.bad_frees, kalloc.first_bad);
		return false;
	}
	/* Nonzero would mean ptkit kept frames of its own beside ours. */
	if (pt_phys_free_frames(&phys)) {
		fail("pt_phys_free_frames is %lu with a kernel allocator, expected 0",
		     pt_phys_free_frames(&phys));
		return false;
	}
	/* Frame by frame, ours and ptkit's views agree: a count alone misses a
	 * free of the wrong frame that the kernel still had handed out. */
	for (uint64_t i = 0; i < kalloc.nr; i++) {
		uint64_t pa = kalloc.first + i * SZ_4K;
		bool ours = kalloc_is_used(&kalloc, i);
		bool ptkits = pt_frame_refcount(&phys, pa) != PT_REFCOUNT_UNUSED;
		if (ours != ptkits) {
			fail("frame %#lx is %s by the kernel's allocator but %s by ptkit", pa,
			     ours ? "handed out" : "free", ptkits ? "in use" : "free");
			return false;
		}
	}
	return true;
}
#else
/* ptkit's own free list. */
static void frames_setup(struct pt_platform *p)
{
	(void)p;
}

static uint64_t free_frames(void)
{
	return pt_phys_free_frames(&phys);
}

static bool frames_ok(void)
{
	return true;
}
#endif

static const struct pt_prop PROP_RWX = { PT_R | PT_W | PT_X, PT_CACHE_WB };
static const struct pt_prop PROP_RW = { PT_R | PT_W, PT_CACHE_WB };
static const struct pt_prop PROP_R = { PT_R, PT_CACHE_WB };
static const struct pt_prop PROP_DEV = { PT_R | PT_W, PT_CACHE_UC };

/* The identity map reaches every frame the checks use. */
bool frame_write(uint64_t pa, uint64_t val, const char *what)
{
	return write_ok(pa, val, what);
}

bool frame_read_is(uint64_t pa, uint64_t want, const char *what)
{
	return read_is(pa, want, what);
}

static uint64_t scratch_page(unsigned i) /* the single test pages */
{
	return scratch_pa + 2 * SZ_2M + i * SZ_4K;
}

#define RO_PAGE scratch_page(0) /* the page with a read-only kernel alias */

/*
 * A kernel table and a user table seeing the image, the pool and the UART at
 * va == pa (kernel-only pages); with `full`, also the scratch area and the
 * kernel-half aliases.  The image gets one 2 MiB leaf where splitting the
 * leaf under running code is allowed, 4 KiB leaves elsewhere.
 */
static int build_space(struct pt_table **kp, struct pt_table **up, bool full)
{
	struct pt_table_opts opts = { .live = true };
	int err;

	if ((err = pt_table_create_opts(&phys, arch.fmt, PT_SPACE_KERNEL, &opts, kp))) {
		kprintf("pt_table_create_opts(kernel): %s\n", pt_strerror(err));
		return err;
	}
	if ((err = pt_table_create_user(*kp, up))) {
		kprintf("pt_table_create_user: %s\n", pt_strerror(err));
		return err;
	}
	if (arch.split_running_code) {
		err = pt_map(*up, img_lo, img_lo, img_hi - img_lo, PROP_RWX);
	} else {
		for (uint64_t a = img_lo; a < img_hi && !err; a += SZ_4K)
			err = pt_map(*up, a, a, SZ_4K, PROP_RWX);
	}
	if (err) {
		kprintf("pt_map(image [%#lx, %#lx)): %s\n", img_lo, img_hi, pt_strerror(err));
		return err;
	}
	if ((err = pt_map(*up, pool_pa, pool_pa, pool_len, PROP_RW))) {
		kprintf("pt_map(pool identity): %s\n", pt_strerror(err));
		return err;
	}
	if (arch.uart_len) {
		uint64_t lo = arch.uart_pa & ~(SZ_4K - 1);
		uint64_t hi = (arch.uart_pa + arch.uart_len + SZ_4K - 1) & ~(SZ_4K - 1);
		if ((err = pt_map(*up, lo, lo, hi - lo, PROP_DEV))) {
			kprintf("pt_map(uart %#lx): %s\n", lo, pt_strerror(err));
			return err;
		}
	}
	if (!full)
		return 0;
	if ((err = pt_map(*up, scratch_pa, scratch_pa, SCRATCH_LEN, PROP_RW))) {
		kprintf("pt_map(scratch identity): %s\n", pt_strerror(err));
		return err;
	}
	if ((err = pt_map(*kp, ks + pool_pa, pool_pa, pool_len, PROP_RW))) {
		kprintf("pt_map(pool kernel alias): %s\n", pt_strerror(err));
		return err;
	}
	if ((err = pt_map(*kp, ks + RO_PAGE, RO_PAGE, SZ_4K, PROP_R))) {
		kprintf("pt_map(read-only kernel alias): %s\n", pt_strerror(err));
		return err;
	}
	return 0;
}

/* ---- the checks ----------------------------------------------------------- */

/* 1. One frame, two virtual addresses: identity (user half) and kernel half. */
static void check_alias(void)
{
	uint64_t f;

	if (!alloc_frame(&phys, &f))
		return;
	uint64_t alias = ks + f;
	if (!write_ok(f, UINT64_C(0x1111222233334444), "the identity page") ||
	    !read_is(alias, UINT64_C(0x1111222233334444), "the kernel-half alias") ||
	    !write_ok(alias + 8, UINT64_C(0x5555666677778888), "the kernel-half alias") ||
	    !read_is(f + 8, UINT64_C(0x5555666677778888), "the identity page"))
		return;
}

/* 2. A read-only alias: reads work, writes fault and change nothing. */
static void check_readonly(void)
{
	readonly_page(kern, ks + RO_PAGE, RO_PAGE);
}

/* 3. Unmapped pages fault: inside a present leaf table, below a present
 * node at level 2, with no node at all, and in the kernel half. */
static void check_hole(void)
{
	uint64_t f;
	struct {
		struct pt_table *t;
		uint64_t va;
		const char *what;
	} holes[] = {
		{ user, TV_HOLE, "a hole next to a 4 KiB page" },
		{ user, pool_pa + pool_len, "the hole after the pool's identity map" },
		{ user, TV_FAR_HOLE, "a hole with no page-table node" },
		{ kern, ks + pool_pa + pool_len + SZ_2M, "a kernel-half hole" },
	};

	if (!alloc_frame(&phys, &f) || !OK(pt_map(user, TV_NEAR, f, SZ_4K, PROP_RW)) ||
	    !write_ok(TV_NEAR, 42, "the hole's neighbour"))
		return;
	for (unsigned i = 0; i < sizeof(holes) / sizeof(holes[0]); i++)
		if (!hole_faults(holes[i].t, holes[i].va, holes[i].what))
			return;
}

/* 4. Execute rights: one frame holding a return instruction, called through
 * an alias with PT_X (works), one without and the pool's identity map (the
 * fetch faults). */
static void check_nx(void)
{
	uint64_t f;

	if (!alloc_frame(&phys, &f) || !exec_rights(f, TV_EXEC, TV_NOEXEC))
		return;
	if (!arch_probe_exec(f))
		fail("calling through the pool's identity map (RW, no PT_X, va %#lx) did not fault", f);
}

/* 5. The TLB (stale_tlb, remap, protect): space_checks.c. */

/* 6. The hardware dirty bit, where the format stores one. */
static void check_dirty(void)
{
	struct pt_prop clean, dirty, want_d = { PT_R | PT_W | PT_D, PT_CACHE_WB };
	struct pt_mapping m;
	uint64_t f;

	if (arch.fmt->normalize(PROP_RW, arch.features, &clean) ||
	    arch.fmt->normalize(want_d, arch.features, &dirty)) {
		fail("%s: normalize refuses R|W or R|W|D", arch.fmt->name);
		return;
	}
	if (clean.flags & PT_D) {
		skip("%s sets D in every writable leaf: no hardware dirty bit to watch",
		     arch.fmt->name);
		return;
	}
	if (!(dirty.flags & PT_D)) {
		skip("%s has no dirty bit", arch.fmt->name);
		return;
	}
	if (!alloc_frame(&phys, &f) || !OK(pt_map(user, TV_DIRTY, f, SZ_4K, PROP_RW)) ||
	    !query_is(user, TV_DIRTY, SZ_4K, &m, "user"))
		return;
	if (m.prop.flags & PT_D) {
		fail("a fresh leaf mapped without PT_D reads back dirty (flags %#x)", m.prop.flags);
		return;
	}
	uint64_t v;
	if (!read_ok(TV_DIRTY, &v, "the clean page") || !query_is(user, TV_DIRTY, SZ_4K, &m, "user"))
		return;
	if (m.prop.flags & PT_D) {
		fail("a read made the leaf dirty (flags %#x)", m.prop.flags);
		return;
	}
	if (!(clean.flags & PT_A) && !(m.prop.flags & PT_A)) {
		fail("the hardware did not set the accessed bit on a read (flags %#x)",
		     m.prop.flags);
		return;
	}
	if (!write_ok(TV_DIRTY, UINT64_C(0xd1d1d1d1), "the clean page") ||
	    !query_is(user, TV_DIRTY, SZ_4K, &m, "user"))
		return;
	if (!(m.prop.flags & PT_D)) {
		fail("the write did not show as PT_D in pt_query (flags %#x)", m.prop.flags);
		return;
	}
	uint32_t set = arch.fmt->nr_sw_bits ? PT_SW0 : 0, clear = set ? 0 : PT_X;
	if (!OK(pt_protect(user, TV_DIRTY, SZ_4K, set, clear, NULL)) ||
	    !query_is(user, TV_DIRTY, SZ_4K, &m, "user"))
		return;
	if (!(m.prop.flags & PT_D))
		fail("pt_protect lost the hardware's dirty bit (flags now %#x)", m.prop.flags);
	else if ((m.prop.flags & set) != set)
		fail("pt_protect did not set PT_SW0 (flags now %#x)", m.prop.flags);
	else
		read_is(TV_DIRTY, UINT64_C(0xd1d1d1d1), "the dirty page after pt_protect");
}

/* 7. and 8. A 2 MiB and a 1 GiB leaf (huge_2m, huge_1g): space_checks.c. */

/* 9. Splitting a 2 MiB data leaf to protect one 4 KiB page of it. */
static bool split_verify(uint64_t base)
{
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t page = base + i * SZ_4K;
		if (!read_is(page, pattern(i, 0), "the split leaf"))
			return false;
		volatile uint64_t *w = (volatile uint64_t *)(uintptr_t)page;
		for (uint64_t j = 1; j < 512; j++) {
			if (w[j] != pattern(i, j)) {
				fail("the split leaf at va %#lx reads %#lx, expected %#lx",
				     page + 8 * j, w[j], pattern(i, j));
				return false;
			}
		}
	}
	return true;
}

static void check_split_data(void)
{
	const uint64_t pa = scratch_pa + SZ_2M, ro = TV_SPLIT + 7 * SZ_4K;
	struct pt_mapping m;

	if (!OK(pt_map(user, TV_SPLIT, pa, SZ_2M, PROP_RW)) ||
	    !query_is(user, TV_SPLIT, SZ_2M, &m, "user"))
		return;
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t page = TV_SPLIT + i * SZ_4K;
		if (!write_ok(page, pattern(i, 0), "the 2 MiB leaf"))
			return;
		volatile uint64_t *w = (volatile uint64_t *)(uintptr_t)page;
		for (uint64_t j = 1; j < 512; j++)
			w[j] = pattern(i, j);
	}
	if (!split_protect_page(TV_SPLIT, ro) || !split_verify(TV_SPLIT) ||
	    !split_neighbours(ro, 7) || !split_verify(TV_SPLIT))
		return;
	/* The identity view of the same frames agrees. */
	read_is(pa + 7 * SZ_4K + 8, pattern(7, 1), "the split leaf's frame (identity)");
}

/* 10. Splitting the 2 MiB leaf that maps the code being executed: a page of
 * data next to the code is made read-only and back. */
static uint64_t code_neighbour[512] __attribute__((aligned(4096))) = { 0x5eed };

static void check_split_code(void)
{
	uint64_t code = (uintptr_t)&check_split_code, arr = (uintptr_t)code_neighbour;
	struct pt_mapping m;

	if (!arch.split_running_code) {
		skip("%s: splitting the leaf under running code is break-before-make here",
		     arch.name);
		return;
	}
	if ((code & ~(SZ_2M - 1)) != (arr & ~(SZ_2M - 1))) {
		fail("layout: the code (%#lx) and the array (%#lx) are in different 2 MiB pages",
		     code, arr);
		return;
	}
	if (!query_is(user, code, SZ_2M, &m, "user") ||
	    !write_ok(arr, 0xc0de, "the array next to the code"))
		return;
	if (!OK(pt_protect(user, arr, SZ_4K, 0, PT_W, NULL)))
		return;
	/* Still running: the leaf under this very code was split. */
	if (!query_is(user, code, SZ_4K, &m, "user"))
		return;
	if ((m.prop.flags & (PT_W | PT_X)) != (PT_W | PT_X)) {
		fail("the code's new 4 KiB leaf lost W or X (flags %#x)", m.prop.flags);
		return;
	}
	if (!write_faults(arr, 0xbad, "the read-only array next to the code") ||
	    !read_is(arr, 0xc0de, "the read-only array") ||
	    !OK(pt_protect(user, arr, SZ_4K, PT_W, 0, NULL)) ||
	    !write_ok(arr, 0x600d, "the array made writable again"))
		return;
	if (code_neighbour[0] != 0x600d)
		fail("the array reads %#lx through the program's own pointer", code_neighbour[0]);
}

/* 11. The invariants, then a teardown that gives every frame back: a second,
 * minimal pair of tables is loaded so the first can be destroyed. */
static void check_check(void)
{
	char msg[160];
	struct pt_table *k2, *u2;
	int err;

	if ((err = pt_check(user, msg, sizeof(msg)))) {
		fail("pt_check(user): %s: %s", pt_strerror(err), msg);
		return;
	}
	if ((err = pt_check(kern, msg, sizeof(msg)))) {
		fail("pt_check(kernel): %s: %s", pt_strerror(err), msg);
		return;
	}
	uint64_t before = free_frames();
	if (build_space(&k2, &u2, false)) {
		fail("building the second address space failed (see above)");
		return;
	}
	uint64_t cost = before - free_frames();
	arch_activate(u2, k2);
	/* From here on nothing allocates: every frame given back stays free. */
	if (!put_test_frames(&phys))
		return;
	if (!OK(pt_table_destroy(user)) || !OK(pt_table_destroy(kern)))
		return;
	user = kern = NULL;
	uint64_t now = free_frames();
	if (now + cost != free_after_init) {
		fail("after destroying the tables %lu frames are free, expected %lu "
		     "(%lu after pt_phys_init, %lu held by the second tables)",
		     now, free_after_init - cost, free_after_init, cost);
		return;
	}
	if (!frames_ok())
		return;
	if (!test_frames_unused(&phys))
		return;
	if ((err = pt_check(u2, msg, sizeof(msg))) || (err = pt_check(k2, msg, sizeof(msg))))
		fail("pt_check(second tables): %s: %s", pt_strerror(err), msg);
}

/* ---- main ----------------------------------------------------------------- */

void kernel_main(void)
{
	char msg[160];

	arch_trap_init();
	kprintf("\nptkit QEMU test kernel: %s, format %s (%u levels)\n", arch.name,
		arch.fmt->name, arch.fmt->levels);

	ks = arch.fmt->kernel_start;
	carve_ram(&img_lo, &img_hi, &scratch_pa, &pool_pa, &pool_len);

	struct pt_platform platform = {
		.invalidate = check_invalidate,
		.features = arch.features,
	};
	frames_setup(&platform);
	int err = pt_phys_init(&phys, pool_pa, pool_len, 0, &platform);
	if (err) {
		kprintf("pt_phys_init: %s\n", pt_strerror(err));
		setup_failed("pt_phys_init");
	}
	free_after_init = free_frames();
	if (build_space(&kern, &user, true))
		setup_failed("building the address space (see above)");
	if ((err = pt_check(user, msg, sizeof(msg))) || (err = pt_check(kern, msg, sizeof(msg)))) {
		kprintf("pt_check before activation: %s: %s\n", pt_strerror(err), msg);
		setup_failed("pt_check before activation");
	}
	kprintf("tables built: %lu of %lu frames used; activating\n",
		free_after_init - free_frames(), free_after_init);
	arch_activate(user, kern);
	kprintf("running on ptkit's tables\n");
	space = (struct check_space){
		.phys = &phys, .table = user, .stale_va = TV_STALE,
		.huge2m_va = TV_HUGE2M, .huge2m_pa = scratch_pa, .gig_va = TV_GIG,
	};

	run("alias", check_alias);
	run("readonly", check_readonly);
	run("hole", check_hole);
	run("nx", check_nx);
	run("stale_tlb", check_stale_tlb);
	run("remap", check_remap);
	run("protect", check_protect);
	run("dirty", check_dirty);
	run("huge_2m", check_huge_2m);
	run("huge_1g", check_huge_1g);
	run("split_data", check_split_data);
	run("split_code", check_split_code);
	run("check", check_check);
	kprintf("%lu invalidation calls\n", inval_calls);
	finish();
}
