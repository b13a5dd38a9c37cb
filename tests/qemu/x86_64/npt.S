/* SPDX-License-Identifier: MPL-2.0 */
/*
 * npt.S - entering the guest (VMRUN) and the guest's probes, for the x86-64
 * nested-paging QEMU test kernel (npt.c).
 *
 * The guest is a few stub instructions in this image, run in 64-bit mode
 * at CPL 0 on a stage-1 table that ptkit built (guest-virtual ==
 * guest-physical, npt.c), so that only ptkit's nested table (the VMCB's
 * nCR3) decides where a guest address goes.  Each stub makes one access and
 * ends with VMMCALL; the VMMCALL or a nested page fault is a #VMEXIT, after
 * which the CPU has restored the host's rip, rsp and rax from the host save
 * area.  Every other register holds the guest's value: the stubs change rsi
 * only (and the stack, through their call), and x86_guest_run keeps the
 * registers the C ABI asks it to keep on its own stack anyway.
 */
	.text

/*
 * uint64_t x86_guest_run(uint64_t vmcb_pa, uint64_t rdi, uint64_t rsi):
 * runs the guest (rip, rsp and the rest are in the VMCB) with rdi and rsi
 * until a #VMEXIT; returns the guest's rsi.
 */
	.globl x86_guest_run
x86_guest_run:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rdi, %rax
	movq %rsi, %rdi
	movq %rdx, %rsi
	vmrun
	movq %rsi, %rax
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/* The guest's stubs: rdi = guest-physical address, rsi = value. */
	.globl x86_guest_read, x86_guest_write, x86_guest_exec
	.balign 16
x86_guest_read:
	movq (%rdi), %rsi
	vmmcall
	.balign 16
x86_guest_write:
	movq %rsi, (%rdi)
	vmmcall
	.balign 16
x86_guest_exec:
	call *%rdi		/* a `ret` there comes back to the vmmcall */
	vmmcall

	.section .note.GNU-stack, "", @progbits
