/* SPDX-License-Identifier: MPL-2.0 */
/* main.c - ptctl: command dispatch and usage (design §8). */
#include <string.h>

#include "ptctl.h"

struct ptctl_command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct ptctl_command ptctl_commands[] = {
	{ "demo", ptctl_cmd_demo },
	{ "dump", ptctl_cmd_dump },
	{ "stats", ptctl_cmd_stats },
	{ "dot", ptctl_cmd_dot },
	{ "replay", ptctl_cmd_replay },
	{ "bench", ptctl_cmd_bench },
};

void ptctl_usage(FILE *out)
{
	fputs("usage: ptctl COMMAND [ARGS]\n"
	      "\n"
	      "  demo [--format NAME]\n"
	      "                  build a process-like and a kernel-like address space,\n"
	      "                  explain, list and check them, tear them down\n"
	      "  dump [--format NAME]   ptdump-style listing of the demo tables\n"
	      "  stats [--format NAME]  page-table statistics of the demo tables\n"
	      "  dot [--format NAME]    the demo's process table (seeing the kernel)\n"
	      "                  as a Graphviz graph: ptctl dot | dot -Tsvg > t.svg\n"
	      "                  NAME: " PTCTL_FORMAT_NAMES "\n"
	      "                  (default x86_64)\n"
	      "  replay FILE     run a trace of table commands, one a line (- = stdin):\n"
	      "                    table NAME user|kernel     (optional, first; NAME\n"
	      "                                               also npt: x86_64, u added\n"
	      "                                               to every map and mapf)\n"
	      "                    map VA PA LEN PROPS        mapf VA NPAGES PROPS\n"
	      "                    unmap VA LEN               protect VA LEN +w -x\n"
	      "                    query VA                   check | dump | stats\n"
	      "                  PROPS: rw, rx, r, none ... plus u, g, wt, wc, uc\n"
	      "  bench [--json] [--quick] [--workload NAME [--ptkit|--bare]] [--list]\n"
	      "                  time each workload next to a bare radix-walk reference\n"
	      "  help            this text\n", out);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		ptctl_usage(stderr);
		return PTCTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--help")) {
		ptctl_usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(ptctl_commands) / sizeof(ptctl_commands[0]); i++)
		if (!strcmp(argv[1], ptctl_commands[i].name))
			return ptctl_commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "ptctl: unknown command '%s'\n", argv[1]);
	ptctl_usage(stderr);
	return PTCTL_EXIT_USAGE;
}
