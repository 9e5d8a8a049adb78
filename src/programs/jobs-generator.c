/* SPDX-License-Identifier: MIT */
/* jobs-generator: a systemd generator that turns host-local schedules in /etc/jobs/NAME.schedule into
 * timers and services in the directory systemd passes, wired under jobs.target.
 *
 * It runs at boot and on every daemon-reload, before most of the system is up, so it only reads
 * files and writes files: it never calls systemctl and does not run systemd-analyze to check
 * OnCalendar= (systemd itself parses the expression when it loads the timer, and logs a bad one;
 * `jobsctl check` gives the full check before a file is installed). A broken entry or file is
 * skipped with a message; every other entry is still written. jobs.target itself is shipped by the
 * package; enabling or disabling it switches every generated timer on or off. */

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "config.h"
#include "units/generate.h"
#include "util/log.h"

#define SCHEDULE_SUFFIX ".schedule"
#define SCHEDULE_FILES_MAX 1000U
#define SCHEDULE_FILE_NAME_MAX 200U

/* Run by systemd: /dev/kmsg, which journald imports once it runs; in a container (no /dev/kmsg) the
 * journal's socket when journald is up (a daemon-reload), else stderr (util/log.c decides). */
static void log_setup_generator(void) {
        if (getppid() != 1 && !getenv("SYSTEMD_SCOPE"))
                return; /* by hand: stderr */
        log_set_target(LOG_TARGET_KMSG);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The *.schedule regular files of dir, sorted, as full paths. */
static int list_schedules(const char *dir, char ***ret, size_t *ret_n) {
        char **names = NULL;
        size_t n = 0;
        DIR *d;
        int r = 0;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = NULL;
                        *ret_n = 0;
                        return 0;
                }
                return negative_errno();
        }
        for (struct dirent *de; (de = readdir(d));) {
                size_t l = strlen(de->d_name);
                struct stat st;

                if (de->d_name[0] == '.' || l <= strlen(SCHEDULE_SUFFIX) ||
                    !streq(de->d_name + l - strlen(SCHEDULE_SUFFIX), SCHEDULE_SUFFIX))
                        continue;
                /* the path goes into the units (header, SourcePath=): keep it plain */
                if (!string_is_charset(de->d_name, SCHEDULE_FILE_NAME_MAX, "_.-@+:,")) {
                        log_error("%s: skipped the file with a name of characters other than "
                                  "A-Z a-z 0-9 _ . - @ + : , or longer than %u bytes.", dir, SCHEDULE_FILE_NAME_MAX);
                        continue;
                }
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode)) {
                        log_warning("%s/%s: not a regular file, skipped.", dir, de->d_name);
                        continue;
                }
                if (n >= SCHEDULE_FILES_MAX) {
                        log_error("%s: more than %u schedule files, %s and the rest skipped.", dir,
                                  SCHEDULE_FILES_MAX, de->d_name);
                        break;
                }
                char **m = reallocarray(names, n + 1, sizeof(char *));
                if (!m) {
                        r = -ENOMEM;
                        break;
                }
                names = m;
                if (!(names[n] = strdupf("%s/%s", dir, de->d_name))) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        closedir(d);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(names[i]);
                free(names);
                return r;
        }
        if (n > 0)
                qsort(names, n, sizeof(char *), cmp_str);
        *ret = names;
        *ret_n = n;
        return 0;
}

int main(int argc, char **argv) {
        _cleanup_(schedule_freep) Schedule *s = NULL;
        _cleanup_free_ char *dir = NULL, *name = NULL;
        _cleanup_close_ int outfd = -1;
        char **files = NULL;
        size_t n_files = 0;
        int r;

        log_open("jobs-generator", "generator");
        log_setup_generator();

        if (argc != 2 && argc != 4) {
                log_error("Usage: jobs-generator NORMAL-DIR [EARLY-DIR LATE-DIR]");
                return EXIT_FAILURE;
        }

        const char *e = getenv("JOBS_SCHEDULE_DIR");
        dir = realpath(e && *e ? e : JOBS_SCHEDULE_DIR, NULL);
        if (!dir) {
                if (errno == ENOENT)
                        return EXIT_SUCCESS; /* no host-local schedule */
                log_error_errno(errno, "Cannot open %s: %m", e && *e ? e : JOBS_SCHEDULE_DIR);
                return EXIT_FAILURE;
        }
        r = list_schedules(dir, &files, &n_files);
        if (r < 0) {
                log_error_errno(r, "Cannot list %s: %m", dir);
                return EXIT_FAILURE;
        }
        if (n_files == 0)
                return EXIT_SUCCESS;

        s = schedule_new();
        if (!s)
                r = -ENOMEM;
        for (size_t i = 0; i < n_files; i++) {
                if (r >= 0)
                        r = schedule_load_file(s, files[i]);
                free(files[i]);
        }
        free(files);
        if (r < 0) {
                log_oom();
                return EXIT_FAILURE;
        }

        schedule_sort_errors(s);
        for (size_t i = 0; i < s->n_errors; i++)
                log_error("%s (entry skipped)", s->errors[i].message);
        if (s->n_errors_dropped > 0)
                log_error("%zu more errors not shown.", s->n_errors_dropped);

        if (mkdir(argv[1], 0755) < 0 && errno != EEXIST) {
                log_error_errno(errno, "Cannot create %s: %m", argv[1]);
                return EXIT_FAILURE;
        }
        outfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (outfd < 0) {
                log_error_errno(errno, "Cannot open %s: %m", argv[1]);
                return EXIT_FAILURE;
        }
        GenerateOptions o = { .with_target = false };
        r = units_write(s, outfd, &o, &name);
        if (r < 0) {
                log_error_errno(r, "Cannot write %s/%s: %m", argv[1], strna(name));
                return EXIT_FAILURE;
        }
        log_debug("%zu of %zu entries written to %s.", schedule_count_good(s), s->n_entries, argv[1]);
        return EXIT_SUCCESS;
}
