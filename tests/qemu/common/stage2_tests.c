/* SPDX-License-Identifier: MPL-2.0 */
/*
 * stage2_tests.c - the common program of the stage-2 QEMU test kernels
 * (issue 14): RISC-V G-stage (riscv64/gstage.c) and AArch64 stage 2
 * (aarch64/stage2.c).
 *
 * The kernel is a hypervisor that runs with its own translation off
 * (HS-mode with satp bare; EL2 with its MMU off), so it reaches every frame
 * at its physical address.  It builds a guest's stage-2 table with ptkit
 * alone, loads it (hgatp; VTTBR_EL2 and VTCR_EL2), and proves by guest
 * accesses that the hardware's two-stage walk agrees with ptkit's view.  The
 * guest runs with its own stage off (vsatp bare; EL1 with its MMU off), so a
 * guest address is a guest-physical one.  The arch's probes (arch.h) run one
 * guest access each; a stage-2 fault comes back to the hypervisor and counts
 * as the probe's fault only if the hardware reports the probed
 * guest-physical address (htval; HPFAR_EL2), else the run fails.
 *
 * The checks: guest RAM seen from both sides, read-only pages, holes (also
 * one above 512 GiB), execute rights, TLB invalidation after unmap, remap
 * and protect (with a control run that shows whether the emulated TLB goes
 * stale without it), 2 MiB and 1 GiB leaves, splitting a 2 MiB leaf, guest
 * addresses above 512 GiB and the last page of the guest-physical space
 * (root entries past the first 512: a stage-2 root is more than one page),
 * and a teardown that gives every frame back.
 *
 * Physical layout, carved after the image (all 2 MiB aligned):
 *
 *   [img_lo, img_hi)     the image rounded out to 2 MiB; the guest sees it
 *                        at the same guest-physical address, RWX: the
 *                        guest's stubs run there
 *   [scratch, +6 MiB)    2 MiB for huge_2m, 2 MiB for split_data, 2 MiB of
 *                        single test pages; not in the guest's space
 *   [pool, +16 MiB)      pt_phys_init: ptkit's frames
 *
 * Test guest-physical addresses (TG_*) lie in [64 GiB, 256 GiB), but for
 * TG_HIGH, above 512 GiB, and the last page below the format's user_end.
 */
#include "arch.h"
#include "check.h"
#include "kprintf.h"

#define SCRATCH_LEN (3 * SZ_2M)
#define POOL_MAX (UINT64_C(16) << 20)
#define POOL_MIN (UINT64_C(4) << 20)

#define TG_BASE UINT64_C(0x1000000000)       /* 64 GiB */
#define TG_HUGE2M (TG_BASE)                  /* a 2 MiB leaf */
#define TG_SPLIT (TG_BASE + 0x400000)        /* a 2 MiB leaf split by protect */
#define TG_SMALL (TG_BASE + 0x800000)        /* one leaf table of 4 KiB tests */
#define TG_RAM (TG_SMALL)
#define TG_RO (TG_SMALL + 0x1000)
#define TG_EXEC (TG_SMALL + 0x2000)
#define TG_NOEXEC (TG_SMALL + 0x3000)
#define TG_NEAR (TG_SMALL + 0x4000)          /* mapped ... */
#define TG_HOLE (TG_SMALL + 0x5000)          /* ... and its unmapped neighbour */
#define TG_UNMAP (TG_SMALL + 0x6000)
/* Low bits far from what the code touches meanwhile, so that no conflict
 * evicts this page from QEMU's (direct-mapped) TLB between two reads. */
#define TG_STALE (TG_SMALL + 0xd7000)
#define TG_GIG UINT64_C(0x2000000000)        /* 128 GiB, 1 GiB aligned */
#define TG_FAR_HOLE UINT64_C(0x3000000000)   /* 192 GiB: no node below the root */
/* 515 GiB: root entry 515 of Sv39x4's 2048, of the second concatenated
 * level-1 table on AArch64 (entry 3 there). */
#define TG_HIGH UINT64_C(0x80c0000000)
#define TG_HIGH_HOLE (TG_HIGH + SZ_1G)

static struct pt_phys phys;
static struct pt_table *guest;
static uint64_t img_lo, img_hi, scratch_pa, pool_pa, pool_len;
static uint64_t free_after_init;

