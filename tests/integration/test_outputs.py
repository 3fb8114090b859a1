"""The files `scrape export` and `scrape report` write: a formula-looking CSV cell is
neutralized unless --csv-raw, and -o FILE never opens or follows a name planted in advance
(its temporary file comes from mkstemp), against one small single-process crawl into a real
PostgreSQL."""
import csv
import io
import os
import subprocess
import unittest

import scrapetest as st

# Values a spreadsheet would run as formulas (OWASP "CSV injection"): the rules keep them
# as they are written in the page's attributes.
CELLS = {"eq": "=HYPERLINK(\"http://evil.example/\",\"x\")", "plus": "+1+2",
         "minus": "-2+3", "at": "@SUM(A1:A2)", "tab": "\tcmd", "cr": "\rcmd",
         "plain": "a=b"}

RULES = """site t
  match ^https?://
  record cells
""" + "".join("    %s  css div#%s  attr data-v\n" % (k, k) for k in sorted(CELLS))


def page():
    divs = "".join('<div id="%s" data-v="%s"></div>\n'
                   % (k, v.replace("&", "&amp;").replace('"', "&quot;").replace("\t", "&#9;")
                      .replace("\r", "&#13;"))
                   for k, v in sorted(CELLS.items()))
    return "<!doctype html><html><head><title>t</title></head><body>\n%s</body></html>\n" % divs


class OutputsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        st.require_scrape_bin()
        cls.tmp = st.TempDir(prefix="outputs-")
        site = cls.tmp.join("site")
        os.makedirs(site)
        with open(os.path.join(site, "index.html"), "w", encoding="utf-8") as f:
            f.write(page())
        rules = cls.tmp.join("t.rules")
        with open(rules, "w", encoding="utf-8") as f:
            f.write(RULES)
        cls.pg = st.PgServer().start()
        cls.site = st.SiteServer(site).start()
        cls.db = cls.pg.create_database("outputs")
        seeds = st.write_seeds(cls.tmp.join("seeds.txt"), [cls.site.url("/index.html")])
        r = st.run_scrape(["--seed", seeds, "--db", cls.db, "--job", "t", "--delay", "0",
                           "--quiet", "--parsers", "links", "--rules", rules,
                           "--local-workers", "1"], timeout=120)
        if r.returncode != 0:
            raise AssertionError("crawl failed (%d): %s" % (r.returncode, r.stderr[-4000:]))

    @classmethod
    def tearDownClass(cls):
        cls.site.stop()
        cls.pg.stop()
        cls.tmp.cleanup()

    def scrape(self, *args, expect=0):
        r = subprocess.run([st.scrape_bin()] + list(args), capture_output=True, text=True,
                           timeout=120)
        if expect is not None:
            self.assertEqual(r.returncode, expect, r.stderr[-3000:])
        return r

    def export_csv(self, *extra):
        # bytes: text mode would turn the CR of a cell into LF
        r = subprocess.run([st.scrape_bin(), "export", "--db", self.db, "--job", "t",
                            "--format", "csv", "--parser", "rules"] + list(extra),
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        text = r.stdout.decode("utf-8")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        self.assertEqual(len(rows), 1, text)
        return rows[0]

    def test_csv_formula_cells_are_neutralized(self):
        row = self.export_csv()
        for k, v in CELLS.items():
            want = "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v
            self.assertEqual(row[k], want, k)
        self.assertTrue(row["url"].startswith("http://"))

    def test_csv_raw_keeps_the_values(self):
        row = self.export_csv("--csv-raw")
        for k, v in CELLS.items():
            self.assertEqual(row[k], v, k)

    def plant(self, out):
        """Symlinks at FILE and at every name the old code wrote (FILE.part), each to a
        victim file; returns the victims and their contents."""
        victims = {}
        for name in (out, out + ".part"):
            victim = self.tmp.join("victim-" + os.path.basename(name))
            with open(victim, "w") as f:
                f.write("precious\n")
            os.symlink(victim, name)
            victims[victim] = "precious\n"
        return victims

    def assert_untouched(self, victims, out):
        for victim, text in victims.items():
            with open(victim) as f:
                self.assertEqual(f.read(), text, victim + " was written through a symlink")
        self.assertFalse(os.path.islink(out), "the output is still the planted symlink")
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o600)
        left = [n for n in os.listdir(os.path.dirname(out))
                if n.startswith(os.path.basename(out) + ".part")
                and not os.path.islink(os.path.join(os.path.dirname(out), n))]
        self.assertEqual(left, [], "temporary files left behind")

    def test_export_does_not_follow_planted_symlinks(self):
        d = self.tmp.join("export-out")
        os.makedirs(d)
        out = os.path.join(d, "records.jsonl")
        victims = self.plant(out)
        self.scrape("export", "--db", self.db, "--job", "t", "-o", out)
        self.assert_untouched(victims, out)
        with open(out) as f:
            self.assertIn('"parser" : "rules"', f.read().replace('"parser":"rules"',
                                                                  '"parser" : "rules"'))

    def test_report_does_not_follow_planted_symlinks(self):
        d = self.tmp.join("report-out")
        os.makedirs(d)
        out = os.path.join(d, "report.html")
        victims = self.plant(out)
        self.scrape("report", "--db", self.db, "--job", "t", "-o", out)
        self.assert_untouched(victims, out)
        with open(out) as f:
            self.assertIn("<html", f.read())

    def test_failed_export_leaves_no_file(self):
        out = self.tmp.join("nojob.csv")
        self.scrape("export", "--db", self.db, "--job", "nope", "-o", out, expect=2)
        self.assertEqual([n for n in os.listdir(self.tmp.join()) if n.startswith("nojob")], [])


if __name__ == "__main__":
    unittest.main()
