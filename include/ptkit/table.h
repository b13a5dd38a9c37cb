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
	uint64_t tag;            /* reported in every pt_flush_info (a VMID,
				  * ASID, PCID or EPTP); pt_table_set_tag() */
};

/**
 * pt_table_create() - Create an empty table for one half, default options.
 * @phys: where the table's frames come from.
 * @fmt: the page-table format, such as `pt_format_x86_64`.
 * @space: %PT_SPACE_USER or %PT_SPACE_KERNEL.
 * @out: where to store the new table.
 *
 * pt_table_create_opts() with %NULL options: the format's largest pages,
 * the platform's invalidation hook and features, not live.
 *
 * Context: As pt_table_create_opts().
 * Return: As pt_table_create_opts().
 */
int pt_table_create(struct pt_phys *phys, const struct pt_format *fmt,
		    enum pt_space space, struct pt_table **out);

/**
 * pt_table_create_opts() - Create an empty table for one half.
 * @phys: where the table's frames come from.
 * @fmt: the page-table format, such as `pt_format_x86_64`.
 * @space: %PT_SPACE_USER or %PT_SPACE_KERNEL.
 * @opts: options (page-size cap, invalidation hook, live, features), or
 *   %NULL for the defaults.
 * @out: where to store the new table.
 *
 * A %PT_SPACE_USER table made this way covers only the user half:
 * kernel-half ranges are %PT_ERANGE (for a process table that sees the
 * kernel, use pt_table_create_user()).  A %PT_SPACE_KERNEL table covers
 * only the kernel half.  Where the format shares one root between the
 * halves (`shared_kernel_root`: x86-64, RISC-V) a kernel table allocates
 * the nodes under its kernel root slots right away and keeps them for
 * life, so kernel mappings made later show up in every user table.
 * AArch64 kernel tables allocate nothing extra.
 *
 * Cost in frames of @phys: 2 for a user table (the &struct pt_table and
 * the root), and for a kernel table 258 (about 1 MiB: 256 pinned nodes)
 * on x86-64 and RISC-V, 2 on AArch64.
 *
 * Context: Any thread.  Allocates from @phys only (frame cache spin locks,
 * or `pt_platform.frame_alloc`): the frame holding the table, the root, a
 * kernel table's pinned kernel-half nodes, all reserved before anything is
 * built, so %PT_ENOMEM leaves @phys as it was.  Locks only the new nodes.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @phys, @fmt or @out is %NULL, @space is neither
 *   %PT_SPACE_USER nor %PT_SPACE_KERNEL, @space is %PT_SPACE_KERNEL for a
 *   stage-2 format (`fmt->stage == 2`: one guest-physical space), or
 *   `opts->max_leaf_level` is above `fmt->max_leaf_level`.
 * - %PT_ENOMEM: not enough free frames in @phys (a stage-2 root needs an
 *   aligned run of 2 or 4 free frames).
 */
int pt_table_create_opts(struct pt_phys *phys, const struct pt_format *fmt,
			 enum pt_space space, const struct pt_table_opts *opts,
			 struct pt_table **out);

/**
 * pt_table_create_user() - Create a user table that sees a kernel table.
 * @kernel: a %PT_SPACE_KERNEL table.
 * @out: where to store the new table.
 *
 * For a format with `shared_kernel_root` (x86-64, RISC-V), the new root's
 * kernel slots point to @kernel's nodes one level below its root: shared,
 * not copied, and not counted.  pt_query(), pt_for_each_mapping(),
 * pt_check() and pt_table_stats() see the kernel half through it; writing
 * there (pt_map(), pt_map_frames(), pt_unmap(), pt_protect()) or opening
 * a cursor there is %PT_EPERM; and @kernel cannot be destroyed while this
 * table exists.
 *
 * For a format without it (AArch64: TTBR0 and TTBR1 are separate roots)
 * it creates an empty user table with @kernel's settings instead, which
 * does not see the kernel half (%PT_ERANGE there) and does not keep
 * @kernel alive.
 *
 * Either way it inherits `max_leaf_level`, `features`, the invalidation
 * hook (with its argument) and `live` from @kernel, reports
 * %PT_SPACE_USER, and costs 2 frames.
 *
 * Context: Any thread, while @kernel is not being destroyed.  Allocates 2
 * frames from @kernel's phys (frame cache spin locks, or
 * `pt_platform.frame_alloc`), reserved first: %PT_ENOMEM changes nothing.
 * Locks only its own new root, none of @kernel's nodes (the kernel
 * root's kernel slots never change).
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @kernel or @out is %NULL, or @kernel is not a
 *   %PT_SPACE_KERNEL table.
 * - %PT_ENOMEM: not enough free frames.
 */
