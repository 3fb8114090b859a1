"""Hostile web: the address guard (non-seed hosts only on public addresses, after DNS and on
redirects; --allow-private lifts it) and a site of broken, slow, huge and malformed answers
(tests/server/siteserver.py's hostile paths), each recorded with a clear reason while the good
pages beside them are extracted, in bounded worker memory."""
import os
import time
import unittest

import scrapetest as st
from sitecase import SiteCase, page, write_site  # noqa: F401


METADATA = "http://169.254.169.254/latest/meta-data/"


class HostileTest(SiteCase):
    PREFIX = "hostile-"

    def run_crawl(self, seeds, *extra, np=3, expect=5, timeout=300):
        path = st.write_seeds(self.tmp.join("seeds%d.txt" % self.n), seeds)
        t0 = time.time()
        r = st.run_scrape(["--seed", path, "--db", self.db, "--quiet", "--delay", "0",
                           "--host-concurrency", "64", "--peer-timeout", "30s"] + list(extra),
                          np=np, timeout=timeout)
        self.took = time.time() - t0
        if expect is not None:
            self.assertEqual(r.returncode, expect, r.stdout[-3000:] + r.stderr[-5000:])
        return r


    def urls(self):
        """url -> (state, error, last_status)"""
        return {u: (s, e or "", st_) for u, s, e, st_ in
                self.q("SELECT url, state, error, last_status FROM urls")}

    def worker_rss(self):
        return [(int(r), int(kb)) for r, kb in
                self.q("SELECT rank, max_rss_kb FROM run_workers WHERE max_rss_kb IS NOT NULL "
                       "ORDER BY rank")]

    # --- the address guard -------------------------------------------------------------

    def address_site(self):
        other = self.serve({"/index.html": page("other host"), "/robots.txt": ""},
                           bind="127.0.0.2")
        links = [other.url("/"),
                 "/__test/redirect?to=" + METADATA,
                 "/__test/redirect?to=file:///etc/passwd",
                 "/__test/redirect?to=gopher://127.0.0.1:70/1x",
                 "/ok.html"]
        seed = self.serve({"/index.html": page("seed", links), "/ok.html": page("ok")})
        return seed, other

    def guard_args(self):
        return ("--allow-domain", "127.0.0.1,127.0.0.2,169.254.169.254", "--max-attempts", "1",
                "--timeout", "5s", "--connect-timeout", "2s")

    def test_non_seed_private_addresses_are_refused(self):
        seed, other = self.address_site()
        self.run_crawl([seed.url("/")], *self.guard_args())
        got = self.urls()
        for u, v in sorted(got.items()):
            print("  %-60s %-7s %s" % (u, v[0], v[1]))
        # the seed host is loopback too, and allowed: it is a seed host
        self.assertEqual(got[seed.url("/")][0], "done")
        self.assertEqual(got[seed.url("/ok.html")][0], "done")
        # another loopback host: refused after DNS, recorded failed with the reason, never
        # contacted (not even for robots.txt)
        state, err, _ = got[other.url("/")]
        self.assertEqual(state, "failed")
        self.assertEqual(err, "refused: 127.0.0.2 is a loopback address "
                              "(--allow-private to allow)")
        self.assertEqual(other.log(), [], "the guard let a request through to 127.0.0.2")
        # a redirect to the cloud metadata address: the target is queued and refused before
        # any connection (nothing listens there: a timeout would mean it tried)
        self.assertEqual(got[seed.url("/__test/redirect?to=" + METADATA)][0], "done")
        state, err, _ = got[METADATA]
        self.assertEqual(state, "failed")
        self.assertEqual(err, "refused: 169.254.169.254 is a link-local address "
                              "(--allow-private to allow)")
        # redirects to other schemes: the redirecting URL fails, the target never exists
        for target in ("file:///etc/passwd", "gopher://127.0.0.1:70/1x"):
            state, err, _ = got[seed.url("/__test/redirect?to=" + target)]
            self.assertEqual(state, "failed", target)
            self.assertIn("redirect to an invalid URL", err, target)
            self.assertNotIn(target, got)
        self.assertFalse(any(u.startswith(("file:", "gopher:")) for u in got))
        # refusals are permanent: one attempt each, and no host was parked for them
        self.assertEqual(self.q("SELECT count(*) FROM urls WHERE state = 'queued'"), [("0",)])
        print("guarded crawl took %.1f s" % self.took)

    def test_allow_private_lifts_the_guard(self):
        seed, other = self.address_site()
        self.run_crawl([seed.url("/")], "--allow-private", *self.guard_args())
        got = self.urls()
        self.assertEqual(got[other.url("/")][0], "done")
        self.assertEqual(sorted(e["path"] for e in other.log()), ["/", "/robots.txt"])
        # the metadata address is now tried for real: whatever happens, it is not a refusal
        self.assertNotIn("refused", got[METADATA][1])

    def test_only_seed_file_hosts_are_exempt_in_later_runs(self):
        # A sitemap named in robots.txt (and a seed's redirect target) is stored at depth 0,
        # like a seed.  It must not make its host a seed host: the exemption from the guard
        # is for the seed file's hosts only, in this run and in every later one.
        other = self.serve({"/sitemap.xml": "<urlset><url><loc>/in-map.html</loc></url>"
                                            "</urlset>",
                            "/secret.html": page("secret"), "/in-map.html": page("map"),
                            "/robots.txt": ""}, bind="127.0.0.2")
        seed = self.serve({"/index.html": page("seed"),
                           "/more.html": page("more", [other.url("/secret.html")]),
                           "/robots.txt": "Sitemap: %s\n" % other.url("/sitemap.xml")})
        args = ("--sitemaps",) + self.guard_args()
        self.run_crawl([seed.url("/")], *args, expect=None)
        got = self.urls()
        self.assertEqual(got[other.url("/sitemap.xml")][0], "failed")
        self.assertIn("refused: 127.0.0.2", got[other.url("/sitemap.xml")][1])
        # run 2, a new seed page links to the private host
        self.run_crawl([seed.url("/"), seed.url("/more.html")], *args, expect=None)
        got = self.urls()
        self.assertEqual(got[seed.url("/more.html")][0], "done")
        state, err, _ = got[other.url("/secret.html")]
        self.assertEqual((state, err), ("failed", "refused: 127.0.0.2 is a loopback address "
                                                  "(--allow-private to allow)"))
        self.assertEqual(other.log(), [], "the guard let a request through to 127.0.0.2")
        # its attempts are on record as refusals, none with an HTTP answer
        self.assertEqual(self.q("SELECT count(*), count(http_status) FROM fetches "
                                "WHERE url LIKE :'p1' || '%' AND error LIKE 'refused: %'",
                                [other.url("/")]), [("2", "0")])
        # the seed file's URLs, and only they, are marked
        self.assertEqual(sorted(u for (u,) in self.q("SELECT url FROM urls WHERE seed")),
                         sorted([seed.url("/"), seed.url("/more.html")]))

    # --- a hostile site ----------------------------------------------------------------

    FAULTS = {
        # path: (state, substring of the error)
        "/__test/drip?n=100": ("failed", "timed out"),
        "/__test/hang": ("failed", "timed out"),
        "/__test/reset?n=200000": ("failed", "reset"),
        # a fresh connection reports "Empty reply"; a reused keep-alive one that
        # dies is retried by libcurl and reports "Connection died"
        "/__test/drop": ("failed", ("Empty reply", "Connection died")),
        "/__test/huge": ("failed", "larger than --max-body"),
        "/__test/huge?chunked=1": ("failed", "larger than --max-body"),
        "/__test/gzbomb": ("failed", "larger than --max-body"),
        "/__test/gzbomb?length=1": ("failed", "larger than --max-body"),
        "/__test/manylinks": ("failed", "larger than --max-body"),
        "/__test/badchunk": ("failed", "chunk"),
        "/__test/shortlength": ("failed", "bytes remaining"),
        "/__test/binary": ("done", ""),
        "/__test/badutf8": ("done", ""),
        "/__test/liecharset": ("done", ""),
        "/__test/deep": ("done", ""),
        "/__test/empty": ("done", ""),
        "/__test/calendar?date=2024-01-01": ("done", ""),
    }

    def test_hostile_site(self):
        good = ["/good/1.html", "/good/2.html"]
        files = {
            "/index.html": page("hostile home", good + list(self.FAULTS)),
            "/good/1.html": page("good one", ["/good/leaf.html"], "first good page"),
            "/good/2.html": page("good two", [], "second good page"),
            "/good/leaf.html": page("good leaf", [], "a leaf"),
        }
        site = self.serve(files)
        self.run_crawl([site.url("/")], "--timeout", "5s", "--connect-timeout", "3s",
                       "--max-body", "2M", "--max-attempts", "2", "--max-depth", "100",
                       "--max-query-variants", "20", timeout=400)
        got = self.urls()
        for u, v in sorted(got.items()):
            if "calendar" not in u and "title=l" not in u:
                print("  %-55s %-7s %s" % (u[len(site.origin):], v[0], v[1]))
        for path, (state, err) in self.FAULTS.items():
            s, e, _ = got[site.url(path)]
            self.assertEqual(s, state, "%s: %s %r" % (path, s, e))
            if isinstance(err, tuple):
                self.assertTrue(any(x in e for x in err), "%s: %r not in %r" % (path, e, err))
            elif err:
                self.assertIn(err, e, path)
            else:
                self.assertEqual(e, "", path)
        # the good pages beside them: fetched, parsed, their links followed
        for path in good + ["/good/leaf.html", "/"]:
            self.assertEqual(got[site.url(path)][0], "done", path)
        rec = self.q("SELECT count(*) FROM records r JOIN urls u ON u.id = r.url_id "
                     "WHERE u.url = :'p1' AND r.data::text LIKE :'p2'",
                     (site.url("/good/1.html"), "%good one%"))
        self.assertNotEqual(rec, [("0",)], "no record with the good page's title")
        # pages reached only through a broken page's links
        for title in ("after-badutf8", "after-liecharset", "after-deep"):
            u = site.url("/__test/page?title=" + title)
            print("  %s: %s" % (title, got.get(u, ("not found",))[0]))
        self.assertEqual(got[site.url("/__test/page?title=after-badutf8")][0], "done")
        # a lying charset: the header says UTF-16, the bytes are UTF-8 (parsers/decode.c reads
        # them as UTF-8, as the UTF-16 reading loses every '<'), so its link is followed
        self.assertEqual(got[site.url("/__test/page?title=after-liecharset")][0], "done")
        enc = dict(self.q("SELECT url, encoding FROM fetches WHERE url LIKE '%%/__test/%%'"))
        self.assertEqual(enc.get(site.url("/__test/liecharset")), "UTF-8")
        self.assertEqual(enc.get(site.url("/__test/badutf8")), "UTF-8")
        # the endless calendar stops at the trap guard
        cal = [u for u in got if "/__test/calendar" in u]
        print("calendar URLs: %d" % len(cal))
        self.assertLessEqual(len(cal), 21 + 1)
        rss = self.worker_rss()
        for rank, kb in rss:
            print("worker rank %d: peak RSS %.1f MiB" % (rank, kb / 1024.0))
        self.assertTrue(rss, "no worker memory figures in run_workers")
        for rank, kb in rss:
            self.assertLess(kb, 100 * 1024, "rank %d used %d KiB" % (rank, kb))
        print("hostile crawl took %.1f s" % self.took)


if __name__ == "__main__":
    unittest.main()
