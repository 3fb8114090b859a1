"""scrape doctor across simulated hosts (tests/cluster/netns.py): no MPI, only ssh.

    head  runs `scrape doctor -f MACHINEFILE --ssh <stand-in> --binary /etc/scrape-doctor-PID/scrape`
    h1 h2 the binary under test: one MPI job (MPICH ch4:ucx, 64-bit)
    h3    another MPICH device: the armhf build (ch3:nemesis, 32-bit) run under qemu-arm when
          one exists (SCRAPE_ARMHF_EMU, else <source>/build-armhf/scrape-emu from
          scripts/cross-build.sh, built from the same commit), else a fake binary that answers
          the probe as an armhf node would; the test prints which one ran
    h4    no binary at the path
    h5    unreachable: its link is cut (cluster.cut_link)
    h6    a binary built for another CPU: the first 20 bytes of an armhf ELF file
    h7    a binary that hangs (--timeout)

Every host sees the same files, so the binary's path is made to differ per host the way `ip
netns exec` allows: it bind-mounts /etc/netns/<namespace>/<entry> over /etc/<entry>, so
/etc/scrape-doctor-PID/ is a folder of its own on each host.

The ssh stand-in is the harness's launcher (it enters the host's namespace, as ssh enters the
host) behind a network gate: like ssh, it first needs a TCP answer from the host (port 9 of its
address, from head; accepted or refused both count), and gives up after 2 s with ssh's message
and exit code 255.  The launcher alone would reach a host whose link is cut.

Needs root; everything is skipped otherwise (exit 77).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

import scrapetest as st

sys.path.insert(0, os.path.join(st.repo_root(), "tests", "cluster"))
import netns  # noqa: E402

netns.all_skipped_exits_77()

CLUSTER = None
ETC = None           # /etc/scrape-doctor-PID: the binary's folder, one per host
BINARY = None        # ETC/scrape
SSH = None           # the ssh stand-in
H3_KIND = None       # what stands on h3

_SSH = r"""#!/bin/sh
# ssh stand-in for scrape doctor (tests/integration/test_doctor.py): crosses the network like
# ssh, then runs the command on the host through the cluster's launcher.
while [ $# -gt 0 ]; do case "$1" in -o|-l|-p|-i) shift 2;; -*) shift;; *) break;; esac; done
host=$1
python3 -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], 9), 2).close()
except ConnectionRefusedError:
    pass
except OSError:
    sys.exit(1)
' "$host" || { echo "ssh: connect to host $host port 22: Connection timed out" >&2; exit 255; }
exec @LAUNCHER@ "$@"
"""

# What the first 20 bytes of an armhf executable look like (ELF, 32-bit, little-endian,
# e_type EXEC, e_machine ARM).
ARMHF_HEADER = bytes([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0] + [0] * 8 + [2, 0, 0x28, 0])


def local_probe(binary, timeout=120):
    r = subprocess.run([binary, "doctor", "--probe-self"], capture_output=True, text=True,
                       timeout=timeout, check=False)
    if r.returncode != 0:
        raise RuntimeError("exit %d: %s" % (r.returncode, r.stderr.strip()[-300:]))
    return json.loads(r.stdout.strip().splitlines()[-1])


def armhf_emu():
    """The armhf build's emulator wrapper, or (None, why not)."""
    path = os.environ.get("SCRAPE_ARMHF_EMU") or os.path.join(st.repo_root(), "build-armhf",
                                                              "scrape-emu")
    if not os.access(path, os.X_OK):
        return None, "no armhf build at %s" % path
    try:
        theirs = local_probe(path)
    except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
        return None, "%s does not run here: %s" % (path, exc)
    ours = local_probe(st.scrape_bin())
    if theirs.get("build") != ours.get("build"):
        return None, "%s is build %s, this one %s" % (path, theirs.get("build"),
                                                       ours.get("build"))
    return path, "armhf build %s (%s, %s-bit) under qemu" % (path, theirs.get("arch"),
                                                              theirs.get("bits"))


