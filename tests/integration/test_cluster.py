"""scrape across simulated hosts: real mpiexec (Hydra) runs with a machinefile whose hosts are
network namespaces on one bridge (tests/cluster/netns.py), so MPI traffic and HTTP cross veths.

    h1  10.77.0.1    rank 0 (the coordinator) and PostgreSQL, which listens on h1's own
                     127.0.0.1 only (TCP): no other host can reach it
    h2  10.77.0.2    workers
    h3  10.77.0.3    workers
    web 10.77.0.100  the fixture site server(s)
    head 10.77.0.254 mpiexec

No LD_PRELOAD is used anywhere: the MPICH 4.0.2 MPI_Finalize hang must be avoided by the
binary itself (cli/mpi_finalize_fix.c). Needs root; everything is skipped otherwise (exit 77).
"""
import os
import re
import signal
import subprocess
import sys
import time
import unittest

import oracle
import scrapetest as st

sys.path.insert(0, os.path.join(st.repo_root(), "tests", "cluster"))
import netns  # noqa: E402

netns.all_skipped_exits_77()

CLUSTER = None
PG = None
HANG_RUNS = int(os.environ.get("SCRAPE_CLUSTER_HANG_RUNS", "20"))


def setUpModule():
    global CLUSTER, PG
    st.require_scrape_bin()
    st.TempDir(prefix="scrcl-").cleanup()   # start the harness janitor in the root namespace
    CLUSTER = netns.Cluster(["h1", "h2", "h3"], extra=["web"])
    try:
        with CLUSTER.enter("h1"):
            # TCP on h1's loopback only; the harness itself uses the unix socket
            PG = st.PgServer(settings={"log_connections": "on"}).start()
        CLUSTER.remove_at_teardown(PG.folder)
    except BaseException:
        CLUSTER.teardown()
        raise


def tearDownModule():
    if PG is not None:
        PG.stop()
    if CLUSTER is not None:
        CLUSTER.teardown()
        left = CLUSTER.leftovers()
        if left:
            raise AssertionError("namespaces left behind: %s" % left)


class ClusterCase(unittest.TestCase):
    PAGES = 500
    SITE_DELAY_MS = 0
    MAX_DEPTH = 50       # the whole site (--max-depth 3 would reach about half of it)

    @classmethod
    def setUpClass(cls):
        cls.tmp = st.TempDir(prefix="scrcl-")
        cls.site_dir = st.generate_site(cls.tmp.join("site"), cls.PAGES)
        with CLUSTER.enter("web"):
            cls.site = st.SiteServer(cls.site_dir, bind=CLUSTER.ip("web"),
                                     delay_ms=cls.SITE_DELAY_MS).start()
        cls.seeds = st.write_seeds(cls.tmp.join("seeds.txt"), [cls.site.url("/")])
        cls.want = oracle.crawl_oracle(cls.site_dir, cls.site.origin, ["/"],
                                       max_depth=cls.MAX_DEPTH)
        cls._n = 0

    @classmethod
    def tearDownClass(cls):
        cls.site.stop()
        cls.tmp.cleanup()

    def new_db(self, tag):
        type(self)._n += 1
        name = "%s_%d_%s" % (type(self).__name__.lower()[:12], self._n, tag)
        PG.create_database(name)
        return name

    def args(self, db, *extra, seeds=None):
        return ["--seed", seeds or self.seeds, "--db", PG.conninfo_tcp(db), "--job", "t",
                "--delay", "0", "--host-concurrency", "64", "--quiet",
                "--max-depth", str(self.MAX_DEPTH)] + list(extra)

    def mpiexec(self, slots, np, args):
        return ["-f", CLUSTER.machinefile(slots), "-n", str(np), st.scrape_bin()] + args

    def outdir(self, tag):
        return self.tmp.join("run-%s-%d" % (tag, time.monotonic_ns()))

    def run_job(self, slots, np, args, timeout=240, tag="run"):
        return CLUSTER.run_mpiexec(self.mpiexec(slots, np, args), timeout, self.outdir(tag))

    def assert_rc(self, r, rc):
        self.assertFalse(r.timed_out, "mpiexec timed out after %.1f s\n%s" % (r.elapsed, tails(r)))
        self.assertEqual(r.returncode, rc, "mpiexec exited %s\n%s" % (r.returncode, tails(r)))

    def q(self, db, sql, params=None):
        return PG.query(db, sql, params)

    def scalar(self, db, sql):
        rows = self.q(db, sql)
        return rows[0][0] if rows else None

    def fetch_count(self, db):
        if self.scalar(db, "SELECT to_regclass('fetches') IS NULL") == "t":
            return 0
        return int(self.scalar(db, "SELECT count(*) FROM fetches"))

    def fetched(self, db):
        return {u: int(n) for u, n in self.q(
            db, "SELECT u.url, count(f.id) FROM urls u JOIN fetches f ON f.url_id = u.id "
                "GROUP BY u.url")}

    def assert_exactly_once(self, db, expected):
        got = self.fetched(db)
        self.assertEqual({u: n for u, n in got.items() if n != 1}, {}, "URLs stored twice")
        self.assertEqual(set(expected) - set(got), set(), "pages lost")
        self.assertEqual(set(got) - set(expected), set(), "pages fetched out of scope")
        self.assertEqual(self.scalar(db, "SELECT count(*) FROM urls WHERE state = 'leased'"),
                         "0", "leases left behind")

    def records_per_parser(self, db):
        return dict(self.q(db, "SELECT parser, count(*)::text FROM records GROUP BY 1"))


