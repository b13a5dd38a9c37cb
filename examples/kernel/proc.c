/* SPDX-License-Identifier: MPL-2.0 */
/*
 * proc.c - processes: the table, a cooperative scheduler (a process runs
 * until it blocks, yields or exits), fork, execve with an ELF64 loader,
 * wait4, exit, and the few signals busybox needs (SIGCHLD to a handler,
 * SIGPIPE and kill's default action).
 */
#include "kernel.h"

#define KSTACK_SIZE (16 * 1024)
#define SIG_DFL 0
#define SIG_IGN 1
#define SA_RESTORER 0x04000000ull
#define SA_RESTART 0x10000000ull
#define SA_NODEFER 0x40000000ull
#define SA_RESETHAND 0x80000000ull
#define CLONE_VM 0x100
#define CLONE_SETTLS 0x80000
#define CLONE_PARENT_SETTID 0x100000
#define CLONE_CHILD_SETTID 0x1000000
#define WNOHANG 1

static uint8_t kstacks[MAX_PROCS][KSTACK_SIZE] __attribute__((aligned(16)));
static struct proc *procs[MAX_PROCS];
static int next_pid = 1;
static uint8_t fpu_init[ARCH_FPU_SIZE] __attribute__((aligned(16)));
struct proc *cur;

static inline uint64_t sigbit(int sig)
{
	return 1ull << (sig - 1);
}

static uint64_t kstack_top(unsigned slot)
{
	return (uint64_t)(uintptr_t)&kstacks[slot][KSTACK_SIZE];
}

static struct proc *proc_alloc(void)
{
	for (unsigned s = 0; s < MAX_PROCS; s++) {
		if (procs[s])
			continue;
		struct proc *p = kalloc();
		_Static_assert(sizeof(struct proc) <= PAGE, "struct proc fits a frame");
		if (!p || !(p->kbuf = kalloc())) {
			if (p)
				kfree(p);
			return NULL;
		}
		p->slot = s;
		p->pid = next_pid++;
		procs[s] = p;
		return p;
	}
	return NULL;
}

static void proc_free(struct proc *p)
{
	procs[p->slot] = NULL;
	kfree(p->kbuf);
	kfree(p);
}

static struct proc *find_proc(int pid)
{
	for (unsigned s = 0; s < MAX_PROCS; s++)
		if (procs[s] && procs[s]->pid == pid)
			return procs[s];
	return NULL;
}

/* ---- scheduling ---- */

static void switch_in(struct proc *p)
{
	cur = p;
	arch_enter_proc(&p->uregs, kstack_top(p->slot), pt_table_root(p->mm->table), p->slot);
	arch_fpu_restore(p->fpu);
}

/* Round robin over the runnable processes, the current one last. */
static void schedule(void)
{
	struct proc *prev = cur, *next = NULL;

	for (unsigned k = 1; k <= MAX_PROCS && !next; k++) {
		struct proc *p = procs[(prev->slot + k) % MAX_PROCS];
		if (p && p->state == P_RUN)
			next = p;
	}
	if (!next)
		panic("every process is blocked (pid %d waits)", prev->pid);
	if (next == prev)
		return;
	arch_fpu_save(prev->fpu);
	switch_in(next);
	switch_to(&prev->ksp, next->ksp);
}

bool signal_pending(void)
{
	return cur->sig_pending & ~cur->sig_blocked;
}

void sleep_on(const void *chan)
{
	cur->chan = chan;
	cur->state = P_BLOCKED;
	schedule();
}

void wakeup(const void *chan)
{
	for (unsigned s = 0; s < MAX_PROCS; s++)
		if (procs[s] && procs[s]->state == P_BLOCKED && procs[s]->chan == chan)
			procs[s]->state = P_RUN;
}

void yield(void)
{
	schedule();
}

/* ---- exit and wait ---- */

static void release_resources(struct proc *p)
{
	for (int fd = 0; fd < MAX_FDS; fd++)
		if (p->fds[fd]) {
			file_put(p->fds[fd]);
			p->fds[fd] = NULL;
		}
	if (p->cwd)
		inode_put(p->cwd);
	if (p->exe)
		inode_put(p->exe);
	p->cwd = p->exe = NULL;
	if (p->mm)
		mm_destroy(p->mm);
	p->mm = NULL;
}

