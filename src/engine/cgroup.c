/* SPDX-License-Identifier: MIT */
/* A cgroup per job in the worker's delegated subtree (see cgroup.h). The layout systemd expects of a
 * delegated service (the no-internal-processes rule):
 *   jobs-worker.service/            controllers enabled for the children, no process
 *   jobs-worker.service/worker      the worker
 *   jobs-worker.service/job-C-J     one job's handler and whatever it started
 *   jobs-worker.service/pool-P-N    process N of pool P and whatever it started */

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/cgroup.h"
#include "util/util.h"

#define CGROUP_FS "/sys/fs/cgroup"
#define CGROUP_DONE_WAIT_USEC (2 * USEC_PER_SEC) /* at the worker's end, for killed cgroups to empty */
#define CGROUP_DUPLICATES_MAX 100 /* the same name still being removed, or one jid run twice at once */

struct CgroupRemoval {
        CgroupRemoval *next, *prev;
        CgroupTree *tree;
        sd_event_source *source; /* EPOLLPRI on its cgroup.events */
        char name[CGROUP_NAME_MAX + 1];
};

void cgroup_tree_init(CgroupTree *t) {
        *t = (CgroupTree) { .root_fd = -1 };
}

static int attr_write(int dir, const char *name, const char *value) {
        _cleanup_close_ int fd = openat(dir, name, O_WRONLY | O_CLOEXEC);
        ssize_t k;

        if (fd < 0)
                return negative_errno();
        k = write(fd, value, strlen(value));
        if (k < 0)
                return negative_errno();
        return k == (ssize_t) strlen(value) ? 0 : -EIO;
}

static int attr_read(int dir, const char *name, char *buf, size_t n) {
        _cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
        ssize_t k;

        if (fd < 0)
                return negative_errno();
        k = read(fd, buf, n - 1);
        if (k < 0)
                return negative_errno();
        buf[k] = 0;
        return 0;
}

/* The value of "key N" in a flat-keyed file (cpu.stat, memory.events, cgroup.events), or -ENOENT. */
static int keyed_value(const char *text, const char *key, uint64_t *ret) {
        size_t n = strlen(key);

        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strncmp(l, key, n) == 0 && l[n] == ' ') {
                        char num[32];
                        size_t k = strcspn(l + n + 1, "\n");
                        if (k >= sizeof num)
                                return -ERANGE;
                        memcpy(num, l + n + 1, k);
                        num[k] = 0;
                        return parse_u64(num, ret);
                }
        return -ENOENT;
}

static int removal_try(CgroupRemoval *rm);

static CgroupRemoval *removal_free(CgroupRemoval *rm) {
        CgroupTree *t = rm->tree;

        if (rm->prev)
                rm->prev->next = rm->next;
        else
                t->removals = rm->next;
        if (rm->next)
                rm->next->prev = rm->prev;
        sd_event_source_disable_unref(rm->source);
        free(rm);
        return NULL;
}

static int on_events(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        CgroupRemoval *rm = userdata;

        if (removal_try(rm) != -EBUSY)
                removal_free(rm);
        return 0;
}

