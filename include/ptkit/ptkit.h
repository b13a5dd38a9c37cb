/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ptkit - build and edit hardware page tables.
 *
 * Umbrella header.  Layers, bottom up: types, phys (frames), format (PTE
 * encodings), flush (TLB batches), table (whole-range operations), cursor
 * (a locked range).  See docs/api.md and docs/design.md.
 */
#ifndef PTKIT_PTKIT_H
#define PTKIT_PTKIT_H

#include <ptkit/types.h>
#include <ptkit/phys.h>
#include <ptkit/format.h>
#include <ptkit/flush.h>
#include <ptkit/table.h>
#include <ptkit/cursor.h>

#endif /* PTKIT_PTKIT_H */
