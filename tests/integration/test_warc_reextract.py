"""--warc-dir and `scrape reextract --job` together (docs/warc.md, docs/reextract.md): the
issue's done-when, "reextract gives the same records as a fresh crawl with the same rules
while the server's log shows zero requests", with the WARC files scrape itself wrote.

A real mpiexec -n 3 crawl of a copy of the test shop (plus test pages served gzip-encoded,
deflate-encoded, chunked, and two URLs with the same body) keeps its pages with --warc-dir;
three pages change and the job is crawled again (--recrawl-after): the unchanged pages come
back 304 or with the same hash and get revisit records, so the latest fetch of most URLs is
a revisit whose body is in the first run's file.  Then `scrape reextract --job` with changed
rules (mpiexec -n 3, the site server's log must stay empty) must give exactly the records of
a fresh crawl of the site with those rules in another job.  Done again with the same key it
does nothing; with the first file deleted, the pages whose bodies were in it are reported
and skipped, the others stored, and the run ends partial (exit 5)."""
import glob
import json
import os
import shutil
import unittest

import crawlcase
import scrapetest as st

RULES_1 = r"""# the crawl's rules
site shop-product
  match ^https?://[^/]+/p/\d+\.html$
  record product
    name      css h1                                    required
    price     css p.price                               number
"""

# changed: other fields, another record type, and rules for the test pages (so the gzip,
# deflate, chunked and duplicate pages give rules records too)
RULES_2 = r"""# the reextract's rules
site shop-product
  match ^https?://[^/]+/p/\d+\.html$
  record item
    title     css h1  upper                             required
    price     css p.price                               number
    sku       xpath "//tr[th='SKU']/td"                 trim
    related   css "section.related a.view"  attr href  url  all

site shop-listing
  match ^https?://[^/]+/c/
  record card each css div.card
    title  css h3                   required
    url    css a  attr href  url

site test-pages
  match ^https?://[^/]+/__test/
  record page
    title  css title
    h1     css h1
    links  css a  attr href  url  all
    text   css p
"""


