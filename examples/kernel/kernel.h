/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kernel.h - the example kernel's shared declarations (examples/kernel).
 *
 * Layers: arch.c + entry.S (x86-64: boot, traps, syscall entry, context
 * switch), mm.c (address spaces: ptkit glue only), proc.c (processes,
 * scheduler, ELF loader, signals), fs.c (initramfs, tmpfs, devices, pipes,
 * file descriptors), sys.c (the system call table).
 */
#ifndef EXK_KERNEL_H
#define EXK_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ptkit.h>

#include "kprintf.h"

/* All RAM is mapped at KOFF in the kernel half; the image runs there too. */
#define KOFF 0xffffffff80000000ull
#define PAGE 4096ull
#define PAGE_DOWN(x) ((x) & ~(PAGE - 1))
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Linux errno values (x86-64 ABI). */
enum {
	EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7,
	ENOEXEC = 8, EBADF = 9, ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13,
	EFAULT = 14, EBUSY = 16, EEXIST = 17, EXDEV = 18, ENODEV = 19, ENOTDIR = 20, EISDIR = 21,
	EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOTTY = 25, EFBIG = 27, ENOSPC = 28,
	ESPIPE = 29, EROFS = 30, EPIPE = 32, ERANGE = 34, ENAMETOOLONG = 36,
	ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40,
};

/* ---- arch (arch.c, entry.S) ---- */

/* User registers, laid out so that the tail is an iretq frame. */
struct uregs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t rip, cs, rflags, rsp, ss;
};

#define USER_CS 0x23
#define USER_SS 0x1b

void arch_putc(char c);
_Noreturn void arch_exit(unsigned status);
void arch_init(void);
void arch_load_cr3(uint64_t root);
uint64_t arch_cr3(void);
void arch_invalidate(const struct pt_flush_info *info);
void arch_set_fs(uint64_t base);
void arch_set_kstack(uint64_t top);
void arch_fpu_save(void *area);
void arch_fpu_restore(const void *area);
uint64_t arch_rdtsc(void);
uint32_t arch_hwcap(void);
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* entry.S: the current process's register save area and kernel stack. */
extern struct uregs *cur_uregs;
extern uint64_t cur_uregs_end, cur_kstack_top;
void switch_to(uint64_t *save_sp, uint64_t new_sp);
_Noreturn void ret_to_user_sysret(void);
_Noreturn void ret_to_user_iret(void);
void fork_child_start(void);

/* ---- frames and small kernel objects ---- */

extern struct pt_phys phys;
extern struct pt_table *kernel_table;
extern uint64_t frames_before_init; /* free frames when the first process started */
void *kalloc(void);          /* one zeroed 4 KiB frame, or NULL */
void kfree(void *p);
static inline void *pa_to_kva(uint64_t pa) { return (void *)(uintptr_t)(pa + KOFF); }
static inline uint64_t kva_to_pa(const void *p) { return (uint64_t)(uintptr_t)p - KOFF; }

/* ---- address spaces (mm.c: the ptkit glue) ---- */

#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4

struct inode;

/* A region of a process's virtual memory: what a fault there may map. */
struct vma {
	uint64_t start, end;
	uint32_t prot;
	struct inode *file;   /* file-backed (ELF segments, file mmap), or NULL */
	uint64_t foff;        /* file offset at start */
	uint64_t fend;        /* file bytes stop at this va; zeros after */
};

#define MAX_VMAS 80

struct mm {
	struct pt_table *table;
	uint64_t brk_start, brk;
	unsigned nr_vmas;
	struct vma vmas[MAX_VMAS]; /* sorted by start, disjoint */
};

struct mm_stats {
	uint64_t faults, cow_faults, cow_copies, cow_takeovers, oom_kills;
	uint64_t mremap_calls, mremap_moves, forks, leaves_shared;
	uint64_t fault_ticks, fault_ptkit_ticks, fork_ticks, fork_ptkit_ticks, other_ptkit_ticks;
};
extern struct mm_stats mm_stats;

#define USER_TOP 0x00007ffffffff000ull
#define STACK_TOP 0x00007ffffff00000ull
#define STACK_SIZE (8ull << 20)
#define MMAP_TOP (STACK_TOP - STACK_SIZE - (1ull << 30))

