/* SPDX-License-Identifier: MIT */
/* libFuzzer: worker.conf, read through a memfd as the worker reads the file. Errors name a line. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/worker-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int fd = memfd_create("worker.conf", MFD_CLOEXEC);
        _cleanup_free_ char *error = NULL;
        char path[64];
        WorkerConfig c;
        int r;

        if (fd < 0 || write(fd, data, size) != (ssize_t) size)
                return 0;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        worker_config_init(&c);
        r = worker_config_load(&c, path, &error);
        assert(r >= 0 || r == -ENOMEM || error);
        (void) worker_config_weighted(&c);
        (void) worker_config_timeout_for(&c, "Fuzz");
        worker_config_done(&c);
        return 0;
}
