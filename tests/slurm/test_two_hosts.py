"""wattprint on a real Slurm 22.05 whose two nodes are separate hosts: each
slurmd in a network namespace of its own, slurmctld and the collector
(`wattprint serve`) in a third, joined by a bridge on a network that exists
only inside those namespaces. A `-N 2` job is one job with two nodes, each
measured by the SPANK plugin and reported to the collector over that
network, and the job's output ends with its block. Stopping leaves no
namespace, link or process behind."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slurm_cluster import IP, SlurmCluster, parse_scontrol, slurm_installed  # noqa: E402

WATTPRINT = os.environ.get("WP_TEST_WATTPRINT", "")
PLUGIN = os.environ.get("WP_TEST_SPANK_PLUGIN", "")

_missing = slurm_installed()
pytestmark = pytest.mark.skipif(
    _missing is not None or not PLUGIN or not WATTPRINT,
    reason=f"Slurm ({_missing or 'ok'}), the plugin ({PLUGIN or 'WP_TEST_SPANK_PLUGIN not set'}) or "
           f"wattprint ({WATTPRINT or 'WP_TEST_WATTPRINT not set'}) is missing")

COLLECTOR_PORT = 7070  # in the controller's namespace, fresh: always free
BUSY = "python3 -c 'import time; t = time.time()\nwhile time.time() - t < 1: pass'"

# GET url with a bearer token, run on the controller's host (the collector
# listens there only); prints the status, then the body.
GET = """
import sys, urllib.error, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        print(r.status); print(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); print(e.read().decode())
"""

CONNECT = """
import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.5).close()
"""


def admin(db, *args):
    return json.loads(subprocess.run([WATTPRINT, "admin", "--db", db, *args], check=True, capture_output=True,
                                     text=True).stdout)


def links():
    return subprocess.run([IP, "-o", "link", "show"], capture_output=True, text=True).stdout


def namespaces():
    return subprocess.run([IP, "netns", "list"], capture_output=True, text=True).stdout


class Site:
    """The collector and a cluster of separate hosts, the collector on the
    controller's."""

    def __init__(self, root):
        self.root = root
        self.links_before = links()
        self.db = f"sqlite:{root}/collector.db"
        self.project = admin(self.db, "create-project", "HPC", "jobs")
        self.admin = admin(self.db, "create-token", "--kind", "admin")["token"]
        (root / "node.token").write_text(self.project["token"] + "\n")
        os.chmod(root / "node.token", 0o600)
        # The measurements' site file: no cloud probe, a known grid.
        (root / "site.toml").write_text('country = "FRA"\ncloud_metadata = false\n')
        (root / "spool").mkdir(mode=0o700)
        self.cluster = SlurmCluster(str(root / "slurm"), separate_hosts=True)
        self.url = f"http://{self.cluster.ctld_addr}:{COLLECTOR_PORT}"
        self.cluster.plugstack_lines = [
            f"required {PLUGIN} wattprint={WATTPRINT} collector={self.url} "
            f"token_file={root / 'node.token'} spool={root / 'spool'} interval=1 config={root / 'site.toml'}"]
        self.serve = None
        self.cluster.start()  # skips when network namespaces cannot be made
        try:
            self.serve = subprocess.Popen(
                self.cluster.on_host([WATTPRINT, "serve", "--db", self.db, "--listen",
                                      f"{self.cluster.ctld_addr}:{COLLECTOR_PORT}"]),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(root / "serve.log", "w"))
            deadline = time.monotonic() + 20
            while self.cluster.run(sys.executable, "-c", CONNECT, self.cluster.ctld_addr,
                                   COLLECTOR_PORT).returncode != 0:
                assert self.serve.poll() is None, (root / "serve.log").read_text()
                assert time.monotonic() < deadline, "the collector did not start"
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise

    def api_get(self, path):
        p = self.cluster.run(sys.executable, "-c", GET, self.url + path, self.admin, timeout=20)
        assert p.returncode == 0, p.stderr
        status, body = p.stdout.split("\n", 1)
        return int(status), json.loads(body)

    def job(self, job_id, nodes, timeout=20):
        """The collector's view of a job once `nodes` nodes have reported."""
        deadline = time.monotonic() + timeout
        while True:
            status, out = self.api_get(f"/api/v1/jobs/wptest/{job_id}")
            if status == 200 and len(out["nodes"]) >= nodes:
                return out
            assert time.monotonic() < deadline, (status, out)
            time.sleep(0.3)

    def stop(self):
        try:
            if self.serve is not None and self.serve.poll() is None:
                self.serve.terminate()
                try:
                    self.serve.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.serve.kill()
                    self.serve.wait(timeout=5)
        finally:
            self.cluster.stop()


