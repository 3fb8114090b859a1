#!/bin/sh
# cross-build.sh arm64|armhf [cmake options...] - builds build-ARCH/scrape and its unit tests for
# a Raspberry Pi architecture on a Debian 12 amd64 machine, from this tree, and writes
# build-ARCH/scrape-emu, which runs that binary under qemu-user (it can stand as a program in
# mpiexec, MPMD included).  Run the unit tests under qemu with: (cd build-ARCH && ctest -L unit)
#
# Installs what it needs, idempotently (quick when everything is there):
#   - the Debian cross compiler and qemu-user-static;
#   - the foreign architecture (dpkg --add-architecture) and its *runtime* libraries through
#     multiarch: Multi-Arch: same packages, which pull no compilers;
#   - the foreign headers and .so links from the -dev packages, downloaded (apt-get download)
#     and extracted into build-ARCH/sysroot, never installed: installing libmpich-dev:arm64
#     would replace this machine's gcc with arm64's.
# build-ARCH/pkgconfig holds copies of the -dev packages' .pc files pointing at that sysroot;
# cmake/toolchain-ARCH.cmake (via cmake/CrossToolchain.cmake) points the compiler, pkg-config,
# FindMPI and CTest's emulator at it.  See docs/cluster.md, "Cross builds and emulated nodes".
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)

arch=${1:-}
case "$arch" in
    arm64) triplet=aarch64-linux-gnu;   qemu=qemu-aarch64-static ;;
    armhf) triplet=arm-linux-gnueabihf; qemu=qemu-arm-static ;;
    *) echo "usage: $0 arm64|armhf [cmake options...]" >&2; exit 2 ;;
esac
shift
dir=$src/build-$arch
sysroot=$dir/sysroot

# Runtime libraries of the foreign architecture (installed, Multi-Arch: same) and the -dev
# packages whose headers and .so links go into the sysroot (downloaded only).  libicu-dev:
# Debian's libxml2 is built with ICU and its encoding.h includes <unicode/ucnv.h>.
RUNTIME="libc6 libmpich12 libcurl4 libxml2 libpcre2-8-0 libjansson4 libpq5 libssl3 zlib1g
libidn2-0 libyaml-0-2"
DEV="libmpich-dev libcurl4-openssl-dev libxml2-dev libicu-dev libpcre2-dev libjansson-dev
libpq-dev libidn2-dev libyaml-dev zlib1g-dev libssl-dev"
HOST="cmake make pkg-config git gcc-$triplet libc6-dev-$arch-cross qemu-user-static"

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# 1. Packages.
need_update=""
if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    echo "== adding the $arch architecture"
    $SUDO dpkg --add-architecture "$arch"
    need_update=1
fi
missing=""
for p in $HOST; do installed "$p" || missing="$missing $p"; done
for p in $RUNTIME; do installed "$p:$arch" || missing="$missing $p:$arch"; done
if [ -n "$missing" ]; then
    need_update=1
fi
if [ -n "$need_update" ]; then
    $SUDO apt-get update -qq
fi
if [ -n "$missing" ]; then
    echo "== installing:$missing"
    # Refuse anything that would remove a package (a foreign -dev or compiler replacing ours).
    if apt-get install -s --no-install-recommends $missing | grep -q '^Remv '; then
        apt-get install -s --no-install-recommends $missing | grep '^Remv ' >&2
        echo "cross-build.sh: installing$missing would remove the packages above; stopping" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# 2. The sysroot: the -dev packages of the installed runtime versions, extracted.  Redone when
# a runtime library's version changes (the stamp lists them).
stamp=$(for p in $RUNTIME; do dpkg-query -W -f='${Package}:${Architecture}=${Version}\n' "$p:$arch"; done)
if [ ! -f "$sysroot/.stamp" ] || [ "$(cat "$sysroot/.stamp")" != "$stamp" ]; then
    echo "== sysroot: extracting the $arch -dev packages into $sysroot"
    rm -rf "$sysroot" "$dir/debs"
    mkdir -p "$sysroot" "$dir/debs"
    # (as root, apt would try to download as _apt, which cannot write into this folder)
    dl_opts=""
    [ "$(id -u)" -eq 0 ] && dl_opts="-o APT::Sandbox::User=root"
    (cd "$dir/debs" && apt-get download -q=2 $dl_opts $(for p in $DEV; do printf '%s:%s ' "$p" "$arch"; done))
    for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
    # The -dev packages' libNAME.so links point at libNAME.so.N beside them, which multiarch
    # installed under /usr/lib/TRIPLET: point them there.
    for l in "$sysroot/usr/lib/$triplet"/*.so; do
        [ -L "$l" ] && [ ! -e "$l" ] || continue
        t=$(readlink "$l")
        ln -sfn "/usr/lib/$triplet/$(basename "$t")" "$l"
    done
    printf '%s\n' "$stamp" >"$sysroot/.stamp"
fi
for l in "$sysroot/usr/lib/$triplet"/libmpich.so "$sysroot/usr/lib/$triplet"/libcurl.so; do
    [ -e "$l" ] || { echo "cross-build.sh: $l is missing or dangling" >&2; exit 1; }
done

# 3. pkg-config: copies of the foreign .pc files with every /usr path moved into the sysroot.
rm -rf "$dir/pkgconfig"
mkdir -p "$dir/pkgconfig"
for pc in "$sysroot/usr/lib/$triplet/pkgconfig"/*.pc "$sysroot/usr/share/pkgconfig"/*.pc; do
    [ -f "$pc" ] || continue
    sed -e "s#\([=: ]\|-I\|-L\)/usr\(/\|\$\)#\1$sysroot/usr\2#g" \
        "$pc" >"$dir/pkgconfig/$(basename "$pc")"
done

# 4. Configure and build, with the same build id as a native build of this tree
# (cmake/Version.cmake: git describe of the sources, nothing about the architecture).
echo "== configure and build $dir"
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_TOOLCHAIN_FILE="$src/cmake/toolchain-$arch.cmake" -DSCRAPE_SYSROOT="$sysroot" \
    "$@" >/dev/null
jobs=$(nproc)
[ "$jobs" -gt 2 ] && jobs=2
cmake --build "$dir" -j"$jobs"

# 5. The wrapper: runs the binary under qemu with the foreign libraries (the foreign ld.so is
# at its usual path, /lib/ld-linux-*, installed by libc6:ARCH).  LD_LIBRARY_PATH is set for the
# emulated program only (-E), never for native children.
cat >"$dir/scrape-emu" <<EOF
#!/bin/sh
# Generated by scripts/cross-build.sh: runs the $arch scrape under $qemu.
exec $qemu -E LD_LIBRARY_PATH=/usr/lib/$triplet:/lib/$triplet "$dir/scrape" "\$@"
EOF
chmod +x "$dir/scrape-emu"
echo "built $dir/scrape ($("$dir/scrape-emu" version 2>&1 | head -1))"
