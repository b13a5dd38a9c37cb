#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
#
# check.sh [ARCH]        runs busybox_test.sh in the example kernel (run.sh,
#                        ARCH x86_64 by default, or aarch64: one expected
#                        file serves both)
#                        and compares its console with busybox_test.expected;
#                        exits 77 (a skip, for CTest) when run.sh cannot run
#                        here (no QEMU, no busybox-static to download)
# check.sh --expected    rewrites busybox_test.expected: the same script run
#                        by the same busybox-static on this Linux machine
#
# The expected file is the script's output (stdout and stderr) followed by
# "status N".  From the console only the script's lines count: what comes
# before the kernel's "initramfs:" line (firmware) and lines starting with
# "[kernel]" are dropped.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
test=$here/busybox_test.sh
expected=$here/busybox_test.expected
build=${PTKIT_EXAMPLE_BUILD:-/tmp/ptkit-example-kernel-x86_64}

if [ "${1:-}" = --expected ]; then
	bb=$build/busybox/root/bin/busybox
	if [ ! -x "$bb" ]; then
		mkdir -p "$build/busybox"
		(cd "$build/busybox" && apt-get download -q busybox-static >/dev/null 2>&1)
		dpkg -x "$build"/busybox/busybox-static_*.deb "$build/busybox/root"
	fi
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	set +e
	(cd "$work" && env -i PATH=/bin:/usr/bin HOME=/ "$bb" sh "$test" >"$work/out" 2>&1)
	status=$?
	set -e
	{ cat "$work/out"; echo "status $status"; } >"$expected"
	echo "check.sh: wrote $expected ($(wc -l <"$expected") lines)"
	exit 0
fi

arch=${1:-x86_64}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
"$here/../run.sh" "$arch" "$test" >"$out.log" 2>&1
status=$?
set -e
if [ "$status" = 126 ]; then
	cat "$out.log"
	rm -f "$out.log"
	exit 77
fi
if [ "$status" -ge 124 ]; then
	cat "$out.log"
	echo "check.sh: run.sh failed with $status" >&2
	rm -f "$out.log"
	exit 1
fi
{ sed -n '/^\[kernel\] initramfs:/,$p' "$out.log" | grep -v '^\[kernel\]' | grep -v '^run.sh:' ||
	true # no line: the diff below says so
  echo "status $status"; } >"$out"
grep '^\[kernel\]\|^run.sh:' "$out.log" || true
rm -f "$out.log"
if diff -u "$expected" "$out"; then
	echo "check.sh: $arch output matches Linux ($(wc -l <"$expected") lines)"
else
	echo "check.sh: $arch output differs from Linux" >&2
	exit 1
fi
