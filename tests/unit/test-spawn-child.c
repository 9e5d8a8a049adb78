/* SPDX-License-Identifier: MIT */
/* spawn_start(): what the program finds (stdin, environment, process group, signals, descriptors),
 * what the caller may do with its buffers right after, and how a failed exec is reported. The
 * program is spawn-probe, which prints what it finds; its path comes from SPAWN_PROBE. */

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "util/macro.h"
#include "util/spawn-child.h"

#if HAVE_VALGRIND_VALGRIND_H
#  include <valgrind/valgrind.h>
#else
#  define RUNNING_ON_VALGRIND 0
#endif

/* Under valgrind, posix_spawn's vfork becomes a fork and the child cannot hand its errno back. */
#define assert_exec_errno(got, want) assert_true((got) == (want) || (RUNNING_ON_VALGRIND && (got) == 0))

typedef struct Run {
        pid_t pid;
        int status;
        int exec_errno;
        char out[8192], err[1024];
} Run;

static const char *probe(void) {
        const char *p = getenv("SPAWN_PROBE");
        assert_non_null(p);
        return p;
}

static void read_all(int fd, char *buf, size_t size) {
        size_t n = 0;
        ssize_t k;

        while (n < size - 1 && (k = read(fd, buf + n, size - 1 - n)) > 0)
                n += (size_t) k;
        buf[n] = 0;
}

/* Spawns path with stdin holding input; the write end of its stderr pipe may be placed at a given
 * number first (-1: wherever pipe2 put it). Collects output and exit status. */
static int run_at(const char *path, char **envp, const char *input, int err_at, Run *r) {
        int in[2], out[2], err[2];
        Spawn *s = NULL;

        assert_int_equal(pipe2(in, O_CLOEXEC), 0);
        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        assert_int_equal(pipe2(err, O_CLOEXEC), 0);
        assert_int_equal(write(in[1], input, strlen(input)), (ssize_t) strlen(input));
        close(in[1]);
        if (err_at >= 0) {
                assert_int_equal(dup3(err[1], err_at, O_CLOEXEC), err_at);
                close(err[1]);
                err[1] = err_at;
        }
        r->pid = spawn_start(path, envp, in[0], out[1], err[1], NULL, &s);
        close(in[0]);
        close(out[1]);
        close(err[1]);
        if (r->pid < 0) {
                close(out[0]);
                close(err[0]);
                return r->pid;
        }
        read_all(out[0], r->out, sizeof r->out);
        read_all(err[0], r->err, sizeof r->err);
        close(out[0]);
        close(err[0]);
        assert_int_equal(waitpid(r->pid, &r->status, 0), r->pid);
        r->exec_errno = spawn_exec_errno(s);
        spawn_free(s);
        return 0;
}

static void test_what_the_program_finds(void **state) {
        struct sigaction ign = { .sa_handler = SIG_IGN }, saved_pipe;
        sigset_t term, saved_mask;
        char env_text[] = "SPAWN_TEST=one";
        char *envp[] = { env_text, NULL };
        int leak;
        Run r = {};

        /* What a caller may have: an ignored signal, a blocked signal, and a descriptor that is not
         * close-on-exec. None of it may reach the program. (Handlers are reset by execve() itself;
         * the child resets them earlier for the instant before it, which no test can catch.) */
        assert_int_equal(sigaction(SIGPIPE, &ign, &saved_pipe), 0);
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        assert_int_equal(sigprocmask(SIG_BLOCK, &term, &saved_mask), 0);
        leak = open("/dev/null", O_RDONLY);
        assert_true(leak > 2);

        assert_int_equal(run_at(probe(), envp, "{\"class\":\"X\"}", -1, &r), 0);
        /* The environment is the program's own copy: changing ours now changes nothing for it. */
        memcpy(env_text, "SPAWN_TEST=two", sizeof env_text);

        assert_true(WIFEXITED(r.status));
        assert_int_equal(WEXITSTATUS(r.status), 3);
        assert_int_equal(r.exec_errno, 0);
        assert_non_null(strstr(r.out, "stdin={\"class\":\"X\"}\n"));
        assert_non_null(strstr(r.out, "env=one\n"));
        assert_non_null(strstr(r.out, "own-group=1\n"));
        assert_non_null(strstr(r.out, "blocked=0\n"));
        assert_non_null(strstr(r.out, "ignored=\n"));
        assert_non_null(strstr(r.out, "fds=\n"));
        assert_string_equal(r.err, "to stderr\n");

        close(leak);
        sigprocmask(SIG_SETMASK, &saved_mask, NULL);
        sigaction(SIGPIPE, &saved_pipe, NULL);
}

