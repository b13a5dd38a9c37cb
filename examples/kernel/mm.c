/* SPDX-License-Identifier: MPL-2.0 */
/*
 * mm.c - processes' address spaces: the ptkit glue.
 *
 * Every user table is pt_table_create_user(kernel_table): the kernel half
 * is shared, the user half is 4 KiB tracked leaves only.  A struct vma
 * says what may be mapped; a fault maps it (pt_map_frames of a fresh
 * zeroed frame, a file copy, or a shared page-cache frame).  Fork shares
 * every frame (one more table reference each) and write-protects the
 * writable ones, marking them PT_SW0 ("writable, copy on write"); a write
 * fault on such a leaf takes the frame over when the table holds the only
 * reference, and copies it otherwise.  The kernel never touches user
 * addresses: copies go through pt_query and the linear map.
 */
#include "kernel.h"

#define PT_COW PT_SW0
#define USER_END 0x0000800000000000ull
#define COMMIT_RESERVE 512 /* frames kept for page-table nodes and the kernel */
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_FIXED_NOREPLACE 0x100000
#define MREMAP_MAYMOVE 1

struct mm_stats mm_stats;

/*
 * Guest ticks spent inside ptkit, charged to the operation under way:
 * a fault, a fork, or anything else.  Under `-icount shift=0` (run.sh with
 * PTKIT_EXAMPLE_ICOUNT=1) arch_ticks counts guest instructions.  The macros
 * below wrap every ptkit call of this file (a macro does not expand
 * inside itself, so each still calls the function).
 */
static uint64_t *charge = &mm_stats.other_ptkit_ticks;
#define PTK(call) ({ uint64_t t0_ = arch_ticks(); __typeof__(call) r_ = (call); \
		     *charge += arch_ticks() - t0_; r_; })
#define pt_query(...) PTK(pt_query(__VA_ARGS__))
#define pt_map_frames(...) PTK(pt_map_frames(__VA_ARGS__))
#define pt_unmap(...) PTK(pt_unmap(__VA_ARGS__))
#define pt_protect(...) PTK(pt_protect(__VA_ARGS__))
#define pt_frame_alloc(...) PTK(pt_frame_alloc(__VA_ARGS__))
#define pt_frame_get(...) PTK(pt_frame_get(__VA_ARGS__))
#define pt_frame_put(...) PTK(pt_frame_put(__VA_ARGS__))
#define pt_frame_refcount(...) PTK(pt_frame_refcount(__VA_ARGS__))
#define pt_table_create_user(...) PTK(pt_table_create_user(__VA_ARGS__))
#define pt_table_destroy(...) PTK(pt_table_destroy(__VA_ARGS__))
#define pt_cursor_open(...) PTK(pt_cursor_open(__VA_ARGS__))
#define pt_cursor_query(...) PTK(pt_cursor_query(__VA_ARGS__))
#define pt_cursor_find_next(...) PTK(pt_cursor_find_next(__VA_ARGS__))
#define pt_cursor_protect_next(...) PTK(pt_cursor_protect_next(__VA_ARGS__))
#define pt_cursor_take_next(...) PTK(pt_cursor_take_next(__VA_ARGS__))
#define pt_cursor_jump(...) PTK(pt_cursor_jump(__VA_ARGS__))
#define pt_flush_finish(...) PTK(pt_flush_finish(__VA_ARGS__))

/* Runs op charging its ptkit ticks to *ptk and all its ticks to *all. */
#define CHARGED(ptk, all, op) ({ uint64_t *saved_ = charge, t_ = arch_ticks(); \
				 charge = (ptk); __typeof__(op) res_ = (op); \
				 *(all) += arch_ticks() - t_; charge = saved_; res_; })

/* What a leaf of a region with `prot` holds.  Writable regions start
 * read-only with PT_COW unless the frame is known to be private. */
static struct pt_prop prop_of(uint32_t prot, bool private_frame)
{
	uint32_t f = PT_U;

	if (prot & (PROT_READ | PROT_WRITE))
		f |= PT_R;
	if (prot & PROT_EXEC)
		f |= PT_X;
	if (prot & PROT_WRITE)
		f |= private_frame ? PT_W : PT_COW;
	return (struct pt_prop){ .flags = f, .cache = PT_CACHE_WB };
}

static bool can_commit(uint64_t pages)
{
	return pages + COMMIT_RESERVE <= pt_phys_free_frames(&phys);
}

static int map_frame(struct mm *mm, uint64_t va, uint64_t pa, struct pt_prop prop)
{
	prop.flags &= ~(PT_A | PT_D);
	return pt_map_frames(mm->table, va, &pa, 1, prop);
}