/* Invalidation: counted, and suppressible by the stale_tlb check. */
static volatile bool inval_suppressed;
static volatile uint64_t inval_calls;

static void test_invalidate(void *arg, const struct pt_flush_info *info)
{
	(void)arg;
	inval_calls++;
	if (!inval_suppressed)
		arch_invalidate(info);
}

/* The hypervisor's own accesses: physical, its translation is off. */
static void hyp_write(uint64_t pa, uint64_t val)
{
	*(volatile uint64_t *)(uintptr_t)pa = val;
}

static uint64_t hyp_read(uint64_t pa)
{
	return *(volatile uint64_t *)(uintptr_t)pa;
}

static bool hyp_read_is(uint64_t pa, uint64_t want, const char *what)
{
	uint64_t got = hyp_read(pa);

	if (got != want)
		fail("the hypervisor reads %#lx at pa %#lx (%s), expected %#lx", got, pa, what,
		     want);
	return got == want;
}

/* A leaf's properties: `flags` and what the arch's stage 2 needs beside. */
static struct pt_prop prop(uint32_t flags)
{
	return (struct pt_prop){ flags | arch.stage2_flags, PT_CACHE_WB };
}

#define PROP_RWX prop(PT_R | PT_W | PT_X)
#define PROP_RW prop(PT_R | PT_W)
#define PROP_RX prop(PT_R | PT_X)
#define PROP_R prop(PT_R)

static uint64_t scratch_page(unsigned i) /* the single test pages */
{
	return scratch_pa + 2 * SZ_2M + i * SZ_4K;
}

/* The end of the guest-physical space the hardware translates. */
static uint64_t guest_pa_end(void)
{
	return arch.guest_pa_end ? arch.guest_pa_end : arch.fmt->user_end;
}

/* A stage-2 table in which the guest sees the image at its own address. */
static int build_guest(struct pt_table **out)
{
	struct pt_table_opts opts = { .live = true };
	int err;

	if ((err = pt_table_create_opts(&phys, arch.fmt, PT_SPACE_USER, &opts, out))) {
		kprintf("pt_table_create_opts(stage 2): %s\n", pt_strerror(err));
		return err;
	}
	if ((err = pt_map(*out, img_lo, img_lo, img_hi - img_lo, PROP_RWX)))
		kprintf("pt_map(image [%#lx, %#lx)): %s\n", img_lo, img_hi, pt_strerror(err));
	return err;
}

/* ---- the checks ----------------------------------------------------------- */

/* 1. Guest RAM: what the hypervisor writes at the pa the guest reads at the
 * gpa, and the other way round. */
static void check_guest_ram(void)
{
	struct pt_mapping m;
	uint64_t f;

	if (!alloc_frame(&phys, &f) || !OK(pt_map(guest, TG_RAM, f, SZ_4K, PROP_RW)) ||
	    !query_is(guest, TG_RAM, SZ_4K, &m, "stage 2"))
		return;
	hyp_write(f, UINT64_C(0x1111222233334444));
	if (!read_is(TG_RAM, UINT64_C(0x1111222233334444), "guest RAM") ||
	    !write_ok(TG_RAM + 8, UINT64_C(0x5555666677778888), "guest RAM"))
		return;
	hyp_read_is(f + 8, UINT64_C(0x5555666677778888), "the frame behind guest RAM");
}

/* 2. A read-only page: the guest reads it, its write faults and changes
 * nothing. */
static void check_readonly(void)
{
	const uint64_t pa = scratch_page(0);
	struct pt_mapping m;

	hyp_write(pa, UINT64_C(0x0bad0bad12345678));
	if (!OK(pt_map(guest, TG_RO, pa, SZ_4K, PROP_R)) ||
	    !query_is(guest, TG_RO, SZ_4K, &m, "stage 2") ||
	    !read_is(TG_RO, UINT64_C(0x0bad0bad12345678), "the read-only page") ||
	    !write_faults(TG_RO, UINT64_C(0xdeadbeef), "the read-only page") ||
	    !hyp_read_is(pa, UINT64_C(0x0bad0bad12345678), "after the guest's faulting write"))
		return;
	if (m.prop.flags & PT_W)
		fail("pt_query of the read-only page shows PT_W (flags %#x)", m.prop.flags);
}

