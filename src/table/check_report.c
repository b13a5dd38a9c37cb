/* SPDX-License-Identifier: MPL-2.0 */
/* check_report.c - pt_check's messages, formatted without libc (the core
 * builds freestanding). */
#include <ptkit/types.h>

#include "table/check_report.h"

struct out {
	char *buf;
	size_t len, pos;
};

static void put_char(struct out *o, char ch)
{
	if (o->pos + 1 < o->len)
		o->buf[o->pos++] = ch;
}

static void put_str(struct out *o, const char *s)
{
	while (*s)
		put_char(o, *s++);
}

static void put_num(struct out *o, uint64_t v, unsigned base)
{
	char digits[24];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		put_char(o, digits[--n]);
}

int pt__check_fail(char *why, size_t why_len, unsigned rule, const char *what,
		   uint64_t node_pa, unsigned level, unsigned index)
{
	struct out o = { why, why_len, 0 };

	if (!why || why_len == 0)
		return PT_ECORRUPT;
	put_str(&o, "rule ");
	put_num(&o, rule, 10);
	put_str(&o, " (");
	put_str(&o, what);
	put_str(&o, "): node pa=0x");
	put_num(&o, node_pa, 16);
	put_str(&o, " level ");
	put_num(&o, level, 10);
	put_str(&o, " index ");
	put_num(&o, index, 10);
	o.buf[o.pos] = '\0';
	return PT_ECORRUPT;
}
