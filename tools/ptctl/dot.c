/* SPDX-License-Identifier: MPL-2.0 */
/*
 * dot.c - ptctl dot [--format NAME]: the demo's process as a Graphviz graph.
 *
 * The table drawn is the demo process in a user table made by
 * pt_table_create_user(kernel), so it sees the kernel half.  The walk uses
 * the public API only: pt_table_root, pt_phys_to_virt and the format's
 * decode for the nodes, pt_table_stats for the caption.
 *
 *   root (blue) -> nodes, one box each, by level -> leaves
 *
 * Leaves of one node that are alike in size, properties and trackedness
 * and adjacent in va form one box ("8 x 4K ..."); huge leaves are orange,
 * tracked ones green; the kernel table's nodes, shared into this table,
 * are grey and dashed, and its empty ones one box per parent ("253 empty").
 */
#include <inttypes.h>

#include "ptctl.h"

#define DOT_ENTRIES 512
#define DOT_NONE 0u /* "no parent": ids start at 1 */

struct dot {
	FILE *out;
	const struct pt_format *f;
	struct pt_phys *phys;
	unsigned next; /* next graph node id */
};

/* A run of alike leaves under one parent, drawn as one box. */
struct dot_run {
	unsigned parent;
	bool shared;
	struct pt_mapping first;
	uint64_t count;
	bool pa_contig;
};

static const uint64_t *dot_entries(const struct dot *g, uint64_t pa)
{
	return pt_phys_to_virt(g->phys, pa);
}

/* The va of entry i of a node at `level` covering from `va`; in a root
 * shared between the halves, entries 256.. are the kernel half. */
static uint64_t dot_entry_va(const struct dot *g, unsigned level, uint64_t va,
			     unsigned i)
{
	uint64_t size = pt_level_size(level);

	if (level == g->f->levels && g->f->shared_kernel_root && i >= 256)
		return g->f->kernel_start + (i - 256) * size;
	return va + i * size;
}

static bool dot_node_empty(const struct dot *g, uint64_t pa, unsigned level)
{
	const uint64_t *e = dot_entries(g, pa);
	unsigned i;

	for (i = 0; i < DOT_ENTRIES; i++)
		if (g->f->decode(e[i], level, 0, NULL, NULL, NULL) != PT_DECODE_ABSENT)
			return false;
	return true;
}

static void dot_edge(struct dot *g, unsigned from, unsigned to)
{
	if (from != DOT_NONE)
		fprintf(g->out, "  n%u -> n%u;\n", from, to);
}

static const char *dot_fill(const struct pt_mapping *m)
{
	if (m->tracked)
		return "#c8efc8";
	return m->size > PT_PAGE_SIZE ? "#ffd39b" : "white";
}

static void dot_run_flush(struct dot *g, struct dot_run *r)
{
	const struct pt_mapping *m = &r->first;
	char size[PTCTL_SIZE_LEN], flags[12];
	unsigned id;

	if (!r->count)
		return;
	id = g->next++;
	fprintf(g->out, "  n%u [label=\"0x%" PRIx64 "\\n%" PRIu64 " x %s  %s %s%s\\n",
		id, m->va, r->count, ptctl_size(m->size, size),
		ptctl_flags(m->prop.flags, flags), ptctl_cache(m->prop.cache),
		m->tracked ? " tracked" : "");
	if (r->pa_contig)
		fprintf(g->out, "pa 0x%" PRIx64 "\"", m->pa);
	else
		fputs("pa: separate frames\"", g->out);
	fprintf(g->out, ", fillcolor=\"%s\"%s];\n", dot_fill(m),
		r->shared ? ", style=\"filled,dashed\"" : "");
	dot_edge(g, r->parent, id);
	r->count = 0;
}

static void dot_run_add(struct dot *g, struct dot_run *r,
			const struct pt_mapping *m)
{
	const struct pt_mapping *f = &r->first;

	if (r->count && m->size == f->size && m->va == f->va + f->size * r->count &&
	    m->tracked == f->tracked && m->prop.flags == f->prop.flags &&
	    m->prop.cache == f->prop.cache) {
		r->pa_contig = r->pa_contig && ptctl_leaves_extend(f, r->count, m);
		r->count++;
		return;
	}
	dot_run_flush(g, r);
	r->first = *m;
	r->count = 1;
	r->pa_contig = true;
}

static void dot_empty_box(struct dot *g, unsigned parent, unsigned level,
			  uint64_t n, bool shared)
{
	unsigned id;

	if (!n)
		return;
	id = g->next++;
	fprintf(g->out, "  n%u [label=\"%" PRIu64 " empty L%u nodes%s\", "
		"fillcolor=\"#e8e8e8\", style=\"filled,dashed\"];\n",
		id, n, level, shared ? "\\n(kernel table's, shared)" : "");
	dot_edge(g, parent, id);
}

