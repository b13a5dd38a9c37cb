/* SPDX-License-Identifier: MPL-2.0 */
/*
 * arch.c - x86-64: Multiboot, isa-debug-exit, GDT/TSS/IDT, the SYSCALL
 * MSRs, SSE, traps, the user registers and TLB invalidation (IDT and
 * invalidation adapted from tests/qemu/x86_64/arch.c, whose serial.c,
 * x86_io.h and trap_stubs.S serve this kernel as they are).
 */
#include "kernel.h"
#include "idt.h"
#include "x86_io.h"

#define MSR_FS_BASE 0xc0000100
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_FMASK 0xc0000084

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

#define USER_CS 0x23
#define USER_SS 0x1b

/* entry.S: the current process's register save area and kernel stack. */
extern struct uregs *cur_uregs;
extern uint64_t cur_uregs_end, cur_kstack_top;
extern char fork_child_start[];
_Noreturn void ret_to_user_iret(void);

static uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static void write_cr3(uint64_t root)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(root) : "memory");
}

/* ---- memset and memcpy ---- */

/* rep stosb / movsb: TCG runs them as one fast helper, where a byte loop
 * costs an emulated instruction per byte. */
void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

/* ---- console and exit ---- */

/* isa-debug-exit: QEMU exits with (status << 1) | 1; run.sh undoes it. */
_Noreturn void arch_exit(unsigned status)
{
	outl(DEBUG_EXIT_PORT, status);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- descriptors ---- */

/* SYSRET takes CS = STAR[63:48] + 16 and SS = STAR[63:48] + 8: user data
 * must sit right below user code. */
struct tss {
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2, reserved1, ist[7], reserved2;
	uint16_t reserved3, iomap;
} __attribute__((packed));

static struct tss tss = { .iomap = sizeof(struct tss) };
static uint64_t gdt[7] = {
	0,
	0x00af9a000000ffffull, /* 0x08 kernel code */
	0x00cf92000000ffffull, /* 0x10 kernel data */
	0x00cff2000000ffffull, /* 0x18 user data (0x1b) */
	0x00affa000000ffffull, /* 0x20 user code (0x23) */
	0, 0,                  /* 0x28 TSS, 16 bytes */
};

static struct idt_gate idt[256] __attribute__((aligned(16)));
extern char syscall_entry[];

struct __attribute__((packed)) dtr {
	uint16_t limit;
	uint64_t base;
};

static void gdt_load(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	struct dtr d = { sizeof(gdt) - 1, (uintptr_t)gdt };

	gdt[5] = (sizeof(tss) - 1) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 (((base >> 24) & 0xff) << 56);
	gdt[6] = base >> 32;
	__asm__ volatile("lgdt %0" : : "m"(d));
	__asm__ volatile("mov %0, %%ds; mov %0, %%es; mov %0, %%ss" : : "r"(0x10));
	__asm__ volatile("ltr %w0" : : "r"(0x28));
}

static void idt_load(void)
{
	struct dtr d = { sizeof(idt) - 1, (uintptr_t)idt };

	for (unsigned v = 0; v < 256; v++) {
		uint64_t h = v < 32 ? x86_trap_stubs[v] : x86_trap_stub_other;
		idt[v] = idt_gate(h);
	}
	__asm__ volatile("lidt %0" : : "m"(d));
}

/* SSE for user code (the kernel is built -mgeneral-regs-only); the legacy
 * PICs masked: no interrupt ever arrives, scheduling is cooperative. */
static void cpu_setup(void)
{
	uint64_t cr0, cr4;

	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 = (cr0 & ~(1ull << 2)) | (1ull << 1);
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= (1ull << 9) | (1ull << 10);
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	__asm__ volatile("fninit");
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

static void arch_init(void)
{
	gdt_load();
	idt_load();
	cpu_setup();
	wrmsr(MSR_STAR, (0x10ull << 48) | (0x08ull << 32));
	wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)syscall_entry);
	wrmsr(MSR_FMASK, 0x47700); /* TF, IF, DF, IOPL, NT, AC */
}

