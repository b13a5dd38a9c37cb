/* SPDX-License-Identifier: MPL-2.0 */
/* x86_ept.c - the engine compiled for the Intel EPT format. */
#include "formats/x86_ept.h"
#define FMT_SYMBOL pt_format_x86_ept
#include "formats/engine_instance.h"
