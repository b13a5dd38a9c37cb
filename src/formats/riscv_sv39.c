/* SPDX-License-Identifier: MPL-2.0 */
/* riscv_sv39.c - the engine compiled for the RISC-V Sv39 format. */
#include "formats/riscv.h"
#define FMT_SYMBOL pt_format_riscv_sv39
#include "formats/engine_instance.h"
