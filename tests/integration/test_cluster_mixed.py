"""A mixed-architecture job across simulated hosts (tests/cluster/netns.py): one MPMD mpiexec
whose ranks are x86-64 on two hosts and arm64 (the cross build under qemu-user) on a third.

    h1  rank 0 (coordinator, x86-64) and PostgreSQL   h2  rank 1: an x86-64 worker
    h3  rank 2: the arm64 worker, build-arm64/scrape-emu (qemu-aarch64)
    web the site server                               head  mpiexec

    mpiexec -f MACHINEFILE -n 1 build/scrape ARGS : -n 1 build/scrape ARGS \
        : -n 1 build-arm64/scrape-emu ARGS          (MACHINEFILE: h1:1 h2:1 h3:1)

What is checked:
  * the job exits 0 and stores the same pages, each once, with the same records (parser,
    record type, data) as a one-host x86-64 crawl of the same seeds (h1:3);
  * run_workers names h2 x86_64 and h3 aarch64, with the native binary's build id;
  * the balance: each worker's pages and rate (from fetches.fetched_at, as in
    test_cluster_slow.py), the emulated worker fetched for most of the crawl, and the end
    stretch (the crawl's last page - the fast host's last page) is at most one batch of the
    emulated worker (CONCURRENCY pages at its rate in this run) + MARGIN_S.

The emulated node is slow twice over: qemu-user translates every instruction, and h3's
processes share a CPU quota of H3_CPU of a core (netns.Cluster.limit_cpu; without the cgroup
v1 cpu controller the test runs without it and says so).  Measured without the quota, qemu
alone gave h3 15.4 pages/s against h2's 19.1: hardly a slow node.  As in
test_cluster_slow.py the site holds each response SITE_DELAY_MS and pages are PAGE_KB large,
so the x86-64 worker is bound by latency, the emulated one by its CPU.

Needs root and the arm64 cross build: SCRAPE_EMU_ARM64 (scripts/test.sh sets it after its
cross stage), else build-arm64/scrape-emu in the source tree; skipped without either (exit 77
when everything is skipped).
"""
import os
import subprocess
import sys
import unittest

import oracle
import scrapetest as st

sys.path.insert(0, os.path.join(st.repo_root(), "tests", "cluster"))
import netns  # noqa: E402

netns.all_skipped_exits_77()

CLUSTER = None
PG = None
TMP = None
SITE = None
EMU = None
PAGES = None

SITE_PAGES = 300
PAGE_KB = 100
SITE_DELAY_MS = 200
CONCURRENCY = 4
# the end stretch may exceed one batch of the emulated worker by this much: scheduling noise
# of a shared 2-core machine, where qemu's translation competes with everything else
MARGIN_S = 0.5
# the emulated worker's fetches span at least this share of the crawl: it was kept busy (its
# first batch comes about 1 s after h2's: qemu translating the first page's code, under quota)
MIN_BUSY_SHARE = 0.75
# h3's processes together get this share of one core (cgroup v1 CPU quota, as in
# test_cluster_slow.py): qemu alone made it 0.8 times as fast as h2 here, a Pi is slower
H3_CPU = 0.1


def emu_arm64():
    path = os.environ.get("SCRAPE_EMU_ARM64")
    if path:
        if not os.access(path, os.X_OK):
            raise AssertionError("SCRAPE_EMU_ARM64=%s is not an executable" % path)
        return os.path.abspath(path)
    path = os.path.join(st.repo_root(), "build-arm64", "scrape-emu")
    if os.access(path, os.X_OK):
        return path
    raise unittest.SkipTest("no emulated arm64 build: SCRAPE_EMU_ARM64 is not set and %s does "
                            "not exist (sh scripts/cross-build.sh arm64 makes it)" % path)


