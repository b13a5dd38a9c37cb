/* SPDX-License-Identifier: MPL-2.0 */
/*
 * console.c - the part of the AArch64 arch layer that the EL1 kernels
 * (arch.c) and the stage-2 kernel (stage2.c) share (a64.h): the PL011 UART
 * at 0x09000000 (polled), the exit through Arm semihosting
 * (semihosting.c), writing a return instruction, the report of a trap no
 * probe expected, and the walk over an invalidation request.
 */
#include "a64.h"
#include "pl011.h"
#include "semihosting.h"
#include "sysreg.h"

/* ---- serial and exit ---------------------------------------------------- */

void arch_putc(char c)
{
	pl011_putc(UART_PA, c);
}

void a64_put_str(const char *s)
{
	while (*s)
		arch_putc(*s++);
}

void a64_put_hex(uint64_t v)
{
	a64_put_str("0x");
	for (int shift = 60; shift >= 0; shift -= 4)
		arch_putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

_Noreturn void arch_exit(bool pass)
{
	semihosting_exit(pass ? 0 : 1);
	/* Semihosting disabled: say so and stop. */
	a64_put_str("FAIL arch_exit: semihosting SYS_EXIT returned "
		    "(run QEMU with -semihosting-config enable=on,target=native)\n");
	for (;;)
		__asm__ volatile("wfi");
}

/* ---- code --------------------------------------------------------------- */

void arch_put_return(void *code)
{
	*(volatile uint32_t *)code = 0xd65f03c0; /* ret */
	__asm__ volatile("dc cvau, %0" : : "r"(code) : "memory");
	dsb(ish);
	__asm__ volatile("ic ivau, %0" : : "r"(code) : "memory");
	dsb(ish);
	isb();
}

/* ---- traps -------------------------------------------------------------- */

static const char *const vector_names[16] = {
	"current EL SP_EL0 sync", "current EL SP_EL0 IRQ",
	"current EL SP_EL0 FIQ", "current EL SP_EL0 SError",
	"current EL SP_ELx sync", "current EL SP_ELx IRQ",
	"current EL SP_ELx FIQ", "current EL SP_ELx SError",
	"lower EL AArch64 sync", "lower EL AArch64 IRQ",
	"lower EL AArch64 FIQ", "lower EL AArch64 SError",
	"lower EL AArch32 sync", "lower EL AArch32 IRQ",
	"lower EL AArch32 FIQ", "lower EL AArch32 SError",
};

_Noreturn void a64_unexpected_trap(const struct trap_frame *f, uint64_t vector,
				   const char *el, uint64_t esr, uint64_t far,
				   const char *extra)
{
	a64_put_str("FAIL unexpected trap: ");
	a64_put_str(vector < 16 ? vector_names[vector] : "?");
	a64_put_str("\n  ESR_");
	a64_put_str(el);
	a64_put_str(" ");
	a64_put_hex(esr);
	a64_put_str(" (EC ");
	a64_put_hex(esr >> 26);
	a64_put_str(")\n  ELR_");
	a64_put_str(el);
	a64_put_str(" ");
	a64_put_hex(f->elr);
	a64_put_str("\n  FAR_");
	a64_put_str(el);
	a64_put_str(" ");
	a64_put_hex(far);
	a64_put_str("\n  SPSR_");
	a64_put_str(el);
	a64_put_str(" ");
	a64_put_hex(f->spsr);
	a64_put_str("\n  x30 ");
	a64_put_hex(f->x[30]);
	a64_put_str("\n");
	if (extra) {
		a64_put_str(extra);
		a64_put_str("\n");
	}
	arch_exit(false);
}

/* ---- TLB ---------------------------------------------------------------- */

bool a64_flush_pages(const struct pt_flush_info *info,
		     void (*page)(uint64_t page, bool nodes_removed))
{
	uint64_t pages = 0;

	if (info->all)
		return false;
	for (size_t i = 0; i < info->nr_ranges; i++) {
		/* va + len may be exactly 2^64: count pages, not bytes. */
		pages += (info->ranges[i].len + 4095) >> 12;
		if (pages > A64_INVALIDATE_ALL_PAGES)
			return false;
	}
	for (size_t i = 0; i < info->nr_ranges; i++) {
		uint64_t first = info->ranges[i].va >> 12;
		uint64_t n = (info->ranges[i].len + 4095) >> 12;

		for (uint64_t k = 0; k < n; k++)
			page(first + k, info->nodes_removed);
	}
	return true;
}
