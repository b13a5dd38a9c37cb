/* SPDX-License-Identifier: MPL-2.0 */
/*
 * npt.c - the x86-64 hooks of tests/qemu/common/arch.h for the
 * nested-paging kernel: QEMU's TCG with -cpu ...,+svm,+npt, this kernel as
 * the hypervisor (on the boot identity map of boot.S), and a guest run with
 * VMRUN.  The table under test is the guest's nested table (AMD NPT): the
 * x86-64 long-mode format, which the CPU walks as user accesses, so every
 * leaf needs PT_U (arch.stage2_flags; ptkit's table entries always have U).
 * The program is common/stage2_tests.c.
 *
 *   console    serial.c, and x86.c for the exit, the IDT and the report of
 *              an unexpected trap in the hypervisor, shared with the
 *              stage-1 kernels.
 *   guest      64-bit mode at CPL 0, its own stage on a table that ptkit
 *              builds in guest_pool (in the image, which the nested table
 *              maps at its own address): 1 GiB leaves with guest-virtual ==
 *              guest-physical over every range the program uses.  So only
 *              the nested table decides where a guest address goes.
 *   probes     each runs one guest stub (npt.S) that accesses a
 *              guest-physical address and ends with VMMCALL (exit code
 *              0x81).  A nested page fault (exit code 0x400) is the probe's
 *              only if EXITINFO2 is the probed address, EXITINFO1 says the
 *              final guest-physical access (bit 32, not a walk of the
 *              guest's own table), no reserved bit, and W and ID as the
 *              probe's access; any other exit is reported and ends the run.
 *   TLB        AMD has no invalidation by guest-physical address: the
 *              VMCB's TLB_CONTROL flushes the guest's ASID (or everything,
 *              without FlushByAsid) at the next VMRUN.
 */
#include "kprintf.h"
#include "x86.h"

extern char x86_guest_read[], x86_guest_write[], x86_guest_exec[];

uint64_t x86_guest_run(uint64_t vmcb_pa, uint64_t rdi, uint64_t rsi);

/* The guest's own PTEs hold guest-physical addresses below 2^MAXPHYADDR:
 * 40 bits on QEMU's TCG (checked in arch_trap_init), so the nested table's
 * 48-bit space is walked up to 1 TiB only. */
#define NPT_PHYS_BITS 40
#define NPT_GUEST_PA_END (1ull << NPT_PHYS_BITS)

const struct arch_desc arch = {
	.name = "x86-64 nested paging (AMD SVM NPT, 4-level)",
	.fmt = &pt_format_x86_64,
	X86_ARCH_DESC_MACHINE,
	.stage2_flags = PT_U,
	.guest_pa_end = NPT_GUEST_PA_END,
};

/* ---- the VMCB (AMD APM vol. 2, appendix B) ------------------------------- */

/* Control area. */
#define VMCB_INTERCEPT3 0x00c   /* bit 31: SHUTDOWN */
#define VMCB_INTERCEPT4 0x010   /* bit 0: VMRUN (required), bit 1: VMMCALL */
#define VMCB_ASID 0x058
#define VMCB_TLB_CONTROL 0x05c
#define VMCB_EXITCODE 0x070
#define VMCB_EXITINFO1 0x078
#define VMCB_EXITINFO2 0x080
#define VMCB_NP_ENABLE 0x090
#define VMCB_N_CR3 0x0b0
/* State save area. */
#define VMCB_ES 0x400
#define VMCB_CS 0x410
#define VMCB_SS 0x420
#define VMCB_DS 0x430
#define VMCB_CPL 0x4cb
#define VMCB_EFER 0x4d0
#define VMCB_CR4 0x548
#define VMCB_CR3 0x550
#define VMCB_CR0 0x558
#define VMCB_DR7 0x560
#define VMCB_DR6 0x568
#define VMCB_RFLAGS 0x570
#define VMCB_RIP 0x578
#define VMCB_RSP 0x5d8
#define VMCB_G_PAT 0x668

#define EXIT_SHUTDOWN 0x7f
#define EXIT_VMMCALL 0x81
#define EXIT_NPF 0x400
#define NPF_W (1ull << 1)
#define NPF_RSVD (1ull << 3)
#define NPF_ID (1ull << 4)
#define NPF_GPA (1ull << 32) /* the final access, not a guest table walk */

