/* SPDX-License-Identifier: MPL-2.0 */
/*
 * show.c - ptdump-style listings, statistics and checks.
 *
 * A listing line stands for a run of leaves that a reader would call one
 * region: same leaf size, contiguous in both va and pa, same properties and
 * trackedness.  Leaves of different sizes stay on separate lines so the
 * "(N x 2M)" count says exactly which pages the hardware walks.
 *
 *   0xVA_START-0xVA_END  SIZE  0xPA  rwx u g a d  CACHE  tracked  (N x 4K)
 *
 * VA_END is exclusive, as in Linux's ptdump.
 */
#include <inttypes.h>
#include <string.h>

#include "ptctl.h"

struct show_run {
	FILE *out;
	struct pt_mapping first; /* first leaf of the run */
	uint64_t count;          /* leaves in the run, 0 = none yet */
	uint64_t lines;
};

const char *ptctl_cache(uint32_t cache)
{
	static const char *const names[PT_CACHE_COUNT] = {
		[PT_CACHE_WB] = "WB", [PT_CACHE_WT] = "WT",
		[PT_CACHE_WC] = "WC", [PT_CACHE_UC] = "UC",
	};

	return cache < PT_CACHE_COUNT ? names[cache] : "??";
}

const char *ptctl_flags(uint32_t f, char buf[12])
{
	static const struct { uint32_t bit; char c; unsigned pos; } map[] = {
		{ PT_R, 'r', 0 }, { PT_W, 'w', 1 }, { PT_X, 'x', 2 },
		{ PT_U, 'u', 4 }, { PT_G, 'g', 6 }, { PT_A, 'a', 8 },
		{ PT_D, 'd', 10 },
	};
	size_t i;

	memcpy(buf, "--- - - - -", 12);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (f & map[i].bit)
			buf[map[i].pos] = map[i].c;
	return buf;
}

void ptctl_print_leaves(FILE *out, const struct pt_mapping *first,
			uint64_t count)
{
	uint64_t len = first->size * count, end = first->va + len;
	char size[PTCTL_SIZE_LEN], leaf[PTCTL_SIZE_LEN], flags[12];

	fprintf(out, "0x%016" PRIx64, first->va);
	/* A range ending at 2^64 wraps to 0 in 64 bits. */
	if (end)
		fprintf(out, "-0x%016" PRIx64, end);
	else
		fputs("-0x10000000000000000", out);
	fprintf(out, "  %6s  0x%016" PRIx64 "  %s  %s  %-7s  (%" PRIu64 " x %s)\n",
		ptctl_size(len, size), first->pa,
		ptctl_flags(first->prop.flags, flags), ptctl_cache(first->prop.cache),
		first->tracked ? "tracked" : "", count,
		ptctl_size(first->size, leaf));
}

static void show_flush(struct show_run *r)
{
	if (!r->count)
		return;
	ptctl_print_leaves(r->out, &r->first, r->count);
	r->lines++;
	r->count = 0;
}

bool ptctl_leaves_extend(const struct pt_mapping *first, uint64_t count,
			 const struct pt_mapping *m)
{
	uint64_t len = first->size * count;

	return count && m->size == first->size &&
	       m->va == first->va + len && m->pa == first->pa + len &&
	       m->tracked == first->tracked &&
	       m->prop.flags == first->prop.flags &&
	       m->prop.cache == first->prop.cache;
}

static int show_leaf(const struct pt_mapping *m, void *arg)
{
	struct show_run *r = arg;

	if (!ptctl_leaves_extend(&r->first, r->count, m)) {
		show_flush(r);
		r->first = *m;
	}
	r->count++;
	return 0;
}

/* Lists one half; a half the table does not cover (PT_ERANGE) is skipped. */
static int show_half(struct show_run *r, struct pt_table *t, uint64_t va,
		     uint64_t len)
{
	int rc = pt_for_each_mapping(t, va, len, show_leaf, r);

	show_flush(r);
	if (rc == PT_ERANGE)
		return 0;
	if (rc)
		fprintf(r->out, "error: %s\n", pt_strerror(rc));
	return rc;
}

int ptctl_dump(FILE *out, struct pt_table *t)
{
	const struct pt_format *f = pt_table_format(t);
	struct show_run r = { .out = out };
	int rc;

	rc = show_half(&r, t, 0, f->user_end);
	if (!rc && f->stage != 2) /* a stage 2 has no kernel half */
		rc = show_half(&r, t, f->kernel_start, 0 - f->kernel_start);
	if (!rc && !r.lines)
		fputs("(nothing mapped)\n", out);
	if (!rc)
		rc = ptctl_print_stats(out, t);
	return rc;
}

int ptctl_print_stats(FILE *out, struct pt_table *t)
{
	const struct pt_format *f = pt_table_format(t);
	struct pt_table_stats s;
	char buf[PTCTL_SIZE_LEN];
	uint64_t nodes = 0;
	unsigned l;
	int rc = pt_table_stats(t, &s);

	if (rc) {
		fprintf(out, "error: %s\n", pt_strerror(rc));
		return rc;
	}
	fputs("nodes", out);
	for (l = f->levels; l > 0; l--) {
		fprintf(out, " L%u %" PRIu64, l, s.nodes[l]);
		nodes += s.nodes[l];
	}
	fprintf(out, " (%s), leaves", ptctl_size(nodes * PT_PAGE_SIZE, buf));
	for (l = f->max_leaf_level; l > 0; l--)
		fprintf(out, " %s %" PRIu64, ptctl_size(pt_level_size(l), buf),
			s.mappings[l]);
	fprintf(out, " (%" PRIu64 " tracked), mapped %s, free frames %" PRIu64 "\n",
		s.tracked, ptctl_size(s.mapped_bytes, buf),
		pt_phys_free_frames(pt_table_phys(t)));
	return 0;
}

int ptctl_check(FILE *out, struct pt_table *t)
{
	char why[256] = "";
	int rc = pt_check(t, why, sizeof(why));

	if (rc)
		fprintf(out, "error: %s: %s\n", pt_strerror(rc), why);
	else
		fputs("ok\n", out);
	return rc;
}
