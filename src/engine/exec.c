/* SPDX-License-Identifier: MIT */
/* Executable handlers: spawned without a shell in their own process group (and cgroup, cgroup.h),
 * the job JSON on stdin, an allowlisted environment with JOB_* (exec-settings.h), each output line
 * logged with the job's fields, killed (whole cgroup, else whole group) on timeout or when a stop runs
 * out of time. */

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "engine/worker-internal.h"

static void log_line(void *userdata, LineBuffer *b, const char *line, size_t len) {
        static const char *const out_field[] = { "JOB_HANDLER_STREAM=stdout", NULL };
        static const char *const err_field[] = { "JOB_HANDLER_STREAM=stderr", NULL };
        JobsJob *j = userdata;
        bool is_err = b == &j->err;

        if (is_err && len > 0)
                snprintf(j->last_err, sizeof j->last_err, "%.*s", (int) len, line);
        work_job_log(j, is_err ? LOG_WARNING : LOG_INFO, NULL, is_err ? err_field : out_field, "%.*s", (int) len, line);
}

/* Hand on a last line without its newline, if any. */
static void output_flush(LineBuffer *b, OutputLineFn fn, void *userdata) {
        size_t n = b->len;

        while (n > 0 && b->buf[n - 1] == '\r')
                n--;
        if (b->len > 0)
                fn(userdata, b, b->buf, n);
        b->len = 0;
}

/* Read what fd has; hand on complete lines, and the rest too at EOF or when a line is too long.
 * Returns 1 at EOF, 0 when drained for now. */
static int output_drain(LineBuffer *b, int fd, OutputLineFn fn, void *userdata) {
        for (;;) {
                size_t want = sizeof b->buf - b->len;
                ssize_t k = read(fd, b->buf + b->len, want);
                char *nl;
                size_t start = 0;

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        if (k == 0 || errno != EAGAIN) {
                                output_flush(b, fn, userdata);
                                return 1;
                        }
                        return 0;
                }
                b->len += (size_t) k;
                while ((nl = memchr(b->buf + start, '\n', b->len - start))) {
                        size_t n = (size_t) (nl - (b->buf + start));
                        while (n > 0 && b->buf[start + n - 1] == '\r')
                                n--;
                        fn(userdata, b, b->buf + start, n);
                        start = (size_t) (nl - b->buf) + 1;
                }
                if (start == 0 && b->len == sizeof b->buf)
                        output_flush(b, fn, userdata); /* too long: cut, keep going */
                else if (start > 0) {
                        memmove(b->buf, b->buf + start, b->len - start);
                        b->len -= start;
                }
                /* Less than asked for: the pipe is empty for now (epoll says when it is not). */
                if ((size_t) k < want)
                        return 0;
        }
}

void output_drain_source(sd_event_source **s, LineBuffer *b, OutputLineFn fn, void *userdata) {
        if (*s && output_drain(b, sd_event_source_get_io_fd(*s), fn, userdata) > 0)
                *s = sd_event_source_disable_unref(*s);
}

void output_finish(sd_event_source **s, LineBuffer *b, OutputLineFn fn, void *userdata) {
        if (*s)
                (void) output_drain(b, sd_event_source_get_io_fd(*s), fn, userdata);
        output_flush(b, fn, userdata);
        *s = sd_event_source_disable_unref(*s);
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        JobsJob *j = userdata;

        if (s == j->err_source)
                output_drain_source(&j->err_source, &j->err, log_line, j);
        else
                output_drain_source(&j->out_source, &j->out, log_line, j);
        return 0;
}

static const char *signal_name(int sig) {
        const char *s = sigabbrev_np(sig);
        return s ? s : "unknown";
}

/* Once the handler is gone: its spawn block and our write ends of its pipes. */
void exec_release(JobsJob *j) {
        j->cgroup = cgroup_job_release(&j->worker->cgroups, j->cgroup);
        j->spawn = spawn_free(j->spawn);
        j->out_w = safe_close(j->out_w);
        j->err_w = safe_close(j->err_w);
}

