#!/usr/bin/env bash
# run.sh - the crawl benchmark, scrape against wget -r, Scrapy and Crawlee, in one command.
#
#   bench/crawl/run.sh [bench.py options...]      e.g. --runs 5, --only scrape,wget
#
# Installs nginx, wget, python3-scrapy, nodejs and npm (apt) when missing, Crawlee from the npm
# registry into bench/crawl/crawlee/node_modules (npm ci: the versions of its
# package-lock.json) when missing or older than the lock file, builds scrape
# (scripts/build.sh build),
# generates the 5,000-page shop (--page-kb 37: about 38 KiB a page) into bench/out/site unless
# it is there already (bench/out/site.stamp, shared with bench/extract.sh), then runs
# bench/crawl/bench.py: a private nginx and PostgreSQL, RUNS alternating scrape, wget -r, Scrapy
# and Crawlee crawls from the home page, and a Markdown table (also in bench/out/crawl/table.md, raw
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
CRAWLEE=$ROOT/bench/crawl/crawlee

# Which tools run (bench.py --only LIST; default all): install only what they need.
only=scrape,wget,scrapy,crawlee
prev=
for arg in "$@"; do
    case $arg in --only=*) only=${arg#--only=} ;; esac
    [[ $prev == --only ]] && only=$arg
    prev=$arg
done
wants() { [[ ,$only, == *,$1,* ]]; }

need=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need+=(nginx)
wants wget && { command -v wget >/dev/null 2>&1 || need+=(wget); }
wants scrapy && { $PY -c 'import scrapy' >/dev/null 2>&1 || need+=(python3-scrapy); }
wants scrape && { command -v mpiexec >/dev/null 2>&1 || need+=(mpich); }
wants crawlee && { command -v node >/dev/null 2>&1 || need+=(nodejs); }
wants crawlee && { command -v npm >/dev/null 2>&1 || need+=(npm); }
if ((${#need[@]})); then
    echo "== apt-get install ${need[*]}" >&2
    SUDO=; [[ $(id -u) -ne 0 ]] && SUDO=sudo
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >/dev/null
fi

# npm writes node_modules/.package-lock.json on every install: older than the lock file (or
# missing) means the packages are not the locked ones.
if wants crawlee && [[ ! -f $CRAWLEE/node_modules/.package-lock.json ||
                       $CRAWLEE/package-lock.json -nt $CRAWLEE/node_modules/.package-lock.json ]]; then
    echo "== npm ci --prefix bench/crawl/crawlee" >&2
    npm ci --prefix "$CRAWLEE" --no-audit --no-fund >/dev/null
fi

if wants scrape; then
    echo "== build ($BUILD)" >&2
    sh "$ROOT/scripts/build.sh" "$BUILD" >/dev/null
fi

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
