"""A real Slurm 22.05 on 127.0.0.1 for tests: a private munged, one slurmctld
and two slurmd (n1, n2) on this host with ports of their own, every file
(config, state, spool, logs, job output) under one directory; only munged's
socket may live in a directory of its own in /tmp (see _write_munge).

    with SlurmCluster(tmp_path) as c:
        job = c.sbatch(None, "-A", "physics", "--wrap", "echo hi")
        c.wait_job(job)
        assert c.output_of(job) == "hi\n"

Nothing here touches /etc/slurm or the system munged: client commands get
SLURM_CONF through the environment handed to them (`cluster.env`). stop()
ends only the processes this cluster started (the daemons by PID, then any
job step or task left, found by a marker in its environment) and leaves the
directory as it is, logs included, for a failing test to show.

With separate_hosts=True each node is a host of its own: a network namespace
per node and one for slurmctld (names wp<pid>x<n>-<role>), joined by veth
pairs to a bridge in the controller's namespace, on a /24 that exists only
inside those namespaces (SUBNET: the controller .1, the nodes .11, .12, ...).
Each namespace has no route elsewhere, so nothing that the daemons or jobs
send can leave the machine. slurmctld and every slurmd run there under
`nsenter --net=` (`ip netns exec` would hide /sys/fs/cgroup), munged stays
here (its socket is a path, shared through the filesystem), and run() and
the commands built on it (sbatch, srun, scontrol, ...) run in the
controller's namespace; on_host() prefixes any other command for a host.
stop() also ends whatever is still inside the namespaces, then deletes
them, and with them their links.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SLURMCTLD = shutil.which("slurmctld") or "/usr/sbin/slurmctld"
SLURMD = shutil.which("slurmd") or "/usr/sbin/slurmd"
MUNGED = shutil.which("munged") or "/usr/sbin/munged"
MUNGEKEY = shutil.which("mungekey") or "/usr/sbin/mungekey"
IP = shutil.which("ip") or "/usr/sbin/ip"
NSENTER = shutil.which("nsenter") or "/usr/bin/nsenter"

# The network of a cluster with separate hosts; it exists only inside its
# namespaces, so every cluster may use the same one.
SUBNET = "10.77.1"

# Job states after which a job never runs again.
FINISHED_STATES = {
    "BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL",
    "OUT_OF_MEMORY", "PREEMPTED", "TIMEOUT", "REVOKED", "SPECIAL_EXIT",
}

_MARKER = "WP_SLURM_CLUSTER"
_netns_seq = 0


def slurm_installed():
    """None when the daemons and clients are there, else what is missing."""
    missing = [p for p in (SLURMCTLD, SLURMD, MUNGED, MUNGEKEY) if not os.access(p, os.X_OK)]
    missing += [c for c in ("sbatch", "srun", "scontrol", "squeue", "sinfo", "scancel")
                if shutil.which(c) is None]
    return ", ".join(missing) or None


class SlurmError(RuntimeError):
    """A Slurm command or daemon that failed; .proc is the CompletedProcess
    when a command failed."""

    def __init__(self, msg, proc=None):
        if proc is not None:
            msg += f"\nexit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
        super().__init__(msg)
        self.proc = proc


def _free_ports(n):
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _searchable_by_all(path):
    p = Path(path).resolve()
    for d in [p, *p.parents]:
        if not os.stat(d).st_mode & 0o001:
            return False
    return True


def _tail(path, lines=40):
    try:
        return "".join(Path(path).read_text(errors="replace").splitlines(True)[-lines:])
    except OSError:
        return ""


def parse_scontrol(line):
    """`scontrol show ... -o` output (Key=Value separated by spaces, values
    may hold spaces) as a dict."""
    out, key = {}, None
    for tok in line.strip().split(" "):
        m = re.match(r"^([A-Za-z][A-Za-z0-9_:/.]*)=(.*)$", tok)
        if m:
            key = m.group(1)
            out[key] = m.group(2)
        elif key is not None:
            out[key] += " " + tok
    return out


class SlurmCluster:
    def __init__(self, tmpdir, nodes=("n1", "n2"), plugstack_lines=(), job_submit_lua=None,
                 extra_conf="", cpus_per_node=None, start_timeout=20.0, stop_timeout=10.0,
                 separate_hosts=False):
        self.root = Path(tmpdir).resolve()
        self.nodes = tuple(nodes)
        self.plugstack_lines = list(plugstack_lines)
        self.job_submit_lua = job_submit_lua
        self.extra_conf = extra_conf
        self.cpus = cpus_per_node or os.cpu_count() or 1
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.hostname = socket.gethostname().split(".")[0]
        self.separate_hosts = separate_hosts
        # host ("ctld" or a node) -> its address, and its namespace when
        # the hosts are separate.
        self.netns = {}
        if separate_hosts:
            global _netns_seq
            _netns_seq += 1
            prefix = f"wp{os.getpid()}x{_netns_seq}"
            self.netns = {h: f"{prefix}-{h}" for h in ("ctld", *self.nodes)}
            self.addrs = {"ctld": f"{SUBNET}.1"}
            self.addrs.update({n: f"{SUBNET}.{11 + i}" for i, n in enumerate(self.nodes)})
        else:
            self.addrs = {h: "127.0.0.1" for h in ("ctld", *self.nodes)}
        self.ctld_addr = self.addrs["ctld"]
        self._netns_made = []

        self.etc = self.root / "etc"
        self.conf_path = self.etc / "slurm.conf"
        self.plugstack_path = self.etc / "plugstack.conf"
        self.log_dir = self.root / "log"
        self.run_dir = self.root / "run"
        self.state_dir = self.root / "state"
        self.spool_dir = self.root / "spool"
        self.work_dir = self.root / "work"
        self.munge_dir = self.root / "munge"
        self.munge_socket = self.munge_dir / "run" / "munge.socket.2"

        self.ctld_port = None
        self.node_ports = {}
        self._munge_run_dir = None  # a socket directory outside root, if needed
        self._procs = {}  # name -> Popen, in start order
        self._script_seq = 0
        self.started = False
        self.timings = {}

        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_", "SQUEUE_", "SINFO_"))}
        base["SLURM_CONF"] = str(self.conf_path)
        base[_MARKER] = str(self.root)
        self.env = base

    # ---- set up -------------------------------------------------------

    def _write_munge(self):
        for sub, mode in (("etc", 0o700), ("lib", 0o700), ("log", 0o700)):
            d = self.munge_dir / sub
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, mode)
        # munged wants every directory above its socket searchable by all,
        # and a Unix socket path has at most 107 bytes. A test's temporary
        # directory is often neither (pytest's are 0700): then the socket
        # goes to a directory of its own in /tmp, linked as munge/run.
        run = self.munge_dir / "run"
        if run.is_symlink() and not run.exists():
            run.unlink()  # left by an earlier stop()
        if not run.exists():
            if _searchable_by_all(self.munge_dir) and len(str(self.munge_socket)) <= 100:
                run.mkdir()
            else:
                self._munge_run_dir = Path(tempfile.mkdtemp(prefix="wpmunge-", dir="/tmp"))
                run.symlink_to(self._munge_run_dir)
        os.chmod(run, 0o755)
        self.munge_socket = run.resolve() / "munge.socket.2"
        key = self.munge_dir / "etc" / "munge.key"
        if not key.exists():
            subprocess.run([MUNGEKEY, "-c", "-k", str(key)], check=True,
                           capture_output=True, text=True)

    def _conf_text(self):
        lines = [
            "ClusterName=wptest",
            f"SlurmctldHost={self.hostname}({self.ctld_addr})",
            f"SlurmctldPort={self.ctld_port}",
            f"SlurmdPort={next(iter(self.node_ports.values()))}",
            # These flags bind slurmctld and slurmd to the host name's
            # address, 127.0.0.1, out of the other hosts' reach when they are
            # separate. There every daemon, srun and slurmstepd listens on
            # all of its namespace's addresses instead: its lo and its veth.
            *([] if self.separate_hosts else ["CommunicationParameters=NoInAddrAny,NoCtldInAddrAny"]),
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            "SlurmUser=root",
            "SlurmdUser=root",
            f"StateSaveLocation={self.state_dir}",
            f"SlurmdSpoolDir={self.spool_dir}/%n",
            f"SlurmctldPidFile={self.run_dir}/slurmctld.pid",
            f"SlurmdPidFile={self.run_dir}/slurmd-%n.pid",
            f"SlurmctldLogFile={self.log_dir}/slurmctld.log",
            f"SlurmdLogFile={self.log_dir}/slurmd-%n.log",
            "SlurmctldDebug=debug",
            "SlurmdDebug=debug",
            f"PlugStackConfig={self.plugstack_path}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AcctGatherEnergyType=acct_gather_energy/none",
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/none",
            "MailProg=/bin/true",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "SchedulerType=sched/backfill",
            "SchedulerParameters=batch_sched_delay=0",
            "SlurmdParameters=config_overrides",
            "MpiDefault=none",
            "ReturnToService=2",
            "SlurmdTimeout=30",
            "InactiveLimit=0",
            "MinJobAge=300",
            "KillWait=5",
            "Waittime=0",
        ]
        if self.job_submit_lua is not None:
            lines.append("JobSubmitPlugins=lua")
        for n in self.nodes:
            lines.append(f"NodeName={n} NodeHostname={self.hostname} NodeAddr={self.addrs[n]} "
                         f"Port={self.node_ports[n]} CPUs={self.cpus} State=UNKNOWN")
        lines.append(f"PartitionName=debug Nodes={','.join(self.nodes)} Default=YES "
                     "MaxTime=INFINITE State=UP")
        if self.extra_conf:
            lines.append(self.extra_conf.rstrip("\n"))
        return "\n".join(lines) + "\n"

    def _write_conf(self):
        for d in (self.etc, self.log_dir, self.run_dir, self.state_dir, self.work_dir):
            d.mkdir(parents=True, exist_ok=True)
        for n in self.nodes:
            (self.spool_dir / n).mkdir(parents=True, exist_ok=True)
        if self.separate_hosts:
            # Fresh namespaces: Slurm's own ports are free on every host.
            self.ctld_port = 6817
            self.node_ports = {n: 6818 for n in self.nodes}
        else:
            ports = _free_ports(1 + len(self.nodes))
            self.ctld_port = ports[0]
            self.node_ports = dict(zip(self.nodes, ports[1:]))
        self.conf_path.write_text(self._conf_text())
        self.plugstack_path.write_text("".join(l.rstrip("\n") + "\n" for l in self.plugstack_lines))
        if self.job_submit_lua is not None:
            shutil.copyfile(self.job_submit_lua, self.etc / "job_submit.lua")

    # ---- separate hosts -----------------------------------------------

    def on_host(self, argv, host="ctld"):
        """argv run on a host of this cluster ("ctld" or a node): in its
        namespace when the hosts are separate, as it is otherwise."""
        argv = [str(a) for a in argv]
        if not self.separate_hosts:
            return argv
        return [NSENTER, f"--net=/run/netns/{self.netns[host]}", "--", *argv]

    def _ip(self, *args):
        p = subprocess.run([IP, *args], capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise SlurmError(f"ip {' '.join(args)} failed", p)
        return p

    def _make_hosts(self):
        """The namespaces and their network: a bridge in the controller's
        namespace holding its address, and a veth pair from each node's
        namespace (eth0 there) to a port of that bridge."""
        import pytest

        if not os.access(IP, os.X_OK) or not os.access(NSENTER, os.X_OK):
            pytest.skip(f"separate hosts need {IP} and {NSENTER}")
        for name in self.netns.values():
            p = subprocess.run([IP, "netns", "add", name], capture_output=True, text=True, timeout=30)
            if p.returncode != 0:
                self._remove_hosts()
                if os.geteuid() != 0 or "not permitted" in p.stderr or "Permission denied" in p.stderr:
                    pytest.skip("separate hosts need network namespaces: `ip netns add` is not "
                                f"permitted here ({p.stderr.strip()})")
                raise SlurmError("ip netns add failed", p)
            self._netns_made.append(name)
        ctld = self.netns["ctld"]
        for name in self.netns.values():
            self._ip("-n", name, "link", "set", "lo", "up")
        self._ip("-n", ctld, "link", "add", "br0", "type", "bridge")
        self._ip("-n", ctld, "addr", "add", f"{self.addrs['ctld']}/24", "dev", "br0")
        self._ip("-n", ctld, "link", "set", "br0", "up")
        for i, n in enumerate(self.nodes):
            ns, port = self.netns[n], f"veth{i}"
            # Made in the node's namespace with its peer straight in the
            # controller's: neither end ever shows in this host's `ip link`.
            self._ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", ctld)
            self._ip("-n", ctld, "link", "set", port, "master", "br0")
            self._ip("-n", ctld, "link", "set", port, "up")
            self._ip("-n", ns, "addr", "add", f"{self.addrs[n]}/24", "dev", "eth0")
            self._ip("-n", ns, "link", "set", "eth0", "up")

    def _netns_pids(self):
        """Processes inside this cluster's namespaces."""
        inodes = set()
        for name in self._netns_made:
            try:
                st = os.stat(f"/run/netns/{name}")
                inodes.add((st.st_dev, st.st_ino))
            except OSError:
                pass
        pids = []
        if not inodes:
            return pids
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                st = os.stat(f"/proc/{d}/ns/net")
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in inodes and _alive(int(d)):
                pids.append(int(d))
        return pids

    def _remove_hosts(self):
        left = self._netns_pids()
        if left:
            self._terminate(left, 3)
        for name in list(self._netns_made):
            # Deleting a namespace removes its links (and their peers).
            subprocess.run([IP, "netns", "del", name], capture_output=True, text=True, timeout=30)
            self._netns_made.remove(name)

    def _spawn(self, name, argv, host=None):
        if host is not None:
            argv = self.on_host(argv, host)
        out = open(self.log_dir / f"{name}.stdout", "ab")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 env=self.env, cwd=str(self.root), start_new_session=True)
        finally:
            out.close()
        self._procs[name] = p
        return p

    def _wait(self, what, cond, timeout, watch=()):
        deadline = time.monotonic() + timeout
        while True:
            if cond():
                return
            for name in watch:
                p = self._procs.get(name)
                if p is not None and p.poll() is not None:
                    raise SlurmError(f"{name} exited with {p.returncode} while waiting for {what}\n"
                                     + self._diagnostics())
            if time.monotonic() > deadline:
                raise SlurmError(f"timed out after {timeout:.0f} s waiting for {what}\n"
                                 + self._diagnostics())
            time.sleep(0.05)

    def _diagnostics(self):
        parts = []
        for f in sorted(self.log_dir.glob("*")) + sorted((self.munge_dir / "log").glob("*")):
            t = _tail(f, 25)
            if t:
                parts.append(f"--- {f} ---\n{t}")
        return "\n".join(parts)

    def start(self):
        if self.started:
            return self
        t0 = time.monotonic()
        try:
            if self.separate_hosts:
                self._make_hosts()
            self._write_munge()
            self._write_conf()
        except BaseException:
            self._remove_hosts()
            raise
        self.started = True
        try:
            m = self.munge_dir
            self._spawn("munged", [
                MUNGED, "-F", f"--socket={self.munge_socket}",
                f"--key-file={m}/etc/munge.key", f"--pid-file={m}/run/munged.pid",
                f"--log-file={m}/log/munged.log", f"--seed-file={m}/lib/munged.seed",
                "--num-threads=2"])
            self._wait("munged's socket", self.munge_socket.exists, self.start_timeout, ["munged"])
            self._spawn("slurmctld", [SLURMCTLD, "-D", "-f", str(self.conf_path)], host="ctld")
            self._wait("slurmctld to answer", self._ctld_up, self.start_timeout, ["slurmctld"])
            for n in self.nodes:
                self._spawn(f"slurmd-{n}", [SLURMD, "-D", "-N", n, "-f", str(self.conf_path)], host=n)
            self._wait("the nodes to be idle", self._nodes_idle, self.start_timeout,
                       ["munged", "slurmctld"] + [f"slurmd-{n}" for n in self.nodes])
        except BaseException:
            self.stop()
            raise
        self.timings["start"] = time.monotonic() - t0
        return self

    def _ctld_up(self):
        p = self.run("scontrol", "ping", timeout=10)
        return p.returncode == 0 and "UP" in p.stdout

    def node_states(self):
        """{node: state} as sinfo reports it (idle, alloc, drain, down*, ...)."""
        p = self.run("sinfo", "-h", "-N", "-o", "%N %T", timeout=10)
        states = {}
        for line in p.stdout.splitlines():
            f = line.split()
            if len(f) == 2:
                states[f[0]] = f[1]
        return states

    def _nodes_idle(self):
        s = self.node_states()
        return all(s.get(n) == "idle" for n in self.nodes)

    # ---- tear down ----------------------------------------------------

    def leftover_pids(self):
        """Processes whose environment carries this cluster's marker: the
        daemons, the slurmstepd they fork, and the jobs' tasks."""
        want = f"{_MARKER}={self.root}".encode()
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                with open(f"/proc/{d}/environ", "rb") as f:
                    if want in f.read().split(b"\0"):
                        pids.append(int(d))
            except OSError:
                pass
        return pids

    def _terminate(self, pids, timeout):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            self._reap()
            time.sleep(0.05)
        for pid in pids:
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            self._reap()
            time.sleep(0.05)
        self._reap()

    def _reap(self):
        for p in self._procs.values():
            p.poll()

    def stop(self):
        """Cancel the jobs, stop the daemons (SIGTERM, then SIGKILL after
        stop_timeout), end any step or task they left, munged last. Files
        stay. Separate hosts: then end what is left in their namespaces and
        delete these, even when stopping failed."""
        try:
            self._stop()
        finally:
            if self.separate_hosts:
                self._remove_hosts()

    def _stop(self):
        if not self.started:
            return
        t0 = time.monotonic()
        seen = set(self.leftover_pids())
        slurm = [p for n, p in self._procs.items() if n != "munged" and p.poll() is None]
        if slurm and self._procs.get("slurmctld") and self._procs["slurmctld"].poll() is None:
            self.run("scancel", "--user", "root", timeout=10)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                q = self.run("squeue", "-h", "-o", "%i", timeout=10)
                if q.returncode != 0 or not q.stdout.strip():
                    break
                time.sleep(0.1)
        self._terminate([p.pid for p in slurm], self.stop_timeout)
        left = [p for p in self.leftover_pids()
                if not (self._procs.get("munged") and p == self._procs["munged"].pid)]
        seen.update(left)
        if left:
            self._terminate(left, 3)
        m = self._procs.get("munged")
        if m is not None and m.poll() is None:
            self._terminate([m.pid], self.stop_timeout)
        self._reap()
        # A slurmstepd ends as a zombie of init; give init a moment to reap
        # it, so that nothing of this cluster shows in ps after stop().
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in seen):
            time.sleep(0.05)
        if self._munge_run_dir is not None:
            # Only the socket and pid file live there; the link in root stays.
            shutil.rmtree(self._munge_run_dir, ignore_errors=True)
        self.started = False
        self.timings["stop"] = time.monotonic() - t0

    def pids(self):
        """{name: pid} of the daemons started."""
        return {n: p.pid for n, p in self._procs.items()}

    def ports(self):
        return [self.ctld_port] + [self.node_ports[n] for n in self.nodes]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- commands -----------------------------------------------------

    def _env(self, env):
        e = dict(self.env)
        if env:
            e.update(env)
        return e

    def run(self, *argv, env=None, input=None, timeout=60, cwd=None):
        """Any command with this cluster's environment, on the controller's
        host; never raises on a non-zero exit."""
        return subprocess.run(self.on_host(argv), env=self._env(env), input=input,
                              capture_output=True, text=True, timeout=timeout,
                              cwd=str(cwd or self.work_dir))

    def sbatch_proc(self, script_text, *args, env=None, timeout=60):
        """sbatch as a CompletedProcess, for submissions expected to fail.
        The job writes its output to work_dir/slurm-<id>.out; script_text
        None means the arguments carry --wrap."""
        argv = ["sbatch", f"--chdir={self.work_dir}", f"--output={self.work_dir}/slurm-%j.out",
                *args]
        if script_text is not None:
            self._script_seq += 1
            script = self.work_dir / f"job-{self._script_seq}.sh"
            if not script_text.startswith("#!"):
                script_text = "#!/bin/sh\n" + script_text
            script.write_text(script_text)
            os.chmod(script, 0o755)
            argv.append(str(script))
        return self.run(*argv, env=env, timeout=timeout)

    def sbatch(self, script_text, *args, env=None, timeout=60):
        """Submit a batch job; returns its id, raises SlurmError on refusal."""
        p = self.sbatch_proc(script_text, *args, env=env, timeout=timeout)
        m = re.search(r"Submitted batch job (\d+)", p.stdout)
        if p.returncode != 0 or not m:
            raise SlurmError("sbatch failed", p)
        return int(m.group(1))

    def srun(self, *args, env=None, timeout=60):
        return self.run("srun", *args, env=env, timeout=timeout)

    def scontrol_show_job(self, job_id):
        """The job's `scontrol show job -o` fields, or {} when the
        controller no longer knows it."""
        p = self.run("scontrol", "show", "job", "-o", str(job_id), timeout=10)
        if p.returncode != 0:
            return {}
        line = next((l for l in p.stdout.splitlines() if l.startswith("JobId=")), "")
        return parse_scontrol(line) if line else {}

    def wait_job(self, job_id, timeout=30):
        """Wait until the job has finished (or is gone); returns its last
        scontrol fields ({} when gone)."""
        deadline = time.monotonic() + timeout
        info = {}
        while True:
            info = self.scontrol_show_job(job_id)
            state = info.get("JobState", "")
            if not info or state in FINISHED_STATES:
                return info
            if time.monotonic() > deadline:
                raise SlurmError(f"job {job_id} still {state} after {timeout} s: {info}\n"
                                 + self._diagnostics())
            time.sleep(0.05)

    def output_path(self, job_id):
        return self.work_dir / f"slurm-{job_id}.out"

    def output_of(self, job_id):
        return self.output_path(job_id).read_text(errors="replace")

    def slurmd_log(self, node):
        return _tail(self.log_dir / f"slurmd-{node}.log", 10**9)

    def slurmctld_log(self):
        return _tail(self.log_dir / "slurmctld.log", 10**9)

    def resume(self, node, timeout=15):
        """Return a drained or down node to service and wait until it is idle."""
        if self.node_states().get(node) == "idle":
            return
        p = self.run("scontrol", "update", f"nodename={node}", "state=resume", timeout=10)
        # slurmctld answers "Invalid node state specified" for a node that
        # is neither drained nor down: idle by now, or busy with a job.
        if p.returncode != 0 and "Invalid node state" not in p.stderr:
            raise SlurmError(f"resume {node}", p)
        self._wait(f"{node} to be idle", lambda: self.node_states().get(node) == "idle", timeout)
