"""Feedback for rules authors: per rule set, the pages it matched, the records it stored,
those dropped by `required`, those left out as empty, and fields that found nothing, in the
run summary, in runs.summary and in `scrape report`; `scrape extract` says when no rule set
matches the URL (docs/rules.md, "Feedback")."""
import json
import subprocess
import unittest

import crawlcase
import scrapetest as st

RULES = r"""site shop-product
  match ^https?://[^/]+/p/\d+\.html$
  record product
    name     css h1        required
    price    css p.price   number
    nothing  css blink
  record half
    name     css h1
    missing  css blink     required
  record void
    x        css blink

site nowhere
  match ^https?://nowhere\.invalid/
  record r
    t  css h1
"""


class RulesFeedbackTest(crawlcase.CrawlCase):
    PAGES = 60

    def test_feedback_per_rule_set(self):
        rules = self.tmp.join("feedback-%d.rules" % self._dbn)
        with open(rules, "w", encoding="utf-8") as f:
            f.write(RULES)
        r = self.crawl("--max-depth", "1", "--rules", rules, "--parsers", "links", np=2)
        products = int(self.scalar("SELECT count(*) FROM urls WHERE state = 'done' "
                                   "AND url ~ '/p/[0-9]+\\.html$'"))
        self.assertGreater(products, 3)
        self.assertEqual(int(self.scalar("SELECT count(*) FROM records "
                                         "WHERE record_type = 'product'")), products)
        sets = json.loads(self.scalar("SELECT summary->'rule_sets' FROM runs WHERE id = 1"))
        self.assertEqual(sets["shop-product"], {"pages": products, "records": products,
                                                "dropped": products, "empty": products,
                                                "empty_fields": products})
        self.assertEqual(sets["nowhere"], {"pages": 0, "records": 0, "dropped": 0, "empty": 0,
                                           "empty_fields": 0})
        # the run summary on stdout
        self.assertIn("dropped (required)", r.stdout)
        row = [l for l in r.stdout.splitlines() if l.strip().startswith("shop-product")]
        self.assertEqual(len(row), 1, r.stdout)
        self.assertEqual(row[0].split()[1:], [str(products)] * 5)
        self.assertRegex(r.stdout, r"nowhere\s+0\s+0\s+0\s+0\s+0\s+\(matched no page\)")
        # scrape report
        rep = subprocess.run([st.scrape_bin(), "report", "--job", "t", "--db", self.db],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(rep.returncode, 0, rep.stderr)
        self.assertIn("<h3>Rules feedback</h3>", rep.stdout)
        table = rep.stdout[rep.stdout.index("<h3>Rules feedback</h3>"):]
        table = table[:table.index("</table>")]
        self.assertIn("dropped (required)", table)
        self.assertIn("shop-product", table)
        self.assertIn("nowhere", table)

    def test_extract_says_when_no_rule_set_matches(self):
        rules = self.tmp.join("feedback-x%d.rules" % self._dbn)
        with open(rules, "w", encoding="utf-8") as f:
            f.write(RULES)
        page = self.tmp.join("page-%d.html" % self._dbn)
        with open(page, "w", encoding="utf-8") as f:
            f.write("<html><head><title>t</title></head><body><h1>A</h1></body></html>")
        out = subprocess.run([st.scrape_bin(), "extract", "--rules", rules, "--parsers",
                              "rules", "--url", "http://example.com/p/1.htm", page],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "")
        self.assertIn("no rule set in %s matches http://example.com/p/1.htm "
                      "(sites: shop-product, nowhere)" % rules, out.stderr)
        out = subprocess.run([st.scrape_bin(), "extract", "--rules", rules, "--parsers",
                              "rules", "--url", "http://example.com/p/1.html", page],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(len(out.stdout.splitlines()), 1)
        self.assertIn("rule set 'shop-product': 1 records; 1 dropped (a required field found "
                      "nothing), 1 empty (no field found anything), 2 fields of its records "
                      "found nothing", out.stderr)


if __name__ == "__main__":
    unittest.main()
