/* SPDX-License-Identifier: MPL-2.0 */
/*
 * gstage.c - the riscv64 hooks of tests/qemu/common/arch.h for the G-stage
 * kernel: QEMU's virt machine with the hypervisor extension, OpenSBI in
 * M-mode, this kernel as the hypervisor in HS-mode with satp bare, and a
 * guest in VS-mode with vsatp bare.  The table under test is the guest's
 * G-stage table (hgatp); the program is common/stage2_tests.c.
 *
 * One source, two kernels: built with -DPTKIT_QEMU_SV48 it tests
 * pt_format_riscv_sv48x4, otherwise pt_format_riscv_sv39x4.
 *
 *   console    console.c (rv.h), shared with the stage-1 kernels.
 *   probes     each runs one guest stub (gstage.S) that accesses a
 *              guest-physical address and ends with an ecall.  OpenSBI
 *              delegates the VS-mode ecall (scause 10) and the guest-page
 *              faults (20 fetch, 21 load, 23 store) to HS-mode.  A fault is
 *              expected only if it is the probe's kind and its
 *              guest-physical address, (htval << 2) | (stval & 3), is the
 *              probed one; anything else is reported and ends the run.
 *   TLB        HFENCE.GVMA per 4 KiB page of each range (rs1 = gpa >> 2,
 *              rs2 = the VMID: the request's tag), or for the whole VMID
 *              (rv_flush_walk says when).  The guest's own stage is bare, so no HFENCE.VVMA.
 */
#include "kprintf.h"
#include "rv.h"

#ifdef PTKIT_QEMU_SV48
#define RV_FORMAT pt_format_riscv_sv48x4
#define RV_NAME "riscv64 G-stage Sv48x4 (HS-mode, VS-mode guest)"
#define RV_HGATP_MODE 9ull
#define RV_GPA_BITS 50
#else
#define RV_FORMAT pt_format_riscv_sv39x4
#define RV_NAME "riscv64 G-stage Sv39x4 (HS-mode, VS-mode guest)"
#define RV_HGATP_MODE 8ull
#define RV_GPA_BITS 41
#endif

/*
 * QEMU before 8.1 checks a guest-physical address as if it were
 * sign-extended from its top bit, so it faults on the upper half of the
 * space ([1 TiB, 2 TiB) for Sv39x4); the spec wants bits 63:41 zero and no
 * more ("target/riscv: Fix Guest Physical Address Translation", QEMU 8.1).
 * The checks stay below that half.
 */
#define RV_GPA_END_WALKED (1ull << (RV_GPA_BITS - 1))

#define SCAUSE_VS_ECALL 10
#define SCAUSE_FETCH_GUEST_PAGE_FAULT 20
#define SCAUSE_LOAD_GUEST_PAGE_FAULT 21
#define SCAUSE_STORE_GUEST_PAGE_FAULT 23
#define HSTATUS_SPV (1ull << 7)

extern char rv_trap_entry[], rv_guest_exit[];
extern char rv_guest_read[], rv_guest_write[], rv_guest_exec[];

int rv_guest_run(uint64_t pc, uint64_t a0, uint64_t a1);

/* Set by boot.S. */
uint64_t rv_boot_hartid, rv_boot_dtb;

const struct arch_desc arch = {
	.name = RV_NAME,
	.fmt = &RV_FORMAT,
	RV_ARCH_DESC_MACHINE,
	.guest_pa_end = RV_GPA_END_WALKED,
};

/* ---- guest exits -------------------------------------------------------- */

/* The probe running now: the fault it may take, and the value the guest
 * read (a1 at the exit). */
static struct {
	uint64_t gpa, cause, a1;
} probe;

