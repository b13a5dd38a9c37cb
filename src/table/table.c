/* SPDX-License-Identifier: MPL-2.0 */
/*
 * table.c - the public API (design §5, §7): argument checks in the
 * documented order, then one call into the engine of the table's format.
 * Nothing here touches a PTE.
 */
#include "table/checks.h"

static int prop_check(const struct pt_table *t, struct pt_prop p, struct pt_prop *out)
{
	return t->fmt->normalize(p, t->tree.features, out);
}

/* Tracked frames: data frames someone holds, with room for n more refs. */
static int frames_check(const struct pt_table *t, const uint64_t *frames, size_t n)
{
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t rc = pt_frame_refcount(t->tree.phys, frames[i]);
		if (rc == PT_REFCOUNT_UNUSED || rc == 0 || rc > PT_REFCOUNT_MAX - n ||
		    pt_meta_of(t->tree.phys, frames[i])->usage != PT_USAGE_DATA)
			return PT_EINVAL;
		err = first_error(err, pa_check(t, frames[i], PT_PAGE_SIZE));
	}
	return err;
}

/* ---- cursors ---- */

static void cursor_stop(struct pt_cursor_state *c)
{
	c->table->fmt->ops->cursor_unlock(c);
	c->table = NULL;
}

/*
 * The last byte of the window [cur, cur + len) clipped to the cursor's range
 * (lengths past its end, even wrapping ones, stop there).  find_next counts
 * a partly covered last page (an address in it is in the window);
 * take_next and protect_next only whole pages, since a 4 KiB leaf cannot be
 * split: PT_ENOENT if not one is left.
 */
static int cursor_window(const struct pt_cursor_state *c, uint64_t len, bool whole_pages,
			 uint64_t *last_out)
{
	uint64_t last = c->va + (len - 1);

	if (last < c->va)
		last = c->last;
	else if (!whole_pages)
		last |= PT_PAGE_SIZE - 1;
	else if ((last & (PT_PAGE_SIZE - 1)) != PT_PAGE_SIZE - 1) {
		/* The window ends inside a page: up to the start of that page
		 * (c->va is page aligned, so none is left if it is c->va, which
		 * includes the wrap at va 0). */
		uint64_t partial = last & ~(uint64_t)(PT_PAGE_SIZE - 1);
		if (partial <= c->va)
			return PT_ENOENT;
		last = partial - 1;
	}
	*last_out = pt_min_u64(last, c->last);
	return 0;
}

static bool cursor_usable(struct pt_cursor *c)
{
	return c && pt_cursor_state(c)->table;
}

/* A caller's batch must belong to the table; NULL means a local one. */
static int flush_check(const struct pt_table *t, const struct pt_flush *f)
{
	return f && f->sink != &t->tree.sink ? PT_EINVAL : 0;
}

int pt_flush_init(struct pt_flush *flush, struct pt_table *t)
{
	if (!flush || !t)
		return PT_EINVAL;
	pt__flush_reset(flush, &t->tree.sink);
	return 0;
}

int pt_cursor_open(struct pt_cursor *c, struct pt_table *t, uint64_t va, uint64_t len)
{
	if (!c)
		return PT_EINVAL;
	int err = range_check(t, va, len, true);
	if (err)
		return err;
	struct pt_cursor_state *s = pt_cursor_state(c);
	t->fmt->ops->cursor_open(s, &t->tree, va, va + (len - 1));
	s->table = t;
	return 0;
}

void pt_cursor_close(struct pt_cursor *c)
{
	if (cursor_usable(c))
		cursor_stop(pt_cursor_state(c));
}

uint64_t pt_cursor_va(const struct pt_cursor *c)
{
	return ((const struct pt_cursor_state *)c)->va;
}

int pt_cursor_query(struct pt_cursor *c, struct pt_mapping *out)
{
	if (!cursor_usable(c) || !out)
		return PT_EINVAL;
	struct pt_cursor_state *s = pt_cursor_state(c);
	if (s->at_end)
		return PT_ENOENT;
	return s->table->fmt->ops->cursor_query(s, out);
}

