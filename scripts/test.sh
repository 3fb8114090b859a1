#!/bin/sh
# test.sh - installs the dependencies, builds scrape twice (warnings as errors; and with
# AddressSanitizer + UndefinedBehaviorSanitizer) and runs every test in both builds.
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