void rv_trap(struct rv_frame *f)
{
	uint64_t hstatus, htval;
	char why[160];

	__asm__ volatile("csrr %0, hstatus\n\tcsrr %1, htval" : "=r"(hstatus), "=r"(htval));
	if (!(hstatus & HSTATUS_SPV))
		rv_unexpected_trap(f, "(in the hypervisor, HS-mode)");

	uint64_t gpa = (htval << 2) | (f->stval & 3);
	if (f->scause == SCAUSE_VS_ECALL) {
		f->x[10] = 0;
	} else if (f->scause == probe.cause && gpa == probe.gpa && f->stval == probe.gpa) {
		f->x[10] = 1;
	} else {
		ksnprintf(why, sizeof(why),
			  "(from the guest: htval=%#lx, so gpa %#lx; the probe at gpa %#lx "
			  "expected scause 10 or %lu)",
			  htval, gpa, probe.gpa, probe.cause);
		rv_unexpected_trap(f, why);
	}
	/* A guest exit: sret goes back to the hypervisor, in rv_guest_run. */
	probe.a1 = f->x[11];
	f->sepc = (uintptr_t)rv_guest_exit;
	__asm__ volatile("csrc hstatus, %0" ::"r"(HSTATUS_SPV));
}

void arch_trap_init(void)
{
	/* Direct mode: the handler is 16-byte aligned, mode bits 0. */
	__asm__ volatile("csrw stvec, %0" ::"r"(rv_trap_entry));
}

static int guest_probe(char *stub, uint64_t cause, uint64_t gpa, uint64_t val)
{
	probe.gpa = gpa;
	probe.cause = cause;
	return rv_guest_run((uintptr_t)stub, gpa, val);
}

int arch_probe_read(uint64_t va, uint64_t *out)
{
	int faulted = guest_probe(rv_guest_read, SCAUSE_LOAD_GUEST_PAGE_FAULT, va, 0);

	if (!faulted)
		*out = probe.a1;
	return faulted;
}

int arch_probe_write(uint64_t va, uint64_t val)
{
	return guest_probe(rv_guest_write, SCAUSE_STORE_GUEST_PAGE_FAULT, va, val);
}

int arch_probe_exec(uint64_t va)
{
	return guest_probe(rv_guest_exec, SCAUSE_FETCH_GUEST_PAGE_FAULT, va, 0);
}

/* ---- the G-stage MMU ---------------------------------------------------- */

/* The VMID the fences name: the request's tag (arch_invalidate). */
static uint64_t fence_vmid = STAGE2_TAG;

static void hfence_gvma_all(void)
{
	__asm__ volatile(".option push\n\t.option arch, +h\n\t"
			 "hfence.gvma zero, %0\n\t"
			 ".option pop" ::"r"(fence_vmid)
			 : "memory");
}

static void hfence_gvma_page(uint64_t gpa)
{
	__asm__ volatile(".option push\n\t.option arch, +h\n\t"
			 "hfence.gvma %0, %1\n\t"
			 ".option pop" ::"r"(gpa >> 2), "r"(fence_vmid)
			 : "memory");
}

void arch_activate(const struct pt_table *user, const struct pt_table *kernel)
{
	(void)kernel; /* one table: the guest-physical space */
	uint64_t hgatp = (RV_HGATP_MODE << 60) | ((uint64_t)STAGE2_TAG << 44) |
			 (pt_table_root(user) >> 12);
	uint64_t got;

	__asm__ volatile("csrw vsatp, zero\n\t"
			 "csrw hgatp, %1\n\t"
			 "csrr %0, hgatp"
			 : "=r"(got)
			 : "r"(hgatp)
			 : "memory");
	hfence_gvma_all();
	if (got != hgatp) {
		/* hgatp is WARL: a mode the hart lacks (no H extension, say)
		 * reads back otherwise. */
		kprintf("FAIL hgatp: wrote %#lx, reads %#lx (no hypervisor extension? "
			"QEMU needs -cpu rv64,h=true)\n", hgatp, got);
		arch_exit(false);
	}
}

void arch_invalidate(const struct pt_flush_info *info)
{
	fence_vmid = info->tag;
	rv_flush_walk(info, hfence_gvma_page, hfence_gvma_all);
}
