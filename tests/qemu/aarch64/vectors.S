/* SPDX-License-Identifier: MPL-2.0 */
/*
 * vectors.S - the EL1 exception vector table and the probes.
 *
 * Every vector saves x0-x30, ELR_EL1 and SPSR_EL1 in a struct trap_frame on
 * the current stack and calls arch_trap(frame, vector index); the handler
 * may change the frame (ELR, x0) before it is restored and we eret.  A
 * kernel that builds such a frame itself (the example kernel, entering
 * user mode) leaves through arch_trap_return with sp at the frame.
 *
 * The probes are one access each at a known label: a fault there resumes at
 * the matching fixup (the table arch_extable below), which returns 1.
 */

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
	mrs	x2, elr_el1
	mrs	x3, spsr_el1
	str	x2, [sp, #248]
	str	x3, [sp, #256]
	mov	x1, x0
	mov	x0, sp
	bl	arch_trap
	.global arch_trap_return
arch_trap_return:
	ldr	x2, [sp, #248]
	ldr	x3, [sp, #256]
	msr	elr_el1, x2
	msr	spsr_el1, x3
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

/* int arch_probe_read(uint64_t va, uint64_t *out) */
	.global arch_probe_read, arch_probe_read_insn
	.type arch_probe_read, %function
arch_probe_read:
arch_probe_read_insn:
	ldr	x2, [x0]
	str	x2, [x1]
	mov	w0, #0
	ret
probe_read_fixup:
	mov	w0, #1
	ret
	.size arch_probe_read, . - arch_probe_read

/* int arch_probe_write(uint64_t va, uint64_t val) */
	.global arch_probe_write, arch_probe_write_insn
	.type arch_probe_write, %function
arch_probe_write:
arch_probe_write_insn:
	str	x1, [x0]
	mov	w0, #0
	ret
probe_write_fixup:
	mov	w0, #1
	ret
	.size arch_probe_write, . - arch_probe_write

/*
 * int arch_probe_exec(uint64_t va): calls the `ret` at va with x0 = 0.  If
 * the fetch faults (ELR == va), the handler sets x0 = 1 and resumes at x30,
 * which is arch_probe_exec_ret.
 */
	.global arch_probe_exec, arch_probe_exec_ret
	.type arch_probe_exec, %function
arch_probe_exec:
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp
	mov	x16, x0
	mov	x0, #0
	blr	x16
arch_probe_exec_ret:
	ldp	x29, x30, [sp], #16
	ret
	.size arch_probe_exec, . - arch_probe_exec

	.section .rodata
	.balign 8
	.global arch_extable, arch_extable_end
arch_extable:
	.quad	arch_probe_read_insn, probe_read_fixup
	.quad	arch_probe_write_insn, probe_write_fixup
arch_extable_end:
