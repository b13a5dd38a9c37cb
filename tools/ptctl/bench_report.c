/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bench_report.c - the statistics and the output of `ptctl bench`: a
 * table, or with --json one object keyed by workload.
 *
 * A cell or key of a side that did not run is left out ('-' in the
 * table), so a partial run (--ptkit, --bare, ...) still reads right.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "bench.h"

static int pb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v. */
double pb_median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), pb_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Of round times: exact as doubles (far below 2^53 ns), and left unsorted. */
double pb_median_ns(const uint64_t *ns, unsigned n)
{
	double v[PB_MAX_ROUNDS];
	unsigned i;

	for (i = 0; i < n; i++)
		v[i] = (double)ns[i];
	return pb_median(v, n);
}

/* A right-aligned number, or '-' for a side that did not run. */
static void pb_cell(bool ran, double v, int width, int prec)
{
	if (ran)
		printf(" %*.*f", width, prec, v);
	else
		printf(" %*s", width, "-");
}

static void pb_print_row(const bool *sd, const struct pb_workload *wl,
			 const struct pb_result *x)
{
	printf("%-14s", wl->name);
	pb_cell(sd[PB_SIDE_PTKIT], x->ns[PB_SIDE_PTKIT], 9, 2);
	pb_cell(sd[PB_SIDE_NOSYNC], x->ns[PB_SIDE_NOSYNC], 9, 2);
	pb_cell(sd[PB_SIDE_PTKIT] && sd[PB_SIDE_NOSYNC], x->overhead_pct, 7, 1);
	pb_cell(sd[PB_SIDE_BARE], x->ns[PB_SIDE_BARE], 9, 2);
	pb_cell(sd[PB_SIDE_PTKIT] && sd[PB_SIDE_BARE],
		x->ns[PB_SIDE_PTKIT] / x->ns[PB_SIDE_BARE], 7, 2);
	printf("  %s\n", wl->op);
}

/* The single-thread part, if any of it ran: whether it printed. */
static bool pb_print_core(const struct pb_opts *o, const struct pb_result res[])
{
	const bool *sd = o->side;
	unsigned rows = 0;
	size_t w;

	for (w = 0; w < PB_NR_WORKLOADS; w++) {
		if (!res[w].ran)
			continue;
		if (!rows++) {
			printf("ptctl bench: x86-64 user table, median ns per operation%s\n",
			       o->quick ? " (--quick: fewer operations, one round)" : "");
			printf("%-14s %9s %9s %7s %9s %7s  %s\n", "workload", "ptkit",
			       "nosync", "sync%", "bare", "ratio", "one operation");
		}
		pb_print_row(sd, &pb_workloads[w], &res[w]);
	}
	if (rows && sd[PB_SIDE_PTKIT] && sd[PB_SIDE_NOSYNC])
		puts("(nosync: the same engine without node locks and RCU;"
		     " sync%: ptkit over nosync, median of paired rounds)");
	return rows > 0;
}

/* The heading of the parallel part; a blank line parts it from the
 * single-thread one. */
static void pb_print_par_head(const struct pb_opts *o, bool after_core,
			      unsigned nc, unsigned threads)
{
	unsigned reps = pb_par_reps(o);

	printf("%sptctl bench: parallel, one table, total ops/us of all threads"
	       " (median of %u run%s of %.2f s)\n", after_core ? "\n" : "",
	       reps, reps == 1 ? "" : "s", (double)pb_par_run_ns(o) / 1e9);
	printf("%-14s %9s", "workload", "1 thread");
	if (nc > 1)
		printf(" %7u threads %7s %5s", threads, "speedup", "cpu");
	printf("  %s\n", "one operation");
}

/* The parallel part, if any of it ran: whether anything has been printed
 * so far. */
static bool pb_print_par(const struct pb_opts *o, bool after_core,
			 const struct pb_par_result par[])
{
	unsigned counts[2], nc = pb_par_counts(o, counts), rows = 0;
	size_t w;

	for (w = 0; w < PB_NR_PAR; w++) {
		const struct pb_par_result *x = &par[w];

		if (!x->ran)
			continue;
		if (!rows++)
			pb_print_par_head(o, after_core, nc, counts[1]);
		printf("%-14s", pb_par_workloads[w].name);
		pb_cell(true, x->ops_per_us[0], 9, 2);
		if (nc > 1) {
			pb_cell(true, x->ops_per_us[1], 15, 2);
			pb_cell(x->ops_per_us[0] > 0, x->ops_per_us[1] / x->ops_per_us[0],
				7, 2);
			pb_cell(x->ref[0] > 0, x->ref[1] / x->ref[0], 5, 2);
		}
		printf("  %s\n", pb_par_workloads[w].op);
	}
	if (rows && nc > 1)
		printf("(speedup: %u threads over 1; cpu: the same for threads that"
		       " share nothing,\n run alongside: what the host gave, the"
		       " ceiling)\n", counts[1]);
	return after_core || rows;
}

