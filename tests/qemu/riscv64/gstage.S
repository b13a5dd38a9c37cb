/* SPDX-License-Identifier: MPL-2.0 */
/*
 * gstage.S - entering the guest (VS-mode) and the guest's probes, for the
 * riscv64 G-stage QEMU test kernel (gstage.c).
 *
 * The hypervisor runs in HS-mode with satp bare; the guest is a few stub
 * instructions in this image, run in VS-mode with vsatp bare, so that a
 * guest address is a guest-physical one and only ptkit's G-stage table
 * (hgatp) translates it.  Each stub makes one access and ends with an
 * ecall; either the ecall or a guest-page fault traps to HS-mode, where
 * boot.S saves a struct rv_frame on the hypervisor's stack (the stubs leave
 * sp alone) and rv_trap (gstage.c) turns the trap into a return from
 * rv_guest_run.  The stubs touch a0, a1 and (the exec stub) ra only: every
 * other register, sp included, is the hypervisor's at the exit.
 */
#define SSTATUS_SPP (1 << 8)
#define HSTATUS_SPV (1 << 7)

	.text
	.option	push
	.option	norvc

/*
 * int rv_guest_run(uint64_t pc, uint64_t a0, uint64_t a1): runs the guest
 * at pc with a0 and a1 until it traps.  rv_trap resumes at rv_guest_exit
 * with the result in a0.
 */
	.globl	rv_guest_run, rv_guest_exit
rv_guest_run:
	addi	sp, sp, -16
	sd	ra, 8(sp)
	csrw	sepc, a0
	mv	a0, a1
	mv	a1, a2
	li	t0, SSTATUS_SPP
	csrs	sstatus, t0		/* sret to S ... */
	li	t0, HSTATUS_SPV
	csrs	hstatus, t0		/* ... with V = 1: VS-mode */
	sret
rv_guest_exit:
	ld	ra, 8(sp)
	addi	sp, sp, 16
	ret

/* The guest's stubs: a0 = guest-physical address, a1 = value. */
	.globl	rv_guest_read, rv_guest_write, rv_guest_exec
	.align	2
rv_guest_read:
	ld	a1, 0(a0)
	ecall
	.align	2
rv_guest_write:
	sd	a1, 0(a0)
	ecall
	.align	2
rv_guest_exec:
	jalr	ra, 0(a0)		/* a `ret` there comes back to the ecall */
	ecall

	.option	pop
