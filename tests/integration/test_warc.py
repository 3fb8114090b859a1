"""--warc-dir end to end: a real mpiexec crawl keeps every response in WARC files on rank 0,
and warcio.js (the npm package "warcio", by Webrecorder: a reader nobody here wrote) parses
every record of them; the digests it reads are checked against SHA-1s computed over what it
parsed, the payloads against what the test server serves, and the fetch rows' warc_file and
warc_offset against the records warcio found there.  A second run (--recrawl-after) gets 304s
and unchanged bodies, which become revisit records.

warcio is installed with npm into a cache folder (SCRAPE_TEST_NPM_CACHE, default
~/.cache/scrape-tests/npm) the first time; the test is skipped when node or npm is missing."""
import base64
import glob
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import time
import unittest
import urllib.error
import urllib.request

import crawlcase
import scrapetest as st

HERE = os.path.dirname(os.path.abspath(__file__))


def warcio_modules():
    """The node_modules folder holding warcio (installed once), or None without node/npm."""
    if not shutil.which("node") or not shutil.which("npm"):
        return None
    cache = os.environ.get("SCRAPE_TEST_NPM_CACHE",
                           os.path.expanduser("~/.cache/scrape-tests/npm"))
    mods = os.path.join(cache, "node_modules")
    if not os.path.exists(os.path.join(mods, "warcio", "package.json")):
        os.makedirs(cache, exist_ok=True)
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", cache,
                            "warcio@2"], capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError("npm install warcio failed:\n" + r.stderr[-3000:])
    return mods


