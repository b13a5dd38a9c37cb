#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
#
# run.sh ARCH SCRIPT - boots the example kernel under QEMU with Debian's
# busybox-static and SCRIPT as /init.sh (run as `/bin/sh /init.sh`), prints
# the console, and exits with the script's status; non-zero (125) if the
# kernel panicked, a frame leaked or the run did not end properly, 124 on
# timeout, 126 when QEMU, the cross compiler or busybox-static cannot be
# had on this machine.
#
# Builds what is missing in $PTKIT_EXAMPLE_BUILD (default
# /tmp/ptkit-example-kernel-ARCH): the kernel (make), the busybox-static
# .deb (apt-get download, cached there; busybox-static:arm64 through
# multiarch for aarch64), the initramfs.  As root it installs QEMU, cpio
# and the aarch64 cross compiler when they are missing, and adds arm64 to
# dpkg's architectures.
#   PTKIT_EXAMPLE_TIMEOUT  seconds before QEMU is stopped (default 900)
#   PTKIT_EXAMPLE_ICOUNT=1 runs QEMU with -icount shift=0: the guest's TSC
#                          (x86-64) or cycle counter (AArch64) then counts
#                          instructions (the kernel's "ticks")
set -euo pipefail

usage() {
	echo "usage: $0 x86_64|aarch64 SCRIPT" >&2
	exit 2
}
[ $# -eq 2 ] || usage
arch=$1
script=$2
case $arch in
x86_64) qemu=qemu-system-x86_64 qemu_pkg=qemu-system-x86 bb_pkg=busybox-static:amd64 ;;
aarch64) qemu=qemu-system-aarch64 qemu_pkg=qemu-system-arm bb_pkg=busybox-static:arm64 ;;
*) usage ;;
esac
[ -r "$script" ] || { echo "run.sh: cannot read $script" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
build=${PTKIT_EXAMPLE_BUILD:-/tmp/ptkit-example-kernel-$arch}
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
need "$qemu" "$qemu_pkg"
need cpio cpio
need make make
[ "$arch" = x86_64 ] || need aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu

nice -n 10 make -s -C "$here" -j2 ARCH="$arch" BUILD="$build" ||
	{ echo "run.sh: the kernel did not build" >&2; exit 125; }

# fetch PACKAGE DIR: a busybox-static .deb, downloaded once into DIR and
# unpacked into DIR/root.  A machine whose package lists were never
# fetched knows no candidate; arm64 packages need arm64 in dpkg's list.
fetch() {
	[ -x "$2/root/bin/busybox" ] && return 0
	rm -rf "$2"
	mkdir -p "$2"
	(cd "$2" && { apt-get download -q "$1" >/dev/null 2>&1 ||
		{ [ "$(id -u)" = 0 ] && add_foreign "$1" && apt-get update -qq &&
		  apt-get download -q "$1" >/dev/null 2>&1; }; }) ||
		cannot "apt-get download $1 failed"
	dpkg -x "$2"/busybox-static_*.deb "$2/root"
}
add_foreign() { # add_foreign PACKAGE: its :ARCH to dpkg's architectures
	case $1 in
	*:*) dpkg --print-foreign-architectures | grep -qx "${1#*:}" ||
		dpkg --add-architecture "${1#*:}" ;;
	esac
}
fetch "$bb_pkg" "$build/busybox"
bb=$build/busybox/root/bin/busybox
# The applet list comes from a busybox that runs here: the host's build of
# the same Debian package (the same version and configuration).
lister=$bb
if [ "$arch" != "$(uname -m)" ]; then
	fetch busybox-static "$build/busybox-host"
	lister=$build/busybox-host/root/bin/busybox
fi

# The initramfs: busybox, a link per applet where Debian puts it, the script.
root=$build/initramfs
rm -rf "$root"
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/tmp" "$root/dev"
cp "$bb" "$root/bin/busybox"
"$lister" --list-full | while read -r path; do
	[ -e "$root/$path" ] || ln -s /bin/busybox "$root/$path"
done
cp "$script" "$root/init.sh"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$build/initramfs.cpio"

ram_mb=256
icount=()
[ "${PTKIT_EXAMPLE_ICOUNT:-0}" = 1 ] && icount=(-icount shift=0)
# x86-64: the initrd is a Multiboot module; isa-debug-exit exits with
# (status << 1) | 1.  AArch64: QEMU loads an initrd only for Linux images,
# so the loader device puts it, its size and the RAM's size where arch.c
# looks; semihosting exits with the status itself.
case $arch in
x86_64)
	machine=(-cpu qemu64,+nx,+pdpe1gb -device isa-debug-exit,iobase=0xf4,iosize=0x04
		-kernel "$build/kernel.bin" -initrd "$build/initramfs.cpio") ;;
aarch64)
	size=$(stat -c %s "$build/initramfs.cpio")
	machine=(-machine virt -cpu cortex-a57 -semihosting-config enable=on,target=native
		-kernel "$build/kernel.elf"
		-device loader,file="$build/initramfs.cpio",addr=0x48000000,force-raw=on
		-device loader,addr=0x47fff000,data="$size",data-len=8
		-device loader,addr=0x47fff008,data=$((ram_mb << 20)),data-len=8) ;;
esac
log=$build/console.log
start=$(date +%s%N)
set +e
timeout -k 5 "$timeout_s" "$qemu" -accel tcg -m "${ram_mb}M" -nographic -no-reboot -nic none \
	-monitor none "${machine[@]}" "${icount[@]}" </dev/null | tr -d '\r' | tee "$log"
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
expected_rc=$status
[ "$arch" = x86_64 ] && expected_rc=$(((status << 1 | 1) & 255))
if [ -z "$status" ] || [ -z "$leaked" ] || [ "$rc" != "$expected_rc" ]; then
	echo "run.sh: the run did not end properly" >&2
	exit 125
fi
if [ "$leaked" != 0 ]; then
	echo "run.sh: $leaked frames leaked" >&2
	exit 125
fi
exit "$status"
