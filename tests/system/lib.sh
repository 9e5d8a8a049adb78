# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# A throw-away booted systemd for system tests: a cached minbase bookworm root, booted with
# systemd-nspawn on a per-run copy-on-write overlay, commands run inside with nsenter.
#
#   . tests/system/lib.sh
#   ct_boot                      # sets CT_ROOT (the container's / seen from the host), CT_PID
#   ct systemctl is-active x     # runs a command inside, as root, clean environment
#   ct_install_deb path.deb      # installs a .deb inside the booted container (maintainer scripts run)
#   wait_until 30 ct systemctl is-active jobs-worker
#
# Teardown (poweroff, kill the nspawn by PID, unmount, remove the run dir) runs from an EXIT trap,
# also on failure or interrupt. Needs root, mmdebstrap and systemd-container (ct_host_tools installs them).
# Environment:
#   JOBS_SYSTEST_CACHE    where bootstrapped roots are kept (default /var/cache/jobs-systest)
#   JOBS_SYSTEST_REFRESH  1 = bootstrap again even if a cached root exists
#   JOBS_SYSTEST_MIRROR   Debian mirror for mmdebstrap (default: the host's apt sources)
#   JOBS_SYSTEST_KEEP     1 = leave the container running at exit (prints how to reach it)
#   JOBS_SYSTEST_NO_OVERLAY  1 = copy the cached root instead of mounting an overlay on it

: "${JOBS_SYSTEST_CACHE:=/var/cache/jobs-systest}"
: "${JOBS_SYSTEST_SUITE:=bookworm}"

# Everything the system tests and the package need inside, so installing the .deb needs no network.
CT_PACKAGES=(systemd systemd-sysv dbus redis-server redis-tools libhiredis0.14 libjansson4 libsystemd0
             man-db bash-completion procps)
# Bump when the bootstrap recipe changes in a way the package list does not show.
CT_RECIPE_VERSION=1

CT_ROOT=
CT_PID=
CT_NSPAWN_PID=
CT_RUN_DIR=
CT_OVERLAY=0
CT_CLEANUP=()   # more paths for ct_teardown to remove

ct_log() { printf '# %s\n' "$*" >&2; }
ct_die() { printf 'Bail out! %s\n' "$*"; exit 1; }

# Polls a command until it succeeds; returns 1 once the deadline (seconds) has passed.
wait_until() {
        local timeout=$1; shift
        local deadline=$(( $(date +%s) + timeout ))
        while ! "$@" >/dev/null 2>&1; do
                [ "$(date +%s)" -lt "$deadline" ] || return 1
                sleep 0.2
        done
}

now_ms() { date +%s%3N; }

