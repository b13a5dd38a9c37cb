/* SPDX-License-Identifier: MPL-2.0 */
/* riscv_sv48x4.c - the engine compiled for the RISC-V G-stage Sv48x4 format. */
#define RISCV_SV48X4 1
#include "formats/riscv.h"
#define FMT_SYMBOL pt_format_riscv_sv48x4
#include "formats/engine_instance.h"
