#!/bin/bash
# SPDX-License-Identifier: MIT
# VM system test: boots a real Debian 12 VM (qemu, systemd as PID 1 on the unified cgroup v2 hierarchy
# with every controller), installs the .deb in it and proves what a container on a cgroup v1 or hybrid
# host cannot: MemoryMax= and the HandlerOOMError class (retry set, retry, peak memory on the finish
# line), the limits of a job's own cgroup as worker.conf gives them, and cgroup.kill of what a job
# leaves behind. The checks run inside (tests/system/vm-guest.sh); TAP output, one line per check.
#   tests/system/vm.sh                 builds the .deb with packaging/build-deb.sh first
#   JOBS_DEB=path.deb tests/system/vm.sh
#   tests/system/vm.sh --meson         exit 0 when the TAP lines carry the verdict (meson's TAP reader)
#   tests/system/vm.sh --prepare       only install the host tools and make the cached image
# Needs root. KVM where it can run a stock kernel, else TCG emulation (2 to 3 minutes for the whole
# run on a 2-core machine). Environment (and lib.sh's JOBS_SYSTEST_*):
#   JOBS_VM_ACCEL    kvm or tcg instead of the choice above (tcg: as on a machine without KVM)
#   JOBS_VM_TIMEOUT  seconds from qemu's start until the VM must have powered off (default: 300 under
#                    kvm, 900 under tcg); it is killed then
#
# The guest's root is a cached bootstrap (lib.sh's, with a kernel and an initramfs) made into an ext4
# image once; each run boots it with snapshot=on (its writes are thrown away) beside a small disk of
# its own (the .deb, the guest script, lib.sh). jobs-vmtest.service in the image mounts that disk,
# runs the script with its output on the second serial port (a file here) and powers the VM off.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/system/lib.sh
. "$here/lib.sh"

# Bump when vm_cached_image changes what it makes of the root in a way vm_unit does not show.
VM_IMAGE_VERSION=1
ACCEL=${JOBS_VM_ACCEL:-}

# The unit baked into the image: runs the script of the run's disk (vdb), whatever it ends in, then
# powers off at once (the results are on the serial port already).
vm_unit() {
        cat <<'EOF'
[Unit]
Description=jobs VM test: the script on the disk of this run
Requires=dev-vdb.device
After=dev-vdb.device multi-user.target
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'mkdir -p /run/vmtest && mount -o ro /dev/vdb /run/vmtest && exec /run/vmtest/guest.sh >/dev/ttyS1 2>&1'
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
}

# Prints the directory holding rootfs.img, vmlinuz and initrd.img, making them once per recipe.
vm_cached_image() {
        local root key dir lock
        root=$(CT_SMALL_ROOT=0 ct_test_root) || exit 1
        key=$( { echo "$root" "$VM_IMAGE_VERSION"; vm_unit; } | sha256sum | cut -c1-16)
        dir="$JOBS_SYSTEST_CACHE/vm-$key"
        lock="$JOBS_SYSTEST_CACHE/.lock-vm-$key"
        (
                flock -w 600 9 || ct_die "timed out waiting for the lock on $lock"
                [ -f "$dir/rootfs.img" ] && exit 0
                local tmp t0 mb
                t0=$(now_ms)
                tmp=$(mktemp -d "$JOBS_SYSTEST_CACHE/.vm.XXXXXX")
                cp -a --reflink=auto "$root" "$tmp/root" || { rm -rf "$tmp"; ct_die "copying $root failed"; }
                vm_unit > "$tmp/root/etc/systemd/system/jobs-vmtest.service"
                ln -s ../jobs-vmtest.service "$tmp/root/etc/systemd/system/multi-user.target.wants/jobs-vmtest.service"
                # Installing the package in the guest then skips man-db's index update (a minute under TCG).
                rm -f "$tmp/root/var/lib/man-db/auto-update"
                # The kernel and initramfs for qemu's direct boot (no boot loader in the image).
                cp -L "$tmp/root/vmlinuz" "$tmp/vmlinuz" && cp -L "$tmp/root/initrd.img" "$tmp/initrd.img" ||
                        { rm -rf "$tmp"; ct_die "no /vmlinuz or /initrd.img in $root"; }
                # Room for the package, the journal and what the checks write.
                mb=$(( $(du -sm "$tmp/root" | cut -f1) + 512 ))
                if ! mkfs.ext4 -q -L jobs-vm -d "$tmp/root" "$tmp/rootfs.img" "${mb}M" >&2; then
                        rm -rf "$tmp"
                        ct_die "mkfs.ext4 -d failed"
                fi
                rm -rf "$tmp/root"
                mv "$tmp" "$dir"
                ct_log "VM image of ${mb} MB made in $(( $(now_ms) - t0 )) ms"
        ) 9>"$lock" || exit 1
        echo "$dir"
}

# Whether KVM here runs a stock kernel: hardware-assisted (kvm_intel, kvm_amd; not kvm_pvm, whose
# guests need a kernel built for it and a Debian kernel hangs right after its real-mode setup), and
# this qemu starts an empty machine with it.
kvm_works() {
        [ -c /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } &&
                echo quit | timeout 30 qemu-system-x86_64 -accel kvm -machine none -nodefaults -display none \
                        -monitor stdio >/dev/null 2>&1
}

qemu_exited() { ! pid_alive "$QEMU"; }
guest_started() { grep -q '^# vmtest: started' "$RUN/results.log"; }
started_or_exited() { guest_started || qemu_exited; }

