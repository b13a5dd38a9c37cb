/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cortenmm.pml - a Spin model of ptkit's concurrency protocol (design §6,
 * the freeing rules of §5).  See README.md next to this file for how to run
 * it and what each broken variant shows.
 *
 * Scale: a 3-level tree, 2 slots per node, 8 pages:
 *
 *   position 0                 the root (level 3), never detached
 *   positions 1, 2             level-2 nodes ("M0", "M1") under root slots 0, 1
 *   positions 3, 4, 5, 6       leaf tables (level 1) under M0 slots 0, 1 and M1 slots 0, 1
 *   pages 0..7                 the slots of the leaf tables (page 2*(pos-3) + slot)
 *
 * A *position* is a place in the tree; a *node* is a piece of memory (an id
 * in a pool).  A position may hold different nodes over time (a node is
 * detached, a new one is allocated in its place); a walker may still hold a
 * pointer to the old one.  Node ids are never reused: `freed` stays set, so
 * any later access to a freed node is caught, whether or not the memory
 * would have been reused.
 *
 * Slots (PTEs): EMPTY, LEAF (a base page in a leaf table, a huge page
 * above), or NODE(k) (a pointer to node k).
 *
 * Processes: two cursors (map or unmap on a nondeterministic range), one
 * lock-free walker (queries of nondeterministic pages), and the RCU
 * callback thread (liburcu's call_rcu worker) that frees handed-over nodes
 * after a grace period.
 *
 * Where each part is (design §6 steps; C functions in src/):
 *   step 1  proctype cursor, walk_step     lock_deepest's lock-free descent
 *                                          (cursor/cursor_template.h)
 *   step 2  proctype cursor, lock_body +   lock_deepest: pt_node_lock,
 *           the `st` retry                 pt_node_stray, retry
 *   step 3  next_desc + the lock loop      lock_descendants
 *   step 4  map_l1..3, map_prepare_body    map_prepare / map_commit
 *           unmap_l1..3                    walk_commit, unmap_whole_run
 *           alloc_node, keep_new           entry_alloc_child / pt_node_new,
 *                                          entry_publish_new, entry_split_huge
 *                                          (nodes/entry_template.h)
 *           detach                         entry_detach_node + subtree_mark_stray
 *                                          (being renamed subtree_retire)
 *   step 5  the unlock loop                cursor_unlock / lock_descendants(..., false)
 *           release_detached_body          flush finish -> subtree_release ->
 *                                          rcu_defer = call_rcu
 *                                          (table/table_template.h)
 *   RCU     rcu_nest, rcu_unlock_body,     rcu_read_lock / rcu_read_unlock,
 *           proctype rcu_worker            call_rcu worker -> node_free_rcu
 *   walker  proctype walker                table_query / lookup_leaf (and the
 *                                          MMU), under rcu_read_lock only
 * The model follows the protocol as design §6 states it: a node this cursor
 * allocates stays locked until step 5 (like the nodes of step 3); detached
 * nodes are unlocked when they are retired; frees go through call_rcu.
 *
 * Properties (see README.md):
 *   P1 mutual exclusion  - ghost `owner[page]`, set when step 3 is over and
 *                          cleared when step 5 starts: assertion in
 *                          claim_body that no page is owned twice.
 *   P2 no use after free - assert(!freed[n]) on every slot read, lock,
 *                          unlock and slot write, by cursors and walker.
 *   P3 no waiting forever - invalid end states (deadlock) in the safety
 *                          run; the LTL property `finish` under weak
 *                          fairness in the liveness runs.
 *   Auxiliary checks (AUX, off with -DNO_AUX): a cursor writes a slot only
 *   of a node it holds locked and that is not stray (no update lost in a
 *   detached subtree); it marks stray only nodes it holds locked.
 *
 * Build-time switches (spin -D...):
 *   NSESS=n         lock sessions per cursor (default 1; 2 is too big to
 *                   search exhaustively)
 *   NQUERY=n        queries of a finite walker (default 2)
 *   WALKER_FOREVER  the walker never stops (for the liveness check)
 *   REACH=k         COVER(k) fails: shows that case k is reached
 *   NO_AUX          leave out the auxiliary checks
 * Broken variants:
 *   BROKEN_NO_GRACE       free at hand-over time, no grace period      -> P2
 *   BROKEN_NO_STRAY_CHECK step 2 does not re-check `stray`             -> P1
 *                         (and the AUX lost-update check)
 *   BROKEN_NO_DESC_LOCK   step 3 left out                              -> P1
 *   BROKEN_BOTTOM_UP      step 3 locks descendants deepest-first       -> P3 (deadlock)
 *   BROKEN_UNLOCK_NEW     a node allocated by map/split is unlocked
 *                         right after it is published                 -> P1
 *   BROKEN_GP_ALL_OUT     the grace period waits for a moment with no
 *                         reader at all: safe, but starves            -> P3 (liveness,
 *                                                                       with WALKER_FOREVER)
 */

#ifndef NSESS
#define NSESS 1                 /* lock sessions (lock_deepest .. cursor_unlock) per cursor */
#endif

#define NCUR     2              /* cursors: process ids 0, 1 in the RCU arrays */
#define WALKER   2              /* the walker's index in the RCU arrays */
#define NREAD    3              /* processes that enter RCU read sections */
#ifdef WALKER_FOREVER
#define NFINITE  NCUR           /* processes that finish: the cursors */
#else
#define NFINITE  (NCUR + 1)     /* processes that finish: cursors and walker */
#endif
#define NINIT    4              /* nodes present at start: root, M0, LT00, M1 */
#define MAXALLOC (3 * NSESS)    /* nodes one cursor may allocate (3 per map at most) */
#define NNODES   (NINIT + NCUR * MAXALLOC)
#define NPAGES   8
#define NONE     255

#define EMPTY    0
#define LEAF     1
#define NODE(k)  ((k) + 2)
#define ISNODE(s) ((s) >= 2)
#define ID(s)    ((s) - 2)
#define ROOT     0

/* Geometry of a position p: its level, first page and number of pages. */
#define LEVEL(p)  ((p) == 0 -> 3 : ((p) <= 2 -> 2 : 1))
#define PFIRST(p) ((p) == 0 -> 0 : ((p) <= 2 -> ((p) - 1) * 4 : ((p) - 3) * 2))
#define PSIZE(p)  ((p) == 0 -> 8 : ((p) <= 2 -> 4 : 2))
#define CHILD(p, i) (2 * (p) + 1 + (i))
#define PARENT(q) (((q) - 1) / 2)
#define CIDX(q)   (((q) - 1) % 2)
/* Slot of position p (above the leaf tables) that holds page pg. */
#define SIDX(p, pg) (((pg) - PFIRST(p)) / (PSIZE(p) / 2))
/* Whether position q overlaps / is wholly inside the cursor's [lo, hi]. */
#define OVL(q) (PFIRST(q) <= hi && lo <= PFIRST(q) + PSIZE(q) - 1)
#define COV(q) (lo <= PFIRST(q) && PFIRST(q) + PSIZE(q) - 1 <= hi)
/* Depth-first, top-down, left-to-right order of the positions (the global
 * lock order) and the index of a position in it; a subtree is contiguous. */
#define PRE(k) ((k) == 0 -> 0 : ((k) == 1 -> 1 : ((k) == 2 -> 3 : ((k) == 3 -> 4 : \
                ((k) == 4 -> 2 : ((k) == 5 -> 5 : 6))))))
