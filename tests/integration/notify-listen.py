# SPDX-License-Identifier: MIT
# A stand-in for systemd's notification socket: append every datagram (newlines as " | ") to a file.
import os, socket, sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as f:
    f.write("LISTENING\n")
    while True:
        msg = s.recv(65536).decode("utf-8", "replace")
        f.write(msg.replace("\n", " | ") + "\n")
