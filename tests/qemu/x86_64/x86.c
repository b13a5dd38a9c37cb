/* SPDX-License-Identifier: MPL-2.0 */
/*
 * x86.c - the part of the x86-64 arch layer that the stage-1 kernels
 * (arch.c) and the nested-paging kernel (npt.c) share (x86.h): the exit
 * through isa-debug-exit, the IDT, the report of an unexpected trap, and
 * writing a return instruction.  The console is serial.c.
 */
#include "idt.h"
#include "kprintf.h"
#include "x86.h"
#include "x86_io.h"

/* ---- console and exit ------------------------------------------------------- */

/* isa-debug-exit: QEMU exits with status (value << 1) | 1, so 1 is a pass
 * and 3 a failure (run_qemu.sh --pass-status 1). */
_Noreturn void arch_exit(bool pass)
{
	outl(DEBUG_EXIT_PORT, pass ? 0 : 1);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- traps ------------------------------------------------------------------ */

static struct idt_gate idt[256] __attribute__((aligned(16)));

static const char *const vector_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD (ptkit assertion?)", "#NM",
	"#DF", "-", "#TS", "#NP", "#SS", "#GP", "#PF", "-", "#MF", "#AC", "#MC",
	"#XM", "#VE", "#CP",
};

_Noreturn void x86_unexpected_trap(const struct x86_trap_frame *f)
{
	uint64_t cr2 = read_cr2();

	kprintf("\nFAIL trap: unexpected vector %lu %s, error code %#lx, rip %#lx, cr2 %#lx, "
		"rsp %#lx, cr3 %#lx\n",
		f->vector, f->vector < 32 && vector_names[f->vector] ? vector_names[f->vector] : "",
		f->error, f->rip, cr2, f->rsp, read_cr3());
	kprintf("rax %#lx rbx %#lx rcx %#lx rdx %#lx rsi %#lx rdi %#lx rbp %#lx\n", f->rax,
		f->rbx, f->rcx, f->rdx, f->rsi, f->rdi, f->rbp);
	kprintf("RESULT pass=0 fail=1 skip=0 (aborted)\n");
	arch_exit(false);
}

static void set_gate(unsigned vec, uint64_t handler)
{
	idt[vec] = idt_gate(handler);
}

void x86_idt_init(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = { sizeof(idt) - 1, (uintptr_t)idt };

	for (unsigned v = 0; v < 256; v++)
		set_gate(v, v < 32 ? x86_trap_stubs[v] : x86_trap_stub_other);
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

/* ---- code ------------------------------------------------------------------- */

void arch_put_return(void *code)
{
	uint32_t r[4];

	*(volatile uint8_t *)code = 0xc3; /* ret */
	cpuid(0, 0, r); /* serializing, as the SDM asks before running new code */
}