#define IDX(p) ((p) == 0 -> 0 : ((p) == 1 -> 1 : ((p) == 3 -> 2 : ((p) == 4 -> 3 : \
                ((p) == 2 -> 4 : ((p) == 5 -> 5 : 6))))))
#define SUBLEN(p) (LEVEL(p) == 3 -> 7 : (LEVEL(p) == 2 -> 3 : 1))

/* ---- shared state ---- */

byte slot[2 * NNODES];          /* the PTEs of every node */
byte lk[NNODES];                /* node spin lock: 0 free, c+1 held by cursor c */
bool stray[NNODES];             /* detached (pt_node_stray) */
bool freed[NNODES];             /* memory returned to the frame allocator */
bool pending[NNODES];           /* handed to RCU (call_rcu), grace period not yet over */
byte npending;
byte detby[NNODES];             /* detached by cursor c+1, not yet handed to RCU */

byte rcu_nest[NREAD];           /* RCU read-section counter per process */
bool gp_wait[NREAD];            /* the current grace period waits for this process */

byte owner[NPAGES];             /* ghost (P1): cursor c+1 holds this page for writing */
byte ndone;                     /* cursors and walker that finished */
bool rcu_worker_done;           /* the RCU worker freed everything and stopped */

/*
 * Reachability of the interesting interleavings.  COVER(k) is a no-op
 * unless the model is built with -DREACH=k: then it is an assertion that
 * fails when reached, so a run that reports it shows the search does
 * exercise that case (tests/spin/run_spin.sh runs them all):
 *   1 a cursor locked a node that was detached meanwhile and retried
 *   2 the walker read a slot of a detached (stray) node
 *   3 a grace period had to wait for a reader
 *   4 a cursor waited for a node locked by the other cursor
 *   5 both cursors held their (disjoint) ranges at the same time
 *   6 a subtree was detached and freed after its grace period
 *   7 map allocated under the root (after the other cursor detached M0)
 *   8 unmap split a huge leaf
 */