int pt_cursor_find_next(struct pt_cursor *c, uint64_t len, uint64_t *va_out)
{
	if (!cursor_usable(c) || len == 0)
		return PT_EINVAL;
	struct pt_cursor_state *s = pt_cursor_state(c);
	uint64_t found, last;
	if (s->at_end)
		return PT_EINVAL;
	int err = cursor_window(s, len, false, &last);
	if (err == 0)
		err = s->table->fmt->ops->cursor_find(s, last, &found);
	if (err)
		return err;
	s->va = found & ~(uint64_t)(PT_PAGE_SIZE - 1);
	if (va_out)
		*va_out = s->va;
	return 0;
}

int pt_cursor_jump(struct pt_cursor *c, uint64_t va)
{
	if (!cursor_usable(c))
		return PT_EINVAL;
	struct pt_cursor_state *s = pt_cursor_state(c);
	if (!page_aligned(va))
		return PT_EALIGN;
	if (va < s->start || va > s->last)
		return PT_ERANGE;
	s->va = va;
	s->at_end = false;
	return 0;
}

/* The level whose page size is `size`, or 0. */
static unsigned level_of_size(const struct pt_table *t, uint64_t size)
{
	for (unsigned level = 1; level <= t->fmt->levels; level++)
		if (pt_level_size(level) == size)
			return level;
	return 0;
}

static int cursor_map_check(struct pt_cursor_state *s, const struct pt_mapping *item,
			    struct pt_map_src *src)
{
	const struct pt_table *t = s->table;
	unsigned level = level_of_size(t, item->size);
	int err;

	if (item->va != s->va || s->at_end || level == 0 || level > max_leaf_at(t, item->va) ||
	    (item->tracked && level != 1))
		return PT_EINVAL;
	if ((err = prop_check(t, item->prop, &src->prop)))
		return err;
	err = item->tracked ? frames_check(t, &item->pa, 1) : 0;
	if (err == 0 && ((item->va | item->pa) & (item->size - 1)))
		err = PT_EALIGN;
	if (err == 0 && item->va + (item->size - 1) > s->last)
		err = PT_ERANGE;
	if (err == 0)
		err = pa_check(t, item->pa, item->size);
	src->va = item->va;
	src->pa = item->pa;
	src->frames = item->tracked ? &item->pa : NULL;
	src->max_level = level;
	return err;
}

int pt_cursor_map(struct pt_cursor *c, const struct pt_mapping *item)
{
	if (!cursor_usable(c) || !item)
		return PT_EINVAL;
	struct pt_cursor_state *s = pt_cursor_state(c);
	struct pt_map_src src;
	struct pt_flush local;
	int err = cursor_map_check(s, item, &src);
	if (err)
		return err;
	pt__flush_reset(&local, &s->table->tree.sink);
	err = s->table->fmt->ops->cursor_map(s, item->va + (item->size - 1), &src, &local);
	pt__flush_deliver_pending(&local);
	if (err == 0)
		pt_cursor_advance(s, item->va, item->size);
	return err;
}

/* What take_next and protect_next share: checks, and a local batch for a
 * caller that passes none. */
static int cursor_step_begin(struct pt_cursor *c, uint64_t len, const struct pt_flush *flush,
			     struct pt_flush *local)
{
	if (!cursor_usable(c) || len == 0)
		return PT_EINVAL;
	struct pt_cursor_state *s = pt_cursor_state(c);
	int err = flush_check(s->table, flush);
	if (err)
		return err;
	if (s->at_end)
		return PT_ENOENT;
	pt__flush_reset(local, &s->table->tree.sink);
	return 0;
}

int pt_cursor_take_next(struct pt_cursor *c, uint64_t len, struct pt_taken *out,
			struct pt_flush *flush)
{
	struct pt_taken ignored;
	struct pt_flush local;
	uint64_t last;
	int err = cursor_step_begin(c, len, flush, &local);
	if (err)
		return err;
	struct pt_cursor_state *s = pt_cursor_state(c);
	if ((err = cursor_window(s, len, true, &last)))
		return err;
	err = s->table->fmt->ops->cursor_take_next(s, last, out ? out : &ignored,
						   flush ? flush : &local);
	pt__flush_deliver_pending(&local);
	return err;
}

