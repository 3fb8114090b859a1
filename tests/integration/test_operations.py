"""Running it for real: --if-idle, --recrawl-after with conditional requests, SIGTERM and
resume, progress lines for cron logs, --config files."""
import os
import random
import re
import signal
import time
import unittest
from datetime import datetime

import crawlcase
import scrapetest as st


class OperationsTest(crawlcase.CrawlCase):
    PAGES = 120

    def slow_site(self, delay_ms=40):
        srv = st.SiteServer(self.site_dir, delay_ms=delay_ms).start()
        self.addCleanup(srv.stop)
        return srv, st.write_seeds(self.tmp.join("slow%d.txt" % self._dbn), [srv.url("/")])

    def test_if_idle_exits_4_while_a_run_is_active(self):
        srv, seeds = self.slow_site()
        a = st.start_scrape(self.args("--concurrency", "2", seeds=seeds), np=2)
        st.wait_until(lambda: self.table_rows("fetches") > 5, timeout=60,
                      message="the first run is crawling")
        t0 = time.time()
        r = st.run_scrape(self.args("--if-idle", seeds=seeds), np=3, timeout=60)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertLess(time.time() - t0, 20, "--if-idle should exit at once")
        self.assertRegex(r.stderr, r"another run of this job is active: run 1 on ")
        # a normal cron skip: the workers stop quietly, and MPI has nothing to warn about
        self.assertNotIn("ERROR", r.stderr)
        self.assertNotIn("UCX", r.stderr)
        self.assertEqual(st.wait_scrape(a, 300).returncode, 0)
        self.assertEqual(self.scalar("SELECT count(*) FROM runs"), "1", "no row for the refused run")
        r = st.run_scrape(self.args("--if-idle", seeds=seeds), np=2, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)

    def table_rows(self, table):
        if self.scalar("SELECT to_regclass(:'p1') IS NULL", [table]) == "t":
            return 0
        return int(self.scalar("SELECT count(*) FROM %s" % table))

    def test_recrawl_sends_conditional_requests_and_detects_changes(self):
        self.crawl("--max-depth", "1", np=2)
        first = int(self.scalar("SELECT count(*) FROM fetches"))
        changed_path = "/about.html"
        with open(os.path.join(self.site_dir, "about.html"), "a", encoding="utf-8") as f:
            f.write("<!-- changed -->\n")
        time.sleep(1.1)  # Last-Modified has a resolution of one second
        self.site.clear_log()
        self.crawl("--max-depth", "1", "--recrawl-after", "1ms", np=2)
        rows = dict(self.q("SELECT u.url, f.http_status || ':' || coalesce(f.changed::text, '-') "
                           "FROM fetches f JOIN urls u ON u.id = f.url_id WHERE f.run_id = 2"))
        self.assertEqual(len(rows), first, "every page fetched again")
        self.assertEqual(rows[self.site.url(changed_path)], "200:true")
        unchanged = [v for u, v in rows.items() if u != self.site.url(changed_path)]
        self.assertTrue(all(v == "304:false" for v in unchanged), sorted(set(unchanged)))
        conditional = [e for e in self.site.log() if e["if_none_match"] or e["if_modified_since"]]
        self.assertEqual(len(conditional), first)
        # a 304 keeps the page's records and hash from its last full fetch
        self.assertEqual(self.scalar("SELECT count(*) FROM urls WHERE content_hash IS NULL"), "0")

    def test_sigterm_stops_cleanly_and_the_next_run_completes(self):
        want = self.oracle(max_depth=3)
        srv, seeds = self.slow_site()
        expected = {u.replace(self.site.origin, srv.origin) for u in want.pages}
        p = st.start_scrape(self.args("--concurrency", "3", seeds=seeds), np=3)
        st.wait_until(lambda: self.table_rows("fetches") >= 20, timeout=60, message="20 pages")
        os.kill(st.rank_pids(p)[0], signal.SIGTERM)
        r = st.wait_scrape(p, 120)
        self.assertEqual(r.returncode, 6, r.stderr[-3000:])
        self.assertIn("interrupted: stopping the workers", r.stderr)
        # the summary says what happened and what to do, not "URLs wait for a later run"
        self.assertIn("the run was interrupted (SIGINT or SIGTERM) before the crawl ended; "
                      "run the same command again to resume it", r.stdout)
        self.assertNotIn("wait for a later run", r.stdout)
        self.assertEqual(self.q("SELECT status, exit_code FROM runs"), [("interrupted", "6")])
        self.assertEqual(self.scalar("SELECT count(*) FROM urls WHERE state = 'leased'"), "0",
                         "an interrupted run returns its leases")
        stored = int(self.scalar("SELECT count(*) FROM fetches"))
        self.assertLess(stored, len(expected))
        r = st.run_scrape(self.args(seeds=seeds), np=3, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_exactly_once(expected)

    def test_sigkill_at_random_points_then_resume(self):
        """Kill the whole job (mpiexec and every rank) with SIGKILL at a random moment, three
        times with different seeds; then one run finishes: every page stored exactly once,
        no lease left behind, the dead runs marked died."""
        want = self.oracle(max_depth=3)
        srv, seeds = self.slow_site(delay_ms=80)
        expected = {u.replace(self.site.origin, srv.origin) for u in want.pages}
        for seed in (11, 22, 33):
            rnd = random.Random(seed)
            target = self.table_rows("fetches") + rnd.randint(3, 15)
            p = st.start_scrape(self.args("--concurrency", "2", seeds=seeds), np=3)
            st.wait_until(lambda: self.table_rows("fetches") >= target or p.poll() is not None,
                          timeout=120, message="%d pages stored" % target)
            time.sleep(rnd.uniform(0, 0.3))
            st.kill_group(p, signal.SIGKILL)
            p.wait(30)
        done_before = self.table_rows("fetches")
        self.assertLess(done_before, len(expected), "the kills came too late to test resume")
        r = st.run_scrape(self.args(seeds=seeds), np=3, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assert_exactly_once(expected)
        statuses = [s for (s,) in self.q("SELECT status FROM runs ORDER BY id")]
        self.assertEqual(statuses, ["died", "died", "died", "done"])

    def test_postgresql_restarted_mid_crawl_loses_and_doubles_nothing(self):
        """PostgreSQL stops for 3 s mid-crawl: the store thread reconnects with backoff and
        the run completes, every page stored exactly once."""
        want = self.oracle(max_depth=3)
        srv, seeds = self.slow_site(delay_ms=40)
        expected = {u.replace(self.site.origin, srv.origin) for u in want.pages}
        p = st.start_scrape(self.args("--concurrency", "2", "--db-retry", "60s", seeds=seeds),
                            np=3)
        st.wait_until(lambda: self.table_rows("fetches") >= 15, timeout=60, message="15 pages")
        self.pg.halt("fast")
        time.sleep(3)
        self.pg.resume()
        r = st.wait_scrape(p, 300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("reconnected to the database", r.stderr)
        self.assert_exactly_once(expected)
        self.assertEqual(self.q("SELECT status FROM runs"), [("done",)])

    def test_database_gone_for_good_exits_3(self):
        srv, seeds = self.slow_site(delay_ms=40)
        p = st.start_scrape(self.args("--concurrency", "2", "--db-retry", "2s", seeds=seeds),
                            np=3)
        st.wait_until(lambda: self.table_rows("fetches") >= 10, timeout=60, message="10 pages")
        self.pg.halt("immediate")
        try:
            r = st.wait_scrape(p, 120)
        finally:
            self.pg.resume()
        self.assertEqual(r.returncode, 3, r.stderr[-3000:])
        self.assertIn("database", r.stderr)

    def test_progress_lines_at_the_configured_interval(self):
        srv, seeds = self.slow_site(delay_ms=60)
        r = st.run_scrape(["--seed", seeds, "--db", self.db, "--delay", "0", "--concurrency",
                           "2", "--host-concurrency", "4", "--progress-interval", "500ms"],
                          np=2, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        stamps = [datetime.strptime(m, "%Y-%m-%dT%H:%M:%S.%f") for m in
                  re.findall(r"^(\S+)Z \[rank 0 \S+\] INFO progress: \d+ pages, \d+ left, ",
                             r.stderr, re.M)]
        self.assertGreaterEqual(len(stamps), 3, r.stderr[-2000:])
        gaps = [(b - a).total_seconds() for a, b in zip(stamps, stamps[1:])]
        self.assertGreaterEqual(min(gaps), 0.45, gaps)
        self.assertLessEqual(max(gaps), 1.5, gaps)
        self.assertRegex(r.stderr, r"\[rank 1 \S+\]|\[rank 0 \S+\] INFO")

    def test_config_file_with_command_line_overrides(self):
        cfg = self.tmp.join("crawl%d.conf" % self._dbn)
        with open(cfg, "w") as f:
            f.write("# nightly crawl\nseed = %s\ndb = %s\njob = nightly\nmax-depth = 1\n"
                    "delay = 0\nquiet = true\n" % (self.seeds, self.db))
        r = st.run_scrape(["--config", cfg, "--max-depth", "0"], np=2, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.q("SELECT j.name, count(u.id) FROM jobs j JOIN urls u "
                                "ON u.job_id = j.id GROUP BY 1"), [("nightly", "1")])
        bad = self.tmp.join("bad%d.conf" % self._dbn)
        with open(bad, "w") as f:
            f.write("delay = 0\nconcurrency = -3\n")
        r = st.run_scrape(["--config", bad], np=2, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad%d.conf:2: --concurrency" % self._dbn, r.stderr)


if __name__ == "__main__":
    unittest.main()
