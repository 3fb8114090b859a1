#!/usr/bin/env python3
"""bench.py - scrape against wget -r, Scrapy and Crawlee on one synthetic shop, served by a private nginx.

    python3 bench/crawl/bench.py [--runs 3] [--only scrape,wget,scrapy,crawlee] [--np 3] ...

(bench/crawl/run.sh installs, builds, generates the site and calls this.)

For each of --runs rounds, one run of each tool (--only: a comma list, default all four), in
the order scrape, wget, Scrapy, Crawlee, on the same nginx:

  scrape   mpiexec -n NP build/scrape crawl --seed <home> --db <fresh database>
           --concurrency C --delay 0 --host-concurrency (NP-1)*C --max-depth 100
           --parsers links,meta --rules bench/crawl/shop.rules --quiet
           Results (fetches, links, meta and product records) go into a private PostgreSQL
           (tests/harness/scrapetest.py's PgServer), a fresh database per run.
  wget     wget -r -l inf -np -nv -P <dir> <home>: one connection, saves every page (robots.txt
           obeyed), extracts nothing; pages = the files it saved.
  Scrapy   scrapy runspider bench/crawl/shop_spider.py, 64 in flight, items to JSON lines.
  Crawlee  node bench/crawl/crawlee/shop_crawler.mjs (CheerioCrawler), 64 in flight, items to
           JSON lines, Crawlee's storage in memory (bench/crawl/crawlee/package.json; run.sh
           runs npm ci there when node_modules is missing or older than the lock file).

Measured per run: wall time; pages; CPU seconds of the crawler's whole process tree
(os.wait4 rusage of mpiexec / scrapy / node: every descendant that was reaped, so the ps and
cat that Crawlee's memory snapshots spawn count too); peak RSS (the tree's ru_maxrss, which
for Scrapy and Crawlee is the crawler process itself); per rank, the
workers' own cpu_ms and max_rss_kb (run_workers) and the coordinator's
coordinator_cpu_ms_per_page (runs.summary) with its VmHWM sampled from /proc; PostgreSQL's
and nginx's CPU as the /proc delta of their server processes (postmaster's own and its
reaped children's times plus the live children's).  The product records of each tool are
compared with the first tool's (scrape's when it ran) as a set of (url path, name, price,
sku).  Prints a Markdown table and the targets.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
import scrapetest as st  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")
SCRAPY_PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
CRAWLEE_DIR = os.path.join(HERE, "crawlee")
TOOLS = ("scrape", "wget", "scrapy", "crawlee")
NAMES = {"scrape": "scrape", "wget": "wget -r", "scrapy": "Scrapy", "crawlee": "Crawlee"}


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# /proc


def proc_times(pid):
    """(utime+stime, cutime+cstime) of pid in seconds, or None when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    # fields[0] is state (field 3); utime is field 14 -> index 11
    ut, stt, cut, cst = (int(x) for x in fields[11:15])
    return (ut + stt) / CLK, (cut + cst) / CLK