#ifndef REACH
#define REACH 0
#endif

/* The auxiliary checks (a cursor writes only nodes it holds locked and
 * that are in the tree; it detaches only nodes it holds locked).  -DNO_AUX
 * leaves them out, so that a broken variant must be caught by P1-P3. */
#ifdef NO_AUX
#define AUX(e) skip
#else
#define AUX(e) assert(e)
#endif
#define COVER(k) assert(REACH != (k))

/* ---- RCU (liburcu / the freestanding hooks) ---- */

/* Leaving the outermost read section is a quiescent state for a grace
 * period in progress.  Used inside atomic sequences. */
inline rcu_unlock_body(r)
{
	rcu_nest[r]--;
	if
	:: rcu_nest[r] == 0 -> gp_wait[r] = 0
	:: else
	fi
}

/* ---- node access ---- */

/* pt_node_lock: spin until free (the first statement of an atomic
 * sequence: the process waits there).  Modelled as a blocking wait, so a
 * cursor that can never get the lock shows up as an invalid end state.
 * The option guarded by REACH == 4 exists only in that coverage build. */
inline lock_body(n)
{
	if
	:: lk[n] == 0 -> assert(!freed[n]); lk[n] = me + 1
	:: REACH == 4 && lk[n] != 0 && lk[n] != me + 1 -> COVER(4)
	fi
}

inline unlock_body(n)
{
	assert(!freed[n]); AUX(lk[n] == me + 1); lk[n] = 0
}

/* A store into a slot by a cursor: only into a node it holds locked that is
 * still in the tree (entry_store / entry_replace / entry_publish). */
inline write_slot(n, i, v)
{
	atomic {
		assert(!freed[n]);             /* P2 */
		AUX(lk[n] == me + 1);
		AUX(!stray[n]);                /* no update lost in a detached subtree */
		slot[2 * (n) + (i)] = v
	}
}

/* ---- the cursor ---- */

/*
 * The operation and range of a lock session.  With the initial tree
 * root -> M0 -> LT00 {page 0}, root -> M1 {huge leaf over pages 4-5}:
 *   0 unmap [0,0]  locks LT00 (a leaf table), clears page 0
 *   1 map   [1,1]  locks LT00, writes page 1
 *   2 unmap [0,1]  stops at M0 (exactly one whole entry), detaches LT00
 *   3 unmap [0,3]  stops at the root (one whole entry), detaches M0 + LT00
 *   4 map   [2,2]  stops at M0 (no node below), allocates LT01
 *                  (or, once M0 is gone, M0' and LT01' under the root)
 *   5 unmap [3,4]  the root (several entries); locks M0, LT01, M1 below,
 *                  splits the huge leaf
 *   6 unmap [4,4]  stops at M1 (huge leaf), splits it: allocates LT10
 *   7 map   [0,1]  M0, whole entry: PT_EEXIST while page 0 is mapped,
 *                  else detaches the empty LT00 in the way, huge leaf
 *   8 map   [1,2]  M0 (several entries) with LT00 below: page 1 in LT00,
 *                  allocates LT01 for page 2
 *   9 map   [3,4]  the root: PT_EEXIST while the huge leaf is there, else
 *                  allocates LT01 under the locked M0 (or M0' + LT01') and
 *                  maps page 4 in the split LT10
 * Ranges overlap for some pairs of choices and not for others.
 */
