/* SPDX-License-Identifier: MPL-2.0 */
/*
 * conc_unregistered_threads.c - threads that never register with anything
 * (design §6: "No thread registration is required of the caller").
 *
 * Plain pthread_create, no RCU call by the test anywhere: liburcu-bp must
 * register each thread on its first read section and forget it when it
 * exits.  The main thread makes the table but never walks it before the
 * workers run, so the workers' read sections are the first in the process.
 * Waves of short-lived threads (more in total than the frame cache has
 * slots, so slots get shared), some detached rather than joined, each
 * starting with a different first call (query, for_each, cursor, map,
 * unmap), some exiting right after an unmap queued nodes for release.
 * A for_each callback calls pt_query (a nested read section).  At the end
 * the view is what the threads left, pt_check passes, nothing leaked.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <pthread.h>

#include "conc_util.h"

#define WAVE 6
#define SLOT_VA(i) (CONC_1G + (uint64_t)(i) * CONC_2M) /* one 2M slot per thread */

static const struct pt_prop RW = { PT_R | PT_W | PT_U, PT_CACHE_WB };

struct job {
	struct pt_table *t;
	unsigned index;   /* its slot */
	unsigned first;   /* which call comes first */
	bool leave_mapped; /* every third thread leaves one page behind */
	bool left_before;  /* the slot's previous user did */
	atomic_int *finished;
};

static void expect_page(struct pt_table *t, uint64_t va, bool mapped)
{
	struct pt_mapping m;
	int err = pt_query(t, va, &m);

	if (!mapped) {
		CONC_CHECK(err == PT_ENOENT, "%#" PRIx64 " should be unmapped: %d", va, err);
		return;
	}
	CONC_CHECK(err == 0 && m.pa + (va - m.va) == va + CONC_UNTRACKED_OFF,
		   "%#" PRIx64 " should be mapped: %s", va, pt_strerror(err));
}

struct nested {
	struct pt_table *t;
	unsigned n;
};

/* Inside for_each's read section: a nested one. */
static int query_inside(const struct pt_mapping *m, void *arg)
{
	struct nested *x = arg;
	struct pt_mapping again;

	CONC_RC(pt_query(x->t, m->va, &again), 0);
	CONC_CHECK(again.va == m->va && again.pa == m->pa, "nested query disagrees");
	x->n++;
	return 0;
}

static void first_call(const struct job *j, uint64_t va)
{
	struct pt_cursor c;
	struct pt_mapping m;
	struct nested x = { j->t, 0 };

	switch (j->first) {
	case 0: CONC_RC(pt_query(j->t, va, &m), j->left_before ? 0 : PT_ENOENT); break;
	case 1: CONC_RC(pt_for_each_mapping(j->t, va, CONC_2M, query_inside, &x), 0); break;
	case 2:
		CONC_RC(pt_cursor_open(&c, j->t, va, CONC_2M), 0);
		CONC_RC(pt_cursor_query(&c, &m), j->left_before ? 0 : PT_ENOENT);
		pt_cursor_close(&c);
		break;
	case 3:
		CONC_RC(pt_map(j->t, va, va + CONC_UNTRACKED_OFF, CONC_PAGE, RW),
			j->left_before ? PT_EEXIST : 0);
		break;
	default: CONC_RC(pt_unmap(j->t, va, CONC_2M, NULL), 0); break;
	}
}

