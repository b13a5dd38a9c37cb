/* SPDX-License-Identifier: MPL-2.0 */
/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* tests/CMakeLists.txt builds this library even without cmocka; then a
 * failure can only abort. */
#if defined(__has_include)
#if __has_include(<cmocka.h>)
#include <cmocka.h>
#define HAVE_CMOCKA 1
#endif
#endif

void pt_test_fail_at(const char *file, int line, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
#ifdef HAVE_CMOCKA
	print_error("%s\n", msg);
	_fail(file, line);
#endif
	fprintf(stderr, "%s:%d: %s\n", file, line, msg);
	abort();
}

void pt_test_check_at(struct pt_table *table, const char *file, int line)
{
	char why[512] = "";
	int err = pt_check(table, why, sizeof(why));

	if (err != 0)
		pt_test_fail_at(file, line, "pt_check: %s (%d): %s",
				pt_strerror(err), err, why);
}

static const char *size_name(uint64_t size, char *buf, size_t len)
{
	if (size >= PT_GiB && size % PT_GiB == 0)
		snprintf(buf, len, "%" PRIu64 "G", size / PT_GiB);
	else if (size >= PT_MiB && size % PT_MiB == 0)
		snprintf(buf, len, "%" PRIu64 "M", size / PT_MiB);
	else
		snprintf(buf, len, "%" PRIu64 "K", size / PT_KiB);
	return buf;
}

const char *pt_test_fmt_mapping(const struct pt_mapping *m, char *buf,
				size_t len)
{
	static const char *const cache[] = {"WB", "WT", "WC", "UC"};
	static const char letters[] = "RWXUGAD";
	char fl[8], sz[24];
	uint32_t f = m->prop.flags;

	for (int i = 0; i < 7; i++)
		fl[i] = (f & (1u << i)) ? letters[i] : '-';
	fl[7] = '\0';
	snprintf(buf, len,
		 "va=%#" PRIx64 " pa=%#" PRIx64 " %s %s sw=%#x %s%s",
		 m->va, m->pa, size_name(m->size, sz, sizeof(sz)), fl,
		 (f >> PT_SW_SHIFT) & 0xfu,
		 m->prop.cache < 4 ? cache[m->prop.cache] : "cache?",
		 m->tracked ? " tracked" : "");
	if (f & ~PT_FLAGS_ALL) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, " unknown=%#x", f & ~PT_FLAGS_ALL);
	}
	return buf;
}

/* Growing array filled by pt_for_each_mapping. */
static int collect(const struct pt_mapping *m, void *arg)
{
	struct pt_view_half *h = arg;

	/* The capacity is the next power of two: grow when nr reaches one. */
	if ((h->nr & (h->nr - 1)) == 0) {
		size_t cap = h->nr ? 2 * h->nr : 1;
		void *p = realloc(h->maps, cap * sizeof(*h->maps));

		if (!p)
			abort();
		h->maps = p;
	}
	h->maps[h->nr++] = *m;
	return 0;
}

static void take_half(struct pt_view_half *h, struct pt_table *t,
		      uint64_t va, uint64_t len)
{
	memset(h, 0, sizeof(*h));
	h->err = pt_for_each_mapping(t, va, len, collect, h);
}

void pt_snapshot_take(struct pt_snapshot *s, struct pt_table *table,
		      const uint64_t *frames, size_t nr_frames)
{
	const struct pt_format *fmt = pt_table_format(table);
	struct pt_phys *phys = pt_table_phys(table);

	memset(s, 0, sizeof(*s));
	take_half(&s->half[0], table, 0, fmt->user_end);
	/* The kernel half ends at 2^64, so its length is 0 - start. */
	take_half(&s->half[1], table, fmt->kernel_start, 0 - fmt->kernel_start);
	s->stats_err = pt_table_stats(table, &s->stats);
	s->nr_frames = nr_frames;
	if (nr_frames) {
		s->frames = malloc(nr_frames * sizeof(*s->frames));
		s->refs = malloc(nr_frames * sizeof(*s->refs));
		if (!s->frames || !s->refs)
			abort();
		for (size_t i = 0; i < nr_frames; i++) {
			s->frames[i] = frames[i];
			s->refs[i] = pt_frame_refcount(phys, frames[i]);
		}
	}
	s->free_frames = pt_phys_free_frames(phys);
}

void pt_snapshot_free(struct pt_snapshot *s)
{
	for (int i = 0; i < 2; i++)
		free(s->half[i].maps);
	free(s->frames);
	free(s->refs);
	memset(s, 0, sizeof(*s));
}

static bool mapping_eq(const struct pt_mapping *a, const struct pt_mapping *b)
{
	return a->va == b->va && a->pa == b->pa && a->size == b->size &&
	       a->prop.flags == b->prop.flags &&
	       a->prop.cache == b->prop.cache && a->tracked == b->tracked;
}

