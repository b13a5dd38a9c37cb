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

/*
 * Fault injection: the nth frame allocation from now fails with PT_ENOMEM
 * (n = 1: the very next).  0 turns it off.  One-shot.
 */
void pt_phys_fail_nth_alloc(struct pt_phys *phys, uint64_t nth);

#ifdef __cplusplus
}
#endif
#endif /* PTKIT_TESTING_H */
