/* SPDX-License-Identifier: MPL-2.0 */
/*
 * arch.h - what each QEMU test kernel's architecture layer gives the common
 * test program (tests/qemu/common/kernel_tests.c).
 *
 * A test kernel is: the arch's boot code (MMU off, or an identity map on
 * x86-64), which calls kernel_main(); the common program, which builds an
 * address space with ptkit, switches to it and proves by real accesses that
 * the MMU sees what ptkit mapped; and the hooks below.  One kernel build
 * tests one format (the arch layer picks it at compile time).
 *
 * The stage-2 kernels (stage2_tests.c: riscv64/gstage.c, aarch64/stage2.c)
 * implement the same hooks for a hypervisor that runs with its own
 * translation off: the table under test is a guest's stage-2 table, the
 * probes are made by the guest (one guest entry each) at guest-physical
 * addresses, and the arch_desc fields about running on the tables
 * (split_running_code, shared_kernel_root) are unused.
 */
#ifndef PTKIT_QEMU_ARCH_H
#define PTKIT_QEMU_ARCH_H

#include <ptkit/ptkit.h>

struct arch_desc {
	const char *name;                /* "riscv64 Sv39", printed in the log */
	const struct pt_format *fmt;     /* the format under test */
	uint32_t features;               /* PT_FEAT_* the CPU and its setup provide */
	uint64_t image_start, image_end; /* the whole kernel image, bss and stack
					  * included: physical == virtual at boot */
	uint64_t ram_end;                /* end of the RAM QEMU is started with */
	uint64_t uart_pa, uart_len;      /* MMIO the hooks use, mapped uncached */
	bool has_1g;                     /* the CPU walks 1 GiB leaves */
	uint64_t gig_pa;                 /* a 1 GiB-aligned pa holding the image */
	/* Splitting the huge leaf that maps the running code keeps it running
	 * (false where break-before-make unmaps it for a moment: AArch64). */
	bool split_running_code;
	/* A user table shares the kernel table's root slots (x86-64, RISC-V);
	 * otherwise it is its own root (AArch64 TTBR0). */
	bool shared_kernel_root;
	/* Stage-2 kernels: PT_* flags every leaf of the guest's table needs
	 * beside what a check asks for (PT_U for AMD NPT, which walks the
	 * x86-64 stage-1 format as user accesses); 0 elsewhere. */
	uint32_t stage2_flags;
	/* Stage-2 kernels: the end of the guest-physical space the hardware
	 * translates, if below the format's user_end (AMD NPT: the guest's own
	 * PTEs hold addresses below 2^MAXPHYADDR; QEMU 7.2's G-stage: the lower
	 * half, riscv64/gstage.c); 0: user_end. */
	uint64_t guest_pa_end;
};

extern const struct arch_desc arch;

/* The stage-2 kernels' guest: its VMID (AMD: its ASID).  stage2_tests.c
 * tags its tables with it (pt_table_opts.tag), the arch loads it (hgatp,
 * VTTBR_EL2, the VMCB) and invalidates under the tag that pt_flush_info
 * reports. */
#define STAGE2_TAG 1

/* Called by the boot code with a stack, traps not yet installed. */
void kernel_main(void);

/* Serial output (polled) and the end of the run: QEMU exits with a status
 * the runner maps back to pass/fail (tests/qemu/run_qemu.sh). */
void arch_putc(char c);
_Noreturn void arch_exit(bool pass);

/* Installs the trap vector.  From then on a fault inside a probe below is
 * caught and reported; any other trap prints the registers and exits with
 * a failure. */
void arch_trap_init(void);

/* One access at va.  0: done; 1: it took a page fault (translation or
 * permission), the access had no effect. */
int arch_probe_read(uint64_t va, uint64_t *out);
int arch_probe_write(uint64_t va, uint64_t val);
/* Calls the code at va (a return instruction put there by
 * arch_put_return); 1 if the fetch faulted. */
int arch_probe_exec(uint64_t va);
/* Writes a return instruction at `code` (through a writable alias) and
 * makes it visible to instruction fetch. */
void arch_put_return(void *code);

/* Loads the tables into the MMU (CR3 / satp / TTBR0+TTBR1), enabling it if
 * needed, and flushes the whole TLB.  On AArch64 `user` covers TTBR0 and
 * `kernel` TTBR1; elsewhere the user table (which shares the kernel half)
 * is the one loaded and `kernel` is ignored.  A stage-2 kernel loads `user`
 * as the guest's table (hgatp / VTTBR_EL2); `kernel` is NULL. */
void arch_activate(const struct pt_table *user, const struct pt_table *kernel);

/* The TLB invalidation ptkit asks for (struct pt_flush_info: ranges, or
 * everything; nodes_removed means non-leaf entries changed too). */
void arch_invalidate(const struct pt_flush_info *info);

#endif
