/* SPDX-License-Identifier: MPL-2.0 */
/*
 * boot.S - entry and trap vector of the riscv64 QEMU test kernels (the
 * probes are in probes.S for stage 1, in gstage.S for the G-stage kernel).
 *
 * OpenSBI (fw_dynamic) enters _start in S-mode at 0x80200000, MMU off,
 * a0 = hartid, a1 = device tree.  One hart runs the tests (QEMU -smp 1; any
 * other hart that gets here parks).
 */

	.section .text.boot, "ax"
	.globl _start
_start:
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
	csrw	sie, zero
	csrw	sstatus, zero			/* SIE off, SUM/MXR off */
	la	t0, rv_early_trap
	csrw	stvec, t0

	/* The first hart in wins; any other parks. */
	la	t0, boot_lottery
	li	t1, 1
	amoswap.w t1, t1, (t0)
	bnez	t1, park

	la	sp, __stack_top
	mv	s0, a0
	mv	s1, a1

	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:
	la	t0, rv_boot_hartid
	sd	s0, 0(t0)
	la	t0, rv_boot_dtb
	sd	s1, 0(t0)

	call	kernel_main
	li	a0, 0				/* kernel_main must not return */
	call	arch_exit

park:
	wfi
	j	park

/* Before arch_trap_init: no way to report, stop here (visible in QEMU's
 * monitor as a hang rather than a jump into nowhere). */
	.align	2
rv_early_trap:
	j	rv_early_trap

	.section .data
	.align	2
boot_lottery:
	.word	0

/*
 * The trap vector (stvec, direct mode).  Every trap comes from S-mode, on the
 * kernel stack, or (G-stage kernel) from a guest stub in VS-mode, which
 * leaves sp as the hypervisor set it: save all registers in a struct
 * rv_frame below sp, let rv_trap (arch.c, gstage.c) look at it and possibly
 * change sepc or registers, restore, sret.
 */
#define FRAME_SIZE (36 * 8)
#define REG(n) ((n) * 8)
#define F_SEPC (32 * 8)
#define F_SCAUSE (33 * 8)
#define F_STVAL (34 * 8)
#define F_SSTATUS (35 * 8)

	.text
	.align	4
	.globl	rv_trap_entry
rv_trap_entry:
	addi	sp, sp, -FRAME_SIZE
	sd	x1, REG(1)(sp)
	sd	x3, REG(3)(sp)
	sd	x4, REG(4)(sp)
	sd	x5, REG(5)(sp)
	sd	x6, REG(6)(sp)
	sd	x7, REG(7)(sp)
	sd	x8, REG(8)(sp)
	sd	x9, REG(9)(sp)
	sd	x10, REG(10)(sp)
	sd	x11, REG(11)(sp)
	sd	x12, REG(12)(sp)
	sd	x13, REG(13)(sp)
	sd	x14, REG(14)(sp)
	sd	x15, REG(15)(sp)
	sd	x16, REG(16)(sp)
	sd	x17, REG(17)(sp)
	sd	x18, REG(18)(sp)
	sd	x19, REG(19)(sp)
	sd	x20, REG(20)(sp)
	sd	x21, REG(21)(sp)
	sd	x22, REG(22)(sp)
	sd	x23, REG(23)(sp)
	sd	x24, REG(24)(sp)
	sd	x25, REG(25)(sp)
	sd	x26, REG(26)(sp)
	sd	x27, REG(27)(sp)
	sd	x28, REG(28)(sp)
	sd	x29, REG(29)(sp)
	sd	x30, REG(30)(sp)
	sd	x31, REG(31)(sp)
	addi	t0, sp, FRAME_SIZE
	sd	t0, REG(2)(sp)
	sd	zero, REG(0)(sp)
	csrr	t0, sepc
	sd	t0, F_SEPC(sp)
	csrr	t0, scause
	sd	t0, F_SCAUSE(sp)
	csrr	t0, stval
	sd	t0, F_STVAL(sp)
	csrr	t0, sstatus
	sd	t0, F_SSTATUS(sp)

	mv	a0, sp
	call	rv_trap

	ld	t0, F_SEPC(sp)
	csrw	sepc, t0
	ld	x1, REG(1)(sp)
	ld	x3, REG(3)(sp)
	ld	x4, REG(4)(sp)
	ld	x5, REG(5)(sp)
	ld	x6, REG(6)(sp)
	ld	x7, REG(7)(sp)
	ld	x8, REG(8)(sp)
	ld	x9, REG(9)(sp)
	ld	x10, REG(10)(sp)
	ld	x11, REG(11)(sp)
	ld	x12, REG(12)(sp)
	ld	x13, REG(13)(sp)
	ld	x14, REG(14)(sp)
	ld	x15, REG(15)(sp)
	ld	x16, REG(16)(sp)
	ld	x17, REG(17)(sp)
	ld	x18, REG(18)(sp)
	ld	x19, REG(19)(sp)
	ld	x20, REG(20)(sp)
	ld	x21, REG(21)(sp)
	ld	x22, REG(22)(sp)
	ld	x23, REG(23)(sp)
	ld	x24, REG(24)(sp)
	ld	x25, REG(25)(sp)
	ld	x26, REG(26)(sp)
	ld	x27, REG(27)(sp)
	ld	x28, REG(28)(sp)
	ld	x29, REG(29)(sp)
	ld	x30, REG(30)(sp)
	ld	x31, REG(31)(sp)
	addi	sp, sp, FRAME_SIZE
	sret
