/* SPDX-License-Identifier: MPL-2.0 */
/*
 * kernel.h - the example kernel's shared declarations (examples/kernel).
 *
 * Layers: arch/ARCH/ (arch.h, syscalls.h, arch.c, entry.S: boot, traps,
 * system call entry, context switch, user registers), mm.c (address
 * spaces: ptkit glue only), proc.c (processes, scheduler, ELF loader,
 * signals), fs.c (initramfs, tmpfs, devices, pipes, file descriptors),
 * sys.c (the system call table).
 */
#ifndef EXK_KERNEL_H
#define EXK_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ptkit.h>

#include "arch.h"
#include "kprintf.h"

#define PAGE 4096ull
#define PAGE_DOWN(x) ((x) & ~(PAGE - 1))
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Linux errno values (the same on x86-64 and AArch64). */
enum {
	EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7,
	ENOEXEC = 8, EBADF = 9, ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13,
	EFAULT = 14, EBUSY = 16, EEXIST = 17, EXDEV = 18, ENODEV = 19, ENOTDIR = 20, EISDIR = 21,
	EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOTTY = 25, EFBIG = 27, ENOSPC = 28,
	ESPIPE = 29, EROFS = 30, EPIPE = 32, ERANGE = 34, ENAMETOOLONG = 36,
	ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40,
};

/* Signal numbers (the same on x86-64 and AArch64). */
enum { SIGILL = 4, SIGBUS = 7, SIGFPE = 8, SIGKILL = 9, SIGSEGV = 11, SIGCHLD = 17, SIGSTOP = 19 };

/* ---- arch (arch/ARCH/: arch.c, entry.S) ---- */

/* arch.h gives KOFF, ARCH_*, the per-arch ABI constants and struct uregs,
 * whose `tls` is the thread pointer (FS base, TPIDR_EL0); the rest of a
 * struct uregs is the architecture's own business. */
struct mm;

void arch_putc(char c);
_Noreturn void arch_exit(unsigned status);
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void arch_invalidate(const struct pt_flush_info *info);
/* Extra kernel mappings (devices) and loading the kernel table. */
void arch_use_kernel_table(struct pt_table *kernel);
/* The user table of the process in kernel-stack slot `slot` (root 0: none). */
void arch_load_user(uint64_t root, unsigned slot);
/* Makes p's registers, kernel stack and table the current ones. */
void arch_enter_proc(struct uregs *u, uint64_t kstack_top, uint64_t root, unsigned slot);
/* The first kernel stack pointer of a new process: switch_to to it returns
 * to user mode with its uregs. */
uint64_t arch_new_kstack(uint64_t top);
/* File bytes were written into the frame at kva: make them what
 * instruction fetches see. */
void arch_sync_icache(const void *kva);
void arch_fpu_save(void *area);
void arch_fpu_restore(const void *area);
uint64_t arch_ticks(void);   /* for the figures: cycles, or instructions with icount */
uint64_t arch_now_ns(void);
uint64_t arch_hwcap(void);
/* Serves the calls only this architecture has (arch_prctl). */
long arch_syscall(long nr, const long *a, bool *handled);
/* The registers of a system call: its number, its six arguments. */
long arch_syscall_args(struct uregs *u, long a[6]);
void arch_set_return(struct uregs *u, long ret);
/* Back to the system call instruction, to make call nr again. */
void arch_restart(struct uregs *u, long nr);
/* A fresh program at entry with stack sp; a fork child (return 0, sp). */
void arch_exec_regs(struct uregs *u, uint64_t entry, uint64_t sp);
void arch_fork_regs(struct uregs *u, uint64_t newsp);
/* A call of handler(sig, info, ctx) returning to restorer, sp at info. */
int arch_signal_regs(struct uregs *u, uint64_t handler, uint64_t restorer, uint64_t sp,
		     const uint64_t args[3]);
/* sigreturn: the saved registers, made safe for user mode (tls kept);
 * returns the saved return register, which the call returns. */
long arch_sigreturn_regs(struct uregs *u, const struct uregs *saved);
/* Where a handler without SA_RESTORER returns (0: nowhere, it dies);
 * the mappings every program gets for it. */
uint64_t arch_sigreturn_trampoline(void);
int arch_mm_setup(struct mm *mm);
uint64_t arch_user_pc(const struct uregs *u);
uint64_t arch_user_sp(const struct uregs *u);

/* entry.S */
void switch_to(uint64_t *save_sp, uint64_t new_sp);
_Noreturn void ret_to_user(void);

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
	uint64_t mremap_calls, mremap_moves, forks;
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

#define MAX_PROCS 64 /* slots: process table, kernel stacks (AArch64: ASIDs) */

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
	uint64_t ksp;             /* saved kernel stack pointer (switch_to) */
	unsigned slot;            /* index in the process table and of its kernel stack */
	uint64_t sig_pending, sig_blocked, sig_restore;
	bool restore_mask;        /* sigsuspend: the frame keeps sig_restore */
	uint8_t *kbuf;            /* a frame for copying between user and files */
	struct uregs uregs;
	uint8_t fpu[ARCH_FPU_SIZE] __attribute__((aligned(16)));
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
/* A fault from user mode: a page fault (read, write or fetch) at va, or
 * something that kills the process with `sig`. */
enum fault_kind { FAULT_READ, FAULT_WRITE, FAULT_EXEC, FAULT_OTHER };
void user_fault(uint64_t va, enum fault_kind kind, int sig);
void kernel_start(uint64_t ram_start, uint64_t ram_end, uint64_t pool_pa, const void *initrd,
		  uint64_t initrd_len);

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
