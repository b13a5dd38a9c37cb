/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sys.c - the system call dispatcher, the memory calls' argument checks,
 * and the small calls (identity, time, limits, randomness).  Unknown calls
 * return -ENOSYS and are counted.
 */
#include "kernel.h"

#define NR_SYSCALLS 512
#define MAP_ANONYMOUS 0x20

static uint64_t calls[NR_SYSCALLS], unknown[NR_SYSCALLS];
static uint64_t sleep_offset_ns, rng_state = 0x853c49e6748fea9bull;

/* TCG's TSC follows the host clock; ~1 GHz is close enough for a clock
 * that only has to move forward.  Sleeps advance it instead of waiting. */
uint64_t now_ns(void)
{
	return arch_rdtsc() + sleep_offset_ns;
}

static uint64_t rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static long put(uint64_t uva, const void *data, size_t n)
{
	return mm_copy_to(cur->mm, uva, data, n) ? -EFAULT : 0;
}

static long sys_mmap(const long *a)
{
	uint32_t flags = (uint32_t)a[3];
	struct inode *file = NULL;

	if (!(flags & MAP_ANONYMOUS)) {
		long fd = a[4];
		if (fd < 0 || fd >= MAX_FDS || !cur->fds[fd])
			return -EBADF;
		file = cur->fds[fd]->inode; /* mapped privately, whatever the flags */
		if (!file || file->type != I_REG)
			return -ENODEV;
	}
	return mm_mmap(cur->mm, (uint64_t)a[0], (uint64_t)a[1], (uint32_t)a[2], flags, file,
		       (uint64_t)a[5]);
}

static long sys_clock_gettime(uint64_t uts)
{
	uint64_t ns = now_ns(), ts[2] = { 1767225600 + ns / 1000000000, ns % 1000000000 };
	return put(uts, ts, sizeof(ts));
}

static long sys_nanosleep(uint64_t ureq)
{
	uint64_t ts[2];

	if (mm_copy_from(cur->mm, ts, ureq, sizeof(ts)))
		return -EFAULT;
	sleep_offset_ns += ts[0] * 1000000000 + ts[1];
	yield();
	return 0;
}

static long sys_uname(uint64_t ubuf)
{
	static const char *const f[6] = { "Linux", "ptkit", "6.1.0-ptkit-example", "#1",
					  "x86_64", "(none)" };
	char u[6][65];

	memset(u, 0, sizeof(u));
	for (int k = 0; k < 6; k++)
		strcpy_n(u[k], f[k], 65);
	return put(ubuf, u, sizeof(u));
}

static long sys_sysinfo(uint64_t ubuf)
{
	uint64_t s[14] = { 0 };

	s[0] = now_ns() / 1000000000;
	s[4] = pt_phys_free_frames(&phys) * PAGE + 64 * PAGE; /* totalram: roughly */
	s[5] = pt_phys_free_frames(&phys) * PAGE;
	s[10] = 1;                                           /* procs */
	s[13] = 1;                                           /* mem_unit (u32) */
	return put(ubuf, s, 112);
}

static long sys_prlimit64(long resource, uint64_t unew, uint64_t uold)
{
	uint64_t lim[2] = { UINT64_MAX, UINT64_MAX };

	(void)unew; /* limits are accepted and not enforced */
	if (resource == 3)
		lim[0] = STACK_SIZE;
	if (resource == 7)
		lim[0] = lim[1] = MAX_FDS;
	return uold ? put(uold, lim, sizeof(lim)) : 0;
}

static long sys_getrandom(uint64_t ubuf, uint64_t len)
{
	uint8_t *k = cur->kbuf;

	len = MIN(len, PAGE);
	for (uint64_t i = 0; i < len; i += 8) {
		uint64_t r = rng_next();
		memcpy(k + i, &r, MIN(8, len - i));
	}
	return put(ubuf, k, len) ? -EFAULT : (long)len;
}

static long sys_arch_prctl(long code, uint64_t addr)
{
	if (code == 0x1002) { /* ARCH_SET_FS */
		if (addr >= USER_TOP)
			return -EPERM;
		cur->fs_base = addr;
		arch_set_fs(addr);
		return 0;
	}
	if (code == 0x1003) /* ARCH_GET_FS */
		return put(addr, &cur->fs_base, 8);
	return -EINVAL;
}

