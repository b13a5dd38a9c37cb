/* SPDX-License-Identifier: MPL-2.0 */
/*
 * x86_64_nosync.c - the x86-64 engine without node locks and RCU read
 * sections, for `ptctl bench` only: it measures what the locking and RCU
 * cost one thread.  Compiled into ptctl, never into the library.  Not safe
 * with more than one thread on a table.
 */
#define PT_NO_SYNC 1
#include "formats/x86_64.h"
#define FMT_SYMBOL pt__format_x86_64_nosync
#include "formats/engine_instance.h"
