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

/* The hypervisor's own accesses: physical, its translation is off. */
static void hyp_write(uint64_t pa, uint64_t val)
{
	*(volatile uint64_t *)(uintptr_t)pa = val;
}

static bool hyp_read_is(uint64_t pa, uint64_t want, const char *what)
{
	uint64_t got = *(volatile uint64_t *)(uintptr_t)pa;

	if (got != want)
		fail("the hypervisor reads %#lx at pa %#lx (%s), expected %#lx", got, pa, what,
		     want);
	return got == want;
}

bool frame_write(uint64_t pa, uint64_t val, const char *what)
{
	(void)what;
	hyp_write(pa, val);
	return true;
}

bool frame_read_is(uint64_t pa, uint64_t want, const char *what)
{
	return hyp_read_is(pa, want, what);
}

/* Leaf properties, with what the arch's stage 2 needs beside (check.h). */
#define PROP_RWX check_prop(PT_R | PT_W | PT_X)
#define PROP_RW check_prop(PT_R | PT_W)
#define PROP_RX check_prop(PT_R | PT_X)
#define PROP_R check_prop(PT_R)

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
	struct pt_table_opts opts = { .live = true, .tag = STAGE2_TAG };
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
	if (OK(pt_map(guest, TG_RO, scratch_page(0), SZ_4K, PROP_R)))
		readonly_page(guest, TG_RO, scratch_page(0));
}

/* 3. Unmapped guest-physical pages fault: inside a present leaf table, right
 * after the image, with no node below the root's entry, and in the root's
 * entries past the first 512. */
static void check_hole(void)
{
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
	for (unsigned i = 0; i < sizeof(holes) / sizeof(holes[0]); i++)
		if (!hole_faults(guest, holes[i].gpa, holes[i].what))
			return;
}

/* 4. Execute rights: a frame holding a return instruction, called by the
 * guest through a gpa with PT_X (works) and one without (faults). */
static void check_nx(void)
{
	uint64_t f;

	if (alloc_frame(&phys, &f))
		exec_rights(f, TG_EXEC, TG_NOEXEC);
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

/* 6. to 8. The TLB (stale_tlb, remap, protect), a 2 MiB and a 1 GiB leaf
 * (huge_2m, huge_1g): space_checks.c. */

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
	    !split_protect_page(TG_SPLIT, ro) || !split_verify(pa) || !split_neighbours(ro, 7))
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

	carve_ram(&img_lo, &img_hi, &scratch_pa, &pool_pa, &pool_len);

	space = (struct check_space){
		.phys = &phys, .stale_va = TG_STALE, .huge2m_va = TG_HUGE2M,
		.huge2m_pa = scratch_pa, .gig_va = TG_GIG, .leaf_flags = arch.stage2_flags,
		.stale_excuse = "the emulator dropped the guest's translations between two "
				"guest entries (tests/qemu/README.md)",
		.tag = STAGE2_TAG,
	};
	struct pt_platform platform = {
		.invalidate = check_invalidate,
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
	space.table = guest;

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
