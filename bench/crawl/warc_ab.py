#!/usr/bin/env python3
"""warc_ab.py - what --warc-dir costs: the same crawl with and without it, alternating.

    python3 bench/crawl/warc_ab.py [--build DIR] [--pages 1000] [--page-kb 37] [--runs 3]

A private PostgreSQL and tests/server/siteserver.py (tests/harness/scrapetest.py) serve a
generated shop (scripts/sitegen.py --pages N --page-kb K); each round crawls it twice from the
home page into a fresh database, once plain and once with --warc-dir (a fresh folder), under
mpiexec -n NP with --delay 0 and --concurrency C.  Measured per run: wall time, pages, CPU
seconds of the scrape process tree (os.wait4 rusage of mpiexec: every rank), the
coordinator's CPU per page (runs.summary), and with --warc-dir the bytes of the WARC files
against the bodies stored (sum of fetches.bytes).  Prints a Markdown table and the medians.
The site server's own CPU is not counted (another process tree).
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
import scrapetest as st  # noqa: E402


def run(a, pg, site, i, warc, work):
    ci = pg.create_database("ab%d_%s" % (i, "warc" if warc else "plain"))
    seeds = st.write_seeds(os.path.join(work, "seeds.txt"), [site.url("/")])
    wdir = os.path.join(a.warc_root or work, "warc-ab%d" % i)
    args = [os.path.join(a.build, "scrape"), "crawl", "--seed", seeds, "--db", ci, "--job",
            "ab", "--delay", "0", "--concurrency", str(a.concurrency), "--host-concurrency",
            "64", "--max-depth", "100", "--quiet"]
    if warc:
        args += ["--warc-dir", wdir]
    cmd = [shutil.which("mpiexec") or "mpiexec", "-n", str(a.np)] + args
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=dict(os.environ, HYDRA_LAUNCHER="fork"))
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) not in (0, 5):
        raise SystemExit("scrape exited %s:\n%s" % (status, err[-3000:]))
    summary = json.loads(pg.scalar(ci, "SELECT summary FROM runs ORDER BY id DESC LIMIT 1"))
    pages = int(summary["pages"])
    body = int(pg.scalar(ci, "SELECT coalesce(sum(bytes), 0) FROM fetches"))
    wbytes = sum(os.path.getsize(f) for f in glob.glob(os.path.join(wdir, "*")))
    if warc:
        shutil.rmtree(wdir)
    return {"warc": warc, "wall_s": wall, "pages": pages,
            "tree_cpu_s": ru.ru_utime + ru.ru_stime,
            "coord_cpu_ms_pp": float(summary.get("coordinator_cpu_ms_per_page", 0)),
            "body_bytes": body, "warc_bytes": wbytes}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--page-kb", type=int, default=37)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--np", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--warc-root", default=None,
                    help="folder for the --warc-dir folders (default: a temporary one; "
                    "/dev/shm shows the cost without the disk's fdatasync)")
    a = ap.parse_args()
    os.environ["SCRAPE_BIN"] = os.path.join(a.build, "scrape")
    work = tempfile.mkdtemp(prefix="warc-ab-")
    site_dir = st.generate_site(os.path.join(work, "site"), a.pages,
                                extra_args=["--page-kb", str(a.page_kb)])
    results = []
    with st.PgServer() as pg, st.SiteServer(site_dir) as site:
        for i in range(a.runs):
            for warc in (False, True):
                r = run(a, pg, site, i, warc, work)
                results.append(r)
                print(json.dumps(r), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print("\n| --warc-dir | wall s | pages | tree CPU ms/page | coordinator CPU ms/page "
          "| WARC bytes/page | WARC / body bytes |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print("| %s | %.2f | %d | %.3f | %.3f | %s | %s |" % (
            "yes" if r["warc"] else "no", r["wall_s"], r["pages"],
            1000 * r["tree_cpu_s"] / r["pages"], r["coord_cpu_ms_pp"],
            "%.0f" % (r["warc_bytes"] / r["pages"]) if r["warc"] else "-",
            "%.3f" % (r["warc_bytes"] / r["body_bytes"]) if r["warc"] else "-"))
    for warc in (False, True):
        rs = [r for r in results if r["warc"] == warc]
        print("median %s: tree CPU %.3f ms/page, coordinator %.3f ms/page, wall %.2f s%s" % (
            "with" if warc else "without",
            statistics.median(1000 * r["tree_cpu_s"] / r["pages"] for r in rs),
            statistics.median(r["coord_cpu_ms_pp"] for r in rs),
            statistics.median(r["wall_s"] for r in rs),
            ", %.0f WARC bytes/page (%.3f of the body bytes)" % (
                statistics.median(r["warc_bytes"] / r["pages"] for r in rs),
                statistics.median(r["warc_bytes"] / r["body_bytes"] for r in rs))
            if warc else ""))


if __name__ == "__main__":
    main()
