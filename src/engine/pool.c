/* SPDX-License-Identifier: MIT */
/* Pools of long-lived handler processes. A process is started with the pool's command, in its own
 * process group, its stdin a pipe from us and fd 3 a pipe to us; it says "jobs-handler 1" on fd 3
 * once it is ready, then gets one job at a time (the payload, one JSON line) and answers "done" or
 * "failed CLASS MESSAGE". A job that outlives its timeout kills the process; a process that dies
 * fails its job (retried as usual) and is started again after a growing delay; one that ran
 * MaxJobsPerProcess= jobs gets EOF and is replaced. With cgroups (cgroup.h) each process runs in its own,
 * pool-<name>-<n>, killed whole when the process ends, so nothing it started outlives it. Its stdout and
 * stderr are logged line by line with the fields of the job it runs. The protocol is jobs-handler(7). */

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "engine/pool.h"
#include "engine/worker-internal.h"


typedef enum ProcState {
        PROC_DOWN,      /* not running; maybe a respawn timer */
        PROC_STARTING,  /* started, its handshake not seen yet */
        PROC_IDLE,
        PROC_BUSY,
        PROC_RETIRING,  /* got EOF after its last job, leaving */
} ProcState;

typedef struct PoolProcess {
        Pool *pool;
        unsigned index;
        pid_t pid;
        ProcState state;
        int in_fd;                 /* its stdin, our end, non-blocking */
        sd_event_source *reply_source, *out_source, *timer;
        sd_event_source *stdout_source, *stderr_source;
        LineBuffer stdout_buf, stderr_buf;
        JobCgroup *cgroup;         /* its own, if the worker has a delegated cgroup */
        char buf[POOL_REPLY_MAX];  /* what it wrote on fd 3, up to a newline */
        size_t len;
        char *out;                 /* the job line being written */
        size_t out_len, out_off;
        JobsJob *job;
        unsigned jobs;             /* done by this process */
        unsigned crashes;          /* in a row, for the respawn delay */
        bool timed_out, stop_killed;
        char killed_why[256];      /* a protocol error it was killed for */
} PoolProcess;

struct Pool {
        JobsWorker *worker;
        PoolConfig config;
        const char **env;          /* exec_env_build(): what any handler gets, plus the protocol's */
        ExecSettings limits;       /* the cgroup limits of each process: [Pool]'s over [Worker]'s, no lists */
        char log_field[16 + POOL_NAME_MAX]; /* JOB_POOL=<name> */
        char *env_extra[2];
        PoolProcess *procs;
        JobsJob *wait_head, *wait_tail;
        bool stopping;
};

static void *mfree(void *p) {
        free(p);
        return NULL;
}

static void pool_dispatch(Pool *pool);
static int proc_spawn(PoolProcess *p);

static void proc_kill(PoolProcess *p) {
        (void) cgroup_job_kill(p->cgroup);
        if (p->pid > 0) {
                (void) kill(-p->pid, SIGKILL);
                (void) kill(p->pid, SIGKILL);
        }
}

static void proc_output_line(void *userdata, LineBuffer *b, const char *line, size_t len) {
        PoolProcess *p = userdata;
        bool is_err = b == &p->stderr_buf;
        const char *fields[] = { is_err ? "JOB_HANDLER_STREAM=stderr" : "JOB_HANDLER_STREAM=stdout",
                                 p->pool->log_field, NULL };
        int level = is_err ? LOG_WARNING : LOG_INFO;

        if (p->job)
                work_job_log(p->job, level, NULL, fields, "%.*s", (int) len, line);
        else
                (void) log_fields(level, 0, fields, "%.*s", (int) len, line);
}

/* Log what the process wrote on stdout and stderr and had not been read yet, and a last line
 * without its newline: at its end, with the fields of the job it ran. */
static void proc_drain_output(PoolProcess *p) {
        output_finish(&p->stdout_source, &p->stdout_buf, proc_output_line, p);
        output_finish(&p->stderr_source, &p->stderr_buf, proc_output_line, p);
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PoolProcess *p = userdata;

        if (s == p->stderr_source)
                output_drain_source(&p->stderr_source, &p->stderr_buf, proc_output_line, p);
        else
                output_drain_source(&p->stdout_source, &p->stdout_buf, proc_output_line, p);
        return 0;
}

