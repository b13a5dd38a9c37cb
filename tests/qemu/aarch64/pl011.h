/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pl011.h - the virt board's PL011 UART, polled.  Shared by the AArch64
 * QEMU test kernel and the example kernel (examples/kernel), which reaches
 * it at another address once its MMU is on.
 */
#ifndef PTKIT_QEMU_PL011_H
#define PTKIT_QEMU_PL011_H

#include <stdint.h>

#define UART_PA 0x09000000ull
#define UART_DR 0x00
#define UART_FR 0x18
#define UART_FR_TXFF (1u << 5)

static inline void pl011_putc(uintptr_t base, char c)
{
	volatile uint32_t *uart = (volatile uint32_t *)base;

	while (uart[UART_FR / 4] & UART_FR_TXFF)
		;
	uart[UART_DR / 4] = (uint32_t)(unsigned char)c;
}

#endif
