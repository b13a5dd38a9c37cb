/* SPDX-License-Identifier: MPL-2.0 */
/*
 * trap_frame.h - what vectors.S saves on an exception and hands to
 * arch_trap(frame, vector index).  Shared by the AArch64 QEMU test kernel
 * and the example kernel (examples/kernel).
 */
#ifndef PTKIT_QEMU_TRAP_FRAME_H
#define PTKIT_QEMU_TRAP_FRAME_H

#include <stdint.h>

struct trap_frame {
	uint64_t x[31];
	uint64_t elr;
	uint64_t spsr;
	uint64_t pad;
};
_Static_assert(sizeof(struct trap_frame) == 272, "vectors.S FRAME_SIZE");

void arch_trap(struct trap_frame *f, uint64_t vector);

#endif