class WarcReextractTest(crawlcase.CrawlCase):
    PAGES = 60

    def setUp(self):
        super().setUp()
        self.work = self.tmp.join("w%d" % self._dbn)
        os.makedirs(self.work)
        # a copy of the site of our own: three pages change between the two crawls
        self.root = os.path.join(self.work, "site")
        shutil.copytree(self.site_dir, self.root)
        self.srv = st.SiteServer(self.root).start()
        self.addCleanup(self.srv.stop)
        self.rules = {}
        for name, text in (("r1", RULES_1), ("r2", RULES_2)):
            self.rules[name] = os.path.join(self.work, name + ".rules")
            with open(self.rules[name], "w") as f:
                f.write(text)
        u = self.srv.url
        self.extra = {
            "gzip": u("/__test/gzip?title=zipped"),
            "gzip-links": u("/__test/encoded?enc=gzip"),
            "deflate": u("/__test/encoded?enc=deflate"),
            "chunked": u("/__test/huge?n=5000&chunked=1"),
            "dup-a": u("/__test/page?title=twin"),
            "dup-b": u("/__test/page?title=twin&copy=2"),
        }
        self.seeds = st.write_seeds(os.path.join(self.work, "seeds.txt"),
                                    [u("/")] + list(self.extra.values()))
        self.warc_dir = os.path.join(self.work, "warc")

    def crawl(self, *extra, job="j", expect=0, **kw):
        return super().crawl("--max-depth", "1000", *extra, seeds=self.seeds, job=job,
                             expect=expect, **kw)

    def reextract(self, *args, expect=0):
        r = st.run_scrape(["reextract", "--db", self.db, "--quiet", "--peer-timeout", "30s"]
                          + list(args), np=3, timeout=300)
        if expect is not None:
            self.assertEqual(r.returncode, expect,
                             "scrape reextract exited %d\n--- stdout\n%s\n--- stderr\n%s"
                             % (r.returncode, r.stdout[-3000:], r.stderr[-6000:]))
        return r

    def record_set(self, where):
        rows = self.q("SELECT u.url, r.parser, coalesce(r.rule_set, ''), "
                      "coalesce(r.record_type, ''), r.data::text FROM records r "
                      "JOIN urls u ON u.id = r.url_id JOIN jobs j ON j.id = r.job_id "
                      "WHERE " + where)
        return {(url, parser, rs, rt, json.dumps(json.loads(data), sort_keys=True))
                for url, parser, rs, rt, data in rows}

    def change_pages(self, n):
        """Changes n product pages of the copy (their bodies and so their ETags)."""
        pages = sorted(glob.glob(os.path.join(self.root, "p", "*.html")))[:n]
        self.assertEqual(len(pages), n)
        for p in pages:
            with open(p, "rb") as f:
                body = f.read()
            self.assertIn(b"</body>", body)
            with open(p, "wb") as f:
                f.write(body.replace(b"</body>", b"<!-- changed --></body>"))
        return pages

    def summary(self, run):
        return json.loads(self.scalar("SELECT summary FROM runs WHERE id = %d" % run))

    def test_reextract_of_a_warc_dir_crawl_equals_a_fresh_crawl_with_no_request(self):
        # 1. the crawl with its WARC files, then a recrawl after three pages changed
        self.crawl("--warc-dir", self.warc_dir, "--rules", self.rules["r1"])
        changed = self.change_pages(3)
        self.crawl("--warc-dir", self.warc_dir, "--rules", self.rules["r1"],
                   "--recrawl-after", "1ms")
        files = sorted(glob.glob(os.path.join(self.warc_dir, "*")))
        self.assertEqual([os.path.basename(f) for f in files],
                         ["j-1-00000.warc.gz", "j-2-00000.warc.gz"])
        kinds = dict(self.q("SELECT url, http_status || ':' || warc_type FROM fetches "
                            "WHERE run_id = 2"))
        self.assertEqual(kinds[self.srv.url("/")], "304:revisit")
        for name in self.extra:  # the test pages answer 200 with the same bytes again
            self.assertEqual(kinds[self.extra[name]], "200:revisit", name)
        for p in changed:
            url = self.srv.url(os.path.relpath(p, self.root))
            self.assertEqual(kinds[url], "200:response", url)
        n304 = sum(1 for k in kinds.values() if k == "304:revisit")
        self.assertGreater(n304, 20, "most shop pages come back 304")
        # the pages: each URL's latest fetch with a WARC record (docs/reextract.md)
        pages = {u for (u,) in self.q(
            "SELECT DISTINCT url FROM fetches WHERE job_id = (SELECT id FROM jobs "
            "WHERE name = 'j') AND warc_file IS NOT NULL")}
        parsed = {u for (u,) in self.q(
            "SELECT DISTINCT ON (url) url FROM fetches WHERE job_id = (SELECT id FROM jobs "
            "WHERE name = 'j') AND warc_file IS NOT NULL AND http_status = 200 "
            "ORDER BY url, id DESC")}

        # 2. the reextract with changed rules: no request, the records of a fresh crawl
        self.srv.clear_log()
        r = self.reextract("--job", "j", "--rules", self.rules["r2"])
        self.assertEqual(self.srv.log(), [], "reextract sent HTTP requests")
        run = int(self.scalar("SELECT max(id) FROM runs WHERE kind = 'reextract'"))
        s = self.summary(run)
        self.assertEqual((s["pages"], s["damaged"], s["errors"]), (len(pages), 0, 0), r.stderr)
        self.assertEqual(self.scalar("SELECT status FROM runs WHERE id = %d" % run), "done")
        got = self.record_set("r.reextract_run = %d" % run)
        # every 2xx page got its records (links and meta at least), revisits included
        self.assertEqual({x[0] for x in got if x[1] == "links"}, parsed)
        self.crawl("--rules", self.rules["r2"], job="fresh")
        want = self.record_set("j.name = 'fresh'")
        self.assertGreater(len([x for x in want if x[1] == "rules"]), 60)
        for name in ("gzip", "deflate", "chunked", "dup-a", "dup-b"):
            self.assertIn(self.extra[name], {x[0] for x in want if x[1] == "rules"}, name)
        self.assertEqual(got - want, set(), "records the fresh crawl did not give")
        self.assertEqual(want - got, set(), "records of the fresh crawl missing")
        self.assertIn("%d pages, %d records" % (len(pages), len(got)), r.stderr)
        self.measured = (len(pages), s["seconds"])

        # 3. the same key again: nothing redone, nothing doubled
        n = self.scalar("SELECT count(*) FROM records")
        self.srv.clear_log()
        r = self.reextract("--job", "j", "--rules", self.rules["r2"])
        self.assertIn("0 pages, 0 records", r.stderr)
        self.assertEqual(self.scalar("SELECT count(*) FROM records"), n)
        run2 = int(self.scalar("SELECT max(id) FROM runs WHERE kind = 'reextract'"))
        self.assertEqual(self.summary(run2)["done_before"], len(pages))
        self.assertIn("%d pages done before" % len(pages), r.stderr)
        self.assertEqual(self.srv.log(), [])

        # 4. the first run's file is gone: the pages whose bodies were in it are reported
        # and skipped; the changed pages (their bodies are in the second file) are stored
        os.unlink(files[0])
        self.srv.clear_log()
        r = self.reextract("--job", "j", "--parsers", "links", expect=5)
        self.assertEqual(self.srv.log(), [])
        run3 = int(self.scalar("SELECT max(id) FROM runs WHERE kind = 'reextract'"))
        self.assertGreater(run3, run2)
        self.assertEqual(self.scalar("SELECT status FROM runs WHERE id = %d" % run3), "partial")
        stored = {u for (u,) in self.q(
            "SELECT DISTINCT u.url FROM records r JOIN urls u ON u.id = r.url_id "
            "WHERE r.reextract_run = %d" % run3)}
        in_second = {self.srv.url(os.path.relpath(p, self.root)) for p in changed}
        self.assertEqual(stored, in_second)
        s = self.summary(run3)
        self.assertEqual(s["pages"], len(in_second))
        self.assertEqual(s["damaged"], len(pages) - len(in_second))
        self.assertIn(files[0], r.stderr)
        missing = pages - in_second
        for url in missing:
            self.assertIn(url, r.stderr, "a missing page is named")


if __name__ == "__main__":
    unittest.main()
