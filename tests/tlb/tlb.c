/* SPDX-License-Identifier: MPL-2.0 */
/* tlb.c - an emulated MMU: TLB and paging-structure caches.  See tlb.h. */
#include "tlb.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KIND_NEG: a negative entry, an invalid (absent or PROT_NONE) entry at
 * `level` seen by a walk and cached (RISC-V without Svvptc): every va of its
 * range faults without a walk until it is invalidated. */
enum { KIND_LEAF = 1, KIND_PSC = 2, KIND_NEG = 3 };

/* One cached entry: a leaf translation, a non-leaf (PSC) entry or a negative
 * entry. */
struct ent {
	uint64_t va;   /* base of the page (leaf) or of the entry's range (PSC, NEG) */
	uint64_t pa;   /* leaf: the page's pa; PSC: the node the entry points to */
	uint64_t walk[PT_MAX_LEVELS]; /* nodes read to reach the entry, root first */
	struct pt_prop prop;          /* leaf only */
	uint8_t kind;
	uint8_t level; /* leaf: the page's level; PSC, NEG: the level of the entry */
	uint8_t nr_walk;
	bool tracked;  /* leaf only */
};

#define RECENT 32

struct space {
	bool used;
	char name[24];
	struct pt_table *t;
	uint64_t root;
	const struct pt_format *fmt;
	struct pt_phys *phys;
	uint32_t features;
	bool is_kernel;
	int kernel_of;      /* the kernel space whose half this one shares, or -1 */
	struct ent *ents;   /* dense */
	size_t nr, cap;
	uint32_t *index;    /* open addressing: ents index + 1, 0 = empty */
	size_t index_cap;   /* power of two, >= 2 * cap */
	uint64_t recent[RECENT];
	unsigned nr_recent, recent_pos;
};

struct tlb {
	enum tlb_psc_mode mode;
	bool refill;
	bool negative;  /* cache invalid entries (tlb_set_negative) */
	uint64_t rng;
	struct space spaces[TLB_MAX_SPACES];
	struct tlb_stats st;
	bool failed;
	char why[1024];
	enum tlb_fault fault;
	unsigned fault_nth;
};

/* ------------------------------------------------------------ helpers */

