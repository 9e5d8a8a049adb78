/* SPDX-License-Identifier: MIT */
/* Schedule → directory of units, all or nothing.
 *
 * Every unit is rendered in memory and compared with what OUTDIR holds; the new and changed ones are
 * written into a temporary directory beside OUTDIR (same file system) and synced, the files of OUTDIR
 * that will be replaced or removed are hard-linked into it as a backup, then the new files are
 * renamed into OUTDIR and the stale ones unlinked; if a step fails the backup is put back. Unchanged
 * files are not touched (no churn of mtimes, and a rerun costs reads only).
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

#define RM_DEPTH_MAX 4
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
        if ((errno != EISDIR && errno != EPERM) || depth >= RM_DEPTH_MAX)
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

typedef enum OpKind { OP_RENAME, OP_UNLINK } OpKind;

typedef struct Op {
        OpKind kind;
        bool in_wants;
        bool had_old; /* a backup of the previous file is in the .old directories */
        const char *name;
} Op;

typedef struct Commit {
        int tmpfd, tmpwantsfd, outfd, outwantsfd, oldfd, oldwantsfd;
        Op *ops;
        size_t n_ops;
} Commit;

static void rollback(Commit *c, size_t done) {
        while (done > 0) {
                const Op *op = &c->ops[--done];
                int out = op->in_wants ? c->outwantsfd : c->outfd;
                int old = op->in_wants ? c->oldwantsfd : c->oldfd;

                if (op->kind == OP_RENAME && !op->had_old)
                        (void) unlinkat(out, op->name, 0);
                else
                        (void) renameat(old, op->name, out, op->name);
        }
}

static int commit(Commit *c, char **ret_name) {
        /* back up everything first, so that a failure in the middle can be undone */
        for (size_t i = 0; i < c->n_ops; i++) {
                const Op *op = &c->ops[i];
                if (op->had_old && linkat(op->in_wants ? c->outwantsfd : c->outfd, op->name,
                                          op->in_wants ? c->oldwantsfd : c->oldfd, op->name, 0) < 0)
                        return set_name(ret_name, op->name), negative_errno();
        }
        for (size_t i = 0; i < c->n_ops; i++) {
                const Op *op = &c->ops[i];
                int out = op->in_wants ? c->outwantsfd : c->outfd;
                int tmp = op->in_wants ? c->tmpwantsfd : c->tmpfd;
                int r = op->kind == OP_RENAME ? renameat(tmp, op->name, out, op->name) : unlinkat(out, op->name, 0);
                if (r < 0) {
                        r = negative_errno();
                        set_name(ret_name, op->name);
                        rollback(c, i);
                        return r;
                }
        }
        return 0;
}

static int add_op(Commit *c, OpKind kind, bool in_wants, bool had_old, const char *name) {
        Op *n = reallocarray(c->ops, c->n_ops + 1 + c->n_ops / 2, sizeof(Op)); /* amortised */
        if (!n)
                return -ENOMEM;
        c->ops = n;
        c->ops[c->n_ops++] = (Op) { kind, in_wants, had_old, name };
        return 0;
}

