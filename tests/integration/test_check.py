"""`scrape check`, run as an operator runs it: real mpiexec runs of 3 ranks against a private
PostgreSQL and a site server on 127.0.0.1.

What is checked: one row per rank with its host name, the database line (reachable, schema,
privileges), the probe (no HTTP request is ever sent: CURLOPT_CONNECT_ONLY), and the exit
codes: 0 all usable, 7 a rank unusable (the probe to a closed port fails on every rank),
3 a configured database that is unreachable or lacks privileges, 2 a usage error.  Every
mpiexec run must also end by itself: the exit code 7 or 3 arriving through mpiexec shows the
ranks met in the final barrier and MPI_Finalize returned."""
import os
import re
import socket
import unittest

import scrapetest as st

NP = 3


def row(stdout, rank):
    """The table row of rank (split on runs of spaces), or None."""
    for line in stdout.splitlines():
        cells = line.split()
        if cells and cells[0] == str(rank) and len(cells) >= 10:
            return line
    return None


class CheckTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        st.require_scrape_bin()
        cls.pg = st.PgServer().start()
        cls.tmp = st.TempDir(prefix="scrcheck-")
        with open(cls.tmp.join("index.html"), "w", encoding="utf-8") as f:
            f.write("<html><body>probe target</body></html>\n")
        cls.site = st.SiteServer(root=cls.tmp.path).start()
        cls._dbn = 0

    @classmethod
    def tearDownClass(cls):
        cls.site.stop()
        cls.pg.stop()
        cls.tmp.cleanup()

    def new_db(self):
        CheckTest._dbn += 1
        return self.pg.create_database("check_%d_%d" % (os.getpid(), CheckTest._dbn))

    def check(self, *args, np=NP, env=None):
        # No SCRAPE_DB or PG* from the caller's environment: each test says what it checks.
        clean = {k: None for k in os.environ if k.startswith("PG") or k == "SCRAPE_DB"}
        clean.update(env or {})
        return st.run_scrape(["check", *args], np=np, timeout=180, env=clean)

    def assert_rows(self, r, ranks):
        host = socket.gethostname()
        for rank in ranks:
            line = row(r.stdout, rank)
            self.assertIsNotNone(line, "no row for rank %d:\n%s" % (rank, r.stdout))
            self.assertEqual(line.split()[1], host, line)
        self.assertIsNone(row(r.stdout, len(ranks)), "one row per rank only")

    def test_three_ranks_usable_with_database_and_probe(self):
        db = self.new_db()
        self.site.clear_log()
        r = self.check("--probe", self.site.url("/"), "--db", db)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assert_rows(r, range(NP))
        self.assertRegex(r.stdout, r"(?m)^rank\s+host\s+arch\s+cores\s+mem\s+build\s+rtt\s+"
                                   r"MB/s\s+offset\s+probe\s+MARK$")
        # every rank resolved and connected; workers have a measured link
        for rank in range(NP):
            cells = row(r.stdout, rank).split()
            self.assertEqual(cells[9], "ok", row(r.stdout, rank))
            if rank:
                self.assertRegex(cells[6], r"^[0-9.]+m?s$")      # rtt
                self.assertRegex(cells[7], r"^[0-9.]+$")         # MB/s
        self.assertRegex(r.stdout, r"(?m)^database: ok: PostgreSQL \d+")
        self.assertIn("schema: empty: the first run creates it", r.stdout)
        self.assertIn("ranks 0-2: ", r.stdout)
        self.assertIn("result: 3 of 3 ranks usable", r.stdout)
        # a loaded machine may earn a "slow link" warning, never an unusable rank
        self.assertNotIn("UNUSABLE", r.stdout)
        # the probe connects only: no request reached the server
        self.assertEqual(self.site.log(), [])

    def test_schema_version_and_privileges_after_init_db(self):
        db = self.new_db()
        init = st.run_scrape(["init-db", "--db", db], timeout=120)
        self.assertEqual(init.returncode, 0, init.stderr)
        r = self.check("--db", db, np=2)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("schema: version 3 (this scrape needs 3)", r.stdout)
        self.assertRegex(r.stdout, r"privileges: can read, insert and update all \d+ scrape "
                                   r"tables")
        # a role without grants: usable by nobody's standard, exit 3, and it says what lacks
        self.pg.query("postgres", "DO $$ BEGIN CREATE ROLE checker LOGIN; "
                                  "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        reader = db.replace("user=scrape", "user=checker")
        r = self.check("--db", reader, np=2)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("database: NOT USABLE", r.stdout)
        self.assertRegex(r.stdout, r"the role lacks SELECT on \w+")
        self.pg.query(db, "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO "
                          "checker; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO checker")
        r = self.check("--db", reader, np=2)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_probe_to_a_closed_port_makes_every_rank_unusable(self):
        port = st.free_port()
        r = self.check("--probe", "http://127.0.0.1:%d/" % port)
        self.assertEqual(r.returncode, 7, r.stdout + r.stderr)
        self.assert_rows(r, range(NP))
        for rank in range(NP):
            line = row(r.stdout, rank)
            self.assertIn("FAILED", line)
            self.assertIn("PROBE: CANNOT CONNECT", line)
        self.assertEqual(len(re.findall(r"(?m)^  rank \d \(.*\) UNUSABLE: PROBE: CANNOT CONNECT$",
                                        r.stdout)), NP, r.stdout)
        self.assertIn("probe: cannot connect: ", r.stdout)
        self.assertIn("result: 0 of 3 ranks usable", r.stdout)
        self.assertIn("database: not configured", r.stdout)

    def test_unreachable_database_exits_3_and_hides_the_password(self):
        port = st.free_port()
        ci = "host=127.0.0.1 port=%d user=scrape dbname=nowhere password=s3cret-pw" % port
        r = self.check("--db", ci)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"(?m)^database: UNREACHABLE: cannot connect to PostgreSQL: ")
        self.assert_rows(r, range(NP))
        self.assertNotIn("s3cret-pw", r.stdout + r.stderr)
        # the same through SCRAPE_DB
        r = self.check(np=2, env={"SCRAPE_DB": ci})
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)

    def test_without_mpiexec_checks_this_node(self):
        r = self.check("--probe", self.site.url("/"), np=None)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assert_rows(r, [0])
        self.assertIn("network: one rank", r.stdout)
        self.assertIn("database: not configured", r.stdout)

    def test_probe_ignores_the_proxies_in_the_environment(self):
        # mpiexec hands every rank the environment: a proxy named there (here a closed port)
        # must not stand between the probe and the site, as it does not in the crawl
        dead = "http://127.0.0.1:%d" % st.free_port()
        r = self.check("--probe", self.site.url("/"), np=2,
                       env={"http_proxy": dead, "HTTP_PROXY": dead, "ALL_PROXY": dead,
                            "https_proxy": dead})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for rank in range(2):
            self.assertEqual(row(r.stdout, rank).split()[9], "ok", row(r.stdout, rank))

    def test_usage_errors_exit_2_and_release_the_workers(self):
        for args in (["--probe", "ftp://127.0.0.1/"], ["--max-rtt", "soon"], ["extra"]):
            r = self.check(*args, np=2)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stdout, "", args)
            self.assertIn("scrape check: ", r.stderr)
        r = self.check("--help", np=2)
        self.assertEqual(r.returncode, 0)
        self.assertIn("--probe URL", r.stdout)


if __name__ == "__main__":
    unittest.main()
