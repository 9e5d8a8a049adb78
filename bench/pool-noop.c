/* SPDX-License-Identifier: MIT */
/* A no-op long-lived handler (jobs-handler(7) version 1) for bench/pool.sh: the handshake, then
 * "done" for every job line on stdin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int say(const char *s) {
        size_t n = strlen(s);
        return write(3, s, n) == (ssize_t) n ? 0 : -1;
}

int main(void) {
        char *line = NULL;
        size_t cap = 0;

        if (say("jobs-handler 1\n") < 0)
                return 1;
        while (getline(&line, &cap, stdin) > 0)
                if (say("done\n") < 0)
                        break;
        free(line);
        return 0;
}
