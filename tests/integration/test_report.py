"""`scrape report`: one self-contained HTML page of charts and tables about a job, checked
against the database it was drawn from.

The fixture is built once per class: a generated shop crawled by `mpiexec -n 3` (two workers)
with a rules file of two rule sets (a product record, and an `each` record per listing card),
seeds that answer 404, 503 and nothing at all, then a second run with one worker
(`mpiexec -n 2 ... --recrawl-after 1ms`).  The report of that job must be balanced HTML whose
SVG charts parse as XML and hold one line per worker of each run, one bar per status code,
host and rule set, with the numbers of the database; it must reference nothing outside
itself.  A job written by hand with hostile strings in every text column it shows proves the
escaping, and an empty job still gives a page.  Headless Chromium then opens the report: no
console error (the detector is first shown to catch one), and a screenshot kept in the build
tree (its path is printed).  Without Chromium that part is skipped, never passed."""
import collections
import os
import re
import shutil
import signal
import struct
import subprocess
import unittest
import xml.etree.ElementTree as ET
import zlib
from html.parser import HTMLParser
from pathlib import Path

import crawlcase
import scrapetest as st

RULES = r"""site shop-product
  match ^https?://[^/]+/p/\d+\.html$
  record product
    name   css h1             required
    price  css p.price        number
    sku    xpath "//tr[th='SKU']/td"  trim

site shop-listing
  match ^https?://[^/]+/c/
  record card each css div.card
    name   css h3             required
    price  css p.card-price   number
    url    css a.view  attr href  url
"""

SVG = "{http://www.w3.org/2000/svg}"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
# Every element the report may contain: anything else in a page means a value got out.
ALLOWED = {"html", "head", "meta", "title", "style", "body", "main", "header", "h1", "h2", "h3",
           "p", "span", "q", "code", "section", "figure", "figcaption", "table", "thead",
           "tbody", "tr", "th", "td", "svg", "g", "line", "text", "rect", "polyline", "circle"}

HOSTILE = {
    "job": 'evil<script>console.error("xss-job")</script>',
    "host": '<img src=x onerror=console.error("xss-host")>.example',
    "worker": '</svg><script>console.error("xss-worker")</script>',
    "rule_set": '"><script>console.error("xss-rules")</script>',
    "record": "<b onmouseover=alert(1)>type</b>",
    "error": "<script>console.error('xss-error')</script> & \x01 ctl",
    "url": 'http://evil.example/"><script>console.error("xss-url")</script>',
}

CONSOLE = re.compile(r"CONSOLE[(:]|Uncaught")
SHOP = "(SELECT id FROM jobs WHERE name = 'shop')"  # other tests add jobs to the database


class Page(HTMLParser):
    """The parts of a page the tests look at: balance errors, element counts, attributes,
    the text, and every table as (class, rows of cell texts)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.attrs, self.text = [], [], [], []
        self.elements = collections.Counter()
        self.tables, self._row, self._cell = [], None, None
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append("unclosed at the end: %s" % self.stack)

    def handle_starttag(self, tag, attrs):
        self.elements[tag] += 1
        self.attrs.append((tag, attrs))
        if tag == "table":
            self.tables.append((dict(attrs).get("class", ""), []))
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements[tag] += 1
        self.attrs.append((tag, attrs))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else ""))
            return
        self.stack.pop()
        if tag in ("td", "th") and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append(self._row)
            self._row = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def table(self, cls):
        """Rows (header first) of the one table whose class holds cls."""
        found = [rows for c, rows in self.tables if cls in c.split()]
        assert len(found) == 1, "%d tables of class %s" % (len(found), cls)
        return found[0]


def svgs(text):
    """Every <svg> of the page, parsed as XML: {class: [element, ...]}."""
    out = collections.defaultdict(list)
    for chunk in re.findall(r"<svg\b.*?</svg>", text, re.S):
        root = ET.fromstring(chunk)
        for cls in root.get("class", "").split():
            out[cls].append(root)
    return out


def bars(svg):
    """{label: value text} of the bars of a chart, read from each bar's <title>."""
    out = {}
    for rect in svg.iter(SVG + "rect"):
        if rect.get("class") == "bar":
            label, value = rect.find(SVG + "title").text.rsplit(": ", 1)
            out[label] = value
    return out