_Noreturn static void finish(int status);

_Noreturn void do_exit(int status)
{
	struct proc *parent = find_proc(cur->ppid);

	arch_load_user(0, cur->slot); /* the user table goes */
	release_resources(cur);
	for (unsigned s = 0; s < MAX_PROCS; s++)
		if (procs[s] && procs[s]->ppid == cur->pid)
			procs[s]->ppid = 1;
	cur->exit_status = status;
	cur->state = P_ZOMBIE;
	if (cur->pid == 1)
		finish(status);
	if (parent) {
		signal_send(parent, SIGCHLD);
		wakeup(parent);
	}
	wakeup(find_proc(1));
	schedule();
	panic("a zombie ran");
}

static long sys_wait4(int pid, uint64_t ustatus, long options, uint64_t urusage)
{
	for (;;) {
		bool any = false;
		for (unsigned s = 0; s < MAX_PROCS; s++) {
			struct proc *p = procs[s];
			if (!p || p->ppid != cur->pid || (pid > 0 && p->pid != pid))
				continue;
			any = true;
			if (p->state != P_ZOMBIE)
				continue;
			int st = p->exit_status, cpid = p->pid;
			uint64_t zero[18] = { 0 };
			if ((ustatus && mm_copy_to(cur->mm, ustatus, &st, 4)) ||
			    (urusage && mm_copy_to(cur->mm, urusage, zero, 144)))
				return -EFAULT;
			proc_free(p);
			return cpid;
		}
		if (!any)
			return -ECHILD;
		if (options & WNOHANG)
			return 0;
		if (signal_pending())
			return -EINTR;
		sleep_on(cur);
	}
}

/* ---- fork ---- */

static long do_fork(uint64_t flags, uint64_t newsp, uint64_t ptid, uint64_t ctid, uint64_t tls)
{
	struct proc *c;
	int err;

	if (flags & CLONE_VM)
		return -EINVAL; /* threads and shared-memory vfork: not supported */
	if (!(c = proc_alloc()))
		return -EAGAIN;
	if ((err = mm_fork(cur->mm, &c->mm))) {
		proc_free(c);
		return err;
	}
	for (int fd = 0; fd < MAX_FDS; fd++)
		if (cur->fds[fd])
			c->fds[fd] = file_get(cur->fds[fd]);
	c->cloexec = cur->cloexec;
	c->cwd = cur->cwd;
	inode_get(c->cwd);
	c->exe = cur->exe;
	inode_get(c->exe);
	c->umask = cur->umask;
	c->ppid = cur->pid;
	c->sig_blocked = cur->sig_blocked;
	memcpy(c->sa, cur->sa, sizeof(c->sa));
	arch_fpu_save(cur->fpu);
	memcpy(c->fpu, cur->fpu, sizeof(c->fpu));
	c->uregs = cur->uregs;
	arch_fork_regs(&c->uregs, newsp);
	if (flags & CLONE_SETTLS)
		c->uregs.tls = tls;
	if (flags & CLONE_CHILD_SETTID)
		mm_copy_to(c->mm, ctid, &c->pid, 4);
	if (flags & CLONE_PARENT_SETTID)
		mm_copy_to(cur->mm, ptid, &c->pid, 4);
	c->ksp = arch_new_kstack(kstack_top(c->slot));
	c->state = P_RUN;
	return c->pid;
}

/* ---- execve ---- */

#define EXEC_BUF (64 * 1024)
#define MAX_ARGS 1024
#define PT_LOAD 1
#define PT_PHDR 6

/* Arguments and environment copied out of the old address space. */
struct args {
	char buf[EXEC_BUF];
	size_t used;
	unsigned argc, envc;
	uint32_t off[MAX_ARGS]; /* argv then envp, offsets into buf */
};
static struct args exec_args; /* execve never blocks: one is enough */

struct elf_info {
	uint64_t entry, phdr, phnum;
};

/* Records the n-byte string already at buf + used as the next argument
 * (env false) or environment variable. */
