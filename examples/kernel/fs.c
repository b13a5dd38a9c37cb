/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fs.c - one tree of inodes in RAM: the initramfs (read-only, its bytes
 * stay in the Multiboot module), /tmp (writable, data in frames), /dev
 * (null, zero, console), pipes, and the file-descriptor system calls.
 */
#include "kernel.h"

#define S_IFMT 0170000
#define S_IFIFO 0010000
#define S_IFCHR 0020000
#define S_IFDIR 0040000
#define S_IFREG 0100000
#define S_IFLNK 0120000
#define MAX_PAGES (PAGE / sizeof(uint64_t)) /* tmpfs files: 2 MiB */
#define PIPE_SIZE PAGE
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR 0x200
#define AT_EMPTY_PATH 0x1000

struct inode *fs_root;
static struct inode *tmp_dir;
static uint64_t next_ino = 1;

struct pipe {
	uint8_t *buf;
	uint32_t head, count, readers, writers;
};

/* ---- inodes ---- */

static struct inode *inode_new(enum itype type, uint32_t mode)
{
	struct inode *i = kalloc();

	if (i) {
		i->type = type;
		i->mode = mode & 07777;
		i->ino = next_ino++;
	}
	return i;
}

static void truncate_pages(struct inode *i, uint64_t size)
{
	if (!i->pages)
		return;
	for (uint64_t p = PAGE_UP(size) / PAGE; p < MAX_PAGES; p++)
		if (i->pages[p]) {
			pt_frame_put(&phys, i->pages[p]);
			i->pages[p] = 0;
		}
	if (size % PAGE && i->pages[size / PAGE])
		memset((uint8_t *)pa_to_kva(i->pages[size / PAGE]) + size % PAGE, 0,
		       PAGE - size % PAGE);
}

void inode_get(struct inode *i)
{
	i->refs++;
}

/* Freed once it has neither a name nor a user. */
void inode_put(struct inode *i)
{
	if (--i->refs || i->linked)
		return;
	if (i->type != I_LNK) /* a tmpfs symlink's frame holds its target */
		truncate_pages(i, 0);
	if (i->pages)
		kfree(i->pages);
	kfree(i);
}

static struct inode *child(struct inode *dir, const char *name, size_t len)
{
	for (struct inode *c = dir->children; c; c = c->next)
		if (strlen(c->name) == len && !memcmp(c->name, name, len))
			return c;
	return NULL;
}

static void link_in(struct inode *dir, struct inode *i, const char *name, size_t len)
{
	memcpy(i->name, name, MIN(len, sizeof(i->name) - 1));
	i->parent = dir;
	i->next = dir->children;
	dir->children = i;
	i->linked = true;
	i->refs++;
}

static void unlink_from(struct inode *i)
{
	struct inode **pp = &i->parent->children;

	while (*pp != i)
		pp = &(*pp)->next;
	*pp = i->next;
	i->linked = false;
	inode_put(i);
}

/* ---- paths ---- */

static int resolve(struct inode *dir, const char *path, bool follow, int depth,
		   struct inode **out);

/* Symlink targets: in the initramfs, or in the frame of a /tmp link. */
static const char *link_target(const struct inode *lnk)
{
	return lnk->ro_data ? (const char *)lnk->ro_data : (const char *)lnk->pages;
}

static int follow_link(struct inode *dir, struct inode *lnk, int depth, struct inode **out)
{
	char target[256];

	if (depth > 8)
		return -ELOOP;
	strcpy_n(target, link_target(lnk), MIN(sizeof(target), lnk->size + 1));
	return resolve(dir, target, true, depth + 1, out);
}

/* One component: "." and ".." included, symlinks followed if asked. */
static int step(struct inode *dir, const char *name, size_t len, bool follow, int depth,
		struct inode **out)
{
	struct inode *c;

	if (dir->type != I_DIR)
		return -ENOTDIR;
	if (len == 0 || (len == 1 && name[0] == '.')) {
		*out = dir;
		return 0;
	}
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		*out = dir->parent ? dir->parent : dir;
		return 0;
	}
	if (!(c = child(dir, name, len)))
		return -ENOENT;
	if (c->type == I_LNK && follow)
		return follow_link(dir, c, depth, out);
	*out = c;
	return 0;
}

/* The directory holding the last component, and that component. */
static int resolve_parent(struct inode *dir, const char *path, int depth, struct inode **pdir,
			  const char **last, size_t *last_len)
{
	int err;

	if (*path == '/')
		dir = fs_root;
	for (;;) {
		while (*path == '/')
			path++;
		const char *end = path;
		while (*end && *end != '/')
			end++;
		const char *rest = end;
		while (*rest == '/')
			rest++;
		if (!*rest) {
			*pdir = dir, *last = path, *last_len = (size_t)(end - path);
			return dir->type == I_DIR ? 0 : -ENOTDIR;
		}
		if ((err = step(dir, path, (size_t)(end - path), true, depth, &dir)))
			return err;
		path = rest;
	}
}

