/* SPDX-License-Identifier: MPL-2.0 */
/*
 * entry.S - boot, trap and system-call entry, context switch (adapted from
 * tests/qemu/x86_64/boot.S).
 *
 * QEMU loads the flat image at 1 MiB through Multiboot's a.out kludge and
 * enters _start in 32-bit protected mode, paging off, with the Multiboot
 * information in %ebx.  The image is linked at KOFF + 1 MiB, so until paging
 * is on every address is written "symbol - KOFF".  The boot tables map the
 * first GiB twice (identity, for the switch, and at KOFF); kernel_main then
 * moves to ptkit's kernel table for good.
 */
#define KOFF 0xffffffff80000000
#define PA(x) ((x) - KOFF)

#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00010003 /* page-aligned modules, memory info, a.out kludge */

#define CR0_PE (1 << 0)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_SCE (1 << 0)
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

#define USER_CS 0x23
#define USER_SS 0x1b
#define BOOT_STACK_SIZE (32 * 1024)

	.section .multiboot, "a"
	.balign 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long PA(mb_header)
	.long PA(__image_start)
	.long PA(__load_end)
	.long PA(__bss_end)
	.long PA(_start)

/* ---- 32-bit entry ---- */

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %ebx, %esi /* the Multiboot information, kept across the bss wipe */
	movl $PA(__bss_start), %edi
	movl $PA(__bss_end), %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl %esi, PA(mb_info_pa)

	/* PML4[0] and PML4[511] -> PDPTs whose slots 0 and 510 -> one PD
	 * mapping [0, 1 GiB) with 2 MiB pages: identity and KOFF. */
	movl $(PA(boot_pdpt_lo) + 0x3), PA(boot_pml4)
	movl $(PA(boot_pdpt_hi) + 0x3), PA(boot_pml4) + 511 * 8
	movl $(PA(boot_pd) + 0x3), PA(boot_pdpt_lo)
	movl $(PA(boot_pd) + 0x3), PA(boot_pdpt_hi) + 510 * 8
	movl $PA(boot_pd), %edi
	movl $0x83, %eax
	movl $512, %ecx
1:	movl %eax, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 1b

	movl $PA(boot_pml4), %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_NXE | EFER_SCE), %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP | CR0_PE), %eax
	movl %eax, %cr0
	lgdt PA(boot_gdt_ptr)
	ljmp $0x08, $PA(long_low)

	.code64
long_low:
	movabsq $long_high, %rax
	jmp *%rax
long_high:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl mb_info_pa(%rip), %edi
	call kernel_main
2:	cli
	hlt
	jmp 2b

	.section .rodata
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff
	.quad 0x00cf92000000ffff
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long PA(boot_gdt)

/* ---- traps ---- */

/* The exception stubs of the QEMU test kernels: frame layout as struct
 * trap_frame in arch.c; a trap from user mode never comes back through
 * them (x86_trap leaves through ret_to_user_iret). */
#include "trap_stubs.S"

/* ---- system calls ---- */

/* SYSCALL leaves the user rip in %rcx and rflags in %r11, and interrupts
 * off (IA32_FMASK).  One CPU and no preemption: the user registers go
 * straight into the current process's struct uregs (cur_uregs_end is its
 * end, so pushes fill it), then the process's kernel stack is taken. */
	.text
	.globl syscall_entry
syscall_entry:
	movq %rsp, user_rsp_tmp(%rip)
	movq cur_uregs_end(%rip), %rsp
	pushq $USER_SS
	pushq user_rsp_tmp(%rip)
	pushq %r11
	pushq $USER_CS
	pushq %rcx
	PUSH_GPRS
	movq cur_kstack_top(%rip), %rsp
	cld
	call syscall_dispatch
	/* fall through */

/* Both exits load every register from cur_uregs (which a system call
 * may have rewritten: execve, fork's child, signal frames). */
	.globl ret_to_user_sysret
ret_to_user_sysret:
	movq cur_uregs(%rip), %rsp
	POP_GPRS
	movq (%rsp), %rcx
	movq 16(%rsp), %r11
	movq 24(%rsp), %rsp
	sysretq

	.globl ret_to_user_iret
ret_to_user_iret:
	movq cur_uregs(%rip), %rsp
	POP_GPRS
	iretq

/* void switch_to(uint64_t *save_sp, uint64_t new_sp): the callee-saved
 * registers stay on the old kernel stack. */
	.globl switch_to
switch_to:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

/* A new process's first switch_to returns here: straight to user mode. */
	.globl fork_child_start, ret_to_user
fork_child_start:
ret_to_user:
	jmp ret_to_user_sysret

/* ---- data ---- */

	.section .bss
	.balign 4096
boot_pml4:
	.skip 4096
boot_pdpt_lo:
	.skip 4096
boot_pdpt_hi:
	.skip 4096
boot_pd:
	.skip 4096
boot_stack:
	.skip BOOT_STACK_SIZE
boot_stack_top:
	.balign 8
mb_info_pa:
	.skip 8
user_rsp_tmp:
	.skip 8
	.globl cur_uregs, cur_uregs_end, cur_kstack_top
cur_uregs:
	.skip 8
cur_uregs_end:
	.skip 8
cur_kstack_top:
	.skip 8

	.section .note.GNU-stack, "", @progbits