static int diff_half(const char *name, const struct pt_view_half *w,
		     const struct pt_view_half *g, char *buf, size_t len)
{
	char a[160], b[160];
	size_t n = w->nr < g->nr ? w->nr : g->nr;

	if (w->err != g->err) {
		snprintf(buf, len, "%s half: for_each_mapping returned %d, was %d",
			 name, g->err, w->err);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (mapping_eq(&w->maps[i], &g->maps[i]))
			continue;
		snprintf(buf, len, "%s half: mapping #%zu: want %s, got %s", name,
			 i, pt_test_fmt_mapping(&w->maps[i], a, sizeof(a)),
			 pt_test_fmt_mapping(&g->maps[i], b, sizeof(b)));
		return 1;
	}
	if (w->nr > n) {
		snprintf(buf, len, "%s half: %zu mappings, want %zu; missing %s",
			 name, g->nr, w->nr,
			 pt_test_fmt_mapping(&w->maps[n], a, sizeof(a)));
		return 1;
	}
	if (g->nr > n) {
		snprintf(buf, len, "%s half: %zu mappings, want %zu; extra %s",
			 name, g->nr, w->nr,
			 pt_test_fmt_mapping(&g->maps[n], a, sizeof(a)));
		return 1;
	}
	return 0;
}

static int diff_u64(const char *what, uint64_t w, uint64_t g, char *buf,
		    size_t len)
{
	if (w == g)
		return 0;
	snprintf(buf, len, "%s: %" PRIu64 ", want %" PRIu64, what, g, w);
	return 1;
}

int pt_stats_diff(const struct pt_table_stats *w,
		  const struct pt_table_stats *g, char *buf, size_t len)
{
	char what[48];

	for (int l = 0; l <= PT_MAX_LEVELS; l++) {
		snprintf(what, sizeof(what), "stats.nodes[%d]", l);
		if (diff_u64(what, w->nodes[l], g->nodes[l], buf, len))
			return 1;
		snprintf(what, sizeof(what), "stats.mappings[%d]", l);
		if (diff_u64(what, w->mappings[l], g->mappings[l], buf, len))
			return 1;
	}
	if (diff_u64("stats.tracked", w->tracked, g->tracked, buf, len))
		return 1;
	return diff_u64("stats.mapped_bytes", w->mapped_bytes, g->mapped_bytes,
			buf, len);
}

static int diff_stats(const struct pt_snapshot *w, const struct pt_snapshot *g,
		      char *buf, size_t len)
{
	if (w->stats_err != g->stats_err) {
		snprintf(buf, len, "pt_table_stats returned %d, was %d",
			 g->stats_err, w->stats_err);
		return 1;
	}
	return pt_stats_diff(&w->stats, &g->stats, buf, len);
}

static int diff_refs(const struct pt_snapshot *w, const struct pt_snapshot *g,
		     char *buf, size_t len)
{
	char what[64];

	if (w->nr_frames != g->nr_frames)
		return diff_u64("snapshot frame count", w->nr_frames,
				g->nr_frames, buf, len);
	for (size_t i = 0; i < w->nr_frames; i++) {
		snprintf(what, sizeof(what), "refcount of frame %#" PRIx64,
			 w->frames[i]);
		if (diff_u64(what, w->refs[i], g->refs[i], buf, len))
			return 1;
	}
	return 0;
}

int pt_snapshot_diff(const struct pt_snapshot *want,
		     const struct pt_snapshot *got, unsigned what, char *buf,
		     size_t len)
{
	if ((what & PT_SNAP_VIEW) &&
	    (diff_half("user", &want->half[0], &got->half[0], buf, len) ||
	     diff_half("kernel", &want->half[1], &got->half[1], buf, len)))
		return 1;
	if ((what & PT_SNAP_STATS) && diff_stats(want, got, buf, len))
		return 1;
	if ((what & PT_SNAP_REFS) && diff_refs(want, got, buf, len))
		return 1;
	if ((what & PT_SNAP_FREE) &&
	    diff_u64("free frames", want->free_frames, got->free_frames, buf,
		     len))
		return 1;
	return 0;
}

void pt_test_snapshot_equal_at(const struct pt_snapshot *want,
			       const struct pt_snapshot *got, unsigned what,
			       const char *file, int line)
{
	char why[512];

	if (pt_snapshot_diff(want, got, what, why, sizeof(why)))
		pt_test_fail_at(file, line, "snapshot differs: %s", why);
}

uint64_t pt_test_free_frames(struct pt_phys *phys)
{
	return pt_phys_reclaimable_frames(phys);
}
