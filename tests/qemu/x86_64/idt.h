/* SPDX-License-Identifier: MPL-2.0 */
/*
 * idt.h - the IDT gate for trap_stubs.S's handlers.  Shared by the QEMU
 * test kernel and the example kernel (examples/kernel).
 */
#ifndef PTKIT_QEMU_IDT_H
#define PTKIT_QEMU_IDT_H

#include <stdint.h>

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

/* trap_stubs.S: one entry point per exception vector, one for the rest. */
extern const uint64_t x86_trap_stubs[32], x86_trap_stub_other;

/* Present, DPL 0, a 64-bit interrupt gate in the kernel code segment. */
static inline struct idt_gate idt_gate(uint64_t handler)
{
	return (struct idt_gate){
		.off_lo = (uint16_t)handler,
		.sel = 0x08,
		.type = 0x8e,
		.off_mid = (uint16_t)(handler >> 16),
		.off_hi = (uint32_t)(handler >> 32),
	};
}

#endif
