"""netns.py - a simulated cluster for scrape on one Linux machine (network namespaces).

    import netns
    cluster = netns.Cluster(["h1", "h2", "h3"], extra=["web"])   # raises SkipTest if it can't
    try:
        with cluster.enter("web"):            # servers started here live on 10.77.0.100
            site = st.SiteServer(site_dir, bind=cluster.ip("web")).start()
        mf = cluster.machinefile({"h1": 1, "h2": 2, "h3": 2})
        r = cluster.run_mpiexec(["-f", mf, "-n", "5", st.scrape_bin(), ...], timeout=120)
    finally:
        cluster.teardown()                    # also runs at exit, and from a watchdog if killed

What is built (root only; everything is private to this test process):

  namespace <P>sw      bridge br0, "the switch"
  namespace <P>head    eth0 = 10.77.0.254, hostname "head": mpiexec runs here, so every host
                       (h1 included) is remote to it and can be killed or frozen on its own
  namespace <P><name>  eth0 = 10.77.0.<i> for h1..hN (i = 1..N), 10.77.0.100+ for extras
  /etc/netns/<P><name>/hosts, resolv.conf   names resolve from the file (no DNS)

P is "scr<pid>-", so several test processes (ctest -j) can each have a cluster, all on
10.77.0.0/24: every cluster has its own switch, and no address exists in the root namespace
or has a route out. Processes are started in a host with its own network, UTS (hostname =
host name) and IPC namespace. The IPC namespace matters: UCX uses shared memory between
processes that share boot id and IPC namespace, which would bypass the veths entirely.

mpiexec (MPICH Hydra) is run in the head namespace with ``-launcher rsh -launcher-exec
<launcher>``: the launcher is a generated shell script that behaves like ssh into a host.
No LD_PRELOAD of any kind is added: scrape carries its own MPI_Finalize fix.

Slowing one host down, or cutting it off (all undone by teardown(), also when a test fails):

  cluster.limit_cpu("h3", 0.05)     a cgroup CPU quota: h3's processes together get 5 % of one
                                    core (cgroup v1 cpu controller: cpu.cfs_quota_us /
                                    cpu.cfs_period_us), as a Pi is slower than a desktop. The
                                    launcher puts every process it starts on h3 (Hydra's proxy,
                                    hence the ranks) into the cgroup before it execs the proxy;
                                    exec_cmd() does the same, and what already runs on h3 is
                                    moved in.
  cluster.shape_link("h3", rate="2mbit", delay_ms=40)
                                    h3's link, both directions: tbf on both ends of its veth
                                    limits the rate; linkdelay.c (this folder, compiled with cc
                                    into the cluster's temp folder) adds the one-way delay, so
                                    the round trip grows by 2 x delay_ms. (This kernel has no
                                    netem.)
  cluster.cut_link("h3") / restore_link("h3")
                                    the cable pulled: h3's veth down on the switch side, so no
                                    FIN or RST reaches anyone; peers only see silence.

The module also has ``all_skipped_exits_77()``: call it at import of a test module run by
``python -m unittest`` so that a run where every test was skipped exits 77 (CTest's
SKIP_RETURN_CODE) instead of 0.
"""

import atexit
import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import scrapetest as st

SUBNET = "10.77.0"
HEAD_IP = SUBNET + ".254"
CGROUP_CPU = "/sys/fs/cgroup/cpu"      # cgroup v1 cpu controller
LINKDELAY_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linkdelay.c")
CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)
_setns_lock = threading.Lock()


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


def _run(cmd, check=True, timeout=30, **kw):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, check=False, **kw)
    if check and r.returncode != 0:
        raise st.HarnessError("%s failed (%d): %s%s" % (" ".join(cmd), r.returncode,
                                                       r.stdout, r.stderr))
    return r


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def sweep_stale():
    """Delete namespaces left by a test process that no longer exists (scr<pid>-*)."""
    try:
        names = os.listdir("/run/netns")
    except OSError:
        return
    for name in names:
        m = re.fullmatch(r"scr(\d+)-[A-Za-z0-9]+", name)
        if m and not _pid_alive(int(m.group(1))):
            _kill_ns_pids(name, signal.SIGKILL)
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
            shutil.rmtree("/etc/netns/" + name, ignore_errors=True)
    try:
        groups = os.listdir(CGROUP_CPU)
    except OSError:
        groups = []
    for name in groups:
        m = re.fullmatch(r"scr(\d+)-[A-Za-z0-9]+", name)
        if m and not _pid_alive(int(m.group(1))):
            _remove_cgroup(os.path.join(CGROUP_CPU, name))