/* 3. Unmapped guest-physical pages fault: inside a present leaf table, right
 * after the image, with no node below the root's entry, and in the root's
 * entries past the first 512. */
static void check_hole(void)
{
	struct pt_mapping m;
	uint64_t f;
	const struct {
		uint64_t gpa;
		const char *what;
	} holes[] = {
		{ TG_HOLE, "a hole next to a 4 KiB page" },
		{ img_hi, "the hole after the image" },
		{ TG_FAR_HOLE, "a hole with no page-table node" },
		{ TG_HIGH_HOLE, "a hole above 512 GiB" },
	};

	if (!alloc_frame(&phys, &f) || !OK(pt_map(guest, TG_NEAR, f, SZ_4K, PROP_RW)) ||
	    !write_ok(TG_NEAR, 42, "the hole's neighbour"))
		return;
	for (unsigned i = 0; i < sizeof(holes) / sizeof(holes[0]); i++) {
		int err = pt_query(guest, holes[i].gpa, &m);
		if (err != PT_ENOENT) {
			fail("pt_query(%s, %#lx) = %s, expected PT_ENOENT", holes[i].what,
			     holes[i].gpa, err ? pt_strerror(err) : "0");
			return;
		}
		if (!read_faults(holes[i].gpa, holes[i].what))
			return;
	}
}

/* 4. Execute rights: a frame holding a return instruction, called by the
 * guest through a gpa with PT_X (works) and one without (faults). */
static void check_nx(void)
{
	uint64_t f;

	if (!alloc_frame(&phys, &f))
		return;
	arch_put_return((void *)(uintptr_t)f);
	if (!OK(pt_map(guest, TG_EXEC, f, SZ_4K, PROP_RX)) ||
	    !OK(pt_map(guest, TG_NOEXEC, f, SZ_4K, PROP_RW)))
		return;
	if (arch_probe_exec(TG_EXEC)) {
		fail("the guest's call through the PT_X page (gpa %#lx) faulted", TG_EXEC);
		return;
	}
	if (!arch_probe_exec(TG_NOEXEC))
		fail("the guest's call through a page without PT_X (gpa %#lx) did not fault",
		     TG_NOEXEC);
}

/* 5. Unmap: a page the guest has just read faults once ptkit unmapped it. */
static void check_unmap(void)
{
	uint64_t f;

	if (!alloc_frame(&phys, &f))
		return;
	hyp_write(f, UINT64_C(0x0123456789abcdef));
	if (!OK(pt_map(guest, TG_UNMAP, f, SZ_4K, PROP_RW)) ||
	    !read_is(TG_UNMAP, UINT64_C(0x0123456789abcdef), "the page before pt_unmap") ||
	    !OK(pt_unmap(guest, TG_UNMAP, SZ_4K, NULL)))
		return;
	read_faults(TG_UNMAP, "the page after pt_unmap");
}

/* 6. The TLB: a control run without invalidation, then the same change with
 * ptkit's invalidation is seen at once. */
static uint64_t stale_a, stale_b;
static bool stale_ready;

static void check_stale_tlb(void)
{
	const uint64_t a = UINT64_C(0xaaaa00000000aaaa), b = UINT64_C(0xbbbb00000000bbbb);

	if (!alloc_frame(&phys, &stale_a) || !alloc_frame(&phys, &stale_b))
		return;
	hyp_write(stale_a, a);
	hyp_write(stale_b, b);
	if (!OK(pt_map(guest, TG_STALE, stale_a, SZ_4K, PROP_RW)) ||
	    !read_is(TG_STALE, a, "V -> A"))
		return;
	stale_ready = true;

	uint64_t calls = inval_calls;
	inval_suppressed = true;
	int err1 = pt_unmap(guest, TG_STALE, SZ_4K, NULL);
	int err2 = err1 ? 0 : pt_map(guest, TG_STALE, stale_b, SZ_4K, PROP_RW);
	inval_suppressed = false;
	if (!OK(err1) || !OK(err2))
		return;
	if (inval_calls == calls) {
		fail("ptkit asked for no invalidation when it unmapped a page in use");
		return;
	}
	uint64_t got;
	if (!read_ok(TG_STALE, &got, "V after a remap without invalidation"))
		return;
	if (got == b)
		/* Not ptkit's doing: then remap and protect below still prove
		 * the change is seen, but not that the invalidation made it. */
		skip("the guest read frame B right after a remap whose invalidation was "
		     "suppressed: this QEMU drops the guest's translations between two "
		     "guest entries (see tests/qemu/README.md)");
	else if (got != a)
		fail("V read %#lx, neither A's %#lx nor B's %#lx", got, a, b);
}

