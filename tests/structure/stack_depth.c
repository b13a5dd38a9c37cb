/* SPDX-License-Identifier: MPL-2.0 */
/*
 * stack_depth - how much stack each public call uses, whole call chain
 * included (liburcu and the allocator too), in its deepest case: every
 * call runs on a thread whose stack was filled with a pattern, and the
 * bytes the pattern lost are what the call used, minus what an empty
 * thread uses.  A kernel gives ptkit 8-16 KiB stacks: each call must stay
 * within PT_STACK_BUDGET (design §7), and no single frame above 512 bytes
 * (stack_frames.sh checks that from the compiler's -fstack-usage).
 *
 * Run in an optimized build without sanitizers (their frames are larger):
 * under ASan/TSan the test is skipped.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ptkit/ptkit.h>

#define PT_STACK_BUDGET 2560
#define STACK_BYTES (256 * 1024)
#define PATTERN 0xa5

#define SZ_4K 0x1000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull

struct scenario {
	const char *name;
	const struct pt_format *fmt;
	void (*prepare)(struct pt_table *t);   /* outside the measurement */
	void (*measured)(struct pt_table *t);
};

static struct pt_phys *phys;
static uint64_t frames[64];
static const struct pt_prop rw = { PT_R | PT_W, PT_CACHE_WB };

