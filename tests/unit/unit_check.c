/* SPDX-License-Identifier: MPL-2.0 */
/*
 * unit_check - pt_check can fail: every test trusts it after every step, so
 * each kind of damage below must be caught, with the rule, the node, the
 * level and the index that the message names (design §4), markers
 * included.  And the x86-64
 * map path invalidates nothing: a format whose MMU caches no invalid entry
 * must not pay for invalidations a new mapping does not need.
 */
#include "unit.h"

#include <stdio.h>

#define ARENA (16ull << 20)
#define VA 0x40201000ull /* slot 0 of the root, then 1, 1, 1 */

static int setup(void **state)
{
	*state = u_env_new(ARENA);
	return 0;
}

static int teardown(void **state)
{
	u_env_free(*state);
	return 0;
}

/* x86-64's index of va at `level`. */
static unsigned idx(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
}

/* A user table with one 4 KiB page at VA: a node at every level. */
static struct pt_table *one_page_table(struct u_env *e)
{
	struct pt_table *t = NULL;

	assert_rc(pt_table_create(e->phys, &pt_format_x86_64, PT_SPACE_USER, &t), 0);
	u_env_push(e, t);
	assert_rc(pt_map(t, VA, 0x7000, SZ_4K, prop(RW, PT_CACHE_WB)), 0);
	CHECK(t);
	return t;
}

/* The slots of the node at `level` on VA's path (level 4: the root). */
static _Atomic uint64_t *node_on_path(struct pt_table *t, unsigned level, uint64_t *pa)
{
	struct pt_phys *phys = pt_table_phys(t);
	uint64_t node = pt_table_root(t);

	for (unsigned l = 4; l > level; l--) {
		_Atomic uint64_t *slots = pt_phys_to_virt(phys, node);
		node = slots[idx(VA, l)] & 0x000ffffffffff000ull;
	}
	*pa = node;
	return pt_phys_to_virt(phys, node);
}

/* pt_check fails with exactly this message; repairing the damage makes it
 * pass again. */
static void assert_caught(struct pt_table *t, unsigned rule, const char *what, uint64_t node_pa,
			  unsigned level, unsigned index)
{
	char why[160], want[160];

	snprintf(want, sizeof want, "rule %u (%s): node pa=0x%llx level %u index %u", rule,
		 what, (unsigned long long)node_pa, level, index);
	assert_rc(pt_check(t, why, sizeof why), PT_ECORRUPT);
	assert_string_equal(why, want);
}

static void test_table_entry_bits(void **state)
{
	struct pt_table *t = one_page_table(*state);
	uint64_t root;
	_Atomic uint64_t *slots = node_on_path(t, 4, &root);
	unsigned i = idx(VA, 4);

	slots[i] &= ~(1ull << 2); /* U cleared: not what ptkit writes */
	assert_caught(t, 7, "table entry is not P|W|U + address", root, 4, i);
	slots[i] |= 1ull << 2;
	CHECK(t);
}

static void test_child_count(void **state)
{
	struct pt_table *t = one_page_table(*state);
	uint64_t leaf_table;
	_Atomic uint64_t *slots = node_on_path(t, 1, &leaf_table);
	unsigned i = idx(VA, 1) + 1;

	slots[i] = slots[i - 1] + SZ_4K; /* a leaf nr_children does not count */
	assert_caught(t, 1, "nr_children differs from present entries", leaf_table, 1, 0);
	slots[i] = 0;
	CHECK(t);
}

static void test_node_frame_tag(void **state)
{
	struct u_env *e = *state;
	struct pt_table *t = one_page_table(e);
	uint64_t root, data;
	_Atomic uint64_t *slots = node_on_path(t, 4, &root);
	unsigned i = idx(VA, 4) + 1;

	/* A data frame where a node should be: its metadata gives it away
	 * before the root's counts are compared. */
	assert_rc(pt_frame_alloc(e->phys, &data), 0);
	slots[i] = slots[i - 1] - (slots[i - 1] & 0x000ffffffffff000ull) + data;
	assert_caught(t, 3, "child node is not one level down", root, 4, i);
	slots[i] = 0;
	CHECK(t);
	assert_rc(pt_frame_put(e->phys, data), 0);
}

/* Markers: a huge one passes where a leaf of its size may be, one at the
 * root (above x86-64's highest leaf level) is caught by rule 3, and a
 * non-present entry that is no marker by rule 7. */
static void test_markers(void **state)
{
	struct pt_table *t = one_page_table(*state);
	uint64_t root, marker;
	_Atomic uint64_t *slots = node_on_path(t, 4, &root);
	unsigned i = idx(VA, 4) + 1;

	assert_rc(pt_format_x86_64.encode_marker(5, &marker), 0);
	assert_rc(pt_mark(t, 2 * SZ_1G, SZ_1G, 5), 0); /* one 1G marker */
	CHECK(t);
	slots[i] = marker; /* 512 GiB */
	assert_caught(t, 3, "leaf or marker above the highest leaf level", root, 4, i);
	slots[i] = marker & ~(1ull << 11); /* no marker bit: nothing ptkit writes */
	assert_caught(t, 7, "non-present entry is not a marker", root, 4, i);
	slots[i] = 0;
	CHECK(t);
}

/* A message that does not fit is cut, never overrun; no buffer, no
 * message. */
static void test_message_cut_to_the_buffer(void **state)
{
	struct pt_table *t = one_page_table(*state);
	uint64_t root;
	_Atomic uint64_t *slots = node_on_path(t, 4, &root);
	unsigned i = idx(VA, 4);
	char why[12];

	memset(why, 'x', sizeof why);
	slots[i] &= ~(1ull << 2);
	assert_rc(pt_check(t, why, 8), PT_ECORRUPT);
	assert_string_equal(why, "rule 7 ");
	assert_int_equal(why[8], 'x');
	assert_rc(pt_check(t, NULL, 0), PT_ECORRUPT);
	slots[i] |= 1ull << 2;
	CHECK(t);
}

static void test_x86_new_mappings_need_no_invalidation(void **state)
{
	struct u_env *e = *state;
	struct u_inval rec;
	struct pt_table_opts o = u_opts_inval(&rec);
	struct pt_table *t = NULL;

	memset(&rec, 0, sizeof rec);
	assert_rc(pt_table_create_opts(e->phys, &pt_format_x86_64, PT_SPACE_USER, &o, &t), 0);
	u_env_push(e, t);
	assert_rc(pt_map(t, VA, 0x7000, SZ_4K, prop(RW, PT_CACHE_WB)), 0);
	assert_rc(pt_map(t, VA + SZ_4K, 0x8000, 3 * SZ_4K, prop(RW, PT_CACHE_WB)), 0);
	assert_rc(pt_map(t, SZ_1G, SZ_1G, SZ_2M, prop(RW, PT_CACHE_WB)), 0);
	assert_int_equal(rec.calls, 0);
	assert_rc(pt_unmap(t, VA, SZ_4K, NULL), 0);
	assert_int_equal(rec.calls, 1); /* the one that is needed */
	CHECK(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table_entry_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_frame_tag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_markers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_message_cut_to_the_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_x86_new_mappings_need_no_invalidation, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
