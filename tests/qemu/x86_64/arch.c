/* SPDX-License-Identifier: MPL-2.0 */
/*
 * arch.c - the x86-64 layer of the QEMU test kernel (tests/qemu/common/arch.h).
 *
 * COM1 polled, isa-debug-exit for the result, an IDT whose page-fault
 * handler serves the probes of boot.S (every other trap prints the
 * registers and fails the run), CR3 loads and INVLPG.
 *
 * Built twice: 4-level paging (pt_format_x86_64) and, with
 * -DPTKIT_QEMU_LA57, 5-level paging (pt_format_x86_64_la57; boot.S then
 * sets CR4.LA57).
 */
#include "arch.h"
#include "idt.h"
#include "kprintf.h"
#include "x86_io.h"

#ifdef PTKIT_QEMU_LA57
#define FORMAT (&pt_format_x86_64_la57)
#define NAME "x86-64, 5-level paging (LA57)"
#else
#define FORMAT (&pt_format_x86_64)
#define NAME "x86-64, 4-level paging"
#endif

#ifndef PTKIT_QEMU_RAM_MB
#define PTKIT_QEMU_RAM_MB 256 /* QEMU's -m (tests/qemu/x86_64/CMakeLists.txt) */
#endif

extern char __image_start[], __image_end[];

const struct arch_desc arch = {
	.name = NAME,
	.fmt = FORMAT,
	.features = 0, /* the PAT stays as at reset */
	.image_start = (uint64_t)(uintptr_t)__image_start,
	.image_end = (uint64_t)(uintptr_t)__image_end,
	.ram_end = (uint64_t)PTKIT_QEMU_RAM_MB << 20,
	.uart_pa = 0, /* port I/O: nothing to map */
	.uart_len = 0,
	.has_1g = true, /* -cpu ...,+pdpe1gb; checked in arch_trap_init */
	.gig_pa = 0,
	.split_running_code = true,
	.shared_kernel_root = true,
};

/* ---- control registers ----------------------------------------------------- */

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

/* ---- console and exit ------------------------------------------------------- */

/* isa-debug-exit: QEMU exits with status (value << 1) | 1, so 1 is a pass
 * and 3 a failure (run_qemu.sh --pass-status 1). */
_Noreturn void arch_exit(bool pass)
{
	outl(DEBUG_EXIT_PORT, pass ? 0 : 1);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- traps ------------------------------------------------------------------ */

struct x86_trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

struct x86_probe {
	uint64_t insn, fixup;
};

extern const struct x86_probe x86_probe_table[], x86_probe_table_end[];
extern char x86_probe_exec_ret[], x86_probe_exec_fixup[];
int x86_probe_read(uint64_t va, uint64_t *out);
int x86_probe_write(uint64_t va, uint64_t val);
int x86_probe_exec(uint64_t va);
void x86_trap(struct x86_trap_frame *f);

static struct idt_gate idt[256] __attribute__((aligned(16)));

#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_RSVD (1u << 3)
#define PF_I (1u << 4)

static const char *const vector_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD (ptkit assertion?)", "#NM",
	"#DF", "-", "#TS", "#NP", "#SS", "#GP", "#PF", "-", "#MF", "#AC", "#MC",
	"#XM", "#VE", "#CP",
};

void x86_trap(struct x86_trap_frame *f)
{
	uint64_t cr2 = read_cr2();

	/* A reserved bit in a PTE is a bug in ptkit's encoding, never an
	 * expected fault: it falls through to the report. */
	if (f->vector == 14 && !(f->error & PF_RSVD)) {
		for (const struct x86_probe *p = x86_probe_table; p < x86_probe_table_end; p++) {
			/* The probe's access is at rdi: a fault elsewhere is
			 * not the one the probe asked about. */
			if (f->rip == p->insn && (cr2 >> 12) == (f->rdi >> 12)) {
				f->rip = p->fixup;
				return;
			}
		}
		if ((f->error & PF_I) && f->rip == cr2 &&
		    *(const uint64_t *)(uintptr_t)f->rsp == (uintptr_t)x86_probe_exec_ret) {
			f->rsp += 8; /* the call's return address */
			f->rip = (uintptr_t)x86_probe_exec_fixup;
			return;
		}
	}
	kprintf("\nFAIL trap: unexpected vector %lu %s, error code %#lx, rip %#lx, cr2 %#lx, "
		"rsp %#lx, cr3 %#lx\n",
		f->vector, f->vector < 32 && vector_names[f->vector] ? vector_names[f->vector] : "",
		f->error, f->rip, cr2, f->rsp, read_cr3());
	kprintf("rax %#lx rbx %#lx rcx %#lx rdx %#lx rsi %#lx rdi %#lx rbp %#lx\n", f->rax,
		f->rbx, f->rcx, f->rdx, f->rsi, f->rdi, f->rbp);
	kprintf("RESULT pass=0 fail=1 skip=0 (aborted)\n");
	arch_exit(false);
}

