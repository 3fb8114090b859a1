#!/usr/bin/env python3
"""bench.py - how fast `scrape export` and `scrape report` read a job of 100,000 records.

    python3 bench/export/bench.py [--pages 2000] [--items 50] [--runs 3] [--build build]

(bench/export/run.sh builds and calls this.)

1. Writes a listing site into bench/out/export-site unless it is there already: PAGES pages,
   each with ITEMS <li class="item"> (name, price, SKU, stock, a URL in an attribute that is
   not a link, a sentence) and links to ten pages further down (page i links to 10i+1 ...
   10i+10), so every page is reached at depth 4 or less.
2. Starts a private PostgreSQL (tests/harness/scrapetest.py's PgServer, tuned as the tests
   run it) and the test site server (tests/server/siteserver.py), and crawls the site for
   real: mpiexec -n NP scrape --parsers links --rules bench/export/listing.rules, whose `each`
   record gives one record per item: PAGES x ITEMS rules records, plus a links record a page;
   then VACUUM ANALYZE, as autovacuum does soon after a crawl (--no-analyze: not).
3. Times, RUNS times each, best run reported (the machine is shared):
     scrape export --job export --format jsonl -o FILE
     scrape export --job export --format csv -o FILE
     scrape export --job export --format csv --parser rules -o FILE
     scrape report --job export -o FILE
   per run: wall seconds, rows/s, the client's CPU seconds (os.wait4 rusage) and peak RSS
   (/usr/bin/time -f %M), PostgreSQL's CPU seconds (/proc delta of the postmaster's tree) and
   the output's size.

Prints a Markdown table; raw numbers go to bench/out/export/results.json, the table to
bench/out/export/table.md.  The database is dropped at the end (--keep to keep the server
running until Enter is pressed).
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
import scrapetest as st  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")
WORDS = ("oak walnut slate brass linen wool glass copper marble rattan cedar bamboo cotton "
         "steel velvet ceramic jute leather clay stone").split()
KINDS = ("lamp chair table desk stool vase mirror rug shelf bench cushion blanket basket "
         "planter clock").split()


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# The site


def page_html(i, pages, items, rnd):
    kids = [k for k in range(10 * i + 1, 10 * i + 11) if k < pages]
    out = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
           "<title>Listing %d</title></head><body>\n<h1>Listing %d</h1>\n<ul class=\"items\">\n"
           % (i, i)]
    for n in range(items):
        sku = i * items + n
        name = "%s %s %s" % (rnd.choice(WORDS).title(), rnd.choice(WORDS), rnd.choice(KINDS))
        out.append(
            "<li class=\"item\"><h3>%s</h3><span class=\"price\">&pound;%d.%02d</span>"
            "<span class=\"sku\">SKU-%07d</span><span class=\"stock\">%d in stock</span>"
            "<span class=\"link\" data-href=\"/item/%d.html\">details</span>"
            "<p class=\"note\">A %s %s, made to last, "
            "delivered in %d days.</p></li>\n"
            % (name, rnd.randint(1, 1999), rnd.randint(0, 99), sku, rnd.randint(0, 250), sku,
               rnd.choice(WORDS), rnd.choice(KINDS), rnd.randint(1, 14)))
    out.append("</ul>\n<nav>")
    out += ["<a href=\"/l/%d.html\">page %d</a> " % (k, k) for k in kids]
    out.append("</nav></body></html>\n")
    return "".join(out)


def make_site(path, pages, items):
    """Writes the site unless its stamp says it is there; returns path."""
    stamp = "pages=%d items=%d v3" % (pages, items)
    stamp_path = os.path.join(path, ".stamp")
    try:
        with open(stamp_path) as f:
            if f.read().strip() == stamp:
                log("reuse %s (%s)" % (path, stamp))
                return path
    except OSError:
        pass
    log("writing %d pages of %d items into %s" % (pages, items, path))
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(os.path.join(path, "l"))
    rnd = random.Random(1)
    with open(os.path.join(path, "index.html"), "w") as f:
        f.write(page_html(0, pages, items, rnd))
    for i in range(1, pages):
        with open(os.path.join(path, "l", "%d.html" % i), "w") as f:
            f.write(page_html(i, pages, items, rnd))
    with open(os.path.join(path, "robots.txt"), "w") as f:
        f.write("User-agent: *\nAllow: /\n")
    with open(stamp_path, "w") as f:
        f.write(stamp + "\n")
    return path


# ---------------------------------------------------------------------------
# Measuring


def proc_cpu(pid, children=True):
    """CPU seconds of pid (and its reaped children), or 0 when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return 0.0
    v = [int(x) for x in s[s.rindex(")") + 2:].split()[11:15]]
    return (v[0] + v[1] + (v[2] + v[3] if children else 0)) / CLK


def server_cpu(pg):
    """CPU seconds PostgreSQL has used: the postmaster, its reaped and its live children."""
    with open(os.path.join(pg.datadir, "postmaster.pid")) as f:
        pm = int(f.readline())
    total = proc_cpu(pm)
    try:
        for tid in os.listdir("/proc/%d/task" % pm):
            with open("/proc/%d/task/%s/children" % (pm, tid)) as f:
                total += sum(proc_cpu(int(c), children=False) for c in f.read().split())
    except OSError:
        pass
    return total


