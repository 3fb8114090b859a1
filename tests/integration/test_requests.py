"""Request options (docs/requests.md): --header, --cookie-file, --netrc-file and the content
encodings, each proved against the test server (tests/server/siteserver.py logs every
request's headers) in a real mpiexec crawl with a real PostgreSQL; and the secrets they
carry (header values, cookies, netrc passwords) appear nowhere: not in the runs table, not
in the output, not on any process's command line while the crawl runs."""
import json
import os
import unittest
import urllib.parse

import scrapetest as st
from sitecase import SiteCase, page

TOKEN = "tok-7f3a9c"          # a bearer token, in a --config file
COOKIE_A = "cookie-a-51d0"    # a cookie for 127.0.0.1 only
COOKIE_B = "cookie-b-82e4"    # a cookie for 127.0.0.2 only
PASSWORD = "pw-e6b1:x y"      # a netrc password (with a colon and a space)


class RequestsTest(SiteCase):
    PREFIX = "requests-"

    def private_file(self, name, text, mode=0o600):
        path = self.tmp.join("%s%d" % (name, self.n))
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def args(self, seeds, *extra):
        return ["--seed", st.write_seeds(self.tmp.join("seeds%d.txt" % self.n), seeds),
                "--db", self.db, "--job", "r", "--quiet", "--delay", "0",
                "--host-concurrency", "8", "--max-attempts", "1", "--timeout", "10s",
                "--peer-timeout", "30s", "--allow-private",
                "--allow-domain", "127.0.0.1,127.0.0.2"] + list(extra)

    def crawl(self, seeds, *extra, np=3, expect=(0,)):
        r = st.run_scrape(self.args(seeds, *extra), np=np, timeout=240)
        self.assertIn(r.returncode, expect, r.stdout[-3000:] + r.stderr[-5000:])
        return r

    def urls(self):
        return {u: (s, e or "") for u, s, e in self.q("SELECT url, state, error FROM urls")}

    def cookie_file(self, a_host, b_host):
        return self.private_file("cookies", "# Netscape HTTP Cookie File\n"
                                 "%s\tFALSE\t/\tFALSE\t0\tsid\t%s\n"
                                 "%s\tFALSE\t/\tFALSE\t2000000000\tother\t%s\n"
                                 % (a_host, COOKIE_A, b_host, COOKIE_B))

    def netrc_file(self, host):
        return self.private_file("netrc", "# credentials\nmachine %s\n  login crawler\n"
                                 "  password \"%s\"\n" % (host, PASSWORD))

    def assert_no_secret(self, text, what):
        for secret in (TOKEN, COOKIE_A, COOKIE_B, PASSWORD, "pw-e6b1"):
            self.assertNotIn(secret, text, "a secret in " + what)

    def test_headers_go_with_every_request(self):
        site = self.serve({"/index.html": page("seed", ["/a.html"]), "/a.html": page("a"),
                           "/robots.txt": ""})
        cfg = self.private_file("config", "header = Authorization: Bearer %s\n" % TOKEN)
        r = self.crawl([site.url("/")], "--config", cfg, "--header", "X-Crawl: yes",
                       "--header", "Accept-Language: de", "--header", "X-Empty:")
        log = site.log()
        self.assertEqual(sorted(e["path"] for e in log), ["/", "/a.html", "/robots.txt"])
        for e in log:
            self.assertEqual(e["headers"].get("Authorization"), "Bearer " + TOKEN, e["path"])
            self.assertEqual(e["headers"].get("X-Crawl"), "yes", e["path"])
            self.assertEqual(e["headers"].get("Accept-Language"), "de", e["path"])
            self.assertEqual(e["headers"].get("X-Empty"), "", e["path"])
            self.assertTrue(e["ua"].startswith("scrape/"), e["ua"])
        # the values are secret: not in the run's row (settings, command), not in the output
        settings = json.loads(self.q("SELECT settings FROM runs")[0][0])
        self.assertNotIn("header", settings)
        (command,) = self.q("SELECT command FROM runs")[0]
        self.assertIn("--header (hidden)", command)
        self.assertNotIn("X-Crawl: yes", command)
        self.assert_no_secret(json.dumps(settings) + command + r.stdout + r.stderr, "the run")
        # under mpiexec a --header on the command line is visible on every node: a warning
        self.assertIn("--header is on the command line", r.stderr)

    def test_single_process_mode_too(self):
        # without mpiexec the worker threads get the settings through the same WELCOME
        site = self.serve({"/index.html": page("seed", ["/a.html"]), "/a.html": page("a"),
                           "/robots.txt": ""})
        r = self.crawl([site.url("/")], "--header", "X-Crawl: local", "--cookie-file",
                       self.cookie_file("127.0.0.1", "127.0.0.2"), np=None)
        self.assertEqual(sorted(e["path"] for e in site.log()), ["/", "/a.html", "/robots.txt"])
        for e in site.log():
            self.assertEqual(e["headers"].get("X-Crawl"), "local", e["path"])
            self.assertEqual(e["headers"].get("Cookie"), "sid=" + COOKIE_A, e["path"])
        self.assertNotIn("--header is on the command line", r.stderr, "one process: no warning")

    def test_bad_headers_are_refused(self):
        site = self.serve({"/index.html": page("seed")})
        for bad, want in (("Host: example.com", "--header Host"),
                          ("User-Agent: x", "--user-agent"),
                          ("Cookie: a=b", "--cookie-file"),
                          ("no colon", "'Name: value'")):
            r = st.run_scrape(self.args([site.url("/")], "--header", bad), timeout=60)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(want, r.stderr)
        cfg = self.private_file("config", "header = X-A: 1\ncookies = sid=1\n")
        r = st.run_scrape(self.args([site.url("/")], "--config", cfg), timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--cookie-file", r.stderr)
        r = st.run_scrape(self.args([site.url("/")], "--credentials", "a b c"), timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--netrc-file", r.stderr)
        self.assertEqual(site.log(), [])

    def test_cookies_go_to_their_own_domain_only(self):
        other = self.serve({"/index.html": page("other", ["/o.html"]), "/o.html": page("o"),
                            "/robots.txt": ""}, bind="127.0.0.2")
        seed = self.serve({"/index.html": page("seed", ["/a.html", other.url("/")]),
                           "/a.html": page("a"), "/robots.txt": ""})
        self.crawl([seed.url("/")], "--cookie-file", self.cookie_file("127.0.0.1", "127.0.0.2"))
        self.assertEqual(sorted(e["path"] for e in seed.log()), ["/", "/a.html", "/robots.txt"])
        self.assertEqual(sorted(e["path"] for e in other.log()),
                         ["/", "/o.html", "/robots.txt"])
        for e in seed.log():
            self.assertEqual(e["headers"].get("Cookie"), "sid=" + COOKIE_A, e["path"])
        for e in other.log():
            self.assertEqual(e["headers"].get("Cookie"), "other=" + COOKIE_B, e["path"])
        for (text,) in self.q("SELECT settings::text || coalesce(command, '') FROM runs"):
            self.assert_no_secret(text, "the runs table")

    def test_cookies_set_during_the_run_are_sent_back(self):
        # one worker (np=2), so the page found on the Set-Cookie response is fetched with the
        # jar that took the cookie (each worker keeps its own jar)
        site = self.serve({"/index.html": page("seed", ["/__test/setcookie?name=fresh&value=new"]),
                           "/robots.txt": ""})
        self.crawl([site.url("/")], "--cookie-file", self.cookie_file("127.0.0.1", "127.0.0.9"),
                   np=2)
        by_path = {e["path"]: e for e in site.log()}
        self.assertIn("/__test/page?title=after-setcookie", by_path, sorted(by_path))
        self.assertEqual(by_path["/"]["headers"].get("Cookie"), "sid=" + COOKIE_A)
        after = by_path["/__test/page?title=after-setcookie"]["headers"].get("Cookie", "")
        self.assertEqual(sorted(after.split("; ")), ["fresh=new", "sid=" + COOKIE_A])

    def test_cookie_and_netrc_files_others_may_read_are_refused(self):
        site = self.serve({"/index.html": page("seed")})
        for opt, path in (("--cookie-file", self.cookie_file("127.0.0.1", "127.0.0.2")),
                          ("--netrc-file", self.netrc_file("127.0.0.1"))):
            os.chmod(path, 0o644)
            r = st.run_scrape(self.args([site.url("/")], opt, path), timeout=60)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("%s %s: group or others may access it (mode 0644)" % (opt, path),
                          r.stderr)
            self.assertIn("chmod 600 " + path, r.stderr)
            self.assert_no_secret(r.stdout + r.stderr, "the output")
        bad = self.private_file("badcookies", "127.0.0.1 FALSE / FALSE 0 sid %s\n" % COOKIE_A)
        r = st.run_scrape(self.args([site.url("/")], "--cookie-file", bad), timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(bad + ":1: not a Netscape cookie line", r.stderr)
        self.assert_no_secret(r.stdout + r.stderr, "the output")
        self.assertEqual(site.log(), [])

    def test_netrc_credentials_go_to_their_host_only(self):
        auth = "/__test/auth?user=crawler&pass=%s&links=/a.html" % PASSWORD.replace(
            ":", "%3A").replace(" ", "%20")
        digest = auth.replace("/a.html", "/d.html") + "&scheme=digest"
        other = self.serve({"/index.html": page("other"), "/robots.txt": ""}, bind="127.0.0.2")
        seed = self.serve({"/index.html": page("seed", [auth, digest,
                                                        other.url("/__test/auth?user="
                                                                  "crawler&pass=x")]),
                           "/a.html": page("a"), "/d.html": page("d"), "/robots.txt": ""})
        # a sitemap on the seed host that redirects to the other host's login, which asks for
        # the password: libcurl follows it, and must not answer with the seed host's password
        to = other.url("/__test/auth?user=crawler&pass=" + urllib.parse.quote(PASSWORD))
        with open(os.path.join(seed.root, "robots.txt"), "w") as f:
            f.write("Sitemap: %s\n" % seed.url("/__test/redirect?to=" + urllib.parse.quote(to)))
        # 127.0.0.2 answers 401 (no credentials for it): failed URLs, so exit 5 (partial)
        self.crawl([seed.url("/")], "--netrc-file", self.netrc_file("127.0.0.1"), "--sitemaps",
                   expect=(5,))
        got = self.urls()
        self.assertEqual(got[seed.url(auth)][0], "done", got)
        self.assertEqual(got[seed.url("/a.html")][0], "done", "the page behind the login's link")
        self.assertEqual(got[seed.url(digest)][0], "done", got)
        self.assertEqual(got[seed.url("/d.html")][0], "done", "the page behind the Digest login")
        authed = [e for e in seed.log() if e["path"].startswith("/__test/auth")]
        for path, scheme in ((auth, "Basic "), (digest, "Digest ")):
            last = [e for e in authed if e["path"] == path][-1]
            self.assertEqual(last["status"], 200, authed)
            self.assertTrue(last["headers"]["Authorization"].startswith(scheme), last)
        # 127.0.0.2 has no netrc entry: nothing is sent there, it stays at 401
        for e in other.log():
            self.assertNotIn("Authorization", e["headers"], e)
        self.assertEqual([e["status"] for e in other.log()
                          if e["path"].startswith("/__test/auth")], [401, 401])
        for (text,) in self.q("SELECT settings::text || coalesce(command, '') FROM runs"):
            self.assert_no_secret(text, "the runs table")

    def test_secrets_are_on_no_command_line_while_the_crawl_runs(self):
        site = st.SiteServer(self.tmp.join("slow%d" % self.n), delay_ms=300)
        os.makedirs(site.root, exist_ok=True)
        with open(os.path.join(site.root, "index.html"), "w") as f:
            f.write(page("seed", ["/p%d.html" % i for i in range(12)]))
        for i in range(12):
            with open(os.path.join(site.root, "p%d.html" % i), "w") as f:
                f.write(page("p%d" % i))
        site.start()
        self.addCleanup(site.stop)
        cfg = self.private_file("config", "header = Authorization: Bearer %s\n" % TOKEN)
        p = st.start_scrape(self.args([site.url("/")], "--config", cfg, "--concurrency", "1",
                                      "--cookie-file", self.cookie_file("127.0.0.1", "x.test"),
                                      "--netrc-file", self.netrc_file("127.0.0.1")), np=3)
        st.wait_until(lambda: len(site.log()) >= 2 or p.poll() is not None, timeout=120,
                      message="the crawl fetching")
        self.assertIsNone(p.poll(), "the crawl ended before its command lines were read")
        pids = [p.pid] + st.process_tree(p.pid)
        self.assertGreaterEqual(len(pids), 4, "mpiexec and three ranks")
        for pid in pids:
            cmd = "\0".join(st._cmdline(pid))
            self.assert_no_secret(cmd, "/proc/%d/cmdline: %s" % (pid, cmd))
        r = st.wait_scrape(p, 300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assert_no_secret(r.stdout + r.stderr, "the output")
        self.assertEqual(len([e for e in site.log() if e["path"].startswith("/p")]), 12)
        for e in site.log():  # the secrets did reach the server they were meant for
            self.assertEqual(e["headers"].get("Authorization"), "Bearer " + TOKEN)
            self.assertEqual(e["headers"].get("Cookie"), "sid=" + COOKIE_A)
        for (text,) in self.q("SELECT settings::text || coalesce(command, '') || "
                              "coalesce(island, '') FROM runs"):
            self.assert_no_secret(text, "the runs table")

    def test_content_encodings_are_decoded_and_parsed(self):
        site = self.serve({"/index.html": page("seed"), "/robots.txt": ""})
        encs = ("gzip", "deflate", "br", "zstd")
        seeds = [site.url("/__test/encoded?enc=" + e) for e in encs]
        self.crawl(seeds, "--max-depth", "1")
        got = self.urls()
        for enc in encs:
            self.assertEqual(got[site.url("/__test/encoded?enc=" + enc)][0], "done", enc)
            for i in (1, 2, 3):  # the links of the decoded page were found and fetched
                u = site.url("/__test/page?title=%s-%d" % (enc, i))
                self.assertEqual(got.get(u, ("missing",))[0], "done", u)
        ae = [e["headers"].get("Accept-Encoding", "") for e in site.log()]
        for enc in encs:
            self.assertIn(enc, ae[0], "Accept-Encoding offers " + enc)

    def test_max_body_applies_to_the_decoded_size(self):
        # 3 MB of HTML in a few kilobytes of gzip: the cap counts what libcurl decodes
        site = self.serve({"/index.html": page("seed"), "/robots.txt": ""})
        big = site.url("/__test/encoded?enc=gzip&pad=3000000")
        small = site.url("/__test/encoded?enc=deflate&pad=500000")
        self.crawl([big, small], "--max-body", "1M", "--max-depth", "0", expect=(0, 5))
        got = self.urls()
        self.assertEqual(got[big][0], "failed", got[big])
        self.assertIn("body larger than --max-body", got[big][1])
        sent = [e["bytes"] for e in site.log() if e["path"].startswith("/__test/encoded?enc=g")]
        self.assertLess(sent[0], 64 * 1024, "the body sent was small; decoded it was not")
        self.assertEqual(got[small][0], "done", got[small])


if __name__ == "__main__":
    unittest.main()
