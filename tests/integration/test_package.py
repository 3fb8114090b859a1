"""The Debian package (scripts/package.sh, cmake/Package.cmake): built, unpacked and run.

amd64 (always, from the build tree of SCRAPE_BIN): scripts/package.sh amd64 BUILD builds
scrape_VERSION_amd64.deb with CPack (lintian, when installed, must report no error); the test
unpacks it with `dpkg-deb -x` into a temporary root, reads its control fields with
`dpkg-deb -I`/`-f` (Depends from dpkg-shlibdeps: MPICH, libcurl, libpq, libxml2 ...), runs
ROOT/usr/bin/scrape --version (the build id of SCRAPE_BIN), checks scrape(1) renders with
`groff -man -ww -z` without a warning and names every setting of common/settings.c's table and
every command of cli/main.c's, and crawls a local site with `mpiexec -n 3 ROOT/usr/bin/scrape`
into the harness's PostgreSQL.

arm64 and armhf (only when SCRAPE_PKG_ARM64 / SCRAPE_PKG_ARMHF name a .deb, as scripts/test.sh's
cross stage does after `scripts/package.sh ARCH`): the same unpacking and control checks,
--version under qemu-user, and an emulated crawl with the unpacked binary: test_emulated's
arm64 worker in an x86-64 job, or its all-armhf job, through a wrapper around
ROOT/usr/bin/scrape."""
import gzip
import os
import re
import shutil
import signal
import subprocess
import sys
import unittest

import scrapetest as st

FOREIGN = {"arm64": ("aarch64-linux-gnu", "qemu-aarch64-static", "SCRAPE_EMU_ARM64",
                     "test_emulated.EmulatedTest.test_arm64_worker_in_an_x86_64_job"),
           "armhf": ("arm-linux-gnueabihf", "qemu-arm-static", "SCRAPE_EMU_ARMHF",
                     "test_emulated.EmulatedTest.test_armhf_job")}
# Debian 12's packages of the libraries scrape links (cmake: MPI, libcurl, libxml2, PCRE2,
# jansson, libpq, zlib, libcrypto, libidn2), which dpkg-shlibdeps must name.
WANT_DEPENDS = ["mpich", "libc6", "libmpich12", "libcurl4", "libxml2", "libpcre2-8-0",
                "libjansson4", "libpq5", "zlib1g", "libssl3", "libidn2-0"]


def run(cmd, timeout=300, env=None, cwd=None):
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True, env=env, cwd=cwd)
    try:
        out, err = p.communicate(timeout=timeout)
    except BaseException:
        st.kill_group(p, signal.SIGKILL)
        p.communicate()
        raise
    return subprocess.CompletedProcess(cmd, p.returncode, out.decode("utf-8", "replace"),
                                       err.decode("utf-8", "replace"))


def source_names(path, pattern):
    with open(os.path.join(st.repo_root(), path), encoding="utf-8") as f:
        return re.findall(pattern, f.read(), re.M)