int pt_table_create_user(struct pt_table *kernel, struct pt_table **out);

/**
 * pt_table_destroy() - Free a table, its nodes and its references, now.
 * @table: the table.
 *
 * Synchronous: frees every node of the table and drops the table's
 * reference on every tracked frame immediately, with no invalidation hook
 * and no RCU grace period.  A user table frees only its own half and stops
 * sharing its kernel table.  Call it only when no CPU can still use the
 * table (not loaded, its TLB entries gone), no cursor on it is open, no
 * other thread is inside it, and every batch bound to it is finished.
 *
 * Context: Any thread, with nobody else inside @table: takes no node lock
 * and no RCU read section.  Frees frames into the table's phys (frame
 * cache spin locks, or `pt_platform.frame_free`); allocates nothing.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @table is %NULL.
 * - %PT_EBUSY: @table is a kernel table that user tables still share.
 */
int pt_table_destroy(struct pt_table *table);

/**
 * pt_table_root() - The physical address of a table's root.
 * @table: the table, or %NULL.
 *
 * What you load into CR3, satp or TTBR (add your PCID, ASID, mode or flag
 * bits).  It never changes for the table's life.
 *
 * Context: Any context: takes no lock, allocates nothing.
 * Return: The root's 4 KiB-aligned physical address, or 0 for %NULL.
 */
uint64_t pt_table_root(const struct pt_table *table);

/**
 * pt_table_set_tag() - Attach the caller's address-space tag to a table.
 * @table: the table.
 * @tag: any value: the VMID, ASID, PCID or EPTP the hardware knows this
 *       table by.
 *
 * Every later invalidation of @table reports @tag in `pt_flush_info.tag`
 * (next to `stage`), so one hook can serve many tables and issue the
 * instruction that names the right address space.  A tag can also be given
 * at creation (`pt_table_opts.tag`).  A user table made by
 * pt_table_create_user() starts with its kernel table's tag.
 *
 * Context: Any thread, while no operation, cursor or unfinished batch is on
 * @table (a batch reads the tag when it is finished).  Takes no lock.
 * Return: 0, or %PT_EINVAL if @table is %NULL.
 */
int pt_table_set_tag(struct pt_table *table, uint64_t tag);

/**
 * pt_table_format() - The format a table was created with.
 * @table: the table, or %NULL.
 *
 * Context: Any context: takes no lock, allocates nothing.
 * Return: The format, or %NULL for %NULL.
 */
const struct pt_format *pt_table_format(const struct pt_table *table);

/**
 * pt_table_phys() - The phys a table's frames come from.
 * @table: the table, or %NULL.
 *
 * Context: Any context: takes no lock, allocates nothing.
 * Return: The phys, or %NULL for %NULL.
 */
struct pt_phys *pt_table_phys(const struct pt_table *table);

/**
 * pt_table_space() - The half a table was created for.
 * @table: the table, or %NULL.
 *
 * A table made by pt_table_create_user() reports %PT_SPACE_USER.
 *
 * Context: Any context: takes no lock, allocates nothing.
 * Return: %PT_SPACE_USER or %PT_SPACE_KERNEL; %PT_SPACE_USER for %NULL.
 */
enum pt_space pt_table_space(const struct pt_table *table);

/* PT_ENOMEM may be temporary: removed nodes come back after an RCU grace
 * period (pt_phys_barrier, then retry, from outside any cursor). */

/**
 * pt_map() - Map a physical range, untracked, with the largest pages that fit.
 * @table: the table.
 * @va: first virtual address, 4 KiB aligned.
 * @pa: first physical address, 4 KiB aligned.
 * @len: bytes to map, a positive multiple of 4 KiB.
 * @prop: the property of every new leaf; stored normalized.
 *
 * Maps `[va, va + len)` to `[pa, pa + len)`.  Any physical range below the
 * format's `pa_limit` will do (RAM, MMIO, a linear map): no reference is
 * taken on managed frames inside it, so keep frames of your own allocated
 * for as long as they are mapped.
 *
 * At each position it uses the largest page that lies entirely in what is
 * left of the range, to which both the virtual and the physical address
 * are aligned, and that is not above the table's `max_leaf_level`; in the
 * kernel half of a format with `shared_kernel_root` pages also stay one
 * level below the root (which never matters on x86-64).  One call can
 * therefore produce 4 KiB, then 2 MiB, then 1 GiB, then 2 MiB leaves.
 *
 * It never overwrites: if any page of the range is already mapped
 * (PROT_NONE included) the call is %PT_EEXIST and changes nothing.
 * Markers (pt_mark()) are not mappings: they are replaced.
 * Page-table nodes in the way that hold no mapping do not count: where a
 * huge leaf goes over one, the node is detached and freed, and the
 * invalidation hook is called with `nodes_removed` before the call
 * returns.
 *
 * Context: Any thread not holding a cursor on @table.  Locks the nodes
 * covering the range (top-down, in the one global order; spin locks that
 * yield every 64 spins) inside an RCU read section, for the call.
 * Allocates the missing nodes from the table's phys, all reserved before
 * anything is written, so %PT_ENOMEM changes nothing.  May call the
 * invalidation hook (a replaced empty node; RISC-V without Svvptc: the new
 * ranges; AArch64 break-before-make).
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @table is %NULL, @prop cannot be expressed, @len is 0, or
 *   the range wraps.
 * - %PT_EALIGN: @va, @len or @pa is not 4 KiB aligned.
 * - %PT_ERANGE: the range is outside the table's half or non-canonical, or
 *   `pa + len - 1` wraps or reaches `pa_limit`.
 * - %PT_EPERM: the kernel half of a user table.
 * - %PT_EEXIST: part of the range is already mapped.
 * - %PT_ENOMEM: no frame for a page-table node (may be temporary: see
 *   pt_phys_barrier()).
 */