/* rmdir once empty: -EBUSY while it still has processes, 0 when gone, another error otherwise. */
static int removal_try(CgroupRemoval *rm) {
        char b[CGROUP_FILE_MAX];
        uint64_t populated = 1;

        /* Reading cgroup.events also re-arms its EPOLLPRI (kernfs counts what each open file saw). */
        if (rm->source) {
                ssize_t k = pread(sd_event_source_get_io_fd(rm->source), b, sizeof b - 1, 0);
                if (k >= 0) {
                        b[k] = 0;
                        (void) keyed_value(b, "populated", &populated);
                        if (populated)
                                return -EBUSY;
                }
        }
        if (unlinkat(rm->tree->root_fd, rm->name, AT_REMOVEDIR) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return 0;
}

/* Kill what is in it, remove it now or once the last process is gone. */
static void cgroup_remove(CgroupTree *t, const char *name) {
        _cleanup_free_ char *events = NULL;
        CgroupRemoval *rm;
        int fd, r;

        if (unlinkat(t->root_fd, name, AT_REMOVEDIR) == 0 || errno != EBUSY || !t->event)
                return;
        rm = calloc(1, sizeof *rm);
        events = strdupf("%s/cgroup.events", name);
        if (!rm || !events) {
                free(rm);
                return;
        }
        rm->tree = t;
        snprintf(rm->name, sizeof rm->name, "%s", name);
        rm->next = t->removals;
        if (t->removals)
                t->removals->prev = rm;
        t->removals = rm;
        fd = openat(t->root_fd, events, O_RDONLY | O_CLOEXEC);
        r = fd < 0 ? negative_errno() : sd_event_add_io(t->event, &rm->source, fd, EPOLLPRI, on_events, rm);
        if (r < 0) {
                /* No watch (the event loop already ended, at the worker's stop): kept for
                 * cgroup_tree_done(), else the next worker's start. */
                if (fd >= 0)
                        (void) close(fd);
                return;
        }
        (void) sd_event_source_set_priority(rm->source, t->priority);
        (void) sd_event_source_set_io_fd_own(rm->source, true);
        /* It may have become empty between the rmdir and the watch. */
        if (removal_try(rm) != -EBUSY)
                removal_free(rm);
}

static void cgroup_kill_remove(CgroupTree *t, const char *name) {
        _cleanup_free_ char *kill = strdupf("%s/cgroup.kill", name);

        if (kill)
                (void) attr_write(t->root_fd, kill, "1");
        cgroup_remove(t, name);
}

void cgroup_tree_done(CgroupTree *t) {
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + CGROUP_DONE_WAIT_USEC;

        /* Killed just now (pool processes, at the worker's end): SIGKILL takes a moment to empty them. */
        while (t->removals) {
                while (unlinkat(t->root_fd, t->removals->name, AT_REMOVEDIR) < 0 && errno == EBUSY &&
                       now_usec(CLOCK_MONOTONIC) < deadline)
                        (void) usleep(5 * 1000);
                removal_free(t->removals);
        }
        t->root_fd = safe_close(t->root_fd);
        free(t->root);
        t->root = NULL;
        t->event = NULL;
}

/* Where /proc/self/cgroup puts us in the unified hierarchy: "0::/system.slice/x.service". */
static int own_cgroup(char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = read_full_file("/proc/self/cgroup", CGROUP_FILE_MAX, &text, &len);
        if (r < 0)
                return r;
        for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strncmp(l, "0::/", 4) == 0) {
                        l[3 + strcspn(l + 3, "\n")] = 0;
                        *ret = strdupf(CGROUP_FS "%s", l + 3);
                        return *ret ? 0 : -ENOMEM;
                }
        return -ENOENT;
}

/* The delegated cgroup, or 0 and why not. */
static int find_root(char **ret, const char **why) {
        _cleanup_free_ char *path = NULL, *procs = NULL, *control = NULL;
        const char *env = getenv(CGROUP_ROOT_ENV);
        struct statfs fs;
        char x[8];
        int r;

        if (env && *env) {
                path = strdup(env);
                if (!path)
                        return -ENOMEM;
        } else {
                if (!getenv("INVOCATION_ID")) {
                        *why = "not started by systemd as a service";
                        return 0;
                }
                if (statfs(CGROUP_FS, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
                        *why = CGROUP_FS " is not the unified cgroup v2 hierarchy";
                        return 0;
                }
                r = own_cgroup(&path);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        *why = "no cgroup v2 path in /proc/self/cgroup";
                        return 0;
                }
        }
        if (statfs(path, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
                *why = "the cgroup directory is not on a cgroup v2 file system";
                return 0;
        }
        procs = strdupf("%s/cgroup.procs", path);
        control = strdupf("%s/cgroup.subtree_control", path);
        if (!procs || !control)
                return -ENOMEM;
        /* Delegate=yes gives the service's user its cgroup; root can write any, so for root systemd's
         * mark of a delegated cgroup decides. */
        if (access(procs, W_OK) < 0 || access(control, W_OK) < 0 ||
            (!env && geteuid() == 0 && getxattr(path, "trusted.delegate", x, sizeof x) < 0 &&
             getxattr(path, "user.delegate", x, sizeof x) < 0)) {
                *why = "the service's cgroup is not delegated to it (Delegate=yes)";
                return 0;
        }
        *ret = TAKE_PTR(path);
        return 1;
}

/* +cpu +memory +pids +io, those the kernel offers us, for the job cgroups. */
static int enable_controllers(CgroupTree *t, int root_fd) {
        static const char *const wanted[] = { "cpu", "memory", "pids", "io" };
        char have[CGROUP_FILE_MAX], want[64] = "";
        int r;

        r = attr_read(root_fd, "cgroup.controllers", have, sizeof have);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(wanted); i++)
                for (char *w = have; (w = strstr(w, wanted[i])); w++)
                        if ((w == have || w[-1] == ' ') && strchr(" \n", w[strlen(wanted[i])]) && w[strlen(wanted[i])]) {
                                strcat(want, "+");
                                strcat(want, wanted[i]);
                                strcat(want, " ");
                                t->memory = t->memory || streq(wanted[i], "memory");
                                t->io = t->io || streq(wanted[i], "io");
                                break;
                        }
        return want[0] ? attr_write(root_fd, "cgroup.subtree_control", want) : 0;
}

