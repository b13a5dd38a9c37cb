/* SPDX-License-Identifier: MPL-2.0 */
/*
 * main.c - kernel_main: RAM to ptkit, the kernel table, the initramfs, the
 * first process; frames for kernel objects.
 */
#include "kernel.h"

struct pt_phys phys;
struct pt_table *kernel_table;
uint64_t frames_before_init;

extern char __image_end[];
void kernel_main(uint32_t mbi_pa);

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

/* All RAM at KOFF, kernel image included, in ptkit's kernel table; every
 * user table shares it. */
static void kernel_space(uint64_t pool_pa, uint64_t ram_end)
{
	const struct pt_platform platform = { .invalidate = invalidate };
	const struct pt_prop rwx = { .flags = PT_R | PT_W | PT_X, .cache = PT_CACHE_WB };
	int err = pt_phys_init(&phys, pool_pa, ram_end - pool_pa, KOFF, &platform);

	if (err || (err = pt_table_create(&phys, &pt_format_x86_64, PT_SPACE_KERNEL, &kernel_table)) ||
	    (err = pt_map(kernel_table, KOFF, 0, (ram_end + (2 << 20) - 1) & ~((2ull << 20) - 1), rwx)))
		panic("kernel table: %s", pt_strerror(err));
	arch_load_cr3(pt_table_root(kernel_table));
}

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
	pool = PAGE_UP(pool) + PAGE;
	kernel_space(pool, ram_end);
	kprintf("[kernel] ptkit example kernel: RAM up to %#lx, initramfs %lu KiB, "
		"%lu frames free\n", ram_end, (uint64_t)(mod[1] - mod[0]) >> 10,
		pt_phys_free_frames(&phys));
	fs_init(pa_to_kva(mod[0]), mod[1] - mod[0]);
	frames_before_init = pt_phys_free_frames(&phys);
	proc_start_init("/init.sh");
}
