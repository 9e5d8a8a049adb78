/* SPDX-License-Identifier: MIT */
/* Calendar expressions checked by systemd-analyze: one spawn (no shell) for many expressions.
 *
 * systemd's calendar grammar (systemd.time(7)) has ranges, repetitions, weekday lists, "~" for the
 * last days of a month and IANA time zones; re-implementing it would drift from the systemd that
 * runs the timers. `systemd-analyze calendar A B C ...` parses each argument, prints a block for
 * every one it accepts and goes on after a failure, so one invocation checks a whole schedule. */

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "model/calendar-spec.h"
#include "units/calendar.h"

#define CALENDAR_OUTPUT_MAX (256U * 1024 * 1024)

extern char **environ;

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The whole content of a memfd the child wrote into, NUL-terminated. */
static int read_back(int fd, char **ret) {
        struct stat st;
        char *buf;
        size_t got = 0;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if ((uint64_t) st.st_size > CALENDAR_OUTPUT_MAX)
                return -EPROTO;
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (got < (size_t) st.st_size) {
                ssize_t k = pread(fd, buf + got, (size_t) st.st_size - got, (off_t) got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        free(buf);
                        return k < 0 ? negative_errno() : -EIO;
                }
                got += (size_t) k;
        }
        buf[got] = 0;
        *ret = buf;
        return 0;
}

/* Run systemd-analyze on exprs[0..n) (distinct) and set valid[] from what it printed. Its stdout and
 * stderr go to two memory files read after it exited: no pipe to fill, no interleaving. */
