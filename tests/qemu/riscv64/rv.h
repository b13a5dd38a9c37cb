/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rv.h - what the riscv64 QEMU test kernels share (console.c): the virt
 * machine's addresses, the trap frame boot.S saves, the way out, and the
 * walk over an invalidation request.  arch.c (stage 1, S-mode) and gstage.c
 * (G-stage, HS-mode) build on it.
 */
#ifndef PTKIT_QEMU_RV_H
#define PTKIT_QEMU_RV_H

#include "arch.h"

#ifndef PTKIT_QEMU_RAM_MB
#define PTKIT_QEMU_RAM_MB 256 /* QEMU -m, see CMakeLists.txt here */
#endif

#define RV_RAM_BASE 0x80000000ull
#define RV_UART_BASE 0x10000000ull

extern char __image_start[], __image_end[]; /* kernel.ld, stack included */

/* The arch_desc fields of every riscv64 kernel: QEMU 7.2's rv64 has
 * neither Svpbmt nor Svvptc (no PT_FEAT_*); the image; RAM and the UART;
 * 1 GiB leaves, and the GiB at RV_RAM_BASE holds the image. */
#define RV_ARCH_DESC_MACHINE                                                 \
	.features = 0, .image_start = (uint64_t)(uintptr_t)__image_start,     \
	.image_end = (uint64_t)(uintptr_t)__image_end,                         \
	.ram_end = RV_RAM_BASE + ((uint64_t)PTKIT_QEMU_RAM_MB << 20),         \
	.uart_pa = RV_UART_BASE, .uart_len = 0x1000, .has_1g = true,           \
	.gig_pa = RV_RAM_BASE

/* What boot.S saves on a trap and hands to rv_trap. */
struct rv_frame {
	uint64_t x[32]; /* x[0] unused, x[2] = sp at the trap */
	uint64_t sepc, scause, stval, sstatus;
};

void rv_trap(struct rv_frame *f);

void rv_puts(const char *s);
void rv_puthex(uint64_t v);
/* Reports a trap no probe expected (and `extra`, a line of the caller's,
 * if not NULL) in bare mode, and ends the run with a failure. */
_Noreturn void rv_unexpected_trap(const struct rv_frame *f, const char *extra);

/* Calls page(addr) for every 4 KiB page of the request's ranges, or all()
 * once instead when the request says so, when page-table nodes were
 * removed (a fence with an address covers leaf entries only), or past
 * RV_FLUSH_ALL_PAGES pages. */
#define RV_FLUSH_ALL_PAGES 64
void rv_flush_walk(const struct pt_flush_info *info, void (*page)(uint64_t addr),
		   void (*all)(void));

#endif
