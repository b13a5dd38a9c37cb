/* SPDX-License-Identifier: MPL-2.0 */
/* riscv_sv48.c - the engine compiled for the RISC-V Sv48 format. */
#define RISCV_SV48 1
#include "formats/riscv.h"
#define FMT_SYMBOL pt_format_riscv_sv48
#include "formats/engine_instance.h"