int pt_cursor_protect_next(struct pt_cursor *c, uint64_t len,
			   void (*op)(struct pt_prop *prop, void *arg), void *arg,
			   uint64_t *va_out, uint64_t *len_out, struct pt_flush *flush)
{
	struct pt_flush local;
	uint64_t last;
	int err = op ? cursor_step_begin(c, len, flush, &local) : PT_EINVAL;
	if (err)
		return err;
	struct pt_cursor_state *s = pt_cursor_state(c);
	if ((err = cursor_window(s, len, true, &last)))
		return err;
	err = s->table->fmt->ops->cursor_protect_next(s, last, op, arg, va_out, len_out,
						      flush ? flush : &local);
	pt__flush_deliver_pending(&local);
	return err;
}

/* pt_harvest's flags as the engine's ask (PT_A, PT_D): PT_EINVAL for a
 * NULL bitmap, no bit asked or an unknown flag. */
static int harvest_args(unsigned what, const uint64_t *bitmap, uint32_t *ask)
{
	const unsigned known = PT_HARVEST_ACCESSED | PT_HARVEST_DIRTY | PT_HARVEST_CLEAR;

	*ask = (what & PT_HARVEST_ACCESSED ? PT_A : 0) | (what & PT_HARVEST_DIRTY ? PT_D : 0);
	return !bitmap || !*ask || (what & ~known) ? PT_EINVAL : 0;
}

/* The words of a bitmap of the pages of [va, last], zeroed: the engine
 * only sets bits. */
static void bitmap_zero(uint64_t *bitmap, uint64_t va, uint64_t last)
{
	uint64_t words = (((last - va) >> PT_PAGE_SHIFT) + 64) / 64;

	for (uint64_t w = 0; w < words; w++)
		bitmap[w] = 0;
}

int pt_cursor_query_marker(struct pt_cursor *c, uint64_t *value)
{
	if (!cursor_usable(c) || !value)
		return PT_EINVAL;
	struct pt_cursor_state *s = pt_cursor_state(c);
	if (s->at_end)
		return PT_ENOENT;
	return s->table->fmt->ops->cursor_query_marker(s, value);
}

int pt_cursor_mark(struct pt_cursor *c, uint64_t len, uint64_t value)
{
	if (!cursor_usable(c) || len == 0)
		return PT_EINVAL;
	struct pt_cursor_state *s = pt_cursor_state(c);
	if (s->at_end || (value >> s->table->fmt->marker_bits))
		return PT_EINVAL;
	if (!page_aligned(len))
		return PT_EALIGN;
	uint64_t last = s->va + (len - 1);
	if (last < s->va || last > s->last)
		return PT_ERANGE;
	int err = s->table->fmt->ops->cursor_mark(s, last, value, max_leaf_at(s->table, s->va));
	if (err == 0)
		pt_cursor_advance(s, s->va, len);
	return err;
}

int pt_cursor_harvest_next(struct pt_cursor *c, uint64_t len, unsigned what,
			   uint64_t *bitmap, struct pt_flush *flush)
{
	struct pt_flush local;
	uint32_t ask;
	uint64_t last;
	int err = harvest_args(what, bitmap, &ask);
	if (err == 0)
		err = cursor_step_begin(c, len, flush, &local);
	if (err)
		return err;
	struct pt_cursor_state *s = pt_cursor_state(c);
	if ((err = cursor_window(s, len, true, &last)))
		return err;
	bitmap_zero(bitmap, s->va, last);
	s->table->fmt->ops->cursor_harvest(s, last, ask, what & PT_HARVEST_CLEAR, bitmap,
					   flush ? flush : &local);
	pt__flush_deliver_pending(&local);
	pt_cursor_advance(s, s->va, last - s->va + 1);
	return 0;
}

/* ---- whole-range operations ---- */

int pt_map(struct pt_table *t, uint64_t va, uint64_t pa, uint64_t len, struct pt_prop prop)
{
	if (!t)
		return PT_EINVAL;
	return t->fmt->ops->map_checked(t, va, pa, len, prop);
}

int pt_map_frames(struct pt_table *t, uint64_t va, const uint64_t *frames, size_t n,
		  struct pt_prop prop)
{
	struct pt_map_src src = { .frames = frames };

