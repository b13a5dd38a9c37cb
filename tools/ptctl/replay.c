/* SPDX-License-Identifier: MPL-2.0 */
/*
 * replay.c - ptctl replay FILE: run a text trace against one table.
 *
 * One command a line; '#' starts a comment; blank lines are skipped:
 *
 *   table FORMAT user|kernel   (optional, first command only; FORMAT is
 *                              x86_64, x86_64_la57, riscv_sv39,
 *                              riscv_sv48, aarch64_4k, or a stage 2:
 *                              riscv_sv39x4 (sv39x4), riscv_sv48x4
 *                              (sv48x4), aarch64_s2_4k (s2,
 *                              aarch64_s2), x86_ept (ept), x86_ept5
 *                              (ept5), user only; or npt, AMD's nested
 *                              paging: an x86_64 user table whose
 *                              every leaf the walker reaches as a user
 *                              access, so map and mapf add u; default
 *                              x86_64)
 *   map VA PA LEN PROPS        untracked pt_map
 *   mapf VA NPAGES PROPS       NPAGES fresh frames, pt_map_frames, then the
 *                              caller's references dropped
 *   unmap VA LEN
 *   protect VA LEN [+FLAGS|-FLAGS]...   e.g. +w -x
 *   query VA
 *   check | dump | stats
 *
 * Numbers are C literals (strtoull base 0).  PROPS are words: an access
 * string made of r, w, x (or "none"), plus optional u, g, a, d and one of
 * wb, wt, wc, uc; letters may share a word ("rwu") and words may be
 * separated by commas.  Each command prints one result line: "ok", the
 * query result, or "error: PT_E...: ..." (dump prints its listing).  A line
 * that cannot be parsed prints "error: line N: ..." and makes the exit
 * status 1, but the trace always runs to its end.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ptctl.h"

/* The default arena: 1 GiB is plenty for hand-written traces. */
#define RP_ARENA (UINT64_C(1) << 30)
#define RP_MAX_ARGS 16

struct rp_state {
	FILE *out;
	struct pt_phys *phys;
	struct pt_table *table;
	bool started;            /* a command ran: `table` is too late now */
	uint32_t leaf_flags;     /* added to every map's PROPS (npt: PT_U) */
	unsigned long line;
	char err[160];           /* the current line's parse error */
};

struct rp_cmd {
	const char *name;
	int min_args, max_args;  /* after the name; -1 = no limit */
	/* 0 after printing the result line, -1 after setting st->err. */
	int (*run)(struct rp_state *st, int argc, char **argv);
};