void exec_on_exit(JobsJob *j, const siginfo_t *si) {
        JobsWorker *w = j->worker;
        char m[1024 + PATH_MAX], d[DURATION_MAX], path[PATH_MAX];
        const char *tail;
        int spawn_errno = spawn_exec_errno(j->spawn);
        SpawnStep step = spawn_failed_step(j->spawn);

        /* What it wrote before exiting is still in the pipes; our write ends are still open, so reading
         * stops at "nothing more", and a last line without its newline is logged too. */
        output_finish(&j->out_source, &j->out, log_line, j);
        output_finish(&j->err_source, &j->err, log_line, j);
        j->timeout_source = sd_event_source_disable_unref(j->timeout_source);
        /* What it used, before what it left behind is killed. */
        if (j->cgroup)
                (void) cgroup_job_usage(j->cgroup, &j->usage);
        /* Leave nothing of the handler behind: its group now (the zombie leader still holds the group
         * id until it is reaped, right after), its cgroup in exec_release(). */
        (void) kill(-j->pid, SIGKILL);
        (void) waitpid(j->pid, NULL, WNOHANG);
        j->pid = -1;
        if (spawn_errno)
                snprintf(path, sizeof path, "%s", spawn_path(j->spawn));
        exec_release(j);

        tail = j->last_err[0] ? j->last_err : NULL;
        if (spawn_errno) {
                if (step == SPAWN_STEP_CHDIR)
                        snprintf(m, sizeof m, "cannot start %s: cannot change to its working directory %s: %s", path,
                                 exec_settings_for(w, j->class).working_directory, strerror(spawn_errno));
                else
                        snprintf(m, sizeof m, "cannot start %s%s: %s", path,
                                 step == SPAWN_STEP_CGROUP ? " in its cgroup" : "", strerror(spawn_errno));
                return ack_finish(j, false, "HandlerSpawnError", m);
        }
        if (j->stop_killed)
                return ack_requeue(j);
        if (j->timed_out) {
                snprintf(m, sizeof m, "handler ran longer than its timeout of %s and was killed%s%s",
                         format_duration(d, sizeof d, worker_config_timeout_for(&w->config, j->class)),
                         tail ? ": " : "", strempty(tail));
                return ack_finish(j, false, "HandlerTimeout", m);
        }
        if (j->usage.oom_kills > 0) {
                snprintf(m, sizeof m, "handler ran out of memory: the kernel's OOM killer killed %" PRIu64
                         " process(es) of its cgroup (MemoryMax=)%s%s", j->usage.oom_kills, tail ? ": " : "",
                         strempty(tail));
                return ack_finish(j, false, "HandlerOOMError", m);
        }
        if (si->si_code == CLD_EXITED && si->si_status == 0)
                return ack_finish(j, true, NULL, NULL);
        if (si->si_code == CLD_EXITED) {
                snprintf(m, sizeof m, "handler exited with status %d%s%s", si->si_status, tail ? ": " : "", strempty(tail));
                return ack_finish(j, false, "HandlerExitError", m);
        }
        snprintf(m, sizeof m, "handler killed by signal %s%s%s%s", signal_name(si->si_status),
                 si->si_code == CLD_DUMPED ? " (core dumped)" : "", tail ? ": " : "", strempty(tail));
        ack_finish(j, false, "HandlerSignalError", m);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        JobsJob *j = userdata;

        j->timed_out = true;
        exec_kill(j);
        return 0;
}

/* Its whole cgroup, its whole process group, and the handler itself, which may not have made its
 * group yet. */
void exec_kill(JobsJob *j) {
        (void) cgroup_job_kill(j->cgroup);
        if (j->pid > 0) {
                (void) kill(-j->pid, SIGKILL);
                (void) kill(j->pid, SIGKILL);
        }
}

/* The job JSON for the handler's stdin. Up to PIPE_BUF bytes fit in any empty pipe (even one the
 * kernel shrank to a page), so the common case is a pipe written before the spawn; bigger
 * payloads go in a memfd. Either way the handler reads the whole job, then EOF. */