/* Job and pool cgroups a dead worker left: whatever is in them goes. */
static void kill_leftovers(CgroupTree *t) {
        _cleanup_close_ int fd = fcntl(t->root_fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;

        if (!d)
                return;
        fd = -1;
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && (strncmp(de->d_name, CGROUP_JOB_PREFIX, strlen(CGROUP_JOB_PREFIX)) == 0 ||
                                             strncmp(de->d_name, CGROUP_POOL_PREFIX, strlen(CGROUP_POOL_PREFIX)) == 0))
                        cgroup_kill_remove(t, de->d_name);
        closedir(d);
}

int cgroup_tree_setup(CgroupTree *t, sd_event *event, const char **ret_why) {
        _cleanup_free_ char *root = NULL;
        int r;

        r = find_root(&root, ret_why);
        if (r <= 0)
                return r;
        t->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t->root_fd < 0) {
                *ret_why = "cannot open the cgroup directory";
                return negative_errno();
        }
        t->event = event;
        t->root = TAKE_PTR(root);
        if (mkdirat(t->root_fd, CGROUP_WORKER_LEAF, 0755) < 0 && errno != EEXIST) {
                r = negative_errno();
                *ret_why = "cannot make the worker's leaf cgroup";
                goto fail;
        }
        r = attr_write(t->root_fd, CGROUP_WORKER_LEAF "/cgroup.procs", "0");
        if (r < 0) {
                *ret_why = "cannot move the worker into its leaf cgroup";
                goto fail;
        }
        kill_leftovers(t);
        r = enable_controllers(t, t->root_fd);
        if (r < 0) {
                *ret_why = "cannot enable the cpu, memory, pids and io controllers for the jobs' cgroups";
                goto fail;
        }
        return 1;
fail:
        t->root_fd = safe_close(t->root_fd);
        return r;
}

/* What a cgroup name may hold as it is; the rest becomes \xNN as systemd-escape writes it. */
static size_t name_append(char *buf, size_t off, size_t max, const char *s, size_t cut) {
        for (size_t i = 0; s[i] && i < cut && off < max; i++) {
                unsigned char c = (unsigned char) s[i];
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("_:.-", c))
                        buf[off++] = (char) c;
                else if (off + 4 <= max)
                        off += (size_t) snprintf(buf + off, 5, "\\x%02x", c);
                else
                        break;
        }
        buf[off] = 0;
        return off;
}

static int cgroup_limits(int fd, bool memory, const ExecSettings *s) {
        char b[64];
        int r = 0;

        /* One job, one unit for the OOM killer: the handler and everything it started go together. */
        if (memory)
                (void) attr_write(fd, "memory.oom.group", "1");
        if (s->memory_max != EXEC_UNSET) {
                snprintf(b, sizeof b, "%" PRIu64, s->memory_max);
                r = attr_write(fd, "memory.max", s->memory_max == EXEC_INFINITY ? "max" : b);
        }
        if (r >= 0 && s->cpu_weight != EXEC_UNSET) {
                snprintf(b, sizeof b, "%" PRIu64, s->cpu_weight);
                r = attr_write(fd, "cpu.weight", b);
        }
        if (r >= 0 && s->cpu_quota_usec != EXEC_UNSET) {
                if (s->cpu_quota_usec == EXEC_INFINITY)
                        snprintf(b, sizeof b, "max %u", EXEC_CPU_QUOTA_PERIOD_USEC);
                else
                        snprintf(b, sizeof b, "%" PRIu64 " %u", s->cpu_quota_usec, EXEC_CPU_QUOTA_PERIOD_USEC);
                r = attr_write(fd, "cpu.max", b);
        }
        if (r >= 0 && s->tasks_max != EXEC_UNSET) {
                snprintf(b, sizeof b, "%" PRIu64, s->tasks_max);
                r = attr_write(fd, "pids.max", s->tasks_max == EXEC_INFINITY ? "max" : b);
        }
        return r;
}

