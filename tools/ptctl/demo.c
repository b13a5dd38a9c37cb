/* SPDX-License-Identifier: MPL-2.0 */
/*
 * demo.c - ptctl demo, dump and stats.
 *
 * Three tables on one small arena, built from the step lists below, in any
 * format (--format NAME, default x86-64):
 *   - a process: code, data, a tracked heap, a PROT_NONE page, a stack
 *     with a guard hole, all in the user half;
 *   - a kernel: a linear map with 1G and 2M pages, kernel text with 2M and
 *     4K pages, an uncached MMIO window;
 *   - a user table made with pt_table_create_user: its own user half plus
 *     the kernel table's kernel half, shared rather than copied.  On
 *     AArch64 the halves have separate roots (TTBR0, TTBR1): the user table
 *     then has only its own half, and the output says so.
 * `demo` explains each table, lists it, checks it and tears everything down;
 * `dump` and `stats` print only the listings or the numbers.
 */
#include <inttypes.h>
#include <string.h>

#include "ptctl.h"

#define DEMO_K (UINT64_C(1) << 10)
#define DEMO_M (UINT64_C(1) << 20)
#define DEMO_G (UINT64_C(1) << 30)
/* Holds every node and frame the demo allocates, with room to spare. */
#define DEMO_ARENA (16 * DEMO_M)

struct demo_step {
	const char *label;
	const char *why;
	uint64_t va, pa, len;     /* pa unused when tracked */
	uint64_t va39;            /* if set, va on Sv39 (256 GiB kernel half) */
	bool top;                 /* va counts down from the user half's end */
	uint32_t flags, cache;
	bool tracked;             /* fresh frames, mapped with pt_map_frames */
	bool late;                /* kernel: mapped after the user table exists */
};

#define DEMO_RX (PT_R | PT_X)
#define DEMO_RW (PT_R | PT_W)

/* The program image lives at pa 64 MiB, outside the 16 MiB arena: untracked
 * mappings may point anywhere the format can encode. */
static const struct demo_step demo_process_steps[] = {
	{ .label = "code", .va = 0x400000, .pa = 0x4000000, .len = 16 * DEMO_K,
	  .flags = DEMO_RX | PT_U,
	  .why = "program text, read+execute; untracked: ptkit just records the pa" },
	{ .label = "data", .va = 0x600000, .pa = 0x4004000, .len = 8 * DEMO_K,
	  .flags = DEMO_RW | PT_U,
	  .why = "initialised data, read+write, untracked like the code" },
	{ .label = "heap", .va = 0x1000000, .len = 32 * DEMO_K,
	  .flags = DEMO_RW | PT_U, .tracked = true,
	  .why = "8 frames from pt_frame_alloc mapped tracked by pt_map_frames; the\n"
		 "          caller then dropped its references, so the table frees them" },
	{ .label = "none", .va = 0x1008000, .pa = 0x4006000, .len = 4 * DEMO_K,
	  .flags = 0,
	  .why = "PROT_NONE: a mapping to the software, not to the MMU (valid bit\n"
		 "          clear; x86-64 stores the frame inverted against L1TF)" },
	{ .label = "stack", .va = 0x5000, .top = true, .len = 16 * DEMO_K,
	  .flags = DEMO_RW | PT_U, .tracked = true,
	  .why = "4 tracked frames below the top of the user half; the page under\n"
		 "          them stays unmapped as a guard hole, so an overflow faults" },
};

static const struct demo_step demo_kernel_steps[] = {
	{ .label = "linear", .va = 0xffff888000000000, .va39 = 0xffffffd800000000,
	  .pa = 0,
	  .len = DEMO_G + 64 * DEMO_M, .flags = DEMO_RW | PT_G,
	  .why = "all of a 1088 MiB machine, read+write, no execute, global:\n"
		 "          pt_map picks the largest pages that fit: 1G, then 2M (on\n"
		 "          Sv39 1G entries are the root's, kept for shared nodes)" },
	{ .label = "text", .va = 0xffffffff81000000, .pa = 0x1000000,
	  .len = 4 * DEMO_M + 12 * DEMO_K, .flags = DEMO_RX | PT_G,
	  .why = "kernel text at -2 GiB + 16 MiB, read+execute, global: the length\n"
		 "          is not a multiple of 2M, so the tail is 4K pages" },
	{ .label = "mmio", .va = 0xffffc90000000000, .va39 = 0xffffffc600000000,
	  .pa = 0xfebf0000,
	  .len = 64 * DEMO_K, .flags = DEMO_RW | PT_G, .cache = PT_CACHE_UC,
	  .late = true,
	  .why = "a device's registers, uncached (UC); mapped after the user table\n"
		 "          below was made, yet that table sees it too" },
};

