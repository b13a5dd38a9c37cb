/* SPDX-License-Identifier: MPL-2.0 */
/* aarch64_4k.c - the engine compiled for the AArch64 4 KiB-granule 48-bit format. */
#include "formats/aarch64.h"
#define FMT_SYMBOL pt_format_aarch64_4k
#include "formats/engine_instance.h"
