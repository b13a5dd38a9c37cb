/* SPDX-License-Identifier: MPL-2.0 */
/*
 * main.c - kernel_start (after the architecture's boot): RAM to ptkit, the
 * kernel table, the initramfs, the first process; frames for kernel
 * objects.
 */
#include <stdarg.h>

#include "kernel.h"

struct pt_phys phys;
struct pt_table *kernel_table;
uint64_t frames_before_init;

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

/* Kernel objects are one ptkit frame each (reached through the linear
 * map): what they cost shows in the same free count as everything else. */
void *kalloc(void)
{
	uint64_t pa;

	return pt_frame_alloc(&phys, &pa) ? NULL : pa_to_kva(pa);
}

void kfree(void *p)
{
	if (pt_frame_put(&phys, kva_to_pa(p)))
		panic("kfree of %p", p);
}

static void invalidate(void *arg, const struct pt_flush_info *info)
{
	(void)arg;
	arch_invalidate(info);
}

/* All RAM at KOFF + its address, kernel image included, in ptkit's kernel
 * table (2 MiB leaves); every user table shares it (x86-64) or runs beside
 * it (AArch64 TTBR1). */
static void kernel_space(uint64_t ram_start, uint64_t ram_end, uint64_t pool_pa)
{
	const struct pt_platform platform = { .invalidate = invalidate };
	/* Global: the same in every address space (AArch64's TLB keeps one
	 * copy, not one per ASID; x86-64 ignores G without CR4.PGE). */
	const struct pt_prop rwx = { .flags = PT_R | PT_W | PT_X | PT_G, .cache = PT_CACHE_WB };
	uint64_t len = ((ram_end - ram_start) + (2 << 20) - 1) & ~((2ull << 20) - 1);
	int err = pt_phys_init(&phys, pool_pa, ram_end - pool_pa, KOFF, &platform);

	if (err || (err = pt_table_create(&phys, &ARCH_PT_FORMAT, PT_SPACE_KERNEL, &kernel_table)) ||
	    (err = pt_map(kernel_table, KOFF + ram_start, ram_start, len, rwx)))
		panic("kernel table: %s", pt_strerror(err));
	arch_use_kernel_table(kernel_table);
}

/* Called by the architecture's boot code: RAM is [ram_start, ram_end),
 * ptkit gets it from pool_pa on (after the image and the initramfs). */
void kernel_start(uint64_t ram_start, uint64_t ram_end, uint64_t pool_pa, const void *initrd,
		  uint64_t initrd_len)
{
	kernel_space(ram_start, ram_end, pool_pa);
	kprintf("[kernel] ptkit example kernel (%s): RAM up to %#lx, initramfs %lu KiB, "
		"%lu frames free\n", ARCH_NAME, ram_end, initrd_len >> 10,
		pt_phys_free_frames(&phys));
	fs_init(initrd, initrd_len);
	frames_before_init = pt_phys_free_frames(&phys);
	proc_start_init("/init.sh");
}
