"""The working core, end to end: real mpiexec runs against a real PostgreSQL and a real HTTP
server on 127.0.0.1 serving a generated 500-page shop.  The database is checked exactly."""
import json
import signal
import time
import unittest

import crawlcase
import scrapetest as st


class CrawlTest(crawlcase.CrawlCase):

    def test_mpi_crawl_fetches_every_page_in_scope_exactly_once(self):
        want = self.oracle(max_depth=3)
        r = self.crawl(np=3)
        self.assert_exactly_once(want.pages)
        # depths as the oracle computed them (BFS), and nothing beyond --max-depth
        depths = dict(self.q("SELECT url, depth::text FROM urls"))
        for url, d in want.pages.items():
            self.assertEqual(int(depths[url]), d, url)
        for url in want.too_deep:
            self.assertNotIn(url, depths, "a page deeper than --max-depth was queued")
        # out-of-scope hosts never enter the frontier, and were never requested
        self.assertEqual(self.scalar("SELECT count(*) FROM urls WHERE host <> %s" % "'%s'"
                                     % self.site.netloc), "0")
        # each path requested once over HTTP (no duplicate fetches either)
        counts = self.requests_by_path()
        self.assertEqual({p: n for p, n in counts.items() if n != 1}, {})
        self.assertEqual(counts.pop("/robots.txt", 0), 1, "robots.txt fetched once")
        self.assertEqual(len(counts), len(want.pages))
        self.assertEqual(self.site.log()[0]["path"], "/robots.txt", "robots.txt comes first")
        self.assertEqual(self.scalar("SELECT robots_status FROM hosts"), "200")
        # every page has its links and meta records
        self.assertEqual(self.scalar("SELECT count(*) FROM records WHERE parser = 'links'"),
                         str(len(want.pages)))
        self.assertEqual(self.scalar("SELECT count(*) FROM records WHERE parser = 'meta'"),
                         str(len(want.pages)))
        # the run's row and the summary
        status, code, summary = self.q("SELECT status, exit_code, summary FROM runs")[0]
        self.assertEqual((status, code), ("done", "0"))
        self.assertEqual(json.loads(summary)["pages"], len(want.pages))
        self.assertIn("pages %d," % len(want.pages), r.stdout)
        workers = self.q("SELECT rank, host, pages FROM run_workers ORDER BY rank")
        self.assertEqual([w[0] for w in workers], ["1", "2"])
        self.assertEqual(sum(int(w[2]) for w in workers), len(want.pages))
        for rank, host, pages in workers:
            self.assertRegex(r.stdout, r"\n  %s\s+%s\s+%s\s" % (rank, host, pages))

    def test_whole_500_page_site_fetched_exactly_once(self):
        want = self.oracle(max_depth=None)
        self.assertEqual((len(want.pages), len(want.missing)), (500, 0))
        r = self.crawl("--max-depth", "1000", np=3)
        self.assert_exactly_once(want.pages)
        self.assertEqual(self.scalar("SELECT count(*) FROM fetches WHERE http_status = 200"),
                         "500")
        self.assertIn("pages %d," % len(want.pages), r.stdout)

    def test_records_hold_the_page_content(self):
        self.crawl(np=3)
        home = self.site.url("/")
        links = json.loads(self.scalar(
            "SELECT r.data FROM records r JOIN urls u ON u.id = r.url_id "
            "WHERE u.url = :'p1' AND r.parser = 'links'", [home]))["links"]
        from oracle import extract_links
        with open(self.site_dir + "/index.html", encoding="utf-8") as f:
            expected, _ = extract_links(f.read().replace("@ORIGIN@", self.site.origin), home)
        self.assertEqual(sorted(set(links)), sorted(set(expected)))
        self.assertEqual(len(links), len(set(links)), "duplicate links in the record")
        self.assertFalse([l for l in links if "#" in l or l.startswith("mailto")])
        # a product page: title and canonical from the meta parser match the file
        with open(self.site_dir + "/manifest.json", encoding="utf-8") as f:
            manifest = json.load(f)
        path, product = sorted(manifest["products"].items())[0]
        url = self.site.url(path)
        meta = json.loads(self.scalar(
            "SELECT r.data FROM records r JOIN urls u ON u.id = r.url_id "
            "WHERE u.url = :'p1' AND r.parser = 'meta'", [url]))
        self.assertIn(product["name"], meta["title"])
        self.assertEqual(meta["canonical"], url)
        self.assertEqual(meta["lang"], "en-GB")
        # fetch rows carry the worker, status, type and size
        row = self.q("SELECT f.http_status, f.content_type, f.bytes > 0, f.worker_rank, "
                     "f.worker_host, f.content_hash FROM fetches f JOIN urls u ON u.id = f.url_id "
                     "WHERE u.url = :'p1'", [url])[0]
        self.assertEqual(row[0], "200")
        self.assertTrue(row[1].startswith("text/html"))
        self.assertEqual(row[2], "t")
        self.assertIn(row[3], ("1", "2"))
        self.assertEqual(len(row[5]), 64)

    def test_second_run_fetches_nothing_new(self):
        self.crawl(np=3)
        n = self.scalar("SELECT count(*) FROM fetches")
        self.site.clear_log()
        r = self.crawl(np=3)
        self.assertEqual(self.scalar("SELECT count(*) FROM fetches"), n)
        self.assertEqual(self.site.log(), [], "robots.txt comes from the cache, pages are done")
        self.assertIn("pages 0,", r.stdout)
        self.assertEqual(self.q("SELECT status FROM runs ORDER BY id"), [("done",), ("done",)])

    def test_without_mpiexec_worker_threads_crawl_the_same(self):
        want = self.oracle(max_depth=3)
        self.crawl("--local-workers", "2", np=None)
        self.assert_exactly_once(want.pages)
        self.assertEqual(self.scalar("SELECT count(*) FROM run_workers"), "2")

    def test_two_runs_at_once_share_the_work_without_overlap(self):
        want = self.oracle(max_depth=3)
        a = st.start_scrape(self.args(), np=2)
        b = st.start_scrape(self.args(), np=2)
        ra, rb = st.wait_scrape(a, 300), st.wait_scrape(b, 300)
        self.assertEqual((ra.returncode, rb.returncode), (0, 0), ra.stderr + rb.stderr)
        self.assert_exactly_once(want.pages)
        per_run = dict(self.q("SELECT run_id::text, count(*) FROM fetches GROUP BY 1"))
        self.assertEqual(sum(int(v) for v in per_run.values()), len(want.pages))
        # The site is one host, and a host belongs to one run at a time (host_claims, so
        # --delay and --host-concurrency hold across runs): the second run may fetch nothing
        # until the first hands the host over after --lease-ttl.  Sharing several hosts
        # between runs is test_islands.py's.
        self.assertEqual(self.scalar("SELECT count(*) FROM host_claims WHERE until > now()"),
                         "0", "both runs released their claims")

    def test_max_depth_and_max_pages(self):
        want = self.oracle(max_depth=1)
        self.crawl("--max-depth", "1", np=2)
        self.assert_exactly_once(want.pages)
        db2 = self.pg.create_database("maxpages_%d" % self._dbn)
        r = st.run_scrape(["--seed", self.seeds, "--db", db2, "--delay", "0", "--quiet",
                           "--host-concurrency", "8", "--max-pages", "40"], np=2, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.pg.scalar(db2, "SELECT count(*) FROM urls"), "40")
        self.assertEqual(self.pg.scalar(db2, "SELECT count(*) FROM fetches"), "40")

    def test_sigkill_mid_crawl_then_resume_loses_and_doubles_nothing(self):
        want = self.oracle(max_depth=3)
        slow = st.SiteServer(self.site_dir, delay_ms=30, port=0).start()
        try:
            seeds = st.write_seeds(self.tmp.join("slow-seeds.txt"), [slow.url("/")])
            expected = {u.replace(self.site.origin, slow.origin): d
                        for u, d in want.pages.items()}
            p = st.start_scrape(self.args("--concurrency", "4", seeds=seeds), np=3)
            st.wait_until(lambda: self.fetch_count() >= 60, timeout=120,
                          message="60 pages stored")
            st.kill_group(p, signal.SIGKILL)
            p.wait(30)
            stored = int(self.scalar("SELECT count(*) FROM fetches"))
            self.assertLess(stored, len(expected), "killed too late to test anything")
            self.assertGreater(int(self.scalar(
                "SELECT count(*) FROM urls WHERE state = 'leased'")), 0)
            r = st.run_scrape(self.args(seeds=seeds), np=3, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assert_exactly_once(expected)
            self.assertEqual(self.q("SELECT status FROM runs ORDER BY id"),
                             [("died",), ("done",)])
        finally:
            slow.stop()

    def fetch_count(self):
        if self.scalar("SELECT to_regclass('fetches') IS NULL") == "t":
            return 0
        return int(self.scalar("SELECT count(*) FROM fetches"))

    def test_no_valid_seed_is_a_usage_error_and_writes_nothing(self):
        bad = st.write_seeds(self.tmp.join("bad.txt"),
                             ["# a comment", "", "ftp://example.com/", "not a url"])
        r = st.run_scrape(["--seed", bad, "--db", self.db], np=2, timeout=120)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("bad.txt:3: unsupported scheme 'ftp'", r.stderr)
        self.assertIn("bad.txt:4:", r.stderr)
        self.assertIn("no valid seed", r.stderr)
        self.assertEqual(self.scalar("SELECT to_regclass('urls') IS NULL"), "t")

    def test_invalid_seed_lines_are_reported_and_skipped(self):
        mixed = st.write_seeds(self.tmp.join("mixed.txt"),
                               ["javascript:alert(1)", self.site.url("/"), self.site.url("/")])
        r = self.crawl("--max-depth", "0", np=2, seeds=mixed)
        self.assertIn("mixed.txt:1: ", r.stderr)
        self.assertEqual(self.scalar("SELECT count(*) FROM urls"), "1")

    def test_schema_version_mismatch_is_refused(self):
        self.crawl("--max-depth", "0", np=2)
        self.q("UPDATE scrape_meta SET value = '999' WHERE key = 'schema_version'")
        r = self.crawl("--max-depth", "0", np=2, expect=3)
        self.assertIn("schema version 999", r.stderr)

    def test_version_1_database_is_upgraded(self):
        # a database made by the previous release: no urls.seed, schema_version 1
        self.crawl("--max-depth", "0", np=2)
        self.q("ALTER TABLE urls DROP COLUMN seed")
        self.q("UPDATE scrape_meta SET value = '1' WHERE key = 'schema_version'")
        # the upgrade marks the seeds it can tell (depth-0 pages nothing discovered), so a
        # resumed job without --seed keeps its seed hosts
        r = st.run_scrape(["--db", self.db, "--job", "t", "--delay", "0", "--max-depth", "1"],
                          np=2, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("upgrading the database's scrape schema from version 1 to 3", r.stderr)
        self.assertEqual(self.scalar("SELECT value FROM scrape_meta "
                                     "WHERE key = 'schema_version'"), "3")
        # the seed is marked by the upgrade itself (this run had no seed file)
        self.assertEqual(self.scalar("SELECT count(*) FROM urls WHERE seed"), "1")
        self.assertEqual(self.scalar("SELECT url FROM urls WHERE seed"), self.site.url("/"))

    def test_unreachable_database_exits_3(self):
        r = st.run_scrape(["--seed", self.seeds, "--db",
                           "host=127.0.0.1 port=%d user=x dbname=x connect_timeout=2"
                           % st.free_port(), "--db-retry", "0"], np=2, timeout=120)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("cannot connect to PostgreSQL", r.stderr)

    def test_password_is_never_printed_or_stored(self):
        secret = "s3cr3t-Pa55"
        db = self.db + " password=" + secret
        r = st.run_scrape(["--seed", self.seeds, "--db", db, "--max-depth", "0", "--delay",
                           "0"], np=2, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(secret, r.stdout + r.stderr)
        self.assertEqual(self.scalar("SELECT count(*) FROM runs WHERE command LIKE '%%' || "
                                     ":'p1' || '%%' OR settings::text LIKE '%%' || :'p1' || '%%'",
                                     [secret]), "0")

    def test_non_html_gets_a_fetch_row_and_no_records(self):
        url = self.site.url("/__test/bytes?n=2048&type=application/octet-stream")
        seeds = st.write_seeds(self.tmp.join("bin.txt"), [url])
        self.crawl(np=2, seeds=seeds)
        row = self.q("SELECT f.content_type, f.bytes FROM fetches f")[0]
        self.assertEqual(row, ("application/octet-stream", "2048"))
        self.assertEqual(self.scalar("SELECT count(*) FROM records"), "0")


class IdleCpuTest(crawlcase.CrawlCase):
    PAGES = 20

    def test_idle_ranks_stay_under_five_percent_of_a_core(self):
        # Three URLs of one host 4 s apart: the coordinator and both workers mostly wait.
        urls = [self.site.url(p) for p in ("/about.html", "/contact.html", "/")]
        seeds = st.write_seeds(self.tmp.join("idle.txt"), urls)
        args = ["--seed", seeds, "--db", self.db, "--max-depth", "0", "--delay", "4s",
                "--quiet"]
        p = st.start_scrape(args, np=3)
        st.wait_until(lambda: len(st.rank_pids(p)) == 3, timeout=30, message="3 ranks")
        time.sleep(1.5)
        pids = st.rank_pids(p)
        ticks = {r: cpu_ticks(pid) for r, pid in pids.items()}
        t0 = time.time()
        time.sleep(5)
        used = {r: (cpu_ticks(pid) - ticks[r]) / st.os.sysconf("SC_CLK_TCK") / (time.time() - t0)
                for r, pid in pids.items()}
        r = st.wait_scrape(p, 120)
        self.assertEqual(r.returncode, 0, r.stderr)
        for rank, share in used.items():
            self.assertLess(share, 0.05, "rank %d used %.1f%% of a core while idle"
                            % (rank, share * 100))
        print("idle CPU share per rank:", {k: round(v * 100, 2) for k, v in used.items()})


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


if __name__ == "__main__":
    unittest.main()
