"""A job keeps its settings and its rules: what a cron run without options must get.

- A changed rules file reaches pages that would answer 304: a page last extracted with other
  rules or parsers is fetched without If-None-Match / If-Modified-Since (docs/rules.md,
  "Changing the rules").
- A job's settings are stored on its first run and reused by later runs unless given again
  (docs/cron.md, "A job keeps its settings"); `scrape jobs` lists them.
"""
import json
import os
import re
import subprocess
import time
import unittest

import crawlcase
import scrapetest as st

RULES_A = r"""site shop-a
  match ^https?://[^/]+/p/\d+\.html$
  record product_a
    name  css h1  required
"""

RULES_B = r"""site shop-b
  match ^https?://[^/]+/p/\d+\.html$
  record product_b
    title  css h1  required
    price  css p.price  number
"""


class JobSettingsTest(crawlcase.CrawlCase):
    PAGES = 80

    def write(self, name, text):
        path = self.tmp.join("%s-%d" % (name, self._dbn))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def bare(self, *extra, job="t"):
        """A cron-like run: database, job and the options given, nothing else."""
        r = st.run_scrape(["--db", self.db, "--job", job, "--quiet"] + list(extra), np=2,
                          timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-5000:])
        return r

    def test_new_rules_reach_pages_that_answer_304(self):
        rules = self.write("shop.rules", RULES_A)
        self.crawl("--max-depth", "1", "--rules", rules, np=2)
        products = {u for (u,) in self.q("SELECT url FROM urls WHERE state = 'done' "
                                         "AND url ~ '/p/[0-9]+\\.html$'")}
        self.assertGreater(len(products), 3)
        a = dict(self.q("SELECT u.url, count(*) FROM records r JOIN urls u ON u.id = r.url_id "
                        "WHERE r.record_type = 'product_a' GROUP BY u.url"))
        self.assertEqual(set(a), products)
        # the rules change; the site does not (it answers 304 to conditional requests)
        with open(rules, "w", encoding="utf-8") as f:
            f.write(RULES_B)
        self.site.clear_log()
        r = self.crawl("--max-depth", "1", "--rules", rules, "--recrawl-after", "1ms", np=2)
        b = {u for (u,) in self.q(
            "SELECT DISTINCT u.url FROM records r JOIN urls u ON u.id = r.url_id "
            "JOIN fetches f ON f.id = r.fetch_id "
            "WHERE r.record_type = 'product_b' AND f.run_id = 2")}
        self.assertEqual(products - b, set(), "pages that got no record of the new rules")
        self.assertIn("rules or parsers changed since the last run: pages are fetched "
                      "unconditionally", r.stderr)
        statuses = dict(self.q("SELECT http_status, count(*) FROM fetches WHERE run_id = 2 "
                               "GROUP BY http_status"))
        self.assertNotIn("304", statuses, "a page answered 304 to the changed rules")
        conditional = [e for e in self.site.log()
                       if e["if_none_match"] or e["if_modified_since"]]
        self.assertEqual(conditional, [], "conditional requests after the rules changed")
        # same rules again: conditional requests come back, and pages keep B's records
        self.site.clear_log()
        r = self.crawl("--max-depth", "1", "--rules", rules, "--recrawl-after", "1ms", np=2)
        self.assertNotIn("rules or parsers changed", r.stderr)
        statuses = dict(self.q("SELECT http_status, count(*) FROM fetches WHERE run_id = 3 "
                               "GROUP BY http_status"))
        self.assertEqual(list(statuses), ["304"], statuses)
        self.assertEqual(self.q("SELECT count(DISTINCT extract_hash) FROM runs"), [("2",)])

    def test_a_job_keeps_its_settings(self):
        rules = self.write("keep.rules", RULES_A)
        # run 1: the options that define the job
        r1 = self.crawl("--max-depth", "1", "--rules", rules, np=2)
        depth1 = int(self.scalar("SELECT count(*) FROM urls WHERE state = 'done'"))
        # run 2, as cron would start it, from elsewhere: the same depth and rules file, read
        # again (it changed: its new records reach every product page)
        with open(rules, "w", encoding="utf-8") as f:
            f.write(RULES_B)
        self.q("UPDATE urls SET state = 'queued' WHERE state = 'done'")
        cwd = os.getcwd()
        os.chdir(self.tmp.path)
        try:
            r = self.bare()
        finally:
            os.chdir(cwd)
        self.assertEqual(self.scalar("SELECT max(depth) FROM urls u JOIN fetches f "
                                     "ON f.url_id = u.id WHERE f.run_id = 2"), "1")
        self.assertEqual(int(self.scalar("SELECT count(*) FROM fetches WHERE run_id = 2")),
                         depth1)
        self.assertGreater(int(self.scalar(
            "SELECT count(*) FROM records r JOIN fetches f ON f.id = r.fetch_id "
            "WHERE f.run_id = 2 AND r.record_type = 'product_b'")), 3)
        self.assertIn("job 't' has no stored settings", r1.stderr)
        stored = json.loads(self.scalar("SELECT settings FROM jobs WHERE name = 't'"))
        self.assertEqual(stored["max-depth"], "1")
        self.assertEqual(stored["rules"], os.path.realpath(rules))
        self.assertNotIn("seed", stored)
        self.assertNotIn("db", stored)
        self.assertNotIn("quiet", stored)
        self.assertRegex(r.stderr, r"job 't': using stored settings .*max-depth=1")
        self.assertIn("rules=" + os.path.realpath(rules), r.stderr)
        # run 3: an option given again overrides, is named, and is kept
        self.q("UPDATE urls SET state = 'queued' WHERE depth = 0")
        r = self.bare("--max-depth", "0")
        self.assertRegex(r.stderr, r"overridden on the command line: max-depth=0")
        depths = [d for (d,) in self.q("SELECT settings->>'max-depth' FROM runs ORDER BY id")]
        self.assertEqual(depths, ["1", "1", "0"], "the settings each run crawled with")
        self.assertEqual(self.scalar("SELECT settings->>'rules' FROM runs WHERE id = 2"),
                         os.path.realpath(rules))
        self.assertEqual(json.loads(self.scalar("SELECT settings FROM jobs"))["max-depth"], "0")
        # scrape jobs lists the job, its settings and its last run
        out = subprocess.run([st.scrape_bin(), "jobs", "--db", self.db], capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"(?m)^t\s+3\s+done\s+0\s+\d{4}-\d\d-\d\d ")
        self.assertIn("max-depth=0", out.stdout)
        self.assertIn("rules=" + os.path.realpath(rules), out.stdout)
        h = subprocess.run([st.scrape_bin(), "jobs", "--help"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(h.returncode, 0)
        self.assertIn("usage: scrape jobs", h.stdout)


if __name__ == "__main__":
    unittest.main()