int pt_map(struct pt_table *table, uint64_t va, uint64_t pa, uint64_t len,
	   struct pt_prop prop);

/**
 * pt_map_frames() - Map data frames, tracked, at consecutive 4 KiB pages.
 * @table: the table.
 * @va: first virtual address, 4 KiB aligned.
 * @frames: physical addresses of @n data frames of the table's phys.
 * @n: number of frames, at least 1.
 * @prop: the property of every new leaf; stored normalized.
 *
 * Maps `frames[i]` at `va + i * 4096` for `i < n`, as tracked 4 KiB
 * leaves.  Each mapping takes one new reference on its frame, so a frame
 * listed k times gets k references.  Your own references are unaffected:
 * you may drop them right after the call, and the table keeps the frames
 * alive until they are unmapped and the batch is finished.  Overlap and
 * empty-node rules are those of pt_map(): all or nothing.
 *
 * Context: As pt_map(): the nodes of the range locked inside an RCU read
 * section for the call; missing nodes allocated from the table's phys,
 * reserved first, so %PT_ENOMEM changes nothing.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @table or @frames is %NULL, @n is 0 or `n * 4096`
 *   overflows, @prop cannot be expressed, or the range wraps.  Also when a
 *   frame is not a data frame someone holds (it is free, has count 0, is a
 *   page-table node, a table object, metadata or unmanaged), or when its
 *   count would exceed %PT_REFCOUNT_MAX.
 * - %PT_EALIGN: @va is not 4 KiB aligned, or a `frames[i]` inside a held
 *   data frame is not.
 * - %PT_ERANGE: the range is outside the table's half, or a frame is at or
 *   above `pa_limit`.
 * - %PT_EPERM: the kernel half of a user table.
 * - %PT_EEXIST: part of the range is already mapped.
 * - %PT_ENOMEM: no frame for a page-table node.
 */
int pt_map_frames(struct pt_table *table, uint64_t va, const uint64_t *frames,
		  size_t n, struct pt_prop prop);

/**
 * pt_unmap() - Remove every mapping in a range.
 * @table: the table.
 * @va: first virtual address, 4 KiB aligned.
 * @len: bytes, a positive multiple of 4 KiB.
 * @flush: the batch that collects invalidation and release, bound to
 *   @table; %NULL: both happen before the call returns.
 *
 * Unmapping nothing is not an error; markers (pt_mark()) in the range go
 * too.  A huge leaf only partly inside is
 * split first, one level at a time and only as deep as needed: only the
 * inside part goes, the outside part stays mapped as smaller leaves with
 * the same pa and property.  Every node whose whole range lies inside the
 * range is detached with its subtree, even an empty one, so unmapping
 * gives back the page-table memory of the range; nodes emptied by a
 * partial unmap stay for reuse, and the kernel table's root-slot nodes are
 * never detached.
 *
 * The table's references on removed tracked frames, and the detached
 * nodes, go into @flush and are released by pt_flush_finish(), after the
 * invalidation; that is when tracked frames lose the table's reference.
 *
 * Context: Any thread not holding a cursor on @table.  Locks the nodes
 * covering the range (top-down, one global order) inside an RCU read
 * section, for the call.  Allocates from the table's phys only to split a
 * huge leaf partly covered (reserved first).  A full batch is finished
 * early inside the call, node locks held; with a %NULL @flush the
 * invalidation hook runs and the release happens at the end of the call,
 * after the node locks are dropped.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @table is %NULL, @len is 0, the range wraps, or @flush is
 *   bound to another table.
 * - %PT_EALIGN: @va or @len is not 4 KiB aligned.
 * - %PT_ERANGE: the range is outside the table's half or non-canonical.
 * - %PT_EPERM: the kernel half of a user table.
 * - %PT_ENOMEM: a huge leaf needs splitting and no frame is free.
 */
