/* SPDX-License-Identifier: MIT */
/* jobsctl enqueue: jobs-enqueue for people at a terminal — the very same program, so that its
 * options, checks and exit codes cannot drift apart. */

#include <limits.h>

#include "config.h"
#include "programs/jobsctl.h"
#include "util/log.h"

/* jobs-enqueue next to this binary (a build tree, or a relocated install), else where meson put it. */
static char *enqueue_path(void) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        char *slash, *p;

        if (n > 0) {
                self[n] = 0;
                slash = strrchr(self, '/');
                if (slash) {
                        *slash = 0;
                        p = strdupf("%s/jobs-enqueue", self);
                        if (p && access(p, X_OK) == 0)
                                return p;
                        free(p);
                }
        }
        return strdup(JOBS_ENQUEUE_PATH);
}

int verb_enqueue(int argc, char **argv) {
        _cleanup_free_ char *path = enqueue_path();
        _cleanup_free_ char **av = NULL;
        size_t n = 0;

        if (!path)
                return (void) log_oom(), EX_OSERR;
        av = calloc((size_t) argc + 4, sizeof *av);
        if (!av)
                return (void) log_oom(), EX_OSERR;
        av[n++] = (char *) "jobsctl enqueue"; /* its --help and errors then name jobsctl enqueue */
        /* --redis given before the verb applies here too; one given after it is passed on as is. */
        if (arg_redis) {
                av[n++] = (char *) "--redis";
                av[n++] = (char *) arg_redis;
        }
        for (int i = 1; i < argc; i++)
                av[n++] = argv[i];
        av[n] = NULL;
        fflush(stdout);
        execv(path, av);
        int e = errno;
        log_error_errno(-e, "Failed to run %s: %m. Is the jobs package installed completely?", path);
        return e == ENOENT ? EX_UNAVAILABLE : EX_OSERR;
}