class PackageChecks:
    """Checks shared by the native and the foreign packages; self.deb, self.arch, self.root."""

    def unpack(self):
        self.assertRegex(os.path.basename(self.deb), r"^scrape_%s_%s\.deb$"
                         % (re.escape(self.version), self.arch))
        r = run(["dpkg-deb", "-x", self.deb, self.root])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.scrape = os.path.join(self.root, "usr", "bin", "scrape")
        self.assertTrue(os.access(self.scrape, os.X_OK))

    def check_control(self):
        info = run(["dpkg-deb", "-I", self.deb])
        self.assertEqual(info.returncode, 0, info.stderr)
        self.assertIn(" Package: scrape\n", info.stdout)
        self.assertIn(" Architecture: %s\n" % self.arch, info.stdout)
        self.assertIn(" Version: %s\n" % self.version, info.stdout)
        depends = run(["dpkg-deb", "-f", self.deb, "Depends"]).stdout
        names = {d.strip().split()[0] for d in depends.split(",") if d.strip()}
        for want in WANT_DEPENDS:
            self.assertIn(want, names, depends)
        self.assertRegex(depends, r"libmpich12 \(>= [^)]+\)")
        files = run(["dpkg-deb", "-c", self.deb]).stdout
        for path in ("./usr/bin/scrape", "./usr/share/man/man1/scrape.1.gz",
                     "./usr/share/doc/scrape/copyright", "./usr/share/doc/scrape/changelog.gz",
                     "./usr/share/doc/scrape/README.md", "./usr/share/doc/scrape/docs/cluster.md"):
            self.assertRegex(files, r"(?m) %s$" % re.escape(path))

    def check_man(self):
        with gzip.open(os.path.join(self.root, "usr/share/man/man1/scrape.1.gz"), "rt") as f:
            page = f.read()
        r = subprocess.run(["groff", "-man", "-ww", "-z"], input=page, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        text = page.replace("\\-", "-")
        settings = source_names("common/settings.c", r'^\s*\{"([a-z0-9-]+)", SCR_SET_')
        self.assertGreater(len(settings), 40)
        for name in settings:
            self.assertRegex(text, r"(?m)^\\fB--%s\\fR" % re.escape(name), name)
        commands = source_names("cli/main.c", r'^\s*\{"([a-z-]+)", (?:scr_cmd_|cmd_)')
        self.assertGreater(len(commands), 8)
        for name in commands:
            self.assertRegex(text, r"(?m)^\.SS %s$" % re.escape(name), name)
        for section in ("NAME", "SYNOPSIS", "COMMANDS", "SETTINGS", "EXIT STATUS"):
            self.assertIn(".SH %s\n" % section, page)


class NativePackageTest(PackageChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        bin_ = st.require_scrape_bin()
        cls.build = os.path.dirname(bin_)
        if not os.path.exists(os.path.join(cls.build, "CPackConfig.cmake")):
            raise unittest.SkipTest("%s is not a build tree (no CPackConfig.cmake)" % cls.build)
        if os.uname().machine != "x86_64":
            raise unittest.SkipTest("the native package test is for amd64")
        cls.arch = "amd64"
        cls.tmp = st.TempDir(prefix="scrpkg-")
        cls.version = run([bin_, "--version"]).stdout.split()[1]
        r = run(["sh", os.path.join(st.repo_root(), "scripts", "package.sh"), "amd64",
                 cls.build], timeout=600)
        if r.returncode != 0:
            raise AssertionError("scripts/package.sh failed (%d): %s" % (r.returncode,
                                                                         r.stderr[-4000:]))
        cls.lintian = r.stderr
        cls.deb = r.stdout.strip().splitlines()[-1]
        cls.root = cls.tmp.join("root")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_package(self):
        self.unpack()
        self.check_control()
        self.check_man()
        if shutil.which("lintian"):
            self.assertNotRegex(self.lintian, r"(?m)^E: ")
        want = run([st.scrape_bin(), "--version"]).stdout.splitlines()[0]
        r = run([self.scrape, "--version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines()[0], want)  # the same build id

        # a crawl with the unpacked binary, under mpiexec
        with st.PgServer() as pg, st.TempDir(prefix="scrpkg-site-") as tmp:
            site = st.generate_site(tmp.join("site"), 40)
            with st.SiteServer(site) as srv:
                db = pg.create_database("pkg")
                seeds = st.write_seeds(tmp.join("seeds.txt"), [srv.url("/")])
                mpiexec = shutil.which("mpiexec") or "mpiexec"
                r = run([mpiexec, "-n", "3", self.scrape, "--seed", seeds, "--db", db,
                         "--job", "pkg", "--delay", "0", "--host-concurrency", "8", "--quiet"],
                        env=st._env({"SCRAPE_DB": None}))
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr[-4000:])
                states = dict(pg.query(db, "SELECT state, count(*) FROM urls GROUP BY 1"))
                self.assertEqual(list(states), ["done"], states)
                self.assertGreaterEqual(int(states["done"]), 30)  # of the 40-page shop
                workers = pg.query(db, "SELECT rank, pages FROM run_workers ORDER BY rank")
                self.assertEqual([w[0] for w in workers], ["1", "2"])


class ForeignPackageTest(PackageChecks):
    ARCH = None

    @classmethod
    def setUpClass(cls):
        var = "SCRAPE_PKG_" + cls.ARCH.upper()
        cls.deb = os.environ.get(var)
        if not cls.deb:
            raise unittest.SkipTest("%s not set (scripts/test.sh sets it after the cross "
                                    "builds and scripts/package.sh %s)" % (var, cls.ARCH))
        st.require_scrape_bin()
        cls.arch = cls.ARCH
        cls.deb = os.path.abspath(cls.deb)
        cls.version = run([st.scrape_bin(), "--version"]).stdout.split()[1]
        cls.tmp = st.TempDir(prefix="scrpkg-%s-" % cls.ARCH)
        cls.root = cls.tmp.join("root")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_package(self):
        triplet, qemu, emu_var, emulated_test = FOREIGN[self.arch]
        self.unpack()
        self.check_control()
        self.check_man()
        wrapper = self.tmp.join("scrape-emu")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec %s -E LD_LIBRARY_PATH=/usr/lib/%s:/lib/%s %s \"$@\"\n"
                    % (qemu, triplet, triplet, self.scrape))
        os.chmod(wrapper, 0o755)
        want = run([st.scrape_bin(), "--version"]).stdout.splitlines()[0]
        r = run([wrapper, "--version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines()[0], want)
        # the emulated crawl of test_emulated, with the unpacked binary
        r = run([sys.executable, "-m", "unittest", "-v", emulated_test], timeout=900,
                env=st._env({emu_var: wrapper}), cwd=os.path.dirname(os.path.abspath(__file__)))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr[-4000:])
        self.assertRegex(r.stderr, r"\.\.\. ok\n")


class Arm64PackageTest(ForeignPackageTest, unittest.TestCase):
    ARCH = "arm64"


class ArmhfPackageTest(ForeignPackageTest, unittest.TestCase):
    ARCH = "armhf"


if __name__ == "__main__":
    unittest.main()
