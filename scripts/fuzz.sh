#!/bin/sh
# fuzz.sh [SECONDS] - builds the libFuzzer drivers with clang (ASan + UBSan) and runs each for
# SECONDS (default 60) on a copy of its seed corpus.  Exits non-zero when a driver finds a
# crash, leaving the reproducer in build-fuzz/crashes/.  CI runs it for a short time.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
command -v clang >/dev/null || { echo "fuzz.sh: clang is not installed"; exit 1; }
CC=clang scripts/build.sh build-fuzz -DSCRAPE_FUZZ=ON -DSCRAPE_SANITIZE=address,undefined \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
mkdir -p build-fuzz/crashes
status=0
for spec in common/fuzz:fuzz_url:corpus_url common/fuzz:fuzz_wire:corpus_wire \
            common/fuzz:fuzz_warc:corpus_warc \
            coordinator/fuzz:fuzz_robots:corpus_robots parsers/fuzz:fuzz_extract:corpus_extract; do
    dir=${spec%%:*}; rest=${spec#*:}; drv=${rest%%:*}; corpus=${rest#*:}
    work=$(mktemp -d)
    cp "$dir/$corpus"/* "$work"/
    # the extraction driver also starts from the docs' worked example pages (kept there once)
    if [ "$drv" = fuzz_extract ]; then cp docs/examples/rules/*.html "$work"/; fi
    echo "== $drv for ${secs}s"
    if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        build-fuzz/"$drv" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=1024 \
        -artifact_prefix=build-fuzz/crashes/"$drv"- -print_final_stats=1 "$work" \
        > build-fuzz/"$drv".log 2>&1; then
        echo "$drv FAILED:"; tail -40 build-fuzz/"$drv".log; status=1
    else
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build-fuzz/"$drv".log | tr '\n' ' '
        echo
    fi
    rm -rf "$work"
done
exit $status
