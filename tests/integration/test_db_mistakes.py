"""Database mistakes against a real PostgreSQL: a database or role that does not exist, a bare
word as the conninfo (`--db crawl`), an invalid sslmode and a wrong or missing password are
usage errors: exit 2 at once (even with a long --db-retry), with a hint, from the crawl under
mpiexec and from init-db, export, report and check.  A server that does not answer is waited
for as long as --db-retry says (no 10 s cap any more), then exit 3."""
import os
import re
import time

import crawlcase
import scrapetest as st

SECRET = "Wr0ng-Pa55"


class DbMistakesTest(crawlcase.CrawlCase):
    PAGES = 20

    def conninfo(self, **kw):
        """The harness's TCP conninfo with some keys replaced."""
        base = {"host": self.pg.host, "port": str(self.pg.port), "user": self.pg.user,
                "dbname": self.db_name(), "connect_timeout": "5"}
        base.update(kw)
        return " ".join("%s=%s" % (k, v) for k, v in base.items() if v is not None)

    def db_name(self):
        return dict(p.split("=", 1) for p in self.db.split() if "=" in p)["dbname"]

    def assert_usage(self, db, hint, np=2, also_tools=True):
        """The crawl (np ranks) and the other commands exit 2 at once with hint in stderr."""
        t0 = time.time()
        r = st.run_scrape(["--seed", self.seeds, "--db", db, "--job", "t", "--db-retry", "60s"],
                          np=np, timeout=120)
        took = time.time() - t0
        self.assertEqual(r.returncode, 2, "%s\n%s" % (db, r.stderr[-3000:]))
        self.assertLess(took, 20, "a mistake is not retried for --db-retry (60 s)")
        self.assertIn(hint, r.stderr)
        self.assertNotIn("retrying in", r.stderr)
        self.assertNotIn(SECRET, r.stdout + r.stderr)
        if not also_tools:
            return
        for cmd in (["init-db"], ["export", "--job", "t"], ["report", "--job", "t"],
                    ["check"]):
            r = st.run_scrape(cmd + ["--db", db], timeout=120)
            self.assertEqual(r.returncode, 2, "%s %s\n%s%s" % (cmd, db, r.stdout, r.stderr))
            self.assertIn(hint, r.stdout + r.stderr, cmd)
            self.assertNotIn(SECRET, r.stdout + r.stderr)

    def test_database_that_does_not_exist(self):
        self.assert_usage(self.conninfo(dbname="no_such_db"),
                          'database "no_such_db" does not exist (not retried: the database '
                          'does not exist: create it')

    def test_role_that_does_not_exist(self):
        self.assert_usage(self.conninfo(user="no_such_role"),
                          'role "no_such_role" does not exist (not retried: the role does not '
                          'exist')

    def test_bare_word_conninfo(self):
        self.assert_usage("crawl", "the database conninfo 'crawl' is malformed: a conninfo is "
                          "key=value pairs or a URI: use dbname=crawl or "
                          "postgresql://HOST/crawl")

    def test_bad_sslmode(self):
        self.assert_usage(self.conninfo(sslmode="bogus"),
                          'invalid sslmode value: "bogus" (not retried:')

    def test_wrong_or_missing_password(self):
        # the harness's server trusts everyone: this role must give a password over TCP
        self.pg.query(self.db, "DO $$ BEGIN CREATE ROLE pwuser LOGIN PASSWORD 'right-pw'; "
                               "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        hba = os.path.join(self.pg.datadir, "pg_hba.conf")
        with open(hba, encoding="utf-8") as f:
            old = f.read()
        with open(hba, "w", encoding="utf-8") as f:
            f.write("host all pwuser 127.0.0.1/32 scram-sha-256\n" + old)
        self.pg.query(self.db, "SELECT pg_reload_conf()")
        time.sleep(0.5)
        env_pw = os.environ.pop("PGPASSWORD", None)
        try:
            self.assert_usage(self.conninfo(user="pwuser", password=SECRET),
                              'password authentication failed for user "pwuser" (not '
                              'retried: wrong user name or password')
            self.assert_usage(self.conninfo(user="pwuser", password=None)
                              + " passfile=/nonexistent",
                              "(not retried: a password is needed", also_tools=False)
        finally:
            if env_pw is not None:
                os.environ["PGPASSWORD"] = env_pw

    def test_a_server_that_does_not_answer_is_retried_for_db_retry_then_3(self):
        db = "host=127.0.0.1 port=%d user=x dbname=x connect_timeout=2" % st.free_port()
        t0 = time.time()
        r = st.run_scrape(["--seed", self.seeds, "--db", db, "--db-retry", "13s"], np=2,
                          timeout=120)
        took = time.time() - t0
        self.assertEqual(r.returncode, 3, r.stderr[-3000:])
        self.assertIn("Connection refused", r.stderr)
        self.assertIn("retrying in", r.stderr)
        # the start-up wait follows --db-retry: it used to stop at 10 s whatever it said
        self.assertGreater(took, 11.5, r.stderr[-3000:])
        # one ERROR, rank 0's: the workers told to stop at start-up are quiet
        self.assertEqual(len(re.findall(r"(?m) ERROR ", r.stderr)), 1, r.stderr[-3000:])
        self.assertNotIn("refused this worker", r.stderr)
        self.assertNotIn("UCX", r.stderr)

    def test_a_missing_seed_file_gives_one_error_line(self):
        r = st.run_scrape(["--seed", "/nonexistent/seeds.txt", "--db", self.db], np=3,
                          timeout=120)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(re.findall(r"(?m)^\S+ \[rank (\d+) [^]]*\] ERROR (.*)$", r.stderr),
                         [("0", "/nonexistent/seeds.txt: No such file or directory")])
        self.assertNotIn("UCX", r.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
