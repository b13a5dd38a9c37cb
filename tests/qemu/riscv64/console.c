/* SPDX-License-Identifier: MPL-2.0 */
/*
 * console.c - the part of the riscv64 arch layer that the stage-1 kernels
 * (arch.c) and the G-stage kernel (gstage.c) share (rv.h).
 *
 *   UART       ns16550a at 0x10000000 (reg-shift 0), polled; OpenSBI has
 *              already set it up.
 *   exit       the sifive_test finisher at 0x100000 (0x5555: pass,
 *              (code << 16) | 0x3333: QEMU exits with `code`).  It is in no
 *              ptkit table: finish() first goes back to bare mode
 *              (satp = 0), which S-mode may do, since the code and the stack
 *              run at their physical addresses.
 */
#include "rv.h"

#define RV_TEST_BASE 0x100000ull

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

void rv_puts(const char *s)
{
	while (*s)
		arch_putc(*s++);
}

void rv_puthex(uint64_t v)
{
	rv_puts("0x");
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

static _Noreturn void finish_with(uint32_t value)
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
	finish_with(pass ? 0x5555 : ((1u << 16) | 0x3333));
}

static unsigned trap_depth;

_Noreturn void rv_unexpected_trap(const struct rv_frame *f, const char *extra)
{
	if (trap_depth++)
		finish_with((2u << 16) | 0x3333); /* a trap while reporting one */
	/* Bare mode, so that a trap caused by the tables themselves (the UART
	 * unmapped, say) can still be told. */
	mmu_off();
	rv_puts("\nFAIL unexpected trap: scause=");
	rv_puthex(f->scause);
	rv_puts(" sepc=");
	rv_puthex(f->sepc);
	rv_puts(" stval=");
	rv_puthex(f->stval);
	rv_puts(" ra=");
	rv_puthex(f->x[1]);
	rv_puts(" sp=");
	rv_puthex(f->x[2]);
	rv_puts("\n");
	if (extra) {
		rv_puts(extra);
		rv_puts("\n");
	}
	arch_exit(false);
}

void arch_put_return(void *code)
{
	*(volatile uint32_t *)code = 0x00008067; /* ret = jalr x0, 0(ra) */
	__asm__ volatile("fence.i" ::: "memory");
}

void rv_flush_walk(const struct pt_flush_info *info, void (*page)(uint64_t addr),
		   void (*all)(void))
{
	uint64_t pages = 0;

	if (info->all || info->nodes_removed) {
		all();
		return;
	}
	for (size_t i = 0; i < info->nr_ranges; i++) {
		pages += info->ranges[i].len >> 12;
		if (pages > RV_FLUSH_ALL_PAGES) {
			all();
			return;
		}
	}
	for (size_t i = 0; i < info->nr_ranges; i++) {
		uint64_t addr = info->ranges[i].va;
		for (uint64_t n = info->ranges[i].len >> 12; n; n--, addr += 4096)
			page(addr);
	}
}
