#!/usr/bin/env bash
# run.sh - the crawl benchmark, scrape against Scrapy, in one command.
#
#   bench/crawl/run.sh [bench.py options...]      e.g. --runs 5
#
# Installs nginx and python3-scrapy (apt) when missing, builds scrape (scripts/build.sh build),
# generates the 5,000-page shop (--page-kb 37: about 38 KiB a page) into bench/out/site unless
# it is there already (bench/out/site.stamp, shared with bench/extract.sh), then runs
# bench/crawl/bench.py: a private nginx and PostgreSQL, RUNS alternating scrape and Scrapy
# crawls from the home page, and a Markdown table (also in bench/out/crawl/table.md, raw
# numbers in bench/out/crawl/results.json).
#
# Environment: PAGES (5000), PAGE_KB (37), SEED (1), BUILD (build).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PAGES=${PAGES:-5000}
PAGE_KB=${PAGE_KB:-37}
SEED=${SEED:-1}
BUILD=${BUILD:-build}
OUT=$ROOT/bench/out
SITE=$OUT/site
PY=/usr/bin/python3    # Debian's python3, where python3-scrapy lives

need=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need+=(nginx)
$PY -c 'import scrapy' >/dev/null 2>&1 || need+=(python3-scrapy)
command -v mpiexec >/dev/null 2>&1 || need+=(mpich)
if ((${#need[@]})); then
    echo "== apt-get install ${need[*]}" >&2
    SUDO=; [[ $(id -u) -ne 0 ]] && SUDO=sudo
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >/dev/null
fi

echo "== build ($BUILD)" >&2
sh "$ROOT/scripts/build.sh" "$BUILD" >/dev/null

stamp="pages=$PAGES page_kb=$PAGE_KB seed=$SEED"
mkdir -p "$OUT"
if [[ ! -d $SITE || ! -f $OUT/site.stamp || $(cat "$OUT/site.stamp") != "$stamp" ]]; then
    echo "== generate $PAGES pages, --page-kb $PAGE_KB, into $SITE" >&2
    rm -f "$OUT/site.stamp"
    $PY "$ROOT/scripts/sitegen.py" --out "$SITE" --pages "$PAGES" --seed "$SEED" \
        --page-kb "$PAGE_KB" --force
    echo "$stamp" >"$OUT/site.stamp"
else
    echo "== reuse $SITE ($stamp)" >&2
fi

cd "$ROOT"
exec $PY "$ROOT/bench/crawl/bench.py" --site "$SITE" --build "$BUILD" "$@"