static void check_remap(void)
{
	const uint64_t b = UINT64_C(0xbbbb00000000bbbb);

	if (!stale_ready) {
		fail("stale_tlb did not set V up");
		return;
	}
	/* The table already says V -> B; the TLB may still say V -> A. */
	if (!OK(pt_unmap(guest, TG_STALE, SZ_4K, NULL)) ||
	    !OK(pt_map(guest, TG_STALE, stale_b, SZ_4K, PROP_RW)))
		return;
	read_is(TG_STALE, b, "V -> B after ptkit's unmap and map");
}

static void check_protect(void)
{
	if (!stale_ready) {
		fail("stale_tlb did not set V up");
		return;
	}
	/* The write leaves a writable translation in the TLB. */
	if (!write_ok(TG_STALE, 0x1234, "V (read-write)") ||
	    !OK(pt_protect(guest, TG_STALE, SZ_4K, 0, PT_W, NULL)) ||
	    !write_faults(TG_STALE, 0x5678, "V after pt_protect(-W)") ||
	    !read_is(TG_STALE, 0x1234, "V (read-only)") ||
	    !OK(pt_protect(guest, TG_STALE, SZ_4K, PT_W, 0, NULL)) ||
	    !write_ok(TG_STALE, 0x9abc, "V after pt_protect(+W)"))
		return;
	hyp_read_is(stale_b, 0x9abc, "frame B");
}

static uint64_t pattern(uint64_t page, uint64_t word)
{
	return UINT64_C(0x9e3779b97f4a7c15) * (page * 512 + word + 1);
}

/* 7. A 2 MiB leaf: the guest reads what the hypervisor wrote. */
static void check_huge_2m(void)
{
	struct pt_mapping m;

	for (uint64_t i = 0; i < 512; i++)
		hyp_write(scratch_pa + i * SZ_4K + 8 * i, pattern(i, 7));
	if (!OK(pt_map(guest, TG_HUGE2M, scratch_pa, SZ_2M, PROP_R)) ||
	    !query_is(guest, TG_HUGE2M + 0x12345, SZ_2M, &m, "stage 2"))
		return;
	if (m.va != TG_HUGE2M || m.pa != scratch_pa) {
		fail("pt_query: leaf gpa %#lx pa %#lx, expected %#lx -> %#lx", m.va, m.pa,
		     TG_HUGE2M, scratch_pa);
		return;
	}
	for (uint64_t i = 0; i < 512; i++)
		if (!read_is(TG_HUGE2M + i * SZ_4K + 8 * i, pattern(i, 7), "the 2 MiB leaf"))
			return;
}

/* 8. A 1 GiB leaf over the image: the guest reads a global the hypervisor
 * has just written; after pt_unmap it faults. */
static volatile uint64_t gig_marker = UINT64_C(0x1617181920212223);

static void check_huge_1g(void)
{
	struct pt_mapping m;
	uint64_t marker_pa = (uintptr_t)&gig_marker;

	if (!arch.has_1g || arch.fmt->max_leaf_level < 3) {
		skip("%s: no 1 GiB leaves here", arch.name);
		return;
	}
	if (marker_pa - arch.gig_pa >= SZ_1G) {
		fail("arch.gig_pa %#lx does not hold the image (a global at %#lx)",
		     arch.gig_pa, marker_pa);
		return;
	}
	gig_marker = UINT64_C(0x1600d1600d000000) ^ inval_calls;
	uint64_t gpa = TG_GIG + (marker_pa - arch.gig_pa);
	if (!OK(pt_map(guest, TG_GIG, arch.gig_pa, SZ_1G, PROP_R)) ||
	    !query_is(guest, gpa, SZ_1G, &m, "stage 2") ||
	    !read_is(gpa, gig_marker, "a global through the 1 GiB leaf") ||
	    !OK(pt_unmap(guest, TG_GIG, SZ_1G, NULL)))
		return;
	read_faults(gpa, "the 1 GiB leaf's range after pt_unmap");
}

