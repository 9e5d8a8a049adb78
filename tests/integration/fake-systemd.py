#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# A stand-in for systemd's manager on a private bus, for tests without a booted systemd: it answers
# ListUnitsByPatterns, the Timer properties and StartUnit (running the service's command line and
# then emitting JobRemoved with "done" or "failed"), as org.freedesktop.systemd1 does.
# Usage: fake-systemd.py BUS_ADDRESS CONFIG.json LOG
#   CONFIG: {"timers": {"jobs-x.timer": [next_usec, last_usec]}, "services": {"jobs-x.service": [argv...]},
#            "units": {"jobs-worker.service": [active_state, sub_state, status_text]}}  (units: optional)
import fnmatch
import json
import subprocess
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

MANAGER = "org.freedesktop.systemd1.Manager"
TIMER = "org.freedesktop.systemd1.Timer"
SERVICE = "org.freedesktop.systemd1.Service"
PROPS = "org.freedesktop.DBus.Properties"


def unit_path(name):
    return "/org/freedesktop/systemd1/unit/" + "".join(
        c if c.isalnum() else "_%02x" % ord(c) for c in name)


class NoSuchUnit(dbus.DBusException):
    _dbus_error_name = "org.freedesktop.systemd1.NoSuchUnit"


class Timer(dbus.service.Object):
    def __init__(self, bus, name, nxt, last):
        super().__init__(bus, unit_path(name))
        self.values = {"NextElapseUSecRealtime": nxt, "LastTriggerUSec": last}

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, interface, prop):
        if interface != TIMER or prop not in self.values:
            raise dbus.DBusException("org.freedesktop.DBus.Error.UnknownProperty")
        return dbus.UInt64(self.values[prop], variant_level=1)


class Service(dbus.service.Object):
    def __init__(self, bus, name, status):
        super().__init__(bus, unit_path(name))
        self.status = status

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, interface, prop):
        if interface != SERVICE or prop != "StatusText":
            raise dbus.DBusException("org.freedesktop.DBus.Error.UnknownProperty")
        return dbus.String(self.status, variant_level=1)


class Manager(dbus.service.Object):
    def __init__(self, bus, config, log):
        super().__init__(bus, "/org/freedesktop/systemd1")
        self.config, self.log, self.jobs = config, log, 0
        self.timers = [Timer(bus, n, v[0], v[1]) for n, v in config["timers"].items()]
        self.units = config.get("units", {})
        self.services = [Service(bus, n, v[2]) for n, v in self.units.items()]

    @dbus.service.method(MANAGER, in_signature="asas", out_signature="a(ssssssouso)")
    def ListUnitsByPatterns(self, states, patterns):
        return [(n, "Timer " + n, "loaded", "active", "waiting", "", dbus.ObjectPath(unit_path(n)), 0, "",
                 dbus.ObjectPath("/"))
                for n in sorted(self.config["timers"]) if any(fnmatch.fnmatch(n, p) for p in patterns)] + \
               [(n, "Service " + n, "loaded", v[0], v[1], "", dbus.ObjectPath(unit_path(n)), 0, "",
                 dbus.ObjectPath("/"))
                for n, v in sorted(self.units.items()) if any(fnmatch.fnmatch(n, p) for p in patterns)
                and (not states or v[0] in states)]

    @dbus.service.method(MANAGER, in_signature="", out_signature="")
    def Subscribe(self):
        pass

    @dbus.service.method(MANAGER, in_signature="ss", out_signature="o")
    def StartUnit(self, name, mode):
        if name not in self.config["services"]:
            raise NoSuchUnit("Unit %s not found." % name)
        self.jobs += 1
        job = dbus.ObjectPath("/org/freedesktop/systemd1/job/%d" % self.jobs)
        GLib.idle_add(self.run, self.jobs, job, name)
        return job

    def run(self, jid, job, name):
        rc = subprocess.call(self.config["services"][name], stdout=subprocess.DEVNULL)
        with open(self.log, "a") as f:
            f.write("%s %s %d\n" % (name, "done" if rc == 0 else "failed", rc))
        self.JobRemoved(jid, job, name, "done" if rc == 0 else "failed")
        return False

    @dbus.service.signal(MANAGER, signature="uoss")
    def JobRemoved(self, jid, job, unit, result):
        pass


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(sys.argv[1])
    with open(sys.argv[2]) as f:
        config = json.load(f)
    manager = Manager(bus, config, sys.argv[3])
    name = dbus.service.BusName("org.freedesktop.systemd1", bus)
    GLib.MainLoop().run()
    del manager, name


main()