/* A cgroup named base (or base-N while one of that name is still being removed) with the limits of s. */
static int cgroup_make(CgroupTree *t, const char *base, const ExecSettings *s, JobCgroup **ret) {
        _cleanup_free_ JobCgroup *cg = NULL;
        int r;

        if (t->root_fd < 0)
                return -EBADF;
        cg = calloc(1, sizeof *cg);
        if (!cg)
                return -ENOMEM;
        cg->fd = -1;
        cg->memory = t->memory;
        cg->io = t->io;
        for (unsigned n = 1;; n++) {
                if (n == 1)
                        snprintf(cg->name, sizeof cg->name, "%s", base);
                else
                        snprintf(cg->name, sizeof cg->name, "%s-%u", base, n);
                if (mkdirat(t->root_fd, cg->name, 0755) == 0)
                        break;
                if (errno != EEXIST || n >= CGROUP_DUPLICATES_MAX)
                        return negative_errno();
        }
        cg->fd = openat(t->root_fd, cg->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = cg->fd < 0 ? negative_errno() : cgroup_limits(cg->fd, cg->memory, s);
        if (r < 0) {
                cg->fd = safe_close(cg->fd);
                (void) unlinkat(t->root_fd, cg->name, AT_REMOVEDIR);
                return r;
        }
        *ret = TAKE_PTR(cg);
        return 0;
}

int cgroup_job_new(CgroupTree *t, const char *class, const char *jid, const ExecSettings *s, JobCgroup **ret) {
        char base[CGROUP_NAME_MAX - 7]; /* room for "-NN" */
        size_t off;

        off = name_append(base, 0, sizeof base - 1, CGROUP_JOB_PREFIX, SIZE_MAX);
        off = name_append(base, off, sizeof base - 1, class, CGROUP_NAME_CLASS_MAX);
        off = name_append(base, off, sizeof base - 1, "-", 1);
        (void) name_append(base, off, sizeof base - 1, jid, SIZE_MAX);
        return cgroup_make(t, base, s, ret);
}

int cgroup_pool_new(CgroupTree *t, const char *pool, unsigned index, const ExecSettings *s, JobCgroup **ret) {
        char base[CGROUP_NAME_MAX - 7], n[16];
        size_t off;

        snprintf(n, sizeof n, "-%u", index);
        off = name_append(base, 0, sizeof base - 1, CGROUP_POOL_PREFIX, SIZE_MAX);
        off = name_append(base, off, sizeof base - 1, pool, CGROUP_NAME_CLASS_MAX);
        (void) name_append(base, off, sizeof base - 1, n, SIZE_MAX);
        return cgroup_make(t, base, s, ret);
}

int cgroup_job_usage(JobCgroup *cg, CgroupUsage *ret) {
        char b[CGROUP_FILE_MAX];
        CgroupUsage u = { .memory_peak = UINT64_MAX, .io_read = UINT64_MAX, .io_write = UINT64_MAX };
        int r;

        r = attr_read(cg->fd, "cpu.stat", b, sizeof b);
        if (r < 0)
                return r;
        r = keyed_value(b, "usage_usec", &u.cpu_usec);
        if (r < 0)
                return r;
        /* Only the files of enabled controllers: a job's end costs no failed opens. */
        if (cg->memory && attr_read(cg->fd, "memory.peak", b, sizeof b) >= 0)
                (void) parse_u64(strstrip(b), &u.memory_peak);
        if (cg->memory && attr_read(cg->fd, "memory.events", b, sizeof b) >= 0)
                (void) keyed_value(b, "oom_kill", &u.oom_kills);
        /* io.stat: one line per device, "8:0 rbytes=N wbytes=N rios=N ..." */
        if (cg->io && attr_read(cg->fd, "io.stat", b, sizeof b) >= 0) {
                u.io_read = u.io_write = 0;
                for (const char *p = b; (p = strstr(p, "bytes=")); p += 6) {
                        uint64_t v = strtoull(p + 6, NULL, 10);
                        if (p > b && p[-1] == 'r')
                                u.io_read += v;
                        else if (p > b && p[-1] == 'w')
                                u.io_write += v;
                }
        }
        u.known = true;
        *ret = u;
        return 0;
}

int cgroup_job_kill(JobCgroup *cg) {
        return cg && cg->fd >= 0 ? attr_write(cg->fd, "cgroup.kill", "1") : 0;
}

JobCgroup *cgroup_job_release(CgroupTree *t, JobCgroup *cg) {
        if (!cg)
                return NULL;
        cg->fd = safe_close(cg->fd);
        /* An empty cgroup is removed at once (rmdir refuses one with a process, or a fork under way,
         * in it): nothing to kill. Else what is left is killed, and it goes once empty. */
        if (t->root_fd >= 0 && unlinkat(t->root_fd, cg->name, AT_REMOVEDIR) < 0 && errno == EBUSY)
                cgroup_kill_remove(t, cg->name);
        free(cg);
        return NULL;
}