def tails(r, n=3000):
    return "--- stdout\n%s\n--- stderr\n%s" % (r.stdout[-n:], r.stderr[-n:])


class T1_ThreeHosts(ClusterCase):

    def test_machinefile_crawl_equals_one_host_crawl(self):
        multi, single = self.new_db("multi"), self.new_db("single")
        rx0 = {h: CLUSTER.rx_bytes(h) for h in ("h1", "h2", "h3")}
        r = self.run_job({"h1": 1, "h2": 2, "h3": 2}, 5, self.args(multi), tag="multi")
        rx1 = {h: CLUSTER.rx_bytes(h) for h in ("h1", "h2", "h3")}
        self.assert_rc(r, 0)
        traffic = {h: rx1[h] - rx0[h] for h in rx0}
        print("\n[cluster] h1:1 h2:2 h3:2 crawl of %d pages: %.1f s; eth0 rx MB: %s"
              % (len(self.want.pages), r.elapsed,
                 {h: round(v / 1e6, 2) for h, v in traffic.items()}))

        one = self.run_job({"h1": 5}, 5, self.args(single), tag="single")
        self.assert_rc(one, 0)
        print("[cluster] one host (h1:5) crawl: %.1f s" % one.elapsed)

        # both runs fetched exactly the oracle's pages, once each, and agree on everything
        self.assert_exactly_once(multi, self.want.pages)
        self.assert_exactly_once(single, self.want.pages)
        self.assertEqual(set(self.fetched(multi)), set(self.fetched(single)))
        per_parser = self.records_per_parser(multi)
        self.assertEqual(per_parser, self.records_per_parser(single))
        self.assertEqual(per_parser.get("links"), str(len(self.want.pages)))
        self.assertEqual(self.q(multi, "SELECT status, exit_code FROM runs"), [("done", "0")])

        # the workers ran on h2 and h3, both did work, and rank 0 was on h1
        workers = self.q(multi, "SELECT rank, host, pages FROM run_workers ORDER BY rank")
        self.assertEqual([(w[0], w[1]) for w in workers],
                         [("1", "h2"), ("2", "h2"), ("3", "h3"), ("4", "h3")], workers)
        by_host = dict(self.q(multi, "SELECT worker_host, count(*)::text FROM fetches "
                                     "GROUP BY 1"))
        self.assertEqual(set(by_host), {"h2", "h3"}, by_host)
        self.assertEqual(sum(int(v) for v in by_host.values()), len(self.want.pages))
        self.assertEqual({w[1] for w in self.q(single, "SELECT rank, host FROM run_workers")},
                         {"h1"})

        # the pages went over the veths to h2 and h3 (the site is ~3 MB)
        self.assertGreater(traffic["h2"] + traffic["h3"], 1_000_000, traffic)
        for h in ("h2", "h3"):
            self.assertGreater(traffic[h], 300_000, traffic)
        # and the results went over h1's veth to rank 0: MPI used TCP between the hosts,
        # not shared memory (the launcher gives every host its own IPC namespace)
        self.assertGreater(traffic["h1"], 300_000, traffic)

        # PostgreSQL: TCP on h1's loopback only, which no other host can reach
        pgport = PG.port
        for h in ("h2", "h3", "web"):
            for addr in ("127.0.0.1", CLUSTER.ip("h1")):
                with CLUSTER.enter(h):
                    self.assertFalse(can_connect(addr, pgport),
                                     "%s reaches PostgreSQL at %s:%d" % (h, addr, pgport))
        with CLUSTER.enter("h1"):
            self.assertTrue(can_connect("127.0.0.1", pgport))
        tcp_clients = set(re.findall(r"connection received: host=(\S+)", PG.log())) - {"[local]"}
        self.assertEqual(tcp_clients, {"127.0.0.1"}, "TCP clients of PostgreSQL")


