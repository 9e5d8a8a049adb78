/* SPDX-License-Identifier: MIT */
/* The baseline for executable handlers: run /bin/true N times, P at a time, with plain fork()+execve()
 * and waitpid(), nothing else. Prints runs per second. Usage: fork-exec N [P] */

#include <stdio.h>
#include <stdlib.h>
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
        return 0;
}
