"""Proxies: libcurl would honour http_proxy, HTTPS_PROXY and ALL_PROXY from the environment,
and mpiexec hands the environment to every rank, so a proxy variable would send the whole
crawl through a proxy nobody asked for, with the address guard checking the proxy's address
instead of the target's.  scrape ignores those variables; --proxy URL (credentials from
--proxy-user-file) sends the fetches through a proxy, the guard still checks each target's
own addresses, and the run records the proxy without its credentials.

A logging proxy (tests/server/proxy.py) runs in this process; the crawls are real mpiexec runs
against a real PostgreSQL and site servers."""
import json
import os
import sys
import unittest

import scrapetest as st
from sitecase import SiteCase, page

sys.path.insert(0, os.path.join(st.repo_root(), "tests", "server"))
from proxy import LoggingProxy  # noqa: E402

SITEMAP = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
           '<url><loc>http://127.0.0.2/x.html</loc></url></urlset>')

PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
              "ALL_PROXY", "no_proxy", "NO_PROXY")


class ProxyTest(SiteCase):
    PREFIX = "proxy-"

    def setUp(self):
        super().setUp()
        self.proxies = []

    def tearDown(self):
        for p in self.proxies:
            p.stop()
        super().tearDown()

    def proxy(self, **kw):
        p = LoggingProxy(**kw).start()
        self.proxies.append(p)
        return p

    def site(self, robots=""):
        other = self.serve({"/index.html": page("other host"), "/robots.txt": "",
                            "/sitemap.xml": SITEMAP}, bind="127.0.0.2")
        seed = self.serve({"/index.html": page("seed", ["/a.html", "/b.html", other.url("/")]),
                           "/a.html": page("a"), "/b.html": page("b"),
                           "/robots.txt": ""})
        with open(os.path.join(seed.root, "robots.txt"), "w") as f:
            f.write(robots.replace("SEED", seed.url("/")).replace("OTHER", other.url("/")))
        return seed, other

    def crawl(self, seed, *extra, env=None, expect=None):
        seeds = st.write_seeds(self.tmp.join("seeds%d.txt" % self.n), [seed.url("/")])
        e = {k: None for k in PROXY_VARS}
        e.update(env or {})
        r = st.run_scrape(["--seed", seeds, "--db", self.db, "--job", "p", "--quiet",
                           "--delay", "0", "--host-concurrency", "8", "--max-attempts", "1",
                           "--timeout", "5s", "--connect-timeout", "2s",
                           "--peer-timeout", "30s",
                           "--allow-domain", "127.0.0.1,127.0.0.2"] + list(extra),
                          np=3, env=e, timeout=240)
        if expect is not None:
            self.assertIn(r.returncode, expect, r.stdout[-3000:] + r.stderr[-5000:])
        return r

    def urls(self):
        return {u: (s, e or "") for u, s, e in self.q("SELECT url, state, error FROM urls")}

    def test_proxy_variables_in_the_environment_are_ignored(self):
        seed, other = self.site()
        p = self.proxy()
        env = {k: p.url for k in ("http_proxy", "HTTPS_PROXY", "ALL_PROXY")}
        self.crawl(seed, env=env, expect=(0, 5))
        self.assertEqual(p.log(), [], "a proxy named only in the environment was used")
        got = self.urls()
        for path in ("/", "/a.html", "/b.html"):
            self.assertEqual(got[seed.url(path)][0], "done", path)
        self.assertEqual(sorted(e["path"] for e in seed.log()),
                         ["/", "/a.html", "/b.html", "/robots.txt"])

    def test_with_proxy_every_fetch_goes_through_it_and_private_targets_stay_refused(self):
        # a sitemap on the seed host that redirects to the other (loopback) host: the
        # redirect is checked before libcurl follows it through the proxy
        seed, other = self.site(robots="Sitemap: SEED__test/redirect?to=OTHERsitemap.xml\n")
        p = self.proxy(auth="crawler:s3cr:et")
        creds = self.tmp.join("proxy-user%d" % self.n)
        with open(creds, "w") as f:
            f.write("crawler:s3cr:et\n")
        os.chmod(creds, 0o600)
        self.crawl(seed, "--proxy", p.url, "--proxy-user-file", creds, "--sitemaps",
                   expect=(5,))
        got = self.urls()
        for path in ("/", "/a.html", "/b.html"):
            self.assertEqual(got[seed.url(path)][0], "done", path)
        self.assertEqual(int(self.q("SELECT count(*) FROM fetches WHERE http_status = 200")[0][0]),
                         3)
        targets = sorted(e["target"] for e in p.log())
        for x in ("/", "/a.html", "/b.html", "/robots.txt"):
            self.assertIn(seed.url(x), targets)
        self.assertTrue(any("/__test/redirect" in t for t in targets), targets)
        self.assertTrue(all(t.startswith(seed.url("/")) for t in targets), targets)
        self.assertTrue(all(e["auth"] == "crawler:s3cr:et" for e in p.log()), p.log())
        self.assertEqual(sorted(e["path"] for e in seed.log() if e["path"].endswith(".html")
                                or e["path"] == "/"), ["/", "/a.html", "/b.html"])
        # a non-seed host on a loopback address: still refused, the proxy never asked for it
        state, err = got[other.url("/")]
        self.assertEqual(state, "failed")
        self.assertEqual(err, "refused: 127.0.0.2 is a loopback address "
                              "(--allow-private to allow)")
        self.assertEqual(other.log(), [])
        # the run records the proxy, never its credentials
        settings = json.loads(self.q("SELECT settings FROM runs")[0][0])
        self.assertEqual(settings["proxy"], p.url)
        self.assertNotIn("proxy-user", settings)
        for (text,) in self.q("SELECT settings::text || coalesce(command, '') FROM runs"):
            self.assertNotIn("s3cr", text)

    def test_credentials_are_refused_on_the_command_line(self):
        seed, _ = self.site()
        r = self.crawl(seed, "--proxy", "http://u:pw@127.0.0.1:9")
        self.assertEqual(r.returncode, 2, r.stderr[-2000:])
        self.assertIn("--proxy-user-file", r.stderr)
        r = self.crawl(seed, "--proxy-user", "u:pw")
        self.assertEqual(r.returncode, 2, r.stderr[-2000:])
        r = self.crawl(seed, "--proxy", "ftp://127.0.0.1:9")
        self.assertEqual(r.returncode, 2, r.stderr[-2000:])


if __name__ == "__main__":
    unittest.main()
