/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ptkit/cursor.h - a locked virtual range (design §6, §7).
 *
 * A cursor owns [va, va + len) of one table from open to close: it holds the
 * locks of every node in that range (design §6) and an RCU read section.
 * While a thread holds one, it must not open another cursor or call a
 * changing whole-range operation on the same table (it could deadlock), nor
 * call pt_phys_barrier.  A cursor has a current address, starting at va,
 * which the operations below move forward (or jump moves anywhere inside).
 */
#ifndef PTKIT_CURSOR_H
#define PTKIT_CURSOR_H

#include <ptkit/table.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Caller-owned storage; the fields are private. */
struct pt_cursor {
	uint64_t opaque[16];
};

/* What take_next removed (reports only: the caller releases nothing). */
struct pt_taken {
	bool subtree;               /* a whole page-table subtree went */
	struct pt_mapping mapping;  /* subtree == false: the leaf, with final A/D */
	uint64_t va, len;           /* subtree == true: its range */
	uint64_t nr_mappings;       /* ... and what it held (huge leaves included) */
	uint64_t nr_tracked;
};

/**
 * pt_cursor_open() - Lock a virtual range of a table.
 * @c: caller-owned storage for the cursor; do not copy it while open.
 * @table: the table.
 * @va: first virtual address of the range, 4 KiB aligned.
 * @len: bytes, a positive multiple of 4 KiB.
 *
 * Locks `[va, va + len)` of @table and sets the current address to @va.
 * It blocks until the nodes it needs are free.  On error @c is untouched
 * and there is nothing to close.
 *
 * Context: Enters an RCU read section and locks the node covering the
 * range and every node below it in the range (top-down, in the one global
 * order; spin locks that yield every 64 spins); both last until
 * pt_cursor_close().  Meanwhile the thread must not open another cursor on
 * @table nor call pt_map(), pt_map_frames(), pt_unmap() or pt_protect()
 * on it, whatever the range (even two disjoint cursors in one thread can
 * deadlock with a third, in another thread, that spans both), nor call
 * pt_phys_barrier() or pt_phys_destroy().  Never allocates.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @c or @table is %NULL, @len is 0, or the range wraps.
 * - %PT_EALIGN: @va or @len is not 4 KiB aligned.
 * - %PT_ERANGE: the range is outside the table's half or non-canonical.
 * - %PT_EPERM: the kernel half of a user table, even only to read (a
 *   cursor may write).
 */
int pt_cursor_open(struct pt_cursor *c, struct pt_table *table, uint64_t va,
		   uint64_t len);

/**
 * pt_cursor_close() - Unlock a cursor's range.
 * @c: the cursor, or %NULL.
 *
 * Unlocks and ends the RCU read section.  A %NULL or already closed cursor
 * is a no-op; storage that was never opened counts as closed only if it is
 * zero-filled.  Closing does not finish any batch.
 *
 * Context: The thread that opened @c (its RCU read section ends here).
 * Takes no lock, allocates nothing.
 */
void pt_cursor_close(struct pt_cursor *c);

/**
 * pt_cursor_va() - A cursor's current address.
 * @c: an open cursor.
 *
 * No checks: valid only for an open cursor.
 *
 * Context: Any context: takes no lock, allocates nothing.
 * Return: The current address; once the cursor is at its end, `va + len`
 * of its range, which is 0 when that is 2^64.
 */
uint64_t pt_cursor_va(const struct pt_cursor *c);

/**
 * pt_cursor_query() - The mapping at a cursor's current address.
 * @c: an open cursor.
 * @out: where to store the mapping.
 *
 * The whole leaf containing the current address, which may extend beyond
 * the cursor's range (the 2 MiB leaf around a 4 KiB cursor, say).  The
 * cursor does not move.
 *
 * Context: Inside the cursor's locks and RCU read section.  Allocates
 * nothing.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @c is %NULL or not open, or @out is %NULL.
 * - %PT_ENOENT: nothing is mapped at the current address, or the cursor is
 *   at its end.
 */
