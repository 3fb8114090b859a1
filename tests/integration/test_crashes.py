"""Crashes: SIGKILL of a worker rank, of the coordinator (rank 0), and of mpiexec alone, at
random moments across repeated runs.  After each kill the job must end within a bounded
time (no orphaned rank keeps running); the next full run completes the crawl, every page
is stored exactly once and no lease stays stuck.

Seeds are fixed (random.Random(seed)) so a failure can be replayed.  Each test prints, on
stderr, how long each killed job took to end after the kill and the status its run row got.
"""
import os
import random
import signal
import sys
import time
import unittest

import crawlcase
import scrapetest as st

# A killed job must be gone (mpiexec and every rank) within this many seconds.
END_BOUND_S = 60


def _alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read().decode("utf-8", "replace")
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"


class CrashTest(crawlcase.CrawlCase):
    PAGES = 120
    SEEDS = (101, 202, 303)

    # --- helpers -----------------------------------------------------------------------

    def slow_site(self, delay_ms):
        srv = st.SiteServer(self.site_dir, delay_ms=delay_ms).start()
        self.addCleanup(srv.stop)
        return srv, st.write_seeds(self.tmp.join("slow%d.txt" % self._dbn), [srv.url("/")])

    def table_rows(self, table):
        if self.scalar("SELECT to_regclass(:'p1') IS NULL", [table]) == "t":
            return 0
        return int(self.scalar("SELECT count(*) FROM %s" % table))

    def run_statuses(self):
        if self.scalar("SELECT to_regclass('runs') IS NULL") == "t":
            return []
        return [tuple(r) for r in self.q("SELECT id, status, exit_code FROM runs ORDER BY id")]

    def kill_at_random_point(self, seeds, rnd, choose_victim, label):
        """Start a run (mpiexec -n 3), wait until a random number of further pages are
        stored, SIGKILL the process choose_victim(popen, ranks) returns, and wait (bounded)
        until mpiexec and every rank are gone.  Returns (seconds from the kill to the end,
        mpiexec's exit code, the ranks' pids)."""
        target = self.table_rows("fetches") + rnd.randint(3, 20)
        p = st.start_scrape(self.args("--concurrency", "2", seeds=seeds), np=3)
        st.wait_until(lambda: self.table_rows("fetches") >= target or p.poll() is not None,
                      timeout=120, message="%d pages stored" % target)
        self.assertIsNone(p.poll(), "the run ended before the kill: %r" % (st.scrape_output(p),))
        time.sleep(rnd.uniform(0, 0.4))
        ranks = st.wait_until(lambda: (lambda r: r if len(r) == 3 else None)(st.rank_pids(p)),
                              timeout=30, message="three ranks")
        everyone = [p.pid] + st.process_tree(p.pid)
        victim = choose_victim(p, ranks)
        t0 = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        try:
            p.wait(END_BOUND_S)
        except Exception:
            pass
        left = [q for q in everyone if _alive(q)]
        while left and time.monotonic() - t0 < END_BOUND_S:
            time.sleep(0.05)
            left = [q for q in left if _alive(q)]
        took = time.monotonic() - t0
        if left:
            # still running after the bound: clean up, then fail with the evidence
            names = {q: " ".join(st._cmdline(q))[:120] for q in left}
            for q in left:
                try:
                    os.kill(q, signal.SIGKILL)
                except OSError:
                    pass
            if p.poll() is None:
                st.kill_group(p, signal.SIGKILL)
                p.wait(30)
            self.fail("%s: processes still alive %d s after the kill: %r\n--- stderr\n%s"
                      % (label, END_BOUND_S, names, st.scrape_output(p)[1][-3000:]))
        if p.poll() is None:
            st.kill_group(p, signal.SIGKILL)
            p.wait(30)
            self.fail("%s: mpiexec still running %d s after the kill" % (label, END_BOUND_S))
        sys.stderr.write("\n  %s: killed pid %d after %d pages; the job ended %.2f s later "
                         "(mpiexec exit %s); runs now %r\n"
                         % (label, victim, self.table_rows("fetches"), took, p.returncode,
                            self.run_statuses()))
        self.last_stderr = st.scrape_output(p)[1]
        return took, p.returncode, ranks

    def crash_then_resume(self, choose_victim, label, allowed_statuses, delay_ms=60):
        want = self.oracle(max_depth=3)
        srv, seeds = self.slow_site(delay_ms)
        expected = {u.replace(self.site.origin, srv.origin) for u in want.pages}
        times = []
        for seed in self.SEEDS:
            rnd = random.Random(seed)
            took, _, _ = self.kill_at_random_point(seeds, rnd, lambda p, r: choose_victim(p, r, rnd),
                                                   "%s (seed %d)" % (label, seed))
            times.append(took)
        done_before = self.table_rows("fetches")
        self.assertLess(done_before, len(expected), "the kills came too late to test resume")
        r = st.run_scrape(self.args(seeds=seeds), np=3, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assert_exactly_once(expected)
        self.assertEqual(self.scalar("SELECT count(*) FROM urls WHERE state = 'leased'"), "0",
                         "a lease stayed stuck")
        rows = self.run_statuses()
        statuses = [s for (_, s, _) in rows]
        sys.stderr.write("  %s: kill-to-end %s s; run statuses %r\n"
                         % (label, ", ".join("%.2f" % t for t in times), rows))
        self.assertEqual(len(statuses), len(self.SEEDS) + 1, rows)
        self.assertEqual(statuses[-1], "done")
        self.assertTrue(set(statuses[:-1]) <= allowed_statuses,
                        "killed runs got statuses %r, expected within %r"
                        % (statuses[:-1], sorted(allowed_statuses)))
        self.assertEqual(self.scalar("SELECT count(*) FROM runs WHERE finished_at IS NULL"), "0",
                         "a killed run was never closed")
        return times, statuses

    # --- tests -------------------------------------------------------------------------

    def test_sigkill_of_a_worker_rank(self):
        """kill -9 of a worker rank.  Hydra sees a rank die by a signal and kills the whole
        job (rank 0 included, with SIGKILL), so rank 0 never gets to mark its run: the next
        run finds the run's advisory lock gone and marks it 'died'.  If rank 0 noticed the
        loss first and closed the run itself, it would be 'lost'; both are accepted."""
        self.crash_then_resume(lambda p, ranks, rnd: ranks[rnd.choice([1, 2])],
                               "worker SIGKILL", {"died", "lost"})

    def test_sigkill_of_the_coordinator(self):
        """kill -9 of rank 0: nobody can close the run; Hydra ends the workers; the next run
        marks the run 'died' and returns its leases."""
        _, statuses = self.crash_then_resume(lambda p, ranks, rnd: ranks[0],
                                             "rank 0 SIGKILL", {"died"})

    def test_sigkill_of_mpiexec_alone(self):
        """kill -9 of mpiexec only (the ranks are not signalled): Hydra's proxy loses its
        connection to mpiexec and kills the ranks, so every process must be gone within
        END_BOUND_S (observed: ~0.05 s).  The killed runs end up 'died' (rank 0 was killed
        before it could close its run); 'lost' or 'interrupted' would mean rank 0 survived
        long enough to close it, which is also acceptable."""
        self.crash_then_resume(lambda p, ranks, rnd: p.pid, "mpiexec SIGKILL",
                               {"died", "lost", "interrupted"})


if __name__ == "__main__":
    unittest.main()
