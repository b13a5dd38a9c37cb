/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ptkit/testing.h - hooks for ptkit's own tests and for a port's test
 * suite.  Not part of <ptkit/ptkit.h>: production code has no use for them.
 */
#ifndef PTKIT_TESTING_H
#define PTKIT_TESTING_H

#include <ptkit/phys.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * pt_phys_fail_nth_alloc() - Make a future frame allocation fail.
 * @phys: the phys; must not be %NULL.
 * @nth: which allocation from now fails with %PT_ENOMEM: 1 is the very
 *   next; 0 disarms the hook.
 *
 * Fault injection, one-shot: after it fired, allocations succeed again.
 * Every frame allocation of @phys counts, from any thread: data frames
 * (pt_frame_alloc()), table objects, roots and page-table nodes, also
 * when a kernel allocator (`pt_platform.frame_alloc`) serves them.
 * Declared in `<ptkit/testing.h>`, which `<ptkit/ptkit.h>` does not
 * include.
 *
 * Context: Any thread: one atomic store; takes no lock, allocates nothing.
 */
void pt_phys_fail_nth_alloc(struct pt_phys *phys, uint64_t nth);

#ifdef __cplusplus
}
#endif
#endif /* PTKIT_TESTING_H */
