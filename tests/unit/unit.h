/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tests/unit/unit.h - helpers shared by the cmocka unit tests.
 *
 * Every check is a macro that passes __FILE__/__LINE__ down, so a failure
 * points at the test step that broke, not at this header.  Helpers are
 * static inline so a test file that does not use one gets no warning.
 *
 * The "view" helpers implement design §4's rule "on any error nothing
 * changes": a test snapshots the table (mappings, node counts, free frames)
 * before a failing call and compares afterwards.
 */
#ifndef PT_UNIT_H
#define PT_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ptkit/ptkit.h>
#include <ptkit/testing.h>

#define SZ_4K   0x1000ull
#define SZ_2M   0x200000ull
#define SZ_1G   0x40000000ull
#define SZ_512G 0x8000000000ull

/* x86-64 address space (design §5). */
#define X86_USER_END     0x0000800000000000ull
#define X86_KERNEL_START 0xffff800000000000ull
#define X86_LAST_PAGE    0xfffffffffffff000ull

#define RW  (PT_R | PT_W)
#define RWX (PT_R | PT_W | PT_X)

/* Fail at the caller's line with a formatted message. */
#define U_FAIL(file, line, ...)                                              \
	do {                                                                 \
		print_error(__VA_ARGS__);                                    \
		print_error("\n");                                           \
		_fail(file, line);                                           \
	} while (0)

static inline struct pt_prop prop(uint32_t flags, uint32_t cache)
{
	struct pt_prop p = { flags, cache };
	return p;
}

/* Free frames, counting removed nodes that wait out an RCU grace period. */
static inline uint64_t u_free_frames(struct pt_phys *phys)
{
	return pt_phys_reclaimable_frames(phys);
}

static inline const char *u_err(int rc)
{
	const char *s = pt_strerror(rc);
	return s ? s : "(null)";
}

/* Return codes are compared with their names printed: "-3" alone is a
 * puzzle in a CI log. */
#define assert_rc(expr, want) u_assert_rc((expr), (want), #expr, __FILE__, __LINE__)
static inline void u_assert_rc(int got, int want, const char *what,
			       const char *file, int line)
{
	if (got != want)
		U_FAIL(file, line, "%s returned %d (%s), expected %d (%s)",
		       what, got, u_err(got), want, u_err(want));
}

#define assert_u64(got, want) u_assert_u64((got), (want), #got, __FILE__, __LINE__)
static inline void u_assert_u64(uint64_t got, uint64_t want, const char *what,
				const char *file, int line)
{
	if (got != want)
		U_FAIL(file, line, "%s = %#llx, expected %#llx", what,
		       (unsigned long long)got, (unsigned long long)want);
}

/* pt_check after every mutating step: the invariants of design §4. */
#define CHECK(t) u_check((t), __FILE__, __LINE__)
static inline void u_check(struct pt_table *t, const char *file, int line)
{
	char why[512] = "";
	int rc = pt_check(t, why, sizeof why);

	if (rc != 0)
		U_FAIL(file, line, "pt_check = %d (%s): %s", rc, u_err(rc), why);
}

/* ---- mappings ---------------------------------------------------------- */

static inline void u_mapping_str(const struct pt_mapping *m, char *buf, size_t n)
{
	snprintf(buf, n, "{va %#llx pa %#llx size %#llx flags %#x cache %u %s}",
		 (unsigned long long)m->va, (unsigned long long)m->pa,
		 (unsigned long long)m->size, m->prop.flags, m->prop.cache,
		 m->tracked ? "tracked" : "untracked");
}

static inline bool u_mapping_eq(const struct pt_mapping *a, const struct pt_mapping *b)
{
	return a->va == b->va && a->pa == b->pa && a->size == b->size &&
	       a->prop.flags == b->prop.flags && a->prop.cache == b->prop.cache &&
	       a->tracked == b->tracked;
}