static void dot_node(struct dot *g, unsigned parent, uint64_t pa,
		     unsigned level, uint64_t va, bool shared);

/* Draws the children of node `id` (level `level`, covering from `va`). */
static void dot_children(struct dot *g, unsigned id, uint64_t pa,
			 unsigned level, uint64_t va, bool shared)
{
	const uint64_t *e = dot_entries(g, pa);
	struct dot_run run = { .parent = id, .shared = shared };
	uint64_t empty = 0, cpa;
	unsigned i;
	bool cshared = false;

	for (i = 0; i < DOT_ENTRIES; i++) {
		struct pt_mapping m = { .va = dot_entry_va(g, level, va, i),
					.size = pt_level_size(level) };
		int kind = g->f->decode(e[i], level, 0, &m.pa, &m.prop, &m.tracked);

		if (kind == PT_DECODE_LEAF) {
			dot_run_add(g, &run, &m);
			continue;
		}
		dot_run_flush(g, &run);
		if (kind != PT_DECODE_TABLE)
			continue;
		cpa = m.pa;
		/* A user table's kernel-half root entries are the kernel's. */
		cshared = shared || (level == g->f->levels && m.va >= g->f->kernel_start);
		if (dot_node_empty(g, cpa, level - 1))
			empty++;
		else
			dot_node(g, id, cpa, level - 1, m.va, cshared);
	}
	dot_run_flush(g, &run);
	dot_empty_box(g, id, level - 1, empty, cshared);
}

static void dot_node(struct dot *g, unsigned parent, uint64_t pa,
		     unsigned level, uint64_t va, bool shared)
{
	unsigned id = g->next++;

	if (parent == DOT_NONE)
		fprintf(g->out, "  n%u [label=\"root L%u\\npa 0x%" PRIx64 "\", "
			"fillcolor=\"#a8c8f0\"];\n", id, level, pa);
	else
		fprintf(g->out, "  n%u [label=\"L%u node%s\\nva 0x%" PRIx64 "\", "
			"fillcolor=\"%s\"%s];\n", id, level,
			shared ? " (kernel's)" : "", va,
			shared ? "#e8e8e8" : "#dde8f8",
			shared ? ", style=\"filled,dashed\"" : "");
	dot_edge(g, parent, id);
	dot_children(g, id, pa, level, va, shared);
}

/* The caption: what the graph shows, its legend, and pt_table_stats. */
static int dot_caption(struct dot *g, struct pt_table *t)
{
	struct pt_table_stats s;
	char size[PTCTL_SIZE_LEN];
	unsigned l;
	int rc = pt_table_stats(t, &s);

	if (rc) {
		fprintf(stderr, "ptctl dot: pt_table_stats: %s\n", pt_strerror(rc));
		return rc;
	}
	fprintf(g->out, "  label=\"ptctl dot --format %s: the demo process in a user table "
		"made by pt_table_create_user(kernel)%s\\n", g->f->name,
		g->f->shared_kernel_root ? "" :
		" (separate kernel root: no kernel half here)");
	fputs("blue: root and nodes, grey dashed: the kernel table's (shared), "
	      "orange: huge leaves, green: tracked frames\\nnodes", g->out);
	for (l = g->f->levels; l > 0; l--)
		fprintf(g->out, " L%u %" PRIu64, l, s.nodes[l]);
	fputs(", leaves", g->out);
	for (l = g->f->max_leaf_level; l > 0; l--)
		fprintf(g->out, " %s %" PRIu64, ptctl_size(pt_level_size(l), size),
			s.mappings[l]);
	fprintf(g->out, " (%" PRIu64 " tracked)\";\n", s.tracked);
	return 0;
}

static int dot_write(FILE *out, struct pt_table *t)
{
	struct dot g = { .out = out, .f = pt_table_format(t),
			 .phys = pt_table_phys(t), .next = 1 };
	int rc;

	fputs("digraph ptkit {\n"
	      "  rankdir=LR; labelloc=t; fontname=\"Helvetica\"; fontsize=12;\n"
	      "  node [shape=box, style=filled, fontname=\"Helvetica\", fontsize=10];\n"
	      "  edge [arrowsize=0.6];\n", out);
	rc = dot_caption(&g, t);
	if (!rc)
		dot_node(&g, DOT_NONE, pt_table_root(t), g.f->levels, 0, false);
	fputs("}\n", out);
	return rc;
}

int ptctl_cmd_dot(int argc, char **argv)
{
	const struct pt_format *f;
	int rc = ptctl_format_arg(argc, argv, &f);

	return rc ? rc : ptctl_demo_process(stdout, f, dot_write);
}
