"""An analyst's session holding scrape's advisory locks.

pg_advisory_lock is callable by every role, so the read-only role of `scrape init-db --reader`
can take the locks that guard a job's start and a run's life.  Such a holder must be named
("held by another session (pid N, user U, application A)"), never taken for a live run; a
crawl that waits for it must still end on SIGTERM (exit 6); and the role stays read-only.
Real PostgreSQL; the analyst is a psql session of the reader role holding the lock."""
import os
import signal
import subprocess
import time
import unittest

import crawlcase
import scrapetest as st

RUN_LOCK_KEY = 1396921858
JOB_LOCK_KEY = 1396921859
READER = "analyst"


class ReaderLocksTest(crawlcase.CrawlCase):
    PAGES = 30

    def setUp(self):
        super().setUp()
        r = st.run_scrape(["init-db", "--db", self.db, "--reader", READER], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.as_reader = self.db + " user=" + READER

    def hold_as_reader(self, key1, key2):
        """A psql session of the reader role holding advisory lock (key1, key2); it lets go
        when the test ends.  Returns its backend pid."""
        p = subprocess.Popen([st._psql_path(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                              self.as_reader], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=st._clean_pg_env())

        def let_go():
            try:
                p.stdin.close()
            except OSError:
                pass
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.addCleanup(let_go)
        p.stdin.write(b"SELECT pg_advisory_lock(%d, %d);\n" % (key1, key2))
        p.stdin.flush()
        held = ("SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %d "
                "AND l.objid = %d AND a.usename = '%s'" % (key1, key2, READER))
        st.wait_until(lambda: self.scalar(held) is not None, timeout=30,
                      message="the reader holds the lock")
        return int(self.scalar(held))

    def job_id(self):
        # the job exists after a first run; create it the way a run would
        self.q("INSERT INTO jobs (name) VALUES ('t') ON CONFLICT (name) DO NOTHING")
        return int(self.scalar("SELECT id FROM jobs WHERE name = 't'"))

    def test_reader_holding_the_job_lock_is_named_by_if_idle(self):
        pid = self.hold_as_reader(JOB_LOCK_KEY, self.job_id())
        t0 = time.time()
        r = st.run_scrape(self.args("--if-idle", "--max-depth", "0"), np=2, timeout=60)
        self.assertLess(time.time() - t0, 30, "--if-idle must not wait")
        self.assertEqual(r.returncode, 4, r.stderr[-2000:])
        self.assertIn("held by another session (pid %d, user %s, application psql), not a scrape "
                      "run" % (pid, READER), r.stderr)
        self.assertEqual(self.scalar("SELECT count(*) FROM runs"), "0")

    def test_reader_holding_a_dead_runs_lock_is_not_a_live_run(self):
        # a run whose coordinator died without a trace (status still 'running'), its lock
        # now held by the analyst: before, --if-idle exited 4 "another run is active"
        self.job_id()
        self.q("INSERT INTO runs (job_id, command, settings, coordinator_host, coordinator_pid)"
               " SELECT id, 'scrape', '{}', 'gone', 1 FROM jobs WHERE name = 't'")
        dead = int(self.scalar("SELECT max(id) FROM runs"))
        pid = self.hold_as_reader(RUN_LOCK_KEY, dead)
        r = st.run_scrape(self.args("--if-idle", "--max-depth", "1"), np=2, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("run %d's lock is held by another session (pid %d, user %s, application "
                      "psql), not a scrape run" % (dead, pid, READER), r.stderr)
        self.assertEqual(self.scalar("SELECT status FROM runs WHERE id = %d" % dead), "died")

    def test_crawl_blocked_at_start_by_a_foreign_lock_ends_on_sigterm(self):
        for np in (None, 2):
            pid = self.hold_as_reader(JOB_LOCK_KEY, self.job_id())
            p = st.start_scrape(self.args("--max-depth", "0", "--log-level", "info"), np=np)
            st.wait_until(lambda: "waiting for the lock" in st.scrape_output(p)[1]
                          or p.poll() is not None, timeout=30, message="the wait is reported")
            self.assertIsNone(p.poll(), st.scrape_output(p)[1])
            err = st.scrape_output(p)[1]
            self.assertIn("locking the job: waiting for the lock, held by another session "
                          "(pid %d, user %s, application psql), not a scrape run" % (pid, READER),
                          err)
            t0 = time.time()
            os.kill(st.rank_pids(p)[0], signal.SIGTERM)
            r = st.wait_scrape(p, 60)
            self.assertLess(time.time() - t0, 5, "SIGTERM ends the wait at once")
            self.assertEqual(r.returncode, 6, r.stderr[-2000:])
            self.assertIn("interrupted while waiting for the lock", r.stderr)
            self.assertEqual(self.scalar("SELECT count(*) FROM runs"), "0")
            self.doCleanups()  # the analyst lets go
            self.assertEqual(self.scalar("SELECT count(*) FROM pg_locks WHERE locktype = "
                                         "'advisory'"), "0")

    def test_a_scrape_session_holding_the_job_lock_is_waited_for(self):
        # the crawler's own role (another run starting) is waited for, not refused
        job = self.job_id()
        locker = subprocess.Popen([st._psql_path(), "-X", "-q", "-d", self.db],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=st._clean_pg_env())
        locker.stdin.write(b"SELECT pg_advisory_lock(%d, %d);\n" % (JOB_LOCK_KEY, job))
        locker.stdin.flush()
        st.wait_until(lambda: self.scalar("SELECT count(*) FROM pg_locks WHERE locktype = "
                                          "'advisory' AND granted") == "1", timeout=30)
        p = st.start_scrape(self.args("--if-idle", "--max-depth", "0"), np=None)
        time.sleep(3)
        self.assertIsNone(p.poll(), "a scrape session's lock is waited for")
        self.assertIn("held by a scrape session", st.scrape_output(p)[1])
        locker.stdin.close()
        locker.wait(10)
        r = st.wait_scrape(p, 60)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])

    def test_the_reader_stays_read_only_and_sees_scrape_sessions_by_name(self):
        p = st.start_scrape(self.args("--max-depth", "1"), np=2)
        st.wait_until(lambda: self.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'scrape'") != "0"
            or p.poll() is not None, timeout=60, message="scrape connected")
        r = st.wait_scrape(p, 120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        for sql in ("INSERT INTO jobs (name) VALUES ('x')", "UPDATE runs SET status = 'died'",
                    "DELETE FROM urls", "CREATE TABLE public.mine (x int)"):
            with self.assertRaises(st.PgError, msg=sql) as cm:
                st.pg_query(self.as_reader, sql)
            self.assertIn("permission denied", cm.exception.stderr)
        self.assertEqual(st.pg_scalar(self.as_reader, "SELECT has_table_privilege('runs', "
                                      "'UPDATE')"), "f")


if __name__ == "__main__":
    unittest.main()