int pt_cursor_query(struct pt_cursor *c, struct pt_mapping *out);

/**
 * pt_cursor_find_next() - Move to the next mapped address.
 * @c: an open cursor.
 * @len: the window: `[cur, cur + len)` clipped to the cursor's range; any
 *   value but 0, `UINT64_MAX` for "to the end of the range".
 * @va_out: where to store the new current address, or %NULL.
 *
 * Moves the current address to the first mapped address in the window.
 * If the current address is inside a mapping, even one that starts before
 * it, that is the current address itself.  An address in a partly covered
 * last page of the window counts (pt_cursor_take_next() and
 * pt_cursor_protect_next() consider only whole pages of theirs).
 *
 * Context: Inside the cursor's locks and RCU read section.  Allocates
 * nothing.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @c is %NULL or not open, @len is 0, or the cursor is at
 *   its end.
 * - %PT_ENOENT: nothing is mapped in the window; the cursor stays.
 */
int pt_cursor_find_next(struct pt_cursor *c, uint64_t len, uint64_t *va_out);

/**
 * pt_cursor_jump() - Move a cursor anywhere inside its range.
 * @c: an open cursor.
 * @va: the new current address, 4 KiB aligned.
 *
 * Sets the current address to @va, backwards too, and leaves the end
 * state.  On error the cursor stays.
 *
 * Context: Inside the cursor's locks and RCU read section.  Allocates
 * nothing.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @c is %NULL or not open.
 * - %PT_EALIGN: @va is not 4 KiB aligned.
 * - %PT_ERANGE: @va is outside the cursor's range.
 */
int pt_cursor_jump(struct pt_cursor *c, uint64_t va);

/**
 * pt_cursor_map() - Map one leaf at a cursor's current address.
 * @c: an open cursor.
 * @item: the leaf: `va`, `pa`, `size`, `prop` and `tracked`.
 *
 * Maps exactly the leaf @item describes: `item->va` is the current
 * address; `item->size` is a page size of the format no larger than the
 * table's `max_leaf_level` allows (as for pt_map(), one level below the
 * root in a shared kernel half); `item->va` and `item->pa` are aligned to
 * it; `item->prop` is stored normalized; and the leaf lies inside the
 * cursor's range.  A tracked item is a 4 KiB data frame someone holds, and
 * the table takes one new reference on it.  Overlap and empty-node rules
 * are those of pt_map().  On success the current address moves past the
 * leaf.  There is no batch parameter: a replaced empty node is released
 * through a private batch before the call returns.
 *
 * Context: Inside the cursor's locks and RCU read section.  Allocates the
 * missing nodes from the table's phys, reserved before anything is
 * written (%PT_ENOMEM changes nothing), and locks them before publishing
 * them.  May call the invalidation hook, locks held.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @c is %NULL or not open, @item is %NULL, or the cursor is
 *   at its end; `item->va` is not the current address; `item->size` is not
 *   a page size of the format or is above the cap; the item is tracked
 *   and not 4 KiB; `item->prop` cannot be expressed; a tracked frame is
 *   not a data frame someone holds (as pt_map_frames()).
 * - %PT_EALIGN: `item->va` or `item->pa` is not aligned to `item->size`.
 * - %PT_ERANGE: the leaf extends past the cursor's range, or
 *   `pa + size - 1` reaches `pa_limit`.
 * - %PT_EEXIST: part of the leaf's range is already mapped.
 * - %PT_ENOMEM: no frame for a page-table node.
 */
int pt_cursor_map(struct pt_cursor *c, const struct pt_mapping *item);

