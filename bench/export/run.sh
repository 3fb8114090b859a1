#!/usr/bin/env bash
# run.sh - the export benchmark: `scrape export` and `scrape report` on a 100,000-record job.
#
#   bench/export/run.sh [bench.py options...]      e.g. --runs 5 --pages 4000
#
# Builds scrape (scripts/build.sh $BUILD), then runs bench/export/bench.py: it writes a
# 2,000-page listing site (50 items a page) into bench/out/export-site unless it is there,
# crawls it for real into a private PostgreSQL with mpiexec -n 3 and bench/export/listing.rules,
# then times `scrape export` (jsonl, csv, csv of the rules records) and `scrape report` on
# that job.  Markdown table on stdout and in bench/out/export/table.md, raw numbers in
# bench/out/export/results.json.  Needs only what the tests need (scripts/install-deps.sh).
#
# Environment: BUILD (build).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}

echo "== build ($BUILD)" >&2
sh "$ROOT/scripts/build.sh" "$BUILD" >/dev/null

cd "$ROOT"
exec python3 "$ROOT/bench/export/bench.py" --build "$BUILD" "$@"
