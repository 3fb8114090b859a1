#!/bin/sh
# test.sh - installs the dependencies, builds scrape twice (warnings as errors; and with
# AddressSanitizer + UndefinedBehaviorSanitizer) and runs every test in both builds; then
# cross-builds for arm64 and armhf and runs their unit tests, an mpiexec check, two crawls, an
# armhf island beside an x86-64 one and an arm64 worker on a simulated host, under qemu.
# This is the command CI runs (.ci/run).  Tests start their own PostgreSQL servers, HTTP
# servers and mpiexec runs; nothing on the machine is configured.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc)
[ "$jobs" -gt 2 ] && jobs=2

echo "== build (warnings as errors)"
scripts/build.sh build -DSCRAPE_WERROR=ON
echo "== tests"
(cd build && ctest -j"$jobs" --output-on-failure --timeout 900)
# what the tests leave to look at: the report as headless Chromium drew it (test_report)
if [ -f build/tests/out/report.png ]; then
    echo "report screenshot: $(pwd)/build/tests/out/report.png"
fi

echo "== build (ASan + UBSan)"
scripts/build.sh build-asan -DSCRAPE_WERROR=ON -DSCRAPE_SANITIZE=address,undefined \
    -DCMAKE_BUILD_TYPE=Debug
echo "== tests under ASan + UBSan"
# MPICH and UCX keep allocations until exit on purpose: leaks are checked in the unit tests
# (which do not start MPI), not in the runs of the MPI binary.
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export SCRAPE_ASAN_BUILD=1
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest -j"$jobs" -L unit --output-on-failure --timeout 900)
(cd build-asan && ASAN_OPTIONS=detect_leaks=0 ctest -j"$jobs" -L integration --output-on-failure --timeout 1200)

echo "== fuzzing (libFuzzer + ASan + UBSan, a short bounded run per driver)"
scripts/fuzz.sh "${SCRAPE_FUZZ_SECONDS:-20}"

echo "== cross builds for the Raspberry Pis (arm64, armhf), unit tests under qemu-user"
# scripts/cross-build.sh installs the cross compilers, the foreign runtime libraries
# (multiarch) and qemu-user-static, and extracts the foreign -dev packages into build-ARCH/.
for arch in arm64 armhf; do
    scripts/cross-build.sh "$arch" -DSCRAPE_WERROR=ON
    # the build id does not depend on the architecture: the same line as the native build's
    want=$(build/scrape version | head -1)
    got=$("build-$arch/scrape-emu" version | head -1)
    [ "$got" = "$want" ] || { echo "build-$arch/scrape: '$got'; build/scrape: '$want'" >&2; exit 1; }
    (cd "build-$arch" && ctest -j"$jobs" -L unit --output-on-failure --timeout 900)
done

echo "== emulated nodes under mpiexec: one arm64 rank among x86-64 ranks; an armhf job"
# The same build id everywhere, or the check marks the rank BUILD DIFFERS (exit 7).  armhf's
# MPICH (ch3:nemesis) cannot join an x86-64/arm64 job (ch4:ucx): it is checked on its own.
# No database here (SCRAPE_DB unset): the check covers the ranks and the links.
emu_check() { # emu_check RANK-AND-ARCH-PATTERN mpiexec-arguments...
    pattern=$1
    shift
    rc=0
    out=$(env -u SCRAPE_DB timeout 300 mpiexec "$@" 2>&1) || rc=$?
    printf '%s\n' "$out"
    if [ "$rc" -ne 0 ] || ! printf '%s\n' "$out" | grep -q "$pattern"; then
        echo "emulated check failed (exit $rc, or no row matching '$pattern')" >&2
        exit 1
    fi
}
emu_check '^2 .* aarch64 ' -n 2 build/scrape check : -n 1 build-arm64/scrape-emu check
emu_check '^1 .* armv7l ' -n 2 build-armhf/scrape-emu check

echo "== crawls with emulated nodes: an arm64 worker in an x86-64 job; an armhf job"
root=$(pwd)
(cd tests/integration && SCRAPE_BIN="$root/build/scrape" SCRAPE_SOURCE="$root" \
    PYTHONPATH="$root/tests/harness" SCRAPE_EMU_ARM64="$root/build-arm64/scrape-emu" \
    SCRAPE_EMU_ARMHF="$root/build-armhf/scrape-emu" timeout 900 python3 -m unittest -v test_emulated)

echo "== islands and hosts with emulated nodes: an armhf island beside an x86-64 one; an arm64 worker on a simulated host"
# test_islands' armhf variant: two mpiexec jobs on one crawl at once (x86-64, and armhf under
# qemu: their MPICH devices differ), the request logs proving the per-host spacing across both.
# test_cluster_mixed: h1 and h2 x86-64, h3 the arm64 build, one MPMD job across network
# namespaces; it needs root and exits 77 (skipped) without it.
emu_test() { # emu_test [VAR=VALUE...] COMMAND...: in tests/integration; exit 77 = skipped
    rc=0
    (cd tests/integration && env SCRAPE_BIN="$root/build/scrape" SCRAPE_SOURCE="$root" \
        PYTHONPATH="$root/tests/harness" "$@") || rc=$?
    case $rc in
        0) ;;
        77) echo "(skipped: every test of it was skipped)" ;;
        *) echo "failed (exit $rc): $*" >&2; exit 1 ;;
    esac
}
emu_test SCRAPE_ARMHF_EMU="$root/build-armhf/scrape-emu" timeout 900 \
    python3 -m unittest -v test_islands.IslandsTest.test_armhf_island
emu_test SCRAPE_EMU_ARM64="$root/build-arm64/scrape-emu" timeout 600 \
    python3 -m unittest -v test_cluster_mixed

echo "== Debian packages for arm64 and armhf: built from the cross builds, unpacked and run under qemu"
# scripts/package.sh ARCH build-ARCH: CPack's scrape_VERSION_ARCH.deb (Depends by
# dpkg-shlibdeps; lintian errors fail it).  test_package unpacks each (dpkg-deb -x), checks
# its control fields and manual page, runs --version under qemu-user and test_emulated's crawl
# with the unpacked binary.  (The amd64 package is tested by ctest above: test_package.)
pkg_arm64=$(scripts/package.sh arm64 build-arm64)
pkg_armhf=$(scripts/package.sh armhf build-armhf)
emu_test SCRAPE_PKG_ARM64="$root/$pkg_arm64" SCRAPE_PKG_ARMHF="$root/$pkg_armhf" timeout 1800 \
    python3 -m unittest -v test_package.Arm64PackageTest test_package.ArmhfPackageTest
