/* SPDX-License-Identifier: MPL-2.0 */
/*
 * arch.c - x86-64: serial console, isa-debug-exit, GDT/TSS/IDT, the
 * SYSCALL MSRs, SSE, traps and TLB invalidation (IDT and invalidation
 * adapted from tests/qemu/x86_64/arch.c, whose serial.c, x86_io.h and
 * trap_stubs.S serve this kernel as they are).
 */
#include <stdarg.h>

#include "kernel.h"
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

uint64_t arch_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

void arch_load_cr3(uint64_t root)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(root) : "memory");
}

/* ---- console and exit ---- */

/* isa-debug-exit: QEMU exits with (status << 1) | 1; run.sh undoes it. */
_Noreturn void arch_exit(unsigned status)
{
	outl(DEBUG_EXIT_PORT, status);
	for (;;)
		__asm__ volatile("cli; hlt");
}

_Noreturn void panic(const char *fmt, ...)
{
	va_list ap;

	kprintf("\n[kernel] PANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	arch_exit(255);
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

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));
extern const uint64_t x86_trap_stubs[32], x86_trap_stub_other;
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
		idt[v] = (struct idt_gate){ .off_lo = (uint16_t)h, .sel = 0x08, .type = 0x8e,
					    .off_mid = (uint16_t)(h >> 16),
					    .off_hi = (uint32_t)(h >> 32) };
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

void arch_init(void)
{
	gdt_load();
	idt_load();
	cpu_setup();
	wrmsr(MSR_STAR, (0x10ull << 48) | (0x08ull << 32));
	wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)syscall_entry);
	wrmsr(MSR_FMASK, 0x47700); /* TF, IF, DF, IOPL, NT, AC */
}

void arch_set_fs(uint64_t base)
{
	wrmsr(MSR_FS_BASE, base);
}

void arch_set_kstack(uint64_t top)
{
	tss.rsp0 = top;
	cur_kstack_top = top;
}

void arch_fpu_save(void *area)
{
	__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void arch_fpu_restore(const void *area)
{
	__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

uint64_t arch_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

uint32_t arch_hwcap(void)
{
	uint32_t a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return d;
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
		user_fault(cr2, f->error, f->vector);
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

	if (info->root_pa != arch_cr3())
		return;
	for (size_t i = 0; i < info->nr_ranges; i++)
		pages += info->ranges[i].len >> 12;
	if (info->all || pages > INVLPG_MAX_PAGES) {
		arch_load_cr3(arch_cr3());
		return;
	}
	for (size_t i = 0; i < info->nr_ranges; i++)
		for (uint64_t va = info->ranges[i].va; va < info->ranges[i].va + info->ranges[i].len;
		     va += PAGE)
			__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}
