/* SPDX-License-Identifier: MPL-2.0 */
/* platform.h - the core's view of the host: the hooks of struct pt_platform,
 * with defaults where the host gave none. */
#ifndef PTKIT_SRC_PLATFORM_H
#define PTKIT_SRC_PLATFORM_H

#include <ptkit/phys.h>

/* Fills every NULL hook with its default (defaults.c). */
void pt__platform_fill_defaults(struct pt_platform *p);
/* The default yield: sched_yield when hosted, nothing freestanding. */
void pt__default_yield(void);

#endif