static int resolve(struct inode *dir, const char *path, bool follow, int depth,
		   struct inode **out)
{
	const char *last;
	size_t len;
	int err = resolve_parent(dir, path, depth, &dir, &last, &len);

	return err ? err : step(dir, last, len, follow, depth, out);
}

int fs_lookup(struct inode *cwd, const char *path, bool follow, struct inode **out)
{
	if (!strcmp(path, "/proc/self/exe") && cur && cur->exe) {
		*out = cur->exe; /* busybox re-executes itself through it */
		return 0;
	}
	if (!*path)
		return -ENOENT;
	return resolve(cwd, path, follow, 0, out);
}

/* Creates a file or directory at path (its parent must be writable). */
static int create(struct inode *cwd, const char *path, enum itype type, uint32_t mode,
		  struct inode **out)
{
	struct inode *dir, *i;
	const char *name;
	size_t len;
	int err = resolve_parent(cwd, path, 0, &dir, &name, &len);

	if (err)
		return err;
	if (len == 0 || child(dir, name, len))
		return -EEXIST;
	if (len >= sizeof(i->name))
		return -ENAMETOOLONG;
	if (!dir->writable_dir)
		return -EROFS;
	if (!(i = inode_new(type, mode)))
		return -ENOMEM;
	i->writable_dir = type == I_DIR;
	link_in(dir, i, name, len);
	*out = i;
	return 0;
}

/* ---- the initramfs ---- */

static uint64_t hex8(const char *s)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v * 16 + (uint64_t)(s[i] <= '9' ? s[i] - '0' : (s[i] | 32) - 'a' + 10);
	return v;
}

/* Creates the missing directories of path, then the entry itself. */
static void cpio_entry(const char *path, uint32_t mode, const uint8_t *data, uint64_t size)
{
	struct inode *dir = fs_root, *i;

	for (;;) {
		while (*path == '/')
			path++;
		const char *end = path;
		while (*end && *end != '/')
			end++;
		if (!*end)
			break;
		if (!(i = child(dir, path, (size_t)(end - path)))) {
			if (!(i = inode_new(I_DIR, 0755)))
				panic("initramfs: out of memory");
			link_in(dir, i, path, (size_t)(end - path));
		}
		dir = i;
		path = end;
	}
	if (!*path || (path[0] == '.' && !path[1]) || child(dir, path, strlen(path)))
		return;
	enum itype t = (mode & S_IFMT) == S_IFDIR ? I_DIR : (mode & S_IFMT) == S_IFLNK ? I_LNK : I_REG;
	if (!(i = inode_new(t, mode)))
		panic("initramfs: out of memory");
	i->ro_data = data;
	i->size = size;
	link_in(dir, i, path, strlen(path));
}

static struct inode *mkdir_boot(struct inode *dir, const char *name)
{
	struct inode *i = child(dir, name, strlen(name));

	if (!i) {
		i = inode_new(I_DIR, 0755);
		if (!i)
			panic("fs: out of memory");
		link_in(dir, i, name, strlen(name));
	}
	return i;
}

static void mkdev(struct inode *dev, const char *name, unsigned kind)
{
	struct inode *i = inode_new(I_CHR, 0666);

	if (!i)
		panic("fs: out of memory");
	i->dev = kind;
	link_in(dev, i, name, strlen(name));
}

void fs_init(const uint8_t *cpio, uint64_t len)
{
	uint64_t off = 0, files = 0;

	fs_root = inode_new(I_DIR, 0755);
	fs_root->linked = true; /* never freed, as if named */
	while (off + 110 <= len && !memcmp(cpio + off, "070701", 6)) {
		const char *h = (const char *)cpio + off;
		uint64_t mode = hex8(h + 14), size = hex8(h + 54), namesz = hex8(h + 94);
		const char *name = h + 110;
		uint64_t data = (off + 110 + namesz + 3) & ~3ull;
		if (!strcmp(name, "TRAILER!!!"))
			break;
		cpio_entry(name, (uint32_t)mode, cpio + data, size);
		files++;
		off = (data + size + 3) & ~3ull;
	}
	tmp_dir = mkdir_boot(fs_root, "tmp");
	tmp_dir->writable_dir = true;
	tmp_dir->mode = 01777;
	struct inode *dev = mkdir_boot(fs_root, "dev");
	mkdev(dev, "null", DEV_NULL);
	mkdev(dev, "zero", DEV_ZERO);
	mkdev(dev, "console", DEV_CONSOLE);
	kprintf("[kernel] initramfs: %lu entries\n", files);
}

static void remove_tree(struct inode *dir)
{
	while (dir->children) {
		struct inode *c = dir->children;
		remove_tree(c);
		unlink_from(c);
	}
}

/* What /tmp still holds goes, so that the leak check sees every frame. */
void fs_finish(void)
{
	remove_tree(tmp_dir);
}

/* ---- reading and writing ---- */

static long tmpfs_read(struct inode *i, uint8_t *buf, size_t n, uint64_t off)
{
	if (off >= i->size)
		return 0;
	n = MIN(n, i->size - off);
	for (size_t done = 0; done < n;) {
		uint64_t p = (off + done) / PAGE, o = (off + done) % PAGE, c = MIN(n - done, PAGE - o);
		if (i->pages && i->pages[p])
			memcpy(buf + done, (uint8_t *)pa_to_kva(i->pages[p]) + o, c);
		else
			memset(buf + done, 0, c);
		done += c;
	}
	return (long)n;
}