#define NCHOICE 10
inline choose_op(c)
{
	atomic {
		if
		:: c == 0 -> lo = 0; hi = 0; unmap = 1
		:: c == 1 -> lo = 1; hi = 1; unmap = 0
		:: c == 2 -> lo = 0; hi = 1; unmap = 1
		:: c == 3 -> lo = 0; hi = 3; unmap = 1
		:: c == 4 -> lo = 2; hi = 2; unmap = 0
		:: c == 5 -> lo = 3; hi = 4; unmap = 1
		:: c == 6 -> lo = 4; hi = 4; unmap = 1
		:: c == 7 -> lo = 0; hi = 1; unmap = 0
		:: c == 8 -> lo = 1; hi = 2; unmap = 0
		:: c == 9 -> lo = 3; hi = 4; unmap = 0
		fi;
		/* The deepest position whose range holds [lo, hi], stopping
		 * where the range spans several entries or exactly one whole
		 * entry (range_stop_shift, read off the range once). */
		p = 0;
		do
		:: LEVEL(p) == 1 -> break
		:: LEVEL(p) > 1 && SIDX(p, lo) != SIDX(p, hi) -> break
		:: LEVEL(p) > 1 && SIDX(p, lo) == SIDX(p, hi) && COV(CHILD(p, SIDX(p, lo))) -> break
		:: else -> p = CHILD(p, SIDX(p, lo))
		od;
		tgt = p; p = 0
	}
}

/* One step of the lock-free walk of step 1: read the slot towards tgt (an
 * acquire load of a PTE; memory is sequentially consistent in the model). */
inline walk_step()
{
	assert(!freed[n]);
	s = slot[2 * n + SIDX(p, lo)];
	if
	:: ISNODE(s) -> n = ID(s); p = CHILD(p, SIDX(p, lo))
	:: else -> stop = 1                    /* absent, or a huge leaf */
	fi;
	s = 0
}

/* Ghost (P1): the cursor now owns [lo, hi] for writing. */
inline claim_body()
{
	k = lo;
	do
	:: k <= hi ->
		assert(owner[k] == 0);          /* P1: nobody else holds this page */
		if
		:: owner[lo] == 0 && owner[hi] == 0 && owner[0] + owner[1] + owner[2] + owner[3] +
		   owner[4] + owner[5] + owner[6] + owner[7] != 0 -> COVER(5)
		:: else
		fi;
		owner[k] = me + 1; k++
	:: else -> break
	od;
	k = 0
}

/* map_prepare: PT_EEXIST if any page of [lo, hi] is mapped (all or
 * nothing).  Reads only nodes this cursor holds locked. */
inline map_prepare_body()
{
	eexist = 0;
	k = lo;
	do
	:: k <= hi ->
		wn = n; wq = p;
		do
		:: LEVEL(wq) == 1 ->
			eexist = eexist || slot[2 * wn + (k - PFIRST(wq))] == LEAF;
			break
		:: else ->
			s = slot[2 * wn + SIDX(wq, k)];
			if
			:: s == LEAF -> eexist = 1; break
			:: ISNODE(s) -> wn = ID(s); wq = CHILD(wq, SIDX(wq, k))
			:: else -> break
			fi
		od;
		k++
	:: else -> break
	od;
	wn = 0; wq = 0; s = 0; k = 0
}

/*
 * Step 3 (lock_descendants), one node at a time: the next position below p
 * in the global order (depth first, top-down, left to right) that overlaps
 * [lo, hi] and holds a node, read from its parent, which this cursor holds
 * locked (so the slot cannot change).  Sets x (NONE when step 3 is over)
 * and q.  When it is over, the cursor holds its range: claim it (P1) and,
 * for map, run the prepare pass.
 */
inline next_desc()
{
	x = NONE;
	do
	:: k >= IDX(p) + SUBLEN(p) -> break
	:: else ->
		q = PRE(k);
		if
		:: at[PARENT(q)] != NONE && OVL(q) && ISNODE(slot[2 * at[PARENT(q)] + CIDX(q)]) ->
			AUX(lk[at[PARENT(q)]] == me + 1);
			x = ID(slot[2 * at[PARENT(q)] + CIDX(q)]);
			break
		:: else -> k++
		fi
	od;
	if
	:: x == NONE ->
		q = 0; k = 0;
		claim_body();
		if
		:: !unmap -> map_prepare_body()
		:: else
		fi
	:: else
	fi
}

/* entry_alloc_child / pt_node_new (and entry_split_huge): a fresh node from
 * this cursor's own pool, locked, fully initialised, not yet published. */
inline alloc_node(x, q, fill)
{
	atomic {
		assert(nalloc < MAXALLOC);
		x = NINIT + me * MAXALLOC + nalloc;
		nalloc++;
		lk[x] = me + 1;
		slot[2 * x] = fill;
		slot[2 * x + 1] = fill;
		at[q] = x
	}
}

