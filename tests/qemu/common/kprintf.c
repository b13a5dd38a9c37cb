/* SPDX-License-Identifier: MPL-2.0 */
/* kprintf.c - see kprintf.h. */
#include <stdbool.h>
#include <stdint.h>

#include "kprintf.h"

struct sink {
	void (*put)(struct sink *s, char c);
	char *buf;
	size_t size, len;
};

static void put_console(struct sink *s, char c)
{
	arch_putc(c);
	s->len++;
}

static void put_buffer(struct sink *s, char c)
{
	if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

static void emit_padded(struct sink *s, const char *prefix, const char *body,
			size_t body_len, int width, bool left, bool zero)
{
	size_t prefix_len = 0;
	while (prefix[prefix_len])
		prefix_len++;
	int pad = width - (int)(prefix_len + body_len);

	if (!left && !zero)
		for (; pad > 0; pad--)
			s->put(s, ' ');
	for (size_t i = 0; i < prefix_len; i++)
		s->put(s, prefix[i]);
	if (!left && zero)
		for (; pad > 0; pad--)
			s->put(s, '0');
	for (size_t i = 0; i < body_len; i++)
		s->put(s, body[i]);
	if (left)
		for (; pad > 0; pad--)
			s->put(s, ' ');
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			s->put(s, *fmt);
			continue;
		}
		bool left = false, zero = false, alt = false;
		int width = 0, longs = 0;
		for (;; fmt++) {
			if (fmt[1] == '-')
				left = true;
			else if (fmt[1] == '0')
				zero = true;
			else if (fmt[1] == '#')
				alt = true;
			else
				break;
		}
		while (fmt[1] >= '0' && fmt[1] <= '9')
			width = width * 10 + (*++fmt - '0');
		for (;; fmt++) {
			if (fmt[1] == 'l')
				longs++;
			else if (fmt[1] == 'z')
				longs = 2;
			else if (fmt[1] != 'h')
				break;
		}
		char conv = *++fmt;
		char digits[24];
		size_t n = 0;
		const char *prefix = "";
		uint64_t u = 0;
		unsigned base = 10;
		bool upper = false;

		switch (conv) {
		case '\0':
			return;
		case '%':
			s->put(s, '%');
			continue;
		case 'c':
			digits[0] = (char)va_arg(ap, int);
			emit_padded(s, "", digits, 1, width, left, false);
			continue;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			size_t len = 0;
			while (str[len])
				len++;
			emit_padded(s, "", str, len, width, left, false);
			continue;
		}
		case 'd':
		case 'i': {
			int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
			if (v < 0) {
				prefix = "-";
				u = (uint64_t)0 - (uint64_t)v;
			} else {
				u = (uint64_t)v;
			}
			break;
		}
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			base = 16;
			prefix = "0x";
			break;
		case 'X':
			upper = true;
			/* fall through */
		case 'x':
			base = 16;
			/* fall through */
		case 'u':
			u = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			if (alt && base == 16)
				prefix = upper ? "0X" : "0x";
			break;
		default:
			s->put(s, '%');
			s->put(s, conv);
			continue;
		}
		char tmp[24];
		do {
			unsigned d = (unsigned)(u % base);
			tmp[n++] = (char)(d < 10 ? '0' + d : (upper ? 'A' : 'a') + d - 10);
			u /= base;
		} while (u);
		for (size_t i = 0; i < n; i++)
			digits[i] = tmp[n - 1 - i];
		emit_padded(s, prefix, digits, n, width, left, zero);
	}
}

int kvprintf(const char *fmt, va_list ap)
{
	struct sink s = { put_console, NULL, 0, 0 };
	format(&s, fmt, ap);
	return (int)s.len;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { put_buffer, buf, size, 0 };
	format(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