static int args_commit(struct args *a, size_t n, bool env)
{
	if (a->argc + a->envc >= MAX_ARGS || a->used + n + 1 > EXEC_BUF)
		return -E2BIG;
	a->off[a->argc + a->envc] = (uint32_t)a->used;
	a->buf[a->used + n] = 0;
	a->used += n + 1;
	if (env)
		a->envc++;
	else
		a->argc++;
	return 0;
}

static int args_push(struct args *a, const char *str, bool env)
{
	size_t n = strlen(str);

	if (a->used + n + 1 > EXEC_BUF)
		return -E2BIG;
	memcpy(a->buf + a->used, str, n);
	return args_commit(a, n, env);
}

/* argv before envp: every argument is pushed before any variable. */
static int args_from_user(struct args *a, uint64_t uvec, bool env)
{
	for (uint64_t k = 0; uvec; k++) {
		uint64_t p;
		if (mm_copy_from(cur->mm, &p, uvec + 8 * k, 8))
			return -EFAULT;
		if (!p)
			return 0;
		long n = mm_strncpy_from(cur->mm, a->buf + a->used, p, EXEC_BUF - a->used);
		if (n < 0)
			return n == -ENAMETOOLONG ? -E2BIG : (int)n;
		int err = args_commit(a, (size_t)n, env);
		if (err)
			return err;
	}
	return 0;
}

static int load_elf(struct mm *mm, struct inode *ino, struct elf_info *ei)
{
	uint8_t eh[64], ph[56 * 16];
	uint64_t bias, end = 0;

	if (fs_pread(ino, eh, 64, 0) != 64 || memcmp(eh, "\177ELF\2\1", 6) || *(uint16_t *)(eh + 18) != ARCH_ELF_MACHINE)
		return -ENOEXEC;
	uint16_t type = *(uint16_t *)(eh + 16), phnum = *(uint16_t *)(eh + 56);
	uint64_t phoff = *(uint64_t *)(eh + 32);
	if ((type != 2 && type != 3) || phnum > 16 ||
	    fs_pread(ino, ph, 56ull * phnum, phoff) != (long)(56 * phnum))
		return -ENOEXEC;
	bias = type == 3 ? 0x555555554000ull : 0; /* static-pie */
	ei->phdr = 0;
	for (unsigned k = 0; k < phnum; k++) {
		const uint8_t *p = ph + 56 * k;
		uint32_t pt = *(const uint32_t *)p, fl = *(const uint32_t *)(p + 4);
		uint64_t off = *(const uint64_t *)(p + 8), va = *(const uint64_t *)(p + 16) + bias;
		uint64_t filesz = *(const uint64_t *)(p + 32), memsz = *(const uint64_t *)(p + 40);
		if (pt == PT_PHDR)
			ei->phdr = va;
		if (pt != PT_LOAD || !memsz)
			continue;
		if (!ei->phdr && phoff >= off && phoff < off + filesz)
			ei->phdr = va + (phoff - off);
		struct vma v = {
			.start = PAGE_DOWN(va), .end = PAGE_UP(va + memsz),
			.prot = ((fl & 4) ? PROT_READ : 0) | ((fl & 2) ? PROT_WRITE : 0) |
				((fl & 1) ? PROT_EXEC : 0),
			.file = ino, .foff = off - (va - PAGE_DOWN(va)), .fend = va + filesz,
		};
		int err = mm_add_vma(mm, &v);
		if (err)
			return err;
		end = MAX(end, v.end);
	}
	mm->brk_start = mm->brk = end;
	ei->entry = *(uint64_t *)(eh + 24) + bias;
	ei->phnum = phnum;
	return 0;
}

static int push(struct mm *mm, uint64_t *sp, const void *data, size_t n)
{
	*sp -= n;
	return mm_copy_to(mm, *sp, data, n);
}

/* argc, argv, envp and the auxiliary vector, as the System V ABI lays
 * them out for a static program's _start. */