	if (!t || !frames || n == 0 || n > (UINT64_MAX >> PT_PAGE_SHIFT))
		return PT_EINVAL;
	int err = prop_check(t, prop, &src.prop);
	err = first_error(err, frames_check(t, frames, n));
	err = first_error(err, range_check(t, va, (uint64_t)n << PT_PAGE_SHIFT, true));
	if (err)
		return err;
	src.va = va;
	src.max_level = 1; /* tracked mappings are base pages */
	return t->fmt->ops->map(t, va, va + (((uint64_t)n << PT_PAGE_SHIFT) - 1), &src);
}

int pt_unmap(struct pt_table *t, uint64_t va, uint64_t len, struct pt_flush *flush)
{
	int err = range_check(t, va, len, true);
	err = first_error(err, t ? flush_check(t, flush) : 0);
	if (err)
		return err;
	return t->fmt->ops->unmap(t, va, va + (len - 1), flush);
}

struct set_clear {
	uint32_t set, clear;
};

static void apply_set_clear(struct pt_prop *p, void *arg)
{
	const struct set_clear *sc = arg;
	p->flags = (p->flags | sc->set) & ~sc->clear;
}

int pt_protect(struct pt_table *t, uint64_t va, uint64_t len, uint32_t set_flags,
	       uint32_t clear_flags, struct pt_flush *flush)
{
	struct set_clear sc = { set_flags, clear_flags };
	uint32_t sw_ok = t ? ((1u << t->fmt->nr_sw_bits) - 1) << PT_SW_SHIFT : 0;
	uint32_t known = (PT_FLAGS_ALL & ~(PT_SW0 | PT_SW1 | PT_SW2 | PT_SW3)) | sw_ok;
	int err = (set_flags & clear_flags) || ((set_flags | clear_flags) & ~known) ? PT_EINVAL : 0;

	err = first_error(err, range_check(t, va, len, true));
	err = first_error(err, t ? flush_check(t, flush) : 0);
	if (err)
		return err;
	/* Flags the format knows, set or cleared, always normalize. */
	return t->fmt->ops->protect(t, va, va + (len - 1), apply_set_clear, &sc, true, flush);
}

/* Two tables whose leaves mean the same: a PTE of one is a PTE of the other. */
static bool tables_alike(const struct pt_table *a, const struct pt_table *b)
{
	return a->fmt == b->fmt && a->tree.phys == b->tree.phys &&
	       a->tree.features == b->tree.features && a->max_leaf_level == b->max_leaf_level;
}

int pt_copy(struct pt_table *dst, struct pt_table *src, uint64_t va, uint64_t len,
	    unsigned flags, struct pt_flush *flush)
{
	if (!dst || !src || dst == src || !tables_alike(dst, src) || (flags & ~PT_COPY_COW))
		return PT_EINVAL;
	/* Both sides written (src with COW; a borrowed half never: its nodes
	 * are the kernel table's, which may be the other side). */
	int err = first_error(range_check(dst, va, len, true), range_check(src, va, len, true));
	err = first_error(err, flush_check(src, flush));
	if (err)
		return err;
	return src->fmt->ops->copy(dst, src, va, va + (len - 1), flags & PT_COPY_COW, flush);
}

int pt_harvest(struct pt_table *t, uint64_t va, uint64_t len, unsigned what,
	       uint64_t *bitmap, struct pt_flush *flush)
{
	uint32_t ask;
	int err = harvest_args(what, bitmap, &ask);

	err = first_error(err, range_check(t, va, len, true));
	err = first_error(err, t ? flush_check(t, flush) : 0);
	if (err)
		return err;
	bitmap_zero(bitmap, va, va + (len - 1));
	return t->fmt->ops->harvest(t, va, va + (len - 1), ask, what & PT_HARVEST_CLEAR, bitmap,
				    flush);
}

int pt_mark(struct pt_table *t, uint64_t va, uint64_t len, uint64_t value)
{
	int err = t && (value >> t->fmt->marker_bits) ? PT_EINVAL : range_check(t, va, len, true);

	if (err)
		return err;
	return t->fmt->ops->mark(t, va, va + (len - 1), value);
}

int pt_query_marker(struct pt_table *t, uint64_t va, uint64_t *value)
{
	if (!t || !value)
		return PT_EINVAL;
	int err = range_check(t, va & ~(uint64_t)(PT_PAGE_SIZE - 1), PT_PAGE_SIZE, false);
	if (err)
		return err;
	return t->fmt->ops->query_marker(t, va, value);
}

