"""Self-check of the test harness: PostgreSQL, the site server, sitegen and
the oracle work, without the scrape binary."""

import json
import os
import signal
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

import oracle
import scrapetest


def fetch(url, headers=None):
    """(status, headers, body bytes) of a GET, also for error statuses."""
    req = urllib.request.Request(url, headers=headers or {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class PgServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = scrapetest.PgServer().start()
        cls.addClassCleanup(cls.pg.stop)
        cls.ci = cls.pg.create_database("selfcheck")

    def test_params_round_trip(self):
        tricky = "it's \"quoted\" \\ back\\slash\n:'p1' ; -- not a comment\t\u00e9\u20ac"
        rows = self.pg.query(self.ci, "select :'p1', :'p2', length(:'p1')", [tricky, None])
        self.assertEqual(rows, [(tricky, None, str(len(tricky)))])

    def test_null_and_empty_differ(self):
        rows = self.pg.query(self.ci, "select '', null::text union all select 'a', 'b'")
        self.assertEqual(rows, [("", None), ("a", "b")])
        self.assertEqual(self.pg.query(self.ci, "select 1 where false"), [])

    def test_tcp_and_tables(self):
        tcp = self.pg.conninfo_tcp("selfcheck")
        self.assertIn("host=127.0.0.1", tcp)
        self.pg.query(tcp, "create table t (k text primary key, v int);"
                           "insert into t values (:'k', 1)", {"k": "x'y"})
        self.assertEqual(self.pg.scalar(self.ci, "select k from t where v = 1"), "x'y")

    def test_error_carries_stderr(self):
        with self.assertRaises(scrapetest.PgError) as cm:
            self.pg.query(self.ci, "select * from no_such_table")
        self.assertIn("no_such_table", cm.exception.stderr)

    def test_settings(self):
        self.assertEqual(self.pg.scalar(self.ci, "show fsync"), "off")
        self.assertEqual(self.pg.scalar(self.ci, "show max_connections"), "50")


class SiteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = scrapetest.TempDir(prefix="selfcheck-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.root = scrapetest.generate_site(cls.tmp.join("site"), 30, seed=7)
        cls.site = scrapetest.SiteServer(cls.root).start()
        cls.addClassCleanup(cls.site.stop)

    def test_sitegen_counts_and_determinism(self):
        html_files = [os.path.join(d, f) for d, _, fs in os.walk(self.root)
                      for f in fs if f.endswith(".html")]
        self.assertEqual(len(html_files), 30)
        with open(os.path.join(self.root, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        self.assertEqual(len(manifest["pages"]), 30)
        again = scrapetest.generate_site(self.tmp.join("again"), 30, seed=7)
        r = subprocess.run(["diff", "-r", self.root, again], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_origin_substituted_and_logged(self):
        self.site.clear_log()
        status, headers, body = fetch(self.site.url("/p/1.html"),
                                      {"User-Agent": "selfcheck/1"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        text = body.decode("utf-8")
        self.assertNotIn("@ORIGIN@", text)
        self.assertIn('href="%s/p/1.html"' % self.site.origin, text)
        self.assertIn('<p class="price">\u00a3', text)
        log = self.site.log()
        self.assertEqual(len(log), 1)
        rec = log[0]
        self.assertEqual((rec["method"], rec["path"], rec["status"], rec["ua"]),
                         ("GET", "/p/1.html", 200, "selfcheck/1"))
        self.assertEqual(rec["host"], self.site.netloc)
        self.assertEqual(rec["inflight"], 1)
        self.assertLessEqual(rec["t_start"], rec["t_end"])

    def test_conditional_get(self):
        status, headers, _ = fetch(self.site.url("/about.html"))
        self.assertEqual(status, 200)
        status, _, body = fetch(self.site.url("/about.html"),
                                {"If-None-Match": headers["ETag"]})
        self.assertEqual((status, body), (304, b""))

    def test_test_paths(self):
        status, headers, body = fetch(self.site.url("/__test/status/503?retry_after=2"))
        self.assertEqual(status, 503)
        self.assertEqual(headers["Retry-After"], "2")
        self.assertIn(b"503", body)
        status, headers, _ = fetch(self.site.url("/__test/loop/4"))
        self.assertEqual((status, headers["Location"]), (302, "/__test/loop/5"))
        status, headers, body = fetch(self.site.url("/__test/bytes?n=1000&type=image/png"))
        self.assertEqual((status, headers["Content-Type"], len(body)), (200, "image/png", 1000))
        status, _, _ = fetch(self.site.url("/__test/etag?tag=v7"), {"If-None-Match": '"v7"'})
        self.assertEqual(status, 304)
        status, _, body = fetch(self.site.url("/__test/echo-headers"), {"X-Probe": "yes"})
        self.assertEqual(json.loads(body)["X-Probe"], "yes")
        status, _, _ = fetch(self.site.url("/no/such/page.html"))
        self.assertEqual(status, 404)

    def test_oracle_depths(self):
        res = oracle.crawl_oracle(self.root, self.site.origin, ["/"], max_depth=3)
        self.assertEqual(res.pages[self.site.url("/")], 0)
        self.assertTrue(res.too_deep, "the site must have pages beyond depth 3")
        self.assertTrue(max(res.unreachable.values()) >= 4)
        self.assertFalse(res.missing)
        self.assertIn("http://elsewhere.invalid/partners/", res.out_of_scope)
        self.assertTrue(all(d <= 3 for d in res.pages.values()))
        full = oracle.crawl_oracle(self.root, self.site.origin, ["/"], max_depth=None)
        self.assertEqual(len(full.pages), 30)
        self.assertEqual(len(res.pages) + len(res.unreachable), 30)
        # What the oracle says is reachable is really served.
        for url in list(res.pages)[:10]:
            self.assertEqual(fetch(url)[0], 200, url)


class RunScrapeTest(unittest.TestCase):
    """The runner, with a stand-in shell script as the scrape binary."""

    FAKE = """#!/bin/sh
case "$1" in
  echo) shift; echo "rank=${PMI_RANK:-none} args=$*"; echo oops >&2; exit 3 ;;
  hang) echo started; sleep 120 & echo $! > "$2"; wait ;;
esac
"""

    def setUp(self):
        tmp = scrapetest.TempDir()
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp
        fake = tmp.join("fake-scrape")
        with open(fake, "w") as f:
            f.write(self.FAKE)
        os.chmod(fake, 0o755)
        old = os.environ.get("SCRAPE_BIN")
        os.environ["SCRAPE_BIN"] = fake
        self.addCleanup(lambda: os.environ.pop("SCRAPE_BIN") if old is None
                        else os.environ.__setitem__("SCRAPE_BIN", old))

    def test_alone_and_under_mpiexec(self):
        r = scrapetest.run_scrape(["echo", "a b"], timeout=60)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (3, "rank=none args=a b\n", "oops\n"))
        r = scrapetest.run_scrape(["echo", "x"], np=2, timeout=120)
        self.assertEqual(sorted(r.stdout.splitlines()), ["rank=0 args=x", "rank=1 args=x"])

    def test_timeout_kills_tree(self):
        pidfile = self.tmp.join("child.pid")
        with self.assertRaises(scrapetest.ScrapeTimeout) as cm:
            scrapetest.run_scrape(["hang", pidfile], timeout=2)
        self.assertIn("started", cm.exception.stdout)
        with open(pidfile) as f:
            child = int(f.read())
        scrapetest.wait_until(lambda: not alive(child), timeout=10,
                              message="the sleeping child to die")

    def test_start_and_kill(self):
        pidfile = self.tmp.join("child.pid")
        p = scrapetest.start_scrape(["hang", pidfile])
        scrapetest.wait_until(lambda: os.path.exists(pidfile) and
                              "started" in scrapetest.scrape_output(p)[0], timeout=10)
        scrapetest.kill_group(p, signal.SIGTERM)
        self.assertEqual(p.wait(10), -signal.SIGTERM)


if __name__ == "__main__":
    unittest.main()
