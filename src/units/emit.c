/* SPDX-License-Identifier: MIT */
/* The generated units' text. Same entry in, same bytes out: no time stamps, no host names. */

#include "config.h"
#include "units/emit.h"

static const char *const sandbox[] = {
        /* jobs-enqueue reads its environment, connects to Redis over a unix socket or TCP, writes
         * one line and exits: it needs no file, no privilege and no kernel interface beyond that.
         * PrivateNetwork= is not possible (Redis is reached over the network or a host socket). */
        "DynamicUser=yes",
        "CapabilityBoundingSet=",
        "AmbientCapabilities=",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "PrivateUsers=yes",
        "PrivateIPC=yes",
        "PrivateMounts=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "ProtectHostname=yes",
        "ProtectClock=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectProc=invisible",
        "ProcSubset=pid",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "MemoryDenyWriteExecute=yes",
        "RemoveIPC=yes",
        "KeyringMode=private",
        "DevicePolicy=closed",
        "UMask=0077",
        "SystemCallArchitectures=native",
        "SystemCallFilter=@system-service",
        "SystemCallFilter=~@privileged @resources",
        "SystemCallErrorNumber=EPERM",
};

bool emit_is_our_unit_name(const char *name) {
        size_t l = strlen(name);

        if (streq(name, EMIT_TARGET))
                return true;
        if (strncmp(name, SCHEDULE_UNIT_PREFIX, strlen(SCHEDULE_UNIT_PREFIX)) != 0)
                return false;
        return (l > 6 && streq(name + l - 6, ".timer")) || (l > 8 && streq(name + l - 8, ".service"));
}

int emit_unit_name(const ScheduleEntry *e, const char *suffix, char **ret) {
        char *n;

        if (!e->name || !schedule_name_is_valid(e->name))
                return -EINVAL;
        n = strdupf(SCHEDULE_UNIT_PREFIX "%s%s", e->name, suffix);
        if (!n)
                return -ENOMEM;
        *ret = n;
        return 0;
}

