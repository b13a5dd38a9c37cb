/* SPDX-License-Identifier: MPL-2.0 */
/*
 * arch.c - the riscv64 hooks of tests/qemu/common/arch.h, for QEMU's virt
 * machine with OpenSBI (fw_dynamic) in M-mode and this kernel in S-mode.
 *
 * One source, two kernels: built with -DPTKIT_QEMU_SV48 it tests
 * pt_format_riscv_sv48, otherwise pt_format_riscv_sv39.
 *
 *   UART       ns16550a at 0x10000000 (reg-shift 0), polled; OpenSBI has
 *              already set it up.  The common program maps it PT_CACHE_UC, which
 *              the format (no Svpbmt) normalizes to WB: the PMA of the
 *              MMIO region makes it I/O anyway.
 *   exit       the sifive_test finisher at 0x100000 (0x5555: pass,
 *              (code << 16) | 0x3333: QEMU exits with `code`).  It is not
 *              in the ptkit tables: arch_exit first goes back to bare mode
 *              (satp = 0), which S-mode may do, since the code and the stack
 *              run at their physical addresses.
 *   traps      stvec in direct mode (boot.S saves a struct rv_frame); page
 *              faults (scause 12 fetch, 13 load, 15 store/AMO) inside a probe
 *              resume at the probe's fixup; anything else is reported and
 *              ends the run with a failure.
 *   TLB        sfence.vma per 4 KiB page of each range; everything when the
 *              batch says so, when page-table nodes were removed (sfence.vma
 *              with rs1 != x0 only covers leaf entries), or past
 *              RV_FLUSH_ALL_PAGES pages.
 */
#include "arch.h"

#ifdef PTKIT_QEMU_SV48
#define RV_FORMAT pt_format_riscv_sv48
#define RV_NAME "riscv64 Sv48"
#define RV_SATP_MODE 9ull
#else
#define RV_FORMAT pt_format_riscv_sv39
#define RV_NAME "riscv64 Sv39"
#define RV_SATP_MODE 8ull
#endif

#ifndef PTKIT_QEMU_RAM_MB
#define PTKIT_QEMU_RAM_MB 256 /* QEMU -m, see CMakeLists.txt here */
#endif

#define RV_RAM_BASE 0x80000000ull
#define RV_UART_BASE 0x10000000ull
#define RV_TEST_BASE 0x100000ull
#define RV_FLUSH_ALL_PAGES 64

#define SCAUSE_FETCH_PAGE_FAULT 12
#define SCAUSE_LOAD_PAGE_FAULT 13
#define SCAUSE_STORE_PAGE_FAULT 15
#define SSTATUS_SUM (1ull << 18)

extern char __image_start[], __image_end[];
extern char rv_trap_entry[];
extern char rv_probe_read_insn[], rv_probe_read_fixup[];
extern char rv_probe_write_insn[], rv_probe_write_fixup[];
extern char rv_probe_exec_ret[], rv_probe_exec_fixup[];

/* Set by boot.S. */
uint64_t rv_boot_hartid, rv_boot_dtb;

const struct arch_desc arch = {
	.name = RV_NAME,
	.fmt = &RV_FORMAT,
	.features = 0, /* QEMU 7.2's rv64: no Svpbmt, no Svvptc */
	.image_start = (uint64_t)(uintptr_t)__image_start, /* kernel.ld */
	.image_end = (uint64_t)(uintptr_t)__image_end,     /* stack included */
	.ram_end = RV_RAM_BASE + ((uint64_t)PTKIT_QEMU_RAM_MB << 20),
	.uart_pa = RV_UART_BASE,
	.uart_len = 0x1000,
	.has_1g = true,
	.gig_pa = RV_RAM_BASE,
	.split_running_code = true,
	.shared_kernel_root = true,
};

/* ---- serial and exit ---------------------------------------------------- */

#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE 0x20

static inline void mmio_write8(uint64_t pa, uint8_t v)
{
	*(volatile uint8_t *)(uintptr_t)pa = v;
}