ct_host_tools() {
        local missing=()
        command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
        command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
        command -v nsenter >/dev/null || missing+=(util-linux)
        [ ${#missing[@]} -eq 0 ] && return 0
        ct_log "installing host tools: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 ||
                ct_die "cannot install ${missing[*]} (apt-get install failed)"
}

# Prints the path of a bootstrapped root for CT_PACKAGES, bootstrapping it (~20 s) when not cached.
ct_cached_root() {
        local key root tmp lock
        key=$(printf '%s\n' "$CT_RECIPE_VERSION" "$JOBS_SYSTEST_SUITE" "${JOBS_SYSTEST_MIRROR:-}" \
                "${CT_PACKAGES[@]}" | sha256sum | cut -c1-16)
        root="$JOBS_SYSTEST_CACHE/root-$key"
        mkdir -p "$JOBS_SYSTEST_CACHE" || ct_die "cannot create $JOBS_SYSTEST_CACHE"
        lock="$JOBS_SYSTEST_CACHE/.lock"
        (
                flock -w 600 9 || ct_die "timed out waiting for the lock on $lock"
                if [ "${JOBS_SYSTEST_REFRESH:-0}" = 1 ] && [ -d "$root" ]; then
                        rm -rf "$root"
                fi
                if [ ! -d "$root" ]; then
                        tmp=$(mktemp -d "$JOBS_SYSTEST_CACHE/.bootstrap.XXXXXX")
                        ct_log "bootstrapping $JOBS_SYSTEST_SUITE into $root"
                        local t0; t0=$(now_ms)
                        local list; list=$(IFS=,; echo "${CT_PACKAGES[*]}")
                        # mmdebstrap wants an empty or missing target directory
                        rmdir "$tmp"
                        if ! mmdebstrap --quiet --variant=minbase --include="$list" \
                                "$JOBS_SYSTEST_SUITE" "$tmp" ${JOBS_SYSTEST_MIRROR:+"$JOBS_SYSTEST_MIRROR"} >&2; then
                                rm -rf "$tmp"
                                ct_die "mmdebstrap failed"
                        fi
                        echo jobs-systest > "$tmp/etc/hostname"
                        mv "$tmp" "$root"
                        ct_log "bootstrap took $(( $(now_ms) - t0 )) ms"
                fi
        ) 9>"$lock" || exit 1
        echo "$root"
}

# A zombie is dead too (kill -0 still succeeds on one until its parent reaps it).
pid_alive() {
        local state
        state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
        [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Run directories of runs that were killed before their trap ran (owner PID gone): unmount, remove.
ct_reap_stale() {
        local d owner
        for d in /var/tmp/jobs-systest.??????; do
                [ -f "$d/owner" ] || continue
                owner=$(cat "$d/owner")
                pid_alive "$owner" && continue
                ct_log "removing stale $d (run $owner is gone)"
                # SIGKILL to a PID namespace's init ends every process in the container.
                cat "$d/pid1" "$d/nspawn" 2>/dev/null | while read -r p; do
                        kill -KILL "$p" 2>/dev/null
                done
                umount "$d/root" 2>/dev/null || umount -l "$d/root" 2>/dev/null
                rm -rf --one-file-system "$d"
        done
}

# A per-run writable view of the cached root: an overlay if the kernel allows it, a copy otherwise
# (or when JOBS_SYSTEST_NO_OVERLAY=1).
ct_prepare_root() {
        local lower=$1
        ct_reap_stale
        CT_RUN_DIR=$(mktemp -d /var/tmp/jobs-systest.XXXXXX) || ct_die "mktemp failed"
        echo $$ > "$CT_RUN_DIR/owner"
        mkdir -p "$CT_RUN_DIR"/{upper,work,root}
        if [ "${JOBS_SYSTEST_NO_OVERLAY:-0}" != 1 ] && mount -t overlay overlay -o "lowerdir=$lower,upperdir=$CT_RUN_DIR/upper,workdir=$CT_RUN_DIR/work" \
                "$CT_RUN_DIR/root" 2>/dev/null; then
                CT_OVERLAY=1
        else
                ct_log "overlayfs unavailable, copying the root"
                cp -a --reflink=auto "$lower/." "$CT_RUN_DIR/root/" || ct_die "copying $lower failed"
        fi
        CT_ROOT="$CT_RUN_DIR/root"
}

ct_teardown() {
        local rc=$?
        if [ "${JOBS_SYSTEST_KEEP:-0}" = 1 ] && [ -n "$CT_PID" ]; then
                ct_log "kept running: nsenter -t $CT_PID -a bash   (stop: kill $CT_NSPAWN_PID)"
                return $rc
        fi
        if [ -n "$CT_NSPAWN_PID" ] && kill -0 "$CT_NSPAWN_PID" 2>/dev/null; then
                [ -n "$CT_PID" ] && nsenter -t "$CT_PID" -a systemctl poweroff --no-block >/dev/null 2>&1

                for _ in $(seq 1 150); do
                        kill -0 "$CT_NSPAWN_PID" 2>/dev/null || break
                        sleep 0.2
                done
                if kill -0 "$CT_NSPAWN_PID" 2>/dev/null; then
                        ct_log "container did not power off within 30 s, killing systemd-nspawn $CT_NSPAWN_PID"
                        kill -TERM "$CT_NSPAWN_PID" 2>/dev/null
                        for _ in $(seq 1 50); do
                                kill -0 "$CT_NSPAWN_PID" 2>/dev/null || break
                                sleep 0.2
                        done
                        kill -KILL "$CT_NSPAWN_PID" 2>/dev/null
                        # SIGKILL to a PID namespace's init ends every process in the container.
                        [ -n "$CT_PID" ] && kill -KILL "$CT_PID" 2>/dev/null
                fi
                wait "$CT_NSPAWN_PID" 2>/dev/null
        fi
        if [ -n "$CT_RUN_DIR" ] && [ -d "$CT_RUN_DIR" ]; then
                if [ "$CT_OVERLAY" = 1 ]; then
                        umount "$CT_RUN_DIR/root" 2>/dev/null || umount -l "$CT_RUN_DIR/root" 2>/dev/null
                fi
                rm -rf --one-file-system "$CT_RUN_DIR"
        fi
        [ ${#CT_CLEANUP[@]} -eq 0 ] || rm -rf "${CT_CLEANUP[@]}"
        CT_PID='' CT_NSPAWN_PID='' CT_RUN_DIR='' CT_ROOT=''
        return $rc
}

# Boots the cached root; returns once systemd reports running (or degraded). Sets CT_BOOT_MS.
ct_boot() {
        [ "$(id -u)" = 0 ] || ct_die "system tests need root"
        ct_host_tools
        local lower; lower=$(ct_cached_root) || ct_die "no container root: ${lower#Bail out! }"
        trap ct_teardown EXIT
        trap 'exit 130' INT TERM
        ct_prepare_root "$lower"
        local t0; t0=$(now_ms)
        # --private-network: the container's Redis on 127.0.0.1:6379 is its own, never the host's.
        systemd-nspawn -D "$CT_ROOT" --register=no --keep-unit --private-network -b \
                --machine="jobs-systest-$$" </dev/null >"$CT_RUN_DIR/console.log" 2>&1 &
        CT_NSPAWN_PID=$!
        echo "$CT_NSPAWN_PID" > "$CT_RUN_DIR/nspawn"
        local deadline=$(( $(date +%s) + 30 )) child
        while [ -z "$CT_PID" ]; do
                kill -0 "$CT_NSPAWN_PID" 2>/dev/null || { cat "$CT_RUN_DIR/console.log" >&2; ct_die "systemd-nspawn exited"; }
                [ "$(date +%s)" -lt "$deadline" ] || ct_die "no PID 1 under systemd-nspawn $CT_NSPAWN_PID after 30 s"
                for child in $(pgrep -P "$CT_NSPAWN_PID"); do
                        [ "$(cat /proc/"$child"/comm 2>/dev/null)" = systemd ] && CT_PID=$child
                done
                [ -n "$CT_PID" ] || sleep 0.05
        done
        echo "$CT_PID" > "$CT_RUN_DIR/pid1"
        # systemctl fails at once while PID 1 has not yet created its private socket
        wait_until 60 nsenter -t "$CT_PID" -a test -S /run/systemd/private ||
                ct_die "systemd in the container did not come up within 60 s"
        local state
        state=$(timeout 120 nsenter -t "$CT_PID" -a systemctl is-system-running --wait 2>/dev/null)
        case "$state" in
        running|degraded) ;;
        *)
                ct systemctl --failed --no-pager >&2
                ct_die "container did not boot (state: ${state:-none})" ;;
        esac
        CT_BOOT_MS=$(( $(now_ms) - t0 ))
        ct_log "booted in $CT_BOOT_MS ms ($state), PID 1 is $CT_PID, root $CT_ROOT"
}

# Runs a command inside the container in a clean environment.
ct() {
        nsenter -t "$CT_PID" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                LANG=C.UTF-8 TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0 HOME=/root "$@"
}

# Copies a file from the host into the container's /var/tmp (its /tmp is a private tmpfs).
ct_put() {
        local src=$1 dest="/var/tmp/${2:-$(basename "$1")}"
        install -m 0644 "$src" "$CT_ROOT$dest" && echo "$dest"
}

# Installs a .deb in the booted container, so its maintainer scripts run against a live systemd.
ct_install_deb() {
        local inside; inside=$(ct_put "$1") || return 1
        # dpkg, not apt: the root has no package lists and no network; dependencies come from CT_PACKAGES.
        ct env DEBIAN_FRONTEND=noninteractive dpkg -i "$inside" && return 0
        ct_log "dpkg -i failed; a new dependency of the package must be added to CT_PACKAGES in ${BASH_SOURCE[0]}"
        return 1
}