static int rp_parse_error(struct rp_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int rp_parse_error(struct rp_state *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	return -1;
}

static void rp_result(struct rp_state *st, int rc)
{
	if (rc)
		fprintf(st->out, "error: %s\n", pt_strerror(rc));
	else
		fputs("ok\n", st->out);
}

/* strtoull accepts "-1" and leading blanks; a trace number may not. */
static int rp_number(struct rp_state *st, const char *s, uint64_t *out)
{
	char *end;

	*out = 0; /* callers read it only on success; this keeps -O3 quiet */
	errno = 0;
	if (*s == '-' || *s == '+' || *s == ' ')
		return rp_parse_error(st, "bad number '%s'", s);
	*out = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		return rp_parse_error(st, "bad number '%s'", s);
	return 0;
}

/* The flag letters shared by PROPS and protect's +FLAGS/-FLAGS. */
static int rp_flag_letter(char c, uint32_t *flags)
{
	static const char letters[] = "rwxugad";
	static const uint32_t bits[] = { PT_R, PT_W, PT_X, PT_U, PT_G, PT_A, PT_D };
	const char *p = c ? strchr(letters, c) : NULL;

	if (!p)
		return -1;
	*flags |= bits[p - letters];
	return 0;
}

static int rp_cache_word(const char *w, uint32_t *cache)
{
	static const char *const names[PT_CACHE_COUNT] = {
		[PT_CACHE_WB] = "wb", [PT_CACHE_WT] = "wt",
		[PT_CACHE_WC] = "wc", [PT_CACHE_UC] = "uc",
	};
	uint32_t i;

	for (i = 0; i < PT_CACHE_COUNT; i++)
		if (!strcmp(w, names[i])) {
			*cache = i;
			return 0;
		}
	return -1;
}

static int rp_prop_word(struct rp_state *st, const char *w, struct pt_prop *p)
{
	if (!rp_cache_word(w, &p->cache) || !strcmp(w, "none"))
		return 0;
	for (; *w; w++)
		if (rp_flag_letter(*w, &p->flags))
			return rp_parse_error(st, "bad property '%c'", *w);
	return 0;
}

/* PROPS: the remaining words, each possibly holding comma-separated parts,
 * and the flags the table wants on every leaf. */
static int rp_props(struct rp_state *st, int argc, char **argv,
		    struct pt_prop *p)
{
	char *save, *w;
	int i;

	*p = (struct pt_prop){ st->leaf_flags, PT_CACHE_WB };
	for (i = 0; i < argc; i++)
		for (w = strtok_r(argv[i], ",", &save); w;
		     w = strtok_r(NULL, ",", &save))
			if (rp_prop_word(st, w, p))
				return -1;
	return 0;
}

static int rp_table(struct rp_state *st, const struct pt_format *fmt, enum pt_space space)
{
	int rc = pt_table_create(st->phys, fmt, space, &st->table);

	st->started = true;
	return rc;
}

/* The table, made on first use; NULL after printing why it could not be. */
static struct pt_table *rp_need_table(struct rp_state *st)
{
	int rc;

	/* The default table if the trace did not choose one. */
	if (!st->table && (rc = rp_table(st, &pt_format_x86_64, PT_SPACE_USER)))
		rp_result(st, rc);
	return st->table;
}

static int rp_cmd_table(struct rp_state *st, int argc, char **argv)
{
	bool npt = !strcmp(argv[1], "npt");
	const struct pt_format *fmt = npt ? &pt_format_x86_64 : ptctl_format_named(argv[1]);
	enum pt_space space;

	if (st->started)
		return rp_parse_error(st, "'table' must be the first command");
	if (npt && strcmp(argv[2], "user"))
		return rp_parse_error(st, "npt is one guest-physical space: 'table npt user'");
	st->leaf_flags = npt ? PT_U : 0;
	if (!fmt)
		return rp_parse_error(st, "unknown format '%s' (%s)", argv[1],
				      PTCTL_FORMAT_NAMES);
	if (!strcmp(argv[2], "user"))
		space = PT_SPACE_USER;
	else if (!strcmp(argv[2], "kernel"))
		space = PT_SPACE_KERNEL;
	else
		return rp_parse_error(st, "unknown space '%s' (user|kernel)", argv[2]);
	rp_result(st, rp_table(st, fmt, space));
	return 0;
}

static int rp_cmd_map(struct rp_state *st, int argc, char **argv)
{
	uint64_t va, pa, len;
	struct pt_prop prop;
	struct pt_table *t;

	if (rp_number(st, argv[1], &va) || rp_number(st, argv[2], &pa) ||
	    rp_number(st, argv[3], &len) || rp_props(st, argc - 4, argv + 4, &prop))
		return -1;
	if ((t = rp_need_table(st)))
		rp_result(st, pt_map(t, va, pa, len, prop));
	return 0;
}

static int rp_cmd_mapf(struct rp_state *st, int argc, char **argv)
{
	uint64_t va, n;
	struct pt_prop prop;
	struct pt_table *t;

	if (rp_number(st, argv[1], &va) || rp_number(st, argv[2], &n) ||
	    rp_props(st, argc - 3, argv + 3, &prop))
		return -1;
	if ((t = rp_need_table(st)))
		rp_result(st, ptctl_map_new_frames(t, va, n, prop));
	return 0;
}

static int rp_cmd_unmap(struct rp_state *st, int argc, char **argv)
{
	uint64_t va, len;
	struct pt_table *t;

	if (rp_number(st, argv[1], &va) || rp_number(st, argv[2], &len))
		return -1;
	if ((t = rp_need_table(st)))
		rp_result(st, pt_unmap(t, va, len, NULL));
	return 0;
}

/* "+wx" adds to set, "-x" to clear. */
static int rp_flag_change(struct rp_state *st, const char *w, uint32_t *set,
			  uint32_t *clear)
{
	uint32_t *dst = *w == '+' ? set : *w == '-' ? clear : NULL;

	if (!dst || !w[1])
		return rp_parse_error(st, "expected +FLAGS or -FLAGS, got '%s'", w);
	for (w++; *w; w++)
		if (rp_flag_letter(*w, dst))
			return rp_parse_error(st, "bad flag '%c'", *w);
	return 0;
}

static int rp_cmd_protect(struct rp_state *st, int argc, char **argv)
{
	uint64_t va, len;
	uint32_t set = 0, clear = 0;
	struct pt_table *t;
	int i;

	if (rp_number(st, argv[1], &va) || rp_number(st, argv[2], &len))
		return -1;
	for (i = 3; i < argc; i++)
		if (rp_flag_change(st, argv[i], &set, &clear))
			return -1;
	if ((t = rp_need_table(st)))
		rp_result(st, pt_protect(t, va, len, set, clear, NULL));
	return 0;
}

static int rp_cmd_query(struct rp_state *st, int argc, char **argv)
{
	struct pt_mapping m;
	struct pt_table *t;
	uint64_t va;
	int rc;

	if (rp_number(st, argv[1], &va))
		return -1;
	if (!(t = rp_need_table(st)))
		return 0;
	rc = pt_query(t, va, &m);
	if (rc)
		rp_result(st, rc);
	else
		ptctl_print_leaves(st->out, &m, 1);
	return 0;
}

static int rp_cmd_check(struct rp_state *st, int argc, char **argv)
{
	struct pt_table *t;

	if ((t = rp_need_table(st)))
		ptctl_check(st->out, t);
	return 0;
}

static int rp_cmd_dump(struct rp_state *st, int argc, char **argv)
{
	struct pt_table *t;

	if ((t = rp_need_table(st)))
		ptctl_dump(st->out, t);
	return 0;
}

static int rp_cmd_stats(struct rp_state *st, int argc, char **argv)
{
	struct pt_table *t;

	if ((t = rp_need_table(st)))
		ptctl_print_stats(st->out, t);
	return 0;
}

static const struct rp_cmd rp_cmds[] = {
	{ "table", 2, 2, rp_cmd_table },
	{ "map", 4, -1, rp_cmd_map },
	{ "mapf", 3, -1, rp_cmd_mapf },
	{ "unmap", 2, 2, rp_cmd_unmap },
	{ "protect", 2, -1, rp_cmd_protect },
	{ "query", 1, 1, rp_cmd_query },
	{ "check", 0, 0, rp_cmd_check },
	{ "dump", 0, 0, rp_cmd_dump },
	{ "stats", 0, 0, rp_cmd_stats },
};

static int rp_dispatch(struct rp_state *st, int argc, char **argv)
{
	size_t i;

	for (i = 0; i < sizeof(rp_cmds) / sizeof(rp_cmds[0]); i++) {
		const struct rp_cmd *c = &rp_cmds[i];

		if (strcmp(argv[0], c->name))
			continue;
		if (argc - 1 < c->min_args ||
		    (c->max_args >= 0 && argc - 1 > c->max_args))
			return rp_parse_error(st, "wrong number of arguments to '%s'",
					      c->name);
		return c->run(st, argc, argv);
	}
	return rp_parse_error(st, "unknown command '%s'", argv[0]);
}

/* Runs one line; -1 if it could not be parsed (the error is printed). */
static int rp_line(struct rp_state *st, char *line)
{
	char *argv[RP_MAX_ARGS + 1], *save, *w;
	int argc = 0;

	line[strcspn(line, "#")] = '\0';
	for (w = strtok_r(line, " \t\r\n", &save); w;
	     w = strtok_r(NULL, " \t\r\n", &save)) {
		if (argc == RP_MAX_ARGS) {
			rp_parse_error(st, "more than %d words", RP_MAX_ARGS);
			goto bad;
		}
		argv[argc++] = w;
	}
	if (!argc || !rp_dispatch(st, argc, argv))
		return 0;
bad:
	fprintf(st->out, "error: line %lu: %s\n", st->line, st->err);
	return -1;
}

static int rp_run(struct rp_state *st, FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	int status = 0;

	while (getline(&line, &cap, in) >= 0) {
		st->line++;
		if (rp_line(st, line))
			status = 1;
		/* Keep stdout and stderr in step when both go to a terminal. */
		fflush(st->out);
	}
	free(line);
	return status;
}

static FILE *rp_open(const char *path)
{
	FILE *in = strcmp(path, "-") ? fopen(path, "r") : stdin;

	if (!in)
		fprintf(stderr, "ptctl replay: %s: %s\n", path, strerror(errno));
	return in;
}

int ptctl_cmd_replay(int argc, char **argv)
{
	struct rp_state st = { .out = stdout };
	FILE *in;
	int status, rc;

	if (argc != 2) {
		ptctl_usage(stderr);
		return PTCTL_EXIT_USAGE;
	}
	if (!(in = rp_open(argv[1])))
		return 1;
	rc = pt_phys_create(RP_ARENA, &st.phys);
	if (rc) {
		fprintf(stderr, "ptctl replay: pt_phys_create: %s\n", pt_strerror(rc));
		status = 1;
	} else {
		status = rp_run(&st, in);
	}
	if (ferror(in)) {
		fprintf(stderr, "ptctl replay: %s: read error\n", argv[1]);
		status = 1;
	}
	if (in != stdin)
		fclose(in);
	if (st.table && (rc = pt_table_destroy(st.table))) {
		fprintf(stderr, "ptctl replay: pt_table_destroy: %s\n", pt_strerror(rc));
		status = 1;
	}
	if (st.phys)
		pt_phys_destroy(st.phys);
	return status;
}