/* After entry_publish_new: the new node stays locked until step 5, like
 * the nodes of step 3 (lock_descendants(..., false) unlocks "the ones this cursor
 * created").  BROKEN_UNLOCK_NEW unlocks it at once instead. */
inline keep_new(x)
{
#ifdef BROKEN_UNLOCK_NEW
	atomic { unlock_body(x) }
#else
	held[nheld] = x; nheld++
#endif
}

/*
 * entry_detach_node: unlink the child x from slot i of the locked node n,
 * then subtree_mark_stray (subtree_retire in the newer code): every node of
 * the subtree is marked stray while this cursor holds it locked, and
 * unlocked; the subtree is handed to RCU after step 5 (release_detached).
 * A detached node is at level 2 or 1, so the subtree is x and its children.
 */
inline detach(n, i, x)
{
	write_slot(n, i, EMPTY);
	atomic {
		assert(!freed[x]); AUX(lk[x] == me + 1);
		stray[x] = 1; detby[x] = me + 1;
		k = 0;
		do
		:: k < 2 ->
			if
			:: ISNODE(slot[2 * x + k]) ->
				y = ID(slot[2 * x + k]);
				assert(!freed[y]); AUX(lk[y] == me + 1);
				stray[y] = 1; detby[y] = me + 1; lk[y] = 0
			:: else
			fi;
			k++
		:: else -> break
		od;
		lk[x] = 0; k = 0; y = 0
	}
}

/* ---- step 4, map (map_prepare / map_commit): one inline per level, since
 * Promela inlines cannot recurse.  A whole entry above the leaf tables gets
 * a huge leaf (an empty subtree in the way is detached first); a partly
 * covered absent entry gets a new child node, filled before it is
 * published (entry_alloc_child, map_commit, entry_publish_new). */

inline map_l1(n1, p1)
{
	i1 = 0;
	do
	:: i1 < 2 ->
		if
		:: PFIRST(p1) + i1 >= lo && PFIRST(p1) + i1 <= hi -> write_slot(n1, i1, LEAF)
		:: else
		fi;
		i1++
	:: else -> break
	od
}

inline map_l2(n2, p2)
{
	i2 = 0;
	do
	:: i2 < 2 ->
		c2 = CHILD(p2, i2);
		if
		:: OVL(c2) ->
			s2 = slot[2 * (n2) + i2];
			if
			:: COV(c2) ->
				if
				:: ISNODE(s2) -> detach(n2, i2, ID(s2))
				:: else
				fi;
				write_slot(n2, i2, LEAF)
			:: !COV(c2) && s2 == EMPTY ->
				alloc_node(x2, c2, EMPTY);
				map_l1(x2, c2);
				write_slot(n2, i2, NODE(x2));
				keep_new(x2)
			:: !COV(c2) && ISNODE(s2) ->
				map_l1(ID(s2), c2)
			:: else -> assert(false)       /* map_prepare found the leaf */
			fi
		:: else
		fi;
		i2++
	:: else -> break
	od
}

inline map_l3(n3, p3)
{
	i3 = 0;
	do
	:: i3 < 2 ->
		c3 = CHILD(p3, i3);
		if
		:: OVL(c3) ->
			s3 = slot[2 * (n3) + i3];
			if
			:: COV(c3) ->
				if
				:: ISNODE(s3) -> detach(n3, i3, ID(s3))
				:: else
				fi;
				write_slot(n3, i3, LEAF)
			:: !COV(c3) && s3 == EMPTY ->
				COVER(7);
				alloc_node(x3, c3, EMPTY);
				map_l2(x3, c3);
				write_slot(n3, i3, NODE(x3));
				keep_new(x3)
			:: !COV(c3) && ISNODE(s3) ->
				map_l2(ID(s3), c3)
			:: else -> assert(false)
			fi
		:: else
		fi;
		i3++
	:: else -> break
	od
}

/* ---- step 4, unmap (walk_commit / unmap_whole_run / walk_detach):
 * whole entries lose their leaf or are detached with their subtree; a
 * partly covered huge leaf is split first (entry_split_huge: a new child
 * with the leaves of the next size, published, then unmapped in part). */

