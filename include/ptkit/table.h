/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ptkit/table.h - page tables and whole-range operations (design §5).
 *
 * Ranges are (va, len): non-empty, not wrapping past 2^64 (va + len may be
 * exactly 2^64), 4 KiB aligned, inside the table's half.  Errors come in the
 * order EINVAL, EALIGN, ERANGE, EPERM, EEXIST, ENOMEM; on any error nothing
 * changes.
 */
#ifndef PTKIT_TABLE_H
#define PTKIT_TABLE_H

#include <ptkit/flush.h>
#include <ptkit/format.h>
#include <ptkit/phys.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pt_table;

enum pt_space { PT_SPACE_USER, PT_SPACE_KERNEL };

struct pt_table_opts {
	unsigned max_leaf_level; /* 0 = the format's highest; 1 forces 4 KiB pages */
	/* Overrides the platform's invalidation hook for this table. */
	void (*invalidate)(void *arg, const struct pt_flush_info *info);
	void *invalidate_arg;
	bool live;               /* may be walked by hardware: leaf rewrites keep the
				  * accessed/dirty bits it sets (atomic updates) */
	uint32_t features;       /* PT_FEAT_* added to the platform's */
};

int pt_table_create(struct pt_phys *phys, const struct pt_format *fmt,
		    enum pt_space space, struct pt_table **out);
int pt_table_create_opts(struct pt_phys *phys, const struct pt_format *fmt,
			 enum pt_space space, const struct pt_table_opts *opts,
			 struct pt_table **out);
/* A user table that shares `kernel`'s kernel half (formats with
 * shared_kernel_root; writes to that half through it are PT_EPERM), or an
 * empty user table with kernel's settings (AArch64: a TTBR0 root). */
int pt_table_create_user(struct pt_table *kernel, struct pt_table **out);
/* Synchronous: releases every node and every tracked reference.  PT_EBUSY
 * for a kernel table that user tables still share. */
int pt_table_destroy(struct pt_table *table);

uint64_t pt_table_root(const struct pt_table *table); /* pa for CR3/satp/TTBR */
const struct pt_format *pt_table_format(const struct pt_table *table);
struct pt_phys *pt_table_phys(const struct pt_table *table);
enum pt_space pt_table_space(const struct pt_table *table);

/* PT_ENOMEM may be temporary: removed nodes come back after an RCU grace
 * period (pt_phys_barrier, then retry, from outside any cursor). */

/* Untracked: largest page per position (alignment of va and pa, length). */
int pt_map(struct pt_table *table, uint64_t va, uint64_t pa, uint64_t len,
	   struct pt_prop prop);
/* Tracked: n frames at consecutive 4 KiB pages, one new reference each. */
int pt_map_frames(struct pt_table *table, uint64_t va, const uint64_t *frames,
		  size_t n, struct pt_prop prop);
/* flush may be NULL: then invalidation and release happen before return. */
int pt_unmap(struct pt_table *table, uint64_t va, uint64_t len,
	     struct pt_flush *flush);
int pt_protect(struct pt_table *table, uint64_t va, uint64_t len,
	       uint32_t set_flags, uint32_t clear_flags, struct pt_flush *flush);
/* The whole leaf containing va, or PT_ENOENT. */
int pt_query(struct pt_table *table, uint64_t va, struct pt_mapping *out);
/* One call per leaf overlapping the range, in order, unclipped.  A non-zero
 * return from fn stops the walk and is returned. */
int pt_for_each_mapping(struct pt_table *table, uint64_t va, uint64_t len,
			int (*fn)(const struct pt_mapping *m, void *arg),
			void *arg);

/* Every invariant of design §4.  0 or PT_ECORRUPT with a message naming the
 * node, index and rule in `why` (may be NULL).  Call it with no other user
 * inside the table, and not alongside pt_check of another table of the same
 * phys (it marks visits in the shared frame metadata). */
int pt_check(struct pt_table *table, char *why, size_t why_len);

struct pt_table_stats {
	uint64_t nodes[PT_MAX_LEVELS + 1];    /* nodes per level (shared ones too) */
	uint64_t mappings[PT_MAX_LEVELS + 1]; /* leaves per level */
	uint64_t tracked;                     /* tracked leaves */
	uint64_t mapped_bytes;
};
/* Counts, walking the whole table: same quiet table as pt_check. */
int pt_table_stats(struct pt_table *table, struct pt_table_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* PTKIT_TABLE_H */
