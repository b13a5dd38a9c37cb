/* SPDX-License-Identifier: MPL-2.0 */
/* conc_util.c - see conc_util.h. */
#define _GNU_SOURCE
#include "conc_util.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#define CONC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CONC_TSAN 1
#endif
#endif

static const char *test_name = "conc";
static uint64_t test_seed;

void conc_set_name(const char *name)
{
	test_name = name;
}

void conc_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	/* One line, then out: other threads may be about to trip over the
	 * same broken state, and their reports would only confuse. */
	flockfile(stderr);
	fprintf(stderr, "FAIL %s:%d: %s: ", file, line, test_name);
	if (test_seed)
		fprintf(stderr, "(seed 0x%" PRIx64 ") ", test_seed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(1);
}

const struct pt_test_format *conc_format(const char *id, uint32_t *features)
{
	const struct pt_test_format *tf = pt_test_format_find(id ? id : "x86_64");

	CONC_CHECK(tf, "unknown format %s (tests/common/format_rules.h lists them)", id);
	*features = id ? tf->featsets[tf->nr_featsets - 1] : 0;
	return tf;
}

uint64_t conc_seed(void)
{
	const char *env = getenv("PTKIT_STRESS_SEED");
	struct timespec ts;

	if (env && *env) {
		test_seed = strtoull(env, NULL, 0);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		test_seed = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec;
	}
	printf("%s: seed 0x%" PRIx64 " (PTKIT_STRESS_SEED=0x%" PRIx64 " replays the "
	       "operations; interleavings differ)\n", test_name, test_seed, test_seed);
	fflush(stdout);
	return test_seed;
}

uint64_t conc_iters(uint64_t base)
{
	const char *env = getenv("PTKIT_STRESS_ITERS");
	uint64_t mult = env && *env ? strtoull(env, NULL, 0) : 1;
	uint64_t n = base * (mult ? mult : 1);

#ifdef CONC_TSAN
	if (!(env && *env))
		n /= 4; /* TSan costs 5-15x; the default run must stay short */
#endif
	return n ? n : 1;
}

void conc_rng_init(struct conc_rng *r, uint64_t seed, uint64_t stream)
{
	r->s = seed ^ (stream + 1) * UINT64_C(0x9e3779b97f4a7c15);
	if (!r->s)
		r->s = 1;
	for (int i = 0; i < 4; i++)
		conc_rand(r);
}

uint64_t conc_rand(struct conc_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * UINT64_C(0x2545f4914f6cdd1d);
}

uint64_t conc_below(struct conc_rng *r, uint64_t n)
{
	return n ? conc_rand(r) % n : 0;
}

bool conc_chance(struct conc_rng *r, unsigned percent)
{
	return conc_below(r, 100) < percent;
}

static pthread_barrier_t start_line;

void conc_start_line(void)
{
	pthread_barrier_wait(&start_line);
}

void conc_run_threads(unsigned n, void *(*fn)(void *), void *base, size_t stride)
{
	pthread_t *tids = calloc(n, sizeof(*tids));

	CONC_CHECK(tids, "out of memory");
	CONC_CHECK(pthread_barrier_init(&start_line, NULL, n) == 0, "pthread_barrier_init");
	for (unsigned i = 0; i < n; i++)
		CONC_CHECK(pthread_create(&tids[i], NULL, fn, (char *)base + i * stride) == 0,
			   "pthread_create %u", i);
	for (unsigned i = 0; i < n; i++)
		CONC_CHECK(pthread_join(tids[i], NULL) == 0, "pthread_join %u", i);
	pthread_barrier_destroy(&start_line);
	free(tids);
}

double conc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void conc_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static int view_add(const struct pt_mapping *m, void *arg)
{
	struct conc_view *v = arg;

	if (v->nr == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 256;
		v->maps = realloc(v->maps, v->cap * sizeof(*v->maps));
		CONC_CHECK(v->maps, "out of memory collecting a view");
	}
	v->maps[v->nr++] = *m;
	return 0;
}

void conc_view_collect(struct pt_table *t, uint64_t va, uint64_t len, struct conc_view *v)
{
	*v = (struct conc_view){ 0 };
	CONC_RC(pt_for_each_mapping(t, va, len, view_add, v), 0);
}

void conc_view_free(struct conc_view *v)
{
	free(v->maps);
	*v = (struct conc_view){ 0 };
}