static int build_stack(struct mm *mm, const struct args *a, const char *path,
		       const struct elf_info *ei, uint64_t *sp_out)
{
	uint64_t sp = STACK_TOP, rnd[2] = { arch_ticks() * 0x9e3779b97f4a7c15ull, arch_now_ns() };
	uint64_t *w = (uint64_t *)(uintptr_t)(a->buf + ((a->used + 7) & ~7ull));
	unsigned n = 0, total = a->argc + a->envc;
	uint64_t strs[MAX_ARGS], at_random, at_platform, at_execfn;
	int err = push(mm, &sp, rnd, 16);

	at_random = sp;
	err = err ? err : push(mm, &sp, ARCH_NAME, sizeof(ARCH_NAME));
	at_platform = sp;
	err = err ? err : push(mm, &sp, path, strlen(path) + 1);
	at_execfn = sp;
	for (unsigned k = 0; k < total && !err; k++) {
		const char *s = a->buf + a->off[k];
		err = push(mm, &sp, s, strlen(s) + 1);
		strs[k] = sp;
	}
	if (err)
		return err;
	if ((uint8_t *)(w + total + 64) > (uint8_t *)a->buf + EXEC_BUF)
		return -E2BIG;
	w[n++] = a->argc;
	for (unsigned k = 0; k < a->argc; k++)
		w[n++] = strs[k];
	w[n++] = 0;
	for (unsigned k = a->argc; k < total; k++)
		w[n++] = strs[k];
	w[n++] = 0;
	const uint64_t aux[][2] = {
		{ 3, ei->phdr }, { 4, 56 }, { 5, ei->phnum }, { 6, PAGE }, { 7, 0 }, { 8, 0 },
		{ 9, ei->entry }, { 11, 0 }, { 12, 0 }, { 13, 0 }, { 14, 0 }, { 15, at_platform },
		{ 16, arch_hwcap() }, { 17, 100 }, { 23, 0 }, { 25, at_random }, { 26, 0 },
		{ 31, at_execfn }, { 0, 0 },
	};
	for (unsigned k = 0; k < sizeof(aux) / sizeof(aux[0]); k++)
		w[n++] = aux[k][0], w[n++] = aux[k][1];
	sp = (sp - 8ull * n) & ~15ull;
	*sp_out = sp;
	return mm_copy_to(mm, sp, w, 8ull * n);
}

/* "#!interp [arg]": argv becomes interp, [arg,] path, argv[1..].  The old
 * strings stay in buf (new ones go after them): only their offsets are
 * saved, in a frame. */
static int shebang(struct args *a, struct inode *ino, const char *path, char *interp)
{
	char line[128], *p, *end, *arg = NULL;
	long n = fs_pread(ino, line, sizeof(line) - 1, 0);
	unsigned argc = a->argc, envc = a->envc;
	uint32_t *old = kalloc();
	int err;

	line[n > 0 ? n : 0] = 0;
	for (p = line + 2; *p == ' '; p++)
		;
	for (end = p; *end && *end != '\n' && *end != ' '; end++)
		;
	if (*end == ' ') {
		*end++ = 0;
		for (arg = end; *end && *end != '\n'; end++)
			;
	}
	*end = 0;
	strcpy_n(interp, p, 128);
	if (!old)
		return -ENOMEM;
	memcpy(old, a->off, sizeof(a->off));
	a->argc = a->envc = 0;
	err = args_push(a, interp, false);
	if (!err && arg && *arg)
		err = args_push(a, arg, false);
	if (!err)
		err = args_push(a, path, false);
	for (unsigned k = 1; k < argc + envc && !err; k++)
		err = args_push(a, a->buf + old[k], k >= argc);
	kfree(old);
	return err;
}

static int exec_file(struct args *a, const char *path, struct inode **ino_out, int depth)
{
	struct inode *ino;
	char head[2] = { 0 };
	int err = fs_lookup(cur->cwd, path, true, &ino);

	if (err)
		return err;
	if (ino->type == I_DIR)
		return -EACCES;
	if (ino->type != I_REG)
		return -EACCES;
	fs_pread(ino, head, 2, 0);
	if (head[0] == '#' && head[1] == '!' && depth == 0) {
		char interp[128];
		if ((err = shebang(a, ino, path, interp)))
			return err;
		return exec_file(a, interp, ino_out, 1);
	}
	*ino_out = ino;
	return 0;
}

