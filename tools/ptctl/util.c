/* SPDX-License-Identifier: MPL-2.0 */
/* util.c - small helpers shared by ptctl's commands. */
#include <inttypes.h>
#include <stdlib.h>

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