static void test_low_descriptors(void **state) {
        char *envp[] = { NULL };
        int saved = dup(STDIN_FILENO);
        Run r = {};

        /* The stderr pipe given at fd 0: making stdin must not overwrite it before its own turn. */
        assert_true(saved > 2);
        assert_int_equal(run_at(probe(), envp, "low", STDIN_FILENO, &r), 0);
        assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
        close(saved);
        assert_true(WIFEXITED(r.status));
        assert_non_null(strstr(r.out, "stdin=low\n"));
        assert_non_null(strstr(r.out, "env=(unset)\n"));
        assert_string_equal(r.err, "to stderr\n");
}

static void test_many_at_once(void **state) {
        enum { N = 32 };
        int out[N];
        pid_t pid[N];
        Spawn *s[N] = {};
        char envs[N][32];

        /* Started back to back, each with its own environment, the buffer reused at once. */
        for (int i = 0; i < N; i++) {
                char *envp[] = { envs[i], NULL };
                int p[2], in[2];

                snprintf(envs[i], sizeof envs[i], "SPAWN_TEST=%d", i);
                assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                assert_int_equal(pipe2(in, O_CLOEXEC), 0);
                close(in[1]);
                pid[i] = spawn_start(probe(), envp, in[0], p[1], p[1], NULL, &s[i]);
                assert_true(pid[i] > 0);
                memset(envs[i], 'x', sizeof envs[i] - 1);
                close(in[0]);
                close(p[1]);
                out[i] = p[0];
        }
        for (int i = 0; i < N; i++) {
                char buf[8192], want[32];
                int status;

                read_all(out[i], buf, sizeof buf);
                close(out[i]);
                assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
                snprintf(want, sizeof want, "env=%d\n", i);
                assert_non_null(strstr(buf, want));
                spawn_free(s[i]);
        }
}

static void test_exec_failure(void **state) {
        char dir[] = "/tmp/test-spawn-XXXXXX", path[64];
        char *envp[] = { NULL };
        Run r = {};
        int fd, k;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/not-executable", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);

        /* Either the child reports it (exit 127 + the errno), or, where spawning falls back to
         * posix_spawn, spawn_start() itself does. Both name the same errno. */
        k = run_at(path, envp, "", -1, &r);
        if (k < 0)
                assert_int_equal(k, -EACCES);
        else {
                assert_true(WIFEXITED(r.status));
                assert_int_equal(WEXITSTATUS(r.status), 127);
                assert_exec_errno(r.exec_errno, EACCES);
        }

        snprintf(path, sizeof path, "%s/missing", dir);
        k = run_at(path, envp, "", -1, &r);
        if (k < 0)
                assert_int_equal(k, -ENOENT);
        else {
                assert_int_equal(WEXITSTATUS(r.status), 127);
                assert_exec_errno(r.exec_errno, ENOENT);
        }

        snprintf(path, sizeof path, "%s/not-executable", dir);
        unlink(path);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_what_the_program_finds),
                cmocka_unit_test(test_low_descriptors),
                cmocka_unit_test(test_many_at_once),
                cmocka_unit_test(test_exec_failure),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