def setUpModule():
    global CLUSTER, PG, TMP, SITE, EMU, PAGES
    st.require_scrape_bin()
    EMU = emu_arm64()
    TMP = st.TempDir(prefix="scrmixed-")
    CLUSTER = netns.Cluster(["h1", "h2", "h3"], extra=["web"])
    try:
        with CLUSTER.enter("h1"):
            PG = st.PgServer().start()
        CLUSTER.remove_at_teardown(PG.folder)
        site_dir = st.generate_site(TMP.join("site"), SITE_PAGES,
                                    extra_args=["--page-kb", str(PAGE_KB)])
        with CLUSTER.enter("web"):
            SITE = st.SiteServer(site_dir, bind=CLUSTER.ip("web"),
                                 delay_ms=SITE_DELAY_MS).start()
        PAGES = sorted(oracle.crawl_oracle(site_dir, SITE.origin, ["/"], max_depth=None).pages)
    except BaseException:
        CLUSTER.teardown()
        raise


def tearDownModule():
    if SITE is not None:
        SITE.stop()
    if PG is not None:
        PG.stop()
    if CLUSTER is not None:
        CLUSTER.teardown()
        left = CLUSTER.leftovers()
        if left:
            raise AssertionError("namespaces or cgroups left behind: %s" % left)
    if TMP is not None:
        TMP.cleanup()


def tails(r, n=3000):
    return "--- stdout\n%s\n--- stderr\n%s" % (r.stdout[-n:], r.stderr[-n:])