/* ---- regions ---- */

static struct vma *find_vma(struct mm *mm, uint64_t va)
{
	for (unsigned i = 0; i < mm->nr_vmas; i++)
		if (va >= mm->vmas[i].start && va < mm->vmas[i].end)
			return &mm->vmas[i];
	return NULL;
}

static bool range_free(struct mm *mm, uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < mm->nr_vmas; i++)
		if (mm->vmas[i].start < end && start < mm->vmas[i].end)
			return false;
	return true;
}

/* A file-backed region holds its inode: an unlinked /tmp file stays
 * readable while mapped. */
int mm_add_vma(struct mm *mm, const struct vma *v)
{
	unsigned i = 0;

	if (mm->nr_vmas == MAX_VMAS)
		return -ENOMEM;
	if (v->file)
		inode_get(v->file);
	while (i < mm->nr_vmas && mm->vmas[i].start < v->start)
		i++;
	memmove(&mm->vmas[i + 1], &mm->vmas[i], (mm->nr_vmas - i) * sizeof(*v));
	mm->vmas[i] = *v;
	mm->nr_vmas++;
	return 0;
}

/* Anonymous regions that touch and agree become one (mmap only): glibc's
 * many mmaps would otherwise fill the fixed region array. */
static int add_merged(struct mm *mm, const struct vma *v)
{
	for (unsigned i = 0; i < mm->nr_vmas && !v->file; i++) {
		struct vma *w = &mm->vmas[i];
		if (w->file || w->prot != v->prot)
			continue;
		if (w->end == v->start) {
			w->end = v->end;
			return 0;
		}
		if (w->start == v->end) {
			w->start = v->start;
			return 0;
		}
	}
	return mm_add_vma(mm, v);
}

/* Cuts the region containing va in two at va. */
static int vma_split(struct mm *mm, uint64_t va)
{
	struct vma *v = find_vma(mm, va), right;

	if (!v || v->start == va)
		return 0;
	right = *v;
	right.start = va;
	right.foff += va - v->start;
	if (mm->nr_vmas == MAX_VMAS)
		return -ENOMEM;
	v->end = va;
	return mm_add_vma(mm, &right);
}

/* Removes [start, end) from the regions and unmaps it. */
static int carve(struct mm *mm, uint64_t start, uint64_t end)
{
	int err = vma_split(mm, start);

	if (!err)
		err = vma_split(mm, end);
	if (err)
		return err;
	for (unsigned i = 0; i < mm->nr_vmas;) {
		if (mm->vmas[i].start >= start && mm->vmas[i].end <= end) {
			if (mm->vmas[i].file)
				inode_put(mm->vmas[i].file);
			memmove(&mm->vmas[i], &mm->vmas[i + 1],
				(mm->nr_vmas - i - 1) * sizeof(struct vma));
			mm->nr_vmas--;
		} else {
			i++;
		}
	}
	return pt_errno(pt_unmap(mm->table, start, end - start, NULL));
}

/* Top-down first fit below MMAP_TOP. */
static uint64_t find_gap(struct mm *mm, uint64_t len)
{
	uint64_t top = MMAP_TOP;

	for (int i = (int)mm->nr_vmas - 1; i >= 0; i--) {
		struct vma *v = &mm->vmas[i];
		if (v->start >= top)
			continue;
		if (v->end <= top && top - v->end >= len)
			return top - len;
		top = v->start;
	}
	return top >= len + (1ull << 32) ? top - len : 0;
}

/* ---- address spaces ---- */

struct mm *mm_create(void)
{
	struct mm *mm = kalloc();

	_Static_assert(sizeof(struct mm) <= PAGE, "struct mm fits a frame");
	if (mm && pt_table_create_user(kernel_table, &mm->table)) {
		kfree(mm);
		return NULL;
	}
	return mm;
}

/* The table must not be loaded: pt_table_destroy flushes nothing. */
void mm_destroy(struct mm *mm)
{
	int err = pt_table_destroy(mm->table);

	if (err)
		panic("pt_table_destroy: %s", pt_strerror(err));
	for (unsigned i = 0; i < mm->nr_vmas; i++)
		if (mm->vmas[i].file)
			inode_put(mm->vmas[i].file);
	kfree(mm);
}

/*
 * One region of the parent into the child with pt_copy: whole leaves, one
 * reference each.  A writable region first loses W and gains PT_COW in the
 * parent (the write fault tells a shared frame by it); the copy takes
 * those leaves as they now are.
 */
static int fork_vma(struct mm *parent, struct mm *child, const struct vma *v,
		    struct pt_flush *fl)
{
	uint64_t len = v->end - v->start;
	int err = 0;

