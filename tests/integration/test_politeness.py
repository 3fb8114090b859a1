"""Politeness and correctness, proven from the web server's own request log: cluster-wide
per-host spacing and concurrency with 3 workers and two hosts, robots.txt (disallow and
Crawl-delay), retries with backoff and Retry-After, redirect chains, sitemaps."""
import gzip
import json
import os
import time
import unittest

import scrapetest as st
from sitecase import SiteCase, page, write_site


def chain_site(n):
    """/ links to /p/0 .. /p/n-1; every page links to every other (one host, n+1 pages)."""
    links = ["/p/%d.html" % i for i in range(n)]
    files = {"/index.html": page("home", links)}
    for i in range(n):
        files["/p/%d.html" % i] = page("p%d" % i, links)
    return files


class PolitenessTest(SiteCase):
    PREFIX = "polite-"

    def run_crawl(self, seeds, *extra, np=4, expect=0, timeout=300):
        path = st.write_seeds(self.tmp.join("seeds%d.txt" % self.n), seeds)
        r = st.run_scrape(["--seed", path, "--db", self.db, "--quiet"] + list(extra), np=np,
                          timeout=timeout)
        if expect is not None:
            self.assertEqual(r.returncode, expect, r.stdout[-3000:] + r.stderr[-5000:])
        return r

    def gaps(self, srv):
        starts = sorted(e["t_start"] for e in srv.log())
        return [b - a for a, b in zip(starts, starts[1:])]

    # --- cluster-wide per-host limits --------------------------------------------------

    def test_two_hosts_three_workers_respect_delay_and_concurrency(self):
        a = self.serve(chain_site(12), bind="127.0.0.1")
        b = self.serve(chain_site(12), bind="127.0.0.2")
        t0 = time.time()
        self.run_crawl([a.url("/"), b.url("/")], "--delay", "400ms", "--concurrency", "8")
        took = time.time() - t0
        for srv in (a, b):
            log = srv.log()
            self.assertEqual(len(log), 14, "robots.txt + 13 pages on %s" % srv.netloc)
            gaps = self.gaps(srv)
            print("%s: %d requests, smallest gap %.3f s, max in flight %d"
                  % (srv.netloc, len(log), min(gaps), max(e["inflight"] for e in log)))
            self.assertGreaterEqual(min(gaps), 0.400, "two requests closer than --delay")
            self.assertEqual(max(e["inflight"] for e in log), 1)
        # the hosts proceed in parallel: 13 gaps of 0.4 s each, not 26
        self.assertLess(took, 13 * 0.4 * 2, "hosts were not crawled in parallel")

    def test_host_concurrency_two(self):
        slow = {"/index.html": page("home", ["/__test/slow?ms=300&i=%d" % i for i in range(8)])}
        a = self.serve(slow)
        self.run_crawl([a.url("/")], "--delay", "0", "--host-concurrency", "2",
                       "--concurrency", "8")
        log = a.log()
        self.assertEqual(len(log), 10)
        self.assertEqual(max(e["inflight"] for e in log), 2, "never more than 2 in flight")

    # --- a worker whose slots were all busy when it asked --------------------------------

    @staticmethod
    def sites(n):
        """n hosts (127.0.0.1, 127.0.0.2, ...), each a 21-page site with an empty robots.txt:
        more hosts than slots, so a worker could be sent a URL it has no free slot for."""
        sites = []
        for i in range(n):
            files = chain_site(20)
            files["/robots.txt"] = ""
            sites.append(("127.0.0.%d" % (i + 1), files))
        return sites

    def crawl_without_stalling(self, sites, *extra):
        """Crawls the sites, each served with 30 ms per response, and checks that the crawl
        ends, that every page is fetched once, and that every task started when its BATCH
        arrived (fetches.wait_ms): with a delay, no URL may wait in a worker's queue."""
        servers = []
        for bind, files in sites:
            root = write_site(self.tmp.join("site%d_%d" % (self.n, len(self.servers))), files)
            srv = st.SiteServer(root, bind=bind, delay_ms=30).start()
            self.servers.append(srv)
            servers.append(srv)
        try:
            self.run_crawl([srv.url("/") for srv in servers], *extra, np=3, timeout=60)
        except st.ScrapeTimeout as e:
            self.fail("the crawl stalled: %s" % e)
        for (bind, files), srv in zip(sites, servers):
            paths = [e["path"] for e in srv.log()]
            self.assertEqual(sorted(paths), sorted(set(paths)), "a page fetched twice")
            self.assertEqual(len(paths), len(files), "robots.txt and every page on " + bind)
            self.assertEqual(max(e["inflight"] for e in srv.log()), 1)
        waits = self.q("SELECT max(wait_ms) FROM fetches")[0][0]
        # a task queued behind a transfer waits at least one 30 ms response
        self.assertLess(int(waits), 15, "a URL of a host with a delay waited in a queue")
        self.assertEqual(self.q("SELECT count(*) FROM urls WHERE state <> 'done'"), [("0",)])
        return servers

    def test_one_slot_per_worker_with_a_delay_does_not_stall(self):
        """--concurrency 1 --delay 20ms: a worker asks while its one slot is busy (REQUEST
        now = 0, later = 1) and waits for that REQUEST's BATCH; rank 0 may send URLs of a
        host with a delay only for free slots.  Before, the crawl stalled after the first
        page: the REQUEST still said 0 free slots when the transfer ended.  Rank 0 now counts
        the worker's free slots from what it holds (dispatch.c, scr_dispatch_free_now)."""
        for srv in self.crawl_without_stalling(self.sites(2), "--concurrency", "1",
                                               "--delay", "20ms"):
            self.assertGreaterEqual(min(self.gaps(srv)), 0.020,
                                    "two requests closer than --delay on " + srv.netloc)

    def test_two_slots_three_hosts_with_a_delay_do_not_stall(self):
        """--concurrency 2 --host-concurrency 1 --delay 50ms with three hosts: a worker given
        URLs of two hosts has both slots busy and asks with now = 0, as above."""
        for srv in self.crawl_without_stalling(self.sites(3), "--concurrency", "2",
                                               "--delay", "50ms", "--host-concurrency", "1"):
            self.assertGreaterEqual(min(self.gaps(srv)), 0.050,
                                    "two requests closer than --delay on " + srv.netloc)

    # --- robots.txt --------------------------------------------------------------------

    def test_robots_disallow_is_obeyed_and_recorded(self):
        files = {
            "/robots.txt": "User-agent: *\nDisallow: /private/\n\nUser-agent: scrape\n"
                           "Disallow: /secret\nAllow: /secret/ok\n",
            "/index.html": page("home", ["/private/a.html", "/public.html", "/secret/x.html",
                                         "/secret/ok.html"]),
            "/private/a.html": page("private"),
            "/public.html": page("public"),
            "/secret/x.html": page("x"),
            "/secret/ok.html": page("ok"),
        }
        a = self.serve(files)
        self.run_crawl([a.url("/")], "--delay", "0")
        paths = {e["path"] for e in a.log()}
        # the scrape group applies (most specific), not the * group
        self.assertNotIn("/secret/x.html", paths)
        self.assertIn("/secret/ok.html", paths)
        self.assertIn("/private/a.html", paths)
        state = dict(self.q("SELECT url, state || ':' || coalesce(error, '') FROM urls"))
        self.assertEqual(state[a.url("/secret/x.html")], "skipped:disallowed by robots.txt")
        self.assertEqual(self.q("SELECT count(*) FROM fetches f JOIN urls u ON u.id = f.url_id "
                                "WHERE u.state = 'skipped'"), [("0",)])
        self.assertEqual(self.q("SELECT robots_status FROM hosts"), [("200",)])

    def test_crawl_delay_is_honoured(self):
        files = chain_site(4)
        files["/robots.txt"] = "User-agent: *\nCrawl-delay: 1\n"
        a = self.serve(files)
        self.run_crawl([a.url("/")], "--delay", "100ms")
        gaps = self.gaps(a)
        self.assertEqual(len(a.log()), 6)
        self.assertGreaterEqual(min(gaps), 1.0, gaps)

    def test_robots_404_allows_everything(self):
        a = self.serve(chain_site(3))  # no robots.txt: 404
        self.run_crawl([a.url("/")], "--delay", "0")
        self.assertEqual(len(a.log()), 5, "robots.txt (404) and the 4 pages")
        self.assertEqual(self.q("SELECT count(*) FROM urls WHERE state = 'done'"), [("4",)])

    def test_unreachable_robots_blocks_the_host_until_a_later_run(self):
        """robots.txt cannot be fetched: the host is treated as fully disallowed, asked again
        with backoff, then its URLs wait in the queue for a later run with the reason."""
        port = st.free_port()
        seed = "http://127.0.0.1:%d/" % port
        r = self.run_crawl([seed], "--delay", "0", "--max-attempts", "2", "--connect-timeout",
                           "1s", "--max-retry-wait", "0")
        self.assertIn("1 URLs wait for a later run", r.stdout)
        rows = self.q("SELECT state, error FROM urls")
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][0], "queued")
        # the reason counts the runs that found the host down (outages.h)
        self.assertRegex(rows[0][1], r"^host unreachable in 1 run since \S+Z: ")
        self.assertEqual(self.q("SELECT count(*) FROM fetches"), [("0",)], "no page was fetched")

    def test_parked_host_urls_are_put_back_not_failed(self):
        """8 transient errors in a row park the host for the rest of the run: its URLs still
        in the pool, and any leased later, go back to `queued` with the next try an hour
        away and their attempts unchanged.  They wait for a later run; none is `failed`."""
        links = ["/__test/status/503?n=%d" % i for i in range(24)]
        a = self.serve({"/index.html": page("home", links)})
        r = self.run_crawl([a.url("/")], "--delay", "0", "--host-concurrency", "8",
                           "--concurrency", "8", "--max-attempts", "5", "--max-retry-wait", "0",
                           expect=None, timeout=400)
        self.assertIn("host parked after 8 errors in a row", r.stderr)
        rows = self.q("SELECT state, attempts::text, coalesce(error, ''),"
                      " (next_attempt_at > now() + interval '50 minutes')::text"
                      " FROM urls WHERE url LIKE '%status/503%'")
        self.assertEqual(len(rows), 24)
        self.assertEqual([x for x in rows if x[0] != "queued"], [], "no URL of a parked host "
                         "is failed (or anything but queued)")
        parked = [x for x in rows if x[2].startswith("host parked after 8 errors in a row")]
        self.assertGreaterEqual(len(parked), 1, rows)
        for state, attempts, error, later in parked:
            self.assertEqual(later, "true", "next try after the park time")
        fetched = set(e["path"] for e in a.log() if e["path"].startswith("/__test/status"))
        never = self.q("SELECT attempts::text FROM urls u WHERE url LIKE '%status/503%' AND"
                       " NOT EXISTS (SELECT 1 FROM fetches f WHERE f.url_id = u.id)")
        self.assertGreaterEqual(len(never), 1, "some URLs were put back without a fetch")
        self.assertEqual(set(x[0] for x in never), {"0"}, "attempts unchanged by put-back")
        self.assertLessEqual(len(fetched), 24)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-5000:])
        self.assertIn("wait for a later run", r.stdout)

    # --- retries, Retry-After, permanent errors ------------------------------------------

    def test_transient_errors_are_retried_then_failed(self):
        a = self.serve({"/index.html": page("home", ["/__test/status/503", "/__test/status/404"])})
        r = self.run_crawl([a.url("/")], "--delay", "0", "--max-attempts", "3", expect=5)
        counts = {}
        for e in a.log():
            counts[e["path"]] = counts.get(e["path"], 0) + 1
        self.assertEqual(counts["/__test/status/503"], 3, "retried up to --max-attempts")
        self.assertEqual(counts["/__test/status/404"], 1, "a 404 is not retried")
        rows = dict((u, (s, a_, e)) for u, s, a_, e in self.q(
            "SELECT url, state, attempts::text, error FROM urls WHERE url LIKE '%status%'"))
        self.assertEqual(rows[a.url("/__test/status/503")], ("failed", "3", "HTTP 503"))
        self.assertEqual(rows[a.url("/__test/status/404")], ("failed", "1", "HTTP 404"))
        self.assertEqual(self.q("SELECT count(*) FROM fetches f JOIN urls u ON u.id = f.url_id "
                                "WHERE u.url LIKE '%status/503'"), [("3",)])
        self.assertIn("failed 2", r.stdout)
        # the retries were spaced by the backoff (2 s, then 4 s) at least
        t = sorted(e["t_start"] for e in a.log() if e["path"] == "/__test/status/503")
        self.assertGreaterEqual(t[1] - t[0], 2.0)
        self.assertGreaterEqual(t[2] - t[1], 4.0)

    def test_retry_after_pushes_the_host(self):
        a = self.serve({"/index.html": page("home", ["/__test/status/429?retry_after=3",
                                                     "/about.html"]),
                        "/about.html": page("about")})
        self.run_crawl([a.url("/")], "--delay", "0", "--max-attempts", "2", expect=5)
        log = sorted(a.log(), key=lambda e: e["t_start"])
        t429 = [e["t_start"] for e in log if e["path"].startswith("/__test/status/429")]
        self.assertEqual(len(t429), 2)
        after = [e["t_start"] for e in log if e["t_start"] > t429[0]]
        self.assertGreaterEqual(min(after) - t429[0], 3.0,
                                "the host was asked again before its Retry-After")

    # --- redirects ---------------------------------------------------------------------

    def test_redirect_chain_ends_and_known_targets_are_not_fetched_twice(self):
        a = self.serve({"/index.html": page("home", ["/__test/loop/0", "/__test/redirect?to=/b.html",
                                                     "/b.html"]),
                        "/b.html": page("b")})
        self.run_crawl([a.url("/")], "--delay", "0", "--max-redirects", "5", expect=5)
        counts = {}
        for e in a.log():
            counts[e["path"]] = counts.get(e["path"], 0) + 1
        self.assertEqual(counts["/b.html"], 1, "a redirect target already known is fetched once")
        loops = [p for p in counts if p.startswith("/__test/loop/")]
        self.assertEqual(sorted(loops), ["/__test/loop/%d" % i for i in range(6)])
        last = self.q("SELECT state, error FROM urls WHERE url = :'p1'", [a.url("/__test/loop/5")])
        self.assertEqual(last, [("failed", "more than 5 redirects in a row")])
        src = self.q("SELECT f.http_status, f.final_url FROM fetches f JOIN urls u "
                     "ON u.id = f.url_id WHERE u.url = :'p1'", [a.url("/__test/redirect?to=/b.html")])
        self.assertEqual(src, [("302", a.url("/b.html"))])

    # --- sitemaps ----------------------------------------------------------------------

    def test_sitemaps_from_robots_and_gzip_index(self):
        pages = ["/s/%d.html" % i for i in range(6)]
        files = {"/index.html": page("home"), "/robots.txt":
                 "User-agent: *\nAllow: /\nSitemap: @ORIGIN@/maps/index.xml\n"}
        for p in pages:
            files[p] = page(p)
        files["/maps/index.xml"] = ('<?xml version="1.0"?><sitemapindex xmlns="http://www.'
                                    'sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>'
                                    '@ORIGIN@/maps/a.xml.gz</loc></sitemap></sitemapindex>')
        files["/sitemap.xml"] = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/'
                                 'schemas/sitemap/0.9"><url><loc>@ORIGIN@/s/0.html</loc></url>'
                                 '<url><loc>http://elsewhere.invalid/x</loc></url></urlset>')
        a = self.serve(files)
        urlset = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/'
                  '0.9">%s</urlset>' % "".join("<url><loc>%s</loc></url>" % a.url(p)
                                               for p in pages[1:]))
        write_site(os.path.dirname(a.url("/") and self.tmp.join("site%d_0" % self.n, "x")),
                   {"/maps/a.xml.gz": gzip.compress(urlset.encode())})
        self.run_crawl([a.url("/")], "--delay", "0", "--sitemaps", "--max-depth", "1")
        paths = {e["path"] for e in a.log()}
        for p in pages:
            self.assertIn(p, paths, "a page listed only in a sitemap was not fetched")
        kinds = dict(self.q("SELECT kind, count(*)::text FROM urls GROUP BY kind"))
        self.assertEqual(kinds["sitemap"], "3")
        self.assertEqual(self.q("SELECT count(*) FROM urls WHERE host <> :'p1'", [a.netloc]),
                         [("0",)], "sitemap URLs outside the scope entered the frontier")


if __name__ == "__main__":
    unittest.main()
