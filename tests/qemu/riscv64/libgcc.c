/* SPDX-License-Identifier: MPL-2.0 */
/*
 * libgcc.c - the libgcc helpers the ptkit core needs on rv64imac (no Zbb):
 * __builtin_clzll / __builtin_ctzll become calls to __clzdi2 / __ctzdi2.
 *
 * Debian's riscv64 cross libgcc.a is built for lp64d (hard float) and the
 * linker refuses to mix it with this kernel's lp64 (soft-float) objects, so
 * the kernel brings its own, as Linux does (lib/clz_ctz.c).  The argument is
 * never 0 (undefined for the builtins).
 */
int __clzdi2(unsigned long x);
int __ctzdi2(unsigned long x);

int __clzdi2(unsigned long x)
{
	int n = 0;

	for (int shift = 32; shift; shift >>= 1) {
		if (!(x >> (64 - shift))) {
			n += shift;
			x <<= shift;
		}
	}
	return n;
}

int __ctzdi2(unsigned long x)
{
	int n = 0;

	for (int shift = 32; shift; shift >>= 1) {
		if (!(x << (64 - shift))) {
			n += shift;
			x >>= shift;
		}
	}
	return n;
}
