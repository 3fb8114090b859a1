#!/usr/bin/env python3
"""frontier.py - the coordinator's memory while the frontier grows to a million URLs.

    python3 bench/frontier/frontier.py [--target 1000000] [--hold 30] [--seeds 1000000]
                                       [--hosts 20000] [--build DIR] ...

(bench/frontier/run.sh installs, builds and calls this.)

Up to three measurements, each against a private PostgreSQL (tests/harness/scrapetest.py's
PgServer, a fresh database) and a private nginx (bench/frontier/nginx.conf.in) that answers
every path with one template page of --links (200) relative links, so every page fetched adds
~200 new URLs:

  growth   mpiexec -n NP scrape crawl from the home page, --concurrency 32 --delay 0
           --host-concurrency 64 --max-depth 5 (--max-pages only when given).  Every
           --interval seconds: SELECT count(*) FROM urls (the frontier, every state), the
           pages fetched, VmRSS / VmHWM of rank 0 (the coordinator) and of the workers, and
           rank 0's RSS by mapping, from /proc.  Once the frontier holds --target URLs the
           crawl goes on for --hold seconds (leasing from the full frontier), then SIGINT
           stops it cleanly (run 'interrupted', exit code 6).
  seeding  the same command with a seed file of --seeds URLs (one host, all new), sampled
           every 0.1 s until the coordinator logs "run N ... started", then SIGINT: the time to
           read, check and insert the seeds and the coordinator's peak RSS meanwhile.
  hosts    (--hosts N) --host-seeds URLs over N host names hNNNNN.localhost (libcurl resolves
           them to 127.0.0.1), crawled for --hosts-time seconds: the coordinator's RSS against
           the hosts it has met.

Prints Markdown tables (also in bench/out/frontier/table.md, every sample in samples.json):
frontier size against the coordinator's RSS at 10k, 100k, 250k, 500k, 750k, 1M (1.5M, 2M when
reached) URLs and at the end of the hold, split by mapping (heap, other anonymous, files); the
workers' RSS; pages/s; and the slope of the coordinator's RSS against the frontier size (bytes
per URL; flat = about a byte or less).  --coordinator-wrapper runs rank 0 under a tool
(heaptrack), --menu and --first-id vary the site and the first URL id for cross-checks.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
sys.path.insert(0, os.path.join(ROOT, "bench", "crawl"))
import scrapetest as st  # noqa: E402
from bench import Nginx, postmaster_pid, proc_status, proc_times, server_cpu  # noqa: E402

MILESTONES = (10000, 100000, 250000, 500000, 750000, 1000000, 1500000, 2000000)
WORDS = ("walnut oak brass ceramic linen bamboo steel copper glass wool cotton slate marble "
         "pine rattan lamp chair table mug kettle notebook planter shelf blanket bowl clock "
         "mirror vase stool tray bench lantern classic rustic modern compact deluxe vintage "
         "nordic essential premium folding heritage minimal sturdy elegant").split()


def log(msg):
    sys.stderr.write("frontier: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# The site


def slug(i):
    """A product-like path segment, fixed by i: 'item-042-brass-lamp'."""
    return "item-%03d-%s-%s" % (i, WORDS[(i * 7) % len(WORDS)], WORDS[(i * 13 + 5) % len(WORDS)])


def write_site(folder, links, menu_links=19):
    """robots.txt and the template page: a head, a menu of home and menu_links root links
    (the same URLs on every page), `links` relative links to new URLs, 4 query variants of the
    page itself, and some text, about 38 KB."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "robots.txt"), "w") as f:
        f.write("User-agent: *\nAllow: /\n")
    menu = "".join('<li><a href="/%s/">%s</a></li>\n' % (w, w.title())
                   for w in WORDS[:menu_links])
    menu = '<li><a href="/">Home</a></li>\n' + menu
    body = []
    for i in range(links):
        body.append('<div class="card"><a href="%s/"><h3>%s</h3></a><p>%s</p></div>\n'
                    % (slug(i), slug(i).replace("-", " ").title(),
                       " ".join(WORDS[(i + k) % len(WORDS)] for k in range(12))))
    pager = "".join('<a href="?page=%d">%d</a> ' % (k, k) for k in range(2, 6))
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<title>Frontier benchmark</title>\n"
            "<meta name=\"description\" content=\"A page whose links are all new.\">\n"
            "<meta property=\"og:title\" content=\"Frontier benchmark\">\n"
            "</head><body>\n<nav><ul>\n%s</ul></nav>\n<main>\n<h1>Listing</h1>\n%s"
            "<p class=\"pager\">%s<a href=\"#top\">top</a></p>\n</main>\n"
            "<footer><p>%s</p></footer>\n</body></html>\n"
            % (menu, "".join(body), pager, " ".join(WORDS * 4)))
    with open(os.path.join(folder, "page.html"), "w") as f:
        f.write(page)
    return len(page)