/* Control characters would break the line; an odd run of final backslashes would continue it. */
static bool has_control(const char *s) {
        size_t l = strlen(s), bs = 0;

        for (size_t i = 0; i < l; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return true;
        while (bs < l && s[l - 1 - bs] == '\\')
                bs++;
        return bs % 2 == 1;
}

/* Text where systemd expands %-specifiers (Description=, SourcePath=): double every %. */
static void put_escaped(FILE *f, const char *s) {
        for (; *s; s++) {
                if (*s == '%')
                        fputc('%', f);
                fputc(*s, f);
        }
}

int emit_exec_word(FILE *f, const char *word) {
        bool plain = *word != 0;

        if (has_control(word))
                return -EINVAL;
        for (const char *p = word; *p && plain; p++)
                plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                        strchr("_./:=@+,-[]{}", *p);
        if (plain) {
                fputs(word, f);
                return 0;
        }
        /* Single quotes read best for JSON; double quotes when the word has a single quote. systemd
         * unescapes \\, \" and \' in both, expands %% after and $$ at exec time. */
        char q = strchr(word, '\'') ? '"' : '\'';
        fputc(q, f);
        for (const char *p = word; *p; p++) {
                if (*p == '\\' || *p == q)
                        fputc('\\', f);
                else if (*p == '%' || *p == '$')
                        fputc(*p, f);
                fputc(*p, f);
        }
        fputc(q, f);
        return 0;
}

static int check_path(const char *p) {
        if (!p || p[0] != '/' || has_control(p))
                return -EINVAL;
        return 0;
}

static const char *source_path(const ScheduleEntry *e, const EmitOptions *o) {
        return o && o->source_path ? o->source_path : e->path;
}

/* Open the text of a unit and write its header and the common [Unit] lines. buf and size must
 * live until the stream is closed (open_memstream updates them then). */
static int begin(const ScheduleEntry *e, const EmitOptions *o, char **buf, size_t *size, FILE **ret) {
        const char *sp = source_path(e, o);
        FILE *f;

        if (has_control(e->path) || check_path(sp) < 0)
                return -EINVAL;
        f = open_memstream(buf, size);
        if (!f)
                return -ENOMEM;
        fprintf(f, EMIT_MARKER " from %s:%u \xe2\x80\x94 do not edit\n", e->path, e->line);
        fputs("[Unit]\nDescription=", f);
        if (e->description && has_control(e->description)) {
                fclose(f);
                return -EINVAL;
        }
        if (e->description)
                put_escaped(f, e->description);
        else
                fprintf(f, "Enqueue %s (schedule entry %s)", e->class, e->name);
        fputs("\nDocumentation=man:jobs-schedule(5)\nSourcePath=", f);
        put_escaped(f, sp);
        fputc('\n', f);
        *ret = f;
        return 0;
}

static int finish(FILE **f, char **buf, char **ret) {
        if (ferror(*f)) {
                fclose(*f);
                *f = NULL;
                return -ENOMEM;
        }
        if (fclose(*f) != 0) {
                *f = NULL;
                return -ENOMEM;
        }
        *f = NULL;
        *ret = TAKE_PTR(*buf);
        return 0;
}

int emit_timer(const ScheduleEntry *e, const EmitOptions *o, char **ret) {
        _cleanup_free_ char *buf = NULL, *service = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char d[DURATION_MAX], cal[SCHEDULE_EVERY_CALENDAR_MAX];
        size_t size;
        int r;

        r = emit_unit_name(e, ".service", &service);
        if (r < 0)
                return r;
        r = begin(e, o, &buf, &size, &f);
        if (r < 0)
                return r;
        fputs("PartOf=" EMIT_TARGET "\n\n[Timer]\n", f);
        fprintf(f, "Unit=%s\n", service);

        bool calendar = e->n_calendars > 0;
        for (size_t i = 0; i < e->n_calendars; i++)
                fprintf(f, "OnCalendar=%s\n", e->calendars[i].expression);
        if (e->every > 0) {
                format_duration(d, sizeof d, e->every);
                if (schedule_every_to_calendar(e->every, cal)) {
                        /* aligned to the clock: :00 of every minute for 1min, and Persistent= works */
                        fprintf(f, "# Every=%s\nOnCalendar=%s\n", d, cal);
                        calendar = true;
                } else
                        /* first run one interval after the timer starts (boot), then one interval
                         * after each run: OnUnitActiveSec= alone would never fire after a reboot */
                        fprintf(f, "# Every=%s\nOnActiveSec=%s\nOnUnitActiveSec=%s\n", d, d, d);
        }
        fprintf(f, "AccuracySec=%s\n",
                e->accuracy == USEC_INFINITY ? "1s" : format_duration(d, sizeof d, e->accuracy));
        if (e->randomized_delay != USEC_INFINITY)
                fprintf(f, "RandomizedDelaySec=%s\n", format_duration(d, sizeof d, e->randomized_delay));
        if (calendar)
                fprintf(f, "Persistent=%s\n", e->persistent > 0 ? "yes" : "no");
        fputs("\n[Install]\nWantedBy=" EMIT_TARGET "\n", f);
        return finish(&f, &buf, ret);
}

int emit_service(const ScheduleEntry *e, const EmitOptions *o, char **ret) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        const char *enqueue = o && o->enqueue_path ? o->enqueue_path : JOBS_ENQUEUE_PATH;
        char retry[16];
        size_t size;
        int r;

        if (!e->class || !e->name || check_path(enqueue) < 0)
                return -EINVAL;
        if (!e->retry_set || e->retry.kind == JOB_RETRY_TRUE)
                strcpy(retry, "true");
        else if (e->retry.kind == JOB_RETRY_FALSE)
                strcpy(retry, "false");
        else
                snprintf(retry, sizeof retry, "%u", e->retry.count);

        r = begin(e, o, &buf, &size, &f);
        if (r < 0)
                return r;
        /* ordering only: a local Redis is up before a catch-up run at boot; a remote one is retried.
         * No start rate limit: the timer sets the pace, and systemd's default (5 starts in 10 s)
         * refuses runs of an entry every 2 s, or a retry next to a run ("start-limit-hit"). */
        fputs("After=network.target redis-server.service\nStartLimitIntervalSec=0\n\n[Service]\nType=oneshot\nExecStart=", f);
        const char *words[] = { enqueue, "--queue", schedule_entry_queue(e), "--retry", retry,
                                "--args", schedule_entry_args(e) };
        for (size_t i = 0; i < ELEMENTSOF(words); i++) {
                if (i > 0)
                        fputc(' ', f);
                r = emit_exec_word(f, words[i]);
                if (r < 0)
                        return r;
        }
        if (e->active_job)
                fputs(" --active-job", f);
        /* A fleet entry names itself and its calendars: jobs-enqueue works out the occurrence the
         * run stands for, from the moment systemd forked it (the sandbox's set-up before the exec
         * does not count), and enqueues it once across every host. */
        if (!e->host_scope) {
                char cal[SCHEDULE_EVERY_CALENDAR_MAX];

                fputs(" --trigger-time start --entry ", f);
                r = emit_exec_word(f, e->name);
                for (size_t i = 0; r >= 0 && i < e->n_calendars; i++) {
                        fputs(" --calendar ", f);
                        r = emit_exec_word(f, e->calendars[i].expression);
                }
                if (r >= 0 && e->every > 0) {
                        if (!schedule_every_to_calendar(e->every, cal))
                                return -EINVAL; /* the parser refuses it */
                        fputs(" --calendar ", f);
                        r = emit_exec_word(f, cal);
                }
                if (r < 0)
                        return r;
        }
        fputc(' ', f);
        r = emit_exec_word(f, e->class);
        if (r < 0)
                return r;
        fputs("\nEnvironmentFile=-/etc/default/jobs\n"
              /* a fire during a Redis outage is retried until it lands; usage, data, auth and
               * configuration errors (sysexits 64 65 77 78) do not heal by retrying */
              "Restart=on-failure\n"
              "RestartSec=" EMIT_RESTART_SEC "\n"
              "RestartPreventExitStatus=64 65 77 78\n"
              "TimeoutStartSec=1min\n"
              "LogExtraFields=JOBS_SERVICE=enqueue\n", f);
        fprintf(f, "LogExtraFields=JOBS_ENTRY=%s\nLogExtraFields=JOB_CLASS=%s\nLogExtraFields=JOB_QUEUE=%s\n",
                e->name, e->class, schedule_entry_queue(e));
        for (size_t i = 0; i < ELEMENTSOF(sandbox); i++)
                fprintf(f, "%s\n", sandbox[i]);
        return finish(&f, &buf, ret);
}

int emit_target(char **ret) {
        char *t = strdup(EMIT_MARKER " \xe2\x80\x94 do not edit\n"
                         "[Unit]\n"
                         "Description=Timers of the jobs schedule\n"
                         "Documentation=man:jobs-schedule(5)\n"
                         "\n"
                         "[Install]\n"
                         "WantedBy=timers.target\n");
        if (!t)
                return -ENOMEM;
        *ret = t;
        return 0;
}
