/* SPDX-License-Identifier: MPL-2.0 */
/*
 * a64.h - what the AArch64 QEMU test kernels share (console.c): the virt
 * machine's RAM, the console and the report of a trap no probe expected.
 * arch.c (stage 1, EL1) and stage2.c (stage 2, EL2) build on it.
 */
#ifndef PTKIT_QEMU_A64_H
#define PTKIT_QEMU_A64_H

#include "arch.h"
#include "trap_frame.h"

#define RAM_PA 0x40000000ull
#ifndef ARCH_RAM_SIZE
#define ARCH_RAM_SIZE (256ull << 20) /* -m 256M */
/* Whether one TLBI for the whole translation regime serves `info` better
 * than one per page: it asks for everything, or for more than
 * A64_INVALIDATE_ALL_PAGES pages. */
#define A64_INVALIDATE_ALL_PAGES 512
bool a64_invalidate_all(const struct pt_flush_info *info);

#endif

void a64_put_str(const char *s);
void a64_put_hex(uint64_t v);
/* Prints the trap (the vector's name, ESR, ELR, FAR, SPSR, x30 and the
 * caller's `extra` line if not NULL) and ends the run with a failure.
 * `el` names the registers: "EL1" or "EL2". */
_Noreturn void a64_unexpected_trap(const struct trap_frame *f, uint64_t vector,
				   const char *el, uint64_t esr, uint64_t far,
				   const char *extra);

/* Whether one TLBI for the whole translation regime serves `info` better
 * than one per page: it asks for everything, or for more than
 * A64_INVALIDATE_ALL_PAGES pages. */
#define A64_INVALIDATE_ALL_PAGES 512
bool a64_invalidate_all(const struct pt_flush_info *info);

#endif