/**
 * pt_cursor_take_next() - Remove the next mapping or subtree in a window.
 * @c: an open cursor.
 * @len: the window: `[cur, cur + len)` clipped to the cursor's range,
 *   whole pages only; any value but 0, `UINT64_MAX` for "to the end".
 * @out: what was taken, or %NULL.
 * @flush: the batch that collects invalidation and release, bound to the
 *   cursor's table; %NULL: both happen before the call returns.
 *
 * The cursor form of unmap.  It removes the first item in the window, in
 * address order:
 *
 * - A node whose whole range lies inside the window and that holds at
 *   least one mapping is detached with its subtree: `*out` gets `subtree`
 *   true, `va`, `len` (the node's span: 2 MiB for a leaf table, 1 GiB,
 *   512 GiB), `nr_mappings` and `nr_tracked`; `mapping` is zeroed.
 * - A leaf inside the window is removed: `*out` gets `subtree` false and
 *   `mapping`, the leaf as read when it was cleared (A/D included).  The
 *   other fields are unspecified.
 * - A huge leaf only partly inside is split, level by level, until a piece
 *   lies inside, and that piece is taken; the rest stays mapped as smaller
 *   leaves.
 *
 * Empty nodes lying wholly inside the window before the item are detached
 * and freed on the way, and not reported.  Markers are entries of their
 * leaf tables, not mappings: a leaf table of markers only is empty here,
 * and markers go with any node detached (as pt_unmap() removes them).
 * The kernel table's root-slot nodes are never taken whole.  Release works
 * as for pt_unmap(): the caller releases nothing, and tracked frames keep
 * the table's reference until the batch is finished.  On success the
 * current address moves past the item.
 *
 * Context: Inside the cursor's locks and RCU read section.  Allocates from
 * the table's phys only to split a huge leaf partly covered (reserved
 * first).  A full batch is finished early inside the call, and a %NULL
 * @flush is finished before it returns: either way the invalidation hook
 * runs with the cursor's locks held.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @c is %NULL or not open, @len is 0, or @flush is bound to
 *   another table.
 * - %PT_ENOENT: nothing is mapped in the window, or the cursor is at its
 *   end; nothing changes.
 * - %PT_ENOMEM: a huge leaf needs splitting and no frame is free.
 */
int pt_cursor_take_next(struct pt_cursor *c, uint64_t len,
			struct pt_taken *out, struct pt_flush *flush);

/**
 * pt_cursor_protect_next() - Change the property of the next mapping.
 * @c: an open cursor.
 * @len: the window: `[cur, cur + len)` clipped to the cursor's range,
 *   whole pages only; any value but 0, `UINT64_MAX` for "to the end".
 * @op: changes the property it is given (`flags` and `cache` both).
 * @arg: passed to @op.
 * @va_out: where to store the leaf's first address, or %NULL.
 * @len_out: where to store the leaf's length, or %NULL.
 * @flush: the batch that collects the invalidation, bound to the cursor's
 *   table; %NULL: it happens before the call returns.
 *
 * Finds the first leaf in the window, descending into nodes; a huge leaf
 * only partly inside is split so that only the inside piece changes.  It
 * calls `op(&prop, arg)` once with the leaf's current normalized property;
 * the result is normalized and written, while pa, size and trackedness
 * never change.  The leaf's range, after any split, goes to @va_out,
 * @len_out and @flush, and the current address moves past it.
 *
 * @op is called at most once per call, before anything changes, and not
 * at all when the result is %PT_ENOENT.  If the call then fails (an
 * inexpressible result, or %PT_ENOMEM) nothing changes and the cursor
 * stays.
 *
 * Context: Inside the cursor's locks and RCU read section; @op runs there
 * too and must not modify the table.  Allocates from the table's phys only
 * to split a huge leaf partly covered (reserved first).  A full batch is
 * finished early inside the call, and a %NULL @flush before it returns,
 * with the cursor's locks held.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @c is %NULL or not open, @len is 0, @op is %NULL, @flush
 *   is bound to another table, or the result of @op cannot be expressed
 *   (WC without the feature, an unknown flag, ...).
 * - %PT_ENOENT: nothing is mapped in the window, or the cursor is at its
 *   end.
 * - %PT_ENOMEM: a huge leaf needs splitting and no frame is free.
 */
