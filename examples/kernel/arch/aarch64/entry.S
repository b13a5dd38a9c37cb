/* SPDX-License-Identifier: MPL-2.0 */
/*
 * entry.S - AArch64: the MMU on and the move to KOFF, the return to EL0,
 * the context switch, the FP/SIMD state.
 *
 * tests/qemu/aarch64/boot.S starts us: EL1, MMU off, caches clean, bss
 * zeroed, on the boot stack (physical addresses: kernel.ld gives it
 * those), and calls kernel_main at its physical address.  Until the jump
 * to KOFF only PC-relative addressing (adr, adrp, bl) is used.  Exceptions
 * go to vectors.S (built from tests/qemu/aarch64), which calls arch_trap.
 */
#define KOFF_HI 0xffff /* KOFF = 0xffff << 48 */
#define FRAME_SIZE 272 /* vectors.S */

/* Boot tables, one L0 and one L1 serving TTBR0 (identity, for the jump)
 * and TTBR1 (KOFF): 1 GiB blocks, [0, 1 GiB) Device (the UART),
 * [1 GiB, 2 GiB) Normal write-back (RAM).  AttrIndx as PT_AARCH64_MAIR. */
#define BLOCK_AF (1 << 10)
#define BLOCK_ISH (3 << 8)
#define BLOCK_DEVICE (0x00000000 | BLOCK_AF | (3 << 2) | 1)
#define BLOCK_RAM (0x40000000 | BLOCK_AF | BLOCK_ISH | (0 << 2) | 1)
#define MAIR 0x0444bbff

/* 48-bit regions for TTBR0 and TTBR1, 4 KiB granules, walks write-back
 * inner shareable; the IPS field is filled in from ID_AA64MMFR0_EL1. */
#define TCR ((16 << 0) | (1 << 8) | (1 << 10) | (3 << 12) | (16 << 16) | (1 << 24) | \
	     (1 << 26) | (3 << 28) | (2 << 30))
/* SCTLR_EL1: M, C, I; EL0 may read CTR_EL0 (UCT), zero with DC ZVA (DZE),
 * clean caches (UCI), and WFI/WFE do not trap (nTWI, nTWE). */
#define SCTLR_SET ((1 << 0) | (1 << 2) | (1 << 12) | (1 << 14) | (1 << 15) | (1 << 16) | \
		   (1 << 18) | (1 << 26))

	.text
	.global kernel_main
	.type kernel_main, %function
kernel_main:
	adrp	x0, boot_l1
	mov	x1, #BLOCK_DEVICE
	str	x1, [x0]
	ldr	x1, =BLOCK_RAM
	str	x1, [x0, #8]
	adrp	x2, boot_l0
	orr	x1, x0, #3             /* table descriptor */
	str	x1, [x2]
	dsb	ish

	ldr	x1, =MAIR
	msr	mair_el1, x1
	mrs	x3, id_aa64mmfr0_el1
	and	x3, x3, #0xf           /* PARange */
	mov	x4, #5
	cmp	x3, x4
	csel	x3, x3, x4, lo         /* 48 bits at most */
	ldr	x1, =TCR
	orr	x1, x1, x3, lsl #32
	msr	tcr_el1, x1
	msr	ttbr0_el1, x2
	msr	ttbr1_el1, x2
	isb
	tlbi	vmalle1
	dsb	nsh
	isb
	mrs	x1, sctlr_el1
	ldr	x3, =SCTLR_SET
	orr	x1, x1, x3
	bic	x1, x1, #(1 << 1)      /* no alignment checks */
	bic	x1, x1, #(1 << 19)     /* no WXN */
	msr	sctlr_el1, x1
	isb

	ldr	x0, =1f                /* the link address, at KOFF */
	br	x0
1:	mov	x1, #(KOFF_HI << 48)
	add	sp, sp, x1
	ldr	x0, =arch_vectors
	msr	vbar_el1, x0
	isb
	bl	arch_main
2:	wfi
	b	2b
	.size kernel_main, . - kernel_main

/* void ret_to_user(void): the current process's registers into a frame at
 * the top of its kernel stack, then vectors.S's way out (eret).  A new
 * process's first switch_to returns to fork_child_start. */
	.global ret_to_user, fork_child_start
	.type ret_to_user, %function
ret_to_user:
fork_child_start:
	adrp	x0, cur_kstack_top
	ldr	x0, [x0, :lo12:cur_kstack_top]
	sub	sp, x0, #FRAME_SIZE
	mov	x0, sp
	bl	arch_frame_from_uregs
	b	arch_trap_return
	.size ret_to_user, . - ret_to_user

/* void switch_to(uint64_t *save_sp, uint64_t new_sp): the callee-saved
 * registers (x19-x30) stay on the old kernel stack. */
	.global switch_to
	.type switch_to, %function
switch_to:
	sub	sp, sp, #96
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	mov	x2, sp
	str	x2, [x0]
	mov	sp, x1
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	add	sp, sp, #96
	ret
	.size switch_to, . - switch_to

/* The user's FP/SIMD registers (the kernel, -mgeneral-regs-only, never
 * touches them): q0-q31, then FPSR and FPCR (ARCH_FPU_SIZE = 528). */
	.arch armv8-a+fp+simd
	.macro fp_regs op /* st1 or ld1 of v0-v31 at x0, x0 += 512 */
	\op	{v0.2d, v1.2d, v2.2d, v3.2d}, [x0], #64
	\op	{v4.2d, v5.2d, v6.2d, v7.2d}, [x0], #64
	\op	{v8.2d, v9.2d, v10.2d, v11.2d}, [x0], #64
	\op	{v12.2d, v13.2d, v14.2d, v15.2d}, [x0], #64
	\op	{v16.2d, v17.2d, v18.2d, v19.2d}, [x0], #64
	\op	{v20.2d, v21.2d, v22.2d, v23.2d}, [x0], #64
	\op	{v24.2d, v25.2d, v26.2d, v27.2d}, [x0], #64
	\op	{v28.2d, v29.2d, v30.2d, v31.2d}, [x0], #64
	.endm

	.global arch_fpu_save, arch_fpu_restore
	.type arch_fpu_save, %function
arch_fpu_save:
	fp_regs	st1
	mrs	x1, fpsr
	mrs	x2, fpcr
	stp	x1, x2, [x0]
	ret
	.size arch_fpu_save, . - arch_fpu_save

	.type arch_fpu_restore, %function
arch_fpu_restore:
	fp_regs	ld1
	ldp	x1, x2, [x0]
	msr	fpsr, x1
	msr	fpcr, x2
	ret
	.size arch_fpu_restore, . - arch_fpu_restore

	.bss
	.balign 4096
boot_l0:
	.skip 4096
boot_l1:
	.skip 4096

	.section .note.GNU-stack, "", @progbits
