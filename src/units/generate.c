/* SPDX-License-Identifier: MIT */
/* Schedule → directory of units, all or nothing.
 *
 * Every unit is rendered in memory and compared with what OUTDIR holds. When anything differs, the
 * whole new directory is built beside OUTDIR (same file system): unchanged units and everything we
 * did not generate are hard-linked into it (their inodes and mtimes stay), new and changed units
 * written, stale ones left out; it is synced, then exchanged with OUTDIR in one
 * renameat2(RENAME_EXCHANGE), and the old tree, now under the temporary name, removed. Whoever reads
 * OUTDIR (systemd at daemon-reload) sees the old set or the new one, never a mix; a run killed at
 * any point leaves OUTDIR whole and a hidden temporary directory that the next run removes.
 * Unchanged reruns touch nothing.
 *
 * A file is "ours" when its name is one we generate and its first line is EMIT_MARKER; a symlink in
 * jobs.target.wants/ when it points to "../" + its own name and that file is ours (or gone). Nothing
 * else in OUTDIR is touched; a foreign file where we must write is an error. */

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "units/generate.h"

#define TREE_DEPTH_MAX 16 /* directories we did not generate inside OUTDIR, carried over */
#define MARKER_LEN (sizeof(EMIT_MARKER) - 1)

typedef struct UnitFile {
        char *name;
        char *text; /* NULL: the symlink jobs.target.wants/NAME → ../NAME */
} UnitFile;

typedef struct UnitSet {
        UnitFile *files;
        size_t n, alloc;
} UnitSet;

typedef enum OldState {
        OLD_NONE,    /* nothing by that name */
        OLD_SAME,    /* ours, and already what we would write */
        OLD_OURS,    /* ours, different */
        OLD_FOREIGN, /* not ours: never touched */
} OldState;

static void unit_set_done(UnitSet *u) {
        for (size_t i = 0; i < u->n; i++) {
                free(u->files[i].name);
                free(u->files[i].text);
        }
        free(u->files);
}

static int set_name(char **ret_name, const char *name) {
        if (ret_name && !*ret_name)
                *ret_name = strdup(name);
        return 0;
}

static int unit_set_add(UnitSet *u, char *name, char *text) {
        if (u->n >= u->alloc) {
                size_t n = MAX((size_t) 64, u->alloc * 2);
                UnitFile *f = reallocarray(u->files, n, sizeof(UnitFile));
                if (!f) {
                        free(name);
                        free(text);
                        return -ENOMEM;
                }
                u->files = f;
                u->alloc = n;
        }
        u->files[u->n++] = (UnitFile) { name, text };
        return 0;
}

static int render(const Schedule *s, const GenerateOptions *o, UnitSet *u, char **ret_name) {
        const EmitOptions *eo = o ? &o->emit : NULL;
        int r;

        for (size_t i = 0; i < s->n_entries; i++) {
                const ScheduleEntry *e = &s->entries[i];
                char *tname = NULL, *sname = NULL, *timer = NULL, *service = NULL, *link = NULL;

                if (e->broken)
                        continue;
                r = emit_unit_name(e, ".timer", &tname);
                if (r >= 0)
                        r = emit_unit_name(e, ".service", &sname);
                if (r >= 0)
                        r = emit_timer(e, eo, &timer);
                if (r >= 0)
                        r = emit_service(e, eo, &service);
                if (r >= 0 && !(link = strdup(tname)))
                        r = -ENOMEM;
                if (r < 0) {
                        free(tname);
                        free(sname);
                        free(timer);
                        free(service);
                        return set_name(ret_name, strna(e->name)), r;
                }
                r = unit_set_add(u, tname, timer);
                if (r >= 0)
                        r = unit_set_add(u, sname, service);
                else {
                        free(sname);
                        free(service);
                }
                if (r >= 0)
                        r = unit_set_add(u, link, NULL);
                else
                        free(link);
                if (r < 0)
                        return r;
        }
        if (o && o->with_target) {
                char *name = strdup(EMIT_TARGET), *text = NULL;
                r = name ? emit_target(&text) : -ENOMEM;
                if (r < 0) {
                        free(name);
                        return r;
                }
                return unit_set_add(u, name, text);
        }
        return 0;
}

