/* SPDX-License-Identifier: MPL-2.0 */
/*
 * check_template.h - pt_check: every invariant of design §4 on a quiescent
 * table, for one format (include a format header first).  A failure names
 * the rule, the node and the index.
 *
 * Visits are marked with a per-pass epoch in the metadata slots, so sharing
 * (rule 2) and per-frame mapping counts (rule 5) need no allocation.
 */
#ifndef PTKIT_SRC_CHECK_TEMPLATE_H
#define PTKIT_SRC_CHECK_TEMPLATE_H

#ifndef FMT_LEVELS
#error "include a format header (src/formats/<fmt>.h) before check_template.h"
#endif

#include "nodes/walk_template.h"
#include "table/check_report.h"
#include "table/table_internal.h"
#include "table/table_template.h"

struct check {
	struct pt_table *t;
	struct pt_phys *phys;
	uint32_t epoch;
	char *why;
	size_t why_len;
};

#define CHECK_FAIL(ck, rule, what, n, level, idx) \
	pt__check_fail((ck)->why, (ck)->why_len, (rule), (what), (n).pa, (level), (idx))

/* Whether va lies inside the half or halves this table may hold. */
static bool check_va_in_space(const struct pt_table *t, uint64_t va)
{
	bool user = t->tree.space == PT_SPACE_USER;
	bool kernel_half = va >= FMT_KERNEL_START;
	return kernel_half ? (!user || t->kernel) : (user && va < FMT_USER_END);
}

/* Rule 3 for a leaf or a marker at `level`: a size a leaf may have there. */
static int check_leaf_level(struct check *ck, struct pt_node n, unsigned level, unsigned i,
			    uint64_t va)
{
	if (level > FMT_MAX_LEAF_LEVEL || level > ck->t->max_leaf_level)
		return CHECK_FAIL(ck, 3, "leaf or marker above the highest leaf level", n, level, i);
	if (slot_pinned(&ck->t->tree, level) || (ck->t->kernel && level == FMT_LEVELS &&
					  va >= FMT_KERNEL_START))
		return CHECK_FAIL(ck, 3, "leaf or marker in a kernel root slot", n, level, i);
	return 0;
}

static int check_leaf(struct check *ck, struct pt_node n, unsigned level, unsigned i,
		      uint64_t va, pt_pte_t pte)
{
	uint64_t size = pt_level_size(level), pa = fmt_pte_leaf_pa(pte, level);
	struct pt_prop p = fmt_pte_leaf_prop(pte, level, ck->t->tree.features), norm;
	int err = check_leaf_level(ck, n, level, i, va);

	if (err)
		return err;
	if ((va | pa) & (size - 1))
		return CHECK_FAIL(ck, 3, "leaf va or pa not aligned to its size", n, level, i);
	if (fmt_prop_normalize(p, ck->t->tree.features, &norm) ||
	    norm.flags != p.flags || norm.cache != p.cache ||
	    fmt_pte_leaf(pa, level, p, fmt_pte_tracked(pte), ck->t->tree.features) != pte)
		return CHECK_FAIL(ck, 7, "leaf does not decode to a normalized mapping", n, level, i);
	if (!fmt_pte_tracked(pte))
		return 0;
	if (level != 1 || !pt_frame_managed(ck->phys, pa))
		return CHECK_FAIL(ck, 5, "tracked leaf is not a managed 4 KiB frame", n, level, i);
	struct pt_frame_meta *m = pt_meta_of(ck->phys, pa);
	uint64_t rc = atomic_load_explicit(&m->refcount, memory_order_relaxed);
	if (m->usage != PT_USAGE_DATA || rc == 0 || rc > PT_REFCOUNT_MAX)
		return CHECK_FAIL(ck, 5, "tracked frame is free or not a data frame", n, level, i);
	if (m->check_epoch != ck->epoch) {
		m->check_epoch = ck->epoch;
		m->check_count = 0;
	}
	if (++m->check_count > rc)
		return CHECK_FAIL(ck, 5, "tracked frame mapped more often than counted", n, level, i);
	return 0;
}

static int check_node(struct check *ck, struct pt_node n, unsigned level, uint64_t base);

