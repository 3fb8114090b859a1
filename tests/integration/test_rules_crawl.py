"""Rules travel over MPI and a crawl stores exactly what `scrape extract` prints.

The workers run in a folder where the rules file does not exist (an MPMD launch with its own
-wdir), so the records they extract can only come from the rules text rank 0 sent them."""
import json
import os
import subprocess
import unittest

import crawlcase
import scrapetest as st

RULES = r"""# shop.rules - product pages of the generated test shop
site shop-product
  match ^https?://[^/]+/p/\d+\.html$
  record product
    name      css h1                                    required
    price     css p.price                               number
    sku       xpath "//tr[th='SKU']/td"                 trim
    category  xpath "//tr[th='Category']/td"            collapse
    related   css "section.related a.view"  attr href  url  all

site shop-listing
  match ^https?://[^/]+/c/
  record card each css div.card
    title  css h3                   required
    url    css a  attr href  url
"""


class RulesCrawlTest(crawlcase.CrawlCase):
    PAGES = 200

    def setUp(self):
        super().setUp()
        self.coord_dir = self.tmp.join("coord%d" % self._dbn)
        self.worker_dir = self.tmp.join("workers%d" % self._dbn)
        os.makedirs(self.coord_dir)
        os.makedirs(self.worker_dir)
        with open(os.path.join(self.coord_dir, "shop.rules"), "w") as f:
            f.write(RULES)

    def mpmd(self, *extra):
        """mpiexec with rank 0 in coord_dir (which has shop.rules) and 2 workers in
        worker_dir (which has not); the relative --rules path only resolves for rank 0."""
        args = self.args("--rules", "shop.rules", "--parsers", "links,meta", *extra)
        cmd = ["mpiexec", "-n", "1", "-wdir", self.coord_dir, st.scrape_bin()] + args + \
              [":", "-n", "2", "-wdir", self.worker_dir, st.scrape_bin()] + args
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-5000:])
        return r

    def test_rules_reach_the_workers_over_mpi(self):
        self.mpmd()
        self.assertFalse(os.path.exists(os.path.join(self.worker_dir, "shop.rules")))
        with open(os.path.join(self.site_dir, "manifest.json"), encoding="utf-8") as f:
            products = json.load(f)["products"]
        rows = self.q("SELECT u.url, r.rule_set, r.record_type, r.rules_hash, r.data "
                      "FROM records r JOIN urls u ON u.id = r.url_id WHERE r.parser = 'rules'")
        by_url = {}
        for url, rule_set, record, rules_hash, data in rows:
            by_url.setdefault(url, []).append((rule_set, record, rules_hash, json.loads(data)))
        fetched = {u for (u,) in self.q("SELECT url FROM urls WHERE state = 'done' "
                                        "AND url LIKE '%/p/%'")}
        self.assertGreater(len(fetched), 20)
        for url in fetched:
            path = url[len(self.site.origin):]
            want = products[path]
            recs = [r for r in by_url.get(url, []) if r[1] == "product"]
            self.assertEqual(len(recs), 1, url)
            rule_set, record, rules_hash, data = recs[0]
            self.assertEqual((rule_set, record), ("shop-product", "product"))
            self.assertRegex(rules_hash, r"^[0-9a-f]{16}$")
            self.assertEqual(data["name"], want["name"])
            self.assertEqual(data["sku"], want["sku"])
            self.assertAlmostEqual(data["price"], float(want["price"]), places=2)
        cards = self.scalar("SELECT count(*) FROM records WHERE record_type = 'card'")
        self.assertGreater(int(cards), 0)

    def test_stored_records_equal_scrape_extract(self):
        self.mpmd()
        rules = os.path.join(self.coord_dir, "shop.rules")
        pages = self.q("SELECT u.id, u.url FROM urls u WHERE u.state = 'done' "
                       "AND (u.url LIKE '%/p/%' OR u.url LIKE '%/c/%') ORDER BY u.id LIMIT 12")
        self.assertGreater(len(pages), 5)
        for url_id, url in pages:
            path = url[len(self.site.origin):]
            local = os.path.join(self.site_dir, path.lstrip("/"))
            if local.endswith("/"):
                local += "index.html"
            with open(local, encoding="utf-8") as f:
                html = f.read().replace("@ORIGIN@", self.site.origin)
            out = subprocess.run([st.scrape_bin(), "extract", "--rules", rules, "--parsers",
                                  "links,meta", "--url", url, "-"], input=html,
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            printed = [json.loads(line) for line in out.stdout.splitlines()]
            stored = [(p, json.loads(d)) for p, d in self.q(
                "SELECT parser, data FROM records WHERE url_id = :'p1' ORDER BY id", [url_id])]
            self.assertEqual([(r["parser"], r["data"]) for r in printed], stored, url)

    def test_a_broken_rules_file_stops_before_anything_is_written(self):
        with open(os.path.join(self.coord_dir, "shop.rules"), "a") as f:
            f.write("\nsite broken\n  match ^http\n  record x\n    f  xpath \"//a[\"\n")
        args = self.args("--rules", os.path.join(self.coord_dir, "shop.rules"))
        r = st.run_scrape(args, np=3, timeout=120)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertRegex(r.stderr, r"shop\.rules:20: ")
        self.assertEqual(self.scalar("SELECT to_regclass('urls') IS NULL"), "t")


if __name__ == "__main__":
    unittest.main()
