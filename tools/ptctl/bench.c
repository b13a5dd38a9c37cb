/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bench.c - ptctl bench: each workload on ptkit and on the bare reference;
 * the options and the driver.
 *
 * The single-thread workloads run on up to three sides (bench_sides.c):
 * ptkit, the same engine without its concurrency protocol (nosync), and a
 * bare radix table as the floor.  The parallel workloads (par_*) run
 * ptkit only, at 1 and N threads (bench_parallel.c), and so do the VM
 * operations, pt_copy next to a cursor loop doing the same (bench_vm.c).
 * bench.h lists the other files.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* The workloads, single-thread ones first, then par_*, then the VM
 * operations: index i of PB_NR_WORKLOADS + PB_NR_PAR + PB_NR_VM. */
#define PB_NR_NAMES (PB_NR_WORKLOADS + PB_NR_PAR + PB_NR_VM)

static const char *pb_name(size_t i)
{
	if (i < PB_NR_WORKLOADS)
		return pb_workloads[i].name;
	i -= PB_NR_WORKLOADS;
	return i < PB_NR_PAR ? pb_par_workloads[i].name
			     : pb_vm_workloads[i - PB_NR_PAR].name;
}

static bool pb_known(const char *name)
{
	size_t i;

	for (i = 0; i < PB_NR_NAMES; i++)
		if (!strcmp(name, pb_name(i)))
			return true;
	return false;
}

/* The parallel (par_*) and VM (vm_*) workloads run on ptkit only. */
static bool pb_ptkit_only(const char *name)
{
	return name && (!strncmp(name, "par_", 4) || !strncmp(name, "vm_", 3));
}

static bool pb_any(const bool *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i])
			return true;
	return false;
}

/* 1 to PB_PAR_MAX_THREADS, all of the word a number. */
static int pb_parse_threads(const char *arg, unsigned *threads)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno || *end || n < 1 || n > PB_PAR_MAX_THREADS)
		return -1;
	*threads = (unsigned)n;
	return 0;
}

/* Picks up one option (and its value, moving *i past it). */
static int pb_parse_one(int argc, char **argv, int *i, struct pb_opts *o)
{
	const char *a = argv[*i];

	if (!strcmp(a, "--json"))
		o->json = true;
	else if (!strcmp(a, "--quick"))
		o->quick = true;
	else if (!strcmp(a, "--list"))
		o->list = true;
	else if (!strcmp(a, "--ptkit"))
		o->side[PB_SIDE_PTKIT] = true;
	else if (!strcmp(a, "--nosync"))
		o->side[PB_SIDE_NOSYNC] = true;
	else if (!strcmp(a, "--bare"))
		o->side[PB_SIDE_BARE] = true;
	else if (!strcmp(a, "--workload") && *i + 1 < argc && pb_known(argv[*i + 1]))
		o->workload = argv[++*i];
	else if (!strcmp(a, "--threads") && *i + 1 < argc)
		return pb_parse_threads(argv[++*i], &o->threads);
	else
		return -1;
	return 0;
}

static int pb_parse(int argc, char **argv, struct pb_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->threads = 2;
	for (i = 1; i < argc; i++)
		if (pb_parse_one(argc, argv, &i, o))
			return -1;
	/* No side named: all of them. */
	if (!pb_any(o->side, PB_NR_SIDES))
		o->side[PB_SIDE_PTKIT] = o->side[PB_SIDE_NOSYNC] =
			o->side[PB_SIDE_BARE] = true;
	if (pb_ptkit_only(o->workload) && !o->side[PB_SIDE_PTKIT])
		return -1;
	return 0;
}

static int pb_usage(void)
{
	size_t i;

	fputs("ptctl bench: [--json] [--quick] [--list] [--workload NAME]"
	      " [--ptkit] [--nosync] [--bare] [--threads N]\n"
	      "  (par_* workloads: ptkit only, at 1 and N threads,"
	      " N = 2 unless --threads;\n   vm_* workloads: ptkit only)\nworkloads:", stderr);
	for (i = 0; i < PB_NR_NAMES; i++)
		fprintf(stderr, " %s", pb_name(i));
	fputc('\n', stderr);
	ptctl_usage(stderr);
	return PTCTL_EXIT_USAGE;
}

static int pb_list(void)
{
	size_t i;

	for (i = 0; i < PB_NR_NAMES; i++)
		puts(pb_name(i));
	return 0;
}

int ptctl_cmd_bench(int argc, char **argv)
{
	static struct pb_results res;
	struct pb_opts o;
	struct pb_env e;
	int rc;

	if (pb_parse(argc, argv, &o))
		return pb_usage();
	if (o.list)
		return pb_list();
	rc = pb_env_init(&e, &o);
	if (!rc)
		rc = pb_run_all(&e, &o, res.core);
	if (!rc)
		rc = pb_par_run_all(&e, &o, res.par);
	if (!rc)
		rc = pb_vm_run_all(&e, &o, res.vm);
	pb_env_fini(&e);
	if (rc)
		return 1;
	if (o.json)
		pb_print_json(&o, &res);
	else
		pb_print_table(&o, &res);
	return 0;
}