#define TLB_FLUSH_ALL 1
#define TLB_FLUSH_ASID 3

#define MSR_EFER 0xc0000080
#define MSR_VM_HSAVE_PA 0xc0010117
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_SVME (1ull << 12)

static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint64_t guest_stack[512] __attribute__((aligned(4096)));
static uint8_t tlb_flush_op = TLB_FLUSH_ALL;

static void vmcb_w32(unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(vmcb + off) = v;
}

static void vmcb_w64(unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(vmcb + off) = v;
}

static uint64_t vmcb_r64(unsigned off)
{
	return *(volatile uint64_t *)(vmcb + off);
}

static void vmcb_seg(unsigned off, uint16_t sel, uint16_t attrib)
{
	*(volatile uint16_t *)(vmcb + off) = sel;
	*(volatile uint16_t *)(vmcb + off + 2) = attrib;
	vmcb_w32(off + 4, 0xffffffff);
	vmcb_w64(off + 8, 0);
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* ---- the guest's own stage: a ptkit table in the image ------------------- */

#define GUEST_POOL_FRAMES 32
static uint8_t guest_pool[GUEST_POOL_FRAMES * 4096] __attribute__((aligned(4096)));
static struct pt_phys guest_phys;

/*
 * Guest-virtual == guest-physical, 1 GiB leaves, over what the program
 * touches: [0, 1 GiB) (the image, RAM), [64 GiB, 256 GiB) (its test
 * addresses), [512 GiB, 520 GiB) (those above 512 GiB) and the last GiB
 * below NPT_GUEST_PA_END (its last page).  Built once; never changes.
 */
static uint64_t build_guest_stage1(void)
{
	static const uint64_t ranges[][2] = {
		{ 0, 1ull << 30 },
		{ 64ull << 30, 256ull << 30 },
		{ 512ull << 30, 520ull << 30 },
		{ NPT_GUEST_PA_END - (1ull << 30), NPT_GUEST_PA_END },
	};
	const struct pt_prop rwx = { PT_R | PT_W | PT_X, PT_CACHE_WB };
	struct pt_platform platform = { 0 };
	struct pt_table *t;
	int err = pt_phys_init(&guest_phys, (uintptr_t)guest_pool, sizeof(guest_pool), 0,
			       &platform);

	if (!err)
		err = pt_table_create(&guest_phys, &pt_format_x86_64, PT_SPACE_USER, &t);
	for (unsigned i = 0; !err && i < sizeof(ranges) / sizeof(ranges[0]); i++)
		err = pt_map(t, ranges[i][0], ranges[i][0], ranges[i][1] - ranges[i][0], rwx);
	if (err) {
		kprintf("FAIL setup: the guest's own table: %s\n", pt_strerror(err));
		arch_exit(false);
	}
	return pt_table_root(t);
}

/* ---- traps and SVM ------------------------------------------------------- */

/* Traps in the hypervisor: none is expected (the guest's faults are
 * #VMEXITs, not traps). */
void x86_trap(struct x86_trap_frame *f)
{
	x86_unexpected_trap(f);
}

void arch_trap_init(void)
{
	uint32_t r[4];

	x86_idt_init();
	cpuid(0x80000001, 0, r);
	if (!(r[2] & (1u << 2))) {
		kprintf("FAIL setup: no SVM (start QEMU with -cpu ...,+svm,+npt)\n");
		arch_exit(false);
	}
	cpuid(0x80000008, 0, r);
	if ((r[0] & 0xff) != NPT_PHYS_BITS) {
		kprintf("FAIL setup: MAXPHYADDR is %u, this kernel expects %u\n", r[0] & 0xff,
			NPT_PHYS_BITS);
		arch_exit(false);
	}
	cpuid(0x8000000a, 0, r);
	if (!(r[3] & 1u)) {
		kprintf("FAIL setup: SVM without nested paging (-cpu ...,+npt)\n");
		arch_exit(false);
	}
	if (r[3] & (1u << 6))
		tlb_flush_op = TLB_FLUSH_ASID;
	kprintf("\nx86-64 SVM: revision %u, %u ASIDs, nested paging, %s\n", r[0] & 0xff, r[1],
		tlb_flush_op == TLB_FLUSH_ASID ? "FlushByAsid" : "no FlushByAsid");
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, (uintptr_t)hsave);

	/* The guest: 64-bit mode, CPL 0, paging on its own table. */
	vmcb_w32(VMCB_INTERCEPT3, 1u << 31);             /* SHUTDOWN */
	vmcb_w32(VMCB_INTERCEPT4, (1u << 0) | (1u << 1)); /* VMRUN, VMMCALL */
	vmcb_w32(VMCB_ASID, STAGE2_TAG);
	vmcb_seg(VMCB_CS, 0x08, 0x029b); /* present, code, L */
	vmcb_seg(VMCB_SS, 0x10, 0x0c93); /* present, data, D/B, G */
	vmcb_seg(VMCB_DS, 0x10, 0x0c93);
	vmcb_seg(VMCB_ES, 0x10, 0x0c93);
	vmcb[VMCB_CPL] = 0;
	vmcb_w64(VMCB_EFER, EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME);
	vmcb_w64(VMCB_CR0, 0x80010011); /* PG, WP, ET, PE */
	vmcb_w64(VMCB_CR4, 0x20);       /* PAE */
	vmcb_w64(VMCB_CR3, build_guest_stage1());
	vmcb_w64(VMCB_DR6, 0xffff0ff0);
	vmcb_w64(VMCB_DR7, 0x400);
	vmcb_w64(VMCB_G_PAT, 0x0007040600070406ull); /* the reset PAT */
}

