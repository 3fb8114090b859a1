"""crawlcase.py - a unittest base class for crawl tests: one PostgreSQL server and one
generated site per test class, a fresh database per test, and helpers to run scrape and
read the results.  Used by tests/integration/test_*.py."""
import os
import unittest

import oracle
import scrapetest as st


class CrawlCase(unittest.TestCase):
    PAGES = 500          # size of the generated site
    SITE_DELAY_MS = 0    # delay the site server adds to every response

    @classmethod
    def setUpClass(cls):
        st.require_scrape_bin()
        cls.tmp = st.TempDir(prefix="crawltest-")
        cls.site_dir = st.generate_site(cls.tmp.join("site"), cls.PAGES)
        cls.pg = st.PgServer().start()
        cls.site = st.SiteServer(cls.site_dir, delay_ms=cls.SITE_DELAY_MS).start()
        cls.seeds = st.write_seeds(cls.tmp.join("seeds.txt"), [cls.site.url("/")])
        cls._dbn = 0

    @classmethod
    def tearDownClass(cls):
        cls.site.stop()
        cls.pg.stop()
        cls.tmp.cleanup()

    def setUp(self):
        type(self)._dbn += 1
        self.db = self.pg.create_database("t%d_%s" % (self._dbn, self._testMethodName[:40]))
        self.site.clear_log()

    # --- running ---------------------------------------------------------------------

    def args(self, *extra, seeds=None, job="t"):
        """The common arguments: seeds, database, job, no politeness delay."""
        return ["--seed", seeds or self.seeds, "--db", self.db, "--job", job,
                "--delay", "0", "--host-concurrency", "64", "--quiet",
                "--peer-timeout", "30s"] + list(extra)

    def crawl(self, *extra, np=3, timeout=300, expect=0, **kw):
        r = st.run_scrape(self.args(*extra, **kw), np=np, timeout=timeout)
        if expect is not None:
            self.assertEqual(r.returncode, expect,
                             "scrape exited %d\n--- stdout\n%s\n--- stderr\n%s"
                             % (r.returncode, r.stdout[-4000:], r.stderr[-6000:]))
        return r

    # --- reading ---------------------------------------------------------------------

    def q(self, sql, params=None):
        return self.pg.query(self.db, sql, params)

    def scalar(self, sql, params=None):
        rows = self.q(sql, params)
        return rows[0][0] if rows else None

    def oracle(self, max_depth=3):
        return oracle.crawl_oracle(self.site_dir, self.site.origin, ["/"], max_depth=max_depth)

    def assert_exactly_once(self, expected_urls):
        """Every expected URL fetched and stored exactly once, nothing else fetched."""
        rows = self.q("SELECT u.url, count(f.id) FROM urls u JOIN fetches f ON f.url_id = u.id "
                      "GROUP BY u.url")
        got = {url: int(n) for url, n in rows}
        twice = {u: n for u, n in got.items() if n != 1}
        self.assertEqual(twice, {}, "URLs stored more than once")
        missing = set(expected_urls) - set(got)
        extra = set(got) - set(expected_urls)
        self.assertEqual(missing, set(), "expected pages never fetched")
        self.assertEqual(extra, set(), "pages fetched that are out of scope or too deep")
        self.assertEqual(self.scalar("SELECT count(*) FROM urls WHERE state = 'leased'"), "0",
                         "leases left behind")

    def requests_by_path(self):
        counts = {}
        for entry in self.site.log():
            counts[entry["path"]] = counts.get(entry["path"], 0) + 1
        return counts


def env_flag(name):
    return os.environ.get(name, "") not in ("", "0")