def proc_children(pid):
    out = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def proc_status(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def proc_environ(pid, key):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            for item in f.read().split(b"\0"):
                if item.startswith(key.encode() + b"="):
                    return item.split(b"=", 1)[1].decode()
    except OSError:
        pass
    return None


def proc_comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


def system_busy():
    """Busy CPU seconds of the whole machine so far (/proc/stat, all but idle and iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / CLK


def server_cpu(master_pid):
    """CPU seconds a server has used so far: the master's own and reaped children's times
    plus every live child's own time (PostgreSQL backends, nginx workers)."""
    t = proc_times(master_pid)
    if t is None:
        return 0.0
    total = t[0] + t[1]
    for c in proc_children(master_pid):
        ct = proc_times(c)
        if ct:
            total += ct[0]
    return total


class TreeSampler(threading.Thread):
    """Samples the process tree under root every interval: per pid the last CPU time, the
    peak VmHWM, the command and (for MPI ranks) PMI_RANK."""

    def __init__(self, root, interval=0.2):
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.stop_ev = threading.Event()
        self.procs = {}  # pid -> {"comm", "rank", "cpu", "hwm_kb"}

    def run(self):
        while not self.stop_ev.is_set():
            self.sample()
            self.stop_ev.wait(self.interval)

    def sample(self):
        todo = [self.root]
        while todo:
            pid = todo.pop()
            todo += proc_children(pid)
            t = proc_times(pid)
            if t is None:
                continue
            p = self.procs.get(pid)
            if p is None:
                p = self.procs[pid] = {"comm": "?", "rank": None, "cpu": 0.0, "hwm_kb": 0}
            if p["comm"] != "scrape":  # a rank starts as a fork of hydra_pmi_proxy
                p["comm"] = proc_comm(pid)
                r = proc_environ(pid, "PMI_RANK")
                if r is not None and p["comm"] == "scrape":
                    p["rank"] = int(r)
            p["cpu"] = max(p["cpu"], t[0])
            hwm = proc_status(pid, "VmHWM")
            if hwm:
                p["hwm_kb"] = max(p["hwm_kb"], hwm)

    def stop(self):
        self.stop_ev.set()
        self.join()


def run_measured(cmd, stdout_path, stderr_path, env=None, cwd=None, timeout=1800):
    """Run cmd; return (exit code, wall seconds, rusage of the whole reaped tree, sampler)."""
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                             cwd=cwd, start_new_session=True)
        sampler = TreeSampler(p.pid)
        sampler.start()
        deadline = t0 + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.monotonic() > deadline:
                os.killpg(p.pid, signal.SIGKILL)
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.02)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
    return p.returncode, wall, ru, sampler


# ---------------------------------------------------------------------------
# Servers


def prepare_site(src, dst, origin):
    """Copy the generated site with @ORIGIN@ replaced (once per origin)."""
    stamp_path = os.path.join(dst, ".bench-stamp")
    src_stamp = ""
    try:
        with open(os.path.join(os.path.dirname(src), "site.stamp")) as f:
            src_stamp = f.read().strip()
    except OSError:
        pass
    want = "origin=%s %s" % (origin, src_stamp)
    try:
        with open(stamp_path) as f:
            if f.read().strip() == want:
                return
    except OSError:
        pass
    log("copying %s to %s with @ORIGIN@ = %s" % (src, dst, origin))
    shutil.rmtree(dst, ignore_errors=True)
    for dirpath, _, files in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                data = f.read().replace(b"@ORIGIN@", origin.encode())
            with open(os.path.join(dst, rel, name), "wb") as f:
                f.write(data)
    with open(stamp_path, "w") as f:
        f.write(want + "\n")