static void set_gate(unsigned vec, uint64_t handler)
{
	idt[vec] = idt_gate(handler);
}

void arch_trap_init(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = { sizeof(idt) - 1, (uintptr_t)idt };
	uint32_t r[4];

	for (unsigned v = 0; v < 256; v++)
		set_gate(v, v < 32 ? x86_trap_stubs[v] : x86_trap_stub_other);
	__asm__ volatile("lidt %0" : : "m"(idtr));

	/* What the run relies on; without it the checks would fail obscurely. */
	cpuid(0x80000001, 0, r);
	if (!(r[3] & (1u << 20)))
		kprintf("warning: the CPU has no NX (EFER.NXE would not stick)\n");
	if (!(r[3] & (1u << 26)))
		kprintf("warning: the CPU has no 1 GiB pages (start QEMU with -cpu ...,+pdpe1gb)\n");
#ifdef PTKIT_QEMU_LA57
	if (!(read_cr4() & (1u << 12)))
		kprintf("warning: CR4.LA57 is clear: not running 5-level paging\n");
#endif
	kprintf("\nx86-64: CR4.LA57=%lu, boot CR3 %#lx\n", (read_cr4() >> 12) & 1, read_cr3());
}

/* ---- probes ----------------------------------------------------------------- */

int arch_probe_read(uint64_t va, uint64_t *out)
{
	return x86_probe_read(va, out);
}

int arch_probe_write(uint64_t va, uint64_t val)
{
	return x86_probe_write(va, val);
}

int arch_probe_exec(uint64_t va)
{
	return x86_probe_exec(va);
}

void arch_put_return(void *code)
{
	uint32_t r[4];

	*(volatile uint8_t *)code = 0xc3; /* ret */
	cpuid(0, 0, r); /* serializing, as the SDM asks before running new code */
}

/* ---- the MMU ---------------------------------------------------------------- */

void arch_activate(const struct pt_table *user, const struct pt_table *kernel)
{
	(void)kernel; /* the user table shares the kernel half's nodes */
	write_cr3(pt_table_root(user)); /* no PCID, no global pages: flushes all */
}

/* Past this many pages one CR3 reload is cheaper than INVLPG each. */
#define INVLPG_MAX_PAGES 64

static uint64_t pages_of(const struct pt_flush_range *r)
{
	return (r->len >> 12) + ((r->va & 0xfff) + (r->len & 0xfff) + 0xfff) / 0x1000;
}

/*
 * INVLPG drops the TLB entries of the page holding the address, whatever its
 * size, and the paging-structure caches used to translate it, so one per
 * 4 KiB page of every range is enough even when nodes were removed.
 */
void arch_invalidate(const struct pt_flush_info *info)
{
	uint64_t pages = 0;

	for (size_t i = 0; i < info->nr_ranges && pages <= INVLPG_MAX_PAGES; i++)
		pages += pages_of(&info->ranges[i]);
	if (info->all || pages > INVLPG_MAX_PAGES) {
		write_cr3(read_cr3());
		return;
	}
	for (size_t i = 0; i < info->nr_ranges; i++) {
		uint64_t va = info->ranges[i].va & ~0xfffull;
		for (uint64_t n = pages_of(&info->ranges[i]); n; n--, va += 0x1000)
			__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
	}
}