static int do_execve(const char *path, struct args *a)
{
	struct inode *ino;
	struct elf_info ei;
	struct mm *mm;
	uint64_t sp;
	int err = exec_file(a, path, &ino, 0);

	if (err)
		return err;
	if (!(mm = mm_create()))
		return -ENOMEM;
	struct vma stack = { .start = STACK_TOP - STACK_SIZE, .end = STACK_TOP,
			     .prot = PROT_READ | PROT_WRITE };
	if ((err = load_elf(mm, ino, &ei)) || (err = mm_add_vma(mm, &stack)) ||
	    (err = arch_mm_setup(mm)) ||
	    (err = build_stack(mm, a, path, &ei, &sp))) {
		mm_destroy(mm);
		return err;
	}
	struct mm *old = cur->mm;
	cur->mm = mm;
	arch_load_user(pt_table_root(mm->table), cur->slot);
	if (old)
		mm_destroy(old);
	inode_get(ino);
	if (cur->exe)
		inode_put(cur->exe);
	cur->exe = ino;
	fs_close_on_exec();
	for (int s = 1; s <= 64; s++)
		if (cur->sa[s].handler != SIG_IGN)
			cur->sa[s] = (struct sigaction_k){ 0 };
	arch_exec_regs(&cur->uregs, ei.entry, sp);
	memcpy(cur->fpu, fpu_init, sizeof(fpu_init));
	arch_fpu_restore(cur->fpu);
	return 0;
}

static long sys_execve(uint64_t upath, uint64_t uargv, uint64_t uenvp)
{
	char path[256];
	struct args *a = &exec_args;
	long n = mm_strncpy_from(cur->mm, path, upath, sizeof(path));
	int err;

	if (n < 0)
		return n;
	a->used = a->argc = a->envc = 0;
	if ((err = args_from_user(a, uargv, false)) || (err = args_from_user(a, uenvp, true)))
		return err;
	return do_execve(path, a);
}

/* The first process: /bin/sh /init.sh, console on 0, 1 and 2. */
void proc_start_init(const char *script)
{
	static const char *const argv[] = { "sh" };
	static const char *const envp[] = { "PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/" };
	struct args *a = &exec_args;
	struct proc *p = proc_alloc();
	struct file *con;
	int err;

	arch_fpu_save(fpu_init); /* the boot state, for every exec */
	if (!p || !(p->mm = mm_create()))
		panic("no memory for the first process");
	cur = p;
	p->cwd = fs_root;
	inode_get(fs_root);
	p->umask = 022;
	if ((err = file_open_path(fs_root, "/dev/console", O_RDWR, 0, &con)))
		panic("/dev/console: %d", err);
	p->fds[0] = con;
	p->fds[1] = file_get(con);
	p->fds[2] = file_get(con);
	a->used = a->argc = a->envc = 0;
	args_push(a, argv[0], false);
	args_push(a, script, false);
	for (unsigned k = 0; k < 2; k++)
		args_push(a, envp[k], true);
	if ((err = do_execve("/bin/sh", a)))
		panic("execve /bin/sh: %d", err);
	p->state = P_RUN;
	switch_in(p);
	ret_to_user();
}

/* ---- signals ---- */

static bool default_ignored(int sig)
{
	return sig == SIGCHLD || sig == 18 || sig == 23 || sig == 28; /* CHLD CONT URG WINCH */
}

void signal_send(struct proc *p, int sig)
{
	uint64_t h = p->sa[sig].handler;

	if (p->state == P_ZOMBIE || h == SIG_IGN || (h == SIG_DFL && default_ignored(sig)))
		return;
	p->sig_pending |= sigbit(sig);
	if (p->state == P_BLOCKED && (sigbit(sig) & ~p->sig_blocked))
		p->state = P_RUN;
}

struct sigframe {
	struct uregs regs;
	uint8_t fpu[ARCH_FPU_SIZE];
	uint64_t mask;
};

