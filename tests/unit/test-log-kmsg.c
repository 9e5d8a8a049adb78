/* SPDX-License-Identifier: MIT */
/* The kmsg target without /dev/kmsg (as in a container): lines go to the journal's native socket when
 * one listens, else to stderr. Runs in a private mount namespace (needs root; skipped otherwise). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <endian.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "util/log.h"
#include "util/util.h"

#define CHECK(x)                                                                        \
        do {                                                                            \
                if (!(x)) {                                                             \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x); \
                        _exit(1);                                                       \
                }                                                                       \
        } while (0)

/* In a child: a mount namespace whose /dev has no kmsg and whose /run is empty. Returns false if
 * this process may not do that (not root, no namespaces). */
static bool private_dev_and_run(void) {
        if (unshare(CLONE_NEWNS) < 0)
                return false;
        if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) /* valgrind wants a type */
                return false;
        if (mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") < 0)
                return false;
        if (mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0)
                return false;
        return true;
}

static int run_in_child(void (*fn)(void)) {
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                if (!private_dev_and_run())
                        _exit(77);
                fn();
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

/* A journald of our own: the socket it listens on. */
static int journal_listen(void) {
        static const struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket" };
        int fd;

        CHECK(mkdir("/run/systemd", 0755) == 0);
        CHECK(mkdir("/run/systemd/journal", 0755) == 0);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        CHECK(bind(fd, (const struct sockaddr *) &sa, sizeof sa) == 0);
        return fd;
}

static void child_journal(void) {
        static const char tail[] = "\nPRIORITY=3\nSYSLOG_IDENTIFIER=test-log\nJOBS_SERVICE=generator\n";
        static const char msg[] = "/etc/jobs/x.schedule:5: bad\nsecond line";
        char buf[512], expect[512];
        uint64_t le = htole64(sizeof msg - 1);
        size_t n = 0;
        ssize_t got;
        int fd;

        fd = journal_listen();

        log_open("test-log", "generator");
        log_set_target(LOG_TARGET_KMSG);
        CHECK(log_get_target() == LOG_TARGET_KMSG);
        log_error("%s", msg);

        got = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        memcpy(expect + n, "MESSAGE\n", 8), n += 8;
        memcpy(expect + n, &le, sizeof le), n += sizeof le;
        memcpy(expect + n, msg, sizeof msg - 1), n += sizeof msg - 1;
        memcpy(expect + n, tail, sizeof tail - 1), n += sizeof tail - 1;
        CHECK(got == (ssize_t) n);
        CHECK(memcmp(buf, expect, n) == 0);
}

/* A service's native journal entries go through the same writer, fields included. */
static void child_service(void) {
        static const char want[] = "MESSAGE=done\nPRIORITY=6\nSYSLOG_IDENTIFIER=test-log\nJOBS_SERVICE=worker\n"
                                   "JOB_ID=abc\nJOB_STATUS=done\n";
        const char *fields[] = { "JOB_ID=abc", "JOB_STATUS=done", NULL };
        char buf[512];
        ssize_t got;
        int fd;

        fd = journal_listen();

        log_open("test-log", "worker");
        log_set_target(LOG_TARGET_STREAM);
        log_open_journal();
        CHECK(log_get_target() == LOG_TARGET_JOURNAL);
        log_fields(LOG_INFO, 0, fields, "done");
        got = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        CHECK(got == (ssize_t) sizeof want - 1);
        CHECK(memcmp(buf, want, sizeof want - 1) == 0);
}

static void child_nothing(void) {
        log_open("test-log", "generator");
        log_set_target(LOG_TARGET_KMSG);
        CHECK(log_get_target() == LOG_TARGET_STDERR);
}

static void test_journal_socket(void **state) {
        int r = run_in_child(child_journal);
        if (r == 77)
                skip();
        assert_int_equal(r, 0);
}

static void test_service_journal(void **state) {
        int r = run_in_child(child_service);
        if (r == 77)
                skip();
        assert_int_equal(r, 0);
}

static void test_no_journal_stderr(void **state) {
        int r = run_in_child(child_nothing);
        if (r == 77)
                skip();
        assert_int_equal(r, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_journal_socket),
                cmocka_unit_test(test_service_journal),
                cmocka_unit_test(test_no_journal_stderr),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