# ---------------------------------------------------------------------------
# Processes


def rss_kb(pid):
    return proc_status(pid, "VmRSS") or 0


def hwm_kb(pid):
    return proc_status(pid, "VmHWM") or 0


def cpu_s(pid):
    t = proc_times(pid)
    return t[0] if t else None


def find_ranks(popen, binary):
    """{rank: pid} of the scrape processes under popen (those running so far)."""
    os.environ["SCRAPE_BIN"] = binary
    return st.rank_pids(popen)


def run_status(pg, ci):
    """(status, exit code) of the job's last run, as the coordinator recorded them."""
    row = pg.query(ci, "SELECT status, exit_code FROM runs ORDER BY id DESC LIMIT 1")
    return (row[0][0], row[0][1]) if row else ("?", None)


def new_db(pg, name, binary):
    pg.drop_database(name)
    ci = pg.create_database(name)
    r = subprocess.run([binary, "init-db", "--db", ci], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("init-db failed: %s" % r.stderr)
    return ci


def crawl_cmd(a, binary, seeds, ci, job):
    """mpiexec -n NP scrape crawl ...; with --coordinator-wrapper W, rank 0 runs under W
    (MPMD: mpiexec -n 1 W scrape ... : -n NP-1 scrape ...)."""
    args = [binary, "crawl", "--seed", seeds, "--db", ci, "--job", job,
            "--concurrency", str(a.concurrency), "--delay", "0",
            "--host-concurrency", str(a.host_concurrency), "--max-depth", str(a.max_depth),
            "--max-pages", str(a.max_pages), "--parsers", a.parsers,
            "--progress-interval", "1h"]
    mpiexec = shutil.which("mpiexec") or "mpiexec"
    if a.coordinator_wrapper:
        return ([mpiexec, "-n", "1"] + a.coordinator_wrapper.split() + args +
                [":", "-n", str(a.np - 1)] + args)
    return [mpiexec, "-n", str(a.np)] + args


def smaps(pid):
    """Resident KiB of a process by kind of mapping: heap (the main arena, [heap]), anon
    (anonymous mappings: other threads' malloc arenas, large mallocs, MPI buffers), stack,
    file (binaries and libraries, shared memory)."""
    out = {"heap": 0, "anon": 0, "stack": 0, "file": 0}
    kind = None
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                first = line.split(None, 1)[0]
                if "-" in first and not first.endswith(":"):
                    parts = line.split()
                    name = parts[5] if len(parts) > 5 else ""
                    kind = ("heap" if name == "[heap]" else "stack" if name.startswith("[stack")
                            else "anon" if name == "" else "file" if name.startswith("/")
                            else None)
                elif first == "Rss:" and kind:
                    out[kind] += int(line.split()[1])
    except OSError:
        return None
    return out


def start(cmd, out_dir, name):
    out = open(os.path.join(out_dir, name + ".out"), "wb")
    err = open(os.path.join(out_dir, name + ".err"), "wb")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                         start_new_session=True, env=dict(os.environ, HYDRA_LAUNCHER="fork"))
    out.close()
    err.close()
    p.err_path = os.path.join(out_dir, name + ".err")
    return p