static void proc_protocol_error(PoolProcess *p, const char *fmt, ...) _printf_(2, 3);
static void proc_protocol_error(PoolProcess *p, const char *fmt, ...) {
        va_list ap;

        if (p->killed_why[0])
                return;
        va_start(ap, fmt);
        vsnprintf(p->killed_why, sizeof p->killed_why, fmt, ap);
        va_end(ap);
        log_error("Pool %s, process %u (pid %d): %s; killing it.", p->pool->config.name, p->index, (int) p->pid,
                  p->killed_why);
        proc_kill(p);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        PoolProcess *p = userdata;
        char d[DURATION_MAX];

        if (p->state == PROC_DOWN)
                return proc_spawn(p), 0;
        if (p->state == PROC_STARTING)
                proc_protocol_error(p, "no handshake (\"jobs-handler %d\" on fd 3) within %s", POOL_PROTOCOL_VERSION,
                                    format_duration(d, sizeof d, p->pool->config.start_timeout));
        else if (p->state == PROC_BUSY) {
                p->timed_out = true;
                proc_kill(p);
        }
        return 0;
}

/* One timer per process, re-armed for each job rather than made anew (0: off). */
static void proc_timer(PoolProcess *p, usec_t after) {
        int r;

        if (after == 0) {
                (void) sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
                return;
        }
        if (p->timer) {
                r = sd_event_source_set_time_relative(p->timer, after);
                if (r >= 0)
                        r = sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT);
        } else {
                r = sd_event_add_time_relative(p->pool->worker->event, &p->timer, CLOCK_MONOTONIC, after, 0, on_timer, p);
                if (r >= 0)
                        r = sd_event_source_set_priority(p->timer, p->pool->worker->priority);
        }
        if (r < 0)
                log_warning_errno(r, "Pool %s: cannot arm a timer for process %u: %m", p->pool->config.name, p->index);
}

static void proc_finish_job(PoolProcess *p, bool ok, const char *error_class, const char *message) {
        JobsJob *j = p->job;
        const PoolConfig *c = &p->pool->config;

        p->job = NULL;
        p->jobs++;
        proc_timer(p, 0);
        p->state = PROC_IDLE;
        if (ok)
                p->crashes = 0;
        if (c->max_jobs > 0 && p->jobs >= c->max_jobs) {
                /* Recycled: EOF on stdin, it leaves, a fresh one takes its place. */
                p->state = PROC_RETIRING;
                p->in_fd = safe_close(p->in_fd);
        }
        ack_finish(j, ok, error_class, message);
        pool_dispatch(p->pool);
}

/* One line from fd 3. */
static void proc_line(PoolProcess *p, char *line) {
        unsigned v;

        if (p->killed_why[0])
                return;
        if (p->state == PROC_STARTING) {
                if (sscanf(line, "jobs-handler %u", &v) != 1)
                        return proc_protocol_error(p, "expected the handshake \"jobs-handler %d\" first, got \"%.64s\"",
                                                   POOL_PROTOCOL_VERSION, line);
                if (v != POOL_PROTOCOL_VERSION)
                        return proc_protocol_error(p, "it speaks version %u of the protocol, this worker speaks %d", v,
                                                   POOL_PROTOCOL_VERSION);
                p->state = PROC_IDLE;
                proc_timer(p, 0);
                return pool_dispatch(p->pool);
        }
        if (p->state != PROC_BUSY)
                return proc_protocol_error(p, "wrote \"%.64s\" while it had no job", line);
        if (streq(line, "done"))
                return proc_finish_job(p, true, NULL, NULL);
        if (strncmp(line, "failed", 6) == 0 && (line[6] == 0 || line[6] == ' ')) {
                char *cls = line[6] ? line + 7 : line + 6, *msg = strchr(cls, ' ');

                if (msg)
                        *msg++ = 0;
                if (!job_class_is_valid(cls))
                        cls = "HandlerError";
                return proc_finish_job(p, false, cls, msg && *msg ? msg : "the handler reported a failure");
        }
        proc_protocol_error(p, "answered \"%.64s\"; expected \"done\" or \"failed CLASS MESSAGE\"", line);
}

