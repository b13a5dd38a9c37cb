/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ptctl.h - what the ptctl command files share (design §8).
 *
 * Each command is a function taking the arguments after "ptctl" (argv[0]
 * is the command's name) and returning the process exit status.
 */
#ifndef PTCTL_H
#define PTCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <ptkit/ptkit.h>

#define PTCTL_EXIT_USAGE 2

/* Room for ptctl_size's longest answer ("18446744073709551615K"). */
#define PTCTL_SIZE_LEN 24

int ptctl_cmd_demo(int argc, char **argv);
int ptctl_cmd_dump(int argc, char **argv);
int ptctl_cmd_stats(int argc, char **argv);
int ptctl_cmd_replay(int argc, char **argv);
int ptctl_cmd_bench(int argc, char **argv);
int ptctl_cmd_dot(int argc, char **argv);

void ptctl_usage(FILE *out);

/* What --format and replay's `table FORMAT` accept (each format's own
 * name, e.g. "x86-64", works too, and the stage-2 formats' short names). */
#define PTCTL_FORMAT_NAMES                                                   \
	"x86_64, x86_64_la57, riscv_sv39, riscv_sv48, aarch64_4k, riscv_sv39x4, " \
	"riscv_sv48x4, aarch64_s2_4k, x86_ept, x86_ept5; short: ept, ept5, s2 " \
	"or aarch64_s2, sv39x4, sv48x4"

/* The format called `name` (an id, a short name or pt_format.name), or NULL. */
const struct pt_format *ptctl_format_named(const char *name);

/*
 * Parses a command's arguments that may only be `--format NAME` (argv[0] is
 * the command): sets *fmt (x86-64 without them) and returns 0, or prints
 * why not with the usage and returns PTCTL_EXIT_USAGE.
 */
int ptctl_format_arg(int argc, char **argv, const struct pt_format **fmt);

/*
 * Builds the demo's tables in format `fmt`, plus the process as it would
 * run: its steps in a user table made by pt_table_create_user(kernel), so
 * that it sees the kernel half through shared nodes (where the format has
 * shared_kernel_root).  Calls `fn` on that table, tears everything down.
 * 0, or 1 after printing why to stderr.
 */
int ptctl_demo_process(FILE *out, const struct pt_format *fmt,
		       int (*fn)(FILE *out, struct pt_table *t));

/* "4K", "2M", "1088M", "1G": the largest unit that divides `bytes` exactly. */
const char *ptctl_size(uint64_t bytes, char buf[PTCTL_SIZE_LEN]);

/*
 * Allocates n fresh frames, maps them tracked at va, then drops the caller's
 * references: the table holds the only one, so unmapping frees the frames
 * (and a failed map frees them at once).  0 or a PT_E* code.
 */
int ptctl_map_new_frames(struct pt_table *t, uint64_t va, uint64_t n,
			 struct pt_prop prop);

/* "rwx u g a d" with '-' for each clear flag; "WB", "UC" ... */
const char *ptctl_flags(uint32_t flags, char buf[12]);
const char *ptctl_cache(uint32_t cache);

/* Whether leaf m continues the run of `count` leaves starting at `first`:
 * same size and properties, contiguous in va and pa. */
bool ptctl_leaves_extend(const struct pt_mapping *first, uint64_t count,
			 const struct pt_mapping *m);

/* One listing line for `count` adjacent leaves like `first` (see show.c). */
void ptctl_print_leaves(FILE *out, const struct pt_mapping *first,
			uint64_t count);

/* The merged listing of every half the table covers, then the stats line. */
int ptctl_dump(FILE *out, struct pt_table *t);

/* One line of pt_table_stats numbers and the arena's free frames. */
int ptctl_print_stats(FILE *out, struct pt_table *t);

/* Runs pt_check and prints "ok" or "error: PT_ECORRUPT: ...: why". */
int ptctl_check(FILE *out, struct pt_table *t);

#endif /* PTCTL_H */
