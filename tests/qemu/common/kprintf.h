/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kprintf.h - a tiny printf for the QEMU test kernels and the example
 * kernel (examples/kernel), over the kernel's arch_putc.
 *
 * Conversions: %d %i %u %x %X %p %s %c %%, flags '-' '0' '#', a width, and
 * the length modifiers l, ll, z (h and hh are accepted and ignored).
 */
#ifndef PTKIT_QEMU_KPRINTF_H
#define PTKIT_QEMU_KPRINTF_H

#include <stdarg.h>
#include <stddef.h>

__attribute__((format(printf, 1, 2))) int kprintf(const char *fmt, ...);
int kvprintf(const char *fmt, va_list ap);
__attribute__((format(printf, 3, 4))) int ksnprintf(char *buf, size_t size,
						     const char *fmt, ...);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* The kernel's polled serial output, which kprintf writes through. */
void arch_putc(char c);

#endif