	if (v->prot & PROT_WRITE)
		err = pt_protect(parent->table, v->start, len, PT_COW, PT_W, fl);
	return err ? err : pt_copy(child->table, parent->table, v->start, len, 0, fl);
}

/* Copy-on-write copy of the whole user half, region by region. */
static int fork_space(struct mm *parent, struct mm **out)
{
	struct mm *child = mm_create();
	struct pt_flush fl;
	int err = 0;

	if (!child)
		return -ENOMEM;
	for (unsigned i = 0; i < parent->nr_vmas; i++)
		mm_add_vma(child, &parent->vmas[i]); /* same count: cannot fail */
	child->brk_start = parent->brk_start;
	child->brk = parent->brk;
	pt_flush_init(&fl, parent->table);
	for (unsigned i = 0; !err && i < parent->nr_vmas; i++)
		err = fork_vma(parent, child, &parent->vmas[i], &fl);
	pt_flush_finish(&fl);
	mm_stats.forks++;
	if (err) {
		mm_destroy(child);
		return pt_errno(err);
	}
	*out = child;
	return 0;
}

int mm_fork(struct mm *parent, struct mm **out)
{
	return CHARGED(&mm_stats.fork_ptkit_ticks, &mm_stats.fork_ticks, fork_space(parent, out));
}

/* ---- page cache: read-only file pages shared by every mapping ---- */

#define CACHE_SLOTS (PAGE / sizeof(uint64_t))
static struct inode *cached[64];
static unsigned nr_cached;

static int cache_frame(struct inode *ino, uint64_t off, uint64_t *pa)
{
	uint64_t idx = off / PAGE;

	if (!ino->cache) {
		if (nr_cached == 64 || !(ino->cache = kalloc()))
			return -ENOMEM;
		cached[nr_cached++] = ino;
	}
	if (!ino->cache[idx]) {
		int err = pt_frame_alloc(&phys, &ino->cache[idx]);
		if (err)
			return -ENOMEM;
		fs_pread(ino, pa_to_kva(ino->cache[idx]), PAGE, off);
		arch_sync_icache(pa_to_kva(ino->cache[idx]));
	}
	*pa = ino->cache[idx];
	return 0;
}

void mm_drop_page_cache(void)
{
	for (unsigned i = 0; i < nr_cached; i++) {
		for (unsigned j = 0; j < CACHE_SLOTS; j++)
			if (cached[i]->cache[j])
				pt_frame_put(&phys, cached[i]->cache[j]);
		kfree(cached[i]->cache);
		cached[i]->cache = NULL;
	}
	nr_cached = 0;
}

uint64_t mm_page_cache_frames(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < nr_cached; i++)
		for (unsigned j = 0; j < CACHE_SLOTS; j++)
			n += cached[i]->cache[j] != 0;
	return n;
}

/* ---- faults ---- */

/* A page of a read-only region that lies wholly in an initramfs file. */
static bool cacheable(const struct vma *v, uint64_t page, uint64_t off)
{
	return v->file && v->file->ro_data && !(v->prot & PROT_WRITE) && page + PAGE <= v->fend &&
	       off % PAGE == 0 && off / PAGE < CACHE_SLOTS;
}

/* First touch of a page of a region. */
static int populate(struct mm *mm, const struct vma *v, uint64_t page)
{
	uint64_t off = v->foff + (page - v->start), pa;
	int err;

	if (cacheable(v, page, off)) {
		if ((err = cache_frame(v->file, off, &pa)))
			return err;
		return pt_errno(map_frame(mm, page, pa, prop_of(v->prot, false)));
	}
	if (pt_frame_alloc(&phys, &pa))
		return -ENOMEM;
	if (v->file && page < v->fend) {
		fs_pread(v->file, pa_to_kva(pa), MIN(PAGE, v->fend - page), off);
		arch_sync_icache(pa_to_kva(pa));
	}
	err = map_frame(mm, page, pa, prop_of(v->prot, true));
	pt_frame_put(&phys, pa); /* the table's reference keeps it */
	return pt_errno(err);
}

/* A write to a leaf marked PT_COW. */
static int cow(struct mm *mm, const struct pt_mapping *m)
{
	struct pt_prop prop = m->prop;
	uint64_t pa;
	int err;

	mm_stats.cow_faults++;
	if (pt_frame_refcount(&phys, m->pa) == 1) {
		mm_stats.cow_takeovers++;
		return pt_errno(pt_protect(mm->table, m->va, PAGE, PT_W, PT_COW, NULL));
	}
	if (pt_frame_alloc(&phys, &pa))
		return -ENOMEM;
	mm_stats.cow_copies++;
	memcpy(pa_to_kva(pa), pa_to_kva(m->pa), PAGE);
	prop.flags = (prop.flags | PT_W) & ~PT_COW;
	/* The leaf table stays (a 4 KiB unmap never frees its node), so the
	 * map after it needs no new node. */
	err = pt_unmap(mm->table, m->va, PAGE, NULL);
	if (!err)
		err = map_frame(mm, m->va, pa, prop);
	pt_frame_put(&phys, pa);
	return pt_errno(err);
}