# Main ---------------------------------------------------------------------------------------------

[ "$(id -u)" = 0 ] || ct_die "system tests need root"
ct_host_tools "${CT_VM_TOOLS[@]}"
if [ "${1:-}" = --prepare ]; then # (tests/run.sh, while it compiles)
        vm_cached_image >/dev/null
        exit
fi
if [ -z "$ACCEL" ]; then
        if kvm_works; then ACCEL=kvm; else ACCEL=tcg; fi
fi
case $ACCEL in
kvm)
        kvm_works || ct_die "JOBS_VM_ACCEL=kvm but KVM cannot run a stock kernel here"
        CPU=host
        TIMEOUT=${JOBS_VM_TIMEOUT:-300} ;;
tcg)
        CPU=max
        TIMEOUT=${JOBS_VM_TIMEOUT:-900} ;;
*) ct_die "JOBS_VM_ACCEL=$ACCEL: kvm or tcg" ;;
esac

trap ct_teardown EXIT
trap 'exit 130' INT TERM
ct_reap_stale
t0=$(now_ms)
IMAGE=$(vm_cached_image) || exit 1
echo "# VM image $IMAGE ready in $(( $(now_ms) - t0 )) ms"
RUN=$(ct_run_dir)
CT_CLEANUP+=("$RUN")

ct_deb "$RUN"

# The run's own disk: what the guest runs.
mkdir -p "$RUN/disk"
install -m 0755 "$here/vm-guest.sh" "$RUN/disk/guest.sh"
install -m 0644 "$here/lib.sh" "$RUN/disk/lib.sh"
install -m 0644 "$DEB" "$RUN/disk/jobs.deb"
mkfs.ext4 -q -d "$RUN/disk" "$RUN/disk.img" "$(( $(du -sm "$RUN/disk" | cut -f1) + 16 ))M" >&2 ||
        { echo "Bail out! mkfs.ext4 of the run's disk failed"; exit 1; }
: > "$RUN/results.log"

# panic=-1 and -no-reboot: a guest that cannot mount its root or that panics ends qemu at once.
# The snapshot's overlay goes to $TMPDIR, the run directory.
t_boot=$(now_ms)
TMPDIR=$RUN qemu-system-x86_64 -accel "$ACCEL" -cpu "$CPU" -m 1024 -smp 2 \
        -nodefaults -no-user-config -display none -no-reboot -bios /usr/share/qemu/qboot.rom \
        -kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initrd.img" \
        -append "root=/dev/vda rw console=ttyS0 quiet panic=-1 mitigations=off systemd.unified_cgroup_hierarchy=1" \
        -drive "file=$IMAGE/rootfs.img,format=raw,if=virtio,snapshot=on" \
        -drive "file=$RUN/disk.img,format=raw,if=virtio,readonly=on" \
        -serial "file:$RUN/console.log" -serial "file:$RUN/results.log" \
        </dev/null >"$RUN/qemu.log" 2>&1 &
QEMU=$!
echo "$QEMU" > "$RUN/qemu"
CT_KILL_PIDS+=("$QEMU")
echo "# qemu $QEMU ($ACCEL) started; at most $TIMEOUT s"

booted=''
if wait_until "$TIMEOUT" started_or_exited && guest_started; then
        booted=$(( $(now_ms) - t_boot ))
        echo "# booted to the guest's checks in $booted ms"
fi
killed=0
if ! wait_until "$(( TIMEOUT - ($(now_ms) - t_boot) / 1000 ))" qemu_exited; then
        echo "# the VM did not power off within $TIMEOUT s: killing qemu"
        killed=1
        kill -KILL "$QEMU" 2>/dev/null
fi
wait "$QEMU"
qemu_rc=$?
t_run=$(( $(now_ms) - t_boot ))

# The guest's TAP lines as they are (numbered from 1), anything else as a comment.
tr -d '\r' < "$RUN/results.log" | sed '/^\(ok\|not ok\|#\)/!s/^/# /'
last=$(tr -d '\r' < "$RUN/results.log" | sed -n 's/^\(not \)\{0,1\}ok \([0-9]*\) .*/\2/p' | tail -1)
n=${last:-0}
failed=$(tr -d '\r' < "$RUN/results.log" | grep -c '^not ok ')

t_end() {
        local r=0
        note "qemu exited with $qemu_rc after $t_run ms ($ACCEL)"
        [ -n "$booted" ] || { fail "the guest's checks never started"; r=1; }
        [ "$killed" = 0 ] || { fail "the VM was killed at the deadline"; r=1; }
        [ "$qemu_rc" = 0 ] || { sed 's/^/qemu: /' "$RUN/qemu.log"; fail "qemu exited with $qemu_rc"; r=1; }
        grep -q '^# vmtest: finished' "$RUN/results.log" || { fail "the guest script did not run to its end"; r=1; }
        if [ $r != 0 ]; then
                echo "console (last 40 lines):"
                tr -d '\r' < "$RUN/console.log" | tail -40
        fi
        return $r
}
check "the VM booted systemd, ran the guest's checks to their end and powered off" t_end

echo "1..$n"
echo "# VM test: $n checks, $failed failed, $(( $(now_ms) - T_START )) ms (boot ${booted:-?} ms, VM ${t_run} ms, $ACCEL)"
[ "${1:-}" = --meson ] || [ "$failed" -eq 0 ]