static inline uint8_t mmio_read8(uint64_t pa)
{
	return *(volatile uint8_t *)(uintptr_t)pa;
}

void arch_putc(char c)
{
	while (!(mmio_read8(RV_UART_BASE + UART_LSR) & UART_LSR_THRE))
		;
	mmio_write8(RV_UART_BASE + UART_THR, (uint8_t)c);
}

static void puts_(const char *s)
{
	while (*s)
		arch_putc(*s++);
}

static void puthex(uint64_t v)
{
	puts_("0x");
	for (int i = 60; i >= 0; i -= 4)
		arch_putc("0123456789abcdef"[(v >> i) & 0xf]);
}

/* Back to bare mode: the finisher (and the UART) are reachable at their
 * physical addresses whatever the tables hold.  The caller runs at its
 * physical address. */
static void mmu_off(void)
{
	__asm__ volatile("csrw satp, zero\n\tsfence.vma" ::: "memory");
}

static _Noreturn void finish(uint32_t value)
{
	mmu_off();
	for (;;) {
		*(volatile uint32_t *)(uintptr_t)RV_TEST_BASE = value;
		__asm__ volatile("wfi");
	}
}

_Noreturn void arch_exit(bool pass)
{
	/* QEMU exits with status 0 for pass, 1 for fail. */
	finish(pass ? 0x5555 : ((1u << 16) | 0x3333));
}

/* ---- traps and probes --------------------------------------------------- */

struct rv_frame {
	uint64_t x[32]; /* x[0] unused, x[2] = sp at the trap */
	uint64_t sepc, scause, stval, sstatus;
};

void rv_trap(struct rv_frame *f);

static unsigned trap_depth;

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

	/* Unexpected.  Report in bare mode, so that a trap caused by the
	 * tables themselves (the UART unmapped, say) can still be told. */
	if (trap_depth++)
		finish((2u << 16) | 0x3333); /* a trap while reporting one */
	mmu_off();
	puts_("\nFAIL unexpected trap: scause=");
	puthex(cause);
	puts_(" sepc=");
	puthex(f->sepc);
	puts_(" stval=");
	puthex(f->stval);
	puts_(" ra=");
	puthex(f->x[1]);
	puts_(" sp=");
	puthex(f->x[2]);
	puts_("\n");
	arch_exit(false);
}

void arch_trap_init(void)
{
	/* Direct mode: the handler is 16-byte aligned, mode bits 0. */
	__asm__ volatile("csrw stvec, %0" ::"r"(rv_trap_entry));
	/* S-mode may read and write U pages (as x86 without SMAP); it never
	 * executes them.  (The common program maps no U page today.) */
	__asm__ volatile("csrs sstatus, %0" ::"r"(SSTATUS_SUM));
}

void arch_put_return(void *code)
{
	*(volatile uint32_t *)code = 0x00008067; /* ret = jalr x0, 0(ra) */
	__asm__ volatile("fence.i" ::: "memory");
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
		puts_("FAIL satp: wrote ");
		puthex(satp);
		puts_(", reads ");
		puthex(got);
		puts_(" (paging mode not supported by this CPU?)\n");
		arch_exit(false);
	}
}

static inline void sfence_all(void)
{
	__asm__ volatile("sfence.vma" ::: "memory");
}

static inline void sfence_page(uint64_t va)
{
	__asm__ volatile("sfence.vma %0, zero" ::"r"(va) : "memory");
}

void arch_invalidate(const struct pt_flush_info *info)
{
	uint64_t pages = 0;

	if (info->all || info->nodes_removed) {
		sfence_all();
		return;
	}
	for (size_t i = 0; i < info->nr_ranges; i++) {
		pages += info->ranges[i].len >> 12;
		if (pages > RV_FLUSH_ALL_PAGES) {
			sfence_all();
			return;
		}
	}
	for (size_t i = 0; i < info->nr_ranges; i++) {
		uint64_t va = info->ranges[i].va;
		for (uint64_t n = info->ranges[i].len >> 12; n; n--, va += 4096)
			sfence_page(va);
	}
}