static int fault(struct mm *mm, uint64_t va, bool write, bool exec)
{
	struct vma *v = find_vma(mm, va);
	struct pt_mapping m;

	mm_stats.faults++;
	if (!v || (write && !(v->prot & PROT_WRITE)) || (exec && !(v->prot & PROT_EXEC)) ||
	    !(v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EFAULT;
	if (pt_query(mm->table, PAGE_DOWN(va), &m))
		return populate(mm, v, PAGE_DOWN(va));
	if (write && !(m.prop.flags & PT_W))
		return (m.prop.flags & PT_COW) ? cow(mm, &m) : -EFAULT;
	return 0; /* already served (a stale TLB entry, or another path) */
}

int mm_fault(struct mm *mm, uint64_t va, bool write, bool exec)
{
	return CHARGED(&mm_stats.fault_ptkit_ticks, &mm_stats.fault_ticks,
		       fault(mm, va, write, exec));
}

/* ---- copies between the kernel and user memory ---- */

static int user_pa(struct mm *mm, uint64_t va, bool write, uint64_t *pa)
{
	struct pt_mapping m;

	if (va >= USER_END)
		return -EFAULT;
	for (int tries = 0; tries < 2; tries++) {
		if (!pt_query(mm->table, va, &m) && (m.prop.flags & (PT_R | PT_W | PT_X)) &&
		    (!write || (m.prop.flags & PT_W))) {
			*pa = m.pa + (va - m.va);
			return 0;
		}
		int err = mm_fault(mm, va, write, false);
		if (err)
			return err;
	}
	return -EFAULT;
}

static int copy_user(struct mm *mm, uint64_t uva, void *kbuf, size_t n, bool to_user)
{
	uint8_t *k = kbuf;

	while (n) {
		uint64_t pa, chunk = MIN(n, PAGE - (uva & (PAGE - 1)));
		int err = user_pa(mm, uva, to_user, &pa);
		if (err)
			return err == -ENOMEM ? -ENOMEM : -EFAULT;
		if (to_user)
			memcpy(pa_to_kva(pa), k, chunk);
		else
			memcpy(k, pa_to_kva(pa), chunk);
		uva += chunk, k += chunk, n -= chunk;
	}
	return 0;
}

int mm_copy_to(struct mm *mm, uint64_t uva, const void *src, size_t n)
{
	return copy_user(mm, uva, (void *)src, n, true);
}

int mm_copy_from(struct mm *mm, void *dst, uint64_t uva, size_t n)
{
	return copy_user(mm, uva, dst, n, false);
}

/* Length of the string, or -EFAULT, or -ENAMETOOLONG past max - 1. */
long mm_strncpy_from(struct mm *mm, char *dst, uint64_t uva, size_t max)
{
	for (size_t i = 0; i < max;) {
		uint64_t pa, chunk = MIN(max - i, PAGE - (uva & (PAGE - 1)));
		if (user_pa(mm, uva, false, &pa))
			return -EFAULT;
		const char *s = pa_to_kva(pa);
		for (uint64_t j = 0; j < chunk; j++, i++) {
			dst[i] = s[j];
			if (!s[j])
				return (long)i;
		}
		uva += chunk;
	}
	return -ENAMETOOLONG;
}

/* ---- brk, mmap, munmap, mprotect, mremap ---- */

long mm_brk(struct mm *mm, uint64_t addr)
{
	uint64_t old_end = PAGE_UP(mm->brk), new_end = PAGE_UP(addr);

	if (addr < mm->brk_start)
		return (long)mm->brk;
	if (new_end > old_end) {
		if (!range_free(mm, old_end, new_end) || !can_commit((new_end - old_end) / PAGE))
			return (long)mm->brk;
		struct vma *v = old_end > mm->brk_start ? find_vma(mm, old_end - 1) : NULL;
		struct vma nv = { .start = mm->brk_start, .end = new_end,
				  .prot = PROT_READ | PROT_WRITE };
		if (v)
			v->end = new_end;
		else if (mm_add_vma(mm, &nv))
			return (long)mm->brk;
	} else if (new_end < old_end && carve(mm, new_end, old_end)) {
		return (long)mm->brk;
	}
	mm->brk = addr;
	return (long)addr;
}

long mm_mmap(struct mm *mm, uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags,
	     struct inode *file, uint64_t off)
{
	struct vma v = { .prot = prot, .file = file, .foff = off };

	if (!len || (addr & (PAGE - 1)) || (off & (PAGE - 1)) || len > USER_TOP)
		return -EINVAL;
	len = PAGE_UP(len);
	if (!file && (prot & PROT_WRITE) && !can_commit(len / PAGE))
		return -ENOMEM;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr + len > USER_TOP || addr + len < addr)
			return -ENOMEM;
		if (!range_free(mm, addr, addr + len) && (flags & MAP_FIXED_NOREPLACE))
			return -EEXIST;
		int err = carve(mm, addr, addr + len);
		if (err)
			return err;
	} else if (!addr || addr + len > USER_TOP || !range_free(mm, addr, addr + len)) {
		addr = find_gap(mm, len);
		if (!addr)
			return -ENOMEM;
	}
	v.start = addr;
	v.end = addr + len;
	v.fend = file ? addr + (file->size > off ? file->size - off : 0) : 0;
	int err = add_merged(mm, &v);
	return err ? err : (long)addr;
}