/* The VM part, after a blank line if anything came before it. */
static void pb_print_vm(const struct pb_opts *o, bool after,
			const struct pb_vm_result vm[])
{
	unsigned rows = 0;
	bool loop = false;
	size_t w;

	for (w = 0; w < PB_NR_VM; w++) {
		const struct pb_vm_result *x = &vm[w];

		if (!x->ran)
			continue;
		if (!rows++) {
			printf("%sptctl bench: VM operations, x86-64 user table, median"
			       " ns per operation%s\n", after ? "\n" : "",
			       o->quick ? " (--quick: a smaller region, one round)" : "");
			printf("%-14s %9s %9s %7s  %s\n", "workload", "ptkit", "loop",
			       "ratio", "one operation");
		}
		printf("%-14s", pb_vm_workloads[w].name);
		pb_cell(true, x->ns, 9, 2);
		pb_cell(x->has_loop, x->loop_ns, 9, 2);
		pb_cell(x->has_loop && x->ns > 0, x->loop_ns / x->ns, 7, 1);
		printf("  %s\n", pb_vm_workloads[w].op);
		loop |= x->has_loop;
	}
	if (loop)
		puts("(loop: the same copy by cursor_find_next + query + protect_next"
		     " + map per leaf;\n ratio: loop over ptkit)");
}

void pb_print_table(const struct pb_opts *o, const struct pb_results *res)
{
	pb_print_vm(o, pb_print_par(o, pb_print_core(o, res->core), res->par),
		    res->vm);
}

static void pb_json_result(const bool *sd, const struct pb_result *x)
{
	if (sd[PB_SIDE_PTKIT])
		printf("\"ns_per_op\": %.3f, ", x->ns[PB_SIDE_PTKIT]);
	if (sd[PB_SIDE_NOSYNC])
		printf("\"nosync_ns_per_op\": %.3f, ", x->ns[PB_SIDE_NOSYNC]);
	if (sd[PB_SIDE_PTKIT] && sd[PB_SIDE_NOSYNC])
		printf("\"sync_overhead_pct\": %.1f, ", x->overhead_pct);
	if (sd[PB_SIDE_BARE])
		printf("\"bare_ns_per_op\": %.3f, ", x->ns[PB_SIDE_BARE]);
	/* A bare median of 0 ns would make the ratio inf, not JSON. */
	if (sd[PB_SIDE_PTKIT] && sd[PB_SIDE_BARE] && x->ns[PB_SIDE_BARE] > 0)
		printf("\"ratio\": %.3f, ", x->ns[PB_SIDE_PTKIT] / x->ns[PB_SIDE_BARE]);
	printf("\"ops\": %" PRIu64 ", \"rounds\": %u}", x->ops, x->rounds);
}

static void pb_json_par(const struct pb_opts *o, const struct pb_par_result *x)
{
	unsigned counts[2], nc = pb_par_counts(o, counts), c;

	for (c = 0; c < nc; c++)
		printf("%s\"%u\": {\"ops_per_us\": %.3f}", c ? ", " : "",
		       counts[c], x->ops_per_us[c]);
	putchar('}');
}

static void pb_json_vm(const struct pb_vm_result *x)
{
	printf("\"ns_per_op\": %.3f, ", x->ns);
	if (x->has_loop && x->ns > 0)
		printf("\"loop_ns_per_op\": %.3f, \"loop_ratio\": %.3f, ",
		       x->loop_ns, x->loop_ns / x->ns);
	printf("\"ops\": %" PRIu64 ", \"rounds\": %u}", x->ops, x->rounds);
}

void pb_print_json(const struct pb_opts *o, const struct pb_results *r)
{
	const struct pb_result *res = r->core;
	const struct pb_par_result *par = r->par;
	const char *sep = "";
	size_t w;

	putchar('{');
	for (w = 0; w < PB_NR_WORKLOADS; w++) {
		if (!res[w].ran)
			continue;
		printf("%s\n  \"%s\": {", sep, pb_workloads[w].name);
		pb_json_result(o->side, &res[w]);
		sep = ",";
	}
	for (w = 0; w < PB_NR_PAR; w++) {
		if (!par[w].ran)
			continue;
		printf("%s\n  \"%s\": {", sep, pb_par_workloads[w].name);
		pb_json_par(o, &par[w]);
		sep = ",";
	}
	for (w = 0; w < PB_NR_VM; w++) {
		if (!r->vm[w].ran)
			continue;
		printf("%s\n  \"%s\": {", sep, pb_vm_workloads[w].name);
		pb_json_vm(&r->vm[w]);
		sep = ",";
	}
	puts("\n}");
}
