/* SPDX-License-Identifier: MPL-2.0 */
/*
 * arch.h - what the architecture-neutral kernel needs to know about
 * AArch64 (kernel.h includes it): the address-space layout, ptkit's format,
 * the user register frame and the ABI constants that differ between
 * architectures.
 */
#ifndef EXK_ARCH_H
#define EXK_ARCH_H

#include <stdint.h>

#include "syscalls.h"

#define ARCH_NAME "aarch64" /* uname -m, AT_PLATFORM */
/* All RAM (at 1 GiB on QEMU's virt) is mapped at KOFF + its address in the
 * kernel table (TTBR1); the image runs there too.  Devices follow at
 * KOFF + their address. */
#define KOFF 0xffff000000000000ull
#define ARCH_PT_FORMAT pt_format_aarch64_4k
#define ARCH_FPU_SIZE 528 /* q0-q31, fpsr, fpcr */
#define ARCH_ELF_MACHINE 183 /* EM_AARCH64 */

/* open flags whose values are per architecture */
#define O_DIRECTORY 040000
#define O_NOFOLLOW 0100000

/* struct stat (asm-generic): dev, ino, size, blksize and blocks are words
 * 0, 1, 6, 7 and 8 on both architectures; mode, nlink and rdev are here. */
#define ARCH_STAT_SIZE 128
static inline void arch_stat_mode(uint64_t st[18], uint32_t mode, uint64_t rdev)
{
	st[2] = mode | (1ull << 32); /* st_mode, st_nlink */
	st[4] = rdev;
}

/* User registers: what an exception from EL0 saves (x0-x30, SP_EL0, ELR,
 * SPSR, TPIDR_EL0), and x0 as the system call found it, for restarts. */
struct uregs {
	uint64_t x[31], sp, pc, pstate;
	uint64_t tls;
	uint64_t orig_x0;
};

#endif
