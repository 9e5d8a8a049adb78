#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# A long-lived jobs handler in Python, speaking jobs-handler(7) version 1: the handshake on fd 3, then
# one job per line on stdin (the payload as Sidekiq stores it), one answer per job on fd 3.
#
#   [Pool]
#   Class=Say*
#   ExecStart=/usr/share/jobs/adapters/example-handler.py
#
# Copy it and put your code in handle(); anything it raises fails the job (retried as usual).
import json
import os
import sys


def handle(job):
    """Run one job: its class and its arguments (an ActiveJob job's are inside args[0])."""
    args = job["args"]
    if job.get("wrapped"):
        args = args[0]["arguments"]
    print("%s%s" % (job.get("wrapped") or job["class"], json.dumps(args)), flush=True)


def main():
    reply = os.fdopen(3, "w", buffering=1)
    reply.write("jobs-handler 1\n")
    for line in sys.stdin:
        try:
            handle(json.loads(line))
            reply.write("done\n")
        except Exception as e:  # any failure of the job, not of the protocol
            message = " ".join(str(e).split()) or "failed"
            reply.write("failed %s %s\n" % (type(e).__name__, message[:10000]))


if __name__ == "__main__":
    main()