/* ---- probes ---------------------------------------------------------------- */

static int guest_probe(char *stub, uint64_t gpa, uint64_t npf_bits, uint64_t *rsi)
{
	vmcb_w64(VMCB_RIP, (uintptr_t)stub);
	vmcb_w64(VMCB_RSP, (uintptr_t)&guest_stack[512]);
	vmcb_w64(VMCB_RFLAGS, 0x2);
	*rsi = x86_guest_run((uintptr_t)vmcb, gpa, *rsi);
	vmcb[VMCB_TLB_CONTROL] = 0; /* a flush applies to one VMRUN */

	uint64_t code = vmcb_r64(VMCB_EXITCODE), info1 = vmcb_r64(VMCB_EXITINFO1);
	uint64_t info2 = vmcb_r64(VMCB_EXITINFO2);
	if (code == EXIT_VMMCALL)
		return 0;
	if (code == EXIT_NPF && info2 == gpa && (info1 & NPF_GPA) && !(info1 & NPF_RSVD) &&
	    (info1 & (NPF_W | NPF_ID)) == npf_bits)
		return 1;
	kprintf("\nFAIL unexpected #VMEXIT: exit code %#lx, EXITINFO1 %#lx, EXITINFO2 %#lx, "
		"guest rip %#lx; the probe at gpa %#lx expected VMMCALL or a nested page "
		"fault with W|ID %#lx\n",
		code, info1, info2, vmcb_r64(VMCB_RIP), gpa, npf_bits);
	arch_exit(false);
}

int arch_probe_read(uint64_t va, uint64_t *out)
{
	uint64_t rsi = 0;
	int faulted = guest_probe(x86_guest_read, va, 0, &rsi);

	if (!faulted)
		*out = rsi;
	return faulted;
}

int arch_probe_write(uint64_t va, uint64_t val)
{
	return guest_probe(x86_guest_write, va, NPF_W, &val);
}

int arch_probe_exec(uint64_t va)
{
	uint64_t rsi = 0;

	return guest_probe(x86_guest_exec, va, NPF_ID, &rsi);
}

/* ---- the nested MMU -------------------------------------------------------- */

void arch_activate(const struct pt_table *user, const struct pt_table *kernel)
{
	(void)kernel; /* one table: the guest-physical space */
	vmcb_w64(VMCB_NP_ENABLE, 1);
	vmcb_w64(VMCB_N_CR3, pt_table_root(user));
	vmcb[VMCB_TLB_CONTROL] = TLB_FLUSH_ALL;
}

void arch_invalidate(const struct pt_flush_info *info)
{
	/* No invalidation by guest-physical address on AMD: the guest's
	 * whole ASID (the VMCB's, which is the request's tag: check_invalidate
	 * says so). */
	(void)info;
	vmcb[VMCB_TLB_CONTROL] = tlb_flush_op;
}