static int on_reply(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PoolProcess *p = userdata;

        for (;;) {
                size_t want = sizeof p->buf - p->len;
                ssize_t k = read(fd, p->buf + p->len, want);
                char *nl;

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return 0;
                if (k <= 0) {
                        /* fd 3 closed: the process is leaving; its exit comes as SIGCHLD. */
                        p->reply_source = sd_event_source_disable_unref(p->reply_source);
                        return 0;
                }
                p->len += (size_t) k;
                while ((nl = memchr(p->buf, '\n', p->len))) {
                        size_t n = (size_t) (nl - p->buf) + 1;
                        *nl = 0;
                        if (nl > p->buf && nl[-1] == '\r')
                                nl[-1] = 0;
                        proc_line(p, p->buf);
                        memmove(p->buf, p->buf + n, p->len - n);
                        p->len -= n;
                }
                if (p->len == sizeof p->buf) {
                        p->len = 0;
                        proc_protocol_error(p, "wrote a line longer than %d bytes on fd 3", POOL_REPLY_MAX);
                }
                /* Less than asked for: the pipe is empty for now, and epoll says when it is not. */
                if ((size_t) k < want)
                        return 0;
        }
}

/* Write what is left of the job line; the rest when the pipe has room. */
static int proc_write(PoolProcess *p) {
        while (p->out && p->out_off < p->out_len) {
                ssize_t k = write(p->in_fd, p->out + p->out_off, p->out_len - p->out_off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return 0;
                if (k < 0)
                        return -errno; /* EPIPE: it died; its exit fails the job */
                p->out_off += (size_t) k;
        }
        p->out = mfree(p->out);
        p->out_source = sd_event_source_disable_unref(p->out_source);
        return 1;
}

static int on_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PoolProcess *p = userdata;

        if (proc_write(p) < 0) {
                p->out = mfree(p->out);
                p->out_source = sd_event_source_disable_unref(p->out_source);
        }
        return 0;
}

/* The job line, from off on: what the pipe did not take at once, sent when it has room. */
static char *job_line_rest(JobsJob *j, size_t off, size_t *ret_len) {
        char *line;

        /* One line per job: a payload written over several lines is sent compact. */
        if (memchr(j->raw, '\n', j->raw_len)) {
                _cleanup_free_ char *s = json_dumps(j->job, JSON_COMPACT | JSON_ENCODE_ANY);
                line = s ? strdupf("%s\n", s) : NULL;
                *ret_len = line ? strlen(line) : 0;
                return line;
        }
        line = malloc(j->raw_len + 1 - off);
        if (line) {
                memcpy(line, j->raw + off, j->raw_len - off);
                line[j->raw_len - off] = '\n';
        }
        *ret_len = j->raw_len + 1 - off;
        return line;
}

static void proc_send(PoolProcess *p, JobsJob *j) {
        JobsWorker *w = p->pool->worker;
        const PoolConfig *c = &p->pool->config;
        ssize_t k = 0;
        int r;

        p->job = j;
        p->state = PROC_BUSY;
        p->timed_out = false;
        proc_timer(p, c->timeout > 0 ? c->timeout : worker_config_timeout_for(&w->config, j->class));
        /* Most payloads are one line that an empty pipe takes whole: written straight from the job. */
        if (!memchr(j->raw, '\n', j->raw_len)) {
                struct iovec iov[] = { { j->raw, j->raw_len }, { (char *) "\n", 1 } };

                do
                        k = writev(p->in_fd, iov, ELEMENTSOF(iov));
                while (k < 0 && errno == EINTR);
                if (k == (ssize_t) j->raw_len + 1)
                        return;
                if (k < 0 && errno != EAGAIN) {
                        proc_kill(p); /* EPIPE: it died; the job fails through its exit */
                        return;
                }
                k = MAX(k, 0);
        }
        p->out = job_line_rest(j, (size_t) k, &p->out_len);
        p->out_off = 0;
        r = p->out ? proc_write(p) : -ENOMEM;
        if (r == 0)
                r = sd_event_add_io(w->event, &p->out_source, p->in_fd, EPOLLOUT, on_writable, p);
        if (r == 0 && p->out_source)
                (void) sd_event_source_set_priority(p->out_source, w->priority);
        if (r < 0) {
                p->out = mfree(p->out);
                proc_kill(p); /* the job fails through the process's exit */
        }
}