static const struct demo_step demo_user_steps[] = {
	{ .label = "code", .va = 0x400000, .pa = 0x4000000, .len = 16 * DEMO_K,
	  .flags = DEMO_RX | PT_U,
	  .why = "the same program image as the process: untracked pages can be\n"
		 "          mapped by any number of tables" },
};

#define DEMO_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct demo_view {
	const char *title;
	const struct demo_step *steps;
	size_t nsteps;
};

static const struct demo_view demo_views[] = {
	{ "process: user table", demo_process_steps, DEMO_LEN(demo_process_steps) },
	{ "kernel: kernel table", demo_kernel_steps, DEMO_LEN(demo_kernel_steps) },
	{ "user: pt_table_create_user(kernel)",
	  demo_user_steps, DEMO_LEN(demo_user_steps) },
};

#define DEMO_NTABLES DEMO_LEN(demo_views)

struct demo {
	const struct pt_format *f;
	struct pt_phys *phys;
	struct pt_table *t[DEMO_NTABLES]; /* in demo_views order */
	uint64_t free_at_start;
};

enum { DEMO_PROCESS, DEMO_KERNEL, DEMO_USER };
#define DEMO_MMIO_STEP 2 /* in demo_kernel_steps */

/* Where a step maps in format f. */
static uint64_t demo_va(const struct pt_format *f, const struct demo_step *s)
{
	if (s->top)
		return f->user_end - s->va;
	if (s->va39 && f->va_bits < 48)
		return s->va39;
	return s->va;
}

static int demo_fail(const char *what, int rc)
{
	fprintf(stderr, "ptctl demo: %s: %s\n", what, pt_strerror(rc));
	return rc;
}

static int demo_apply(struct pt_table *t, const struct demo_step *s)
{
	struct pt_prop prop = { s->flags, s->cache };

	uint64_t va = demo_va(pt_table_format(t), s);

	if (s->tracked)
		return ptctl_map_new_frames(t, va, s->len / PT_PAGE_SIZE, prop);
	return pt_map(t, va, s->pa, s->len, prop);
}

static int demo_apply_all(struct pt_table *t, const struct demo_view *v,
			  bool late)
{
	size_t i;
	int rc;

	for (i = 0; i < v->nsteps; i++) {
		if (v->steps[i].late != late)
			continue;
		rc = demo_apply(t, &v->steps[i]);
		if (rc)
			return demo_fail(v->steps[i].label, rc);
	}
	return 0;
}

/* The user table is made between the kernel's early and late steps, to
 * show that later kernel mappings reach it through the shared nodes. */
static int demo_build(struct demo *d, const struct pt_format *f)
{
	int rc;

	memset(d, 0, sizeof(*d));
	d->f = f;
	rc = pt_phys_create(DEMO_ARENA, &d->phys);
	if (rc)
		return demo_fail("pt_phys_create", rc);
	d->free_at_start = pt_phys_free_frames(d->phys);
	/* A stage 2 has one (guest-physical) space: the process table only. */
	if (f->stage == 2) {
		if ((rc = pt_table_create(d->phys, f, PT_SPACE_USER, &d->t[DEMO_PROCESS])))
			return demo_fail("pt_table_create", rc);
		return demo_apply_all(d->t[DEMO_PROCESS], &demo_views[DEMO_PROCESS], false);
	}
	if ((rc = pt_table_create(d->phys, f, PT_SPACE_USER, &d->t[DEMO_PROCESS])) ||
	    (rc = pt_table_create(d->phys, f, PT_SPACE_KERNEL, &d->t[DEMO_KERNEL])))
		return demo_fail("pt_table_create", rc);
	if ((rc = demo_apply_all(d->t[DEMO_PROCESS], &demo_views[DEMO_PROCESS], false)) ||
	    (rc = demo_apply_all(d->t[DEMO_KERNEL], &demo_views[DEMO_KERNEL], false)))
		return rc;
	rc = pt_table_create_user(d->t[DEMO_KERNEL], &d->t[DEMO_USER]);
	if (rc)
		return demo_fail("pt_table_create_user", rc);
	if ((rc = demo_apply_all(d->t[DEMO_KERNEL], &demo_views[DEMO_KERNEL], true)) ||
	    (rc = demo_apply_all(d->t[DEMO_USER], &demo_views[DEMO_USER], false)))
		return rc;
	return 0;
}

