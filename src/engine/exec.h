/* SPDX-License-Identifier: MIT */
/* Executable handlers: spawn, watch output and timeout, kill, reap (see exec.c). */
#pragma once

#include <signal.h>

#include "jobs/jobs.h"
#include "engine/exec-settings.h"

/* The settings a class's handler runs with: its [Class] section over [Worker]'s. */
ExecSettings exec_settings_for(JobsWorker *w, const char *class);
int exec_spawn(JobsJob *j, const char *path);
void exec_kill(JobsJob *j);
void exec_on_exit(JobsJob *j, const siginfo_t *si);
void exec_release(JobsJob *j);