long mm_munmap(struct mm *mm, uint64_t addr, uint64_t len)
{
	if ((addr & (PAGE - 1)) || !len || addr + len > USER_END)
		return -EINVAL;
	return carve(mm, addr, addr + PAGE_UP(len));
}

/* Leaves lose W (PT_COW where the region is writable: the next write
 * takes the frame over or copies it, as after fork). */
long mm_mprotect(struct mm *mm, uint64_t addr, uint64_t len, uint32_t prot)
{
	uint64_t end = addr + PAGE_UP(len);
	struct pt_prop p = prop_of(prot, false);
	int err;

	if ((addr & (PAGE - 1)) || end > USER_END || end < addr)
		return -EINVAL;
	if (len == 0)
		return 0;
	if ((err = vma_split(mm, addr)) || (err = vma_split(mm, end)))
		return err;
	for (unsigned i = 0; i < mm->nr_vmas; i++)
		if (mm->vmas[i].start >= addr && mm->vmas[i].end <= end)
			mm->vmas[i].prot = prot;
	p.flags &= ~PT_U;
	return pt_errno(pt_protect(mm->table, addr, end - addr, p.flags,
				   (PT_R | PT_W | PT_X | PT_COW) & ~p.flags, NULL));
}

/* mremap's move: the leaves and their frames go to `to`, whole leaf
 * tables where the distance allows; nothing is copied, no count changes. */
static int move_range(struct mm *mm, uint64_t from, uint64_t to, uint64_t len)
{
	return pt_errno(pt_move(mm->table, from, to, len, NULL));
}

/* MREMAP_FIXED is not supported (-EINVAL): busybox's glibc never asks. */
long mm_mremap(struct mm *mm, uint64_t old, uint64_t old_len, uint64_t new_len,
	       uint32_t flags)
{
	struct vma *v = find_vma(mm, old), nv;
	uint64_t dest;
	int err;

	mm_stats.mremap_calls++;
	old_len = PAGE_UP(old_len);
	new_len = PAGE_UP(new_len);
	if ((old & (PAGE - 1)) || !new_len || (flags & ~MREMAP_MAYMOVE))
		return -EINVAL;
	if (!v || old + old_len > v->end)
		return -EFAULT;
	if (new_len <= old_len) {
		if (new_len < old_len && (err = carve(mm, old + new_len, old + old_len)))
			return err;
		return (long)old;
	}
	if ((v->prot & PROT_WRITE) && !can_commit((new_len - old_len) / PAGE))
		return -ENOMEM;
	if (old + old_len == v->end && range_free(mm, v->end, old + new_len) &&
	    old + new_len <= MMAP_TOP) {
		v->end = old + new_len;
		return (long)old;
	}
	if (!(flags & MREMAP_MAYMOVE) || !(dest = find_gap(mm, new_len)))
		return -ENOMEM;
	nv = *v;
	nv.foff += old - v->start;
	nv.fend = nv.file ? dest + (v->fend - old) : 0;
	nv.start = dest;
	nv.end = dest + new_len;
	if (mm->nr_vmas + 2 > MAX_VMAS)
		return -ENOMEM;
	mm_stats.mremap_moves++;
	if ((err = move_range(mm, old, dest, old_len)) || (err = carve(mm, old, old + old_len)) ||
	    (err = mm_add_vma(mm, &nv)))
		return err;
	return (long)dest;
}
