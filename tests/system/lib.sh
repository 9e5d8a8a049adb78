# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Throw-away booted systemd for system tests: a cached minbase bookworm root, booted with
# systemd-nspawn on a per-container copy-on-write overlay, commands run inside with nsenter.
#
# One container (the container named "ct"):
#   . tests/system/lib.sh
#   ct_boot                      # sets CT_ROOT (the container's / seen from the host), CT_PID
#   ct systemctl is-active x     # runs a command inside, as root, clean environment
#   ct_install_deb path.deb      # installs a .deb inside the booted container (maintainer scripts run)
#   wait_until 30 ct systemctl is-active jobs-worker
#
# Several containers, each known by a name, on layers of your own above the cached root:
#   ct_setup                     # root, host tools, CT_LOWER (the cached root), teardown trap
#   ct_prepare NAME LAYER... "$CT_LOWER"; ct_spawn NAME [nspawn options]; ct_wait_booted NAME
#   ctn NAME systemctl ...       # as ct, inside NAME
#   ct_poweroff NAME / ct_kill NAME   # a clean shutdown / a power cut
#
# Teardown (poweroff, kill the nspawns by PID, unmount, remove the run dirs, end CT_KILL_PIDS) runs
# from an EXIT trap, also on failure or interrupt. Needs root, mmdebstrap and systemd-container
# (ct_host_tools installs them).
# Environment:
#   JOBS_SYSTEST_CACHE    where bootstrapped roots are kept (default /var/cache/jobs-systest)
#   JOBS_SYSTEST_REFRESH  1 = bootstrap again even if a cached root exists
#   CT_SMALL_ROOT         1 = boot the root without a kernel (packaging/demo.sh: a faster first bootstrap)
#   JOBS_SYSTEST_MIRROR   Debian mirror for mmdebstrap (default: the host's apt sources)
#   JOBS_SYSTEST_KEEP     1 = leave the containers running at exit (prints how to reach them)
#   JOBS_SYSTEST_NO_OVERLAY  1 = copy the cached root instead of mounting an overlay on it

: "${JOBS_SYSTEST_CACHE:=/var/cache/jobs-systest}"
: "${JOBS_SYSTEST_SUITE:=bookworm}"

# Everything the system tests and the package need inside, so installing the .deb needs no network.
CT_PACKAGES=(systemd systemd-sysv dbus redis-server redis-tools libhiredis0.14 libjansson4 libsystemd0
             man-db bash-completion procps)
# The tests' root also has a kernel and an initramfs, so that the VM test boots the very root the
# container tests boot: one bootstrap for the three (vm-root/ goes in first, by a setup hook: the
# initramfs configuration and which modules to unpack).
CT_KERNEL_PACKAGES=(linux-image-amd64 initramfs-tools)
CT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# What the VM test needs on the host besides ct_host_tools' own (COMMAND:PACKAGE).
CT_VM_TOOLS=(qemu-system-x86_64:qemu-system-x86 mkfs.ext4:e2fsprogs)
# Bump when the bootstrap recipe changes in a way the package list does not show.
CT_RECIPE_VERSION=1

CT_ROOT=
CT_PID=
CT_NSPAWN_PID=
CT_RUN_DIR=
CT_OVERLAY=0
CT_LOWER=
CT_CLEANUP=()   # more paths for ct_teardown to remove
CT_KILL_PIDS=() # host processes for ct_teardown to end once the containers are down

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

# For wait_for and checks: the command's status negated.
not() { ! "$@"; }
# grep -q for the end of a pipe: it reads all its input, so under pipefail a long journal does not
# fail the pipe with SIGPIPE when the match comes early.
has() { grep "$@" >/dev/null; }

# TAP bookkeeping shared by the system tests: checks so far, failed ones, the test's start.
n=0
failed=0
T_START=$(now_ms)
# tap_line RC DESC T0 < OUTPUT
# prints "ok N - DESC" or "not ok N - DESC", the output as comments and the time since T0.
tap_line() {
        n=$((n + 1))
        if [ "$1" -eq 0 ]; then
                echo "ok $n - $2"
        else
                echo "not ok $n - $2"
                failed=$((failed + 1))
        fi
        sed 's/^/#   /'
        echo "#   ($(( $(now_ms) - $3 )) ms)"
}
# ok/not ok for one check: check "description" function [args...]
check() {
        local desc=$1; shift
        local out rc t0
        t0=$(now_ms)
        out=$("$@" 2>&1)
        rc=$?
        if [ -n "$out" ]; then tap_line $rc "$desc" "$t0" <<<"$out"; else tap_line $rc "$desc" "$t0" </dev/null; fi
        return 0
}
fail() { echo "FAIL: $*"; return 1; }
note() { echo "$*"; }