/* Users of the kernel table go first: it refuses to die while shared. */
static int demo_destroy_tables(struct demo *d)
{
	static const int order[] = { DEMO_USER, DEMO_PROCESS, DEMO_KERNEL };
	size_t i;
	int rc = 0, err;

	for (i = 0; i < DEMO_LEN(order); i++) {
		if (!d->t[order[i]])
			continue;
		err = pt_table_destroy(d->t[order[i]]);
		if (err && !rc)
			rc = demo_fail("pt_table_destroy", err);
		d->t[order[i]] = NULL;
	}
	return rc;
}

static int demo_destroy(struct demo *d)
{
	int rc = demo_destroy_tables(d);

	if (d->phys)
		pt_phys_destroy(d->phys);
	return rc;
}

static void demo_intro(FILE *out, const struct pt_format *f, size_t i)
{
	if (i == DEMO_PROCESS)
		fprintf(out, "A process-like address space in the user half [0, 0x%"
			PRIx64 ").\n", f->user_end);
	else if (i == DEMO_KERNEL)
		fprintf(out, "A kernel-like address space in the kernel half [0x%"
			PRIx64 ", 2^64).\n", f->kernel_start);
	if (i == DEMO_KERNEL && f->shared_kernel_root)
		fprintf(out, "A kernel table allocates all 256 level-%u nodes of its half up front, so\n"
			"user tables can share them (hence L%u 256 below).\n",
			f->levels - 1, f->levels - 1);
	else if (i == DEMO_KERNEL)
		fprintf(out, "%s gives the kernel half a root of its own (TTBR1), so a kernel\n"
			"table allocates nothing up front and user tables share nothing.\n",
			f->name);
	if (i == DEMO_USER && f->shared_kernel_root)
		fprintf(out, "A user table whose root points at the kernel table's level-%u nodes: its\n"
			"own user half, plus the kernel half exactly as the kernel table has it\n"
			"(its node counts include the shared nodes).\n", f->levels - 1);
	else if (i == DEMO_USER)
		fprintf(out, "On %s a user table cannot see the kernel half: TTBR0 holds its root,\n"
			"TTBR1 the kernel table's.  pt_table_create_user makes an empty user\n"
			"table with the kernel table's settings, sharing nothing (so the mmio\n"
			"window is not in it, and the kernel table can be destroyed first).\n",
			f->name);
}

static void demo_explain(FILE *out, const struct pt_format *f, size_t v)
{
	char size[PTCTL_SIZE_LEN];
	size_t i;

	demo_intro(out, f, v);
	for (i = 0; i < demo_views[v].nsteps; i++) {
		const struct demo_step *s = &demo_views[v].steps[i];

		fprintf(out, "  %-6s  %s at 0x%" PRIx64 "\n          %s\n",
			s->label, ptctl_size(s->len, size), demo_va(f, s), s->why);
	}
}

/* A user table may read the kernel half but never write it (on AArch64 it
 * does not cover it at all: PT_ERANGE). */
static void demo_show_eperm(FILE *out, struct pt_table *user)
{
	struct pt_prop prop = { PT_R | PT_W | PT_G, PT_CACHE_WB };
	const struct demo_step *mmio = &demo_kernel_steps[DEMO_MMIO_STEP];
	uint64_t va = demo_va(pt_table_format(user), mmio) + DEMO_M;
	int rc = pt_map(user, va, 0xfebf0000, PT_PAGE_SIZE, prop);

	fprintf(out, "pt_map into the kernel half through this table: %s\n",
		rc ? pt_strerror(rc) : "ok (unexpected!)");
}

/* Destroying the kernel table first must fail and change nothing.  Where
 * nothing is shared (AArch64) it would succeed, so it is not tried. */
static void demo_show_ebusy(FILE *out, struct pt_table *kernel)
{
	int rc;

	if (!pt_table_format(kernel)->shared_kernel_root) {
		fputs("pt_table_destroy(kernel) is not tried first: no user table shares it\n",
		      out);
		return;
	}
	rc = pt_table_destroy(kernel);

	fprintf(out, "pt_table_destroy(kernel) while the user table shares it: %s\n",
		rc ? pt_strerror(rc) : "ok (unexpected!)");
}