def find_chromium():
    for name in (os.environ.get("SCRAPE_CHROMIUM"), "/usr/bin/chromium", "chromium",
                 "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def run_chromium(chromium, page, png, profile, timeout=120):
    """Open page in headless Chromium, screenshot to png; return (exit code, stderr).  The
    browser runs in its own process group, killed whatever happens."""
    cmd = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--disable-background-networking", "--no-first-run", "--user-data-dir=" + profile,
           "--enable-logging=stderr", "--v=0", "--screenshot=" + png, "--window-size=1280,2400",
           Path(page).resolve().as_uri()]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("chromium did not finish in %d s" % timeout) from None
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if p.poll() is None:
            p.kill()
        p.communicate()
    return p.returncode, err.decode("utf-8", "replace")


def png_rows(path):
    """(width, height, scanlines) of a PNG: the decompressed rows, filter byte first."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, depth, ctype = 8, b"", 0, 0, 8, 6
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = 1 + width * {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype] * depth // 8
    return width, height, [raw[i * stride:(i + 1) * stride] for i in range(height)]


def out_dir():
    """Where the report and its screenshot stay after the test: $SCRAPE_TEST_OUT, else
    tests/out beside the scrape binary (the build tree)."""
    d = os.environ.get("SCRAPE_TEST_OUT") or os.path.join(
        os.path.dirname(st.scrape_bin()), "tests", "out")
    os.makedirs(d, exist_ok=True)
    return d


class ReportTest(crawlcase.CrawlCase):
    PAGES = 150

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rules = cls.tmp.join("shop.rules")
        with open(cls.rules, "w") as f:
            f.write(RULES)
        cls.seeds_all = st.write_seeds(cls.tmp.join("report-seeds.txt"), [
            cls.site.url("/"), cls.site.url("/__test/status/404"),
            cls.site.url("/__test/status/503"), cls.site.url("/__test/drop")])
        cls.rdb = cls.pg.create_database("report")
        cls.run_crawl(3)
        cls.run_crawl(2, "--recrawl-after", "1ms")
        cls.out = out_dir()
        cls.report_path = os.path.join(cls.out, "report.html")
        r = cls.report("shop", cls.report_path)
        if r.returncode != 0:
            raise AssertionError("scrape report failed (%d): %s" % (r.returncode, r.stderr))
        with open(cls.report_path, encoding="utf-8") as f:
            cls.html = f.read()
        cls.page = Page(cls.html)
        cls.charts = svgs(cls.html)

    @classmethod
    def run_crawl(cls, np, *extra):
        args = ["--seed", cls.seeds_all, "--db", cls.rdb, "--job", "shop", "--delay", "0",
                "--host-concurrency", "64", "--quiet", "--max-attempts", "1", "--parsers",
                "links,meta", "--rules", cls.rules, "--peer-timeout", "30s"] + list(extra)
        r = st.run_scrape(args, np=np, timeout=300)
        if r.returncode not in (0, 5):
            raise AssertionError("crawl failed (%d): %s" % (r.returncode, r.stderr[-4000:]))

    @classmethod
    def report(cls, job, path=None, *extra):
        args = [st.scrape_bin(), "report", "--db", cls.rdb, "--job", job] + list(extra)
        if path:
            args += ["-o", path]
        return subprocess.run(args, capture_output=True, text=True, timeout=120)

    def setUp(self):
        pass  # one database for the class, nothing to reset

    def q(self, sql, params=None):
        return self.pg.query(self.rdb, sql, params)

    def scalar(self, sql, params=None):
        return self.q(sql, params)[0][0]

    # --- the page ------------------------------------------------------------------------

    def test_page_is_balanced_html(self):
        self.assertEqual(self.page.errors, [])
        for tag in ("html", "head", "body", "style", "main"):
            self.assertEqual(self.page.elements[tag], 1, tag)
        self.assertIn("<title>scrape report: shop</title>", self.html)
        self.assertTrue(self.html.startswith("<!DOCTYPE html>\n"))
        self.assertLessEqual(set(self.page.elements), ALLOWED)
        for section in ("summary", "throughput", "status", "hosts", "records", "runs"):
            self.assertIn('<section id="%s">' % section, self.html)

    def test_page_is_self_contained(self):
        self.assertEqual(self.page.elements["script"], 0)
        self.assertEqual(self.page.elements["link"], 0)
        for tag, attrs in self.page.attrs:
            for name, value in attrs:
                self.assertNotIn(name, ("src", "href", "xlink:href", "srcset", "action",
                                        "background", "data", "poster"), (tag, name, value))
                self.assertFalse(name.startswith("on"), (tag, name))
                if name != "xmlns":
                    self.assertNotRegex(value or "", r"(?i)^\s*(https?:|//)", (tag, name))
        style = re.search(r"<style>(.*?)</style>", self.html, re.S).group(1)
        self.assertNotIn("@import", style)
        self.assertNotIn("url(", style)
        self.assertNotRegex(style, r"https?://")

    def test_every_chart_parses_as_xml_with_axes_and_a_title(self):
        every = self.charts["chart"]
        self.assertEqual(len(every), len(re.findall(r"<svg\b", self.html)))
        for svg in every:
            self.assertIsNotNone(svg.find(SVG + "title"))
            self.assertTrue(svg.findall(".//%sg[@class='axis x-axis']" % SVG) or
                            svg.findall(".//%sg[@class='axis y-axis']" % SVG))
            self.assertTrue(0 < int(svg.get("width")) <= 1060)

    def test_one_line_per_worker_for_each_run(self):
        figures = re.findall(r'<figure class="run" data-run="(\d+)">\s*<figcaption>.*?'
                             r'</figcaption>\s*(<svg\b.*?</svg>)', self.html, re.S)
        runs = [r for (r,) in self.q("SELECT DISTINCT run_id FROM fetches WHERE job_id = "
                                     + SHOP + " ORDER BY 1 DESC")]
        self.assertEqual([f[0] for f in figures], runs, "a chart per run, the last first")
        self.assertEqual(len(runs), 2)
        for run, chunk in figures:
            svg = ET.fromstring(chunk)
            want = {"%s@%s" % w for w in self.q(
                "SELECT DISTINCT worker_rank, worker_host FROM fetches WHERE run_id = :'p1'",
                [run])}
            lines = svg.findall(".//%spolyline[@class='series']" % SVG)
            self.assertEqual(sorted(p.get("data-series") for p in lines), sorted(want))
            keys = svg.findall(".//%sg[@class='key']" % SVG)
            self.assertEqual(len(keys), len(want))
            total = 0
            for key in keys:
                name, n = re.fullmatch(r"(.*): (\d+) fetches", key.find(SVG + "text").text).groups()
                self.assertIn(name, want)
                total += int(n)
            self.assertEqual(total, int(self.scalar(
                "SELECT count(*) FROM fetches WHERE run_id = :'p1'", [run])))
        # the first run had two workers, and both fetched
        self.assertEqual(len(re.findall(r"<polyline", figures[1][1])), 2)
        self.assertEqual(len(re.findall(r"<polyline", figures[0][1])), 1)

    def test_a_bar_per_status_code_with_its_count(self):
        (svg,) = self.charts["status"]
        want = dict(self.q("SELECT coalesce(http_status::text, 'no response'), fetches "
                           "FROM status_counts WHERE job = 'shop'"))
        self.assertEqual(bars(svg), want)
        for code in ("200", "304", "404", "503", "no response"):
            self.assertIn(code, want)

    def test_hosts_by_errors_and_by_latency(self):
        (errors,) = self.charts["host-errors"]
        (latency,) = self.charts["host-latency"]
        want = dict(self.q("SELECT host, errors FROM host_stats WHERE job = 'shop' "
                           "AND errors > 0"))
        self.assertEqual(bars(errors), want)
        self.assertEqual(list(want.values()), ["3"])  # the 404, the 503, the dropped one
        rows = self.page.table("host-errors")
        self.assertEqual(rows[0][:3], ["host", "errors", "fetches"])
        self.assertEqual([tuple(r[:2]) for r in rows[1:]], list(want.items()))
        med, p95 = self.q("SELECT round(median_ms::numeric), round(p95_ms::numeric) "
                          "FROM host_stats WHERE job = 'shop'")[0]
        self.assertEqual(bars(latency), {self.site.netloc: "median %s ms, p95 %s ms"
                                         % (med, p95)})
        self.assertEqual(len(latency.findall(".//%srect[@class='bar-inner']" % SVG)), 1)

    def test_records_per_parser_and_rule_set(self):
        (svg,) = self.charts["records"]
        want = dict(self.q("SELECT CASE WHEN parser = 'rules' THEN 'rules: ' || rule_set "
                           "ELSE parser END, count(*) FROM records WHERE job_id = " + SHOP
                           + " GROUP BY parser, rule_set"))
        self.assertEqual(bars(svg), want)
        self.assertEqual(set(want), {"links", "meta", "rules: shop-product",
                                     "rules: shop-listing"})
        rows = self.page.table("records")
        self.assertEqual(rows[0], ["parser", "rule set", "record", "records", "pages"])
        got = {(r[1], r[2]): r[3] for r in rows[1:] if r[0] == "rules"}
        self.assertEqual(got, dict(((a, b), c) for a, b, c in self.q(
            "SELECT rule_set, record_type, count(*) FROM records WHERE parser = 'rules' "
            "AND job_id = " + SHOP + " GROUP BY 1, 2")))

    def test_runs_table_and_summary_match_the_database(self):
        rows = self.page.table("runs")
        self.assertEqual(rows[0][:9], ["run", "started", "ended", "state (exit)", "pages",
                                       "records", "errors", "pages/s", "workers"])
        want = self.q("SELECT run_id, status || ' (exit ' || exit_code || ')', pages, records, "
                      "errors, workers FROM run_summary WHERE job = 'shop' ORDER BY run_id")
        self.assertEqual(len(rows) - 1, int(self.scalar("SELECT count(*) FROM runs WHERE "
                                                        "job_id = " + SHOP)))
        self.assertEqual([(r[0], r[3], r[4], r[5], r[6], r[8]) for r in rows[1:]], want)
        self.assertEqual([r[8] for r in rows[1:]], ["2", "1"])
        summary = dict(self.page.table("summary"))
        self.assertEqual(summary["fetches"], self.scalar(
            "SELECT count(*) FROM fetches WHERE job_id = " + SHOP))
        self.assertEqual(summary["errors"], self.scalar(
            "SELECT count(*) FROM fetches WHERE error IS NOT NULL AND job_id = " + SHOP))
        self.assertEqual(summary["records"], self.scalar(
            "SELECT count(*) FROM records WHERE job_id = " + SHOP))
        self.assertEqual(summary["hosts"], "1")

    def test_output_depends_only_on_the_data(self):
        again = self.report("shop")  # to stdout this time
        self.assertEqual(again.returncode, 0, again.stderr)
        strip = lambda s: re.sub(r'<p class="generated">.*?</p>', "", s)
        self.assertEqual(strip(again.stdout), strip(self.html))

    # --- other jobs and errors -----------------------------------------------------------

    def hostile_job(self):
        """A job written by hand with hostile text in every column the report shows."""
        if self.scalar("SELECT count(*) FROM jobs WHERE name = :'job'", HOSTILE) == "0":
            self.q("""
                INSERT INTO jobs (name) VALUES (:'job');
                INSERT INTO runs (job_id, status, exit_code, finished_at, summary)
                SELECT id, 'done', 0, now(), '{"pages": 3, "records": 2, "errors": 2}'
                FROM jobs WHERE name = :'job';
                INSERT INTO run_workers (run_id, rank, host, state)
                SELECT max(r.id), 1, :'worker', 'done' FROM runs r JOIN jobs j ON j.id = r.job_id
                WHERE j.name = :'job';
                INSERT INTO urls (job_id, url, host, depth, state)
                SELECT id, :'url', :'host', 0, 'failed' FROM jobs WHERE name = :'job';
                INSERT INTO fetches (url_id, job_id, run_id, url, attempt, http_status,
                                     elapsed_ms, worker_rank, worker_host, error)
                SELECT u.id, u.job_id, r.id, u.url, 1, s.status, 10, 1, :'worker', s.error
                FROM urls u JOIN runs r ON r.job_id = u.job_id,
                     (VALUES (200, NULL), (500, :'error'), (NULL, :'error')) s (status, error)
                WHERE u.url = :'url';
                INSERT INTO records (fetch_id, url_id, job_id, parser, rule_set, record_type,
                                     data)
                SELECT f.id, f.url_id, f.job_id, 'rules', :'rule_set', :'record', '{}'
                FROM fetches f WHERE f.url = :'url' AND f.http_status = 200;
                """, HOSTILE)
        path = self.tmp.join("hostile.html")
        r = self.report(HOSTILE["job"], path)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(path, encoding="utf-8") as f:
            return path, f.read()

    def test_hostile_values_are_escaped(self):
        _, html = self.hostile_job()
        page = Page(html)
        self.assertEqual(page.errors, [])
        self.assertLessEqual(set(page.elements), ALLOWED)
        for tag, attrs in page.attrs:
            self.assertFalse([n for n, _ in attrs if n.startswith("on") or n == "src"])
        self.assertNotIn("<script", html.lower())
        self.assertIn("&lt;script&gt;", html)
        text = "".join(page.text)
        for name, value in HOSTILE.items():
            self.assertIn(value.replace("\x01", "\ufffd"), text, name)  # shown, as text
        charts = svgs(html)  # still well-formed XML, a control character included
        (line,) = charts["throughput"][0].findall(".//%spolyline" % SVG)
        self.assertEqual(line.get("data-series"), "1@" + HOSTILE["worker"])
        self.assertEqual(bars(charts["records"][0]), {"rules: " + HOSTILE["rule_set"]: "1"})
        self.assertEqual(bars(charts["host-errors"][0]), {HOSTILE["host"]: "2"})

    def test_a_worker_that_fetched_nothing_has_a_line_at_zero(self):
        # docs/report.md: every worker of a run has a line.  A run of two workers written by
        # hand, where rank 2 (registered in run_workers) stored no fetch: the report used to
        # leave it out of the chart.
        job = {"job": "idle-worker", "url": "http://idle.example/"}
        if self.scalar("SELECT count(*) FROM jobs WHERE name = :'job'", job) == "0":
            self.q("""
                INSERT INTO jobs (name) VALUES (:'job');
                INSERT INTO runs (job_id, status, exit_code, finished_at)
                SELECT id, 'done', 0, now() FROM jobs WHERE name = :'job';
                INSERT INTO run_workers (run_id, rank, host, state, pages)
                SELECT max(r.id), w.rank, w.host, 'done', w.pages
                FROM runs r JOIN jobs j ON j.id = r.job_id,
                     (VALUES (1, 'busy-node', 3), (2, 'idle-node', 0)) w (rank, host, pages)
                WHERE j.name = :'job' GROUP BY w.rank, w.host, w.pages;
                INSERT INTO urls (job_id, url, host, depth, state)
                SELECT id, :'url', 'idle.example', 0, 'done' FROM jobs WHERE name = :'job';
                INSERT INTO fetches (url_id, job_id, run_id, url, attempt, http_status,
                                     elapsed_ms, worker_rank, worker_host)
                SELECT u.id, u.job_id, r.id, u.url, a, 200, 10, 1, 'busy-node'
                FROM urls u JOIN runs r ON r.job_id = u.job_id, generate_series(1, 3) a
                WHERE u.url = :'url';
                """, job)
        path = self.tmp.join("idle-worker.html")
        r = self.report(job["job"], path)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(path, encoding="utf-8") as f:
            html = f.read()
        (svg,) = svgs(html)["throughput"]
        lines = {p.get("data-series"): p for p in svg.findall(".//%spolyline" % SVG)}
        self.assertEqual(sorted(lines), ["1@busy-node", "2@idle-node"])
        keys = sorted(k.find(SVG + "text").text for k in svg.findall(".//%sg[@class='key']" % SVG))
        self.assertEqual(keys, ["1@busy-node: 3 fetches", "2@idle-node: 0 fetches"])
        # at zero: every point of the idle line on the x axis, below every point of the other
        ys = lambda p: [float(xy.split(",")[1]) for xy in p.get("points").split()]
        idle, busy = ys(lines["2@idle-node"]), ys(lines["1@busy-node"])
        self.assertEqual(len(set(idle)), 1, idle)
        self.assertGreater(idle[0], max(busy))

    def test_a_job_without_fetches_still_gets_a_page(self):
        self.q("INSERT INTO jobs (name) VALUES ('empty') ON CONFLICT DO NOTHING")
        path = self.tmp.join("empty.html")
        r = self.report("empty", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(path, encoding="utf-8") as f:
            html = f.read()
        page = Page(html)
        self.assertEqual(page.errors, [])
        self.assertNotIn("<svg", html)
        self.assertIn("no fetches yet", html)
        self.assertIn("No runs.", html)
        self.assertEqual(dict(page.table("summary"))["fetches"], "0")

    def test_errors(self):
        path = self.tmp.join("nope.html")
        r = self.report("nope", path)
        self.assertEqual(r.returncode, 2)
        # the message lists the jobs there are (other tests add some: read them)
        jobs = ", ".join("'%s'" % n for (n,) in self.q("SELECT name FROM jobs ORDER BY name"))
        self.assertIn("'shop'", jobs)
        self.assertIn("no job named 'nope' in this database (its jobs: %s)" % jobs, r.stderr)
        self.assertFalse(os.path.exists(path) or os.path.exists(path + ".part"))
        self.assertEqual(self.report("shop", None, "extra").returncode, 2)
        self.assertEqual(self.report("shop", None, "--bogus").returncode, 2)
        r = subprocess.run([st.scrape_bin(), "report", "--job", "shop", "--db",
                            "host=/nonexistent-socket-dir"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 3, r.stderr)
        r = self.report("shop", self.tmp.join("no", "such", "dir.html"))
        self.assertEqual(r.returncode, 2)

    def test_the_read_only_role_can_write_the_report(self):
        role = "report_reader"
        r = subprocess.run([st.scrape_bin(), "init-db", "--db", self.rdb, "--reader", role],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([st.scrape_bin(), "report", "--db", self.rdb + " user=" + role,
                            "--job", "shop"], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        strip = lambda s: re.sub(r'<p class="generated">.*?</p>', "", s)
        self.assertEqual(strip(r.stdout), strip(self.html))

    # --- in a browser --------------------------------------------------------------------

    def test_chromium_shows_it_without_console_errors(self):
        chromium = find_chromium()
        if not chromium:
            self.skipTest("chromium not installed (apt-get install chromium): browser check "
                          "not run")
        # the detector catches a page that does log an error
        broken = self.tmp.join("broken.html")
        with open(broken, "w") as f:
            f.write("<!DOCTYPE html><title>x</title><p>x</p>"
                    "<script>throw new Error('deliberate');</script>")
        rc, err = run_chromium(chromium, broken, self.tmp.join("broken.png"),
                               self.tmp.join("profile-broken"))
        self.assertTrue([l for l in err.splitlines() if CONSOLE.search(l)],
                        "the console detector missed a deliberate error:\n" + err[-3000:])

        png = os.path.join(self.out, "report.png")
        if os.path.exists(png):
            os.unlink(png)
        rc, err = run_chromium(chromium, self.report_path, png, self.tmp.join("profile"))
        self.assertEqual(rc, 0, err[-3000:])
        self.assertEqual([l for l in err.splitlines() if CONSOLE.search(l)], [])
        self.assertGreater(os.path.getsize(png), 20000)
        width, height, rows = png_rows(png)
        self.assertEqual((width, height), (1280, 2400))
        self.assertGreater(len(set(rows)), 200, "the screenshot is (nearly) one flat colour")
        print("report screenshot:", png)

        hostile, _ = self.hostile_job()
        rc, err = run_chromium(chromium, hostile, self.tmp.join("hostile.png"),
                               self.tmp.join("profile-hostile"))
        self.assertEqual(rc, 0, err[-3000:])
        self.assertEqual([l for l in err.splitlines() if CONSOLE.search(l)], [],
                         "a hostile value ran as script")


if __name__ == "__main__":
    unittest.main()