class Nginx:
    """A private nginx serving root on 127.0.0.1:port from a configuration template (default
    bench/crawl/nginx.conf.in; @PORT@, @ROOT@ and @TMP@ are filled in).  /robots.txt must
    exist: start() waits until it answers 200."""

    def __init__(self, root, port, conf_in=None):
        self.root = os.path.abspath(root)
        self.port = port
        self.conf_in = conf_in or os.path.join(HERE, "nginx.conf.in")
        self.tmp = tempfile.mkdtemp(prefix="bench-nginx-")
        self.proc = None

    def start(self):
        with open(self.conf_in) as f:
            conf = f.read()
        conf = conf.replace("@PORT@", str(self.port)).replace("@ROOT@", self.root)
        conf = conf.replace("@TMP@", self.tmp)
        if os.geteuid() == 0:
            conf = "user root;\n" + conf  # the site lives under the checkout; read as root
        path = os.path.join(self.tmp, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([nginx, "-c", path, "-p", self.tmp + "/"],
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        st.wait_until(lambda: self._up(), timeout=20, message="nginx on port %d" % self.port)
        return self

    def _up(self):
        import urllib.request
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/robots.txt" % self.port,
                                        timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def cpu(self):
        return server_cpu(self.proc.pid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def postmaster_pid(pg):
    with open(os.path.join(pg.datadir, "postmaster.pid")) as f:
        return int(f.readline())


# ---------------------------------------------------------------------------
# Runs


def price_key(v):
    if v is None or v == "":
        return None
    return "%.2f" % float(v)


def product_key(url, name, price, sku):
    path = url.split("://", 1)[-1]
    path = path[path.find("/"):]
    return (path, name, price_key(price), sku)


def run_scrape(a, pg, nginx, origin, i, workdir):
    db = "crawl%d" % i
    pg.drop_database(db)
    ci = pg.create_database(db)
    bin_ = os.path.join(ROOT, a.build, "scrape")
    r = subprocess.run([bin_, "init-db", "--db", ci], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("init-db failed: %s" % r.stderr)
    seeds = os.path.join(workdir, "seeds.txt")
    with open(seeds, "w") as f:
        f.write(origin + "/\n")
    nworkers = a.np - 1
    host_conc = a.host_concurrency or nworkers * a.concurrency
    args = ["crawl", "--seed", seeds, "--db", ci, "--job", "bench",
            "--concurrency", str(a.concurrency), "--delay", "0",
            "--host-concurrency", str(host_conc), "--max-depth", "100",
            "--parsers", a.parsers, "--quiet"]
    if a.rules:
        args += ["--rules", a.rules]
    cmd = [shutil.which("mpiexec") or "mpiexec", "-n", str(a.np), bin_] + args
    pm = postmaster_pid(pg)
    pg0, ng0, sys0 = server_cpu(pm), nginx.cpu(), system_busy()
    rc, wall, ru, sampler = run_measured(cmd, os.path.join(workdir, "scrape%d.out" % i),
                                         os.path.join(workdir, "scrape%d.err" % i),
                                         env=dict(os.environ, HYDRA_LAUNCHER="fork"))
    pg1, ng1, sys1 = server_cpu(pm), nginx.cpu(), system_busy()
    if rc not in (0, 5):
        with open(os.path.join(workdir, "scrape%d.err" % i)) as f:
            err = f.read()[-3000:]
        raise SystemExit("scrape run %d exited %d:\n%s" % (i, rc, err))
    summary = json.loads(pg.scalar(ci, "SELECT summary FROM runs ORDER BY id DESC LIMIT 1"))
    pages = int(summary["pages"])
    workers = []
    for rank, cpu_ms, rss, wpages in pg.query(
            ci, "SELECT rank, cpu_ms, max_rss_kb, pages FROM run_workers "
                "WHERE run_id = (SELECT max(id) FROM runs) ORDER BY rank"):
        workers.append({"rank": int(rank), "cpu_s": int(cpu_ms or 0) / 1000.0,
                        "max_rss_kb": int(rss or 0), "pages": int(wpages)})
    coord = next((p for p in sampler.procs.values() if p["rank"] == 0), None)
    coord_cpu_ms_pp = float(summary.get("coordinator_cpu_ms_per_page", 0))
    tree_cpu = ru.ru_utime + ru.ru_stime
    ranks_cpu = coord_cpu_ms_pp * pages / 1000.0 + sum(w["cpu_s"] for w in workers)
    products = set()
    for url, data in pg.query(
            ci, "SELECT u.url, r.data FROM records r JOIN urls u ON u.id = r.url_id "
                "WHERE r.parser = 'rules' AND r.record_type = 'product'"):
        d = json.loads(data)
        products.add(product_key(url, d.get("name"), d.get("price"), d.get("sku")))
    counts = dict(pg.query(ci, "SELECT parser, count(*) FROM records GROUP BY parser"))
    db_size = int(pg.scalar(ci, "SELECT pg_database_size(current_database())"))
    res = {
        "tool": "scrape", "run": i, "exit": rc, "wall_s": wall, "pages": pages,
        "pages_per_s": pages / wall, "summary_pages_per_s": summary.get("pages_per_s"),
        "errors": summary.get("errors"), "records": summary.get("records"),
        "record_counts": counts, "db_bytes": db_size,
        "tree_cpu_s": tree_cpu, "ranks_cpu_s": ranks_cpu,
        "mpiexec_cpu_s": max(0.0, tree_cpu - ranks_cpu),
        "coord_cpu_s": coord_cpu_ms_pp * pages / 1000.0, "coord_cpu_ms_per_page": coord_cpu_ms_pp,
        "coord_hwm_kb": coord["hwm_kb"] if coord else None,
        "coord_cpu_sampled_s": coord["cpu"] if coord else None,
        "workers": workers,
        "sampled": sorted(({"pid": pid, **p} for pid, p in sampler.procs.items()),
                          key=lambda p: (p["rank"] is None, p["rank"] or 0, p["pid"])),
        "pg_cpu_s": pg1 - pg0, "nginx_cpu_s": ng1 - ng0,
        "max_rss_tree_kb": ru.ru_maxrss, "products": len(products),
        "other_cpu_s": max(0.0, (sys1 - sys0) - tree_cpu - (pg1 - pg0) - (ng1 - ng0)),
    }
    pg.drop_database(db) if not a.keep_db else None
    return res, products


def run_wget(a, nginx, origin, i, workdir):
    """wget -r: one connection, saves every page, extracts nothing (the floor a crawler that
    stores its results is compared with).  Pages = the HTML files it saved."""
    dest = os.path.join(workdir, "wget%d" % i)
    shutil.rmtree(dest, ignore_errors=True)
    cmd = [shutil.which("wget") or "wget", "-r", "-l", "inf", "-np", "-nv", "-P", dest,
           "%s/" % origin]
    ng0, sys0 = nginx.cpu(), system_busy()
    rc, wall, ru, _ = run_measured(cmd, os.path.join(workdir, "wget%d.out" % i),
                                   os.path.join(workdir, "wget%d.err" % i), cwd=workdir)
    ng1, sys1 = nginx.cpu(), system_busy()
    if rc not in (0, 8):  # 8: some page answered an error (the site's broken links)
        with open(os.path.join(workdir, "wget%d.err" % i)) as f:
            raise SystemExit("wget run %d exited %d:\n%s" % (i, rc, f.read()[-3000:]))
    pages = sum(1 for _, _, fs in os.walk(dest) for f in fs if f != "robots.txt")
    shutil.rmtree(dest, ignore_errors=True)
    cpu = ru.ru_utime + ru.ru_stime
    return {
        "tool": "wget", "run": i, "exit": rc, "wall_s": wall, "pages": pages,
        "pages_per_s": pages / wall, "tree_cpu_s": cpu, "ranks_cpu_s": cpu, "pg_cpu_s": 0.0,
        "nginx_cpu_s": ng1 - ng0, "max_rss_tree_kb": ru.ru_maxrss, "products": 0,
        "other_cpu_s": max(0.0, (sys1 - sys0) - cpu - (ng1 - ng0)),
    }, None


def run_scrapy(a, nginx, origin, i, workdir):
    items = os.path.join(workdir, "scrapy%d.jsonl" % i)
    stats = os.path.join(workdir, "scrapy%d.stats.json" % i)
    for p in (items, stats):
        if os.path.exists(p):
            os.unlink(p)
    cmd = [SCRAPY_PY, "-m", "scrapy", "runspider", os.path.join(HERE, "shop_spider.py"),
           "-a", "start=%s/" % origin, "-a", "stats=%s" % stats,
           "-s", "CONCURRENT_REQUESTS=%d" % a.scrapy_concurrency,
           "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=%d" % a.scrapy_concurrency,
           "-o", "%s:jsonlines" % items]
    ng0, sys0 = nginx.cpu(), system_busy()
    rc, wall, ru, _ = run_measured(cmd, os.path.join(workdir, "scrapy%d.out" % i),
                                   os.path.join(workdir, "scrapy%d.err" % i), cwd=workdir)
    ng1, sys1 = nginx.cpu(), system_busy()
    if rc != 0:
        with open(os.path.join(workdir, "scrapy%d.err" % i)) as f:
            raise SystemExit("scrapy run %d exited %d:\n%s" % (i, rc, f.read()[-3000:]))
    with open(stats) as f:
        s = json.load(f)
    pages = int(s.get("response_received_count", 0)) - int(s.get("robotstxt/response_count", 0))
    products = set()
    with open(items) as f:
        for line in f:
            d = json.loads(line)
            products.add(product_key(d["url"], d.get("name"), d.get("price"), d.get("sku")))
    cpu = ru.ru_utime + ru.ru_stime
    return {
        "tool": "scrapy", "run": i, "exit": rc, "wall_s": wall, "pages": pages,
        "pages_per_s": pages / wall, "tree_cpu_s": cpu, "ranks_cpu_s": cpu, "pg_cpu_s": 0.0,
        "nginx_cpu_s": ng1 - ng0, "max_rss_tree_kb": ru.ru_maxrss, "products": len(products),
        "other_cpu_s": max(0.0, (sys1 - sys0) - cpu - (ng1 - ng0)),
        "stats": {k: v for k, v in s.items() if not isinstance(v, (dict, list))},
    }, products


def run_crawlee(a, nginx, origin, i, workdir):
    items = os.path.join(workdir, "crawlee%d.jsonl" % i)
    stats = os.path.join(workdir, "crawlee%d.stats.json" % i)
    for p in (items, stats):
        if os.path.exists(p):
            os.unlink(p)
    node = shutil.which("node") or "node"
    cmd = [node, os.path.join(CRAWLEE_DIR, "shop_crawler.mjs"), "--start", "%s/" % origin,
           "--out", items, "--stats", stats, "--concurrency", str(a.crawlee_concurrency)]
    ng0, sys0 = nginx.cpu(), system_busy()
    rc, wall, ru, sampler = run_measured(cmd, os.path.join(workdir, "crawlee%d.out" % i),
                                         os.path.join(workdir, "crawlee%d.err" % i),
                                         cwd=CRAWLEE_DIR)
    ng1, sys1 = nginx.cpu(), system_busy()
    if rc != 0:
        with open(os.path.join(workdir, "crawlee%d.err" % i)) as f:
            raise SystemExit("crawlee run %d exited %d:\n%s" % (i, rc, f.read()[-3000:]))
    with open(stats) as f:
        s = json.load(f)
    pages = int(s["pages"])
    products = set()
    with open(items) as f:
        for line in f:
            d = json.loads(line)
            products.add(product_key(d["url"], d.get("name"), d.get("price"), d.get("sku")))
    cpu = ru.ru_utime + ru.ru_stime
    node_hwm = max((p["hwm_kb"] for p in sampler.procs.values() if p["comm"] == "node"),
                   default=0)
    return {
        "tool": "crawlee", "run": i, "exit": rc, "wall_s": wall, "pages": pages,
        "pages_per_s": pages / wall, "tree_cpu_s": cpu, "ranks_cpu_s": cpu, "pg_cpu_s": 0.0,
        "nginx_cpu_s": ng1 - ng0, "max_rss_tree_kb": max(ru.ru_maxrss, node_hwm),
        "products": len(products), "other_cpu_s": max(0.0, (sys1 - sys0) - cpu - (ng1 - ng0)),
        "stats": {k: v for k, v in s.items() if not isinstance(v, (dict, list))},
        "final": s.get("final"),
    }, products


# ---------------------------------------------------------------------------
# Report


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, spec="%.2f"):
    return "-" if v is None else spec % v


def report(a, res, checks):
    """res: tool -> list of its runs; checks: [(tool, same, info)] against the reference."""
    def per_page_ms(r, key):
        return 1000.0 * r[key] / r["pages"] if r["pages"] else None

    rows = []
    for tool in TOOLS:
        rs = res.get(tool) or []
        if not rs:
            continue
        d = {
            "pages": med([r["pages"] for r in rs]),
            "wall": med([r["wall_s"] for r in rs]),
            "pps": med([r["pages_per_s"] for r in rs]),
            "crawler": med([per_page_ms(r, "tree_cpu_s") for r in rs]),
            "pg": med([per_page_ms(r, "pg_cpu_s") for r in rs]),
            "nginx": med([per_page_ms(r, "nginx_cpu_s") for r in rs]),
            "total": med([1000.0 * (r["tree_cpu_s"] + r["pg_cpu_s"] + r["nginx_cpu_s"])
                          / r["pages"] for r in rs]),
        }
        if tool == "scrape":
            d["coord"] = med([r["coord_cpu_ms_per_page"] for r in rs])
            d["workers_cpu"] = med([1000.0 * sum(w["cpu_s"] for w in r["workers"]) / r["pages"]
                                    for r in rs])
            d["mpiexec"] = med([per_page_ms(r, "mpiexec_cpu_s") for r in rs])
            d["coord_rss"] = max((r["coord_hwm_kb"] or 0) for r in rs) / 1024.0
            d["worker_rss"] = max(w["max_rss_kb"] for r in rs for w in r["workers"]) / 1024.0
            d["rss"] = "coord %.0f, workers ≤ %.0f" % (d["coord_rss"], d["worker_rss"])
        else:
            d["rss"] = "%.0f" % (max(r["max_rss_tree_kb"] for r in rs) / 1024.0)
        rows.append((tool, d))
    byname = dict(rows)

    out = []
    out.append("")
    out.append("Site: %d pages, served by nginx (1 worker) on 127.0.0.1; %d run(s) each, "
               "alternating; medians." % (a.pages_expected, a.runs))
    if "scrape" in byname:
        out.append("scrape: mpiexec -n %d, --concurrency %d per worker, --delay 0 "
                   "--host-concurrency %d, --parsers %s --rules %s, results into PostgreSQL "
                   "(fresh database per run)." % (
                       a.np, a.concurrency, a.host_concurrency or (a.np - 1) * a.concurrency,
                       a.parsers, os.path.relpath(a.rules, ROOT)))
    if "scrapy" in byname:
        out.append("Scrapy %s: 1 process, CONCURRENT_REQUESTS=%d (per domain %d), "
                   "DOWNLOAD_DELAY=0, ROBOTSTXT_OBEY, items to a JSON-lines file (no database)."
                   % (scrapy_version(), a.scrapy_concurrency, a.scrapy_concurrency))
    if "crawlee" in byname:
        out.append("Crawlee %s (CheerioCrawler, node %s): 1 process, min = max concurrency %d, "
                   "no delay, respectRobotsTxtFile, storage in memory, items to a JSON-lines "
                   "file (no database)." % (crawlee_version(), node_version(),
                                            a.crawlee_concurrency))
    out.append("")
    out.append("| tool | pages | wall s | pages/s | ratio | crawler CPU ms/page | "
               "PostgreSQL ms/page | nginx ms/page | total CPU ms/page | coordinator ms/page | "
               "peak RSS MiB |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    base = (byname.get("wget") or byname.get("scrapy") or {}).get("pps")
    for tool, d in rows:
        ratio = d["pps"] / base if base else None
        crawler = fmt(d["crawler"], "%.3f")
        if tool == "scrape":
            crawler += " (workers %.3f, coord %.3f, mpiexec %.3f)" % (
                d["workers_cpu"], d["coord"], d["mpiexec"])
        out.append("| %s | %d | %.1f | %.0f | %s | %s | %s | %s | %s | %s | %s |" % (
            NAMES[tool], d["pages"], d["wall"], d["pps"], fmt(ratio, "%.1fx"), crawler,
            fmt(d["pg"], "%.3f") if tool == "scrape" else
            ("- (files)" if tool == "wget" else "- (JSONL)"),
            fmt(d["nginx"], "%.3f"), fmt(d["total"], "%.3f"),
            fmt(d.get("coord"), "%.3f"), d["rss"]))
    out.append("")
    out.append("Per run (other CPU: busy CPU seconds of the machine during the run that none of "
               "the measured processes used - other load, which skews wall times):")
    out.append("")
    out.append("| tool | run | pages | wall s | pages/s | crawler CPU s | PostgreSQL CPU s | "
               "nginx CPU s | other CPU s on the machine | products | peak RSS MiB per rank |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    every = [r for tool in TOOLS for r in res.get(tool) or []]
    for r in sorted(every, key=lambda r: (r["run"], TOOLS.index(r["tool"]))):
        if r["tool"] == "scrape":
            rss = "0: %s; " % fmt((r["coord_hwm_kb"] or 0) / 1024.0, "%.0f") + "; ".join(
                "%d: %.0f" % (w["rank"], w["max_rss_kb"] / 1024.0) for w in r["workers"])
        else:
            rss = "%.0f" % (r["max_rss_tree_kb"] / 1024.0)
        out.append("| %s | %d | %d | %.2f | %.0f | %.2f | %.2f | %.2f | %.2f | %d | %s |" % (
            r["tool"], r["run"], r["pages"], r["wall_s"], r["pages_per_s"], r["tree_cpu_s"],
            r["pg_cpu_s"], r["nginx_cpu_s"], r.get("other_cpu_s", 0.0), r["products"], rss))

    targets = []
    if "scrape" in byname and "wget" in byname:
        d_sc, d_wg = byname["scrape"], byname["wget"]
        targets.append(("pages/s ≥ wget -r's (results in PostgreSQL)",
                        d_sc["pps"] >= d_wg["pps"],
                        "%.0f vs %.0f pages/s" % (d_sc["pps"], d_wg["pps"])))
    if "scrape" in byname and "scrapy" in byname:
        d_sc, d_sy = byname["scrape"], byname["scrapy"]
        ratio = d_sc["pps"] / d_sy["pps"]
        targets.append(("pages/s ≥ 20× Scrapy (results in PostgreSQL)", ratio >= 20,
                        "%.1fx (%.0f vs %.0f pages/s)" % (ratio, d_sc["pps"], d_sy["pps"])))
    if "scrape" in byname:
        d_sc = byname["scrape"]
        targets += [
            ("total CPU ≤ 0.9 ms/page (scrape ranks + mpiexec + PostgreSQL, nginx not counted)",
             d_sc["total"] - (d_sc["nginx"] or 0) <= 0.9,
             "%.3f ms/page" % (d_sc["total"] - (d_sc["nginx"] or 0))),
            ("PostgreSQL CPU ≤ 0.2 ms/page", d_sc["pg"] <= 0.2, "%.3f ms/page" % d_sc["pg"]),
            ("coordinator CPU ≤ 0.1 ms/page", d_sc["coord"] <= 0.1, "%.3f ms/page" % d_sc["coord"]),
            ("worker peak RSS < 64 MiB at concurrency %d" % a.concurrency,
             d_sc["worker_rss"] < 64, "max %.1f MiB" % d_sc["worker_rss"]),
            ("politeness by options only (--delay 0, --host-concurrency %d)"
             % (a.host_concurrency or (a.np - 1) * a.concurrency), True, "options"),
        ]
    for tool, same, info in checks:
        targets.append(("same product records (url, name, price, sku): %s" % NAMES[tool],
                        same, info))
    if targets:
        out.append("")
        out.append("| target | result | measured |")
        out.append("|---|---|---|")
        for t, ok, m in targets:
            out.append("| %s | %s | %s |" % (t, "met" if ok else "**missed**", m))
    return "\n".join(out) + "\n"


def scrapy_version():
    try:
        import scrapy
        return scrapy.__version__
    except Exception:
        return "?"


def crawlee_version():
    try:
        with open(os.path.join(CRAWLEE_DIR, "node_modules", "@crawlee", "cheerio",
                               "package.json")) as f:
            return json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        return "?"


def node_version():
    try:
        return subprocess.run([shutil.which("node") or "node", "--version"], capture_output=True,
                              text=True, timeout=30).stdout.strip() or "?"
    except OSError:
        return "?"


def compare(ref_tool, ref, tool, prod):
    """(same, info) for tool's product set against the reference tool's."""
    same = prod == ref and len(ref) > 0
    if same:
        return same, "%d = %d records (%s)" % (len(prod), len(ref), NAMES[ref_tool])
    return same, "%s %d, %s %d, only %s %d, only %s %d (e.g. %s / %s)" % (
        NAMES[ref_tool], len(ref), NAMES[tool], len(prod), NAMES[ref_tool], len(ref - prod),
        NAMES[tool], len(prod - ref), sorted(ref - prod)[:1], sorted(prod - ref)[:1])


def parse_only(text):
    tools = [t.strip().lower() for t in (text or ",".join(TOOLS)).split(",") if t.strip()]
    bad = [t for t in tools if t not in TOOLS]
    if bad or not tools:
        raise argparse.ArgumentTypeError("--only takes a comma list of %s" % ", ".join(TOOLS))
    return [t for t in TOOLS if t in tools]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--site", default=os.path.join(ROOT, "bench", "out", "site"))
    ap.add_argument("--served", default=None,
                    help="where the @ORIGIN@-substituted copy goes (default bench/out/crawl-site)")
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--np", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--host-concurrency", type=int, default=0, help="default (np-1)*concurrency")
    ap.add_argument("--scrapy-concurrency", type=int, default=64)
    ap.add_argument("--crawlee-concurrency", type=int, default=64)
    ap.add_argument("--parsers", default="links,meta")
    ap.add_argument("--rules", default=os.path.join(HERE, "shop.rules"))
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", type=parse_only, default=list(TOOLS),
                    help="comma list of the tools to run: scrape,wget,scrapy,crawlee (default all)")
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out", "crawl"))
    a = ap.parse_args()
    a.rules = os.path.abspath(a.rules)
    a.out = os.path.abspath(a.out)
    a.served = a.served or os.path.join(ROOT, "bench", "out", "crawl-site")
    origin = "http://127.0.0.1:%d" % a.port
    os.makedirs(a.out, exist_ok=True)
    a.pages_expected = sum(1 for _, _, fs in os.walk(a.site) for f in fs if f.endswith(".html"))
    if "crawlee" in a.only and not os.path.isdir(
            os.path.join(CRAWLEE_DIR, "node_modules", "@crawlee", "cheerio")):
        raise SystemExit("Crawlee is not installed: npm ci --prefix %s (bench/crawl/run.sh does "
                         "it)" % os.path.relpath(CRAWLEE_DIR, ROOT))

    prepare_site(a.site, a.served, origin)
    nginx = Nginx(a.served, a.port).start()
    pg = None
    results = []
    res = {t: [] for t in a.only}
    prods = {}
    try:
        if "scrape" in a.only:
            # PostgreSQL as the demo and the tests run it (fsync off, synchronous_commit off)
            pg = st.PgServer(settings={"max_connections": "50"}).start()
            log("PostgreSQL %s on port %d, nginx on %s" % (pg.datadir, pg.port, origin))
        for i in range(1, a.runs + 1):
            for tool in a.only:
                if tool == "scrape":
                    r, p = run_scrape(a, pg, nginx, origin, i, a.out)
                    log("scrape run %d: %d pages in %.2f s = %.0f pages/s, tree CPU %.2f s, "
                        "PG %.2f s, nginx %.2f s, products %d"
                        % (i, r["pages"], r["wall_s"], r["pages_per_s"], r["tree_cpu_s"],
                           r["pg_cpu_s"], r["nginx_cpu_s"], r["products"]))
                else:
                    run = {"wget": run_wget, "scrapy": run_scrapy,
                           "crawlee": run_crawlee}[tool]
                    r, p = run(a, nginx, origin, i, a.out)
                    log("%s run %d: %d pages in %.2f s = %.0f pages/s, CPU %.2f s, nginx %.2f s, "
                        "peak RSS %.0f MiB, products %d"
                        % (NAMES[tool], i, r["pages"], r["wall_s"], r["pages_per_s"],
                           r["tree_cpu_s"], r["nginx_cpu_s"], r["max_rss_tree_kb"] / 1024.0,
                           r["products"]))
                res[tool].append(r)
                results.append(r)
                if p is None:
                    continue  # wget -r extracts nothing
                if tool in prods and p != prods[tool]:
                    log("WARNING: %s run %d products differ from run 1" % (NAMES[tool], i))
                prods.setdefault(tool, p)
    finally:
        nginx.stop()
        if pg:
            pg.stop()
    checks = []
    extracting = [t for t in a.only if t in prods]
    ref_tool = extracting[0] if extracting else None
    for tool in extracting[1:]:
        same, info = compare(ref_tool, prods[ref_tool], tool, prods[tool])
        checks.append((tool, same, info))
    if len(extracting) == 1:
        checks.append((ref_tool, len(prods[ref_tool]) > 0,
                       "%d records (no other tool ran to compare with)" % len(prods[ref_tool])))
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    text = report(a, res, checks)
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    log("raw numbers: %s" % os.path.join(a.out, "results.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
