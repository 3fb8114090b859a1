"""The database password stays on rank 0's node and out of sight.

mpiexec starts every rank with the same command line, and /proc/PID/cmdline is readable by
every user of every node: --db-file FILE keeps the conninfo (and its password) in a file
that rank 0 reads.  Checked here with a real mpiexec crawl against a slow site: while it
runs, no process of the job (mpiexec, the hydra proxies, every rank) has the password on its
command line, and neither the runs table nor the output has it.  Also: a --db-file others may
read is refused; a password given with --db under mpiexec gives a warning; a malformed
conninfo holding a password exits 3 at once and prints no password (libpq quotes pieces of a
malformed conninfo, a malformed URI whole); and only rank 0 ever reads SCRAPE_DB or a PG*
variable (a getenv spy preloaded into every process of the job)."""
import os
import shutil
import subprocess
import time
import unittest

import crawlcase
import scrapetest as st

SECRET = "hunter2"

SPY_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* logs "RANK NAME" for every getenv of SCRAPE_DB or PG* (RANK: PMI_RANK, or - ) */
char *getenv(const char *name)
{
    static char *(*real)(const char *);
    if (!real)
        real = (char *(*)(const char *))dlsym(RTLD_NEXT, "getenv");
    if (name && (strncmp(name, "PG", 2) == 0 || strcmp(name, "SCRAPE_DB") == 0)) {
        const char *dir = real("GETENV_SPY_DIR"), *rank = real("PMI_RANK");
        if (dir) {
            char path[4096], line[256];
            snprintf(path, sizeof(path), "%s/log", dir);
            int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
            if (fd >= 0) {
                int n = snprintf(line, sizeof(line), "%s %s\n", rank ? rank : "-", name);
                if (write(fd, line, (size_t)n) < 0) {
                }
                close(fd);
            }
        }
    }
    return real(name);
}
"""


class DbSecretsTest(crawlcase.CrawlCase):
    PAGES = 40

    def secret_conninfo(self):
        # the test server trusts local connections: the password is sent only if asked for,
        # which is enough to see where it travels
        return self.db + " password=" + SECRET

    def db_file(self, mode=0o600, text=None):
        path = self.tmp.join("db%d.conf" % self._dbn)
        with open(path, "w") as f:
            f.write(text if text is not None else
                    "# the crawl database\n" + self.secret_conninfo() + "\n")
        os.chmod(path, mode)
        return path

    def base_args(self, *extra, seeds=None):
        return ["--seed", seeds or self.seeds, "--job", "t", "--delay", "0",
                "--host-concurrency", "64", "--quiet", "--peer-timeout", "30s"] + list(extra)

    def assert_no_secret(self, text, what):
        self.assertNotIn(SECRET, text, "the password in " + what)

    def test_db_file_keeps_the_password_off_every_command_line(self):
        srv = st.SiteServer(self.site_dir, delay_ms=150).start()
        self.addCleanup(srv.stop)
        seeds = st.write_seeds(self.tmp.join("slow.txt"), [srv.url("/")])
        p = st.start_scrape(self.base_args("--db-file", self.db_file(), "--concurrency", "1",
                                           "--max-depth", "2", seeds=seeds), np=3)
        st.wait_until(lambda: len(st.rank_pids(p)) == 3 or p.poll() is not None, timeout=60,
                      message="three ranks running")
        st.wait_until(lambda: int(self.scalar("SELECT count(*) FROM pg_stat_activity "
                                              "WHERE application_name LIKE 'scrape%'")) > 0
                      or p.poll() is not None, timeout=60, message="rank 0 connected")
        self.assertIsNone(p.poll(), "the crawl ended before its command lines were read")
        pids = [p.pid] + st.process_tree(p.pid)
        self.assertGreaterEqual(len(pids), 4, "mpiexec and three ranks")
        seen = 0
        for pid in pids:
            cmd = "\0".join(st._cmdline(pid))
            seen += bool(cmd)
            self.assert_no_secret(cmd, "/proc/%d/cmdline: %s" % (pid, cmd))
        self.assertGreaterEqual(seen, 4)
        self.assertIn("--db-file", "\0".join(st._cmdline(st.rank_pids(p)[1])),
                      "a worker's command line is rank 0's")
        r = st.wait_scrape(p, 300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assert_no_secret(r.stdout + r.stderr, "the output")
        self.assertNotIn("--db holds a password", r.stderr)
        self.assertGreater(int(self.scalar("SELECT count(*) FROM fetches")), 5)
        for (command, settings) in self.q("SELECT command, settings::text FROM runs"):
            self.assert_no_secret(command + settings, "the runs table")

    def test_db_file_others_may_read_is_refused(self):
        for mode in (0o644, 0o640, 0o604):
            path = self.db_file(mode)
            r = st.run_scrape(self.base_args("--db-file", path), timeout=60)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("chmod 600 " + path, r.stderr)
            self.assertIn("mode 0%o" % mode, r.stderr)
            self.assert_no_secret(r.stdout + r.stderr, "the output")
        r = st.run_scrape(self.base_args("--db-file", self.tmp.join("missing.conf")), timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("No such file", r.stderr)
        r = st.run_scrape(self.base_args("--db-file", self.db_file(text="# nothing\n\n")),
                          timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("no conninfo", r.stderr)
        # other commands take it too; --db wins over --db-file
        r = st.run_scrape(["init-db", "--db-file", self.db_file()], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = st.run_scrape(["init-db", "--db", self.db, "--db-file", self.db_file(0o644)],
                          timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_password_on_the_command_line_under_mpiexec_warns(self):
        r = st.run_scrape(self.base_args("--db", self.secret_conninfo(), "--max-depth", "0"),
                          np=2, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("--db holds a password", r.stderr)
        self.assertIn("/proc/PID/cmdline", r.stderr)
        self.assert_no_secret(r.stdout + r.stderr, "the output")
        # a URI's user:password@ counts too; without mpiexec there is nothing to warn about
        uri = "postgresql://%s:%s@%s:%d/%s" % (self.pg.user, SECRET, self.pg.host, self.pg.port,
                                               self.db.split("dbname=")[1].strip("'"))
        r = st.run_scrape(self.base_args("--db=" + uri, "--max-depth", "0"), np=2, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("--db holds a password", r.stderr)
        r = st.run_scrape(self.base_args("--db", self.secret_conninfo(), "--max-depth", "0"),
                          timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertNotIn("--db holds a password", r.stderr)
        r = st.run_scrape(self.base_args("--db", self.db, "--max-depth", "0"), np=2, timeout=120)
        self.assertNotIn("--db holds a password", r.stderr)

    def test_malformed_conninfo_with_a_password_is_never_printed(self):
        for bad in ("password=%s host" % SECRET,
                    "password='%s" % SECRET,
                    "postgresql://crawler:%s@[::1/crawl" % SECRET,
                    "postgresql://crawler:%s@db.invalid/crawl?bogus=1" % SECRET):
            for np in (None, 2):
                t0 = time.time()
                r = st.run_scrape(self.base_args("--db", bad), np=np, timeout=120)
                self.assertEqual(r.returncode, 2, "%s\n%s" % (bad, r.stderr[-2000:]))
                self.assertLess(time.time() - t0, 8, "a malformed conninfo is not retried")
                self.assert_no_secret(r.stdout + r.stderr, "the output for %r" % bad)
                self.assertIn("conninfo is malformed", r.stderr)
            for cmd in (["init-db"], ["export", "--job", "t"], ["check"]):
                r = st.run_scrape(cmd + ["--db", bad], timeout=120)
                self.assertEqual(r.returncode, 2, "%s %s\n%s" % (cmd, bad, r.stderr))
                self.assert_no_secret(r.stdout + r.stderr, "the output of %s" % cmd)
        # the same from a --db-file
        r = st.run_scrape(self.base_args("--db-file", self.db_file(
            text="postgresql://crawler:%s@[::1/crawl\n" % SECRET)), timeout=120)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assert_no_secret(r.stdout + r.stderr, "the output")

    @unittest.skipUnless(shutil.which("cc"), "needs a C compiler for the getenv spy")
    def test_only_rank_0_reads_scrape_db_and_pg_variables(self):
        ldd = subprocess.run(["ldd", st.scrape_bin()], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True).stdout
        if "libasan" in ldd:
            self.skipTest("a sanitizer build: ASan must be the first library, not the spy")
        spy_dir = self.tmp.join("spy%d" % self._dbn)
        os.mkdir(spy_dir)
        src = os.path.join(spy_dir, "spy.c")
        with open(src, "w") as f:
            f.write(SPY_C)
        so = os.path.join(spy_dir, "spy.so")
        subprocess.run(["cc", "-shared", "-fPIC", "-o", so, src, "-ldl"], check=True)
        env = {"LD_PRELOAD": so, "GETENV_SPY_DIR": spy_dir, "SCRAPE_DB": self.db,
               "PGCONNECT_TIMEOUT": "10", "PGAPPNAME": "spy"}
        r = st.run_scrape(self.base_args("--max-depth", "1"), np=3, timeout=300, env=env)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        with open(os.path.join(spy_dir, "log")) as f:
            reads = [line.split() for line in f if line.strip()]
        by_rank = {}
        for rank, name in reads:
            by_rank.setdefault(rank, set()).add(name)
        self.assertIn("SCRAPE_DB", by_rank.get("0", set()), "the spy saw rank 0: %r" % by_rank)
        self.assertIn("PGCONNECT_TIMEOUT", by_rank.get("0", set()))
        others = {k: v for k, v in by_rank.items() if k not in ("0", "-")}
        self.assertEqual(others, {}, "a worker read the database's environment")


if __name__ == "__main__":
    unittest.main()
