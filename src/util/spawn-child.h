/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

/* Starting a program without waiting for it to be loaded.
 *
 * posix_spawn() (like vfork()) suspends the caller until the child has called execve(), which costs
 * the caller a context switch per child and blocks it while the kernel loads the program. Here the
 * child is made with clone(CLONE_VM) on a stack of its own and the caller carries on at once. The
 * child shares the caller's memory until execve() replaces it, so:
 *   - everything it reads (path, argv, envp) is first copied into a block that belongs to it, and
 *     the block is freed only after the child has been reaped (spawn_free());
 *   - it makes raw system calls only: no libc function, so no errno or other thread-local state of
 *     the caller is ever written;
 *   - all signals are blocked across clone(); the child sets every signal to its default
 *     disposition before unblocking them, so no handler of the caller can run on its stack.
 * Where clone(CLONE_VM) is not available (another architecture, a seccomp filter that refuses it,
 * or valgrind, which aborts on it: built with valgrind.h, we ask it) it falls back to posix_spawn()
 * with the same result. */

typedef struct Spawn Spawn;

typedef struct SpawnOptions {
        const char *cwd; /* working directory; NULL: the caller's */
        int umask;       /* -1: the caller's */
        int cgroup_fd;   /* a cgroup v2 directory to start in; -1: the caller's cgroup. With clone3()'s
                          * CLONE_INTO_CGROUP where it exists (x86-64), else the child moves itself
                          * before execve() (the posix_spawn() fallback: the caller moves it after) */
} SpawnOptions;

typedef enum SpawnStep {
        SPAWN_STEP_EXEC,
        SPAWN_STEP_CHDIR,
        SPAWN_STEP_CGROUP,
        _SPAWN_STEP_MAX,
} SpawnStep;

/* Run path with argv { path, NULL } and envp, in a new process group, with stdin, stdout and stderr
 * set to fd_in, fd_out, fd_err, every other descriptor closed, all signals at their default and none
 * blocked, and what o asks (NULL: nothing more). Returns the child's pid, or a negative errno if no
 * child was made. A child that could not execute path (or do what o asks) exits with status 127 and
 * spawn_exec_errno() tells why, spawn_failed_step() at which step. */
pid_t spawn_start(const char *path, char *const envp[], int fd_in, int fd_out, int fd_err, const SpawnOptions *o,
                  Spawn **ret);

/* After the child was reaped (or seen exited): the errno of its failed execve(), 0 if it ran. */
int spawn_exec_errno(const Spawn *s);
SpawnStep spawn_failed_step(const Spawn *s);

/* The program it was asked to run. */
const char *spawn_path(const Spawn *s);

/* Only once the child has exited: until then it may still be reading the block. */
Spawn *spawn_free(Spawn *s);
