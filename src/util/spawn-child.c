/* SPDX-License-Identifier: MIT */
/* See spawn.h for why the child is made with clone(CLONE_VM) and what that asks of it. */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "util/spawn-child.h"

#if HAVE_VALGRIND_VALGRIND_H
#  include <valgrind/valgrind.h>
#else
#  define RUNNING_ON_VALGRIND 0
#endif

#define SPAWN_STACK_SIZE (32 * 1024) /* the child's frame is a few hundred bytes; raw calls only */

struct Spawn {
        int exec_errno; /* written by the child just before it exits, read after it was reaped */
        int failed_step; /* SpawnStep, likewise */
        int fd[3];      /* what becomes its stdin, stdout, stderr; all >= 3 */
        int umask;      /* -1: keep */
        int cgroup_fd;  /* >= 0: the child moves itself there (no CLONE_INTO_CGROUP) */
        char *cwd;      /* NULL: keep */
        char *argv[2];
        char **envp;
        /* then: envp array, strings, stack */
};

#if defined(__x86_64__) || defined(__aarch64__)
#  define SPAWN_CLONE 1

/* The child calls the kernel directly: libc's wrappers would set errno, which is the caller's. */
__attribute__((no_sanitize("address", "undefined"))) static inline long raw_call(long n, long a, long b, long c,
                                                                                 long d) {
#  if defined(__x86_64__)
        long ret;
        register long r10 __asm__("r10") = d;
        __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
        return ret;
#  else
        register long x8 __asm__("x8") = n;
        register long x0 __asm__("x0") = a;
        register long x1 __asm__("x1") = b;
        register long x2 __asm__("x2") = c;
        register long x3 __asm__("x3") = d;
        __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory", "cc");
        return x0;
#  endif
}

/* The kernel's struct sigaction (the same layout on both architectures, which define SA_RESTORER). */
struct kernel_sigaction {
        void *handler;
        unsigned long flags;
        void *restorer;
        uint64_t mask;
};

__attribute__((no_sanitize("address", "undefined"))) static int spawn_child(void *userdata) {
        Spawn *s = userdata;
        struct kernel_sigaction dfl = {}, old;
        uint64_t none = 0;
        long r;

        /* Every signal was blocked across clone(). Handlers go before signals are let in. */
        for (long sig = 1; sig <= 64; sig++)
                if (sig != SIGKILL && sig != SIGSTOP &&
                    raw_call(SYS_rt_sigaction, sig, 0, (long) &old, sizeof(uint64_t)) == 0 && old.handler)
                        (void) raw_call(SYS_rt_sigaction, sig, (long) &dfl, 0, sizeof(uint64_t));
        if (s->umask >= 0)
                (void) raw_call(SYS_umask, s->umask, 0, 0, 0);
        if (s->cgroup_fd >= 0) {
                static const char procs[] = "cgroup.procs", self[] = "0";
                s->failed_step = SPAWN_STEP_CGROUP;
                r = raw_call(SYS_openat, s->cgroup_fd, (long) procs, O_WRONLY | O_CLOEXEC, 0);
                if (r >= 0) {
                        long fd = r;
                        r = raw_call(SYS_write, fd, (long) self, 1, 0);
                        (void) raw_call(SYS_close, fd, 0, 0, 0);
                }
                if (r < 0)
                        goto fail;
        }
        if (s->cwd) {
                s->failed_step = SPAWN_STEP_CHDIR;
                r = raw_call(SYS_chdir, (long) s->cwd, 0, 0, 0);
                if (r < 0)
                        goto fail;
        }
        s->failed_step = SPAWN_STEP_EXEC;
        r = raw_call(SYS_setpgid, 0, 0, 0, 0);
        for (long i = 0; r >= 0 && i < 3; i++)
                r = raw_call(SYS_dup3, s->fd[i], i, 0, 0); /* the copies at 0-2 are not close-on-exec */
        if (r >= 0) {
                (void) raw_call(SYS_close_range, 3, ~0U, 0, 0); /* ours are close-on-exec anyway */
                (void) raw_call(SYS_rt_sigprocmask, SIG_SETMASK, (long) &none, 0, sizeof none);
                r = raw_call(SYS_execve, (long) s->argv[0], (long) s->argv, (long) s->envp, 0);
        }
fail:
        s->exec_errno = (int) -r;
        (void) raw_call(SYS_exit_group, 127, 0, 0, 0);
        return 127;
}
#endif

