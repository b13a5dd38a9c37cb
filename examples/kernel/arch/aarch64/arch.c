/* SPDX-License-Identifier: MPL-2.0 */
/*
 * arch.c - AArch64 on QEMU's virt board: the PL011 console, the boot
 * information, the initramfs, TTBR0/TTBR1 with one ASID per
 * process slot, exceptions from EL0 (svc, aborts), the user registers and
 * TLB invalidation.  Boot (EL2 to EL1, caches, bss), the exception vectors
 * and the semihosting exit are the AArch64 QEMU test kernel's own
 * (tests/qemu/aarch64/: boot.S, vectors.S, semihosting.c), built from
 * there.
 */
#include "kernel.h"
#include "pl011.h"
#include "semihosting.h"
#include "sysreg.h"
#include "trap_frame.h"

#define RAM_PA 0x40000000ull
/* QEMU loads an initrd and writes a device tree only for Linux images, so
 * run.sh puts the initramfs at INITRD_PA, and its size and the RAM's size
 * (two little-endian words) at BOOT_INFO_PA, with -device loader. */
#define INITRD_PA 0x48000000ull
#define BOOT_INFO_PA 0x47fff000ull

/* A table of zeros: TTBR0 when no process runs. */
static uint64_t empty_table[512] __attribute__((aligned(4096)));
/* Slot s runs with ASID s + 1: the table each has held since its flush. */
static uint64_t asid_root[MAX_PROCS];
uint64_t cur_kstack_top;              /* entry.S: where a return to EL0 builds its frame */

/* ---- memset and memcpy ---- */

/* 16 bytes a step (ldp/stp) where both ends allow it: pages are copied and
 * zeroed all the time.  The attribute keeps GCC from turning the loops
 * back into calls to memset and memcpy. */
#define NO_LOOP_CALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
typedef unsigned __int128 u128;

NO_LOOP_CALLS void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;

	if (!c && !(((uintptr_t)d | n) & 15)) {
		for (u128 *w = (u128 *)d; n; n -= 16)
			*w++ = 0;
		return dst;
	}
	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

