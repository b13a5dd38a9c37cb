/* SPDX-License-Identifier: MPL-2.0 */
/*
 * boot.S - the x86-64 test kernels' entry and trap stubs (the stage-1
 * kernels' probes are in probes.S, the NPT kernel's guest in npt.S).
 *
 * QEMU's -kernel loads us as a Multiboot 1 kernel (the ELF64 is converted
 * to ELF32 after linking: QEMU refuses 64-bit ELF for Multiboot) and jumps
 * to _start in 32-bit protected mode, paging off.  We build a temporary
 * identity map of the first GiB (2 MiB pages in .bss), enable PAE (and
 * LA57 in the 5-level build), EFER.LME and EFER.NXE (ptkit sets NX in
 * every non-executable leaf: without NXE that bit is reserved), paging with
 * CR0.WP (so read-only pages bind the kernel too), then far-jump to 64-bit
 * code and call kernel_main.
 */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003 /* page-aligned modules, memory info */

#define CR0_PE (1 << 0)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_LA57 (1 << 12)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

#define STACK_SIZE (64 * 1024)

	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

/* ---- 32-bit entry --------------------------------------------------------- */

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	/* Zero .bss (the boot tables and the stack live there). */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb

	/* Identity map of [0, 1 GiB): PML4[0] -> PDPT, PDPT[0] -> PD,
	 * PD[i] = i * 2 MiB | P | W | PS. */
	movl $(boot_pdpt + 0x3), boot_pml4
	movl $(boot_pd + 0x3), boot_pdpt
	movl $boot_pd, %edi
	movl $0x83, %eax
	movl $512, %ecx
1:	movl %eax, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 1b

#ifdef PTKIT_QEMU_LA57
	movl $(boot_pml4 + 0x3), boot_pml5
	movl $boot_pml5, %eax
	movl $(CR4_PAE | CR4_LA57), %edx
#else
	movl $boot_pml4, %eax
	movl $CR4_PAE, %edx
#endif
	movl %eax, %cr3
	movl %cr4, %eax
	orl %edx, %eax
	movl %eax, %cr4

	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_NXE), %eax
	wrmsr

	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP | CR0_PE), %eax
	movl %eax, %cr0

	lgdt gdt_ptr
	ljmp $0x08, $long_entry

/* ---- 64-bit entry --------------------------------------------------------- */

	.code64
long_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movq $stack_top, %rsp
	xorl %ebp, %ebp
	call kernel_main
2:	cli
	hlt
	jmp 2b

	.section .rodata
	.balign 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff /* 0x10: data */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt

/* ---- traps ---------------------------------------------------------------- */

#include "trap_stubs.S"

/* ---- boot page tables and stack ------------------------------------------- */

	.section .bss
	.balign 4096
boot_pml5:
	.skip 4096
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4096
stack:
	.skip STACK_SIZE
stack_top:

	.section .note.GNU-stack, "", @progbits
