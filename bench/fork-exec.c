/* SPDX-License-Identifier: MIT */
/* The baseline for executable handlers: run /bin/true N times, P at a time, with plain fork()+execve()
 * and waitpid(), nothing else. Prints runs per second; with a third argument "-v", also (on stderr)
 * the CPU time per run of this process and of its children, and its context switches per run.
 * Usage: fork-exec N [P [-v]] */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
        char *const args[] = { (char *) "/bin/true", NULL };
        char *const env[] = { NULL };
        long n = argc > 1 ? atol(argv[1]) : 10000, p = argc > 2 ? atol(argv[2]) : 1, started = 0, running = 0;
        struct timespec a, b;

        clock_gettime(CLOCK_MONOTONIC, &a);
        while (started < n || running > 0) {
                while (started < n && running < p) {
                        pid_t pid = fork();
                        if (pid < 0)
                                return 1;
                        if (pid == 0) {
                                execve(args[0], args, env);
                                _exit(127);
                        }
                        started++;
                        running++;
                }
                if (wait(NULL) > 0)
                        running--;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("%.0f\n", n / ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9));
        if (argc > 3 && strcmp(argv[3], "-v") == 0) {
                struct rusage self, kids;
                getrusage(RUSAGE_SELF, &self);
                getrusage(RUSAGE_CHILDREN, &kids);
#define US(t) ((t).tv_sec * 1e6 + (t).tv_usec)
                fprintf(stderr, "per run: parent %.0f us CPU, children %.0f us CPU, %.2f voluntary / %.2f involuntary context switches\n",
                        (US(self.ru_utime) + US(self.ru_stime)) / n, (US(kids.ru_utime) + US(kids.ru_stime)) / n,
                        (double) self.ru_nvcsw / n, (double) self.ru_nivcsw / n);
        }
        return 0;
}