static long tmpfs_write(struct inode *i, const uint8_t *buf, size_t n, uint64_t off)
{
	if (off + n > MAX_PAGES * PAGE)
		return -EFBIG;
	if (!i->pages && !(i->pages = kalloc()))
		return -ENOSPC;
	for (size_t done = 0; done < n;) {
		uint64_t p = (off + done) / PAGE, o = (off + done) % PAGE, c = MIN(n - done, PAGE - o);
		if (!i->pages[p] && pt_frame_alloc(&phys, &i->pages[p]))
			return done ? (long)done : -ENOSPC;
		memcpy((uint8_t *)pa_to_kva(i->pages[p]) + o, buf + done, c);
		done += c;
		i->size = MAX(i->size, off + done);
	}
	return (long)n;
}

/* Whole or partial: bytes of a regular file at off, for reads and maps. */
long fs_pread(struct inode *i, void *buf, size_t n, uint64_t off)
{
	if (i->type == I_DIR)
		return -EISDIR;
	if (!i->ro_data)
		return tmpfs_read(i, buf, n, off);
	if (off >= i->size)
		return 0;
	n = MIN(n, i->size - off);
	memcpy(buf, i->ro_data + off, n);
	return (long)n;
}

static long pipe_read(struct file *f, uint8_t *buf, size_t n)
{
	struct pipe *p = f->pipe;

	while (!p->count) {
		if (!p->writers)
			return 0;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (signal_pending())
			return -EINTR;
		sleep_on(p);
	}
	n = MIN(n, p->count);
	for (size_t k = 0; k < n; k++)
		buf[k] = p->buf[(p->head + k) % PIPE_SIZE];
	p->head = (p->head + (uint32_t)n) % PIPE_SIZE;
	p->count -= (uint32_t)n;
	wakeup(p);
	return (long)n;
}

/* Writes of at most PIPE_SIZE bytes are atomic, as PIPE_BUF asks. */
static long pipe_write(struct file *f, const uint8_t *buf, size_t n)
{
	struct pipe *p = f->pipe;

	while (p->readers && PIPE_SIZE - p->count < MIN(n, PIPE_SIZE)) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (signal_pending())
			return -EINTR;
		sleep_on(p);
	}
	if (!p->readers) {
		signal_send(cur, 13); /* SIGPIPE */
		return -EPIPE;
	}
	n = MIN(n, PIPE_SIZE - p->count);
	for (size_t k = 0; k < n; k++)
		p->buf[(p->head + p->count + k) % PIPE_SIZE] = buf[k];
	p->count += (uint32_t)n;
	wakeup(p);
	return (long)n;
}

long fs_read(struct file *f, void *buf, size_t n, uint64_t off)
{
	if (f->pipe)
		return pipe_read(f, buf, n);
	switch (f->inode->type) {
	case I_CHR:
		if (f->inode->dev == DEV_ZERO) {
			memset(buf, 0, n);
			return (long)n;
		}
		return 0; /* /dev/null; the console has no input */
	case I_REG:
		return fs_pread(f->inode, buf, n, off);
	default:
		return -EISDIR;
	}
}

long fs_write(struct file *f, const void *buf, size_t n)
{
	struct inode *i = f->inode;

	if (f->pipe)
		return pipe_write(f, buf, n);
	if (i->type == I_CHR) {
		if (i->dev == DEV_CONSOLE)
			for (size_t k = 0; k < n; k++)
				arch_putc(((const char *)buf)[k]);
		return (long)n;
	}
	if (i->type != I_REG)
		return -EISDIR;
	if (i->ro_data)
		return -EROFS;
	if (f->flags & O_APPEND)
		f->off = i->size;
	long r = tmpfs_write(i, buf, n, f->off);
	if (r > 0)
		f->off += (uint64_t)r;
	return r;
}

/* ---- open files ---- */

struct file *file_get(struct file *f)
{
	f->refs++;
	return f;
}

void file_put(struct file *f)
{
	if (--f->refs)
		return;
	if (f->pipe) {
		struct pipe *p = f->pipe;
		if (f->pipe_write)
			p->writers--;
		else
			p->readers--;
		wakeup(p);
		if (!p->readers && !p->writers) {
			kfree(p->buf);
			kfree(p);
		}
	}
	if (f->inode)
		inode_put(f->inode);
	kfree(f);
}

static struct file *file_new(struct inode *i, uint32_t flags)
{
	struct file *f = kalloc();

	if (f) {
		f->refs = 1;
		f->flags = flags & ~(uint32_t)O_CLOEXEC;
		f->inode = i;
		if (i)
			inode_get(i);
	}
	return f;
}

int file_open_path(struct inode *cwd, const char *path, uint32_t flags, uint32_t mode,
		   struct file **out)
{
	struct inode *i;
	int err = fs_lookup(cwd, path, !(flags & O_NOFOLLOW), &i);

