/* A program outside the tree: built against the installed headers and
 * library through pkg-config, it must map, query and unmap. */
#include <ptkit/ptkit.h>
#include <stdio.h>

int main(void)
{
	struct pt_phys *ram;
	struct pt_table *t;
	struct pt_mapping m;
	struct pt_prop rw = { PT_R | PT_W, PT_CACHE_WB };

	if (pt_phys_create(16 << 20, &ram) || pt_table_create(ram, &pt_format_x86_64,
							      PT_SPACE_USER, &t))
		return 1;
	if (pt_map(t, 0x200000, 0x200000, 0x200000, rw) || pt_query(t, 0x234000, &m) ||
	    m.size != 0x200000 || pt_unmap(t, 0x200000, 0x200000, NULL) ||
	    pt_check(t, NULL, 0))
		return 1;
	pt_table_destroy(t);
	pt_phys_destroy(ram);
	puts("installed ptkit works");
	return 0;
}
