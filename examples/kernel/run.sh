#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
#
# run.sh ARCH SCRIPT - boots the example kernel under QEMU with Debian's
# busybox-static and SCRIPT as /init.sh (run as `/bin/sh /init.sh`), prints
# the console, and exits with the script's status; non-zero (125) if the
# kernel panicked, a frame leaked or the run did not end properly, 124 on
# timeout, 126 when QEMU or busybox-static cannot be had on this machine.
#
# Builds what is missing in $PTKIT_EXAMPLE_BUILD (default
# /tmp/ptkit-example-kernel): the kernel (make), the busybox-static .deb
# (apt-get download, cached there), the initramfs.  As root it installs
# qemu-system-x86 and cpio when they are missing.
#   PTKIT_EXAMPLE_TIMEOUT  seconds before QEMU is stopped (default 900)
#   PTKIT_EXAMPLE_ICOUNT=1 runs QEMU with -icount shift=0: the guest's TSC
#                          then counts instructions (the kernel's "ticks")
set -euo pipefail

usage() {
	echo "usage: $0 x86_64|aarch64 SCRIPT" >&2
	exit 2
}
[ $# -eq 2 ] || usage
arch=$1
script=$2
case $arch in
x86_64) ;;
aarch64) echo "run.sh: aarch64 is not done yet (see examples/kernel/README.md)" >&2; exit 2 ;;
*) usage ;;
esac
[ -r "$script" ] || { echo "run.sh: cannot read $script" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
build=${PTKIT_EXAMPLE_BUILD:-/tmp/ptkit-example-kernel}
timeout_s=${PTKIT_EXAMPLE_TIMEOUT:-900}
mkdir -p "$build"

cannot() {
	echo "run.sh: cannot run here: $*" >&2
	exit 126
}

need() { # need COMMAND PACKAGE
	command -v "$1" >/dev/null && return 0
	[ "$(id -u)" = 0 ] || cannot "$1 is missing (apt-get install $2)"
	apt-get install -y -qq "$2" >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; } ||
		cannot "apt-get install $2 failed"
}
need qemu-system-x86_64 qemu-system-x86
need cpio cpio
need make make

nice -n 10 make -s -C "$here" -j2 BUILD="$build" ||
	{ echo "run.sh: the kernel did not build" >&2; exit 125; }

# busybox-static, fetched once.
bbdir=$build/busybox
bb=$bbdir/root/bin/busybox
if [ ! -x "$bb" ]; then
	rm -rf "$bbdir"
	mkdir -p "$bbdir"
	# A machine whose package lists were never fetched knows no candidate.
	(cd "$bbdir" && { apt-get download -q busybox-static >/dev/null 2>&1 ||
		{ [ "$(id -u)" = 0 ] && apt-get update -qq &&
		  apt-get download -q busybox-static >/dev/null 2>&1; }; }) ||
		cannot "apt-get download busybox-static failed"
	dpkg -x "$bbdir"/busybox-static_*.deb "$bbdir/root"
fi

# The initramfs: busybox, a link per applet where Debian puts it, the script.
root=$build/initramfs
rm -rf "$root"
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/tmp" "$root/dev"
cp "$bb" "$root/bin/busybox"
"$bb" --list-full | while read -r path; do
	[ -e "$root/$path" ] || ln -s /bin/busybox "$root/$path"
done
cp "$script" "$root/init.sh"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$build/initramfs.cpio"

icount=()
[ "${PTKIT_EXAMPLE_ICOUNT:-0}" = 1 ] && icount=(-icount shift=0)
log=$build/console.log
start=$(date +%s%N)
set +e
timeout -k 5 "$timeout_s" qemu-system-x86_64 -accel tcg -cpu qemu64,+nx,+pdpe1gb \
	-m 256M -nographic -no-reboot -nic none -monitor none \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 "${icount[@]}" \
	-kernel "$build/kernel.bin" -initrd "$build/initramfs.cpio" </dev/null |
	tr -d '\r' | tee "$log"
rc=${PIPESTATUS[0]}
set -e
end=$(date +%s%N)
echo "run.sh: QEMU exited with $rc after $(((end - start) / 1000000)) ms" >&2

if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "run.sh: timeout after ${timeout_s}s" >&2
	exit 124
fi
if grep -q '^\[kernel\] PANIC' "$log"; then
	echo "run.sh: the kernel panicked" >&2
	exit 125
fi
status=$(sed -n 's/^\[kernel\] init exited with status \([0-9]*\).*/\1/p' "$log" | tail -n 1)
leaked=$(sed -n 's/^\[kernel\] frames leaked: \(-\?[0-9]*\)$/\1/p' "$log" | tail -n 1)
if [ -z "$status" ] || [ -z "$leaked" ] || [ $((rc & 1)) != 1 ]; then
	echo "run.sh: the run did not end properly" >&2
	exit 125
fi
if [ "$leaked" != 0 ]; then
	echo "run.sh: $leaked frames leaked" >&2
	exit 125
fi
exit "$status"
