/* SPDX-License-Identifier: MPL-2.0 */
/*
 * probes.S - the probes of the x86-64 stage-1 QEMU test kernels (arch.c).
 */

/* Each probe's access is at a known address; on a page fault there the trap
 * handler resumes at the matching fixup (x86_probe_table), which returns 1.
 * Exec: the handler recognises a fetch fault at the called address whose
 * return address is x86_probe_exec_ret, pops it and resumes at the fixup. */
	.text
	.globl x86_probe_read /* int x86_probe_read(uint64_t va, uint64_t *out) */
x86_probe_read:
probe_read_insn:
	movq (%rdi), %rax
	movq %rax, (%rsi)
	xorl %eax, %eax
	ret
probe_read_fixup:
	movl $1, %eax
	ret

	.globl x86_probe_write /* int x86_probe_write(uint64_t va, uint64_t val) */
x86_probe_write:
probe_write_insn:
	movq %rsi, (%rdi)
	xorl %eax, %eax
	ret
probe_write_fixup:
	movl $1, %eax
	ret

	.globl x86_probe_exec /* int x86_probe_exec(uint64_t va) */
x86_probe_exec:
	call *%rdi
	.globl x86_probe_exec_ret
x86_probe_exec_ret:
	xorl %eax, %eax
	ret
	.globl x86_probe_exec_fixup
x86_probe_exec_fixup:
	movl $1, %eax
	ret

	.section .rodata
	.balign 8
	.globl x86_probe_table, x86_probe_table_end
x86_probe_table: /* { faulting instruction, fixup } */
	.quad probe_read_insn, probe_read_fixup
	.quad probe_write_insn, probe_write_fixup
x86_probe_table_end:

	.section .note.GNU-stack, "", @progbits