#if defined(__x86_64__)
#  define SPAWN_CLONE3 1
#  ifndef CLONE_INTO_CGROUP
#    define CLONE_INTO_CGROUP 0x200000000ULL
#  endif

/* The kernel's struct clone_args up to its cgroup field (size 88, CLONE_ARGS_SIZE_VER2). */
struct spawn_clone_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
                cgroup;
};

/* clone3() with CLONE_VM: glibc 2.36 has no wrapper, and a child on its own stack cannot return into C,
 * so the child calls fn(arg) from here and exits with what it returns. fn and arg are in registers
 * the kernel keeps (r12, r13) and copies into the child. */
__attribute__((no_sanitize("address", "undefined"))) static long clone3_call(struct spawn_clone_args *args,
                                                                             int (*fn)(void *), void *arg) {
        register long rax __asm__("rax") = SYS_clone3;
        register long rdi __asm__("rdi") = (long) args;
        register long rsi __asm__("rsi") = sizeof *args;
        register long r12 __asm__("r12") = (long) fn;
        register long r13 __asm__("r13") = (long) arg;

        __asm__ volatile("syscall\n\t"
                         "testq %%rax, %%rax\n\t"
                         "jnz 1f\n\t"
                         "xorl %%ebp, %%ebp\n\t"
                         "movq %%r13, %%rdi\n\t"
                         "callq *%%r12\n\t"
                         "movl %%eax, %%edi\n\t"
                         "movl $231, %%eax\n\t" /* exit_group */
                         "syscall\n\t"
                         "hlt\n"
                         "1:"
                         : "+r"(rax)
                         : "r"(rdi), "r"(rsi), "r"(r12), "r"(r13)
                         : "rcx", "r11", "memory", "cc");
        return rax;
}
#endif

Spawn *spawn_free(Spawn *s) {
        free(s);
        return NULL;
}

int spawn_exec_errno(const Spawn *s) {
        return s ? s->exec_errno : 0;
}

SpawnStep spawn_failed_step(const Spawn *s) {
        return s ? (SpawnStep) s->failed_step : SPAWN_STEP_EXEC;
}

const char *spawn_path(const Spawn *s) {
        return s->argv[0];
}

static pid_t spawn_posix(Spawn *s) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        pid_t pid;
        int r;

        sigemptyset(&none);
        sigfillset(&all);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        for (int i = 0; i < 3; i++)
                posix_spawn_file_actions_adddup2(&fa, s->fd[i], i);
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        if (s->cwd)
                posix_spawn_file_actions_addchdir_np(&fa, s->cwd);
        /* posix_spawn() has no umask attribute: ours, for the moment it takes (we are one thread). */
        mode_t saved = s->umask >= 0 ? umask((mode_t) s->umask) : 0;
        r = posix_spawn(&pid, s->argv[0], &fa, &attr, s->argv, s->envp);
        if (s->umask >= 0)
                (void) umask(saved);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        return r ? -r : pid;
}

/* The posix_spawn() child ran before it could be moved: move it now (what it started meanwhile stays). */
static int spawn_move(pid_t pid, int cgroup_fd) {
        char b[32];
        int fd = openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC), k;

        if (fd < 0)
                return -errno;
        snprintf(b, sizeof b, "%d", (int) pid);
        k = (int) write(fd, b, strlen(b));
        k = k < 0 ? -errno : 0;
        (void) close(fd);
        return k;
}