@pytest.fixture(scope="module")
def site():
    root = Path(tempfile.mkdtemp(prefix="wp2hosts", dir="/tmp"))
    os.chmod(root, 0o755)
    s = Site(root)
    yield s
    s.stop()


def test_the_two_nodes_are_separate_network_hosts(site):
    c = site.cluster
    p = c.srun("-N2", "-l", "sh", "-c",
               f'echo "node=$SLURMD_NODENAME netns=$(readlink /proc/self/ns/net)"; {IP} -4 -o addr show')
    assert p.returncode == 0, p.stderr
    seen = {}
    for label in ("0", "1"):
        lines = [l.split(": ", 1)[1] for l in p.stdout.splitlines() if l.startswith(f"{label}: ")]
        first = next(l for l in lines if l.startswith("node="))
        node, netns = (f.split("=", 1)[1] for f in first.split())
        addrs = sorted(l.split(" inet ", 1)[1].split("/")[0] for l in lines if " inet " in l)
        seen[node] = (netns, addrs)
    here = os.readlink("/proc/self/ns/net")
    assert set(seen) == {"n1", "n2"}, p.stdout
    assert seen["n1"][0] != seen["n2"][0] and here not in (seen["n1"][0], seen["n2"][0]), p.stdout
    for node in ("n1", "n2"):
        # Its own address on the namespaces' network, and no other but lo.
        assert seen[node][1] == sorted(["127.0.0.1", c.addrs[node]]), p.stdout
    assert c.addrs["n1"] != c.addrs["n2"]
    for node in ("n1", "n2"):
        info = parse_scontrol(c.run("scontrol", "show", "node", "-o", node).stdout)
        assert info["NodeAddr"] == c.addrs[node], info


def test_a_two_node_job_is_one_job_measured_on_each_host(site):
    c = site.cluster
    t0 = time.monotonic()
    job = c.sbatch(f"#!/bin/sh\nsrun -N2 {BUSY}\necho done\n", "-N2", "-A", "physics")
    info = c.wait_job(job, 60)
    assert info.get("JobState") == "COMPLETED", (info, c.slurmd_log("n1")[-3000:], c.slurmd_log("n2")[-3000:])
    assert info.get("NumNodes") == "2" and info.get("NodeList") == "n[1-2]", info
    out = site.job(job, nodes=2)
    assert sorted(n["node"] for n in out["nodes"]) == ["n1", "n2"], out
    assert out["account"] == "physics", out
    for n in out["nodes"]:
        assert n["energy_kwh"] > 0, out
    text = c.output_of(job)
    assert text.startswith("done\n"), text
    block = text[len("done\n"):]
    assert block.lstrip("\n").startswith(f"-- wattprint: job {job} (2 nodes) --"), text
    assert "energy " in block and "CO2e " in block, text
    assert time.monotonic() - t0 < 30


def test_stop_leaves_no_namespace_link_or_process(site):
    c = site.cluster
    pids = list(c.pids().values()) + [site.serve.pid]
    names = list(c.netns.values())
    assert all(os.path.exists(f"/run/netns/{n}") for n in names)
    assert all(n in namespaces() for n in names)
    site.stop()
    assert c.timings["stop"] < 15
    listed = namespaces()
    assert not any(n in listed for n in names), listed
    assert not any(os.path.exists(f"/run/netns/{n}") for n in names)
    assert links() == site.links_before
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z", pid
    assert c.leftover_pids() == []
    site.stop()  # a second stop is harmless