def _remove_cgroup(path, tries=25):
    """Move what is left in cgroup path to its parent and remove it. True when gone."""
    for _ in range(tries):
        if not os.path.isdir(path):
            return True
        try:
            with open(os.path.join(path, "cgroup.procs")) as f:
                left = f.read().split()
            for pid in left:
                try:
                    with open(os.path.join(os.path.dirname(path), "cgroup.procs"), "w") as f:
                        f.write(pid)
                except OSError:
                    pass      # exited meanwhile
            os.rmdir(path)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            time.sleep(0.2)
    return not os.path.isdir(path)


def _ns_pids(ns):
    r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True,
                       check=False, timeout=30)
    return [int(p) for p in r.stdout.split() if p.isdigit()]


def _kill_ns_pids(ns, sig):
    pids = _ns_pids(ns)
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    return pids


_LAUNCHER = r"""#!/bin/sh
# Generated by tests/cluster/netns.py: an ssh/rsh replacement for Hydra.
# "launcher HOST COMMAND..." runs COMMAND in HOST's network namespace, in a new UTS namespace
# (hostname HOST) and a new IPC namespace (so UCX cannot use shared memory across hosts).
while [ $# -gt 0 ]; do case "$1" in -x|-q|-T|-n) shift;; -[lpoi]) shift 2;; *) break;; esac; done
[ $# -ge 2 ] || { echo "launcher: usage: HOST COMMAND..." >&2; exit 255; }
host=$1; shift
case "$host" in
@CASES@
  *) echo "launcher: unknown host $host" >&2; exit 255;;
esac
[ -n "${SCRAPE_CLUSTER_LOG:-}" ] && echo "$(date +%T.%N) $name: $*" >> "$SCRAPE_CLUSTER_LOG"
# a host with a CPU quota (limit_cpu): join its cgroup before anything runs there.  This
# script runs in mpiexec's mount namespace, where "ip netns exec" replaced /sys (no
# /sys/fs/cgroup), so the file names the cgroup through the test process's /proc/PID/root.
if [ -r "@TMP@/cgroup.$name" ]; then
  read -r procs < "@TMP@/cgroup.$name"
  echo $$ > "$procs" || { echo "launcher: cannot join the cgroup of $name ($procs)" >&2; exit 255; }
fi
exec ip netns exec "$ns" unshare --uts --ipc -- sh -c 'hostname "$1" && shift && exec sh -c "exec $*"' launcher "$name" "$@"
"""

_TEARDOWN = r"""#!/bin/sh
# Generated by tests/cluster/netns.py: remove the cluster (used by the watchdog).
for ns in @NAMESPACES@; do
  [ -e "/run/netns/$ns" ] || continue
  pids=$(ip netns pids "$ns" 2>/dev/null)
  [ -n "$pids" ] && kill -CONT $pids 2>/dev/null
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null
done
sleep 0.3
for ns in @NAMESPACES@; do
  [ -e "/run/netns/$ns" ] && ip netns del "$ns"
  rm -rf "/etc/netns/$ns"
done
# CPU quotas (limit_cpu): their processes were killed above
for cg in @CGROUPS@; do
  [ -d "$cg" ] || continue
  for i in 1 2 3 4 5 6 7 8 9 10; do
    for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do echo "$p" > "$cg/../cgroup.procs"; done
    rmdir "$cg" 2>/dev/null && break
    sleep 0.2
  done
done
# folders of servers that ran inside the namespaces (their own watchdogs died with them)
@REMOVE@
"""


