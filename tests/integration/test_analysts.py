"""The results database as a product for analysts: the views, full-text search, the read-only
role, `scrape export` and every query of docs/queries.md, against one real crawl of the
generated shop (parsers links, meta, jsonld, text and a rules file) into a real PostgreSQL.

The fixture is built once per class: a first run, then three product prices lowered on disk
and a second run with --recrawl-after, so "what changed" and "which prices dropped" have
answers.  It also has two 404 seeds, a page disallowed by robots.txt and a duplicate page."""
import csv
import io
import json
import os
import re
import subprocess
import time
import unittest

import crawlcase
import scrapetest as st

RULES = r"""site shop-product
  match ^https?://[^/]+/p/\d+\.html$
  record product
    name      css h1                     required
    price     css p.price                number
    sku       xpath "//tr[th='SKU']/td"  trim
    url       css "link[rel=canonical]"  attr href  url
"""

PARSERS = "links,meta,jsonld,text"
DROPPED = 3


class AnalystsTest(crawlcase.CrawlCase):
    PAGES = 200

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        site = cls.site
        with open(os.path.join(cls.site_dir, "robots.txt"), "w") as f:
            f.write("User-agent: *\nDisallow: /info/returns.html\n")
        cls.rules = cls.tmp.join("shop.rules")
        with open(cls.rules, "w") as f:
            f.write(RULES)
        cls.seeds_all = st.write_seeds(cls.tmp.join("analyst-seeds.txt"), [
            site.url("/"), site.url("/?from=seed"), site.url("/__test/status/404"),
            site.url("/__test/status/410")])
        cls.dbname = "analysts"
        cls.adb = cls.pg.create_database(cls.dbname)
        cls.run_crawl()
        # lower the price of three fetched products, then recrawl everything
        with open(os.path.join(cls.site_dir, "manifest.json"), encoding="utf-8") as f:
            products = json.load(f)["products"]
        fetched = {u for (u,) in cls.pg.query(cls.adb, "SELECT url FROM urls WHERE "
                                             "state = 'done' AND url LIKE '%/p/%'")}
        cls.dropped = {}
        for path, p in sorted(products.items()):
            if site.url(path) not in fetched or len(cls.dropped) == DROPPED:
                continue
            local = os.path.join(cls.site_dir, path.lstrip("/"))
            with open(local, encoding="utf-8") as f:
                html = f.read()
            html = html.replace(p["price"], "1.00")
            with open(local, "w", encoding="utf-8") as f:
                f.write(html)
            cls.dropped[site.url(path)] = (float(p["price"]), p["name"])
        time.sleep(1.1)  # the mtime (Last-Modified) of the edited files moves on
        cls.run_crawl("--recrawl-after", "1ms")

    @classmethod
    def run_crawl(cls, *extra):
        args = ["--seed", cls.seeds_all, "--db", cls.adb, "--job", "shop", "--delay", "0",
                "--host-concurrency", "64", "--quiet", "--max-attempts", "1",
                "--parsers", PARSERS, "--rules", cls.rules,
                # the pages kept, so queries.md's "find a page in the WARC files" has rows
                "--warc-dir", cls.tmp.join("warc")] + list(extra)
        r = st.run_scrape(args, np=3, timeout=300)
        if r.returncode not in (0, 5):
            raise AssertionError("crawl failed (%d): %s" % (r.returncode, r.stderr[-4000:]))

    def setUp(self):
        self.site.clear_log()

    def q(self, sql, params=None, db=None):
        return self.pg.query(db or self.adb, sql, params)

    def scalar(self, sql, params=None, db=None):
        rows = self.q(sql, params, db)
        return rows[0][0] if rows else None

    def scrape(self, *args, expect=0):
        r = subprocess.run([st.scrape_bin()] + list(args), capture_output=True, text=True,
                           timeout=120)
        if expect is not None:
            self.assertEqual(r.returncode, expect, r.stderr[-3000:])
        return r

    # --- views ---------------------------------------------------------------------------

    def test_latest_pages_has_one_row_per_fetched_url_with_its_metadata(self):
        n_ok = self.scalar("SELECT count(DISTINCT url_id) FROM fetches WHERE error IS NULL")
        self.assertEqual(self.scalar("SELECT count(*) FROM latest_pages WHERE job = 'shop'"),
                         n_ok)
        self.assertEqual(self.scalar("SELECT count(*) - count(DISTINCT url) FROM latest_pages"),
                         "0")
        url, (_, name) = sorted(self.dropped.items())[0]
        row = self.q("SELECT job, host, http_status, content_type, bytes::bigint > 0, title, "
                     "canonical, lang, length(content_hash), fetched_at = (SELECT max(fetched_at)"
                     " FROM fetches WHERE url = :'p1') FROM latest_pages WHERE url = :'p1'",
                     [url])
        self.assertEqual(len(row), 1)
        job, host, status, ctype, big, title, canonical, lang, hlen, latest = row[0]
        self.assertEqual((job, host, status, big, canonical, lang, hlen, latest),
                         ("shop", self.site.netloc, "200", "t", url, "en-GB", "64", "t"))
        self.assertTrue(ctype.startswith("text/html"))
        self.assertIn(name, title)
        # an unchanged page answered 304 the second time: its metadata comes from the first
        rows = self.q("SELECT p.title, p.http_status FROM latest_pages p WHERE p.url = :'p1'",
                      [self.site.url("/about.html")])
        self.assertEqual(rows[0][1], "304")
        self.assertIsNotNone(rows[0][0])
        # 404s are not pages
        self.assertEqual(self.scalar("SELECT count(*) FROM latest_pages WHERE url LIKE "
                                     "'%/__test/status/%'"), "0")

    def test_record_rows_flattens_every_record(self):
        self.assertEqual(self.scalar("SELECT count(*) FROM record_rows"),
                         self.scalar("SELECT count(*) FROM records"))
        rows = self.q("SELECT parser, count(*) FROM record_rows WHERE job = 'shop' GROUP BY 1")
        self.assertEqual({p for p, _ in rows}, {"links", "meta", "jsonld", "text", "rules"})
        row = self.q("SELECT rule_set, record_type, data ->> 'sku' FROM record_rows "
                     "WHERE parser = 'rules' AND url = :'p1' ORDER BY record_id LIMIT 1",
                     [sorted(self.dropped)[0]])
        self.assertEqual(row[0][:2], ("shop-product", "product"))
        self.assertRegex(row[0][2], r"^SKU-\d+$")

    def test_run_summary_has_one_row_per_run(self):
        rows = self.q("SELECT run_id, job, status, pages, records, errors, duration IS NOT NULL,"
                      " pages_per_s > 0, workers FROM run_summary ORDER BY run_id")
        self.assertEqual(len(rows), 2)
        self.assertEqual([r[2] for r in rows], ["partial", "done"], "404s fail the first run")
        for run_id, job, status, pages, records, errors, dur, pps, workers in rows:
            self.assertEqual((job, dur, pps, workers), ("shop", "t", "t", "2"))
            self.assertEqual(pages, self.scalar("SELECT count(*) FROM fetches WHERE run_id = "
                                                + run_id))
            self.assertEqual(records, self.scalar("SELECT count(*) FROM records r JOIN fetches f"
                                                  " ON f.id = r.fetch_id WHERE f.run_id = "
                                                  + run_id))
        self.assertEqual(rows[0][5], "2", "the two 404 seeds")

    def test_host_stats_status_and_content_type_counts(self):
        rows = self.q("SELECT host, fetches, pages, errors, http_4xx, http_5xx, network_errors,"
                      " median_ms IS NOT NULL, p95_ms >= median_ms, bytes, robots_status "
                      "FROM host_stats WHERE job = 'shop'")
        self.assertEqual(len(rows), 1)
        host, fetches, pages, errors, h4, h5, net, med, p95, nbytes, robots = rows[0]
        self.assertEqual(host, self.site.netloc)
        self.assertEqual(fetches, self.scalar("SELECT count(*) FROM fetches"))
        self.assertEqual((errors, h4, h5, net, med, p95, robots),
                         ("2", "2", "0", "0", "t", "t", "200"))
        self.assertEqual(int(pages) + 2, int(fetches))
        self.assertEqual(nbytes, self.scalar("SELECT sum(bytes) FROM fetches"))
        status = dict(self.q("SELECT http_status, fetches FROM status_counts WHERE job = 'shop'"))
        self.assertEqual((status["404"], status["410"]), ("1", "1"))
        self.assertEqual(sum(int(v) for v in status.values()), int(fetches))
        self.assertGreater(int(status["304"]), 50)
        types = dict(self.q("SELECT content_type, fetches FROM content_type_counts"))
        self.assertIn("text/html", types)
        self.assertEqual(sum(int(v) for v in types.values()), int(fetches))

    def test_link_graph_holds_the_latest_links_of_each_page(self):
        home = self.site.url("/")
        got = {t for (t,) in self.q("SELECT to_url FROM link_graph WHERE from_url = :'p1'",
                                    [home])}
        want = set(json.loads(self.scalar(
            "SELECT data -> 'links' FROM records r JOIN urls u ON u.id = r.url_id "
            "WHERE u.url = :'p1' AND parser = 'links' ORDER BY r.id DESC LIMIT 1", [home])))
        self.assertEqual(got, want)
        self.assertEqual(self.scalar("SELECT count(*) FROM link_graph"), self.scalar(
            "SELECT sum(jsonb_array_length(data -> 'links')) FROM records r WHERE parser = "
            "'links' AND NOT EXISTS (SELECT 1 FROM records n WHERE n.url_id = r.url_id AND "
            "n.parser = 'links' AND n.id > r.id)"))
        self.assertIn((home,), self.q("SELECT from_url FROM link_graph WHERE to_url = :'p1'",
                                      [self.site.url("/about.html")]))

    def test_full_text_search_finds_a_product_by_a_word_of_its_description(self):
        url, (_, name) = sorted(self.dropped.items())[0]
        desc = self.scalar("SELECT description FROM latest_pages WHERE url = :'p1'", [url])
        self.assertIn(name, desc)
        sql = ("SELECT url FROM page_text, websearch_to_tsquery('simple', :'p1') AS q "
               "WHERE job = 'shop' AND tsv @@ q ORDER BY ts_rank(tsv, q) DESC, url")
        found = [u for (u,) in self.q(sql, ['"%s"' % name.lower()])]
        self.assertIn(url, found)
        self.assertEqual(self.q(sql, ["zzyzxnotaword"]), [])
        # The view's tsv matches the expression index.  On a database this small the
        # planner prefers any other scan, so hide the others for the EXPLAIN (rolled back).
        for query in ("SELECT url FROM page_text WHERE tsv @@ "
                      "websearch_to_tsquery('simple', 'glass')",
                      "SELECT 1 FROM records r WHERE r.parser = 'text' AND to_tsvector("
                      "'simple', r.data->>'text') @@ websearch_to_tsquery('simple', "
                      "'solar panels')"):
            plan = "\n".join(r[0] for r in self.q(
                "BEGIN; DROP INDEX records_job_parser; SET LOCAL enable_seqscan = off; "
                "EXPLAIN " + query + "; ROLLBACK"))
            self.assertIn("records_text_fts", plan)

    def test_schema_with_views_applies_twice(self):
        self.scrape("init-db", "--db", self.adb)
        self.scrape("init-db", "--db", self.adb)
        self.assertEqual(self.scalar("SELECT count(*) FROM pg_views WHERE schemaname = 'public'"),
                         "8")

    # --- the read-only role --------------------------------------------------------------

    def test_reader_role_can_select_and_nothing_else(self):
        role = 'an"alyst-%d' % os.getpid()
        self.q('CREATE SCHEMA IF NOT EXISTS private; '
               'CREATE TABLE IF NOT EXISTS private.secret (x int)')
        r = self.scrape("init-db", "--db", self.adb, "--reader", role)
        self.assertIn("can read", r.stdout)
        self.scrape("init-db", "--db", self.adb, "--reader", role)  # idempotent
        self.assertEqual(self.scalar("SELECT rolcanlogin::text || rolsuper::text || "
                                     "rolcreaterole::text FROM pg_roles WHERE rolname = :'p1'",
                                     [role]), "truefalsefalse")
        as_reader = self.adb + " user='%s'" % role.replace("'", "\\'")
        for view in ("latest_pages", "record_rows", "run_summary", "host_stats",
                     "status_counts", "content_type_counts", "link_graph", "page_text", "urls"):
            self.assertGreater(int(self.pg.scalar(as_reader, "SELECT count(*) FROM " + view)),
                               0, view)
        for sql in ("INSERT INTO jobs (name) VALUES ('x')", "UPDATE urls SET depth = 0",
                    "DELETE FROM records", "SELECT * FROM private.secret",
                    "CREATE TABLE public.mine (x int)"):
            with self.assertRaises(st.PgError, msg=sql) as cm:
                self.pg.query(as_reader, sql)
            self.assertIn("permission denied", cm.exception.stderr)
        # a table created later by the crawl's user is readable too (default privileges)
        self.q("CREATE TABLE IF NOT EXISTS later_table (x int); INSERT INTO later_table VALUES (1)")
        self.assertEqual(self.pg.scalar(as_reader, "SELECT x FROM later_table"), "1")
        r = self.scrape("init-db", "--db", self.adb, "--reader", "", expect=2)

    # --- export --------------------------------------------------------------------------

    def stored(self, where="TRUE"):
        return [(u, p, rs, rt, json.loads(d)) for u, p, rs, rt, d in self.q(
            "SELECT u.url, r.parser, r.rule_set, r.record_type, r.data FROM records r "
            "JOIN urls u ON u.id = r.url_id JOIN fetches f ON f.id = r.fetch_id WHERE " + where
            + " ORDER BY r.id")]

    def test_export_jsonl_equals_the_records_table(self):
        out = self.tmp.join("all.jsonl")
        self.scrape("export", "--db", self.adb, "--job", "shop", "-o", out)
        with open(out, encoding="utf-8") as f:
            got = [json.loads(line) for line in f]
        self.assertEqual(set(got[0]), {"url", "fetched_at", "parser", "rule_set", "record",
                                       "data"})
        self.assertEqual([(g["url"], g["parser"], g["rule_set"], g["record"], g["data"])
                          for g in got], self.stored())
        self.assertRegex(got[0]["fetched_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00$")
        self.assertFalse(os.path.exists(out + ".part"))
        # filters, to stdout
        r = self.scrape("export", "--db", self.adb, "--job", "shop", "--parser", "rules",
                        "--record", "product")
        rows = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(len(rows), int(self.scalar("SELECT count(*) FROM records WHERE "
                                                    "record_type = 'product'")))
        second = self.scalar("SELECT min(fetched_at) FROM fetches WHERE run_id = 2")
        r = self.scrape("export", "--db", self.adb, "--job", "shop", "--since", second)
        self.assertEqual(len(r.stdout.splitlines()), len(self.stored(
            "f.fetched_at >= (SELECT min(fetched_at) FROM fetches WHERE run_id = 2)")))
        r = self.scrape("export", "--db", self.adb, "--job", "shop", "--since", "1 hour")
        self.assertEqual(len(r.stdout.splitlines()), len(got))

    def test_export_csv_has_a_column_per_rules_field(self):
        out = self.tmp.join("products.csv")
        self.scrape("export", "--db", self.adb, "--job", "shop", "--format", "csv",
                    "--parser", "rules", "-o", out)
        with open(out, newline="", encoding="utf-8") as f:
            raw = f.read()
        self.assertIn("\r\n", raw)
        rows = list(csv.reader(io.StringIO(raw, newline="")))
        # a field named like a fixed column (url, as in docs/rules.md) is headed data.url
        self.assertEqual(rows[0], ["url", "fetched_at", "parser", "rule_set", "record",
                                   "name", "price", "sku", "data.url"])
        self.assertEqual(len(set(rows[0])), len(rows[0]))
        want = self.stored("r.parser = 'rules'")
        self.assertEqual(len(rows) - 1, len(want))
        for row, (url, parser, rs, rt, data) in zip(rows[1:], want):
            self.assertEqual(row[0], url)
            self.assertEqual(row[2:5], [parser, rs, rt])
            self.assertEqual(row[5], data["name"])
            self.assertAlmostEqual(float(row[6]), data["price"], places=6)
            self.assertEqual(row[7], data["sku"])
            self.assertEqual(row[8], data["url"])
            self.assertEqual(row[8], url)  # the canonical of a product page is itself

    def test_export_csv_of_every_parser_quotes_json(self):
        r = self.scrape("export", "--db", self.adb, "--job", "shop", "--format", "csv")
        rows = list(csv.DictReader(io.StringIO(r.stdout, newline="")))
        want = self.stored()
        self.assertEqual(len(rows), len(want))
        for row, (url, parser, rs, rt, data) in zip(rows, want):
            self.assertEqual((row["url"], row["parser"]), (url, parser))
            if parser == "rules":
                self.assertEqual((row["data"], row["sku"]), ("", data["sku"]))
                self.assertEqual(row["data.url"], data["url"])
            else:
                self.assertEqual(json.loads(row["data"]), data)
                self.assertEqual(row["name"], "")

    def test_export_errors(self):
        r = self.scrape("export", "--db", self.adb, "--job", "nope", expect=2)
        self.assertIn("no job named 'nope' in this database (its jobs: 'shop')", r.stderr)
        # a --parser or --record the job does not hold is an error, not an empty export
        for args, needle in [
                (["--parser", "rulez"], "no records of parser 'rulez' in job 'shop' (its "
                                        "parsers: 'jsonld', 'links', 'meta', 'rules', 'text')"),
                (["--record", "nosuch"], "no records of type 'nosuch' in job 'shop' (its record "
                                         "types: "),
                (["--parser", "rules", "--record", "nosuch"],
                 "no records of type 'nosuch' from parser 'rules' in job 'shop' (its record "
                 "types: 'product')"),
                (["--parser", "meta", "--record", "product"],
                 "no records of type 'product' from parser 'meta' in job 'shop'"),
                (["--format", "csv", "--parser", "rulez"], "no records of parser 'rulez'")]:
            out = self.tmp.join("nothing.jsonl")
            r = self.scrape("export", "--db", self.adb, "--job", "shop", *args, "-o", out,
                            expect=2)
            self.assertIn(needle, r.stderr, args)
            self.assertFalse(os.path.exists(out), args)
        types = ", ".join("'%s'" % t for (t,) in self.q(
            "SELECT DISTINCT record_type FROM records WHERE record_type IS NOT NULL ORDER BY 1"))
        self.assertIn("'product'", types)
        r = self.scrape("export", "--db", self.adb, "--job", "shop", "--record", "nosuch",
                        expect=2)
        self.assertIn("(its record types: %s)" % types, r.stderr)
        self.assertEqual(r.stdout, "")
        # what the job holds still exports, with a filter that selects nothing as well
        r = self.scrape("export", "--db", self.adb, "--job", "shop", "--parser", "rules",
                        "--record", "product", "--since", "2999-01-01")
        self.assertEqual(r.stdout, "")
        self.scrape("export", "--db", self.adb, "--job", "shop", "--format", "xml", expect=2)
        self.scrape("export", "--db", self.adb, "--job", "shop", "--since", "whenever",
                    expect=2)
        self.scrape("export", "--db", self.adb, "--job", "shop", "extra", expect=2)

    # --- the cookbook --------------------------------------------------------------------

    def test_every_query_of_docs_queries_md_runs(self):
        with open(os.path.join(st.repo_root(), "docs", "queries.md"), encoding="utf-8") as f:
            blocks = re.findall(r"```sql\n(.*?)```", f.read(), re.S)
        self.assertGreaterEqual(len(blocks), 10)
        params = {"job": "shop", "url": sorted(self.dropped)[0],
                  "phrase": sorted(self.dropped.values())[0][1].split()[-1]}
        empty = []
        for sql in blocks:
            rows = self.q(sql, params)
            if not rows:
                empty.append(sql)
                self.assertTrue(sql.startswith("-- may be empty"), "no rows from:\n" + sql)
        self.assertLessEqual(len(empty), 3)

    def test_cookbook_answers_are_right(self):
        changed = {u for (u,) in self.q(
            "SELECT url FROM fetches WHERE changed AND run_id = 2")}
        self.assertEqual(changed, set(self.dropped))
        drops = self.q("SELECT url, before, price FROM (SELECT url, (data->>'price')::numeric "
                       "AS price, lag((data->>'price')::numeric) OVER (PARTITION BY url ORDER "
                       "BY fetched_at, record_id) AS before FROM record_rows WHERE parser = "
                       "'rules') s WHERE price < before")
        self.assertEqual({u: (float(b), float(p)) for u, b, p in drops},
                         {u: (old, 1.0) for u, (old, _) in self.dropped.items()})
        self.assertEqual(self.q("SELECT url FROM urls WHERE state = 'skipped'"),
                         [(self.site.url("/info/returns.html"),)])
        dup = self.q("SELECT array_agg(url ORDER BY url) FROM latest_pages GROUP BY "
                     "content_hash HAVING count(*) > 1")
        self.assertEqual(dup, [("{%s,%s}" % (self.site.url("/"),
                                              self.site.url("/?from=seed")),)])


if __name__ == "__main__":
    unittest.main()
