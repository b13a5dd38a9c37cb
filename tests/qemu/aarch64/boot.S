/* SPDX-License-Identifier: MPL-2.0 */
/*
 * boot.S - entry of the AArch64 QEMU test kernel (-machine virt, -smp 1).
 *
 * QEMU loads the ELF at its link address and jumps to _start with the MMU
 * off, at EL1 (or EL2 with -machine virtualization=on, EL3 with secure=on).
 * We drop to EL1 if needed (the stage-2 kernel, built with -DPTKIT_QEMU_EL2,
 * stays at EL2 and needs it), clean the data caches, set the stack, clear
 * the bss and call kernel_main().  The MMU stays off until arch_activate(), so
 * every data access until then is Device-nGnRnE: the C code is compiled
 * with -mstrict-align.
 */

#define SCTLR_EL1_RES1 0x30d00800 /* bits 29, 28, 23, 22, 20, 11 (ARMv8.0) */
#define SPSR_EL1H_DAIF 0x3c5      /* EL1 with SP_EL1, D, A, I, F masked */
#define HCR_EL2_RW (1 << 31)      /* EL1 is AArch64 */
#define SCTLR_EL2_RES1 0x30c50830 /* bits 29, 28, 23, 22, 18, 16, 11, 5, 4 */

	.section .text.boot, "ax"
	.global _start
	.type _start, %function
_start:
	msr	daifset, #0xf
	mrs	x9, CurrentEL
	ubfx	x9, x9, #2, #2
#ifndef PTKIT_QEMU_EL2
	cmp	x9, #1
	b.eq	at_el1
#endif
	cmp	x9, #2
	b.eq	from_el2
	/* EL3 (secure=on), or EL1 for the stage-2 kernel (no
	 * virtualization=on): not supported, fail loudly on the UART. */
	b	wrong_el

from_el2:
#ifdef PTKIT_QEMU_EL2
	/* The stage-2 kernel is the hypervisor: it stays at EL2, with its own
	 * MMU and caches off (stage2.c sets up the guest's EL1). */
	ldr	x9, =SCTLR_EL2_RES1
	msr	sctlr_el2, x9
	mov	x9, #0x33ff           /* CPTR_EL2: RES1 bits, no FP/SIMD trap */
	msr	cptr_el2, x9
	msr	hstr_el2, xzr
	b	at_el1
#endif
	mov	x9, #HCR_EL2_RW
	msr	hcr_el2, x9
	mrs	x9, cnthctl_el2
	orr	x9, x9, #3            /* EL1 may use the physical timer */
	msr	cnthctl_el2, x9
	msr	cntvoff_el2, xzr
	mov	x9, #0x33ff           /* CPTR_EL2: RES1 bits, no FP/SIMD trap */
	msr	cptr_el2, x9
	msr	hstr_el2, xzr
	msr	vttbr_el2, xzr
	ldr	x9, =SCTLR_EL1_RES1
	msr	sctlr_el1, x9
	mov	x9, #SPSR_EL1H_DAIF
	msr	spsr_el2, x9
	adr	x9, at_el1
	msr	elr_el2, x9
	isb
	eret

at_el1:
	/* MMU, caches and alignment checks off; little-endian.  (At EL2, in
	 * the stage-2 kernel, these EL1 registers are the guest's.) */
	ldr	x9, =SCTLR_EL1_RES1
	msr	sctlr_el1, x9
	/* FP/SIMD not trapped (the code is built -mgeneral-regs-only anyway). */
	mov	x9, #(3 << 20)
	msr	cpacr_el1, x9
	isb

	ldr	x9, =__stack_top
	mov	sp, x9

	/* Nothing may hide in a data cache while we run with it off and later
	 * let the MMU walk tables written meanwhile with cacheable attributes:
	 * clean and invalidate every data/unified cache level by set/way. */
	bl	dcache_clean_inval_all
	ic	iallu
	dsb	nsh
	isb

	ldr	x9, =__bss_start
	ldr	x10, =__bss_end
1:	cmp	x9, x10
	b.hs	2f
	str	xzr, [x9], #8
	b	1b
2:
	mov	x29, #0
	mov	x30, #0
	bl	kernel_main
	mov	w0, #0
	bl	arch_exit
3:	wfi
	b	3b

wrong_el:
	ldr	x9, =0x09000000       /* PL011 data register */
	adr	x10, wrong_el_msg
4:	ldrb	w11, [x10], #1
	cbz	w11, 5f
	str	w11, [x9]
	b	4b
5:	wfi
	b	5b
	.size _start, . - _start

/* DC CISW over every set and way of every data or unified level (CLIDR). */
	.type dcache_clean_inval_all, %function
dcache_clean_inval_all:
	mrs	x0, clidr_el1
	ubfx	x3, x0, #24, #3       /* LoC */
	cbz	x3, 9f
	mov	x10, #0               /* level << 1 */
1:	add	x2, x10, x10, lsr #1  /* level * 3 */
	lsr	x1, x0, x2
	and	x1, x1, #7            /* cache type at this level */
	cmp	x1, #2
	b.lt	8f                    /* no cache or instruction only */
	msr	csselr_el1, x10
	isb
	mrs	x1, ccsidr_el1
	and	x2, x1, #7
	add	x2, x2, #4            /* log2(line bytes) */
	ubfx	x4, x1, #3, #10       /* ways - 1 */
	clz	w5, w4                /* way shift */
	ubfx	x7, x1, #13, #15      /* sets - 1 */
2:	mov	x9, x4                /* way */
3:	lsl	x6, x9, x5
	orr	x11, x10, x6
	lsl	x6, x7, x2
	orr	x11, x11, x6
	dc	cisw, x11
	subs	x9, x9, #1
	b.ge	3b
	subs	x7, x7, #1
	b.ge	2b
8:	add	x10, x10, #2
	cmp	x3, x10, lsr #1
	b.gt	1b
9:	mov	x10, #0
	msr	csselr_el1, x10
	dsb	sy
	isb
	ret
	.size dcache_clean_inval_all, . - dcache_clean_inval_all

	.section .rodata
wrong_el_msg:
#ifdef PTKIT_QEMU_EL2
	.asciz "FAIL boot: the stage-2 kernel needs EL2 (QEMU -machine virt,virtualization=on)\n"
#else
	.asciz "FAIL boot: started at an exception level other than EL1 or EL2\n"
#endif