static long sys_misc(long nr, const long *a, bool *handled)
{
	*handled = true;
	switch (nr) {
	case 9: return sys_mmap(a);
	case 10: return mm_mprotect(cur->mm, (uint64_t)a[0], (uint64_t)a[1], (uint32_t)a[2]);
	case 11: return mm_munmap(cur->mm, (uint64_t)a[0], (uint64_t)a[1]);
	case 12: return mm_brk(cur->mm, (uint64_t)a[0]);
	case 25: return mm_mremap(cur->mm, (uint64_t)a[0], (uint64_t)a[1], (uint64_t)a[2],
				  (uint32_t)a[3]);
	case 26: case 28: return 0; /* msync, madvise: advice */
	case 35: return sys_nanosleep((uint64_t)a[0]);
	case 230: return sys_nanosleep((uint64_t)a[2]); /* clock_nanosleep, relative */
	case 63: return sys_uname((uint64_t)a[0]);
	case 96: { uint64_t ns = now_ns(), tv[2] = { 1767225600 + ns / 1000000000, ns % 1000000000 / 1000 };
		return a[0] ? put((uint64_t)a[0], tv, 16) : 0; }
	case 97: return sys_prlimit64(a[0], 0, (uint64_t)a[1]);
	case 98: { uint64_t z[18] = { 0 }; return put((uint64_t)a[1], z, 144); } /* getrusage */
	case 99: return sys_sysinfo((uint64_t)a[0]);
	case 100: { uint64_t z[4] = { 0 }; return a[0] ? put((uint64_t)a[0], z, 32) : 0; } /* times */
	case 102: case 104: case 107: case 108: return 0; /* root, as a fresh initramfs */
	case 105: case 106: case 109: case 160: return 0; /* setuid setgid setpgid setrlimit */
	case 131: return 0; /* sigaltstack */
	case 37: case 38: return 0; /* alarm, setitimer: no timer signals */
	case 158: return sys_arch_prctl(a[0], (uint64_t)a[1]);
	case 201: { uint64_t t = 1767225600 + now_ns() / 1000000000;
		return a[0] && put((uint64_t)a[0], &t, 8) ? -EFAULT : (long)t; }
	case 218: return cur->pid;                                  /* set_tid_address */
	case 228: return sys_clock_gettime((uint64_t)a[1]);
	case 229: { uint64_t r[2] = { 0, 1 }; return a[1] ? put((uint64_t)a[1], r, 16) : 0; }
	case 273: return 0;                                         /* set_robust_list */
	case 302: return sys_prlimit64(a[1], (uint64_t)a[2], (uint64_t)a[3]);
	case 318: return sys_getrandom((uint64_t)a[0], (uint64_t)a[1]);
	case 334: return -ENOSYS;                                   /* rseq: glibc copes */
	default:
		*handled = false;
		return -ENOSYS;
	}
}

/* Called by entry.S with the user registers in cur->uregs. */
void syscall_dispatch(void)
{
	struct uregs *u = &cur->uregs;
	long nr = (long)u->rax, ret;
	const long a[6] = { (long)u->rdi, (long)u->rsi, (long)u->rdx,
			    (long)u->r10, (long)u->r8,  (long)u->r9 };
	bool handled = false;

	if (nr >= 0 && nr < NR_SYSCALLS)
		calls[nr]++;
	ret = sys_proc(nr, a, &handled);
	if (!handled)
		ret = sys_fs(nr, a, &handled);
	if (!handled)
		ret = sys_misc(nr, a, &handled);
	if (!handled && nr >= 0 && nr < NR_SYSCALLS)
		unknown[nr]++;
	cur->uregs.rax = (uint64_t)ret;
	/* sigsuspend and pause end by a signal: never restarted */
	signal_deliver(ret == -EINTR && nr != 130 && nr != 34 ? nr : -1);
}

void sys_report(void)
{
	uint64_t total = 0, kinds = 0;

	kprintf("[kernel] syscalls by number (calls):");
	for (int k = 0; k < NR_SYSCALLS; k++) {
		total += calls[k];
		if (calls[k] && !unknown[k]) {
			kinds++;
			kprintf(" %d:%lu", k, calls[k]);
		}
	}
	kprintf("\n[kernel] %lu syscalls, %lu distinct implemented ones hit\n", total, kinds);
	kprintf("[kernel] unknown syscalls (-ENOSYS):");
	for (int k = 0; k < NR_SYSCALLS; k++)
		if (unknown[k])
			kprintf(" %d:%lu", k, unknown[k]);
	kprintf("\n[kernel] faults %lu, cow faults %lu (copies %lu, takeovers %lu), oom kills %lu\n",
		mm_stats.faults, mm_stats.cow_faults, mm_stats.cow_copies, mm_stats.cow_takeovers,
		mm_stats.oom_kills);
	kprintf("[kernel] forks %lu (leaves shared %lu), mremap calls %lu (moves %lu)\n",
		mm_stats.forks, mm_stats.leaves_shared, mm_stats.mremap_calls,
		mm_stats.mremap_moves);
	kprintf("[kernel] ticks per fault %lu (in ptkit %lu), per fork %lu (in ptkit %lu), "
		"ptkit elsewhere %lu\n",
		mm_stats.fault_ticks / MAX(mm_stats.faults, 1),
		mm_stats.fault_ptkit_ticks / MAX(mm_stats.faults, 1),
		mm_stats.fork_ticks / MAX(mm_stats.forks, 1),
		mm_stats.fork_ptkit_ticks / MAX(mm_stats.forks, 1), mm_stats.other_ptkit_ticks);
}
