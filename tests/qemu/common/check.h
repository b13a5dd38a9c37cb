/* SPDX-License-Identifier: MPL-2.0 */
/*
 * check.h - what the QEMU test programs share: one result line per check,
 * the final RESULT line and exit, and the probes that turn a fault or a
 * wrong value into the check's failure.  kernel_tests.c (stage 1) and
 * stage2_tests.c (stage 2) use it.
 *
 * Every check prints exactly one line, "PASS name", "FAIL name: why" or
 * "SKIP name: why"; then "RESULT pass=N fail=M skip=K", and the kernel exits
 * with success iff M == 0 and N > 0 (tests/qemu/run_qemu.sh checks both).
 */
#ifndef PTKIT_QEMU_CHECK_H
#define PTKIT_QEMU_CHECK_H

#include <ptkit/ptkit.h>

#define SZ_4K UINT64_C(0x1000)
#define SZ_2M UINT64_C(0x200000)
#define SZ_1G UINT64_C(0x40000000)

/* The running check fails (the first reason is kept) or is skipped. */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs one check and prints its line. */
void run(const char *name, void (*check)(void));
/* The RESULT line, then arch_exit. */
_Noreturn void finish(void);
/* Setup went wrong before any check could run: one FAIL line, then finish. */
_Noreturn void setup_failed(const char *what);

/* A ptkit call that must succeed: on error, records why and yields false. */
#define OK(call) ok_((call), #call)
bool ok_(int err, const char *what);

/* One probe (arch.h) that must go as said; otherwise the check fails. */
bool read_ok(uint64_t va, uint64_t *val, const char *what);
bool read_is(uint64_t va, uint64_t want, const char *what);
bool write_ok(uint64_t va, uint64_t val, const char *what);
bool read_faults(uint64_t va, const char *what);
bool write_faults(uint64_t va, uint64_t val, const char *what);

/* pt_query that must find a leaf of `size` (0: any size). */
bool query_is(struct pt_table *t, uint64_t va, uint64_t size, struct pt_mapping *m,
	      const char *what);

/* Frames the checks allocate (pt_frame_alloc): the program holds a
 * reference to each until put_test_frames() drops them all, before the
 * teardown; test_frames_unused() then says every one is free again. */
bool alloc_frame(struct pt_phys *phys, uint64_t *pa);
bool put_test_frames(struct pt_phys *phys);
bool test_frames_unused(struct pt_phys *phys);

#endif