static int generate_into(UnitSet *u, int parentfd, const char *base, const char *tmpname, char **ret_name) {
        _cleanup_close_ int tmpfd = -1, tmpwantsfd = -1, outfd = -1, outwantsfd = -1, oldfd = -1, oldwantsfd = -1;
        _cleanup_(json_decrefp) json_t *out_all = NULL, *wants_all = NULL, *state = NULL, *rendered = NULL;
        _cleanup_free_ OldState *states = NULL;
        bool created_wants = false, any_links = false;
        Commit c = {};
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
                mode_t mask = umask(0);
                umask(mask);
                if (fchmod(tmpfd, 0777 & ~mask) < 0 || syncfs(tmpfd) < 0)
                        return negative_errno();
                if (renameat(parentfd, tmpname, parentfd, base) < 0)
                        return set_name(ret_name, base), negative_errno();
                return 1;
        }
        if (outfd < 0)
                return set_name(ret_name, base), negative_errno();
        if (flock(outfd, LOCK_EX) < 0)
                return set_name(ret_name, base), negative_errno();
        outwantsfd = openat(outfd, EMIT_WANTS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (outwantsfd < 0 && errno != ENOENT)
                return set_name(ret_name, EMIT_WANTS_DIR), negative_errno();
        r = list_dir(outfd, &out_all);
        if (r >= 0)
                r = list_dir(outwantsfd, &wants_all);
        if (r < 0)
                return r;
        state = json_object();   /* file name → OldState, for deciding whose symlinks are ours */
        rendered = json_object(); /* names we write: "f:NAME" for files, "l:NAME" for symlinks */
        states = calloc(MAX(u->n, (size_t) 1), sizeof(OldState));
        if (!state || !rendered || !states)
                return -ENOMEM;

        /* what OUTDIR holds under each name we write: the same, ours to replace, or not ours */
        for (size_t i = 0; i < u->n; i++) {
                const UnitFile *f = &u->files[i];
                _cleanup_free_ char *key = strdupf("%c:%s", f->text ? 'f' : 'l', f->name);
                if (!key || json_object_set_new(rendered, key, json_true()) < 0)
                        return -ENOMEM;
                if (f->text) {
                        states[i] = json_object_get(out_all, f->name) ? old_file_state(outfd, f->name, f->text)
                                                                      : OLD_NONE;
                        if (json_object_set_new(state, f->name, json_integer(states[i])) < 0)
                                return -ENOMEM;
                } else
                        any_links = true;
                if (states[i] == OLD_FOREIGN)
                        return set_name(ret_name, f->name), -EEXIST;
        }
        for (size_t i = 0; i < u->n; i++) {
                const UnitFile *f = &u->files[i];
                if (f->text || !json_object_get(wants_all, f->name))
                        continue;
                /* the file it points to is one we write, so the link is ours if it points home */
                if (!link_points_home(outwantsfd, f->name)) {
                        if (ret_name && !*ret_name)
                                *ret_name = strdupf(EMIT_WANTS_DIR "/%s", f->name);
                        return -EEXIST;
                }
                states[i] = OLD_SAME;
        }

        oldfd = open_dir_at(tmpfd, ".old", true);
        if (oldfd >= 0)
                oldwantsfd = open_dir_at(oldfd, "wants", true);
        if (oldfd < 0 || oldwantsfd < 0)
                return oldfd < 0 ? oldfd : oldwantsfd;
        if (outwantsfd < 0 && any_links) {
                if (json_object_get(out_all, EMIT_WANTS_DIR))
                        return set_name(ret_name, EMIT_WANTS_DIR), -ENOTDIR;
                /* created now, removed again if anything fails */
                outwantsfd = open_dir_at(outfd, EMIT_WANTS_DIR, true);
                if (outwantsfd < 0)
                        return set_name(ret_name, EMIT_WANTS_DIR), outwantsfd;
                created_wants = true;
        }
        c = (Commit) { tmpfd, -1, outfd, outwantsfd, oldfd, oldwantsfd, NULL, 0 };

        /* new and changed units go through the temporary directory */
        bool wrote = false;
        for (size_t i = 0; i < u->n && r >= 0; i++) {
                const UnitFile *f = &u->files[i];
                if (states[i] == OLD_SAME)
                        continue;
                r = put(tmpfd, &tmpwantsfd, f);
                if (r < 0)
                        set_name(ret_name, f->name);
                else
                        r = add_op(&c, OP_RENAME, !f->text, states[i] == OLD_OURS, f->name);
                wrote = true;
        }
        c.tmpwantsfd = tmpwantsfd;
        /* stale: our files and symlinks under names we no longer write */
        json_object_foreach(out_all, name, v) {
                if (r < 0)
                        break;
                _cleanup_free_ char *key = strdupf("f:%s", name);
                if (!key)
                        r = -ENOMEM;
                else if (!json_object_get(rendered, key) && old_file_state(outfd, name, NULL) == OLD_OURS) {
                        r = add_op(&c, OP_UNLINK, false, true, name);
                        if (r >= 0 && json_object_set_new(state, name, json_integer(OLD_OURS)) < 0)
                                r = -ENOMEM;
                }
        }
        json_object_foreach(wants_all, name, v) {
                if (r < 0)
                        break;
                _cleanup_free_ char *key = strdupf("l:%s", name);
                if (!key) {
                        r = -ENOMEM;
                        break;
                }
                if (json_object_get(rendered, key) || !link_points_home(outwantsfd, name))
                        continue;
                /* pointing to one of our files, or to nothing (its unit was removed by hand) */
                json_t *st = json_object_get(state, name);
                if (st ? json_integer_value(st) == OLD_OURS : !json_object_get(out_all, name))
                        r = add_op(&c, OP_UNLINK, true, true, name);
        }
        if (r >= 0 && wrote && syncfs(tmpfd) < 0)
                r = negative_errno();
        if (r >= 0)
                r = commit(&c, ret_name);
        free(c.ops);
        if (r < 0) {
                if (created_wants)
                        (void) unlinkat(outfd, EMIT_WANTS_DIR, AT_REMOVEDIR);
                return r;
        }
        /* no timers left: drop the then empty wants directory (fails harmlessly if not empty) */
        if (!any_links && outwantsfd >= 0)
                (void) unlinkat(outfd, EMIT_WANTS_DIR, AT_REMOVEDIR);
        if (c.n_ops > 0)
                (void) fsync(outfd);
        return 0;
}

int units_generate(const Schedule *s, const char *outdir, const GenerateOptions *o, char **ret_name) {
        _cleanup_free_ char *copy = NULL, *copy2 = NULL, *tmpname = NULL;
        _cleanup_close_ int parentfd = -1;
        UnitSet u = {};
        int r;

        copy = strdup(outdir);
        copy2 = strdup(outdir);
        if (!copy || !copy2)
                return -ENOMEM;
        /* "out/" and "out" are the same directory */
        for (size_t l = strlen(copy); l > 1 && copy[l - 1] == '/'; l--)
                copy[l - 1] = copy2[l - 1] = 0;
        const char *base = basename(copy), *parent = dirname(copy2);
        if (streq(base, "/") || streq(base, ".") || streq(base, ".."))
                return set_name(ret_name, outdir), -EINVAL;

        parentfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parentfd < 0)
                return set_name(ret_name, parent), negative_errno();

        r = render(s, o, &u, ret_name);
        if (r < 0) {
                unit_set_done(&u);
                return r;
        }
        tmpname = strdupf("%s/.%s.jobs-generate-XXXXXX", parent, base);
        if (!tmpname || !mkdtemp(tmpname)) {
                r = tmpname ? negative_errno() : -ENOMEM;
                unit_set_done(&u);
                return set_name(ret_name, strempty(tmpname)), r;
        }
        const char *tmpbase = strrchr(tmpname, '/') + 1;

        r = generate_into(&u, parentfd, base, tmpbase, ret_name);
        unit_set_done(&u);
        if (r == 1)
                return 0; /* the temporary directory became outdir */
        (void) rm_rf_at(parentfd, tmpbase, 0);
        return r;
}
