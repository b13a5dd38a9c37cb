/* SPDX-License-Identifier: MPL-2.0 */
/* x86_64.c - the engine compiled for the x86-64 4-level format. */
#include "formats/x86_64.h"
#define FMT_SYMBOL pt_format_x86_64
#include "formats/engine_instance.h"
