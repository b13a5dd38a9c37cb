/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ptkit/types.h - error codes, page properties and mappings.
 *
 * Everything here is plain data shared by every layer.  Every fallible
 * function in ptkit returns 0 or one of the negative PT_E* codes below.
 */
#ifndef PTKIT_TYPES_H
#define PTKIT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Error codes.  When several apply, the first in this order is returned
 * (design §5): EINVAL, EALIGN, ERANGE, EPERM, EEXIST, ENOMEM.
 * On any error nothing changes: not the view, not a node, not a refcount.
 */
enum pt_error {
	PT_OK = 0,
	PT_EINVAL = -1,   /* NULL, empty or wrapping range, inexpressible property */
	PT_EALIGN = -2,   /* address or length not aligned to 4 KiB (or the page) */
	PT_ERANGE = -3,   /* outside the table's space, non-canonical, pa too big */
	PT_EPERM = -4,    /* writing the shared kernel half through a user table */
	PT_EEXIST = -5,   /* part of the range is already mapped */
	PT_ENOENT = -6,   /* nothing mapped there */
	PT_ENOMEM = -7,   /* no frame for a page-table node */
	PT_EBUSY = -8,    /* kernel table still shared by user tables */
	PT_ECORRUPT = -9, /* pt_check found a broken invariant */
};

/**
 * pt_strerror() - Name a ptkit error code.
 * @err: 0 or a `PT_E*` code; any other value is accepted too.
 *
 * A short English name for the code, such as
 * `"PT_EINVAL: invalid argument"`, or `"unknown ptkit error"` for a value
 * that is not a ptkit code.
 *
 * Context: Any context: takes no lock, allocates nothing.
 * Return: A static string, never %NULL.
 */
const char *pt_strerror(int err);

/**
 * pt_errno() - The Linux errno for a ptkit error code.
 * @err: 0 or a `PT_E*` code; any other value is accepted too.
 *
 * What a kernel port returns for a ptkit error, with Linux's numbers (the
 * same on x86, Arm and RISC-V):
 *
 * - %PT_EINVAL and %PT_EALIGN: `-EINVAL` (22)
 * - %PT_ERANGE: `-ERANGE` (34)
 * - %PT_EPERM: `-EPERM` (1)
 * - %PT_EEXIST: `-EEXIST` (17)
 * - %PT_ENOENT: `-ENOENT` (2)
 * - %PT_ENOMEM: `-ENOMEM` (12)
 * - %PT_EBUSY: `-EBUSY` (16)
 * - %PT_ECORRUPT: `-EUCLEAN` (117)
 *
 * Context: Any context: takes no lock, allocates nothing.
 * Return: 0 for 0, the negative errno above for a `PT_E*` code, and
 * `-EINVAL` for any other value.
 */
int pt_errno(int err);

/*
 * Page property flags (struct pt_prop.flags).
 *
 * A property with none of R, W, X is PROT_NONE: still a mapping to the
 * software, never to the hardware.  Each format normalizes what it cannot
 * express (x86: W or X imply R); pt_format.normalize tells.
 */
#define PT_R   (1u << 0)  /* readable */
#define PT_W   (1u << 1)  /* writable */
#define PT_X   (1u << 2)  /* executable */
#define PT_U   (1u << 3)  /* user accessible */
#define PT_G   (1u << 4)  /* global (survives address-space switches) */
#define PT_A   (1u << 5)  /* accessed */
#define PT_D   (1u << 6)  /* dirty */
#define PT_SW0 (1u << 8)  /* caller's software bits; a format offers nr_sw_bits */
#define PT_SW1 (1u << 9)
#define PT_SW2 (1u << 10)
#define PT_SW3 (1u << 11)
#define PT_SW_SHIFT 8
#define PT_FLAGS_ALL (PT_R | PT_W | PT_X | PT_U | PT_G | PT_A | PT_D | \
		      PT_SW0 | PT_SW1 | PT_SW2 | PT_SW3)

/* Cache policies (struct pt_prop.cache). */
enum pt_cache {
	PT_CACHE_WB = 0, /* write-back: normal memory */
	PT_CACHE_WT = 1, /* write-through */
	PT_CACHE_WC = 2, /* write-combining (x86: needs PT_FEAT_X86_PAT_WC) */
	PT_CACHE_UC = 3, /* uncached: device memory */
	PT_CACHE_COUNT
};

struct pt_prop {
	uint32_t flags;
	uint32_t cache;
};

/* One mapping of a table's view: a leaf, never merged, never clipped. */
struct pt_mapping {
	uint64_t va;
	uint64_t pa;
	uint64_t size;
	struct pt_prop prop;
	bool tracked; /* the table holds a reference on the (4 KiB) frame */
};

/* Platform features a format may use (struct pt_platform.features). */
#define PT_FEAT_X86_PAT_WC   (1u << 0) /* PAT programmed as Linux: WC at index 1 */
#define PT_FEAT_RISCV_SVPBMT (1u << 1)
#define PT_FEAT_RISCV_SVVPTC (1u << 2)
#define PT_FEAT_AARCH64_BBM2 (1u << 3)
#define PT_FEAT_RISCV_SVADU  (1u << 4) /* the harts set A and D themselves */
#define PT_FEAT_X86_EPT_AD   (1u << 5) /* the EPTP enables EPT A/D bits (bit 6) */
#define PT_FEAT_AARCH64_S2FWB (1u << 6) /* HCR_EL2.FWB = 1 (FEAT_S2FWB): stage 2
					  * forces the memory type */

#define PT_PAGE_SIZE 4096u
#define PT_PAGE_SHIFT 12
#define PT_MAX_LEVELS 5

#ifdef __cplusplus
}
#endif
#endif /* PTKIT_TYPES_H */
