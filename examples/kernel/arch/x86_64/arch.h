/* SPDX-License-Identifier: MPL-2.0 */
/*
 * arch.h - what the architecture-neutral kernel needs to know about
 * x86-64 (kernel.h includes it): the address-space layout, ptkit's format,
 * the user register frame and the ABI constants that differ between
 * architectures.
 */
#ifndef EXK_ARCH_H
#define EXK_ARCH_H

#include <stdint.h>

#include "syscalls.h"

#define ARCH_NAME "x86_64" /* uname -m, AT_PLATFORM */
/* All RAM is mapped at KOFF in the kernel half; the image runs there too. */
#define KOFF 0xffffffff80000000ull
#define ARCH_PT_FORMAT pt_format_x86_64
#define ARCH_FPU_SIZE 512 /* fxsave area */
#define ARCH_ELF_MACHINE 62 /* EM_X86_64 */

/* open flags whose values are per architecture */
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000

/* struct stat: dev, ino, size, blksize and blocks are words 0, 1, 6, 7
 * and 8 on both architectures; nlink, mode and rdev are here. */
#define ARCH_STAT_SIZE 144
static inline void arch_stat_mode(uint64_t st[18], uint32_t mode, uint64_t rdev)
{
	st[2] = 1; /* nlink */
	st[3] = mode;
	st[5] = rdev;
}

/* User registers, laid out so that the part entry.S pushes ends in an
 * iretq frame; tls (the FS base) follows it. */
struct uregs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t rip, cs, rflags, rsp, ss;
	uint64_t tls;
};

#endif
