"""Poison pages: a URL whose fetch silences the worker that holds it.

The test server's /__test/hold never answers and logs the request as it arrives, with the
client's address and port.  The test finds the worker rank whose process owns that TCP
connection (/proc/net/tcp and /proc/PID/fd) and freezes it with SIGSTOP, so rank 0 declares
it lost after --peer-timeout while the job goes on (a SIGKILLed rank would make Hydra end the
whole job: tests/integration/test_cluster.py).

What must hold (docs/internals/leases.md, "Lost workers and poison pages"):
  - a URL in flight on a lost worker counts an attempt, in the database, with the loss as
    its error ("worker rank N on HOST was lost while fetching this URL");
  - it is not handed to the next worker at once (it waits like a transient failure);
  - a URL in flight on 2 lost workers, in one run or over runs, is quarantined: `failed`,
    error "quarantined: in flight on 2 workers that were lost (...)", never leased again.
Before this, the held URL went straight back to the pool and to the next worker, with no
attempt counted, and every later run lost a worker on it again.
"""
import os
import signal
import sys
import time
import unittest

import crawlcase
import scrapetest as st

HOLD = "/__test/hold?ms=120000"


def _tcp_inodes_with_local_port(port):
    inodes = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    cells = line.split()
                    if int(cells[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(cells[9])
        except OSError:
            pass
    return inodes


def _pid_owning(pids, inodes):
    for pid in pids:
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                return pid
    return None


class PoisonPage(crawlcase.CrawlCase):
    PAGES = 30

    def setUp(self):
        super().setUp()
        self.frozen = []
        self.seeds2 = st.write_seeds(self.tmp.join("seeds-%s.txt" % self._testMethodName),
                                     [self.site.url("/"), self.site.url(HOLD)])

    def tearDown(self):
        self.thaw()

    def thaw(self):
        for pid in self.frozen:
            for sig in (signal.SIGKILL, signal.SIGCONT):
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        self.frozen = []

    def start(self, np, *extra):
        # --delay 0: with a delay, a worker whose only REQUEST offers no free transfer slot
        # (REQUEST(0, n)) is never answered, so a --concurrency 1 crawl stalls (not ours)
        args = ["--seed", self.seeds2, "--db", self.db, "--job", "t", "--quiet",
                "--delay", "0", "--host-concurrency", "64", "--concurrency", "1",
                "--peer-timeout", "3s", "--heartbeat", "0.5s", "--timeout", "5s",
                "--max-depth", "3"] + list(extra)
        return st.start_scrape(args, np=np)

    def holds(self):
        return [e for e in self.site.log() if e["path"] == HOLD]

    def freeze_holder(self, p, seen):
        """Waits for the (seen+1)th request of HOLD, freezes the worker rank that sent it and
        returns its rank."""
        entry = st.wait_until(lambda: (lambda h: h[seen] if len(h) > seen else None)(
            self.holds()) if p.poll() is None else "ended", timeout=60,
            message="request %d of %s" % (seen + 1, HOLD))
        self.assertNotEqual(entry, "ended", st.scrape_output(p)[1][-3000:])
        port = int(entry["client"].rsplit(":", 1)[1])
        ranks = st.wait_until(lambda: (lambda r: r if len(r) >= 2 else None)(st.rank_pids(p)),
                              timeout=20, message="ranks")
        workers = {pid: rank for rank, pid in ranks.items() if rank != 0}
        pid = st.wait_until(lambda: _pid_owning(workers, _tcp_inodes_with_local_port(port)),
                            timeout=10, message="the process holding port %d" % port)
        os.kill(pid, signal.SIGSTOP)
        self.frozen.append(pid)
        return workers[pid]

    def finish(self, p, rc):
        r = st.wait_scrape(p, timeout=120)
        self.thaw()
        self.assertEqual(r.returncode, rc, "exit %d\n%s" % (r.returncode, r.stderr[-4000:]))
        return r

    def row(self, url):
        rows = self.q("SELECT state, attempts, lost_count, error, next_attempt_at <= now() "
                      "FROM urls WHERE url = :'p1'", [url])
        self.assertEqual(len(rows), 1)
        state, attempts, lost, error, due = rows[0]
        return state, int(attempts), int(lost), error, due == "t"

    def hold_row(self):
        return self.row(self.site.url(HOLD))

    def host(self):
        return self.scalar("SELECT host FROM run_workers LIMIT 1")

    def quarantine_reason(self, losses):
        return ("quarantined: in flight on %d workers that were lost (%s); not retried "
                "automatically" % (len(losses), "; ".join("rank %d on %s in run %d" % l
                                                          for l in losses)))

    def test_poison_page_is_quarantined_after_two_runs_lose_a_worker_on_it(self):
        # run 0: the site alone, so that in runs 1 and 2 the poison is the only URL due and
        # the frozen worker holds nothing else
        r = st.run_scrape(["--seed", self.seeds, "--db", self.db, "--job", "t", "--quiet",
                           "--delay", "0"], np=3, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        pages = int(self.scalar("SELECT count(*) FROM urls"))
        t0 = time.monotonic()
        # run 1: the worker holding the poison is frozen and declared lost
        p = self.start(3, "--max-retry-wait", "0")
        rank1 = self.freeze_holder(p, 0)
        self.finish(p, 7)
        t1 = time.monotonic()
        host = self.host()
        self.assertEqual(len(self.holds()), 1,
                         "the poison was handed to another worker in the same run")
        state, attempts, lost, error, _ = self.hold_row()
        self.assertEqual((state, attempts, lost), ("queued", 1, 1))
        self.assertEqual(error, "worker rank %d on %s was lost while fetching this URL"
                         % (rank1, host))
        # run 2: the poison is due again; it silences a second worker and is quarantined
        st.wait_until(lambda: self.hold_row()[4], timeout=30, message="the poison due again")
        p = self.start(3, "--max-retry-wait", "0")
        rank2 = self.freeze_holder(p, 1)
        self.finish(p, 7)
        t2 = time.monotonic()
        runs = [int(r) for (r,) in self.q("SELECT id FROM runs ORDER BY id")]
        self.assertEqual(self.hold_row()[:4],
                         ("failed", 2, 2, self.quarantine_reason([(rank1, host, runs[1]),
                                                                  (rank2, host, runs[2])])))
        # run 3 completes without it
        r = st.run_scrape(["--seed", self.seeds2, "--db", self.db, "--job", "t", "--quiet",
                           "--delay", "0"], np=3, timeout=120)
        t3 = time.monotonic()
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertEqual(len(self.holds()), 2)
        self.assertEqual(self.hold_row()[:3], ("failed", 2, 2))
        self.assertEqual(self.q("SELECT status, exit_code FROM runs ORDER BY id"),
                         [("done", "0"), ("lost", "7"), ("lost", "7"), ("done", "0")])
        self.assertEqual(self.scalar("SELECT count(*) FROM urls WHERE state = 'done'"),
                         str(pages))
        sys.stderr.write("\n  poison over runs: run 1 (rank %d lost) %.1f s, run 2 (rank %d "
                         "lost, quarantined) %.1f s, run 3 %.1f s; %d requests of the poison\n"
                         % (rank1, t1 - t0, rank2, t2 - t1, t3 - t2, len(self.holds())))

    def test_poison_page_is_quarantined_after_two_losses_in_one_run(self):
        # the site and the poison in one run, 3 workers: the poison silences two of them,
        # the third finishes the crawl
        t0 = time.monotonic()
        p = self.start(4, "--max-retry-wait", "60s")
        rank1 = self.freeze_holder(p, 0)
        rank2 = self.freeze_holder(p, 1)
        r = self.finish(p, 7)
        took = time.monotonic() - t0
        self.assertNotEqual(rank1, rank2)
        host = self.host()
        run = int(self.scalar("SELECT id FROM runs"))
        self.assertEqual(self.hold_row()[:4],
                         ("failed", 2, 2, self.quarantine_reason([(rank1, host, run),
                                                                  (rank2, host, run)])))
        self.assertEqual(len(self.holds()), 2)
        self.assertEqual([s for (s,) in self.q("SELECT state FROM run_workers ORDER BY rank")
                          ].count("lost"), 2)
        # the other URLs the lost workers held (innocent, or not) counted an attempt each;
        # everything else was stored once
        others = self.q("SELECT url, state, attempts, lost_count, error FROM urls "
                        "WHERE url <> :'p1' AND (state <> 'done' OR lost_count > 0)",
                        [self.site.url(HOLD)])
        for url, state, attempts, lost, error in others:
            self.assertIn(state, ("done", "failed"), (url, state, error))
            self.assertGreaterEqual(int(attempts), int(lost) + (state == "done"), url)
            if state == "failed":   # in flight with the poison twice: quarantined with it
                self.assertEqual(int(lost), 2, (url, error))
                self.assertTrue(error.startswith("quarantined: in flight on 2 workers"), error)
        summary = self.q("SELECT summary ->> 'lost_urls', summary ->> 'quarantined' FROM runs")
        lost_urls, quarantined = int(summary[0][0]), int(summary[0][1])
        self.assertEqual(lost_urls, 2 + sum(int(o[3]) for o in others))
        self.assertEqual(quarantined, 1 + sum(1 for o in others if o[1] == "failed"))
        self.assertIn("quarantined: in flight on 2 workers", r.stderr)
        sys.stderr.write("\n  poison in one run: ranks %d and %d lost, the poison quarantined; "
                         "%d other URLs were in flight on them (%d quarantined with it); run "
                         "took %.1f s\n" % (rank1, rank2, len(others), quarantined - 1, took))


if __name__ == "__main__":
    unittest.main()
