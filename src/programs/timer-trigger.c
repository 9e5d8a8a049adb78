/* SPDX-License-Identifier: MIT */
/* Why dlopen(): linking libsystemd (and through it liblzma, libzstd, liblz4, libcap, libgcrypt)
 * doubles the start-up time of a program as small as jobs-enqueue (bench/enqueue.sh), and only a
 * run started by a timer needs it. */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "programs/timer-trigger.h"

#define LIBSYSTEMD_SONAME "libsystemd.so.0"
#define UNIT_PATH_PREFIX "/org/freedesktop/systemd1/unit"

/* The few sd-bus entry points used, with their prototypes from <systemd/sd-bus.h>. */
typedef struct Bus Bus;
typedef struct BusError {
        const char *name, *message;
        int _need_free;
} BusError;

typedef struct SdBus {
        void *dl;
        int (*open_system)(Bus **ret);
        Bus *(*flush_close_unref)(Bus *bus);
        int (*path_encode)(const char *prefix, const char *external_id, char **ret_path);
        int (*get_property_trivial)(Bus *bus, const char *destination, const char *path, const char *interface,
                                    const char *member, BusError *ret_error, char type, void *ret_ptr);
        void (*error_free)(BusError *e);
} SdBus;

static void sd_bus_lib_done(SdBus *l) {
        if (l->dl)
                (void) dlclose(l->dl);
        *l = (SdBus) {};
}

static int sd_bus_lib_load(SdBus *l) {
        l->dl = dlopen(LIBSYSTEMD_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!l->dl)
                return -EOPNOTSUPP;
        *(void **) &l->open_system = dlsym(l->dl, "sd_bus_open_system");
        *(void **) &l->flush_close_unref = dlsym(l->dl, "sd_bus_flush_close_unref");
        *(void **) &l->path_encode = dlsym(l->dl, "sd_bus_path_encode");
        *(void **) &l->get_property_trivial = dlsym(l->dl, "sd_bus_get_property_trivial");
        *(void **) &l->error_free = dlsym(l->dl, "sd_bus_error_free");
        if (!l->open_system || !l->flush_close_unref || !l->path_encode || !l->get_property_trivial || !l->error_free)
                return -EOPNOTSUPP;
        return 0;
}

int timer_last_trigger(const char *unit, usec_t *ret) {
        _cleanup_(sd_bus_lib_done) SdBus l = {};
        _cleanup_free_ char *path = NULL;
        BusError error = {};
        Bus *bus = NULL;
        uint64_t t = 0;
        int r;

        r = sd_bus_lib_load(&l);
        if (r < 0)
                return r;
        r = l.open_system(&bus);
        if (r < 0)
                return r;
        r = l.path_encode(UNIT_PATH_PREFIX, unit, &path);
        if (r >= 0)
                r = l.get_property_trivial(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Timer",
                                           "LastTriggerUSec", &error, 't', &t);
        l.error_free(&error);
        l.flush_close_unref(bus);
        if (r < 0)
                return r;
        *ret = t == UINT64_MAX ? 0 : t;
        return 0;
}
