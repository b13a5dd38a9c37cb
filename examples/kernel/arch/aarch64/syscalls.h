/* SPDX-License-Identifier: MPL-2.0 */
/*
 * syscalls.h - AArch64 system call numbers (the generic table,
 * include/uapi/asm-generic/unistd.h), the ones the example kernel serves.
 * The generic table has no open, stat, fork, dup2, pipe, poll and the like:
 * they get distinct negative numbers, which no call reaches.
 */
#ifndef EXK_SYSCALLS_H
#define EXK_SYSCALLS_H

#define SYS_getcwd 17
#define SYS_dup 23
#define SYS_dup3 24
#define SYS_fcntl 25
#define SYS_ioctl 29
#define SYS_mkdirat 34
#define SYS_unlinkat 35
#define SYS_symlinkat 36
#define SYS_linkat 37
#define SYS_renameat 38
#define SYS_truncate 45
#define SYS_ftruncate 46
#define SYS_faccessat 48
#define SYS_chdir 49
#define SYS_fchmod 52
#define SYS_fchmodat 53
#define SYS_fchownat 54
#define SYS_fchown 55
#define SYS_openat 56
#define SYS_close 57
#define SYS_pipe2 59
#define SYS_getdents64 61
#define SYS_lseek 62
#define SYS_read 63
#define SYS_write 64
#define SYS_readv 65
#define SYS_writev 66
#define SYS_pread64 67
#define SYS_sendfile 71
#define SYS_ppoll 73
#define SYS_readlinkat 78
#define SYS_newfstatat 79
#define SYS_fstat 80
#define SYS_fsync 82
#define SYS_fdatasync 83
#define SYS_utimensat 88
#define SYS_exit 93
#define SYS_exit_group 94
#define SYS_set_tid_address 96
#define SYS_set_robust_list 99
#define SYS_nanosleep 101
#define SYS_setitimer 103
#define SYS_clock_gettime 113
#define SYS_clock_getres 114
#define SYS_clock_nanosleep 115
#define SYS_sched_yield 124
#define SYS_kill 129
#define SYS_tgkill 131
#define SYS_sigaltstack 132
#define SYS_rt_sigsuspend 133
#define SYS_rt_sigaction 134
#define SYS_rt_sigprocmask 135
#define SYS_rt_sigreturn 139
#define SYS_setgid 144
#define SYS_setuid 146
#define SYS_times 153
#define SYS_setpgid 154
#define SYS_getpgid 155
#define SYS_getsid 156
#define SYS_setsid 157
#define SYS_uname 160
#define SYS_getrlimit 163
#define SYS_setrlimit 164
#define SYS_getrusage 165
#define SYS_umask 166
#define SYS_gettimeofday 169
#define SYS_getpid 172
#define SYS_getppid 173
#define SYS_getuid 174
#define SYS_geteuid 175
#define SYS_getgid 176
#define SYS_getegid 177
#define SYS_gettid 178
#define SYS_sysinfo 179
#define SYS_brk 214
#define SYS_munmap 215
#define SYS_mremap 216
#define SYS_clone 220
#define SYS_execve 221
#define SYS_mmap 222
#define SYS_mprotect 226
#define SYS_msync 227
#define SYS_madvise 233
#define SYS_wait4 260
#define SYS_prlimit64 261
#define SYS_renameat2 276
#define SYS_getrandom 278
#define SYS_rseq 293
#define SYS_faccessat2 439
#define SYS_access (-2)
#define SYS_alarm (-3)
#define SYS_chmod (-4)
#define SYS_chown (-5)
#define SYS_dup2 (-6)
#define SYS_fork (-7)
#define SYS_getpgrp (-8)
#define SYS_lchown (-9)
#define SYS_link (-10)
#define SYS_lstat (-11)
#define SYS_mkdir (-12)
#define SYS_open (-13)
#define SYS_pause (-14)
#define SYS_pipe (-15)
#define SYS_poll (-16)
#define SYS_readlink (-17)
#define SYS_rename (-18)
#define SYS_rmdir (-19)
#define SYS_stat (-20)
#define SYS_symlink (-21)
#define SYS_time (-22)
#define SYS_unlink (-23)
#define SYS_vfork (-24)
/* clone(flags, newsp, parent_tid, tls, child_tid): the last two's slots. */
#define CLONE_ARG_CTID 4
#define CLONE_ARG_TLS 3

#endif