static inline struct pt_mapping mapping(uint64_t va, uint64_t pa, uint64_t size,
					uint32_t flags, uint32_t cache, bool tracked)
{
	struct pt_mapping m;

	memset(&m, 0, sizeof m);
	m.va = va;
	m.pa = pa;
	m.size = size;
	m.prop = prop(flags, cache);
	m.tracked = tracked;
	return m;
}

#define assert_mapping_eq(got, want) u_assert_mapping_eq((got), (want), __FILE__, __LINE__)
static inline void u_assert_mapping_eq(const struct pt_mapping *got,
				       const struct pt_mapping *want,
				       const char *file, int line)
{
	char g[160], w[160];

	if (u_mapping_eq(got, want))
		return;
	u_mapping_str(got, g, sizeof g);
	u_mapping_str(want, w, sizeof w);
	U_FAIL(file, line, "mapping %s, expected %s", g, w);
}

/* pt_query(t, at) must return exactly the leaf `want` (whole, unclipped). */
#define assert_query(t, at, want) u_assert_query((t), (at), (want), __FILE__, __LINE__)
static inline void u_assert_query(struct pt_table *t, uint64_t at,
				  struct pt_mapping want, const char *file, int line)
{
	struct pt_mapping got;
	int rc;

	memset(&got, 0, sizeof got);
	rc = pt_query(t, at, &got);
	if (rc != 0)
		U_FAIL(file, line, "pt_query(%#llx) = %d (%s), expected a mapping",
		       (unsigned long long)at, rc, u_err(rc));
	u_assert_mapping_eq(&got, &want, file, line);
}

#define assert_unmapped(t, at) u_assert_unmapped((t), (at), __FILE__, __LINE__)
static inline void u_assert_unmapped(struct pt_table *t, uint64_t at,
				     const char *file, int line)
{
	struct pt_mapping got;
	char g[160];
	int rc = pt_query(t, at, &got);

	if (rc == PT_ENOENT)
		return;
	if (rc == 0) {
		u_mapping_str(&got, g, sizeof g);
		U_FAIL(file, line, "pt_query(%#llx) found %s, expected PT_ENOENT",
		       (unsigned long long)at, g);
	}
	U_FAIL(file, line, "pt_query(%#llx) = %d (%s), expected PT_ENOENT",
	       (unsigned long long)at, rc, u_err(rc));
}

/* What the format makes of a property: tests expect normalized props back. */
static inline struct pt_prop u_norm(struct pt_table *t, struct pt_prop p, uint32_t features)
{
	struct pt_prop out;
	int rc = pt_table_format(t)->normalize(p, features, &out);

	if (rc != 0)
		fail_msg("normalize(%#x, %u) = %d in a test that needs it valid",
			 p.flags, p.cache, rc);
	return out;
}

/* ---- collecting leaves --------------------------------------------------- */

struct u_list {
	struct pt_mapping *m;
	size_t n, cap;
};

static inline int u_list_add(const struct pt_mapping *m, void *arg)
{
	struct u_list *l = arg;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->m = realloc(l->m, l->cap * sizeof *l->m);
		if (!l->m)
			abort();
	}
	l->m[l->n++] = *m;
	return 0;
}

static inline void u_list_free(struct u_list *l)
{
	free(l->m);
	memset(l, 0, sizeof *l);
}

/* pt_for_each_mapping into a list; the call itself must succeed. */
#define u_collect(t, va, len, l) u_collect_at((t), (va), (len), (l), __FILE__, __LINE__)
static inline void u_collect_at(struct pt_table *t, uint64_t va, uint64_t len,
				struct u_list *l, const char *file, int line)
{
	int rc = pt_for_each_mapping(t, va, len, u_list_add, l);

	if (rc != 0)
		U_FAIL(file, line, "pt_for_each_mapping(%#llx, %#llx) = %d (%s)",
		       (unsigned long long)va, (unsigned long long)len, rc, u_err(rc));
}

/* ---- the view: "on any error nothing changes" ----------------------------- */

