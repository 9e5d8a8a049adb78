/* SPDX-License-Identifier: MIT */
/* An empty program, built twice by bench/meson.build: alone, and linked against libsystemd, so that
 * bench/enqueue.sh shows what loading libsystemd costs a short-lived program. */
int main(void) {
        return 0;
}
