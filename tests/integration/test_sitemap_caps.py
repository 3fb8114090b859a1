"""Sitemaps under caps: an endless tree of sitemap indexes (tests/server/siteserver.py
/__test/smtree/: every index lists 5 child indexes with generated names) must end in a
bounded number of sitemap fetches and queued URLs.

The site is one page with no links; its robots.txt names /__test/smtree/r.xml, and its
/sitemap.xml is an empty urlset.  The tree below r.xml (level 0) has 5^k indexes at level k.

Bounds (docs/internals/politeness.md, "Sitemaps"):
  - nested sitemaps are queued down to level 3 (SCR_SITEMAP_MAX_NESTING): 1 + 5 + 25 + 125
    = 156 tree indexes, plus /sitemap.xml;
  - --max-pages counts sitemap URLs like any other: the job never has more URLs than it;
  - --max-sitemaps-per-host (default 50): sitemaps of one host fetched in one run.
Before the caps, `--sitemaps --max-pages 5` on this tree did not end (17,770 sitemap fetches
and 71,081 URLs in 25 s were measured).
"""
import os
import sys
import time
import unittest

import scrapetest as st

TREE_LEVELS = 3               # SCR_SITEMAP_MAX_NESTING
TREE = sum(5 ** k for k in range(TREE_LEVELS + 1))   # 156


class SitemapCaps(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        st.require_scrape_bin()
        cls.tmp = st.TempDir(prefix="smcaps-")
        site = cls.tmp.join("site")
        os.makedirs(site)
        with open(os.path.join(site, "index.html"), "w") as f:
            f.write("<!DOCTYPE html><html><head><title>home</title></head>"
                    "<body><p>no links</p></body></html>\n")
        with open(os.path.join(site, "robots.txt"), "w") as f:
            f.write("User-agent: *\nDisallow:\nSitemap: @ORIGIN@/__test/smtree/r.xml\n")
        with open(os.path.join(site, "sitemap.xml"), "w") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>\n')
        cls.pg = st.PgServer().start()
        cls.site = st.SiteServer(site).start()
        cls.seeds = st.write_seeds(cls.tmp.join("seeds.txt"), [cls.site.url("/")])
        cls._n = 0

    @classmethod
    def tearDownClass(cls):
        cls.site.stop()
        cls.pg.stop()
        cls.tmp.cleanup()

    def setUp(self):
        type(self)._n += 1
        self.db = self.pg.create_database("sm%d" % self._n)
        self.site.clear_log()

    def crawl(self, *extra, timeout=120):
        args = ["--seed", self.seeds, "--db", self.db, "--job", "t", "--delay", "0",
                "--host-concurrency", "64", "--quiet", "--sitemaps"] + list(extra)
        t0 = time.monotonic()
        try:
            r = st.run_scrape(args, np=3, timeout=timeout)
        except st.ScrapeTimeout as e:
            self.fail("the crawl did not end in %d s: %d sitemap fetches, %s URLs so far\n%s"
                      % (timeout, self.sitemap_fetches(), self.urls(), e.stderr[-2000:]))
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 0, "exit %d\n%s" % (r.returncode, r.stderr[-4000:]))
        return r, took

    def sitemap_fetches(self):
        return sum(1 for e in self.site.log()
                   if e["path"].startswith("/__test/smtree/") or e["path"] == "/sitemap.xml")

    def urls(self):
        return int(self.pg.scalar(self.db, "SELECT count(*) FROM urls"))

    def q(self, sql):
        return self.pg.query(self.db, sql)

    def report(self, label, took):
        sys.stderr.write("\n  %s: %.1f s, %d sitemap fetches, %d URLs queued\n"
                         % (label, took, self.sitemap_fetches(), self.urls()))

    def test_max_pages_bounds_an_endless_sitemap_tree(self):
        _, took = self.crawl("--max-pages", "5")
        self.report("--max-pages 5", took)
        # the seed, /sitemap.xml and r.xml, then 2 of r.xml's 5 children fill the job to 5;
        # those two are fetched and add nothing more
        self.assertEqual(self.urls(), 5)
        self.assertEqual(self.sitemap_fetches(), 4)
        self.assertEqual(self.q("SELECT kind, count(*) FROM urls GROUP BY 1 ORDER BY 1"),
                         [("page", "1"), ("sitemap", "4")])

    def test_nesting_is_bounded_at_three_levels(self):
        _, took = self.crawl("--max-sitemaps-per-host", "0")
        self.report("no per-host cap", took)
        # the whole tree down to level 3, each index once, and /sitemap.xml
        self.assertEqual(self.sitemap_fetches(), TREE + 1)
        self.assertEqual(self.urls(), 1 + 1 + TREE)
        levels = dict(self.q("SELECT hops, count(*) FROM urls WHERE kind = 'sitemap' "
                             "AND url LIKE '%/smtree/%' GROUP BY 1"))
        self.assertEqual(levels, {str(k): str(5 ** k) for k in range(TREE_LEVELS + 1)})
        self.assertEqual(self.q("SELECT count(*) FROM urls WHERE state <> 'done'"), [("0",)])

    def test_sitemaps_per_host_are_capped_per_run(self):
        _, took = self.crawl()
        self.report("--max-sitemaps-per-host 50 (default)", took)
        self.assertEqual(self.sitemap_fetches(), 50)
        urls = self.urls()
        self.assertLessEqual(urls, 1 + 1 + TREE)
        # what was not fetched waits, queued, for a later run
        done = int(self.pg.scalar(self.db, "SELECT count(*) FROM urls WHERE kind = 'sitemap' "
                                           "AND state = 'done'"))
        self.assertEqual(done, 50)
        waiting = self.q("SELECT state, error FROM urls WHERE kind = 'sitemap' "
                         "AND state <> 'done'")
        self.assertEqual(len(waiting), urls - 1 - 50)
        for state, error in waiting:
            self.assertEqual(state, "queued")
            self.assertTrue(error is None or "--max-sitemaps-per-host" in error, error)
        self.assertEqual(self.q("SELECT max(hops) FROM urls WHERE kind = 'sitemap'"),
                         [(str(TREE_LEVELS),)])


if __name__ == "__main__":
    unittest.main()