struct u_view {
	struct u_list maps;
	uint64_t free_frames;
	struct pt_table_stats st;
};

/* Walks both halves.  A half outside the table's space must say PT_ERANGE
 * (a kernel table has no user half; a standalone user table no kernel
 * half); anything else is a failure of for_each itself. */
static inline void u_view_take_at(struct pt_table *t, struct u_view *v,
				  const char *file, int line)
{
	const struct pt_format *f = pt_table_format(t);
	enum pt_space sp = pt_table_space(t);
	int rc;

	memset(v, 0, sizeof *v);
	rc = pt_for_each_mapping(t, 0, f->user_end, u_list_add, &v->maps);
	if (!(rc == 0 || (rc == PT_ERANGE && sp == PT_SPACE_KERNEL)))
		U_FAIL(file, line, "view: for_each(user half) = %d (%s)", rc, u_err(rc));
	rc = pt_for_each_mapping(t, f->kernel_start, 0 - f->kernel_start,
				 u_list_add, &v->maps);
	if (!(rc == 0 || (rc == PT_ERANGE && sp == PT_SPACE_USER)))
		U_FAIL(file, line, "view: for_each(kernel half) = %d (%s)", rc, u_err(rc));
	v->free_frames = pt_phys_free_frames(pt_table_phys(t));
	rc = pt_table_stats(t, &v->st);
	if (rc != 0)
		U_FAIL(file, line, "view: pt_table_stats = %d (%s)", rc, u_err(rc));
}
#define u_view_take(t, v) u_view_take_at((t), (v), __FILE__, __LINE__)

static inline void u_view_free(struct u_view *v)
{
	u_list_free(&v->maps);
}

/*
 * Compares the table now with `before`.  Free frames may only grow: RCU
 * may still be releasing nodes detached by an earlier, successful call, but
 * a failed call that kept a frame would show up as fewer.
 */
#define assert_view_same(t, before) u_assert_view_same((t), (before), __FILE__, __LINE__)
static inline void u_assert_view_same(struct pt_table *t, const struct u_view *before,
				      const char *file, int line)
{
	struct u_view now;
	char a[160], b[160];
	size_t i;

	u_view_take_at(t, &now, file, line);
	if (now.maps.n != before->maps.n) {
		size_t n = now.maps.n;
		u_view_free(&now);
		U_FAIL(file, line, "view changed: %zu mappings, were %zu", n,
		       before->maps.n);
	}
	for (i = 0; i < now.maps.n; i++) {
		if (u_mapping_eq(&now.maps.m[i], &before->maps.m[i]))
			continue;
		u_mapping_str(&now.maps.m[i], a, sizeof a);
		u_mapping_str(&before->maps.m[i], b, sizeof b);
		u_view_free(&now);
		U_FAIL(file, line, "view changed: mapping %zu is %s, was %s", i, a, b);
	}
	for (i = 0; i <= PT_MAX_LEVELS; i++) {
		if (now.st.nodes[i] != before->st.nodes[i] ||
		    now.st.mappings[i] != before->st.mappings[i]) {
			u_view_free(&now);
			U_FAIL(file, line, "level %zu: %llu nodes %llu leaves, were %llu %llu",
			       i, (unsigned long long)now.st.nodes[i],
			       (unsigned long long)now.st.mappings[i],
			       (unsigned long long)before->st.nodes[i],
			       (unsigned long long)before->st.mappings[i]);
		}
	}
	if (now.st.tracked != before->st.tracked ||
	    now.st.mapped_bytes != before->st.mapped_bytes) {
		u_view_free(&now);
		U_FAIL(file, line, "stats changed: tracked/bytes");
	}
	if (now.free_frames < before->free_frames) {
		uint64_t f = now.free_frames;
		u_view_free(&now);
		U_FAIL(file, line, "free frames %llu, were %llu: a failed call kept memory",
		       (unsigned long long)f, (unsigned long long)before->free_frames);
	}
	u_view_free(&now);
}

