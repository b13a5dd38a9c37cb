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

void ptctl_usage(FILE *out);

/* "4K", "2M", "1088M", "1G": the largest unit that divides `bytes` exactly. */
const char *ptctl_size(uint64_t bytes, char buf[PTCTL_SIZE_LEN]);

/*
 * Allocates n fresh frames, maps them tracked at va, then drops the caller's
 * references: the table holds the only one, so unmapping frees the frames
 * (and a failed map frees them at once).  0 or a PT_E* code.
 */
int ptctl_map_new_frames(struct pt_table *t, uint64_t va, uint64_t n,
			 struct pt_prop prop);

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