static void push_frame(int sig, const struct sigaction_k *sa)
{
	struct uregs *u = &cur->uregs;
	uint64_t sp = ((arch_user_sp(u) - 128 - sizeof(struct sigframe)) & ~15ull);
	uint64_t frame = sp, info[16] = { (uint64_t)sig };
	uint64_t restorer = (sa->flags & SA_RESTORER) ? sa->restorer : arch_sigreturn_trampoline();
	struct sigframe *f = (struct sigframe *)(uintptr_t)cur->kbuf;

	f->regs = *u;
	arch_fpu_save(cur->fpu);
	memcpy(f->fpu, cur->fpu, sizeof(f->fpu));
	f->mask = cur->restore_mask ? cur->sig_restore : cur->sig_blocked;
	sp -= sizeof(info);
	const uint64_t args[3] = { (uint64_t)sig, sp, frame };
	if (!restorer || mm_copy_to(cur->mm, frame, f, sizeof(*f)) ||
	    mm_copy_to(cur->mm, sp, info, sizeof(info)) ||
	    arch_signal_regs(u, sa->handler, restorer, sp, args))
		do_exit(SIGSEGV);
	cur->restore_mask = false;
	cur->sig_blocked |= sa->mask | ((sa->flags & SA_NODEFER) ? 0 : sigbit(sig));
	if (sa->flags & SA_RESETHAND)
		cur->sa[sig].handler = SIG_DFL;
}

/* On the way back to user mode: run a handler, or the default action.
 * A call that failed with -EINTR (restart_nr >= 0) is made again after a
 * SA_RESTART handler, as Linux does: the frame resumes at the system
 * call instruction with the call's registers. */
void signal_deliver(long restart_nr)
{
	uint64_t ready = cur->sig_pending & ~cur->sig_blocked;

	if (ready) {
		int sig = __builtin_ctzll(ready) + 1;
		struct sigaction_k sa = cur->sa[sig];
		cur->sig_pending &= ~sigbit(sig);
		if (sa.handler == SIG_DFL && !default_ignored(sig))
			do_exit(sig);
		if (sa.handler > SIG_IGN && restart_nr >= 0 && (sa.flags & SA_RESTART))
			arch_restart(&cur->uregs, restart_nr);
		if (sa.handler > SIG_IGN)
			push_frame(sig, &sa);
	}
	if (cur->restore_mask) {
		cur->sig_blocked = cur->sig_restore;
		cur->restore_mask = false;
	}
}

static long sys_rt_sigreturn(void)
{
	struct sigframe *f = (struct sigframe *)(uintptr_t)cur->kbuf;

	if (mm_copy_from(cur->mm, f, arch_user_sp(&cur->uregs) + 128, sizeof(*f)))
		do_exit(SIGSEGV);
	memcpy(cur->fpu, f->fpu, sizeof(cur->fpu));
	arch_fpu_restore(cur->fpu);
	cur->sig_blocked = f->mask & ~(sigbit(SIGKILL) | sigbit(SIGSTOP));
	return arch_sigreturn_regs(&cur->uregs, &f->regs);
}

static long sys_rt_sigaction(int sig, uint64_t uact, uint64_t uold)
{
	struct sigaction_k sa;

	if (sig < 1 || sig > 64)
		return -EINVAL;
	if (uold && mm_copy_to(cur->mm, uold, &cur->sa[sig], sizeof(sa)))
		return -EFAULT;
	if (!uact)
		return 0;
	if (sig == SIGKILL || sig == SIGSTOP)
		return -EINVAL;
	if (mm_copy_from(cur->mm, &sa, uact, sizeof(sa)))
		return -EFAULT;
	cur->sa[sig] = sa;
	return 0;
}

static long sys_rt_sigprocmask(long how, uint64_t uset, uint64_t uold)
{
	uint64_t set;

	if (uold && mm_copy_to(cur->mm, uold, &cur->sig_blocked, 8))
		return -EFAULT;
	if (!uset)
		return 0;
	if (mm_copy_from(cur->mm, &set, uset, 8))
		return -EFAULT;
	if (how == 0)
		cur->sig_blocked |= set;
	else if (how == 1)
		cur->sig_blocked &= ~set;
	else if (how == 2)
		cur->sig_blocked = set;
	else
		return -EINVAL;
	cur->sig_blocked &= ~(sigbit(SIGKILL) | sigbit(SIGSTOP));
	return 0;
}

static long sys_rt_sigsuspend(uint64_t umask)
{
	uint64_t mask;

	if (mm_copy_from(cur->mm, &mask, umask, 8))
		return -EFAULT;
	cur->sig_restore = cur->sig_blocked;
	cur->restore_mask = true;
	cur->sig_blocked = mask & ~(sigbit(SIGKILL) | sigbit(SIGSTOP));
	while (!signal_pending())
		sleep_on(cur);
	return -EINTR;
}