def stop(p, timeout=120):
    """SIGINT to mpiexec (it forwards it to the ranks): a clean stop, exit code 6."""
    if p.poll() is None:
        os.kill(p.pid, signal.SIGINT)
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        st.kill_group(p, signal.SIGKILL)
        p.wait()
        return None


def log_time(path, pattern):
    """Epoch seconds of the first log line matching pattern, or None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if re.search(pattern, line, re.I):
                    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z", line)
                    if m:
                        import calendar
                        t = time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S")
                        return calendar.timegm(t) + int(m.group(1)[20:]) / 1000.0
    except OSError:
        pass
    return None


# ---------------------------------------------------------------------------
# Growth


def counts(pg, ci):
    row = pg.query(ci, "SELECT (SELECT count(*) FROM urls), (SELECT count(*) FROM fetches)")[0]
    return int(row[0]), int(row[1])


def growth(a, pg, binary, origin, out_dir):
    ci = new_db(pg, "frontier", binary)
    if a.first_id > 1:
        pg.query(ci, "SELECT setval(pg_get_serial_sequence('urls', 'id'), %d, false)"
                 % a.first_id)
    seeds = os.path.join(out_dir, "seed-home.txt")
    st.write_seeds(seeds, [origin + "/"])
    pm = postmaster_pid(pg)
    p = start(crawl_cmd(a, binary, seeds, ci, "frontier"), out_dir, "growth")
    t0 = time.monotonic()
    samples, ranks, reached, pg0 = [], {}, None, server_cpu(pm)
    try:
        while p.poll() is None:
            if len(ranks) < a.np:
                ranks = find_ranks(p, binary)
            q0 = time.monotonic()
            n, pages = counts(pg, ci)
            q1 = time.monotonic()
            s = {"t": q1 - t0, "frontier": n, "pages": pages, "query_s": q1 - q0,
                 "pg_cpu_s": server_cpu(pm) - pg0}
            for rank, pid in sorted(ranks.items()):
                s["rss%d" % rank] = rss_kb(pid)
                s["hwm%d" % rank] = hwm_kb(pid)
                s["cpu%d" % rank] = cpu_s(pid)
            if 0 in ranks:
                s["smaps0"] = smaps(ranks[0])
            samples.append(s)
            if len(samples) % 10 == 1:
                log("%6.1f s: frontier %d, pages %d, coordinator RSS %.1f MiB"
                    % (s["t"], n, pages, s.get("rss0", 0) / 1024.0))
            if reached is None and n >= a.target:
                reached = s["t"]
                log("frontier reached %d URLs after %.1f s; crawling on for %d s"
                    % (n, reached, a.hold))
            if reached is not None and s["t"] - reached >= a.hold:
                break
            if s["t"] > a.timeout:
                log("timeout: stopping at a frontier of %d URLs" % n)
                break
            step = a.interval if n >= MILESTONES[0] else min(a.interval, 0.2)
            time.sleep(max(0.0, step - (time.monotonic() - q0)))
        rc = stop(p)
    finally:
        if p.poll() is None:
            st.kill_group(p, signal.SIGKILL)
            p.wait()
    status = run_status(pg, ci)
    summary = pg.scalar(ci, "SELECT summary FROM runs ORDER BY id DESC LIMIT 1")
    workers = pg.query(ci, "SELECT rank, max_rss_kb, cpu_ms, pages FROM run_workers "
                           "WHERE run_id = (SELECT max(id) FROM runs) ORDER BY rank")
    states = dict(pg.query(ci, "SELECT state::text, count(*) FROM urls GROUP BY 1"))
    db_bytes = int(pg.scalar(ci, "SELECT pg_database_size(current_database())"))
    pg.drop_database("frontier") if not a.keep_db else None
    return {"exit": rc, "status": status, "samples": samples, "reached_s": reached,
            "summary": json.loads(summary) if summary else None,
            "workers": [{"rank": int(r), "max_rss_kb": int(k or 0), "cpu_ms": int(c or 0),
                         "pages": int(pg_ or 0)} for r, k, c, pg_ in workers],
            "states": states, "db_bytes": db_bytes}


# ---------------------------------------------------------------------------
# Seeding


def seeding(a, pg, binary, origin, out_dir):
    path = os.path.join(out_dir, "seeds-%d.txt" % a.seeds)
    if not os.path.exists(path):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            for i in range(a.seeds):
                f.write("%s/seed/%07d/%s/\n" % (origin, i, slug(i % 1000)))
        os.rename(tmp, path)
    size = os.path.getsize(path)
    ci = new_db(pg, "seeding", binary)
    p = start(crawl_cmd(a, binary, path, ci, "seeding"), out_dir, "seeding")
    t_start = time.time()
    t0 = time.monotonic()
    samples, ranks = [], {}
    started = None
    try:
        while p.poll() is None:
            if len(ranks) < a.np:
                ranks = find_ranks(p, binary)
            s = {"t": time.monotonic() - t0}
            for rank, pid in sorted(ranks.items()):
                s["rss%d" % rank] = rss_kb(pid)
                s["hwm%d" % rank] = hwm_kb(pid)
            samples.append(s)
            if started is None and log_time(p.err_path, r"\] info run \d+ of job") is not None:
                started = s["t"]
            if started is not None and s["t"] - started >= 3:
                break
            if s["t"] > a.timeout:
                log("timeout while seeding")
                break
            time.sleep(0.1)
        rc = stop(p)
    finally:
        if p.poll() is None:
            st.kill_group(p, signal.SIGKILL)
            p.wait()
    t_seeds = log_time(p.err_path, r"\] info seeds: ")
    t_run = log_time(p.err_path, r"\] info run \d+ of job")
    n = int(pg.scalar(ci, "SELECT count(*) FROM urls WHERE depth = 0"))
    status = run_status(pg, ci)
    with open(p.err_path, encoding="utf-8", errors="replace") as f:
        errors = [line.rstrip() for line in f if "] error " in line]
    pg.drop_database("seeding") if not a.keep_db else None
    before = [s for s in samples if s["t"] <= (t_run - t_start if t_run else 1e9)]
    return {"exit": rc, "status": status, "seeds": a.seeds, "file_bytes": size, "inserted": n,
            "seeds_s": t_seeds - t_start if t_seeds else None,
            "run_started_s": t_run - t_start if t_run else None,
            "coord_peak_rss_kb": max((s.get("rss0", 0) for s in before), default=0),
            "coord_hwm_kb": max((s.get("hwm0", 0) for s in before), default=0),
            "worker_rss_kb": max((s.get("rss%d" % r, 0) for s in before
                                  for r in range(1, a.np)), default=0),
            "errors": errors[:5], "samples": samples}


# ---------------------------------------------------------------------------
# Many hosts


def many_hosts(a, pg, binary, out_dir):
    """Seeds spread over --hosts host names (hNNNNN.localhost, which libcurl resolves to
    127.0.0.1 itself, all served by the one nginx), crawled for --hosts-time seconds: the
    coordinator's RSS against the hosts it has met (rows of the robots.txt cache, one per host
    whose robots.txt came back)."""
    path = os.path.join(out_dir, "seeds-%d-hosts-%d.txt" % (a.host_seeds, a.hosts))
    if not os.path.exists(path):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            for i in range(a.host_seeds):
                f.write("http://h%05d.localhost:%d/seed/%07d/%s/\n"
                        % (i % a.hosts, a.port, i, slug(i % 1000)))
        os.rename(tmp, path)
    ci = new_db(pg, "hosts", binary)
    p = start(crawl_cmd(a, binary, path, ci, "hosts"), out_dir, "hosts")
    t0 = time.monotonic()
    samples, ranks = [], {}
    try:
        while p.poll() is None:
            if len(ranks) < a.np:
                ranks = find_ranks(p, binary)
            row = pg.query(ci, "SELECT (SELECT count(*) FROM hosts), (SELECT count(*) FROM "
                               "fetches), (SELECT count(*) FROM urls)")[0]
            s = {"t": time.monotonic() - t0, "hosts": int(row[0]), "pages": int(row[1]),
                 "frontier": int(row[2])}
            if 0 in ranks:
                s["rss0"] = rss_kb(ranks[0])
                s["hwm0"] = hwm_kb(ranks[0])
                s["smaps0"] = smaps(ranks[0])
            samples.append(s)
            if len(samples) % 10 == 1:
                log("%6.1f s: %d hosts, pages %d, coordinator RSS %.1f MiB"
                    % (s["t"], s["hosts"], s["pages"], s.get("rss0", 0) / 1024.0))
            if s["t"] > a.hosts_time or s["hosts"] >= a.hosts:
                break
            time.sleep(a.interval)
        rc = stop(p)
    finally:
        if p.poll() is None:
            st.kill_group(p, signal.SIGKILL)
            p.wait()
    status = run_status(pg, ci)
    pg.drop_database("hosts") if not a.keep_db else None
    return {"exit": rc, "status": status, "hosts": a.hosts, "seeds": a.host_seeds,
            "samples": samples}


# ---------------------------------------------------------------------------
# Report


def mib(kb):
    return "-" if kb is None else "%.1f" % (kb / 1024.0)


def slope(samples, lo, hi, key="rss0"):
    """Least-squares bytes of key per URL of frontier, over samples with lo <= frontier <= hi."""
    pts = [(s["frontier"], s[key] * 1024.0) for s in samples
           if key in s and lo <= s["frontier"] <= hi]
    if len(pts) < 3:
        return None
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in pts) / sxx


def report(a, g, sd, page_bytes, hs=None):
    out = [""]
    smp = g["samples"] if g else []
    if g:
        out.append("Growth: mpiexec -n %d scrape crawl from the home page, --concurrency %d "
                   "--delay 0 --host-concurrency %d --max-depth %d --max-pages %d --parsers %s; "
                   "a template page of %d relative links (%d bytes) for every path; samples "
                   "every %.1f s; stopped with SIGINT %d s after the frontier reached %d URLs "
                   "(run %s, exit code %s)." % (
                       a.np, a.concurrency, a.host_concurrency, a.max_depth, a.max_pages,
                       a.parsers, a.links, page_bytes, a.interval, a.hold, a.target,
                       g["status"][0], g["status"][1]))
        out.append("")
        out.append("| frontier (URLs) | elapsed s | pages fetched | pages/s since previous row | "
                   "coordinator RSS MiB | coordinator peak (VmHWM) MiB | of which heap / other "
                   "anon / files MiB | worker RSS MiB (max of ranks) | PostgreSQL CPU ms/page "
                   "so far |")
        out.append("|---:|---:|---:|---:|---:|---:|---|---:|---:|")
        rows = []
        first = next((s for s in smp if "rss0" in s and s["rss0"]), None)
        if first:
            rows.append(("start", first))
        for m in MILESTONES:
            s = next((s for s in smp if s["frontier"] >= m and "rss0" in s), None)
            if s:
                rows.append(("%d" % m, s))
        if smp and "rss0" in smp[-1]:
            rows.append(("end of hold", smp[-1]))
        prev = None
        for label, s in rows:
            wk = max((s.get("rss%d" % r, 0) for r in range(1, a.np)), default=0)
            rate = "-"
            if prev is not None and s["t"] > prev["t"]:
                rate = "%.0f" % ((s["pages"] - prev["pages"]) / (s["t"] - prev["t"]))
            sm = s.get("smaps0") or {}
            parts = " / ".join(mib(sm.get(k)) for k in ("heap", "anon", "file")) if sm else "-"
            out.append("| %s (%d) | %.1f | %d | %s | %s | %s | %s | %s | %s |" % (
                label, s["frontier"], s["t"], s["pages"], rate, mib(s.get("rss0")),
                mib(s.get("hwm0")), parts, mib(wk),
                "%.2f" % (1000.0 * s["pg_cpu_s"] / s["pages"]) if s["pages"] else "-"))
            prev = s
        out.append("")
        sl = slope(smp, 100000, 10 ** 9)
        sl_all = slope(smp, 0, 10 ** 9)
        summ = g["summary"] or {}
        last = smp[-1] if smp else {}
        coord_cpu = last.get("cpu0")
        out.append("Coordinator RSS against frontier size (least squares): %s bytes/URL from 100k "
                   "on, %s bytes/URL over the whole run.  Run summary: %s pages, %s pages/s, "
                   "coordinator %s ms CPU/page; %s new URLs; the database is %.0f MiB; URL "
                   "states %s." % (
                       "%.2f" % sl if sl is not None else "-",
                       "%.2f" % sl_all if sl_all is not None else "-",
                       summ.get("pages", "-"),
                       "%.0f" % summ["pages_per_s"] if "pages_per_s" in summ else "-",
                       "%.3f" % summ["coordinator_cpu_ms_per_page"]
                       if "coordinator_cpu_ms_per_page" in summ else
                       ("%.3f" % (1000.0 * coord_cpu / last["pages"])
                        if coord_cpu and last.get("pages") else "-"),
                       summ.get("new_urls", "-"), g["db_bytes"] / 1048576.0,
                       ", ".join("%s %s" % kv for kv in sorted(g["states"].items()))))
        qs = sorted(x["query_s"] for x in smp)
        if qs:
            out.append("The sampler's own SELECT count(*) FROM urls took %.3f s (median; %.3f s at "
                       "the end) of PostgreSQL time per sample, counted in the PostgreSQL column."
                       % (qs[len(qs) // 2], smp[-1]["query_s"]))
        if g["workers"]:
            out.append("Workers (run_workers): " + "; ".join(
                "rank %d: peak RSS %s MiB, %d pages, %.3f ms CPU/page" % (
                    w["rank"], mib(w["max_rss_kb"]), w["pages"],
                    w["cpu_ms"] / w["pages"] if w["pages"] else 0.0) for w in g["workers"]))
    if sd:
        out.append("")
        out.append("Seeding: %d URLs (one host, all new; %.1f MB file), same command; timed "
                   "from the start of mpiexec to the coordinator's log lines; stopped with SIGINT 3 s "
                   "after the run started (run %s, exit code %s)." % (
                       sd["seeds"], sd["file_bytes"] / 1e6, sd["status"][0], sd["status"][1]))
        out.append("")
        out.append("| seeds | inserted | read + check + insert s | URLs/s | until the run starts s "
                   "| coordinator peak RSS MiB (sampled) | coordinator VmHWM MiB | worker RSS MiB "
                   "while waiting |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
        secs = sd["seeds_s"]
        out.append("| %d | %d | %s | %s | %s | %s | %s | %s |" % (
            sd["seeds"], sd["inserted"], "%.1f" % secs if secs else "-",
            "%.0f" % (sd["inserted"] / secs) if secs else "-",
            "%.1f" % sd["run_started_s"] if sd["run_started_s"] else "-",
            mib(sd["coord_peak_rss_kb"]), mib(sd["coord_hwm_kb"]), mib(sd["worker_rss_kb"])))
        if sd["errors"]:
            out.append("")
            out.append("Errors logged: " + " / ".join(sd["errors"]))
    if hs:
        smp = [x for x in hs["samples"] if "rss0" in x]
        out.append("")
        out.append("Many hosts: %d seed URLs over %d host names (hNNNNN.localhost, all the same "
                   "nginx), same command, crawled for up to %d s; a host counts once its "
                   "robots.txt is cached (run %s, exit code %s)." % (
                       hs["seeds"], hs["hosts"], a.hosts_time, hs["status"][0], hs["status"][1]))
        out.append("")
        out.append("| hosts met | elapsed s | pages fetched | frontier (URLs) | coordinator RSS "
                   "MiB | of which heap / other anon / files MiB |")
        out.append("|---:|---:|---:|---:|---:|---|")
        rows = [smp[0]] if smp else []
        for m in (1000, 2000, 5000, 10000, 20000, 50000):
            x = next((x for x in smp if x["hosts"] >= m), None)
            if x and x is not rows[-1]:
                rows.append(x)
        if smp and smp[-1] is not rows[-1]:
            rows.append(smp[-1])
        for x in rows:
            sm = x.get("smaps0") or {}
            out.append("| %d | %.1f | %d | %d | %s | %s |" % (
                x["hosts"], x["t"], x["pages"], x["frontier"], mib(x["rss0"]),
                " / ".join(mib(sm.get(k)) for k in ("heap", "anon", "file")) if sm else "-"))
        base = next((x for x in smp if x["hosts"] >= 500), None)
        if base and smp[-1]["hosts"] > base["hosts"]:
            per = ((smp[-1]["rss0"] - base["rss0"]) * 1024.0 /
                   (smp[-1]["hosts"] - base["hosts"]))
            out.append("")
            out.append("Coordinator RSS per host met (from %d to %d hosts): %.0f bytes."
                       % (base["hosts"], smp[-1]["hosts"], per))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--build", default="build")
    ap.add_argument("--port", type=int, default=18181)
    ap.add_argument("--np", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--host-concurrency", type=int, default=64)
    ap.add_argument("--max-depth", type=int, default=5)
    ap.add_argument("--parsers", default="links,meta")
    ap.add_argument("--links", type=int, default=200, help="new links on every page")
    ap.add_argument("--menu", type=int, default=19, help="root links in every page's menu")
    ap.add_argument("--target", type=int, default=1000000, help="frontier size to reach")
    ap.add_argument("--max-pages", type=int, default=0,
                    help="--max-pages of the crawl (default 0: no cap; a cap costs a count of "
                         "the job's URLs per stored page, see docs/performance.md)")
    ap.add_argument("--hold", type=int, default=30,
                    help="seconds the crawl goes on once the frontier reached --target")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    ap.add_argument("--seeds", type=int, default=1000000, help="seed URLs (0: skip seeding)")
    ap.add_argument("--skip-growth", action="store_true")
    ap.add_argument("--first-id", type=int, default=1,
                    help="first urls.id of the growth crawl (e.g. 10000000: long ids at once)")
    ap.add_argument("--hosts", type=int, default=0,
                    help="also crawl seeds spread over this many host names (0: skip)")
    ap.add_argument("--host-seeds", type=int, default=200000, help="seed URLs for --hosts")
    ap.add_argument("--hosts-time", type=int, default=120, help="seconds of the --hosts crawl")
    ap.add_argument("--coordinator-wrapper", default="",
                    help="run rank 0 under this command, e.g. 'heaptrack -o FILE'")
    ap.add_argument("--timeout", type=int, default=3600)
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out", "frontier"))
    a = ap.parse_args()
    a.out = os.path.abspath(a.out)
    binary = os.path.abspath(os.path.join(ROOT, a.build, "scrape"))
    if not os.access(binary, os.X_OK):
        raise SystemExit("no scrape binary at %s (--build DIR)" % binary)
    os.makedirs(a.out, exist_ok=True)
    site = os.path.join(a.out, "site")
    page_bytes = write_site(site, a.links, a.menu)
    origin = "http://127.0.0.1:%d" % a.port
    nginx = Nginx(site, a.port, conf_in=os.path.join(HERE, "nginx.conf.in")).start()
    pg = None
    g = sd = hs = None
    try:
        pg = st.PgServer(settings={"max_connections": "50"}).start()
        log("PostgreSQL %s on port %d, nginx on %s, %s" % (pg.datadir, pg.port, origin, binary))
        if not a.skip_growth:
            g = growth(a, pg, binary, origin, a.out)
        if a.seeds > 0:
            sd = seeding(a, pg, binary, origin, a.out)
        if a.hosts > 0:
            hs = many_hosts(a, pg, binary, a.out)
    finally:
        nginx.stop()
        if pg:
            pg.stop()
    with open(os.path.join(a.out, "samples.json"), "w") as f:
        json.dump({"growth": g, "seeding": sd, "hosts": hs}, f, indent=1, default=str)
    text = report(a, g, sd, page_bytes, hs)
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    log("raw numbers: %s" % os.path.join(a.out, "samples.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
