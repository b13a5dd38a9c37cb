/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sysreg.h - system registers and barriers.  Shared by the AArch64 QEMU
 * test kernel and the example kernel (examples/kernel).
 */
#ifndef PTKIT_QEMU_SYSREG_H
#define PTKIT_QEMU_SYSREG_H

#include <stdint.h>

#define sysreg_read(name) ({ uint64_t v_; \
	__asm__ volatile("mrs %0, " #name : "=r"(v_)); v_; })
#define sysreg_write(name, v) \
	__asm__ volatile("msr " #name ", %0" : : "r"((uint64_t)(v)) : "memory")
#define isb() __asm__ volatile("isb" : : : "memory")
#define dsb(opt) __asm__ volatile("dsb " #opt : : : "memory")

#endif
