/* SPDX-License-Identifier: MPL-2.0 */
/* aarch64_s2_4k.c - the engine compiled for the AArch64 stage-2 4 KiB-granule 40-bit IPA format. */
#define AARCH64_S2 1
#include "formats/aarch64.h"
#define FMT_SYMBOL pt_format_aarch64_s2_4k
#include "formats/engine_instance.h"