static int exec_stdin(JobsJob *j) {
        _cleanup_close_ int fd = -1;
        int p[2];

        if (j->raw_len <= PIPE_BUF) {
                _cleanup_close_ int wr = -1;
                ssize_t k;

                if (pipe2(p, O_CLOEXEC) < 0)
                        return negative_errno();
                fd = p[0], wr = p[1];
                k = write(wr, j->raw, j->raw_len);
                if (k != (ssize_t) j->raw_len)
                        return k < 0 ? negative_errno() : -EIO;
                return TAKE_FD(fd);
        }
        fd = memfd_create("job", MFD_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        for (size_t off = 0; off < j->raw_len;) {
                ssize_t k = write(fd, j->raw + off, j->raw_len - off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? negative_errno() : -EIO;
                off += (size_t) k;
        }
        if (lseek(fd, 0, SEEK_SET) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

int exec_spawn(JobsJob *j, const char *path) {
        JobsWorker *w = j->worker;
        _cleanup_close_ int in = -1, out_r = -1, out_w = -1, err_r = -1, err_w = -1;
        const char **env = NULL;
        char *extra[4] = {};
        ExecSettings s = exec_settings_for(w, j->class);
        SpawnOptions o = {
                .cwd = s.working_directory ? s.working_directory : EXEC_WORKING_DIRECTORY_DEFAULT,
                .umask = s.umask >= 0 ? s.umask : EXEC_UMASK_DEFAULT,
                .cgroup_fd = -1,
        };
        int pipes[2], r;
        pid_t pid;
        usec_t timeout;

        in = exec_stdin(j);
        if (in < 0)
                return in;
        if (pipe2(pipes, O_CLOEXEC) < 0)
                return negative_errno();
        out_r = pipes[0], out_w = pipes[1];
        if (pipe2(pipes, O_CLOEXEC) < 0)
                return negative_errno();
        err_r = pipes[0], err_w = pipes[1];
        if (fcntl(out_r, F_SETFL, O_NONBLOCK) < 0 || fcntl(err_r, F_SETFL, O_NONBLOCK) < 0)
                return negative_errno();

        extra[0] = strdupf("JOB_ID=%s", j->jid);
        extra[1] = strdupf("JOB_CLASS=%s", j->class);
        extra[2] = strdupf("JOB_QUEUE=%s", j->queue);
        extra[3] = strdupf("JOB_RETRY_COUNT=%d", MAX(j->retry_count, 0));
        r = (extra[0] && extra[1] && extra[2] && extra[3])
                    ? exec_env_build(NULL, &w->config.exec, worker_config_exec_for(&w->config, j->class), extra,
                                     ELEMENTSOF(extra), &env)
                    : -ENOMEM;
        if (r >= 0 && cgroup_tree_enabled(&w->cgroups)) {
                r = cgroup_job_new(&w->cgroups, j->class, j->jid, &s, &j->cgroup);
                o.cgroup_fd = r >= 0 ? j->cgroup->fd : -1;
        }
        pid = r < 0 ? r : spawn_start(path, (char **) env, in, out_w, err_w, &o, &j->spawn);
        for (size_t i = 0; i < ELEMENTSOF(extra); i++)
                free(extra[i]);
        free(env);
        if (pid < 0) {
                j->cgroup = cgroup_job_release(&w->cgroups, j->cgroup);
                return pid;
        }
        j->pid = pid;
        /* Our copies of the write ends stay open until the handler is reaped: its exit then wakes
         * us once (SIGCHLD), not once more per pipe for the end of file. */
        j->out_w = TAKE_FD(out_w);
        j->err_w = TAKE_FD(err_w);

        /* Its exit arrives as SIGCHLD (worker.c), which finds the job by pid. */
        r = sd_event_add_io(w->event, &j->out_source, out_r, EPOLLIN, on_output, j);
        if (r >= 0) {
                (void) sd_event_source_set_io_fd_own(j->out_source, true);
                (void) sd_event_source_set_priority(j->out_source, w->priority);
                out_r = -1;
                r = sd_event_add_io(w->event, &j->err_source, err_r, EPOLLIN, on_output, j);
        }
        if (r >= 0) {
                (void) sd_event_source_set_io_fd_own(j->err_source, true);
                (void) sd_event_source_set_priority(j->err_source, w->priority);
                err_r = -1;
                timeout = worker_config_timeout_for(&w->config, j->class);
                if (timeout > 0)
                        r = sd_event_add_time_relative(w->event, &j->timeout_source, CLOCK_MONOTONIC, timeout, 0,
                                                       on_timeout, j);
                if (r >= 0 && j->timeout_source)
                        (void) sd_event_source_set_priority(j->timeout_source, w->priority);
        }
        if (r < 0) {
                /* The job ends through its exit, as a failure. */
                j->timed_out = false;
                exec_kill(j);
                log_warning_errno(r, "Cannot watch handler %s of job %s: %m", path, j->jid);
        }
        return 0;
}

ExecSettings exec_settings_for(JobsWorker *w, const char *class) {
        ExecSettings s;

        exec_settings_merge(&w->config.exec, worker_config_exec_for(&w->config, class), &s);
        return s;
}