#define MUST(x)                                                                    \
	do {                                                                       \
		int rc_ = (x);                                                     \
		if (rc_) {                                                         \
			fprintf(stderr, "%s: %s\n", #x, pt_strerror(rc_));        \
			exit(1);                                                   \
		}                                                                  \
	} while (0)

/* ---- the calls, each in a deep case ---- */

static void nothing(struct pt_table *t) { (void)t; }

/* A fresh table: every level's node is made by this call. */
static void map_4k_fresh(struct pt_table *t) { MUST(pt_map(t, 0x7f0000201000, 0x5000, SZ_4K, rw)); }

/* 4K, then 2M, then a 1G leaf, then 2M and 4K again in one call. */
static void map_mixed(struct pt_table *t)
{
	MUST(pt_map(t, SZ_1G - SZ_2M - SZ_4K, SZ_1G - SZ_2M - SZ_4K, SZ_1G + 2 * SZ_2M + 2 * SZ_4K,
		    rw));
}

static void map_frames(struct pt_table *t) { MUST(pt_map_frames(t, 0x100000, frames, 64, rw)); }

/* Tracked frames and huge leaves in several subtrees, all removed. */
static void fill(struct pt_table *t)
{
	map_mixed(t);
	map_frames(t);
	MUST(pt_map(t, 4 * SZ_1G, 4 * SZ_1G, SZ_1G, rw));
}

static void unmap_all(struct pt_table *t) { MUST(pt_unmap(t, 0, 8 * SZ_1G, NULL)); }

/* One page out of a 1G leaf: splits down to 4K, level by level. */
static void protect_split(struct pt_table *t)
{
	MUST(pt_protect(t, 4 * SZ_1G + SZ_2M + SZ_4K, SZ_4K, 0, PT_W, NULL));
}

static void unmap_split(struct pt_table *t) { MUST(pt_unmap(t, 4 * SZ_1G + SZ_4K, SZ_4K, NULL)); }

/* Splits 1G to 4K at both ends of the source, and pieces into a fresh
 * subtree at a distance only 4K divides. */
static void move_split(struct pt_table *t)
{
	MUST(pt_move(t, 4 * SZ_1G + SZ_4K, 0x7f0000003000, SZ_2M, NULL));
}

/* Every subtree and leaf of fill, moved as it is, 512 GiB up. */
static void move_all(struct pt_table *t) { MUST(pt_move(t, 0, 512 * SZ_1G, 8 * SZ_1G, NULL)); }

static void query(struct pt_table *t)
{
	struct pt_mapping m;
	MUST(pt_query(t, 0x100000, &m));
}

static int count_one(const struct pt_mapping *m, void *arg)
{
	(void)m;
	++*(unsigned *)arg;
	return 0;
}

static void for_each(struct pt_table *t)
{
	unsigned n = 0;
	MUST(pt_for_each_mapping(t, 0, 8 * SZ_1G, count_one, &n));
}

static void check(struct pt_table *t)
{
	char why[128];
	MUST(pt_check(t, why, sizeof(why)));
}

static void stats(struct pt_table *t)
{
	struct pt_table_stats st;
	MUST(pt_table_stats(t, &st));
}

/* A cursor taking everything one item at a time, splitting on the way. */
static void cursor_take(struct pt_table *t)
{
	struct pt_cursor c;
	struct pt_taken taken;

	MUST(pt_cursor_open(&c, t, SZ_4K, 8 * SZ_1G - SZ_4K));
	while (pt_cursor_take_next(&c, UINT64_MAX, &taken, NULL) == 0)
		;
	pt_cursor_close(&c);
}

static void create_destroy(struct pt_table *t)
{
	struct pt_table *k;
	(void)t;
	MUST(pt_table_create(phys, &pt_format_x86_64, PT_SPACE_KERNEL, &k));
	MUST(pt_map(k, 0xffff800000000000, 0, SZ_1G, rw));
	MUST(pt_table_destroy(k));
}

/* A fork of everything fill() made, copy-on-write, into a fresh table of
 * the same format (made before the measurement): every level's node made,
 * both tables' local batches in use. */
static struct pt_table *fork_child;

static void fill_and_child(struct pt_table *t)
{
	fill(t);
	MUST(pt_table_create(phys, pt_table_format(t), PT_SPACE_USER, &fork_child));
}

static void copy_cow_all(struct pt_table *t)
{
	MUST(pt_copy(fork_child, t, 0, 8 * SZ_1G, PT_COPY_COW, NULL));
	MUST(pt_table_destroy(fork_child));
}

/* A 1G leaf split to 4K from a stash, and a 2M leaf. */
static void split_stash(struct pt_table *t)
{
	struct pt_reserve r = { 0, 0 };

	MUST(pt_reserve_fill(t, &r, 8));
	MUST(pt_split(t, 4 * SZ_1G + SZ_2M - SZ_4K, 2 * SZ_4K, 1, &r));
	pt_reserve_drain(t, &r);
}

/* Markers into a fresh table: every level's node made. */
static void mark_fresh(struct pt_table *t) { MUST(pt_mark(t, 0x7f0000201000, SZ_4K, 7)); }

/* Dirty logging over everything fill() made, clearing. */
static void harvest_clear_all(struct pt_table *t)
{
	static uint64_t bm[8 * SZ_1G / SZ_4K / 64];

	MUST(pt_harvest(t, 0, 8 * SZ_1G, PT_HARVEST_ACCESSED | PT_HARVEST_DIRTY | PT_HARVEST_CLEAR,
			bm, NULL));
}

/* A fault handler's cursor: a marker made in a fresh table (every level's
 * node), read back, then mapped over. */
static void cursor_mark_fault(struct pt_table *t)
{
	const struct pt_mapping m = { .va = 0x7f0000201000, .pa = 0x5000, .size = SZ_4K,
				      .prop = rw };
	struct pt_cursor c;
	uint64_t v;

	MUST(pt_cursor_open(&c, t, m.va, SZ_4K));
	MUST(pt_cursor_mark(&c, SZ_4K, 7));
	MUST(pt_cursor_jump(&c, m.va));
	MUST(pt_cursor_query_marker(&c, &v));
	MUST(pt_cursor_map(&c, &m));
	pt_cursor_close(&c);
}

/* Everything fill() made harvested window by window under one cursor,
 * clearing. */
static void cursor_harvest_all(struct pt_table *t)
{
	static uint64_t bm[SZ_1G / SZ_4K / 64];
	struct pt_cursor c;

	MUST(pt_cursor_open(&c, t, 0, 8 * SZ_1G));
	while (pt_cursor_harvest_next(&c, SZ_1G, PT_HARVEST_ACCESSED | PT_HARVEST_DIRTY |
				      PT_HARVEST_CLEAR, bm, NULL) == 0)
		;
	pt_cursor_close(&c);
}

/* ---- measuring ---- */

struct run {
	const struct scenario *s;
	struct pt_table *t;
	unsigned char *stack;   /* lowest address */
	uintptr_t call_sp;      /* the caller's frame when the call began */
};

/* Fills the stack below this function's own frame with the pattern. */
static __attribute__((noinline)) void paint_free_stack(unsigned char *lowest)
{
	volatile unsigned char *p = lowest;
	unsigned char *below_me = (unsigned char *)__builtin_frame_address(0) - 64;

	while ((unsigned char *)p < below_me)
		*p++ = PATTERN;
}

static void *run_measured(void *arg)
{
	struct run *r = arg;
	struct pt_mapping m;

	uint64_t pa;

	/* What a thread does once: register with liburcu-bp (first read
	 * section), pick its frame cache slot (first allocation). */
	pt_query(r->t, 0, &m);
	MUST(pt_frame_alloc(phys, &pa));
	MUST(pt_frame_put(phys, pa));
	paint_free_stack(r->stack);
	r->call_sp = (uintptr_t)__builtin_frame_address(0);
	r->s->measured(r->t);
	return NULL;
}

/* Bytes of stack below the caller's frame that the call touched. */
static size_t stack_used(const struct scenario *s, struct pt_table *t)
{
	unsigned char *stack = aligned_alloc(4096, STACK_BYTES);
	struct run r = { s, t, stack, 0 };
	pthread_attr_t attr;
	pthread_t th;
	size_t untouched = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, stack, STACK_BYTES);
	if (pthread_create(&th, &attr, run_measured, &r) || pthread_join(th, NULL)) {
		fprintf(stderr, "cannot run a thread on a stack of our own\n");
		exit(1);
	}
	while (untouched < STACK_BYTES && stack[untouched] == PATTERN)
		untouched++;
	size_t used = r.call_sp - (uintptr_t)(stack + untouched);
	free(stack);
	return used;
}