static int check_batch(const char *const *exprs, size_t n, bool *valid) {
        const char *prog = getenv("JOBS_SYSTEMD_ANALYZE");
        _cleanup_free_ const char **argv = NULL;
        _cleanup_free_ char *out = NULL, *err = NULL;
        _cleanup_close_ int outfd = -1, errfd = -1;
        posix_spawn_file_actions_t fa;
        int r, status;
        pid_t pid;

        if (!prog || !*prog)
                prog = CALENDAR_ANALYZE_DEFAULT;
        argv = calloc(n + 4, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        argv[0] = prog;
        argv[1] = "calendar";
        argv[2] = "--";
        for (size_t i = 0; i < n; i++)
                argv[3 + i] = exprs[i];

        outfd = memfd_create("systemd-analyze-stdout", MFD_CLOEXEC);
        errfd = memfd_create("systemd-analyze-stderr", MFD_CLOEXEC);
        if (outfd < 0 || errfd < 0)
                return negative_errno();

        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, outfd, STDOUT_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, errfd, STDERR_FILENO);
        if (r == 0)
                r = posix_spawnp(&pid, prog, &fa, NULL, (char *const *) argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        /* 0: all accepted, 1: some refused; anything else means it did not do its job */
        if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
                return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -ENOENT : -EPROTO;
        r = read_back(outfd, &out);
        if (r >= 0)
                r = read_back(errfd, &err);
        if (r < 0)
                return r;

        /* every refusal is one "Failed to parse calendar specification '...'" line on stderr */
        size_t refused = 0;
        for (const char *p = err; (p = strstr(p, "Failed to parse calendar specification")); p++)
                refused++;

        /* Accepted expressions are echoed in argument order, as "Original form: X" followed by its
         * "Normalized form:", or only as "Normalized form: X" when X is already normalized; the
         * ones skipped in between were refused. */
        size_t i = 0, accepted = 0;
        bool had_original = false;
        for (char *line = out, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                const char *l = line + strspn(line, " ");
                if (strncmp(l, "Original form: ", 15) == 0) {
                        l += 15;
                        had_original = true;
                } else if (strncmp(l, "Normalized form: ", 17) == 0) {
                        l += 17;
                        if (had_original) {
                                had_original = false;
                                continue;
                        }
                } else
                        continue;
                while (i < n && !streq(exprs[i], l))
                        valid[i++] = false;
                if (i >= n)
                        return -EPROTO;
                valid[i++] = true;
                accepted++;
        }
        if (accepted + refused != n || (WEXITSTATUS(status) == 0) != (refused == 0))
                return -EPROTO;
        while (i < n)
                valid[i++] = false;
        return 0;
}

int calendar_check(const char *const *exprs, size_t n, bool *valid) {
        _cleanup_free_ const char **uniq = NULL;
        _cleanup_free_ bool *uvalid = NULL;
        size_t nu = 0;
        int r;

        if (n == 0)
                return 0;
        uniq = malloc(n * sizeof(char *));
        uvalid = calloc(n, sizeof(bool));
        if (!uniq || !uvalid)
                return -ENOMEM;
        memcpy(uniq, exprs, n * sizeof(char *));
        qsort(uniq, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++)
                if (nu == 0 || !streq(uniq[nu - 1], uniq[i]))
                        uniq[nu++] = uniq[i];

        for (size_t start = 0; start < nu;) {
                size_t end = start, bytes = 0;
                while (end < nu && (end == start || bytes + strlen(uniq[end]) + 1 <= CALENDAR_BATCH_BYTES))
                        bytes += strlen(uniq[end++]) + 1;
                r = check_batch(uniq + start, end - start, uvalid + start);
                if (r < 0)
                        return r;
                start = end;
        }

        for (size_t i = 0; i < n; i++) {
                const char **hit = bsearch(&exprs[i], uniq, nu, sizeof(char *), cmp_str);
                valid[i] = hit && uvalid[hit - uniq];
        }
        return 0;
}

/* The occurrence of a run (the claim key) is computed by calendar-spec.c: an expression systemd
 * accepts but that cannot be evaluated the same way on every host is an error, never a silently
 * duplicated or dropped run; so is one that never elapses. */
static int check_evaluable(Schedule *s, ScheduleEntry *e, const ScheduleCalendar *cal) {
        _cleanup_(calendar_spec_freep) CalendarSpec *spec = NULL;
        _cleanup_free_ char *error = NULL;
        usec_t t;
        int r;

        r = calendar_spec_parse(cal->expression, &spec, &error);
        if (r == -EINVAL)
                return schedule_add_error(s, e, e->path, cal->line,
                                          "OnCalendar=%s: systemd accepts this calendar expression, but jobs "
                                          "cannot compute its occurrences the same way on every host: %s "
                                          "(see jobs-schedule(5), section CALENDARS)",
                                          cal->expression, strempty(error));
        if (r < 0)
                return r;
        /* A date no month has ("*-02-30", "*-04-31"): systemd loads the timer and never starts the job.
         * Asked from the epoch, so that a one-off date that has passed (it elapsed once) is not refused;
         * a search that gives up from there (systemd's 1000 steps) is asked again from now, where the
         * timer's own search starts. */
        r = calendar_spec_next(spec, 0, &t);
        if (r == -EDEADLK)
                r = calendar_spec_next(spec, now_usec(CLOCK_REALTIME), &t);
        if (r == -ENOENT || r == -EDEADLK)
                return schedule_add_error(s, e, e->path, cal->line,
                                          "OnCalendar=%s: no date matches this calendar expression (no month has "
                                          "such a day?): its timer would never start the job; fix the date "
                                          "(systemd-analyze calendar '%s' says \"Next elapse: never\")",
                                          cal->expression, cal->expression);
        return r < 0 ? r : 0;
}

int calendar_check_schedule(Schedule *s) {
        _cleanup_free_ const char **exprs = NULL;
        _cleanup_free_ bool *valid = NULL;
        size_t n = 0, k = 0;
        int r;

        /* broken entries too: one run of jobsctl check reports every problem */
        for (size_t i = 0; i < s->n_entries; i++)
                n += s->entries[i].n_calendars;
        if (n == 0)
                return 0;
        exprs = malloc(n * sizeof(char *));
        valid = calloc(n, sizeof(bool));
        if (!exprs || !valid)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_entries; i++)
                for (size_t j = 0; j < s->entries[i].n_calendars; j++)
                        exprs[k++] = s->entries[i].calendars[j].expression;

        r = calendar_check(exprs, n, valid);
        if (r < 0)
                return r;

        k = 0;
        for (size_t i = 0; i < s->n_entries; i++) {
                ScheduleEntry *e = &s->entries[i];
                for (size_t j = 0; j < e->n_calendars; j++, k++) {
                        if (valid[k]) {
                                r = check_evaluable(s, e, &e->calendars[j]);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        r = schedule_add_error(s, e, e->path, e->calendars[j].line,
                                               "OnCalendar=%s: systemd does not accept this calendar expression; "
                                               "see systemd.time(7), e.g. \"*-*-* 02:00 Europe/London\", "
                                               "\"Mon..Fri 09:00\", \"hourly\" (try: systemd-analyze calendar "
                                               "'%s')",
                                               e->calendars[j].expression, e->calendars[j].expression);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}
