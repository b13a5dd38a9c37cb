/* SPDX-License-Identifier: MPL-2.0 */
/* util.c - small helpers shared by ptctl's commands. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ptctl.h"

const char *ptctl_size(uint64_t bytes, char buf[PTCTL_SIZE_LEN])
{
	static const char units[] = "KMGTPE";
	unsigned u = 0;
	uint64_t v = bytes >> 10;

	/* Listings only hold multiples of 4 KiB, so K is always exact. */
	while (v && units[u + 1] && !(v & 1023)) {
		v >>= 10;
		u++;
	}
	snprintf(buf, PTCTL_SIZE_LEN, "%" PRIu64 "%c", v, units[u]);
	return buf;
}

int ptctl_map_new_frames(struct pt_table *t, uint64_t va, uint64_t n,
			 struct pt_prop prop)
{
	struct pt_phys *phys = pt_table_phys(t);
	uint64_t *frames = calloc(n ? n : 1, sizeof(*frames));
	uint64_t got = 0, i;
	int rc = 0;

	if (!frames)
		return PT_ENOMEM;
	while (got < n && !(rc = pt_frame_alloc(phys, &frames[got])))
		got++;
	if (!rc)
		rc = pt_map_frames(t, va, frames, (size_t)n, prop);
	/* The table took its own reference on success; ours goes either way. */
	for (i = 0; i < got; i++) {
		int put = pt_frame_put(phys, frames[i]);

		if (put && !rc)
			rc = put;
	}
	free(frames);
	return rc;
}

static const struct {
	const char *name;
	const struct pt_format *fmt;
} ptctl_formats[] = {
	{ "x86_64", &pt_format_x86_64 },
	{ "x86_64_la57", &pt_format_x86_64_la57 },
	{ "riscv_sv39", &pt_format_riscv_sv39 },
	{ "riscv_sv48", &pt_format_riscv_sv48 },
	{ "aarch64_4k", &pt_format_aarch64_4k },
	{ "riscv_sv39x4", &pt_format_riscv_sv39x4 },
	{ "riscv_sv48x4", &pt_format_riscv_sv48x4 },
	{ "aarch64_s2_4k", &pt_format_aarch64_s2_4k },
	{ "x86_ept", &pt_format_x86_ept },
	{ "x86_ept5", &pt_format_x86_ept5 },
};

/* Short names a hypervisor author would type, each for a format above. */
static const struct {
	const char *alias, *name;
} ptctl_format_aliases[] = {
	{ "ept", "x86_ept" },
	{ "ept5", "x86_ept5" },
	{ "s2", "aarch64_s2_4k" },
	{ "aarch64_s2", "aarch64_s2_4k" },
	{ "sv39x4", "riscv_sv39x4" },
	{ "sv48x4", "riscv_sv48x4" },
};

const struct pt_format *ptctl_format_named(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ptctl_format_aliases) / sizeof(ptctl_format_aliases[0]); i++)
		if (!strcmp(name, ptctl_format_aliases[i].alias))
			name = ptctl_format_aliases[i].name;
	for (i = 0; i < sizeof(ptctl_formats) / sizeof(ptctl_formats[0]); i++)
		if (!strcmp(name, ptctl_formats[i].name) ||
		    !strcmp(name, ptctl_formats[i].fmt->name))
			return ptctl_formats[i].fmt;
	return NULL;
}

int ptctl_format_arg(int argc, char **argv, const struct pt_format **fmt)
{
	*fmt = &pt_format_x86_64;
	if (argc == 1)
		return 0;
	if (argc == 3 && !strcmp(argv[1], "--format") &&
	    (*fmt = ptctl_format_named(argv[2])))
		return 0;
	if (argc == 3 && !strcmp(argv[1], "--format"))
		fprintf(stderr, "ptctl %s: unknown format '%s' (%s)\n", argv[0],
			argv[2], PTCTL_FORMAT_NAMES);
	else
		fprintf(stderr, "ptctl %s: takes only --format NAME\n", argv[0]);
	ptctl_usage(stderr);
	return PTCTL_EXIT_USAGE;
}
