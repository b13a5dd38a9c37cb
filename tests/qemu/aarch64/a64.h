/* SPDX-License-Identifier: MPL-2.0 */
/*
 * a64.h - what the AArch64 QEMU test kernels share (console.c): the virt
 * machine's RAM, the console and the report of a trap no probe expected.
 * arch.c (stage 1, EL1) and stage2.c (stage 2, EL2) build on it.
 */
#ifndef PTKIT_QEMU_A64_H
#define PTKIT_QEMU_A64_H

#include "arch.h"
#include "pl011.h"
#include "trap_frame.h"

#define RAM_PA 0x40000000ull
#ifndef ARCH_RAM_SIZE
#define ARCH_RAM_SIZE (256ull << 20) /* -m 256M */
/* Calls page(page number, nodes removed) for every 4 KiB page of the
 * request's ranges and returns true; or returns false, having called
 * nothing, when one TLBI for the whole translation regime serves better:
 * the request asks for everything, or for more than
 * A64_INVALIDATE_ALL_PAGES pages. */
#define A64_INVALIDATE_ALL_PAGES 512
bool a64_flush_pages(const struct pt_flush_info *info,
		     void (*page)(uint64_t page, bool nodes_removed));

#endif

extern char __image_start[], __image_end[]; /* kernel.ld */

/* The arch_desc fields of every AArch64 kernel: a Cortex-A57 has no
 * FEAT_BBM, FEAT_S2FWB or hardware AF/dirty (no PT_FEAT_*); the image; RAM
 * and the PL011; 1 GiB leaves, and [1 GiB, 2 GiB) holds RAM, the image
 * included. */
#define A64_ARCH_DESC_MACHINE                                                \
	.features = 0, .image_start = (uint64_t)__image_start,                \
	.image_end = (uint64_t)__image_end, .ram_end = RAM_PA + ARCH_RAM_SIZE, \
	.uart_pa = UART_PA, .uart_len = 0x1000, .has_1g = true, .gig_pa = RAM_PA

void a64_put_str(const char *s);
void a64_put_hex(uint64_t v);
/* Prints the trap (the vector's name, ESR, ELR, FAR, SPSR, x30 and the
 * caller's `extra` line if not NULL) and ends the run with a failure.
 * `el` names the registers: "EL1" or "EL2". */
_Noreturn void a64_unexpected_trap(const struct trap_frame *f, uint64_t vector,
				   const char *el, uint64_t esr, uint64_t far,
				   const char *extra);

/* Calls page(page number, nodes removed) for every 4 KiB page of the
 * request's ranges and returns true; or returns false, having called
 * nothing, when one TLBI for the whole translation regime serves better:
 * the request asks for everything, or for more than
 * A64_INVALIDATE_ALL_PAGES pages. */
#define A64_INVALIDATE_ALL_PAGES 512
bool a64_flush_pages(const struct pt_flush_info *info,
		     void (*page)(uint64_t page, bool nodes_removed));

#endif
