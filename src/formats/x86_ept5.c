/* SPDX-License-Identifier: MPL-2.0 */
/* x86_ept5.c - the engine compiled for the Intel EPT 5-level format. */
#define X86_EPT5 1
#include "formats/x86_ept.h"
#define FMT_SYMBOL pt_format_x86_ept5
#include "formats/engine_instance.h"
