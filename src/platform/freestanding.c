/* SPDX-License-Identifier: MPL-2.0 */
/*
 * freestanding.c - what only a freestanding build supplies: a trap for
 * broken internal invariants, and a yield that just spins on.  A hosted
 * build gets both from hosted.c instead.
 */
#ifndef PT_HOSTED
#include "base.h"
#include "platform/platform.h"

void pt__assert_fail(const char *expr, const char *file, int line)
{
	(void)expr, (void)file, (void)line;
	__builtin_trap();
}

void pt__default_yield(void) {}
#endif
