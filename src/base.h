/* SPDX-License-Identifier: MPL-2.0 */
/* base.h - what every layer of the core uses: assertions and tiny helpers.
 * Freestanding-safe: no libc. */
#ifndef PTKIT_SRC_BASE_H
#define PTKIT_SRC_BASE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define pt_likely(x) __builtin_expect(!!(x), 1)
#define pt_unlikely(x) __builtin_expect(!!(x), 0)

/*
 * Internal invariants (bugs inside ptkit, never caller input).  Debug builds
 * check them; the seed's requires/ensures clauses become these assertions.
 */
#ifdef PT_DEBUG
void pt__assert_fail(const char *expr, const char *file, int line);
#define PT_ASSERT(x) \
	do { if (pt_unlikely(!(x))) pt__assert_fail(#x, __FILE__, __LINE__); } while (0)
#else
#define PT_ASSERT(x) do { (void)sizeof(x); } while (0)
#endif

static inline uint64_t pt_min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint64_t pt_max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* Zeroing without libc: the compiler turns this into its best store loop. */
static inline void pt_zero_page(void *p)
{
	uint64_t *w = p;
	for (size_t i = 0; i < 4096 / sizeof(*w); i++)
		w[i] = 0;
}

#endif