/* A stash's nodes as a preallocation (whose empty head is PT_NO_FRAME). */
static struct pt_prealloc stash_nodes(const struct pt_reserve *r)
{
	return (struct pt_prealloc){ r->count ? r->head : PT_NO_FRAME, r->count };
}

int pt_reserve_fill(struct pt_table *t, struct pt_reserve *r, uint64_t nodes)
{
	struct pt_prealloc more;

	if (!t || !r)
		return PT_EINVAL;
	if (r->count >= nodes)
		return 0;
	int err = pt__reserve(t->tree.phys, &more, nodes - r->count);
	if (err)
		return err;
	/* The new chain goes in front of the old one. */
	uint64_t tail = more.head;
	while (t->tree.phys->meta[tail].next != PT_NO_FRAME)
		tail = t->tree.phys->meta[tail].next;
	t->tree.phys->meta[tail].next = stash_nodes(r).head;
	*r = (struct pt_reserve){ more.head, r->count + more.count };
	return 0;
}

void pt_reserve_drain(struct pt_table *t, struct pt_reserve *r)
{
	if (!t || !r)
		return;
	struct pt_prealloc nodes = stash_nodes(r);
	pt__reserve_release(t->tree.phys, &nodes);
	*r = (struct pt_reserve){ 0, 0 };
}

int pt_split(struct pt_table *t, uint64_t va, uint64_t len, unsigned level, struct pt_reserve *r)
{
	int err = t && (level == 0 || level > t->fmt->max_leaf_level) ? PT_EINVAL
								       : range_check(t, va, len, true);
	if (err)
		return err;
	return t->fmt->ops->split(t, va, va + (len - 1), level, r);
}

int pt_move(struct pt_table *t, uint64_t from, uint64_t to, uint64_t len,
	    struct pt_flush *flush)
{
	int err = range_check(t, from, len, true);

	err = first_error(err, range_check(t, to, len, true));
	err = first_error(err, t ? flush_check(t, flush) : 0);
	/* Overlapping ranges: a move onto itself is not a move. */
	if (len && from <= to + (len - 1) && to <= from + (len - 1))
		err = PT_EINVAL;
	if (err)
		return err;
	return t->fmt->ops->move(t, from, to, len, flush);
}

int pt_query(struct pt_table *t, uint64_t va, struct pt_mapping *out)
{
	if (!t || !out)
		return PT_EINVAL;
	int err = range_check(t, va & ~(uint64_t)(PT_PAGE_SIZE - 1), PT_PAGE_SIZE, false);
	if (err)
		return err;
	return t->fmt->ops->query(t, va, out);
}

int pt_for_each_mapping(struct pt_table *t, uint64_t va, uint64_t len,
			int (*fn)(const struct pt_mapping *m, void *arg), void *arg)
{
	int err = fn ? range_check(t, va, len, false) : PT_EINVAL;
	if (err)
		return err;
	return t->fmt->ops->for_each(t, va, va + (len - 1), fn, arg);
}

int pt_check(struct pt_table *t, char *why, size_t why_len)
{
	if (!t)
		return PT_EINVAL;
	return t->fmt->ops->check(t, why, why_len);
}

int pt_table_stats(struct pt_table *t, struct pt_table_stats *out)
{
	if (!t || !out)
		return PT_EINVAL;
	t->fmt->ops->stats(t, out);
	return 0;
}

/* ---- tables ---- */

/*
 * struct pt_table lives in a frame of its own: the core has no malloc.  It
 * starts with the platform's settings; the sink's release is the format's.
 */
static int table_new(struct pt_phys *phys, const struct pt_format *fmt, enum pt_space space,
		     struct pt_table **out)
{
	uint64_t pa;
	int err = pt__frame_alloc(phys, PT_USAGE_TABLE, &pa);
	if (err)
		return err;
	struct pt_table *t = pt_va_of(phys, pa);
	*t = (struct pt_table){
		.tree = { .phys = phys, .space = space, .features = phys->platform.features,
			  .sink = { .phys = phys,
				    .invalidate = phys->platform.invalidate,
				    .invalidate_arg = phys->platform.invalidate_arg,
				    .stage = fmt->stage,
				    .release_subtree = fmt->ops->release_subtree } },
		.fmt = fmt,
		.max_leaf_level = fmt->max_leaf_level,
	};
	*out = t;
	return 0;
}