void conc_expect_check(struct pt_table *t, const char *when)
{
	char why[256] = "";
	int err = pt_check(t, why, sizeof(why));

	CONC_CHECK(err == 0, "pt_check %s: %s (%s)", when, pt_strerror(err), why);
}

const char *conc_fmt_map(const struct pt_mapping *m, char *buf, size_t len)
{
	snprintf(buf, len, "va=%#" PRIx64 " pa=%#" PRIx64 " size=%#" PRIx64
		 " flags=%#x cache=%u%s", m->va, m->pa, m->size, m->prop.flags,
		 m->prop.cache, m->tracked ? " tracked" : "");
	return buf;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void conc_frames_alloc(struct conc_frames *f, struct pt_phys *phys, size_t n)
{
	f->n = n;
	f->pa = calloc(n, sizeof(*f->pa));
	f->sorted = calloc(n, sizeof(*f->sorted));
	CONC_CHECK(f->pa && f->sorted, "out of memory");
	for (size_t i = 0; i < n; i++)
		CONC_RC(pt_frame_alloc(phys, &f->pa[i]), 0);
	memcpy(f->sorted, f->pa, n * sizeof(*f->pa));
	qsort(f->sorted, n, sizeof(*f->sorted), cmp_u64);
}

long conc_frames_find(const struct conc_frames *f, uint64_t pa)
{
	const uint64_t *hit = bsearch(&pa, f->sorted, f->n, sizeof(pa), cmp_u64);

	if (!hit)
		return -1;
	for (size_t i = 0; i < f->n; i++)
		if (f->pa[i] == pa)
			return (long)i;
	return -1;
}

void conc_frames_expect_refs(const struct conc_frames *f, struct pt_phys *phys,
			     const uint64_t *extra, const char *when)
{
	for (size_t i = 0; i < f->n; i++) {
		uint64_t want = 1 + (extra ? extra[i] : 0);
		uint64_t got = pt_frame_refcount(phys, f->pa[i]);

		CONC_CHECK(got == want, "%s: frame %#" PRIx64 " has refcount %" PRIu64
			   ", want %" PRIu64 " (the test's 1 + its mappings)", when,
			   f->pa[i], got, want);
	}
}

void conc_frames_put(struct conc_frames *f, struct pt_phys *phys)
{
	for (size_t i = 0; i < f->n; i++)
		CONC_RC(pt_frame_put(phys, f->pa[i]), 0);
	free(f->pa);
	free(f->sorted);
	*f = (struct conc_frames){ 0 };
}

bool conc_mapping_sane(const struct pt_mapping *m, const struct conc_frames *pool,
		       char *why, size_t len)
{
	char buf[160];

	if (m->size != CONC_PAGE && m->size != CONC_2M && m->size != CONC_1G) {
		snprintf(why, len, "odd size: %s", conc_fmt_map(m, buf, sizeof(buf)));
		return false;
	}
	if ((m->va | m->pa) & (m->size - 1)) {
		snprintf(why, len, "misaligned: %s", conc_fmt_map(m, buf, sizeof(buf)));
		return false;
	}
	if (m->tracked) {
		if (m->size == CONC_PAGE && pool && conc_frames_find(pool, m->pa) >= 0)
			return true;
		snprintf(why, len, "tracked leaf not on a pool frame: %s",
			 conc_fmt_map(m, buf, sizeof(buf)));
		return false;
	}
	if (m->pa != m->va + CONC_UNTRACKED_OFF) {
		snprintf(why, len, "pa inconsistent with va: %s",
			 conc_fmt_map(m, buf, sizeof(buf)));
		return false;
	}
	return true;
}

void conc_destroy_expect_free(struct pt_table *t, struct pt_phys *phys, uint64_t free_before)
{
	CONC_RC(pt_table_destroy(t), 0);
	pt_phys_barrier(phys);
	uint64_t now = pt_phys_free_frames(phys);
	uint64_t reclaimable = pt_phys_reclaimable_frames(phys);

	CONC_CHECK(reclaimable == now, "after pt_phys_barrier: %" PRIu64 " reclaimable but %"
		   PRIu64 " free (releases still pending)", reclaimable, now);
	CONC_CHECK(now == free_before, "after destroy + barrier: %" PRIu64 " free frames, %"
		   PRIu64 " before the table (%+" PRId64 ": %s)", now, free_before,
		   (int64_t)(now - free_before), now < free_before ? "leak" : "double free");
}
