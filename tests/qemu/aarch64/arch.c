/* SPDX-License-Identifier: MPL-2.0 */
/*
 * arch.c - the AArch64 layer of the QEMU test kernel (tests/qemu/common/
 * arch.h): QEMU -machine virt, one Cortex-A57, EL1, 4 KiB granule, 48-bit
 * regions for TTBR0 (the user table) and TTBR1 (the kernel table).
 *
 * The console and the exit are console.c's (a64.h), shared with the stage-2
 * kernel; faults are caught by the vector table in vectors.S and the probes
 * are in probes.S.
 */
#include "a64.h"
#include "pl011.h"
#include "sysreg.h"


const struct arch_desc arch = {
	.name = "aarch64 4K (48-bit, TTBR0 + TTBR1)",
	.fmt = &pt_format_aarch64_4k,
	A64_ARCH_DESC_MACHINE,
	.split_running_code = false,
	.shared_kernel_root = false,
};

/* ---- traps -------------------------------------------------------------- */

struct extable_entry {
	uint64_t insn, fixup;
};

extern char arch_vectors[];
extern const struct extable_entry arch_extable[], arch_extable_end[];
extern char arch_probe_exec_ret[];

#define EC_IABT_CUR 0x21 /* instruction abort taken without a change in EL */
#define EC_DABT_CUR 0x25 /* data abort taken without a change in EL */
#define VEC_CUR_SPX_SYNC 4

/* DFSC/IFSC: 0b0001LL translation fault, 0b0011LL permission fault. */
static bool is_page_fault(uint64_t esr)
{
	uint64_t fsc = esr & 0x3f;

	return (fsc & 0x3c) == 0x04 || (fsc & 0x3c) == 0x0c;
}

void arch_trap(struct trap_frame *f, uint64_t vector)
{
	uint64_t esr = sysreg_read(esr_el1);
	uint64_t far = sysreg_read(far_el1);
	uint64_t ec = esr >> 26;

	if (vector == VEC_CUR_SPX_SYNC && is_page_fault(esr)) {
		if (ec == EC_DABT_CUR) {
			for (const struct extable_entry *e = arch_extable; e < arch_extable_end; e++) {
				if (f->elr == e->insn) {
					f->elr = e->fixup;
					return;
				}
			}
		}
		/* The fetch of an exec probe's target: back to the probe with 1. */
		if (ec == EC_IABT_CUR && f->elr == far &&
		    f->x[30] == (uint64_t)arch_probe_exec_ret) {
			f->x[0] = 1;
			f->elr = f->x[30];
			return;
		}
	}

	a64_unexpected_trap(f, vector, "EL1", esr, far, NULL);
}

void arch_trap_init(void)
{
	sysreg_write(vbar_el1, (uint64_t)arch_vectors);
	isb();
}

/* ---- MMU ---------------------------------------------------------------- */

/* MAIR_EL1: PT_AARCH64_MAIR (<ptkit/format.h>, src/formats/aarch64.h): the
 * AttrIndx of a leaf is its enum pt_cache: 0 = 0xff Normal WB, 1 = 0xbb
 * Normal WT, 2 = 0x44 Normal non-cacheable, 3 = 0x04 Device-nGnRE. */
#define MAIR_VALUE PT_AARCH64_MAIR

#define TCR_T0SZ(n) ((uint64_t)(n) << 0)
#define TCR_IRGN0_WBWA (1ull << 8)
#define TCR_ORGN0_WBWA (1ull << 10)
#define TCR_SH0_INNER (3ull << 12)
#define TCR_TG0_4K (0ull << 14)
#define TCR_T1SZ(n) ((uint64_t)(n) << 16)
#define TCR_IRGN1_WBWA (1ull << 24)
#define TCR_ORGN1_WBWA (1ull << 26)
#define TCR_SH1_INNER (3ull << 28)
#define TCR_TG1_4K (2ull << 30)
#define TCR_IPS_SHIFT 32

#define SCTLR_M (1ull << 0)
#define SCTLR_A (1ull << 1)
#define SCTLR_C (1ull << 2)
#define SCTLR_I (1ull << 12)
#define SCTLR_WXN (1ull << 19)

void arch_activate(const struct pt_table *user, const struct pt_table *kernel)
{
	uint64_t parange = sysreg_read(id_aa64mmfr0_el1) & 0xf;
	uint64_t ips = parange > 5 ? 5 : parange; /* 48 bits at most: no LPA */
	uint64_t tcr = TCR_T0SZ(16) | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER |
		       TCR_TG0_4K | TCR_T1SZ(16) | TCR_IRGN1_WBWA | TCR_ORGN1_WBWA |
		       TCR_SH1_INNER | TCR_TG1_4K | (ips << TCR_IPS_SHIFT);
	uint64_t sctlr = sysreg_read(sctlr_el1);

	/* Every table write (made with the MMU and caches off, or through the
	 * cacheable identity map) is complete before the walker may look. */
	dsb(ish);
	sysreg_write(mair_el1, MAIR_VALUE);
	sysreg_write(tcr_el1, tcr);
	sysreg_write(ttbr0_el1, pt_table_root(user));
	sysreg_write(ttbr1_el1, pt_table_root(kernel));
	isb();
	__asm__ volatile("tlbi vmalle1" : : : "memory");
	dsb(nsh);
	isb();
	if (!(sctlr & SCTLR_M)) {
		sctlr |= SCTLR_M | SCTLR_C | SCTLR_I;
		sctlr &= ~(SCTLR_A | SCTLR_WXN);
		sysreg_write(sctlr_el1, sctlr);
		isb();
	}
}

/* One page: VA[55:12] in bits 43:0, ASID 0; all levels when page-table
 * nodes were removed, else the last level only. */
static void tlbi_va(uint64_t page, bool nodes_removed)
{
	uint64_t arg = page & ((1ull << 44) - 1);

	if (nodes_removed)
		__asm__ volatile("tlbi vae1is, %0" : : "r"(arg) : "memory");
	else
		__asm__ volatile("tlbi vale1is, %0" : : "r"(arg) : "memory");
}

void arch_invalidate(const struct pt_flush_info *info)
{
	dsb(ishst); /* the PTE writes reach the walker before the invalidation */
	if (!a64_flush_pages(info, tlbi_va))
		__asm__ volatile("tlbi vmalle1is" : : : "memory");
	dsb(ish);
	isb();
}
