/* SPDX-License-Identifier: MPL-2.0 */
/*
 * semihosting.c - SYS_EXIT (semihosting.h).
 */
#include "semihosting.h"

#define SEMIHOSTING_SYS_EXIT 0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

void semihosting_exit(uint32_t status)
{
	/* The AArch64 SYS_EXIT takes a block {reason, subcode}; QEMU exits
	 * with the subcode when the reason is ApplicationExit. */
	static volatile uint64_t block[2];

	block[0] = ADP_STOPPED_APPLICATION_EXIT;
	block[1] = status;
	register uint64_t x0 __asm__("x0") = SEMIHOSTING_SYS_EXIT;
	register uint64_t x1 __asm__("x1") = (uint64_t)block;
	__asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
}