static void table_free(struct pt_table *t)
{
	struct pt_phys *phys = t->tree.phys;
	uint64_t pa = (uint64_t)((uintptr_t)t - phys->linear_offset);

	atomic_store_explicit(&pt_meta_of(phys, pa)->refcount, 0, memory_order_relaxed);
	pt__frame_free(phys, pa);
}

/* Allocates the root (and a kernel table's pinned nodes). */
static int table_setup(struct pt_table *t, struct pt_table **out)
{
	int err = t->fmt->ops->table_init(t);
	if (err) {
		table_free(t);
		return err;
	}
	t->tree.sink.root_pa = t->tree.root_pa;
	*out = t;
	return 0;
}

int pt_table_create_opts(struct pt_phys *phys, const struct pt_format *fmt,
			 enum pt_space space, const struct pt_table_opts *opts,
			 struct pt_table **out)
{
	struct pt_table *t;

	if (!phys || !fmt || !out || (space != PT_SPACE_USER && space != PT_SPACE_KERNEL) ||
	    (space == PT_SPACE_KERNEL && fmt->stage == 2) ||
	    (opts && opts->max_leaf_level > fmt->max_leaf_level))
		return PT_EINVAL;
	int err = table_new(phys, fmt, space, &t);
	if (err)
		return err;
	if (opts) {
		if (opts->max_leaf_level)
			t->max_leaf_level = opts->max_leaf_level;
		if (opts->invalidate) {
			t->tree.sink.invalidate = opts->invalidate;
			t->tree.sink.invalidate_arg = opts->invalidate_arg;
		}
		t->tree.live = opts->live;
		t->tree.features |= opts->features;
		t->tree.sink.tag = opts->tag;
	}
	return table_setup(t, out);
}

int pt_table_create(struct pt_phys *phys, const struct pt_format *fmt, enum pt_space space,
		    struct pt_table **out)
{
	return pt_table_create_opts(phys, fmt, space, NULL, out);
}

/* Shares the kernel half where the format has one root for both halves;
 * otherwise (AArch64: TTBR0 and TTBR1) an empty user table with the kernel
 * table's settings. */
int pt_table_create_user(struct pt_table *kernel, struct pt_table **out)
{
	struct pt_table *t;
	bool share;

	if (!kernel || !out || kernel->tree.space != PT_SPACE_KERNEL)
		return PT_EINVAL;
	share = kernel->fmt->shared_kernel_root;
	int err = table_new(kernel->tree.phys, kernel->fmt, PT_SPACE_USER, &t);
	if (err)
		return err;
	t->kernel = share ? kernel : NULL;
	t->max_leaf_level = kernel->max_leaf_level;
	t->tree.features = kernel->tree.features;
	t->tree.live = kernel->tree.live;
	t->tree.sink.invalidate = kernel->tree.sink.invalidate;
	t->tree.sink.invalidate_arg = kernel->tree.sink.invalidate_arg;
	t->tree.sink.tag = kernel->tree.sink.tag;
	err = table_setup(t, out);
	if (err == 0 && share)
		atomic_fetch_add_explicit(&kernel->nr_users, 1, memory_order_relaxed);
	return err;
}

int pt_table_destroy(struct pt_table *t)
{
	if (!t)
		return PT_EINVAL;
	if (atomic_load_explicit(&t->nr_users, memory_order_relaxed))
		return PT_EBUSY;
	t->fmt->ops->table_teardown(t);
	if (t->kernel)
		atomic_fetch_sub_explicit(&t->kernel->nr_users, 1, memory_order_relaxed);
	table_free(t);
	return 0;
}

uint64_t pt_table_root(const struct pt_table *t) { return t ? t->tree.root_pa : 0; }

int pt_table_set_tag(struct pt_table *t, uint64_t tag)
{
	if (!t)
		return PT_EINVAL;
	t->tree.sink.tag = tag;
	return 0;
}
const struct pt_format *pt_table_format(const struct pt_table *t) { return t ? t->fmt : NULL; }
struct pt_phys *pt_table_phys(const struct pt_table *t) { return t ? t->tree.phys : NULL; }
enum pt_space pt_table_space(const struct pt_table *t)
{
	return t ? t->tree.space : PT_SPACE_USER;
}
