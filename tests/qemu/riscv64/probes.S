/* SPDX-License-Identifier: MPL-2.0 */
/*
 * probes.S - the probes of the riscv64 stage-1 QEMU test kernel (arch.h):
 * the kernel itself makes the access, and a page fault at one comes back to
 * rv_trap (arch.c) in S-mode.
 */
	.text
/*
 * Probes: one access each, at a known label.  A page fault whose sepc is the
 * access resumes at the fixup (rv_trap), which returns 1; the access had no
 * effect.  Compressed instructions are avoided so that every label is where
 * the trap handler expects it.
 */
	.option	push
	.option	norvc

/* int arch_probe_read(uint64_t va, uint64_t *out) */
	.globl	arch_probe_read, rv_probe_read_insn, rv_probe_read_fixup
arch_probe_read:
rv_probe_read_insn:
	ld	t0, 0(a0)
	sd	t0, 0(a1)
	li	a0, 0
	ret
rv_probe_read_fixup:
	li	a0, 1
	ret

/* int arch_probe_write(uint64_t va, uint64_t val) */
	.globl	arch_probe_write, rv_probe_write_insn, rv_probe_write_fixup
arch_probe_write:
rv_probe_write_insn:
	sd	a1, 0(a0)
	li	a0, 0
	ret
rv_probe_write_fixup:
	li	a0, 1
	ret

/*
 * int arch_probe_exec(uint64_t va): calls va.  If the fetch at va faults
 * (scause 12, sepc == va, ra == rv_probe_exec_ret), rv_trap resumes at
 * rv_probe_exec_fixup instead.
 */
	.globl	arch_probe_exec, rv_probe_exec_ret, rv_probe_exec_fixup
arch_probe_exec:
	addi	sp, sp, -16
	sd	ra, 8(sp)
	jalr	ra, 0(a0)
rv_probe_exec_ret:
	ld	ra, 8(sp)
	addi	sp, sp, 16
	li	a0, 0
	ret
rv_probe_exec_fixup:
	ld	ra, 8(sp)
	addi	sp, sp, 16
	li	a0, 1
	ret

	.option	pop
