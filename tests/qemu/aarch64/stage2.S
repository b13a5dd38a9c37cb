/* SPDX-License-Identifier: MPL-2.0 */
/*
 * stage2.S - entering the guest (EL1) and the guest's probes, for the
 * AArch64 stage-2 QEMU test kernel (stage2.c).
 *
 * The hypervisor runs at EL2 with its MMU off; the guest is a few stub
 * instructions in this image, run at EL1 with its MMU off, so that a guest
 * address is an intermediate physical one (IPA) and only ptkit's stage-2
 * table (VTTBR_EL2) translates it.  Each stub makes one access and ends
 * with an HVC; either the HVC or a stage-2 abort is taken to EL2 on SP_EL2,
 * the hypervisor's stack, where vectors.S saves a struct trap_frame and
 * arch_trap (stage2.c) turns the exception into a return from
 * a64_guest_run.  The stubs touch x0, x1 and (the exec stub) x30 only:
 * every other register is the hypervisor's at the exit.
 */
#define SPSR_EL1H_DAIF 0x3c5 /* EL1 with SP_EL1, D, A, I, F masked */

	.text

/*
 * int a64_guest_run(uint64_t pc, uint64_t x0, uint64_t x1): runs the
 * guest at pc with x0 and x1 until it exits to EL2.  arch_trap resumes at
 * a64_guest_exit, at EL2, with the result in x0.
 */
	.global a64_guest_run, a64_guest_exit
	.type a64_guest_run, %function
a64_guest_run:
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp
	msr	elr_el2, x0
	mov	x0, x1
	mov	x1, x2
	mov	x9, #SPSR_EL1H_DAIF
	msr	spsr_el2, x9
	eret
a64_guest_exit:
	ldp	x29, x30, [sp], #16
	ret
	.size a64_guest_run, . - a64_guest_run

/* The guest's stubs: x0 = IPA, x1 = value. */
	.global a64_guest_read, a64_guest_write, a64_guest_exec
	.balign 8
a64_guest_read:
	ldr	x1, [x0]
	hvc	#0
	.balign 8
a64_guest_write:
	str	x1, [x0]
	hvc	#0
	.balign 8
a64_guest_exec:
	blr	x0			/* a `ret` there comes back to the hvc */
	hvc	#0
