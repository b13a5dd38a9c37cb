/* SPDX-License-Identifier: MPL-2.0 */
/*
 * space_checks.c - the checks that the stage-1 program (kernel_tests.c) and
 * the stage-2 program (stage2_tests.c) both run (check.h): the TLB trio
 * (stale_tlb, remap, protect), and 2 MiB and 1 GiB leaves.  They act on
 * `space`, which the program fills, and reach a frame other than through
 * the test addresses by the program's frame_write and frame_read_is.
 */
#include "arch.h"
#include "check.h"
#include "kprintf.h"

struct check_space space;

/* Invalidation: counted, and suppressible by the stale_tlb check. */
static volatile bool inval_suppressed;
volatile uint64_t inval_calls;

void check_invalidate(void *arg, const struct pt_flush_info *info)
{
	(void)arg;
	inval_calls++;
	if (info->stage != arch.fmt->stage || info->tag != space.tag)
		kprintf("FAIL invalidate: the request names stage %u, tag %#lx; the table is "
			"stage %u, tag %#lx\n",
			info->stage, info->tag, arch.fmt->stage, space.tag);
	if (!inval_suppressed)
		arch_invalidate(info);
}

uint64_t pattern(uint64_t page, uint64_t word)
{
	return UINT64_C(0x9e3779b97f4a7c15) * (page * 512 + word + 1);
}

struct pt_prop check_prop(uint32_t flags)
{
	return (struct pt_prop){ flags | space.leaf_flags, PT_CACHE_WB };
}

void readonly_page(struct pt_table *t, uint64_t va, uint64_t pa)
{
	const uint64_t val = UINT64_C(0x0bad0bad12345678);
	struct pt_mapping m;

	if (!query_is(t, va, SZ_4K, &m, "the table") || !frame_write(pa, val, "its frame") ||
	    !read_is(va, val, "the read-only page") ||
	    !write_faults(va, UINT64_C(0xdeadbeef), "the read-only page") ||
	    !frame_read_is(pa, val, "its frame, after the faulting write"))
		return;
	if (m.prop.flags & PT_W)
		fail("pt_query of the read-only page shows PT_W (flags %#x)", m.prop.flags);
}

bool hole_faults(struct pt_table *t, uint64_t va, const char *what)
{
	struct pt_mapping m;
	int err = pt_query(t, va, &m);

	if (err != PT_ENOENT) {
		fail("pt_query(%s, %#lx) = %s, expected PT_ENOENT", what, va,
		     err ? pt_strerror(err) : "0");
		return false;
	}
	return read_faults(va, what);
}

bool exec_rights(uint64_t f, uint64_t x_va, uint64_t nx_va)
{
	arch_put_return((void *)(uintptr_t)f);
	if (!OK(pt_map_frames(space.table, x_va, &f, 1, check_prop(PT_R | PT_X))) ||
	    !OK(pt_map(space.table, nx_va, f, SZ_4K, check_prop(PT_R | PT_W))))
		return false;
	if (arch_probe_exec(x_va)) {
		fail("calling through the page with PT_X (va %#lx) faulted", x_va);
		return false;
	}
	if (!arch_probe_exec(nx_va)) {
		fail("calling through a page without PT_X (va %#lx) did not fault", nx_va);
		return false;
	}
	return true;
}

bool split_protect_page(uint64_t va, uint64_t ro)
{
	struct pt_mapping m;

	if (!OK(pt_protect(space.table, ro, SZ_4K, 0, PT_W, NULL)) ||
	    !query_is(space.table, ro, SZ_4K, &m, "the table"))
		return false;
	if (m.prop.flags & PT_W) {
		fail("the protected page still has PT_W");
		return false;
	}
	if (!query_is(space.table, va, SZ_4K, &m, "the table") || !(m.prop.flags & PT_W) ||
	    !query_is(space.table, va + SZ_2M - SZ_4K, SZ_4K, &m, "the table") ||
	    !(m.prop.flags & PT_W)) {
		fail("the split leaf's other pages are not 4 KiB and writable");
		return false;
	}
	return true;
}

bool split_neighbours(uint64_t ro, uint64_t page)
{
	return write_faults(ro, 0x77, "the read-only page of the split leaf") &&
	       write_ok(ro - SZ_4K, pattern(page - 1, 0), "its left neighbour") &&
	       write_ok(ro + SZ_4K, pattern(page + 1, 0), "its right neighbour");
}

/* The TLB: a control run without invalidation shows that QEMU keeps the
 * stale translation (so the next checks prove something), then the same
 * change with ptkit's invalidation is seen at once. */
static uint64_t stale_a, stale_b;
static bool stale_ready;

