#!/bin/sh
# demo.sh - the README's first command: installs the dependencies, builds scrape, starts a
# private PostgreSQL and the bundled sample shop site on 127.0.0.1, crawls it with
# `mpiexec -n 3`, prints the summary and an example SQL query over the results.
# Nothing on the machine is configured; everything lives in a temporary folder.
# Options are passed to scripts/demo.py (--keep leaves the database running).
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
exec python3 scripts/demo.py "$@"
