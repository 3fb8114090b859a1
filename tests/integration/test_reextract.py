"""`scrape reextract`: the parsers over stored pages, with no HTTP request (docs/reextract.md).

Real tools throughout: Debian's wget writes the WARC files (--warc-file) against the test
site on 127.0.0.1, a normal crawl of the same site gives the records to compare with, and
every reextract runs under mpiexec -n 3 while the site server's request log must stay empty.
The --job mode is tested over fetch rows that point into wget's files (the columns the
crawl's WARC writer fills), so it needs only the columns, not the writer."""
import json
import os
import shutil
import signal
import subprocess
import unittest
import zlib

import crawlcase
import scrapetest as st

RULES = r"""# shop.rules - product pages of the generated test shop
site shop-product
  match ^https?://[^/]+/p/\d+\.html$
  record product
    name      css h1                                    required
    price     css p.price                               number
    sku       xpath "//tr[th='SKU']/td"                 trim
    related   css "section.related a.view"  attr href  url  all

site shop-listing
  match ^https?://[^/]+/c/
  record card each css div.card
    title  css h3                   required
    url    css a  attr href  url
"""


def have_wget():
    return shutil.which("wget") is not None


@unittest.skipUnless(have_wget(), "wget is not installed (apt-get install wget)")
class ReextractTest(crawlcase.CrawlCase):
    PAGES = 60

    def setUp(self):
        super().setUp()
        self.work = self.tmp.join("w%d" % self._dbn)
        os.makedirs(self.work)
        self.rules = os.path.join(self.work, "shop.rules")
        with open(self.rules, "w") as f:
            f.write(RULES)

    # --- helpers -----------------------------------------------------------------------

    def wget(self, name, *extra):
        """Mirrors the site with wget into a WARC file; returns its path."""
        base = os.path.join(self.work, name)
        cmd = ["wget", "-r", "-l", "inf", "--no-verbose", "-P", os.path.join(self.work, "m"),
               "--warc-file=" + base] + list(extra) + [self.site.url("/")]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        # wget exits 8 when some page answered 4xx (the shop has broken links on purpose)
        self.assertIn(r.returncode, (0, 8), r.stderr[-3000:])
        path = base + (".warc" if "--no-warc-compression" in extra else ".warc.gz")
        self.assertTrue(os.path.exists(path))
        return path

    def reextract(self, *args, expect=0, np=3):
        r = st.run_scrape(["reextract", "--db", self.db, "--quiet", "--peer-timeout", "30s"]
                          + list(args), np=np, timeout=300)
        if expect is not None:
            self.assertEqual(r.returncode, expect,
                             "scrape reextract exited %d\n--- stdout\n%s\n--- stderr\n%s"
                             % (r.returncode, r.stdout[-3000:], r.stderr[-6000:]))
        return r

    def record_set(self, job, where="true"):
        rows = self.q("SELECT u.url, r.parser, r.data::text FROM records r "
                      "JOIN urls u ON u.id = r.url_id JOIN jobs j ON j.id = r.job_id "
                      "WHERE j.name = :'p1' AND " + where, [job])
        out = set()
        for url, parser, data in rows:
            out.add((url, parser, json.dumps(json.loads(data), sort_keys=True)))
        return out

    def crawl_records(self):
        self.crawl("--rules", self.rules, "--max-depth", "1000", job="c")
        want = self.record_set("c")
        self.assertGreater(len([r for r in want if r[1] == "rules"]), 10)
        return want

    # --- tests -------------------------------------------------------------------------

    def test_wget_warc_gives_the_crawls_records_without_a_request(self):
        want = self.crawl_records()
        warc = self.wget("site")
        self.site.clear_log()
        r = self.reextract("--warc", warc, "--job", "w", "--rules", self.rules)
        self.assertEqual(self.site.log(), [], "reextract sent HTTP requests")
        got = self.record_set("w")
        self.assertEqual(got - want, set(), "records the crawl did not give")
        self.assertEqual(want - got, set(), "records of the crawl missing")
        kind, status, summary = self.q("SELECT kind, status, summary FROM runs r "
                                       "JOIN jobs j ON j.id = r.job_id WHERE j.name = 'w'")[0]
        self.assertEqual((kind, status), ("reextract", "done"))
        pages = json.loads(summary)["pages"]
        self.assertIn("%d pages" % pages, r.stderr)
        # both worker ranks parsed, and their figures are the run's
        workers = self.q("SELECT w.rank, w.pages FROM run_workers w JOIN runs r "
                         "ON r.id = w.run_id JOIN jobs j ON j.id = r.job_id "
                         "WHERE j.name = 'w' ORDER BY w.rank")
        self.assertEqual([w[0] for w in workers], ["1", "2"])
        unparsed = json.loads(summary)["unparsed"]
        self.assertGreater(unparsed, 0)  # robots.txt: never sent to a worker
        self.assertEqual(sum(int(w[1]) for w in workers), pages - unparsed)
        self.assertEqual(self.scalar("SELECT r.settings ->> 'parsers' FROM runs r JOIN jobs j "
                                     "ON j.id = r.job_id WHERE j.name = 'w'"),
                         self.scalar("SELECT r.settings ->> 'parsers' FROM runs r JOIN jobs j "
                                     "ON j.id = r.job_id WHERE j.name = 'c'"))
        # the fetch rows point into wget's file
        files = self.q("SELECT DISTINCT warc_file FROM fetches f JOIN jobs j ON j.id = f.job_id"
                       " WHERE j.name = 'w'")
        self.assertEqual([tuple(x) for x in files], [(os.path.realpath(warc),)])
        self.assertEqual(self.scalar(
            "SELECT count(*) FROM fetches f JOIN jobs j ON j.id = f.job_id WHERE j.name = 'w'"
            " AND (warc_offset IS NULL OR warc_length IS NULL OR warc_type <> 'response')"),
            "0")
        # each parsed page's fetch row says what its body was decoded from, as a crawl's
        self.assertEqual(self.q("SELECT encoding, count(*) FROM fetches f JOIN jobs j "
                                "ON j.id = f.job_id WHERE j.name = 'w' AND http_status = 200 "
                                "AND content_type LIKE 'text/html%' GROUP BY 1"),
                         self.q("SELECT encoding, count(*) FROM fetches f JOIN jobs j "
                                "ON j.id = f.job_id WHERE j.name = 'c' AND http_status = 200 "
                                "AND content_type LIKE 'text/html%' GROUP BY 1"))
        # the same file again: every page is done for this key, nothing is added
        n = self.scalar("SELECT count(*) FROM records")
        r = self.reextract("--warc", warc, "--job", "w", "--rules", self.rules)
        self.assertEqual(self.scalar("SELECT count(*) FROM records"), n)
        self.assertIn("0 pages, 0 records", r.stderr)
        self.assertEqual(self.scalar("SELECT count(*) FROM fetches f JOIN jobs j "
                                     "ON j.id = f.job_id WHERE j.name = 'w'"),
                         str(len(self.q("SELECT 1 FROM reextract_pages"))))
        # an uncompressed WARC of the same site gives the same records
        plain = self.wget("plain", "--no-warc-compression")
        self.site.clear_log()
        self.reextract("--warc", plain, "--job", "w2", "--rules", self.rules)
        self.assertEqual(self.site.log(), [])
        self.assertEqual(self.record_set("w2"), want)

    def test_job_mode_over_fetch_rows_and_resume(self):
        want = self.crawl_records()
        warc = self.wget("site")
        # the crawl's fetch rows point at wget's records of the same URLs (what --warc-dir
        # writes), taken from the rows a --warc reextract made for them
        self.reextract("--warc", warc, "--job", "w", "--parsers", "links")
        self.q("UPDATE fetches c SET warc_file = w.warc_file, warc_offset = w.warc_offset, "
               "warc_length = w.warc_length, warc_type = 'response' "
               "FROM fetches w, jobs jc, jobs jw WHERE jc.name = 'c' AND jw.name = 'w' "
               "AND c.job_id = jc.id AND w.job_id = jw.id AND w.url = c.url")
        npages = int(self.scalar("SELECT count(*) FROM fetches f JOIN jobs j ON j.id = f.job_id"
                                 " WHERE j.name = 'c' AND warc_file IS NOT NULL"))
        self.assertGreater(npages, 20)
        self.site.clear_log()
        frontier = self.q("SELECT id, state, attempts FROM urls ORDER BY id")
        self.reextract("--job", "c", "--rules", self.rules)
        self.assertEqual(self.site.log(), [], "reextract sent HTTP requests")
        self.assertEqual(self.q("SELECT id, state, attempts FROM urls ORDER BY id"), frontier,
                         "the frontier changed")
        run = self.scalar("SELECT max(id) FROM runs WHERE kind = 'reextract'")
        got = self.record_set("c", "r.reextract_run = %s" % run)
        self.assertEqual(got, want)
        # the views of the latest records show the re-extracted ones
        self.assertEqual(self.scalar(
            "SELECT count(*) FROM link_graph g JOIN records r ON r.fetch_id = g.fetch_id "
            "AND r.parser = 'links' WHERE g.job = 'c' AND r.reextract_run IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM records n WHERE n.url_id = r.url_id "
            "AND n.parser = 'links' AND n.id > r.id)"), "0")
        # a reextract cut short: the marks and records of some pages are gone as if their
        # statements never committed; the next run does exactly those, once
        self.q("WITH gone AS (SELECT fetch_id FROM reextract_pages WHERE run_id = %s "
               "ORDER BY fetch_id LIMIT 15), d AS (DELETE FROM records WHERE reextract_run = %s"
               " AND fetch_id IN (SELECT fetch_id FROM gone)) DELETE FROM reextract_pages "
               "WHERE run_id = %s AND fetch_id IN (SELECT fetch_id FROM gone)"
               % (run, run, run))
        r = self.reextract("--job", "c", "--rules", self.rules)
        self.assertIn("15 pages", r.stderr)
        self.assertEqual(self.site.log(), [])
        got = self.record_set("c", "r.reextract_run IS NOT NULL")
        self.assertEqual(got, want)
        dups = self.q("SELECT fetch_id, parser, count(*) FROM records "
                      "WHERE reextract_run IS NOT NULL AND parser <> 'rules' "
                      "GROUP BY 1, 2 HAVING count(*) > 1")
        self.assertEqual(dups, [], "a page re-extracted twice")
        # a record that is not the fetch's URL (a wrong offset) is reported, never stored
        # as that page's; and a job that does not exist is refused, not created
        first, offset = self.q("SELECT f.id, f.warc_offset FROM fetches f JOIN jobs j "
                               "ON j.id = f.job_id WHERE j.name = 'c' AND "
                               "f.warc_offset IS NOT NULL ORDER BY f.id LIMIT 1")[0]
        self.q("UPDATE fetches SET warc_offset = (SELECT warc_offset FROM fetches o "
               "WHERE o.job_id = fetches.job_id AND o.url <> fetches.url "
               "AND o.warc_offset IS NOT NULL LIMIT 1) WHERE id = (SELECT min(f.id) FROM "
               "fetches f JOIN jobs j ON j.id = f.job_id WHERE j.name = 'c' AND "
               "f.warc_offset IS NOT NULL)")
        r = self.reextract("--job", "c", "--parsers", "meta", expect=5)
        self.assertIn("not %s; skipped" % self.scalar(
            "SELECT url FROM fetches WHERE id = (SELECT min(f.id) FROM fetches f JOIN jobs j "
            "ON j.id = f.job_id WHERE j.name = 'c' AND f.warc_offset IS NOT NULL)"), r.stderr)
        self.assertIn("%d pages, %d records, 1 damaged" % (npages - 1, npages - 1), r.stderr)
        self.q("UPDATE fetches SET warc_offset = %s WHERE id = %s" % (offset, first))
        r = self.reextract("--job", "nosuchjob", expect=2)
        self.assertIn("there is no job 'nosuchjob'", r.stderr)
        self.assertEqual(self.scalar("SELECT count(*) FROM jobs WHERE name = 'nosuchjob'"), "0")
        # other parsers are another key: done again, the old marks untouched; and a file
        # still being written is found under its name + .part
        os.rename(warc, warc + ".part")
        r = self.reextract("--job", "c", "--parsers", "links")
        self.assertIn("%d pages, %d records, 0 damaged" % (npages, npages), r.stderr)
        self.assertEqual(self.site.log(), [])

    def test_sigkill_mid_reextract_then_resume_loses_and_doubles_nothing(self):
        """A real crash: rank 0 is killed (SIGKILL, the whole mpiexec tree) while its first
        page's statement waits on a lock the test holds on reextract_pages; the next
        reextract with the same key stores every page once."""
        want = self.crawl_records()
        warc = self.wget("site")
        locker = subprocess.Popen([st._psql_path(), "-X", "-q", "-A", "-t", "-v",
                                   "ON_ERROR_STOP=1", "-d", self.db],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=st._clean_pg_env())
        try:
            locker.stdin.write("BEGIN; LOCK TABLE reextract_pages IN EXCLUSIVE MODE; "
                               "SELECT 'locked';\n")
            locker.stdin.flush()
            self.assertEqual(locker.stdout.readline().strip(), "locked")
            p = st.start_scrape(["reextract", "--warc", warc, "--job", "w", "--rules",
                                 self.rules, "--db", self.db, "--quiet", "--concurrency", "2"],
                                np=3)
            st.wait_until(lambda: self.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE '%reextract_pages%'") == "1", timeout=60,
                message="rank 0 waits on the lock")
            st.kill_group(p, signal.SIGKILL)
            p.wait(30)
        finally:
            locker.communicate("ROLLBACK;\n", timeout=30)
        # the killed statement may still have committed once the lock went: at most one page
        st.wait_until(lambda: self.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%WITH m AS%' "
            "AND state = 'active' AND pid <> pg_backend_pid()") == "0", timeout=60,
            message="the killed run's statement ended")
        first = int(self.scalar("SELECT count(*) FROM reextract_pages"))
        self.assertLessEqual(first, 1)
        r = self.reextract("--warc", warc, "--job", "w", "--rules", self.rules)
        self.assertEqual(self.record_set("w"), want)
        self.assertEqual(self.q("SELECT fetch_id FROM reextract_pages GROUP BY 1 "
                                "HAVING count(*) > 1"), [])
        dups = self.q("SELECT fetch_id, parser FROM records WHERE reextract_run IS NOT NULL "
                      "AND parser <> 'rules' GROUP BY 1, 2 HAVING count(*) > 1")
        self.assertEqual(dups, [], "a page re-extracted twice")
        # the fetch rows the killed run made are found again by file and offset, not doubled
        self.assertEqual(self.q("SELECT warc_offset FROM fetches f JOIN jobs j "
                                "ON j.id = f.job_id WHERE j.name = 'w' GROUP BY 1 "
                                "HAVING count(*) > 1"), [])
        self.assertIn("%d pages done before" % first, r.stderr)
        self.assertEqual(self.q("SELECT status FROM runs r JOIN jobs j ON j.id = r.job_id "
                                "WHERE j.name = 'w' ORDER BY r.id")[-1], ("done",))

    def test_damaged_warc_uses_the_good_records(self):
        warc = self.wget("site")
        with open(warc, "rb") as f:
            data = bytearray(f.read())
        # the gzip members (wget: one per record) that hold an HTML response
        starts = [i for i in range(len(data) - 2)
                  if data[i] == 0x1f and data[i + 1] == 0x8b and data[i + 2] == 8]
        starts.append(len(data))
        pages = []
        for a, b in zip(starts, starts[1:]):
            try:
                text = zlib.decompressobj(31).decompress(bytes(data[a:b]))
            except zlib.error:
                continue  # a magic inside compressed data, not a member
            if b"WARC-Type: response" in text and b"text/html" in text:
                pages.append((a, b))
        self.assertGreater(len(pages), 20)
        # damage one in the middle, and cut the file inside the last one
        mid, mid_end = pages[len(pages) // 2]
        for k in range(20, 40):
            data[mid + k] ^= 0xA5
        last, last_end = pages[-1]
        bad = os.path.join(self.work, "bad.warc.gz")
        with open(bad, "wb") as f:
            f.write(bytes(data[:(last + last_end) // 2]))
        # the whole file, in one process with worker threads (no mpiexec)
        self.reextract("--warc", warc, "--job", "good", "--parsers", "links,meta",
                       "--local-workers", "2", np=None)
        r = self.reextract("--warc", bad, "--job", "bad", "--parsers", "links,meta", expect=5)
        self.assertIn("damaged gzip member at offset %d" % mid, r.stderr)
        self.assertRegex(r.stderr, r"truncated gzip member|cut short")
        ngood = int(self.scalar("SELECT count(*) FROM reextract_pages p JOIN fetches f "
                                "ON f.id = p.fetch_id JOIN jobs j ON j.id = f.job_id "
                                "WHERE j.name = 'good'"))
        nbad = int(self.scalar("SELECT count(*) FROM reextract_pages p JOIN fetches f "
                               "ON f.id = p.fetch_id JOIN jobs j ON j.id = f.job_id "
                               "WHERE j.name = 'bad'"))
        self.assertEqual(nbad, ngood - 2)
        self.assertEqual(self.record_set("bad") - self.record_set("good"), set())
        self.assertEqual(self.scalar("SELECT status FROM runs r JOIN jobs j ON j.id = r.job_id "
                                     "WHERE j.name = 'bad'"), "partial")


if __name__ == "__main__":
    unittest.main()