int pt_cursor_protect_next(struct pt_cursor *c, uint64_t len,
			   void (*op)(struct pt_prop *prop, void *arg),
			   void *arg, uint64_t *va_out, uint64_t *len_out,
			   struct pt_flush *flush);

/**
 * pt_cursor_query_marker() - The marker at a cursor's current address.
 * @c: an open cursor.
 * @value: where to store the marker's value.
 *
 * The cursor form of pt_query_marker(): what a fault handler reads before
 * it maps over the marker (a swap-in) under the same cursor, so no other
 * thread can change the page in between.  The cursor does not move.
 *
 * Context: Inside the cursor's locks and RCU read section.  Allocates
 * nothing.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @c is %NULL or not open, or @value is %NULL.
 * - %PT_ENOENT: neither a marker nor a mapping is at the current address,
 *   or the cursor is at its end.
 * - %PT_EEXIST: a mapping is there.
 */
int pt_cursor_query_marker(struct pt_cursor *c, uint64_t *value);

/**
 * pt_cursor_mark() - Put a value in the non-present entries of the next pages.
 * @c: an open cursor.
 * @len: bytes from the current address, a positive multiple of 4 KiB,
 *   inside the cursor's range.
 * @value: the marker's value, below `2^marker_bits` of the format.
 *
 * The cursor form of pt_mark(): every 4 KiB page of `[cur, cur + len)`
 * holds a marker of @value, replacing the markers there, at the sizes
 * pt_mark() uses (a huge marker cut by the range split first).  On success the
 * current address moves past the range; on error nothing changes and the
 * cursor stays.
 *
 * Context: Inside the cursor's locks and RCU read section.  Allocates the
 * missing nodes from the table's phys, reserved before anything is
 * written (%PT_ENOMEM changes nothing), and locks them before publishing
 * them.  Invalidates nothing: the hardware saw no mapping before and sees
 * none after.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @c is %NULL or not open, @len is 0, the cursor is at its
 *   end, or @value is too wide for the format.
 * - %PT_EALIGN: @len is not a multiple of 4 KiB.
 * - %PT_ERANGE: the range extends past the cursor's.
 * - %PT_EEXIST: part of the range is mapped.
 * - %PT_ENOMEM: no frame for a page-table node.
 */
int pt_cursor_mark(struct pt_cursor *c, uint64_t len, uint64_t value);

/**
 * pt_cursor_harvest_next() - Read (and clear) accessed and dirty bits of the next pages.
 * @c: an open cursor.
 * @len: the window: `[cur, cur + len)` clipped to the cursor's range,
 *   whole pages only; any value but 0, `UINT64_MAX` for "to the end".
 * @what: as for pt_harvest().
 * @bitmap: one bit per 4 KiB page of the window as clipped (bit i is page
 *   i from the current address), rounded up to whole `uint64_t` words,
 *   all written.
 * @flush: the batch that collects the invalidations of cleared leaves,
 *   bound to the cursor's table; %NULL: they happen before the call
 *   returns.
 *
 * The cursor form of pt_harvest(), with the same meaning of each bit and
 * the same clearing rules (a huge leaf the window cuts keeps its bits),
 * then the current address moves to the end of the window: a caller can
 * harvest a locked range piece by piece, or harvest and then unmap or
 * protect what it found under the same locks.
 *
 * Context: Inside the cursor's locks and RCU read section.  Allocates
 * nothing.  A full batch is finished early inside the call, and a %NULL
 * @flush before it returns, with the cursor's locks held.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @bitmap is %NULL, @what asks neither bit or has an unknown
 *   one; @c is %NULL or not open, @len is 0, or @flush is bound to another
 *   table.
 * - %PT_ENOENT: the cursor is at its end, or the window holds no whole
 *   page; nothing changes.
 */
int pt_cursor_harvest_next(struct pt_cursor *c, uint64_t len, unsigned what,
			   uint64_t *bitmap, struct pt_flush *flush);

#ifdef __cplusplus
}
#endif
#endif /* PTKIT_CURSOR_H */