class Cluster:
    """Hosts in network namespaces on one bridge. See the module docstring."""

    def __init__(self, hosts=("h1", "h2", "h3"), extra=("web",)):
        if os.geteuid() != 0:
            raise unittest.SkipTest("the cluster tests need root (ip netns, unshare)")
        for tool in ("ip", "unshare", "mpiexec"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest("%s not found" % tool)
        self.prefix = "scr%d-" % os.getpid()
        self.hosts = list(hosts)
        self.extra = list(extra)
        self.addr = {"head": HEAD_IP}
        for i, h in enumerate(self.hosts):
            self.addr[h] = "%s.%d" % (SUBNET, i + 1)
        for i, h in enumerate(self.extra):
            self.addr[h] = "%s.%d" % (SUBNET, 100 + i)
        self.sw = self.prefix + "sw"
        self.names = ["head"] + self.hosts + self.extra      # namespaces with an eth0
        self.namespaces = [self.sw] + [self.ns(n) for n in self.names]
        self._made = []
        self._remove = []
        self._cgroups = {}        # host -> cgroup folder (limit_cpu)
        self._shaped = {}         # host -> linkdelay Popen or None (shape_link)
        self._linkdelay = None    # the compiled linkdelay binary
        self._down = False
        self.tmp = tempfile.mkdtemp(prefix="scrcluster-")
        self._watch_fd = None
        atexit.register(self.teardown)
        sweep_stale()
        try:
            self._write_scripts()
            # a watchdog removes everything if this process dies without teardown()
            self._watch_fd = st._start_watchdog({"folder": self.tmp,
                                                 "commands": [["sh", self.teardown_script]]})
            self._build()
        except unittest.SkipTest:
            self.teardown()
            raise
        except BaseException:
            self.teardown()
            raise

    # -- names ----------------------------------------------------------

    def ns(self, name):
        """The namespace name of a host ("h2" -> "scr1234-h2")."""
        return self.prefix + name

    def ip(self, name):
        return self.addr[name]

    # -- building -------------------------------------------------------

    def _write_scripts(self):
        cases = []
        for n in self.names:
            cases.append("  %s|%s|%s) name=%s; ns=%s;;" % (n, self.addr[n], self.ns(n), n,
                                                           self.ns(n)))
        self.launcher = os.path.join(self.tmp, "launcher")
        with open(self.launcher, "w") as f:
            f.write(_LAUNCHER.replace("@CASES@", "\n".join(cases)).replace("@TMP@", self.tmp))
        os.chmod(self.launcher, 0o755)
        self.teardown_script = os.path.join(self.tmp, "teardown.sh")
        self._write_teardown()
        self.hosts_text = "127.0.0.1 localhost\n" + "".join(
            "%s %s\n" % (self.addr[n], n) for n in self.names)

    def _write_teardown(self):
        text = _TEARDOWN.replace("@NAMESPACES@", " ".join(self.namespaces)).replace(
            "@REMOVE@", "\n".join("rm -rf '%s'" % p for p in self._remove)).replace(
            "@CGROUPS@", " ".join(self._cgroups.values()))
        tmp = self.teardown_script + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.teardown_script)

    def remove_at_teardown(self, path):
        """Remove path (a server's folder) after the namespaces' processes were killed,
        also when the test process dies: a server started inside a namespace has its
        harness watchdog there too, and teardown kills it."""
        path = os.path.abspath(os.fspath(path))
        if "'" in path:
            raise ValueError(path)
        self._remove.append(path)
        self._write_teardown()

    def _mkns(self, ns):
        r = _run(["ip", "netns", "add", ns], check=False)
        if r.returncode != 0:
            raise unittest.SkipTest("ip netns add failed: %s" % r.stderr.strip())
        self._made.append(ns)
        _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        _run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
              "net.ipv6.conf.default.disable_ipv6=1"], check=False)
        d = "/etc/netns/" + ns
        os.makedirs(d, exist_ok=True)
        with open(d + "/hosts", "w") as f:
            f.write(self.hosts_text)
        with open(d + "/resolv.conf", "w") as f:
            f.write("# scrape cluster test namespace: no DNS\noptions attempts:1 timeout:1\n")

    def _build(self):
        self._mkns(self.sw)
        _run(["ip", "-n", self.sw, "link", "add", "br0", "type", "bridge"])
        _run(["ip", "-n", self.sw, "link", "set", "br0", "type", "bridge", "stp_state", "0",
              "forward_delay", "0"])
        _run(["ip", "-n", self.sw, "link", "set", "br0", "up"])
        for n in self.names:
            ns = self.ns(n)
            self._mkns(ns)
            # created directly in the two namespaces: no name ever exists in the root one
            _run(["ip", "link", "add", "p-" + n, "netns", self.sw, "type", "veth", "peer",
                  "name", "eth0", "netns", ns])
            _run(["ip", "-n", self.sw, "link", "set", "p-" + n, "master", "br0", "up"])
            _run(["ip", "-n", ns, "addr", "add", self.addr[n] + "/24", "dev", "eth0"])
            _run(["ip", "-n", ns, "link", "set", "eth0", "up"])

    # -- using it -------------------------------------------------------

    @contextlib.contextmanager
    def enter(self, name):
        """Run the block with the calling thread in host name's network namespace: sockets
        and child processes created in the block belong to that host (its filesystem view
        is unchanged, so unix sockets and files are shared with the root namespace)."""
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open("/run/netns/" + self.ns(name), os.O_RDONLY)
        try:
            _setns(target)
            try:
                yield self
            finally:
                _setns(own)
        finally:
            os.close(own)
            os.close(target)

    def exec_cmd(self, name, argv):
        """argv to run a command on host name like the launcher does (hostname, IPC, and the
        host's cgroup when limit_cpu() was called for it)."""
        cmd = ["ip", "netns", "exec", self.ns(name), "unshare", "--uts", "--ipc", "--",
               "sh", "-c", 'hostname "$0" && exec "$@"', name] + list(argv)
        if name in self._cgroups:
            cmd = ["sh", "-c", 'echo $$ > "$0" && exec "$@"',
                   os.path.join(self._cgroups[name], "cgroup.procs")] + cmd
        return cmd

    def mpiexec_cmd(self, args):
        """argv of mpiexec ARGS run in the head namespace with the cluster's launcher."""
        return ["ip", "netns", "exec", self.ns("head"), "unshare", "--uts", "--ipc", "--",
                "sh", "-c", 'hostname head && exec mpiexec "$@"', "mpiexec",
                "-launcher", "rsh", "-launcher-exec", self.launcher] + [os.fspath(a) for a in args]

    def machinefile(self, slots, path=None):
        """Write a machinefile from {host: slots} (in order) and return its path."""
        path = path or os.path.join(self.tmp, "machinefile-%s" % "-".join(
            "%s_%d" % hs for hs in slots.items()))
        with open(path, "w") as f:
            for h, n in slots.items():
                f.write("%s:%d\n" % (h, n))
        return path

    def start_mpiexec(self, args, output_dir, env=None):
        """Start mpiexec ARGS (in head) in its own session; stdout/stderr go to files in
        output_dir. Returns the Popen, with .stdout_path/.stderr_path and .started."""
        os.makedirs(output_dir, exist_ok=True)
        out_path = os.path.join(output_dir, "stdout.txt")
        err_path = os.path.join(output_dir, "stderr.txt")
        e = dict(os.environ)
        e.pop("LD_PRELOAD", None)
        e.update(env or {})
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            p = subprocess.Popen(self.mpiexec_cmd(args), stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=err, env=e, start_new_session=True)
        p.stdout_path, p.stderr_path = out_path, err_path
        p.started = time.monotonic()
        return p

    def wait_mpiexec(self, p, timeout):
        """Wait for a start_mpiexec() process. Returns a CompletedProcess with .elapsed
        (seconds since start) and .timed_out; on timeout the job is killed (every process
        of the job on every host) and returncode is None."""
        timed_out = False
        try:
            p.wait(max(0.0, timeout - (time.monotonic() - p.started)))
        except subprocess.TimeoutExpired:
            timed_out = True
            self.kill_job(p)
        elapsed = time.monotonic() - p.started
        out, err = st._read_text(p.stdout_path), st._read_text(p.stderr_path)
        r = subprocess.CompletedProcess(p.args, None if timed_out else p.returncode, out, err)
        r.elapsed, r.timed_out = elapsed, timed_out
        return r

    def run_mpiexec(self, args, timeout, output_dir, env=None):
        return self.wait_mpiexec(self.start_mpiexec(args, output_dir, env), timeout)

    def job_pids(self, name):
        """Pids in host name that belong to MPI jobs (Hydra proxies and scrape ranks),
        not servers the test started there."""
        binary = os.path.realpath(st.scrape_bin())
        out = []
        for pid in _ns_pids(self.ns(name)):
            try:
                exe = os.path.realpath("/proc/%d/exe" % pid)
            except OSError:
                continue
            if exe == binary or os.path.basename(exe) == "hydra_pmi_proxy":
                out.append(pid)
        return out

    def kill_job(self, p):
        """SIGKILL mpiexec p, its descendants and every job process on every host."""
        for pid in [p.pid] + st.process_tree(p.pid):
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        for n in self.hosts:
            self.signal_host(n, signal.SIGCONT, jobs_only=True)
            self.signal_host(n, signal.SIGKILL, jobs_only=True)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            pass

    def signal_host(self, name, sig, jobs_only=False):
        """Send sig to every process of host name (or only its MPI job processes).
        Returns the pids signalled."""
        pids = self.job_pids(name) if jobs_only else _ns_pids(self.ns(name))
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        return pids

    def pids(self, name):
        return _ns_pids(self.ns(name))

    def rx_bytes(self, name, dev="eth0"):
        """Bytes received on the host's eth0, read from its own /sys/class/net."""
        return int(_run(["ip", "netns", "exec", self.ns(name), "cat",
                         "/sys/class/net/%s/statistics/rx_bytes" % dev]).stdout)

    def tx_bytes(self, name, dev="eth0"):
        return int(_run(["ip", "netns", "exec", self.ns(name), "cat",
                         "/sys/class/net/%s/statistics/tx_bytes" % dev]).stdout)

    # -- slowing a host down -------------------------------------------

    def limit_cpu(self, name, cpus, period_us=100000):
        """Limit host name to `cpus` CPUs' worth of time (0.05 = 5 % of one core), all its
        processes together, with a cgroup v1 CPU quota (cpu.cfs_quota_us = cpus x
        cpu.cfs_period_us). Processes running on the host now are moved into the cgroup, and
        the launcher puts every process it starts there from now on (Hydra's proxy, and with
        it the ranks) before it execs the proxy. Undone by unlimit_cpu() and teardown().
        Raises SkipTest when the cgroup v1 cpu controller is not mounted."""
        if not os.path.exists(os.path.join(CGROUP_CPU, "cpu.cfs_quota_us")):
            raise unittest.SkipTest("no cgroup v1 cpu controller at %s" % CGROUP_CPU)
        quota = int(round(cpus * period_us))
        if quota < 1000:
            raise ValueError("a quota of %d us per %d us is below the kernel's 1 ms minimum"
                             % (quota, period_us))
        path = self._cgroups.get(name) or os.path.join(CGROUP_CPU, self.ns(name))
        os.makedirs(path, exist_ok=True)
        self._cgroups[name] = path
        self._write_teardown()
        # the period first: the kernel checks quota against it
        with open(os.path.join(path, "cpu.cfs_period_us"), "w") as f:
            f.write(str(period_us))
        with open(os.path.join(path, "cpu.cfs_quota_us"), "w") as f:
            f.write(str(quota))
        procs = "/proc/%d/root%s/cgroup.procs" % (os.getpid(), path)
        with open(os.path.join(self.tmp, "cgroup." + name), "w") as f:
            f.write(procs + "\n")
        for pid in self.pids(name):
            self._cgroup_move(path, pid)
        return path

    @staticmethod
    def _cgroup_move(path, pid):
        try:
            with open(os.path.join(path, "cgroup.procs"), "w") as f:
                f.write(str(pid))
        except (ProcessLookupError, FileNotFoundError):
            pass
        except OSError as exc:
            if exc.errno != 3:      # ESRCH: it exited
                raise

    def unlimit_cpu(self, name):
        """Remove host name's CPU quota: its processes go back to the root cgroup."""
        path = self._cgroups.pop(name, None)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(self.tmp, "cgroup." + name))
        if path is None:
            return
        ok = _remove_cgroup(path)
        self._write_teardown()
        if not ok:
            raise st.HarnessError("cannot remove the cgroup %s" % path)

    def cpu_period_us(self, name):
        """The CFS period of host name's quota, in microseconds: the quota is granted once per
        period, so a throttled host runs in steps of it."""
        with open(os.path.join(self._cgroups[name], "cpu.cfs_period_us")) as f:
            return int(f.read())

    def cpu_stat(self, name):
        """cpu.stat of host name's cgroup as a dict of ints (nr_periods, nr_throttled,
        throttled_time in ns, ...): proof that the quota bit."""
        path = self._cgroups[name]
        out = {}
        with open(os.path.join(path, "cpu.stat")) as f:
            for line in f:
                k, v = line.split()
                out[k] = int(v)
        return out

    def _linkdelay_bin(self):
        if self._linkdelay:
            return self._linkdelay
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc is None:
            raise unittest.SkipTest("no C compiler (cc) to build tests/cluster/linkdelay.c")
        out = os.path.join(self.tmp, "linkdelay")
        _run([cc, "-std=gnu11", "-O2", "-Wall", "-o", out, LINKDELAY_SRC], timeout=120)
        self._linkdelay = out
        return out

    def shape_link(self, name, rate=None, delay_ms=0, burst="32kbit", max_s=1800):
        """Slow host name's link in both directions. rate (tc syntax, "2mbit"): tbf on both
        ends of its veth (eth0 in the host, p-<name> on the switch). delay_ms: linkdelay
        takes p-<name> off the bridge, puts a TAP d-<name> in its place and forwards frames
        between them, each held delay_ms, so the round trip grows by 2 x delay_ms. Works
        while a job runs (TCP rides out the switch-over); undone by unshape_link() and
        teardown(). linkdelay also exits by itself after max_s seconds."""
        self.unshape_link(name)
        port, tap, sw = "p-" + name, "d-" + name, self.sw
        proc = None
        self._shaped[name] = None
        if rate:
            for ns, dev in ((self.ns(name), "eth0"), (sw, port)):
                _run(["tc", "-n", ns, "qdisc", "replace", "dev", dev, "root", "tbf", "rate",
                      str(rate), "burst", burst, "latency", "400ms"])
        if delay_ms:
            binary = self._linkdelay_bin()
            _run(["ip", "-n", sw, "tuntap", "add", "dev", tap, "mode", "tap", "vnet_hdr"])
            _run(["ip", "-n", sw, "link", "set", port, "nomaster"])
            log = open(os.path.join(self.tmp, "linkdelay-%s.log" % name), "ab")
            try:
                proc = subprocess.Popen(["ip", "netns", "exec", sw, binary, "-i", port, "-t",
                                         tap, "-d", str(delay_ms), "-T", str(max_s)],
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                        start_new_session=True)
            finally:
                log.close()
            self._shaped[name] = proc
            _run(["ip", "-n", sw, "link", "set", tap, "master", "br0", "up"])
            time.sleep(0.2)
            if proc.poll() is not None:
                text = st._read_text(os.path.join(self.tmp, "linkdelay-%s.log" % name))
                self.unshape_link(name)
                raise st.HarnessError("linkdelay for %s exited at once: %s" % (name, text))

    def unshape_link(self, name):
        """Undo shape_link(name): the host's link is plain again."""
        if name not in self._shaped:
            return
        proc = self._shaped.pop(name)
        port, tap, sw = "p-" + name, "d-" + name, self.sw
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            _run(["ip", "-n", sw, "link", "del", tap], check=False)
            _run(["ip", "-n", sw, "link", "set", port, "master", "br0", "up"])
        _run(["tc", "-n", self.ns(name), "qdisc", "del", "dev", "eth0", "root"], check=False)
        _run(["tc", "-n", sw, "qdisc", "del", "dev", port, "root"], check=False)

    def cut_link(self, name):
        """Pull host name's cable: its veth goes down on the switch side. The host keeps its
        address and routes; what it sends is dropped, nothing reaches it, no RST or FIN is
        sent to anyone. restore_link() plugs it back in."""
        _run(["ip", "-n", self.sw, "link", "set", "p-" + name, "down"])

    def restore_link(self, name, timeout=15):
        """Plug host name's cable back in, and wait until it reaches head again: the
        neighbour entries that failed while the link was down are flushed on both sides
        (else a new connection may get "No route to host" for a while)."""
        _run(["ip", "-n", self.sw, "link", "set", "p-" + name, "up"])
        for n in self.names:
            _run(["ip", "-n", self.ns(n), "neigh", "flush", "all"], check=False)
        deadline = time.monotonic() + timeout
        while not self.reaches(name, "head"):
            if time.monotonic() > deadline:
                raise st.HarnessError("%s does not reach head %.0f s after its link came back"
                                      % (name, timeout))
            time.sleep(0.1)

    def reaches(self, name, other, port=9):
        """True when a TCP connection from host name to other's port is answered (accepted
        or refused): the path works both ways."""
        import errno
        import socket
        with self.enter(name):
            s = socket.socket()
        try:
            s.settimeout(1.0)
            s.connect((self.ip(other), port))
            return True
        except ConnectionRefusedError:
            return True
        except OSError as exc:
            return exc.errno not in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT,
                                     None)
        finally:
            s.close()

    def teardown(self):
        """Kill every process in the namespaces, delete them (and with them the veths and
        the bridge), /etc/netns/<ns> and the temp folder. Idempotent."""
        if self._down:
            return
        self._down = True
        for proc in self._shaped.values():
            if proc is not None and proc.poll() is None:
                proc.kill()
        for ns in reversed(self._made):
            _kill_ns_pids(ns, signal.SIGCONT)
            _kill_ns_pids(ns, signal.SIGKILL)
        if self._made:
            time.sleep(0.2)
        for proc in self._shaped.values():
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(10)
        self._shaped = {}
        for name in list(self._cgroups):
            if not _remove_cgroup(self._cgroups.pop(name)):
                sys.stderr.write("netns: cgroup of %s left behind\n" % name)
        for ns in reversed(self._made):
            for _ in range(10):
                r = subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
                if r.returncode == 0 or not os.path.exists("/run/netns/" + ns):
                    break
                time.sleep(0.2)
            shutil.rmtree("/etc/netns/" + ns, ignore_errors=True)
        try:
            os.rmdir("/etc/netns")
        except OSError:
            pass
        for path in self._remove:
            shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self._watch_fd is not None:
            os.close(self._watch_fd)
            self._watch_fd = None

    def leftovers(self):
        """Namespaces, /etc/netns folders and cgroups of this cluster still present (for
        self-checks)."""
        left = [ns for ns in self.namespaces
                if os.path.exists("/run/netns/" + ns) or os.path.exists("/etc/netns/" + ns)]
        return left + [os.path.join(CGROUP_CPU, ns) for ns in self.namespaces
                       if os.path.isdir(os.path.join(CGROUP_CPU, ns))]


# ---------------------------------------------------------------------------
# "Everything skipped" -> exit 77 for CTest (SKIP_RETURN_CODE)

_patched = []


def all_skipped_exits_77():
    """Make ``python -m unittest`` (and unittest.main()) exit 77 when tests ran and every
    one of them was skipped. Call it at import of the test module: the module is imported
    by unittest.TestProgram before it runs the tests, so patching runTests here takes
    effect for this process only."""
    if _patched:
        return
    _patched.append(True)
    original = unittest.TestProgram.runTests

    def runTests(self):
        want_exit = self.exit
        self.exit = False
        try:
            original(self)
        finally:
            self.exit = want_exit
        res = self.result
        if want_exit:
            # a skip in setUpModule/setUpClass counts as one skip and no test run
            if res.skipped and res.testsRun <= len(res.skipped) and res.wasSuccessful():
                sys.stderr.write("everything was skipped: exit 77\n")
                sys.exit(77)
            sys.exit(not res.wasSuccessful())

    unittest.TestProgram.runTests = runTests