static uint64_t rnd(struct tlb *tlb)
{
	uint64_t z = (tlb->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline unsigned level_shift(unsigned level)
{
	return PT_PAGE_SHIFT + 9 * (level - 1);
}

static inline uint64_t base_of(uint64_t va, unsigned level)
{
	return va & ~(pt_level_size(level) - 1);
}

static inline bool hw_present(struct pt_prop p)
{
	return (p.flags & (PT_R | PT_W | PT_X)) != 0; /* else PROT_NONE */
}

static const char *size_str(unsigned level)
{
	static const char *const n[] = {"?", "4K", "2M", "1G", "512G", "256T"};
	return level <= 5 ? n[level] : "?";
}

static const char *prop_str(struct pt_prop p, char *buf, size_t len)
{
	static const char letters[] = "RWXUGAD";
	static const char *const cache[] = {"WB", "WT", "WC", "UC"};
	char fl[8];

	for (int i = 0; i < 7; i++)
		fl[i] = (p.flags & (1u << i)) ? letters[i] : '-';
	fl[7] = '\0';
	snprintf(buf, len, "%s sw=%#x %s", fl, (p.flags >> PT_SW_SHIFT) & 0xfu,
		 p.cache < 4 ? cache[p.cache] : "cache?");
	return buf;
}

static bool prop_eq(struct pt_prop a, struct pt_prop b)
{
	return a.flags == b.flags && a.cache == b.cache;
}

static void fail(struct tlb *tlb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Records the first failure (sticky until tlb_clear_failure). */
static void fail(struct tlb *tlb, const char *fmt, ...)
{
	va_list ap;

	if (tlb->failed)
		return;
	tlb->failed = true;
	va_start(ap, fmt);
	vsnprintf(tlb->why, sizeof(tlb->why), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------- the caches */

static uint64_t key_hash(uint8_t kind, uint8_t level, uint64_t va)
{
	uint64_t x = va | ((uint64_t)kind << 4) | level; /* va is page aligned */

	x *= 0x9e3779b97f4a7c15ull;
	return x ^ (x >> 29);
}

static void index_insert(struct space *s, uint32_t i)
{
	const struct ent *e = &s->ents[i];
	size_t mask = s->index_cap - 1;

	for (size_t h = key_hash(e->kind, e->level, e->va) & mask;; h = (h + 1) & mask) {
		if (!s->index[h]) {
			s->index[h] = i + 1;
			return;
		}
	}
}

static void index_rebuild(struct space *s)
{
	memset(s->index, 0, s->index_cap * sizeof(*s->index));
	for (size_t i = 0; i < s->nr; i++)
		index_insert(s, (uint32_t)i);
}

static struct ent *lookup(struct space *s, uint8_t kind, uint8_t level, uint64_t va)
{
	size_t mask = s->index_cap - 1;

	if (!s->nr)
		return NULL;
	for (size_t h = key_hash(kind, level, va) & mask;; h = (h + 1) & mask) {
		uint32_t i = s->index[h];
		if (!i)
			return NULL;
		struct ent *e = &s->ents[i - 1];
		if (e->kind == kind && e->level == level && e->va == va)
			return e;
	}
}

static void insert(struct tlb *tlb, struct space *s, const struct ent *e)
{
	if (lookup(s, e->kind, e->level, e->va))
		return;
	if (s->nr == TLB_MAX_ENTRIES) {
		tlb->st.uncached++;
		return;
	}
	if (s->nr == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct ent *ents = realloc(s->ents, cap * sizeof(*ents));
		uint32_t *index = calloc(2 * cap, sizeof(*index));
		if (!ents || !index)
			abort();
		free(s->index);
		s->ents = ents;
		s->cap = cap;
		s->index = index;
		s->index_cap = 2 * cap;
		index_rebuild(s);
	}
	s->ents[s->nr] = *e;
	index_insert(s, (uint32_t)s->nr);
	s->nr++;
	if (s->nr > tlb->st.max_entries)
		tlb->st.max_entries = s->nr;
	if (e->kind == KIND_LEAF)
		tlb->st.cached_leaves[e->level]++;
	else if (e->kind == KIND_NEG)
		tlb->st.neg_cached++;
}

#define MAX_REWALK 4096

/* Drops the entries `drop` selects; returns how many went.  The va's of
 * dropped leaves go to `rewalk` (up to MAX_REWALK), if given. */
static size_t remove_if(struct tlb *tlb, struct space *s,
			bool (*drop)(const struct space *, const struct ent *, const void *),
			const void *arg, uint64_t *rewalk, size_t *nr_rewalk)
{
	size_t kept = 0, gone = 0;

	for (size_t i = 0; i < s->nr; i++) {
		if (drop(s, &s->ents[i], arg)) {
			if (s->ents[i].kind != KIND_PSC) {
				if (s->ents[i].kind == KIND_LEAF)
					tlb->st.leaves_dropped++;
				else
					tlb->st.neg_dropped++;
				if (rewalk && *nr_rewalk < MAX_REWALK)
					rewalk[(*nr_rewalk)++] = s->ents[i].va;
			} else {
				tlb->st.psc_dropped++;
			}
			gone++;
			continue;
		}
		s->ents[kept++] = s->ents[i];
	}
	if (gone) {
		s->nr = kept;
		index_rebuild(s);
	}
	return gone;
}

static struct space *space_of_table(struct tlb *tlb, const struct pt_table *t)
{
	for (int i = 0; i < TLB_MAX_SPACES; i++)
		if (tlb->spaces[i].used && tlb->spaces[i].t == t)
			return &tlb->spaces[i];
	return NULL;
}

static struct space *space_of_root(struct tlb *tlb, uint64_t root)
{
	for (int i = 0; i < TLB_MAX_SPACES; i++)
		if (tlb->spaces[i].used && tlb->spaces[i].root == root)
			return &tlb->spaces[i];
	return NULL;
}

/* ---------------------------------------------------------- walking */

/* Entries of a node at `level`: the root may be several pages (stage 2). */
static unsigned node_entries(const struct space *s, unsigned level)
{
	return level == s->fmt->levels ? s->fmt->root_entries : 512;
}

static bool read_pte(const struct space *s, uint64_t node, uint64_t va, unsigned level,
		     uint64_t *pte)
{
	uint64_t *ptes = pt_phys_to_virt(s->phys, node);

	if (!ptes || (node & (PT_PAGE_SIZE - 1)))
		return false;
	*pte = __atomic_load_n(&ptes[(va >> level_shift(level)) & (node_entries(s, level) - 1)],
			       __ATOMIC_RELAXED);
	return true;
}

enum { W_ABSENT, W_LEAF, W_TABLE };

struct walk_res {
	int kind;         /* W_ABSENT (to the hardware), W_LEAF, W_TABLE */
	unsigned level;   /* where the walk stopped */
	uint64_t pa;
	struct pt_prop prop;
	bool tracked;
	bool prot_none;   /* W_ABSENT because of a PROT_NONE leaf */
	uint64_t path[PT_MAX_LEVELS];
	unsigned nr_path;
};

/* The table as it is now, from the root, no caches: stops at a leaf, at
 * something absent, or after reading the (table) entry at level `stop`. */
static void walk_table(const struct space *s, uint64_t va, unsigned stop, struct walk_res *r)
{
	uint64_t node = s->root;
	unsigned level = s->fmt->levels;

	memset(r, 0, sizeof(*r));
	for (;;) {
		uint64_t pte, pa = 0;
		struct pt_prop prop = {0, 0};
		bool tracked = false;

		r->path[r->nr_path++] = node;
		r->level = level;
		r->kind = W_ABSENT;
		r->pa = 0;
		if (!read_pte(s, node, va, level, &pte))
			return;
		int k = s->fmt->decode(pte, level, s->features, &pa, &prop, &tracked);
		if (k == PT_DECODE_TABLE && level > 1) {
			r->pa = pa;
			if (level == stop) {
				r->kind = W_TABLE;
				return;
			}
			node = pa;
			level--;
			continue;
		}
		if (k == PT_DECODE_LEAF) {
			r->pa = pa;
			r->prop = prop;
			r->tracked = tracked;
			if (hw_present(prop))
				r->kind = W_LEAF;
			else
				r->prot_none = true;
		}
		return;
	}
}

static void recent_push(struct space *s, uint64_t va)
{
	s->recent[s->recent_pos] = va;
	s->recent_pos = (s->recent_pos + 1) % RECENT;
	if (s->nr_recent < RECENT)
		s->nr_recent++;
}

/* The hardware: a TLB hit, or a walk from the deepest PSC hit that fills
 * the caches. */
static int hw_access(struct tlb *tlb, struct space *s, uint64_t va, struct tlb_xlate *out)
{
	const struct pt_format *fmt = s->fmt;
	struct ent e;
	uint64_t node = s->root;
	unsigned level = fmt->levels;

	tlb->st.accesses++;
	for (unsigned l = 1; l <= fmt->max_leaf_level; l++) {
		struct ent *hit = lookup(s, KIND_LEAF, (uint8_t)l, base_of(va, l));
		if (!hit)
			continue;
		tlb->st.hits++;
		if (out)
			*out = (struct tlb_xlate){ .pa = hit->pa + (va - hit->va),
						   .page_va = hit->va,
						   .page_size = pt_level_size(l),
						   .prop = hit->prop, .hit = true };
		return 0;
	}
	for (unsigned l = 1; tlb->negative && l <= fmt->levels; l++) {
		if (!lookup(s, KIND_NEG, (uint8_t)l, base_of(va, l)))
			continue;
		tlb->st.neg_hits++;
		tlb->st.faults++;
		return PT_ENOENT; /* a cached "not mapped" */
	}
	tlb->st.walks++;
	memset(&e, 0, sizeof(e));
	for (unsigned l = 2; l <= fmt->levels; l++) {
		struct ent *hit = lookup(s, KIND_PSC, (uint8_t)l, base_of(va, l));
		if (!hit)
			continue;
		tlb->st.psc_hits++;
		memcpy(e.walk, hit->walk, sizeof(e.walk));
		e.nr_walk = hit->nr_walk;
		node = hit->pa;
		level = l - 1;
		break;
	}
	for (;;) {
		uint64_t pte, pa = 0;
		struct pt_prop prop = {0, 0};
		bool tracked = false;

		if (e.nr_walk >= PT_MAX_LEVELS)
			break; /* a garbage walk through a stale entry */
		e.walk[e.nr_walk++] = node;
		if (!read_pte(s, node, va, level, &pte))
			break;
		int k = fmt->decode(pte, level, s->features, &pa, &prop, &tracked);
		if (k == PT_DECODE_TABLE && level > 1) {
			e.kind = KIND_PSC;
			e.level = (uint8_t)level;
			e.va = base_of(va, level);
			e.pa = pa;
			insert(tlb, s, &e);
			node = pa;
			level--;
			continue;
		}
		if (k != PT_DECODE_LEAF || !hw_present(prop)) {
			if (tlb->negative) { /* the hart may keep the invalid entry */
				e.kind = KIND_NEG;
				e.level = (uint8_t)level;
				e.va = base_of(va, level);
				e.pa = 0;
				insert(tlb, s, &e);
			}
			break;
		}
		e.kind = KIND_LEAF;
		e.level = (uint8_t)level;
		e.va = base_of(va, level);
		e.pa = pa;
		e.prop = prop;
		e.tracked = tracked;
		insert(tlb, s, &e);
		if (out)
			*out = (struct tlb_xlate){ .pa = pa + (va - e.va), .page_va = e.va,
						   .page_size = pt_level_size(level),
						   .prop = prop, .hit = false };
		return 0;
	}
	tlb->st.faults++;
	return PT_ENOENT;
}

int tlb_access(struct tlb *tlb, struct pt_table *t, uint64_t va, struct tlb_xlate *out)
{
	struct space *s = space_of_table(tlb, t);

	if (!s)
		return PT_EINVAL;
	recent_push(s, va);
	return hw_access(tlb, s, va, out);
}

/* ---------------------------------------------------------- checking */

static const char *kind_str(const struct ent *e)
{
	return e->kind == KIND_LEAF ? "TLB entry"
	       : e->kind == KIND_NEG ? "negative TLB entry (a cached invalid entry)"
				     : "paging-structure cache entry";
}

static void describe_ent(const struct ent *e, char *buf, size_t len)
{
	char p[48];

	if (e->kind == KIND_LEAF)
		snprintf(buf, len, "%s TLB entry va=%#" PRIx64 " -> pa=%#" PRIx64 " %s%s",
			 size_str(e->level), e->va, e->pa, prop_str(e->prop, p, sizeof(p)),
			 e->tracked ? " tracked" : "");
	else if (e->kind == KIND_NEG)
		snprintf(buf, len,
			 "negative TLB entry (invalid level-%u entry, va=%#" PRIx64
			 " +%s: not mapped)",
			 e->level, e->va, size_str(e->level));
	else
		snprintf(buf, len,
			 "paging-structure cache entry (level-%u entry, va=%#" PRIx64
			 " +%s) -> node %#" PRIx64,
			 e->level, e->va, size_str(e->level), e->pa);
}

static void describe_walk(const struct walk_res *r, char *buf, size_t len)
{
	char p[48];

	switch (r->kind) {
	case W_LEAF:
		snprintf(buf, len, "a %s leaf pa=%#" PRIx64 " %s", size_str(r->level), r->pa,
			 prop_str(r->prop, p, sizeof(p)));
		break;
	case W_TABLE:
		snprintf(buf, len, "a level-%u entry -> node %#" PRIx64, r->level, r->pa);
		break;
	default:
		if (r->prot_none)
			snprintf(buf, len, "a PROT_NONE %s leaf (not present)",
				 size_str(r->level));
		else
			snprintf(buf, len, "nothing (absent at level %u)", r->level);
	}
}

static bool same_path(const struct ent *e, const struct walk_res *r)
{
	if (e->nr_walk != r->nr_path)
		return false;
	for (unsigned i = 0; i < r->nr_path; i++)
		if (e->walk[i] != r->path[i])
			return false;
	return true;
}

static int check_safe_space(struct tlb *tlb, const struct space *s, char *why, size_t len)
{
	char d[160];

	for (size_t i = 0; i < s->nr; i++) {
		const struct ent *e = &s->ents[i];
		for (unsigned j = 0; j < e->nr_walk; j++) {
			if (pt_frame_refcount(s->phys, e->walk[j]) != PT_REFCOUNT_UNUSED)
				continue;
			describe_ent(e, d, sizeof(d));
			snprintf(why, len,
				 "space %s: page-table node %#" PRIx64
				 " was freed while a cached walk still uses it: %s",
				 s->name, e->walk[j], d);
			return -1;
		}
		if (e->kind == KIND_PSC &&
		    pt_frame_refcount(s->phys, e->pa) == PT_REFCOUNT_UNUSED) {
			describe_ent(e, d, sizeof(d));
			snprintf(why, len,
				 "space %s: page-table node %#" PRIx64
				 " was freed while a cached walk still points to it: %s",
				 s->name, e->pa, d);
			return -1;
		}
		if (e->kind == KIND_LEAF && e->tracked &&
		    pt_frame_refcount(s->phys, e->pa) == PT_REFCOUNT_UNUSED) {
			describe_ent(e, d, sizeof(d));
			snprintf(why, len,
				 "space %s: tracked frame %#" PRIx64
				 " was freed while the TLB still maps it: %s",
				 s->name, e->pa, d);
			return -1;
		}
	}
	(void)tlb;
	return 0;
}

/* A leaf present to the hardware under `node` (a level-`level` node) now:
 * 1 with its va in *va, else 0.  Raw PTEs, like the walker. */
static int present_under(const struct space *s, uint64_t node, unsigned level, uint64_t base,
			 uint64_t *va)
{
	uint64_t *ptes = pt_phys_to_virt(s->phys, node);

	if (!ptes || (node & (PT_PAGE_SIZE - 1)))
		return 0;
	for (unsigned i = 0; i < node_entries(s, level); i++) {
		uint64_t pte = __atomic_load_n(&ptes[i], __ATOMIC_RELAXED), pa = 0;
		uint64_t at = base + (uint64_t)i * pt_level_size(level);
		struct pt_prop prop = {0, 0};
		int k = s->fmt->decode(pte, level, s->features, &pa, &prop, NULL);

		if (k == PT_DECODE_LEAF && hw_present(prop)) {
			*va = at;
			return 1;
		}
		if (k == PT_DECODE_TABLE && level > 1 &&
		    present_under(s, pa, level - 1, at, va))
			return 1;
	}
	return 0;
}

/* For a negative entry: the first va of its range that the table maps now
 * (0 and *va set), or -1 if nothing there is present (the entry is still
 * true, whatever nodes a walk goes through now). */
static int neg_mapped(const struct space *s, const struct ent *e, struct walk_res *r,
		      uint64_t *va)
{
	walk_table(s, e->va, e->level, r);
	if (r->kind == W_LEAF) {
		*va = e->va;
		return 0;
	}
	if (r->kind == W_TABLE && present_under(s, r->pa, e->level - 1, e->va, va))
		return 0;
	return -1;
}

/* Whether a cached entry is exactly what the table holds now. */
static bool ent_matches(const struct space *s, const struct ent *e, struct walk_res *r)
{
	if (e->kind == KIND_NEG) {
		uint64_t va;
		return neg_mapped(s, e, r, &va) != 0;
	}
	if (e->kind == KIND_LEAF) {
		walk_table(s, e->va, 0, r);
		return r->kind == W_LEAF && r->level == e->level && r->pa == e->pa &&
		       prop_eq(r->prop, e->prop) && same_path(e, r);
	}
	walk_table(s, e->va, e->level, r);
	return r->kind == W_TABLE && r->level == e->level && r->pa == e->pa && same_path(e, r);
}

static int check_space(struct tlb *tlb, const struct space *s, char *why, size_t len)
{
	char d[160], w[120];
	struct walk_res r;

	for (size_t i = 0; i < s->nr; i++) {
		const struct ent *e = &s->ents[i];
		uint64_t va;

		if (e->kind == KIND_NEG) {
			if (neg_mapped(s, e, &r, &va))
				continue;
			struct walk_res at;
			describe_ent(e, d, sizeof(d));
			walk_table(s, va, 0, &at);
			describe_walk(&at, w, sizeof(w));
			snprintf(why, len,
				 "space %s: stale %s, never invalidated: %s; the table now "
				 "maps va %#" PRIx64 " (%s): a new mapping was not invalidated",
				 s->name, kind_str(e), d, va, w);
			return -1;
		}
		if (ent_matches(s, e, &r))
			continue;
		describe_ent(e, d, sizeof(d));
		describe_walk(&r, w, sizeof(w));
		bool moved = (r.kind == W_LEAF || r.kind == W_TABLE) && r.level == e->level &&
			     r.pa == e->pa && (e->kind == KIND_PSC || prop_eq(r.prop, e->prop));
		snprintf(why, len,
			 "space %s: stale %s, never invalidated: %s; the table now has %s%s",
			 s->name, kind_str(e), d, w,
			 moved ? " (same translation, reached through other nodes)" : "");
		return -1;
	}
	(void)tlb;
	return 0;
}

int tlb_check_safe(struct tlb *tlb, char *why, size_t len)
{
	char buf[1024];

	tlb->st.safe_checks++;
	if (tlb->failed) {
		snprintf(why, len, "%s", tlb->why);
		return -1;
	}
	for (int i = 0; i < TLB_MAX_SPACES; i++) {
		if (!tlb->spaces[i].used)
			continue;
		if (check_safe_space(tlb, &tlb->spaces[i], buf, sizeof(buf))) {
			fail(tlb, "%s", buf);
			snprintf(why, len, "%s", buf);
			return -1;
		}
	}
	return 0;
}

int tlb_check(struct tlb *tlb, char *why, size_t len)
{
	if (tlb_check_safe(tlb, why, len))
		return -1;
	tlb->st.checks++;
	for (int i = 0; i < TLB_MAX_SPACES; i++)
		if (tlb->spaces[i].used && check_space(tlb, &tlb->spaces[i], why, len))
			return -1;
	return 0;
}

void tlb_clear_failure(struct tlb *tlb)
{
	tlb->failed = false;
	tlb->why[0] = '\0';
}

/* ------------------------------------------------------ invalidation */

struct inv {
	const struct pt_flush_range *ranges;
	size_t nr;
	bool all, nodes;
	bool kernel_only;  /* a sharing user space: only the kernel half */
	bool keep_psc;     /* TLB_FAULT_KEEP_PSC */
	enum tlb_psc_mode mode;
};

static bool overlaps(uint64_t va, uint64_t size, const struct pt_flush_range *r)
{
	uint64_t last = va + (size - 1), r_last = r->va + (r->len - 1);

	return r->len && va <= r_last && r->va <= last;
}

static bool overlaps_any(uint64_t va, uint64_t size, const struct inv *inv)
{
	for (size_t i = 0; i < inv->nr; i++)
		if (overlaps(va, size, &inv->ranges[i]))
			return true;
	return false;
}

static bool inv_drops(const struct space *s, const struct ent *e, const void *arg)
{
	const struct inv *inv = arg;
	uint64_t size = pt_level_size(e->level);

	if (e->kind == KIND_PSC && inv->keep_psc)
		return false;
	if (e->kind == KIND_PSC && inv->mode == TLB_PSC_X86 && (inv->nr || inv->nodes))
		return true; /* INVLPG: the whole PSC of the PCID */
	if (inv->kernel_only && e->va < s->fmt->kernel_start)
		return false;
	if (inv->all)
		return true;
	if (e->kind != KIND_PSC) /* a leaf or negative translation */
		return overlaps_any(e->va, size, inv);
	if (!inv->nodes)
		return false;
	return inv->mode == TLB_PSC_NODES || overlaps_any(e->va, size, inv);
}

/* The hardware walking right after the invalidation, from the
 * half-changed table: every page whose translation was just dropped (it was
 * in use), pages of the ranges, and recently used addresses. */
static void refill(struct tlb *tlb, struct space *s, const struct inv *inv,
		   const uint64_t *rewalk, size_t nr_rewalk)
{
	for (size_t i = 0; i < nr_rewalk; i++)
		hw_access(tlb, s, rewalk[i], NULL);
	tlb->st.refills += nr_rewalk;
	for (size_t i = 0; i < inv->nr; i++) {
		const struct pt_flush_range *r = &inv->ranges[i];
		uint64_t pages = r->len >> PT_PAGE_SHIFT;
		if (!pages)
			continue;
		hw_access(tlb, s, r->va, NULL);
		if (pages > 1)
			hw_access(tlb, s, r->va + (pages - 1) * PT_PAGE_SIZE, NULL);
		if (pages > 2)
			hw_access(tlb, s, r->va + (rnd(tlb) % pages) * PT_PAGE_SIZE, NULL);
		tlb->st.refills += 1 + (pages > 1) + (pages > 2);
	}
	for (unsigned j = 0; j < 8 && j < s->nr_recent; j++) {
		hw_access(tlb, s, s->recent[rnd(tlb) % s->nr_recent], NULL);
		tlb->st.refills++;
	}
}

void tlb_invalidate(void *arg, const struct pt_flush_info *info)
{
	struct tlb *tlb = arg;
	enum tlb_fault fault = TLB_FAULT_NONE;
	struct space *s;

	tlb->st.callbacks++;
	/* Before anything is invalidated: stale entries are expected here,
	 * but nothing they reach may be free yet (released before its
	 * invalidation). */
	if (!tlb->failed) {
		char buf[1024];
		for (int i = 0; i < TLB_MAX_SPACES; i++) {
			if (tlb->spaces[i].used &&
			    check_safe_space(tlb, &tlb->spaces[i], buf, sizeof(buf))) {
				fail(tlb, "at an invalidation callback, before it invalidated: %s",
				     buf);
				break;
			}
		}
	}
	tlb->st.cb_all += info->all;
	tlb->st.cb_nodes += info->nodes_removed;
	tlb->st.cb_full_ranges += info->nr_ranges == PT_FLUSH_MAX_RANGES;
	if (tlb->fault != TLB_FAULT_NONE && --tlb->fault_nth == 0) {
		fault = tlb->fault;
		tlb->fault = TLB_FAULT_NONE;
		tlb->st.faults_injected++;
	}
	if (!(s = space_of_root(tlb, info->root_pa)))
		return;
	/* A stage-2 TLB caches guest-physical translations: its invalidations
	 * must say so, or a hypervisor would issue the stage-1 instruction. */
	if (info->stage != s->fmt->stage)
		fail(tlb, "an invalidation of a stage-%u table says stage %u", s->fmt->stage,
		     info->stage);
	struct inv inv = { .ranges = info->ranges, .nr = info->nr_ranges,
			   .all = info->all,
			   .nodes = info->nodes_removed,
			   .keep_psc = fault == TLB_FAULT_KEEP_PSC,
			   .mode = tlb->mode };
	if (fault == TLB_FAULT_DROP_LAST_RANGE && inv.nr > 1)
		inv.nr--;
	if (fault == TLB_FAULT_DROP) {
		/* What it would have removed: 0 makes the damage harmless. */
		for (int i = 0; i < TLB_MAX_SPACES; i++) {
			struct space *u = &tlb->spaces[i];
			struct inv shared = inv;
			shared.kernel_only = true;
			if (u == s || (u->used && s->is_kernel &&
				       u->kernel_of == (int)(s - tlb->spaces)))
				for (size_t j = 0; j < u->nr; j++) {
					struct walk_res r;
					if (!inv_drops(u, &u->ents[j], u == s ? &inv : &shared))
						continue;
					tlb->st.fault_would_drop++;
					tlb->st.fault_left_stale += !ent_matches(u, &u->ents[j], &r);
				}
		}
		return;
	}
	bool broadcast = s->is_kernel && fault != TLB_FAULT_NO_BROADCAST;
	struct inv shared = inv;
	shared.kernel_only = true;
	static uint64_t rewalk[TLB_MAX_SPACES][MAX_REWALK];
	size_t nr_rewalk[TLB_MAX_SPACES] = { 0 };
	for (int i = 0; i < TLB_MAX_SPACES; i++) {
		struct space *u = &tlb->spaces[i];
		bool sharing = broadcast && u->used && u->kernel_of == (int)(s - tlb->spaces);
		if (u != s && !sharing)
			continue;
		remove_if(tlb, u, inv_drops, u == s ? &inv : &shared, rewalk[i], &nr_rewalk[i]);
		tlb->st.cb_shared += sharing;
	}
	/* The hardware may walk again right now, mid-operation. */
	for (int i = 0; tlb->refill && i < TLB_MAX_SPACES; i++) {
		struct space *u = &tlb->spaces[i];
		bool sharing = broadcast && u->used && u->kernel_of == (int)(s - tlb->spaces);
		if (u == s || sharing)
			refill(tlb, u, u == s ? &inv : &shared, rewalk[i], nr_rewalk[i]);
	}
	char why[8];
	tlb_check_safe(tlb, why, sizeof(why)); /* records a failure */
}

void tlb_inject(struct tlb *tlb, enum tlb_fault fault, unsigned nth)
{
	tlb->fault = nth ? fault : TLB_FAULT_NONE;
	tlb->fault_nth = nth;
}

/* ------------------------------------------------------- life cycle */

static struct tlb *live_tlbs[8];

struct tlb *tlb_create(enum tlb_psc_mode mode, uint64_t seed)
{
	struct tlb *tlb = calloc(1, sizeof(*tlb));

	if (!tlb)
		return NULL;
	tlb->mode = mode;
	tlb->refill = true;
	tlb->rng = seed;
	for (int i = 0; i < 8; i++) {
		if (!live_tlbs[i]) {
			live_tlbs[i] = tlb;
			return tlb;
		}
	}
	free(tlb);
	return NULL;
}

static void space_free(struct space *s)
{
	free(s->ents);
	free(s->index);
	memset(s, 0, sizeof(*s));
}

void tlb_destroy(struct tlb *tlb)
{
	if (!tlb)
		return;
	for (int i = 0; i < 8; i++)
		if (live_tlbs[i] == tlb)
			live_tlbs[i] = NULL;
	for (int i = 0; i < TLB_MAX_SPACES; i++)
		space_free(&tlb->spaces[i]);
	free(tlb);
}

void tlb_set_refill(struct tlb *tlb, bool on) { tlb->refill = on; }
void tlb_set_negative(struct tlb *tlb, bool on) { tlb->negative = on; }
enum tlb_psc_mode tlb_mode(const struct tlb *tlb) { return tlb->mode; }

int tlb_attach(struct tlb *tlb, struct pt_table *t, struct pt_table *kernel, const char *name)
{
	struct space *k = NULL;

	if (!t || space_of_table(tlb, t))
		return -1;
	if (kernel && !(k = space_of_table(tlb, kernel)))
		return -1;
	for (int i = 0; i < TLB_MAX_SPACES; i++) {
		struct space *s = &tlb->spaces[i];
		if (s->used)
			continue;
		memset(s, 0, sizeof(*s));
		s->used = true;
		snprintf(s->name, sizeof(s->name), "%s", name ? name : "?");
		s->t = t;
		s->root = pt_table_root(t);
		s->fmt = pt_table_format(t);
		s->phys = pt_table_phys(t);
		s->features = s->phys->platform.features;
		s->is_kernel = pt_table_space(t) == PT_SPACE_KERNEL;
		s->kernel_of = k ? (int)(k - tlb->spaces) : -1;
		return 0;
	}
	return -1;
}

void tlb_detach(struct tlb *tlb, struct pt_table *t)
{
	struct space *s = space_of_table(tlb, t);

	if (s)
		space_free(s);
}

void tlb_get_stats(const struct tlb *tlb, struct tlb_stats *out)
{
	*out = tlb->st;
}

size_t tlb_count(const struct tlb *tlb, struct pt_table *t, bool psc, unsigned level)
{
	const struct space *s = space_of_table((struct tlb *)tlb, t);
	size_t n = 0;

	for (size_t i = 0; s && i < s->nr; i++)
		n += s->ents[i].kind == (psc ? KIND_PSC : KIND_LEAF) &&
		     (psc || s->ents[i].level == level);
	return n;
}

/* ------------------------------------------- the machine: RAM and RCU */

/*
 * One thread, so a grace period is simply a moment when no read-side
 * section is open.  Releases run as early as that allows: inside rcu_defer
 * itself when no section is open (as if another CPU ran the callback
 * before call_rcu returned), when the depth drops to 0, or at
 * tlb_rcu_quiesce / rcu_barrier.
 */
static struct {
	int depth;
	bool draining;
	struct pt_rcu_head *head, *tail;
	uint64_t pending;
} rcu;

static void rcu_drain(void)
{
	if (rcu.depth || rcu.draining)
		return;
	rcu.draining = true;
	while (rcu.head) {
		struct pt_rcu_head *h = rcu.head;
		rcu.head = h->next;
		if (!rcu.head)
			rcu.tail = NULL;
		rcu.pending--;
		pt_rcu_release(h);
		/* The nodes of that chain are free now: no cached walk may
		 * still lead into them. */
		for (int i = 0; i < 8; i++) {
			struct tlb *tlb = live_tlbs[i];
			char why[8];
			if (!tlb)
				continue;
			tlb->st.rcu_releases++;
			tlb_check_safe(tlb, why, sizeof(why)); /* records a failure */
		}
	}
	rcu.draining = false;
}

static void emu_rcu_read_lock(void) { rcu.depth++; }

static void emu_rcu_read_unlock(void)
{
	if (rcu.depth <= 0)
		abort();
	if (--rcu.depth == 0)
		rcu_drain();
}

static void emu_rcu_defer(struct pt_rcu_head *h)
{
	h->next = NULL;
	if (rcu.tail)
		rcu.tail->next = h;
	else
		rcu.head = h;
	rcu.tail = h;
	rcu.pending++;
	/* No reader open: the grace period may end at once (on a real
	 * machine, another CPU could run the callback right now). */
	rcu_drain();
}

static void emu_rcu_barrier(void)
{
	if (rcu.depth)
		abort(); /* never from inside a read-side section */
	rcu_drain();
}

void tlb_rcu_quiesce(void) { rcu_drain(); }
uint64_t tlb_rcu_pending(void) { return rcu.pending; }

static void *ram_of_phys;

int tlb_phys_create(uint64_t bytes, struct pt_phys **out)
{
	struct pt_platform platform = {
		.rcu_read_lock = emu_rcu_read_lock,
		.rcu_read_unlock = emu_rcu_read_unlock,
		.rcu_defer = emu_rcu_defer,
		.rcu_barrier = emu_rcu_barrier,
	};
	size_t phys_bytes = (sizeof(struct pt_phys) + 63) & ~(size_t)63;
	struct pt_phys *phys;
	void *ram;

	if (ram_of_phys || !bytes || (bytes & (PT_PAGE_SIZE - 1)))
		return PT_EINVAL;
	phys = aligned_alloc(64, phys_bytes);
	ram = aligned_alloc(PT_PAGE_SIZE, bytes);
	if (!phys || !ram) {
		free(phys);
		free(ram);
		return PT_ENOMEM;
	}
	int err = pt_phys_init(phys, TLB_RAM_PA, bytes, (uintptr_t)ram - TLB_RAM_PA, &platform);
	if (err) {
		free(phys);
		free(ram);
		return err;
	}
	memset(&rcu, 0, sizeof(rcu));
	ram_of_phys = ram;
	*out = phys;
	return 0;
}

void tlb_phys_destroy(struct pt_phys *phys)
{
	if (!phys)
		return;
	pt_phys_destroy(phys); /* waits for (runs) pending releases */
	free(ram_of_phys);
	ram_of_phys = NULL;
	free(phys);
}
