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

/* A clock that only has to move forward.  Sleeps advance it instead of
 * waiting. */
uint64_t now_ns(void)
{
	return arch_now_ns() + sleep_offset_ns;
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
					  ARCH_NAME, "(none)" };
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

static long sys_misc(long nr, const long *a, bool *handled)
{
	*handled = true;
	switch (nr) {
	case SYS_mmap: return sys_mmap(a);
	case SYS_mprotect: return mm_mprotect(cur->mm, (uint64_t)a[0], (uint64_t)a[1], (uint32_t)a[2]);
	case SYS_munmap: return mm_munmap(cur->mm, (uint64_t)a[0], (uint64_t)a[1]);
	case SYS_brk: return mm_brk(cur->mm, (uint64_t)a[0]);
	case SYS_mremap: return mm_mremap(cur->mm, (uint64_t)a[0], (uint64_t)a[1], (uint64_t)a[2],
				  (uint32_t)a[3]);
	case SYS_msync: case SYS_madvise: return 0; /* advice */
	case SYS_nanosleep: return sys_nanosleep((uint64_t)a[0]);
	case SYS_clock_nanosleep: return sys_nanosleep((uint64_t)a[2]); /* relative */
	case SYS_uname: return sys_uname((uint64_t)a[0]);
	case SYS_gettimeofday: {
		uint64_t ns = now_ns(), tv[2] = { 1767225600 + ns / 1000000000, ns % 1000000000 / 1000 };
		return a[0] ? put((uint64_t)a[0], tv, 16) : 0; }
	case SYS_getrlimit: return sys_prlimit64(a[0], 0, (uint64_t)a[1]);
	case SYS_getrusage: { uint64_t z[18] = { 0 }; return put((uint64_t)a[1], z, 144); }
	case SYS_sysinfo: return sys_sysinfo((uint64_t)a[0]);
	case SYS_times: { uint64_t z[4] = { 0 }; return a[0] ? put((uint64_t)a[0], z, 32) : 0; }
	case SYS_getuid: case SYS_getgid: case SYS_geteuid: case SYS_getegid:
		return 0; /* root, as a fresh initramfs */
	case SYS_setuid: case SYS_setgid: case SYS_setpgid: case SYS_setrlimit: return 0;
	case SYS_sigaltstack: return 0;
	case SYS_alarm: case SYS_setitimer: return 0; /* no timer signals */
	case SYS_time: { uint64_t t = 1767225600 + now_ns() / 1000000000;
		return a[0] && put((uint64_t)a[0], &t, 8) ? -EFAULT : (long)t; }
	case SYS_set_tid_address: return cur->pid;
	case SYS_clock_gettime: return sys_clock_gettime((uint64_t)a[1]);
	case SYS_clock_getres: {
		uint64_t r[2] = { 0, 1 };
		return a[1] ? put((uint64_t)a[1], r, 16) : 0; }
	case SYS_set_robust_list: return 0;
	case SYS_prlimit64: return sys_prlimit64(a[1], (uint64_t)a[2], (uint64_t)a[3]);
	case SYS_getrandom: return sys_getrandom((uint64_t)a[0], (uint64_t)a[1]);
	case SYS_rseq: return -ENOSYS; /* glibc copes */
	default:
		*handled = false;
		return -ENOSYS;
	}
}

/* Called by entry.S with the user registers in cur->uregs.  Negative
 * numbers never reach the tables: syscalls.h gives those to the calls an
 * architecture lacks. */
void syscall_dispatch(void)
{
	long a[6], nr = arch_syscall_args(&cur->uregs, a), ret = -ENOSYS;
	bool handled = nr < 0;

	if (nr >= 0 && nr < NR_SYSCALLS)
		calls[nr]++;
	if (!handled)
		ret = sys_proc(nr, a, &handled);
	if (!handled)
		ret = sys_fs(nr, a, &handled);
	if (!handled)
		ret = sys_misc(nr, a, &handled);
	if (!handled)
		ret = arch_syscall(nr, a, &handled);
	if (!handled && nr >= 0 && nr < NR_SYSCALLS)
		unknown[nr]++;
	arch_set_return(&cur->uregs, ret);
	/* sigsuspend and pause end by a signal: never restarted */
	signal_deliver(ret == -EINTR && nr != SYS_rt_sigsuspend && nr != SYS_pause ? nr : -1);
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
	kprintf("[kernel] forks %lu (pt_copy), mremap calls %lu (moves by pt_move %lu)\n",
		mm_stats.forks, mm_stats.mremap_calls, mm_stats.mremap_moves);
	kprintf("[kernel] ticks per fault %lu (in ptkit %lu), per fork %lu (in ptkit %lu), "
		"ptkit elsewhere %lu\n",
		mm_stats.fault_ticks / MAX(mm_stats.faults, 1),
		mm_stats.fault_ptkit_ticks / MAX(mm_stats.faults, 1),
		mm_stats.fork_ticks / MAX(mm_stats.forks, 1),
		mm_stats.fork_ptkit_ticks / MAX(mm_stats.forks, 1), mm_stats.other_ptkit_ticks);
}