static long sys_kill(int pid, int sig)
{
	struct proc *p = find_proc(pid < -1 ? -pid : pid);

	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (pid == 0 || pid == -1)
		p = cur;
	if (!p || p->state == P_ZOMBIE)
		return -ESRCH;
	if (sig == SIGKILL && p != cur) {
		p->sa[sig].handler = SIG_DFL;
		p->sig_pending |= sigbit(sig);
		p->sig_blocked &= ~sigbit(sig);
		p->state = P_RUN; /* it dies on its way back to user mode */
	} else if (sig) {
		signal_send(p, sig);
	}
	return 0;
}

/* ---- faults from user mode ---- */

void user_fault(uint64_t va, enum fault_kind kind, int sig)
{
	if (kind != FAULT_OTHER) {
		int r = mm_fault(cur->mm, va, kind == FAULT_WRITE, kind == FAULT_EXEC);
		if (!r)
			return;
		if (r == -ENOMEM) {
			mm_stats.oom_kills++;
			kprintf("[kernel] pid %d killed: out of memory at %#lx\n", cur->pid, va);
			do_exit(SIGKILL);
		}
	}
	kprintf("[kernel] pid %d: signal %d at pc %#lx, address %#lx: killed\n", cur->pid, sig,
		arch_user_pc(&cur->uregs), va);
	do_exit(sig);
}

long sys_proc(long nr, const long *a, bool *handled)
{
	*handled = true;
	switch (nr) {
	case SYS_rt_sigaction: return sys_rt_sigaction((int)a[0], (uint64_t)a[1], (uint64_t)a[2]);
	case SYS_rt_sigprocmask: return sys_rt_sigprocmask(a[0], (uint64_t)a[1], (uint64_t)a[2]);
	case SYS_rt_sigreturn: return sys_rt_sigreturn();
	case SYS_sched_yield: yield(); return 0;
	case SYS_pause: while (!signal_pending()) sleep_on(cur); return -EINTR;
	case SYS_clone:
		return do_fork((uint64_t)a[0], (uint64_t)a[1], (uint64_t)a[2],
			       (uint64_t)a[CLONE_ARG_CTID], (uint64_t)a[CLONE_ARG_TLS]);
	case SYS_fork: case SYS_vfork: return do_fork(SIGCHLD, 0, 0, 0, 0); /* vfork as fork */
	case SYS_execve: return sys_execve((uint64_t)a[0], (uint64_t)a[1], (uint64_t)a[2]);
	case SYS_exit: case SYS_exit_group: do_exit((int)(a[0] & 0xff) << 8);
	case SYS_wait4: return sys_wait4((int)a[0], (uint64_t)a[1], a[2], (uint64_t)a[3]);
	case SYS_kill: return sys_kill((int)a[0], (int)a[1]);
	case SYS_rt_sigsuspend: return sys_rt_sigsuspend((uint64_t)a[0]);
	case SYS_tgkill: return sys_kill((int)a[1], (int)a[2]);
	case SYS_getpid: case SYS_gettid: case SYS_getpgrp: case SYS_setsid: return cur->pid;
	case SYS_getpgid: case SYS_getsid: return a[0] ? a[0] : cur->pid;
	case SYS_getppid: return cur->ppid;
	default:
		*handled = false;
		return -ENOSYS;
	}
}

/* The end of the run: pid 1 exited.  Whatever still runs is torn down
 * here, /tmp and the page cache are emptied, then every frame used since
 * the first process started must be free again. */
_Noreturn static void finish(int status)
{
	unsigned others = 0;

	for (unsigned s = 0; s < MAX_PROCS; s++) {
		struct proc *p = procs[s];
		if (!p || p == cur)
			continue;
		others++;
		release_resources(p);
		proc_free(p);
	}
	fs_finish();
	kprintf("[kernel] page cache: %lu frames shared by every mapping of busybox\n",
		mm_page_cache_frames());
	mm_drop_page_cache();
	proc_free(cur);
	uint64_t now = pt_phys_free_frames(&phys);
	int code = (status & 0x7f) ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
	sys_report();
	kprintf("[kernel] init exited with status %d; %u other processes were left\n", code, others);
	kprintf("[kernel] frames leaked: %ld\n", (long)(frames_before_init - now));
	arch_exit((unsigned)code);
}