static const struct scenario scenarios[] = {
	{ "pt_map 4K, fresh table", &pt_format_x86_64, nothing, map_4k_fresh },
	{ "pt_map 4K, fresh table, 5 levels", &pt_format_x86_64_la57, nothing, map_4k_fresh },
	{ "pt_map 4K+2M+1G+2M+4K", &pt_format_x86_64, nothing, map_mixed },
	{ "pt_map_frames 64", &pt_format_x86_64, nothing, map_frames },
	{ "pt_unmap everything", &pt_format_x86_64, fill, unmap_all },
	{ "pt_unmap everything, 5 levels", &pt_format_x86_64_la57, fill, unmap_all },
	{ "pt_unmap everything, AArch64", &pt_format_aarch64_4k, fill, unmap_all },
	{ "pt_protect splitting 1G to 4K", &pt_format_x86_64, fill, protect_split },
	{ "pt_protect splitting, AArch64 (BBM)", &pt_format_aarch64_4k, fill, protect_split },
	{ "pt_unmap splitting 1G to 4K", &pt_format_riscv_sv48, fill, unmap_split },
	{ "pt_move splitting into a fresh subtree, 5 levels", &pt_format_x86_64_la57, fill,
	  move_split },
	{ "pt_move splitting, AArch64 (BBM)", &pt_format_aarch64_4k, fill, move_split },
	{ "pt_move subtrees", &pt_format_x86_64, fill, move_all },
	{ "pt_query", &pt_format_x86_64, fill, query },
	{ "pt_for_each_mapping", &pt_format_x86_64, fill, for_each },
	{ "pt_check", &pt_format_x86_64, fill, check },
	{ "pt_table_stats", &pt_format_x86_64, fill, stats },
	{ "pt_cursor_take_next, all", &pt_format_x86_64, fill, cursor_take },
	{ "pt_table_create/map/destroy", &pt_format_x86_64, nothing, create_destroy },
	{ "pt_copy COW, fresh table, 5 levels", &pt_format_x86_64_la57, fill_and_child,
	  copy_cow_all },
	{ "pt_copy COW, fresh table, AArch64", &pt_format_aarch64_4k, fill_and_child,
	  copy_cow_all },
	{ "pt_harvest clearing, 5 levels", &pt_format_x86_64_la57, fill, harvest_clear_all },
	{ "pt_mark, fresh table, 5 levels", &pt_format_x86_64_la57, nothing, mark_fresh },
	{ "pt_split 1G to 4K, stash, 5 levels", &pt_format_x86_64_la57, fill, split_stash },
	{ "pt_split 1G to 4K, AArch64 (BBM)", &pt_format_aarch64_4k, fill, split_stash },
	{ "pt_cursor_mark + query_marker + map, fresh table, 5 levels",
	  &pt_format_x86_64_la57, nothing, cursor_mark_fault },
	{ "pt_cursor_harvest_next clearing, 5 levels", &pt_format_x86_64_la57, fill,
	  cursor_harvest_all },
	/* Stage 2: roots of several pages (Sv48x4, AArch64), 5 levels (EPT5). */
	{ "pt_map 4K, fresh table, EPT 5 levels", &pt_format_x86_ept5, nothing, map_4k_fresh },
	{ "pt_unmap everything, Sv48x4", &pt_format_riscv_sv48x4, fill, unmap_all },
	{ "pt_protect splitting, AArch64 stage 2 (BBM)", &pt_format_aarch64_s2_4k, fill,
	  protect_split },
	{ "pt_move splitting into a fresh subtree, EPT 5 levels", &pt_format_x86_ept5, fill,
	  move_split },
	{ "pt_copy COW, fresh table, EPT 5 levels", &pt_format_x86_ept5, fill_and_child,
	  copy_cow_all },
	{ "pt_split 1G to 4K, stash, AArch64 stage 2 (BBM)", &pt_format_aarch64_s2_4k, fill,
	  split_stash },
};