inline unmap_l1(n1, p1)
{
	i1 = 0;
	do
	:: i1 < 2 ->
		if
		:: PFIRST(p1) + i1 >= lo && PFIRST(p1) + i1 <= hi && slot[2 * (n1) + i1] != EMPTY ->
			write_slot(n1, i1, EMPTY)
		:: else
		fi;
		i1++
	:: else -> break
	od
}

inline unmap_l2(n2, p2)
{
	i2 = 0;
	do
	:: i2 < 2 ->
		c2 = CHILD(p2, i2);
		if
		:: OVL(c2) ->
			s2 = slot[2 * (n2) + i2];
			if
			:: COV(c2) && s2 == LEAF -> write_slot(n2, i2, EMPTY)
			:: COV(c2) && ISNODE(s2) -> detach(n2, i2, ID(s2))
			:: !COV(c2) && s2 == LEAF ->
				COVER(8);
				alloc_node(x2, c2, LEAF);
				write_slot(n2, i2, NODE(x2));
				keep_new(x2);
				unmap_l1(x2, c2)
			:: !COV(c2) && ISNODE(s2) -> unmap_l1(ID(s2), c2)
			:: else                            /* empty */
			fi
		:: else
		fi;
		i2++
	:: else -> break
	od
}

inline unmap_l3(n3, p3)
{
	i3 = 0;
	do
	:: i3 < 2 ->
		c3 = CHILD(p3, i3);
		if
		:: OVL(c3) ->
			s3 = slot[2 * (n3) + i3];
			if
			:: COV(c3) && s3 == LEAF -> write_slot(n3, i3, EMPTY)
			:: COV(c3) && ISNODE(s3) -> detach(n3, i3, ID(s3))
			:: !COV(c3) && s3 == LEAF ->
				alloc_node(x3, c3, LEAF);
				write_slot(n3, i3, NODE(x3));
				keep_new(x3);
				unmap_l2(x3, c3)
			:: !COV(c3) && ISNODE(s3) -> unmap_l2(ID(s3), c3)
			:: else
			fi
		:: else
		fi;
		i3++
	:: else -> break
	od
}

/* Hand the subtrees this cursor detached to RCU, after the TLB flush
 * (pt_flush finish -> subtree_release -> platform rcu_defer = call_rcu).
 * BROKEN_NO_GRACE frees them at once. */
inline release_detached_body()
{
	k = 0;
	do
	:: k < NNODES ->
		if
		:: detby[k] == me + 1 ->
			detby[k] = 0;
#ifdef BROKEN_NO_GRACE
			freed[k] = 1
#else
			pending[k] = 1; npending++
#endif
		:: else
		fi;
		k++
	:: else -> break
	od;
	k = 0
}

