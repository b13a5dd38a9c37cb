/* SPDX-License-Identifier: MPL-2.0 */
/* x86_64_la57.c - the engine compiled for the x86-64 5-level (LA57) format. */
#define X86_LA57 1
#include "formats/x86_64.h"
#define FMT_SYMBOL pt_format_x86_64_la57
#include "formats/engine_instance.h"
