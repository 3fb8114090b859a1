#!/usr/bin/env bash
# extract.sh - extraction throughput of the crawl's extractor, in one command.
#
#   bench/extract.sh            # build, generate the site (once), measure, print a table
#
# Builds bench_extract in build-bench/, generates a 5,000-page shop with scripts/sitegen.py
# (--page-kb 37: pages average about 38 KiB once @ORIGIN@ is substituted) into bench/out/site,
# then runs bench_extract (single-threaded, pages held in memory, only extraction timed) for
# each mode below, TRIALS times each (round-robin), and prints a Markdown table of the best
# trial per mode, with the median beside it.  pages/s per core and MB/s are over process CPU
# time; the wall-clock times are in the raw output (bench/out/results.tsv).
#
# Environment: BUILD (build dir, default build-bench), PAGES (5000), PAGE_KB (37), SEED (1),
# TRIALS (7), REPEAT (passes over the site per trial, 1).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
PAGES=${PAGES:-5000}
PAGE_KB=${PAGE_KB:-37}
SEED=${SEED:-1}
TRIALS=${TRIALS:-7}
REPEAT=${REPEAT:-1}
OUT=$ROOT/bench/out
SITE=$OUT/site
RULES=$ROOT/bench/rules/shop.rules
BIN=$BUILD/bench/bench_extract

echo "== build ($BUILD)" >&2
cmake -S "$ROOT" -B "$BUILD" >/dev/null
cmake --build "$BUILD" -j2 --target bench_extract >/dev/null

stamp="pages=$PAGES page_kb=$PAGE_KB seed=$SEED"
mkdir -p "$OUT"
if [[ ! -d $SITE || ! -f $OUT/site.stamp || $(cat "$OUT/site.stamp") != "$stamp" ]]; then
    echo "== generate $PAGES pages, --page-kb $PAGE_KB, into $SITE" >&2
    rm -f "$OUT/site.stamp"
    python3 "$ROOT/scripts/sitegen.py" --out "$SITE" --pages "$PAGES" --seed "$SEED" \
        --page-kb "$PAGE_KB" --force
    echo "$stamp" >"$OUT/site.stamp"
else
    echo "== reuse $SITE ($stamp)" >&2
fi

# The modes, in table order; mode_args sets args to bench_extract's arguments for one.
LABELS=(
    "parse only (libxml2 ceiling)"
    "links,meta (default)"
    "links,meta,jsonld,text"
    "links,meta + rules"
    "links,meta,jsonld,text + rules"
)
mode_args() {
    case $1 in
    "parse only"*) args=(--parse-only) ;;
    "links,meta (default)") args=(--parsers links,meta) ;;
    "links,meta,jsonld,text") args=(--parsers links,meta,jsonld,text) ;;
    "links,meta + rules") args=(--parsers links,meta --rules "$RULES") ;;
    "links,meta,jsonld,text + rules") args=(--parsers links,meta,jsonld,text --rules "$RULES") ;;
    esac
}

RESULTS=$OUT/results.tsv
printf '%s\t' label mode rules pages runs MB cpu_s wall_s pages_per_s_core MB_per_s \
    cpu_us_per_page records_per_page links_per_page >"$RESULTS"
printf 'errors\n' >>"$RESULTS"
# Trials go round the modes, so a burst of load from other processes on the machine hits
# every mode alike rather than one.
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((t = 1; t <= TRIALS; t++)); do
    echo "== trial $t of $TRIALS" >&2
    for label in "${LABELS[@]}"; do
        mode_args "$label"
        line=$("$BIN" --tsv --repeat "$REPEAT" "${args[@]}" "$SITE")
        printf '%s\t%s\n' "$label" "$line" >>"$RESULTS"
        printf '   %-32s %8s pages/s/core (CPU), wall %s s\n' "$label" \
            "$(cut -f8 <<<"$line")" "$(cut -f7 <<<"$line")" >&2
    done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# Per mode: the best trial (least CPU per page: the cost of the work itself, least disturbed
# by other processes sharing the cores and caches) and the median trial's rate.
info=$(awk -F'\t' 'NR == 2 { printf "%d pages, %.1f MB, %.1f KB/page",
                                   $4, $6 * $4 / $5, $6 * 1000 / $5 }' "$RESULTS")
errors=$(awk -F'\t' 'NR > 1 { e += $14 } END { print e + 0 }' "$RESULTS")
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
xml=$(pkg-config --modversion libxml-2.0 2>/dev/null || echo "?")
echo
echo "Extraction throughput, one core: $info; best of $TRIALS trials x $REPEAT pass(es)."
echo "CPU: ${cpu:-unknown} ($(nproc) cores, load average $load0 before, $load1 after);" \
     "libxml2 $xml; rules: bench/rules/shop.rules; raw trials: bench/out/results.tsv."
if [[ $errors != 0 ]]; then
    echo "WARNING: $errors page runs reported a parser error or no document (see $RESULTS)."
fi
echo
echo "| mode | pages/s per core | MB/s | CPU µs/page | median pages/s | records/page | links/page |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for label in "${LABELS[@]}"; do
    awk -F'\t' -v l="$label" '$1 == l' "$RESULTS" | sort -t$'\t' -k9,9gr |
        awk -F'\t' -v n="$TRIALS" '
            NR == 1 { best = $0 }
            NR == int(n / 2) + 1 { median = $9 }
            END {
                split(best, f, "\t")
                rec = (f[2] == "parse-only") ? "-" : sprintf("%.2f", f[12])
                lnk = (f[2] == "parse-only") ? "-" : sprintf("%.1f", f[13])
                printf "| %s | %.0f | %.1f | %.0f | %.0f | %s | %s |\n",
                       f[1], f[9], f[10], f[11], median, rec, lnk
            }'
done
