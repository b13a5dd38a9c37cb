/* SPDX-License-Identifier: MPL-2.0 */
/*
 * x86.h - what the x86-64 QEMU test kernels share (x86.c): control
 * registers, the trap frame trap_stubs.S saves, the IDT and the report of a
 * trap no probe expected.  arch.c (stage 1) and npt.c (nested paging) build
 * on it.
 */
#ifndef PTKIT_QEMU_X86_H
#define PTKIT_QEMU_X86_H

#include "arch.h"

#ifndef PTKIT_QEMU_RAM_MB
#define PTKIT_QEMU_RAM_MB 256 /* QEMU's -m (tests/qemu/x86_64/CMakeLists.txt) */
#endif

extern char __image_start[], __image_end[]; /* kernel.ld */

/* The arch_desc fields of every x86-64 kernel: the PAT stays as at reset
 * (no PT_FEAT_*); the image; RAM from 0; the UART is port I/O, nothing to
 * map; 1 GiB leaves (-cpu ...,+pdpe1gb), and the first GiB holds the
 * image. */
#define X86_ARCH_DESC_MACHINE                                                \
	.features = 0, .image_start = (uint64_t)(uintptr_t)__image_start,     \
	.image_end = (uint64_t)(uintptr_t)__image_end,                         \
	.ram_end = (uint64_t)PTKIT_QEMU_RAM_MB << 20, .uart_pa = 0, .uart_len = 0, \
	.has_1g = true, .gig_pa = 0

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

struct x86_trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

void x86_trap(struct x86_trap_frame *f);

/* Points every vector at trap_stubs.S, which calls x86_trap. */
void x86_idt_init(void);
/* Prints the trap and its registers and ends the run with a failure. */
_Noreturn void x86_unexpected_trap(const struct x86_trap_frame *f);

#endif