void arch_use_kernel_table(struct pt_table *kernel)
{
	write_cr3(pt_table_root(kernel));
}

/* No PCID: every table is loaded by a CR3 write, which flushes the TLB. */
void arch_load_user(uint64_t root, unsigned slot)
{
	(void)slot;
	write_cr3(root ? root : pt_table_root(kernel_table));
}

/* The syscall entry pushes into u; traps and syscalls switch to the
 * kernel stack; FS is the process's TLS. */
void arch_enter_proc(struct uregs *u, uint64_t kstack_top, uint64_t root, unsigned slot)
{
	cur_uregs = u;
	cur_uregs_end = (uint64_t)(uintptr_t)&u->tls;
	tss.rsp0 = kstack_top;
	cur_kstack_top = kstack_top;
	arch_load_user(root, slot);
	wrmsr(MSR_FS_BASE, u->tls);
}

/* The first switch_to pops six registers, then returns to user mode. */
uint64_t arch_new_kstack(uint64_t top)
{
	uint64_t *ks = (uint64_t *)(uintptr_t)top;

	*--ks = (uint64_t)(uintptr_t)fork_child_start;
	for (int k = 0; k < 6; k++)
		*--ks = 0;
	return (uint64_t)(uintptr_t)ks;
}

/* x86 keeps instruction fetches coherent with stores. */
void arch_sync_icache(const void *kva)
{
	(void)kva;
}

