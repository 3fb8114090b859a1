"""Every SQL value is a parameter: URLs and pages full of quotes, backslashes, NUL-looking
escapes, SQL fragments and invalid UTF-8 are stored intact (or, where jsonb cannot hold a byte,
with U+FFFD in its place), and the tables are still there afterwards."""
import json
import os
import unittest

import scrapetest as st

EVIL = "Robert'); DROP TABLE urls;-- \\ \\\\ \\x00 \\u0000 %00 \" ` $$ $1"


class HostileValuesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        st.require_scrape_bin()
        cls.tmp = st.TempDir(prefix="evil-")
        cls.pg = st.PgServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()
        cls.tmp.cleanup()

    def test_hostile_values_are_stored_intact(self):
        root = self.tmp.join("site")
        os.makedirs(os.path.join(root, "p"))
        links = ["/p/O'Brien.html", "/p/a%27b.html?q=%27%3B%20DROP%20TABLE%20runs%3B--",
                 "/p/back%5Cslash.html?x=%00&y=%22"]
        with open(os.path.join(root, "index.html"), "wb") as f:
            f.write(("<html><head><title>%s</title>"
                     "<meta name=\"description\" content=\"%s\"></head><body>%s"
                     "<p>bad bytes: \xff\xfe\xc3 and a NUL: \x00 end</p></body></html>"
                     % (EVIL.replace("&", "&amp;").replace("<", "&lt;"),
                        EVIL.replace('"', "&quot;"),
                        "".join('<a href="%s">x</a>' % l for l in links))
                     ).encode("latin-1"))
        for name in ("O'Brien.html", "a'b.html", "back\\slash.html"):
            with open(os.path.join(root, "p", name), "w", encoding="utf-8") as f:
                f.write("<html><head><title>%s</title></head><body>ok</body></html>" % EVIL)
        db = self.pg.create_database("evil")
        with st.SiteServer(root) as srv:
            seeds = st.write_seeds(self.tmp.join("seeds.txt"), [srv.url("/")])
            r = st.run_scrape(["--seed", seeds, "--db", db, "--delay", "0", "--quiet"], np=2,
                              timeout=120)
            self.assertIn(r.returncode, (0, 5), r.stderr)
            q = lambda sql, p=None: self.pg.query(db, sql, p)
            # the tables are all still there, and every page was handled
            for table in ("jobs", "runs", "urls", "fetches", "records"):
                self.assertEqual(q("SELECT to_regclass(:'p1') IS NOT NULL", [table]), [("t",)])
            urls = {u for (u,) in q("SELECT url FROM urls")}
            self.assertIn(srv.url("/p/O'Brien.html"), urls)
            self.assertIn(srv.url("/p/a%27b.html?q=%27%3B%20DROP%20TABLE%20runs%3B--"), urls)
            self.assertIn(srv.url("/p/back%5Cslash.html?x=%00&y=%22"), urls)
            meta = json.loads(q("SELECT r.data FROM records r JOIN urls u ON u.id = r.url_id "
                                "WHERE u.url = :'p1' AND r.parser = 'meta'", [srv.url("/")])[0][0])
            self.assertEqual(meta["title"], " ".join(EVIL.split()))
            self.assertEqual(meta["description"], " ".join(EVIL.split()))
            for (title,) in q("SELECT r.data->>'title' FROM records r JOIN urls u "
                              "ON u.id = r.url_id WHERE u.url LIKE '%/p/%' "
                              "AND r.parser = 'meta'"):
                self.assertEqual(title, " ".join(EVIL.split()))
            self.assertEqual(q("SELECT count(*) FROM fetches WHERE http_status = 200"),
                             [("4",)])


if __name__ == "__main__":
    unittest.main()