def log_time(line):
    """The UTC timestamp that starts a scrape log line, as a Unix time."""
    import calendar
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z", line)
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + float(m.group(2) or 0)


def can_connect(addr, port):
    import socket
    with socket.socket() as s:
        s.settimeout(2)
        try:
            s.connect((addr, port))
            return True
        except OSError:
            return False


class T2_FinalizeHang(ClusterCase):
    PAGES = 30

    def test_multi_host_runs_never_hang_in_mpi_finalize(self):
        # the fix is in the binary: it exports ucp_disconnect_nb, nothing is preloaded
        nm = subprocess.run(["nm", "-D", "--defined-only", st.scrape_bin()],
                            capture_output=True, text=True, check=False)
        if nm.returncode == 0:
            self.assertRegex(nm.stdout, r"\bT ucp_disconnect_nb\b")
        self.assertNotIn("LD_PRELOAD", os.environ)
        hangs, failures, times = 0, [], []
        slots = {"h1": 1, "h2": 2, "h3": 2}
        for i in range(HANG_RUNS):
            db = self.new_db("r%d" % i)
            r = self.run_job(slots, 5, self.args(db), timeout=45, tag="hang%d" % i)
            times.append(r.elapsed)
            if r.timed_out:
                hangs += 1
                failures.append("run %d: hung (killed after %.0f s)\n%s" % (i, r.elapsed,
                                                                             tails(r, 1500)))
                continue
            if r.returncode != 0:
                failures.append("run %d: exit %s\n%s" % (i, r.returncode, tails(r, 1500)))
                continue
            if i == 0:
                self.assert_exactly_once(db, self.want.pages)
                hosts = {h for (h,) in self.q(db, "SELECT host FROM run_workers")}
                self.assertEqual(hosts, {"h2", "h3"})
            status = self.q(db, "SELECT status, exit_code FROM runs")
            if status != [("done", "0")]:
                failures.append("run %d: runs row %s" % (i, status))
        print("\n[cluster] MPI_Finalize hangs: %d of %d multi-host runs (np 5 on h1:1 h2:2 "
              "h3:2, %d pages); run time min %.1f / median %.1f / max %.1f s"
              % (hangs, HANG_RUNS, len(self.want.pages), min(times),
                 sorted(times)[len(times) // 2], max(times)))
        self.assertEqual(hangs, 0, "\n".join(failures))
        self.assertEqual(failures, [])


class T3_LostHost(ClusterCase):
    # slow enough that the crawl is still running when a host is hit
    SITE_DELAY_MS = 80

    def start_crawl(self, db, *extra):
        args = self.args(db, "--concurrency", "2", *extra)
        p = CLUSTER.start_mpiexec(self.mpiexec({"h1": 1, "h2": 2, "h3": 2}, 5, args),
                                  self.outdir("hit"))
        st.wait_until(lambda: self.fetch_count(db) >= 60 or p.poll() is not None,
                      timeout=120, message="60 pages stored")
        if p.poll() is not None:
            self.fail("the crawl ended before the hit:\n%s" % tails(CLUSTER.wait_mpiexec(p, 1)))
        stored = self.fetch_count(db)
        self.assertLess(stored, len(self.want.pages) - 100, "hit too late to test anything")
        return p

    def test_a_host_killed_ends_the_job_and_the_next_run_completes(self):
        db = self.new_db("kill")
        p = self.start_crawl(db, "--peer-timeout", "30s")
        pids = CLUSTER.pids("h3")
        self.assertTrue(pids)
        t_hit = time.monotonic()
        CLUSTER.signal_host("h3", signal.SIGKILL)
        r = CLUSTER.wait_mpiexec(p, timeout=(t_hit - p.started) + 60)
        ended = time.monotonic() - t_hit
        stored = self.fetch_count(db)
        print("\n[cluster] kill -9 of h3 (%d processes): mpiexec exit %s %.2f s after the hit; "
              "%d of %d pages stored" % (len(pids), r.returncode, ended, stored,
                                         len(self.want.pages)))
        self.assertFalse(r.timed_out, "the job did not end after h3 died\n" + tails(r))
        self.assertNotEqual(r.returncode, 0, tails(r))
        self.assertLess(ended, 30)
        try:
            st.wait_until(lambda: not (CLUSTER.job_pids("h1") + CLUSTER.job_pids("h2")),
                          timeout=10, message="no job process left on h1/h2")
        except st.HarnessError:
            self.fail("ranks left running on h1/h2 10 s after mpiexec ended")
        # the next run, without h3, finishes the crawl: nothing lost, nothing doubled
        r2 = self.run_job({"h1": 1, "h2": 2}, 3, self.args(db, "--peer-timeout", "30s"),
                          tag="after-kill")
        self.assert_rc(r2, 0)
        print("[cluster] next run on h1:1 h2:2: %.1f s" % r2.elapsed)
        self.assert_exactly_once(db, self.want.pages)
        self.assertEqual([s for (s,) in self.q(db, "SELECT status FROM runs ORDER BY id")],
                         ["died", "done"])

    def test_a_frozen_host_is_declared_lost_and_the_job_ends(self):
        db = self.new_db("freeze")
        p = self.start_crawl(db, "--peer-timeout", "5s")
        t_hit, wall_hit = time.monotonic(), time.time()
        pids = CLUSTER.signal_host("h3", signal.SIGSTOP)
        try:
            r = CLUSTER.wait_mpiexec(p, timeout=(t_hit - p.started) + 90)
            ended = time.monotonic() - t_hit
        finally:
            # the frozen host "reboots"
            CLUSTER.signal_host("h3", signal.SIGKILL)
            CLUSTER.signal_host("h3", signal.SIGCONT)
        stored = self.fetch_count(db)
        print("\n[cluster] SIGSTOP of h3 (%d processes), --peer-timeout 5s: mpiexec exit %s "
              "%.2f s after the freeze; %d of %d pages stored"
              % (len(pids), r.returncode, ended, stored, len(self.want.pages)))
        lost_lines = self.lost_report(r, wall_hit, ended, "the freeze")
        self.assertTrue(lost_lines, tails(r))
        # the rest of the crawl was finished by h2, and the next run (h3 back) has nothing
        # left to do, or finishes whatever remained; either way every page exactly once
        self.assert_lost_then_recovered(db, r, ended, lost_lines, "after-freeze")

    def test_a_cut_link_is_declared_lost_and_the_job_ends(self):
        # the cable pulled: h3's veth down on the switch side; no FIN, no RST, only silence
        db = self.new_db("cut")
        p = self.start_crawl(db, "--peer-timeout", "5s")
        t_hit, wall_hit = time.monotonic(), time.time()
        CLUSTER.cut_link("h3")
        try:
            r = CLUSTER.wait_mpiexec(p, timeout=(t_hit - p.started) + 90)
            ended = time.monotonic() - t_hit
        finally:
            CLUSTER.restore_link("h3")
            # what the dead job left on h3 (its proxy and ranks never heard of the abort)
            left = CLUSTER.signal_host("h3", signal.SIGKILL, jobs_only=True)
        stored = self.fetch_count(db)
        print("\n[cluster] link of h3 cut, --peer-timeout 5s: mpiexec exit %s %.2f s after the "
              "cut; %d of %d pages stored; %d job processes were left on h3 (killed)"
              % (r.returncode, ended, stored, len(self.want.pages), len(left)))
        lost_lines = self.lost_report(r, wall_hit, ended, "the cut")
        self.assertEqual(len(lost_lines), 2, tails(r))
        # the link is back: the next run on all three hosts finishes the crawl, and every
        # page is there exactly once (h3's in-flight pages were never stored by the dead run)
        self.assert_lost_then_recovered(db, r, ended, lost_lines, "after-cut")
        self.assertEqual([s for (s,) in self.q(db, "SELECT status FROM runs ORDER BY id")],
                         ["lost", "done"])

    def lost_report(self, r, wall_hit, ended, what):
        """Prints when h3 was declared lost and when MPI_Abort came, after `what`; returns
        the "declared lost" lines."""
        lost_lines = [l for l in r.stderr.splitlines() if "declared lost" in l]
        if lost_lines:
            print("[cluster] declared lost %.2f s after %s" % (log_time(lost_lines[0]) - wall_hit,
                                                             what))
        print("[cluster] " + "\n[cluster] ".join(lost_lines or ["(no 'declared lost' line)"]))
        abort_lines = [l for l in r.stderr.splitlines() if "ending the job with MPI_Abort" in l]
        if abort_lines:
            print("[cluster] MPI_Abort called %.2f s after %s; mpiexec ended %.2f s later"
                  % (log_time(abort_lines[0]) - wall_hit, what,
                     wall_hit + ended - log_time(abort_lines[0])))
        return lost_lines

    def assert_lost_then_recovered(self, db, r, ended, lost_lines, tag):
        """The job ended in time with exit 7 naming h3 alone, h3's ranks are recorded lost,
        and the next run on all three hosts stores every page exactly once."""
        self.assertFalse(r.timed_out, "the job did not end after h3 was lost\n" + tails(r))
        self.assertEqual(r.returncode, 7, tails(r))
        self.assertLess(ended, 60)
        self.assertTrue(all("host h3" in l for l in lost_lines), tails(r))
        # (no assertion on the "ending the job with MPI_Abort" line: output printed just
        # before MPI_Abort can be lost while Hydra tears the job down; exit 7 says it all)
        self.assertEqual(self.q(db, "SELECT status, exit_code FROM runs"), [("lost", "7")])
        states = self.q(db, "SELECT rank, host, state FROM run_workers ORDER BY rank")
        self.assertEqual([(w[1], w[2]) for w in states],
                         [("h2", "done"), ("h2", "done"), ("h3", "lost"), ("h3", "lost")],
                         states)
        r2 = self.run_job({"h1": 1, "h2": 2, "h3": 2}, 5,
                          self.args(db, "--peer-timeout", "30s"), tag=tag)
        self.assert_rc(r2, 0)
        print("[cluster] next run on h1:1 h2:2 h3:2 (%s): %.1f s" % (tag, r2.elapsed))
        self.assert_exactly_once(db, self.want.pages)


def check_rows(stdout):
    """{rank: cells} of `scrape check`'s table, split on runs of spaces: rank host arch cores
    mem build rtt MB/s offset, then the probe ("ok" and its times, two cells) and the MARK."""
    rows = {}
    for line in stdout.splitlines():
        cells = line.split()
        if len(cells) >= 10 and cells[0].isdigit():
            rows[int(cells[0])] = cells
    return rows


def check_secs(cell):
    """'87ms' / '0.18ms' / '1.2s' -> seconds."""
    m = re.fullmatch(r"([0-9.]+)(ms|s)", cell)
    if not m:
        raise AssertionError("not a time: %r" % cell)
    return float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)


class T4_Check(ClusterCase):
    PAGES = 20
    SHAPE_RATE = "2mbit"
    SHAPE_DELAY_MS = 40       # each way: the round trip grows by 80 ms

    def test_check_names_every_rank_and_flags_the_slow_link(self):
        CLUSTER.shape_link("h3", rate=self.SHAPE_RATE, delay_ms=self.SHAPE_DELAY_MS)
        try:
            r = CLUSTER.run_mpiexec(["-f", CLUSTER.machinefile({"h1": 1, "h2": 2, "h3": 2}),
                                     "-n", "5", st.scrape_bin(), "check",
                                     "--probe", self.site.url("/")],
                                    150, self.outdir("check"))
        finally:
            CLUSTER.unshape_link("h3")
        rows = check_rows(r.stdout)
        print("\n[cluster] scrape check across h1:1 h2:2 h3:2, h3's link %s + %d ms each way: "
              "exit %s after %.1f s" % (self.SHAPE_RATE, self.SHAPE_DELAY_MS, r.returncode,
                                        r.elapsed))
        for line in r.stdout.splitlines():
            if line.startswith(("rank ", "result:")) or line.split()[:1] in (["0"], ["1"], ["2"],
                                                                            ["3"], ["4"]):
                print("[cluster]   " + line)
        self.assertFalse(r.timed_out, tails(r))
        # a slow link is a warning, not an unusable node: exit 0 (docs/cluster.md)
        self.assertEqual(r.returncode, 0, tails(r))
        self.assertIn("result: 5 of 5 ranks usable (2 with warnings); exit 0", r.stdout)
        self.assertEqual(sorted(rows), [0, 1, 2, 3, 4], r.stdout)
        self.assertEqual([rows[k][1] for k in range(5)], ["h1", "h2", "h2", "h3", "h3"],
                         r.stdout)
        for k in range(1, 5):
            cells = rows[k]
            rtt, mbps, mark = check_secs(cells[6]), float(cells[7]), " ".join(cells[11:])
            self.assertEqual(cells[9], "ok", cells)       # the probe to web worked
            if cells[1] == "h3":
                # 2 x 40 ms of delay; 2 Mbit/s is 0.25 MB/s each way
                self.assertGreaterEqual(rtt, 0.075, cells)
                self.assertLess(mbps, 1.0, cells)
                self.assertEqual(mark, "slow link", cells)
            else:
                self.assertLess(rtt, 0.050, cells)
                self.assertGreaterEqual(mbps, 10, cells)
                self.assertEqual(mark, "", cells)
        self.assertEqual(len(re.findall(r"(?m)^  rank [34] \(h3\) warning: slow link$",
                                        r.stdout)), 2, r.stdout)
        # the bandwidth of a slow link is measured with a small payload, in seconds: with
        # 1 MiB each way the two h3 ranks alone took 90 s (5 x 2 MiB at 2 Mbit/s each)
        self.assertLess(r.elapsed, 60, tails(r))


if __name__ == "__main__":
    unittest.main()