void arch_fpu_save(void *area)
{
	__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void arch_fpu_restore(const void *area)
{
	__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

uint64_t arch_ticks(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* TCG's TSC follows the host clock at about 1 GHz. */
uint64_t arch_now_ns(void)
{
	return arch_ticks();
}

uint64_t arch_hwcap(void)
{
	uint32_t a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return d;
}

/* ---- user registers ---- */

long arch_syscall_args(struct uregs *u, long a[6])
{
	a[0] = (long)u->rdi, a[1] = (long)u->rsi, a[2] = (long)u->rdx;
	a[3] = (long)u->r10, a[4] = (long)u->r8, a[5] = (long)u->r9;
	return (long)u->rax;
}

void arch_set_return(struct uregs *u, long ret)
{
	u->rax = (uint64_t)ret;
}

/* `syscall` is two bytes long. */
void arch_restart(struct uregs *u, long nr)
{
	u->rip -= 2;
	u->rax = (uint64_t)nr;
}

void arch_exec_regs(struct uregs *u, uint64_t entry, uint64_t sp)
{
	*u = (struct uregs){ .rip = entry, .rsp = sp, .rflags = 0x202, .cs = USER_CS,
			     .ss = USER_SS };
	wrmsr(MSR_FS_BASE, 0);
}

void arch_fork_regs(struct uregs *u, uint64_t newsp)
{
	u->rax = 0;
	if (newsp)
		u->rsp = newsp;
}

/* The handler returns to the restorer, pushed like a return address. */
int arch_signal_regs(struct uregs *u, uint64_t handler, uint64_t restorer, uint64_t sp,
		     const uint64_t args[3])
{
	sp -= 8;
	if (mm_copy_to(cur->mm, sp, &restorer, 8))
		return -EFAULT;
	u->rip = handler;
	u->rsp = sp;
	u->rdi = args[0], u->rsi = args[1], u->rdx = args[2];
	u->rax = 0;
	return 0;
}

long arch_sigreturn_regs(struct uregs *u, const struct uregs *saved)
{
	uint64_t tls = u->tls;

	*u = *saved;
	u->cs = USER_CS;
	u->ss = USER_SS;
	u->rflags = (u->rflags & 0xcd5) | 0x202;
	u->tls = tls;
	return (long)u->rax;
}

/* glibc always gives a restorer. */
uint64_t arch_sigreturn_trampoline(void)
{
	return 0;
}

int arch_mm_setup(struct mm *mm)
{
	(void)mm;
	return 0;
}

uint64_t arch_user_pc(const struct uregs *u)
{
	return u->rip;
}

uint64_t arch_user_sp(const struct uregs *u)
{
	return u->rsp;
}

static long sys_arch_prctl(long code, uint64_t addr)
{
	if (code == 0x1002) { /* ARCH_SET_FS */
		if (addr >= USER_TOP)
			return -EPERM;
		cur->uregs.tls = addr;
		wrmsr(MSR_FS_BASE, addr);
		return 0;
	}
	if (code == 0x1003) /* ARCH_GET_FS */
		return mm_copy_to(cur->mm, addr, &cur->uregs.tls, 8) ? -EFAULT : 0;
	return -EINVAL;
}

long arch_syscall(long nr, const long *a, bool *handled)
{
	*handled = nr == SYS_arch_prctl;
	return *handled ? sys_arch_prctl(a[0], (uint64_t)a[1]) : -ENOSYS;
}

/* ---- traps ---- */

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

void x86_trap(struct trap_frame *f);

/* A trap from user mode: the registers become the process's, the fault is
 * served (or the process dies), and the process resumes by iretq. */
void x86_trap(struct trap_frame *f)
{
	uint64_t cr2 = read_cr2();

	if ((f->cs & 3) == 3) {
		struct uregs *u = cur_uregs;
		memcpy(u, f, 15 * sizeof(uint64_t));
		u->rip = f->rip;
		u->cs = f->cs;
		u->rflags = f->rflags;
		u->rsp = f->rsp;
		u->ss = f->ss;
		if (f->vector != 14) /* does not return */
			user_fault(cr2, FAULT_OTHER, f->vector == 13 ? SIGSEGV
						   : f->vector == 6 ? SIGILL : SIGFPE);
		user_fault(cr2, (f->error & 16) ? FAULT_EXEC : (f->error & 2) ? FAULT_WRITE
					: FAULT_READ, SIGSEGV);
		ret_to_user_iret();
	}
	panic("kernel trap %lu, error %#lx, rip %#lx, cr2 %#lx, rsp %#lx", f->vector, f->error,
	      f->rip, cr2, f->rsp);
}

/* ---- TLB ---- */

#define INVLPG_MAX_PAGES 32

/* Only the loaded table's entries can be cached: any other table is loaded
 * later by a CR3 write, which flushes them (no PCID, no global pages). */
void arch_invalidate(const struct pt_flush_info *info)
{
	uint64_t pages = 0;

	if (info->root_pa != read_cr3())
		return;
	for (size_t i = 0; i < info->nr_ranges; i++)
		pages += info->ranges[i].len >> 12;
	if (info->all || pages > INVLPG_MAX_PAGES) {
		write_cr3(read_cr3());
		return;
	}
	for (size_t i = 0; i < info->nr_ranges; i++)
		for (uint64_t va = info->ranges[i].va; va < info->ranges[i].va + info->ranges[i].len;
		     va += PAGE)
			__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* ---- boot ---- */

extern char __image_end[];
void kernel_main(uint32_t mbi_pa);

/* From entry.S, paging on: the Multiboot information gives the RAM size
 * and the initramfs (a module); ptkit gets the RAM after both. */
void kernel_main(uint32_t mbi_pa)
{
	const uint32_t *mbi = pa_to_kva(mbi_pa);

	arch_init();
	if (!(mbi[0] & 1) || !(mbi[0] & 8) || mbi[5] < 1)
		panic("no memory information or no initramfs module from the boot loader");
	const uint32_t *mod = pa_to_kva(mbi[6]);
	uint64_t ram_end = PAGE_DOWN((1024ull + mbi[2]) * 1024);
	uint64_t pool = MAX(MAX(kva_to_pa(__image_end), (uint64_t)mod[1]),
			    MAX((uint64_t)mbi_pa, (uint64_t)mbi[6]) + PAGE);
	kernel_start(0, ram_end, PAGE_UP(pool) + PAGE, pa_to_kva(mod[0]), mod[1] - mod[0]);
}
