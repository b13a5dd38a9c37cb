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
/* For the page-fault path's few functions whose inlining decides its cost
 * (its constants fold only inlined; the compiler's size heuristics drop
 * them as they grow). */
#define pt_always_inline inline __attribute__((always_inline))

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

/*
 * Test hooks: places where a unit test plays the hardware at an instant no
 * race can be forced to hit.  Only hosted debug builds (PT_TEST_HOOKS, set
 * with PTKIT_DEBUG_ASSERTS) have them; elsewhere a hook is no code at all.
 *
 * pt__hook_split_cas: a live split read the huge leaf at *slot and is about
 * to replace it by its pieces; the hook may set hardware bits (`hw`: the
 * format's accessed/dirty bits) in *slot as an MMU would.
 */
#ifdef PT_TEST_HOOKS
extern void (*pt__hook_split_cas)(_Atomic uint64_t *slot, uint64_t hw);
#define PT_TEST_HOOK(hook, ...) do { if (hook) hook(__VA_ARGS__); } while (0)
#else
#define PT_TEST_HOOK(hook, ...) ((void)0)
#endif

/*
 * A spin lock: acquire on lock, release on unlock, so everything written
 * under it is seen by the next holder.  Waits yield after a while: hosts are
 * oversubscribed.
 */
static inline void pt_spin_lock(_Atomic uint32_t *lock, void (*yield)(void))
{
	unsigned spins = 0;
	uint32_t expected = 0;

	while (!atomic_compare_exchange_weak_explicit(lock, &expected, 1, memory_order_acquire,
						      memory_order_relaxed)) {
		expected = 0;
		if (++spins % 64 == 0)
			yield();
	}
}

static inline void pt_spin_unlock(_Atomic uint32_t *lock)
{
	PT_ASSERT(atomic_load_explicit(lock, memory_order_relaxed) == 1);
	atomic_store_explicit(lock, 0, memory_order_release);
}

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
