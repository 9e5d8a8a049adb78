/* SPDX-License-Identifier: MIT */
/* journald's native protocol (systemd's JOURNAL_NATIVE_PROTOCOL): "KEY=value\n" for a value without a
 * newline, "KEY\n" + 64-bit little-endian length + value + "\n" for any other. */

#include <endian.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "util/journal-send.h"
#include "util/util.h"

int journal_open(bool nonblocking) {
        static const struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
        _cleanup_close_ int fd = -1;

        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (const struct sockaddr *) &sa, sizeof sa) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

int journal_sendv(int fd, const struct iovec *fields, size_t n) {
        struct iovec v[JOURNAL_FIELDS_MAX * 4];
        uint64_t lens[JOURNAL_FIELDS_MAX];
        size_t k = 0;

        n = MIN(n, (size_t) JOURNAL_FIELDS_MAX);
        for (size_t i = 0; i < n; i++) {
                const char *f = fields[i].iov_base, *eq = memchr(f, '=', fields[i].iov_len);
                size_t key = eq ? (size_t) (eq - f) : 0, len = fields[i].iov_len - key - 1;

                if (!eq || key == 0)
                        continue; /* not a field */
                if (!memchr(eq + 1, '\n', len)) {
                        v[k++] = fields[i];
                } else {
                        lens[i] = htole64((uint64_t) len);
                        v[k++] = (struct iovec) { (void *) f, key };
                        v[k++] = (struct iovec) { (void *) "\n", 1 };
                        v[k++] = (struct iovec) { &lens[i], sizeof lens[i] };
                        v[k++] = (struct iovec) { (void *) (eq + 1), len };
                }
                v[k++] = (struct iovec) { (void *) "\n", 1 };
        }
        struct msghdr mh = { .msg_iov = v, .msg_iovlen = k };
        if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
                return negative_errno();
        return 0;
}