	if (err == -ENOENT && (flags & O_CREAT))
		err = create(cwd, path, I_REG, mode & ~(cur ? cur->umask : 0), &i);
	else if (!err && (flags & O_CREAT) && (flags & O_EXCL))
		err = -EEXIST;
	if (err)
		return err;
	if (i->type == I_LNK)
		return -ELOOP;
	if ((flags & O_DIRECTORY) && i->type != I_DIR)
		return -ENOTDIR;
	if ((flags & O_ACCMODE) && i->type == I_DIR)
		return -EISDIR;
	if ((flags & O_ACCMODE) && i->type == I_REG && i->ro_data)
		return -EROFS;
	if ((flags & O_TRUNC) && i->type == I_REG && (flags & O_ACCMODE)) {
		truncate_pages(i, 0);
		i->size = 0;
	}
	if (!(*out = file_new(i, flags)))
		return -ENOMEM;
	return 0;
}

static struct file *fd_file(long fd)
{
	return fd >= 0 && fd < MAX_FDS ? cur->fds[fd] : NULL;
}

static long fd_install(struct file *f, long min, bool cloexec)
{
	for (long fd = min; fd < MAX_FDS; fd++) {
		if (!cur->fds[fd]) {
			cur->fds[fd] = f;
			cur->cloexec = (cur->cloexec & ~(1ull << fd)) | ((uint64_t)cloexec << fd);
			return fd;
		}
	}
	return -EMFILE;
}

static long fd_close(long fd)
{
	struct file *f = fd_file(fd);

	if (!f)
		return -EBADF;
	cur->fds[fd] = NULL;
	file_put(f);
	return 0;
}

/* ---- system calls ---- */

static long get_path(uint64_t uva, char *buf)
{
	long n = mm_strncpy_from(cur->mm, buf, uva, 256);
	return n < 0 ? n : 0;
}

/* The directory a *at() call is relative to. */
static long at_dir(long dirfd, struct inode **dir)
{
	if ((int)dirfd == AT_FDCWD) {
		*dir = cur->cwd;
		return 0;
	}
	struct file *f = fd_file(dirfd);
	if (!f || !f->inode)
		return -EBADF;
	*dir = f->inode;
	return 0;
}