void check_stale_tlb(void)
{
	const uint64_t a = UINT64_C(0xaaaa00000000aaaa), b = UINT64_C(0xbbbb00000000bbbb);
	const uint64_t v = space.stale_va;

	if (!alloc_frame(space.phys, &stale_a) || !alloc_frame(space.phys, &stale_b) ||
	    !frame_write(stale_a, a, "frame A") || !frame_write(stale_b, b, "frame B") ||
	    !OK(pt_map(space.table, v, stale_a, SZ_4K, check_prop(PT_R | PT_W))) ||
	    !read_is(v, a, "V -> A"))
		return;
	stale_ready = true;

	uint64_t calls = inval_calls;
	inval_suppressed = true;
	int err1 = pt_unmap(space.table, v, SZ_4K, NULL);
	int err2 = err1 ? 0 : pt_map(space.table, v, stale_b, SZ_4K, check_prop(PT_R | PT_W));
	inval_suppressed = false;
	if (!OK(err1) || !OK(err2))
		return;
	if (inval_calls == calls) {
		fail("ptkit asked for no invalidation when it unmapped a page in use");
		return;
	}
	uint64_t got;
	if (!read_ok(v, &got, "V after a remap without invalidation"))
		return;
	if (got == b && space.stale_excuse)
		/* Then remap and protect below still prove that the change is
		 * seen, but not that ptkit's invalidation is what made it so. */
		skip("V read frame B right after a remap whose invalidation was suppressed: %s",
		     space.stale_excuse);
	else if (got == b)
		fail("V read frame B's value right after a remap whose invalidation was "
		     "suppressed: QEMU's TLB did not keep the old translation, so the "
		     "remap/protect checks cannot tell a missing invalidation");
	else if (got != a)
		fail("V read %#lx, neither A's %#lx nor B's %#lx", got, a, b);
}

void check_remap(void)
{
	const uint64_t b = UINT64_C(0xbbbb00000000bbbb);

	if (!stale_ready) {
		fail("stale_tlb did not set V up");
		return;
	}
	/* The table already says V -> B; the TLB may still say V -> A. */
	if (!OK(pt_unmap(space.table, space.stale_va, SZ_4K, NULL)) ||
	    !OK(pt_map(space.table, space.stale_va, stale_b, SZ_4K, check_prop(PT_R | PT_W))))
		return;
	read_is(space.stale_va, b, "V -> B after ptkit's unmap and map");
}

void check_protect(void)
{
	const uint64_t v = space.stale_va;

	if (!stale_ready) {
		fail("stale_tlb did not set V up");
		return;
	}
	/* The write leaves a writable translation in the TLB. */
	if (!write_ok(v, 0x1234, "V (read-write)") ||
	    !OK(pt_protect(space.table, v, SZ_4K, 0, PT_W, NULL)) ||
	    !write_faults(v, 0x5678, "V after pt_protect(-W)") ||
	    !read_is(v, 0x1234, "V (read-only)") ||
	    !OK(pt_protect(space.table, v, SZ_4K, PT_W, 0, NULL)) ||
	    !write_ok(v, 0x9abc, "V after pt_protect(+W)"))
		return;
	frame_read_is(stale_b, 0x9abc, "frame B");
}

/* A 2 MiB leaf reads what was written into its frames. */
void check_huge_2m(void)
{
	const uint64_t va = space.huge2m_va, pa = space.huge2m_pa;
	struct pt_mapping m;

	for (uint64_t i = 0; i < 512; i++)
		if (!frame_write(pa + i * SZ_4K + 8 * i, pattern(i, 7), "the 2 MiB frames"))
			return;
	if (!OK(pt_map(space.table, va, pa, SZ_2M, check_prop(PT_R))) ||
	    !query_is(space.table, va + 0x12345, SZ_2M, &m, "the table"))
		return;
	if (m.va != va || m.pa != pa) {
		fail("pt_query: leaf va %#lx pa %#lx, expected %#lx -> %#lx", m.va, m.pa, va, pa);
		return;
	}
	for (uint64_t i = 0; i < 512; i++)
		if (!read_is(va + i * SZ_4K + 8 * i, pattern(i, 7), "the 2 MiB leaf"))
			return;
}

/* A 1 GiB leaf over the image reads a global the program has just written;
 * after pt_unmap (a flush of a 1 GiB leaf) the read faults. */
static volatile uint64_t gig_marker = UINT64_C(0x1617181920212223);

void check_huge_1g(void)
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
	uint64_t va = space.gig_va + (marker_pa - arch.gig_pa);
	if (!OK(pt_map(space.table, space.gig_va, arch.gig_pa, SZ_1G, check_prop(PT_R))) ||
	    !query_is(space.table, va, SZ_1G, &m, "the table") ||
	    !read_is(va, gig_marker, "a global through the 1 GiB leaf") ||
	    !OK(pt_unmap(space.table, space.gig_va, SZ_1G, NULL)))
		return;
	read_faults(va, "the 1 GiB leaf's range after pt_unmap");
}
