/* SPDX-License-Identifier: MPL-2.0 */
/* phys_internal.h - setting up a struct pt_phys (shared by the freestanding
 * pt_phys_init and the hosted pt_phys_create). */
#ifndef PTKIT_SRC_PHYS_INTERNAL_H
#define PTKIT_SRC_PHYS_INTERNAL_H

#include "frames/frame_meta.h"

/* Frames [0, first_free) are reserved (they hold `meta` itself). */
void pt__phys_setup(struct pt_phys *phys, uint64_t ram_pa, uint64_t nr_frames,
		    uintptr_t linear_offset, struct pt_frame_meta *meta,
		    uint64_t first_free, const struct pt_platform *platform);

#endif