/*
 * Runs a call that must fail with `want` and change nothing, then pt_check.
 * `expr` is evaluated once, between the two snapshots.
 */
#define assert_fails_unchanged(t, expr, want)                                \
	do {                                                                 \
		struct u_view u_before_;                                     \
		u_view_take((t), &u_before_);                                \
		u_assert_rc((expr), (want), #expr, __FILE__, __LINE__);      \
		u_assert_view_same((t), &u_before_, __FILE__, __LINE__);     \
		u_view_free(&u_before_);                                     \
		CHECK(t);                                                    \
	} while (0)

/* A call that must succeed, followed by pt_check. */
#define assert_ok_checked(t, expr)                                           \
	do {                                                                 \
		u_assert_rc((expr), 0, #expr, __FILE__, __LINE__);           \
		CHECK(t);                                                    \
	} while (0)

/* ---- environments --------------------------------------------------------- */

#define U_MAX_TABLES 8

struct u_env {
	struct pt_phys *phys;
	uint64_t bytes;
	struct pt_table *tab[U_MAX_TABLES]; /* destroyed in reverse order */
	int n;
};

static inline struct u_env *u_env_new(uint64_t bytes)
{
	struct u_env *e = calloc(1, sizeof *e);

	assert_non_null(e);
	e->bytes = bytes;
	assert_rc(pt_phys_create(bytes, &e->phys), 0);
	assert_non_null(e->phys);
	return e;
}

static inline struct pt_table *u_env_push(struct u_env *e, struct pt_table *t)
{
	assert_true(e->n < U_MAX_TABLES);
	assert_non_null(t);
	e->tab[e->n++] = t;
	return t;
}

static inline struct pt_table *u_env_table(struct u_env *e, enum pt_space sp)
{
	struct pt_table *t = NULL;

	assert_rc(pt_table_create(e->phys, &pt_format_x86_64, sp, &t), 0);
	CHECK(t);
	return u_env_push(e, t);
}

static inline struct pt_table *u_env_table_opts(struct u_env *e, enum pt_space sp,
						const struct pt_table_opts *o)
{
	struct pt_table *t = NULL;

	assert_rc(pt_table_create_opts(e->phys, &pt_format_x86_64, sp, o, &t), 0);
	CHECK(t);
	return u_env_push(e, t);
}

static inline struct pt_table *u_env_user_of(struct u_env *e, struct pt_table *k)
{
	struct pt_table *t = NULL;

	assert_rc(pt_table_create_user(k, &t), 0);
	CHECK(t);
	return u_env_push(e, t);
}

/* Forget a table the test destroyed itself. */
static inline void u_env_forget(struct u_env *e, struct pt_table *t)
{
	int i, j;

	for (i = 0; i < e->n; i++) {
		if (e->tab[i] != t)
			continue;
		for (j = i; j + 1 < e->n; j++)
			e->tab[j] = e->tab[j + 1];
		e->n--;
		return;
	}
}

/* Tables are checked once more, then destroyed newest first (user tables
 * before the kernel table they share). */
static inline void u_env_free(struct u_env *e)
{
	if (!e)
		return;
	while (e->n > 0) {
		struct pt_table *t = e->tab[--e->n];
		CHECK(t);
		assert_rc(pt_table_destroy(t), 0);
	}
	pt_phys_destroy(e->phys);
	free(e);
}

static inline int u_teardown(void **state)
{
	u_env_free(*state);
	*state = NULL;
	return 0;
}

/* The usual fixture: 32 MiB of RAM and one user table, tab[0]. */
static inline int u_setup_user(void **state)
{
	struct u_env *e = u_env_new(32ull << 20);

	u_env_table(e, PT_SPACE_USER);
	*state = e;
	return 0;
}

static inline struct pt_table *T0(void **state)
{
	return ((struct u_env *)*state)->tab[0];
}

/* Every format, for the tests that run once per format. */
static const struct pt_format *const u_formats[] = {
	&pt_format_x86_64, &pt_format_x86_64_la57, &pt_format_riscv_sv39,
	&pt_format_riscv_sv48, &pt_format_aarch64_4k,
};

/* test_fn: fn(format) for every format. */
#define U_PER_FORMAT(fn)                                                     \
	static void test_##fn(void **state)                                  \
	{                                                                    \
		(void)state;                                                 \
		for (size_t i = 0; i < sizeof(u_formats) / sizeof(u_formats[0]); i++) \
			fn(u_formats[i]);                                    \
	}

/* ---- invalidation recorder ------------------------------------------------ */

#define U_INVAL_MAX 1024
#define U_WATCH_MAX 512

/*
 * Records every invalidation callback.  It also samples the reference
 * counts of "watched" frames at the moment of the callback: design §5 says
 * the table's reference on an unmapped frame is dropped only *after* the
 * invalidation, so at callback time it must still be there.
 */
struct u_inval {
	int calls;
	bool all;
	bool nodes_removed;
	uint64_t root_pa;
	bool root_mismatch;
	struct pt_flush_range r[U_INVAL_MAX];
	size_t nr;
	bool overflow;
	struct pt_phys *phys;
	const uint64_t *watch;
	size_t nwatch;
	uint64_t watch_min_at_call; /* smallest watched count seen at a call */
};

static inline void u_inval_cb(void *arg, const struct pt_flush_info *info)
{
	struct u_inval *rec = arg;
	size_t i;

	rec->calls++;
	if (info->all)
		rec->all = true;
	if (info->nodes_removed)
		rec->nodes_removed = true;
	if (rec->root_pa && info->root_pa != rec->root_pa)
		rec->root_mismatch = true;
	for (i = 0; i < info->nr_ranges; i++) {
		if (rec->nr == U_INVAL_MAX) {
			rec->overflow = true;
			break;
		}
		rec->r[rec->nr++] = info->ranges[i];
	}
	for (i = 0; i < rec->nwatch; i++) {
		uint64_t c = pt_frame_refcount(rec->phys, rec->watch[i]);
		if (c < rec->watch_min_at_call)
			rec->watch_min_at_call = c;
	}
}

static inline void u_inval_reset(struct u_inval *rec)
{
	uint64_t root = rec->root_pa;
	struct pt_phys *phys = rec->phys;
	const uint64_t *w = rec->watch;
	size_t nw = rec->nwatch;

	memset(rec, 0, sizeof *rec);
	rec->root_pa = root;
	rec->phys = phys;
	rec->watch = w;
	rec->nwatch = nw;
	rec->watch_min_at_call = UINT64_MAX;
}

/* Is every byte of [va, va + len) inside a recorded range (or was
 * everything invalidated)?  len may reach 2^64 - va. */
static inline bool u_inval_covers(const struct u_inval *rec, uint64_t va, uint64_t len)
{
	uint64_t cur = va, end = va + len; /* end 0 means 2^64 */

	if (rec->all)
		return true;
	for (;;) {
		bool found = false;
		size_t i;

		if (end != 0 && cur >= end)
			return true;
		for (i = 0; i < rec->nr && !found; i++) {
			uint64_t s = rec->r[i].va, e = s + rec->r[i].len;
			if (rec->r[i].len == 0 || s > cur || (e != 0 && e <= cur))
				continue;
			if (e == 0)
				return true; /* covers up to 2^64 */
			cur = e;             /* strictly grows: always ends */
			found = true;
		}
		if (!found)
			return false;
	}
}

/* Options that route a table's invalidations to `rec`. */
static inline struct pt_table_opts u_opts_inval(struct u_inval *rec)
{
	struct pt_table_opts o;

	memset(&o, 0, sizeof o);
	o.invalidate = u_inval_cb;
	o.invalidate_arg = rec;
	return o;
}

#endif /* PT_UNIT_H */