def host_dir(name):
    """The folder that is /etc/scrape-doctor-PID on host name."""
    return os.path.join("/etc/netns", CLUSTER.ns(name), os.path.basename(ETC))


def setUpModule():
    global CLUSTER, ETC, BINARY, SSH, H3_KIND
    st.require_scrape_bin()
    CLUSTER = netns.Cluster(["h1", "h2", "h3", "h4", "h5", "h6", "h7"], extra=[])
    try:
        ETC = "/etc/scrape-doctor-%d" % os.getpid()
        os.makedirs(ETC, exist_ok=True)     # the mount point; empty on head
        CLUSTER.remove_at_teardown(ETC)
        BINARY = os.path.join(ETC, "scrape")
        for h in CLUSTER.hosts:
            os.makedirs(host_dir(h))
        for h in ("h1", "h2", "h5"):
            os.symlink(st.scrape_bin(), os.path.join(host_dir(h), "scrape"))
        emu, why = armhf_emu()
        if emu:
            os.symlink(emu, os.path.join(host_dir("h3"), "scrape"))
            H3_KIND = "real: " + why
        else:
            fake = local_probe(st.scrape_bin())
            fake.update(arch="armv7l", bits=32, os="Raspbian GNU/Linux 12 (bookworm)",
                        mpi=fake["mpi"].replace("ch4:ucx", "ch3:nemesis"))
            answer = os.path.join(host_dir("h3"), "probe.json")
            with open(answer, "w") as f:
                f.write(json.dumps(fake) + "\n")
            with open(os.path.join(host_dir("h3"), "scrape"), "w") as f:
                f.write('#!/bin/sh\n# a fake armhf node: answers the probe only\n'
                        '[ "$1 $2" = "doctor --probe-self" ] || exit 2\n'
                        'exec cat "%s"\n' % os.path.join(ETC, "probe.json"))
            os.chmod(os.path.join(host_dir("h3"), "scrape"), 0o755)
            H3_KIND = "fake probe answer (%s)" % why
        with open(os.path.join(host_dir("h6"), "scrape"), "wb") as f:
            f.write(ARMHF_HEADER + bytes(64))
        os.chmod(os.path.join(host_dir("h6"), "scrape"), 0o755)
        with open(os.path.join(host_dir("h7"), "scrape"), "w") as f:
            f.write("#!/bin/sh\n# hangs, as a binary stuck on a dead NFS mount would\n"
                    "exec sleep 600\n")
        os.chmod(os.path.join(host_dir("h7"), "scrape"), 0o755)
        SSH = os.path.join(CLUSTER.tmp, "doctor-ssh")
        with open(SSH, "w") as f:
            f.write(_SSH.replace("@LAUNCHER@", CLUSTER.launcher))
        os.chmod(SSH, 0o755)
        CLUSTER.cut_link("h5")
        sys.stderr.write("test_doctor: h3 is a %s\n" % H3_KIND)
    except BaseException:
        CLUSTER.teardown()
        raise


def tearDownModule():
    if CLUSTER is not None:
        CLUSTER.teardown()
        left = CLUSTER.leftovers()
        if left:
            raise AssertionError("namespaces left behind: %s" % left)
    if ETC and os.path.isdir(ETC):
        shutil.rmtree(ETC, ignore_errors=True)


def doctor(machinefile, *extra, timeout=120):
    """scrape doctor run on head; returns the CompletedProcess."""
    argv = [st.scrape_bin(), "doctor", "-f", machinefile, "--ssh", SSH, "--binary", BINARY,
            "--timeout", "60"] + list(extra)
    t = time.monotonic()
    r = subprocess.run(CLUSTER.exec_cmd("head", argv), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout, check=False)
    r.elapsed = time.monotonic() - t
    return r


def rows(out):
    """{host: row fields} from the table (up to the first blank line after the header)."""
    lines = out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("host "))
    header = lines[start]
    cols = [m.start() for m in re.finditer(r"\S+", header)]
    names = header.split()
    table = {}
    for line in lines[start + 1:]:
        if not line.strip():
            break
        cells = [line[a:b].strip() for a, b in zip(cols, cols[1:] + [None])]
        table[cells[0]] = dict(zip(names, cells))
    return table


