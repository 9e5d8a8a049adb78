/* SPDX-License-Identifier: MIT */
/* Run by test-spawn-child: prints what a spawned program finds, one "key=value" per line. */

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
        char in[4096];
        size_t n = fread(in, 1, sizeof in - 1, stdin);
        sigset_t mask;
        int blocked = 0;
        DIR *d;
        struct dirent *e;

        in[n] = 0;
        printf("stdin=%s\n", in);
        printf("env=%s\n", getenv("SPAWN_TEST") ? getenv("SPAWN_TEST") : "(unset)");
        printf("own-group=%d\n", getpgrp() == getpid());
        sigprocmask(SIG_SETMASK, NULL, &mask);
        for (int sig = 1; sig < SIGRTMIN; sig++)
                blocked += sigismember(&mask, sig) == 1;
        printf("blocked=%d\n", blocked);
        /* execve() resets handlers by itself but keeps ignored signals ignored. (Handlers here
         * would be the probe's own, such as a sanitizer's.) */
        printf("ignored=");
        for (int sig = 1; sig < NSIG; sig++) {
                struct sigaction sa;
                if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
                        printf("%d ", sig);
        }
        printf("\nfds=");
        d = opendir("/proc/self/fd");
        while (d && (e = readdir(d)))
                if (e->d_name[0] != '.' && atoi(e->d_name) > 2 && atoi(e->d_name) != dirfd(d))
                        printf("%s ", e->d_name);
        if (d)
                closedir(d);
        printf("\n");
        fprintf(stderr, "to stderr\n");
        return 3;
}