static long do_read(struct file *f, uint64_t ubuf, size_t n, int64_t pos)
{
	long total = 0;
	bool seekable = !f->pipe && f->inode->type == I_REG;
	/* Files and /dev/zero fill the whole buffer, as on Linux (dd counts
	 * short reads as blocks); pipes and the console return what they have. */
	bool fill = seekable || (!f->pipe && f->inode->type == I_CHR && f->inode->dev == DEV_ZERO);

	if ((f->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	while (n) {
		size_t chunk = MIN(n, PAGE);
		uint64_t off = pos >= 0 ? (uint64_t)pos + (uint64_t)total : f->off;
		long r = fs_read(f, cur->kbuf, chunk, off);
		if (r <= 0)
			return total ? total : r;
		if (mm_copy_to(cur->mm, ubuf, cur->kbuf, (size_t)r))
			return total ? total : -EFAULT;
		if (seekable && pos < 0)
			f->off += (uint64_t)r;
		total += r, ubuf += (uint64_t)r, n -= (size_t)r;
		if ((size_t)r < chunk || !fill)
			break;
	}
	return total;
}

static long do_write(struct file *f, uint64_t ubuf, size_t n)
{
	long total = 0;

	if (!(f->flags & O_ACCMODE))
		return -EBADF;
	while (n) {
		size_t chunk = MIN(n, PAGE);
		if (mm_copy_from(cur->mm, cur->kbuf, ubuf, chunk))
			return total ? total : -EFAULT;
		long r = fs_write(f, cur->kbuf, chunk);
		if (r <= 0)
			return total ? total : r;
		total += r, ubuf += (uint64_t)r, n -= (size_t)r;
	}
	return total;
}

static long do_iov(long fd, uint64_t uiov, long cnt, bool write)
{
	struct file *f = fd_file(fd);
	long total = 0;

	if (!f)
		return -EBADF;
	for (long k = 0; k < cnt; k++) {
		uint64_t iov[2];
		if (mm_copy_from(cur->mm, iov, uiov + 16 * (uint64_t)k, 16))
			return -EFAULT;
		if (!iov[1])
			continue;
		long r = write ? do_write(f, iov[0], iov[1]) : do_read(f, iov[0], iov[1], -1);
		if (r < 0)
			return total ? total : r;
		total += r;
		if ((uint64_t)r < iov[1])
			break;
	}
	return total;
}

static long do_stat(struct inode *i, struct file *f, uint64_t ubuf)
{
	static const uint32_t type_bits[] = { S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFIFO };
	static const uint64_t rdev[] = { 0, 0x103, 0x105, 0x501 };
	uint64_t st[18] = { 0 };

	if (f && f->pipe) {
		st[1] = 0x100000 + (uint64_t)(uintptr_t)f->pipe % 100000;
		arch_stat_mode(st, S_IFIFO | 0600, 0);
	} else {
		st[1] = i->ino;
		arch_stat_mode(st, type_bits[i->type] | i->mode, i->type == I_CHR ? rdev[i->dev] : 0);
		st[6] = i->size;
		st[8] = (i->size + 511) / 512;
	}
	st[0] = 1;             /* st_dev */
	st[7] = PAGE;          /* st_blksize */
	return mm_copy_to(cur->mm, ubuf, st, ARCH_STAT_SIZE) ? -EFAULT : 0;
}

static long sys_newfstatat(long dirfd, uint64_t upath, uint64_t ubuf, long flags)
{
	char path[256];
	struct inode *dir, *i;
	long err;

	if ((err = get_path(upath, path)))
		return err;
	if (!*path && (flags & AT_EMPTY_PATH)) {
		struct file *f = fd_file(dirfd);
		if (!f)
			return -EBADF;
		return do_stat(f->inode, f, ubuf);
	}
	if ((err = at_dir(dirfd, &dir)) ||
	    (err = fs_lookup(dir, path, !(flags & AT_SYMLINK_NOFOLLOW), &i)))
		return err;
	return do_stat(i, NULL, ubuf);
}

static long sys_openat(long dirfd, uint64_t upath, long flags, long mode)
{
	char path[256];
	struct inode *dir;
	struct file *f;
	long err;

	if ((err = get_path(upath, path)) || (err = at_dir(dirfd, &dir)) ||
	    (err = file_open_path(dir, path, (uint32_t)flags, (uint32_t)mode, &f)))
		return err;
	if ((err = fd_install(f, 0, flags & O_CLOEXEC)) < 0)
		file_put(f);
	return err;
}

static long sys_lseek(long fd, int64_t off, long whence)
{
	struct file *f = fd_file(fd);
	int64_t base;

	if (!f)
		return -EBADF;
	if (f->pipe)
		return -ESPIPE;
	base = whence == 0 ? 0 : whence == 1 ? (int64_t)f->off : whence == 2 ? (int64_t)f->inode->size : -1;
	if (base < 0 || base + off < 0)
		return -EINVAL;
	f->off = (uint64_t)(base + off);
	return (long)f->off;
}

static long sys_getdents64(long fd, uint64_t ubuf, uint64_t size)
{
	static const uint8_t dtype[] = { 8, 4, 10, 2, 1 };
	struct file *f = fd_file(fd);
	uint64_t pos = 0, idx = 0;
	uint8_t *k = cur->kbuf;

	if (!f || !f->inode)
		return -EBADF;
	if (f->inode->type != I_DIR)
		return -ENOTDIR;
	struct inode *c = f->inode->children;
	for (; c || idx < 2; idx++) {
		const char *name = idx == 0 ? "." : idx == 1 ? ".." : c->name;
		struct inode *t = idx == 0 ? f->inode : idx == 1 ? (f->inode->parent ? f->inode->parent : f->inode) : c;
		uint64_t reclen = (19 + strlen(name) + 1 + 7) & ~7ull;
		if (idx >= f->off) {
			if (pos + reclen > MIN(size, PAGE))
				break;
			memset(k + pos, 0, reclen);
			memcpy(k + pos, &t->ino, 8);
			uint64_t next = idx + 1;
			memcpy(k + pos + 8, &next, 8);
			memcpy(k + pos + 16, &reclen, 2);
			k[pos + 18] = dtype[t->type];
			memcpy(k + pos + 19, name, strlen(name));
			pos += reclen;
		}
		if (idx >= 2)
			c = c->next;
	}
	if (!pos && (c || idx < 2))
		return -EINVAL;
	f->off = idx;
	return mm_copy_to(cur->mm, ubuf, k, pos) ? -EFAULT : (long)pos;
}

static long sys_pipe2(uint64_t ufds, long flags)
{
	struct pipe *p = kalloc();
	struct file *r = file_new(NULL, (uint32_t)flags & O_NONBLOCK);
	struct file *w = file_new(NULL, ((uint32_t)flags & O_NONBLOCK) | O_WRONLY);
	int fds[2] = { -1, -1 };

	if (p && (p->buf = kalloc()) && r && w) {
		r->pipe = w->pipe = p;
		w->pipe_write = true;
		p->readers = p->writers = 1;
		fds[0] = (int)fd_install(r, 0, flags & O_CLOEXEC);
		fds[1] = fds[0] < 0 ? -1 : (int)fd_install(w, 0, flags & O_CLOEXEC);
		if (fds[1] >= 0 && !mm_copy_to(cur->mm, ufds, fds, sizeof(fds)))
			return 0;
		if (fds[0] >= 0)
			cur->fds[fds[0]] = NULL;
		if (fds[1] >= 0)
			cur->fds[fds[1]] = NULL;
		file_put(r);
		file_put(w);
		return fds[1] < 0 ? -EMFILE : -EFAULT;
	}
	if (r)
		file_put(r);
	if (w)
		file_put(w);
	if (p && p->buf)
		kfree(p->buf);
	if (p)
		kfree(p);
	return -ENOMEM;
}

static long sys_dup3(long old, long new, long flags)
{
	struct file *f = fd_file(old);

	if (!f || new < 0 || new >= MAX_FDS)
		return -EBADF;
	if (old == new)
		return new;
	if (cur->fds[new])
		fd_close(new);
	cur->fds[new] = file_get(f);
	cur->cloexec = (cur->cloexec & ~(1ull << new)) | ((uint64_t)!!(flags & O_CLOEXEC) << new);
	return new;
}

static long sys_fcntl(long fd, long cmd, long arg)
{
	struct file *f = fd_file(fd);
	long r;

	if (!f)
		return -EBADF;
	switch (cmd) {
	case 0:    /* F_DUPFD */
	case 1030: /* F_DUPFD_CLOEXEC */
		if (arg < 0 || arg >= MAX_FDS)
			return -EINVAL;
		if ((r = fd_install(f, arg, cmd == 1030)) >= 0)
			file_get(f);
		return r;
	case 1: /* F_GETFD */
		return (long)((cur->cloexec >> fd) & 1);
	case 2: /* F_SETFD */
		cur->cloexec = (cur->cloexec & ~(1ull << fd)) | ((uint64_t)(arg & 1) << fd);
		return 0;
	case 3: /* F_GETFL */
		return f->flags;
	case 4: /* F_SETFL: only the status flags change */
		f->flags = (f->flags & ~(uint32_t)(O_APPEND | O_NONBLOCK)) |
			   ((uint32_t)arg & (O_APPEND | O_NONBLOCK));
		return 0;
	default:
		return -EINVAL;
	}
}

static long sys_unlinkat(long dirfd, uint64_t upath, long flags)
{
	char path[256];
	struct inode *dir, *i;
	long err;

	if ((err = get_path(upath, path)) || (err = at_dir(dirfd, &dir)) ||
	    (err = fs_lookup(dir, path, false, &i)))
		return err;
	if (!i->parent || !i->parent->writable_dir)
		return -EROFS;
	if ((flags & AT_REMOVEDIR) && i->type != I_DIR)
		return -ENOTDIR;
	if (!(flags & AT_REMOVEDIR) && i->type == I_DIR)
		return -EISDIR;
	if (i->children)
		return -ENOTEMPTY;
	if (i == cur->cwd)
		return -EBUSY;
	unlink_from(i);
	return 0;
}

static long sys_mkdirat(long dirfd, uint64_t upath, long mode)
{
	char path[256];
	struct inode *dir, *i;
	long err;

	if ((err = get_path(upath, path)) || (err = at_dir(dirfd, &dir)))
		return err;
	return create(dir, path, I_DIR, (uint32_t)mode & ~cur->umask, &i);
}

static long sys_renameat(long olddir, uint64_t uold, long newdir, uint64_t unew)
{
	char from[256], to[256];
	struct inode *od, *nd, *i, *dir, *existing;
	const char *name;
	size_t len;
	long err;

	if ((err = get_path(uold, from)) || (err = get_path(unew, to)) ||
	    (err = at_dir(olddir, &od)) || (err = at_dir(newdir, &nd)) ||
	    (err = fs_lookup(od, from, false, &i)) ||
	    (err = resolve_parent(nd, to, 0, &dir, &name, &len)))
		return err;
	if (!i->parent || !i->parent->writable_dir || !dir->writable_dir)
		return -EROFS;
	if (!len || len >= sizeof(i->name))
		return -EINVAL;
	if ((existing = child(dir, name, len))) {
		if (existing == i)
			return 0;
		if (existing->type == I_DIR)
			return -EISDIR;
		unlink_from(existing);
	}
	inode_get(i);
	unlink_from(i);
	memset(i->name, 0, sizeof(i->name));
	link_in(dir, i, name, len);
	i->refs--;
	return 0;
}

static long sys_getcwd(uint64_t ubuf, uint64_t size)
{
	char buf[512];
	size_t pos = sizeof(buf) - 1;

	buf[pos] = 0;
	for (struct inode *i = cur->cwd; i->parent; i = i->parent) {
		size_t n = strlen(i->name);
		if (pos < n + 1)
			return -ENAMETOOLONG;
		pos -= n;
		memcpy(buf + pos, i->name, n);
		buf[--pos] = '/';
	}
	if (pos == sizeof(buf) - 1)
		buf[--pos] = '/';
	size_t len = sizeof(buf) - pos;
	if (len > size)
		return -ERANGE;
	return mm_copy_to(cur->mm, ubuf, buf + pos, len) ? -EFAULT : (long)len;
}

static long sys_chdir(uint64_t upath)
{
	char path[256];
	struct inode *i;
	long err;

	if ((err = get_path(upath, path)) || (err = fs_lookup(cur->cwd, path, true, &i)))
		return err;
	if (i->type != I_DIR)
		return -ENOTDIR;
	inode_get(i);
	inode_put(cur->cwd);
	cur->cwd = i;
	return 0;
}

static long sys_readlinkat(long dirfd, uint64_t upath, uint64_t ubuf, uint64_t size)
{
	char path[256];
	struct inode *dir, *i;
	long err;

	if ((err = get_path(upath, path)) || (err = at_dir(dirfd, &dir)))
		return err;
	if (!strcmp(path, "/proc/self/exe")) {
		static const char exe[] = "/bin/busybox";
		return mm_copy_to(cur->mm, ubuf, exe, MIN(size, sizeof(exe) - 1)) ? -EFAULT :
			(long)MIN(size, sizeof(exe) - 1);
	}
	if ((err = fs_lookup(dir, path, false, &i)))
		return err;
	if (i->type != I_LNK)
		return -EINVAL;
	size = MIN(size, i->size);
	return mm_copy_to(cur->mm, ubuf, link_target(i), size) ? -EFAULT : (long)size;
}

static long sys_faccessat(long dirfd, uint64_t upath)
{
	char path[256];
	struct inode *dir, *i;
	long err;

	if ((err = get_path(upath, path)) || (err = at_dir(dirfd, &dir)))
		return err;
	return fs_lookup(dir, path, true, &i);
}

static long sys_ftruncate(struct inode *i, int64_t len)
{
	if (len < 0)
		return -EINVAL;
	if (i->type != I_REG)
		return -EINVAL;
	if (i->ro_data)
		return -EROFS;
	if ((uint64_t)len > MAX_PAGES * PAGE)
		return -EFBIG;
	truncate_pages(i, (uint64_t)len);
	i->size = (uint64_t)len;
	return 0;
}

static long sys_truncate(uint64_t upath, int64_t len)
{
	char path[256];
	struct inode *i;
	long err;

	if ((err = get_path(upath, path)) || (err = fs_lookup(cur->cwd, path, true, &i)))
		return err;
	return sys_ftruncate(i, len);
}

static long sys_symlinkat(uint64_t utarget, long dirfd, uint64_t upath)
{
	char target[256], path[256];
	struct inode *dir, *i;
	long err;

	if ((err = get_path(utarget, target)) || (err = get_path(upath, path)) ||
	    (err = at_dir(dirfd, &dir)))
		return err;
	if ((err = create(dir, path, I_LNK, 0777, &i)))
		return err;
	if (!(i->pages = kalloc())) {
		unlink_from(i);
		return -ENOSPC;
	}
	i->size = strlen(target);
	memcpy(i->pages, target, i->size);
	return 0;
}

/* What poll reports for one descriptor: pipes by their state, anything
 * else is always ready. */
static short poll_one(long fd, short events, struct pipe **waiting)
{
	struct file *f = fd_file(fd);
	struct pipe *p;

	if (!f)
		return 32; /* POLLNVAL */
	if (!(p = f->pipe))
		return events & (1 | 4);
	if (f->pipe_write)
		return !p->readers ? 8 : (PIPE_SIZE - p->count ? (events & 4) : 0);
	if (p->count)
		return events & 1;
	if (!p->writers)
		return 16; /* POLLHUP */
	*waiting = p;
	return 0;
}

/* Blocks (any timeout but 0 waits until something is ready) on the first
 * pipe that is not: enough for busybox, which polls one descriptor. */
static long sys_poll(uint64_t ufds, uint64_t n, long timeout)
{
	struct { int fd; short events, revents; } pfd[16];

	if (n > 16)
		return -EINVAL;
	if (mm_copy_from(cur->mm, pfd, ufds, n * sizeof(pfd[0])))
		return -EFAULT;
	for (;;) {
		struct pipe *waiting = NULL;
		long ready = 0;
		for (uint64_t k = 0; k < n; k++) {
			pfd[k].revents = pfd[k].fd < 0 ? 0 : poll_one(pfd[k].fd, pfd[k].events, &waiting);
			ready += pfd[k].revents != 0;
		}
		if (ready || !timeout || !waiting) {
			if (mm_copy_to(cur->mm, ufds, pfd, n * sizeof(pfd[0])))
				return -EFAULT;
			return ready;
		}
		if (signal_pending())
			return -EINTR;
		sleep_on(waiting);
	}
}

static long sys_ioctl(long fd)
{
	return fd_file(fd) ? -ENOTTY : -EBADF; /* no terminal: not interactive */
}

long sys_fs(long nr, const long *a, bool *handled)
{
	struct file *f;

	*handled = true;
	switch (nr) {
	case SYS_read:
		return (f = fd_file(a[0])) ? do_read(f, (uint64_t)a[1], (size_t)a[2], -1) : -EBADF;
	case SYS_write:
		return (f = fd_file(a[0])) ? do_write(f, (uint64_t)a[1], (size_t)a[2]) : -EBADF;
	case SYS_open: return sys_openat(AT_FDCWD, (uint64_t)a[0], a[1], a[2]);
	case SYS_close: return fd_close(a[0]);
	case SYS_stat: return sys_newfstatat(AT_FDCWD, (uint64_t)a[0], (uint64_t)a[1], 0);
	case SYS_fstat: return (f = fd_file(a[0])) ? do_stat(f->inode, f, (uint64_t)a[1]) : -EBADF;
	case SYS_lstat:
		return sys_newfstatat(AT_FDCWD, (uint64_t)a[0], (uint64_t)a[1], AT_SYMLINK_NOFOLLOW);
	case SYS_poll: return sys_poll((uint64_t)a[0], (uint64_t)a[1], a[2]);
	case SYS_lseek: return sys_lseek(a[0], a[1], a[2]);
	case SYS_ioctl: return sys_ioctl(a[0]);
	case SYS_pread64:
		return (f = fd_file(a[0])) && !f->pipe ? do_read(f, (uint64_t)a[1], (size_t)a[2], a[3]) : -EBADF;
	case SYS_readv: return do_iov(a[0], (uint64_t)a[1], a[2], false);
	case SYS_writev: return do_iov(a[0], (uint64_t)a[1], a[2], true);
	case SYS_access: return sys_faccessat(AT_FDCWD, (uint64_t)a[0]);
	case SYS_pipe: return sys_pipe2((uint64_t)a[0], 0);
	case SYS_dup:
		if (!(f = fd_file(a[0])))
			return -EBADF;
		{
			long fd = fd_install(f, 0, false);
			if (fd >= 0)
				file_get(f);
			return fd;
		}
	case SYS_dup2: return fd_file(a[0]) ? sys_dup3(a[0], a[1], 0) : -EBADF;
	case SYS_sendfile: return -EINVAL; /* busybox falls back to read/write */
	case SYS_fcntl: return sys_fcntl(a[0], a[1], a[2]);
	case SYS_fsync: case SYS_fdatasync: return fd_file(a[0]) ? 0 : -EBADF;
	case SYS_truncate: return sys_truncate((uint64_t)a[0], a[1]);
	case SYS_ftruncate:
		return (f = fd_file(a[0])) && f->inode ? sys_ftruncate(f->inode, a[1]) : -EBADF;
	case SYS_getcwd: return sys_getcwd((uint64_t)a[0], (uint64_t)a[1]);
	case SYS_chdir: return sys_chdir((uint64_t)a[0]);
	case SYS_rename: return sys_renameat(AT_FDCWD, (uint64_t)a[0], AT_FDCWD, (uint64_t)a[1]);
	case SYS_mkdir: return sys_mkdirat(AT_FDCWD, (uint64_t)a[0], a[1]);
	case SYS_rmdir: return sys_unlinkat(AT_FDCWD, (uint64_t)a[0], AT_REMOVEDIR);
	case SYS_unlink: return sys_unlinkat(AT_FDCWD, (uint64_t)a[0], 0);
	case SYS_link: case SYS_linkat: return -EPERM; /* one name per inode */
	case SYS_symlink: return sys_symlinkat((uint64_t)a[0], AT_FDCWD, (uint64_t)a[1]);
	case SYS_symlinkat: return sys_symlinkat((uint64_t)a[0], a[1], (uint64_t)a[2]);
	case SYS_readlink:
		return sys_readlinkat(AT_FDCWD, (uint64_t)a[0], (uint64_t)a[1], (uint64_t)a[2]);
	case SYS_chmod: case SYS_fchmod: case SYS_chown: case SYS_fchown: case SYS_lchown:
	case SYS_fchmodat: case SYS_fchownat: case SYS_utimensat:
		return 0; /* no owners, no times */
	case SYS_umask: { long old = cur->umask; cur->umask = (uint32_t)a[0] & 0777; return old; }
	case SYS_getdents64: return sys_getdents64(a[0], (uint64_t)a[1], (uint64_t)a[2]);
	case SYS_openat: return sys_openat(a[0], (uint64_t)a[1], a[2], a[3]);
	case SYS_mkdirat: return sys_mkdirat(a[0], (uint64_t)a[1], a[2]);
	case SYS_newfstatat: return sys_newfstatat(a[0], (uint64_t)a[1], (uint64_t)a[2], a[3]);
	case SYS_unlinkat: return sys_unlinkat(a[0], (uint64_t)a[1], a[2]);
	case SYS_renameat: case SYS_renameat2:
		return sys_renameat(a[0], (uint64_t)a[1], a[2], (uint64_t)a[3]);
	case SYS_readlinkat:
		return sys_readlinkat(a[0], (uint64_t)a[1], (uint64_t)a[2], (uint64_t)a[3]);
	case SYS_faccessat: case SYS_faccessat2: return sys_faccessat(a[0], (uint64_t)a[1]);
	case SYS_dup3: return fd_file(a[0]) && a[0] != a[1] ? sys_dup3(a[0], a[1], a[2]) : -EINVAL;
	case SYS_ppoll: /* a timespec, NULL for forever */
		return sys_poll((uint64_t)a[0], (uint64_t)a[1], a[2] ? 0 : -1);
	case SYS_pipe2: return sys_pipe2((uint64_t)a[0], a[1]);
	default:
		*handled = false;
		return -ENOSYS;
	}
}

/* execve: descriptors marked close-on-exec go. */
void fs_close_on_exec(void)
{
	for (long fd = 0; fd < MAX_FDS; fd++)
		if ((cur->cloexec >> fd) & 1)
			fd_close(fd);
	cur->cloexec = 0;
}