proctype cursor(byte me; byte choice)
{
	byte lo, hi;            /* the cursor's range, in pages */
	bool unmap;             /* the operation: unmap, else map */
	byte tgt;               /* the position step 1 aims at (stop_shift) */
	byte n, p;              /* the node step 1 reached and its position */
	bool stop, st;
	byte at[7];             /* node locked by this cursor at each position */
	byte held[NNODES];      /* locks in the order taken (step 5 undoes it) */
	byte nheld, nalloc, sess;
	byte k, q, s, x, y;
	byte wn, wq;            /* map_prepare's walk */
	byte i1, i2, s2, c2, x2, i3, s3, c3, x3;
	bool eexist;

	do
	:: sess < NSESS ->
		if
		:: sess > 0 -> select(choice : 0 .. NCHOICE - 1)
		:: else
		fi;
		choose_op(choice);

retry:
		/* design §6 step 1 (lock_deepest): inside a read section, walk
		 * down lock-free from the root towards tgt; stop early where
		 * there is no child node (absent, or a huge leaf). */
		atomic { rcu_nest[me]++; n = ROOT; p = 0; stop = 0 }
		do
		:: p == tgt || stop -> break
		:: else -> atomic { walk_step() }
		od;

		/* Step 2: lock it (pt_node_lock); re-check stray; step 3 starts
		 * in the same step, since nothing another process does can
		 * change what this cursor reads under its lock. */
		atomic {
			lock_body(n);
#ifndef BROKEN_NO_STRAY_CHECK
			st = stray[n];
#endif
			if
			:: !st ->
				k = 0;
				do
				:: k < 7 -> at[k] = NONE; k++
				:: else -> break
				od;
				at[p] = n; held[0] = n; nheld = 1;
				k = IDX(p) + 1;
#if defined(BROKEN_NO_DESC_LOCK)
				k = IDX(p) + SUBLEN(p);        /* step 3 left out */
#endif
				next_desc()
			:: else
			fi
		}
		if
		:: st ->
			/* Detached meanwhile: unlock, leave the read section,
			 * start again from the root. */
			COVER(1);
			atomic { unlock_body(n); rcu_unlock_body(me); st = 0 }
			goto retry
		:: else
		fi;

		/* Step 3 (lock_descendants): lock the nodes found by next_desc
		 * one by one, in the global order. */
#if defined(BROKEN_BOTTOM_UP)
		/* Broken: find them all first (lock-free), then lock them
		 * deepest and rightmost first, not in the global order. */
		if
		:: x != NONE ->
			atomic {
				do
				:: x != NONE ->
					at[q] = x; held[nheld] = x; nheld++; k++;
					x = NONE;
					do
					:: k >= IDX(p) + SUBLEN(p) -> break
					:: else ->
						q = PRE(k);
						if
						:: at[PARENT(q)] != NONE && OVL(q) &&
						   ISNODE(slot[2 * at[PARENT(q)] + CIDX(q)]) ->
							assert(!freed[at[PARENT(q)]]);
							x = ID(slot[2 * at[PARENT(q)] + CIDX(q)]);
							break
						:: else -> k++
						fi
					od
				:: else -> break
				od;
				k = nheld - 1
			}
			do
			:: k > 0 -> atomic { lock_body(held[k]); k-- }
			:: else -> break
			od;
			atomic {
				claim_body();
				if
				:: !unmap -> map_prepare_body()
				:: else
				fi
			}
		:: else
		fi;
#else
		do
		:: x != NONE ->
			atomic {
				lock_body(x);
				at[q] = x; held[nheld] = x; nheld++; k++;
				next_desc()
			}
		:: else -> break
		od;
#endif

		/* Step 4: work, on the locked node n at position p.  The cursor
		 * holds [lo, hi] (claimed in next_desc). */
		if
		:: unmap ->
			if
			:: LEVEL(p) == 3 -> unmap_l3(n, p)
			:: LEVEL(p) == 2 -> unmap_l2(n, p)
			:: LEVEL(p) == 1 -> unmap_l1(n, p)
			fi
		:: !unmap && eexist                           /* PT_EEXIST: nothing changes */
		:: !unmap && !eexist ->
			if
			:: LEVEL(p) == 3 -> map_l3(n, p)
			:: LEVEL(p) == 2 -> map_l2(n, p)
			:: LEVEL(p) == 1 -> map_l1(n, p)
			fi
		fi;

		/* Step 5 (cursor_unlock / lock_descendants(..., false)): give up the
		 * range, unlock in reverse order (detached nodes were unlocked
		 * when they were retired), leave the read section; then the
		 * flush hands the detached subtrees to RCU. */
		atomic {
			k = lo;
			do
			:: k <= hi -> owner[k] = 0; k++
			:: else -> break
			od;
			nheld--;
			if
			:: lk[held[nheld]] == me + 1 -> unlock_body(held[nheld])
			:: else
			fi
		}
		do
		:: nheld > 0 ->
			atomic {
				nheld--;
				if
				:: lk[held[nheld]] == me + 1 -> unlock_body(held[nheld])
				:: else
				fi
			}
		:: else -> break
		od;
		atomic {
			rcu_unlock_body(me);
			release_detached_body();
			k = 0;
			do
			:: k < NNODES -> held[k] = 0; k++
			:: else -> break
			od;
			k = 0;
			do
			:: k < 7 -> at[k] = 0; k++
			:: else -> break
			od;
			k = 0; n = 0; p = 0; tgt = 0; lo = 0; hi = 0; unmap = 0; eexist = 0;
			i1 = 0; i2 = 0; s2 = 0; c2 = 0; x2 = 0; i3 = 0; s3 = 0; c3 = 0; x3 = 0;
			stop = 0; x = 0; choice = 0;
			sess++;
			if
			:: sess == NSESS -> ndone++
			:: else
			fi
		}
	:: else -> break
	od
}

/* ---- the lock-free walker (table_query / lookup_leaf, and the MMU's view):
 * NQUERY queries (-DWALKER_FOREVER: queries without end), each inside its
 * own read section: read slots from the root down to the leaf of one
 * page; never locks, never checks stray. */
#ifndef NQUERY
#define NQUERY 2
#endif