/* 9. Splitting a 2 MiB leaf to protect one 4 KiB page of it: every page
 * still reads right (two words of each, through the guest; all of them
 * from the hypervisor's side). */
static bool split_verify(uint64_t pa)
{
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t gpa = TG_SPLIT + i * SZ_4K, word = 1 + i % 511;
		if (!read_is(gpa, pattern(i, 0), "the split leaf") ||
		    !read_is(gpa + 8 * word, pattern(i, word), "the split leaf"))
			return false;
		for (uint64_t j = 0; j < 512; j++)
			if (!hyp_read_is(pa + i * SZ_4K + 8 * j, pattern(i, j), "the split leaf"))
				return false;
	}
	return true;
}

static void check_split_data(void)
{
	const uint64_t pa = scratch_pa + SZ_2M, ro = TG_SPLIT + 7 * SZ_4K;
	struct pt_mapping m;

	for (uint64_t i = 0; i < 512; i++)
		for (uint64_t j = 0; j < 512; j++)
			hyp_write(pa + i * SZ_4K + 8 * j, pattern(i, j));
	if (!OK(pt_map(guest, TG_SPLIT, pa, SZ_2M, PROP_RW)) ||
	    !query_is(guest, TG_SPLIT, SZ_2M, &m, "stage 2") ||
	    !write_ok(ro, pattern(7, 0), "the 2 MiB leaf") ||
	    !OK(pt_protect(guest, ro, SZ_4K, 0, PT_W, NULL)) ||
	    !query_is(guest, ro, SZ_4K, &m, "stage 2"))
		return;
	if (m.prop.flags & PT_W) {
		fail("the protected page still has PT_W");
		return;
	}
	if (!query_is(guest, TG_SPLIT, SZ_4K, &m, "stage 2") || !(m.prop.flags & PT_W) ||
	    !query_is(guest, TG_SPLIT + SZ_2M - SZ_4K, SZ_4K, &m, "stage 2") ||
	    !(m.prop.flags & PT_W)) {
		fail("the split leaf's other pages are not 4 KiB and writable");
		return;
	}
	if (!split_verify(pa) ||
	    !write_faults(ro, 0x77, "the read-only page of the split leaf") ||
	    !write_ok(ro - SZ_4K, pattern(6, 0), "its left neighbour") ||
	    !write_ok(ro + SZ_4K, pattern(8, 0), "its right neighbour"))
		return;
	split_verify(pa);
}

/* 10. The root's entries past the first 512 (Sv39x4 and Sv48x4: a 16 KiB
 * root; AArch64: the second of two concatenated tables): a page above
 * 512 GiB and the last page of the guest-physical space. */
static void check_wide_root(void)
{
	const uint64_t top = guest_pa_end() - SZ_4K;
	const struct {
		uint64_t gpa, val;
		const char *what;
	} pages[] = {
		{ TG_HIGH, UINT64_C(0x4849474800000515), "a page above 512 GiB" },
		{ top, UINT64_C(0x7070707070707070), "the last guest-physical page" },
	};
	struct pt_mapping m;

	for (unsigned i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		uint64_t f;

		if (!alloc_frame(&phys, &f))
			return;
		hyp_write(f, pages[i].val);
		if (!OK(pt_map(guest, pages[i].gpa, f, SZ_4K, PROP_RW)) ||
		    !query_is(guest, pages[i].gpa, SZ_4K, &m, "stage 2") ||
		    !read_is(pages[i].gpa, pages[i].val, pages[i].what) ||
		    !write_ok(pages[i].gpa + 8, ~pages[i].val, pages[i].what) ||
		    !hyp_read_is(f + 8, ~pages[i].val, pages[i].what) ||
		    !OK(pt_unmap(guest, pages[i].gpa, SZ_4K, NULL)) ||
		    !read_faults(pages[i].gpa, pages[i].what))
			return;
	}
}

