/* SPDX-License-Identifier: MPL-2.0 */
/*
 * trap_stubs.S - the x86-64 exception entry, included by the QEMU test
 * kernels' boot.S and by the example kernel (examples/kernel/entry.S).
 * One stub per exception vector: push a dummy error code where the CPU
 * pushes none, then the vector, then the common path, which saves the
 * general registers as the includer's trap frame (rax at the top, r15 at
 * the bottom), calls x86_trap(frame) and returns with iretq (a handler
 * may change the saved rip and rsp, or never return).  x86_trap_stubs[]
 * holds vectors 0..31, x86_trap_stub_other the rest.
 */

/* The general registers, rax pushed first: a trap frame's layout. */
.macro PUSH_GPRS
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm
.macro POP_GPRS
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
.endm
	.text
.macro TRAP_NOERR n
	.balign 16
trap_\n:
	pushq $0
	pushq $\n
	jmp trap_common
.endm
.macro TRAP_ERR n
	.balign 16
trap_\n:
	pushq $\n
	jmp trap_common
.endm

	TRAP_NOERR 0
	TRAP_NOERR 1
	TRAP_NOERR 2
	TRAP_NOERR 3
	TRAP_NOERR 4
	TRAP_NOERR 5
	TRAP_NOERR 6
	TRAP_NOERR 7
	TRAP_ERR 8
	TRAP_NOERR 9
	TRAP_ERR 10
	TRAP_ERR 11
	TRAP_ERR 12
	TRAP_ERR 13
	TRAP_ERR 14
	TRAP_NOERR 15
	TRAP_NOERR 16
	TRAP_ERR 17
	TRAP_NOERR 18
	TRAP_NOERR 19
	TRAP_NOERR 20
	TRAP_ERR 21
	TRAP_NOERR 22
	TRAP_NOERR 23
	TRAP_NOERR 24
	TRAP_NOERR 25
	TRAP_NOERR 26
	TRAP_NOERR 27
	TRAP_NOERR 28
	TRAP_ERR 29
	TRAP_ERR 30
	TRAP_NOERR 31
	/* Vectors 32..255 (never raised: interrupts stay disabled). */
	TRAP_NOERR 255

/* Saves the general registers as a struct x86_trap_frame (arch.c), calls
 * x86_trap(frame), which may change the saved rip and rsp, and returns. */
trap_common:
	PUSH_GPRS
	movq %rsp, %rdi
	cld
	call x86_trap
	POP_GPRS
	addq $16, %rsp /* vector, error code */
	iretq

	.section .rodata
	.balign 8
	.globl x86_trap_stubs
x86_trap_stubs:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad trap_\n
	.endr
	.globl x86_trap_stub_other
x86_trap_stub_other:
	.quad trap_255