int pt_unmap(struct pt_table *table, uint64_t va, uint64_t len,
	     struct pt_flush *flush);

/**
 * pt_protect() - Set and clear flags of every mapping in a range.
 * @table: the table.
 * @va: first virtual address, 4 KiB aligned.
 * @len: bytes, a positive multiple of 4 KiB.
 * @set_flags: `PT_*` flags to set.
 * @clear_flags: `PT_*` flags to clear; none also in @set_flags.
 * @flush: the batch that collects the invalidation, bound to @table;
 *   %NULL: it happens before the call returns.
 *
 * For every leaf inside the range, `flags = (flags | set_flags) &
 * ~clear_flags`, then normalized.  On x86-64 W or X imply R, so clearing
 * %PT_R alone from a writable or executable mapping changes nothing: clear
 * `PT_R | PT_W | PT_X` for PROT_NONE.  The cache policy is unchanged (use
 * pt_cursor_protect_next() to change it); pa, size and trackedness never
 * change.  A huge leaf only partly inside is split first.  Each leaf's
 * range goes into @flush, upgrades too.  A range with no mapping is 0.
 *
 * Context: As pt_unmap(): the nodes of the range locked inside an RCU read
 * section for the call; allocates only to split a huge leaf partly covered
 * (reserved first); a full batch is finished early inside the call.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @set_flags and @clear_flags share a flag, a flag is
 *   outside %PT_FLAGS_ALL, or a software bit is beyond the format's
 *   `nr_sw_bits`; @table is %NULL, @len is 0, the range wraps, or @flush
 *   is bound to another table.
 * - %PT_EALIGN: @va or @len is not 4 KiB aligned.
 * - %PT_ERANGE: the range is outside the table's half or non-canonical.
 * - %PT_EPERM: the kernel half of a user table.
 * - %PT_ENOMEM: a huge leaf needs splitting and no frame is free.
 */
int pt_protect(struct pt_table *table, uint64_t va, uint64_t len,
	       uint32_t set_flags, uint32_t clear_flags, struct pt_flush *flush);

/**
 * pt_mark() - Put a value in the non-present entries of a range.
 * @table: the table.
 * @va: first virtual address, 4 KiB aligned.
 * @len: bytes, a positive multiple of 4 KiB.
 * @value: below `2^fmt->marker_bits` (39 on x86-64, 40 on RISC-V and
 *   AArch64).
 *
 * Swap entries, guard pages, ownership annotations: every 4 KiB page of
 * the range gets a marker holding @value, an entry the hardware sees as
 * not present (only bits it ignores there, at every level; on x86-64 the
 * frame field of a marker lies above 2^51, so a speculative L1TF access
 * reaches no RAM).  Markers come at the largest size that fits, like
 * mappings: the sizes pt_map() of the range with pa = @va would use (one
 * entry for an aligned 2 MiB or 1 GiB), except that an entry already
 * holding a node keeps it and is marked inside (marking frees nothing).
 * Markers over markers replace them; over a mapping the call is
 * %PT_EEXIST.  pt_query() and every walk for mappings see nothing there;
 * pt_query_marker() reads them; pt_map() and pt_map_frames() over them
 * replace them (a swap-in); pt_unmap() removes them; pt_copy() copies
 * them and pt_move() moves them, at their size where the range holds
 * them whole.  An operation on part of a huge marker splits it first (a
 * node from the phys; on %PT_ENOMEM nothing changed), so every page
 * keeps its value; pt_protect() and pt_split() leave markers as they
 * are.  Markers do not count in a node's `nr_children`, which counts
 * present entries: a huge leaf mapped over a node holding only markers
 * replaces it.
 *
 * Context: As pt_map(): the nodes of the range locked inside an RCU read
 * section for the call; the missing nodes allocated from the table's
 * phys, reserved first, so %PT_ENOMEM changes nothing.  Calls no
 * invalidation hook.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @table is %NULL, @value is too wide, @len is 0, or the
 *   range wraps.
 * - %PT_EALIGN: @va or @len is not 4 KiB aligned.
 * - %PT_ERANGE: the range is outside the table's half or non-canonical.
 * - %PT_EPERM: the kernel half of a user table.
 * - %PT_EEXIST: part of the range is mapped.
 * - %PT_ENOMEM: no frame for a page-table node.
 */
int pt_mark(struct pt_table *table, uint64_t va, uint64_t len, uint64_t value);

