/* SPDX-License-Identifier: MPL-2.0 */
/*
 * vectors.S - the exception vector table of the EL1 kernels, and (built
 * with -DPTKIT_QEMU_EL2) of the stage-2 kernel's hypervisor at EL2.
 *
 * Every vector saves x0-x30, ELR_ELx and SPSR_ELx in a struct trap_frame on
 * the current stack and calls arch_trap(frame, vector index); the handler
 * may change the frame (ELR, SPSR, x0) before it is restored and we eret.  A
 * kernel that builds such a frame itself (the example kernel, entering
 * user mode) leaves through arch_trap_return with sp at the frame.
 *
 * The probes of the EL1 kernels are in probes.S, the stage-2 kernel's in
 * stage2.S.
 */

#ifdef PTKIT_QEMU_EL2
#define ELR_ELX elr_el2
#define SPSR_ELX spsr_el2
#else
#define ELR_ELX elr_el1
#define SPSR_ELX spsr_el1
#endif

#define FRAME_SIZE 272 /* x0-x30, elr, spsr, 8 bytes padding: 16-aligned */

	.text
	.balign 2048
	.global arch_vectors
arch_vectors:
	.irp idx, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.balign 128
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #0]
	mov	x0, #\idx
	b	trap_common
	.endr

	.type trap_common, %function
trap_common:
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	str	x30, [sp, #240]
	mrs	x2, ELR_ELX
	mrs	x3, SPSR_ELX
	str	x2, [sp, #248]
	str	x3, [sp, #256]
	mov	x1, x0
	mov	x0, sp
	bl	arch_trap
	.global arch_trap_return
arch_trap_return:
	ldr	x2, [sp, #248]
	ldr	x3, [sp, #256]
	msr	ELR_ELX, x2
	msr	SPSR_ELX, x3
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	ldr	x30, [sp, #240]
	add	sp, sp, #FRAME_SIZE
	eret
	.size trap_common, . - trap_common
