/* SPDX-License-Identifier: MPL-2.0 */
/* serial.c - kprintf's output on x86-64: COM1, polled, set up on first use. */
#include <stdbool.h>

#include "kprintf.h"
#include "x86_io.h"

static bool uart_ready;

static void uart_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* DLAB */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xc7); /* FIFO on, cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
	uart_ready = true;
}

void arch_putc(char c)
{
	if (!uart_ready)
		uart_init();
	if (c == '\n')
		arch_putc('\r');
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}