int units_check(Schedule *s) {
        static const EmitOptions eo = { .source_path = "/" }; /* any valid path: the entry is checked */

        for (size_t i = 0; i < s->n_entries; i++) {
                ScheduleEntry *e = &s->entries[i];
                _cleanup_free_ char *timer = NULL, *service = NULL;
                int r;

                if (e->broken)
                        continue;
                r = emit_timer(e, &eo, &timer);
                if (r >= 0)
                        r = emit_service(e, &eo, &service);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        r = schedule_add_error(s, e, e->path, e->line,
                                               "[Job] Name=%s: cannot be written as unit files; a value holds a "
                                               "character a unit file cannot carry",
                                               strna(e->name));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int write_file_at(int dirfd, const char *name, const char *text) {
        _cleanup_close_ int fd = -1;
        size_t len = strlen(text);

        fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return negative_errno();
        for (const char *p = text; len > 0;) {
                ssize_t k = write(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += k;
                len -= (size_t) k;
        }
        if (close(TAKE_FD(fd)) < 0)
                return negative_errno();
        return 0;
}

static int symlink_at(const char *name, int dirfd) {
        _cleanup_free_ char *target = strdupf("../%s", name);

        if (!target)
                return -ENOMEM;
        if (symlinkat(target, dirfd, name) >= 0)
                return 0;
        if (errno != EEXIST)
                return negative_errno();
        /* a rerun of the generator by hand into the same directory */
        if (unlinkat(dirfd, name, 0) < 0 || symlinkat(target, dirfd, name) < 0)
                return negative_errno();
        return 0;
}

static int open_dir_at(int dirfd, const char *name, bool create) {
        if (create && mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? negative_errno() : fd;
}

static int put(int dirfd, int *wantsfd, const UnitFile *f) {
        if (f->text)
                return write_file_at(dirfd, f->name, f->text);
        if (*wantsfd < 0) {
                *wantsfd = open_dir_at(dirfd, EMIT_WANTS_DIR, true);
                if (*wantsfd < 0)
                        return *wantsfd;
        }
        return symlink_at(f->name, *wantsfd);
}

int units_write(const Schedule *s, int dirfd, const GenerateOptions *o, char **ret_name) {
        _cleanup_close_ int wantsfd = -1;
        UnitSet u = {};
        int r;

        r = render(s, o, &u, ret_name);
        for (size_t i = 0; r >= 0 && i < u.n; i++) {
                r = put(dirfd, &wantsfd, &u.files[i]);
                if (r < 0)
                        set_name(ret_name, u.files[i].name);
        }
        unit_set_done(&u);
        return r < 0 ? r : 0;
}

static int rm_rf_at(int parentfd, const char *name, unsigned depth) {
        _cleanup_close_ int fd = -1;
        DIR *d;

        if (unlinkat(parentfd, name, 0) >= 0 || errno == ENOENT)
                return 0;
        if ((errno != EISDIR && errno != EPERM) || depth >= TREE_DEPTH_MAX)
                return negative_errno();
        fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        TAKE_FD(fd);
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) rm_rf_at(dirfd(d), de->d_name, depth + 1);
        closedir(d);
        return unlinkat(parentfd, name, AT_REMOVEDIR) < 0 ? negative_errno() : 0;
}

/* What OUTDIR holds as name: compared with text, or (text NULL) only checked for our marker. */
static OldState old_file_state(int dirfd, const char *name, const char *text) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t want = text ? strlen(text) + 1 : MARKER_LEN, got = 0;
        struct stat st;

        if (!emit_is_our_unit_name(name))
                return OLD_FOREIGN;
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? OLD_NONE : OLD_FOREIGN;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return OLD_FOREIGN;
        buf = malloc(MAX(want, MARKER_LEN));
        if (!buf)
                return OLD_FOREIGN; /* the caller then refuses to touch it: safe */
        while (got < want) {
                ssize_t k = read(fd, buf + got, want - got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                got += (size_t) k;
        }
        if (got < MARKER_LEN || memcmp(buf, EMIT_MARKER, MARKER_LEN) != 0)
                return OLD_FOREIGN;
        if (text && got == want - 1 && memcmp(buf, text, got) == 0)
                return OLD_SAME;
        return OLD_OURS;
}

/* A symlink in the wants directory: ours when it points to "../" + its name. */
static bool link_points_home(int wantsfd, const char *name) {
        char target[PATH_MAX];
        ssize_t k;

        if (!emit_is_our_unit_name(name))
                return false;
        k = readlinkat(wantsfd, name, target, sizeof target - 1);
        if (k < 0)
                return false;
        target[k] = 0;
        return strncmp(target, "../", 3) == 0 && streq(target + 3, name);
}

/* Names in a directory (fd may be -1: none), as a jansson object used as a set. */
static int list_dir(int dirfd, json_t **ret) {
        _cleanup_(json_decrefp) json_t *all = json_object();
        int r = 0, fd;
        DIR *d;

        if (!all)
                return -ENOMEM;
        if (dirfd >= 0) {
                fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
                d = fdopendir(fd);
                if (!d) {
                        r = negative_errno();
                        close(fd);
                        return r;
                }
                for (struct dirent *de; (de = readdir(d));)
                        if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                            json_object_set_new(all, de->d_name, json_true()) < 0) {
                                r = -ENOMEM;
                                break;
                        }
                closedir(d);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(all);
        return 0;
}

/* Carry name (a file, symlink or directory tree we did not generate, or an unchanged unit) from the
 * old directory into the new one: hard links for files, so that their inodes and mtimes stay. */
static int carry_at(int fromfd, int tofd, const char *name, unsigned depth) {
        _cleanup_close_ int subfrom = -1, subto = -1;
        _cleanup_(json_decrefp) json_t *names = NULL;
        char target[PATH_MAX];
        const char *n;
        struct stat st;
        json_t *v;
        int r;

        if (fstatat(fromfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if (S_ISREG(st.st_mode))
                return linkat(fromfd, name, tofd, name, 0) < 0 ? negative_errno() : 0;
        if (S_ISLNK(st.st_mode)) {
                ssize_t k = readlinkat(fromfd, name, target, sizeof target - 1);
                if (k < 0)
                        return negative_errno();
                target[k] = 0;
                return symlinkat(target, tofd, name) < 0 ? negative_errno() : 0;
        }
        if (!S_ISDIR(st.st_mode))
                return -EOPNOTSUPP; /* a device, socket or FIFO among the units: not ours to copy */
        if (depth >= TREE_DEPTH_MAX)
                return -ELOOP;
        subfrom = open_dir_at(fromfd, name, false);
        if (subfrom < 0)
                return subfrom;
        subto = open_dir_at(tofd, name, true);
        if (subto < 0)
                return subto;
        if (fchmod(subto, st.st_mode & 07777) < 0)
                return negative_errno();
        r = list_dir(subfrom, &names);
        if (r < 0)
                return r;
        json_object_foreach(names, n, v) {
                r = carry_at(subfrom, subto, n, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The directory mode of old (or, for a new directory, what mkdir would give) on fd. */
static int copy_dir_mode(int fd, int old) {
        struct stat st;

        if (old >= 0) {
                if (fstat(old, &st) < 0)
                        return negative_errno();
                if (fchmod(fd, st.st_mode & 07777) < 0)
                        return negative_errno();
                /* as root, a directory owned by someone else stays theirs; otherwise it is ours anyway */
                (void) fchown(fd, st.st_uid, st.st_gid);
                return 0;
        }
        mode_t mask = umask(0);
        umask(mask);
        return fchmod(fd, 0777 & ~mask) < 0 ? negative_errno() : 0;
}

/* The finished temporary directory becomes OUTDIR: moved into place when there was none (outfd -1),
 * else exchanged with it, the old tree then under the temporary name. Systemd, or anyone, sees the
 * old directory or the new one, never a mix. */
static int swap_in(int parentfd, int tmpfd, const char *tmpname, int outfd, const char *base, char **ret_name) {
        int r = copy_dir_mode(tmpfd, outfd);

        if (r < 0)
                return r;
        if (syncfs(tmpfd) < 0)
                return negative_errno();
        if (renameat2(parentfd, tmpname, parentfd, base, outfd >= 0 ? RENAME_EXCHANGE : RENAME_NOREPLACE) < 0)
                return set_name(ret_name, base), negative_errno();
        (void) fsync(parentfd);
        return 0;
}

static int generate_into(UnitSet *u, int parentfd, const char *base, const char *tmpname, char **ret_name) {
        _cleanup_close_ int tmpfd = -1, tmpwantsfd = -1, outfd = -1, outwantsfd = -1;
        _cleanup_(json_decrefp) json_t *out_all = NULL, *wants_all = NULL, *stale = NULL, *rendered = NULL;
        _cleanup_free_ OldState *states = NULL;
        bool any_links = false, changed = false;
        const char *name;
        json_t *v;
        int r;

        tmpfd = open_dir_at(parentfd, tmpname, false);
        if (tmpfd < 0)
                return tmpfd;

        outfd = openat(parentfd, base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (outfd < 0 && errno == ENOENT) {
                /* a new directory: written whole, then moved into place in one rename */
                for (size_t i = 0; i < u->n; i++) {
                        r = put(tmpfd, &tmpwantsfd, &u->files[i]);
                        if (r < 0)
                                return set_name(ret_name, u->files[i].name), r;
                }
                return swap_in(parentfd, tmpfd, tmpname, -1, base, ret_name);
        }
        if (outfd < 0)
                return set_name(ret_name, base), negative_errno();
        outwantsfd = openat(outfd, EMIT_WANTS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (outwantsfd < 0 && errno != ENOENT && errno != ENOTDIR)
                return set_name(ret_name, EMIT_WANTS_DIR), negative_errno();
        r = list_dir(outfd, &out_all);
        if (r >= 0)
                r = list_dir(outwantsfd, &wants_all);
        if (r < 0)
                return r;
        stale = json_object();    /* our files under names we no longer write */
        rendered = json_object(); /* names we write: "f:NAME" for files, "l:NAME" for symlinks */
        states = calloc(MAX(u->n, (size_t) 1), sizeof(OldState));
        if (!stale || !rendered || !states)
                return -ENOMEM;

        /* what OUTDIR holds under each name we write: the same, ours to replace, or not ours */
        for (size_t i = 0; i < u->n; i++) {
                const UnitFile *f = &u->files[i];
                _cleanup_free_ char *key = strdupf("%c:%s", f->text ? 'f' : 'l', f->name);
                if (!key || json_object_set_new(rendered, key, json_true()) < 0)
                        return -ENOMEM;
                if (f->text)
                        states[i] = json_object_get(out_all, f->name) ? old_file_state(outfd, f->name, f->text)
                                                                      : OLD_NONE;
                else {
                        any_links = true;
                        if (!json_object_get(wants_all, f->name))
                                states[i] = OLD_NONE;
                        else if (link_points_home(outwantsfd, f->name))
                                states[i] = OLD_SAME; /* the file it points to is one we write */
                        else {
                                if (ret_name && !*ret_name)
                                        *ret_name = strdupf(EMIT_WANTS_DIR "/%s", f->name);
                                return -EEXIST;
                        }
                }
                if (states[i] == OLD_FOREIGN)
                        return set_name(ret_name, f->name), -EEXIST;
                changed = changed || states[i] != OLD_SAME;
        }
        if (any_links && outwantsfd < 0 && json_object_get(out_all, EMIT_WANTS_DIR))
                return set_name(ret_name, EMIT_WANTS_DIR), -ENOTDIR;
        json_object_foreach(out_all, name, v) {
                _cleanup_free_ char *key = strdupf("f:%s", name);
                if (!key)
                        return -ENOMEM;
                if (!json_object_get(rendered, key) && old_file_state(outfd, name, NULL) == OLD_OURS) {
                        if (json_object_set_new(stale, name, json_true()) < 0)
                                return -ENOMEM;
                        changed = true;
                }
        }
        json_object_foreach(wants_all, name, v) {
                _cleanup_free_ char *key = strdupf("l:%s", name);
                if (!key)
                        return -ENOMEM;
                /* ours and stale: pointing home, to a stale file of ours or to nothing (removed by hand) */
                if (!json_object_get(rendered, key) && link_points_home(outwantsfd, name) &&
                    (json_object_get(stale, name) || !json_object_get(out_all, name)))
                        changed = true;
        }
        if (!changed)
                return 0; /* a rerun costs reads only: nothing touched */

        /* The new directory, whole: what stays is carried over, the rest written; then one exchange. */
        json_object_foreach(out_all, name, v) {
                _cleanup_free_ char *key = strdupf("f:%s", name);
                if (!key)
                        return -ENOMEM;
                if (streq(name, EMIT_WANTS_DIR) && outwantsfd >= 0)
                        continue;
                if (json_object_get(stale, name))
                        continue;
                if (json_object_get(rendered, key)) {
                        bool same = false;
                        for (size_t i = 0; i < u->n && !same; i++)
                                same = u->files[i].text && states[i] == OLD_SAME && streq(u->files[i].name, name);
                        if (!same)
                                continue; /* written below */
                }
                r = carry_at(outfd, tmpfd, name, 0);
                if (r < 0)
                        return set_name(ret_name, name), r;
        }
        if (outwantsfd >= 0) {
                tmpwantsfd = open_dir_at(tmpfd, EMIT_WANTS_DIR, true);
                if (tmpwantsfd < 0)
                        return tmpwantsfd;
                r = copy_dir_mode(tmpwantsfd, outwantsfd);
                if (r < 0)
                        return r;
                json_object_foreach(wants_all, name, v) {
                        _cleanup_free_ char *key = strdupf("l:%s", name);
                        if (!key)
                                return -ENOMEM;
                        if (json_object_get(rendered, key))
                                continue; /* written below */
                        if (link_points_home(outwantsfd, name) &&
                            (json_object_get(stale, name) || !json_object_get(out_all, name)))
                                continue; /* stale */
                        r = carry_at(outwantsfd, tmpwantsfd, name, 0);
                        if (r < 0) {
                                if (ret_name && !*ret_name)
                                        *ret_name = strdupf(EMIT_WANTS_DIR "/%s", name);
                                return r;
                        }
                }
        }
        for (size_t i = 0; i < u->n; i++) {
                const UnitFile *f = &u->files[i];
                if (f->text && states[i] == OLD_SAME)
                        continue;
                r = put(tmpfd, &tmpwantsfd, f);
                if (r < 0)
                        return set_name(ret_name, f->name), r;
        }
        /* no timers left: drop the then empty wants directory (fails harmlessly if not empty) */
        if (!any_links && tmpwantsfd >= 0)
                (void) unlinkat(tmpfd, EMIT_WANTS_DIR, AT_REMOVEDIR);
        return swap_in(parentfd, tmpfd, tmpname, outfd, base, ret_name);
}

/* Temporary directories of earlier runs that were killed: the old or the new tree, no longer needed
 * (the caller holds the lock, so no live run owns one). */
static void remove_leftovers(int parentfd, const char *prefix) {
        _cleanup_(json_decrefp) json_t *names = NULL;
        const char *name;
        json_t *v;

        if (list_dir(parentfd, &names) < 0)
                return;
        json_object_foreach(names, name, v)
                if (strncmp(name, prefix, strlen(prefix)) == 0)
                        (void) rm_rf_at(parentfd, name, 0);
}

int units_generate(const Schedule *s, const char *outdir, const GenerateOptions *o, char **ret_name) {
        _cleanup_free_ char *copy = NULL, *copy2 = NULL, *tmpname = NULL, *prefix = NULL, *resolved = NULL;
        _cleanup_close_ int parentfd = -1;
        UnitSet u = {};
        struct stat st;
        int r;

        copy = strdup(outdir);
        if (!copy)
                return -ENOMEM;
        /* "out/" and "out" are the same directory */
        for (size_t l = strlen(copy); l > 1 && copy[l - 1] == '/'; l--)
                copy[l - 1] = 0;
        /* OUTDIR a symlink to the directory the units live in: that directory is the one exchanged */
        if (lstat(copy, &st) >= 0 && S_ISLNK(st.st_mode)) {
                resolved = realpath(copy, NULL);
                if (!resolved)
                        return set_name(ret_name, outdir), negative_errno();
                free(copy);
                copy = TAKE_PTR(resolved);
        }
        copy2 = strdup(copy);
        if (!copy2)
                return -ENOMEM;
        const char *base = basename(copy), *parent = dirname(copy2);
        if (streq(base, "/") || streq(base, ".") || streq(base, ".."))
                return set_name(ret_name, outdir), -EINVAL;

        parentfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parentfd < 0)
                return set_name(ret_name, parent), negative_errno();
        /* one run at a time per parent directory: the exchange replaces OUTDIR's inode */
        if (flock(parentfd, LOCK_EX) < 0)
                return set_name(ret_name, parent), negative_errno();

        r = render(s, o, &u, ret_name);
        if (r < 0) {
                unit_set_done(&u);
                return r;
        }
        prefix = strdupf(".%s.jobs-generate-", base);
        tmpname = strdupf("%s/%sXXXXXX", parent, strempty(prefix));
        if (!prefix || !tmpname) {
                unit_set_done(&u);
                return -ENOMEM;
        }
        remove_leftovers(parentfd, prefix);
        if (!mkdtemp(tmpname)) {
                r = negative_errno();
                unit_set_done(&u);
                return set_name(ret_name, tmpname), r;
        }
        const char *tmpbase = strrchr(tmpname, '/') + 1;

        r = generate_into(&u, parentfd, base, tmpbase, ret_name);
        unit_set_done(&u);
        /* the unused temporary directory, or after the exchange the old tree (a run killed before
         * this point leaves it to the next run) */
        (void) rm_rf_at(parentfd, tmpbase, 0);
        return r;
}