# ct_host_tools [COMMAND:PACKAGE...]: installs the tools every system test needs on the host, and
# the package of each further COMMAND missing from PATH.
# shellcheck disable=SC2120 # vm.sh passes its own tools
ct_host_tools() {
        local missing=() t
        command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
        command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
        command -v nsenter >/dev/null || missing+=(util-linux)
        for t in "$@"; do
                command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        ct_log "installing host tools: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 ||
                ct_die "cannot install ${missing[*]} (apt-get install failed)"
}

# ct_cached_root [PACKAGE...]: prints the path of a bootstrapped root for CT_PACKAGES and the
# PACKAGEs, bootstrapping it (~20 s) when not cached. $CT_SETUP_HOOK, if set, is mmdebstrap's
# --setup-hook (a shell command, $1 the new root), part of the recipe as itself or as $CT_SETUP_KEY.
# Each root has its own lock: one being bootstrapped does not hold up the tests that use another.
# shellcheck disable=SC2120 # ct_test_root passes the kernel's packages
ct_cached_root() {
        local key root tmp lock
        key=$(printf '%s\n' "$CT_RECIPE_VERSION" "$JOBS_SYSTEST_SUITE" "${JOBS_SYSTEST_MIRROR:-}" \
                "${CT_PACKAGES[@]}" "$@" "${CT_SETUP_KEY:-${CT_SETUP_HOOK:-}}" | sha256sum | cut -c1-16)
        root="$JOBS_SYSTEST_CACHE/root-$key"
        mkdir -p "$JOBS_SYSTEST_CACHE" || ct_die "cannot create $JOBS_SYSTEST_CACHE"
        lock="$JOBS_SYSTEST_CACHE/.lock-$key"
        (
                # (tests/run.sh starts the tests while their roots are bootstrapped, under load)
                flock -w 1200 9 || ct_die "timed out waiting for the lock on $lock"
                if [ "${JOBS_SYSTEST_REFRESH:-0}" = 1 ] && [ -d "$root" ]; then
                        rm -rf "$root"
                fi
                if [ ! -d "$root" ]; then
                        tmp=$(mktemp -d "$JOBS_SYSTEST_CACHE/.bootstrap.XXXXXX")
                        ct_log "bootstrapping $JOBS_SYSTEST_SUITE into $root"
                        local t0; t0=$(now_ms)
                        local list; list=$(IFS=,; echo "${CT_PACKAGES[*]}${*:+,$*}")
                        # mmdebstrap wants an empty or missing target directory
                        rmdir "$tmp"
                        if ! mmdebstrap --quiet --variant=minbase --include="$list" \
                                ${CT_SETUP_HOOK:+--setup-hook="$CT_SETUP_HOOK"} \
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

# ct_test_root: prints the path of the tests' root (CT_PACKAGES, a kernel), bootstrapping it when
# not cached; with CT_SMALL_ROOT=1, the root of CT_PACKAGES alone.
ct_test_root() {
        [ "${CT_SMALL_ROOT:-0}" = 1 ] && { ct_cached_root; return; }
        local hook sum
        # vm-root/ goes in before the kernel's package is unpacked and makes the initramfs; the
        # files' names and checksum (not the checkout's path) make them part of the recipe.
        sum=$(cd "$CT_LIB_DIR/vm-root" && find . -type f | sort | xargs sha256sum | sha256sum | cut -c1-16)
        hook="cp -R '$CT_LIB_DIR/vm-root/.' \"\$1/\""
        CT_SETUP_HOOK=$hook CT_SETUP_KEY="vm-root $sum" ct_cached_root "${CT_KERNEL_PACKAGES[@]}"
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
                # SIGKILL to a PID namespace's init ends every process in the container; qemu is a VM.
                cat "$d/pid1" "$d/nspawn" "$d/qemu" 2>/dev/null | while read -r p; do
                        kill -KILL "$p" 2>/dev/null
                done
                [ -f "$d/redis.pid" ] && kill -KILL "$(cat "$d/redis.pid")" 2>/dev/null
                umount "$d/root" 2>/dev/null || umount -l "$d/root" 2>/dev/null
                ct_cgroup_remove "$d/cgroups"
                rm -rf --one-file-system "$d"
        done
}

# Several containers at once, each known by a NAME: its run directory, root, systemd-nspawn and PID 1.
# The single-container API (ct_boot, ct, CT_ROOT, CT_PID, ...) is the container named "ct".
declare -A CTS_DIR=() CTS_ROOT=() CTS_NSPAWN=() CTS_PID=() CTS_OVERLAY=() CTS_BOOT_MS=()
CTS_NAMES=()

# A run directory owned by this shell, removed by ct_teardown (ct_reap_stale if the run is killed).
ct_run_dir() {
        local d
        d=$(mktemp -d /var/tmp/jobs-systest.XXXXXX) || ct_die "mktemp failed"
        echo $$ > "$d/owner"
        echo "$d"
}

# ct_prepare NAME LOWER...: a per-container writable view of the read-only layers LOWER (topmost
# first): an overlay if the kernel allows it, a copy otherwise (or when JOBS_SYSTEST_NO_OVERLAY=1).
ct_prepare() {
        local name=$1; shift
        local d lowers l i
        d=$(ct_run_dir)
        CTS_DIR[$name]=$d
        CTS_NAMES+=("$name")
        mkdir -p "$d"/{upper,work,root}
        lowers=$(IFS=:; echo "$*")
        CTS_OVERLAY[$name]=0
        if [ "${JOBS_SYSTEST_NO_OVERLAY:-0}" != 1 ] && mount -t overlay overlay \
                -o "lowerdir=$lowers,upperdir=$d/upper,workdir=$d/work" "$d/root" 2>/dev/null; then
                CTS_OVERLAY[$name]=1
        else
                ct_log "overlayfs unavailable, copying the root of $name"
                # bottom layer first, so upper layers win (a copy cannot honour overlay whiteouts)
                for (( i = $#; i >= 1; i-- )); do
                        l=${!i}
                        cp -a --reflink=auto "$l/." "$d/root/" || ct_die "copying $l failed"
                done
        fi
        CTS_ROOT[$name]="$d/root"
}

# The cgroup hierarchies systemd manages on this machine: cgroup v2 at /sys/fs/cgroup, or on a hybrid
# setup the v2 one at /sys/fs/cgroup/unified and the name=systemd v1 one at /sys/fs/cgroup/systemd.
ct_cgroup_roots() {
        local h
        if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
                echo /sys/fs/cgroup
                return
        fi
        for h in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
                case $(stat -fc %T "$h" 2>/dev/null) in cgroup2fs|cgroupfs) echo "$h" ;; esac
        done
}

# Moves the calling (sub)shell into a cgroup of its own, CGROUP under every hierarchy, and records the
# directories in FILE. With --keep-unit and no systemd on the machine, systemd-nspawn leaves the
# container in its caller's cgroup: two containers started from one shell would manage the same
# system.slice, and one's systemd removes the cgroups of the other's services.
ct_cgroup_enter() {
        local cg=$1 file=$2 h
        for h in $(ct_cgroup_roots); do
                if ! { mkdir -p "$h/$cg" && echo "$h/$cg" >> "$file" && echo "$BASHPID" > "$h/$cg/cgroup.procs"; }; then
                        ct_log "cannot move into $h/$cg; containers may share a cgroup"
                fi
        done
}

# Removes the cgroups listed in FILE (and what the container's systemd created below them).
ct_cgroup_remove() {
        local file=$1 cg
        [ -f "$file" ] || return 0
        while read -r cg; do
                [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
                # the parent, once no container of this run is left in it
                rmdir "$(dirname "$cg")" 2>/dev/null
        done < "$file"
        return 0
}

# ct_spawn NAME [systemd-nspawn options...]: boots the prepared root in the background, in a cgroup
# of its own.
ct_spawn() {
        local name=$1; shift
        local d=${CTS_DIR[$name]}
        CTS_BOOT_MS[$name]=$(now_ms)
        (
                ct_cgroup_enter "jobs-systest/$(basename "$d")" "$d/cgroups"
                exec systemd-nspawn -D "$d/root" --register=no --keep-unit -b "$@"
        ) </dev/null >"$d/console.log" 2>&1 &
        CTS_NSPAWN[$name]=$!
        echo "${CTS_NSPAWN[$name]}" > "$d/nspawn"
}

# ct_wait_booted NAME: returns once systemd in NAME reports running (or degraded).
ct_wait_booted() {
        local name=$1
        local d=${CTS_DIR[$name]} nspawn=${CTS_NSPAWN[$name]} pid='' child
        local deadline=$(( $(date +%s) + 30 ))
        while [ -z "$pid" ]; do
                kill -0 "$nspawn" 2>/dev/null || { cat "$d/console.log" >&2; ct_die "systemd-nspawn of $name exited"; }
                [ "$(date +%s)" -lt "$deadline" ] || ct_die "no PID 1 under systemd-nspawn $nspawn ($name) after 30 s"
                for child in $(pgrep -P "$nspawn"); do
                        [ "$(cat /proc/"$child"/comm 2>/dev/null)" = systemd ] && pid=$child
                done
                [ -n "$pid" ] || sleep 0.05
        done
        CTS_PID[$name]=$pid
        echo "$pid" > "$d/pid1"
        # systemctl fails at once while PID 1 has not yet created its private socket
        wait_until 60 nsenter -t "$pid" -a test -S /run/systemd/private ||
                ct_die "systemd in $name did not come up within 60 s"
        local state
        state=$(timeout 120 nsenter -t "$pid" -a systemctl is-system-running --wait 2>/dev/null)
        case "$state" in
        running|degraded) ;;
        *)
                ctn "$name" systemctl --failed --no-pager >&2
                ct_die "container $name did not boot (state: ${state:-none})" ;;
        esac
        CTS_BOOT_MS[$name]=$(( $(now_ms) - CTS_BOOT_MS[$name] ))
        ct_log "$name booted in ${CTS_BOOT_MS[$name]} ms ($state), PID 1 is $pid, root ${CTS_ROOT[$name]}"
}

# Runs a command inside container NAME in a clean environment.
ctn() {
        local name=$1; shift
        nsenter -t "${CTS_PID[$name]}" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                LANG=C.UTF-8 TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0 HOME=/root "$@"
}

ct_running() { [ -n "${CTS_NSPAWN[$1]:-}" ] && kill -0 "${CTS_NSPAWN[$1]}" 2>/dev/null; }

# ct_poweroff NAME [SECONDS]: a clean shutdown; waits for systemd-nspawn to exit, then kills it
# (and with it every process of the container) if the deadline passes. Returns 1 in that case.
ct_poweroff() {
        local name=$1 secs=${2:-30} r=0
        local nspawn=${CTS_NSPAWN[$name]:-}
        ct_running "$name" || return 0
        [ -n "${CTS_PID[$name]:-}" ] && nsenter -t "${CTS_PID[$name]}" -a systemctl poweroff --no-block >/dev/null 2>&1
        if ! wait_until "$secs" not_running "$name"; then
                ct_log "$name did not power off within $secs s, killing systemd-nspawn $nspawn"
                r=1
                kill -TERM "$nspawn" 2>/dev/null
                wait_until 10 not_running "$name" || ct_kill "$name"
        fi
        wait "$nspawn" 2>/dev/null
        return $r
}
not_running() { ! ct_running "$1"; }

# ct_kill NAME: the container dies at once, as a host whose power is cut.
ct_kill() {
        local name=$1
        # SIGKILL to a PID namespace's init ends every process in the container.
        [ -n "${CTS_PID[$name]:-}" ] && kill -KILL "${CTS_PID[$name]}" 2>/dev/null
        [ -n "${CTS_NSPAWN[$name]:-}" ] && kill -KILL "${CTS_NSPAWN[$name]}" 2>/dev/null
        wait "${CTS_NSPAWN[$name]}" 2>/dev/null
        return 0
}

# ct_remove NAME: stops NAME if it still runs, unmounts and removes its run directory.
ct_remove() {
        local name=$1
        local d=${CTS_DIR[$name]:-}
        ct_poweroff "$name" 30
        if [ -n "$d" ] && [ -d "$d" ]; then
                if [ "${CTS_OVERLAY[$name]}" = 1 ]; then
                        umount "$d/root" 2>/dev/null || umount -l "$d/root" 2>/dev/null
                fi
                ct_cgroup_remove "$d/cgroups"
                rm -rf --one-file-system "$d"
        fi
        unset "CTS_DIR[$name]" "CTS_PID[$name]" "CTS_NSPAWN[$name]" "CTS_ROOT[$name]"
}

ct_teardown() {
        local rc=$? name
        if [ "${JOBS_SYSTEST_KEEP:-0}" = 1 ]; then
                for name in "${CTS_NAMES[@]}"; do
                        ct_running "$name" &&
                                ct_log "kept running: nsenter -t ${CTS_PID[$name]} -a bash   (stop: kill ${CTS_NSPAWN[$name]})"
                done
                return $rc
        fi
        # Ask every container to power off first, so they shut down side by side.
        for name in "${CTS_NAMES[@]}"; do
                ct_running "$name" && [ -n "${CTS_PID[$name]:-}" ] &&
                        nsenter -t "${CTS_PID[$name]}" -a systemctl poweroff --no-block >/dev/null 2>&1
        done
        for name in "${CTS_NAMES[@]}"; do
                [ -n "${CTS_DIR[$name]:-}" ] && ct_remove "$name"
        done
        local p
        for p in "${CT_KILL_PIDS[@]}"; do
                kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
        done
        [ ${#CT_CLEANUP[@]} -eq 0 ] || rm -rf --one-file-system "${CT_CLEANUP[@]}"
        CT_PID='' CT_NSPAWN_PID='' CT_RUN_DIR='' CT_ROOT=''
        return $rc
}

# What every container test needs first: root, the host tools, the cached root (sets CT_LOWER) and
# the teardown trap. Not in a subshell: the trap must be this shell's.
ct_setup() {
        [ "$(id -u)" = 0 ] || ct_die "system tests need root"
        # shellcheck disable=SC2119 # the container tests need no more
        ct_host_tools
        CT_LOWER=$(ct_test_root) || ct_die "no container root"
        trap ct_teardown EXIT
        trap 'exit 130' INT TERM
        ct_reap_stale
}

# Boots the cached root; returns once systemd reports running (or degraded). Sets CT_BOOT_MS.
ct_boot() {
        ct_setup
        ct_prepare ct "$CT_LOWER"
        # shellcheck disable=SC2034 # read by the scripts that source this file
        CT_RUN_DIR=${CTS_DIR[ct]} CT_ROOT=${CTS_ROOT[ct]} CT_OVERLAY=${CTS_OVERLAY[ct]}
        # --private-network: the container's Redis on 127.0.0.1:6379 is its own, never the host's.
        # SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1: the unified cgroup v2 hierarchy the package targets (and
        # its cgroup per job needs), even on a host with a hybrid layout, where systemd-nspawn 252 would
        # otherwise give the container the legacy one of its host's name=systemd hierarchy.
        SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 ct_spawn ct --private-network --machine="jobs-systest-$$"
        # shellcheck disable=SC2034 # read by the scripts that source this file
        CT_NSPAWN_PID=${CTS_NSPAWN[ct]}
        ct_wait_booted ct
        # shellcheck disable=SC2034 # read by the scripts that source this file
        CT_PID=${CTS_PID[ct]} CT_BOOT_MS=${CTS_BOOT_MS[ct]}
}

# Runs a command inside the container in a clean environment.
ct() { ctn ct "$@"; }

# Copies a file from the host into the container's /var/tmp (its /tmp is a private tmpfs).
ct_put() {
        local src=$1 dest="/var/tmp/${2:-$(basename "$1")}"
        install -m 0644 "$src" "$CT_ROOT$dest" && echo "$dest"
}

# ct_deb DIR: sets DEB to $JOBS_DEB, or builds the package of this tree into DIR and sets DEB to it.
ct_deb() {
        local t0
        DEB=${JOBS_DEB:-}
        if [ -z "$DEB" ]; then
                t0=$(now_ms)
                DEB=$("$(dirname "${BASH_SOURCE[0]}")/../../packaging/build-deb.sh" "$1" 2>"$1/build.log" | tail -1) ||
                        { tail -20 "$1/build.log" | sed 's/^/# /'; echo "Bail out! building the .deb failed"; exit 1; }
                echo "# built $(basename "$DEB") in $(( $(now_ms) - t0 )) ms"
        fi
        [ -f "$DEB" ] || { echo "Bail out! no .deb at $DEB"; exit 1; }
}

# Installs a .deb in the booted container, so its maintainer scripts run against a live systemd.
ct_install_deb() {
        local inside; inside=$(ct_put "$1") || return 1
        # dpkg, not apt: the root has no package lists and no network; dependencies come from CT_PACKAGES.
        ct env DEBIAN_FRONTEND=noninteractive dpkg -i "$inside" && return 0
        ct_log "dpkg -i failed; a new dependency of the package must be added to CT_PACKAGES in ${BASH_SOURCE[0]}"
        return 1
}
