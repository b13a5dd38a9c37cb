/* SPDX-License-Identifier: MPL-2.0 */
/* check_report.h - pt_check's messages, formatted without libc. */
#ifndef PTKIT_SRC_CHECK_REPORT_H
#define PTKIT_SRC_CHECK_REPORT_H

#include <stddef.h>
#include <stdint.h>

/* Writes "rule N (what): node pa=0x.. level L index I" into why and returns
 * PT_ECORRUPT. */
int pt__check_fail(char *why, size_t why_len, unsigned rule, const char *what,
		   uint64_t node_pa, unsigned level, unsigned index);

#endif