class WarcTest(crawlcase.CrawlCase):
    PAGES = 30

    @classmethod
    def setUpClass(cls):
        cls.mods = warcio_modules()
        if cls.mods is None:
            raise unittest.SkipTest("node and npm are needed to read the WARC files with warcio")
        super().setUpClass()

    def read_warcs(self, files):
        r = subprocess.run(["node", os.path.join(HERE, "warc_dump.mjs"), self.mods] + files,
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-4000:])
        self.assertNotIn("Content-Length Too Small", r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def served(self, url):
        """The body the test server serves for url, decoded as the crawler stores it."""
        try:
            resp = urllib.request.urlopen(url, timeout=30)
        except urllib.error.HTTPError as e:  # a 404 has a body too
            resp = e
        with resp:
            body = resp.read()
            if resp.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
        return body

    def check_records(self, recs):
        """What holds for every record of every file; returns them by (file, offset)."""
        by_file = {}
        for rec in recs:
            by_file.setdefault(rec["file"], []).append(rec)
            w = rec["warc"]
            self.assertRegex(w["warc-record-id"], r"^<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
                                                  r"[89ab][0-9a-f]{3}-[0-9a-f]{12}>$")
            self.assertRegex(w["warc-date"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertEqual(rec["length"], rec["rawLength"])
            if "warc-block-digest" in w:
                self.assertEqual(w["warc-block-digest"], rec["blockSha1"], rec["offset"])
            else:
                self.assertEqual(rec["type"], "warcinfo")
            if rec["type"] == "response":
                self.assertEqual(w["warc-payload-digest"], rec["payloadSha1"])
                self.assertEqual(w["content-type"], "application/http; msgtype=response")
                hdrs = rec["http"]["headers"]
                payload = base64.b64decode(rec["payload"])
                # headers consistent with the stored (decoded, de-chunked) body
                self.assertEqual(int(hdrs["content-length"]), len(payload))
                self.assertNotIn("transfer-encoding", hdrs)
                self.assertNotIn("content-encoding", hdrs)
            if rec["type"] == "request":
                self.assertEqual(w["content-type"], "application/http; msgtype=request")
                self.assertTrue(rec["http"]["statusline"].startswith("GET /"))
        for f, rs in by_file.items():
            self.assertEqual(rs[0]["type"], "warcinfo", f)
            self.assertEqual(rs[0]["offset"], 0)
            self.assertEqual(rs[0]["warc"]["warc-filename"],
                             os.path.basename(f).removesuffix(".part"))
            self.assertEqual(rs[0]["warc"]["content-type"], "application/warc-fields")
            # each response or revisit is followed by its request
            ids = {r["warc"]["warc-record-id"]: r for r in rs}
            for i, r in enumerate(rs):
                if r["type"] in ("response", "revisit"):
                    nxt = rs[i + 1]
                    self.assertEqual(nxt["type"], "request")
                    self.assertEqual(nxt["warc"]["warc-concurrent-to"], r["warc"]["warc-record-id"])
                    self.assertEqual(nxt["warc"]["warc-target-uri"], r["warc"]["warc-target-uri"])
            self.assertEqual(len(ids), len(rs), "record ids are unique")
        return {(r["file"], r["offset"]): r for r in recs}

    def check_rows(self, by_pos, run):
        """Every fetch row of the run with an HTTP answer points at its record."""
        rows = self.q("SELECT url, http_status, warc_file, warc_offset, warc_length, warc_type "
                      "FROM fetches WHERE run_id = %d AND http_status IS NOT NULL" % run)
        self.assertTrue(rows)
        for url, status, wfile, off, length, wtype in rows:
            self.assertIsNotNone(wfile, url)
            self.assertTrue(wfile.endswith(".warc.gz") and os.path.isabs(wfile), wfile)
            rec = by_pos.get((wfile, int(off)))
            self.assertIsNotNone(rec, "no record at %s:%s for %s" % (wfile, off, url))
            self.assertEqual(rec["type"], wtype)
            self.assertEqual(rec["warc"]["warc-target-uri"], url)
            self.assertEqual(int(length), rec["length"])
            self.assertEqual(rec["http"]["statusline"].split(" ")[1], status)
            # the analyst's way (docs/warc.md): seek, read the member, gunzip
            with open(wfile, "rb") as f:
                f.seek(int(off))
                text = gzip.decompress(f.read(int(length)))
            self.assertTrue(text.startswith(b"WARC/1.1\r\nWARC-Type: " + wtype.encode()))
            self.assertIn(b"\r\nWARC-Target-URI: " + url.encode() + b"\r\n", text)
        return rows

    def test_warc_round_trip_with_warcio_and_revisits(self):
        warc_dir = self.tmp.join("warc%d" % self._dbn)
        extra = {
            "gz": self.site.url("/__test/gzip?title=zipped"),
            "chunked": self.site.url("/__test/huge?n=5000&chunked=1"),
            "cut": self.site.url("/__test/huge?n=200000&chunked=1"),
            "binary": self.site.url("/__test/binary?n=3000"),
            "same": self.site.url("/__test/page?title=same"),
            "missing": self.site.url("/__test/status/404"),
            "reset": self.site.url("/__test/reset?n=20000"),
        }
        seeds = st.write_seeds(self.tmp.join("seeds-warc.txt"),
                               [self.site.url("/")] + list(extra.values()))
        self.crawl("--warc-dir", warc_dir, "--max-body", "64K", "--max-depth", "1",
                   "--max-attempts", "1", seeds=seeds, np=3, expect=None)
        files = sorted(glob.glob(os.path.join(warc_dir, "*")))
        self.assertEqual([os.path.basename(f) for f in files], ["t-1-00000.warc.gz"],
                         "one completed file, named job-run-seq, no .part left")
        recs = self.read_warcs(files)
        by_pos = self.check_records(recs)
        rows = self.check_rows(by_pos, 1)
        self.assertEqual(self.scalar("SELECT count(*) FROM fetches WHERE warc_type = 'revisit'"),
                         "0")
        # payloads are the pages the server serves
        responses = {r["warc"]["warc-target-uri"]: r for r in recs if r["type"] == "response"}
        self.assertEqual(set(responses), {row[0] for row in rows})
        for url, rec in responses.items():
            payload = base64.b64decode(rec["payload"])
            if url == extra["cut"]:
                self.assertEqual(rec["warc"].get("warc-truncated"), "length")
                self.assertLessEqual(len(payload), 64 * 1024)
                self.assertGreater(len(payload), 0)
                self.assertEqual(payload, self.served(url)[:len(payload)])
                continue
            if url == extra["reset"]:  # half the body, then the connection reset
                self.assertEqual(rec["warc"].get("warc-truncated"), "disconnect")
                self.assertTrue(payload.startswith(b"<html><body>xxx"))
                self.assertLessEqual(len(payload), 10012)
                self.assertEqual(rec["http"]["headers"]["x-crawler-content-length"], "20000")
                continue
            self.assertNotIn("warc-truncated", rec["warc"], url)
            if url == extra["missing"]:
                self.assertEqual(rec["http"]["statusline"].split(" ")[1], "404")
            self.assertEqual(payload, self.served(url), url)
        self.assertEqual(responses[extra["gz"]]["http"]["headers"]["x-crawler-content-encoding"],
                         "gzip")
        self.assertEqual(
            responses[extra["chunked"]]["http"]["headers"]["x-crawler-transfer-encoding"],
            "chunked")
        self.assertIn(b"<title>zipped</title>", base64.b64decode(responses[extra["gz"]]["payload"]))
        # docs/queries.md's query and docs/warc.md's shell line find the home page
        wfile, off, length = self.q(
            "SELECT f.warc_file, f.warc_offset, f.warc_length FROM fetches f "
            "JOIN urls u ON u.id = f.url_id JOIN jobs j ON j.id = u.job_id "
            "WHERE j.name = 't' AND u.url = :'p1' AND f.warc_type = 'response' "
            "ORDER BY f.fetched_at DESC LIMIT 1", [self.site.url("/")])[0]
        out = subprocess.run("tail -c +$((%s + 1)) '%s' | head -c %s | gunzip" % (off, wfile, length),
                             shell=True, capture_output=True, timeout=60).stdout
        self.assertTrue(out.endswith(self.served(self.site.url("/")) + b"\r\n\r\n"))

        # the recrawl: static pages answer 304 (ETag), the test pages the same bytes again
        self.crawl("--warc-dir", warc_dir, "--max-body", "64K", "--max-depth", "1",
                   "--max-attempts", "1", "--recrawl-after", "1ms", seeds=seeds, np=3,
                   expect=None)
        files2 = sorted(glob.glob(os.path.join(warc_dir, "*")))
        self.assertEqual([os.path.basename(f) for f in files2],
                         ["t-1-00000.warc.gz", "t-2-00000.warc.gz"])
        recs2 = self.read_warcs([files2[1]])
        by_pos2 = self.check_records(recs2)
        rows2 = self.check_rows(by_pos2, 2)
        kinds = dict(self.q("SELECT url, http_status || ':' || warc_type FROM fetches "
                            "WHERE run_id = 2"))
        home = self.site.url("/")
        self.assertEqual(kinds[home], "304:revisit")
        self.assertEqual(kinds[extra["same"]], "200:revisit")
        self.assertEqual(kinds[extra["binary"]], "200:revisit")
        self.assertNotIn(extra["missing"], kinds, "a failed page is not recrawled")
        revisits = {r["warc"]["warc-target-uri"]: r for r in recs2 if r["type"] == "revisit"}
        first = {r["warc"]["warc-target-uri"]: r for r in recs if r["type"] == "response"}
        nm = revisits[home]["warc"]
        self.assertEqual(nm["warc-profile"],
                         "http://netpreserve.org/warc/1.1/revisit/server-not-modified")
        self.assertEqual(revisits[home]["http"]["statusline"].split(" ")[1], "304")
        same = revisits[extra["same"]]["warc"]
        self.assertEqual(same["warc-profile"],
                         "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest")
        self.assertEqual(same["warc-payload-digest"],
                         first[extra["same"]]["warc"]["warc-payload-digest"])
        self.assertEqual(same["warc-refers-to-target-uri"], extra["same"])
        self.assertEqual(same["warc-refers-to-date"], first[extra["same"]]["warc"]["warc-date"])
        self.assertEqual(base64.b64decode(revisits[extra["same"]]["payload"]), b"",
                         "a revisit holds the head only")
        # every page done in run 1 was fetched again (the 404, the cut and the reset page
        # failed)
        self.assertEqual(len(rows2), len(rows) - 3)

    def test_killed_coordinator_leaves_every_committed_page_on_disk(self):
        warc_dir = self.tmp.join("warc-kill%d" % self._dbn)
        srv = st.SiteServer(self.site_dir, delay_ms=60).start()
        self.addCleanup(srv.stop)
        seeds = st.write_seeds(self.tmp.join("slow%d.txt" % self._dbn), [srv.url("/")])
        p = st.start_scrape(self.args("--warc-dir", warc_dir, "--concurrency", "2",
                                      "--max-depth", "5", seeds=seeds), np=3)
        st.wait_until(lambda: int(self.scalar("SELECT count(*) FROM fetches "
                                              "WHERE warc_file IS NOT NULL") or 0) >= 8
                      if self.scalar("SELECT to_regclass('fetches')") else False,
                      timeout=120, message="8 archived fetches")
        st.kill_group(p, signal.SIGKILL)
        p.wait()
        files = sorted(glob.glob(os.path.join(warc_dir, "*")))
        self.assertEqual([os.path.basename(f) for f in files], ["t-1-00000.warc.gz.part"],
                         "the killed run's file stays a .part")
        rows = self.q("SELECT url, warc_file, warc_offset, warc_length FROM fetches")
        self.assertGreaterEqual(len(rows), 8)
        for url, wfile, off, length in rows:
            self.assertEqual(wfile + ".part", files[0], "the row names the final name")
            with open(files[0], "rb") as f:
                f.seek(int(off))
                text = gzip.decompress(f.read(int(length)))
            self.assertIn(b"\r\nWARC-Target-URI: " + url.encode() + b"\r\n", text)
        # warcio reads the whole .part: records are written whole
        recs = self.read_warcs(files)
        self.check_records(recs)
        self.assertGreaterEqual(len([r for r in recs if r["type"] == "response"]), len(rows))
        # the next run resumes into a file of its own, completed at its end
        self.crawl("--warc-dir", warc_dir, "--concurrency", "2", "--max-depth", "5",
                   "--lease-ttl", "1s", seeds=seeds, np=3, expect=None)
        names = sorted(os.path.basename(f) for f in glob.glob(os.path.join(warc_dir, "*")))
        self.assertEqual(names, ["t-1-00000.warc.gz.part", "t-2-00000.warc.gz"])

    def test_unwritable_warc_dir_stops_the_run_at_once(self):
        t0 = time.monotonic()
        r = self.crawl("--warc-dir", "/proc/self/no-such-dir", np=3, timeout=120, expect=2)
        self.assertLess(time.monotonic() - t0, 30, "the workers are refused, not waited for")
        self.assertIn("--warc-dir: cannot create /proc/self/no-such-dir", r.stderr)
        self.assertNotIn("aborting the job", r.stderr)
        self.assertEqual(self.scalar("SELECT to_regclass('runs') IS NULL"), "t",
                         "checked before the database is touched")


if __name__ == "__main__":
    unittest.main()