/**
 * pt_query_marker() - Read the marker at an address.
 * @table: the table.
 * @va: any byte address (need not be aligned).
 * @value: where to store the marker's value.
 *
 * The value pt_mark() put in the page holding @va.  A user table made by
 * pt_table_create_user() sees the kernel half too.
 *
 * Context: Any thread.  Takes no lock: walks inside an RCU read section,
 * as pt_query().  Allocates nothing.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @table or @value is %NULL.
 * - %PT_ERANGE: @va is outside the table's half (or halves).
 * - %PT_EEXIST: @va is mapped (pt_query() tells how).
 * - %PT_ENOENT: neither a mapping nor a marker is there.
 */
int pt_query_marker(struct pt_table *table, uint64_t va, uint64_t *value);

/*
 * A caller-owned stash of page-table nodes, filled where allocation is
 * allowed and used where it is not (pt_split() under a lock of yours, in
 * an atomic context).  A zeroed struct is empty; it holds any number of
 * nodes, which stay allocated from the phys of the tables it is used with
 * until they are used or drained.  Not to be shared by two threads at once.
 */
struct pt_reserve {
	uint64_t head;   /* private: the first node, when count > 0 */
	uint64_t count;  /* nodes held */
};

/**
 * pt_reserve_fill() - Top a stash up to a number of nodes.
 * @table: a table of the phys the nodes come from.
 * @r: the stash (zeroed when new).
 * @nodes: how many it should hold; it is not shrunk.
 *
 * A split of a 1 GiB leaf down to 4 KiB takes 1 + 512 nodes, of a 2 MiB
 * leaf 1.
 *
 * Context: Any thread.  Allocates from the table's phys (frame cache spin
 * locks, or `pt_platform.frame_alloc`); takes no node lock.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @table or @r is %NULL.
 * - %PT_ENOMEM: not enough free frames; @r is as it was.
 */
int pt_reserve_fill(struct pt_table *table, struct pt_reserve *r, uint64_t nodes);

/**
 * pt_reserve_drain() - Give every node of a stash back.
 * @table: a table of the phys the nodes came from.
 * @r: the stash; empty (zeroed) afterwards.
 *
 * Context: Any thread.  Frees frames into the table's phys; takes no node
 * lock.  %NULL for either does nothing.
 */
void pt_reserve_drain(struct pt_table *table, struct pt_reserve *r);

/**
 * pt_split() - Split the huge leaves of a range into smaller leaves.
 * @table: the table.
 * @va: first virtual address, 4 KiB aligned.
 * @len: bytes, a positive multiple of 4 KiB.
 * @level: the size to split down to, pt_level_size(@level): 1 for 4 KiB,
 *   2 for 2 MiB.
 * @r: where the new nodes come from; %NULL: from the table's phys.
 *
 * Every leaf overlapping the range that is larger than
 * pt_level_size(@level) becomes leaves of that size, one level at a time
 * (a 1 GiB leaf split to 4 KiB becomes 2 MiB leaves first, and only those
 * overlapping the range go on to 4 KiB); the view is unchanged (same pa,
 * property, accessed and dirty bits; on a `live` table, bits the MMU sets
 * meanwhile reach every piece).  For dirty logging without a fault per
 * huge page, or before pt_copy() of a range that cuts a huge leaf.  Each
 * split leaf's range is invalidated before the call returns (a cached huge
 * entry would hide writes to the pieces' dirty bits); AArch64 breaks before
 * it makes unless %PT_FEAT_AARCH64_BBM2.  Markers (pt_mark()), huge or
 * not, are left as they are: they are not mappings.
 *
 * With @r the call allocates nothing: when @r runs dry it stops with
 * %PT_ENOMEM, what it split stays split (the view is still unchanged),
 * and a call after pt_reserve_fill() goes on.  With %NULL it counts the
 * nodes first and takes them all from the phys: %PT_ENOMEM changes
 * nothing.
 *
 * Context: Any thread not holding a cursor on @table.  Locks the nodes
 * covering the range (as pt_protect()) inside an RCU read section, for
 * the call.  With @r, no allocation; with %NULL, from the table's phys,
 * reserved first.  Calls the invalidation hook before it returns.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @table is %NULL, @level is 0 or above the format's
 *   `max_leaf_level`, @len is 0, or the range wraps.
 * - %PT_EALIGN: @va or @len is not 4 KiB aligned.
 * - %PT_ERANGE: the range is outside the table's half or non-canonical.
 * - %PT_EPERM: the kernel half of a user table.
 * - %PT_ENOMEM: @r ran dry (what was split stays split), or, without @r,
 *   not enough free frames (nothing changed).
 */
