#!/bin/sh
# package.sh [amd64|arm64|armhf] [BUILD_DIR] - builds the Debian package
# BUILD_DIR/package/scrape_VERSION_ARCH.deb (CPack, cmake/Package.cmake) and prints its path,
# alone on stdout (everything else goes to stderr).
#
#   amd64 (default, this machine): BUILD_DIR defaults to build, built by scripts/build.sh when
#          it has no CMakeCache.txt yet
#   arm64, armhf: BUILD_DIR defaults to build-ARCH, built (or brought up to date) by
#          scripts/cross-build.sh ARCH, whose qemu-user runs the binary for the manual page
#
# The package installs /usr/bin/scrape, scrape(1) and the docs in /usr/share/doc/scrape.
# Depends comes from dpkg-shlibdeps, for a cross build too: the foreign runtime libraries are
# installed through multiarch (cross-build.sh), so dpkg knows their packages and symbols; the
# cross objdump is named through DEB_HOST_ARCH / DEB_HOST_GNU_TYPE.  Install the package on
# every node with `sudo apt-get install ./scrape_VERSION_ARCH.deb` (docs/cluster.md, section 3).
# Checks: lintian, when installed, must report no error (warnings are printed).
set -eu
cd "$(dirname "$0")/.."
arch=${1:-amd64}
case "$arch" in
    amd64) dir=${2:-build}; triplet=x86_64-linux-gnu ;;
    arm64) dir=${2:-build-arm64}; triplet=aarch64-linux-gnu ;;
    armhf) dir=${2:-build-armhf}; triplet=arm-linux-gnueabihf ;;
    *) echo "usage: $0 [amd64|arm64|armhf] [BUILD_DIR]" >&2; exit 2 ;;
esac
for tool in dpkg-deb dpkg-shlibdeps cpack; do
    command -v "$tool" >/dev/null || { echo "package.sh: $tool is missing (apt-get install dpkg-dev cmake)" >&2; exit 1; }
done

if [ "$arch" = amd64 ]; then
    [ "$(dpkg --print-architecture)" = amd64 ] || { echo "package.sh: this machine is not amd64" >&2; exit 2; }
    if [ ! -f "$dir/CMakeCache.txt" ]; then
        scripts/build.sh "$dir" >&2
    else
        cmake --build "$dir" -j2 >&2
    fi
else
    if [ -z "${2:-}" ]; then
        scripts/cross-build.sh "$arch" >&2
    else
        cmake --build "$dir" -j2 >&2
    fi
fi

out=$dir/package
rm -rf "$out"
mkdir -p "$out"
# dpkg-shlibdeps reads the target's architecture from the environment (dpkg-architecture's
# variables): the foreign objdump, the multiarch library folders.
DEB_HOST_ARCH=$arch DEB_HOST_GNU_TYPE=$triplet DEB_HOST_MULTIARCH=$triplet \
    cpack --config "$dir/CPackConfig.cmake" -G DEB -B "$out" >&2
deb=$(ls "$out"/scrape_*_"$arch".deb)
if command -v lintian >/dev/null; then
    # lintian exits non-zero on errors (its default --fail-on error)
    lintian --tag-display-limit 0 "$deb" >&2 || { echo "package.sh: lintian reports errors in $deb" >&2; exit 1; }
fi
echo "$deb"
