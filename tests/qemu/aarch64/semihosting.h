/* SPDX-License-Identifier: MPL-2.0 */
/*
 * semihosting.h - leaving QEMU through Arm semihosting (SYS_EXIT): the
 * AArch64 test kernel and the example kernel (examples/kernel) share it.
 * QEMU needs -semihosting-config enable=on,target=native.
 */
#ifndef PTKIT_QEMU_SEMIHOSTING_H
#define PTKIT_QEMU_SEMIHOSTING_H

#include <stdint.h>

/* QEMU exits with `status`; returns only when semihosting is off. */
void semihosting_exit(uint32_t status);

#endif
