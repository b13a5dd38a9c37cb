/* SPDX-License-Identifier: MPL-2.0 */
/*
 * conc_util.h - what the concurrency tests share: failing loudly from any
 * thread, seeds and iteration counts, a start line for threads, collecting a
 * view, and a pool of tracked frames whose reference counts are checked.
 *
 * These tests are plain C11 + pthreads (no cmocka): a failure prints
 * "FAIL file:line: reason" and exits non-zero at once, from whichever thread
 * saw it, so a broken invariant is never hidden behind a later crash.
 */
#ifndef PTKIT_CONC_UTIL_H
#define PTKIT_CONC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ptkit/ptkit.h>

#include "format_rules.h"

#define CONC_PAGE ((uint64_t)PT_PAGE_SIZE)
#define CONC_2M (UINT64_C(1) << 21)
#define CONC_1G (UINT64_C(1) << 30)
/* Untracked mappings put pa at va + this (2M and 1G aligned), so any thread
 * can tell a consistent mapping from garbage without knowing who made it. */
#define CONC_UNTRACKED_OFF (UINT64_C(1) << 40)

_Noreturn void conc_fail_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define CONC_FAIL(...) conc_fail_at(__FILE__, __LINE__, __VA_ARGS__)
#define CONC_CHECK(cond, ...) \
	do { if (!(cond)) CONC_FAIL(__VA_ARGS__); } while (0)
/* A ptkit call that must return `want` (0 or a PT_E* code). */
#define CONC_RC(call, want)                                                     \
	do {                                                                    \
		int conc_rc_ = (call);                                          \
		if (conc_rc_ != (want))                                         \
			CONC_FAIL("%s returned %d (%s), want %d (%s)", #call,   \
				  conc_rc_, pt_strerror(conc_rc_), (want),      \
				  pt_strerror(want));                           \
	} while (0)

/* The test's name, printed with every failure. */
void conc_set_name(const char *name);

/* The format a test runs on, by its id in tests/common/format_rules.h
 * ("x86_ept", "aarch64_s2_4k", ...; NULL: x86_64), and in *features the
 * richest of its feature sets there (its last: EPT with A/D, ...; NULL
 * gives none), so a hypervisor's setting is what runs.  An unknown id
 * fails the test. */
const struct pt_test_format *conc_format(const char *id, uint32_t *features);

/* PTKIT_STRESS_SEED or the clock; printed so a failing run can be replayed
 * (thread interleavings differ, the operations do not). */
uint64_t conc_seed(void);
/* base iterations times PTKIT_STRESS_ITERS (a multiplier, default 1).
 * Unset, ThreadSanitizer builds run a quarter (TSan is 5-15x slower);
 * PTKIT_STRESS_ITERS=1 there gives the full counts. */
uint64_t conc_iters(uint64_t base);

/* xorshift64*: one stream per thread, derived from the seed. */
struct conc_rng {
	uint64_t s;
};
void conc_rng_init(struct conc_rng *r, uint64_t seed, uint64_t stream);
uint64_t conc_rand(struct conc_rng *r);
uint64_t conc_below(struct conc_rng *r, uint64_t n); /* [0, n) */
bool conc_chance(struct conc_rng *r, unsigned percent);

/* Runs fn on n threads (plain pthread_create), args[i] = base + i * stride,
 * and joins them.  conc_start_line() lets them all start at once. */
void conc_run_threads(unsigned n, void *(*fn)(void *), void *base, size_t stride);
void conc_start_line(void);

double conc_now(void);
void conc_sleep_ms(unsigned ms);

/* A view range, collected with pt_for_each_mapping (malloc'ed). */
struct conc_view {
	size_t nr, cap;
	struct pt_mapping *maps;
};
void conc_view_collect(struct pt_table *t, uint64_t va, uint64_t len, struct conc_view *v);
void conc_view_free(struct conc_view *v);

/* pt_check must pass (only with no other thread inside the table). */
void conc_expect_check(struct pt_table *t, const char *when);

const char *conc_fmt_map(const struct pt_mapping *m, char *buf, size_t len);

/* Tracked frames the test holds one reference on. */
struct conc_frames {
	size_t n;
	uint64_t *pa;     /* in allocation order */
	uint64_t *sorted; /* for lookups */
};
void conc_frames_alloc(struct conc_frames *f, struct pt_phys *phys, size_t n);
/* Index in pa[] or -1. */
long conc_frames_find(const struct conc_frames *f, uint64_t pa);
/* Every frame's count is 1 + extra[i] (extra NULL: all 1). */
void conc_frames_expect_refs(const struct conc_frames *f, struct pt_phys *phys,
			     const uint64_t *extra, const char *when);
void conc_frames_put(struct conc_frames *f, struct pt_phys *phys);

/*
 * Whether a mapping some other thread may have made is self-consistent:
 * untracked leaves map va + CONC_UNTRACKED_OFF, tracked ones a frame of the
 * pool, at 4 KiB.  Reason in why on failure.
 */
bool conc_mapping_sane(const struct pt_mapping *m, const struct conc_frames *pool,
		       char *why, size_t len);

/* Destroys the table, waits for RCU releases, and checks that the free
 * count is back to `free_before` (no node leaked or freed twice). */
void conc_destroy_expect_free(struct pt_table *t, struct pt_phys *phys, uint64_t free_before);

#endif