proctype walker()
{
	byte pg, n, p, s, nq;
	bool fin;

	do
	:: nq < NQUERY ->
		if
		:: pg = 0
		:: pg = 1
		:: pg = 2
		:: pg = 4
		fi;
		atomic { rcu_nest[WALKER]++; n = ROOT; p = 0 }
		do
		:: !fin ->
			atomic {
				assert(!freed[n]);                   /* P2 */
				if
				:: stray[n] -> COVER(2)
				:: else
				fi;
				if
				:: LEVEL(p) == 1 -> s = slot[2 * n + pg - PFIRST(p)]   /* the leaf value */
				:: else -> s = slot[2 * n + SIDX(p, pg)]
				fi;
				if
				:: LEVEL(p) > 1 && ISNODE(s) -> n = ID(s); p = CHILD(p, SIDX(p, pg))
				:: else ->                           /* a leaf, or absent: the answer */
					rcu_unlock_body(WALKER);
					fin = 1; pg = 0; n = 0; p = 0;
#ifndef WALKER_FOREVER
					nq++;
					if
					:: nq == NQUERY -> ndone++
					:: else
					fi
#endif
				fi;
				s = 0
			}
		:: else -> fin = 0; break
		od
	:: else -> break
	od
}

/* ---- RCU callbacks (liburcu's call_rcu thread; node_free_rcu /
 * subtree_release on the C side): take what was handed over, start a grace
 * period, wait until every process that was inside a read section when it
 * started has left it, then free. */
proctype rcu_worker()
{
	bool batch[NNODES];
	byte k;

	do
	:: npending > 0 ->
		atomic {
			k = 0;
			do
			:: k < NNODES ->
				if
				:: pending[k] -> batch[k] = 1; pending[k] = 0
				:: else
				fi;
				k++
			:: else -> break
			od;
			npending = 0;
			k = 0;
			do                                      /* the grace period starts */
			:: k < NREAD -> gp_wait[k] = rcu_nest[k] > 0; k++
			:: else -> break
			od;
			k = 0;
			if
			:: gp_wait[0] || gp_wait[1] || gp_wait[2] -> COVER(3)
			:: else
			fi
		};
		atomic {
#ifdef BROKEN_GP_ALL_OUT
			/* Broken: wait for a moment when no process at all is
			 * inside a read section (safe, but readers that keep
			 * coming can hold it up forever). */
			rcu_nest[0] == 0 && rcu_nest[1] == 0 && rcu_nest[2] == 0;
#else
			!gp_wait[0] && !gp_wait[1] && !gp_wait[2];   /* ... and ends */
#endif
			COVER(6);
			k = 0;
			do
			:: k < NNODES ->
				if
				:: batch[k] -> freed[k] = 1; batch[k] = 0
				:: else
				fi;
				k++
			:: else -> break
			od;
			k = 0
		}
	:: ndone == NFINITE && npending == 0 -> break
	od;
	rcu_worker_done = 1
}

/* P3: every cursor (and the walker, unless it runs forever) finishes, and
 * the RCU worker frees what was handed to it and stops.  Checked with
 * pan -a -f (weak fairness: a process that stays able to move does). */
ltl finish { <> (ndone == NFINITE && rcu_worker_done) }

init {
	byte c0, c1;

	/* root -> M0 -> LT00 {page 0 mapped}; root -> M1 {huge leaf, pages 4-5} */
	atomic {
		slot[2 * 0 + 0] = NODE(1);      /* root slot 0 -> M0 (node 1, position 1) */
		slot[2 * 0 + 1] = NODE(3);      /* root slot 1 -> M1 (node 3, position 2) */
		slot[2 * 1 + 0] = NODE(2);      /* M0 slot 0 -> LT00 (node 2, position 3) */
		slot[2 * 2 + 0] = LEAF;         /* page 0 */
		slot[2 * 3 + 0] = LEAF;         /* M1 slot 0: a huge leaf over pages 4-5 */
		/* The two cursors are identical but for their id, so running
		 * only the pairs of first-session choices with c0 <= c1 loses no
		 * behaviour (the others are the same runs, cursors swapped). */
		select(c0 : 0 .. NCHOICE - 1);
		select(c1 : c0 .. NCHOICE - 1);
		run cursor(0, c0);
		run cursor(1, c1);
		run walker();
		run rcu_worker();
		c0 = 0; c1 = 0
	}
}