class MixedJobTest(unittest.TestCase):

    def crawl_args(self, db, seeds):
        return ["--seed", seeds, "--db", PG.conninfo_tcp(db), "--job", "t", "--delay", "0",
                "--host-concurrency", "64", "--max-depth", "0",
                "--concurrency", str(CONCURRENCY), "--quiet"]

    def run_job(self, args, tag):
        r = CLUSTER.run_mpiexec(args, 150, TMP.join("out-" + tag))
        self.assertFalse(r.timed_out, "%s: mpiexec timed out after %.0f s\n%s"
                         % (tag, r.elapsed, tails(r)))
        self.assertEqual(r.returncode, 0, "%s: mpiexec exited %s\n%s"
                         % (tag, r.returncode, tails(r)))
        return r

    def stored(self, db):
        """{url: times stored} and the sorted records (url, parser, type, md5 of the data)."""
        got = {u: int(n) for u, n in PG.query(db, "SELECT url, count(*) FROM fetches GROUP BY 1")}
        recs = sorted(PG.query(db, "SELECT f.url, r.parser, coalesce(r.record_type, ''), "
                                   "md5(r.data::text) FROM records r "
                                   "JOIN fetches f ON f.id = r.fetch_id"))
        return got, recs

    def test_x86_64_and_emulated_arm64_workers_in_one_job(self):
        seeds = st.write_seeds(TMP.join("seeds.txt"), PAGES)
        mixed, single = "mixed", "single"
        PG.create_database(mixed)
        PG.create_database(single)
        args = self.crawl_args(mixed, seeds)
        mf = CLUSTER.machinefile({"h1": 1, "h2": 1, "h3": 1})
        quota = "CPU quota %g of a core" % H3_CPU
        try:
            CLUSTER.limit_cpu("h3", H3_CPU)
        except unittest.SkipTest as exc:
            quota = "no CPU quota (%s)" % exc
        try:
            # Hydra 4.0.2 refuses -host next to -f ("duplicate host file or host list
            # setting"): the ranks take the machinefile's slots in order, one per host, so
            # rank 2 (the emulated binary) runs on h3; run_workers shows it below
            r = self.run_job(["-f", mf, "-n", "1", st.scrape_bin()] + args +
                             [":", "-n", "1", st.scrape_bin()] + args +
                             [":", "-n", "1", EMU] + args, "mixed")
            if quota.startswith("CPU"):
                cs = CLUSTER.cpu_stat("h3")
                quota += ", throttled in %d of %d periods" % (cs["nr_throttled"],
                                                              cs["nr_periods"])
        finally:
            CLUSTER.unlimit_cpu("h3")
        one = self.run_job(["-f", CLUSTER.machinefile({"h1": 3}), "-n", "3", st.scrape_bin()] +
                           self.crawl_args(single, seeds), "single")
        print("\n[mixed] h1 x86_64 (rank 0) + h2 x86_64 + h3 aarch64 (qemu, %s): mpiexec %.1f s; "
              "one host (h1:3, x86_64): %.1f s" % (quota, r.elapsed, one.elapsed))

        # the same results as on one host: every page once, the same records
        got, recs = self.stored(mixed)
        got1, recs1 = self.stored(single)
        self.assertEqual({u: n for u, n in got.items() if n != 1}, {}, "stored twice")
        self.assertEqual(set(PAGES) - set(got), set(), "pages lost")
        self.assertEqual(set(got), set(PAGES), "pages out of scope")
        self.assertEqual(got, got1, "the mixed job and the one-host crawl stored other pages")
        self.assertGreater(len(recs), 0)
        self.assertTrue(recs == recs1, "the records differ from the one-host crawl's: %d vs %d"
                        % (len(recs), len(recs1)))
        self.assertEqual(PG.query(mixed, "SELECT count(*) FROM urls WHERE state <> 'done'"),
                         [("0",)], "the frontier is done, nothing queued or leased")
        self.assertEqual(PG.query(mixed, "SELECT status, exit_code FROM runs"), [("done", "0")])

        # the workers: h2 x86_64, h3 aarch64, the native build id on both
        version = subprocess.run([st.scrape_bin(), "version"], capture_output=True, text=True,
                                 timeout=60, check=True).stdout
        build_id = version.split("(build ")[1].split(",")[0]
        workers = PG.query(mixed, "SELECT rank, host, arch, build_id, state, pages "
                                  "FROM run_workers ORDER BY rank")
        print("[mixed] run_workers: %s" % workers)
        self.assertEqual([(w[1], w[2], w[4]) for w in workers],
                         [("h2", "x86_64", "done"), ("h3", "aarch64", "done")], workers)
        self.assertEqual({w[3] for w in workers}, {build_id}, workers)

        # the balance, from fetched_at
        rows = PG.query(mixed, "SELECT worker_host, count(*), "
                               "extract(epoch FROM min(fetched_at)), "
                               "extract(epoch FROM max(fetched_at)) FROM fetches GROUP BY 1")
        hosts = {h: (int(n), float(a), float(b)) for h, n, a, b in rows}
        self.assertEqual(set(hosts), {"h2", "h3"}, hosts)
        first = min(v[1] for v in hosts.values())
        last = max(v[2] for v in hosts.values())
        span = last - first
        rate = {h: (v[0] - 1) / max(v[2] - v[1], 1e-3) for h, v in hosts.items()}
        stretch = last - hosts["h2"][2]
        batch_s = CONCURRENCY / max(rate["h3"], 1e-3)
        busy = (hosts["h3"][2] - hosts["h3"][1]) / max(span, 1e-3)
        for h in ("h2", "h3"):
            n, a, b = hosts[h]
            print("[mixed] %s: %d pages, %.2f..%.2f s, %.2f pages/s"
                  % (h, n, a - first, b - first, rate[h]))
        print("[mixed] %d pages in %.2f s: %.2f pages/s; end stretch %.2f s (last page %.2f s "
              "after h2's last); one batch of h3 = %d pages / %.2f pages/s = %.2f s; "
              "h3 fetched during %.0f %% of the crawl"
              % (len(got), span, (len(got) - 1) / max(span, 1e-3), stretch, stretch,
                 CONCURRENCY, rate["h3"], batch_s, 100 * busy))
        self.assertGreater(hosts["h3"][0], CONCURRENCY, "the emulated worker did little work")
        if os.environ.get("SCRAPE_ASAN_BUILD"):
            # the x86-64 ranks of an ASan build are CPU-bound on 2 cores: the figures are
            # printed, the balance is checked with the normal build (test_cluster_slow.py)
            return
        self.assertGreaterEqual(busy, MIN_BUSY_SHARE,
                                "the emulated worker fetched only during %.0f %% of the crawl"
                                % (100 * busy))
        self.assertLessEqual(stretch, batch_s + MARGIN_S,
                             "the emulated worker ended the crawl %.2f s after h2; one of its "
                             "batches takes %.2f s (+ %.2f s margin)" % (stretch, batch_s,
                                                                         MARGIN_S))


if __name__ == "__main__":
    unittest.main()