static int demo_show(FILE *out, struct demo *d, size_t i)
{
	int rc;

	fprintf(out, "== %s (%s) ==\n", demo_views[i].title, d->f->name);
	demo_explain(out, d->f, i);
	if (i == DEMO_USER)
		demo_show_eperm(out, d->t[i]);
	fputc('\n', out);
	rc = ptctl_dump(out, d->t[i]);
	fputs("check: ", out);
	if (ptctl_check(out, d->t[i]) && !rc)
		rc = PT_ECORRUPT;
	fputc('\n', out);
	return rc;
}

/* Every node and every tracked frame must be back once the tables are gone. */
static int demo_teardown(FILE *out, struct demo *d)
{
	uint64_t after;
	int rc;

	fputs("== teardown ==\n", out);
	if (d->t[DEMO_KERNEL])
		demo_show_ebusy(out, d->t[DEMO_KERNEL]);
	rc = demo_destroy_tables(d);
	after = pt_phys_free_frames(d->phys);
	fprintf(out, "destroyed the user, process and kernel tables: free frames %"
		PRIu64 " before building, %" PRIu64 " now\n", d->free_at_start, after);
	if (!rc && after != d->free_at_start) {
		fputs("error: frames leaked\n", out);
		rc = PT_ECORRUPT;
	}
	return rc;
}

/* Builds the demo tables, runs `show` on each, then tears them down. */
static int demo_run(FILE *out, const struct pt_format *f,
		    int (*show)(FILE *, struct demo *, size_t), bool teardown)
{
	struct demo d;
	size_t i;
	int rc = demo_build(&d, f), err;

	for (i = 0; !rc && i < DEMO_NTABLES; i++)
		if (d.t[i]) /* a stage 2 has no kernel and user views */
			rc = show(out, &d, i);
	if (!rc && teardown)
		rc = demo_teardown(out, &d);
	err = demo_destroy(&d);
	return rc || err ? 1 : 0;
}

static int demo_show_dump(FILE *out, struct demo *d, size_t i)
{
	fprintf(out, "== %s (%s) ==\n", demo_views[i].title, d->f->name);
	return ptctl_dump(out, d->t[i]);
}

static int demo_show_stats(FILE *out, struct demo *d, size_t i)
{
	char title[64];

	snprintf(title, sizeof(title), "%s (%s)", demo_views[i].title, d->f->name);
	fprintf(out, "%-48s ", title);
	return ptctl_print_stats(out, d->t[i]);
}

int ptctl_demo_process(FILE *out, const struct pt_format *fmt,
		       int (*fn)(FILE *out, struct pt_table *t))
{
	struct demo d;
	struct pt_table *t = NULL;
	int rc = demo_build(&d, fmt), err;

	if (!rc && fmt->stage == 2 && (rc = pt_table_create(d.phys, fmt, PT_SPACE_USER, &t)))
		demo_fail("pt_table_create", rc);
	else if (!rc && !t && (rc = pt_table_create_user(d.t[DEMO_KERNEL], &t)))
		demo_fail("pt_table_create_user", rc);
	if (!rc)
		rc = demo_apply_all(t, &demo_views[DEMO_PROCESS], false);
	if (!rc)
		rc = fn(out, t);
	if (t && (err = pt_table_destroy(t)) && !rc)
		rc = demo_fail("pt_table_destroy", err);
	err = demo_destroy(&d);
	return rc || err ? 1 : 0;
}

int ptctl_cmd_demo(int argc, char **argv)
{
	const struct pt_format *f;
	int rc = ptctl_format_arg(argc, argv, &f);

	if (rc)
		return rc;
	fputs("Listings merge adjacent leaves alike in all but address, one line each:\n"
	      "  va range (end exclusive)  size  pa  flags: rwx, u(ser) g(lobal)\n"
	      "  a(ccessed) d(irty)  cache policy  tracked?  (leaves x page size)\n"
	      "then the node and leaf counts per level from pt_table_stats.\n\n",
	      stdout);
	return demo_run(stdout, f, demo_show, true);
}

int ptctl_cmd_dump(int argc, char **argv)
{
	const struct pt_format *f;
	int rc = ptctl_format_arg(argc, argv, &f);

	return rc ? rc : demo_run(stdout, f, demo_show_dump, false);
}

int ptctl_cmd_stats(int argc, char **argv)
{
	const struct pt_format *f;
	int rc = ptctl_format_arg(argc, argv, &f);

	return rc ? rc : demo_run(stdout, f, demo_show_stats, false);
}
