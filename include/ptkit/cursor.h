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

/* Range checks as for pt_unmap (the kernel half of a user table is PT_EPERM
 * here, since a cursor may write). */
int pt_cursor_open(struct pt_cursor *c, struct pt_table *table, uint64_t va,
		   uint64_t len);
void pt_cursor_close(struct pt_cursor *c);

/* Current address.  Once an operation moved past the last page, the cursor
 * is at its end: this is then va + len of the range (0 when that is 2^64),
 * find_next is PT_EINVAL, query, take_next and protect_next PT_ENOENT. */
uint64_t pt_cursor_va(const struct pt_cursor *c);

/* The leaf containing the current address (whole leaf), or PT_ENOENT.  Does
 * not move. */
int pt_cursor_query(struct pt_cursor *c, struct pt_mapping *out);

/*
 * Moves to the first mapped address in [cur, cur + len), clipped to the
 * cursor's range (len may be anything, even UINT64_MAX; an address in a
 * partly covered last page counts; take_next and protect_next consider only
 * whole pages of their window).  If cur is inside a
 * mapping, that is cur.  PT_ENOENT if none: the cursor then stays.
 * PT_EINVAL for len 0 or a cursor already at its end.
 */
int pt_cursor_find_next(struct pt_cursor *c, uint64_t len, uint64_t *va_out);

/* Moves to va, which must be 4 KiB aligned (PT_EALIGN) and inside the
 * cursor's range (PT_ERANGE). */
int pt_cursor_jump(struct pt_cursor *c, uint64_t va);

/*
 * Maps one leaf at the current address: item->va must equal it, item->size
 * must be a leaf size of the table, va and pa aligned to it.  Tracked items
 * are 4 KiB frames and take one reference.  PT_EEXIST if any of it is mapped.
 * Moves past the new leaf.
 */
int pt_cursor_map(struct pt_cursor *c, const struct pt_mapping *item);

/*
 * Removes the next mapping in [cur, cur + len) (clipped to the range): a
 * leaf inside the range, or a whole subtree whose range lies inside it; a
 * huge leaf only partly inside is split first.  Release goes into `flush`
 * (NULL: done before return).  Moves past what it took.  PT_ENOENT if
 * nothing is mapped there.
 */
int pt_cursor_take_next(struct pt_cursor *c, uint64_t len,
			struct pt_taken *out, struct pt_flush *flush);

/*
 * Applies op to the next mapping in [cur, cur + len), splitting a huge leaf
 * that is only partly inside.  The result is normalized; an inexpressible
 * one is PT_EINVAL and changes nothing.  Reports the leaf's range and moves
 * past it.  PT_ENOENT if nothing is mapped there.
 */
int pt_cursor_protect_next(struct pt_cursor *c, uint64_t len,
			   void (*op)(struct pt_prop *prop, void *arg),
			   void *arg, uint64_t *va_out, uint64_t *len_out,
			   struct pt_flush *flush);

#ifdef __cplusplus
}
#endif
#endif /* PTKIT_CURSOR_H */
