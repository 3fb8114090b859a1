"""Crawls with Raspberry Pi builds under qemu-user: the cross builds of scripts/cross-build.sh,
run through their build-ARCH/scrape-emu wrappers (docs/cluster.md, section 14).

Opt-in: each test runs only when its wrapper is named in the environment, as scripts/test.sh
does after its cross stage; elsewhere (the native ctest runs) both are skipped:
    SCRAPE_EMU_ARM64=build-arm64/scrape-emu   an arm64 worker in an x86-64 job (MPMD)
    SCRAPE_EMU_ARMHF=build-armhf/scrape-emu   an armhf job, coordinator included (armhf's
                                              MPICH cannot join an x86-64 job)

What is checked: the run exits 0; every URL is done and fetched once; run_workers names the
expected architectures, each with the native binary's build id, and every worker fetched; and
`scrape export` gives byte-identical jsonl and csv from the native and the emulated binary."""
import os
import shutil
import signal
import subprocess
import unittest

import scrapetest as st

PAGES = 200


def emu(var):
    path = os.environ.get(var)
    if not path:
        raise unittest.SkipTest("%s not set (scripts/test.sh sets it after the cross builds)" % var)
    if not os.access(path, os.X_OK):
        raise AssertionError("%s=%s is not an executable" % (var, path))
    return os.path.abspath(path)


def run(cmd, timeout=300):
    """Runs cmd in its own session, bounded; a CompletedProcess with text output."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True,
                         env=st._env({"SCRAPE_DB": None}))
    try:
        out, err = p.communicate(timeout=timeout)
    except BaseException:
        st.kill_group(p, signal.SIGKILL)
        p.communicate()
        raise
    return subprocess.CompletedProcess(cmd, p.returncode, out.decode("utf-8", "replace"),
                                       err.decode("utf-8", "replace"))


class EmulatedTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not (os.environ.get("SCRAPE_EMU_ARM64") or os.environ.get("SCRAPE_EMU_ARMHF")):
            raise unittest.SkipTest("neither SCRAPE_EMU_ARM64 nor SCRAPE_EMU_ARMHF is set")
        st.require_scrape_bin()
        cls.pg = st.PgServer().start()
        cls.tmp = st.TempDir(prefix="scremu-")
        st.generate_site(cls.tmp.join("site"), PAGES)
        cls.site = st.SiteServer(root=cls.tmp.join("site"), delay_ms=20).start()
        cls.seeds = st.write_seeds(cls.tmp.join("seeds.txt"), [cls.site.url("/")])
        r = run([st.scrape_bin(), "version"])
        cls.build_id = r.stdout.split("(build ")[1].split(",")[0]

    @classmethod
    def tearDownClass(cls):
        cls.site.stop()
        cls.pg.stop()
        cls.tmp.cleanup()

    def crawl_args(self, db):
        return ["--seed", self.seeds, "--db", db, "--job", "emu", "--delay", "0",
                "--host-concurrency", "8", "--concurrency", "4", "--quiet"]

    def assert_crawl(self, r, db, arches):
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        states = dict(st.pg_query(db, "select state, count(*) from urls group by state"))
        self.assertEqual(list(states), ["done"], states)
        fetched, distinct = st.pg_query(db, "select count(*), count(distinct url_id) from fetches")[0]
        self.assertEqual(fetched, distinct, "a URL was fetched twice")
        self.assertEqual(int(fetched), int(states["done"]))
        workers = st.pg_query(db, "select arch, build_id, state, pages from run_workers order by rank")
        self.assertEqual(sorted(w[0] for w in workers), sorted(arches), workers)
        for arch, build_id, state, pages in workers:
            self.assertEqual(build_id, self.build_id, workers)
            self.assertEqual(state, "done", workers)
            self.assertGreater(int(pages), 0, workers)

    def assert_same_exports(self, db, emulated):
        for fmt in ("jsonl", "csv"):
            args = ["export", "--db", db, "--job", "emu", "--format", fmt]
            native = run([st.scrape_bin()] + args)
            other = run([emulated] + args)
            self.assertEqual(native.returncode, 0, native.stderr)
            self.assertEqual(other.returncode, 0, other.stderr)
            self.assertGreater(len(native.stdout), 0)
            self.assertTrue(native.stdout == other.stdout,
                            "%s export differs between %s and %s" % (fmt, st.scrape_bin(), emulated))

    def test_arm64_worker_in_an_x86_64_job(self):
        wrapper = emu("SCRAPE_EMU_ARM64")
        db = self.pg.create_database("emu_arm64")
        args = self.crawl_args(db)
        mpiexec = shutil.which("mpiexec") or "mpiexec"
        r = run([mpiexec, "-n", "2", st.scrape_bin()] + args + [":", "-n", "1", wrapper] + args)
        self.assert_crawl(r, db, [os.uname().machine, "aarch64"])
        self.assert_same_exports(db, wrapper)

    def test_armhf_job(self):
        wrapper = emu("SCRAPE_EMU_ARMHF")
        db = self.pg.create_database("emu_armhf")
        mpiexec = shutil.which("mpiexec") or "mpiexec"
        r = run([mpiexec, "-n", "3", wrapper] + self.crawl_args(db))
        self.assert_crawl(r, db, ["armv7l", "armv7l"])
        self.assert_same_exports(db, wrapper)


if __name__ == "__main__":
    unittest.main()