def measured(cmd, pg, out_path, workdir):
    """Runs cmd; returns wall s, client CPU s, peak RSS KiB, server CPU s, output bytes.

    The peak RSS comes from /usr/bin/time (GNU time, when installed): the rusage Python gets
    for its own child counts the pages the child shared with Python before exec."""
    if os.path.exists(out_path):
        os.unlink(out_path)
    rss_path = os.path.join(workdir, "rss.txt")
    timed = os.access("/usr/bin/time", os.X_OK)
    if timed:
        cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_path] + cmd
    pg0 = server_cpu(pg)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.close()
    if p.returncode != 0:
        raise SystemExit("%s exited %d:\n%s" % (cmd, p.returncode, err.decode()[-2000:]))
    rss = ru.ru_maxrss
    if timed:
        with open(rss_path) as f:
            rss = int(f.read().split()[-1])
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "max_rss_kb": rss,
            "rss_from": "GNU time" if timed else "wait4 (an upper bound)",
            "pg_cpu_s": server_cpu(pg) - pg0, "bytes": os.path.getsize(out_path)}


def crawl(a, pg, db, site_dir, workdir):
    with st.SiteServer(site_dir) as site:
        seeds = st.write_seeds(os.path.join(workdir, "seeds.txt"), [site.url("/")])
        args = ["crawl", "--seed", seeds, "--db", db, "--job", "export", "--delay", "0",
                "--host-concurrency", "64", "--max-depth", "100", "--parsers", "links",
                "--rules", a.rules, "--quiet"]
        t0 = time.monotonic()
        cmd = [shutil.which("mpiexec") or "mpiexec", "-n", str(a.np), a.bin] + args
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600,
                           env=dict(os.environ, HYDRA_LAUNCHER="fork"))
        if r.returncode != 0:
            raise SystemExit("crawl exited %d:\n%s" % (r.returncode, r.stderr[-3000:]))
        return time.monotonic() - t0


# ---------------------------------------------------------------------------
# Main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--np", type=int, default=3)
    ap.add_argument("--build", default="build")
    ap.add_argument("--rules", default=os.path.join(HERE, "listing.rules"))
    ap.add_argument("--site", default=os.path.join(ROOT, "bench", "out", "export-site"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out", "export"))
    ap.add_argument("--keep", action="store_true", help="wait for Enter before stopping")
    ap.add_argument("--no-analyze", action="store_true",
                    help="export straight after the crawl, before any ANALYZE")
    a = ap.parse_args()
    a.bin = os.path.join(ROOT, a.build, "scrape")
    os.environ["SCRAPE_BIN"] = a.bin
    os.makedirs(a.out, exist_ok=True)
    make_site(a.site, a.pages, a.items)

    pg = st.PgServer().start()
    try:
        db = pg.create_database("export")
        crawl_s = crawl(a, pg, db, a.site, a.out)
        if not a.no_analyze:
            pg.query(db, "VACUUM ANALYZE")  # what autovacuum does within a minute of a crawl
        counts = dict(pg.query(db, "SELECT parser, count(*) FROM records GROUP BY 1"))
        total = sum(int(v) for v in counts.values())
        rules = int(counts.get("rules", 0))
        fetches = int(pg.scalar(db, "SELECT count(*) FROM fetches"))
        db_bytes = int(pg.scalar(db, "SELECT pg_database_size(current_database())"))
        log("crawled %d pages in %.1f s: %d records (%s)" % (fetches, crawl_s, total, counts))
        if total < 100000:
            log("WARNING: fewer than 100,000 records")
        cases = [("export jsonl", ["export", "--format", "jsonl"], "export.jsonl", total),
                 ("export csv", ["export", "--format", "csv"], "export.csv", total),
                 ("export csv --parser rules", ["export", "--format", "csv", "--parser",
                                                "rules"], "rules.csv", rules),
                 ("report", ["report"], "report.html", None)]
        results = []
        for name, args, fname, rows in cases:
            path = os.path.join(a.out, fname)
            cmd = [a.bin] + args + ["--db", db, "--job", "export", "-o", path]
            runs = [measured(cmd, pg, path, a.out) for _ in range(a.runs)]
            best = dict(min(runs, key=lambda r: r["wall_s"]))
            best.update({"case": name, "rows": rows, "runs": runs,
                         "command": "scrape " + " ".join(args) + " --job export -o " + fname})
            results.append(best)
            log("%s: %.2f s%s, client CPU %.2f s, PostgreSQL CPU %.2f s, RSS %.1f MiB, %d bytes"
                % (name, best["wall_s"], ", %.0f rows/s" % (rows / best["wall_s"]) if rows
                   else "", best["cpu_s"], best["pg_cpu_s"], best["max_rss_kb"] / 1024,
                   best["bytes"]))
            if fname != "report.html":
                os.unlink(path)
        if a.keep:
            input("PostgreSQL: %s -- Enter to stop " % db)
    finally:
        pg.stop()

    lines = ["",
             "Job: %d pages crawled by mpiexec -n %d in %.1f s; %d records (%d rules, %d links); "
             "database %.0f MB%s.  Best of %d runs, output to a file on local disk."
             % (fetches, a.np, crawl_s, total, rules, total - rules, db_bytes / 1e6,
                ", not analyzed" if a.no_analyze else ", analyzed", a.runs),
             "",
             "| command | rows | wall s | rows/s | scrape CPU s | PostgreSQL CPU s | "
             "scrape peak RSS MiB | output |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        size = ("%.1f MB" % (r["bytes"] / 1e6) if r["bytes"] >= 1e6
                else "%.0f kB" % (r["bytes"] / 1e3))
        lines.append("| `%s` | %s | %.2f | %s | %.2f | %.2f | %.1f | %s |" % (
            r["command"], r["rows"] if r["rows"] is not None else "-", r["wall_s"],
            "%.0f" % (r["rows"] / r["wall_s"]) if r["rows"] else "-", r["cpu_s"],
            r["pg_cpu_s"], r["max_rss_kb"] / 1024, size))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"pages": fetches, "records": total, "rules_records": rules,
                   "crawl_s": crawl_s, "db_bytes": db_bytes, "results": results}, f, indent=1)
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())
