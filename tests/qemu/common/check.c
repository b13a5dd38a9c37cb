/* SPDX-License-Identifier: MPL-2.0 */
/*
 * check.c - results and probes of the QEMU test programs (check.h).
 */
#include <stdarg.h>

#include "arch.h"
#include "check.h"
#include "kprintf.h"

enum { ST_PASS, ST_FAIL, ST_SKIP };
static int state;
static char why[256];
static unsigned n_pass, n_fail, n_skip;

void fail(const char *fmt, ...)
{
	va_list ap;

	if (state != ST_PASS)
		return; /* keep the first reason */
	state = ST_FAIL;
	va_start(ap, fmt);
	kvsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
}

void skip(const char *fmt, ...)
{
	va_list ap;

	state = ST_SKIP;
	va_start(ap, fmt);
	kvsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
}

void run(const char *name, void (*check)(void))
{
	state = ST_PASS;
	why[0] = '\0';
	check();
	switch (state) {
	case ST_PASS:
		n_pass++;
		kprintf("PASS %s\n", name);
		break;
	case ST_FAIL:
		n_fail++;
		kprintf("FAIL %s: %s\n", name, why);
		break;
	default:
		n_skip++;
		kprintf("SKIP %s: %s\n", name, why);
		break;
	}
}

void carve_ram(uint64_t *img_lo, uint64_t *img_hi, uint64_t *scratch_pa, uint64_t *pool_pa,
	       uint64_t *pool_len)
{
	const uint64_t pool_min = UINT64_C(4) << 20;

	*img_lo = arch.image_start & ~(SZ_2M - 1);
	*img_hi = (arch.image_end + SZ_2M - 1) & ~(SZ_2M - 1);
	*scratch_pa = *img_hi;
	*pool_pa = *scratch_pa + SCRATCH_LEN;
	if (*pool_pa + pool_min > arch.ram_end)
		setup_failed("not enough RAM after the image");
	*pool_len = arch.ram_end - *pool_pa;
	if (*pool_len > POOL_MAX)
		*pool_len = POOL_MAX;
	*pool_len &= ~(SZ_2M - 1);
	kprintf("image [%#lx, %#lx) rounded out to [%#lx, %#lx), scratch [%#lx, %#lx), "
		"pool [%#lx, %#lx), RAM ends at %#lx\n",
		arch.image_start, arch.image_end, *img_lo, *img_hi, *scratch_pa,
		*scratch_pa + SCRATCH_LEN, *pool_pa, *pool_pa + *pool_len, arch.ram_end);
}

bool ok_(int err, const char *what)
{
	if (err)
		fail("%s: %s", what, pt_strerror(err));
	return err == 0;
}

bool read_ok(uint64_t va, uint64_t *val, const char *what)
{
	if (arch_probe_read(va, val)) {
		fail("read of %s (va %#lx) faulted", what, va);
		return false;
	}
	return true;
}

bool read_is(uint64_t va, uint64_t want, const char *what)
{
	uint64_t got;

	if (!read_ok(va, &got, what))
		return false;
	if (got != want) {
		fail("read of %s (va %#lx) gave %#lx, expected %#lx", what, va, got, want);
		return false;
	}
	return true;
}

bool write_ok(uint64_t va, uint64_t val, const char *what)
{
	if (arch_probe_write(va, val)) {
		fail("write to %s (va %#lx) faulted", what, va);
		return false;
	}
	return true;
}

bool read_faults(uint64_t va, const char *what)
{
	uint64_t got;

	if (!arch_probe_read(va, &got)) {
		fail("read of %s (va %#lx) did not fault (it read %#lx)", what, va, got);
		return false;
	}
	return true;
}

bool write_faults(uint64_t va, uint64_t val, const char *what)
{
	if (!arch_probe_write(va, val)) {
		fail("write to %s (va %#lx) did not fault", what, va);
		return false;
	}
	return true;
}

bool query_is(struct pt_table *t, uint64_t va, uint64_t size,
		     struct pt_mapping *m, const char *what)
{
	int err = pt_query(t, va, m);

	if (err) {
		fail("pt_query(%s, %#lx): %s", what, va, pt_strerror(err));
		return false;
	}
	if (size && m->size != size) {
		fail("pt_query(%s, %#lx): a leaf of %#lx bytes, expected %#lx", what, va,
		     m->size, size);
		return false;
	}
	return true;
}

_Noreturn void finish(void)
{
	kprintf("RESULT pass=%u fail=%u skip=%u\n", n_pass, n_fail, n_skip);
	arch_exit(n_fail == 0 && n_pass > 0);
}

_Noreturn void setup_failed(const char *what)
{
	kprintf("FAIL setup: %s\n", what);
	n_fail++;
	finish();
}

static uint64_t test_frames[16];
static unsigned nr_test_frames;

bool alloc_frame(struct pt_phys *phys, uint64_t *pa)
{
	if (nr_test_frames == sizeof(test_frames) / sizeof(test_frames[0])) {
		fail("test_frames[] is full");
		return false;
	}
	if (!OK(pt_frame_alloc(phys, pa)))
		return false;
	test_frames[nr_test_frames++] = *pa;
	return true;
}

bool put_test_frames(struct pt_phys *phys)
{
	for (unsigned i = 0; i < nr_test_frames; i++)
		if (!OK(pt_frame_put(phys, test_frames[i])))
			return false;
	return true;
}

bool test_frames_unused(struct pt_phys *phys)
{
	for (unsigned i = 0; i < nr_test_frames; i++) {
		if (pt_frame_refcount(phys, test_frames[i]) != PT_REFCOUNT_UNUSED) {
			fail("test frame %#lx is still in use after the teardown", test_frames[i]);
			return false;
		}
	}
	return true;
}
