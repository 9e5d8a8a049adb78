/* SPDX-License-Identifier: MIT */
/* Tests only, by LD_PRELOAD: SIGKILL the process at a chosen call, to prove what a run killed there
 * leaves behind. JOBS_TEST_KILL_AT=FUNCTION:N[:after] kills at the Nth call of FUNCTION (linkat,
 * symlinkat, renameat2), before it runs, or just after it returned with "after". */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static unsigned calls[3];
static const char *const names[3] = { "linkat", "symlinkat", "renameat2" };

/* 0: carry on; 1: kill now, before the call; 2: kill after the call */
static int checkpoint(unsigned fn) {
        const char *spec = getenv("JOBS_TEST_KILL_AT");
        size_t l = strlen(names[fn]);
        unsigned n = ++calls[fn];

        if (!spec || strncmp(spec, names[fn], l) != 0 || spec[l] != ':')
                return 0;
        if (strtoul(spec + l + 1, NULL, 10) != n)
                return 0;
        return strstr(spec + l + 1, ":after") ? 2 : 1;
}

static void die(void) {
        kill(getpid(), SIGKILL);
        abort();
}

typedef int (*LinkatFn)(int, const char *, int, const char *, int);
typedef int (*SymlinkatFn)(const char *, int, const char *);
typedef int (*Renameat2Fn)(int, const char *, int, const char *, unsigned);

#define REAL(fn, type)                                  \
        static type real;                               \
        if (!real)                                      \
                real = (type) dlsym(RTLD_NEXT, #fn)

/* the call, with the checkpoint before and after it */
#define AROUND(fn, call)                        \
        ({                                      \
                int k_ = checkpoint(fn), r_;    \
                if (k_ == 1)                    \
                        die();                  \
                r_ = (call);                    \
                if (k_ == 2)                    \
                        die();                  \
                r_;                             \
        })

int linkat(int a, const char *b, int c, const char *d, int flags) {
        REAL(linkat, LinkatFn);
        return AROUND(0, real(a, b, c, d, flags));
}

int symlinkat(const char *a, int b, const char *c) {
        REAL(symlinkat, SymlinkatFn);
        return AROUND(1, real(a, b, c));
}

int renameat2(int a, const char *b, int c, const char *d, unsigned flags) {
        REAL(renameat2, Renameat2Fn);
        return AROUND(2, real(a, b, c, d, flags));
}
