#!/usr/bin/env bash
# run.sh - the coordinator's memory with a million-URL frontier, in one command.
#
#   bench/frontier/run.sh [frontier.py options...]     e.g. --hold 120, --hosts 20000
#
# Installs nginx and mpich (apt) when missing, builds scrape (scripts/build.sh build), then
# runs bench/frontier/frontier.py: a private nginx that answers every path with one page of
# 200 relative links (so every page fetched brings 200 new URLs) and a private PostgreSQL;
# a crawl from the home page under mpiexec -n 3 (--concurrency 32 --delay 0
# --host-concurrency 64) until the frontier holds 1,000,000 URLs and 30 s more, sampling the
# coordinator's and the workers' RSS against SELECT count(*) FROM urls every second; then the
# same command seeding 1,000,000 URLs from a file.  Prints Markdown tables (also in
# bench/out/frontier/table.md, every sample in bench/out/frontier/samples.json).
#
# Environment: BUILD (build).  Takes 2 to 6 minutes and about 2 GB of disk in /tmp for the
# database (a 1.1M-URL frontier is ~650 MiB; --hold 120 reaches ~4M URLs and ~2.2 GiB).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
PY=/usr/bin/python3

need=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need+=(nginx)
command -v mpiexec >/dev/null 2>&1 || need+=(mpich)
if ((${#need[@]})); then
    echo "== apt-get install ${need[*]}" >&2
    SUDO=; [[ $(id -u) -ne 0 ]] && SUDO=sudo
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >/dev/null
fi

echo "== build ($BUILD)" >&2
sh "$ROOT/scripts/build.sh" "$BUILD" >/dev/null

cd "$ROOT"
exec $PY "$ROOT/bench/frontier/frontier.py" --build "$BUILD" "$@"
