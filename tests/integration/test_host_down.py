"""A site that is down, run after run, under mpiexec as cron would: each run tries it again and
warns with the host, since when, in how many runs and the error; after --host-down-runs runs
and --host-down-after since the first, its URLs fail with that reason and the run exits 5
(the summary and `scrape report` say so).  A host that answers again ends its outage."""
import json
import re

import crawlcase
import scrapetest as st


class HostDownTest(crawlcase.CrawlCase):
    PAGES = 20

    def setUp(self):
        super().setUp()
        self.port = st.free_port()
        self.down = "127.0.0.1:%d" % self.port
        self.down_seeds = st.write_seeds(
            self.tmp.join("down%d.txt" % self._dbn),
            [self.site.url("/"), "http://%s/" % self.down, "http://%s/about.html" % self.down,
             "http://%s/contact.html" % self.down])

    def run_once(self, *extra, expect):
        r = st.run_scrape(self.args("--max-depth", "0", "--max-attempts", "2",
                                    "--host-down-runs", "3", *extra, seeds=self.down_seeds),
                          np=2, timeout=180)
        self.assertEqual(r.returncode, expect,
                         "--- stdout\n%s\n--- stderr\n%s" % (r.stdout, r.stderr[-4000:]))
        return r

    def down_urls(self):
        return self.q("SELECT state, attempts, error FROM urls WHERE host = :'p1' ORDER BY url",
                      [self.down])

    def test_a_down_site_fails_after_three_runs_and_an_hour(self):
        since = None
        for n in (1, 2, 3):
            # run 3 has been down in 3 runs, but not for --host-down-after (1 h by default)
            r = self.run_once(expect=0)
            m = re.search(r"WARN %s unreachable in %d runs? since (\S+Z) \(robots\.txt: "
                          r"([^)]*)\); its URLs wait for the next run, and fail once it has been "
                          r"down in 3 runs and for 1h00m" % (re.escape(self.down), n), r.stderr)
            self.assertIsNotNone(m, r.stderr[-3000:])
            since = since or m.group(1)
            self.assertEqual(m.group(1), since, "the outage keeps its start")
            self.assertIn("Couldn't connect to server", m.group(2))
            self.assertIn("hosts unreachable: 1 (robots.txt got no answer)", r.stdout)
            urls = self.down_urls()
            self.assertEqual([u[0] for u in urls], ["queued"] * 3)
            self.assertEqual([u[1] for u in urls], ["0"] * 3)
            for u in urls:
                self.assertTrue(u[2].startswith("host unreachable in %d run" % n), u)
            self.assertEqual(self.q("SELECT runs, to_char(since AT TIME ZONE 'UTC', "
                                    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM host_outages"),
                             [(str(n), since)])
            if n > 1:
                self.assertIn("1 hosts were unreachable in earlier runs: trying them again "
                              "(3 URLs made due)", r.stderr)
        # the working site was crawled in run 1 and is not touched
        self.assertEqual(self.scalar("SELECT count(*) FROM urls WHERE host <> :'p1' AND "
                                     "state <> 'done'", [self.down]), "0")
        r = self.run_once("--host-down-after", "0", expect=5)
        self.assertRegex(r.stderr, r"WARN %s unreachable in 4 runs since %s \(robots\.txt: [^)]*"
                         r"\): its URLs fail \(--host-down-runs 3, --host-down-after 0s\): 3 "
                         r"failed now" % (re.escape(self.down), since))
        reason = "host unreachable in 4 runs since %s: " % since
        self.assertIn("URLs failed for good: %s: %s" % (self.down, reason), r.stdout)
        self.assertRegex(r.stdout, r"errors 0 \(failed 3,")
        urls = self.down_urls()
        self.assertEqual([u[0] for u in urls], ["failed"] * 3)
        self.assertEqual([u[1] for u in urls], ["0"] * 3, "never fetched: no attempt counted")
        for u in urls:
            self.assertTrue(u[2].startswith(reason) and "Couldn't connect" in u[2], u)
        status, code, summary = self.q("SELECT status, exit_code, summary FROM runs "
                                       "ORDER BY id DESC LIMIT 1")[0]
        self.assertEqual((status, code), ("partial", "5"))
        self.assertEqual(json.loads(summary)["hosts_failed"], 1)
        # the report names the host, its runs and the reason
        out = self.tmp.join("report%d.html" % self._dbn)
        rr = st.run_scrape(["report", "--db", self.db, "--job", "t", "-o", out], timeout=120)
        self.assertEqual(rr.returncode, 0, rr.stderr)
        with open(out, encoding="utf-8") as f:
            html = f.read()
        self.assertIn("Unreachable hosts", html)
        self.assertIn(self.down, html)
        self.assertIn("host unreachable in 4 runs since", html)
        # nothing is left to try: the next run is quiet and done
        r = self.run_once(expect=0)
        self.assertNotIn("unreachable", r.stderr)

    def test_consecutive_runs_reach_exit_5(self):
        codes = []
        for n in (1, 2, 3):
            r = st.run_scrape(self.args("--max-depth", "0", "--max-attempts", "2",
                                        "--host-down-runs", "3", "--host-down-after", "0",
                                        "--log-level", "warn", seeds=self.down_seeds),
                              np=2, timeout=180)
            codes.append(r.returncode)
            self.assertRegex(r.stderr, r"WARN %s unreachable in %d runs? since "
                             % (re.escape(self.down), n))
            print("\n--- run %d: exit %d, stderr:\n%s--- stdout:\n%s"
                  % (n, r.returncode, r.stderr, r.stdout))
        self.assertEqual(codes, [0, 0, 5])
        self.assertEqual(self.scalar("SELECT count(*) FROM urls WHERE host = :'p1' AND "
                                     "state = 'failed' AND error LIKE 'host unreachable in 3 "
                                     "runs since %'", [self.down]), "3")

    def test_a_host_that_answers_again_ends_its_outage(self):
        self.run_once(expect=0)
        self.assertEqual(self.scalar("SELECT runs FROM host_outages"), "1")
        srv = st.SiteServer(self.site_dir, port=self.port).start()
        self.addCleanup(srv.stop)
        r = self.run_once("--host-down-after", "0", expect=0)
        self.assertIn("1 hosts were unreachable in earlier runs: trying them again (3 URLs "
                      "made due)", r.stderr)
        self.assertNotIn("WARN", r.stderr)
        self.assertEqual(self.scalar("SELECT count(*) FROM host_outages"), "0")
        self.assertEqual(self.scalar("SELECT count(*) FROM urls WHERE host = :'p1' AND "
                                     "state = 'done'", [self.down]), "3")


if __name__ == "__main__":
    import unittest
    unittest.main()
