/* SPDX-License-Identifier: MPL-2.0 */
/*
 * arch.c - the x86-64 layer of the QEMU test kernel (tests/qemu/common/arch.h).
 *
 * The IDT's page-fault handler serves the probes of probes.S (every other
 * trap prints the registers and fails the run: x86.c, shared with the NPT
 * kernel, as are the console and the exit), CR3 loads and INVLPG.
 *
 * Built twice: 4-level paging (pt_format_x86_64) and, with
 * -DPTKIT_QEMU_LA57, 5-level paging (pt_format_x86_64_la57; boot.S then
 * sets CR4.LA57).
 */
#include "kprintf.h"
#include "x86.h"

#ifdef PTKIT_QEMU_LA57
#define FORMAT (&pt_format_x86_64_la57)
#define NAME "x86-64, 5-level paging (LA57)"
#else
#define FORMAT (&pt_format_x86_64)
#define NAME "x86-64, 4-level paging"
#endif


const struct arch_desc arch = {
	.name = NAME,
	.fmt = FORMAT,
	X86_ARCH_DESC_MACHINE,
	.split_running_code = true,
	.shared_kernel_root = true,
};

/* ---- traps ------------------------------------------------------------------ */

struct x86_probe {
	uint64_t insn, fixup;
};

extern const struct x86_probe x86_probe_table[], x86_probe_table_end[];
extern char x86_probe_exec_ret[], x86_probe_exec_fixup[];
int x86_probe_read(uint64_t va, uint64_t *out);
int x86_probe_write(uint64_t va, uint64_t val);
int x86_probe_exec(uint64_t va);

#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_RSVD (1u << 3)
#define PF_I (1u << 4)

void x86_trap(struct x86_trap_frame *f)
{
	uint64_t cr2 = read_cr2();

	/* A reserved bit in a PTE is a bug in ptkit's encoding, never an
	 * expected fault: it falls through to the report. */
	if (f->vector == 14 && !(f->error & PF_RSVD)) {
		for (const struct x86_probe *p = x86_probe_table; p < x86_probe_table_end; p++) {
			/* The probe's access is at rdi: a fault elsewhere is
			 * not the one the probe asked about. */
			if (f->rip == p->insn && (cr2 >> 12) == (f->rdi >> 12)) {
				f->rip = p->fixup;
				return;
			}
		}
		if ((f->error & PF_I) && f->rip == cr2 &&
		    *(const uint64_t *)(uintptr_t)f->rsp == (uintptr_t)x86_probe_exec_ret) {
			f->rsp += 8; /* the call's return address */
			f->rip = (uintptr_t)x86_probe_exec_fixup;
			return;
		}
	}
	x86_unexpected_trap(f);
}

void arch_trap_init(void)
{
	uint32_t r[4];

	x86_idt_init();

	/* What the run relies on; without it the checks would fail obscurely. */
	cpuid(0x80000001, 0, r);
	if (!(r[3] & (1u << 20)))
		kprintf("warning: the CPU has no NX (EFER.NXE would not stick)\n");
	if (!(r[3] & (1u << 26)))
		kprintf("warning: the CPU has no 1 GiB pages (start QEMU with -cpu ...,+pdpe1gb)\n");
#ifdef PTKIT_QEMU_LA57
	if (!(read_cr4() & (1u << 12)))
		kprintf("warning: CR4.LA57 is clear: not running 5-level paging\n");
#endif
	kprintf("\nx86-64: CR4.LA57=%lu, boot CR3 %#lx\n", (read_cr4() >> 12) & 1, read_cr3());
}

/* ---- probes ----------------------------------------------------------------- */

int arch_probe_read(uint64_t va, uint64_t *out)
{
	return x86_probe_read(va, out);
}

int arch_probe_write(uint64_t va, uint64_t val)
{
	return x86_probe_write(va, val);
}

int arch_probe_exec(uint64_t va)
{
	return x86_probe_exec(va);
}

/* ---- the MMU ---------------------------------------------------------------- */

void arch_activate(const struct pt_table *user, const struct pt_table *kernel)
{
	(void)kernel; /* the user table shares the kernel half's nodes */
	write_cr3(pt_table_root(user)); /* no PCID, no global pages: flushes all */
}

/* Past this many pages one CR3 reload is cheaper than INVLPG each. */
#define INVLPG_MAX_PAGES 64

static uint64_t pages_of(const struct pt_flush_range *r)
{
	return (r->len >> 12) + ((r->va & 0xfff) + (r->len & 0xfff) + 0xfff) / 0x1000;
}

/*
 * INVLPG drops the TLB entries of the page holding the address, whatever its
 * size, and the paging-structure caches used to translate it, so one per
 * 4 KiB page of every range is enough even when nodes were removed.
 */
void arch_invalidate(const struct pt_flush_info *info)
{
	uint64_t pages = 0;

	for (size_t i = 0; i < info->nr_ranges && pages <= INVLPG_MAX_PAGES; i++)
		pages += pages_of(&info->ranges[i]);
	if (info->all || pages > INVLPG_MAX_PAGES) {
		write_cr3(read_cr3());
		return;
	}
	for (size_t i = 0; i < info->nr_ranges; i++) {
		uint64_t va = info->ranges[i].va & ~0xfffull;
		for (uint64_t n = pages_of(&info->ranges[i]); n; n--, va += 0x1000)
			__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
	}
}
