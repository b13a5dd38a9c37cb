/* SPDX-License-Identifier: MPL-2.0 */
/*
 * x86_io.h - port I/O and the two devices an x86-64 kernel under QEMU
 * talks to: COM1 (serial.c) and isa-debug-exit.  Shared by the QEMU test
 * kernels and the example kernel (examples/kernel).
 */
#ifndef PTKIT_QEMU_X86_IO_H
#define PTKIT_QEMU_X86_IO_H

#include <stdint.h>

#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#endif