/* 11. The invariants, then a teardown that gives every frame back: a second,
 * minimal table is loaded so the first can be destroyed. */
static void check_check(void)
{
	char msg[160];
	struct pt_table *g2;
	int err;

	if ((err = pt_check(guest, msg, sizeof(msg)))) {
		fail("pt_check(stage 2): %s: %s", pt_strerror(err), msg);
		return;
	}
	uint64_t before = pt_phys_free_frames(&phys);
	if (build_guest(&g2)) {
		fail("building the second table failed (see above)");
		return;
	}
	uint64_t cost = before - pt_phys_free_frames(&phys);
	arch_activate(g2, NULL);
	if (!put_test_frames(&phys) || !OK(pt_table_destroy(guest)))
		return;
	guest = NULL;
	uint64_t now = pt_phys_free_frames(&phys);
	if (now + cost != free_after_init) {
		fail("after destroying the table %lu frames are free, expected %lu "
		     "(%lu after pt_phys_init, %lu held by the second table)",
		     now, free_after_init - cost, free_after_init, cost);
		return;
	}
	if (!test_frames_unused(&phys))
		return;
	/* The guest still runs on the second table. */
	if (!read_faults(TG_RAM, "guest RAM after the switch to the second table"))
		return;
	if ((err = pt_check(g2, msg, sizeof(msg))))
		fail("pt_check(second table): %s: %s", pt_strerror(err), msg);
}

/* ---- main ----------------------------------------------------------------- */

void kernel_main(void)
{
	char msg[160];

	arch_trap_init();
	kprintf("\nptkit QEMU stage-2 test kernel: %s, format %s (%u levels, "
		"guest-physical [0, %#lx))\n",
		arch.name, arch.fmt->name, arch.fmt->levels, guest_pa_end());

	img_lo = arch.image_start & ~(SZ_2M - 1);
	img_hi = (arch.image_end + SZ_2M - 1) & ~(SZ_2M - 1);
	scratch_pa = img_hi;
	pool_pa = scratch_pa + SCRATCH_LEN;
	if (pool_pa + POOL_MIN > arch.ram_end)
		setup_failed("not enough RAM after the image");
	pool_len = arch.ram_end - pool_pa;
	if (pool_len > POOL_MAX)
		pool_len = POOL_MAX;
	pool_len &= ~(SZ_2M - 1);
	kprintf("image [%#lx, %#lx) guest-physical as [%#lx, %#lx), scratch [%#lx, %#lx), "
		"pool [%#lx, %#lx)\n",
		arch.image_start, arch.image_end, img_lo, img_hi, scratch_pa,
		scratch_pa + SCRATCH_LEN, pool_pa, pool_pa + pool_len);

	struct pt_platform platform = {
		.invalidate = test_invalidate,
		.features = arch.features,
	};
	int err = pt_phys_init(&phys, pool_pa, pool_len, 0, &platform);
	if (err) {
		kprintf("pt_phys_init: %s\n", pt_strerror(err));
		setup_failed("pt_phys_init");
	}
	free_after_init = pt_phys_free_frames(&phys);
	if (build_guest(&guest))
		setup_failed("building the stage-2 table (see above)");
	if ((err = pt_check(guest, msg, sizeof(msg)))) {
		kprintf("pt_check before activation: %s: %s\n", pt_strerror(err), msg);
		setup_failed("pt_check before activation");
	}
	kprintf("stage-2 table built: %lu of %lu frames used; activating\n",
		free_after_init - pt_phys_free_frames(&phys), free_after_init);
	arch_activate(guest, NULL);
	kprintf("the guest runs on ptkit's stage-2 table\n");

	run("guest_ram", check_guest_ram);
	run("readonly", check_readonly);
	run("hole", check_hole);
	run("nx", check_nx);
	run("unmap", check_unmap);
	run("stale_tlb", check_stale_tlb);
	run("remap", check_remap);
	run("protect", check_protect);
	run("huge_2m", check_huge_2m);
	run("huge_1g", check_huge_1g);
	run("split_data", check_split_data);
	run("wide_root", check_wide_root);
	run("check", check_check);
	kprintf("%lu invalidation calls\n", inval_calls);
	finish();
}
