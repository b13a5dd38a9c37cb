/* SPDX-License-Identifier: MPL-2.0 */
/*
 * arch.c - the riscv64 hooks of tests/qemu/common/arch.h, for QEMU's virt
 * machine with OpenSBI (fw_dynamic) in M-mode and this kernel in S-mode.
 *
 * One source, two kernels: built with -DPTKIT_QEMU_SV48 it tests
 * pt_format_riscv_sv48, otherwise pt_format_riscv_sv39.
 *
 *   console    the UART, the exit and the report of an unexpected trap are
 *              console.c's (rv.h), shared with the G-stage kernel.
 *   traps      stvec in direct mode (boot.S saves a struct rv_frame); page
 *              faults (scause 12 fetch, 13 load, 15 store/AMO) inside a probe
 *              resume at the probe's fixup; anything else is reported and
 *              ends the run with a failure.
 *   TLB        sfence.vma per 4 KiB page of each range, or everything
 *              (rv_flush_walk says when).
 */
#include "rv.h"

#ifdef PTKIT_QEMU_SV48
#define RV_FORMAT pt_format_riscv_sv48
#define RV_NAME "riscv64 Sv48"
#define RV_SATP_MODE 9ull
#else
#define RV_FORMAT pt_format_riscv_sv39
#define RV_NAME "riscv64 Sv39"
#define RV_SATP_MODE 8ull
#endif

#define SCAUSE_FETCH_PAGE_FAULT 12
#define SCAUSE_LOAD_PAGE_FAULT 13
#define SCAUSE_STORE_PAGE_FAULT 15
#define SSTATUS_SUM (1ull << 18)

extern char rv_trap_entry[];
extern char rv_probe_read_insn[], rv_probe_read_fixup[];
extern char rv_probe_write_insn[], rv_probe_write_fixup[];
extern char rv_probe_exec_ret[], rv_probe_exec_fixup[];

/* Set by boot.S. */
uint64_t rv_boot_hartid, rv_boot_dtb;

const struct arch_desc arch = {
	.name = RV_NAME,
	.fmt = &RV_FORMAT,
	RV_ARCH_DESC_MACHINE,
	.split_running_code = true,
	.shared_kernel_root = true,
};

/* ---- traps and probes --------------------------------------------------- */

void rv_trap(struct rv_frame *f)
{
	uint64_t cause = f->scause;
	bool page_fault = cause == SCAUSE_FETCH_PAGE_FAULT ||
			  cause == SCAUSE_LOAD_PAGE_FAULT ||
			  cause == SCAUSE_STORE_PAGE_FAULT;

	if (page_fault) {
		if (cause == SCAUSE_LOAD_PAGE_FAULT &&
		    f->sepc == (uintptr_t)rv_probe_read_insn) {
			f->sepc = (uintptr_t)rv_probe_read_fixup;
			return;
		}
		if (cause == SCAUSE_STORE_PAGE_FAULT &&
		    f->sepc == (uintptr_t)rv_probe_write_insn) {
			f->sepc = (uintptr_t)rv_probe_write_fixup;
			return;
		}
		/* The call in arch_probe_exec reached an unfetchable target. */
		if (cause == SCAUSE_FETCH_PAGE_FAULT && f->sepc == f->stval &&
		    f->x[1] == (uintptr_t)rv_probe_exec_ret) {
			f->sepc = (uintptr_t)rv_probe_exec_fixup;
			return;
		}
	}

	rv_unexpected_trap(f, NULL);
}

void arch_trap_init(void)
{
	/* Direct mode: the handler is 16-byte aligned, mode bits 0. */
	__asm__ volatile("csrw stvec, %0" ::"r"(rv_trap_entry));
	/* S-mode may read and write U pages (as x86 without SMAP); it never
	 * executes them.  (The common program maps no U page today.) */
	__asm__ volatile("csrs sstatus, %0" ::"r"(SSTATUS_SUM));
}

/* ---- MMU ---------------------------------------------------------------- */

void arch_activate(const struct pt_table *user, const struct pt_table *kernel)
{
	(void)kernel; /* the user table shares the kernel half's root slots */
	uint64_t root = pt_table_root(user);
	uint64_t satp = (RV_SATP_MODE << 60) | (root >> 12), got;

	__asm__ volatile("sfence.vma\n\t"
			 "csrw satp, %1\n\t"
			 "sfence.vma\n\t"
			 "csrr %0, satp"
			 : "=r"(got)
			 : "r"(satp)
			 : "memory");
	if (got != satp) {
		/* satp is WARL: a mode the hart lacks leaves it unchanged. */
		rv_puts("FAIL satp: wrote ");
		rv_puthex(satp);
		rv_puts(", reads ");
		rv_puthex(got);
		rv_puts(" (paging mode not supported by this CPU?)\n");
		arch_exit(false);
	}
}

static void sfence_all(void)
{
	__asm__ volatile("sfence.vma" ::: "memory");
}

static void sfence_page(uint64_t va)
{
	__asm__ volatile("sfence.vma %0, zero" ::"r"(va) : "memory");
}

void arch_invalidate(const struct pt_flush_info *info)
{
	rv_flush_walk(info, sfence_page, sfence_all);
}