static void pool_dispatch(Pool *pool) {
        while (pool->wait_head) {
                JobsJob *j = pool->wait_head;
                PoolProcess *idle = NULL;

                if (!pool->stopping)
                        for (unsigned i = 0; i < pool->config.size && !idle; i++)
                                if (pool->procs[i].state == PROC_IDLE)
                                        idle = &pool->procs[i];
                if (!idle && !pool->stopping)
                        return;
                pool->wait_head = j->pool_next;
                if (!pool->wait_head)
                        pool->wait_tail = NULL;
                j->pool_next = NULL;
                if (pool->stopping)
                        ack_requeue(j);
                else
                        proc_send(idle, j);
        }
}

/* Its stdout or stderr: a pipe whose read end we watch. Returns the write end for the child. */
static int proc_output_pipe(PoolProcess *p, sd_event_source **ret) {
        _cleanup_close_ int r = -1, w = -1;
        int fds[2], k;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return negative_errno();
        r = fds[0], w = fds[1];
        if (fcntl(r, F_SETFL, O_NONBLOCK) < 0)
                return negative_errno();
        k = sd_event_add_io(p->pool->worker->event, ret, r, EPOLLIN, on_output, p);
        if (k < 0)
                return k;
        /* What it wrote before its answer is the job's: the kernel flags this pipe readable before fd 3,
         * and sd-event dispatches what is ready by priority, so its lines are read before the answer
         * ends the job, without a read per job to make sure. */
        (void) sd_event_source_set_priority(*ret, p->pool->worker->priority - 1); /* before fd 3's answers */
        (void) sd_event_source_set_io_fd_own(*ret, true);
        r = -1;
        return TAKE_FD(w);
}