int pt_split(struct pt_table *table, uint64_t va, uint64_t len, unsigned level,
	     struct pt_reserve *r);

/* pt_harvest() flags. */
#define PT_HARVEST_ACCESSED (1u << 0)
#define PT_HARVEST_DIRTY    (1u << 1)
#define PT_HARVEST_CLEAR    (1u << 2)

/**
 * pt_harvest() - Read (and clear) accessed and dirty bits over a range.
 * @table: the table.
 * @va: first virtual address, 4 KiB aligned.
 * @len: bytes, a positive multiple of 4 KiB.
 * @what: %PT_HARVEST_ACCESSED and/or %PT_HARVEST_DIRTY, maybe with
 *   %PT_HARVEST_CLEAR.
 * @bitmap: `len / 4096` bits, rounded up to whole `uint64_t` words, all
 *   written: bit i (`bitmap[i / 64] >> (i % 64)`) is 4 KiB page i of the
 *   range.
 * @flush: the batch that collects the invalidations of cleared leaves,
 *   bound to @table; %NULL: they happen before the call returns.
 *
 * Page aging and reclaim (accessed), dirty logging and live migration
 * (dirty).  Bit i is set when page i lies in a leaf with any asked bit set
 * (a huge leaf sets the bits of all its pages in the range), cleared
 * otherwise.  With %PT_HARVEST_CLEAR the asked bits, and only those, are
 * cleared in every leaf wholly inside the range; a huge leaf the range
 * cuts keeps its bits (the pages outside are not yours to clear).  On a
 * `live` table the clear is an atomic AND: a bit the MMU sets meanwhile is
 * reported now or by the next call, never lost.  Every leaf with a bit
 * cleared goes into @flush: clearing D needs it on x86 and RISC-V (a TLB
 * entry still marked dirty lets writes go unrecorded); clearing A needs it
 * only on AArch64, but ptkit invalidates it everywhere.
 *
 * Per format: x86-64 A and D; RISC-V A and D, which without
 * %PT_FEAT_RISCV_SVADU are set at map and never cleared (the harts would
 * fault rather than set them), so a harvest reports what software set;
 * AArch64 AF, set at map and never cleared, and, without DBM (not used
 * yet), every writable leaf reports dirty.
 *
 * Context: Any thread not holding a cursor on @table.  Locks the nodes
 * covering the range (as pt_protect()) inside an RCU read section, for the
 * call.  Allocates nothing.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @table or @bitmap is %NULL, @what asks neither bit or has
 *   an unknown one, @len is 0, the range wraps, or @flush is bound to
 *   another table.
 * - %PT_EALIGN: @va or @len is not 4 KiB aligned.
 * - %PT_ERANGE: the range is outside the table's half or non-canonical.
 * - %PT_EPERM: the kernel half of a user table (harvest the kernel table).
 */
int pt_harvest(struct pt_table *table, uint64_t va, uint64_t len, unsigned what,
	       uint64_t *bitmap, struct pt_flush *flush);

/* pt_copy() flags. */
#define PT_COPY_COW (1u << 0) /* copy-on-write: W cleared in both tables */

/**
 * pt_copy() - Copy every mapping of a range into the same range of another table.
 * @dst: the table copied into.
 * @src: the table copied from: same format, phys, features and
 *   `max_leaf_level` as @dst, not @dst itself.
 * @va: first virtual address, 4 KiB aligned.
 * @len: bytes, a positive multiple of 4 KiB.
 * @flags: 0, or %PT_COPY_COW.
 * @flush: the batch that collects @src's invalidations (%PT_COPY_COW),
 *   bound to @src; %NULL: they happen before the call returns.
 *
 * What a fork does: every leaf and marker of @src inside the range appears in @dst at
 * the same va, with the same pa, size, property and trackedness, copied
 * whole (a 1 GiB leaf stays one leaf; no leaf of @src may straddle an end
 * of the range).  A tracked frame gains one reference per leaf copied,
 * which @dst drops when it unmaps it.  With %PT_COPY_COW, writable leaves
 * lose %PT_W in @src (each such range goes into @flush) and in @dst, so
 * the first write on either side faults and the caller copies the page.
 *
 * The range of @dst must hold no mapping; nodes of @dst without mappings
 * are reused, or given up where a huge leaf goes; a marker of @dst is
 * replaced where @src has a leaf or a marker, and stays elsewhere.  One walk of the two
 * ranges, both locked for the call: it runs beside operations on other
 * ranges of either table.  @dst's own invalidations (a replaced empty
 * node; RISC-V without Svvptc: the new mappings) happen before the call
 * returns.
 *
 * Context: Any thread not holding a cursor on @dst or @src.  Locks the
 * nodes covering the range in both tables (the table whose root has the
 * lower address first, so opposite copies cannot deadlock) inside an RCU
 * read section, for the call.  Allocates @dst's new nodes from the phys,
 * all reserved before anything is written: %PT_ENOMEM changes neither
 * table.  May call both tables' invalidation hooks.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @dst or @src is %NULL or they are the same table, their
 *   format, phys, features or `max_leaf_level` differ, @flags has an
 *   unknown bit, @len is 0, the range wraps, or @flush is not bound to
 *   @src.
 * - %PT_EALIGN: @va or @len is not 4 KiB aligned.
 * - %PT_ERANGE: the range is outside either table's half or non-canonical.
 * - %PT_EPERM: the kernel half of a user table, on either side.
 * - %PT_EALIGN: a leaf of @src straddles an end of the range (found under
 *   the locks, so after the argument errors above): pt_split() it first.
 * - %PT_EEXIST: part of the range of @dst is already mapped.
 * - %PT_ENOMEM: no frame for a node of @dst.
 */
