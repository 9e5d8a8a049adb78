#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds jobs_<version>_<arch>.deb from the working tree with dpkg-buildpackage (tests off: nocheck).
#   packaging/build-deb.sh [OUTDIR]        (default OUTDIR: packaging/out)
# Installs the Build-Depends with apt-get when some are missing. Prints the path of the .deb last.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/packaging/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

export DEBIAN_FRONTEND=noninteractive
command -v dpkg-checkbuilddeps >/dev/null || apt-get install -y -q --no-install-recommends dpkg-dev >&2

# Build-Depends for a nocheck build, read from debian/control (mk-build-deps would need equivs).
# Version constraints go; the virtual debhelper-compat and dh-sequence-* are provided by debhelper.
deps=$(dpkg-checkbuilddeps -P nocheck "$src/packaging/debian/control" 2>&1 |
        sed -n 's/.*Unmet build dependencies: //p' | sed 's/([^)]*)//g' |
        tr ' ' '\n' | sed 's/^debhelper-compat$/debhelper/; s/^dh-sequence-.*/debhelper/' |
        grep -v '^$' | sort -u | tr '\n' ' ') || true
if [ -n "$deps" ]; then
        echo "build-deb: installing build dependencies: $deps" >&2
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $deps >&2
fi

work=$(mktemp -d /var/tmp/jobs-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
version=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)
meson_version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -1)
if [ "$version" != "$meson_version" ]; then
        echo "build-deb: debian/changelog says $version but meson.build says $meson_version" >&2
        exit 1
fi

# A clean copy: tracked and new files, no build directories or other local clutter.
tree="$work/jobs-$version"
mkdir -p "$tree"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
        git -C "$src" ls-files -z --cached --others --exclude-standard |
                while IFS= read -r -d '' f; do [ -e "$src/$f" ] && printf '%s\0' "$f"; done |
                (cd "$src" && xargs -0 -r cp --parents -a -t "$tree")
else
        cp -a "$src/." "$tree/"
fi
rm -rf "$tree/debian" "$tree/packaging/out"
cp -a "$src/packaging/debian" "$tree/debian"

arch=$(dpkg --print-architecture)
(
        cd "$tree"
        DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" \
                dpkg-buildpackage -us -uc -b --build-profiles=nocheck
) >&2

# The package, its debug symbols and the .changes/.buildinfo that list them.
deb="jobs_${version}_${arch}.deb"
[ -f "$work/$deb" ] || { echo "build-deb: dpkg-buildpackage made no $deb" >&2; exit 1; }
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out/"
echo "$out/$deb"
