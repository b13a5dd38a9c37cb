/* SPDX-License-Identifier: MPL-2.0 */
/*
 * probes.S - the probes of the AArch64 EL1 QEMU test kernels (arch.h).
 *
 * The probes are one access each at a known label: a fault there resumes at
 * the matching fixup (the table arch_extable below), which returns 1.
 */

	.text
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
