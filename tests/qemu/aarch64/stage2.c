/* SPDX-License-Identifier: MPL-2.0 */
/*
 * stage2.c - the AArch64 hooks of tests/qemu/common/arch.h for the stage-2
 * kernel: QEMU -machine virt,virtualization=on, one Cortex-A57, this kernel
 * as the hypervisor at EL2 with its MMU off, and a guest at EL1 with its
 * MMU off (IPA = VA).  The table under test is the guest's stage-2 table
 * (VTTBR_EL2, 40-bit IPA, start level 1: two concatenated root tables);
 * the program is common/stage2_tests.c.
 *
 *   console    console.c (a64.h), shared with the EL1 kernels.
 *   traps      vectors.S built for EL2 (VBAR_EL2).
 *   probes     each runs one guest stub (stage2.S) that accesses an IPA and
 *              ends with HVC (EC 0x16).  A stage-2 abort (EC 0x24 data, 0x20
 *              instruction, translation or permission fault, not on a
 *              stage-1 walk) is the probe's fault only if it is the probe's
 *              kind (and for data, WnR says the probe's direction) and the
 *              IPA that HPFAR_EL2 and FAR_EL2 give is the probed one;
 *              anything else is reported and ends the run.
 *   TLB        TLBI IPAS2LE1IS per 4 KiB page (IPAS2E1IS, all levels, when
 *              page-table nodes were removed) and then VMALLE1IS, which
 *              drops what the TLB combined from both stages; VMALLS12E1IS
 *              for everything.  The VMID is VTTBR_EL2's.
 */
#include "a64.h"
#include "kprintf.h"
#include "pl011.h"
#include "sysreg.h"

extern char arch_vectors[], a64_guest_exit[];
extern char a64_guest_read[], a64_guest_write[], a64_guest_exec[];

int a64_guest_run(uint64_t pc, uint64_t x0, uint64_t x1);

const struct arch_desc arch = {
	.name = "aarch64 stage 2 (EL2, 40-bit IPA, EL1 guest with its MMU off)",
	.fmt = &pt_format_aarch64_s2_4k,
	A64_ARCH_DESC_MACHINE,
};

/* ---- guest exits -------------------------------------------------------- */

#define EC_HVC64 0x16
#define EC_IABT_LOW 0x20 /* instruction abort from a lower EL */
#define EC_DABT_LOW 0x24 /* data abort from a lower EL */
#define ESR_WNR (1ull << 6)
#define ESR_S1PTW (1ull << 7)
#define VEC_LOW_A64_SYNC 8
#define SPSR_EL2H_DAIF 0x3c9 /* EL2 with SP_EL2, D, A, I, F masked */

/* The probe running now: the exception it may take, and the value the
 * guest read (x1 at the exit). */
static struct {
	uint64_t ipa, ec, x1;
	bool write;
} probe;

/* A stage-2 translation or permission fault (FSC 0b0001LL, 0b0011LL), not
 * one on a stage-1 walk (there is none: the guest's MMU is off). */
static bool is_stage2_fault(uint64_t esr)
{
	uint64_t fsc = esr & 0x3c;

	return (fsc == 0x04 || fsc == 0x0c) && !(esr & ESR_S1PTW);
}

static bool is_probe_fault(uint64_t esr, uint64_t ipa)
{
	uint64_t ec = esr >> 26;

	if (ec != probe.ec || !is_stage2_fault(esr) || ipa != probe.ipa)
		return false;
	return ec != EC_DABT_LOW || !!(esr & ESR_WNR) == probe.write;
}

void arch_trap(struct trap_frame *f, uint64_t vector)
{
	uint64_t esr = sysreg_read(esr_el2), far = sysreg_read(far_el2);
	uint64_t hpfar = sysreg_read(hpfar_el2);
	/* HPFAR_EL2.FIPA (bits 43:4) is IPA[55:12]; the page offset is FAR's. */
	uint64_t ipa = ((hpfar >> 4) << 12) | (far & 0xfff);
	char why[160];

	if (vector != VEC_LOW_A64_SYNC)
		a64_unexpected_trap(f, vector, "EL2", esr, far, "(in the hypervisor)");
	if ((esr >> 26) == EC_HVC64) {
		f->x[0] = 0;
	} else if (is_probe_fault(esr, ipa) && far == probe.ipa) {
		f->x[0] = 1;
	} else {
		ksnprintf(why, sizeof(why),
			  "  from the guest: HPFAR_EL2 %#lx, so IPA %#lx; the probe at IPA "
			  "%#lx expected an HVC or EC %#lx",
			  hpfar, ipa, probe.ipa, probe.ec);
		a64_unexpected_trap(f, vector, "EL2", esr, far, why);
	}
	/* A guest exit: eret goes back to the hypervisor, in a64_guest_run. */
	probe.x1 = f->x[1];
	f->elr = (uint64_t)a64_guest_exit;
	f->spsr = SPSR_EL2H_DAIF;
}

#define HCR_VM (1ull << 0)  /* stage 2 on for EL1&0 */
#define HCR_RW (1ull << 31) /* EL1 is AArch64 */

void arch_trap_init(void)
{
	sysreg_write(vbar_el2, (uint64_t)arch_vectors);
	sysreg_write(hcr_el2, HCR_RW);
	isb();
}

static int guest_probe(char *stub, uint64_t ec, bool write, uint64_t ipa, uint64_t val)
{
	probe.ipa = ipa;
	probe.ec = ec;
	probe.write = write;
	return a64_guest_run((uint64_t)stub, ipa, val);
}

int arch_probe_read(uint64_t va, uint64_t *out)
{
	int faulted = guest_probe(a64_guest_read, EC_DABT_LOW, false, va, 0);

	if (!faulted)
		*out = probe.x1;
	return faulted;
}

int arch_probe_write(uint64_t va, uint64_t val)
{
	return guest_probe(a64_guest_write, EC_DABT_LOW, true, va, val);
}

int arch_probe_exec(uint64_t va)
{
	return guest_probe(a64_guest_exec, EC_IABT_LOW, false, va, 0);
}

/* ---- the stage-2 MMU ---------------------------------------------------- */

/*
 * VTCR_EL2 for pt_format_aarch64_s2_4k: T0SZ 24 (40-bit IPA), SL0 1 (the
 * walk starts at level 1, so the root is two concatenated tables), TG0 4
 * KiB, PS 40 bits.  The walks are Normal non-cacheable (IRGN0 = ORGN0 = 0,
 * SH0 outer): this hypervisor writes the tables with its MMU, so its
 * caches, off, and a cacheable walk could read a line it has since
 * rewritten in memory.
 */
#define VTCR_T0SZ(n) ((uint64_t)(n) << 0)
#define VTCR_SL0(n) ((uint64_t)(n) << 6)
#define VTCR_SH0_OUTER (2ull << 12)
#define VTCR_TG0_4K (0ull << 14)
#define VTCR_PS_40 (2ull << 16)
#define VTCR_RES1 (1ull << 31)
#define VTCR_VALUE (VTCR_T0SZ(24) | VTCR_SL0(1) | VTCR_SH0_OUTER | VTCR_TG0_4K | \
		    VTCR_PS_40 | VTCR_RES1)

void arch_activate(const struct pt_table *user, const struct pt_table *kernel)
{
	(void)kernel; /* one table: the guest's IPA space */
	dsb(ish); /* every table write is complete before the walker looks */
	sysreg_write(vtcr_el2, VTCR_VALUE);
	sysreg_write(vttbr_el2, pt_table_root(user) | ((uint64_t)STAGE2_TAG << 48));
	isb();
	sysreg_write(hcr_el2, HCR_RW | HCR_VM);
	isb();
	__asm__ volatile("tlbi vmalls12e1is" : : : "memory");
	dsb(ish);
	isb();
}

/* One page: IPA[51:12] in bits 39:0; all levels when page-table nodes
 * were removed, else the last level only. */
static void tlbi_ipa(uint64_t page, bool nodes_removed)
{
	uint64_t arg = page & ((1ull << 40) - 1);

	if (nodes_removed)
		__asm__ volatile("tlbi ipas2e1is, %0" : : "r"(arg) : "memory");
	else
		__asm__ volatile("tlbi ipas2le1is, %0" : : "r"(arg) : "memory");
}

void arch_invalidate(const struct pt_flush_info *info)
{
	/* Every TLBI here acts on the VMID in VTTBR_EL2 (bits 55:48): a
	 * request for another guest would need its VTTBR loaded first. */
	uint64_t vmid = sysreg_read(vttbr_el2) >> 48;

	if (info->tag != vmid)
		kprintf("FAIL invalidate: the request names VMID %#lx, VTTBR_EL2 has %#lx\n",
			info->tag, vmid);
	dsb(ishst); /* the PTE writes reach the walker before the invalidation */
	if (a64_flush_pages(info, tlbi_ipa)) {
		/* What the TLB combined from both stages, by VA: invalidation
		 * by IPA does not reach it. */
		dsb(ish);
		__asm__ volatile("tlbi vmalle1is" : : : "memory");
	} else {
		__asm__ volatile("tlbi vmalls12e1is" : : : "memory");
	}
	dsb(ish);
	isb();
}
