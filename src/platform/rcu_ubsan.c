/* SPDX-License-Identifier: MPL-2.0 */
/* rcu_ubsan.c - liburcu-bp's read side out of line, for sanitizer builds
 * only (see rcu.h); compiled with -fno-sanitize=alignment. */
#define _LGPL_SOURCE
#include <urcu/urcu-bp.h>

void pt__urcu_bp_read_lock(void);
void pt__urcu_bp_read_unlock(void);

void pt__urcu_bp_read_lock(void)
{
	urcu_bp_read_lock();
}

void pt__urcu_bp_read_unlock(void)
{
	urcu_bp_read_unlock();
}