static int check_entry(struct check *ck, struct pt_node n, unsigned level, unsigned i,
		       uint64_t va)
{
	pt_pte_t pte = pt_pte_load(n, i);

	if (pte == 0)
		return 0;
	if (!check_va_in_space(ck->t, va))
		return CHECK_FAIL(ck, 6, "entry outside the table's address space", n, level, i);
	/* Markers (not present, not in nr_children) sit where a leaf may, and
	 * encode exactly their value. */
	if (entry_is_none(pte))
		return fmt_pte_is_marker(pte) && pte == fmt_pte_marker(fmt_pte_marker_value(pte))
			       ? check_leaf_level(ck, n, level, i, va)
			       : CHECK_FAIL(ck, 7, "non-present entry is not a marker", n, level,
					    i);
	if (fmt_pte_is_leaf(pte, level))
		return check_leaf(ck, n, level, i, va, pte);
	if (!fmt_pte_is_canonical_table(pte))
		return CHECK_FAIL(ck, 7, "table entry is not P|W|U + address", n, level, i);
	uint64_t child_pa = fmt_pte_table_pa(pte);
	if (!pt_frame_managed(ck->phys, child_pa))
		return CHECK_FAIL(ck, 4, "table entry points outside managed RAM", n, level, i);
	struct pt_node child = pt_node_at(ck->phys, child_pa);
	if (child.meta->level != level - 1)
		return CHECK_FAIL(ck, 3, "child node is not one level down", n, level, i);
	return check_node(ck, child, level - 1, va);
}

static int check_node(struct check *ck, struct pt_node n, unsigned level, uint64_t base)
{
	uint64_t rc = atomic_load_explicit(&n.meta->refcount, memory_order_relaxed);
	unsigned present = 0, tracked = 0, nodes = 0;

	if (n.meta->usage != PT_USAGE_NODE || rc == 0 || rc > PT_REFCOUNT_MAX)
		return CHECK_FAIL(ck, 4, "node frame not tagged page-table in use", n, level, 0);
	if (pt_node_stray(n))
		return CHECK_FAIL(ck, 4, "reachable node is stray", n, level, 0);
	if (n.meta->check_epoch == ck->epoch)
		return CHECK_FAIL(ck, 2, "node reachable by two paths", n, level, 0);
	n.meta->check_epoch = ck->epoch;
	for (unsigned i = 0; i < node_entries(level); i++) {
		pt_pte_t pte = pt_pte_load(n, i);
		present += fmt_pte_present(pte);
		tracked += fmt_pte_present(pte) && fmt_pte_is_leaf(pte, level) &&
			   fmt_pte_tracked(pte);
		nodes += entry_is_node(pte, level);
		uint64_t va = level == FMT_LEVELS ? root_entry_va(ck->t, i)
						  : base + (uint64_t)i * pt_level_size(level);
		int err = check_entry(ck, n, level, i, va);
		if (err)
			return err;
	}
	if (present != n.meta->nr_children)
		return CHECK_FAIL(ck, 1, "nr_children differs from present entries", n, level, 0);
	if (tracked != n.meta->nr_tracked)
		return CHECK_FAIL(ck, 1, "nr_tracked differs from tracked leaves", n, level, 0);
	if (nodes != n.meta->nr_nodes)
		return CHECK_FAIL(ck, 1, "nr_nodes differs from table entries", n, level, 0);
	return 0;
}

/* The same table entry, but for what the CPU sets in table entries it
 * walks (x86: A): a user root is walked, its kernel table's root maybe not. */
static bool same_table_entry(pt_pte_t a, pt_pte_t b)
{
	return a == b || (fmt_pte_is_canonical_table(a) && fmt_pte_is_canonical_table(b) &&
			  fmt_pte_table_pa(a) == fmt_pte_table_pa(b));
}

/* A user table's kernel slots must point where its kernel table's do. */
static int check_borrowed(struct check *ck)
{
	struct pt_node root = pt_node_at(ck->phys, ck->t->tree.root_pa);
	struct pt_node kroot = pt_node_at(ck->phys, ck->t->kernel->tree.root_pa);

	for (unsigned i = kernel_first_slot(ck->t); i < FMT_ROOT_ENTRIES; i++)
		if (!same_table_entry(pt_pte_load(root, i), pt_pte_load(kroot, i)))
			return CHECK_FAIL(ck, 2, "borrowed kernel slot differs from the kernel's",
					  root, FMT_LEVELS, i);
	return 0;
}

static int table_check(struct pt_table *t, char *why, size_t why_len)
{
	struct pt_phys *phys = t->tree.phys;
	struct check ck = { t, phys, ++phys->check_epoch, why, why_len };
	struct pt_node root = pt_node_at(phys, t->tree.root_pa);

	if (root.meta->level != FMT_LEVELS)
		return CHECK_FAIL(&ck, 3, "root is not at the top level", root, FMT_LEVELS, 0);
	if (t->kernel) {
		int err = check_borrowed(&ck);
		if (err)
			return err;
	}
	int err = check_node(&ck, root, FMT_LEVELS, 0);
	if (err == 0 && why && why_len)
		why[0] = '\0';
	return err;
}

#endif
