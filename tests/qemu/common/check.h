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

/*
 * The physical layout both programs carve after the image, all 2 MiB
 * aligned: [img_lo, img_hi) the image rounded out; SCRATCH_LEN of scratch
 * (2 MiB for huge_2m, 2 MiB for split_data, 2 MiB of single test pages);
 * then a pool of up to POOL_MAX for pt_phys_init.  Prints it; a RAM too
 * small for it is a setup failure.
 */
#define SCRATCH_LEN (3 * SZ_2M)
#define POOL_MAX (UINT64_C(16) << 20)
void carve_ram(uint64_t *img_lo, uint64_t *img_hi, uint64_t *scratch_pa, uint64_t *pool_pa,
	       uint64_t *pool_len);

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

/* ---- the checks both programs run (space_checks.c) ---- */

/* What they act on; the program fills it in before they run. */
struct check_space {
	struct pt_phys *phys;
	struct pt_table *table;        /* where the test addresses go */
	uint64_t stale_va;             /* a free 4 KiB page: stale_tlb, remap, protect */
	uint64_t huge2m_va, huge2m_pa; /* a free 2 MiB-aligned va; 2 MiB of scratch */
	uint64_t gig_va;               /* a free 1 GiB-aligned va */
	uint32_t leaf_flags;           /* added to every leaf's flags */
	/* Why a TLB that does not go stale is no failure here, or NULL. */
	const char *stale_excuse;
	uint64_t tag;                  /* the tables' pt_table_opts.tag */
};
extern struct check_space space;

/* The program's way to a frame other than through the test addresses
 * (stage 1: its identity map, probed; stage 2: the hypervisor's physical
 * access); false, with fail() called, if it went wrong. */
bool frame_write(uint64_t pa, uint64_t val, const char *what);
bool frame_read_is(uint64_t pa, uint64_t want, const char *what);

/* The platform's invalidate hook: counts the calls, and passes them to
 * arch_invalidate unless stale_tlb suppresses it for a moment.  A request
 * that names another stage than the format's or another tag than
 * space.tag prints a FAIL line (the run fails). */
void check_invalidate(void *arg, const struct pt_flush_info *info);
extern volatile uint64_t inval_calls;

/* A write-back leaf's properties: `flags` and space.leaf_flags. */
struct pt_prop check_prop(uint32_t flags);

/* The value of word `word` of page `page` in a filled area. */
uint64_t pattern(uint64_t page, uint64_t word);

/* va, mapped to frame pa without PT_W: pt_query says so, the probe reads
 * what frame_write wrote, its write faults and the frame is unchanged. */
void readonly_page(struct pt_table *t, uint64_t va, uint64_t pa);
/* `va` is a hole: pt_query says PT_ENOENT and a read faults. */
bool hole_faults(struct pt_table *t, uint64_t va, const char *what);
/* A return instruction in frame `f` (which the program holds): called
 * through x_va, mapped with PT_X, it returns; through nx_va, mapped RW, the
 * fetch faults. */
bool exec_rights(uint64_t f, uint64_t x_va, uint64_t nx_va);

/* A 2 MiB leaf at va, filled with pattern(): pt_protect(-W) of the page at
 * `ro` splits it into 4 KiB leaves, only that one read-only. */
bool split_protect_page(uint64_t va, uint64_t ro);
/* Then a write to `ro` (page number `page` of the leaf) faults, and writes
 * of its neighbours' first words (their pattern) work. */
bool split_neighbours(uint64_t ro, uint64_t page);

void check_stale_tlb(void);
void check_remap(void);
void check_protect(void);
void check_huge_2m(void);
void check_huge_1g(void);

#endif