static int proc_spawn(PoolProcess *p) {
        Pool *pool = p->pool;
        JobsWorker *w = pool->worker;
        _cleanup_close_ int in_r = -1, in_w = -1, rep_r = -1, rep_w = -1, out_w = -1, err_w = -1;
        int fds[2], r, cg_fd;
        pid_t pid;

        if (pool->stopping)
                return 0;
        if (pipe2(fds, O_CLOEXEC) < 0)
                goto fail_errno;
        in_r = fds[0], in_w = fds[1];
        if (pipe2(fds, O_CLOEXEC) < 0)
                goto fail_errno;
        rep_r = fds[0], rep_w = fds[1];
        if (fcntl(in_w, F_SETFL, O_NONBLOCK) < 0 || fcntl(rep_r, F_SETFL, O_NONBLOCK) < 0)
                goto fail_errno;
        r = out_w = proc_output_pipe(p, &p->stdout_source);
        if (r >= 0)
                r = err_w = proc_output_pipe(p, &p->stderr_source);
        if (r >= 0 && cgroup_tree_enabled(&w->cgroups))
                r = cgroup_pool_new(&w->cgroups, pool->config.name, p->index, &pool->limits, &p->cgroup);
        if (r < 0)
                goto fail;
        cg_fd = p->cgroup ? p->cgroup->fd : -1;
        pid = fork();
        if (pid < 0)
                goto fail_errno;
        if (pid == 0) {
                sigset_t none;

                /* The worker blocks the signals it handles: the handler starts with none blocked. */
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                (void) signal(SIGPIPE, SIG_DFL);
                (void) setpgid(0, 0);
                if (dup2(err_w, STDERR_FILENO) < 0 || dup2(out_w, STDOUT_FILENO) < 0 || dup2(in_r, STDIN_FILENO) < 0 ||
                    dup2(rep_w, 3) < 0)
                        _exit(127);
                /* Into its cgroup before it can start anything. */
                if (cg_fd >= 0) {
                        int fd = openat(cg_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
                        if (fd < 0 || write(fd, "0", 1) != 1) {
                                fprintf(stderr, "Cannot move into the cgroup %s: %m\n", p->cgroup->name);
                                _exit(127);
                        }
                }
                execve(pool->config.argv[0], pool->config.argv, (char **) pool->env);
                fprintf(stderr, "Cannot run %s: %s\n", pool->config.argv[0], strerror(errno));
                _exit(127);
        }
        p->pid = pid;
        p->in_fd = TAKE_FD(in_w);
        p->state = PROC_STARTING;
        p->len = 0;
        p->jobs = 0;
        p->killed_why[0] = 0;
        p->timed_out = p->stop_killed = false;
        r = sd_event_add_io(w->event, &p->reply_source, rep_r, EPOLLIN, on_reply, p);
        if (r >= 0) {
                (void) sd_event_source_set_io_fd_own(p->reply_source, true);
                (void) sd_event_source_set_priority(p->reply_source, w->priority);
                rep_r = -1;
        } else
                proc_kill(p);
        proc_timer(p, pool->config.start_timeout);
        log_debug("Pool %s: started process %u (pid %d)%s%s.", pool->config.name, p->index, (int) pid,
                  p->cgroup ? " in cgroup " : "", p->cgroup ? p->cgroup->name : "");
        return 0;
fail_errno:
        r = negative_errno();
fail:
        log_error_errno(r, "Pool %s: cannot start process %u: %m", pool->config.name, p->index);
        p->stdout_source = sd_event_source_disable_unref(p->stdout_source);
        p->stderr_source = sd_event_source_disable_unref(p->stderr_source);
        p->cgroup = cgroup_job_release(&w->cgroups, p->cgroup);
        p->crashes++;
        proc_timer(p, POOL_BACKOFF_MAX_USEC);
        return r;
}

/* The environment of pool processes: the allowlist every handler gets, with [Worker]'s
 * Environment= and PassEnvironment= (a pool serves several classes: [Class] settings do not apply),
 * plus the protocol's. Never the Redis URL, passwords or the credentials directory. */
static int pool_env(Pool *pool) {
        snprintf(pool->log_field, sizeof pool->log_field, "JOB_POOL=%s", pool->config.name);
        pool->env_extra[0] = strdupf("JOBS_HANDLER_PROTOCOL=%d", POOL_PROTOCOL_VERSION);
        pool->env_extra[1] = strdupf("JOBS_POOL=%s", pool->config.name);
        if (!pool->env_extra[0] || !pool->env_extra[1])
                return -ENOMEM;
        return exec_env_build(NULL, &pool->worker->config.exec, NULL, pool->env_extra, ELEMENTSOF(pool->env_extra),
                              &pool->env);
}

static Pool *pool_free(Pool *pool) {
        if (!pool)
                return NULL;
        free(pool->env);
        for (size_t i = 0; i < ELEMENTSOF(pool->env_extra); i++)
                free(pool->env_extra[i]);
        free(pool->procs);
        pool_config_done(&pool->config);
        free(pool);
        return NULL;
}

static Pool *pool_get(JobsWorker *w, const PoolConfig *c) {
        Pool *pool, **a;

        for (size_t i = 0; i < w->n_pools; i++)
                if (streq(w->pools[i]->config.name, c->name))
                        return w->pools[i];
        /* Started at its first job, with the settings of that moment (a reload does not change it). */
        pool = calloc(1, sizeof *pool);
        if (!pool)
                return NULL;
        pool->worker = w;
        if (pool_config_copy(c, &pool->config) < 0) {
                free(pool);
                return NULL;
        }
        /* The limits of that moment too; only the four numbers are kept (the lists are the config's). */
        exec_settings_merge(&w->config.exec, &pool->config.limits, &pool->limits);
        pool->limits.environment = pool->limits.pass_environment = NULL;
        pool->limits.working_directory = NULL;
        pool->procs = calloc(pool->config.size, sizeof *pool->procs);
        a = reallocarray(w->pools, w->n_pools + 1, sizeof *a);
        if (a)
                w->pools = a; /* the old array is gone either way once this succeeded */
        if (pool_env(pool) < 0 || !pool->procs || !a)
                return pool_free(pool);
        w->pools[w->n_pools++] = pool;
        log_info("Pool %s: starting %u process(es) of %s.", pool->config.name, pool->config.size, pool->config.argv[0]);
        for (unsigned i = 0; i < pool->config.size; i++) {
                pool->procs[i] = (PoolProcess) { .pool = pool, .index = i, .pid = -1, .in_fd = -1 };
                (void) proc_spawn(&pool->procs[i]);
        }
        return pool;
}

int pool_run(JobsWorker *w, JobsJob *j) {
        const PoolConfig *c = worker_config_pool_for(&w->config, j->class);
        Pool *pool;

        if (!c)
                return 0;
        pool = pool_get(w, c);
        if (!pool) {
                ack_finish(j, false, "NoMemoryError", "out of memory starting the handler pool");
                return 1;
        }
        j->pool_next = NULL;
        if (pool->wait_tail)
                pool->wait_tail->pool_next = j;
        else
                pool->wait_head = j;
        pool->wait_tail = j;
        pool_dispatch(pool);
        return 1;
}

static PoolProcess *proc_by_pid(JobsWorker *w, pid_t pid) {
        for (size_t i = 0; i < w->n_pools; i++)
                for (unsigned k = 0; k < w->pools[i]->config.size; k++)
                        if (w->pools[i]->procs[k].pid == pid)
                                return &w->pools[i]->procs[k];
        return NULL;
}

/* Everything of a process that is gone, but its job and counters; whatever is left in its cgroup is
 * killed. */
static void proc_release(PoolProcess *p) {
        p->cgroup = cgroup_job_release(&p->pool->worker->cgroups, p->cgroup);
        p->stdout_source = sd_event_source_disable_unref(p->stdout_source);
        p->stderr_source = sd_event_source_disable_unref(p->stderr_source);
        p->stdout_buf.len = p->stderr_buf.len = 0;
        p->pid = -1;
        p->in_fd = safe_close(p->in_fd);
        p->reply_source = sd_event_source_disable_unref(p->reply_source);
        p->out_source = sd_event_source_disable_unref(p->out_source);
        p->timer = sd_event_source_disable_unref(p->timer);
        p->out = mfree(p->out);
        p->len = 0;
        p->state = PROC_DOWN;
}

bool pool_next_exited(JobsWorker *w, siginfo_t *si) {
        for (size_t i = 0; i < w->n_pools; i++)
                for (unsigned k = 0; k < w->pools[i]->config.size; k++)
                        if (child_exited(w->pools[i]->procs[k].pid, si))
                                return true;
        return false;
}

int pool_on_exit(JobsWorker *w, const siginfo_t *si) {
        PoolProcess *p = proc_by_pid(w, si->si_pid);
        Pool *pool;
        JobsJob *j;
        ProcState was;
        char how[64], m[512], d[DURATION_MAX];
        usec_t delay;

        if (!p)
                return 0;
        pool = p->pool;
        /* Whatever it started goes with it: its process group now, its cgroup in proc_release(). */
        (void) kill(-p->pid, SIGKILL);
        (void) waitpid(p->pid, NULL, 0);
        was = p->state;
        proc_drain_output(p); /* its last words are its job's */
        j = p->job;
        p->job = NULL;
        proc_release(p);

        if (si->si_code == CLD_EXITED)
                snprintf(how, sizeof how, "exited with status %d", si->si_status);
        else
                snprintf(how, sizeof how, "was killed by signal %s", strna(sigabbrev_np(si->si_status)));
        if (j) {
                usec_t t = pool->config.timeout > 0 ? pool->config.timeout : worker_config_timeout_for(&w->config, j->class);
                if (p->stop_killed)
                        ack_requeue(j);
                else if (p->timed_out) {
                        snprintf(m, sizeof m, "handler ran longer than its timeout of %s; its process in pool %s was killed",
                                 format_duration(d, sizeof d, t), pool->config.name);
                        ack_finish(j, false, "HandlerTimeout", m);
                } else if (p->killed_why[0]) {
                        snprintf(m, sizeof m, "handler process in pool %s broke the protocol: %s", pool->config.name, p->killed_why);
                        ack_finish(j, false, "HandlerProtocolError", m);
                } else {
                        snprintf(m, sizeof m, "handler process in pool %s %s while running the job", pool->config.name, how);
                        ack_finish(j, false, si->si_code == CLD_EXITED ? "HandlerExitError" : "HandlerSignalError", m);
                }
        }
        if (pool->stopping || w->state >= WORKER_STOPPING)
                return 1;
        if (was == PROC_RETIRING && si->si_code == CLD_EXITED && si->si_status == 0) {
                (void) proc_spawn(p); /* recycled */
                return 1;
        }
        /* A crash, a kill, a process that never became ready: start it again, later each time. */
        delay = POOL_BACKOFF_MIN_USEC << MIN(p->crashes, 20u);
        delay = MIN(delay, POOL_BACKOFF_MAX_USEC);
        p->crashes++;
        if (!p->timed_out)
                log_warning("Pool %s, process %u (pid %d) %s%s; starting it again in %s.", pool->config.name, p->index,
                            (int) si->si_pid, how, was == PROC_STARTING ? " before its handshake" : "",
                            format_duration(d, sizeof d, delay));
        p->timed_out = false;
        proc_timer(p, delay);
        pool_dispatch(pool);
        return 1;
}

void pools_stop(JobsWorker *w) {
        for (size_t i = 0; i < w->n_pools; i++) {
                w->pools[i]->stopping = true;
                pool_dispatch(w->pools[i]);
        }
}

unsigned pools_kill_busy(JobsWorker *w) {
        unsigned n = 0;

        for (size_t i = 0; i < w->n_pools; i++)
                for (unsigned k = 0; k < w->pools[i]->config.size; k++) {
                        PoolProcess *p = &w->pools[i]->procs[k];
                        if (p->state == PROC_BUSY && p->pid > 0) {
                                p->stop_killed = true;
                                proc_kill(p);
                                n++;
                        }
                }
        return n;
}

void pools_free(JobsWorker *w) {
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + POOL_EXIT_WAIT_USEC;
        bool left;

        /* EOF on stdin is the polite way out (jobs-handler(7)); then a short wait, then SIGKILL. */
        for (size_t i = 0; i < w->n_pools; i++) {
                w->pools[i]->stopping = true;
                for (unsigned k = 0; k < w->pools[i]->config.size; k++)
                        w->pools[i]->procs[k].in_fd = safe_close(w->pools[i]->procs[k].in_fd);
        }
        do {
                left = false;
                for (size_t i = 0; i < w->n_pools; i++)
                        for (unsigned k = 0; k < w->pools[i]->config.size; k++) {
                                PoolProcess *p = &w->pools[i]->procs[k];
                                if (p->pid > 0 && waitpid(p->pid, NULL, WNOHANG) == 0)
                                        left = true;
                                else if (p->pid > 0) {
                                        (void) cgroup_job_kill(p->cgroup);
                                        (void) kill(-p->pid, SIGKILL);
                                        p->pid = -1;
                                }
                        }
                if (left)
                        (void) usleep(10 * 1000);
        } while (left && now_usec(CLOCK_MONOTONIC) < deadline);
        for (size_t i = 0; i < w->n_pools; i++) {
                Pool *pool = w->pools[i];
                for (unsigned k = 0; k < pool->config.size; k++) {
                        PoolProcess *p = &pool->procs[k];
                        if (p->pid > 0) {
                                proc_kill(p);
                                (void) waitpid(p->pid, NULL, 0);
                        }
                        p->job = NULL;
                        proc_drain_output(p);
                        proc_release(p);
                }
                pool_free(pool); /* waiting jobs are still the worker's: freed with it */
        }
        w->pools = mfree(w->pools);
        w->n_pools = 0;
}