pid_t spawn_start(const char *path, char *const envp[], int fd_in, int fd_out, int fd_err, const SpawnOptions *o,
                  Spawn **ret) {
        const int fds[3] = { fd_in, fd_out, fd_err };
        int owned[3] = { -1, -1, -1 }; /* copies made to move a descriptor above 2 */
        const char *cwd = o ? o->cwd : NULL;
        int cgroup_fd = o ? o->cgroup_fd : -1;
        size_t n_env = 0, strings = strlen(path) + 1 + (cwd ? strlen(cwd) + 1 : 0), size;
        Spawn *s;
        char *p;
        pid_t pid = -ENOSYS;

        for (; envp[n_env]; n_env++)
                strings += strlen(envp[n_env]) + 1;
        size = sizeof *s + (n_env + 1) * sizeof(char *) + strings;
        size = (size + 63) & ~(size_t) 63;
        s = malloc(size + SPAWN_STACK_SIZE);
        if (!s)
                return -ENOMEM;
        *s = (Spawn) {};
        s->envp = (char **) (s + 1);
        p = (char *) (s->envp + n_env + 1);
        s->argv[0] = p;
        p = stpcpy(p, path) + 1;
        for (size_t i = 0; i < n_env; i++) {
                s->envp[i] = p;
                p = stpcpy(p, envp[i]) + 1;
        }
        s->envp[n_env] = NULL;
        s->cwd = cwd ? strcpy(p, cwd) : NULL;
        s->umask = o ? o->umask : -1;
        s->cgroup_fd = -1;
        /* A descriptor at 0-2 would be overwritten by another one's dup before its own turn. */
        for (size_t i = 0; i < 3; i++) {
                s->fd[i] = fds[i];
                if (fds[i] < 3) {
                        owned[i] = s->fd[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
                        if (owned[i] < 0) {
                                pid = -errno;
                                goto finish;
                        }
                }
        }

#ifdef SPAWN_CLONE
        sigset_t all, saved;
        sigfillset(&all);
        /* valgrind does not refuse it but aborts the whole program. */
        if (!RUNNING_ON_VALGRIND && pthread_sigmask(SIG_BLOCK, &all, &saved) == 0) {
#  ifdef SPAWN_CLONE3
                if (cgroup_fd >= 0) {
                        struct spawn_clone_args a = {
                                .flags = CLONE_VM | CLONE_INTO_CGROUP,
                                .exit_signal = SIGCHLD,
                                .stack = (uint64_t) (uintptr_t) ((char *) s + size),
                                .stack_size = SPAWN_STACK_SIZE,
                                .cgroup = (uint64_t) cgroup_fd,
                        };
                        pid = (pid_t) clone3_call(&a, spawn_child, s);
                }
#  endif
                /* No clone3() (refused by a seccomp filter, or another architecture): the child moves itself. */
                if (cgroup_fd >= 0 && pid < 0 && pid != -EBUSY && pid != -EACCES && pid != -ENOENT)
                        s->cgroup_fd = cgroup_fd;
                if (pid < 0 && (cgroup_fd < 0 || s->cgroup_fd >= 0)) {
                        pid = clone(spawn_child, (char *) s + size + SPAWN_STACK_SIZE, CLONE_VM | SIGCHLD, s);
                        if (pid < 0)
                                pid = -errno;
                }
                (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        }
#endif
        /* Not tried (another architecture, valgrind) or refused (a seccomp filter): the portable way. */
        if (pid == -ENOSYS || pid == -EINVAL || pid == -EPERM) {
                s->cgroup_fd = -1;
                pid = spawn_posix(s);
                if (pid > 0 && cgroup_fd >= 0)
                        (void) spawn_move(pid, cgroup_fd);
        }
finish:
        /* The child has its own descriptor table from here on. */
        for (size_t i = 0; i < 3; i++)
                if (owned[i] >= 0)
                        (void) close(owned[i]);
        if (pid < 0) {
                spawn_free(s);
                return pid;
        }
        *ret = s;
        return pid;
}