struct mm *mm_create(void);
void mm_destroy(struct mm *mm);
int mm_fork(struct mm *parent, struct mm **out);
int mm_add_vma(struct mm *mm, const struct vma *v);
int mm_fault(struct mm *mm, uint64_t va, bool write, bool exec);
int mm_copy_to(struct mm *mm, uint64_t uva, const void *src, size_t n);
int mm_copy_from(struct mm *mm, void *dst, uint64_t uva, size_t n);
long mm_strncpy_from(struct mm *mm, char *dst, uint64_t uva, size_t max);
long mm_brk(struct mm *mm, uint64_t addr);
long mm_mmap(struct mm *mm, uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags,
	     struct inode *file, uint64_t off);
long mm_munmap(struct mm *mm, uint64_t addr, uint64_t len);
long mm_mprotect(struct mm *mm, uint64_t addr, uint64_t len, uint32_t prot);
long mm_mremap(struct mm *mm, uint64_t old, uint64_t old_len, uint64_t new_len,
	       uint32_t flags);
void mm_drop_page_cache(void);
uint64_t mm_page_cache_frames(void);

/* ---- files (fs.c) ---- */

enum itype { I_REG, I_DIR, I_LNK, I_CHR, I_FIFO };

/* One object per file: a name in its directory (no hard links). */
struct inode {
	enum itype type;
	uint32_t mode;            /* permission bits */
	uint64_t ino, size;
	uint32_t refs;            /* open files and other users */
	bool linked;              /* still has its name */
	bool writable_dir;        /* creation allowed inside (tmpfs) */
	const uint8_t *ro_data;   /* initramfs bytes (files, symlink targets) */
	uint64_t *pages;          /* tmpfs: a frame of frame addresses */
	uint64_t *cache;          /* initramfs: shared frames for read-only maps */
	struct inode *parent, *children, *next;
	unsigned dev;             /* I_CHR: DEV_* */
	char name[64];
};

enum { DEV_NULL = 1, DEV_ZERO, DEV_CONSOLE };

struct pipe;
struct file {
	uint32_t refs, flags;     /* O_* access mode and status flags */
	struct inode *inode;
	struct pipe *pipe;
	bool pipe_write;
	uint64_t off;
};

#define MAX_FDS 64
#define AT_FDCWD (-100)
#define O_ACCMODE 3
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_NONBLOCK 04000
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000
#define O_CLOEXEC 02000000

void fs_init(const uint8_t *cpio, uint64_t len);
void fs_finish(void);
extern struct inode *fs_root;
int fs_lookup(struct inode *cwd, const char *path, bool follow, struct inode **out);
long fs_read(struct file *f, void *buf, size_t n, uint64_t off);
long fs_write(struct file *f, const void *buf, size_t n);
long fs_pread(struct inode *ino, void *buf, size_t n, uint64_t off);
void inode_get(struct inode *i);
void inode_put(struct inode *i);
struct file *file_get(struct file *f);
void file_put(struct file *f);
int file_open_path(struct inode *cwd, const char *path, uint32_t flags, uint32_t mode,
		   struct file **out);
long sys_fs(long nr, const long *a, bool *handled);
void fs_close_on_exec(void);

/* ---- processes (proc.c) ---- */

enum pstate { P_FREE, P_RUN, P_BLOCKED, P_ZOMBIE };

struct sigaction_k {
	uint64_t handler, flags, restorer, mask;
};

struct proc {
	int pid, ppid;
	enum pstate state;
	int exit_status;          /* wait4 encoding */
	const void *chan;         /* what a blocked process waits for */
	struct mm *mm;
	struct inode *exe, *cwd;
	struct file *fds[MAX_FDS];
	uint64_t cloexec;
	uint32_t umask;
	uint64_t fs_base;
	uint64_t ksp;             /* saved kernel stack pointer (switch_to) */
	unsigned slot;            /* index in the process table and of its kernel stack */
	uint64_t sig_pending, sig_blocked, sig_restore;
	bool restore_mask;        /* sigsuspend: the frame keeps sig_restore */
	uint8_t *kbuf;            /* a frame for copying between user and files */
	struct uregs uregs;
	uint8_t fpu[512] __attribute__((aligned(16)));
	struct sigaction_k sa[65];
};

extern struct proc *cur;
void proc_start_init(const char *path);
void sleep_on(const void *chan);
void wakeup(const void *chan);
void yield(void);
_Noreturn void do_exit(int status);
long sys_proc(long nr, const long *a, bool *handled);
void signal_send(struct proc *p, int sig);
void signal_deliver(long restart_nr);
bool signal_pending(void); /* a signal would interrupt a wait */
void user_fault(uint64_t va, uint64_t err, uint64_t vector);

/* ---- system calls (sys.c) ---- */

void syscall_dispatch(void);
void sys_report(void);
uint64_t now_ns(void);

/* libc.c */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
char *strcpy_n(char *dst, const char *src, size_t size);

#endif