/* A little of everything in the thread's own 2M slot. */
static void work(const struct job *j)
{
	uint64_t va = SLOT_VA(j->index);
	struct pt_cursor c;
	struct nested x = { j->t, 0 };

	first_call(j, va);
	CONC_RC(pt_unmap(j->t, va, CONC_2M, NULL), 0);
	CONC_RC(pt_map(j->t, va, va + CONC_UNTRACKED_OFF, 64 * CONC_PAGE, RW), 0);
	CONC_RC(pt_cursor_open(&c, j->t, va + 64 * CONC_PAGE, 64 * CONC_PAGE), 0);
	for (uint64_t i = 64; i < 128; i++) {
		uint64_t p = va + i * CONC_PAGE;
		struct pt_mapping item = { .va = p, .pa = p + CONC_UNTRACKED_OFF,
					   .size = CONC_PAGE, .prop = RW };
		CONC_RC(pt_cursor_map(&c, &item), 0);
	}
	pt_cursor_close(&c);
	CONC_RC(pt_for_each_mapping(j->t, va, CONC_2M, query_inside, &x), 0);
	CONC_CHECK(x.n == 128, "thread %u sees %u of its 128 pages", j->index, x.n);
	CONC_RC(pt_protect(j->t, va, 128 * CONC_PAGE, 0, PT_W, NULL), 0);
	expect_page(j->t, va + 77 * CONC_PAGE, true);
	/* The whole slot: its leaf table is detached and goes to RCU, and the
	 * thread may exit before the grace period ends. */
	CONC_RC(pt_unmap(j->t, va, CONC_2M, NULL), 0);
	expect_page(j->t, va, false);
	if (j->leave_mapped)
		CONC_RC(pt_map(j->t, va, va + CONC_UNTRACKED_OFF, CONC_PAGE, RW), 0);
}

static void *job_main(void *arg)
{
	struct job *j = arg;

	work(j);
	atomic_fetch_add(j->finished, 1);
	return NULL;
}

/* One wave: WAVE threads, every other one detached. */
static void run_wave(struct job *jobs, unsigned n)
{
	pthread_t tid[WAVE];
	pthread_attr_t detached;

	pthread_attr_init(&detached);
	pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
	for (unsigned i = 0; i < n; i++)
		CONC_CHECK(pthread_create(&tid[i], i % 2 ? &detached : NULL, job_main,
					  &jobs[i]) == 0, "pthread_create");
	for (unsigned i = 0; i < n; i += 2)
		CONC_CHECK(pthread_join(tid[i], NULL) == 0, "pthread_join");
	pthread_attr_destroy(&detached);
}

int main(void)
{
	/* Never fewer than twice the cache slots, even under TSan. */
	uint64_t want = conc_iters(240);
	unsigned total = want < 2 * PT_PHYS_CACHES + 8 ? 2 * PT_PHYS_CACHES + 8 : (unsigned)want;
	struct job *jobs = calloc(total, sizeof(*jobs));
	atomic_int finished = 0;
	struct pt_phys *phys;
	struct pt_table *t;
	unsigned left = 0;

	conc_set_name("conc_unregistered_threads");
	CONC_CHECK(jobs && total >= 2 * PT_PHYS_CACHES, "need more threads than cache slots");
	CONC_RC(pt_phys_create(64 << 20, &phys), 0);
	uint64_t free_before = pt_phys_free_frames(phys);
	CONC_RC(pt_table_create(phys, &pt_format_x86_64, PT_SPACE_USER, &t), 0);
	double t0 = conc_now();
	for (unsigned i = 0; i < total; i++)
		jobs[i] = (struct job){ t, i % 256, i % 5, i % 3 == 0,
					i >= 256 && jobs[i - 256].leave_mapped, &finished };
	/* Slots are reused every 256 threads: a wave never shares one. */
	for (unsigned i = 0; i < total; i += WAVE) {
		unsigned n = total - i < WAVE ? total - i : WAVE;
		run_wave(&jobs[i], n);
		for (int ms = 0; atomic_load(&finished) < (int)(i + n); ms++) {
			CONC_CHECK(ms < 20000, "detached threads did not finish");
			conc_sleep_ms(1);
		}
	}
	printf("conc_unregistered_threads: %u threads in %.2f s\n", total, conc_now() - t0);
	for (unsigned s = 0; s < 256 && s < total; s++) {
		/* The last thread that used slot s decides whether a page is left. */
		unsigned last = s + (total - 1 - s) / 256 * 256;
		bool mapped = jobs[last].leave_mapped;
		expect_page(t, SLOT_VA(s), mapped);
		left += mapped;
	}
	conc_expect_check(t, "after all threads");
	struct conc_view v;
	conc_view_collect(t, 0, UINT64_C(1) << 47, &v);
	CONC_CHECK(v.nr == left, "%zu mappings left, want %u", v.nr, left);
	conc_view_free(&v);
	conc_destroy_expect_free(t, phys, free_before);
	pt_phys_destroy(phys);
	free(jobs);
	printf("conc_unregistered_threads: ok\n");
	return 0;
}
