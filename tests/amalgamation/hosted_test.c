/* SPDX-License-Identifier: MPL-2.0 */
/*
 * hosted_test.c - the amalgamation (issue #17) works hosted: built from
 * ptkit.c + ptkit.h only (no include/, no src/ on the include path), every
 * format instance of the one translation unit maps, queries, unmaps and
 * checks on its own table.  Each format maps at the top of its own user
 * half, so an instance that used another format's levels or VA width would
 * fail (Sv39's top is out of range for the others' walks and vice versa).
 */
#include "ptkit.h"

#include <stdio.h>

static const struct pt_format *const formats[] = {
	&pt_format_x86_64, &pt_format_x86_64_la57, &pt_format_riscv_sv39,
	&pt_format_riscv_sv48, &pt_format_aarch64_4k, &pt_format_riscv_sv39x4,
	&pt_format_riscv_sv48x4, &pt_format_aarch64_s2_4k, &pt_format_x86_ept,
	&pt_format_x86_ept5,
};

#define FAIL(fmt, what, err)                                                     \
	do {                                                                     \
		fprintf(stderr, "%s: %s: %s\n", (fmt)->name, what, pt_strerror(err)); \
		return 1;                                                        \
	} while (0)

static int one_format(struct pt_phys *ram, const struct pt_format *fmt)
{
	const struct pt_prop rw = { PT_R | PT_W, PT_CACHE_WB };
	const uint64_t huge = 0x200000, page = 0x1000;
	/* the last 2 MiB of the user half, and one page below it */
	const uint64_t va = fmt->user_end - huge, va4k = va - page;
	struct pt_table *t;
	struct pt_mapping m;
	char why[200];
	int err;

	if ((err = pt_table_create(ram, fmt, PT_SPACE_USER, &t)))
		FAIL(fmt, "pt_table_create", err);
	if (pt_table_format(t) != fmt)
		FAIL(fmt, "pt_table_format", 0);
	if ((err = pt_map(t, va, 0x400000, huge, rw)))
		FAIL(fmt, "pt_map 2M", err);
	if ((err = pt_map(t, va4k, 0x7000, page, rw)))
		FAIL(fmt, "pt_map 4K", err);
	if ((err = pt_query(t, va + 0x1234, &m)))
		FAIL(fmt, "pt_query 2M", err);
	if (m.va != va || m.pa != 0x400000 || m.size != huge)
		FAIL(fmt, "pt_query 2M: wrong mapping", 0);
	if ((err = pt_query(t, va4k + 8, &m)))
		FAIL(fmt, "pt_query 4K", err);
	if (m.va != va4k || m.pa != 0x7000 || m.size != page)
		FAIL(fmt, "pt_query 4K: wrong mapping", 0);
	/* the same VA one level above the top of this format's walk */
	if (pt_map(t, fmt->user_end, 0, page, rw) == 0)
		FAIL(fmt, "pt_map past user_end succeeded", 0);
	if ((err = pt_check(t, why, sizeof(why)))) {
		fprintf(stderr, "%s: pt_check: %s\n", fmt->name, why);
		return 1;
	}
	if ((err = pt_unmap(t, va4k, page + huge, NULL)))
		FAIL(fmt, "pt_unmap", err);
	if (pt_query(t, va, &m) == 0 || pt_query(t, va4k, &m) == 0)
		FAIL(fmt, "still mapped after pt_unmap", 0);
	if ((err = pt_check(t, why, sizeof(why)))) {
		fprintf(stderr, "%s: pt_check after unmap: %s\n", fmt->name, why);
		return 1;
	}
	if ((err = pt_table_destroy(t)))
		FAIL(fmt, "pt_table_destroy", err);
	printf("  %-12s levels %u, va_bits %u: ok\n", fmt->name, fmt->levels, fmt->va_bits);
	return 0;
}

int main(void)
{
	struct pt_phys *ram;
	uint64_t free_before;
	int err;

	if ((err = pt_phys_create(64 << 20, &ram))) {
		fprintf(stderr, "pt_phys_create: %s\n", pt_strerror(err));
		return 1;
	}
	free_before = pt_phys_free_frames(ram);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (one_format(ram, formats[i]))
			return 1;
	pt_phys_barrier(ram);
	if (pt_phys_free_frames(ram) != free_before) {
		fprintf(stderr, "frames leaked: %llu free, %llu before\n",
			(unsigned long long)pt_phys_free_frames(ram),
			(unsigned long long)free_before);
		return 1;
	}
	pt_phys_destroy(ram);
	puts("amalgamation (hosted): 5 formats map, query, unmap and check");
	return 0;
}