int pt_copy(struct pt_table *dst, struct pt_table *src, uint64_t va, uint64_t len,
	    unsigned flags, struct pt_flush *flush);

/**
 * pt_move() - Move every mapping of a range to another range of the table.
 * @table: the table.
 * @from: first virtual address of the source, 4 KiB aligned.
 * @to: first virtual address of the destination, 4 KiB aligned.
 * @len: bytes, a positive multiple of 4 KiB.
 * @flush: the batch that collects the source's invalidation and the
 *   release of nodes given back, bound to @table; %NULL: both happen
 *   before the call returns.
 *
 * Each mapping of `[from, from + len)` reappears `to - from` higher (or
 * lower), with the same frames, property and trackedness, and leaves the
 * source: what mremap() needs.  No reference count changes (the frames
 * change place, not holders), and nothing is copied but entries.  Where
 * `to - from` is a multiple of an entry's size and the entry lies wholly
 * inside the source, the entry itself moves: a leaf keeps its size, and a
 * page-table node moves with its whole subtree in one step, as Linux
 * moves PMD and PUD entries.  A huge leaf whose size does not divide
 * `to - from` becomes leaves of the largest size that does; one only
 * partly inside is split first, as by pt_unmap().  Nodes the destination
 * needs are made; empty nodes in the way of a moved entry, and source
 * nodes left empty inside the range, are freed (as by pt_map() and
 * pt_unmap()).  A range without mappings is not an error.
 *
 * The destination's new mappings need no invalidation (but on RISC-V
 * without Svvptc they are recorded too, as by pt_map()); the source's old
 * translations go into @flush, with `nodes_removed` where a node moved
 * away (walk caches may still hold it).  Until that invalidation a CPU
 * may still reach the frames through the source, as after pt_unmap().
 *
 * Context: Any thread not holding a cursor on @table.  Locks every node
 * covering `[min(from, to), max(from, to) + len)` (top-down, the one global
 * order; spin locks that yield) inside an RCU read section, for the call:
 * one cursor over both ranges, so the nodes they share, and a subtree in
 * transit between them, are never seen half moved by another cursor, and
 * no lock order between two cursors can deadlock.  Operations between the
 * two ranges wait for it.  A cursor that walked to a node before it moved
 * starts again from the root.  A lock-free reader (pt_query()) racing the
 * move sees each entry before or after it.  Allocates from the table's
 * phys only the destination's missing nodes and splits, reserved before
 * anything changes, so %PT_ENOMEM changes nothing.  A full batch is
 * finished early inside the call.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @table is %NULL, @len is 0, a range wraps, the two ranges
 *   overlap, or @flush is bound to another table.
 * - %PT_EALIGN: @from, @to or @len is not 4 KiB aligned.
 * - %PT_ERANGE: a range is outside the table's half or non-canonical.
 * - %PT_EPERM: a range is in the kernel half of a user table.
 * - %PT_EEXIST: part of the destination is already mapped or holds a
 *   marker (markers of the source move with it).
 * - %PT_ENOMEM: no frame for a node the destination or a split needs (may
 *   be temporary: see pt_phys_barrier()).
 */
int pt_move(struct pt_table *table, uint64_t from, uint64_t to, uint64_t len,
	    struct pt_flush *flush);

/**
 * pt_query() - Find the mapping that contains an address.
 * @table: the table.
 * @va: any byte address (need not be aligned).
 * @out: where to store the mapping.
 *
 * The whole leaf containing the byte @va, unclipped: `out->va` and
 * `out->pa` are where the leaf starts.  A user table made by
 * pt_table_create_user() sees the kernel half too.  It may run alongside
 * changes to the table and then sees each entry before or after the
 * change (on AArch64, briefly absent during a break-before-make).
 *
 * Context: Any thread.  Takes no lock: walks inside an RCU read section.
 * Allocates nothing.
 * Return: 0, or the first that applies:
 * - %PT_EINVAL: @table or @out is %NULL.
 * - %PT_ERANGE: @va is outside the table's half (or halves).
 * - %PT_ENOENT: nothing is mapped at @va.
 */