int main(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	puts("stack_depth: skipped under sanitizers (their frames are larger)");
	return 77;
#endif
	size_t worst = 0;
	int failed = 0;

	MUST(pt_phys_create(64 << 20, &phys));
	for (int i = 0; i < 64; i++)
		MUST(pt_frame_alloc(phys, &frames[i]));
	/* liburcu-bp starts its call_rcu thread on the first deferred
	 * release: once, before anything is measured. */
	struct pt_table *warm;
	MUST(pt_table_create(phys, &pt_format_x86_64, PT_SPACE_USER, &warm));
	fill(warm);
	/* pt_harvest zeroes its bitmap: the compiler may call memset, whose
	 * lazily bound PLT entry costs ~3 KiB of stack once, to the dynamic
	 * linker (a kernel links it directly). */
	harvest_clear_all(warm);
	unmap_all(warm);
	MUST(pt_table_destroy(warm));
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		struct pt_table *t;
		MUST(pt_table_create(phys, s->fmt, PT_SPACE_USER, &t));
		s->prepare(t);
		size_t used = stack_used(s, t);
		printf("%-40s %5zu bytes%s\n", s->name, used, used > PT_STACK_BUDGET ? "  OVER" : "");
		failed += used > PT_STACK_BUDGET;
		worst = used > worst ? used : worst;
		MUST(pt_table_destroy(t));
	}
	printf("deepest public call: %zu bytes (budget %d)\n", worst, PT_STACK_BUDGET);
	for (int i = 0; i < 64; i++)
		MUST(pt_frame_put(phys, frames[i]));
	pt_phys_destroy(phys);
	return failed ? 1 : 0;
}