def island_files(out):
    """{island number: machinefile lines} from the plan."""
    islands, cur, inside = {}, None, False
    for line in out.splitlines():
        m = re.match(r"island (\d+): ", line)
        if m:
            cur, inside = int(m.group(1)), False
            islands[cur] = []
        elif line.strip() == "machinefile:":
            inside = True
        elif inside and line.startswith("    "):
            islands[cur].append(line.strip())
        else:
            inside = False
    return islands


class DoctorCase(unittest.TestCase):

    def show(self, r):
        sys.stderr.write("\n--- scrape doctor (h3: %s) exit %d after %.1f s\n%s%s" % (
            H3_KIND, r.returncode, getattr(r, "elapsed", 0.0), r.stdout, r.stderr))

    def test_mixed(self):
        """The brief's cluster: one job for h1+h2, an island for h3, three broken hosts."""
        mf = CLUSTER.machinefile({"h1": 1, "h2": 2, "h3": 2, "h4": 1, "h5": 1, "h6": 1})
        r = doctor(mf)
        self.show(r)
        self.assertEqual(r.returncode, 7)
        t = rows(r.stdout)
        self.assertEqual(list(t), ["h1", "h2", "h3", "h4", "h5", "h6"])
        self.assertEqual(t["h1"]["verdict"], "island 1")
        self.assertEqual(t["h2"]["verdict"], "island 1")
        self.assertEqual(t["h1"]["device"], "ch4:ucx")
        self.assertEqual(t["h1"]["bits"], "64")
        self.assertEqual(t["h3"]["verdict"], "island 2")
        self.assertEqual(t["h3"]["device"], "ch3:nemesis")
        self.assertEqual(t["h3"]["bits"], "32")
        self.assertEqual(t["h3"]["build"], t["h1"]["build"])
        self.assertEqual(t["h4"]["verdict"], "NO BINARY")
        self.assertEqual(t["h5"]["verdict"], "UNREACHABLE")
        self.assertEqual(t["h6"]["verdict"], "CANNOT RUN")
        self.assertIn("h4: NO BINARY: %s: no such file on h4" % BINARY, r.stdout)
        self.assertIn("h5: UNREACHABLE: exit 255: ssh: connect to host h5 port 22", r.stdout)
        self.assertRegex(r.stdout, r"h6: CANNOT RUN: exit \d+ on x86_64, the binary is ELF "
                                   r"32-bit ARM")
        self.assertEqual(island_files(r.stdout), {1: ["h1:1", "h2:2"], 2: ["h3:2"]})
        self.assertIn("verdict: 3 of 6 hosts unusable; 2 islands", r.stdout)
        # the hosts are reached side by side: the cut link's 2 s once, not per host
        self.assertLess(r.elapsed, 30)

    def test_islands_only(self):
        """Every host works, but h3 cannot join: exit 8 and a machinefile per island."""
        mf = CLUSTER.machinefile({"h3": 2, "h1": 1, "h2": 2})
        prefix = os.path.join(CLUSTER.tmp, "plan")
        r = doctor(mf, "--write", prefix)
        self.show(r)
        self.assertEqual(r.returncode, 8)
        # island 1 is the first host's: h3 would be rank 0 of the file as written
        self.assertEqual(island_files(r.stdout), {1: ["h3:2"], 2: ["h1:1", "h2:2"]})
        self.assertIn("need 2 MPI jobs", r.stdout)
        for k, lines in ((1, ["h3:2"]), (2, ["h1:1", "h2:2"])):
            path = "%s.island%d" % (prefix, k)
            self.assertIn("run: mpiexec -f %s -n %d " % (path, 2 if k == 1 else 3), r.stdout)
            with open(path) as f:
                got = [l.strip() for l in f if l.strip() and not l.startswith("#")]
            self.assertEqual(got, lines)

    def test_one_job(self):
        mf = CLUSTER.machinefile({"h1": 1, "h2": 3})
        r = doctor(mf)
        self.show(r)
        self.assertEqual(r.returncode, 0)
        self.assertIn("verdict: every host (2) can be a rank of one MPI job (exit 0)", r.stdout)
        self.assertEqual(island_files(r.stdout), {1: ["h1:1", "h2:3"]})

    def test_verdict_holds_under_mpiexec(self):
        """What the doctor predicts is what mpiexec does: `scrape check` runs on island 1
        (h1+h2) and on island 2 (h3 alone, two armhf ranks), and a job of h1 and h3 fails in
        MPI_Init.  Only with the real armhf build: a fake h3 cannot start MPI at all."""
        if not H3_KIND.startswith("real"):
            self.skipTest("h3 is a fake probe answer: no armhf build to start")
        runs = {}
        for name, slots in (("island1", {"h1": 1, "h2": 1}), ("island2", {"h3": 2}),
                            ("mixed", {"h1": 1, "h3": 1})):
            mf = CLUSTER.machinefile(slots)
            r = CLUSTER.run_mpiexec(["-f", mf, "-n", str(sum(slots.values())), BINARY, "check"],
                                    120, os.path.join(CLUSTER.tmp, "mpi-" + name))
            sys.stderr.write("\n--- mpiexec %s: exit %s after %.1f s\n%s%s" % (
                name, r.returncode, r.elapsed, r.stdout[-800:], r.stderr[-800:]))
            self.assertFalse(r.timed_out, name)
            runs[name] = r
        self.assertEqual(runs["island1"].returncode, 0)
        self.assertEqual(runs["island2"].returncode, 0)
        self.assertIn("armv7l", runs["island2"].stdout)
        # the check never got to report: MPI_Init failed (Hydra exits 15; the error stack
        # reaches stderr in most runs, not in every one: some had an empty stderr)
        self.assertNotEqual(runs["mixed"].returncode, 0)
        self.assertNotIn("result:", runs["mixed"].stdout)
        if runs["mixed"].stderr:
            self.assertIn("Init_thread", runs["mixed"].stderr)

    def test_timeout(self):
        """A host that does not finish is given --timeout seconds, then its whole process
        group is killed: nothing of it is left running on the host."""
        mf = CLUSTER.machinefile({"h1": 1, "h7": 1})
        r = doctor(mf, "--timeout", "3")
        self.show(r)
        self.assertEqual(r.returncode, 7)
        t = rows(r.stdout)
        self.assertEqual(t["h1"]["verdict"], "island 1")
        self.assertEqual(t["h7"]["verdict"], "TIMED OUT")
        self.assertEqual(t["h7"]["arch"], "x86_64")
        self.assertIn("h7: TIMED OUT: no end within the timeout (the script ran on x86_64)",
                      r.stdout)
        self.assertGreater(r.elapsed, 2.9)
        self.assertLess(r.elapsed, 15)
        st.wait_until(lambda: not CLUSTER.pids("h7"), timeout=10,
                      message="h7's processes to end")

    def test_bad_machinefile(self):
        """A bad line stops everything before any ssh: exit 2, the file and line named."""
        mf = os.path.join(CLUSTER.tmp, "machinefile-bad")
        with open(mf, "w") as f:
            f.write("# the lab\nh1:1\nh2:two\nh3\n")
        log = os.path.join(CLUSTER.tmp, "launcher-bad.log")
        env = dict(os.environ, SCRAPE_CLUSTER_LOG=log)
        r = subprocess.run(CLUSTER.exec_cmd("head", [st.scrape_bin(), "doctor", "-f", mf,
                                                     "--ssh", SSH, "--binary", BINARY]),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=60, check=False, env=env)
        self.show(r)
        self.assertEqual(r.returncode, 2)
        self.assertIn("%s: line 3: 'h2:two'" % mf, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertFalse(os.path.exists(log), "a host was contacted")


if __name__ == "__main__":
    unittest.main()