NO_LOOP_CALLS void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (!(((uintptr_t)d | (uintptr_t)s | n) & 15)) {
		u128 *wd = (u128 *)d;
		const u128 *ws = (const u128 *)s;
		for (; n; n -= 16)
			*wd++ = *ws++;
		return dst;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

/* ---- console and exit ---- */

void arch_putc(char c)
{
	pl011_putc((uintptr_t)(KOFF + UART_PA), c);
}

_Noreturn void arch_exit(unsigned status)
{
	semihosting_exit(status);
	kprintf("[kernel] PANIC: semihosting is off (QEMU needs -semihosting-config "
		"enable=on,target=native)\n");
	for (;;)
		__asm__ volatile("wfi");
}

/* ---- MMU ---- */

static uint64_t ttbr0(uint64_t root, unsigned asid)
{
	return root | ((uint64_t)asid << 48);
}

/* The console stays reachable at KOFF + UART_PA, then the kernel table
 * replaces the boot tables (entry.S) in TTBR1. */
void arch_use_kernel_table(struct pt_table *kernel)
{
	const struct pt_prop dev = { .flags = PT_R | PT_W | PT_G, .cache = PT_CACHE_UC };
	int err = pt_map(kernel, KOFF + UART_PA, UART_PA, PAGE, dev);

	if (err)
		panic("uart mapping: %s", pt_strerror(err));
	dsb(ishst);
	sysreg_write(ttbr1_el1, pt_table_root(kernel));
	sysreg_write(ttbr0_el1, ttbr0(kva_to_pa(empty_table), 0));
	isb();
	__asm__ volatile("tlbi vmalle1" : : : "memory");
	dsb(nsh);
	isb();
}

/* A slot's ASID may hold another table's entries: flushed when it changes
 * tables, so switching between processes needs no flush at all. */
void arch_load_user(uint64_t root, unsigned slot)
{
	unsigned asid = slot + 1;

	if (!root) {
		sysreg_write(ttbr0_el1, ttbr0(kva_to_pa(empty_table), 0));
		isb();
		return;
	}
	if (asid_root[slot] != root) {
		dsb(ishst);
		__asm__ volatile("tlbi aside1, %0" : : "r"((uint64_t)asid << 48) : "memory");
		dsb(nsh);
		asid_root[slot] = root;
	}
	sysreg_write(ttbr0_el1, ttbr0(root, asid));
	isb();
}

void arch_enter_proc(struct uregs *u, uint64_t kstack_top, uint64_t root, unsigned slot)
{
	(void)u; /* the return to EL0 loads it */
	cur_kstack_top = kstack_top;
	arch_load_user(root, slot);
}

/* Past this many pages, one flush of the ASID is cheaper. */
#define INVALIDATE_ALL_PAGES 64

static void invalidate_asid(const struct pt_flush_info *info, uint64_t asid)
{
	uint64_t pages = 0;

	for (size_t i = 0; i < info->nr_ranges; i++)
		pages += info->ranges[i].len >> 12;
	if (info->all || pages > INVALIDATE_ALL_PAGES) {
		__asm__ volatile("tlbi aside1, %0" : : "r"(asid << 48) : "memory");
		return;
	}
	for (size_t i = 0; i < info->nr_ranges; i++) {
		for (uint64_t k = 0; k < info->ranges[i].len >> 12; k++) {
			uint64_t arg = (asid << 48) | ((info->ranges[i].va >> 12) + k);
			if (info->nodes_removed)
				__asm__ volatile("tlbi vae1, %0" : : "r"(arg) : "memory");
			else
				__asm__ volatile("tlbi vale1, %0" : : "r"(arg) : "memory");
		}
	}
}

/* A user table's entries can only be cached under the ASID of a slot
 * that holds it; the kernel table's (global) ones under any. */
void arch_invalidate(const struct pt_flush_info *info)
{
	dsb(ishst); /* the table writes reach the walker first */
	if (info->root_pa == pt_table_root(kernel_table)) {
		__asm__ volatile("tlbi vmalle1" : : : "memory");
	} else {
		for (unsigned s = 0; s < MAX_PROCS; s++)
			if (asid_root[s] == info->root_pa)
				invalidate_asid(info, s + 1);
	}
	dsb(nsh);
	isb();
}

/* ---- processes ---- */

extern char fork_child_start[];

/* The first switch_to restores x19-x30 (zeros, and x30) and returns to
 * fork_child_start, which goes to EL0. */
uint64_t arch_new_kstack(uint64_t top)
{
	uint64_t *ks = (uint64_t *)(uintptr_t)top - 12;

	memset(ks, 0, 12 * sizeof(*ks));
	ks[11] = (uint64_t)(uintptr_t)fork_child_start;
	return (uint64_t)(uintptr_t)ks;
}

/* Clean the data cache to the point of unification, then invalidate the
 * instruction cache, line by line (the sizes from CTR_EL0). */
void arch_sync_icache(const void *kva)
{
	uint64_t ctr = sysreg_read(ctr_el0), start = (uint64_t)(uintptr_t)kva;
	uint64_t dline = 4ull << ((ctr >> 16) & 0xf), iline = 4ull << (ctr & 0xf);

	for (uint64_t a = start; a < start + PAGE; a += dline)
		__asm__ volatile("dc cvau, %0" : : "r"(a) : "memory");
	dsb(ish);
	for (uint64_t a = start; a < start + PAGE; a += iline)
		__asm__ volatile("ic ivau, %0" : : "r"(a) : "memory");
	dsb(ish);
	isb();
}

/* The cycle counter: instructions under -icount. */
uint64_t arch_ticks(void)
{
	return sysreg_read(pmccntr_el0);
}

uint64_t arch_now_ns(void)
{
	uint64_t cnt = sysreg_read(cntvct_el0), frq = sysreg_read(cntfrq_el0);

	return cnt / frq * 1000000000 + cnt % frq * 1000000000 / frq;
}

/* FP and ASIMD, nothing that needs the kernel's help (no CPUID: EL0
 * reads of the ID registers would trap). */
uint64_t arch_hwcap(void)
{
	return 3;
}

long arch_syscall(long nr, const long *a, bool *handled)
{
	(void)nr, (void)a;
	*handled = false;
	return -ENOSYS;
}

/* ---- user registers ---- */

#define PSTATE_EL0T 0
#define PSTATE_NZCV 0xf0000000ull

long arch_syscall_args(struct uregs *u, long a[6])
{
	for (int k = 0; k < 6; k++)
		a[k] = (long)u->x[k];
	u->orig_x0 = u->x[0];
	return (long)u->x[8];
}

void arch_set_return(struct uregs *u, long ret)
{
	u->x[0] = (uint64_t)ret;
}

/* `svc #0` is four bytes; x8 still holds the number. */
void arch_restart(struct uregs *u, long nr)
{
	(void)nr;
	u->pc -= 4;
	u->x[0] = u->orig_x0;
}

void arch_exec_regs(struct uregs *u, uint64_t entry, uint64_t sp)
{
	*u = (struct uregs){ .pc = entry, .sp = sp, .pstate = PSTATE_EL0T };
}

void arch_fork_regs(struct uregs *u, uint64_t newsp)
{
	u->x[0] = 0;
	if (newsp)
		u->sp = newsp;
}

int arch_signal_regs(struct uregs *u, uint64_t handler, uint64_t restorer, uint64_t sp,
		     const uint64_t args[3])
{
	u->pc = handler;
	u->sp = sp;
	u->x[30] = restorer;
	u->x[0] = args[0], u->x[1] = args[1], u->x[2] = args[2];
	return 0;
}

long arch_sigreturn_regs(struct uregs *u, const struct uregs *saved)
{
	uint64_t tls = u->tls;

	*u = *saved;
	u->pstate = (u->pstate & PSTATE_NZCV) | PSTATE_EL0T;
	u->tls = tls;
	return (long)u->x[0];
}

/*
 * glibc leaves the return from a handler to the kernel (Linux's vDSO
 * sigreturn): every program gets a page of code at SIGTRAMP_VA that calls
 * rt_sigreturn.  It is an initramfs-like file, so the page cache maps one
 * frame into every process.
 */
#define SIGTRAMP_VA 0x00007ffffff00000ull /* STACK_TOP: above the stack */
static const uint32_t sigtramp_code[PAGE / 4] __attribute__((aligned(4096))) = {
	0xd2801168, /* mov x8, #139 (rt_sigreturn) */
	0xd4000001, /* svc #0 */
};
static struct inode sigtramp = {
	.type = I_REG, .mode = 0555, .size = PAGE, .refs = 1, .linked = true,
	.ro_data = (const uint8_t *)sigtramp_code, .name = "[sigreturn]",
};
_Static_assert(SIGTRAMP_VA == STACK_TOP, "the trampoline sits right above the stack");

uint64_t arch_sigreturn_trampoline(void)
{
	return SIGTRAMP_VA;
}

int arch_mm_setup(struct mm *mm)
{
	const struct vma v = { .start = SIGTRAMP_VA, .end = SIGTRAMP_VA + PAGE,
			       .prot = PROT_READ | PROT_EXEC, .file = &sigtramp,
			       .foff = 0, .fend = SIGTRAMP_VA + PAGE };
	return mm_add_vma(mm, &v);
}

uint64_t arch_user_pc(const struct uregs *u)
{
	return u->pc;
}

uint64_t arch_user_sp(const struct uregs *u)
{
	return u->sp;
}

/* ---- exceptions ---- */

void arch_frame_from_uregs(struct trap_frame *f);

#define VEC_LOWER_A64_SYNC 8
#define EC_SVC64 0x15
#define EC_IABT_LOWER 0x20
#define EC_DABT_LOWER 0x24
#define EC_PC_ALIGN 0x22
#define EC_SP_ALIGN 0x26
#define ESR_WNR (1u << 6)
#define ESR_CM (1u << 8)

/* The way back to EL0 is vectors.S's: the frame, then eret. */
void arch_frame_from_uregs(struct trap_frame *f)
{
	const struct uregs *u = &cur->uregs;

	memcpy(f->x, u->x, sizeof(f->x));
	f->elr = u->pc;
	f->spsr = u->pstate;
	sysreg_write(sp_el0, u->sp);
	sysreg_write(tpidr_el0, u->tls);
}

static void uregs_from_frame(const struct trap_frame *f)
{
	struct uregs *u = &cur->uregs;

	memcpy(u->x, f->x, sizeof(u->x));
	u->pc = f->elr;
	u->pstate = f->spsr;
	u->sp = sysreg_read(sp_el0);
	u->tls = sysreg_read(tpidr_el0);
}

/* DFSC/IFSC 0b0001LL translation, 0b0011LL permission (0b0010LL, access
 * flag, never happens: ptkit sets AF). */
static void lower_abort(uint64_t esr, uint64_t ec)
{
	uint64_t fsc = esr & 0x3c, far = sysreg_read(far_el1);
	bool write = (esr & ESR_WNR) && !(esr & ESR_CM);

	if (fsc != 0x04 && fsc != 0x0c)
		user_fault(far, FAULT_OTHER, SIGBUS);
	user_fault(far, ec == EC_IABT_LOWER ? FAULT_EXEC : write ? FAULT_WRITE : FAULT_READ,
		   SIGSEGV);
}

void arch_trap(struct trap_frame *f, uint64_t vector)
{
	uint64_t esr = sysreg_read(esr_el1), ec = esr >> 26;

	if (vector != VEC_LOWER_A64_SYNC)
		panic("exception %lu, ESR %#lx, ELR %#lx, FAR %#lx, SPSR %#lx", vector, esr, f->elr,
		      sysreg_read(far_el1), f->spsr);
	uregs_from_frame(f);
	if (ec == EC_SVC64)
		syscall_dispatch();
	else if (ec == EC_IABT_LOWER || ec == EC_DABT_LOWER)
		lower_abort(esr, ec);
	else
		user_fault(sysreg_read(far_el1), FAULT_OTHER,
			   ec == EC_PC_ALIGN || ec == EC_SP_ALIGN ? SIGBUS : SIGILL);
	arch_frame_from_uregs(f);
}

/* ---- boot ---- */

extern char __image_end[];
void arch_main(void);

/* From entry.S, on the boot tables at KOFF.  The initramfs moves down to
 * the end of the image, so ptkit gets all the RAM after both. */
void arch_main(void)
{
	const uint64_t *info = pa_to_kva(BOOT_INFO_PA);
	uint64_t len = info[0], ram_end = RAM_PA + info[1];
	uint8_t *initrd = (uint8_t *)PAGE_UP((uint64_t)(uintptr_t)__image_end);

	/* The cycle counter for arch_ticks. */
	sysreg_write(pmcr_el0, sysreg_read(pmcr_el0) | 1);
	sysreg_write(pmcntenset_el0, 1ull << 31);
	if (!len || kva_to_pa(initrd) + len > BOOT_INFO_PA || ram_end < INITRD_PA + len)
		panic("no initramfs at %#llx (or a too large one): %lu bytes", INITRD_PA, len);
	memmove(initrd, pa_to_kva(INITRD_PA), len);
	kernel_start(RAM_PA, ram_end, PAGE_UP(kva_to_pa(initrd) + len), initrd, len);
}
