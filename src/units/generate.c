/* SPDX-License-Identifier: MIT */
/* Schedule → directory of units, all or nothing.
 *
 * Everything is written into a temporary directory beside OUTDIR (same file system), the files of
 * OUTDIR that will be replaced or removed are hard-linked into it as a backup, then the new files
 * are renamed into OUTDIR and the stale ones unlinked; if a step fails the backup is put back. A
 * file is "ours" when its name is one we generate and its first line is EMIT_MARKER, a symlink in
 * jobs.target.wants/ when it points to "../" + its own name: nothing else in OUTDIR is touched. */

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "generate.h"
#include "log.h"

#define RM_DEPTH_MAX 4

static int set_name(char **ret_name, const char *name) {
        if (ret_name && !*ret_name)
                *ret_name = strdup(name);
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

static int symlink_at(const char *target, int dirfd, const char *name) {
        if (symlinkat(target, dirfd, name) >= 0)
                return 0;
        if (errno != EEXIST)
                return negative_errno();
        /* a re-run of the generator by hand into the same directory */
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

int units_write(const Schedule *s, int dirfd, const GenerateOptions *o, char **ret_name) {
        _cleanup_close_ int wantsfd = -1;
        int r;

        for (size_t i = 0; i < s->n_entries; i++) {
                const ScheduleEntry *e = &s->entries[i];
                _cleanup_free_ char *tname = NULL, *sname = NULL, *timer = NULL, *service = NULL, *link = NULL;

                if (e->broken)
                        continue;
                if (wantsfd < 0) {
                        wantsfd = open_dir_at(dirfd, EMIT_WANTS_DIR, true);
                        if (wantsfd < 0)
                                return set_name(ret_name, EMIT_WANTS_DIR), wantsfd;
                }
                r = emit_unit_name(e, ".timer", &tname);
                if (r >= 0)
                        r = emit_unit_name(e, ".service", &sname);
                if (r >= 0)
                        r = emit_timer(e, o ? &o->emit : NULL, &timer);
                if (r >= 0)
                        r = emit_service(e, o ? &o->emit : NULL, &service);
                if (r < 0)
                        return set_name(ret_name, e->name), r;
                r = write_file_at(dirfd, tname, timer);
                if (r < 0)
                        return set_name(ret_name, tname), r;
                r = write_file_at(dirfd, sname, service);
                if (r < 0)
                        return set_name(ret_name, sname), r;
                link = strdupf("../%s", tname);
                if (!link)
                        return -ENOMEM;
                r = symlink_at(link, wantsfd, tname);
                if (r < 0)
                        return set_name(ret_name, tname), r;
        }
        if (o && o->with_target) {
                _cleanup_free_ char *target = NULL;
                r = emit_target(&target);
                if (r < 0)
                        return r;
                r = write_file_at(dirfd, EMIT_TARGET, target);
                if (r < 0)
                        return set_name(ret_name, EMIT_TARGET), r;
        }
        return 0;
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

static bool file_is_ours(int dirfd, const char *name) {
        _cleanup_close_ int fd = -1;
        char buf[sizeof(EMIT_MARKER) - 1];

        if (!emit_is_our_unit_name(name))
                return false;
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return false;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return false;
        return pread(fd, buf, sizeof buf, 0) == (ssize_t) sizeof buf && memcmp(buf, EMIT_MARKER, sizeof buf) == 0;
}

static bool link_is_ours(int dirfd, const char *name) {
        char target[PATH_MAX];
        ssize_t k;

        if (!emit_is_our_unit_name(name))
                return false;
        k = readlinkat(dirfd, name, target, sizeof target - 1);
        if (k < 0)
                return false;
        target[k] = 0;
        return strncmp(target, "../", 3) == 0 && streq(target + 3, name);
}

/* Names in a directory, as a jansson object used as a set; ours says which are ours. */
static int list_dir(int dirfd, bool links, json_t **ret_all, json_t **ret_ours) {
        _cleanup_(json_decrefp) json_t *all = json_object(), *ours = json_object();
        int fd;
        DIR *d;

        if (!all || !ours)
                return -ENOMEM;
        if (dirfd >= 0) {
                fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
                d = fdopendir(fd);
                if (!d) {
                        int r = negative_errno();
                        close(fd);
                        return r;
                }
                for (struct dirent *de; (de = readdir(d));) {
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        if (json_object_set_new(all, de->d_name, json_true()) < 0) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        if (ret_ours && (links ? link_is_ours : file_is_ours)(dirfd, de->d_name) &&
                            json_object_set_new(ours, de->d_name, json_true()) < 0) {
                                closedir(d);
                                return -ENOMEM;
                        }
                }
                closedir(d);
        }
        *ret_all = TAKE_PTR(all);
        if (ret_ours)
                *ret_ours = TAKE_PTR(ours);
        return 0;
}

typedef enum OpKind { OP_RENAME, OP_UNLINK } OpKind;

typedef struct Op {
        OpKind kind;
        bool in_wants;
        bool had_old;  /* a backup of the previous file is in the .old directories */
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

/* Plan: rename every new file, unlink every stale one; back up what is replaced or removed. */
static int plan(Commit *c, json_t *new_files, json_t *new_links, json_t *out_all, json_t *out_ours,
                json_t *wants_all, json_t *wants_ours, char **ret_name) {
        size_t n = json_object_size(new_files) + json_object_size(new_links) + json_object_size(out_ours) +
                   json_object_size(wants_ours);
        const char *name;
        json_t *v;

        c->ops = calloc(MAX(n, (size_t) 1), sizeof(Op));
        if (!c->ops)
                return -ENOMEM;

        for (int w = 0; w < 2; w++) {
                json_t *news = w ? new_links : new_files, *all = w ? wants_all : out_all,
                       *ours = w ? wants_ours : out_ours;
                int old = w ? c->oldwantsfd : c->oldfd, out = w ? c->outwantsfd : c->outfd;

                json_object_foreach(news, name, v) {
                        bool exists = json_object_get(all, name);
                        if (exists && !json_object_get(ours, name)) {
                                set_name(ret_name, name);
                                return -EEXIST;
                        }
                        if (exists && linkat(out, name, old, name, 0) < 0)
                                return set_name(ret_name, name), negative_errno();
                        c->ops[c->n_ops++] = (Op) { OP_RENAME, w, exists, name };
                }
                json_object_foreach(ours, name, v) {
                        if (json_object_get(news, name))
                                continue;
                        if (linkat(out, name, old, name, 0) < 0)
                                return set_name(ret_name, name), negative_errno();
                        c->ops[c->n_ops++] = (Op) { OP_UNLINK, w, true, name };
                }
        }
        return 0;
}

static int commit(Commit *c, char **ret_name) {
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

static int generate_into(const Schedule *s, int parentfd, const char *base, const char *tmpname,
                         const GenerateOptions *o, char **ret_name) {
        _cleanup_close_ int tmpfd = -1, tmpwantsfd = -1, outfd = -1, outwantsfd = -1, oldfd = -1, oldwantsfd = -1;
        _cleanup_(json_decrefp) json_t *new_files = NULL, *new_links = NULL, *out_all = NULL, *out_ours = NULL,
                                       *wants_all = NULL, *wants_ours = NULL;
        bool created_wants = false;
        Commit c = {};
        int r;

        tmpfd = open_dir_at(parentfd, tmpname, false);
        if (tmpfd < 0)
                return tmpfd;
        r = units_write(s, tmpfd, o, ret_name);
        if (r < 0)
                return r;
        tmpwantsfd = openat(tmpfd, EMIT_WANTS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (syncfs(tmpfd) < 0)
                return negative_errno();

        outfd = openat(parentfd, base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (outfd < 0 && errno == ENOENT) {
                /* a new directory: moving the whole temporary one into place is atomic */
                mode_t mask = umask(0);
                umask(mask);
                if (fchmod(tmpfd, 0777 & ~mask) < 0)
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

        r = list_dir(tmpfd, false, &new_files, NULL);
        if (r >= 0)
                r = list_dir(tmpwantsfd, true, &new_links, NULL);
        if (r >= 0)
                r = list_dir(outfd, false, &out_all, &out_ours);
        if (r >= 0)
                r = list_dir(outwantsfd, true, &wants_all, &wants_ours);
        if (r < 0)
                return r;
        json_object_del(new_files, EMIT_WANTS_DIR);
        json_object_del(out_ours, EMIT_WANTS_DIR);

        if (outwantsfd < 0 && json_object_size(new_links) > 0) {
                if (json_object_get(out_all, EMIT_WANTS_DIR))
                        return set_name(ret_name, EMIT_WANTS_DIR), -ENOTDIR;
                outwantsfd = open_dir_at(outfd, EMIT_WANTS_DIR, true);
                if (outwantsfd < 0)
                        return set_name(ret_name, EMIT_WANTS_DIR), outwantsfd;
                created_wants = true;
        }
        oldfd = open_dir_at(tmpfd, ".old", true);
        if (oldfd >= 0)
                oldwantsfd = open_dir_at(oldfd, "wants", true);
        if (oldfd < 0 || oldwantsfd < 0)
                return oldfd < 0 ? oldfd : oldwantsfd;

        c = (Commit) { tmpfd, tmpwantsfd, outfd, outwantsfd, oldfd, oldwantsfd, NULL, 0 };
        r = plan(&c, new_files, new_links, out_all, out_ours, wants_all, wants_ours, ret_name);
        if (r >= 0)
                r = commit(&c, ret_name);
        free(c.ops);
        if (r < 0) {
                if (created_wants)
                        (void) unlinkat(outfd, EMIT_WANTS_DIR, AT_REMOVEDIR);
                return r;
        }
        /* no timers left: drop the then empty wants directory (fails harmlessly if not empty) */
        if (json_object_size(new_links) == 0 && outwantsfd >= 0)
                (void) unlinkat(outfd, EMIT_WANTS_DIR, AT_REMOVEDIR);
        (void) fsync(outfd);
        return 0;
}

int units_generate(const Schedule *s, const char *outdir, const GenerateOptions *o, char **ret_name) {
        _cleanup_free_ char *copy = NULL, *copy2 = NULL, *tmpname = NULL;
        _cleanup_close_ int parentfd = -1;
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

        char templ[] = ".jobs-generate-XXXXXX";
        tmpname = strdupf("%s/.%s%s", parent, base, templ);
        if (!tmpname)
                return -ENOMEM;
        if (!mkdtemp(tmpname))
                return set_name(ret_name, tmpname), negative_errno();
        const char *tmpbase = strrchr(tmpname, '/') + 1;

        r = generate_into(s, parentfd, base, tmpbase, o, ret_name);
        if (r == 1)
                return 0; /* the temporary directory became outdir */
        (void) rm_rf_at(parentfd, tmpbase, 0);
        return r;
}