int pt_query(struct pt_table *table, uint64_t va, struct pt_mapping *out);

/**
 * pt_for_each_mapping() - Call a function for every mapping in a range.
 * @table: the table.
 * @va: first virtual address, 4 KiB aligned.
 * @len: bytes, a positive multiple of 4 KiB.
 * @fn: called once per leaf overlapping the range; `*m` is valid only
 *   during the call.
 * @arg: passed to @fn.
 *
 * Calls @fn for each leaf that overlaps the range, in increasing address
 * order, with the whole leaf (unclipped, unmerged).  A user table's kernel
 * half is included.  It stops at the first non-zero return of @fn and
 * returns that value, so return positive values to tell them apart from
 * `PT_E*` codes.
 *
 * @fn must not modify @table (no map, unmap, protect or cursor on it, no
 * destroy): the walk holds no lock, and a node freed under it would be
 * read after free.  Collect what you need, then act on it, or use a
 * cursor.
 *
 * Context: Any thread.  Takes no lock: the whole walk, @fn included, runs
 * inside one RCU read section, so @fn must not wait for a grace period
 * (pt_phys_barrier(), pt_phys_destroy()).  Allocates nothing.
 * Return: 0 once every leaf was visited, the first non-zero return of @fn,
 * or the first that applies:
 * - %PT_EINVAL: @fn or @table is %NULL, @len is 0, or the range wraps.
 * - %PT_EALIGN: @va or @len is not 4 KiB aligned.
 * - %PT_ERANGE: the range is outside the table's half (or halves).
 */
int pt_for_each_mapping(struct pt_table *table, uint64_t va, uint64_t len,
			int (*fn)(const struct pt_mapping *m, void *arg),
			void *arg);

/**
 * pt_check() - Verify every invariant of a table.
 * @table: the table.
 * @why: where to write a message, or %NULL.
 * @why_len: size of @why in bytes, terminating NUL included.
 *
 * Verifies the invariants of design §4.  For a user table it also
 * walks the borrowed kernel nodes and checks that its kernel slots equal
 * the kernel's.  It checks that:
 *
 * - `nr_children` (and the per-node tracked count) match the present
 *   entries;
 * - every node is reachable by exactly one path, sits one level down, is
 *   tagged page-table, is in use and is not stray;
 * - leaves are at most `max_leaf_level`, never in a kernel root slot, and
 *   have va and pa aligned to their size;
 * - every entry lies inside the table's space;
 * - every leaf is exactly the encoding of a normalized mapping, and every
 *   table entry exactly that of a node;
 * - tracked leaves are managed 4 KiB data frames whose count is at least
 *   their number of mappings in @table.
 *
 * On success @why is set to `""`; on %PT_ECORRUPT to
 * `"rule N (what): node pa=0x... level L index I"`, truncated to
 * `why_len - 1` characters.  Pending batches are fine.
 *
 * Context: Needs a quiet table: no open cursor, no concurrent call on
 * @table or on its kernel table, and no concurrent pt_check() on any table
 * of the same phys (it writes visit marks into the shared frame metadata).
 * Takes no lock and no RCU read section; allocates nothing.
 * Return: 0 if every invariant holds, %PT_EINVAL if @table is %NULL, or
 * %PT_ECORRUPT naming the first broken rule in @why.
 */
int pt_check(struct pt_table *table, char *why, size_t why_len);

struct pt_table_stats {
	uint64_t nodes[PT_MAX_LEVELS + 1];    /* nodes per level (shared ones too) */
	uint64_t mappings[PT_MAX_LEVELS + 1]; /* leaves per level */
	uint64_t tracked;                     /* tracked leaves */
	uint64_t mapped_bytes;
};
/**
 * pt_table_stats() - Count a table's nodes and mappings.
 * @table: the table.
 * @out: where to store the counts.
 *
 * Walks the whole table.  `nodes[level]` and `mappings[level]` are filled
 * for levels 1 to the format's `levels`; the root counts as a node, and a
 * user table also counts the kernel nodes it shares.
 *
 * Context: Needs the same quiet table as pt_check(): the walk takes no
 * lock and no RCU read section.  Allocates nothing.
 * Return: 0, or %PT_EINVAL if @table or @out is %NULL.
 */
int pt_table_stats(struct pt_table *table, struct pt_table_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* PTKIT_TABLE_H */
