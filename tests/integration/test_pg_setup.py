"""scripts/pg-setup.sh (docs/cluster.md, section 15) against a real PostgreSQL, and
`scrape init-db --reader` run by a role that may not create roles.

The harness's server starts with trust for everyone; the test first cuts pg_hba.conf down to
`local all all trust`, so a TCP connection is refused until the script adds its line.  Then:
the script creates the role (password from a file), the database, the reader role, the
pg_hba.conf line for 127.0.0.1 and listen_addresses, and restarts the server through
--restart; a second run changes nothing.  The new role connects over TCP with its password
(a wrong one is refused) and runs `scrape init-db`, then grants the reader role read access;
asked for a reader role that does not exist, it exits 2 saying that creating it needs
CREATEROLE, not with the server's bare "permission denied"."""
import os
import subprocess
import unittest

import scrapetest as st

SCRIPT = os.path.join(st.repo_root(), "scripts", "pg-setup.sh")


class PgSetupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin = st.require_scrape_bin()
        cls.pg = st.PgServer().start()
        cls.tmp = st.TempDir(prefix="pgsetup-")
        with open(os.path.join(cls.pg.datadir, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\n")
        cls.pg.query("postgres", "SELECT pg_reload_conf()")
        cls.pwfile = cls.tmp.join("crawler.pw")
        with open(cls.pwfile, "w") as f:
            f.write("s3cret 'quoted\" pw\n")
        os.chmod(cls.pwfile, 0o600)

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()
        cls.tmp.cleanup()

    def run_setup(self):
        pg = self.pg
        pg_ctl = os.path.join(pg.bindir, "pg_ctl")
        restart = "%s -D %s -l %s -w -t 60 restart" % (pg_ctl, pg.datadir, pg.log_path)
        if pg._run_as:
            restart = "runuser -u nobody -- " + restart
        env = dict(os.environ, PGHOST=pg.socket_dir, PGPORT=str(pg.port), PGUSER=pg.user)
        r = subprocess.run(["sh", SCRIPT, "--role", "crawler", "--db", "crawl",
                            "--password-file", self.pwfile, "--allow", "127.0.0.1",
                            "--listen", "localhost", "--reader", "analyst",
                            "--restart", restart],
                           capture_output=True, text=True, timeout=300, env=env,
                           cwd=self.tmp.path)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def scrape(self, *args, password="s3cret 'quoted\" pw"):
        env = dict(os.environ, PGPASSWORD=password)
        return subprocess.run([self.bin] + list(args), capture_output=True, text=True,
                              timeout=120, env=env)

    def test_setup_then_init_db_and_reader(self):
        tcp = "host=127.0.0.1 port=%d user=crawler dbname=crawl" % self.pg.port
        # before: no role, no pg_hba.conf line for TCP
        r = self.scrape("init-db", "--db", tcp)
        # pg_hba.conf refuses: a mistake retrying cannot fix, exit 2 at once (docs/cron.md)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("pg_hba.conf", r.stderr)

        out = self.run_setup()
        self.assertIn("pg_hba.conf (", out)
        self.assertIn("restarting with", out)
        self.assertEqual(self.pg.scalar("postgres", "SHOW listen_addresses"), "localhost")
        again = self.run_setup()  # idempotent
        self.assertIn("pg_hba.conf: already has: host    crawl    crawler    127.0.0.1/32", again)
        self.assertIn("listen_addresses = 'localhost': in effect", again)
        with open(os.path.join(self.pg.datadir, "pg_hba.conf")) as f:
            self.assertEqual(f.read().count("host    crawl    crawler    127.0.0.1/32    "
                                            "scram-sha-256"), 1)
        self.assertEqual(self.pg.scalar("crawl", "SELECT pg_get_userbyid(datdba) FROM "
                                        "pg_database WHERE datname = 'crawl'"), "crawler")
        self.assertEqual(self.pg.scalar("postgres", "SELECT rolcreaterole FROM pg_roles "
                                        "WHERE rolname = 'crawler'"), "f")

        r = self.scrape("init-db", "--db", tcp, password="wrong")
        self.assertEqual(r.returncode, 2, r.stderr)  # a wrong password: exit 2 at once
        self.assertIn("password authentication failed", r.stderr)
        r = self.scrape("init-db", "--db", tcp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("schema version", r.stdout)

        # the reader role the script created: the crawl's role grants it read access
        r = self.scrape("init-db", "--db", tcp, "--reader", "analyst")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.pg.query("host=%s port=%d user=analyst dbname=crawl" % (
            self.pg.socket_dir, self.pg.port), "SELECT count(*) FROM jobs"), [("0",)])

        # a reader role that does not exist, and a role without CREATEROLE
        r = self.scrape("init-db", "--db", tcp, "--reader", "someone_else")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("scrape init-db: --reader someone_else: creating the reader role needs "
                      "CREATEROLE (or a superuser): role someone_else does not exist and role "
                      "crawler may not create roles", r.stderr)
        self.assertEqual(self.pg.scalar("postgres", "SELECT count(*) FROM pg_roles WHERE "
                                        "rolname = 'someone_else'"), "0")


if __name__ == "__main__":
    unittest.main()
