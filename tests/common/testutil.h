/* SPDX-License-Identifier: MPL-2.0 */
/*
 * testutil.h - helpers shared by the cmocka tests.
 *
 * A test that wants to say "this operation changed nothing" (design §5: on
 * any error nothing changes) needs the table's whole observable state, not
 * just its view: the view of both halves, pt_table_stats (which sees nodes),
 * the reference counts of the frames the test cares about and the number of
 * free frames (which sees leaked or double-freed nodes).  A pt_snapshot holds
 * exactly that, and pt_snapshot_diff names the first difference, so a failure
 * reads as "user half: mapping #3 differs" rather than "memcmp != 0".
 */
#ifndef PTKIT_TESTUTIL_H
#define PTKIT_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ptkit/ptkit.h>

#define PT_KiB (UINT64_C(1) << 10)
#define PT_MiB (UINT64_C(1) << 20)
#define PT_GiB (UINT64_C(1) << 30)

/* Fails the current test, printing pt_check's message, unless it passes. */
#define pt_test_check(table) pt_test_check_at((table), __FILE__, __LINE__)
void pt_test_check_at(struct pt_table *table, const char *file, int line);

/* Fails the current test with a printf-style message (cmocka's print_error
 * and _fail, so the file and line are the caller's). */
#define pt_test_fail(...) pt_test_fail_at(__FILE__, __LINE__, __VA_ARGS__)
void pt_test_fail_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

/* "va=0x... pa=0x... 2M RW-U---- WB tracked" into buf; returns buf. */
const char *pt_test_fmt_mapping(const struct pt_mapping *m, char *buf,
				size_t len);

/* One half of a view: what pt_for_each_mapping returned and the leaves. */
struct pt_view_half {
	int err;                 /* PT_ERANGE for a half the table lacks */
	size_t nr;
	struct pt_mapping *maps; /* malloc'ed */
};

/* Parts of a snapshot; pt_snapshot_diff compares the parts in `what`. */
#define PT_SNAP_VIEW  (1u << 0)
#define PT_SNAP_STATS (1u << 1)
#define PT_SNAP_REFS  (1u << 2)
#define PT_SNAP_FREE  (1u << 3)
#define PT_SNAP_ALL   (PT_SNAP_VIEW | PT_SNAP_STATS | PT_SNAP_REFS | PT_SNAP_FREE)

struct pt_snapshot {
	struct pt_view_half half[2]; /* [0] user [0, user_end), [1] kernel */
	int stats_err;
	struct pt_table_stats stats;
	size_t nr_frames;
	uint64_t *frames;            /* copies of the frames asked for */
	uint64_t *refs;              /* their pt_frame_refcount */
	uint64_t free_frames;
};

/* Records everything above; frames may be NULL when nr_frames is 0. */
void pt_snapshot_take(struct pt_snapshot *s, struct pt_table *table,
		      const uint64_t *frames, size_t nr_frames);
void pt_snapshot_free(struct pt_snapshot *s);

/* 0 if equal in `what`; otherwise 1 and the first difference in buf. */
int pt_snapshot_diff(const struct pt_snapshot *want,
		     const struct pt_snapshot *got, unsigned what, char *buf,
		     size_t len);

/* 0 if equal; otherwise 1 and the first differing field in buf. */
int pt_stats_diff(const struct pt_table_stats *want,
		  const struct pt_table_stats *got, char *buf, size_t len);

/* Fails the test with the first difference. */
#define pt_test_snapshot_equal(want, got, what) \
	pt_test_snapshot_equal_at((want), (got), (what), __FILE__, __LINE__)
void pt_test_snapshot_equal_at(const struct pt_snapshot *want,
			       const struct pt_snapshot *got, unsigned what,
			       const char *file, int line);

/* Free frames, counting removed page-table nodes that still wait out an
 * RCU grace period (exact, no waiting). */
uint64_t pt_test_free_frames(struct pt_phys *phys);

#endif /* PTKIT_TESTUTIL_H */
